"""The calibration blob stored on the board (<= 64 bytes, opaque to the firmware).

It lets the host tell whether a calibration file is the one the board was calibrated with,
even after the file was copied to another computer. Layout (little-endian, 48 bytes)::

    magic "RC" | version u8 (1) | board id 8 bytes | created u32 (Unix seconds, UTC)
    | hash 16 bytes (first half of the sha256) | gains 4 x float32 (counts/N) | channel map u8

The channel map packs the four 2-bit channel numbers, cell 0 in the low bits. The firmware
adds its own length and CRC when it stores the blob in EEPROM.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from rig.calibration.model import Calibration
from rig.errors import CalibrationError

MAGIC = b"RC"
BLOB_VERSION = 1
_FMT = "<2sB8sI16s4fB"
BLOB_LEN = struct.calcsize(_FMT)  # 48
assert BLOB_LEN <= 64


@dataclass(frozen=True)
class BlobInfo:
    """What a board says it was calibrated with."""

    board_id: str
    created_utc: str
    hash_prefix: str  # 32 hex digits
    gain_counts_per_n: tuple[float, float, float, float]
    channel: tuple[int, int, int, int]

    def matches(self, cal: Calibration) -> bool:
        return cal.hash.startswith(self.hash_prefix)


def encode_blob(cal: Calibration) -> bytes:
    """The blob for ``cal`` (refuses the nominal calibration: there is nothing to store)."""
    if cal.is_nominal:
        raise CalibrationError("the nominal calibration is not stored on a board; run `rig calibrate` first")
    created = int(cal.created_datetime().timestamp())
    ch = 0
    for i, c in enumerate(cal.channel):
        ch |= (int(c) & 3) << (2 * i)
    return struct.pack(_FMT, MAGIC, BLOB_VERSION, bytes.fromhex(cal.board_id), created & 0xFFFFFFFF,
                       bytes.fromhex(cal.hash[:32]), *np.asarray(cal.gain_counts_per_n, np.float32), ch)


def decode_blob(blob: bytes) -> BlobInfo | None:
    """Decode a blob read from a board; None if it is not ours (other content or version)."""
    if blob is None or len(blob) != BLOB_LEN or not blob.startswith(MAGIC):
        return None
    magic, ver, bid, created, h, g0, g1, g2, g3, ch = struct.unpack(_FMT, blob)
    if ver != BLOB_VERSION:
        return None
    when = datetime.fromtimestamp(created, timezone.utc).isoformat().replace("+00:00", "Z")
    return BlobInfo(bid.hex(), when, h.hex(), (g0, g1, g2, g3), tuple((ch >> (2 * i)) & 3 for i in range(4)))


def blob_warnings(cal: Calibration, blob: bytes | None) -> list[str]:
    """Warnings when the calibration file does not match what the board was calibrated with."""
    info = decode_blob(blob) if blob else None
    if cal.is_nominal:
        if info is not None:
            return [f"the board was calibrated on {info.created_utc} (calibration {info.board_id}), "
                    "but no matching calibration file was found: copy it to calibration/ or re-run `rig calibrate`"]
        return []
    if blob is None or len(blob) == 0:
        return [f"the board stores no calibration record to confirm {cal.id} belongs to it "
                "(`rig check --write-board` stores one)"]
    if info is None:
        return ["the board's stored calibration record is not one this software wrote"]
    if info.board_id != cal.board_id:
        return [f"the board's stored calibration record is for board {info.board_id}, the file for {cal.board_id}"]
    if not info.matches(cal):
        return [f"calibration file {cal.id} differs from the one stored on the board "
                f"(calibrated {info.created_utc}): the board was re-calibrated elsewhere or the file was edited"]
    return []
