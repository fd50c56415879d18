"""Brute-force N-d unfold / fold references, written from the contract in the spec (issue 10).

Tests only: never shipped, never fast.  Plain Python loops over every index,
sharing no code with the package (and none with tests/reference.py).  Keep the
arrays small: the cost is one Python step per column element.

Definitions (spatial rank d in {1, 2, 3}; per axis a: kernel k_a, stride s_a,
dilation r_a, padding (lo_a, hi_a), input length n_a):

    o_a = (n_a + lo_a + hi_a - r_a*(k_a - 1) - 1) // s_a + 1
    i_a = o_a_index*s_a + k_a_index*r_a - lo_a          (0 when outside [0, n_a))

    channel_axis=1:  x (N, C, *S)  ->  cols (N, C*K, L), cols[n, c*K + flat(k), flat(o)]
    channel_axis=-1: x (N, *S, C)  ->  cols (N, L, K*C), cols[n, flat(o), flat(k)*C + c]

flat() is row-major over the d axes.  fold is the adjoint: every column element
is added into the pixel it was read from (padding taps dropped), the taps of a
pixel in row-major kernel order onto 0.
"""

import numpy as np

__all__ = ["resolve_padding", "out_sizes", "unfold", "fold", "as_tuple"]


def as_tuple(v, d):
    """An int or a d-sequence of ints -> a d-tuple (no validation: the tests pass good values)."""
    if isinstance(v, (tuple, list)):
        assert len(v) == d, (v, d)
        return tuple(int(e) for e in v)
    return (int(v),) * d


def _ceil_div(a, b):
    q = a // b
    if q * b != a:
        q += 1
    return q


def resolve_padding(padding, size, kernel, stride=1, dilation=1):
    """Per-axis (low, high) padding, straight from the spec text.

    padding: int p -> (p, p) everywhere; a d-tuple of entries that are an int p
    (= (p, p)) or a (low, high) pair; "valid" -> 0; "same" -> TensorFlow's rule:
    out = ceil(in / stride), total = max((out-1)*stride + (k-1)*dilation + 1 - in, 0),
    low = total // 2, high = total - low.
    """
    d = len(size)
    kernel = as_tuple(kernel, d)
    stride = as_tuple(stride, d)
    dilation = as_tuple(dilation, d)
    if isinstance(padding, str):
        if padding == "valid":
            return tuple((0, 0) for _ in range(d))
        assert padding == "same", padding
        pads = []
        for a in range(d):
            n, k, s, r = size[a], kernel[a], stride[a], dilation[a]
            out = _ceil_div(n, s)
            total = (out - 1) * s + (k - 1) * r + 1 - n
            if total < 0:
                total = 0
            low = total // 2
            pads.append((low, total - low))
        return tuple(pads)
    if isinstance(padding, (tuple, list)):
        assert len(padding) == d, (padding, d)
        pads = []
        for entry in padding:
            if isinstance(entry, (tuple, list)):
                assert len(entry) == 2
                pads.append((int(entry[0]), int(entry[1])))
            else:
                pads.append((int(entry), int(entry)))
        return tuple(pads)
    p = int(padding)
    return tuple((p, p) for _ in range(d))


def out_sizes(size, kernel, stride, dilation, pads):
    """Output positions per axis (may be < 1 for a kernel that does not fit)."""
    res = []
    for a in range(len(size)):
        lo, hi = pads[a]
        res.append((size[a] + lo + hi - dilation[a] * (kernel[a] - 1) - 1) // stride[a] + 1)
    return tuple(res)


def _prod(t):
    p = 1
    for v in t:
        p *= v
    return p


def _indices(shape):
    """Every index tuple of `shape` in row-major order, by plain nested counting."""
    idx = [0] * len(shape)
    if any(n <= 0 for n in shape):
        return
    while True:
        yield tuple(idx)
        a = len(shape) - 1
        while a >= 0:
            idx[a] += 1
            if idx[a] < shape[a]:
                break
            idx[a] = 0
            a -= 1
        if a < 0:
            return


def _flat(index, shape):
    f = 0
    for i, n in zip(index, shape):
        f = f * n + i
    return f


def _split(shape, d, channel_axis, batched):
    """(N, C, spatial) of an image shape; N is 1 for unbatched."""
    shape = tuple(shape)
    if not batched:
        shape = (1,) + shape
    assert len(shape) == d + 2, (shape, d)
    if channel_axis == 1:
        return shape[0], shape[1], shape[2:]
    assert channel_axis == -1, channel_axis
    return shape[0], shape[-1], shape[1:-1]


def _geometry(size, kernel, dilation, padding, stride):
    d = len(kernel)
    kernel = tuple(int(k) for k in kernel)
    dilation = as_tuple(dilation, d)
    stride = as_tuple(stride, d)
    pads = resolve_padding(padding, size, kernel, stride, dilation)
    outs = out_sizes(size, kernel, stride, dilation, pads)
    assert all(o >= 1 for o in outs), ("kernel does not fit", outs)
    return kernel, dilation, stride, pads, outs


def _source(o, k, size, stride, dilation, pads):
    """The input index read by output position o and kernel offset k, or None in the padding."""
    i = []
    for a in range(len(size)):
        v = o[a] * stride[a] + k[a] * dilation[a] - pads[a][0]
        if v < 0 or v >= size[a]:
            return None
        i.append(v)
    return tuple(i)


def unfold(x, kernel, dilation=1, padding=0, stride=1, channel_axis=1):
    """Columns of x; kernel must be a d-tuple (d = len(kernel)); x batched or not."""
    x = np.asarray(x)
    d = len(kernel)
    batched = x.ndim == d + 2
    assert batched or x.ndim == d + 1, (x.shape, kernel)
    xb = x if batched else x[np.newaxis]
    N, C, size = _split(xb.shape, d, channel_axis, True)
    kernel, dilation, stride, pads, outs = _geometry(size, kernel, dilation, padding, stride)
    K, L = _prod(kernel), _prod(outs)
    if channel_axis == 1:
        cols = np.zeros((N, C * K, L), dtype=x.dtype)
    else:
        cols = np.zeros((N, L, K * C), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for k in _indices(kernel):
                kf = _flat(k, kernel)
                for o in _indices(outs):
                    lf = _flat(o, outs)
                    i = _source(o, k, size, stride, dilation, pads)
                    if i is None:
                        continue
                    if channel_axis == 1:
                        cols[n, c * K + kf, lf] = xb[(n, c) + i]
                    else:
                        cols[n, lf, kf * C + c] = xb[(n,) + i + (c,)]
    return cols if batched else cols[0]


def _wrap_int(v, dtype):
    bits = 8 * dtype.itemsize
    if dtype.kind == "u":
        return v % (1 << bits)
    half = 1 << (bits - 1)
    return (v + half) % (1 << bits) - half


def fold(cols, output_size, kernel, dilation=1, padding=0, stride=1, channel_axis=1,
         reverse_taps=False):
    """The adjoint of unfold: an image of spatial size output_size (a d-tuple).

    Floats/complex accumulate in the array's dtype, taps in row-major kernel
    order onto 0 (reverse row-major with ``reverse_taps``); integers
    accumulate exactly and wrap like NumPy's add; bool is "any" (NumPy's
    add on bool).
    """
    cols = np.asarray(cols)
    d = len(kernel)
    size = as_tuple(output_size, d)
    batched = cols.ndim == 3
    assert batched or cols.ndim == 2, cols.shape
    cb = cols if batched else cols[np.newaxis]
    kernel, dilation, stride, pads, outs = _geometry(size, kernel, dilation, padding, stride)
    K, L = _prod(kernel), _prod(outs)
    N = cb.shape[0]
    if channel_axis == 1:
        C = cb.shape[1] // K
        assert cb.shape == (N, C * K, L), (cb.shape, C, K, L)
        image = (N, C) + size
    else:
        C = cb.shape[2] // K
        assert cb.shape == (N, L, K * C), (cb.shape, C, K, L)
        image = (N,) + size + (C,)
    dtype = cols.dtype
    exact = dtype.kind in "biu"
    acc = np.zeros(image, dtype=object if exact else dtype)
    if exact:
        acc[...] = 0
    for n in range(N):
        for c in range(C):
            taps = list(_indices(kernel))
            for k in (taps[::-1] if reverse_taps else taps):
                kf = _flat(k, kernel)
                for o in _indices(outs):
                    lf = _flat(o, outs)
                    i = _source(o, k, size, stride, dilation, pads)
                    if i is None:
                        continue
                    if channel_axis == 1:
                        src, dst = (n, c * K + kf, lf), (n, c) + i
                    else:
                        src, dst = (n, lf, kf * C + c), (n,) + i + (c,)
                    v = cb[src]
                    if exact:
                        acc[dst] = acc[dst] + int(v)
                    else:
                        acc[dst] = acc[dst] + v
    if exact:
        res = np.zeros(image, dtype=dtype)
        for idx in _indices(image):
            v = acc[idx]
            res[idx] = (v != 0) if dtype.kind == "b" else _wrap_int(v, dtype)
        acc = res
    return acc if batched else acc[0]
