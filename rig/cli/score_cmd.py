"""``rig score SESSION``: the clinician confirms (or edits) the BESS errors of a session.

The board proposes error candidates per condition (steps, touch-downs, stepping off, leaving
the position); only the clinician sees eyes opening or hands leaving the hips, so the
clinician's count is the score (rig.session.scores). Totals per condition, per surface and
overall go into the session's results, history and report.
"""
from __future__ import annotations

import sys

import click

from rig.cli.options import DecimalRange, data_dir_option
from rig.errors import RigError

ERRORS = DecimalRange(0, 10, integer=True)


def score_session(store, sid: str, given: dict[str, int], interactive: bool) -> dict:
    """Ask for (or take) each condition's error count; store and return the totals."""
    from rig.session.scores import BESS_MAX_PER_CONDITION, bess_candidates, bess_totals

    s = store.session(sid)
    params = (s["protocol"] or {}).get("params") or {}
    if not (params.get("validity") or {}).get("error_candidates"):
        raise RigError(f"session {s['id']} ({s['protocol'].get('name', '?')}) has no error-scored test "
                       "(BESS): nothing to score")
    conds = [c for c in params.get("conditions", [])]
    surfaces = {c["name"]: c.get("surface", "firm") for c in conds}
    unknown = set(given) - set(surfaces)
    if unknown:
        raise RigError(f"no condition {', '.join(sorted(unknown))} in session {s['id']} "
                       f"(its conditions: {', '.join(surfaces)})")
    cands = bess_candidates(s)
    recorded = {(t.get("condition") or {}).get("name") for t in s["trials"] if not t.get("practice")}
    errors: dict[str, int] = {}
    for c in conds:
        name = c["name"]
        if name not in recorded:
            continue                    # not recorded (an incomplete session): not scored
        found = cands.get(name, [])
        if name in given:
            errors[name] = int(given[name])
            continue
        if not interactive:
            raise RigError(f"give the errors of every recorded condition, e.g. --errors {name}=N "
                           f"(missing: {name}; {len(found)} candidate(s) proposed by the board)")
        click.echo(f"\n{name} ({c.get('stance')}, {c.get('surface', 'firm')}): "
                   f"{len(found)} error candidate(s) from the board")
        for e in found:
            click.echo(f"    {e['t_s']:5.1f} s  {e['kind']}  ({e.get('detail', '')})")
        from rig.cli.prompts import ask

        v = ask(f"  Errors counted (0-{BESS_MAX_PER_CONDITION}; empty: {min(len(found), 10)} as proposed)",
                ERRORS, required=False)
        errors[name] = min(len(found), BESS_MAX_PER_CONDITION) if v is None else v
    if not errors:
        raise RigError(f"session {s['id']} has no recorded BESS condition to score")
    totals = bess_totals(errors, surfaces)
    totals["candidates"] = {k: len(v) for k, v in cands.items()}
    totals["complete"] = set(errors) == set(surfaces)
    store.update_session_summary(s["id"], {"bess": totals})
    return totals


def print_bess(totals: dict) -> None:
    click.echo("\nBESS errors (confirmed by the clinician)")
    for name, n in totals["conditions"].items():
        cand = totals.get("candidates", {}).get(name)
        click.echo(f"    {name:24s} {n:3d}" + (f"   (board proposed {cand})" if cand is not None else ""))
    click.echo(f"    {'firm':24s} {totals['firm']:3d}\n    {'foam':24s} {totals['foam']:3d}")
    click.echo(f"    {'total':24s} {totals['total']:3d} of {totals['max_total']}"
               + ("" if totals.get("complete", True) else "  (not every condition recorded)"))


def _parse_errors(values) -> dict[str, int]:
    out = {}
    for v in values:
        name, sep, n = v.partition("=")
        if not sep:
            raise RigError(f"--errors {v!r}: expected CONDITION=N, e.g. --errors single_firm=3")
        try:
            out[name.strip()] = ERRORS.convert(n, None, None)
        except click.BadParameter as e:
            raise RigError(f"--errors {v!r}: {e.message}") from None
    return out


@click.command()
@click.argument("session_ref", metavar="SESSION")
@click.option("--errors", "errors", multiple=True, metavar="CONDITION=N",
              help="Errors counted in a condition (repeatable); others are asked for on a terminal.")
@data_dir_option
def score(session_ref, errors, data_dir):
    """Confirm or edit the BESS errors of SESSION (id, prefix or `latest`).

    Shows the board's error candidates per condition; the clinician's count (0-10 per
    condition, Riemann 1999) is stored with the session and appears in its results, history and
    report."""
    from rig.store import Store

    given = _parse_errors(errors)
    with Store.open(data_dir) as store:
        sid = store.resolve_session(session_ref)
        totals = score_session(store, sid, given, interactive=sys.stdin.isatty())
    print_bess(totals)
    click.echo(f"\nSaved with session {sid}.")
