"""Time-to-boundary, share of the foot used, touch-downs and time in balance."""
import numpy as np
import pytest

from rig.errors import AnalysisError
from rig.engine.sway import single_leg as sl


def test_ttb_of_a_sinusoid_matches_the_closed_form():
    # x = cx + A sin(w t) inside a foot of half-width W: TTB(phi) = (W - A sin phi) / (A w cos phi)
    # is smallest at sin phi = A / W, where it equals sqrt(W^2 - A^2) / (A w)
    fs, T = 200.0, 10.0
    t = np.arange(int(fs * T)) / fs
    A, W, f = 20.0, 50.0, 0.5
    Ay, L, fy = 30.0, 125.0, 0.7
    w, wy = 2 * np.pi * f, 2 * np.pi * fy
    foot = sl.Foot(length_mm=2 * L, width_mm=2 * W, centre_x_mm=-90.0, centre_y_mm=15.0)
    x = -90.0 + A * np.sin(w * t)
    y = 15.0 + Ay * np.sin(wy * t)
    r = sl.time_to_boundary(x, y, fs, foot)
    ml = np.sqrt(W ** 2 - A ** 2) / (A * w)
    ap = np.sqrt(L ** 2 - Ay ** 2) / (Ay * wy)
    assert r["ttb_min_ml_s"] == pytest.approx(ml, rel=2e-3)
    assert r["ttb_mean_min_ml_s"] == pytest.approx(ml, rel=2e-3)      # every valley is equal
    assert r["ttb_sd_min_ml_s"] < 1e-3 * ml
    assert r["ttb_min_ap_s"] == pytest.approx(ap, rel=2e-3)
    assert r["cop_outside_foot_fraction"] == 0.0
    assert sl.ml_percent_foot_width_used(x, foot) == pytest.approx(100 * 2 * A / (2 * W), rel=1e-6)
    assert sl.ap_percent_foot_length_used(y, foot) == pytest.approx(100 * 2 * Ay / (2 * L), rel=1e-4)


def test_ttb_shrinks_when_the_foot_is_placed_off_the_sway():
    fs = 100.0
    t = np.arange(1000) / fs
    x, y = 5 * np.sin(2 * np.pi * 0.5 * t), 5 * np.sin(2 * np.pi * 0.3 * t)
    centred = sl.time_to_boundary(x, y, fs, sl.Foot(250, 100, 0, 0))
    shifted = sl.time_to_boundary(x, y, fs, sl.Foot(250, 100, 40, 0))   # COP near the medial edge
    assert shifted["ttb_min_ml_s"] < centred["ttb_min_ml_s"] / 3
    out = sl.time_to_boundary(x, y, fs, sl.Foot(250, 100, 48, 0))      # partly outside
    assert 0 < out["cop_outside_foot_fraction"] < 0.5 and out["ttb_min_ml_s"] == 0.0


def test_ttb_still_cop_has_no_minima():
    x = np.zeros(100)
    r = sl.time_to_boundary(x, x, 100.0, sl.Foot(250, 100, 0, 0))
    assert np.isnan(r["ttb_min_ml_s"]) and np.isnan(r["ttb_sd_min_ap_s"])
    with pytest.raises(AnalysisError, match="positive"):
        sl.Foot(0, 100, 0, 0)


def test_touchdowns_from_force_drops_and_cop_jumps():
    fs, bw = 100.0, 700.0
    t = np.arange(3000) / fs                      # 30 s single-leg trial
    fz = np.full(t.size, bw)
    x = 2 * np.sin(2 * np.pi * 0.7 * t)
    y = 3 * np.sin(2 * np.pi * 0.4 * t)
    fz[(t >= 8.0) & (t < 8.6)] = 350.0            # free foot takes half the weight off the board
    fz[(t >= 8.7) & (t < 8.8)] = 500.0            # within merge_s: the same event
    fz[(t >= 20.0) & (t < 20.3)] = 420.0
    x[t >= 25.0] += 80.0                          # the free foot touches the board: COP jumps
    r = sl.detect_touchdowns(fz, x, y, fs, bw)
    assert r.count == 3
    np.testing.assert_allclose(r.onsets_s, [8.0, 20.0, 24.96], atol=0.05)
    assert r.time_in_balance_s == pytest.approx(8.0)
    quiet = sl.detect_touchdowns(np.full(2400, bw), x[:2400], y[:2400], fs, bw)
    assert quiet.count == 0 and quiet.time_in_balance_s == pytest.approx(24.0)


def test_touchdowns_refuse_bad_inputs():
    with pytest.raises(AnalysisError, match="body weight"):
        sl.detect_touchdowns(np.ones(10), np.zeros(10), np.zeros(10), 100.0, 0.0)
    with pytest.raises(AnalysisError, match="fz_n has 9"):
        sl.detect_touchdowns(np.ones(9), np.zeros(10), np.zeros(10), 100.0, 700.0)


def _sinusoid_on_a_foot(fs, mark_offset_mm=0.0, T=10.0):
    # x = cx + A sin(w t): TTB minimum = sqrt(W^2 - A^2) / (A w) with the foot centred on cx
    t = np.arange(int(fs * T)) / fs
    A, W, f = 20.0, 50.0, 0.5
    Ay, L, fy = 30.0, 125.0, 0.7
    x = -90.0 + A * np.sin(2 * np.pi * f * t)
    y = 15.0 + Ay * np.sin(2 * np.pi * fy * t)
    foot = sl.Foot(2 * L, 2 * W, -90.0 + mark_offset_mm, 15.0)        # the printed mark
    ml = np.sqrt(W ** 2 - A ** 2) / (A * 2 * np.pi * f)
    ap = np.sqrt(L ** 2 - Ay ** 2) / (Ay * 2 * np.pi * fy)
    return x, y, foot, ml, ap


def test_ttb_at_cop_ignores_where_the_mark_was_printed():
    fs = 200.0
    x, y, foot, ml, ap = _sinusoid_on_a_foot(fs, mark_offset_mm=15.0)
    on_mark = sl.time_to_boundary(x, y, fs, foot)
    at_cop = sl.time_to_boundary_at_cop(x, y, fs, foot)
    assert on_mark["ttb_min_ml_s"] < 0.7 * ml                   # the mark 15 mm off: 35 % lower
    # the athlete's foot centred on the mean COP: the closed form, wherever the mark was
    assert at_cop["ttb_min_ml_at_cop_s"] == pytest.approx(ml, rel=2e-3)
    assert at_cop["ttb_mean_min_ml_at_cop_s"] == pytest.approx(ml, rel=2e-3)
    assert at_cop["ttb_min_ap_at_cop_s"] == pytest.approx(ap, rel=2e-3)
    assert set(at_cop) == {f"ttb_{s}_{a}_at_cop_s" for s in ("min", "mean_min", "sd_min") for a in ("ml", "ap")}
    x2, y2, foot2, _, _ = _sinusoid_on_a_foot(fs, mark_offset_mm=-8.0)
    assert sl.time_to_boundary_at_cop(x2, y2, fs, foot2) == at_cop
    assert sl.time_to_boundary(x, y, fs, foot, placement="cop")["ttb_min_ml_s"] == at_cop["ttb_min_ml_at_cop_s"]
    with pytest.raises(ValueError, match="placement"):
        sl.time_to_boundary(x, y, fs, foot, placement="heel")


def test_ttb_at_the_literature_rate_of_50_hz():
    # the same sinusoidal sway recorded at 1 kHz and at 50 Hz gives the 50 Hz keys alike, and
    # near the closed form (the 20 ms window average shrinks a 0.5 Hz sway by sinc(0.01))
    x, y, foot, ml, ap = _sinusoid_on_a_foot(1000.0, mark_offset_mm=10.0)
    hi = sl.time_to_boundary_50hz(x, y, 1000.0, foot)
    x50, y50, _, _, _ = _sinusoid_on_a_foot(50.0, mark_offset_mm=10.0)
    lo = sl.time_to_boundary_50hz(x50, y50, 50.0, foot)
    assert hi["ttb_min_ml_50hz_s"] == pytest.approx(ml, rel=0.01)
    assert hi["ttb_min_ap_50hz_s"] == pytest.approx(ap, rel=0.01)
    assert lo["ttb_mean_min_ml_50hz_s"] == pytest.approx(hi["ttb_mean_min_ml_50hz_s"], rel=0.01)
