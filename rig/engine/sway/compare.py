"""Comparisons between trials: Romberg quotient and limb asymmetry index, for any measure.

- Romberg quotient RQ = measure(eyes closed) / measure(eyes open) x 100 % (classically on
  path length, velocity or area; van Parys & Njiokiktjien 1976 [U], science.md §1.10). Only
  compare trials with identical fs, filtering and duration.
- Limb asymmetry index = 100 x (involved - uninvolved) / mean(involved, uninvolved) %
  (science.md §2.8 recommendation [D]). Positive: the involved limb's value is larger (for
  sway measures: more sway; for time-to-boundary: longer, i.e. better).

Both are NaN when the denominator is zero (the ratio rule in ``rig.engine.sway._checks``).
"""
from __future__ import annotations

from rig.engine.sway import _checks

ROMBERG = "van Parys & Njiokiktjien 1976 (Romberg quotient, EC/EO x 100)"
ASYMMETRY = "100 (involved - uninvolved) / mean of both (science.md §2.8)"


def romberg_quotient_pct(eyes_closed: float, eyes_open: float) -> float:
    """Romberg quotient (%) = 100 * EC / EO for one measure. NaN if EO is 0 or either is NaN."""
    return 100.0 * _checks.ratio(float(eyes_closed), float(eyes_open))


def asymmetry_index_pct(involved: float, uninvolved: float) -> float:
    """Limb asymmetry index (%) = 100 * (inv - uninv) / ((inv + uninv) / 2). NaN if both are 0
    (or their mean is 0) or either is NaN."""
    a, b = float(involved), float(uninvolved)
    return 100.0 * _checks.ratio(a - b, (a + b) / 2.0)


def romberg(eyes_closed: dict, eyes_open: dict) -> dict[str, float]:
    """Romberg quotient for every measure present in both dicts: keys ``<measure>_romberg_pct``."""
    return {f"{k}_romberg_pct": romberg_quotient_pct(eyes_closed[k], eyes_open[k])
            for k in eyes_closed if k in eyes_open}


def asymmetry(involved: dict, uninvolved: dict) -> dict[str, float]:
    """Asymmetry index for every measure in both dicts: keys ``<measure>_asymmetry_pct``."""
    return {f"{k}_asymmetry_pct": asymmetry_index_pct(involved[k], uninvolved[k])
            for k in involved if k in uninvolved}
