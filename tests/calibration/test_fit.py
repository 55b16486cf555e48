"""Least-squares gains from known masses at known marks."""
import numpy as np
import pytest

from rig.sim.calibration_scene import distribute
from rig.calibration import steps as S
from rig.calibration.fit import fit_gains, linearity
from rig.errors import CalibrationError

POS = np.array([[-180.0, 180.0], [180.0, 180.0], [-180.0, -180.0], [180.0, -180.0]])
G = 9.80665


def counts_for(labels, mass, gains, positions=POS):
    marks = np.array([S.mark_mm(l, positions) for l in labels])
    f = distribute(np.full(len(marks), mass * G), marks[:, 0], marks[:, 1], positions)
    return f * gains, marks


def test_exact_counts_give_exact_gains():
    gains = np.array([1800.0, 1900.0, 1760.0, 1850.0])
    c, marks = counts_for(S.BASE_ORDER, 20.0, gains)
    fit = fit_gains(c, np.full(5, 20.0), marks, POS)
    np.testing.assert_allclose(fit.gain_counts_per_n, gains, rtol=1e-10)
    assert np.max(np.abs(fit.force_residual_n)) < 1e-9 and np.max(fit.cop_error_mm) < 1e-9


def test_noisy_counts_give_gains_within_a_fraction_of_a_percent():
    rng = np.random.default_rng(1)
    gains = 1839.0 * (1 + rng.uniform(-0.04, 0.04, 4))
    c, marks = counts_for(S.BASE_ORDER, 20.0, gains)
    c = c + rng.normal(0, 20, c.shape)  # residual noise of a 4 s mean
    fit = fit_gains(c, np.full(5, 20.0), marks, POS)
    np.testing.assert_allclose(fit.gain_counts_per_n, gains, rtol=2e-3)


def test_centre_only_cannot_determine_four_gains():
    c, marks = counts_for(["centre"], 20.0, np.full(4, 1839.0))
    with pytest.raises(CalibrationError, match="need the corner placements"):
        fit_gains(c, [20.0], marks, POS)


def test_linearity_reports_deviation_from_a_line():
    true = np.array([10.0, 20.0, 40.0]) * G
    res = linearity(true * 1.01, [10, 20, 40])
    assert res["slope_error_percent"] == pytest.approx(1.0, abs=1e-9)
    assert res["max_deviation_percent_of_max"] == pytest.approx(0.0, abs=1e-9)
    bent = true.copy()
    bent[1] += 0.01 * true[2]
    assert linearity(bent, [10, 20, 40])["max_deviation_percent_of_max"] > 0.5


def test_marks_follow_the_cell_positions():
    assert S.mark_mm("front_right", POS) == (150.0, 150.0)
    assert S.mark_mm("back_left", POS + [10, 0]) == (-140.0, -150.0)
    steps = S.calibration_steps(20, POS, linearity_kg=(40,), grid=True)
    kinds = [s.kind for s in steps]
    assert kinds[0] == S.ZERO and kinds[-1] == S.NOISE and kinds.count(S.PLACE) == 13
    assert [s.label for s in steps[1:6]] == list(S.BASE_ORDER)
    assert steps[-1].mass_kg == 40
