"""Time-domain sway measures (Prieto et al. 1996).

Prieto TE, Myklebust JB, Hoffmann RG, Lovett EG, Myklebust BM. Measures of postural
steadiness: differences between healthy young and elderly adults. IEEE Trans Biomed Eng
1996;43:956-966. Formulas as in science.md §1.3 ([V-code] via the open reference code of
Quijoux et al. 2021, Physiol Rep 9:e15067): distances are taken from the trial mean, the
trial duration is T = N / fs.

Inputs are COP arrays in mm (any origin: measures that need it centre on the mean
themselves), ``fs_hz`` in Hz. Per-axis functions take one axis (ML = x, AP = y).
"""
from __future__ import annotations

import numpy as np

from rig.engine.sway import _checks
from rig.engine.sway.hull import hull_indices
from rig.engine.sway.registry import register

PRIETO = "Prieto et al. 1996, IEEE Trans Biomed Eng 43:956"


def _centred(a: np.ndarray) -> np.ndarray:
    return a - a.mean()


# Kernels: each number is computed here once, from checked arrays and the intermediates it
# needs (centred coordinates ``xc``/``ac``, their squares, steps ``dx``/``da``); the public
# functions below and ``time_domain_measures`` (which computes the intermediates once for the
# whole set) both call them, so the single functions and the set give identical values.

def _mdist(xc, yc) -> float:
    return float(np.mean(np.hypot(xc, yc)))


def _mdist_axis(ac) -> float:
    return float(np.mean(np.abs(ac)))


def _rdist(xc2, yc2) -> float:
    return float(np.sqrt(np.mean(xc2 + yc2)))


def _rms_axis(ac2) -> float:
    return float(np.sqrt(np.mean(ac2)))


def _sd_axis(ac2) -> float:
    # the arithmetic of np.std(a, ddof=1): centre on the mean, square, sum, / (N - 1), sqrt
    return float(np.sqrt(ac2.sum() / (ac2.shape[0] - 1)))


def _path(dx, dy) -> float:
    return float(np.sum(np.hypot(dx, dy)))


def _path_axis(da) -> float:
    return float(np.sum(np.abs(da)))


def _per_duration(total: float, n: int, fs: float) -> float:
    """total / T with T = N / fs."""
    return total * fs / n


def _swept_area(xc, yc, fs: float) -> float:
    swept = np.abs(xc[:-1] * yc[1:] - xc[1:] * yc[:-1]).sum()
    return float(swept * fs / (2.0 * xc.shape[0]))


def mean_distance_mm(x_mm, y_mm) -> float:
    """Mean resultant distance from the mean COP, MDIST (mm). Prieto et al. 1996."""
    x, y = _checks.xy(x_mm, y_mm, 1)
    return _mdist(_centred(x), _centred(y))


def mean_distance_axis_mm(a_mm) -> float:
    """Mean absolute distance from the mean along one axis, MDIST_ML / MDIST_AP (mm). Prieto 1996."""
    return _mdist_axis(_centred(_checks.axis(a_mm, min_n=1)))


def rms_distance_mm(x_mm, y_mm) -> float:
    """RMS resultant distance from the mean COP, RDIST (mm). Prieto et al. 1996.

    Equal to the planar deviation sqrt(RDIST_ML^2 + RDIST_AP^2) of Quijoux et al. 2021.
    """
    x, y = _checks.xy(x_mm, y_mm, 1)
    return _rdist(_centred(x) ** 2, _centred(y) ** 2)


def rms_axis_mm(a_mm) -> float:
    """RMS distance from the mean along one axis, RDIST_ML / RDIST_AP (mm): the SD with
    denominator N. Prieto et al. 1996."""
    return _rms_axis(_centred(_checks.axis(a_mm, min_n=1)) ** 2)


def sd_axis_mm(a_mm) -> float:
    """Sample standard deviation of one axis (mm), denominator N - 1 (needs 2 samples).

    The "COP ML SD" of Knapp et al. 2011 (J Athl Train 46:257) and the Duarte BMC notebooks.
    """
    return _sd_axis(_centred(_checks.axis(a_mm, min_n=2)) ** 2)


def _range(a) -> float:
    return float(a.max() - a.min())


def range_axis_mm(a_mm) -> float:
    """Range (max - min) along one axis (mm). Prieto et al. 1996."""
    return _range(_checks.axis(a_mm, min_n=1))


def hull_vertices(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(h, 2) points containing the farthest pair: the convex-hull vertices, or for collinear
    or too few points the axis extremes (the farthest pair is among them on a line)."""
    pts = np.column_stack([x, y])
    idx = hull_indices(x, y)
    if idx.size < 3:
        return pts[np.unique([x.argmin(), x.argmax(), y.argmin(), y.argmax()])]
    return pts[idx]


def max_pair_distance_mm(points: np.ndarray) -> float:
    """Largest distance between two of the given (h, 2) points (mm), O(h^2)."""
    d = points[:, None, :] - points[None, :, :]
    return float(np.sqrt((d ** 2).sum(-1).max()))


def range_mm(x_mm, y_mm) -> float:
    """Resultant range: the largest distance between any two COP points (mm). Prieto 1996.

    Computed over the convex-hull vertices (the farthest pair is always two of them), so the
    cost is O(n log n + h^2) rather than O(n^2).
    """
    x, y = _checks.xy(x_mm, y_mm, 1)
    return max_pair_distance_mm(hull_vertices(x, y))


def path_length_mm(x_mm, y_mm) -> float:
    """Total excursion TOTEX: sum of distances between consecutive COP samples (mm). Prieto 1996."""
    x, y = _checks.xy(x_mm, y_mm, 2)
    return _path(np.diff(x), np.diff(y))


def path_length_axis_mm(a_mm) -> float:
    """Total excursion along one axis, TOTEX_ML / TOTEX_AP: sum of |steps| (mm). Prieto 1996."""
    return _path_axis(np.diff(_checks.axis(a_mm, min_n=2)))


def mean_velocity_mm_s(x_mm, y_mm, fs_hz) -> float:
    """Mean resultant COP velocity MVELO = TOTEX / T with T = N / fs (mm/s). Prieto et al. 1996.

    T = N / fs follows Quijoux et al. 2021 and the Posture Data Set (dos Santos et al. 2017);
    (N - 1) / fs would be equally defensible and differs by a factor N / (N - 1).
    """
    x, y = _checks.xy(x_mm, y_mm, 2)
    return _per_duration(path_length_mm(x, y), x.shape[0], _checks.rate(fs_hz))


def mean_velocity_axis_mm_s(a_mm, fs_hz) -> float:
    """Mean COP velocity along one axis, MVELO_ML / MVELO_AP = TOTEX_axis / T, T = N / fs (mm/s).
    Prieto et al. 1996."""
    a = _checks.axis(a_mm, min_n=2)
    return _per_duration(path_length_axis_mm(a), a.shape[0], _checks.rate(fs_hz))


def sway_area_per_second_mm2_s(x_mm, y_mm, fs_hz) -> float:
    """Sway area AREA-SW: area swept by the radius vector from the mean COP per second,
    (1 / 2T) * sum |x[n] y[n+1] - x[n+1] y[n]|, T = N / fs (mm^2/s). Prieto et al. 1996."""
    x, y = _checks.xy(x_mm, y_mm, 2)
    return _swept_area(_centred(x), _centred(y), _checks.rate(fs_hz))


def _mfreq(velocity: float, mdist: float) -> float:
    return _checks.ratio(velocity, 2.0 * np.pi * mdist)


def _mfreq_axis(velocity: float, mdist: float) -> float:
    return _checks.ratio(velocity, 4.0 * np.sqrt(2.0) * mdist)


def mean_frequency_hz(x_mm, y_mm, fs_hz) -> float:
    """Prieto's mean frequency MFREQ = MVELO / (2 pi MDIST) (Hz): the rotation rate of a
    circle of radius MDIST whose circumference is covered at the mean velocity. Prieto 1996.
    NaN for a constant trace (MDIST = 0)."""
    return _mfreq(mean_velocity_mm_s(x_mm, y_mm, fs_hz), mean_distance_mm(x_mm, y_mm))


def mean_frequency_axis_hz(a_mm, fs_hz) -> float:
    """Prieto's per-axis mean frequency MFREQ_axis = MVELO_axis / (4 sqrt(2) MDIST_axis) (Hz).
    Prieto et al. 1996 as in Quijoux et al. 2021 ([V-code], science.md §1.3). For a sinusoid
    of frequency f this gives pi f / (2 sqrt 2) ~ 1.11 f. NaN for a constant axis."""
    return _mfreq_axis(mean_velocity_axis_mm_s(a_mm, fs_hz), mean_distance_axis_mm(a_mm))


def cop_mean_mm(a_mm) -> float:
    """Mean COP position along one axis in the board frame (mm): where the athlete stood."""
    return float(np.mean(_checks.axis(a_mm, min_n=1)))


def time_domain_measures(x_mm, y_mm, fs_hz, hull_points: np.ndarray | None = None) -> dict[str, float]:
    """Every time-domain measure of this module, keyed as in ``MEASURES`` and in the order of
    the results, with the centred coordinates, squares and steps computed once. The same
    values as the single functions (the same kernels). ``hull_points``: the convex-hull
    vertices when the caller has them (``compute_measures`` computes the hull for the area),
    for the resultant range. Needs 2 samples."""
    x, y = _checks.xy(x_mm, y_mm, 2)
    fs = _checks.rate(fs_hz)
    n = x.shape[0]
    xc, yc = _centred(x), _centred(y)
    xc2, yc2 = xc ** 2, yc ** 2
    dx, dy = np.diff(x), np.diff(y)
    if hull_points is None:
        hull_points = hull_vertices(x, y)
    out = {"mean_distance_mm": _mdist(xc, yc), "mean_distance_ml_mm": _mdist_axis(xc),
           "mean_distance_ap_mm": _mdist_axis(yc), "rms_distance_mm": _rdist(xc2, yc2),
           "rms_ml_mm": _rms_axis(xc2), "rms_ap_mm": _rms_axis(yc2),
           "sd_ml_mm": _sd_axis(xc2), "sd_ap_mm": _sd_axis(yc2),
           "range_mm": max_pair_distance_mm(hull_points),
           "range_ml_mm": _range(x), "range_ap_mm": _range(y),
           "path_length_mm": _path(dx, dy), "path_length_ml_mm": _path_axis(dx),
           "path_length_ap_mm": _path_axis(dy)}
    for key in ("", "_ml", "_ap"):
        out[f"mean_velocity{key}_mm_s"] = _per_duration(out[f"path_length{key}_mm"], n, fs)
    out["sway_area_per_second_mm2_s"] = _swept_area(xc, yc, fs)
    out["mean_frequency_hz"] = _mfreq(out["mean_velocity_mm_s"], out["mean_distance_mm"])
    for ax in ("ml", "ap"):
        out[f"mean_frequency_{ax}_hz"] = _mfreq_axis(out[f"mean_velocity_{ax}_mm_s"],
                                                     out[f"mean_distance_{ax}_mm"])
    return out


_R = PRIETO
register("mean_distance_mm", "mm", "Mean distance", _R, mean_distance_mm, "time")
register("mean_distance_ml_mm", "mm", "Mean distance ML", _R, mean_distance_axis_mm, "time")
register("mean_distance_ap_mm", "mm", "Mean distance AP", _R, mean_distance_axis_mm, "time")
register("rms_distance_mm", "mm", "RMS distance", _R, rms_distance_mm, "time")
register("rms_ml_mm", "mm", "RMS ML", _R, rms_axis_mm, "time")
register("rms_ap_mm", "mm", "RMS AP", _R, rms_axis_mm, "time")
register("sd_ml_mm", "mm", "SD ML (N-1)", "Knapp et al. 2011, J Athl Train 46:257", sd_axis_mm, "time")
register("sd_ap_mm", "mm", "SD AP (N-1)", "Knapp et al. 2011, J Athl Train 46:257", sd_axis_mm, "time")
register("range_mm", "mm", "Range (resultant)", _R, range_mm, "time")
register("range_ml_mm", "mm", "Range ML", _R, range_axis_mm, "time")
register("range_ap_mm", "mm", "Range AP", _R, range_axis_mm, "time")
register("path_length_mm", "mm", "Path length", _R, path_length_mm, "time")
register("path_length_ml_mm", "mm", "Path length ML", _R, path_length_axis_mm, "time")
register("path_length_ap_mm", "mm", "Path length AP", _R, path_length_axis_mm, "time")
register("mean_velocity_mm_s", "mm/s", "Mean velocity", _R + "; T = N/fs", mean_velocity_mm_s, "time")
register("mean_velocity_ml_mm_s", "mm/s", "Mean velocity ML", _R + "; T = N/fs",
         mean_velocity_axis_mm_s, "time")
register("mean_velocity_ap_mm_s", "mm/s", "Mean velocity AP", _R + "; T = N/fs",
         mean_velocity_axis_mm_s, "time")
register("sway_area_per_second_mm2_s", "mm^2/s", "Sway area per second", _R,
         sway_area_per_second_mm2_s, "time")
register("mean_frequency_hz", "Hz", "Mean frequency (Prieto)", _R, mean_frequency_hz, "time")
register("mean_frequency_ml_hz", "Hz", "Mean frequency ML (Prieto)", _R, mean_frequency_axis_hz, "time")
register("mean_frequency_ap_hz", "Hz", "Mean frequency AP (Prieto)", _R, mean_frequency_axis_hz, "time")
register("cop_mean_ml_mm", "mm", "Mean COP position ML (board)", "board frame, DESIGN.md",
         cop_mean_mm, "time")
register("cop_mean_ap_mm", "mm", "Mean COP position AP (board)", "board frame, DESIGN.md",
         cop_mean_mm, "time")
