"""The compiled kernels (rig.engine._kernels) compute what the numpy code computes: the
sample-entropy counts and the hull exactly, the DFA sums and the low-pass to rounding, and
every measure of compute_measures on the PDS trials; bad calls raise instead of reading out
of bounds; RIG_KERNELS=numpy switches them off."""
import subprocess
import sys

import numpy as np
import pytest

from rig.engine import native
from rig.engine.preprocess import lowpass, preprocess
from rig.engine.sway import compute_measures, diffusion, hull, nonlinear
from rig.engine.sway.compute import MEASURE_SETS
from rig.io.traces import read_trace
from tests.engine.signals import PDS_DIR, PDS_TRIALS


@pytest.fixture
def compiled():
    assert native.KERNELS is not None, "rig.engine._kernels is not built in this environment"
    return native.KERNELS


def _both(monkeypatch, fn):
    """fn() with the compiled kernels, then with the numpy code."""
    a = fn()
    with monkeypatch.context() as m:
        m.setattr(native, "KERNELS", None)
        b = fn()
    return a, b


def test_sample_entropy_counts_are_identical_on_ties_and_dense_runs(rng, compiled):
    series = [rng.normal(size=2000), np.round(rng.normal(size=1500), 1),
              np.repeat(rng.normal(size=300), 5),                    # runs of equal values
              np.diff(lowpass(np.cumsum(rng.normal(size=5000)), 100.0, 5.0)), np.zeros(50)]
    for s in series:
        for m in (1, 2, 3):
            for r in (0.0, 0.1 * np.std(s), 0.2 * np.std(s), 3.0 * np.std(s) + 1.0):
                want = nonlinear.count_matches(s, m, r, "sweep")
                assert nonlinear.count_matches(s, m, r, "compiled") == want, (m, r)


def test_hull_gives_the_same_vertices_in_the_same_order(rng, monkeypatch, compiled):
    th = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    shapes = [(np.cos(th), np.sin(th)), (np.arange(50.0), 2 * np.arange(50.0)),   # all on the hull; a line
              (np.zeros(30), np.zeros(30)), (np.array([0.0, -0.0, 1.0]), np.array([0.0, 0.0, -0.0]))]
    for n in (1, 2, 3, 4, 10, 200, 5000):
        for decimals in (0, 1, 6):            # many duplicates and collinear points, or none
            shapes.append(tuple(np.round(rng.normal(size=(2, n)), decimals)))
    walk = np.cumsum(rng.normal(size=(3, 6000)), axis=1)
    shapes.append((walk[0], walk[1]))
    shapes.append((walk[:, ::2][0], walk[:, ::2][2]))      # strided views
    for x, y in shapes:
        a, b = _both(monkeypatch, lambda: hull.hull_indices(x, y))
        assert a.dtype == b.dtype and np.array_equal(a, b), (x.size, a, b)


def test_window_average_is_identical(rng, monkeypatch, compiled):
    from rig.engine.preprocess import window_average
    for n, k, fs in ((6000, 2, 20.0), (5000, 3, 83.3), (2, 1, 10.0), (700, 1, 1000.0)):
        t = np.cumsum(rng.uniform(0.002, 0.02, n))                     # irregular, jittered
        v = rng.normal(size=(n, k))
        grid = t[0] + np.arange(int((t[-1] - t[0]) * fs) + 1) / fs
        for values in (v, v[:, 0], v[::-1]):                          # (n, k), (n,), a strided view
            a, b = _both(monkeypatch, lambda: window_average(t, values, grid, 1.0 / fs))
            assert a.shape == b.shape and np.array_equal(a, b)
    with pytest.raises(ValueError, match="non-decreasing"):
        compiled.window_average(t, v, n, k, grid[::-1].copy(), grid.size, 0.1, np.empty((grid.size, k)))


def test_line_fits_are_identical(rng, monkeypatch, compiled):
    u = np.log(np.arange(1, 301) / 100.0)
    v = np.vstack([0.9 * u + rng.normal(0, 0.05, 300), np.full(300, 2.0), np.cumsum(rng.normal(size=300))])
    cand = np.arange(30, 250)[None, :]
    split = np.array([[40], [150], [299]])
    for i, j in ((0, cand + 1), (cand, 300), (0, split), (split, 300), (5, 6), (7, 7)):
        with np.errstate(divide="ignore", invalid="ignore"):
            a, b = _both(monkeypatch, lambda: diffusion._LineFits(u, v).over(i, j))
        for got, want in zip(a, b):
            assert got.shape == want.shape and np.array_equal(got, want, equal_nan=True)
    with pytest.raises(ValueError, match="outside"):
        diffusion._LineFits(u, v).over(0, 301)


def test_dfa_and_lowpass_agree_to_rounding(rng, monkeypatch, compiled):
    s = rng.normal(size=(2, 6000))
    a, b = _both(monkeypatch, lambda: nonlinear.dfa_alphas(np.cumsum(s, axis=1)))
    np.testing.assert_allclose(a, b, rtol=1e-12)
    x = np.cumsum(s, axis=1) + 300.0
    for fc, order in ((10.0, 2), (5.0, 3), (1.0, 4)):
        a, b = _both(monkeypatch, lambda: lowpass(x, 100.0, fc, order))
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * np.abs(x).max())


@pytest.mark.parametrize("trial", PDS_TRIALS)
def test_every_measure_agrees_on_pds_trials(trial, monkeypatch, compiled):
    raw = read_trace(PDS_DIR / f"{trial}grf.txt")
    tr = preprocess(raw.t_s, raw.cop_x_mm, raw.cop_y_mm, raw.fz_n)
    a, b = _both(monkeypatch, lambda: compute_measures(tr, sets=MEASURE_SETS))
    assert list(a) == list(b)
    # the same trace in: the hull, the board-rate counts and the SDA fits are exact; what
    # follows a low-pass (the 20 Hz time base) or a DFA sum agrees to rounding
    exact = ["convex_hull_area_mm2", "range_mm", "sample_entropy_velocity_ml", "sample_entropy_velocity_ap"]
    exact += [k for k in a if k.startswith(("diffusion_", "scaling_", "critical_"))]
    assert len(exact) == 4 + 18
    for key in exact:
        assert a[key] == b[key] or (np.isnan(a[key]) and np.isnan(b[key])), key
    for key in a:
        assert a[key] == pytest.approx(b[key], rel=1e-9, abs=1e-12), key
    # and from the raw samples (the compiled low-pass in preprocess too) to rounding
    c, d = _both(monkeypatch, lambda: compute_measures(preprocess(raw.t_s, raw.cop_x_mm, raw.cop_y_mm, raw.fz_n)))
    for key in c:
        assert c[key] == pytest.approx(d[key], rel=1e-9, abs=1e-12), key


def test_bad_calls_raise_instead_of_reading_out_of_bounds(compiled):
    s = np.arange(10.0)
    with pytest.raises(ValueError, match="out of range"):
        compiled.sampen_counts(s, np.array([0, 1, 99], dtype=np.int64), 2, 0.5)
    with pytest.raises(ValueError, match="sampen_counts series"):
        compiled.sampen_counts(s[:4], np.arange(8, dtype=np.int64), 2, 0.5)
    with pytest.raises(ValueError, match="box size"):
        compiled.dfa_rss(s, 1, 10, np.array([11], dtype=np.int64), np.empty(1))
    with pytest.raises(ValueError, match="dfa_rss out"):
        compiled.dfa_rss(s, 1, 10, np.array([4, 5], dtype=np.int64), np.empty(1))
    with pytest.raises(ValueError, match="iir_section x"):
        compiled.iir_section(s, 20, 1, 1.0, 0.0, 0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="not C-contiguous"):      # a strided view
        compiled.iir_section(s[::2], 5, 1, 1.0, 0.0, 0.0, 0.0, 0.0)
    frozen = s.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        compiled.iir_section(frozen, 10, 1, 1.0, 0.0, 0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="linfit_ranges i"):
        compiled.linfit_ranges(s, s, 1, 10, np.zeros(3, dtype=np.int64), np.ones(4, dtype=np.int64), 4, np.empty(12))
    with pytest.raises(ValueError, match="outside"):
        compiled.linfit_ranges(s, s, 1, 10, np.array([3], dtype=np.int64), np.array([2], dtype=np.int64), 1, np.empty(3))
    with pytest.raises(ValueError, match="hull y"):
        compiled.hull(s, s[:3])


def test_rig_kernels_numpy_switches_them_off():
    code = ("from rig.engine import native; "
            "print(native.KERNELS is None, native.describe())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "RIG_KERNELS": "numpy"})
    assert out.stdout.strip() == "True numpy only (RIG_KERNELS=numpy)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False compiled kernels (rig.engine._kernels)"
