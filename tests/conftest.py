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
settings.register_profile(
    "valgrind",
    deadline=None,
    max_examples=8,
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
    import im2col_ext

    return (f"im2col_ext {im2col_ext.__version__} from {os.path.dirname(im2col_ext.__file__)}; "
            f"backends under test: {', '.join(BACKENDS)}")


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="run the tests marked slow")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long tests, run with `make test-slow`")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with `make test-slow` (--run-slow)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
