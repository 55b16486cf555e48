"""The simulated clinician: places masses exactly on the marks, in the procedure's order."""
import numpy as np
import pytest

from rig.sim.calibration_scene import build_calibration_scene, distribute
from rig.calibration import steps as S

POS = np.array([[-180.0, 180.0], [180.0, 180.0], [-180.0, -180.0], [180.0, -180.0]])


def scene(opts, seed=1):
    return build_calibration_scene(opts, np.random.default_rng(seed), POS)


def test_bilinear_distribution_is_exact_for_weight_and_cop():
    f = distribute(np.array([100.0, 50.0]), np.array([30.0, -180.0]), np.array([-70.0, 180.0]), POS)
    np.testing.assert_allclose(f.sum(axis=1), [100, 50])
    np.testing.assert_allclose((f @ POS) / f.sum(axis=1)[:, None], [[30, -70], [-180, 180]])
    np.testing.assert_allclose(f[1], [50, 0, 0, 0], atol=1e-12)


def test_masses_are_placed_on_the_marks_in_the_procedures_order():
    sc = scene({"calibration": ["20"], "linearity": ["40"]})
    assert [s.label for s in sc.steps] == [s.label for s in S.calibration_steps(20, POS, (40,))]
    t = np.arange(0, sc.end_s + 5, 0.01)
    f = sc.forces_n(t)
    total = f.sum(axis=1)
    for p, st in zip(sc.placements, [s for s in sc.steps if s.loaded]):
        hold = (t > p.t_on_s + 2.0) & (t < p.t_off_s - 1.0)   # hands and ringing gone
        np.testing.assert_allclose(total[hold], st.mass_kg * 9.80665, rtol=1e-5)  # ringing decays
        cop = (f[hold] @ POS) / total[hold, None]
        np.testing.assert_allclose(cop, np.tile([st.x_mm, st.y_mm], (hold.sum(), 1)), atol=1e-9)
    gaps = [(a.t_off_s + 1.0, b.t_on_s) for a, b in zip(sc.placements, sc.placements[1:])]
    for a, b in gaps:
        assert b - a > 2.0
        assert np.all(total[(t > a) & (t < b)] == 0)
    assert np.all(total[t < sc.placements[0].t_on_s] == 0)


def test_forces_do_not_depend_on_chunking_and_are_deterministic_per_seed():
    t = 100.0 + np.arange(0, 80, 0.0119)  # the timeline starts at the first sample streamed
    whole = scene({"calibration": ["20"]}).forces_n(t)
    s2 = scene({"calibration": ["20"]})
    parts = np.concatenate([s2.forces_n(t[i:i + 37]) for i in range(0, len(t), 37)])
    np.testing.assert_array_equal(whole, parts)
    assert not np.array_equal(whole, scene({"calibration": ["20"]}, seed=2).forces_n(t))


def test_hands_press_while_placing():
    sc = scene({"calibration": ["20"]})
    p = sc.placements[0]
    t = np.linspace(p.t_on_s, p.t_on_s + 0.5, 200)
    assert sc.forces_n(np.concatenate([[0.0], t]))[1:].sum(axis=1).max() > 20 * 9.80665 * 0.5 + 5


def test_check_scene_and_bad_options():
    sc = scene({"check": ["15"]})
    assert [s.label for s in sc.steps if s.loaded] == list(S.CHECK_ORDER)
    with pytest.raises(ValueError, match="calibration='x' is not a mass"):
        scene({"calibration": ["x"]})
    with pytest.raises(ValueError, match="outside"):
        scene({"calibration": ["-3"]})
