"""Movement trials of the chain tests (issue 13): squat, knee-to-wall lunge, limits of stability,
sit-to-stand, run by the runner (``Runner.run_trial`` hands conditions of these kinds here).

A movement trial reuses the runner's steps: weigh (standing on both feet: a lunge keeps the other
foot on the floor), wait for the stance, count down, record (journaled), then analyses the
window with ``rig.engine.chain`` and files the trial with its measures, the events behind them
(repetitions, heel lifts, cues) in its processing record, and the reasons it is invalid. The
limits-of-stability trial shows one target at a time: the cue times are scheduled in board time
from the start of the recording (the athlete sees a target at the next display update, at most
one poll, ~33 ms, after its cue time) and stored with the trial. The knee-to-wall distance of
each valid try is the clinician's entry, asked through ``runner.clinician_entry(side, try)``
(set by ``rig run``). The session's results: ``rig.session.chain_results``.
"""
from __future__ import annotations

import math
import numpy as np

from rig.engine import stance as stance_marks
from rig.engine.chain import los as los_engine
from rig.engine.chain.lunge import lunge_measures
from rig.engine.chain.sit_to_stand import sit_to_stand_measures
from rig.engine.chain.squat import squat_measures
from rig.errors import RigError

HEIGHT_PER_FOOT_LENGTH = 1 / 0.152     # body height from foot length when not entered [U]
INSTRUCTIONS = {
    "squat": "Stand on both feet on the marks, arms forward",
    "lunge": "Test foot on its mark ({side}), other foot behind off the board",
    "lean": "Stand on both feet on the marks, arms crossed",
    "sit_to_stand": "Feet on the marks, sitting on the chair behind the board",
}
GO = {
    "squat": "Squat {n} times, as deep as comfortable, heels down",
    "lunge": "Lunge: knee to the wall, heel DOWN; hold, then back",
    "lean": "Lean towards each target as it appears, as fast and as far as you can; feet still",
    "sit_to_stand": "Sit down, then stand up and sit down {n} times, as fast as you can, arms crossed",
}


FILTERS = {  # what rig.engine.chain applies (2nd-order Butterworth run forward and backward)
    "squat": "force low-pass 4 Hz for repetitions; raw COP averaged over each depth window",
    "lunge": "COP low-pass 5 Hz for heel lifts",
    "lean": "COP low-pass 6 Hz",
    "sit_to_stand": "force low-pass 10 Hz",
}


def instruction(cond) -> str:
    return INSTRUCTIONS[cond.kind].format(side=cond.side or "")


def _setting(p, key, default):
    return p.chain.get(key, default)


def los_geometry(r) -> tuple[dict, dict, float]:
    """(limits mm per direction, target centres mm, height mm) for the runner's athlete."""
    h_cm = r.meta.get("height_cm")
    height = 10.0 * float(h_cm) if h_cm else r.foot_length_mm * HEIGHT_PER_FOOT_LENGTH
    limits = los_engine.theoretical_limits_mm(height, r.foot_length_mm, r.foot_width_mm,
                                              stance_marks.BIPEDAL_HALF_SPACING_MM)
    return limits, los_engine.targets_mm(limits, _setting(r.p, "target_pct", 100.0)), height


def los_schedule(p, t_record_s: float, lead_in_s: float) -> list[tuple[str, float]]:
    """(direction, cue board time) of each target, from the start of the recording."""
    first = t_record_s + lead_in_s + _setting(p, "cue_delay_s", 1.0)
    return [(d, first + k * _setting(p, "target_s", 8.0)) for k, d in enumerate(los_engine.DIRECTIONS)]


class _CueingUI:
    """The runner's UI during a limits-of-stability recording: shows the target of the moment."""

    def __init__(self, ui, cues, targets, radius_mm, t_record_s):
        self.ui, self.cues, self.targets, self.radius = ui, cues, targets, radius_mm
        self.t0, self.shown = t_record_s, None

    def __getattr__(self, name):
        return getattr(self.ui, name)

    def update(self, t_s, x_mm, y_mm, forces_n, fz_n, elapsed_s=None, remaining_s=None):
        if elapsed_s is not None:
            now = self.t0 + elapsed_s
            due = [k for k, (_, c) in enumerate(self.cues) if c <= now]
            k = due[-1] if due else None
            if k != self.shown:
                self.shown = k
                if k is not None:
                    d = self.cues[k][0]
                    self.ui.phase(f"Lean {los_engine.DIRECTION_NAMES[d].upper()}, hold, then back to the centre "
                                  f"(target {k + 1} of 8)")
                show = getattr(getattr(self.ui, "view", None), "show_targets", None)   # the live view
                if show is not None:
                    show(self.targets, self.cues[k][0] if k is not None else None, self.radius)
        self.ui.update(t_s, x_mm, y_mm, forces_n, fz_n, elapsed_s, remaining_s)


WEIGH_S = 1.5                  # both feet on, COP near the midline, this long (board time)
CENTRE_MM = 40.0


def _weigh_on_both_feet(r) -> None:
    """Body weight from a stretch of ``WEIGH_S`` on both feet (COP within ``CENTRE_MM`` of the
    midline, force steady within 15 %): searched in the whole buffer, not only its last seconds,
    so a short stretch between two polls is not missed; the mean of its last second."""
    from rig.engine.chain.common import runs
    from rig.session.results import G_M_S2

    found: list[float] = []

    def done(buf) -> bool:
        with np.errstate(invalid="ignore"):
            ok = (buf.fz_n > 200.0) & (np.abs(buf.x_mm) < CENTRE_MM)
        for i, j in reversed(runs(ok)):
            if buf.t_s[j - 1] - buf.t_s[i] >= WEIGH_S:
                last = buf.between(buf.t_s[j - 1] - 1.0, buf.t_s[j - 1] + 1e-9).fz_n
                if np.ptp(last) < 0.15 * np.mean(last):
                    found.append(float(np.mean(last)))
                    return True
        return False

    r._wait(done, "Stand on both feet on the marks for weighing")
    r.body_weight_n = found[-1]
    r.mass_kg = r.body_weight_n / G_M_S2
    r.meta["body_mass_measured_kg"] = round(r.mass_kg, 1)
    r.ui.message(f"body mass measured on the board: {r.mass_kg:.1f} kg", "info")


# ----------------------------------------------------------------------------- one trial
def run_trial(r, cond, index: int, practice: bool):
    """One movement trial on runner ``r``; returns its ``TrialResult`` (filed in the store)."""
    p = r.p
    label = f"{cond.label}: {'practice' if practice else f'trial {index}'}"
    feet = stance_marks.feet(cond.stance, r.foot_length_mm, r.foot_width_mm)
    r.ui.set_trial(label, feet, cond.trial_duration_s)
    if r.body_weight_n is None:       # weighed on both feet (in a lunge the other foot is on the floor)
        _weigh_on_both_feet(r)
    cues = None
    if cond.kind == "lean":
        need = _setting(p, "cue_delay_s", 1.0) + 8 * _setting(p, "target_s", 8.0)
        if cond.trial_duration_s < need:
            raise RigError(f"{p.path}: trial_duration_s {cond.trial_duration_s:g} s is shorter than the "
                           f"8 targets need (cue_delay_s + 8 x target_s = {need:g} s)")
    t_ready = r._stance_and_countdown(cond, label)
    t_rec = t_ready + cond.countdown_s
    r.ui.message(GO[cond.kind].format(n=_setting(p, "repetitions", 5)), "info")
    r.ui.beep()
    ui = r.ui
    if cond.kind == "lean":
        limits, targets, _ = los_geometry(r)
        cues = los_schedule(p, t_rec, cond.lead_in_s)
        r.ui = _CueingUI(ui, cues, targets, _setting(p, "target_radius_mm", 15.0), t_rec)
    try:
        samples, window, _ = r._record_static(cond, index, practice, label, t_rec)
    finally:
        r.ui = ui
    return _finish(r, cond, index, practice, samples, window, cues)


def _finish(r, cond, index, practice, s, window, cues):
    from rig.engine.validity import check_trial
    from rig.session.results import TrialResult

    rec, r._rec = r._rec, None
    w = s.between(*window)
    stats = r.link.stats.as_dict()
    lost = stats.get("frames_lost", 0) - r._stats0.get("frames_lost", 0)
    lost_fraction = lost / max(lost + len(s), 1)
    feet = stance_marks.feet(cond.stance, r.foot_length_mm, r.foot_width_mm)
    reasons = check_trial(w.t_s - w.t_s[0], w.fz_n, w.x_mm, w.y_mm, condition=cond, rules=r.p.validity,
                          body_weight_n=r.body_weight_n, feet=feet, lost_fraction=lost_fraction) \
        if len(w) > 2 else ["no data in the trial window"]
    processing = {"tare_offset_counts": r.feed.cal.offset_counts.tolist(), "lead_in_s": cond.lead_in_s,
                  "window_s": list(window), "movement": cond.kind, "chain": dict(r.p.chain),
                  "options": {"filters": FILTERS[cond.kind]}}
    measures: dict[str, float] = {}
    if len(w) > 20 and r.body_weight_n:
        measures, more, events = analyse(r, cond, w, cues)
        reasons = reasons + more
        processing.update(events)
    elif not reasons:
        reasons = ["too few samples to analyse"]
    status = "valid" if not reasons else "invalid"
    if cond.kind == "lunge" and status == "valid" and not practice:
        ask = getattr(r, "clinician_entry", None)
        n = 1 + sum(t.condition == cond.name and t.status == "valid" and not t.practice
                    for t in r.result.trials)
        cm = ask(cond.side, n) if ask is not None else None
        measures["ktw_distance_cm"] = float(cm) if cm is not None else math.nan
    tid = rec.finish(status, reasons, stats, window, measures, processing)
    if r.snapshot:
        r.ui.save_snapshot(r.snapshot, cond, index)
    res = TrialResult(cond.name, index, practice, status, reasons, measures, tid)
    res.events = {k: v for k, v in processing.items() if k in ("heel_lifts", "repetitions", "rises")}
    line = trial_line(cond, measures)
    if line and status == "valid":
        r.ui.message(line, "info")
    r.ui.trial_done(res, cond)
    return res


def analyse(r, cond, w, cues) -> tuple[dict, list[str], dict]:
    """(measures, reasons the trial is invalid, events for the processing record) of a window."""
    p, bw = r.p, r.body_weight_n
    t0 = float(w.t_s[0])
    marks = stance_marks.feet("bipedal", r.foot_length_mm, r.foot_width_mm)
    xl, xr = marks["left"].centre_x_mm, marks["right"].centre_x_mm
    reasons: list[str] = []
    if cond.kind == "squat":
        m, reps = squat_measures(w.t_s, w.fz_n, w.x_mm, w.y_mm, bw, xl, xr,
                                 _setting(p, "depth_window_s", 0.3))
        want = _setting(p, "min_reps", _setting(p, "repetitions", 5))
        return (m, _too_few(m["squat_reps"], want, "squat"),
                {"repetitions": _from_start(reps, ("start_s", "depth_s", "end_s"), t0)})
    if cond.kind == "lunge":
        foot = stance_marks.feet(cond.stance, r.foot_length_mm, r.foot_width_mm)[cond.side]
        frac = _setting(p, "heel_lift_fraction", 0.65)
        m, ev = lunge_measures(w.t_s, w.fz_n, w.y_mm, bw, foot.centre_y_mm, foot.length_mm, frac,
                               _setting(p, "heel_lift_min_s", 0.2))
        for e in ev:
            reasons.append(f"heel lifted at {e['t_s']:.1f} s for {e['duration_s']:.1f} s (AP COP at "
                           f"{100 * e['peak_fraction']:.0f} % of the foot length from the heel, limit "
                           f"{100 * frac:.0f} %)")
        need = _setting(p, "min_weight_fraction", 0.5)
        if m["lunge_test_foot_share_pct"] < 100 * need:
            reasons.append(f"weight not on the test foot: {m['lunge_test_foot_share_pct']:.0f} % of body "
                           f"weight, at least {100 * need:.0f} % wanted")
        return m, reasons, {"heel_lifts": ev}
    if cond.kind == "sit_to_stand":
        n = _setting(p, "repetitions", 5)
        m, rs = sit_to_stand_measures(w.t_s, w.fz_n, w.x_mm, bw, xl, xr, n)
        return (m, _too_few(m["sts_rises"], n, "rise"),
                {"rises": _from_start(rs, ("onset_s", "peak_s", "stand_s"), t0)})
    if cond.kind == "lean":
        limits, targets, height = los_geometry(r)
        m = los_measures_of(w, cues, p, limits)
        missing = [d for d in los_engine.DIRECTIONS
                   if not (m.get(f"los_epe_pct_{d.lower()}", math.nan) >= 10.0)]
        if missing:
            reasons.append("no lean (less than 10 % of the limit) towards " + ", ".join(
                los_engine.DIRECTION_NAMES[d] for d in missing))
        return m, reasons, {"cues": [[d, round(c - t0, 4)] for d, c in cues],
                            "limits_mm": limits, "targets_mm": targets, "height_mm": height}
    raise RigError(f"unknown movement kind {cond.kind!r}")


def _too_few(found: float, want: int, what: str) -> list[str]:
    """The reason a trial with fewer repetitions (``what``s) than wanted is invalid, if it is."""
    return [f"{int(found)} {what}(s) found in the force, {want} wanted"] if found < want else []


def _from_start(events: list[dict], keys, t0_s: float) -> list[dict]:
    """``events`` with the times under ``keys`` made relative to the window's start ``t0_s``
    (seconds, rounded to the millisecond for the processing record); changed in place."""
    for e in events:
        for k in keys:
            e[k] = round(e[k] - t0_s, 3)
    return events


def los_measures_of(w, cues, p, limits):
    return los_engine.los_measures(w.t_s, w.x_mm, w.y_mm, cues, _setting(p, "target_s", 8.0), limits)


def trial_line(cond, m: dict) -> str:
    """One line of a trial's main numbers for the terminal."""
    f = lambda k, d=1: f"{m[k]:.{d}f}" if k in m and np.isfinite(m[k]) else "-"     # noqa: E731
    if cond.kind == "squat":
        return (f"  {f('squat_reps', 0)} squats: left {f('squat_share_left_pct')} % / right "
                f"{f('squat_share_right_pct')} % at depth, AP shift {f('squat_ap_shift_mm')} mm")
    if cond.kind == "lunge":
        return f"  test foot {f('lunge_test_foot_share_pct', 0)} % BW, max AP COP {f('lunge_max_heel_fraction', 2)} of foot"
    if cond.kind == "sit_to_stand":
        return (f"  {f('sts_rises', 0)} rises, total {f('sts_total_time_s', 2)} s, rise {f('sts_rise_time_s', 2)} s, "
                f"peak {f('sts_peak_force_bw', 2)} BW, left {f('sts_rise_share_left_pct')} %")
    if cond.kind == "lean":
        return (f"  reaction {f('los_rt_s', 2)} s, velocity {f('los_mvl_mm_s', 0)} mm/s, endpoint "
                f"{f('los_epe_pct', 0)} %, max {f('los_mxe_pct', 0)} %, control {f('los_dcl_pct', 0)} %")
    return ""
