"""Protocols run end to end on the simulated board: rig run, rig demo, validity, faults."""
import numpy as np
import pytest

from rig.store import Store

from tests.cli import rig

pytestmark = pytest.mark.sim

ONE_TRIAL = """
name = "one-trial"
version = "1"
title = "One single-leg trial"
measures = ["sd_ml_mm"]
[defaults]
trial_duration_s = 5.0
trials = 1
practice_trials = 0
rest_s = 1.0
countdown_s = 1.0
lead_in_s = 0.0
[[conditions]]
name = "single_left_eyes_open"
stance = "single_left"
eyes = "open"
[validity]
stepped_off_fraction = 0.5
stepped_off_s = 0.3
max_touchdowns = 0
weight_tolerance = 0.10
max_outside_foot_fraction = 0.10
max_lost_fraction = 0.01
"""


@pytest.fixture
def one_trial(tmp_path):
    p = tmp_path / "one-trial.toml"
    p.write_text(ONE_TRIAL)
    return str(p)


def run_one(capsys, tmp_path, proto, sim_opts, *extra):
    return rig(capsys, "run", proto, "--port", f"sim://?seed=4&mass_kg=70&clock=lockstep&step_s=0.05{sim_opts}",
               "--athlete", "V1", "--no-live", "--yes", "--max-repeats", "0", "--mass-kg", "70",
               "--data-dir", str(tmp_path / "data"), *extra)


def stored_trials(tmp_path):
    with Store.open(tmp_path / "data") as s:
        return s.session("latest")["trials"]


def test_a_clean_trial_is_valid_and_stored(capsys, tmp_path, one_trial):
    code, out, err = run_one(capsys, tmp_path, one_trial, "")
    assert code == 0, err
    t = stored_trials(tmp_path)
    assert [x["status"] for x in t] == ["valid"]
    assert 4.9 < t[0]["window_s"][1] - t[0]["window_s"][0] < 5.1
    assert 1.0 < t[0]["measures"]["sd_ml_mm"] < 15.0
    assert "Session saved:" in out


@pytest.mark.parametrize("sim_opts,extra,reason", [
    ("&events=touchdown@8:0.6", (), "the lifted foot touched down 1 time"),
    ("&events=stepoff@8", (), "stepped off the board at"),
    ("&events=shift@7:80", (), "COP outside the foot marks"),
    ("", ("--mass-kg", "85"), "does not match the body mass 85.0 kg"),
    ("&drop=0.0008", (), "of frames lost on the link"),
    ("&reset_s=9", (), "the board restarted once during the trial"),
])
def test_each_validity_rule_is_triggered_by_the_simulated_athlete(capsys, tmp_path, one_trial, sim_opts, extra, reason):
    code, out, err = run_one(capsys, tmp_path, one_trial, sim_opts, *extra)
    assert code == 0, err
    t = stored_trials(tmp_path)
    assert t[0]["status"] == "invalid" and any(reason in r for r in t[0]["reasons"]), t[0]["reasons"]
    assert "INVALID" in out and reason in out


def test_board_unplugged_mid_trial_keeps_the_trial_incomplete(capsys, tmp_path, one_trial):
    code, out, err = run_one(capsys, tmp_path, one_trial, "&disconnect_s=8")
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[-1].startswith("Error: ") and "unplugged" in lines[-1] and "kept in session" in lines[-1]
    with Store.open(tmp_path / "data") as s:
        ses = s.session("latest")
    assert ses["status"] == "incomplete"
    assert ses["trials"][0]["status"] == "incomplete" and ses["trials"][0]["n_frames"] > 100


def test_hop_protocol_refused_on_a_slow_board_and_measured_on_a_fast_one(capsys, tmp_path):
    code, out, err = rig(capsys, "run", "hop-stabilization", "--port", "sim://?seed=2&clock=lockstep", "--athlete", "H",
                         "--no-live", "--yes", "--mass-kg", "70", "--data-dir", str(tmp_path / "d"))
    assert code == 1 and "needs a board sampling at >= 500 Hz" in err and "80 Hz" in err
    code, out, err = rig(capsys, "run", "hop-stabilization", "--short", "--port",
                         "sim://?seed=2&rate_hz=1000&mass_kg=70&clock=lockstep&step_s=0.025", "--athlete", "H", "--no-live", "--yes",
                         "--mass-kg", "70", "--data-dir", str(tmp_path / "d"))
    assert code == 0, err
    with Store.open(tmp_path / "d") as s:
        trials = s.session("latest")["trials"]
    assert [t["condition"]["name"] for t in trials] == ["hop_left", "hop_right"]
    for t in trials:
        assert t["status"] == "valid", t["reasons"]
        assert 0.1 < t["measures"]["time_to_stabilization_vertical_s"] < 5.0
        assert t["measures"]["vertical_stability_index"] > 0


def test_demo_flags_the_injured_left_ankle_and_the_report_shows_it(capsys, tmp_path, demo_session):
    code, out, err, data = demo_session
    assert code == 0, err
    assert "POSSIBLE CHRONIC ANKLE INSTABILITY, LEFT" in out
    assert "Right ankle: no flag" in out and "demo" in out.lower() and "Session saved:" in out
    with Store.open(data) as s:
        ses = s.session("latest")
    assert ses["status"] == "complete" and ses["flags"][0]["name"] == "possible_cai"
    assert ses["flags"][0]["side"] == "left"
    code, out, err = rig(capsys, "report", "latest", "--out", str(tmp_path / "r.html"), "--data-dir", str(data))
    assert code == 0, err
    html = (tmp_path / "r.html").read_text()
    assert "Possible chronic ankle instability, left" in html and "Wright" in html


def test_snapshot_shows_the_trace_over_the_stance_foot(capsys, tmp_path, one_trial):
    from PySide6.QtGui import QImage

    snap = tmp_path / "snap.png"
    code, out, err = run_one(capsys, tmp_path, one_trial, "", "--snapshot", str(snap))
    assert code == 0, err
    img = QImage(str(snap))
    assert img.width() > 500
    from rig.gui.live import TRACE_RGB

    w, h = img.width(), img.height()
    rgb = img.convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(rgb.constBits(), np.uint8).reshape(h, rgb.bytesPerLine())[:, : w * 3]
    arr = arr.reshape(h, w, 3).astype(int)
    trace = np.all(np.abs(arr - np.array(TRACE_RGB)) < 30, axis=2)
    ys, xs = np.nonzero(trace[:, : int(w * 0.6)])        # the stabilogram is the left 60 %
    assert len(xs) > 50, "no COP trace drawn"
    plot_w = int(w * 0.6)
    # the left foot's mark is left of the board centre: so is the trace
    assert np.median(xs) < plot_w * 0.5
    assert (tmp_path / "snap-01-single_left_eyes_open.png").exists()


def test_bess_proposes_error_candidates_for_the_clinician(capsys, tmp_path):
    """A touch-down in the BESS single-leg condition is an error candidate, not an invalid trial."""
    code, out, err = rig(capsys, "run", "bess", "--short", "--port",
                         "sim://?seed=4&mass_kg=70&clock=lockstep&step_s=0.5&events=touchdown@37:0.6", "--athlete", "B1", "--no-live",
                         "--yes", "--mass-kg", "70", "--data-dir", str(tmp_path / "d"))
    assert code == 0, err
    with Store.open(tmp_path / "d") as s:
        trials = s.session("latest")["trials"]
    assert len(trials) == 6 and all(t["status"] == "valid" for t in trials), [t["reasons"] for t in trials]
    cands = [c for t in trials for c in t["processing"].get("error_candidates", [])]
    assert any(c["kind"] == "step or touch-down" for c in cands)
    assert "error candidate(s) for the clinician to confirm" in out


def test_ctrl_c_mid_trial_stops_cleanly_and_keeps_the_trial(tmp_path, one_trial):
    import signal
    import subprocess
    import sys
    import time

    p = subprocess.Popen([sys.executable, "-m", "rig", "run", one_trial, "--port",
                          "sim://?seed=4&mass_kg=70&clock=lockstep&step_s=0.01", "--athlete", "C1", "--no-live", "--yes",
                          "--mass-kg", "70", "--data-dir", str(tmp_path / "d")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = ""
    deadline = time.monotonic() + 60
    while "recording" not in out and time.monotonic() < deadline:   # wait for the trial to start
        line = p.stdout.readline()
        if not line:
            break
        out += line
    assert "recording" in out, out
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    rest, err = p.communicate(timeout=30)
    assert p.returncode == 130 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("Error: stopped by the operator (Ctrl-C)")
    with Store.open(tmp_path / "d") as s:
        ses = s.session("latest")
    assert ses["status"] == "incomplete"
    t = ses["trials"][0]
    assert t["status"] == "incomplete" and t["n_frames"] > 10 and "Ctrl-C" in " ".join(t["reasons"])


def test_missing_clinician_entries_are_prompted_for_on_a_terminal():
    """Interactive use: what the options did not give is asked for; empty means not done."""
    import click
    from click.testing import CliRunner

    from rig.cli.run_cmd import _entries
    from rig.session.protocols import load_protocol

    got = {}

    @click.command()
    def ask():
        got["e"] = _entries(load_protocol("cai-screen"), {"cait_left": 19}, interactive=True)

    # 31 and 2024-13 are invalid: asked again; the right sprain's time is not asked (no sprain there)
    r = CliRunner().invoke(ask, input="31\n27\nleft\n2024-13\n18\n3\n0\nnone\nleft\n9.5\n\n")
    assert r.exit_code == 0, r.output
    e = got["e"]
    assert (e.cait_left, e.cait_right, e.sprain_history) == (19, 27, "left")
    assert (e.sprain_months_left, e.sprain_months_right, e.giving_way_6mo_left, e.giving_way_6mo_right) == (18, None, 3, 0)
    assert (e.recurrent_sprain, e.feels_unstable) == ("none", "left")
    assert e.lunge_left_cm == 9.5 and e.lunge_right_cm is None
    assert "CAIT total, left" not in r.output and "CAIT total, right" in r.output
    assert "try again" in r.output
