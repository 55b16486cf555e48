"""Raw counts -> cell forces -> total force and COP: the only place this is computed.

The runner, the live view, ``rig stream``, the exports and the report all call
``forces_and_cop``, so a recording gives the same newtons and millimetres wherever it is read.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rig.engine.cop import DEFAULT_THRESHOLD_N, cop_from_forces

#: Empty-board window (s) used when a record has no offsets (older sessions).
TARE_FALLBACK_S = 0.5


@dataclass
class Calibrated:
    """forces_n (n, 4) N by cell FL, FR, BL, BR; fz_n (n,) N; cop_x_mm, cop_y_mm (n,) mm
    (NaN where the total force is below the threshold)."""

    forces_n: np.ndarray
    fz_n: np.ndarray
    cop_x_mm: np.ndarray
    cop_y_mm: np.ndarray


def forces_and_cop(cal, raw, t_s=None, threshold_n: float = DEFAULT_THRESHOLD_N) -> Calibrated:
    """Apply calibration ``cal`` (a ``rig.calibration.Calibration``) to raw counts (n, 4) as
    received (channel order): per-cell forces by the channel map, offsets and gains, total
    force, COP by the cell positions (``rig.engine.cop``), then the file's optional COP
    correction.

    A calibration rebuilt from an old record without offsets (``needs_tare``) is tared here
    on the first ``TARE_FALLBACK_S`` of board time ``t_s``."""
    raw = np.asarray(raw)
    if getattr(cal, "needs_tare", False) and t_s is not None and len(raw):
        t = np.asarray(t_s)
        cal = cal.tare(raw[t < t[0] + TARE_FALLBACK_S])
    forces = cal.forces_n(raw)
    fz, x, y = cop_from_forces(forces, cal.positions_mm, threshold_n)
    x, y = cal.correct_cop(x, y)
    return Calibrated(forces, fz, np.asarray(x, dtype=float), np.asarray(y, dtype=float))
