"""The SQLite schema and its migrations, versioned with ``PRAGMA user_version``.

Migration ``i`` takes a database from version ``i`` to ``i + 1``; they run in order inside one
transaction each, so an interrupted upgrade leaves the previous version intact. Never edit a
released migration: append a new one.

Values that are structured and only read back whole (protocol, board, calibration, condition,
statistics, processing, summary, flags) are JSON text; what is queried or aggregated (athlete,
dates, status, measure values) has its own column.
"""
from __future__ import annotations

import sqlite3

from rig.errors import RigError

MIGRATIONS: list[str] = [
    # v0 -> v1
    """
    CREATE TABLE athletes (
        code          TEXT PRIMARY KEY,           -- chosen by the clinician, e.g. "A17"
        details_json  TEXT NOT NULL DEFAULT '{}', -- optional personal details (name, ...)
        baseline      TEXT,                       -- session id marked as baseline, or NULL
        created_utc   TEXT NOT NULL
    );
    CREATE TABLE sessions (
        id               TEXT PRIMARY KEY,
        athlete          TEXT NOT NULL REFERENCES athletes(code),
        started_utc      TEXT NOT NULL,
        finished_utc     TEXT,
        status           TEXT NOT NULL,           -- open | complete | incomplete
        protocol_name    TEXT NOT NULL DEFAULT '',
        protocol_json    TEXT NOT NULL,
        board_json       TEXT NOT NULL,
        calibration_json TEXT NOT NULL,
        calibration_hash TEXT NOT NULL DEFAULT '',
        firmware         TEXT NOT NULL DEFAULT '',
        meta_json        TEXT NOT NULL DEFAULT '{}',
        summary_json     TEXT,
        flags_json       TEXT,
        software         TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX sessions_athlete ON sessions(athlete, started_utc);
    CREATE TABLE trials (
        id              TEXT PRIMARY KEY,
        session         TEXT NOT NULL REFERENCES sessions(id),
        idx             INTEGER NOT NULL,
        practice        INTEGER NOT NULL DEFAULT 0,
        condition_json  TEXT NOT NULL,
        condition_key   TEXT NOT NULL,
        side            TEXT NOT NULL DEFAULT '',
        status          TEXT NOT NULL,            -- valid | invalid | incomplete
        reasons_json    TEXT NOT NULL DEFAULT '[]',
        stats_json      TEXT NOT NULL DEFAULT '{}',
        window_start_s  REAL,
        window_end_s    REAL,
        processing_json TEXT NOT NULL DEFAULT '{}',
        trace_path      TEXT NOT NULL,            -- relative to the data directory
        n_frames        INTEGER NOT NULL,
        started_utc     TEXT NOT NULL,
        finished_utc    TEXT NOT NULL,
        recovered       INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX trials_session ON trials(session, idx);
    CREATE TABLE measures (
        trial  TEXT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
        name   TEXT NOT NULL,
        value  REAL,                               -- NULL for NaN (undefined)
        PRIMARY KEY (trial, name)
    );
    CREATE TABLE mdc (
        measure  TEXT PRIMARY KEY,
        value    REAL NOT NULL,
        kind     TEXT NOT NULL,                    -- absolute (measure's unit) | percent
        unit     TEXT NOT NULL DEFAULT '',
        source   TEXT NOT NULL,
        origin   TEXT NOT NULL DEFAULT 'default'   -- default (shipped) | site (set locally)
    );
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, where: str) -> int:
    """Bring the database to SCHEMA_VERSION; returns the version found before."""
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise RigError(
            f"{where}: database schema version {found} is newer than this rig understands "
            f"({SCHEMA_VERSION}); upgrade rig"
        )
    for version in range(found, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return found


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (executescript would commit on its own)."""
    out, buf = [], []
    for line in script.splitlines():
        line = line.split("--", 1)[0].rstrip()
        if not line.strip():
            continue
        buf.append(line)
        if line.endswith(";"):
            out.append("\n".join(buf))
            buf = []
    if buf:
        out.append("\n".join(buf))
    return out
