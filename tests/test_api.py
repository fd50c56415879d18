"""unfold / fold / im2col / col2im against the brute-force reference, on every backend."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import im2col_ext
from im2col_ext import _api

import reference as ref

DTYPES = [np.float64, np.float32, np.int64, np.int32, np.float16, np.complex128]


def _data(rng, shape, dtype):
    a = rng.standard_normal(shape) * 10
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


@st.composite
def conv_cases(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    hmin = max(1, dh * (kh - 1) + 1 - 2 * ph)
    wmin = max(1, dw * (kw - 1) + 1 - 2 * pw)
    h = draw(st.integers(hmin, hmin + 6))
    w = draw(st.integers(wmin, wmin + 6))
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dtype = draw(st.sampled_from(DTYPES))
    seed = draw(st.integers(0, 2**31))
    return (n, c, h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw), dtype, seed


@given(conv_cases())
def test_unfold_fold_match_reference(case):
    shape, k, s, p, d, dtype, seed = case
    x = _data(np.random.default_rng(seed), shape, dtype)
    cols = im2col_ext.unfold(x, k, dilation=d, padding=p, stride=s)
    expect = ref.unfold(x, k, d, p, s)
    assert cols.dtype == x.dtype
    np.testing.assert_array_equal(cols, expect)  # a gather is exact
    back = im2col_ext.fold(expect, shape[2:], k, dilation=d, padding=p, stride=s)
    # fold sums as np.sum does: integers in int64, float16 returned as float16
    assert back.dtype == np.sum(x[:0]).dtype and back.shape == shape
    tol = 1e-2 if dtype == np.float16 else 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(back, ref.fold(expect, shape[2:], k, d, p, s), rtol=tol, atol=tol)


@given(conv_cases())
def test_cs231n_layout_matches_reference(case):
    shape, k, s, p, d, dtype, seed = case
    x = _data(np.random.default_rng(seed), shape, dtype)
    fh, fw = k
    pad, stride = p[0], s[0]
    if fh > shape[2] + 2 * pad or fw > shape[3] + 2 * pad:
        return
    cols = im2col_ext.im2col_indices(x, fh, fw, pad, stride)
    np.testing.assert_array_equal(cols, ref.im2col_cs231n(x, fh, fw, pad, stride))
    back = im2col_ext.col2im_indices(cols, shape, fh, fw, pad, stride)
    tol = 1e-2 if dtype == np.float16 else 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(back, ref.col2im_cs231n(cols, shape, fh, fw, pad, stride),
                               rtol=tol, atol=tol)


@pytest.mark.parametrize("layout", _api.LAYOUTS)
def test_layouts_are_permutations_of_each_other(layout):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 7, 6))
    torch_cols = im2col_ext.im2col(x, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2))
    n, k, L = torch_cols.shape
    cols = im2col_ext.im2col(x, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), layout=layout)
    if layout == "torch":
        expect = torch_cols
    elif layout == "cs231n":
        expect = torch_cols.transpose(1, 2, 0).reshape(k, L * n)
    else:
        expect = torch_cols.reshape(n, 2, 3, 2, -1).transpose(1, 2, 3, 0, 4).reshape(cols.shape)
    np.testing.assert_array_equal(cols, expect)
    back = im2col_ext.col2im(cols, x.shape, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2),
                             layout=layout)
    np.testing.assert_allclose(back, ref.fold(torch_cols, (7, 6), (3, 2), (1, 2), (1, 0), (2, 1)),
                               rtol=1e-13)


@given(conv_cases())
def test_col2im_is_the_adjoint_of_im2col(case):
    """<im2col(x), y> == <x, col2im(y)> for every x, y: the defining property."""
    shape, k, s, p, d, _, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    cols = im2col_ext.unfold(x, k, d, p, s)
    y = rng.standard_normal(cols.shape)
    lhs = np.vdot(cols, y)
    rhs = np.vdot(x, im2col_ext.fold(y, shape[2:], k, d, p, s))
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-10)


def test_unbatched_inputs():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 5, 4))
    cols = im2col_ext.unfold(x, 2, padding=1)
    np.testing.assert_array_equal(cols, ref.unfold(x[None], 2, 1, 1, 1)[0])
    back = im2col_ext.fold(cols, (5, 4), 2, padding=1)
    assert back.shape == (2, 5, 4)
    np.testing.assert_allclose(back, ref.fold(cols[None], (5, 4), 2, 1, 1, 1)[0])


@pytest.mark.parametrize("make", [
    lambda a: np.asfortranarray(a),
    lambda a: a[::-1, :, ::-1, :],
    lambda a: np.repeat(a, 2, axis=3)[..., ::2],
    lambda a: a.transpose(0, 1, 3, 2).copy().transpose(0, 1, 3, 2),
])
def test_strided_and_readonly_inputs(make):
    rng = np.random.default_rng(2)
    base = rng.standard_normal((3, 2, 6, 5))
    x = make(base.copy())
    x.setflags(write=False)
    before = x.copy()
    expect = ref.unfold(np.ascontiguousarray(x), 3, 1, 1, 2)
    np.testing.assert_array_equal(im2col_ext.unfold(x, 3, padding=1, stride=2), expect)
    np.testing.assert_array_equal(
        im2col_ext.im2col_indices(x, 3, 3, 1, 2), ref.im2col_cs231n(np.ascontiguousarray(x), 3, 3, 1, 2))
    np.testing.assert_array_equal(x, before)
    cols = np.asfortranarray(expect)
    cols.setflags(write=False)
    np.testing.assert_allclose(im2col_ext.fold(cols, (6, 5), 3, padding=1, stride=2),
                               ref.fold(expect, (6, 5), 3, 1, 1, 2), rtol=1e-13)


def test_unaligned_and_byteswapped_inputs():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 5, 5))
    buf = np.zeros(x.nbytes + 1, dtype=np.uint8)
    unaligned = np.frombuffer(buf[1:].data, dtype=np.float64).reshape(x.shape)
    unaligned[...] = x
    assert not unaligned.flags.aligned
    swapped = x.astype(">f8")
    expect = ref.unfold(x, 3, 1, 1, 1)
    for arr in (unaligned, swapped):
        cols = im2col_ext.unfold(arr, 3, padding=1)
        np.testing.assert_array_equal(cols, expect)
        assert cols.dtype == np.float64 and cols.dtype.isnative
        back = im2col_ext.fold(cols.astype(arr.dtype), (5, 5), 3, padding=1)
        np.testing.assert_allclose(back, ref.fold(expect, (5, 5), 3, 1, 1, 1), rtol=1e-13)


def test_empty_batch():
    x = np.zeros((0, 3, 5, 5), dtype=np.float32)
    cols = im2col_ext.unfold(x, 3)
    assert cols.shape == (0, 27, 9) and cols.dtype == np.float32
    assert im2col_ext.fold(cols, 5, 3).shape == (0, 3, 5, 5)
    c2 = im2col_ext.im2col_indices(x, 3, 3)
    assert c2.shape == (27, 0)
    back = im2col_ext.col2im_indices(c2, x.shape)
    assert back.shape == x.shape and back.dtype == np.float32


def test_zero_channels():
    x = np.zeros((2, 0, 4, 4))
    assert im2col_ext.unfold(x, 2).shape == (2, 0, 9)
    out = im2col_ext.fold(np.zeros((2, 0, 9)), 4, 2)
    assert out.shape == (2, 0, 4, 4)


def test_outputs_never_alias_inputs():
    x = np.random.default_rng(4).standard_normal((1, 1, 3, 3))
    cols = im2col_ext.unfold(x, 1)
    assert not np.shares_memory(cols, x)
    back = im2col_ext.fold(cols, 3, 1)
    assert not np.shares_memory(back, cols)


def test_backend_attribute_names_the_kernels(backend):
    assert im2col_ext.backend == backend
    assert im2col_ext.backend in ("c", "numpy")


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32])
def test_out_argument_is_written_and_returned(dtype):
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((3, 2, 6, 5)) * 5).astype(dtype)
    cases = [
        (lambda out: im2col_ext.unfold(x, 3, padding=1, stride=2, out=out),
         lambda: ref.unfold(x, 3, 1, 1, 2)),
        (lambda out: im2col_ext.unfold(x[0], 3, padding=1, out=out),
         lambda: ref.unfold(x[:1], 3, 1, 1, 1)[0]),
        (lambda out: im2col_ext.im2col_indices(x, 3, 2, 1, 1, out=out),
         lambda: ref.im2col_cs231n(x, 3, 2, 1, 1)),
        (lambda out: im2col_ext.im2col(x, 2, layout="6d", out=out),
         lambda: im2col_ext.im2col(x, 2, layout="6d")),
    ]
    for call, expect in cases:
        e = expect()
        out = np.full(e.shape, 7, dtype=dtype)
        got = call(out)
        assert got is out
        np.testing.assert_array_equal(out, e)
    cols = ref.unfold(x, 3, 1, 1, 2)
    sum_dtype = np.sum(x[:0]).dtype  # fold's result type is np.sum's
    out = np.full(x.shape, 7, dtype=sum_dtype)
    assert im2col_ext.fold(cols, (6, 5), 3, padding=1, stride=2, out=out) is out
    np.testing.assert_allclose(out, ref.fold(cols, (6, 5), 3, 1, 1, 2), rtol=1e-5)
    out3 = np.full(x.shape[1:], 7, dtype=sum_dtype)
    assert im2col_ext.fold(cols[0], (6, 5), 3, padding=1, stride=2, out=out3) is out3
    np.testing.assert_allclose(out3, ref.fold(cols[:1], (6, 5), 3, 1, 1, 2)[0], rtol=1e-5)
    c2 = ref.im2col_cs231n(x, 3, 3, 1, 1)
    out = np.full(x.shape, 7, dtype=dtype)
    assert im2col_ext.col2im_indices(c2, x.shape, out=out) is out
    np.testing.assert_allclose(out, ref.col2im_cs231n(c2, x.shape, 3, 3, 1, 1), rtol=1e-5)
    empty = np.zeros((9, 0), dtype=dtype)
    out = np.full((0, 1, 4, 4), 7, dtype=dtype)
    assert im2col_ext.col2im_indices(empty, (0, 1, 4, 4), out=out) is out


@pytest.mark.any_backend
def test_out_argument_is_checked():
    x = np.random.default_rng(12).standard_normal((2, 2, 5, 5))
    good = np.zeros((2, 18, 25))
    with pytest.raises(ValueError, match="out has shape"):
        im2col_ext.unfold(x, 3, padding=1, out=good[:1])
    with pytest.raises(TypeError, match="out has dtype"):
        im2col_ext.unfold(x, 3, padding=1, out=good.astype(np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        im2col_ext.unfold(x, 3, padding=1, out=np.empty((25, 18, 2)).T)
    ro = good.copy()
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        im2col_ext.unfold(x, 3, padding=1, out=ro)
    with pytest.raises(TypeError, match="out"):
        im2col_ext.unfold(x, 3, padding=1, out=[[0.0]])
    cols = im2col_ext.unfold(x, 1)
    with pytest.raises(ValueError, match="overlap"):
        im2col_ext.fold(cols, 5, 1, out=cols.reshape(x.shape))
    before = x.copy()
    with pytest.raises(ValueError, match="overlap"):
        im2col_ext.im2col(x, 1, out=x.reshape(2, 2, 25))
    np.testing.assert_array_equal(x, before)


class _ArrayLike:
    """An object exposing ``__array__`` (as a CPU torch tensor does)."""

    def __init__(self, a):
        self._a = a

    def __array__(self, dtype=None, copy=None):
        return self._a if dtype is None else self._a.astype(dtype)


@pytest.mark.any_backend
def test_array_likes_are_accepted_with_their_own_dtype():
    x = np.arange(2 * 3 * 5 * 5, dtype=np.int16).reshape(2, 3, 5, 5)
    want = im2col_ext.unfold(x, 3, padding=1)
    for like in (x.tolist(), _ArrayLike(x)):
        got = im2col_ext.unfold(like, 3, padding=1)
        assert got.dtype == (np.int16 if isinstance(like, _ArrayLike) else np.asarray(like).dtype)
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(
        im2col_ext.fold(want.tolist(), (5, 5), 3, padding=1), im2col_ext.fold(want, (5, 5), 3, padding=1))
    np.testing.assert_array_equal(
        im2col_ext.im2col(_ArrayLike(x), (3, 3)), im2col_ext.im2col(x, (3, 3)))
    from im2col_ext import layers as L
    w = np.ones((4, 3, 3, 3))
    out, _ = L.conv2d_forward(x.astype(float).tolist(), w.tolist())
    np.testing.assert_allclose(out, L.conv2d_forward(x.astype(float), w)[0])
    for bad in (None, "abc", [["a", "b"]], [[1, 2], [3]]):
        with pytest.raises(TypeError, match="x"):
            im2col_ext.unfold(bad, (2,))
