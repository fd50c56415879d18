"""The NumPy backend: the fallback kernels, and the oracle the C kernels are tested against.

Each function fills arrays that the public API has already validated and
allocated; none of them allocates its result or checks its arguments.  The
signatures are exactly those of the compiled backend (``_cext.pyx``), so the
API can call either one.

Array views (built by the API, never copied here):

* ``x5``    the image, shape ``(n, c, h, w, v)``, any strides;
* ``cols7`` the columns, shape ``(n, c, kh, kw, oh, ow, v)``, any strides;
* ``x4``, ``out4``, ``argmax4``, ``dout4``, ``dx4``: pooling arrays of shape
  ``(n, c, h, w)`` or ``(n, c, oh, ow)``.

Work is done with ``kh*kw`` strided slice copies or additions (never
``np.add.at`` or a fancy-index gather), in a fixed order so that the results
are bitwise equal to the C kernels': for every output pixel, col2im adds the
contributions of taps ``(ky, kx)`` in row-major order onto a zero.
"""

import numpy as np

name = "numpy"


def _tap(g, ky, kx):
    """Slices of the padded image read by tap ``(ky, kx)`` of every window."""
    y0 = ky * g.dh
    x0 = kx * g.dw
    return (
        slice(y0, y0 + g.sh * (g.oh - 1) + 1, g.sh),
        slice(x0, x0 + g.sw * (g.ow - 1) + 1, g.sw),
    )


def _taps(g):
    """``(ky, kx, row slice, column slice)`` of every tap, row-major."""
    return [(ky, kx) + _tap(g, ky, kx) for ky in range(g.kh) for kx in range(g.kw)]


def _padded(x5, g, fill):
    if g.ph == 0 and g.pw == 0:
        return x5
    xp = np.full(
        (g.n, g.c, g.h + 2 * g.ph, g.w + 2 * g.pw, x5.shape[4]), fill, dtype=x5.dtype
    )
    xp[:, :, g.ph:g.ph + g.h, g.pw:g.pw + g.w] = x5
    return xp


# Work on blocks of (n, c) planes whose padded image fits in a fast cache, so
# that the kh*kw passes over it hit the cache and only the columns stream
# from memory.
_BLOCK_BYTES = 1 << 18


def _blocks(g, itemsize):
    plane = (g.h + 2 * g.ph) * (g.w + 2 * g.pw) * g.v * itemsize
    cb = max(1, min(g.c, _BLOCK_BYTES // max(plane, 1)))
    nb = max(1, min(g.n, _BLOCK_BYTES // max(plane * cb, 1)))
    for n0 in range(0, g.n, nb):
        for c0 in range(0, g.c, cb):
            yield slice(n0, min(n0 + nb, g.n)), slice(c0, min(c0 + cb, g.c))


def im2col(x5, cols7, g):
    """``cols7[n,c,ky,kx,oy,ox,v] = x5[n,c,oy*sh+ky*dh-ph, ox*sw+kx*dw-pw, v]``, 0 outside."""
    taps = _taps(g)
    padded = g.ph or g.pw
    buf = None  # one zero-bordered scratch block, reused: only its interior changes
    for nb, cb in _blocks(g, x5.itemsize):
        src = x5[nb, cb]
        if padded:
            shape = (src.shape[0], src.shape[1]) + (g.h + 2 * g.ph, g.w + 2 * g.pw, src.shape[4])
            if buf is None or buf.shape != shape:
                buf = np.zeros(shape, dtype=x5.dtype)
            buf[:, :, g.ph:g.ph + g.h, g.pw:g.pw + g.w] = src
            src = buf
        dst = cols7[nb, cb]
        for ky, kx, ys, xs in taps:
            dst[:, :, ky, kx] = src[:, :, ys, xs]


@np.errstate(invalid="ignore", over="ignore")
def col2im(cols7, x5, g):
    """Overwrite ``x5`` with the adjoint of :func:`im2col` applied to ``cols7``."""
    taps = _taps(g)
    buf = None
    for nb, cb in _blocks(g, x5.itemsize):
        src = cols7[nb, cb]
        shape = (src.shape[0], src.shape[1]) + (g.h + 2 * g.ph, g.w + 2 * g.pw, src.shape[6])
        if buf is None or buf.shape != shape:
            buf = np.empty(shape, dtype=x5.dtype)
        buf[...] = 0
        for ky, kx, ys, xs in taps:
            buf[:, :, ys, xs] += src[:, :, ky, kx]
        x5[nb, cb] = buf[:, :, g.ph:g.ph + g.h, g.pw:g.pw + g.w]


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
    col2im(cols7, dx4[..., None], g)
