"""``rig recover``, ``sessions``, ``history``, ``export``, ``report``: recorded data.

Thin: the work is in rig.store, rig.io and rig.report. Every command opens the store in
``--data-dir`` (default ``$RIG_DATA_DIR``, else the user's data dir), which also recovers any
trial a crash left behind, and says so.
"""
from __future__ import annotations

import math

import click

from rig.cli.options import data_dir_option
from rig.session.protocols import KEY_MEASURES, OVER_TIME_MEASURES


def _open(data_dir, quiet_recovery: bool = False):
    from rig.store import Store

    store = Store.open(data_dir)
    if store.read_only:
        click.echo(f"note: data dir {store.root} cannot be written ({store.read_only_reason}): "
                   "opened read-only", err=True)
    if store.recovered and not quiet_recovery:
        for line in recovery_lines(store.recovered):
            click.echo(f"note: {line}", err=True)
    return store


def recovery_lines(recovered: list[dict]) -> list[str]:
    """One line per thing ``Store.recover`` did (trials recovered, journals set aside,
    sessions closed), for ``rig recover`` and as notes from every other command."""
    lines = []
    for r in recovered:
        kind = r.get("kind", "trial")
        if kind == "quarantined":
            lines.append(f"journal {r['path']} is malformed or foreign: moved to {r['moved_to']} "
                         f"({r['error']})")
        elif kind == "failed":
            lines.append(f"recovery stopped: {r['error']}")
        elif kind == "session":
            lines.append(f"session {r['session_id']} was left open by a program that ended "
                         f"({r['trials']} trial{'s' * (r['trials'] != 1)} filed): closed as "
                         f"{r['status']}")
        elif r.get("already_filed"):
            lines.append(f"trial {r['trial_id']}: already filed; leftover journal removed")
        else:
            last = f", last at board time {r['last_t_s']:.3f} s" if r.get("last_t_s") is not None else ""
            drop = f"; {r['dropped_bytes']} bytes of torn tail dropped" if r.get("dropped_bytes") else ""
            lines.append(f"recovered trial {r['trial_id']} of session {r['session_id']}: "
                         f"{r['frames']} frames{last}{drop}; marked incomplete"
                         + (f"; session {r['session_id']} closed as incomplete"
                            if r.get("session_closed") else ""))
    return lines


@click.command()
@data_dir_option
def recover(data_dir):
    """Turn journals left by a crash, kill or unplugged board into incomplete trials.

    Also closes sessions left open by a program that died (as incomplete, resumable) and
    moves malformed or foreign journals to journal/unreadable/. Runs by itself whenever the
    data directory is opened; this command reports it. At most the last 100 ms recorded
    before a power loss are lost (nothing, if only the program died).
    """
    from rig.errors import RigError

    store = _open(data_dir, quiet_recovery=True)
    try:
        if store.read_only:
            raise RigError(f"data dir {store.root} cannot be written ({store.read_only_reason}): "
                           "nothing can be recovered there; make room, or copy it to a "
                           "writable place, then run `rig recover`")
        if not store.recovered:
            click.echo(f"nothing to recover in {store.root}")
            return
        for line in recovery_lines(store.recovered):
            click.echo(line)
        failed = [r for r in store.recovered if r.get("kind") == "failed"]
        if failed:
            raise RigError(failed[0]["error"] + "; make room and run `rig recover` again")
    finally:
        store.close()


@click.command()
@click.option("--athlete", "-a", default=None, metavar="ID", help="Only this athlete's sessions.")
@click.option("--trials", is_flag=True, help="Also list each session's trials.")
@data_dir_option
def sessions(athlete, trials, data_dir):
    """List recorded sessions with their ids (oldest first; `latest` names the last one)."""
    store = _open(data_dir)
    try:
        rows = store.sessions(athlete)
        if not rows:
            click.echo(f"no sessions{' for athlete ' + athlete if athlete else ''} in {store.root}")
            return
        click.echo(f"{'SESSION':22}  {'STARTED (UTC)':16}  {'ATHLETE':10}  {'PROTOCOL':18}  "
                   f"{'STATUS':10}  {'TRIALS':>9}  FLAGS")
        for r in rows:
            mark = " (baseline)" if r["is_baseline"] else ""
            flags = ", ".join(_flag_title(f) for f in r["flags"]) or "-"
            click.echo(f"{r['id']:22}  {_date(r['started_utc']):16}  {r['athlete']:10}  "
                       f"{(r['protocol'] or '-')[:18]:18}  {r['status']:10}  "
                       f"{r['n_valid']:>3} valid/{r['n_trials']:<3}  {flags}{mark}")
            if trials:
                for t in store.session(r["id"])["trials"]:
                    why = "; ".join(t["reasons"])
                    click.echo(f"    {t['number']:>2}. {t['condition'].get('name', ''):28} {t['status']:10} "
                               f"{t['n_frames']:>6} frames{' (practice)' if t['practice'] else ''}"
                               f"{'  ' + why if why else ''}")
    finally:
        store.close()


@click.command()
@click.argument("athlete")
@click.option("--set-baseline", "set_baseline", default=None, metavar="SESSION",
              help="Mark this session (id or `latest`) as the athlete's baseline; `auto` goes "
                   "back to the first complete session.")
@click.option("--measure", "-m", "measures", multiple=True, metavar="NAME",
              help=f"Measures to show (repeatable). Default: {', '.join(OVER_TIME_MEASURES)}.")
@click.option("--plot", "plot", type=click.Path(dir_okay=False), default=None,
              help="Also draw the progress plots (baseline and MDC band) to this PNG.")
@data_dir_option
def history(athlete, set_baseline, measures, plot, data_dir):
    """An athlete's sessions and key measures per leg over time, against the baseline.

    The latest session is compared with the baseline: a change counts only beyond the
    measure's minimal detectable change (MDC; its source is printed)."""
    from rig.errors import RigError

    from rig.store.core import normalise_code

    athlete = normalise_code(athlete)
    store = _open(data_dir)
    try:
        if store.athlete(athlete) is None:
            shown = repr(athlete) if len(athlete) <= 60 else f"{athlete[:20]!r}... ({len(athlete)} characters)"
            raise RigError(f"no athlete {shown} in {store.root} (see `rig sessions`)")
        if set_baseline:
            store.set_baseline(athlete, None if set_baseline == "auto" else set_baseline)
        click.echo(_history_text(store, athlete, measures or OVER_TIME_MEASURES))
        if plot:
            from rig.report.athlete import progress_png

            click.echo(f"wrote {progress_png(store, athlete, plot, measures or OVER_TIME_MEASURES)}")
    finally:
        store.close()


def _history_text(store, athlete: str, measures) -> str:

    rows = store.sessions(athlete)
    base = store.baseline(athlete)
    marked = (store.athlete(athlete) or {}).get("baseline")
    lines = [f"Athlete {athlete}: {len(rows)} session{'s' * (len(rows) != 1)}; baseline "
             + (f"{base} ({'marked' if marked else 'first complete session'})" if base else
                "none yet (no complete session)")]
    lines.append("")
    lines.append(f"  {'SESSION':22}  {'STARTED (UTC)':16}  {'PROTOCOL':18}  {'STATUS':10}  FLAGS")
    full = [store.session(r["id"]) for r in rows]
    for r, s in zip(rows, full):
        flags = ", ".join(_flag_title(f) for f in r["flags"]) or "-"
        bess = (s.get("summary") or {}).get("bess")
        if isinstance(bess, dict):          # the clinician's confirmed BESS errors (rig score)
            b = f"BESS {bess['total']} errors (firm {bess['firm']}, foam {bess['foam']})"
            flags = b if flags == "-" else f"{flags}; {b}"
        lines.append(f"{'*' if r['id'] == base else ' '} {r['id']:22}  {_date(r['started_utc']):16}  "
                     f"{(r['protocol'] or '-')[:18]:18}  {r['status']:10}  {flags}")
    lines.append("  (* = baseline)")
    # measures per task, one line per session, left | right per measure
    tasks: dict[str, str] = {}
    for s in full:
        for c in s["conditions"]:
            tasks.setdefault(c["task"], c["task_label"])
    for task, label in tasks.items():
        shown = [m for m in measures if any(m in c["measures"] for s in full for c in s["conditions"]
                                            if c["task"] == task)]
        if not shown:
            continue
        sides = sorted({c["side"] for s in full for c in s["conditions"] if c["task"] == task},
                       key=lambda x: ("left", "right", "both").index(x) if x in ("left", "right", "both") else 9)
        lines += ["", f"{label or task}: mean of valid trials per leg"]
        w = 11 * len(sides)
        lines.append(f"  {'STARTED (UTC)':16}" + "".join(f"  {m[:w]:>{w}}" for m in shown))
        lines.append(f"  {'':16}" + "".join("  " + "".join(f"{_side_abbr(sd):>11}" for sd in sides)
                                              for _ in shown))
        for s in full:
            by_side = {c["side"]: c for c in s["conditions"] if c["task"] == task}
            if not by_side:
                continue
            row = f"{'*' if s['id'] == base else ' '} {_date(s['started_utc']):16}"
            for m in shown:
                row += "  " + "".join(f"{_num(by_side.get(sd, {}).get('measures', {}).get(m)):>11}" for sd in sides)
            lines.append(row)
    latest = rows[-1]["id"] if rows else None
    if latest and base and latest != base:
        cmp = store.compare_with_baseline(latest, measures=tuple(measures) + tuple(
            m for m in KEY_MEASURES if m not in measures))
        lines += ["", f"Latest session {latest} vs baseline {base} (change beyond the MDC counts):"]
        if not cmp or not cmp["rows"]:
            lines.append("  no condition in common with the baseline")
        else:
            lines.append(f"  {'TASK':30} {'SIDE':6} {'MEASURE':24} {'BASELINE':>9} {'LATEST':>9} "
                         f"{'CHANGE':>9} {'MDC':>8}  VERDICT")
            sources = {}
            for r in cmp["rows"]:
                sources.setdefault(r["mdc_source"], []).append(r["measure"])
                lines.append(f"  {r['task'][:30]:30} {r['side']:6} {r['measure'][:24]:24} {_num(r['baseline']):>9} "
                             f"{_num(r['value']):>9} {_signed(r['change']):>9} {_num(r['threshold']):>8}  {r['verdict']}")
            lines.append("  MDC sources:")
            for src, ms in sources.items():
                lines.append(f"    {', '.join(sorted(set(ms)))}: {src}")
    elif latest and base == latest:
        lines += ["", "The latest session is the baseline: nothing to compare yet."]
    return "\n".join(lines)


@click.command()
@click.argument("target", metavar="SESSION|ATHLETE")
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False),
              help="Output file; the format follows the suffix: .csv .json .c3d .zip")
@click.option("--anonymize", is_flag=True,
              help="Leave out everything personal but the athlete code: details, notes, ports, "
                   "board ids and serials, host paths, user and host names.")
@click.option("--dates", type=click.Choice(["keep", "shift", "drop"]), default="keep", show_default=True,
              help="Dates in the export (ids included): keep them, shift them all so the first "
                   "session is on 2000-01-01 (intervals kept), or drop them.")
@click.option("--trial", type=click.IntRange(min=1), default=None,
              help="Only this trial of the session (1-based, as `rig sessions --trials` lists).")
@data_dir_option
def export(target, out, anonymize, dates, trial, data_dir):
    """Export a session (id or `latest`) or all of an athlete's sessions.

    .csv: one row per sample (time, raw counts, cell forces, total force, COP) with a
    commented metadata header; for an athlete, one row per trial with its measures.
    .json: measures, flags and metadata. .c3d: one trial's force and COP channels.
    .zip: everything of a session (or athlete). The file is created readable by its owner
    only (0600): it holds health data."""
    from rig.io import export as do_export

    store = _open(data_dir)
    try:
        for p in do_export(store, target, out, anonymize=anonymize, trial=trial, dates=dates):
            click.echo(f"wrote {p}")
    finally:
        store.close()


@click.command()
@click.argument("session", metavar="SESSION|ATHLETE")
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False),
              help="report.html (self-contained) or report.pdf")
@click.option("--anonymize", is_flag=True, help="Leave out everything personal but the athlete code.")
@data_dir_option
def report(session, out, anonymize, data_dir):
    """Write a report for a physician, HTML or PDF: of a session (id or `latest`), or of an
    athlete over time (an athlete code: progress plots against the baseline and MDC band).

    The file is created readable by its owner only (0600): it holds health data."""
    from rig.report import write_report

    store = _open(data_dir)
    try:
        path = write_report(store, session, out, anonymize=anonymize)
        click.echo(f"wrote {path}")
    finally:
        store.close()


def _flag_title(f) -> str:
    if isinstance(f, dict):
        return str(f.get("label") or f.get("title") or f.get("name") or f.get("flag") or "flag")
    return str(f)


def _date(utc: str | None) -> str:
    return (utc or "")[:16].replace("T", " ")


def _side_abbr(side: str) -> str:
    return {"left": "L", "right": "R", "both": "both"}.get(side, side)


def _num(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    a = abs(v)
    return f"{v:.3g}" if a < 10 else f"{v:.1f}" if a < 1000 else f"{v:.0f}"


def _signed(v) -> str:
    s = _num(v)
    return s if s == "-" or s.startswith("-") else "+" + s
