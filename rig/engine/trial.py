"""One trial's analysis, the same wherever a trial is measured: the runner (rig.session.runner),
the simulated population (rig.sim.population) and the screen-accuracy bench
(bench/screen_accuracy.py) all call these two functions, so a simulated or benchmarked figure
is measured as a recorded trial is.

``measured_stretch``: in a single-leg trial that counts foot-lifts, the foot-lifts are counted
over the whole trace (rig.engine.footlift) and the COP measures are taken on the quiet stretch
between them when it is long enough; otherwise on the whole trace.

``trial_measures``: preprocessing (rig.engine.preprocess) then the measures
(rig.engine.sway.compute_measures); the foot-lift count and time in balance of the whole trace,
when counted, replace those of the stretch measured.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from rig.engine import footlift
from rig.engine.footlift import FootLifts
from rig.engine.preprocess import PreprocessOptions, preprocess
from rig.engine.sway import compute_measures


@dataclass(frozen=True)
class Stretch:
    """The samples ``[start, stop)`` of a trace whose COP is measured, and its foot-lifts."""

    start: int
    stop: int
    footlifts: FootLifts           # counted over the whole trace (times from its start)
    validity_footlifts: FootLifts  # the same, with the quiet stretch from the stretch's start
    processing: dict               # what the trial's record says: "footlifts", "measured_on"

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)


def measured_stretch(t_s, fz_n, x_mm, y_mm, body_weight_n: float) -> Stretch:
    """Foot-lifts of a single-leg trace (board time ``t_s`` in s, ``fz_n`` N, COP mm, body
    weight N) and the stretch its COP measures are taken on: the quiet stretch when the trace
    has one at least ``footlift.QUIET_MIN_S`` long, else the whole trace."""
    t = np.asarray(t_s, float)
    lifts = footlift.find(t, fz_n, x_mm, y_mm, body_weight_n)
    processing: dict = {"footlifts": lifts.as_dict()}
    if not lifts.measurable:
        return Stretch(0, len(t), lifts, lifts, processing)
    q0, q1 = lifts.quiet_s
    quiet = lifts.quiet_slice(t)
    i, j = quiet.start, quiet.stop
    processing["measured_on"] = (f"quiet stretch {q0:.2f}-{q1:.2f} s "
                                 "of the trial (foot-lifts and their recovery left out)")
    rebased = dataclasses.replace(lifts, quiet_s=(0.0, float(t[j - 1] - t[i])))
    return Stretch(i, j, lifts, rebased, processing)


def trial_measures(t_s, x_mm, y_mm, fz_n, options: PreprocessOptions, *, foot=None,
                   body_weight_n: float | None = None, footlifts: FootLifts | None = None,
                   **measure_sets) -> tuple[dict[str, float], dict]:
    """(measures, processing record) of one trace: board time ``t_s`` (s), COP (mm), total force
    ``fz_n`` (N), preprocessed with ``options``; ``foot``, ``body_weight_n`` and the
    ``measure_sets`` switches as ``compute_measures`` takes them. ``footlifts`` (counted over the
    whole trial) give ``touchdowns`` and ``time_in_balance_s`` as the trial's record states them.
    Raises AnalysisError when the trace cannot be analysed."""
    trace = preprocess(t_s, x_mm, y_mm, fz_n, options)
    measures = compute_measures(trace, foot=foot, body_weight_n=body_weight_n, **measure_sets)
    if footlifts is not None:
        stored = footlifts.as_dict()
        measures["touchdowns"] = float(stored["count"])
        measures["time_in_balance_s"] = float(stored["time_in_balance_s"])
    return measures, dict(trace.processing)
