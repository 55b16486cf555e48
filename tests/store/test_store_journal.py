"""Journal format: any torn tail or corrupted block loses only what follows it; syncs run
every 100 ms while data arrives."""
import os
import time

import numpy as np
from hypothesis import given, settings, strategies as st

from rig.store import journal
from rig.store.journal import FRAME_DTYPE, JournalWriter, read_journal
from tests.store import synth

FRAMES = synth.frames_for(*synth.sway(7, 60, 3, 3))
CUTS = [0, 5, 17, 18, 40, 59, 60]  # batches of uneven size


def _write(tmp_path, name="j.rjl"):
    w = JournalWriter(tmp_path / name, {"trial_id": "t"})
    for a, b in zip(CUTS, CUTS[1:]):
        w.append_frames(FRAMES[a:b])
    w.append_stats({"frames_decoded": 60})
    w.append_note("board unplugged")
    w.close()
    return tmp_path / name


def test_round_trip_is_exact(tmp_path):
    j = read_journal(_write(tmp_path))
    for name in ("seq", "t_us", "t_s", "host_t_s", "raw", "status", "age_us"):
        assert np.array_equal(getattr(j.frames, name), getattr(FRAMES, name))
        assert getattr(j.frames, name).dtype == getattr(FRAMES, name).dtype
    assert j.stats == {"frames_decoded": 60} and j.notes[0]["text"] == "board unplugged"
    assert j.meta["trial_id"] == "t" and j.dropped_bytes == 0 and FRAME_DTYPE.itemsize == 48


def test_cell_ages_are_kept_and_journals_without_them_still_read(tmp_path):
    from rig.store.journal import FRAME_V1_DTYPE, KIND_FRAMES, encode_block, frames_to_records

    aged = FRAMES[:10]
    aged.age_us = np.arange(40, dtype=np.uint16).reshape(10, 4) * 100
    path = tmp_path / "a.rjl"
    w = JournalWriter(path, {"trial_id": "a"})
    w.append_frames(aged)
    w.close()
    assert np.array_equal(read_journal(path).frames.age_us, aged.age_us)
    # a journal written before ages were kept: 40-byte records, ages read as unknown
    old = frames_to_records(aged)[list(FRAME_V1_DTYPE.names)].astype(FRAME_V1_DTYPE)
    data = path.read_bytes()
    head = data[:data.index(b"\n") + 1]
    path.write_bytes(head + encode_block(KIND_FRAMES, old.tobytes(), len(old)))
    back = read_journal(path).frames
    assert np.array_equal(back.raw, aged.raw) and np.all(back.age_us == 0xFFFF)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_truncation_or_corruption_keeps_exactly_the_blocks_before_it(tmp_path_factory, data):
    path = _write(tmp_path_factory.mktemp("j"))
    raw = bytearray(path.read_bytes())
    header_end = raw.index(b"\n") + 1
    pos = data.draw(st.integers(header_end, len(raw) - 1))
    if data.draw(st.booleans()):
        raw = raw[:pos]                       # torn tail
    else:
        raw[pos] ^= data.draw(st.integers(1, 255))  # one flipped byte
    path.write_bytes(bytes(raw))
    j = read_journal(path)
    # block boundaries of the intact file: frames up to the damaged block survive, bit-exact
    sizes = [journal.HEADER_SIZE + (b - a) * journal.FRAME_DTYPE.itemsize for a, b in zip(CUTS, CUTS[1:]) if b > a]
    ends = header_end + np.cumsum(sizes)
    intact_blocks = int(np.searchsorted(ends, pos, side="right"))
    kept = [b for a, b in zip(CUTS, CUTS[1:]) if b > a][:intact_blocks]
    n = kept[-1] if kept else 0
    assert len(j.frames) == n
    assert np.array_equal(j.frames.raw, FRAMES.raw[:n]) and np.array_equal(j.frames.t_s, FRAMES.t_s[:n])


def test_data_is_synced_every_100_ms_while_recording(tmp_path, monkeypatch):
    calls = []
    real = getattr(os, "fdatasync", os.fsync)
    monkeypatch.setattr(journal, "_datasync", lambda fd: (calls.append(time.monotonic()), real(fd)))
    w = JournalWriter(tmp_path / "s.rjl", {})
    t_end = time.monotonic() + 0.55
    while time.monotonic() < t_end:
        w.append_frames(FRAMES[:2])
        time.sleep(0.004)
    w.close()
    # ~5 expected; >= 2 keeps the test honest without timing assertions on a shared machine
    assert w.sync_interval_s == 0.1 and len(calls) >= 2
