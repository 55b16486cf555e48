"""Landing (hop-to-stabilisation) measures from the total vertical force.

Four vertical cells give no shear, so of the dynamic postural stability indices only the
vertical one can be computed; MLSI, APSI and DPSI are not measurable on this board
(science.md §2.5).

- Initial contact: the first sample at which the total force reaches ``contact_fraction`` of
  body weight after a flight phase below it (default 5 %, [U] as widely reproduced).
- Vertical stability index (Wikstrom et al. 2005, J Athl Train 40:305; formula [U] as widely
  reproduced): VSI = sqrt(mean((BW - Fz)^2)) / BW over the first 3 s after initial contact
  (dimensionless).
- Vertical time to stabilisation, sequential-average method (Colby et al. 1999; Ross &
  Guskiewicz 2004, [U]): the running mean of Fz from initial contact; TTS is the time after
  initial contact from which it stays within the mean +/- 0.25 SD of Fz over the whole
  analysed window (initial contact to the end of the trace, at most 20 s).

The impact lasts tens of milliseconds: the literature samples at 1000-1200 Hz (Brown et al.
2010 [V]). Below ``min_fs_hz`` (default 500 Hz) these measures are refused with an
``AnalysisError``: an HX711 board at ~90 Hz cannot capture the impact.
"""
from __future__ import annotations

import numpy as np

from rig.errors import AnalysisError
from rig.engine.sway import _checks
from rig.engine.sway.registry import register_all

WIKSTROM = "Wikstrom et al. 2005, J Athl Train 40:305 (vertical component only)"
ROSS = "Colby et al. 1999; Ross & Guskiewicz 2004: sequential average, +/-0.25 SD (vertical)"
LANDING_SETTINGS = {"contact_fraction": 0.05, "vsi_window_s": 3.0, "tts_band_sd": 0.25,
                    "tts_window_max_s": 20.0, "min_fs_hz": 500.0}


def initial_contact_index(fz_n, body_weight_n: float, contact_fraction: float = 0.05) -> int:
    """Index of initial contact: first sample >= contact_fraction * BW after a sample below."""
    fz = _checks.axis(fz_n, "fz_n", min_n=2)
    thr = contact_fraction * body_weight_n
    up = np.flatnonzero((fz[1:] >= thr) & (fz[:-1] < thr))
    if up.size == 0:
        raise AnalysisError("no landing found: the total force never rises from below "
                            f"{100 * contact_fraction:g} % of body weight (no flight phase)")
    return int(up[0] + 1)


def landing_measures(fz_n, fs_hz, body_weight_n: float, *,
                     min_fs_hz: float = LANDING_SETTINGS["min_fs_hz"],
                     contact_fraction: float = LANDING_SETTINGS["contact_fraction"],
                     vsi_window_s: float = LANDING_SETTINGS["vsi_window_s"],
                     tts_band_sd: float = LANDING_SETTINGS["tts_band_sd"],
                     tts_window_max_s: float = LANDING_SETTINGS["tts_window_max_s"]) -> dict[str, float]:
    """Vertical stability index (dimensionless) and vertical time to stabilisation (s) of a
    hop landing; force in N, body weight in N. Methods in the module docstring. Refuses
    (``AnalysisError``) traces sampled below ``min_fs_hz``, traces without a landing and
    traces ending less than ``vsi_window_s`` after initial contact."""
    fs = _checks.rate(fs_hz)
    if fs < min_fs_hz:
        raise AnalysisError(
            f"landing measures need at least {min_fs_hz:g} Hz to capture the impact; this trace "
            f"is sampled at {fs:.3g} Hz (VSI and TTS refused)")
    if not body_weight_n > 0:
        raise AnalysisError(f"body weight must be positive, got {body_weight_n} N")
    fz = _checks.axis(fz_n, "fz_n", min_n=2)
    ic = initial_contact_index(fz, body_weight_n, contact_fraction)
    nv = int(round(vsi_window_s * fs))
    if fz.shape[0] - ic < nv:
        raise AnalysisError(f"trace ends {(fz.shape[0] - ic) / fs:.2f} s after initial contact; "
                            f"the VSI needs {vsi_window_s:g} s")
    seg = fz[ic: ic + nv]
    vsi = float(np.sqrt(np.mean((body_weight_n - seg) ** 2)) / body_weight_n)
    win = fz[ic: ic + int(round(tts_window_max_s * fs))]
    run_mean = np.cumsum(win) / np.arange(1, win.shape[0] + 1)
    band = tts_band_sd * np.std(win)
    outside = np.flatnonzero(np.abs(run_mean - win.mean()) > band)
    tts = float((outside[-1] + 1) / fs) if outside.size else 0.0
    return {"vertical_stability_index": vsi, "time_to_stabilization_vertical_s": tts,
            "initial_contact_s": ic / fs}


register_all(landing_measures, "landing", [
    ("vertical_stability_index", "1", "Vertical stability index (VSI)", WIKSTROM),
    ("time_to_stabilization_vertical_s", "s", "Vertical time to stabilisation", ROSS),
    ("initial_contact_s", "s", "Initial contact time (from trace start)", WIKSTROM),
])
