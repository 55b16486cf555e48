"""The engine's compiled kernels (``rig/engine/_kernels.c``), when this install has them.

Six inner loops run in C when the package was built with a C compiler (the wheel and
``pip install .`` build them; the build is optional, so an install without a compiler still
works): the sample-entropy pair count (``nonlinear.count_matches``), the DFA residual sums
(``nonlinear.dfa_alphas``), the IIR sections of the low-pass (``preprocess.lowpass``), the
window average onto a grid (``preprocess.window_average``), the convex hull
(``hull.hull_indices``) and the SDA line fits (``diffusion._LineFits``). Each caller keeps its
numpy code, which computes the same numbers (the counts, hulls, window averages and line fits
exactly; the DFA sums and filter outputs to rounding; the tests hold them equal) and is used
when the kernels are absent or switched off.

``RIG_KERNELS=numpy`` in the environment switches them off (to compare, or to rule them out
when a number looks wrong). ``KERNELS`` is the module, or None.
"""
from __future__ import annotations

import os

KERNELS = None
if os.environ.get("RIG_KERNELS", "").strip().lower() != "numpy":
    try:
        from rig.engine import _kernels as KERNELS  # noqa: N812 (a module, named as a constant)
    except ImportError:                 # built without a C compiler: the numpy code runs
        KERNELS = None


def describe() -> str:
    """One line for ``--version`` style reports and the benchmark: which code runs."""
    if KERNELS is not None:
        return "compiled kernels (rig.engine._kernels)"
    if os.environ.get("RIG_KERNELS", "").strip().lower() == "numpy":
        return "numpy only (RIG_KERNELS=numpy)"
    return "numpy only (compiled kernels not built in this install)"
