"""A lockstep simulated session is reproducible, however busy the host is.

In lockstep, board time advances with the host's empty reads. The link's reader thread keeps
reading while the rest of the host works, so a board that sat idle and kept advancing would
take START at a board time that depends on the host's speed. The athlete's sway, the chips'
phases and any scheduled reset would then differ from run to run. A booted board that is not
streaming therefore stands still until the host's next command.
"""
import contextlib
import io
import time

import pytest

from rig.board.link import BoardLink
from rig.cli.run_cmd import run_session
from rig.session.protocols import load_protocol
from rig.session.screening import ClinicalEntries
from tests.runner.test_screen_population import EYES_CLOSED

pytestmark = pytest.mark.sim


def _session(tmp_path, name):
    (tmp_path / "ec.toml").write_text(EYES_CLOSED)
    protocol = load_protocol(tmp_path / "ec.toml")
    url = "sim://?seed=7&clock=lockstep&step_s=2&profile=cai-demo&injured=left"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        r = run_session(protocol, url, "P7", ClinicalEntries(), mass_kg=None, foot_length_mm=250,
                        foot_width_mm=95, live=False, snapshot=None, data_dir=tmp_path / name,
                        calibration_path=None, interactive=False, max_repeats=2)
    assert r.stopped is None
    # repr: NaN (an undefined measure) compares equal to NaN, every float to its last digit
    return [(t.condition, t.index, t.status, repr(t.measures)) for t in r.trials]


def test_the_same_seed_gives_the_same_trials_with_a_slow_host_before_start(tmp_path, monkeypatch):
    first = _session(tmp_path, "a")
    start = BoardLink.start

    def busy_start(self):
        time.sleep(0.5)            # the host is busy elsewhere while its reader thread reads on
        return start(self)

    monkeypatch.setattr(BoardLink, "start", busy_start)
    second = _session(tmp_path, "b")
    assert len(first) == len(second) >= 6
    assert first == second                 # every trial, status and measure, exactly
