"""Hands-free step detection: when a mass has been placed, is still, and has been lifted.

``StepTracker`` is fed the board's frames as they arrive (any chunking) and walks the steps of
``rig.calibration.steps``: for the zero step it waits for a still, empty board; for each loaded
step it waits for a new load of about the step's mass, then for ``measure_s`` of still load
(the measured window), then for the mass to be lifted and the board to be still and empty
again (the empty window after it, used to correct the placement for drift). All windows are in
board time. Events are reported through ``on_event(kind, step, info)``; a callback may raise to
stop the procedure (wiring faults). The searches are vectorised over samples; Python only
loops over state changes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rig.board.wire import CELL_SATURATED, CELL_TIMED_OUT
from rig.calibration import steps as S
from rig.calibration.model import STANDARD_GRAVITY_M_S2
from rig.errors import CalibrationError
from rig.units import NOMINAL_GAIN_COUNTS_PER_N

EMPTY_SD_N = 0.5          # per-cell (zero) or total (empty) SD below which an empty board is still
LOAD_SD_N = 0.5           # total-force SD below which a load is still ...
LOAD_SD_FRACTION = 0.0025  # ... or this fraction of its weight, whichever is larger
ON_FRACTION = 0.5         # a load counts as placed above this fraction of the expected weight
OFF_FRACTION = 0.1        # and as lifted below this fraction (or OFF_MIN_N)
OFF_MIN_N = 5.0
SETTLE_S = 1.0            # a measured window starts at least this long after the load arrived


@dataclass
class Window:
    """A still stretch of data: sample indices [i0, i1), board times, per-channel statistics."""

    i0: int
    i1: int
    t0_s: float
    t1_s: float
    mean_counts: np.ndarray   # (4,) by channel
    sd_counts: np.ndarray     # (4,)
    timed_out: np.ndarray     # (4,) bool, any sample
    saturated: np.ndarray     # (4,) bool, any sample

    @property
    def t_mid_s(self) -> float:
        return 0.5 * (self.t0_s + self.t1_s)


@dataclass
class StepResult:
    step: S.Step
    window: Window                      # the measured window (the empty window for zero)
    empty_before: Window | None = None
    empty_after: Window | None = None
    t_on_s: float | None = None

    def offsets_counts(self) -> np.ndarray:
        """Per-channel zero for this placement: the empty windows around it, interpolated."""
        b, a = self.empty_before, self.empty_after
        if a is None:
            return b.mean_counts
        f = (self.window.t_mid_s - b.t_mid_s) / max(a.t_mid_s - b.t_mid_s, 1e-9)
        return b.mean_counts + f * (a.mean_counts - b.mean_counts)

    def delta_counts(self) -> np.ndarray:
        """Mean load counts by channel (offset-corrected)."""
        return self.window.mean_counts - self.offsets_counts()


def _rolling_mean_sd(x: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD of every window x[k:k+w] along axis 0 (len(x) - w + 1 rows)."""
    x = np.asarray(x, dtype=np.float64)
    # subtract the first value so the sums stay small and the SD numerically clean
    x0 = x[:1]
    xc = x - x0
    c1 = np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(xc, axis=0)])
    c2 = np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(xc * xc, axis=0)])
    s1 = c1[w:] - c1[:-w]
    s2 = c2[w:] - c2[:-w]
    mean = s1 / w
    var = np.maximum(s2 / w - mean * mean, 0.0)
    return mean + x0, np.sqrt(var)


def _rolling_count(flag: np.ndarray, w: int) -> np.ndarray:
    c = np.concatenate([[0], np.cumsum(flag.astype(np.int64))])
    return c[w:] - c[:-w]


class StepTracker:
    """Walks ``steps`` through the incoming frames. ``done`` once every step is measured."""

    def __init__(self, steps: list[S.Step], on_event=None, *, nominal_gain: float = NOMINAL_GAIN_COUNTS_PER_N,
                 measure_s: float = S.MEASURE_S, noise_s: float = S.NOISE_S, zero_s: float = S.ZERO_S,
                 empty_s: float = S.EMPTY_S, step_timeout_s: float = 300.0,
                 gravity_m_s2: float = STANDARD_GRAVITY_M_S2):
        self.steps = steps
        self.on_event = on_event or (lambda kind, step, info: None)
        self.gain = nominal_gain
        self.measure_s, self.noise_s, self.zero_s, self.empty_s = measure_s, noise_s, zero_s, empty_s
        self.step_timeout_s = step_timeout_s
        self.g = gravity_m_s2
        self.t = np.zeros(0)
        self.raw = np.zeros((0, 4))
        self.status = np.zeros(0, dtype=np.uint16)
        self.results: list[StepResult] = []
        self.empties: list[Window] = []
        self.k = 0                 # current step index
        self.phase = "start"
        self.cursor = 0            # sample index the current phase searches from
        self.phase_t0: float | None = None
        self.zero: np.ndarray | None = None
        self._pending: StepResult | None = None
        self._announced = False

    @property
    def done(self) -> bool:
        return self.k >= len(self.steps)

    @property
    def step(self) -> S.Step:
        return self.steps[self.k]

    # -- input -------------------------------------------------------------------------------
    def feed(self, t_s, raw, status) -> None:
        """Append frames (board time s, raw counts (n, 4), status (n,)) and advance."""
        if len(t_s) == 0:
            return
        self.t = np.concatenate([self.t, np.asarray(t_s, dtype=np.float64)])
        self.raw = np.concatenate([self.raw, np.asarray(raw, dtype=np.float64)])
        self.status = np.concatenate([self.status, np.asarray(status, dtype=np.uint16)])
        while not self.done and self._advance():
            pass
        if not self.done and self.phase_t0 is not None and self.t[-1] - self.phase_t0 > self.step_timeout_s:
            raise CalibrationError(self._timeout_message())

    def feed_batch(self, batch) -> None:
        self.feed(batch.t_s, batch.raw, batch.status)

    # -- helpers -----------------------------------------------------------------------------
    def _samples(self, seconds: float) -> int:
        n = len(self.t)
        dt = float(np.median(np.diff(self.t[-200:]))) if n > 2 else 1 / 80
        return max(2, int(np.ceil(seconds / max(dt, 1e-4))))

    def _flags(self, i0, i1, bit) -> np.ndarray:
        shifts = np.arange(4, dtype=np.uint16) * 4
        return (((self.status[i0:i1, None] >> shifts) & bit) != 0).any(axis=0)

    def _window(self, i0: int, i1: int) -> Window:
        r = self.raw[i0:i1]
        return Window(i0, i1, float(self.t[i0]), float(self.t[i1 - 1]), r.mean(axis=0), r.std(axis=0),
                      self._flags(i0, i1, CELL_TIMED_OUT), self._flags(i0, i1, CELL_SATURATED))

    def _load_n(self, i0: int) -> np.ndarray:
        """Total load (N, nominal gain) from sample i0 on; |counts| so a reversed cell still adds."""
        return np.abs(self.raw[i0:] - self.zero).sum(axis=1) / self.gain

    def _set_phase(self, phase: str, cursor: int):
        self.phase, self.cursor = phase, cursor
        self.phase_t0 = float(self.t[min(cursor, len(self.t) - 1)])

    def _timeout_message(self) -> str:
        st = self.step
        where = f"step {self.k + 1}/{len(self.steps)} ({st.describe()})"
        t = f"{self.t[-1]:.1f} s board time"
        if self.phase == "zero":
            return f"{where}: the empty board never held still for {self.zero_s:g} s (at {t}): check nothing touches it"
        if self.phase == "wait_on":
            return f"{where}: no new load of about {st.mass_kg:g} kg within {self.step_timeout_s:g} s (at {t})"
        if self.phase == "wait_still":
            return f"{where}: the load never held still for {self._measure_len(st):g} s (at {t})"
        return f"{where}: the board was not lifted and still-empty within {self.step_timeout_s:g} s (at {t})"

    def _measure_len(self, st: S.Step) -> float:
        return self.noise_s if st.kind == S.NOISE else self.measure_s

    # -- the state machine -------------------------------------------------------------------
    def _advance(self) -> bool:
        """One state change if the data allows it; False when more data is needed."""
        n = len(self.t)
        st = self.step
        if self.phase == "start":
            self._set_phase("zero", 0)
            self.on_event("step", st, {"index": self.k, "count": len(self.steps)})
            return True
        if self.phase == "zero":
            i = self.cursor
            first = min(n, i + self._samples(0.5))
            if first - i >= 2 and not self._announced:
                self._announced = True
                self.on_event("status", st, {"window": self._window(i, first)})
            w = self._samples(self.zero_s)
            if n - i < w:
                return False
            _, sd = _rolling_mean_sd(self.raw[i:], w)
            ok = np.flatnonzero((sd < EMPTY_SD_N * self.gain).all(axis=1))
            if len(ok) == 0:
                self.cursor = max(i, n - w)  # keep searching from the newest full window
                return False
            j = i + int(ok[0])
            win = self._window(j, j + w)
            self.zero = win.mean_counts
            self.empties.append(win)
            res = StepResult(st, win, win, win)
            self.results.append(res)
            self.on_event("measured", st, {"result": res})
            self._next_step(j + w)
            return True
        weight = st.mass_kg * self.g
        on_thr = ON_FRACTION * weight
        off_thr = max(OFF_FRACTION * weight, OFF_MIN_N)
        if self.phase == "wait_on":
            load = self._load_n(self.cursor)
            hit = np.flatnonzero(load > on_thr)
            if len(hit) == 0:
                self.cursor = n
                return False
            j = self.cursor + int(hit[0])
            self._pending = StepResult(st, None, self.empties[-1], None, float(self.t[j]))
            self.on_event("placed", st, {"t_s": float(self.t[j]), "load_n": float(load[hit[0]])})
            self._set_phase("wait_still", j)
            return True
        if self.phase == "wait_still":
            i = self.cursor
            load = self._load_n(i)
            w = self._samples(self._measure_len(st))
            sd_thr = max(LOAD_SD_N, LOAD_SD_FRACTION * weight) * (2.0 if st.kind == S.NOISE else 1.0)
            lifted = np.flatnonzero(load < off_thr)
            if n - i >= w:
                _, sd = _rolling_mean_sd(load, w)
                low = _rolling_count(load < on_thr, w)
                ok = np.flatnonzero((sd < sd_thr) & (low == 0))
                ok = ok[ok >= self._samples(SETTLE_S)]  # hands and ringing die out first
            else:
                ok = np.zeros(0, int)
            first_ok = i + int(ok[0]) if len(ok) else None
            first_lift = i + int(lifted[0]) if len(lifted) else None
            if first_lift is not None and (first_ok is None or first_lift < first_ok):
                self.on_event("lifted_early", st, {"t_s": float(self.t[first_lift])})
                self._set_phase("wait_on", first_lift)
                return True
            if first_ok is None:
                return False
            self._pending.window = self._window(first_ok, first_ok + w)
            self.on_event("measured", st, {"result": self._pending})
            self._set_phase("wait_off", first_ok + w)
            return True
        if self.phase == "wait_off":
            load = self._load_n(self.cursor)
            hit = np.flatnonzero(load < off_thr)
            if len(hit) == 0:
                self.cursor = n
                return False
            j = self.cursor + int(hit[0])
            self.on_event("lifted", st, {"t_s": float(self.t[j])})
            self._set_phase("wait_empty", j)
            return True
        if self.phase == "wait_empty":
            i = self.cursor
            w = self._samples(self.empty_s)
            if n - i < w:
                return False
            load = self._load_n(i)
            _, sd = _rolling_mean_sd(load, w)
            high = _rolling_count(load > off_thr, w)
            ok = np.flatnonzero((sd < EMPTY_SD_N) & (high == 0))
            if len(ok) == 0:
                return False
            j = i + int(ok[0])
            win = self._window(j, j + w)
            self.empties.append(win)
            self._pending.empty_after = win
            self.results.append(self._pending)
            self.on_event("done", st, {"result": self._pending})
            self._pending = None
            self._next_step(j + w)
            return True
        raise AssertionError(self.phase)

    def _next_step(self, cursor: int):
        self.k += 1
        if self.done:
            self.phase = "done"
            return
        self._set_phase("wait_on", cursor)
        self.on_event("step", self.step, {"index": self.k, "count": len(self.steps)})
