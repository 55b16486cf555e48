"""Raw trial traces as compressed ``.npz`` files, written atomically.

One file per trial, ``traces/<session id>/<trial id>.npz``, holding the FrameBatch arrays as
received (raw counts, never forces: a later recalibration can be applied to old data) and a
JSON ``meta`` string. Written to a temporary name, fsync'ed, renamed over the target, and the
directory fsync'ed: a crash leaves either no file or the whole file (rig.store.files); owner-only.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from rig.frames import FrameBatch
from rig.errors import FileFormatError
from rig.store.files import atomic_write_bytes  # noqa: F401  (re-exported)


def write_trace(path: Path, frames: FrameBatch, meta: dict) -> None:
    buf = io.BytesIO()
    arrays = {name: getattr(frames, name) for name in FrameBatch.array_fields()}
    np.savez_compressed(buf, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)
    atomic_write_bytes(path, buf.getvalue())


def read_trace(path: Path) -> tuple[FrameBatch, dict]:
    try:
        with np.load(path, allow_pickle=False) as z:
            # traces written before cell ages were kept have no ``age_us``: unknown ages
            frames = FrameBatch(*(z[name] for name in FrameBatch.array_fields() if name in z.files))
            meta = json.loads(str(z["meta"])) if "meta" in z.files else {}
    except FileNotFoundError:
        raise FileFormatError(f"trace file {path} is missing (moved or deleted?)") from None
    except (OSError, ValueError, KeyError) as e:
        raise FileFormatError(f"trace file {path}: unreadable: {e}") from None
    return frames, meta
