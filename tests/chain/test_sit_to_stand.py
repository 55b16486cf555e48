"""Sit-to-stand timing and force features against the simulated rise profile (known truths)."""
import numpy as np
import pytest
from scipy.optimize import brentq

from rig.engine.chain.sit_to_stand import sit_to_stand_measures
from rig.sim import movements

FS = 80.0
BW = 800.0


def truth(rise_s, seated):
    """Onset (10 % of seated -> BW on the linear ramp) and standing (force back within 5 % of BW on
    the smooth fall from 1.25 BW at 40 % to 1.0 at 80 % of the rise), as fractions of the rise."""
    u_on = 0.4 * 0.1 * (1 - seated) / (movements.STS_PEAK_BW - seated)
    v = brentq(lambda v: 0.25 * (1 - (3 * v * v - 2 * v ** 3)) - 0.05, 0, 1)
    return u_on * rise_s, (0.4 + 0.4 * v) * rise_s


@pytest.mark.parametrize("rise_s,seated,share", [(1.0, 0.3, 0.5), (1.6, 0.25, 0.62)])
def test_rises_total_time_and_force_features(rise_s, seated, share):
    o = movements.Options({"sts_rise_s": [str(rise_s)], "sts_seated_bw": [str(seated)]})
    t = np.arange(0, 30, 1 / FS)
    fz = BW * movements.sts_profile(t - 2.0, o)
    x = np.full(len(t), -100 * share + 100 * (1 - share))
    m, rs = sit_to_stand_measures(t, fz, x, BW, -100, 100)
    on, stand = truth(rise_s, seated)
    starts = [2.0 + s for s in movements.sts_rise_starts(o)]
    assert m["sts_rises"] == 5
    for r, s in zip(rs, starts):
        assert r["onset_s"] == pytest.approx(s + on, abs=1 / FS)
        assert r["stand_s"] == pytest.approx(s + stand, abs=1.5 / FS)
    assert m["sts_rise_time_s"] == pytest.approx(stand - on, abs=1.5 / FS)
    assert m["sts_total_time_s"] == pytest.approx(starts[-1] + stand - starts[0] - on, abs=1.5 / FS)
    assert m["sts_peak_force_bw"] == pytest.approx(movements.STS_PEAK_BW, abs=0.02)
    assert m["sts_rfd_bw_s"] == pytest.approx((movements.STS_PEAK_BW - seated) / (0.4 * rise_s), rel=0.08)
    assert m["sts_seated_force_bw"] == pytest.approx(seated, abs=0.01)
    assert m["sts_rise_share_left_pct"] == pytest.approx(100 * share, abs=0.01)
    assert m["sts_rise_asymmetry_pct"] == pytest.approx(200 * share - 100, abs=0.02)


def test_fewer_rises_no_total_time():
    o = movements.Options({"sts_reps": ["3"]})
    t = np.arange(0, 20, 1 / FS)
    m, _ = sit_to_stand_measures(t, BW * movements.sts_profile(t - 2.0, o), np.zeros(len(t)), BW, -100, 100)
    assert m["sts_rises"] == 3 and np.isnan(m["sts_total_time_s"])
