"""Bilateral squat: weight share per side at each depth, AP COP shift, repetitions and timing.

Method [D] (docs/CHAIN_TESTS.md §squat): the vertical force of a squat is the body weight plus
mass x vertical acceleration of the centre of mass; a controlled squat unweights the board as it
descends (F < BW), loads it most while braking at the bottom (F > BW: the depth), and unweights it
again at the top of the rise. Repetitions are the peaks of the low-passed force above
``peak_bw`` (fraction of body weight above 1) each preceded by an unweighting below
``-peak_bw``; the depth is the force peak. At each depth the left/right share comes from ML COP
between the foot marks (``common.left_share``: a one-board split, error 5 percentage points per
10 mm a foot's own COP moves off its mark at 200 mm spacing, reality.md §4) averaged over
``depth_window_s`` around the peak; the AP COP shift at depth is its AP COP minus the quiet
stance outside the repetitions (mm, + forward: heels unloading). The COM descent (mm) is the
double integral of (F - BW)/m from the start of each descent (standing still: v = 0).
Weight-bearing symmetry in squats on two plates: e.g. Flanagan & Salem 2007 (bilateral
differences in squats, J Strength Cond Res) [U]; the limb symmetry index as 100 x min/max [U].
"""
from __future__ import annotations

import numpy as np

from rig.engine.chain.common import left_share, lowpass, rate_hz, share_error_pct

from rig.units import G_M_S2


def squat_repetitions(t_s, fz_n, body_weight_n: float, peak_bw: float = 0.03,
                      min_gap_s: float = 1.0) -> list[dict]:
    """Repetitions: [{"start_s", "depth_s", "end_s"}] (board time, s) from the vertical force.

    start: the last time before the unweighting that the force was at body weight; depth: the
    force peak; end: the force back at body weight after the rise's unweighting."""
    t = np.asarray(t_s, float)
    f = lowpass(np.asarray(fz_n, float), rate_hz(t), 4.0) / body_weight_n - 1.0
    reps: list[dict] = []
    i = 0
    n = len(f)
    while i < n:
        dips = np.flatnonzero(f[i:] < -peak_bw)
        if not dips.size:
            break
        d = i + dips[0]
        peaks = np.flatnonzero(f[d:] > peak_bw)
        if not peaks.size:
            break
        p0 = d + peaks[0]
        back = np.flatnonzero(f[p0:] <= peak_bw)
        p1 = p0 + back[0] if back.size else n
        pk = p0 + int(np.argmax(f[p0:p1]))
        before = np.flatnonzero(f[:d] >= 0.0)
        s = before[-1] if before.size else 0
        # the rise: unweighting after the peak, then back at body weight
        rise = np.flatnonzero(f[p1:] < -peak_bw)
        if rise.size:
            r = p1 + rise[0]
            settled = np.flatnonzero(f[r:] >= 0.0)
            e = r + settled[0] if settled.size else n - 1
        else:
            e = n - 1
        if not reps or t[pk] - reps[-1]["depth_s"] >= min_gap_s:
            reps.append({"start_s": float(t[s]), "depth_s": float(t[pk]), "end_s": float(t[e]),
                         "i_start": int(s), "i_depth": int(pk), "i_end": int(e)})
        i = max(e, p1) + 1
    return reps


def com_descent_mm(t_s, fz_n, body_weight_n: float, i0: int, i1: int) -> float:
    """Vertical COM displacement (mm, positive down) from sample i0 (standing still) to i1, by
    integrating (F - BW)/m twice (trapezoid). Drift grows with time: use within one descent."""
    t = np.asarray(t_s, float)[i0:i1 + 1]
    a = (np.asarray(fz_n, float)[i0:i1 + 1] - body_weight_n) / (body_weight_n / G_M_S2)
    if len(t) < 2:
        return float("nan")
    v = np.r_[0.0, np.cumsum(0.5 * (a[1:] + a[:-1]) * np.diff(t))]
    z = np.r_[0.0, np.cumsum(0.5 * (v[1:] + v[:-1]) * np.diff(t))]
    return float(-z[-1] * 1000.0)


def squat_measures(t_s, fz_n, x_mm, y_mm, body_weight_n: float, x_left_mm: float, x_right_mm: float,
                   depth_window_s: float = 0.3, peak_bw: float = 0.03) -> tuple[dict, list[dict]]:
    """(measures, repetitions) of a squat trial.

    Measures: ``squat_reps`` (count); ``squat_share_left_pct`` / ``squat_share_right_pct``
    (mean share at depth, % of the vertical force); ``squat_share_left_worst_pct`` (the depth
    furthest from 50 %, as the left share); ``squat_lsi_pct`` (limb symmetry index,
    100 x lower side / higher side, mean shares); ``squat_ap_shift_mm`` (AP COP at depth minus
    quiet stance, mm, + forward); ``squat_descent_s`` and ``squat_rep_s`` (mean descent and
    repetition durations, s); ``squat_depth_mm`` (mean COM descent, mm); and
    ``squat_share_error_pct_per_10mm`` (the split's error for a 10 mm shift of one foot's COP).
    """
    t = np.asarray(t_s, float)
    x = np.asarray(x_mm, float)
    y = np.asarray(y_mm, float)
    reps = squat_repetitions(t, fz_n, body_weight_n, peak_bw)
    nan = float("nan")
    out = {"squat_reps": float(len(reps)),
           "squat_share_error_pct_per_10mm": share_error_pct(10.0, x_left_mm, x_right_mm)}
    # quiet stance: every sample outside the repetitions (before, between and after them)
    quiet = np.ones(len(t), bool)
    for r in reps:
        quiet[r["i_start"]:r["i_end"] + 1] = False
    y_quiet = float(np.nanmean(y[quiet])) if quiet.any() else nan
    for r in reps:
        w = (t >= r["depth_s"] - depth_window_s / 2) & (t <= r["depth_s"] + depth_window_s / 2)
        r["share_left_pct"] = float(100.0 * np.nanmean(left_share(x[w], x_left_mm, x_right_mm)))
        r["ap_shift_mm"] = float(np.nanmean(y[w]) - y_quiet)
        r["descent_s"] = r["depth_s"] - r["start_s"]
        r["depth_mm"] = com_descent_mm(t, fz_n, body_weight_n, r["i_start"], r["i_depth"])
    if not reps:
        out.update({k: nan for k in ("squat_share_left_pct", "squat_share_right_pct", "squat_share_left_worst_pct",
                                     "squat_lsi_pct", "squat_ap_shift_mm", "squat_descent_s", "squat_rep_s",
                                     "squat_depth_mm")})
        return out, reps
    left = np.array([r["share_left_pct"] for r in reps])
    mean_l = float(np.mean(left))
    worst = float(left[np.argmax(np.abs(left - 50.0))])
    out.update({
        "squat_share_left_pct": mean_l, "squat_share_right_pct": 100.0 - mean_l,
        "squat_share_left_worst_pct": worst,
        "squat_lsi_pct": 100.0 * min(mean_l, 100 - mean_l) / max(mean_l, 100 - mean_l),
        "squat_ap_shift_mm": float(np.mean([r["ap_shift_mm"] for r in reps])),
        "squat_descent_s": float(np.mean([r["descent_s"] for r in reps])),
        "squat_rep_s": float(np.mean([r["end_s"] - r["start_s"] for r in reps])),
        "squat_depth_mm": float(np.mean([r["depth_mm"] for r in reps])),
    })
    for r in reps:
        for k in ("i_start", "i_depth", "i_end"):
            r.pop(k)
    return out, reps
