# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The compiled backend: thin wrappers around the plain C kernels of ``src_c``.

Each function has exactly the signature of its twin in ``_numpy_backend``
and fills arrays that the public API has already validated and allocated.
The wrappers only read the arrays' buffers (typed memoryviews, so any
strides -- negative, zero, non-contiguous -- and read-only inputs work),
turn the :class:`~im2col_ext._geometry.Geometry` and the byte strides into
an ``i2c_geom`` with element strides, and call the kernel without the GIL.
float32 and float64 are supported; any other dtype raises ``TypeError``.

Threads: every call uses the module-level count set by
:func:`set_num_threads` (default: ``IM2COL_EXT_NUM_THREADS`` if it is a
positive integer, else OpenMP's default, i.e. all cores).  Results are
bitwise identical for any thread count.
"""

import json
import operator
import os
import sys
import numpy as np

from cpython.buffer cimport (
    PyBUF_C_CONTIGUOUS, PyBUF_STRIDES, PyBUF_WRITABLE, PyBuffer_Release, PyObject_GetBuffer,
)
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

from im2col_ext._kernels cimport (
    i2c_geom, i2c_win,
    i2c_gather_b1, i2c_gather_b2, i2c_gather_b4, i2c_gather_b8, i2c_gather_b16,
    i2c_gather_mode_b1, i2c_gather_mode_b2, i2c_gather_mode_b4, i2c_gather_mode_b8,
    i2c_gather_mode_b16,
    I2C_PAD_ZEROS, I2C_PAD_CONSTANT, I2C_PAD_REFLECT, I2C_PAD_REPLICATE, I2C_PAD_CIRCULAR,
    I2C_FRESH_COLS,
    i2c_accumulate_f32, i2c_accumulate_f64, i2c_accumulate_i64, i2c_accumulate_u64,
    i2c_accumulate_i8_i64, i2c_accumulate_i16_i64, i2c_accumulate_i32_i64, i2c_accumulate_u8_i64,
    i2c_accumulate_u8_u64, i2c_accumulate_u16_u64, i2c_accumulate_u32_u64,
    i2c_accumulate_f16_f32,
    i2c_max_pool_forward_f32, i2c_max_pool_forward_f64,
    i2c_max_pool_scatter_f32, i2c_max_pool_scatter_f64,
    i2c_max_pool_tie_scatter_f32, i2c_max_pool_tie_scatter_f64,
    i2c_avg_pool_forward_f32, i2c_avg_pool_forward_f64,
    i2c_avg_pool_scatter_f32, i2c_avg_pool_scatter_f64,
    i2c_openmp_enabled, i2c_default_num_threads, i2c_stream_min_bytes,
    I2C_BUILD_INFO_JSON,
)

__all__ = [
    "name", "openmp", "build_info", "get_num_threads", "set_num_threads",
    "GATHER_ITEMSIZES", "ACCUMULATE_PAIRS", "gather", "accumulate", "max_pool_forward", "max_pool_scatter", "max_pool_tie_scatter",
    "avg_pool_forward", "avg_pool_scatter", "depthwise_forward", "depthwise_backward",
]

name = "c"

#: True when the kernels were compiled with OpenMP.
openmp = bool(i2c_openmp_enabled())

#: How the extension was built: compiler, flags, whether OpenMP is on, and
#: the size (columns + image, bytes) from which gathers use streaming stores.
build_info = json.loads(I2C_BUILD_INFO_JSON.decode("utf-8"))
build_info["openmp"] = openmp
build_info["stream_min_bytes"] = int(i2c_stream_min_bytes())

ctypedef fused real:
    float
    double


# ---------------------------------------------------------------- threads

cdef int _num_threads = 1


def _default_num_threads():
    value = os.environ.get("IM2COL_EXT_NUM_THREADS", "").strip()
    if value:
        try:
            n = int(value)
        except ValueError:
            n = 0
        if n > 0:
            return min(n, 1 << 20)
    return i2c_default_num_threads()


def get_num_threads():
    """Return the number of threads every kernel call uses."""
    return _num_threads


def set_num_threads(n):
    """Set the number of threads every kernel call uses (a positive int).

    Results do not depend on it.  Without OpenMP every call is serial
    whatever the setting.  Returns the previous value.
    """
    global _num_threads
    if isinstance(n, bool):
        raise TypeError(f"num_threads must be an integer, got {n!r}")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(
            f"num_threads must be an integer, got {type(n).__name__} {n!r}"
        ) from None
    if n < 1:
        raise ValueError(f"num_threads must be positive, got {n}")
    if n > (1 << 20):
        raise ValueError(f"num_threads is too large: {n}")
    old = _num_threads
    if _forked and n > 1:
        import warnings

        warnings.warn(
            "im2col_ext: this process was forked; GNU OpenMP cannot start "
            "threads in a forked child (it would hang), so the kernels stay "
            "single-threaded here. Use the 'spawn' or 'forkserver' start "
            "method for parallel kernels in worker processes.",
            RuntimeWarning,
            stacklevel=2,
        )
        n = 1
    _num_threads = n
    return old


_num_threads = _default_num_threads()

# A forked child inherits the parent's OpenMP thread pool as dead threads:
# libgomp hangs in its next parallel region.  Serial calls are safe, so a
# forked child runs every kernel on one thread.
cdef bint _forked = False


def _after_fork_in_child():
    global _num_threads, _forked
    _forked = True
    _num_threads = 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# ---------------------------------------------------------------- helpers

cdef str _kind(arrays):
    """'f' or 'd', the common dtype char of ``arrays``; TypeError otherwise."""
    ch = arrays[0].dtype.char
    if ch != "f" and ch != "d":
        raise TypeError(
            f"the C backend supports float32 and float64, got {arrays[0].dtype}"
        )
    for a in arrays[1:]:
        if a.dtype.char != ch:
            raise TypeError(
                f"arrays must share one dtype, got {arrays[0].dtype} and {a.dtype}"
            )
    return ch


cdef int _fill(i2c_geom *geo, g) except -1:
    geo.n = g.n
    geo.c = g.c
    geo.h = g.h
    geo.w = g.w
    geo.v = g.v
    geo.kh = g.kh
    geo.kw = g.kw
    geo.oh = g.oh
    geo.ow = g.ow
    geo.sh = g.sh
    geo.sw = g.sw
    geo.ph = g.ph
    geo.pw = g.pw
    geo.dh = g.dh
    geo.dw = g.dw
    cdef int i
    for i in range(5):
        geo.xs[i] = 0
    for i in range(7):
        geo.cs[i] = 0
    return 0


# The pooling kernels take C-contiguous out / argmax / dout / dx (the API
# allocates them so); any other view is refused by the typed memoryviews
# with a ValueError.

cdef inline void _el_strides(int64_t *dst, Py_ssize_t *strides, int nd,
                             Py_ssize_t itemsize) noexcept nogil:
    cdef int i
    for i in range(nd):
        dst[i] = strides[i] // itemsize


# ---------------------------------------------------------------- kernels

#: Element sizes (bytes) of the compiled gathers: any dtype of these sizes.
GATHER_ITEMSIZES = (1, 2, 4, 8, 16)

def _native(code):
    return ("<" if sys.byteorder == "little" else ">") + code if code[0] != "|" else code


#: (cols dtype.str, image dtype.str) of the compiled accumulations, native
#: byte order: same-type float32/float64/int64/uint64 sums, the small
#: integers (bool as uint8) widened to 64 bits element by element, and
#: float16 summed in float32 (np.sum's accumulators).
ACCUMULATE_PAIRS = tuple((_native(a), _native(b)) for a, b in (
    ("f4", "f4"), ("f8", "f8"), ("i8", "i8"), ("u8", "u8"),
    ("|i1", "i8"), ("i2", "i8"), ("i4", "i8"), ("|u1", "i8"),
    ("|u1", "u8"), ("u2", "u8"), ("u4", "u8"), ("|b1", "i8"), ("f2", "f4"),
))


cdef int _set_window(i2c_win *w, int64_t n, int64_t c, int64_t v, size, k, o, s, p, d) except -1:
    """The extents and window parameters of ``w`` (3-tuples each); strides are the caller's."""
    cdef int i
    w.n = n
    w.c = c
    w.v = v
    for i in range(3):
        w.size[i] = size[i]
        w.k[i] = k[i]
        w.o[i] = o[i]
        w.s[i] = s[i]
        w.p[i] = p[i]
        w.d[i] = d[i]
    return 0


cdef int _fill_win(i2c_win *w, x6, cols9, spec, void **xp, void **cp) except -1:
    """Fill ``w`` from the kernel spec and the arrays' buffers (element strides).

    The buffers are taken without a format (PyBUF_STRIDES), so any dtype
    works; ``cols9`` is read (only ``accumulate`` writes ``x6``, which
    asks for a writable buffer there).
    """
    size, k, o, s, p, d = spec
    cdef Py_buffer xb, cb
    cdef int i
    PyObject_GetBuffer(x6, &xb, PyBUF_STRIDES)
    try:
        PyObject_GetBuffer(cols9, &cb, PyBUF_STRIDES)
    except BaseException:
        PyBuffer_Release(&xb)
        raise
    try:
        if xb.ndim != 6 or cb.ndim != 9:
            raise ValueError("x6 must be 6-D and cols9 9-D")
        _set_window(w, xb.shape[0], xb.shape[1], xb.shape[5], size, k, o, s, p, d)
        for i in range(6):
            w.xs[i] = xb.strides[i] // xb.itemsize
        for i in range(9):
            w.cs[i] = cb.strides[i] // cb.itemsize
        xp[0] = xb.buf
        cp[0] = cb.buf
    finally:
        PyBuffer_Release(&xb)
        PyBuffer_Release(&cb)
    return 0


#: The padding modes of :func:`gather` and their C codes (``I2C_PAD_*``).
PADDING_MODES = {
    "zeros": I2C_PAD_ZEROS, "constant": I2C_PAD_CONSTANT, "reflect": I2C_PAD_REFLECT,
    "replicate": I2C_PAD_REPLICATE, "circular": I2C_PAD_CIRCULAR,
}


def gather(x6, cols9, spec, mode="zeros", value=None, fresh=False):
    """Fill ``cols9`` (n, c, k0, k1, k2, o0, o1, o2, v) from the image ``x6`` (n, c, s0, s1, s2, v).

    ``spec`` is ``(size, kernel, out, stride, low_pad, dilation)``, each a
    3-tuple.  Any dtype whose item size is in :data:`GATHER_ITEMSIZES`; the
    arrays share it and are aligned to ``min(itemsize, 8)``.  ``mode`` is a
    key of :data:`PADDING_MODES` (the API has checked that the padding fits
    it); ``value`` the fill of "constant" (a scalar of ``x6.dtype``, default
    0), whose bytes are written.  ``fresh``: ``cols9`` was just allocated (its
    pages are not mapped in yet), which chooses regular stores over streaming
    ones for channels-first planes (I2C_FRESH_COLS).
    """
    cdef i2c_win w
    cdef void *xp
    cdef void *cp
    cdef const void *vp = NULL
    cdef int cmode = PADDING_MODES[mode]
    cdef int flags = I2C_FRESH_COLS if fresh else 0
    _fill_win(&w, x6, cols9, spec, &xp, &cp)
    cdef int isz = x6.itemsize
    if cols9.itemsize != isz:
        raise TypeError(f"x and cols must share one item size, got {isz} and {cols9.itemsize}")
    if cmode == I2C_PAD_CONSTANT:
        fill = np.zeros(1, dtype=x6.dtype)
        if value is not None:
            fill[0] = value
    else:
        fill = np.zeros(1, dtype=np.uint8)
    cdef const unsigned char[::1] fbytes = fill.view(np.uint8)
    vp = <const void *>&fbytes[0]
    with nogil:
        if isz == 1:
            i2c_gather_mode_b1(<const void *>xp, <void *>cp, &w, cmode | flags, vp,
                               _num_threads)
        elif isz == 2:
            i2c_gather_mode_b2(<const void *>xp, <void *>cp, &w, cmode | flags, vp,
                               _num_threads)
        elif isz == 4:
            i2c_gather_mode_b4(<const void *>xp, <void *>cp, &w, cmode | flags, vp,
                               _num_threads)
        elif isz == 8:
            i2c_gather_mode_b8(<const void *>xp, <void *>cp, &w, cmode | flags, vp,
                               _num_threads)
        elif isz == 16:
            i2c_gather_mode_b16(<const void *>xp, <void *>cp, &w, cmode | flags, vp,
                               _num_threads)
        else:
            with gil:
                raise TypeError(f"the C gather has no kernel for {isz}-byte items")


def accumulate(cols9, x6, spec):
    """Overwrite ``x6`` with the adjoint of :func:`gather` applied to ``cols9``.

    ``(cols9.dtype.str, x6.dtype.str)`` must be one of :data:`ACCUMULATE_PAIRS`.
    """
    cdef i2c_win w
    cdef void *xp
    cdef void *cp
    if not x6.flags.writeable:
        raise ValueError("x6 is read-only")
    _fill_win(&w, x6, cols9, spec, &xp, &cp)
    key = (cols9.dtype.str, x6.dtype.str)
    if key not in ACCUMULATE_PAIRS:
        raise TypeError(
            f"the C accumulate has no kernel for cols {cols9.dtype} into {x6.dtype}")
    cdef int which = ACCUMULATE_PAIRS.index(key)
    with nogil:
        if which == 0:
            i2c_accumulate_f32(<const float *>cp, <float *>xp, &w, _num_threads)
        elif which == 1:
            i2c_accumulate_f64(<const double *>cp, <double *>xp, &w, _num_threads)
        elif which == 2:
            i2c_accumulate_i64(<const int64_t *>cp, <int64_t *>xp, &w, _num_threads)
        elif which == 3:
            i2c_accumulate_u64(<const uint64_t *>cp, <uint64_t *>xp, &w, _num_threads)
        elif which == 4:
            i2c_accumulate_i8_i64(<const int8_t *>cp, <int64_t *>xp, &w, _num_threads)
        elif which == 5:
            i2c_accumulate_i16_i64(<const int16_t *>cp, <int64_t *>xp, &w, _num_threads)
        elif which == 6:
            i2c_accumulate_i32_i64(<const int32_t *>cp, <int64_t *>xp, &w, _num_threads)
        elif which == 7 or which == 11:
            i2c_accumulate_u8_i64(<const uint8_t *>cp, <int64_t *>xp, &w, _num_threads)
        elif which == 8:
            i2c_accumulate_u8_u64(<const uint8_t *>cp, <uint64_t *>xp, &w, _num_threads)
        elif which == 9:
            i2c_accumulate_u16_u64(<const uint16_t *>cp, <uint64_t *>xp, &w, _num_threads)
        elif which == 10:
            i2c_accumulate_u32_u64(<const uint32_t *>cp, <uint64_t *>xp, &w, _num_threads)
        else:
            i2c_accumulate_f16_f32(<const uint16_t *>cp, <float *>xp, &w, _num_threads)


cdef void _max_fwd(const real[:, :, :, :] x4, real[:, :, :, ::1] out4,
                   int64_t[:, :, :, ::1] arg4, i2c_geom *geo) noexcept:
    _el_strides(geo.xs, x4.strides, 4, sizeof(real))
    with nogil:
        if real is float:
            i2c_max_pool_forward_f32(&x4[0, 0, 0, 0], &out4[0, 0, 0, 0], &arg4[0, 0, 0, 0],
                                     geo, _num_threads)
        else:
            i2c_max_pool_forward_f64(&x4[0, 0, 0, 0], &out4[0, 0, 0, 0], &arg4[0, 0, 0, 0],
                                     geo, _num_threads)


def max_pool_forward(x4, out4, argmax4, g):
    """Window maximum into ``out4`` and its flat in-plane index into ``argmax4``."""
    cdef i2c_geom geo
    _fill(&geo, g)
    if _kind((x4, out4)) == "f":
        _max_fwd[float](x4, out4, argmax4, &geo)
    else:
        _max_fwd[double](x4, out4, argmax4, &geo)


cdef void _max_bwd(const real[:, :, :, ::1] dout4, const int64_t[:, :, :, ::1] arg4,
                   real[:, :, :, ::1] dx4, i2c_geom *geo) noexcept:
    with nogil:
        if real is float:
            i2c_max_pool_scatter_f32(&dout4[0, 0, 0, 0], &arg4[0, 0, 0, 0], &dx4[0, 0, 0, 0],
                                     geo, _num_threads)
        else:
            i2c_max_pool_scatter_f64(&dout4[0, 0, 0, 0], &arg4[0, 0, 0, 0], &dx4[0, 0, 0, 0],
                                     geo, _num_threads)


def max_pool_scatter(dout4, argmax4, dx4, g):
    """Overwrite ``dx4`` with ``dout4`` added at the ``argmax4`` positions."""
    cdef i2c_geom geo
    _fill(&geo, g)
    if _kind((dout4, dx4)) == "f":
        _max_bwd[float](dout4, argmax4, dx4, &geo)
    else:
        _max_bwd[double](dout4, argmax4, dx4, &geo)


cdef void _max_tie_bwd(const real[:, :, :, :] x4, const real[:, :, :, ::1] out4,
                       const real[:, :, :, ::1] dout4, real[:, :, :, ::1] dx4,
                       i2c_geom *geo) noexcept:
    _el_strides(geo.xs, x4.strides, 4, sizeof(real))
    with nogil:
        if real is float:
            i2c_max_pool_tie_scatter_f32(&x4[0, 0, 0, 0], &out4[0, 0, 0, 0], &dout4[0, 0, 0, 0],
                                         &dx4[0, 0, 0, 0], geo, _num_threads)
        else:
            i2c_max_pool_tie_scatter_f64(&x4[0, 0, 0, 0], &out4[0, 0, 0, 0], &dout4[0, 0, 0, 0],
                                         &dx4[0, 0, 0, 0], geo, _num_threads)


def max_pool_tie_scatter(x4, out4, dout4, dx4, g):
    """Overwrite ``dx4`` with ``dout4`` shared among the tied maxima of every window."""
    cdef i2c_geom geo
    _fill(&geo, g)
    if _kind((x4, out4, dout4, dx4)) == "f":
        _max_tie_bwd[float](x4, out4, dout4, dx4, &geo)
    else:
        _max_tie_bwd[double](x4, out4, dout4, dx4, &geo)


cdef void _avg_fwd(const real[:, :, :, :] x4, real[:, :, :, ::1] out4,
                   i2c_geom *geo) noexcept:
    _el_strides(geo.xs, x4.strides, 4, sizeof(real))
    with nogil:
        if real is float:
            i2c_avg_pool_forward_f32(&x4[0, 0, 0, 0], &out4[0, 0, 0, 0], geo, _num_threads)
        else:
            i2c_avg_pool_forward_f64(&x4[0, 0, 0, 0], &out4[0, 0, 0, 0], geo, _num_threads)


def avg_pool_forward(x4, out4, g):
    """Window mean (padding counted in the divisor) into ``out4``."""
    cdef i2c_geom geo
    _fill(&geo, g)
    if _kind((x4, out4)) == "f":
        _avg_fwd[float](x4, out4, &geo)
    else:
        _avg_fwd[double](x4, out4, &geo)


cdef void _avg_bwd(const real[:, :, :, ::1] dout4, real[:, :, :, ::1] dx4,
                   i2c_geom *geo) noexcept:
    with nogil:
        if real is float:
            i2c_avg_pool_scatter_f32(&dout4[0, 0, 0, 0], &dx4[0, 0, 0, 0], geo, _num_threads)
        else:
            i2c_avg_pool_scatter_f64(&dout4[0, 0, 0, 0], &dx4[0, 0, 0, 0], geo, _num_threads)


def avg_pool_scatter(dout4, dx4, g):
    """Overwrite ``dx4`` with the gradient of :func:`avg_pool_forward`."""
    cdef i2c_geom geo
    _fill(&geo, g)
    if _kind((dout4, dx4)) == "f":
        _avg_bwd[float](dout4, dx4, &geo)
    else:
        _avg_bwd[double](dout4, dx4, &geo)


# ======================================================================
# Winograd F(2x2, 3x3) and F(4x4, 3x3) transforms (src_c/winograd.h), for
# im2col_ext._winograd.
# A self-contained section: its own cimports, helpers and wrappers.  Every
# array is C-contiguous and allocated by the caller; ``wg`` is the tuple
# (n, h, w, ph, pw, oh, ow, th, tw, m) of _winograd.WinoGeometry.
# ======================================================================

from im2col_ext._kernels cimport (
    i2c_wino_geom,
    i2c_wino_input_f32, i2c_wino_input_f64,
    i2c_wino_output_f32, i2c_wino_output_f64,
    i2c_wino_output_adjoint_f32, i2c_wino_output_adjoint_f64,
    i2c_wino_input_adjoint_f32, i2c_wino_input_adjoint_f64,
)


cdef void _wino_fill(i2c_wino_geom *geo, wg, tiles) except *:
    """The geometry tuple ``wg`` and the row stride of the (T, C, P) array ``tiles``."""
    geo.n, geo.h, geo.w, geo.ph, geo.pw, geo.oh, geo.ow, geo.th, geo.tw, geo.m = wg
    if geo.m != 2 and geo.m != 4:
        raise ValueError(f"the Winograd tile size m must be 2 or 4, got {geo.m}")
    geo.ks = tiles.strides[0] // tiles.itemsize
    if (tiles.ndim != 3 or tiles.shape[0] != (geo.m + 2) ** 2 or tiles.strides[0] % tiles.itemsize
            or not tiles[0].flags.c_contiguous or geo.ks < tiles.shape[1] * tiles.shape[2]
            or tiles.shape[2] != geo.n * geo.th * geo.tw):
        raise ValueError("a tile array must be ((m + 2)**2, C, n*th*tw) with C-contiguous rows")


cdef void _wino_in(const real[:, :, :, ::1] x, real[:, :, :] tiles,
                   i2c_wino_geom *geo) noexcept:
    cdef int64_t c = tiles.shape[1]
    with nogil:
        if real is float:
            i2c_wino_input_f32(&x[0, 0, 0, 0], &tiles[0, 0, 0], c, geo, _num_threads)
        else:
            i2c_wino_input_f64(&x[0, 0, 0, 0], &tiles[0, 0, 0], c, geo, _num_threads)


def winograd_input(x, tiles, wg):
    """Fill ``tiles`` (T, C, P) with the input transforms of ``x`` (N, C, H, W)."""
    cdef i2c_wino_geom geo
    _wino_fill(&geo, wg, tiles)
    if _kind((x, tiles)) == "f":
        _wino_in[float](x, tiles, &geo)
    else:
        _wino_in[double](x, tiles, &geo)


cdef void _wino_out(const real[:, :, :] m, const real[::1] bias, real[:, :, :, ::1] y,
                    i2c_wino_geom *geo) noexcept:
    cdef int64_t c = m.shape[1]
    cdef const real *b = &bias[0] if bias.shape[0] else NULL
    with nogil:
        if real is float:
            i2c_wino_output_f32(&m[0, 0, 0], b, &y[0, 0, 0, 0], c, geo, _num_threads)
        else:
            i2c_wino_output_f64(&m[0, 0, 0], b, &y[0, 0, 0, 0], c, geo, _num_threads)


def winograd_output(m, bias, y, wg):
    """Fill ``y`` (N, F, oh, ow) from the products ``m`` (T, F, P), plus ``bias`` (F,) or ().

    An empty ``bias`` (shape (0,)) adds nothing.
    """
    cdef i2c_wino_geom geo
    _wino_fill(&geo, wg, m)
    if _kind((m, bias, y)) == "f":
        _wino_out[float](m, bias, y, &geo)
    else:
        _wino_out[double](m, bias, y, &geo)


cdef void _wino_out_adj(const real[:, :, :, ::1] dy, real[:, :, :] dm,
                        i2c_wino_geom *geo) noexcept:
    cdef int64_t c = dm.shape[1]
    with nogil:
        if real is float:
            i2c_wino_output_adjoint_f32(&dy[0, 0, 0, 0], &dm[0, 0, 0], c, geo, _num_threads)
        else:
            i2c_wino_output_adjoint_f64(&dy[0, 0, 0, 0], &dm[0, 0, 0], c, geo, _num_threads)


def winograd_output_adjoint(dy, dm, wg):
    """Fill ``dm`` (T, F, P) with the adjoint output transform of ``dy`` (N, F, oh, ow)."""
    cdef i2c_wino_geom geo
    _wino_fill(&geo, wg, dm)
    if _kind((dy, dm)) == "f":
        _wino_out_adj[float](dy, dm, &geo)
    else:
        _wino_out_adj[double](dy, dm, &geo)


cdef void _wino_in_adj(const real[:, :, :] dv, real[:, :, :, ::1] dx,
                       i2c_wino_geom *geo) noexcept:
    cdef int64_t c = dv.shape[1]
    with nogil:
        if real is float:
            i2c_wino_input_adjoint_f32(&dv[0, 0, 0], &dx[0, 0, 0, 0], c, geo, _num_threads)
        else:
            i2c_wino_input_adjoint_f64(&dv[0, 0, 0], &dx[0, 0, 0, 0], c, geo, _num_threads)


def winograd_input_adjoint(dv, dx, wg):
    """Overwrite ``dx`` (N, C, H, W) with the adjoint input transform of ``dv`` (T, C, P)."""
    cdef i2c_wino_geom geo
    _wino_fill(&geo, wg, dv)
    if _kind((dv, dx)) == "f":
        _wino_in_adj[float](dv, dx, &geo)
    else:
        _wino_in_adj[double](dv, dx, &geo)


# ======================================================================
# Direct depthwise convolution (src_c/depthwise.h), for
# im2col_ext._api._depthwise_forward / _depthwise_backward.  Every array is
# C-contiguous (the buffer requests below refuse anything else) and laid
# out as the i2c_win views: x6 / dx6 (n, c, s0, s1, s2, v), out6 / dout6
# (n, c, o0, o1, o2, v), w3 / dw3 (c, K, v), the bias b2 (c, v); ``spec`` is
# ``(size, kernel, out, stride, low_pad, dilation)``, 3-tuples.
# ======================================================================

from im2col_ext._kernels cimport (
    i2c_depthwise_forward_f32, i2c_depthwise_forward_f64,
    i2c_depthwise_backward_f32, i2c_depthwise_backward_f64,
)


cdef void *_dw_ptr(a, bint writable) except? NULL:
    """The data pointer of ``a``, which must be C-contiguous (and writable)."""
    cdef Py_buffer b
    cdef int flags = PyBUF_C_CONTIGUOUS
    cdef void *p
    if writable:
        flags |= PyBUF_WRITABLE
    PyObject_GetBuffer(a, &b, flags)
    p = b.buf
    PyBuffer_Release(&b)
    return p


cdef int _dw_win(i2c_win *w, x6, w3, spec, outs, written) except -1:
    """Check the window, the arrays' shapes and dtypes; fill ``w`` (its strides are unused).

    ``outs`` is a sequence of ``(array, name, which)`` with ``which`` "o"
    (output shaped), "s" (image shaped), "w" (taps shaped) or "b" (bias,
    ``(c, v)``); the arrays named in ``written`` must not overlap any other.
    Contiguity and writability are checked when the buffers are taken
    (:func:`_dw_ptr`).  Every index the kernels compute stays below 2**62.
    """
    size, k, o, s, p, d = (tuple(int(e) for e in a) for a in spec)
    cdef int i
    if not all(len(a) == 3 for a in (size, k, o, s, p, d)):
        raise ValueError("spec must hold six 3-tuples")
    if (min(size + k + s + d + o) < 1 or min(p) < 0
            or max(max((o[i] - 1) * s[i] + (k[i] - 1) * d[i], p[i], size[i]) for i in range(3))
            >= (1 << 62)):
        raise ValueError(f"invalid depthwise window {spec}")
    if x6.ndim != 6 or w3.ndim != 3:
        raise ValueError("x6 must be 6-D and w3 3-D")
    n, c, v = x6.shape[0], x6.shape[1], x6.shape[5]
    kk = k[0] * k[1] * k[2]
    shapes = {"s": (n, c) + size + (v,), "o": (n, c) + o + (v,), "w": (c, kk, v), "b": (c, v)}
    if tuple(x6.shape) != shapes["s"]:
        raise ValueError(f"x6 has shape {x6.shape}, expected {shapes['s']} for {spec}")
    if tuple(w3.shape) != shapes["w"]:
        raise ValueError(f"w3 has shape {w3.shape}, expected {shapes['w']}")
    for a, name, which in outs:
        if tuple(a.shape) != shapes[which]:
            raise ValueError(f"{name} has shape {a.shape}, expected {shapes[which]}")
    arrays = (x6, w3) + tuple(a for a, _, _ in outs)
    names = ("x6", "w3") + tuple(name for _, name, _ in outs)
    _kind(arrays)
    for a, name in zip(arrays, names):
        if not a.dtype.isnative or not a.flags.aligned:
            raise ValueError(f"{name} must be aligned and in native byte order")
    for i in range(len(arrays)):
        if names[i] in written:
            for j in range(len(arrays)):
                if j != i and np.may_share_memory(arrays[i], arrays[j]):
                    raise ValueError(f"{names[i]} must not overlap {names[j]}")
    _set_window(w, n, c, v, size, k, o, s, p, d)
    for i in range(6):
        w.xs[i] = 0
    for i in range(9):
        w.cs[i] = 0
    return 0


def depthwise_forward(x6, w3, b2, out6, spec):
    """Overwrite ``out6`` with the depthwise convolution of ``x6`` with the taps ``w3``, plus ``b2``.

    ``out6[n, c, o, v] = sum over the taps t in row-major order whose source
    o*s + k*d - p lies inside x6 of w3[c, t, v] * x6[n, c, source, v]``
    (zero padding; see src_c/depthwise.h), then ``+ b2[c, v]`` unless
    ``b2`` is None.  float32 or float64, one dtype.
    """
    cdef i2c_win w
    outs = ((out6, "out6", "o"),)
    if b2 is not None:
        outs += ((b2, "b2", "b"),)
    _dw_win(&w, x6, w3, spec, outs, ("out6",))
    if out6.size == 0:
        return
    cdef bint f32 = x6.dtype.char == "f"
    cdef const void *xp = _dw_ptr(x6, False)
    cdef const void *wp = _dw_ptr(w3, False)
    cdef const void *bp = NULL if b2 is None else _dw_ptr(b2, False)
    cdef void *op = _dw_ptr(out6, True)
    with nogil:
        if f32:
            i2c_depthwise_forward_f32(<const float *>xp, <const float *>wp, <const float *>bp,
                                      <float *>op, &w, _num_threads)
        else:
            i2c_depthwise_forward_f64(<const double *>xp, <const double *>wp,
                                      <const double *>bp, <double *>op, &w, _num_threads)


def depthwise_backward(x6, w3, dout6, dx6, dw3, spec):
    """Overwrite ``dx6`` and ``dw3`` with the gradients of :func:`depthwise_forward` for ``dout6``."""
    cdef i2c_win w
    _dw_win(&w, x6, w3, spec, ((dout6, "dout6", "o"), (dx6, "dx6", "s"), (dw3, "dw3", "w")),
            ("dx6", "dw3"))
    if x6.size == 0:
        dw3[...] = 0
        return
    cdef bint f32 = x6.dtype.char == "f"
    cdef const void *xp = _dw_ptr(x6, False)
    cdef const void *wp = _dw_ptr(w3, False)
    cdef const void *dp = _dw_ptr(dout6, False)
    cdef void *dxp = _dw_ptr(dx6, True)
    cdef void *dwp = _dw_ptr(dw3, True)
    with nogil:
        if f32:
            i2c_depthwise_backward_f32(<const float *>xp, <const float *>wp, <const float *>dp,
                                       <float *>dxp, <float *>dwp, &w, _num_threads)
        else:
            i2c_depthwise_backward_f64(<const double *>xp, <const double *>wp,
                                       <const double *>dp, <double *>dxp, <double *>dwp, &w,
                                       _num_threads)
