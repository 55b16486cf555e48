"""JSON export: measures, flags and metadata (no samples; use CSV or C3D for those)."""
from __future__ import annotations

import json
from pathlib import Path

from rig.io import data as D
from rig.store.files import atomic_write_bytes


def build(store, target: D.Target, anonymize: bool) -> dict:
    sessions = [D.session_record(store, sid, anonymize) for sid in target.sessions]
    if target.kind == "session":
        return sessions[0]
    ath = store.athlete(target.athlete) or {}
    return D.jsonable({
        "athlete": target.athlete,
        "athlete_details": {} if anonymize else ath.get("details", {}),
        "baseline": store.baseline(target.athlete),
        "sessions": sessions,
        "mdc": [m.__dict__ for m in store.mdc_table()],
    })


def write_json(store, target: D.Target, out: Path, anonymize: bool) -> list[Path]:
    data = build(store, target, anonymize)
    scrub = D.scrubber_of(anonymize, store, target)
    if scrub is not None:
        data = scrub.data(data)
    text = json.dumps(data, indent=1, allow_nan=False, ensure_ascii=True)
    atomic_write_bytes(out, what="cannot write the export", data=text.encode("ascii") + b"\n")
    return [out]
