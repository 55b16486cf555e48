"""sim:// as real HX711s behave: four free-running clocks, cell ages, STATS, RATE pin low.

Everything is driven in board time (the board is advanced directly), never the wall clock."""
from urllib.parse import parse_qs

import numpy as np
import pytest

from rig.board import wire
from rig.board.decoder import Decoder
from rig.frames import FrameBatch
from rig.sim.board import CHIP_CLOCK_SPREAD, READ_LATENCY_S
from rig.sim.protocol_sim import SimBoard


def run(query: str, seconds: float, stats: bool = False):
    b = SimBoard(parse_qs(query, keep_blank_values=True))
    t0 = b.boot_world_s + 0.1          # after the bootloader: the firmware listens from here
    b.advance(t0)
    b.out.clear()                       # the boot HELLO
    b.receive(wire.command(wire.C_START))
    d, parts, t = Decoder(), [], t0
    while t < t0 + seconds:
        t += 0.1
        b.advance(t)
        parts.append(d.feed(bytes(b.out)))
        b.out.clear()
    st = None
    if stats:
        b.receive(wire.command(wire.C_STATS))
        d.feed(bytes(b.out))
        st = next(wire.Stats.from_payload(p) for ty, p in d.take_packets() if ty == wire.T_STATS)
    return b, FrameBatch.concat(parts), st


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5, 6, 7])
def test_default_boards_stream_at_86_to_97_hz_following_their_slowest_chip(seed):
    # 6 s: a few extra frames (a fast chip's conversion read early) weigh less than over 3 s
    b, f, _ = run(f"seed={seed}&person=0", 6.0)
    hz = 1 / b.model.chip_period_s
    assert np.all((hz >= 80 * CHIP_CLOCK_SPREAD[0]) & (hz <= 80 * CHIP_CLOCK_SPREAD[1]))
    rate = (len(f) - 1) / (f.t_s[-1] - f.t_s[0])
    assert 86 <= rate <= 97
    assert abs(rate / hz.min() - 1) < 0.003


def test_each_cells_sample_instant_lies_on_its_own_chip_clock():
    b, f, _ = run("seed=2&person=0", 3.0)
    t_us = f.t_us.astype(np.int64)
    for c in range(4):
        inst_s = (t_us - f.age_us[:, c]) / 1e6 + b.boot_world_s  # board clock reads 0 after the bootloader
        k = (inst_s - b.model.chip_phase_s[c]) / b.model.chip_period_s[c]
        assert np.all(np.abs(k - np.rint(k)) * b.model.chip_period_s[c] < 1.5e-6)
    spread = f.age_us.max(axis=1).astype(int) - f.age_us.min(axis=1)
    # one frame's cells are up to a period apart (reality.md: mean 7.9, p95 10.5 ms)
    assert 5000 < spread.mean() < 10000 and spread.max() < 11100


def test_stats_report_each_chips_rate_and_skipped_conversions():
    b, f, st = run("seed=1&person=0", 5.0, stats=True)
    assert np.allclose([c.rate_hz for c in st.chips], 1 / b.model.chip_period_s, rtol=1e-4)
    # faster chips than the slowest skip conversions now and then; the slowest never
    slowest = int(np.argmax(b.model.chip_period_s))
    assert st.chips[slowest].skipped == 0
    conv = (f.t_s[-1] - f.t_s[0]) / b.model.chip_period_s
    assert sum(c.skipped for c in st.chips) == pytest.approx(sum(conv - conv[slowest]), abs=4)
    assert st.flags == 1 and st.frames_dropped == 0


def test_rate_pin_low_converts_at_a_tenth_and_stays_valid():
    b, f, st = run("seed=1&person=0&rate_pin=low", 3.0, stats=True)
    rate = (len(f) - 1) / (f.t_s[-1] - f.t_s[0])
    assert 10 * CHIP_CLOCK_SPREAD[0] - 0.1 < rate < 10 * CHIP_CLOCK_SPREAD[1] + 0.1
    assert not f.cell_flags(wire.CELL_TIMED_OUT).any()
    assert all(c.rate_hz < 12 for c in st.chips)


def test_ideal_chips_are_in_step_and_chip_hz_sets_the_clocks():
    _, f, _ = run("seed=1&person=0&ideal=1", 1.0)
    assert np.all(f.age_us == round(READ_LATENCY_S * 1e6))
    assert np.allclose(np.diff(f.t_s), 1 / 80, atol=1.5e-6)
    b, f, _ = run("seed=1&person=0&chip_hz=91,92,93.5,94", 3.0)
    assert np.allclose(1 / b.model.chip_period_s, [91, 92, 93.5, 94])
    assert abs((len(f) - 1) / (f.t_s[-1] - f.t_s[0]) - 91) < 0.3


def test_a_dead_chip_is_timed_out_once_then_not_waited_for():
    b, f, st = run("seed=1&person=0&dead_cell=2", 2.0, stats=True)
    assert f.t_s[0] - 0.1 >= 0.25 - 1e-3  # the first frame waits for the timeout
    assert np.all(f.age_us[:, 2] == wire.AGE_UNKNOWN) and f.cell_flags(wire.CELL_TIMED_OUT)[:, 2].all()
    assert 86 <= (len(f) - 1) / (f.t_s[-1] - f.t_s[0]) <= 97
    assert st.chips[2].timeouts == 1 and np.isnan(st.chips[2].rate_hz)


def test_bad_chip_options_are_refused_in_one_line():
    with pytest.raises(ValueError, match="chip_hz"):
        SimBoard(parse_qs("chip_hz=91,92"))
    with pytest.raises(ValueError, match="rate_pin"):
        SimBoard(parse_qs("rate_pin=medium"))
