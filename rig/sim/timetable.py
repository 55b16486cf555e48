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
        if c.kind in _MOVEMENT_SCRIPT:
            kind = _MOVEMENT_SCRIPT[c.kind] + (f"_{c.side}" if c.kind == "lunge" else "")
            on = _move_s(protocol, c) + c.trial_duration_s + 4.5
            items += [f"{kind}:open:firm:{on:.1f}"] * (n if c.side else n + 1)   # a spare
        elif c.kind == "landing":
            items += [f"hop_{c.side}:{c.lead_in_s + c.trial_duration_s + 3.0:g}"] * n
        else:
            # stepping on and lifting the foot, holding it, countdown, lead-in, trial, and slack for
            # one restarted countdown (a touch-down during it)
            on = 1.6 + SETTLE_S + 0.8 + c.countdown_s + c.lead_in_s + c.trial_duration_s + 4.5
            items += [f"{c.stance}:{c.eyes}:{c.surface}:{on:.1f}"] * n
    return ",".join(items)


_MOVEMENT_SCRIPT = {"squat": "squat", "lunge": "lunge", "lean": "los", "sit_to_stand": "sts"}


def _move_s(protocol, c) -> float:
    """Seconds after stepping on when the simulated athlete starts the movement of condition
    ``c``: when the runner's stance check holds, its settling time, the countdown and the
    lead-in, then the first cue (limits of stability) or half a second."""
    from rig.sim.movements import ready_after_step_on_s

    ready = ready_after_step_on_s(_MOVEMENT_SCRIPT[c.kind] + ("_" + (c.side or "") if c.kind == "lunge" else ""))
    # limits of stability: the first cue; a squat: 1.5 s of quiet stance first (the AP reference)
    extra = protocol.chain.get("cue_delay_s", 1.0) if c.kind == "lean" else 1.5 if c.kind == "squat" else 0.5
    return ready + SETTLE_S + c.countdown_s + c.lead_in_s + extra


def movement_options(protocol) -> dict[str, str]:
    """``sim://`` options that time the simulated athlete's movements to ``protocol``."""
    c = next((c for c in protocol.conditions if c.kind in _MOVEMENT_SCRIPT), None)
    if c is None:
        return {}
    out = {"move_s": f"{_move_s(protocol, c):.3f}"}
    if c.kind == "lean":
        out["los_target_s"] = f"{protocol.chain.get('target_s', 8.0):g}"
    if c.kind in ("squat", "sit_to_stand"):
        out["squat_reps" if c.kind == "squat" else "sts_reps"] = str(protocol.chain.get("repetitions", 5))
    return out


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
    for k, v in movement_options(protocol).items():
        q.setdefault(k, [v])
    return "sim://?" + urlencode({k: v[-1] for k, v in q.items()}, safe=":,@/")
