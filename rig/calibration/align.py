"""Put the four cells of each frame on one instant (wire format v2 cell ages).

The four HX711s free-run on their own oscillators (about 91-94 conversions/s, a few % apart),
and the board reads them when all four have a new conversion. In one frame the cells were
therefore sampled up to one conversion period (~11 ms) apart: cell c at
``t_s - age_us[:, c] * 1e-6``. On a 1 Hz +/-100 mm weight shift that skew alone is several mm
of COP error (firmware/README.md gives the measured figures).

``align_counts`` removes it: for each cell it interpolates the cell's counts, on the cell's
own sample instants, linearly to the frame instants ``t_s``. Raw counts stay the record;
aligned counts feed forces and COP.

Edge handling:
- Every cell sample is at or before its frame instant, and the next frame's sample of that cell
  is after it (the board reads only new conversions), so each frame instant is bracketed by
  the cell's own sample in that frame and its next distinct one: plain interpolation.
- The last frame(s) of a batch have no later sample: linear extrapolation from the cell's last
  two distinct samples, at most one conversion period ahead (held beyond ``MAX_EXTRAPOLATE_S``).
  ``StreamAligner`` holds the newest frame back for live use, so only the very end of a
  recording is extrapolated.
- A value repeated without a new conversion (not-ready bit) has the same sample instant and is
  used once. Cells with an unknown age (``wire.AGE_UNKNOWN``: version 1 boards, timed-out
  cells) keep their raw counts in those frames; a cell with fewer than two known samples in the
  batch is left as it is.
- Across lost frames the interpolation spans the gap (linear between the samples either side).
"""
from __future__ import annotations

import numpy as np

from rig.board.wire import AGE_UNKNOWN, N_CELLS
from rig.frames import FrameBatch

MAX_EXTRAPOLATE_S = 0.015  # ~1.5 conversion periods at 90-94 Hz


def sample_instants_us(batch: FrameBatch) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's own sample instant (n, 4) in unwrapped board microseconds, and which are known."""
    t_us = np.rint(batch.t_s * 1e6).astype(np.int64)
    age = batch.age_us.astype(np.int64)
    known = batch.age_us != AGE_UNKNOWN
    return t_us[:, None] - age, known


def align_counts(batch: FrameBatch) -> np.ndarray:
    """Raw counts (n, 4) interpolated on each cell's own time base to the frame instants.

    Returns float64 counts (n, 4), cells in channel order as ``batch.raw``. Frames are
    assumed in time order (as decoded). Vectorised per cell: the only loop is over 4 cells.
    """
    n = len(batch)
    out = batch.raw.astype(np.float64)
    if n == 0:
        return out
    t_us = np.rint(batch.t_s * 1e6).astype(np.int64)
    inst, known = sample_instants_us(batch)
    for c in range(N_CELLS):
        ok = known[:, c]
        if ok.sum() < 2:
            continue
        x = inst[ok, c]
        y = out[ok, c]
        # one point per conversion: a sample instant later than every earlier one
        prev_max = np.maximum.accumulate(x)
        new = np.ones(len(x), bool)
        new[1:] = x[1:] > prev_max[:-1]
        xs, ys = x[new].astype(np.float64), y[new]
        if len(xs) < 2:
            continue
        tq = t_us[ok].astype(np.float64)
        v = np.interp(tq, xs, ys)
        after = tq > xs[-1]
        if np.any(after):
            slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
            ahead = np.minimum(tq[after] - xs[-1], MAX_EXTRAPOLATE_S * 1e6)
            v[after] = ys[-1] + slope * ahead
        before = tq < xs[0]
        if np.any(before):
            slope = (ys[1] - ys[0]) / (xs[1] - xs[0])
            behind = np.maximum(tq[before] - xs[0], -MAX_EXTRAPOLATE_S * 1e6)
            v[before] = ys[0] + slope * behind
        out[ok, c] = v
    return out


class StreamAligner:
    """``align_counts`` for frames arriving in batches: the newest frame is held back until
    its successor arrives, so live frames are interpolated, never extrapolated.

    ``push(batch)`` returns the frames now ready and their aligned counts; ``flush()`` returns
    the held frame (extrapolated) at the end of a recording.
    """

    def __init__(self):
        self._ctx: FrameBatch | None = None
        self._done = 0  # frames of the context already returned

    def push(self, batch: FrameBatch) -> tuple[FrameBatch, np.ndarray]:
        full = batch if self._ctx is None else FrameBatch.concat([self._ctx, batch])
        if len(full) == 0:
            return full, np.zeros((0, N_CELLS))
        aligned = align_counts(full)
        start, end = self._done, len(full) - 1
        self._ctx = full[max(0, len(full) - 2):]
        self._done = len(self._ctx) - 1
        return full[start:end], aligned[start:end]

    def flush(self) -> tuple[FrameBatch, np.ndarray]:
        if self._ctx is None:
            return FrameBatch.empty(), np.zeros((0, N_CELLS))
        full, start = self._ctx, self._done
        self._ctx, self._done = None, 0
        return full[start:], align_counts(full)[start:]
