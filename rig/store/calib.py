"""The calibration a session used, stored with it so that exports work years later.

A session stores a calibration *record* (a dict): at least the contract's ``id, hash,
created_utc, is_nominal, positions_mm, noise_floor``, and, so that forces can be recomputed
from the stored raw counts, the file content (``data``) and the offsets actually applied
(``offset_counts``, after a tare at the start of the recording). ``calibration_record(cal)``
builds that dict from a ``rig.calibration.Calibration``; ``Store.new_session`` accepts either.

``SessionCalibration.from_record`` rebuilds counts -> newtons from a record. If a record lacks
the gains (an older caller stored only the contract's keys), it falls back on the nominal
build's gains and says so in ``warning``: forces then carry the cells' few-per-cent spread.
"""
from __future__ import annotations

import numpy as np

NOMINAL_GAIN_COUNTS_PER_N = 1839.0


def calibration_record(cal) -> dict:
    """Everything a session must keep of a ``Calibration`` (JSON-serialisable)."""
    rec = dict(cal.summary()) if hasattr(cal, "summary") else {}
    rec.update({
        "id": cal.id, "hash": cal.hash, "created_utc": cal.created_utc,
        "is_nominal": bool(cal.is_nominal), "positions_mm": np.asarray(cal.positions_mm).tolist(),
        "noise_floor": dict(getattr(cal, "noise_floor", {}) or {}),
        "offset_counts": np.asarray(cal.offset_counts, dtype=float).tolist(),
        "gain_counts_per_n": np.asarray(cal.gain_counts_per_n, dtype=float).tolist(),
        "channel": np.asarray(getattr(cal, "channel", [0, 1, 2, 3])).astype(int).tolist(),
        "tared": bool(getattr(cal, "tared", False)),
        "board_id": getattr(cal, "board_id", ""),
    })
    if getattr(cal, "data", None) is not None:
        rec["data"] = cal.data
    return _jsonable(rec)


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    return x


class SessionCalibration:
    """Counts -> newtons per cell and the cell positions, rebuilt from a session's record."""

    def __init__(self, positions_mm, offset_counts, gain_counts_per_n, channel=(0, 1, 2, 3),
                 correction: dict | None = None, warning: str = ""):
        self.positions_mm = np.asarray(positions_mm, dtype=float).reshape(4, 2)
        self.offset_counts = np.asarray(offset_counts, dtype=float).reshape(4)
        self.gain_counts_per_n = np.asarray(gain_counts_per_n, dtype=float).reshape(4)
        self.channel = np.asarray(channel, dtype=int).reshape(4)
        self.correction = correction or {}
        self.warning = warning

    @classmethod
    def from_record(cls, rec: dict) -> "SessionCalibration":
        data = rec.get("data") or {}
        cells = data.get("cells", {}) if isinstance(data, dict) else {}
        positions = rec.get("positions_mm") or cells.get("positions_mm")
        offsets = rec.get("offset_counts") or cells.get("offset_counts")
        gains = rec.get("gain_counts_per_n") or cells.get("gain_counts_per_n")
        channel = rec.get("channel") or cells.get("channel") or [0, 1, 2, 3]
        warning = ""
        if positions is None:
            from rig.calibration import load_calibration, nominal_path
            positions = np.asarray(load_calibration(nominal_path()).positions_mm, dtype=float)
            warning = "cell positions not stored with the session: nominal positions used"
        if gains is None:
            gains = [NOMINAL_GAIN_COUNTS_PER_N] * 4
            warning = ("calibration gains not stored with the session: nominal gains used "
                       "(forces carry the cells' few-per-cent spread)")
        corr = data.get("correction") if isinstance(data, dict) else None
        out = cls(positions, offsets if offsets is not None else [0.0] * 4,
                  gains, channel, corr, warning)
        if offsets is None:
            out.needs_tare = True
            out.warning = "; ".join(w for w in (warning, "calibration offsets not stored with the "
                                                "session: tared on each trial's first 0.5 s") if w)
        return out

    needs_tare = False

    def forces_n(self, raw) -> np.ndarray:
        """Raw counts (n, 4) by channel -> vertical force on each cell (n, 4), newtons."""
        counts = np.asarray(raw)[..., self.channel].astype(np.float64)
        return (counts - self.offset_counts) / self.gain_counts_per_n

    def correct_cop(self, x, y):
        """The calibration's optional affine COP correction (identity unless "affine")."""
        if self.correction.get("model", "none") != "affine":
            return x, y
        ax, ay = self.correction["cop_x_mm"], self.correction["cop_y_mm"]
        return x + ax[0] + ax[1] * x + ax[2] * y, y + ay[0] + ay[1] * x + ay[2] * y


def forces_and_cop(cal: SessionCalibration, raw, t_s=None, threshold_n: float = 20.0):
    """Per-cell forces (n, 4) N, total force fz_n, COP x/y mm (NaN below ``threshold_n``)."""
    from rig.engine.cop import cop_from_forces

    raw = np.asarray(raw)
    if cal.needs_tare and t_s is not None and len(raw):
        first = np.asarray(t_s) < np.asarray(t_s)[0] + 0.5
        cal.offset_counts = raw[first][:, cal.channel].astype(float).mean(axis=0)
    forces = cal.forces_n(raw)
    fz, x, y = cop_from_forces(forces, cal.positions_mm, threshold_n)
    x, y = cal.correct_cop(x, y)
    return forces, fz, np.asarray(x, dtype=float), np.asarray(y, dtype=float)
