"""`rig calibrate` and `rig check` end to end on the simulated board through the serial link.

clock=lockstep: board time advances with the link's reads (0.5 board s per empty read), not with
the wall clock; every step is detected in board time, so the procedure is the same as in real time.
"""
import numpy as np
import pytest

from rig.sim.board import SimBoardModel
from rig.sim.calibration_scene import distribute
from rig.calibration import load_calibration, nominal_path
from rig.cli import main

from tests.cli import rig

pytestmark = pytest.mark.sim
CLOCK = "clock=lockstep&step_s=0.5"  # board time follows the reads: host speed does not matter


def calibrate(capsys, tmp_path, url_opts, *extra):
    out = tmp_path / "cal.toml"
    code, stdout, stderr = rig(capsys, "calibrate", "--port", f"sim://?{url_opts}&{CLOCK}", "--mass-kg", "20",
                               "--yes", "--out", str(out), *extra)
    return code, stdout, stderr, out


@pytest.fixture(scope="module")
def seed3_calibration(tmp_path_factory):
    # one calibration run shared by the acceptance tests (run via main() without capsys)
    import contextlib
    import io

    out = tmp_path_factory.mktemp("cal") / "cal.toml"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), pytest.raises(SystemExit) as e:
        main(["calibrate", "--port", f"sim://?seed=3&calibration=20&{CLOCK}", "--mass-kg", "20", "--yes",
              "--out", str(out), "--write-board"])
    assert e.value.code == 0, buf.getvalue()
    return out, buf.getvalue()


def test_calibrate_recovers_the_sim_gains_within_half_a_percent(seed3_calibration):
    path, stdout = seed3_calibration
    cal = load_calibration(path)
    true = SimBoardModel(seed=3)
    err = cal.gain_counts_per_n / true.gains_counts_per_n - 1
    assert np.max(np.abs(err)) < 0.005, err
    assert np.max(np.abs(true.gains_counts_per_n / 1839.0 - 1)) > 0.03  # seed 3 has a cell 4 % off
    assert cal.board_id == true.board_id.hex() and not cal.is_nominal
    assert f"Calibration record {load_calibration(path).id} (48 bytes) stored on the board." in stdout
    assert cal.data["noise_floor"]["mass_kg"] == 20.0


@pytest.mark.parametrize("mass_kg,x_mm,y_mm", [(70, 0, 0), (20, 120, -80), (35, -170, 165), (50, 60, 175), (10, -100, -30)])
def test_static_mass_anywhere_reads_within_1mm_and_half_a_percent(seed3_calibration, mass_kg, x_mm, y_mm):
    """The sim's electronics for seed 3 with a static mass at (x, y): what `load=KG@X,Y` puts on it."""
    cal = load_calibration(seed3_calibration[0])
    model = SimBoardModel(seed=3)
    k = np.arange(400)
    t = model.sample_times_s(k) + 5.0
    forces = distribute(np.full(len(k), mass_kg * 9.80665), np.full(len(k), x_mm), np.full(len(k), y_mm), model.positions_mm)
    raw, _ = model.counts(forces, t, k)
    f = cal.forces_n(raw)
    total = f.sum(axis=1).mean()
    cop = (f @ cal.positions_mm).mean(axis=0) / total
    assert abs(total / (mass_kg * 9.80665) - 1) < 0.005
    assert np.hypot(cop[0] - x_mm, cop[1] - y_mm) < 1.0
    # the nominal build would not do as well off-centre (seed 3 has a cell 4 % off)
    nominal = (raw - model.offsets_counts) / 1839.0
    nom_cop = (nominal @ cal.positions_mm).mean(axis=0) / nominal.sum(axis=1).mean()
    assert abs(nominal.sum(axis=1).mean() / (mass_kg * 9.80665) - 1) > 0.005 or np.hypot(*(nom_cop - [x_mm, y_mm])) > 1.0


def test_load_option_through_the_serial_link_reads_the_mass_and_its_place(seed3_calibration):
    """`sim://?load=KG@X,Y` end to end: link, decoder, calibration, COP (board offsets removed
    by the calibration's own zero, as on a real board weighed straight after calibrating)."""
    from rig.board.discovery import open_board
    from rig.engine.cop import cop_from_forces

    cal = load_calibration(seed3_calibration[0])
    with open_board(f"sim://?seed=3&person=0&load=45@-90,60&{CLOCK}") as link:
        link.start()
        frames = link.wait_frames(300, timeout_s=30)
    fz, x, y = cop_from_forces(cal.forces_n(frames.raw), cal.positions_mm)
    assert abs(fz.mean() / (45 * 9.80665) - 1) < 0.005
    assert np.hypot(x.mean() + 90, y.mean() - 60) < 1.0


def test_check_passes_with_the_calibration_and_fails_with_nominal(capsys, seed3_calibration):
    path = str(seed3_calibration[0])
    code, out, err = rig(capsys, "check", "--port", f"sim://?seed=3&check=20&{CLOCK}", "--mass-kg", "20",
                         "--calibration", path, "--yes")
    assert code == 0, err
    assert out.count("PASS") == 2 and "Spot check passed" in out
    assert "stores no calibration record" in out  # a fresh simulated board has an empty EEPROM
    assert "days old" not in out
    code, out, err = rig(capsys, "check", "--port", f"sim://?seed=3&check=20&{CLOCK}", "--mass-kg", "20",
                         "--calibration", path, "--yes", "--max-age-days", "0")
    assert code == 0 and "Warning: calibration f6b12e3442a2e727-" in out and "days old (limit 0)" in out
    code, out, err = rig(capsys, "check", "--port", f"sim://?seed=3&check=20&{CLOCK}", "--mass-kg", "20",
                         "--calibration", path, "--yes", "--write-board", "--force-tol-pct", "0.5", "--cop-tol-mm", "1")
    assert code == 0 and "(48 bytes) stored on the board" in out
    code, out, err = rig(capsys, "check", "--port", f"sim://?seed=3&check=20&{CLOCK}", "--mass-kg", "20",
                         "--calibration", str(nominal_path()), "--yes")
    assert code == 1 and "FAIL" in out
    assert err.count("\n") == 1 and err.startswith("Error: spot check FAILED for calibration nominal")


def test_check_refuses_another_boards_calibration(capsys, seed3_calibration):
    code, out, err = rig(capsys, "check", "--port", f"sim://?seed=4&check=20&{CLOCK}", "--mass-kg", "20",
                         "--calibration", str(seed3_calibration[0]), "--yes")
    assert code == 1 and err.count("\n") == 1
    assert "calibration is for board" in err and "--force" in err


@pytest.mark.parametrize("fault,expected", [
    ("dead_cell=1", "channel 1 (FR): no answer from its HX711"),
    ("reverse_cell=0", "channel 0 (FL): counts fall under load"),
    ("saturate_cell=2", "channel 2 (BL): reads full scale"),
])
def test_wiring_faults_stop_calibration_with_one_line(capsys, tmp_path, fault, expected):
    code, out, err, path = calibrate(capsys, tmp_path, f"seed=7&calibration=20&{fault}")
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("Error: ") and expected in err
    assert not path.exists()


def test_swapped_cells_are_detected_and_remapped(capsys, tmp_path):
    code, out, err, path = calibrate(capsys, tmp_path, "seed=7&calibration=20&swap_cells=1-3", "--noise-kg", "0")
    assert code == 0, err
    assert "cells in the wrong corner: the front-right cell is on channel 3 (BR); the back-right cell is on channel 1 (FR)" in out
    cal = load_calibration(path)
    assert cal.channel.tolist() == [0, 3, 2, 1]
    np.testing.assert_allclose(cal.gain_counts_per_n, SimBoardModel(seed=7).gains_counts_per_n, rtol=5e-3)


def test_calibrate_needs_a_mass_when_hands_free(capsys, tmp_path):
    code, out, err = rig(capsys, "calibrate", "--port", "sim://?seed=1&calibration=20", "--yes")
    assert code == 2 and "--mass-kg" in err


def test_linearity_series_from_repeated_masses(capsys, tmp_path):
    code, out, err, path = calibrate(capsys, tmp_path, "seed=5&calibration=20&linearity=40&noise_kg=0",
                                     "--mass-kg", "40", "--noise-kg", "0")
    assert code == 0, err
    lin = load_calibration(path).data["linearity"]
    assert lin["masses_kg"] == [20.0, 40.0] and abs(lin["slope_error_percent"]) < 0.2
    assert "Linearity over [20.0, 40.0] kg" in out


def test_interactive_prompts(tmp_path):
    from click.testing import CliRunner

    from rig.cli import cli

    out = tmp_path / "cal.toml"
    res = CliRunner().invoke(cli, ["calibrate", "--port", f"sim://?seed=6&calibration=25&noise_kg=0&{CLOCK}",
                                   "--noise-kg", "0", "--out", str(out), "--by", "Dr Test"], input="25\ny\n")
    assert res.exit_code == 0, res.output
    assert "Known mass in kg: 25" in res.output and "Start? (the board must be empty) [Y/n]: y" in res.output
    cal = load_calibration(out)
    assert cal.calibrated_by == "Dr Test" and cal.data["placements"][0]["mass_kg"] == 25.0
