"""The serial link to a board: handshake, commands, and a reader thread that never blocks.

The reader thread reads whatever bytes are waiting, decodes them (vectorised), hands each batch
to the listeners (the journal writes it there, before anything else happens to it) and appends
it to a bounded window of frames numbered from 0 (``rig.board.window``). ``start()`` returns the
index of the stream's first frame; every reader consumes from that index on, so nothing decoded
between START and the first read is lost, and a poll costs in proportion to the new frames. If
the board goes away mid-stream, the thread records a ``DisconnectError`` in ``link.error`` and
stops; every frame received before stays available.

Commands are repeated until answered, within the budget of ``rig.board.retry`` (a 5 % byte
error rate still gets START or STOP through with probability 1 - 1e-9); the board obeys a
repeated command as it obeyed the first (WIRE_FORMAT.md: commands are idempotent). One exchange
with the board runs at a time. A board that reboots mid-stream says HELLO (not streaming) and
the link counts a reset and sends START again; if that HELLO was lost, the silence gives the
reboot away: after ``SILENCE_S`` without a frame the link asks the board (IDENTIFY) whether it
still streams, and a "not streaming" answer is the same reset.
"""
from __future__ import annotations

import queue
import threading
import time
from typing import Callable

import serial

from rig.board import wire
from rig.board.decoder import Decoder
from rig.board.retry import command_attempts, silent_attempts
from rig.board.window import DEFAULT_MAX_FRAMES, FrameWindow
from rig.frames import DecoderStats, FrameBatch
from rig.errors import BoardError, DisconnectError, PortError, RigError

ENV_PORT = "RIG_PORT"
HANDSHAKE_S = 3.0       # a real Uno resets on open and its bootloader holds it ~1.5 s
COMMAND_TIMEOUT_S = 0.5  # per try: a board answers within milliseconds (an EEPROM write: 0.22 s)
SILENCE_S = 0.5          # streaming, no frame for this long: ask the board whether it still streams
READ_POLL_S = 0.02


class BoardLink:
    """One board on one serial port (``/dev/ttyACM0``, ``COM3``, ``sim://?seed=1``, a pty)."""

    def __init__(self, url: str, baudrate: int = wire.DEFAULT_BAUD, window_frames: int = DEFAULT_MAX_FRAMES):
        self.url = url
        self.baudrate = baudrate
        self.hello: wire.Hello | None = None
        self.decoder = Decoder()
        self.error: RigError | None = None
        self.resets_seen = 0
        self._ser = None
        self._window = FrameWindow(window_frames)
        self.stream_start: int | None = None   # index of the current stream's first frame
        self._cond = threading.Condition()
        self._replies: queue.Queue = queue.Queue()
        self._listeners: list[Callable[[FrameBatch], None]] = []
        self._thread: threading.Thread | None = None
        self._running = False
        self._streaming = False
        self._write_lock = threading.Lock()
        self._request_lock = threading.RLock()   # one exchange with the board at a time
        self._last_frame_host_s = 0.0            # host time of the last frame (silence)
        self._recovering = False                 # a recovery thread runs (see _recover)
        self._restarting = False                 # a reset was counted, START not yet answered

    # -- opening -----------------------------------------------------------------------------
    def open(self, handshake_s: float = HANDSHAKE_S) -> wire.Hello:
        """Open the port and identify the board; raises PortError or BoardError."""
        try:
            self._ser = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=READ_POLL_S)
        except (serial.SerialException, OSError, ValueError) as e:
            why = _reason(e)
            if "Inappropriate ioctl" in why:      # ENOTTY: a device or file, not a serial port
                why = "not a serial port (give the board's port, e.g. /dev/ttyACM0, or sim://)"
            raise PortError(f"port {self.url}: cannot open: {why}") from None
        self._running = True
        self._thread = threading.Thread(target=self._reader, name=f"rig-reader {self.url}", daemon=True)
        self._thread.start()
        try:
            self.hello = self._handshake(handshake_s)
        except RigError:
            self.close()
            raise
        self.decoder.nominal_period_s = 1.0 / max(self.hello.rate_hz, 1.0)
        if self.hello.streaming:  # left streaming by a previous program: stop it first
            self.stop()
        return self.hello

    def _handshake(self, total_s: float) -> wire.Hello:
        deadline = time.monotonic() + total_s
        # A board that just booted says HELLO by itself; otherwise ask, and ask again, since a
        # bootloader may swallow the first request.
        first = True
        while time.monotonic() < deadline:
            wait = 0.15 if first else 0.5
            first = False
            reply = self._next_reply({wire.T_HELLO}, min(wait, max(0.0, deadline - time.monotonic())))
            if reply is not None:
                return self._parse_hello(reply[1])
            self.check()
            self._write(wire.command(wire.C_IDENTIFY))
        self.check()
        raise PortError(
            f"port {self.url}: no balance board answered within {total_s:.1f} s "
            "(wrong port, firmware not flashed, or wrong baud rate?)"
        )

    def _parse_hello(self, payload: bytes) -> wire.Hello:
        try:
            h = wire.Hello.from_payload(payload)
        except ValueError as e:
            raise BoardError(f"port {self.url}: malformed HELLO from the board: {e}") from None
        if h.wire_version != wire.WIRE_VERSION:
            raise BoardError(f"port {self.url}: board speaks wire version {h.wire_version}, this software {wire.WIRE_VERSION}")
        if h.cell_count != wire.N_CELLS:
            raise BoardError(f"port {self.url}: board reports {h.cell_count} cells, expected {wire.N_CELLS}")
        return h

    # -- commands ----------------------------------------------------------------------------
    def identify(self) -> wire.Hello:
        reply = self._request(wire.C_IDENTIFY, b"", {wire.T_HELLO})
        self.hello = self._parse_hello(reply[1])
        return self.hello

    def start(self) -> int:
        """Start streaming; returns the index of the stream's first frame.

        The index is pinned before START is sent, so every frame of the stream has an index at
        or after it; ``frames``, ``wait_frames`` and ``collect`` read from it by default.
        """
        with self._cond:
            self.decoder.mark_stream_start()
            first = self._window.count
        self.stream_start = first
        self._ack(wire.C_START)
        self._last_frame_host_s = time.monotonic()
        self._streaming = True
        return first

    def stop(self) -> None:
        self._streaming = False
        self._ack(wire.C_STOP)

    def read_calibration_blob(self) -> bytes | None:
        """The blob stored on the board, or None when none (or a corrupt one) is stored."""
        payload = self._request(wire.C_CALIB_READ, b"", {wire.T_CALIB})[1]
        if not payload:
            raise BoardError(f"port {self.url}: empty CALIB answer from the board")
        if payload[0] == wire.ST_BLOB_INVALID:
            return None
        if payload[0] != wire.ST_OK:
            raise BoardError(f"port {self.url}: calibration read failed: {wire.STATUS_NAMES.get(payload[0], payload[0])}")
        return bytes(payload[1:])

    def read_stats(self) -> wire.Stats:
        """The board's health counters and each chip's measured rate (STATS, wire v2)."""
        payload = self._request(wire.C_STATS, b"", {wire.T_STATS})[1]
        try:
            return wire.Stats.from_payload(payload)
        except ValueError as e:
            raise BoardError(f"port {self.url}: malformed STATS from the board: {e}") from None

    def write_calibration_blob(self, blob: bytes) -> None:
        if len(blob) > wire.CALIB_BLOB_MAX:
            raise BoardError(f"calibration blob of {len(blob)} bytes exceeds the board's {wire.CALIB_BLOB_MAX}")
        self._ack(wire.C_CALIB_WRITE, blob)

    def _ack(self, cmd: int, payload: bytes = b"", keep_going=None) -> None:
        reply = self._request(cmd, payload, {wire.T_ACK}, match=lambda p: len(p) == 2 and p[0] == cmd,
                              keep_going=keep_going)
        if reply is None:
            return  # keep_going said stop
        status = reply[1][1]
        if status != wire.ST_OK:
            raise BoardError(
                f"port {self.url}: board refused {wire.COMMAND_NAMES.get(cmd, hex(cmd))}: "
                f"{wire.STATUS_NAMES.get(status, status)}"
            )

    def _request(self, cmd, payload, types, match=None, keep_going=None):
        """Send ``cmd`` until its answer comes, within the ``rig.board.retry`` budget.

        Returns (type, payload), or None as soon as ``keep_going()`` is false; raises PortError
        (one line) when the board does not answer."""
        attempts, silent_max = command_attempts(cmd, len(payload)), silent_attempts(cmd, len(payload))
        tries = silent = 0
        t0 = time.monotonic()
        with self._request_lock:
            self._drop_replies()  # an answer to an earlier exchange must not answer this one
            while tries < attempts and silent < silent_max:
                if keep_going is not None and not keep_going():
                    return None
                self.check()
                heard = self.decoder.stats.bytes_in
                self._write(wire.command(cmd, payload))
                tries += 1
                reply = self._next_reply(types, COMMAND_TIMEOUT_S, match, keep_going)
                if reply is not None:
                    return reply
                # nothing at all came back: a dead board, or the command was lost on its way
                silent = silent + 1 if self.decoder.stats.bytes_in == heard else 0
            self.check()
            if keep_going is not None and not keep_going():
                return None
        why = (f"nothing came back from it for the last {silent}" if silent >= silent_max
               else "its answers never arrived intact")
        raise PortError(
            f"port {self.url}: board did not answer {wire.COMMAND_NAMES.get(cmd, hex(cmd))} "
            f"({tries} tries over {time.monotonic() - t0:.1f} s; {why})"
        )

    def _drop_replies(self) -> None:
        while True:
            try:
                self._replies.get_nowait()
            except queue.Empty:
                return

    def _next_reply(self, types, timeout_s, match=None, keep_going=None):
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            try:
                ptype, payload = self._replies.get(timeout=max(0.0, min(left, 0.05)))
            except queue.Empty:
                if left <= 0 or self.error is not None or (keep_going is not None and not keep_going()):
                    return None
                continue
            if ptype in types and (match is None or match(payload)):
                return ptype, payload

    def _write(self, data: bytes) -> None:
        try:
            with self._write_lock:
                self._ser.write(data)
        except (serial.SerialException, OSError) as e:
            self._fail(e)
            self.check()

    # -- frames ------------------------------------------------------------------------------
    def frames(self, since: int | None = None) -> tuple[FrameBatch, int]:
        """Frames from index ``since`` (default: the stream's first) on, and the index to ask
        from next time. Raises ``FramesLeftWindow`` if ``since`` has left the bounded window."""
        with self._cond:
            return self._window.since(self._from(since))

    def _from(self, since: int | None) -> int:
        if since is not None:
            return since
        return self.stream_start if self.stream_start is not None else self._window.count

    @property
    def frame_count(self) -> int:
        """Frames decoded since the link was opened (the next frame's index)."""
        return self._window.count

    def wait_frames(self, n: int, timeout_s: float = 5.0, since: int | None = None) -> FrameBatch:
        """Block until ``n`` frames from ``since`` (default: the stream's first) have arrived.

        ``timeout_s`` is host time: it bounds how long a silent board is waited for, beyond the
        link's own attempt to bring a silent or rebooted board back (itself bounded: it ends
        with frames or with the link's error)."""
        start = self._from(since)
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._window.count - start < n:
                if self.error is not None:
                    break
                left = deadline - time.monotonic()
                if left <= 0 and not self._recovering:
                    break
                self._cond.wait(min(max(left, 0.0), 0.1) or 0.1)
            got = self._window.count - start
        self.check()
        if got < n:
            raise PortError(
                f"port {self.url}: board sent {got} of {n} frames in {timeout_s:.1f} s "
                "(stalled? is it streaming?)"
            )
        return self.frames(start)[0]

    def collect(self, seconds: float, since: int | None = None,
                on_batch: Callable[[FrameBatch], None] | None = None, stall_s: float = 5.0) -> FrameBatch | None:
        """Frames from index ``since`` (default: the stream's first) until they span ``seconds``
        of board time.

        Board time, not wall time: at the simulator's ``speed=20`` this returns twenty times
        sooner with the same frames. ``on_batch`` sees each new batch as it arrives (to write
        it to disk at once); with ``on_batch`` nothing is accumulated and None is returned, so
        a long recording holds no more than the link's window. Raises the link's error (e.g.
        DisconnectError) or a PortError when nothing arrives for ``stall_s`` host seconds.
        """
        cursor = self._from(since)
        t_first = None
        parts: list[FrameBatch] = []
        failed: RigError | None = None
        while True:
            try:
                self.wait_frames(1, timeout_s=stall_s, since=cursor)
            except RigError as e:
                # hand over what arrived before the failure, then raise: "kept" stays true
                failed = e
            batch, cursor = self.frames(cursor)
            if failed is not None and not len(batch):
                raise failed
            if t_first is None:
                t_first = float(batch.t_s[0])
            end = t_first + seconds
            done = batch.t_s[-1] >= end
            if done:
                batch = batch[batch.t_s < end] if seconds > 0 else batch[:1]
            if len(batch):
                if on_batch is not None:
                    on_batch(batch)
                else:
                    parts.append(batch)
            if done:
                return None if on_batch is not None else FrameBatch.concat(parts)
            if failed is not None:
                raise failed

    def add_listener(self, fn: Callable[[FrameBatch], None]) -> None:
        self._listeners.append(fn)

    def remove_listener(self, fn) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    @property
    def stats(self) -> DecoderStats:
        return self.decoder.stats

    def check(self) -> None:
        """Raise the error that stopped the link, if any."""
        if self.error is not None:
            raise self.error

    # -- reader thread -----------------------------------------------------------------------
    def _reader(self) -> None:
        ser = self._ser
        while self._running:
            try:
                data = ser.read(ser.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError, AttributeError) as e:
                if self._running:
                    self._fail(e)
                return
            if not data:
                self._watch_silence()
                continue
            if len(data) < 256:
                # let a few frames gather: one decode per ~5 ms instead of one per frame
                # keeps the CPU share low at 1000 frames/s at the cost of 5 ms latency
                time.sleep(0.005)
                try:
                    data += ser.read(ser.in_waiting)
                except (serial.SerialException, OSError, TypeError, AttributeError) as e:
                    if self._running:
                        self._fail(e)
                    return
            now = time.monotonic()
            with self._cond:
                batch = self.decoder.feed(data, now)
                packets = self.decoder.take_packets()
                for ptype, payload in packets:
                    if ptype == wire.T_HELLO and self._streaming and not self._restarting \
                            and _hello_not_streaming(payload):
                        # a board we had streaming says it is not: it rebooted (its own HELLO
                        # after boot, or its answer when the silence made us ask)
                        self.decoder.note_reset()
                        self.resets_seen += 1
                        self._restarting = True
                        self._start_recovery()
                if len(batch):
                    self._last_frame_host_s = now
            self._watch_silence()
            if len(batch):
                # listeners first (the journal): a frame is on disk before anyone reads it
                for fn in list(self._listeners):
                    try:
                        fn(batch)
                    except Exception as e:   # a listener that fails stops the link loudly
                        self._fail_listener(e)
                with self._cond:
                    self._window.append(batch)
            with self._cond:
                self._cond.notify_all()
            for p in packets:
                self._replies.put(p)

    # -- recovery: a rebooted or silent board -------------------------------------------------
    def _watch_silence(self) -> None:
        """Streaming but no frame for SILENCE_S: find out why (see ``_recover``)."""
        if self._streaming and not self._recovering and time.monotonic() - self._last_frame_host_s > SILENCE_S:
            with self._cond:
                self._start_recovery()

    def _start_recovery(self) -> None:
        """One recovery thread at a time (call with ``self._cond`` held)."""
        if not self._recovering:
            self._recovering = True
            threading.Thread(target=self._recover, name=f"rig-recover {self.url}", daemon=True).start()

    def _recover(self) -> None:
        """Bring the stream back after a reboot; if the board is silent, ask it why.

        A reboot already seen (``_restarting``: the reader counted it) needs START. Silence
        needs a question first: IDENTIFY, until a HELLO or a frame comes. A HELLO that says "not
        streaming" is the reboot (the reader counts it as it counts a boot HELLO); "streaming"
        or a frame means the board is fine (frames were only late or lost). A board that never
        answers ends the link with one line, the frames received before kept."""
        alive = lambda: self._streaming and self._running and self.error is None
        try:
            with self._request_lock:
                if not self._restarting and alive():
                    seen = self._window.count
                    self._request(wire.C_IDENTIFY, b"", {wire.T_HELLO},
                                  keep_going=lambda: alive() and not self._restarting and self._window.count == seen)
                while alive():
                    with self._cond:
                        if not self._restarting:
                            break
                        counted = self.resets_seen
                        self.decoder.mark_stream_start()
                    self._ack(wire.C_START, keep_going=alive)
                    with self._cond:
                        if self.resets_seen == counted:  # else it rebooted again: once more
                            self._restarting = False
        except RigError as e:
            if alive() and self.error is None:
                self.error = DisconnectError(
                    f"{e}; it had rebooted or gone silent mid-stream: the {self._window.count} frames received before were kept")
        finally:
            with self._cond:
                self._recovering = False
                self._last_frame_host_s = time.monotonic()
                if self._restarting and alive():
                    self._start_recovery()   # a reboot counted as this round ended: another round
                else:
                    self._restarting = False
                self._cond.notify_all()

    def _fail(self, exc: BaseException) -> None:
        if self.error is None:
            reason = _reason(exc)
            why = "" if "disconnected" in reason else f" ({reason})"
            self.error = DisconnectError(
                f"port {self.url}: board stopped sending data (unplugged?){why}; "
                f"the {self._window.count} frames received before were kept"
            )
        with self._cond:
            self._cond.notify_all()

    def _fail_listener(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc if isinstance(exc, RigError) else RigError(
                f"port {self.url}: recording the board's frames failed: {_reason(exc)}")
        with self._cond:
            self._cond.notify_all()

    # -- closing -----------------------------------------------------------------------------
    def close(self) -> None:
        if self._ser is None:
            return
        if self._streaming and self.error is None:
            try:
                self.stop()
            except RigError:
                pass
        self._running = False
        try:
            if hasattr(self._ser, "cancel_read"):
                self._ser.cancel_read()
        except Exception:
            pass
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        try:
            self._ser.close()
        except Exception:
            pass
        self._ser = None

    def __enter__(self):
        if self._ser is None:
            self.open()
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _hello_not_streaming(payload: bytes) -> bool:
    """A well-formed HELLO whose flags say the board is not streaming."""
    try:
        return not wire.Hello.from_payload(payload).streaming
    except ValueError:
        return False


def _reason(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0]
