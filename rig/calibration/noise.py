"""The board's noise floor: a still dead weight processed exactly like a trial (science.md 6.4).

COP from the calibrated forces (``rig.engine.cop``), the default preprocessing (``rig.engine.preprocess``:
uniform grid, 10 Hz zero-lag Butterworth, mean removed) and the standard measures
(``rig.engine.sway``), so the figures are directly comparable with patient measures.
"""
from __future__ import annotations

import numpy as np

from rig.engine.cop import cop_from_forces
from rig.engine.preprocess import PreprocessOptions, preprocess
from rig.engine.sway.compute import SETTINGS, compute_measures

# measures kept with the calibration: name in the file -> name in rig.engine.sway
KEPT = {
    "cop_sd_x_mm": "sd_ml_mm",
    "cop_sd_y_mm": "sd_ap_mm",
    "mean_velocity_mm_s": "mean_velocity_mm_s",
    "mean_velocity_ml_mm_s": "mean_velocity_ml_mm_s",
    "mean_velocity_ap_mm_s": "mean_velocity_ap_mm_s",
    "ellipse_area_mm2": "ellipse95_area_mm2",
    "path_length_mm": "path_length_mm",
}


def noise_floor(t_s, forces_n, positions_mm, mass_kg: float, options: PreprocessOptions | None = None) -> dict:
    """Noise measures of a still dead weight: cell forces (n, 4) N at board times t_s (n,) s."""
    opt = options or PreprocessOptions.default()
    t = np.asarray(t_s, float)
    fz, x, y = cop_from_forces(np.asarray(forces_n, float), np.asarray(positions_mm, float))
    trace = preprocess(t, x, y, fz, opt)
    m = compute_measures(trace, spectral_measures=False, research=False)
    out = {"mass_kg": float(mass_kg), "duration_s": round(float(trace.duration_s), 3),
           "rate_hz": round(float(trace.fs_hz), 3),
           "dt_jitter_ms": round(float(trace.processing.get("input_jitter_ms", 0.0)), 4),
           "filter": f"{opt.preset}: Butterworth low-pass {opt.lowpass_hz:g} Hz, order {opt.filter_order} "
                     "run forward-backward (effective order doubled)" if opt.lowpass_hz else opt.preset,
           "ellipse_method": SETTINGS["ellipse"],
           "force_mean_n": round(float(np.mean(fz)), 3), "force_sd_n": round(float(np.std(fz)), 4)}
    for name, src in KEPT.items():
        out[name] = round(float(m[src]), 6)
    dur = float(trace.duration_s)
    out["path_per_10s_mm"] = round(out["path_length_mm"] / dur * 10, 5)
    out["path_per_30s_mm"] = round(out["path_length_mm"] / dur * 30, 5)
    return out
