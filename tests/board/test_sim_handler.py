"""The simulated board behind pyserial: wire behaviour, physics of the cells, faults."""
import time

import numpy as np
import pytest
import serial

import rig.sim  # noqa: F401
from rig.board import wire
from rig.board.decoder import Decoder
from rig.frames import FrameBatch
from rig.sim.board import NOMINAL_GAIN_COUNTS_PER_N, SimBoardModel

G = 9.80665


class Client:
    """A minimal host: raw pyserial + our decoder, no link, to see the bytes themselves."""

    def __init__(self, url):
        self.ser = serial.serial_for_url(url, timeout=0.05)
        self.d = Decoder()
        self.batches = []
        self.packets = []

    def pump(self, wall_s):
        end = time.monotonic() + wall_s
        while time.monotonic() < end:
            self.batches.append(self.d.feed(self.ser.read(self.ser.in_waiting or 1)))
            self.packets += self.d.take_packets()

    def send(self, cmd, payload=b""):
        self.ser.write(wire.command(cmd, payload))

    def frames(self):
        return FrameBatch.concat(self.batches)

    def until(self, pred, wall_s=3.0):
        end = time.monotonic() + wall_s
        while time.monotonic() < end:
            self.pump(0.01)
            if pred():
                return True
        return False


def stream(url, board_s, speed):
    c = Client(url)
    c.until(lambda: any(p[0] == wire.T_HELLO for p in c.packets))
    c.send(wire.C_START)
    c.until(lambda: len(c.frames()) > 1 and c.frames().t_s[-1] - c.frames().t_s[0] >= board_s, wall_s=board_s / speed * 5 + 2)
    c.send(wire.C_STOP)
    c.pump(0.05)
    return c


def test_boot_hello_then_frames_only_after_start():
    c = Client("sim://?seed=1&speed=10")
    assert c.until(lambda: any(p[0] == wire.T_HELLO for p in c.packets))
    h = wire.Hello.from_payload(c.packets[0][1])
    assert h.board_id == SimBoardModel(seed=1).board_id and h.cell_count == 4 and h.adc_name == "HX711"
    c.pump(0.1)
    assert len(c.frames()) == 0
    c.send(wire.C_START)
    assert c.until(lambda: len(c.frames()) >= 20)
    assert c.frames().seq[0] == 0
    c.send(wire.C_STOP)
    c.pump(0.05)
    n = len(c.frames())
    c.pump(0.1)
    assert len(c.frames()) == n, "frames after STOP"
    assert (wire.T_ACK, bytes([wire.C_STOP, 0])) in c.packets


def test_rate_sequence_and_timestamps_follow_the_board_clock():
    c = stream("sim://?seed=2&speed=20&person=0", 3.0, 20)
    f = c.frames()
    model = SimBoardModel(seed=2)
    assert np.all(np.diff(f.seq.astype(int)) == 1)
    dt = np.diff(f.t_s)
    # each chip runs on its own oscillator, 14-17 % above nominal; the board reads when all
    # four have a new conversion, so frames follow the slowest chip
    # (the slowest once the chips' phases have drifted into place; another for a while after
    # START, which here depends on the wall clock)
    assert model.chip_period_s.min() < np.mean(dt) < model.chip_period_s.max() * 1.001
    assert 86.0 <= 1 / np.mean(dt) <= 97.0
    assert c.d.stats.frames_lost == 0 and c.d.stats.crc_failures == 0


def test_speed_compresses_wall_time_not_board_time():
    t0 = time.monotonic()
    c = stream("sim://?seed=3&speed=40&person=0", 4.0, 40)
    wall = time.monotonic() - t0
    f = c.frames()
    assert f.t_s[-1] - f.t_s[0] >= 4.0
    assert wall < 4.0 / 2  # forty times faster, with plenty of slack for a busy machine


def test_same_seed_same_world_at_the_same_board_time():
    a = stream("sim://?seed=4&speed=20&load=30@50,-20&person=0", 1.5, 20).frames()
    b = stream("sim://?seed=4&speed=20&load=30@50,-20&person=0", 1.5, 20).frames()
    common, ia, ib = np.intersect1d(a.t_us, b.t_us, return_indices=True)
    # the board reads when all four free-running chips have converted: two streams started at
    # different (wall-clock dependent) moments share their frames once both follow the same
    # chip conversions
    assert len(common) > 20
    assert np.array_equal(a.raw[ia], b.raw[ib])
    c = stream("sim://?seed=5&speed=20&load=30@50,-20&person=0", 1.0, 20).frames()
    assert not np.allclose(c.raw.mean(0), a.raw.mean(0), atol=1000)


def test_ideal_board_counts_are_the_bilinear_loads_exactly():
    kg, x, y = 40.0, 60.0, -90.0
    f = stream(f"sim://?ideal=1&speed=20&person=0&load={kg}@{x},{y}", 0.5, 20).frames()
    w = kg * G
    L = 360.0
    expect = w * np.array([
        (0.5 - x / L) * (0.5 + y / L), (0.5 + x / L) * (0.5 + y / L),
        (0.5 - x / L) * (0.5 - y / L), (0.5 + x / L) * (0.5 - y / L),
    ]) * NOMINAL_GAIN_COUNTS_PER_N
    assert np.all(f.raw == np.rint(expect).astype(int))


def test_cells_have_unequal_gains_offsets_and_noise():
    m = SimBoardModel(seed=7)
    assert np.ptp(m.gains_counts_per_n) > 0.005 * NOMINAL_GAIN_COUNTS_PER_N
    assert np.all(np.abs(m.gains_counts_per_n / NOMINAL_GAIN_COUNTS_PER_N - 1) <= 0.04 + 1e-12)
    f = stream("sim://?seed=7&speed=20&person=0", 2.0, 20).frames()
    sd = f.raw.std(axis=0)
    assert np.all((sd > 50) & (sd < 400))
    assert np.all(np.abs(f.raw.mean(0) - m.offsets_counts) < 500)


def test_commands_calibration_blob_busy_and_unknown():
    c = Client("sim://?seed=1&speed=10")
    c.until(lambda: any(p[0] == wire.T_HELLO for p in c.packets))
    c.send(wire.C_CALIB_READ)
    assert c.until(lambda: any(p[0] == wire.T_CALIB for p in c.packets))
    assert [p for p in c.packets if p[0] == wire.T_CALIB][-1][1] == bytes([wire.ST_BLOB_INVALID])
    c.send(wire.C_CALIB_WRITE, b"hello blob")
    c.send(wire.C_CALIB_READ)
    assert c.until(lambda: sum(p[0] == wire.T_CALIB for p in c.packets) == 2)
    assert [p for p in c.packets if p[0] == wire.T_CALIB][-1][1] == b"\x00hello blob"
    c.send(wire.C_START)
    c.send(wire.C_CALIB_WRITE, b"x")
    c.send(0xEE)
    assert c.until(lambda: (wire.T_ACK, bytes([0xEE, wire.ST_UNKNOWN_COMMAND])) in c.packets)
    assert (wire.T_ACK, bytes([wire.C_CALIB_WRITE, wire.ST_BUSY])) in c.packets


@pytest.mark.parametrize("opt,check", [
    ("dead_cell=2", lambda f: f.cell_flags(wire.CELL_TIMED_OUT)[:, 2].all() and not f.cell_flags(wire.CELL_TIMED_OUT)[:, [0, 1, 3]].any()),
    ("saturate_cell=1", lambda f: (f.raw[:, 1] == wire.INT24_MAX).all() and f.cell_flags(wire.CELL_SATURATED)[:, 1].all()),
])
def test_cell_faults_show_in_status_bits(opt, check):
    f = stream(f"sim://?seed=1&speed=20&person=0&{opt}", 0.5, 20).frames()
    assert check(f)


def test_reversed_cell_counts_fall_under_load():
    empty = stream("sim://?seed=8&speed=20&person=0&reverse_cell=3", 0.5, 20).frames().raw.mean(0)
    loaded = stream("sim://?seed=8&speed=20&person=0&reverse_cell=3&load=50@150,-150", 0.5, 20).frames().raw.mean(0)
    d = loaded - empty
    assert d[3] < -100_000 and np.all(d[[0, 1, 2]] > -1000)


def test_swapped_cells_trade_channels():
    ok = stream("sim://?seed=9&speed=20&person=0&load=50@-150,150", 0.5, 20).frames().raw.mean(0)
    sw = stream("sim://?seed=9&speed=20&person=0&load=50@-150,150&swap_cells=0-1", 0.5, 20).frames().raw.mean(0)
    assert abs(sw[1] - ok[0]) < 500 and abs(sw[0] - ok[1]) < 500


def test_corrupted_and_dropped_bytes_never_yield_bad_frames():
    c = stream("sim://?seed=10&speed=20&person=0&ideal=1&load=20@0,0&corrupt=0.002&drop=0.002", 5.0, 20)
    f = c.frames()
    s = c.d.stats
    assert s.crc_failures > 0 and s.frames_lost > 0 and s.bytes_skipped > 0
    # ideal board: every delivered frame carries exactly the true counts
    assert len(np.unique(f.raw, axis=0)) == 1


def test_disconnect_raises_like_an_unplugged_device():
    # speed 5: START goes out well before the unplug at 1.5 board s (0.3 s of wall time)
    c = Client("sim://?seed=1&speed=5&disconnect_s=1.5")
    c.until(lambda: any(p[0] == wire.T_HELLO for p in c.packets))
    c.send(wire.C_START)
    with pytest.raises(serial.SerialException):
        c.pump(2.0)
    assert 0.8 < c.frames().t_s[-1] - c.frames().t_s[0] < 1.5


@pytest.mark.parametrize("url,needle", [
    ("sim://?sed=1", "unknown option 'sed'"),
    ("sim://?seed=x", "seed='x' is not an integer"),
    ("sim://?rate_hz=5000", "rate_hz=5000"),
    ("sim://?swap_cells=1-1", "swap_cells"),
])
def test_bad_options_are_named(url, needle):
    with pytest.raises(serial.SerialException, match=needle):
        serial.serial_for_url(url)
