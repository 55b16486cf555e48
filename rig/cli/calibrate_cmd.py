"""``rig calibrate`` (guided calibration with known masses) and ``rig check`` (spot check).

Thin: the procedure is ``rig.calibration.procedure``; this module asks, prints and writes.
"""
from __future__ import annotations

import getpass
from pathlib import Path

import click
import numpy as np

from rig.board.discovery import open_board
from rig.calibration import calibration_for, encode_blob, load_calibration
from rig.calibration import steps as S
from rig.calibration.blob import decode_blob
from rig.calibration.procedure import CalibrationProcedure, Settings, SpotCheck
from rig.calibration.select import default_output_path, nominal_path, search_dirs
from rig.cli.options import port_option
from rig.errors import CalibrationError


class ClickUI:
    def __init__(self, yes: bool):
        self.yes = yes

    def say(self, text: str) -> None:
        click.echo(text)

    def confirm(self, text: str, default: bool = True) -> bool:
        if self.yes:
            click.echo(f"{text} [yes: --yes]")
            return True
        return click.confirm(text, default=default)


def _base_for(board_id: str, positions_from: str | None):
    """The calibration to start from (cell positions, previous offsets) and where it came from:
    an explicit file, else the board's current file, else nominal."""
    if positions_from:
        return load_calibration(positions_from), positions_from
    for d in search_dirs():
        p = d / f"{board_id}.toml"
        if p.is_file():
            return load_calibration(p), str(p)
    return load_calibration(nominal_path()), str(nominal_path())


@click.command()
@port_option
@click.option("--mass-kg", "masses", type=click.FloatRange(min=0, min_open=True, max=300), multiple=True,
              help="The known mass in kg (asked if not given). Repeat for a linearity series at the centre: "
                   "the first is placed on every mark, the others at the centre.")
@click.option("--linearity-kg", type=click.FloatRange(min=0, min_open=True, max=300), multiple=True,
              help="Further masses placed at the centre after the corners (linearity check). Repeatable.")
@click.option("--grid", is_flag=True, help="Also place the mass on the 8 grid marks +-100 mm around the centre.")
@click.option("--noise-kg", type=click.FloatRange(min=0, max=300), default=None,
              help="Dead weight for the noise floor (default: the heaviest mass; 0 skips the noise floor).")
@click.option("--noise-s", type=click.FloatRange(min=2, max=300), default=S.NOISE_S, show_default=True,
              help="Length of the noise-floor recording in board seconds (science.md 6.4 suggests 60).")
@click.option("--by", "calibrated_by", default=None, help="Who calibrates (default: the login name).")
@click.option("--positions-from", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Take the cell positions (mm) from this calibration file (default: the board's file, else nominal).")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Where to write the calibration (default: calibration/<board-id>.toml).")
@click.option("--write-board", is_flag=True, help="Also store the calibration's id and hash on the board.")
@click.option("--step-timeout-s", type=click.FloatRange(min=10), default=300.0, show_default=True,
              help="Give up when a step sees no placement for this many board seconds.")
@click.option("--yes", "-y", is_flag=True, help="No confirmations (hands-free: every step is detected by itself).")
def calibrate(port, masses, linearity_kg, grid, noise_kg, noise_s, calibrated_by, positions_from, out,
              write_board, step_timeout_s, yes):
    """Guided calibration with a known mass: zero, centre and corners, linearity, noise floor.

    Every step notices by itself when the mass has been placed, is still, and has been lifted,
    so one person can calibrate alone. Wiring faults (dead, reversed, swapped or saturated
    cells) are reported as they are found. The result goes to calibration/<board-id>.toml.

    Simulated: rig calibrate --port "sim://?seed=3&calibration=20" --mass-kg 20 --yes
    """
    ui = ClickUI(yes)
    if not masses:
        if yes:
            raise click.UsageError("give the known mass with --mass-kg (required with --yes)")
        masses = (click.prompt("Known mass in kg", type=click.FloatRange(min=0, min_open=True, max=300)),)
    mass = masses[0]
    lin = tuple(masses[1:]) + tuple(linearity_kg)
    if calibrated_by is None:
        try:
            calibrated_by = getpass.getuser()
        except Exception:
            calibrated_by = ""
    with open_board(port) as link:
        h = link.hello
        click.echo(f"Board {h.board_id_hex}, firmware {h.firmware_str}, {h.rate_hz:g} Hz on {link.url}")
        base, pos_src = _base_for(h.board_id_hex, positions_from)
        previous = None
        if not base.is_nominal and base.board_id == h.board_id_hex:
            previous = np.empty(4)
            previous[base.channel] = base.offset_counts  # by channel

        out_path = Path(out) if out else default_output_path(h.board_id_hex)
        if out_path.exists() and not ui.confirm(f"{out_path} exists: replace it when done?", True):
            raise click.Abort()
        settings = Settings(mass_kg=mass, positions_mm=base.positions_mm, linearity_kg=lin, grid=grid,
                            noise_kg=noise_kg, noise_s=noise_s, step_timeout_s=step_timeout_s,
                            calibrated_by=calibrated_by, previous_offsets=previous)
        proc = CalibrationProcedure(settings, ui, h.board_id_hex, h.firmware_str)
        click.echo(f"Cell positions from {pos_src}. Steps:")
        for i, st in enumerate(proc.steps):
            click.echo(f"  {i + 1}. {st.describe()}" + (f" at ({st.x_mm:+.0f}, {st.y_mm:+.0f}) mm" if st.loaded else ""))
        if not ui.confirm("Start? (the board must be empty)", True):
            raise click.Abort()
        proc.run(link)
        cal = proc.result()
        _report(cal, proc.warnings)
        from rig.calibration.tomlio import write_calibration

        write_calibration(cal, out_path)
        click.echo(f"Calibration {cal.id} written to {out_path}")
        if write_board:
            _write_blob(link, cal)


def _write_blob(link, cal) -> None:
    """Store the calibration record on the board and read it back."""
    blob = encode_blob(cal)
    link.write_calibration_blob(blob)
    back = decode_blob(link.read_calibration_blob() or b"")
    if back is None or not back.matches(cal):
        raise CalibrationError(f"port {link.url}: the calibration record read back from the board does not match")
    click.echo(f"Calibration record {cal.id} ({len(blob)} bytes) stored on the board.")


def _report(cal, warnings) -> None:
    d = cal.data
    fit = d["fit"]
    click.echo("Gains (counts/N): " + ", ".join(
        f"{n} {g:.1f} ({p:+.2f} %)" for n, g, p in zip(("FL", "FR", "BL", "BR"), cal.gain_counts_per_n,
                                                        fit["gain_vs_nominal_percent"])))
    click.echo(f"Fit over {fit['placements']} placements: force residual rms {fit['force_rms_n']:.3f} N "
               f"(max {fit['force_max_n']:.3f} N), COP error rms {fit['cop_rms_mm']:.2f} mm "
               f"(max {fit['cop_max_mm']:.2f} mm)")
    if "linearity" in d:
        lin = d["linearity"]
        click.echo(f"Linearity over {lin['masses_kg']} kg: max deviation {lin['max_deviation_percent_of_max']:.3f} % "
                   "of the largest load")
    if "noise_floor" in d:
        nf = d["noise_floor"]
        click.echo(f"Noise floor ({nf['mass_kg']:g} kg, {nf['duration_s']:.0f} s, 10 Hz low-pass): COP SD "
                   f"{nf['cop_sd_x_mm']:.3f} / {nf['cop_sd_y_mm']:.3f} mm (ML/AP), mean velocity "
                   f"{nf['mean_velocity_mm_s']:.3f} mm/s, 95 % ellipse {nf['ellipse_area_mm2']:.4f} mm^2")
    worst_pct = max(abs(p["force_residual_n"]) / (p["mass_kg"] * cal.data["gravity_m_s2"]) * 100 for p in d["placements"])
    click.echo(f"How good: on the placements, force within {worst_pct:.2f} % and COP within {fit['cop_max_mm']:.2f} mm "
               "of the truth (a spot check should stay within 1 % and 2 mm).")
    dr = d["drift"]
    click.echo("Zero drift during calibration (N/min): " + ", ".join(f"{v:+.3f}" for v in dr["session_n_per_min"]))
    if d["wiring"]["remapped"]:
        click.echo("Wiring: " + "; ".join(d["wiring"]["notes"]))
    for w in warnings:
        click.echo(f"Warning: {w}")


@click.command()
@port_option
@click.option("--mass-kg", type=click.FloatRange(min=0, min_open=True, max=300), default=None,
              help="The known mass in kg (asked if not given).")
@click.option("--force-tol-pct", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Pass if the measured force is within this many per cent of the mass's weight.")
@click.option("--cop-tol-mm", type=click.FloatRange(min=0, min_open=True), default=2.0, show_default=True,
              help="Pass if the COP is within this many mm of the mark.")
@click.option("--calibration", "cal_path", type=click.Path(dir_okay=False), default=None,
              help="Check this calibration file (default: the board's own).")
@click.option("--force", is_flag=True, help="Check a calibration file made for another board.")
@click.option("--write-board", is_flag=True,
              help="When the check passes, store the calibration's id and hash on the board.")
@click.option("--max-age-days", type=click.FloatRange(min=0), default=None,
              help="Warn when the calibration is older than this (default 180, or $RIG_CALIBRATION_MAX_AGE_DAYS).")
@click.option("--step-timeout-s", type=click.FloatRange(min=10), default=300.0, show_default=True,
              help="Give up when a step sees no placement for this many board seconds.")
@click.option("--yes", "-y", is_flag=True, help="No confirmations.")
def check(port, mass_kg, force_tol_pct, cop_tol_mm, cal_path, force, write_board, max_age_days, step_timeout_s, yes):
    """Spot check before a session: a known mass at the centre, then on the front-right mark.

    Passes when the force is within --force-tol-pct of the weight and the COP within
    --cop-tol-mm of the mark at both places (defaults 1 % and 2 mm). Exit code 1 on failure.

    Simulated: rig check --port "sim://?seed=3&check=20" --mass-kg 20 --calibration cal.toml --yes
    """
    ui = ClickUI(yes)
    if mass_kg is None:
        if yes:
            raise click.UsageError("give the known mass with --mass-kg (required with --yes)")
        mass_kg = click.prompt("Known mass in kg", type=click.FloatRange(min=0, min_open=True, max=300))
    with open_board(port) as link:
        h = link.hello
        blob = link.read_calibration_blob()
        cal, warnings = calibration_for(h, cal_path, force=force, max_age=max_age_days,
                                        blob=blob if blob is not None else b"")
        click.echo(f"Board {h.board_id_hex} on {link.url}; calibration {cal.id}"
                   + (f" ({cal.source_path})" if cal.source_path else ""))
        for w in warnings:
            click.echo(f"Warning: {w}")
        sc = SpotCheck(cal, mass_kg, ui, force_tol_pct, cop_tol_mm, step_timeout_s)
        if not ui.confirm("Start? (the board must be empty)", True):
            raise click.Abort()
        sc.run(link)
        results = sc.results()
        for r in results:
            click.echo(f"{'PASS' if r.passed else 'FAIL'}  {r.mass_kg:g} kg on {r.label:<12} force {r.force_n:8.2f} N "
                       f"({r.force_error_percent:+.2f} %, tol {force_tol_pct:g} %)  COP ({r.cop_mm[0]:+.1f}, "
                       f"{r.cop_mm[1]:+.1f}) mm, error {r.cop_error_mm:.2f} mm (tol {cop_tol_mm:g} mm)")
        failed = [r for r in results if not r.passed]
        if failed:
            worst_f = max(abs(r.force_error_percent) for r in results)
            worst_c = max(r.cop_error_mm for r in results)
            raise CalibrationError(f"spot check FAILED for calibration {cal.id}: force error up to {worst_f:.2f} %, "
                                   f"COP error up to {worst_c:.2f} mm: run `rig calibrate`")
        click.echo(f"Spot check passed: calibration {cal.id} is good for today.")
        if write_board and not cal.is_nominal:
            _write_blob(link, cal)
