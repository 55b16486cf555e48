"""The chronic ankle instability screen: every component shown, never a black box, never a diagnosis.

Components, per ankle (thresholds and references come from the protocol's ``[screening]``):

(a) self-report: the Cumberland Ankle Instability Tool (CAIT) total entered by the clinician,
    against the protocol's cut-off (Wright 2014: <= 25), with the other published bands
    (Hiller 2006: <= 27; IAC research criterion: < 24) shown beside it;
(b) history: an ankle sprain and repeated giving way on that side (IAC, Gribble 2014);
(c) instrumented balance: the eyes-closed single-leg measures named in the protocol (e.g.
    time-to-boundary ML, COP ML SD) worse on this side than on the other side by more than
    the measure's minimal detectable change (MDC), and by more than this session's own
    trial-to-trial error (1.96 x the standard error of the difference of the two sides' trial
    means) when that is larger, and/or worse than the athlete's own baseline by more than the
    MDC;
(d) optionally the weight-bearing lunge: this side shorter than the other by more than the
    protocol's limit (Powden 2015: MDC 1.9 cm), "beyond measurement error".

"Possible chronic ankle instability, <side>: recommend clinical assessment" is raised only when
(a), (b) and a balance deficit ((c) or (d)) agree on that side (science.md §7.3). Otherwise the
result says which parts were normal and which were missing. Limb symmetry does not guarantee
normality: deficits can be bilateral after a sprain.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from rig.engine.mdc import Mdc, default_mdc

SIDES = ("left", "right")
CAVEAT = ("Screening, not diagnosis: instrumented single-leg measures have small likelihood ratios "
          "(Knapp 2011), so a deficit suggests, it does not indicate; limb symmetry does not "
          "guarantee normality (deficits can be bilateral).")


@dataclass
class ClinicalEntries:
    """What the clinician enters. Sides: "left", "right", "both" or "none"; None = not asked."""

    cait_left: int | None = None
    cait_right: int | None = None
    sprain_history: str | None = None
    giving_way: str | None = None      # 2 or more episodes of giving way (IAC)
    lunge_left_cm: float | None = None
    lunge_right_cm: float | None = None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class ScreeningResult:
    components: list[dict]
    flags: list[dict]
    conclusion: list[str]
    instrumented_side: str | None          # the side balance data alone point to (or None)
    summary: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = ["Screening (chronic ankle instability)"]
        for c in self.components:
            val = "missing" if c["value"] is None else c["value"]
            mark = "-" if c["met"] is None else ("MET" if c["met"] else "not met")
            out.append(f"  {c['side']:5s} {c['component']}: {val}  [{c['threshold']}]  {mark}  ({c['reference']})")
        out.append("")
        out += [f"  {line}" for line in self.conclusion]
        out.append(f"  {CAVEAT}")
        return out


def _sides(answer: str | None) -> set[str] | None:
    if answer is None:
        return None
    a = answer.lower()
    return {"left": {"left"}, "right": {"right"}, "both": {"left", "right"}, "none": set()}[a]


def _fmt(v: float) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def screen(rules, entries: ClinicalEntries | None, side_measures: dict, baseline: dict | None = None,
           mdc_for=None) -> ScreeningResult:
    """The screen for one session. ``side_measures``: {"left": {measure: value}, "right": {...}}
    from the protocol's screening condition (eyes closed, single leg); ``baseline`` the same
    from the athlete's baseline session (or None); ``mdc_for(measure) -> Mdc`` (default rig.engine.mdc)."""
    e = entries or ClinicalEntries()
    mdc_for = mdc_for or (lambda m: default_mdc(m))
    comps: list[dict] = []
    met: dict[str, dict[str, bool | None]] = {s: {} for s in SIDES}

    # (a) self-report
    for s in SIDES:
        score = getattr(e, f"cait_{s}")
        ok = None if score is None else score <= rules.cait_cutoff
        comps.append({"component": "CAIT total (self-report)", "side": s, "value": score,
                      "threshold": f"<= {rules.cait_cutoff:g}", "met": ok, "reference": rules.cait_reference})
        for b in rules.cait_bands:
            band = None if score is None else (score <= b["value"] if b["rule"] == "<=" else score < b["value"])
            comps.append({"component": "CAIT, other cut-off (shown, not used)", "side": s,
                          "value": score, "threshold": f"{b['rule']} {b['value']:g}", "met": band,
                          "reference": b["reference"]})
        met[s]["self_report"] = ok

    # (b) history
    sprain, giving = _sides(e.sprain_history), _sides(e.giving_way)
    for s in SIDES:
        hs = None if sprain is None else s in sprain
        gw = None if giving is None else s in giving
        comps.append({"component": "ankle sprain history", "side": s,
                      "value": None if hs is None else ("yes" if hs else "no"), "threshold": "yes",
                      "met": hs, "reference": rules.history_reference})
        comps.append({"component": "giving way, 2 or more episodes", "side": s,
                      "value": None if gw is None else ("yes" if gw else "no"), "threshold": "yes",
                      "met": gw, "reference": rules.history_reference})
        met[s]["history"] = None if hs is None or gw is None else (hs and gw)

    # (c) instrumented balance: side vs side, and vs the athlete's baseline
    deficit_sides: set[str] = set()
    for s in SIDES:
        other = "right" if s == "left" else "left"
        found, any_value = False, False
        for r in rules.balance:
            mdc = Mdc(r.measure, r.mdc_pct, "percent", "%", "protocol file") if r.mdc_pct is not None \
                else mdc_for(r.measure)
            v = side_measures.get(s, {}).get(r.measure)
            o = side_measures.get(other, {}).get(r.measure)
            ok = None
            thr_text = f"{r.worse} than the other side by more than the MDC ({_mdc_short(mdc)})"
            if _finite(v) and _finite(o):
                any_value = True
                diff = (o - v) if r.worse == "lower" else (v - o)
                limit, why = mdc.threshold(o), f"the MDC ({_mdc_short(mdc)})"
                noise = _trial_error(side_measures, s, other, r.measure)
                if noise is not None and noise > limit:
                    limit, why = noise, ("this session's trial-to-trial error (1.96 x SE of the "
                                         f"difference; larger than the MDC, {_mdc_short(mdc)})")
                ok = diff > limit
                thr_text = f"{r.worse} than the other side ({_fmt(o)}) by more than {_fmt(limit)}, {why}"
            comps.append({"component": f"{r.measure}, eyes closed, vs other side", "side": s,
                          "value": _fmt(v) if _finite(v) else None, "threshold": thr_text, "met": ok,
                          "reference": r.reference})
            found |= bool(ok)
            b = (baseline or {}).get(s, {}).get(r.measure)
            if baseline is not None and _finite(v) and _finite(b):
                diff = (b - v) if r.worse == "lower" else (v - b)
                okb = diff > mdc.threshold(b)
                comps.append({"component": f"{r.measure}, eyes closed, vs own baseline", "side": s,
                              "value": _fmt(v), "threshold": f"{r.worse} than baseline ({_fmt(b)}) by more "
                              f"than {_fmt(mdc.threshold(b))}", "met": okb, "reference": r.reference})
                found |= okb
        met[s]["balance"] = found if any_value else None
        if found:
            deficit_sides.add(s)

    # (d) weight-bearing lunge
    ll, lr = e.lunge_left_cm, e.lunge_right_cm
    for s in SIDES:
        mine, other = (ll, lr) if s == "left" else (lr, ll)
        ok = None
        if rules.lunge_asymmetry_cm is not None and mine is not None and other is not None:
            ok = (other - mine) > rules.lunge_asymmetry_cm
        if rules.lunge_asymmetry_cm is not None:
            comps.append({"component": "weight-bearing lunge (cm), shorter than the other side", "side": s,
                          "value": mine, "threshold": f"by more than {rules.lunge_asymmetry_cm:g} cm",
                          "met": ok, "reference": rules.lunge_reference})
        met[s]["lunge"] = ok

    instrumented = deficit_sides.pop() if len(deficit_sides) == 1 else None
    flags, conclusion = _conclude(met, comps)
    summary = {
        "screen": "chronic ankle instability (cai-screen)",
        "instrumented_side": instrumented or "none",
        "conclusion": " ".join(conclusion),
        "components": [{k: ("" if v is None else v) for k, v in c.items()} for c in comps],
    }
    return ScreeningResult(comps, flags, conclusion, instrumented, summary)


def _trial_error(side_measures: dict, a: str, b: str, measure: str) -> float | None:
    """1.96 x the standard error of the difference of two sides' trial means (None if unknown).

    A side difference smaller than this could come from trial-to-trial variation alone."""
    terms = []
    for side in (a, b):
        m = side_measures.get(side, {})
        sd = (m.get("trial_sd") or {}).get(measure)
        n = m.get("valid_trials")
        if not (_finite(sd) and _finite(n) and n >= 2):
            return None
        terms.append(sd * sd / n)
    return 1.96 * math.sqrt(sum(terms))


def _mdc_short(m: Mdc) -> str:
    amount = f"{m.value:g} % of the other side" if m.kind == "percent" else f"{m.value:g} {m.unit}"
    return amount + ("" if m.origin == "site" else ", documented default" if "no published" in m.source else "")


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def _conclude(met, comps) -> tuple[list[dict], list[str]]:
    flags: list[dict] = []
    lines: list[str] = []
    for s in SIDES:
        m = met[s]
        own = [c for c in comps if c["side"] == s and c["met"] and "not used" not in c["component"]]
        reasons = [f"{c['component']}: {c['value']} ({c['threshold']}; {c['reference']})" for c in own]
        deficit = bool(m.get("balance")) or bool(m.get("lunge"))
        if m.get("self_report"):
            flags.append(_flag("self_reported_instability", f"Self-reported instability ({s})", s, own, "CAIT"))
        if m.get("balance"):
            flags.append(_flag("single_leg_deficit", f"Single-leg control lower on the {s} side", s, own, "eyes closed"))
        if m.get("lunge"):
            flags.append(_flag("dorsiflexion_asymmetry", f"Dorsiflexion asymmetry beyond measurement error ({s})",
                               s, own, "lunge"))
        if m.get("self_report") and m.get("history") and deficit:
            flags.insert(0, {"name": "possible_cai", "side": s,
                             "label": f"Possible chronic ankle instability, {s}: recommend clinical assessment",
                             "reasons": reasons, "components": own})
            lines.append(f"POSSIBLE CHRONIC ANKLE INSTABILITY, {s.upper()}: recommend clinical assessment "
                         "(self-report, history and a balance deficit agree).")
            continue
        parts = []
        for key, name in (("self_report", "self-report (CAIT)"), ("history", "history (sprain and giving way)")):
            v = m.get(key)
            parts.append(f"{name} {'missing' if v is None else ('positive' if v else 'normal')}")
        if m.get("balance") is None and m.get("lunge") is None:
            parts.append("balance deficit missing (no data)")
        else:
            parts.append(f"balance deficit {'present' if deficit else 'not found'}")
        lines.append(f"{s.capitalize()} ankle: no flag: " + ", ".join(parts) + ".")
    return flags, lines


def _flag(name, label, side, own, needle) -> dict:
    comps = [c for c in own if needle.lower() in c["component"].lower()]
    return {"name": name, "label": label, "side": side,
            "reasons": [f"{c['component']}: {c['value']} ({c['threshold']})" for c in comps],
            "components": comps}
