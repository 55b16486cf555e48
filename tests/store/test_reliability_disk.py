"""A disk that fills (or fails) mid-trial: the trial stops at once with one line saying how
many frames were kept and where; every frame received before the failure is kept, byte for
byte; nothing received after it is claimed; no temporary file is left; the session is closed
as incomplete. The full disk is simulated without root: RLIMIT_FSIZE in a subprocess (writes
fail with EFBIG), or an injected writer that behaves like a disk with a fixed amount of room."""
import errno
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from rig.errors import RigError
from rig.frames import FrameBatch
from rig.store import Store
from rig.store.journal import RESERVE_BYTES, JournalError, read_journal
from tests.store.record_proc import SIDE_DTYPE
from tests.store.reliability import REPO, env, leftovers, protocol, run_rig, state
from tests.store.synth import frames_for, sway


class FakeLink:
    """What the recorder needs of a BoardLink: listeners and frames(since)."""

    def __init__(self):
        self.listeners, self.got = [], []

    def add_listener(self, fn):
        self.listeners.append(fn)

    def remove_listener(self, fn):
        self.listeners.remove(fn)

    def frames(self, since=0):
        b = FrameBatch.concat(self.got[since:]) if self.got[since:] else FrameBatch.concat([])
        return b, len(self.got)

    def deliver(self, batch):
        self.got.append(batch)
        for fn in list(self.listeners):
            fn(batch)


class SmallDisk:
    """An os.write stand-in for a disk with ``room`` bytes free; deleting the journal's reserve
    file frees its size, as on a real disk."""

    def __init__(self, room: int, fail_errno=errno.ENOSPC):
        self.room, self.errno, self.reserve = room, fail_errno, None

    def __call__(self, fd, data):
        room = self.room + (RESERVE_BYTES if self.reserve and not self.reserve.exists() else 0)
        n = min(len(data), max(room, 0))
        if n == 0:
            raise OSError(self.errno, os.strerror(self.errno))
        n = os.write(fd, bytes(data[:n]))
        self.room -= n
        return n


def batches(n_batches=60, per=8):
    x, y = sway(3, n_batches * per, 4.0, 3.0)
    allf = frames_for(x, y)
    return [allf[i * per:(i + 1) * per] for i in range(n_batches)]


def records(frames: FrameBatch) -> bytes:
    out = np.empty(len(frames), SIDE_DTYPE)
    for name in SIDE_DTYPE.names:
        out[name] = getattr(frames, name)
    return out.tobytes()


def new_session(store):
    return store.new_session("D1", {"name": "t", "version": "1"},
                             {"board_id": "sim", "firmware": "", "rate_hz": 80, "port": "sim://"},
                             {"id": "nominal", "hash": "", "positions_mm": None})


@pytest.mark.parametrize("fail_errno", [errno.ENOSPC, errno.EIO])
def test_a_failing_journal_stops_the_trial_and_keeps_exactly_the_frames_before(tmp_path, fail_errno):
    disk = SmallDisk(room=6000, fail_errno=fail_errno)
    with Store.open(tmp_path) as store:
        sid = new_session(store)
        rec = store.begin_trial(sid, {"name": "b"}, 1, journal_options={"write_fn": disk})
        disk.reserve = rec.journal.reserve_path
        link = FakeLink()
        rec.attach(link)
        sent = batches()
        stopped_at = None
        for i, b in enumerate(sent):
            link.deliver(b)
            try:
                rec.check()
            except JournalError as e:
                stopped_at, err = i, e
                break
        assert stopped_at is not None and stopped_at < len(sent) - 1
        for b in sent[stopped_at + 1:]:     # frames after the failure: never claimed
            link.deliver(b)
        msg = str(err)
        assert "\n" not in msg and f"the {err.frames} frames received before" in msg
        assert str(rec.journal.path) in msg
        before = FrameBatch.concat(sent[:stopped_at + 1])
        if fail_errno == errno.ENOSPC:
            # the reserve made room for the batch that met the full disk: all received is kept
            assert err.frames == len(before) and "the disk is full" in msg
        else:
            # an I/O error: the batch being written is lost, everything before it kept
            assert err.frames == len(FrameBatch.concat(sent[:stopped_at])) and "input/output" in msg
        kept = read_journal(rec.journal.path).frames
        assert records(kept) == records(before[:err.frames])
        tid = rec.abort("recording stopped")
        t = store.trial(tid)
        assert t["status"] == "incomplete" and t["n_frames"] == err.frames and t["measures"] == {}
        assert any("kept in this trial" in r for r in t["reasons"])
        assert not any(str(tmp_path) in r for r in t["reasons"])   # no host path in the trial
        assert records(store.trial_frames(tid)) == records(before[:err.frames])
        assert not rec.journal.path.exists() and not rec.journal.reserve_path.exists()
    assert leftovers(tmp_path) == []


def test_listener_attach_journals_every_frame_once_while_the_reader_thread_runs(tmp_path):
    """attach(): frames already taken (seed), frames received but not yet taken (since), and
    frames arriving from another thread meanwhile: each journaled exactly once, in order."""
    sent = batches(200, 4)
    link = FakeLink()
    for b in sent[:10]:
        link.deliver(b)
    with Store.open(tmp_path) as store:
        sid = new_session(store)
        rec = store.begin_trial(sid, {"name": "b"}, 1)
        feeder = threading.Thread(target=lambda: [link.deliver(b) for b in sent[13:]])
        link.got += sent[10:13]                        # received, not yet taken by the caller
        seed = FrameBatch.concat(sent[5:10])           # taken by the caller, part of the trial
        feeder.start()
        rec.attach(link, since=10, seed=seed)
        feeder.join()
        tid = rec.finish("valid", [], {}, (0, 1), {}, {})
        got = store.trial_frames(tid)
    assert records(got) == records(FrameBatch.concat(sent[5:]))


def _limited_recording(tmp_path, limit):
    data = tmp_path / "data"
    Store.open(data).close()
    p = subprocess.run([sys.executable, str(REPO / "tests" / "store" / "record_limited.py"),
                        str(data), "sim://?seed=2&speed=10", str(limit)],
                       capture_output=True, env=env(), cwd=REPO, timeout=300)
    return data, p


def test_file_size_limit_mid_trial_keeps_every_frame_received_before_byte_for_byte(tmp_path):
    limit = RESERVE_BYTES + 48_000          # the reserve fits; the journal hits the limit soon
    data, p = _limited_recording(tmp_path, limit)
    err = p.stderr.decode().strip()
    assert p.returncode == 3, err
    assert len(err.splitlines()) == 1 and "file size limit" in err
    side = np.frombuffer(p.stdout, SIDE_DTYPE)
    s = state(data)[0]
    assert s["status"] == "incomplete"
    (t,) = s["trials"]
    n = t["n_frames"]
    assert f"the {n} frames received before" in err and f"filed as incomplete trial {t['id']}" in err
    assert 100 < n < len(side)              # stopped mid-trial; later frames were not claimed
    with Store.open(data, recover=False) as store:
        assert records(store.trial_frames(t["id"])) == side[:n].tobytes()
    assert leftovers(data) == [] and not list((data / "journal").glob("*.rjl*"))


def test_rig_run_on_a_filling_disk_prints_one_line_and_recover_closes_the_session(tmp_path):
    """`rig run` whose files may not grow past a limit (the journal meets it mid-trial)."""
    import resource
    import signal

    limit = RESERVE_BYTES + 40_000

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    data = tmp_path / "data"
    Store.open(data).close()
    r = run_rig("run", protocol(tmp_path, duration_s=120), "--port",
                "sim://?seed=5&mass_kg=70&speed=20", "--athlete", "K8", "--no-live", "--yes",
                "--mass-kg", "70", "--data-dir", data, preexec_fn=small_disk)
    assert r.returncode != 0
    errs = [ln for ln in r.stderr.splitlines() if ln.startswith("Error")]
    assert len(errs) == 1 and "Traceback" not in r.stderr, r.stderr
    assert "recording stopped" in errs[0] and "frames received before" in errs[0]
    rr = run_rig("recover", "--data-dir", data)
    assert rr.returncode == 0, rr.stderr
    s = state(data)[0]
    assert s["status"] == "incomplete"
    (t,) = [t for t in s["trials"] if t["status"] == "incomplete"]
    assert f"the {t['n_frames']} frames received before" in errs[0]
    seq = t["n_frames"] and np.diff(Store.open(data, recover=False).trial_frames(t["id"]).seq.astype(int)) % 65536
    assert np.all(seq == 1)                 # contiguous: nothing missing before the failure
    assert leftovers(data) == []


def test_no_session_or_trial_starts_without_the_space_it_needs(tmp_path, monkeypatch):
    with Store.open(tmp_path) as store:
        sid = new_session(store)
        monkeypatch.setattr(Store, "free_bytes", lambda self: 500_000)
        with pytest.raises(RigError, match="not enough space for this session .* 0.5 MB free"):
            new_session(store)
        with pytest.raises(RigError, match="not enough space for the next trial"):
            store.begin_trial(sid, {"name": "b"}, 1)
        assert len(store.sessions()) == 1
        assert not list((tmp_path / "journal").glob("*.rjl"))


@pytest.mark.parametrize("suffix", ["csv", "zip", "json"])
def test_an_export_meeting_a_full_disk_leaves_no_temporary_file(tmp_path, two_sessions, suffix):
    import resource
    import signal

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    src, base, later = two_sessions
    out = tmp_path / "out" / f"s.{suffix}"
    out.parent.mkdir()
    r = run_rig("export", base, "--out", out, "--data-dir", src, preexec_fn=small_disk)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    errors = [ln for ln in r.stderr.splitlines() if not ln.startswith("note:")]
    assert errors == [f"Error: cannot write the export {out}: file too large"]
    assert list(out.parent.iterdir()) == []


def test_rig_stream_on_a_full_disk_says_how_many_frames_are_in_the_file(tmp_path):
    import resource
    import signal

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))

    out = tmp_path / "s.csv"
    r = run_rig("stream", "--port", "sim://?seed=1&speed=20", "--seconds", "600", "--out", out,
                preexec_fn=small_disk)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    errs = [ln for ln in r.stderr.splitlines() if ln.startswith("Error")]
    assert len(errs) == 1 and "file too large" in errs[0]
    import re

    n = int(re.search(r"the (\d+) frames before are in the file", errs[0]).group(1))
    rows = [ln for ln in out.read_text().splitlines() if ln and not ln.startswith("#")]
    assert len(rows) == n + 1            # the header row and exactly the frames said
    assert rows[-1].count(",") == rows[0].count(",")   # no torn last row
    assert (out.stat().st_mode & 0o077) == 0
