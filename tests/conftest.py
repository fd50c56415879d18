"""The test harness: which backend each test runs on, markers, hypothesis profiles.

Run the suite from the clone's root (``make test``, or ``python -m pytest``
after ``make build``); the configuration is in pyproject.toml.

The ``backend`` fixture
    Autouse: every test runs once per available backend -- on "numpy" and on
    "c" when the compiled extension is importable, on "numpy" only when it is
    not or with ``IM2COL_EXT_BACKEND=numpy`` (markupsafe's pattern).  The
    kernels are switched for the test's duration; a test that wants to know
    which backend it runs on takes ``backend`` as an argument (its value is
    ``"numpy"`` or ``"c"``).  Never define another fixture named ``backend``
    in a test module: use a marker below instead.

Markers (registered here; ``--strict-markers`` rejects any other)
    ``c_only``
        The test is about the compiled extension itself (its kernels, its
        attributes, its threads): it runs once, with backend "c", and is
        skipped, with the reason, where the extension is not available.
    ``any_backend``
        The result does not depend on the backend (argument validation that
        happens in Python before any kernel, signatures, pure-Python code):
        it runs once, on the default backend ("c" when built, else "numpy").
    ``cross_backend``
        The test compares the backends itself (it calls ``_backend.use`` or
        both kernel modules): it runs once, and the backend in use before it
        is restored after it.  The fuzz tests are such: each example runs
        once per backend, not once per backend squared.
    ``torch``
        Needs PyTorch (the optional cross-check oracle); such a test also
        uses ``pytest.importorskip("torch")``, so it skips, with the reason,
        where torch is not installed.  ``pytest -m torch`` runs only these.
    ``slow``
        Long tests (arrays over 2**31 elements); skipped unless ``--run-slow``.

Apply a marker to a whole module with ``pytestmark = pytest.mark.c_only``
or to one test with ``@pytest.mark.c_only``.

Hypothesis profiles (``HYPOTHESIS_PROFILE``): ``default``, ``fuzz`` (long:
``IM2COL_EXT_FUZZ_EXAMPLES`` examples per test, ``make fuzz``) and
``valgrind`` (few examples).
"""

import os

import pytest
from hypothesis import HealthCheck, settings

from im2col_ext import _backend

BACKENDS = ["numpy"] + (["c"] if _backend.compiled is not None else [])
DEFAULT_BACKEND = _backend.name()

# Markers whose tests run once, not once per backend.
RUN_ONCE = ("c_only", "any_backend", "cross_backend")

MARKERS = {
    "c_only": "tests of the compiled extension itself: run once, on backend 'c'; "
              "skipped without it",
    "any_backend": "the result does not depend on the backend: run once, on the default one",
    "cross_backend": "the test switches or compares the backends itself: run once",
    "torch": "needs PyTorch (optional); `pytest -m torch` runs only these",
    "slow": "long tests, run with `make test-slow` (--run-slow)",
}

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


def _runs_once(node):
    return any(node.get_closest_marker(m) is not None for m in RUN_ONCE)


def pytest_generate_tests(metafunc):
    """Parametrise ``backend`` over BACKENDS, except for the run-once markers."""
    if "backend" in metafunc.fixturenames and not _runs_once(metafunc.definition):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture(autouse=True)
def backend(request):
    """The backend name this test runs on; the kernels are switched for its duration."""
    if request.node.get_closest_marker("c_only") is not None:
        name = "c"
    else:
        name = getattr(request, "param", None) or _backend.name()
    previous = _backend.use(name)
    try:
        yield name
    finally:
        _backend.use(previous)


def pytest_report_header(config):
    import im2col_ext

    where = os.path.dirname(im2col_ext.__file__)
    lines = [f"im2col_ext {im2col_ext.__version__} from {where}; "
             f"backends under test: {', '.join(BACKENDS)}"]
    if _backend.compiled is None and _backend.import_error is not None:
        lines.append(f"compiled extension not in use: {_backend.import_error}")
    return lines


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="run the tests marked slow")


def pytest_configure(config):
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")


def pytest_collection_modifyitems(config, items):
    run_slow = config.getoption("--run-slow")
    skip_slow = pytest.mark.skip(reason="slow: run with `make test-slow` (--run-slow)")
    if _backend.compiled is not None:
        skip_c = None
    elif _backend.requested == "numpy":
        skip_c = pytest.mark.skip(reason="c_only: IM2COL_EXT_BACKEND=numpy")
    else:
        skip_c = pytest.mark.skip(
            reason=f"c_only: the compiled extension is not available ({_backend.import_error})")
    for item in items:
        if not run_slow and "slow" in item.keywords:
            item.add_marker(skip_slow)
        if skip_c is not None and item.get_closest_marker("c_only") is not None:
            item.add_marker(skip_c)
