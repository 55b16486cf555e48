"""The chronic ankle instability screen: three separate statements per ankle, never a diagnosis.

(a) **Criteria**: does this ankle meet the International Ankle Consortium's criteria for CAI
    (Gribble 2014), from the clinician's entries: a significant sprain at least 12 months ago;
    giving way at least twice in the last 6 months and/or recurrent sprain and/or feelings of
    instability; CAIT below the IAC cut-off. Answers are yes / no / "cannot be decided" (an entry
    is missing), with the other published CAIT cut-offs shown beside it.
(b) **Balance**: the instrumented findings of the eyes-closed single-leg trials, each measure
    against the athlete's own baseline (beyond the MDC), against the other side (beyond
    measurement error: the MDC, or this session's trial-to-trial error when larger) and against
    the published healthy range for the same condition ("within / outside the published healthy
    range", never "abnormal"); plus the weight-bearing lunge beside the other side. Foot-lifts
    (touch-downs) are counted and shown.
(c) **Recommendation**, worded as screening, with the likelihood ratios the literature gives.
    An ankle that meets the criteria is always recommended for a clinical assessment, whatever
    the balance statement says: balance measures cannot rule CAI out.

Every number (cut-offs, LRs, MDC defaults, healthy ranges) comes from rig.published.screening.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from rig.engine.mdc import Mdc
from rig.published import screening as pub

SIDES = ("left", "right")
CAVEAT = ("Screening, not diagnosis. No flag does not exclude CAI; limb symmetry does not guarantee "
          "normality (balance can be lower on both sides after a sprain); values are specific to this device and processing.")


# What the clinician enters is declared once, in rig.session.entries (IAC history per ankle:
# ``sprain_months_<side>`` months since the initial significant lateral sprain,
# ``giving_way_6mo_<side>`` episodes in the last 6 months, ``recurrent_sprain`` and
# ``feels_unstable`` as sides; ``sprain_history`` and ``giving_way`` are the older, coarser entries).
from rig.session.entries import ClinicalEntries  # noqa: E402


@dataclass
class ScreeningResult:
    components: list[dict]
    flags: list[dict]
    conclusion: list[str]
    instrumented_side: str | None          # the side balance data alone point to (or None)
    summary: dict = field(default_factory=dict)
    statements: dict = field(default_factory=dict)   # side -> {"criteria", "balance", "recommendation"}

    def lines(self) -> list[str]:
        """The screen as text: per ankle its three statements, then the components with their
        thresholds and numbered sources, listed once at the end."""
        out = ["Screening (chronic ankle instability): screening, not diagnosis"]
        sources: dict[str, int] = {}
        for s in SIDES:
            st = self.statements.get(s)
            if not st:
                continue
            out.append(f"  {s.capitalize()} ankle")
            for key, head in (("criteria", "Criteria"), ("balance", "Balance"), ("recommendation", "Recommendation")):
                out.append(f"    {head}: {st[key]['text']}")
            for c in self.components:
                if c["side"] != s:
                    continue
                val = "missing" if c["value"] is None else c["value"]
                mark = "" if c["met"] is None else ("  yes" if c["met"] else "  no")
                ref = c["reference"]
                tag = f"  [{sources.setdefault(ref, len(sources) + 1)}]" if ref and ref != "-" else ""
                out.append(f"      {c['statement']}: {c['component']}: {val} ({c['threshold']}){mark}{tag}")
        out.append("")
        out += [f"  {line}" for line in self.conclusion]
        out.append(f"  {CAVEAT}")
        if sources:
            out.append("  Sources:")
            out += [f"    [{i}] {ref}" for ref, i in sources.items()]
        return out


# ------------------------------------------------------------------------------ helpers
def months_since(text, today=None) -> float:
    """Months (30.44 days) from a date ``YYYY-MM`` or ``YYYY-MM-DD`` to ``today``, or a number of
    months given directly. ValueError with a plain message otherwise."""
    import datetime as dt

    if isinstance(text, (int, float)):
        months = float(text)
    else:
        t = str(text).strip()
        try:
            months = float(t)
        except ValueError:
            try:
                d = dt.date.fromisoformat(t if len(t) > 7 else t + "-01")
            except ValueError:
                raise ValueError(f"{t!r}: expected months (e.g. 18) or a date YYYY-MM[-DD]") from None
            months = ((today or dt.date.today()) - d).days / 30.44
    if not (0 <= months <= 1200):
        raise ValueError(f"{text!r}: months since the sprain must be 0-1200 (a date in the past)")
    return round(months, 1)


def _sides(answer: str | None) -> set[str] | None:
    if answer is None:
        return None
    return {"left": {"left"}, "right": {"right"}, "both": {"left", "right"}, "none": set()}[answer.lower()]


def _fmt(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _all(vals) -> bool | None:
    """Three-valued AND: False if any False, None if any unknown, else True."""
    vals = list(vals)
    if any(v is False for v in vals):
        return False
    return None if any(v is None for v in vals) else True


def _any(vals) -> bool | None:
    """Three-valued OR: True if any True, None if any unknown, else False."""
    vals = list(vals)
    if any(v is True for v in vals):
        return True
    return None if any(v is None for v in vals) else False


def _yn(v: bool | None) -> str | None:
    return None if v is None else ("yes" if v else "no")


def default_mdc(measure: str) -> Mdc:
    """The shipped MDC when the site has measured none (rig.engine.mdc: the one lookup)."""
    from rig.engine.mdc import default_mdc as shipped

    return shipped(measure)


def site_or_default(store):
    """``mdc_for`` for ``screen``: the store's MDC lookup (the site's own values first, else the
    shipped, sourced defaults), the same lookup ``rig history`` and the report use."""
    return store.mdc if store is not None else default_mdc


def condition_key(eyes: str) -> str:
    """The published-reference condition the screen's balance trials correspond to."""
    return f"single_leg_eyes_{eyes}"


# ------------------------------------------------------------------------- (a) criteria
def criteria(e: ClinicalEntries, side: str) -> tuple[bool | None, list[dict], str]:
    """Whether ``side`` meets the IAC criteria (True / False / None = cannot be decided), the
    components, and the statement's text."""
    comps: list[dict] = []

    def add(name, value, threshold, met, ref=pub.GRIBBLE_2014):
        comps.append({"statement": "criteria", "component": name, "side": side, "value": value,
                      "threshold": threshold, "met": met, "reference": ref})

    # 1. a significant sprain at least 12 months ago
    months = getattr(e, f"sprain_months_{side}")
    ever = _sides(e.sprain_history)
    if _finite(months):
        sprain = months >= pub.IAC_SPRAIN_MIN_MONTHS
        add("initial significant sprain, months ago", _fmt(float(months)),
            f">= {pub.IAC_SPRAIN_MIN_MONTHS} months", sprain)
    elif ever is not None and side not in ever:
        sprain = False
        add("significant ankle sprain", "no", f"yes, >= {pub.IAC_SPRAIN_MIN_MONTHS} months ago", False)
    else:
        sprain = None
        add("initial significant sprain, months ago", "yes, time not entered" if ever else None,
            f">= {pub.IAC_SPRAIN_MIN_MONTHS} months", None)
    # 2. giving way (>= 2 in 6 months) and/or recurrent sprain and/or feelings of instability
    count = getattr(e, f"giving_way_6mo_{side}")
    legacy = _sides(e.giving_way)
    if _finite(count):
        gw = count >= pub.IAC_GIVING_WAY_MIN_EPISODES
        add(f"giving way, episodes in the last {pub.IAC_GIVING_WAY_WINDOW_MONTHS} months", int(count),
            f">= {pub.IAC_GIVING_WAY_MIN_EPISODES}", gw)
    elif legacy is not None and side not in legacy:
        gw = False
        add("giving way, 2 or more episodes", "no", f">= {pub.IAC_GIVING_WAY_MIN_EPISODES} in "
            f"{pub.IAC_GIVING_WAY_WINDOW_MONTHS} months", False)
    else:
        gw = None
        add(f"giving way, episodes in the last {pub.IAC_GIVING_WAY_WINDOW_MONTHS} months",
            "2 or more, time window not asked" if legacy else None,
            f">= {pub.IAC_GIVING_WAY_MIN_EPISODES}", None)
    rec_s, feel_s = _sides(e.recurrent_sprain), _sides(e.feels_unstable)
    rec = None if rec_s is None else side in rec_s
    feel = None if feel_s is None else side in feel_s
    add("recurrent sprain", _yn(rec), "yes", rec)
    add("feelings of instability", _yn(feel), "yes", feel)
    instability = _any([gw, rec, feel])
    # 3. self-reported disability: CAIT (IAC cut-off used; the others shown)
    score = getattr(e, f"cait_{side}")
    cait = None if score is None else pub.CAIT_CRITERION.met(score)
    for c in pub.CAIT_CUTOFFS:
        used = c is pub.CAIT_CRITERION
        lr = (f"; Se {c.sensitivity:.1%}, Sp {c.specificity:.1%}, LR+ {c.lr_positive:g}, LR- {c.lr_negative:g}"
              if c.lr_positive else "")
        comps.append({"statement": "criteria", "side": side, "value": score,
                      "component": "CAIT total (self-report)" + ("" if used else ", other cut-off (shown, not used)"),
                      "threshold": f"{c.rule} {c.value:g}: {c.use}{lr}",
                      "met": None if score is None else c.met(score), "reference": c.source})
    add("other IAC items", None, pub.IAC_NOT_ASKED + "; criteria wording as commonly reproduced, "
        "to verify against the position statement", None)
    met = _all([sprain, instability, cait])
    parts = {
        "sprain": sprain, "instability": instability, "disability": cait,
    }
    if met:
        text = (f"meets the International Ankle Consortium criteria for chronic ankle instability "
                f"(sprain >= {pub.IAC_SPRAIN_MIN_MONTHS} months ago; giving way, recurrent sprain or "
                f"feelings of instability; {pub.CAIT_CRITERION.text}: {score}).")
    elif met is False:
        short = {"sprain": f"significant sprain >= {pub.IAC_SPRAIN_MIN_MONTHS} months ago",
                 "instability": "giving way, recurrent sprain or feelings of instability",
                 "disability": pub.CAIT_CRITERION.text}
        no = [short[k] for k, v in parts.items() if v is False]
        text = "does not meet the International Ankle Consortium criteria (not met: " + "; ".join(no) + ")."
    else:
        missing = [k for k, v in parts.items() if v is None]
        text = ("the International Ankle Consortium criteria cannot be decided: entries missing or "
                "without their time window (" + ", ".join(missing) + ").")
    return met, comps, text


# -------------------------------------------------------------------------- (b) balance
def balance(rules, side: str, side_measures: dict, baseline: dict | None, mdc_for,
            healthy_range, entries: ClinicalEntries) -> tuple[bool | None, list[dict], str]:
    """Balance findings on ``side`` (True: at least one; False: none; None: no data)."""
    other = "right" if side == "left" else "left"
    cond = condition_key(getattr(rules, "condition_eyes", "closed"))
    comps: list[dict] = []
    findings: list[str] = []
    any_value = False

    def add(name, value, threshold, met, ref):
        comps.append({"statement": "balance", "component": name, "side": side, "value": value,
                      "threshold": threshold, "met": met, "reference": ref})

    for r in rules.balance:
        mdc = (Mdc(r.measure, r.mdc_pct, "percent", "%", "protocol file") if r.mdc_pct is not None
               else mdc_for(r.measure))
        v = side_measures.get(side, {}).get(r.measure)
        o = side_measures.get(other, {}).get(r.measure)
        worse_word = "lower" if r.worse == "lower" else "higher"
        if not _finite(v):
            add(f"{r.measure}, vs other side", None, "no valid trial", None, r.reference)
            continue
        any_value = True
        # against the other side, beyond measurement error
        if _finite(o):
            diff = (o - v) if r.worse == "lower" else (v - o)
            limit, why = mdc.threshold(o), f"MDC {_mdc_short(mdc)}"
            noise = _trial_error(side_measures, side, other, r.measure)
            if noise is not None and noise > limit:
                limit, why = noise, f"this session's trial-to-trial error, larger than the MDC {_mdc_short(mdc)}"
            ok = diff > limit
            add(f"{r.measure}, vs other side", _fmt(v),
                f"{worse_word} than the other side ({_fmt(o)}) by more than measurement error "
                f"({_fmt(limit)}: {why})", ok, f"{r.reference}; {mdc.source}")
            if ok:
                findings.append(f"{r.measure} {worse_word} than your other side by more than measurement error")
        # against the athlete's own baseline
        b = (baseline or {}).get(side, {}).get(r.measure)
        if baseline is not None and _finite(b):
            diff = (b - v) if r.worse == "lower" else (v - b)
            okb = diff > mdc.threshold(b)
            add(f"{r.measure}, vs own baseline", _fmt(v),
                f"{worse_word} than the baseline ({_fmt(b)}) by more than measurement error "
                f"({_fmt(mdc.threshold(b))}: MDC {_mdc_short(mdc)})", okb, mdc.source)
            if okb:
                findings.append(f"{r.measure} {worse_word} than your baseline by more than measurement error")
    # every measure of this side against the published healthy range for the same condition
    for m, v in sorted(side_measures.get(side, {}).items()):
        rng = healthy_range(cond, m) if healthy_range and _finite(v) else None
        if rng is None:
            continue
        lo, hi, src = rng
        where = "within" if lo <= v <= hi else f"outside ({'below' if v < lo else 'above'})"
        worse = _worse_direction(rules, m)
        outside_worse = (v < lo) if worse == "lower" else (v > hi) if worse == "higher" else not lo <= v <= hi
        decides = pub.HEALTHY_RANGE_DECIDES and worse is not None
        add(f"{m}, vs published healthy range", _fmt(float(v)),
            f"{where} the published healthy range {_fmt(lo)}-{_fmt(hi)}"
            + ("" if decides else f"; {pub.HEALTHY_RANGE_CAVEAT}"),
            (outside_worse if decides else None), src)
        if decides and outside_worse:
            findings.append(f"{m} outside the published healthy range ({'below' if v < lo else 'above'})")
    # foot-lifts / touch-downs: counted and shown (decided only in the foot-lift protocol)
    tds = side_measures.get(side, {}).get("touchdowns")
    if _finite(tds):
        add("touch-downs per trial (counted, shown)", _fmt(float(tds)), "shown for the clinician; "
            "no published cut-off for this trial length", None, pub.FOOT_LIFT_EFFECT["source"])
    # weight-bearing lunge, beside the other side
    mine, theirs = getattr(entries, f"lunge_{side}_cm"), getattr(entries, f"lunge_{other}_cm")
    if mine is not None and theirs is not None:
        ok = (theirs - mine) > pub.LUNGE_MDC_CM
        any_value = True
        add("weight-bearing lunge (cm), vs other side", mine,
            f"shorter than the other side ({theirs:g}) by more than {pub.LUNGE_MDC_CM:g} cm", ok,
            pub.LUNGE_SOURCE)
        if ok:
            findings.append("weight-bearing lunge shorter than your other side by more than measurement error")
    if not any_value:
        return None, comps, "no balance data (no valid eyes-closed single-leg trial)."
    if findings:
        return True, comps, "balance finding: " + "; ".join(findings) + "."
    against = "the other side" + (" and of the athlete's baseline" if baseline else "")
    return False, comps, f"no balance impairment found (every measure within measurement error of {against})."


def _worse_direction(rules, measure: str) -> str | None:
    """"lower" or "higher" from the protocol's rule for ``measure`` (else from rig.engine.mdc)."""
    from rig.engine.mdc import higher_is_better

    for r in rules.balance:
        if r.measure == measure:
            return r.worse
    return "lower" if higher_is_better(measure) else "higher"


def _trial_error(side_measures: dict, a: str, b: str, measure: str) -> float | None:
    """1.96 x the standard error of the difference of two sides' trial means (None if unknown)."""
    terms = []
    for s in (a, b):
        m = side_measures.get(s, {})
        sd = (m.get("trial_sd") or {}).get(measure)
        n = m.get("valid_trials")
        if not (_finite(sd) and _finite(n) and n >= 2):
            return None
        terms.append(sd * sd / n)
    return 1.96 * math.sqrt(sum(terms))


def _mdc_short(m: Mdc) -> str:
    amount = f"{m.value:g} % of the reference value" if m.kind == "percent" else f"{m.value:g} {m.unit}"
    return amount + (", measured at this site" if m.origin == "site" else ", default")


# ------------------------------------------------------------------- (c) recommendation
def recommendation(side: str, crit: bool | None, bal: bool | None, score) -> tuple[str, str | None]:
    """(text, flag name or None). Meeting the criteria always recommends an assessment."""
    w = pub.CAIT_WRIGHT
    self_report = score is not None and w.met(score)
    if crit:
        tail = ("; the balance test also found a difference" if bal else
                "; no balance impairment was found, which does not change this: balance tests cannot "
                "rule CAI out")
        return ("recommend a clinical assessment for chronic ankle instability: the ankle meets the "
                f"IAC criteria{tail}.", "possible_cai")
    if self_report:
        return (f"self-reported instability ({w.text}: LR+ {w.lr_positive:g}, LR- {w.lr_negative:g}, "
                "Wright 2014): a clinical assessment is suggested.", "self_reported_instability")
    if bal:
        return ("single-leg balance differs (see the balance statement): a clinical assessment may be "
                f"worthwhile; {pub.BALANCE_LR_TEXT}.", "balance_finding")
    return "no flag. No flag does not exclude CAI.", None


# ------------------------------------------------------------------------------- screen
def screen(rules, entries: ClinicalEntries | None, side_measures: dict, baseline: dict | None = None,
           mdc_for=None, healthy_range=None) -> ScreeningResult:
    """The screen for one session. ``rules``: the protocol's [screening] (which measures feed the
    balance statement, and which is worse); ``side_measures``: {"left": {measure: value, ...,
    "valid_trials", "trial_sd"}, "right": {...}} of the eyes-closed single-leg conditions;
    ``baseline`` the same from the athlete's baseline session (or None); ``mdc_for(measure) -> Mdc``
    (site values; default rig.published.screening's); ``healthy_range(condition, measure) ->
    (low, high, source) | None`` (default rig.published.screening.healthy_range)."""
    e = entries or ClinicalEntries()
    mdc_for = mdc_for or default_mdc
    healthy_range = healthy_range or pub.healthy_range
    comps: list[dict] = []
    statements: dict[str, dict] = {}
    flags: list[dict] = []
    conclusion: list[str] = []
    balance_sides = set()
    for s in SIDES:
        crit, c_comps, c_text = criteria(e, s)
        bal, b_comps, b_text = balance(rules, s, side_measures, baseline, mdc_for, healthy_range, e)
        r_text, flag = recommendation(s, crit, bal, getattr(e, f"cait_{s}"))
        comps += c_comps + b_comps
        statements[s] = {"criteria": {"met": crit, "text": c_text},
                         "balance": {"finding": bal, "text": b_text},
                         "recommendation": {"flag": flag, "text": r_text}}
        if bal:
            balance_sides.add(s)
        own = [c for c in c_comps + b_comps if c["met"] and "not used" not in c["component"]]
        reasons = [f"{c['component']}: {c['value']} ({c['threshold']}; {c['reference']})" for c in own]
        if flag == "possible_cai":
            flags.append({"name": "possible_cai", "side": s,
                          "label": f"Possible chronic ankle instability, {s}: recommend clinical assessment",
                          "reasons": reasons, "components": own,
                          "criteria": c_text, "balance": b_text})
            conclusion.append(f"POSSIBLE CHRONIC ANKLE INSTABILITY, {s.upper()}: recommend clinical assessment "
                              f"(criteria: {c_text} Balance, separately: {b_text})")
        elif flag == "self_reported_instability":
            flags.append({"name": flag, "side": s, "label": f"Self-reported instability ({s})",
                          "reasons": reasons, "components": own})
            conclusion.append(f"{s.capitalize()} ankle: {r_text} Criteria: {c_text} Balance: {b_text}")
        elif flag == "balance_finding":
            flags.append({"name": flag, "side": s, "label": f"Single-leg balance differs on the {s} side",
                          "reasons": reasons, "components": own})
            conclusion.append(f"{s.capitalize()} ankle: {r_text} Criteria: {c_text} Balance: {b_text}")
        else:
            conclusion.append(f"{s.capitalize()} ankle: no flag (no flag does not exclude CAI). "
                              f"Criteria: {c_text} Balance: {b_text}")
    flags.sort(key=lambda f: f["name"] != "possible_cai")
    instrumented = next(iter(balance_sides)) if len(balance_sides) == 1 else None
    summary = {
        "screen": "chronic ankle instability (cai-screen): screening, not diagnosis",
        "instrumented_side": instrumented or "none",
        "statements": {s: {k: v["text"] for k, v in st.items()} for s, st in statements.items()},
        "conclusion": " ".join(conclusion),
        "components": [{k: ("" if v is None else v) for k, v in c.items()} for c in comps],
    }
    return ScreeningResult(comps, flags, conclusion, instrumented, summary, statements)
