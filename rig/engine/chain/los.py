"""Limits of stability: lean towards 8 targets without moving the feet.

The test (NeuroCom Balance Master LOS; Clark, Rose & Fujimoto 1997, Arch Phys Med Rehabil
78:1078; Pickerill & Harter 2011, J Athl Train 46:600 [U]): a cue shows one of 8 targets at the
theoretical limit of stability; the athlete moves the centre of gravity towards it as quickly and
accurately as possible and holds. Per direction: reaction time, movement velocity, endpoint and
maximum excursion (% of the theoretical limit), directional control. Definitions here [D],
applied to the COP low-passed at 6 Hz (the COP approximates the COM at the slow, held end of a
lean, not during the fast start; docs/CHAIN_TESTS.md §limits-of-stability):

* theoretical limit per direction: COG height 0.5527 x body height (NeuroCom's model [U]) times
  tan of the sway angle limit, 8.0 deg forward, 4.5 deg backward, 8.0 deg sideways (12.5 deg AP,
  16 deg ML envelope, McCollum & Leen 1989 [U]), capped by the base of support (toes, heels,
  outer edges of the feet: foot length and width); diagonals on the ellipse through these;
* onset: the speed along the target direction rising from 10 % to 50 % of the primary
  movement's peak, extrapolated back to zero speed (times interpolated between samples, so the
  resolution is better than one sample period; a 5 %-of-peak threshold instead was thrown off by
  the sway's own speed at the cue); reaction time = onset - cue;
* endpoint excursion (EPE): displacement along the target direction where the primary movement
  ends (velocity back below 5 % of its peak; path measures run from the last sample below 5 %
  before the peak to there); maximum excursion (MXE): the largest displacement
  along the direction before the next cue; both in mm and % of the theoretical limit;
* movement velocity (MVL): 90 % of EPE over the time from 5 % to 95 % of EPE (mm/s);
* directional control (DCL): 100 x (path along the direction - path across it) / path along it,
  from onset to the end of the primary movement (%).
"""
from __future__ import annotations

import math

import numpy as np

from rig.engine.chain.common import lowpass, rate_hz

DIRECTIONS = ("F", "FR", "R", "BR", "B", "BL", "L", "FL")
DIRECTION_NAMES = {"F": "forward", "FR": "forward-right", "R": "right", "BR": "backward-right",
                   "B": "backward", "BL": "backward-left", "L": "left", "FL": "forward-left"}
COG_HEIGHT_FRACTION = 0.5527
LIMIT_DEG = {"forward": 8.0, "backward": 4.5, "side": 8.0}
ONSET_FRACTION = 0.05


def unit(direction: str) -> np.ndarray:
    """Unit vector (board frame: x right, y forward) of a direction code."""
    k = DIRECTIONS.index(direction)
    ang = math.pi / 2 - k * math.pi / 4          # F = +y, then clockwise
    return np.array([math.cos(ang), math.sin(ang)])


def theoretical_limits_mm(height_mm: float, foot_length_mm: float, foot_width_mm: float,
                          half_spacing_mm: float) -> dict[str, float]:
    """Theoretical limit of stability (mm from the stance centre) per direction code."""
    h = COG_HEIGHT_FRACTION * height_mm
    fwd = min(h * math.tan(math.radians(LIMIT_DEG["forward"])), foot_length_mm / 2)
    bwd = min(h * math.tan(math.radians(LIMIT_DEG["backward"])), foot_length_mm / 2)
    lat = min(h * math.tan(math.radians(LIMIT_DEG["side"])), half_spacing_mm + foot_width_mm / 2)
    out = {}
    for d in DIRECTIONS:
        ux, uy = unit(d)
        b = fwd if uy > 1e-9 else bwd
        out[d] = float(1.0 / math.sqrt((ux / lat) ** 2 + (uy / b) ** 2))
    return out


def targets_mm(limits_mm: dict[str, float], target_pct: float = 100.0) -> dict[str, tuple[float, float]]:
    """Target centres (x, y mm) at ``target_pct`` % of each direction's limit."""
    return {d: tuple(float(v) for v in unit(d) * limits_mm[d] * target_pct / 100.0) for d in limits_mm}


def lean_measures(t_s, x_mm, y_mm, direction: str, cue_s: float, end_s: float, limit_mm: float) -> dict:
    """One lean: {rt_s, mvl_mm_s, epe_mm, mxe_mm, epe_pct, mxe_pct, dcl_pct} (NaN if no movement)."""
    t = np.asarray(t_s, float)
    fs = rate_hz(t)
    x = lowpass(np.nan_to_num(np.asarray(x_mm, float)), fs, 6.0)
    y = lowpass(np.nan_to_num(np.asarray(y_mm, float)), fs, 6.0)
    base = (t >= cue_s - 0.5) & (t < cue_s)
    w = np.flatnonzero((t >= cue_s) & (t < end_s))
    nan = float("nan")
    res = dict(rt_s=nan, mvl_mm_s=nan, epe_mm=nan, mxe_mm=nan, epe_pct=nan, mxe_pct=nan, dcl_pct=nan)
    if not base.any() or len(w) < 5:
        return res
    u = unit(direction)
    dx, dy = x - x[base].mean(), y - y[base].mean()
    p = dx * u[0] + dy * u[1]
    q = -dx * u[1] + dy * u[0]
    v = np.gradient(p, t)
    pw, vw, qw, tw = p[w], v[w], q[w], t[w]
    ipk = int(np.argmax(vw))
    thr = ONSET_FRACTION * vw[ipk]
    if vw[ipk] <= 0:
        return res
    before = np.flatnonzero(vw[:ipk] < thr)
    on = before[-1] + 1 if before.size else 0
    # onset time: the rise of the speed from 10 % to 50 % of its peak extrapolated back to zero
    # (robust to the sway's own speed at the cue, which can exceed 5 % of a slow lean's peak)
    t10 = _cross_v(tw, vw, ipk, 0.1 * vw[ipk])
    t50 = _cross_v(tw, vw, ipk, 0.5 * vw[ipk])
    t_on = t10 - (t50 - t10) * 0.1 / 0.4 if np.isfinite(t10) and t50 > t10 else float(tw[on])
    after = np.flatnonzero(vw[ipk:] < thr)
    end = ipk + after[0] if after.size else len(vw) - 1
    epe = float(pw[end])
    mxe = float(np.max(pw))
    i5 = on + np.flatnonzero(pw[on:end + 1] >= 0.05 * epe)
    i95 = on + np.flatnonzero(pw[on:end + 1] >= 0.95 * epe)
    t5 = _cross(tw, pw, i5[0], 0.05 * epe) if i5.size else nan
    t95 = _cross(tw, pw, i95[0], 0.95 * epe) if i95.size else nan
    along = float(np.sum(np.abs(np.diff(pw[on:end + 1]))))
    across = float(np.sum(np.abs(np.diff(qw[on:end + 1]))))
    res.update(rt_s=max(t_on - cue_s, 0.0), epe_mm=epe, mxe_mm=mxe,
               epe_pct=100.0 * epe / limit_mm, mxe_pct=100.0 * mxe / limit_mm,
               mvl_mm_s=0.9 * epe / (t95 - t5) if t95 > t5 else nan,
               dcl_pct=100.0 * (along - across) / along if along > 0 else nan)
    return res


def _cross_v(t, v, ipk, level):
    """The last time before index ``ipk`` that ``v`` rises through ``level`` (linear), NaN if none."""
    below = np.flatnonzero(v[:ipk] < level)
    if not below.size:
        return float("nan")
    i = below[-1] + 1
    return _cross(t, v, i, level)


def _cross(t, p, i, level):
    """Time where p crosses ``level`` between samples i-1 and i (linear)."""
    if i == 0 or p[i] == p[i - 1]:
        return float(t[i])
    return float(t[i - 1] + (level - p[i - 1]) / (p[i] - p[i - 1]) * (t[i] - t[i - 1]))


def los_measures(t_s, x_mm, y_mm, cues: list[tuple[str, float]], target_s: float,
                 limits_mm: dict[str, float]) -> dict[str, float]:
    """All leans of a trial: ``los_<measure>_<dir>`` per direction and the means over directions
    ``los_rt_s``, ``los_mvl_mm_s``, ``los_epe_pct``, ``los_mxe_pct``, ``los_dcl_pct``.
    ``cues``: (direction code, board time of the cue in s); each lean lasts ``target_s``."""
    out: dict[str, float] = {}
    per: dict[str, list[float]] = {}
    for d, cue in cues:
        m = lean_measures(t_s, x_mm, y_mm, d, cue, cue + target_s, limits_mm[d])
        for k, v in m.items():
            out[f"los_{k}_{d.lower()}"] = v
            per.setdefault(k, []).append(v)
    for k in ("rt_s", "mvl_mm_s", "epe_pct", "mxe_pct", "dcl_pct", "epe_mm", "mxe_mm"):
        vals = [v for v in per.get(k, []) if np.isfinite(v)]
        out[f"los_{k}"] = float(np.mean(vals)) if vals else float("nan")
    return out
