"""rig's analysis beside a plain numpy/scipy reference and the peers on PyPI, in one run.

    python bench/bench_analysis.py [--synthetic 20] [--batch 200] [--repeat 3]

Peers (the ``bench`` extra: ``pip install -e '.[bench]'``): openbalance, micromotion, neurokit2
(entropy and DFA); a peer that is not installed is reported as such and skipped.

Prints, on the same trials (the 12 Posture Data Set trials in tests/data/pds and synthetic
60 s, 100 Hz trials):

1. CPU per trial (process time, the least of repeats: on a shared host other tenants only
   ever add time, so the least is the cleanest figure; applied to every row alike) of: a plain numpy/scipy reference of three
   measures (mean velocity, 95 % prediction ellipse, mean power frequency), rig's three
   measures, rig's full default set (every measure, sample entropy and DFA on the 20 Hz time
   base included) of a preprocessed trace, the same with the preprocessing (resampling, 10 Hz
   low-pass), every set (adding the board-rate sample entropy and DFA), the full default set
   with the numpy code alone (an install without the compiled kernels), rig computing
   openbalance's quantities, each peer's full set; and the ratios. Which code rig ran is
   printed first.
2. Sample entropy cost against n (rig's count, board-rate definition, with the compiled
   kernels and with the numpy code alone; neurokit2 beside it up to 12000 samples), and the
   full 20 Hz time-base SampEn + DFA of a 60 s, 1 kHz trial.
3. A batch of ``--batch`` generated CSV files (60 s, 100 Hz): ``rig analyze --json`` with
   ``--jobs 1`` and ``--jobs 2`` and with ``--measures=all`` (CPU of all descendant processes,
   counted as a child subreaper; wall time; speed-up) beside a reference script that reads
   the same files and computes the three measures.
4. Start-up: ``rig --help`` and a one-file ``rig analyze`` (wall and CPU, median of 5).

Figures depend on the host: the load average is printed with them; compare within one run.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PDS = ROOT / "tests" / "data" / "pds"
sys.path.insert(0, str(ROOT))

REFERENCE_SCRIPT = r'''
import sys
import numpy as np
from scipy import signal, special

def three(x, y, fs):
    n = x.size
    velo = np.sum(np.hypot(np.diff(x), np.diff(y))) * fs / n
    cov = np.cov(x, y)
    k = special.fdtri(2, n - 2, 0.95) * 2 * (n - 1) * (n + 1) / (n * (n - 2))
    area = np.pi * k * np.sqrt(np.linalg.det(cov))
    seg = int(np.ceil(n / 2))
    f, p = signal.welch(np.vstack([x, y]), fs=fs, nperseg=seg, noverlap=seg // 2, nfft=seg)
    tot = p.sum(axis=1)
    mf = np.trapezoid(f * p, f, axis=1) / np.trapezoid(p, f, axis=1)
    return velo, area, float((tot * mf).sum() / tot.sum())

for path in sys.argv[1:]:
    d = np.loadtxt(path, delimiter=",", skiprows=1)
    t, x, y = d[:, 0], d[:, 1], d[:, 2]
    print(path, *three(x, y, 1.0 / np.median(np.diff(t))))
'''


_REFERENCE = {}
exec(REFERENCE_SCRIPT.split("for path")[0], _REFERENCE)       # the same code as the batch script


def reference_three(x, y, fs):
    """Plain numpy/scipy: mean velocity (T = N/fs), F-form 95 % prediction ellipse, Welch mean
    power frequency (both axes weighted by power) as in dos Santos 2017. (Compiled once:
    compiling it per call, as this benchmark did before, added 0.23 ms to every reference
    trial and flattered rig's ratios.)"""
    return _REFERENCE["three"](x, y, fs)


def synthetic_trial(seed, fs=100.0, seconds=60.0):
    """Quiet-stance-like COP (Ornstein-Uhlenbeck sway + 0.1 mm noise), 1 ms timestamp jitter."""
    from scipy.signal import lfilter
    rng = np.random.default_rng(seed)
    n = int(fs * seconds)
    t = np.cumsum(rng.normal(1 / fs, 0.001, n))
    t -= t[0]
    a = np.exp(-0.5 / fs)
    xy = lfilter([1.0], [1.0, -a], rng.normal(0, 0.6, (2, n)), axis=1) + rng.normal(0, 0.1, (2, n))
    return t, xy[0] + 5, xy[1] - 20


@contextlib.contextmanager
def numpy_only():
    """rig's engine without its compiled kernels meanwhile (what an install without a C
    compiler runs)."""
    from rig.engine import native
    kernels, native.KERNELS = native.KERNELS, None
    try:
        yield
    finally:
        native.KERNELS = kernels


def cpu_ms(fn, repeat):
    """Least process time of ``repeat`` calls after a warm-up (ms); a call that takes more
    than 2 s is timed once (its warm-up) and not repeated."""
    t0 = time.process_time()
    fn()
    first = time.process_time() - t0
    if first > 2.0:
        return first * 1e3
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times) * 1e3


def peers():
    out = {}
    try:
        import openbalance  # noqa: F401
        from openbalance.core.trial import Trial
        from openbalance.processing import filters, kinematics

        def ob(t, x, y, fs):
            tr = Trial(np.column_stack([x, y]), fs, ["COP_x", "COP_y"])
            filters.apply_lowpass_filter(tr, 10.0, 2)
            tr.parameters["COP_x"], tr.parameters["COP_y"] = tr.filtered_data[:, 0], tr.filtered_data[:, 1]
            kinematics.calculate_path_length(tr)
            kinematics.calculate_sway_areas(tr)
        out["openbalance"] = ob
    except ImportError:
        out["openbalance"] = None
    try:
        from micromotion import balance as mm

        def micromotion_full(t, x, y, fs):
            xy = np.column_stack([x, y])
            mm.cop_sway_metrics(xy, t=t)
            mm.stabilogram_diffusion(xy, fs)
            for a in (x, y):
                d = np.diff(a)
                mm.dfa(d)
                mm.sample_entropy(d)
                mm.spectral_edges(a, fs)
        out["micromotion"] = micromotion_full
    except ImportError:
        out["micromotion"] = None
    try:
        import neurokit2 as nk

        def nk_full(t, x, y, fs):
            for a in (x, y):
                d = np.diff(a)
                nk.entropy_sample(d, dimension=2, tolerance=0.2 * np.std(d))
                nk.fractal_dfa(d)
        out["neurokit2 (SampEn+DFA)"] = nk_full
    except ImportError:
        out["neurokit2 (SampEn+DFA)"] = None
    return out


def section_per_trial(trials, repeat):
    from rig.engine.preprocess import Trace, lowpass, preprocess
    from rig.engine.sway import MEASURE_SETS, area, compute_measures, spectral, time_domain as td

    def rig_three(t, x, y, fs):
        tr = Trace.as_given(t, x, y, fs_hz=fs)
        td.mean_velocity_mm_s(tr.cop_x_mm, tr.cop_y_mm, fs)
        area.prediction_ellipse(tr.cop_x_mm, tr.cop_y_mm)
        spectral.mean_power_frequency_hz(tr.cop_x_mm, tr.cop_y_mm, fs)

    prepared = {}

    def rig_full(t, x, y, fs):                     # the measures of a preprocessed trace
        compute_measures(prepared[id(t)])

    def rig_pre_full(t, x, y, fs):
        compute_measures(preprocess(t, x, y))

    def rig_full_numpy(t, x, y, fs):               # the same, without the compiled kernels
        with numpy_only():
            compute_measures(prepared[id(t)])

    def rig_every_set(t, x, y, fs):
        compute_measures(prepared[id(t)], sets=MEASURE_SETS)

    def rig_openbalance_set(t, x, y, fs):          # what openbalance computes, done by rig
        fx, fy = lowpass(np.vstack([x, y]), fs, 10.0)
        td.path_length_mm(fx, fy)
        area.convex_hull(fx, fy)
        area.prediction_ellipse(fx, fy, 0.95, "chi2")
        td.mean_distance_mm(fx, fy)

    for t, x, y in trials:
        prepared[id(t)] = preprocess(t, x, y)
    full_name = "rig: full default set (entropy on 20 Hz base)"
    pre_name = "rig: preprocess + full default set"
    every_name, numpy_name = "rig: every set (+ board-rate SampEn, DFA)", "rig: full default set, numpy only"
    three_name, ob_set_name = "rig: the same 3 measures", "rig: openbalance's set (low-pass, path, areas)"
    rows = [("reference: 3 measures (numpy/scipy)", lambda t, x, y, fs: reference_three(x, y, fs)),
            (three_name, rig_three),
            (full_name, rig_full),
            (pre_name, rig_pre_full),
            (every_name, rig_every_set),
            (numpy_name, rig_full_numpy),
            (ob_set_name, rig_openbalance_set)]
    print(f"\n1. CPU per 60 s, 100 Hz trial ({len(trials)} trials; least of {repeat} repeats "
          "of the whole set, divided by the number of trials)")
    res = {}

    def timed_rows():
        yield from rows
        # the peers are imported only now: importing them starts thread pools (neurokit2's
        # scientific stack) that slowed every later row, rig's numpy-only one by 60 %
        yield from ((f"peer {k}: its full set", v) for k, v in peers().items())

    for name, fn in timed_rows():
        if fn is None:
            print(f"   {name:<50} not installed")
            continue

        def run_all(fn=fn):
            for t, x, y in trials:
                fn(t, x, y, 1.0 / np.median(np.diff(t)))
        res[name] = cpu_ms(run_all, repeat) / len(trials)
        print(f"   {name:<50} {res[name]:8.2f} ms")
    ref = res[rows[0][0]]
    for name in (full_name, pre_name, every_name, numpy_name, three_name):
        print(f"   ratio {name[5:]:<45} / reference: {res[name] / ref:5.2f}x")
    full = res[pre_name]
    for name in res:
        if name.startswith("peer"):
            print(f"   {name[5:]:<28} {res[name] / full:6.2f}x the CPU of rig's preprocess + full set")
    ob = "peer openbalance: its full set"
    if ob in res:
        print(f"   openbalance's full set       {res[ob] / res[ob_set_name]:6.2f}x the CPU of rig "
              "computing the same quantities")
    return res


def section_entropy():
    """Run first, and rig's timings before neurokit2's: after a peer has run, threads it
    leaves spinning in this process add to the process time of what is timed next (rig's
    SampEn of 6000 samples measured 10 ms after the peers, 6 ms before them)."""
    from rig.engine.preprocess import preprocess
    from rig.engine.sway import nonlinear
    try:
        import neurokit2 as nk
    except ImportError:
        nk = None
    print("\n2. Sample entropy (m = 2, r = 0.2 SD) of 10 Hz-filtered COP increments: CPU against n")
    rng = np.random.default_rng(5)
    series = []
    for n, fs in ((1000, 100.0), (3000, 100.0), (6000, 100.0), (12000, 100.0), (30000, 100.0),
                  (60000, 1000.0)):
        t = np.arange(n) / fs
        walk = np.cumsum(rng.normal(0, 0.1, (2, n)), axis=1)
        series.append((n, fs, np.diff(preprocess(t, walk[0], walk[1]).cop_x_mm)))
    n = 60000
    t = np.arange(n) / 1000.0
    walk = np.cumsum(rng.normal(0, 0.1, (2, n)), axis=1)
    tr = preprocess(t, walk[0], walk[1])
    rig_ms = [cpu_ms(lambda d=d: nonlinear.sample_entropy(d), 5 if n <= 12000 else 1)
              for n, fs, d in series]
    with numpy_only():                                  # the numpy orders, for installs without C
        numpy_ms = [cpu_ms(lambda d=d: nonlinear.sample_entropy(d), 3 if n <= 12000 else 1)
                    for n, fs, d in series]
    c = cpu_ms(lambda: nonlinear.timebase_measures(tr.cop_x_mm, tr.cop_y_mm, 1000.0), 3)
    nk_ms = [cpu_ms(lambda d=d: nk.entropy_sample(d, dimension=2, tolerance=0.2 * np.std(d)), 1)
             if nk is not None and n <= 12000 else float("nan") for n, fs, d in series]
    print(f"   {'n':>7} {'board':>8} {'rig':>12} {'rig, numpy':>12} {'neurokit2':>12}")
    pts = []
    for (n, fs, _), a, a_np, b in zip(series, rig_ms, numpy_ms, nk_ms):
        if fs == 100.0:
            pts.append((n, a, a_np))
        print(f"   {n:>7} {fs:6.0f}Hz {a:10.1f} ms {a_np:10.1f} ms {b:10.1f} ms")
    ns = np.log([p[0] for p in pts[2:]])
    for i, who in ((1, "rig"), (2, "rig, numpy only")):
        slope = np.polyfit(ns, np.log([p[i] for p in pts[2:]]), 1)[0]
        print(f"   slope of log CPU against log n at 100 Hz (n >= 6000), {who}: {slope:.2f}")
    print(f"   60 s at 1 kHz on the 20 Hz time base (5 Hz low-pass, resample, SampEn + DFA, "
          f"both axes): {c:.1f} ms")


def _child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _become_subreaper():
    """Orphaned descendants (a multiprocessing fork server and its workers outlive the wait
    of their parent) are re-parented to this process instead of init, so that reaping them
    counts their CPU in RUSAGE_CHILDREN. Linux only; elsewhere their CPU may be missed."""
    try:
        import ctypes
        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0   # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


SUBREAPER = False


def _reap_orphans():
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def run_child(cmd):
    c0, w0 = _child_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - w0
    _reap_orphans()                      # the fork server and workers, if they outlived rig
    return _child_cpu() - c0, wall


def section_batch(n_files):
    rig = [str(Path(sys.executable).with_name("rig"))]
    with tempfile.TemporaryDirectory(prefix="rig-bench-") as d:
        paths = []
        for i in range(n_files):
            t, x, y = synthetic_trial(1000 + i)
            p = Path(d) / f"trial{i:03d}.csv"
            np.savetxt(p, np.column_stack([t, x, y]), delimiter=",", fmt="%.6f",
                       header="t_s,cop_x_mm,cop_y_mm", comments="")
            paths.append(str(p))
        print(f"\n3. Batch of {n_files} CSV files (60 s, 100 Hz), CPU of the child processes")
        ref_cpu, ref_wall = run_child([sys.executable, "-c", REFERENCE_SCRIPT, *paths])
        print(f"   reference script (np.loadtxt + 3 measures): {ref_cpu:7.2f} s CPU {ref_wall:7.2f} s wall")
        rows = {}
        for label, extra in (("rig analyze --jobs 1", ["--jobs", "1"]),
                             ("rig analyze --jobs 2", ["--jobs", "2"]),
                             ("rig analyze -j 1 --measures=all", ["--jobs", "1", "--measures=all"])):
            cpu, wall = run_child([*rig, "analyze", "--json", *extra, *paths])
            rows[label] = (cpu, wall)
            print(f"   {label:<42} {cpu:7.2f} s CPU {wall:7.2f} s wall  ({cpu / ref_cpu:4.2f}x reference CPU)")
        s = rows["rig analyze --jobs 1"][1] / rows["rig analyze --jobs 2"][1]
        print(f"   --jobs 2 wall-time speed-up: {s:.2f}x (on {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")


def section_startup():
    rig = str(Path(sys.executable).with_name("rig"))
    print("\n4. Start-up (median of 5)")
    for label, cmd in (("rig --help", [rig, "--help"]),
                       ("rig analyze, one PDS file", [rig, "analyze", str(PDS / "PDS13OR1grf.txt")])):
        cpus, walls = [], []
        for _ in range(5):
            c, w = run_child(cmd)
            cpus.append(c)
            walls.append(w)
        print(f"   {label:<28} {statistics.median(walls):6.3f} s wall {statistics.median(cpus):6.3f} s CPU")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synthetic", type=int, default=20, help="synthetic 60 s trials beside the 12 PDS ones")
    ap.add_argument("--batch", type=int, default=200, help="files in the batch figure")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", type=int, action="append", choices=(1, 2, 3, 4), metavar="N",
                    help="run only section N (repeatable; default: all four)")
    args = ap.parse_args()
    only = set(args.only or (1, 2, 3, 4))
    global SUBREAPER
    SUBREAPER = _become_subreaper()
    from rig.io.traces import read_trace
    trials = []
    for p in sorted(PDS.glob("PDS*grf.txt")):
        r = read_trace(p)
        trials.append((r.t_s, r.cop_x_mm, r.cop_y_mm))
    trials += [synthetic_trial(s) for s in range(args.synthetic)]
    from rig.engine import native
    print(f"host: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
          f"(figures are only comparable within one run)")
    print(f"rig's engine: {native.describe()}")
    if not SUBREAPER:
        print("   (not a child subreaper: CPU of --jobs workers that outlive rig is not counted)")
    if 2 in only:
        section_entropy()                  # first: see its docstring
    if 1 in only:
        section_per_trial(trials, args.repeat)
    if 3 in only:
        section_batch(args.batch)
    if 4 in only:
        section_startup()


if __name__ == "__main__":
    main()
