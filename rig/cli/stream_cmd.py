"""``rig stream``: record the board's raw data (and, with a calibration, forces and COP) to CSV.

Rows are written and flushed as frames arrive, so an unplugged board or a Ctrl-C keeps every
frame received; the decoder statistics close the file as comment lines.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from rig import __version__
from rig.board.discovery import open_board
from rig.cli.options import force_option, port_option
from rig.errors import RigError
from rig.io.stream import stream_writer_for

TARE_WINDOW_S = 0.5


def _calibration(link, path, raw_only, force=False):
    """The board's calibration (or the nominal one, with a warning), or None for raw only."""
    if raw_only:
        return None, []
    try:
        from rig.calibration import calibration_for
    except ImportError:
        return None, ["calibration support not installed: raw counts only"]
    return calibration_for(link.hello, path, force=force, blob=link.read_calibration_blob())


@click.command()
@port_option
@click.option("--seconds", "-s", type=click.FloatRange(min=0, min_open=True), required=True,
              help="Board seconds to record.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, writable=True), required=True,
              help="CSV file to write (overwritten).")
@click.option("--calibration", "calibration_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Calibration file. Default: the board's own file, else the nominal one (with a warning).")
@click.option("--raw-only", is_flag=True, help="Write raw counts only, no forces or COP.")
@click.option("--tare/--no-tare", default=True, show_default=True,
              help=f"Zero the cell offsets from the first {TARE_WINDOW_S:g} s (the board must be empty then).")
@force_option
def stream(port, seconds, out, calibration_path, raw_only, tare, force):
    """Record raw board data to CSV, with forces and COP when a calibration is available.

    Columns: t_s (board time from the first frame, s), host_t_s (host receive time, s; for
    latency only), seq, raw_fl raw_fr raw_bl raw_br (counts), status (per-cell bits); with a
    calibration also f_fl_n .. f_br_n, fz_n (N), cop_x_mm (+ right), cop_y_mm (+ forward); COP
    is empty (nan) when nobody is on the board. Metadata and the link statistics are `#` lines.
    """
    out_path = Path(out)
    if not out_path.parent.is_dir():
        # before the board is opened: nothing to record yet, nothing to warn about
        raise RigError(f"cannot write {out_path}: no such directory {out_path.parent}")
    with open_board(port) as link:
        h = link.hello
        cal, warnings = _calibration(link, calibration_path, raw_only, force)
        for w in warnings:
            click.echo(f"Warning: {w}", err=True)
        header = {
            "balance rig stream": f"rig {__version__}",
            "started_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "port": link.url,
            "board_id": h.board_id_hex,
            "firmware": h.firmware_str,
            "wire_version": h.wire_version,
            "adc": h.adc_name,
            "nominal_rate_hz": f"{h.rate_hz:g}",
            "requested_s": f"{seconds:g}",
            "cells": "fl=front-left fr=front-right bl=back-left br=back-right",
            "time": "t_s is board time (s) since the first frame; host_t_s is for latency only",
        }
        if cal is not None:
            header.update({
                "calibration_id": cal.id,
                "calibration_hash": cal.hash,
                "cell_positions_mm": " ".join(f"{x:g},{y:g}" for x, y in cal.positions_mm),
                "cells_aligned": "forces and COP use each cell's counts interpolated to t_s from its own "
                                 "sample instant (wire v2 cell ages); raw_* are as read (by corner)",
            })
        writer = stream_writer_for(out_path)(out_path, header, cal,
                                             TARE_WINDOW_S if (tare and cal is not None) else 0.0)
        error: RigError | None = None
        interrupted = False
        first = link.frame_count  # the stream's first index (start() pins the same one)
        given = [0]               # frames handed to the writer

        def write(batch):
            given[0] += len(batch)
            writer.write(batch)

        try:
            link.start()
            # from the first frame after START: frames streamed while a lost ACK made the link
            # repeat START are part of the recording
            link.collect(seconds, since=first, on_batch=write)
            link.stop()
        except RigError as e:
            error = e
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if error is not None or interrupted:
                # frames that arrived with the error (or the Ctrl-C) were received: write them too,
                # so "written" and "received" are the same number
                rest, _ = link.frames(first + given[0])
                write(rest)
            writer.flush_pending()
            # the board's rate: time missing across resets is not streaming time
            rate = writer.rate_hz(gap_s=link.stats.reset_gap_s, gaps=link.stats.resets)
            received = link.frame_count - first
            footer = {"frames_written": writer.rows,
                      # frames that arrived after the requested span, before STOP took effect
                      "frames_after_end_not_written": received - writer.rows,
                      "measured_rate_hz": f"{rate:.3f}"}
            footer.update({f"link_{k}": v for k, v in link.stats.as_dict().items()})
            if error is not None:
                footer["error"] = str(error)
            if interrupted:
                footer["interrupted"] = "stopped by the user"
            writer.close(footer)
        after = footer["frames_after_end_not_written"]
        click.echo(f"wrote {writer.rows} frames ({writer.rows / rate if rate == rate and rate else 0:.2f} s at {rate:.2f} Hz) to {out_path}"
                   + (f"; {after} more arrived after the requested {seconds:g} s, before STOP" if after else ""))
        click.echo(f"link: {link.stats.summary()}")
        if error is not None:
            raise type(error)(f"{error}; {writer.rows} frames written to {out_path}")
        if interrupted:
            raise KeyboardInterrupt
