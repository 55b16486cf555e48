"""Builds the engine's compiled kernels (``rig.engine._kernels``, optional: an install without
a C compiler falls back to the numpy code, see ``rig/engine/native.py``), and ships the repository's top-level ``protocols/`` and ``calibration/nominal.toml`` in the wheel
as package data (``rig/data/``): the repository layout is fixed, the installed package must
still find them (read with ``importlib.resources`` by ``rig.paths.shipped_dir``)."""
import shutil
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = {
    "protocols": ["*.toml", "*.md"],
    "calibration": ["nominal.toml", "*.md"],
}


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        for folder, patterns in SHIPPED.items():
            dest = Path(self.build_lib) / "rig" / "data" / folder
            dest.mkdir(parents=True, exist_ok=True)
            for pattern in patterns:
                for f in sorted((ROOT / folder).glob(pattern)):
                    shutil.copy2(f, dest / f.name)


# optional: where it cannot be built (no C compiler or Python headers) pip says so and installs
# the package without it; the engine then computes the same numbers with numpy, more slowly
# Python's own compiler flags (optimised, never -ffast-math), and no fused multiply-add: the
# hull's cross products and the sample-entropy comparisons must round as numpy's do, so that
# both give the same vertices and counts (GCC fuses a * b - c * d by default where the CPU
# has FMA, e.g. on ARM64)
KERNELS = Extension("rig.engine._kernels", ["rig/engine/_kernels.c"], optional=True,
                    extra_compile_args=[] if sys.platform == "win32" else ["-ffp-contract=off"])

setup(cmdclass={"build_py": BuildPyWithData}, ext_modules=[KERNELS])
