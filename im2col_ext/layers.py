"""Whole layers with PyTorch semantics on NumPy arrays: conv2d, conv_transpose2d, max and average pooling.

Each layer is a pair of functions in the cs231n style: ``*_forward(...)``
returns ``(out, cache)`` and ``*_backward(dout, cache)`` returns the
gradients.  Arguments mean what they mean in ``torch.nn.functional``
(weights ``(F, C, kh, kw)`` for ``conv2d``, ``(C_in, C_out, kh, kw)`` for
``conv_transpose2d``; every size an int or a pair), inputs are 4-D
``(N, C, H, W)``, float32 and float64 keep their dtype and mixed dtypes are
promoted as NumPy promotes them.  The data movement is the public im2col /
col2im primitives (compiled when the extension is built), the arithmetic
batched GEMMs on the ``torch`` column layout ``(N, C*kh*kw, oh*ow)``, which
needs no full-size transposes: ``out[n] = w2 @ cols[n]`` is already
``(F, oh*ow)``.  conv2d builds its columns a few images at a time and
rebuilds them in the backward pass rather than keeping them (so its cache
holds ``x`` itself: do not modify ``x`` in place before the backward pass).
Caches are private; pass them back unchanged.
"""

from collections import namedtuple

import numpy as np

from ._api import (
    _accumulate,
    avg_pool_forward,
    avg_pool_scatter,
    _gather,
    max_pool_forward,
    max_pool_scatter,
    pool_geometry,
)
from ._geometry import as_pair, check_array, conv_geometry

__all__ = [
    "conv2d_forward",
    "conv2d_backward",
    "conv_transpose2d_forward",
    "conv_transpose2d_backward",
    "max_pool2d_forward",
    "max_pool2d_backward",
    "avg_pool2d_forward",
    "avg_pool2d_backward",
]

_ConvCache = namedtuple("_ConvCache", "x w2 has_bias g dtype")

#: Bytes of columns built at a time by conv2d: a few images per chunk, so
#: the columns are reused from cache by the GEMM, the buffers are recycled
#: by the allocator instead of page-faulted in, and there are few enough
#: chunks that the switches between im2col threads and BLAS threads stay rare.
_CHUNK_BYTES = 4 << 20
_ConvTCache = namedtuple("_ConvTCache", "x_shape x3 w2 has_bias g dtype")
_MaxPoolCache = namedtuple("_MaxPoolCache", "argmax g dtype")
_AvgPoolCache = namedtuple("_AvgPoolCache", "g dtype")


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
    check_array(b, "b", 1, kinds="biuf")
    if b.shape[0] != n_out:
        raise ValueError(
            f"b must have one entry per {what} ({n_out}), got shape {b.shape}"
        )
    return b


def _check_dout(dout, expected):
    check_array(dout, "dout", 4, kinds="biuf")
    if dout.shape != tuple(expected):
        raise ValueError(
            f"dout has shape {dout.shape}, but the forward pass produced "
            f"{tuple(expected)}"
        )
    return dout


def _sum_batch_gemm(a, b_t):
    """``sum_n a[n] @ b_t[n].T`` for stacks ``a`` (N, P, L) and ``b_t`` (N, Q, L).

    One GEMM per image accumulated in place: no ``(N, P, Q)`` temporary and
    no copy of either stack (BLAS reads ``b_t[n].T`` transposed).
    """
    total = np.zeros((a.shape[1], b_t.shape[1]), dtype=np.result_type(a, b_t))
    if a.shape[0] == 0:
        return total
    tmp = np.empty_like(total)
    for n in range(a.shape[0]):
        np.matmul(a[n], b_t[n].T, out=tmp)
        total += tmp
    return total


def _chunks(g, dtype):
    """``(lo, hi, geometry)`` of consecutive image ranges of about ``_CHUNK_BYTES`` of columns."""
    per_image = max(1, g.c * g.kh * g.kw * g.oh * g.ow * np.dtype(dtype).itemsize)
    step = max(1, _CHUNK_BYTES // per_image)
    for lo in range(0, g.n, step):
        hi = min(g.n, lo + step)
        yield lo, hi, g._replace(n=hi - lo)


def _pool_window(kernel_size, stride, padding):
    kh, kw = as_pair(kernel_size, "kernel_size", 1)
    if stride is None:
        sh, sw = kh, kw
    else:
        sh, sw = as_pair(stride, "stride", 1)
    ph, pw = as_pair(padding, "padding", 0)
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(
            f"padding should be at most half of kernel_size: got padding "
            f"{(ph, pw)} for kernel_size {(kh, kw)} (limit {(kh // 2, kw // 2)})"
        )
    return (kh, kw), (sh, sw), (ph, pw)


def _pool_input(x):
    check_array(x, "x", 4, kinds="biuf")
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    return x


# --------------------------------------------------------------------------
# convolution
# --------------------------------------------------------------------------

def conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1):
    """2-D cross-correlation, as ``torch.nn.functional.conv2d`` (``groups=1``).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, kh, kw)
    b : ndarray, shape (F,), or None
    stride, padding, dilation : int or pair of ints
        Zero padding on both sides of each axis.

    Returns
    -------
    out : ndarray, shape (N, F, oh, ow)
        ``oh = (H + 2*ph - dh*(kh - 1) - 1) // sh + 1``, likewise ``ow``.
        The dtype is NumPy's result type of ``x``, ``w`` and ``b``
        (float64 for integer inputs).
    cache : object
        For :func:`conv2d_backward`.
    """
    check_array(x, "x", 4, kinds="biuf")
    check_array(w, "w", 4, kinds="biuf")
    n, c, h, wd = x.shape
    f, cw, kh, kw = w.shape
    if cw != c:
        raise ValueError(
            f"w has {cw} input channels (w.shape[1]) but x has {c} (x.shape[1]); "
            "w must have shape (F, C, kh, kw)"
        )
    if kh < 1 or kw < 1:
        raise ValueError(f"w must have a positive kernel size, got shape {w.shape}")
    b = _check_bias(b, f, "filter (w.shape[0])")
    g = conv_geometry(n, c, h, wd, (kh, kw), stride, padding, dilation)
    dtype = _float_dtype(x, w, *(() if b is None else (b,)))
    x = x.astype(dtype, copy=False)
    w2 = w.astype(dtype, copy=False).reshape(f, c * kh * kw)

    bias = None if b is None else b.astype(dtype, copy=False)[:, None]
    out = np.empty((n, f, g.oh * g.ow), dtype=dtype)
    for lo, hi, gc in _chunks(g, dtype):
        cols = _gather(x[lo:hi], gc, "torch")      # (n', C*kh*kw, oh*ow)
        o = out[lo:hi]
        np.matmul(w2, cols, out=o)                # (n', F, oh*ow): one GEMM per image
        if bias is not None:
            o += bias
    out = out.reshape(n, f, g.oh, g.ow)
    return out, _ConvCache(x, w2, b is not None, g, dtype)


def conv2d_backward(dout, cache):
    """Gradients of :func:`conv2d_forward`.

    Parameters
    ----------
    dout : ndarray, shape (N, F, oh, ow)
        Upstream gradient.
    cache : object
        From :func:`conv2d_forward`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (F, C, kh, kw)
    db : ndarray, shape (F,), or None when the forward pass had no bias
    """
    x, w2, has_bias, g, dtype = cache
    n, f = x.shape[0], w2.shape[0]
    _check_dout(dout, (n, f, g.oh, g.ow))
    d3 = dout.astype(dtype, copy=False).reshape(n, f, g.oh * g.ow)

    db = d3.sum(axis=(0, 2)) if has_bias else None
    dx = np.empty(x.shape, dtype=dtype)
    # OpenBLAS's sgemm is ~25% faster on (C*kh*kw, L) @ (L, F) than on the
    # transposed product (F, L) @ (L, C*kh*kw); dgemm is not (and no faster).
    dw_t = dtype == np.float32
    dw = np.zeros(w2.shape[::-1] if dw_t else w2.shape, dtype=dtype)
    tmp = np.empty_like(dw)
    w2t = w2.T
    dcols = None
    for lo, hi, gc in _chunks(g, dtype):
        cols = _gather(x[lo:hi], gc, "torch")      # recomputed: cheaper than storing
        dc = d3[lo:hi]
        for i in range(hi - lo):
            if dw_t:
                np.matmul(cols[i], dc[i].T, out=tmp)
            else:
                np.matmul(dc[i], cols[i].T, out=tmp)
            dw += tmp
        if dcols is None or dcols.shape != cols.shape:
            dcols = np.empty_like(cols)
        np.matmul(w2t, dc, out=dcols)             # the columns of dx, one buffer for all chunks
        dx[lo:hi] = _accumulate(dcols, gc, "torch")
    if dw_t:
        dw = dw.T
    return dx, dw.reshape(f, g.c, g.kh, g.kw), db


def _conv_t_geometry(x_shape, w_shape, stride, padding, output_padding, dilation):
    n, cin, h, wd = x_shape
    _, cout, kh, kw = w_shape
    sh, sw = as_pair(stride, "stride", 1)
    ph, pw = as_pair(padding, "padding", 0)
    oph, opw = as_pair(output_padding, "output_padding", 0)
    dh, dw = as_pair(dilation, "dilation", 1)
    for op, s, d, axis in ((oph, sh, dh, "height"), (opw, sw, dw, "width")):
        if not (op < s or op < d):
            raise ValueError(
                f"output_padding must be smaller than either stride or dilation "
                f"(along {axis}: output_padding {op}, stride {s}, dilation {d})"
            )
    out_h = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    out_w = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    if out_h < 1 or out_w < 1:
        raise ValueError(
            f"conv_transpose2d output size {out_h}x{out_w} is not positive "
            f"(input {h}x{wd}, kernel {kh}x{kw}, stride {(sh, sw)}, "
            f"padding {(ph, pw)}, dilation {(dh, dw)})"
        )
    return conv_geometry(n, cout, out_h, out_w, (kh, kw), (sh, sw), (ph, pw), (dh, dw))


def _pad_windows(cols, g, h, w):
    """Embed columns of ``h x w`` windows into the ``g.oh x g.ow`` grid (zeros beyond).

    Only needed when ``output_padding >= stride`` (allowed by a larger
    dilation), where the output grows windows that no input pixel feeds.
    """
    if (g.oh, g.ow) == (h, w):
        return cols
    n, k = cols.shape[:2]
    big = np.zeros((n, k, g.oh, g.ow), dtype=cols.dtype)
    big[:, :, :h, :w] = cols.reshape(n, k, h, w)
    return big.reshape(n, k, g.oh * g.ow)


def conv_transpose2d_forward(x, w, b=None, stride=1, padding=0, output_padding=0,
                             dilation=1):
    """Transposed convolution, as ``torch.nn.functional.conv_transpose2d`` (``groups=1``).

    The forward pass is a col2im: every input pixel spreads ``w`` times its
    value over a window of the output.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
    w : ndarray, shape (C_in, C_out, kh, kw)
    b : ndarray, shape (C_out,), or None
    stride, padding, output_padding, dilation : int or pair of ints
        ``output_padding`` must be smaller than the stride or the dilation
        of its axis.

    Returns
    -------
    out : ndarray, shape (N, C_out, oh, ow)
        ``oh = (H - 1)*sh - 2*ph + dh*(kh - 1) + oph + 1``, likewise ``ow``.
    cache : object
        For :func:`conv_transpose2d_backward`.
    """
    check_array(x, "x", 4, kinds="biuf")
    check_array(w, "w", 4, kinds="biuf")
    n, cin, h, wd = x.shape
    cw, cout, kh, kw = w.shape
    if cw != cin:
        raise ValueError(
            f"w has {cw} input channels (w.shape[0]) but x has {cin} (x.shape[1]); "
            "w must have shape (C_in, C_out, kh, kw)"
        )
    if kh < 1 or kw < 1 or cout < 1:
        raise ValueError(f"w must have positive C_out and kernel size, got shape {w.shape}")
    if h < 1 or wd < 1:
        raise ValueError(f"x must have a positive height and width, got shape {x.shape}")
    b = _check_bias(b, cout, "output channel (w.shape[1])")
    g = _conv_t_geometry(x.shape, w.shape, stride, padding, output_padding, dilation)
    dtype = _float_dtype(x, w, *(() if b is None else (b,)))
    x3 = x.astype(dtype, copy=False).reshape(n, cin, h * wd)
    w2 = w.astype(dtype, copy=False).reshape(cin, cout * kh * kw)

    cols = _pad_windows(np.matmul(w2.T, x3), g, h, wd)   # (N, C_out*kh*kw, L)
    out = _accumulate(cols, g, "torch")
    if b is not None:
        out += b.astype(dtype, copy=False)[:, None, None]
    return out, _ConvTCache(x.shape, x3, w2, b is not None, g, dtype)


def conv_transpose2d_backward(dout, cache):
    """Gradients of :func:`conv_transpose2d_forward` (the backward pass is an im2col).

    Parameters
    ----------
    dout : ndarray, shape (N, C_out, oh, ow)
    cache : object
        From :func:`conv_transpose2d_forward`.

    Returns
    -------
    dx : ndarray, shape (N, C_in, H, W)
    dw : ndarray, shape (C_in, C_out, kh, kw)
    db : ndarray, shape (C_out,), or None when the forward pass had no bias
    """
    (n, cin, h, wd), x3, w2, has_bias, g, dtype = cache
    _check_dout(dout, (g.n, g.c, g.h, g.w))
    dout = dout.astype(dtype, copy=False)
    dcols = _gather(dout, g, "torch")              # (N, C_out*kh*kw, oh'*ow')
    if (h, wd) != (g.oh, g.ow):
        # output_padding >= stride: keep the windows the input grid feeds
        k = dcols.shape[1]
        dcols = np.ascontiguousarray(
            dcols.reshape(n, k, g.oh, g.ow)[:, :, :h, :wd]
        ).reshape(n, k, h * wd)

    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    dx = np.matmul(w2, dcols).reshape(n, cin, h, wd)
    dw = _sum_batch_gemm(x3, dcols).reshape(cin, g.c, g.kh, g.kw)
    return dx, dw, db


# --------------------------------------------------------------------------
# pooling
# --------------------------------------------------------------------------

def max_pool2d_forward(x, kernel_size, stride=None, padding=0, dilation=1):
    """Max pooling, as ``torch.nn.functional.max_pool2d`` (``ceil_mode=False``).

    Padding acts as ``-inf``; among equal maxima the first in row-major
    window order wins; a NaN in a window is its maximum.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Floating point (other dtypes are converted to float64).
    kernel_size : int or pair of ints
    stride : int or pair of ints, optional
        Defaults to ``kernel_size``.
    padding : int or pair of ints
        At most half the kernel size along each axis (torch's rule).
    dilation : int or pair of ints

    Returns
    -------
    out : ndarray, shape (N, C, oh, ow), the dtype of ``x``
    cache : object
        For :func:`max_pool2d_backward`.
    """
    x = _pool_input(x)
    kernel, stride, padding = _pool_window(kernel_size, stride, padding)
    g = pool_geometry(x.shape, kernel, stride, padding, dilation)
    out, argmax = max_pool_forward(x, g)
    return out, _MaxPoolCache(argmax, g, x.dtype)


def max_pool2d_backward(dout, cache):
    """Gradient of :func:`max_pool2d_forward`: ``dout`` routed to each window's maximum.

    Where windows overlap, the gradients reaching one pixel add up.

    Parameters
    ----------
    dout : ndarray, shape (N, C, oh, ow)
    cache : object
        From :func:`max_pool2d_forward`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), the dtype of the forward input
    """
    argmax, g, dtype = cache
    _check_dout(dout, (g.n, g.c, g.oh, g.ow))
    return max_pool_scatter(dout.astype(dtype, copy=False), argmax, g)


def avg_pool2d_forward(x, kernel_size, stride=None, padding=0):
    """Average pooling, as ``torch.nn.functional.avg_pool2d`` with its defaults.

    Zero padding is counted in the divisor (``count_include_pad=True``,
    ``ceil_mode=False``): every window is divided by ``kh*kw``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Floating point (other dtypes are converted to float64).
    kernel_size : int or pair of ints
    stride : int or pair of ints, optional
        Defaults to ``kernel_size``.
    padding : int or pair of ints
        At most half the kernel size along each axis.

    Returns
    -------
    out : ndarray, shape (N, C, oh, ow), the dtype of ``x``
    cache : object
        For :func:`avg_pool2d_backward`.
    """
    x = _pool_input(x)
    kernel, stride, padding = _pool_window(kernel_size, stride, padding)
    g = pool_geometry(x.shape, kernel, stride, padding, 1)
    return avg_pool_forward(x, g), _AvgPoolCache(g, x.dtype)


def avg_pool2d_backward(dout, cache):
    """Gradient of :func:`avg_pool2d_forward`.

    Parameters
    ----------
    dout : ndarray, shape (N, C, oh, ow)
    cache : object
        From :func:`avg_pool2d_forward`.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), the dtype of the forward input
    """
    g, dtype = cache
    _check_dout(dout, (g.n, g.c, g.oh, g.ow))
    return avg_pool_scatter(dout.astype(dtype, copy=False), g)
