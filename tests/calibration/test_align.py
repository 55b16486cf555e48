"""Cells aligned in time: analytic cases, the streaming variant, and the COP of a 1 Hz weight
shift on the simulated board (board time only, no wall clock)."""
from urllib.parse import parse_qs

import numpy as np
import pytest

import rig.sim  # noqa: F401
from rig.board import wire
from rig.board.decoder import Decoder
from rig.calibration.align import StreamAligner, align_counts
from rig.frames import FrameBatch
from rig.sim.protocol_sim import SimBoard


def batch_from(t_s, raw, age_us, status=None):
    n = len(t_s)
    return FrameBatch(np.arange(n, dtype=np.uint16), (np.rint(np.asarray(t_s) * 1e6) % 2**32).astype(np.uint32),
                      np.asarray(t_s, float), np.zeros(n), np.asarray(raw, np.int32),
                      np.zeros(n, np.uint16) if status is None else status, np.asarray(age_us, np.uint16))


def skewed_linear(n=50, period_us=10870):
    """Four cells sampling the line 1000 + 2 counts/us at their own instants."""
    t_us = 10_000 + period_us * np.arange(n)
    age = np.tile([0, 2500, 5000, 10000], (n, 1))
    inst = t_us[:, None] - age
    raw = 1000 + 2 * inst
    return batch_from(t_us / 1e6, raw, age), t_us


def test_a_line_sampled_at_skewed_instants_is_recovered_exactly_at_frame_instants():
    b, t_us = skewed_linear()
    al = align_counts(b)
    assert np.allclose(al, (1000 + 2 * t_us)[:, None], atol=1e-6)
    assert not np.allclose(b.raw, al)  # the raw counts were off by up to 2 x 10000 counts


def test_interior_interpolation_error_on_a_sinusoid_is_second_order():
    # 1 Hz, amplitude 1e5 counts, cells 2.5-10 ms late, 92 Hz frames: the chord error of linear
    # interpolation is at most A (w h)^2 / 8 = 1e5 * (2 pi * 0.01087)^2 / 8 = 58 counts
    n, p = 400, 10870
    t_us = 20_000 + p * np.arange(n)
    age = np.tile([0, 2500, 5000, 10000], (n, 1))
    inst = t_us[:, None] - age
    raw = np.rint(1e5 * np.sin(2 * np.pi * inst / 1e6))
    al = align_counts(batch_from(t_us / 1e6, raw, age))
    truth = 1e5 * np.sin(2 * np.pi * t_us / 1e6)
    err = np.abs(al[:-1] - truth[:-1, None])
    assert err.max() < 58 + 1
    raw_err = np.abs(raw[:, 3] - truth)
    assert raw_err.max() > 5000  # 10 ms late on a 1 Hz swing of 1e5 counts


def test_unknown_ages_and_repeated_values_are_handled():
    b, t_us = skewed_linear(20)
    age = b.age_us.copy()
    age[:, 1] = wire.AGE_UNKNOWN  # e.g. a timed-out cell: untouched
    raw = b.raw.copy()
    # cell 2 not ready in frame 5: the value of frame 4 repeated, its age grows by a period
    raw[5, 2] = raw[4, 2]
    age[5, 2] = age[4, 2] + 10870
    al = align_counts(batch_from(b.t_s, raw, age))
    assert np.array_equal(al[:, 1], raw[:, 1])
    assert np.allclose(al[:, 2], 1000 + 2 * t_us, atol=1e-6)


def test_v1_frames_without_ages_are_left_as_they_are():
    b, _ = skewed_linear(10)
    plain = FrameBatch(*(getattr(b, f) for f in FrameBatch.fields()))
    assert np.array_equal(align_counts(plain), plain.raw)


def test_stream_aligner_equals_the_whole_batch_and_never_extrapolates_live():
    b, t_us = skewed_linear(30)
    sa = StreamAligner()
    outs = [sa.push(b[i:j]) for i, j in ((0, 1), (1, 7), (7, 8), (8, 8), (8, 30))]
    tail = sa.flush()
    got = FrameBatch.concat([o[0] for o in outs] + [tail[0]])
    counts = np.concatenate([o[1] for o in outs] + [tail[1]])
    assert got.seq.tolist() == b.seq.tolist()
    assert np.allclose(counts, align_counts(b))
    assert len(tail[0]) == 1


def shift_file(tmp_path, seconds):
    t = np.arange(int(seconds * 1000)) / 1000
    rows = np.column_stack([t, 100 * np.sin(2 * np.pi * t), np.zeros_like(t), np.full_like(t, 700.0)])
    p = tmp_path / "shift.csv"
    np.savetxt(p, rows, fmt="%.5f", delimiter=",", header="t_s,cop_x_mm,cop_y_mm,fz_n", comments="")
    return p


@pytest.mark.parametrize("seed", [1, 5])
def test_cop_of_a_1hz_100mm_shift_on_the_sim_board_is_within_half_a_mm_after_alignment(tmp_path, seed):
    # boot_s=0: no bootloader silence, so the board clock is the world clock of the replay
    board = SimBoard(parse_qs(f"seed={seed}&replay={shift_file(tmp_path, 8)}&on_s=0.5&boot_s=0"))
    board.advance(0.1)
    board.receive(wire.command(wire.C_START))
    d = Decoder()
    parts = []
    for t in np.arange(0.15, 7.0, 0.05):  # board time, in read-sized steps
        board.advance(float(t))
        parts.append(d.feed(bytes(board.out)))
        board.out.clear()
    f = FrameBatch.concat(parts)
    m, scene = board.model, board.scene
    src = scene.sources[0]
    _, true_x, _ = src.force_cop(f.t_s - scene.t0_s)

    def cop_x(counts):
        forces = (counts - m.offsets_counts) / m.gains_counts_per_n
        return forces @ m.positions_mm[:, 0] / forces.sum(axis=1)

    r = f.t_s - scene.t0_s - src.start_s
    on = (r > 0.5) & (r < 6.0)
    rms = lambda e: float(np.sqrt(np.mean(e[on] ** 2)))
    before = rms(cop_x(f.raw.astype(float)) - true_x)
    after = rms(cop_x(align_counts(f)) - true_x)
    assert 86 <= (len(f) - 1) / (f.t_s[-1] - f.t_s[0]) <= 97
    assert before > 1.0   # the cells' skew alone: mm of error on this shift
    assert after < 0.5    # the goal of issue 10
