"""A board's calibration: raw counts -> newtons per cell, the cell geometry, and its record.

The calibration is held as the parsed file content (``data``, the same nested dict a TOML file
gives) plus typed arrays for use. ``hash`` is the sha256 of the canonical JSON form of that
content (sorted keys, no whitespace), so re-formatting or re-commenting a file does not change
it while any change of a value does. ``id`` is ``<board id>-<created, compact UTC>`` (or
``nominal``) for people; recordings store both.
"""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from rig.units import G_M_S2 as STANDARD_GRAVITY_M_S2
from rig.utc import parse_utc

SCHEMA_VERSION = 1
CELL_NAMES = ("front_left", "front_right", "back_left", "back_right")

# Plausible gains of a load cell read by an HX711 (counts per newton). Lowest: a 2000 kg,
# 0.5 mV/V cell at 2.6 V excitation on channel B (gain 32, +/-80 mV = 2^23 counts):
# 1.3 mV / 19613 N * 2^23 / 80 mV = 7 counts/N. Highest: a 1 kg, 3 mV/V cell at 5 V on
# channel A (gain 128, +/-20 mV): 15 mV / 9.81 N * 2^23 / 20 mV = 6.4e5 counts/N. Anything
# outside [5, 1e6] is a typing or fitting error, not a cell (the nominal build: 1839).
GAIN_RANGE_COUNTS_PER_N = (5.0, 1.0e6)
# The cells must span a real platform: their quadrilateral at least 100 mm x 100 mm, and no
# three of them close to a line (each triangle of three cells at least a tenth of the
# quadrilateral; a rectangle gives a half). Collinear cells cannot locate a COP off that line.
MIN_SUPPORT_AREA_MM2 = 1.0e4
MIN_TRIANGLE_SHARE = 0.1


def geometry_problem(positions_mm) -> str | None:
    """Why four cell positions (FL, FR, BL, BR; mm) cannot be a platform, or None if they can.

    The corners must run front-left, front-right, back-right, back-left around a convex
    quadrilateral (clockwise seen from above with +x right and +y forward), of area at least
    ``MIN_SUPPORT_AREA_MM2``, with no three cells nearly collinear.
    """
    p = np.asarray(positions_mm, dtype=float).reshape(4, 2)
    ring = p[[0, 1, 3, 2]]                      # FL, FR, BR, BL around the board
    x, y = ring[:, 0], ring[:, 1]
    area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    if area < MIN_SUPPORT_AREA_MM2:
        return (f"the cells span {area:.0f} mm^2; expected a platform of at least "
                f"{MIN_SUPPORT_AREA_MM2:.0f} mm^2 (100 mm x 100 mm)")
    for i in range(4):
        a, b, c = ring[i - 1], ring[i], ring[(i + 1) % 4]
        cross = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])
        if cross >= 0:
            return "expected the cells at the corners of a convex platform (front-left, front-right, back-right, back-left)"
        if 0.5 * abs(cross) < MIN_TRIANGLE_SHARE * area:
            return "three cells are (nearly) on one line: the COP could not be located off that line"
    return None


def _canonical(v):
    # numbers compare by value: 1800 and 1800.0 in a file are the same calibration
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, dict):
        return {k: _canonical(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_canonical(x) for x in v]
    return v


def canonical_hash(data: dict) -> str:
    """sha256 (hex) of the canonical JSON form of a calibration's content (numbers as floats)."""
    text = json.dumps(_canonical(data), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


@dataclass
class Calibration:
    """Per-cell offsets and gains, cell positions, and how and when they were measured.

    Use ``forces_n(raw)`` for newtons per cell (cells FL, FR, BL, BR), ``positions_mm`` for the
    COP formula, ``hash``/``id`` to record which calibration a recording used.
    """

    data: dict
    source_path: Path | None = None
    hash: str = field(init=False)
    # offsets from a tare at the start of a recording replace the file's (see ``tare``); they
    # are not part of the file, so ``hash`` keeps naming the file the recording used.
    tared: bool = False
    # set by ``rig.calibration.record.from_record`` for a session's stored calibration
    warning = ""          # what the record lacked and what was assumed instead
    needs_tare = False    # the record had no offsets: tare on each trial's first 0.5 s

    def __post_init__(self):
        self.hash = canonical_hash(self.data)
        cells = self.data["cells"]
        self.positions_mm = np.asarray(cells["positions_mm"], dtype=float).reshape(4, 2)
        self.offset_counts = np.asarray(cells["offset_counts"], dtype=float).reshape(4)
        self.gain_counts_per_n = np.asarray(cells["gain_counts_per_n"], dtype=float).reshape(4)
        self.channel = np.asarray(cells.get("channel", [0, 1, 2, 3]), dtype=int).reshape(4)

    # -- identity ----------------------------------------------------------------------------
    @property
    def board_id(self) -> str:
        return self.data["board_id"]

    @property
    def is_nominal(self) -> bool:
        return bool(self.data.get("nominal", False))

    @property
    def created_utc(self) -> str:
        return self.data["created_utc"]

    @property
    def firmware(self) -> str:
        return self.data.get("firmware", "")

    @property
    def calibrated_by(self) -> str:
        return self.data.get("calibrated_by", "")

    @property
    def tare_at_start(self) -> bool:
        return bool(self.data.get("tare_at_start", self.is_nominal))

    @property
    def noise_floor(self) -> dict:
        return dict(self.data.get("noise_floor", {}))

    @property
    def id(self) -> str:
        if self.is_nominal:
            return "nominal"
        compact = self.created_utc.replace("-", "").replace(":", "").replace("+0000", "Z")
        return f"{self.board_id}-{compact}"

    def created_datetime(self) -> datetime:
        return parse_utc(self.created_utc)

    def age_days(self, now: datetime | None = None) -> float:
        now = now or datetime.now(timezone.utc)
        return (now - self.created_datetime()).total_seconds() / 86400.0

    def summary(self) -> dict:
        """What a recording stores about its calibration (see CONTRACTS: store.new_session)."""
        return {
            "id": self.id, "hash": self.hash, "created_utc": self.created_utc,
            "is_nominal": self.is_nominal, "positions_mm": self.positions_mm.tolist(),
            "noise_floor": self.noise_floor, "tared": self.tared,
            "offset_counts": self.offset_counts.tolist(),
        }

    # -- use ---------------------------------------------------------------------------------
    def cell_counts(self, raw) -> np.ndarray:
        """Raw counts (n, 4) by channel -> counts (n, 4) by cell (applies the channel map)."""
        raw = np.asarray(raw)
        return raw[..., self.channel]

    def forces_n(self, raw) -> np.ndarray:
        """Raw counts (n, 4) as received -> vertical force on each cell (n, 4) in newtons."""
        return (self.cell_counts(raw).astype(np.float64) - self.offset_counts) / self.gain_counts_per_n

    def tare(self, raw_window) -> "Calibration":
        """A copy whose offsets are the mean of ``raw_window`` (n, 4), an empty-board window.

        The copy keeps the file's ``hash`` and ``id`` (the tare belongs to the recording).
        """
        raw_window = np.asarray(raw_window)
        if raw_window.ndim != 2 or raw_window.shape[1] != 4 or len(raw_window) == 0:
            raise ValueError("tare needs a non-empty (n, 4) window of raw counts")
        data = copy.deepcopy(self.data)
        out = Calibration(data, self.source_path)
        out.offset_counts = self.cell_counts(raw_window).astype(np.float64).mean(axis=0)
        out.hash = self.hash
        out.tared = True
        return out

    def correct_cop(self, cop_x_mm, cop_y_mm):
        """Apply the optional affine COP correction (``[correction] model = "affine"``).

        x' = x + a0 + a1 x + a2 y (coefficients ``cop_x_mm``), likewise y'. Identity otherwise.
        """
        corr = self.data.get("correction", {})
        x = np.asarray(cop_x_mm, dtype=float)
        y = np.asarray(cop_y_mm, dtype=float)
        if corr.get("model", "none") != "affine":
            return x, y
        ax = corr["cop_x_mm"]
        ay = corr["cop_y_mm"]
        return x + ax[0] + ax[1] * x + ax[2] * y, y + ay[0] + ay[1] * x + ay[2] * y
