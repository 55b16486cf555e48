"""Cell forces to total vertical force and centre of pressure (COP).

A rigid top resting on vertical load cells is in moment balance about any horizontal axis, so
the COP is the force-weighted mean of the cell positions (science.md §1.1):

    Fz   = sum_i F_i
    COPx = sum_i F_i * x_i / Fz,    COPy = sum_i F_i * y_i / Fz

This is the general form of the usual rectangle formula (Lx/2)*[(F_TR+F_BR)-(F_TL+F_BL)]/W and
holds for any cell layout, so the positions come from the calibration file, never from
constants here. Below a force threshold (nobody on the board) the COP is undefined: NaN.

Preprocessing (uniform grid, low-pass, mean removal) lives in ``rig.engine.preprocess``; its public
names are re-exported here because the contract (docs/CONTRACTS.md) names ``rig.engine.cop``.
"""
from __future__ import annotations

import numpy as np

from rig.engine.preprocess import PreprocessOptions, Trace, preprocess  # noqa: F401  (re-export)

#: Total vertical force (N) below which nobody is taken to be on the board.
DEFAULT_THRESHOLD_N = 20.0


def cop_from_forces(forces_n, positions_mm, threshold_n: float = DEFAULT_THRESHOLD_N):
    """Total vertical force and COP from per-cell vertical forces.

    forces_n:     (n, 4) vertical force on each cell in newtons, cells in the order
                  front-left, front-right, back-left, back-right (board frame, DESIGN.md).
    positions_mm: (4, 2) cell positions (x = ML + right, y = AP + forward) in mm, same order.
    threshold_n:  samples whose total force is below this (N) get NaN COP: nobody on the
                  board, or too little load for a meaningful COP.

    Returns ``(fz_n, cop_x_mm, cop_y_mm)``, float64 arrays of length n. ``fz_n`` is always
    defined (it is what tells that nobody is on the board); NaN COP marks undefined samples.
    A non-finite force (NaN from a dead cell) makes that sample's COP NaN as well.
    """
    f = np.asarray(forces_n, dtype=np.float64)
    p = np.asarray(positions_mm, dtype=np.float64)
    if f.ndim == 1 and f.shape[0] == 4:
        f = f[None, :]
    if f.ndim != 2 or f.shape[1] != p.shape[0]:
        raise ValueError(f"forces_n must be (n, {p.shape[0]}), got {f.shape}")
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"positions_mm must be (cells, 2), got {p.shape}")
    fz = f.sum(axis=1)
    moments = f @ p                              # (n, 2): sum_i F_i * (x_i, y_i), N*mm
    ok = np.isfinite(fz) & (fz >= threshold_n)
    cop = np.full((f.shape[0], 2), np.nan)
    cop[ok] = moments[ok] / fz[ok, None]
    return fz, cop[:, 0], cop[:, 1]
