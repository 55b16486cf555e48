"""``rig sim``: the simulated board (or the real firmware in simavr) on a pseudo-terminal."""
from __future__ import annotations

import json
import sys

import click
import serial

from rig.sim.board import BOARD_OPTIONS
from rig.errors import PortError


def _options_help() -> str:
    lines = ["\b", "Board options (URL query, e.g. sim://?seed=3&speed=20):"]
    lines += [f"  {k:<14} {v}" for k, v in BOARD_OPTIONS.items()]
    try:
        from rig.sim import scene

        lines += ["", "\b", "What stands on the board:"] + [f"  {l}" for l in scene.SCENE_OPTIONS_HELP.strip().splitlines()]
    except (ImportError, AttributeError):
        pass
    try:
        from rig.sim import calibration_scene

        lines += ["", "\b", "Calibration sequences:"] + [f"  {l}" for l in calibration_scene.OPTIONS_HELP.strip().splitlines()]
    except (ImportError, AttributeError):
        pass
    return "\n".join(lines)


@click.command(epilog=_options_help())
@click.argument("url", default="sim://", required=False)
@click.option("--firmware", "firmware", is_flag=False, flag_value="auto", default=None, metavar="[ELF]",
              help="Run the real AVR firmware in simavr instead (default ELF: firmware/build).")
def sim(url, firmware):
    """Expose a simulated board on a pseudo-terminal until stopped (Ctrl-C).

    The first line printed is the device path; give it to any program as a serial port,
    e.g. `rig info --port /dev/pts/5` in a second terminal. URL is a sim:// URL whose
    options choose the board and the athlete on it (below). With --firmware, the real
    firmware runs in simavr and the URL's world (person, loads, replay; not speed or link
    faults) stands on its four emulated HX711 chips.
    """
    if firmware is not None:
        from rig.sim.firmware import run_firmware_sim_cli

        if firmware.lower().startswith("sim://"):   # `--firmware sim://...`: the URL, default ELF
            firmware, url = "auto", firmware

        # the world (a person, loads, a replay) of a sim:// URL stands on the firmware's board
        world = url if url not in ("sim://", "sim://?") else None
        run_firmware_sim_cli(None if firmware == "auto" else firmware, click.echo, world)
        return
    if not url.lower().startswith("sim://"):
        raise PortError(f"rig sim: expected a sim:// URL, got {url!r}")
    import rig.sim  # noqa: F401  (registers sim://)
    from rig.sim.pty_bridge import PtyBridge, install_stop_signals

    try:
        port = serial.serial_for_url(url, timeout=0)
    except (serial.SerialException, ValueError) as e:
        raise PortError(f"{url}: {e}") from None
    bridge = PtyBridge(port)
    install_stop_signals(bridge)
    click.echo(bridge.device)
    sys.stdout.flush()
    click.echo(f"simulated board {port.board.model.board_id.hex()} on {bridge.device}; Ctrl-C to stop", err=True)
    why = bridge.serve()
    bridge.close()
    stats = {"ended": why, "bytes_to_host": bridge.bytes_to_host, "bytes_from_host": bridge.bytes_from_host,
             "bytes_dropped": bridge.bytes_dropped}
    click.echo(json.dumps(stats), err=True)
    if why != "stopped":
        raise PortError(f"rig sim: {why}")
