"""The simulated world: hardware model (board.py), the world on it (scene and friends), the
pyserial ``sim://`` handler (protocol_sim.py), the firmware-in-simavr bridge and the pty.

Only the command line and the tests import this package; production code never does.
Importing it registers the ``sim://`` URL scheme with pyserial, so
``serial.serial_for_url("sim://?seed=1")`` opens a simulated board.
"""
import serial

SIM_PACKAGE = "rig.sim"


def register() -> None:
    """Let pyserial find ``rig.sim.protocol_sim`` for ``sim://`` URLs."""
    if SIM_PACKAGE not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append(SIM_PACKAGE)


register()
