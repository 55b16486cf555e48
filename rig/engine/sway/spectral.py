"""Frequency-domain sway measures from a Welch power spectral density, per axis.

Estimator (stated with every result in ``WELCH_SETTINGS``): Welch, Hann window, segment
ceil(N/2) samples, 50 % overlap (N/4), nfft = segment, constant detrend, one-sided density
in mm^2/Hz, full band 0 .. fs/2. These are the settings of Duarte's BMC ``psd`` function,
with which the Posture Data Set's published COPmfreq was computed (dos Santos et al. 2017,
PeerJ 5:e3626); the engine reproduces those values to 1e-12. Estimator choices change these
measures substantially (Vieira et al. 2009, Braz J Med Biol Res 42:665): compare only
trials analysed alike. Spectral measures of 10 s trials have 0.2 Hz resolution: use them for
bipedal trials of 30 s or more (science.md §1.6).

Definitions (Prieto et al. 1996; spectral moments mu_k = integral f^k P(f) df, trapezoid):
- total power = sum P * df (mm^2; the rectangle rule, Parseval's form),
- mean power frequency = mu_1 / mu_0 (Hz),
- F50 / F95 = lowest frequency at which the cumulative (trapezoid) power reaches 50 / 95 %,
- centroidal frequency = sqrt(mu_2 / mu_0), frequency dispersion = sqrt(1 - mu_1^2/(mu_0 mu_2)).
The two axes are combined into one mean power frequency weighted by each axis's total power.
A constant axis has zero power and NaN frequencies (the ratio rule).
"""
from __future__ import annotations

import numpy as np
from scipy import signal

from rig.engine.sway import _checks
from rig.engine.sway.registry import register

PRIETO = "Prieto et al. 1996, IEEE Trans Biomed Eng 43:956"
DUARTE = "Welch as in dos Santos et al. 2017, PeerJ 5:e3626 (Duarte BMC psd)"
WELCH_SETTINGS = {"method": "welch", "window": "hann", "segment": "ceil(N/2)",
                  "overlap": "segment/2", "nfft": "segment", "detrend": "constant",
                  "band_hz": "0 to fs/2", "moments": "trapezoid", "total_power": "sum(P)*df"}
MIN_SAMPLES = 8


def welch_psd(a_mm, fs_hz) -> tuple[np.ndarray, np.ndarray]:
    """One-sided Welch PSD of one COP axis: (frequencies in Hz, density in mm^2/Hz).
    Settings in ``WELCH_SETTINGS``. Needs 8 samples."""
    a = _checks.axis(a_mm, min_n=MIN_SAMPLES)
    fs = _checks.rate(fs_hz)
    nperseg = int(np.ceil(a.shape[0] / 2))
    return signal.welch(a, fs=fs, window="hann", nperseg=nperseg, noverlap=nperseg // 2,
                        nfft=nperseg, detrend="constant")


def spectral_summary(f_hz: np.ndarray, p_mm2_hz: np.ndarray) -> dict[str, float]:
    """All per-axis spectral measures from one PSD (keys without the axis suffix).

    total_power_mm2, mean_power_frequency_hz, f50_hz, f95_hz, centroidal_frequency_hz,
    frequency_dispersion (dimensionless, 0 for a pure tone, towards 1 for broadband).
    """
    df = f_hz[1] - f_hz[0]
    total = float(p_mm2_hz.sum() * df)
    cum = np.concatenate(([0.0], np.cumsum(0.5 * (p_mm2_hz[1:] + p_mm2_hz[:-1]) * df)))
    m0 = cum[-1]
    fp = f_hz * p_mm2_hz
    m1 = float(np.trapezoid(fp, f_hz))
    m2 = float(np.trapezoid(f_hz * fp, f_hz))
    if m0 > 0:
        f50 = float(f_hz[np.argmax(cum >= 0.5 * m0)])
        f95 = float(f_hz[np.argmax(cum >= 0.95 * m0)])
        disp = float(np.sqrt(max(0.0, 1.0 - m1 * m1 / (m0 * m2)))) if m2 > 0 else float("nan")
    else:
        f50 = f95 = disp = float("nan")
    return {"total_power_mm2": total,
            "mean_power_frequency_hz": _checks.ratio(m1, m0),
            "f50_hz": f50, "f95_hz": f95,
            "centroidal_frequency_hz": float(np.sqrt(m2 / m0)) if m0 > 0 else float("nan"),
            "frequency_dispersion": disp}


def axis_spectral_measures(a_mm, fs_hz) -> dict[str, float]:
    """Spectral measures of one axis (see ``spectral_summary``). Prieto 1996; Welch settings
    in ``WELCH_SETTINGS``."""
    return spectral_summary(*welch_psd(a_mm, fs_hz))


def combined_mean_power_frequency_hz(ml: dict, ap: dict) -> float:
    """Mean power frequency of both axes: the axes' mean power frequencies weighted by their
    total power (Hz). dos Santos et al. 2017 (COPmfreq)."""
    w_ml, w_ap = ml["total_power_mm2"], ap["total_power_mm2"]
    if w_ml + w_ap == 0:
        return float("nan")
    return float((w_ml * ml["mean_power_frequency_hz"] + w_ap * ap["mean_power_frequency_hz"])
                 / (w_ml + w_ap))


def mean_power_frequency_hz(x_mm, y_mm, fs_hz) -> float:
    """Mean power frequency of the COP, both axes weighted by total power (Hz).
    dos Santos et al. 2017 (COPmfreq); Welch settings in ``WELCH_SETTINGS``."""
    x, y = _checks.xy(x_mm, y_mm, MIN_SAMPLES)
    return combined_mean_power_frequency_hz(axis_spectral_measures(x, fs_hz),
                                            axis_spectral_measures(y, fs_hz))


def spectral_measures(x_mm, y_mm, fs_hz) -> dict[str, float]:
    """Every spectral measure, keyed with its axis (e.g. ``f95_ml_hz``), plus the combined
    ``mean_power_frequency_hz``. Needs 8 samples."""
    x, y = _checks.xy(x_mm, y_mm, MIN_SAMPLES)
    out: dict[str, float] = {}
    per = {}
    for ax, a in (("ml", x), ("ap", y)):
        s = per[ax] = axis_spectral_measures(a, fs_hz)
        out[f"total_power_{ax}_mm2"] = s["total_power_mm2"]
        out[f"mean_power_frequency_{ax}_hz"] = s["mean_power_frequency_hz"]
        out[f"f50_{ax}_hz"] = s["f50_hz"]
        out[f"f95_{ax}_hz"] = s["f95_hz"]
        out[f"centroidal_frequency_{ax}_hz"] = s["centroidal_frequency_hz"]
        out[f"frequency_dispersion_{ax}"] = s["frequency_dispersion"]
    out["mean_power_frequency_hz"] = combined_mean_power_frequency_hz(per["ml"], per["ap"])
    return out


register("mean_power_frequency_hz", "Hz", "Mean power frequency (ML+AP)", DUARTE,
         mean_power_frequency_hz, "spectral")
for _ax, _AX in (("ml", "ML"), ("ap", "AP")):
    register(f"total_power_{_ax}_mm2", "mm^2", f"Total power {_AX}", PRIETO + "; " + DUARTE,
             axis_spectral_measures, "spectral")
    register(f"mean_power_frequency_{_ax}_hz", "Hz", f"Mean power frequency {_AX}",
             PRIETO + "; " + DUARTE, axis_spectral_measures, "spectral")
    register(f"f50_{_ax}_hz", "Hz", f"50 % power frequency {_AX}", PRIETO + "; " + DUARTE,
             axis_spectral_measures, "spectral")
    register(f"f95_{_ax}_hz", "Hz", f"95 % power frequency {_AX}", PRIETO + "; " + DUARTE,
             axis_spectral_measures, "spectral")
    register(f"centroidal_frequency_{_ax}_hz", "Hz", f"Centroidal frequency {_AX}",
             PRIETO + "; " + DUARTE, axis_spectral_measures, "spectral")
    register(f"frequency_dispersion_{_ax}", "1", f"Frequency dispersion {_AX}",
             PRIETO + "; " + DUARTE, axis_spectral_measures, "spectral")
