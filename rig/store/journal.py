"""Crash-safe, append-only journal of one trial's raw frames (what a crash must not lose).

While a trial records, every ``FrameBatch`` the link delivers is appended here at once, so
the data survives the program being killed, the machine losing power, or the board being
unplugged; ``rig recover`` (and the next ``Store.open``) turn a journal left behind into a
trial marked incomplete.

File format (``<trial id>.rjl``, little-endian):

* Line 1: a JSON object ending in ``\\n``: ``{"format": "rig-journal", "version": 1, ...}``
  with the trial's metadata (session, condition, index, start time, writer pid). It is written
  and fsync'ed before the first frame.
* Then blocks: a 20-byte header ``magic b"RJB1", kind u8, 3 pad bytes, count u32, length u32,
  crc32 u32`` followed by ``length`` payload bytes. The CRC-32 (zlib) covers the first 16
  header bytes and the payload, so a torn or garbled tail is detected; reading stops at the
  first bad block and drops it and everything after it.
* Kinds: ``FRAMES2`` (``count`` fixed-size 48-byte records, ``FRAME_DTYPE``: the frame with its
  wire v2 per-cell ages, so stored trials can be aligned as they were live), ``FRAMES`` (the
  40-byte records without ages, ``FRAME_V1_DTYPE``; still read), ``STATS``
  (decoder statistics as JSON; the last one wins), ``NOTE`` (a JSON event, e.g. the board
  was unplugged).

Durability guarantee (what is promised, and why it is cheap):

* ``append`` writes the batch to the file with one ``os.write`` before returning (a few
  microseconds; batches arrive every few ms). From then on the frames survive the *process*
  dying in any way (exception, ``kill -9``, board unplugged): they are in the kernel.
* A background thread calls ``fdatasync`` every ``sync_interval_s`` (0.1 s) while there is
  new data, so a *power loss or kernel crash* loses at most the last ~100 ms of frames
  (assuming the drive honours flush requests, as every journaling file system assumes).
* Finished trials are written as a new file (temporary name, fsync, rename, fsync of the
  directory) and only then is the journal removed: a crash at any point leaves either the
  journal or the finished file.

Failing loudly (a full disk, an I/O error, a removed medium): each writer keeps a small
*reserve* file beside its journal (``<trial>.rjl.reserve``, ``RESERVE_BYTES``). When a write
fails with "no space left", the reserve is deleted and the write retried once, so the batch that
hit the full disk, a note saying so, and the database update closing the session still fit. Any
write failure is final: ``error`` is set, ``on_error`` is called once, and nothing more is
written (no frame after the failure is claimed as kept). Files are created owner-only (0600).

The writer holds an exclusive ``flock`` on its journal, so recovery in another process (or a
second ``Store.open``) never takes over a journal that is still being written. The lock dies
with the process, however it dies.
"""
from __future__ import annotations

import errno
import json
import os
import struct
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from rig.frames import FrameBatch
from rig.errors import FileFormatError, RigError
from rig.paths import make_private_dir
from rig.store.files import CAN_LOCK, fsync_dir, lock_held, remove_quietly, try_lock
from rig.utc import utc_now_iso

FORMAT = "rig-journal"
VERSION = 1
SUFFIX = ".rjl"
SYNC_INTERVAL_S = 0.1
RESERVE_SUFFIX = ".reserve"
RESERVE_BYTES = 256 << 10   # freed when the disk fills mid-trial (see the module docstring)
FILE_MODE = 0o600           # health data: owner-only
DIR_MODE = 0o700

#: One frame on disk before cell ages were kept: 40 bytes, no padding, little-endian.
FRAME_V1_DTYPE = np.dtype([
    ("seq", "<u2"), ("t_us", "<u4"), ("t_s", "<f8"), ("host_t_s", "<f8"),
    ("raw", "<i4", (4,)), ("status", "<u2"),
])
assert FRAME_V1_DTYPE.itemsize == 40
#: One frame on disk: the same plus the four cells' ages (u16 us, wire format v2): 48 bytes.
FRAME_DTYPE = np.dtype(FRAME_V1_DTYPE.descr + [("age_us", "<u2", (4,))])
assert FRAME_DTYPE.itemsize == 48

BLOCK_MAGIC = b"RJB1"
_HEAD = struct.Struct("<4sB3xII")   # magic, kind, count, payload length: 16 bytes
_CRC = struct.Struct("<I")
HEADER_SIZE = _HEAD.size + _CRC.size
KIND_FRAMES, KIND_STATS, KIND_NOTE, KIND_FRAMES2 = 1, 2, 3, 4
MAX_PAYLOAD = 64 << 20  # a sane bound: a larger length field means a garbled header


def frames_to_records(batch: FrameBatch) -> np.ndarray:
    """A FrameBatch as a structured array of FRAME_DTYPE records (vectorised)."""
    rec = np.empty(len(batch), FRAME_DTYPE)
    for name in FrameBatch.array_fields():
        rec[name] = getattr(batch, name)
    return rec


def records_to_frames(rec: np.ndarray) -> FrameBatch:
    """Structured FRAME_DTYPE (or FRAME_V1_DTYPE: ages unknown) records back to a FrameBatch."""
    ages = np.ascontiguousarray(rec["age_us"], dtype=np.uint16) if "age_us" in rec.dtype.names else None
    return FrameBatch(
        rec["seq"].astype(np.uint16), rec["t_us"].astype(np.uint32),
        rec["t_s"].astype(np.float64), rec["host_t_s"].astype(np.float64),
        np.ascontiguousarray(rec["raw"], dtype=np.int32), rec["status"].astype(np.uint16), ages,
    )


def encode_block(kind: int, payload: bytes, count: int = 0) -> bytes:
    head = _HEAD.pack(BLOCK_MAGIC, kind, count, len(payload))
    crc = zlib.crc32(payload, zlib.crc32(head))
    return head + _CRC.pack(crc) + payload


def _datasync(fd: int) -> None:
    (getattr(os, "fdatasync", None) or os.fsync)(fd)


class JournalWriter:
    """Appends frames, statistics and notes to one journal file; thread-safe.

    ``append_frames`` is meant to be called from the link's reader thread: one small write,
    no allocation beyond the record array, no fsync on the caller's thread.
    """

    def __init__(self, path: Path, meta: dict, sync_interval_s: float = SYNC_INTERVAL_S,
                 stats_source: Callable[[], dict] | None = None,
                 on_error: Callable[["JournalError"], None] | None = None,
                 reserve_bytes: int = RESERVE_BYTES, write_fn: Callable | None = None):
        self.path = Path(path)
        self.sync_interval_s = sync_interval_s
        self.stats_source = stats_source
        self.on_error = on_error
        self.frames_written = 0
        self.last_t_s: float | None = None      # board time of the last frame journaled
        self.first_t_s: float | None = None
        self.error: JournalError | None = None
        self._lock = threading.Lock()
        self._dirty = False
        self._last_stats: dict | None = None
        self._write_fn = write_fn or os.write     # tests inject a failing writer here
        self.reserve_path = self.path.with_name(self.path.name + RESERVE_SUFFIX)
        header = {"format": FORMAT, "version": VERSION, "pid": os.getpid(),
                  "frame_dtype": "seq u2, t_us u4, t_s f8, host_t_s f8, raw i4x4, status u2 (<, 40 B)",
                  **meta}
        self._fd = -1
        try:
            make_private_dir(self.path.parent)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND
                               | getattr(os, "O_BINARY", 0), FILE_MODE)
            if not try_lock(self._fd):  # O_EXCL made the file: no other process can hold it
                raise OSError(errno.EAGAIN, "the journal is locked by another process")
            _write_all(os.write, self._fd, json.dumps(header, sort_keys=True).encode("utf-8") + b"\n")
            os.fsync(self._fd)
            _make_reserve(self.reserve_path, reserve_bytes)
            fsync_dir(self.path.parent)
        except OSError as e:
            self._discard()
            raise RigError(f"cannot start the trial's journal in {self.path.parent}: "
                           f"{e.strerror or e}; nothing was recorded") from None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._syncer, name=f"rig-journal {self.path.name}",
                                        daemon=True)
        self._thread.start()

    # -- appending ---------------------------------------------------------------------------
    def append_stats(self, stats: dict) -> None:
        self._last_stats = dict(stats)
        self._write(encode_block(KIND_STATS, json.dumps(stats, sort_keys=True).encode("utf-8")))

    def append_note(self, text: str, **fields) -> None:
        note = {"utc": utc_now_iso(), "text": text, **fields}
        self._write(encode_block(KIND_NOTE, json.dumps(note, sort_keys=True).encode("utf-8")))

    def fail(self, e: OSError) -> None:
        """Record an outside failure (e.g. an I/O error found by fsync) as the journal's."""
        with self._lock:
            if self.error is not None:
                return
            err = self.error = JournalError(self.path, e, self.frames_written, self.first_t_s,
                                            self.last_t_s)
        if self.on_error is not None:
            try:
                self.on_error(err)
            except Exception:  # noqa: BLE001
                pass

    def _discard(self) -> None:
        """Undo a half-made start (nothing recorded yet): close and remove what was created."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        for p in (self.path, self.reserve_path):
            remove_quietly(p)

    def append_frames(self, batch: FrameBatch) -> bool:
        """Journal a batch; True once it is in the kernel (survives the process dying), False
        if it could not be written. After any failure nothing more is ever written."""
        if not len(batch):
            return self.error is None
        rec = frames_to_records(batch)
        return self._write(encode_block(KIND_FRAMES2, rec.tobytes(), len(rec)), rec)

    def _write(self, block: bytes, rec: np.ndarray | None = None) -> bool:
        """Append one block. On "no space left" the reserve is released so this block and a
        note still fit, and the journal then stops (the trial must stop: the disk is full)."""
        err = None
        with self._lock:
            if self._fd < 0 or self.error is not None:
                return False
            done, e = _write_some(self._write_fn, self._fd, block)
            kept = e is None
            if e is not None and e.errno in (errno.ENOSPC, errno.EDQUOT) and self._release_reserve():
                more, e2 = _write_some(self._write_fn, self._fd, memoryview(block)[done:])
                kept = e2 is None  # O_APPEND + flock: the file ends where the short write stopped
            if kept:
                self._dirty = True
                if rec is not None:
                    self.frames_written += len(rec)
                    if self.first_t_s is None:
                        self.first_t_s = float(rec["t_s"][0])
                    self.last_t_s = float(rec["t_s"][-1])
            if e is not None:
                # Never raise into the link's reader thread: remember it, tell the owner once.
                err = self.error = JournalError(self.path, e, self.frames_written,
                                                self.first_t_s, self.last_t_s)
                if kept:  # there is room for a note saying why the journal ends here
                    note = {"utc": utc_now_iso(), "text": err.trial_reason().replace(
                        "kept in this trial", "kept in this journal"), "journal_failed": True}
                    _write_some(self._write_fn, self._fd,
                                encode_block(KIND_NOTE, json.dumps(note, sort_keys=True).encode("utf-8")))
        if err is not None and self.on_error is not None:
            try:
                self.on_error(err)
            except Exception:  # noqa: BLE001 - a callback must not kill the reader thread
                pass
        return kept

    def _release_reserve(self) -> bool:
        try:
            self.reserve_path.unlink()
            return True
        except OSError:
            return False

    # -- durability --------------------------------------------------------------------------
    def sync(self) -> None:
        """Make everything appended so far durable on disk now."""
        with self._lock:
            if self._fd < 0 or not self._dirty:
                return
            self._dirty = False
            fd = self._fd
        try:
            _datasync(fd)
        except OSError as e:
            self.fail(e)

    def _syncer(self) -> None:
        while not self._stop.wait(self.sync_interval_s):
            if self.stats_source is not None:
                try:
                    stats = dict(self.stats_source())
                except Exception:  # a stats callback must never stop the journal
                    stats = None
                if stats is not None and stats != self._last_stats:
                    self.append_stats(stats)
            self.sync()

    def stop(self) -> None:
        """Stop the sync thread and make everything durable; the file stays open and locked."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        self.sync()

    def close(self, remove: bool = False) -> None:
        """Stop, sync and close; ``remove`` deletes the file first (the trial is filed).

        The file is unlinked while still locked, so no recovery elsewhere can take it over.
        """
        self.stop()
        self._release_reserve()
        if remove:
            try:
                self.path.unlink()
                fsync_dir(self.path.parent)
            except OSError:
                pass
        with self._lock:
            fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)  # also releases the flock


class JournalError(RigError):
    """The journal could not be written (disk full, I/O error, medium removed): the trial stops.

    Says how much was kept and where: every frame journaled before the failure."""

    def __init__(self, path: Path, error: OSError, frames: int, first_t_s=None, last_t_s=None):
        self.path, self.oserror, self.frames = Path(path), error, frames
        self.first_t_s, self.last_t_s = first_t_s, last_t_s
        self.reason = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
                       errno.EIO: "input/output error (failing or removed medium?)",
                       errno.EROFS: "the file system became read-only",
                       errno.EFBIG: "the file size limit was reached"}.get(
            getattr(error, "errno", None), getattr(error, "strerror", None) or str(error))
        super().__init__(self.message(f"kept in {self.path}"))

    def trial_reason(self) -> str:
        """The same, for the trial's own reasons: no host path in it (exports, reports)."""
        return self.message("kept in this trial").replace(
            f"cannot write to {self.path.parent}", "cannot write to the data directory")

    def message(self, where: str) -> str:
        """The one line, with the frames kept ``where`` (the journal, or the filed trial)."""
        span = (f" (board time {self.first_t_s:.2f} to {self.last_t_s:.2f} s)"
                if self.first_t_s is not None and self.last_t_s is not None else "")
        return (f"recording stopped: cannot write to {self.path.parent} ({self.reason}); "
                f"the {self.frames} frames received before{span} are {where}")


def _write_some(write, fd: int, data) -> tuple[int, OSError | None]:
    """Write ``data``, continuing short writes; (bytes written, the error that stopped it)."""
    view = memoryview(data)
    done = 0
    while done < len(view):
        try:
            n = write(fd, view[done:])
        except OSError as e:
            return done, e
        if n <= 0:
            return done, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        done += n
    return done, None


def _write_all(write, fd: int, data) -> None:
    _, err = _write_some(write, fd, data)
    if err is not None:
        raise err


def _make_reserve(path: Path, size: int) -> None:
    if size <= 0:
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        if hasattr(os, "posix_fallocate"):
            try:
                os.posix_fallocate(fd, 0, size)
                return
            except OSError as e:
                if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL, getattr(errno, "ENOTSUP", 95)):
                    raise
        _write_all(os.write, fd, b"\0" * size)
    except OSError:
        os.close(fd)
        fd = -1
        remove_quietly(path)
        raise
    finally:
        if fd >= 0:
            os.close(fd)


@dataclass
class JournalContents:
    """What a journal holds, after dropping a torn or corrupt tail."""

    path: Path
    meta: dict
    frames: FrameBatch
    stats: dict | None = None
    notes: list[dict] = field(default_factory=list)
    blocks: int = 0
    dropped_bytes: int = 0      # bytes after the last good block (torn write, garbage)


def read_journal(path) -> JournalContents:
    """Read a journal; raises FileFormatError only when its header line is unreadable."""
    path = Path(path)
    data = path.read_bytes()
    nl = data.find(b"\n")
    try:
        if nl < 0:
            raise ValueError("no header line")
        meta = json.loads(data[:nl].decode("utf-8"))
        if not isinstance(meta, dict):
            raise ValueError(f"the header is a JSON {type(meta).__name__}, not an object")
        if meta.get("format") != FORMAT:
            raise ValueError(f"format is {meta.get('format')!r}, expected {FORMAT!r}")
        if not isinstance(meta.get("version", 0), int) or meta.get("version", 0) > VERSION:
            raise ValueError(f"version {meta.get('version')} is newer than this rig's {VERSION}")
    except (ValueError, UnicodeDecodeError) as e:
        raise FileFormatError(f"journal {path}: header line unreadable: {e}") from None
    pos = nl + 1
    parts: list[np.ndarray] = []
    stats = None
    notes: list[dict] = []
    blocks = 0
    end = len(data)
    while pos + HEADER_SIZE <= end:
        magic, kind, count, length = _HEAD.unpack_from(data, pos)
        if magic != BLOCK_MAGIC or length > MAX_PAYLOAD or pos + HEADER_SIZE + length > end:
            break
        (crc,) = _CRC.unpack_from(data, pos + _HEAD.size)
        payload = data[pos + HEADER_SIZE: pos + HEADER_SIZE + length]
        if zlib.crc32(payload, zlib.crc32(data[pos:pos + _HEAD.size])) != crc:
            break
        if kind in (KIND_FRAMES, KIND_FRAMES2):
            dtype = FRAME_DTYPE if kind == KIND_FRAMES2 else FRAME_V1_DTYPE
            if length != count * dtype.itemsize:
                break
            part = np.frombuffer(payload, dtype)
            if dtype is FRAME_V1_DTYPE:   # frames journaled before ages were kept: unknown
                full = np.zeros(len(part), FRAME_DTYPE)
                for name in FRAME_V1_DTYPE.names:
                    full[name] = part[name]
                full["age_us"] = 0xFFFF
                part = full
            parts.append(part)
        elif kind in (KIND_STATS, KIND_NOTE):
            try:
                obj = json.loads(payload)
            except (ValueError, UnicodeDecodeError):
                obj = None          # a garbled note never costs the frames
            if isinstance(obj, dict):
                if kind == KIND_STATS:
                    stats = obj
                else:
                    notes.append(obj)
        blocks += 1
        pos += HEADER_SIZE + length
    rec = np.concatenate(parts) if parts else np.zeros(0, FRAME_DTYPE)
    return JournalContents(path, meta, records_to_frames(rec), stats, notes, blocks, end - pos)


def lock_for_recovery(path) -> int | None:
    """Open and exclusively lock a journal left behind; None if a live writer holds it (or it
    is gone). Close the returned fd (``os.close``) to release it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    if CAN_LOCK:
        if not try_lock(fd):
            os.close(fd)
            return None
    elif is_locked(path):  # pragma: no cover - Windows
        os.close(fd)
        return None
    return fd


def is_locked(path) -> bool:
    """True when a live process still writes this journal (holds its lock)."""
    if CAN_LOCK:
        return lock_held(path)
    try:  # pragma: no cover - Windows: fall back on the writer's pid
        with open(path, "rb") as f:
            pid = int(json.loads(f.readline()).get("pid", -1))
        if pid == os.getpid():
            return True
        os.kill(pid, 0)
        return True
    except (OSError, ValueError):
        return False
