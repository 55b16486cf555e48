"""Trial conditions: a canonical form, a key per condition, and pairing of left and right legs.

A condition is ``{"name", "stance", "eyes", "surface", "side"}`` (docs/CONTRACTS.md). Trials
are averaged per condition *including* the side (``condition_key``); reports and history put
the two sides of the same task next to each other (``task_key`` leaves the side out).
"""
from __future__ import annotations

import math

SIDES = ("left", "right")


def normalise(condition: dict | None) -> dict:
    """A copy with the five keys present; ``stance="left"`` becomes single-leg, side left."""
    c = dict(condition or {})
    for k in ("name", "stance", "eyes", "surface", "side"):
        c[k] = "" if c.get(k) is None else str(c.get(k))
    if not c["side"] and c["stance"].lower() in SIDES:
        c["side"], c["stance"] = c["stance"].lower(), "single-leg"
    c["side"] = c["side"].lower()
    if not c["name"]:
        c["name"] = " ".join(v for v in (c["stance"], _eyes(c["eyes"]), c["surface"], c["side"]) if v)
    return c


def _eyes(eyes: str) -> str:
    e = eyes.lower()
    if e in ("open", "eo"):
        return "eyes open"
    if e in ("closed", "ec"):
        return "eyes closed"
    return eyes


def condition_key(condition: dict) -> str:
    c = normalise(condition)
    return "|".join((c["stance"], c["eyes"], c["surface"], c["side"])) if c["stance"] else c["name"]


def _sideless_stance(stance: str) -> str:
    """``single_left``/``single_right`` (the protocols' stances) -> ``single-leg``."""
    st = stance.lower()
    return "single-leg" if st.startswith("single_") and st[len("single_"):] in SIDES else stance


def task_key(condition: dict) -> str:
    """The condition without its side: what a left and a right trial have in common."""
    c = normalise(condition)
    if c["stance"]:
        return "|".join((_sideless_stance(c["stance"]), c["eyes"], c["surface"]))
    name = c["name"]
    for side in SIDES:
        name = name.replace(side, "").replace(side.capitalize(), "")
    return " ".join(name.split())


def task_label(condition: dict) -> str:
    c = normalise(condition)
    if c["stance"]:
        st = {"single-leg": "Single leg", "bipedal": "Bipedal", "tandem": "Tandem"}.get(
            _sideless_stance(c["stance"]), _sideless_stance(c["stance"]))
        return ", ".join(v for v in (st, _eyes(c["eyes"]), c["surface"]) if v)
    return task_key(condition)


def side_label(condition: dict) -> str:
    return normalise(condition)["side"] or "both"


def finite(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)
