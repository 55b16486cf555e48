"""Fixtures shared by the runner tests."""
import contextlib
import io

import pytest


@pytest.fixture(scope="session")
def demo_session(tmp_path_factory):
    """One ``rig demo --no-live --speed 50`` run: (exit code, stdout, stderr, data directory).

    Read-only for the tests that use it (they check what the demo printed and stored, and write
    reports outside its data directory): the demo is a whole CAI screen, so it runs once."""
    from rig.cli import main

    data = tmp_path_factory.mktemp("demo") / "d"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as e:
        main(["demo", "--no-live", "--speed", "50", "--data-dir", str(data)])
    return e.value.code, out.getvalue(), err.getvalue(), data
