"""Calibration files: round trip, hash, use, and one-line errors naming file and key."""
import re

import numpy as np
import pytest
from hypothesis import given, strategies as st

from rig.calibration import Calibration, load_calibration, loads_calibration, nominal_path, tare
from rig.calibration.tomlio import dumps
from rig.errors import CalibrationError

GOOD = """\
schema = 1
board_id = "0123456789abcdef"
nominal = false
created_utc = "2025-03-01T10:15:00Z"
calibrated_by = "A. Clinician"
firmware = "1.0.0"

[cells]
positions_mm = [[-180.0, 180.0], [180.0, 180.0], [-180.0, -180.0], [180.0, -180.0]]
offset_counts = [1000.0, -2000.0, 3000.0, -4000.0]
gain_counts_per_n = [1800.0, 1850.0, 1820.0, 1870.0]
channel = [0, 1, 2, 3]

[noise_floor]
cop_sd_x_mm = 0.1
"""


def write(tmp_path, text, name="0123456789abcdef.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_nominal_file_is_the_nominal_build():
    cal = load_calibration(nominal_path())
    assert cal.is_nominal and cal.id == "nominal" and cal.tare_at_start
    assert cal.positions_mm.tolist() == [[-180, 180], [180, 180], [-180, -180], [180, -180]]
    assert np.all(cal.gain_counts_per_n == 1839.0) and np.all(cal.offset_counts == 0)


def test_round_trip_keeps_content_and_hash(tmp_path):
    cal = load_calibration(write(tmp_path, GOOD))
    from rig.calibration.tomlio import to_toml

    again = loads_calibration(to_toml(cal))
    assert again.data == cal.data and again.hash == cal.hash
    assert cal.id == "0123456789abcdef-20250301T101500Z"
    assert re.fullmatch(r"[0-9a-f]{64}", cal.hash)


def test_hash_ignores_formatting_but_not_values(tmp_path):
    a = load_calibration(write(tmp_path, GOOD, "a.toml"))
    b = load_calibration(write(tmp_path, "# a comment\n" + GOOD.replace(" = ", "=").replace("1800.0", "1800"), "b.toml"))
    c = load_calibration(write(tmp_path, GOOD.replace("1850.0", "1850.5"), "c.toml"))
    assert a.hash == b.hash
    assert a.hash != c.hash


def test_forces_apply_offsets_gains_and_channel_map(tmp_path):
    cal = load_calibration(write(tmp_path, GOOD.replace("channel = [0, 1, 2, 3]", "channel = [1, 0, 2, 3]")))
    f_true = np.array([[10.0, 20.0, 30.0, 40.0], [0.0, 5.0, 0.0, 1.0]])
    counts_by_cell = f_true * cal.gain_counts_per_n + cal.offset_counts
    raw = counts_by_cell[:, [1, 0, 2, 3]]  # cells 0 and 1 plugged into each other's channel
    np.testing.assert_allclose(cal.forces_n(raw), f_true, atol=1e-9)


def test_tare_rezeros_from_an_empty_window_and_keeps_identity(tmp_path):
    cal = load_calibration(write(tmp_path, GOOD))
    empty = np.array([[5, 6, 7, 8], [7, 8, 9, 10]])
    t = tare(cal, empty)
    np.testing.assert_allclose(t.offset_counts, [6, 7, 8, 9])
    np.testing.assert_allclose(t.forces_n(empty).mean(axis=0), 0, atol=1e-12)
    assert t.hash == cal.hash and t.id == cal.id and t.tared
    np.testing.assert_allclose(cal.offset_counts, [1000, -2000, 3000, -4000])  # original untouched


BREAKAGES = [
    # (replace this, with this, key named in the message)
    ('schema = 1', 'schema = 2', "schema"),
    ('schema = 1\n', '', "schema"),
    ('board_id = "0123456789abcdef"', 'board_id = "0123"', "board_id"),
    ('board_id = "0123456789abcdef"', 'board_id = 12', "board_id"),
    ('created_utc = "2025-03-01T10:15:00Z"', 'created_utc = "yesterday"', "created_utc"),
    ('created_utc = "2025-03-01T10:15:00Z"', 'created_utc = "2025-03-01T10:15:00+02:00"', "created_utc"),
    ('firmware = "1.0.0"', 'firmware = "one"', "firmware"),
    ('[1800.0, 1850.0, 1820.0, 1870.0]', '[1800.0, -1850.0, 1820.0, 1870.0]', r"cells.gain_counts_per_n\[1\]"),
    ('[1800.0, 1850.0, 1820.0, 1870.0]', '[1800.0, 1850.0, 1820.0]', "cells.gain_counts_per_n"),
    ('[1800.0, 1850.0, 1820.0, 1870.0]', '[1800.0, 1850.0, "x", 1870.0]', r"cells.gain_counts_per_n\[2\]"),
    ('[1800.0, 1850.0, 1820.0, 1870.0]', '[1800.0, 1850.0, nan, 1870.0]', r"cells.gain_counts_per_n\[2\]"),
    ('offset_counts = [1000.0, -2000.0, 3000.0, -4000.0]\n', '', "cells.offset_counts"),
    ('[1000.0, -2000.0, 3000.0, -4000.0]', '[1000.0, -2000.0, 3000.0, 9e9]', r"cells.offset_counts\[3\]"),
    ('[[-180.0, 180.0], [180.0, 180.0]', '[[180.0, 180.0], [-180.0, 180.0]', "cells.positions_mm"),
    ('[[-180.0, 180.0], [180.0, 180.0]', '[[-180.0], [180.0, 180.0]', r"cells.positions_mm\[0\]"),
    ('channel = [0, 1, 2, 3]', 'channel = [0, 1, 1, 3]', "cells.channel"),
    ('channel = [0, 1, 2, 3]', 'chanel = [0, 1, 2, 3]', "cells.chanel"),
    ('[noise_floor]\ncop_sd_x_mm = 0.1', '[noise_floor]\ncop_sd_x_mm = -0.1', "noise_floor.cop_sd_x_mm"),
    ('calibrated_by = "A. Clinician"', 'calibrated_by = "A. Clinician', "calibrated_by"),
    ('nominal = false', 'nominal = "no"', "nominal"),
    ('nominal = false', 'nominal = false\ngains = 3', "gains"),
    ('[cells]', '[cels]', "cels"),
    # implausible numbers: a denormal gain, degenerate geometry, float channels and schema
    ('[1800.0, 1850.0, 1820.0, 1870.0]', '[1800.0, 5e-324, 1820.0, 1870.0]', r"cells.gain_counts_per_n\[1\]"),
    ('[1800.0, 1850.0, 1820.0, 1870.0]', '[1800.0, 1e9, 1820.0, 1870.0]', r"cells.gain_counts_per_n\[1\]"),
    ('[1800.0, 1850.0, 1820.0, 1870.0]', '[1800.0, inf, 1820.0, 1870.0]', r"cells.gain_counts_per_n\[1\]"),
    ('[[-180.0, 180.0], [180.0, 180.0], [-180.0, -180.0], [180.0, -180.0]]',
     '[[-180.0, 1.0], [180.0, 1.0], [-180.0, -1.0], [180.0, -1.0]]', "cells.positions_mm"),          # 360 x 2 mm
    ('[[-180.0, 180.0], [180.0, 180.0], [-180.0, -180.0], [180.0, -180.0]]',
     '[[-180.0, 180.0], [180.0, 180.0], [-179.0, -180.0], [-178.0, -180.0]]', "cells.positions_mm"),     # BL, BR near FL's line
    ('[[-180.0, 180.0], [180.0, 180.0], [-180.0, -180.0], [180.0, -180.0]]',
     '[[-180.0, 180.0], [180.0, 180.0], [0.0, 170.0], [1.0, -180.0]]', "cells.positions_mm"),            # not convex
    ('channel = [0, 1, 2, 3]', 'channel = [0.0, 1.0, 2.0, 3.0]', "cells.channel"),
    ('channel = [0, 1, 2, 3]', 'channel = [true, 0, 2, 3]', "cells.channel"),
    ('schema = 1', 'schema = 1.0', "schema"),
    ('[noise_floor]\ncop_sd_x_mm = 0.1', '[noise_floor]\ncop_sd_x_mm = 0.1\nnoize = 1', "noise_floor.noize"),
    ('[noise_floor]', '[correction]\nmodel = "affine"\ncop_x_mm = [0.0, 9.0, 0.0]\ncop_y_mm = [0.0, 0.0, 0.0]\n[noise_floor]',
     r"correction.cop_x_mm\[1\]"),
    ('[noise_floor]', '[correction]\nmodel = "none"\nmodle = "affine"\n[noise_floor]', "correction.modle"),
    ('[noise_floor]', '[[placements]]\nmass_kg = 20.0\nx_mm = 0.0\ny_mm = 0.0\nmas_kg = 2\n[noise_floor]', r"placements\[0\].mas_kg"),
    ('schema = 1', 'x = ' + '[' * 3000 + ']' * 3000 + '\nschema = 1', "x"),
]


@pytest.mark.parametrize("old,new,key", BREAKAGES)
def test_broken_file_gives_one_line_naming_file_and_key(tmp_path, old, new, key):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(CalibrationError) as e:
        load_calibration(path)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(str(path) + ": ")
    assert re.search(rf"key {key}: ", msg), msg


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(CalibrationError, match="no such calibration file"):
        load_calibration(tmp_path / "nope.toml")
    p = tmp_path / "bin.toml"
    p.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(CalibrationError, match=re.escape(str(p))):
        load_calibration(p)


_values = st.one_of(st.none(), st.booleans(), st.integers(-10**9, 10**9), st.floats(allow_nan=True),
                    st.text(max_size=8), st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), max_size=5))
_keys = st.sampled_from(["schema", "board_id", "nominal", "created_utc", "firmware", "cells.positions_mm",
                         "cells.offset_counts", "cells.gain_counts_per_n", "cells.channel", "gravity_m_s2",
                         "tare_at_start", "noise_floor.mean_velocity_mm_s"])


@given(key=_keys, value=_values)
def test_any_single_bad_value_is_rejected_cleanly_or_accepted(key, value):
    import tomllib

    data = tomllib.loads(GOOD)
    section, _, name = key.rpartition(".")
    target = data[section] if section else data
    if value is None:
        target.pop(name, None)
    else:
        target[name] = value
    try:
        text = dumps(data)
    except TypeError:
        return
    try:
        cal = loads_calibration(text, "x.toml")
    except CalibrationError as e:
        msg = str(e)
        assert "\n" not in msg and msg.startswith("x.toml: key ")
        assert name in msg or key in msg, msg
    else:
        # accepted: then it is usable
        assert isinstance(cal, Calibration)
        assert cal.forces_n(np.zeros((1, 4))).shape == (1, 4)
        assert np.all(cal.gain_counts_per_n > 0)


@given(start=st.integers(0, len(GOOD) - 1), length=st.integers(1, 40), junk=st.sampled_from(["", "=", "[", '"', "x", "\n"]))
def test_any_damaged_text_gives_one_line_naming_the_file(start, length, junk):
    text = GOOD[:start] + junk + GOOD[start + length:]
    try:
        loads_calibration(text, "cal/x.toml")
    except CalibrationError as e:
        msg = str(e)
        assert "\n" not in msg and msg.startswith("cal/x.toml: ")
        assert "key " in msg or "line " in msg, msg   # where: the key, or for syntax errors the line
