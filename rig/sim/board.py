"""The simulated board's hardware: geometry, four load cells with their HX711s, the clock.

Each seed builds its own board, like each home-made board differs: unequal cell gains and
offsets, noise, slow drift, a sample clock that runs a few per cent off nominal (HX711s on
their internal oscillators run near, not at, 80 Hz), and on request wiring faults. The model is
deterministic in board time: the same seed gives the same counts for the same sample index
however the samples are requested.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from rig.board import wire

# Nominal build (documented in calibration/nominal.toml and docs/CONTRACTS.md): cells at the
# corners of a 400 x 400 mm top, 20 mm in from the edges. Order FL, FR, BL, BR.
NOMINAL_CELL_POSITIONS_MM = np.array(
    [[-180.0, 180.0], [180.0, 180.0], [-180.0, -180.0], [180.0, -180.0]]
)
# 100 kg full-bridge cells at 1 mV/V, 4.3 V excitation, HX711 gain 128 (+-20 mV full scale):
# 4.3 mV / 980.665 N * 8388608 / 20 mV = 1839 counts per newton.
NOMINAL_GAIN_COUNTS_PER_N = 1839.0
NOISE_COUNTS_RMS = 150.0  # ~0.08 N per cell: HX711 at 80 SPS plus wiring, typical of DIY builds
TIMER_TICK_US = 1  # the firmware's timestamp resolution (Timer1, 1 us)
FIRMWARE_VERSION = (1, 0, 0)
ADC_HX711 = 1

BOARD_OPTIONS = {
    "seed": "integer; selects the board build, its id and the athlete (default 0)",
    "rate_hz": "nominal sample rate in Hz (default 80, the HX711's fast mode; up to 1000)",
    "speed": "board seconds streamed per wall second (default 1; e.g. 20 for demos; wall clock only)",
    "clock": "wall (default: board time = wall time x speed) or lockstep (board time advances by "
             "step_s each time the host reads and finds nothing waiting: deterministic, for tests; "
             "default from the RIG_SIM_CLOCK environment variable, else wall)",
    "step_s": "lockstep only: board seconds one empty read advances (default 0.02, or speed x 5 ms)",
    "boot_s": "bootloader silence in board s after the port is opened (DTR reset) and after a "
              "reset_s reboot, before the firmware starts its clock at 0 and says HELLO (default 1)",
    "corrupt": "probability that each byte sent is corrupted (default 0)",
    "drop": "probability that each byte sent is lost (default 0)",
    "disconnect_s": "board time in s at which the board is unplugged (default never)",
    "reset_s": "board time in s (since the port was opened) at which the board reboots: silent for "
               "boot_s, then its clock and sequence restart at 0 and it says HELLO (default never)",
    "dead_cell": "cell 0..3 (FL FR BL BR) whose HX711 never answers: timed-out bit set",
    "reverse_cell": "cell 0..3 wired with reversed polarity: counts fall under load",
    "swap_cells": "two cells A-B plugged into each other's channel, e.g. 0-1",
    "saturate_cell": "cell 0..3 stuck at full scale: saturated bit set",
    "ideal": "1 = nominal gains, zero offsets, no noise or drift (for exact tests)",
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
    positions_mm: np.ndarray = field(default_factory=lambda: NOMINAL_CELL_POSITIONS_MM.copy())
    gains_counts_per_n: np.ndarray = field(init=False)
    offsets_counts: np.ndarray = field(init=False)
    noise_counts: np.ndarray = field(init=False)
    drift_counts_per_s: np.ndarray = field(init=False)
    period_s: float = field(init=False)
    phase_s: float = field(init=False)

    def __post_init__(self):
        rng = np.random.default_rng([self.seed, 0xB0A4D])
        self.board_id = hashlib.sha256(f"balance-rig sim board {self.seed}".encode()).digest()[:8]
        if self.ideal:
            self.gains_counts_per_n = np.full(4, NOMINAL_GAIN_COUNTS_PER_N)
            self.offsets_counts = np.zeros(4)
            self.noise_counts = np.zeros(4)
            self.drift_counts_per_s = np.zeros(4)
            self._thermal = np.zeros((4, 2))
            clock = 1.0
        else:
            self.gains_counts_per_n = NOMINAL_GAIN_COUNTS_PER_N * (1 + np.clip(rng.normal(0, 0.02, 4), -0.04, 0.04))
            self.offsets_counts = rng.uniform(-60000, 60000, 4).round()
            self.noise_counts = NOISE_COUNTS_RMS * rng.uniform(0.8, 1.2, 4)
            # slow creep of a few counts per minute, and a thermal wobble (amplitude, phase)
            self.drift_counts_per_s = rng.normal(0, 0.5, 4)
            self._thermal = np.column_stack([rng.uniform(20, 80, 4), rng.uniform(0, 2 * np.pi, 4)])
            # HX711 oscillators run fast: 80 SPS nominal is typically 80-94 Hz (science.md 6.3)
            clock = rng.uniform(1.0, 1.06) if self.rate_hz <= 100 else 1.0
        self.period_s = 1.0 / (self.rate_hz * clock)
        self.phase_s = 0.003 + (self.seed % 7) * 0.0011

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
        return cls(
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
        """World time of ADC conversion k (free-running since power-up)."""
        return self.phase_s + k * self.period_s

    def counts(self, forces_n: np.ndarray, t_s: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw counts (n, 4) int32 and status (n,) uint16 for cell forces (n, 4) in newtons.

        ``k`` are the conversion indices, which key the noise so it does not depend on how
        the samples are chunked.
        """
        n = len(k)
        gains = self.gains_counts_per_n.copy()
        if self.reverse_cell is not None:
            gains[self.reverse_cell] = -gains[self.reverse_cell]
        drift = self.drift_counts_per_s[None, :] * t_s[:, None] + self._thermal[None, :, 0] * np.sin(
            2 * np.pi * t_s[:, None] / 600.0 + self._thermal[None, :, 1]
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
        """Standard normal noise (n, 4) keyed by conversion index, in blocks of 4096."""
        out = np.empty((len(k), 4))
        blocks = k // 4096
        for b in np.unique(blocks):  # one or two blocks per call
            sel = blocks == b
            z = np.random.default_rng([self.seed, 0x5EED, int(b)]).standard_normal((4096, 4))
            out[sel] = z[k[sel] % 4096]
        return out
