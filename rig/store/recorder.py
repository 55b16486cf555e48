"""TrialRecorder: one trial being recorded. Journals every frame; ``finish`` files the trial.

Typical use (docs/CONTRACTS.md)::

    rec = store.begin_trial(sid, condition, index, stats_source=lambda: link.stats.as_dict())
    rec.attach(link, since=first_index, seed=frames_already_taken)   # journals in the reader thread
    while recording:
        rec.check()            # raises JournalError at once if the journal could not be written
        ...
    tid = rec.finish("valid", [], link.stats.as_dict(), (t0, t1), measures, processing)

``attach`` makes the journal the first thing that happens to every frame: the link's reader
thread hands each decoded batch to the recorder before anything else sees it through the
recorder (``add_listener``). ``link.add_listener(rec.append)`` by hand works too.

A write failure (disk full, I/O error, medium removed) stops journaling at once; ``check``
raises it as one line saying how many frames were kept and where, and ``finish`` files only the
frames that reached the journal (nothing after the failure is claimed).

If the board vanishes mid-trial, ``rec.abort(str(link.error))`` keeps the frames as an
incomplete trial with that message. Used as a context manager, an exception that escapes the
block does the same. If the process dies, the journal on disk is recovered later.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from rig.frames import FrameBatch
from rig.errors import RigError
from rig.store.journal import JournalWriter
from rig.utc import utc_now_iso

if TYPE_CHECKING:  # pragma: no cover
    from rig.store.core import Store

STATUSES = ("valid", "invalid", "incomplete")


class TrialRecorder:
    def __init__(self, store: "Store", trial_id: str, session_id: str, condition: dict, index: int,
                 practice: bool, journal_path: Path, stats_source: Callable[[], dict] | None = None,
                 extra_meta: dict | None = None, journal_options: dict | None = None):
        self.store = store
        self.id = trial_id
        self.session_id = session_id
        self.condition = condition
        self.index = index
        self.practice = practice
        self.started_utc = utc_now_iso()
        self.finished = False
        self.trial_id: str | None = None
        self._parts: list[FrameBatch] = []
        self._lock = threading.Lock()
        self._link = None
        self._join_t_s: float | None = None   # while attaching: frames up to here are journaled
        self.journal = JournalWriter(journal_path, {
            "trial_id": trial_id, "session_id": session_id, "condition": condition,
            "index": index, "practice": practice, "started_utc": self.started_utc,
            **(extra_meta or {}),
        }, stats_source=stats_source, **(journal_options or {}))

    # -- called from the link's reader thread -----------------------------------------------
    def append(self, batch: FrameBatch) -> None:
        """Journal a batch (in the kernel before this returns); keep it in memory too.

        Frames arriving after ``finish``/``abort``, or after the journal failed, are not kept."""
        if self.finished or not len(batch):
            return
        with self._lock:
            if self.finished:
                return
            if self._join_t_s is not None:
                # joining the link's stream: a batch may overlap what the seed already held
                fresh = batch.t_s > self._join_t_s
                if fresh.all():
                    self._join_t_s = None
                else:
                    batch = batch[fresh]
                    if not len(batch):
                        return
            if self.journal.append_frames(batch):
                self._parts.append(batch)

    def attach(self, link, since: int | None = None, seed: FrameBatch | None = None) -> None:
        """Journal every frame ``link`` delivers from now on, in its reader thread.

        ``seed``: frames the caller already took from the link that belong to the trial;
        ``since``: the link's frame index the caller has read up to; frames the link received
        since then, and not yet delivered, are journaled too (nothing between is lost, nothing
        journaled twice)."""
        with self._lock:
            link.add_listener(self.append)
            self._link = link
            parts = [seed] if seed is not None and len(seed) else []
            if since is not None:
                pending, _ = link.frames(since)
                if len(pending):
                    parts.append(pending)
            first = FrameBatch.concat(parts) if parts else None
            if first is not None and len(first):
                if self.journal.append_frames(first):
                    self._parts.append(first)
                self._join_t_s = float(first.t_s[-1])

    def detach(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            link.remove_listener(self.append)

    @property
    def error(self):
        """The journal's failure (a JournalError: one line, what was kept and where), or None."""
        return self.journal.error

    def check(self) -> None:
        """Raise the journal's failure, if any: the trial must stop at once."""
        if self.journal.error is not None:
            raise self.journal.error

    # -- optional extras ---------------------------------------------------------------------
    def note(self, text: str) -> None:
        """Journal an event (e.g. "board unplugged"); recovered trials list it as a reason."""
        self.journal.append_note(text)

    def set_stats(self, stats: dict) -> None:
        """Journal the decoder statistics now (``stats_source`` does it every 100 ms)."""
        self.journal.append_stats(stats)

    @property
    def frames(self) -> FrameBatch:
        with self._lock:
            parts = list(self._parts)
        return FrameBatch.concat(parts)

    @property
    def frame_count(self) -> int:
        return self.journal.frames_written

    # -- ending ------------------------------------------------------------------------------
    def finish(self, status: str, reasons: list[str], stats: dict, window_s: tuple[float, float],
               measures: dict[str, float], processing: dict) -> str:
        """File the trial: trace written atomically, row and measures committed, journal removed.

        status: "valid" | "invalid" | "incomplete"; reasons: why (plain words); stats: decoder
        statistics; window_s: (start, end) board time in s of the analysed window; measures:
        name -> value (units in the names); processing: filter/resampling options used.
        Returns the trial id. If filing fails (disk full), the journal is kept for ``rig recover``.
        """
        if status not in STATUSES:
            raise ValueError(f"trial status must be one of {STATUSES}, got {status!r}")
        self.detach()
        with self._lock:
            if self.finished:
                raise RuntimeError(f"trial {self.id} already finished")
            self.finished = True
            frames = FrameBatch.concat(self._parts)
        if stats:
            self.journal.append_stats(stats)
        self.journal.stop()  # durable, still locked: no recovery can race the filing below
        reasons = list(reasons or [])
        if self.journal.error is not None:
            # only what reached the journal is kept (and filed): say where it stopped
            status, measures = "incomplete", {}
            full = str(self.journal.error)   # names the journal's host path: not in the trial
            reasons = [r for r in reasons if full not in r] + [
                self.journal.error.trial_reason()]
        try:
            self.trial_id = self.store._file_trial(
                trial_id=self.id, session_id=self.session_id, condition=self.condition,
                index=self.index, practice=self.practice, status=status, reasons=reasons,
                stats=dict(stats or {}), window_s=window_s, measures=dict(measures or {}),
                processing=dict(processing or {}), frames=frames, started_utc=self.started_utc,
                recovered=False)
        except (OSError, RigError) as e:
            self.journal.close()
            why = getattr(e, "strerror", None) or str(e)
            raise RigError(f"trial {self.id}: {len(frames)} frames kept in the journal "
                           f"{self.journal.path} but not filed ({why}): make room, then run "
                           "`rig recover`") from None
        self.journal.close(remove=True)
        return self.trial_id

    def abort(self, reason: str, stats: dict | None = None) -> str:
        """Keep what was recorded as an incomplete trial, with ``reason`` (e.g. the link error)."""
        self.detach()
        frames = self.frames
        window = (float(frames.t_s[0]), float(frames.t_s[-1])) if len(frames) else (float("nan"),) * 2
        return self.finish("incomplete", [reason], stats or {}, window, {}, {})

    def __enter__(self) -> "TrialRecorder":
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self.finished and exc_type is not None:
            what = str(exc) if isinstance(exc, RigError) else f"{exc_type.__name__}: {exc}"
            if exc_type is KeyboardInterrupt:
                what = "interrupted by the operator (Ctrl-C)"
            self.abort(f"recording stopped: {what}")
        return False


def stop_message(error: BaseException, rec: "TrialRecorder | None", trial_id: str | None,
                 problem: BaseException | None) -> RigError | None:
    """The one line to show when a recording stops on ``error`` (None: ``error`` says it all).

    ``rec``: the trial being recorded (or None), ``trial_id``: what ``rec.abort`` filed (None
    if filing failed), ``problem``: why keeping the trial or closing the session failed."""
    from rig.store.files import StorageError

    jerr = rec.error if rec is not None else None
    if jerr is not None:
        where = (f"filed as incomplete trial {trial_id}" if trial_id else
                 f"kept in the journal {rec.journal.path}; make room, then run `rig recover`")
        return StorageError(jerr.message(where))
    if problem is not None:
        why = "stopped by the operator (Ctrl-C)" if isinstance(error, KeyboardInterrupt) else str(error)
        return StorageError(f"{why}; then: {problem}")
    return None




def window_of(frames: FrameBatch) -> tuple[float, float]:
    if not len(frames):
        return (float("nan"), float("nan"))
    return (float(np.min(frames.t_s)), float(np.max(frames.t_s)))
