"""Human labels for what reports show: measure names, summary keys, athlete details.

No internal name (``ttb_mean_min_ml_s``, ``body_mass_kg``) reaches a page: measures use their
registry label and unit (rig.engine.sway.MEASURES), other keys a table here or a readable
form of the key with its unit suffix in words.
"""
from __future__ import annotations

import re

KEY_LABELS = {
    "body_mass_kg": "Body mass (kg)",
    "instrumented_side": "Side tested on the board",
    "screen": "Screen",
    "conclusion": "Conclusion",
    "protocol": "Protocol",
    "demo": "Demo (shortened trials)",
    "trials": "Trials",
    "valid": "valid",
    "invalid": "invalid",
    "component": "Component",
    "side": "Side",
    "value": "Value",
    "threshold": "Threshold",
    "met": "Met",
    "reference": "Reference",
    "measure": "Measure",
    "name": "Name",
    "birth_year": "Birth year",
    "sex": "Sex",
    "sport": "Sport",
    "dominant_leg": "Dominant leg",
    "foot_length_mm": "Foot length (mm)",
    "foot_width_mm": "Foot width (mm)",
    "height_cm": "Height (cm)",
    "cait": "CAIT",
    "status": "Status",
}
# the clinician's entries are labelled where they are declared (rig.session.entries)
from rig.session.entries import ENTRIES as _ENTRIES  # noqa: E402

KEY_LABELS.update({e.key: e.label for e in _ENTRIES})
UNIT_SUFFIXES = (("_mm_s", "mm/s"), ("_mm2", "mm²"), ("_kg", "kg"), ("_mm", "mm"), ("_cm", "cm"),
                 ("_hz", "Hz"), ("_pct", "%"), ("_percent", "%"), ("_s", "s"), ("_n", "N"))


def _measures():
    try:
        from rig.engine.sway import MEASURES
    except Exception:  # noqa: BLE001 - the engine is optional for reports of stored data
        return {}
    return MEASURES


def measure(name: str, unit: bool = True) -> str:
    """A measure's label, with its unit in brackets (``Mean velocity (mm/s)``)."""
    m = _measures().get(name)
    if m is None:
        return key(name)
    u = (m.unit or "").replace("^2", "²")
    return m.label + (f" ({u})" if unit and u and u != "1" else "")


def key(name: str) -> str:
    """Any other key in words: a table entry, else the key with its unit suffix spelled out."""
    if name in KEY_LABELS:
        return KEY_LABELS[name]
    if name in _measures():
        return measure(name)
    for suf, unit in UNIT_SUFFIXES:
        if name.endswith(suf) and len(name) > len(suf):
            return f"{name[:-len(suf)].replace('_', ' ').capitalize()} ({unit})"
    return name.replace("_", " ").capitalize()


_NAME_RE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def text(s: str) -> str:
    """Free text with any measure's internal name replaced by its label (screening reasons)."""
    ms = _measures()
    return _NAME_RE.sub(lambda m: measure(m.group(0), unit=False) if m.group(0) in ms else m.group(0), str(s))
