"""The measure registry: name -> unit, label, reference and the function that computes it.

Reports and exports use it to label numbers (``MEASURES["mean_velocity_mm_s"].unit``); every
key that ``compute_measures`` returns is registered here (a test checks it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Measure:
    name: str            # key in result dicts, unit suffix included (e.g. "rms_ml_mm")
    unit: str            # "mm", "mm/s", "mm^2", "Hz", "s", "1" (dimensionless), "count", "%"
    label: str           # short human label for tables and reports
    reference: str       # where the definition comes from (paper, year) and any variant
    function: Callable   # the public function that computes it
    group: str           # "time", "area", "spectral", "diffusion", "nonlinear", "single_leg",
                         # "landing", "trial"


MEASURES: dict[str, Measure] = {}


def register(name: str, unit: str, label: str, reference: str, function: Callable,
             group: str) -> None:
    if name in MEASURES and MEASURES[name].function is not function:
        raise ValueError(f"measure {name!r} registered twice")
    MEASURES[name] = Measure(name, unit, label, reference, function, group)


def register_all(function: Callable, group: str, rows) -> None:
    """Register the measures one function returns: ``rows`` of (name, unit, label, reference)."""
    for name, unit, label, reference in rows:
        register(name, unit, label, reference, function, group)
