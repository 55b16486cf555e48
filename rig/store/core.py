"""The Store: athletes, sessions, trials and measures in SQLite, raw traces as files beside it.

Layout of the data directory (``rig.paths.data_dir()``)::

    rig.sqlite3                      the database (WAL mode; schema in rig.store.schema)
    traces/<session>/<trial>.npz     raw frames of each trial (atomic writes)
    journal/<trial>.rjl              trials being recorded (rig.store.journal); left behind by a crash
    journal/unreadable/              journals whose header was torn (kept, never deleted)

``Store.open`` recovers every journal no live process is writing (``Store.recovered`` lists
them). The API in docs/CONTRACTS.md is implemented exactly; the extra methods below serve the
``sessions``, ``history``, ``export`` and ``report`` commands.
"""
from __future__ import annotations

import json
import math
import os
import re
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

from rig import __version__
from rig.frames import FrameBatch
from rig.errors import FileFormatError, RigError
from rig.store.journal import SUFFIX, fsync_dir, lock_for_recovery, read_journal
from rig.engine.mdc import Mdc, compare, default_mdc
from rig.paths import data_dir as resolve_data_dir
from rig.store import conditions as cond
from rig.store.calib import calibration_record
from rig.store.recorder import TrialRecorder
from rig.store.schema import migrate
from rig.store.traces import read_trace, write_trace

DB_NAME = "rig.sqlite3"
SESSION_STATUSES = ("open", "complete", "incomplete")
_CODE_RE = re.compile(r"^[^\W_][\w.\-]{0,39}$")     # any Unicode letter or digit ("Müller-2")


class Store:
    """Open with ``Store.open(data_dir)``; one instance may be shared by threads."""

    def __init__(self, root: Path, conn: sqlite3.Connection):
        self.root = root
        self._conn = conn
        self._lock = threading.RLock()
        self.recovered: list[dict] = []

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def open(cls, data_dir=None, recover: bool = True) -> "Store":
        root = resolve_data_dir(data_dir)
        db = root / DB_NAME
        try:
            conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False, timeout=10.0)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn, str(db))
        except sqlite3.DatabaseError as e:
            raise RigError(f"data dir {root}: database {db} unreadable: {e}") from None
        store = cls(root, conn)
        store._seed_mdc()
        if recover:
            store.recovered = store.recover()
        return store

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def journal_dir(self) -> Path:
        return self.root / "journal"

    def _tx(self):
        return _Transaction(self)

    def _q(self, sql: str, args=()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    # -- athletes ----------------------------------------------------------------------------
    def ensure_athlete(self, code: str, **optional_details) -> None:
        """Create athlete ``code`` if new; merge any details given (name, birth_year, ...)."""
        code = check_code(code)
        details = {k: v for k, v in optional_details.items() if v is not None}
        with self._tx() as c:
            row = c.execute("SELECT details_json FROM athletes WHERE code = ?", (code,)).fetchone()
            if row is None:
                c.execute("INSERT INTO athletes(code, details_json, created_utc) VALUES (?, ?, ?)",
                          (code, _dumps(details), utc_now()))
            elif details:
                merged = json.loads(row["details_json"]) | details
                c.execute("UPDATE athletes SET details_json = ? WHERE code = ?", (_dumps(merged), code))

    def athlete(self, code: str) -> dict | None:
        rows = self._q("SELECT * FROM athletes WHERE code = ?", (code,))
        if not rows:
            return None
        r = rows[0]
        return {"code": r["code"], "details": json.loads(r["details_json"]),
                "baseline": r["baseline"], "created_utc": r["created_utc"]}

    def athletes(self) -> list[str]:
        return [r["code"] for r in self._q("SELECT code FROM athletes ORDER BY code")]

    # -- sessions ----------------------------------------------------------------------------
    def new_session(self, athlete: str, protocol: dict, board: dict, calibration,
                    meta: dict | None = None) -> str:
        """Start a session; returns its id (``YYYYMMDD-HHMMSS-xxxx``, UTC).

        ``calibration`` is the contract's dict, or a ``rig.calibration.Calibration`` (then
        everything needed to recompute forces later is stored; see rig.store.calib)."""
        if not isinstance(calibration, dict):
            calibration = calibration_record(calibration)
        self.ensure_athlete(athlete)
        now = time.time()
        sid = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now)) + "-" + secrets.token_hex(2)
        protocol, board = dict(protocol or {}), dict(board or {})
        with self._tx() as c:
            c.execute(
                "INSERT INTO sessions(id, athlete, started_utc, status, protocol_name, protocol_json,"
                " board_json, calibration_json, calibration_hash, firmware, meta_json, software)"
                " VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, athlete, utc_now(now), str(protocol.get("name", "")), _dumps(protocol),
                 _dumps(board), _dumps(calibration), str(calibration.get("hash", "")),
                 str(board.get("firmware", "")), _dumps(meta or {}), f"rig {__version__}"))
        return sid

    def set_session_result(self, sid: str, summary: dict, flags: list[dict]) -> None:
        """Store the runner's result summary and screening flags; the session is complete
        (or ``summary["status"]`` if the runner says otherwise)."""
        sid = self.resolve_session(sid)
        status = summary.get("status") if isinstance(summary, dict) else None
        status = status if status in SESSION_STATUSES else "complete"
        with self._tx() as c:
            c.execute("UPDATE sessions SET summary_json = ?, flags_json = ?, status = ?, finished_utc = ?"
                      " WHERE id = ?", (_dumps(summary or {}), _dumps(list(flags or [])), status,
                                        utc_now(), sid))

    def update_session_summary(self, sid: str, patch: dict) -> None:
        """Merge ``patch`` into the session's summary (e.g. the clinician's BESS scores entered
        after the run), leaving status and times as they are."""
        sid = self.resolve_session(sid)
        with self._tx() as c:
            row = c.execute("SELECT summary_json FROM sessions WHERE id = ?", (sid,)).fetchone()
            summary = json.loads(row["summary_json"]) if row["summary_json"] else {}
            c.execute("UPDATE sessions SET summary_json = ? WHERE id = ?", (_dumps(summary | dict(patch)), sid))

    def set_session_status(self, sid: str, status: str) -> None:
        if status not in SESSION_STATUSES:
            raise ValueError(f"session status must be one of {SESSION_STATUSES}")
        with self._tx() as c:
            c.execute("UPDATE sessions SET status = ?, finished_utc = COALESCE(finished_utc, ?)"
                      " WHERE id = ?", (status, utc_now(), self.resolve_session(sid)))

    def has_session(self, sid: str) -> bool:
        return bool(self._q("SELECT 1 FROM sessions WHERE id = ?", (sid,)))

    def resolve_session(self, ref: str) -> str:
        """A session id from ``ref``: an id, a unique id prefix, or ``latest``."""
        ref = (ref or "").strip()
        if ref == "latest":
            rows = self._q("SELECT id FROM sessions ORDER BY started_utc DESC, rowid DESC LIMIT 1")
            if not rows:
                raise RigError(f"no sessions recorded yet in {self.root}")
            return rows[0]["id"]
        rows = self._q("SELECT id FROM sessions WHERE id = ?", (ref,))
        if rows:
            return rows[0]["id"]
        rows = self._q("SELECT id FROM sessions WHERE id LIKE ? ESCAPE '\\'", (_like_prefix(ref),))
        if len(rows) == 1:
            return rows[0]["id"]
        if len(rows) > 1:
            raise RigError(f"session {ref!r} is ambiguous: matches {', '.join(r['id'] for r in rows[:5])}")
        raise RigError(f"no session {ref!r} in {self.root} (see `rig sessions`)")

    def sessions(self, athlete: str | None = None) -> list[dict]:
        """Sessions, oldest first, with counts of trials: id, athlete, started_utc, status,
        protocol, n_trials, n_valid, is_baseline."""
        sql = ("SELECT s.*, (SELECT COUNT(*) FROM trials t WHERE t.session = s.id AND t.practice = 0) AS n_trials,"
               " (SELECT COUNT(*) FROM trials t WHERE t.session = s.id AND t.practice = 0"
               "  AND t.status = 'valid') AS n_valid FROM sessions s")
        args: tuple = ()
        if athlete is not None:
            sql += " WHERE s.athlete = ?"
            args = (athlete,)
        rows = self._q(sql + " ORDER BY s.started_utc, s.rowid", args)
        baselines = {a: self.baseline(a) for a in {r["athlete"] for r in rows}}
        return [{"id": r["id"], "athlete": r["athlete"], "started_utc": r["started_utc"],
                 "finished_utc": r["finished_utc"], "status": r["status"],
                 "protocol": r["protocol_name"], "n_trials": r["n_trials"], "n_valid": r["n_valid"],
                 "is_baseline": baselines[r["athlete"]] == r["id"],
                 "flags": json.loads(r["flags_json"]) if r["flags_json"] else []} for r in rows]

    def session(self, sid_or_latest: str) -> dict:
        """Everything about a session: metadata, trials (with measures), per-condition means."""
        sid = self.resolve_session(sid_or_latest)
        r = self._q("SELECT * FROM sessions WHERE id = ?", (sid,))[0]
        ath = self.athlete(r["athlete"]) or {"details": {}}
        trials = self._trials(sid)
        out = {
            "id": sid, "athlete": r["athlete"], "athlete_details": ath["details"],
            "started_utc": r["started_utc"], "finished_utc": r["finished_utc"], "status": r["status"],
            "protocol": json.loads(r["protocol_json"]), "board": json.loads(r["board_json"]),
            "calibration": json.loads(r["calibration_json"]), "meta": json.loads(r["meta_json"]),
            "summary": json.loads(r["summary_json"]) if r["summary_json"] else None,
            "flags": json.loads(r["flags_json"]) if r["flags_json"] else [],
            "software": r["software"], "trials": trials,
            "conditions": condition_means(trials),
        }
        out["is_baseline"] = self.baseline(r["athlete"]) == sid
        return out

    def _trials(self, sid: str) -> list[dict]:
        # recording order: ``number`` (1, 2, ...) is the one trial numbering of every listing,
        # export (--trial N) and report; ``index`` stays the repeat count within its condition
        rows = self._q("SELECT * FROM trials WHERE session = ? ORDER BY started_utc, rowid", (sid,))
        ms: dict[str, dict] = {}
        for m in self._q("SELECT m.trial, m.name, m.value FROM measures m JOIN trials t ON t.id = m.trial"
                         " WHERE t.session = ? ORDER BY m.rowid", (sid,)):
            ms.setdefault(m["trial"], {})[m["name"]] = math.nan if m["value"] is None else m["value"]
        return [{
            "id": t["id"], "session": sid, "number": n, "index": t["idx"], "practice": bool(t["practice"]),
            "condition": json.loads(t["condition_json"]), "condition_key": t["condition_key"],
            "side": t["side"], "status": t["status"], "reasons": json.loads(t["reasons_json"]),
            "stats": json.loads(t["stats_json"]),
            "window_s": (_nan(t["window_start_s"]), _nan(t["window_end_s"])),
            "processing": json.loads(t["processing_json"]), "measures": ms.get(t["id"], {}),
            "n_frames": t["n_frames"], "started_utc": t["started_utc"],
            "finished_utc": t["finished_utc"], "recovered": bool(t["recovered"]),
            "trace_path": t["trace_path"],
        } for n, t in enumerate(rows, 1)]

    # -- trials ------------------------------------------------------------------------------
    def begin_trial(self, sid: str, condition: dict, index: int, practice: bool = False,
                    stats_source: Callable[[], dict] | None = None) -> TrialRecorder:
        """Start recording a trial: a journal is created (and fsync'ed) before this returns.

        ``stats_source`` (optional, e.g. ``lambda: link.stats.as_dict()``) is polled every
        100 ms so a recovered trial also has the decoder statistics."""
        sid = self.resolve_session(sid)
        athlete = self._q("SELECT athlete FROM sessions WHERE id = ?", (sid,))[0]["athlete"]
        tid = f"{sid}-t{int(index):02d}-{secrets.token_hex(3)}"
        condition = dict(condition or {})
        return TrialRecorder(self, tid, sid, condition, int(index), bool(practice),
                             self.journal_dir / f"{tid}{SUFFIX}", stats_source,
                             extra_meta={"athlete": athlete})

    def _file_trial(self, *, trial_id, session_id, condition, index, practice, status, reasons,
                    stats, window_s, measures, processing, frames: FrameBatch, started_utc,
                    recovered: bool) -> str:
        rel = f"traces/{session_id}/{trial_id}.npz"
        meta = {"trial_id": trial_id, "session_id": session_id, "condition": condition,
                "index": index, "status": status, "recovered": recovered}
        write_trace(self.root / rel, frames, _jsonable(meta))
        w0, w1 = (tuple(window_s) + (None, None))[:2] if window_s is not None else (None, None)
        rows = [(trial_id, str(k), _real(v)) for k, v in (measures or {}).items()]
        with self._tx() as c:
            c.execute(
                "INSERT INTO trials(id, session, idx, practice, condition_json, condition_key, side,"
                " status, reasons_json, stats_json, window_start_s, window_end_s, processing_json,"
                " trace_path, n_frames, started_utc, finished_utc, recovered)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (trial_id, session_id, int(index), int(bool(practice)), _dumps(condition),
                 cond.condition_key(condition), cond.normalise(condition)["side"], status,
                 _dumps([str(r) for r in reasons]), _dumps(stats), _real(w0), _real(w1),
                 _dumps(processing), rel, len(frames), started_utc, utc_now(), int(recovered)))
            c.executemany("INSERT INTO measures(trial, name, value) VALUES (?, ?, ?)", rows)
        return trial_id

    def trial(self, tid: str) -> dict:
        rows = self._q("SELECT session FROM trials WHERE id = ?", (tid,))
        if not rows:
            raise RigError(f"no trial {tid!r} in {self.root}")
        return next(t for t in self._trials(rows[0]["session"]) if t["id"] == tid)

    def trial_frames(self, tid: str) -> FrameBatch:
        """The raw frames of a trial, exactly as received (counts, board time, status)."""
        rows = self._q("SELECT trace_path FROM trials WHERE id = ?", (tid,))
        if not rows:
            raise RigError(f"no trial {tid!r} in {self.root}")
        return read_trace(self.root / rows[0]["trace_path"])[0]

    # -- baseline and MDC --------------------------------------------------------------------
    def baseline(self, athlete: str) -> str | None:
        """The athlete's baseline session: the one marked, else the first complete session."""
        rows = self._q("SELECT baseline FROM athletes WHERE code = ?", (athlete,))
        if rows and rows[0]["baseline"]:
            return rows[0]["baseline"]
        rows = self._q("SELECT id FROM sessions WHERE athlete = ? AND status = 'complete'"
                       " ORDER BY started_utc, rowid LIMIT 1", (athlete,))
        return rows[0]["id"] if rows else None

    def set_baseline(self, athlete: str, sid: str | None) -> None:
        """Mark ``sid`` as the athlete's baseline (None: back to the first complete session)."""
        if sid is not None:
            sid = self.resolve_session(sid)
            owner = self._q("SELECT athlete FROM sessions WHERE id = ?", (sid,))[0]["athlete"]
            if owner != athlete:
                raise RigError(f"session {sid} belongs to athlete {owner}, not {athlete}")
        with self._tx() as c:
            if c.execute("UPDATE athletes SET baseline = ? WHERE code = ?", (sid, athlete)).rowcount == 0:
                raise RigError(f"no athlete {athlete!r} in {self.root}")

    def _seed_mdc(self) -> None:
        from rig.engine.mdc import DEFAULTS

        with self._tx() as c:
            c.execute("DELETE FROM mdc WHERE origin = 'default'")
            c.executemany("INSERT OR IGNORE INTO mdc(measure, value, kind, unit, source, origin)"
                          " VALUES (?, ?, ?, ?, ?, 'default')",
                          [(m.measure, m.value, m.kind, m.unit, m.source) for m in DEFAULTS.values()])

    def set_mdc(self, measure: str, value: float, kind: str, source: str, unit: str = "") -> None:
        """Store a site's own MDC (from its test-retest data); it overrides the shipped one."""
        if kind not in ("absolute", "percent") or not (float(value) > 0):
            raise RigError(f"MDC for {measure}: need a positive value and kind absolute|percent")
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO mdc(measure, value, kind, unit, source, origin)"
                      " VALUES (?, ?, ?, ?, ?, 'site')", (measure, float(value), kind, unit, source))

    def mdc(self, measure: str) -> Mdc:
        rows = self._q("SELECT * FROM mdc WHERE measure = ?", (measure,))
        if rows:
            r = rows[0]
            return Mdc(r["measure"], r["value"], r["kind"], r["unit"], r["source"], r["origin"])
        return default_mdc(measure, measure_unit(measure))

    def mdc_table(self) -> list[Mdc]:
        return [Mdc(r["measure"], r["value"], r["kind"], r["unit"], r["source"], r["origin"])
                for r in self._q("SELECT * FROM mdc ORDER BY measure")]

    def compare_with_baseline(self, sid: str, measures=cond.KEY_MEASURES) -> dict | None:
        """Per condition, side and measure: baseline vs this session against the MDC.

        None when the athlete has no baseline, or this session is the baseline."""
        s = self.session(sid)
        base_id = self.baseline(s["athlete"])
        if base_id is None or base_id == s["id"]:
            return None
        base = self.session(base_id)
        before = {c["key"]: c for c in base["conditions"]}
        rows = []
        for c in s["conditions"]:
            b = before.get(c["key"])
            if b is None:
                continue
            for m in measures:
                if m in c["measures"] and m in b["measures"]:
                    r = compare(m, b["measures"][m], c["measures"][m], self.mdc(m))
                    rows.append(r | {"task": c["task_label"], "side": c["side"], "key": c["key"],
                                     "unit": measure_unit(m)})
        return {"baseline": base_id, "baseline_started_utc": base["started_utc"], "rows": rows}

    # -- recovery ----------------------------------------------------------------------------
    def recover(self) -> list[dict]:
        """Turn every journal no live process is writing into an incomplete trial.

        Returns one dict per journal handled: trial_id, session_id, frames, last_t_s,
        dropped_bytes, and ``error`` for a journal whose header was unreadable (moved to
        ``journal/unreadable/``, never deleted)."""
        out = []
        if not self.journal_dir.is_dir():
            return out
        for path in sorted(self.journal_dir.glob(f"*{SUFFIX}")):
            fd = lock_for_recovery(path)
            if fd is None:
                continue  # still being recorded by a live process, or already gone
            try:
                if not path.exists():
                    continue
                out.append(self._recover_one(path))
            finally:
                os.close(fd)
        return out

    def _recover_one(self, path: Path) -> dict:
        try:
            j = read_journal(path)
        except FileFormatError as e:
            bad = self.journal_dir / "unreadable"
            bad.mkdir(exist_ok=True)
            os.replace(path, bad / path.name)
            return {"path": str(path), "error": str(e), "trial_id": None, "frames": 0}
        tid = str(j.meta.get("trial_id") or path.stem)
        sid = str(j.meta.get("session_id", ""))
        info = {"path": str(path), "trial_id": tid, "session_id": sid, "frames": len(j.frames),
                "dropped_bytes": j.dropped_bytes,
                "last_t_s": float(j.frames.t_s[-1]) if len(j.frames) else None}
        if self._q("SELECT 1 FROM trials WHERE id = ?", (tid,)):
            info["already_filed"] = True  # the crash came after filing, before the unlink
        else:
            if not self._q("SELECT 1 FROM sessions WHERE id = ?", (sid,)):
                sid = info["session_id"] = self._orphan_session(j.meta, sid)
            notes = [str(n.get("text", "")) for n in j.notes]
            last = f"{info['last_t_s']:.3f} s" if info["last_t_s"] is not None else "none"
            reasons = [f"recording interrupted before the trial ended (program killed or crashed, "
                       f"power lost, or board unplugged); recovered {len(j.frames)} frames from the "
                       f"journal, last at board time {last}"] + notes
            if j.dropped_bytes:
                reasons.append(f"{j.dropped_bytes} bytes of a torn or corrupt journal tail dropped")
            frames = j.frames
            window = (float(frames.t_s[0]), float(frames.t_s[-1])) if len(frames) else (None, None)
            condition = j.meta.get("condition") or {}
            self._file_trial(trial_id=tid, session_id=sid, condition=condition,
                             index=int(j.meta.get("index", 0)), practice=bool(j.meta.get("practice")),
                             status="incomplete", reasons=reasons, stats=j.stats or {},
                             window_s=window, measures={}, processing={}, frames=frames,
                             started_utc=str(j.meta.get("started_utc", utc_now())), recovered=True)
            with self._tx() as c:
                c.execute("UPDATE sessions SET status = 'incomplete' WHERE id = ? AND status = 'open'",
                          (sid,))
        path.unlink()
        fsync_dir(path.parent)
        return info

    def _orphan_session(self, meta: dict, sid: str) -> str:
        """A journal whose session row is missing (database replaced?): give it a session."""
        athlete = str(meta.get("athlete") or "unknown")
        self.ensure_athlete(athlete)
        with self._tx() as c:
            c.execute("INSERT INTO sessions(id, athlete, started_utc, status, protocol_json, board_json,"
                      " calibration_json, meta_json, software) VALUES (?, ?, ?, 'incomplete', '{}', '{}',"
                      " '{}', ?, ?)", (sid or f"recovered-{secrets.token_hex(3)}", athlete,
                                       str(meta.get("started_utc", utc_now())),
                                       _dumps({"note": "session row missing; rebuilt from a journal"}),
                                       f"rig {__version__}"))
        return sid


class _Transaction:
    """``with store._tx() as conn:`` one IMMEDIATE transaction, rolled back on error."""

    def __init__(self, store: Store):
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        self.store._lock.acquire()
        if self.store._conn is None:
            self.store._lock.release()
            raise RigError("the store is closed")
        self.store._conn.execute("BEGIN IMMEDIATE")
        return self.store._conn

    def __exit__(self, exc_type, exc, tb):
        try:
            self.store._conn.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.store._lock.release()
        return False


def condition_means(trials: list[dict]) -> list[dict]:
    """Per condition (side included): the mean of each measure over valid, non-practice trials.

    NaN values (undefined in a trial) are left out of that measure's mean."""
    groups: dict[str, list[dict]] = {}
    order: list[str] = []
    for t in trials:
        if t["practice"]:
            continue
        k = t["condition_key"]
        if k not in groups:
            groups[k] = []
            order.append(k)
        groups[k].append(t)
    out = []
    for k in order:
        ts = groups[k]
        valid = [t for t in ts if t["status"] == "valid"]
        names = list(dict.fromkeys(n for t in valid for n in t["measures"]))
        means = {}
        for n in names:
            vals = np.array([t["measures"].get(n, math.nan) for t in valid], dtype=float)
            vals = vals[np.isfinite(vals)]
            means[n] = float(vals.mean()) if len(vals) else math.nan
        c0 = ts[0]["condition"]
        out.append({"key": k, "task": cond.task_key(c0), "task_label": cond.task_label(c0),
                    "side": cond.side_label(c0), "condition": c0, "n_trials": len(ts),
                    "n_valid": len(valid), "measures": means})
    return out


def measure_unit(name: str) -> str:
    try:
        from rig.engine.sway import MEASURES
    except Exception:  # the engine is optional for the store
        return ""
    m = MEASURES.get(name)
    return m.unit if m else ""


def measure_label(name: str) -> str:
    try:
        from rig.engine.sway import MEASURES
    except Exception:
        return name
    m = MEASURES.get(name)
    return m.label if m else name


def check_code(code) -> str:
    code = str(code or "").strip()
    if not _CODE_RE.match(code):
        raise RigError(f"athlete code {code!r}: use 1 to 40 letters, digits, '.', '_' or '-', starting with "
                       "a letter or digit (a code chosen by the clinician)")
    return code


def utc_now(t: float | None = None) -> str:
    t = time.time() if t is None else t
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int((t % 1) * 1000):03d}Z"


def _like_prefix(ref: str) -> str:
    return ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _nan(x):
    return math.nan if x is None else float(x)


def _real(v):
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"measure value {v!r} is not a number") from None
    return f if math.isfinite(f) else None


def _jsonable(x):
    from rig.store.calib import _jsonable as j

    return j(x)


def _dumps(x) -> str:
    return json.dumps(_jsonable(x), sort_keys=False, allow_nan=True)
