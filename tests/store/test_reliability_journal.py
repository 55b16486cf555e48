"""Malformed, foreign and corrupted journals: set aside with one line, never breaking another
command; a journal corrupted in the middle keeps every frame before the damage, byte for byte."""
import json
import os

import numpy as np
import pytest

from rig.store import Store
from rig.store.journal import FRAME_DTYPE, HEADER_SIZE, read_journal
from tests.cli import rig
from tests.store.synth import frames_for, sway

GARBAGE = {
    "list": b"[1,2,3]\n",
    "no-session-id": json.dumps({"format": "rig-journal", "version": 1, "trial_id": "x-t01"}).encode() + b"\n",
    "foreign-format": json.dumps({"format": "something-else", "version": 1}).encode() + b"\n",
    "binary": bytes(range(256)) * 4,
    "empty": b"",
    "bad-condition": json.dumps({"format": "rig-journal", "version": 1, "trial_id": "y-t01",
                                 "session_id": "nosuch", "condition": [1], "index": "one"}).encode() + b"\n",
}


@pytest.fixture
def data_with_garbage(two_sessions, tmp_path):
    import shutil

    src, base, later = two_sessions
    data = tmp_path / "data"
    shutil.copytree(src, data)
    jdir = data / "journal"
    jdir.mkdir(exist_ok=True)
    for name, content in GARBAGE.items():
        (jdir / f"{name}.rjl").write_bytes(content)
    return data, base, later


@pytest.mark.parametrize("command", [
    ("sessions",), ("history", "A17"), ("export", "latest", "--out", "{tmp}/s.json"),
])
def test_garbage_journals_never_break_another_command(capsys, tmp_path, data_with_garbage, command):
    data, base, later = data_with_garbage
    argv = [a.replace("{tmp}", str(tmp_path)) for a in command]
    code, out, err = rig(capsys, *argv, "--data-dir", data)
    assert code == 0, err
    assert "Traceback" not in err
    notes = [ln for ln in err.splitlines() if "malformed or foreign" in ln]
    assert len(notes) == len(GARBAGE)               # one line per journal set aside
    assert not list((data / "journal").glob("*.rjl"))
    assert sorted(p.name for p in (data / "journal" / "unreadable").iterdir()) == \
        sorted(f"{n}.rjl" for n in GARBAGE)
    # nothing was deleted: the files are kept as they were
    for n, content in GARBAGE.items():
        assert (data / "journal" / "unreadable" / f"{n}.rjl").read_bytes() == content


def test_rig_recover_names_each_file_it_set_aside(capsys, data_with_garbage):
    data, _, _ = data_with_garbage
    code, out, err = rig(capsys, "recover", "--data-dir", data)
    assert code == 0, err
    for n in GARBAGE:
        assert f"{n}.rjl is malformed or foreign: moved to" in out
    code, out, err = rig(capsys, "recover", "--data-dir", data)
    assert code == 0 and "nothing to recover" in out


def test_a_journal_corrupted_in_the_middle_keeps_every_frame_before_it(tmp_path):
    with Store.open(tmp_path) as store:
        sid = store.new_session("C1", {"name": "t"}, {"rate_hz": 80}, {"id": "n", "hash": ""})
        rec = store.begin_trial(sid, {"name": "b"}, 1)
        x, y = sway(1, 400, 4, 3)
        allf = frames_for(x, y)
        parts = [allf[i:i + 20] for i in range(0, 400, 20)]
        for p in parts:
            rec.append(p)
        rec.journal.stop()
        path = rec.journal.path
        data = bytearray(path.read_bytes())
        # flip one payload byte of the 11th block: blocks 1-10 (200 frames) stay good
        header_end = data.index(b"\n") + 1
        block = HEADER_SIZE + 20 * FRAME_DTYPE.itemsize
        data[header_end + 10 * block + HEADER_SIZE + 5] ^= 0xFF
        os.close(rec.journal._fd)          # the writer "dies" here; its lock goes with it
        rec.journal._fd = -1
        path.write_bytes(bytes(data))
        j = read_journal(path)
        assert len(j.frames) == 200 and j.dropped_bytes == 10 * block
        np.testing.assert_array_equal(j.frames.raw, allf.raw[:200])
        np.testing.assert_array_equal(j.frames.t_s, allf.t_s[:200])
    with Store.open(tmp_path) as store:
        (r,) = [r for r in store.recovered if r.get("kind") == "trial"]
        assert r["frames"] == 200 and r["dropped_bytes"] == 10 * block
        got = store.trial_frames(r["trial_id"])
        assert got.raw.tobytes() == allf.raw[:200].tobytes()
        assert got.t_s.tobytes() == allf.t_s[:200].tobytes()
        s = store.session(sid)
        assert s["status"] == "incomplete"
