"""Writing files so that a failure leaves nothing behind and says one line.

``atomic_output(path)`` yields a temporary path beside ``path``; when the block ends normally the
file is made owner-only (0600), fsync'ed and renamed over ``path`` (then the directory is
fsync'ed); when anything fails (a full disk, a read-only file system, an exception of the
writer) the temporary file is removed and an ``OSError`` becomes one ``RigError`` line naming
the file. ``atomic_write_bytes`` is the same for bytes in memory. Used by traces, exports and
reports: a crash leaves either the old file or the whole new one, never a ``.tmp`` filling a disk
(a ``kill -9`` between write and rename can leave one: ``.<name>.<pid>.tmp*``, harmless).

``try_lock(fd)`` and ``lock_held(path)`` are the one way the store takes and probes the
advisory lock that marks a file as owned by a live process (journals, session leases): the
kernel drops the lock when its holder dies, so a held lock means a live owner.
"""
from __future__ import annotations

import errno
import os
from contextlib import contextmanager
from pathlib import Path

from rig.errors import RigError
from rig.paths import PRIVATE_FILE_MODE, make_private_dir, open_private

try:  # POSIX advisory locks (flock)
    import fcntl
except ImportError:  # pragma: no cover - Windows: callers fall back on their own rule
    fcntl = None

#: False where there is no flock (Windows): ``try_lock`` then always succeeds and callers that
#: must know whether another process owns a file use their own fallback.
CAN_LOCK = fcntl is not None

MAX_PATH_CHARS = 4000


class StorageError(RigError):
    """A file could not be written (full disk, read-only file system, no permission...)."""


def describe(e: OSError) -> str:
    return {errno.ENOSPC: "no space left on the disk", errno.EDQUOT: "disk quota exceeded",
            errno.EROFS: "read-only file system", errno.EACCES: "permission denied",
            errno.EPERM: "operation not permitted", errno.ENAMETOOLONG: "file name too long",
            errno.EFBIG: "file too large", errno.EIO: "input/output error",
            errno.ENOENT: "no such directory", errno.ENOTDIR: "a parent is not a directory",
            errno.EISDIR: "is a directory"}.get(e.errno, e.strerror or str(e))


def shown(path) -> str:
    """A path for a one-line message: whole up to 160 characters, else its ends."""
    text = os.fspath(path)
    return text if len(text) <= 160 else f"{text[:60]}...{text[-60:]} ({len(text)} characters)"


def check_path(path) -> Path:
    text = os.fspath(path)
    if len(text) > MAX_PATH_CHARS:
        raise StorageError(f"path {shown(text)}: too long")
    if "\0" in text:
        raise StorageError(f"path {text[:60]!r} contains a NUL character")
    return Path(text)


@contextmanager
def atomic_output(path, suffix: str = ".tmp", what: str = "cannot write"):
    """``with atomic_output(out) as tmp: write(tmp)``; see the module docstring."""
    path = check_path(path)
    tmp = path.with_name(f".{path.name[:200]}.{os.getpid()}{suffix}")
    try:
        if not path.parent.is_dir():
            make_private_dir(path.parent)
        if path.is_dir():
            raise StorageError(f"{what} {shown(path)}: it is a directory")
        yield tmp
        if not tmp.exists():
            raise StorageError(f"{what} {shown(path)}: the writer produced no file")
        os.chmod(tmp, PRIVATE_FILE_MODE)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        try:
            fsync_dir(path.parent)
        except OSError:
            pass    # the file is whole and in place; only the rename's durability is unsure
    except OSError as e:
        remove_quietly(tmp)
        raise StorageError(f"{what} {shown(path)}: {describe(e)}") from None
    except BaseException:
        remove_quietly(tmp)
        raise


def atomic_write_bytes(path, data: bytes, what: str = "cannot write") -> None:
    """Write ``data`` to ``path`` (0600) so that a crash leaves the old file or the new one."""
    with atomic_output(path, what=what) as tmp:
        fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        try:
            view = memoryview(data)
            while len(view):
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)


def try_lock(fd: int) -> bool:
    """Take an exclusive, non-blocking lock on the open file ``fd``: True when taken (always,
    without flock), False when another open file already holds it. Closing ``fd`` releases it."""
    if fcntl is None:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def lock_held(path) -> bool:
    """True when another open file holds the lock on ``path`` (its owner lives); False when the
    lock is free or the file cannot be opened (gone). Takes and drops a probe lock; needs flock
    (``CAN_LOCK``)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        return not try_lock(fd)
    finally:
        os.close(fd)  # releases the probe lock too


def remove_quietly(p) -> None:
    """Remove a file if it can be (a temporary file, a lease, a reserve): a failure changes
    nothing worth a message."""
    try:
        p.unlink()
    except OSError:
        pass


def fsync_dir(path) -> None:
    """fsync a directory so a create/rename/unlink in it is itself durable (POSIX only; raises
    OSError)."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
