"""Brute-force N-d unfold / fold with padding modes, straight from the definitions.

Tests only.  The index that padding reads along an axis comes from
``numpy.pad`` applied to ``arange(size)`` (so the mode semantics are
numpy's, not ours); -1 marks a constant padding entry.  Every element is
then visited with plain loops over (n, c, window, tap).
"""

import itertools

import numpy as np

NP_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pads_of(padding, d):
    """(low, high) pairs of an int / per-axis padding."""
    if isinstance(padding, int):
        return ((padding, padding),) * d
    return tuple((p, p) if isinstance(p, int) else tuple(p) for p in padding)


def mode_fits(mode, size, padding):
    """True when ``mode`` allows ``padding`` on an image of spatial ``size``
    (reflect: every pad < the size; circular: <= the size)."""
    worst = [max(p) for p in pads_of(padding, len(size))]
    if mode == "reflect":
        return all(w < n for w, n in zip(worst, size))
    if mode == "circular":
        return all(w <= n for w, n in zip(worst, size))
    return True


def tup(v, d):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * d


def padded_index(n, lo, hi, mode):
    """For each padded position along an axis, the input index read (-1: the constant)."""
    idx = np.arange(n)
    if mode in NP_MODES:
        return np.pad(idx, (lo, hi), mode=NP_MODES[mode])
    return np.pad(idx, (lo, hi), mode="constant", constant_values=-1)


def geometry(size, kernel, dilation, padding, stride):
    d = len(size)
    kernel, dilation, stride = tup(kernel, d), tup(dilation, d), tup(stride, d)
    pads = pads_of(padding, d)
    out = tuple((n + lo + hi - dl * (k - 1) - 1) // s + 1
                for n, (lo, hi), k, dl, s in zip(size, pads, kernel, dilation, stride))
    return kernel, dilation, stride, pads, out


def _taps(size, kernel, dilation, padding, stride, mode):
    """Yields (flat tap, flat window, input index tuple or None for the constant)."""
    kernel, dilation, stride, pads, out = geometry(size, kernel, dilation, padding, stride)
    maps = [padded_index(n, lo, hi, mode) for n, (lo, hi) in zip(size, pads)]
    for ki, k in enumerate(itertools.product(*map(range, kernel))):
        for li, o in enumerate(itertools.product(*map(range, out))):
            src = [int(m[oa * s + ka * dl]) for m, oa, ka, s, dl in zip(maps, o, k, stride, dilation)]
            yield ki, li, None if min(src) < 0 else tuple(src)


def unfold(x, kernel, dilation=1, padding=0, stride=1, mode="zeros", value=0):
    """Channels-first batched ``x`` (N, C, *size) -> (N, C*K, L)."""
    n, c, size = x.shape[0], x.shape[1], x.shape[2:]
    kernel_t, _, _, _, out = geometry(size, kernel, dilation, padding, stride)
    K, L = int(np.prod(kernel_t)), int(np.prod(out))
    cols = np.zeros((n, c * K, L), dtype=x.dtype)
    fill = value if mode == "constant" else 0
    for ki, li, src in _taps(size, kernel, dilation, padding, stride, mode):
        for ci in range(c):
            cols[:, ci * K + ki, li] = fill if src is None else x[(slice(None), ci) + src]
    return cols


def fold(cols, size, kernel, dilation=1, padding=0, stride=1, mode="zeros", dtype=None):
    """(N, C*K, L) -> (N, C, *size): every column element added to the pixel it was read from."""
    kernel_t, _, _, _, out = geometry(size, kernel, dilation, padding, stride)
    K = int(np.prod(kernel_t))
    n, c = cols.shape[0], cols.shape[1] // K
    x = np.zeros((n, c) + tuple(size), dtype=dtype or cols.dtype)
    for ki, li, src in _taps(size, kernel, dilation, padding, stride, mode):
        if src is None:
            continue
        for ci in range(c):
            x[(slice(None), ci) + src] += cols[:, ci * K + ki, li]
    return x


def coverage(size, kernel, dilation=1, padding=0, stride=1, mode="zeros"):
    """How many column elements fold adds into each pixel, shape ``size``."""
    count = np.zeros(tuple(size), dtype=np.int64)
    for _, _, src in _taps(size, kernel, dilation, padding, stride, mode):
        if src is not None:
            count[src] += 1
    return count


def to_last(cols, c):
    """Channels-first columns (N, C*K, L) -> channels-last (N, L, K*C)."""
    n, ck, L = cols.shape
    return cols.reshape(n, c, ck // c, L).transpose(0, 3, 2, 1).reshape(n, L, ck)


def to_first(cols, c):
    """Channels-last columns (N, L, K*C) -> channels-first (N, C*K, L)."""
    n, L, kc = cols.shape
    return cols.reshape(n, L, kc // c, c).transpose(0, 3, 2, 1).reshape(n, kc, L)
