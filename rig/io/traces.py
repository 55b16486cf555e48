"""Read COP traces from files, with errors that name the file, the line and the column.

Formats (chosen from the file's header, so new ones can be added beside them):

- **COP CSV**: a header row with at least ``t_s,cop_x_mm,cop_y_mm`` (optional ``fz_n``);
  other columns are ignored; ``#`` lines (metadata, e.g. from ``rig stream``) are skipped and
  kept in ``RawTrace.comments``. Empty or ``nan`` COP cells are samples with nobody on the
  board (NaN). Comma, tab or semicolon separated (from the header row).
- **Posture Data Set grf** (dos Santos et al. 2017, PeerJ 5:e3626; tab separated, header
  ``Time RGRF_X ...``): the net COP is converted to the board frame and mm:
  x (ML, + right) = 1000 * COPNET_Z, y (AP) = 1000 * COPNET_X, fz_n = GRFNET_Y (that data
  set's Y is vertical, X antero-posterior, Z medio-lateral with the right foot at +Z).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rig.errors import FileFormatError

REQUIRED = ("t_s", "cop_x_mm", "cop_y_mm")
_NAN_TEXT = {"", "nan", "NaN", "NAN", "na", "NA"}


@dataclass
class RawTrace:
    """A trace as read from a file: board time (s), COP (mm, NaN = undefined), force (N)."""

    path: str
    t_s: np.ndarray
    cop_x_mm: np.ndarray
    cop_y_mm: np.ndarray
    fz_n: np.ndarray | None
    format: str
    comments: list[str] = field(default_factory=list)


def _column(path: str, lines: list[int], rows: list[list[str]], idx: int, name: str,
            allow_empty: bool) -> np.ndarray:
    cells = [r[idx].strip() for r in rows]
    if allow_empty:
        cells = ["nan" if c in _NAN_TEXT else c for c in cells]
    try:
        return np.array(cells, dtype=np.float64)
    except ValueError:
        pass
    for ln, c in zip(lines, cells):       # error path only: find the offending cell
        try:
            float(c)
            if not allow_empty and c.lower() == "nan":
                raise ValueError
        except ValueError:
            what = "is empty" if c == "" else f"{c[:30]!r} is not a number"
            raise FileFormatError(f"{path} line {ln}, column {name} ({idx + 1}): {what}") from None
    raise FileFormatError(f"{path}: column {name} could not be read")   # pragma: no cover


def _read_text(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            return f.read().splitlines()
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileFormatError(f"{path}: is a directory, not a trace file") from None
    except UnicodeDecodeError as e:
        raise FileFormatError(f"{path}: not a text file ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise FileFormatError(f"{path}: cannot read ({e.strerror})") from None


def read_trace(path) -> RawTrace:
    """Read one trace file (format from its header). Raises ``FileFormatError`` naming the
    file and the line (and column) of the first problem."""
    path = str(path)
    text = _read_text(path)
    comments, body = [], []
    for i, line in enumerate(text, start=1):
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            comments.append(s[1:].strip())
        else:
            body.append((i, line))
    if not body:
        raise FileFormatError(f"{path}: no header row (the file is empty or only comments)")
    header_line, header = body[0]
    if header.startswith("Time\t") and "COPNET_X" in header:
        return _read_pds(path, header_line, header, body[1:], comments)
    return _read_cop_csv(path, header_line, header, body[1:], comments)


def _split_rows(path, header_line, header, body, sep):
    names = [h.strip() for h in header.split(sep)]
    lines = [ln for ln, _ in body]
    rows = [line.split(sep) for _, line in body]
    bad = [k for k, r in enumerate(rows) if len(r) != len(names)]
    if bad:
        k = bad[0]
        raise FileFormatError(f"{path} line {lines[k]}: {len(rows[k])} fields, the header "
                              f"(line {header_line}) has {len(names)}")
    if not rows:
        raise FileFormatError(f"{path}: header but no data rows")
    return names, lines, rows


def _check_time(path: str, lines: list[int], t: np.ndarray) -> None:
    bad = np.flatnonzero(np.diff(t) <= 0)
    if bad.size:
        k = int(bad[0]) + 1
        raise FileFormatError(f"{path} line {lines[k]}: t_s = {t[k]:.9g} s is not after the "
                              f"previous sample ({t[k - 1]:.9g} s)")


def _read_cop_csv(path, header_line, header, body, comments) -> RawTrace:
    sep = next((s for s in (",", "\t", ";") if s in header), ",")
    names, lines, rows = _split_rows(path, header_line, header, body, sep)
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise FileFormatError(
            f"{path} line {header_line}: header lacks column(s) {', '.join(missing)} "
            f"(needs {','.join(REQUIRED)}; found {','.join(names[:10])})")
    t = _column(path, lines, rows, names.index("t_s"), "t_s", allow_empty=False)
    x = _column(path, lines, rows, names.index("cop_x_mm"), "cop_x_mm", allow_empty=True)
    y = _column(path, lines, rows, names.index("cop_y_mm"), "cop_y_mm", allow_empty=True)
    fz = (_column(path, lines, rows, names.index("fz_n"), "fz_n", allow_empty=True)
          if "fz_n" in names else None)
    _check_time(path, lines, t)
    return RawTrace(path, t, x, y, fz, "cop-csv", comments)


def _read_pds(path, header_line, header, body, comments) -> RawTrace:
    names, lines, rows = _split_rows(path, header_line, header, body, "\t")
    need = ("Time", "COPNET_X", "COPNET_Z", "GRFNET_Y")
    missing = [c for c in need if c not in names]
    if missing:
        raise FileFormatError(f"{path} line {header_line}: PDS header lacks {', '.join(missing)}")
    col = {c: _column(path, lines, rows, names.index(c), c, allow_empty=False) for c in need}
    _check_time(path, lines, col["Time"])
    return RawTrace(path, col["Time"], col["COPNET_Z"] * 1000.0, col["COPNET_X"] * 1000.0,
                    col["GRFNET_Y"], "pds-grf", comments)
