"""Cell forces -> total force and COP."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from rig.engine.cop import cop_from_forces

NOMINAL = np.array([[-180.0, 180.0], [180.0, 180.0], [-180.0, -180.0], [180.0, -180.0]])


def bilinear_loads(fz, px, py, half_w=180.0, half_h=180.0):
    """Cell loads of a point load on a rigid top over four corner supports (FL, FR, BL, BR)."""
    u = (px + half_w) / (2 * half_w)           # 0 at the left, 1 at the right
    v = (py + half_h) / (2 * half_h)           # 0 at the back, 1 at the front
    return np.column_stack([fz * (1 - u) * v, fz * u * v, fz * (1 - u) * (1 - v), fz * u * (1 - v)])


def test_load_on_one_cell_puts_cop_on_that_cell():
    for i in range(4):
        f = np.zeros((1, 4))
        f[0, i] = 500.0
        fz, x, y = cop_from_forces(f, NOMINAL)
        assert fz[0] == 500.0
        assert (x[0], y[0]) == tuple(NOMINAL[i])


def test_point_loads_are_recovered(rng):
    px, py = rng.uniform(-170, 170, 200), rng.uniform(-170, 170, 200)
    fz_true = rng.uniform(100, 1200, 200)
    fz, x, y = cop_from_forces(bilinear_loads(fz_true, px, py), NOMINAL)
    np.testing.assert_allclose(fz, fz_true, rtol=1e-12)
    np.testing.assert_allclose(x, px, atol=1e-9)
    np.testing.assert_allclose(y, py, atol=1e-9)


def test_uses_the_given_positions_not_a_rectangle(rng):
    # an irregular quadrilateral: COP must still be the force-weighted mean of positions
    pos = np.array([[-200.0, 150.0], [170.0, 190.0], [-160.0, -210.0], [190.0, -140.0]])
    f = rng.uniform(0, 300, (50, 4))
    fz, x, y = cop_from_forces(f, pos)
    np.testing.assert_allclose(x, (f * pos[:, 0]).sum(1) / f.sum(1), rtol=1e-12)
    np.testing.assert_allclose(y, (f * pos[:, 1]).sum(1) / f.sum(1), rtol=1e-12)


@given(st.floats(-500, 500), st.floats(-500, 500))
def test_translating_the_cells_translates_the_cop(dx, dy):
    f = np.array([[100.0, 200.0, 300.0, 50.0], [10.0, 400.0, 30.0, 90.0]])
    _, x0, y0 = cop_from_forces(f, NOMINAL)
    _, x1, y1 = cop_from_forces(f, NOMINAL + [dx, dy])
    np.testing.assert_allclose(x1, x0 + dx, atol=1e-9)
    np.testing.assert_allclose(y1, y0 + dy, atol=1e-9)


def test_below_threshold_cop_is_nan_but_force_is_kept():
    f = np.array([[2.0, 3.0, 4.0, 5.0], [100.0, 100.0, 100.0, 100.0], [np.nan, 1.0, 1.0, 1.0]])
    fz, x, y = cop_from_forces(f, NOMINAL, threshold_n=20.0)
    assert fz[0] == 14.0 and np.isnan(x[0]) and np.isnan(y[0])
    assert x[1] == 0.0 and y[1] == 0.0
    assert np.isnan(x[2]) and np.isnan(fz[2])


def test_wrong_shapes_are_refused():
    with pytest.raises(ValueError):
        cop_from_forces(np.zeros((5, 3)), NOMINAL)
    with pytest.raises(ValueError):
        cop_from_forces(np.zeros((5, 4)), NOMINAL[:, :1])
