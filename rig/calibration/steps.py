"""The calibration procedure's order of placements: one definition for the host and the sim.

``rig calibrate`` walks these steps, and the simulated board's ``calibration=KG`` scene places
its mass in exactly this order, so a change here changes both. Marks are where the clinician
puts the mass: the centre, one mark inboard of each corner cell (``CORNER_MARK_FRACTION`` of the
way from the centre to the cell, 150 mm on the nominal 360 mm cell spacing), optionally a grid.
Positions are millimetres in the board frame (x right, y forward, origin board centre).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Step kinds.
ZERO = "zero"          # empty board: offsets, drift
PLACE = "place"        # known mass at a known mark: gain fit
LINEARITY = "linearity"  # a further mass at the centre: linearity (also used in the fit)
NOISE = "noise"        # dead weight held still at the centre: noise floor

# The base order of loaded placements after the zero step (cell order FL FR BL BR).
BASE_ORDER: tuple[str, ...] = ("centre", "front_left", "front_right", "back_left", "back_right")
CORNER_MARK_FRACTION = 150.0 / 180.0
GRID_OFFSET_MM = 100.0  # optional grid: the 8 points around the centre at +-100 mm
GRID_ORDER: tuple[tuple[str, float, float], ...] = tuple(
    (f"grid_{'m' if gx < 0 else 'p' if gx > 0 else '0'}{'m' if gy < 0 else 'p' if gy > 0 else '0'}", gx, gy)
    for gy in (1, 0, -1) for gx in (-1, 0, 1) if (gx, gy) != (0, 0)
)
# The spot check: the centre, then one off-centre mark (the front-right corner mark).
CHECK_ORDER: tuple[str, ...] = ("centre", "front_right")

# Timing the simulated clinician follows and the procedure's windows fit into (board seconds).
HOLD_S = 9.0          # a placement stays this long (the procedure needs settle + MEASURE_S)
MEASURE_S = 4.0       # a placement is measured over this much stable data
EMPTY_S = 1.5         # stable empty board needed between placements
ZERO_S = 3.0          # stable empty board for the zero step
NOISE_S = 30.0        # the noise-floor window (science.md 6.4 suggests 60 s; option)
NOISE_HOLD_S = NOISE_S + 6.0


@dataclass(frozen=True)
class Step:
    """One step: what kind, which mark (mm), which mass (kg)."""

    kind: str
    label: str
    mass_kg: float = 0.0
    x_mm: float = 0.0
    y_mm: float = 0.0

    @property
    def loaded(self) -> bool:
        return self.kind != ZERO

    def describe(self) -> str:
        if self.kind == ZERO:
            return "empty board"
        where = "the centre" if self.label in ("centre", "noise") or self.kind == LINEARITY else (
            f"the {self.label.replace('_', '-')} mark" if not self.label.startswith("grid") else
            f"the grid mark ({self.x_mm:+.0f}, {self.y_mm:+.0f}) mm")
        return f"{self.mass_kg:g} kg on {where}"


def mark_mm(label: str, positions_mm) -> tuple[float, float]:
    """Board-frame position (mm) of a named mark, from the cell positions (4, 2)."""
    p = np.asarray(positions_mm, dtype=float)
    centre = p.mean(axis=0)
    if label == "centre":
        return float(centre[0]), float(centre[1])
    names = ("front_left", "front_right", "back_left", "back_right")
    if label in names:
        c = centre + CORNER_MARK_FRACTION * (p[names.index(label)] - centre)
        return float(round(c[0], 3)), float(round(c[1], 3))
    for name, gx, gy in GRID_ORDER:
        if name == label:
            return float(centre[0] + gx * GRID_OFFSET_MM), float(centre[1] + gy * GRID_OFFSET_MM)
    raise ValueError(f"unknown calibration mark {label!r}")


def calibration_steps(mass_kg: float, positions_mm, linearity_kg=(), grid: bool = False,
                      noise_kg: float | None = None) -> list[Step]:
    """The full ordered step list: zero, base placements, grid, linearity masses, noise floor.

    ``noise_kg``: the dead weight for the noise floor (default: the heaviest mass given); 0 skips it.
    """
    steps = [Step(ZERO, "zero")]
    for label in BASE_ORDER:
        steps.append(Step(PLACE, label, mass_kg, *mark_mm(label, positions_mm)))
    if grid:
        for label, _, _ in GRID_ORDER:
            steps.append(Step(PLACE, label, mass_kg, *mark_mm(label, positions_mm)))
    cx, cy = mark_mm("centre", positions_mm)
    for m in linearity_kg:
        steps.append(Step(LINEARITY, f"centre_{m:g}kg", float(m), cx, cy))
    if noise_kg is None:
        noise_kg = max([mass_kg, *linearity_kg])
    if noise_kg:
        steps.append(Step(NOISE, "noise", float(noise_kg), cx, cy))
    return steps


def check_steps(mass_kg: float, positions_mm) -> list[Step]:
    """The spot check: zero, then the mass at the centre and at one off-centre mark."""
    return [Step(ZERO, "zero")] + [Step(PLACE, lab, mass_kg, *mark_mm(lab, positions_mm)) for lab in CHECK_ORDER]
