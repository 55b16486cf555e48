"""The board's noise floor: a still dead weight processed like a trial (science.md 6.4).

Uses the engine (``rig.cop``, ``rig.sway``) when present, else the same steps locally:
COP from forces, a 10 Hz Butterworth low-pass designed as 2nd order and run forward and
backward (effective 4th order), then COP SD, mean velocity and the 95 % prediction ellipse.
"""
from __future__ import annotations

import numpy as np
from scipy import signal

FILTER_HZ = 10.0
FILTER_TEXT = "Butterworth low-pass 10 Hz, 2nd-order design run forward-backward (effective 4th order)"
CHI2_95_2DOF = 5.991464547107979


def _cop(forces_n, positions_mm, threshold_n=20.0):
    try:
        from rig.cop import cop_from_forces
    except ImportError:
        cop_from_forces = None
    if cop_from_forces is not None:
        return cop_from_forces(forces_n, positions_mm, threshold_n)
    fz = forces_n.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cop = (forces_n @ positions_mm) / fz[:, None]
    cop[fz < threshold_n] = np.nan
    return fz, cop[:, 0], cop[:, 1]


def noise_floor(t_s, forces_n, positions_mm, mass_kg: float) -> dict:
    """Noise measures of a still dead weight: forces (n, 4) N at board times t_s (n,)."""
    t = np.asarray(t_s, float)
    fz, x, y = _cop(np.asarray(forces_n, float), np.asarray(positions_mm, float))
    dt = np.diff(t)
    rate = 1.0 / float(np.mean(dt))
    # resample to a uniform grid at the mean rate (the board's rate is steady; jitter is tiny)
    grid = t[0] + np.arange(int(np.floor((t[-1] - t[0]) * rate)) + 1) / rate
    xg = np.interp(grid, t, x)
    yg = np.interp(grid, t, y)
    b, a = signal.butter(2, FILTER_HZ / (rate / 2))
    xf = signal.filtfilt(b, a, xg - xg.mean())
    yf = signal.filtfilt(b, a, yg - yg.mean())
    duration = (len(grid) - 1) / rate
    path = float(np.sum(np.hypot(np.diff(xf), np.diff(yf))))
    cov = np.cov(np.vstack([xf, yf]))
    return {
        "mass_kg": float(mass_kg),
        "duration_s": round(duration, 3),
        "rate_hz": round(rate, 3),
        "dt_jitter_ms": round(float(np.std(dt)) * 1e3, 4),
        "filter": FILTER_TEXT,
        "force_sd_n": round(float(np.std(fz)), 4),
        "force_mean_n": round(float(np.mean(fz)), 3),
        "cop_sd_x_mm": round(float(np.std(xf)), 5),
        "cop_sd_y_mm": round(float(np.std(yf)), 5),
        "mean_velocity_mm_s": round(path / duration, 5),
        "path_per_10s_mm": round(path / duration * 10, 4),
        "ellipse_area_mm2": round(float(np.pi * CHI2_95_2DOF * np.sqrt(max(np.linalg.det(cov), 0.0))), 6),
        "ellipse_method": "prediction, chi2, p = 0.95",
        "raw_cop_sd_x_mm": round(float(np.nanstd(x)), 5),
        "raw_cop_sd_y_mm": round(float(np.nanstd(y)), 5),
    }
