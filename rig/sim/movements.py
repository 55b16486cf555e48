"""Movements of the simulated athlete for the chain tests (issue 13), with known truths.

A script item whose stance is a movement kind (``squat``, ``lunge_left``, ``lunge_right``,
``los``, ``sts``) makes ``rig.sim.scene`` hand that segment to ``segment_force_cop`` here. Every
movement starts the same way: the athlete steps on (right foot, then left: the scene's ramp) and
stands on both feet; the movement itself starts ``move_s`` seconds after stepping on (the
timetable, ``rig.sim.timetable``, sets it to match the runner's countdown). Each returns the net
vertical force (N) and the COP (mm) from which the board model makes the four cell loads; the
truths the engine's measures must find are stated next to each model.

* squat: ``squat_reps`` repetitions; the COM goes down ``squat_depth_mm`` and back as
  (1 - cos) over ``squat_period_s`` with 1 s standing between; vertical force m(g - z'').
  The left foot's share goes from 50 % standing to ``weight_share_left`` at the depth
  (linearly with depth) and the AP COP moves ``squat_ap_mm`` forward at the depth.
* lunge_SIDE: both feet on the board for weighing, then the other foot steps back off the board
  (the test foot keeps 65 % of body weight) and at ``move_s`` the lunge: 1 s forward (80 % on the
  test foot, AP COP from 42 % to 54 % of the foot length from the heel), 2 s at the wall, 1 s
  back. With ``heel_lift=SIDE`` the first ``heel_lift_tries`` lunges of that side lift the heel
  from 1.3 s into the lunge for 1.2 s (AP COP at 78 % of the foot length: forefoot only).
* los: 8 leans, one every ``los_target_s`` from ``move_s`` (the runner's cue times), in the order
  F FR R BR B BL L FL; each starts ``los_rt_s`` after its cue, a minimum-jerk movement of
  ``los_move_s`` to ``los_reach_pct`` % of the theoretical limit (rig.engine.chain.los, body
  height ``height_cm``) with a sideways bow of ``los_curve_mm`` (sine), 0.3 s pause, 10 mm more
  over 0.8 s (so max excursion = endpoint + 10 mm), held, and back 1.5 s before the next cue.
* sts: stands, sits at ``move_s`` (feet keep ``sts_seated_bw`` of body weight), then
  ``sts_reps`` rises of ``sts_rise_s`` (force: linear from seated to 1.25 BW at 40 % of the
  rise, then a smooth fall to 1.0 BW at 80 %), 0.5 s standing, 1.2 s sitting down, 0.5 s seated;
  the left foot carries ``weight_share_left`` throughout.
"""
from __future__ import annotations

import numpy as np

from rig.engine import stance as stance_marks

from rig.units import G_M_S2
KINDS = ("squat", "lunge_left", "lunge_right", "los", "sts")
LOS_ORDER = ("F", "FR", "R", "BR", "B", "BL", "L", "FL")
LUNGE_STAND_S = 3.0          # both feet on the board (weighing), then the rear foot steps off
LUNGE_SHARE = (0.65, 0.80)   # test foot's share of body weight: start position, at the wall
LUNGE_FRACTION = (0.42, 0.54, 0.78)   # AP COP, fraction of foot length: start, wall, heel lifted
SQUAT_PAUSE_S = 1.0
STS_PHASES_S = (0.5, 1.2, 0.5)        # standing, sitting down, seated between rises
STS_PEAK_BW = 1.25
OPTION_NAMES = {
    "weight_share_left": "chain tests: left foot's share of the weight at the squat's depth and during "
                         "sit-to-stand (default 0.5)",
    "heel_lift": "left or right: that heel lifts during the knee-to-wall lunge",
    "heel_lift_tries": "how many lunges of that side lift the heel (default 1: the first)",
    "move_s": "seconds after stepping on when a movement starts (set by the timetable)",
    "height_cm": "body height (default 175) for the limits of stability",
    "squat_reps": "squats per trial (default 5)", "squat_depth_mm": "COM descent (default 350)",
    "squat_period_s": "seconds per squat (default 2.5)", "squat_ap_mm": "AP COP shift at depth (default 15)",
    "los_target_s": "seconds per target (set by the timetable)", "los_rt_s": "reaction time (default 0.45)",
    "los_move_s": "duration of the primary lean (default 1.0)", "los_reach_pct": "lean, % of the limit (default 80)",
    "los_curve_mm": "sideways bow of the lean (default 0)",
    "sts_reps": "rises (default 5)", "sts_rise_s": "duration of each rise (default 1.0)",
    "sts_seated_bw": "force on the feet while seated, x body weight (default 0.3)",
}


def is_movement(kind: str) -> bool:
    return kind in KINDS


class Options:
    """The movement options of a ``sim://`` URL, checked (messages name the option)."""

    def __init__(self, opts: dict[str, list[str]]):
        from rig.sim.board import _float_opt

        f = lambda name, d, lo, hi: _float_opt(opts, name, d, lo, hi)      # noqa: E731
        self.weight_share_left = f("weight_share_left", 0.5, 0.0, 1.0)
        side = opts.get("heel_lift", [""])[-1]
        if side not in ("", "left", "right", "none"):
            raise ValueError(f"sim://: option heel_lift={side!r}; expected left or right")
        self.heel_lift = side if side in ("left", "right") else None
        self.heel_lift_tries = int(f("heel_lift_tries", 1, 0, 100))
        self.move_s = f("move_s", 5.0, 0.5, 600.0)
        self.height_mm = 10.0 * f("height_cm", 175.0, 100.0, 230.0)
        self.squat_reps = int(f("squat_reps", 5, 1, 50))
        self.squat_depth_m = f("squat_depth_mm", 350.0, 10.0, 800.0) / 1000.0
        self.squat_period_s = f("squat_period_s", 2.5, 0.8, 20.0)
        self.squat_ap_mm = f("squat_ap_mm", 15.0, -80.0, 80.0)
        self.los_target_s = f("los_target_s", 8.0, 3.0, 60.0)
        self.los_rt_s = f("los_rt_s", 0.45, 0.05, 2.0)
        self.los_move_s = f("los_move_s", 1.0, 0.2, 3.0)
        self.los_reach_pct = f("los_reach_pct", 80.0, 5.0, 120.0)
        self.los_curve_mm = f("los_curve_mm", 0.0, -50.0, 50.0)
        self.sts_reps = int(f("sts_reps", 5, 1, 20))
        self.sts_rise_s = f("sts_rise_s", 1.0, 0.3, 5.0)
        self.sts_seated_bw = f("sts_seated_bw", 0.3, 0.21, 0.6)


def _smooth(z):
    z = np.clip(z, 0.0, 1.0)
    return z * z * (3 - 2 * z)


def min_jerk(tau):
    """Minimum-jerk position 0..1 over tau 0..1 (Flash & Hogan 1985)."""
    s = np.clip(tau, 0.0, 1.0)
    return s ** 3 * (10 - 15 * s + 6 * s * s)


def step_on(tt):
    """Each foot's share of body weight while stepping on (right first, then left)."""
    on_r = np.interp(tt, [0.0, 0.25, 0.45, 0.7], [0.0, 0.55, 0.55, 0.5])
    on_l = np.interp(tt, [0.25, 0.45, 0.7], [0.0, 0.35, 0.5])
    return on_l, on_r


# ----------------------------------------------------------------------------- the movements
def squat_profile(tau_s, o: Options):
    """(depth fraction 0..1, COM acceleration down in m/s^2) at seconds ``tau_s`` after the start."""
    cycle = o.squat_period_s + SQUAT_PAUSE_S
    k = np.floor(np.maximum(tau_s, 0) / cycle)
    ph = (tau_s - k * cycle) / o.squat_period_s
    on = (tau_s >= 0) & (k < o.squat_reps) & (ph <= 1.0)
    w = 2 * np.pi / o.squat_period_s
    frac = np.where(on, (1 - np.cos(2 * np.pi * ph)) / 2, 0.0)
    acc = np.where(on, o.squat_depth_m / 2 * w * w * np.cos(2 * np.pi * ph), 0.0)
    return frac, acc


def sts_profile(tau_s, o: Options):
    """Vertical force on the feet (x body weight) at seconds ``tau_s`` after sitting down starts."""
    seated = o.sts_seated_bw
    sit0 = STS_PHASES_S[1]
    f = np.interp(tau_s, [0.0, 0.3 * sit0, sit0], [1.0, 0.85, seated])      # the first sit
    r = o.sts_rise_s
    cycle = r + sum(STS_PHASES_S)
    start = sit0 + STS_PHASES_S[2] + 1.0                                  # seated 1.5 s first
    for k in range(o.sts_reps):
        a = start + k * cycle
        u = (tau_s - a) / r
        rise = np.where(u < 0.4, seated + (STS_PEAK_BW - seated) * u / 0.4,
                        STS_PEAK_BW - (STS_PEAK_BW - 1.0) * _smooth((u - 0.4) / 0.4))
        f = np.where((u >= 0) & (u < 1.0), rise, f)
        if k < o.sts_reps - 1:
            b = a + r + STS_PHASES_S[0]
            v = tau_s - b
            sit = np.interp(v, [0.0, 0.3 * STS_PHASES_S[1], STS_PHASES_S[1]], [1.0, 0.85, seated])
            f = np.where((tau_s >= a + r) & (v < 0), 1.0, f)
            f = np.where((v >= 0) & (v < STS_PHASES_S[1] + STS_PHASES_S[2]), sit, f)
        else:
            f = np.where(tau_s >= a + r, 1.0, f)
    return f


def sts_rise_starts(o: Options) -> list[float]:
    """Seconds after sitting down starts at which each rise begins (the truth for tests)."""
    cycle = o.sts_rise_s + sum(STS_PHASES_S)
    start = STS_PHASES_S[1] + STS_PHASES_S[2] + 1.0
    return [start + k * cycle for k in range(o.sts_reps)]


def los_path(tau_s, o: Options, limits_mm: dict[str, float]):
    """(dx, dy) COP displacement (mm) at seconds ``tau_s`` after the first cue."""
    from rig.engine.chain.los import unit

    dx = np.zeros_like(tau_s)
    dy = np.zeros_like(tau_s)
    for k, d in enumerate(LOS_ORDER):
        c = k * o.los_target_s
        a = o.los_reach_pct / 100.0 * limits_mm[d]
        s = tau_s - c - o.los_rt_s
        tau = s / o.los_move_s
        along = a * min_jerk(tau) + 10.0 * min_jerk((s - o.los_move_s - 0.3) / 0.8)
        back = 1.0 - min_jerk((tau_s - c - o.los_target_s + 1.5) / 1.0)
        along = along * back
        across = np.where((tau > 0) & (tau < 1), o.los_curve_mm * np.sin(np.pi * np.clip(tau, 0, 1)), 0.0)
        sel = (tau_s >= c) & (tau_s < c + o.los_target_s)
        u = unit(d)
        dx = np.where(sel, along * u[0] + across * u[1], dx)
        dy = np.where(sel, along * u[1] - across * u[0], dy)
    return dx, dy


def los_limits(o: Options) -> dict[str, float]:
    from rig.engine.chain.los import theoretical_limits_mm

    return theoretical_limits_mm(o.height_mm, stance_marks.FOOT_LENGTH_MM, stance_marks.FOOT_WIDTH_MM,
                                 stance_marks.BIPEDAL_HALF_SPACING_MM)


def lunge_lifts(src, i: int, seg) -> bool:
    """Whether this lunge lifts the heel: ``heel_lift`` names its side and it is one of the first
    ``heel_lift_tries`` lunges of that side in the timetable."""
    o = src.movement
    side = seg.stance[len("lunge_"):]
    if o.heel_lift != side:
        return False
    k = sum(1 for s in src.segments[:i] if s.stance == seg.stance)
    return k < o.heel_lift_tries


def segment_force_cop(src, i: int, seg, t_abs: np.ndarray, sway_xy):
    """(fz_n, x_mm, y_mm) of movement segment ``seg`` (index ``i``) at scene times ``t_abs``.

    ``sway_xy(tt)`` gives postural sway (mm) to add once the athlete stands."""
    o: Options = src.movement
    tt = t_abs - seg.start_s
    bw = src.p.mass_kg * G_M_S2
    marks = stance_marks.feet("bipedal")
    xl, xr = marks["left"].centre_x_mm, marks["right"].centre_x_mm
    on_l, on_r = step_on(tt)
    share = on_l + on_r
    with np.errstate(invalid="ignore", divide="ignore"):
        left = np.where(share > 0, on_l / share, 0.5)
    fz_bw = share.copy()
    y = np.zeros_like(tt)
    m = tt - o.move_s
    if seg.stance == "squat":
        frac, acc = squat_profile(m, o)
        fz_bw = fz_bw * (1.0 - acc / G_M_S2)
        left = np.where(m >= 0, 0.5 + (o.weight_share_left - 0.5) * frac, left)
        y = y + o.squat_ap_mm * frac
        x = xl * left + xr * (1 - left)
    elif seg.stance == "sts":
        sit = m >= 0
        fz_bw = np.where(sit, sts_profile(m, o), fz_bw)
        left = np.where(sit, o.weight_share_left, left)
        x = xl * left + xr * (1 - left)
    elif seg.stance == "los":
        dx, dy = los_path(m, o, los_limits(o))
        x = xl * left + xr * (1 - left) + np.where(m >= 0, dx, 0.0)
        y = y + np.where(m >= 0, dy, 0.0)
    else:   # lunge_left / lunge_right: only the test foot stays on the board
        side = seg.stance[len("lunge_"):]
        test_x = xl if side == "left" else xr
        L = stance_marks.FOOT_LENGTH_MM
        test0 = on_l if side == "left" else on_r
        rear0 = on_r if side == "left" else on_l
        go = _smooth((tt - LUNGE_STAND_S) / 0.5)                  # rear foot steps back off
        lunge = np.interp(m, [0.0, 1.0, 3.0, 4.0], [0.0, 1.0, 1.0, 0.0])
        test = np.where(tt < LUNGE_STAND_S, test0, 0.5 + (LUNGE_SHARE[0] - 0.5) * go
                        + (LUNGE_SHARE[1] - LUNGE_SHARE[0]) * lunge)
        rear = np.where(tt < LUNGE_STAND_S, rear0, 0.5 * (1 - go))
        frac = 0.5 + (LUNGE_FRACTION[0] - 0.5) * go + (LUNGE_FRACTION[1] - LUNGE_FRACTION[0]) * lunge
        if lunge_lifts(src, i, seg):
            lift = np.interp(m, [1.3, 1.5, 2.3, 2.5], [0.0, 1.0, 1.0, 0.0])
            frac = frac + (LUNGE_FRACTION[2] - LUNGE_FRACTION[1]) * lift
        share = test + rear
        with np.errstate(invalid="ignore", divide="ignore"):
            x = np.where(share > 0, (test * test_x + rear * (xr if side == "left" else xl)) / share, 0.0)
            y = np.where(share > 0, (test * (frac - 0.5) * L) / share, 0.0)
        fz_bw = share
    # the end: step off
    if np.isfinite(seg.duration_s):
        leave = np.interp(tt, [seg.duration_s, seg.duration_s + 0.5], [1.0, 0.0])
        fz_bw = fz_bw * leave
    sx, sy = sway_xy(tt)
    gate = _smooth((tt - 0.7) / 1.0)
    return np.maximum(bw * fz_bw, 0.0), x + gate * sx, y + gate * sy


def ready_after_step_on_s(kind: str) -> float:
    """Seconds after stepping on when the runner's stance check starts to hold (for the
    timetable): bipedal when the force first reaches half the body weight; a lunge when the rear
    foot has left the board (COP over the test foot)."""
    return LUNGE_STAND_S + 0.25 if kind.startswith("lunge") else 0.23
