"""Where recorded data lives: never inside the source tree.

Order: an explicit ``--data-dir``, then ``RIG_DATA_DIR``, then the user's data directory
(``$XDG_DATA_HOME/balance-rig`` or ``~/.local/share/balance-rig``; on macOS
``~/Library/Application Support/balance-rig``; on Windows ``%APPDATA%\\balance-rig``).

Recorded data is health data: the data directory and everything rig creates in it, and every
export and report, are created owner-only (directories 0700, files 0600). A directory that
already exists keeps the permissions it has (a clinic may share one on purpose).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from rig.errors import RigError

ENV_DATA_DIR = "RIG_DATA_DIR"
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def data_dir(explicit: str | os.PathLike | None = None, create: bool = True) -> Path:
    if explicit:
        p = Path(explicit)
    elif os.environ.get(ENV_DATA_DIR):
        p = Path(os.environ[ENV_DATA_DIR])
    elif sys.platform == "darwin":
        p = Path.home() / "Library" / "Application Support" / "balance-rig"
    elif sys.platform.startswith("win"):
        p = Path(os.environ.get("APPDATA", Path.home())) / "balance-rig"
    else:
        p = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "balance-rig"
    p = p.expanduser()
    if len(str(p)) > 4000:
        raise RigError(f"data directory path is {len(str(p))} characters long: too long")
    if p.exists() and not p.is_dir():
        raise RigError(f"data directory {p} is not a directory")
    if create and not p.is_dir():
        try:
            make_private_dir(p)
        except OSError as e:
            raise RigError(f"cannot create the data directory {p}: {e.strerror or e}") from None
    return p


def make_private_dir(path: Path) -> None:
    """Create ``path`` and missing parents; the ones created are owner-only (0700)."""
    path = Path(path)
    if path.is_dir():
        return
    make_private_dir(path.parent) if not path.parent.is_dir() else None
    try:
        path.mkdir(mode=PRIVATE_DIR_MODE)
    except FileExistsError:
        if not path.is_dir():
            raise
    else:
        os.chmod(path, PRIVATE_DIR_MODE)   # mkdir's mode is filtered by the umask


def open_private(path, flags: int = os.O_WRONLY | os.O_CREAT | os.O_TRUNC) -> int:
    """``os.open`` a file for writing, created owner-only (0600) whatever the umask."""
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0), PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE) if hasattr(os, "fchmod") else None
    except OSError:
        pass
    return fd


def source_root() -> Path:
    """The checkout root (where ``firmware/`` lives in a clone; not present in a wheel)."""
    return Path(__file__).resolve().parent.parent


def shipped_dir(name: str) -> Path:
    """The shipped ``protocols`` or ``calibration`` folder.

    In a wheel they are package data under ``rig/data/`` (copied there from the repository's
    top-level folders at build time, see ``setup.py``); in a checkout or an editable install
    they are the top-level folders themselves. Read with ``importlib.resources`` so a zipped or
    relocated install works too.
    """
    from importlib.resources import files

    packaged = files("rig") / "data" / name
    if packaged.is_dir():
        return Path(str(packaged))
    return source_root() / name
