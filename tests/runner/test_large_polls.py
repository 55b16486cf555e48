"""A poll that brings more than the runner's rolling buffer (``BUFFER_S``) loses nothing.

A busy host, or a simulated board far faster than the runner's loop, hands the runner tens of
board seconds at once. The rolling buffer must still keep every sample the runner has not
judged: before, such a poll dropped the athlete's stance blocks and the session waited 120 s
for a stance that had come and gone.
"""
import contextlib
import dataclasses
import io
import time

import pytest

from rig.cli.run_cmd import run_session
from rig.session import runner
from rig.session.protocols import load_protocol
from rig.session.screening import ClinicalEntries
from tests.runner.test_screen_population import EYES_CLOSED

pytestmark = pytest.mark.sim


def test_polls_longer_than_the_buffer_keep_every_stance_block(tmp_path, monkeypatch):
    (tmp_path / "ec.toml").write_text(EYES_CLOSED)
    protocol = dataclasses.replace(load_protocol(tmp_path / "ec.toml"),
                                   screening=load_protocol("cai-screen").screening)
    spans = []
    poll = runner.BoardFeed.poll

    def measured(self):
        # a busy host: the runner's loop comes back only once the board has sent more than
        # BUFFER_S since its last poll (so the case does not depend on how often a real
        # host's loop happens to poll), or once the stream has stood still for a while
        waited, last = time.monotonic(), None
        while True:
            ahead, _ = self.link.frames(self.next_index)
            span = float(ahead.t_s[-1] - ahead.t_s[0]) if len(ahead) else 0.0
            if span > runner.BUFFER_S + 3.0:
                break
            if span != last:
                waited, last = time.monotonic(), span
            elif time.monotonic() - waited > 0.5:            # not streaming: nothing to wait for
                break
            time.sleep(0.002)
        batch, new = poll(self)
        if len(new):
            spans.append(float(new.t_s[-1] - new.t_s[0]))
        return batch, new

    monkeypatch.setattr(runner.BoardFeed, "poll", measured)
    # lockstep, 5 board seconds per empty read, and the busy host above: polls of 15-50 s;
    # this athlete's repeated left trials use every spare block of the simulated timetable
    url = "sim://?seed=101&clock=lockstep&step_s=5&profile=cai-demo&injured=left"
    with contextlib.redirect_stdout(io.StringIO()):
        r = run_session(protocol, url, "P101", ClinicalEntries(), mass_kg=None, foot_length_mm=250,
                        foot_width_mm=95, live=False, snapshot=None, data_dir=tmp_path / "data",
                        calibration_path=None, interactive=False, max_repeats=2)
    assert max(spans) > runner.BUFFER_S          # the case at hand: polls beyond the buffer
    assert r.stopped is None
    for cond in protocol.conditions:
        trials = [t for t in r.trials if t.condition == cond.name and not t.practice]
        valid = sum(t.status == "valid" for t in trials)
        invalid = len(trials) - valid
        # three valid trials, or an invalid one and its two repeats: the runner moved on
        assert valid == 3 or invalid == 1 + 2, [(t.index, t.status) for t in trials]
