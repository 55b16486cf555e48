"""COP trace -> sway measures. One function per measure, each citing its definition.

Modules: ``time_domain`` (Prieto 1996), ``area`` (prediction ellipse, hull), ``spectral``
(Welch), ``diffusion`` (Collins & De Luca 1993), ``nonlinear`` (sample entropy, DFA),
``single_leg`` (time-to-boundary, touch-downs), ``landing`` (VSI, TTS), ``compare`` (Romberg
quotient, asymmetry index). ``compute_measures`` gives the standard set; ``MEASURES`` maps each
result key to its unit, label, reference and function.
"""
from rig.engine.sway.registry import MEASURES, Measure  # noqa: F401
from rig.engine.sway import area, compare, diffusion, landing, nonlinear, single_leg, spectral  # noqa: F401
from rig.engine.sway import time_domain  # noqa: F401
from rig.engine.sway.compute import DEFAULT_MEASURE_SETS, MEASURE_SETS, SETTINGS, compute_measures  # noqa: F401
from rig.engine.sway.single_leg import Foot  # noqa: F401
from rig.engine.sway.compare import asymmetry, asymmetry_index_pct, romberg, romberg_quotient_pct  # noqa: F401

__all__ = ["MEASURES", "Measure", "MEASURE_SETS", "DEFAULT_MEASURE_SETS", "SETTINGS", "compute_measures", "Foot", "romberg",
           "romberg_quotient_pct", "asymmetry", "asymmetry_index_pct"]
