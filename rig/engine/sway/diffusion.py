"""Stabilogram diffusion analysis (SDA), Collins & De Luca 1993.

Collins JJ, De Luca CJ. Open-loop and closed-loop control of posture: a random-walk analysis
of center-of-pressure trajectories. Exp Brain Res 1993;95:308-318.

Our parametrisation (science.md §1.7; breakpoint search as in Quijoux et al. 2021 [V-code]):

1. Mean square displacement <dx^2>(dt) = mean over t of (x(t + dt) - x(t))^2 for every lag
   from 1 sample to min(10 s, N/3 samples) (all lags, linearly spaced, as in the original).
   Computed for all lags at once with an FFT autocorrelation (O(N log N)). The planar
   diagram is <dr^2> = <dx^2> + <dy^2>.
2. Two straight lines are fitted to log <dx^2> against log dt, split at the breakpoint lag
   between 0.3 s and 2.5 s that minimises the summed squared error of both fits.
3. The critical point is the intersection of the two log-log lines (the breakpoint when they
   do not intersect inside the fitted range): critical time (s) and critical mean square
   displacement (mm^2, the short-term line's value there).
4. Scaling exponents H_s, H_l = log-log slope / 2 (0.5 = random walk, > 0.5 persistent,
   < 0.5 anti-persistent).
5. Diffusion coefficients D_s, D_l from linear-linear least-squares fits of <dx^2> = 2 D dt
   over the short-term (dt <= critical time) and long-term (dt >= critical time) regions, in
   mm^2/s. The same factor 2 is used for the planar diagram, so D_r = D_ml + D_ap for a random
   walk (Collins & De Luca's convention as we read it: [U], check against the paper).

SDA needs long trials: with fewer than 15 s (maximum lag below 5 s) every SDA value is NaN
by rule; it is not meaningful for 10 s single-leg trials.
"""
from __future__ import annotations

import numpy as np

from rig.engine import native
from rig.engine.sway import _checks
from rig.engine.sway.registry import register

COLLINS = "Collins & De Luca 1993, Exp Brain Res 95:308"
SDA_SETTINGS = {"max_lag_s": 10.0, "max_lag_fraction": 1 / 3, "breakpoint_range_s": [0.3, 2.5],
                "min_max_lag_s": 5.0, "fit": "log-log two-line least squares; D from linear fits",
                "D_convention": "<d^2> = 2 D dt (planar too)"}
_KEYS = ("diffusion_short_{ax}_mm2_s", "diffusion_long_{ax}_mm2_s", "scaling_short_{ax}",
         "scaling_long_{ax}", "critical_time_{ax}_s", "critical_msd_{ax}_mm2")


def _fast_len(n: int) -> int:
    """Smallest 2^a 3^b 5^c >= n (a fast FFT length)."""
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def mean_square_displacement(a_mm, max_lag: int) -> np.ndarray:
    """<(a[t+k] - a[t])^2> for k = 1..max_lag (mm^2), via FFT autocorrelation. ``a_mm`` is one
    axis (n,) or several (k, n), all in one FFT (then the result is (k, max_lag))."""
    a = np.asarray(a_mm, dtype=np.float64)
    for row in np.atleast_2d(a):
        _checks.axis(row, min_n=2)
    a = a - a.mean(axis=-1, keepdims=True)
    n = a.shape[-1]
    max_lag = int(min(max_lag, n - 1))
    # zero padding to n + max_lag keeps the lags up to max_lag free of circular wrap-around
    nfft = _fast_len(n + max_lag)
    spec = np.fft.rfft(a, nfft, axis=-1)
    acf = np.fft.irfft(spec.real ** 2 + spec.imag ** 2, nfft, axis=-1)[..., 1:max_lag + 1]
    c2 = np.concatenate((np.zeros(a.shape[:-1] + (1,)), np.cumsum(a * a, axis=-1)), axis=-1)
    k = np.arange(1, max_lag + 1)
    s = c2[..., n - k] + (c2[..., n:] - c2[..., k]) - 2.0 * acf
    return np.maximum(s, 0.0) / (n - k)


class _LineFits:
    """Least-squares lines of each row of v (r, m) against u (m,) over index ranges [i, j):
    ``over(i, j)`` gives slopes, intercepts and sums of squared errors, (r, c) each, for i
    and j scalars or integer arrays broadcastable to (r, c). From prefix sums of 1, u, v,
    u u, u v and v v: in the compiled kernel when this install has it (the same sums and
    formulas in the same order, so the same numbers), else in numpy (the prefix sums once,
    every range by differences)."""

    def __init__(self, u: np.ndarray, v: np.ndarray):
        self.u, self.v = np.ascontiguousarray(u, dtype=np.float64), np.ascontiguousarray(v, dtype=np.float64)
        self.kernels = native.KERNELS                 # chosen once: every range alike
        self.prefix = self._prefix(self.u, self.v) if self.kernels is None else None

    @staticmethod
    def _prefix(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """(6, r, m + 1): the prefix sums of 1, u, v, u u, u v and v v along each row."""
        r, m = v.shape
        terms = np.empty((6, r, m + 1))
        terms[:, :, 0] = 0.0
        terms[0, :, 1:] = 1.0
        terms[1, :, 1:] = u
        terms[2, :, 1:] = v
        terms[3, :, 1:] = u * u
        terms[4, :, 1:] = u * v
        terms[5, :, 1:] = v * v
        return np.cumsum(terms, axis=-1, out=terms)

    def over(self, i, j):
        r = self.v.shape[0]
        if self.kernels is not None:
            ii, jj = np.broadcast_arrays(np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64),
                                         np.empty((r, 1), dtype=np.int64))[:2]
            ii, jj = np.ascontiguousarray(ii), np.ascontiguousarray(jj)
            out = np.empty((3,) + ii.shape)
            self.kernels.linfit_ranges(self.u, self.v, r, self.u.shape[0], ii, jj, ii.shape[1], out)
            return out[0], out[1], out[2]
        rows = np.arange(r)[:, None]
        n, su, sv, suu, suv, svv = self.prefix[:, rows, j] - self.prefix[:, rows, i]
        sxx = suu - su * su / n
        sxy = suv - su * sv / n
        slope = sxy / sxx
        icpt = (sv - slope * su) / n
        sse = np.maximum(svv - sv * sv / n - slope * sxy, 0.0)
        return slope, icpt, sse


_SDA_NAN = {k: float("nan") for k in ("D_s", "D_l", "H_s", "H_l", "t_c", "msd_c")}


def _sda_from_msd(lag_s: np.ndarray, msds: np.ndarray) -> list[dict[str, float]]:
    """SDA parameters of each diagram (row of ``msds``, (r, m)) over the lags ``lag_s`` (m,),
    all rows in the same vectorised steps (the module docstring's steps 2-5)."""
    lo, hi = SDA_SETTINGS["breakpoint_range_s"]
    out = [dict(_SDA_NAN) for _ in range(msds.shape[0])]
    rows = np.flatnonzero(np.all(msds > 0, axis=1))
    m = lag_s.shape[0]
    cand = np.flatnonzero((lag_s >= lo) & (lag_s <= hi))
    cand = cand[(cand >= 2) & (cand <= m - 3)]
    if cand.size == 0 or rows.size == 0:
        return out
    msd = msds[rows]
    u, v = np.log(lag_s), np.log(msd)
    loglog = _LineFits(u, v)
    # short region [0, b], long region [b, m): the breakpoint lag belongs to both
    c = cand[None, :]
    _, _, sse_s = loglog.over(0, c + 1)
    _, _, sse_l = loglog.over(c, m)
    b = cand[np.argmin(sse_s + sse_l, axis=1)][:, None]          # (r, 1)
    ms, cs, _ = loglog.over(0, b + 1)
    ml, cl, _ = loglog.over(b, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        uc = np.where(ms != ml, (cl - cs) / (ms - ml), np.nan)
    inside = np.isfinite(uc) & (u[0] <= uc) & (uc <= u[-1])
    uc = np.where(inside, uc, u[b])
    t_c = np.exp(uc)
    split = np.clip(np.searchsorted(lag_s, t_c), 2, m - 2)
    linear = _LineFits(lag_s, msd)
    ds, _, _ = linear.over(0, split)
    dl, _, _ = linear.over(split, m)
    msd_c = np.exp(cs + ms * uc)
    for i, row in enumerate(rows.tolist()):
        out[row] = {"D_s": float(ds[i, 0] / 2), "D_l": float(dl[i, 0] / 2),
                    "H_s": float(ms[i, 0] / 2), "H_l": float(ml[i, 0] / 2),
                    "t_c": float(t_c[i, 0]), "msd_c": float(msd_c[i, 0])}
    return out


def stabilogram_diffusion(x_mm, y_mm, fs_hz) -> dict[str, float]:
    """SDA parameters for ML, AP and the planar diagram (Collins & De Luca 1993; our
    parametrisation in the module docstring). Keys: ``diffusion_short_{ml,ap,planar}_mm2_s``,
    ``diffusion_long_..._mm2_s``, ``scaling_short_...``, ``scaling_long_...`` (dimensionless),
    ``critical_time_..._s``, ``critical_msd_..._mm2``. NaN for trials shorter than 15 s."""
    x, y = _checks.xy(x_mm, y_mm, 2)
    fs = _checks.rate(fs_hz)
    n = x.shape[0]
    max_lag = int(min(SDA_SETTINGS["max_lag_s"] * fs, n * SDA_SETTINGS["max_lag_fraction"]))
    out: dict[str, float] = {}
    if max_lag / fs < SDA_SETTINGS["min_max_lag_s"]:
        for ax in ("ml", "ap", "planar"):
            for key in _KEYS:
                out[key.format(ax=ax)] = float("nan")
        return out
    lag_s = np.arange(1, max_lag + 1) / fs
    mx, my = mean_square_displacement(np.vstack([x, y]), max_lag)
    for ax, r in zip(("ml", "ap", "planar"), _sda_from_msd(lag_s, np.vstack([mx, my, mx + my]))):
        vals = (r["D_s"], r["D_l"], r["H_s"], r["H_l"], r["t_c"], r["msd_c"])
        for key, val in zip(_KEYS, vals):
            out[key.format(ax=ax)] = val
    return out


_UNITS = ("mm^2/s", "mm^2/s", "1", "1", "s", "mm^2")
_LABELS = ("Short-term diffusion coefficient", "Long-term diffusion coefficient",
           "Short-term scaling exponent", "Long-term scaling exponent", "Critical time",
           "Critical mean square displacement")
for _ax in ("ml", "ap", "planar"):
    for _key, _unit, _label in zip(_KEYS, _UNITS, _LABELS):
        register(_key.format(ax=_ax), _unit, f"{_label} {_ax.upper() if _ax != 'planar' else 'planar'}",
                 COLLINS + " (SDA, our parametrisation)", stabilogram_diffusion, "diffusion")
