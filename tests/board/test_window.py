"""The link's bounded frame window: absolute indices, nothing skipped, nothing silently lost."""
import numpy as np
import pytest

from rig.board.window import FrameWindow, FramesLeftWindow
from rig.frames import FrameBatch


def batch(first, n):
    seq = (np.arange(first, first + n) % 65536).astype(np.uint16)
    t = np.arange(first, first + n) * 0.0125
    return FrameBatch(seq, (t * 1e6).astype(np.uint32), t, t, np.zeros((n, 4), np.int32),
                      np.zeros(n, np.uint16))


def test_readers_get_every_frame_once_from_any_index():
    w = FrameWindow(max_frames=1000)
    got, cursor, i = [], 0, 0
    for n in [1, 5, 3, 0, 17, 2]:
        w.append(batch(i, n))
        i += n
        b, cursor = w.since(cursor)
        got.extend(b.seq.tolist())
    assert got == list(range(i)) and cursor == i == w.count
    assert w.since(7)[0].seq.tolist() == list(range(7, i))      # mid-batch start
    assert len(w.since(i)[0]) == 0


def test_window_is_bounded_and_a_reader_that_fell_behind_is_told():
    w = FrameWindow(max_frames=100)
    for k in range(50):
        w.append(batch(k * 10, 10))
    assert w.count == 500
    assert 100 <= len(w) <= 210                                  # between one and two windows
    assert w.since(w.first)[0].seq[0] == w.first
    with pytest.raises(FramesLeftWindow, match=r"frames 0\.\.\d+ left the link's window"):
        w.since(0)


def test_a_poll_touches_only_the_new_batches():
    w = FrameWindow(max_frames=10**6)
    for k in range(2000):
        w.append(batch(k * 4, 4))
    cursor = w.count
    w.append(batch(8000, 3))
    b, nxt = w.since(cursor)
    assert len(b) == 3 and nxt == 8003
