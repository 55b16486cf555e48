"""``rig live``: the board without a protocol, for positioning feet and checking the board."""
from __future__ import annotations

import time

import click
import numpy as np

from rig.cli.options import force_option, port_option
from rig.errors import RigError
from rig.units import G_M_S2

TAIL_S = 5.0


@click.command()
@port_option
@click.option("--seconds", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop after this many board seconds (default: until the window is closed or Ctrl-C).")
@click.option("--snapshot", type=click.Path(dir_okay=False), default=None,
              help="Save the view to this PNG when stopping (works without a screen).")
@click.option("--stance", type=click.Choice(["bipedal", "tandem", "single_left", "single_right", "none"]),
              default="bipedal", show_default=True, help="Foot marks to draw.")
@click.option("--no-live", is_flag=True, help="Text only: total force and COP a few times per second.")
@click.option("--calibration", "calibration_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Calibration file. Default: the board's own, else the nominal one (with a warning).")
@click.option("--fullscreen", is_flag=True, help="The view full screen (Esc stops).")
@force_option
def live(port, seconds, snapshot, stance, no_live, calibration_path, fullscreen, force):
    """Show the board live: COP over the foot marks, cell forces, total force.

    The board must be empty for the first half second (it is zeroed then). Time is board
    time, so --seconds means board seconds even on a simulated board running faster.
    """
    from rig.engine import stance as marks
    from rig.board.discovery import open_board
    from rig.cli.run_cmd import _make_ui, board_calibration
    from rig.session import interrupts
    from rig.session.runner import BoardFeed, Samples, TARE_S

    with interrupts.deferred(), open_board(port) as link:
        cal = board_calibration(link, calibration_path, force)
        ui = _make_ui(not no_live, snapshot, fullscreen)
        feed = BoardFeed(link, cal)
        feed.next_index = link.start()
        ui.set_trial("rig live: no protocol", None if stance == "none" else marks.feet(stance), None)
        ui.phase("Zeroing: keep the board empty")
        t0 = None
        zeroed = False
        try:
            while True:
                wall = time.monotonic()
                feed.poll()
                link.check()
                buf = feed.buffer
                if len(buf):
                    t0 = buf.t_s[0] if t0 is None else t0
                    if not zeroed and buf.t_s[-1] - t0 >= TARE_S:
                        feed.retare(buf.since(t0).between(t0, t0 + TARE_S).raw)
                        zeroed = True
                        ui.phase(f"Live: {link.hello.board_id_hex}, {link.hello.rate_hz:g} Hz")
                    s = feed.buffer.since(feed.now_s - TAIL_S)
                    if zeroed:
                        ui.update(s.t_s, s.x_mm, s.y_mm, s.forces_n, s.fz_n, feed.now_s - t0, None)
                    if seconds is not None and feed.now_s - t0 >= seconds:
                        break
                # Ctrl-C and SIGTERM set a flag (rig.session.interrupts): never raised inside Qt
                if ui.closed or ui.stop_reason():
                    break
                ui.process_events()
                time.sleep(max(0.0, 1 / 30 - (time.monotonic() - wall)))
        finally:
            link.stop()
        if snapshot and hasattr(ui, "view"):
            ui.view.save_png(snapshot)
            click.echo(f"\nsnapshot saved to {snapshot}")
        ui.close()
        s = feed.buffer.since(feed.now_s - 1.0) if len(feed.buffer) else Samples.empty()
        if len(s):
            fz = float(np.mean(s.fz_n))
            cop = (f"COP x {np.nanmean(s.x_mm):+.1f} y {np.nanmean(s.y_mm):+.1f} mm"
                   if np.isfinite(s.x_mm).any() else "nobody on the board")
            click.echo(f"last second: {fz:.0f} N ({fz / G_M_S2:.1f} kg), {cop}; {link.stats.summary()}")
        if not zeroed:
            raise RigError("rig live: stopped before the board was zeroed (no data for 0.5 s)")
        if interrupts.pending():
            raise interrupts.Interrupted(f"rig live: {interrupts.pending()}")
