"""Input checks shared by the measure functions: one clear ``AnalysisError``, never a crash.

Rules (documented once, used everywhere):
- COP arrays must be one-dimensional, of equal length, and finite. A NaN means the COP was
  undefined (nobody on the board): measures refuse it rather than skip it silently.
- Each function states the minimum number of samples it needs and refuses fewer.
- A ratio whose denominator is zero (e.g. a mean frequency of a constant trace) is NaN.
"""
from __future__ import annotations

import numpy as np

from rig.errors import AnalysisError


def axis(a, name: str = "cop_mm", min_n: int = 2) -> np.ndarray:
    """One COP axis as float64, checked: 1-D, finite, at least ``min_n`` samples."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 1:
        raise AnalysisError(f"{name} must be one-dimensional, got shape {a.shape}")
    if a.shape[0] < min_n:
        raise AnalysisError(f"{name}: {a.shape[0]} sample(s), this measure needs at least {min_n}")
    bad = ~np.isfinite(a)
    if bad.any():
        i = np.flatnonzero(bad)
        raise AnalysisError(f"{name}: COP undefined (NaN) at {i.size} sample(s), first at index "
                            f"{i[0]}: nobody on the board there")
    return a


def xy(x, y, min_n: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Both COP axes, checked and of equal length."""
    x = axis(x, "cop_x_mm", min_n)
    y = axis(y, "cop_y_mm", min_n)
    if x.shape != y.shape:
        raise AnalysisError(f"cop_x_mm has {x.shape[0]} samples but cop_y_mm has {y.shape[0]}")
    return x, y


def rate(fs_hz) -> float:
    fs = float(fs_hz)
    if not np.isfinite(fs) or fs <= 0:
        raise AnalysisError(f"sample rate must be positive, got {fs_hz!r} Hz")
    return fs


def ratio(num: float, den: float) -> float:
    """num / den, NaN when den is zero (the documented rule for undefined ratios)."""
    return float(num / den) if den != 0 else float("nan")
