"""An athlete over time: ``rig report ATHLETE`` and ``rig history ATHLETE --plot FILE.png``.

Progress plots per condition and measure (a line per leg), each against the athlete's baseline
(dotted) and the measure's minimal detectable change around it (shaded band, rig.engine.mdc via
the store: a change inside the band is within measurement error). Then the sessions, with their
result, and the latest session against the baseline.
"""
from __future__ import annotations

import numpy as np

from rig.report import labels
from rig.report.content import Table, _fmt, _when
from rig.session.protocols import OVER_TIME_MEASURES


def progress_series(store, athlete: str, measures=OVER_TIME_MEASURES) -> list[dict]:
    """The data of the progress plots (see rig.report.figures.progress_figure)."""
    rows = store.sessions(athlete)
    base_id = store.baseline(athlete)
    full = [store.session(r["id"]) for r in rows]
    base = next((s for s in full if s["id"] == base_id), None)
    series: dict[tuple, dict] = {}
    xlabels = [f"{i + 1}: {s['started_utc'][:10]}" for i, s in enumerate(full)]   # session number: date
    for when, s in enumerate(full):
        for c in s["conditions"]:
            for m in measures:
                v = c["measures"].get(m)
                if v is None or not np.isfinite(v):
                    continue
                key = (c["task"], m)
                d = series.setdefault(key, {"title": f"{c['task_label']}: {labels.measure(m, unit=False)}",
                                            "ylabel": labels.measure(m).replace(labels.measure(m, unit=False), "").strip(" ()")
                                            or labels.measure(m), "sides": {}, "baseline": {}, "mdc": {},
                                            "xlabels": xlabels})
                dates, vals = d["sides"].setdefault(c["side"], ([], []))
                dates.append(when)
                vals.append(float(v))
    if base is not None:
        for c in base["conditions"]:
            for m in measures:
                key = (c["task"], m)
                v = c["measures"].get(m)
                if key in series and v is not None and np.isfinite(v):
                    series[key]["baseline"][c["side"]] = float(v)
                    try:
                        series[key]["mdc"][c["side"]] = float(store.mdc(m).threshold(float(v)))
                    except Exception:  # noqa: BLE001 - no MDC known for the measure: no band
                        pass
    return list(series.values())


def progress_png(store, athlete: str, out, measures=OVER_TIME_MEASURES):
    """``rig history --plot``: the progress figure as a PNG."""
    from rig.errors import RigError
    from rig.report.figures import progress_figure

    series = progress_series(store, athlete, measures)
    if not series:
        raise RigError(f"athlete {athlete} has no measures to plot yet")
    fig = progress_figure(series)
    fig.savefig(out, dpi=120, bbox_inches="tight")
    return out


def build(store, athlete: str, anonymize: bool = False) -> tuple[str, list]:
    """Title and blocks of an athlete's report over time."""
    from rig.errors import RigError

    a = store.athlete(athlete)
    if a is None:
        raise RigError(f"no athlete {athlete!r} in {store.root}")
    rows = store.sessions(athlete)
    base = store.baseline(athlete)
    blocks: list = [("title", f"Balance over time: athlete {athlete}")]
    details = {} if anonymize else (a.get("details") or {})
    if details:
        blocks.append(("p", "Athlete: " + "; ".join(f"{labels.key(k)} {v}" for k, v in details.items())))
    blocks.append(("p", f"{len(rows)} session{'s' * (len(rows) != 1)}; baseline "
                        + (f"{base}." if base else "none yet (no complete session).")))
    series = progress_series(store, athlete)
    if series:
        def make(series=series):
            from rig.report.figures import progress_figure

            return progress_figure(series)
        blocks.append(("h2", "Progress against the baseline"))
        blocks.append(("figure", make, "Mean of the valid trials per session and leg. Dotted: the baseline; "
                                       "shaded: baseline +/- the minimal detectable change (a change inside "
                                       "the band is within measurement error)."))
    else:
        blocks.append(("p", "No measures recorded yet."))
    blocks.append(("h2", "Sessions"))
    trs = []
    for r in rows:
        s = store.session(r["id"])
        summ = s.get("summary") or {}
        result = "; ".join(labels.text(f.get("label") or f.get("name") or "flag") if isinstance(f, dict) else str(f)
                           for f in r["flags"]) or ("no flag" if summ else "-")
        if isinstance(summ.get("bess"), dict):
            result += f"; BESS {summ['bess']['total']} errors"
        trs.append([_when(r["started_utc"]), (s["protocol"] or {}).get("title") or r["protocol"] or "-",
                    r["status"] + (" (baseline)" if r["id"] == base else ""), f"{r['n_valid']}/{r['n_trials']}",
                    result, r["id"]])
    blocks.append(("table", Table(["Date (UTC)", "Protocol", "Status", "Valid trials", "Result", "Session"], trs,
                                  align=["l", "l", "l", "r", "l", "l"])))
    latest = rows[-1]["id"] if rows else None
    if latest and base and latest != base:
        cmp = store.compare_with_baseline(latest)
        if cmp and cmp["rows"]:
            blocks.append(("h2", "Latest session against the baseline"))
            blocks.append(("table", Table(
                ["Condition", "Side", "Measure", "Baseline", "Latest", "Change", "MDC", "Verdict"],
                [[r["task"], r["side"], labels.measure(r["measure"]), _fmt(r["baseline"]), _fmt(r["value"]),
                  _fmt(r["change"], signed=True), _fmt(r["threshold"]), r["verdict"]] for r in cmp["rows"]],
                align=["l", "l", "l", "r", "r", "r", "r", "l"])))
    return f"Balance over time, athlete {athlete}", blocks
