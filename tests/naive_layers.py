"""Naive cs231n layers and gradient-check helpers, written from the course's definitions (tests only).

``conv_forward_naive`` / ``conv_backward_naive`` / ``max_pool_forward_naive``
/ ``max_pool_backward_naive`` have the course's signatures and caches
(``(x, w, b, conv_param)`` and ``(x, pool_param)``) and loop over output
positions, sharing no code with im2col_ext.  ``numerical_gradient`` takes
central differences; ``rel_error`` is the course's relative error.  The
module is self-contained (NumPy only) so a test can copy it into a fake
``cs231n/layers.py``.
"""

import numpy as np


def rel_error(a, b):
    """max(|a - b| / max(1e-8, |a| + |b|)), the course's relative error."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_gradient(f, x, dout, h=1e-5):
    """Central-difference gradient of ``sum(f(x) * dout)`` with respect to ``x`` (modified in place, restored)."""
    grad = np.zeros(x.shape, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = np.sum(np.asarray(f(x), dtype=np.float64) * dout)
        x[i] = old - h
        minus = np.sum(np.asarray(f(x), dtype=np.float64) * dout)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
        it.iternext()
    return grad


def conv_forward_naive(x, w, b, conv_param):
    """out[n, f, i, j] = sum(x_padded[n, :, i*s:i*s+HH, j*s:j*s+WW] * w[f]) + b[f]."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    oh = 1 + (H + 2 * pad - HH) // stride
    ow = 1 + (W + 2 * pad - WW) // stride
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = np.zeros((N, F, oh, ow), dtype=np.result_type(x, w, b))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            for f in range(F):
                out[:, f, i, j] = np.sum(window * w[f], axis=(1, 2, 3)) + b[f]
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    """(dx, dw, db) of :func:`conv_forward_naive`, window by window."""
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, oh, ow = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    dxp = np.zeros(xp.shape, dtype=np.result_type(x, w, dout))
    dw = np.zeros(w.shape, dtype=np.result_type(x, w, dout))
    db = np.sum(dout, axis=(0, 2, 3))
    for i in range(oh):
        for j in range(ow):
            ys = slice(i * stride, i * stride + HH)
            xs = slice(j * stride, j * stride + WW)
            window = xp[:, :, ys, xs]
            for f in range(F):
                g = dout[:, f, i, j][:, None, None, None]
                dw[f] += np.sum(window * g, axis=0)
                dxp[:, :, ys, xs] += w[f] * g
    dx = dxp[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    """out[n, c, i, j] = max of x[n, c, i*s:i*s+ph, j*s:j*s+pw]."""
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    oh = 1 + (H - ph) // s
    ow = 1 + (W - pw) // s
    out = np.zeros((N, C, oh, ow), dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = np.max(x[:, :, i * s:i * s + ph, j * s:j * s + pw], axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    """dx: each window's gradient goes to its (first) maximum."""
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    _, _, oh, ow = dout.shape
    dx = np.zeros(x.shape, dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(oh):
                for j in range(ow):
                    window = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
                    k = np.argmax(window)
                    dx[n, c, i * s + k // pw, j * s + k % pw] += dout[n, c, i, j]
    return dx
