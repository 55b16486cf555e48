"""Planar convex hull of COP points in numpy (no scipy.spatial: 0.3 s less start-up).

Akl-Toussaint prefilter: the extreme points in eight directions (x, y, x + y, x - y, each min
and max) span a convex polygon; points strictly inside it cannot be hull vertices and are
dropped in one vectorised test (for quiet-stance sway, all but a few per cent). Andrew's
monotone chain then runs on the rest. Collinear points on an edge are not vertices. When
this install has the compiled kernels (``rig.engine.native``) the same steps run in C, with
the same predicates and tie rules, so the same vertices in the same order (tested).
"""
from __future__ import annotations

import numpy as np

from rig.engine import native


def _chain(px: list, py: list) -> list[int]:
    """Andrew's monotone chain on points sorted by (x, y): indices of the hull, counter-
    clockwise, collinear points dropped."""
    def half(order):
        out: list[int] = []
        for i in order:
            while len(out) >= 2:
                o, a = out[-2], out[-1]
                if (px[a] - px[o]) * (py[i] - py[o]) - (py[a] - py[o]) * (px[i] - px[o]) > 0:
                    break
                out.pop()
            out.append(i)
        return out
    idx = range(len(px))
    lower, upper = half(idx), half(reversed(idx))
    return lower[:-1] + upper[:-1]


def _hull_of(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    order = np.lexsort((y, x))
    keep = np.ones(order.size, dtype=bool)                     # drop exact duplicates
    keep[1:] = (np.diff(x[order]) != 0) | (np.diff(y[order]) != 0)
    order = order[keep]
    if order.size < 3:
        return order
    return order[_chain(x[order].tolist(), y[order].tolist())]


def hull_indices(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the convex-hull vertices of the points (x, y), counter-clockwise; fewer than
    three when the points are collinear or coincident."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if native.KERNELS is not None:                   # the same steps, in C (tested equal)
        return np.array(native.KERNELS.hull(np.ascontiguousarray(x), np.ascontiguousarray(y)),
                        dtype=np.intp)
    ext = np.unique([x.argmin(), x.argmax(), y.argmin(), y.argmax(), (x + y).argmin(),
                     (x + y).argmax(), (x - y).argmin(), (x - y).argmax()])
    poly = ext[_hull_of(x[ext], y[ext])]
    cand = np.arange(x.size)
    if poly.size >= 3:
        px, py = x[poly], y[poly]
        qx, qy = np.roll(px, -1), np.roll(py, -1)
        inside = np.ones(x.size, dtype=bool)
        for i in range(poly.size):                             # at most 8 edges
            inside &= (qx[i] - px[i]) * (y - py[i]) - (qy[i] - py[i]) * (x - px[i]) > 0
        cand = np.flatnonzero(~inside)
    return cand[_hull_of(x[cand], y[cand])]


def polygon_area(x: np.ndarray, y: np.ndarray) -> float:
    """Area of a simple polygon from its vertices in order (shoelace formula), >= 0."""
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
