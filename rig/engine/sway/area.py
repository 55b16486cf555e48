"""Area measures: 95 % prediction ellipse (F and chi-square forms), convex hull, rectangle.

Prediction ellipse (science.md §1.4 b). With S the unbiased (N - 1) covariance of (ML, AP)
and lambda_1 >= lambda_2 its eigenvalues, a new point from the same distribution falls inside

    (p - mean)' S^-1 (p - mean) <= k,   k = F_0.95(2, N - 2) * 2 (N - 1)(N + 1) / (N (N - 2))

with probability 0.95 (Chew 1966, Technometrics 8:323; Schubert & Kirchner 2014, Gait
Posture 39:518, who recommend the prediction ellipse for posturography). Area = pi k sqrt(det S),
semi-axes sqrt(k lambda_i). The chi-square form uses k = chi2_0.95(2) = 5.991 (the large-N
limit, Schubert & Kirchner's MATLAB appendix). The Posture Data Set's published COParea is
the F form (dos Santos et al. 2017, PeerJ 5:e3626).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rig.engine.sway import _checks
from rig.engine.sway.hull import hull_indices, polygon_area
from rig.engine.sway.registry import register

SCHUBERT = "Schubert & Kirchner 2014, Gait Posture 39:518; Chew 1966, Technometrics 8:323"


@dataclass(frozen=True)
class Ellipse:
    """A prediction ellipse in the board frame.

    area_mm2: area (mm^2); major_mm, minor_mm: semi-axes (mm); angle_deg: direction of the
    major axis, counter-clockwise from +x (ML, right) towards +y (AP, forward), in (-90, 90];
    NaN when the scatter is isotropic (no major axis); k: the squared-radius multiplier used;
    method: "F" or "chi2".
    """

    area_mm2: float
    major_mm: float
    minor_mm: float
    angle_deg: float
    k: float
    method: str
    p: float
    centre_mm: tuple[float, float]
    cov_mm2: np.ndarray

    def contains(self, x_mm, y_mm) -> np.ndarray:
        """True for points inside the ellipse (Mahalanobis distance^2 <= k)."""
        d = np.column_stack([np.asarray(x_mm) - self.centre_mm[0], np.asarray(y_mm) - self.centre_mm[1]])
        inv = np.linalg.pinv(self.cov_mm2)
        return np.einsum("ij,jk,ik->i", d, inv, d) <= self.k


def prediction_multiplier(n: int, p: float = 0.95, method: str = "F") -> float:
    """Squared Mahalanobis radius k of the p prediction ellipse for n points.

    "F": F_p(2, n-2) * 2 (n-1)(n+1) / (n (n-2)) (Chew 1966, exact for Gaussian data);
    "chi2": chi2_p(2) (large-n limit).
    """
    if method == "chi2":
        return float(-2.0 * np.log1p(-p))      # chi-square quantile with 2 dof, closed form
    if method != "F":
        raise ValueError(f"ellipse method must be 'F' or 'chi2', got {method!r}")
    # F quantile with (2, d) degrees of freedom in closed form (its CDF is
    # 1 - (1 + 2x/d)^(-d/2)): x = d/2 ((1 - p)^(-2/d) - 1); equal to scipy.special.fdtri to
    # 1e-15 without importing scipy.special (0.3 s of start-up)
    d = n - 2
    f_quantile = 0.5 * d * np.expm1(-2.0 / d * np.log1p(-p))
    return float(f_quantile * 2.0 * (n - 1) * (n + 1) / (n * (n - 2)))


def prediction_ellipse(x_mm, y_mm, p: float = 0.95, method: str = "F") -> Ellipse:
    """The p prediction ellipse of the COP points (needs 4 samples). Chew 1966; Schubert &
    Kirchner 2014. Area in mm^2, semi-axes in mm, angle in degrees (see ``Ellipse``)."""
    x, y = _checks.xy(x_mm, y_mm, 4)
    n = x.shape[0]
    cov = np.cov(np.vstack([x, y]))                 # unbiased, N - 1
    lam, vec = np.linalg.eigh(cov)                  # ascending
    lam = np.clip(lam, 0.0, None)
    k = prediction_multiplier(n, p, method)
    det = max(cov[0, 0] * cov[1, 1] - cov[0, 1] ** 2, 0.0)
    area = float(np.pi * k * np.sqrt(det))
    if lam[1] - lam[0] <= 1e-12 * max(lam[1], 1e-300):
        angle = float("nan")
    else:
        vx, vy = vec[:, 1]
        angle = float(np.degrees(np.arctan(vy / vx))) if vx != 0 else 90.0
        if angle <= -90.0:
            angle += 180.0
    return Ellipse(area, float(np.sqrt(k * lam[1])), float(np.sqrt(k * lam[0])), angle, k,
                   method, p, (float(x.mean()), float(y.mean())), cov)


def ellipse95_area_mm2(x_mm, y_mm) -> float:
    """Area of the 95 % prediction ellipse, F form (mm^2). Chew 1966; Schubert & Kirchner 2014."""
    return prediction_ellipse(x_mm, y_mm, 0.95, "F").area_mm2


def ellipse95_chi2_area_mm2(x_mm, y_mm) -> float:
    """Area of the 95 % prediction ellipse, chi-square form pi * 5.991 * sqrt(det S) (mm^2).
    Schubert & Kirchner 2014 (MATLAB appendix)."""
    return prediction_ellipse(x_mm, y_mm, 0.95, "chi2").area_mm2


def convex_hull(x_mm, y_mm) -> tuple[float, np.ndarray]:
    """Convex hull of the COP points: (area in mm^2, (h, 2) vertex points in mm). Needs 3
    samples. Collinear or coincident points enclose no area: 0 by rule, and the vertices are
    then the axis extremes."""
    x, y = _checks.xy(x_mm, y_mm, 3)
    pts = np.column_stack([x, y])
    idx = hull_indices(x, y)
    if idx.size < 3:
        return 0.0, pts[np.unique([x.argmin(), x.argmax(), y.argmin(), y.argmax()])]
    return polygon_area(x[idx], y[idx]), pts[idx]


def convex_hull_area_mm2(x_mm, y_mm) -> float:
    """Area of the convex hull of the COP points (mm^2) (science.md §1.4 d). Needs 3 samples;
    collinear points: 0 by rule."""
    return convex_hull(x_mm, y_mm)[0]


def rectangle_area_mm2(x_mm, y_mm) -> float:
    """Rectangular area: ML range x AP range (mm^2) (Linens et al. 2014, J Athl Train 49:15)."""
    x, y = _checks.xy(x_mm, y_mm, 1)
    return float(np.ptp(x) * np.ptp(y))


register("ellipse95_area_mm2", "mm^2", "95 % prediction ellipse area (F)", SCHUBERT,
         ellipse95_area_mm2, "area")
register("ellipse95_major_mm", "mm", "95 % ellipse semi-major axis", SCHUBERT, prediction_ellipse, "area")
register("ellipse95_minor_mm", "mm", "95 % ellipse semi-minor axis", SCHUBERT, prediction_ellipse, "area")
register("ellipse95_angle_deg", "deg", "95 % ellipse major-axis angle from ML", SCHUBERT,
         prediction_ellipse, "area")
register("ellipse95_chi2_area_mm2", "mm^2", "95 % prediction ellipse area (chi2)",
         "Schubert & Kirchner 2014, Gait Posture 39:518", ellipse95_chi2_area_mm2, "area")
register("convex_hull_area_mm2", "mm^2", "Convex hull area", "science.md §1.4 d",
         convex_hull_area_mm2, "area")
register("rectangle_area_mm2", "mm^2", "Rectangular area (range ML x AP)",
         "Linens et al. 2014, J Athl Train 49:15", rectangle_area_mm2, "area")
