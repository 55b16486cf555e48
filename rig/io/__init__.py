"""Exports of recorded sessions, chosen by file suffix (like python-can's log writers).

``WRITERS`` maps a suffix to a writer ``fn(store, target, out, anonymize) -> [paths]``;
``export(store, ref, out)`` resolves ``ref`` (session id, ``latest`` or athlete code) and calls
the writer for ``out``'s suffix. Add a format by registering a writer here.

- ``.csv``: session: one row per sample (raw counts, cell forces, total force, COP) with a
  ``#`` header of metadata; athlete: one row per trial with its measures.
- ``.json``: measures, flags, metadata, baseline comparison (no samples).
- ``.c3d``: one trial's force and COP channels (ezc3d; the ``c3d`` extra).
- ``.zip``: everything of a session (or an athlete): JSON, CSV and one C3D per trial.

``anonymize`` drops everything personal but the athlete code, and every port, board id or
serial, host path, user and host name (rig.io.anonymize); ``dates`` keeps, shifts or drops
the dates. Every file is written owner-only (0600) through a temporary file that is removed on
any failure (rig.store.files).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from rig.errors import RigError  # noqa: F401  (re-exported for callers)
from rig.io.suffix import by_suffix


def __getattr__(name: str):
    # rig.io.data imports the store and the calibration: only exports need it, not the trace
    # reader (rig.io.traces), which ``rig analyze`` and its workers import (~65 ms less)
    if name in ("Target", "resolve_target"):
        from rig.io import data
        return getattr(data, name)
    raise AttributeError(f"module 'rig.io' has no attribute {name!r}")

Writer = Callable[..., list]


def _lazy(module: str, attr: str) -> Writer:
    def call(*args, **kwargs):
        import importlib

        return getattr(importlib.import_module(module), attr)(*args, **kwargs)
    call.__name__ = attr
    return call


WRITERS: dict[str, Writer] = {
    ".csv": _lazy("rig.io.csv_writer", "write_csv"),
    ".json": _lazy("rig.io.json_writer", "write_json"),
    ".c3d": _lazy("rig.io.c3d_writer", "write_c3d"),
    ".zip": _lazy("rig.io.zip_writer", "write_zip"),
}


def register(suffix: str, writer: Writer) -> None:
    WRITERS[suffix.lower()] = writer


def writer_for(out) -> Writer:
    return by_suffix(out, WRITERS, "export")


def export(store, ref: str, out, anonymize: bool = False, trial: int | None = None,
           dates: str = "keep") -> list[Path]:
    """Export session/athlete ``ref`` to ``out`` (format from its suffix); returns the files.

    ``dates`` ("keep", "shift", "drop") applies when anonymising (rig.io.anonymize)."""
    from rig.io.anonymize import Scrubber
    from rig.io.data import resolve_target
    from rig.store.files import check_path

    out = check_path(out)
    writer = writer_for(out)
    target = resolve_target(store, ref, trial)
    if anonymize or dates != "keep":
        anonymize = Scrubber([store.session(sid) for sid in target.sessions], store.root, dates)
    return writer(store, target, out, anonymize)


__all__ = ["WRITERS", "Target", "export", "register", "resolve_target", "writer_for"]
