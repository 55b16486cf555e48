"""The board firmware, end to end: built with avr-gcc, run unmodified in simavr behind a pty,
driven through pyserial by the project's own host code (``BoardLink``, ``Decoder``).

Every assertion about timing uses the board's own clock (``t_us``) or the simulator's
statistics (simulated time), never the wall clock, so the results do not depend on the load
of the machine. Needs the Debian packages gcc-avr avr-libc libsimavr-dev libelf-dev pkg-config.
"""
from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import serial

from rig.board import wire
from rig.board.decoder import Decoder
from rig.sim.firmware import BUILD_DIR, FIRMWARE_DIR, HARNESS, FirmwareSim
from rig.board.link import BoardLink
from rig.errors import BoardError, PortError

pytestmark = pytest.mark.firmware

BOARD_ID = "0123456789abcdef"
NOMINAL_PERIOD_US = 12500  # HX711 at exactly 80 Hz, as the harness emulates it with --ideal
# Tests run the harness paced to at most 4x real time: flat out it manages about 2x while
# streaming, and the cap keeps simulated time from racing ahead while the MCU sleeps.
SPEED = ("--speed", "4", "--max-wall-s", "120")
# exact-value tests: chips in step at exactly 80 Hz, no ADC noise (the harness's default is
# four chips on their own clocks at 91-94 Hz with the datasheet's noise)
IDEAL = ("--ideal",)


@pytest.fixture(scope="session")
def built():
    """`make -C firmware` (the same command CI runs): firmware, harness, host core tests."""
    r = subprocess.run(["make", "-C", str(FIRMWARE_DIR)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.fixture
def sim(built):
    s = FirmwareSim(realtime=False, extra_args=SPEED + IDEAL, values=[1000, -2000, 3000, -4000], board_id=BOARD_ID)
    yield s
    stats = s.close()
    assert stats.get("exit") == "signal", stats
    # the harness's own checks of the firmware's behaviour on the pins and the UART
    assert stats["t3_violations"] == 0, stats
    assert stats["max_sck_high_us"] < 5.0, stats
    assert stats["gain_errors"] == 0, stats
    assert stats["tx_dropped"] == 0 and stats["baud_mismatch_bytes"] == 0, stats


@pytest.fixture
def link(sim):
    lk = BoardLink(sim.port)
    lk.open()
    yield lk
    lk.close()


def _decode(data: bytes):
    d = Decoder()
    frames = d.feed(data)
    return d, frames, d.take_packets()


# -- build and host tests -----------------------------------------------------------------

def test_build_reports_flash_and_ram(built):
    m = re.search(r"flash (\d+) of 32256 bytes .*RAM (\d+) of 2048 bytes", built)
    assert m, built
    flash, ram = int(m.group(1)), int(m.group(2))
    assert 1000 < flash < 32256 - 512  # leaves room for the Arduino bootloader
    assert 100 < ram < 2048 - 512      # leaves room for the stack
    assert (BUILD_DIR / "balance-rig.hex").stat().st_size > 0
    assert HARNESS.is_file()


def test_inexact_baud_rate_is_refused_at_build_time(built, tmp_path):
    r = subprocess.run(["make", "-C", str(FIRMWARE_DIR), f"BUILD={tmp_path}", "BAUD=115200", "fw"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "BAUD is not exact" in r.stderr


def test_core_host_tests_pass_on_golden_vectors(built):
    r = subprocess.run([str(BUILD_DIR / "test_core"), str(FIRMWARE_DIR / "WIRE_FORMAT.md")],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"^(\d+) passed, (\d+) failed$", r.stdout, re.M)
    assert m, r.stdout
    assert int(m.group(2)) == 0 and r.returncode == 0, r.stdout
    assert int(m.group(1)) >= 50


def test_core_tests_fail_on_a_wrong_golden_vector(built, tmp_path):
    """The host test really reads the document: a corrupted vector makes it fail."""
    doc = (FIRMWARE_DIR / "WIRE_FORMAT.md").read_text()
    bad = doc.replace("A5 5A 02 03 02 82 00 C9 DD", "A5 5A 02 03 02 82 00 C9 DE")
    assert bad != doc
    p = tmp_path / "WIRE_FORMAT.md"
    p.write_text(bad)
    r = subprocess.run([str(BUILD_DIR / "test_core"), str(p)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert re.search(r"^\d+ passed, [1-9]\d* failed$", r.stdout, re.M), r.stdout


# -- the firmware through pyserial --------------------------------------------------------

def test_identify(link):
    h = link.identify()
    assert h.board_id_hex == BOARD_ID
    assert h.firmware_str == "1.2.0"
    assert (h.wire_version, h.cell_count, h.adc_name, h.rate_hz) == (2, 4, "HX711", 80.0)
    assert not h.streaming


def test_stream_exact_values_contiguous_seq_and_period(sim, link):
    link.start()
    first = link.wait_frames(60, timeout_s=30, since=0)
    assert first.seq[0] == 0
    # A START within the chips' 50 ms power-up settling gives at most two flagged frames
    # first (timed out, then the discarded first value); after that every frame carries
    # exactly the counts the chips were given.
    flagged = np.flatnonzero(first.status != 0)
    assert np.array_equal(flagged, np.arange(len(flagged))) and len(flagged) <= 2
    assert np.all(first.raw[len(flagged):] == [1000, -2000, 3000, -4000])
    # full scale is passed through and flagged as saturated
    sim.set_raw([wire.INT24_MAX, wire.INT24_MIN, -1, 0])
    n0 = link.frame_count
    more = link.wait_frames(80, timeout_s=30, since=n0)
    new = more[np.all(more.raw == [wire.INT24_MAX, wire.INT24_MIN, -1, 0], axis=1)]
    assert len(new) >= 70
    assert np.all(new.cell_flags(wire.CELL_SATURATED) == [True, True, False, False])
    link.stop()
    n_stop = link.frame_count
    time.sleep(0.3)  # >= 0.3 s of board time at speed >= 1
    assert link.frame_count == n_stop, "SAMPLE after the STOP ACK"

    frames = link.frames(0)[0]
    assert np.array_equal(frames.seq, np.arange(len(frames)))  # no gap, no duplicate
    assert link.stats.frames_lost == 0 and link.stats.crc_failures == 0
    # at most the part of the boot HELLO that was on the line when pyserial opened the port
    # (opening flushes the input)
    assert link.stats.bytes_skipped < wire.HEADER_LEN + wire.HELLO_PAYLOAD_LEN + wire.CRC_LEN
    dt = np.diff(frames.t_us.astype(np.int64))[3:]  # the first come from a waiting conversion
    # the board's clock: 1 us resolution; all four chips share one rate here
    assert abs(np.median(dt) - NOMINAL_PERIOD_US) <= 2
    assert np.all(np.abs(dt - NOMINAL_PERIOD_US) <= 300), dt

    # START again: sequence restarts at 0
    n_again = link.frame_count
    link.start()
    again = link.wait_frames(5, timeout_s=30, since=n_again)
    assert again.seq[0] == 0
    # a START repeated while streaming (its ACK was lost, say) leaves the stream alone
    link.start()
    more = link.wait_frames(len(again) + 20, timeout_s=30, since=n_again)
    assert np.array_equal(more.seq, np.arange(len(more))) and link.stats.sequence_restarts == 0
    link.stop()


def test_stalled_chip_is_flagged_and_others_keep_their_rate(sim, link):
    sim.set_raw([11, 22, 33, 44])
    link.start()
    link.wait_frames(20, timeout_s=30)
    sim.stall(2)
    n0 = link.frame_count
    b = link.wait_frames(60, timeout_s=30, since=n0)
    timed_out = b.cell_flags(wire.CELL_TIMED_OUT)
    assert timed_out[-30:, 2].all() and not timed_out[-30:, [0, 1, 3]].any()
    assert b.cell_flags(wire.CELL_NOT_READY)[-30:, 2].all()
    assert np.all(b.raw[-30:, 2] == 33)  # last good value, repeated
    # one timeout, then the live chips set the pace again
    dt = np.diff(b.t_us[-30:].astype(np.int64))
    assert np.all(np.abs(dt - NOMINAL_PERIOD_US) <= 300), dt
    sim.set_raw([11, 22, 55, 44])
    sim.unstall(2)
    n1 = link.frame_count
    c = link.wait_frames(30, timeout_s=30, since=n1)
    assert np.all(c.status[-10:] == 0)
    assert np.all(c.raw[-10:] == [11, 22, 55, 44])
    assert link.stats.frames_lost == 0
    link.stop()


def test_calibration_blob_survives_reset(sim, link):
    assert link.read_calibration_blob() is None  # fresh EEPROM: no valid blob
    blob = bytes(range(64))
    link.write_calibration_blob(blob)
    assert link.read_calibration_blob() == blob
    link.start()
    link.wait_frames(3, timeout_s=30)
    with pytest.raises(BoardError, match="busy"):
        link.write_calibration_blob(b"x")
    link.stop()
    sim.reset()
    h = link.identify()  # the rebooted board answers with the same id
    assert h.board_id_hex == BOARD_ID and not h.streaming
    assert link.read_calibration_blob() == blob
    link.write_calibration_blob(b"")
    assert link.read_calibration_blob() == b""


def test_generated_board_id_is_kept_in_eeprom(built, tmp_path):
    ee = tmp_path / "eeprom.bin"
    ids = []
    for _ in range(2):
        with FirmwareSim(realtime=False, extra_args=SPEED + ("--eeprom", str(ee))) as s:
            with BoardLink(s.port) as lk:
                ids.append(lk.hello.board_id_hex)
    assert ids[0] == ids[1]
    assert ids[0] not in ("0" * 16, "f" * 16)
    assert ee.read_bytes()[:8].hex() == ids[0]
    # another seed, another temperature-sensor reading: another id
    with FirmwareSim(realtime=False, extra_args=SPEED + ("--seed", "7")) as s:
        with BoardLink(s.port) as lk:
            assert lk.hello.board_id_hex != ids[0]


def test_unknown_command_and_bad_length(sim, link):
    link.close()
    with serial.Serial(sim.port, wire.DEFAULT_BAUD, timeout=0.05) as ser:
        ser.write(wire.command(0x99) + wire.command(wire.C_START, b"\x01") + wire.command(wire.C_CALIB_WRITE, bytes(65)))
        ser.write(wire.packet(wire.C_IDENTIFY, b"", version=1))  # a version 1 host
        d, frames, packets, deadline = Decoder(), [], [], time.monotonic() + 5
        while time.monotonic() < deadline and len(packets) < 4:
            frames += list(d.feed(ser.read(ser.in_waiting or 1)).seq)
            packets += d.take_packets()
    assert len(frames) == 0
    assert packets[:4] == [
        (wire.T_ACK, bytes([0x99, wire.ST_UNKNOWN_COMMAND])),
        (wire.T_ACK, bytes([wire.C_START, wire.ST_BAD_LENGTH])),
        (wire.T_ACK, bytes([wire.C_CALIB_WRITE, wire.ST_BAD_LENGTH])),
        (wire.T_ACK, bytes([wire.C_IDENTIFY, wire.ST_BAD_VERSION])),
    ]


def test_wrong_baud_rate_is_not_understood(built):
    """The harness garbles bytes when the host's rate differs, as a real line would."""
    with FirmwareSim(realtime=False, extra_args=SPEED, board_id=BOARD_ID) as s:
        with pytest.raises(PortError, match="no balance board answered"):
            BoardLink(s.port, baudrate=115200).open(handshake_s=1.0)
    assert s.stats["baud_mismatch_bytes"] > 0 and s.stats["acks"] == 0


# -- deterministic golden runs --------------------------------------------------------------

def _golden_run(tmp_path: Path, name: str, *args: str) -> tuple[bytes, dict]:
    log = tmp_path / f"{name}.bin"
    s = FirmwareSim(realtime=False, board_id=BOARD_ID, values=[123456, -654321, 8388607, -8388608],
                    extra_args=("--autostart-ms", "100", "--max-sim-s", "2", "--txlog", str(log),
                                "--no-control", *IDEAL, *args))
    deadline = time.monotonic() + 60
    while s.running and time.monotonic() < deadline:
        time.sleep(0.05)
    stats = s.close()
    assert stats["exit"] == "max-sim-s", stats
    return log.read_bytes(), stats


def test_two_runs_give_identical_bytes(built, tmp_path):
    args = ("--ppm", "0,50,-50,120", "--ramp", "11")
    a, sa = _golden_run(tmp_path, "a", *args)
    b, sb = _golden_run(tmp_path, "b", *args)
    assert a == b
    assert sa["cycles"] == sb["cycles"] and sa["sleep_cycles"] == sb["sleep_cycles"]
    d, frames, packets = _decode(a)
    assert packets[0][0] == wire.T_HELLO and packets[1] == (wire.T_ACK, bytes([wire.C_START, 0]))
    assert d.stats.frames_lost == 0 and d.stats.bytes_skipped == 0
    assert np.array_equal(frames.seq, np.arange(len(frames)))
    # 1.9 s of streaming at the slowest chip's rate
    assert 145 <= len(frames) <= 153


def test_full_rate_reads_every_conversion(built, tmp_path):
    """With equal chip clocks every conversion is read: a ramp advances by exactly one step."""
    data, stats = _golden_run(tmp_path, "ramp", "--ramp", "7")
    _, frames, _ = _decode(data)
    steps = np.diff(frames.raw[1:, :2].astype(np.int64), axis=0)  # cells 0, 1 are not saturated
    assert np.all(steps == 7), np.unique(steps)
    dt = np.diff(frames.t_us.astype(np.int64))[3:]  # the first reads follow START
    # read start follows the main loop (a few us of polling jitter); the cell ages carry
    # the exact instants
    assert np.median(dt) == NOMINAL_PERIOD_US and np.all(np.abs(dt - NOMINAL_PERIOD_US) <= 10)
    inst = frames.t_us[3:].astype(np.int64) - frames.age_us[3:, 0]
    assert np.all(np.abs(np.diff(inst) - NOMINAL_PERIOD_US) <= 1)
    assert stats["seq_gaps"] == 0 and stats["samples"] == len(frames)
    assert stats["streaming_cpu_busy"] < 0.5
    # 35-byte frames at 80 Hz over 500 kbaud 8N1: ~5.6 % of the link
    assert 0.045 < stats["uart_load"] < 0.07


# -- the Python simulated world standing on the firmware's board -----------------------------
def test_world_feed_puts_the_simulated_world_on_the_firmware(built):
    """`rig sim --firmware URL`: loads and a person from the sim:// URL reach the firmware's
    HX711 chips through the board model, and come back through the firmware's frames."""
    from rig.sim.firmware import WorldFeed
    from rig.sim.board import NOMINAL_GAIN_COUNTS_PER_N

    kg, x, y, half = 40.0, 60.0, -90.0, 180.0
    with FirmwareSim(realtime=True, extra_args=("--max-wall-s", "60", "--noise", "0")) as s:
        feed = WorldFeed(s, f"sim://?ideal=1&person=0&load={kg}@{x},{y}")
        try:
            with BoardLink(s.port) as lk:
                lk.start()
                frames = lk.wait_frames(60, timeout_s=20)
        finally:
            feed.stop()
    w = kg * 9.80665
    expect = w * np.array([(0.5 - x / (2 * half)) * (0.5 + y / (2 * half)), (0.5 + x / (2 * half)) * (0.5 + y / (2 * half)),
                           (0.5 - x / (2 * half)) * (0.5 - y / (2 * half)), (0.5 + x / (2 * half)) * (0.5 - y / (2 * half))])
    late = frames.raw[20:]            # once the first values have been fed
    np.testing.assert_array_equal(late, np.tile(np.rint(expect * NOMINAL_GAIN_COUNTS_PER_N), (len(late), 1)))
    assert feed.sent > 50
    with pytest.raises(Exception, match="does not apply"):
        WorldFeed(None, "sim://?speed=20")


# -- HX711 timing as it is: own clocks, cell ages, health --------------------------------------

def test_cell_ages_place_each_conversion_on_its_own_chip_clock(built):
    """Default harness: four chips at 91-94 Hz. Each cell's sample instant t_us - age falls on
    its chip's conversion grid (period from the harness), the frame rate follows the slowest
    chip, and STATS reports each chip's rate as the harness runs it."""
    with FirmwareSim(realtime=False, extra_args=SPEED, values=[1000, 2000, 3000, 4000]) as s:
        with BoardLink(s.port) as lk:
            lk.start()
            f = lk.wait_frames(200, timeout_s=60)
            st = lk.read_stats()
            lk.stop()
        stats = s.close()
    chip_hz = np.array(stats["chip_hz"])
    assert np.all((chip_hz > 90.9) & (chip_hz < 94.1))
    t = np.rint(f.t_s * 1e6).astype(np.int64)
    ok = f.age_us != wire.AGE_UNKNOWN
    assert ok[5:].all()
    for c in range(4):
        inst = (t - f.age_us[:, c].astype(np.int64))[ok[:, c]]
        steps = np.diff(np.unique(inst)) * chip_hz[c] / 1e6  # in conversion periods
        # on the grid to 1 % of a period (an edge seen only after a read is late by <= ~90 us)
        assert np.mean(np.abs(steps - np.rint(steps)) < 0.01) > 0.98, (c, steps)
    g = f[5:]  # after the reads that follow START
    rate = (len(g) - 1) / (g.t_s[-1] - g.t_s[0])
    # frames follow the chip that is ready last: the slowest once the chips' phases have
    # drifted into place, another one for a while after START
    assert chip_hz.min() * 0.999 < rate < chip_hz.max()
    spread = f.age_us[5:].max(axis=1).astype(int) - f.age_us[5:].min(axis=1)
    assert 4000 < spread.mean() < 11000  # the cells of one frame are ms apart
    assert np.allclose([c.rate_hz for c in st.chips], chip_hz, rtol=5e-4)
    assert st.frames_dropped == 0 and st.uart_rx_errors == 0 and st.flags == 1


def test_rate_pin_low_streams_valid_values_at_the_slow_rate(built, tmp_path):
    """Modules with RATE tied low (10 SPS on a fast oscillator: ~11.5 Hz) on the default
    build: every cell valid, none timed out, frames at the chips' own slow rate."""
    log = tmp_path / "low.bin"
    s = FirmwareSim(realtime=False, values=[111, 222, 333, 444],
                    extra_args=("--autostart-ms", "100", "--max-sim-s", "4", "--txlog", str(log),
                                "--no-control", "--rate-low", "--noise", "0"))
    deadline = time.monotonic() + 60
    while s.running and time.monotonic() < deadline:
        time.sleep(0.05)
    stats = s.close()
    _, f, _ = _decode(log.read_bytes())
    assert np.all(f.raw[2:] == [111, 222, 333, 444])
    assert not f.cell_flags(wire.CELL_TIMED_OUT).any()
    rate = (len(f) - 1) / (f.t_s[-1] - f.t_s[0])
    assert abs(rate / min(stats["chip_hz"]) - 1) < 0.01 and 11.0 < rate < 12.0


def test_cop_of_a_1hz_100mm_shift_through_the_firmware_within_half_a_mm(built, tmp_path):
    """The scene's counts at 1 kHz (--wave) converted by four free-running chips, read by the
    firmware, aligned by the host: COP residual around the true shift in simulated time."""
    from urllib.parse import parse_qs

    from rig.calibration.align import align_counts
    from rig.sim.board import SimBoardModel
    from rig.sim.protocol_sim import _scene_builder

    tt = np.arange(0, 10, 0.001)
    shift = tmp_path / "shift.csv"
    np.savetxt(shift, np.column_stack([tt, 100 * np.sin(2 * np.pi * tt), 0 * tt, 700 + 0 * tt]), fmt="%.5f",
               delimiter=",", header="t_s,cop_x_mm,cop_y_mm,fz_n", comments="")
    opts = parse_qs(f"seed=3&replay={shift}&on_s=0.5")
    model = SimBoardModel.from_options(opts)
    scene = _scene_builder(opts)(opts, np.random.default_rng([3, 1]), model.positions_mm)
    t = np.arange(0.0, 7.0, 0.001)
    counts = model.offsets_counts + model.gains_counts_per_n * scene.forces_n(t)
    wave = tmp_path / "wave.csv"
    np.savetxt(wave, np.column_stack([t, counts]), fmt="%.6f", delimiter=",")
    log = tmp_path / "tx.bin"
    s = FirmwareSim(realtime=False, extra_args=("--autostart-ms", "100", "--max-sim-s", "6", "--txlog", str(log),
                                                "--no-control", "--wave", str(wave)))
    deadline = time.monotonic() + 120
    while s.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert s.close()["exit"] == "max-sim-s"
    _, f, _ = _decode(log.read_bytes())
    src = scene.sources[0]
    _, true_x, _ = src.force_cop(f.t_s - scene.t0_s)

    def cop_x(c):
        forces = (c - model.offsets_counts) / model.gains_counts_per_n
        return forces @ model.positions_mm[:, 0] / forces.sum(axis=1)

    r = f.t_s - scene.t0_s - src.start_s
    on = (r > 0.5) & (r < 5.0)
    rms = lambda e: float(np.sqrt(np.mean(e[on] ** 2)))
    before = rms(cop_x(f.raw.astype(float)) - true_x)
    after = rms(cop_x(align_counts(f)) - true_x)
    assert before > 1.0
    assert after < 0.5
