"""Prieto time-domain measures against analytic signals."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from rig.errors import AnalysisError
from rig.engine.sway import time_domain as td
from tests.engine.signals import circle


def test_circle_path_distance_velocity_frequency():
    R, f, fs, T = 12.0, 0.4, 100.0, 25.0
    t, x, y = circle(R, f, fs, T)
    n = t.size
    chord = 2 * R * np.sin(np.pi * f / fs)              # exact step length on the circle
    assert td.path_length_mm(x, y) == pytest.approx((n - 1) * chord, rel=1e-12)
    # the analytic 2 pi R f T, T = (n - 1) / fs spans the path; error = chord/arc - 1 ~ 1e-5
    assert td.path_length_mm(x, y) == pytest.approx(2 * np.pi * R * f * (n - 1) / fs, rel=1e-4)
    assert td.mean_distance_mm(x, y) == pytest.approx(R, rel=1e-9)   # whole number of turns
    assert td.rms_distance_mm(x, y) == pytest.approx(R, rel=1e-9)
    assert td.mean_velocity_mm_s(x, y, fs) == pytest.approx(2 * np.pi * R * f, rel=1e-3)
    assert td.mean_velocity_mm_s(x, y, fs) == pytest.approx((n - 1) * chord * fs / n, rel=1e-12)
    assert td.mean_frequency_hz(x, y, fs) == pytest.approx(f, rel=1e-3)
    # area swept by the radius per second: pi R^2 per turn, f turns per second
    assert td.sway_area_per_second_mm2_s(x, y, fs) == pytest.approx(np.pi * R ** 2 * f, rel=1e-3)
    assert td.range_mm(x, y) == pytest.approx(2 * R, rel=1e-6)


def test_sinusoid_per_axis():
    A, f, fs, T = 5.0, 0.5, 100.0, 40.0
    t = np.arange(int(T * fs)) / fs
    a = 7.0 + A * np.sin(2 * np.pi * f * t)
    # 4 A of travel per cycle
    assert td.mean_velocity_axis_mm_s(a, fs) == pytest.approx(4 * A * f, rel=1e-3)
    assert td.path_length_axis_mm(a) == pytest.approx(4 * A * f * T, rel=1e-3)
    assert td.mean_distance_axis_mm(a) == pytest.approx(2 * A / np.pi, rel=2e-4)  # sampled |sin|
    assert td.rms_axis_mm(a) == pytest.approx(A / np.sqrt(2), rel=1e-9)
    assert td.sd_axis_mm(a) == pytest.approx(A / np.sqrt(2) * np.sqrt(a.size / (a.size - 1)), rel=1e-9)
    assert td.range_axis_mm(a) == pytest.approx(2 * A, rel=1e-6)
    # Prieto's per-axis mean frequency, MVELO / (4 sqrt 2 MDIST), is pi f / (2 sqrt 2) here
    assert td.mean_frequency_axis_hz(a, fs) == pytest.approx(np.pi * f / (2 * np.sqrt(2)), rel=1e-3)
    assert td.cop_mean_mm(a) == pytest.approx(7.0, abs=1e-9)


INVARIANT = [td.mean_distance_mm, td.rms_distance_mm, td.range_mm, td.path_length_mm]
RATE = [td.mean_velocity_mm_s, td.sway_area_per_second_mm2_s, td.mean_frequency_hz]


@settings(max_examples=40)
@given(st.floats(0, 2 * np.pi), st.floats(-300, 300), st.floats(-300, 300),
       st.integers(0, 2 ** 32 - 1))
def test_resultant_measures_are_rotation_and_translation_invariant(angle, dx, dy, seed):
    r = np.random.default_rng(seed)
    x, y = np.cumsum(r.normal(size=(2, 400)), axis=1)
    c, s = np.cos(angle), np.sin(angle)
    x2, y2 = c * x - s * y + dx, s * x + c * y + dy
    for fn in INVARIANT:
        assert fn(x2, y2) == pytest.approx(fn(x, y), rel=1e-9, abs=1e-9)
    for fn in RATE:
        assert fn(x2, y2, 50.0) == pytest.approx(fn(x, y, 50.0), rel=1e-9, abs=1e-9)
    # per-axis measures: translation only
    for fn in (td.rms_axis_mm, td.range_axis_mm, td.path_length_axis_mm, td.sd_axis_mm):
        assert fn(x + dx) == pytest.approx(fn(x), rel=1e-9, abs=1e-9)


def test_velocity_uses_n_over_fs():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y = np.zeros(4)
    assert td.mean_velocity_mm_s(x, y, 10.0) == pytest.approx(3.0 / (4 / 10.0))


def test_degenerate_inputs():
    c = np.full(50, 3.0)
    assert td.path_length_mm(c, c) == 0.0
    assert td.mean_velocity_mm_s(c, c, 100) == 0.0
    assert np.isnan(td.mean_frequency_hz(c, c, 100))          # 0 / 0: NaN by rule
    assert np.isnan(td.mean_frequency_axis_hz(c, 100))
    assert td.range_mm(c, c) == 0.0
    with pytest.raises(AnalysisError, match="at least 2"):
        td.path_length_mm([1.0], [1.0])
    with pytest.raises(AnalysisError, match=r"NaN\) at 1 sample.*index 2"):
        td.path_length_mm([1.0, 2.0, np.nan, 3.0], [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(AnalysisError, match="positive"):
        td.mean_velocity_mm_s([1.0, 2.0], [1.0, 2.0], 0)
    with pytest.raises(AnalysisError, match="cop_y_mm has 3"):
        td.path_length_mm([1.0, 2.0], [1.0, 2.0, 3.0])
    # two samples: a single step
    assert td.path_length_mm([0.0, 3.0], [0.0, 4.0]) == 5.0
    assert td.range_mm([0.0, 3.0], [0.0, 4.0]) == 5.0


def test_the_one_pass_set_gives_each_single_function_s_value_exactly(rng):
    x, y = np.cumsum(rng.normal(size=(2, 3000)), axis=1)
    fs = 100.0
    single = {"mean_distance_mm": td.mean_distance_mm(x, y), "rms_distance_mm": td.rms_distance_mm(x, y),
              "range_mm": td.range_mm(x, y), "path_length_mm": td.path_length_mm(x, y),
              "mean_velocity_mm_s": td.mean_velocity_mm_s(x, y, fs),
              "sway_area_per_second_mm2_s": td.sway_area_per_second_mm2_s(x, y, fs),
              "mean_frequency_hz": td.mean_frequency_hz(x, y, fs)}
    for ax, a in (("ml", x), ("ap", y)):
        single.update({f"mean_distance_{ax}_mm": td.mean_distance_axis_mm(a), f"rms_{ax}_mm": td.rms_axis_mm(a),
                       f"sd_{ax}_mm": td.sd_axis_mm(a), f"range_{ax}_mm": td.range_axis_mm(a),
                       f"path_length_{ax}_mm": td.path_length_axis_mm(a),
                       f"mean_velocity_{ax}_mm_s": td.mean_velocity_axis_mm_s(a, fs),
                       f"mean_frequency_{ax}_hz": td.mean_frequency_axis_hz(a, fs)})
    assert td.time_domain_measures(x, y, fs) == single
    assert td.time_domain_measures(x, y, fs, td.hull_vertices(x, y)) == single
    assert td.sd_axis_mm(x) == float(np.std(x, ddof=1))      # the kernel is np.std's arithmetic
