"""Expose a serial-like port (e.g. ``sim://``) on a pseudo-terminal for other programs.

The slave side behaves like a USB serial device: any program (``rig`` in another terminal,
a terminal emulator, a test) opens ``/dev/pts/N`` and talks to the board byte for byte.
"""
from __future__ import annotations

import errno
import os
import select
import signal
import tty

import serial


class PtyBridge:
    def __init__(self, port: serial.SerialBase):
        self.port = port
        self.master, self._slave = os.openpty()
        # Raw mode before anyone opens the slave: binary frames contain ^C, ^S, CR, LF...
        tty.setraw(self._slave)
        tty.setraw(self.master)
        os.set_blocking(self.master, False)
        self.device = os.ttyname(self._slave)
        self.bytes_to_host = 0
        self.bytes_from_host = 0
        self.bytes_dropped = 0  # nobody read the pty and its buffer was full
        self._stop = False

    def stop(self, *_):
        self._stop = True

    def serve(self, poll_s: float = 0.002) -> str:
        """Copy bytes both ways until stopped or the port fails; returns why it ended."""
        while not self._stop:
            r, _, _ = select.select([self.master], [], [], poll_s)
            if r:
                try:
                    data = os.read(self.master, 4096)
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EIO):
                        raise
                    data = b""
                if data:
                    self.bytes_from_host += len(data)
                    try:
                        self.port.write(data)
                    except serial.SerialException as e:
                        return f"board: {e}"
            try:
                waiting = self.port.in_waiting
                out = self.port.read(waiting) if waiting else b""
            except serial.SerialException as e:
                return f"board: {e}"
            if out:
                try:
                    n = os.write(self.master, out)
                except BlockingIOError:
                    n = 0
                self.bytes_to_host += n
                self.bytes_dropped += len(out) - n
        return "stopped"

    def close(self):
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass


def install_stop_signals(bridge: PtyBridge) -> None:
    signal.signal(signal.SIGTERM, bridge.stop)
    signal.signal(signal.SIGINT, bridge.stop)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, bridge.stop)
