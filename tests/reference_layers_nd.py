"""Brute-force loop references for the N-d layers, written from the definitions (tests only).

Every function loops over output positions and kernel taps with explicit
bounds checks, channels first, float64, and shares no code with im2col_ext
(the window arithmetic is written out here again).  ``to_last`` /
``to_first`` move the channel axis for the channels-last checks.  Padding
arguments are per-axis ``(low, high)`` pairs.
"""

import itertools
import math

import numpy as np


def to_last(a):
    return np.moveaxis(a, 1, -1)


def to_first(a):
    return np.moveaxis(a, -1, 1)


def _taps(kernel):
    return list(itertools.product(*(range(k) for k in kernel)))


def _grid(shape):
    return list(itertools.product(*(range(s) for s in shape)))


def _inside(idx, size):
    return all(0 <= i < s for i, s in zip(idx, size))


def same_padding(size, kernel, stride, dilation):
    """TensorFlow's 'same': out = ceil(in/stride), the odd unit high."""
    pads = []
    for i, k, s, d in zip(size, kernel, stride, dilation):
        o = -(-i // s)
        total = max((o - 1) * s + (k - 1) * d + 1 - i, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def conv(x, w, b, stride, pad, dilation, groups):
    """out[n, f, o] = b[f] + sum_{c in group(f), k} w[f, c, k] * x[n, c, o*s + k*d - lo]."""
    n, c = x.shape[:2]
    f, cg = w.shape[:2]
    kernel, size = w.shape[2:], x.shape[2:]
    out_sz = [(i + lo + hi - d * (k - 1) - 1) // s + 1
              for i, k, s, (lo, hi), d in zip(size, kernel, stride, pad, dilation)]
    fg = f // groups
    out = np.zeros((n, f) + tuple(out_sz))
    for ni in range(n):
        for fi in range(f):
            g = fi // fg
            for o in _grid(out_sz):
                acc = 0.0 if b is None else float(b[fi])
                for ci in range(cg):
                    for k in _taps(kernel):
                        idx = tuple(oo * s + kk * d - lo for oo, kk, s, d, (lo, _) in
                                    zip(o, k, stride, dilation, pad))
                        if _inside(idx, size):
                            acc += w[(fi, ci) + k] * x[(ni, g * cg + ci) + idx]
                out[(ni, fi) + o] = acc
    return out


def conv_backward(x, w, dout, stride, pad, dilation, groups):
    """(dx, dw, db) of :func:`conv` by the same loops."""
    n = x.shape[0]
    f, cg = w.shape[:2]
    kernel, size = w.shape[2:], x.shape[2:]
    fg = f // groups
    dx = np.zeros(x.shape)
    dw = np.zeros(w.shape)
    for ni in range(n):
        for fi in range(f):
            g = fi // fg
            for o in _grid(dout.shape[2:]):
                d_o = dout[(ni, fi) + o]
                for ci in range(cg):
                    for k in _taps(kernel):
                        idx = tuple(oo * s + kk * d - lo for oo, kk, s, d, (lo, _) in
                                    zip(o, k, stride, dilation, pad))
                        if _inside(idx, size):
                            dx[(ni, g * cg + ci) + idx] += w[(fi, ci) + k] * d_o
                            dw[(fi, ci) + k] += x[(ni, g * cg + ci) + idx] * d_o
    return dx, dw, dout.sum(axis=tuple(i for i in range(dout.ndim) if i != 1))


def conv_transpose(x, w, b, stride, pad, output_padding, groups, dilation):
    """out[n, g*Cog + co, i*s + k*d - lo] += x[n, ci, i] * w[ci, co, k] (ci in group g)."""
    n, cin = x.shape[:2]
    cog = w.shape[1]
    kernel, size = w.shape[2:], x.shape[2:]
    cig = cin // groups
    out_sz = [(i - 1) * s - lo - hi + d * (k - 1) + op + 1 for i, k, s, (lo, hi), op, d in
              zip(size, kernel, stride, pad, output_padding, dilation)]
    out = np.zeros((n, cog * groups) + tuple(out_sz))
    for ni in range(n):
        for ci in range(cin):
            g = ci // cig
            for i in _grid(size):
                for co in range(cog):
                    for k in _taps(kernel):
                        idx = tuple(ii * s + kk * d - lo for ii, kk, s, d, (lo, _) in
                                    zip(i, k, stride, dilation, pad))
                        if _inside(idx, out_sz):
                            out[(ni, g * cog + co) + idx] += x[(ni, ci) + i] * w[(ci, co) + k]
    if b is not None:
        out += b.reshape((-1,) + (1,) * len(size))
    return out


def conv_transpose_backward(x, w, dout, stride, pad, groups, dilation):
    n, cin = x.shape[:2]
    cog = w.shape[1]
    kernel, size = w.shape[2:], x.shape[2:]
    cig = cin // groups
    out_sz = dout.shape[2:]
    dx = np.zeros(x.shape)
    dw = np.zeros(w.shape)
    for ni in range(n):
        for ci in range(cin):
            g = ci // cig
            for i in _grid(size):
                for co in range(cog):
                    for k in _taps(kernel):
                        idx = tuple(ii * s + kk * d - lo for ii, kk, s, d, (lo, _) in
                                    zip(i, k, stride, dilation, pad))
                        if _inside(idx, out_sz):
                            d_o = dout[(ni, g * cog + co) + idx]
                            dx[(ni, ci) + i] += w[(ci, co) + k] * d_o
                            dw[(ci, co) + k] += x[(ni, ci) + i] * d_o
    return dx, dw, dout.sum(axis=tuple(i for i in range(dout.ndim) if i != 1))


def pool_out_size(size, kernel, stride, pad, dilation, ceil_mode):
    """torch's pooling output size (pad: symmetric ints)."""
    out = []
    for i, k, s, p, d in zip(size, kernel, stride, pad, dilation):
        num = i + 2 * p - d * (k - 1) - 1
        o = (math.ceil(num / s) if ceil_mode else num // s) + 1
        if ceil_mode and (o - 1) * s >= i + p:
            o -= 1
        out.append(o)
    return out


def max_pool(x, kernel, stride, pad, dilation, ceil_mode=False):
    """(out, indices): torch's scan (greater or NaN replaces; first in-bounds tap starts; -1 if none)."""
    n, c = x.shape[:2]
    size = x.shape[2:]
    out_sz = pool_out_size(size, kernel, stride, pad, dilation, ceil_mode)
    out = np.full((n, c) + tuple(out_sz), -np.inf)
    ind = np.full(out.shape, -1, dtype=np.int64)
    for ni in range(n):
        for ci in range(c):
            for o in _grid(out_sz):
                best, arg = -np.inf, -1
                for k in _taps(kernel):
                    idx = tuple(oo * s + kk * d - p for oo, kk, s, d, p in
                                zip(o, k, stride, dilation, pad))
                    if not _inside(idx, size):
                        continue
                    v = x[(ni, ci) + idx]
                    if arg == -1 or v > best or np.isnan(v):
                        best, arg = v, int(np.ravel_multi_index(idx, size))
                out[(ni, ci) + o] = best
                ind[(ni, ci) + o] = arg
    return out, ind


def max_pool_backward(dout, ind, x_shape):
    dx = np.zeros(x_shape)
    n, c = x_shape[:2]
    for ni in range(n):
        for ci in range(c):
            plane = dx[ni, ci].reshape(-1)
            for o in _grid(dout.shape[2:]):
                a = ind[(ni, ci) + o]
                if a >= 0:
                    plane[a] += dout[(ni, ci) + o]
    return dx


def avg_pool(x, kernel, stride, pad, ceil_mode=False, count_include_pad=True,
             divisor_override=None):
    """torch's avg_pool: window clipped to the input plus padding; divisor per the flags."""
    n, c = x.shape[:2]
    size = x.shape[2:]
    out_sz = pool_out_size(size, kernel, stride, pad, (1,) * len(size), ceil_mode)
    out = np.zeros((n, c) + tuple(out_sz))
    divs = np.zeros(out_sz)
    for o in _grid(out_sz):
        starts = [oo * s - p for oo, s, p in zip(o, stride, pad)]
        ends = [min(st + k, i + p) for st, k, i, p in zip(starts, kernel, size, pad)]
        incl = math.prod(e - st for st, e in zip(starts, ends))
        excl = math.prod(min(e, i) - max(st, 0) for st, e, i in zip(starts, ends, size))
        divs[o] = divisor_override or (incl if count_include_pad else excl)
        for ni in range(n):
            for ci in range(c):
                acc = 0.0
                for k in _taps(kernel):
                    idx = tuple(st + kk for st, kk in zip(starts, k))
                    if _inside(idx, size):
                        acc += x[(ni, ci) + idx]
                out[(ni, ci) + o] = acc / divs[o]
    return out, divs


def avg_pool_backward(dout, x_shape, kernel, stride, pad, divs):
    dx = np.zeros(x_shape)
    n, c = x_shape[:2]
    size = x_shape[2:]
    for o in _grid(dout.shape[2:]):
        starts = [oo * s - p for oo, s, p in zip(o, stride, pad)]
        for ni in range(n):
            for ci in range(c):
                for k in _taps(kernel):
                    idx = tuple(st + kk for st, kk in zip(starts, k))
                    if _inside(idx, size):
                        dx[(ni, ci) + idx] += dout[(ni, ci) + o] / divs[o]
    return dx


def max_unpool(x, ind, out_size):
    """out[n, c].flat[ind] = x (index -1 places nothing)."""
    n, c = x.shape[:2]
    out = np.zeros((n, c) + tuple(out_size))
    for ni in range(n):
        for ci in range(c):
            plane = out[ni, ci].reshape(-1)
            for i in _grid(x.shape[2:]):
                a = ind[(ni, ci) + i]
                if a >= 0:
                    plane[a] = x[(ni, ci) + i]
    return out


def max_unpool_backward(dout, ind):
    n, c = ind.shape[:2]
    dx = np.zeros(ind.shape)
    for ni in range(n):
        for ci in range(c):
            plane = dout[ni, ci].reshape(-1)
            for i in _grid(ind.shape[2:]):
                a = ind[(ni, ci) + i]
                if a >= 0:
                    dx[(ni, ci) + i] = plane[a]
    return dx


def numerical_gradient(f, x, dout, h=1e-6):
    """Central differences of sum(f(x) * dout) in x (a float64 copy is perturbed)."""
    x = np.array(x, dtype=np.float64, order="C")
    grad = np.zeros_like(x)
    flat = x.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = np.sum(f(x) * dout)
        flat[i] = old - h
        minus = np.sum(f(x) * dout)
        flat[i] = old
        grad.reshape(-1)[i] = (plus - minus) / (2 * h)
    return grad

