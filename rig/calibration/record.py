"""The calibration a session used, stored with it so that exports work years later.

A session stores a calibration *record* (a dict): at least the contract's ``id, hash,
created_utc, is_nominal, positions_mm, noise_floor``, and, so that forces can be recomputed
from the stored raw counts, the file content (``data``) and the offsets actually applied
(``offset_counts``, after a tare at the start of the recording). ``calibration_record(cal)``
builds that dict from a ``Calibration``; ``from_record(rec)`` rebuilds the same ``Calibration``
model from it (there is one calibration model). If a record lacks the gains (an older caller
stored only the contract's keys), the nominal build's gains are used and ``warning`` says so.
"""
from __future__ import annotations

import numpy as np

from rig.calibration.model import Calibration
from rig.jsonable import jsonable


def calibration_record(cal: Calibration) -> dict:
    """Everything a session must keep of a ``Calibration`` (JSON-serialisable)."""
    rec = dict(cal.summary())
    rec.update({
        "offset_counts": np.asarray(cal.offset_counts, dtype=float).tolist(),
        "gain_counts_per_n": np.asarray(cal.gain_counts_per_n, dtype=float).tolist(),
        "channel": np.asarray(cal.channel).astype(int).tolist(),
        "tared": bool(cal.tared),
        "board_id": cal.board_id,
        "data": cal.data,
    })
    return jsonable(rec)


def from_record(rec: dict) -> Calibration:
    """The ``Calibration`` a session used, from its stored record.

    The returned object carries ``warning`` (empty when the record was complete) and
    ``needs_tare`` (True when the record has no offsets: the caller tares on the first 0.5 s
    of each trial, see ``rig.calibration.apply.forces_and_cop``)."""
    from rig.calibration.select import nominal_path
    from rig.calibration.tomlio import load_calibration

    rec = rec or {}
    stored = rec.get("data") if isinstance(rec.get("data"), dict) else {}
    cells = dict(stored.get("cells", {}))
    positions = rec.get("positions_mm") or cells.get("positions_mm")
    offsets = rec.get("offset_counts") or cells.get("offset_counts")
    gains = rec.get("gain_counts_per_n") or cells.get("gain_counts_per_n")
    channel = rec.get("channel") or cells.get("channel") or [0, 1, 2, 3]
    warnings = []
    nominal = None
    if positions is None or gains is None:
        nominal = load_calibration(nominal_path())
    if positions is None:
        positions = nominal.positions_mm.tolist()
        warnings.append("cell positions not stored with the session: nominal positions used")
    if gains is None:
        gains = nominal.gain_counts_per_n.tolist()
        warnings.append("calibration gains not stored with the session: nominal gains used "
                        "(forces carry the cells' few-per-cent spread)")
    needs_tare = offsets is None
    if needs_tare:
        offsets = [0.0] * 4
        warnings.append("calibration offsets not stored with the session: tared on each trial's first 0.5 s")
    data = dict(stored)
    data.setdefault("board_id", rec.get("board_id", ""))
    data.setdefault("created_utc", rec.get("created_utc") or "1970-01-01T00:00:00Z")
    data.setdefault("nominal", bool(rec.get("is_nominal", False)))
    if rec.get("noise_floor") is not None:
        data.setdefault("noise_floor", rec["noise_floor"])
    data["cells"] = {**cells, "positions_mm": np.asarray(positions, float).reshape(4, 2).tolist(),
                     "offset_counts": np.asarray(offsets, float).reshape(4).tolist(),
                     "gain_counts_per_n": np.asarray(gains, float).reshape(4).tolist(),
                     "channel": np.asarray(channel, int).reshape(4).tolist()}
    cal = Calibration(data)
    if rec.get("hash"):
        cal.hash = rec["hash"]          # the file the recording used, not this rebuilt dict
    cal.tared = bool(rec.get("tared", False))
    cal.warning = "; ".join(warnings)
    cal.needs_tare = needs_tare
    return cal
