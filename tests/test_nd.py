"""The N-d engine (issue 10) against its public contract: 1-D/2-D/3-D windows,
channels first and last, asymmetric / "valid" / "same" padding.

Only the public API is tested (im2col_ext.unfold / fold / im2col / col2im and the
backend switch).  The oracle is tests/reference_nd.py: plain loops written from
the definitions in the spec.  Every test runs on each backend through the autouse
``backend`` fixture of conftest.py; tests that exercise only the Python-side
validation, or that compare the two backends themselves, run on one of them.
"""

import os
import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import im2col_ext
from im2col_ext import _backend

import reference_nd as ref
import reference_padding as ref_pad

def _once(backend):
    """Backend-independent tests (pure validation) run on the numpy param only.

    (Replace by conftest's run-once marker when it lands.)"""
    if backend != "numpy":
        pytest.skip("backend-independent: runs once, on the numpy param")


# --------------------------------------------------------------------------
# data and cases
# --------------------------------------------------------------------------

def _sum_dtype(dtype):
    """fold's result type (issue 11): np.sum's for these columns."""
    return np.sum(np.zeros(0, dtype)).dtype.newbyteorder("=")


def _fold_ref(y, *args, **kw):
    """The reference fold summed as fold sums: in np.sum's accumulator, returned as fold returns."""
    acc = np.float32 if np.dtype(y.dtype) == np.float16 else _sum_dtype(y.dtype)
    return ref.fold(y.astype(acc), *args, **kw).astype(_sum_dtype(y.dtype))


def _data(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind == "u":
        return rng.integers(0, 40, shape).astype(dtype)
    if dtype.kind == "i":
        return rng.integers(-40, 40, shape).astype(dtype)
    a = rng.standard_normal(shape) * 4
    if dtype.kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


# (spatial size, kernel_size, stride, padding, dilation) in the public API's own spelling.
CASES = [
    # 1-D
    ((9,), (3,), 1, 0, 1),
    ((10,), (4,), 2, ((1, 2),), 2),
    ((7,), (2,), 3, "same", 1),
    ((8,), (3,), (2,), "same", (2,)),
    ((8,), (3,), 1, "valid", 1),
    ((6,), (5,), 1, (2,), 1),
    ((5,), [2], 1, ((0, 3),), 1),            # a list kernel_size is a sequence too
    # 2-D
    ((6, 7), (3, 2), (2, 1), ((0, 2), 1), (1, 2)),
    ((5, 5), 3, 1, "same", 1),
    ((7, 6), (3, 3), 2, "same", 2),
    ((8, 5), (4, 2), (3, 2), "same", (1, 2)),
    ((5, 4), (2, 2), (1, 2), ((1, 0), (0, 2)), 1),
    ((6, 6), (3, 3), 1, (1, 2), 1),
    ((5, 6), (2, 3), 1, "valid", (2, 1)),
    # 3-D
    ((4, 5, 3), (2, 3, 2), 1, 0, 1),
    ((5, 4, 4), (3, 2, 2), (2, 1, 2), ((1, 0), 1, (0, 2)), (1, 2, 1)),
    ((4, 4, 5), 2, 2, "same", 1),             # int kernel: 3-D only for batched (5-D) x
    ((3, 4, 5), (2, 2, 3), (1, 2, 2), "same", (2, 1, 1)),
    ((3, 3, 3), (3, 1, 2), 1, "valid", 1),
    ((3, 4, 3), (2, 2, 2), (1, 1, 2), (1, 0, 1), 1),
]


def _case_id(case):
    size, k, s, p, r = case
    return f"{len(size)}d-S{size}-k{k}-s{s}-p{p}-r{r}".replace(" ", "")


def _kernel_for(kernel, d, batched):
    """The API kernel_size to pass: an int kernel is only unambiguous for 2-D, and for
    3-D when x is batched (5-D)."""
    if isinstance(kernel, int) and (d == 1 or (d == 3 and not batched)):
        return (kernel,) * d
    return kernel


def _image_shape(n, c, size, channel_axis, batched):
    shape = (c, *size) if channel_axis == 1 else (*size, c)
    return (n, *shape) if batched else shape


def _cols_shape(n, c, size, kernel, stride, padding, dilation, channel_axis, batched):
    d = len(size)
    kernel_t = ref.as_tuple(kernel, d)
    stride_t, dilation_t = ref.as_tuple(stride, d), ref.as_tuple(dilation, d)
    pads = ref.resolve_padding(padding, size, kernel_t, stride_t, dilation_t)
    outs = ref.out_sizes(size, kernel_t, stride_t, dilation_t, pads)
    K, L = int(np.prod(kernel_t)), int(np.prod(outs))
    shape = (c * K, L) if channel_axis == 1 else (L, K * c)
    return (n, *shape) if batched else shape


def _kw(case, channel_axis):
    size, k, s, p, r = case
    return dict(dilation=r, padding=p, stride=s, channel_axis=channel_axis)


def _ktuple(case):
    size, k, *_ = case
    return ref.as_tuple(k, len(size))


LAYOUTS = [1, -1]
DTYPES = [np.float64, np.float32, np.int32, np.uint8, np.complex128, np.bool_]


# --------------------------------------------------------------------------
# the reference itself (its padding rule, by hand)
# --------------------------------------------------------------------------

def test_reference_padding_rule(backend):
    _once(backend)
    # "same", TF: out = ceil(in/s); total = max((out-1)*s + (k-1)*r + 1 - in, 0)
    assert ref.resolve_padding("same", (7,), (3,), 2, 1) == ((1, 1),)      # out 4, total 2
    assert ref.resolve_padding("same", (6,), (4,), 3, 1) == ((0, 1),)      # out 2, total 1
    assert ref.resolve_padding("same", (5,), (3,), 1, 2) == ((2, 2),)      # total (k-1)*r = 4
    assert ref.resolve_padding("same", (4,), (2,), 1, 1) == ((0, 1),)      # odd total: high gets more
    assert ref.resolve_padding("same", (9,), (1,), 4, 1) == ((0, 0),)      # total -ve -> 0
    assert ref.resolve_padding("same", (10, 3), (3, 3), (4, 1), 1) == ((0, 1), (1, 1))  # out 3, 3
    assert ref.resolve_padding("same", (10,), (3,), 5, 1) == ((0, 0),)     # total -2 -> 0
    assert ref.resolve_padding("valid", (4, 4, 4), 3) == ((0, 0),) * 3
    assert ref.resolve_padding(2, (4, 4), 3) == ((2, 2),) * 2
    assert ref.resolve_padding((1, (0, 2)), (4, 4), 3) == ((1, 1), (0, 2))
    assert ref.resolve_padding(((3, 1),), (4,), 3) == ((3, 1),)


def test_reference_small_example_by_hand(backend):
    _once(backend)
    x = np.arange(1, 6, dtype=np.int64).reshape(1, 1, 5)          # [1 2 3 4 5]
    cols = ref.unfold(x, (2,), dilation=2, padding=((1, 0),), stride=2)
    # positions o=0,1: reads i = o*2 + k*2 - 1 -> (-1, 1), (1, 3) -> rows k=0: [0, 2], k=1: [2, 4]
    np.testing.assert_array_equal(cols, [[[0, 2], [2, 4]]])
    back = ref.fold(np.ones_like(cols), (5,), (2,), dilation=2, padding=((1, 0),), stride=2)
    np.testing.assert_array_equal(back, [[[0, 2, 0, 1, 0]]])
    # channels last: (N, L, K*C), C fastest
    xl = np.arange(10, dtype=np.int64).reshape(1, 5, 2)
    cl = ref.unfold(xl, (2,), channel_axis=-1)
    np.testing.assert_array_equal(cl[0, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(cl[0, 3], [6, 7, 8, 9])


# --------------------------------------------------------------------------
# reference equality
# --------------------------------------------------------------------------

@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("channel_axis", LAYOUTS)
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_unfold_matches_reference(case, channel_axis, batched):
    size, kernel, *_ = case
    d = len(size)
    rng = np.random.default_rng(zlib.crc32(_case_id(case).encode()))
    x = _data(rng, _image_shape(2, 3, size, channel_axis, batched), np.float64)
    x0 = x.copy()
    cols = im2col_ext.unfold(x, _kernel_for(kernel, d, batched), **_kw(case, channel_axis))
    expect = ref.unfold(x, _ktuple(case), **_kw(case, channel_axis))
    assert cols.shape == _cols_shape(2, 3, size, *case[1:], channel_axis, batched)
    assert cols.dtype == x.dtype
    np.testing.assert_array_equal(cols, expect)   # a gather is exact
    np.testing.assert_array_equal(x, x0)


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("channel_axis", LAYOUTS)
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_fold_matches_reference(case, channel_axis, batched):
    size, kernel, *_ = case
    d = len(size)
    rng = np.random.default_rng(zlib.crc32(_case_id(case).encode()) + 1)
    cols = _data(rng, _cols_shape(2, 3, size, *case[1:], channel_axis, batched), np.float64)
    c0 = cols.copy()
    img = im2col_ext.fold(cols, size, _kernel_for(kernel, d, batched), **_kw(case, channel_axis))
    expect = ref.fold(cols, size, _ktuple(case), **_kw(case, channel_axis))
    assert img.shape == _image_shape(2, 3, size, channel_axis, batched)
    assert img.dtype == cols.dtype
    np.testing.assert_allclose(img, expect, rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(cols, c0)


def _spread(rng, shape, dtype):
    """Values over many binades, so that a different summation order changes the rounding."""
    return (rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 7, shape)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f8", "f4"])
@pytest.mark.parametrize("channel_axis", LAYOUTS)
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_fold_sums_taps_in_row_major_kernel_order(case, channel_axis, dtype):
    """Each pixel is 0 + its taps in row-major kernel order (the reference's loop): bitwise.

    Documented exception: channels last with C > 1 and no dilation along
    the last axis walks the windows forwards (one stream over cols), which
    sums each pixel's taps in REVERSE row-major order, on both backends.
    """
    size, kernel, *_ = case
    k = _kernel_for(kernel, len(size), True)
    rng = np.random.default_rng(zlib.crc32(_case_id(case).encode()) + 2)
    y = _spread(rng, _cols_shape(2, 3, size, *case[1:], channel_axis, True), dtype)
    kw = _kw(case, channel_axis)
    img = im2col_ext.fold(y, size, k, **kw)
    dil = kw.get("dilation", 1)
    last_dil = dil[-1] if isinstance(dil, (tuple, list)) else dil
    reverse = channel_axis == -1 and last_dil == 1      # C = 3 here
    np.testing.assert_array_equal(
        img, ref.fold(y, size, _ktuple(case), reverse_taps=reverse, **kw))


# one case per rank with padding of every kind, for the dtype sweep
DTYPE_CASES = [CASES[1], CASES[3], CASES[7], CASES[10], CASES[15], CASES[17]]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("channel_axis", LAYOUTS)
@pytest.mark.parametrize("case", DTYPE_CASES, ids=_case_id)
def test_dtypes_match_reference(case, channel_axis, dtype):
    size, kernel, *_ = case
    d = len(size)
    rng = np.random.default_rng(7)
    x = _data(rng, _image_shape(2, 2, size, channel_axis, True), dtype)
    cols = im2col_ext.unfold(x, _kernel_for(kernel, d, True), **_kw(case, channel_axis))
    assert cols.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(cols, ref.unfold(x, _ktuple(case), **_kw(case, channel_axis)))

    y = _data(rng, cols.shape, dtype)
    img = im2col_ext.fold(y, size, _kernel_for(kernel, d, True), **_kw(case, channel_axis))
    expect = _fold_ref(y, size, _ktuple(case), **_kw(case, channel_axis))
    assert img.dtype == _sum_dtype(dtype)
    assert img.shape == x.shape
    if np.dtype(dtype).kind in "fc":
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(img, expect, rtol=tol, atol=tol)
    else:
        np.testing.assert_array_equal(img, expect)


# --------------------------------------------------------------------------
# the adjoint identity
# --------------------------------------------------------------------------

@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("channel_axis", LAYOUTS)
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_adjoint_identity(case, channel_axis, batched):
    size, kernel, *_ = case
    d = len(size)
    k = _kernel_for(kernel, d, batched)
    rng = np.random.default_rng(11)
    x = rng.standard_normal(_image_shape(2, 3, size, channel_axis, batched))
    y = rng.standard_normal(_cols_shape(2, 3, size, *case[1:], channel_axis, batched))
    lhs = np.vdot(im2col_ext.unfold(x, k, **_kw(case, channel_axis)), y)
    rhs = np.vdot(x, im2col_ext.fold(y, size, k, **_kw(case, channel_axis)))
    scale = np.abs(x).sum() * np.abs(y).max() + 1.0
    assert abs(lhs - rhs) <= 1e-13 * scale, (lhs, rhs)


# --------------------------------------------------------------------------
# C == NumPy twin (bitwise), run once: on the c param, switching inside
# --------------------------------------------------------------------------

def _under(which, fn):
    previous = _backend.use(which)
    try:
        return fn()
    finally:
        _backend.use(previous)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f8", "f4"])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("channel_axis", LAYOUTS)
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_c_numpy_twin_bitwise(case, channel_axis, batched, dtype, backend):
    if backend != "c":
        pytest.skip("compares both backends: runs once, on the c param")
    size, kernel, *_ = case
    d = len(size)
    k = _kernel_for(kernel, d, batched)
    kw = _kw(case, channel_axis)
    rng = np.random.default_rng(3)
    x = _data(rng, _image_shape(3, 2, size, channel_axis, batched), dtype)
    y = _data(rng, _cols_shape(3, 2, size, *case[1:], channel_axis, batched), dtype)
    for xin, yin in [(x, y), (x[..., ::-1], y[..., ::-1])]:      # also non-contiguous input
        cu, nu = (_under(b, lambda: im2col_ext.unfold(xin, k, **kw)) for b in ("c", "numpy"))
        np.testing.assert_array_equal(cu, nu)
        cf, nf = (_under(b, lambda: im2col_ext.fold(yin, size, k, **kw)) for b in ("c", "numpy"))
        np.testing.assert_array_equal(cf, nf)


@pytest.mark.parametrize("channel_axis", LAYOUTS)
@pytest.mark.parametrize("d", [1, 2, 3])
def test_c_numpy_twin_with_threads(d, channel_axis, backend):
    """Two OpenMP threads on a larger array give the same bits as NumPy."""
    if backend != "c":
        pytest.skip("compares both backends: runs once, on the c param")
    size, k, s, p, r = {1: ((900,), (5,), (2,), ((3, 1),), (2,)),
                        2: ((30, 28), (3, 4), (2, 1), "same", (1, 2)),
                        3: ((10, 9, 8), (3, 2, 3), (1, 2, 1), ((1, 0), 1, (0, 2)), (2, 1, 1))}[d]
    kw = dict(dilation=r, padding=p, stride=s, channel_axis=channel_axis)
    rng = np.random.default_rng(24)
    x = rng.standard_normal(_image_shape(4, 6, size, channel_axis, True)).astype(np.float32)
    previous = im2col_ext.get_num_threads()
    im2col_ext.set_num_threads(2)
    try:
        cu = im2col_ext.unfold(x, k, **kw)
        y = _spread(rng, cu.shape, np.float32)
        cf = im2col_ext.fold(y, size, k, **kw)
    finally:
        im2col_ext.set_num_threads(previous)
    nu, nf = _under("numpy", lambda: (im2col_ext.unfold(x, k, **kw), im2col_ext.fold(y, size, k, **kw)))
    np.testing.assert_array_equal(cu, nu)
    np.testing.assert_array_equal(cf, nf)


TWIN_DTYPES = [np.int32, np.uint8, np.int8, np.int64, np.uint16, np.float16, np.complex128,
               np.complex64, np.bool_, ">f8", ">i4"]


@pytest.mark.parametrize("dtype", TWIN_DTYPES, ids=lambda t: np.dtype(t).str)
@pytest.mark.parametrize("channel_axis", LAYOUTS)
@pytest.mark.parametrize("case", DTYPE_CASES, ids=_case_id)
def test_c_numpy_twin_every_dtype(case, channel_axis, dtype, backend):
    """Both backends agree bit for bit whatever the dtype (and byte order), and with the reference."""
    if backend != "c":
        pytest.skip("compares both backends: runs once, on the c param")
    size, kernel, *_ = case
    k = _kernel_for(kernel, len(size), True)
    kw = _kw(case, channel_axis)
    rng = np.random.default_rng(21)
    x = _data(rng, _image_shape(2, 3, size, channel_axis, True), dtype)
    y = _data(rng, _cols_shape(2, 3, size, *case[1:], channel_axis, True), dtype)
    cu, nu = (_under(b, lambda: im2col_ext.unfold(x, k, **kw)) for b in ("c", "numpy"))
    np.testing.assert_array_equal(cu, nu)
    np.testing.assert_array_equal(cu, ref.unfold(x, _ktuple(case), **kw))
    cf, nf = (_under(b, lambda: im2col_ext.fold(y, size, k, **kw)) for b in ("c", "numpy"))
    assert cf.dtype == nf.dtype == _sum_dtype(dtype)
    np.testing.assert_array_equal(cf, nf)
    if np.dtype(dtype).kind in "biu":
        np.testing.assert_array_equal(cf, _fold_ref(y, size, _ktuple(case), **kw))


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int32, np.uint16])
@pytest.mark.parametrize("channel_axis", LAYOUTS)
def test_integer_fold_wraps_like_numpy_add(dtype, channel_axis):
    """With dtype= the cols' own type, integer sums that overflow wrap around, as
    np.sum(..., dtype=) and NumPy's add do (the reference's rule)."""
    info = np.iinfo(dtype)
    x_shape = _image_shape(1, 2, (5, 4, 3), channel_axis, True)
    shape = _cols_shape(1, 2, (5, 4, 3), (3, 2, 2), 1, 1, 1, channel_axis, True)
    y = np.full(shape, info.max - 3, dtype=dtype)
    img = im2col_ext.fold(y, (5, 4, 3), (3, 2, 2), padding=1, channel_axis=channel_axis,
                          dtype=dtype)
    assert img.shape == x_shape
    np.testing.assert_array_equal(
        img, ref.fold(y, (5, 4, 3), (3, 2, 2), padding=1, channel_axis=channel_axis))


@pytest.mark.parametrize("channel_axis", LAYOUTS)
def test_bool_fold_is_any_with_valid_bools(channel_axis):
    rng = np.random.default_rng(22)
    shape = _cols_shape(2, 2, (6,), (3,), 1, ((2, 1),), 2, channel_axis, True)
    y = rng.random(shape) < 0.3
    img = im2col_ext.fold(y, (6,), (3,), padding=((2, 1),), dilation=2, channel_axis=channel_axis,
                          dtype=np.bool_)
    assert img.dtype == np.bool_
    assert img.view(np.uint8).max() <= 1           # no bool bytes of 2, 3, ...
    np.testing.assert_array_equal(
        img, ref.fold(y, (6,), (3,), padding=((2, 1),), dilation=2, channel_axis=channel_axis))


def _unaligned(a):
    buf = np.zeros(a.nbytes + 1, np.uint8)[1:].view(a.dtype).reshape(a.shape)
    buf[...] = a
    return buf


@pytest.mark.parametrize("kind", ["negative", "fortran", "sliced", "unaligned", "byteswapped",
                                  "readonly"])
@pytest.mark.parametrize("channel_axis", LAYOUTS)
@pytest.mark.parametrize("case", [CASES[1], CASES[9], CASES[15], CASES[17]], ids=_case_id)
def test_any_memory_layout_of_the_input(case, channel_axis, kind):
    size, kernel, *_ = case
    k = _kernel_for(kernel, len(size), True)
    kw = _kw(case, channel_axis)
    rng = np.random.default_rng(23)

    def make(shape):
        a = rng.standard_normal(shape)
        if kind == "negative":
            return np.flip(np.flip(a).copy())
        if kind == "fortran":
            return np.asfortranarray(a)
        if kind == "sliced":
            big = rng.standard_normal(tuple(2 * n + 1 for n in shape))
            v = big[tuple(slice(1, None, 2) for _ in shape)]
            v[...] = a
            return v
        if kind == "unaligned":
            return _unaligned(a)
        if kind == "byteswapped":
            return a.astype(a.dtype.newbyteorder(">"))
        a.flags.writeable = False
        return a

    x = make(_image_shape(2, 3, size, channel_axis, True))
    np.testing.assert_array_equal(im2col_ext.unfold(x, k, **kw), ref.unfold(x, _ktuple(case), **kw))
    y = make(_cols_shape(2, 3, size, *case[1:], channel_axis, True))
    np.testing.assert_allclose(im2col_ext.fold(y, size, k, **kw),
                               ref.fold(y, size, _ktuple(case), **kw), rtol=1e-13, atol=1e-13)


def _before_guard_page(nbytes):
    """A writable uint8 array of nbytes ending where an unreadable page begins
    (None where mprotect is not at hand): a kernel that reads or writes one
    byte past it faults."""
    import ctypes
    import mmap
    if os.name != "posix":
        return None
    page = mmap.PAGESIZE
    span = (nbytes + page - 1) // page * page
    m = mmap.mmap(-1, span + page)
    base = ctypes.addressof(ctypes.c_char.from_buffer(m))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    if libc.mprotect(ctypes.c_void_p(base + span), page, 0) != 0:     # PROT_NONE
        return None
    return np.frombuffer(m, np.uint8)[span - nbytes:span]


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "constant"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16])
@pytest.mark.parametrize("shape, kernel, stride, padding", [
    ((2, 5, 7, 3), (3, 3), 1, 1),
    ((1, 6, 9, 2), (2, 3), (1, 2), (1, 0)),
    ((3, 4, 8, 3), (3, 2), 2, 1),
    ((1, 3, 5, 4, 3), (2, 2, 2), 1, 1),
    ((2, 11, 2), (2,), 3, 0),            # windows (4 bytes) further apart than long
    ((1, 14, 3), (3,), 4, 1),
])
def test_short_channels_last_rows_stay_inside_both_arrays(shape, kernel, stride, padding,
                                                          dtype, padding_mode):
    """Channels-last window rows under 16 bytes are gathered by 16-byte moves
    whose extra bytes land on the next row: x and cols each end where an
    unreadable page begins, and the result is the reference's."""
    rng = np.random.default_rng(7)
    kw = dict(stride=stride, padding=padding, channel_axis=-1, padding_mode=padding_mode)
    if padding_mode == "constant":
        kw["value"] = 9
    x0 = rng.integers(0, 100, shape).astype(dtype)
    want = im2col_ext.unfold(x0, kernel, **kw)
    bx = _before_guard_page(x0.nbytes)
    bc = _before_guard_page(want.nbytes)
    if bx is None or bc is None:
        pytest.skip("no mprotect on this platform")
    x = bx.view(dtype).reshape(shape)
    x[...] = x0
    out = bc.view(dtype).reshape(want.shape)
    out[...] = 0
    im2col_ext.unfold(x, kernel, out=out, **kw)
    np.testing.assert_array_equal(out, want)
    want_cf = ref_pad.unfold(np.moveaxis(x0, -1, 1), kernel, 1, padding, stride,
                             mode=padding_mode, value=kw.get("value", 0))
    np.testing.assert_array_equal(_cl_to_cf_cols(out, shape[-1], int(np.prod(kernel))), want_cf)


@pytest.mark.parametrize("channel_axis", LAYOUTS)
@pytest.mark.parametrize("case", [CASES[1], CASES[9], CASES[15]], ids=_case_id)
def test_empty_batch_and_channels(case, channel_axis):
    """N = 0 or C = 0: empty results of the right shapes, no crash."""
    size, kernel, *_ = case
    k = _kernel_for(kernel, len(size), True)
    kw = _kw(case, channel_axis)
    for n, c in [(0, 3), (2, 0)]:
        x = np.zeros(_image_shape(n, c, size, channel_axis, True))
        cols = im2col_ext.unfold(x, k, **kw)
        assert cols.shape == _cols_shape(n, c, size, *case[1:], channel_axis, True)
        assert im2col_ext.fold(cols, size, k, **kw).shape == x.shape


# --------------------------------------------------------------------------
# channels last == channels first, transposed
# --------------------------------------------------------------------------

def _cf_to_cl_cols(cols_cf, C, K):
    """(N, C*K, L), row c*K + kf  ->  (N, L, K*C), column kf*C + c."""
    n, _, L = cols_cf.shape
    return cols_cf.reshape(n, C, K, L).transpose(0, 3, 2, 1).reshape(n, L, K * C)


def _cl_to_cf_cols(cols_cl, C, K):
    n, L, _ = cols_cl.shape
    return cols_cl.reshape(n, L, K, C).transpose(0, 3, 2, 1).reshape(n, C * K, L)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_channels_last_is_channels_first_transposed(case):
    size, kernel, *_ = case
    d = len(size)
    C, K = 3, int(np.prod(_ktuple(case)))
    rng = np.random.default_rng(5)
    x_cf = rng.standard_normal((2, C, *size))
    x_cl = np.moveaxis(x_cf, 1, -1)                      # a non-contiguous view
    cols_cf = im2col_ext.unfold(x_cf, kernel, **_kw(case, 1))
    cols_cl = im2col_ext.unfold(x_cl, kernel, **_kw(case, -1))
    np.testing.assert_array_equal(cols_cl, _cf_to_cl_cols(cols_cf, C, K))
    cols_cl2 = im2col_ext.unfold(np.ascontiguousarray(x_cl), kernel, **_kw(case, -1))
    np.testing.assert_array_equal(cols_cl2, cols_cl)

    y_cl = rng.standard_normal(cols_cl.shape)
    img_cl = im2col_ext.fold(y_cl, size, kernel, **_kw(case, -1))
    img_cf = im2col_ext.fold(_cl_to_cf_cols(y_cl, C, K), size, kernel, **_kw(case, 1))
    assert img_cl.shape == (2, *size, C)
    np.testing.assert_allclose(img_cl, np.moveaxis(img_cf, 1, -1), rtol=1e-14, atol=1e-14)


# Window rows of every length around the short-run walk of the channels-last
# gather (inline copies of runs up to 128 bytes: 4-, 8- and 16-byte moves) and
# past it: kw*C*itemsize from 2 to 160 bytes, windows wider than the image, 2-D
# and 3-D, strides 1 and 2, and the padding modes (the rows in the padding of
# zeros and constant are copies of a padding run).
SHORT_RUNS = [(np.uint8, 2, 1), (np.uint8, 3, 3), (np.uint8, 5, 3), (np.int16, 3, 3),
              (np.int16, 2, 4), (np.float32, 3, 3), (np.float32, 4, 2), (np.float64, 3, 3),
              (np.float64, 16, 1), (np.float64, 4, 5), (np.complex128, 2, 3),
              (np.complex128, 5, 2), (np.uint8, 4, 9)]


@pytest.mark.parametrize("mode", ["zeros", "constant", "reflect", "circular"])
@pytest.mark.parametrize("dtype, C, kw", SHORT_RUNS,
                         ids=[f"{np.dtype(d).name}-C{c}-kw{k}" for d, c, k in SHORT_RUNS])
def test_channels_last_short_window_rows(dtype, C, kw, mode):
    rng = np.random.default_rng(C * 31 + kw)
    for size, kernel, stride, pad in [((5, 8), (2, kw), 1, (1, 2)),
                                      ((4, 7), (3, kw), (1, 2), (0, 1)),
                                      ((3, 4, 6), (2, 2, kw), (1, 1, 2), (1, 0, 2))]:
        if mode == "reflect" and max(pad) >= min(size):
            continue
        x_cf = _data(rng, (2, C, *size), dtype)
        x_cl = np.ascontiguousarray(np.moveaxis(x_cf, 1, -1))
        x0 = x_cl.copy()
        kw_args = dict(stride=stride, padding=pad, padding_mode=mode,
                       value=7 if mode == "constant" else None)
        cols_cl = im2col_ext.unfold(x_cl, kernel, channel_axis=-1, **kw_args)
        cols_cf = im2col_ext.unfold(x_cf, kernel, **kw_args)
        np.testing.assert_array_equal(cols_cl, _cf_to_cl_cols(cols_cf, C, int(np.prod(kernel))))
        if mode == "zeros":
            expect = ref.unfold(x_cl, kernel, padding=pad, stride=stride, channel_axis=-1)
            np.testing.assert_array_equal(cols_cl, expect)
            # the fold's short rows (accumulate_wm): whole numbers, every sum is exact
            y = _data(rng, cols_cl.shape, dtype)
            y = np.round(y) if y.dtype.kind in "fc" else y
            y0 = y.copy()
            img = im2col_ext.fold(y, size, kernel, stride=stride, padding=pad, channel_axis=-1)
            np.testing.assert_array_equal(img, _fold_ref(y, size, kernel, padding=pad,
                                                         stride=stride, channel_axis=-1))
            np.testing.assert_array_equal(y, y0)
        np.testing.assert_array_equal(x_cl, x0)


def test_channels_last_is_an_nhwc_convolution():
    """The spec's promise: an NHWC convolution is cols @ w_hwio.reshape(-1, F)."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 6, 5, 3))                    # N H W C
    w = rng.standard_normal((3, 2, 3, 4))                    # kh kw C F
    cols = im2col_ext.unfold(x, (3, 2), padding=((1, 1), (0, 1)), channel_axis=-1)
    out = cols @ w.reshape(-1, 4)                            # (N, L, F)
    xp = np.pad(x, ((0, 0), (1, 1), (0, 1), (0, 0)))
    expect = np.zeros((2, 6, 5, 4))
    for oy in range(6):
        for ox in range(5):
            expect[:, oy, ox] = np.einsum("nhwc,hwcf->nf", xp[:, oy:oy + 3, ox:ox + 2], w)
    np.testing.assert_allclose(out.reshape(2, 6, 5, 4), expect, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------
# 2-D channels first: today's behaviour
# --------------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    dict(kernel_size=3, dilation=1, padding=1, stride=1),
    dict(kernel_size=(2, 3), dilation=(2, 1), padding=(1, 2), stride=(2, 3)),
    dict(kernel_size=(3, 1), dilation=1, padding=0, stride=2),
])
def test_2d_channels_first_is_todays_unfold(params):
    """The existing tests/reference.py (validated against torch) agrees, bit for bit."""
    import reference as ref2d
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 7, 8))
    k = params["kernel_size"]
    r, p, s = params["dilation"], params["padding"], params["stride"]
    cols = im2col_ext.unfold(x, k, r, p, s)                 # positional, as today
    np.testing.assert_array_equal(cols, ref2d.unfold(x, k, r, p, s))
    np.testing.assert_array_equal(im2col_ext.unfold(x, k, r, p, s, channel_axis=1), cols)
    np.testing.assert_array_equal(im2col_ext.unfold(x[0], k, r, p, s), cols[0])
    y = rng.standard_normal(cols.shape)
    img = im2col_ext.fold(y, (7, 8), k, r, p, s)
    # taps in row-major kernel order onto 0, as the 2-D reference adds them
    np.testing.assert_array_equal(img, ref2d.fold(y, (7, 8), k, r, p, s))


def test_unbatched_int_kernel_with_3d_x_is_2d():
    """torch's rule: a 3-D x with an int kernel_size is an unbatched image."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 5, 6))
    cols = im2col_ext.unfold(x, 2, padding=1)
    np.testing.assert_array_equal(cols, ref.unfold(x, (2, 2), padding=1))
    img = im2col_ext.fold(cols, (5, 6), 2, padding=1)
    assert img.shape == (3, 5, 6)
    # 5-D x with an int kernel is 3-D batched
    x5 = rng.standard_normal((1, 2, 3, 4, 3))
    np.testing.assert_array_equal(im2col_ext.unfold(x5, 2), ref.unfold(x5, (2, 2, 2)))


def test_fold_rank_from_output_size():
    """fold: d = len(kernel_size) if a tuple, else len(output_size) if a tuple, else 2."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 2, 4, 5, 3))
    cols = ref.unfold(x, (2, 2, 2))
    img = im2col_ext.fold(cols, (4, 5, 3), 2)              # int kernel, 3-tuple output_size: 3-D
    np.testing.assert_allclose(img, ref.fold(cols, (4, 5, 3), (2, 2, 2)), rtol=1e-13, atol=1e-13)
    x1 = rng.standard_normal((2, 2, 7))
    cols1 = ref.unfold(x1, (3,))
    img1 = im2col_ext.fold(cols1, (7,), 3)                 # 1-D from output_size
    np.testing.assert_allclose(img1, ref.fold(cols1, (7,), (3,)), rtol=1e-13, atol=1e-13)
    img1b = im2col_ext.fold(cols1, 7, (3,))                # 1-D from kernel_size, int output_size
    np.testing.assert_array_equal(img1b, img1)
    x2 = rng.standard_normal((2, 2, 5, 5))
    cols2 = ref.unfold(x2, (3, 3))
    img2 = im2col_ext.fold(cols2, 5, 3)                    # both ints: 2-D
    np.testing.assert_allclose(img2, ref.fold(cols2, (5, 5), (3, 3)), rtol=1e-13, atol=1e-13)


# --------------------------------------------------------------------------
# im2col / col2im
# --------------------------------------------------------------------------

@pytest.mark.parametrize("channel_axis", LAYOUTS)
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_im2col_col2im_torch_layout_nd(case, channel_axis):
    size, kernel, s, p, r = case
    rng = np.random.default_rng(9)
    x_shape = _image_shape(2, 3, size, channel_axis, True)
    x = rng.standard_normal(x_shape)
    cols = im2col_ext.im2col(x, kernel, s, p, r, "torch", channel_axis=channel_axis)
    np.testing.assert_array_equal(cols, ref.unfold(x, _ktuple(case), r, p, s, channel_axis))
    y = rng.standard_normal(cols.shape)
    img = im2col_ext.col2im(y, x_shape, kernel, s, p, r, layout="torch", channel_axis=channel_axis)
    assert img.shape == x_shape
    np.testing.assert_allclose(img, ref.fold(y, size, _ktuple(case), r, p, s, channel_axis),
                               rtol=1e-13, atol=1e-13)


def test_im2col_requires_batched_x(backend):
    _once(backend)
    x = np.zeros((3, 5, 5))                       # an unbatched image
    with pytest.raises(ValueError, match=r"\bx\b|x_shape|dim"):
        im2col_ext.im2col(x, (3, 3))
    with pytest.raises(ValueError, match=r"x_shape|dim"):
        im2col_ext.col2im(np.zeros((27, 9)), (3, 5, 5), (3, 3))


@pytest.mark.parametrize("layout", ["cs231n", "6d"])
def test_cs231n_layouts_are_2d_channels_first_only(layout, backend):
    _once(backend)
    msg = r"(?i)layout|cs231n|6d|2-?d|channel_axis"
    x3 = np.zeros((2, 2, 4, 4, 4))
    x0 = x3.copy()
    with pytest.raises(ValueError, match=msg):
        im2col_ext.im2col(x3, (2, 2, 2), layout=layout)
    np.testing.assert_array_equal(x3, x0)
    x1 = np.zeros((2, 2, 6))
    with pytest.raises(ValueError, match=msg):
        im2col_ext.im2col(x1, (3,), layout=layout)
    xl = np.zeros((2, 5, 5, 3))
    with pytest.raises(ValueError, match=msg):
        im2col_ext.im2col(xl, (3, 3), layout=layout, channel_axis=-1)
    # col2im: the cols shape of that layout for the 2-D channels-first case, with a bad rank/axis
    good = im2col_ext.im2col(np.zeros((2, 3, 5, 5)), (3, 3), layout=layout)
    with pytest.raises(ValueError, match=msg):
        im2col_ext.col2im(good, (2, 5, 5, 3), (3, 3), layout=layout, channel_axis=-1)
    with pytest.raises(ValueError, match=msg):
        im2col_ext.col2im(np.zeros((2, 2 * 8, 27)), (2, 2, 4, 4, 4), (2, 2, 2), layout=layout)
    # and the 2-D channels-first form still works
    assert im2col_ext.col2im(good, (2, 3, 5, 5), (3, 3), layout=layout).shape == (2, 3, 5, 5)


# --------------------------------------------------------------------------
# out=
# --------------------------------------------------------------------------

@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("channel_axis", LAYOUTS)
@pytest.mark.parametrize("case", [CASES[1], CASES[8], CASES[15], CASES[16]], ids=_case_id)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32])
def test_out_is_written_and_returned(case, channel_axis, batched, dtype):
    size, kernel, *_ = case
    d = len(size)
    k = _kernel_for(kernel, d, batched)
    kw = _kw(case, channel_axis)
    rng = np.random.default_rng(10)
    x = _data(rng, _image_shape(2, 3, size, channel_axis, batched), dtype)
    expect = im2col_ext.unfold(x, k, **kw)
    out = np.full(expect.shape, 7, dtype=dtype)           # garbage to overwrite (padding zeros too)
    res = im2col_ext.unfold(x, k, **kw, out=out)
    assert res is out
    np.testing.assert_array_equal(out, expect)

    y = _data(rng, expect.shape, dtype)
    expect_img = im2col_ext.fold(y, size, k, **kw)
    out_img = np.full(expect_img.shape, 7, dtype=expect_img.dtype)
    res = im2col_ext.fold(y, size, k, **kw, out=out_img)
    assert res is out_img
    np.testing.assert_array_equal(out_img, expect_img)

    if batched:
        size_, kernel_, s, p, r = case
        out2 = np.full(expect.shape, 7, dtype=dtype)
        assert im2col_ext.im2col(x, k, s, p, r, channel_axis=channel_axis, out=out2) is out2
        np.testing.assert_array_equal(out2, expect)
        out3 = np.full(x.shape, 7, dtype=expect_img.dtype)
        assert im2col_ext.col2im(y, x.shape, k, s, p, r, channel_axis=channel_axis,
                                 out=out3) is out3
        np.testing.assert_array_equal(out3, expect_img)


def test_out_of_the_wrong_shape_or_dtype(backend):
    _once(backend)
    x = np.zeros((2, 3, 6, 4))                        # channels last, 2-D
    good = im2col_ext.unfold(x, (3, 3), channel_axis=-1)
    for bad in (np.zeros(good.shape[:-1] + (good.shape[-1] + 1,)),
                np.zeros(good.shape, dtype=np.float32),
                np.zeros(good.shape[::-1]).T):          # right shape, not C-contiguous
        with pytest.raises((ValueError, TypeError), match="out"):
            im2col_ext.unfold(x, (3, 3), channel_axis=-1, out=bad)
    y = np.zeros(good.shape)
    for bad in (np.zeros((2, 3, 6, 5)), np.zeros((2, 6, 4, 3)), np.zeros(x.shape, np.float32)):
        with pytest.raises((ValueError, TypeError), match="out"):
            im2col_ext.fold(y, (3, 6), (3, 3), channel_axis=-1, out=bad)


# --------------------------------------------------------------------------
# hypothesis: rank x layout x every parameter
# --------------------------------------------------------------------------

@st.composite
def nd_cases(draw):
    d = draw(st.integers(1, 3))
    channel_axis = draw(st.sampled_from(LAYOUTS))
    batched = draw(st.booleans())
    ks = [draw(st.integers(1, 3)) for _ in range(d)]
    ss = [draw(st.integers(1, 3)) for _ in range(d)]
    rs = [draw(st.integers(1, 2)) for _ in range(d)]
    form = draw(st.sampled_from(["int", "axis", "pairs", "valid", "same"]))
    if form == "int":
        p = draw(st.integers(0, 2))
        padding, pads = p, [(p, p)] * d
    elif form == "axis":
        ps = [draw(st.integers(0, 2)) for _ in range(d)]
        padding, pads = tuple(ps), [(p, p) for p in ps]
    elif form == "pairs":
        entries, pads = [], []
        for _ in range(d):
            lo, hi = draw(st.integers(0, 2)), draw(st.integers(0, 2))
            if lo == hi and draw(st.booleans()):
                entries.append(lo)
            else:
                entries.append((lo, hi))
            pads.append((lo, hi))
        padding = tuple(entries)
    else:
        padding, pads = form, [(0, 0)] * d
    span = 4 if d == 3 else 6
    size = []
    for a in range(d):
        need = 1 if form == "same" else max(1, rs[a] * (ks[a] - 1) + 1 - pads[a][0] - pads[a][1])
        size.append(draw(st.integers(need, need + span)))

    def spell(vals, int_ok=True):
        if int_ok and len(set(vals)) == 1 and draw(st.booleans()):
            return vals[0]
        return tuple(vals)

    kernel = spell(ks, int_ok=(d == 2 or (d == 3 and batched)))
    stride, dilation = spell(ss), spell(rs)
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int32, np.uint8, np.complex128]))
    view = draw(st.sampled_from(["c", "fortran", "flipped"]))
    seed = draw(st.integers(0, 2**32 - 1))
    return (tuple(size), kernel, stride, padding, dilation), tuple(ks), channel_axis, batched, \
        n, c, dtype, view, seed


# modest under the default profile (the suite must stay fast); a fuzz profile sets its own
_EXAMPLES = 40 if os.environ.get("HYPOTHESIS_PROFILE", "default") == "default" \
    else settings().max_examples


def _as_view(a, view):
    if view == "fortran":
        return np.asfortranarray(a)
    if view == "flipped":                      # negative strides on every axis, same values
        return np.flip(np.flip(a).copy())
    return a


@settings(max_examples=_EXAMPLES)
@given(nd_cases())
def test_hypothesis_unfold_fold_against_reference(params):
    case, ktuple, channel_axis, batched, n, c, dtype, view, seed = params
    size, kernel, s, p, r = case
    rng = np.random.default_rng(seed)
    x = _as_view(_data(rng, _image_shape(n, c, size, channel_axis, batched), dtype), view)
    kw = dict(dilation=r, padding=p, stride=s, channel_axis=channel_axis)
    cols = im2col_ext.unfold(x, kernel, **kw)
    expect = ref.unfold(x, ktuple, **kw)
    assert cols.dtype == x.dtype
    np.testing.assert_array_equal(cols, expect)
    y = _as_view(_data(rng, expect.shape, dtype), view)
    img = im2col_ext.fold(y, size, kernel, **kw)
    assert img.shape == x.shape and img.dtype == _sum_dtype(x.dtype)
    want = _fold_ref(y, size, ktuple, **kw)
    if np.dtype(dtype).kind in "iu":
        np.testing.assert_array_equal(img, want)
    else:
        tol = 1e-4 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(img, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("size, kernel, kw", [
    ((1, 2, 2), (1, 1, 1), dict(padding=(1, 0, 0))),
    ((1, 2, 2), (1, 1, 2), dict(padding=(1, 0, 0))),
    ((1, 2, 2), (1, 1, 2), dict(padding=((0, 2), 0, 0))),
    ((1, 4, 5), (1, 2, 2), dict(padding=((2, 0), 1, 0), stride=(2, 1, 1))),
    ((1, 2, 2), (1, 2, 2), dict(stride=(1, 2, 1), padding=1, dilation=(1, 1, 2))),
])
@pytest.mark.parametrize("n", [2, 5])
def test_fold_batch_inside_taps_with_depth_padding(size, kernel, kw, n):
    """Regression: cols with the batch inside the taps (Fortran order) of a
    depth-1 volume whose depth padding moves the one real slice off window
    row 0 -- the C backend's tap-by-tap walk of the 6-D layout read window
    row 0 (off by up to 3 against the reference)."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 3) + size)
    y = np.asfortranarray(rng.standard_normal(im2col_ext.unfold(x, kernel, **kw).shape))
    np.testing.assert_allclose(im2col_ext.fold(y, size, kernel, **kw),
                               _fold_ref(y, size, kernel, **kw), rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------
# torch cross-checks (skipped without torch)
# --------------------------------------------------------------------------

def _torch():
    return pytest.importorskip("torch", reason="torch is not installed: cross-checks skipped")


@pytest.mark.torch
@pytest.mark.parametrize("params", [
    dict(kernel_size=3, dilation=1, padding=1, stride=1),
    dict(kernel_size=(2, 3), dilation=(2, 1), padding=(1, 2), stride=(2, 3)),
    dict(kernel_size=(3, 2), dilation=(1, 3), padding=(0, 2), stride=(1, 2)),
])
def test_2d_against_torch(params):
    torch = _torch()
    F = torch.nn.functional
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 3, 8, 9))
    k, r, p, s = (params[n] for n in ("kernel_size", "dilation", "padding", "stride"))
    cols = im2col_ext.unfold(x, k, r, p, s)
    np.testing.assert_array_equal(
        cols, F.unfold(torch.from_numpy(x), k, dilation=r, padding=p, stride=s).numpy())
    y = rng.standard_normal(cols.shape)
    np.testing.assert_allclose(
        im2col_ext.fold(y, (8, 9), k, r, p, s),
        F.fold(torch.from_numpy(y), (8, 9), k, dilation=r, padding=p, stride=s).numpy(),
        rtol=1e-13, atol=1e-13)
    # channels last: the same numbers, transposed
    C, K = 3, int(np.prod(ref.as_tuple(k, 2)))
    cl = im2col_ext.unfold(np.moveaxis(x, 1, -1), k, r, p, s, channel_axis=-1)
    np.testing.assert_array_equal(_cl_to_cf_cols(cl, C, K), cols)


def _torch_unfold_by_conv(torch, x_cf, kernel, stride, pads, dilation, numpy=True):
    """unfold via a grouped conv with one-hot kernels: weight (C*K, 1, *k), groups=C."""
    F = torch.nn.functional
    d = len(kernel)
    N, C = x_cf.shape[:2]
    K = int(np.prod(kernel))
    w = np.zeros((C * K, 1, *kernel))
    for c in range(C):
        for kf in range(K):
            w[(c * K + kf, 0) + np.unravel_index(kf, kernel)] = 1.0
    t = torch.from_numpy(x_cf) if numpy else x_cf
    flat_pad = []
    for lo, hi in reversed(pads):               # F.pad: last axis first
        flat_pad += [lo, hi]
    t = F.pad(t, flat_pad)
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[d]
    out = conv(t, torch.from_numpy(w), stride=stride, dilation=dilation, groups=C)
    out = out.reshape(N, C * K, -1)
    return out.numpy() if numpy else out


@pytest.mark.torch
@pytest.mark.parametrize("case", [c for c in CASES if len(c[0]) != 2], ids=_case_id)
def test_1d_3d_unfold_against_torch_one_hot_conv(case):
    torch = _torch()
    size, kernel, s, p, r = case
    d = len(size)
    kt, st_, rt = ref.as_tuple(kernel, d), ref.as_tuple(s, d), ref.as_tuple(r, d)
    pads = ref.resolve_padding(p, size, kt, st_, rt)
    rng = np.random.default_rng(13)
    x = rng.standard_normal((2, 3, *size))
    expect = _torch_unfold_by_conv(torch, x, kt, st_, pads, rt)
    np.testing.assert_array_equal(im2col_ext.unfold(x, kernel, r, p, s), expect)
    cl = im2col_ext.unfold(np.moveaxis(x, 1, -1), kernel, r, p, s, channel_axis=-1)
    np.testing.assert_array_equal(cl, _cf_to_cl_cols(expect, 3, int(np.prod(kt))))


@pytest.mark.torch
@pytest.mark.parametrize("case", [c for c in CASES if len(c[0]) != 2], ids=_case_id)
def test_1d_3d_fold_against_torch_autograd(case):
    """fold is the adjoint: the gradient of the one-hot conv with respect to its input."""
    torch = _torch()
    size, kernel, s, p, r = case
    d = len(size)
    kt, st_, rt = ref.as_tuple(kernel, d), ref.as_tuple(s, d), ref.as_tuple(r, d)
    pads = ref.resolve_padding(p, size, kt, st_, rt)
    rng = np.random.default_rng(15)
    x = torch.from_numpy(rng.standard_normal((2, 3, *size))).requires_grad_()
    cols = _torch_unfold_by_conv(torch, x, kt, st_, pads, rt, numpy=False)
    y = rng.standard_normal(tuple(cols.shape))
    (cols * torch.from_numpy(y)).sum().backward()
    np.testing.assert_allclose(im2col_ext.fold(y, size, kernel, r, p, s), x.grad.numpy(),
                               rtol=1e-13, atol=1e-13)


@pytest.mark.torch
@pytest.mark.parametrize("size,kernel,dilation", [
    ((9,), (3,), (1,)),          # total 2: symmetric
    ((8,), (5,), (2,)),          # total 8: symmetric
    ((8,), (4,), (1,)),          # total 3: odd, the extra on the high side
    ((6, 7), (3, 5), (1, 1)),
    ((6, 7), (2, 3), (3, 1)),    # totals 3, 2
    ((4, 5, 3), (3, 3, 3), (1, 2, 1)),
    ((4, 5, 3), (2, 3, 2), (1, 1, 1)),
])
@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_same_padding_against_torch_conv_same(size, kernel, dilation):
    """torch's conv with padding='same' (stride 1) and our "same" give the same windows."""
    torch = _torch()
    F = torch.nn.functional
    d = len(size)
    C = 2
    K = int(np.prod(kernel))
    rng = np.random.default_rng(14)
    x = rng.standard_normal((2, C, *size))
    w = rng.standard_normal((4, C, *kernel))
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[d]
    expect = conv(torch.from_numpy(x), torch.from_numpy(w), padding="same",
                  dilation=dilation).numpy()
    cols = im2col_ext.unfold(x, kernel, dilation, "same", 1)
    assert cols.shape == (2, C * K, int(np.prod(size)))
    got = (w.reshape(4, -1) @ cols).reshape(2, 4, *size)
    np.testing.assert_allclose(got, expect, rtol=1e-12, atol=1e-12)
    # the one-hot conv, exactly, where torch's 'same' padding is symmetric
    if all((k - 1) * r % 2 == 0 for k, r in zip(kernel, dilation)):
        sym = tuple((k - 1) * r // 2 for k, r in zip(kernel, dilation))
        w1 = np.zeros((C * K, 1, *kernel))
        for c in range(C):
            for kf in range(K):
                w1[(c * K + kf, 0) + np.unravel_index(kf, kernel)] = 1.0
        one_hot = conv(torch.from_numpy(x), torch.from_numpy(w1), padding="same",
                       dilation=dilation, groups=C).reshape(2, C * K, -1).numpy()
        np.testing.assert_array_equal(cols, one_hot)
        np.testing.assert_array_equal(cols, im2col_ext.unfold(x, kernel, dilation, sym, 1))


# --------------------------------------------------------------------------
# bad input: ValueError/TypeError naming the argument, nothing mutated
# --------------------------------------------------------------------------

def _raises(exc, match, fn, *arrays):
    before = [a.copy() for a in arrays]
    with pytest.raises(exc, match=match):
        fn()
    for a, b in zip(arrays, before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("shape", [(7,), (2, 7), (1, 2, 3, 4, 5, 6)])
def test_int_kernel_with_ambiguous_rank(shape, backend):
    _once(backend)
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    _raises(ValueError, r"kernel_size", lambda: im2col_ext.unfold(x, 1), x)
    if len(shape) != 2:
        _raises(ValueError, r"kernel_size|\bx\b", lambda: im2col_ext.im2col(x, 1), x)


@pytest.mark.parametrize("shape,kernel", [
    ((2, 3, 5), (2, 2, 2)),          # 3-D kernel needs 4-D/5-D x
    ((2, 3, 5, 5), (2,)),            # 1-D kernel needs 2-D/3-D x
    ((2, 3, 4, 4, 4), (2, 2)),       # 2-D kernel needs 3-D/4-D x
    ((5,), (2,)),                    # 1-D needs at least (C, L)
    ((2, 2, 2, 3, 3, 3), (2, 2, 2)),
])
def test_kernel_length_vs_x_ndim(shape, kernel, backend):
    _once(backend)
    x = np.ones(shape)
    _raises(ValueError, r"kernel_size|\bx\b", lambda: im2col_ext.unfold(x, kernel), x)


@pytest.mark.parametrize("channel_axis", [0, 2, -2, 3, "last", None, 1.0])
def test_bad_channel_axis(channel_axis, backend):
    _once(backend)
    x = np.ones((2, 3, 5, 5))
    _raises((ValueError, TypeError), "channel_axis",
            lambda: im2col_ext.unfold(x, (3, 3), channel_axis=channel_axis), x)
    cols = np.ones((2, 27, 9))
    _raises((ValueError, TypeError), "channel_axis",
            lambda: im2col_ext.fold(cols, (5, 5), (3, 3), channel_axis=channel_axis), cols)
    _raises((ValueError, TypeError), "channel_axis",
            lambda: im2col_ext.im2col(x, (3, 3), channel_axis=channel_axis), x)
    _raises((ValueError, TypeError), "channel_axis",
            lambda: im2col_ext.col2im(cols, x.shape, (3, 3), channel_axis=channel_axis), cols)


@pytest.mark.parametrize("padding", [
    ((1, -1), (0, 0)), ((0, 0), (-2, 1)), (1, (-1, 0)), -1, (-1, 0),
])
def test_negative_padding(padding, backend):
    _once(backend)
    x = np.ones((2, 3, 6, 6))
    _raises(ValueError, "padding", lambda: im2col_ext.unfold(x, (3, 3), padding=padding), x)
    cols = np.ones((2, 27, 16))
    _raises(ValueError, "padding",
            lambda: im2col_ext.fold(cols, (6, 6), (3, 3), padding=padding), cols)


def test_negative_padding_1d_3d(backend):
    _once(backend)
    x1 = np.ones((2, 6))
    _raises(ValueError, "padding", lambda: im2col_ext.unfold(x1, (3,), padding=((0, -1),)), x1)
    x3 = np.ones((1, 4, 4, 4))
    _raises(ValueError, "padding",
            lambda: im2col_ext.unfold(x3, (2, 2, 2), padding=(0, (0, -1), 0)), x3)


def test_bare_pair_padding_in_1d(backend):
    _once(backend)
    x = np.ones((2, 3, 8))
    _raises(ValueError, "padding", lambda: im2col_ext.unfold(x, (3,), padding=(1, 2)), x)
    _raises(ValueError, "padding", lambda: im2col_ext.unfold(x, (3,), padding=[1, 2]), x)
    cols = np.ones((2, 9, 6))
    _raises(ValueError, "padding",
            lambda: im2col_ext.fold(cols, (8,), (3,), padding=(1, 0)), cols)
    # the spelled-out forms work
    assert im2col_ext.unfold(x, (3,), padding=((1, 2),)).shape == (2, 9, 9)
    assert im2col_ext.unfold(x, (3,), padding=(1,)).shape == (2, 9, 8)


@pytest.mark.parametrize("padding", ["full", "causal", "", "valid ", "SAMEISH"])
def test_unknown_padding_string(padding, backend):
    _once(backend)
    x = np.ones((2, 3, 6, 6))
    _raises((ValueError, TypeError), "padding",
            lambda: im2col_ext.unfold(x, (3, 3), padding=padding), x)
    cols = np.ones((2, 27, 16))
    _raises((ValueError, TypeError), "padding",
            lambda: im2col_ext.fold(cols, (6, 6), (3, 3), padding=padding), cols)


@pytest.mark.parametrize("padding", ["SAME", "Same", "VALID", "Valid"])
def test_padding_strings_ignore_case(padding, backend):
    """TensorFlow spells them "SAME" / "VALID": any case means the same padding."""
    _once(backend)
    x = np.arange(2 * 3 * 6 * 7, dtype=float).reshape(2, 3, 6, 7)
    want = im2col_ext.unfold(x, (3, 3), padding=padding.lower(), stride=2)
    np.testing.assert_array_equal(im2col_ext.unfold(x, (3, 3), padding=padding, stride=2), want)


@pytest.mark.parametrize("padding", [(1, 1, 1), ((1, 1, 1), 0), (1,), ((1, 2), (1, 2), (1, 2))])
def test_padding_of_the_wrong_length(padding, backend):
    _once(backend)
    x = np.ones((2, 3, 6, 6))
    _raises((ValueError, TypeError), "padding",
            lambda: im2col_ext.unfold(x, (3, 3), padding=padding), x)


@pytest.mark.parametrize("name,value", [
    ("kernel_size", (0, 3)), ("kernel_size", (3, -1)), ("stride", 0), ("stride", (1, -2)),
    ("dilation", 0), ("dilation", (-1, 1)),
    ("stride", (1, 1, 1)), ("dilation", (1,)),
])
def test_bad_size_parameters(name, value, backend):
    _once(backend)
    x = np.ones((2, 3, 6, 6))
    kw = dict(kernel_size=(3, 3))
    kw[name] = value
    wrong_length = len(value if isinstance(value, tuple) else (value,) * 2) != 2
    exc = (ValueError, TypeError) if wrong_length else ValueError   # spec: <= 0 is a ValueError
    _raises(exc, name, lambda: im2col_ext.unfold(x, **kw), x)


def test_bad_size_parameters_3d_channels_last(backend):
    _once(backend)
    x = np.ones((1, 4, 4, 4, 2))
    for name, value in [("stride", (1, 0, 1)), ("dilation", (1, 1)), ("kernel_size", (2, 0, 2))]:
        kw = dict(kernel_size=(2, 2, 2), channel_axis=-1)
        kw[name] = value
        _raises((ValueError, TypeError), name, lambda: im2col_ext.unfold(x, **kw), x)


@pytest.mark.parametrize("shape,kernel,kw", [
    ((2, 3, 4), (5,), {}),
    ((2, 3, 4), (3,), dict(dilation=2)),
    ((2, 4, 4, 3), (3, 5), dict(channel_axis=-1)),
    ((1, 2, 3, 3, 3), (2, 2, 4), dict(padding=((0, 0), (0, 0), (0, 0)))),
    ((1, 2, 3, 3, 2), (2, 2, 4), dict(padding=(0, 0, (0, 1)))),
])
def test_kernel_does_not_fit(shape, kernel, kw, backend):
    _once(backend)
    x = np.ones(shape)
    _raises(ValueError, "does not fit", lambda: im2col_ext.unfold(x, kernel, **kw), x)


def test_fold_cols_of_the_wrong_shape(backend):
    _once(backend)
    # 1-D channels first: K = 3, L = 6 for (8,) with k 3
    for cols in (np.ones((2, 10, 6)), np.ones((2, 9, 5)), np.ones((2, 2, 9, 6)), np.ones(54)):
        _raises(ValueError, "cols", lambda: im2col_ext.fold(cols, (8,), (3,)), cols)
    # 3-D channels last: K = 8, L = 27 for (4, 4, 4) with k 2
    for cols in (np.ones((1, 27, 12)), np.ones((1, 26, 16)), np.ones((1, 16, 27))):
        _raises(ValueError, "cols",
                lambda: im2col_ext.fold(cols, (4, 4, 4), (2, 2, 2), channel_axis=-1), cols)
    # col2im
    cols = np.ones((2, 26, 16))
    _raises(ValueError, "cols", lambda: im2col_ext.col2im(cols, (2, 3, 6, 6), (3, 3)), cols)


@pytest.mark.parametrize("output_size,kernel", [
    ((5, 5, 5), (3, 3)), ((5,), (3, 3)), ((5, 5), (3,)), ((5, 5), (3, 3, 3)),
])
def test_fold_output_size_of_the_wrong_length(output_size, kernel, backend):
    _once(backend)
    K = int(np.prod(kernel))
    cols = np.ones((2, 2 * K, 9))
    _raises(ValueError, "output_size",
            lambda: im2col_ext.fold(cols, output_size, kernel), cols)


def test_col2im_x_shape_of_the_wrong_length(backend):
    _once(backend)
    cols = np.ones((2, 27, 9))
    _raises(ValueError, r"x_shape|kernel_size",
            lambda: im2col_ext.col2im(cols, (2, 3, 5, 5, 5), (3, 3)), cols)
