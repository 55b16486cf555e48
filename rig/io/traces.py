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

Reading is linear in time and memory and bounded: a file is read in 1 MiB chunks and refused
with one line as soon as it exceeds ``MAX_TRACE_BYTES`` (128 MiB: about 30 min of a 1 kHz
board's CSV) or shows a NUL byte (binary data, e.g. ``/dev/zero``). Well-formed files take a
fast path (field counts checked per line with numpy, the needed columns parsed by numpy's C
``loadtxt``); anything unusual falls back to the line-by-line reader, whose errors name the
line and column.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from rig.errors import FileFormatError

REQUIRED = ("t_s", "cop_x_mm", "cop_y_mm")
MAX_TRACE_BYTES = 128 * 1024 * 1024
_CHUNK = 1024 * 1024
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


def _read_bytes(path: str, limit: int) -> bytes:
    """The file's bytes, read in chunks; refused beyond ``limit`` bytes or at a NUL byte, so
    an endless or binary source (a device, a pipe) costs at most ``limit`` bytes and stops."""
    chunks, total = [], 0
    try:
        with open(path, "rb") as f:
            while True:
                chunk = f.read(_CHUNK)
                if not chunk:
                    break
                nul = chunk.find(b"\0")
                if nul >= 0:
                    raise FileFormatError(f"{path}: not a text file (NUL byte at byte {total + nul})")
                total += len(chunk)
                if total > limit:
                    raise FileFormatError(f"{path}: larger than {limit / 2 ** 20:g} MiB, the limit for "
                                          "a trace file (is it a trace?)")
                chunks.append(chunk)
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileFormatError(f"{path}: is a directory, not a trace file") from None
    except OSError as e:
        raise FileFormatError(f"{path}: cannot read ({e.strerror})") from None
    return b"".join(chunks)


def _read_text(path: str, limit: int = MAX_TRACE_BYTES) -> str:
    data = _read_bytes(path, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FileFormatError(f"{path}: not a text file ({e.reason} at byte {e.start})") from None


def _head(text: str):
    """(comments, header line number, header, offset of the body) from the top of the file;
    header None when there is none."""
    comments, pos, ln = [], 0, 0
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        ln += 1
        s = text[pos:end].strip()
        if s.startswith("#"):
            comments.append(s[1:].strip())
        elif s:
            return comments, ln, text[pos:end].rstrip("\r"), end + 1
        pos = end + 1
    return comments, ln, None, len(text)


def _fast_columns(text: str, start: int, header_line: int, n_names: int, sep: str, want: list[int]):
    """The wanted columns of a well-formed body (no comments, blank lines or ragged rows) as
    ((n, k) float64, line numbers); None when the body needs the careful reader."""
    body = text[start:].rstrip("\r\n")
    if not body or "#" in body or "\n\n" in body or "\n\r\n" in body:
        return None
    b = np.frombuffer(body.encode("utf-8"), dtype=np.uint8)
    nl = np.flatnonzero(b == 10)
    n_cr = int(np.count_nonzero(b == 13))
    if n_cr and (n_cr != nl.size or np.any(b[nl - 1] != 13)):     # only CRLF line ends
        return None
    sep_at = np.flatnonzero(b == ord(sep))
    bounds = np.searchsorted(sep_at, np.concatenate(([0], nl, [b.size])))
    if np.any(np.diff(bounds) != n_names - 1):                  # fields per line
        return None
    starts = nl
    try:
        cols = np.loadtxt(io.StringIO(body), delimiter=sep, usecols=want, comments=None,
                          ndmin=2, dtype=np.float64)
    except ValueError:
        return None
    if cols.shape[0] != starts.size + 1:
        return None
    return cols, (header_line + 1 + np.arange(cols.shape[0])).tolist()


def read_trace(path, max_bytes: int = MAX_TRACE_BYTES) -> RawTrace:
    """Read one trace file (format from its header). Raises ``FileFormatError`` naming the
    file and the line (and column) of the first problem, or refusing a file larger than
    ``max_bytes`` or with binary content (module docstring)."""
    path = str(path)
    text = _read_text(path, max_bytes)
    comments, header_line, header, start = _head(text)
    if header is None:
        raise FileFormatError(f"{path}: no header row (the file is empty or only comments)")
    fast = _read_fast(path, text, start, header_line, header, comments)
    return fast if fast is not None else _read_careful(path, text)


def _read_fast(path, text, start, header_line, header, comments) -> RawTrace | None:
    if header.startswith("Time\t") and "COPNET_X" in header:
        names = [h.strip() for h in header.split("\t")]
        need = ("Time", "COPNET_X", "COPNET_Z", "GRFNET_Y")
        if any(c not in names for c in need):
            return None
        got = _fast_columns(text, start, header_line, len(names), "\t", [names.index(c) for c in need])
        if got is None or not np.all(np.isfinite(got[0])):
            return None
        c, lines = got
        _check_time(path, lines, c[:, 0])
        return RawTrace(path, c[:, 0].copy(), c[:, 2] * 1000.0, c[:, 1] * 1000.0, c[:, 3].copy(),
                        "pds-grf", comments)
    sep = next((s for s in (",", "\t", ";") if s in header), ",")
    names = [h.strip() for h in header.split(sep)]
    if any(c not in names for c in REQUIRED):
        return None
    want = [names.index(c) for c in REQUIRED] + ([names.index("fz_n")] if "fz_n" in names else [])
    got = _fast_columns(text, start, header_line, len(names), sep, want)
    if got is None or not np.all(np.isfinite(got[0][:, 0])):
        return None
    c, lines = got
    _check_time(path, lines, c[:, 0])
    fz = c[:, 3].copy() if c.shape[1] > 3 else None
    return RawTrace(path, c[:, 0].copy(), c[:, 1].copy(), c[:, 2].copy(), fz, "cop-csv", comments)


def _read_careful(path: str, text: str) -> RawTrace:
    """The line-by-line reader: every error names the line and column."""
    comments, body = [], []
    for i, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            comments.append(s[1:].strip())
        else:
            body.append((i, line))
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
