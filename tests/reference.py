"""Brute-force references written straight from the definitions, with plain loops.

Tests only: never shipped, never fast.  Each function follows the formula in
its docstring element by element, sharing no code with the package.
"""

import math

import numpy as np


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def out_len(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def unfold(x, kernel, dilation=1, padding=0, stride=1):
    """cols[n, (c*kh + ky)*kw + kx, oy*ow + ox] = x[n, c, oy*sh + ky*dh - ph, ox*sw + kx*dw - pw]."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = map(_pair, (kernel, dilation, padding, stride))
    N, C, H, W = x.shape
    oh, ow = out_len(H, kh, sh, ph, dh), out_len(W, kw, sw, pw, dw)
    cols = np.zeros((N, C * kh * kw, oh * ow), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for ky in range(kh):
                for kx in range(kw):
                    for oy in range(oh):
                        for ox in range(ow):
                            iy = oy * sh + ky * dh - ph
                            ix = ox * sw + kx * dw - pw
                            if 0 <= iy < H and 0 <= ix < W:
                                cols[n, (c * kh + ky) * kw + kx, oy * ow + ox] = x[n, c, iy, ix]
    return cols


def fold(cols, output_size, kernel, dilation=1, padding=0, stride=1):
    """x[n, c, iy, ix] = sum of cols elements that unfold reads from (n, c, iy, ix)."""
    (H, W), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = map(
        _pair, (output_size, kernel, dilation, padding, stride))
    N, K, L = cols.shape
    C = K // (kh * kw)
    oh, ow = out_len(H, kh, sh, ph, dh), out_len(W, kw, sw, pw, dw)
    assert L == oh * ow
    x = np.zeros((N, C, H, W), dtype=cols.dtype)
    for n in range(N):
        for c in range(C):
            for ky in range(kh):
                for kx in range(kw):
                    for oy in range(oh):
                        for ox in range(ow):
                            iy = oy * sh + ky * dh - ph
                            ix = ox * sw + kx * dw - pw
                            if 0 <= iy < H and 0 <= ix < W:
                                x[n, c, iy, ix] += cols[n, (c * kh + ky) * kw + kx, oy * ow + ox]
    return x


def im2col_cs231n(x, fh, fw, p, s):
    """cols[c*fh*fw + ky*fw + kx, (oy*ow + ox)*N + n] = x_padded[n, c, oy*s + ky, ox*s + kx]."""
    N, C, H, W = x.shape
    xp = np.zeros((N, C, H + 2 * p, W + 2 * p), dtype=x.dtype)
    xp[:, :, p:p + H, p:p + W] = x
    oh, ow = (H + 2 * p - fh) // s + 1, (W + 2 * p - fw) // s + 1
    cols = np.zeros((C * fh * fw, oh * ow * N), dtype=x.dtype)
    for c in range(C):
        for ky in range(fh):
            for kx in range(fw):
                for oy in range(oh):
                    for ox in range(ow):
                        for n in range(N):
                            cols[c * fh * fw + ky * fw + kx, (oy * ow + ox) * N + n] = \
                                xp[n, c, oy * s + ky, ox * s + kx]
    return cols


def col2im_cs231n(cols, x_shape, fh, fw, p, s):
    """x_padded[n, c, oy*s + ky, ox*s + kx] += cols[c*fh*fw + ky*fw + kx, (oy*ow + ox)*N + n], cropped."""
    N, C, H, W = x_shape
    xp = np.zeros((N, C, H + 2 * p, W + 2 * p), dtype=cols.dtype)
    oh, ow = (H + 2 * p - fh) // s + 1, (W + 2 * p - fw) // s + 1
    for c in range(C):
        for ky in range(fh):
            for kx in range(fw):
                for oy in range(oh):
                    for ox in range(ow):
                        for n in range(N):
                            xp[n, c, oy * s + ky, ox * s + kx] += \
                                cols[c * fh * fw + ky * fw + kx, (oy * ow + ox) * N + n]
    return xp[:, :, p:p + H, p:p + W]


def col2im_6d(cols, N, C, H, W, HH, WW, pad, stride):
    """x_padded[n, c, oy*s + hh, ox*s + ww] += cols[c, hh, ww, n, oy, ox], cropped."""
    oh, ow = cols.shape[4], cols.shape[5]
    xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    for c in range(C):
        for hh in range(HH):
            for ww in range(WW):
                for n in range(N):
                    for oy in range(oh):
                        for ox in range(ow):
                            xp[n, c, oy * stride + hh, ox * stride + ww] += cols[c, hh, ww, n, oy, ox]
    return xp[:, :, pad:pad + H, pad:pad + W]


def max_pool(x, kernel, stride, padding=0, dilation=1):
    """(out, argmax): window max over in-bounds taps (row-major scan, first max
    wins, NaN wins and propagates), argmax the in-plane index iy*W + ix."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = map(_pair, (kernel, stride, padding, dilation))
    N, C, H, W = x.shape
    oh, ow = out_len(H, kh, sh, ph, dh), out_len(W, kw, sw, pw, dw)
    out = np.empty((N, C, oh, ow), dtype=x.dtype)
    arg = np.empty((N, C, oh, ow), dtype=np.int64)
    for n in range(N):
        for c in range(C):
            for oy in range(oh):
                for ox in range(ow):
                    best, where = None, -1
                    for ky in range(kh):
                        for kx in range(kw):
                            iy = oy * sh + ky * dh - ph
                            ix = ox * sw + kx * dw - pw
                            if not (0 <= iy < H and 0 <= ix < W):
                                continue
                            v = x[n, c, iy, ix]
                            if best is None or v > best or math.isnan(v):
                                best, where = v, iy * W + ix
                    # A window entirely in the padding (possible with dilation):
                    # -inf and no index, as torch gives.
                    out[n, c, oy, ox] = -np.inf if best is None else best
                    arg[n, c, oy, ox] = where
    return out, arg


def max_pool_backward(dout, arg, x_shape):
    """dx[n, c, arg // W, arg % W] += dout[n, c, oy, ox] for every output."""
    N, C, H, W = x_shape
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for n in range(N):
        for c in range(C):
            for oy in range(dout.shape[2]):
                for ox in range(dout.shape[3]):
                    a = arg[n, c, oy, ox]
                    dx[n, c, a // W, a % W] += dout[n, c, oy, ox]
    return dx


def avg_pool(x, kernel, stride, padding=0):
    """out = sum over the window of x (zero padding) / (kh*kw)."""
    (kh, kw), (sh, sw), (ph, pw) = map(_pair, (kernel, stride, padding))
    N, C, H, W = x.shape
    oh, ow = out_len(H, kh, sh, ph, 1), out_len(W, kw, sw, pw, 1)
    out = np.zeros((N, C, oh, ow), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for oy in range(oh):
                for ox in range(ow):
                    acc = 0.0
                    for ky in range(kh):
                        for kx in range(kw):
                            iy, ix = oy * sh + ky - ph, ox * sw + kx - pw
                            if 0 <= iy < H and 0 <= ix < W:
                                acc += x[n, c, iy, ix]
                    out[n, c, oy, ox] = acc / (kh * kw)
    return out


def avg_pool_backward(dout, x_shape, kernel, stride, padding=0):
    """dx[pixel] += dout[window] / (kh*kw) for every window containing the pixel."""
    (kh, kw), (sh, sw), (ph, pw) = map(_pair, (kernel, stride, padding))
    N, C, H, W = x_shape
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for n in range(N):
        for c in range(C):
            for oy in range(dout.shape[2]):
                for ox in range(dout.shape[3]):
                    for ky in range(kh):
                        for kx in range(kw):
                            iy, ix = oy * sh + ky - ph, ox * sw + kx - pw
                            if 0 <= iy < H and 0 <= ix < W:
                                dx[n, c, iy, ix] += dout[n, c, oy, ox] / (kh * kw)
    return dx
