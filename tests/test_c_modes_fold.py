"""The compiled padding-mode gathers and the issue-11 accumulate pairs, against the NumPy twin.

``i2c_gather_mode_*`` reads every padding tap through the mode's index map
inside the C walks (the NumPy twin rewrites the border after a zero-padded
gather): both copy bits, so they must agree bitwise for every mode, rank,
channel axis and item size.  fold of float16 runs the C pair float16 ->
float32 (a hand-written exact conversion), and the 8/16-bit integer pairs
sum each plane in a narrow stack tile where that is exact: both must give
the NumPy twin's bits, including at the tap-count limits of the narrow
accumulator and past them (the fallback walks).
"""

import itertools

import numpy as np
import pytest

import im2col_ext
from im2col_ext import _backend

import reference_nd as ref_nd
import reference_padding as ref

pytestmark = pytest.mark.c_only

MODES = ["constant", "reflect", "replicate", "circular"]


def _under(which, fn):
    previous = _backend.use(which)
    try:
        return fn()
    finally:
        _backend.use(previous)


def _both(fn):
    """``(c_result, numpy_result)`` of ``fn()``."""
    return _under("c", fn), _under("numpy", fn)


def _bits_equal(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _data(rng, shape, dtype):
    """Random bits of ``dtype`` (every byte random: NaNs, subnormals, extremes)."""
    dtype = np.dtype(dtype)
    raw = rng.integers(0, 256, size=int(np.prod(shape)) * dtype.itemsize, dtype=np.uint8)
    return raw.view(dtype).reshape(shape)


# dtypes of every gather item size: 1, 2, 4, 8, 16 bytes
ITEM_DTYPES = ["u1", "f2", "i4", "f8", "c16"]

# (size, kernel, stride, dilation, padding) per rank: symmetric, asymmetric
# and maximal padding, dilation along the last axis (channels last then
# leaves the window-major walk), strides that skip the high padding
GEOMS = {
    1: [((7,), (3,), 1, 1, 2), ((6,), (2,), 2, 2, ((3, 4),)), ((4,), (4,), 3, 1, ((3, 3),))],
    2: [((5, 6), (3, 3), 1, 1, 1), ((4, 5), (2, 3), (2, 1), (1, 2), ((3, 1), (0, 4))),
        ((3, 4), (3, 2), 1, 1, ((2, 2), (3, 3)))],
    3: [((3, 4, 5), (2, 3, 3), 1, 1, 1), ((3, 3, 4), (3, 2, 2), 2, (1, 2, 1), ((2, 0), 1, (0, 3)))],
}


def _geom_cases():
    for d, geoms in GEOMS.items():
        for i, g in enumerate(geoms):
            yield pytest.param(g, id=f"{d}d-{i}")


@pytest.mark.parametrize("dtype", ITEM_DTYPES)
@pytest.mark.parametrize("channel_axis", [1, -1], ids=["cf", "cl"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("geom", list(_geom_cases()))
def test_mode_gather_c_equals_numpy(geom, mode, channel_axis, dtype):
    size, kernel, stride, dilation, padding = geom
    if not ref.mode_fits(mode, size, padding):
        pytest.skip("padding too large for the mode")
    rng = np.random.default_rng(len(size) * 100 + MODES.index(mode))
    shape = (2, 3) + size if channel_axis == 1 else (2,) + size + (3,)
    x = _data(rng, shape, dtype)
    kw = dict(stride=stride, dilation=dilation, padding=padding, channel_axis=channel_axis,
              padding_mode=mode)
    if mode == "constant":
        kw["value"] = 3   # non-zero bytes: the C fill, not the zero-padded gather
    c, n = _both(lambda: im2col_ext.unfold(x, kernel, **kw))
    assert _bits_equal(c, n)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["f4", "f8"])
def test_mode_gather_streaming_and_strided(mode, dtype):
    """Columns over the streaming-store threshold, and a non-contiguous input."""
    cext = pytest.importorskip("im2col_ext._cext")
    stream = cext.build_info["stream_min_bytes"]
    rng = np.random.default_rng(7)
    per_image = 16 * 64 * 64 * (15 + 1) * np.dtype(dtype).itemsize
    n = stream // per_image + 1
    x = rng.standard_normal((n, 16, 66, 64)).astype(dtype)[:, :, 1:-1]   # strided rows
    kw = dict(padding=(2, 1), padding_mode=mode)
    if mode == "constant":
        kw["value"] = -1.5
    c, n = _both(lambda: im2col_ext.unfold(x, (5, 3), **kw))
    assert c.nbytes + x.nbytes >= stream
    assert _bits_equal(c, n)


@pytest.mark.parametrize("mode", ["zeros"] + MODES)
@pytest.mark.parametrize("dtype, channels, kernel, size", [
    ("u1", 13, (3, 5), (30, 33)),        # 65-byte window rows: byte-wise heads and tails
    ("f8", 8, (3, 3, 3), (6, 20, 21)),   # 192-byte rows, 3-D
    ("f4", 16, (5,), (3001,)),           # 320-byte rows, 1-D
    ("f8", 4, (3, 3), (40, 41)),         # 96-byte rows: the short-row walk, streamed
])
def test_channels_last_gather_streamed(mode, dtype, channels, kernel, size):
    """Channels-last columns over the streaming threshold, into a warm array
    (streaming stores: rows inside the image straight from it, rows with
    padding assembled first): the NumPy twin's bits, every mode."""
    cext = pytest.importorskip("im2col_ext._cext")
    stream = cext.build_info["stream_min_bytes"]
    rng = np.random.default_rng(len(size) * channels)
    item = np.dtype(dtype).itemsize
    per_image = int(np.prod(size)) * channels * item * (int(np.prod(kernel)) + 1)
    x = _data(rng, (stream // per_image + 1,) + size + (channels,), dtype)
    kw = dict(padding=tuple(k // 2 for k in kernel), padding_mode=mode, channel_axis=-1)
    if mode == "constant":
        kw["value"] = 3
    expect = _under("numpy", lambda: im2col_ext.unfold(x, kernel, **kw))
    assert expect.nbytes + x.nbytes >= stream
    out = np.full_like(expect, 7)
    got = _under("c", lambda: im2col_ext.unfold(x, kernel, out=out, **kw))
    assert got is out and _bits_equal(got, expect)


@pytest.mark.parametrize("mode", MODES)
def test_mode_gather_every_layout(mode):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 2, 5, 6))
    kw = dict(padding=2, padding_mode=mode)
    if mode == "constant":
        kw["value"] = 2.0
    for layout in ("torch",):
        c, n = _both(lambda: im2col_ext.im2col(x, 3, layout=layout, **kw))
        assert _bits_equal(c, n)


def test_constant_negative_zero_is_not_zeros():
    """value=-0.0 has non-zero bytes: it must be written, not taken as zeros."""
    x = np.ones((1, 1, 3, 3), np.float32)
    c = _under("c", lambda: im2col_ext.unfold(x, 3, padding=1, padding_mode="constant",
                                              value=-0.0))
    assert np.signbit(c[0, 0, 0]) and c[0, 0, 0] == 0


@pytest.mark.parametrize("mode, expected", [
    ("reflect", [[3, 2, 1], [2, 1, 2], [1, 2, 3], [2, 3, 2], [3, 2, 1]]),
    ("replicate", [[1, 1, 1], [1, 1, 2], [1, 2, 3], [2, 3, 3], [3, 3, 3]]),
    ("circular", [[2, 3, 1], [3, 1, 2], [1, 2, 3], [2, 3, 1], [3, 1, 2]]),
    ("constant", [[9, 9, 1], [9, 1, 2], [1, 2, 3], [2, 3, 9], [3, 9, 9]]),
])
@pytest.mark.parametrize("dtype", ["u1", "i2", "f4", "f8", "c16"])
def test_mode_gather_by_hand(mode, expected, dtype):
    """x = [1, 2, 3], kernel 3, padding 2: numpy.pad by hand, five windows."""
    x = np.array([[[1, 2, 3]]], dtype=dtype)
    kw = {"value": 9} if mode == "constant" else {}
    for backend in ("c", "numpy"):
        cols = _under(backend, lambda: im2col_ext.unfold(x, (3,), padding=2, padding_mode=mode,
                                                         **kw))
        np.testing.assert_array_equal(cols[0], np.array(expected, dtype=dtype).T)
        # channels last: the window-major walk
        xl = np.ascontiguousarray(x.transpose(0, 2, 1))
        cl = _under(backend, lambda: im2col_ext.unfold(xl, (3,), padding=2, padding_mode=mode,
                                                       channel_axis=-1, **kw))
        np.testing.assert_array_equal(cl[0], np.array(expected, dtype=dtype))


def test_mode_gather_depth_axis_by_hand():
    """3-D reflect along the depth only: depth planes read in the order numpy.pad gives."""
    x = np.arange(3, dtype=np.float64).reshape(1, 1, 3, 1, 1) * np.ones((1, 1, 3, 2, 2))
    cols = _under("c", lambda: im2col_ext.unfold(x, (3, 1, 1), padding=((2, 2), 0, 0),
                                                 padding_mode="reflect"))
    src = np.pad(np.arange(3), 2, mode="reflect")          # [2 1 0 1 2 1 0]
    windows = np.lib.stride_tricks.sliding_window_view(src, 3)   # (5, 3)
    got = cols[0].reshape(3, 5, 4)[:, :, 0]                  # (k0, o0)
    np.testing.assert_array_equal(got, windows.T)


# --------------------------------------------------------------------------
# fold: the float16 pair
# --------------------------------------------------------------------------

def test_half_to_float_every_value():
    """The C conversion is exact for all 65536 halves (NaN payloads included)."""
    from im2col_ext import _cext
    h = np.arange(65536, dtype=np.uint16).view(np.float16)
    cols9 = h.reshape(1, 1, 1, 1, 1, 1, 1, 65536, 1)
    x6 = np.empty((1, 1, 1, 1, 65536, 1), np.float32)
    spec = ((1, 1, 65536), (1, 1, 1), (1, 1, 65536), (1, 1, 1), (0, 0, 0), (1, 1, 1))
    _cext.accumulate(cols9, x6, spec)
    ref = np.zeros(65536, np.float32)
    with np.errstate(invalid="ignore"):
        ref += h                     # NumPy's 0 + float32(h): what the twin computes
    assert x6.ravel().view(np.uint32).tobytes() == ref.view(np.uint32).tobytes()
    finite = np.isfinite(h)
    np.testing.assert_array_equal(x6.ravel()[finite], h[finite].astype(np.float32))


@pytest.mark.parametrize("channel_axis", [1, -1], ids=["cf", "cl"])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_fold_float16_is_np_sum_in_float32(d, channel_axis):
    from im2col_ext import _cext
    assert ("<f2", "<f4") in _cext.ACCUMULATE_PAIRS or (">f2", ">f4") in _cext.ACCUMULATE_PAIRS
    assert im2col_ext.backend_for(np.float16, "fold") == "c"
    rng = np.random.default_rng(d)
    size = (5, 6, 7)[3 - d:]
    kernel = (3,) * d
    x = rng.standard_normal((2, 3) + size if channel_axis == 1 else (2,) + size + (3,))
    cols = im2col_ext.unfold(x.astype(np.float16), kernel, padding=1, channel_axis=channel_axis)
    cols = cols * np.float16(100)     # large sums: float16 accumulation would differ
    c, n = _both(lambda: im2col_ext.fold(cols, size, kernel, padding=1,
                                         channel_axis=channel_axis))
    assert c.dtype == np.float16 and _bits_equal(c, n)
    # np.sum's semantics: sum in float32, result cast to float16
    c32 = im2col_ext.fold(cols, size, kernel, padding=1, channel_axis=channel_axis,
                          dtype=np.float32)
    ref = im2col_ext.fold(cols.astype(np.float32), size, kernel, padding=1,
                          channel_axis=channel_axis)
    np.testing.assert_array_equal(c32, ref)
    np.testing.assert_array_equal(c, ref.astype(np.float16))


def test_fold_float16_by_hand():
    """2048 + 1 + 1 + 1 into one pixel: float32 keeps 2051 (float16 2052); summed in
    float16 every 1 would round away (2048)."""
    cols = np.zeros((1, 4, 4), np.float16)   # size 1, kernel 4, padding 3: 4 windows
    for k, val in enumerate([2048, 1, 1, 1]):  # tap k of window 3 - k reads the pixel
        cols[0, k, 3 - k] = val
    for backend in ("c", "numpy"):
        out = _under(backend, lambda: im2col_ext.fold(cols, (1,), (4,), padding=3))
        assert out.dtype == np.float16 and out[0, 0, 0] == np.float16(2052)
        out32 = _under(backend, lambda: im2col_ext.fold(cols, (1,), (4,), padding=3,
                                                        dtype=np.float32))
        assert out32.dtype == np.float32 and out32[0, 0, 0] == 2051


# --------------------------------------------------------------------------
# fold: the 8/16-bit integer pairs and their narrow accumulator
# --------------------------------------------------------------------------

INT_DTYPES = ["u1", "i1", "u2", "i2", "b1", "u4", "i4"]


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("channel_axis", [1, -1], ids=["cf", "cl"])
@pytest.mark.parametrize("geom", list(_geom_cases()))
def test_integer_fold_c_equals_numpy(geom, channel_axis, dtype):
    size, kernel, stride, dilation, padding = geom
    rng = np.random.default_rng(11)
    kw = dict(stride=stride, dilation=dilation, padding=padding, channel_axis=channel_axis)
    shape = (2, 3) + size if channel_axis == 1 else (2,) + size + (3,)
    cols = im2col_ext.unfold(np.zeros(shape, dtype), kernel, **kw)
    cols = _data(rng, cols.shape, dtype) if dtype != "b1" else rng.random(cols.shape) < 0.5
    c, n = _both(lambda: im2col_ext.fold(cols, size, kernel, **kw))
    assert _bits_equal(c, n)
    assert c.dtype == (np.uint64 if dtype[0] == "u" else np.int64)


@pytest.mark.parametrize("dtype, fill, kernel", [
    ("u1", 255, (16, 16)), ("u1", 255, (1, 257)), ("u1", 255, (2, 129)),     # 256, 257, 258 taps
    ("i1", -128, (16, 16)), ("i1", -128, (1, 257)), ("i1", 127, (16, 16)),
    ("u2", 65535, (3, 3)), ("i2", -32768, (5, 5)), ("i2", 32767, (5, 5)),
    ("b1", True, (16, 17)),
])
def test_integer_fold_narrow_limits(dtype, fill, kernel):
    """Every pixel at the maximum count of taps with extreme values: exact sums.

    With stride 1 and padding kernel-1 every pixel is read by every tap; the
    narrow accumulator holds 255 * 257 in 16 bits, -128 * 256 too, and falls
    back beyond.
    """
    size = (3, 300)
    pad = tuple(k - 1 for k in kernel)
    x = np.full((1, 1) + size, fill, dtype=dtype)
    cols = _under("c", lambda: im2col_ext.unfold(x, kernel, padding=pad))
    c, n = _both(lambda: im2col_ext.fold(cols, size, kernel, padding=pad))
    assert _bits_equal(c, n)
    taps = kernel[0] * kernel[1]
    assert (c == int(fill) * taps).all()


@pytest.mark.parametrize("dtype", ["u1", "i2"])
def test_integer_fold_rows_wider_than_the_tile(dtype):
    """A padded row over the narrow tile (4096 elements): the direct walk serves it."""
    rng = np.random.default_rng(5)
    size = (2, 5000)
    cols = im2col_ext.unfold(_data(rng, (1, 2) + size, dtype), (2, 3), padding=1)
    c, n = _both(lambda: im2col_ext.fold(cols, size, (2, 3), padding=1))
    assert _bits_equal(c, n)


@pytest.mark.parametrize("dtype", ["u1", "i2"])
def test_integer_col2im_course_layouts(dtype):
    """cs231n / 6d layouts (v = N, strided) through the narrow tile: NumPy's bits."""
    rng = np.random.default_rng(9)
    x_shape = (3, 2, 6, 7)
    for layout in ("cs231n", "6d"):
        cols = im2col_ext.im2col(np.zeros(x_shape, dtype), 3, padding=1, layout=layout)
        cols = _data(rng, cols.shape, dtype)
        c, n = _both(lambda: im2col_ext.col2im(cols, x_shape, 3, padding=1, layout=layout,
                                               dtype=np.int64))
        assert _bits_equal(c, n)


# --------------------------------------------------------------------------
# fold: channels-last 8/16-bit columns through the narrow ring of image rows
# (accumulate_wm_narrow: window rows of up to 16 bytes added as one masked
# vector, windows in interleaved passes, rows widened into the image once no
# later window row reaches them)
# --------------------------------------------------------------------------

# (size, kernel, stride, dilation, padding): 1-, 2- and 3-D; low padding and
# dilation along the first axes (window rows then reach image rows out of
# order: a row may be reached again after a later one was started); strides
# over the kernel (rows no window reaches must come out zero); window rows of
# 2 to 36 bytes around the 16-byte vector
RING_GEOMS = [
    ((9,), (3,), 1, 1, 1), ((10,), (2,), 3, 1, 0), ((7,), (5,), 2, 1, ((4, 1),)),
    ((6, 7), (3, 3), 1, 1, 1), ((5, 8), (1, 2), (3, 1), 1, 0), ((6, 5), (2, 3), 2, (2, 1), 2),
    ((8, 3, 6), (2, 1, 3), (1, 1, 2), (2, 1, 1), (1, 0, 2)),
    ((4, 5, 6), (3, 2, 2), (2, 1, 1), (1, 2, 1), ((2, 0), (1, 1), (0, 1))),
    ((3, 4, 5), (1, 3, 3), (3, 2, 1), 1, (0, 2, 1)),
]


@pytest.mark.parametrize("dtype", ["u1", "i1", "u2", "i2", "b1"])
@pytest.mark.parametrize("channels", [1, 2, 3, 6])
@pytest.mark.parametrize("geom", RING_GEOMS, ids=[str(g[0]) + str(g[1]) for g in RING_GEOMS])
def test_integer_fold_channels_last_ring(geom, channels, dtype):
    size, kernel, stride, dilation, padding = geom
    rng = np.random.default_rng(channels * 7 + len(size))
    kw = dict(stride=stride, dilation=dilation, padding=padding, channel_axis=-1)
    x = np.zeros((3,) + size + (channels,), dtype)
    cols = im2col_ext.unfold(x, kernel, **kw)
    cols = _data(rng, cols.shape, dtype) if dtype != "b1" else rng.random(cols.shape) < 0.5
    # a strided view of the columns too: the vector loads stop at its end
    views = [cols, np.ascontiguousarray(cols[::-1])[::-1]]
    for y in views:
        y0 = y.copy()
        c, n = _both(lambda: im2col_ext.fold(y, size, kernel, **kw))
        assert _bits_equal(c, n)
        acc = np.uint64 if dtype[0] in "ub" else np.int64
        expect = ref_nd.fold(y.astype(acc), size, kernel, **kw)
        np.testing.assert_array_equal(c, expect)
        np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize("dtype, fill, kernel", [
    ("u1", 255, (16, 16)), ("u1", 255, (1, 257)), ("u1", 255, (2, 129)),     # 256, 257, 258 taps
    ("i1", -128, (16, 16)), ("i1", 127, (4, 4)), ("u2", 65535, (3, 3)), ("i2", -32768, (5, 5)),
])
def test_integer_fold_channels_last_ring_limits(dtype, fill, kernel):
    """Channels last at the narrow accumulator's tap limit and past it (the wide walk)."""
    size = (20, 280)
    pad = tuple(k - 1 for k in kernel)
    x = np.full((1,) + size + (2,), fill, dtype=dtype)
    cols = _under("c", lambda: im2col_ext.unfold(x, kernel, padding=pad, channel_axis=-1))
    c, n = _both(lambda: im2col_ext.fold(cols, size, kernel, padding=pad, channel_axis=-1))
    assert _bits_equal(c, n)
    assert (c == int(fill) * kernel[0] * kernel[1]).all()


@pytest.mark.parametrize("dtype", ["u1", "i2"])
def test_integer_fold_channels_last_rows_over_the_ring(dtype):
    """Image rows too long for the ring (8192 elements) take the wide walk: same bits."""
    rng = np.random.default_rng(3)
    size = (4, 3000)
    for kernel, channels in [((3, 3), 3), ((5, 1), 2)]:
        cols = im2col_ext.unfold(_data(rng, (2,) + size + (channels,), dtype), kernel,
                                 padding=1, channel_axis=-1)
        c, n = _both(lambda: im2col_ext.fold(cols, size, kernel, padding=1, channel_axis=-1))
        assert _bits_equal(c, n)
        acc = np.uint64 if dtype[0] == "u" else np.int64
        np.testing.assert_array_equal(
            c, ref_nd.fold(cols.astype(acc), size, kernel, padding=1, channel_axis=-1))


def _placed(a, offset):
    """A copy of ``a`` at ``offset`` bytes past a 4 KiB boundary."""
    buf = np.empty(a.nbytes + 8192, np.uint8)
    start = (-buf.ctypes.data) % 4096 + offset
    out = buf[start:start + a.nbytes].view(a.dtype).reshape(a.shape)
    out[...] = a
    return out


@pytest.mark.parametrize("dtype", ["f4", "f8"])
@pytest.mark.parametrize("offset", [0, 16, 2048])
@pytest.mark.parametrize("size", [(8, 12), (6, 14), (4, 6, 10)])
def test_fold_of_tiling_pairs(dtype, offset, size):
    """2x2 (x2) stride-2 windows that tile the image: each image row is the
    interleave of two tap rows (0 + value: -0.0 becomes +0.0), written by
    vectors with a scalar tail (7 windows a row), or by the tap-major walk
    for float64 planes a multiple of 4 KiB from their columns; the image
    placed at several distances from the columns: the NumPy twin's bits."""
    rng = np.random.default_rng(len(size) + offset)
    k = (2,) * len(size)
    cols = im2col_ext.unfold(np.zeros((3, 2) + size, dtype), k, stride=2)
    cols = _placed(_data(rng, cols.shape, dtype), 0)
    cols.flat[::7] = -0.0
    expect = _under("numpy", lambda: im2col_ext.fold(cols, size, k, stride=2))
    out = _placed(np.full(expect.shape, 5, dtype), offset)
    got = _under("c", lambda: im2col_ext.fold(cols, size, k, stride=2, out=out))
    assert got is out and _bits_equal(got, expect)
    assert not np.signbit(got[got == 0]).any()
