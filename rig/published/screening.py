"""Published figures the ankle-instability screen uses: cut-offs, likelihood ratios, MDC
defaults and (provisionally) healthy reference ranges, each with its source.

Nothing here is computed from data; every number is a quotation or a stated derivation of one.
Evidence marks as in the project's science notes: [V] verified against the source's abstract
or text, [S] secondary source, [U] as commonly reproduced, not yet checked against the paper,
[D] derived here (the derivation is given).

The screen (rig.session.screening) reads only this module for its numbers; a protocol file
chooses which measures feed the balance statement, not the thresholds.
"""
from __future__ import annotations

from dataclasses import dataclass

# ----------------------------------------------------------------------------- sources
GRIBBLE_2014 = ("Gribble PA, Delahunt E, Bleakley C, et al. Selection criteria for patients with "
                "chronic ankle instability in controlled research: a position statement of the "
                "International Ankle Consortium. Br J Sports Med 2014;48:1014-8; J Athl Train "
                "2014;49(1):121-7")
WRIGHT_2014 = ("Wright CJ, Arnold BL, Ross SE, Linens SW. Recalibration and validation of the "
               "Cumberland Ankle Instability Tool cutoff score for individuals with chronic ankle "
               "instability. Arch Phys Med Rehabil 2014;95(10):1853-9")
HILLER_2006 = ("Hiller CE, Refshauge KM, Bundy AC, Herbert RD, Kilbreath SL. The Cumberland Ankle "
               "Instability Tool: a report of validity and reliability testing. Arch Phys Med "
               "Rehabil 2006;87:1235-41")
KNAPP_2011 = ("Knapp D, Lee SY, Chinn L, Saliba SA, Hertel J. Differential ability of selected "
              "postural-control measures in the prediction of chronic ankle instability status. "
              "J Athl Train 2011;46(3):257-62")
ROSEN_2019 = ("Rosen AB, Needle AR, Ko J. Ability of functional performance tests to identify "
              "individuals with chronic ankle instability: a systematic review with meta-analysis. "
              "Clin J Sport Med 2019;29:509-22")
POWDEN_2015 = ("Powden CJ, Hoch JM, Hoch MC. Reliability and minimal detectable change of the "
               "weight-bearing lunge test: a systematic review. Man Ther 2015;20(4):524-32")
MCKEON_HERTEL_2008 = ("McKeon PO, Hertel J. Spatiotemporal postural control deficits are present "
                      "in those with chronic ankle instability. BMC Musculoskelet Disord 2008;9:76")
JSSM_2018 = "J Sports Sci Med 2018;17:174 (single-leg stance, eyes closed; Tables 2 and 4)"
CAIN_LINENS_2015 = ("Cain MS, Linens SW. Br J Sports Med 2015;49(Suppl 1):A14.2 (abstract; "
                    "high-school athletes, 13 CAI / 13 controls)")


@dataclass(frozen=True)
class CaitCutoff:
    """A published CAIT cut-off: the score meets it when ``score <rule> value`` (lower = worse)."""

    key: str
    rule: str                  # "<" or "<="
    value: float
    use: str                   # what the cut-off is for
    source: str
    evidence: str
    sensitivity: float | None = None
    specificity: float | None = None
    lr_positive: float | None = None
    lr_negative: float | None = None
    lr_note: str = ""

    def met(self, score: float) -> bool:
        return score < self.value if self.rule == "<" else score <= self.value

    @property
    def text(self) -> str:
        return f"CAIT {self.rule} {self.value:g}"


#: The IAC's self-reported-disability criterion for CAIT. [U] (science.md §3.3: the list of
#: instruments and thresholds as commonly reproduced; verify against the position statement).
CAIT_IAC = CaitCutoff("iac", "<", 24, "IAC research inclusion criterion (self-reported disability)",
                      GRIBBLE_2014, "U")
#: Best-validated discrimination. [V] abstract: Se 96.6 %, Sp 86.8 %, LR+ 7.318, LR- .039.
CAIT_WRIGHT = CaitCutoff("wright2014", "<=", 25, "clinical cut-off with the best validated accuracy",
                         WRIGHT_2014, "V", 0.966, 0.868, 7.318, 0.039)
#: Original cut-off (threshold 27.5, Youden). [V] abstract: Se 82.9 %, Sp 74.7 %; the LRs are
#: derived here [D]: LR+ = Se / (1 - Sp) = 3.28, LR- = (1 - Se) / Sp = 0.23.
CAIT_HILLER = CaitCutoff("hiller2006", "<=", 27, "original cut-off (screening sensitivity)",
                         HILLER_2006, "V", 0.829, 0.747, round(0.829 / (1 - 0.747), 2),
                         round((1 - 0.829) / 0.747, 2), "LRs derived from the published Se and Sp")
#: The criterion uses the IAC cut-off; the others are shown beside it.
CAIT_CUTOFFS = (CAIT_IAC, CAIT_WRIGHT, CAIT_HILLER)
CAIT_CRITERION = CAIT_IAC

# --------------------------------------------------------------------- IAC history criteria
#: IAC inclusion criteria 1 and 2 (Gribble 2014), wording as commonly reproduced [U]
#: (science.md §3.3). The screen asks for the parts it can decide from the clinician's entries.
IAC_SPRAIN_MIN_MONTHS = 12       # initial significant lateral sprain at least 12 months ago
IAC_GIVING_WAY_MIN_EPISODES = 2  # "giving way": at least 2 episodes ...
IAC_GIVING_WAY_WINDOW_MONTHS = 6  # ... in the previous 6 months
IAC_WORDING = {
    "sprain": ("a history of at least one significant lateral ankle sprain, the initial sprain at "
               f"least {IAC_SPRAIN_MIN_MONTHS} months ago (with inflammatory symptoms and at least "
               "one interrupted day of desired physical activity; the most recent injury more than "
               "3 months ago)"),
    "instability": ("the previously injured ankle \"giving way\" (at least "
                    f"{IAC_GIVING_WAY_MIN_EPISODES} episodes in the previous "
                    f"{IAC_GIVING_WAY_WINDOW_MONTHS} months), and/or recurrent sprain, and/or "
                    "\"feelings of instability\""),
    "disability": f"self-reported disability on a validated instrument, here {CAIT_IAC.text}",
}
IAC_NOT_ASKED = ("not asked by this screen: inflammatory symptoms, interrupted days of activity, "
                 "time since the most recent injury (> 3 months), and the IAC exclusions "
                 "(previous lower-limb surgery or fracture, acute lower-limb injury in the past 3 months)")
IAC_EVIDENCE = "U"

# ------------------------------------------------------------- balance: what the literature gives
#: Instrumented single-leg measures: Knapp 2011 found three eyes-closed measures (COP ML SD,
#: ML % of range used, TTB ML absolute minimum) predicted CAI status, all with small positive
#: likelihood ratios. The figures are in the paper's table [U]; reportedly LR+ < 2. No number is
#: shown until verified.
BALANCE_LR_TEXT = ("instrumented single-leg measures carry small likelihood ratios (Knapp et al. "
                   "2011: reportedly LR+ below 2, not yet verified against the paper), so a "
                   "balance finding suggests, it does not indicate")
#: Foot-lift test (Hertel et al. 2006: 30 s single leg, eyes closed, each lift or touch-down one
#: error). Pooled effect CAI vs healthy g = -0.761 (Rosen 2019 [V]); cut-off >= 4 lifts in a
#: small sample (Cain & Linens 2015 [V], abstract); Linens 2014's >= 5 is [U] and not used.
FOOT_LIFT_EFFECT = {"g": -0.761, "source": ROSEN_2019, "evidence": "V"}
FOOT_LIFT_CUTOFF = {"min_errors": 4, "duration_s": 30.0, "eyes": "closed", "source": CAIN_LINENS_2015,
                    "evidence": "V", "note": "optimistic in-sample cut-off from 13 + 13 athletes"}

# ----------------------------------------------------------------------------- MDC defaults
#: When the site has not measured its own test-retest MDC, the screen uses this default for the
#: COP and TTB measures: MDC95 = 1.96 x sqrt(2) x typical error, with the typical error of
#: single-leg COP velocity about 12 % (J Sports Sci Med 2018) [D]: 33 % of the reference value.
#: Applied to the other single-leg measures by analogy (their own test-retest errors on this
#: board are not known): stated in every comparison.
TYPICAL_ERROR_PCT = 12.0
SCREEN_MDC_PCT = round(1.96 * 2 ** 0.5 * TYPICAL_ERROR_PCT, 1)     # 33.3
SCREEN_MDC_SOURCE = (f"default: MDC95 = 1.96 x sqrt(2) x typical error {TYPICAL_ERROR_PCT:g} % "
                     f"= {SCREEN_MDC_PCT:g} % (typical error of single-leg COP velocity, {JSSM_2018}; "
                     "applied to this measure by analogy, not measured on this board)")
#: Weight-bearing lunge: intra-rater MDC 1.9 cm (Powden 2015 [V]).
LUNGE_MDC_CM = 1.9
LUNGE_SOURCE = f"weight-bearing lunge MDC 1.9 cm, intra-rater ({POWDEN_2015})"

# --------------------------------------------------------------- healthy reference (provisional)
#: Published healthy values per condition and measure: (mean, SD, source, settings). The range
#: shown is mean +- 1.96 SD (the central 95 % of a normally distributed healthy group). Provisional:
#: rig.published.sway_reference holds the full table; the lead connects ``healthy_range`` to it.
HEALTHY_RANGE_RULE = "mean +- 1.96 SD of the published healthy group"
#: Whether a value outside the published healthy range counts as a balance finding. Not yet:
#: COP numbers do not transfer between devices (poor cross-platform agreement, PMC7246617;
#: science.md §8.4) and the table's values were measured at other rates, filters and foot
#: boundaries. The comparison is shown beside each value; turn this on only for references
#: measured at settings this board reproduces.
HEALTHY_RANGE_DECIDES = False
HEALTHY_RANGE_CAVEAT = ("shown for context, not used to decide: published values come from other "
                        "devices and processing")
def healthy_range(condition: str, measure_key: str) -> tuple[float, float, str] | None:
    """(low, high, source) of the published healthy range for ``measure_key`` in ``condition``
    (e.g. "single_leg_eyes_closed"), or None when nothing is published. Range: mean +- 1.96 SD
    of the healthy group, from the one table of published sway values
    (``rig.published.sway_reference``, which the simulated athlete is calibrated to as well)."""
    from rig.published.sway_reference import healthy_reference

    stance, _, eyes = condition.partition("_eyes_")
    if stance != "single_leg" or eyes not in ("open", "closed"):
        return None
    r = healthy_reference(measure_key, eyes)
    if r is None:
        return None
    src = f"{r.source} {r.evidence}; settings: {r.settings}"
    return (r.healthy_mean - 1.96 * r.healthy_sd, r.healthy_mean + 1.96 * r.healthy_sd,
            f"{src}; range {HEALTHY_RANGE_RULE}")


# ------------------------------------------------------------ expected accuracy (simulated)
#: The balance statement run on the simulated population (bench/screen_accuracy.py). Simulated,
#: not clinical: it shows what the rule can do against the simulated athlete's effect sizes.
#: Measured on the simulated athlete calibrated to the published effect sizes (d about 0.5-0.8
#: eyes closed): the balance statement alone finds a difference beyond measurement error on 4 of
#: 100 unstable ankles (LR+ 1.6, LR- 0.98), which is why the criteria statement, not balance,
#: decides the recommendation. (Before the recalibration, at d 1.5-2.8, it gave 82 % / 95.5 %.)
SIMULATED_ACCURACY: dict | None = {
    "sensitivity": 0.04, "specificity": 0.975, "lr_positive": 1.6, "lr_negative": 0.98,
    "unstable_ankles": 100, "healthy_ankles": 200, "athlete_specificity": 0.95,
    "date": "2026-11-27", "command": "python bench/screen_accuracy.py --athletes 200 --seed 2026 --rate-hz 80",
    "population": "simulated athletes calibrated to the published CAI effect sizes "
                  "(rig.published.sway_reference, docs/SIMULATED_ATHLETE.md); scene traces without board noise",
    "kind": "simulated, this project; not clinical",
}
