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
