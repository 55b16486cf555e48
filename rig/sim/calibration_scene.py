"""The simulated clinician calibrating the board: known masses placed in the procedure's order.

``sim://?calibration=20`` places a 20 kg mass as ``rig calibrate`` asks for it (the order is
``rig.calibration.steps``, shared with the procedure): the empty board first, then the centre
and each corner mark (FL FR BL BR), an optional grid and linearity masses, and finally a dead
weight at the centre for the noise floor. ``sim://?check=20`` does the spot check's steps.
Marks are hit exactly (a printed mark and a small-footprint puck); what is realistic is the
rest: a few seconds of empty board between placements, a hand pressing and letting go while the
mass is put down and picked up, the top ringing briefly, slightly different timings each time.

The timeline starts at the first sample streamed (the clinician starts when the software does)
and is a pure function of board time, so the forces do not depend on how they are requested.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rig.calibration import steps as S
from rig.calibration.model import STANDARD_GRAVITY_M_S2

OPTION_NAMES = {
    "calibration": "KG: a clinician calibrating with a KG mass, in `rig calibrate`'s order",
    "check": "KG: a clinician doing `rig check` with a KG mass (centre, then front-right mark)",
    "linearity": "KG,KG,...: further masses placed at the centre after the corners (with calibration=)",
    "grid": "1 = also place the mass on the 8 grid marks around the centre (with calibration=)",
    "noise_kg": "dead weight for the noise floor in kg (default: the heaviest mass; 0 = none)",
}

OPTIONS_HELP = "\n".join(f"{k:<14} {v}" for k, v in OPTION_NAMES.items())

LEAD_S = 4.0        # empty board before the first placement
GAP_S = 3.0         # empty board between placements (plus up to 1 s)
PLACE_S = 0.5       # the mass goes from hand to board
LIFT_S = 0.4
HAND_N = 40.0       # extra push of a hand steadying the mass while placing (peak)


@dataclass
class _Placement:
    t_on_s: float      # mass starts to touch down
    t_off_s: float     # mass starts to be lifted
    weight_n: float
    x_mm: float
    y_mm: float
    hand_dx_mm: float  # where the hand pushes, relative to the mark
    hand_dy_mm: float
    ring_hz: float


def distribute(total_n, x_mm, y_mm, positions_mm) -> np.ndarray:
    """Cell forces (n, 4) of loads total_n (n,) at (x, y) mm on a rigid top (bilinear, exact)."""
    p = np.asarray(positions_mm, float)
    cx, cy = p.mean(axis=0)
    lx = 0.5 * ((p[1, 0] - p[0, 0]) + (p[3, 0] - p[2, 0]))
    ly = 0.5 * ((p[0, 1] - p[2, 1]) + (p[1, 1] - p[3, 1]))
    u = (np.asarray(x_mm, float) - cx) / lx
    v = (np.asarray(y_mm, float) - cy) / ly
    w = np.asarray(total_n, float)
    return np.column_stack([w * (0.5 - u) * (0.5 + v), w * (0.5 + u) * (0.5 + v),
                            w * (0.5 - u) * (0.5 - v), w * (0.5 + u) * (0.5 - v)])


def _smoothstep(z):
    z = np.clip(z, 0.0, 1.0)
    return z * z * (3 - 2 * z)


class SceneClock:
    """A scene's own time: seconds since the first board time it was asked about (its clock
    starts there, so a scene starts with the board's first sample whatever the board's clock)."""

    t0_s: float | None = None

    def scene_time(self, t_s) -> np.ndarray:
        t_s = np.asarray(t_s, float)
        if self.t0_s is None and len(t_s):
            self.t0_s = float(t_s[0])
        return t_s - (self.t0_s or 0.0)


class CalibrationScene(SceneClock):
    """Forces of the placements over board time."""

    def __init__(self, steps: list[S.Step], rng: np.random.Generator, positions_mm):
        self.positions_mm = np.asarray(positions_mm, float)
        self.steps = steps
        self.placements: list[_Placement] = []
        t = LEAD_S + rng.uniform(0, 0.5)
        for st in steps:
            if not st.loaded:
                continue
            hold = S.NOISE_HOLD_S if st.kind == S.NOISE else S.HOLD_S
            hold += rng.uniform(0, 1.0)
            self.placements.append(_Placement(
                t, t + hold, st.mass_kg * STANDARD_GRAVITY_M_S2, st.x_mm, st.y_mm,
                rng.uniform(-60, 60), rng.uniform(-60, 60), rng.uniform(6, 12)))
            t += hold + LIFT_S + GAP_S + rng.uniform(0, 1.0)
        self.end_s = t

    def forces_n(self, t_s) -> np.ndarray:
        t = self.scene_time(t_s)
        out = np.zeros((len(t), 4))
        for p in self.placements:
            sel = (t >= p.t_on_s) & (t < p.t_off_s + LIFT_S + 0.3)
            if not sel.any():
                continue
            tt = t[sel]
            on = _smoothstep((tt - p.t_on_s) / PLACE_S)
            off = 1.0 - _smoothstep((tt - p.t_off_s) / LIFT_S)
            mass = p.weight_n * on * off
            # the top rings briefly as the mass lands (a damped few-per-cent oscillation)
            since = np.maximum(tt - p.t_on_s - PLACE_S, 0.0)
            ring = 0.03 * p.weight_n * np.exp(-since / 0.15) * np.sin(2 * np.pi * p.ring_hz * since) * (tt > p.t_on_s + PLACE_S)
            # a hand steadies the mass while placing and lifting (bell-shaped pushes)
            hand = HAND_N * (np.exp(-(((tt - p.t_on_s - 0.3 * PLACE_S) / 0.25) ** 2))
                             + np.exp(-(((tt - p.t_off_s) / 0.2) ** 2)))
            out[sel] += distribute(mass + ring, np.full(len(tt), p.x_mm), np.full(len(tt), p.y_mm), self.positions_mm)
            out[sel] += distribute(hand, np.full(len(tt), p.x_mm + p.hand_dx_mm),
                                   np.full(len(tt), p.y_mm + p.hand_dy_mm), self.positions_mm)
        return out


def _kg(opts, name):
    raw = opts[name][-1]
    try:
        v = float(raw)
    except ValueError:
        raise ValueError(f"sim://: option {name}={raw!r} is not a mass in kg") from None
    if not np.isfinite(v) or v <= 0 or v > 300:
        raise ValueError(f"sim://: option {name}={raw} outside 0..300 kg")
    return v


def steps_from_options(opts: dict[str, list[str]], positions_mm) -> list[S.Step]:
    """The steps the simulated clinician follows for these URL options."""
    if "check" in opts:
        return S.check_steps(_kg(opts, "check"), positions_mm)
    mass = _kg(opts, "calibration")
    lin = []
    if opts.get("linearity", [""])[-1]:
        for part in opts["linearity"][-1].split(","):
            lin.append(_kg({"linearity": [part]}, "linearity"))
    grid = opts.get("grid", ["0"])[-1] in ("1", "true", "yes")
    noise = None
    if "noise_kg" in opts:
        noise = 0.0 if opts["noise_kg"][-1] == "0" else _kg(opts, "noise_kg")
    return S.calibration_steps(mass, positions_mm, lin, grid, noise)


def build_calibration_scene(opts: dict[str, list[str]], rng: np.random.Generator, positions_mm) -> CalibrationScene:
    """The scene for ``calibration=KG`` or ``check=KG`` (see OPTION_NAMES)."""
    return CalibrationScene(steps_from_options(opts, positions_mm), rng, positions_mm)
