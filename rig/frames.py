"""Decoded sample frames as numpy arrays, and the decoder's statistics."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from rig.board.wire import AGE_UNKNOWN, N_CELLS


@dataclass
class FrameBatch:
    """A run of decoded SAMPLE frames, oldest first.

    seq:       uint16 sequence numbers as sent (wrapping).
    t_us:      uint32 board timestamps as sent (microseconds, wrapping).
    t_s:       float64 board time in seconds, unwrapped and monotonic (since the board's
               boot, continued across resets). This is the time base for everything above.
    host_t_s:  float64 host receive time (time.monotonic), for latency figures only.
    raw:       int32 (n, 4) raw counts, cells front-left, front-right, back-left, back-right.
    status:    uint16 per-cell status bits (see wire.CELL_*), cell i in bits 4i..4i+3.
    age_us:    uint16 (n, 4): how long (microseconds) before the frame time ``t_s`` each cell's
               conversion became ready, so cell c was sampled at ``t_s - age_us[:, c] * 1e-6``
               (wire format v2). The four HX711s free-run on their own clocks, so the cells of
               one frame are up to one conversion period (~11 ms) apart; ``rig.calibration.align``
               puts them on the frame instants. ``wire.AGE_UNKNOWN`` (65535) = unknown (wire v1
               data, timed-out cells, frames built without ages): such cells are left as they are.
    """

    seq: np.ndarray
    t_us: np.ndarray
    t_s: np.ndarray
    host_t_s: np.ndarray
    raw: np.ndarray
    status: np.ndarray
    age_us: np.ndarray | None = None

    def __post_init__(self):
        if self.age_us is None:
            self.age_us = np.full((len(self.seq), N_CELLS), AGE_UNKNOWN, dtype=np.uint16)

    @classmethod
    def empty(cls) -> "FrameBatch":
        return cls(
            np.zeros(0, np.uint16), np.zeros(0, np.uint32), np.zeros(0, np.float64),
            np.zeros(0, np.float64), np.zeros((0, N_CELLS), np.int32), np.zeros(0, np.uint16),
            np.zeros((0, N_CELLS), np.uint16),
        )

    def __len__(self) -> int:
        return int(self.seq.shape[0])

    @classmethod
    def concat(cls, batches: list["FrameBatch"]) -> "FrameBatch":
        batches = [b for b in batches if len(b)]
        if not batches:
            return cls.empty()
        if len(batches) == 1:
            return batches[0]
        return cls(*(np.concatenate([getattr(b, f) for b in batches]) for f in cls.array_fields()))

    @staticmethod
    def fields() -> tuple[str, ...]:
        """The six fields the journal and trace files store (wire v1 content)."""
        return ("seq", "t_us", "t_s", "host_t_s", "raw", "status")

    @classmethod
    def array_fields(cls) -> tuple[str, ...]:
        """Every per-frame array, in constructor order (``fields()`` plus ``age_us``)."""
        return cls.fields() + ("age_us",)

    def __getitem__(self, idx) -> "FrameBatch":
        return FrameBatch(*(getattr(self, f)[idx] for f in self.array_fields()))

    def cell_flags(self, bit: int) -> np.ndarray:
        """(n, 4) bool: which cells carry status ``bit`` (e.g. wire.CELL_TIMED_OUT)."""
        shifts = np.arange(N_CELLS, dtype=np.uint16) * 4
        return ((self.status[:, None] >> shifts) & bit).astype(bool)


@dataclass
class DecoderStats:
    """Counts kept by the decoder since it was created: exact integers, and the board time
    missing across resets (an estimate from host receive times, s)."""

    bytes_in: int = 0
    bytes_skipped: int = 0      # bytes discarded while searching for a valid packet
    crc_failures: int = 0       # candidate packets whose CRC did not match
    frames_decoded: int = 0     # SAMPLE frames delivered
    frames_lost: int = 0        # frames the board sent that never arrived (from seq, or from
                                # board time across a sequence restart; none across a reset gap)
    duplicates: int = 0         # repeated frames (same seq and time), dropped
    resets: int = 0             # board restarts noticed (clock went back, or unsolicited HELLO)
    reset_gap_s: float = 0.0    # board time missing across those resets (s, from host time)
    sequence_restarts: int = 0  # the board restarted its sequence (a START repeated to firmware < 1.2): no loss
    other_packets: int = 0      # HELLO / ACK / CALIB packets passed to the link
    version_mismatches: int = 0 # packets with an unknown wire version (skipped)

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        return (
            f"frames decoded {self.frames_decoded}, lost {self.frames_lost}, "
            f"CRC failures {self.crc_failures}, bytes skipped {self.bytes_skipped}, "
            f"duplicates {self.duplicates}, resets {self.resets}"
            + (f" ({self.reset_gap_s:.2f} s missing)" if self.resets else "")
            + (f", sequence restarts {self.sequence_restarts}" if self.sequence_restarts else "")
        )
