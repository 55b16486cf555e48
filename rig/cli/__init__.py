"""The ``rig`` command line: a thin layer over the package.

Commands live one per module and are imported only when used (``rig --help`` stays fast and
``rig stream`` never imports Qt). User errors (``RigError``) are printed as one line with a
non-zero exit code, never a traceback.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from rig.errors import RigError

# name -> (module, attribute, one-line help). Each module owns its command.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "ports": ("rig.cli.board_cmds", "ports", "List serial ports and the balance boards on them."),
    "info": ("rig.cli.board_cmds", "info", "Identify the board: firmware, board id, rate, ADC."),
    "stream": ("rig.cli.stream_cmd", "stream", "Record the board's raw data (and forces/COP) to CSV."),
    "sim": ("rig.cli.sim_cmd", "sim", "Expose a simulated board on a pseudo-terminal."),
    "analyze": ("rig.cli.analyze_cmd", "analyze", "Compute sway measures from COP traces."),
    "calibrate": ("rig.cli.calibrate_cmd", "calibrate", "Guided calibration with known masses."),
    "check": ("rig.cli.calibrate_cmd", "check", "Spot-check the calibration before a session."),
    "run": ("rig.cli.run_cmd", "run", "Run a balance protocol with an athlete."),
    "live": ("rig.cli.live_cmd", "live", "Live COP view of the board, no protocol."),
    "demo": ("rig.cli.run_cmd", "demo", "The CAI screen on a simulated athlete: no board needed."),
    "recover": ("rig.cli.store_cmds", "recover", "Turn journals left by a crash into incomplete trials."),
    "sessions": ("rig.cli.store_cmds", "sessions", "List recorded sessions."),
    "history": ("rig.cli.store_cmds", "history", "An athlete's sessions and measures over time."),
    "export": ("rig.cli.store_cmds", "export", "Export a session or athlete (.csv .json .c3d .zip)."),
    "report": ("rig.cli.store_cmds", "report", "Write an HTML or PDF report of a session."),
    "score": ("rig.cli.score_cmd", "score", "Confirm or edit the BESS errors of a session."),
    "athletes": ("rig.cli.athletes_cmd", "athletes", "List or search athletes; record their details."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return [n for n, (mod, _, _) in COMMANDS.items() if _module_exists(mod)]

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        mod, attr, _ = COMMANDS[name]
        if not _module_exists(mod):
            return None
        return getattr(importlib.import_module(mod), attr)

    def format_commands(self, ctx, formatter):
        rows = [(n, COMMANDS[n][2]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _module_exists(mod: str) -> bool:
    return importlib.util.find_spec(mod) is not None


def _print_version(ctx, param, value):
    """``rig --version``: the package's version and which analysis code this install runs
    (both read only when asked: start-up stays free of them)."""
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import version

    from rig.engine import native
    click.echo(f"rig, version {version('balance-rig')}\nengine: {native.describe()}")
    ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and the analysis engine (compiled kernels or numpy only).")
def cli():
    """balance rig: record, analyse and report balance on a four-load-cell board.

    Without a board, use --port sim:// (a simulated athlete), e.g.

        rig info --port "sim://?seed=1"

        rig demo
    """


def main(argv=None):
    """Entry point: run the CLI, turning user errors into one line and an exit code.

    Ctrl-C and SIGTERM end every command the same way: one line, exit code 130."""
    from rig.session.interrupts import install_terminate_as_interrupt

    install_terminate_as_interrupt()
    try:
        cli.main(args=argv, prog_name="rig", standalone_mode=False)
    except RigError as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
    sys.exit(0)
