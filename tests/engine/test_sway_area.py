"""Prediction ellipse, convex hull and rectangle areas."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from rig.errors import AnalysisError
from rig.engine.sway import area


def test_prediction_ellipse_holds_95_percent_of_new_points(rng):
    cov = np.array([[9.0, 4.0], [4.0, 4.0]])
    inside = []
    for _ in range(20):
        x, y = rng.multivariate_normal([5, -3], cov, size=300).T
        ell = area.prediction_ellipse(x, y)
        nx, ny = rng.multivariate_normal([5, -3], cov, size=2000).T
        inside.append(ell.contains(nx, ny).mean())
    # the prediction ellipse is exact on average over samples (Chew 1966)
    assert np.mean(inside) == pytest.approx(0.95, abs=0.01)


def test_small_samples_need_the_f_form(rng):
    # with 10 points the chi-square ellipse holds clearly fewer than 95 % of new points
    cov = np.eye(2)
    f_in, c_in = [], []
    for _ in range(400):
        x, y = rng.multivariate_normal([0, 0], cov, size=10).T
        nx, ny = rng.multivariate_normal([0, 0], cov, size=200).T
        f_in.append(area.prediction_ellipse(x, y, method="F").contains(nx, ny).mean())
        c_in.append(area.prediction_ellipse(x, y, method="chi2").contains(nx, ny).mean())
    assert np.mean(f_in) == pytest.approx(0.95, abs=0.01)
    assert np.mean(c_in) < 0.90


def test_ellipse_axes_angle_and_area_formula():
    # points on an axis-aligned ellipse rotated by 30 degrees
    n = 4000
    th = 2 * np.pi * np.arange(n) / n
    a_, b_ = 6.0, 2.0
    u, v = a_ * np.cos(th), b_ * np.sin(th)
    ang = np.radians(30)
    x = np.cos(ang) * u - np.sin(ang) * v
    y = np.sin(ang) * u + np.cos(ang) * v
    ell = area.prediction_ellipse(x, y)
    k = area.prediction_multiplier(n)
    # covariance eigenvalues are a^2/2 and b^2/2 (N-1 denominator: times n/(n-1))
    assert ell.major_mm == pytest.approx(np.sqrt(k * a_ ** 2 / 2 * n / (n - 1)), rel=1e-9)
    assert ell.minor_mm == pytest.approx(np.sqrt(k * b_ ** 2 / 2 * n / (n - 1)), rel=1e-9)
    assert ell.angle_deg == pytest.approx(30.0, abs=1e-6)
    assert ell.area_mm2 == pytest.approx(np.pi * ell.major_mm * ell.minor_mm, rel=1e-12)
    chi2 = area.ellipse95_chi2_area_mm2(x, y)
    assert chi2 / ell.area_mm2 == pytest.approx(5.991464547107979 / k, rel=1e-12)


def test_multipliers_match_tabulated_values():
    # science.md §1.4: 2F(n+1)(n-1)/(n(n-2)) = 6.304 (n=100), 6.022 (n=1000); chi2 5.991
    assert area.prediction_multiplier(100) == pytest.approx(6.304, abs=5e-4)
    assert area.prediction_multiplier(1000) == pytest.approx(6.022, abs=5e-4)
    assert area.prediction_multiplier(10, method="chi2") == pytest.approx(5.9915, abs=1e-4)


@settings(max_examples=30)
@given(st.floats(-np.pi, np.pi), st.floats(-200, 200), st.floats(-200, 200), st.integers(0, 2 ** 32 - 1))
def test_areas_are_rotation_and_translation_invariant(angle, dx, dy, seed):
    r = np.random.default_rng(seed)
    x, y = r.normal(size=(2, 300)) * [[3.0], [1.0]]
    c, s = np.cos(angle), np.sin(angle)
    x2, y2 = c * x - s * y + dx, s * x + c * y + dy
    e1, e2 = area.prediction_ellipse(x, y), area.prediction_ellipse(x2, y2)
    assert e2.area_mm2 == pytest.approx(e1.area_mm2, rel=1e-9)
    assert e2.major_mm == pytest.approx(e1.major_mm, rel=1e-9)
    d = (e2.angle_deg - e1.angle_deg - np.degrees(angle)) % 180.0
    assert min(d, 180 - d) == pytest.approx(0, abs=1e-6)
    assert area.convex_hull_area_mm2(x2, y2) == pytest.approx(area.convex_hull_area_mm2(x, y), rel=1e-9)


def test_square_hull_and_rectangle(rng):
    inner = rng.uniform(-5, 5, (500, 2))
    corners = np.array([[-5, -5], [5, -5], [5, 5], [-5, 5]], float)
    pts = np.vstack([inner, corners])
    assert area.convex_hull_area_mm2(pts[:, 0], pts[:, 1]) == pytest.approx(100.0, rel=1e-12)
    assert area.rectangle_area_mm2(pts[:, 0], pts[:, 1]) == pytest.approx(100.0, rel=1e-12)


def test_degenerate_scatter():
    x = np.linspace(0, 10, 50)
    assert area.convex_hull_area_mm2(x, 2 * x) == 0.0           # collinear: 0 by rule
    e = area.prediction_ellipse(x, 2 * x)
    assert e.area_mm2 == pytest.approx(0.0, abs=1e-9) and e.minor_mm == pytest.approx(0, abs=1e-6)
    c = np.full(20, 1.0)
    e = area.prediction_ellipse(c, c)
    assert e.area_mm2 == 0.0 and np.isnan(e.angle_deg)           # no major axis
    with pytest.raises(AnalysisError, match="at least 4"):
        area.prediction_ellipse([1.0, 2.0, 3.0], [1.0, 0.0, 2.0])
    with pytest.raises(AnalysisError, match="NaN"):
        area.convex_hull_area_mm2([1.0, np.nan, 3.0], [1.0, 0.0, 2.0])


def test_numpy_hull_has_the_vertices_and_area_of_qhull(rng, kernels):
    from scipy.spatial import ConvexHull
    th = np.linspace(0, 2 * np.pi, 3000, endpoint=False)
    walk = np.cumsum(rng.normal(size=(2, 6000)), axis=1)
    grid = np.round(rng.normal(size=(2, 3000)), 1)               # duplicates and collinear runs
    for x, y in ((10 * np.cos(th), 10 * np.sin(th)), tuple(walk), tuple(grid),
                 tuple(rng.normal(size=(2, 20000)))):
        a, v = area.convex_hull(x, y)
        h = ConvexHull(np.column_stack([x, y]))
        assert a == pytest.approx(h.volume, rel=1e-12)
        assert set(map(tuple, v.tolist())) == set(map(tuple, np.column_stack([x, y])[h.vertices].tolist()))
    # a circle's hull area is the inscribed 3000-gon's: (n/2) R^2 sin(2 pi / n)
    assert area.convex_hull_area_mm2(10 * np.cos(th), 10 * np.sin(th)) == pytest.approx(
        1500 * 100 * np.sin(2 * np.pi / 3000), rel=1e-12)
