"""The simulated athlete's timetable for a protocol (``script=`` of ``sim://``).

A simulated athlete cannot hear the runner's instructions, so it follows a timetable built to
match the runner's own timing. This lives with the simulated world: production code never
needs it; ``rig run`` and ``rig demo`` apply it only to ``sim://`` ports.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from rig.session.runner import SETTLE_S


def sim_script_for(protocol, spares_per_single: int = 2) -> str:
    """The simulated athlete's timetable for ``protocol`` (``script=`` of ``sim://``).

    A simulated athlete cannot hear the instructions, so it follows a timetable built to match
    the runner's: each trial block is long enough for stepping on, taking the stance, the
    countdown, the lead-in and the trial, and the rests are a little longer than the runner's.
    Single-leg conditions get spare blocks for repeated trials; the runner recognises the
    stance foot from the COP, so spares of one leg are skipped while it waits for the other.
    """
    items = []
    conds = protocol.conditions
    for i, c in enumerate(conds):
        n = c.practice_trials + c.trials
        nxt = conds[i + 1] if i + 1 < len(conds) else None
        if c.side and (nxt is None or nxt.stance != c.stance):
            n += spares_per_single
        if c.kind == "landing":
            items += [f"hop_{c.side}:{c.lead_in_s + c.trial_duration_s + 3.0:g}"] * n
        else:
            # stepping on and lifting the foot, holding it, countdown, lead-in, trial, and slack for
            # one restarted countdown (a touch-down during it)
            on = 1.6 + SETTLE_S + 0.8 + c.countdown_s + c.lead_in_s + c.trial_duration_s + 4.5
            items += [f"{c.stance}:{c.eyes}:{c.surface}:{on:.1f}"] * n
    return ",".join(items)


def sim_url_for(url: str, protocol) -> str:
    """A ``sim://`` URL with the athlete's timetable for ``protocol`` added (unless given)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "sim":
        return url
    q = parse_qs(parts.query, keep_blank_values=True)
    if "script" in q or "replay" in q or q.get("person", ["1"])[-1] == "0":
        return url
    rest = max(c.rest_s for c in protocol.conditions) + 1.5
    q.setdefault("rest_s", [f"{rest:g}"])
    q["script"] = [sim_script_for(protocol)]
    return "sim://?" + urlencode({k: v[-1] for k, v in q.items()}, safe=":,@/")
