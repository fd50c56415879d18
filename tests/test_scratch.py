"""The per-thread scratch buffers of the layers (im2col_ext._scratch) and the
convolutions that use them: nothing taken from a buffer reaches a result or a
cache, so interleaved forward and backward passes stay independent."""
import threading

import numpy as np
import pytest

import reference
from im2col_ext import _scratch, layers as L
from im2col_ext.cs231n import fast_layers


@pytest.fixture(autouse=True)
def _fresh():
    _scratch.release()
    yield
    _scratch.release()


def test_take_shape_dtype_alignment_and_reuse():
    a = _scratch.take("t", (3, 5), np.float32)
    assert a.shape == (3, 5) and a.dtype == np.float32 and a.flags.c_contiguous
    assert a.ctypes.data % 64 == 0
    a[...] = 7
    b = _scratch.take("t", (2, 4), np.float64)        # smaller: the same memory
    assert b.ctypes.data == a.ctypes.data and b.dtype == np.float64 and b.shape == (2, 4)
    c = _scratch.take("u", (3, 5), np.float32)        # another name: another buffer
    assert not np.shares_memory(c, a)
    d = _scratch.take("t", (100, 100), np.float64)    # larger: grown
    assert d.shape == (100, 100) and d.ctypes.data % 64 == 0
    assert _scratch.take("t", (100, 100), np.float64).ctypes.data == d.ctypes.data
    assert _scratch.take("e", (0, 3), np.float64).shape == (0, 3)


def test_requests_over_the_limit_are_not_kept(monkeypatch):
    monkeypatch.setattr(_scratch, "LIMIT", 1024)
    a = _scratch.take("big", (200,), np.float64)      # 1600 bytes > LIMIT
    b = _scratch.take("big", (200,), np.float64)
    assert not np.shares_memory(a, b)
    assert "big" not in _scratch._local.buffers


def test_threads_do_not_share_buffers():
    got = {}

    def grab(key):
        got[key] = _scratch.take("t", (64,), np.float64).ctypes.data

    grab("main")
    t = threading.Thread(target=grab, args=("other",))
    t.start()
    t.join()
    assert got["main"] != got["other"]


def test_release_drops_the_buffers():
    """(layers.release_buffers is the public name.)"""
    a = _scratch.take("t", (64,), np.float64)
    L.release_buffers()
    assert _scratch._local.buffers == {}
    b = _scratch.take("t", (64,), np.float64)
    assert not np.shares_memory(a, b)


def _conv_ref(x, w, b, padding):
    f = w.shape[0]
    cols = reference.unfold(x, w.shape[2:], 1, padding, 1)
    out = np.einsum("fk,nkl->nfl", w.reshape(f, -1), cols) + b[:, None]
    return out.reshape(x.shape[0], f, x.shape[2] + 2 * padding - w.shape[2] + 1, -1)


@pytest.mark.parametrize("algorithm", ["gemm", "winograd", "winograd4x4"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_interleaved_convolutions_stay_independent(algorithm, dtype):
    """Two forward passes, then their backward passes in the other order: each result is
    that of its own call (a result or cache taken from a scratch buffer would be overwritten)."""
    rng = np.random.default_rng(4)
    tol = dict(rtol=2e-4, atol=2e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    runs = []
    for n in (3, 2):
        x = rng.standard_normal((n, 4, 9, 8)).astype(dtype)
        w = rng.standard_normal((5, 4, 3, 3)).astype(dtype)
        b = rng.standard_normal(5).astype(dtype)
        out, cache = L.conv2d_forward(x, w, b, padding=1, algorithm=algorithm)
        runs.append((x, w, b, out, out.copy(), cache))
    grads = {}
    for i in (1, 0):
        x, w, b, out, out0, cache = runs[i]
        dout = np.ones(out.shape, dtype)
        grads[i] = L.conv2d_backward(dout, cache)
    for i, (x, w, b, out, out0, cache) in enumerate(runs):
        np.testing.assert_array_equal(out, out0)
        np.testing.assert_allclose(out, _conv_ref(x.astype(np.float64), w, b, 1), **tol)
        dx, dw, db = grads[i]
        # with dout = 1: dx[n, c] = sum over filters of the flipped kernel's correlation
        # with a padded image of ones; dw[f, c, i, j] = sum of the window (i, j) of x
        ones = np.ones((x.shape[0], 5, x.shape[2], x.shape[3]))
        cols1 = reference.unfold(ones, (3, 3), 1, 1, 1)           # (N, 5*9, L)
        cols_x = reference.unfold(x.astype(np.float64), (3, 3), 1, 1, 1)
        np.testing.assert_allclose(dw, np.broadcast_to(cols_x.sum(axis=(0, 2)).reshape(1, 4, 3, 3),
                                                       w.shape), **tol)
        np.testing.assert_allclose(db, np.full(5, out[:, 0].size), **tol)
        dx_ref = reference.fold(np.einsum("fk,nfl->nkl", w.reshape(5, -1).astype(np.float64),
                                          np.ones((x.shape[0], 5, cols1.shape[2]))),
                                x.shape[2:], (3, 3), 1, 1, 1)
        np.testing.assert_allclose(dx, dx_ref, **tol)


def test_fast_layers_convolutions_stay_independent():
    rng = np.random.default_rng(5)
    x1, x2 = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((4, 3, 8, 8))
    w, b = rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    param = {"stride": 1, "pad": 1}
    out1, cache1 = fast_layers.conv_forward_fast(x1, w, b, param)
    dx1, dw1, db1 = fast_layers.conv_backward_fast(np.ones(out1.shape), cache1)
    out2, cache2 = fast_layers.conv_forward_fast(x2, w, b, param)
    again = fast_layers.conv_backward_fast(np.ones(out1.shape), cache1)
    fast_layers.conv_backward_fast(np.ones(out2.shape), cache2)
    for got, want in zip(again, (dx1, dw1, db1)):
        np.testing.assert_array_equal(got, want)
