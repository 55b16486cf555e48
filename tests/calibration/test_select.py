"""calibration_for: the board's own file, nominal with a warning, refusals and warnings."""
from datetime import datetime, timedelta, timezone

import pytest

from rig.board import wire
from rig.calibration import calibration_for, decode_blob, encode_blob, load_calibration, loads_calibration
from rig.calibration.blob import BLOB_LEN
from rig.errors import CalibrationError

from test_file import GOOD

BOARD = bytes.fromhex("0123456789abcdef")
OTHER = bytes.fromhex("fedcba9876543210")


def hello(board_id=BOARD, firmware=(1, 0, 0)):
    return wire.Hello(1, firmware, board_id, 4, 80000, 1)


NOW = datetime(2025, 4, 1, tzinfo=timezone.utc)


def test_without_a_file_the_nominal_build_is_used_with_a_warning(tmp_path):
    cal, warnings = calibration_for(hello(), dirs=[tmp_path], now=NOW)
    assert cal.is_nominal
    assert len(warnings) == 1 and "0123456789abcdef has no calibration file" in warnings[0]


def test_the_boards_own_file_is_found_and_the_newest_wins(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "0123456789abcdef.toml").write_text(GOOD)
    newer = GOOD.replace("2025-03-01T10:15:00Z", "2025-03-20T08:00:00Z")
    (tmp_path / "b" / "0123456789abcdef.toml").write_text(newer)
    cal, warnings = calibration_for(hello(), dirs=[tmp_path / "a", tmp_path / "b"], now=NOW)
    assert cal.created_utc == "2025-03-20T08:00:00Z" and warnings == []


def test_another_boards_file_is_refused_unless_forced(tmp_path):
    p = tmp_path / "x.toml"
    p.write_text(GOOD)
    with pytest.raises(CalibrationError, match=r"x\.toml: calibration is for board 0123456789abcdef, but board fedcba9876543210"):
        calibration_for(hello(OTHER), p, now=NOW)
    cal, warnings = calibration_for(hello(OTHER), p, force=True, now=NOW)
    assert cal.board_id == "0123456789abcdef" and any("forced" in w for w in warnings)


def test_an_old_calibration_and_another_firmware_give_warnings(tmp_path):
    p = tmp_path / "x.toml"
    p.write_text(GOOD)
    _, w = calibration_for(hello(), p, now=NOW + timedelta(days=200))
    assert len(w) == 1 and "days old (limit 180)" in w[0]
    _, w = calibration_for(hello(), p, now=NOW + timedelta(days=200), max_age=365)
    assert w == []
    _, w = calibration_for(hello(firmware=(1, 1, 0)), p, now=NOW)
    assert len(w) == 1 and "firmware 1.0.0" in w[0] and "1.1.0" in w[0]


def test_max_age_from_the_environment(tmp_path, monkeypatch):
    p = tmp_path / "x.toml"
    p.write_text(GOOD)
    monkeypatch.setenv("RIG_CALIBRATION_MAX_AGE_DAYS", "10")
    _, w = calibration_for(hello(), p, now=NOW)
    assert "limit 10" in w[0]
    monkeypatch.setenv("RIG_CALIBRATION_MAX_AGE_DAYS", "ten")
    with pytest.raises(CalibrationError, match="RIG_CALIBRATION_MAX_AGE_DAYS"):
        calibration_for(hello(), p, now=NOW)


def test_blob_is_compact_and_tells_matching_files_apart(tmp_path):
    cal = loads_calibration(GOOD)
    blob = encode_blob(cal)
    assert len(blob) == BLOB_LEN <= wire.CALIB_BLOB_MAX
    info = decode_blob(blob)
    assert info.board_id == cal.board_id and info.created_utc == cal.created_utc and info.matches(cal)
    assert info.channel == (0, 1, 2, 3)
    assert info.gain_counts_per_n == pytest.approx(tuple(cal.gain_counts_per_n), rel=1e-6)
    p = tmp_path / "x.toml"
    p.write_text(GOOD)
    assert calibration_for(hello(), p, now=NOW, blob=blob)[1] == []
    edited = loads_calibration(GOOD.replace("1850.0", "1851.0"))
    w = calibration_for(hello(), p, now=NOW, blob=encode_blob(edited))[1]
    assert len(w) == 1 and "differs from the one stored on the board" in w[0]
    assert "stores no calibration record" in calibration_for(hello(), p, now=NOW, blob=b"")[1][0]
    assert decode_blob(b"\x01\x02") is None
    with pytest.raises(CalibrationError):
        encode_blob(load_calibration(__import__("rig.calibration", fromlist=["x"]).nominal_path()))


def test_the_data_dir_is_searched(tmp_path, monkeypatch):
    monkeypatch.setenv("RIG_DATA_DIR", str(tmp_path))
    (tmp_path / "calibration").mkdir()
    (tmp_path / "calibration" / "0123456789abcdef.toml").write_text(GOOD)
    cal, warnings = calibration_for(hello(), now=NOW)
    assert not cal.is_nominal and cal.source_path == tmp_path / "calibration" / "0123456789abcdef.toml"
    assert warnings == []
