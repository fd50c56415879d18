"""im2col_ext.layers against numerical gradients, brute-force references and its own argument checks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference
from im2col_ext import layers as L
from naive_layers import numerical_gradient, rel_error


def _rng(seed):
    return np.random.default_rng(seed)


def _conv_ref(x, w, b, stride, padding, dilation):
    """Brute-force conv2d from reference.unfold."""
    n = x.shape[0]
    f, c, kh, kw = w.shape
    cols = reference.unfold(x, (kh, kw), dilation, padding, stride)
    out = np.einsum("fk,nkl->nfl", w.reshape(f, -1), cols)
    if b is not None:
        out = out + b[:, None]
    sh, sw = reference._pair(stride)
    ph, pw = reference._pair(padding)
    dh, dw = reference._pair(dilation)
    oh = reference.out_len(x.shape[2], kh, sh, ph, dh)
    ow = reference.out_len(x.shape[3], kw, sw, pw, dw)
    return out.reshape(n, f, oh, ow)


# --------------------------------------------------------------------------
# conv2d
# --------------------------------------------------------------------------

CONV_CASES = [
    # x_shape, w_shape, stride, padding, dilation
    ((2, 3, 6, 5), (4, 3, 3, 2), 1, 0, 1),
    ((2, 2, 7, 6), (3, 2, 3, 3), (2, 1), (1, 2), 1),
    ((1, 2, 7, 8), (2, 2, 2, 3), 2, 1, (2, 1)),
    ((2, 1, 1, 1), (2, 1, 1, 1), 1, 1, 1),          # 1x1 image, padding
    ((1, 2, 1, 1), (2, 2, 3, 3), 1, 1, 1),          # 1x1 image, 3x3 kernel
    ((2, 2, 3, 4), (2, 2, 3, 4), 1, 0, 1),          # kernel == image
    ((1, 2, 5, 5), (3, 2, 2, 2), 3, 0, 1),          # stride > kernel
]


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation", CONV_CASES)
def test_conv2d_numerical_gradient(x_shape, w_shape, stride, padding, dilation):
    rng = _rng(1)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    kw = dict(stride=stride, padding=padding, dilation=dilation)
    out, cache = L.conv2d_forward(x, w, b, **kw)
    np.testing.assert_allclose(out, _conv_ref(x, w, b, **kw), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = L.conv2d_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    assert rel_error(dx, numerical_gradient(lambda v: L.conv2d_forward(v, w, b, **kw)[0], x, dout)) < 1e-7
    assert rel_error(dw, numerical_gradient(lambda v: L.conv2d_forward(x, v, b, **kw)[0], w, dout)) < 1e-7
    assert rel_error(db, numerical_gradient(lambda v: L.conv2d_forward(x, w, v, **kw)[0], b, dout)) < 1e-7


def test_conv2d_bias_none():
    rng = _rng(2)
    x = rng.standard_normal((2, 2, 5, 5))
    w = rng.standard_normal((3, 2, 3, 3))
    out, cache = L.conv2d_forward(x, w, None, padding=1)
    np.testing.assert_allclose(out, _conv_ref(x, w, None, 1, 1, 1), rtol=1e-12, atol=1e-12)
    dx, dw, db = L.conv2d_backward(np.ones(out.shape), cache)
    assert db is None
    out_b, cache_b = L.conv2d_forward(x, w, np.zeros(3), padding=1)
    dx_b, dw_b, _ = L.conv2d_backward(np.ones(out.shape), cache_b)
    np.testing.assert_array_equal(out, out_b)
    np.testing.assert_array_equal(dx, dx_b)
    np.testing.assert_array_equal(dw, dw_b)


def test_conv2d_dtypes():
    rng = _rng(3)
    x = rng.standard_normal((2, 2, 6, 6))
    w = rng.standard_normal((3, 2, 3, 3))
    b = rng.standard_normal(3)
    ref = _conv_ref(x, w, b, 1, 1, 1)
    x32, w32, b32 = (a.astype(np.float32) for a in (x, w, b))
    out, cache = L.conv2d_forward(x32, w32, b32, padding=1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    grads = L.conv2d_backward(np.ones(out.shape, np.float32), cache)
    assert all(g.dtype == np.float32 for g in grads)
    # mixed: promoted like NumPy
    out, cache = L.conv2d_forward(x, w32, b32, padding=1)
    assert out.dtype == np.float64
    grads = L.conv2d_backward(np.ones(out.shape, np.float32), cache)
    assert all(g.dtype == np.float64 for g in grads)
    out, _ = L.conv2d_forward(x32, w, None, padding=1)
    assert out.dtype == np.float64
    # integers compute in float64
    out, _ = L.conv2d_forward(np.ones((1, 1, 3, 3), np.int32), np.ones((1, 1, 2, 2), np.int64))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), 4.0))


def test_conv2d_non_contiguous_inputs():
    rng = _rng(4)
    x = rng.standard_normal((5, 4, 9, 8)).transpose(0, 1, 3, 2)[::2, ::2]
    w = rng.standard_normal((3, 3, 2, 2))[:, ::-1][:, :2]
    out, cache = L.conv2d_forward(x, w, None, stride=2)
    np.testing.assert_allclose(out, _conv_ref(np.ascontiguousarray(x), np.ascontiguousarray(w),
                                              None, 2, 0, 1), rtol=1e-12, atol=1e-12)
    L.conv2d_backward(np.ones(out.shape)[..., ::1], cache)


# --------------------------------------------------------------------------
# conv_transpose2d
# --------------------------------------------------------------------------

CONVT_CASES = [
    # x_shape, w_shape (C_in, C_out, kh, kw), stride, padding, output_padding, dilation
    ((2, 3, 4, 3), (3, 2, 3, 2), 1, 0, 0, 1),
    ((2, 2, 3, 4), (2, 3, 3, 3), 2, 1, 1, 1),
    ((1, 2, 3, 3), (2, 2, 2, 3), (2, 3), (0, 1), (1, 2), (1, 2)),
    ((1, 2, 3, 2), (2, 1, 2, 2), 1, 0, (1, 2), 3),   # output_padding >= stride, < dilation
    ((2, 1, 1, 1), (1, 2, 3, 3), 1, 1, 0, 1),        # 1x1 input
]


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, output_padding, dilation", CONVT_CASES)
def test_conv_transpose2d_numerical_gradient(x_shape, w_shape, stride, padding, output_padding,
                                             dilation):
    rng = _rng(5)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[1])
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation)
    out, cache = L.conv_transpose2d_forward(x, w, b, **kw)
    (sh, sw), (ph, pw) = reference._pair(stride), reference._pair(padding)
    (oph, opw), (dh, dw) = reference._pair(output_padding), reference._pair(dilation)
    kh, kwid = w_shape[2:]
    assert out.shape == (x_shape[0], w_shape[1],
                         (x_shape[2] - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1,
                         (x_shape[3] - 1) * sw - 2 * pw + dw * (kwid - 1) + opw + 1)
    dout = rng.standard_normal(out.shape)
    dx, dwt, db = L.conv_transpose2d_backward(dout, cache)
    assert dx.shape == x.shape and dwt.shape == w.shape and db.shape == b.shape
    f = L.conv_transpose2d_forward
    assert rel_error(dx, numerical_gradient(lambda v: f(v, w, b, **kw)[0], x, dout)) < 1e-7
    assert rel_error(dwt, numerical_gradient(lambda v: f(x, v, b, **kw)[0], w, dout)) < 1e-7
    assert rel_error(db, numerical_gradient(lambda v: f(x, w, v, **kw)[0], b, dout)) < 1e-7


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """conv_transpose2d(y, w) is the gradient of conv2d with respect to its input."""
    rng = _rng(6)
    x = rng.standard_normal((2, 3, 9, 8))
    w = rng.standard_normal((4, 3, 3, 2))
    kw = dict(stride=2, padding=1, dilation=(1, 2))
    out, cache = L.conv2d_forward(x, w, None, **kw)
    dout = rng.standard_normal(out.shape)
    dx, _, _ = L.conv2d_backward(dout, cache)
    # output_padding picks the original size among those that map onto out
    oph = 9 - ((out.shape[2] - 1) * 2 - 2 + 1 * 2 + 1)
    opw = 8 - ((out.shape[3] - 1) * 2 - 2 + 2 * 1 + 1)
    y, ycache = L.conv_transpose2d_forward(dout, w, None, output_padding=(oph, opw), **kw)
    np.testing.assert_allclose(y, dx, rtol=1e-12, atol=1e-12)
    # and its input gradient is conv2d itself
    dy, _, _ = L.conv_transpose2d_backward(x, ycache)
    np.testing.assert_allclose(dy, out, rtol=1e-12, atol=1e-12)


def test_conv_transpose2d_dtypes_and_bias_none():
    rng = _rng(7)
    x = rng.standard_normal((2, 2, 3, 3)).astype(np.float32)
    w = rng.standard_normal((2, 3, 2, 2)).astype(np.float32)
    out, cache = L.conv_transpose2d_forward(x, w, None, stride=2)
    assert out.dtype == np.float32 and out.shape == (2, 3, 6, 6)
    dx, dw, db = L.conv_transpose2d_backward(np.ones(out.shape, np.float32), cache)
    assert db is None and dx.dtype == np.float32 and dw.dtype == np.float32
    out64, _ = L.conv_transpose2d_forward(x.astype(np.float64), w, None, stride=2)
    assert out64.dtype == np.float64
    np.testing.assert_allclose(out, out64, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------
# max pooling
# --------------------------------------------------------------------------

POOL_CASES = [
    # x_shape, kernel_size, stride, padding, dilation
    ((2, 3, 6, 6), 2, None, 0, 1),
    ((2, 2, 7, 6), (3, 2), (2, 1), (1, 1), 1),       # non-square, overlapping, padded
    ((1, 2, 7, 7), 3, 1, 1, 1),                      # heavy overlap
    ((1, 2, 8, 7), 3, 2, 1, (2, 1)),                 # dilation
    ((2, 1, 1, 1), 1, 1, 0, 1),                      # 1x1
    ((1, 2, 1, 1), 3, 1, 1, 1),                      # 1x1 image, 3x3 window, padding 1
    ((2, 2, 4, 5), (4, 5), None, 0, 1),              # kernel == image
]


@pytest.mark.parametrize("x_shape, kernel_size, stride, padding, dilation", POOL_CASES)
def test_max_pool2d_vs_reference_and_numerical(x_shape, kernel_size, stride, padding, dilation):
    rng = _rng(8)
    x = rng.standard_normal(x_shape)
    out, cache = L.max_pool2d_forward(x, kernel_size, stride, padding, dilation)
    ref_out, ref_arg = reference.max_pool(
        x, kernel_size, kernel_size if stride is None else stride, padding, dilation)
    np.testing.assert_array_equal(out, ref_out)
    dout = rng.standard_normal(out.shape)
    dx = L.max_pool2d_backward(dout, cache)
    np.testing.assert_allclose(dx, reference.max_pool_backward(dout, ref_arg, x.shape),
                               rtol=1e-14, atol=1e-14)
    num = numerical_gradient(
        lambda v: L.max_pool2d_forward(v, kernel_size, stride, padding, dilation)[0], x, dout)
    assert rel_error(dx, num) < 1e-7


def test_max_pool2d_padding_is_minus_infinity():
    x = -np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    out, cache = L.max_pool2d_forward(x, 3, stride=1, padding=1)
    assert (out < 0).all()
    np.testing.assert_array_equal(out[0, 0], [[-1, -1, -2], [-1, -1, -2], [-4, -4, -5]])
    x = np.full((1, 1, 2, 2), -np.inf)
    out, cache = L.max_pool2d_forward(x, 2, stride=1, padding=1)
    assert np.isneginf(out).all()
    dx = L.max_pool2d_backward(np.ones(out.shape), cache)
    assert dx.sum() == out.size and np.isfinite(dx).all()


def test_max_pool2d_ties_first_max_wins():
    x = np.ones((1, 1, 2, 2))
    out, cache = L.max_pool2d_forward(x, 2)
    np.testing.assert_array_equal(L.max_pool2d_backward(np.ones((1, 1, 1, 1)), cache),
                                  [[[[1.0, 0.0], [0.0, 0.0]]]])
    x = np.array([[[[0.0, 5.0, 5.0], [5.0, 5.0, 0.0]]]])
    out, cache = L.max_pool2d_forward(x, 2, stride=1)
    dx = L.max_pool2d_backward(np.array([[[[1.0, 10.0]]]]), cache)
    np.testing.assert_array_equal(dx, [[[[0.0, 11.0, 0.0], [0.0, 0.0, 0.0]]]])


def test_max_pool2d_nan_propagates():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 1, 1] = np.nan
    x[0, 0, 3, 3] = np.nan
    out, cache = L.max_pool2d_forward(x, 2, stride=1)
    expect_nan = np.zeros((3, 3), bool)
    expect_nan[0:2, 0:2] = True
    expect_nan[2, 2] = True
    np.testing.assert_array_equal(np.isnan(out[0, 0]), expect_nan)
    dx = L.max_pool2d_backward(np.ones(out.shape), cache)
    assert dx[0, 0, 1, 1] == 4.0 and dx[0, 0, 3, 3] == 1.0


def test_max_pool2d_overlap_accumulates():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0
    out, cache = L.max_pool2d_forward(x, 2, stride=1)
    np.testing.assert_array_equal(out, np.ones((1, 1, 2, 2)))
    dx = L.max_pool2d_backward(np.arange(1.0, 5.0).reshape(1, 1, 2, 2), cache)
    assert dx[0, 0, 1, 1] == 10.0 and dx.sum() == 10.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pools_keep_dtype(dtype):
    x = _rng(9).standard_normal((2, 2, 5, 5)).astype(dtype)
    out, cache = L.max_pool2d_forward(x, 3, 2, 1)
    assert out.dtype == dtype
    assert L.max_pool2d_backward(np.ones(out.shape), cache).dtype == dtype
    out, cache = L.avg_pool2d_forward(x, 3, 2, 1)
    assert out.dtype == dtype
    assert L.avg_pool2d_backward(np.ones(out.shape), cache).dtype == dtype


# --------------------------------------------------------------------------
# average pooling
# --------------------------------------------------------------------------

AVG_CASES = [
    ((2, 3, 6, 6), 2, None, 0),
    ((2, 2, 7, 6), (3, 2), (2, 1), (1, 1)),
    ((1, 2, 5, 5), 3, 1, 1),
    ((2, 1, 1, 1), 1, 1, 0),
    ((1, 2, 1, 1), 3, 1, 1),
    ((2, 2, 4, 5), (4, 5), None, 0),
]


@pytest.mark.parametrize("x_shape, kernel_size, stride, padding", AVG_CASES)
def test_avg_pool2d_vs_reference_and_numerical(x_shape, kernel_size, stride, padding):
    rng = _rng(10)
    x = rng.standard_normal(x_shape)
    s = kernel_size if stride is None else stride
    out, cache = L.avg_pool2d_forward(x, kernel_size, stride, padding)
    np.testing.assert_allclose(out, reference.avg_pool(x, kernel_size, s, padding),
                               rtol=1e-13, atol=1e-14)
    dout = rng.standard_normal(out.shape)
    dx = L.avg_pool2d_backward(dout, cache)
    np.testing.assert_allclose(
        dx, reference.avg_pool_backward(dout, x.shape, kernel_size, s, padding),
        rtol=1e-13, atol=1e-14)
    num = numerical_gradient(lambda v: L.avg_pool2d_forward(v, kernel_size, stride, padding)[0],
                             x, dout)
    assert rel_error(dx, num) < 1e-7


def test_avg_pool2d_counts_padding():
    out, _ = L.avg_pool2d_forward(np.ones((1, 1, 2, 2)), 3, stride=1, padding=1)
    np.testing.assert_allclose(out, np.full((1, 1, 2, 2), 4 / 9))


# --------------------------------------------------------------------------
# property tests (few examples: the parametrised cases above do the bulk)
# --------------------------------------------------------------------------

_small = st.integers(1, 3)


@settings(max_examples=25)
@given(n=_small, c=_small, f=_small, h=st.integers(1, 7), w=st.integers(1, 7),
       kh=_small, kw=_small, s=st.tuples(_small, _small), p=st.tuples(st.integers(0, 2),
                                                                       st.integers(0, 2)),
       d=st.tuples(st.integers(1, 2), st.integers(1, 2)), seed=st.integers(0, 2**16))
def test_conv2d_property(n, c, f, h, w, kh, kw, s, p, d, seed):
    if d[0] * (kh - 1) + 1 > h + 2 * p[0] or d[1] * (kw - 1) + 1 > w + 2 * p[1]:
        with pytest.raises(ValueError, match="does not fit"):
            L.conv2d_forward(np.zeros((n, c, h, w)), np.zeros((f, c, kh, kw)), None, s, p, d)
        return
    rng = _rng(seed)
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((f, c, kh, kw))
    b = rng.standard_normal(f)
    out, cache = L.conv2d_forward(x, wt, b, s, p, d)
    np.testing.assert_allclose(out, _conv_ref(x, wt, b, s, p, d), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = L.conv2d_backward(dout, cache)
    # adjoint identities: <conv(x), dout> = <x, dx> and = <w, dw> + <b, db>
    lhs = np.vdot(out, dout)
    np.testing.assert_allclose(np.vdot(x, dx) + np.vdot(b, db), lhs, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.vdot(wt, dw) + np.vdot(b, db), lhs, rtol=1e-10, atol=1e-10)


@settings(max_examples=25)
@given(n=_small, c=_small, h=st.integers(1, 7), w=st.integers(1, 7), kh=_small, kw=_small,
       s=st.tuples(_small, _small), pad=st.tuples(st.booleans(), st.booleans()),
       d=st.tuples(st.integers(1, 2), st.integers(1, 2)), seed=st.integers(0, 2**16),
       ties=st.booleans())
def test_max_pool2d_property(n, c, h, w, kh, kw, s, pad, d, seed, ties):
    p = (kh // 2 if pad[0] else 0, kw // 2 if pad[1] else 0)
    if d[0] * (kh - 1) + 1 > h + 2 * p[0] or d[1] * (kw - 1) + 1 > w + 2 * p[1]:
        return
    rng = _rng(seed)
    x = rng.integers(0, 3, (n, c, h, w)).astype(float) if ties else rng.standard_normal((n, c, h, w))
    out, cache = L.max_pool2d_forward(x, (kh, kw), s, p, d)
    ref_out, ref_arg = reference.max_pool(x, (kh, kw), s, p, d)
    # a dilated window can fall entirely into the padding: -inf and no
    # gradient (index -1), as in torch
    empty = ref_arg == -1
    assert np.isneginf(ref_out[empty]).all()
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(cache.argmax, ref_arg)
    dout = rng.standard_normal(out.shape)
    dout[empty] = 0.0
    ref_arg[empty] = 0
    np.testing.assert_allclose(L.max_pool2d_backward(dout, cache),
                               reference.max_pool_backward(dout, ref_arg, x.shape),
                               rtol=1e-14, atol=1e-14)


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------

@pytest.mark.any_backend
def test_conv2d_errors():
    x = np.zeros((2, 3, 5, 5))
    w = np.zeros((4, 3, 3, 3))
    with pytest.raises(ValueError, match="input channels"):
        L.conv2d_forward(x, np.zeros((4, 2, 3, 3)))
    with pytest.raises(ValueError, match="b must have one entry per filter"):
        L.conv2d_forward(x, w, np.zeros(3))
    with pytest.raises(ValueError, match="b must be 1-D"):
        L.conv2d_forward(x, w, np.zeros((4, 1)))
    with pytest.raises(ValueError, match="x must be 4-D"):
        L.conv2d_forward(x[0], w)
    with pytest.raises(ValueError, match="w must be 4-D"):
        L.conv2d_forward(x, w[0])
    with pytest.raises(TypeError, match="x must be an array"):
        L.conv2d_forward(None, w)
    with pytest.raises(TypeError, match="x has unsupported dtype"):
        L.conv2d_forward([["a"]], w)
    with pytest.raises(TypeError, match="x has unsupported dtype"):
        L.conv2d_forward(x.astype(complex), w)
    with pytest.raises(ValueError, match="stride must be positive"):
        L.conv2d_forward(x, w, stride=0)
    with pytest.raises(TypeError, match="padding must be an integer"):
        L.conv2d_forward(x, w, padding=1.0)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        L.conv2d_forward(x, w, padding=-1)
    with pytest.raises(ValueError, match="dilation must be an int or a (pair|sequence of 2)"):
        L.conv2d_forward(x, w, dilation=(1, 1, 1))
    with pytest.raises(ValueError, match="does not fit"):
        L.conv2d_forward(x, np.zeros((4, 3, 6, 1)))
    out, cache = L.conv2d_forward(x, w)
    with pytest.raises(ValueError, match="dout has shape"):
        L.conv2d_backward(np.zeros((2, 4, 3, 2)), cache)
    with pytest.raises(ValueError, match="dout must be 4-D"):
        L.conv2d_backward(np.zeros((2, 4, 9)), cache)


@pytest.mark.any_backend
def test_conv_transpose2d_errors():
    x = np.zeros((2, 3, 4, 4))
    w = np.zeros((3, 2, 3, 3))
    with pytest.raises(ValueError, match="input channels"):
        L.conv_transpose2d_forward(x, np.zeros((2, 3, 3, 3)))
    with pytest.raises(ValueError, match="b must have one entry per output channel"):
        L.conv_transpose2d_forward(x, w, np.zeros(3))
    with pytest.raises(ValueError, match="output_padding must be smaller"):
        L.conv_transpose2d_forward(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="output_padding must be smaller"):
        L.conv_transpose2d_forward(x, w, stride=2, output_padding=(0, 2), dilation=(3, 2))
    with pytest.raises(ValueError, match="not positive"):
        L.conv_transpose2d_forward(np.zeros((1, 3, 1, 1)), np.zeros((3, 2, 1, 1)), padding=1)
    out, cache = L.conv_transpose2d_forward(x, w, stride=2, output_padding=1)
    assert out.shape == (2, 2, 10, 10)
    with pytest.raises(ValueError, match="dout has shape"):
        L.conv_transpose2d_backward(np.zeros((2, 2, 9, 9)), cache)


@pytest.mark.any_backend
@pytest.mark.parametrize("fwd", [L.max_pool2d_forward, L.avg_pool2d_forward])
def test_pool_errors(fwd):
    x = np.zeros((2, 3, 6, 6))
    with pytest.raises(ValueError, match="padding should be at most half of kernel_size"):
        fwd(x, 3, 1, 2)
    with pytest.raises(ValueError, match="padding should be at most half of kernel_size"):
        fwd(x, (4, 2), 1, (1, 2))
    with pytest.raises(ValueError, match="padding should be at most half of kernel_size"):
        fwd(x, 1, 1, 1)
    fwd(x, (4, 2), 1, (2, 1))
    with pytest.raises(ValueError, match="x must be 4-D"):
        fwd(x[0], 2)
    with pytest.raises(ValueError, match="kernel_size must be positive"):
        fwd(x, 0)
    with pytest.raises(TypeError, match="stride must be an integer"):
        fwd(x, 2, 1.5)
    with pytest.raises(ValueError, match="does not fit"):
        fwd(x, 7)
    out, cache = fwd(x, 2)
    bwd = L.max_pool2d_backward if fwd is L.max_pool2d_forward else L.avg_pool2d_backward
    with pytest.raises(ValueError, match="dout has shape"):
        bwd(np.zeros((2, 3, 3, 2)), cache)


def test_pools_accept_integers():
    x = np.arange(16).reshape(1, 1, 4, 4)
    out, cache = L.max_pool2d_forward(x, 2)
    assert out.dtype == x.dtype  # integer max pooling keeps the dtype (exact)
    np.testing.assert_array_equal(out, [[[[5, 7], [13, 15]]]])
    out, _ = L.avg_pool2d_forward(x, 2)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[[[2.5, 4.5], [10.5, 12.5]]]])
