"""Athlete details a clinic keeps, declared once: what each is, its unit and its plausible range.

All are optional; the athlete code (rig.store.core.check_code) is the only identifier needed.
Stored with the athlete (``Store.ensure_athlete``), exported with sessions, and removed by
``--anonymize`` (rig.io.data.anonymise_session drops every detail).
"""
from __future__ import annotations

import datetime as _dt
import unicodedata
from dataclasses import dataclass

from rig.errors import RigError


@dataclass(frozen=True)
class Detail:
    key: str
    label: str
    kind: str                     # "text", "int", "number" or "choice"
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""


DETAILS = (
    Detail("name", "Name", "text"),
    Detail("birth_year", "Birth year", "int", 1900, None),
    Detail("sex", "Sex", "choice", choices=("female", "male", "other")),
    Detail("sport", "Sport", "text"),
    Detail("dominant_leg", "Dominant leg", "choice", choices=("left", "right")),
    Detail("foot_length_mm", "Foot length", "number", 150, 350, unit="mm"),
    Detail("foot_width_mm", "Foot width", "number", 50, 150, unit="mm"),
    Detail("height_cm", "Height", "number", 100, 230, unit="cm"),
    Detail("body_mass_kg", "Body mass", "number", 20, 250, unit="kg"),
)
BY_KEY = {d.key: d for d in DETAILS}
MAX_TEXT = 100


def check_detail(key: str, value):
    """The value as stored (typed, trimmed) or RigError in one plain line."""
    d = BY_KEY.get(key)
    if d is None:
        raise RigError(f"unknown athlete detail {key!r} (known: {', '.join(BY_KEY)})")
    if d.kind == "text":
        v = unicodedata.normalize("NFC", str(value)).strip()
        if not v or len(v) > MAX_TEXT or any(unicodedata.category(ch).startswith("C") for ch in v):
            raise RigError(f"{d.label.lower()}: 1 to {MAX_TEXT} printable characters, got {value!r}")
        return v
    if d.kind == "choice":
        v = str(value).strip().lower()
        if v not in d.choices:
            raise RigError(f"{d.label.lower()}: one of {', '.join(d.choices)}, got {value!r}")
        return v
    text = str(value).strip().replace(",", ".")
    try:
        v = int(text) if d.kind == "int" else float(text)
    except ValueError:
        raise RigError(f"{d.label.lower()}: expected {'a whole number' if d.kind == 'int' else 'a number'}, "
                       f"got {value!r}") from None
    hi = d.hi if d.hi is not None else _dt.date.today().year
    if not (d.lo <= v <= hi):
        u = f" {d.unit}" if d.unit else ""
        raise RigError(f"{d.label.lower()}: between {d.lo:g} and {hi:g}{u}, got {value}")
    return v


def check_details(details: dict) -> dict:
    return {k: check_detail(k, v) for k, v in details.items() if v is not None}


def matches(code: str, details: dict, query: str) -> bool:
    """Case-insensitive search in the code and every detail (accents kept: 'mül' finds Müller)."""
    q = unicodedata.normalize("NFC", query).casefold()
    return q in code.casefold() or any(q in str(v).casefold() for v in details.values())
