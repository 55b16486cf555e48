"""Options shared by several commands, declared once."""
from __future__ import annotations

import click

from rig.board.link import ENV_PORT



def _register_sim(ctx, param, value):
    """A ``sim://`` port needs the simulated world, which only the command line may load."""
    if value and str(value).lower().startswith("sim://"):
        import rig.sim  # noqa: F401  (registers sim:// with pyserial)
    return value


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
