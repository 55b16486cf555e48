"""The real board firmware, running in simavr behind a pseudo-terminal.

``FirmwareSim`` starts ``firmware/build/bbsim`` (the libsimavr harness, see
``firmware/sim/bbsim.c``) on the firmware ELF: the very binary users flash, on an emulated
ATmega328P at 16 MHz with four emulated HX711 chips. The host talks to it through the pty
exactly as to a USB board (``BoardLink(sim.port)``). Raw counts, stalled chips and resets are
driven through the harness's stdin.

    with FirmwareSim(realtime=False) as sim:
        sim.set_raw([1000, 2000, 3000, 4000])
        link = BoardLink(sim.port); link.open()
        ...

Needs the Debian packages gcc-avr avr-libc libsimavr-dev libelf-dev pkg-config (and make,
gcc) to build; ``rig sim --firmware`` uses ``run_firmware_sim_cli``.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Sequence

from rig.errors import PortError, RigError
from rig.paths import source_root
from rig.units import INT24_MAX, INT24_MIN

FIRMWARE_DIR = source_root() / "firmware"
BUILD_DIR = FIRMWARE_DIR / "build"
HARNESS = BUILD_DIR / "bbsim"
DEFAULT_ELF = BUILD_DIR / "balance-rig.elf"
START_TIMEOUT_S = 15.0


def build_firmware(targets: Sequence[str] = ("fw", "sim")) -> None:
    """``make -C firmware`` for the given targets (make skips what is up to date)."""
    if not (FIRMWARE_DIR / "Makefile").is_file():
        raise RigError(f"firmware sources not found in {FIRMWARE_DIR} (run from a source checkout)")
    try:
        r = subprocess.run(["make", "-s", "-C", str(FIRMWARE_DIR), *targets],
                           capture_output=True, text=True, timeout=300)
    except FileNotFoundError:
        raise RigError("cannot build the firmware: `make` is not installed") from None
    if r.returncode != 0:
        last = (r.stderr.strip() or r.stdout.strip() or "no output").splitlines()[-1]
        raise RigError(
            f"building the firmware in {FIRMWARE_DIR} failed: {last} "
            "(needs: apt-get install gcc-avr avr-libc libsimavr-dev libelf-dev pkg-config)"
        )


def find_elf(elf: str | os.PathLike | None = None) -> Path:
    """The firmware ELF to run: the one given, else firmware/build/*.elf (built if missing)."""
    if elf is not None:
        p = Path(elf)
        if not p.is_file():
            raise RigError(f"firmware ELF {p} not found")
        return p
    build_firmware(("fw",))
    if DEFAULT_ELF.is_file():
        return DEFAULT_ELF
    found = sorted(BUILD_DIR.glob("*.elf"))
    if not found:
        raise RigError(f"no firmware ELF in {BUILD_DIR} after building")
    return found[0]


class FirmwareSim:
    """The firmware ELF in the simavr harness, exposed on a pty (``.port``).

    ``realtime=True`` paces simulated time to the wall clock (for people and GUIs);
    ``False`` runs flat out (about 2x real time; tests reason in board time ``t_us``).
    ``extra_args`` go to the harness (e.g. ``("--ppm", "0,50,-50,120")``, see
    ``bbsim --help``). ``values`` are the initial raw counts, ``board_id`` (16 hex digits)
    is stored in the simulated EEPROM before boot (otherwise the firmware generates one).
    """

    def __init__(self, elf: str | os.PathLike | None = None, realtime: bool = True,
                 extra_args: Iterable[str] = (), *, values: Sequence[int] | None = None,
                 board_id: str | None = None, max_wall_s: float | None = None):
        self.elf = find_elf(elf)
        if not HARNESS.is_file() or HARNESS.stat().st_mtime < (FIRMWARE_DIR / "sim" / "bbsim.c").stat().st_mtime:
            build_firmware(("sim",))
        args = [str(HARNESS)]
        if realtime:
            args.append("--realtime")
        if values is not None:
            args += ["--values", ",".join(str(int(v)) for v in _four(values))]
        if board_id is not None:
            args += ["--board-id", board_id]
        if max_wall_s is not None:
            args += ["--max-wall-s", str(max_wall_s)]
        args += [str(a) for a in extra_args]
        args.append(str(self.elf))
        self.args = args
        self.port: str | None = None
        self.stats: dict | None = None
        self._stderr: list[str] = []
        self._stdout: list[str] = []
        self._pty_ready = threading.Event()
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, bufsize=1)
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True, name="bbsim-stdout"),
            threading.Thread(target=self._read_stderr, daemon=True, name="bbsim-stderr"),
        ]
        for t in self._threads:
            t.start()
        if not self._pty_ready.wait(START_TIMEOUT_S) or self.port is None:
            self.close()
            why = (self._stderr[-1].strip() if self._stderr else "no output")
            raise PortError(f"firmware simulator on {self.elf} did not start: {why}")

    # -- harness output ------------------------------------------------------------------
    def _read_stdout(self) -> None:
        for line in self._proc.stdout:
            # libsimavr prints its own lines ("Loaded ... .text"); ours starts with "PTY "
            if line.startswith("PTY ") and self.port is None:
                self.port = line[4:].strip()
                self._pty_ready.set()
            else:
                self._stdout.append(line)
        self._pty_ready.set()  # the harness ended: do not wait for a PTY line

    def _read_stderr(self) -> None:
        for line in self._proc.stderr:
            self._stderr.append(line)

    # -- control ---------------------------------------------------------------------------
    def _send(self, line: str) -> None:
        if self._proc.poll() is not None:
            raise PortError(f"firmware simulator {self.port} has exited ({self._proc.returncode})")
        with self._lock:
            try:
                self._proc.stdin.write(line + "\n")
                self._proc.stdin.flush()
            except (BrokenPipeError, OSError):
                raise PortError(f"firmware simulator {self.port} has exited") from None

    def set_raw(self, values4: Sequence[int]) -> None:
        """Counts the four HX711s give from their next conversion on (FL, FR, BL, BR)."""
        self._send("setall " + " ".join(str(v) for v in _four(values4)))

    def stall(self, ch: int) -> None:
        """Chip ``ch`` stops answering (missing, unpowered): DOUT stays high."""
        self._send(f"stall {_cell(ch)}")

    def unstall(self, ch: int) -> None:
        self._send(f"unstall {_cell(ch)}")

    def send_wave(self, t_s, counts) -> None:
        """Append rows to the chips' value table: chip i converts ``counts[:, i]`` interpolated
        at its own conversion instants (simulated seconds since the harness started)."""
        lines = "\n".join(f"wave {t:.6f} {a:.1f} {b:.1f} {c:.1f} {d:.1f}" for t, (a, b, c, d) in zip(t_s, counts))
        if lines:
            self._send(lines)

    def reset(self) -> None:
        """Reset the simulated MCU (as a DTR pulse or power glitch would); EEPROM survives."""
        self._send("reset")

    @property
    def running(self) -> bool:
        return self._proc.poll() is None

    def close(self) -> dict:
        """Stop the harness (SIGTERM) and return its statistics (the JSON line it prints)."""
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for t in self._threads:
            t.join(timeout=2.0)
        for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
            try:
                stream.close()
            except (OSError, ValueError):
                pass
        if self.stats is None:
            self.stats = _last_json(self._stderr) or {}
        return self.stats

    @property
    def returncode(self) -> int | None:
        return self._proc.poll()

    def __enter__(self) -> "FirmwareSim":
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False

    def __del__(self):
        try:
            if self._proc.poll() is None:
                self._proc.kill()
        except Exception:
            pass


def _four(values: Sequence[int]) -> list[int]:
    v = [int(x) for x in values]
    if len(v) != 4:
        raise ValueError(f"expected 4 raw counts, got {len(v)}")
    return [min(max(x, INT24_MIN), INT24_MAX) for x in v]


def _cell(ch: int) -> int:
    if not 0 <= int(ch) <= 3:
        raise ValueError(f"cell index {ch} outside 0..3")
    return int(ch)


def _last_json(lines: list[str]) -> dict | None:
    for line in reversed(lines):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


class WorldFeed:
    """The Python simulated world (a person, loads, a replay) standing on the simulated firmware.

    The forces of the ``sim://`` URL's scene go through the board model of the URL's seed (cell
    gains, offsets, noise, wiring faults) and are sent to the harness as a table of raw counts
    against simulated time, every ``period_s`` (200 Hz), ``LEAD_S`` ahead of the harness's
    clock (real time: simulated seconds = wall seconds since start). Each emulated HX711 takes
    its value interpolated at its own conversion instant, so the firmware converts what the
    athlete does at the exact moment, whatever the host's scheduling. Options that belong to
    the pure-Python link (speed, corrupt, drop, lose_acks, disconnect_s, reset_s) do not apply to the
    firmware and are refused.
    """

    NOT_FOR_FIRMWARE = ("speed", "clock", "step_s", "boot_s", "corrupt", "drop", "disconnect_s", "reset_s", "rate_hz",
                        "lose_acks", "lose_reset_hello")
    LEAD_S = 1.0

    def __init__(self, sim: "FirmwareSim", url: str, period_s: float = 0.005):
        from urllib.parse import parse_qs, urlsplit

        import numpy as np

        from rig.sim.board import SimBoardModel
        from rig.sim.protocol_sim import _scene_builder, known_options

        parts = urlsplit(url)
        if parts.scheme.lower() != "sim":
            raise RigError(f"rig sim --firmware: expected a sim:// URL for the world, got {url!r}")
        opts = parse_qs(parts.query, keep_blank_values=True)
        known = known_options() or set()
        bad = sorted(k for k in opts if k not in known or k in self.NOT_FOR_FIRMWARE)
        if bad:
            raise RigError(f"rig sim --firmware: option {bad[0]!r} does not apply to the firmware simulator")
        try:
            self.model = SimBoardModel.from_options(opts)
            self.scene = _scene_builder(opts)(opts, np.random.default_rng([self.model.seed, 0x5CE4E]),
                                              self.model.positions_mm)
        except (ValueError, OSError) as e:
            raise RigError(str(e)) from None
        self.np = np
        self.sim, self.period_s = sim, period_s
        self.stop_event = threading.Event()
        self.t0 = time.monotonic()
        self.sent = 0
        self.thread = threading.Thread(target=self._run, daemon=True, name="bbsim-world")
        self.thread.start()

    def _run(self) -> None:
        np = self.np
        k = 0
        t_next = 0.0
        while not self.stop_event.is_set() and self.sim.running:
            horizon = time.monotonic() - self.t0 + self.LEAD_S
            while t_next < horizon:  # in steps the scene can take (it keeps bounded windows)
                t = t_next + self.period_s * np.arange(max(1, int(min(0.5, horizon - t_next) / self.period_s)))
                forces = self.scene.forces_n(t)
                raw, _ = self.model.counts(forces, t, k + np.arange(len(t)))
                try:
                    self.sim.send_wave(t, raw)
                except PortError:
                    return
                self.sent += len(t)
                k += len(t)
                t_next = float(t[-1]) + self.period_s
            self.stop_event.wait(0.1)

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(1.0)


def harness_clock_args(url: str | None) -> list[str]:
    """The chip clock options of a ``sim://`` URL (``chip_hz``, ``rate_pin``, ``seed``) as
    harness arguments: the emulated HX711s then run as that board's chips would."""
    if url is None:
        return []
    from urllib.parse import parse_qs, urlsplit

    opts = parse_qs(urlsplit(url).query, keep_blank_values=True)
    args = []
    if "chip_hz" in opts:
        args += ["--chip-hz", opts["chip_hz"][-1]]
    if opts.get("rate_pin", ["high"])[-1] == "low":
        args.append("--rate-low")
    if "seed" in opts:
        args += ["--clock-seed", opts["seed"][-1]]
    return args


def run_firmware_sim_cli(elf: str | None, echo: Callable[..., None], url: str | None = None) -> None:
    """``rig sim --firmware [ELF] [URL]``: print the pty path first, then run until stopped.

    With a ``sim://`` URL, the simulated world of that URL stands on the board (``WorldFeed``).
    """
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        sim = FirmwareSim(elf, realtime=True, extra_args=harness_clock_args(url))
        feed = None
        try:
            if url is not None:
                feed = WorldFeed(sim, url)
            echo(sim.port)
            sys.stdout.flush()
            echo(f"board firmware {sim.elf} running in simavr on {sim.port}; Ctrl-C to stop", err=True)
            while not stop.is_set() and sim.running:
                stop.wait(0.2)
            died = not sim.running
        finally:
            if feed is not None:
                feed.stop()
            stats = sim.close()
        echo(json.dumps(stats), err=True)
        if died and not stop.is_set():
            raise PortError(f"firmware simulator on {sim.port} stopped by itself ({stats.get('exit', 'no stats')})")
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
