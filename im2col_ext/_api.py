"""The public array API: validation, output shapes, allocation and dtype policy.

Every public function of im2col_ext ends up here.  Each one checks its
arguments (``_geometry``), allocates its output with ``np.empty``, builds the
array views the kernels expect and hands them to the backend that
``_backend.kernels`` picks.  Backends never see an unchecked argument and
never allocate a result.

Column layouts
--------------
``cs231n``  ``(C*kh*kw, oh*ow*N)``: row ``c*kh*kw + ky*kw + kx``, column
            ``(oy*ow + ox)*N + n`` (the batch is the fastest axis).
``torch``   ``(N, C*kh*kw, oh*ow)``, as ``torch.nn.functional.unfold``.
``6d``      ``(C, kh, kw, N, oh, ow)``, cs231n's ``col2im_6d_cython`` and the
            ``conv_forward_strides`` columns (the batch is the slowest
            column axis).

Dtype policy: outputs have the dtype of the data input (``x`` for im2col,
``cols`` for col2im), in native byte order.  Inputs are never written to.
"""

import numpy as np

from . import _backend
from ._geometry import (
    Geometry,
    as_int,
    as_pair,
    as_shape,
    check_alloc,
    check_array,
    conv_geometry,
)

LAYOUTS = ("cs231n", "torch", "6d")


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def _native(a):
    """``a`` itself, or a native-byte-order copy of it."""
    if a.dtype.isnative:
        return a
    return a.astype(a.dtype.newbyteorder("="))


def _field(field_height, field_width):
    return (
        as_int(field_height, "field_height", 1),
        as_int(field_width, "field_width", 1),
    )


def _cols_shape(g, layout):
    k = g.c * g.kh * g.kw
    if layout == "cs231n":
        return (k, g.oh * g.ow * g.n)
    if layout == "torch":
        return (g.n, k, g.oh * g.ow)
    return (g.c, g.kh, g.kw, g.n, g.oh, g.ow)


def _views(x4, cols, g, layout):
    """The (x5, cols7, kernel geometry) views of an image and its columns."""
    n, c = g.n, g.c
    if layout == "cs231n":
        x5 = x4.transpose(1, 2, 3, 0)[None]
        cols7 = cols.reshape(1, c, g.kh, g.kw, g.oh, g.ow, n)
        return x5, cols7, g._replace(n=1, v=n)
    if layout == "torch":
        return x4[..., None], cols.reshape(n, c, g.kh, g.kw, g.oh, g.ow, 1), g
    return x4[..., None], cols.transpose(3, 0, 1, 2, 4, 5)[..., None], g


def _layout(layout):
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    return layout


# --------------------------------------------------------------------------
# the two core operations, on checked arguments
# --------------------------------------------------------------------------

def _check_out(out, shape, dtype, source, source_name):
    """Check a caller-supplied output array; return it."""
    check_array(out, "out")
    if out.shape != tuple(shape):
        raise ValueError(f"out has shape {out.shape}, expected {tuple(shape)}")
    if out.dtype != dtype:
        raise TypeError(f"out has dtype {out.dtype}, expected {dtype} (the dtype of {source_name})")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    if np.may_share_memory(out, source):
        raise ValueError(f"out must not overlap {source_name}")
    return out


def gather(x, g, layout, out=None):
    """im2col of a checked 4-D ``x`` with geometry ``g`` into a new array (or ``out``)."""
    x = _native(x)
    shape = check_alloc(_cols_shape(g, layout), x.dtype, "cols")
    if out is None:
        cols = np.empty(shape, dtype=x.dtype)
    else:
        cols = _check_out(out, shape, x.dtype, x, "x")
    if cols.size:
        x5, cols7, kg = _views(x, cols, g, layout)
        _backend.kernels(x.dtype, x5, cols7).im2col(x5, cols7, kg)
    return cols


def accumulate(cols, g, layout, out=None):
    """col2im of checked ``cols`` (shape ``_cols_shape(g, layout)``) into a new (N, C, H, W) (or ``out``)."""
    cols = _native(cols)
    shape = check_alloc((g.n, g.c, g.h, g.w), cols.dtype, "output")
    if out is None:
        x = np.empty(shape, dtype=cols.dtype)
    else:
        x = _check_out(out, shape, cols.dtype, cols, "cols")
    if cols.size == 0:
        x[...] = 0
    elif x.size:
        x5, cols7, kg = _views(x, cols, g, layout)
        _backend.kernels(cols.dtype, cols7, x5).col2im(cols7, x5, kg)
    return x


def _check_cols(cols, expected, name="cols"):
    if cols.shape == tuple(expected):
        return
    if cols.ndim == 2 and cols.shape == tuple(expected)[::-1]:
        raise ValueError(
            f"{name} looks transposed: got shape {cols.shape}, expected "
            f"{tuple(expected)} (rows = C*field_height*field_width, one column "
            f"per window and image); pass {name}.T"
        )
    raise ValueError(
        f"{name} has shape {cols.shape}, expected {tuple(expected)} for these "
        "image shape and window parameters"
    )


# --------------------------------------------------------------------------
# modern API
# --------------------------------------------------------------------------

def im2col(x, kernel_size, stride=1, padding=0, dilation=1, layout="torch", *, out=None):
    """Columns of every sliding window of ``x`` (N, C, H, W) in the given layout.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size, stride, padding, dilation : int or pair of ints
    layout : {"torch", "cs231n", "6d"}
        See the module docstring.
    out : ndarray, optional
        A C-contiguous array of the result's shape and dtype to write into
        (saves the allocation, whose page faults cost as much as the
        gather itself for large columns).

    Returns
    -------
    cols : ndarray of ``x.dtype`` (``out`` when given)
    """
    layout = _layout(layout)
    check_array(x, "x", 4)
    g = conv_geometry(*x.shape, kernel_size, stride, padding, dilation)
    return gather(x, g, layout, out)


def col2im(cols, x_shape, kernel_size, stride=1, padding=0, dilation=1, layout="torch", *,
           out=None):
    """Adjoint of :func:`im2col`: sum every column element back into an (N, C, H, W) image.

    ``out``, if given, is a C-contiguous array of shape ``x_shape`` and the
    dtype of ``cols`` that is overwritten with the result.
    """
    layout = _layout(layout)
    check_array(cols, "cols")
    n, c, h, w = as_shape(x_shape, "x_shape")
    g = conv_geometry(n, c, h, w, kernel_size, stride, padding, dilation)
    _check_cols(cols, _cols_shape(g, layout))
    return accumulate(cols, g, layout, out)


def unfold(x, kernel_size, dilation=1, padding=0, stride=1, *, out=None):
    """``torch.nn.functional.unfold`` on NumPy arrays.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W) or unbatched (C, H, W)
    kernel_size, dilation, padding, stride : int or pair of ints
    out : ndarray, optional
        C-contiguous, of the result's shape and dtype: written and returned.

    Returns
    -------
    ndarray, shape (N, C*kh*kw, L) or (C*kh*kw, L), ``L = oh*ow``; the dtype of ``x``.
    """
    check_array(x, "x", (3, 4))
    batched = x.ndim == 4
    x4 = x if batched else x[None]
    g = conv_geometry(*x4.shape, kernel_size, stride, padding, dilation)
    if out is not None and not batched:
        check_array(out, "out", 2)
        gather(x4, g, "torch", out[None])
        return out
    cols = gather(x4, g, "torch", out)
    return cols if batched else cols[0]


def fold(cols, output_size, kernel_size, dilation=1, padding=0, stride=1, *, out=None):
    """``torch.nn.functional.fold`` on NumPy arrays (the adjoint of :func:`unfold`).

    Parameters
    ----------
    cols : ndarray, shape (N, C*kh*kw, L) or unbatched (C*kh*kw, L)
    output_size : int or pair of ints, the image (H, W)
    kernel_size, dilation, padding, stride : int or pair of ints
    out : ndarray, optional
        C-contiguous, of the result's shape and dtype: written and returned.

    Returns
    -------
    ndarray, shape (N, C, H, W) or (C, H, W); the dtype of ``cols``.
    """
    check_array(cols, "cols", (2, 3))
    batched = cols.ndim == 3
    c3 = cols if batched else cols[None]
    h, w = as_pair(output_size, "output_size", 1)
    kh, kw = as_pair(kernel_size, "kernel_size", 1)
    n, k, length = c3.shape
    if k % (kh * kw):
        raise ValueError(
            f"cols dimension {1 if batched else 0} is {k}, which is not divisible "
            f"by the kernel size {kh}*{kw}"
        )
    g = conv_geometry(n, k // (kh * kw), h, w, (kh, kw), stride, padding, dilation)
    if length != g.oh * g.ow:
        raise ValueError(
            f"cols has {length} windows (last dimension), but output_size {(h, w)} "
            f"with these parameters gives {g.oh}*{g.ow} = {g.oh * g.ow}"
        )
    if out is not None and not batched:
        check_array(out, "out", 3)
        accumulate(c3, g, "torch", out[None])
        return out
    x = accumulate(c3, g, "torch", out)
    return x if batched else x[0]


# --------------------------------------------------------------------------
# cs231n im2col.py
# --------------------------------------------------------------------------

def _cs231n_geometry(x_shape, field_height, field_width, padding, stride):
    n, c, h, w = as_shape(x_shape, "x_shape")
    fh, fw = _field(field_height, field_width)
    p = as_int(padding, "padding", 0)
    s = as_int(stride, "stride", 1)
    return conv_geometry(n, c, h, w, (fh, fw), s, p, 1)


def get_im2col_indices(x_shape, field_height, field_width, padding=1, stride=1, verbose=0):
    """cs231n's index triple ``(k, i, j)``: ``x_padded[:, k, i, j]`` gathers every window.

    ``k`` has shape ``(C*fh*fw, 1)``; ``i`` and ``j`` have shape
    ``(C*fh*fw, oh*ow)``.  Non-divisible shapes are floored.
    """
    g = _cs231n_geometry(x_shape, field_height, field_width, padding, stride)
    row = np.arange(g.c * g.kh * g.kw, dtype=np.int64)
    ky = (row // g.kw) % g.kh
    kx = row % g.kw
    col = np.arange(g.oh * g.ow, dtype=np.int64)
    oy = col // g.ow
    ox = col % g.ow
    k = (row // (g.kh * g.kw)).reshape(-1, 1)
    i = ky[:, None] + g.sh * oy[None, :]
    j = kx[:, None] + g.sw * ox[None, :]
    return k, i, j


def im2col_indices(x, field_height, field_width, padding=1, stride=1, verbose=False, *,
                   out=None):
    """cs231n's ``im2col_indices``: columns ``(C*fh*fw, oh*ow*N)``, the batch fastest.

    ``out`` (an extension): a C-contiguous array of that shape and
    ``x.dtype`` to write into.
    """
    check_array(x, "x", 4)
    g = _cs231n_geometry(x.shape, field_height, field_width, padding, stride)
    return gather(x, g, "cs231n", out)


def col2im_indices(cols, x_shape, field_height=3, field_width=3, padding=1, stride=1,
                   verbose=False, *, out=None):
    """cs231n's ``col2im_indices``: the adjoint of :func:`im2col_indices`.

    Returns an array of shape ``x_shape`` and the dtype of ``cols``.  ``cols``
    must have exactly the shape ``(C*fh*fw, oh*ow*N)``.  ``out`` (an
    extension): a C-contiguous array of shape ``x_shape`` to write into.
    """
    check_array(cols, "cols", 2)
    g = _cs231n_geometry(x_shape, field_height, field_width, padding, stride)
    _check_cols(cols, _cols_shape(g, "cs231n"))
    return accumulate(cols, g, "cs231n", out)


# --------------------------------------------------------------------------
# pooling primitives (used by layers and cs231n.fast_layers)
# --------------------------------------------------------------------------

def pool_geometry(x_shape, kernel_size, stride, padding, dilation, names=None):
    """Checked geometry of a pooling window over an (N, C, H, W) input."""
    n, c, h, w = x_shape
    names = names or ("kernel_size", "stride", "padding", "dilation")
    return conv_geometry(n, c, h, w, kernel_size, stride, padding, dilation, names=names)


def max_pool_forward(x, g):
    """``(out, argmax)`` of a checked float (N, C, H, W) ``x``; argmax is ``iy*W + ix``."""
    x = _native(x)
    shape = check_alloc((g.n, g.c, g.oh, g.ow), x.dtype, "out")
    out = np.empty(shape, dtype=x.dtype)
    argmax = np.empty(shape, dtype=np.int64)
    if out.size:
        _backend.kernels(x.dtype, x).max_pool_forward(x, out, argmax, g)
    return out, argmax


def max_pool_scatter(dout, argmax, g):
    """dx of shape (N, C, H, W): ``dout`` added at the in-plane ``argmax`` positions."""
    dout = np.ascontiguousarray(_native(dout))
    argmax = np.ascontiguousarray(argmax, dtype=np.int64)
    if dout.size == 0:
        return np.zeros((g.n, g.c, g.h, g.w), dtype=dout.dtype)
    dx = np.empty((g.n, g.c, g.h, g.w), dtype=dout.dtype)
    _backend.kernels(dout.dtype, dout).max_pool_scatter(dout, argmax, dx, g)
    return dx


def avg_pool_forward(x, g):
    """Window means (padding counted as zeros, divisor ``kh*kw``)."""
    x = _native(x)
    out = np.empty(check_alloc((g.n, g.c, g.oh, g.ow), x.dtype, "out"), dtype=x.dtype)
    if out.size:
        _backend.kernels(x.dtype, x).avg_pool_forward(x, out, g)
    return out


def avg_pool_scatter(dout, g):
    """Gradient of :func:`avg_pool_forward`."""
    dout = np.ascontiguousarray(_native(dout))
    if dout.size == 0:
        return np.zeros((g.n, g.c, g.h, g.w), dtype=dout.dtype)
    dx = np.empty((g.n, g.c, g.h, g.w), dtype=dout.dtype)
    _backend.kernels(dout.dtype, dout).avg_pool_scatter(dout, dx, g)
    return dx


__all__ = [
    "Geometry",
    "LAYOUTS",
    "im2col",
    "col2im",
    "unfold",
    "fold",
    "get_im2col_indices",
    "im2col_indices",
    "col2im_indices",
]
