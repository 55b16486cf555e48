"""Reading and writing calibration files (TOML, stdlib ``tomllib``), with one-line errors.

Every problem raises ``CalibrationError("<file>: key <dotted.key>: <what was expected>")``.
The schema is documented in calibration/SCHEMA.md; this module is its executable form.
"""
from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

from rig.calibration.model import GAIN_RANGE_COUNTS_PER_N, SCHEMA_VERSION, Calibration, geometry_problem
from rig.errors import CalibrationError
from rig.units import INT24_MAX, INT24_MIN
from rig.utc import parse_utc

HEX16 = re.compile(r"^[0-9a-f]{16}$")
VERSION = re.compile(r"^\d+\.\d+\.\d+$")

TOP_KEYS = {
    "schema", "board_id", "nominal", "created_utc", "calibrated_by", "firmware", "tare_at_start",
    "gravity_m_s2", "method", "cells", "correction", "fit", "placements", "linearity",
    "noise_floor", "drift", "wiring",
}
CELL_KEYS = {"order", "positions_mm", "offset_counts", "gain_counts_per_n", "channel"}
CELL_ORDER = ["front_left", "front_right", "back_left", "back_right"]
CORRECTION_KEYS = {"model", "cop_x_mm", "cop_y_mm", "grid_cop_rms_mm", "corrected_cop_rms_mm"}
PLACEMENT_KEYS = {"step", "mass_kg", "x_mm", "y_mm", "t_start_s", "duration_s", "force_residual_n",
                  "cop_error_mm", "cop_error_x_mm", "cop_error_y_mm"}
RESULT_KEYS = {
    "fit": {"placements", "force_rms_n", "force_max_n", "cop_rms_mm", "cop_max_mm", "condition_number",
            "gain_vs_nominal_percent"},
    "linearity": {"masses_kg", "force_error_percent", "deviation_percent_of_max",
                  "max_deviation_percent_of_max", "slope_error_percent"},
    "noise_floor": {"mass_kg", "duration_s", "rate_hz", "dt_jitter_ms", "filter", "ellipse_method",
                    "force_mean_n", "force_sd_n", "cop_sd_x_mm", "cop_sd_y_mm", "mean_velocity_mm_s",
                    "mean_velocity_ml_mm_s", "mean_velocity_ap_mm_s", "ellipse_area_mm2", "path_length_mm",
                    "path_per_10s_mm", "path_per_30s_mm"},
    "drift": {"zero_n_per_min", "session_n_per_min", "session_duration_s"},
    "wiring": {"remapped", "notes"},
}
# the affine COP correction: an offset within 100 mm and a scale/shear within 50 %
CORRECTION_OFFSET_MM, CORRECTION_SLOPE = 100.0, 0.5


class _Checker:
    def __init__(self, path: str):
        self.path = path

    def fail(self, key: str, what: str):
        raise CalibrationError(f"{self.path}: key {key}: {what}")

    def number(self, value, key, lo=-math.inf, hi=math.inf, lo_open=False):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(key, f"expected a number, got {_show(value)}")
        if not math.isfinite(value):
            self.fail(key, f"expected a finite number, got {value}")
        if value < lo or value > hi or (lo_open and value <= lo):
            if lo_open and lo == 0:
                rng = "above 0" if hi == math.inf else f"above 0 and at most {hi:g}"
            elif hi == math.inf:
                rng = f"of at least {lo:g}"
            else:
                rng = f"between {lo:g} and {hi:g}"
            self.fail(key, f"expected a number {rng}, got {value!r}")
        return float(value)

    def vector(self, value, key, n, **kw):
        if not isinstance(value, list) or len(value) != n:
            self.fail(key, f"expected a list of {n} numbers, got {_show(value)}")
        return [self.number(v, f"{key}[{i}]", **kw) for i, v in enumerate(value)]

    def string(self, value, key, pattern=None, expected="a string"):
        if not isinstance(value, str) or (pattern is not None and not pattern.match(value)):
            self.fail(key, f"expected {expected}, got {_show(value)}")
        return value

    def boolean(self, value, key):
        if not isinstance(value, bool):
            self.fail(key, f"expected true or false, got {_show(value)}")
        return value

    def table(self, value, key, known=None):
        if not isinstance(value, dict):
            self.fail(key, f"expected a table, got {_show(value)}")
        if known is not None:
            for k in value:
                if k not in known:
                    self.fail(f"{key}.{k}", f"unknown key (expected one of {', '.join(sorted(known))})")
        return value

    def integer(self, value, key, lo, hi):
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"expected an integer, got {_show(value)}")
        if not lo <= value <= hi:
            self.fail(key, f"expected an integer between {lo} and {hi}, got {value}")
        return value


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def validate(data: dict, path: str) -> dict:
    """Check ``data`` (parsed TOML) against the schema; returns it (board id lower-cased)."""
    c = _Checker(path)
    for key in data:
        if key not in TOP_KEYS:
            c.fail(key, f"unknown key (expected one of {', '.join(sorted(TOP_KEYS))})")
    for key in ("schema", "board_id", "created_utc", "cells"):
        if key not in data:
            c.fail(key, "missing (required)")
    if type(data["schema"]) is not int or data["schema"] != SCHEMA_VERSION:
        c.fail("schema", f"expected {SCHEMA_VERSION} (the version this software reads), got {_show(data['schema'])}")
    nominal = c.boolean(data.get("nominal", False), "nominal")
    if nominal:
        c.string(data["board_id"], "board_id", re.compile(r"^nominal$"), '"nominal" in the nominal file')
    else:
        bid = data["board_id"].lower() if isinstance(data["board_id"], str) else data["board_id"]
        data["board_id"] = c.string(bid, "board_id", HEX16, "16 hex digits (the board id from `rig info`)")
    created = c.string(data["created_utc"], "created_utc", expected="an ISO-8601 UTC time like 2025-03-01T10:15:00Z")
    try:
        parse_utc(created)
    except ValueError:
        c.fail("created_utc", f"expected an ISO-8601 UTC time like 2025-03-01T10:15:00Z, got {_show(created)}")
    if "calibrated_by" in data:
        c.string(data["calibrated_by"], "calibrated_by")
    if "firmware" in data and not nominal:
        c.string(data["firmware"], "firmware", VERSION, "a firmware version like 1.0.0")
    if "tare_at_start" in data:
        c.boolean(data["tare_at_start"], "tare_at_start")
    if "gravity_m_s2" in data:
        c.number(data["gravity_m_s2"], "gravity_m_s2", 9.7, 9.9)
    if "method" in data:
        c.string(data["method"], "method")

    cells = c.table(data["cells"], "cells")
    for key in cells:
        if key not in CELL_KEYS:
            c.fail(f"cells.{key}", f"unknown key (expected one of {', '.join(sorted(CELL_KEYS))})")
    for key in ("positions_mm", "offset_counts", "gain_counts_per_n"):
        if key not in cells:
            c.fail(f"cells.{key}", "missing (required)")
    if "order" in cells and cells["order"] != CELL_ORDER:
        c.fail("cells.order", f"expected {CELL_ORDER}, got {_show(cells['order'])}")
    pos = cells["positions_mm"]
    if not isinstance(pos, list) or len(pos) != 4:
        c.fail("cells.positions_mm", f"expected 4 [x, y] pairs in mm (FL, FR, BL, BR), got {_show(pos)}")
    pos = [c.vector(p, f"cells.positions_mm[{i}]", 2, lo=-2000, hi=2000) for i, p in enumerate(pos)]
    (flx, fly), (frx, fry), (blx, bly), (brx, bry) = pos
    if not (flx < frx and blx < brx and fly > bly and fry > bry):
        c.fail("cells.positions_mm", "expected front-left, front-right, back-left, back-right corners "
               "(x grows to the right, y to the front)")
    problem = geometry_problem(pos)
    if problem:
        c.fail("cells.positions_mm", problem)
    c.vector(cells["offset_counts"], "cells.offset_counts", 4, lo=INT24_MIN, hi=INT24_MAX)
    glo, ghi = GAIN_RANGE_COUNTS_PER_N
    c.vector(cells["gain_counts_per_n"], "cells.gain_counts_per_n", 4, lo=glo, hi=ghi)
    if "channel" in cells:
        ch = cells["channel"]
        if (not isinstance(ch, list) or any(type(v) is not int for v in ch) or sorted(ch) != [0, 1, 2, 3]):
            c.fail("cells.channel", f"expected a permutation of the integers [0, 1, 2, 3] (channel read for "
                                    f"each cell), got {_show(ch)}")

    if "correction" in data:
        corr = c.table(data["correction"], "correction", CORRECTION_KEYS)
        model = corr.get("model", "none")
        if model not in ("none", "affine"):
            c.fail("correction.model", f'expected "none" or "affine", got {_show(model)}')
        if model == "affine":
            for key in ("cop_x_mm", "cop_y_mm"):
                if key not in corr:
                    c.fail(f"correction.{key}", "missing (required by model = \"affine\")")
                a0, a1, a2 = c.vector(corr[key], f"correction.{key}", 3)
                c.number(a0, f"correction.{key}[0]", -CORRECTION_OFFSET_MM, CORRECTION_OFFSET_MM)
                c.number(a1, f"correction.{key}[1]", -CORRECTION_SLOPE, CORRECTION_SLOPE)
                c.number(a2, f"correction.{key}[2]", -CORRECTION_SLOPE, CORRECTION_SLOPE)
        for key in ("grid_cop_rms_mm", "corrected_cop_rms_mm"):
            if key in corr:
                c.number(corr[key], f"correction.{key}", 0.0)
    if "placements" in data:
        pl = data["placements"]
        if not isinstance(pl, list):
            c.fail("placements", f"expected an array of tables ([[placements]]), got {_show(pl)}")
        for i, p in enumerate(pl):
            c.table(p, f"placements[{i}]", PLACEMENT_KEYS)
            for key in ("mass_kg", "x_mm", "y_mm"):
                if key not in p:
                    c.fail(f"placements[{i}].{key}", "missing (required)")
            c.number(p["mass_kg"], f"placements[{i}].mass_kg", 0.0, 1000.0, lo_open=True)
            c.number(p["x_mm"], f"placements[{i}].x_mm", -2000, 2000)
            c.number(p["y_mm"], f"placements[{i}].y_mm", -2000, 2000)
    for section in ("fit", "linearity", "noise_floor", "drift", "wiring"):
        if section in data:
            _check_free_table(c, c.table(data[section], section, RESULT_KEYS[section]), section)
    nf = data.get("noise_floor", {})
    for key in ("cop_sd_x_mm", "cop_sd_y_mm", "mean_velocity_mm_s", "ellipse_area_mm2", "mass_kg", "duration_s"):
        if key in nf:
            c.number(nf[key], f"noise_floor.{key}", 0.0)
    return data


def _check_free_table(c: _Checker, table: dict, prefix: str):
    """Result tables: numbers must be finite, values numbers, strings, booleans or lists."""
    for key, value in table.items():
        k = f"{prefix}.{key}"
        if isinstance(value, dict):
            _check_free_table(c, value, k)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                if isinstance(v, float) and not math.isfinite(v):
                    c.fail(f"{k}[{i}]", f"expected a finite number, got {v}")
        elif isinstance(value, float) and not math.isfinite(value):
            c.fail(k, f"expected a finite number, got {value}")


def load_calibration(path) -> Calibration:
    """Read and validate a calibration file; errors name the file and the key."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise CalibrationError(f"{path}: no such calibration file") from None
    except UnicodeDecodeError as e:
        raise CalibrationError(f"{path}: not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise CalibrationError(f"{path}: cannot read ({e.strerror})") from None
    return loads_calibration(text, str(path), path)


def loads_calibration(text: str, name: str = "<calibration>", path: Path | None = None) -> Calibration:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CalibrationError(f"{name}: {_syntax_error(text, e)}") from None
    except RecursionError:
        raise CalibrationError(f"{name}: {_too_deep(text)}") from None
    data = validate(data, name)
    return Calibration(data, path)


def _too_deep(text: str) -> str:
    """One line for a TOML nested too deeply for the parser (it would raise RecursionError)."""
    for ln, line in enumerate(text.splitlines(), 1):
        if line.count("[") + line.count("{") > 100:
            k = re.match(r"\s*([A-Za-z0-9_.\-\"]+)\s*=", line)
            where = f"key {k.group(1)}: " if k else ""
            return f"{where}TOML syntax error: nested too deeply (line {ln})"
    return "TOML syntax error: nested too deeply"


def _syntax_error(text: str, e: Exception) -> str:
    msg = str(e)
    lines = text.splitlines()
    m = re.search(r"line (\d+)", msg)
    if m:
        ln = int(m.group(1))
    else:  # "(at end of document)": the last line is the broken one
        ln = len(lines)
        msg = msg.replace("(at end of document)", f"(at the end of the file, line {ln})")
    if 1 <= ln <= len(lines):
        k = re.match(r"\s*([A-Za-z0-9_.\-\"\[\]]+)\s*=", lines[ln - 1])
        where = f"key {k.group(1)}: " if k else ""
        return f"{where}TOML syntax error: {msg}"
    return f"TOML syntax error: {msg}"


# -- writing ---------------------------------------------------------------------------------
def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if hasattr(v, "item"):  # numpy scalar
        return _value(v.item())
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _is_table_array(v) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def dumps(data: dict, header: str | None = None) -> str:
    """TOML text for a nested dict of numbers, strings, booleans, lists and tables."""
    out: list[str] = []
    if header:
        out.append(f"# {header}")
    _emit(data, "", out)
    return "\n".join(out).strip() + "\n"


def _emit(table: dict, prefix: str, out: list[str]):
    plain = [(k, v) for k, v in table.items() if not isinstance(v, dict) and not _is_table_array(v)]
    for k, v in plain:
        out.append(f"{k} = {_value(v)}")
    for k, v in table.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.append("")
            out.append(f"[{name}]")
            _emit(v, name + ".", out)
        elif _is_table_array(v):
            for item in v:
                out.append("")
                out.append(f"[[{name}]]")
                _emit(item, name + ".", out)


def to_toml(cal: Calibration) -> str:
    """The calibration file's text (schema: calibration/SCHEMA.md)."""
    return dumps(cal.data, header="balance rig calibration file; schema: calibration/SCHEMA.md")


def write_calibration(cal: Calibration, path) -> Path:
    """Write ``cal`` to ``path`` atomically (a temporary file renamed over the target)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(to_toml(cal), encoding="utf-8")
    tmp.replace(path)
    cal.source_path = path
    return path
