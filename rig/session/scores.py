"""Protocol-level scores computed from a session: BESS error totals and the Romberg quotient.

BESS (Riemann, Guskiewicz & Shields 1999, J Sport Rehabil 8:71-82; rules as reproduced in
published protocols, science.md 4.3): one point per error (hands off the iliac crests, eyes
opened, step/stumble/fall, hip > 30 deg flexion or abduction, forefoot or heel lifted, out of
the test position > 5 s; simultaneous errors count once), at most 10 per condition (60 in all);
unable to hold the stance for 5 s scores 10. The board only proposes candidates
(rig.engine.validity.bess_error_candidates); the clinician's count is the score.

Romberg quotient (science.md 1.10): RQ = measure(eyes closed) / measure(eyes open) x 100 %,
usually on path length, mean velocity or area; the standard definition, classically van Parys &
Njiokiktjien 1976 (not verified here). Computed only between conditions that differ in the eyes
alone (same stance, surface, kind, hence same rate, filter and duration), and shown with both
underlying values. Device-specific: never compared with other platforms' norms.
"""
from __future__ import annotations

import math

BESS_MAX_PER_CONDITION = 10
BESS_REFERENCE = "Riemann, Guskiewicz & Shields 1999 (J Sport Rehabil 8:71-82): 1 point per error, at most 10 per condition"
ROMBERG_REFERENCE = ("Romberg quotient = eyes closed / eyes open x 100 % (standard definition; "
                     "van Parys & Njiokiktjien 1976); device-specific, compare within this board only")


def bess_totals(errors: dict[str, int], surfaces: dict[str, str]) -> dict:
    """Totals of confirmed BESS errors: per condition (capped at 10), per surface, overall.

    ``errors``: condition name -> errors the clinician counted; ``surfaces``: condition name ->
    "firm" or "foam"."""
    per = {}
    for name, n in errors.items():
        n = int(n)
        if n < 0:
            raise ValueError(f"BESS errors cannot be negative ({name}: {n})")
        per[name] = min(n, BESS_MAX_PER_CONDITION)
    by_surface = {s: sum(v for k, v in per.items() if surfaces.get(k) == s) for s in ("firm", "foam")}
    return {"conditions": per, "firm": by_surface["firm"], "foam": by_surface["foam"],
            "total": sum(per.values()), "max_total": BESS_MAX_PER_CONDITION * len(per),
            "reference": BESS_REFERENCE}


def bess_candidates(session: dict) -> dict[str, list[dict]]:
    """Condition name -> the board's error candidates over its non-practice trials (stored)."""
    out: dict[str, list[dict]] = {}
    for t in session.get("trials", []):
        if t.get("practice"):
            continue
        name = (t.get("condition") or {}).get("name", "")
        out.setdefault(name, []).extend((t.get("processing") or {}).get("error_candidates", []) or [])
    return out


def eyes_pairs(conditions) -> list[tuple[str, str]]:
    """(eyes-open name, eyes-closed name) of conditions differing only in the eyes.

    ``conditions``: dicts or objects with name, stance, eyes, surface, kind."""
    def get(c, k):
        return c.get(k) if isinstance(c, dict) else getattr(c, k, None)

    open_, closed = {}, {}
    for c in conditions:
        key = (get(c, "stance"), get(c, "surface") or "firm", get(c, "kind") or "static")
        (open_ if get(c, "eyes") == "open" else closed)[key] = get(c, "name")
    return [(open_[k], closed[k]) for k in open_ if k in closed]


ROMBERG_MEASURES = ("path_length_mm", "mean_velocity_mm_s", "ellipse95_area_mm2")


def romberg_quotients(conditions, means: dict[str, dict], measures=ROMBERG_MEASURES) -> list[dict]:
    """Per eyes-open/closed pair and measure: both values and EC/EO x 100 % (NaN if EO is 0).

    Only the measures the quotient is usually taken on (path length, mean velocity, area)."""
    out = []
    for eo, ec in eyes_pairs(conditions):
        a, b = means.get(eo) or {}, means.get(ec) or {}
        for m in measures:
            if m not in ROMBERG_MEASURES:
                continue
            if m in a and m in b:
                va, vb = float(a[m]), float(b[m])
                q = 100.0 * vb / va if va and math.isfinite(va) and math.isfinite(vb) else math.nan
                out.append({"eyes_open": eo, "eyes_closed": ec, "measure": m, "eyes_open_value": va,
                            "eyes_closed_value": vb, "quotient_pct": q})
    return out


def protocol_summary(protocol, means: dict[str, dict]) -> dict:
    """What a session's summary stores beyond the screen: the protocol's own measures list and,
    where the protocol pairs eyes open and closed, the Romberg quotients."""
    out: dict = {"measures": list(protocol.measures)}
    rq = romberg_quotients(protocol.conditions, means, protocol.measures)
    if rq:
        out["romberg_quotient"] = rq
        out["romberg_reference"] = ROMBERG_REFERENCE
    return out
