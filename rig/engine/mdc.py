"""Minimal detectable change (MDC) per measure, and comparing a session with a baseline.

A change between two sessions counts as real only when it exceeds the measure's MDC (the
smallest change beyond test-retest measurement error, MDC95 = 1.96 * sqrt(2) * SEM). The
values below are what ships; a site that has measured its own test-retest reliability on its
board stores its values with ``Store.set_mdc`` (origin "site"), which then take precedence.

Sources (science.md §5, §7): published COP reliability is device-specific and does not
transfer between devices (PMC7246617), and no MDC has been published for this board. So:

* Path length and mean velocity: 28 % of the baseline value, the upper end of the 26-28 %
  reported for Wii Balance Board path length (children 10-14 y, BMC Pediatr 2014;14:144), the
  nearest published analogue of a four-cell consumer board. Labelled as such.
* Every other COP measure: ``DEFAULT_PERCENT`` = 33.3 % of the baseline value, MDC95 = 1.96 x
  sqrt(2) x the 12 % typical error of single-leg COP velocity (J Sports Sci Med 2018), applied
  by analogy: the figure and its source live in ``rig.published.screening`` (one default for
  the screen, ``rig history`` and the report).
* Questionnaires and manual tests where a published MDC exists: CAIT 3 points, IdFAI 3.6
  points (Japanese version, Phys Ther Sport 2019;35:1-6), weight-bearing lunge 1.9 cm / 4.7
  degrees (intra-rater, Powden, Hoch & Hoch 2015, Man Ther 20:524).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from rig.published.screening import SCREEN_MDC_PCT as DEFAULT_PERCENT  # noqa: E402
from rig.published.screening import SCREEN_MDC_SOURCE  # noqa: E402

DEFAULT_SOURCE = ("no published MDC for this board or measure: " + SCREEN_MDC_SOURCE)
WBB_PATH_SOURCE = ("26-28 % of path length, Wii Balance Board, children 10-14 y (BMC Pediatr "
                   "2014;14:144): nearest published analogue, not measured on this board")


@dataclass(frozen=True)
class Mdc:
    measure: str
    value: float
    kind: str        # "absolute" (in the measure's unit) or "percent" (of the baseline value)
    unit: str
    source: str
    origin: str = "default"   # "default" (shipped) or "site" (measured locally)

    def threshold(self, baseline: float) -> float:
        """The change (in the measure's unit) that must be exceeded, given the baseline."""
        if self.kind == "percent":
            return abs(baseline) * self.value / 100.0
        return self.value

    def describe(self) -> str:
        amount = f"{self.value:g} %" if self.kind == "percent" else f"{self.value:g} {self.unit}".strip()
        return f"{amount} ({self.source})"


_PATH_MEASURES = ("path_length_mm", "path_length_ml_mm", "path_length_ap_mm", "mean_velocity_mm_s",
                  "mean_velocity_ml_mm_s", "mean_velocity_ap_mm_s")

#: What ships. Keys are measure names (rig.engine.sway.MEASURES, or the runner's questionnaire keys).
DEFAULTS: dict[str, Mdc] = {
    **{m: Mdc(m, 28.0, "percent", "%", WBB_PATH_SOURCE) for m in _PATH_MEASURES},
    "cait_score": Mdc("cait_score", 3.0, "absolute", "points",
                      "CAIT MDC about 3 points (science.md §3, secondary source)"),
    "idfai_score": Mdc("idfai_score", 3.6, "absolute", "points",
                       "IdFAI MDC 3.60 (Japanese version, Phys Ther Sport 2019;35:1-6)"),
    "wblt_distance_cm": Mdc("wblt_distance_cm", 1.9, "absolute", "cm",
                            "WBLT intra-rater MDC 1.9 cm (Powden, Hoch & Hoch 2015, Man Ther 20:524)"),
    "wblt_angle_deg": Mdc("wblt_angle_deg", 4.7, "absolute", "deg",
                          "WBLT intra-rater MDC 4.7 deg (Powden, Hoch & Hoch 2015, Man Ther 20:524)"),
}

#: Measures for which a larger value means better balance (everything else: more sway = worse).
HIGHER_IS_BETTER_PREFIXES = ("ttb_", "time_in_balance", "cait_", "wblt_")


def default_mdc(measure: str, unit: str = "") -> Mdc:
    """The shipped MDC for a measure, else the documented percentage default."""
    return DEFAULTS.get(measure) or Mdc(measure, DEFAULT_PERCENT, "percent", unit or "", DEFAULT_SOURCE)


def higher_is_better(measure: str) -> bool:
    return measure.startswith(HIGHER_IS_BETTER_PREFIXES)


def compare(measure: str, baseline: float, value: float, mdc: Mdc) -> dict:
    """One measure, baseline vs now: change, threshold and a plain-words verdict.

    ``verdict`` is "within measurement error", "better, beyond MDC" or "worse, beyond MDC"
    (direction from ``higher_is_better``); "not comparable" if either value is missing.
    """
    out = {"measure": measure, "baseline": baseline, "value": value, "mdc": mdc.value,
           "mdc_kind": mdc.kind, "mdc_source": mdc.source, "mdc_origin": mdc.origin}
    if baseline is None or value is None or not (math.isfinite(baseline) and math.isfinite(value)):
        return out | {"change": math.nan, "change_pct": math.nan, "threshold": math.nan,
                      "beyond_mdc": False, "verdict": "not comparable"}
    change = value - baseline
    threshold = mdc.threshold(baseline)
    beyond = abs(change) > threshold
    if not beyond:
        verdict = "within measurement error"
    else:
        better = (change > 0) == higher_is_better(measure)
        verdict = ("better" if better else "worse") + ", beyond MDC"
    pct = 100.0 * change / abs(baseline) if baseline else math.nan
    return out | {"change": change, "change_pct": pct, "threshold": threshold,
                  "beyond_mdc": bool(beyond), "verdict": verdict}
