"""The foot-lift protocol end to end on the simulated board: touch-downs counted, not failed."""
import pytest

from rig.store import Store

from tests.cli import rig

pytestmark = pytest.mark.sim


def test_two_touchdowns_are_kept_counted_and_shown_per_side(capsys, tmp_path):
    # the left trial's analysed window starts about 7.9 s of board time after streaming starts
    code, out, err = rig(capsys, "run", "foot-lift", "--short", "--port",
                         "sim://?seed=4&mass_kg=70&speed=100&events=touchdown@10:0.5,touchdown@14:0.6",
                         "--athlete", "F1", "--no-live", "--yes", "--max-repeats", "0", "--mass-kg", "70",
                         "--data-dir", str(tmp_path / "d"))
    assert code == 0, err
    with Store.open(tmp_path / "d") as s:
        trials = s.session("latest")["trials"]
    left, right = trials
    assert [t["status"] for t in trials] == ["valid", "valid"], [t["reasons"] for t in trials]
    assert left["measures"]["touchdowns"] == 2 and right["measures"]["touchdowns"] == 0
    fl = left["processing"]["footlifts"]
    (a0, b0), (a1, b1) = fl["events_s"]
    # scripted 4.0 s apart (board time), lasting 0.5 and 0.6 s (plus the jump window each side)
    assert a1 - a0 == pytest.approx(4.0, abs=0.05)
    assert b0 - a0 == pytest.approx(0.5, abs=0.15) and b1 - a1 == pytest.approx(0.6, abs=0.15)
    assert left["measures"]["time_in_balance_s"] == pytest.approx(a0, abs=0.01)
    # the COP measures come from the quiet stretch after the second touch-down and its recovery
    q0, q1 = fl["quiet_stretch_s"]
    assert q0 == pytest.approx(b1 + 0.5, abs=0.02) and "quiet stretch" in left["processing"]["measured_on"]
    assert 3.0 <= q1 - q0 <= 15.0
    assert "2 foot-lift/touch-down errors at" in out and "(please confirm); COP measures on the quiet stretch" in out
    row = next(l for l in out.splitlines() if "Foot-lift errors / touch-downs (count)" in l)
    assert row.split()[-3:-1] == ["2", "0"]          # left, right (then the asymmetry)


def test_cai_screen_tells_criteria_met_and_no_balance_impairment_separately(capsys, tmp_path):
    """The issue's done-when: CAIT 18 and the IAC history on the left, a healthy simulated athlete."""
    code, out, err = rig(capsys, "run", "cai-screen", "--short", "--port", "sim://?seed=11&speed=100",
                         "--athlete", "H11", "--no-live", "--yes", "--cait-left", "18", "--cait-right", "29",
                         "--sprain-history", "left", "--sprain-months-left", "2024-03",
                         "--giving-way-6mo-left", "3", "--giving-way-6mo-right", "0", "--recurrent-sprain", "none",
                         "--feels-unstable", "left", "--data-dir", str(tmp_path / "d"))
    assert code == 0, err
    left = out[out.index("  Left ankle"):out.index("  Right ankle")]
    assert "Criteria: meets the International Ankle Consortium criteria" in left
    assert "Balance: no balance impairment found" in left
    assert "Recommendation: recommend a clinical assessment" in left
    with Store.open(tmp_path / "d") as s:
        ses = s.session("latest")
    assert ses["flags"][0]["name"] == "possible_cai" and ses["flags"][0]["side"] == "left"
    assert ses["summary"]["statements"]["left"]["balance"].startswith("no balance impairment found")
