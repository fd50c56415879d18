"""Every test runs once per available backend (markupsafe's pattern).

With the compiled extension built, each test runs on "numpy" and "c";
with IM2COL_EXT_BACKEND=numpy (or no extension) on "numpy" only.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

from im2col_ext import _backend

BACKENDS = ["numpy"] + (["c"] if _backend.compiled is not None else [])

settings.register_profile(
    "default",
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    deadline=None,
    max_examples=int(os.environ.get("IM2COL_EXT_FUZZ_EXAMPLES", "10000")),
    suppress_health_check=list(HealthCheck),
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(params=BACKENDS, autouse=True)
def backend(request):
    """The backend name this test runs on; the kernels are switched for its duration."""
    previous = _backend.use(request.param)
    try:
        yield request.param
    finally:
        _backend.use(previous)


def pytest_report_header(config):
    return f"im2col_ext backends under test: {', '.join(BACKENDS)}"


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long tests, run with `make test-slow`")
