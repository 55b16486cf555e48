"""C3D export of one trial: per-cell forces, total force and COP as analog channels (ezc3d).

C3D holds one continuous recording at one rate, so a session with several trials needs
``--trial N`` (or the ``.zip`` export, which writes one C3D per trial). The analog rate is the
trial's effective board rate; exact board times are kept in a ``TIME`` channel (seconds from
the first sample). Undefined COP (below 20 N) is NaN. Metadata lives in a ``RIG`` parameter
group (athlete code, protocol, condition, calibration, firmware, processing). A dummy point
``ORIGIN`` satisfies readers that expect a point section. Requires the ``c3d`` extra
(ezc3d, a dependency of the package).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rig.errors import RigError
from rig.io import data as D
from rig.store.files import atomic_output

CHANNELS = (  # label, unit, description, column in D.trial_table
    ("F_FL", "N", "vertical force, front-left cell", "f_fl_n"),
    ("F_FR", "N", "vertical force, front-right cell", "f_fr_n"),
    ("F_BL", "N", "vertical force, back-left cell", "f_bl_n"),
    ("F_BR", "N", "vertical force, back-right cell", "f_br_n"),
    ("FZ", "N", "total vertical force", "fz_n"),
    ("COPX", "mm", "COP medio-lateral (+ right), board frame", "cop_x_mm"),
    ("COPY", "mm", "COP antero-posterior (+ forward), board frame", "cop_y_mm"),
    ("TIME", "s", "board time since the first sample", None),
)


def write_c3d(store, target: D.Target, out: Path, anonymize: bool) -> list[Path]:
    if target.kind != "session":
        raise RigError("C3D holds one trial: export a session with --trial N, or use .zip for an athlete")
    s = store.session(target.sessions[0])
    trials = s["trials"]
    if target.trial is None and len(trials) != 1:
        raise RigError(f"session {s['id']} has {len(trials)} trials and a C3D file holds one: "
                       f"pass --trial N (1..{len(trials)}), or export .zip for one C3D per trial")
    t = trials[(target.trial or 1) - 1] if 1 <= (target.trial or 1) <= len(trials) else None
    if t is None:
        raise RigError(f"session {s['id']} has {len(trials)} trials; --trial {target.trial} is out of range")
    write_trial_c3d(s, t, store.trial_frames(t["id"]), out, anonymize)
    return [out]


def write_trial_c3d(session: dict, trial: dict, frames, out: Path, anonymize: bool) -> None:
    try:
        import ezc3d
    except ImportError:
        raise RigError("C3D export needs ezc3d, a dependency of balance-rig: reinstall it (pip install balance-rig)") from None
    if len(frames) < 2:
        raise RigError(f"trial {trial['id']} has {len(frames)} samples: too few for a C3D file")
    cols = D.trial_table(session, trial, frames)
    rate = D.effective_rate_hz(frames.t_s)
    n = len(frames)
    analogs = np.empty((1, len(CHANNELS), n))
    for i, (_, _, _, col) in enumerate(CHANNELS):
        analogs[0, i] = cols[col] if col else frames.t_s - frames.t_s[0]
    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [rate]
    c["parameters"]["POINT"]["LABELS"]["value"] = ("ORIGIN",)
    c["parameters"]["ANALOG"]["RATE"]["value"] = [rate]
    c["parameters"]["ANALOG"]["LABELS"]["value"] = tuple(ch[0] for ch in CHANNELS)
    c["parameters"]["ANALOG"]["DESCRIPTIONS"]["value"] = tuple(ch[2] for ch in CHANNELS)
    c["parameters"]["ANALOG"]["UNITS"]["value"] = tuple(ch[1] for ch in CHANNELS)
    points = np.zeros((4, 1, n))
    points[3] = 1.0
    c["data"]["points"] = points
    c["data"]["analogs"] = analogs
    s = D.anonymise_session(session) if anonymize else session
    if anonymize:
        from rig.io.anonymize import Scrubber

        scrub = anonymize if isinstance(anonymize, Scrubber) else Scrubber([session])
        s, trial = scrub.data(s), scrub.data(trial)
    cal = s.get("calibration", {})
    meta = {
        "ATHLETE": s["athlete"], "SESSION": s["id"], "TRIAL": trial["id"],
        "PROTOCOL": f"{s['protocol'].get('name', '')} {s['protocol'].get('version', '')}".strip(),
        "CONDITION": D.condition_text(trial["condition"]), "STATUS": trial["status"],
        "BOARD": str(s["board"].get("board_id", "")), "FIRMWARE": str(s["board"].get("firmware", "")),
        "CALIBRATION": f"{cal.get('id', '')} {cal.get('hash', '')}".strip(),
        "START_BOARD_TIME_S": f"{frames.t_s[0]:.6f}",
        "WINDOW_S": json.dumps(D.jsonable(list(trial.get("window_s", [])))),
        "PROCESSING": json.dumps(D.jsonable(trial.get("processing", {})), sort_keys=True),
        "NOTE": "forces and COP unfiltered, from raw counts with the session's calibration",
    }
    for k, v in meta.items():
        c.add_parameter("RIG", k, _ascii(v) or "-")
    with atomic_output(Path(out), suffix=".tmp.c3d", what="cannot write the export") as tmp:
        c.write(str(tmp))


def _ascii(v) -> str:
    return str(v).encode("ascii", errors="replace").decode("ascii")
