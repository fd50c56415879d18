"""fold / col2im with reduction="mean" (issue 11): the average of overlapping patches."""

import itertools

import numpy as np
import pytest

import im2col_ext

import reference_padding as ref

MODES = ["zeros", "constant", "reflect", "replicate", "circular"]


def _geometries():
    """(size, kernel, dilation, padding, stride) over ranks, strides, dilations, paddings."""
    for d in (1, 2, 3):
        size = (7, 6, 5)[:d]
        for k, dl, s, p in itertools.product((2, 3), (1, 2), (1, 2, 3), (0, 1, 2)):
            if all(n + 2 * p >= dl * (k - 1) + 1 for n in size) and (d < 3 or s == 2):
                yield d, size, (k,) * d, dl, p, s


@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("mode", MODES)
def test_mean_round_trip_where_covered(mode, channel_axis):
    """fold(unfold(x), reduction="mean") == x wherever a window covers the pixel; 0 elsewhere."""
    rng = np.random.default_rng(0)
    for d, size, k, dl, p, s in _geometries():
        shape = (2, 3) + size if channel_axis == 1 else (2,) + size + (3,)
        x = rng.standard_normal(shape)
        kw = dict(dilation=dl, padding=p, stride=s, channel_axis=channel_axis, padding_mode=mode)
        cols = im2col_ext.unfold(x, k, **kw)
        mean = im2col_ext.fold(cols, size, k, reduction="mean", **kw)
        count = ref.coverage(size, k, dl, p, s, mode)
        covered = count > 0
        if channel_axis == 1:
            covered = np.broadcast_to(covered, x.shape)
        else:
            covered = np.broadcast_to(covered[..., None], x.shape)
        np.testing.assert_allclose(mean[covered], x[covered], rtol=1e-13, atol=1e-13)
        assert not mean[~covered].any()


@pytest.mark.parametrize("mode", MODES)
def test_mean_is_sum_over_brute_force_count(mode):
    rng = np.random.default_rng(1)
    for d, size, k, dl, p, s in _geometries():
        if mode == "reflect" and p >= min(size):
            continue
        x = rng.standard_normal((1, 2) + size)
        cols = im2col_ext.unfold(x, k, dl, p, s)
        y = rng.standard_normal(cols.shape)
        total = ref.fold(y, size, k, dl, p, s, mode)
        count = ref.coverage(size, k, dl, p, s, mode)
        expect = np.where(count > 0, total / np.maximum(count, 1), 0)
        got = im2col_ext.fold(y, size, k, dl, p, s, padding_mode=mode, reduction="mean")
        np.testing.assert_allclose(got, expect, rtol=1e-12, atol=1e-12)


def test_denoising_patches():
    """Extract overlapping patches, process them, average them back (the README use)."""
    rng = np.random.default_rng(2)
    img = rng.random((64, 64))
    patches = im2col_ext.unfold(img[None], (8, 8), stride=4, padding=4,
                                padding_mode="reflect")          # (64, L)
    cleaned = patches - patches.mean(axis=0, keepdims=True) + patches.mean(axis=0)
    out = im2col_ext.fold(cleaned, (64, 64), (8, 8), stride=4, padding=4,
                          padding_mode="reflect", reduction="mean")
    assert out.shape == (1, 64, 64)
    np.testing.assert_allclose(out[0], img, atol=1e-12)


@pytest.mark.parametrize("dtype, result", [
    (np.bool_, np.float64), (np.int8, np.float64), (np.uint8, np.float64),
    (np.int64, np.float64), (np.uint64, np.float64), (np.float16, np.float16),
    (np.float32, np.float32), (np.float64, np.float64), (np.complex64, np.complex64),
])
def test_mean_result_dtype(dtype, result):
    x = (np.arange(2 * 3 * 6 * 5) % 7).astype(dtype).reshape(2, 3, 6, 5)
    cols = im2col_ext.unfold(x, 3, padding=1, stride=2)
    got = im2col_ext.fold(cols, (6, 5), 3, padding=1, stride=2, reduction="mean")
    assert got.dtype == result
    tol = 1e-3 if dtype == np.float16 else 1e-6
    np.testing.assert_allclose(got.astype(np.complex128), x.astype(np.complex128), rtol=tol)
    if np.dtype(dtype).kind != "c":
        got32 = im2col_ext.fold(cols, (6, 5), 3, padding=1, stride=2, reduction="mean",
                                dtype=np.float32)
        assert got32.dtype == np.float32


def test_col2im_mean_every_layout():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 2, 7, 6))
    for layout in ("torch", "cs231n", "6d"):
        kw = dict(stride=2, padding=1, layout=layout)
        cols = im2col_ext.im2col(x, 3, **kw)
        back = im2col_ext.col2im(cols, x.shape, 3, reduction="mean", **kw)
        np.testing.assert_allclose(back, x, rtol=1e-13)
        out = np.empty_like(x)
        assert im2col_ext.col2im(cols, x.shape, 3, reduction="mean", out=out, **kw) is out
        np.testing.assert_array_equal(out, back)


def test_mean_unbatched_and_empty():
    x = np.arange(3 * 5 * 4, dtype=np.float32).reshape(3, 5, 4)
    cols = im2col_ext.unfold(x, 2, padding=1)
    np.testing.assert_allclose(im2col_ext.fold(cols, (5, 4), 2, padding=1, reduction="mean"), x)
    empty = np.zeros((0, 3 * 4, 30), dtype=np.int16)
    got = im2col_ext.fold(empty, (5, 4), 2, padding=1, reduction="mean")
    assert got.shape == (0, 3, 5, 4) and got.dtype == np.float64


def test_bad_reduction_and_dtype():
    cols = np.ones((1, 9, 16), dtype=np.int32)
    before = cols.copy()
    for reduction in ("avg", "Mean", None, 1):
        with pytest.raises(ValueError, match="reduction"):
            im2col_ext.fold(cols, 4, 3, padding=1, reduction=reduction)
        with pytest.raises(ValueError, match="reduction"):
            im2col_ext.col2im(cols, (1, 1, 4, 4), 3, padding=1, reduction=reduction)
    with pytest.raises(ValueError, match="dtype"):
        im2col_ext.fold(cols, 4, 3, padding=1, reduction="mean", dtype=np.int64)
    np.testing.assert_array_equal(cols, before)


def test_mean_divisors_are_cached_per_geometry_mode_and_dtype():
    """The per-axis counts are cached (a small fold's mean paid a third of its
    extra time computing them): the same geometry again hits the cache, and a
    change of padding mode, padding or dtype does not reuse another's counts."""
    from im2col_ext import _api

    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 7, 6))
    _api._mean_factors.cache_clear()
    for _ in range(2):
        for mode, pad, dt in [("zeros", 1, np.float64), ("reflect", 1, np.float64),
                              ("zeros", 2, np.float64), ("zeros", 1, np.float32)]:
            xd = x.astype(dt)
            cols = im2col_ext.unfold(xd, 3, padding=pad, padding_mode=mode)
            mean = im2col_ext.fold(cols, (7, 6), 3, padding=pad, padding_mode=mode,
                                   reduction="mean")
            count = ref.coverage((7, 6), (3, 3), 1, pad, 1, mode)
            expect = im2col_ext.fold(cols, (7, 6), 3, padding=pad, padding_mode=mode) / count
            np.testing.assert_array_equal(mean, expect.astype(dt))
    info = _api._mean_factors.cache_info()
    assert info.misses == 4 and info.hits == 4
