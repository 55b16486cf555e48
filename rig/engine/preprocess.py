"""COP time series onto a uniform grid, low-passed, centred: the ``Trace`` every measure uses.

Defaults follow DESIGN.md and science.md §1.2 / §7.1:

1. Samples with undefined COP (nobody on the board, NaN) at the start and end are trimmed
   (stepping on and off). Undefined samples *inside* the trial are an error, never bridged:
   somebody stepped off.
2. Board timestamps are irregular (HX711s free-run, frames get lost). The trace is resampled
   onto a uniform grid by window averaging, not by interpolation (Audiffren & Contal 2016,
   Sensors 16:1208: interpolation "should definitely be avoided" for jittery low-rate boards).
   Each input sample is taken to hold its value from the midpoint with its predecessor to the
   midpoint with its successor; each output sample is the time-average of that step function
   over a window of one output period centred on the grid time (exact, via the running
   integral, so fully vectorised). A uniform input on the same grid comes back unchanged.
   Steps in the timestamps longer than ``gap_factor`` times the typical period are gaps: they
   are listed in ``processing["gaps"]``, and any longer than ``max_gap_s`` is an error.
3. Zero-lag Butterworth low-pass on the COP, default 10 Hz (Ruhe et al. 2010), designed as
   2nd order and run forward and backward: effective 4th order, -6 dB at the cut-off
   (Winter's biomechanics convention). The total force ``fz_n`` is resampled but never
   filtered (touch-down and landing detection need its edges).
4. Mean removal: the trial mean is subtracted and kept in ``Trace.origin_mm`` so that
   board-frame positions (foot boundaries) stay available.

Every option, and every fact found on the way (input rate, jitter, gaps, trimmed time), is
recorded in ``Trace.processing``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np

from rig.engine import native
from rig.errors import AnalysisError


@dataclass(frozen=True)
class PreprocessOptions:
    """How a raw COP series becomes a Trace. ``none()`` leaves the trace exactly as given."""

    preset: str = "default"
    trim_undefined: bool = True       # drop leading/trailing samples without COP
    resample: bool = True             # window-average onto a uniform grid
    fs_hz: float | None = None        # output rate (Hz); None: the board's typical rate
    gap_factor: float = 1.9           # a timestamp step > gap_factor * typical period is a gap
    max_gap_s: float = 0.1            # longer gaps are an error when resampling
    lowpass_hz: float | None = 10.0   # Butterworth cut-off (Hz); None: no filter
    filter_order: int = 2             # design order; applied forward-backward (doubles it)
    remove_mean: bool = True          # subtract the trial mean (kept in Trace.origin_mm)

    @classmethod
    def default(cls) -> "PreprocessOptions":
        return cls()

    @classmethod
    def none(cls, fs_hz: float | None = None) -> "PreprocessOptions":
        """The trace as given: no trimming, resampling, filtering or mean removal."""
        return cls(preset="none", trim_undefined=False, resample=False, fs_hz=fs_hz,
                   lowpass_hz=None, remove_mean=False)

    @classmethod
    def named(cls, name: str) -> "PreprocessOptions":
        if name == "default":
            return cls.default()
        if name == "none":
            return cls.none()
        raise ValueError(f"unknown preprocessing preset {name!r} (expected 'none' or 'default')")


@dataclass
class Trace:
    """A COP trial ready for measures.

    t_s:       sample times (s), uniform at ``fs_hz`` unless the preset was 'none'.
    cop_x_mm:  COP medio-lateral (+ right), mm, relative to ``origin_mm[0]``.
    cop_y_mm:  COP antero-posterior (+ forward), mm, relative to ``origin_mm[1]``.
    fz_n:      total vertical force (N), or None when the source had none. Never filtered.
    fs_hz:     sample rate (Hz).
    processing: every preprocessing option and finding (JSON-serialisable).
    origin_mm: board-frame position (mm) of this trace's (0, 0): the removed mean, or (0, 0).
    """

    t_s: np.ndarray
    cop_x_mm: np.ndarray
    cop_y_mm: np.ndarray
    fz_n: np.ndarray | None
    fs_hz: float
    processing: dict = field(default_factory=dict)
    origin_mm: tuple[float, float] = (0.0, 0.0)

    @property
    def n(self) -> int:
        return int(self.cop_x_mm.shape[0])

    @property
    def duration_s(self) -> float:
        """Trial duration taken as n / fs (the convention of Prieto measures, science.md §1.3)."""
        return self.n / self.fs_hz

    def board_xy_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """COP in the board frame (mm), i.e. with the removed mean added back."""
        return self.cop_x_mm + self.origin_mm[0], self.cop_y_mm + self.origin_mm[1]

    @classmethod
    def as_given(cls, t_s, cop_x_mm, cop_y_mm, fz_n=None, fs_hz=None) -> "Trace":
        """A trace exactly as given (the 'none' preset)."""
        return preprocess(t_s, cop_x_mm, cop_y_mm, fz_n, PreprocessOptions.none(fs_hz))


def _as_1d(name: str, a, n: int | None = None) -> np.ndarray:
    a = np.array(a, dtype=np.float64)        # a copy: the Trace never aliases caller arrays
    if a.ndim != 1:
        raise AnalysisError(f"{name} must be one-dimensional, got shape {a.shape}")
    if n is not None and a.shape[0] != n:
        raise AnalysisError(f"{name} has {a.shape[0]} samples, t_s has {n}")
    return a


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Start and stop (exclusive) indices of the runs of True in ``mask``."""
    d = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def window_average(t_s: np.ndarray, values: np.ndarray, grid_s: np.ndarray,
                   window_s: float) -> np.ndarray:
    """Time-average of a sampled signal over windows centred on ``grid_s``.

    Sample i is taken to hold from the midpoint with sample i-1 to the midpoint with sample
    i+1 (the first and last extend half a neighbouring step outwards). The average over
    [g - w/2, g + w/2] is computed from the running integral of that step function, which is
    piecewise linear, so ``np.interp`` gives it exactly. ``values`` may be (n,) or (n, k).
    ``grid_s`` is in increasing order. In the compiled kernel when this install has it (the
    same sums and interpolation, the same numbers), else in numpy.
    """
    t = t_s
    kernels = native.KERNELS
    if kernels is not None and t.shape[0] >= 2:           # the same steps in C (tested equal)
        v = np.ascontiguousarray(values if values.ndim == 2 else values[:, None], dtype=np.float64)
        g = np.ascontiguousarray(grid_s, dtype=np.float64)
        out = np.empty((g.shape[0], v.shape[1]))
        kernels.window_average(np.ascontiguousarray(t, dtype=np.float64), v, v.shape[0], v.shape[1],
                               g, g.shape[0], float(window_s), out)
        return out if values.ndim == 2 else out[:, 0]
    mid = 0.5 * (t[1:] + t[:-1])
    edges = np.concatenate(([t[0] - 0.5 * (t[1] - t[0])], mid, [t[-1] + 0.5 * (t[-1] - t[-2])]))
    v = values if values.ndim == 2 else values[:, None]
    widths = np.diff(edges)
    cum = np.vstack([np.zeros((1, v.shape[1])), np.cumsum(v * widths[:, None], axis=0)])
    lo = np.clip(grid_s - 0.5 * window_s, edges[0], edges[-1])
    hi = np.clip(grid_s + 0.5 * window_s, edges[0], edges[-1])
    out = np.empty((grid_s.shape[0], v.shape[1]))
    for j in range(v.shape[1]):           # loop over channels (2-3), not samples
        out[:, j] = (np.interp(hi, edges, cum[:, j]) - np.interp(lo, edges, cum[:, j])) / (hi - lo)
    return out if values.ndim == 2 else out[:, 0]


@lru_cache(maxsize=64)
def butter_lowpass_sections(order: int, cutoff_hz: float, fs_hz: float) -> tuple:
    """Digital Butterworth low-pass of ``order`` as cascaded sections ((b0, b1, b2),
    (a1, a2)) with a0 = 1 and unit gain at DC: the analog prototype's poles, pre-warped,
    through the bilinear transform (the design of ``scipy.signal.butter``, without importing
    scipy.signal, which pulls scipy.stats: about 0.5 s of start-up). Cached: a batch designs
    each filter once."""
    warped = 4.0 * np.tan(np.pi * (2.0 * cutoff_hz / fs_hz) / 2.0)   # fs = 2 normalisation
    k = np.arange(-order + 1, order, 2)
    poles = -np.exp(1j * np.pi * k / (2 * order)) * warped               # analog, left half-plane
    zpoles = (4.0 + poles) / (4.0 - poles)                               # bilinear, fs = 2
    sections = []
    for p in zpoles[np.imag(zpoles) > 1e-14]:                           # one of each conjugate pair
        a1, a2 = -2.0 * p.real, abs(p) ** 2
        g = (1.0 + a1 + a2) / 4.0                                       # unit DC gain, zeros at -1
        sections.append(((g, 2.0 * g, g), (a1, a2)))
    for p in zpoles[np.abs(np.imag(zpoles)) <= 1e-14]:                  # the real pole (odd order)
        a1 = -p.real
        g = (1.0 + a1) / 2.0
        sections.append(((g, g, 0.0), (a1, 0.0)))
    return tuple(sections)


#: Samples per block of the blocked IIR solution (``_section_forward``).
_IIR_BLOCK = 64


@lru_cache(maxsize=64)
def _block_matrices(a1: float, a2: float, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For y[i] = v[i] - a1 y[i-1] - a2 y[i-2] over blocks of ``block`` samples: T, the
    block's zero-state response to v (lower-triangular Toeplitz of the impulse response h);
    G (block, 2), its response to the two outputs before it; M (2, 2), how those two carry
    to the block's last two outputs. Cached per filter."""
    h = np.zeros(block + 1)                  # h[i] at index i + 1; h[-1] = 0
    h[1] = 1.0
    for i in range(1, block):                # ``block`` steps, once per filter design
        h[i + 1] = -a1 * h[i] - a2 * h[i - 1]
    lag = np.arange(block)[:, None] - np.arange(block)[None, :]
    t = np.where(lag >= 0, h[1:][np.clip(lag, 0, None)], 0.0)
    g = np.column_stack([-(a1 * h[1:] + a2 * h[:-1]), -a2 * h[1:]])
    m = np.array([g[-1], g[-2]])
    for arr in (t, g, m):
        arr.flags.writeable = False
    return t, g, m


def _section_forward(b, a, x: np.ndarray) -> np.ndarray:
    """One section run forward over the columns of x (n, k), starting in the steady state of
    its first sample (as scipy's sosfilt with zi = sosfilt_zi * x[0]).

    The recursion y[i] = v[i] - a1 y[i-1] - a2 y[i-2], v the FIR part, is solved in blocks of
    ``_IIR_BLOCK`` samples: every block's zero-state response is one matrix product with the
    impulse-response matrix, the outputs carried from block to block follow the 2-state
    recurrence S_b = Z_b + M S_(b-1), solved by a prefix scan (doubling, stopped once
    ||M^d|| < 1e-18: the filter's memory is then below rounding), and each block adds its
    response to the carried state. No Python loop per sample and no scipy import; equal to
    the sample-by-sample recursion to rounding (tested against scipy to 1e-10).
    """
    n, k = x.shape
    x0 = x[0]
    v = b[0] * x
    v[1:] += b[1] * x[:-1]
    v[0] += b[1] * x0
    if b[2]:
        v[2:] += b[2] * x[:-2]
        v[:2] += b[2] * x0
    # steady state before the first sample: y[-1] = y[-2] = x0 (unit DC gain)
    v[0] -= (a[0] + a[1]) * x0
    if n > 1:
        v[1] -= a[1] * x0
    t, g, m = _block_matrices(float(a[0]), float(a[1]), _IIR_BLOCK)
    nb = -(-n // _IIR_BLOCK)
    blocks = np.zeros((nb * _IIR_BLOCK, k))
    blocks[:n] = v
    z = np.matmul(t, blocks.reshape(nb, _IIR_BLOCK, k))        # zero-state, per block
    s = np.stack([z[:, -1, :], z[:, -2, :]], axis=1)          # (nb, 2, k) block end states
    d = 1
    while d < nb and np.abs(m).max() > 1e-18:
        s[d:] += np.matmul(m, s[:-d])
        m = m @ m
        d *= 2
    z[1:] += np.matmul(g, s[:-1])                             # the state entering each block
    return z.reshape(nb * _IIR_BLOCK, k)[:n]


def _sections_forward(sections, y: np.ndarray) -> np.ndarray:
    """The cascade of sections run forward over the columns of y (n, k), each from the steady
    state of its first sample: in the compiled kernel when this install has it (in place,
    sample by sample), else ``_section_forward`` (blocked numpy; equal to rounding)."""
    kernels = native.KERNELS
    if kernels is None:
        for b, a in sections:
            y = _section_forward(b, a, y)
        return y
    y = np.ascontiguousarray(y, dtype=np.float64)
    for b, a in sections:
        kernels.iir_section(y, y.shape[0], y.shape[1], *map(float, b), *map(float, a))
    return y


def lowpass(x: np.ndarray, fs_hz: float, cutoff_hz: float, order: int = 2) -> np.ndarray:
    """Zero-lag Butterworth low-pass: ``order`` design run forward and backward (no scipy).

    The effective order is 2*order and the gain at ``cutoff_hz`` is -6 dB. Same as
    ``scipy.signal.sosfiltfilt(butter(order, cutoff_hz, fs=fs_hz, output="sos"), x)`` (odd
    extension of 3 (2 sections + 1) samples, steady-state initial conditions) to rounding
    (tested to 1e-10); ``x`` is (n,) or (k, n) (all rows filtered at once).
    """
    if not 0 < cutoff_hz < 0.5 * fs_hz:
        raise AnalysisError(
            f"low-pass cut-off {cutoff_hz:g} Hz needs a sample rate above {2 * cutoff_hz:g} Hz; "
            f"this trace is {fs_hz:.3g} Hz")
    sections = butter_lowpass_sections(int(order), float(cutoff_hz), float(fs_hz))
    padlen = 3 * (2 * len(sections) + 1 - (order % 2))
    x = np.asarray(x, dtype=np.float64)
    if x.shape[-1] <= padlen:
        raise AnalysisError(f"trace too short to filter: {x.shape[-1]} samples, need more than {padlen}")
    cols = np.atleast_2d(x).T                                     # (n, k)
    ext = np.concatenate([2 * cols[0] - cols[padlen:0:-1], cols,
                          2 * cols[-1] - cols[-2:-(padlen + 2):-1]])
    y = _sections_forward(sections, ext)
    y = _sections_forward(sections, y[::-1].copy())
    y = y[::-1][padlen:-padlen].T
    return y if x.ndim == 2 else y[0]


def preprocess(t_s, cop_x_mm, cop_y_mm, fz_n=None,
               options: PreprocessOptions | None = None) -> Trace:
    """Turn a raw COP series (board time, mm, NaN where undefined) into a ``Trace``.

    See the module docstring for the steps. Raises ``AnalysisError`` (one line, with times)
    for traces that cannot be processed: nobody on the board, COP undefined inside the
    trial, timestamps not increasing, gaps longer than ``max_gap_s``, too short to filter.
    """
    opt = options or PreprocessOptions()
    t = _as_1d("t_s", t_s)
    n_in = t.shape[0]
    x = _as_1d("cop_x_mm", cop_x_mm, n_in)
    y = _as_1d("cop_y_mm", cop_y_mm, n_in)
    fz = None if fz_n is None else _as_1d("fz_n", fz_n, n_in)
    if n_in < 2:
        raise AnalysisError(f"trace too short: {n_in} sample(s)")
    if not np.all(np.isfinite(t)):
        i = int(np.flatnonzero(~np.isfinite(t))[0])
        raise AnalysisError(f"time t_s is not finite at sample {i}")
    dt = np.diff(t)
    if np.any(dt <= 0):
        i = int(np.flatnonzero(dt <= 0)[0])
        raise AnalysisError(f"time not increasing at sample {i + 1} (t = {t[i + 1]:.6g} s "
                            f"after {t[i]:.6g} s)")
    typical_dt = float(np.median(dt))
    # the board's rate, to 9 significant digits: timestamps printed in decimal (0.01 s steps)
    # give 100.00000000000213 Hz otherwise; the rounding is below 1e-9 relative
    est_fs = float(f"{1.0 / typical_dt:.9g}")
    proc: dict = {"preset": opt.preset, "options": asdict(opt), "n_input": n_in,
                  "input_rate_hz": est_fs,
                  "input_jitter_ms": float(np.std(dt) * 1e3)}

    defined = np.isfinite(x) & np.isfinite(y)
    if not defined.any():
        raise AnalysisError(f"nobody on the board: COP undefined in all {n_in} samples")
    if opt.trim_undefined:
        first, last = int(np.argmax(defined)), int(n_in - 1 - np.argmax(defined[::-1]))
        proc["trimmed_s"] = [float(t[first] - t[0]), float(t[-1] - t[last])]
        sl = slice(first, last + 1)
        t, x, y, defined = t[sl], x[sl], y[sl], defined[sl]
        fz = None if fz is None else fz[sl]
        dt = np.diff(t)
    holes = _runs(~defined)
    if holes and (opt.resample or opt.lowpass_hz):
        a, b = holes[0]
        raise AnalysisError(
            f"COP undefined (force below threshold) from t = {t[a]:.3f} s to {t[b - 1]:.3f} s "
            f"inside the trial ({len(holes)} such run(s)): somebody left the board")

    gap_idx = np.flatnonzero(dt > opt.gap_factor * typical_dt)
    proc["gaps"] = [[float(t[i]), float(dt[i])] for i in gap_idx[:100]]
    proc["n_gaps"] = int(gap_idx.size)
    proc["gap_total_s"] = float(np.sum(dt[gap_idx] - typical_dt)) if gap_idx.size else 0.0

    if opt.resample:
        if t.shape[0] < 2:
            raise AnalysisError("trace too short to resample: fewer than 2 samples with COP")
        long = gap_idx[dt[gap_idx] > opt.max_gap_s]
        if long.size:
            i = int(long[0])
            raise AnalysisError(
                f"gap of {dt[i]:.3f} s in the board timestamps at t = {t[i]:.3f} s "
                f"(longer than max_gap_s = {opt.max_gap_s:g} s; frames were lost)")
        fs = float(opt.fs_hz or est_fs)
        n_out = int(np.floor((t[-1] - t[0]) * fs + 1e-9)) + 1
        grid = t[0] + np.arange(n_out) / fs
        cols = [x, y] if fz is None else [x, y, fz]
        res = window_average(t, np.column_stack(cols), grid, 1.0 / fs)
        t, x, y = grid, res[:, 0], res[:, 1]
        fz = None if fz is None else res[:, 2]
        proc["resample"] = {"method": "window average of sample-and-hold (SWARII-like)",
                            "fs_hz": fs, "window_s": 1.0 / fs}
    else:
        fs = float(opt.fs_hz or est_fs)
        proc["resample"] = None

    if opt.lowpass_hz:
        x, y = lowpass(np.vstack([x, y]), fs, opt.lowpass_hz, opt.filter_order)
        proc["lowpass"] = {"type": "butterworth", "cutoff_hz": float(opt.lowpass_hz),
                           "design_order": opt.filter_order, "passes": "forward-backward",
                           "effective_order": 2 * opt.filter_order, "zero_lag": True,
                           "gain_at_cutoff_db": -6.0, "applies_to": "cop (not fz_n)"}
    else:
        proc["lowpass"] = None

    origin = (0.0, 0.0)
    if opt.remove_mean and defined.all():
        origin = (float(np.mean(x)), float(np.mean(y)))
        x, y = x - origin[0], y - origin[1]
        proc["mean_removed_mm"] = list(origin)
    else:
        proc["mean_removed_mm"] = None
    proc["fs_hz"] = fs
    proc["n_samples"] = int(x.shape[0])
    return Trace(t_s=t, cop_x_mm=x, cop_y_mm=y, fz_n=fz, fs_hz=fs, processing=proc,
                 origin_mm=origin)
