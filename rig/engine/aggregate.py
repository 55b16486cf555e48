"""One rule for averaging a condition's trials: used by the printed results, the screen,
``rig history``, the exports and the report, so they can never disagree.

The rule (stated wherever a mean is shown):
- only valid, non-practice trials count;
- a measure's mean is over the trials in which it is defined: a NaN or a missing value in one
  trial is left out of that measure's mean (it does not make the mean NaN, and the measure is
  kept even if another trial lacks it); ``n`` per measure says how many trials it rests on;
- the trial-to-trial SD (ddof = 1) is given where at least two trials define the measure;
- a measure defined in no trial has mean NaN and n = 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

RULE_TEXT = ("mean over the valid, non-practice trials in which the measure is defined "
             "(NaN or missing values left out, n per measure)")


@dataclass
class TrialMeans:
    means: dict[str, float] = field(default_factory=dict)
    n: dict[str, int] = field(default_factory=dict)
    sd: dict[str, float] = field(default_factory=dict)
    trials: int = 0


def trial_means(measure_dicts: list[dict]) -> TrialMeans:
    """Average the measure dicts of one condition's counted trials (see the module rule)."""
    names = list(dict.fromkeys(k for m in measure_dicts for k in m))
    out = TrialMeans(trials=len(measure_dicts))
    for k in names:
        vals = np.array([_num(m.get(k)) for m in measure_dicts], dtype=float)
        vals = vals[np.isfinite(vals)]
        out.n[k] = int(len(vals))
        out.means[k] = float(vals.mean()) if len(vals) else math.nan
        if len(vals) > 1:
            out.sd[k] = float(vals.std(ddof=1))
    return out


def counted(status: str, practice: bool) -> bool:
    """Whether a trial enters the condition means."""
    return status == "valid" and not practice


def _num(v) -> float:
    if v is None or isinstance(v, (dict, list, str)):
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan
