"""Expected accuracy of the screen's balance statement on the simulated population.

    python bench/screen_accuracy.py [--athletes 40] [--seed 2026] [--rate-hz 80]

Simulated athletes, half healthy and half ``profile=cai`` with the unstable ankle on a random
side, each doing the cai-screen's eyes-closed single-leg trials (3 x 10 s per leg, legs
alternating). Traces come straight from the simulated scene (rig.sim.scene: force and COP of
the person, sampled at the board's rate), not through the simulated board and link: no HX711
noise, no calibration error, so the figures are an upper bound for the rule on this simulated
athlete. Each trial goes the runner's way (rig.engine.trial, which the runner calls): foot-lifts
counted, COP measures on the quiet stretch, the protocol's preprocessing; then the screen's balance
statement (rig.session.screening.balance) with no clinician entries and no baseline.

Prints, per ankle: sensitivity (unstable ankles with a balance finding), specificity (ankles of
healthy athletes without one), LR+ = Se / (1 - Sp), LR- = (1 - Se) / Sp, with 95 % Wilson
intervals for Se and Sp; and the per-athlete specificity (healthy athletes with no finding on
either side). These are SIMULATED figures, not clinical ones: they say what the rule can do
against the simulated athlete's effect sizes, which are calibrated to the literature
(rig.sim.scene; see /work/shared/notes/reality.md §3).
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import math  # noqa: E402

import numpy as np  # noqa: E402

from rig.engine import stance as stance_marks  # noqa: E402
from rig.engine.preprocess import PreprocessOptions  # noqa: E402
from rig.engine.trial import measured_stretch, trial_measures  # noqa: E402
from rig.errors import AnalysisError  # noqa: E402
from rig.session.protocols import load_protocol  # noqa: E402
from rig.session.runner import TrialResult, condition_means, side_inputs  # noqa: E402
from rig.session.screening import ClinicalEntries, balance, default_mdc  # noqa: E402
from rig.published import screening as pub  # noqa: E402
from rig.sim.scene import G_M_S2, build_scene  # noqa: E402

TRIAL_S = 10.0
SEGMENT_S = 16.0            # on the board: step on, lift the foot, settle, then the trial
TRIAL_START_S = 4.0         # into the segment: the foot lifted (1.55 s) and the sway settled
POSITIONS_MM = np.array([[-200.0, 150.0], [200.0, 150.0], [-200.0, -150.0], [200.0, -150.0]])


def athlete_trials(seed: int, profile: str, injured: str, protocol, rate_hz: float) -> list[TrialResult]:
    """The eyes-closed single-leg trials of one simulated athlete, analysed as the runner does."""
    conds = [c for c in protocol.conditions if c.side and c.eyes == protocol.screening.condition_eyes]
    n = conds[0].trials
    order = [c for _ in range(n) for c in conds]             # legs alternating
    script = ",".join(f"{c.stance}:{c.eyes}:{SEGMENT_S:g}" for c in order)
    opts = {"seed": [str(seed)], "profile": [profile], "injured": [injured], "script": [script]}
    scene = build_scene(opts, np.random.default_rng(seed), POSITIONS_MM)
    person = scene.sources[0]
    bw = scene.person.mass_kg * G_M_S2
    out = []
    for i, (c, seg) in enumerate(zip(order, person.segments)):
        t = seg.start_s + TRIAL_START_S + np.arange(0.0, TRIAL_S, 1.0 / rate_hz)
        fz, x, y = person.force_cop(t)
        stretch = measured_stretch(t, fz, x, y, bw)
        status, measures = "invalid", {}
        if stretch.footlifts.measurable:
            keep = stretch.slice
            try:
                measures, _ = trial_measures(t[keep], x[keep], y[keep], fz[keep],
                                             PreprocessOptions(lowpass_hz=protocol.lowpass_hz),
                                             foot=stance_marks.base_of_support(c.stance),
                                             footlifts=stretch.footlifts,
                                             spectral_measures=False, research=False)
                status = "valid"
            except AnalysisError:
                pass
        out.append(TrialResult(c.name, i // len(conds) + 1, False, status, [], measures))
    return out


def wilson(k: int, n: int) -> tuple[float, float]:
    if n == 0:
        return (math.nan, math.nan)
    z, p = 1.96, k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (c - h, c + h)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--athletes", type=int, default=40, help="simulated athletes (half healthy)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--rate-hz", type=float, default=80.0)
    a = ap.parse_args(argv)
    protocol = load_protocol("cai-screen")
    rng = np.random.default_rng(a.seed)
    tp = fn = tn = fp = 0
    healthy_clear = healthy_n = 0
    td = {"cai": [], "healthy": []}
    for k in range(a.athletes):
        seed = a.seed * 1000 + k
        cai = k % 2 == 1
        injured = str(rng.choice(["left", "right"]))
        trials = athlete_trials(seed, "cai" if cai else "healthy", injured, protocol, a.rate_hz)
        sides = side_inputs(protocol, condition_means(trials))
        found = {}
        for side in ("left", "right"):
            f, _, _ = balance(protocol.screening, side, sides, None, default_mdc, pub.healthy_range, ClinicalEntries())
            found[side] = bool(f)
        for t in trials:
            if t.measures:
                td["cai" if cai and t.condition.startswith(f"single_{injured}") else "healthy"].append(t.measures["touchdowns"])
        if cai:
            tp += found[injured]
            fn += not found[injured]
        else:
            healthy_n += 1
            healthy_clear += not (found["left"] or found["right"])
            for side in ("left", "right"):
                fp += found[side]
                tn += not found[side]
    se, sp = tp / max(tp + fn, 1), tn / max(tn + fp, 1)
    lrp = se / (1 - sp) if sp < 1 else math.inf
    lrn = (1 - se) / sp if sp > 0 else math.inf
    res = {"sensitivity": round(se, 3), "specificity": round(sp, 3), "lr_positive": round(lrp, 2),
           "lr_negative": round(lrn, 2), "unstable_ankles": tp + fn, "healthy_ankles": tn + fp,
           "athlete_specificity": round(healthy_clear / max(healthy_n, 1), 3),
           "date": datetime.date.today().isoformat(),
           "command": f"python bench/screen_accuracy.py --athletes {a.athletes} --seed {a.seed} --rate-hz {a.rate_hz:g}"}
    lo_se, hi_se = wilson(tp, tp + fn)
    lo_sp, hi_sp = wilson(tn, tn + fp)
    print(f"Balance statement of the CAI screen on {a.athletes} simulated athletes "
          f"({a.athletes // 2} cai, {a.athletes - a.athletes // 2} healthy), {a.rate_hz:g} Hz, scene traces:")
    print(f"  sensitivity {se:.1%} (95 % CI {lo_se:.0%}-{hi_se:.0%}; {tp}/{tp + fn} unstable ankles with a finding)")
    print(f"  specificity {sp:.1%} (95 % CI {lo_sp:.0%}-{hi_sp:.0%}; {tn}/{tn + fp} healthy ankles without one)")
    print(f"  LR+ {lrp:.2f}, LR- {lrn:.2f}; healthy athletes with no finding on either side: "
          f"{healthy_clear}/{healthy_n}")
    print(f"  touch-downs per 10 s trial: unstable side {np.mean(td['cai']):.2f}, others {np.mean(td['healthy']):.2f}")
    print("  SIMULATED, not clinical: the simulated athlete's effect sizes, no board noise.")
    print(f"  for rig/published/screening.py: SIMULATED_ACCURACY = {res!r}")
    return res


if __name__ == "__main__":
    main()
