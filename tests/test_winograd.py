"""Winograd F(2x2, 3x3) convolutions: against the gemm path, a brute-force loop and torch.

Every test runs on both backends (conftest's ``backend`` fixture): the C
transforms of ``src_c/winograd.c`` and their NumPy twins in ``_winograd``.
"""

import numpy as np
import pytest

from im2col_ext import _backend, _winograd, layers
from im2col_ext._geometry import window

SHAPES = [  # x shape, F, padding
    ((2, 3, 7, 6), 4, (1, 1)),
    ((1, 1, 3, 3), 1, (0, 0)),       # one output pixel
    ((3, 2, 5, 8), 2, (0, 2)),
    ((2, 2, 6, 6), 3, (2, 0)),
    ((2, 2, 9, 151), 3, (1, 2)),     # more tiles per row than one C chunk
    ((1, 2, 140, 4), 2, (0, 1)),
    ((0, 2, 5, 5), 2, (1, 1)),       # empty batch
]


def brute_force(x, w, b, ph, pw, dout):
    """out, dx, dw, db straight from the definition (float64 loops over taps)."""
    n, c, h, wd = x.shape
    f = w.shape[0]
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    oh, ow = h + 2 * ph - 2, wd + 2 * pw - 2
    out = np.zeros((n, f, oh, ow)) + b.reshape(1, f, 1, 1)
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape)
    for ky in range(3):
        for kx in range(3):
            win = xp[:, :, ky:ky + oh, kx:kx + ow]                  # (n, c, oh, ow)
            out += np.einsum("nchw,fc->nfhw", win, w[:, :, ky, kx])
            dw[:, :, ky, kx] = np.einsum("nchw,nfhw->fc", win, dout)
            dxp[:, :, ky:ky + oh, kx:kx + ow] += np.einsum("nfhw,fc->nchw", dout, w[:, :, ky, kx])
    return out, dxp[:, :, ph:ph + h, pw:pw + wd], dw, dout.sum(axis=(0, 2, 3))


def _data(x_shape, f, ph, pw, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    n, c, h, w = x_shape
    x = rng.standard_normal(x_shape).astype(dtype)
    wt = rng.standard_normal((f, c, 3, 3)).astype(dtype)
    b = rng.standard_normal(f).astype(dtype)
    dout = rng.standard_normal((n, f, h + 2 * ph - 2, w + 2 * pw - 2)).astype(dtype)
    return x, wt, b, dout


@pytest.mark.parametrize("x_shape, f, pad", SHAPES)
def test_matches_brute_force(x_shape, f, pad):
    x, w, b, dout = _data(x_shape, f, *pad)
    out, cache = layers.conv2d_forward(x, w, b, padding=pad, algorithm="winograd")
    assert isinstance(cache, _winograd.WinogradCache)
    dx, dw, db = layers.conv2d_backward(dout, cache)
    for got, want in zip((out, dx, dw, db), brute_force(x, w, b, *pad, dout)):
        assert got.shape == want.shape and got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, f, pad", SHAPES[:5])
def test_matches_gemm(x_shape, f, pad, dtype):
    x, w, b, dout = _data(x_shape, f, *pad, dtype=dtype, seed=1)
    results = []
    for algorithm in ("gemm", "winograd"):
        out, cache = layers.conv2d_forward(x, w, b, padding=pad, algorithm=algorithm)
        results.append((out,) + tuple(layers.conv2d_backward(dout, cache)))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for got, want in zip(*results[::-1]):
        assert got.dtype == want.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


def test_no_bias():
    x, w, _, dout = _data((2, 3, 6, 5), 2, 1, 1)
    out, cache = layers.conv2d_forward(x, w, None, padding=1, algorithm="winograd")
    dx, dw, db = layers.conv2d_backward(dout, cache)
    assert db is None
    want = brute_force(x, w, np.zeros(2), 1, 1, dout)
    np.testing.assert_allclose(out, want[0], atol=1e-12)


def test_c_transforms_match_the_numpy_twins():
    """The C kernels and the NumPy twins agree transform by transform."""
    if _backend.compiled is None:
        pytest.skip("the compiled extension is not built")
    rng = np.random.default_rng(2)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((2, 3, 9, 140)).astype(dtype)
        wg = _winograd.geometry(x.shape, (1, 2))
        p = wg.n * wg.th * wg.tw
        m = rng.standard_normal((16, 3, p)).astype(dtype)
        bias = rng.standard_normal(3).astype(dtype)
        dy = rng.standard_normal((2, 3, wg.oh, wg.ow)).astype(dtype)
        for name, args, out_shape in [
            ("winograd_input", (x,), (16, 3, p)),
            ("winograd_output", (m, bias), (2, 3, wg.oh, wg.ow)),
            ("winograd_output_adjoint", (dy,), (16, 3, p)),
            ("winograd_input_adjoint", (m,), x.shape),
        ]:
            got, want = np.empty(out_shape, dtype), np.empty(out_shape, dtype)
            getattr(_backend.compiled, name)(*args, got, tuple(wg))
            getattr(_winograd, name)(*args, want, tuple(wg))
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=name)


def test_bitwise_identical_for_any_thread_count():
    if _backend.compiled is None:
        pytest.skip("the compiled extension is not built")
    x, w, b, dout = _data((4, 8, 30, 30), 8, 1, 1, dtype=np.float32)
    results = []
    previous = _backend.get_num_threads()
    try:
        for threads in (1, 2):
            _backend.set_num_threads(threads)
            out, cache = layers.conv2d_forward(x, w, b, padding=1, algorithm="winograd")
            results.append((out,) + tuple(layers.conv2d_backward(dout, cache)))
    finally:
        _backend.set_num_threads(previous)
    for a, c in zip(*results):
        np.testing.assert_array_equal(a, c)


def _win(c, kernel, stride, padding, dilation):
    return window(2, c, (8, 8), kernel, stride, padding, dilation, channel_axis=1)


def test_algorithm_choice():
    w33 = _win(16, 3, 1, 1, 1)
    assert _winograd.chosen("auto", w33, 16, np.float32)
    assert not _winograd.chosen("auto", _win(3, 3, 1, 1, 1), 16, np.float32)
    assert not _winograd.chosen("auto", w33, 16, np.float32, groups=2)
    assert not _winograd.chosen("auto", w33, 16, np.float32, mode="reflect")
    assert not _winograd.chosen("gemm", w33, 16, np.float32)
    for win in (_win(16, 5, 1, 2, 1), _win(16, 3, 2, 1, 1), _win(16, 3, 1, 2, 2)):
        assert not _winograd.chosen("auto", win, 16, np.float32)
        with pytest.raises(ValueError, match="winograd"):
            _winograd.chosen("winograd", win, 16, np.float32)
    x, w, b, _ = _data((1, 2, 5, 5), 2, 1, 1)
    with pytest.raises(ValueError, match="algorithm"):
        layers.conv2d_forward(x, w, b, padding=1, algorithm="fft")


def test_asymmetric_padding():
    """Padding given per side (torch's F.pad order) reaches the tiles as it should."""
    x, w, b, _ = _data((2, 3, 7, 6), 4, 1, 1, seed=5)
    pad = ((1, 0), (2, 1))
    out, cache = layers.conv2d_forward(x, w, b, padding=pad, algorithm="winograd")
    ref, ref_cache = layers.conv2d_forward(x, w, b, padding=pad, algorithm="gemm")
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    dout = np.random.default_rng(6).standard_normal(out.shape)
    for got, want in zip(layers.conv2d_backward(dout, cache),
                         layers.conv2d_backward(dout, ref_cache)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_bad_dout_shape():
    x, w, b, dout = _data((2, 3, 6, 6), 2, 1, 1)
    _, cache = layers.conv2d_forward(x, w, b, padding=1, algorithm="winograd")
    with pytest.raises(ValueError, match="dout"):
        layers.conv2d_backward(dout[:, :, :-1], cache)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_torch(dtype):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    x, w, b, dout = _data((3, 4, 11, 10), 5, 1, 1, dtype=dtype, seed=3)
    out, cache = layers.conv2d_forward(x, w, b, padding=1, algorithm="winograd")
    dx, dw, db = layers.conv2d_backward(dout, cache)
    xt = torch.from_numpy(x).requires_grad_(True)
    wt = torch.from_numpy(w).requires_grad_(True)
    bt = torch.from_numpy(b).requires_grad_(True)
    ot = torch.nn.functional.conv2d(xt, wt, bt, padding=1)
    ot.backward(torch.from_numpy(dout))
    tol = 1e-4 if dtype == np.float32 else 1e-11
    for got, want in ((out, ot), (dx, xt.grad), (dw, wt.grad), (db, bt.grad)):
        want = want.detach().numpy()
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


def _float32_error(algorithm, seed=4):
    """Max |error| / max |reference| of float32 out, dx, dw against float64."""
    x, w, b, dout = _data((4, 32, 16, 16), 32, 1, 1, seed=seed)
    w /= np.sqrt(32 * 9)
    ref_out, ref_cache = layers.conv2d_forward(x, w, b, padding=1, algorithm="gemm")
    ref = (ref_out,) + tuple(layers.conv2d_backward(dout, ref_cache))[:2]
    f32 = [a.astype(np.float32) for a in (x, w, b, dout)]
    out, cache = layers.conv2d_forward(*f32[:3], padding=1, algorithm=algorithm)
    got = (out,) + tuple(layers.conv2d_backward(f32[3], cache))[:2]
    return {k: float(np.abs(g - r).max() / np.abs(r).max())
            for k, g, r in zip(("out", "dx", "dw"), got, ref)}


def test_float32_accuracy_is_documented():
    """The documented float32 errors (``_winograd.ACCURACY``) hold within 4x."""
    for algorithm in ("gemm", "winograd"):
        err = _float32_error(algorithm)
        for key, value in err.items():
            assert value <= 4 * _winograd.ACCURACY[algorithm][key], (algorithm, key, value)
