"""Synthetic board recordings for calibration tests, without the wire: the simulated board's
electronics model (rig.sim.board) turning a scene's forces into raw counts."""
from __future__ import annotations

import numpy as np

from rig.sim.board import SimBoardModel
from rig.sim.calibration_scene import build_calibration_scene


class Chunk:
    """FrameBatch-like: t_s, raw (n, 4), status."""

    def __init__(self, t_s, raw, status):
        self.t_s, self.raw, self.status = t_s, raw, status

    def __len__(self):
        return len(self.t_s)


def recording(opts: dict, duration_s: float, **model_kw):
    """Raw counts of the calibration scene for ``opts`` (URL-style dict of lists) on a board."""
    model = SimBoardModel(**model_kw)
    scene = build_calibration_scene(opts, np.random.default_rng([model.seed, 7]), model.positions_mm)
    k = np.arange(int(duration_s / model.period_s))
    t = model.sample_times_s(k)
    raw, status = model.counts(scene.forces_n(t), t, k)
    return model, scene, Chunk(t, raw, status)


def chunks(rec: Chunk, size: int):
    for i in range(0, len(rec), size):
        yield Chunk(rec.t_s[i:i + size], rec.raw[i:i + size], rec.status[i:i + size])
