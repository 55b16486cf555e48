"""Per-cell gains from known masses at known points, by linear least squares.

For placement p of mass m_p at mark (X_p, Y_p), with offset-corrected counts c_pi on cell i
and unknown sensitivities s_i = 1 / g_i (newtons per count), a rigid top gives three
equations: the forces sum to the weight, and their moments about both axes match the mark::

    sum_i s_i c_pi             = m_p g
    sum_i s_i c_pi x_i / L     = m_p g X_p / L
    sum_i s_i c_pi y_i / L     = m_p g Y_p / L

(L: the mean cell distance from the centre, so moment rows weigh like force rows). Every
placement adds three rows; the 4 unknowns are solved over all of them at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rig.calibration.model import STANDARD_GRAVITY_M_S2
from rig.errors import CalibrationError


@dataclass
class GainFit:
    gain_counts_per_n: np.ndarray  # (4,)
    force_residual_n: np.ndarray   # (p,) measured total force - m g
    cop_error_mm: np.ndarray       # (p,) distance between measured COP and the mark
    cop_error_xy_mm: np.ndarray    # (p, 2)
    condition: float               # condition number of the design (large: placements too alike)

    def summary(self) -> dict:
        return {
            "placements": int(len(self.force_residual_n)),
            "force_rms_n": _r(np.sqrt(np.mean(self.force_residual_n ** 2))),
            "force_max_n": _r(np.max(np.abs(self.force_residual_n))),
            "cop_rms_mm": _r(np.sqrt(np.mean(self.cop_error_mm ** 2))),
            "cop_max_mm": _r(np.max(self.cop_error_mm)),
            "condition_number": _r(self.condition, 2),
        }


def _r(v, nd=4) -> float:
    return float(round(float(v), nd))


def cop_mm(forces_n: np.ndarray, positions_mm: np.ndarray) -> np.ndarray:
    """COP (p, 2) in mm of cell forces (p, 4): the force-weighted mean of the cell positions."""
    total = forces_n.sum(axis=-1, keepdims=True)
    return (forces_n @ positions_mm) / total


def fit_gains(counts: np.ndarray, mass_kg: np.ndarray, marks_mm: np.ndarray, positions_mm: np.ndarray,
              gravity_m_s2: float = STANDARD_GRAVITY_M_S2) -> GainFit:
    """Least-squares gains (counts/N) from offset-corrected mean counts (p, 4) per placement.

    ``mass_kg`` (p,), ``marks_mm`` (p, 2) where each mass stood; ``positions_mm`` (4, 2) cells.
    """
    counts = np.asarray(counts, dtype=float)
    weight_n = np.asarray(mass_kg, dtype=float) * gravity_m_s2
    marks = np.asarray(marks_mm, dtype=float)
    pos = np.asarray(positions_mm, dtype=float)
    centre = pos.mean(axis=0)
    rel = pos - centre
    span = float(np.mean(np.abs(rel)))
    mrel = marks - centre
    a = np.concatenate([counts, counts * rel[:, 0] / span, counts * rel[:, 1] / span])
    b = np.concatenate([weight_n, weight_n * mrel[:, 0] / span, weight_n * mrel[:, 1] / span])
    # scale columns so the condition number reflects geometry, not the size of the counts
    col = np.linalg.norm(a, axis=0)
    if np.any(col == 0):
        dead = int(np.flatnonzero(col == 0)[0])
        raise CalibrationError(f"cell {dead} never responded to load: no gain can be fitted")
    s_scaled, _, rank, sv = np.linalg.lstsq(a / col, b, rcond=None)
    if rank < 4:
        raise CalibrationError("the placements do not determine all four gains (need the corner placements)")
    s = s_scaled / col
    if np.any(s <= 0):
        bad = int(np.flatnonzero(s <= 0)[0])
        raise CalibrationError(f"fitted gain of cell {bad} is not positive: check its wiring and the mass positions")
    gains = 1.0 / s
    forces = counts * s
    total = forces.sum(axis=1)
    cop = cop_mm(forces, pos)
    err_xy = cop - marks
    return GainFit(gains, total - weight_n, np.hypot(err_xy[:, 0], err_xy[:, 1]), err_xy, float(sv[0] / sv[-1]))


def linearity(measured_n: np.ndarray, mass_kg: np.ndarray, gravity_m_s2: float = STANDARD_GRAVITY_M_S2) -> dict:
    """Linearity of total force at the centre over several masses (science.md 6.2, step 3).

    Fits measured = k * true through the origin; reports each mass's deviation from that line
    in per cent of the largest load (a stand-in for full scale) and the slope error.
    """
    true = np.asarray(mass_kg, float) * gravity_m_s2
    meas = np.asarray(measured_n, float)
    k = float(meas @ true / (true @ true))
    dev = meas - k * true
    fs = float(true.max())
    return {
        "masses_kg": [float(m) for m in mass_kg],
        "force_error_percent": [_r(v) for v in 100 * (meas - true) / true],
        "deviation_percent_of_max": [_r(v) for v in 100 * dev / fs],
        "max_deviation_percent_of_max": _r(np.max(np.abs(dev)) * 100 / fs),
        "slope_error_percent": _r((k - 1) * 100),
    }
