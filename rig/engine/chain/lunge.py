"""Knee-to-wall (weight-bearing lunge): what the board checks that the tape cannot.

The test (Bennell et al. 1998, as described by Physiopedia [S]; science.md §4.5): the test
foot on a line perpendicular to the wall, lunge until the knee touches the wall with the heel
down; the clinician records the toe-wall distance (cm) of the furthest position that keeps the
heel down. On the board (only the test foot on it, the other foot behind on the floor):

* heel lift: the test foot's AP COP, as a fraction of the foot length from the heel, above
  ``heel_fraction`` for at least ``min_s``. With the heel off the ground all the force goes
  through the forefoot (metatarsal heads at roughly 70-75 % of the foot length from the heel
  [U]); with the heel down the COP stays near mid-foot. On a rigid top on four corner cells the
  back cells' share of the force is a linear function of AP COP (bilinear distribution), so
  "the cells under the heel keep their load" is the same rule stated in force: the back-cell
  share at the threshold is reported beside it.
* weight on the test foot: its force as a share of body weight during the lunge (the middle
  half of the time the foot is loaded) at least ``min_weight_fraction``.

Result across tries (``best_valid_cm``): the best (longest) distance of the valid tries per side;
the side-to-side difference compared with the MDC 1.9 cm (intra-clinician, Powden, Hoch & Hoch
2015, Man Ther 20:524 [V]).
"""
from __future__ import annotations

import numpy as np

from rig.engine.chain.common import lowpass, rate_hz, runs

MDC_CM = 1.9           # Powden 2015, intra-clinician MDC of the lunge distance [V]
MDC_SOURCE = "Powden CJ, Hoch JM, Hoch MC. Man Ther 2015;20:524-532 (intra-clinician MDC 1.9 cm)"


def heel_fraction(y_mm, foot_centre_y_mm: float, foot_length_mm: float) -> np.ndarray:
    """AP COP as a fraction of the foot length from the heel (0 = heel, 1 = toes)."""
    return (np.asarray(y_mm, float) - (foot_centre_y_mm - foot_length_mm / 2)) / foot_length_mm


def heel_lifts(t_s, y_mm, fz_n, foot_centre_y_mm: float, foot_length_mm: float,
               heel_fraction_max: float = 0.65, min_s: float = 0.2, loaded_n: float = 100.0) -> list[dict]:
    """Heel-lift events: [{"t_s", "duration_s", "peak_fraction"}] (t from the first sample, s).

    A lift: the low-passed (5 Hz) heel fraction above ``heel_fraction_max`` for >= ``min_s`` while
    the foot carries more than ``loaded_n`` N."""
    t = np.asarray(t_s, float)
    fs = rate_hz(t)
    y = lowpass(np.nan_to_num(np.asarray(y_mm, float)), fs, 5.0)
    frac = heel_fraction(y, foot_centre_y_mm, foot_length_mm)
    above = (frac > heel_fraction_max) & (np.asarray(fz_n, float) > loaded_n)
    out = []
    for i, j in runs(above):
        if t[j - 1] - t[i] >= min_s:
            out.append({"t_s": float(t[i] - t[0]), "duration_s": float(t[j - 1] - t[i]),
                        "peak_fraction": float(np.max(frac[i:j]))})
    return out


def lunge_measures(t_s, fz_n, y_mm, body_weight_n: float, foot_centre_y_mm: float, foot_length_mm: float,
                   heel_fraction_max: float = 0.65, min_s: float = 0.2) -> tuple[dict, list[dict]]:
    """(measures, heel-lift events) of one lunge try.

    ``lunge_heel_lifts`` (count), ``lunge_max_heel_fraction`` (highest AP COP, fraction of the
    foot length from the heel), ``lunge_test_foot_share_pct`` (test-foot force as % of body
    weight, median of the middle half of the loaded time), ``lunge_first_heel_lift_s`` (s
    from the start of the analysed window, NaN when none)."""
    t = np.asarray(t_s, float)
    fz = np.asarray(fz_n, float)
    ev = heel_lifts(t, y_mm, fz, foot_centre_y_mm, foot_length_mm, heel_fraction_max, min_s)
    fs = rate_hz(t)
    frac = heel_fraction(lowpass(np.nan_to_num(np.asarray(y_mm, float)), fs, 5.0), foot_centre_y_mm, foot_length_mm)
    loaded = fz > 0.2 * body_weight_n
    idx = np.flatnonzero(loaded)
    if idx.size:
        a, b = idx[0], idx[-1] + 1
        q = (b - a) // 4
        share = float(100.0 * np.median(fz[a + q:b - q]) / body_weight_n)
        maxfrac = float(np.max(frac[loaded]))
    else:
        share, maxfrac = 0.0, float("nan")
    return {"lunge_heel_lifts": float(len(ev)), "lunge_max_heel_fraction": maxfrac,
            "lunge_test_foot_share_pct": share,
            "lunge_first_heel_lift_s": ev[0]["t_s"] if ev else float("nan")}, ev


def best_valid_cm(distances_cm) -> float:
    """The longest valid toe-wall distance (cm) of a side's tries (NaN when none)."""
    d = [float(v) for v in distances_cm if v is not None and np.isfinite(v)]
    return max(d) if d else float("nan")


def asymmetry(left_cm: float, right_cm: float, mdc_cm: float = MDC_CM) -> dict:
    """Side-to-side difference (cm, left - right) against the MDC: beyond measurement error
    when |difference| > MDC (science.md §4.5: "beyond measurement error", not "abnormal")."""
    diff = left_cm - right_cm
    ok = np.isfinite(diff)
    return {"difference_cm": float(diff), "mdc_cm": mdc_cm,
            "beyond_mdc": bool(ok and abs(diff) > mdc_cm),
            "shorter_side": ("left" if diff < 0 else "right" if diff > 0 else None) if ok else None}
