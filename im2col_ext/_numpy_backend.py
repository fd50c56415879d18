"""The NumPy backend: the fallback kernels, and the oracle the C kernels are tested against.

Each function fills arrays that the public API has already validated and
allocated; none of them allocates its result or checks its arguments.  The
signatures are exactly those of the compiled backend (``_cext.pyx``), so the
API can call either one.

Array views (built by the API, never copied here):

* ``x6``    the image, shape ``(n, c, s0, s1, s2, v)``, any strides;
* ``cols9`` the columns, shape ``(n, c, k0, k1, k2, o0, o1, o2, v)``, any strides;
* ``spec``  ``(size, kernel, out, stride, low_pad, dilation)``, 3-tuples
  (``Window.kernel_spec()``: 1-D and 2-D windows have leading unit axes);
* ``x4``, ``out4``, ``argmax4``, ``dout4``, ``dx4``: pooling arrays of shape
  ``(n, c, h, w)`` or ``(n, c, oh, ow)``.

Work is done with one strided slice copy or addition per kernel tap (never
``np.add.at`` or a fancy-index gather), in a fixed order so that the results
are bitwise equal to the C kernels': for every output pixel, accumulate adds
the contributions of taps ``(k0, k1, k2)`` in row-major order onto a zero.
"""

import numpy as np

from . import _padding

name = "numpy"


def _window_major(x6, cols9, spec):
    """The C kernels' channels-last condition (``i2c_window_major``), under
    which their accumulation takes the taps in reverse row-major order."""
    v = x6.shape[5]
    xi, ci = x6.itemsize, cols9.itemsize
    return (v > 1 and x6.strides[5] == xi and cols9.strides[8] == ci
            and x6.strides[4] == v * xi and cols9.strides[4] == v * ci and spec[5][2] == 1)


def _taps(spec, reverse=False):
    """``(k, slices)`` of every tap ``k`` (row-major, or reversed): the
    slices of the padded image that tap ``k`` reads for every window."""
    size, kernel, out, stride, low, dil = spec
    taps = []
    order = list(np.ndindex(*kernel))
    if reverse:
        order.reverse()
    for k in order:
        taps.append((k, tuple(
            slice(k[a] * dil[a], k[a] * dil[a] + stride[a] * (out[a] - 1) + 1, stride[a])
            for a in range(3))))
    return taps


def _padded_shape(spec):
    """Spatial extent of the padded image, just large enough for every window."""
    size, kernel, out, stride, low, dil = spec
    return tuple(max(low[a] + size[a], (out[a] - 1) * stride[a] + (kernel[a] - 1) * dil[a] + 1)
                 for a in range(3))


def _interior(spec):
    size, _, _, _, low, _ = spec
    return tuple(slice(low[a], low[a] + size[a]) for a in range(3))


# Work on blocks of (n, c) planes whose padded image fits in a fast cache, so
# that the taps' passes over it hit the cache and only the columns stream
# from memory.
_BLOCK_BYTES = 1 << 18


def _blocks(n, c, plane_bytes):
    cb = max(1, min(c, _BLOCK_BYTES // max(plane_bytes, 1)))
    nb = max(1, min(n, _BLOCK_BYTES // max(plane_bytes * cb, 1)))
    for n0 in range(0, n, nb):
        for c0 in range(0, c, cb):
            yield slice(n0, min(n0 + nb, n)), slice(c0, min(c0 + cb, c))


def gather(x6, cols9, spec, mode="zeros", value=None, fresh=False):
    """``cols9[n,c,k0,k1,k2,o0,o1,o2,v] = x6[n,c,i0,i1,i2,v]``, ``i_a = o_a*s_a + k_a*d_a - p_a``.

    Outside the image: 0 (``mode="zeros"``), or what padding ``mode`` reads
    there (``value`` for "constant"): the zero-padded gather, then the
    border blocks rewritten from small padded strips
    (:func:`._padding.gather_padded`).  ``fresh`` (a new ``cols9``) only
    guides the C kernels' choice of stores; the result is the same.
    """
    _padding.gather_padded(x6, cols9, spec, mode, value, _gather_zeros)


def _gather_zeros(x6, cols9, spec):
    """:func:`gather` with zero padding."""
    taps = _taps(spec)
    pshape = _padded_shape(spec)
    inner = _interior(spec)
    padded = pshape != tuple(spec[0])
    n, c, v = x6.shape[0], x6.shape[1], x6.shape[5]
    plane = int(np.prod(pshape)) * v * x6.itemsize
    buf = None  # one zero-bordered scratch block, reused: only its interior changes
    for nb, cb in _blocks(n, c, plane):
        src = x6[nb, cb]
        if padded:
            shape = src.shape[:2] + pshape + (v,)
            if buf is None or buf.shape != shape:
                buf = np.zeros(shape, dtype=x6.dtype)
            buf[(slice(None), slice(None)) + inner] = src
            src = buf
        dst = cols9[nb, cb]
        for k, sl in taps:
            dst[(slice(None), slice(None)) + k] = src[(slice(None), slice(None)) + sl]


@np.errstate(invalid="ignore", over="ignore")
def accumulate(cols9, x6, spec):
    """Overwrite ``x6`` with the adjoint of :func:`gather` applied to ``cols9``.

    Every pixel is 0 plus its taps' contributions in row-major tap order
    (the C kernels' order; reversed under :func:`_window_major`).
    """
    taps = _taps(spec, _window_major(x6, cols9, spec))
    pshape = _padded_shape(spec)
    inner = _interior(spec)
    n, c, v = x6.shape[0], x6.shape[1], x6.shape[5]
    plane = int(np.prod(pshape)) * v * x6.itemsize
    buf = None
    for nb, cb in _blocks(n, c, plane):
        src = cols9[nb, cb]
        shape = src.shape[:2] + pshape + (v,)
        if buf is None or buf.shape != shape:
            buf = np.empty(shape, dtype=x6.dtype)
        buf[...] = 0
        for k, sl in taps:
            buf[(slice(None), slice(None)) + sl] += src[(slice(None), slice(None)) + k]
        x6[nb, cb] = buf[(slice(None), slice(None)) + inner]


# -------------------------------------------------------------- pooling (2-D)

def _tap(g, ky, kx):
    """Slices of the padded (h, w) plane read by tap ``(ky, kx)`` of every window."""
    y0 = ky * g.dh
    x0 = kx * g.dw
    return (
        slice(y0, y0 + g.sh * (g.oh - 1) + 1, g.sh),
        slice(x0, x0 + g.sw * (g.ow - 1) + 1, g.sw),
    )


def _spec2d(g):
    """The 3-D kernel spec of a 2-D Geometry."""
    return ((1, g.h, g.w), (1, g.kh, g.kw), (1, g.oh, g.ow), (1, g.sh, g.sw),
            (0, g.ph, g.pw), (1, g.dh, g.dw))


def _padded(x5, g, fill):
    if g.ph == 0 and g.pw == 0:
        return x5
    xp = np.full(
        (g.n, g.c, g.h + 2 * g.ph, g.w + 2 * g.pw, x5.shape[4]), fill, dtype=x5.dtype
    )
    xp[:, :, g.ph:g.ph + g.h, g.pw:g.pw + g.w] = x5
    return xp


def _tap_index(g, ky, kx):
    """Flat in-plane index ``iy*w + ix`` read by tap (ky, kx), and its validity."""
    iy = np.arange(g.oh, dtype=np.int64) * g.sh + (ky * g.dh - g.ph)
    ix = np.arange(g.ow, dtype=np.int64) * g.sw + (kx * g.dw - g.pw)
    valid = ((iy >= 0) & (iy < g.h))[:, None] & ((ix >= 0) & (ix < g.w))[None, :]
    return iy[:, None] * g.w + ix[None, :], valid


def max_pool_forward(x4, out4, argmax4, g):
    """Window maximum and the flat in-plane index ``iy*w + ix`` where it was found.

    Padding never wins.  Scanning taps in row-major order, a value replaces
    the current best when it is greater or NaN; the first valid tap always
    starts the scan (so an all ``-inf`` window points at its first pixel).
    This is PyTorch's CPU rule.  A window without valid pixels (impossible
    under the API's padding limit) would give ``-inf`` and index ``-1``.
    """
    xp = _padded(x4[..., None], g, -np.inf)[..., 0]
    best = np.full(out4.shape, -np.inf, dtype=out4.dtype)
    arg = np.full(out4.shape, -1, dtype=np.int64)
    for ky in range(g.kh):
        for kx in range(g.kw):
            ys, xs = _tap(g, ky, kx)
            val = xp[:, :, ys, xs]
            idx, valid = _tap_index(g, ky, kx)
            upd = (val > best) | np.isnan(val) | ((arg == -1) & valid)
            np.copyto(best, val, where=upd)
            np.copyto(arg, np.broadcast_to(idx, arg.shape), where=upd)
    out4[...] = best
    argmax4[...] = arg


def max_pool_scatter(dout4, argmax4, dx4, g):
    """Overwrite ``dx4`` with ``dout4`` added at the argmax positions.

    Contributions to one pixel are summed in ``(oy, ox)`` order (float64
    accumulation through ``np.bincount``); entries with index -1 are skipped.
    """
    plane = g.h * g.w
    arg = argmax4.reshape(g.n * g.c, g.oh * g.ow)
    keep = arg >= 0
    base = (np.arange(g.n * g.c, dtype=np.int64) * plane)[:, None]
    flat = (arg + base)[keep]
    weights = dout4.reshape(g.n * g.c, g.oh * g.ow)[keep]
    if g.sh >= g.kh and g.sw >= g.kw and g.dh == 1 and g.dw == 1:
        # Windows do not overlap: every pixel gets at most one value.
        dx4[...] = 0
        dx4.reshape(-1)[flat] = weights
        return
    total = np.bincount(flat, weights=weights, minlength=g.n * g.c * plane)
    dx4[...] = total.reshape(dx4.shape)


@np.errstate(invalid="ignore", over="ignore")
def max_pool_tie_scatter(x4, out4, dout4, dx4, g):
    """Overwrite ``dx4`` with ``dout4`` shared among the tied maxima of every window.

    A tap ties when it equals the window's value in ``out4`` (or both are
    NaN); with ``cnt`` tied in-bounds taps, ``share = dout / max(cnt, 1)``
    (in the dtype of ``dout4``) and every in-bounds tap gets ``mask *
    share`` -- so a tap that does not tie gets ``0 * share``, a signed zero
    or NaN, exactly as in the cs231n formula.  Non-overlapping windows store
    their values; overlapping ones add them in ``(oy, ox)`` order onto 0
    (the taps are walked in reverse row-major order for that).  Any dtypes:
    integer ``x4``/``out4`` work with a float ``dout4``/``dx4``.
    """
    padded = bool(g.ph or g.pw)
    xp = _padded(x4[..., None], g, 0)[..., 0]
    nan_out = None
    if out4.dtype.kind == "f":
        nan_out = np.isnan(out4)
        if not nan_out.any():
            nan_out = None
    count = np.zeros(out4.shape, dtype=np.intp)
    ties = {}
    for ky in range(g.kh):
        for kx in range(g.kw):
            ys, xs = _tap(g, ky, kx)
            val = xp[:, :, ys, xs]
            tie = val == out4
            if nan_out is not None:
                tie |= nan_out & np.isnan(val)
            if padded:
                tie &= _tap_index(g, ky, kx)[1]
            count += tie
            ties[ky, kx] = (ys, xs, tie)
    np.maximum(count, 1, out=count)
    share = dout4 / count.astype(dx4.dtype)
    store = g.sh >= g.kh and g.sw >= g.kw and g.dh == 1 and g.dw == 1
    if padded:
        buf = np.zeros((g.n, g.c, g.h + 2 * g.ph, g.w + 2 * g.pw), dtype=dx4.dtype)
    else:
        buf = dx4
        buf[...] = 0
    for ky in reversed(range(g.kh)):
        for kx in reversed(range(g.kw)):
            ys, xs, tie = ties[ky, kx]
            if store:
                np.multiply(tie, share, out=buf[:, :, ys, xs], casting="unsafe")
            else:
                buf[:, :, ys, xs] += tie * share
    if padded:
        dx4[...] = buf[:, :, g.ph:g.ph + g.h, g.pw:g.pw + g.w]


@np.errstate(invalid="ignore", over="ignore")
def avg_pool_forward(x4, out4, g):
    """Window mean with zero padding counted in the divisor ``kh*kw`` (torch's default)."""
    xp = _padded(x4[..., None], g, 0)[..., 0]
    acc = np.zeros(out4.shape, dtype=out4.dtype)
    for ky in range(g.kh):
        for kx in range(g.kw):
            ys, xs = _tap(g, ky, kx)
            acc += xp[:, :, ys, xs]
    np.divide(acc, out4.dtype.type(g.kh * g.kw), out=out4)


@np.errstate(invalid="ignore", over="ignore")
def avg_pool_scatter(dout4, dx4, g):
    """Overwrite ``dx4`` with the gradient of :func:`avg_pool_forward`."""
    grad = dout4 / dout4.dtype.type(g.kh * g.kw)
    cols7 = np.broadcast_to(
        grad[:, :, None, None, :, :, None], (g.n, g.c, g.kh, g.kw, g.oh, g.ow, 1)
    )
    accumulate(cols7[:, :, None, :, :, None], dx4[:, :, None, :, :, None], _spec2d(g))


# ------------------------------------------------------- depthwise convolution

# Bytes of output (forward) or of padded input (backward) per chunk of
# images: the padded copy and the temporaries stay small and are reused.
_DEPTHWISE_CHUNK_BYTES = 4 << 20


def _image_chunks(n, per_image):
    """``slice`` of consecutive images, about ``_DEPTHWISE_CHUNK_BYTES`` of ``per_image`` each."""
    step = max(1, _DEPTHWISE_CHUNK_BYTES // max(1, per_image))
    for lo in range(0, n, step):
        yield slice(lo, min(n, lo + step))


def _zero_padded(x6, spec):
    """``x6`` with the window's zero padding on its spatial axes, and the index of ``x6`` in it."""
    index = (slice(None), slice(None)) + _interior(spec)
    xp = np.zeros(x6.shape[:2] + _padded_shape(spec) + x6.shape[5:], dtype=x6.dtype)
    xp[index] = x6
    return xp, index


def _tap_weight(w3, t):
    """Tap ``t`` of the weights ``(c, K, v)``, shaped to broadcast over ``(n, c, o0, o1, o2, v)``."""
    return w3[:, t][None, :, None, None, None, :]


@np.errstate(invalid="ignore", over="ignore")
def depthwise_forward(x6, w3, b2, out6, spec):
    """``out6[n,c,o,v] = sum_t w3[c,t,v] * x6[n, c, o*s + k_t*d - p, v] + b2[c, v]`` (zero padding).

    The twin of the C kernel (src_c/depthwise.h; layouts there): no columns,
    one strided multiply and one add per tap over a zero-padded copy of a
    chunk of images, taps in row-major order (the first tap's product
    starts the sum), then the bias (``b2`` ``(c, v)``, or None for none).
    """
    n, c, v = x6.shape[0], x6.shape[1], x6.shape[5]
    per_image = c * int(np.prod(spec[2])) * v * out6.itemsize
    taps = _taps(spec)
    tmp = None
    for sl in _image_chunks(n, per_image):
        xp, _ = _zero_padded(x6[sl], spec)
        o = out6[sl]
        if tmp is None or tmp.shape != o.shape:
            tmp = np.empty_like(o)
        for t, (_, tap) in enumerate(taps):
            view = xp[(slice(None), slice(None)) + tap]
            if t == 0:
                np.multiply(view, _tap_weight(w3, t), out=o)
            else:
                np.multiply(view, _tap_weight(w3, t), out=tmp)
                o += tmp
        if b2 is not None:
            o += b2[None, :, None, None, None, :]


@np.errstate(invalid="ignore", over="ignore")
def depthwise_backward(x6, w3, dout6, dx6, dw3, spec):
    """Overwrite ``dx6`` and ``dw3`` with the gradients of :func:`depthwise_forward` for ``dout6``.

    ``dw3[c,t,v]`` is one einsum per tap and chunk of images, summed over the
    chunks in order; ``dx6`` the scattered products ``w * dout`` added tap by
    tap (row-major) into a zeroed padded buffer, then cropped.
    """
    n, c, v = x6.shape[0], x6.shape[1], x6.shape[5]
    per_image = c * int(np.prod(_padded_shape(spec))) * v * x6.itemsize
    taps = _taps(spec)
    dw3[...] = 0
    tmp = None
    for sl in _image_chunks(n, per_image):
        xp, index = _zero_padded(x6[sl], spec)
        d = dout6[sl]
        if tmp is None or tmp.shape != d.shape:
            tmp = np.empty_like(d)
        for t, (_, tap) in enumerate(taps):
            dw3[:, t] += np.einsum("ncijkv,ncijkv->cv", d, xp[(slice(None), slice(None)) + tap])
        dxp = np.zeros_like(xp)
        for t, (_, tap) in enumerate(taps):
            np.multiply(d, _tap_weight(w3, t), out=tmp)
            dxp[(slice(None), slice(None)) + tap] += tmp
        dx6[sl] = dxp[index]
