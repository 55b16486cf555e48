"""Every wait of the runner is bounded in board time and ends with one clear line."""
import re

import pytest

from rig.store import Store
from tests.runner.test_runner import ONE_TRIAL, rig

pytestmark = pytest.mark.sim


def test_an_athlete_who_never_takes_the_stance_ends_the_run_with_one_line(capsys, tmp_path):
    proto = tmp_path / "one-trial.toml"
    proto.write_text(ONE_TRIAL)
    # the simulated athlete stands on both feet for the whole session: the single-leg stance the
    # protocol asks for never comes
    code, out, err = rig(capsys, "run", str(proto), "--port",
                         "sim://?seed=4&mass_kg=70&speed=50&script=bipedal:open:firm:3600",
                         "--athlete", "W1", "--no-live", "--yes", "--max-repeats", "0",
                         "--mass-kg", "70", "--data-dir", str(tmp_path / "data"))
    assert code != 0
    line = err.strip().splitlines()[-1]
    assert "Traceback" not in err
    assert "waited 120 s of board time for: Stand on the LEFT foot" in line
    shown = re.search(r"the board showed ([0-9.]+) kg with the COP at x ([+-][0-9]+) mm \(centre\)", line)
    assert shown and abs(float(shown.group(1)) - 70) < 3   # what the board showed: both feet
    assert "kept in session" in line
    with Store.open(tmp_path / "data") as s:
        ses = s.session("latest")
        assert ses["status"] == "incomplete"


def test_an_athlete_who_stays_on_the_board_during_zeroing_is_bounded_too(capsys, tmp_path):
    proto = tmp_path / "one-trial.toml"
    proto.write_text(ONE_TRIAL)
    # the athlete stands on the board from the start: it is never empty for zeroing
    code, out, err = rig(capsys, "run", str(proto), "--port",
                         "sim://?seed=4&speed=50&script=bipedal:open:firm:3600&mass_kg=70",
                         "--athlete", "W2", "--no-live", "--yes", "--max-repeats", "0",
                         "--data-dir", str(tmp_path / "data"))
    assert code != 0
    assert "Traceback" not in err
    assert "waited 120 s of board time for:" in err
