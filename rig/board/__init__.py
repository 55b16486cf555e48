"""The board link: wire format, decoder, serial link, discovery and the simulated board.

Importing this package registers the ``sim://`` URL scheme with pyserial, so
``serial.serial_for_url("sim://?seed=1")`` opens a simulated board.
"""
import serial

_SIM_PACKAGE = "rig.board.sim"
if _SIM_PACKAGE not in serial.protocol_handler_packages:
    serial.protocol_handler_packages.append(_SIM_PACKAGE)
