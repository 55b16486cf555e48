"""Sample entropy and detrended fluctuation analysis (DFA) of COP velocity.

Both are applied to the COP *increments* (velocity times 1/fs; science.md §1.8: raw position
is non-stationary). Research outputs, not CAI flags (science.md §1.8).

Two definitions, each under its own keys:

- **Board rate** (``sample_entropy_velocity_{ml,ap}``, ``dfa_alpha_velocity_{ml,ap}``; kept for
  existing exports): increments of the trace as analysed, at whatever rate the board ran.
  These depend strongly on fs and filtering (the same sway gives SampEn 0.86 at 83 Hz and 0.12
  at 1 kHz): compare only trials recorded and processed alike.
- **Fixed time base** (``sample_entropy_velocity_{ml,ap}_20hz``, ``dfa_alpha_velocity_{ml,ap}_20hz``;
  settings in ``TIMEBASE``): the COP is low-passed at 5 Hz (zero-lag Butterworth, design
  order 2 run forward and backward, the upper edge of the Prieto band) and window-averaged
  onto a 20 Hz grid (``rig.engine.preprocess.window_average``), then differenced. The same
  sway recorded at 80 Hz or 1 kHz gives the same values (tested within 10 % and 0.05). The
  rate and cut-off are this project's choice (a documented time base; no published standard
  exists for COP SampEn across boards; Yentes et al. 2013, Ann Biomed Eng 41:349, on the
  dependence of SampEn on N and rate).

Sample entropy (Richman & Moorman 2000, Am J Physiol 278:H2039): SampEn(m, r) = -ln(A / B),
B = number of pairs of the first N - m templates of length m within Chebyshev distance r
(self-matches excluded), A = the same pairs still within r at length m + 1. Defaults m = 2,
r = 0.2 * SD (population SD of the series). Pairs are counted after sorting the templates by
their first value: each is compared only with the templates within r of it in that value,
in vectorised steps (memory O(N), no pair list; ``count_matches``).
Undefined (NaN) when no template pairs match (A or B zero), or for a constant series.

DFA (Peng et al. 1994, Phys Rev E 49:1685): the mean-removed series is integrated, cut into
non-overlapping boxes of n samples, a straight line is removed per box, F(n) = RMS of the
residuals; alpha = slope of log F(n) against log n. Box sizes: 16 log-spaced sizes from 4
samples to N/4. White noise gives 0.5, a random walk 1.5. Needs 64 samples.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from rig.engine import native
from rig.errors import AnalysisError
from rig.engine.sway import _checks
from rig.engine.sway.registry import register

RICHMAN = "Richman & Moorman 2000, Am J Physiol 278:H2039"
PENG = "Peng et al. 1994, Phys Rev E 49:1685"
SAMPEN_SETTINGS = {"m": 2, "r": "0.2 * SD", "series": "COP increments (velocity)",
                   "distance": "Chebyshev, <= r"}
DFA_SETTINGS = {"series": "COP increments (velocity)", "boxes": "16 log-spaced, 4 .. N/4 samples",
                "detrend": "linear per box", "overlap": "none"}
#: The fixed time base of the ``*_20hz`` keys (this project's documented choice).
TIMEBASE = {"rate_hz": 20.0, "lowpass_hz": 5.0, "lowpass": "Butterworth, design order 2, "
            "forward-backward (zero lag)", "resample": "window average onto the 20 Hz grid",
            "series": "increments of the resampled COP", "sample_entropy": {"m": 2, "r": "0.2 * SD"},
            "dfa": "16 log-spaced boxes, 4 .. N/4 samples (0.2 s .. T/4)"}
TIMEBASE_SUFFIX = "_20hz"


#: Row-by-offset elements per vectorised step of the banded count (512 KiB of float64).
_BAND_ELEMENTS = 1 << 16


def count_matches(s: np.ndarray, m: int, r: float, order: str | None = None) -> tuple[int, int]:
    """(A, B) of sample entropy: pairs of the first len(s) - m templates within Chebyshev
    distance r at length m (B) and still at length m + 1 (A); self-matches excluded.

    The templates are sorted by their first value, so a template can only match the ones
    following it in that order up to first value + r: its candidate offsets are 1 .. K_j
    (K_j by binary search with a margin, then trimmed so that exactly
    first[j + k] - first[j] <= r for k <= K_j: that rounded difference grows with k). The
    candidates are then compared in vectorised steps, memory O(N), no pair list, in one of
    two orders chosen by their cost (the counts are the same): offset by offset over the
    stretch of rows that have that offset (``_sweep``; best for long series, where each step
    is long), or in blocks of rows times all their offsets (``_banded``; best for short or
    smooth series, where the sweep would take many short steps). Each comparison is exactly
    |a - b| <= r per coordinate, as in the brute-force definition, so the counts are
    identical (tested against a KD-tree and brute force, both orders). When this install
    has the compiled kernels (``rig.engine.native``) the same candidates are compared one by
    one in C, with the same comparisons, so the counts are again identical (tested), at a
    fraction of the cost. ``order`` ("sweep", "banded" or "compiled") forces one order (for
    the tests and the benchmark).
    """
    n = s.shape[0] - m                                    # templates
    if order == "compiled" or (order is None and native.KERNELS is not None):
        if native.KERNELS is None:
            raise RuntimeError("count_matches: the compiled kernels are not in this install")
        by_first = np.argsort(s[:n])                      # ties in any order: same pairs
        return native.KERNELS.sampen_counts(np.ascontiguousarray(s, dtype=np.float64),
                                            by_first.astype(np.int64, copy=False), m, float(r))
    by_first = np.argsort(s[:n], kind="stable")
    cols = [s[by_first + d] for d in range(m + 1)]       # sorted template columns
    first = cols[0]
    margin = r * 1e-9 + 8 * np.finfo(float).eps * float(np.max(np.abs(first), initial=0.0))
    rows = np.arange(n)
    n_off = np.searchsorted(first, first + (r + margin), side="right") - 1 - rows
    # exact: first[j + k] - first[j] <= r holds for k = 1 .. n_off[j] and no further (the
    # rounded difference grows with k, first being sorted); trim the margin's extra candidates
    while True:
        over = (n_off > 0) & ((first[rows + n_off] - first) > r)
        if not over.any():
            break
        n_off[over] -= 1
    kmax = int(n_off.max(initial=0))
    if kmax == 0:
        return 0, 0
    ks = np.arange(1, kmax + 1)
    # rows with n_off >= k: from the first index where the running maximum reaches k to the
    # last index where the running maximum from the end does
    los = np.searchsorted(np.maximum.accumulate(n_off), ks, side="left")
    his = n - np.searchsorted(np.maximum.accumulate(n_off[::-1]), ks, side="left")
    # the sweep's steps are as long as its stretches: with short ones (under ~4096 rows on
    # average) the per-step overhead dominates and the banded order is faster (measured
    # 0.5 vs 1.0 ms for 60 s on the 20 Hz base, 5.9 vs 6.7 ms for 60 s at 100 Hz; the sweep
    # wins for 300 s at 100 Hz)
    if order is None:
        order = "banded" if int(np.sum(np.maximum(his - los, 0))) < 4096 * kmax else "sweep"
    if order == "banded":
        return _banded(cols, n_off, m, r, kmax)
    return _sweep(cols, n_off, m, r, ks, los, his)


def _sweep(cols, n_off, m, r, ks, los, his) -> tuple[int, int]:
    """Counts offset by offset: for offset k, the rows with n_off >= k (one stretch of the
    sorted order) are compared as contiguous slices, in preallocated buffers."""
    n = n_off.shape[0]
    diff = np.empty(n)
    ok, ok2 = np.empty(n, dtype=bool), np.empty(n, dtype=bool)
    a_count = b_count = 0
    for k, lo, hi in zip(ks.tolist(), los.tolist(), his.tolist()):
        w = hi - lo
        if w <= 0:
            continue
        d_, o, o2 = diff[:w], ok[:w], ok2[:w]
        np.greater_equal(n_off[lo:hi], k, out=o)          # first values within r (exact)
        for c in cols[1:m]:
            np.subtract(c[lo + k:hi + k], c[lo:hi], out=d_)
            np.abs(d_, out=d_)
            np.less_equal(d_, r, out=o2)
            o &= o2
        b_count += int(np.count_nonzero(o))
        c = cols[m]
        np.subtract(c[lo + k:hi + k], c[lo:hi], out=d_)
        np.abs(d_, out=d_)
        np.less_equal(d_, r, out=o2)
        o &= o2
        a_count += int(np.count_nonzero(o))
    return a_count, b_count


def _banded(cols, n_off, m, r, kmax) -> tuple[int, int]:
    """Counts in blocks of consecutive sorted rows: each block is compared with all its
    offsets 1 .. W (W its largest n_off) at once through a sliding-window view of each
    column (element [j, k - 1] is the column at j + k, no copy); offsets beyond a row's
    n_off are masked. Blocks hold at most ``_BAND_ELEMENTS`` elements (or one row)."""
    from numpy.lib.stride_tricks import sliding_window_view
    n = n_off.shape[0]
    pad = np.zeros(kmax)                                  # masked: never counted
    wins = [sliding_window_view(np.concatenate([c[1:], pad]), kmax) for c in cols[1:]]
    ks = np.arange(1, kmax + 1)
    cap = max(_BAND_ELEMENTS, kmax)
    fbuf, bbuf, bbuf2 = np.empty(cap), np.empty(cap, dtype=bool), np.empty(cap, dtype=bool)
    a_count = b_count = 0
    lo = 0
    while lo < n:
        w = int(n_off[lo:lo + 16].max())
        hi = min(n, lo + max(1, cap // max(w, 1)))
        w = int(n_off[lo:hi].max())
        while (hi - lo) * w > cap:                        # a wider row further on: shrink
            hi = lo + max(1, cap // w)
            w = int(n_off[lo:hi].max())
        if w > 0:
            shape = (hi - lo, w)
            d = fbuf[:shape[0] * w].reshape(shape)
            ok, ok2 = bbuf[:shape[0] * w].reshape(shape), bbuf2[:shape[0] * w].reshape(shape)
            np.less_equal(ks[:w], n_off[lo:hi, None], out=ok)   # first values within r
            for c, win in zip(cols[1:m], wins[:m - 1]):
                np.subtract(win[lo:hi, :w], c[lo:hi, None], out=d)
                np.abs(d, out=d)
                np.less_equal(d, r, out=ok2)
                ok &= ok2
            b_count += int(np.count_nonzero(ok))
            np.subtract(wins[m - 1][lo:hi, :w], cols[m][lo:hi, None], out=d)
            np.abs(d, out=d)
            np.less_equal(d, r, out=ok2)
            ok &= ok2
            a_count += int(np.count_nonzero(ok))
        lo = hi
    return a_count, b_count


def sample_entropy(a, m: int = 2, r_factor: float = 0.2) -> float:
    """Sample entropy of a series (dimensionless), tolerance r = r_factor * SD.
    Richman & Moorman 2000. NaN when undefined (no matches, or a constant series).
    Needs m + 2 samples."""
    s = _checks.axis(a, "series", min_n=m + 2)
    sd = float(np.std(s))
    if sd == 0:
        return float("nan")
    a_, b = count_matches(s, m, r_factor * sd)
    if b == 0 or a_ == 0:
        return float("nan")
    return float(-np.log(a_ / b))


@lru_cache(maxsize=256)
def _box_sizes(n: int, n_scales: int, min_box: int, max_box_fraction: float) -> np.ndarray:
    """DFA box sizes for n samples (cached: np.geomspace costs more than a small DFA)."""
    sizes = np.unique(np.floor(np.geomspace(min_box, max(min_box + 1, n * max_box_fraction),
                                            n_scales)).astype(int))
    sizes.flags.writeable = False
    return sizes


@lru_cache(maxsize=256)
def _box_time(size: int) -> tuple[np.ndarray, float]:
    """Centred sample times of a DFA box and their sum of squares (cached per size)."""
    tc = np.arange(size) - (size - 1) / 2.0
    tc.flags.writeable = False
    return tc, float(tc @ tc)


def _slopes(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Least-squares slopes of each row of v (k, m) against u (m,)."""
    uc = u - u.mean()
    return ((v - v.mean(axis=-1, keepdims=True)) @ uc) / (uc @ uc)


def _residual_sums(prof: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """(k, len(sizes)) residual sums of squares of the DFA boxes of each row of the profile:
    per box sum(dev^2) - (dev . tc)^2 / (tc . tc), dev the box minus its mean, tc its centred
    sample times (the least-squares line removed), summed over the n // size boxes. In the
    compiled kernel when this install has it (box by box), else in numpy (one vectorised
    pass per box size); equal to rounding (tested)."""
    k, n = prof.shape
    rss = np.empty((k, sizes.shape[0]))
    if native.KERNELS is not None:
        native.KERNELS.dfa_rss(np.ascontiguousarray(prof), k, n, sizes.astype(np.int64), rss)
        return rss
    for i, size in enumerate(sizes.tolist()):      # ~16 box sizes, never a loop over samples
        nb = n // size
        boxes = prof[:, : nb * size].reshape(k * nb, size)
        tc, tctc = _box_time(size)
        dev = boxes - np.add.reduce(boxes, axis=1, keepdims=True) / size    # = boxes.mean
        per_box = np.einsum("ij,ij->i", dev, dev) - np.square(dev @ tc) / tctc
        rss[:, i] = np.add.reduce(per_box.reshape(k, nb), axis=1)
    return rss


def dfa_alphas(rows, n_scales: int = 16, min_box: int = 4,
               max_box_fraction: float = 0.25) -> np.ndarray:
    """DFA scaling exponent alpha of each row of a (k, n) array of series (dimensionless),
    all rows in the same vectorised steps. Peng et al. 1994; box sizes in the module
    docstring. NaN for a constant row. Needs 64 samples per row."""
    s = np.atleast_2d(np.asarray(rows, dtype=np.float64))
    for row in s:
        _checks.axis(row, "series", min_n=64)
    k, n = s.shape
    prof = np.cumsum(s - s.mean(axis=1, keepdims=True), axis=1)
    sizes = _box_sizes(n, n_scales, min_box, max_box_fraction)
    rss = _residual_sums(prof, sizes)
    flucts = np.sqrt(np.maximum(rss, 0.0) / (n - n % sizes))          # nb * size samples
    out = np.full(k, np.nan)
    ok = np.all(flucts > 0, axis=1)
    if ok.any():
        out[ok] = _slopes(np.log(sizes), np.log(flucts[ok]))
    return out


def dfa_alpha(a, n_scales: int = 16, min_box: int = 4, max_box_fraction: float = 0.25) -> float:
    """DFA scaling exponent alpha of a series (dimensionless). Peng et al. 1994; box sizes in
    the module docstring. NaN for a constant series. Needs 64 samples."""
    s = _checks.axis(a, "series", min_n=64)
    return float(dfa_alphas(s[None, :], n_scales, min_box, max_box_fraction)[0])


def nonlinear_measures(x_mm, y_mm, entropy: bool = True, dfa: bool = True) -> dict[str, float]:
    """Board-rate sample entropy and DFA alpha of the ML and AP COP increments (settings in
    the module docstring): ``sample_entropy_velocity_{ml,ap}``, ``dfa_alpha_velocity_{ml,ap}``."""
    x, y = _checks.xy(x_mm, y_mm, 65)
    d = np.diff(np.vstack([x, y]), axis=1)
    out = {}
    alphas = dfa_alphas(d) if dfa else None
    for i, ax in enumerate(("ml", "ap")):
        if entropy:
            out[f"sample_entropy_velocity_{ax}"] = sample_entropy(d[i])
        if dfa:
            out[f"dfa_alpha_velocity_{ax}"] = float(alphas[i])
    return out


def timebase_xy(x_mm, y_mm, fs_hz) -> np.ndarray | None:
    """Both COP axes on the fixed time base (``TIMEBASE``): 5 Hz zero-lag low-pass, window
    average onto a 20 Hz grid; returns a (2, n) array in mm, or None when the input rate is
    not above 2 x 5 Hz or the trace is too short to filter."""
    from rig.engine.preprocess import lowpass, window_average
    x, y = _checks.xy(x_mm, y_mm, 2)
    fs = _checks.rate(fs_hz)
    try:
        xy = lowpass(np.vstack([x, y]), fs, TIMEBASE["lowpass_hz"])
    except AnalysisError:                   # rate at or below 10 Hz, or too short to filter
        return None
    rate = TIMEBASE["rate_hz"]
    t = np.arange(x.shape[0]) / fs
    n_out = int(np.floor(t[-1] * rate + 1e-9)) + 1
    grid = np.arange(n_out) / rate
    return window_average(t, xy.T, grid, 1.0 / rate).T


def timebase_measures(x_mm, y_mm, fs_hz, entropy: bool = True, dfa: bool = True) -> dict[str, float]:
    """Sample entropy and DFA alpha of the COP increments on the fixed 20 Hz time base
    (``TIMEBASE``), comparable across board rates: ``sample_entropy_velocity_{ml,ap}_20hz``,
    ``dfa_alpha_velocity_{ml,ap}_20hz``. NaN when the trace is too short (DFA needs 64
    increments, 3.25 s) or its rate is 10 Hz or lower."""
    keys = [f"{name}_{ax}{TIMEBASE_SUFFIX}" for ax in ("ml", "ap")
            for name, on in (("sample_entropy_velocity", entropy), ("dfa_alpha_velocity", dfa)) if on]
    xy = timebase_xy(x_mm, y_mm, fs_hz)
    if xy is None or xy.shape[1] < 65:
        return {k: float("nan") for k in keys}
    out = nonlinear_measures(xy[0], xy[1], entropy=entropy, dfa=dfa)
    return {f"{k}{TIMEBASE_SUFFIX}": v for k, v in out.items()}


for _ax in ("ml", "ap"):
    register(f"sample_entropy_velocity_{_ax}", "1", f"Sample entropy of COP velocity {_ax.upper()}"
             " (m=2, r=0.2 SD, board rate)", RICHMAN, sample_entropy, "nonlinear")
    register(f"dfa_alpha_velocity_{_ax}", "1", f"DFA alpha of COP velocity {_ax.upper()} (board rate)",
             PENG, dfa_alpha, "nonlinear")
    register(f"sample_entropy_velocity_{_ax}{TIMEBASE_SUFFIX}", "1",
             f"Sample entropy of COP velocity {_ax.upper()} (20 Hz time base, m=2, r=0.2 SD)",
             RICHMAN + "; fixed 20 Hz time base, 5 Hz low-pass (this project)", timebase_measures,
             "nonlinear")
    register(f"dfa_alpha_velocity_{_ax}{TIMEBASE_SUFFIX}", "1",
             f"DFA alpha of COP velocity {_ax.upper()} (20 Hz time base)",
             PENG + "; fixed 20 Hz time base, 5 Hz low-pass (this project)", timebase_measures,
             "nonlinear")
