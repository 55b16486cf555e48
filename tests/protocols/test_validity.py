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
    t, fz, x, y = trial("bipedal", 30)
    off = t >= 6.2
    fz[off], x[off], y[off] = 3.0, np.nan, np.nan
    r = check(t, fz, x, y, name="bipedal_eyes_open", protocol="romberg")
    assert len(r) >= 1 and r[0].startswith("stepped off the board at 6.2 s")


def touch(t, x, onsets, seconds=0.5):
    for t0 in onsets:
        w = (t >= t0) & (t < t0 + seconds)
        x[w] += 80.0                 # 40 % of the weight on the other foot, 200 mm away
    return x


def test_touchdowns_fail_the_trial_only_where_the_protocol_says_so():
    import dataclasses

    t, fz, x, y = trial()
    x = touch(t, x, (3.0, 7.0))
    p, c = cond()
    rules = dataclasses.replace(p.validity, max_touchdowns=0)
    r = check_trial(t, fz, x, y, condition=c, rules=rules, body_weight_n=BW, feet=feet(c.stance))
    assert r == ["the lifted foot touched down 2 times (3.0 s, 7.0 s)"]


def test_touchdowns_are_counted_and_the_trial_kept():
    """cai-screen counts foot-lifts: two touch-downs leave a quiet stretch to measure."""
    from rig.engine import footlift

    t, fz, x, y = trial()
    x = touch(t, x, (2.0, 4.0))
    assert check(t, fz, x, y) == []
    fl = footlift.find(t, fz, x, y, BW)
    assert fl.count == 2
    assert [a for a, _ in fl.events_s] == pytest.approx([2.0, 4.0], abs=0.06)
    assert fl.time_in_balance_s == pytest.approx(2.0, abs=0.06)
    assert fl.quiet_s[0] == pytest.approx(4.5 + footlift.QUIET_MARGIN_S, abs=0.1) and fl.quiet_s[1] == pytest.approx(t[-1])
    d = fl.describe()
    assert d.startswith("2 foot-lift/touch-down errors at ") and d.endswith("(please confirm)")
    assert [float(v) for v in d.split(" at ")[1].split(" (")[0].replace(" s", "").split(", ")] == \
        pytest.approx([2.0, 4.0], abs=0.11)


def test_stepping_off_a_single_leg_trial_is_counted_unless_nothing_is_left_to_measure():
    t, fz, x, y = trial()
    late = t >= 6.2
    fz[late], x[late], y[late] = 3.0, np.nan, np.nan
    assert check(t, fz, x, y) == []                       # 5.7 s of quiet stance before it
    t, fz, x, y = trial()
    early = t >= 2.0
    fz[early], x[early], y[early] = 3.0, np.nan, np.nan
    r = check(t, fz, x, y)
    assert r[0].startswith("cannot be measured: the longest stretch without a foot-lift is 1.5 s")
    assert "stepped off the board at 2.0 s" in r[1]


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
