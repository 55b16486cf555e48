"""Plain JSON types from numpy values: one conversion for the store and the exports."""
from __future__ import annotations

import math

import numpy as np


def jsonable(x, nan_as_none: bool = False):
    """``x`` with numpy arrays/scalars turned into lists/Python numbers and keys into strings.

    ``nan_as_none``: NaN and infinities become None (strict JSON for exports); otherwise they
    are kept (the store writes them with ``allow_nan``)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v, nan_as_none) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v, nan_as_none) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist(), nan_as_none)
    if isinstance(x, np.generic):
        return jsonable(x.item(), nan_as_none)
    if nan_as_none and isinstance(x, float) and not math.isfinite(x):
        return None
    return x
