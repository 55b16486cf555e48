"""The chain tests' session results (issue 13), computed once from the trials: stored in the
session summary (``{"chain": ...}``), printed by ``rig run`` and rendered by the report.

Per test: squat symmetry (mean and worst share at depth, limb symmetry index, AP shift, the
one-board split's error), knee-to-wall (best valid distance per side, heel-lifted tries with
their times, the difference against the MDC), sit-to-stand (times and force features), limits
of stability (per direction and means). Definitions: docs/CHAIN_TESTS.md and rig.engine.chain.
"""
from __future__ import annotations

import math

import numpy as np

from rig.engine.chain import los as los_engine
from rig.engine.chain.lunge import MDC_CM, MDC_SOURCE, asymmetry, best_valid_cm
from rig.session.movement_trials import INSTRUCTIONS, _setting


def _mean(trials, key):
    v = [t.measures.get(key, math.nan) for t in trials]
    v = [x for x in v if x is not None and np.isfinite(x)]
    return float(np.mean(v)) if v else math.nan


def session_summary(protocol, trials) -> dict:
    """``{"chain": {...}}`` with the session's chain-test results ({} when there are none)."""
    kinds = {c.name: c for c in protocol.conditions if c.kind in INSTRUCTIONS}
    if not kinds:
        return {}
    out: dict = {}
    valid = [t for t in trials if not t.practice and t.status == "valid" and t.condition in kinds]
    done = [t for t in trials if not t.practice and t.condition in kinds]
    by_kind: dict[str, list] = {}
    for t in valid:
        by_kind.setdefault(kinds[t.condition].kind, []).append(t)
    if "squat" in {c.kind for c in kinds.values()}:
        ts = by_kind.get("squat", [])
        left = _mean(ts, "squat_share_left_pct")
        worst = [t.measures.get("squat_share_left_worst_pct", math.nan) for t in ts]
        worst = [w for w in worst if np.isfinite(w)]
        out["squat"] = {
            "valid_trials": len(ts), "repetitions": int(sum(t.measures.get("squat_reps", 0) for t in ts)),
            "share_left_pct": left, "share_right_pct": 100 - left if np.isfinite(left) else math.nan,
            "worst_share_left_pct": max(worst, key=lambda w: abs(w - 50)) if worst else math.nan,
            "limb_symmetry_index_pct": _mean(ts, "squat_lsi_pct"),
            "ap_shift_at_depth_mm": _mean(ts, "squat_ap_shift_mm"),
            "descent_s": _mean(ts, "squat_descent_s"), "depth_mm": _mean(ts, "squat_depth_mm"),
            "share_error_pct_per_10mm": _mean(ts, "squat_share_error_pct_per_10mm"),
            "note": "one-board split from ML COP between the foot marks: assumes each foot's own COP "
                    "stays on its mark; 10 mm off the mark changes the share by 5 points at 200 mm spacing",
        }
    if "lunge" in {c.kind for c in kinds.values()}:
        per = {}
        for side in ("left", "right"):
            tries = [t for t in done if kinds[t.condition].side == side]
            ok = [t for t in tries if t.status == "valid"]
            lifted = [t for t in tries if any("heel lifted" in r for r in t.reasons)]
            per[side] = {"tries": len(tries), "valid": len(ok), "heel_lifted": len(lifted),
                         "heel_lift_times_s": [e["t_s"] for t in lifted for e in
                                               getattr(t, "events", {}).get("heel_lifts", [])],
                         "distances_cm": [t.measures.get("ktw_distance_cm") for t in ok],
                         "best_valid_cm": best_valid_cm(t.measures.get("ktw_distance_cm") for t in ok)}
        mdc = _setting(protocol, "mdc_cm", MDC_CM)
        out["knee_to_wall"] = {**per, "asymmetry": asymmetry(per["left"]["best_valid_cm"],
                                                              per["right"]["best_valid_cm"], mdc),
                               "mdc_source": _setting(protocol, "mdc_reference", MDC_SOURCE)}
    if "sit_to_stand" in {c.kind for c in kinds.values()}:
        ts = by_kind.get("sit_to_stand", [])
        keys = ("sts_total_time_s", "sts_rise_time_s", "sts_rise_time_max_s", "sts_time_to_peak_s",
                "sts_peak_force_bw", "sts_rfd_bw_s", "sts_seated_force_bw", "sts_rise_share_left_pct",
                "sts_rise_asymmetry_pct")
        out["sit_to_stand"] = {"valid_trials": len(ts), **{k[4:]: _mean(ts, k) for k in keys}}
    if "lean" in {c.kind for c in kinds.values()}:
        ts = by_kind.get("lean", [])
        rows = []
        for d in los_engine.DIRECTIONS:
            row = {"direction": los_engine.DIRECTION_NAMES[d]}
            for k in ("rt_s", "mvl_mm_s", "epe_mm", "epe_pct", "mxe_mm", "mxe_pct", "dcl_pct"):
                row[k] = _mean(ts, f"los_{k}_{d.lower()}")
            rows.append(row)
        out["limits_of_stability"] = {"valid_trials": len(ts), "directions": rows,
                                      **{k: _mean(ts, f"los_{k}") for k in
                                         ("rt_s", "mvl_mm_s", "epe_pct", "mxe_pct", "dcl_pct")}}
    return {"chain": _jsonable(out)}


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return float(x) if np.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def result_lines(protocol, result) -> list[str]:
    """The chain-test results for the terminal (from ``session_summary``)."""
    c = session_summary(protocol, result.trials).get("chain")
    if not c:
        return []
    f = lambda v, d=1: "-" if v is None else f"{v:.{d}f}"     # noqa: E731
    out = []
    if "squat" in c:
        s = c["squat"]
        out += [f"  Squat symmetry ({s['repetitions']} squats in {s['valid_trials']} valid trial(s)):",
                f"    weight share at depth: left {f(s['share_left_pct'])} %, right {f(s['share_right_pct'])} %"
                f" (worst left {f(s['worst_share_left_pct'])} %), limb symmetry index {f(s['limb_symmetry_index_pct'])} %",
                f"    AP COP shift at depth {f(s['ap_shift_at_depth_mm'])} mm (+ forward), COM descent "
                f"{f(s['depth_mm'], 0)} mm, descent {f(s['descent_s'], 2)} s",
                f"    measurement error: {f(s['share_error_pct_per_10mm'])} points of share per 10 mm a foot's "
                "own COP moves off its mark (one-board split)"]
    if "knee_to_wall" in c:
        k = c["knee_to_wall"]
        out.append("  Knee-to-wall (weight-bearing lunge):")
        for side in ("left", "right"):
            s = k[side]
            times = ", ".join(f"{v:.1f} s" for v in s["heel_lift_times_s"])
            out.append(f"    {side:5s}: best valid {f(s['best_valid_cm'])} cm; {s['valid']} valid of {s['tries']} "
                       f"tries; heel lifted in {s['heel_lifted']}" + (f" (at {times})" if times else ""))
        a = k["asymmetry"]
        if a["difference_cm"] is not None:
            verdict = "beyond" if a["beyond_mdc"] else "within"
            out.append(f"    difference L - R {a['difference_cm']:+.1f} cm: {verdict} the MDC {a['mdc_cm']:g} cm "
                       f"({k['mdc_source']})")
        else:
            out.append("    difference: needs a valid distance on both sides")
    if "sit_to_stand" in c:
        s = c["sit_to_stand"]
        out += ["  Five-times sit-to-stand:",
                f"    total {f(s['total_time_s'], 2)} s; rise {f(s['rise_time_s'], 2)} s (slowest "
                f"{f(s['rise_time_max_s'], 2)} s), to peak {f(s['time_to_peak_s'], 2)} s",
                f"    peak force {f(s['peak_force_bw'], 2)} x BW, rate of force development {f(s['rfd_bw_s'], 2)} BW/s, "
                f"seated {f(s['seated_force_bw'], 2)} x BW",
                f"    weight during rising: left {f(s['rise_share_left_pct'])} % (asymmetry "
                f"{f(s['rise_asymmetry_pct'])} points)"]
    if "limits_of_stability" in c:
        s = c["limits_of_stability"]
        out.append(f"  Limits of stability: reaction {f(s['rt_s'], 2)} s, velocity {f(s['mvl_mm_s'], 0)} mm/s, "
                   f"endpoint {f(s['epe_pct'], 0)} %, max {f(s['mxe_pct'], 0)} %, control {f(s['dcl_pct'], 0)} %")
        out.append(f"    {'direction':15s}{'RT s':>7s}{'MVL':>7s}{'EPE mm':>8s}{'EPE %':>7s}{'MXE %':>7s}{'DCL %':>7s}")
        for row in s["directions"]:
            out.append(f"    {row['direction']:15s}{f(row['rt_s'], 2):>7s}{f(row['mvl_mm_s'], 0):>7s}"
                       f"{f(row['epe_mm'], 0):>8s}{f(row['epe_pct'], 0):>7s}{f(row['mxe_pct'], 0):>7s}"
                       f"{f(row['dcl_pct'], 0):>7s}")
    return out
