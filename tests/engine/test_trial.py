"""rig.engine.trial: the one trial analysis the runner, the simulated population and the bench call.

A 20 s single-leg trace (100 Hz, board time from 1000 s) with one foot-lift at 6.0-6.5 s (force
drops to 40 % of body weight): the foot-lift is counted over the whole trace, the quiet stretch
(the longest one, each event widened by footlift.QUIET_MARGIN_S) is 7.0-19.99 s, and the COP
measures are those of that stretch alone.
"""
import numpy as np
import pytest

from rig.engine import footlift
from rig.engine.preprocess import PreprocessOptions, preprocess
from rig.engine.sway import compute_measures
from rig.engine.trial import measured_stretch, trial_measures
from rig.errors import AnalysisError

from tests.engine.signals import circle

BW_N = 700.0
FS_HZ = 100.0


def _trace(lift=(6.0, 6.5)):
    t, x, y = circle(radius_mm=5.0, freq_hz=0.3, fs_hz=FS_HZ, duration_s=20.0)
    fz = np.full_like(t, BW_N)
    if lift:
        fz[(t >= lift[0]) & (t <= lift[1])] = 0.4 * BW_N
    return t + 1000.0, x, y, fz


def test_foot_lift_counted_on_the_whole_trace_and_measures_on_the_quiet_stretch():
    t, x, y, fz = _trace()
    s = measured_stretch(t, fz, x, y, BW_N)
    assert s.footlifts.count == 1
    assert s.footlifts.events_s[0] == pytest.approx((6.0, 6.5))
    q0 = 6.5 + footlift.QUIET_MARGIN_S
    assert t[s.start] - t[0] == pytest.approx(q0)
    assert s.stop == len(t)
    # the validity rules see the quiet stretch from the stretch's own start
    assert s.validity_footlifts.quiet_s == pytest.approx((0.0, t[-1] - t[s.start]))
    assert s.processing["footlifts"]["count"] == 1
    assert "quiet stretch 7.00-19.99 s" in s.processing["measured_on"]

    opts = PreprocessOptions(lowpass_hz=10.0)
    m, processing = trial_measures(t[s.slice], x[s.slice], y[s.slice], fz[s.slice], opts,
                                   body_weight_n=BW_N, footlifts=s.footlifts,
                                   spectral_measures=False, research=False)
    assert m["touchdowns"] == 1.0                       # the whole trace's, not the stretch's 0
    assert m["time_in_balance_s"] == pytest.approx(6.0)
    assert m["duration_s"] == pytest.approx(t[-1] - t[s.start], abs=0.02)
    alone = compute_measures(preprocess(t[s.slice], x[s.slice], y[s.slice], fz[s.slice], opts),
                             body_weight_n=BW_N, spectral_measures=False, research=False)
    assert alone["touchdowns"] == 0.0
    assert m["mean_velocity_mm_s"] == alone["mean_velocity_mm_s"]
    assert processing["lowpass"]["cutoff_hz"] == 10.0


def test_a_trace_without_foot_lifts_is_measured_whole():
    t, x, y, fz = _trace(lift=None)
    s = measured_stretch(t, fz, x, y, BW_N)
    assert (s.start, s.stop, s.footlifts.count) == (0, len(t), 0)
    assert "quiet stretch 0.00-19.99 s" in s.processing["measured_on"]
    assert s.validity_footlifts.quiet_s == pytest.approx((0.0, t[-1] - t[0]))


def test_too_short_a_trace_cannot_be_analysed():
    t, x, y, fz = _trace(lift=None)
    with pytest.raises(AnalysisError):
        trial_measures(t[:2], x[:2], y[:2], fz[:2], PreprocessOptions())
