"""Finding boards: USB serial ports with known VID/PIDs, confirmed by the identify handshake.

Never "the first port": machines list phantom UARTs (``/dev/ttyS0``) and clones share the
CH340/CP210x ids with other gadgets, so a port counts as a board only once it answers HELLO.
"""
from __future__ import annotations

from dataclasses import dataclass

from serial.tools import list_ports

from rig.errors import PortError, RigError

# USB-serial bridges found on Arduino Uno/Nano and their clones.
KNOWN_USB_IDS = {
    (0x2341, 0x0043): "Arduino Uno (16U2)",
    (0x2341, 0x0001): "Arduino Uno (8U2)",
    (0x2341, 0x0243): "Arduino Uno R3",
    (0x2A03, 0x0043): "Arduino Uno (.org)",
    (0x1A86, 0x7523): "CH340 (Nano clone)",
    (0x1A86, 0x55D4): "CH9102",
    (0x10C4, 0xEA60): "CP210x",
    (0x0403, 0x6001): "FTDI FT232R (Nano)",
    (0x0403, 0x6015): "FTDI FT231X",
}


@dataclass
class PortInfo:
    device: str
    description: str
    usb_id: str
    candidate: bool          # a USB-serial bridge a board may sit behind
    board_id: str | None = None
    firmware: str | None = None
    rate_hz: float | None = None
    problem: str | None = None


def list_candidate_ports() -> list[PortInfo]:
    out = []
    for p in sorted(list_ports.comports(), key=lambda p: p.device):
        usb = f"{p.vid:04x}:{p.pid:04x}" if p.vid is not None else "-"
        known = (p.vid, p.pid) in KNOWN_USB_IDS
        desc = KNOWN_USB_IDS.get((p.vid, p.pid)) or (p.description if p.description not in (None, "n/a") else "")
        out.append(PortInfo(p.device, desc, usb, known))
    return out


def probe(info: PortInfo, handshake_s: float = 3.0) -> PortInfo:
    """Try the identify handshake on a port; fills board id, firmware, rate or the problem."""
    from rig.board.link import BoardLink

    link = BoardLink(info.device)
    try:
        h = link.open(handshake_s)
        info.board_id, info.firmware, info.rate_hz = h.board_id_hex, h.firmware_str, h.rate_hz
    except RigError as e:
        info.problem = str(e)
    finally:
        link.close()
    return info


def find_boards(handshake_s: float = 3.0) -> list[PortInfo]:
    return [i for i in (probe(p, handshake_s) for p in list_candidate_ports() if p.candidate) if i.board_id]


def find_single_board() -> str:
    boards = find_boards()
    if not boards:
        raise PortError(
            "no balance board found on USB; plug it in, or pass --port PORT "
            "(e.g. --port /dev/ttyACM0, or --port sim:// for the simulated board)"
        )
    if len(boards) > 1:
        names = ", ".join(f"{b.device} ({b.board_id})" for b in boards)
        raise PortError(f"{len(boards)} boards found ({names}); choose one with --port")
    return boards[0].device
