"""Thread safety: many calls from 8 Python threads at once, and the GIL released in kernels."""

import threading
import time

import numpy as np
import pytest

import im2col_ext
from im2col_ext import _backend, layers


def _jobs():
    rng = np.random.default_rng(7)
    jobs = []
    for i in range(24):
        x = rng.standard_normal((3, 4, 9 + i % 5, 8)).astype(np.float32 if i % 2 else np.float64)
        k, p, s = 1 + i % 4, i % 2, 1 + i % 3
        jobs.append((
            lambda x=x, k=k, p=p, s=s: im2col_ext.unfold(x, k, padding=p, stride=s),
            lambda x=x, k=k, p=p, s=s: im2col_ext.col2im_indices(
                im2col_ext.im2col_indices(x, k, k, p, s), x.shape, k, k, p, s),
            lambda x=x: layers.max_pool2d_backward(np.ones((3, 4, (x.shape[2] - 3) // 2 + 1, 3)),
                                                   layers.max_pool2d_forward(x, 3, 2)[1]),
        ))
    return [f for triple in jobs for f in triple]


def test_many_calls_from_8_threads_give_the_serial_results():
    jobs = _jobs()
    expected = [f() for f in jobs]
    errors = []

    def worker(tid):
        try:
            for rep in range(5):
                for i in range(tid, len(jobs) + tid):
                    j = i % len(jobs)
                    np.testing.assert_array_equal(jobs[j](), expected[j])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


@pytest.mark.c_only
def test_another_thread_runs_while_a_long_kernel_runs(backend):
    """With the GIL released in the kernel, a pure-Python thread keeps ticking."""
    if backend != "c":
        pytest.skip("the GIL release is a property of the compiled kernels")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 64, 64, 64))
    cols = im2col_ext.im2col_indices(x, 5, 5, 2, 1)
    previous = im2col_ext.get_num_threads()
    im2col_ext.set_num_threads(1)
    try:
        t0 = time.perf_counter()
        im2col_ext.col2im_indices(cols, x.shape, 5, 5, 2, 1)
        kernel_time = time.perf_counter() - t0
        stamps, done = [], threading.Event()

        def ticker():
            while not done.is_set():
                stamps.append(time.perf_counter())

        t = threading.Thread(target=ticker)
        t.start()
        time.sleep(0.02)
        start = time.perf_counter()
        im2col_ext.col2im_indices(cols, x.shape, 5, 5, 2, 1)
        end = time.perf_counter()
        done.set()
        t.join()
    finally:
        im2col_ext.set_num_threads(previous)
    during = [s for s in stamps if start <= s <= end]
    gaps = np.diff([start] + during + [end])
    # Holding the GIL for the whole kernel would leave one gap as long as the call.
    assert len(during) > 10
    assert gaps.max() < 0.5 * (end - start), (gaps.max(), end - start, kernel_time)


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
@pytest.mark.c_only
def test_results_do_not_depend_on_the_thread_count(backend, threads):
    if backend != "c":
        pytest.skip("thread count applies to the compiled kernels")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 7, 13, 11))
    previous = im2col_ext.get_num_threads()
    try:
        im2col_ext.set_num_threads(1)
        ref = [im2col_ext.col2im_indices(rng.standard_normal((63, 11 * 9 * 5)), x.shape, 3, 3, 0, 1)
               for rng in [np.random.default_rng(4)]]
        ref.append(im2col_ext.fold(np.random.default_rng(5).standard_normal((5, 63, 143)),
                                   (13, 11), 3, padding=1))
        im2col_ext.set_num_threads(threads)
        got = [im2col_ext.col2im_indices(rng.standard_normal((63, 11 * 9 * 5)), x.shape, 3, 3, 0, 1)
               for rng in [np.random.default_rng(4)]]
        got.append(im2col_ext.fold(np.random.default_rng(5).standard_normal((5, 63, 143)),
                                   (13, 11), 3, padding=1))
    finally:
        im2col_ext.set_num_threads(previous)
    for a, b in zip(ref, got):
        np.testing.assert_array_equal(a, b)


def test_set_num_threads_checks_its_argument():
    with pytest.raises(TypeError, match="n"):
        im2col_ext.set_num_threads(1.5)
    with pytest.raises(ValueError, match="n"):
        im2col_ext.set_num_threads(0)


@pytest.mark.c_only
def test_forked_child_runs_kernels_single_threaded(backend):
    """libgomp cannot start threads in a forked child: the child must not hang."""
    import os
    import sys

    if backend != "c" or not hasattr(os, "fork") or sys.platform == "darwin":
        pytest.skip("fork + OpenMP is a property of the compiled kernels on Linux")
    import subprocess

    code = (
        "import os, sys, warnings, numpy as np, im2col_ext\n"
        "x = np.random.default_rng(0).standard_normal((8, 16, 32, 32))\n"
        "im2col_ext.set_num_threads(2)\n"
        "ref = im2col_ext.fold(im2col_ext.unfold(x, 3, padding=1), 32, 3, padding=1)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    with warnings.catch_warnings(record=True) as w:\n"
        "        warnings.simplefilter('always')\n"
        "        im2col_ext.set_num_threads(2)\n"
        "    ok = im2col_ext.get_num_threads() == 1 and len(w) == 1\n"
        "    got = im2col_ext.fold(im2col_ext.unfold(x, 3, padding=1), 32, 3, padding=1)\n"
        "    os._exit(0 if ok and np.array_equal(got, ref) else 3)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "sys.exit(os.waitstatus_to_exitcode(status))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], timeout=120, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.c_only
@pytest.mark.parametrize("user_value", [None, "ACTIVE"])
def test_openmp_idle_threads_sleep_unless_the_user_says_otherwise(backend, user_value):
    """Spinning OpenMP workers fought the BLAS threads (a 5x slower conv layer)."""
    import os
    import subprocess
    import sys

    if backend != "c" or not _backend.compiled.openmp:
        pytest.skip("needs the compiled extension with OpenMP")
    env = dict(os.environ, OMP_DISPLAY_ENV="TRUE")
    env.pop("OMP_WAIT_POLICY", None)
    if user_value:
        env["OMP_WAIT_POLICY"] = user_value
    code = "import os, im2col_ext; print('left:', os.environ.get('OMP_WAIT_POLICY'))"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    shown = proc.stdout + proc.stderr
    assert f"OMP_WAIT_POLICY = '{user_value or 'PASSIVE'}'" in shown, shown
    assert f"left: {user_value}" in proc.stdout  # the environment is restored
