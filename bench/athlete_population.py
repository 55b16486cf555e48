"""Print the simulated athlete against the published literature (docs/SIMULATED_ATHLETE.md).

    python bench/athlete_population.py            # 100 healthy + 100 CAI athletes (~2 min CPU)
    python bench/athlete_population.py --n 40     # the test's population (tests/sim/test_population.py)
    python bench/athlete_population.py --profile cai-demo   # the exaggerated demonstration athlete

Prints one Markdown table: each published figure of rig.published.sway_reference, the
simulated value, the tolerance (rig.sim.population) and whether it is met; then the effect
sizes of every measure eyes open and closed at both processing settings, and how many failed.
Deterministic: the same arguments print the same table.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rig.published.sway_reference import REFERENCES  # noqa: E402
from rig.sim.population import (HERTEL_LAB, RIG_DEFAULT, compare, format_checks,  # noqa: E402
                                population, summarise)

MEASURES = ("mean_velocity_mm_s", "mean_velocity_ml_mm_s", "mean_velocity_ap_mm_s", "sd_ml_mm",
            "sd_ap_mm", "ellipse95_area_mm2", "ttb_min_ml_s", "ttb_mean_min_ml_s", "ttb_min_ap_s",
            "ttb_mean_min_ap_s", "touchdowns")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="athletes per group (default 100)")
    ap.add_argument("--first-seed", type=int, default=1000, help="first seed (default 1000, as the test)")
    ap.add_argument("--profile", default="cai", choices=("cai", "cai-demo"))
    a = ap.parse_args(argv)
    t0 = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pop = population(a.n, a.n, (RIG_DEFAULT, HERTEL_LAB), first_seed=a.first_seed,
                         profile_cai=a.profile)
        checks = compare(REFERENCES, pop)
        print(f"## {a.n} healthy + {a.n} {a.profile} simulated athletes (seeds from {a.first_seed}), "
              f"single-leg 3 x 10 s per limb, eyes open and closed\n")
        print(format_checks(checks))
        print(f"\n{sum(not c.ok for c in checks)} of {len(checks)} checks outside tolerance\n")
        print("## All measures: healthy mean +- SD, between-person CV, trial-to-trial TE, d of the "
              "injured and uninjured limb\n")
        print("| measure | eyes | processing | healthy mean +- SD | CV % | TE % | d injured | d uninjured |")
        print("|---|---|---|---|---|---|---|---|")
        for proc in (RIG_DEFAULT, HERTEL_LAB):
            for eyes in ("closed", "open"):
                for m in MEASURES:
                    s = summarise(pop, proc, eyes, m)
                    print(f"| {m} | {eyes} | {proc.label()} | {s.healthy_mean:.3g} +- {s.healthy_sd:.2g} | "
                          f"{s.between_cv_pct:.0f} | {s.typical_error_pct:.0f} | {s.d_injured:+.2f} | "
                          f"{s.d_uninjured:+.2f} |")
    print(f"\n(CPU {time.process_time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
