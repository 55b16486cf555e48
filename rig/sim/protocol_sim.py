"""pyserial URL handler for ``sim://``: a simulated board behind the real serial API.

``serial.serial_for_url("sim://?seed=1&profile=cai")`` returns this port once ``rig.board`` is
imported. It speaks the wire format exactly as the firmware does: a HELLO after boot, the same
command answers, SAMPLE packets at the board's own (slightly off-nominal) rate, timestamps from
the board's clock. Time is pulled, not pushed: on every read the simulation advances to the
current board time, ``(wall time since open) x speed``, so there is no thread, and ``speed=20``
streams twenty board seconds per wall second while every timestamp stays true.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from urllib.parse import parse_qs, urlsplit

import numpy as np
import serial
from serial.serialutil import PortNotOpenError, SerialBase, SerialException, Timeout

from rig.board import wire
from rig.board.decoder import Decoder
from rig.sim.board import BOARD_OPTIONS, FrameTimer, SimBoardModel, TIMER_TICK_US, _float_opt, sample_frames

BOOT_HELLO_DELAY_S = 0.02
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
        seed = self.model.seed
        self.scene = _scene_builder(opts)(opts, np.random.default_rng([seed, 0x5CE4E]), self.model.positions_mm)
        self._byte_rng = np.random.default_rng([seed, 0xFA017])
        self.world_s = 0.0          # simulated time since power-up
        self.boot_world_s = 0.0     # world time of the last boot (board clock = world - boot)
        self.hello_due_s: float | None = BOOT_HELLO_DELAY_S
        self.streaming = False
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
                self._send(wire.packet(wire.T_HELLO, self._hello().payload()))
            if self.reset_s is not None and self.world_s >= self.reset_s:
                self.reset_s = None
                self._reboot()
            if self.disconnect_s is not None and self.world_s >= self.disconnect_s:
                self.unplugged = True

    def _reboot(self):
        self.boot_world_s = self.world_s
        self.streaming = False
        self.hello_due_s = self.world_s + BOOT_HELLO_DELAY_S

    def _emit_samples(self, until_s: float) -> None:
        if not self.streaming or self.timer is None:
            return  # the ADCs free-run; nobody reads them
        fr = self.timer.until(until_s)
        n = len(fr.read_s)
        if not n:
            return
        raw, status, _ = sample_frames(self.model, fr, self.scene.forces_n)
        t_us = self.clock_us(fr.read_s)
        known = ~np.isnan(fr.conv_s)
        ready_us = self.clock_us(np.where(known, fr.conv_s, fr.read_s[:, None]))
        age = np.where(known, np.minimum(t_us[:, None] - ready_us, wire.AGE_UNKNOWN), wire.AGE_UNKNOWN)
        seq = (self.seq + np.arange(n)) & 0xFFFF
        self._send(wire.sample_packets(seq, t_us, raw, status, age))
        self.seq = (self.seq + n) & 0xFFFF

    def _send(self, data: bytes) -> None:
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
        ack = lambda status: self._send(wire.packet(wire.T_ACK, wire.ack_payload(cmd, status)))
        if cmd == wire.C_IDENTIFY:
            self._send(wire.packet(wire.T_HELLO, self._hello().payload()))
        elif cmd == wire.C_START:
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
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._wall0 = time.monotonic()
        self.is_open = True

    def close(self):
        self.is_open = False

    def _reconfigure_port(self, force_update=False):
        pass  # baud rate and framing have no effect on a simulated link

    def _pump(self) -> None:
        b = self.board
        with self._lock:
            b.advance((time.monotonic() - self._wall0) * b.speed)

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
