"""Stabilogram diffusion analysis on random walks and white noise."""
import numpy as np
import pytest

from rig.engine.sway import diffusion


def test_msd_matches_direct_computation(rng):
    a = np.cumsum(rng.normal(size=700)) + 50.0
    msd = diffusion.mean_square_displacement(a, 100)
    direct = np.array([np.mean((a[k:] - a[:-k]) ** 2) for k in range(1, 101)])
    np.testing.assert_allclose(msd, direct, rtol=1e-9)


def test_random_walk_has_h_one_half_and_known_diffusion(rng):
    fs, sigma = 100.0, 0.3
    hs, ds = [], []
    for _ in range(8):
        x, y = np.cumsum(rng.normal(0, sigma, (2, 9000)), axis=1)
        r = diffusion.stabilogram_diffusion(x, y, fs)
        hs += [r["scaling_short_ml"], r["scaling_long_ml"], r["scaling_short_planar"]]
        ds += [r["diffusion_short_ml_mm2_s"] / (sigma ** 2 * fs / 2),
               r["diffusion_short_planar_mm2_s"] / (sigma ** 2 * fs)]   # D_r = D_ml + D_ap
    assert np.mean(hs) == pytest.approx(0.5, abs=0.05)
    assert np.median(ds) == pytest.approx(1.0, abs=0.1)


def test_white_noise_is_flat(rng):
    x, y = rng.normal(size=(2, 6000))
    r = diffusion.stabilogram_diffusion(x, y, 100.0)
    assert abs(r["scaling_short_ml"]) < 0.05 and abs(r["scaling_long_ap"]) < 0.05


def test_persistent_then_bounded_gives_a_critical_point(rng):
    # an Ornstein-Uhlenbeck process: random walk at short lags, bounded at long lags;
    # its MSD bends over near the relaxation time 1/theta = 1 s
    fs, n, theta = 100.0, 12000, 1.0
    e = rng.normal(0, 1, (2, n))
    a = np.exp(-theta / fs)
    from scipy.signal import lfilter
    x, y = lfilter([1.0], [1.0, -a], e, axis=1)
    r = diffusion.stabilogram_diffusion(x, y, fs)
    assert r["scaling_short_planar"] > 0.35 and r["scaling_long_planar"] < 0.2
    assert 0.3 <= r["critical_time_planar_s"] <= 3.0
    assert r["diffusion_short_planar_mm2_s"] > r["diffusion_long_planar_mm2_s"]


def test_short_trials_give_nan_by_rule(rng):
    x, y = np.cumsum(rng.normal(size=(2, 1000)), axis=1)        # 10 s at 100 Hz
    r = diffusion.stabilogram_diffusion(x, y, 100.0)
    assert len(r) == 18 and all(np.isnan(v) for v in r.values())
