"""padding_mode on unfold / im2col and its exact adjoint on fold / col2im (issue 11).

The brute-force reference (tests/reference_padding.py) takes the index that
padding reads from ``numpy.pad`` of an index vector, so the mode semantics
are numpy's; torch (where installed) is a further check.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import im2col_ext
from im2col_ext import _backend

import reference_padding as ref

MODES = ["zeros", "constant", "reflect", "replicate", "circular"]

# (size, kernel, dilation, padding, stride): every rank, asymmetric padding,
# strides that leave the high padding unread, padding == size for circular
CASES = {
    1: [((7,), (3,), 1, ((2, 1),), 2), ((5,), (2,), 2, ((3, 4),), 1), ((1,), (1,), 1, 0, 1)],
    2: [((5, 6), (3, 2), (1, 2), ((2, 1), (1, 1)), (1, 2)), ((4, 4), 3, 1, 3, 3),
        ((3, 5), (2, 3), 1, ((0, 2), (4, 0)), (2, 1))],
    3: [((3, 4, 5), (2, 3, 2), 1, 1, 1), ((3, 3, 4), (3, 2, 2), (1, 2, 1), ((2, 0), 1, (0, 3)), 2)],
}


def _cases():
    for d, cases in CASES.items():
        for case in cases:
            for mode in MODES:
                if ref.mode_fits(mode, case[0], case[3]):
                    yield pytest.param(mode, case, id=f"{d}d-{mode}-{case[0]}-{case[3]}")


def _first(x, channel_axis):
    return x if channel_axis == 1 else np.moveaxis(x, -1, 1)


def _layout(x, channel_axis):
    return x if channel_axis == 1 else np.moveaxis(x, 1, -1).copy()


@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("mode, case", list(_cases()))
def test_unfold_and_fold_match_reference(mode, case, channel_axis):
    size, k, dl, p, s = case
    rng = np.random.default_rng(0)
    c = 2
    x = rng.integers(-50, 50, (2, c) + size).astype(np.float64)
    value = 7.5 if mode == "constant" else None
    got = im2col_ext.unfold(_layout(x, channel_axis), k, dl, p, s, channel_axis=channel_axis,
                            padding_mode=mode, value=value)
    expect = ref.unfold(x, k, dl, p, s, mode, value or 0)
    if channel_axis == -1:
        expect = ref.to_last(expect, c)
    np.testing.assert_array_equal(got, expect)
    y = rng.integers(-50, 50, got.shape).astype(np.float64)
    back = im2col_ext.fold(y, size, k, dl, p, s, channel_axis=channel_axis, padding_mode=mode)
    yf = y if channel_axis == 1 else ref.to_first(y, c)
    np.testing.assert_array_equal(_first(back, channel_axis), ref.fold(yf, size, k, dl, p, s, mode))


@pytest.mark.parametrize("channel_axis", [1, -1])
@pytest.mark.parametrize("mode, case", list(_cases()))
def test_adjoint_identity(mode, case, channel_axis):
    """<unfold(x, mode), y> == <x, fold(y, mode)> for every mode, rank and channel axis."""
    size, k, dl, p, s = case
    rng = np.random.default_rng(1)
    shape = (2, 3) + size if channel_axis == 1 else (2,) + size + (3,)
    x = rng.standard_normal(shape)
    cols = im2col_ext.unfold(x, k, dl, p, s, channel_axis=channel_axis, padding_mode=mode)
    y = rng.standard_normal(cols.shape)
    back = im2col_ext.fold(y, size, k, dl, p, s, channel_axis=channel_axis, padding_mode=mode)
    if mode == "constant":  # the adjoint of the linear part: the constant taps are dropped
        cols = im2col_ext.unfold(x, k, dl, p, s, channel_axis=channel_axis)
    np.testing.assert_allclose(np.vdot(cols, y), np.vdot(x, back), rtol=1e-12)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "constant"])
@pytest.mark.parametrize("layout", ["torch", "cs231n", "6d"])
def test_im2col_col2im_every_layout(mode, layout):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 2, 5, 6))
    kw = dict(stride=(1, 2), padding=((2, 1), (1, 2)), dilation=(2, 1), layout=layout,
              padding_mode=mode)
    cols = im2col_ext.im2col(x, (2, 3), **kw)
    flat = im2col_ext.unfold(x, (2, 3), (2, 1), ((2, 1), (1, 2)), (1, 2), padding_mode=mode)
    if layout == "cs231n":    # (C*K, L*N), the batch fastest
        as_torch = cols.reshape(cols.shape[0], -1, 3).transpose(2, 0, 1)
    elif layout == "6d":      # (C, kh, kw, N, oh, ow)
        as_torch = cols.transpose(3, 0, 1, 2, 4, 5)
    else:
        as_torch = cols
    np.testing.assert_array_equal(as_torch.reshape(flat.shape), flat)
    y = rng.standard_normal(cols.shape)
    back = im2col_ext.col2im(y, x.shape, (2, 3), **kw)
    lin = cols if mode != "constant" else im2col_ext.im2col(x, (2, 3), **dict(kw, padding_mode="zeros"))
    np.testing.assert_allclose(np.vdot(lin, y), np.vdot(x, back), rtol=1e-12)


def test_constant_value_and_unbatched():
    x = np.arange(2 * 4 * 5, dtype=np.int16).reshape(2, 4, 5)
    got = im2col_ext.unfold(x, 3, padding=(1, 2), padding_mode="constant", value=-3)
    expect = ref.unfold(x[None], 3, 1, (1, 2), 1, "constant", -3)[0]
    np.testing.assert_array_equal(got, expect)
    out = np.zeros_like(got)
    assert im2col_ext.unfold(x, 3, padding=(1, 2), padding_mode="constant", value=-3,
                             out=out) is out
    np.testing.assert_array_equal(out, expect)


@pytest.mark.torch
def test_torch_pad_then_unfold():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(3)
    for mode, d in [(m, d) for m in ("reflect", "replicate", "circular") for d in (1, 2, 3)]:
        size = (5, 6, 4)[:d]
        x = rng.standard_normal((2, 3) + size)
        pads = [(1, 2), (2, 1), (1, 1)][:d]
        flat = [p for lo_hi in reversed(pads) for p in lo_hi]
        xp = F.pad(torch.from_numpy(x), flat, mode=mode).numpy()
        k = (2,) * d
        got = im2col_ext.unfold(x, k, padding=tuple(pads), padding_mode=mode)
        np.testing.assert_array_equal(got, im2col_ext.unfold(xp, k))
        if d == 2:
            np.testing.assert_array_equal(got, F.unfold(torch.from_numpy(xp), k).numpy())


@st.composite
def mode_cases(draw):
    d = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(MODES))
    size = tuple(draw(st.integers(1, 5)) for _ in range(d))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(d))
    dil = tuple(draw(st.integers(1, 2)) for _ in range(d))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(d))
    limit = {"reflect": lambda n: n - 1, "circular": lambda n: n}.get(mode, lambda n: 3)
    pads = tuple((draw(st.integers(0, min(3, limit(n)))), draw(st.integers(0, min(3, limit(n)))))
                 for n in size)
    for n, (lo, hi), k, dl in zip(size, pads, kernel, dil):
        if n + lo + hi < dl * (k - 1) + 1:
            from hypothesis import assume
            assume(False)
    dtype = draw(st.sampled_from(["?", "i1", "u1", "i2", ">i4", "u8", "f2", ">f4", "f8",
                                  "c8", "c16"]))
    channel_axis = draw(st.sampled_from([1, -1]))
    batched = draw(st.booleans())
    return size, kernel, dil, pads, stride, mode, np.dtype(dtype), channel_axis, batched


@given(mode_cases(), st.integers(0, 2**31))
def test_hypothesis_every_dtype_rank_layout_mode(case, seed):
    """Bitwise against the reference, and the C backend bitwise equal to the NumPy twin."""
    size, k, dl, p, s, mode, dtype, channel_axis, batched = case
    rng = np.random.default_rng(seed)
    c = 2
    x = (rng.standard_normal((2, c) + size) * 40).astype(dtype)
    value = dtype.type(1) if mode == "constant" else None
    expect = ref.unfold(x, k, dl, p, s, mode, value if value is not None else 0)
    xl = _layout(x, channel_axis).astype(dtype)  # keeps a non-native byte order
    if channel_axis == -1:
        expect = ref.to_last(expect, c)
    arg = xl if batched else xl[0]
    got = im2col_ext.unfold(arg, k, dl, p, s, channel_axis=channel_axis, padding_mode=mode,
                            value=value)
    assert got.dtype == dtype.newbyteorder("=")
    np.testing.assert_array_equal(got, expect if batched else expect[0])
    previous = _backend.use("numpy")
    try:
        twin = im2col_ext.unfold(arg, k, dl, p, s, channel_axis=channel_axis,
                                 padding_mode=mode, value=value)
    finally:
        _backend.use(previous)
    assert twin.tobytes() == got.tobytes()


# ------------------------------------------------------------------ errors

def _check_raises(exc, match, call, *arrays):
    before = [a.copy() for a in arrays]
    with pytest.raises(exc, match=match):
        call()
    for a, b in zip(arrays, before):
        np.testing.assert_array_equal(a, b)


def test_bad_padding_mode_and_value():
    x = np.arange(2 * 3 * 4 * 4, dtype=np.uint8).reshape(2, 3, 4, 4)
    cols = im2col_ext.unfold(x, 3, padding=1)
    out = np.full(cols.shape, 5, dtype=np.uint8)
    for call in (
        lambda: im2col_ext.unfold(x, 3, padding=1, padding_mode="mirror", out=out),
        lambda: im2col_ext.im2col(x, 3, padding=1, padding_mode=None, out=out),
        lambda: im2col_ext.fold(cols, 4, 3, padding=1, padding_mode="reflection"),
        lambda: im2col_ext.col2im(cols, x.shape, 3, padding=1, padding_mode="Zeros"),
    ):
        _check_raises(ValueError, "padding_mode", call, x, cols, out)
    for value, mode in ((300, "constant"), (-1, "constant"), (np.nan, "constant"),
                        (1.5, "constant"), (np.inf, "constant"), (1, "reflect"), (0, "zeros")):
        _check_raises(ValueError, "value",
                      lambda: im2col_ext.unfold(x, 3, padding=1, padding_mode=mode, value=value,
                                                out=out), x, out)
    xi = x.astype(np.int32)
    _check_raises(ValueError, "value", lambda: im2col_ext.im2col(
        xi, 3, padding=1, padding_mode="constant", value=float("nan")), xi)
    _check_raises(TypeError, "value", lambda: im2col_ext.unfold(
        x, 3, padding=1, padding_mode="constant", value="1"), x)
    # values that fit are fine, also for floats and complex
    im2col_ext.unfold(x, 3, padding=1, padding_mode="constant", value=255)
    im2col_ext.unfold(x.astype(np.float32), 3, padding=1, padding_mode="constant", value=np.nan)
    im2col_ext.unfold(x.astype(np.complex64), 3, padding=1, padding_mode="constant", value=1j)


def test_padding_too_large_for_mode():
    x = np.zeros((1, 1, 3, 5))
    cols = im2col_ext.unfold(x, 3, padding=(3, 1))
    for mode in ("reflect",):
        _check_raises(ValueError, "too large.*reflect", lambda: im2col_ext.unfold(
            x, 3, padding=(3, 1), padding_mode=mode), x)
        _check_raises(ValueError, "too large.*reflect", lambda: im2col_ext.fold(
            cols, (3, 5), 3, padding=(3, 1), padding_mode=mode), cols)
    im2col_ext.unfold(x, 3, padding=(3, 1), padding_mode="circular")  # pad == size is fine
    cols4 = im2col_ext.unfold(x, 3, padding=(4, 1))
    _check_raises(ValueError, "too large.*circular", lambda: im2col_ext.unfold(
        x, 3, padding=(4, 1), padding_mode="circular"), x)
    _check_raises(ValueError, "too large.*circular", lambda: im2col_ext.col2im(
        cols4, x.shape, 3, padding=(4, 1), padding_mode="circular"), cols4)
    im2col_ext.unfold(x, 3, padding=(9, 9), padding_mode="replicate")  # any padding
