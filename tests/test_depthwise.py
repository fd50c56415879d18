"""Depthwise convolution (groups == C, one filter per channel, zero padding).

Three layers of checks:

* the compiled kernel (``_cext.depthwise_forward`` / ``depthwise_backward``,
  src_c/depthwise.h) against its NumPy twin (``_numpy_backend``), called
  directly on the kernels' 6-D views over geometries chosen to reach every
  branch of the C code (strides, dilations, asymmetric and large padding,
  kernels wider than the kernel's stack blocks, channel blocks, 1-D/3-D,
  channels last), and its thread independence (c_only);
* ``layers.conv{1,2,3}d`` with ``groups == C`` against the brute-force loops
  of ``reference_layers_nd`` (every backend);
* the same layers against ``torch.nn.functional.conv{d}d`` (torch marker).

The forward pass and dx add the same products in the same order in C and in
NumPy (row-major taps, see depthwise.h), so they agree bit for bit on finite
data; dw is an einsum in NumPy and lane-interleaved sums in C: to rounding.
"""

import numpy as np
import pytest

import reference_layers_nd as R
from im2col_ext import _api, _backend, layers as L
from im2col_ext import _numpy_backend as P
from im2col_ext._geometry import window

TOL = {np.float64: dict(rtol=1e-12, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-5)}


def _cext():
    return pytest.importorskip("im2col_ext._cext")


# --------------------------------------------------------------------------
# the kernels themselves: C against the NumPy twin
# --------------------------------------------------------------------------

# n, c, size, kernel, stride, padding, dilation
KERNEL_CASES = [
    (2, 3, (7, 6), (3, 3), 1, 1, 1),                               # 'same' 3x3
    (2, 3, (9, 8), (3, 2), 2, ((2, 1), (0, 3)), (2, 1)),           # stride 2, asymmetric pads
    (1, 5, (11,), (4,), 2, 3, 2),                                  # 1-D, batch 1, dilation 2
    (2, 2, (5, 4, 6), (3, 1, 2), (2, 1, 1), (1, 0, 1), 1),         # 3-D
    (3, 4, (6, 5), (2, 3), 3, 4, 2),                               # windows wholly in the padding
    (2, 4, (13, 37), (3, 3), 1, 1, 1),                             # odd sizes, several chunks
    (1, 3, (6, 6), (7, 7), 1, 3, 1),                               # 49 taps: > one dw tap block
    (2, 2, (3, 70), (1, 70), 1, ((0, 0), (35, 34)), 1),            # 70 taps along the last axis
    (1, 2, (9, 8, 20), (9, 8, 1), 1, (4, 4, 0), 1),                # 72 kernel rows per output row
    (2, 2, (5, 40), (3, 3), 2, 1, 1),                              # stride 2, several chunks
    (1, 2, (3, 50), (1, 3), (1, 3), ((0, 0), (2, 1)), (1, 2)),     # stride 3, dilation 2
    (2, 3, (40,), (5,), 1, 2, 3),                                  # 1-D, long row, dilation 3
    (2, 2, (8, 9), (2, 2), (1, 3), 0, (1, 2)),                     # stride 3 on the last axis
    (2, 3, (1, 1), (1, 1), 1, 0, 1),                               # 1x1
]


def _kernel_data(case, channel_axis, dtype, seed=0):
    n, c, size, kernel, stride, padding, dilation = case
    win = window(n, c, size, kernel, stride, padding, dilation, channel_axis=channel_axis)
    xs, os, ws = _api._depthwise_shapes(win)
    rng = np.random.default_rng(seed)
    x6 = rng.standard_normal(xs).astype(dtype)
    w3 = rng.standard_normal(ws).astype(dtype)
    b2 = rng.standard_normal((ws[0], ws[2])).astype(dtype)
    d6 = rng.standard_normal(os).astype(dtype)
    return win, x6, w3, b2, d6


def _run(mod, win, x6, w3, b2, d6):
    out = np.empty(d6.shape, x6.dtype)
    mod.depthwise_forward(x6, w3, b2, out, win.kernel_spec())
    dx = np.empty(x6.shape, x6.dtype)
    dw = np.empty(w3.shape, x6.dtype)
    mod.depthwise_backward(x6, w3, d6, dx, dw, win.kernel_spec())
    return out, dx, dw


@pytest.mark.c_only
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("case", KERNEL_CASES)
def test_kernel_vs_numpy_twin(case, channel_axis, dtype):
    C = _cext()
    win, x6, w3, b2, d6 = _kernel_data(case, channel_axis, dtype)
    ours = _run(C, win, x6, w3, b2, d6)
    twin = _run(P, win, x6, w3, b2, d6)
    np.testing.assert_array_equal(ours[0], twin[0])        # same products, same order
    np.testing.assert_array_equal(ours[1], twin[1])
    np.testing.assert_allclose(ours[2], twin[2], **TOL[dtype])


@pytest.mark.c_only
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("c, v", [(1, 150), (3, 20), (2, 1), (1, 7)])
def test_kernel_channel_blocks(c, v, dtype):
    """Channels last with more channels than a dw block (64), a partial last
    block, and the general layout with both c > 1 and v > 1."""
    C = _cext()
    rng = np.random.default_rng(1)
    win = window(2, c, (6, 7), (3, 3), 1, 1, 1)
    x6 = rng.standard_normal((2, c, 1, 6, 7, v)).astype(dtype)
    w3 = rng.standard_normal((c, 9, v)).astype(dtype)
    b2 = rng.standard_normal((c, v)).astype(dtype)
    d6 = rng.standard_normal((2, c, 1, 6, 7, v)).astype(dtype)
    ours = _run(C, win, x6, w3, b2, d6)
    twin = _run(P, win, x6, w3, b2, d6)
    np.testing.assert_array_equal(ours[0], twin[0])
    np.testing.assert_array_equal(ours[1], twin[1])
    np.testing.assert_allclose(ours[2], twin[2], **TOL[dtype])


@pytest.mark.c_only
def test_kernel_no_bias_and_empty_batch():
    C = _cext()
    win, x6, w3, b2, d6 = _kernel_data(KERNEL_CASES[1], 1, np.float64)
    o1 = np.empty(d6.shape)
    o2 = np.empty(d6.shape)
    C.depthwise_forward(x6, w3, None, o1, win.kernel_spec())
    P.depthwise_forward(x6, w3, None, o2, win.kernel_spec())
    np.testing.assert_array_equal(o1, o2)
    # no images: nothing to write, dw is zero
    x0, d0 = x6[:0].copy(), d6[:0].copy()
    C.depthwise_forward(x0, w3, b2, np.empty(d0.shape), win.kernel_spec())
    dw = np.full(w3.shape, np.nan)
    C.depthwise_backward(x0, w3, d0, np.empty(x0.shape), dw, win.kernel_spec())
    assert (dw == 0).all()


@pytest.mark.c_only
@pytest.mark.parametrize("channel_axis", [1, -1])
def test_kernel_thread_independent(channel_axis):
    """Bit-identical results for 1, 2 and 3 threads (dw included)."""
    C = _cext()
    case = (5, 6, (33, 35), (3, 3), 1, 1, 1)
    win, x6, w3, b2, d6 = _kernel_data(case, channel_axis, np.float32, seed=3)
    before = C.get_num_threads()
    try:
        results = []
        for nt in (1, 2, 3):
            C.set_num_threads(nt)
            results.append(_run(C, win, x6, w3, b2, d6))
    finally:
        C.set_num_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


@pytest.mark.c_only
def test_kernel_small_hand_worked():
    """1-D, one channel: x = [1, 2, 3], w = [1, 10], padding 1 -> the definition by hand."""
    C = _cext()
    win = window(1, 1, (3,), (2,), 1, 1, 1)
    x6 = np.array([1.0, 2.0, 3.0]).reshape(1, 1, 1, 1, 3, 1)
    w3 = np.array([1.0, 10.0]).reshape(1, 2, 1)
    out = np.empty((1, 1, 1, 1, 4, 1))
    C.depthwise_forward(x6, w3, np.array([[0.5]]), out, win.kernel_spec())
    # out[o] = w0 * x[o - 1] + w1 * x[o] + b
    np.testing.assert_array_equal(out.ravel(), [10.5, 21.5, 32.5, 3.5])
    dout = np.array([1.0, 0.0, 0.0, 2.0]).reshape(out.shape)
    dx, dw = np.empty(x6.shape), np.empty(w3.shape)
    C.depthwise_backward(x6, w3, dout, dx, dw, win.kernel_spec())
    # dx[i] = w0 * dout[i + 1] + w1 * dout[i]; dw0 = sum dout[o] x[o - 1], dw1 = sum dout[o] x[o]
    np.testing.assert_array_equal(dx.ravel(), [10.0, 0.0, 2.0])
    np.testing.assert_array_equal(dw.ravel(), [6.0, 1.0])


@pytest.mark.c_only
def test_kernel_wrapper_refuses_bad_arrays():
    """Bad arrays never reach the C code: shapes, dtypes, layout, writability, overlap."""
    C = _cext()
    win, x6, w3, b2, d6 = _kernel_data(KERNEL_CASES[0], 1, np.float64)
    spec = win.kernel_spec()
    out = np.empty(d6.shape)
    with pytest.raises(ValueError, match="x6 has shape"):
        C.depthwise_forward(x6[:, :, :, :, :-1], w3, None, out, spec)
    with pytest.raises(ValueError, match="w3 has shape"):
        C.depthwise_forward(x6, w3[:, :-1], None, out, spec)
    with pytest.raises(ValueError, match="out6 has shape"):
        C.depthwise_forward(x6, w3, None, out[:, :, :, :-1], spec)
    with pytest.raises(ValueError, match="b2 has shape"):
        C.depthwise_forward(x6, w3, b2[:-1], out, spec)
    with pytest.raises(TypeError):
        C.depthwise_forward(x6.astype(np.float32), w3, None, out, spec)
    with pytest.raises(TypeError):
        C.depthwise_forward(x6.astype(np.int64), w3.astype(np.int64), None,
                            out.astype(np.int64), spec)
    with pytest.raises(ValueError):
        C.depthwise_forward(np.asfortranarray(x6), w3, None, out, spec)   # not C-contiguous
    with pytest.raises(ValueError, match="native"):
        C.depthwise_forward(x6.astype(">f8"), w3, None, out, spec)
    ro = np.empty(d6.shape)
    ro.flags.writeable = False
    with pytest.raises(ValueError):
        C.depthwise_forward(x6, w3, None, ro, spec)
    with pytest.raises(ValueError, match="overlap"):
        C.depthwise_backward(x6, w3, d6, x6, np.empty(w3.shape), spec)
    bad = ((7, 6), (3, 3), (7, 6), (0, 1), (1, 1), (1, 1))
    with pytest.raises(ValueError):
        C.depthwise_forward(x6, w3, None, out, tuple((1,) + t for t in bad))


# --------------------------------------------------------------------------
# layers: the C path is the one taken, and both backends match the loops
# --------------------------------------------------------------------------

@pytest.mark.c_only
def test_layers_take_the_c_kernel(monkeypatch):
    """float32/float64 depthwise layers never touch the NumPy twin on the C backend."""
    def refuse(*args, **kwargs):
        raise AssertionError("the NumPy twin was called")

    monkeypatch.setattr(P, "depthwise_forward", refuse)
    monkeypatch.setattr(P, "depthwise_backward", refuse)
    rng = np.random.default_rng(4)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((2, 4, 6, 5)).astype(dtype)
        w = rng.standard_normal((4, 1, 3, 3)).astype(dtype)
        out, cache = L.conv2d_forward(x, w, np.ones(4, dtype), 1, 1, 1, 4)
        L.conv2d_backward(out, cache)


def test_other_dtypes_use_the_numpy_twin(monkeypatch):
    """float16 runs on the NumPy twin on either backend (close to the float64 result)."""
    calls = []
    for name in ("depthwise_forward", "depthwise_backward"):
        def counted(*args, _f=getattr(P, name), _name=name):
            calls.append(_name)
            return _f(*args)
        monkeypatch.setattr(P, name, counted)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 6, 6))
    w = rng.standard_normal((3, 1, 3, 3))
    ref, cache = L.conv2d_forward(x, w, None, 1, 1, 1, 3)
    calls.clear()
    out, cache16 = L.conv2d_forward(x.astype(np.float16), w.astype(np.float16), None, 1, 1, 1, 3)
    assert out.dtype == np.float16
    np.testing.assert_allclose(out, ref, rtol=2e-2, atol=2e-2)
    dx, dw, _ = L.conv2d_backward(ref.astype(np.float16), cache16)
    assert dx.dtype == dw.dtype == np.float16
    assert calls == ["depthwise_forward", "depthwise_backward"]


# d, size, C, kernel, stride, padding, dilation
LAYER_CASES = [
    (1, (9,), 3, (3,), 1, 1, 1),
    (1, (10,), 2, (4,), 2, ((3, 0),), 2),                  # asymmetric pair, dilation 2
    (2, (7, 6), 4, (3, 3), 2, 1, 1),                       # stride 2
    (2, (6, 7), 3, (3, 2), 1, ((0, 2), (1, 1)), (2, 1)),    # asymmetric pads, dilation 2
    (2, (5, 5), 2, (2, 2), 1, "same", 1),                  # 'same', even kernel
    (2, (4, 5), 2, (1, 1), 1, 2, 1),                       # outputs made of padding only
    (3, (4, 5, 3), 2, (2, 3, 2), (1, 2, 1), (1, 0, 1), 1),
    (3, (3, 4, 4), 3, (3, 2, 2), 1, "same", (1, 1, 2)),
]


def _pairs(padding, d, size, kernel, stride, dilation):
    t = (lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v,) * d)
    if padding == "same":
        return R.same_padding(size, kernel, t(stride), t(dilation))
    return [tuple(p) if isinstance(p, (tuple, list)) else (p, p) for p in t(padding)]


def _t(v, d):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * d


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("case", LAYER_CASES)
def test_layers_vs_loop_reference(case, channel_axis, batch):
    d, size, c, kernel, stride, padding, dilation = case
    rng = np.random.default_rng(6)
    x = rng.standard_normal((batch, c) + size)
    w = rng.standard_normal((c, 1) + kernel)
    b = rng.standard_normal(c)
    pad = _pairs(padding, d, size, kernel, stride, dilation)
    ref = R.conv(x, w, b, _t(stride, d), pad, _t(dilation, d), c)
    fwd, bwd = getattr(L, f"conv{d}d_forward"), getattr(L, f"conv{d}d_backward")
    xl = x if channel_axis == 1 else R.to_last(x)         # a strided view when channels last
    out, cache = fwd(xl, w, b, stride, padding, dilation, c, channel_axis=channel_axis)
    first = (lambda a: a) if channel_axis == 1 else R.to_first
    np.testing.assert_allclose(first(out), ref, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(ref.shape)
    dx, dw, db = bwd(dout if channel_axis == 1 else R.to_last(dout), cache)
    rdx, rdw, rdb = R.conv_backward(x, w, dout, _t(stride, d), pad, _t(dilation, d), c)
    np.testing.assert_allclose(first(dx), rdx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, rdw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, rdb, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("channel_axis", [1, -1])
def test_layers_float32_and_strided_input(channel_axis):
    """float32 keeps its dtype; a non-contiguous x and dout give the contiguous result."""
    rng = np.random.default_rng(7)
    big = rng.standard_normal((3, 5, 14, 11)).astype(np.float32)
    x = big[:, :, ::2, 1:]                                # strided view
    if channel_axis == -1:
        x = R.to_last(x)
    w = rng.standard_normal((5, 1, 3, 3)).astype(np.float32)
    out, cache = L.conv2d_forward(x, w, None, 1, 1, 1, 5, channel_axis=channel_axis)
    out_c, cache_c = L.conv2d_forward(np.ascontiguousarray(x), w, None, 1, 1, 1, 5,
                                      channel_axis=channel_axis)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, out_c)
    dout = rng.standard_normal(out.shape + (2,)).astype(np.float32)[..., 0]   # strided
    for a, b in zip(L.conv2d_backward(dout, cache)[:2], L.conv2d_backward(dout, cache_c)[:2]):
        np.testing.assert_array_equal(a, b)
    x64 = (R.to_first(x) if channel_axis == -1 else x).astype(np.float64)
    ref = R.conv(x64, w.astype(np.float64), None, (1, 1), [(1, 1)] * 2, (1, 1), 5)
    got = out if channel_axis == 1 else R.to_first(out)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_layers_empty_batch():
    x = np.zeros((0, 3, 5, 5))
    out, cache = L.conv2d_forward(x, np.ones((3, 1, 3, 3)), np.ones(3), 1, 1, 1, 3)
    assert out.shape == (0, 3, 5, 5)
    dx, dw, db = L.conv2d_backward(out, cache)
    assert dx.shape == x.shape and (dw == 0).all() and (db == 0).all()


# --------------------------------------------------------------------------
# torch
# --------------------------------------------------------------------------

# d, size, C, kernel, stride, padding, dilation
TORCH_CASES = [
    (1, (17,), 4, (5,), 2, 2, 1),
    (2, (9, 8), 6, (3, 3), 1, 1, 1),
    (2, (10, 7), 5, (3, 3), 2, 1, 2),
    (2, (5, 6), 3, (5, 5), 1, 2, 1),
    (3, (5, 4, 6), 4, (3, 1, 2), (2, 1, 1), (1, 0, 1), 1),
]


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("case", TORCH_CASES)
def test_layers_vs_torch(case, channel_axis, dtype):
    torch = pytest.importorskip("torch")
    d, size, c, kernel, stride, padding, dilation = case
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, c) + size).astype(dtype)
    w = rng.standard_normal((c, 1) + kernel).astype(dtype)
    b = rng.standard_normal(c).astype(dtype)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tout = getattr(torch.nn.functional, f"conv{d}d")(tx, tw, tb, stride, padding, dilation, c)
    dout = rng.standard_normal(tuple(tout.shape)).astype(dtype)
    tout.backward(torch.tensor(dout))
    to_l = (lambda a: a) if channel_axis == 1 else R.to_last
    out, cache = getattr(L, f"conv{d}d_forward")(to_l(x), w, b, stride, padding, dilation, c,
                                                channel_axis=channel_axis)
    dx, dw, db = getattr(L, f"conv{d}d_backward")(to_l(dout), cache)
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    assert out.dtype == dx.dtype == dw.dtype == dtype
    np.testing.assert_allclose(out, to_l(tout.detach().numpy()), **tol)
    np.testing.assert_allclose(dx, to_l(tx.grad.numpy()), **tol)
    np.testing.assert_allclose(dw, tw.grad.numpy(), **tol)
    np.testing.assert_allclose(db, tb.grad.numpy(), **tol)
