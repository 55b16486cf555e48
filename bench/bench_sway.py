"""Time the sway engine on a 60 s, 100 Hz trial and on a batch of trials (one core).

    python bench/bench_sway.py [--batch 50] [--repeat 30]

Prints milliseconds per trial (median of repeats) for: preprocessing (resample + 10 Hz
Butterworth), the standard set (time domain, areas, spectral), + SDA and DFA, + sample
entropy (the full set), and the full set over a batch of different trials.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")          # one core, as the target says

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from scipy.signal import lfilter  # noqa: E402

from rig.engine.preprocess import preprocess  # noqa: E402
from rig.engine.sway import compute_measures, nonlinear  # noqa: E402


def synthetic_trial(seed: int, fs: float = 100.0, seconds: float = 60.0):
    """A quiet-stance-like COP: an Ornstein-Uhlenbeck sway plus 0.1 mm sensor noise, with
    1 ms jitter on the board timestamps."""
    rng = np.random.default_rng(seed)
    n = int(fs * seconds)
    t = np.cumsum(rng.normal(1 / fs, 0.001, n))
    a = np.exp(-0.5 / fs)
    e = rng.normal(0, 0.6, (2, n))
    xy = lfilter([1.0], [1.0, -a], e, axis=1) + rng.normal(0, 0.1, (2, n))
    return t, xy[0] + 5, xy[1] - 20


def timed(fn, repeat: int) -> float:
    fn()                                    # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    t, x, y = synthetic_trial(0)
    tr = preprocess(t, x, y)
    print(f"trial: {tr.n} samples at {tr.fs_hz:.1f} Hz ({tr.duration_s:.1f} s), one core")
    rows = [
        ("preprocess (resample + 10 Hz zero-lag)", lambda: preprocess(t, x, y)),
        ("standard set (time, area, spectral)", lambda: compute_measures(tr, research=False)),
        ("+ SDA + DFA (full set without SampEn)", lambda: compute_measures(tr, entropy=False)),
        ("sample entropy, both axes", lambda: [nonlinear.sample_entropy(np.diff(a)) for a in (tr.cop_x_mm, tr.cop_y_mm)]),
        ("full set (incl. sample entropy)", lambda: compute_measures(tr)),
    ]
    for name, fn in rows:
        print(f"  {name:<42} {timed(fn, args.repeat):8.2f} ms")
    trials = [synthetic_trial(s) for s in range(args.batch)]
    for label, kw in (("full set without SampEn", {"entropy": False}), ("full set", {})):
        t0 = time.perf_counter()
        for tt, xx, yy in trials:
            compute_measures(preprocess(tt, xx, yy), **kw)
        dt = time.perf_counter() - t0
        print(f"  batch of {args.batch} trials, preprocess + {label:<24} {dt:6.2f} s "
              f"= {dt / args.batch * 1e3:6.2f} ms per trial")


if __name__ == "__main__":
    main()
