"""Sample entropy and DFA against brute force and known noise exponents."""
import numpy as np
import pytest
from scipy.special import erf

from rig.engine.sway import nonlinear
from tests.engine.signals import same_sway


def sampen_brute(s, m=2, r=0.2):
    s = np.asarray(s, float)
    r = r * s.std()
    n = len(s)
    def count(mm):
        t = np.array([s[i:i + mm] for i in range(n - m)])
        c = 0
        for i in range(len(t)):
            c += int(np.sum(np.max(np.abs(t[i + 1:] - t[i]), axis=1) <= r))
        return c
    return -np.log(count(m + 1) / count(m))


def test_sample_entropy_equals_brute_force(rng, kernels):
    for s in (rng.normal(size=300), np.sin(np.arange(300) * 0.3) + 0.1 * rng.normal(size=300),
              np.round(rng.normal(size=200), 1)):        # ties exactly at r are counted
        assert nonlinear.sample_entropy(s) == pytest.approx(sampen_brute(s), rel=1e-12)


def _kdtree_counts(s, m=2, r_factor=0.2):
    """The previous implementation's pair counts (KD-tree, Chebyshev), for bit-for-bit checks."""
    from numpy.lib.stride_tricks import sliding_window_view
    from scipy.spatial import cKDTree
    r = r_factor * np.std(s)
    emb = sliding_window_view(s, m + 1)[: len(s) - m]
    pairs = cKDTree(np.ascontiguousarray(emb[:, :m])).query_pairs(r, p=np.inf, output_type="ndarray")
    a = int(np.count_nonzero(np.abs(s[pairs[:, 0] + m] - s[pairs[:, 1] + m]) <= r))
    return a, pairs.shape[0]


def test_sorted_sweep_counts_equal_the_kdtree_counts_bit_for_bit(rng):
    # a smooth (filtered-increment-like) series, where many values lie within r of each other
    from rig.engine.preprocess import lowpass
    smooth = np.diff(lowpass(np.cumsum(rng.normal(size=4000)), 100.0, 10.0))
    for s in (rng.normal(size=1500), smooth, np.round(rng.normal(size=800), 1)):
        r = 0.2 * np.std(s)
        assert nonlinear.count_matches(s, 2, r) == _kdtree_counts(s)
        for order in ("sweep", "banded", "compiled"):    # every comparison order, same counts
            assert nonlinear.count_matches(s, 2, r, order=order) == _kdtree_counts(s), order
        a, b = _kdtree_counts(s)
        assert nonlinear.sample_entropy(s) == -np.log(a / b)


def test_sample_entropy_of_white_noise_is_analytic(rng):
    # iid Gaussian: A/B = P(|X - Y| <= r) = erf(r / 2) with r = 0.2 SD
    s = rng.normal(size=10000)
    assert nonlinear.sample_entropy(s) == pytest.approx(-np.log(erf(0.1)), abs=0.03)


def test_sample_entropy_regular_is_low_and_degenerate_is_nan():
    t = np.arange(3000)
    assert nonlinear.sample_entropy(np.sin(2 * np.pi * t / 50)) < 0.3
    assert np.isnan(nonlinear.sample_entropy(np.full(100, 1.0)))


def test_dfa_alpha_of_white_and_brownian_noise(rng, kernels):
    w = rng.normal(size=(4, 6000))
    assert np.mean([nonlinear.dfa_alpha(v) for v in w]) == pytest.approx(0.5, abs=0.05)
    assert np.mean([nonlinear.dfa_alpha(np.cumsum(v)) for v in w]) == pytest.approx(1.5, abs=0.07)
    assert np.isnan(nonlinear.dfa_alpha(np.zeros(200)))


def test_dfa_residuals_equal_a_polyfit_detrend(rng, kernels):
    s = rng.normal(size=400)
    prof = np.cumsum(s - s.mean())
    size = 25
    boxes = prof[: (400 // size) * size].reshape(-1, size)
    t = np.arange(size)
    res = [b - np.polyval(np.polyfit(t, b, 1), t) for b in boxes]
    f_ref = np.sqrt(np.mean(np.square(res)))
    # the residual sums dfa_alpha uses (compiled or numpy), for this and other box sizes
    rss = nonlinear._residual_sums(prof[None, :], np.array([size, 4, 7, 100]))
    assert np.sqrt(rss[0, 0] / boxes.size) == pytest.approx(f_ref, rel=1e-10)
    for i, k in enumerate((4, 7, 100), start=1):
        bx = prof[: (400 // k) * k].reshape(-1, k)
        tk = np.arange(k)
        want = sum(np.sum(np.square(b - np.polyval(np.polyfit(tk, b, 1), tk))) for b in bx)
        assert rss[0, i] == pytest.approx(want, rel=1e-9)


def test_fixed_time_base_gives_the_same_values_at_80_hz_and_1_khz(kernels):
    from rig.engine.preprocess import preprocess
    res = {}
    for fs in (80.0, 1000.0):
        tr = preprocess(*same_sway(fs))
        res[fs] = nonlinear.timebase_measures(tr.cop_x_mm, tr.cop_y_mm, tr.fs_hz)
    lo, hi = res[80.0], res[1000.0]
    assert sorted(lo) == sorted(f"{n}_{a}_20hz" for n in ("sample_entropy_velocity", "dfa_alpha_velocity")
                                for a in ("ml", "ap"))
    for ax in ("ml", "ap"):
        se = f"sample_entropy_velocity_{ax}_20hz"
        assert lo[se] == pytest.approx(hi[se], rel=0.10)
        assert abs(lo[f"dfa_alpha_velocity_{ax}_20hz"] - hi[f"dfa_alpha_velocity_{ax}_20hz"]) < 0.05
    # the board-rate definition does not have this property (the reason for the new keys)
    tr80, tr1k = preprocess(*same_sway(80.0)), preprocess(*same_sway(1000.0))
    d80 = nonlinear.dfa_alpha(np.diff(tr80.cop_x_mm))
    d1k = nonlinear.dfa_alpha(np.diff(tr1k.cop_x_mm))
    assert abs(d80 - d1k) > 0.2


def test_time_base_is_the_sway_sampled_at_20_hz():
    # a 0.4 Hz sway at 1 kHz: the 5 Hz low-pass passes it (gain 1 - 1e-6) and the 50 ms
    # window average scales it by sinc(0.4 * 0.05) = 0.99934; phase zero at the grid times
    fs, f = 1000.0, 0.4
    t = np.arange(int(30 * fs)) / fs
    xy = nonlinear.timebase_xy(10 * np.sin(2 * np.pi * f * t), 5 * np.cos(2 * np.pi * f * t), fs)
    g = np.arange(xy.shape[1]) / 20.0
    gain = np.sinc(f * 0.05)
    inner = slice(40, -40)                  # away from the filter's end transients
    np.testing.assert_allclose(xy[0, inner], gain * 10 * np.sin(2 * np.pi * f * g[inner]), atol=2e-3)
    np.testing.assert_allclose(xy[1, inner], gain * 5 * np.cos(2 * np.pi * f * g[inner]), atol=2e-3)
    assert xy.shape[1] == 600


def test_fixed_time_base_is_nan_when_too_short_or_too_slow():
    t = np.arange(100) / 50.0                                # 2 s: fewer than 65 increments
    m = nonlinear.timebase_measures(np.sin(t), np.cos(t), 50.0)
    assert len(m) == 4 and all(np.isnan(v) for v in m.values())
    t = np.arange(600) / 8.0                                 # 8 Hz board: no 5 Hz low-pass
    assert all(np.isnan(v) for v in nonlinear.timebase_measures(np.sin(t), np.cos(t), 8.0).values())


def test_sample_entropy_other_template_lengths_equal_brute_force(rng, kernels):
    s = np.sin(np.arange(400) * 0.21) + 0.3 * rng.normal(size=400)
    for m in (1, 3):
        assert nonlinear.sample_entropy(s, m=m) == pytest.approx(sampen_brute(s, m=m), rel=1e-12)
        r = 0.2 * np.std(s)
        want = nonlinear.count_matches(s, m, r, "sweep")
        assert nonlinear.count_matches(s, m, r, "banded") == want
        if kernels == "compiled":
            assert nonlinear.count_matches(s, m, r, "compiled") == want


def test_banded_blocks_shrink_for_a_wide_row_and_count_the_same(rng, monkeypatch):
    # tiny blocks: many block boundaries, and rows wider than a block's budget
    s = np.diff(np.cumsum(rng.normal(size=3000)))
    s[1000:1100] = 0.0                                       # a dense run: very wide rows
    r = 0.2 * np.std(s)
    want = nonlinear.count_matches(s, 2, r, "sweep")
    monkeypatch.setattr(nonlinear, "_BAND_ELEMENTS", 64)
    assert nonlinear.count_matches(s, 2, r, "banded") == want
