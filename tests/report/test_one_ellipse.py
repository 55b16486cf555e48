"""The report draws the same 95 % prediction ellipse that the tables report (one definition)."""
import numpy as np

from rig.engine.sway.area import ellipse95_area_mm2
from rig.report.figures import prediction_ellipse


def test_the_drawn_ellipse_has_the_reported_area():
    rng = np.random.default_rng(3)
    x = rng.normal(0, 3, 400)
    y = rng.normal(0, 5, 400) + 0.6 * x
    centre, width, height, angle = prediction_ellipse(x, y)
    assert np.pi * width * height / 4 == np.float64(ellipse95_area_mm2(x, y)) or \
        abs(np.pi * width * height / 4 / ellipse95_area_mm2(x, y) - 1) < 1e-12
    assert abs(centre[0] - x.mean()) < 1e-12 and abs(centre[1] - y.mean()) < 1e-12
    # the major axis leans the way the points do (y grows with x): between 0 and 90 degrees
    assert 0 < angle < 90
