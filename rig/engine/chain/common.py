"""Shared pieces of the chain tests: the two-foot weight split from ML COP and smoothing.

Weight share from one board (reality.md §4 [D]): with both feet on their marks at x_l and x_r
(mm) and each foot's own COP on its mark, the total COP is the force-weighted mean of the two,
so the left foot carries ``(x_r - x) / (x_r - x_l)`` of the vertical force. The split assumes
each foot's COP stays on its mark: a shift of one foot's COP by d mm moves the total COP by
(its share) * d and the computed share by up to ``d / (x_r - x_l)``: 10 mm at 200 mm spacing is
5 percentage points (``share_error_pct``).
"""
from __future__ import annotations

import numpy as np
from scipy import signal


def left_share(x_mm, x_left_mm: float, x_right_mm: float) -> np.ndarray:
    """Fraction (0..1) of the vertical force on the left foot, from ML COP ``x_mm`` (mm) and the
    feet's mark centres (mm). Not clipped: values outside 0..1 mean a foot's COP left its mark."""
    return (x_right_mm - np.asarray(x_mm, float)) / (x_right_mm - x_left_mm)


def share_error_pct(shift_mm: float, x_left_mm: float, x_right_mm: float) -> float:
    """Worst-case error (percentage points) of the one-board split when one foot's own COP
    moves ``shift_mm`` off its mark (reality.md §4 [D]): 100 * shift / spacing."""
    return 100.0 * abs(shift_mm) / abs(x_right_mm - x_left_mm)


def lowpass(y, fs_hz: float, cutoff_hz: float) -> np.ndarray:
    """Zero-lag Butterworth low-pass (2nd order run forward and backward, DESIGN.md)."""
    y = np.asarray(y, float)
    if cutoff_hz >= fs_hz / 2 or len(y) < 15:
        return y.copy()
    b, a = signal.butter(2, cutoff_hz / (fs_hz / 2))
    return signal.filtfilt(b, a, y)


def rate_hz(t_s) -> float:
    t = np.asarray(t_s, float)
    return (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 and t[-1] > t[0] else float("nan")


def runs(mask) -> list[tuple[int, int]]:
    """Index ranges [i, j) where the boolean ``mask`` is true."""
    m = np.r_[False, np.asarray(mask, bool), False].astype(int)
    d = np.diff(m)
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))
