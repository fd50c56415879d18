"""Timing: interleaved rounds and medians, the cross-check, thread settings, the machine.

Every case times ours and its peers side by side in one process, in
interleaved rounds (the order rotates from round to round), so that machine
noise hits all of them alike.
"""

import datetime
import gc
import math
import os
import platform
import statistics
import time

import numpy as np

import im2col_ext
from im2col_ext import _backend
from im2col_ext._api import _max_pool_forward, _max_pool_scatter, _pool_geometry

from .cases import POOL_SHAPES, TORCH, WINDOW_SHAPES, DTYPES, build, dims


def ours_backend():
    return "c" if _backend.compiled is not None else "numpy"


def on_backend(name, fn):
    """``fn`` wrapped to run on backend ``name`` ("c" or "numpy") and restore the previous one."""

    def run():
        previous = _backend.use(name)
        try:
            return fn()
        finally:
            _backend.use(previous)

    return run


#: The clocks ``--clock`` chooses from: wall time, or the CPU time of the
#: calling thread (one thread only: on a shared machine it leaves out the time
#: other processes take the core away; page faults still count).
CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def measure(callables, repeats, min_sample, clock=time.perf_counter):
    """Median seconds per call of each callable, timed in interleaved rounds.

    Each callable is called once to warm up (its result is returned for the
    cross-check; an exception drops it).  Then, ``repeats`` times, every
    callable is timed once in turn (the order rotates from round to round),
    with the garbage collector off; a callable faster than ``min_sample`` is
    called ``ceil(min_sample / t)`` times per sample, ``t`` being the time of
    a second call (or of the warm-up, if that took over a second).

    ``clock`` is one of :data:`CLOCKS`.

    Returns ``(medians, samples, results, errors)``, dicts keyed like ``callables``.
    """
    results, errors, inner = {}, {}, {}
    for name, fn in callables.items():
        t0 = time.perf_counter()
        try:
            results[name] = fn()
        except Exception as exc:
            errors[name] = f"{type(exc).__name__}: {exc}"
            continue
        elapsed = time.perf_counter() - t0
        if elapsed < 1.0 and min_sample > 0:
            t0 = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - t0
        inner[name] = max(1, math.ceil(min_sample / max(elapsed, 1e-7)))
    names = [n for n in callables if n in inner]
    samples = {n: [] for n in names}
    if not names:
        return {}, samples, results, errors
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for r in range(repeats):
            for name in names[r % len(names):] + names[:r % len(names)]:
                fn, count = callables[name], inner[name]
                t0 = clock()
                for _ in range(count):
                    fn()
                samples[name].append((clock() - t0) / count)
    finally:
        if gc_was_enabled:
            gc.enable()
    medians = {n: statistics.median(s) for n, s in samples.items() if s}
    return medians, samples, results, errors


def _as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


def same(ours, theirs, dtype):
    """Whether two results agree to the dtype's precision (scaled by the largest value)."""
    ours, theirs = _as_tuple(ours), _as_tuple(theirs)
    if len(ours) != len(theirs):
        return False
    rtol = 1e-3 if dtype == "float32" else 1e-8
    for a, b in zip(ours, theirs):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        scale = float(np.max(np.abs(b))) if b.size else 0.0
        if not np.allclose(a, b, rtol=rtol, atol=rtol * scale):
            return False
    return True


def run_case(case, repeats, min_sample, rng, clock=time.perf_counter):
    """Build and time one case; fills ``case.medians``, ``skipped`` and ``mismatches``."""
    built = build(case, rng)
    backend = ours_backend()
    callables = {"ours": on_backend(backend, built.ours)}
    if backend == "c":
        callables["numpy"] = on_backend("numpy", built.ours)
    else:
        case.skipped["numpy"] = "ours is the NumPy backend (extension not built)"
    for name, fn in built.peers.items():
        callables[name] = on_backend(backend, fn) if name in built.on_our_backend else fn
    if TORCH.F is None and any(t.peer == "torch" for t in case.targets):
        case.skipped["torch"] = TORCH.why_not
    case.cols_bytes = built.cols_bytes
    medians, samples, results, errors = measure(callables, repeats, min_sample, clock)
    if "ours" in errors:  # e.g. a shape the API rejects: the peers' errors say the same
        case.skipped = {"ours": errors["ours"]}
        return case
    case.skipped.update(errors)
    for name, result in results.items():
        if name in ("ours", "memcpy", "copy") or name in built.unchecked:
            continue
        result = built.convert.get(name, lambda r: r)(result)
        if not same(results["ours"], result, case.dtype):
            case.mismatches.append(name)
    case.medians = medians
    case.samples = samples
    return case


def threads_compare(batch_scale, tiny, repeats, min_sample, rng):
    """Times of the C kernels on 1 and 2 threads (im2col, col2im, max-pool scatter)."""
    if _backend.compiled is None:
        return []
    rows = []
    (n, c, h, w), k, pad, s = WINDOW_SHAPES[2]
    n = 2 if tiny else max(1, int(round(n * batch_scale)))
    c = min(c, 4) if tiny else c
    (pn, pc, ph, pw), pk, ps = POOL_SHAPES[0]
    pn = 2 if tiny else max(1, int(round(pn * batch_scale)))
    pc = min(pc, 4) if tiny else pc
    for dtype in DTYPES:
        x = rng.standard_normal((n, c, h, w), dtype=dtype)
        cols = im2col_ext.im2col_indices(x, k, k, padding=pad, stride=s)
        px = rng.standard_normal((pn, pc, ph, pw), dtype=dtype)
        g = _pool_geometry(px.shape, pk, ps, 0, 1)
        pout, argmax = _max_pool_forward(px, g)
        dout = rng.standard_normal(pout.shape, dtype=dtype)
        jobs = [
            ("im2col_indices", f"{dims(x.shape)} k{k} p{pad} s{s}",
             lambda: im2col_ext.im2col_indices(x, k, k, padding=pad, stride=s)),
            ("col2im_indices", f"{dims(x.shape)} k{k} p{pad} s{s}",
             lambda: im2col_ext.col2im_indices(cols, x.shape, k, k, padding=pad, stride=s)),
            ("max_pool_scatter", f"{dims(px.shape)} k{pk} s{ps}",
             lambda: _max_pool_scatter(dout, argmax, g)),
        ]
        for op, label, fn in jobs:
            def on_threads(count, fn=fn):
                def run():
                    _backend.set_num_threads(count)
                    return fn()
                return run

            callables = {"1": on_backend("c", on_threads(1)), "2": on_backend("c", on_threads(2))}
            medians, _, _, errors = measure(callables, repeats, min_sample)
            if errors:
                continue
            rows.append({"op": op, "shape": label, "dtype": dtype, "t1_ms": medians["1"] * 1e3,
                         "t2_ms": medians["2"] * 1e3, "ratio": medians["2"] / medians["1"]})
    return rows


# --------------------------------------------------------------------------
# threads and the machine
# --------------------------------------------------------------------------

_UNDO = []  # callables that restore the thread settings set_threads changed


def set_threads(n):
    """Hold im2col_ext, torch and the BLAS to ``n`` threads; returns a description of the BLAS.

    :func:`restore_threads` undoes it (``main`` calls it, so that a test or a
    notebook calling ``main`` keeps its own settings).
    """
    previous = _backend.get_num_threads()
    _UNDO.append(lambda: _backend.set_num_threads(previous))
    _backend.set_num_threads(n)
    if TORCH.module is not None:
        torch_previous = TORCH.module.get_num_threads()
        _UNDO.append(lambda: TORCH.module.set_num_threads(torch_previous))
        TORCH.module.set_num_threads(n)
    try:
        import threadpoolctl
    except ImportError:
        return ("not controlled (no threadpoolctl; set OPENBLAS_NUM_THREADS, "
                "OMP_NUM_THREADS, MKL_NUM_THREADS before starting Python)")
    limiter = threadpoolctl.threadpool_limits(limits=n, user_api="blas")
    _UNDO.append(limiter.restore_original_limits)
    libs = [f"{i['internal_api']}={i['num_threads']}"
            + (f" {i['architecture']}" if i.get("architecture") else "")
            for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    return f"{', '.join(libs) or 'none found'} (threadpoolctl)"


def restore_threads():
    while _UNDO:
        _UNDO.pop()()


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average():
    """The 1-minute load average (other processes' work skews timings), or None."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def machine_info(threads, blas):
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    ext = _backend.compiled
    return {
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": TORCH.module.__version__ if TORCH.module is not None else None,
        "im2col_ext": im2col_ext.__version__,
        "backend": ours_backend(),
        "extension": getattr(ext, "__file__", None),
        "build_info": dict(getattr(ext, "build_info", {}) or {}),
        "threads": threads,
        "blas_threads": blas,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "load_average": load_average(),
    }
