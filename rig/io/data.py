"""What exports contain: session metadata (optionally anonymised) and per-sample trial tables.

Forces and COP are recomputed from the stored raw counts with the calibration stored with the
session (rig.calibration.record, rig.calibration.apply), unfiltered; COP is NaN where the total force is below 20 N. The
processing used for the measures (filter, window) is recorded beside, never applied here.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from rig import __version__
from rig.frames import FrameBatch
from rig.calibration.align import align_counts
from rig.calibration.apply import forces_and_cop
from rig.calibration.record import from_record
from rig.jsonable import jsonable as _jsonable
from rig.store.conditions import normalise
from rig.utc import utc_now_iso

CELLS = ("fl", "fr", "bl", "br")
COP_THRESHOLD_N = 20.0
#: A runner that tares before each trial records the offsets it used under this key of the
#: trial's ``processing``; they then replace the session calibration's offsets for that trial.
TRIAL_TARE_KEY = "tare_offset_counts"
#: Columns of a per-sample table, with units (ASCII only, so any spreadsheet reads them).
COLUMNS = (
    ("t_s", "board time, s (unwrapped, since the board started)"),
    ("seq", "frame sequence number (wraps at 65536)"),
    *((f"raw_{c}", f"raw counts, cell {c.upper()}") for c in CELLS),
    ("status", "cell status bits (cell i in bits 4i..4i+3; see firmware/WIRE_FORMAT.md)"),
    *((f"f_{c}_n", f"vertical force on cell {c.upper()}, N") for c in CELLS),
    ("fz_n", "total vertical force, N"),
    ("cop_x_mm", "COP medio-lateral (+ right), mm, board frame; nan below 20 N"),
    ("cop_y_mm", "COP antero-posterior (+ forward), mm, board frame; nan below 20 N"),
    ("in_window", "1 inside the analysed window, else 0"),
)


@dataclass
class Target:
    """What to export: one session (optionally one trial of it) or all of an athlete's."""

    kind: str                 # "session" | "athlete"
    sessions: list[str]
    athlete: str
    trial: int | None = None  # 1-based position in the session's trial list


def resolve_target(store, ref: str, trial: int | None = None) -> Target:
    """``ref`` is a session id (or prefix, or ``latest``) or an athlete code."""
    from rig.errors import RigError
    from rig.store.core import MAX_REF_CHARS, normalise_code

    ref = normalise_code(ref)
    if len(ref) > MAX_REF_CHARS:
        raise RigError(f"{ref[:20]!r}... ({len(ref)} characters) is neither a session nor an athlete")
    exact_session = ref == "latest" or store.has_session(ref)
    if not exact_session and store.athlete(ref) is not None:  # an athlete code beats an id prefix
        if trial is not None:
            raise RigError("--trial needs a session, not an athlete")
        sids = [s["id"] for s in store.sessions(ref)]
        if not sids:
            raise RigError(f"athlete {ref} has no sessions yet")
        return Target("athlete", sids, ref)
    try:
        sid = store.resolve_session(ref)
    except RigError as e:
        if "ambiguous" in str(e):
            raise
        raise RigError(f"{ref!r} is neither a session nor an athlete in {store.root} "
                       "(see `rig sessions`)") from None
    return Target("session", [sid], store.session(sid)["athlete"], trial)


def anonymise_session(s: dict) -> dict:
    """A copy with nothing personal left but the athlete code: no details, no free-text meta,
    no port name, board id or host path (a path may carry a user name, a by-id port the
    board's USB serial), also none inside trial reasons (rig.io.anonymize)."""
    from rig.io.anonymize import Scrubber

    out = dict(s)
    out["athlete_details"] = {}
    out["meta"] = {}
    out["board"] = {k: v for k, v in s.get("board", {}).items()
                    if k not in ("port", "board_id", "serial", "usb_serial", "device")}
    protocol = dict(s.get("protocol") or {})
    if isinstance(protocol.get("params"), dict):
        protocol["params"] = {k: v for k, v in protocol["params"].items() if k != "path"}
    out["protocol"] = protocol
    scrub = Scrubber([s])
    if "trials" in s:
        out["trials"] = [t | {"reasons": scrub.data(t.get("reasons") or [])} for t in s["trials"]]
    return out


def scrubber_of(anonymize, store, target: "Target"):
    """The Scrubber for an export (None when not anonymising); ``anonymize`` may already be
    one (built by ``rig.io.export`` with the date option)."""
    from rig.io.anonymize import Scrubber

    if isinstance(anonymize, Scrubber) or not anonymize:
        return anonymize or None
    return Scrubber([store.session(sid) for sid in target.sessions], store.root)


def session_record(store, sid: str, anonymize: bool) -> dict:
    """The session as exported to JSON: metadata, trials with measures, condition means,
    flags, summary, baseline comparison. NaN becomes None (JSON null)."""
    s = store.session(sid)
    s = anonymise_session(s) if anonymize else s
    s = dict(s)
    cal = dict(s.get("calibration", {}))
    if anonymize:  # the file content names who calibrated; the gains stay (no person in them)
        cal.pop("data", None)
        cal.pop("calibrated_by", None)
    s["calibration"] = cal
    cmp = store.compare_with_baseline(sid)
    s["baseline_comparison"] = cmp
    s["exported"] = {"utc": utc_now_iso(), "software": f"rig {__version__}", "anonymized": bool(anonymize)}
    return jsonable(s)


def jsonable(x):
    """Plain JSON types; NaN and infinities become None (strict JSON for exports)."""
    return _jsonable(x, nan_as_none=True)


def trial_table(session: dict, trial: dict, frames: FrameBatch) -> dict[str, np.ndarray]:
    """Column name -> array (one entry per sample), in ``COLUMNS`` order."""
    cal = from_record(session.get("calibration", {}))
    tare = (trial.get("processing") or {}).get(TRIAL_TARE_KEY)
    if tare is not None and len(tare) == 4:  # this trial was tared on its own empty-board window
        cal.offset_counts = np.asarray(tare, dtype=float)
        cal.needs_tare = False
    # the cells put on the frame instants (wire v2 ages), as the runner and rig stream do
    c = forces_and_cop(cal, align_counts(frames), frames.t_s, COP_THRESHOLD_N)
    forces, fz, x, y = c.forces_n, c.fz_n, c.cop_x_mm, c.cop_y_mm
    by_cell = cal.cell_counts(frames.raw)   # raw columns named by corner via the channel map
    w0, w1 = trial.get("window_s", (math.nan, math.nan))
    w0 = -math.inf if w0 is None or not math.isfinite(w0) else w0
    w1 = math.inf if w1 is None or not math.isfinite(w1) else w1
    cols = {"t_s": frames.t_s, "seq": frames.seq}
    for i, c in enumerate(CELLS):
        cols[f"raw_{c}"] = by_cell[:, i]
    cols["status"] = frames.status
    for i, c in enumerate(CELLS):
        cols[f"f_{c}_n"] = forces[:, i]
    cols.update(fz_n=fz, cop_x_mm=x, cop_y_mm=y,
                in_window=((frames.t_s >= w0) & (frames.t_s <= w1)).astype(np.int8))
    return cols


def calibration_warning(session: dict) -> str:
    return from_record(session.get("calibration", {})).warning


def effective_rate_hz(t_s: np.ndarray) -> float:
    if len(t_s) < 2 or t_s[-1] <= t_s[0]:
        return math.nan
    return (len(t_s) - 1) / float(t_s[-1] - t_s[0])


def condition_text(condition: dict) -> str:
    c = normalise(condition)
    parts = [f"{k}={c[k]}" for k in ("stance", "eyes", "surface", "side") if c[k]]
    return f"{c['name']} ({', '.join(parts)})" if parts else c["name"]


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:40] or "trial"
