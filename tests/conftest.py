"""Project-wide test set-up. Qt must be told to render offscreen before anything imports it:
without a display Qt calls abort() and takes the whole pytest run down."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MPLBACKEND", "Agg")
# Simulated boards (sim://) run in lockstep: board time advances with what the host reads, not
# with the wall clock, so no test depends on the host's speed (subprocesses inherit it; a URL's
# own clock= wins, e.g. the test of speed=).
os.environ.setdefault("RIG_SIM_CLOCK", "lockstep")

from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, max_examples=200, deadline=None)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_addoption(parser):
    parser.addoption("--port", action="store", default=None,
                     help="a real board's serial port for hardware-in-the-loop tests")


def pytest_collection_modifyitems(config, items):
    import pytest

    if config.getoption("--port"):
        return
    skip = pytest.mark.skip(reason="no --port given: hardware-in-the-loop test")
    for item in items:
        if "hardware" in item.keywords:
            item.add_marker(skip)


# The tests open simulated boards (sim://) through pyserial: register the simulated world.
import rig.sim  # noqa: E402,F401
