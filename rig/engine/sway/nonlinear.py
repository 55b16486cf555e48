"""Sample entropy and detrended fluctuation analysis (DFA) of COP velocity.

Both are applied to the COP *increments* (velocity times 1/fs; science.md §1.8: raw position
is non-stationary). Both depend on fs, N and filtering: compare only trials recorded and
processed alike. Research outputs, not CAI flags (science.md §1.8).

Sample entropy (Richman & Moorman 2000, Am J Physiol 278:H2039): SampEn(m, r) = -ln(A / B),
B = number of pairs of the first N - m templates of length m within Chebyshev distance r
(self-matches excluded), A = the same pairs still within r at length m + 1. Defaults m = 2,
r = 0.2 * SD (population SD of the series). Pairs are counted with a KD-tree
(``scipy.spatial.cKDTree``, Chebyshev norm), not a quadratic loop. Undefined
(NaN) when no template pairs match (A or B zero), or for a constant series.

DFA (Peng et al. 1994, Phys Rev E 49:1685): the mean-removed series is integrated, cut into
non-overlapping boxes of n samples, a straight line is removed per box, F(n) = RMS of the
residuals; alpha = slope of log F(n) against log n. Box sizes: 16 log-spaced sizes from 4
samples to N/4. White noise gives 0.5, a random walk 1.5. Needs 64 samples.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.spatial import cKDTree

from rig.engine.sway import _checks
from rig.engine.sway.registry import register

RICHMAN = "Richman & Moorman 2000, Am J Physiol 278:H2039"
PENG = "Peng et al. 1994, Phys Rev E 49:1685"
SAMPEN_SETTINGS = {"m": 2, "r": "0.2 * SD", "series": "COP increments (velocity)",
                   "distance": "Chebyshev, <= r"}
DFA_SETTINGS = {"series": "COP increments (velocity)", "boxes": "16 log-spaced, 4 .. N/4 samples",
                "detrend": "linear per box", "overlap": "none"}


def _pairs_within(emb: np.ndarray, r: float) -> int:
    """Unordered pairs of distinct rows within Chebyshev distance r (memory-light)."""
    tree = cKDTree(emb)
    return int((tree.count_neighbors(tree, r, p=np.inf) - emb.shape[0]) // 2)


#: Up to this many templates the matching pairs are listed (fast, memory ~ pairs * 16 bytes);
#: above it they are only counted, twice (slower, constant memory).
_LIST_PAIRS_MAX_N = 12000


def sample_entropy(a, m: int = 2, r_factor: float = 0.2) -> float:
    """Sample entropy of a series (dimensionless), tolerance r = r_factor * SD.
    Richman & Moorman 2000. NaN when undefined (no matches, or a constant series).
    Needs m + 2 samples."""
    s = _checks.axis(a, "series", min_n=m + 2)
    sd = float(np.std(s))
    if sd == 0:
        return float("nan")
    r = r_factor * sd
    n = s.shape[0]
    emb = sliding_window_view(s, m + 1)[: n - m]            # N - m templates of length m + 1
    head = np.ascontiguousarray(emb[:, :m])
    if n <= _LIST_PAIRS_MAX_N:
        # B pairs from the KD-tree; A = those that still match at the (m+1)-th point
        pairs = cKDTree(head).query_pairs(r, p=np.inf, output_type="ndarray")
        b = pairs.shape[0]
        a_ = int(np.count_nonzero(np.abs(s[pairs[:, 0] + m] - s[pairs[:, 1] + m]) <= r))
    else:
        b = _pairs_within(head, r)
        a_ = _pairs_within(np.ascontiguousarray(emb), r) if b else 0
    if b == 0 or a_ == 0:
        return float("nan")
    return float(-np.log(a_ / b))


def dfa_alpha(a, n_scales: int = 16, min_box: int = 4, max_box_fraction: float = 0.25) -> float:
    """DFA scaling exponent alpha of a series (dimensionless). Peng et al. 1994; box sizes in
    the module docstring. NaN for a constant series. Needs 64 samples."""
    s = _checks.axis(a, "series", min_n=64)
    n = s.shape[0]
    prof = np.cumsum(s - s.mean())
    sizes = np.unique(np.floor(np.geomspace(min_box, max(min_box + 1, n * max_box_fraction),
                                            n_scales)).astype(int))
    flucts = np.empty(sizes.shape[0])
    for i, size in enumerate(sizes):            # loop over ~16 box sizes, never over samples
        nb = n // size
        boxes = prof[: nb * size].reshape(nb, size)
        tc = np.arange(size) - (size - 1) / 2.0
        dev = boxes - boxes.mean(axis=1, keepdims=True)
        # residual sum of squares after removing the least-squares line of each box
        rss = (dev ** 2).sum(axis=1) - (dev @ tc) ** 2 / (tc @ tc)
        flucts[i] = np.sqrt(max(rss.sum(), 0.0) / (nb * size))
    if not np.all(flucts > 0):
        return float("nan")
    return float(np.polyfit(np.log(sizes), np.log(flucts), 1)[0])


def nonlinear_measures(x_mm, y_mm, entropy: bool = True) -> dict[str, float]:
    """Sample entropy and DFA alpha of the ML and AP COP increments (settings in the module
    docstring): ``sample_entropy_velocity_{ml,ap}``, ``dfa_alpha_velocity_{ml,ap}``."""
    x, y = _checks.xy(x_mm, y_mm, 65)
    out = {}
    for ax, a in (("ml", x), ("ap", y)):
        d = np.diff(a)
        if entropy:
            out[f"sample_entropy_velocity_{ax}"] = sample_entropy(d)
        out[f"dfa_alpha_velocity_{ax}"] = dfa_alpha(d)
    return out


for _ax in ("ml", "ap"):
    register(f"sample_entropy_velocity_{_ax}", "1", f"Sample entropy of COP velocity {_ax.upper()}"
             " (m=2, r=0.2 SD)", RICHMAN, sample_entropy, "nonlinear")
    register(f"dfa_alpha_velocity_{_ax}", "1", f"DFA alpha of COP velocity {_ax.upper()}", PENG,
             dfa_alpha, "nonlinear")
