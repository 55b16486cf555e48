"""The procedure on synthetic recordings (the sim's electronics model, no serial link)."""
import numpy as np
import pytest

from rig.calibration import steps as S
from rig.calibration.detect import StepTracker
from rig.calibration.procedure import CalibrationProcedure, Settings, SpotCheck, TextUI
from rig.calibration.wiring import WiringFault
from rig.errors import CalibrationError

from calsynth import Chunk, chunks, recording

POS = np.array([[-180.0, 180.0], [180.0, 180.0], [-180.0, -180.0], [180.0, -180.0]])


def run(opts, duration_s=120.0, chunk=53, answer=True, **model_kw):
    model, scene, rec = recording(opts, duration_s, **model_kw)
    mass = float(opts.get("calibration", ["20"])[-1])
    lin = tuple(float(v) for v in opts.get("linearity", [""])[-1].split(",") if v)
    ui = TextUI(answer)
    proc = CalibrationProcedure(Settings(mass_kg=mass, positions_mm=POS, linearity_kg=lin,
                                         grid=opts.get("grid", ["0"])[-1] == "1",
                                         noise_kg=float(opts["noise_kg"][-1]) if "noise_kg" in opts else None),
                                ui, model.board_id.hex(), "1.0.0")
    for c in chunks(rec, chunk):
        proc.feed(c)
        if proc.done:
            break
    return model, proc, ui


@pytest.mark.parametrize("seed", [0, 3, 11])
def test_gains_are_recovered_within_half_a_percent(seed):
    model, proc, ui = run({"calibration": ["20"]}, seed=seed)
    assert proc.done
    cal = proc.result()
    err = cal.gain_counts_per_n / model.gains_counts_per_n - 1
    assert np.max(np.abs(err)) < 0.005, err
    # the seeds' cells really differ from nominal, so this is not the nominal answer
    assert np.max(np.abs(model.gains_counts_per_n / 1839.0 - 1)) > 0.005
    np.testing.assert_allclose(cal.offset_counts, model.offsets_counts, atol=200)
    nf = cal.noise_floor
    assert 0 < nf["cop_sd_x_mm"] < 0.5 and 0 < nf["mean_velocity_mm_s"] < 20 and nf["ellipse_area_mm2"] > 0
    assert cal.data["fit"]["cop_max_mm"] < 0.5


def test_detection_does_not_depend_on_chunking():
    _, a, _ = run({"calibration": ["20"]}, chunk=7)
    _, b, _ = run({"calibration": ["20"]}, chunk=5000)
    wa = [(r.step.label, r.window.i0, r.window.i1) for r in a.tracker.results]
    wb = [(r.step.label, r.window.i0, r.window.i1) for r in b.tracker.results]
    assert wa == wb and len(wa) == len(a.steps)


def test_linearity_series_and_grid():
    model, proc, _ = run({"calibration": ["20"], "linearity": ["40,60"], "grid": ["1"], "noise_kg": ["0"]}, duration_s=260)
    assert proc.done
    cal = proc.result()
    lin = cal.data["linearity"]
    assert lin["masses_kg"] == [20.0, 40.0, 60.0] and lin["max_deviation_percent_of_max"] < 0.05
    assert cal.data["fit"]["placements"] == 15 and "noise_floor" not in cal.data
    assert np.max(np.abs(cal.gain_counts_per_n / model.gains_counts_per_n - 1)) < 0.003


def test_reversed_cell_is_found_at_the_centre():
    with pytest.raises(WiringFault, match=r"channel 2 \(BL\): counts fall under load .*reversed polarity"):
        run({"calibration": ["20"]}, reverse_cell=2)


def test_dead_cell_is_found_on_the_empty_board():
    with pytest.raises(WiringFault, match=r"channel 1 \(FR\): no answer from its HX711 \(empty board\)"):
        run({"calibration": ["20"]}, dead_cell=1)


def test_saturated_cell_is_found_on_the_empty_board():
    with pytest.raises(WiringFault, match=r"channel 3 \(BR\): reads full scale"):
        run({"calibration": ["20"]}, saturate_cell=3)


def test_a_cell_that_answers_but_does_not_respond_to_load_is_found(monkeypatch):
    from rig.sim import board

    orig = board.SimBoardModel.__post_init__

    def broken_bridge(self):  # HX711 fine, cell's signal wire broken: counts ignore the load
        orig(self)
        self.gains_counts_per_n[3] = 0.0

    monkeypatch.setattr(board.SimBoardModel, "__post_init__", broken_bridge)
    with pytest.raises(WiringFault, match=r"channel 3 \(BR\): no response to load \(20 kg on the centre\)"):
        run({"calibration": ["20"]})


def test_swapped_cells_are_found_and_remapped():
    model, proc, ui = run({"calibration": ["20"]}, swap_cells=(0, 2))
    assert any("cells in the wrong corner: the front-left cell is on channel 2 (BL); the back-left cell is on "
               "channel 0 (FL)" in line for line in ui.lines)
    cal = proc.result()
    assert cal.channel.tolist() == [2, 1, 0, 3] and cal.data["wiring"]["remapped"]
    np.testing.assert_allclose(cal.gain_counts_per_n, model.gains_counts_per_n, rtol=5e-3)


def test_swapped_cells_refused_without_remap():
    _, proc, _ = run({"calibration": ["20"]}, answer=False, swap_cells=(1, 3))
    with pytest.raises(WiringFault, match="re-plug the cells"):
        proc.result()


def _flat(t, level_counts):
    raw = np.tile(np.asarray(level_counts, float), (len(t), 1))
    return Chunk(t, raw, np.zeros(len(t), np.uint16))


def test_a_mass_lifted_before_it_was_measured_is_asked_for_again():
    t = np.arange(0, 40, 0.0125)
    raw = np.zeros((len(t), 4))
    load = 20 * 9.80665 / 4 * 1839.0
    raw[(t > 5) & (t < 6.5)] = load     # lifted after 1.5 s: too short
    raw[(t > 10) & (t < 20)] = load     # placed again properly
    steps = [S.Step(S.ZERO, "zero"), S.Step(S.PLACE, "centre", 20.0)]
    events = []
    tr = StepTracker(steps, lambda kind, st, info: events.append(kind))
    tr.feed(t, raw, np.zeros(len(t), np.uint16))
    assert tr.done
    assert events.count("lifted_early") == 1 and events.count("placed") == 2
    assert tr.results[1].window.t0_s >= 11.0


def test_a_step_without_a_placement_times_out_with_board_time():
    t = np.arange(0, 100, 0.0125)
    steps = [S.Step(S.ZERO, "zero"), S.Step(S.PLACE, "centre", 20.0)]
    tr = StepTracker(steps, step_timeout_s=60)
    with pytest.raises(CalibrationError, match=r"step 2/2 \(20 kg on the centre\): no new load of about 20 kg within 60 s"):
        tr.feed(t, np.zeros((len(t), 4)), np.zeros(len(t), np.uint16))


def test_spot_check_passes_with_the_true_calibration_and_fails_with_nominal():
    from rig.calibration import load_calibration, nominal_path

    model, proc, _ = run({"calibration": ["20"]}, seed=5)
    cal = proc.result()
    _, _, rec = recording({"check": ["20"]}, 45, seed=5)
    for c, expect in ((cal, True), (load_calibration(nominal_path()), False)):
        sc = SpotCheck(c, 20.0, TextUI())
        sc.feed(rec)
        res = sc.results()
        assert [r.label for r in res] == list(S.CHECK_ORDER)
        assert all(r.passed for r in res) is expect
        if expect:
            assert max(abs(r.force_error_percent) for r in res) < 0.2 and max(r.cop_error_mm for r in res) < 0.5


def test_zeroing_a_loaded_board_is_noticed_against_the_previous_calibration():
    model, _, rec = recording({"calibration": ["20"]}, 30, seed=2)
    rec.raw = rec.raw + (np.array([1, 1, 1, 1]) * 12 * 9.80665 / 4 * 1839).astype(np.int32)  # 12 kg left on it
    ui = TextUI()
    proc = CalibrationProcedure(Settings(mass_kg=20, positions_mm=POS, previous_offsets=model.offsets_counts),
                                ui, model.board_id.hex(), "1.0.0")
    proc.feed(rec)
    assert any("reads +118 N against the previous calibration" in w for w in proc.warnings), proc.warnings
