"""balance rig: an open four-load-cell balance board and its analysis software."""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("balance-rig")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.1.0"
