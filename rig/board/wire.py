"""The wire format between board and host: constants, CRC and packet encoding.

This module is the Python twin of ``firmware/WIRE_FORMAT.md`` (the document is the
authority; its golden vectors are checked against this code by the tests).

Every packet, in both directions::

    A5 5A | ver u8 | type u8 | len u8 | payload[len] | crc16 u16 LE

The CRC is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final
XOR) over ``ver, type, len, payload``. Multi-byte fields are little-endian.
"""
from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass

from rig.units import INT24_MAX, INT24_MIN

SYNC = b"\xA5\x5A"
WIRE_VERSION = 2
# Envelopes the decoder accepts: version 1 boards are decoded far enough to be refused with a
# clear message (their HELLO names version 1; their SAMPLEs carry no cell ages).
KNOWN_VERSIONS = (1, 2)
V1_SAMPLE_PAYLOAD_LEN = 20
HEADER_LEN = 5  # sync(2) + ver + type + len
CRC_LEN = 2
MAX_PAYLOAD = 96

# Board -> host packet types.
T_SAMPLE = 0x01
T_HELLO = 0x02
T_ACK = 0x03
T_CALIB = 0x04
T_STATS = 0x05

# Host -> board commands.
C_IDENTIFY = 0x81
C_START = 0x82
C_STOP = 0x83
C_CALIB_READ = 0x84
C_CALIB_WRITE = 0x85
C_STATS = 0x86

COMMAND_NAMES = {
    C_IDENTIFY: "identify",
    C_START: "start",
    C_STOP: "stop",
    C_CALIB_READ: "calib-read",
    C_CALIB_WRITE: "calib-write",
    C_STATS: "stats",
}

# ACK / CALIB status codes.
ST_OK = 0
ST_UNKNOWN_COMMAND = 1
ST_BAD_LENGTH = 2
ST_BUSY = 3          # e.g. calibration write while streaming
ST_BLOB_INVALID = 4  # stored calibration blob missing or its CRC failed
ST_BAD_VERSION = 5

STATUS_NAMES = {
    ST_OK: "ok",
    ST_UNKNOWN_COMMAND: "unknown command",
    ST_BAD_LENGTH: "bad payload length",
    ST_BUSY: "busy (board is streaming)",
    ST_BLOB_INVALID: "no valid calibration blob stored",
    ST_BAD_VERSION: "unsupported wire version",
}

# Per-cell status bits; cell i uses bits 4*i .. 4*i+3 of the sample status word.
CELL_NOT_READY = 0x1  # no new conversion since the previous frame: value repeated
CELL_SATURATED = 0x2  # reading at the ADC's full scale (+8388607 or -8388608)
CELL_TIMED_OUT = 0x4  # chip did not signal data-ready within the timeout (missing/dead)

N_CELLS = 4
CELL_NAMES = ("front_left", "front_right", "back_left", "back_right")
SAMPLE_PAYLOAD_LEN = 28  # seq u16, t_us u32, 4 x int24, status u16, 4 x age u16
SAMPLE_PACKET_LEN = HEADER_LEN + SAMPLE_PAYLOAD_LEN + CRC_LEN  # 35 bytes
HELLO_PAYLOAD_LEN = 20
STATS_PAYLOAD_LEN = 64
AGE_UNKNOWN = 0xFFFF  # a cell's age of 65535 us or more (or no conversion yet)
CALIB_BLOB_MAX = 64
ADC_TYPES = {1: "HX711"}
DEFAULT_BAUD = 500000


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of ``data`` (check value of b"123456789" is 0x29B1)."""
    return binascii.crc_hqx(bytes(data), 0xFFFF)


def packet(ptype: int, payload: bytes = b"", version: int = WIRE_VERSION) -> bytes:
    """Frame ``payload`` as one packet of type ``ptype``."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = bytes((version, ptype, len(payload))) + bytes(payload)
    return SYNC + body + struct.pack("<H", crc16(body))


def _int24(v: int) -> bytes:
    if not INT24_MIN <= v <= INT24_MAX:
        raise ValueError(f"raw value {v} outside the signed 24-bit range")
    return (v & 0xFFFFFF).to_bytes(3, "little")


def signed24(word):
    """The signed values of 24-bit two's-complement words (numpy integer array, low 24 bits used)."""
    import numpy as np

    return np.where(word & 0x800000, word - 0x1000000, word)


def sample_payload(seq: int, t_us: int, raw: tuple[int, int, int, int] | list[int], status: int = 0,
                   age_us=(0, 0, 0, 0)) -> bytes:
    """SAMPLE payload; ``age_us[i]``: how long before ``t_us`` cell i's conversion was ready."""
    return (
        struct.pack("<HI", seq & 0xFFFF, t_us & 0xFFFFFFFF)
        + b"".join(_int24(int(v)) for v in raw)
        + struct.pack("<H", status & 0xFFFF)
        + struct.pack("<4H", *(min(max(int(a), 0), AGE_UNKNOWN) for a in age_us))
    )


def sample_packet(seq: int, t_us: int, raw, status: int = 0, age_us=(0, 0, 0, 0)) -> bytes:
    """One SAMPLE packet: sequence number, board time (us, wrapping), four raw counts and
    each cell's age (us before ``t_us`` its conversion became ready)."""
    return packet(T_SAMPLE, sample_payload(seq, t_us, raw, status, age_us))


@dataclass(frozen=True)
class Hello:
    """The board's answer to IDENTIFY (also sent unprompted once after boot)."""

    wire_version: int
    firmware: tuple[int, int, int]
    board_id: bytes  # 8 bytes
    cell_count: int
    rate_mhz: int  # nominal sample rate in millihertz
    adc_type: int
    flags: int = 0  # bit0: streaming now

    @property
    def board_id_hex(self) -> str:
        return self.board_id.hex()

    @property
    def rate_hz(self) -> float:
        return self.rate_mhz / 1000.0

    @property
    def firmware_str(self) -> str:
        return "%d.%d.%d" % self.firmware

    @property
    def adc_name(self) -> str:
        return ADC_TYPES.get(self.adc_type, f"unknown ({self.adc_type})")

    @property
    def streaming(self) -> bool:
        return bool(self.flags & 1)

    def payload(self) -> bytes:
        if len(self.board_id) != 8:
            raise ValueError("board id must be 8 bytes")
        return (
            bytes((self.wire_version, *self.firmware))
            + self.board_id
            + struct.pack("<BIBB", self.cell_count, self.rate_mhz, self.adc_type, self.flags)
            + b"\x00"  # reserved
        )

    @classmethod
    def from_payload(cls, p: bytes) -> "Hello":
        if len(p) != HELLO_PAYLOAD_LEN:
            raise ValueError(f"HELLO payload is {len(p)} bytes, expected {HELLO_PAYLOAD_LEN}")
        cells, rate, adc, flags = struct.unpack_from("<BIBB", p, 12)
        return cls(p[0], (p[1], p[2], p[3]), bytes(p[4:12]), cells, rate, adc, flags)


@dataclass(frozen=True)
class ChipStats:
    """One HX711's health: its measured conversion rate and what went wrong with it."""

    periods: int   # whole conversion periods counted between the first and last ready edge
    span_us: int   # time between those edges (since the last START)
    skipped: int   # conversions replaced by a newer one before they were read
    timeouts: int  # times the chip was marked timed out

    @property
    def rate_hz(self) -> float:
        """Measured conversion rate (nan before two ready edges were seen)."""
        return self.periods * 1e6 / self.span_us if self.periods and self.span_us else float("nan")


@dataclass(frozen=True)
class Stats:
    """The board's health counters (STATS packet, the answer to the STATS command).

    Board counters saturate at their maximum; chip rates are measured since the last START.
    """

    t_us: int
    frames_dropped: int      # samples the board could not queue (transmit buffer full)
    uart_rx_errors: int      # framing errors and hardware overruns on the board's receiver
    uart_rx_overflows: int   # received bytes lost because the board's receive ring was full
    cmd_crc_failures: int    # command packets the board rejected by their CRC
    cmd_bytes_skipped: int   # bytes the board's command parser discarded
    flags: int               # bit 0: streaming now
    chips: tuple[ChipStats, ChipStats, ChipStats, ChipStats]

    _HEAD = struct.Struct("<IHHHHHBB")
    _CHIP = struct.Struct("<IIHH")

    def payload(self) -> bytes:
        return self._HEAD.pack(self.t_us & 0xFFFFFFFF, self.frames_dropped, self.uart_rx_errors,
                               self.uart_rx_overflows, self.cmd_crc_failures, self.cmd_bytes_skipped,
                               self.flags, 0) + b"".join(
            self._CHIP.pack(c.periods, c.span_us, c.skipped, c.timeouts) for c in self.chips)

    @classmethod
    def from_payload(cls, p: bytes) -> "Stats":
        if len(p) != STATS_PAYLOAD_LEN:
            raise ValueError(f"STATS payload is {len(p)} bytes, expected {STATS_PAYLOAD_LEN}")
        head = cls._HEAD.unpack_from(p, 0)
        chips = tuple(ChipStats(*cls._CHIP.unpack_from(p, 16 + 12 * i)) for i in range(N_CELLS))
        return cls(*head[:7], chips)


def ack_payload(command: int, status: int = ST_OK) -> bytes:
    return bytes((command, status))


def calib_payload(status: int, blob: bytes = b"") -> bytes:
    if len(blob) > CALIB_BLOB_MAX:
        raise ValueError(f"calibration blob of {len(blob)} bytes exceeds {CALIB_BLOB_MAX}")
    return bytes((status,)) + bytes(blob)


def command(cmd: int, payload: bytes = b"") -> bytes:
    """A host -> board command packet."""
    return packet(cmd, payload)


def _crc_table() -> "np.ndarray":
    import numpy as np

    table = np.zeros(256, dtype=np.uint16)
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table[i] = crc & 0xFFFF
    return table


_CRC_TABLE = None


def crc16_rows(rows: "np.ndarray") -> "np.ndarray":
    """CRC-16/CCITT-FALSE of every row of a (n, m) uint8 array, vectorised across rows.

    The loop runs over the m byte columns, not over the n packets, so checking or building
    thousands of equal-length packets costs m numpy operations.
    """
    import numpy as np

    global _CRC_TABLE
    if _CRC_TABLE is None:
        _CRC_TABLE = _crc_table()
    rows = np.asarray(rows, dtype=np.uint8)
    if rows.shape[0] <= 8:
        # a handful of packets (one read of a slow board): the C CRC per row beats the
        # fixed cost of m numpy passes
        return np.array([binascii.crc_hqx(r.tobytes(), 0xFFFF) for r in rows], dtype=np.uint16)
    crc = np.full(rows.shape[0], 0xFFFF, dtype=np.uint16)
    for j in range(rows.shape[1]):
        idx = ((crc >> 8) ^ rows[:, j]) & 0xFF
        crc = (crc << 8) ^ _CRC_TABLE[idx]
    return crc


def sample_packets(seq, t_us, raw, status, age_us=None) -> bytes:
    """Many SAMPLE packets at once (vectorised); the same bytes as ``sample_packet``.

    ``age_us``: (n, 4) microseconds each cell's conversion is older than ``t_us`` (saturated
    at ``AGE_UNKNOWN``); None = 0.
    """
    import numpy as np

    seq = np.asarray(seq, dtype=np.int64)
    n = seq.shape[0]
    out = np.zeros((n, SAMPLE_PACKET_LEN), dtype=np.uint8)
    out[:, 0], out[:, 1] = 0xA5, 0x5A
    out[:, 2], out[:, 3], out[:, 4] = WIRE_VERSION, T_SAMPLE, SAMPLE_PAYLOAD_LEN
    s = seq & 0xFFFF
    out[:, 5], out[:, 6] = s & 0xFF, s >> 8
    t = np.asarray(t_us, dtype=np.int64) & 0xFFFFFFFF
    for k in range(4):
        out[:, 7 + k] = (t >> (8 * k)) & 0xFF
    r = np.asarray(raw, dtype=np.int64).reshape(n, N_CELLS)
    if n and (r.max() > INT24_MAX or r.min() < INT24_MIN):
        raise ValueError("raw value outside the signed 24-bit range")
    r = r & 0xFFFFFF
    for c in range(N_CELLS):
        for k in range(3):
            out[:, 11 + 3 * c + k] = (r[:, c] >> (8 * k)) & 0xFF
    st = np.asarray(status, dtype=np.int64) & 0xFFFF
    out[:, 23], out[:, 24] = st & 0xFF, st >> 8
    if age_us is not None:
        a = np.clip(np.asarray(age_us, dtype=np.int64).reshape(n, N_CELLS), 0, AGE_UNKNOWN)
        for c in range(N_CELLS):
            out[:, 25 + 2 * c], out[:, 26 + 2 * c] = a[:, c] & 0xFF, a[:, c] >> 8
    crc = crc16_rows(out[:, 2:33]).astype(np.int64)
    out[:, 33], out[:, 34] = crc & 0xFF, crc >> 8
    return out.tobytes()
