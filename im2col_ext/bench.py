"""The benchmark suite: ``python -m im2col_ext bench`` (and the README's ``demo``).

Every case times im2col_ext ("ours", on the compiled backend when it is
built) side by side with its peers, in one process and in interleaved
rounds, so that machine noise hits all of them alike; it reports the median
time of each and the ratio ours/peer (lower is better for ours).  The peers:

``memcpy``  ``np.copyto`` between two preallocated arrays of the columns'
            size: the memory-speed limit of a gather or a scatter;
``out=``    ours writing into a preallocated output (the ``out=`` argument):
            the same work as ``memcpy`` minus the allocation;
``memcpy+alloc``  ``np.copyto`` into a newly allocated array of the columns'
            size: what a fresh output costs (page faults included), the
            fair peer of ours without ``out=``;
``numpy``   the same im2col_ext call on the NumPy backend;
``cs231n``  the classic course algorithm, written here from its
            description: a fancy-index gather ``x_padded[:, k, i, j]`` for
            im2col and ``np.add.at`` for col2im;
``torch``   ``torch.nn.functional`` (unfold, fold, max_pool2d and conv2d,
            forward and backward through autograd), when torch is installed.

Threads: im2col_ext, torch and the BLAS are held to the same count
(``--threads``, default 1).  The BLAS is limited with ``threadpoolctl``
when it is installed; otherwise its thread count can only be set before
Python starts (``OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1``),
and the header says it is not controlled.

Layout of this module: the shapes and targets, one builder per kind of case
(which returns the callables to time), one runner (:func:`measure`), one
printer (:func:`print_table`), then :func:`main`.  Benchmarks are a command,
not a test: ``tests/test_bench.py`` only checks the output's structure.
"""

import argparse
import datetime
import gc
import importlib
import json
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field

import numpy as np

import im2col_ext
from im2col_ext import _backend

# --------------------------------------------------------------------------
# the cases
# --------------------------------------------------------------------------

#: Window shapes for im2col / col2im / unfold / fold: (x shape, kernel, padding, stride).
WINDOW_SHAPES = [
    ((100, 3, 31, 31), 3, 1, 2),
    ((50, 3, 32, 32), 7, 3, 1),
    ((32, 64, 32, 32), 3, 1, 1),
]
#: Max-pool shapes: (x shape, kernel, stride).
POOL_SHAPES = [
    ((50, 32, 32, 32), 2, 2),
    ((32, 64, 32, 32), 3, 2),
]
#: Convolution shapes: (x shape, w shape, padding, stride).
CONV_SHAPES = [
    ((50, 3, 32, 32), (32, 3, 7, 7), 3, 1),
    ((32, 64, 32, 32), (64, 64, 3, 3), 1, 1),
]
DTYPES = ("float64", "float32")
PEERS = ("memcpy", "memcpy+alloc", "out=", "numpy", "cs231n", "torch")

#: The memcpy targets only count for columns of at least this many bytes.
BIG_COLS = 10_000_000


@dataclass(frozen=True)
class Target:
    """``ours / peer <= limit``, counted only when the columns have ``min_bytes`` or more."""

    peer: str
    limit: float
    min_bytes: int = 0
    ours: str = "ours"  # which of our variants is compared ("ours" or "out=")


def targets_for(kind, dtype):
    """The targets of one kind of case, from the issue."""
    if kind == "im2col":
        # A new 150 MB array costs as much as the gather (page faults), and
        # np.copyto between existing arrays pays none: compare like with like.
        return [Target("memcpy", 1.5, BIG_COLS, ours="out="),
                Target("memcpy+alloc", 1.5, BIG_COLS)]
    if kind == "col2im":
        return [Target("memcpy", 1.5, BIG_COLS), Target("cs231n", 0.1)]
    if kind in ("unfold", "fold"):
        return [Target("torch", 0.5)]
    if kind == "pool":
        return [Target("torch", 1.0)]
    if kind == "conv":
        return [Target("torch", 1.0 if dtype == "float64" else 1.25)]
    return []


@dataclass
class Case:
    """One row of the table: an operation on one shape and dtype."""

    op: str  # what is timed, e.g. "col2im_indices" or "conv (layers)"
    kind: str  # im2col, col2im, unfold, fold, pool or conv: picks builder and targets
    dtype: str
    params: dict  # shapes and window parameters, as the builder takes them
    label: str  # the shape column of the table
    # filled in by run_case:
    cols_bytes: int = 0
    medians: dict = field(default_factory=dict)  # seconds per call, by peer ("ours" too)
    samples: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)  # peer -> why it was not timed
    mismatches: list = field(default_factory=list)  # peers whose result differs from ours

    def ratios(self):
        ours = self.medians.get("ours")
        if not ours:
            return {}
        return {p: ours / t for p, t in self.medians.items() if p != "ours" and t > 0}

    def target_results(self):
        """One dict per target: peer, limit, ratio (or None) and met (True, False or None)."""
        out = []
        for t in targets_for(self.kind, self.dtype):
            ours, theirs = self.medians.get(t.ours), self.medians.get(t.peer)
            ratio = ours / theirs if ours and theirs else None
            if self.cols_bytes < t.min_bytes:
                met, note = None, f"cols < {t.min_bytes / 1e6:.0f} MB"
            elif ratio is None:
                met, note = None, f"no {t.peer}"
            else:
                met, note = ratio <= t.limit, ""
            out.append({"peer": t.peer, "ours": t.ours, "limit": t.limit, "ratio": ratio,
                        "met": met, "note": note})
        return out


def _dims(shape):
    return "x".join(str(d) for d in shape)


def make_cases(batch_scale=1.0, tiny=False):
    """The table of cases, every shape in float64 and float32.

    ``batch_scale`` shrinks the batch (``--quick``); ``tiny`` also shrinks
    channels and widths (``--smoke``, for the tests).
    """

    def n_of(n):
        return 2 if tiny else max(1, int(round(n * batch_scale)))

    def c_of(c):
        return min(c, 4) if tiny else c

    cases = []
    for dtype in DTYPES:
        for (n, c, h, w), k, p, s in WINDOW_SHAPES:
            shape = (n_of(n), c_of(c), h, w)
            params = {"x": shape, "k": k, "pad": p, "stride": s}
            label = f"{_dims(shape)} k{k} p{p} s{s}"
            for op, kind in (("im2col_indices", "im2col"), ("col2im_indices", "col2im"),
                             ("unfold", "unfold"), ("fold", "fold")):
                cases.append(Case(op, kind, dtype, params, label))
        for (n, c, h, w), k, s in POOL_SHAPES:
            shape = (n_of(n), c_of(c), h, w)
            params = {"x": shape, "k": k, "stride": s}
            label = f"{_dims(shape)} k{k} s{s}"
            for api in ("layers", "fast_layers"):
                cases.append(Case(f"maxpool ({api})", "pool", dtype,
                                  dict(params, api=api), label))
        for (n, c, h, w), (f, _, kh, kw), p, s in CONV_SHAPES:
            shape = (n_of(n), c_of(c), h, w)
            wshape = (c_of(f), c_of(c), kh, kw)
            params = {"x": shape, "w": wshape, "pad": p, "stride": s}
            label = f"{_dims(shape)} * {_dims(wshape)} p{p} s{s}"
            for api in ("layers", "fast_layers"):
                cases.append(Case(f"conv ({api})", "conv", dtype,
                                  dict(params, api=api), label))
    return cases


# --------------------------------------------------------------------------
# optional peers and modules, imported lazily
# --------------------------------------------------------------------------

_MISSING = {}  # module name -> why it did not import


def _optional(name):
    """The module ``name``, or None (and the reason in ``_MISSING``)."""
    try:
        return importlib.import_module(name)
    except Exception as exc:  # an unfinished module may raise anything on import
        _MISSING[name] = f"{type(exc).__name__}: {exc}"
        return None


class _Torch:
    """``torch`` and ``torch.nn.functional``, imported on first use (or never, with --no-torch)."""

    def __init__(self):
        self.module = self.F = None
        self.why_not = "not imported"

    def load(self, enabled):
        if not enabled:
            self.why_not = "disabled (--no-torch)"
            return
        torch = _optional("torch")
        if torch is None:
            self.why_not = "not installed"
            return
        import torch.nn.functional as F

        self.module, self.F, self.why_not = torch, F, ""


TORCH = _Torch()


def _ours_backend():
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


# --------------------------------------------------------------------------
# the classic cs231n algorithm (fancy-index gather, np.add.at scatter)
# --------------------------------------------------------------------------

def classic_indices(x_shape, fh, fw, pad, stride):
    """Index arrays ``(k, i, j)`` with ``x_padded[:, k, i, j]`` = every window.

    ``k`` (C*fh*fw, 1) is the channel of each row, ``i`` and ``j``
    (C*fh*fw, oh*ow) the padded row and column each (row, window) reads.
    """
    _, c, h, w = x_shape
    oh = (h + 2 * pad - fh) // stride + 1
    ow = (w + 2 * pad - fw) // stride + 1
    ky = np.tile(np.repeat(np.arange(fh), fw), c)  # the tap row of each row
    kx = np.tile(np.arange(fw), fh * c)  # the tap column of each row
    oy = np.repeat(np.arange(oh), ow)  # the window row of each window
    ox = np.tile(np.arange(ow), oh)
    i = ky[:, None] + stride * oy[None, :]
    j = kx[:, None] + stride * ox[None, :]
    k = np.repeat(np.arange(c), fh * fw)[:, None]
    return k, i, j


def classic_im2col(x, fh, fw, pad, stride):
    """cs231n's ``im2col_indices``: pad, gather ``x_padded[:, k, i, j]``, reorder."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    k, i, j = classic_indices(x.shape, fh, fw, pad, stride)
    cols = xp[:, k, i, j]  # (N, C*fh*fw, oh*ow)
    return cols.transpose(1, 2, 0).reshape(fh * fw * x.shape[1], -1)


def classic_col2im(cols, x_shape, fh, fw, pad, stride):
    """cs231n's ``col2im_indices``: ``np.add.at`` into a padded zero image, then crop."""
    n, c, h, w = x_shape
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    k, i, j = classic_indices(x_shape, fh, fw, pad, stride)
    per_image = cols.reshape(c * fh * fw, -1, n).transpose(2, 0, 1)
    np.add.at(xp, (slice(None), k, i, j), per_image)
    if pad == 0:
        return xp
    return xp[:, :, pad:-pad, pad:-pad]


# --------------------------------------------------------------------------
# builders: one per kind, each returns {peer: callable} and the columns' size
# --------------------------------------------------------------------------

def _rand(rng, shape, dtype):
    return rng.standard_normal(shape, dtype=np.dtype(dtype))


def _memcpy(shape, dtype):
    """np.copyto between two preallocated arrays: the memory-speed limit for columns of ``shape``."""
    src = np.ones(shape, dtype=dtype)
    dst = np.empty(shape, dtype=dtype)
    return lambda: np.copyto(dst, src)


def _memcpy_alloc(shape, dtype):
    """np.copyto into a new array: the copy plus the cost of a fresh output."""
    src = np.ones(shape, dtype=dtype)

    def run():
        dst = np.empty(shape, dtype=dtype)
        np.copyto(dst, src)
        return dst

    return run


def _windows(case, rng):
    """im2col / col2im (cs231n layout) and unfold / fold (torch layout)."""
    p = case.params
    n, c, h, w = p["x"]
    k, pad, s = p["k"], p["pad"], p["stride"]
    oh = (h + 2 * pad - k) // s + 1
    ow = (w + 2 * pad - k) // s + 1
    dt = case.dtype
    peers = {}
    if case.kind in ("im2col", "unfold"):
        x = _rand(rng, (n, c, h, w), dt)
        if case.kind == "im2col":
            ours = lambda: im2col_ext.im2col_indices(x, k, k, padding=pad, stride=s)  # noqa: E731
            buf = np.empty((c * k * k, oh * ow * n), dtype=dt)
            peers["out="] = lambda: im2col_ext.im2col_indices(x, k, k, padding=pad, stride=s,
                                                              out=buf)
            peers["cs231n"] = lambda: classic_im2col(x, k, k, pad, s)
        else:
            ours = lambda: im2col_ext.unfold(x, k, padding=pad, stride=s)  # noqa: E731
            buf = np.empty((n, c * k * k, oh * ow), dtype=dt)
            peers["out="] = lambda: im2col_ext.unfold(x, k, padding=pad, stride=s, out=buf)
            if TORCH.F is not None:
                xt = TORCH.module.from_numpy(x)
                peers["torch"] = lambda: TORCH.F.unfold(xt, k, padding=pad, stride=s).numpy()
    else:
        if case.kind == "col2im":
            cols = _rand(rng, (c * k * k, oh * ow * n), dt)
            ours = lambda: im2col_ext.col2im_indices(  # noqa: E731
                cols, (n, c, h, w), k, k, padding=pad, stride=s)
            buf = np.empty((n, c, h, w), dtype=dt)
            peers["out="] = lambda: im2col_ext.col2im_indices(
                cols, (n, c, h, w), k, k, padding=pad, stride=s, out=buf)
            peers["cs231n"] = lambda: classic_col2im(cols, (n, c, h, w), k, k, pad, s)
        else:
            cols = _rand(rng, (n, c * k * k, oh * ow), dt)
            ours = lambda: im2col_ext.fold(cols, (h, w), k, padding=pad, stride=s)  # noqa: E731
            buf = np.empty((n, c, h, w), dtype=dt)
            peers["out="] = lambda: im2col_ext.fold(cols, (h, w), k, padding=pad, stride=s,
                                                    out=buf)
            if TORCH.F is not None:
                ct = TORCH.module.from_numpy(cols)
                peers["torch"] = lambda: TORCH.F.fold(ct, (h, w), k, padding=pad,
                                                      stride=s).numpy()
    peers["memcpy"] = _memcpy((c * k * k, oh * ow * n), dt)
    if case.kind in ("im2col", "unfold"):
        peers["memcpy+alloc"] = _memcpy_alloc((c * k * k, oh * ow * n), dt)
    return ours, peers, c * k * k * oh * ow * n * np.dtype(dt).itemsize


def _pool(case, rng):
    """Max-pool forward + backward through im2col_ext.layers or cs231n.fast_layers."""
    p = case.params
    n, c, h, w = p["x"]
    k, s = p["k"], p["stride"]
    x = _rand(rng, (n, c, h, w), case.dtype)
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    dout = _rand(rng, (n, c, oh, ow), case.dtype)
    if p["api"] == "layers":
        layers = _optional("im2col_ext.layers")
        if layers is None:
            raise LookupError("im2col_ext.layers: " + _MISSING["im2col_ext.layers"])

        def ours():
            out, cache = layers.max_pool2d_forward(x, k, s)
            return out, layers.max_pool2d_backward(dout, cache)
    else:
        fl = _optional("im2col_ext.cs231n.fast_layers")
        if fl is None:
            raise LookupError("im2col_ext.cs231n.fast_layers: "
                              + _MISSING["im2col_ext.cs231n.fast_layers"])
        pool_param = {"pool_height": k, "pool_width": k, "stride": s}

        def ours():
            out, cache = fl.max_pool_forward_fast(x, pool_param)
            return out, fl.max_pool_backward_fast(dout, cache)

    peers = {}
    if TORCH.F is not None:
        xt = TORCH.module.from_numpy(x.copy()).requires_grad_(True)
        dt = TORCH.module.from_numpy(dout)

        def run_torch():
            xt.grad = None
            out = TORCH.F.max_pool2d(xt, k, s)
            out.backward(dt)
            return out.detach().numpy(), xt.grad.numpy()

        peers["torch"] = run_torch
    return ours, peers, 0


def _conv(case, rng):
    """Convolution forward + backward (dx, dw, db) through layers or fast_layers."""
    p = case.params
    n, c, h, w = p["x"]
    f, _, kh, kw = p["w"]
    pad, s = p["pad"], p["stride"]
    dt = case.dtype
    x = _rand(rng, (n, c, h, w), dt)
    wt_ = _rand(rng, (f, c, kh, kw), dt) * (1.0 / math.sqrt(c * kh * kw))
    wt_ = wt_.astype(dt, copy=False)
    b = _rand(rng, (f,), dt)
    oh, ow = (h + 2 * pad - kh) // s + 1, (w + 2 * pad - kw) // s + 1
    dout = _rand(rng, (n, f, oh, ow), dt)
    if p["api"] == "layers":
        layers = _optional("im2col_ext.layers")
        if layers is None:
            raise LookupError("im2col_ext.layers: " + _MISSING["im2col_ext.layers"])

        def ours():
            out, cache = layers.conv2d_forward(x, wt_, b, stride=s, padding=pad)
            return (out,) + tuple(layers.conv2d_backward(dout, cache))
    else:
        fl = _optional("im2col_ext.cs231n.fast_layers")
        if fl is None:
            raise LookupError("im2col_ext.cs231n.fast_layers: "
                              + _MISSING["im2col_ext.cs231n.fast_layers"])
        conv_param = {"stride": s, "pad": pad}

        def ours():
            out, cache = fl.conv_forward_fast(x, wt_, b, conv_param)
            return (out,) + tuple(fl.conv_backward_fast(dout, cache))

    peers = {}
    if TORCH.F is not None:
        torch = TORCH.module
        xt = torch.from_numpy(x.copy()).requires_grad_(True)
        wt = torch.from_numpy(wt_.copy()).requires_grad_(True)
        bt = torch.from_numpy(b.copy()).requires_grad_(True)
        dt_ = torch.from_numpy(dout)

        def run_torch():
            xt.grad = wt.grad = bt.grad = None
            out = TORCH.F.conv2d(xt, wt, bt, stride=s, padding=pad)
            out.backward(dt_)
            return (out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy())

        peers["torch"] = run_torch
    cols_bytes = c * kh * kw * oh * ow * n * np.dtype(dt).itemsize
    return ours, peers, cols_bytes


BUILDERS = {"im2col": _windows, "col2im": _windows, "unfold": _windows, "fold": _windows,
            "pool": _pool, "conv": _conv}


# --------------------------------------------------------------------------
# the runner
# --------------------------------------------------------------------------

def measure(callables, repeats, min_sample):
    """Median seconds per call of each callable, timed in interleaved rounds.

    Each callable is called once to warm up (its result is returned for the
    cross-check; an exception drops it).  Then, ``repeats`` times, every
    callable is timed once in turn (the order rotates from round to round),
    with the garbage collector off; a callable faster than ``min_sample`` is
    called ``ceil(min_sample / t)`` times per sample, ``t`` being the time of
    a second call (or of the warm-up, if that took
    over a second).

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
                t0 = time.perf_counter()
                for _ in range(count):
                    fn()
                samples[name].append((time.perf_counter() - t0) / count)
    finally:
        if gc_was_enabled:
            gc.enable()
    medians = {n: statistics.median(s) for n, s in samples.items() if s}
    return medians, samples, results, errors


def _as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


def _same(ours, theirs, dtype):
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


def run_case(case, repeats, min_sample, rng):
    """Build and time one case; fills ``case.medians``, ``skipped`` and ``mismatches``."""
    try:
        ours, peers, case.cols_bytes = BUILDERS[case.kind](case, rng)
    except LookupError as exc:
        case.skipped["ours"] = str(exc)
        return case
    backend = _ours_backend()
    callables = {"ours": on_backend(backend, ours)}
    if backend == "c":
        callables["numpy"] = on_backend("numpy", ours)
    else:
        case.skipped["numpy"] = "ours is the NumPy backend (extension not built)"
    callables.update(peers)
    if "out=" in callables:
        callables["out="] = on_backend(backend, callables["out="])
    if case.kind in ("unfold", "fold", "pool", "conv") and TORCH.F is None:
        case.skipped["torch"] = TORCH.why_not
    medians, samples, results, errors = measure(callables, repeats, min_sample)
    if "ours" in errors:  # e.g. a shape the API rejects: the peers' errors say the same
        case.skipped = {"ours": errors["ours"]}
        return case
    case.skipped.update(errors)
    for name, result in results.items():
        if name not in ("ours", "memcpy", "memcpy+alloc") and not _same(results["ours"], result,
                                                                         case.dtype):
            case.mismatches.append(name)
    case.medians = medians
    case.samples = samples
    return case


def threads_compare(batch_scale, tiny, repeats, min_sample, rng):
    """Times of the C kernels on 1 and 2 threads (im2col, col2im, max-pool scatter)."""
    if _backend.compiled is None:
        return []
    from im2col_ext._api import max_pool_forward, max_pool_scatter, pool_geometry

    rows = []
    (n, c, h, w), k, pad, s = WINDOW_SHAPES[-1]
    n = 2 if tiny else max(1, int(round(n * batch_scale)))
    c = min(c, 4) if tiny else c
    (pn, pc, ph, pw), pk, ps = POOL_SHAPES[0]
    pn = 2 if tiny else max(1, int(round(pn * batch_scale)))
    pc = min(pc, 4) if tiny else pc
    for dtype in DTYPES:
        x = _rand(rng, (n, c, h, w), dtype)
        cols = im2col_ext.im2col_indices(x, k, k, padding=pad, stride=s)
        px = _rand(rng, (pn, pc, ph, pw), dtype)
        g = pool_geometry(px.shape, pk, ps, 0, 1)
        pout, argmax = max_pool_forward(px, g)
        dout = _rand(rng, pout.shape, dtype)
        jobs = [
            ("im2col_indices", f"{_dims(x.shape)} k{k} p{pad} s{s}",
             lambda: im2col_ext.im2col_indices(x, k, k, padding=pad, stride=s)),
            ("col2im_indices", f"{_dims(x.shape)} k{k} p{pad} s{s}",
             lambda: im2col_ext.col2im_indices(cols, x.shape, k, k, padding=pad, stride=s)),
            ("max_pool_scatter", f"{_dims(px.shape)} k{pk} s{ps}",
             lambda: max_pool_scatter(dout, argmax, g)),
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
# threads and the header
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
    tpc = _optional("threadpoolctl")
    if tpc is None:
        return ("not controlled (no threadpoolctl; set OPENBLAS_NUM_THREADS, "
                "OMP_NUM_THREADS, MKL_NUM_THREADS before starting Python)")
    limiter = tpc.threadpool_limits(limits=n, user_api="blas")
    _UNDO.append(limiter.restore_original_limits)
    libs = [f"{i['internal_api']}={i['num_threads']}"
            for i in tpc.threadpool_info() if i.get("user_api") == "blas"]
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
        "backend": _ours_backend(),
        "extension": getattr(ext, "__file__", None),
        "build_info": dict(getattr(ext, "build_info", {}) or {}),
        "threads": threads,
        "blas_threads": blas,
        "load_average": _load_average(),
    }


def _load_average():
    """The 1-minute load average (other processes' work skews timings), or None."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def print_header(meta):
    print(f"machine:  {meta['platform']}; {meta['cpu']}; {meta['cores']} cores "
          f"({meta['usable_cores']} usable)")
    print(f"date:     {meta['date']}; load average {meta['load_average']} at the start")
    print(f"versions: python {meta['python']}, numpy {meta['numpy']}, "
          f"torch {meta['torch'] or '(not used)'}, im2col_ext {meta['im2col_ext']}")
    ours = meta["backend"] + ("" if meta["backend"] == "c" else " (extension not built)")
    print(f"backend:  ours = {ours}; threads {meta['threads']} "
          f"(im2col_ext, torch; BLAS: {meta['blas_threads']})")


# --------------------------------------------------------------------------
# the printer
# --------------------------------------------------------------------------

def _fmt_ms(seconds):
    if seconds is None:
        return "-"
    ms = seconds * 1e3
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 0.1:
        return f"{ms:.2f}"
    return f"{ms:.3f}"


def _fmt_ratio(r):
    if r is None:
        return "-"
    if r >= 100:
        return f"{r:.0f}"
    if r >= 0.01:
        return f"{r:.2f}"
    return f"{r:.4f}"


def _fmt_targets(case):
    parts, met = [], []
    for t in case.target_results():
        who = "" if t["ours"] == "ours" else f"{t['ours']} "
        parts.append(f"{who}/{t['peer']}<={t['limit']:g}")
        if t["met"] is None:
            met.append(f"n/a ({t['note']})")
        else:
            met.append("yes" if t["met"] else f"NO ({_fmt_ratio(t['ratio'])})")
    return ", ".join(parts) or "-", ", ".join(met) or "-"


TABLE_HEADER = (["case", "shape", "dtype", "ours ms"] + [f"{p} ms" for p in PEERS]
                + [f"/{p}" for p in PEERS] + ["target", "met"])
TABLE_ALIGN = "lll" + "r" * (1 + 2 * len(PEERS)) + "ll"


def table_rows(cases):
    rows = []
    for case in cases:
        if "ours" in case.skipped:
            continue
        ratios = case.ratios()
        target, met = _fmt_targets(case)
        rows.append([case.op, case.label, case.dtype, _fmt_ms(case.medians.get("ours"))]
                    + [_fmt_ms(case.medians.get(p)) for p in PEERS]
                    + [_fmt_ratio(ratios.get(p)) for p in PEERS] + [target, met])
    return rows


def print_table(header, rows, markdown=False, align=None):
    """A plain-text table with aligned columns, or a Markdown one.

    ``align`` has one letter per column, "l" or "r" (default: the first three
    columns left, the others right).
    """
    align = align or "lll" + "r" * (len(header) - 3)
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(" ---: " if a == "r" else " --- " for a in align) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def line(cells):
        return "  ".join(str(c).rjust(wd) if a == "r" else str(c).ljust(wd)
                         for c, wd, a in zip(cells, widths, align)).rstrip()

    print(line(header))
    print("  ".join("-" * wd for wd in widths))
    for row in rows:
        print(line(row))


def print_notes(cases):
    """Skipped cases and peers, result mismatches, and the target summary."""
    skipped_cases = [c for c in cases if "ours" in c.skipped]
    for c in skipped_cases:
        print(f"skipped: {c.op} {c.label} {c.dtype}: {c.skipped['ours']}")
    reasons = {}
    for c in cases:
        for peer, why in c.skipped.items():
            if peer != "ours":
                reasons.setdefault((peer, why), []).append(f"{c.op} {c.label} {c.dtype}")
    for (peer, why), where in reasons.items():
        print(f"peer {peer} not timed in {len(where)} case(s): {why}"
              + ("" if len(where) > 3 else f" [{'; '.join(where)}]"))
    for c in cases:
        if c.mismatches:
            print(f"WARNING: results differ from ours: {', '.join(c.mismatches)} in "
                  f"{c.op} {c.label} {c.dtype}")
    met = missed = 0
    for c in cases:
        for t in c.target_results():
            if t["met"] is True:
                met += 1
            elif t["met"] is False:
                missed += 1
                print(f"missed: {c.op} {c.label} {c.dtype}: {t['ours']}/{t['peer']} = "
                      f"{_fmt_ratio(t['ratio'])} > {t['limit']:g} "
                      f"({t['ratio'] / t['limit']:.2f}x the target)")
    print(f"targets: {met} met, {missed} missed (of {met + missed} that apply)")


def print_threads(rows, markdown=False):
    if not rows:
        return
    print("\nC kernels on 1 vs 2 threads (ratio = t2/t1; 0.5 is perfect scaling):")
    print_table(["kernel", "shape", "dtype", "1 thread ms", "2 threads ms", "t2/t1"],
                [[r["op"], r["shape"], r["dtype"], _fmt_ms(r["t1_ms"] / 1e3),
                  _fmt_ms(r["t2_ms"] / 1e3), _fmt_ratio(r["ratio"])] for r in rows],
                markdown)


def to_json(meta, settings, cases, thread_rows):
    out = []
    for c in cases:
        out.append({
            "op": c.op, "kind": c.kind, "dtype": c.dtype, "shape": c.label,
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in c.params.items()},
            "cols_bytes": c.cols_bytes,
            "medians_ms": {p: t * 1e3 for p, t in c.medians.items()},
            "samples_ms": {p: [t * 1e3 for t in s] for p, s in c.samples.items()},
            "ratios": {f"ours/{p}": r for p, r in c.ratios().items()},
            "targets": c.target_results(),
            "skipped": c.skipped,
            "mismatches": c.mismatches,
        })
    return {"meta": meta, "settings": settings, "cases": out, "threads_compare": thread_rows}


# --------------------------------------------------------------------------
# the demo
# --------------------------------------------------------------------------

def demo(repeats=7):
    """A few seconds: im2col / col2im_indices, ours vs the NumPy backend vs the classic."""
    (n, c, h, w), k, pad, s = WINDOW_SHAPES[-1]  # a typical 3x3 conv layer's input
    n = 16
    dtype = "float64"
    rng = np.random.default_rng(0)
    x = _rand(rng, (n, c, h, w), dtype)
    cols = im2col_ext.im2col_indices(x, k, k, padding=pad, stride=s)
    backend = _ours_backend()
    print(f"speed: x {_dims(x.shape)} {dtype}, {k}x{k} windows, padding {pad}, stride {s}; "
          f"cols {cols.shape[0]}x{cols.shape[1]} ({cols.nbytes / 1e6:.1f} MB); "
          f"median of {repeats} interleaved rounds, 1 thread")
    if backend != "c":
        print("(the compiled extension is not built: ours is the NumPy backend)")
    ops = [
        ("im2col_indices", lambda: im2col_ext.im2col_indices(x, k, k, padding=pad, stride=s),
         lambda: classic_im2col(x, k, k, pad, s), "fancy-index gather"),
        ("col2im_indices",
         lambda: im2col_ext.col2im_indices(cols, x.shape, k, k, padding=pad, stride=s),
         lambda: classic_col2im(cols, x.shape, k, k, pad, s), "np.add.at"),
    ]
    rows = []
    for op, ours, classic, how in ops:
        callables = {"ours": on_backend(backend, ours), "numpy": on_backend("numpy", ours),
                     "cs231n": classic}
        medians, _, _, errors = measure(callables, repeats, 0.03)
        if errors:
            print(f"{op} failed: {errors}")
            return 1
        t = medians["ours"]
        rows.append([op, f"{_fmt_ms(t)} ms",
                     f"{_fmt_ms(medians['numpy'])} ms  {medians['numpy'] / t:4.1f}x",
                     f"{_fmt_ms(medians['cs231n'])} ms  {medians['cs231n'] / t:4.1f}x  {how}"])
    print()
    print_table(["", f"im2col_ext ({backend})", "NumPy backend, speed-up",
                 "cs231n classic, speed-up"], rows, align="lrrl")
    print("\nspeed-up = the peer's time / im2col_ext's time (higher is better for im2col_ext); "
          "full suite: python -m im2col_ext bench")
    return 0


# --------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m im2col_ext bench",
        description="Benchmark im2col_ext against memcpy, its NumPy backend, the classic "
                    "cs231n algorithm and torch; medians of interleaved rounds, ratios "
                    "ours/peer (lower is better for ours).")
    parser.add_argument("--quick", action="store_true",
                        help="a short run (batch / 4, 5 rounds): under a minute on 2 cores")
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--demo", action="store_true",
                        help="a few seconds: ours vs the NumPy backend vs cs231n np.add.at")
    parser.add_argument("--json", metavar="PATH", help="write medians and ratios to PATH")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="threads for im2col_ext, torch and the BLAS (default 1)")
    parser.add_argument("--threads-compare", action="store_true",
                        help="also time the C kernels on 1 vs 2 threads (always in a full run)")
    parser.add_argument("--repeats", type=int, metavar="R",
                        help="timed rounds per case (default 9, --quick 5)")
    parser.add_argument("--only", metavar="TEXT", action="append",
                        help="only cases whose name, kind or dtype contains TEXT (repeatable)")
    parser.add_argument("--no-torch", action="store_true", help="do not import torch")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def main(argv=None):
    """Run the benchmark suite (or the demo); returns the exit status."""
    args = parse_args(sys.argv[1:] if argv is None else list(argv))
    previous_backend = _backend.name()
    try:
        if args.demo:
            set_threads(1)
            return demo()
        return run_suite(args)
    finally:
        restore_threads()
        _backend.use(previous_backend)


def run_suite(args):
    if args.smoke:
        scale, tiny, repeats, min_sample = 1.0, True, 1, 0.0
    elif args.quick:
        scale, tiny, repeats, min_sample = 0.25, False, 5, 0.005
    else:
        scale, tiny, repeats, min_sample = 1.0, False, 9, 0.02
    repeats = args.repeats or repeats
    TORCH.load(not args.no_torch)
    blas = set_threads(args.threads)
    meta = machine_info(args.threads, blas)
    settings = {"quick": args.quick, "smoke": args.smoke, "repeats": repeats,
                "min_sample_s": min_sample, "batch_scale": scale, "threads": args.threads}
    print_header(meta)
    print(f"settings: {repeats} interleaved rounds per case, median; samples >= "
          f"{min_sample * 1e3:g} ms; batch x{scale:g}{' (smoke: tiny shapes)' if tiny else ''}")
    print()

    cases = make_cases(scale, tiny)
    if args.only:
        cases = [c for c in cases
                 if any(t in f"{c.op} {c.kind} {c.dtype}" for t in args.only)]
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for i, case in enumerate(cases, 1):
        run_case(case, repeats, min_sample, rng)
        gc.collect()
        if "ours" in case.skipped:
            status = f"skipped ({case.skipped['ours']})"
        else:
            status = "; ".join(f"{p} {_fmt_ms(t)} ms" for p, t in case.medians.items())
        print(f"[{i:2d}/{len(cases)}] {case.op:<21} {case.label:<29} {case.dtype}: {status}",
              flush=True)

    thread_rows = []
    if args.threads_compare or not (args.quick or args.smoke):
        thread_rows = threads_compare(scale, tiny, repeats, min_sample, rng)
        _backend.set_num_threads(args.threads)
    elapsed = time.perf_counter() - start

    meta["load_average_end"] = _load_average()
    print(f"\nmedian ms per call; /peer = ours / peer (lower is better for ours); "
          f"{elapsed:.0f} s in all; load average {meta['load_average_end']} at the end\n")
    print_table(TABLE_HEADER, table_rows(cases), args.markdown, TABLE_ALIGN)
    print()
    print_notes(cases)
    print_threads(thread_rows, args.markdown)
    if args.threads_compare and not thread_rows:
        print("\nthreads compare: needs the compiled extension")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(to_json(meta, settings, cases, thread_rows), f, indent=1)
        print(f"\nwrote {args.json}")
    return 0
