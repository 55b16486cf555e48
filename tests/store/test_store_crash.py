"""A trial survives the recording process being killed, and a board unplugged mid-trial."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rig.board.link import BoardLink
from rig.cli import cli
from rig.store.journal import FRAME_DTYPE, read_journal
from rig.store import Store
from tests.store.record_proc import SIDE_DTYPE

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def sim_url(extra: str = "") -> str:
    """``sim://?seed=1&clock=lockstep&step_s=0.025`` (an athlete on the board). Until the simulated athlete scene
    (rig.sim.scene) lands, the calibration-check scene stands in for the world on the
    board: the simulated electronics, wire format, link and decoder are the real ones."""
    import importlib.util

    url = "sim://?seed=1&clock=lockstep&step_s=0.025" + extra
    if importlib.util.find_spec("rig.sim.scene") is None:
        url += "&check=20"
    return url


def _side_frames(path: Path) -> np.ndarray:
    data = path.read_bytes()
    n = len(data) // SIDE_DTYPE.itemsize
    return np.frombuffer(data[: n * SIDE_DTYPE.itemsize], SIDE_DTYPE)


def _start_recorder(tmp_path, url):
    side = tmp_path / "side.bin"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, str(HERE / "record_proc.py"), str(tmp_path / "data"),
                             str(side), url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, text=True)
    return proc, side


def _wait_frames(proc, side, n, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"recorder exited early: {proc.stderr.read()}")
        if side.exists() and side.stat().st_size >= n * SIDE_DTYPE.itemsize:
            return
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"recorder did not reach {n} frames in {timeout_s} s")


def _assert_same_frames(got, want: np.ndarray):
    assert len(got) == len(want)
    for name in SIDE_DTYPE.names:
        a, b = getattr(got, name), want[name]
        assert a.shape == b.shape, name
        # bit-exact: compare the bytes, so even float64 times must match to the last bit
        assert np.ascontiguousarray(a).astype(b.dtype).tobytes() == np.ascontiguousarray(b).tobytes(), name


def test_sigkill_mid_trial_then_rig_recover_restores_all_but_the_last_100_ms(tmp_path):
    proc, side = _start_recorder(tmp_path, sim_url())
    try:
        _wait_frames(proc, side, 400)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    sent = _side_frames(side)

    journals = list((tmp_path / "data" / "journal").glob("*.rjl"))
    assert len(journals) == 1  # left behind by the killed process, not yet recovered

    result = CliRunner().invoke(cli, ["recover", "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    assert "recovered trial" in result.output and "marked incomplete" in result.output
    assert not list((tmp_path / "data" / "journal").glob("*.rjl"))

    with Store.open(tmp_path / "data") as store:
        s = store.session("latest")
        assert s["status"] == "incomplete"
        (t,) = s["trials"]
        assert t["status"] == "incomplete" and t["recovered"]
        assert "interrupted" in t["reasons"][0]
        got = store.trial_frames(t["id"])
        # the link's decoder statistics were journaled every 100 ms
        assert t["stats"].get("frames_decoded", 0) > 0
    n = len(got)
    assert n >= 300  # the side log had 400+ frames when the kill came; at most one batch is missing
    # everything recovered is exactly what was recorded, in order
    _assert_same_frames(got, sent[:n])
    # and what is missing is at most the last 100 ms of board time
    missing = sent[n:]
    print(f"side log {len(sent)} frames, recovered {n}")
    if len(missing):
        assert missing["t_s"][-1] - got.t_s[-1] <= 0.100
    assert t["window_s"][0] == pytest.approx(sent["t_s"][0])
    # a second recovery finds nothing left
    again = CliRunner().invoke(cli, ["recover", "--data-dir", str(tmp_path / "data")])
    assert "nothing to recover" in again.output


def test_torn_journal_tail_is_dropped_and_the_rest_kept(tmp_path):
    store = Store.open(tmp_path)
    sid = store.new_session("T1", {"name": "p"}, {}, {"id": "nominal"})
    rec = store.begin_trial(sid, {"name": "c"}, 1)
    from tests.store.synth import frames_for, sway

    x, y = sway(1, 300, 3, 3)
    fr = frames_for(x, y)
    for i in range(0, 300, 10):
        rec.append(fr[i:i + 10])
    path = rec.journal.path
    rec.journal.stop()  # simulate the process dying: the file stays, nothing is filed
    os.close(rec.journal._fd)
    rec.journal._fd = -1
    # a torn last write: half of a block, then garbage that must not be taken for frames
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - FRAME_DTYPE.itemsize * 5] + b"\x00garbage")
    j = read_journal(path)
    assert len(j.frames) == 290 and j.dropped_bytes > 0
    store.close()

    with Store.open(tmp_path) as store2:  # opening recovers by itself
        assert [r["frames"] for r in store2.recovered] == [290]
        (t,) = store2.session(sid)["trials"]
        assert t["status"] == "incomplete"
        assert any("torn" in r for r in t["reasons"])
        got = store2.trial_frames(t["id"])
        assert np.array_equal(got.raw, fr.raw[:290]) and np.array_equal(got.t_s, fr.t_s[:290])


def test_a_journal_still_being_written_is_not_recovered_by_another_open(tmp_path):
    store = Store.open(tmp_path)
    sid = store.new_session("T1", {"name": "p"}, {}, {"id": "nominal"})
    rec = store.begin_trial(sid, {"name": "c"}, 1)
    from tests.store.synth import frames_for, sway

    fr = frames_for(*sway(2, 50, 3, 3))
    rec.append(fr)
    with Store.open(tmp_path) as other:
        assert other.recovered == []
        assert other.session(sid)["trials"] == []
    tid = rec.finish("valid", [], {}, (0.0, 1.0), {"sd_ml_mm": 1.0}, {})
    assert not list((tmp_path / "journal").glob("*.rjl"))
    assert np.array_equal(store.trial_frames(tid).seq, fr.seq)
    store.close()


def test_unplugged_board_keeps_the_trial_as_incomplete_with_the_reason(tmp_path):
    # the bootloader is short and the board goes 6 s after the port opened (board time): however
    # long the host takes to say START, well over 100 frames stream before it vanishes
    url = sim_url("&disconnect_s=6&boot_s=0.05")
    with Store.open(tmp_path) as store:
        sid = store.new_session("U1", {"name": "p"}, {"board_id": "sim"}, {"id": "nominal"})
        link = BoardLink(url)
        link.open()
        try:
            rec = store.begin_trial(sid, {"name": "bipedal", "stance": "bipedal", "eyes": "open"}, 1,
                                    stats_source=lambda: link.stats.as_dict())
            link.add_listener(rec.append)
            link.start()
            with pytest.raises(Exception) as err:
                link.collect(30.0)  # the board vanishes at 6 s of board time
            assert link.error is not None
            tid = rec.abort(str(link.error), stats=link.stats.as_dict())
        finally:
            link.close()
        t = store.trial(tid)
        assert t["status"] == "incomplete"
        assert "unplugged" in t["reasons"][0] and "kept" in t["reasons"][0]
        frames = store.trial_frames(tid)
        assert len(frames) > 100
        assert frames.t_s[-1] - frames.t_s[0] < 6.0
        assert t["stats"]["frames_decoded"] >= len(frames)
        assert not list((tmp_path / "journal").glob("*.rjl"))
    out = CliRunner().invoke(cli, ["sessions", "--trials", "--data-dir", str(tmp_path)])
    assert "incomplete" in out.output and "unplugged" in out.output
    # an incomplete session without a result still gives a report that says what happened
    for name in ("r.html", "r.pdf"):
        r = CliRunner().invoke(cli, ["report", "latest", "--out", str(tmp_path / name), "--data-dir", str(tmp_path)])
        assert r.exit_code == 0, r.output + repr(r.exception)
    html = (tmp_path / "r.html").read_text()
    assert "No result was stored" in html and "unplugged" in html and "incomplete" in html
