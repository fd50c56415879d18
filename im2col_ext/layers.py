"""Whole layers with PyTorch semantics on NumPy arrays: convolution, transposed convolution, pooling.

Each layer is a pair of functions in the cs231n style: ``*_forward(...)``
returns ``(out, cache)`` and ``*_backward(dout, cache)`` returns the
gradients.  There is one pair per spatial rank (``conv1d``, ``conv2d``,
``conv3d``, ...), with the arguments, their order and their meaning of
``torch.nn.functional`` (weights ``(F, C/groups, *k)`` for convolutions,
``(C_in, C_out/groups, *k)`` for transposed convolutions; every size an int
or a d-tuple).  Inputs are batched: ``(N, C, *spatial)``, or with the
keyword-only ``channel_axis=-1`` ``(N, *spatial, C)`` (NHWC / NDHWC data is
used as it is, never transposed; the weights keep torch's layout).  float32
and float64 keep their dtype and mixed dtypes are promoted as NumPy
promotes them.

The data movement is that of :func:`~im2col_ext.unfold` /
:func:`~im2col_ext.fold` (the engine's gather / accumulate on a window
checked once per call; compiled when the extension is built), the
arithmetic batched GEMMs on the columns: channels first
``out[n] = W @ cols[n]`` on ``(N, C*K, L)`` columns (per group, a batched
matmul on the ``(N, G, C/G*K, L)`` view), channels last one GEMM
``cols (N*L, K*C) @ W (K*C, F)``.  The convolutions build their columns a
few images (~4 MB) at a time and rebuild them in the backward pass rather
than keeping them, so their cache holds ``x`` itself: do not modify ``x``
in place before the backward pass.  Depthwise convolutions (``groups == C``,
one filter per channel, zero padding) build no columns: a direct kernel
(``_api._depthwise_forward`` / ``_depthwise_backward``; C for float32 and
float64) reads the input once.  2-D channels-first pooling with
torch's default window arithmetic uses dedicated kernels; every other
pooling (1-D/3-D, channels last, ``ceil_mode`` windows, the divisors of
``count_include_pad=False``/``divisor_override``) reduces unfolded windows,
a few images at a time.  Caches are private; pass them back unchanged.
"""

import math
from collections import namedtuple
from typing import Optional, Tuple

import numpy as np

from . import _api, _scratch, _winograd
from ._typing import Array, ArrayLike, Cache, IntOrSeq, OptIntOrSeq, Padding
from . import _padding
from ._geometry import (
    as_channel_axis,
    as_array,
    check_array,
    conv_geometry,
    conv_transpose_window,
    layer_groups,
    layer_join,
    layer_split,
    pool_divisors,
    pool_window,
    unpool_size,
    window,
)

__all__ = [
    f"{name}{d}d_{pass_}"
    for name in ("conv", "conv_transpose", "max_pool", "max_unpool", "avg_pool")
    for d in (1, 2, 3)
    for pass_ in ("forward", "backward")
] + ["release_buffers"]

#: Bytes of columns built at a time by the convolutions and the general
#: pooling path: a few images per chunk, so the columns are reused from
#: cache by the GEMM, and there are few enough chunks that the switches
#: between im2col threads and BLAS threads stay rare.  The convolutions'
#: columns and Winograd tiles live in per-thread scratch buffers kept
#: between calls (:mod:`._scratch`), so they are not page-faulted in again
#: by every call; :func:`release_buffers` frees them.
_CHUNK_BYTES = 4 << 20


def release_buffers() -> None:
    """Free the calling thread's scratch buffers.

    The convolutions keep their internal temporaries (a chunk of columns
    and its gradient, the Winograd tile arrays: a few MB, at most 32 MB
    each) between calls, one set per thread, instead of allocating and
    page-faulting them in on every call.  Call this to give that memory
    back; the next convolution makes them again.
    """
    _scratch.release()


_ConvCache = namedtuple("_ConvCache", "x wm has_bias win groups dtype w_shape mode",
                        defaults=("zeros",))
_ConvTCache = namedtuple("_ConvTCache", "x wm has_bias win groups dtype w_shape out_size")
_MaxPoolCache = namedtuple("_MaxPoolCache", "argmax g dtype win")
_AvgPoolCache = namedtuple("_AvgPoolCache", "g dtype win divisors")
_UnpoolCache = namedtuple("_UnpoolCache", "flat x_shape out_shape dtype")


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def _float_dtype(*dtypes):
    """The NumPy result type of ``dtypes``; integers and bools compute in float64."""
    dtype = np.result_type(*dtypes)
    if dtype.kind not in "fc":
        dtype = np.dtype(np.float64)
    return dtype


def _check_bias(b, n_out, what):
    if b is None:
        return None
    b = as_array(b, "b", 1, kinds="biuf")
    if b.shape[0] != n_out:
        raise ValueError(
            f"b must have one entry per {what} ({n_out}), got shape {b.shape}"
        )
    return b


def _check_dout(dout, expected):
    dout = as_array(dout, "dout", len(expected), kinds="biuf")
    if dout.shape != tuple(expected):
        raise ValueError(
            f"dout has shape {dout.shape}, but the forward pass produced "
            f"{tuple(expected)}"
        )
    return dout


def _chunks(n, per_image):
    """``(lo, hi)`` of consecutive image ranges of about ``_CHUNK_BYTES`` of columns."""
    step = max(1, _CHUNK_BYTES // max(1, per_image))
    for lo in range(0, n, step):
        yield lo, min(n, lo + step)


def _pool_input(x, d):
    x = as_array(x, "x", d + 2, kinds="biuf")
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    return x


def _spatial_slices(win, size):
    """Index selecting the ``size`` corner of an array laid out as ``win``'s images."""
    sl = tuple(slice(0, s) for s in size)
    return (slice(None), slice(None)) + sl if win.channel_axis == 1 else (slice(None),) + sl


# --------------------------------------------------------------------------
# unfold / fold of a checked Window (the one path to the data movement)
# --------------------------------------------------------------------------

def _unfold(x, win, out=None, mode="zeros", scratch=None):
    """Columns of the batch ``x`` over ``win``: channels first ``(n, C*K, L)``, last ``(n, L, K*C)``.

    :func:`~im2col_ext.unfold` on an already checked window: the engine's
    ``_gather`` with ``win`` for the ``x.shape[0]`` images of this chunk, so
    the arguments are not validated again for every chunk.  ``mode`` is a
    checked ``padding_mode`` without a fill value.  ``scratch``: the name
    of the :mod:`._scratch` buffer to write into, for columns that do not
    outlive the caller.
    """
    win = win._replace(n=x.shape[0])
    if out is None and scratch is not None:
        out = _scratch.take(scratch, _api._cols_shape(win, "torch"), x.dtype)
    return _api._gather(x, win, "torch", out, mode)


def _fold(cols, win, out=None, mode="zeros"):
    """Adjoint of :func:`_unfold` (:func:`~im2col_ext.fold`): the images, written into ``out`` when given."""
    win = win._replace(n=cols.shape[0])
    if mode in ("zeros", "constant"):
        return _api._accumulate(cols, win, "torch", out)
    return _api._fold(cols, win, "torch", out, mode, policy=False)


# --------------------------------------------------------------------------
# convolution: one core for every rank and both channel axes
# --------------------------------------------------------------------------

def _conv_matrix(w, groups, channel_axis):
    """The weights as GEMM operands: ``(G, F/G, C/G*K)`` channels first, ``(G, K*C/G, F/G)`` last."""
    f, cg = w.shape[:2]
    k = int(np.prod(w.shape[2:], dtype=np.int64))
    if channel_axis == 1:
        return w.reshape(groups, f // groups, cg * k)
    return np.ascontiguousarray(
        w.reshape(groups, f // groups, cg, k).transpose(0, 3, 2, 1)
    ).reshape(groups, k * cg, f // groups)


def _conv_forward(d, x, w, b, stride, padding, dilation, groups, channel_axis,
                  padding_mode="zeros", algorithm="gemm"):
    """Checked forward convolution of spatial rank ``d``; ``(out, cache)``."""
    mode = _padding.check_mode(padding_mode)
    if mode == "constant":
        raise ValueError(
            "padding_mode must be one of ('zeros', 'reflect', 'replicate', 'circular') for a "
            "convolution (torch's), got 'constant'"
        )
    ca = as_channel_axis(channel_axis)
    x = as_array(x, "x", d + 2, kinds="biuf")
    w = as_array(w, "w", d + 2, kinds="biuf")
    n, c, size = layer_split(x.shape, ca)
    f, cg, kernel = w.shape[0], w.shape[1], w.shape[2:]
    if f < 1 or any(k < 1 for k in kernel):
        raise ValueError(f"w must have positive F and kernel size, got shape {w.shape}")
    g = layer_groups(groups, c, f, "x channels", "w.shape[0]")
    if cg * g != c:
        raise ValueError(
            f"w has {cg} input channels (w.shape[1]) but x has {c} channels in {g} "
            f"group(s) ({c // g} per group); w must have shape (F, C/groups, *kernel)"
        )
    b = _check_bias(b, f, "filter (w.shape[0])")
    win = window(n, c, size, kernel, stride, padding, dilation, channel_axis=ca)
    _padding.check_pads(win, mode)
    dtype = _float_dtype(x, w, *(() if b is None else (b,)))
    variant = _winograd.chosen(algorithm, win, f, dtype, g, mode)
    if variant is not None:
        return _winograd.conv2d_forward(x, w, b, [p[0] for p in win.pad], dtype, win.out,
                                        variant)
    x = x.astype(dtype, copy=False)
    wm = _conv_matrix(w.astype(dtype, copy=False), g, ca)
    nl = win.L
    out = np.empty((n, f, nl) if ca == 1 else (n, nl, f), dtype=dtype)
    bias = None
    if b is not None:
        bias = b.astype(dtype, copy=False)
        bias = bias[:, None] if ca == 1 else bias
    if mode == "zeros" and _depthwise(wm, g, win.K, ca):
        # no columns: the direct depthwise kernel over the whole batch, bias included
        _api._depthwise_forward(x, wm.reshape(c, win.K), None if b is None else
                                b.astype(dtype, copy=False), win, out)
    else:
        for lo, hi in _chunks(n, c * win.K * nl * dtype.itemsize):
            o = out[lo:hi]
            cols = _unfold(x[lo:hi], win._replace(n=hi - lo), mode=mode, scratch="columns")
            _conv_cols_forward(cols, wm, o, g, ca, win.K)
            if bias is not None:
                o += bias
    out = out.reshape(layer_join(n, f, win.out, ca))
    return out, _ConvCache(x, wm, b is not None, win, g, dtype, w.shape, mode)


def _depthwise(wm, g, k, ca):
    """True for a depthwise convolution (one input and one output channel per group)."""
    return g > 1 and wm.shape[0] == g and wm.shape[1 if ca == 1 else 2] == 1 and (
        wm.shape[2 if ca == 1 else 1] == k)


def _conv_cols_forward(cols, wm, o, g, ca, k):
    """``o = W @ cols`` for one chunk (``o`` is ``(m, F, L)`` or ``(m, L, F)``; ``k`` = K)."""
    m = cols.shape[0]
    if _depthwise(wm, g, k, ca):
        # one tap at a time, o = sum_k w[:, k] * cols[.., k, ..]: G tiny
        # (1, K) @ (K, L) products per image would cost far more
        if ca == 1:
            c4, w2 = cols.reshape(m, g, k, -1), wm[:, 0, :, None]      # (G, K, 1)
            taps = [(c4[:, :, t], w2[:, t]) for t in range(k)]
        else:
            c4, w2 = cols.reshape(m, -1, k, g), wm[:, :, 0].T          # (K, G)
            taps = [(c4[:, :, t], w2[t]) for t in range(k)]
        tmp = np.empty_like(o)
        np.multiply(taps[0][0], taps[0][1], out=o)
        for c_t, w_t in taps[1:]:
            np.multiply(c_t, w_t, out=tmp)
            o += tmp
        return
    if ca == 1:
        nl = cols.shape[-1]
        if g == 1:
            np.matmul(wm[0], cols, out=o)         # (m, F, L): one GEMM per image
        else:                                     # (m, G, F/G, L) = (G, F/G, Cg*K) @ (m, G, Cg*K, L)
            np.matmul(wm, cols.reshape(m, g, -1, nl), out=o.reshape(m, g, -1, nl))
        return
    nl = cols.shape[1]
    if g == 1:
        np.matmul(cols.reshape(m * nl, -1), wm[0], out=o.reshape(m * nl, -1))
        return
    colsg = _regroup(cols.reshape(m * nl, -1), k, g, wm.shape[1] // k)
    o.reshape(m * nl, g, -1)[...] = np.matmul(colsg, wm).transpose(1, 0, 2)


def _conv_backward(dout, cache):
    """Gradients ``(dx, dw, db)`` of :func:`_conv_forward`."""
    if isinstance(cache, _winograd.WinogradCache):
        return _winograd.conv2d_backward(_check_dout(dout, cache.out_shape), cache)
    x, wm, has_bias, win, g, dtype, w_shape, mode = cache
    n, f, ca, nl = win.n, w_shape[0], win.channel_axis, win.L
    dout = _check_dout(dout, layer_join(n, f, win.out, ca))
    d3 = dout.astype(dtype, copy=False).reshape((n, f, nl) if ca == 1 else (n, nl, f))
    db = (d3.sum(axis=(0, 2) if ca == 1 else (0, 1))) if has_bias else None
    dx = np.empty(x.shape, dtype=dtype)
    if mode == "zeros" and _depthwise(wm, g, win.K, ca):
        dw = _api._depthwise_backward(x, wm.reshape(win.c, win.K), d3, win, dx)
        return dx, dw.reshape(w_shape), db
    chunks = _chunks(n, win.c * win.K * nl * dtype.itemsize)
    if ca == 1:
        dw = _conv_backward_first(x, d3, wm, win, g, dtype, dx, chunks, mode)
    else:
        dw = _conv_backward_last(x, d3, wm, win, g, dx, chunks, mode)
    return dx, dw.reshape(w_shape), db


def _conv_backward_first(x, d3, wm, win, g, dtype, dx, chunks, mode="zeros"):
    """Channels first: accumulate dw ``(G, F/G, C/G*K)`` and write dx chunk by chunk."""
    gg, fg, cgk = wm.shape
    nl = win.L
    # OpenBLAS's sgemm is ~25% faster on (C*K, L) @ (L, F) than on the
    # transposed product (F, L) @ (L, C*K); dgemm is not (and no faster).
    dw_t = dtype == np.float32
    dw = np.zeros((gg, cgk, fg) if dw_t else (gg, fg, cgk), dtype=dtype)
    tmp = np.empty_like(dw)
    wmt = wm.transpose(0, 2, 1)
    dcols = None
    depthwise = _depthwise(wm, g, win.K, 1)
    for lo, hi in chunks:
        m = hi - lo
        wc = win._replace(n=m)
        cols = _unfold(x[lo:hi], wc, mode=mode, scratch="columns").reshape(m, gg, cgk, nl)
        dc = d3[lo:hi].reshape(m, gg, fg, nl)
        if depthwise:
            # dw[c, k] = sum over images and windows of dout * cols, tap by tap;
            # the columns of dx are w[c, k] * dout (one broadcast product)
            d2 = dc[:, :, 0, :]
            for t in range(cgk):
                part = np.einsum("ncl,ncl->c", d2, cols[:, :, t, :])
                if dw_t:
                    dw[:, t, 0] += part
                else:
                    dw[:, 0, t] += part
            if dcols is None or dcols.shape != cols.shape:
                dcols = _scratch.take("column gradients", cols.shape, cols.dtype)
            np.multiply(wm[:, 0, :, None], d2[:, :, None, :], out=dcols)
            _fold(dcols.reshape(m, gg * cgk, nl), wc, out=dx[lo:hi], mode=mode)
            continue
        for i in range(m):
            if dw_t:
                np.matmul(cols[i], dc[i].transpose(0, 2, 1), out=tmp)
            else:
                np.matmul(dc[i], cols[i].transpose(0, 2, 1), out=tmp)
            dw += tmp
        if dcols is None or dcols.shape != cols.shape:
            dcols = _scratch.take("column gradients", cols.shape, cols.dtype)  # the columns of dx
        np.matmul(wmt, dc, out=dcols)
        _fold(dcols.reshape(m, gg * cgk, nl), wc, out=dx[lo:hi], mode=mode)
    if dw_t:
        dw = dw.transpose(0, 2, 1)
    return dw


def _conv_backward_last(x, d3, wm, win, g, dx, chunks, mode="zeros"):
    """Channels last: accumulate dw ``(G, K*C/G, F/G)`` and write dx; return dw in torch's layout."""
    gg, kcg, fg = wm.shape
    nl, k = win.L, win.K
    cg = kcg // k
    dw = np.zeros(wm.shape, dtype=wm.dtype)
    for lo, hi in chunks:
        m = hi - lo
        wc = win._replace(n=m)
        cols = _unfold(x[lo:hi], wc, mode=mode, scratch="columns").reshape(m * nl, k * win.c)
        dc = d3[lo:hi].reshape(m * nl, g * fg)
        if _depthwise(wm, g, k, -1):
            c3 = cols.reshape(m * nl, k, g)
            for t in range(k):
                dw[:, t, 0] += np.einsum("rc,rc->c", dc, c3[:, t, :])
            dcols = dc[:, None, :] * wm[:, :, 0].T[None]               # (M, K, G)
        elif g == 1:
            dw[0] += cols.T @ dc
            dcols = np.matmul(dc, wm[0].T)
        else:
            colsg = _regroup(cols, k, g, cg)                      # (G, M, K*Cg)
            dcg = dc.reshape(m * nl, g, fg).transpose(1, 0, 2)    # (G, M, Fg)
            dw += np.matmul(colsg.transpose(0, 2, 1), dcg)
            dcolsg = np.matmul(dcg, wm.transpose(0, 2, 1))        # (G, M, K*Cg)
            dcols = _ungroup(dcolsg, k, g, cg)
        _fold(dcols.reshape(m, nl, k * win.c), wc, out=dx[lo:hi], mode=mode)
    # (G, K, Cg, Fg) -> (G, Fg, Cg, K)
    return dw.reshape(g, k, cg, fg).transpose(0, 3, 2, 1)


def _regroup(cols2, k, g, cg):
    """Channels-last columns ``(M, K*G*Cg)`` as ``(G, M, K*Cg)`` (a copy)."""
    m = cols2.shape[0]
    return np.ascontiguousarray(
        cols2.reshape(m, k, g, cg).transpose(2, 0, 1, 3)
    ).reshape(g, m, k * cg)


def _ungroup(colsg, k, g, cg):
    """Inverse of :func:`_regroup`: ``(G, M, K*Cg)`` as ``(M, K*G*Cg)`` (a copy)."""
    m = colsg.shape[1]
    return np.ascontiguousarray(
        colsg.reshape(g, m, k, cg).transpose(1, 2, 0, 3)
    ).reshape(m, k * g * cg)


# --------------------------------------------------------------------------
# transposed convolution
# --------------------------------------------------------------------------

def _convt_matrix(w, groups, channel_axis):
    """``(G, C_in/G, C_out/G*K)`` channels first (rows ``(co, k)``), ``(G, C_in/G, K*C_out/G)`` last."""
    cin, cog = w.shape[:2]
    k = int(np.prod(w.shape[2:], dtype=np.int64))
    if channel_axis == 1:
        return w.reshape(groups, cin // groups, cog * k)
    return np.ascontiguousarray(
        w.reshape(groups, cin // groups, cog, k).transpose(0, 1, 3, 2)
    ).reshape(groups, cin // groups, k * cog)


def _window_grid(cols, win, size, inverse=False):
    """Columns of the ``size`` input grid embedded in (or, ``inverse``, cut from) ``win.out``'s.

    Only needed when ``output_padding >= stride`` (allowed by a larger
    dilation): the output grows windows that no input pixel feeds.
    """
    if tuple(win.out) == tuple(size):
        return cols
    m = cols.shape[0]
    r = cols.shape[1] if win.channel_axis == 1 else cols.shape[2]
    small, big = (win.out, size) if inverse else (size, win.out)
    grid = layer_join(m, r, small, win.channel_axis)
    src = cols.reshape(grid)
    if inverse:
        res = np.ascontiguousarray(src[_spatial_slices(win, big)])
    else:
        res = np.zeros(layer_join(m, r, big, win.channel_axis), dtype=cols.dtype)
        res[_spatial_slices(win, small)] = src
    nl = int(np.prod(big, dtype=np.int64))
    return res.reshape((m, r, nl) if win.channel_axis == 1 else (m, nl, r))


def _conv_t_forward(d, x, w, b, stride, padding, output_padding, groups, dilation,
                    channel_axis):
    """Checked transposed convolution of spatial rank ``d``; ``(out, cache)``."""
    ca = as_channel_axis(channel_axis)
    x = as_array(x, "x", d + 2, kinds="biuf")
    w = as_array(w, "w", d + 2, kinds="biuf")
    n, cin, size = layer_split(x.shape, ca)
    cw, cog, kernel = w.shape[0], w.shape[1], w.shape[2:]
    if cw != cin:
        raise ValueError(
            f"w has {cw} input channels (w.shape[0]) but x has {cin}; "
            "w must have shape (C_in, C_out/groups, *kernel)"
        )
    if cog < 1 or any(k < 1 for k in kernel):
        raise ValueError(f"w must have positive C_out and kernel size, got shape {w.shape}")
    g = layer_groups(groups, cin, None, "x channels")
    cout = cog * g
    b = _check_bias(b, cout, "output channel (w.shape[1] * groups)")
    out_size, win = conv_transpose_window(n, cin, size, cout, kernel, stride, padding,
                                          output_padding, dilation, channel_axis=ca)
    dtype = _float_dtype(x, w, *(() if b is None else (b,)))
    x = x.astype(dtype, copy=False)
    wm = _convt_matrix(w.astype(dtype, copy=False), g, ca)
    out = np.empty(layer_join(n, cout, out_size, ca), dtype=dtype)
    lin = int(np.prod(size, dtype=np.int64))
    k = win.K
    for lo, hi in _chunks(n, cout * k * win.L * dtype.itemsize):
        m = hi - lo
        if ca == 1:
            xg = x[lo:hi].reshape(m, g, cin // g, lin)
            cols = np.matmul(wm.transpose(0, 2, 1), xg).reshape(m, cout * k, lin)
        else:
            x2 = x[lo:hi].reshape(m * lin, cin)
            if g == 1:
                cols = x2 @ wm[0]
            else:
                xg = x2.reshape(m * lin, g, cin // g).transpose(1, 0, 2)
                cols = _ungroup(np.matmul(xg, wm), k, g, cog)
            cols = cols.reshape(m, lin, k * cout)
        _fold(_window_grid(cols, win, size), win._replace(n=m), out=out[lo:hi])
    if b is not None:
        bias = b.astype(dtype, copy=False)
        out += bias.reshape((cout,) + (1,) * d) if ca == 1 else bias
    return out, _ConvTCache(x, wm, b is not None, win, g, dtype, w.shape, out_size)


def _conv_t_backward(dout, cache):
    """Gradients ``(dx, dw, db)`` of :func:`_conv_t_forward` (the backward pass is an unfold)."""
    x, wm, has_bias, win, g, dtype, w_shape, out_size = cache
    ca = win.channel_axis
    n, cin, size = layer_split(x.shape, ca)
    cout, k = win.c, win.K
    cog = cout // g
    dout = _check_dout(dout, layer_join(n, cout, out_size, ca))
    dout = dout.astype(dtype, copy=False)
    lin = int(np.prod(size, dtype=np.int64))
    dx = np.empty(x.shape, dtype=dtype)
    dw = np.zeros(wm.shape, dtype=dtype)
    for lo, hi in _chunks(n, cout * k * win.L * dtype.itemsize):
        m = hi - lo
        dcols = _window_grid(_unfold(dout[lo:hi], win._replace(n=m)), win, size, inverse=True)
        if ca == 1:
            dcg = dcols.reshape(m, g, cog * k, lin)
            xg = x[lo:hi].reshape(m, g, cin // g, lin)
            dx[lo:hi] = np.matmul(wm, dcg).reshape(dx[lo:hi].shape)
            for i in range(m):
                dw += np.matmul(xg[i], dcg[i].transpose(0, 2, 1))
        else:
            dc2 = dcols.reshape(m * lin, k * cout)
            x2 = x[lo:hi].reshape(m * lin, cin)
            if g == 1:
                dx[lo:hi] = (dc2 @ wm[0].T).reshape(dx[lo:hi].shape)
                dw[0] += x2.T @ dc2
            else:
                dcg = _regroup(dc2, k, g, cog)                        # (G, M, K*Cog)
                xg = x2.reshape(m * lin, g, cin // g).transpose(1, 0, 2)
                dxg = np.matmul(dcg, wm.transpose(0, 2, 1))           # (G, M, Cin/G)
                dx[lo:hi] = dxg.transpose(1, 0, 2).reshape(dx[lo:hi].shape)
                dw += np.matmul(xg.transpose(0, 2, 1), dcg)
    if ca == -1:
        dw = dw.reshape(g, cin // g, k, cog).transpose(0, 1, 3, 2)
    axes = tuple(i for i in range(dout.ndim) if i != (1 if ca == 1 else dout.ndim - 1))
    db = dout.sum(axis=axes) if has_bias else None
    return dx, dw.reshape(w_shape), db


# --------------------------------------------------------------------------
# pooling
# --------------------------------------------------------------------------

def _kernel_geometry(win):
    """The 2-D :class:`Geometry` of the dedicated pooling kernels, or None where they do not apply.

    They cover channels-first 1-D (as height 1) and 2-D windows with the same
    padding on both sides whose window count is torch's floor count (so not
    the extra windows of ``ceil_mode``).
    """
    if win.channel_axis != 1 or win.d == 3:
        return None
    size, kernel, stride, dil = win.size, win.kernel, win.stride, win.dilation
    pad = tuple(lo for lo, _ in win.pad)
    if win.d == 1:
        size, kernel, stride, dil, pad = ((1,) + t for t in (size, kernel, stride, dil, pad))
        out = (1,) + win.out
    else:
        out = win.out
    if any((i + 2 * p - dl * (k - 1) - 1) // s + 1 != o
           for i, k, s, p, dl, o in zip(size, kernel, stride, pad, dil, out)):
        return None
    return conv_geometry(win.n, win.c, size[0], size[1], kernel, stride, pad, dil)


def _lowest(dtype):
    """The value padding takes in a max pool: -inf, or the integer type's minimum."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return dtype.type(-np.inf)
    if dtype.kind == "b":
        return np.False_
    return dtype.type(np.iinfo(dtype).min)


def _neg_inf_padded(x, win):
    """``x`` padded with -inf (integers: their minimum) by ``win.pad``, and the window without padding."""
    pads = tuple(win.pad)
    if not any(lo or hi for lo, hi in pads):
        return x, win
    widths = ((0, 0), (0, 0)) + pads if win.channel_axis == 1 else ((0, 0),) + pads + ((0, 0),)
    xp = np.pad(x, widths, constant_values=_lowest(x.dtype))
    size = tuple(s + lo + hi for s, (lo, hi) in zip(win.size, pads))
    return xp, win._replace(size=size, pad=((0, 0),) * win.d)


def _window_taps(win):
    """Per-axis ``(tap offsets, window starts)``: input index ``start[o] + tap[k]``."""
    return [(np.arange(k, dtype=np.int64) * dl, np.arange(o, dtype=np.int64) * s - lo)
            for k, s, dl, (lo, _), o in zip(win.kernel, win.stride, win.dilation, win.pad,
                                            win.out)]


def _flat_input_index(kb, lpos, win):
    """Flat in-plane input index of tap ``kb`` of window ``lpos`` (-1 where that is padding)."""
    ks = np.unravel_index(kb, win.kernel)
    ls = np.unravel_index(lpos, win.out)
    flat = np.zeros(np.broadcast(kb, lpos).shape, dtype=np.int64)
    ok = np.ones(flat.shape, dtype=bool)
    for (taps, starts), ka, la, n in zip(_window_taps(win), ks, ls, win.size):
        i = starts[la] + taps[ka]
        ok &= (i >= 0) & (i < n)
        flat = flat * n + i
    return np.where(ok, flat, -1)


def _first_valid_index(win):
    """Flat input index of the first tap (row-major) of each window inside the input, or -1; shape (L,)."""
    flat: np.ndarray = np.zeros((), dtype=np.int64)
    ok: np.ndarray = np.ones((), dtype=bool)
    for (taps, starts), dl, n in zip(_window_taps(win), win.dilation, win.size):
        k0 = np.maximum(-(starts // dl), 0)         # ceil(-start / dilation) when start < 0
        i = starts + k0 * dl
        good = (k0 < taps.size) & (i < n)
        flat = np.add.outer(flat * n, i)
        ok = np.logical_and.outer(ok, good)
    return np.where(ok, flat, -1).reshape(-1)


def _max_pool_general(x, win):
    """``(out, indices)`` of max pooling by reducing unfolded, -inf padded windows."""
    n, c, ca, k, nl = win.n, win.c, win.channel_axis, win.K, win.L
    out = np.empty(layer_join(n, c, win.out, ca), dtype=x.dtype)
    ind = np.empty(out.shape, dtype=np.int64)
    first = _first_valid_index(win)
    lpos = np.arange(nl, dtype=np.int64)[:, None] if ca == -1 else np.arange(nl, dtype=np.int64)
    axis = 2
    for lo, hi in _chunks(n, c * k * nl * x.dtype.itemsize):
        m = hi - lo
        xp, wp = _neg_inf_padded(x[lo:hi], win._replace(n=m))
        cols = _unfold(xp, wp)
        c4 = cols.reshape((m, c, k, nl) if ca == 1 else (m, nl, k, c))
        kb = np.argmax(c4, axis=axis)            # the first maximum; the first NaN
        best = np.take_along_axis(c4, np.expand_dims(kb, axis), axis).squeeze(axis)
        nan = np.isnan(best) if best.dtype.kind == "f" else np.zeros(best.shape, bool)
        if nan.any():
            # torch: a NaN replaces the best so far, so the last NaN wins
            last = k - 1 - np.argmax(np.isnan(c4[:, :, ::-1]), axis=axis)
            kb = np.where(nan, last, kb)
        idx = _flat_input_index(kb, lpos, win)
        neg = best == _lowest(best.dtype)
        if neg.any():
            # all -inf (or only padding): torch keeps its first in-bounds tap
            # (for integers: every in-bounds tap equals the minimum, so the
            # first of them is the first maximum)
            idx = np.where(neg, np.broadcast_to(first[lpos], idx.shape), idx)
        out[lo:hi] = best.reshape(out[lo:hi].shape)
        ind[lo:hi] = idx.reshape(ind[lo:hi].shape)
    return out, ind


def _scatter_flat(win, indices, lo, hi):
    """Flat positions in a ``win``-shaped input batch ``[lo:hi]`` of the in-plane ``indices``."""
    m, c, plane = hi - lo, win.c, math.prod(win.size)
    if win.channel_axis == 1:
        base = (np.arange(m * c, dtype=np.int64) * plane).reshape((m, c) + (1,) * win.d)
        return indices + base
    base = (np.arange(m, dtype=np.int64) * plane).reshape((m,) + (1,) * (win.d + 1))
    return (indices + base) * c + np.arange(c, dtype=np.int64)


def _max_pool_forward(d, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                      channel_axis):
    ca = as_channel_axis(channel_axis)
    x = as_array(x, "x", d + 2, kinds="biuf")
    if not isinstance(return_indices, (bool, np.bool_)):
        raise TypeError(f"return_indices must be a bool, got {return_indices!r}")
    n, c, size = layer_split(x.shape, ca)
    win = pool_window(n, c, size, kernel_size, stride, padding, dilation, ceil_mode,
                      channel_axis=ca)
    g = _kernel_geometry(win)
    # Integers keep their dtype (max and argmax are exact): up to 32 bits they
    # run the float64 kernels (every value is exact there) and convert back;
    # 64-bit integers take the general path in their own type.
    xk = x
    if x.dtype.kind in "biu":
        if x.dtype.itemsize <= 4:
            xk = x.astype(np.float64)
        else:
            g = None
    if g is not None:
        out, argmax = _api._max_pool_forward(xk.reshape(g.n, g.c, g.h, g.w), g)
        shape = layer_join(n, c, win.out, ca)
        out, argmax = out.reshape(shape), argmax.reshape(shape)
    else:
        out, argmax = _max_pool_general(xk, win)
    if out.dtype != x.dtype:
        empty = argmax < 0
        out = out.astype(x.dtype) if not empty.any() else np.where(
            empty, _lowest(x.dtype), out).astype(x.dtype)
    grad = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    cache = _MaxPoolCache(argmax, g, grad, win)
    return (out, argmax, cache) if return_indices else (out, cache)


def _max_pool_backward(dout, cache):
    argmax, g, dtype, win = cache
    dout = _check_dout(dout, argmax.shape)
    dout = dout.astype(dtype, copy=False)
    x_shape = layer_join(win.n, win.c, win.size, win.channel_axis)
    if g is not None:
        return _api._max_pool_scatter(dout.reshape(g.n, g.c, g.oh, g.ow),
                                     argmax.reshape(g.n, g.c, g.oh, g.ow), g).reshape(x_shape)
    dx = np.empty(x_shape, dtype=dtype)
    per_image = win.c * win.L * 8 * 3
    for lo, hi in _chunks(win.n, per_image):
        a = argmax[lo:hi]
        keep = a >= 0
        flat = _scatter_flat(win, a, lo, hi)[keep]
        total = np.bincount(flat, weights=dout[lo:hi][keep], minlength=dx[lo:hi].size)
        dx[lo:hi] = total.reshape(dx[lo:hi].shape)
    return dx


def _avg_pool_forward(d, x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                      divisor_override, channel_axis):
    ca = as_channel_axis(channel_axis)
    x = _pool_input(x, d)
    n, c, size = layer_split(x.shape, ca)
    win = pool_window(n, c, size, kernel_size, stride, padding, 1, ceil_mode, channel_axis=ca)
    sym = tuple(lo for lo, _ in win.pad)
    g = _kernel_geometry(win)
    if divisor_override is not None or not (count_include_pad or not any(sym)):
        g = None
    if g is not None:
        out = _api._avg_pool_forward(x.reshape(g.n, g.c, g.h, g.w), g)
        return out.reshape(layer_join(n, c, win.out, ca)), _AvgPoolCache(g, x.dtype, win, None)
    div = pool_divisors(win, sym, bool(count_include_pad), divisor_override)
    div = np.maximum(div, 1).reshape(-1).astype(x.dtype)
    out = np.empty(layer_join(n, c, win.out, ca), dtype=x.dtype)
    k, nl = win.K, win.L
    for lo, hi in _chunks(n, c * k * nl * x.dtype.itemsize):
        m = hi - lo
        cols = _unfold(x[lo:hi], win._replace(n=m))
        if ca == 1:
            s = cols.reshape(m, c, k, nl).sum(axis=2) / div
        else:
            s = cols.reshape(m, nl, k, c).sum(axis=2) / div[:, None]
        out[lo:hi] = s.reshape(out[lo:hi].shape)
    return out, _AvgPoolCache(None, x.dtype, win, div)


def _avg_pool_backward(dout, cache):
    g, dtype, win, div = cache
    ca, n, c, k, nl = win.channel_axis, win.n, win.c, win.K, win.L
    dout = _check_dout(dout, layer_join(n, c, win.out, ca))
    dout = dout.astype(dtype, copy=False)
    x_shape = layer_join(n, c, win.size, ca)
    if g is not None:
        return _api._avg_pool_scatter(dout.reshape(g.n, g.c, g.oh, g.ow), g).reshape(x_shape)
    dx = np.empty(x_shape, dtype=dtype)
    for lo, hi in _chunks(n, c * k * nl * dtype.itemsize):
        m = hi - lo
        if ca == 1:
            share = dout[lo:hi].reshape(m, c, 1, nl) / div
            cols = np.broadcast_to(share, (m, c, k, nl)).reshape(m, c * k, nl)
        else:
            share = dout[lo:hi].reshape(m, nl, 1, c) / div[:, None, None]
            cols = np.broadcast_to(share, (m, nl, k, c)).reshape(m, nl, k * c)
        _fold(cols, win._replace(n=m), out=dx[lo:hi])
    return dx


def _max_unpool_forward(d, x, indices, kernel_size, stride, padding, output_size, channel_axis):
    ca = as_channel_axis(channel_axis)
    x = _pool_input(x, d)
    indices = as_array(indices, "indices", d + 2, kinds="iu")
    if indices.shape != x.shape:
        raise ValueError(
            f"indices must have the shape of x {x.shape}, got {indices.shape}"
        )
    n, c, size = layer_split(x.shape, ca)
    out_size = unpool_size(size, kernel_size, stride, padding, output_size)
    plane = int(np.prod(out_size, dtype=np.int64))
    ind = indices.astype(np.int64, copy=False)
    if ind.size and (ind.min() < -1 or ind.max() >= plane):
        bad = ind[(ind < -1) | (ind >= plane)].flat[0]
        raise ValueError(
            f"indices must lie in [0, {plane}) (the output plane {out_size}) or be -1 "
            f"(a window without input pixels), found {bad}"
        )
    out_shape = layer_join(n, c, out_size, ca)
    win = window(n, c, out_size, 1, channel_axis=ca)     # only n, c, size are used
    flat = np.where(ind >= 0, _scatter_flat(win, ind, 0, n), -1)
    out = np.zeros(out_shape, dtype=x.dtype)
    keep = flat >= 0
    out.reshape(-1)[flat[keep]] = x[keep]
    return out, _UnpoolCache(flat, x.shape, out_shape, x.dtype)


def _max_unpool_backward(dout, cache):
    flat, x_shape, out_shape, dtype = cache
    dout = _check_dout(dout, out_shape)
    d1 = dout.astype(dtype, copy=False).reshape(-1)
    return np.where(flat >= 0, d1[np.maximum(flat, 0)], 0).astype(dtype, copy=False)


# --------------------------------------------------------------------------
# public layers, one pair per rank
# --------------------------------------------------------------------------

_SHAPES = {1: ("L", "(N, C, L)", "(N, L, C)", "k"),
           2: ("H, W", "(N, C, H, W)", "(N, H, W, C)", "kh, kw"),
           3: ("D, H, W", "(N, C, D, H, W)", "(N, D, H, W, C)", "kd, kh, kw")}


def _doc(template, d):
    spatial, first, last, k = _SHAPES[d]
    return template.format(d=d, spatial=spatial, first=first, last=last, k=k,
                           tup={1: "1-tuple", 2: "pair", 3: "triple"}[d])


_CONV_DOC = """{d}-D cross-correlation, as ``torch.nn.functional.conv{d}d``.

    Parameters
    ----------
    x : ndarray, shape {first} (or {last} with ``channel_axis=-1``)
    w : ndarray, shape (F, C/groups, {k})
        torch's layout whatever ``channel_axis`` is.
    b : ndarray, shape (F,), or None
    stride, dilation : int or {tup} of ints
    padding : int, {tup} of ints or of (low, high) pairs, "valid" or "same"
        Zero padding.  "same" is TensorFlow's rule for any stride:
        ``out = ceil(in / stride)``, the odd unit of padding high (torch
        accepts it at stride 1 only, where both agree).
    groups : int
        As torch: channel group ``g`` of x meets filters ``g*F/groups`` to
        ``(g+1)*F/groups - 1``; depthwise when ``groups == C``.
    channel_axis : {{1, -1}}, keyword-only
        Where the channels of ``x``, ``out`` and ``dout`` are.
    padding_mode : {{"zeros", "reflect", "replicate", "circular"}}, keyword-only
        What the padding holds, as ``torch.nn.Conv{d}d(padding_mode=...)``
        (reflect: padding smaller than the input; circular: at most the
        input size).  No padded copy is made: see :func:`~im2col_ext.unfold`;
        the backward pass folds the border back (dx is exact).

    Returns
    -------
    out : ndarray, shape (N, F, *o) (or (N, *o, F))
        ``o = (in + low + high - dilation*(k - 1) - 1) // stride + 1`` per axis.
        The dtype is NumPy's result type of ``x``, ``w`` and ``b``
        (float64 for integer inputs).
    cache : object
        For :func:`conv{d}d_backward`.  It holds ``x``: do not modify ``x``
        in place before the backward pass.
    """

_CONV_BACKWARD_DOC = """Gradients of :func:`conv{d}d_forward`.

    Parameters
    ----------
    dout : ndarray, the shape of the forward output
    cache : object
        From :func:`conv{d}d_forward`.

    Returns
    -------
    dx : ndarray, the shape of ``x``
    dw : ndarray, shape (F, C/groups, {k})
    db : ndarray, shape (F,), or None when the forward pass had no bias
    """

_CONVT_DOC = """{d}-D transposed convolution, as ``torch.nn.functional.conv_transpose{d}d``.

    The forward pass is a fold: every input pixel spreads ``w`` times its
    value over a window of the output.

    Parameters
    ----------
    x : ndarray, shape {first} (or {last} with ``channel_axis=-1``)
    w : ndarray, shape (C_in, C_out/groups, {k})
        torch's layout whatever ``channel_axis`` is.
    b : ndarray, shape (C_out,), or None
    stride, output_padding, dilation : int or {tup} of ints
        ``output_padding`` must be smaller than the stride or the dilation
        of its axis.
    padding : int, {tup} of ints or of (low, high) pairs
        A string is a ValueError ("same"/"valid" are not defined here).
    groups : int
        Divides C_in; C_out = groups * w.shape[1].
    channel_axis : {{1, -1}}, keyword-only
    padding_mode : "zeros", keyword-only
        The only mode, as torch's; any other is a ValueError.

    Returns
    -------
    out : ndarray, shape (N, C_out, *o) (or (N, *o, C_out))
        ``o = (in - 1)*stride - low - high + dilation*(k - 1) + output_padding + 1``.
    cache : object
        For :func:`conv_transpose{d}d_backward`.
    """

_CONVT_BACKWARD_DOC = """Gradients of :func:`conv_transpose{d}d_forward` (the backward pass is an unfold).

    Returns
    -------
    dx : ndarray, the shape of ``x``
    dw : ndarray, shape (C_in, C_out/groups, {k})
    db : ndarray, shape (C_out,), or None when the forward pass had no bias
    """

_MAX_POOL_DOC = """{d}-D max pooling, as ``torch.nn.functional.max_pool{d}d``.

    torch's CPU rules throughout: padding acts as ``-inf``; the window
    taps are scanned in row-major order and a value replaces the best so far
    when it is greater or NaN, so among equal maxima the first wins and
    among NaNs the last; an all ``-inf`` window points at its first pixel
    inside the input.  With ``ceil_mode`` the window count rounds up, but
    the last window must start inside the input or the low padding; it may
    reach past the high padding (those taps are ``-inf`` too).  A window
    made only of padding (possible with dilation or ``ceil_mode``) gives
    ``-inf``, index -1 and no gradient (torch's index there points at an
    unrelated pixel).

    Parameters
    ----------
    x : ndarray, shape {first} (or {last} with ``channel_axis=-1``)
        Floating point, integer or bool.  Integers keep their dtype: max and
        argmax are exact (up to 32 bits the float64 kernels run, which hold
        every such value; 64-bit integers take an exact integer path), and a
        window made only of padding gives the dtype's minimum instead of
        ``-inf``.  The gradient of an integer input is float64.
    kernel_size : int or {tup} of ints
    stride : int or {tup} of ints, optional
        Defaults to ``kernel_size``.
    padding : int or {tup} of ints
        At most half the kernel size along each axis (torch's rule).
    dilation : int or {tup} of ints
    ceil_mode : bool
    return_indices : bool
        Also return the indices of the maxima, flat over each input plane
        (``{spatial}`` row-major), as torch's.
    channel_axis : {{1, -1}}, keyword-only

    Returns
    -------
    out : ndarray, the dtype of ``x``
    indices : ndarray of int64, the shape of ``out`` (only with ``return_indices``)
        The same array the cache holds: do not modify it before the backward pass.
    cache : object
        For :func:`max_pool{d}d_backward`.
    """

_MAX_POOL_BACKWARD_DOC = """Gradient of :func:`max_pool{d}d_forward`: ``dout`` routed to each window's maximum.

    Where windows overlap, the gradients reaching one pixel add up.

    Returns
    -------
    dx : ndarray, the shape of ``x`` and the dtype of the forward input
    """

_AVG_POOL_DOC = """{d}-D average pooling, as ``torch.nn.functional.avg_pool{d}d``.

    The divisor follows torch: with ``count_include_pad`` the number of
    window taps inside the input plus its zero padding (so a ``ceil_mode``
    window that reaches past the padding counts less), otherwise the taps
    inside the input; ``divisor_override`` replaces both.

    Parameters
    ----------
    x : ndarray, shape {first} (or {last} with ``channel_axis=-1``)
        Floating point; integer and bool input is averaged in float64 and
        the result is float64 (torch refuses integer average pooling).
    kernel_size : int or {tup} of ints
    stride : int or {tup} of ints, optional
        Defaults to ``kernel_size``.
    padding : int or {tup} of ints
        At most half the kernel size along each axis.
    ceil_mode, count_include_pad : bool
    divisor_override : int, optional
    channel_axis : {{1, -1}}, keyword-only

    Returns
    -------
    out : ndarray, the dtype of ``x``
    cache : object
        For :func:`avg_pool{d}d_backward`.
    """

_AVG_POOL_BACKWARD_DOC = """Gradient of :func:`avg_pool{d}d_forward`.

    Returns
    -------
    dx : ndarray, the shape of ``x`` and the dtype of the forward input
    """

_UNPOOL_DOC = """{d}-D max unpooling, as ``torch.nn.functional.max_unpool{d}d``: the inverse of max pooling.

    ``out`` is zero except at ``indices`` (flat over each output plane,
    as :func:`max_pool{d}d_forward` returns them), where it holds ``x``.
    Index -1 (a window made only of padding) places nothing; any other
    index outside the output plane is a ValueError.  Where indices repeat,
    one of the values lands.

    Parameters
    ----------
    x : ndarray, shape {first} (or {last} with ``channel_axis=-1``)
    indices : integer ndarray, the shape of ``x``
    kernel_size, stride, padding : int or {tup} of ints
        ``stride`` defaults to ``kernel_size``.
    output_size : sequence of ints, optional
        The output's spatial size (or its whole shape); default
        ``(in - 1)*stride + kernel_size - 2*padding``, and it must lie
        strictly within ``stride`` of that.
    channel_axis : {{1, -1}}, keyword-only

    Returns
    -------
    out : ndarray, the dtype of ``x`` (float64 for integer ``x``)
    cache : object
        For :func:`max_unpool{d}d_backward`.
    """

_UNPOOL_BACKWARD_DOC = """Gradient of :func:`max_unpool{d}d_forward`: ``dout`` read back at the indices.

    Returns
    -------
    dx : ndarray, the shape of ``x``
    """


def _zeros_only(padding_mode):
    """Transposed convolutions take "zeros" only, as torch's ConvTranspose."""
    if padding_mode != "zeros":
        _padding.check_mode(padding_mode)
        raise ValueError(
            f"padding_mode must be 'zeros' for a transposed convolution (torch's "
            f"ConvTranspose accepts no other), got {padding_mode!r}"
        )


def conv1d_forward(x: ArrayLike, w: ArrayLike, b: Optional[ArrayLike] = None,
                   stride: IntOrSeq = 1, padding: Padding = 0, dilation: IntOrSeq = 1,
                   groups: int = 1, *, channel_axis: int = 1, padding_mode: str = "zeros") -> Tuple[Array, Cache]:
    return _conv_forward(1, x, w, b, stride, padding, dilation, groups, channel_axis,
                         padding_mode)


def conv2d_forward(x: ArrayLike, w: ArrayLike, b: Optional[ArrayLike] = None,
                   stride: IntOrSeq = 1, padding: Padding = 0, dilation: IntOrSeq = 1,
                   groups: int = 1, *, channel_axis: int = 1, padding_mode: str = "zeros",
                   algorithm: str = "auto") -> Tuple[Array, Cache]:
    """2-D convolution; ``algorithm`` "auto" (default), "gemm", "winograd" or "winograd4x4".

    "gemm": im2col and matrix products (every convolution); "winograd":
    Winograd F(2x2, 3x3), "winograd4x4": F(4x4, 3x3) (both for 3x3, stride
    1, no dilation, groups 1, zero padding, channels first; accuracy in
    ``im2col_ext._winograd``); "auto": where Winograd applies and both
    channel counts are >= 16, F(4x4, 3x3) for float32 and F(2x2, 3x3) for
    float64, else gemm.
    """
    return _conv_forward(2, x, w, b, stride, padding, dilation, groups, channel_axis,
                         padding_mode, algorithm)


def conv3d_forward(x: ArrayLike, w: ArrayLike, b: Optional[ArrayLike] = None,
                   stride: IntOrSeq = 1, padding: Padding = 0, dilation: IntOrSeq = 1,
                   groups: int = 1, *, channel_axis: int = 1, padding_mode: str = "zeros") -> Tuple[Array, Cache]:
    return _conv_forward(3, x, w, b, stride, padding, dilation, groups, channel_axis,
                         padding_mode)


def conv1d_backward(dout: ArrayLike, cache: Cache) -> Tuple[Array, Array, Optional[Array]]:
    return _conv_backward(dout, cache)


def conv2d_backward(dout: ArrayLike, cache: Cache) -> Tuple[Array, Array, Optional[Array]]:
    return _conv_backward(dout, cache)


def conv3d_backward(dout: ArrayLike, cache: Cache) -> Tuple[Array, Array, Optional[Array]]:
    return _conv_backward(dout, cache)


def conv_transpose1d_forward(x: ArrayLike, w: ArrayLike, b: Optional[ArrayLike] = None,
                             stride: IntOrSeq = 1, padding: Padding = 0,
                             output_padding: IntOrSeq = 0, groups: int = 1,
                             dilation: IntOrSeq = 1, *, channel_axis: int = 1,
                             padding_mode: str = "zeros") -> Tuple[Array, Cache]:
    _zeros_only(padding_mode)
    return _conv_t_forward(1, x, w, b, stride, padding, output_padding, groups, dilation,
                           channel_axis)


def conv_transpose2d_forward(x: ArrayLike, w: ArrayLike, b: Optional[ArrayLike] = None,
                             stride: IntOrSeq = 1, padding: Padding = 0,
                             output_padding: IntOrSeq = 0, groups: int = 1,
                             dilation: IntOrSeq = 1, *, channel_axis: int = 1,
                             padding_mode: str = "zeros") -> Tuple[Array, Cache]:
    _zeros_only(padding_mode)
    return _conv_t_forward(2, x, w, b, stride, padding, output_padding, groups, dilation,
                           channel_axis)


def conv_transpose3d_forward(x: ArrayLike, w: ArrayLike, b: Optional[ArrayLike] = None,
                             stride: IntOrSeq = 1, padding: Padding = 0,
                             output_padding: IntOrSeq = 0, groups: int = 1,
                             dilation: IntOrSeq = 1, *, channel_axis: int = 1,
                             padding_mode: str = "zeros") -> Tuple[Array, Cache]:
    _zeros_only(padding_mode)
    return _conv_t_forward(3, x, w, b, stride, padding, output_padding, groups, dilation,
                           channel_axis)


def conv_transpose1d_backward(dout: ArrayLike, cache: Cache) -> Tuple[Array, Array, Optional[Array]]:
    return _conv_t_backward(dout, cache)


def conv_transpose2d_backward(dout: ArrayLike, cache: Cache) -> Tuple[Array, Array, Optional[Array]]:
    return _conv_t_backward(dout, cache)


def conv_transpose3d_backward(dout: ArrayLike, cache: Cache) -> Tuple[Array, Array, Optional[Array]]:
    return _conv_t_backward(dout, cache)


def max_pool1d_forward(x: ArrayLike, kernel_size: IntOrSeq, stride: OptIntOrSeq = None,
                       padding: Padding = 0, dilation: IntOrSeq = 1, ceil_mode: bool = False,
                       return_indices: bool = False, *, channel_axis: int = 1) -> Tuple[Array, ...]:
    return _max_pool_forward(1, x, kernel_size, stride, padding, dilation, ceil_mode,
                             return_indices, channel_axis)


def max_pool2d_forward(x: ArrayLike, kernel_size: IntOrSeq, stride: OptIntOrSeq = None,
                       padding: Padding = 0, dilation: IntOrSeq = 1, ceil_mode: bool = False,
                       return_indices: bool = False, *, channel_axis: int = 1) -> Tuple[Array, ...]:
    return _max_pool_forward(2, x, kernel_size, stride, padding, dilation, ceil_mode,
                             return_indices, channel_axis)


def max_pool3d_forward(x: ArrayLike, kernel_size: IntOrSeq, stride: OptIntOrSeq = None,
                       padding: Padding = 0, dilation: IntOrSeq = 1, ceil_mode: bool = False,
                       return_indices: bool = False, *, channel_axis: int = 1) -> Tuple[Array, ...]:
    return _max_pool_forward(3, x, kernel_size, stride, padding, dilation, ceil_mode,
                             return_indices, channel_axis)


def max_pool1d_backward(dout: ArrayLike, cache: Cache) -> Array:
    return _max_pool_backward(dout, cache)


def max_pool2d_backward(dout: ArrayLike, cache: Cache) -> Array:
    return _max_pool_backward(dout, cache)


def max_pool3d_backward(dout: ArrayLike, cache: Cache) -> Array:
    return _max_pool_backward(dout, cache)


def max_unpool1d_forward(x: ArrayLike, indices: ArrayLike, kernel_size: IntOrSeq,
                         stride: OptIntOrSeq = None, padding: Padding = 0,
                         output_size: OptIntOrSeq = None, *, channel_axis: int = 1) -> Tuple[Array, Cache]:
    return _max_unpool_forward(1, x, indices, kernel_size, stride, padding, output_size,
                               channel_axis)


def max_unpool2d_forward(x: ArrayLike, indices: ArrayLike, kernel_size: IntOrSeq,
                         stride: OptIntOrSeq = None, padding: Padding = 0,
                         output_size: OptIntOrSeq = None, *, channel_axis: int = 1) -> Tuple[Array, Cache]:
    return _max_unpool_forward(2, x, indices, kernel_size, stride, padding, output_size,
                               channel_axis)


def max_unpool3d_forward(x: ArrayLike, indices: ArrayLike, kernel_size: IntOrSeq,
                         stride: OptIntOrSeq = None, padding: Padding = 0,
                         output_size: OptIntOrSeq = None, *, channel_axis: int = 1) -> Tuple[Array, Cache]:
    return _max_unpool_forward(3, x, indices, kernel_size, stride, padding, output_size,
                               channel_axis)


def max_unpool1d_backward(dout: ArrayLike, cache: Cache) -> Array:
    return _max_unpool_backward(dout, cache)


def max_unpool2d_backward(dout: ArrayLike, cache: Cache) -> Array:
    return _max_unpool_backward(dout, cache)


def max_unpool3d_backward(dout: ArrayLike, cache: Cache) -> Array:
    return _max_unpool_backward(dout, cache)


def avg_pool1d_forward(x: ArrayLike, kernel_size: IntOrSeq, stride: OptIntOrSeq = None,
                       padding: Padding = 0, ceil_mode: bool = False,
                       count_include_pad: bool = True, divisor_override: Optional[int] = None, *,
                       channel_axis: int = 1) -> Tuple[Array, Cache]:
    return _avg_pool_forward(1, x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                             divisor_override, channel_axis)


def avg_pool2d_forward(x: ArrayLike, kernel_size: IntOrSeq, stride: OptIntOrSeq = None,
                       padding: Padding = 0, ceil_mode: bool = False,
                       count_include_pad: bool = True, divisor_override: Optional[int] = None, *,
                       channel_axis: int = 1) -> Tuple[Array, Cache]:
    return _avg_pool_forward(2, x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                             divisor_override, channel_axis)


def avg_pool3d_forward(x: ArrayLike, kernel_size: IntOrSeq, stride: OptIntOrSeq = None,
                       padding: Padding = 0, ceil_mode: bool = False,
                       count_include_pad: bool = True, divisor_override: Optional[int] = None, *,
                       channel_axis: int = 1) -> Tuple[Array, Cache]:
    return _avg_pool_forward(3, x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                             divisor_override, channel_axis)


def avg_pool1d_backward(dout: ArrayLike, cache: Cache) -> Array:
    return _avg_pool_backward(dout, cache)


def avg_pool2d_backward(dout: ArrayLike, cache: Cache) -> Array:
    return _avg_pool_backward(dout, cache)


def avg_pool3d_backward(dout: ArrayLike, cache: Cache) -> Array:
    return _avg_pool_backward(dout, cache)


for _d in (1, 2, 3):
    for _name, _template in (("conv{}d_forward", _CONV_DOC),
                             ("conv{}d_backward", _CONV_BACKWARD_DOC),
                             ("conv_transpose{}d_forward", _CONVT_DOC),
                             ("conv_transpose{}d_backward", _CONVT_BACKWARD_DOC),
                             ("max_pool{}d_forward", _MAX_POOL_DOC),
                             ("max_pool{}d_backward", _MAX_POOL_BACKWARD_DOC),
                             ("max_unpool{}d_forward", _UNPOOL_DOC),
                             ("max_unpool{}d_backward", _UNPOOL_BACKWARD_DOC),
                             ("avg_pool{}d_forward", _AVG_POOL_DOC),
                             ("avg_pool{}d_backward", _AVG_POOL_BACKWARD_DOC)):
        globals()[_name.format(_d)].__doc__ = _doc(_template, _d)
del _d, _name, _template
