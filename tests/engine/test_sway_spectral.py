"""Welch spectral measures against tones and noise."""
import numpy as np
import pytest

from rig.errors import AnalysisError
from rig.engine.sway import spectral


def tone(f, fs=100.0, n=6000, amp=3.0):
    return amp * np.sin(2 * np.pi * f * np.arange(n) / fs)


def test_pure_tone_on_a_bin():
    fs, n = 100.0, 6000
    f0 = 1.0                                   # bin 30 of a 3000-sample segment (df = 1/30 Hz)
    s = spectral.axis_spectral_measures(tone(f0), fs)
    df = fs / 3000
    assert s["mean_power_frequency_hz"] == pytest.approx(f0, abs=1e-9)   # symmetric leakage
    assert abs(s["f50_hz"] - f0) <= df + 1e-12
    assert 0 <= s["f95_hz"] - f0 <= 2 * df + 1e-12     # Hann leakage + trapezoid: 2 bins
    assert s["centroidal_frequency_hz"] == pytest.approx(f0, rel=1e-3)
    assert s["frequency_dispersion"] < 0.05
    # total power = variance of the tone (A^2 / 2), within the Hann window's leakage
    assert s["total_power_mm2"] == pytest.approx(3.0 ** 2 / 2, rel=0.01)


def test_two_axes_weighted_by_power():
    fs = 100.0
    ml, ap = tone(0.5, amp=1.0), tone(2.0, amp=2.0)              # power 0.5 and 2.0
    combined = spectral.mean_power_frequency_hz(ml, ap, fs)
    assert combined == pytest.approx((0.5 * 0.5 + 2.0 * 2.0) / 2.5, rel=1e-3)
    all_ = spectral.spectral_measures(ml, ap, fs)
    assert all_["mean_power_frequency_ml_hz"] == pytest.approx(0.5, abs=1e-6)
    assert all_["mean_power_frequency_ap_hz"] == pytest.approx(2.0, abs=1e-6)
    assert all_["mean_power_frequency_hz"] == combined


def test_white_noise_spreads_over_the_band(rng):
    fs = 100.0
    w = rng.normal(size=60000)
    s = spectral.axis_spectral_measures(w, fs)
    assert s["mean_power_frequency_hz"] == pytest.approx(fs / 4, rel=0.02)
    assert s["f50_hz"] == pytest.approx(fs / 4, rel=0.03)
    assert s["f95_hz"] == pytest.approx(0.95 * fs / 2, rel=0.02)
    assert s["centroidal_frequency_hz"] == pytest.approx(fs / 2 / np.sqrt(3), rel=0.02)
    assert s["total_power_mm2"] == pytest.approx(1.0, rel=0.03)


def test_constant_and_short():
    s = spectral.axis_spectral_measures(np.full(100, 2.0), 100.0)
    assert s["total_power_mm2"] == 0.0
    assert all(np.isnan(s[k]) for k in ("mean_power_frequency_hz", "f50_hz", "f95_hz",
                                         "centroidal_frequency_hz", "frequency_dispersion"))
    with pytest.raises(AnalysisError, match="at least 8"):
        spectral.welch_psd(np.arange(5.0), 100.0)


def test_welch_equals_scipy_signal_welch(rng):
    from scipy import signal
    for n in (8, 9, 1001, 6000):
        a = np.cumsum(rng.normal(size=(2, n)), axis=1)
        seg = int(np.ceil(n / 2))
        f0, p0 = signal.welch(a, fs=100.0, window="hann", nperseg=seg, noverlap=seg // 2,
                              nfft=seg, detrend="constant")
        f1, p1 = spectral.welch_psd(a, 100.0)
        np.testing.assert_array_equal(f1, f0)
        np.testing.assert_allclose(p1, p0, rtol=1e-12, atol=1e-12 * p0.max())
        f2, p2 = spectral.welch_psd(a[1], 100.0)          # one axis alone: the same numbers
        np.testing.assert_allclose(p2, p1[1], rtol=1e-12, atol=1e-12 * p0.max())


def test_prieto_band_keeps_0_15_to_5_hz_only():
    fs, n = 100.0, 6000                     # 60 s: segment 30 s, bins every 1/30 Hz
    slow, mid, fast = tone(0.1, amp=4.0), tone(1.0, amp=3.0), tone(8.0, amp=2.0)
    m = spectral.spectral_measures(slow + mid + fast, mid, fs)
    # the band sees only the 1 Hz tone on ML (0.1 Hz leaks to 0.067-0.133 Hz, 8 Hz is above 5)
    assert m["prieto_mean_power_frequency_ml_hz"] == pytest.approx(1.0, abs=1e-6)
    assert m["prieto_total_power_ml_mm2"] == pytest.approx(3.0 ** 2 / 2, rel=0.01)
    assert m["prieto_f50_ml_hz"] == pytest.approx(1.0, abs=1 / 30 + 1e-12)
    assert m["prieto_frequency_dispersion_ml"] < 0.05
    # the full band (dos Santos 2017) sees all three: total power 8 + 4.5 + 2
    assert m["total_power_ml_mm2"] == pytest.approx(8.0 + 4.5 + 2.0, rel=0.01)
    assert m["mean_power_frequency_ml_hz"] == pytest.approx((8 * 0.1 + 4.5 * 1 + 2 * 8) / 14.5, rel=0.01)
    # AP is the 1 Hz tone alone: both bands agree; the combined key weights by total power
    assert m["prieto_mean_power_frequency_ap_hz"] == pytest.approx(1.0, abs=1e-6)
    assert m["prieto_mean_power_frequency_hz"] == pytest.approx(1.0, abs=1e-6)
    # Prieto-band total power is mu_0, the integral the moments use (trapezoid rule)
    f, p = spectral.band(*spectral.welch_psd(mid, fs), 0.15, 5.0)
    assert m["prieto_total_power_ap_mm2"] == pytest.approx(np.trapezoid(p, f), rel=1e-12)


def test_prieto_band_undefined_on_short_trials():
    m = spectral.spectral_measures(tone(1.0, n=400), tone(1.0, n=400), 100.0)   # 4 s: df 0.5 Hz
    assert np.isfinite(m["f50_ml_hz"])
    # bins 0.5 .. 5 Hz exist (10 of them): defined; at 1.5 s only 0.67 Hz steps: still 7 bins
    assert np.isfinite(m["prieto_f50_ml_hz"])
    m = spectral.spectral_measures(tone(1.0, n=24), tone(1.0, n=24), 100.0)     # df 8.3 Hz
    assert np.isnan(m["prieto_total_power_ml_mm2"]) and np.isnan(m["prieto_mean_power_frequency_hz"])
