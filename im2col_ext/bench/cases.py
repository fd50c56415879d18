"""The benchmark's cases: shapes, targets, peers, and one builder per kind of case.

A :class:`Case` is one row of the table (an operation on one shape and
dtype).  Its builder returns the callable to time ("ours"), the peers to
time beside it, and how to turn a peer's result into ours for the
cross-check.  Shapes and window counts come from :mod:`im2col_ext._geometry`;
nothing here recomputes them.
"""

import math
from dataclasses import dataclass, field

import numpy as np

import im2col_ext
from im2col_ext import _winograd, layers
from im2col_ext._geometry import conv_geometry, window
from im2col_ext.cs231n import fast_layers
from im2col_ext.cs231n.im2col_cython import col2im_6d_cython

from .classic import classic_col2im, classic_im2col

#: Window shapes of the im2col / col2im / unfold / fold cases:
#: (x shape, kernel, padding, stride).  The last three are how course code
#: calls the helpers for pooling (2x2 stride 2 on the activations, and on
#: their (N*C, 1, H, W) view) and on 1-channel images.
WINDOW_SHAPES = [
    ((100, 3, 31, 31), 3, 1, 2),
    ((50, 3, 32, 32), 7, 3, 1),
    ((32, 64, 32, 32), 3, 1, 1),
    ((50, 32, 32, 32), 2, 0, 2),
    ((1600, 1, 32, 32), 2, 0, 2),
    ((64, 1, 28, 28), 5, 2, 1),
]
#: The window operations timed on every window shape: (op, kind, column layout).
WINDOW_OPS = [
    ("im2col_indices", "im2col", "cs231n"),
    ("col2im_indices", "col2im", "cs231n"),
    ("col2im_6d_cython", "col2im", "6d"),
    ("unfold", "unfold", "torch"),
    ("fold", "fold", "torch"),
]
#: Max-pool shapes: (x shape, kernel, stride).  2x2 stride 2 takes fast_layers'
#: reshape path, 3x3 stride 2 its im2col path.
POOL_SHAPES = [
    ((50, 32, 32, 32), 2, 2),
    ((32, 64, 33, 33), 3, 2),
]
#: Convolution shapes: (x shape, w shape, padding, stride).
CONV_SHAPES = [
    ((50, 3, 32, 32), (32, 3, 7, 7), 3, 1),
    ((32, 64, 32, 32), (64, 64, 3, 3), 1, 1),
    ((64, 16, 28, 28), (16, 16, 3, 3), 1, 1),
]
DTYPES = ("float64", "float32")

#: N-d unfold / fold shapes, float64: (x shape channels first, kernel, padding,
#: stride).  Each runs channels first and channels last (the 2-D one channels
#: last only: channels first is in the tables above); columns 17-57 MB.
ND_SHAPES = [
    ((16, 16, 4096), (5,), 2, 1),
    ((32, 32, 2048), (4,), 1, 2),
    ((16, 32, 32, 32), (3, 3), 1, 1),
    ((2, 8, 16, 32, 32), (3, 3, 3), 1, 1),
    ((8, 16, 16, 32, 32), (2, 2, 2), 0, 2),
]
#: unfold's padding modes, each timed against "zeros" on the same shape (float64).
PADDING_MODES = ("reflect", "replicate", "circular", "constant")
MODE_SHAPES = [
    ((16, 16, 4096), (5,), 2, 1),
    ((16, 32, 32, 32), (3, 3), 1, 1),
    ((2, 8, 16, 32, 32), (3, 3, 3), 1, 1),
]
#: fold(reduction="mean") against "sum" (float64); the second is patch denoising's shape.
MEAN_SHAPES = [
    ((16, 32, 32, 32), (3, 3), 1, 1),
    ((8, 3, 256, 256), (8, 8), 4, 4),
    ((2, 8, 16, 32, 32), (3, 3, 3), 1, 1),
]
#: Integer unfold / fold: the batch is 64 / itemsize, so the columns are 19 MB
#: in every dtype; then a uint8 channels-last image batch (14 MB of columns).
INT_DTYPES = ("uint8", "int16", "int32", "int64")
INT_SHAPE = ((64, 32, 32, 32), (3, 3), 1, 1)
INT_IMAGES = ((128, 3, 64, 64), (3, 3), 1, 1)
#: N-d and grouped convolutions through layers, float64: (x shape, filters,
#: kernel, padding, stride, groups); groups == C is depthwise.
CONV_ND_SHAPES = [
    ((16, 64, 1024), 64, (5,), 2, 1, 1),
    ((2, 16, 16, 32, 32), 32, (3, 3, 3), 1, 1, 1),
    ((32, 64, 32, 32), 64, (3, 3), 1, 1, 4),
    ((32, 64, 32, 32), 64, (3, 3), 1, 1, 64),
]
NUMPY_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap",
                   "constant": "constant"}
#: The value of the "constant" padding mode in the bench (not 0, which is "zeros").
CONSTANT_VALUE = 1.5

#: Every peer, in the order of the full table's columns.
PEERS = ("memcpy", "copy", "out=", "numpy", "cs231n", "torch", "layers", "gemm", "f2x2",
         "cf", "zeros", "pad+unfold", "sum")

#: The memory-speed targets only count for columns of at least this many bytes.
BIG_COLS = 10_000_000


@dataclass(frozen=True)
class Target:
    """``ours / peer <= limit``, counted only when the columns have ``min_bytes`` or more."""

    peer: str
    limit: float
    min_bytes: int = 0
    ours: str = "ours"  # which of our variants is compared ("ours" or "out=")


def targets_for(kind, dtype, params=None):
    """The targets of one kind of case (``params``: the case's, for the N-d and conv kinds).

    ``memcpy`` is compared with our ``out=`` call (neither allocates),
    ``copy`` with our allocating call (both pay for a fresh array); ``cf``,
    ``zeros`` and ``sum`` write into preallocated outputs too, so they are
    compared with our ``out=`` call.
    """
    params = params or {}
    api = params.get("api")
    if kind in ("unfold_nd", "fold_nd"):
        targets = []
        if len(params["k"]) != 2:
            targets.append(Target("memcpy", 1.5, BIG_COLS, ours="out="))
        if params["channel_axis"] == -1:
            targets.append(Target("cf", 1.25, ours="out="))
        return targets
    if kind == "unfold_mode":
        return [Target("zeros", 1.3, ours="out=")]
    if kind == "fold_mean":
        return [Target("sum", 1.3, ours="out=")]
    if kind == "unfold_int":
        return [Target("memcpy", 1.5, BIG_COLS, ours="out="), Target("numpy", 0.33)]
    if kind == "fold_int":
        return [Target("memcpy", 2.0, BIG_COLS, ours="out=")]
    if kind == "conv_nd":
        return [Target("torch", 1.0)]
    memory = [Target("memcpy", 1.5, BIG_COLS, ours="out="), Target("copy", 1.5, BIG_COLS)]
    if kind == "im2col":
        return memory + [Target("torch", 0.5)]
    if kind == "col2im":
        return memory + [Target("torch", 0.5), Target("cs231n", 0.1)]
    if kind == "unfold":
        return [Target("copy", 1.5, BIG_COLS), Target("torch", 0.5)]
    if kind == "fold":
        return [Target("torch", 0.5)]
    if kind == "pool":
        return [Target("torch", 0.75)]
    if kind == "conv":
        targets = [Target("torch", 0.75 if dtype == "float64" else 1.0)]
        if api == "fast_layers":
            targets.append(Target("layers", 1.1))
        return targets
    return []


@dataclass
class Case:
    """One row of the table: an operation on one shape and dtype."""

    op: str  # what is timed, e.g. "col2im_indices" or "conv (layers)"
    kind: str  # im2col, col2im, unfold, fold, pool, conv, ...: picks builder and targets
    dtype: str
    params: dict  # shapes and window parameters, as the builder takes them
    label: str  # the shape column of the table
    # filled in by timing.run_case:
    cols_bytes: int = 0
    medians: dict = field(default_factory=dict)  # seconds per call, by peer ("ours" too)
    samples: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)  # peer -> why it was not timed
    mismatches: list = field(default_factory=list)  # peers whose result differs from ours

    @property
    def targets(self):
        return targets_for(self.kind, self.dtype, self.params)

    def ratios(self):
        ours = self.medians.get("ours")
        if not ours:
            return {}
        return {p: ours / t for p, t in self.medians.items() if p != "ours" and t > 0}

    def target_results(self):
        """One dict per target: peer, limit, ratio (or None) and met (True, False or None)."""
        out = []
        for t in self.targets:
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


def dims(shape):
    return "x".join(str(d) for d in shape)


def make_cases(batch_scale=1.0, tiny=False):
    """The table of cases, every shape in float64 and float32.

    ``batch_scale`` shrinks the batch (``--quick``); ``tiny`` also shrinks
    channels and batches (``--smoke``, for the tests).
    """

    def n_of(n):
        return 2 if tiny else max(1, int(round(n * batch_scale)))

    def c_of(c):
        return min(c, 4) if tiny else c

    cases = []
    for dtype in DTYPES:
        for (n, c, h, w), k, p, s in WINDOW_SHAPES:
            shape = (n_of(n), c_of(c), h, w)
            label = f"{dims(shape)} k{k} p{p} s{s}"
            for op, kind, layout in WINDOW_OPS:
                params = {"x": shape, "k": k, "pad": p, "stride": s, "layout": layout}
                cases.append(Case(op, kind, dtype, params, label))
        for (n, c, h, w), k, s in POOL_SHAPES:
            shape = (n_of(n), c_of(c), h, w)
            params = {"x": shape, "k": k, "stride": s}
            label = f"{dims(shape)} k{k} s{s}"
            for api in ("layers", "fast_layers"):
                cases.append(Case(f"maxpool ({api})", "pool", dtype,
                                  dict(params, api=api), label))
        for (n, c, h, w), (f, _, kh, kw), p, s in CONV_SHAPES:
            shape = (n_of(n), c_of(c), h, w)
            wshape = (c_of(f), c_of(c), kh, kw)
            params = {"x": shape, "w": wshape, "pad": p, "stride": s}
            label = f"{dims(shape)} * {dims(wshape)} p{p} s{s}"
            for api in ("layers", "fast_layers"):
                cases.append(Case(f"conv ({api})", "conv", dtype,
                                  dict(params, api=api), label))
    def size_of(size):
        return tuple(min(v, 16) for v in size) if tiny else tuple(size)

    cases += _nd_cases(n_of, c_of, size_of, tiny)
    return cases


def _window_label(shape, k, p, s, channel_axis=1):
    x = shape if channel_axis == 1 else (shape[0],) + shape[2:] + (shape[1],)
    return f"{dims(x)} k{dims(k)} p{p} s{s}" + (" last" if channel_axis == -1 else "")


def _nd_cases(n_of, c_of, size_of, tiny):
    """The N-d, padding-mode, mean-fold, integer and N-d convolution cases (``tiny``: fewer)."""
    cases = []

    def window_params(shape, k, p, s, channel_axis=1):
        shape = (n_of(shape[0]), c_of(shape[1])) + size_of(shape[2:])
        return ({"x": shape, "k": k, "pad": p, "stride": s, "channel_axis": channel_axis},
                _window_label(shape, k, p, s, channel_axis))

    for op, kind in (("unfold N-d", "unfold_nd"), ("fold N-d", "fold_nd")):
        for shape, k, p, s in ND_SHAPES:
            for axis in ((-1,) if len(k) == 2 else (1, -1)):
                params, label = window_params(shape, k, p, s, axis)
                cases.append(Case(op, kind, "float64", params, label))
    for shape, k, p, s in MODE_SHAPES[1:2] if tiny else MODE_SHAPES:
        for mode in PADDING_MODES:
            params, label = window_params(shape, k, p, s)
            cases.append(Case("unfold padding_mode", "unfold_mode", "float64",
                              dict(params, mode=mode), f"{label} {mode}"))
    for shape, k, p, s in MEAN_SHAPES[1:2] if tiny else MEAN_SHAPES:
        params, label = window_params(shape, k, p, s)
        cases.append(Case("fold reduction=mean", "fold_mean", "float64", params, label))
    for op, kind in (("unfold int", "unfold_int"), ("fold int", "fold_int")):
        for dtype in INT_DTYPES:
            (n, c, h, w), k, p, s = INT_SHAPE
            shape = (n // np.dtype(dtype).itemsize, c, h, w)
            params, label = window_params(shape, k, p, s)
            cases.append(Case(op, kind, dtype, params, label))
        shape, k, p, s = INT_IMAGES
        params, label = window_params(shape, k, p, s, -1)
        cases.append(Case(op, kind, "uint8", params, label))
    for shape, f, k, p, s, groups in CONV_ND_SHAPES:
        shape = (n_of(shape[0]), c_of(shape[1])) + size_of(shape[2:])
        f, groups = c_of(f), min(groups, c_of(shape[1]))
        wshape = (f, shape[1] // groups) + k
        params = {"x": shape, "w": wshape, "pad": p, "stride": s, "groups": groups}
        label = f"{dims(shape)} * {dims(wshape)} p{p} s{s}" + (f" g{groups}" if groups > 1 else "")
        cases.append(Case("conv N-d (layers)", "conv_nd", "float64", params, label))
    return cases


# --------------------------------------------------------------------------
# torch, an optional peer
# --------------------------------------------------------------------------

class _Torch:
    """``torch`` and ``torch.nn.functional``, imported on first use (or never, with --no-torch)."""

    def __init__(self):
        self.module = self.F = None
        self.why_not = "not imported"

    def load(self, enabled):
        if not enabled:
            self.module = self.F = None
            self.why_not = "disabled (--no-torch)"
            return
        try:
            import torch
            import torch.nn.functional as F
        except ImportError as exc:
            self.why_not = f"not installed ({exc})"
            return
        self.module, self.F, self.why_not = torch, F, ""


TORCH = _Torch()


# --------------------------------------------------------------------------
# builders: one per kind; each returns a Built
# --------------------------------------------------------------------------

@dataclass
class Built:
    """What a builder hands the runner."""

    ours: object  # the callable timed as "ours"
    peers: dict  # peer name -> callable
    cols_bytes: int  # the size of the columns the case moves (0 if none)
    # peer name -> function turning that peer's result into ours (for the cross-check)
    convert: dict = field(default_factory=dict)
    # peers that run on our backend (switched with ours: "out=")
    on_our_backend: tuple = ("out=",)
    # peers that compute something else (a time to compare with, not a result to check)
    unchecked: tuple = ()


def _rand(rng, shape, dtype):
    return rng.standard_normal(shape, dtype=np.dtype(dtype))


def _memcpy(shape, dtype):
    """np.copyto between two preallocated arrays: the memory-speed limit for columns of ``shape``."""
    src = np.ones(shape, dtype=dtype)
    dst = np.empty(shape, dtype=dtype)
    return lambda: np.copyto(dst, src)


def _copy(shape, dtype):
    """``cols.copy()``: a copy into a fresh array, page faults included."""
    src = np.ones(shape, dtype=dtype)
    return src.copy


def _windows(case, rng):
    """im2col_indices, col2im_indices, col2im_6d_cython (course layouts), unfold and fold."""
    p = case.params
    n, c, h, w = p["x"]
    k, pad, s, layout = p["k"], p["pad"], p["stride"], p["layout"]
    g = conv_geometry(n, c, h, w, k, s, pad, 1)
    dt = case.dtype
    rows, length = c * k * k, g.oh * g.ow
    cols_shape = {"cs231n": (rows, length * n), "6d": (c, k, k, n, g.oh, g.ow),
                  "torch": (n, rows, length)}[layout]
    peers, convert = {}, {}
    torch, F = TORCH.module, TORCH.F

    if case.kind in ("im2col", "unfold"):
        x = _rand(rng, (n, c, h, w), dt)
        buf = np.empty(cols_shape, dtype=dt)
        if case.kind == "im2col":
            def ours(out=None):
                return im2col_ext.im2col_indices(x, k, k, padding=pad, stride=s, out=out)

            peers["cs231n"] = lambda: classic_im2col(x, k, k, pad, s)
            convert["torch"] = lambda r: r.transpose(1, 2, 0).reshape(cols_shape)
        else:
            def ours(out=None):
                return im2col_ext.unfold(x, k, padding=pad, stride=s, out=out)
        if F is not None:
            xt = torch.from_numpy(x)
            peers["torch"] = lambda: F.unfold(xt, k, padding=pad, stride=s).numpy()
    else:
        cols = _rand(rng, cols_shape, dt)
        buf = np.empty((n, c, h, w), dtype=dt)
        if layout == "torch":
            cols_t = cols
        elif layout == "cs231n":
            cols_t = np.ascontiguousarray(cols.reshape(rows, length, n).transpose(2, 0, 1))
        else:
            cols_t = np.ascontiguousarray(cols.reshape(rows, n, length).transpose(1, 0, 2))
        if case.kind == "fold":
            def ours(out=None):
                return im2col_ext.fold(cols, (h, w), k, padding=pad, stride=s, out=out)
        elif layout == "cs231n":
            def ours(out=None):
                return im2col_ext.col2im_indices(cols, (n, c, h, w), k, k, padding=pad,
                                                 stride=s, out=out)

            peers["cs231n"] = lambda: classic_col2im(cols, (n, c, h, w), k, k, pad, s)
        else:
            def ours(out=None):
                if out is None:  # the course's function, which has no out=
                    return col2im_6d_cython(cols, n, c, h, w, k, k, pad, s)
                return im2col_ext.col2im(cols, (n, c, h, w), k, s, pad, layout="6d", out=out)

            peers["cs231n"] = lambda: classic_col2im(cols, (n, c, h, w), k, k, pad, s,
                                                     layout="6d")
        if F is not None:
            ct = torch.from_numpy(cols_t)
            peers["torch"] = lambda: F.fold(ct, (h, w), k, padding=pad, stride=s).numpy()
    peers["out="] = lambda: ours(buf)
    peers["memcpy"] = _memcpy(cols_shape, dt)
    if case.kind != "fold":
        peers["copy"] = _copy(cols_shape, dt)
    return Built(ours, peers, math.prod(cols_shape) * np.dtype(dt).itemsize, convert)


def _pool(case, rng):
    """Max-pool forward + backward through im2col_ext.layers or cs231n.fast_layers."""
    p = case.params
    n, c, h, w = p["x"]
    k, s = p["k"], p["stride"]
    g = conv_geometry(n, c, h, w, k, s, 0, 1)
    x = _rand(rng, (n, c, h, w), case.dtype)
    dout = _rand(rng, (n, c, g.oh, g.ow), case.dtype)
    if p["api"] == "layers":
        def ours():
            out, cache = layers.max_pool2d_forward(x, k, s)
            return out, layers.max_pool2d_backward(dout, cache)
    else:
        pool_param = {"pool_height": k, "pool_width": k, "stride": s}

        def ours():
            out, cache = fast_layers.max_pool_forward_fast(x, pool_param)
            return out, fast_layers.max_pool_backward_fast(dout, cache)

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
    return Built(ours, peers, 0)


def _conv(case, rng):
    """Convolution forward + backward (dx, dw, db) through layers or fast_layers."""
    p = case.params
    n, c, h, w = p["x"]
    f, _, kh, kw = p["w"]
    pad, s = p["pad"], p["stride"]
    g = conv_geometry(n, c, h, w, (kh, kw), s, pad, 1)
    dt = case.dtype
    x = _rand(rng, (n, c, h, w), dt)
    wt_ = (_rand(rng, (f, c, kh, kw), dt) * (1.0 / math.sqrt(c * kh * kw))).astype(dt)
    b = _rand(rng, (f,), dt)
    dout = _rand(rng, (n, f, g.oh, g.ow), dt)

    def run_layers(algorithm="auto"):
        out, cache = layers.conv2d_forward(x, wt_, b, stride=s, padding=pad,
                                           algorithm=algorithm)
        return (out,) + tuple(layers.conv2d_backward(dout, cache))

    peers = {}
    if p["api"] == "layers":
        ours = run_layers
        win = window(n, c, (h, w), (kh, kw), s, pad, 1, channel_axis=1)
        variant = _winograd.chosen("auto", win, f, dt)
        if variant is not None:  # the GEMMs (and F(2x2, 3x3)) beside Winograd
            peers["gemm"] = lambda: run_layers("gemm")
            if variant.m == 4:
                peers["f2x2"] = lambda: run_layers("winograd")
    else:
        conv_param = {"stride": s, "pad": pad}

        def ours():
            out, cache = fast_layers.conv_forward_fast(x, wt_, b, conv_param)
            return (out,) + tuple(fast_layers.conv_backward_fast(dout, cache))

        peers["layers"] = run_layers
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
    cols_bytes = c * kh * kw * g.oh * g.ow * n * np.dtype(dt).itemsize
    return Built(ours, peers, cols_bytes, on_our_backend=("out=", "layers", "gemm", "f2x2"))


def _nd_window(case):
    """The checked :class:`Window` of an N-d case, and its columns' shape."""
    p = case.params
    n, c, *size = p["x"]
    axis = p.get("channel_axis", 1)
    win = window(n, c, tuple(size), p["k"], p["stride"], p["pad"], 1, channel_axis=axis)
    cols_shape = (n, c * win.K, win.L) if axis == 1 else (n, win.L, win.K * c)
    return win, cols_shape


def _rand_of(rng, shape, dtype):
    if np.dtype(dtype).kind in "iu":
        return rng.integers(0, 100, shape, dtype=dtype)
    return _rand(rng, shape, dtype)


def _to_last(cols_cf, win):
    """Channels-first columns (N, C*K, L) in the channels-last layout (N, L, K*C)."""
    n = cols_cf.shape[0]
    return np.ascontiguousarray(
        cols_cf.reshape(n, win.c, win.K, win.L).transpose(0, 3, 2, 1)).reshape(n, win.L, -1)


def _nd_unfold_fold(case, rng):
    """unfold / fold of 1-D to 3-D windows, either channel axis, any dtype.

    Peers: ``out=``; ``memcpy`` of the columns; for channels last, ``cf``:
    the same call with ``out=`` on the channels-first transpose of the data.
    """
    p = case.params
    win, cols_shape = _nd_window(case)
    axis, dt = win.channel_axis, case.dtype
    kw = dict(kernel_size=p["k"], padding=p["pad"], stride=p["stride"])
    peers, convert = {}, {}
    if case.kind in ("unfold_nd", "unfold_int"):
        x = _rand_of(rng, win.image_shape(), dt)

        def ours(out=None):
            return im2col_ext.unfold(x, channel_axis=axis, out=out, **kw)

        buf = np.empty(cols_shape, dtype=dt)
        if axis == -1:
            x_cf = np.ascontiguousarray(np.moveaxis(x, -1, 1))
            buf_cf = np.empty((win.n, win.c * win.K, win.L), dtype=dt)
            peers["cf"] = lambda: im2col_ext.unfold(x_cf, out=buf_cf, **kw)
            convert["cf"] = lambda r: _to_last(r, win)
    else:
        cols = _rand_of(rng, cols_shape, dt)
        size = win.size

        def ours(out=None):
            return im2col_ext.fold(cols, size, channel_axis=axis, out=out, **kw)

        buf = np.empty_like(ours())  # the result's dtype is fold's choice (int64 for int8...)
        if axis == -1:
            cols_cf = np.ascontiguousarray(
                cols.reshape(win.n, win.L, win.K, win.c).transpose(0, 3, 2, 1)
            ).reshape(win.n, win.c * win.K, win.L)
            buf_cf = np.empty((win.n, win.c) + size, dtype=buf.dtype)
            peers["cf"] = lambda: im2col_ext.fold(cols_cf, size, out=buf_cf, **kw)
            convert["cf"] = lambda r: np.moveaxis(r, 1, -1)
    peers["out="] = lambda: ours(buf)
    peers["memcpy"] = _memcpy(cols_shape, dt)
    return Built(ours, peers, math.prod(cols_shape) * np.dtype(dt).itemsize, convert,
                 on_our_backend=("out=", "cf"))


def _unfold_mode(case, rng):
    """unfold with a padding mode; peers: "zeros" on the same shape, and np.pad + unfold."""
    p = case.params
    win, cols_shape = _nd_window(case)
    mode, dt = p["mode"], case.dtype
    kw = dict(kernel_size=p["k"], stride=p["stride"])
    value = CONSTANT_VALUE if mode == "constant" else None
    x = _rand(rng, win.image_shape(), dt)

    def ours(out=None):
        return im2col_ext.unfold(x, padding=p["pad"], padding_mode=mode, value=value,
                                 out=out, **kw)

    buf, buf_zeros = np.empty(cols_shape, dt), np.empty(cols_shape, dt)
    widths = ((0, 0), (0, 0)) + win.pad
    extra = {"constant_values": value} if mode == "constant" else {}

    def pad_then_unfold():  # what pytorch#27037 suggests: pad first (a copy), then unfold
        return im2col_ext.unfold(np.pad(x, widths, mode=NUMPY_PAD_MODES[mode], **extra),
                                 padding=0, **kw)

    peers = {"out=": lambda: ours(buf),
             "zeros": lambda: im2col_ext.unfold(x, padding=p["pad"], out=buf_zeros, **kw),
             "pad+unfold": pad_then_unfold}
    return Built(ours, peers, math.prod(cols_shape) * np.dtype(dt).itemsize,
                 on_our_backend=("out=", "zeros", "pad+unfold"), unchecked=("zeros",))


def _fold_mean(case, rng):
    """fold(reduction="mean"); peer "sum" (with out=), checked as sum / the count of taps."""
    p = case.params
    win, cols_shape = _nd_window(case)
    dt = case.dtype
    kw = dict(kernel_size=p["k"], padding=p["pad"], stride=p["stride"])
    cols = _rand(rng, cols_shape, dt)
    size = win.size

    def ours(out=None):
        return im2col_ext.fold(cols, size, reduction="mean", out=out, **kw)

    buf, buf_sum = np.empty(win.image_shape(), dt), np.empty(win.image_shape(), dt)
    count = im2col_ext.fold(im2col_ext.unfold(np.ones(win.image_shape(), dt), **kw), size, **kw)

    def sum_to_mean(r):
        return np.divide(r, count, out=np.zeros_like(r), where=count > 0)

    peers = {"out=": lambda: ours(buf),
             "sum": lambda: im2col_ext.fold(cols, size, out=buf_sum, **kw)}
    return Built(ours, peers, math.prod(cols_shape) * np.dtype(dt).itemsize,
                 {"sum": sum_to_mean}, on_our_backend=("out=", "sum"))


def _conv_nd(case, rng):
    """conv1d / conv2d (grouped, depthwise) / conv3d forward + backward through layers."""
    p = case.params
    n, c, *size = p["x"]
    f, _, *k = p["w"]
    d, pad, s, groups = len(size), p["pad"], p["stride"], p["groups"]
    win = window(n, c, tuple(size), tuple(k), s, pad, 1, channel_axis=1)
    dt = case.dtype
    x = _rand(rng, p["x"], dt)
    wt_ = (_rand(rng, p["w"], dt) * (1.0 / math.sqrt(p["w"][1] * win.K))).astype(dt)
    b = _rand(rng, (f,), dt)
    dout = _rand(rng, (n, f) + win.out, dt)
    forward = getattr(layers, f"conv{d}d_forward")
    backward = getattr(layers, f"conv{d}d_backward")

    def ours():
        out, cache = forward(x, wt_, b, stride=s, padding=pad, groups=groups)
        return (out,) + tuple(backward(dout, cache))

    peers = {}
    if TORCH.F is not None:
        torch = TORCH.module
        conv = getattr(TORCH.F, f"conv{d}d")
        xt = torch.from_numpy(x.copy()).requires_grad_(True)
        wt = torch.from_numpy(wt_.copy()).requires_grad_(True)
        bt = torch.from_numpy(b.copy()).requires_grad_(True)
        dt_ = torch.from_numpy(dout)

        def run_torch():
            xt.grad = wt.grad = bt.grad = None
            out = conv(xt, wt, bt, stride=s, padding=pad, groups=groups)
            out.backward(dt_)
            return (out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy())

        peers["torch"] = run_torch
    cols_bytes = n * c * win.K * win.L * np.dtype(dt).itemsize
    return Built(ours, peers, cols_bytes)


BUILDERS = {"im2col": _windows, "col2im": _windows, "unfold": _windows, "fold": _windows,
            "pool": _pool, "conv": _conv, "unfold_nd": _nd_unfold_fold,
            "fold_nd": _nd_unfold_fold, "unfold_int": _nd_unfold_fold,
            "fold_int": _nd_unfold_fold, "unfold_mode": _unfold_mode, "fold_mean": _fold_mean,
            "conv_nd": _conv_nd}


def build(case, rng):
    """The :class:`Built` of ``case``."""
    return BUILDERS[case.kind](case, rng)
