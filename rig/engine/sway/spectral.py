"""Frequency-domain sway measures from a Welch power spectral density, per axis.

Estimator (stated with every result in ``WELCH_SETTINGS``): Welch, Hann window (periodic),
segment ceil(N/2) samples, 50 % overlap (N/4), nfft = segment, constant detrend per segment,
mean of the segments, one-sided density in mm^2/Hz. These are the settings of Duarte's BMC
``psd`` function, with which the Posture Data Set's published COPmfreq was computed (dos
Santos et al. 2017, PeerJ 5:e3626); the engine reproduces those values to 1e-12. The PSD is
computed here with numpy's FFT (the same arithmetic as ``scipy.signal.welch``, tested to
1e-12, without importing scipy.signal), once per trial for both axes. Estimator choices
change these measures substantially (Vieira et al. 2009, Braz J Med Biol Res 42:665):
compare only trials analysed alike. Spectral measures of 10 s trials have 0.2 Hz
resolution: use them for bipedal trials of 30 s or more (science.md §1.6).

Two bands, each under its own keys and citation:

- **Full band** 0 .. fs/2 (keys ``total_power_{ml,ap}_mm2``, ``f50_{ml,ap}_hz``, ...,
  ``mean_power_frequency_hz``): the dos Santos et al. 2017 (PDS) definition.
- **Prieto band** 0.15 .. 5 Hz (keys ``prieto_total_power_{ml,ap}_mm2``, ...,
  ``prieto_mean_power_frequency_hz``): the band of Prieto et al. 1996 as implemented in the
  Quijoux et al. 2021 reference code (Physiol Rep 9:e15067; science.md §7.2), from the same
  Welch PSD restricted to the bins with 0.15 <= f <= 5 Hz.

Definitions (Prieto et al. 1996), integrals by the trapezoid rule over the band's bins:
- total power (mm^2): Prieto band: mu_0 = integral P df by the trapezoid rule, like the
  moments; full band: sum(P) * df (the rectangle rule, Parseval's form), kept because the
  PDS's published COPmfreq weights the two axes by exactly that sum (with mu_0 as weights
  the published values are missed by 1e-3),
- mean power frequency = mu_1 / mu_0 (Hz), mu_k = integral f^k P(f) df,
- F50 / F95 = lowest frequency at which the cumulative power reaches 50 / 95 % of mu_0,
- centroidal frequency = sqrt(mu_2 / mu_0), frequency dispersion = sqrt(1 - mu_1^2/(mu_0 mu_2)).
The two axes are combined into one mean power frequency weighted by each axis's total power.
A constant axis has zero power and NaN frequencies (the ratio rule).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from rig.engine.sway import _checks
from rig.engine.sway.registry import register

PRIETO = "Prieto et al. 1996, IEEE Trans Biomed Eng 43:956"
DUARTE = "Welch as in dos Santos et al. 2017, PeerJ 5:e3626 (Duarte BMC psd), 0 to fs/2"
PRIETO_BAND = ("Prieto et al. 1996, IEEE Trans Biomed Eng 43:956, band 0.15-5 Hz as in Quijoux "
               "et al. 2021, Physiol Rep 9:e15067 (reference code); Welch as in dos Santos 2017")
WELCH_SETTINGS = {"method": "welch", "window": "hann (periodic)", "segment": "ceil(N/2)",
                  "overlap": "segment/2", "nfft": "segment", "detrend": "constant",
                  "band_hz": "0 to fs/2", "prieto_band_hz": [0.15, 5.0],
                  "moments": "trapezoid",
                  "total_power": "full band: sum(P)*df (dos Santos 2017); Prieto band: trapezoid"}
PRIETO_BAND_HZ = (0.15, 5.0)
MIN_SAMPLES = 8
_NAMES = ("total_power_{ax}_mm2", "mean_power_frequency_{ax}_hz", "f50_{ax}_hz", "f95_{ax}_hz",
          "centroidal_frequency_{ax}_hz", "frequency_dispersion_{ax}")
_SUMMARY = ("total_power_mm2", "mean_power_frequency_hz", "f50_hz", "f95_hz",
            "centroidal_frequency_hz", "frequency_dispersion")


@lru_cache(maxsize=32)
def _hann(nperseg: int) -> tuple[np.ndarray, float]:
    """The periodic Hann window of a Welch segment and its sum of squares (cached per length:
    a batch has few lengths)."""
    win = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(nperseg) / nperseg)
    win.flags.writeable = False
    return win, float((win * win).sum())


def welch_psd(a_mm, fs_hz) -> tuple[np.ndarray, np.ndarray]:
    """One-sided Welch PSD: (frequencies in Hz, density in mm^2/Hz). ``a_mm`` is one axis (n,)
    or several (k, n), all at once (then the density is (k, n_freq)). Settings in
    ``WELCH_SETTINGS``; equal to ``scipy.signal.welch(a, fs, "hann", nperseg, nperseg // 2,
    nperseg, "constant")`` with nperseg = ceil(n / 2). Needs 8 samples."""
    a = np.asarray(a_mm, dtype=np.float64)
    if a.ndim == 1:
        a = _checks.axis(a, min_n=MIN_SAMPLES)
    elif a.ndim == 2:
        for row in a:
            _checks.axis(row, min_n=MIN_SAMPLES)
    else:
        _checks.axis(a)                                   # raises: not one-dimensional
    fs = _checks.rate(fs_hz)
    n = a.shape[-1]
    nperseg = int(np.ceil(n / 2))
    step = nperseg - nperseg // 2
    nseg = (n - nperseg // 2) // step
    win, win_power = _hann(nperseg)
    # the segments as a strided view of the input (no gather); the one copy is the
    # mean-removed segment, windowed in place (7x faster than gathering, then demeaning)
    view = sliding_window_view(a, nperseg, axis=-1)[..., ::step, :][..., :nseg, :]
    mean = np.add.reduce(view, axis=-1, keepdims=True)
    mean /= nperseg
    seg = view - mean                                     # (..., nseg, nperseg)
    seg *= win
    spec = np.fft.rfft(seg, n=nperseg, axis=-1)
    p = (spec.real ** 2 + spec.imag ** 2) / (fs * win_power)
    if nperseg % 2:
        p[..., 1:] *= 2.0
    else:
        p[..., 1:-1] *= 2.0
    return np.fft.rfftfreq(nperseg, 1.0 / fs), p.mean(axis=-2)


def spectral_summary(f_hz: np.ndarray, p_mm2_hz: np.ndarray,
                     total: str = "sum") -> dict[str, float]:
    """All per-axis spectral measures from one PSD over the given bins (keys without the axis
    suffix): total_power_mm2, mean_power_frequency_hz, f50_hz, f95_hz,
    centroidal_frequency_hz, frequency_dispersion (dimensionless, 0 for a pure tone, towards
    1 for broadband). Moments by the trapezoid rule over the bins given; total power by
    ``total``: "sum" (sum P * df, dos Santos 2017) or "trapezoid" (mu_0)."""
    df = np.diff(f_hz)
    cum = np.concatenate(([0.0], np.cumsum(0.5 * (p_mm2_hz[1:] + p_mm2_hz[:-1]) * df)))
    m0 = float(cum[-1])
    fp = f_hz * p_mm2_hz
    m1 = float(np.sum(0.5 * (fp[1:] + fp[:-1]) * df))
    ffp = f_hz * fp
    m2 = float(np.sum(0.5 * (ffp[1:] + ffp[:-1]) * df))
    if m0 > 0:
        f50 = float(f_hz[np.argmax(cum >= 0.5 * m0)])
        f95 = float(f_hz[np.argmax(cum >= 0.95 * m0)])
        disp = float(np.sqrt(max(0.0, 1.0 - m1 * m1 / (m0 * m2)))) if m2 > 0 else float("nan")
    else:
        f50 = f95 = disp = float("nan")
    tp = float(p_mm2_hz.sum() * (f_hz[1] - f_hz[0])) if total == "sum" else m0
    return {"total_power_mm2": tp,
            "mean_power_frequency_hz": _checks.ratio(m1, m0),
            "f50_hz": f50, "f95_hz": f95,
            "centroidal_frequency_hz": float(np.sqrt(m2 / m0)) if m0 > 0 else float("nan"),
            "frequency_dispersion": disp}


def band(f_hz: np.ndarray, p_mm2_hz: np.ndarray, lo_hz: float, hi_hz: float):
    """The bins of a PSD with lo_hz <= f <= hi_hz (NaN measures follow if fewer than two)."""
    keep = (f_hz >= lo_hz) & (f_hz <= hi_hz)
    return f_hz[keep], p_mm2_hz[..., keep]


def axis_spectral_measures(a_mm, fs_hz) -> dict[str, float]:
    """Full-band spectral measures of one axis (see ``spectral_summary``). Prieto 1996 as
    computed by dos Santos et al. 2017; Welch settings in ``WELCH_SETTINGS``."""
    return spectral_summary(*welch_psd(a_mm, fs_hz))


def axis_prieto_band_measures(a_mm, fs_hz) -> dict[str, float]:
    """Prieto-band (0.15-5 Hz) spectral measures of one axis (see ``spectral_summary``).
    Prieto 1996; band as in Quijoux et al. 2021. NaN when fewer than two bins fall in the
    band (trials under about 13 s)."""
    f, p = band(*welch_psd(a_mm, fs_hz), *PRIETO_BAND_HZ)
    return _summary_or_nan(f, p, "trapezoid")


def _summary_or_nan(f, p, total: str) -> dict[str, float]:
    if f.shape[0] < 2:
        return {k: float("nan") for k in _SUMMARY}
    return spectral_summary(f, p, total)


def combined_mean_power_frequency_hz(ml: dict, ap: dict) -> float:
    """Mean power frequency of both axes: the axes' mean power frequencies weighted by their
    total power (Hz). dos Santos et al. 2017 (COPmfreq)."""
    w_ml, w_ap = ml["total_power_mm2"], ap["total_power_mm2"]
    if not w_ml + w_ap > 0:
        return float("nan")
    return float((w_ml * ml["mean_power_frequency_hz"] + w_ap * ap["mean_power_frequency_hz"])
                 / (w_ml + w_ap))


def mean_power_frequency_hz(x_mm, y_mm, fs_hz) -> float:
    """Mean power frequency of the COP, both axes weighted by total power (Hz).
    dos Santos et al. 2017 (COPmfreq); Welch settings in ``WELCH_SETTINGS``."""
    return spectral_measures(x_mm, y_mm, fs_hz, prieto_band=False)["mean_power_frequency_hz"]


def spectral_measures(x_mm, y_mm, fs_hz, prieto_band: bool = True) -> dict[str, float]:
    """Every spectral measure, keyed with its axis (e.g. ``f95_ml_hz``), plus the combined
    ``mean_power_frequency_hz``; with ``prieto_band`` the same over 0.15-5 Hz under
    ``prieto_``-prefixed keys. One Welch for both axes. Needs 8 samples."""
    x, y = _checks.xy(x_mm, y_mm, MIN_SAMPLES)
    f, p = welch_psd(np.vstack([x, y]), fs_hz)
    out: dict[str, float] = {}
    variants = [("", "sum", f, p)]
    if prieto_band:
        variants.append(("prieto_", "trapezoid") + band(f, p, *PRIETO_BAND_HZ))
    for prefix, total, ff, pp in variants:
        per = {}
        for i, ax in enumerate(("ml", "ap")):
            s = per[ax] = _summary_or_nan(ff, pp[i], total)
            for name, key in zip(_NAMES, _SUMMARY):
                out[prefix + name.format(ax=ax)] = s[key]
        out[prefix + "mean_power_frequency_hz"] = combined_mean_power_frequency_hz(per["ml"], per["ap"])
    return out


register("mean_power_frequency_hz", "Hz", "Mean power frequency (ML+AP)", DUARTE,
         mean_power_frequency_hz, "spectral")
register("prieto_mean_power_frequency_hz", "Hz", "Mean power frequency 0.15-5 Hz (ML+AP)",
         PRIETO_BAND, spectral_measures, "spectral")
_LABELS = ("Total power", "Mean power frequency", "50 % power frequency", "95 % power frequency",
           "Centroidal frequency", "Frequency dispersion")
_UNITS = ("mm^2", "Hz", "Hz", "Hz", "Hz", "1")
for _ax, _AX in (("ml", "ML"), ("ap", "AP")):
    for _name, _label, _unit in zip(_NAMES, _LABELS, _UNITS):
        register(_name.format(ax=_ax), _unit, f"{_label} {_AX}", PRIETO + "; " + DUARTE,
                 axis_spectral_measures, "spectral")
        register("prieto_" + _name.format(ax=_ax), _unit, f"{_label} {_AX}, 0.15-5 Hz",
                 PRIETO_BAND, axis_prieto_band_measures, "spectral")
