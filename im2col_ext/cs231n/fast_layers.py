"""Mirror of cs231n's ``fast_layers.py``: the course's fast conv and max-pool layers, nothing to compile.

Same function names, ``conv_param`` / ``pool_param`` dictionaries, return
values and cache tuples as the course file, because ``layer_utils.py``,
``classifiers/cnn.py`` and the notebooks unpack them: conv caches are
``(x, w, b, conv_param, x_cols)`` (``x_cols`` in the cs231n column layout for
the im2col path, in ``(n, oy, ox)`` column order for the strides path),
pooling caches ``('reshape', (x, x_reshaped, out))`` or
``('im2col', (x, x_cols, x_cols_argmax, pool_param))``.  The data movement
goes through im2col_ext's primitives (compiled when the extension is built).
Differences, all deliberate: the im2col max-pool path works (upstream calls
an undefined ``im2col``), the reshape path checks the width against
``pool_width``, the course's ``assert`` checks are ``ValueError``\\ s (they
survive ``python -O``), and arguments are validated with errors that name
them.  Mixed dtypes (float32 weights, float64 data) promote as ``np.dot``
does.
"""

from collections.abc import Mapping

import numpy as np

from .._api import (
    _accumulate,
    _gather,
    _max_pool_forward,
    _max_pool_scatter,
    _max_pool_tie_scatter,
    _pool_geometry,
)
from .. import layers
from .._geometry import as_int, check_array, conv_geometry

__all__ = [
    "conv_forward_fast",
    "conv_backward_fast",
    "conv_forward_im2col",
    "conv_backward_im2col",
    "conv_forward_strides",
    "conv_backward_strides",
    "max_pool_forward_fast",
    "max_pool_backward_fast",
    "max_pool_forward_reshape",
    "max_pool_backward_reshape",
    "max_pool_forward_im2col",
    "max_pool_backward_im2col",
]


# --------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------

def _param(params, name, key, minimum):
    if not isinstance(params, Mapping):
        raise TypeError(f"{name} must be a dict, got {type(params).__name__}")
    try:
        value = params[key]
    except KeyError:
        raise ValueError(f"{name} is missing the key {key!r}") from None
    return as_int(value, f"{name}[{key!r}]", minimum)


def _conv_params(conv_param):
    return (
        _param(conv_param, "conv_param", "stride", 1),
        _param(conv_param, "conv_param", "pad", 0),
    )


def _pool_params(pool_param):
    return (
        _param(pool_param, "pool_param", "pool_height", 1),
        _param(pool_param, "pool_param", "pool_width", 1),
        _param(pool_param, "pool_param", "stride", 1),
    )


def _conv_geometry(x, w, b, conv_param):
    """Check the conv arguments; the window geometry of ``w`` over ``x``."""
    check_array(x, "x", 4, kinds="biuf")
    check_array(w, "w", 4, kinds="biuf")
    check_array(b, "b", kinds="biuf")
    n, c, h, wd = x.shape
    f, cw, hh, ww = w.shape
    if cw != c:
        raise ValueError(
            f"w has {cw} input channels (w.shape[1]) but x has {c} (x.shape[1]); "
            "w must have shape (F, C, HH, WW)"
        )
    if hh < 1 or ww < 1:
        raise ValueError(f"w must have a positive filter size, got shape {w.shape}")
    if b.size != f:
        raise ValueError(
            f"b must have one entry per filter ({f} = w.shape[0]), got shape {b.shape}"
        )
    stride, pad = _conv_params(conv_param)
    return conv_geometry(
        n, c, h, wd, (hh, ww), stride, pad, 1,
        names=("w.shape[2:]", "conv_param['stride']", "conv_param['pad']", "dilation"),
    )


def _check_dout(dout, expected):
    check_array(dout, "dout", 4, kinds="biuf")
    if dout.shape != tuple(expected):
        raise ValueError(
            f"dout has shape {dout.shape}, but the forward pass produced {tuple(expected)}"
        )


def _add_bias(res, b):
    """``res + b.reshape(-1, 1)``, in place when the dtype allows."""
    b = b.reshape(-1, 1)
    if np.result_type(res, b) == res.dtype:
        res += b
        return res
    return res + b


# --------------------------------------------------------------------------
# convolution
# --------------------------------------------------------------------------

def conv_forward_im2col(x, w, b, conv_param):
    """Convolution forward pass by im2col and one matrix product.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, HH, WW)
    b : ndarray, F entries
    conv_param : dict
        ``'stride'`` and ``'pad'`` (ints).  The filter must tile the padded
        input: ``(H + 2*pad - HH) % stride == 0``, likewise for the width.

    Returns
    -------
    out : ndarray, shape (N, F, oh, ow)
        A transposed view of the ``(F, oh*ow*N)`` product, as in the course.
    cache : tuple
        ``(x, w, b, conv_param, x_cols)``, ``x_cols`` of shape
        ``(C*HH*WW, oh*ow*N)`` (cs231n column layout, batch fastest).
    """
    g = _conv_geometry(x, w, b, conv_param)
    if (g.w + 2 * g.pw - g.kw) % g.sw:
        raise ValueError(
            f"width does not work: (W + 2*pad - WW) % stride = "
            f"({g.w} + 2*{g.pw} - {g.kw}) % {g.sw} != 0"
        )
    if (g.h + 2 * g.ph - g.kh) % g.sh:
        raise ValueError(
            f"height does not work: (H + 2*pad - HH) % stride = "
            f"({g.h} + 2*{g.ph} - {g.kh}) % {g.sh} != 0"
        )
    f = w.shape[0]
    x_cols = _gather(x, g, "cs231n")
    res = _add_bias(np.matmul(w.reshape(f, -1), x_cols), b)
    out = res.reshape(f, g.oh, g.ow, g.n).transpose(3, 0, 1, 2)
    return out, (x, w, b, conv_param, x_cols)


def _conv_backward(dout, cache, layout):
    """The backward pass of both conv paths; they differ only in the column order.

    ``x_cols`` columns are ``(oy, ox, n)`` for the im2col path ("cs231n"
    layout) and ``(n, oy, ox)`` for the strides path ("6d" layout).
    """
    x, w, b, conv_param, x_cols = cache
    g = _conv_geometry(x, w, b, conv_param)
    f = w.shape[0]
    _check_dout(dout, (g.n, f, g.oh, g.ow))
    db = np.sum(dout, axis=(0, 2, 3))
    axes = (1, 2, 3, 0) if layout == "cs231n" else (1, 0, 2, 3)
    dout_r = dout.transpose(axes).reshape(f, -1)
    # dout_r @ x_cols.T, computed as (x_cols @ dout_r.T).T: the same product,
    # ~20% faster in float32 with OpenBLAS (no slower in float64).
    dw = np.matmul(x_cols, dout_r.T).T.reshape(w.shape)
    dx_cols = np.matmul(w.reshape(f, -1).T, dout_r)
    if layout == "6d":
        dx_cols = dx_cols.reshape(g.c, g.kh, g.kw, g.n, g.oh, g.ow)
    dx = _accumulate(dx_cols, g, layout)
    return dx, dw, db


def conv_backward_im2col(dout, cache):
    """Backward pass of :func:`conv_forward_im2col`.

    Returns
    -------
    dx, dw, db : ndarrays of the shapes of ``x``, ``w`` and ``(F,)``
    """
    return _conv_backward(dout, cache, "cs231n")


def conv_forward_strides(x, w, b, conv_param):
    """Convolution forward pass (``conv_forward_fast``).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, HH, WW)
    b : ndarray, F entries
    conv_param : dict
        ``'stride'`` and ``'pad'`` (ints).  Window positions that do not fit
        are dropped (floor), as in the course.

    Returns
    -------
    out : ndarray, shape (N, F, oh, ow), C-contiguous
    cache : tuple
        ``(x, w, b, conv_param, inner)``: pass it back unchanged.  When
        ``x``, ``w`` and ``b`` share one float dtype, the convolution is
        :func:`im2col_ext.layers.conv2d_forward` (Winograd for 3x3 stride-1
        layers, else chunked im2col GEMMs) and ``inner`` its cache; otherwise
        ``inner`` is the ``(C*HH*WW, N*oh*ow)`` columns in ``(n, oy, ox)``
        order of the course's 6-D window view.
    """
    g = _conv_geometry(x, w, b, conv_param)
    f = w.shape[0]
    if x.dtype == w.dtype == b.dtype and x.dtype in (np.float32, np.float64):
        out, inner = layers.conv2d_forward(x, w, b.reshape(f), stride=(g.sh, g.sw),
                                           padding=(g.ph, g.pw))
        return out, (x, w, b, conv_param, inner)
    x_cols = _gather(x, g, "6d").reshape(g.c * g.kh * g.kw, g.n * g.oh * g.ow)
    res = _add_bias(np.matmul(w.reshape(f, -1), x_cols), b)
    out = np.ascontiguousarray(res.reshape(f, g.n, g.oh, g.ow).transpose(1, 0, 2, 3))
    return out, (x, w, b, conv_param, x_cols)


def conv_backward_strides(dout, cache):
    """Backward pass of :func:`conv_forward_strides` (``conv_backward_fast``).

    Returns
    -------
    dx, dw, db : ndarrays of the shapes of ``x``, ``w`` and ``(F,)``
    """
    x, w, b, conv_param, inner = cache
    if isinstance(inner, np.ndarray):
        return _conv_backward(dout, cache, "6d")
    g = _conv_geometry(x, w, b, conv_param)
    _check_dout(dout, (g.n, w.shape[0], g.oh, g.ow))
    dx, dw, db = layers.conv2d_backward(dout, inner)
    return dx, dw, db


conv_forward_fast = conv_forward_strides
conv_backward_fast = conv_backward_strides


# --------------------------------------------------------------------------
# max pooling
# --------------------------------------------------------------------------

def _pool_input(x):
    check_array(x, "x", 4, kinds="biuf")
    return x


def _grad_dtype(x, dout):
    """dx has the dtype of x (as in the course), or float64 for non-float x."""
    if x.dtype.kind == "f":
        return x.dtype
    return np.result_type(dout.dtype, np.float64)


def max_pool_forward_fast(x, pool_param):
    """Max pooling by reshaping when the windows tile ``x``, else by im2col.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    pool_param : dict
        ``'pool_height'``, ``'pool_width'`` and ``'stride'`` (ints).

    Returns
    -------
    out : ndarray, shape (N, C, oh, ow)
    cache : tuple
        ``('reshape', (x, x_reshaped, out))`` when ``pool_height ==
        pool_width == stride`` and the pools tile ``H`` and ``W``, else
        ``('im2col', (x, x_cols, x_cols_argmax, pool_param))``.
    """
    _pool_input(x)
    ph, pw, s = _pool_params(pool_param)
    h, w = x.shape[2:]
    if ph == pw == s and h % ph == 0 and w % pw == 0:
        out, reshape_cache = max_pool_forward_reshape(x, pool_param)
        return out, ("reshape", reshape_cache)
    out, im2col_cache = max_pool_forward_im2col(x, pool_param)
    return out, ("im2col", im2col_cache)


def max_pool_backward_fast(dout, cache):
    """Backward pass of :func:`max_pool_forward_fast`, dispatching on ``cache[0]``."""
    method, real_cache = cache
    if method == "reshape":
        return max_pool_backward_reshape(dout, real_cache)
    if method == "im2col":
        return max_pool_backward_im2col(dout, real_cache)
    raise ValueError('Unrecognized method "%s"' % (method,))


_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _reshape_max(x, x_reshaped):
    """``x_reshaped.max(axis=3).max(axis=4)``, bit for bit, by the max-pool kernel.

    Both pick one of the window's maxima, so the values agree, NaN windows
    included.  Only when a window's tied maxima differ in their bits (a
    maximum of 0 met as both +0.0 and -0.0, or NaNs with different
    payloads) can the choice differ: the kernel keeps the first in
    row-major order (the last NaN), NumPy's choice depends on the memory
    layout.  Such inputs are rare; they get the NumPy formula itself.
    """
    n, c, oh, ph, ow, pw = x_reshaped.shape
    if x.dtype not in _KERNEL_DTYPES or x.size == 0:
        return x_reshaped.max(axis=3).max(axis=4)
    out, _ = _max_pool_forward(x, _pool_geometry(x.shape, (ph, pw), (ph, pw), 0, 1))
    # windows whose maximum is +-0 or NaN: do their tied taps share one bit pattern?
    if np.count_nonzero(out) < out.size or np.isnan(out).any():
        where = ~(np.abs(out) > 0)
        best = out[where]
        best_nan = np.isnan(best)
        bits = f"u{x.dtype.itemsize}"
        for ky in range(ph):
            for kx in range(pw):
                tap = x_reshaped[:, :, :, ky, :, kx][where]
                ties = (tap == best) | (np.isnan(tap) & best_nan)
                if (ties & (tap.view(bits) != best.view(bits))).any():
                    return x_reshaped.max(axis=3).max(axis=4)
    return out


def max_pool_forward_reshape(x, pool_param):
    """Max pooling of square, non-overlapping pools that tile ``x``.

    Returns
    -------
    out : ndarray, shape (N, C, H // ph, W // pw)
    cache : tuple
        ``(x, x_reshaped, out)``; ``x_reshaped`` is ``x`` viewed (a view for
        a contiguous ``x``) as ``(N, C, H // ph, ph, W // pw, pw)``.
    """
    _pool_input(x)
    ph, pw, s = _pool_params(pool_param)
    if not ph == pw == s:
        raise ValueError(
            f"Invalid pool params: the reshape method needs pool_height == "
            f"pool_width == stride, got {ph}, {pw}, {s}"
        )
    n, c, h, w = x.shape
    if h % ph:
        raise ValueError(f"Invalid height: H = {h} is not a multiple of pool_height {ph}")
    if w % pw:
        raise ValueError(f"Invalid width: W = {w} is not a multiple of pool_width {pw}")
    x_reshaped = x.reshape(n, c, h // ph, ph, w // pw, pw)
    out = _reshape_max(x, x_reshaped)
    return out, (x, x_reshaped, out)


def max_pool_backward_reshape(dout, cache):
    """Backward pass of :func:`max_pool_forward_reshape`.

    Every maximum of a window gets the window's gradient divided by the
    number of tied maxima (0.25 each for an all-equal 2x2 window).
    NaN windows give their gradient to their NaNs.
    """
    x, x_reshaped, out = cache
    _check_dout(dout, out.shape)
    n, c, oh, ph, ow, pw = x_reshaped.shape
    # (N, C, H, W) view of x_reshaped (what the cs231n formula reads)
    x4 = x_reshaped.reshape(n, c, oh * ph, ow * pw)
    # the formula divides dout cast to the gradient dtype
    g = _pool_geometry(x4.shape, (ph, pw), (ph, pw), 0, 1)
    return _max_pool_tie_scatter(x4, out, dout, g, _grad_dtype(x, dout)).reshape(x.shape)


def _unit_window(shape):
    """The 1x1 window over ``shape`` (N, 1, H, W): its course layout is the (H*W, N) transpose."""
    return _pool_geometry(shape, 1, 1, 0, 1)


def _window_corners(oh, ow, s, w):
    """(oh, ow) in-plane indices ``oy*s*W + ox*s`` of the windows' top left taps."""
    return (np.arange(oh, dtype=np.int64)[:, None] * (s * w)
            + np.arange(ow, dtype=np.int64)[None, :] * s)


def max_pool_forward_im2col(x, pool_param):
    """Max pooling of any pools that fit ``x`` exactly, by im2col of ``(N*C, 1, H, W)``.

    Returns
    -------
    out : ndarray, shape (N, C, oh, ow)
    cache : tuple
        ``(x, x_cols, x_cols_argmax, pool_param)``; ``x_cols`` has shape
        ``(ph*pw, oh*ow*N*C)`` (cs231n layout), ``x_cols_argmax`` is its
        argmax over axis 0 (the first maximum; a NaN counts as the maximum).
    """
    _pool_input(x)
    ph, pw, s = _pool_params(pool_param)
    n, c, h, w = x.shape
    if h < ph or (h - ph) % s:
        raise ValueError(
            f"Invalid height: (H - pool_height) % stride = ({h} - {ph}) % {s} must be 0"
        )
    if w < pw or (w - pw) % s:
        raise ValueError(
            f"Invalid width: (W - pool_width) % stride = ({w} - {pw}) % {s} must be 0"
        )
    g = _pool_geometry((n * c, 1, h, w), (ph, pw), s, 0, 1,
                      names=("pool size", "pool_param['stride']", "padding", "dilation"))
    x_cols = _gather(x.reshape(n * c, 1, h, w), g, "cs231n")
    if x.dtype in _KERNEL_DTYPES and x.size:
        # the max-pool kernel: the same first maximum as np.argmax, except
        # among several NaNs (it keeps the last): those windows take np.argmax
        out, index = _max_pool_forward(x, _pool_geometry(x.shape, (ph, pw), s, 0, 1))
        if not np.isnan(out).any():
            # in-plane index (oy*s + ky)*W + ox*s + kx -> window row ky*pw + kx, by a
            # table over ky*W + kx (no integer division)
            table = (np.arange(ph, dtype=np.int64)[:, None] * pw
                     + np.arange(w, dtype=np.int64)[None, :]).reshape(-1)
            index -= _window_corners(g.oh, g.ow, s, w)
            rows: np.ndarray = np.take(table, index).reshape(n * c, 1, g.oh, g.ow)
            # (n, c, oh, ow) -> (oh, ow, n, c): the course gather of a 1x1 window
            # is that transpose (the batch-fastest layout, cache-blocked in C)
            x_cols_argmax = _gather(rows, _unit_window(rows.shape), "cs231n").reshape(-1)
            return out, (x, x_cols, x_cols_argmax, pool_param)
    x_cols_argmax = np.argmax(x_cols, axis=0)
    out = np.take_along_axis(x_cols, x_cols_argmax[None], axis=0)
    out = out.reshape(g.oh, g.ow, n, c).transpose(2, 3, 0, 1)
    return out, (x, x_cols, x_cols_argmax, pool_param)


def max_pool_backward_im2col(dout, cache):
    """Backward pass of :func:`max_pool_forward_im2col`: the first maximum of a window gets its gradient."""
    x, x_cols, x_cols_argmax, pool_param = cache
    ph, pw, s = _pool_params(pool_param)
    n, c, h, w = x.shape
    g = _pool_geometry((n, c, h, w), (ph, pw), s, 0, 1,
                      names=("pool size", "pool_param['stride']", "padding", "dilation"))
    _check_dout(dout, (n, c, g.oh, g.ow))
    if x_cols_argmax.shape != (g.oh * g.ow * n * c,):
        raise ValueError(
            f"x_cols_argmax has shape {x_cols_argmax.shape}, expected "
            f"{(g.oh * g.ow * n * c,)} for x of shape {x.shape}"
        )
    # window row r = ky*pw + kx of column (oy, ox, n, c) -> in-plane index
    # (oy*s + ky)*W + ox*s + kx, by a table over r (no integer division)
    r = np.asarray(x_cols_argmax)
    if r.size and (r.min() < 0 or r.max() >= ph * pw):
        raise ValueError(f"x_cols_argmax holds window rows outside [0, {ph * pw})")
    table = (np.arange(ph, dtype=np.int64)[:, None] * w
             + np.arange(pw, dtype=np.int64)[None, :]).reshape(-1)
    # (oh, ow, n, c) -> (n, c, oh, ow): the course col2im of a 1x1 window
    shape = (n * c, 1, g.oh, g.ow)
    index = _accumulate(np.take(table, r).reshape(1, -1), _unit_window(shape), "cs231n")
    index = index.reshape(n, c, g.oh, g.ow)
    index += _window_corners(g.oh, g.ow, s, w)
    dout = dout.astype(_grad_dtype(x, dout), copy=False)
    return _max_pool_scatter(dout, index, g)
