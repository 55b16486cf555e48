"""Squat symmetry against squats of known depth, timing and weight share (rig.sim.movements)."""
import numpy as np
import pytest

from rig.engine.chain.common import left_share, share_error_pct
from rig.engine.chain.squat import squat_measures
from rig.sim import movements

FS = 80.0
BW = 700.0
XL, XR = -100.0, 100.0


def squat_trace(share_left=0.5, reps=5, depth_mm=350.0, period_s=2.5, ap_mm=15.0, sway_mm=0.0, seed=0):
    o = movements.Options({"squat_reps": [str(reps)], "squat_depth_mm": [str(depth_mm)],
                           "squat_period_s": [str(period_s)], "squat_ap_mm": [str(ap_mm)]})
    t = np.arange(0, 2.0 + reps * (period_s + movements.SQUAT_PAUSE_S) + 1.0, 1 / FS)
    frac, acc = movements.squat_profile(t - 2.0, o)
    fz = BW * (1 - acc / movements.G_M_S2)
    left = 0.5 + (share_left - 0.5) * frac
    rng = np.random.default_rng(seed)
    x = XL * left + XR * (1 - left) + sway_mm * rng.standard_normal(len(t))
    y = ap_mm * frac + sway_mm * rng.standard_normal(len(t))
    return t, fz, x, y


@pytest.mark.parametrize("share", [0.5, 0.6, 0.35])
def test_share_at_depth_is_the_true_share(share):
    t, fz, x, y = squat_trace(share)
    m, reps = squat_measures(t, fz, x, y, BW, XL, XR)
    assert m["squat_reps"] == 5
    # the share at the depth is the set share; the 0.3 s window around it averages depths of
    # at least 96 % of the full depth: within 0.5 points
    assert m["squat_share_left_pct"] == pytest.approx(100 * share, abs=0.5)
    assert m["squat_share_right_pct"] == pytest.approx(100 * (1 - share), abs=0.5)
    lsi = 100 * min(share, 1 - share) / max(share, 1 - share)
    assert m["squat_lsi_pct"] == pytest.approx(lsi, abs=1.0)


def test_depth_timing_and_ap_shift():
    t, fz, x, y = squat_trace(0.5, depth_mm=300.0, period_s=3.0, ap_mm=20.0)
    m, reps = squat_measures(t, fz, x, y, BW, XL, XR)
    assert len(reps) == 5
    # depth at the middle of each repetition: 2 s + k (3 + 1) + 1.5 s
    for k, r in enumerate(reps):
        assert r["depth_s"] == pytest.approx(2.0 + 4.0 * k + 1.5, abs=1 / FS)
    assert m["squat_descent_s"] == pytest.approx(1.5, abs=0.1)
    assert m["squat_depth_mm"] == pytest.approx(300.0, rel=0.05)      # double integral of (F - BW)/m
    assert m["squat_ap_shift_mm"] == pytest.approx(20.0 * 0.98, abs=0.6)


def test_share_with_sway_noise_within_the_done_when_tolerance():
    t, fz, x, y = squat_trace(0.6, sway_mm=3.0, seed=2)
    m, _ = squat_measures(t, fz, x, y, BW, XL, XR)
    assert abs(m["squat_share_left_pct"] - 60.0) < 3.0


def test_ten_mm_off_the_mark_is_five_points_at_200_mm():
    assert share_error_pct(10.0, XL, XR) == 5.0
    # the left foot's own COP 10 mm to the right, with 60 % on it: total COP moves 6 mm, share 3 points
    x = 0.6 * (XL + 10.0) + 0.4 * XR
    assert 100 * left_share(x, XL, XR) == pytest.approx(57.0)
    # all the weight on the shifted foot: the full 5 points (the bound)
    assert 100 * left_share(XL + 10.0, XL, XR) == pytest.approx(95.0)


def test_no_squat_no_repetitions():
    t = np.arange(0, 10, 1 / FS)
    m, reps = squat_measures(t, np.full(len(t), BW), np.zeros(len(t)), np.zeros(len(t)), BW, XL, XR)
    assert m["squat_reps"] == 0 and reps == [] and np.isnan(m["squat_share_left_pct"])
