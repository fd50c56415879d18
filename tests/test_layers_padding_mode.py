"""padding_mode on the conv layers (issue 11): torch's nn.ConvNd(padding_mode=...), forward and backward."""

import numpy as np
import pytest

from im2col_ext import layers

import reference_padding as ref

MODES = ["reflect", "replicate", "circular"]


def _np_pad(x, pads, mode):
    width = [(0, 0), (0, 0)] + [tuple(p) for p in pads]
    return np.pad(x, width, mode=ref.NP_MODES[mode])


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("mode", MODES)
def test_conv_with_mode_is_conv_of_padded_input(d, mode):
    """Without torch: conv(x, mode) == conv(np.pad(x, mode)), and dx is its adjoint."""
    rng = np.random.default_rng(d)
    size = (5, 6, 4)[:d]
    x = rng.standard_normal((2, 4) + size)
    w = rng.standard_normal((6, 2) + (3,) * d)
    pads = [(2, 1), (1, 2), (1, 1)][:d]
    conv = getattr(layers, f"conv{d}d_forward")
    back = getattr(layers, f"conv{d}d_backward")
    out, cache = conv(x, w, None, 2, tuple(pads), 1, 2, padding_mode=mode)
    expect, pcache = conv(_np_pad(x, pads, mode), w, None, 2, 0, 1, 2)
    np.testing.assert_allclose(out, expect, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx, dw, _ = back(dout, cache)
    _, dwp, _ = back(dout, pcache)
    np.testing.assert_allclose(dw, dwp, rtol=1e-12, atol=1e-12)
    v = rng.standard_normal(x.shape)   # <conv(v), dout> == <v, dx> (linear in x)
    np.testing.assert_allclose(np.vdot(conv(v, w, None, 2, tuple(pads), 1, 2,
                                            padding_mode=mode)[0], dout),
                               np.vdot(v, dx), rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("mode", MODES + ["zeros"])
def test_conv_matches_torch(mode, d, channel_axis):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    size = (6, 7, 5)[:d]
    x = rng.standard_normal((2, 4) + size)
    w = rng.standard_normal((6, 2) + (3,) * d)
    b = rng.standard_normal(6)
    conv = getattr(torch.nn, f"Conv{d}d")(4, 6, 3, stride=2, padding=2, groups=2,
                                          padding_mode=mode).double()
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(w))
        conv.bias.copy_(torch.from_numpy(b))
    xt = torch.from_numpy(x).requires_grad_()
    ot = conv(xt)
    g = torch.from_numpy(rng.standard_normal(tuple(ot.shape)))
    ot.backward(g)
    move = (lambda a: a) if channel_axis == 1 else (lambda a: np.moveaxis(a, 1, -1).copy())
    unmove = (lambda a: a) if channel_axis == 1 else (lambda a: np.moveaxis(a, -1, 1))
    out, cache = getattr(layers, f"conv{d}d_forward")(move(x), w, b, 2, 2, 1, 2,
                                                     channel_axis=channel_axis,
                                                     padding_mode=mode)
    dx, dw, db = getattr(layers, f"conv{d}d_backward")(move(g.numpy()), cache)
    np.testing.assert_allclose(unmove(out), ot.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(unmove(dx), xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dw, conv.weight.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(db, conv.bias.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_bad_padding_mode_in_layers():
    x = np.zeros((1, 2, 4, 4))
    w = np.zeros((3, 2, 3, 3))
    for mode in ("mirror", "constant"):
        with pytest.raises(ValueError, match="padding_mode"):
            layers.conv2d_forward(x, w, padding=1, padding_mode=mode)
    with pytest.raises(ValueError, match="too large.*reflect"):
        layers.conv2d_forward(x, w, padding=4, padding_mode="reflect")
    wt = np.zeros((2, 3, 3, 3))
    for d, shape in ((1, (1, 2, 4)), (2, (1, 2, 4, 4)), (3, (1, 2, 4, 4, 4))):
        f = getattr(layers, f"conv_transpose{d}d_forward")
        with pytest.raises(ValueError, match="padding_mode must be 'zeros'"):
            f(np.zeros(shape), np.zeros((2, 3) + (3,) * d), padding_mode="reflect")
        with pytest.raises(ValueError, match="padding_mode"):
            f(np.zeros(shape), np.zeros((2, 3) + (3,) * d), padding_mode="nope")
    layers.conv_transpose2d_forward(x, wt, padding_mode="zeros")
