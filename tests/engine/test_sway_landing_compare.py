"""Landing measures (VSI, vertical TTS) and trial comparisons (Romberg, asymmetry)."""
import numpy as np
import pytest

from rig.errors import AnalysisError
from rig.engine.sway import compare, landing


def hop(fs=1000.0, bw=700.0, peak_bw=3.0, impact_s=0.1, flight_s=0.3, after_s=8.0):
    n_f, n_i = int(flight_s * fs), int(impact_s * fs)
    n_a = int(after_s * fs)
    return np.concatenate([np.zeros(n_f), np.full(n_i, peak_bw * bw), np.full(n_a, bw)])


def test_vsi_and_tts_of_a_square_impact():
    fs, bw = 1000.0, 700.0
    fz = hop(fs, bw)
    r = landing.landing_measures(fz, fs, bw)
    assert r["initial_contact_s"] == pytest.approx(0.3)
    # 0.1 s at 3 BW within a 3 s window: sqrt(0.1 * (2 BW)^2 / 3) / BW
    assert r["vertical_stability_index"] == pytest.approx(np.sqrt(0.4 / 3), rel=1e-9)
    # sequential average: 3BW for 0.1 s then BW; it settles within mean +/- 0.25 SD when
    # its excess 0.2 BW s / t falls to the band
    win = fz[300:]                               # initial contact to the end (< 20 s)
    band = 0.25 * win.std()
    t = np.arange(1, win.size + 1) / fs
    seq = np.cumsum(win) / np.arange(1, win.size + 1)
    expected = t[np.flatnonzero(np.abs(seq - win.mean()) > band)[-1]]
    assert r["time_to_stabilization_vertical_s"] == pytest.approx(expected)
    assert 0.5 < r["time_to_stabilization_vertical_s"] < 3.0


def test_quiet_landing_is_stable_at_once():
    fz = hop(peak_bw=1.0)
    r = landing.landing_measures(fz, 1000.0, 700.0)
    assert r["vertical_stability_index"] == 0.0 and r["time_to_stabilization_vertical_s"] == 0.0


def test_landing_refuses_low_rates_and_missing_landings():
    with pytest.raises(AnalysisError, match=r"at least 500 Hz.*93\.7 Hz"):
        landing.landing_measures(hop(fs=93.7), 93.7, 700.0)
    with pytest.raises(AnalysisError, match="no landing found"):
        landing.landing_measures(np.full(5000, 700.0), 1000.0, 700.0)
    with pytest.raises(AnalysisError, match="the VSI needs 3 s"):
        landing.landing_measures(hop(after_s=1.0), 1000.0, 700.0)


def test_romberg_and_asymmetry():
    assert compare.romberg_quotient_pct(30.0, 15.0) == 200.0
    assert np.isnan(compare.romberg_quotient_pct(3.0, 0.0))
    assert compare.asymmetry_index_pct(12.0, 8.0) == pytest.approx(40.0)
    assert compare.asymmetry_index_pct(8.0, 12.0) == pytest.approx(-40.0)
    assert np.isnan(compare.asymmetry_index_pct(0.0, 0.0))
    ec = {"mean_velocity_mm_s": 20.0, "ellipse95_area_mm2": 300.0, "fs_hz": 100.0}
    eo = {"mean_velocity_mm_s": 10.0, "ellipse95_area_mm2": 200.0}
    assert compare.romberg(ec, eo) == {"mean_velocity_mm_s_romberg_pct": 200.0,
                                       "ellipse95_area_mm2_romberg_pct": 150.0}
    assert compare.asymmetry(ec, eo)["mean_velocity_mm_s_asymmetry_pct"] == pytest.approx(200 / 3)
