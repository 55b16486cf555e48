"""Protocols as data: the shipped files load; broken files give one line naming file and key."""
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from rig.errors import ProtocolFileError
from rig.session.protocols import ProtocolRefused, list_protocols, load_protocol

SHIPPED = {"cai-screen", "single-leg-stance", "romberg", "bess", "hop-stabilization"}


def test_every_shipped_protocol_loads_with_its_parameters():
    ps = {p.name: p for p in list_protocols()}
    assert SHIPPED <= set(ps)
    sls = ps["single-leg-stance"]
    assert {(c.stance, c.eyes) for c in sls.conditions} == {
        (s, e) for s in ("single_left", "single_right") for e in ("open", "closed")}
    assert all(c.trials == 3 and c.trial_duration_s == 10 for c in sls.conditions)
    rom = ps["romberg"]
    assert [(c.stance, c.eyes, c.trials, c.trial_duration_s) for c in rom.conditions] == [
        ("bipedal", "open", 3, 30), ("bipedal", "closed", 3, 30)]
    bess = ps["bess"]
    assert len(bess.conditions) == 6 and all(c.eyes == "closed" and c.trial_duration_s == 20 for c in bess.conditions)
    assert [c.surface for c in bess.conditions].count("foam") == 3 and bess.validity.error_candidates
    assert ps["hop-stabilization"].min_rate_hz >= 500 and all(c.kind == "landing" for c in ps["hop-stabilization"].conditions)
    scr = ps["cai-screen"].screening
    assert scr.condition_eyes == "closed"
    assert {r.measure for r in scr.balance} == {"ttb_mean_min_ml_s", "sd_ml_mm"}
    assert len(ps["cai-screen"].sha256) == 64


def test_demo_settings_and_side():
    p = load_protocol("cai-screen")
    d = p.for_demo()
    assert d.demo and not p.demo
    assert all(c.practice_trials == 0 and c.rest_s == 3.0 for c in d.conditions)
    assert d.as_dict()["params"]["demo"] is True
    b = load_protocol("bess").with_side("right")
    assert [c.stance for c in b.conditions if c.side] == ["single_right", "single_right"]


def test_rate_refusal_says_why():
    with pytest.raises(ProtocolRefused, match=r"hop-stabilization needs .*500 Hz.*80 Hz.*impact"):
        load_protocol("hop-stabilization").check_rate(80.0)
    load_protocol("hop-stabilization").check_rate(1000.0)


GOOD = (Path(__file__).resolve().parents[2] / "protocols" / "romberg.toml").read_text()


@pytest.mark.parametrize("edit,key", [
    (lambda s: s.replace('name = "romberg"\n', ""), "key name: missing"),
    (lambda s: s.replace("trials = 3", 'trials = "three"'), "key defaults.trials: expected an integer"),
    (lambda s: s.replace('stance = "bipedal"', 'stance = "one_leg"', 1), "key conditions[0].stance: expected one of"),
    (lambda s: s.replace('"mean_velocity_mm_s"', '"wobble_mm"'), "key measures[0]: unknown measure 'wobble_mm'"),
    (lambda s: s.replace("[validity]", "[validity]\nmax_wobble = 3"), "key validity.max_wobble: unknown rule"),
    (lambda s: s.replace("trial_duration_s = 30.0", "trial_duration_s = 0.0"),
     "key defaults.trial_duration_s: expected a number between 1 and 600, got 0.0"),
    # unknown keys anywhere name their table (a misspelt surface must not run on the default)
    (lambda s: s.replace('eyes = "closed"', 'eyes = "closed"\nsurfce = "foam"'), "key conditions[1].surfce: unknown key"),
    (lambda s: s.replace("[defaults]", "[defaults]\nlowpas_hz = 6"), "key defaults.lowpas_hz: unknown key"),
    (lambda s: s.replace("[demo]", "[demo]\ntrails = 2"), "key demo.trails: unknown key"),
    # every number finite and in its physical range
    (lambda s: s.replace("lowpass_hz = 10.0", "lowpass_hz = nan"), "key defaults.lowpass_hz: expected a finite number"),
    (lambda s: s.replace("lowpass_hz = 10.0", "lowpass_hz = inf"), "key defaults.lowpass_hz: expected a finite number"),
    (lambda s: s.replace("lowpass_hz = 10.0", "lowpass_hz = 1e6"), "key defaults.lowpass_hz: expected a number between 0.1 and 500"),
    (lambda s: s.replace("lowpass_hz = 10.0", "lowpass_hz = 25.0"), "key defaults.lowpass_hz: expected a cut-off below half of min_rate_hz"),
    (lambda s: s.replace("trials = 3", "trials = 1000000000"), "key defaults.trials: expected an integer between 1 and 20"),
    (lambda s: s.replace("trials = 3", "trials = 1e9"), "key defaults.trials: expected an integer, got 1000000000.0"),
    (lambda s: s.replace("practice_trials = 0", "practice_trials = 1000000"), "key defaults.practice_trials: expected an integer between 0 and 10"),
    (lambda s: s.replace("rest_s = 15.0", "rest_s = -inf"), "key defaults.rest_s: expected a finite number"),
    (lambda s: s.replace("min_rate_hz = 50.0", "min_rate_hz = nan"), "key defaults.min_rate_hz: expected a finite number"),
    (lambda s: s.replace("weight_tolerance = 0.10", "weight_tolerance = nan"), "key validity.weight_tolerance: expected a finite number"),
    (lambda s: s.replace("max_lost_fraction = 0.01", "max_lost_fraction = 2.0"), "key validity.max_lost_fraction: expected a number between 0 and 1"),
    (lambda s: s.replace('name = "bipedal_eyes_open"', 'name = "bipedal_eyes_open"\ntrial_duration_s = 1e5'),
     "key conditions[0].trial_duration_s: expected a number between 1 and 600"),
    (lambda s: "x = " + "[" * 5000 + "]" * 5000 + "\n" + s, "not valid TOML (nested too deeply)"),
    (lambda s: "x = " + "{a=" * 3000 + "1" + "}" * 3000 + "\n" + s, "not valid TOML (nested too deeply)"),
    (lambda s: s.replace('eyes = "closed"', 'eyes = "shut"'), "key conditions[1].eyes"),
    (lambda s: s + "\n[[conditions]\n", "not valid TOML"),
    (lambda s: s.replace("[[conditions]]", "[[conditionz]]", 1), "key conditionz: unknown key"),
])
def test_broken_protocol_file_names_file_and_key(tmp_path, edit, key):
    path = tmp_path / "broken.toml"
    path.write_text(edit(GOOD))
    with pytest.raises(ProtocolFileError) as e:
        load_protocol(path)
    msg = str(e.value)
    assert str(path) in msg and key in msg and "\n" not in msg


def test_unknown_protocol_name_lists_the_known_ones():
    with pytest.raises(ProtocolFileError, match="no protocol named 'nope'.*cai-screen"):
        load_protocol("nope")


def test_cli_broken_protocol_is_one_line_and_nonzero(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(GOOD.replace("trials = 3", "trials = -1"))
    p = subprocess.run([sys.executable, "-m", "rig", "run", str(path), "--port", "sim://?seed=1", "--athlete", "X",
                        "--data-dir", str(tmp_path / "d")], capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "broken.toml" in lines[0] and "defaults.trials" in lines[0]


CAI = (Path(__file__).resolve().parents[2] / "protocols" / "cai-screen.toml").read_text()


@pytest.mark.parametrize("old,new,key", [
    ('condition_eyes = "closed"', 'condition_eyes = "closed"\ncondition_eyse = "open"',
     "key screening.condition_eyse: unknown key"),
    ('condition_eyes = "closed"', 'condition_eyes = "closed"\ncait_cutoff = 25',
     "key screening.cait_cutoff: published cut-offs now live in rig/published/screening.py"),
    ('measure = "sd_ml_mm"', 'measure = "sd_ml_mm"\nmdc = 3', "key screening.balance[1].mdc: unknown key"),
    ('measure = "sd_ml_mm"', 'measure = "sd_ml_mm"\nmdc_pct = nan', "key screening.balance[1].mdc_pct: expected a finite number"),
    ('measure = "sd_ml_mm"', 'measure = "sd_ml_mm"\nmdc_pct = 5000', "key screening.balance[1].mdc_pct"),
])
def test_broken_screening_table_names_file_table_and_key(tmp_path, old, new, key):
    assert old in CAI
    path = tmp_path / "cai.toml"
    path.write_text(CAI.replace(old, new, 1))
    with pytest.raises(ProtocolFileError) as e:
        load_protocol(path)
    assert str(path) in str(e.value) and key in str(e.value) and "\n" not in str(e.value)


def test_lowpass_must_be_below_the_boards_nyquist_frequency():
    p = load_protocol("romberg")              # 10 Hz low-pass, min_rate_hz 50
    p.check_rate(80.0)
    with pytest.raises(ProtocolRefused, match=r"low-pass filter \(10 Hz\).*20 Hz / 2 = 10 Hz"):
        dataclasses.replace(p, min_rate_hz=0.0).check_rate(20.0)
