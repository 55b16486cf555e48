"""The simulated board's hardware: geometry, four load cells with their HX711s, the clock.

Each seed builds its own board, like each home-made board differs: unequal cell gains and
offsets, noise, slow drift, four HX711s each free-running on its own oscillator (real chips at
"80 SPS" convert at about 91-94 conversions/s, a few % apart: reality.md section 1), and on
request wiring faults. ``FrameTimer`` replays the firmware's read loop over those four clocks:
read when every live chip has a new conversion, the ~75 us DOUT pulse of an unread update,
a conversion finishing during the read, settling after power-up. The model is deterministic
in board time: the same seed gives the same counts for the same conversion however the
samples are requested.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

from rig.board import wire
from rig.units import NOMINAL_GAIN_COUNTS_PER_N  # noqa: F401  (the nominal build, re-exported)

# Nominal build (documented in calibration/nominal.toml and docs/CONTRACTS.md): cells at the
# corners of a 400 x 400 mm top, 20 mm in from the edges. Order FL, FR, BL, BR.
NOMINAL_CELL_POSITIONS_MM = np.array(
    [[-180.0, 180.0], [180.0, 180.0], [-180.0, -180.0], [180.0, -180.0]]
)
NOISE_COUNTS_RMS = 150.0  # ~0.08 N per cell at 80 SPS: HX711 plus wiring, typical of DIY builds
# HX711 input noise per conversion at gain 128 (datasheet, "Input noise": 50 nV rms at 10 SPS,
# 90 nV rms at 80 SPS) in counts of the +-20 mV full scale: 2^23 / 20 mV = 419 counts per uV.
ADC_NOISE_COUNTS = {"high": 0.090 * 419.43, "low": 0.050 * 419.43}
TIMER_TICK_US = 1  # the firmware's timestamp resolution (Timer1, 1 us)
FIRMWARE_VERSION = (1, 2, 0)  # 1.2: START while streaming keeps the stream (idempotent)
ADC_HX711 = 1

# HX711 timing (reality.md section 1; firmware-simavr.md for the firmware's figures).
CHIP_CLOCK_SPREAD = (91.0 / 80.0, 94.0 / 80.0)  # real "80 SPS" chips: 91-94 conversions/s
RATE_LOW_DIVISOR = 8.0        # RATE pin low: 10 SPS instead of 80 on the same oscillator
SETTLING_CONVERSIONS = 4      # no data for ~4 conversions after power-up (datasheet)
DOUT_PULSE_S = 75e-6          # DOUT high at an unread update (olkal/HX711_ADC #81)
READ_LATENCY_S = 21e-6        # last DOUT low -> first SCK (firmware in simavr: 20.7-21.6 us)
READ_DURATION_S = 70e-6       # 25 SCK pulses of the firmware's driver
TIMEOUT_S = 0.25              # firmware: a chip not ready this long after a read is timed out
READ_GUARD_S = 130e-6         # firmware: no read this close before a chip's next conversion

BOARD_OPTIONS = {
    "seed": "integer; selects the board build, its id and the athlete (default 0)",
    "rate_hz": "nominal sample rate in Hz (default 80, the HX711's fast mode; up to 1000); each "
               "chip runs 14-17 % fast on its own clock, as real chips do",
    "chip_hz": "the four chips' own conversion rates, e.g. 91,92,93.5,94 (default: a seeded spread)",
    "rate_pin": "high (default) or low: modules with RATE tied low convert at ~1/8 of the rate (10 SPS)",
    "speed": "board seconds streamed per wall second (default 1; e.g. 20 for demos; wall clock only)",
    "clock": "wall (default: board time = wall time x speed) or lockstep (board time advances by "
             "step_s each time the host reads and finds nothing waiting: deterministic, for tests; "
             "default from the RIG_SIM_CLOCK environment variable, else wall)",
    "step_s": "lockstep only: board seconds one empty read advances (default 0.02, or speed x 5 ms)",
    "boot_s": "bootloader silence in board s after the port is opened (DTR reset) and after a "
              "reset_s reboot, before the firmware starts its clock at 0 and says HELLO (default 1)",
    "corrupt": "probability that each byte sent is corrupted (default 0)",
    "drop": "probability that each byte sent is lost (default 0)",
    "lose_acks": "ACK packets corrupted on the way, per command: e.g. start:4 (the first four "
                 "answers to START) or start:2,stop:9; a deterministic stand-in for bad luck under "
                 "corrupt= (default none)",
    "lose_reset_hello": "1 = the HELLO a reset_s reboot sends is corrupted on the way, so the host "
                        "sees no sign of the reboot but silence (default 0)",
    "disconnect_s": "board time in s at which the board is unplugged (default never)",
    "reset_s": "board time in s (since the port was opened) at which the board reboots: silent for "
               "boot_s, then its clock and sequence restart at 0 and it says HELLO (default never)",
    "dead_cell": "cell 0..3 (FL FR BL BR) whose HX711 never answers: timed-out bit set",
    "reverse_cell": "cell 0..3 wired with reversed polarity: counts fall under load",
    "swap_cells": "two cells A-B plugged into each other's channel, e.g. 0-1",
    "saturate_cell": "cell 0..3 stuck at full scale: saturated bit set",
    "ideal": "1 = nominal gains, zero offsets, no noise or drift, four chips in step at exactly "
             "rate_hz (for exact tests; chip_hz= still applies)",
}


def _int_opt(opts, name, default=None, lo=None, hi=None):
    if name not in opts:
        return default
    raw = opts[name][-1]
    try:
        v = int(raw)
    except ValueError:
        raise ValueError(f"sim://: option {name}={raw!r} is not an integer") from None
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"sim://: option {name}={v} outside {lo}..{hi}")
    return v


def _float_opt(opts, name, default=None, lo=None, hi=None):
    if name not in opts:
        return default
    raw = opts[name][-1]
    try:
        v = float(raw)
    except ValueError:
        raise ValueError(f"sim://: option {name}={raw!r} is not a number") from None
    if not np.isfinite(v) or (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"sim://: option {name}={raw} outside {lo}..{hi}")
    return v


@dataclass
class SimBoardModel:
    """A board build: what a seed's hardware is, and how it turns forces into counts."""

    seed: int = 0
    rate_hz: float = 80.0
    ideal: bool = False
    dead_cell: int | None = None
    reverse_cell: int | None = None
    swap_cells: tuple[int, int] | None = None
    saturate_cell: int | None = None
    chip_hz: tuple[float, float, float, float] | None = None
    rate_pin: str = "high"
    positions_mm: np.ndarray = field(default_factory=lambda: NOMINAL_CELL_POSITIONS_MM.copy())
    gains_counts_per_n: np.ndarray = field(init=False)
    offsets_counts: np.ndarray = field(init=False)
    noise_counts: np.ndarray = field(init=False)
    drift_counts_per_s: np.ndarray = field(init=False)
    period_s: float = field(init=False)
    phase_s: float = field(init=False)
    chip_period_s: np.ndarray = field(init=False)
    chip_phase_s: np.ndarray = field(init=False)

    def __post_init__(self):
        rng = np.random.default_rng([self.seed, 0xB0A4D])
        self.board_id = hashlib.sha256(f"balance-rig sim board {self.seed}".encode()).digest()[:8]
        if self.ideal:
            self.gains_counts_per_n = np.full(4, NOMINAL_GAIN_COUNTS_PER_N)
            self.offsets_counts = np.zeros(4)
            self.noise_counts = np.zeros(4)
            self.drift_counts_per_s = np.zeros(4)
            self._thermal = np.zeros((4, 2))
            clocks = np.ones(4)
            phases = np.zeros(4)
        else:
            self.gains_counts_per_n = NOMINAL_GAIN_COUNTS_PER_N * (1 + np.clip(rng.normal(0, 0.02, 4), -0.04, 0.04))
            self.offsets_counts = rng.uniform(-60000, 60000, 4).round()
            # total noise per conversion at 80 SPS: the ADC's own (datasheet) plus wiring
            total_80 = NOISE_COUNTS_RMS * rng.uniform(0.8, 1.2, 4)
            wiring = np.sqrt(total_80 ** 2 - ADC_NOISE_COUNTS["high"] ** 2)
            self.noise_counts = np.hypot(wiring, ADC_NOISE_COUNTS[self.rate_pin])
            # slow creep of a few counts per minute, and a thermal wobble (amplitude, phase)
            self.drift_counts_per_s = rng.normal(0, 0.5, 4)
            self._thermal = np.column_stack([rng.uniform(20, 80, 4), rng.uniform(0, 2 * np.pi, 4)])
            # each HX711 on its own oscillator: 91-94 conversions/s at "80 SPS" (reality.md)
            clocks = rng.uniform(*CHIP_CLOCK_SPREAD, 4)
            phases = rng.uniform(0.0, 1.0, 4)
        hz = self.rate_hz * clocks / (RATE_LOW_DIVISOR if self.rate_pin == "low" else 1.0)
        if self.chip_hz is not None:
            hz = np.asarray(self.chip_hz, float)
        self.chip_period_s = 1.0 / hz
        # the first data after power-up (world time 0) once the chip has settled
        self.chip_phase_s = (SETTLING_CONVERSIONS + phases) * self.chip_period_s
        # a nominal single-clock grid (mean chip rate), for code that wants one time base
        self.period_s = float(np.mean(self.chip_period_s))
        self.phase_s = float(np.min(self.chip_phase_s))

    @classmethod
    def from_options(cls, opts: dict[str, list[str]]) -> "SimBoardModel":
        swap = None
        if "swap_cells" in opts:
            raw = opts["swap_cells"][-1]
            try:
                a, b = (int(v) for v in raw.split("-"))
                if not (0 <= a <= 3 and 0 <= b <= 3 and a != b):
                    raise ValueError
            except ValueError:
                raise ValueError(f"sim://: option swap_cells={raw!r} must be two different cells 0..3 like 0-1") from None
            swap = (a, b)
        chip_hz = None
        if "chip_hz" in opts:
            raw = opts["chip_hz"][-1]
            try:
                chip_hz = tuple(float(v) for v in raw.split(","))
                if len(chip_hz) != 4 or not all(1.0 <= v <= 2000.0 for v in chip_hz):
                    raise ValueError
            except ValueError:
                raise ValueError(f"sim://: option chip_hz={raw!r} must be four rates 1..2000 Hz like 91,92,93.5,94") from None
        rate_pin = opts.get("rate_pin", ["high"])[-1]
        if rate_pin not in ("high", "low"):
            raise ValueError(f"sim://: option rate_pin={rate_pin!r} must be high or low")
        return cls(
            chip_hz=chip_hz,
            rate_pin=rate_pin,
            seed=_int_opt(opts, "seed", 0, 0, 2**31 - 1),
            rate_hz=_float_opt(opts, "rate_hz", 80.0, 1.0, 1000.0),
            ideal=bool(_int_opt(opts, "ideal", 0, 0, 1)),
            dead_cell=_int_opt(opts, "dead_cell", None, 0, 3),
            reverse_cell=_int_opt(opts, "reverse_cell", None, 0, 3),
            swap_cells=swap,
            saturate_cell=_int_opt(opts, "saturate_cell", None, 0, 3),
        )

    @property
    def hello(self) -> wire.Hello:
        return wire.Hello(
            wire.WIRE_VERSION, FIRMWARE_VERSION, self.board_id, wire.N_CELLS,
            int(round(self.rate_hz * 1000)), ADC_HX711, 0,
        )

    def sample_times_s(self, k: np.ndarray) -> np.ndarray:
        """A nominal grid (mean chip rate): time of sample k, for code that wants one clock."""
        return self.phase_s + k * self.period_s

    def conversion_times_s(self, chip: int, k) -> np.ndarray:
        """World time (s since power-up) at which chip ``chip``'s conversion k is ready."""
        return self.chip_phase_s[chip] + np.asarray(k) * self.chip_period_s[chip]

    def counts(self, forces_n: np.ndarray, t_s: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw counts (n, 4) int32 and status (n,) uint16 for cell forces (n, 4) in newtons.

        ``t_s`` are world times, (n,) or per cell (n, 4) (each chip converts at its own
        instants); ``k`` are the conversion indices, (n,) or (n, 4), which key the noise per
        chip so it does not depend on how the samples are chunked.
        """
        n = len(k)
        t_s = np.asarray(t_s, float)
        t_s = np.broadcast_to(t_s[:, None] if t_s.ndim == 1 else t_s, (n, 4))
        gains = self.gains_counts_per_n.copy()
        if self.reverse_cell is not None:
            gains[self.reverse_cell] = -gains[self.reverse_cell]
        drift = self.drift_counts_per_s[None, :] * t_s + self._thermal[None, :, 0] * np.sin(
            2 * np.pi * t_s / 600.0 + self._thermal[None, :, 1]
        )
        value = self.offsets_counts[None, :] + drift + gains[None, :] * forces_n
        if np.any(self.noise_counts):
            value += self._noise(k) * self.noise_counts[None, :]
        raw = np.rint(value)
        sat = (raw >= wire.INT24_MAX) | (raw <= wire.INT24_MIN)
        raw = np.clip(raw, wire.INT24_MIN, wire.INT24_MAX).astype(np.int32)
        status = np.zeros(n, dtype=np.uint16)
        if self.swap_cells is not None:
            a, b = self.swap_cells
            raw[:, [a, b]] = raw[:, [b, a]]
            sat[:, [a, b]] = sat[:, [b, a]]
        if self.saturate_cell is not None:
            raw[:, self.saturate_cell] = wire.INT24_MAX
            sat[:, self.saturate_cell] = True
        for c in range(4):
            status |= (sat[:, c].astype(np.uint16) * wire.CELL_SATURATED) << (4 * c)
        if self.dead_cell is not None:
            raw[:, self.dead_cell] = 0
            status |= np.uint16(wire.CELL_TIMED_OUT << (4 * self.dead_cell))
        return raw, status

    def _noise(self, k: np.ndarray) -> np.ndarray:
        """Standard normal noise (n, 4) keyed by each chip's conversion index, in blocks of 4096."""
        k = np.asarray(k, dtype=np.int64)
        k = np.broadcast_to(k[:, None] if k.ndim == 1 else k, (len(k), 4))
        out = np.empty(k.shape)
        blocks = k // 4096
        for b in np.unique(blocks):  # one or two blocks per call
            z = np.random.default_rng([self.seed, 0x5EED, int(b)]).standard_normal((4096, 4))
            for c in range(4):
                sel = blocks[:, c] == b
                out[sel, c] = z[k[sel, c] % 4096, c]
        return out


@dataclass
class Frames:
    """Frames the firmware would send for a span of world time (see ``FrameTimer``)."""

    read_s: np.ndarray        # (n,) world time each read began (the frame time t_us)
    conv_k: np.ndarray        # (n, 4) conversion index whose value each cell sends
    conv_s: np.ndarray        # (n, 4) world time that conversion became ready
    mixed_k: np.ndarray       # (n, 4) a conversion that finished during the read, else -1
    mixed_bits: np.ndarray    # (n, 4) data bits (MSB first) already shifted out when it did


class FrameTimer:
    """The firmware's read loop over four free-running HX711s, from a START on.

    The firmware reads as soon as every live chip shows DOUT low (a new conversion); a chip
    whose unread conversion is replaced gives a ~75 us DOUT high pulse, which delays the read
    if it falls on the read instant; the firmware does not start a read within ``READ_GUARD_S``
    of a chip's next conversion (it predicts it from the chip's measured period) and waits for
    it instead. A conversion finishing during the 25-pulse read anyway replaces the word from
    the next bit on (the datasheet does not say; this is the "random single-cell spike"
    suspected in bogde/HX711 #28) and gives no ready edge. A dead chip is waited for
    ``TIMEOUT_S`` once, then flagged timed out. Unlike the firmware, which may send values
    converted before START first (with unknown ages), the model starts with conversions after
    START. One Python step per frame (~90 per board second): the simulator, not a host hot
    path.
    """

    def __init__(self, model: SimBoardModel, start_s: float):
        self.m = model
        self.start_s = start_s
        self.live = [c for c in range(4) if c != model.dead_cell]
        P, ph = model.chip_period_s, model.chip_phase_s
        # next conversion not yet consumed by a read, per chip; the first edge seen after START
        self.next_k = [max(0, math.floor((start_s - ph[c]) / P[c]) + 1) for c in range(4)]
        self.first_k = list(self.next_k)
        self.last_read_s = start_s
        self.skipped = [0, 0, 0, 0]
        self.mid_read = [0, 0, 0, 0]
        self.frames = 0

    def _t(self, c: int, k: int) -> float:
        return self.m.chip_phase_s[c] + k * self.m.chip_period_s[c]

    def _latest(self, c: int, t: float) -> int:
        return math.floor((t - self.m.chip_phase_s[c]) / self.m.chip_period_s[c])

    def until(self, until_s: float) -> Frames:
        """Frames whose read begins before ``until_s`` (and after the previous call's)."""
        reads, ks, ts, mk, mb = [], [], [], [], []
        live = self.live
        while live:
            r = max(self._t(c, self.next_k[c]) for c in live) + READ_LATENCY_S
            if self.frames == 0 and len(live) < 4:
                r = max(r, self.start_s + TIMEOUT_S)  # the dead chip times out once
            for _ in range(8):
                # an unread chip's update pulse may hold DOUT high at r; a conversion due
                # within the guard is waited for (it replaces an unread word: a pulse)
                late = [self._t(c, b) + DOUT_PULSE_S + READ_LATENCY_S for c in live
                        for b in (self._latest(c, r),) if b > self.next_k[c] and r - self._t(c, b) < DOUT_PULSE_S]
                late += [self._t(c, b + 1) + DOUT_PULSE_S + READ_LATENCY_S for c in live
                         for b in (self._latest(c, r),) if self._t(c, b + 1) - r < READ_GUARD_S]
                if not late:
                    break
                r = max(late)
            if r >= until_s:
                break
            k4, t4, m4, b4 = [-1] * 4, [math.nan] * 4, [-1] * 4, [0] * 4
            for c in live:
                b = self._latest(c, r)
                k4[c], t4[c] = b, self._t(c, b)
                self.skipped[c] += b - self.next_k[c]
                nxt = b + 1
                u = self._t(c, nxt)
                if u <= r + READ_DURATION_S:
                    m4[c], b4[c] = nxt, min(24, int((u - r) / READ_DURATION_S * 25))
                    self.mid_read[c] += 1
                    nxt += 1
                self.next_k[c] = nxt
            reads.append(r)
            ks.append(k4), ts.append(t4), mk.append(m4), mb.append(b4)
            self.last_read_s = r
            self.frames += 1
        n = len(reads)
        return Frames(np.array(reads, float), np.array(ks, np.int64).reshape(n, 4),
                      np.array(ts, float).reshape(n, 4), np.array(mk, np.int64).reshape(n, 4),
                      np.array(mb, np.int64).reshape(n, 4))

    def stats(self, now_s: float, cmd_crc_failures: int = 0, cmd_bytes_skipped: int = 0,
              streaming: bool = True) -> wire.Stats:
        """The STATS answer at world time ``now_s``: what the firmware would count."""
        chips = []
        for c in range(4):
            if c not in self.live:
                chips.append(wire.ChipStats(0, 0, 0, 1))
                continue
            last = max(self._latest(c, now_s), self.first_k[c])
            periods = last - self.first_k[c]
            span = int(round((self._t(c, last) - self._t(c, self.first_k[c])) * 1e6))
            chips.append(wire.ChipStats(periods, span, min(self.skipped[c], 0xFFFF), 0))
        return wire.Stats(0, 0, 0, 0, min(cmd_crc_failures, 0xFFFF), min(cmd_bytes_skipped, 0xFFFF),
                          int(streaming), tuple(chips))


def sample_frames(model: SimBoardModel, frames: Frames, forces_at) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw counts (n, 4), status (n,) and each cell's conversion time (n, 4) for ``frames``.

    ``forces_at(t)`` gives cell forces (m, 4) in newtons at world times t (m,). Each cell's
    value is its own conversion's, at its own instant; a conversion that finished during the
    read replaces the low bits not yet shifted out.
    """
    n = len(frames.read_s)
    k = np.where(frames.conv_k < 0, 0, frames.conv_k)
    t = np.where(np.isnan(frames.conv_s), frames.read_s[:, None], frames.conv_s)
    forces = np.empty((n, 4))
    if n:
        f_all = forces_at(t.T.reshape(-1)).reshape(4, n, 4)
        for c in range(4):
            forces[:, c] = f_all[c, :, c]
    raw, status = model.counts(forces, t, k)
    mixed = frames.mixed_k >= 0
    if np.any(mixed):
        rows, cols = np.nonzero(mixed)
        km = frames.mixed_k[rows, cols]
        tm = np.array([model.conversion_times_s(c, kk) for c, kk in zip(cols, km)])
        fm = forces_at(tm)
        f_new = forces[rows].copy()
        f_new[np.arange(len(rows)), cols] = fm[np.arange(len(rows)), cols]
        k_new = k[rows].copy()
        k_new[np.arange(len(rows)), cols] = km
        t_new = t[rows].copy()
        t_new[np.arange(len(rows)), cols] = tm
        raw_new, _ = model.counts(f_new, t_new, k_new)
        bits_left = 24 - frames.mixed_bits[rows, cols]
        low = (1 << bits_left) - 1
        old = raw[rows, cols].astype(np.int64) & 0xFFFFFF
        new = raw_new[np.arange(len(rows)), cols].astype(np.int64) & 0xFFFFFF
        word = (old & ~low & 0xFFFFFF) | (new & low)
        raw[rows, cols] = wire.signed24(word).astype(np.int32)
    return raw, status, t
