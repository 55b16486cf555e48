"""``rig athletes``: list and search athletes, and record their details (all optional)."""
from __future__ import annotations

import click

from rig.cli.options import data_dir_option
from rig.errors import RigError
from rig.session.athletes import DETAILS, check_details, matches


def _detail_options(f):
    for d in reversed(DETAILS):
        opt = "--" + d.key.replace("_", "-")
        extra = (f" ({', '.join(d.choices)})" if d.choices else "") + (f", {d.unit}" if d.unit else "")
        f = click.option(opt, d.key, default=None, help=f"{d.label}{extra}.")(f)
    return f


@click.command()
@click.argument("query", required=False, default=None)
@_detail_options
@data_dir_option
def athletes(query, data_dir, **details):
    """List athletes, or search them (QUERY in the code or any detail, e.g. a name or a sport).

    With detail options, QUERY is an athlete code and its details are recorded (the athlete is
    created if new), e.g. rig athletes A7 --name "Anna Müller" --birth-year 2001 --dominant-leg right.
    Details are exported with sessions and left out by --anonymize."""
    from rig.store import Store

    given = check_details(details)
    with Store.open(data_dir) as store:
        if given:
            if not query:
                raise RigError("give the athlete code to record details for, e.g. rig athletes A7 --sport judo")
            store.ensure_athlete(query, **given)
            rows = [query]
        else:
            rows = [c for c in store.athletes()
                    if query is None or matches(c, (store.athlete(c) or {}).get("details") or {}, query)]
        if not rows:
            click.echo(f"no athlete{' matching ' + repr(query) if query else ''} in {store.root}")
            return
        sessions = {}
        for s in store.sessions():
            sessions.setdefault(s["athlete"], []).append(s)
        click.echo(f"{'ATHLETE':14}  {'SESSIONS':>8}  {'LAST (UTC)':16}  DETAILS")
        for code in rows:
            a = store.athlete(code) or {}
            ss = sessions.get(code, [])
            det = a.get("details") or {}
            shown = "; ".join(f"{d.label.lower()} {det[d.key]}{' ' + d.unit if d.unit else ''}"
                              for d in DETAILS if d.key in det) or "-"
            last = ss[-1]["started_utc"][:16].replace("T", " ") if ss else "-"
            click.echo(f"{code:14}  {len(ss):>8}  {last:16}  {shown}")
