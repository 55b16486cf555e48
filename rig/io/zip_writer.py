"""ZIP export: a whole session (or every session of an athlete) for a researcher.

Per session: ``<session>/session.json`` (measures, flags, metadata), ``<session>/samples.csv``
(every trial, one row per sample) and one ``trial_NN_<condition>.c3d`` per trial when ezc3d is
installed. Written to a temporary file and renamed (owner-only; removed on any failure).
"""
from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

from rig.io import data as D
from rig.io.csv_writer import session_samples_csv
from rig.store.files import atomic_output


def write_zip(store, target: D.Target, out: Path, anonymize: bool) -> list[Path]:
    out = Path(out)
    try:
        import ezc3d  # noqa: F401
        have_c3d = True
    except ImportError:
        have_c3d = False
    scrub = D.scrubber_of(anonymize, store, target)
    with atomic_output(out, what="cannot write the export") as tmp:
        _write_zip(store, target, tmp, anonymize, have_c3d, scrub)
    return [out]


def _write_zip(store, target: D.Target, tmp: Path, anonymize, have_c3d: bool, scrub) -> None:
    clean = scrub.text if scrub is not None else (lambda text: text)
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        readme = [f"balance rig export of {target.kind} {target.athlete if target.kind == 'athlete' else target.sessions[0]}",
                  "Per session: session.json (measures, flags, metadata), samples.csv (one row per sample),",
                  "trial_NN_*.c3d (forces and COP per trial)." + ("" if have_c3d else " [C3D skipped: ezc3d not installed]")]
        z.writestr("README.txt", clean("\n".join(readme) + "\n"))
        for sid in target.sessions:
            rec = D.session_record(store, sid, anonymize)
            if scrub is not None:
                rec = scrub.data(rec)
            folder = clean(sid)
            z.writestr(f"{folder}/session.json", json.dumps(rec, indent=1, allow_nan=False))
            z.writestr(f"{folder}/samples.csv", clean(session_samples_csv(store, sid, anonymize)))
            if not have_c3d:
                continue
            from rig.io.c3d_writer import write_trial_c3d
            s = store.session(sid)
            with tempfile.TemporaryDirectory() as td:
                for t in s["trials"]:
                    frames = store.trial_frames(t["id"])
                    if len(frames) < 2:
                        continue
                    name = f"trial_{t['index']:02d}_{D.slug(t['condition'].get('name', ''))}_{t['id'][-6:]}.c3d"
                    p = Path(td) / name
                    write_trial_c3d(s, t, frames, p, anonymize)
                    z.write(p, f"{folder}/{clean(name)}")
