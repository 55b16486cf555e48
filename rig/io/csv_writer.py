"""CSV export: one row per sample (session) or one row per trial with its measures (athlete).

ASCII only, ``,`` delimiter, ``.`` decimals, a ``#``-commented header block that
``numpy.loadtxt(comments="#")`` and ``pandas.read_csv(comment="#")`` skip, then one header
row of code-friendly names with units (``t_s``, ``fz_n``, ``cop_x_mm``).
"""
from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np

from rig.errors import RigError
from rig.io import data as D
from rig.store.files import atomic_write_bytes
from rig.utc import utc_now_iso

FORMATS = {"t_s": "%.6f", "seq": "%d", "status": "%d", "in_window": "%d", "trial": "%d"}
DEFAULT_FORMAT = "%.4f"


def write_csv(store, target: D.Target, out: Path, anonymize: bool) -> list[Path]:
    if target.kind == "athlete":
        text = athlete_measures_csv(store, target, anonymize)
    else:
        text = session_samples_csv(store, target.sessions[0], anonymize, target.trial)
    scrub = D.scrubber_of(anonymize, store, target)
    if scrub is not None:
        text = scrub.text(text)
    atomic_write_bytes(out, what="cannot write the export", data=text.encode("ascii", errors="replace"))
    return [out]


def session_header(session: dict, trials: list[dict], frames: list, anonymize: bool) -> list[str]:
    s = D.anonymise_session(session) if anonymize else session
    p, b, c = s.get("protocol", {}), s.get("board", {}), s.get("calibration", {})
    lines = [
        "balance rig export: one row per sample (csv v1)",
        f"software: {s.get('software', '')}; exported {utc_now_iso()}",
        f"athlete: {s['athlete']}",
    ]
    if not anonymize and s.get("athlete_details"):
        lines.append(f"athlete_details: {json.dumps(s['athlete_details'], sort_keys=True)}")
    lines += [
        f"session: {s['id']}, started {s['started_utc']}, status {s['status']}",
        f"protocol: {p.get('name', '')} version {p.get('version', '')} sha256 {p.get('sha256', '')}",
        f"protocol_params: {json.dumps(p.get('params', {}), sort_keys=True)}",
        f"board: {b.get('board_id', '')}; firmware {b.get('firmware', '')}; rate_hz {b.get('rate_hz', '')}"
        + ("" if anonymize else f"; port {b.get('port', '')}"),
        f"calibration: {c.get('id', '')}; hash {c.get('hash', '')}; created {c.get('created_utc', '')}; "
        f"nominal {bool(c.get('is_nominal', False))}; tared {bool(c.get('tared', False))}",
        f"calibration_positions_mm: {json.dumps(c.get('positions_mm'))}",
        f"noise_floor: {json.dumps(c.get('noise_floor', {}), sort_keys=True)}",
        "forces_and_cop: recomputed from raw counts with the session's calibration; unfiltered; "
        f"cop nan where fz_n < {D.COP_THRESHOLD_N:g} N",
    ]
    warn = D.calibration_warning(session)
    if warn:
        lines.append(f"calibration_warning: {warn}")
    for t, f in zip(trials, frames):
        w = t.get("window_s") or (math.nan, math.nan)
        lines.append(
            f"trial {t['index']}: id {t['id']}; condition {D.condition_text(t['condition'])}; "
            f"status {t['status']}{' (practice)' if t['practice'] else ''}; samples {len(f)}; "
            f"sample_rate_hz nominal {b.get('rate_hz', '')} effective {D.effective_rate_hz(f.t_s):.3f}; "
            f"window_s {w[0]:.3f}..{w[1]:.3f}; filter_and_processing {json.dumps(t.get('processing', {}), sort_keys=True)}; "
            f"reasons {json.dumps(t.get('reasons', []))}; link {json.dumps(t.get('stats', {}), sort_keys=True)}")
    lines += [f"column {name}: {desc}" for name, desc in D.COLUMNS]
    return lines


def session_samples_csv(store, sid: str, anonymize: bool, trial: int | None = None) -> str:
    s = store.session(sid)
    trials = s["trials"]
    if trial is not None:
        if not 1 <= trial <= len(trials):
            raise RigError(f"session {sid} has {len(trials)} trials; --trial {trial} is out of range")
        trials = [trials[trial - 1]]
    frames = [store.trial_frames(t["id"]) for t in trials]
    buf = io.StringIO()
    for line in session_header(s, trials, frames, anonymize):
        buf.write("# " + _ascii(line) + "\n")
    names = ["trial"] + [n for n, _ in D.COLUMNS]
    buf.write(",".join(names) + "\n")
    for t, f in zip(trials, frames):
        cols = D.trial_table(s, t, f)
        cols = {"trial": np.full(len(f), t["index"])} | cols
        _write_rows(buf, cols)
    return buf.getvalue()


def _write_rows(buf, cols: dict[str, np.ndarray]) -> None:
    n = len(next(iter(cols.values())))
    if n == 0:
        return
    table = np.column_stack([np.asarray(v, dtype=np.float64) for v in cols.values()])
    fmt = [FORMATS.get(k, "%d" if k.startswith("raw_") else DEFAULT_FORMAT) for k in cols]
    np.savetxt(buf, table, fmt=fmt, delimiter=",")


def athlete_measures_csv(store, target: D.Target, anonymize: bool) -> str:
    """One row per trial of every session: ids, condition, status and every measure."""
    rows, names = [], []
    for sid in target.sessions:
        s = store.session(sid)
        for t in s["trials"]:
            c = t["condition"]
            row = {"session": sid, "started_utc": s["started_utc"], "protocol": s["protocol"].get("name", ""),
                   "trial": t["index"], "practice": int(t["practice"]), "condition": c.get("name", ""),
                   "side": t["side"], "status": t["status"], "baseline": int(s["is_baseline"])}
            row.update(t["measures"])
            rows.append(row)
            names += [k for k in t["measures"] if k not in names]
    fixed = ["session", "started_utc", "protocol", "trial", "practice", "condition", "side", "status", "baseline"]
    buf = io.StringIO()
    buf.write(f"# balance rig export: one row per trial with its measures (csv v1)\n")
    buf.write(f"# athlete: {target.athlete}\n# exported: {utc_now_iso()}\n")
    buf.write("# measure columns carry their unit in the name; empty = not computed or undefined\n")
    buf.write(",".join(fixed + names) + "\n")
    for r in rows:
        cells = [_cell(r.get(k)) for k in fixed] + [_cell(r.get(k)) for k in names]
        buf.write(",".join(cells) + "\n")
    return buf.getvalue()


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if not math.isfinite(v) else f"{v:.6g}"
    text = _ascii(str(v))
    return f'"{text}"' if ("," in text or '"' in text) else text


def _ascii(text: str) -> str:
    return text.encode("ascii", errors="replace").decode("ascii").replace("\n", " ")
