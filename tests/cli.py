"""The rig command line run in-process from a test (capsys captures its output)."""
import pytest

from rig.cli import main


def rig(capsys, *argv):
    """``rig ARGV...`` (arguments turned into strings): (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in argv])
    out = capsys.readouterr()
    return e.value.code, out.out, out.err
