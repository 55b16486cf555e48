"""Private by default (owner-only files), --anonymize leaving no port, board serial, host path
or user name in any exported file (dates shifted or dropped on request), and ordinary but
awkward input (a trailing space, a `$`, impossible paths, a huge id) answered in one line."""
import getpass
import stat
import zipfile

import pytest

from rig.store import Store
from tests.cli import rig
from tests.store.synth import calibration, frames_for, sway

PORT = "/dev/serial/by-id/usb-Arduino_LLC_Balance_Rig_5A3F99C1D2-if00"
SERIAL = "5A3F99C1D2"
BOARD_ID = "7d0359ca5d6aeef3"
HOME_PATH = "/home/jdoe-clinic/protocols/custom.toml"
SECRETS = (SERIAL, "by-id", "usb-Arduino", BOARD_ID, "/home/", "jdoe-clinic", "custom.toml")


def mode(p) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def leaky(tmp_path):
    """A session whose metadata carries a by-id port, the board's id, a host path, and a
    condition and reason with `$` and the port in them."""
    data = tmp_path / "data"
    with Store.open(data) as store:
        sid = store.new_session(
            "A7 ", {"name": "custom", "version": "1", "params": {"path": HOME_PATH, "conditions": [
                {"name": "eyes $\\closed$", "trial_duration_s": 4.0, "trials": 1}]}},
            {"board_id": BOARD_ID, "firmware": "1.0", "rate_hz": 80.0, "port": PORT},
            calibration(), meta={"notes": "cost $5, see $HOME"})
        x, y = sway(2, 320, 4.0, 3.0)
        rec = store.begin_trial(sid, {"name": "eyes $\\closed$", "stance": "bipedal", "eyes": "closed"}, 1)
        rec.append(frames_for(x, y))
        rec.finish("invalid", [f"port {PORT}: board stopped sending data (unplugged?)"], {},
                   (10.0, 13.0), {"sd_ml_mm": 4.0}, {})
        store.set_session_status(sid, "incomplete")
    return data, sid


def test_everything_created_is_owner_only(tmp_path, leaky, capsys):
    data, sid = leaky
    assert mode(data) == 0o700
    files = [p for p in data.rglob("*") if p.is_file()]
    dirs = [p for p in data.rglob("*") if p.is_dir()]
    assert files and all(mode(p) == 0o600 for p in files), [(p, oct(mode(p))) for p in files]
    assert all(mode(p) == 0o700 for p in dirs)
    for suffix in ("csv", "json", "zip"):
        out = tmp_path / "exports" / f"s.{suffix}"
        code, _, err = rig(capsys, "export", sid, "--out", out, "--data-dir", data)
        assert code == 0, err
        assert mode(out) == 0o600 and mode(out.parent) == 0o700


def _exported_text(tmp_path, data, sid, capsys, *extra) -> str:
    texts = []
    for suffix in ("csv", "json", "zip"):
        out = tmp_path / f"anon.{suffix}"
        code, _, err = rig(capsys, "export", sid, "--out", out, "--anonymize", *extra, "--data-dir", data)
        assert code == 0, err
        if suffix == "zip":
            with zipfile.ZipFile(out) as z:
                texts += [n for n in z.namelist()]
                texts += [z.read(n).decode("latin-1") for n in z.namelist()]
        else:
            texts.append(out.read_text("latin-1"))
    return "\n".join(texts)


def test_anonymized_exports_hold_no_port_serial_host_path_or_user_name(tmp_path, leaky, capsys):
    data, sid = leaky
    text = _exported_text(tmp_path, data, sid, capsys)
    for secret in SECRETS + (str(data), getpass.getuser()):
        assert secret not in text, secret
    assert "A7" in text and "sd_ml_mm" in text        # the data is still there
    assert "board stopped sending data" in text        # the reason, without the port


@pytest.mark.parametrize("dates", ["shift", "drop"])
def test_dates_are_shifted_or_dropped_on_request(tmp_path, leaky, capsys, dates):
    data, sid = leaky
    year, day = sid[:4], sid[:8]
    text = _exported_text(tmp_path, data, sid, capsys, "--dates", dates)
    assert f"{year}-" not in text and day not in text
    if dates == "shift":
        assert "2000-01-01" in text and "20000101-" in text   # the session's day, shifted
    else:
        assert "0000-00-00" in text


def test_athlete_code_with_a_trailing_space_is_the_same_athlete(leaky, capsys):
    data, sid = leaky
    with Store.open(data) as store:
        assert store.athletes() == ["A7"] and store.session(sid)["athlete"] == "A7"
    code, out, err = rig(capsys, "history", "A7 ", "--data-dir", data)
    assert code == 0 and sid in out, err


def test_a_dollar_in_names_and_notes_does_not_break_the_pdf(tmp_path, leaky, capsys):
    pytest.importorskip("matplotlib")
    data, sid = leaky
    out = tmp_path / "r.pdf"
    code, _, err = rig(capsys, "report", sid, "--out", out, "--data-dir", data)
    assert code == 0, err
    assert out.read_bytes()[:5] == b"%PDF-" and mode(out) == 0o600
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


@pytest.mark.parametrize("argv,expect", [
    (("sessions", "--data-dir", "/dev/null"), "not a directory"),
    (("export", "latest", "--out", "/proc/x.csv"), "cannot write the export /proc/x.csv"),
    (("export", "x" * 100_000, "--out", "{tmp}/a.csv"), "100000 characters"),
    (("history", "x" * 100_000), "100000 characters"),
    (("report", "x" * 100_000, "--out", "{tmp}/a.html"), "100000 characters"),
    (("export", "latest", "--out", "{tmp}/" + "y" * 300 + ".csv"), "file name too long"),
])
def test_impossible_paths_and_huge_ids_are_one_line(tmp_path, leaky, capsys, argv, expect):
    data, _ = leaky
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if "--data-dir" not in argv:
        argv += ["--data-dir", str(data)]
    code, out, err = rig(capsys, *argv)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error") and expect in lines[0], err[:500]
    assert len(lines[0]) < 400
    assert not [p for p in tmp_path.rglob("*") if ".tmp" in p.name]


def test_an_anonymized_html_report_holds_no_port_serial_or_host_path(tmp_path, leaky, capsys):
    pytest.importorskip("matplotlib")
    data, sid = leaky
    out = tmp_path / "r.html"
    code, _, err = rig(capsys, "report", sid, "--out", out, "--anonymize", "--data-dir", data)
    assert code == 0, err
    text = out.read_text()
    for secret in SECRETS:
        assert secret not in text, secret


def test_a_data_dir_that_cannot_be_written_is_listed_read_only(tmp_path, leaky, capsys, monkeypatch):
    """(Tests run as root, who may write anywhere: the check is made to say "read-only".)"""
    import rig.store.core as core

    data, sid = leaky
    monkeypatch.setattr(core, "_writable", lambda root, db: False)
    code, out, err = rig(capsys, "sessions", "--data-dir", data)
    assert code == 0 and sid in out and "opened read-only" in err
    code, out, err = rig(capsys, "recover", "--data-dir", data)
    assert code == 1 and err.strip().splitlines()[-1].startswith("Error: data dir")
    with Store.open(data) as store:
        assert store.read_only
        with pytest.raises(Exception, match="cannot be written") as e:
            store.ensure_athlete("B1")
        assert "\n" not in str(e.value)


def test_a_database_that_cannot_be_opened_for_writing_is_still_listed(tmp_path, leaky, capsys, monkeypatch):
    import sqlite3

    import rig.store.core as core

    data, sid = leaky

    def full(db):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(core, "_connect_rw", full)
    code, out, err = rig(capsys, "sessions", "--data-dir", data)
    assert code == 0 and sid in out, err
    assert "cannot be written" in err
