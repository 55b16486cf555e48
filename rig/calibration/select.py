"""Which calibration file to use for a board, with warnings and refusals.

Search order for ``calibration/<board-id>.toml``: an explicit path, else the data dir's
``calibration/`` and the checkout's ``calibration/`` (the newer file wins), else the shipped
``calibration/nominal.toml`` with a warning. A file made for another board is refused (unless
``force``); an old calibration (default 180 days, ``RIG_CALIBRATION_MAX_AGE_DAYS``) or one made
under another firmware version gives a warning.
"""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from rig.calibration.blob import blob_warnings
from rig.calibration.model import Calibration
from rig.calibration.tomlio import load_calibration
from rig.errors import CalibrationError
from rig.paths import data_dir, shipped_dir, source_root

DEFAULT_MAX_AGE_DAYS = 180.0
ENV_MAX_AGE = "RIG_CALIBRATION_MAX_AGE_DAYS"


def nominal_path() -> Path:
    return shipped_dir("calibration") / "nominal.toml"


def search_dirs() -> list[Path]:
    """Where board files are looked for: the data dir's calibration/, then the checkout's."""
    return [data_dir(create=False) / "calibration", source_root() / "calibration"]


def default_output_path(board_id: str) -> Path:
    """Where `rig calibrate` writes: the checkout's calibration/ if writable, else the data dir."""
    src = source_root() / "calibration"
    if src.is_dir() and os.access(src, os.W_OK):
        return src / f"{board_id}.toml"
    return data_dir() / "calibration" / f"{board_id}.toml"


def max_age_days() -> float:
    raw = os.environ.get(ENV_MAX_AGE)
    if not raw:
        return DEFAULT_MAX_AGE_DAYS
    try:
        v = float(raw)
    except ValueError:
        raise CalibrationError(f"environment variable {ENV_MAX_AGE}={raw!r} is not a number of days") from None
    return v


def calibration_for(hello, explicit_path=None, *, force: bool = False, dirs=None,
                    max_age: float | None = None, now: datetime | None = None,
                    blob: bytes | None = None) -> tuple[Calibration, list[str]]:
    """The calibration to use with the board that sent ``hello``, and warnings for the user.

    Raises CalibrationError when the file is broken, or (unless ``force``) was made for another
    board. ``blob``: the board's stored calibration record, if read, to compare with the file.
    """
    board_id = hello.board_id_hex if hasattr(hello, "board_id_hex") else str(hello)
    firmware = getattr(hello, "firmware_str", None)
    warnings: list[str] = []
    if explicit_path is not None:
        cal = load_calibration(explicit_path)
        if cal.is_nominal:
            warnings.append(f"{explicit_path} is the nominal build, not a calibration of board {board_id}: "
                            "forces may be off by a few per cent")
    else:
        found = [d / f"{board_id}.toml" for d in (dirs if dirs is not None else search_dirs())]
        cals = [load_calibration(p) for p in found if p.is_file()]
        if cals:
            cal = max(cals, key=lambda c: c.created_datetime())
        else:
            cal = load_calibration(nominal_path())
            warnings.append(f"board {board_id} has no calibration file: using the nominal build "
                            f"({nominal_path()}), forces may be off by a few per cent; run `rig calibrate`")
    if not cal.is_nominal:
        if cal.board_id != board_id:
            msg = (f"{cal.source_path}: calibration is for board {cal.board_id}, but board {board_id} is "
                   "connected")
            if not force:
                raise CalibrationError(msg + " (use --force to measure with it anyway)")
            warnings.append(msg + " (forced)")
        limit = max_age_days() if max_age is None else max_age
        age = cal.age_days(now)
        if age > limit:
            warnings.append(f"calibration {cal.id} is {age:.0f} days old (limit {limit:g}): re-run `rig calibrate`")
        if firmware and cal.firmware and cal.firmware != firmware:
            warnings.append(f"calibration {cal.id} was made with firmware {cal.firmware}, the board runs "
                            f"{firmware}: run `rig check`")
    if blob is not None:
        warnings.extend(blob_warnings(cal, blob))
    return cal, warnings
