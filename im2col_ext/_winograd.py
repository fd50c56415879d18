"""Winograd minimal filtering F(2x2, 3x3) and F(4x4, 3x3) for 3x3, stride-1, undilated convolutions.

The convolution layers (:mod:`im2col_ext.layers`, ``algorithm="winograd"``,
``"winograd4x4"`` or ``"auto"``) call :func:`conv2d_forward` and
:func:`conv2d_backward` here.  Each m x m block of outputs is computed from
an (m + 2) x (m + 2) input tile ``d`` and the filter ``g`` as
``A^T [sum_c (G g G^T) .* (B^T d B)] A``: the sum over channels becomes
T = (m + 2)^2 independent matrix products ``U[k] (F, C) @ V[k] (C, P)`` over
all ``P`` tiles, done by ``np.matmul`` (the BLAS).  Per output that is
16 / 4 = 4 multiplications for F(2x2, 3x3) and 36 / 16 = 2.25 for
F(4x4, 3x3), in place of the GEMM's 9: 2.25x and 4x fewer.  The tile arrays
shrink the same way (4x and 2.25x the input's size), so F(4x4, 3x3) also
moves less memory; its transforms cost more arithmetic per tile.  The
input / output transforms and their adjoints (the backward pass) run in C
(``src_c/winograd.c``) on the compiled backend and in NumPy (the twins
below, also the oracle of the tests) otherwise; the filter transforms are
tiny, always NumPy, in float64 (rounded once to the dtype).

The backward pass is the exact adjoint of the forward computation:
``dM = A dY A^T`` (one transform of ``dout``), ``dw = G^T (dM @ V^T) G``,
``dx = adjoint-input-transform(U^T @ dM)``; ``db`` is the plain sum.

F(4x4, 3x3) uses the interpolation points 0, 1, -1, 2, -1/2 (and
infinity), not the textbook 0, +-1, +-2: with -1/2 in place of -2 the
input transform's entries are at most 2.5 (the textbook's reach 5), and the
float32 error of ``out`` below is 1.5e-6 in place of 4.1e-6.

Accuracy.  The transforms add and subtract up to 9 (F(2x2)) or 36
(F(4x4)) values with weights up to 8, so each product sees differently
rounded operands than the GEMM's; the sums over channels are as long (C
terms) as the GEMM's (C*9 terms), shorter by 9x.  Measured
(tests/test_winograd.py, ``_float32_error``): a (4, 32, 16, 16) *
(32, 32, 3, 3) convolution, padding 1, N(0, 1) data and weights scaled by
1/sqrt(C*9), float32 results against float64 ones, max |error| / max
|reference|, both backends, five seeds (worst):

===========  =======  =======  ==================
algorithm    out      dx       dw
===========  =======  =======  ==================
gemm         7.2e-7   1.9e-7   4.4e-7
winograd     2.0e-7   2.7e-7   2.3e-7 .. 7.7e-7 *
winograd4x4  1.5e-6   1.5e-6   9.1e-7
===========  =======  =======  ==================

* dw sums the tiles' products through the BLAS, whose summation order
  differs between builds: 1.9e-7 with NumPy 2.4's OpenBLAS, 7.7e-7 with
  NumPy 1.23.5's (the oldest supported).

i.e. F(2x2, 3x3) is as accurate as the GEMM in float32, and F(4x4, 3x3)
loses a factor 2 to 8 (under a decimal digit; about 12 units in the last
place of the largest output).  "auto" takes F(4x4, 3x3) for float32, which
is chosen for speed, and F(2x2, 3x3) for float64, which is chosen for
accuracy (gradient checks): there it keeps the GEMM's error.
:data:`ACCURACY` holds the numbers of the first seed; a test keeps them
true within 4x.
"""

from collections import namedtuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import _backend, _scratch

__all__ = ["applicable", "conv2d_forward", "conv2d_backward", "WinogradCache"]

#: Max |error| / max |reference| of float32 results against float64 ones
#: (the table of the module docstring).
ACCURACY = {
    "winograd": {"out": 2.0e-7, "dx": 2.3e-7, "dw": 7.7e-7},
    "winograd4x4": {"out": 1.2e-6, "dx": 1.3e-6, "dw": 9.1e-7},
    "gemm": {"out": 5.3e-7, "dx": 1.5e-7, "dw": 4.4e-7},
}

_BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64)
_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float64)
_AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64)

# F(4x4, 3x3) from the interpolation points 0, 1, -1, 2, -1/2 (and infinity):
# A^T[i, j] = a_j^i, G[j, k] = a_j^k / prod_{l != j} (a_j - a_l), B^T the
# matrix that makes A^T [(G g) .* (B^T d)] the correlation of d and g
# (tests/test_winograd.py derives all three from the points again).  The
# textbook points 0, +-1, +-2 (Lavin & Gray) gave about 3x the float32 error
# (out: 4.1e-6 against 1.5e-6).
_BT4 = np.array([[1, 1.5, -2, -1.5, 1, 0],
                 [0, -1, -2.5, -0.5, 1, 0],
                 [0, 1, 0.5, -2.5, 1, 0],
                 [0, -0.5, -1, 0.5, 1, 0],
                 [0, 2, -1, -2, 1, 0],
                 [0, 1, 1.5, -2, -1.5, 1]], dtype=np.float64)
_G4 = np.array([[1, 0, 0],
                [-1 / 3, -1 / 3, -1 / 3],
                [1 / 3, -1 / 3, 1 / 3],
                [1 / 15, 2 / 15, 4 / 15],
                [-16 / 15, 8 / 15, -4 / 15],
                [0, 0, 1]], dtype=np.float64)
_AT4 = np.array([[1, 1, 1, 1, 1, 0],
                 [0, 1, -1, 2, -0.5, 0],
                 [0, 1, 1, 4, 0.25, 0],
                 [0, 1, -1, 8, -0.125, 1]], dtype=np.float64)

#: One Winograd algorithm F(m x m, 3x3): output tiles m x m from input tiles
#: (m + 2) x (m + 2); ``bt``, ``g``, ``at`` the input, filter and output
#: transforms.
Variant = namedtuple("Variant", "m bt g at")

#: The two variants by ``algorithm`` name.
VARIANTS = {
    "winograd": Variant(2, _BT, _G, _AT),
    "winograd4x4": Variant(4, _BT4, _G4, _AT4),
}

#: (n, h, w, ph, pw, oh, ow, th, tw, m): images, image size, padding, output
#: size, tiles per image (each tile makes an m x m output block) and m.
WinoGeometry = namedtuple("WinoGeometry", "n h w ph pw oh ow th tw m")

#: Bytes of one chunk's tile array (T, max(C, F), P): the images of a chunk
#: are transformed, multiplied and transformed back while their tiles are
#: still in the L2 / L3 cache.
CHUNK_BYTES = 2 << 20


#: What :func:`conv2d_backward` needs: the input x (C-contiguous), the
#: transformed filters U (T, F, C) (T = (m + 2)^2), the geometry, whether
#: there is a bias, the dtype, the filter shape and the variant.
class WinogradCache(namedtuple("WinogradCache", "x u wg has_bias dtype w_shape variant")):
    __slots__ = ()

    @property
    def out_shape(self):
        return (self.wg.n, self.w_shape[0], self.wg.oh, self.wg.ow)


ALGORITHMS = ("auto", "gemm") + tuple(VARIANTS)

#: "auto" picks Winograd when both channel counts reach this (below it the
#: transforms cost more than the products they save).
AUTO_MIN_CHANNELS = 16

#: The variant "auto" takes per dtype (its char): F(4x4, 3x3) for float32,
#: F(2x2, 3x3) for float64 (the module docstring says why).
AUTO_VARIANT = {"f": "winograd4x4", "d": "winograd"}


def applicable(win, groups=1, mode="zeros"):
    """Whether Winograd F(m x m, 3x3) computes the convolution of Window ``win``.

    A 2-D, channels-first, ungrouped convolution with zero padding, a 3x3
    kernel, stride 1 and no dilation.
    """
    return (len(win.kernel) == 2 and win.channel_axis == 1 and groups == 1
            and mode == "zeros" and tuple(win.kernel) == (3, 3)
            and tuple(win.stride) == (1, 1) and tuple(win.dilation) == (1, 1))


def chosen(algorithm, win, f, dtype, groups=1, mode="zeros"):
    """The :class:`Variant` that computes the convolution of Window ``win`` with ``f``
    filters, or None (gemm).

    ``algorithm`` is checked here: "auto", "gemm", "winograd" (F(2x2, 3x3))
    or "winograd4x4" (F(4x4, 3x3)); the last two raise ``ValueError``
    where Winograd does not apply.  "auto" takes F(4x4, 3x3) for float32
    and F(2x2, 3x3) for float64 (see the module docstring), where both
    channel counts are at least :data:`AUTO_MIN_CHANNELS`.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    if algorithm == "gemm":
        return None
    if not applicable(win, groups, mode):
        if algorithm != "auto":
            raise ValueError(
                f"algorithm={algorithm!r} needs a 2-D channels-first convolution with a 3x3 "
                "kernel, stride 1, dilation 1, groups 1 and zero padding; got kernel "
                f"{tuple(win.kernel)}, stride {tuple(win.stride)}, dilation "
                f"{tuple(win.dilation)}, groups {groups}, padding_mode {mode!r}")
        return None
    if algorithm != "auto":
        return VARIANTS[algorithm]
    dtype = np.dtype(dtype)
    if dtype.char not in AUTO_VARIANT or min(win.c, f) < AUTO_MIN_CHANNELS or win.n == 0:
        return None
    return VARIANTS[AUTO_VARIANT[dtype.char]]



def geometry(x_shape, padding, out=None, m=2):
    """The :data:`WinoGeometry` of ``x_shape`` (N, C, H, W) with leading padding
    ``(ph, pw)``, output size ``out`` (default: the same padding trailing)
    and m x m output tiles."""
    n, _, h, w = x_shape
    ph, pw = padding
    oh, ow = out if out is not None else (h + 2 * ph - 2, w + 2 * pw - 2)
    return WinoGeometry(n, h, w, ph, pw, oh, ow, -(-oh // m), -(-ow // m), m)


#: The variants by tile size m.
_BY_M = {v.m: v for v in VARIANTS.values()}


def _variant(wg):
    return _BY_M[wg.m]


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
    """(n, c, th, tw, t, t) -> out (t*t, c, n*th*tw)."""
    n, c, th, tw, size = t.shape[:5]
    out[...] = t.transpose(4, 5, 1, 0, 2, 3).reshape(size * size, c, n * th * tw)


def _from_tiles(tiles, wg):
    """(t*t, c, p) -> (n, c, th, tw, t, t)."""
    c, t = tiles.shape[1], wg.m + 2
    return tiles.reshape(t, t, c, wg.n, wg.th, wg.tw).transpose(3, 2, 4, 5, 0, 1)


def _padded(n, c, wg, dtype):
    """Zeros covering every tile's input: (n, c, m*th + 2, m*tw + 2)."""
    return np.zeros((n, c, wg.m * wg.th + 2, wg.m * wg.tw + 2), dtype=dtype)


def winograd_input(x, tiles, wg):
    """NumPy twin of ``_cext.winograd_input``."""
    wg = WinoGeometry(*wg)
    n, c = x.shape[:2]
    xp = _padded(n, c, wg, x.dtype)
    xp[:, :, wg.ph:wg.ph + wg.h, wg.pw:wg.pw + wg.w] = x
    bt = _variant(wg).bt.astype(x.dtype)
    _to_tiles(bt @ _tile_view(xp, wg.th, wg.tw, wg.m + 2, wg.m) @ bt.T, tiles)


def winograd_output(m, bias, y, wg):
    """NumPy twin of ``_cext.winograd_output``."""
    wg = WinoGeometry(*wg)
    f = m.shape[1]
    at = _variant(wg).at.astype(m.dtype)
    blocks = at @ _from_tiles(m, wg) @ at.T  # (n, f, th, tw, m, m)
    full = blocks.transpose(0, 1, 2, 4, 3, 5).reshape(wg.n, f, wg.m * wg.th, wg.m * wg.tw)
    y[...] = full[:, :, :wg.oh, :wg.ow]
    if bias.shape[0]:
        y += bias.reshape(1, f, 1, 1)


def winograd_output_adjoint(dy, dm, wg):
    """NumPy twin of ``_cext.winograd_output_adjoint``."""
    wg = WinoGeometry(*wg)
    f = dy.shape[1]
    padded = np.zeros((wg.n, f, wg.m * wg.th, wg.m * wg.tw), dtype=dy.dtype)
    padded[:, :, :wg.oh, :wg.ow] = dy
    blocks = padded.reshape(wg.n, f, wg.th, wg.m, wg.tw, wg.m).transpose(0, 1, 2, 4, 3, 5)
    a = _variant(wg).at.T.astype(dy.dtype)
    _to_tiles(a @ blocks @ a.T, dm)


def winograd_input_adjoint(dv, dx, wg):
    """NumPy twin of ``_cext.winograd_input_adjoint``."""
    wg = WinoGeometry(*wg)
    n, c = dx.shape[:2]
    b = _variant(wg).bt.T.astype(dv.dtype)
    d = b @ _from_tiles(dv, wg) @ b.T  # (n, c, th, tw, t, t)
    xp = _padded(n, c, wg, dv.dtype)
    m = wg.m
    for i in range(m + 2):
        for j in range(m + 2):
            xp[:, :, i:i + m * wg.th:m, j:j + m * wg.tw:m] += d[..., i, j]
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
    per_image = (wg.m + 2) ** 2 * channels * wg.th * wg.tw * itemsize
    step = max(1, CHUNK_BYTES // max(per_image, 1))
    for lo in range(0, wg.n, step):
        hi = min(wg.n, lo + step)
        yield lo, hi, wg._replace(n=hi - lo)


def tile_array(name, rows, channels, p, dtype):
    """An empty (rows, channels, p) tile array whose rows are not a multiple of 4 KiB apart.

    The transforms read or write the rows as that many streams; rows a
    multiple of 4 KiB apart would all fall into one cache set.  The array is
    the scratch buffer ``name`` (:mod:`._scratch`): kept between calls.
    """
    dtype = np.dtype(dtype)
    row = channels * p
    pad = (-row) % (64 // dtype.itemsize) + 64 // dtype.itemsize   # one cache line past
    if ((row + pad) * dtype.itemsize) % 4096 == 0:
        pad += 64 // dtype.itemsize
    return _scratch.take(name, (rows, row + pad), dtype)[:, :row].reshape(rows, channels, p)


def conv2d_forward(x, w, b, padding, dtype, out_size=None, variant=None):
    """``conv2d(x, w, b, stride=1, padding=padding)`` for 3x3 ``w``, by Winograd F(m x m, 3x3).

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
    variant : Variant, optional
        One of :data:`VARIANTS` (default F(2x2, 3x3)).

    Returns
    -------
    out : ndarray, shape (N, F, oh, ow)
    cache : WinogradCache
        Holds ``x`` itself (the backward pass transforms it again, chunk by
        chunk): do not modify ``x`` in place before the backward pass.
    """
    dtype = np.dtype(dtype)
    v = VARIANTS["winograd"] if variant is None else variant
    t2 = (v.m + 2) ** 2
    x = np.ascontiguousarray(x, dtype=dtype)
    f, c = w.shape[:2]
    wg = geometry(x.shape, padding, out_size, v.m)
    k = _transforms(dtype)
    # the filter transform in float64 (its entries 1/3, 1/15 .. are not
    # float32 numbers), rounded once
    u = np.ascontiguousarray(
        (v.g @ w.astype(np.float64) @ v.g.T).transpose(2, 3, 0, 1).reshape(t2, f, c),
        dtype=dtype)
    out = np.empty((wg.n, f, wg.oh, wg.ow), dtype=dtype)
    bias = np.zeros(0, dtype) if b is None else np.ascontiguousarray(b, dtype=dtype)
    tiles = m = None
    for lo, hi, wc in _chunks(wg, max(c, f), dtype.itemsize):
        p = wc.n * wc.th * wc.tw
        if tiles is None or tiles.shape[2] != p:
            tiles = tile_array("winograd tiles", t2, c, p, dtype)
            m = tile_array("winograd products", t2, f, p, dtype)
        k.winograd_input(x[lo:hi], tiles, tuple(wc))
        np.matmul(u, tiles, out=m)
        k.winograd_output(m, bias, out[lo:hi], tuple(wc))
    return out, WinogradCache(x, u, wg, b is not None, dtype, w.shape, v)


def conv2d_backward(dout, cache):
    """Gradients ``(dx, dw, db)`` of :func:`conv2d_forward`; ``db`` is None without a bias."""
    x, u, wg, has_bias, dtype, w_shape, v = cache
    f, c = w_shape[:2]
    t2 = (v.m + 2) ** 2
    dout = np.ascontiguousarray(dout, dtype=dtype)
    k = _transforms(dtype)
    dx = np.empty((wg.n, c, wg.h, wg.w), dtype=dtype)
    du = np.zeros((t2, f, c), dtype=dtype)
    du_part = np.empty_like(du)
    ut = u.transpose(0, 2, 1)
    tiles = None
    for lo, hi, wc in _chunks(wg, max(c, f), dtype.itemsize):
        p = wc.n * wc.th * wc.tw
        if tiles is None or tiles.shape[2] != p:
            tiles = tile_array("winograd tiles", t2, c, p, dtype)
            dm = tile_array("winograd products", t2, f, p, dtype)
            dv = tile_array("winograd gradients", t2, c, p, dtype)
        k.winograd_input(x[lo:hi], tiles, tuple(wc))
        k.winograd_output_adjoint(dout[lo:hi], dm, tuple(wc))
        np.matmul(dm, tiles.transpose(0, 2, 1), out=du_part)     # (T, F, C)
        du += du_part
        np.matmul(ut, dm, out=dv)                                 # (T, C, P)
        k.winograd_input_adjoint(dv, dx[lo:hi], tuple(wc))
    t = v.m + 2
    dw = v.g.T @ du.astype(np.float64).reshape(t, t, f, c).transpose(2, 3, 0, 1) @ v.g
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return dx, np.ascontiguousarray(dw, dtype=dtype), db
