"""Where the feet go on the board for each stance: the marks a clinician draws on the top.

One convention shared by the runner (validity, time-to-boundary), the live view (outlines) and
the simulated athlete, so all three agree on where the base of support is. Board frame: origin
at the board centre, x medio-lateral (+ right), y antero-posterior (+ forward), mm.

* bipedal: feet side by side, centres 100 mm either side of the midline (hip width, parallel).
* single leg (left or right): the athlete stands on the bipedal marks and lifts the other foot,
  so the stance foot stays on its own mark (x = -100 mm left, +100 mm right). The side of the
  COP then tells which foot is down, so the runner can refuse a trial on the wrong foot, and a
  touch-down of the lifted foot (on its own mark) moves the COP towards the midline.
* tandem: heel to toe on the midline, the non-dominant (here: left) foot behind.

Foot size defaults to an adult foot (250 x 95 mm, length x forefoot width); the runner accepts
the athlete's own measurements (``--foot-length-mm``, ``--foot-width-mm``), which matter for
time-to-boundary (Hertel et al. 2006 use each athlete's foot length and width).
"""
from __future__ import annotations

from rig.engine.sway.single_leg import Foot

FOOT_LENGTH_MM = 250.0
FOOT_WIDTH_MM = 95.0
BIPEDAL_HALF_SPACING_MM = 100.0
STANCES = ("bipedal", "tandem", "single_left", "single_right")


def feet(stance: str, length_mm: float = FOOT_LENGTH_MM,
         width_mm: float = FOOT_WIDTH_MM) -> dict[str, Foot]:
    """The feet on the board for ``stance``: {"left": Foot, "right": Foot} (only those down)."""
    if stance == "single_left":
        return {"left": Foot(length_mm, width_mm, -BIPEDAL_HALF_SPACING_MM, 0.0)}
    if stance == "single_right":
        return {"right": Foot(length_mm, width_mm, BIPEDAL_HALF_SPACING_MM, 0.0)}
    if stance == "bipedal":
        return {"left": Foot(length_mm, width_mm, -BIPEDAL_HALF_SPACING_MM, 0.0),
                "right": Foot(length_mm, width_mm, BIPEDAL_HALF_SPACING_MM, 0.0)}
    if stance == "tandem":
        return {"left": Foot(length_mm, width_mm, 0.0, -length_mm / 2),
                "right": Foot(length_mm, width_mm, 0.0, length_mm / 2)}
    raise ValueError(f"unknown stance {stance!r}; expected one of {', '.join(STANCES)}")


def base_of_support(stance: str, length_mm: float = FOOT_LENGTH_MM,
                    width_mm: float = FOOT_WIDTH_MM) -> Foot:
    """The rectangle around every foot down in ``stance`` (for single leg: the stance foot)."""
    fs = list(feet(stance, length_mm, width_mm).values())
    x0 = min(f.bounds_mm[0] for f in fs)
    x1 = max(f.bounds_mm[1] for f in fs)
    y0 = min(f.bounds_mm[2] for f in fs)
    y1 = max(f.bounds_mm[3] for f in fs)
    return Foot(y1 - y0, x1 - x0, (x0 + x1) / 2, (y0 + y1) / 2)


def free_foot_touchdown_mm(stance: str) -> tuple[float, float]:
    """Where the lifted foot of a single-leg stance lands if it touches down: its own mark (mm)."""
    if stance == "single_left":
        return (BIPEDAL_HALF_SPACING_MM, 0.0)
    if stance == "single_right":
        return (-BIPEDAL_HALF_SPACING_MM, 0.0)
    raise ValueError(f"{stance!r} is not a single-leg stance")
