import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(params=["compiled", "numpy"])
def kernels(request, monkeypatch):
    """Runs a test twice: with the compiled kernels (rig.engine._kernels, which the test
    environment builds: `pip install -e .` and .ci/run compile them) and with the numpy code
    that installs without a C compiler use. Yields the name."""
    from rig.engine import native
    if request.param == "compiled":
        assert native.KERNELS is not None, (
            "rig.engine._kernels is not built in this environment: reinstall with a C compiler "
            "and Python's headers (pip install -e .), or the compiled code goes untested")
    else:
        monkeypatch.setattr(native, "KERNELS", None)
    return request.param
