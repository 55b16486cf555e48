"""``rig stream``: record the board's raw data (and, with a calibration, forces and COP) to CSV.

Rows are written and flushed as frames arrive, so an unplugged board or a Ctrl-C keeps every
frame received; the decoder statistics close the file as comment lines.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click
import numpy as np

from rig import __version__
from rig.frames import FrameBatch
from rig.board.link import open_board
from rig.cli.options import force_option, port_option
from rig.errors import RigError

TARE_WINDOW_S = 0.5


class CsvTraceWriter:
    """Appends frames to a CSV file: raw columns, plus forces and COP when calibrated."""

    def __init__(self, path: Path, header: dict, calibration=None, tare_s: float = 0.0):
        self.path = path
        self.cal = calibration
        self.tare_s = tare_s
        self.rows = 0
        self._t0: float | None = None
        self._pending: list[FrameBatch] = []  # held until the tare window is complete
        try:
            self._f = open(path, "w", encoding="ascii", newline="\n")
        except OSError as e:
            raise RigError(f"cannot write {path}: {e.strerror}") from None
        for k, v in header.items():
            self._f.write(f"# {k}: {v}\n")
        cols = ["t_s", "host_t_s", "seq", "raw_fl", "raw_fr", "raw_bl", "raw_br", "status"]
        if self.cal is not None:
            cols += ["f_fl_n", "f_fr_n", "f_bl_n", "f_br_n", "fz_n", "cop_x_mm", "cop_y_mm"]
        self._f.write(",".join(cols) + "\n")
        self._f.flush()

    def write(self, batch: FrameBatch) -> None:
        if not len(batch):
            return
        if self._t0 is None:
            self._t0 = float(batch.t_s[0])
            self._host0 = float(batch.host_t_s[0])
        if self.cal is not None and self.tare_s > 0:
            self._pending.append(batch)
            held = FrameBatch.concat(self._pending)
            if held.t_s[-1] - self._t0 < self.tare_s:
                return
            self._apply_tare(held)
            self._pending = []
            batch = held
        self._write_rows(batch)

    def _apply_tare(self, held: FrameBatch) -> None:
        window = held.raw[held.t_s - self._t0 < self.tare_s]
        self.cal = self.cal.tare(window)
        self._f.write(f"# tare: offsets from the first {self.tare_s:g} s (board assumed empty)\n")
        self.tare_s = 0.0

    def _write_rows(self, batch: FrameBatch) -> None:
        t = batch.t_s - self._t0
        host = batch.host_t_s - self._host0
        cols = [t, host, batch.seq, *batch.raw.T, batch.status]
        fmt = ["%.6f", "%.4f", "%d", "%d", "%d", "%d", "%d", "%d"]
        if self.cal is not None:
            from rig.engine.cop import cop_from_forces

            forces = self.cal.forces_n(batch.raw)
            fz, cx, cy = cop_from_forces(forces, self.cal.positions_mm)
            cx, cy = self.cal.correct_cop(cx, cy)
            cols += [*forces.T, fz, cx, cy]
            fmt += ["%.3f"] * 5 + ["%.3f", "%.3f"]
        arr = np.column_stack([np.asarray(c, dtype=np.float64) for c in cols])
        np.savetxt(self._f, arr, fmt=fmt, delimiter=",")
        self._f.flush()
        self.rows += len(batch)

    def close(self, footer: dict) -> None:
        if self._pending:  # recording shorter than the tare window: write what we have
            held = FrameBatch.concat(self._pending)
            self._pending = []
            self._apply_tare(held)
            self._write_rows(held)
        for k, v in footer.items():
            self._f.write(f"# {k}: {v}\n")
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()


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
            })
        writer = CsvTraceWriter(out_path, header, cal, TARE_WINDOW_S if (tare and cal is not None) else 0.0)
        error: RigError | None = None
        interrupted = False
        try:
            link.start()
            link.collect(seconds, on_batch=writer.write)
            link.stop()
        except RigError as e:
            error = e
        except KeyboardInterrupt:
            interrupted = True
        finally:
            frames, _ = link.frames(0)
            rate = (len(frames) - 1) / (frames.t_s[-1] - frames.t_s[0]) if len(frames) > 1 else float("nan")
            footer = {"frames_written": writer.rows, "measured_rate_hz": f"{rate:.3f}"}
            footer.update({f"link_{k}": v for k, v in link.stats.as_dict().items()})
            if error is not None:
                footer["error"] = str(error)
            if interrupted:
                footer["interrupted"] = "stopped by the user"
            writer.close(footer)
        click.echo(f"wrote {writer.rows} frames ({writer.rows / rate if rate == rate and rate else 0:.2f} s at {rate:.2f} Hz) to {out_path}")
        click.echo(f"link: {link.stats.summary()}")
        if error is not None:
            raise type(error)(f"{error}; {writer.rows} frames written to {out_path}")
        if interrupted:
            raise KeyboardInterrupt
