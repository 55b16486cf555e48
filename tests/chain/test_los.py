"""Limits of stability against minimum-jerk leans of known timing, size and path."""
import math

import numpy as np
import pytest
from scipy.optimize import brentq

from rig.engine.chain import los
from rig.sim import movements

FS = 80.0


def lean_trace(direction="F", a_mm=100.0, rt_s=0.4, move_s=1.0, curve_mm=0.0, cue=2.0):
    t = np.arange(0, cue + 6, 1 / FS)
    tau = (t - cue - rt_s) / move_s
    along = a_mm * movements.min_jerk(tau) + 10.0 * movements.min_jerk((t - cue - rt_s - move_s - 0.3) / 0.8)
    across = np.where((tau > 0) & (tau < 1), curve_mm * np.sin(np.pi * np.clip(tau, 0, 1)), 0.0)
    u = los.unit(direction)
    return t, along * u[0] + across * u[1], along * u[1] - across * u[0]


def onset_fraction():
    speed = lambda s, f: 30 * s * s * (1 - s) ** 2 - f * 1.875      # noqa: E731
    s10, s50 = brentq(speed, 0, 0.5, args=(0.1,)), brentq(speed, 0, 0.5, args=(0.5,))
    return s10 - (s50 - s10) * 0.1 / 0.4


def test_theoretical_limits_from_height_and_feet():
    lim = los.theoretical_limits_mm(1750, 250, 95, 100)
    h = 0.5527 * 1750
    assert lim["F"] == pytest.approx(125.0)                       # capped at the toes
    assert lim["B"] == pytest.approx(h * math.tan(math.radians(4.5)))
    assert lim["R"] == pytest.approx(h * math.tan(math.radians(8.0))) == lim["L"]
    assert lim["FR"] == pytest.approx(1 / math.sqrt(0.5 / lim["R"] ** 2 + 0.5 / 125.0 ** 2))
    small = los.theoretical_limits_mm(1500, 220, 80, 100)
    assert small["R"] == pytest.approx(0.5527 * 1500 * math.tan(math.radians(8.0)))


@pytest.mark.parametrize("direction", ["F", "BR", "L"])
def test_reaction_velocity_and_excursions(direction):
    a, rt, T = 100.0, 0.4, 1.0
    t, x, y = lean_trace(direction, a, rt, T)
    m = los.lean_measures(t, x, y, direction, 2.0, 8.0, limit_mm=125.0)
    # onset: the minimum-jerk speed 30 s^2 (1 - s)^2 / T rising from 10 % to 50 % of its peak
    # 1.875 / T, extrapolated back to zero
    assert m["rt_s"] == pytest.approx(rt + onset_fraction() * T, abs=0.5 / FS)
    assert m["epe_mm"] == pytest.approx(a, rel=0.01)
    assert m["mxe_mm"] == pytest.approx(a + 10.0, rel=0.01)
    assert m["epe_pct"] == pytest.approx(100 * a / 125.0, rel=0.01)
    s5 = brentq(lambda s: movements.min_jerk(s) - 0.05, 0, 1)
    s95 = brentq(lambda s: movements.min_jerk(s) - 0.95, 0, 1)
    assert m["mvl_mm_s"] == pytest.approx(0.9 * a / ((s95 - s5) * T), rel=0.03)
    assert m["dcl_pct"] == pytest.approx(100.0, abs=0.5)


def test_directional_control_of_a_bowed_path():
    a, c = 100.0, 10.0
    t, x, y = lean_trace("R", a, curve_mm=c)
    m = los.lean_measures(t, x, y, "R", 2.0, 8.0, limit_mm=130.0)
    # from onset to end (5 % of peak speed, at s_on and 1 - s_on of the movement) the path goes
    # a (mj(1 - s_on) - mj(s_on)) along and the bow c sin(pi s) out and back across it
    s_on = brentq(lambda s: 30 * s * s * (1 - s) ** 2 - 0.05 * 1.875, 0, 0.5)
    along = a * (movements.min_jerk(1 - s_on) - movements.min_jerk(s_on))
    across = 2 * c * (1 - math.sin(math.pi * s_on))
    assert m["dcl_pct"] == pytest.approx(100 * (along - across) / along, abs=1.0)
    straight = los.lean_measures(*lean_trace("R", a), "R", 2.0, 8.0, limit_mm=130.0)
    assert straight["dcl_pct"] - m["dcl_pct"] > 10.0


def test_all_directions_and_means():
    lim = los.theoretical_limits_mm(1750, 250, 95, 100)
    o = movements.Options({"los_target_s": ["6"], "los_reach_pct": ["80"]})
    t = np.arange(0, 2 + 8 * 6 + 1, 1 / FS)
    dx, dy = movements.los_path(t - 2.0, o, lim)
    cues = [(d, 2.0 + 6 * k) for k, d in enumerate(movements.LOS_ORDER)]
    m = los.los_measures(t, dx, dy, cues, 6.0, lim)
    for d in los.DIRECTIONS:
        assert m[f"los_epe_pct_{d.lower()}"] == pytest.approx(80.0, abs=1.0)
    assert m["los_epe_pct"] == pytest.approx(80.0, abs=1.0)
    assert m["los_rt_s"] == pytest.approx(0.45 + onset_fraction() * 1.0, abs=0.5 / FS)
