"""Errors meant for users: the CLI catches ``RigError`` once and prints one line.

Each message names what went wrong and where (file and key, port, time), and, when data
was recorded before the error, where that data was kept.
"""


class RigError(Exception):
    """Base of every error that is the user's or the environment's, not a bug."""

    exit_code = 1


class PortError(RigError):
    """A serial port could not be opened, or the board on it stopped answering."""


class BoardError(RigError):
    """The board answered, but not as the wire format says it should."""


class DisconnectError(PortError):
    """The board went away mid-stream; everything received before is kept."""


class FileFormatError(RigError):
    """An input file (CSV, TOML, journal) is malformed; names the file and the place."""


class CalibrationError(RigError):
    """A calibration file is broken, or does not belong to this board."""


class ProtocolFileError(RigError):
    """A protocol file is broken; names the file, the key and what was expected."""


class AnalysisError(RigError):
    """A trace cannot be analysed (too short, constant, no one on the board...)."""
