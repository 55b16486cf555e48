"""The board-reset rule of rig.engine.validity: always applied, with the missing time."""
import numpy as np
from types import SimpleNamespace

from rig.engine.validity import board_reset, check_trial

RULES = SimpleNamespace(stepped_off_fraction=0.5, stepped_off_s=0.3, max_touchdowns=None, weight_tolerance=None,
                        max_outside_foot_fraction=None, foot_margin_mm=10.0, max_lost_fraction=None)
COND = SimpleNamespace(kind="static", side=None, stance="bipedal")


def _trial():
    t = np.arange(0, 10, 0.0125)
    return t, np.full(t.shape, 700.0), np.zeros_like(t), np.zeros_like(t)


def test_a_trial_without_reset_is_valid_and_one_with_a_reset_is_not():
    t, fz, x, y = _trial()
    assert check_trial(t, fz, x, y, condition=COND, rules=RULES, body_weight_n=700.0) == []
    reasons = check_trial(t, fz, x, y, condition=COND, rules=RULES, body_weight_n=700.0, resets=1, reset_gap_s=1.234)
    assert reasons == ["the board restarted once during the trial (1.2 s of data missing): "
                       "check the USB cable and power, then repeat"]


def test_reset_reason_counts_restarts_and_none_means_none():
    assert board_reset(0, 0.0) is None
    assert board_reset(2, 2.5).startswith("the board restarted 2 times during the trial (2.5 s of data missing)")
