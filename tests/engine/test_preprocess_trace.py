"""Raw COP series -> uniform, filtered, centred Trace; options and findings recorded."""
import json

import numpy as np
import pytest

from rig.errors import AnalysisError
from rig.engine.preprocess import PreprocessOptions, Trace, lowpass, preprocess, window_average


def test_uniform_input_on_its_own_grid_is_unchanged(rng):
    t = 5.0 + np.arange(1000) / 100.0
    x, y = rng.normal(size=1000), rng.normal(size=1000)
    opt = PreprocessOptions(lowpass_hz=None, remove_mean=False)
    tr = preprocess(t, x, y, None, opt)
    assert tr.n == 1000 and tr.fs_hz == 100.0
    np.testing.assert_allclose(tr.cop_x_mm, x, atol=1e-9)
    np.testing.assert_allclose(tr.t_s, t, atol=1e-9)


def test_window_average_is_the_exact_time_average_of_the_step_function():
    t = np.array([0.0, 1.0, 3.0, 4.0])       # holds: [-0.5,0.5] [0.5,2] [2,3.5] [3.5,4.5]
    v = np.array([1.0, 2.0, 4.0, 8.0])
    out = window_average(t, v, np.array([1.0, 2.0]), 2.0)
    # window [0,2]: 0.5*1 + 1.5*2 = 3.5 -> 1.75 ; window [1,3]: 1*2 + 1*4 = 6 -> 3
    np.testing.assert_allclose(out, [1.75, 3.0])


def test_jittery_board_is_resampled_onto_a_uniform_grid(rng):
    # a 93.7 Hz board with 1 ms timing jitter, sampling a slow sway
    n = 3000
    t = np.cumsum(rng.normal(1 / 93.7, 0.001, n))
    truth = lambda tt: 10 * np.sin(2 * np.pi * 0.3 * tt)  # noqa: E731
    tr = preprocess(t, truth(t), truth(t) / 2, None, PreprocessOptions(lowpass_hz=None, remove_mean=False))
    assert np.allclose(np.diff(tr.t_s), 1 / tr.fs_hz)
    assert abs(tr.fs_hz - 93.7) < 1.0
    assert np.max(np.abs(tr.cop_x_mm - truth(tr.t_s))) < 0.05      # mm, on a 10 mm sway
    assert tr.processing["input_jitter_ms"] > 0.5
    assert tr.processing["n_gaps"] == 0


def test_gaps_are_reported_and_long_gaps_refused():
    t = np.arange(500) / 100.0
    t_gap = np.concatenate([t[:200], t[205:]])               # 5 frames lost: 60 ms step
    tr = preprocess(t_gap, np.sin(t_gap), np.cos(t_gap), None, PreprocessOptions(lowpass_hz=None))
    assert tr.processing["n_gaps"] == 1
    assert tr.processing["gaps"][0][0] == pytest.approx(1.99)
    assert tr.processing["gaps"][0][1] == pytest.approx(0.06)
    assert tr.n == 500                                     # grid covers the gap
    t_long = np.concatenate([t[:200], t[240:]])
    with pytest.raises(AnalysisError, match=r"gap of 0\.41.* t = 1\.990 s"):
        preprocess(t_long, np.sin(t_long), np.cos(t_long))
    # with the 'none' preset the gap is reported, nothing is changed
    tr = preprocess(t_long, np.sin(t_long), np.cos(t_long), None, PreprocessOptions.none())
    assert tr.n == t_long.size and tr.processing["n_gaps"] == 1


def test_lowpass_is_zero_lag_and_minus_6_db_at_cutoff():
    fs = 100.0
    t = np.arange(20000) / fs
    gains = {}
    for f in (1.0, 10.0, 30.0):
        s = np.sin(2 * np.pi * f * t)
        out = lowpass(s, fs, 10.0, 2)
        mid = slice(2000, -2000)
        gains[f] = np.std(out[mid]) / np.std(s[mid])
        if f == 1.0:
            # zero lag: the filtered sine is in phase with the input
            assert np.corrcoef(out[mid], s[mid])[0, 1] > 0.99999
    assert gains[1.0] == pytest.approx(1.0, abs=1e-3)
    assert gains[10.0] == pytest.approx(0.5, abs=0.01)       # -3 dB twice = -6 dB
    assert gains[30.0] < 0.02


def test_processing_records_every_option_and_is_json(rng):
    t = np.arange(1000) / 100.0
    tr = preprocess(t, rng.normal(size=1000) + 40, rng.normal(size=1000) - 20)
    p = tr.processing
    assert p["lowpass"]["cutoff_hz"] == 10.0
    assert p["lowpass"]["design_order"] == 2 and p["lowpass"]["effective_order"] == 4
    assert p["lowpass"]["passes"] == "forward-backward"
    assert p["resample"]["fs_hz"] == 100.0
    assert p["options"]["max_gap_s"] == 0.1
    json.dumps(p)
    # mean removal keeps the board position
    assert abs(tr.cop_x_mm.mean()) < 1e-9
    bx, by = tr.board_xy_mm()
    assert bx.mean() == pytest.approx(40, abs=0.2) and by.mean() == pytest.approx(-20, abs=0.2)


def test_undefined_edges_are_trimmed_inside_is_an_error():
    t = np.arange(1000) / 100.0
    x = np.sin(t)
    x[:50] = np.nan
    x[-30:] = np.nan
    tr = preprocess(t, x, np.cos(t))
    assert tr.n == 920
    assert tr.processing["trimmed_s"] == pytest.approx([0.5, 0.3])
    x[500:520] = np.nan
    with pytest.raises(AnalysisError, match=r"from t = 5\.000 s to 5\.190 s"):
        preprocess(t, x, np.cos(t))


def test_nobody_on_the_board_and_bad_times_are_clear_errors():
    t = np.arange(100) / 100.0
    with pytest.raises(AnalysisError, match="nobody on the board"):
        preprocess(t, np.full(100, np.nan), np.full(100, np.nan))
    t2 = t.copy()
    t2[50] = t2[49]
    with pytest.raises(AnalysisError, match="not increasing at sample 50"):
        preprocess(t2, t, t)
    with pytest.raises(AnalysisError, match="too short"):
        preprocess([0.0], [1.0], [1.0])
    with pytest.raises(AnalysisError, match="too short to filter"):
        preprocess(t[:5], t[:5], t[:5])
    with pytest.raises(AnalysisError, match="needs a sample rate above 20 Hz"):
        preprocess(np.arange(100) / 10.0, t, t)


def test_as_given_is_untouched(rng):
    t = np.sort(rng.uniform(0, 10, 300))
    x, y = rng.normal(size=300), rng.normal(size=300)
    tr = Trace.as_given(t, x, y)
    assert tr.cop_x_mm is not x and np.array_equal(tr.cop_x_mm, x) and np.array_equal(tr.t_s, t)
    assert tr.processing["lowpass"] is None and tr.processing["resample"] is None
    assert tr.origin_mm == (0.0, 0.0)


def test_fz_is_resampled_but_never_filtered():
    t = np.arange(1000) / 100.0
    fz = np.where((t > 3) & (t < 3.05), 300.0, 700.0)      # a sharp 50 ms drop
    tr = preprocess(t, np.sin(t), np.cos(t), fz)
    assert tr.fz_n.min() == pytest.approx(300.0) and tr.fz_n.max() == pytest.approx(700.0)
    assert np.count_nonzero(tr.fz_n < 699) == 4          # the drop keeps its sharp edges


def test_lowpass_equals_scipy_sosfiltfilt_without_importing_scipy_signal(rng, kernels):
    from scipy import signal
    for order in (1, 2, 3, 4):
        for fs, fc, n in ((100.0, 10.0, 6000), (1000.0, 10.0, 20000), (93.7, 5.0, 50)):
            x = np.cumsum(rng.normal(size=(2, n)), axis=1) + 50.0
            ref = signal.sosfiltfilt(signal.butter(order, fc, fs=fs, output="sos"), x, axis=-1)
            got = lowpass(x, fs, fc, order)
            np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * np.abs(ref).max())
            np.testing.assert_allclose(lowpass(x[0], fs, fc, order), got[0], rtol=0, atol=1e-12 * np.abs(ref).max())
    from rig.engine.preprocess import butter_lowpass_sections
    assert butter_lowpass_sections(2, 10.0, 100.0) is butter_lowpass_sections(2, 10.0, 100.0)   # cached


def test_engine_and_rig_analyze_import_no_scipy():
    import subprocess
    from tests.engine.signals import PDS_DIR
    import sys
    code = ("import sys; import numpy as np; from rig.engine.preprocess import preprocess; "
            "from rig.engine.sway import compute_measures; t = np.arange(3000) / 100.0; "
            "compute_measures(preprocess(t, np.sin(t), np.cos(t * 1.3))); "
            "from rig.cli.analyze_cmd import analyse_file; "
            f"analyse_file({str(PDS_DIR / 'PDS13OR1grf.txt')!r}, 'default'); "
            "print(sorted(m for m in sys.modules if m.startswith('scipy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
