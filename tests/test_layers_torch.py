"""im2col_ext.layers against PyTorch autograd (skipped when torch is not installed)."""

import numpy as np
import pytest

from im2col_ext import layers as L

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch
F = torch.nn.functional

TOL = {np.float64: dict(rtol=1e-11, atol=1e-11), np.float32: dict(rtol=2e-4, atol=2e-4)}


def _leaf(a):
    return torch.tensor(a, requires_grad=True)


def _close(ours, theirs, dtype):
    assert ours.dtype == dtype
    np.testing.assert_allclose(ours, theirs.detach().numpy(), **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "x_shape, w_shape, stride, padding, dilation, bias",
    [
        ((2, 3, 9, 8), (4, 3, 3, 2), 1, 0, 1, True),
        ((2, 3, 9, 8), (4, 3, 3, 2), (2, 1), (1, 2), (1, 2), True),
        ((3, 2, 7, 7), (5, 2, 5, 5), 2, 2, 1, False),
        ((1, 1, 1, 1), (2, 1, 3, 3), 1, 1, 1, True),
        ((2, 4, 5, 6), (3, 4, 5, 6), 1, 0, 1, True),
        ((2, 3, 11, 10), (2, 3, 2, 3), 3, (0, 1), 2, True),
    ],
)
def test_conv2d_vs_torch(x_shape, w_shape, stride, padding, dilation, bias, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype) if bias else None
    kw = dict(stride=stride, padding=padding, dilation=dilation)
    out, cache = L.conv2d_forward(x, w, b, **kw)
    tx, tw = _leaf(x), _leaf(w)
    tb = _leaf(b) if bias else None
    tout = F.conv2d(tx, tw, tb, **kw)
    _close(out, tout, dtype)
    dout = rng.standard_normal(out.shape).astype(dtype)
    tout.backward(torch.tensor(dout))
    dx, dw, db = L.conv2d_backward(dout, cache)
    _close(dx, tx.grad, dtype)
    _close(dw, tw.grad, dtype)
    if bias:
        _close(db, tb.grad, dtype)
    else:
        assert db is None


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "x_shape, w_shape, stride, padding, output_padding, dilation, bias",
    [
        ((2, 3, 4, 5), (3, 2, 3, 3), 1, 0, 0, 1, True),
        ((2, 3, 4, 5), (3, 2, 3, 2), 2, 1, 1, 1, True),
        ((1, 2, 3, 3), (2, 4, 4, 3), (3, 2), (1, 0), (2, 1), (1, 2), False),
        ((1, 2, 3, 2), (2, 1, 2, 2), 1, 0, (1, 2), 3, True),
        ((2, 1, 1, 1), (1, 3, 3, 3), 2, 1, 1, 1, True),
    ],
)
def test_conv_transpose2d_vs_torch(x_shape, w_shape, stride, padding, output_padding, dilation,
                                   bias, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[1]).astype(dtype) if bias else None
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation)
    out, cache = L.conv_transpose2d_forward(x, w, b, **kw)
    tx, tw = _leaf(x), _leaf(w)
    tb = _leaf(b) if bias else None
    tout = F.conv_transpose2d(tx, tw, tb, **kw)
    _close(out, tout, dtype)
    dout = rng.standard_normal(out.shape).astype(dtype)
    tout.backward(torch.tensor(dout))
    dx, dw, db = L.conv_transpose2d_backward(dout, cache)
    _close(dx, tx.grad, dtype)
    _close(dw, tw.grad, dtype)
    if bias:
        _close(db, tb.grad, dtype)


POOLS = [
    # x_shape, kernel_size, stride, padding, dilation
    ((2, 3, 8, 8), 2, None, 0, 1),
    ((2, 3, 9, 7), (3, 2), (2, 1), (1, 1), 1),
    ((1, 2, 7, 7), 3, 1, 1, 1),
    ((1, 2, 9, 8), 3, 2, 1, (2, 1)),
    ((1, 2, 1, 1), 3, 1, 1, 1),
    ((2, 2, 4, 5), (4, 5), None, 0, 1),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, kernel_size, stride, padding, dilation", POOLS)
@pytest.mark.parametrize("ties", [False, True])
def test_max_pool2d_vs_torch(x_shape, kernel_size, stride, padding, dilation, ties, dtype):
    rng = np.random.default_rng(2)
    if ties:
        x = rng.integers(-1, 2, x_shape).astype(dtype)
    else:
        x = rng.standard_normal(x_shape).astype(dtype)
    out, cache = L.max_pool2d_forward(x, kernel_size, stride, padding, dilation)
    tx = _leaf(x)
    tout = F.max_pool2d(tx, kernel_size, stride, padding, dilation)
    np.testing.assert_array_equal(out, tout.detach().numpy())
    dout = rng.standard_normal(out.shape).astype(dtype)
    tout.backward(torch.tensor(dout))
    _close(L.max_pool2d_backward(dout, cache), tx.grad, dtype)


@pytest.mark.torch
def test_max_pool2d_nan_vs_torch():
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    x[0, 0, 1, 2] = np.nan
    x[0, 0, 4, 4] = np.nan
    x[0, 0, 4, 5] = np.nan
    out, cache = L.max_pool2d_forward(x, 3, 1, 1)
    tx = _leaf(x)
    tout = F.max_pool2d(tx, 3, 1, 1)
    np.testing.assert_array_equal(out, tout.detach().numpy())
    dout = np.random.default_rng(3).standard_normal(out.shape)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(L.max_pool2d_backward(dout, cache), tx.grad.numpy(),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.torch
def test_max_pool2d_window_all_padding_vs_torch():
    """A dilated window can fall entirely into the padding: -inf, no gradient."""
    x = np.array([[[[0.5, -2.0]]]])
    out, cache = L.max_pool2d_forward(x, (1, 2), 1, (0, 1), (1, 3))
    tx = _leaf(x)
    tout = F.max_pool2d(tx, (1, 2), 1, (0, 1), (1, 3))
    np.testing.assert_array_equal(out, tout.detach().numpy())
    assert np.isneginf(out).any()
    dout = np.ones(out.shape)
    tout.backward(torch.tensor(dout))
    np.testing.assert_array_equal(L.max_pool2d_backward(dout, cache), tx.grad.numpy())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, kernel_size, stride, padding, dilation", POOLS)
def test_avg_pool2d_vs_torch(x_shape, kernel_size, stride, padding, dilation, dtype):
    if dilation != 1:
        pytest.skip("avg_pool2d has no dilation")
    rng = np.random.default_rng(4)
    x = rng.standard_normal(x_shape).astype(dtype)
    out, cache = L.avg_pool2d_forward(x, kernel_size, stride, padding)
    tx = _leaf(x)
    tout = F.avg_pool2d(tx, kernel_size, stride, padding)
    _close(out, tout, dtype)
    dout = rng.standard_normal(out.shape).astype(dtype)
    tout.backward(torch.tensor(dout))
    _close(L.avg_pool2d_backward(dout, cache), tx.grad, dtype)


@pytest.mark.parametrize("kernel_size, padding", [(3, 2), ((4, 2), (1, 2)), (1, 1)])
def test_pool_padding_limit_matches_torch(kernel_size, padding):
    x = np.zeros((1, 1, 6, 6))
    with pytest.raises(RuntimeError):
        F.max_pool2d(torch.tensor(x), kernel_size, 1, padding)
    with pytest.raises(ValueError):
        L.max_pool2d_forward(x, kernel_size, 1, padding)
    with pytest.raises(RuntimeError):
        F.avg_pool2d(torch.tensor(x), kernel_size, 1, padding)
    with pytest.raises(ValueError):
        L.avg_pool2d_forward(x, kernel_size, 1, padding)


@pytest.mark.parametrize("stride, output_padding, dilation, ok", [
    (2, 1, 1, True), (2, 2, 1, False), (1, 1, 2, True), (1, 2, 2, False), (2, 2, 3, True),
])
def test_output_padding_rule_matches_torch(stride, output_padding, dilation, ok):
    x = np.zeros((1, 1, 3, 3))
    w = np.zeros((1, 1, 3, 3))
    kw = dict(stride=stride, output_padding=output_padding, dilation=dilation)
    if ok:
        out, _ = L.conv_transpose2d_forward(x, w, None, **kw)
        assert out.shape == tuple(F.conv_transpose2d(torch.tensor(x), torch.tensor(w), **kw).shape)
    else:
        with pytest.raises(RuntimeError):
            F.conv_transpose2d(torch.tensor(x), torch.tensor(w), **kw)
        with pytest.raises(ValueError, match="output_padding"):
            L.conv_transpose2d_forward(x, w, None, **kw)
