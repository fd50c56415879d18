"""Winograd minimal filtering F(2x2, 3x3) for 3x3, stride-1, undilated convolutions.

The convolution layers (:mod:`im2col_ext.layers`, ``algorithm="winograd"`` or
``"auto"``) call :func:`conv2d_forward` and :func:`conv2d_backward` here.
Each 2x2 block of outputs is computed from a 4x4 input tile ``d`` and the
filter ``g`` as ``A^T [sum_c (G g G^T) .* (B^T d B)] A``: the sum over
channels becomes 16 independent matrix products ``U[k] (F, C) @ V[k] (C, P)``
over all ``P`` tiles, done by ``np.matmul`` (the BLAS), with 16 products per
4 outputs in place of 36 multiplications per output's 9 taps: 2.25x fewer
multiplications than the im2col GEMM.  The input / output transforms and
their adjoints (the backward pass) run in C (``src_c/winograd.c``) on the
compiled backend and in NumPy (the twins below, also the oracle of the
tests) otherwise; the filter transforms are tiny and always NumPy.

The backward pass is the exact adjoint of the forward computation:
``dM = A dY A^T`` (one transform of ``dout``), ``dw = G^T (dM @ V^T) G``,
``dx = adjoint-input-transform(U^T @ dM)``; ``db`` is the plain sum.

Accuracy.  The transforms add and subtract up to 9 values and the filter
transform halves, so each product sees differently rounded operands than
the GEMM's; the sums over channels are as long (C terms) as the GEMM's
(C*9 terms), shorter by 9x.  Measured (tests/test_winograd.py,
``_float32_error``): a (4, 32, 16, 16) * (32, 32, 3, 3) convolution,
padding 1, N(0, 1) data and weights scaled by 1/sqrt(C*9), float32 results
against float64 ones, max |error| / max |reference|:

=========  =======  =======  ==================
algorithm  out      dx       dw
=========  =======  =======  ==================
gemm       5.3e-7   1.5e-7   4.4e-7
winograd   1.8e-7   2.3e-7   1.9e-7 .. 7.7e-7 *
=========  =======  =======  ==================

* dw sums the tiles' products through the BLAS, whose summation order
  differs between builds: 1.9e-7 with NumPy 2.4's OpenBLAS, 7.7e-7 with
  NumPy 1.23.5's (the oldest supported).

i.e. F(2x2, 3x3) is as accurate as the GEMM in float32 (F(4x4, 3x3),
whose transforms have entries up to 8, would lose about a digit).
:data:`ACCURACY` holds the worst of these numbers; a test keeps them true
within 4x.
"""

from collections import namedtuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import _backend, _scratch

__all__ = ["applicable", "conv2d_forward", "conv2d_backward", "WinogradCache"]

#: Max |error| / max |reference| of float32 results against float64 ones
#: (the table of the module docstring).
ACCURACY = {
    "winograd": {"out": 1.8e-7, "dx": 2.3e-7, "dw": 7.7e-7},
    "gemm": {"out": 5.3e-7, "dx": 1.5e-7, "dw": 4.4e-7},
}

_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64)
_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float64)
_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64)

#: (n, h, w, ph, pw, oh, ow, th, tw): images, image size, padding, output
#: size and tiles per image (each tile makes a 2x2 output block).
WinoGeometry = namedtuple("WinoGeometry", "n h w ph pw oh ow th tw")

#: Bytes of one chunk's tile array (16, max(C, F), P): the images of a chunk
#: are transformed, multiplied and transformed back while their tiles are
#: still in the L2 / L3 cache.
CHUNK_BYTES = 2 << 20


#: What :func:`conv2d_backward` needs: the input x (C-contiguous), the
#: transformed filters U (16, F, C), the geometry, whether there is a bias,
#: the dtype and the filter shape.
class WinogradCache(namedtuple("WinogradCache", "x u wg has_bias dtype w_shape")):
    __slots__ = ()

    @property
    def out_shape(self):
        return (self.wg.n, self.w_shape[0], self.wg.oh, self.wg.ow)


ALGORITHMS = ("auto", "gemm", "winograd")

#: "auto" picks Winograd when both channel counts reach this (below it the
#: transforms cost more than the products they save).
AUTO_MIN_CHANNELS = 16


def applicable(win, groups=1, mode="zeros"):
    """Whether Winograd F(2x2, 3x3) computes the convolution of Window ``win``.

    A 2-D, channels-first, ungrouped convolution with zero padding, a 3x3
    kernel, stride 1 and no dilation.
    """
    return (len(win.kernel) == 2 and win.channel_axis == 1 and groups == 1
            and mode == "zeros" and tuple(win.kernel) == (3, 3)
            and tuple(win.stride) == (1, 1) and tuple(win.dilation) == (1, 1))


def chosen(algorithm, win, f, dtype, groups=1, mode="zeros"):
    """Whether the convolution of Window ``win`` with ``f`` filters runs by Winograd.

    ``algorithm`` is checked here: "auto", "gemm" or "winograd" (which
    raises ``ValueError`` where Winograd does not apply).
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    if algorithm == "gemm":
        return False
    if not applicable(win, groups, mode):
        if algorithm == "winograd":
            raise ValueError(
                "algorithm='winograd' needs a 2-D channels-first convolution with a 3x3 "
                "kernel, stride 1, dilation 1, groups 1 and zero padding; got kernel "
                f"{tuple(win.kernel)}, stride {tuple(win.stride)}, dilation "
                f"{tuple(win.dilation)}, groups {groups}, padding_mode {mode!r}")
        return False
    if algorithm == "winograd":
        return True
    return (np.dtype(dtype) in (np.dtype(np.float32), np.dtype(np.float64))
            and min(win.c, f) >= AUTO_MIN_CHANNELS and win.n > 0)


def geometry(x_shape, padding, out=None):
    """The :data:`WinoGeometry` of ``x_shape`` (N, C, H, W) with leading padding
    ``(ph, pw)`` and output size ``out`` (default: the same padding trailing)."""
    n, _, h, w = x_shape
    ph, pw = padding
    oh, ow = out if out is not None else (h + 2 * ph - 2, w + 2 * pw - 2)
    return WinoGeometry(n, h, w, ph, pw, oh, ow, (oh + 1) // 2, (ow + 1) // 2)


# --------------------------------------------------------------------------
# the NumPy twins of the C transforms (same signatures as the _cext ones)
# --------------------------------------------------------------------------

def _tile_view(a, th, tw, size, step):
    """The (n, c, th, tw, size, size) view of tiles ``size`` wide every ``step`` of 4-D ``a``."""
    s = a.strides
    n, c = a.shape[:2]
    return as_strided(a, (n, c, th, tw, size, size),
                      (s[0], s[1], step * s[2], step * s[3], s[2], s[3]), writeable=False)


def _to_tiles(t, out):
    """(n, c, th, tw, 4, 4) -> out (16, c, n*th*tw)."""
    n, c, th, tw = t.shape[:4]
    out[...] = t.transpose(4, 5, 1, 0, 2, 3).reshape(16, c, n * th * tw)


def _from_tiles(tiles, wg):
    """(16, c, p) -> (n, c, th, tw, 4, 4)."""
    c = tiles.shape[1]
    return tiles.reshape(4, 4, c, wg.n, wg.th, wg.tw).transpose(3, 2, 4, 5, 0, 1)


def winograd_input(x, tiles, wg):
    """NumPy twin of ``_cext.winograd_input``."""
    wg = WinoGeometry(*wg)
    n, c = x.shape[:2]
    xp = np.zeros((n, c, 2 * wg.th + 2, 2 * wg.tw + 2), dtype=x.dtype)
    xp[:, :, wg.ph:wg.ph + wg.h, wg.pw:wg.pw + wg.w] = x
    bt = _BT.astype(x.dtype)
    _to_tiles(bt @ _tile_view(xp, wg.th, wg.tw, 4, 2) @ bt.T, tiles)


def winograd_output(m, bias, y, wg):
    """NumPy twin of ``_cext.winograd_output``."""
    wg = WinoGeometry(*wg)
    f = m.shape[1]
    at = _AT.astype(m.dtype)
    blocks = at @ _from_tiles(m, wg) @ at.T  # (n, f, th, tw, 2, 2)
    full = blocks.transpose(0, 1, 2, 4, 3, 5).reshape(wg.n, f, 2 * wg.th, 2 * wg.tw)
    y[...] = full[:, :, :wg.oh, :wg.ow]
    if bias.shape[0]:
        y += bias.reshape(1, f, 1, 1)


def winograd_output_adjoint(dy, dm, wg):
    """NumPy twin of ``_cext.winograd_output_adjoint``."""
    wg = WinoGeometry(*wg)
    f = dy.shape[1]
    padded = np.zeros((wg.n, f, 2 * wg.th, 2 * wg.tw), dtype=dy.dtype)
    padded[:, :, :wg.oh, :wg.ow] = dy
    blocks = padded.reshape(wg.n, f, wg.th, 2, wg.tw, 2).transpose(0, 1, 2, 4, 3, 5)
    a = _AT.T.astype(dy.dtype)
    _to_tiles(a @ blocks @ a.T, dm)


def winograd_input_adjoint(dv, dx, wg):
    """NumPy twin of ``_cext.winograd_input_adjoint``."""
    wg = WinoGeometry(*wg)
    n, c = dx.shape[:2]
    b = _BT.T.astype(dv.dtype)
    d = b @ _from_tiles(dv, wg) @ b.T  # (n, c, th, tw, 4, 4)
    xp = np.zeros((n, c, 2 * wg.th + 2, 2 * wg.tw + 2), dtype=dv.dtype)
    for i in range(4):
        for j in range(4):
            xp[:, :, i:i + 2 * wg.th:2, j:j + 2 * wg.tw:2] += d[..., i, j]
    dx[...] = xp[:, :, wg.ph:wg.ph + wg.h, wg.pw:wg.pw + wg.w]


class _NumpyTransforms:
    winograd_input = staticmethod(winograd_input)
    winograd_output = staticmethod(winograd_output)
    winograd_output_adjoint = staticmethod(winograd_output_adjoint)
    winograd_input_adjoint = staticmethod(winograd_input_adjoint)


def _transforms(dtype):
    """The C transforms when the compiled backend serves ``dtype``, else the NumPy twins."""
    if _backend.kernels(dtype) is _backend.compiled and _backend.compiled is not None:
        return _backend.compiled
    return _NumpyTransforms


# --------------------------------------------------------------------------
# the layer
# --------------------------------------------------------------------------

def _chunks(wg, channels, itemsize):
    """``(lo, hi, geometry)`` of the image chunks whose tile arrays stay in the cache."""
    per_image = 16 * channels * wg.th * wg.tw * itemsize
    step = max(1, CHUNK_BYTES // max(per_image, 1))
    for lo in range(0, wg.n, step):
        hi = min(wg.n, lo + step)
        yield lo, hi, wg._replace(n=hi - lo)


def tile_array(name, channels, p, dtype):
    """An empty (16, channels, p) tile array whose rows are not a multiple of 4 KiB apart.

    The transforms read or write the 16 rows as 16 streams; rows a multiple
    of 4 KiB apart would all fall into one cache set.  The array is the
    scratch buffer ``name`` (:mod:`._scratch`): kept between calls.
    """
    dtype = np.dtype(dtype)
    row = channels * p
    pad = (-row) % (64 // dtype.itemsize) + 64 // dtype.itemsize   # one cache line past
    if ((row + pad) * dtype.itemsize) % 4096 == 0:
        pad += 64 // dtype.itemsize
    return _scratch.take(name, (16, row + pad), dtype)[:, :row].reshape(16, channels, p)


def conv2d_forward(x, w, b, padding, dtype, out_size=None):
    """``conv2d(x, w, b, stride=1, padding=padding)`` for 3x3 ``w``, by Winograd F(2x2, 3x3).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, 3, 3)
    b : ndarray, shape (F,), or None
    padding : pair of ints, the leading (top, left) zero padding
    dtype : float32 or float64, the dtype of the computation and the result
    out_size : pair of ints, optional
        ``(oh, ow)``; default ``(H + 2*ph - 2, W + 2*pw - 2)`` (the same
        padding at the end).

    Returns
    -------
    out : ndarray, shape (N, F, oh, ow)
    cache : WinogradCache
        Holds ``x`` itself (the backward pass transforms it again, chunk by
        chunk): do not modify ``x`` in place before the backward pass.
    """
    dtype = np.dtype(dtype)
    x = np.ascontiguousarray(x, dtype=dtype)
    f, c = w.shape[:2]
    wg = geometry(x.shape, padding, out_size)
    k = _transforms(dtype)
    g = _G.astype(dtype)
    u = np.ascontiguousarray(
        (g @ w.astype(dtype, copy=False) @ g.T).transpose(2, 3, 0, 1).reshape(16, f, c))
    out = np.empty((wg.n, f, wg.oh, wg.ow), dtype=dtype)
    bias = np.zeros(0, dtype) if b is None else np.ascontiguousarray(b, dtype=dtype)
    tiles = m = None
    for lo, hi, wc in _chunks(wg, max(c, f), dtype.itemsize):
        p = wc.n * wc.th * wc.tw
        if tiles is None or tiles.shape[2] != p:
            tiles = tile_array("winograd tiles", c, p, dtype)
            m = tile_array("winograd products", f, p, dtype)
        k.winograd_input(x[lo:hi], tiles, tuple(wc))
        np.matmul(u, tiles, out=m)
        k.winograd_output(m, bias, out[lo:hi], tuple(wc))
    return out, WinogradCache(x, u, wg, b is not None, dtype, w.shape)


def conv2d_backward(dout, cache):
    """Gradients ``(dx, dw, db)`` of :func:`conv2d_forward`; ``db`` is None without a bias."""
    x, u, wg, has_bias, dtype, w_shape = cache
    f, c = w_shape[:2]
    dout = np.ascontiguousarray(dout, dtype=dtype)
    k = _transforms(dtype)
    dx = np.empty((wg.n, c, wg.h, wg.w), dtype=dtype)
    du = np.zeros((16, f, c), dtype=dtype)
    du_part = np.empty_like(du)
    ut = u.transpose(0, 2, 1)
    tiles = None
    for lo, hi, wc in _chunks(wg, max(c, f), dtype.itemsize):
        p = wc.n * wc.th * wc.tw
        if tiles is None or tiles.shape[2] != p:
            tiles = tile_array("winograd tiles", c, p, dtype)
            dm = tile_array("winograd products", f, p, dtype)
            dv = tile_array("winograd gradients", c, p, dtype)
        k.winograd_input(x[lo:hi], tiles, tuple(wc))
        k.winograd_output_adjoint(dout[lo:hi], dm, tuple(wc))
        np.matmul(dm, tiles.transpose(0, 2, 1), out=du_part)     # (16, F, C)
        du += du_part
        np.matmul(ut, dm, out=dv)                                 # (16, C, P)
        k.winograd_input_adjoint(dv, dx[lo:hi], tuple(wc))
    g = _G.astype(dtype)
    dw = g.T @ du.reshape(4, 4, f, c).transpose(2, 3, 0, 1) @ g
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return dx, np.ascontiguousarray(dw), db
