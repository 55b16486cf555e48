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
    c = Client("sim://?seed=1&clock=lockstep&step_s=0.05")
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
    c = stream("sim://?seed=2&clock=lockstep&step_s=0.1&person=0", 3.0, 20)
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


def test_speed_compresses_wall_time_not_board_time(monkeypatch):
    # the wall clock mode (demos), on a fake wall clock so the host's speed does not matter
    from rig.sim import protocol_sim

    wall = [100.0]
    monkeypatch.setattr(protocol_sim, "_wall_clock", lambda: wall[0])
    c = Client("sim://?seed=3&speed=40&person=0&clock=wall")
    wall[0] += 0.03                                   # 1.2 board s: the board has booted
    c.pump(0.01)
    assert any(p[0] == wire.T_HELLO for p in c.packets) and len(c.frames()) == 0
    c.send(wire.C_START)
    wall[0] += 0.1                                    # one tenth of a wall second ...
    c.pump(0.01)
    f = c.frames()
    assert 3.9 <= f.t_s[-1] - f.t_s[0] <= 4.0         # ... is four board seconds


def test_same_seed_same_world_at_the_same_board_time():
    a = stream("sim://?seed=4&clock=lockstep&step_s=0.1&load=30@50,-20&person=0", 1.5, 20).frames()
    b = stream("sim://?seed=4&clock=lockstep&step_s=0.1&load=30@50,-20&person=0", 1.5, 20).frames()
    common, ia, ib = np.intersect1d(a.t_us, b.t_us, return_indices=True)
    # the board reads when all four free-running chips have converted: two streams started at
    # different (wall-clock dependent) moments share their frames once both follow the same
    # chip conversions
    assert len(common) > 20
    assert np.array_equal(a.raw[ia], b.raw[ib])
    c = stream("sim://?seed=5&clock=lockstep&step_s=0.1&load=30@50,-20&person=0", 1.0, 20).frames()
    assert not np.allclose(c.raw.mean(0), a.raw.mean(0), atol=1000)


def test_ideal_board_counts_are_the_bilinear_loads_exactly():
    kg, x, y = 40.0, 60.0, -90.0
    f = stream(f"sim://?ideal=1&clock=lockstep&step_s=0.1&person=0&load={kg}@{x},{y}", 0.5, 20).frames()
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
    f = stream("sim://?seed=7&clock=lockstep&step_s=0.1&person=0", 2.0, 20).frames()
    sd = f.raw.std(axis=0)
    assert np.all((sd > 50) & (sd < 400))
    assert np.all(np.abs(f.raw.mean(0) - m.offsets_counts) < 500)


def test_commands_calibration_blob_busy_and_unknown():
    c = Client("sim://?seed=1&clock=lockstep&step_s=0.05")
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
    f = stream(f"sim://?seed=1&clock=lockstep&step_s=0.1&person=0&{opt}", 0.5, 20).frames()
    assert check(f)


def test_reversed_cell_counts_fall_under_load():
    empty = stream("sim://?seed=8&clock=lockstep&step_s=0.1&person=0&reverse_cell=3", 0.5, 20).frames().raw.mean(0)
    loaded = stream("sim://?seed=8&clock=lockstep&step_s=0.1&person=0&reverse_cell=3&load=50@150,-150", 0.5, 20).frames().raw.mean(0)
    d = loaded - empty
    assert d[3] < -100_000 and np.all(d[[0, 1, 2]] > -1000)


def test_swapped_cells_trade_channels():
    ok = stream("sim://?seed=9&clock=lockstep&step_s=0.1&person=0&load=50@-150,150", 0.5, 20).frames().raw.mean(0)
    sw = stream("sim://?seed=9&clock=lockstep&step_s=0.1&person=0&load=50@-150,150&swap_cells=0-1", 0.5, 20).frames().raw.mean(0)
    assert abs(sw[1] - ok[0]) < 500 and abs(sw[0] - ok[1]) < 500


def test_corrupted_and_dropped_bytes_never_yield_bad_frames():
    c = stream("sim://?seed=10&clock=lockstep&step_s=0.1&person=0&ideal=1&load=20@0,0&corrupt=0.002&drop=0.002", 5.0, 20)
    f = c.frames()
    s = c.d.stats
    assert s.crc_failures > 0 and s.frames_lost > 0 and s.bytes_skipped > 0
    # ideal board: every delivered frame carries exactly the true counts
    assert len(np.unique(f.raw, axis=0)) == 1


def test_disconnect_raises_like_an_unplugged_device():
    # speed 5: START goes out well before the unplug at 1.5 board s (0.3 s of wall time)
    c = Client("sim://?seed=1&clock=lockstep&step_s=0.025&boot_s=0.05&disconnect_s=1.5")
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


# -- resets as on an Arduino, and lockstep time ---------------------------------------------------

from rig.sim.protocol_sim import BOOT_HELLO_DELAY_S, SimBoard  # noqa: E402
from urllib.parse import parse_qs  # noqa: E402


def _board(query):
    return SimBoard(parse_qs(query, keep_blank_values=True))


def _drain(b):
    out = bytes(b.out)
    b.out.clear()
    return out


def test_opening_the_port_reboots_the_board_silent_in_its_bootloader():
    b = _board("seed=1&person=0&boot_s=0.8")
    b.advance(0.8)
    assert _drain(b) == b""                       # bootloader: not a byte
    b.receive(wire.command(wire.C_IDENTIFY))      # nor an answer
    b.advance(0.8 + BOOT_HELLO_DELAY_S + 1e-6)
    d = Decoder()
    d.feed(_drain(b))
    assert [p[0] for p in d.take_packets()] == [wire.T_HELLO]
    b.receive(wire.command(wire.C_START))
    b.advance(1.5)
    f = d.feed(_drain(b))
    # the firmware's clock started at 0 when the bootloader handed over (0.8 s after open)
    # frames were read between START (world 0.8 s + the HELLO delay) and 1.5 s: on the board's
    # clock that is from the HELLO delay to 0.7 s, not from 0.8 s on
    t = f.t_us.astype(np.int64)
    assert len(f) > 40 and t[0] >= BOOT_HELLO_DELAY_S * 1e6 and t[-1] <= 0.7e6
    assert np.isin(t, np.concatenate(b.truth.sent_t_us)).all()   # the stamps the board sent
    assert f.seq[0] == 0


def test_reset_s_reboots_clock_and_sequence_to_zero_after_bootloader_silence():
    b = _board("seed=2&person=0&boot_s=0.5&reset_s=2")
    d = Decoder()
    b.advance(0.6)
    d.feed(_drain(b))
    b.receive(wire.command(wire.C_START))
    b.advance(2.0)
    before = d.feed(_drain(b))
    d.take_packets()
    b.advance(2.5)                                  # the bootloader: silent
    assert _drain(b) == b""
    b.advance(2.5 + BOOT_HELLO_DELAY_S + 1e-6)
    d.feed(_drain(b))
    assert [p[0] for p in d.take_packets()] == [wire.T_HELLO]
    assert not b.streaming                          # rebooted: waits for START
    b.receive(wire.command(wire.C_START))
    b.advance(3.0)
    after = FrameBatch.concat([d.feed(_drain(b))])
    assert before.seq[-1] > 100 and after.seq[0] == 0
    assert after.t_us[0] < 0.5e6 - 2.5e6 + 3.0e6     # clock restarted at 0 at 2.5 s
    assert b.truth.resets == 1 and len(b.truth.gaps_s) == 1
    # the truth: from the last frame before (clock of the first boot, started at 0.5 s) to the
    # first one after (clock of the second boot, started at 2.5 s), in world time
    assert abs(b.truth.gaps_s[0] - ((after.t_us[0] / 1e6 + 2.5) - (before.t_us[-1] / 1e6 + 0.5))) < 1e-6


def test_decoder_records_the_true_reset_gap_when_host_time_is_board_time():
    """A host that reads every 5 ms of board time with its own clock (here: the world's): the
    decoder's gap, from host receive times, is the true one within one frame period."""
    b = _board("seed=3&person=0&boot_s=1.0&reset_s=3")
    d = Decoder(nominal_period_s=0.0125)
    streaming, frames = False, []
    for i in range(1, 1200):
        now = i * 0.005
        b.advance(now)
        frames.append(d.feed(_drain(b), host_t_s=now + 0.002))   # 2 ms USB latency
        for ptype, _ in d.take_packets():
            if ptype == wire.T_HELLO:
                if streaming:
                    d.note_reset()
                d.mark_stream_start()
                b.receive(wire.command(wire.C_START))
                streaming = True
    f = FrameBatch.concat(frames)
    assert d.stats.resets == 1 and b.truth.resets == 1
    assert abs(d.gaps[0][1] - b.truth.gaps_s[0]) < b.model.period_s
    assert d.gaps[0][1] > 1.0                       # the bootloader's second is in it
    assert abs(d.stats.frames_lost) == 0 and np.all(np.diff(f.t_s) > 0)


def test_lockstep_gives_the_same_stream_whatever_the_host_speed():
    def run(pause_s):
        ser = serial.serial_for_url("sim://?seed=4&person=0&load=30@50,-20&clock=lockstep&step_s=0.01", timeout=0.05)
        d = Decoder()
        batches, hello = [], False
        while len(FrameBatch.concat(batches)) < 200:
            batches.append(d.feed(ser.read(ser.in_waiting or 1)))
            if not hello and any(p[0] == wire.T_HELLO for p in d.take_packets()):
                hello = True
                ser.write(wire.command(wire.C_START))
            time.sleep(pause_s)                    # a slow host
        return FrameBatch.concat(batches)[:200], ser.board.world_s

    (fast, wf), (slow, ws) = run(0.0), run(0.003)
    assert np.array_equal(fast.t_us, slow.t_us) and np.array_equal(fast.raw, slow.raw)
    assert np.array_equal(fast.seq, np.arange(200))


def test_lockstep_board_time_advances_only_with_empty_reads():
    ser = serial.serial_for_url("sim://?seed=1&person=0&clock=lockstep&step_s=0.05&boot_s=0.3", timeout=0.05)
    time.sleep(0.05)
    assert ser.board.world_s == 0.0                  # wall time passing moves nothing
    for _ in range(6):
        assert ser.read(1) == b""                    # bootloader: 6 empty reads, 6 steps
    assert abs(ser.board.world_s - 0.3) < 1e-9
    assert ser.read(100)                             # a step: the HELLO comes
    assert ser.in_waiting == 0 and abs(ser.board.world_s - 0.35) < 1e-9


def test_bad_clock_option_is_named():
    with pytest.raises(serial.SerialException, match="clock='fast' must be wall or lockstep"):
        serial.serial_for_url("sim://?clock=fast")


def _two_hundred_commands_under_corruption(seed: int, command: bytes):
    """A board at corrupt=0.05 (three frames in four lost) streaming while ``command`` arrives
    200 times, 0.3 s apart: (board, decoder, true frames lost)."""
    b = _board(f"seed={seed}&person=0&corrupt=0.05&boot_s=0.1")
    d = Decoder()
    b.advance(0.2)
    d.feed(_drain(b))
    d.mark_stream_start()
    frames = []
    for i in range(200):
        b.receive(command)
        b.advance(0.2 + (i + 1) * 0.3)
        frames.append(d.feed(_drain(b)))
    f = FrameBatch.concat(frames)
    true_lost = b.truth.frames_sent_up_to(int(f.t_us[-1])) - len(f)
    assert b.truth.starts == 200 and true_lost > 3000
    return b, d, true_lost


def test_two_hundred_repeated_starts_under_corruption_leave_one_stream_counted_exactly():
    """START repeated 200 times while streaming (firmware 1.2 on): one stream, its losses
    counted from the sequence, exactly."""
    for seed in (3, 4):
        b, d, true_lost = _two_hundred_commands_under_corruption(seed, wire.command(wire.C_START))
        assert d.stats.frames_lost == true_lost and d.stats.sequence_restarts == 0 and d.stats.resets == 0


def test_two_hundred_sequence_restarts_under_corruption_count_the_true_losses():
    """Firmware before 1.2 restarted its sequence at 0 on a START while streaming, as STOP and
    START sent together do: 200 such restarts at corrupt=0.05; the decoder's lost count is the
    truth +-1 per restart."""
    for seed in (3, 4):
        b, d, true_lost = _two_hundred_commands_under_corruption(
            seed, wire.command(wire.C_STOP) + wire.command(wire.C_START))
        # each restart's losses are estimated from board time (the frames of the old stream
        # after the last one decoded, and the new stream's before the first); with chips on
        # their own clocks the first frame after START comes up to one conversion late, so the
        # estimate carries up to half a frame per restart on average (measured: 0.3)
        assert abs(d.stats.frames_lost - true_lost) <= 2 + 0.5 * d.stats.sequence_restarts, \
            (d.stats.frames_lost, true_lost)
        assert d.stats.resets == 0 and 190 <= d.stats.sequence_restarts <= 199
