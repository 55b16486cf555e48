"""ZIP export: a whole session (or every session of an athlete) for a researcher.

Per session: ``<session>/session.json`` (measures, flags, metadata), ``<session>/samples.csv``
(every trial, one row per sample) and one ``trial_NN_<condition>.c3d`` per trial when ezc3d is
installed. Written to a temporary file and renamed.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

from rig.io import data as D
from rig.io.csv_writer import session_samples_csv


def write_zip(store, target: D.Target, out: Path, anonymize: bool) -> list[Path]:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        import ezc3d  # noqa: F401
        have_c3d = True
    except ImportError:
        have_c3d = False
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        readme = [f"balance rig export of {target.kind} {target.athlete if target.kind == 'athlete' else target.sessions[0]}",
                  "Per session: session.json (measures, flags, metadata), samples.csv (one row per sample),",
                  "trial_NN_*.c3d (forces and COP per trial)." + ("" if have_c3d else " [C3D skipped: ezc3d not installed]")]
        z.writestr("README.txt", "\n".join(readme) + "\n")
        for sid in target.sessions:
            rec = D.session_record(store, sid, anonymize)
            z.writestr(f"{sid}/session.json", json.dumps(rec, indent=1, allow_nan=False))
            z.writestr(f"{sid}/samples.csv", session_samples_csv(store, sid, anonymize))
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
                    z.write(p, f"{sid}/{name}")
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, out)
    return [out]
