"""Five-times sit-to-stand with the feet on the board: timing and force-time features.

The test: five rises from a chair as fast as possible, arms folded (Csuka & McCarty 1985;
Bohannon 2006 reference values [U]). Force-plate versions report, besides the total time, each
rise's duration, the peak vertical force and the rate of force development during rising and the
left/right weight-bearing during rising (NeuroCom sit-to-stand: weight transfer time, rising
index = peak force as % of body weight, left/right symmetry [U]; Lindemann et al. 2003, Eur J
Appl Physiol 89:466, power and force from a force plate [U]).

Definitions here [D] (docs/CHAIN_TESTS.md §sit-to-stand), on the 10 Hz low-passed force:
* seated level: the median force of the seated stretches (below ``seated_bw`` x BW);
* rise onset: the force crosses seated + 10 % of (BW - seated) upwards;
* standing reached: after the rise's peak, the force first back within ``settle_bw`` of BW;
* rise time: onset to standing; total time: first onset to the fifth standing;
* peak force (x BW) and rate of force development (BW/s, largest slope from onset to peak);
* weight-bearing during rising: the left share from ML COP between the foot marks
  (``common.left_share``; one-board split, 5 points per 10 mm off the mark).
"""
from __future__ import annotations

import numpy as np

from rig.engine.chain.common import left_share, lowpass, rate_hz


def rises(t_s, fz_n, body_weight_n: float, seated_bw: float = 0.6, settle_bw: float = 0.05) -> list[dict]:
    """The rises: [{"onset_s", "peak_s", "stand_s", "peak_bw", "rfd_bw_s"}] (board time)."""
    t = np.asarray(t_s, float)
    fs = rate_hz(t)
    f = lowpass(np.asarray(fz_n, float), fs, 10.0) / body_weight_n
    seated = (f < seated_bw) & (f > 0.1)          # on the chair, feet still on the board
    if not seated.any():
        return []
    level = float(np.median(f[seated]))
    on_thr = level + 0.1 * (1.0 - level)
    out = []
    i = 0
    n = len(f)
    while i < n:
        below = np.flatnonzero(f[i:] < on_thr)
        if not below.size:
            break
        b = i + below[0]
        up = np.flatnonzero(f[b:] >= on_thr)
        if not up.size:
            break
        o = b + up[0]
        # the peak of this rise: the maximum before the force falls towards seated again
        risen = np.flatnonzero(f[o:] >= seated_bw)
        if not risen.size:
            break
        r = o + risen[0]
        down = np.flatnonzero(f[r:] < seated_bw)
        end = r + down[0] if down.size else n
        if end <= o + 1:
            i = o + 1
            continue
        pk = o + int(np.argmax(f[o:end]))
        settle = np.flatnonzero(np.abs(f[pk:end] - 1.0) <= settle_bw)
        if not settle.size:
            i = end
            continue
        s = pk + settle[0]
        # the onset between samples (linear), so timing is not quantised to the sample period
        frac = (on_thr - f[o - 1]) / (f[o] - f[o - 1]) if o > 0 and f[o] != f[o - 1] else 0.0
        t_on = float(t[o - 1] + frac * (t[o] - t[o - 1])) if o > 0 else float(t[o])
        slope = np.diff(f[o - 1:pk + 1]) * fs if pk > o else np.array([np.nan])
        out.append({"onset_s": t_on, "peak_s": float(t[pk]), "stand_s": float(t[s]),
                    "peak_bw": float(f[pk]), "rfd_bw_s": float(np.nanmax(slope)),
                    "seated_bw": level})
        i = end
    return out


def sit_to_stand_measures(t_s, fz_n, x_mm, body_weight_n: float, x_left_mm: float, x_right_mm: float,
                          repetitions: int = 5) -> tuple[dict, list[dict]]:
    """(measures, rises) of a five-times sit-to-stand trial.

    ``sts_rises`` (count), ``sts_total_time_s`` (first onset to the ``repetitions``-th standing,
    NaN if fewer), ``sts_rise_time_s`` (mean onset to standing), ``sts_rise_time_max_s``,
    ``sts_time_to_peak_s`` (onset to the force peak, mean), ``sts_peak_force_bw`` (mean peak,
    x body weight), ``sts_rfd_bw_s`` (mean rate of force development, BW/s),
    ``sts_seated_force_bw`` (the feet's share while seated), ``sts_rise_share_left_pct`` (left
    share during the rises, %), ``sts_rise_asymmetry_pct`` (left minus right share, points)."""
    t = np.asarray(t_s, float)
    x = np.asarray(x_mm, float)
    rs = rises(t, fz_n, body_weight_n)
    nan = float("nan")
    for r in rs:
        w = (t >= r["onset_s"]) & (t <= r["stand_s"])
        r["share_left_pct"] = float(100.0 * np.nanmean(left_share(x[w], x_left_mm, x_right_mm))) if w.any() else nan
    out = {"sts_rises": float(len(rs))}
    if not rs:
        return out | {k: nan for k in ("sts_total_time_s", "sts_rise_time_s", "sts_rise_time_max_s",
                                       "sts_time_to_peak_s", "sts_peak_force_bw", "sts_rfd_bw_s",
                                       "sts_seated_force_bw", "sts_rise_share_left_pct",
                                       "sts_rise_asymmetry_pct")}, rs
    first = rs[:repetitions]
    rise_t = np.array([r["stand_s"] - r["onset_s"] for r in first])
    left = float(np.nanmean([r["share_left_pct"] for r in first]))
    out.update({
        "sts_total_time_s": first[-1]["stand_s"] - first[0]["onset_s"] if len(rs) >= repetitions else nan,
        "sts_rise_time_s": float(rise_t.mean()), "sts_rise_time_max_s": float(rise_t.max()),
        "sts_time_to_peak_s": float(np.mean([r["peak_s"] - r["onset_s"] for r in first])),
        "sts_peak_force_bw": float(np.mean([r["peak_bw"] for r in first])),
        "sts_rfd_bw_s": float(np.mean([r["rfd_bw_s"] for r in first])),
        "sts_seated_force_bw": first[0]["seated_bw"],
        "sts_rise_share_left_pct": left, "sts_rise_asymmetry_pct": 2 * left - 100.0,
    })
    return out, rs
