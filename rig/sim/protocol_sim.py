"""pyserial URL handler for ``sim://``: a simulated board behind the real serial API.

``serial.serial_for_url("sim://?seed=1&profile=cai")`` returns this port once ``rig.sim`` is
imported. It speaks the wire format exactly as the firmware does: a HELLO after boot, the same
command answers, SAMPLE packets at the board's own (slightly off-nominal) rate, timestamps from
the board's clock. Time is pulled, not pushed: on every read the simulation advances to the
current board time, so there is no thread. Two clocks (``clock=``):

* ``wall`` (default): board time is ``(wall time since open) x speed``; ``speed=20`` streams
  twenty board seconds per wall second while every timestamp stays true (demos).
* ``lockstep``: board time advances only with what the host reads: a read that finds no byte
  waiting advances the board by ``step_s`` of board time (default 0.02 s, or speed x 5 ms
  when the URL gives a speed); a booted board that is not streaming stands still until the
  host's next command, so START lands at the same board time however busy the host is. What the host sees, in board time, then does not depend on
  how fast the host is (tests). Host receive times mean nothing in this mode. The environment
  variable ``RIG_SIM_CLOCK`` sets the clock of URLs that do not say (the test suite: lockstep).

Resets as on an Arduino: opening the port reboots the board (DTR); the bootloader keeps it
silent for ``boot_s`` (about 1 s for Optiboot), then the firmware starts with its microsecond
clock and sequence at 0 and says HELLO. ``reset_s=`` reboots it the same way mid-stream. The
truth the host cannot see (frames sent, reboots and the true gaps they left) is kept in
``SimBoard.truth`` for tests.
"""
from __future__ import annotations

import dataclasses
import os
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import numpy as np
import serial
from serial.serialutil import PortNotOpenError, SerialBase, SerialException, Timeout

from rig.board import wire
from rig.board.decoder import Decoder
from rig.sim.board import BOARD_OPTIONS, FrameTimer, SimBoardModel, TIMER_TICK_US, _float_opt, _int_opt, sample_frames

BOOT_HELLO_DELAY_S = 0.02  # firmware set-up between the bootloader and the HELLO
DEFAULT_BOOT_S = 1.0       # Optiboot's wait after a DTR reset (reality.md section 2)
DEFAULT_STEP_S = 0.02      # lockstep: board seconds per empty read (about a USB latency burst)
TRUTH_MAX_FRAMES = 1_000_000  # frames whose timestamps the truth keeps (8 MB)
IDLE_READ_WALL_S = 0.001   # lockstep: wall pause after an empty read, so idle polling does not spin
MAX_CHUNK_S = 0.5  # simulate at most this much board time per step (bounds memory per step)


def _scene_builder(opts):
    """The world on the board: a calibration sequence, or people, loads and replays."""
    if "calibration" in opts or "check" in opts:
        from rig.sim.calibration_scene import build_calibration_scene

        return build_calibration_scene
    from rig.sim.scene import build_scene

    return build_scene


def known_options() -> set[str] | None:
    """Every option name the handler understands, or None if a part does not declare them."""
    names = set(BOARD_OPTIONS)
    try:
        from rig.sim import scene

        names |= set(scene.OPTION_NAMES)
    except (ImportError, AttributeError):
        return None
    try:
        from rig.sim import calibration_scene

        names |= set(calibration_scene.OPTION_NAMES)
    except ImportError:
        pass
    except AttributeError:
        return None
    return names


@dataclass
class SimTruth:
    """What really happened on the simulated board, which the host can only estimate."""

    frames_sent: int = 0   # SAMPLE frames the board sent (before any corruption or loss)
    starts: int = 0        # START commands received (a START while streaming changes nothing)
    resets: int = 0        # reboots (reset_s)
    gaps_s: list[float] = field(default_factory=list)  # per reboot: board time from the last
    # frame before it to the first frame after it (s)
    sent_t_us: list = field(default_factory=list)  # board timestamps of the frames sent (arrays;
    # the first TRUTH_MAX_FRAMES only)

    def frames_sent_up_to(self, t_us: int) -> int:
        """Frames sent up to and including the one stamped ``t_us`` (one boot, no clock wrap)."""
        t = np.concatenate(self.sent_t_us) if self.sent_t_us else np.zeros(0, np.int64)
        hit = np.flatnonzero(t == t_us)
        if not len(hit):
            raise ValueError(f"no frame stamped {t_us} was sent")
        return int(hit[-1]) + 1


class SimBoard:
    """The board's firmware behaviour in simulated time (no I/O of its own)."""

    def __init__(self, opts: dict[str, list[str]]):
        self.opts = opts
        self.model = SimBoardModel.from_options(opts)
        self.speed = _float_opt(opts, "speed", 1.0, 0.01, 1000.0)
        self.corrupt_p = _float_opt(opts, "corrupt", 0.0, 0.0, 1.0)
        self.drop_p = _float_opt(opts, "drop", 0.0, 0.0, 1.0)
        self.disconnect_s = _float_opt(opts, "disconnect_s", None, 0.0)
        self.reset_s = _float_opt(opts, "reset_s", None, 0.0)
        self.boot_s = _float_opt(opts, "boot_s", DEFAULT_BOOT_S, 0.0, 10.0)
        self.lose_acks = _lose_acks_opt(opts)       # command -> ACKs still to corrupt
        self.lose_reset_hello = _int_opt(opts, "lose_reset_hello", 0, 0, 1) == 1
        self._rebooted = False                      # the pending HELLO follows a reset_s reboot
        seed = self.model.seed
        self.scene = _scene_builder(opts)(opts, np.random.default_rng([seed, 0x5CE4E]), self.model.positions_mm)
        self._byte_rng = np.random.default_rng([seed, 0xFA017])
        self.world_s = 0.0          # simulated time since the port was opened (DTR reset)
        # the firmware starts after the bootloader: its clock reads 0 at world time boot_world_s
        self.boot_world_s = self.boot_s
        self.hello_due_s: float | None = self.boot_s + BOOT_HELLO_DELAY_S
        self.streaming = False
        self.truth = SimTruth()
        self._last_frame_world_s: float | None = None
        self._gap_open_at_s: float | None = None  # world time of the last frame before a reboot
        self.seq = 0
        self.timer: FrameTimer | None = None  # the firmware's read loop, from START on
        self.blob: bytes | None = None  # EEPROM calibration blob (survives resets)
        self.unplugged = False
        self._cmd_decoder = Decoder()
        self.out = bytearray()

    # -- time --------------------------------------------------------------------------------
    def clock_us(self, world_s):
        return np.rint((np.asarray(world_s) - self.boot_world_s) * 1e6 / TIMER_TICK_US).astype(np.int64) * TIMER_TICK_US

    def advance(self, to_world_s: float) -> None:
        """Run the board up to ``to_world_s``, appending what it sends to ``out``."""
        while self.world_s < to_world_s and not self.unplugged:
            step_end = min(to_world_s, self.world_s + MAX_CHUNK_S)
            events = [t for t in (self.disconnect_s, self.reset_s, self.hello_due_s) if t is not None and self.world_s <= t < step_end]
            if events:
                step_end = min(events)
            self._emit_samples(step_end)
            self.world_s = step_end
            if self.hello_due_s is not None and self.world_s >= self.hello_due_s:
                self.hello_due_s = None
                self._send(wire.packet(wire.T_HELLO, self._hello().payload()),
                           garble=self._rebooted and self.lose_reset_hello)
            if self.reset_s is not None and self.world_s >= self.reset_s:
                self.reset_s = None
                self._reboot()
            if self.disconnect_s is not None and self.world_s >= self.disconnect_s:
                self.unplugged = True

    def at_rest(self) -> bool:
        """Booted and not streaming: the board sends nothing until the host's next command.
        (In lockstep, a reset or unplug scheduled in board time then waits for the board time
        that streaming brings: those are mid-stream events.)"""
        return not self.streaming and self.hello_due_s is None and not self.unplugged

    def _reboot(self):
        """Reset (brown-out, watchdog, reset_s): bootloader silence, then clock and seq at 0."""
        self.boot_world_s = self.world_s + self.boot_s
        self.streaming = False
        self.seq = 0
        self.hello_due_s = self.boot_world_s + BOOT_HELLO_DELAY_S
        self.truth.resets += 1
        self._rebooted = True
        self._gap_open_at_s = self._last_frame_world_s

    def _emit_samples(self, until_s: float) -> None:
        if not self.streaming or self.timer is None:
            return  # the ADCs free-run; nobody reads them
        fr = self.timer.until(until_s)
        n = len(fr.read_s)
        if not n:
            return
        raw, status, _ = sample_frames(self.model, fr, self.scene.forces_n)
        t = fr.read_s
        t_us = self.clock_us(t)
        known = ~np.isnan(fr.conv_s)
        ready_us = self.clock_us(np.where(known, fr.conv_s, fr.read_s[:, None]))
        age = np.where(known, np.minimum(t_us[:, None] - ready_us, wire.AGE_UNKNOWN), wire.AGE_UNKNOWN)
        seq = (self.seq + np.arange(n)) & 0xFFFF
        self._send(wire.sample_packets(seq, t_us, raw, status, age))
        self.seq = (self.seq + n) & 0xFFFF
        if self.truth.frames_sent + n <= TRUTH_MAX_FRAMES:
            self.truth.sent_t_us.append(t_us & 0xFFFFFFFF)
        self.truth.frames_sent += n
        if self._gap_open_at_s is not None:
            self.truth.gaps_s.append(float(t[0]) - self._gap_open_at_s)
            self._gap_open_at_s = None
        self._last_frame_world_s = float(t[-1])

    def _send(self, data: bytes, garble: bool = False) -> None:
        if garble:  # the packet arrives, but its CRC fails (lose_acks, lose_reset_hello)
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        if self.drop_p or self.corrupt_p:
            arr = np.frombuffer(data, dtype=np.uint8).copy()
            if self.corrupt_p:
                hit = self._byte_rng.random(len(arr)) < self.corrupt_p
                arr[hit] ^= self._byte_rng.integers(1, 256, int(hit.sum()), dtype=np.uint8)
            if self.drop_p:
                arr = arr[self._byte_rng.random(len(arr)) >= self.drop_p]
            data = arr.tobytes()
        self.out += data

    # -- commands ----------------------------------------------------------------------------
    def _lose_ack(self, cmd: int) -> bool:
        left = self.lose_acks.get(cmd, 0)
        if left:
            self.lose_acks[cmd] = left - 1
        return bool(left)

    def _hello(self) -> wire.Hello:
        h = self.model.hello
        return wire.Hello(h.wire_version, h.firmware, h.board_id, h.cell_count, h.rate_mhz, h.adc_type, int(self.streaming))

    def receive(self, data: bytes) -> None:
        """Bytes from the host, at the current board time."""
        self._cmd_decoder.feed(data)
        for ptype, payload in self._cmd_decoder.take_packets():
            self._command(ptype, payload)

    def _command(self, cmd: int, payload: bytes) -> None:
        if self.hello_due_s is not None:  # still booting: the firmware is not listening yet
            return
        ack = lambda status: self._send(wire.packet(wire.T_ACK, wire.ack_payload(cmd, status)),
                                        garble=self._lose_ack(cmd))
        if cmd == wire.C_IDENTIFY:
            self._send(wire.packet(wire.T_HELLO, self._hello().payload()))
        elif cmd == wire.C_START:
            self.truth.starts += 1
            if not self.streaming:  # START while streaming keeps the stream (idempotent)
                self.seq = 0
                self.streaming = True
                self.timer = FrameTimer(self.model, self.world_s)
            ack(wire.ST_OK)
        elif cmd == wire.C_STOP:
            self.streaming = False
            ack(wire.ST_OK)
        elif cmd == wire.C_CALIB_READ:
            if self.blob is None:
                self._send(wire.packet(wire.T_CALIB, wire.calib_payload(wire.ST_BLOB_INVALID)))
            else:
                self._send(wire.packet(wire.T_CALIB, wire.calib_payload(wire.ST_OK, self.blob)))
        elif cmd == wire.C_STATS:
            timer = self.timer or FrameTimer(self.model, self.world_s)
            st = timer.stats(self.world_s, self._cmd_decoder.stats.crc_failures,
                             self._cmd_decoder.stats.bytes_skipped, self.streaming)
            st = dataclasses.replace(st, t_us=int(self.clock_us(self.world_s)) & 0xFFFFFFFF)
            self._send(wire.packet(wire.T_STATS, st.payload()))
        elif cmd == wire.C_CALIB_WRITE:
            if self.streaming:
                ack(wire.ST_BUSY)
            elif len(payload) > wire.CALIB_BLOB_MAX:
                ack(wire.ST_BAD_LENGTH)
            else:
                self.blob = bytes(payload)
                ack(wire.ST_OK)
        else:
            ack(wire.ST_UNKNOWN_COMMAND)


def _lose_acks_opt(opts) -> dict[int, int]:
    """``lose_acks=start:4,stop:2`` -> {C_START: 4, C_STOP: 2}."""
    if "lose_acks" not in opts:
        return {}
    names = {n.lower(): c for c, n in wire.COMMAND_NAMES.items()}
    out = {}
    for item in filter(None, opts["lose_acks"][-1].split(",")):
        name, _, count = item.partition(":")
        if name.lower() not in names or not count.isdigit():
            raise ValueError(f"sim://: option lose_acks={item!r}: expected COMMAND:COUNT, e.g. start:4 "
                             f"(commands: {', '.join(sorted(names))})")
        out[names[name.lower()]] = int(count)
    return out


def _wall_clock() -> float:
    """The wall clock of ``clock=wall`` (a function, so tests can replace it)."""
    return time.monotonic()


CLOCK_ENV = "RIG_SIM_CLOCK"  # default for URLs without clock= (the test suite sets lockstep)


def _clock_opt(opts) -> str:
    v = opts.get("clock", [os.environ.get(CLOCK_ENV) or "wall"])[-1]
    if v not in ("wall", "lockstep"):
        raise ValueError(f"sim://: option clock={v!r} must be wall or lockstep")
    return v


class Serial(SerialBase):
    """The ``sim://`` port. Options: see ``rig sim --help`` (BOARD_OPTIONS and the scene's)."""

    def open(self):
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        if self.is_open:
            raise SerialException("Port is already open.")
        parts = urlsplit(self.portstr)
        if parts.scheme.lower() != "sim":
            raise SerialException(f"expected a sim:// URL, got {self.portstr!r}")
        opts = parse_qs(parts.query, keep_blank_values=True)
        known = known_options()
        if known is not None:
            unknown = sorted(set(opts) - known)
            if unknown:
                raise SerialException(
                    f"sim://: unknown option {unknown[0]!r} (known: {', '.join(sorted(known))})"
                )
        try:
            self.board = SimBoard(opts)
        except (ValueError, OSError) as e:
            raise SerialException(str(e)) from None
        try:
            self.lockstep = _clock_opt(opts) == "lockstep"
            # without step_s, a URL's speed keeps about its pace: speed x 5 ms per empty read
            default_step = DEFAULT_STEP_S if "speed" not in opts else 0.005 * self.board.speed
            self.step_s = _float_opt(opts, "step_s", default_step, 1e-4, 10.0)
        except ValueError as e:
            raise SerialException(str(e)) from None
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._wall0 = _wall_clock()
        self.is_open = True

    def close(self):
        self.is_open = False

    def _reconfigure_port(self, force_update=False):
        pass  # baud rate and framing have no effect on a simulated link

    def _pump(self) -> None:
        """Wall clock: bring the board up to now. Lockstep: nothing (reads advance it)."""
        if self.lockstep:
            return
        b = self.board
        with self._lock:
            b.advance((_wall_clock() - self._wall0) * b.speed)

    def _step(self) -> None:
        """Lockstep: the host found nothing waiting, so one step of board time passes; except
        when nothing can happen (``Board.at_rest``): then board time stands until the host
        speaks, so a command such as START lands at the same board time however many empty
        reads the host's reader thread made meanwhile (runs are reproducible)."""
        b = self.board
        with self._lock:
            if not b.at_rest():
                b.advance(b.world_s + self.step_s)

    def _check_plugged(self):
        if self.board.unplugged and not self.board.out:
            self.is_open = False
            raise SerialException(
                "device reports readiness to read but returned no data (device disconnected or multiple access on port?)"
            )

    @property
    def in_waiting(self):
        if not self.is_open:
            raise PortNotOpenError()
        self._pump()
        self._check_plugged()
        return len(self.board.out)

    def read(self, size=1):
        if not self.is_open:
            raise PortNotOpenError()
        if self.lockstep:
            return self._read_lockstep(size)
        self._cancel.clear()
        timeout = Timeout(self._timeout)
        buf = bytearray()
        while True:
            self._pump()
            with self._lock:
                take = bytes(self.board.out[: size - len(buf)])
                del self.board.out[: len(take)]
            buf += take
            if len(buf) >= size:
                break
            if self.board.unplugged and not self.board.out:
                if buf:
                    break
                self._check_plugged()
            if timeout.expired() or self._cancel.is_set():
                break
            time.sleep(self._sleep_step())
        return bytes(buf)

    def _read_lockstep(self, size: int) -> bytes:
        """Bytes waiting are returned at once; a read that finds none advances one step."""
        if size <= 0:
            return b""
        if not self.board.out:
            self._step()
            if not self.board.out:
                self._check_plugged()
                time.sleep(IDLE_READ_WALL_S)  # a real port would block here: do not spin
        with self._lock:
            take = bytes(self.board.out[:size])
            del self.board.out[: len(take)]
        return take

    def _sleep_step(self) -> float:
        # one frame period of wall time at most, so reads follow the board closely
        return max(0.0005, min(0.005, self.board.model.period_s / self.board.speed))

    def cancel_read(self):
        self._cancel.set()

    def write(self, data):
        if not self.is_open:
            raise PortNotOpenError()
        self._pump()
        self._check_plugged()
        if self.board.unplugged:
            raise SerialException("write failed: device disconnected")
        with self._lock:
            self.board.receive(bytes(data))
        return len(data)

    def reset_input_buffer(self):
        if not self.is_open:
            raise PortNotOpenError()
        self._pump()
        with self._lock:
            self.board.out.clear()

    def reset_output_buffer(self):
        if not self.is_open:
            raise PortNotOpenError()

    @property
    def out_waiting(self):
        return 0
