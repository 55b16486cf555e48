"""compute_measures: the standard set, the registry, and the degenerate-input rules."""
import numpy as np
import pytest

from rig.errors import AnalysisError
from rig.engine.preprocess import Trace, preprocess
from rig.engine.sway import DEFAULT_MEASURE_SETS, MEASURE_SETS, MEASURES, Foot, compute_measures
from tests.engine.signals import circle


def sway(rng, n=6000, fs=100.0):
    t = np.arange(n) / fs
    x, y = np.cumsum(rng.normal(0, 0.1, (2, n)), axis=1)
    return t, x, y


def test_every_key_is_registered_with_unit_and_reference(rng):
    t, x, y = sway(rng)
    fz = np.full(t.size, 700.0)
    tr = preprocess(t, x + 30, y, fz)
    m = compute_measures(tr, foot=Foot(250, 100, 30, 0), body_weight_n=700.0)
    assert set(m) <= set(MEASURES)
    for key in m:
        meta = MEASURES[key]
        assert meta.unit and meta.label and callable(meta.function)
        if meta.group != "trial":
            assert meta.reference
            assert meta.function.__doc__ and len(meta.function.__doc__) > 40
    for key in ("path_length_mm", "mean_velocity_ml_mm_s", "ellipse95_area_mm2",
                "convex_hull_area_mm2", "f95_ap_hz", "mean_power_frequency_hz",
                "diffusion_short_planar_mm2_s", "sample_entropy_velocity_ml_20hz", "dfa_alpha_velocity_ap_20hz",
                "ttb_min_ml_s", "ml_percent_foot_width_used", "touchdowns", "time_in_balance_s"):
        assert key in m and np.isfinite(m[key]), key
    assert m["touchdowns"] == 0 and m["n_samples"] == 6000 and m["fs_hz"] == 100.0


def test_units_are_in_the_names():
    suffix = {"mm": "_mm", "mm/s": "_mm_s", "mm^2": "_mm2", "mm^2/s": "_mm2_s", "Hz": "_hz",
              "s": "_s", "deg": "_deg"}
    for name, meta in MEASURES.items():
        if meta.unit in suffix:
            assert name.endswith(suffix[meta.unit]), name


def test_circle_through_compute_measures():
    t, x, y = circle(10.0, 0.5, 100.0, 20.0)
    m = compute_measures(Trace.as_given(t, x, y))
    assert m["mean_distance_mm"] == pytest.approx(10.0, rel=1e-9)
    assert m["mean_velocity_mm_s"] == pytest.approx(2 * np.pi * 10 * 0.5, rel=1e-3)
    assert m["mean_frequency_hz"] == pytest.approx(0.5, rel=1e-3)
    assert m["mean_power_frequency_hz"] == pytest.approx(0.5, rel=1e-6)
    assert m["cop_mean_ml_mm"] == pytest.approx(3.0, abs=1e-9)
    assert m["cop_mean_ap_mm"] == pytest.approx(-7.0, abs=1e-9)
    assert np.isnan(m["ellipse95_angle_deg"])           # isotropic: no major axis


def test_translation_and_rotation_invariance_of_the_set(rng):
    t, x, y = sway(rng, 3000)
    a = np.radians(37)
    xr, yr = np.cos(a) * x - np.sin(a) * y + 50, np.sin(a) * x + np.cos(a) * y - 20
    m1 = compute_measures(Trace.as_given(t, x, y))
    m2 = compute_measures(Trace.as_given(t, xr, yr))
    for key in ("mean_distance_mm", "rms_distance_mm", "range_mm", "path_length_mm",
                "mean_velocity_mm_s", "sway_area_per_second_mm2_s", "mean_frequency_hz",
                "ellipse95_area_mm2", "ellipse95_major_mm", "ellipse95_minor_mm",
                "convex_hull_area_mm2", "diffusion_short_planar_mm2_s", "scaling_long_planar",
                "critical_time_planar_s"):
        assert m2[key] == pytest.approx(m1[key], rel=1e-8), key
    m3 = compute_measures(Trace.as_given(t, x + 100, y - 100))     # translation: everything
    for key in m1:
        if key not in ("cop_mean_ml_mm", "cop_mean_ap_mm"):
            assert m3[key] == pytest.approx(m1[key], rel=1e-6, abs=1e-9, nan_ok=True), key


def test_degenerate_traces_raise_one_clear_error():
    t = np.arange(100) / 100.0
    with pytest.raises(AnalysisError, match="COP constant over all 100 samples"):
        compute_measures(Trace.as_given(t, np.full(100, 5.0), np.full(100, 5.0)))
    with pytest.raises(AnalysisError, match="too short: 2 sample"):
        compute_measures(Trace.as_given(t[:2], [0.0, 1.0], [0.0, 1.0]))
    x = np.sin(t)
    x[10:20] = np.nan
    with pytest.raises(AnalysisError, match=r"10 of 100 samples, first at t = 0\.100 s"):
        compute_measures(Trace.as_given(t, x, np.cos(t)))
    with pytest.raises(AnalysisError, match="nobody on the board"):
        compute_measures(Trace.as_given(t, np.full(100, np.nan), np.full(100, np.nan)))


def test_short_trial_gives_nan_by_rule_not_a_crash(rng):
    t, x, y = sway(rng, 500)                      # 5 s
    m = compute_measures(Trace.as_given(t, x, y))
    assert np.isnan(m["diffusion_short_ml_mm2_s"])           # SDA needs 15 s
    assert np.isfinite(m["dfa_alpha_velocity_ml_20hz"]) and np.isfinite(m["f95_ml_hz"])
    m = compute_measures(Trace.as_given(t[:12], x[:12], y[:12]))
    assert np.isfinite(m["path_length_mm"]) and "sample_entropy_velocity_ml" not in m


def test_landing_needs_rate_force_and_weight(rng):
    t, x, y = sway(rng, 2000)
    tr = Trace.as_given(t, x, y, np.full(2000, 700.0))
    with pytest.raises(AnalysisError, match="at least 500 Hz"):
        compute_measures(tr, body_weight_n=700.0, landing_trial=True)
    with pytest.raises(AnalysisError, match="body weight"):
        compute_measures(tr, landing_trial=True)
    with pytest.raises(AnalysisError, match="no total force"):
        compute_measures(Trace.as_given(t, x, y), body_weight_n=700.0)


def test_measure_sets_choose_what_is_computed(rng):
    t, x, y = sway(rng)
    tr = preprocess(t, x + 30, y)
    full = compute_measures(tr, foot=Foot(250, 100, 30, 0))
    for key in ("prieto_f95_ap_hz", "prieto_mean_power_frequency_hz", "sample_entropy_velocity_ml_20hz",
                "dfa_alpha_velocity_ap_20hz", "ttb_min_ml_at_cop_s", "ttb_mean_min_ap_50hz_s"):
        assert np.isfinite(full[key]), key
    # the board-rate sample entropy and DFA depend on the board's rate: only when asked for
    assert "sample_entropy_velocity_ml" not in full and "dfa_alpha_velocity_ml" not in full
    assert set(compute_measures(tr, foot=Foot(250, 100, 30, 0), sets=DEFAULT_MEASURE_SETS)) == set(full)
    every = compute_measures(tr, foot=Foot(250, 100, 30, 0), sets=MEASURE_SETS)
    assert set(every) - set(full) == {"sample_entropy_velocity_ml", "sample_entropy_velocity_ap",
                                      "dfa_alpha_velocity_ml", "dfa_alpha_velocity_ap"}
    some = compute_measures(tr, sets=("spectral", "dfa"))
    assert "f50_ml_hz" in some and "dfa_alpha_velocity_ml_20hz" in some and "dfa_alpha_velocity_ml" not in some
    board_dfa = compute_measures(tr, sets=("board-dfa",))
    assert np.isfinite(board_dfa["dfa_alpha_velocity_ap"]) and "dfa_alpha_velocity_ap_20hz" not in board_dfa
    assert not any(k.startswith(("sample_entropy", "diffusion_", "scaling_")) for k in some)
    ent = compute_measures(tr, sets=("entropy",))
    assert "sample_entropy_velocity_ml_20hz" in ent and "sample_entropy_velocity_ml" not in ent
    board = compute_measures(tr, sets=("board-entropy",))
    assert "sample_entropy_velocity_ml" in board and "sample_entropy_velocity_ml_20hz" not in board
    for k, v in some.items():                     # the same numbers as in the full set
        assert v == full[k] or (np.isnan(v) and np.isnan(full[k])), k
    basic = compute_measures(tr, sets=())
    assert "mean_velocity_mm_s" in basic and "f50_ml_hz" not in basic
    with pytest.raises(AnalysisError, match="unknown measure set"):
        compute_measures(tr, sets=("entropi",))
