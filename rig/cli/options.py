"""Options shared by several commands, declared once."""
from __future__ import annotations

import click

from rig.board.link import ENV_PORT



def _register_sim(ctx, param, value):
    """A ``sim://`` port needs the simulated world, which only the command line may load.

    A regular file or a folder given as the port is refused here, in one line (the serial
    library would say "Inappropriate ioctl for device")."""
    if value and str(value).lower().startswith("sim://"):
        import rig.sim  # noqa: F401  (registers sim:// with pyserial)
    elif value:
        import os
        import stat

        try:
            mode = os.stat(value).st_mode
        except OSError:
            mode = None
        if mode is not None and (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            what = "a folder" if stat.S_ISDIR(mode) else "a regular file"
            raise click.BadParameter(f"{value} is {what}, not a serial port (e.g. /dev/ttyACM0, COM3, "
                                     "or sim:// for the simulated board; `rig ports` lists them)")
    return value


class DecimalRange(click.ParamType):
    """A number typed by a person: a decimal comma accepted (``72,5``), and a range said in
    words (``between 0 and 30``) when it is outside."""

    name = "number"

    def __init__(self, lo: float | None = None, hi: float | None = None, unit: str = "", integer: bool = False):
        self.lo, self.hi, self.unit, self.integer = lo, hi, unit, integer

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            v = value
        else:
            text = str(value).strip().replace(",", ".")
            try:
                v = int(text) if self.integer else float(text)
            except ValueError:
                self.fail(f"{value!r} is not {'a whole number' if self.integer else 'a number'}", param, ctx)
        import math

        if not math.isfinite(v) or (self.lo is not None and v < self.lo) or (self.hi is not None and v > self.hi):
            self.fail(f"{value} is not {self.describe()}", param, ctx)
        return v

    def describe(self) -> str:
        u = f" {self.unit}" if self.unit else ""
        kind = "a whole number" if self.integer else "a number"
        if self.lo is not None and self.hi is not None:
            return f"{kind} between {self.lo:g} and {self.hi:g}{u}"
        if self.lo is not None:
            return f"{kind} of at least {self.lo:g}{u}"
        return f"{kind} of at most {self.hi:g}{u}" if self.hi is not None else kind


force_option = click.option(
    "--force", is_flag=True,
    help="Measure with a calibration file made for another board (it says so in the recording).")


port_option = click.option(
    "--port",
    "-p",
    envvar=ENV_PORT,
    default=None,
    callback=_register_sim,
    metavar="PORT",
    help=(
        "Serial port of the board (/dev/ttyACM0, COM3, a pty), or sim://?OPTIONS for the "
        f"simulated board. Default: ${ENV_PORT}, else the one board found on USB."
    ),
)

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    envvar="RIG_DATA_DIR",
    default=None,
    help="Where sessions are stored (created owner-only, 0700: health data). Default: "
         "$RIG_DATA_DIR, else the user's data directory.",
)
