"""The Store: athletes, sessions, trials and measures in SQLite, raw traces as files beside it.

Layout of the data directory (``rig.paths.data_dir()``)::

    rig.sqlite3                      the database (WAL mode; schema in rig.store.schema)
    traces/<session>/<trial>.npz     raw frames of each trial (atomic writes)
    journal/<trial>.rjl              trials being recorded (rig.store.journal); left behind by a crash
    journal/<trial>.rjl.reserve      space set aside while a trial records (freed on a full disk)
    journal/<session>.session        held locked (flock) by the process running that session
    journal/unreadable/              journals that are malformed or foreign (kept, never deleted)

Everything is created owner-only (0700 directories, 0600 files): it is health data.

``Store.open`` recovers every journal no live process is writing, and closes every session
left ``open`` by a process that died (killed while zeroing, weighing, resting, between
trials...): it becomes ``incomplete`` (``Store.recovered`` lists what was done). A malformed or
foreign journal is moved to ``journal/unreadable/`` and never stops another command. A data
directory that cannot be written (read-only medium, archive) is opened read-only: listing,
history, export and reports work; recording and recovery say it cannot. The API in docs/CONTRACTS.md is implemented exactly; the extra methods below serve the
``sessions``, ``history``, ``export`` and ``report`` commands.
"""
from __future__ import annotations

import errno
import json
import math
import os
import secrets
import shutil
import sqlite3
import threading
import time
import unicodedata
from pathlib import Path
from typing import Callable

import numpy as np

from rig import __version__
from rig.frames import FrameBatch
from rig.errors import FileFormatError, RigError
from rig.jsonable import jsonable
from rig.store.journal import (FRAME_DTYPE, RESERVE_BYTES, RESERVE_SUFFIX, SUFFIX, lock_for_recovery,
                               read_journal)
from rig.store.files import (CAN_LOCK, StorageError, describe, fsync_dir, lock_held, remove_quietly,
                             try_lock)
from rig.paths import PRIVATE_FILE_MODE, make_private_dir, open_private
from rig.engine.mdc import Mdc, compare, default_mdc
from rig.paths import data_dir as resolve_data_dir
from rig.store import conditions as cond
from rig.session.protocols import KEY_MEASURES
from rig.calibration.record import calibration_record
from rig.engine.aggregate import RULE_TEXT, counted, trial_means
from rig.store.recorder import TrialRecorder
from rig.store.schema import migrate

from rig.store.traces import read_trace, write_trace

DB_NAME = "rig.sqlite3"
SESSION_STATUSES = ("open", "complete", "incomplete")
LEASE_SUFFIX = ".session"
MAX_REF_CHARS = 200          # a session id or athlete code typed by a user; longer is refused
CODE_MAX = 40
#: Bytes on disk per frame: a filed trace (npz, measured about 30 B per frame) with headroom,
#: and while a trial records, its journal too (40 B records, 20 B block headers).
FILED_BYTES_PER_FRAME = 48
RECORDING_BYTES_PER_FRAME = FILED_BYTES_PER_FRAME + FRAME_DTYPE.itemsize + 12
SPACE_MARGIN_BYTES = 1 << 20   # database growth and room to spare


class Store:
    """Open with ``Store.open(data_dir)``; one instance may be shared by threads."""

    def __init__(self, root: Path, conn: sqlite3.Connection):
        self.root = root
        self._conn = conn
        self._lock = threading.RLock()
        self.recovered: list[dict] = []
        self.read_only = False
        self.read_only_reason: str | None = None
        self._leases: dict[str, int] = {}   # session id -> fd of its locked lease file

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def open(cls, data_dir=None, recover: bool = True, read_only: bool | None = None) -> "Store":
        """Open (creating if needed) the data directory.

        ``read_only``: None decides by itself: a directory that cannot be written (read-only
        medium, no permission) or whose disk is too full to open the database for writing is
        opened read-only (listing, history, export and reports work; ``read_only_reason``
        says why); True never writes (no recovery, no seeding)."""
        root = resolve_data_dir(data_dir, create=not read_only)
        db = root / DB_NAME
        reason = None
        if read_only is None and not _writable(root, db):
            read_only, reason = True, "the data directory is read-only"
        conn = None
        if not read_only:
            try:
                conn = _connect_rw(db)
            except sqlite3.DatabaseError as e:
                if read_only is not None or not db.exists() or "newer" in str(e):
                    raise RigError(f"data dir {root}: database {db} unusable: {_db_reason(e)}") from None
                read_only, reason = True, _full_or(root, _db_reason(e))
            except RigError:
                raise
            except OSError as e:
                if read_only is not None or not db.exists():
                    raise StorageError(f"data dir {root}: cannot open {db}: {describe(e)}") from None
                read_only, reason = True, _full_or(root, describe(e))
        if read_only:
            if not db.exists():
                raise RigError(f"data dir {root}: no database ({DB_NAME}) there, and it cannot "
                               f"be written ({reason or 'opened read-only'})")
            conn = _connect_ro(db, root)
        store = cls(root, conn)
        store.read_only = bool(read_only)
        store.read_only_reason = reason or ("opened read-only" if read_only else None)
        if not read_only:
            try:
                store._seed_mdc()
            except RigError:
                pass  # a full disk: the shipped MDC table is already there, or used directly
            if recover:
                store.recovered = store.recover()
        return store

    def close(self) -> None:
        with self._lock:
            for sid in list(self._leases):
                self._release_lease(sid)
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
        if self.read_only:
            raise StorageError(f"data dir {self.root} cannot be written ({self.read_only_reason}): "
                               "nothing can be recorded or changed there (listing, history, "
                               "export and reports work)")
        return _Transaction(self)

    def _q(self, sql: str, args=()) -> list[sqlite3.Row]:
        with self._lock:
            if self._conn is None:
                raise RigError("the store is closed")
            try:
                return self._conn.execute(sql, args).fetchall()
            except sqlite3.OperationalError as e:
                raise StorageError(f"data dir {self.root}: database read failed: {_db_reason(e)}") from None

    def check_writable(self) -> None:
        """Raise the one-line StorageError when nothing can be recorded here."""
        if self.read_only:
            self._tx()

    # -- space ---------------------------------------------------------------------------------
    def free_bytes(self) -> int:
        try:
            return shutil.disk_usage(self.root).free
        except OSError:
            return -1

    def check_space(self, need_bytes: float, what: str) -> None:
        """Refuse to start ``what`` when the data directory's disk has less than it needs."""
        free = self.free_bytes()
        need = int(need_bytes) + SPACE_MARGIN_BYTES
        if 0 <= free < need:
            raise StorageError(f"not enough space for {what} in {self.root}: {_mb(free)} free, "
                               f"about {_mb(need)} needed; free some space or use --data-dir")

    def estimate_trial_bytes(self, rate_hz: float, seconds: float) -> int:
        """Bytes a trial of ``seconds`` at ``rate_hz`` needs while recording and once filed."""
        return int(max(rate_hz, 1.0) * max(seconds, 0.0) * RECORDING_BYTES_PER_FRAME) + RESERVE_BYTES

    def estimate_session_bytes(self, protocol: dict, rate_hz: float) -> int:
        """A protocol's whole session: every trial (practice and one repeat in three), with
        lead-in, countdown and the margin for a trial that runs over."""
        total = 0.0
        for c in ((protocol or {}).get("params") or {}).get("conditions") or []:
            n = float(c.get("trials", 1) or 1) * 1.34 + float(c.get("practice_trials", 0) or 0)
            per = float(c.get("trial_duration_s", 30) or 30) + float(c.get("lead_in_s", 0) or 0) + 2.0
            total += n * per
        return int(max(rate_hz, 1.0) * total * FILED_BYTES_PER_FRAME) + RESERVE_BYTES

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
        code = normalise_code(code)
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
        everything needed to recompute forces later is stored; see rig.calibration.record)."""
        if not isinstance(calibration, dict):
            calibration = calibration_record(calibration)
        athlete = check_code(athlete)
        protocol, board = dict(protocol or {}), dict(board or {})
        try:
            rate = float(board.get("rate_hz") or 80.0)
        except (TypeError, ValueError):
            rate = 80.0
        self.check_space(self.estimate_session_bytes(protocol, rate), "this session")
        self.ensure_athlete(athlete)
        now = time.time()
        sid = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now)) + "-" + secrets.token_hex(2)
        self._take_lease(sid)
        with self._tx() as c:
            c.execute(
                "INSERT INTO sessions(id, athlete, started_utc, status, protocol_name, protocol_json,"
                " board_json, calibration_json, calibration_hash, firmware, meta_json, software)"
                " VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, athlete, utc_now(now), str(protocol.get("name", "")), _dumps(protocol),
                 _dumps(board), _dumps(calibration), str(calibration.get("hash", "")),
                 str(board.get("firmware", "")), _dumps(meta or {}), f"rig {__version__}"))
        return sid

    # -- session leases: a session is "open" only while its process lives ----------------------
    def _lease_path(self, sid: str) -> Path:
        return self.journal_dir / f"{sid}{LEASE_SUFFIX}"

    def _take_lease(self, sid: str) -> None:
        try:
            make_private_dir(self.journal_dir)
            fd = open_private(self._lease_path(sid), os.O_WRONLY | os.O_CREAT)
        except OSError as e:
            raise StorageError(f"data dir {self.root}: cannot start a session: {describe(e)}") from None
        if not try_lock(fd):  # a fresh session id: no other process can hold it
            os.close(fd)
            raise StorageError(f"data dir {self.root}: session {sid} is already held by another process")
        os.write(fd, f"{os.getpid()}\n".encode())
        self._leases[sid] = fd

    def _release_lease(self, sid: str) -> None:
        fd = self._leases.pop(sid, None)
        if fd is None:
            return
        remove_quietly(self._lease_path(sid))
        os.close(fd)

    def _lease_alive(self, sid: str) -> bool:
        if sid in self._leases:
            return True
        p = self._lease_path(sid)
        if not p.exists():
            return False
        if not CAN_LOCK:  # pragma: no cover - Windows: an open file cannot be deleted
            try:
                p.unlink()
                return False
            except PermissionError:
                return True
            except OSError:
                return False
        return lock_held(p)

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
        if status != "open":
            self._release_lease(sid)

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
        sid = self.resolve_session(sid)
        with self._tx() as c:
            c.execute("UPDATE sessions SET status = ?, finished_utc = COALESCE(finished_utc, ?)"
                      " WHERE id = ?", (status, utc_now(), sid))
        if status != "open":
            self._release_lease(sid)

    def has_session(self, sid: str) -> bool:
        return bool(self._q("SELECT 1 FROM sessions WHERE id = ?", (sid,)))

    def resolve_session(self, ref: str) -> str:
        """A session id from ``ref``: an id, a unique id prefix, or ``latest``."""
        ref = (ref or "").strip()
        if len(ref) > MAX_REF_CHARS:
            raise RigError(f"session {ref[:20]}... ({len(ref)} characters): no such session")
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
            args = (normalise_code(athlete),)
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
                    stats_source: Callable[[], dict] | None = None,
                    journal_options: dict | None = None) -> TrialRecorder:
        """Start recording a trial: a journal is created (and fsync'ed) before this returns.

        Refused (one line) when the disk has less free space than the trial needs (its
        duration from the session's protocol x the board's rate x bytes per frame).
        ``stats_source`` (optional, e.g. ``lambda: link.stats.as_dict()``) is polled every
        100 ms so a recovered trial also has the decoder statistics. ``journal_options``:
        passed to ``JournalWriter`` (tests inject failing writers)."""
        sid = self.resolve_session(sid)
        row = self._q("SELECT athlete, board_json, protocol_json FROM sessions WHERE id = ?", (sid,))[0]
        tid = f"{sid}-t{int(index):02d}-{secrets.token_hex(3)}"
        condition = dict(condition or {})
        self.check_space(self._trial_estimate(row, condition), "the next trial")
        return TrialRecorder(self, tid, sid, condition, int(index), bool(practice),
                             self.journal_dir / f"{tid}{SUFFIX}", stats_source,
                             extra_meta={"athlete": row["athlete"]}, journal_options=journal_options)

    def _trial_estimate(self, row, condition: dict) -> int:
        try:
            rate = float(json.loads(row["board_json"]).get("rate_hz") or 80.0)
            conds = (json.loads(row["protocol_json"]).get("params") or {}).get("conditions") or []
            c = next((c for c in conds if c.get("name") == condition.get("name")), {})
            seconds = float(c.get("trial_duration_s", 60) or 60) + float(c.get("lead_in_s", 0) or 0) + 5
        except (TypeError, ValueError, AttributeError):
            rate, seconds = 80.0, 65.0
        return self.estimate_trial_bytes(rate, seconds)

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
        athlete = normalise_code(athlete)
        rows = self._q("SELECT baseline FROM athletes WHERE code = ?", (athlete,))
        if rows and rows[0]["baseline"]:
            return rows[0]["baseline"]
        rows = self._q("SELECT id FROM sessions WHERE athlete = ? AND status = 'complete'"
                       " ORDER BY started_utc, rowid LIMIT 1", (athlete,))
        return rows[0]["id"] if rows else None

    def set_baseline(self, athlete: str, sid: str | None) -> None:
        """Mark ``sid`` as the athlete's baseline (None: back to the first complete session)."""
        athlete = normalise_code(athlete)
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

    def compare_with_baseline(self, sid: str, measures=KEY_MEASURES) -> dict | None:
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
        """Close what a dead process left open; never raises for one bad file.

        * every journal no live process is writing becomes an incomplete trial;
        * a malformed or foreign journal is moved to ``journal/unreadable/`` (never deleted);
        * every session still ``open`` whose process is gone (no live lease) becomes
          ``incomplete`` (``complete`` if its result was already stored);
        * reserve and lease files of dead processes are removed.

        Returns one dict per thing done: ``kind`` ("trial", "quarantined", "session"), and for
        trials trial_id, session_id, frames, last_t_s, dropped_bytes (``already_filed`` when
        the crash came after filing); for quarantined journals ``path``, ``moved_to``,
        ``error``; for sessions ``session_id``, ``status``, ``trials``."""
        if self.read_only:
            return []
        out: list[dict] = []
        jdir = self.journal_dir
        if jdir.is_dir():
            for path in sorted(jdir.glob(f"*{SUFFIX}")):
                fd = lock_for_recovery(path)
                if fd is None:
                    continue  # still being recorded by a live process, or already gone
                try:
                    if not path.exists():
                        continue
                    out.append(self._recover_or_quarantine(path))
                except RigError as e:
                    out.append({"kind": "failed", "path": str(path), "error": str(e),
                                "trial_id": None, "frames": 0})
                    break  # the disk or database refuses writes: the rest waits for next time
                except (sqlite3.Error, ValueError, TypeError, KeyError, OverflowError) as e:
                    out.append(self._quarantine(path, e))   # foreign content the database refuses
                finally:
                    os.close(fd)
                    self._drop_reserve(path)
            for reserve in jdir.glob(f"*{SUFFIX}{RESERVE_SUFFIX}"):
                self._drop_reserve(reserve.with_name(reserve.name[:-len(RESERVE_SUFFIX)]))
        try:
            out += self._close_dead_sessions()
        except RigError as e:
            out.append({"kind": "failed", "error": str(e), "trial_id": None, "frames": 0})
        return out

    def _drop_reserve(self, journal: Path) -> None:
        reserve = journal.with_name(journal.name + RESERVE_SUFFIX)
        if reserve.exists() and (not journal.exists() or lock_for_recovery_probe(journal)):
            remove_quietly(reserve)

    def _close_dead_sessions(self) -> list[dict]:
        out = []
        for r in self._q("SELECT id, summary_json FROM sessions WHERE status = 'open'"):
            sid = r["id"]
            if self._lease_alive(sid):
                continue
            status = "complete" if r["summary_json"] else "incomplete"
            n = self._q("SELECT COUNT(*) AS n FROM trials WHERE session = ?", (sid,))[0]["n"]
            with self._tx() as c:
                meta = json.loads(c.execute("SELECT meta_json FROM sessions WHERE id = ?",
                                            (sid,)).fetchone()["meta_json"] or "{}")
                meta["closed_by_recovery"] = (
                    f"{utc_now()}: the program running this session ended without closing it "
                    f"(killed, crashed or power lost) after {n} trial{'s' * (n != 1)}; "
                    f"closed as {status}")
                c.execute("UPDATE sessions SET status = ?, meta_json = ?, finished_utc ="
                          " COALESCE(finished_utc, ?) WHERE id = ? AND status = 'open'",
                          (status, _dumps(meta), utc_now(), sid))
            remove_quietly(self._lease_path(sid))
            out.append({"kind": "session", "session_id": sid, "status": status, "trials": n,
                        "trial_id": None, "frames": 0})
        return out

    def _recover_or_quarantine(self, path: Path) -> dict:
        try:
            j = read_journal(path)
            meta = j.meta
            tid, sid = meta.get("trial_id"), meta.get("session_id")
            if not isinstance(tid, str) or not tid or not isinstance(sid, str) or not sid:
                raise FileFormatError(f"journal {path.name}: header names no "
                                      f"{'trial' if not tid else 'session'} id")
            if not isinstance(meta.get("condition", {}), dict) or not isinstance(meta.get("index", 0), int):
                raise FileFormatError(f"journal {path.name}: header has a malformed condition or index")
        except (FileFormatError, ValueError, TypeError, KeyError, AttributeError, OSError) as e:
            return self._quarantine(path, e)
        return self._recover_one(path, j)

    def _quarantine(self, path: Path, e: BaseException) -> dict:
        bad = self.journal_dir / "unreadable"
        make_private_dir(bad)
        dest = bad / path.name
        k = 1
        while dest.exists():
            dest = bad / f"{path.stem}.{k}{path.suffix}"
            k += 1
        os.replace(path, dest)
        fsync_dir(path.parent)
        why = str(e) if isinstance(e, RigError) else f"{type(e).__name__}: {e}"
        return {"kind": "quarantined", "path": str(path), "moved_to": str(dest), "error": why,
                "trial_id": None, "frames": 0}

    def _recover_one(self, path: Path, j) -> dict:
        tid = str(j.meta["trial_id"])
        sid = str(j.meta["session_id"])
        info = {"kind": "trial", "path": str(path), "trial_id": tid, "session_id": sid,
                "frames": len(j.frames), "dropped_bytes": j.dropped_bytes,
                "last_t_s": float(j.frames.t_s[-1]) if len(j.frames) else None}
        if self._q("SELECT 1 FROM trials WHERE id = ?", (tid,)):
            info["already_filed"] = True  # the crash came after filing, before the unlink
        else:
            if not self._q("SELECT 1 FROM sessions WHERE id = ?", (sid,)):
                sid = info["session_id"] = self._orphan_session(j.meta, sid)
            notes = [str(n.get("text", "")) for n in j.notes if isinstance(n, dict)]
            failed = any(isinstance(n, dict) and n.get("journal_failed") for n in j.notes)
            last = f"{info['last_t_s']:.3f} s" if info["last_t_s"] is not None else "none"
            what = ("the journal could not be written (see below)" if failed else
                    "recording interrupted before the trial ended (program killed or crashed, "
                    "power lost, or board unplugged)")
            reasons = [f"{what}; recovered {len(j.frames)} frames from the journal, last at "
                       f"board time {last}"] + notes
            if j.dropped_bytes:
                reasons.append(f"{j.dropped_bytes} bytes of a torn or corrupt journal tail dropped")
            frames = j.frames
            window = (float(frames.t_s[0]), float(frames.t_s[-1])) if len(frames) else (None, None)
            condition = j.meta.get("condition") or {}
            self._file_trial(trial_id=tid, session_id=sid, condition=condition,
                             index=int(j.meta.get("index", 0)), practice=bool(j.meta.get("practice")),
                             status="incomplete", reasons=reasons, stats=j.stats if isinstance(j.stats, dict) else {},
                             window_s=window, measures={}, processing={}, frames=frames,
                             started_utc=str(j.meta.get("started_utc", utc_now())), recovered=True)
            if not self._lease_alive(sid):
                with self._tx() as c:
                    info["session_closed"] = c.execute(
                        "UPDATE sessions SET status = 'incomplete', finished_utc ="
                        " COALESCE(finished_utc, ?) WHERE id = ? AND status = 'open'",
                        (utc_now(), sid)).rowcount > 0
        path.unlink()
        fsync_dir(path.parent)
        return info

    def _orphan_session(self, meta: dict, sid: str) -> str:
        """A journal whose session row is missing (database replaced?): give it a session."""
        try:
            athlete = check_code(meta.get("athlete") or "unknown")
        except RigError:
            athlete = "unknown"
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
        try:
            self.store._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            self.store._lock.release()
            raise StorageError(f"data dir {self.store.root}: database write failed: "
                               f"{_db_reason(e)}") from None
        return self.store._conn

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                try:
                    self.store._conn.execute("COMMIT")
                    return False
                except sqlite3.OperationalError as e:
                    exc_type, exc = type(e), e
            try:
                self.store._conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            if isinstance(exc, sqlite3.OperationalError):
                raise StorageError(f"data dir {self.store.root}: database write failed: "
                                   f"{_db_reason(exc)}") from None
        finally:
            self.store._lock.release()
        return False


def condition_means(trials: list[dict]) -> list[dict]:
    """Per condition (side included): the mean of each measure over valid, non-practice trials.

    The one averaging rule, ``rig.engine.aggregate``: NaN values (undefined in a trial) are
    left out of that measure's mean."""
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
        valid = [t for t in ts if counted(t["status"], t["practice"])]
        agg = trial_means([t["measures"] for t in valid])
        c0 = ts[0]["condition"]
        out.append({"key": k, "task": cond.task_key(c0), "task_label": cond.task_label(c0),
                    "side": cond.side_label(c0), "condition": c0, "n_trials": len(ts),
                    "n_valid": len(valid), "measures": agg.means, "n_per_measure": agg.n,
                    "trial_sd": agg.sd, "rule": RULE_TEXT})
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


def normalise_code(code) -> str:
    """An athlete code as stored: Unicode NFC, surrounding white space removed."""
    return unicodedata.normalize("NFC", str(code if code is not None else "")).strip()


def check_code(code) -> str:
    """The normalised athlete code, or a one-line RigError: 1-40 characters, letters (any
    alphabet) and digits, and '.', '_', '-' inside; no spaces."""
    raw = str(code if code is not None else "")
    code = normalise_code(raw)
    ok = (0 < len(code) <= CODE_MAX and code[0].isalnum()
          and all(ch.isalnum() or ch in "._-" for ch in code))
    if not ok:
        shown = repr(code[:CODE_MAX]) + ("..." if len(code) > CODE_MAX else "")
        raise RigError(f"athlete code {shown}: use 1-{CODE_MAX} letters, digits, '.', '_' or '-' "
                       "(a code chosen by the clinician, not a name)")
    return code


def _connect_rw(db: Path) -> sqlite3.Connection:
    if not db.exists():
        os.close(open_private(db, os.O_WRONLY | os.O_CREAT))  # -wal and -shm inherit 0600
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False, timeout=10.0)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, str(db))
        return conn
    except BaseException:
        conn.close()
        raise


def _connect_ro(db: Path, root: Path) -> sqlite3.Connection:
    """Read-only: first normally (sees a WAL left by a crash), else immutable (no -shm file
    can be made in a read-only directory or on a full disk)."""
    last = None
    for query in ("mode=ro", "mode=ro&immutable=1"):
        try:
            conn = sqlite3.connect(f"{db.resolve().as_uri()}?{query}", uri=True,
                                   isolation_level=None, check_same_thread=False)
        except sqlite3.Error as e:
            last = e
            continue
        try:
            conn.row_factory = sqlite3.Row
            _check_version(conn, str(db))
            conn.execute("SELECT COUNT(*) FROM sessions").fetchone()
            return conn
        except sqlite3.DatabaseError as e:
            last = e
            conn.close()
    raise RigError(f"data dir {root}: database {db} unreadable: {_db_reason(last)}")


def _writable(root: Path, db: Path) -> bool:
    if not os.access(root, os.W_OK):
        return False
    return not db.exists() or os.access(db, os.W_OK)


def _check_version(conn, where: str) -> None:
    from rig.store.schema import SCHEMA_VERSION

    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found != SCHEMA_VERSION:
        raise RigError(f"{where}: database schema version {found}, this rig reads "
                       f"{SCHEMA_VERSION}; open it once where it can be written to upgrade it")


def _db_reason(e: BaseException) -> str:
    text = str(e)
    return {"database or disk is full": "the disk is full",
            "attempt to write a readonly database": "the data directory is read-only",
            "disk I/O error": "input/output error (failing or removed medium?)"}.get(text, text)


def _full_or(root: Path, reason: str) -> str:
    """SQLite reports a full disk as an I/O error when it cannot map its -shm file."""
    try:
        if shutil.disk_usage(root).free < (256 << 10):
            return "the disk is full"
    except OSError:
        pass
    return reason


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def lock_for_recovery_probe(journal: Path) -> bool:
    """True when no live process holds ``journal`` (its reserve may go)."""
    fd = lock_for_recovery(journal)
    if fd is None:
        return not journal.exists()
    os.close(fd)
    return True


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
    return jsonable(x)


def _dumps(x) -> str:
    return json.dumps(_jsonable(x), sort_keys=False, allow_nan=True)
