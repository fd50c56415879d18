"""im2col_ext.layers in every rank and channel layout: loop references, numerical gradients, torch.

The references (``reference_layers_nd``) are written from the definitions,
channels first; the channels-last checks move the channel axis of the
inputs and of the reference results.  The torch cross-checks (forward, and
backward through autograd) skip when torch is not installed.
"""

import numpy as np
import pytest

import reference_layers_nd as R
from im2col_ext import layers as L

TOL = dict(rtol=1e-10, atol=1e-10)

pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")


def _pairs(padding, d, size=None, kernel=None, stride=None, dilation=None):
    """Padding as (low, high) pairs, the reference's way."""
    as_t = (lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v,) * d)
    if padding == "valid":
        return [(0, 0)] * d
    if padding == "same":
        return R.same_padding(size, kernel, as_t(stride), as_t(dilation))
    return [tuple(p) if isinstance(p, (tuple, list)) else (p, p) for p in as_t(padding)]


def _t(v, d):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * d


def _fn(name, d):
    return getattr(L, name.format(d))


def _layout(a, channel_axis):
    """A channels-first array in the layout under test (a strided view for channels last)."""
    return a if channel_axis == 1 else R.to_last(a)


def _first(a, channel_axis):
    return a if channel_axis == 1 else R.to_first(a)


# --------------------------------------------------------------------------
# convolution
# --------------------------------------------------------------------------

CONV_CASES = [
    # d, size, C, F, kernel, stride, padding, dilation, groups
    (1, (9,), 4, 6, (3,), 2, 1, 1, 2),
    (1, (8,), 3, 3, (4,), 1, "same", 2, 3),                     # depthwise, even kernel
    (1, (7,), 2, 4, (2,), 1, ((2, 1),), 1, 1),
    (2, (5, 6), 4, 4, (3, 2), (2, 1), ((1, 0), 2), (1, 2), 2),
    (2, (5, 5), 2, 4, (3, 3), 2, "same", 1, 2),                 # 'same' with a stride
    (2, (4, 5), 3, 2, (2, 2), 1, "valid", 1, 1),
    (3, (4, 5, 3), 2, 4, (2, 3, 2), (1, 2, 1), (1, 0, 1), 1, 2),
    (3, (3, 4, 4), 3, 3, (2, 2, 2), 1, "same", (1, 1, 2), 3),
]


def _conv_data(case, seed=0):
    d, size, c, f, kernel, stride, padding, dilation, groups = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, c) + size)
    w = rng.standard_normal((f, c // groups) + kernel)
    b = rng.standard_normal(f)
    return x, w, b


@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_vs_reference(case, channel_axis):
    d, size, c, f, kernel, stride, padding, dilation, groups = case
    x, w, b = _conv_data(case)
    pad = _pairs(padding, d, size, kernel, stride, dilation)
    ref = R.conv(x, w, b, _t(stride, d), pad, _t(dilation, d), groups)
    out, cache = _fn("conv{}d_forward", d)(_layout(x, channel_axis), w, b, stride, padding,
                                           dilation, groups, channel_axis=channel_axis)
    np.testing.assert_allclose(_first(out, channel_axis), ref, **TOL)
    dout = np.random.default_rng(1).standard_normal(ref.shape)
    dx, dw, db = _fn("conv{}d_backward", d)(_layout(dout, channel_axis), cache)
    rdx, rdw, rdb = R.conv_backward(x, w, dout, _t(stride, d), pad, _t(dilation, d), groups)
    np.testing.assert_allclose(_first(dx, channel_axis), rdx, **TOL)
    np.testing.assert_allclose(dw, rdw, **TOL)
    np.testing.assert_allclose(db, rdb, **TOL)


@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_conv_float32_no_bias(d, channel_axis):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4) + (5,) * d).astype(np.float32)
    w = rng.standard_normal((6, 2) + (3,) * d).astype(np.float32)
    out, cache = _fn("conv{}d_forward", d)(_layout(x, channel_axis), w, None, 1, 1, 1, 2,
                                           channel_axis=channel_axis)
    assert out.dtype == np.float32
    ref = R.conv(x.astype(np.float64), w.astype(np.float64), None, (1,) * d, [(1, 1)] * d,
                 (1,) * d, 2)
    np.testing.assert_allclose(_first(out, channel_axis), ref, rtol=1e-4, atol=1e-4)
    dx, dw, db = _fn("conv{}d_backward", d)(np.ones(out.shape, np.float32), cache)
    assert db is None and dx.dtype == dw.dtype == np.float32


def test_conv_chunks_over_the_batch(monkeypatch):
    """Several chunks give the one-chunk result (the chunk loop and its buffer reuse)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 4, 6, 7))
    w = rng.standard_normal((6, 2, 3, 3))
    out1, cache1 = L.conv2d_forward(x, w, None, 1, 1, 1, 2)
    g1 = L.conv2d_backward(out1, cache1)
    monkeypatch.setattr(L, "_CHUNK_BYTES", 1)
    out2, cache2 = L.conv2d_forward(x, w, None, 1, 1, 1, 2)
    g2 = L.conv2d_backward(out1, cache2)
    np.testing.assert_allclose(out1, out2, **TOL)
    for a, b in zip(g1[:2], g2[:2]):
        np.testing.assert_allclose(a, b, **TOL)


# --------------------------------------------------------------------------
# transposed convolution
# --------------------------------------------------------------------------

CONVT_CASES = [
    # d, size, C_in, C_out/groups, kernel, stride, padding, output_padding, dilation, groups
    (1, (5,), 4, 3, (3,), 2, 1, 1, 1, 2),
    (1, (4,), 2, 2, (2,), 1, ((0, 1),), 0, 2, 1),
    (2, (3, 4), 4, 2, (3, 2), (2, 1), (1, 0), (1, 0), 1, 4),
    (2, (3, 2), 2, 1, (2, 2), 1, 0, (1, 2), 3, 1),               # output_padding >= stride
    (3, (2, 3, 2), 2, 2, (2, 2, 2), (2, 1, 2), (0, 1, 0), (1, 0, 0), 1, 2),
]


@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("case", CONVT_CASES)
def test_conv_transpose_vs_reference(case, channel_axis):
    d, size, cin, cog, kernel, stride, padding, opad, dilation, groups = case
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, cin) + size)
    w = rng.standard_normal((cin, cog) + kernel)
    b = rng.standard_normal(cog * groups)
    pad = _pairs(padding, d)
    ref = R.conv_transpose(x, w, b, _t(stride, d), pad, _t(opad, d), groups, _t(dilation, d))
    out, cache = _fn("conv_transpose{}d_forward", d)(
        _layout(x, channel_axis), w, b, stride, padding, opad, groups, dilation,
        channel_axis=channel_axis)
    np.testing.assert_allclose(_first(out, channel_axis), ref, **TOL)
    dout = rng.standard_normal(ref.shape)
    dx, dw, db = _fn("conv_transpose{}d_backward", d)(_layout(dout, channel_axis), cache)
    rdx, rdw, rdb = R.conv_transpose_backward(x, w, dout, _t(stride, d), pad, groups,
                                              _t(dilation, d))
    np.testing.assert_allclose(_first(dx, channel_axis), rdx, **TOL)
    np.testing.assert_allclose(dw, rdw, **TOL)
    np.testing.assert_allclose(db, rdb, **TOL)


def test_conv_transpose2d_dilation_by_keyword_still_works():
    x = np.random.default_rng(5).standard_normal((1, 2, 3, 3))
    w = np.random.default_rng(6).standard_normal((2, 3, 2, 2))
    out, _ = L.conv_transpose2d_forward(x, w, None, stride=1, padding=0, output_padding=0,
                                        dilation=2)
    ref = R.conv_transpose(x, w, None, (1, 1), [(0, 0)] * 2, (0, 0), 1, (2, 2))
    np.testing.assert_allclose(out, ref, **TOL)


# --------------------------------------------------------------------------
# pooling
# --------------------------------------------------------------------------

MAX_POOL_CASES = [
    # d, size, kernel, stride, padding, dilation, ceil_mode
    (1, (9,), 3, 2, 1, 1, False),
    (1, (8,), 3, 2, 1, 1, True),
    (1, (7,), 2, 3, 1, 2, True),
    (2, (5, 7), (3, 2), (2, 2), (1, 1), 1, True),
    (2, (6, 6), 3, 1, 1, 2, False),
    (2, (5, 4), 2, None, 0, 1, True),
    (3, (4, 5, 3), 2, None, 0, 1, False),
    (3, (5, 4, 4), (3, 2, 2), 2, (1, 1, 0), (1, 2, 1), True),
]


def _pool_x(shape, values, seed=7):
    rng = np.random.default_rng(seed)
    if values == "ties":
        return rng.integers(-1, 2, shape).astype(np.float64)
    x = rng.standard_normal(shape)
    if values == "special":
        flat = x.reshape(-1)
        flat[rng.choice(flat.size, max(1, flat.size // 8), replace=False)] = np.nan
        flat[rng.choice(flat.size, max(1, flat.size // 8), replace=False)] = -np.inf
    return x


@pytest.mark.parametrize("values", ["normal", "ties", "special"])
@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("case", MAX_POOL_CASES)
def test_max_pool_vs_reference(case, channel_axis, values):
    d, size, kernel, stride, padding, dilation, ceil_mode = case
    x = _pool_x((2, 3) + size, values)
    k = _t(kernel, d)
    ref, rind = R.max_pool(x, k, k if stride is None else _t(stride, d), _t(padding, d),
                           _t(dilation, d), ceil_mode)
    out, ind, cache = _fn("max_pool{}d_forward", d)(
        _layout(x, channel_axis), kernel, stride, padding, dilation, ceil_mode, True,
        channel_axis=channel_axis)
    np.testing.assert_array_equal(_first(out, channel_axis), ref)
    np.testing.assert_array_equal(_first(ind, channel_axis), rind)
    dout = np.random.default_rng(8).standard_normal(ref.shape)
    dx = _fn("max_pool{}d_backward", d)(_layout(dout, channel_axis), cache)
    np.testing.assert_allclose(_first(dx, channel_axis), R.max_pool_backward(dout, rind, x.shape),
                               **TOL)


@pytest.mark.parametrize("channel_axis", [1, -1])
def test_max_pool_window_of_padding_only(channel_axis):
    """Dilation and ceil_mode can make a window of padding only: -inf, index -1, no gradient."""
    x = np.array([[[0.5, -2.0], [-np.inf, np.nan]]])
    out, ind, cache = L.max_pool1d_forward(_layout(x, channel_axis), 2, 1, 1, 3, True, True,
                                           channel_axis=channel_axis)
    ref, rind = R.max_pool(x, (2,), (1,), (1,), (3,), True)
    assert (rind == -1).any()
    np.testing.assert_array_equal(_first(out, channel_axis), ref)
    np.testing.assert_array_equal(_first(ind, channel_axis), rind)
    dx = L.max_pool1d_backward(np.ones(out.shape), cache)
    np.testing.assert_array_equal(_first(dx, channel_axis),
                                  R.max_pool_backward(np.ones(ref.shape), rind, x.shape))


def test_max_pool2d_default_call_unchanged():
    """The 2-D channels-first default path still goes through the dedicated kernels."""
    x = np.random.default_rng(9).standard_normal((2, 3, 7, 7))
    out, cache = L.max_pool2d_forward(x, 3, 2, 1)
    assert cache.g is not None
    ref, rind = R.max_pool(x, (3, 3), (2, 2), (1, 1), (1, 1))
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(cache.argmax, rind)


AVG_POOL_CASES = [
    # d, size, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
    (1, (8,), 3, 2, 1, True, False, None),
    (1, (9,), 2, None, 1, False, True, None),
    (2, (5, 7), (3, 2), (2, 2), (1, 1), True, True, None),
    (2, (6, 5), 3, 2, 1, False, False, None),
    (2, (5, 5), 2, 1, 1, False, True, 3),
    (2, (6, 6), 3, 2, 1, False, True, None),
    (3, (4, 5, 3), 2, None, (1, 0, 1), True, False, None),
    (3, (3, 4, 4), (2, 3, 2), (1, 2, 2), 0, False, True, 5),
]


@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("case", AVG_POOL_CASES)
def test_avg_pool_vs_reference(case, channel_axis):
    d, size, kernel, stride, padding, ceil_mode, cip, div = case
    x = _pool_x((2, 3) + size, "normal")
    k = _t(kernel, d)
    s = k if stride is None else _t(stride, d)
    ref, divs = R.avg_pool(x, k, s, _t(padding, d), ceil_mode, cip, div)
    out, cache = _fn("avg_pool{}d_forward", d)(_layout(x, channel_axis), kernel, stride, padding,
                                               ceil_mode, cip, div, channel_axis=channel_axis)
    np.testing.assert_allclose(_first(out, channel_axis), ref, **TOL)
    dout = np.random.default_rng(10).standard_normal(ref.shape)
    dx = _fn("avg_pool{}d_backward", d)(_layout(dout, channel_axis), cache)
    rdx = R.avg_pool_backward(dout, x.shape, k, s, _t(padding, d), divs)
    np.testing.assert_allclose(_first(dx, channel_axis), rdx, **TOL)


@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("d, size, kernel, stride, padding, output_size", [
    (1, (9,), 3, 2, 1, None),
    (1, (8,), 2, None, 0, (9,)),
    (2, (5, 7), (3, 2), (2, 2), (1, 1), (5, 7)),
    (2, (6, 6), 2, None, 0, (2, 3, 7, 6)),
    (3, (4, 5, 3), 2, None, 0, (5, 4, 3)),
])
def test_max_unpool_vs_reference(d, size, kernel, stride, padding, output_size, channel_axis):
    x = _pool_x((2, 3) + size, "normal")
    pooled, ind, _ = _fn("max_pool{}d_forward", d)(
        _layout(x, channel_axis), kernel, stride, padding, return_indices=True,
        channel_axis=channel_axis)
    out, cache = _fn("max_unpool{}d_forward", d)(pooled, ind, kernel, stride, padding,
                                                  output_size, channel_axis=channel_axis)
    k = _t(kernel, d)
    s = k if stride is None else _t(stride, d)
    default = [(i - 1) * st + kk - 2 * p for i, st, kk, p in
               zip(_first(pooled, channel_axis).shape[2:], s, k, _t(padding, d))]
    osz = default if output_size is None else output_size[-d:]
    p1, i1 = _first(pooled, channel_axis), _first(ind, channel_axis)
    ref = R.max_unpool(p1, i1, osz)
    np.testing.assert_array_equal(_first(out, channel_axis), ref)
    dout = np.random.default_rng(11).standard_normal(ref.shape)
    dx = _fn("max_unpool{}d_backward", d)(_layout(dout, channel_axis), cache)
    np.testing.assert_array_equal(_first(dx, channel_axis), R.max_unpool_backward(dout, i1))


# --------------------------------------------------------------------------
# numerical gradients (tiny shapes)
# --------------------------------------------------------------------------

@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("d", [1, 3])
def test_numerical_gradients(d, channel_axis):
    rng = np.random.default_rng(12)
    size = (5,) if d == 1 else (3, 3, 2)
    x = _layout(rng.standard_normal((1, 2) + size), channel_axis)
    w = rng.standard_normal((2, 1) + (2,) * d)
    kw = dict(channel_axis=channel_axis)

    out, cache = _fn("conv{}d_forward", d)(x, w, None, 1, 1, 1, 2, **kw)
    dout = rng.standard_normal(out.shape)
    dx, dw, _ = _fn("conv{}d_backward", d)(dout, cache)
    f = _fn("conv{}d_forward", d)
    np.testing.assert_allclose(dx, R.numerical_gradient(
        lambda a: f(a, w, None, 1, 1, 1, 2, **kw)[0], x, dout), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dw, R.numerical_gradient(
        lambda a: f(x, a, None, 1, 1, 1, 2, **kw)[0], w, dout), rtol=1e-6, atol=1e-7)

    ft = _fn("conv_transpose{}d_forward", d)
    out, cache = ft(x, w, None, 2, 0, 1, 2, 1, **kw)
    dout = rng.standard_normal(out.shape)
    dx, dw, _ = _fn("conv_transpose{}d_backward", d)(dout, cache)
    np.testing.assert_allclose(dx, R.numerical_gradient(
        lambda a: ft(a, w, None, 2, 0, 1, 2, 1, **kw)[0], x, dout), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dw, R.numerical_gradient(
        lambda a: ft(x, a, None, 2, 0, 1, 2, 1, **kw)[0], w, dout), rtol=1e-6, atol=1e-7)

    fa = _fn("avg_pool{}d_forward", d)
    out, cache = fa(x, 2, 1, 1, True, False, None, **kw)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(_fn("avg_pool{}d_backward", d)(dout, cache), R.numerical_gradient(
        lambda a: fa(a, 2, 1, 1, True, False, None, **kw)[0], x, dout), rtol=1e-6, atol=1e-7)

    fm = _fn("max_pool{}d_forward", d)
    out, cache = fm(x, 2, 1, 1, 1, True, **kw)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(_fn("max_pool{}d_backward", d)(dout, cache), R.numerical_gradient(
        lambda a: fm(a, 2, 1, 1, 1, True, **kw)[0], x, dout), rtol=1e-6, atol=1e-7)


# --------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------

def _calls():
    x1, x2, x3 = np.zeros((2, 4, 6)), np.zeros((2, 4, 5, 5)), np.zeros((1, 2, 3, 3, 3))
    return [
        (ValueError, "groups", lambda: L.conv2d_forward(x2, np.zeros((6, 2, 3, 3)), groups=3)),
        (ValueError, "groups", lambda: L.conv1d_forward(x1, np.zeros((3, 2, 3)), groups=2)),
        (ValueError, "input channels", lambda: L.conv1d_forward(x1, np.zeros((4, 3, 3)),
                                                                groups=2)),
        (ValueError, "groups", lambda: L.conv_transpose2d_forward(
            x2, np.zeros((4, 1, 2, 2)), groups=3)),
        (TypeError, "groups", lambda: L.conv2d_forward(x2, np.zeros((4, 4, 3, 3)), groups=1.0)),
        (ValueError, "padding", lambda: L.conv_transpose2d_forward(
            x2, np.zeros((4, 1, 2, 2)), padding="same")),
        (ValueError, "padding", lambda: L.conv_transpose1d_forward(
            x1, np.zeros((4, 1, 2)), padding="valid")),
        (ValueError, "x must be 3-D", lambda: L.conv1d_forward(x2, np.zeros((1, 4, 3)))),
        (ValueError, "w must be 5-D", lambda: L.conv3d_forward(x3, np.zeros((1, 2, 2, 2)))),
        (ValueError, "x must be 5-D", lambda: L.max_pool3d_forward(x2, 2)),
        (ValueError, "x must be 3-D", lambda: L.avg_pool1d_forward(x2, 2)),
        (ValueError, "channel_axis", lambda: L.conv2d_forward(x2, np.zeros((1, 4, 3, 3)),
                                                              channel_axis=2)),
        (ValueError, "channel_axis", lambda: L.max_pool1d_forward(x1, 2, channel_axis=0)),
        (ValueError, "channel_axis", lambda: L.avg_pool3d_forward(x3, 2, channel_axis=-2)),
        (TypeError, "channel_axis", lambda: L.max_unpool2d_forward(
            x2, np.zeros(x2.shape, np.int64), 2, channel_axis=True)),
        (ValueError, "indices", lambda: L.max_unpool1d_forward(
            x1, np.full(x1.shape, 12), 2)),
        (ValueError, "indices", lambda: L.max_unpool1d_forward(
            x1, np.full(x1.shape, -2), 2)),
        (ValueError, "indices", lambda: L.max_unpool2d_forward(
            x2, np.zeros((2, 4, 5, 4), np.int64), 2)),
        (TypeError, "indices", lambda: L.max_unpool2d_forward(x2, np.zeros(x2.shape), 2)),
        (ValueError, "output_size", lambda: L.max_unpool2d_forward(
            x2, np.zeros(x2.shape, np.int64), 2, output_size=(12, 10))),
        (ValueError, r"padding=\(\(1, 2\),\)", lambda: L.conv1d_forward(
            x1, np.zeros((1, 4, 3)), padding=(1, 2))),
        (ValueError, "padding", lambda: L.conv2d_forward(
            x2, np.zeros((1, 4, 3, 3)), padding=((1, -1), 0))),
        (ValueError, "padding", lambda: L.conv2d_forward(x2, np.zeros((1, 4, 3, 3)),
                                                         padding="full")),
        (ValueError, "padding should be at most half", lambda: L.max_pool1d_forward(x1, 2,
                                                                                    padding=2)),
        (ValueError, "divisor_override", lambda: L.avg_pool2d_forward(x2, 2,
                                                                      divisor_override=0)),
        (ValueError, "stride", lambda: L.max_pool3d_forward(x3, 2, stride=(1, 0, 1))),
        (ValueError, "output_padding", lambda: L.conv_transpose1d_forward(
            x1, np.zeros((4, 1, 2)), stride=2, output_padding=2)),
    ]


@pytest.mark.parametrize("index", range(len(_calls())))
def test_bad_input_names_the_argument(index):
    exc, match, call = _calls()[index]
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("d", [1, 2, 3])
def test_dout_shape_mismatch(d):
    x = np.zeros((2, 4) + (4,) * d)
    for out, cache, back in [
        (*L.__dict__[f"conv{d}d_forward"](x, np.zeros((2, 4) + (3,) * d)),
         L.__dict__[f"conv{d}d_backward"]),
        (*L.__dict__[f"conv_transpose{d}d_forward"](x, np.zeros((4, 2) + (3,) * d)),
         L.__dict__[f"conv_transpose{d}d_backward"]),
        (*L.__dict__[f"avg_pool{d}d_forward"](x, 2), L.__dict__[f"avg_pool{d}d_backward"]),
        (L.__dict__[f"max_pool{d}d_forward"](x, 2, ceil_mode=True, return_indices=True)[0],
         L.__dict__[f"max_pool{d}d_forward"](x, 2, ceil_mode=True)[1],
         L.__dict__[f"max_pool{d}d_backward"]),
    ]:
        bad = np.zeros(out.shape[:-1] + (out.shape[-1] + 1,))
        with pytest.raises(ValueError, match="dout has shape"):
            back(bad, cache)
        with pytest.raises(ValueError, match="dout must be"):
            back(np.zeros(out.shape[1:]), cache)


@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_inputs_are_never_mutated(d, channel_axis):
    rng = np.random.default_rng(13)
    x = _layout(rng.standard_normal((2, 4) + (5,) * d), channel_axis)
    w = rng.standard_normal((4, 2) + (2,) * d)
    b = rng.standard_normal(4)
    kw = dict(channel_axis=channel_axis)
    saved = [a.copy() for a in (x, w, b)]
    for fwd, bwd, args in [
        ("conv{}d_forward", "conv{}d_backward", (w, b, 2, 1, 1, 2)),
        ("conv_transpose{}d_forward", "conv_transpose{}d_backward", (w, b, 2, 1, 1, 2)),
        ("avg_pool{}d_forward", "avg_pool{}d_backward", (2, 1, 1, True, False)),
        ("max_pool{}d_forward", "max_pool{}d_backward", (3, 2, 1, 1, True)),
    ]:
        out, cache = _fn(fwd, d)(x, *args, **kw)
        dout = rng.standard_normal(out.shape)
        dsaved = dout.copy()
        _fn(bwd, d)(dout, cache)
        np.testing.assert_array_equal(dout, dsaved)
    pooled, ind, _ = _fn("max_pool{}d_forward", d)(x, 2, return_indices=True, **kw)
    isaved, psaved = ind.copy(), pooled.copy()
    out, cache = _fn("max_unpool{}d_forward", d)(pooled, ind, 2, output_size=(5,) * d, **kw)
    _fn("max_unpool{}d_backward", d)(out, cache)
    np.testing.assert_array_equal(ind, isaved)
    np.testing.assert_array_equal(pooled, psaved)
    for a, s in zip((x, w, b), saved):
        np.testing.assert_array_equal(a, s)


# --------------------------------------------------------------------------
# torch
# --------------------------------------------------------------------------

def _torch():
    return pytest.importorskip("torch", reason="torch is not installed")


def _leaf(torch, a):
    return torch.tensor(np.ascontiguousarray(a), requires_grad=True)


def _close(ours, theirs, channel_axis=1, **tol):
    theirs = theirs.detach().numpy()
    if channel_axis == -1:
        theirs = R.to_last(theirs)
    np.testing.assert_allclose(ours, theirs, **(tol or TOL))


def _torch_padding(padding, d):
    """torch's spelling of a padding, or None where torch has none (pairs, 'same' with a stride)."""
    if isinstance(padding, str):
        return padding
    pads = _pairs(padding, d)
    if any(lo != hi for lo, hi in pads):
        return None
    return tuple(lo for lo, _ in pads)


TORCH_CONV_CASES = [c for c in CONV_CASES
                    if _torch_padding(c[6], c[0]) is not None
                    and not (c[6] == "same" and c[5] != 1)] + [
    (2, (6, 7), 6, 6, (3, 3), 1, 1, 1, 6),                        # depthwise 2-D
    (2, (6, 7), 4, 8, (4, 2), 1, "same", (2, 1), 2),               # torch 'same', even kernel
    (3, (5, 4, 6), 4, 4, (3, 1, 2), (2, 1, 1), (1, 0, 1), 1, 4),   # depthwise 3-D
    (1, (11,), 6, 4, (5,), 3, 2, 2, 1),
]


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("case", TORCH_CONV_CASES)
def test_conv_vs_torch(case, channel_axis, dtype):
    torch = _torch()
    d, size, c, f, kernel, stride, padding, dilation, groups = case
    x, w, b = (a.astype(dtype) for a in _conv_data(case, seed=14))
    tol = TOL if dtype == np.float64 else dict(rtol=2e-4, atol=2e-4)
    tx, tw, tb = (_leaf(torch, a) for a in (x, w, b))
    conv = getattr(torch.nn.functional, f"conv{d}d")
    tout = conv(tx, tw, tb, stride, _torch_padding(padding, d), dilation, groups)
    out, cache = _fn("conv{}d_forward", d)(_layout(x, channel_axis), w, b, stride, padding,
                                           dilation, groups, channel_axis=channel_axis)
    assert out.dtype == dtype
    _close(out, tout, channel_axis, **tol)
    dout = np.random.default_rng(15).standard_normal(tuple(tout.shape)).astype(dtype)
    tout.backward(torch.tensor(dout))
    dx, dw, db = _fn("conv{}d_backward", d)(_layout(dout, channel_axis), cache)
    _close(dx, tx.grad, channel_axis, **tol)
    _close(dw, tw.grad, **tol)
    _close(db, tb.grad, **tol)


@pytest.mark.torch
@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("case", [c for c in CONVT_CASES if _torch_padding(c[6], c[0])] + [
    (3, (3, 2, 3), 4, 1, (3, 2, 2), 2, 1, (1, 0, 1), (1, 2, 1), 4),
    (1, (6,), 3, 2, (4,), 3, 0, 2, 1, 1),
])
def test_conv_transpose_vs_torch(case, channel_axis):
    torch = _torch()
    d, size, cin, cog, kernel, stride, padding, opad, dilation, groups = case
    rng = np.random.default_rng(16)
    x = rng.standard_normal((2, cin) + size)
    w = rng.standard_normal((cin, cog) + kernel)
    b = rng.standard_normal(cog * groups)
    tx, tw, tb = (_leaf(torch, a) for a in (x, w, b))
    tout = getattr(torch.nn.functional, f"conv_transpose{d}d")(
        tx, tw, tb, stride, _torch_padding(padding, d), opad, groups, dilation)
    out, cache = _fn("conv_transpose{}d_forward", d)(
        _layout(x, channel_axis), w, b, stride, padding, opad, groups, dilation,
        channel_axis=channel_axis)
    _close(out, tout, channel_axis)
    dout = rng.standard_normal(tuple(tout.shape))
    tout.backward(torch.tensor(dout))
    dx, dw, db = _fn("conv_transpose{}d_backward", d)(_layout(dout, channel_axis), cache)
    _close(dx, tx.grad, channel_axis)
    _close(dw, tw.grad)
    _close(db, tb.grad)


@pytest.mark.torch
@pytest.mark.parametrize("values", ["normal", "ties", "special"])
@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("case", MAX_POOL_CASES)
def test_max_pool_and_unpool_vs_torch(case, channel_axis, values):
    torch = _torch()
    d, size, kernel, stride, padding, dilation, ceil_mode = case
    x = _pool_x((2, 3) + size, values, seed=17)
    F = torch.nn.functional
    tx = _leaf(torch, x)
    tout, tind = getattr(F, f"max_pool{d}d")(tx, kernel, stride, padding, dilation, ceil_mode,
                                             True)
    out, ind, cache = _fn("max_pool{}d_forward", d)(
        _layout(x, channel_axis), kernel, stride, padding, dilation, ceil_mode, True,
        channel_axis=channel_axis)
    _close(out, tout, channel_axis, rtol=0, atol=0)
    np.testing.assert_array_equal(_first(ind, channel_axis), tind.numpy())
    dout = np.random.default_rng(18).standard_normal(tuple(tout.shape))
    tout.backward(torch.tensor(dout))
    _close(_fn("max_pool{}d_backward", d)(_layout(dout, channel_axis), cache), tx.grad,
           channel_axis)
    if values == "special":
        return          # torch's unpool of repeated (NaN / -inf) indices is unspecified
    if not tind.ne(-1).all():
        pytest.skip("a window of padding only (index -1) has no torch counterpart")
    tin = _leaf(torch, R.to_first(out) if channel_axis == -1 else out)
    unpool = _fn("max_unpool{}d_forward", d)
    try:
        tun = getattr(F, f"max_unpool{d}d")(tin, tind, kernel, stride, padding, size)
    except (RuntimeError, ValueError):
        with pytest.raises(ValueError, match="output_size|indices"):
            unpool(out, ind, kernel, stride, padding, size, channel_axis=channel_axis)
        return
    un, ucache = unpool(out, ind, kernel, stride, padding, size, channel_axis=channel_axis)
    _close(un, tun, channel_axis, rtol=0, atol=0)
    dun = np.random.default_rng(19).standard_normal(tuple(tun.shape))
    tun.backward(torch.tensor(dun))
    _close(_fn("max_unpool{}d_backward", d)(_layout(dun, channel_axis), ucache), tin.grad,
           channel_axis)


@pytest.mark.torch
@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("case", AVG_POOL_CASES)
def test_avg_pool_vs_torch(case, channel_axis):
    torch = _torch()
    d, size, kernel, stride, padding, ceil_mode, cip, div = case
    x = _pool_x((2, 3) + size, "normal", seed=20)
    tx = _leaf(torch, x)
    fn = getattr(torch.nn.functional, f"avg_pool{d}d")
    args = (kernel, stride, padding, ceil_mode, cip) + ((div,) if d > 1 else ())
    if d == 1 and div is not None:
        pytest.skip("torch's avg_pool1d has no divisor_override")
    tout = fn(tx, *args)
    out, cache = _fn("avg_pool{}d_forward", d)(_layout(x, channel_axis), kernel, stride, padding,
                                               ceil_mode, cip, div, channel_axis=channel_axis)
    _close(out, tout, channel_axis)
    dout = np.random.default_rng(21).standard_normal(tuple(tout.shape))
    tout.backward(torch.tensor(dout))
    _close(_fn("avg_pool{}d_backward", d)(_layout(dout, channel_axis), cache), tx.grad,
           channel_axis)


# --------------------------------------------------------------------------
# integer max pooling: exact, in the input's dtype
# --------------------------------------------------------------------------

def _brute_max_pool(x, out_size, kernel, stride, padding, dilation):
    """Window maxima of channels-first ``x`` by Python loops over every window (exact)."""
    d = len(out_size)
    out = np.empty(x.shape[:2] + tuple(out_size), dtype=x.dtype)
    size = x.shape[2:]
    for o in np.ndindex(*out_size):
        best = None
        for k in np.ndindex(*(kernel,) * d):
            i = tuple(o[a] * stride + k[a] * dilation - padding for a in range(d))
            if all(0 <= i[a] < size[a] for a in range(d)):
                v = x[(slice(None), slice(None)) + i]
                best = v if best is None else np.maximum(best, v)
        out[(slice(None), slice(None)) + o] = best
    return out


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.uint32, np.int64,
                                   np.uint64, np.bool_])
@pytest.mark.parametrize("d, channel_axis, kw", [
    (2, 1, dict(kernel_size=2)),                                      # the C kernel path
    (2, 1, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),  # the general path
    (1, -1, dict(kernel_size=3, stride=1, padding=1)),
    (3, 1, dict(kernel_size=2, dilation=2, stride=1)),
])
def test_integer_max_pool_is_exact(dtype, d, channel_axis, kw):
    rng = np.random.default_rng(5)
    shape = (2, 3) + (7,) * d if channel_axis == 1 else (2,) + (7,) * d + (3,)
    if dtype == np.bool_:
        x = rng.integers(0, 2, shape).astype(bool)
    else:
        # values next to the type's extremes, where float64 rounds 64-bit ints
        info = np.iinfo(dtype)
        r = rng.integers(0, 16, shape)
        x = np.where(r % 2 == 0, np.array(info.max, dtype) - r.astype(dtype),
                     np.array(info.min, dtype) + r.astype(dtype)).astype(dtype)
    fwd = getattr(L, f"max_pool{d}d_forward")
    out, idx, cache = fwd(x, return_indices=True, channel_axis=channel_axis, **kw)
    assert out.dtype == x.dtype
    xf = np.moveaxis(x, -1, 1) if channel_axis == -1 else x
    of = np.moveaxis(out, -1, 1) if channel_axis == -1 else out
    jf = np.moveaxis(idx, -1, 1) if channel_axis == -1 else idx
    want = _brute_max_pool(xf, of.shape[2:], kw["kernel_size"], kw.get("stride", kw["kernel_size"]),
                           kw.get("padding", 0), kw.get("dilation", 1))
    np.testing.assert_array_equal(of, want)
    # the index points at a pixel holding the maximum
    flat = xf.reshape(xf.shape[0], xf.shape[1], -1)
    picked = np.take_along_axis(flat, jf.reshape(flat.shape[0], flat.shape[1], -1), axis=2)
    np.testing.assert_array_equal(picked.reshape(of.shape), of)
    dx = getattr(L, f"max_pool{d}d_backward")(np.ones(out.shape), cache)
    assert dx.dtype == np.float64 and dx.shape == x.shape
    assert dx.sum() == out.size
