"""Foot-lifts counted in a single-leg trial, time in balance, and the quiet stretch to measure.

The foot-lift test (Hertel et al. 2006; science.md §2.6): single leg, eyes closed, 30 s; every
lift of the stance foot or touch-down of the free foot is one error. On a vertical-force board
an error shows as (i) a drop of the total force below ``(1 - drop_fraction)`` x body weight
(weight taken off the board: the free foot landing beside it, stepping off), (ii) a COP jump
of more than ``jump_mm`` within ``jump_window_s`` (the free foot landing on the board, or the
stance foot shifting), or (iii) COP undefined (nobody on the board). Settings and merging
(events closer than ``merge_s`` are one) are those of rig.engine.sway.single_leg
(``TOUCHDOWN_SETTINGS``), so the count here is the same rule as the ``touchdowns`` measure.
Experimental board proxy: each event is shown with its time for the clinician to confirm.

Time in balance: from the start of the trace to the first event (the whole trace when none;
Chrintz et al. 1991's test, board proxy).

Quiet stretch: the longest stretch without an event, each event widened by ``QUIET_MARGIN_S``
on both sides (recovery). COP measures of a trial with foot-lifts are computed on it, and the
results say so. A trial whose quiet stretch is shorter than ``QUIET_MIN_S`` cannot be measured.
Both values are this project's choices, not published ones.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The touch-down rule's settings (also the ``touchdowns`` measure's, rig.engine.sway.single_leg):
#: total force below (1 - drop_fraction) x body weight, or the COP moving more than jump_mm within
#: jump_window_s, events closer than merge_s merged.
TOUCHDOWN_SETTINGS = {"drop_fraction": 0.2, "jump_mm": 30.0, "jump_window_s": 0.05, "merge_s": 1.0}

QUIET_MARGIN_S = 0.5      # widened on each side of an event: the recovery is not quiet stance
QUIET_MIN_S = 3.0         # a shorter quiet stretch: the trial cannot be measured


@dataclass(frozen=True)
class FootLifts:
    """Events of one single-leg trial; times in s from the start of the trace."""

    events_s: tuple[tuple[float, float], ...]     # (start, end) of each event
    time_in_balance_s: float
    quiet_s: tuple[float, float] | None           # (start, end) of the longest quiet stretch
    duration_s: float

    @property
    def count(self) -> int:
        return len(self.events_s)

    @property
    def quiet_length_s(self) -> float:
        return 0.0 if self.quiet_s is None else self.quiet_s[1] - self.quiet_s[0]

    @property
    def measurable(self) -> bool:
        return self.quiet_length_s >= QUIET_MIN_S

    def quiet_slice(self, t_s) -> slice:
        """The samples of the trace (board time ``t_s``, s, the trace these foot-lifts were found
        in) that lie in the quiet stretch, both ends included; the whole trace when there is none."""
        if self.quiet_s is None:
            return slice(0, len(t_s))
        t0 = float(t_s[0])
        i, j = np.searchsorted(t_s, [t0 + self.quiet_s[0], t0 + self.quiet_s[1] + 1e-9])
        return slice(int(i), int(j))

    def as_dict(self) -> dict:
        """What a trial stores (processing["footlifts"]): counts, times, the quiet stretch."""
        return {"count": self.count, "events_s": [[round(a, 2), round(b, 2)] for a, b in self.events_s],
                "time_in_balance_s": round(self.time_in_balance_s, 2),
                "quiet_stretch_s": None if self.quiet_s is None else [round(v, 2) for v in self.quiet_s],
                "method": "force drop, COP jump or COP undefined (rig.engine.footlift); "
                          "board proxy for the foot-lift test, each to be confirmed by the clinician"}

    def describe(self) -> str:
        """One line for the clinician: the count and each event's time."""
        if not self.count:
            return "no foot-lift or touch-down found"
        when = ", ".join(f"{a:.1f} s" for a, _ in self.events_s)
        return f"{self.count} foot-lift/touch-down error{'s' if self.count > 1 else ''} at {when} (please confirm)"


def find(t_s, fz_n, x_mm, y_mm, body_weight_n: float, settings: dict | None = None) -> FootLifts:
    """Foot-lift events, time in balance and the quiet stretch of one single-leg trace.

    ``t_s`` board time (s), ``fz_n`` total vertical force (N), COP (mm, NaN where undefined),
    ``body_weight_n`` (N). Times returned are from ``t_s[0]``."""
    s = dict(TOUCHDOWN_SETTINGS, **(settings or {}))
    t = np.asarray(t_s, float)
    fz = np.asarray(fz_n, float)
    x = np.asarray(x_mm, float)
    y = np.asarray(y_mm, float)
    n = t.size
    if n < 3:
        return FootLifts((), 0.0, None, 0.0)
    t = t - t[0]
    dur = float(t[-1])
    fs = (n - 1) / dur if dur > 0 else 0.0
    undefined = ~(np.isfinite(x) & np.isfinite(y))
    event = (fz < (1.0 - s["drop_fraction"]) * body_weight_n) | undefined
    w = max(1, int(round(s["jump_window_s"] * fs)))
    ends_extra = np.zeros(n, bool)
    if n > w:
        with np.errstate(invalid="ignore"):
            jump = np.hypot(x[w:] - x[:-w], y[w:] - y[:-w]) > s["jump_mm"]
        event[:-w] |= jump
        ends_extra[w:] |= jump                 # the jump's window end is part of the event
    event |= ends_extra
    d = np.diff(np.concatenate(([0], event.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    groups: list[list[int]] = []
    for a, b in zip(starts, stops):
        if groups and fs and (a - groups[-1][1]) < s["merge_s"] * fs:
            groups[-1][1] = b
        else:
            groups.append([a, b])
    events = tuple((float(t[a]), float(t[b - 1])) for a, b in groups)
    tib = events[0][0] if events else dur
    # the longest quiet stretch between widened events
    edges = [(-np.inf, 0.0)] + [(a - QUIET_MARGIN_S, b + QUIET_MARGIN_S) for a, b in events] + [(dur, np.inf)]
    best = None
    for (_, end_prev), (start_next, _) in zip(edges[:-1], edges[1:]):
        lo, hi = max(end_prev, 0.0), min(start_next, dur)
        if hi > lo and (best is None or hi - lo > best[1] - best[0]):
            best = (float(lo), float(hi))
    return FootLifts(events, float(tib), best, dur)
