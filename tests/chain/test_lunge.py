"""Knee-to-wall checks against lunges with a known heel lift (rig.sim.movements' profile)."""
import numpy as np
import pytest

from rig.engine.chain.lunge import MDC_CM, asymmetry, best_valid_cm, heel_lifts, lunge_measures

FS = 80.0
BW = 700.0
L = 250.0


def lunge(lift_from=None, lift_to=None, share=0.8):
    t = np.arange(0, 6, 1 / FS)
    frac = np.interp(t, [0, 1, 2, 4, 5], [0.42, 0.42, 0.54, 0.54, 0.42])
    if lift_from is not None:
        frac = frac + 0.24 * np.interp(t, [lift_from, lift_from + 0.2, lift_to - 0.2, lift_to], [0, 1, 1, 0])
    fz = BW * np.interp(t, [0, 1, 2, 4, 5], [0.65, 0.65, share, share, 0.65])
    return t, fz, (frac - 0.5) * L


def test_heel_down_no_lift():
    t, fz, y = lunge()
    m, ev = lunge_measures(t, fz, y, BW, 0.0, L)
    assert ev == [] and m["lunge_heel_lifts"] == 0
    assert m["lunge_max_heel_fraction"] == pytest.approx(0.54, abs=0.005)


def test_heel_lift_found_with_its_time():
    t, fz, y = lunge(2.5, 3.5)
    m, ev = lunge_measures(t, fz, y, BW, 0.0, L)
    assert len(ev) == 1
    # 0.54 -> 0.78 over 0.2 s crosses 0.65 at 2.5 + 0.2 * 0.11 / 0.24 s
    assert ev[0]["t_s"] == pytest.approx(2.5 + 0.2 * 0.11 / 0.24, abs=1.5 / FS)
    assert ev[0]["duration_s"] == pytest.approx(1.0 - 2 * 0.2 * 0.11 / 0.24, abs=2 / FS)
    assert ev[0]["peak_fraction"] == pytest.approx(0.78, abs=0.01)


def test_short_lift_below_min_duration_is_ignored():
    t, fz, y = lunge(2.5, 2.75)
    assert heel_lifts(t, y, fz, 0.0, L, min_s=0.2) == []


def test_weight_on_test_foot():
    t, fz, y = lunge(share=0.8)
    m, _ = lunge_measures(t, fz, y, BW, 0.0, L)
    assert m["lunge_test_foot_share_pct"] == pytest.approx(80.0, abs=2.0)
    t, fz, y = lunge(share=0.4)
    m, _ = lunge_measures(t, fz, y, BW, 0.0, L)
    assert m["lunge_test_foot_share_pct"] < 50.0


def test_best_valid_distance_and_mdc():
    assert best_valid_cm([10.0, None, 11.5, float("nan"), 11.0]) == 11.5
    assert np.isnan(best_valid_cm([]))
    assert MDC_CM == 1.9
    a = asymmetry(9.0, 11.5)
    assert a["difference_cm"] == pytest.approx(-2.5) and a["beyond_mdc"] and a["shorter_side"] == "left"
    b = asymmetry(11.0, 12.0)
    assert not b["beyond_mdc"]
