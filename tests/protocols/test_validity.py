"""Validity rules on synthetic trials whose events are known exactly."""
import numpy as np
import pytest

from rig.session.protocols import load_protocol
from rig.engine.stance import feet
from rig.engine.validity import bess_error_candidates, check_trial

G = 9.80665
FS = 100.0
BW = 70 * G


def cond(name="single_left_eyes_closed", protocol="cai-screen"):
    p = load_protocol(protocol)
    return p, next(c for c in p.conditions if c.name == name)


def trial(stance="single_left", seconds=10.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(0, seconds, 1 / FS)
    cx = feet(stance)[next(iter(feet(stance)))].centre_x_mm if stance.startswith("single") else 0.0
    x = cx + 4 * np.sin(2 * np.pi * 0.7 * t) + rng.normal(0, 0.3, t.size)
    y = 5 * np.sin(2 * np.pi * 0.4 * t) + rng.normal(0, 0.3, t.size)
    fz = BW + rng.normal(0, 2, t.size)
    return t, fz, x, y


def check(t, fz, x, y, name="single_left_eyes_closed", protocol="cai-screen", bw=BW, lost=0.0):
    p, c = cond(name, protocol)
    return check_trial(t, fz, x, y, condition=c, rules=p.validity, body_weight_n=bw,
                       feet=feet(c.stance), lost_fraction=lost)


def test_a_clean_trial_passes():
    assert check(*trial()) == []
    assert check(*trial("bipedal", 30), name="bipedal_eyes_open", protocol="romberg") == []


def test_stepped_off_with_its_time():
    t, fz, x, y = trial()
    off = t >= 6.2
    fz[off], x[off], y[off] = 3.0, np.nan, np.nan
    r = check(t, fz, x, y)
    assert len(r) >= 1 and r[0].startswith("stepped off the board at 6.2 s")


def test_touchdowns_counted_with_times():
    t, fz, x, y = trial()
    for t0 in (3.0, 7.0):
        w = (t >= t0) & (t < t0 + 0.5)
        x[w] += 80.0                 # 40 % of the weight on the other foot, 200 mm away
    r = check(t, fz, x, y)
    assert r == ["the lifted foot touched down 2 times (3.0 s, 7.0 s)"]


def test_weight_that_does_not_match_the_body_mass():
    t, fz, x, y = trial()
    r = check(t, fz * 0.85, x, y)          # 15 % lighter than entered
    assert len(r) == 1 and "does not match the body mass 70.0 kg" in r[0]
    assert check(t, fz * 0.95, x, y) == []  # within 10 %


def test_cop_outside_the_foot_marks():
    t, fz, x, y = trial()
    x = x + 80.0                 # the athlete stands 80 mm beside the mark
    r = check(t, fz, x, y)
    assert len(r) == 1 and r[0].startswith("COP outside the foot marks for 100% of the trial")


def test_lost_frames():
    t, fz, x, y = trial()
    r = check(t, fz, x, y, lost=0.032)
    assert r == ["3.2% of frames lost on the link (limit 1.0%)"]


def test_bess_touchdowns_are_error_candidates_not_reasons():
    t, fz, x, y = trial("single_left", 20)
    w = (t >= 5.0) & (t < 5.5)
    x[w] += 80.0
    assert check(t, fz, x, y, name="single_firm", protocol="bess") == []
    p, c = cond("single_firm", "bess")
    cands = bess_error_candidates(t, fz, x, y, condition=c, body_weight_n=BW)
    assert [e["kind"] for e in cands] == ["step or touch-down"]
    assert cands[0]["t_s"] == pytest.approx(5.0, abs=0.06)
    x2 = x.copy()
    x2[t >= 12] += 150.0          # leaves the position for 8 s
    kinds = [e["kind"] for e in bess_error_candidates(t, fz, x2, y, condition=c, body_weight_n=BW)]
    assert "out of the test position" in kinds
