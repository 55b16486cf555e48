"""Exports: CSV and C3D round-trip the samples, JSON holds measures and flags, ZIP holds all,
--anonymize leaves no personal detail anywhere."""
import io
import re
import subprocess
import json
import zipfile

import c3d
import numpy as np
import pytest
from click.testing import CliRunner

from rig.cli import cli, main
from rig.store import Store
from tests.store import synth
from tests.store.conftest import PERSONAL


def _export(root, *args):
    r = CliRunner().invoke(cli, ["export", *args, "--data-dir", str(root)])
    assert r.exit_code == 0, r.output + repr(r.exception)
    return r.output


def _read_csv(path):
    with open(path) as f:
        lines = f.readlines()
    header = [ln for ln in lines if ln.startswith("#")]
    names = next(ln for ln in lines if not ln.startswith("#")).strip().split(",")
    data = np.loadtxt(path, delimiter=",", comments="#", skiprows=len(header) + 1, ndmin=2)
    return header, {n: data[:, i] for i, n in enumerate(names)}


def test_csv_round_trips_raw_counts_forces_and_cop(two_sessions, tmp_path):
    root, base, later = two_sessions
    out = tmp_path / "s.csv"
    _export(root, base, "--out", str(out))
    header, cols = _read_csv(out)
    text = "".join(header)
    for needle in ("athlete: A17", "protocol: cai-screen", "board: sim-0001", "firmware 1.0.0",
                   "calibration: nominal", "sample_rate_hz nominal 80.0", "lowpass_hz", "condition single-leg eyes open left"):
        assert needle in text, needle
    assert all(ln.isascii() for ln in header)
    for name in ("t_s", "raw_fl", "f_fl_n", "fz_n", "cop_x_mm", "cop_y_mm"):
        assert name in cols
    with Store.open(root) as store:
        s = store.session(base)
        for t in s["trials"]:
            rows = cols["trial"] == t["index"]
            fr = store.trial_frames(t["id"])
            assert rows.sum() == len(fr)
            assert np.array_equal(cols["raw_fl"][rows].astype(np.int64), fr.raw[:, 0])
            assert np.array_equal(np.c_[[cols[f"raw_{c}"][rows] for c in ("fl", "fr", "bl", "br")]].T.astype(np.int32), fr.raw)
            assert np.array_equal(cols["seq"][rows].astype(np.uint16), fr.seq)
            assert np.allclose(cols["t_s"][rows], fr.t_s, atol=1e-6)
            # forces and COP are the known truth the synthetic counts were made from
            assert np.allclose(cols["fz_n"][rows], 700.0, atol=3e-3)
            f = np.c_[[cols[f"f_{c}_n"][rows] for c in ("fl", "fr", "bl", "br")]].T
            assert np.allclose(f.sum(axis=1), cols["fz_n"][rows], atol=3e-4)
            w0, w1 = t["window_s"]
            assert np.array_equal(cols["in_window"][rows] == 1, (fr.t_s >= w0) & (fr.t_s <= w1))
    # one trial only
    one = tmp_path / "one.csv"
    _export(root, base, "--trial", "2", "--out", str(one))
    _, c1 = _read_csv(one)
    assert set(c1["trial"]) == {2.0}


@pytest.mark.filterwarnings("ignore:incomplete reading of data blocks")  # c3d on ezc3d's padding
def test_c3d_reads_back_with_the_independent_reader(two_sessions, tmp_path):
    root, base, _ = two_sessions
    csv_path, c3d_path = tmp_path / "t.csv", tmp_path / "t.c3d"
    _export(root, base, "--trial", "3", "--out", str(csv_path))
    _export(root, base, "--trial", "3", "--out", str(c3d_path))
    _, cols = _read_csv(csv_path)
    with open(c3d_path, "rb") as f:
        r = c3d.Reader(f)
        labels = [lab.strip() for lab in r.analog_labels]
        analog = np.concatenate([a for _, _, a in r.read_frames()], axis=1)
        athlete = r.get("RIG:ATHLETE").string_value.strip()
        condition = r.get("RIG:CONDITION").string_value.strip()
        rate = r.analog_rate
    assert athlete == "A17" and "eyes open left" in condition
    assert labels == ["F_FL", "F_FR", "F_BL", "F_BR", "FZ", "COPX", "COPY", "TIME"]
    assert analog.shape == (8, len(cols["t_s"]))
    assert rate == pytest.approx(80.0, rel=1e-3)
    # same samples as the CSV, to the C3D file's float32 precision
    for lab, col in (("FZ", "fz_n"), ("COPX", "cop_x_mm"), ("COPY", "cop_y_mm"), ("F_BR", "f_br_n")):
        assert np.allclose(analog[labels.index(lab)], cols[col], rtol=1e-6, atol=1e-3), lab
    assert np.allclose(analog[labels.index("TIME")], cols["t_s"] - cols["t_s"][0], atol=1e-4)


def test_c3d_of_a_multi_trial_session_asks_for_a_trial(two_sessions, tmp_path, capsys):
    root, base, _ = two_sessions
    with pytest.raises(SystemExit) as e:
        main(["export", base, "--out", str(tmp_path / "x.c3d"), "--data-dir", str(root)])
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert "--trial" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit):
        main(["export", base, "--out", str(tmp_path / "x.xlsx"), "--data-dir", str(root)])
    assert "unknown export format" in capsys.readouterr().err


def test_json_and_zip_hold_measures_flags_and_every_trial(two_sessions, tmp_path):
    root, base, later = two_sessions
    _export(root, later, "--out", str(tmp_path / "s.json"))
    d = json.loads((tmp_path / "s.json").read_text())
    assert d["athlete"] == "A17" and d["flags"][0]["label"].startswith("Self-reported")
    assert len(d["trials"]) == 9 and "sd_ml_mm" in d["trials"][1]["measures"]
    assert d["baseline_comparison"]["baseline"] == base
    _export(root, "A17", "--out", str(tmp_path / "a.json"))
    a = json.loads((tmp_path / "a.json").read_text())
    assert [s["id"] for s in a["sessions"]] == [base, later] and a["baseline"] == base
    _export(root, later, "--out", str(tmp_path / "s.zip"))
    with zipfile.ZipFile(tmp_path / "s.zip") as z:
        names = z.namelist()
        assert f"{later}/session.json" in names and f"{later}/samples.csv" in names
        assert sum(n.endswith(".c3d") for n in names) == 9
        csv_text = z.read(f"{later}/samples.csv").decode("ascii")
    assert np.loadtxt(io.StringIO(csv_text), delimiter=",", comments="#", skiprows=1 + sum(
        ln.startswith("#") for ln in csv_text.splitlines())).shape[0] == 9 * 480
    _export(root, "A17", "--out", str(tmp_path / "a.csv"))
    lines = [ln for ln in (tmp_path / "a.csv").read_text().splitlines() if not ln.startswith("#")]
    assert lines[0].startswith("session,") and "sd_ml_mm" in lines[0] and len(lines) == 1 + 18


def _all_bytes(path):
    data = path.read_bytes()
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as z:
            data += b"".join(z.read(n) for n in z.namelist())
    return data


@pytest.mark.parametrize("target", ["session", "athlete"])
def test_anonymize_leaves_no_personal_detail_in_any_file(two_sessions, tmp_path, target):
    root, base, _ = two_sessions
    ref = base if target == "session" else "A17"
    plain = tmp_path / "plain.json"
    _export(root, ref, "--out", str(plain))
    assert b"Jane" in plain.read_bytes()  # present without --anonymize, so the check below bites
    outs = [tmp_path / f"anon.{ext}" for ext in ("csv", "json", "zip")]
    if target == "session":
        outs.append(tmp_path / "anon.c3d")
    for out in outs:
        extra = ["--trial", "1"] if out.suffix == ".c3d" else []
        _export(root, ref, "--anonymize", *extra, "--out", str(out))
        data = _all_bytes(out)
        assert b"A17" in data
        for word in PERSONAL:
            assert word.encode() not in data, (out.name, word)
        assert b"sim://" not in data  # the port name is left out too
    for rep in ("r.html", "r.pdf"):
        r = CliRunner().invoke(cli, ["report", base, "--anonymize", "--out", str(tmp_path / rep),
                                     "--data-dir", str(root)])
        assert r.exit_code == 0, r.output
        if rep.endswith("html"):  # the text, not the base64 of the figures (random letters)
            text = re.sub(r"base64,[A-Za-z0-9+/=]+", "", (tmp_path / rep).read_text())
        else:
            text = subprocess.run(["pdftotext", str(tmp_path / rep), "-"], capture_output=True,
                                  text=True, check=True).stdout
        assert "A17" in text and not any(w in text for w in PERSONAL)
