"""``rig run PROTOCOL`` (a protocol with an athlete) and ``rig demo`` (the same, simulated)."""
from __future__ import annotations

import dataclasses
import math
import os
import sys

import click
import numpy as np

from rig.cli.options import data_dir_option, port_option
from rig.errors import RigError

SIDE_CHOICE = click.Choice(["left", "right", "both", "none"])
DEMO_SPEED = 6.0
DEMO_ENTRIES = {"cait_left": 17, "cait_right": 28, "sprain_history": "left", "giving_way": "left",
                "lunge_left_cm": 8.5, "lunge_right_cm": 11.0}
KEY_ROWS = (  # measure, label, decimals
    ("ttb_mean_min_ml_s", "TTB ML, mean of minima (s)", 2),
    ("ttb_min_ml_s", "TTB ML, absolute minimum (s)", 2),
    ("sd_ml_mm", "COP ML SD (mm)", 1),
    ("sd_ap_mm", "COP AP SD (mm)", 1),
    ("mean_velocity_mm_s", "Mean velocity (mm/s)", 1),
    ("ellipse95_area_mm2", "95 % ellipse area (mm2)", 0),
    ("ml_percent_foot_width_used", "ML % of foot width used", 0),
    ("touchdowns", "Touch-downs (count)", 1),
    ("time_to_stabilization_vertical_s", "Time to stabilisation, vertical (s)", 2),
    ("vertical_stability_index", "Vertical stability index", 3),
)


def _display_available() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        return True
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _make_ui(live: bool, snapshot):
    """The live view when wanted and possible (offscreen for snapshots), else text only."""
    from rig.session.ui import HeadlessUI, LiveUI

    if snapshot and not _display_available():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"     # snapshots need no screen
    if (live and _display_available()) or snapshot:
        try:
            from rig.gui.live import qt_available

            if qt_available():
                return LiveUI()
        except ImportError:
            pass
        if snapshot:
            raise RigError("--snapshot needs the live view: install the GUI extra (pip install -e '.[gui]')")
        click.echo("No live view (PySide6/pyqtgraph not installed): text only.")
    elif live:
        click.echo("No display found: text only (the live view needs a screen; --snapshot works without).")
    return HeadlessUI()


def _entries(protocol, given: dict, interactive: bool):
    """The clinician's entries for the screen; prompted for when missing and interactive."""
    from rig.session.screening import ClinicalEntries

    vals = dict(given)
    if protocol.screening is not None and interactive:
        prompts = (("cait_left", "CAIT total, left ankle (0-30, empty if not done)", click.IntRange(0, 30)),
                   ("cait_right", "CAIT total, right ankle (0-30, empty if not done)", click.IntRange(0, 30)),
                   ("sprain_history", "Ankle sprain history (left/right/both/none)", SIDE_CHOICE),
                   ("giving_way", "Episodes of giving way, 2 or more (left/right/both/none)", SIDE_CHOICE),
                   ("lunge_left_cm", "Weight-bearing lunge, left (cm, empty if not done)", float),
                   ("lunge_right_cm", "Weight-bearing lunge, right (cm, empty if not done)", float))
        for key, text, typ in prompts:
            while vals.get(key) is None:
                v = click.prompt(text, default="", show_default=False, type=click.STRING).strip()
                if v == "":
                    break                       # not done: the screen says it is missing
                try:
                    vals[key] = click.types.convert_type(typ)(v)
                except click.BadParameter as e:
                    click.echo(f"  {e.format_message()}; try again (empty: not done)")
    return ClinicalEntries(**{k: v for k, v in vals.items() if v is not None})


def run_session(protocol, port: str | None, athlete: str, entries, *, mass_kg, foot_length_mm,
                foot_width_mm, live: bool, snapshot, data_dir, calibration_path, interactive,
                max_repeats: int, meta: dict | None = None):
    from rig.board.link import open_board
    from rig.calibration import calibration_for
    from rig.session.runner import Runner, Stopped
    from rig.store import Store

    if port is not None and port.lower().startswith("sim://"):
        from rig.sim.timetable import sim_url_for  # the simulated athlete follows the protocol

        port = sim_url_for(port, protocol)
    store = Store.open(data_dir)
    ui = None
    try:
        with open_board(port) as link:
            protocol.check_rate(link.hello.rate_hz)
            cal, warnings = calibration_for(link.hello, calibration_path, blob=link.read_calibration_blob())
            for w in warnings:
                click.echo(f"Warning: {w}", err=True)
            ui = _make_ui(live, snapshot)
            runner = Runner(protocol, link, cal, store, ui, athlete=athlete, entries=entries,
                            mass_kg=mass_kg, foot_length_mm=foot_length_mm, foot_width_mm=foot_width_mm,
                            interactive=interactive, max_repeats=max_repeats, snapshot=snapshot,
                            port=link.url, meta=meta)
            try:
                result = runner.run()
            except KeyboardInterrupt:
                raise RigError(f"stopped by the operator (Ctrl-C): what was recorded is kept in session "
                               f"{runner.sid} ({store.root})") from None
            except Stopped as e:
                raise RigError(f"{e}: what was recorded is kept in session {runner.sid} ({store.root})") from None
            except RigError as e:
                if runner.sid:
                    raise type(e)(f"{e}; what was recorded is kept in session {runner.sid} "
                                  f"({store.root})") from None
                raise
        if ui is not None:
            ui.close()
        print_results(protocol, result, store)
        return result
    finally:
        store.close()


def print_results(protocol, result, store) -> None:
    """Measures per leg side by side (with asymmetry), the screen, where the session is."""
    from rig.engine.sway import asymmetry_index_pct

    click.echo("")
    click.echo(f"Results: {protocol.title}" + (" (demo: shortened trials)" if getattr(protocol, "demo", False) else ""))
    means = result.side_measures
    tasks: dict[tuple, dict] = {}
    for c in protocol.conditions:
        if c.name in means:
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
        for key, label, d in KEY_ROWS:
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
    bad = [t for t in result.trials if t.status != "valid" and not t.practice]
    if bad:
        click.echo(f"\n  {len(bad)} trial(s) invalid and repeated or dropped (kept in the session with reasons).")
    if result.screening is not None:
        click.echo("")
        for line in result.screening.lines():
            click.echo(line)
    click.echo("")
    click.echo(f"Session saved: {result.session_id}  (data directory: {store.root})")
    click.echo(f"Report: rig report {result.session_id} --out report.html")


def _common_options(f):
    opts = [
        click.option("--mass-kg", type=click.FloatRange(20, 250), default=None,
                     help="Body mass (kg). Default: weighed on the board at the first stance."),
        click.option("--foot-length-mm", type=click.FloatRange(150, 350), default=250.0, show_default=True,
                     help="Foot length (heel to longest toe) for time-to-boundary."),
        click.option("--foot-width-mm", type=click.FloatRange(50, 150), default=95.0, show_default=True,
                     help="Forefoot width for time-to-boundary."),
        click.option("--no-live", is_flag=True, help="No live view: text and progress bar only."),
        click.option("--snapshot", type=click.Path(dir_okay=False), default=None,
                     help="Save the live view to this PNG at the end of each trial (works without a screen)."),
        data_dir_option,
    ]
    for o in reversed(opts):
        f = o(f)
    return f


@click.command()
@click.argument("protocol_name", metavar="PROTOCOL")
@port_option
@click.option("--athlete", "-a", default=None, help="Athlete code (chosen by the clinic; no names needed).")
@click.option("--cait-left", type=click.IntRange(0, 30), default=None, help="Cumberland Ankle Instability Tool total, left (0-30).")
@click.option("--cait-right", type=click.IntRange(0, 30), default=None, help="CAIT total, right (0-30).")
@click.option("--sprain-history", type=SIDE_CHOICE, default=None, help="Which ankle(s) have been sprained.")
@click.option("--giving-way", type=SIDE_CHOICE, default=None, help="Which ankle(s) give way (2 or more episodes).")
@click.option("--lunge-left-cm", type=click.FloatRange(0, 30), default=None, help="Weight-bearing lunge (knee to wall), left, cm.")
@click.option("--lunge-right-cm", type=click.FloatRange(0, 30), default=None, help="Weight-bearing lunge, right, cm.")
@click.option("--side", type=click.Choice(["left", "right"]), default=None,
              help="Non-dominant foot for protocols that test one foot (BESS).")
@click.option("--short", is_flag=True, help="The protocol's demo settings (shorter trials), stated in the results.")
@click.option("--calibration", "calibration_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Calibration file. Default: the board's own, else the nominal one (with a warning).")
@click.option("--yes", "-y", is_flag=True, help="No questions: invalid trials are repeated automatically.")
@click.option("--max-repeats", type=click.IntRange(0, 10), default=2, show_default=True,
              help="Repeats of invalid trials per condition.")
@_common_options
def run(protocol_name, port, athlete, cait_left, cait_right, sprain_history, giving_way, lunge_left_cm,
        lunge_right_cm, side, short, calibration_path, yes, max_repeats, mass_kg, foot_length_mm,
        foot_width_mm, no_live, snapshot, data_dir):
    """Run PROTOCOL (a name in protocols/, e.g. cai-screen, or a .toml path) with an athlete.

    Zeroes the board, waits for the athlete to take the stance, counts down, records, checks
    each trial (stepped off, touch-downs, weight, COP outside the foot) and repeats invalid
    ones, then prints the measures per leg and, for the screen, the flag with its reasons.
    Every clinician entry is an option, so a session can be scripted; missing ones are asked
    for on a terminal. Ctrl-C stops and keeps what was recorded.

    \b
    Example without a board (a simulated athlete follows the protocol):
      rig run cai-screen --port "sim://?seed=3&profile=cai&speed=5" --athlete A7 \\
        --cait-left 18 --cait-right 29 --sprain-history left --giving-way left --yes
    """
    from rig.session.protocols import load_protocol

    protocol = load_protocol(protocol_name)
    if side:
        protocol = protocol.with_side(side)
    if short:
        protocol = protocol.for_demo()
    interactive = sys.stdin.isatty() and not yes
    if athlete is None:
        if not interactive:
            raise RigError("--athlete is required (an athlete code, e.g. --athlete A7)")
        athlete = click.prompt("Athlete code")
    entries = _entries(protocol, {"cait_left": cait_left, "cait_right": cait_right,
                                  "sprain_history": sprain_history, "giving_way": giving_way,
                                  "lunge_left_cm": lunge_left_cm, "lunge_right_cm": lunge_right_cm},
                       interactive)
    run_session(protocol, port, athlete, entries, mass_kg=mass_kg, foot_length_mm=foot_length_mm,
                foot_width_mm=foot_width_mm, live=not no_live, snapshot=snapshot, data_dir=data_dir,
                calibration_path=calibration_path, interactive=interactive, max_repeats=max_repeats)


@click.command()
@click.option("--seed", type=int, default=7, show_default=True, help="Which simulated athlete and board.")
@click.option("--speed", type=click.FloatRange(0.5, 50), default=DEMO_SPEED, show_default=True,
              help="Board seconds per wall second (the board's timestamps stay true).")
@click.option("--healthy", is_flag=True, help="A healthy athlete instead of an unstable left ankle.")
@_common_options
def demo(seed, speed, healthy, mass_kg, foot_length_mm, foot_width_mm, no_live, snapshot, data_dir):
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
        entries_given.update(cait_left=28, cait_right=29, sprain_history="none", giving_way="none",
                             lunge_left_cm=11.0, lunge_right_cm=11.5)
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
                meta={"demo": True, "simulated": port})


def _demo_note(protocol) -> str:
    c = protocol.conditions[0]
    return f"{c.trials} x {c.trial_duration_s:g} s per condition, {c.rest_s:g} s rest"
