"""Every NumPy dtype (issue 11): gathers by item size, fold summing as np.sum does, backend_for."""

import numpy as np
import pytest

import im2col_ext
from im2col_ext import _backend
from im2col_ext import _numpy_backend

import reference_padding as ref

ALL = ["?", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "g",
       "c8", "c16", "G", ">i2", ">u4", ">f8", ">c8"]


def _data(dtype, shape, rng):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, endpoint=True, dtype=dtype.newbyteorder("="))\
            .astype(dtype)
    x = rng.standard_normal(shape) * 30
    if dtype.kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def _on_numpy(call):
    previous = _backend.use("numpy")
    try:
        return call()
    finally:
        _backend.use(previous)


@pytest.mark.parametrize("dtype", ALL)
def test_gathers_bitwise_every_layout(dtype):
    """unfold / im2col of every dtype equal the reference, and the C path the NumPy twin, bitwise."""
    rng = np.random.default_rng(0)
    x = _data(dtype, (2, 3, 6, 5), rng)
    calls = [
        lambda: im2col_ext.unfold(x, 3, padding=1, stride=2),
        lambda: im2col_ext.unfold(x[:, :, 0], (3,), padding=2, padding_mode="reflect"),
        lambda: im2col_ext.unfold(np.moveaxis(x, 1, -1), (2, 2), dilation=2, channel_axis=-1),
        lambda: im2col_ext.im2col(x, 2, padding=1, layout="cs231n"),
        lambda: im2col_ext.im2col(x, 2, layout="6d"),
        lambda: im2col_ext.im2col_indices(x, 3, 3, 1, 1),
    ]
    expect = ref.unfold(x, 3, 1, 1, 2)
    np.testing.assert_array_equal(calls[0](), expect)
    for call in calls:
        got = call()
        assert got.dtype == np.dtype(dtype).newbyteorder("=")
        assert got.tobytes() == _on_numpy(call).tobytes()


@pytest.mark.parametrize("dtype", ["u1", "i2", "f4", "f8"])
@pytest.mark.parametrize("pad", [1, 2, 4, 5, 7])
def test_padded_columns_of_a_stride_1_gather(dtype, pad):
    """The stride-1 gather copies a tap's rows as one run, then zeroes each row's
    padding pixels: a few by plain stores, more by a loop; pads 1-7 cover both."""
    rng = np.random.default_rng(pad)
    x = _data(dtype, (2, 2, 9, 10), rng)
    k = 2 * pad + 1
    got = im2col_ext.unfold(x, k, padding=pad)
    np.testing.assert_array_equal(got, ref.unfold(x, k, 1, pad, 1))
    assert got.tobytes() == _on_numpy(lambda: im2col_ext.unfold(x, k, padding=pad)).tobytes()


@pytest.mark.parametrize("dtype", ALL)
def test_fold_sums_as_np_sum(dtype):
    rng = np.random.default_rng(1)
    x = _data(dtype, (2, 3, 6, 5), rng)
    cols = im2col_ext.unfold(x, 3, padding=1)
    got = im2col_ext.fold(cols, (6, 5), 3, padding=1)
    expect_dtype = np.sum(x[:0]).dtype
    assert got.dtype == expect_dtype.newbyteorder("=")
    wide = {"b": np.int64, "i": np.int64, "u": np.uint64}.get(np.dtype(dtype).kind)
    if wide is not None:
        with np.errstate(over="ignore"):
            expect = ref.fold(cols.astype(wide), (6, 5), 3, 1, 1, 1)
        np.testing.assert_array_equal(got, expect)
        assert got.tobytes() == _on_numpy(
            lambda: im2col_ext.fold(cols, (6, 5), 3, padding=1)).tobytes()
    else:
        acc = np.float32 if np.dtype(dtype) == np.float16 else np.dtype(dtype).newbyteorder("=")
        expect = ref.fold(cols.astype(acc), (6, 5), 3, 1, 1, 1).astype(got.dtype)
        tol = 1e-3 if np.dtype(dtype).itemsize <= 4 and np.dtype(dtype).kind == "f" else 1e-6
        np.testing.assert_allclose(got, expect, rtol=tol, atol=tol)


def test_uint8_sum_does_not_wrap():
    """A true sum of 900 comes back as 900 (uint64), not 132."""
    cols = np.full((1, 9, 9), 100, dtype=np.uint8)   # 3x3 image, kernel 3, padding 1
    got = im2col_ext.fold(cols, 3, 3, padding=1)
    assert got.dtype == np.uint64 and got[0, 0, 1, 1] == 900
    wrapped = im2col_ext.fold(cols, 3, 3, padding=1, dtype=np.uint8)  # np.sum's dtype= wraps
    assert wrapped.dtype == np.uint8 and wrapped[0, 0, 1, 1] == 900 % 256
    assert np.sum(np.full(9, 100, np.uint8), dtype=np.uint8) == wrapped[0, 0, 1, 1]


def test_cs231n_keeps_the_dtype_of_cols():
    """The course's contract: col2im_indices returns the dtype of cols (sums wrap around)."""
    x = np.full((1, 1, 3, 3), 100, dtype=np.uint8)
    cols = im2col_ext.im2col_indices(x, 3, 3, padding=1, stride=1)
    back = im2col_ext.col2im_indices(cols, x.shape, 3, 3, padding=1, stride=1)
    assert back.dtype == np.uint8 and back[0, 0, 1, 1] == 900 % 256
    back6 = im2col_ext.col2im(im2col_ext.im2col(x, 3, padding=1, layout="6d"), x.shape, 3,
                              padding=1, layout="6d")
    assert back6.dtype == np.uint8
    assert im2col_ext.col2im(cols, x.shape, 3, padding=1, layout="cs231n",
                             dtype=np.int64)[0, 0, 1, 1] == 900


@pytest.mark.parametrize("dtype, arg, result", [
    (np.int8, np.float32, np.float32), (np.int16, np.int8, np.int8),
    (np.float64, np.int64, np.int64), (np.uint64, np.int64, np.int64),
    (np.float32, np.float64, np.float64), (np.float32, np.float16, np.float16),
    (np.complex64, np.complex128, np.complex128), (np.bool_, np.bool_, np.bool_),
])
def test_dtype_keyword_is_np_sums(dtype, arg, result):
    rng = np.random.default_rng(2)
    x = _data(dtype, (2, 2, 5, 4), rng)
    if np.dtype(dtype).kind in "iu":
        x = (x // 4).astype(dtype)
    cols = im2col_ext.unfold(x, 2, padding=1)
    got = im2col_ext.fold(cols, (5, 4), 2, padding=1, dtype=arg)
    assert got.dtype == result
    with np.errstate(over="ignore"):
        expect = ref.fold(cols.astype(arg if arg != np.float16 else np.float32), (5, 4), 2, 1, 1, 1)
    np.testing.assert_allclose(got.astype(np.complex128), expect.astype(result).astype(
        np.complex128), rtol=1e-3 if result == np.float16 else 1e-6)


def test_non_numeric_dtype_and_out_dtype():
    cols = np.ones((1, 4, 9), dtype=np.int16)
    before = cols.copy()
    for bad in ("U3", object, "M8[s]", "V8", "not a dtype"):
        with pytest.raises(TypeError, match="dtype"):
            im2col_ext.fold(cols, 4, 2, dtype=bad)
        with pytest.raises(TypeError, match="dtype"):
            im2col_ext.col2im(cols, (1, 1, 4, 4), 2, dtype=bad)
    with pytest.raises(TypeError, match="out has dtype"):
        im2col_ext.fold(cols, 4, 2, out=np.zeros((1, 1, 4, 4), dtype=np.int16))
    np.testing.assert_array_equal(cols, before)
    out = np.zeros((1, 1, 4, 4), dtype=np.int64)
    assert im2col_ext.fold(cols, 4, 2, out=out) is out and out[0, 0, 1, 1] == 4


@pytest.mark.torch
def test_float16_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float16)
    xt = torch.from_numpy(x)
    try:
        expect = torch.nn.functional.unfold(xt, 3, padding=1, stride=2).numpy()
        folded = torch.nn.functional.fold(torch.from_numpy(expect), (7, 6), 3, padding=1,
                                          stride=2).numpy()
    except RuntimeError as exc:  # pragma: no cover - depends on the torch build
        pytest.skip(f"torch has no CPU float16 unfold/fold: {exc}")
    cols = im2col_ext.unfold(x, 3, padding=1, stride=2)
    np.testing.assert_array_equal(cols, expect)
    back = im2col_ext.fold(cols, (7, 6), 3, padding=1, stride=2)
    assert back.dtype == np.float16
    np.testing.assert_allclose(back.astype(np.float32), folded.astype(np.float32), rtol=2e-3,
                               atol=2e-3)


def test_backend_for_names_the_path_taken(monkeypatch, backend):
    """backend_for says "c" exactly when the compiled kernel runs (spied on the NumPy twin)."""
    calls = []
    for name in ("gather", "accumulate"):
        real = getattr(_numpy_backend, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(_numpy_backend, name, spy)
    rng = np.random.default_rng(4)
    for dtype in ALL:
        dt = np.dtype(dtype)
        x = _data(dt, (2, 3, 8, 8), rng)
        for op in ("unfold", "fold"):
            calls.clear()
            if op == "unfold":
                im2col_ext.unfold(x, 3, padding=1)
            else:
                im2col_ext.fold(im2col_ext.unfold(x, 3, padding=1), 8, 3, padding=1)
                calls[:] = [c for c in calls if c == "accumulate"]
            used = "numpy" if calls else "c"
            assert im2col_ext.backend_for(dt, op) == used, (dtype, op)
    if backend == "numpy":
        assert im2col_ext.backend_for(np.float32, "fold") == "numpy"
    else:
        assert im2col_ext.backend_for(np.int8, "fold") == "c"
        assert im2col_ext.backend_for(np.uint8, "unfold") == "c"
    with pytest.raises(ValueError, match="operation"):
        im2col_ext.backend_for(np.float32, "pool")


def test_info_lists_the_c_dtypes(capsys, backend):
    from im2col_ext.__main__ import info

    info()
    text = capsys.readouterr().out
    if backend == "c":
        assert "unfold in C for: bool, int8" in text
        assert "fold in C for: bool, int8" in text
    elif _backend.compiled is not None:
        assert "unfold in C for: none" in text
