"""``rig run PROTOCOL`` (a protocol with an athlete) and ``rig demo`` (the same, simulated)."""
from __future__ import annotations

import os
import sys

import click
import numpy as np

from rig.cli.entries import entry_options
from rig.cli.prompts import ask  # noqa: F401  (re-exported: the run command asks with it)
from rig.cli.options import DecimalRange, data_dir_option, force_option, port_option
from rig.errors import RigError

MASS = DecimalRange(20, 250, "kg")
DEMO_SPEED = 6.0
DEMO_ENTRIES = {"cait_left": 17, "cait_right": 28, "sprain_history": "left", "sprain_months_left": 30,
                "giving_way_6mo_left": 3, "giving_way_6mo_right": 0, "recurrent_sprain": "left",
                "feels_unstable": "left", "lunge_left_cm": 8.5, "lunge_right_cm": 11.0}


ROW_FORMAT = {  # measure: (label, decimals) in the results table; others: registry label, 2
    "ttb_mean_min_ml_s": ("TTB ML, mean of minima (s)", 2),
    "ttb_min_ml_s": ("TTB ML, absolute minimum (s)", 2),
    "sd_ml_mm": ("COP ML SD (mm)", 1),
    "sd_ap_mm": ("COP AP SD (mm)", 1),
    "mean_velocity_mm_s": ("Mean velocity (mm/s)", 1),
    "ellipse95_area_mm2": ("95 % ellipse area (mm2)", 0),
    "path_length_mm": ("Path length (mm)", 0),
    "mean_frequency_hz": ("Mean frequency (Hz)", 2),
    "ml_percent_foot_width_used": ("ML % of foot width used", 0),
    "touchdowns": ("Foot-lift errors / touch-downs (count)", 0),
    "time_in_balance_s": ("Time in balance (s)", 1),
    "time_to_stabilization_vertical_s": ("Time to stabilisation, vertical (s)", 2),
    "vertical_stability_index": ("Vertical stability index", 3),
}


def board_calibration(link, calibration_path, force: bool):
    """The calibration for the open board (rig.calibration.calibration_for, the board's stored
    record compared), its warnings printed on stderr."""
    from rig.calibration import calibration_for

    cal, warnings = calibration_for(link.hello, calibration_path, force=force,
                                    blob=link.read_calibration_blob())
    for w in warnings:
        click.echo(f"Warning: {w}", err=True)
    return cal


def _make_ui(live: bool, snapshot, fullscreen: bool = False):
    """The live view when wanted and possible (offscreen for snapshots), else text only."""
    from rig.gui.live import display_available
    from rig.session.ui import HeadlessUI, LiveUI

    if snapshot and not display_available():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"     # snapshots need no screen
    if (live and display_available()) or snapshot:
        try:
            from rig.gui.live import qt_available

            if qt_available():
                return LiveUI(fullscreen=fullscreen and not snapshot)
        except ImportError:
            pass
        if snapshot:
            raise RigError("--snapshot needs the live view (pyqtgraph and PySide6, dependencies of balance-rig): reinstall it (pip install balance-rig)")
        click.echo("No live view (PySide6/pyqtgraph not installed): text only.")
    elif live:
        click.echo("No display found: text only (the live view needs a screen; --snapshot works without).")
    return HeadlessUI()


def _entries(protocol, given: dict, interactive: bool):
    """The clinician's entries for the screen (declared once: rig.session.entries), each
    missing one asked for when interactive, checked as it is typed."""
    from rig.cli.entries import prompt_entries

    return prompt_entries(protocol, given, interactive, ask)


def ask_athlete_code() -> str:
    """The athlete code, checked as typed (any letters, digits, '.', '_' or '-')."""
    from rig.store.core import check_code

    while True:
        v = click.prompt("Athlete code", default="", show_default=False, type=click.STRING).strip()
        try:
            return check_code(v)
        except RigError as e:
            click.echo(f"  {e}; try again")


def check_athlete_code(code: str) -> str:
    from rig.store.core import check_code

    return check_code(code)


def run_session(protocol, port: str | None, athlete: str, entries, *, mass_kg, foot_length_mm,
                foot_width_mm, live: bool, snapshot, data_dir, calibration_path, interactive,
                max_repeats: int, meta: dict | None = None, resume: dict | None = None,
                force: bool = False, fullscreen: bool = False, clinician_entry=None):
    """One session on the board. Ctrl-C, SIGTERM or closing the live view stop it cleanly at the
    next poll (rig.session.interrupts): the trial being recorded is kept as incomplete, the
    session as incomplete and resumable (``rig run --resume SESSION``), exit code 130.

    ``resume``: ``{"sid": ..., "trials": [TrialResult, ...]}`` to continue an incomplete session.
    """
    from rig.session import interrupts

    with interrupts.deferred():
        return _run_session(protocol, port, athlete, entries, mass_kg=mass_kg, foot_length_mm=foot_length_mm,
                            foot_width_mm=foot_width_mm, live=live, snapshot=snapshot, data_dir=data_dir,
                            calibration_path=calibration_path, interactive=interactive,
                            max_repeats=max_repeats, meta=meta, resume=resume, force=force,
                            fullscreen=fullscreen, clinician_entry=clinician_entry)


def _run_session(protocol, port, athlete, entries, *, mass_kg, foot_length_mm, foot_width_mm, live, snapshot,
                 data_dir, calibration_path, interactive, max_repeats, meta, resume, force, fullscreen=False,
                 clinician_entry=None):
    from rig.board.discovery import open_board
    from rig.session import interrupts
    from rig.session.runner import Runner, Stopped
    from rig.store import Store

    if port is not None and port.lower().startswith("sim://"):
        from rig.sim.timetable import sim_url_for  # the simulated athlete follows the protocol

        port = sim_url_for(port, protocol)
    meta = dict(meta or {})
    meta.setdefault("foot_length_mm", foot_length_mm)
    meta.setdefault("foot_width_mm", foot_width_mm)
    store = Store.open(data_dir)
    store.check_writable()          # a read-only or full data dir: say so before the board opens
    ui = None
    runner = None

    def kept(sid) -> str:
        return (f"what was recorded is kept in session {sid} ({store.root}); "
                f"continue it with: rig run --resume {sid}")

    try:
        with open_board(port) as link:
            protocol.check_rate(link.hello.rate_hz)
            cal = board_calibration(link, calibration_path, force)
            if interrupts.pending():
                raise interrupts.Interrupted(f"{interrupts.pending()}: nothing was recorded")
            ui = _make_ui(live, snapshot, fullscreen)
            runner = Runner(protocol, link, cal, store, ui, athlete=athlete, entries=entries,
                            mass_kg=mass_kg, foot_length_mm=foot_length_mm, foot_width_mm=foot_width_mm,
                            interactive=interactive, max_repeats=max_repeats, snapshot=snapshot,
                            port=link.url, meta=meta, resume_sid=(resume or {}).get("sid"),
                            prior_trials=(resume or {}).get("trials", ()))
            runner.clinician_entry = clinician_entry      # knee-to-wall distances (chain tests)
            try:
                result = runner.run()
            except KeyboardInterrupt:       # a prompt interrupted (rig.session.interrupts.prompting)
                raise interrupts.Interrupted(f"stopped by the operator (Ctrl-C): {kept(runner.sid)}") from None
            except Stopped as e:
                raise interrupts.Interrupted(f"{e}: {kept(runner.sid)}") from None
            except RigError as e:
                if runner.sid:
                    raise type(e)(f"{e}; {kept(runner.sid)}") from None
                raise
        if ui is not None:
            ui.close()
            ui = None
        print_results(protocol, result, store)
        if protocol.validity.error_candidates:
            _bess_after_run(store, result.session_id, interactive)
        return result
    finally:
        if ui is not None:
            ui.close()           # Qt objects closed in order, never left to the garbage collector
        store.close()


def _bess_after_run(store, sid, interactive) -> None:
    """BESS: the clinician confirms the board's error candidates now (or later: rig score)."""
    from rig.cli.score_cmd import print_bess, score_session
    from rig.session import interrupts

    if not interactive:
        click.echo(f"\nBESS: confirm the errors with: rig score {sid}")
        return
    with interrupts.prompting():
        print_bess(score_session(store, sid, {}, interactive=True))


def print_results(protocol, result, store) -> None:
    """Measures per leg side by side (with asymmetry), the screen, where the session is."""
    from rig.engine.sway import asymmetry_index_pct

    click.echo("")
    click.echo(f"Results: {protocol.title}" + (" (demo: shortened trials)" if getattr(protocol, "demo", False) else ""))
    means = result.side_measures
    tasks: dict[tuple, dict] = {}
    for c in protocol.conditions:
        if c.name in means and c.kind in ("static", "landing"):   # chain tests: their own lines below
            tasks.setdefault((c.stance if not c.side else "single", c.eyes, c.surface, c.kind), {})[c.side or "both"] = means[c.name]
    for (st, eyes, surface, kind), sides in tasks.items():
        name = {"single": "Single leg", "bipedal": "Bipedal", "tandem": "Tandem"}.get(st, st)
        head = f"{name}, eyes {eyes}, {surface}" + (", landing" if kind == "landing" else "")
        cols = [s for s in ("left", "right", "both") if s in sides]
        click.echo(f"\n  {head}")
        hdr = "    " + f"{'measure':38s}" + "".join(f"{c:>10s}" for c in cols)
        if cols == ["left", "right"]:
            hdr += f"{'asym %':>9s}"
        click.echo(hdr)
        for key, label, d in measure_rows(protocol):
            vals = [sides[c].get(key) for c in cols]
            if all(v is None or not np.isfinite(v) for v in vals):
                continue
            line = "    " + f"{label:38s}" + "".join(
                f"{v:>10.{d}f}" if v is not None and np.isfinite(v) else f"{'-':>10s}" for v in vals)
            if cols == ["left", "right"] and None not in vals:
                try:
                    lsi = asymmetry_index_pct(vals[0], vals[1])
                    line += f"{lsi:>9.0f}" if np.isfinite(lsi) else ""
                except Exception:           # noqa: BLE001 - a zero mean: no index, not an error
                    pass
            click.echo(line)
        n = {c: int(sides[c].get("valid_trials", 0)) for c in cols}
        click.echo("    valid trials: " + ", ".join(f"{c} {v}" for c, v in n.items()))
    _print_romberg(protocol, means)
    bad = [t for t in result.trials if t.status != "valid" and not t.practice]
    if bad:
        click.echo(f"\n  {len(bad)} trial(s) invalid and repeated or dropped (kept in the session with reasons).")
    from rig.session.chain_results import result_lines

    chain = result_lines(protocol, result)
    if chain:
        click.echo("")
        for line in chain:
            click.echo(line)
    if result.screening is not None:
        click.echo("")
        for line in result.screening.lines():
            click.echo(line)
    click.echo("")
    click.echo(f"Session saved: {result.session_id}  (data directory: {store.root})")
    click.echo(f"Report: rig report {result.session_id} --out report.html")


def measure_rows(protocol):
    """(measure, label with unit, decimals) for the protocol's own ``measures`` list (the key
    measures, rig.session.protocols.KEY_MEASURES, where it has none)."""
    from rig.session.protocols import KEY_MEASURES
    from rig.store.core import measure_label, measure_unit

    out = []
    for k in getattr(protocol, "measures", ()) or KEY_MEASURES:
        lbl, d = ROW_FORMAT.get(k, (None, 2))
        if lbl is None:
            unit = measure_unit(k).replace("^2", "2")
            lbl = measure_label(k) + (f" ({unit})" if unit and unit != "1" else "")
        out.append((k, lbl, d))
    return out


def _print_romberg(protocol, means) -> None:
    from rig.session.scores import ROMBERG_REFERENCE, romberg_quotients
    from rig.store.core import measure_label

    rq = romberg_quotients(protocol.conditions, means, protocol.measures)
    if not rq:
        return
    click.echo("\n  Romberg quotient (eyes closed / eyes open x 100 %)")
    for r in rq:
        q = f"{r['quotient_pct']:6.0f} %" if np.isfinite(r["quotient_pct"]) else "     -"
        click.echo(f"    {measure_label(r['measure']):36s} {q}   (open {r['eyes_open_value']:.1f}, "
                   f"closed {r['eyes_closed_value']:.1f}; {r['eyes_open']} vs {r['eyes_closed']})")
    click.echo(f"    {ROMBERG_REFERENCE}")


def _common_options(f):
    opts = [
        click.option("--mass-kg", type=MASS, default=None,
                     help="Body mass (kg). Default: weighed on the board at the first stance "
                          "(landing protocols need it given)."),
        click.option("--foot-length-mm", type=DecimalRange(150, 350, "mm"), default=250.0, show_default=True,
                     help="Foot length (heel to longest toe) for time-to-boundary."),
        click.option("--foot-width-mm", type=DecimalRange(50, 150, "mm"), default=95.0, show_default=True,
                     help="Forefoot width for time-to-boundary."),
        click.option("--no-live", is_flag=True, help="No live view: text and progress bar only."),
        click.option("--fullscreen", is_flag=True,
                     help="The live view full screen, for the athlete to read from the board (Esc stops, Space ends a rest)."),
        click.option("--snapshot", type=click.Path(dir_okay=False), default=None,
                     help="Save the live view to this PNG at the end of each trial (works without a screen)."),
        data_dir_option,
    ]
    for o in reversed(opts):
        f = o(f)
    return f


@click.command()
@click.argument("protocol_name", metavar="PROTOCOL", required=False)
@click.option("--resume", "resume_ref", metavar="SESSION", default=None,
              help="Continue an incomplete session (stopped by Ctrl-C, a lost board...): runs its missing trials.")
@port_option
@click.option("--athlete", "-a", default=None, help="Athlete code (chosen by the clinic; no names needed).")
@entry_options
@click.option("--ktw-left-cm", default=None, metavar="CM[,CM...]",
              help="knee-to-wall: toe-wall distance of each valid left try (cm; the last repeats). "
                   "Asked after each valid try on a terminal when not given.")
@click.option("--ktw-right-cm", default=None, metavar="CM[,CM...]", help="knee-to-wall: the same, right.")
@click.option("--height-cm", type=click.FloatRange(100, 230), default=None,
              help="Body height (cm) for the limits of stability (default: estimated from the foot length).")
@click.option("--side", type=click.Choice(["left", "right"]), default=None,
              help="Non-dominant foot for protocols that test one foot (BESS).")
@click.option("--short", is_flag=True, help="The protocol's demo settings (shorter trials), stated in the results.")
@click.option("--calibration", "calibration_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Calibration file. Default: the board's own, else the nominal one (with a warning).")
@click.option("--yes", "-y", is_flag=True, help="No questions: invalid trials are repeated automatically.")
@click.option("--max-repeats", type=click.IntRange(0, 10), default=2, show_default=True,
              help="Repeats of invalid trials per condition.")
@force_option
@_common_options
def run(protocol_name, resume_ref, port, athlete, ktw_left_cm, ktw_right_cm, height_cm, side, short,
        calibration_path, yes, max_repeats, force, mass_kg, foot_length_mm, foot_width_mm, no_live, fullscreen,
        snapshot, data_dir, **entry_values):
    """Run PROTOCOL (a name in protocols/, e.g. cai-screen, or a .toml path) with an athlete.

    Zeroes the board, waits for the athlete to take the stance, counts down, records, checks
    each trial (stepped off, touch-downs, weight, COP outside the foot) and repeats invalid
    ones, then prints the measures per leg and, for the screen, the flag with its reasons.
    Every clinician entry is an option, so a session can be scripted; missing ones are asked
    for on a terminal. Ctrl-C stops and keeps what was recorded.

    \b
    Example without a board (a simulated athlete follows the protocol):
      rig run cai-screen --port "sim://?seed=3&profile=cai&speed=5" --athlete A7 \\
        --cait-left 18 --cait-right 29 --sprain-history left --sprain-months-left 24 \\
        --giving-way-6mo-left 3 --feels-unstable left --yes
    """
    from rig.session.protocols import load_protocol

    if resume_ref is not None:
        return _resume(resume_ref, protocol_name, port=port, athlete=athlete, yes=yes, no_live=no_live,
                       snapshot=snapshot, data_dir=data_dir, calibration_path=calibration_path,
                       max_repeats=max_repeats, force=force)
    if protocol_name is None:
        raise RigError("give a PROTOCOL (e.g. rig run cai-screen), or --resume SESSION")
    protocol = load_protocol(protocol_name)
    if side:
        protocol = protocol.with_side(side)
    if short:
        protocol = protocol.for_demo()
    interactive = sys.stdin.isatty() and not yes
    # the athlete code first, checked as typed: a bad code must not cost the entries after it
    if athlete is None:
        if not interactive:
            raise RigError("--athlete is required (an athlete code, e.g. --athlete A7)")
        athlete = ask_athlete_code()
    else:
        athlete = check_athlete_code(athlete)
    if mass_kg is None and any(c.kind == "landing" for c in protocol.conditions):
        # before the board is zeroed and a session opened: no empty session left behind
        if not interactive:
            raise RigError(f"{protocol.name} needs the body mass for its landing measures: give --mass-kg")
        mass_kg = ask("Body mass (kg)", MASS)
    entries = _entries(protocol, entry_values, interactive)
    distances = {"left": _cm_list(ktw_left_cm, "--ktw-left-cm"), "right": _cm_list(ktw_right_cm, "--ktw-right-cm")}
    run_session(protocol, port, athlete, entries, mass_kg=mass_kg, foot_length_mm=foot_length_mm,
                foot_width_mm=foot_width_mm, live=not no_live, snapshot=snapshot, data_dir=data_dir,
                calibration_path=calibration_path, interactive=interactive, max_repeats=max_repeats,
                meta={"height_cm": height_cm} if height_cm else None,
                clinician_entry=_distance_entry(distances, interactive), force=force, fullscreen=fullscreen)


def _cm_list(text, option: str) -> list[float]:
    """``"10.5,11"`` -> [10.5, 11.0] (cm, 0-30); a clear error naming the option otherwise."""
    if not text:
        return []
    try:
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise RigError(f"{option}: expected centimetres separated by commas, e.g. 10.5,11,11.2") from None
    if any(not 0 <= v <= 30 for v in vals):
        raise RigError(f"{option}: distances must be within 0-30 cm")
    return vals


def _distance_entry(given: dict, interactive: bool):
    """The clinician's toe-wall distance for a valid knee-to-wall try: from the options (the
    i-th value for the i-th valid try, the last repeating), else asked on a terminal."""
    def entry(side: str, n: int):
        vals = given.get(side) or []
        if vals:
            return vals[min(n, len(vals)) - 1]
        if not interactive:
            return None
        while True:
            v = click.prompt(f"Toe-wall distance, {side} try {n} (cm, empty if not measured)", default="",
                             show_default=False, type=click.STRING).strip()
            if v == "":
                return None
            try:
                cm = float(v)
                if 0 <= cm <= 30:
                    return cm
            except ValueError:
                pass
            click.echo("  expected a distance in cm within 0-30; try again (empty: not measured)")
    return entry


def _resume(ref, protocol_name, *, port, athlete, yes, no_live, snapshot, data_dir, calibration_path,
            max_repeats, force=False):
    """``rig run --resume SESSION``: the session's own protocol, athlete, entries and body mass;
    only the trials still missing are run, numbered after those recorded."""
    from rig.session.runner import TrialResult
    from rig.session.entries import entries_from
    from rig.store import Store

    with Store.open(data_dir) as store:
        s = store.session(ref)
    sid = s["id"]
    if s["status"] == "complete":
        raise RigError(f"session {sid} is complete: nothing to resume")
    protocol = _stored_protocol(s)
    if protocol_name is not None and protocol_name not in (protocol.name, protocol.path):
        raise RigError(f"session {sid} ran protocol {protocol.name}, not {protocol_name}")
    if athlete is not None and athlete != s["athlete"]:
        raise RigError(f"session {sid} is athlete {s['athlete']}'s, not {athlete}'s")
    meta = s["meta"]
    trials = [TrialResult((t["condition"] or {}).get("name", ""), t["index"], t["practice"], t["status"],
                          t["reasons"], t["measures"], t["id"]) for t in s["trials"]]
    entries = entries_from(meta.get("clinical_entries"))
    click.echo(f"Resuming session {sid} ({protocol.title}, athlete {s['athlete']}): "
               f"{sum(t.status == 'valid' and not t.practice for t in trials)} valid trial(s) recorded.")
    interactive = sys.stdin.isatty() and not yes
    return run_session(protocol, port, s["athlete"], entries, mass_kg=meta.get("body_mass_entered_kg"),
                       foot_length_mm=meta.get("foot_length_mm", 250.0),
                       foot_width_mm=meta.get("foot_width_mm", 95.0), live=not no_live, snapshot=snapshot,
                       data_dir=data_dir, calibration_path=calibration_path, interactive=interactive,
                       max_repeats=max_repeats, meta=meta, resume={"sid": sid, "trials": trials}, force=force)


def _stored_protocol(s: dict):
    """The protocol a stored session ran, from its file if unchanged (same SHA-256)."""
    from pathlib import Path

    from rig.session.protocols import load_protocol

    pd = s["protocol"] or {}
    params = pd.get("params") or {}
    path = params.get("path")
    try:
        p = load_protocol(path) if path and Path(path).exists() else load_protocol(pd.get("name", ""))
    except RigError as e:
        raise RigError(f"cannot resume session {s['id']}: {e}") from None
    if pd.get("sha256") and p.sha256 != pd["sha256"]:
        raise RigError(f"cannot resume session {s['id']}: protocol {p.name} changed since it was recorded "
                       f"({p.path} has another SHA-256)")
    if params.get("side"):
        p = p.with_side(params["side"])
    return p.for_demo() if params.get("demo") else p


@click.command()
@click.option("--seed", type=int, default=7, show_default=True, help="Which simulated athlete and board.")
@click.option("--speed", type=click.FloatRange(0.5, 50), default=DEMO_SPEED, show_default=True,
              help="Board seconds per wall second (the board's timestamps stay true).")
@click.option("--healthy", is_flag=True, help="A healthy athlete instead of an unstable left ankle.")
@_common_options
def demo(seed, speed, healthy, mass_kg, foot_length_mm, foot_width_mm, no_live, fullscreen, snapshot, data_dir):
    """The CAI screen on a simulated athlete with an unstable left ankle: no board, no questions.

    The demo athlete's deficits are exaggerated (4x the published CAI effect sizes, the other
    ankle normal: sim:// profile=cai-demo) so that one session shows them; real effects are
    smaller and often bilateral.

    The athlete (seed 7 by default) steps on and off a simulated board, does the cai-screen
    single-leg trials with each leg, eyes open and closed; the clinician's entries (CAIT,
    history, lunge) are filled in for the demo. Shows the live view when there is a display.
    """
    from rig.session.protocols import load_protocol

    protocol = load_protocol("cai-screen").for_demo()
    # the demo athlete's CAI is exaggerated (4x the published effects, one-sided) so that the screen shows it
    profile = "healthy" if healthy else "cai-demo&injured=left"
    port = f"sim://?seed={seed}&profile={profile}&speed={speed:g}"
    entries_given = dict(DEMO_ENTRIES)
    if healthy:
        entries_given.update(cait_left=28, cait_right=29, sprain_history="none", sprain_months_left=None,
                             giving_way_6mo_left=0, giving_way_6mo_right=0, recurrent_sprain="none",
                             feels_unstable="none", lunge_left_cm=11.0, lunge_right_cm=11.5)
    from rig.session.screening import ClinicalEntries

    entries = ClinicalEntries(**entries_given)
    who = "a healthy athlete" if healthy else ("an athlete with an unstable LEFT ankle, exaggerated for the "
                                               "demo (4x the balance deficits published for CAI, one-sided)")
    click.echo(f"Demo: {who}, simulated (seed {seed}) on a simulated board; time runs {speed:g}x faster.")
    click.echo(f"Protocol: {protocol.title}, demo settings (shortened: "
               f"{_demo_note(protocol)}). Clinician entries: " +
               ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in entries_given.items()) + ".")
    run_session(protocol, port, f"DEMO-{seed}", entries, mass_kg=mass_kg, foot_length_mm=foot_length_mm,
                foot_width_mm=foot_width_mm, live=not no_live, snapshot=snapshot, data_dir=data_dir,
                calibration_path=None, interactive=False, max_repeats=2,
                meta={"demo": True, "simulated": port}, fullscreen=fullscreen)


def _demo_note(protocol) -> str:
    c = protocol.conditions[0]
    return f"{c.trials} x {c.trial_duration_s:g} s per condition, {c.rest_s:g} s rest"
