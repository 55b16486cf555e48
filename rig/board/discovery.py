"""Finding boards: USB serial ports with known VID/PIDs, confirmed by the identify handshake.

Never "the first port": machines list phantom UARTs (``/dev/ttyS0``) and clones share the
CH340/CP210x ids with other gadgets, so a port counts as a board only once it answers HELLO.

Probing disturbs what it touches: opening a CH340/CP210x/FTDI/16U2 port raises DTR, which
reboots whatever sits behind it (an Arduino waits ~1 s in its bootloader), and a second reader
on a port that another program streams from steals that program's bytes. So discovery
* opens only ports whose USB id is a known board bridge (``KNOWN_USB_IDS``): never a modem,
  a GPS, a phantom UART or any other device;
* leaves alone a port that another process has open (seen in ``/proc/*/fd`` on Linux, for the
  processes we may look at), because a board being streamed by another program must not be
  disturbed;
* records for every port what it did and why (``PortInfo.action``), so the user is told.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from serial.tools import list_ports

from rig.board.link import ENV_PORT, HANDSHAKE_S, BoardLink
from rig.errors import PortError, RigError

# USB-serial bridges found on Arduino Uno/Nano and their clones (vendor documentation and the
# Arduino boards.txt / Linux usb-serial id tables).
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
    action: str = "not opened"   # what discovery did with the port, and why


def list_candidate_ports() -> list[PortInfo]:
    """Every serial port the system lists, with whether it may be a board (nothing opened)."""
    out = []
    for p in sorted(list_ports.comports(), key=lambda p: p.device):
        usb = f"{p.vid:04x}:{p.pid:04x}" if p.vid is not None else "-"
        known = (p.vid, p.pid) in KNOWN_USB_IDS
        desc = KNOWN_USB_IDS.get((p.vid, p.pid)) or (p.description if p.description not in (None, "n/a") else "")
        action = "not opened" if known else "not opened: not a known board USB id"
        out.append(PortInfo(p.device, desc, usb, known, action=action))
    return out


def port_users(device: str, proc: str = "/proc") -> list[int]:
    """Ids of other processes that have ``device`` open (Linux; [] where it cannot be seen)."""
    try:
        target = os.path.realpath(device)
        pids = [d for d in os.listdir(proc) if d.isdigit()]
    except OSError:
        return []
    me = os.getpid()
    users = []
    for pid in pids:
        if int(pid) == me:
            continue
        fd_dir = os.path.join(proc, pid, "fd")
        try:
            fds = os.listdir(fd_dir)
        except OSError:  # gone, or another user's process
            continue
        for fd in fds:
            try:
                if os.path.realpath(os.path.join(fd_dir, fd)) == target:
                    users.append(int(pid))
                    break
            except OSError:
                continue
    return users


def _process_name(pid: int, proc: str = "/proc") -> str:
    try:
        with open(os.path.join(proc, str(pid), "comm")) as f:
            return f.read().strip()
    except OSError:
        return "?"


def probe(info: PortInfo, handshake_s: float = 3.0) -> PortInfo:
    """Try the identify handshake on a known board port that nobody else uses.

    Fills board id, firmware and rate, or ``problem``; ``action`` says what was done. Ports
    with other USB ids and ports another process has open are never opened.
    """
    if not info.candidate:
        info.action = "not opened: not a known board USB id"
        return info
    users = port_users(info.device)
    if users:
        who = ", ".join(f"{_process_name(p)} (pid {p})" for p in users)
        info.action = f"not opened: in use by {who}"
        info.problem = f"in use by {who}"
        return info

    link = BoardLink(info.device)
    try:
        h = link.open(handshake_s)
        info.board_id, info.firmware, info.rate_hz = h.board_id_hex, h.firmware_str, h.rate_hz
        info.action = "opened (the board rebooted), identified"
    except RigError as e:
        info.problem = str(e)
        info.action = "opened, no board answered"
    finally:
        link.close()
    return info


def discover(handshake_s: float = 3.0) -> list[PortInfo]:
    """Every listed port with what was done to it; only known board ports free of other users are probed."""
    return [probe(p, handshake_s) if p.candidate else p for p in list_candidate_ports()]


def find_boards(handshake_s: float = 3.0) -> list[PortInfo]:
    return [i for i in discover(handshake_s) if i.board_id]


def describe(infos: list[PortInfo]) -> str:
    """One line saying what discovery did with each port."""
    if not infos:
        return "no serial ports listed"
    return "; ".join(f"{i.device} ({i.usb_id}{', ' + i.description if i.description else ''}): {i.action}"
                     for i in infos)


def find_single_board() -> str:
    infos = discover()
    boards = [i for i in infos if i.board_id]
    if not boards:
        raise PortError(
            "no balance board found on USB; plug it in, or pass --port PORT "
            "(e.g. --port /dev/ttyACM0, or --port sim:// for the simulated board) "
            f"[{describe(infos)}]"
        )
    if len(boards) > 1:
        names = ", ".join(f"{b.device} ({b.board_id})" for b in boards)
        raise PortError(f"{len(boards)} boards found ({names}); choose one with --port")
    return boards[0].device


def open_board(port: str | None = None, handshake_s: float = HANDSHAKE_S) -> BoardLink:
    """Open and identify the board on ``port``; None means ``RIG_PORT`` or the one board found."""
    if not port:
        port = os.environ.get(ENV_PORT) or None
    if not port:
        port = find_single_board()
    link = BoardLink(port)
    link.open(handshake_s)
    return link
