"""A population of simulated athletes measured like a CAI study: the scene's calibration check.

Each athlete is the ``sim://`` athlete of one seed (the same person the board would show), doing
single-leg trials on each limb, eyes open and closed (Hertel et al. 2006; McKeon & Hertel 2008:
3 x 10 s per limb and condition). The COP comes straight from the scene's forces (plus board
noise of the simulated HX711s), not through the serial link or the runner, so a population of
dozens takes seconds and is exactly reproducible. The measures are those of
``rig.engine.trial.trial_measures`` (as the runner's) at the processing settings a published figure was
obtained with (``rig.published.sway_reference``), so simulated and published numbers are
compared like for like.

``population_summary`` turns the trials into the figures the literature reports: healthy group
mean and SD, between-athlete CV, trial-to-trial typical error (Hopkins 2000: SD of the trial 1 -
trial 2 differences / sqrt 2, as % of the mean), and Cohen's d of the injured limb (and of the
uninjured limb) of CAI athletes against healthy athletes' limbs (pooled SD).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rig.engine import stance as stance_marks
from rig.engine.cop import cop_from_forces
from rig.engine.preprocess import PreprocessOptions
from rig.engine.trial import trial_measures
from rig.sim.board import NOISE_COUNTS_RMS, NOMINAL_CELL_POSITIONS_MM, NOMINAL_GAIN_COUNTS_PER_N
from rig.sim.scene import build_scene
from rig.units import G_M_S2

TRIAL_S = 10.0
BLOCK_S = 15.5           # one trial block: step on, lift the foot (1.55 s), settle, 10 s trial, spare
WINDOW_START_S = 4.5     # the analysed 10 s start here within a block (touch-downs may come from 4.5 s)
TRIALS = 3
SPARES = 3               # extra blocks per limb and condition for trials with a touch-down
SCENE_SEED_TAG = 0x5CE4E  # as rig.sim.protocol_sim: the athlete of seed s is the sim://?seed=s athlete


@dataclass(frozen=True)
class Processing:
    """How a trial becomes measures: board rate (Hz) and zero-lag low-pass cut-off (Hz)."""

    fs_hz: float
    lowpass_hz: float | None

    def label(self) -> str:
        f = "no filter" if self.lowpass_hz is None else f"{self.lowpass_hz:g} Hz low-pass"
        return f"{self.fs_hz:g} Hz, {f}"


@dataclass
class Athlete:
    """Measures of one simulated athlete: trials[(processing label, eyes, limb)] -> list of
    measure dicts, one per valid trial (limb: "left"/"right"); touchdowns[(eyes, limb)] -> count
    in the first 3 x 10 s."""

    seed: int
    profile: str
    injured: str | None
    trials: dict = field(default_factory=dict)
    touchdowns: dict = field(default_factory=dict)

    def limb_role(self, limb: str) -> str:
        if self.injured is None:
            return "healthy"
        return "injured" if limb == self.injured else "uninjured"


def _script(eyes_list) -> tuple[str, list[tuple[str, str]]]:
    items, keys = [], []
    for eyes in eyes_list:
        for limb in ("left", "right"):
            for _ in range(TRIALS + SPARES):
                items.append(f"single_{limb}:{eyes}:firm:{BLOCK_S:g}")
                keys.append((eyes, limb))
    return ",".join(items), keys


def simulate_athlete(seed: int, profile: str = "healthy", injured: str | None = None,
                     processings=(Processing(100.0, 10.0),), eyes_list=("open", "closed"),
                     extra: dict | None = None) -> Athlete:
    """Single-leg trials of the athlete of ``seed``: 3 valid x 10 s per limb and eyes, measured
    at each of ``processings`` (their rates must divide the highest one: the scene is sampled
    once, at the highest rate, and decimated). Trials with a touch-down of the free foot in
    their 10 s are replaced by spare blocks, as the runner repeats them; ``touchdowns`` counts
    what the engine's ``detect_touchdowns`` finds in the first 3 x 10 s (the foot-lift test is
    30 s with eyes closed), at the first of ``processings``."""
    script, keys = _script(eyes_list)
    opts = {"profile": [profile], "script": [script], "rest_s": ["1"], "on_s": ["0.5"]}
    if injured:
        opts["injured"] = [injured]
    for k, v in (extra or {}).items():
        opts[k] = [str(v)]
    pos = NOMINAL_CELL_POSITIONS_MM
    scene = build_scene(opts, np.random.default_rng([seed, SCENE_SEED_TAG]), pos)
    scene.forces_n(np.zeros(1))                       # the scene's clock starts at 0
    bw = scene.person.mass_kg * G_M_S2
    segments = scene.sources[0].segments
    noise_rng = np.random.default_rng([seed, 0x5EED, 7])
    noise_n = NOISE_COUNTS_RMS / NOMINAL_GAIN_COUNTS_PER_N
    base_fs = max(p.fs_hz for p in processings)
    steps = []
    for p in processings:
        k = base_fs / p.fs_hz
        if abs(k - round(k)) > 1e-9:
            raise ValueError(f"rate {p.fs_hz:g} Hz does not divide {base_fs:g} Hz")
        steps.append(int(round(k)))
    ath = Athlete(seed, profile, injured)
    counted: dict = {}
    for seg, key in zip(segments, keys):
        eyes, limb = key
        t0 = seg.start_s + WINDOW_START_S
        clean = not any(t0 - 1.0 < td < t0 + TRIAL_S for td, _ in seg.touchdowns)
        n_valid = len(ath.trials.get((processings[0].label(), eyes, limb), []))
        n_counted = len(counted.setdefault(key, []))
        if n_valid >= TRIALS and n_counted >= TRIALS:
            continue
        t = t0 + np.arange(int(round(TRIAL_S * base_fs))) / base_fs
        f = scene.forces_n(t) + noise_rng.normal(0.0, noise_n, (len(t), 4))
        fz, x, y = cop_from_forces(f, pos)
        foot = stance_marks.base_of_support(f"single_{limb}")
        for j, (p, step) in enumerate(zip(processings, steps)):
            if j > 0 and not (clean and n_valid < TRIALS):
                break
            sl = slice(None, None, step)
            m, _ = trial_measures(t[sl], x[sl], y[sl], fz[sl],
                                  PreprocessOptions(fs_hz=p.fs_hz, lowpass_hz=p.lowpass_hz),
                                  foot=foot, body_weight_n=bw, spectral_measures=False, research=False)
            if j == 0 and n_counted < TRIALS:
                counted[key].append(m["touchdowns"])
            if clean and n_valid < TRIALS:
                ath.trials.setdefault((p.label(), eyes, limb), []).append(m)
    ath.touchdowns = {k: float(sum(v)) for k, v in counted.items()}
    return ath


def population(n_healthy: int, n_cai: int, processings, first_seed: int = 1000,
               eyes_list=("open", "closed"), profile_cai: str = "cai") -> list[Athlete]:
    """``n_healthy`` healthy and ``n_cai`` CAI athletes (injured side alternating left/right),
    seeds from ``first_seed`` on; deterministic."""
    out = []
    for i in range(n_healthy):
        out.append(simulate_athlete(first_seed + i, "healthy", None, processings, eyes_list))
    for i in range(n_cai):
        side = "left" if i % 2 == 0 else "right"
        out.append(simulate_athlete(first_seed + 500 + i, profile_cai, side, processings, eyes_list))
    return out


def limb_values(athletes, processing: Processing, eyes: str, measure: str, role: str,
                trial: int | None = None) -> np.ndarray:
    """One value per athlete: the mean of the valid trials (or trial ``trial``, NaN for athletes
    without three valid finite trials) of the limb with
    ``role`` ("healthy": one limb per healthy athlete, alternating left/right by seed, as a
    control group matched to injured sides of both kinds; "injured", "uninjured")."""
    vals = []
    for a in athletes:
        if role == "healthy":
            if a.injured is not None:
                continue
            limb = "left" if a.seed % 2 == 0 else "right"
        else:
            if a.injured is None:
                continue
            limb = a.injured if role == "injured" else ("right" if a.injured == "left" else "left")
        if measure == "touchdowns":
            vals.append(a.touchdowns[(eyes, limb)])
            continue
        ms = a.trials.get((processing.label(), eyes, limb), [])
        xs = [m[measure] for m in ms if np.isfinite(m[measure])]
        if trial is not None:
            # trial-by-trial values only from athletes with all their valid trials finite, so
            # that trial k of every athlete lines up with trial k' of the same athlete
            vals.append(xs[trial] if len(xs) == TRIALS else np.nan)
        elif xs:
            vals.append(float(np.mean(xs)))
    return np.asarray(vals, float)


def cohens_d(a: np.ndarray, b: np.ndarray) -> float:
    """(mean a - mean b) / pooled SD (N - 1 each)."""
    na, nb = len(a), len(b)
    sp = np.sqrt(((na - 1) * np.var(a, ddof=1) + (nb - 1) * np.var(b, ddof=1)) / (na + nb - 2))
    return float((a.mean() - b.mean()) / sp)


def typical_error_pct(athletes, processing: Processing, eyes: str, measure: str,
                      role: str = "healthy") -> float:
    """Trial-to-trial typical error (Hopkins 2000): SD(trial 2 - trial 1) / sqrt 2, as % of the
    mean of trials 1 and 2, over athletes with both trials."""
    t1 = limb_values(athletes, processing, eyes, measure, role, trial=0)
    t2 = limb_values(athletes, processing, eyes, measure, role, trial=1)
    ok = np.isfinite(t1) & np.isfinite(t2)
    d = t2[ok] - t1[ok]
    return float(100.0 * np.std(d, ddof=1) / np.sqrt(2) / np.mean(np.r_[t1[ok], t2[ok]]))


@dataclass(frozen=True)
class Summary:
    healthy_mean: float
    healthy_sd: float
    between_cv_pct: float       # SD / mean of single-trial (trial 1) values of healthy athletes
    typical_error_pct: float
    d_injured: float            # injured limb of CAI vs healthy limbs
    d_uninjured: float          # uninjured limb of CAI vs healthy limbs
    cai_mean: float


def summarise(athletes, processing: Processing, eyes: str, measure: str) -> Summary:
    h = limb_values(athletes, processing, eyes, measure, "healthy")
    inj = limb_values(athletes, processing, eyes, measure, "injured")
    un = limb_values(athletes, processing, eyes, measure, "uninjured")
    if measure == "touchdowns":
        cv, te = float("nan"), float("nan")
    else:
        h1 = limb_values(athletes, processing, eyes, measure, "healthy", trial=0)
        h1 = h1[np.isfinite(h1)]
        cv = float(100.0 * np.std(h1, ddof=1) / np.mean(h1))
        te = typical_error_pct(athletes, processing, eyes, measure)
    return Summary(float(h.mean()), float(np.std(h, ddof=1)), cv, te, cohens_d(inj, h),
                   cohens_d(un, h), float(inj.mean()))


# ----------------------------------------------------------------------------- against the table
RIG_DEFAULT = Processing(100.0, 10.0)
"""The rig's default processing (10 Hz zero-lag low-pass, Ruhe 2010) at the standard 100 Hz.
Used for rows whose source settings are not known."""
HERTEL_LAB = Processing(50.0, 5.0)
"""50 Hz as the Hertel lab sampled; the 5 Hz low-pass is an assumption (source filter not
verified). Used for rows with ``fs_hz == 50``."""

# Tolerances of the simulated population against each published figure. Stated here once; the
# test (tests/sim/test_population.py) and the table script (bench/athlete_population.py) use them.
MEAN_TOL_SD = 0.5          # healthy mean within +- 0.5 published between-person SD ...
MEAN_TOL_SD_TTB = 1.0      # ... +- 1 SD for time-to-boundary (filter and boundary unverified)
SD_TOL_REL = 0.35          # healthy between-person SD within +- 35 % of the published SD
CV_TOL_PCT = 6.0           # between-person CV within +- 6 percentage points
TE_TOL_PCT = 4.0           # trial-to-trial typical error within +- 4 percentage points
D_TOL = 0.35               # effect size within +- 0.35 (sampling SE of d at 40 + 40 is ~0.23)
D_ZERO_TOL = 0.3           # "no group difference": |d| <= 0.3
POOLED_TOL = 0.25          # Arnold 2009 pooled SMD: mean simulated deficit d within +- 0.25


def processing_for(ref) -> Processing:
    """The processing a simulated figure is computed at to compare with ``ref``."""
    return HERTEL_LAB if ref.fs_hz == 50.0 else RIG_DEFAULT


@dataclass(frozen=True)
class Check:
    key: str
    quantity: str          # "healthy mean", "healthy SD", "CV %", "TE %", "d", ...
    simulated: float
    published: float
    lo: float
    hi: float
    processing: str

    @property
    def ok(self) -> bool:
        return bool(self.lo <= self.simulated <= self.hi)


def _deficit_sign(measure: str) -> float:
    """+1 where larger values are worse (sway, touch-downs), -1 where smaller are (TTB)."""
    return -1.0 if measure.startswith("ttb_") else 1.0


def compare(references, athletes) -> list[Check]:
    """Every published figure of ``references`` against the simulated ``athletes``."""
    out: list[Check] = []
    measure_rows = [r for r in references if r.measure != "pooled" and r.limb == "injured"]
    for r in references:
        if r.measure == "pooled":
            continue
        p = processing_for(r)
        s = summarise(athletes, p, r.eyes, r.measure)
        lab = p.label()
        if r.healthy_mean is not None:
            k = MEAN_TOL_SD_TTB if r.measure.startswith("ttb_") else MEAN_TOL_SD
            tol = k * r.healthy_sd
            out.append(Check(r.key, "healthy mean", s.healthy_mean, r.healthy_mean,
                             r.healthy_mean - tol, r.healthy_mean + tol, lab))
        if r.healthy_sd is not None:
            out.append(Check(r.key, "healthy SD", s.healthy_sd, r.healthy_sd,
                             r.healthy_sd * (1 - SD_TOL_REL), r.healthy_sd * (1 + SD_TOL_REL), lab))
        if r.between_cv_pct is not None:
            out.append(Check(r.key, "between-person CV %", s.between_cv_pct, r.between_cv_pct,
                             r.between_cv_pct - CV_TOL_PCT, r.between_cv_pct + CV_TOL_PCT, lab))
        if r.typical_error_pct is not None:
            out.append(Check(r.key, "trial-to-trial TE %", s.typical_error_pct, r.typical_error_pct,
                             r.typical_error_pct - TE_TOL_PCT, r.typical_error_pct + TE_TOL_PCT, lab))
        if r.effect_d is not None:
            tol = D_ZERO_TOL if r.effect_d == 0.0 else D_TOL
            out.append(Check(r.key, "d injured vs healthy", s.d_injured, r.effect_d,
                             r.effect_d - tol, r.effect_d + tol, lab))
    for r in references:
        if r.measure != "pooled":
            continue
        rows = [m for m in measure_rows if r.eyes is None or m.eyes == r.eyes]
        rows = [m for m in rows if m.effect_d is not None and m.measure != "touchdowns"]
        inj, un = [], []
        for m in rows:
            s = summarise(athletes, processing_for(m), m.eyes, m.measure)
            inj.append(_deficit_sign(m.measure) * s.d_injured)
            un.append(_deficit_sign(m.measure) * s.d_uninjured)
        if r.limb == "injured":
            out.append(Check(r.key, f"mean deficit d over {len(rows)} rows", float(np.mean(inj)),
                             r.effect_d, r.effect_d - POOLED_TOL, r.effect_d + POOLED_TOL, "as each row"))
        else:
            mi, mu = float(np.mean(inj)), float(np.mean(un))
            out.append(Check(r.key, f"mean deficit d, uninjured limb, over {len(rows)} rows", mu,
                             float("nan"), 0.05, mi, "as each row"))
    return out


def format_checks(checks) -> str:
    """A Markdown table of checks (simulated vs published, tolerance, pass)."""
    lines = ["| row | quantity | simulated | published | accepted | processing | ok |",
             "|---|---|---|---|---|---|---|"]
    for c in checks:
        pub = "-" if not np.isfinite(c.published) else f"{c.published:.3g}"
        lines.append(f"| {c.key} | {c.quantity} | {c.simulated:.3g} | {pub} | "
                     f"{c.lo:.3g} .. {c.hi:.3g} | {c.processing} | {'yes' if c.ok else 'NO'} |")
    return "\n".join(lines)
