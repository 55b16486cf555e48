"""balance rig: an open four-load-cell balance board and its analysis software."""


def __getattr__(name: str):
    # the version comes from the installed metadata; importlib.metadata costs ~20 ms of every
    # start-up (rig --help, each rig analyze worker), so it is read only when asked for
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("balance-rig")
        except PackageNotFoundError:  # running from a source tree that was not installed
            value = "0.1.0"
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module 'rig' has no attribute {name!r}")
