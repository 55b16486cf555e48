"""Is a trial valid? The protocol's rules (``[validity]``) checked on the recorded window.

Each rule gives a plain sentence with numbers and times when it fails, so the clinician knows
what happened and the athlete what to do differently. Rules not set in the protocol are not
applied. Times are seconds from the start of the analysed window.

* stepped off: total force below ``stepped_off_fraction`` of body weight for longer than
  ``stepped_off_s`` (or nobody on the board at all);
* touch-downs (single-leg stance): with ``max_touchdowns`` set, more touch-downs of the lifted
  foot than that (found from force drops and COP jumps, rig.engine.sway.single_leg) fail the
  trial. Without it (the default) foot-lifts are counted, not failed (rig.engine.footlift): the
  other rules are checked on the trial's quiet stretch, and the trial is invalid only when that
  stretch is too short to measure (``footlift.QUIET_MIN_S``);
* weight: the median force differs from the entered body mass by more than ``weight_tolerance``;
* COP outside the foot: the COP leaves the base of support (the foot marks of the stance,
  plus ``foot_margin_mm``) for more than ``max_outside_foot_fraction`` of the trial;
* lost frames: more than ``max_lost_fraction`` of the frames lost on the link;
* board reset: the board restarted during the trial (always applied: the data has a hole as
  long as the reboot, measured from host time, and the cells may need to settle after it).
"""
from __future__ import annotations

import numpy as np

from rig.engine import footlift
from rig.engine import stance as stance_marks
from rig.engine.sway.single_leg import detect_touchdowns

from rig.units import G_M_S2


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def _fs(t_s) -> float:
    return (len(t_s) - 1) / (t_s[-1] - t_s[0]) if len(t_s) > 1 and t_s[-1] > t_s[0] else 0.0


def stepped_off(t_s, fz_n, body_weight_n, fraction, min_s) -> str | None:
    low = np.asarray(fz_n) < fraction * body_weight_n
    fs = _fs(t_s)
    for a, b in _runs(low):
        if fs and (b - a) / fs > min_s:
            return (f"stepped off the board at {t_s[a]:.1f} s (force {np.min(fz_n[a:b]):.0f} N, below "
                    f"{fraction:.0%} of body weight for {(b - a) / fs:.1f} s)")
    return None


def touchdowns(t_s, fz_n, x_mm, y_mm, body_weight_n):
    """Onsets (s) of touch-downs of the lifted foot in a single-leg trial (where COP is defined)."""
    ok = np.isfinite(x_mm) & np.isfinite(y_mm)
    if ok.sum() < 10:
        return np.zeros(0)
    t, fz, x, y = t_s[ok], fz_n[ok], x_mm[ok], y_mm[ok]
    res = detect_touchdowns(fz, x, y, _fs(t), body_weight_n)
    return t[0] + res.onsets_s


def support_box(feet: dict, margin_mm: float) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1), mm: the rectangle around the foot marks ``feet``, widened by ``margin_mm``."""
    fs = list(feet.values())
    return (min(f.bounds_mm[0] for f in fs) - margin_mm, max(f.bounds_mm[1] for f in fs) + margin_mm,
            min(f.bounds_mm[2] for f in fs) - margin_mm, max(f.bounds_mm[3] for f in fs) + margin_mm)


def outside_fraction(x_mm, y_mm, stance: str, margin_mm: float, feet=None) -> float:
    """Share of samples with the COP outside the stance's base of support (+ margin)."""
    x0, x1, y0, y1 = support_box(feet or stance_marks.feet(stance), margin_mm)
    ok = np.isfinite(x_mm) & np.isfinite(y_mm)
    if not ok.any():
        return 1.0
    x, y = x_mm[ok], y_mm[ok]
    return float(np.mean((x < x0) | (x > x1) | (y < y0) | (y > y1)))


def board_reset(resets: int, gap_s: float = 0.0) -> str | None:
    """The reason for a trial during which the board restarted ``resets`` times (None if none).

    ``gap_s`` is the board time missing across those restarts (s, the decoder's estimate from
    host receive times).
    """
    if resets <= 0:
        return None
    times = "once" if resets == 1 else f"{resets} times"
    return (f"the board restarted {times} during the trial ({gap_s:.1f} s of data missing): "
            "check the USB cable and power, then repeat")


def counts_footlifts(condition, rules, body_weight_n) -> bool:
    """True when foot-lifts of this trial are counted (not failed): a static single-leg trial
    (not a landing, nor a chain-test movement such as the lunge),
    the body weight known, and no ``max_touchdowns`` rule in the protocol."""
    return (bool(getattr(condition, "side", None)) and getattr(condition, "kind", "static") == "static"
            and bool(body_weight_n) and rules.max_touchdowns is None
            and not getattr(rules, "error_candidates", False))   # BESS scores errors: no quiet stretch


def check_trial(t_s, fz_n, cop_x_mm, cop_y_mm, *, condition, rules, body_weight_n=None, feet=None,
                lost_fraction: float = 0.0, resets: int = 0, reset_gap_s: float = 0.0,
                footlifts: footlift.FootLifts | None = None) -> list[str]:
    """Reasons the trial is invalid ([] = valid). See the module docstring for the rules.

    ``resets`` and ``reset_gap_s``: board restarts during the trial and the time they left
    missing (from the link statistics). Where foot-lifts are counted (``counts_footlifts``),
    ``footlifts`` (rig.engine.footlift.find of the same trace; found here when not given) decides
    the quiet stretch the rules look at."""
    t = np.asarray(t_s, float)
    fz = np.asarray(fz_n, float)
    x = np.asarray(cop_x_mm, float)
    y = np.asarray(cop_y_mm, float)
    reasons: list[str] = []
    restarted = board_reset(resets, reset_gap_s)
    if len(t) < 3:
        return ["no data in the trial window"] + ([restarted] if restarted else [])
    if restarted:
        reasons.append(restarted)
    bw = body_weight_n
    if counts_footlifts(condition, rules, bw):
        fl = footlifts or footlift.find(t, fz, x, y, bw)
        if not fl.measurable:
            reasons.append(f"cannot be measured: the longest stretch without a foot-lift is "
                           f"{fl.quiet_length_s:.1f} s, at least {footlift.QUIET_MIN_S:g} s needed "
                           f"({fl.describe()})")
        else:
            keep = fl.quiet_slice(t)
            t, fz, x, y = t[keep], fz[keep], x[keep], y[keep]
    if bw:
        r = stepped_off(t, fz, bw, rules.stepped_off_fraction, rules.stepped_off_s)
        if r:
            reasons.append(r)
    elif not np.isfinite(x).any():
        reasons.append("nobody on the board during the trial")
    landing = getattr(condition, "kind", "static") == "landing"
    single = bool(getattr(condition, "side", None))
    if rules.max_touchdowns is not None and single and not landing and bw:
        on = touchdowns(t, fz, x, y, bw)
        if len(on) > rules.max_touchdowns:
            when = ", ".join(f"{v:.1f} s" for v in on[:5])
            reasons.append(f"the lifted foot touched down {len(on)} time{'s' if len(on) > 1 else ''} ({when})")
    if rules.weight_tolerance is not None and bw and not landing:
        on_board = fz[fz > 0.5 * bw]
        if len(on_board):
            w = float(np.median(on_board))
            if abs(w / bw - 1) > rules.weight_tolerance:
                reasons.append(f"weight {w / G_M_S2:.1f} kg ({w:.0f} N) does not match the body mass "
                               f"{bw / G_M_S2:.1f} kg (tolerance {rules.weight_tolerance:.0%})")
    if rules.max_outside_foot_fraction is not None and not landing:
        frac = outside_fraction(x, y, condition.stance, rules.foot_margin_mm, feet)
        if frac > rules.max_outside_foot_fraction:
            reasons.append(f"COP outside the foot marks for {frac:.0%} of the trial "
                           f"(limit {rules.max_outside_foot_fraction:.0%}): check the foot position")
    if rules.max_lost_fraction is not None and lost_fraction > rules.max_lost_fraction:
        reasons.append(f"{lost_fraction:.1%} of frames lost on the link (limit {rules.max_lost_fraction:.1%})")
    return reasons


def bess_error_candidates(t_s, fz_n, cop_x_mm, cop_y_mm, *, condition, body_weight_n, feet=None,
                          margin_mm: float = 10.0) -> list[dict]:
    """Force-based BESS error candidates for the clinician to confirm (never scored alone).

    Steps, stumbles and touch-downs (force drops or COP jumps: detect_touchdowns), stepping off
    (force below half the body weight), and leaving the test position (COP outside the stance's
    foot marks for more than 5 s, BESS's own limit). Riemann, Guskiewicz & Shields 1999 define the errors; the
    board cannot see eyes opening or hands leaving the hips.
    """
    t = np.asarray(t_s, float)
    fz = np.asarray(fz_n, float)
    x = np.asarray(cop_x_mm, float)
    y = np.asarray(cop_y_mm, float)
    out: list[dict] = []
    if len(t) < 10 or not body_weight_n:
        return out
    for on in touchdowns(t, fz, x, y, body_weight_n):
        out.append({"t_s": round(float(on), 2), "kind": "step or touch-down",
                    "detail": "force drop or COP jump"})
    off = stepped_off(t, fz, body_weight_n, 0.5, 0.2)
    if off:
        out.append({"t_s": round(float(t[np.argmax(fz < 0.5 * body_weight_n)]), 2), "kind": "stepped off",
                    "detail": off})
    x0, x1, y0, y1 = support_box(feet or stance_marks.feet(condition.stance), margin_mm)
    outside = np.isfinite(x) & ((x < x0) | (x > x1) | (y < y0) | (y > y1))
    rate = _fs(t)
    for a, b in _runs(outside):
        if rate and (b - a) / rate > 5.0:
            out.append({"t_s": round(float(t[a]), 2), "kind": "out of the test position",
                        "detail": f"COP outside the foot marks for {(b - a) / rate:.1f} s"})
    return sorted(out, key=lambda e: e["t_s"])
