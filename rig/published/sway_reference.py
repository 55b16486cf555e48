"""Published reference values of single-leg sway measures: healthy groups and CAI.

One row per published figure (``REFERENCES``), keyed by the condition (stance, eyes, surface)
and the measure's key as ``rig.engine.sway.compute_measures`` returns it. Sources and their
evidence tags follow /work/shared/notes/reality.md §3 and science.md §2 (tags: [V] checked
against the source, [S] secondary source, [D] derived by arithmetic, [U] unverified).

Conventions:
- ``healthy_mean`` / ``healthy_sd``: the healthy group's mean and between-person SD of the
  measure, in the measure's unit; ``healthy_mean_range``: the range of means the source gives
  over limbs or trials (the mean is their middle).
- ``effect_d``: Cohen's d (or Hedges' g) of the CAI group's injured limb against healthy
  controls, signed in the measure's own direction: (CAI - healthy) / pooled SD. Larger sway and
  more touch-downs are positive; shorter time-to-boundary is negative. ``effect_d = 0.0``
  records a published "no group difference".
- ``limb``: "injured" (the CAI group's involved limb), or "uninjured" for rows about the other
  limb.
- ``typical_error_pct``: trial-to-trial typical error (Hopkins), % of the mean.
- ``between_cv_pct``: between-person SD / mean of healthy people, %.
- ``fs_hz`` / ``lowpass_hz``: the source's sampling rate and low-pass cut-off where known
  (None: not stated or not verified). Absolute values of velocity and time-to-boundary depend
  strongly on them (reality.md §3: TTB ML mean of minima 1.13-3.53 s on identical trials across
  50-500 Hz and filters); compare only at comparable settings.

``measure = "pooled"`` is a meta-analytic figure over many measures (not one key).
"""
from __future__ import annotations

from dataclasses import dataclass

JSSM_2018 = ("J Sports Sci Med 2018;17:174, Table 2: inter-trial reliability of an eyes-closed "
             "single-leg balance test on a force plate, dominant and non-dominant limb, trials 1 and 2")
ROSS_2009 = ("Ross SE, Guskiewicz KM, Gross MT, Yu B. Med Sci Sports Exerc 2009;41(2):399-407; "
             "22 FAI vs 22 controls, single-leg stance; d back-calculated from the reported p values")
MCKEON_2008 = ("McKeon PO, Hertel J. BMC Musculoskelet Disord 2008;9:76; 32 CAI vs 32 matched "
               "controls, 3 x 10 s single-limb stance EO and EC, first-order TTB; values as given in a "
               "review table")
KNAPP_2011 = ("Knapp D, Lee SY, Chinn L, Saliba SA, Hertel J. J Athl Train 2011;46(3):257-262; "
              "63 CAI vs 46 controls, 3 x 10 s single-limb stance EO and EC")
ARNOLD_2009 = ("Arnold BL, de la Motte S, Linens S, Ross SE. Med Sci Sports Exerc 2009;41(5):1048-1062; "
               "meta-analysis of 23 studies, pooled SMD 0.455 (95 % CI 0.334-0.577)")
ROSEN_2019 = ("Rosen AB, Needle AR, Ko J. Clin J Sport Med 2019;29(6):509; meta-analysis of functional "
              "performance tests: foot-lift test g = -0.761 (CAI worse)")
BILATERAL = ("Sports Med Open 2024, doi 10.1186/s40798-024-00702-y; Son 2018, J Phys Ther Sci 30:405: "
             "balance deficits of CAI are often bilateral, one study found the uninjured limb worse "
             "than controls")
HERTEL_LAB_RATE = "50 Hz (Hertel lab: 500 COP samples in a 10 s trial, PMC4559992) [V]; filter not verified"


@dataclass(frozen=True)
class Reference:
    """One published figure about one measure in one condition (see the module docstring)."""

    key: str                      # short unique id of the row
    stance: str                   # "single" (single-leg stance)
    eyes: str | None              # "open" | "closed" | None (any)
    surface: str                  # "firm"
    measure: str                  # a key of rig.engine.sway.compute_measures, or "pooled"
    unit: str
    source: str
    evidence: str                 # [V] [S] [D] [U], with what it applies to
    limb: str = "injured"         # "injured" | "uninjured": which CAI limb effect_d is about
    healthy_mean: float | None = None
    healthy_sd: float | None = None
    healthy_mean_range: tuple[float, float] | None = None
    cai_mean: float | None = None
    cai_sd: float | None = None
    effect_d: float | None = None
    typical_error_pct: float | None = None
    between_cv_pct: float | None = None
    n_healthy: int | None = None
    n_cai: int | None = None
    fs_hz: float | None = None
    lowpass_hz: float | None = None
    settings: str = "not stated"  # the source's processing, in words
    note: str = ""

    @property
    def condition(self) -> tuple[str, str | None, str]:
        return (self.stance, self.eyes, self.surface)

    def healthy_interval(self, k_sd: float = 2.0) -> tuple[float, float] | None:
        """The healthy mean +- ``k_sd`` between-person SDs (None when either is unknown)."""
        if self.healthy_mean is None or self.healthy_sd is None:
            return None
        return (self.healthy_mean - k_sd * self.healthy_sd, self.healthy_mean + k_sd * self.healthy_sd)


_S, _EC, _EO, _F = "single", "closed", "open", "firm"

REFERENCES: tuple[Reference, ...] = (
    # --- healthy single-leg eyes-closed COP velocity: absolute values, spread, trial-to-trial error
    Reference("jssm2018_velocity_ec", _S, _EC, _F, "mean_velocity_mm_s", "mm/s", JSSM_2018,
              "[V] values (published table read); CV [D] = SD / mean",
              healthy_mean=86.0, healthy_sd=19.0, healthy_mean_range=(84.0, 89.0),
              typical_error_pct=12.0, between_cv_pct=22.0,
              settings="rate and filter not verified; compared at the rig's defaults",
              note="means .084-.089 m/s, SD .018-.020 m/s, TE .010 m/s, %CV 12"),
    Reference("jssm2018_velocity_ml_ec", _S, _EC, _F, "mean_velocity_ml_mm_s", "mm/s", JSSM_2018,
              "[V] values; CV [D]",
              healthy_mean=47.5, healthy_sd=12.0, healthy_mean_range=(46.0, 49.0),
              typical_error_pct=12.0, between_cv_pct=25.0,
              settings="rate and filter not verified; compared at the rig's defaults",
              note="means .046-.049 m/s, SD .011-.013 m/s, TE .005-.006 m/s, %CV 11-13"),
    Reference("jssm2018_velocity_ap_ec", _S, _EC, _F, "mean_velocity_ap_mm_s", "mm/s", JSSM_2018,
              "[V] values; CV [D]",
              healthy_mean=61.0, healthy_sd=14.0, healthy_mean_range=(58.0, 65.0),
              typical_error_pct=13.0, between_cv_pct=23.0,
              settings="rate and filter not verified; compared at the rig's defaults",
              note="means .058-.065 m/s, SD .012-.016 m/s, TE .008 m/s, %CV 13"),
    # --- CAI effect sizes, eyes closed
    Reference("ross2009_velocity_ml_ec", _S, _EC, _F, "mean_velocity_ml_mm_s", "mm/s", ROSS_2009,
              "[V] p values; [D] d back-calculated", effect_d=0.76, n_healthy=22, n_cai=22,
              note="FAI greater M/L mean COP velocity, p = .016"),
    Reference("ross2009_velocity_ap_ec", _S, _EC, _F, "mean_velocity_ap_mm_s", "mm/s", ROSS_2009,
              "[V] p values; [D] d back-calculated", effect_d=0.76, n_healthy=22, n_cai=22,
              note="FAI greater A/P mean COP velocity, p = .015"),
    Reference("ross2009_sd_ml_ec", _S, _EC, _F, "sd_ml_mm", "mm", ROSS_2009,
              "[V] p value; [D] d back-calculated", effect_d=0.62, n_healthy=22, n_cai=22,
              note="FAI greater M/L COP SD, p = .046"),
    Reference("mckeon2008_ttb_min_ml_ec", _S, _EC, _F, "ttb_min_ml_s", "s", MCKEON_2008,
              "[S] review table; d [D]", healthy_mean=0.53, healthy_sd=0.10, cai_mean=0.48,
              cai_sd=0.10, effect_d=-0.50, n_healthy=32, n_cai=32, fs_hz=50.0,
              settings=HERTEL_LAB_RATE),
    Reference("mckeon2008_ttb_min_ap_ec", _S, _EC, _F, "ttb_min_ap_s", "s", MCKEON_2008,
              "[S] review table; d [D]", healthy_mean=1.61, healthy_sd=0.47, cai_mean=1.36,
              cai_sd=0.40, effect_d=-0.57, n_healthy=32, n_cai=32, fs_hz=50.0,
              settings=HERTEL_LAB_RATE),
    Reference("mckeon2008_ttb_mean_min_ap_ec", _S, _EC, _F, "ttb_mean_min_ap_s", "s", MCKEON_2008,
              "[S] review table; d [D]", healthy_mean=5.51, healthy_sd=1.63, cai_mean=4.71,
              cai_sd=1.14, effect_d=-0.57, n_healthy=32, n_cai=32, fs_hz=50.0,
              settings=HERTEL_LAB_RATE),
    # --- eyes open: no group difference
    Reference("mckeon2008_ttb_min_ml_eo", _S, _EO, _F, "ttb_min_ml_s", "s", MCKEON_2008,
              "[V] no difference with eyes open (abstract); d = 0 [D]", effect_d=0.0,
              n_healthy=32, n_cai=32, fs_hz=50.0, settings=HERTEL_LAB_RATE),
    Reference("mckeon2008_ttb_mean_min_ap_eo", _S, _EO, _F, "ttb_mean_min_ap_s", "s", MCKEON_2008,
              "[V] no difference with eyes open (abstract); d = 0 [D]", effect_d=0.0,
              n_healthy=32, n_cai=32, fs_hz=50.0, settings=HERTEL_LAB_RATE),
    Reference("knapp2011_velocity_eo", _S, _EO, _F, "mean_velocity_mm_s", "mm/s", KNAPP_2011,
              "[V] only eyes-closed measures predicted CAI status (abstract); d = 0 [D]",
              effect_d=0.0, n_healthy=46, n_cai=63),
    Reference("knapp2011_sd_ml_eo", _S, _EO, _F, "sd_ml_mm", "mm", KNAPP_2011,
              "[V] only eyes-closed measures predicted CAI status (abstract); d = 0 [D]",
              effect_d=0.0, n_healthy=46, n_cai=63),
    # --- pooled, foot-lift, the other limb
    Reference("arnold2009_pooled", _S, None, _F, "pooled", "SMD", ARNOLD_2009,
              "[V] abstract", effect_d=0.46,
              note="pooled over static and dynamic balance measures, EO and EC"),
    Reference("rosen2019_footlift_ec", _S, _EC, _F, "touchdowns", "count", ROSEN_2019,
              "[V] abstract; sign turned to the count's direction", effect_d=0.76,
              settings="foot-lift test: 30 s, eyes closed, lifts and touch-downs counted by eye",
              note="published g = -0.761 (CAI worse); here +0.76: CAI more events. The board counts "
                   "touch-downs of the free foot (detect_touchdowns), a proxy for the foot-lift count"),
    Reference("bilateral_uninjured_ec", _S, _EC, _F, "pooled", "d", BILATERAL,
              "[V] citation; direction only (no pooled effect size)", limb="uninjured",
              note="the uninjured limb of CAI is partly affected: 0 < d(uninjured) < d(injured)"),
)

_BY_KEY = {r.key: r for r in REFERENCES}
if len(_BY_KEY) != len(REFERENCES):
    raise RuntimeError("duplicate reference key in sway_reference.REFERENCES")


def reference(key: str) -> Reference:
    """The row with ``key`` (KeyError with the known keys otherwise)."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise KeyError(f"no published reference {key!r}; known: {', '.join(_BY_KEY)}") from None


def lookup(measure: str, eyes: str | None = None, stance: str = "single", surface: str = "firm",
           limb: str | None = None) -> tuple[Reference, ...]:
    """Rows about ``measure`` in the given condition (``eyes`` None: any), in table order.

    Rows that apply to any eyes condition (``eyes`` None in the row) match every ``eyes``.
    """
    return tuple(r for r in REFERENCES
                 if r.measure == measure and r.stance == stance and r.surface == surface
                 and (eyes is None or r.eyes in (None, eyes))
                 and (limb is None or r.limb == limb))


def healthy_reference(measure: str, eyes: str, stance: str = "single",
                      surface: str = "firm") -> Reference | None:
    """The first row giving a healthy mean and SD for ``measure`` in that condition, or None."""
    for r in lookup(measure, eyes, stance, surface):
        if r.healthy_mean is not None and r.healthy_sd is not None and r.eyes == eyes:
            return r
    return None
