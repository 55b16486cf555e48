"""Where recorded data lives: never inside the source tree.

Order: an explicit ``--data-dir``, then ``RIG_DATA_DIR``, then the user's data directory
(``$XDG_DATA_HOME/balance-rig`` or ``~/.local/share/balance-rig``; on macOS
``~/Library/Application Support/balance-rig``; on Windows ``%APPDATA%\\balance-rig``).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_DATA_DIR = "RIG_DATA_DIR"


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
    if create:
        p.mkdir(parents=True, exist_ok=True)
    return p


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
