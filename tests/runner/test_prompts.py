"""Clinician entries: checked as typed, decimal comma, plain ranges, Unicode codes; refusals
before the board; one trial numbering (recording order) in listing and export."""
import json
import sys
from pathlib import Path

import click

from rig.cli.entries import click_type
from rig.session.entries import BY_KEY
import pytest
from click.testing import CliRunner

from rig.cli import cli
from rig.cli import run_cmd
from rig.cli.options import DecimalRange
from rig.errors import RigError
from rig.store import Store
from rig.store.core import check_code

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
from synth import record_session  # noqa: E402


def test_decimal_comma_and_plain_ranges():
    assert DecimalRange(20, 250, "kg").convert("72,5", None, None) == 72.5
    assert DecimalRange(0, 30, integer=True).convert(" 17 ", None, None) == 17
    with pytest.raises(click.BadParameter, match=r"^31 is not a whole number between 0 and 30$"):
        DecimalRange(0, 30, integer=True).convert("31", None, None)
    with pytest.raises(click.BadParameter, match="between 20 and 250 kg"):
        DecimalRange(20, 250, "kg").convert("nan", None, None)
    with pytest.raises(click.BadParameter, match="not a number"):
        DecimalRange(0, 30).convert("eight", None, None)


def feed(monkeypatch, answers):
    it = iter(answers)
    monkeypatch.setattr(click, "prompt", lambda *a, **k: next(it))
    said = []
    monkeypatch.setattr(click, "echo", lambda m="", **k: said.append(str(m)))
    return said


# the entries' types as declared once (rig.session.entries -> rig.cli.entries)
CAIT = click_type(BY_KEY["cait_left"])
LUNGE = click_type(BY_KEY["lunge_left_cm"])


def test_each_entry_is_checked_as_typed_and_asked_again(monkeypatch):
    said = feed(monkeypatch, ["31", "24"])
    assert run_cmd.ask("CAIT left", CAIT, required=False) == 24
    assert said == ["  31 is not a whole number between 0 and 30; try again (empty: not done)"]
    said = feed(monkeypatch, ["", "abc", "8,5"])
    assert run_cmd.ask("Lunge", LUNGE, required=False) is None       # empty: not done
    assert run_cmd.ask("Lunge", LUNGE, required=False) == 8.5        # after one refusal
    assert len(said) == 1 and "not a number" in said[0]


def test_athlete_code_first_and_any_unicode_letter(monkeypatch):
    said = feed(monkeypatch, ["bad code!", "Müller-2"])
    assert run_cmd.ask_athlete_code() == "Müller-2"
    assert len(said) == 1 and "try again" in said[0]
    for ok in ("Müller", "Ærø.7", "Łukasz_B", "志明"):
        assert check_code(ok) == ok
    for bad in ("", "_x", "a b", "x" * 41, "a/b"):
        with pytest.raises(RigError):
            check_code(bad)


def test_landing_protocol_without_mass_fails_before_the_board(tmp_path):
    r = CliRunner().invoke(cli, ["run", "hop-stabilization", "--port", "sim://?seed=1", "--athlete", "A1",
                                 "--yes", "--data-dir", str(tmp_path / "d")])
    assert r.exit_code == 1 and "give --mass-kg" in str(r.exception)
    assert not (tmp_path / "d").exists()         # no store opened: no empty session


def test_a_file_as_the_port_is_one_clear_line(tmp_path):
    f = tmp_path / "notaport.csv"
    f.write_text("x")
    r = CliRunner().invoke(cli, ["run", "romberg", "--port", str(f), "--athlete", "A1", "--yes",
                                 "--data-dir", str(tmp_path / "d")])
    assert r.exit_code == 2 and "is a regular file, not a serial port" in r.output


def test_one_trial_numbering_in_listing_and_export(tmp_path):
    data = tmp_path / "d"
    with Store.open(data) as st:
        sid = record_session(st, trials_per_condition=2, seconds=3.0)
        trials = st.session(sid)["trials"]
    # recording order, numbered 1..n; per-condition repeat indices are not the numbering
    assert [t["number"] for t in trials] == list(range(1, len(trials) + 1))
    assert [t["started_utc"] for t in trials] == sorted(t["started_utc"] for t in trials)
    r = CliRunner().invoke(cli, ["sessions", "--trials", "--data-dir", str(data)])
    listed = [ln for ln in r.output.splitlines() if ln.startswith("    ")]
    assert len(listed) == len(trials)
    for ln, t in zip(listed, trials):
        assert ln.split()[0] == f"{t['number']}." and t["condition"]["name"] in ln
    # `rig export --trial N` is the N-th of that list
    n = 5
    out = tmp_path / "t.json"
    r = CliRunner().invoke(cli, ["export", sid, "--trial", str(n), "--out", str(out), "--data-dir", str(data)])
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    ids = [t["id"] for t in doc["trials"]] if "trials" in doc else [doc["trial"]["id"]]
    assert trials[n - 1]["id"] in ids


def test_another_boards_calibration_names_an_option_that_exists(tmp_path):
    from rig.calibration import nominal_path

    text = nominal_path().read_text().replace('board_id = "nominal"', 'board_id = "0123456789abcdef"') \
        .replace("nominal = true", "nominal = false").replace('firmware = ""', 'firmware = "1.0.0"')
    cal = tmp_path / "0123456789abcdef.toml"
    cal.write_text(text)
    args = ["stream", "--port", "sim://?seed=1&speed=10", "--calibration", str(cal), "--seconds", "1",
            "--out", str(tmp_path / "s.csv")]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 1 and "use --force" in str(r.exception)
    r = CliRunner().invoke(cli, args + ["--force"])
    assert r.exit_code == 0, r.output + repr(r.exception)
    for cmd in ("run", "live", "stream"):
        assert "--force" in CliRunner().invoke(cli, [cmd, "--help"]).output


def test_clinician_repeat_key_files_the_trial_invalid_and_repeats_it(tmp_path, monkeypatch):
    from rig.session.ui import HeadlessUI

    proto = tmp_path / "one.toml"
    proto.write_text("""name = "one"\nversion = "1"\ntitle = "One trial"\nmeasures = ["sd_ml_mm"]\n
[defaults]\ntrial_duration_s = 2.0\ntrials = 1\npractice_trials = 0\nrest_s = 0.5\ncountdown_s = 0.5\nlead_in_s = 0.0\n
[[conditions]]\nname = "bipedal_open"\nstance = "bipedal"\neyes = "open"\n""")
    pressed = iter([True])          # R pressed during the first trial only
    monkeypatch.setattr(HeadlessUI, "take_key", lambda self, name: name == "repeat" and next(pressed, False))
    # the simulated athlete stands on twice (it cannot hear that a repeat was asked for)
    port = "sim://?seed=3&speed=10&rest_s=2&script=bipedal:open:firm:9,bipedal:open:firm:9"
    r = CliRunner().invoke(cli, ["run", str(proto), "--port", port, "--athlete", "K1", "--yes",
                                 "--no-live", "--data-dir", str(tmp_path / "d")])
    assert r.exit_code == 0, r.output + repr(r.exception)
    with Store.open(tmp_path / "d") as st:
        trials = st.session("latest")["trials"]
    assert [t["status"] for t in trials] == ["invalid", "valid"]
    assert trials[0]["reasons"] == ["repeat requested by the clinician"]
