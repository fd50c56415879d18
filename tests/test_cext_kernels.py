"""The compiled kernels (``im2col_ext._cext``) against the NumPy twin, kernel by kernel.

The arrays are built exactly as the public API builds them (the torch,
cs231n and 6-D column layouts), plus views the API never makes but the
kernels must still serve: non-contiguous, negative, zero (broadcast) and
Fortran-order strides, read-only inputs.  Copies (im2col, the max-pool
values and argmax) must agree bit for bit, NaN payloads and -0.0 included;
sums (col2im, average pools, the float64 max-pool scatter) bit for bit too,
except that any NaN matches any NaN; the float32 max-pool scatter, which
NumPy accumulates in float64, within rtol 1e-6.  A few tiny cases are checked against values worked out by hand.
"""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

C = pytest.importorskip("im2col_ext._cext")

import im2col_ext  # noqa: E402
import reference as ref  # noqa: E402
from im2col_ext import _backend  # noqa: E402
from im2col_ext import _numpy_backend as P  # noqa: E402
from im2col_ext._geometry import Geometry, conv_geometry  # noqa: E402

DTYPES = [np.float32, np.float64]
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 2.0, np.nan, np.inf, -np.inf, 0.5, 1.0])


# The compiled kernels themselves, against the NumPy kernels: run once, on "c".
pytestmark = pytest.mark.c_only


# ------------------------------------------------------------------ helpers

def _spec(g):
    """The kernels' 3-D spec of a 2-D Geometry (a leading unit depth axis)."""
    return ((1, g.h, g.w), (1, g.kh, g.kw), (1, g.oh, g.ow), (1, g.sh, g.sw),
            (0, g.ph, g.pw), (1, g.dh, g.dw))


def _im2col(mod, x5, cols7, g):
    """``mod.gather`` on the 2-D views (n, c, h, w, v) / (n, c, kh, kw, oh, ow, v)."""
    mod.gather(x5[:, :, None], cols7[:, :, None, :, :, None], _spec(g))


def _col2im(mod, cols7, x5, g):
    """``mod.accumulate`` on the 2-D views."""
    mod.accumulate(cols7[:, :, None, :, :, None], x5[:, :, None], _spec(g))


def bits(a):
    """The bytes of ``a`` in C order, for bitwise comparisons (NaN, -0.0)."""
    return np.ascontiguousarray(a).tobytes()


def assert_bitwise(a, b, what="", nan_payload=True):
    """Bit-for-bit equality (so -0.0 != 0.0).

    With ``nan_payload=False`` any two NaNs match: when a sum meets two NaNs
    (say inf + -inf and a NaN from the data) IEEE leaves open which payload
    and sign survive, and compilers may swap the operands of an addition.
    """
    assert a.shape == b.shape, what
    a = np.ascontiguousarray(a)
    b = np.ascontiguousarray(b)
    u = f"u{a.itemsize}"
    same = a.view(u) == b.view(u)
    if not nan_payload:
        same |= np.isnan(a) & np.isnan(b)
    if not same.all():
        bad = np.argwhere(~same)
        i = tuple(bad[0])
        raise AssertionError(
            f"{what}: {len(bad)} elements differ, first at {list(i)}: {a[i]!r} vs {b[i]!r}"
        )


def data(rng, shape, dtype, special=False):
    if special:
        x = rng.choice(SPECIAL, size=shape)
    else:
        x = rng.standard_normal(shape)
    return x.astype(dtype)


def view_as(x, kind):
    """A view of a copy of ``x`` with the same values and the given strides."""
    if kind == "c":
        return np.ascontiguousarray(x)
    if kind == "fortran":
        return np.asfortranarray(x)
    if kind == "strided":
        big = np.zeros(tuple(2 * s + 1 for s in x.shape), dtype=x.dtype)
        sl = tuple(slice(1, None, 2) for _ in x.shape)
        big[sl] = x
        return big[sl]
    if kind == "negative":
        flip = tuple(slice(None, None, -1) for _ in x.shape)
        return np.ascontiguousarray(x[flip])[flip]
    if kind == "readonly":
        y = np.array(x)
        y.setflags(write=False)
        return y
    raise ValueError(kind)


def empty_as(shape, dtype, kind):
    """An uninitialised (garbage-filled) output of ``shape`` with the given strides."""
    if kind == "c":
        out = np.empty(shape, dtype)
    elif kind == "fortran":
        out = np.empty(shape, dtype, order="F")
    elif kind == "strided":
        big = np.empty(tuple(2 * s for s in shape), dtype)
        out = big[tuple(slice(None, None, 2) for _ in shape)]
    elif kind == "negative":
        out = np.empty(shape, dtype)[tuple(slice(None, None, -1) for _ in shape)]
    else:
        raise ValueError(kind)
    out[...] = np.nan  # garbage the kernels must overwrite
    return out


def layouts(x, g, layout, out_kind="c"):
    """(x5, cols7 factory, geometry) as the API builds them for ``layout``."""
    n, c, h, w = x.shape
    dt = x.dtype
    kh, kw, oh, ow = g.kh, g.kw, g.oh, g.ow
    if layout == "torch":
        def cols():
            return empty_as((n, c * kh * kw, oh * ow), dt, out_kind).reshape(
                n, c, kh, kw, oh, ow, 1) if out_kind == "c" else \
                empty_as((n, c, kh, kw, oh, ow, 1), dt, out_kind)
        return x[..., None], cols, g
    if layout == "cs231n":
        def cols():
            if out_kind == "c":
                return empty_as((c * kh * kw, oh * ow * n), dt, "c").reshape(
                    1, c, kh, kw, oh, ow, n)
            return empty_as((1, c, kh, kw, oh, ow, n), dt, out_kind)
        return x.transpose(1, 2, 3, 0)[None], cols, g._replace(n=1, v=n)
    if layout == "six":
        def cols():
            out6 = empty_as((c, kh, kw, n, oh, ow), dt, out_kind)
            return out6.transpose(3, 0, 1, 2, 4, 5)[..., None]
        return x[..., None], cols, g
    raise ValueError(layout)


def image_out(x5, kind):
    """An output image with x5's shape: the cs231n view when x5 is one."""
    if x5.shape[0] == 1 and x5.shape[4] > 1:  # cs231n (1, C, H, W, N) view
        n = x5.shape[4]
        base = empty_as((n,) + x5.shape[1:4], x5.dtype, kind)
        return base.transpose(1, 2, 3, 0)[None]
    return empty_as(x5.shape, x5.dtype, kind)


@st.composite
def geometries(draw, max_hw=8):
    n = draw(st.integers(1, 3))
    c = draw(st.integers(1, 3))
    h = draw(st.integers(1, max_hw))
    w = draw(st.integers(1, max_hw))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    try:
        return conv_geometry(n, c, h, w, k, s, p, d)
    except ValueError:
        assume(False)


# ------------------------------------------------------------------ module

def test_module_attributes():
    assert C.name == "c"
    assert isinstance(C.openmp, bool)
    info = C.build_info
    assert isinstance(info, dict)
    assert info["openmp"] is C.openmp
    assert "compiler" in info and "extra_compile_args" in info
    assert "-ffast-math" not in info["extra_compile_args"]
    assert "-march=native" not in info["extra_compile_args"]


def test_num_threads_setting():
    old = C.get_num_threads()
    try:
        assert old >= 1
        assert C.set_num_threads(3) == old
        assert C.get_num_threads() == 3
        C.set_num_threads(np.int64(1))
        assert C.get_num_threads() == 1
        for bad, exc in [(0, ValueError), (-2, ValueError), (1.0, TypeError),
                         ("2", TypeError), (True, TypeError), (None, TypeError)]:
            with pytest.raises(exc):
                C.set_num_threads(bad)
        assert C.get_num_threads() == 1
    finally:
        C.set_num_threads(old)


@pytest.mark.parametrize("dtype", [np.int32, np.float16, np.complex128, np.int8])
def test_dtypes_without_kernels_raise_type_error(dtype):
    g = conv_geometry(1, 1, 3, 3, 2, 1, 0, 1)
    x5 = np.zeros((1, 1, 3, 3, 1), dtype)
    cols7 = np.zeros((1, 1, 2, 2, 2, 2, 1), dtype)
    with pytest.raises(TypeError):
        _col2im(C, cols7, x5, g)
    with pytest.raises(TypeError):
        C.avg_pool_forward(x5[..., 0], cols7[0, 0, 0, 0][None, None], g)
    s3 = np.zeros((1, 1, 3, 3, 1), "S3")
    with pytest.raises(TypeError):
        _im2col(C, s3, np.zeros((1, 1, 2, 2, 2, 2, 1), "S3"), g)


def test_mixed_dtypes_raise_type_error():
    g = conv_geometry(1, 1, 3, 3, 2, 1, 0, 1)
    with pytest.raises(TypeError):
        _im2col(C, np.zeros((1, 1, 3, 3, 1), np.float32),
                 np.zeros((1, 1, 2, 2, 2, 2, 1), np.float64), g)


# ------------------------------------------------------------------ by hand

@pytest.mark.parametrize("dtype", DTYPES)
def test_im2col_by_hand(dtype):
    x = np.arange(1, 10, dtype=dtype).reshape(1, 1, 3, 3)
    g = conv_geometry(1, 1, 3, 3, 2, 1, 0, 1)
    cols = np.empty((1, 1, 2, 2, 2, 2, 1), dtype)
    _im2col(C, x[..., None], cols, g)
    want = [[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]]
    np.testing.assert_array_equal(cols.reshape(4, 4), want)

    # padding 1, kernel 3, stride 2 on a 2x2 image: one window, zeros around
    x = np.array([[1, 2], [3, 4]], dtype).reshape(1, 1, 2, 2)
    g = conv_geometry(1, 1, 2, 2, 3, 2, 1, 1)
    assert (g.oh, g.ow) == (1, 1)
    cols = np.full((1, 1, 3, 3, 1, 1, 1), np.nan, dtype)
    _im2col(C, x[..., None], cols, g)
    np.testing.assert_array_equal(cols.reshape(3, 3), [[0, 0, 0], [0, 1, 2], [0, 3, 4]])

    # dilation 2: the taps of a 2x2 kernel are the corners of a 3x3 image
    x = np.arange(1, 10, dtype=dtype).reshape(1, 1, 3, 3)
    g = conv_geometry(1, 1, 3, 3, 2, 1, 0, 2)
    cols = np.empty((1, 1, 2, 2, 1, 1, 1), dtype)
    _im2col(C, x[..., None], cols, g)
    np.testing.assert_array_equal(cols.reshape(4), [1, 3, 7, 9])


@pytest.mark.parametrize("dtype", DTYPES)
def test_col2im_by_hand(dtype):
    g = conv_geometry(1, 1, 3, 3, 2, 1, 0, 1)
    cols = np.ones((1, 1, 2, 2, 2, 2, 1), dtype)
    x = np.full((1, 1, 3, 3, 1), np.nan, dtype)
    _col2im(C, cols, x, g)
    np.testing.assert_array_equal(x[0, 0, :, :, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    # stride 2 skips row/column 1 of a 3x3 image with a 1x1 kernel
    g = conv_geometry(1, 1, 3, 3, 1, 2, 0, 1)
    cols = np.arange(1, 5, dtype=dtype).reshape(1, 1, 1, 1, 2, 2, 1)
    _col2im(C, cols, x, g)
    np.testing.assert_array_equal(x[0, 0, :, :, 0], [[1, 0, 2], [0, 0, 0], [3, 0, 4]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_pools_by_hand(dtype):
    nan, inf = np.nan, np.inf
    x = np.array([[1, 1, -inf, -inf],
                  [0, 1, -inf, -inf],
                  [3, nan, 5, 7],
                  [nan, 9, 7, 6]], dtype).reshape(1, 1, 4, 4)
    g = conv_geometry(1, 1, 4, 4, 2, 2, 0, 1)
    out = np.empty((1, 1, 2, 2), dtype)
    arg = np.empty((1, 1, 2, 2), np.int64)
    C.max_pool_forward(x, out, arg, g)
    # ties: the first tap wins; all -inf: the first pixel; NaN wins, the last NaN
    np.testing.assert_array_equal(out[0, 0], [[1, -inf], [nan, 7]])
    np.testing.assert_array_equal(arg[0, 0], [[0, 2], [12, 11]])

    dout = np.array([[1, 2], [3, 4]], dtype).reshape(1, 1, 2, 2)
    dx = np.full((1, 1, 4, 4), nan, dtype)
    C.max_pool_scatter(dout, arg, dx, g)
    want = np.zeros((4, 4))
    want.flat[[0, 2, 12, 11]] = [1, 2, 3, 4]
    np.testing.assert_array_equal(dx[0, 0], want)

    # overlapping windows add; index -1 is skipped
    g = conv_geometry(1, 1, 2, 2, 2, 1, 0, 1)
    g = g._replace(oh=1, ow=3)
    dout = np.array([1.5, 2.0, 4.0], dtype).reshape(1, 1, 1, 3)
    arg = np.array([3, 3, -1], np.int64).reshape(1, 1, 1, 3)
    dx = np.full((1, 1, 2, 2), nan, dtype)
    C.max_pool_scatter(dout, arg, dx, g)
    np.testing.assert_array_equal(dx[0, 0], [[0, 0], [0, 3.5]])

    # average pool counts the padding in the divisor
    x = np.ones((1, 1, 2, 2), dtype)
    g = conv_geometry(1, 1, 2, 2, 2, 1, 1, 1)
    out = np.empty((1, 1, 3, 3), dtype)
    C.avg_pool_forward(x, out, g)
    np.testing.assert_array_equal(out[0, 0], [[0.25, 0.5, 0.25], [0.5, 1, 0.5], [0.25, 0.5, 0.25]])
    dx = np.full((1, 1, 2, 2), nan, dtype)
    C.avg_pool_scatter(np.ones((1, 1, 3, 3), dtype), dx, g)
    np.testing.assert_array_equal(dx[0, 0], [[1, 1], [1, 1]])


def test_window_without_valid_taps():
    # padding wider than the kernel: corner windows see no pixel
    g = conv_geometry(1, 1, 2, 2, 1, 1, 1, 1)
    x = np.ones((1, 1, 2, 2))
    out = np.empty((1, 1, 4, 4))
    arg = np.empty((1, 1, 4, 4), np.int64)
    C.max_pool_forward(x, out, arg, g)
    assert out[0, 0, 0, 0] == -np.inf and arg[0, 0, 0, 0] == -1
    assert out[0, 0, 1, 1] == 1 and arg[0, 0, 1, 1] == 0
    o2, a2 = np.empty_like(out), np.empty_like(arg)
    P.max_pool_forward(x, o2, a2, g)
    assert_bitwise(out, o2)
    np.testing.assert_array_equal(arg, a2)


# ------------------------------------------------------------------ gathers

def check_im2col_col2im(x, g, layout, in_kind="c", out_kind="c", rng=None):
    xv = view_as(x, in_kind)
    x5, make_cols, gg = layouts(xv, g, layout, out_kind)
    a, b = make_cols(), make_cols()
    _im2col(C, x5, a, gg)
    _im2col(P, x5, b, gg)
    assert_bitwise(a, b, f"im2col {layout} {in_kind}->{out_kind} {g}")

    # col2im: feed random columns through the same kind of view
    rng = rng or np.random.default_rng(0)
    src = data(rng, a.shape, x.dtype)
    if in_kind == "readonly":
        src.setflags(write=False)
    elif in_kind != "c":
        src = view_as(src, in_kind)
    xa, xb = image_out(x5, out_kind), image_out(x5, out_kind)
    _col2im(C, src, xa, gg)
    _col2im(P, src, xb, gg)
    assert_bitwise(xa, xb, f"col2im {layout} {in_kind}->{out_kind} {g}", nan_payload=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["torch", "cs231n", "six"])
@given(g=geometries(), seed=st.integers(0, 2**32 - 1), special=st.booleans())
def test_gathers_random(dtype, layout, g, seed, special):
    rng = np.random.default_rng(seed)
    x = data(rng, (g.n, g.c, g.h, g.w), dtype, special)
    check_im2col_col2im(x, g, layout, rng=rng)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["torch", "cs231n", "six"])
@pytest.mark.parametrize("in_kind", ["strided", "negative", "fortran", "readonly"])
@pytest.mark.parametrize("out_kind", ["c", "strided", "negative", "fortran"])
def test_gathers_strides(dtype, layout, in_kind, out_kind):
    rng = np.random.default_rng(7)
    for g in [conv_geometry(3, 2, 7, 6, 3, 1, 1, 1),
              conv_geometry(2, 3, 9, 8, (2, 3), (2, 1), (1, 2), (2, 1)),
              conv_geometry(4, 1, 5, 11, (1, 4), (1, 3), (0, 3), (1, 2))]:
        x = data(rng, (g.n, g.c, g.h, g.w), dtype, special=True)
        check_im2col_col2im(x, g, layout, in_kind, out_kind, rng)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gathers_broadcast_input(dtype):
    # zero strides: every channel (and for cs231n every image) is one array
    rng = np.random.default_rng(3)
    g = conv_geometry(3, 4, 6, 5, 3, 2, 1, 1)
    base = data(rng, (1, 1, 6, 5), dtype)
    x = np.broadcast_to(base, (3, 4, 6, 5))
    for layout in ["torch", "cs231n", "six"]:
        x5, make_cols, gg = layouts(x, g, layout)
        a, b = make_cols(), make_cols()
        _im2col(C, x5, a, gg)
        _im2col(P, x5, b, gg)
        assert_bitwise(a, b, layout)
    cols = np.broadcast_to(data(rng, (1, 1, 3, 3, g.oh, g.ow, 1), dtype),
                           (3, 4, 3, 3, g.oh, g.ow, 1))
    xa, xb = np.empty((3, 4, 6, 5, 1), dtype), np.empty((3, 4, 6, 5, 1), dtype)
    _col2im(C, cols, xa, g)
    _col2im(P, cols, xb, g)
    assert_bitwise(xa, xb, nan_payload=False)


def _past_stream(itemsize, c, h, w, *window):
    """conv_geometry(n, c, h, w, *window) with the n images whose columns and image
    reach the size from which the gathers use streaming stores."""
    g = conv_geometry(1, c, h, w, *window)
    per_image = c * (g.kh * g.kw * g.oh * g.ow + h * w) * itemsize
    return conv_geometry(C.build_info["stream_min_bytes"] // per_image + 1, c, h, w, *window)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["torch", "cs231n"])
def test_gathers_large_paths(dtype, layout):
    # big enough for the streaming stores (a torch-layout tap of 23x41 fits
    # the stack buffer of the staged walk, one of 50x50 does not, and stride
    # 2 takes the row walk; 2x2 stride 2 without column padding splits rows
    # into even and odd columns, streamed when the rows are whole vectors,
    # with a scalar tail and rows in the padding otherwise), the tiled
    # cs231n path with more than one tile of images, and a kernel wider than
    # the kx range cache
    rng = np.random.default_rng(5)
    size = np.dtype(dtype).itemsize
    for g in [_past_stream(size, 4, 23, 41, 3, 1, 1, 1),
              _past_stream(size, 2, 50, 50, 3, 1, 1, 1),
              _past_stream(size, 8, 32, 31, 2, 2, (0, 1), 1),
              _past_stream(size, 8, 32, 32, 2, 2, 0, 1),
              _past_stream(size, 4, 33, 35, 2, 2, (1, 0), 1),
              conv_geometry(2, 2, 3, 90, (1, 70), 1, (0, 4), 1)]:
        x = data(rng, (g.n, g.c, g.h, g.w), dtype)
        check_im2col_col2im(x, g, layout, rng=rng)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("offset", [0, 1])
@pytest.mark.parametrize("big", [False, True])
def test_tiling_fold(dtype, offset, big):
    """Folds of windows that tile the image (2x2 / 2x2x2 stride 2): the pair walk
    (channels first) and the window-major walk (channels last) store each pixel's
    one tap, 0 + it (-0.0 -> +0.0, the NumPy twin's bits), without zeroing the
    image first; 2-D planes and 3-D windows.  Columns and image past the
    streaming threshold (big) are written with non-temporal stores where the
    image is 16-byte aligned (offset 0) and plain stores where it is not (offset
    1 element)."""
    rng = np.random.default_rng(11)
    size = np.dtype(dtype).itemsize
    g = _past_stream(size, 8, 32, 32, 2, 2, 0, 1) if big else conv_geometry(2, 3, 8, 8, 2, 2, 0, 1)
    n3 = g.n // 8 + 1
    for image, kernel, axis in (((g.n, g.c, 32, 32), (2, 2), 1),
                                ((n3, g.c, 8, 32, 32), (2, 2, 2), 1),
                                ((g.n, 32, 32, g.c), (2, 2), -1),
                                ((n3, 8, 32, 32, g.c), (2, 2, 2), -1),
                                ((n3, 8, 30, 34, g.c), (2, 2, 2), -1),   # unaligned rows
                                ((n3, 7, 30, 33, g.c), (2, 2, 2), -1)):  # padding: no tiling
        x = data(rng, image, dtype)
        size_ = image[2:] if axis == 1 else image[1:-1]
        cols = im2col_ext.unfold(x, kernel, stride=2, channel_axis=axis)
        cols.flat[::7] = -0.0
        want = np.empty(x.size + 16, dtype)[offset:offset + x.size].reshape(x.shape)
        got = np.full(x.size + 16, np.nan, dtype)[offset:offset + x.size].reshape(x.shape)
        assert ((got.ctypes.data % 16) == 0) == (offset == 0)
        previous = _backend.name()
        try:
            _backend.use("numpy")
            im2col_ext.fold(cols, size_, kernel, stride=2, channel_axis=axis, out=want)
            _backend.use("c")
            im2col_ext.fold(cols, size_, kernel, stride=2, channel_axis=axis, out=got)
        finally:
            _backend.use(previous)
        assert_bitwise(got, want, f"fold {image} offset {offset}")


# ------------------------------------------------------------------ pooling

def check_pools(x, g, in_kind="c"):
    xv = view_as(x, in_kind)
    dt = x.dtype
    shape = (g.n, g.c, g.oh, g.ow)
    oa, ob = np.empty(shape, dt), np.empty(shape, dt)
    aa, ab = np.empty(shape, np.int64), np.empty(shape, np.int64)
    C.max_pool_forward(xv, oa, aa, g)
    P.max_pool_forward(xv, ob, ab, g)
    assert_bitwise(oa, ob, f"max_pool_forward {g}")
    np.testing.assert_array_equal(aa, ab, err_msg=f"argmax {g}")

    rng = np.random.default_rng(g.h * 31 + g.w)
    dout = data(rng, shape, dt)
    dout.flat[::5] = -0.0
    da, db = np.empty(x.shape, dt), np.empty(x.shape, dt)
    C.max_pool_scatter(dout, aa, da, g)
    P.max_pool_scatter(dout, aa, db, g)
    if dt == np.float64:
        assert_bitwise(da, db, f"max_pool_scatter {g}", nan_payload=False)
    else:
        np.testing.assert_allclose(da, db, rtol=1e-6, atol=1e-6)

    C.avg_pool_forward(xv, oa, g)
    P.avg_pool_forward(xv, ob, g)
    assert_bitwise(oa, ob, f"avg_pool_forward {g}", nan_payload=False)
    C.avg_pool_scatter(dout, da, g)
    P.avg_pool_scatter(dout, db, g)
    assert_bitwise(da, db, f"avg_pool_scatter {g}", nan_payload=False)


@pytest.mark.parametrize("dtype", DTYPES)
@given(g=geometries(), seed=st.integers(0, 2**32 - 1), special=st.booleans())
def test_pools_random(dtype, g, seed, special):
    rng = np.random.default_rng(seed)
    x = data(rng, (g.n, g.c, g.h, g.w), dtype, special)
    check_pools(x, g)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("in_kind", ["strided", "negative", "fortran", "readonly"])
def test_pools_strides(dtype, in_kind):
    rng = np.random.default_rng(11)
    for g in [conv_geometry(2, 3, 8, 7, 2, 2, 0, 1),
              conv_geometry(2, 2, 9, 9, 3, 1, 1, 1),
              conv_geometry(1, 3, 7, 10, (3, 2), (2, 3), (1, 1), (2, 1))]:
        x = data(rng, (g.n, g.c, g.h, g.w), dtype, special=True)
        check_pools(x, g, in_kind)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [(16, 16), (17, 16), (3, 90)])
def test_max_pool_argmax_of_windows_with_many_taps(dtype, k):
    # the inner max-pool walk looks the argmax's in-window offset up in a
    # table of up to 256 taps and divides beyond it: both sides of that
    rng = np.random.default_rng(k[0] * 100 + k[1])
    for s in (1, 2):
        g = conv_geometry(2, 2, k[0] + 5, k[1] + 6, k, s, 0, 1)
        x = data(rng, (g.n, g.c, g.h, g.w), dtype)
        check_pools(x, g)


def test_pool_kernels_refuse_non_contiguous_outputs():
    # the pool kernels take C-contiguous out / argmax / dout / dx (the API
    # allocates them so): any other view is a ValueError, never a wrong write
    rng = np.random.default_rng(2)
    g = conv_geometry(2, 2, 6, 6, 2, 2, 0, 1)
    x = rng.standard_normal((2, 2, 6, 6))
    out = np.full((2, 2, 3, 3), 7.0, order="F")
    arg = np.empty((2, 2, 3, 3), np.int64, order="F")
    with pytest.raises(ValueError):
        C.max_pool_forward(x, out, arg, g)
    assert (out == 7.0).all()
    dout = np.asfortranarray(rng.standard_normal((2, 2, 3, 3)))
    dx = np.empty((2, 2, 6, 6))
    with pytest.raises(ValueError):
        C.avg_pool_scatter(dout, dx, g)
    with pytest.raises(ValueError):
        C.avg_pool_scatter(np.ascontiguousarray(dout), dx[:, :, ::-1], g)
    # and the API serves such inputs by making them contiguous first
    from im2col_ext import _api
    got = _api._avg_pool_scatter(dout, g)
    want = np.empty((2, 2, 6, 6))
    P.avg_pool_scatter(np.ascontiguousarray(dout), want, g)
    assert_bitwise(got, want)


# ------------------------------------------------------------------ threads

def run_all(x, g):
    """Every kernel's outputs for x (torch and cs231n layouts, pools)."""
    res = []
    for layout in ["torch", "cs231n"]:
        x5, make_cols, gg = layouts(x, g, layout)
        cols = make_cols()
        _im2col(C, x5, cols, gg)
        res.append(bits(cols))
        xi = image_out(x5, "c")
        _col2im(C, cols, xi, gg)
        res.append(bits(xi))
    shape = (g.n, g.c, g.oh, g.ow)
    out, arg = np.empty(shape, x.dtype), np.empty(shape, np.int64)
    C.max_pool_forward(x, out, arg, g)
    res += [bits(out), bits(arg)]
    dx = np.empty(x.shape, x.dtype)
    dout = np.ones(shape, x.dtype) / 3
    C.max_pool_scatter(dout, arg, dx, g)
    res.append(bits(dx))
    C.avg_pool_forward(x, out, g)
    res.append(bits(out))
    C.avg_pool_scatter(dout, dx, g)
    res.append(bits(dx))
    return res


@pytest.mark.parametrize("dtype", DTYPES)
def test_thread_count_does_not_change_results(dtype):
    rng = np.random.default_rng(9)
    g = conv_geometry(6, 5, 21, 19, 3, 1, 1, 1)
    x = data(rng, (g.n, g.c, g.h, g.w), dtype, special=True)
    old = C.get_num_threads()
    try:
        results = []
        for nt in (1, 2, 4):
            C.set_num_threads(nt)
            results.append(run_all(x, g))
    finally:
        C.set_num_threads(old)
    assert results[0] == results[1] == results[2]
    # and they are NumPy's
    x5, make_cols, gg = layouts(x, g, "torch")
    cols = make_cols()
    _im2col(P, x5, cols, gg)
    assert bits(cols) == results[0][0]


def test_geometry_is_plain_tuple():
    # the wrapper reads attributes only; a hand-built Geometry works
    g = Geometry(n=1, c=1, h=2, w=2, v=1, kh=1, kw=1, oh=2, ow=2,
                 sh=1, sw=1, ph=0, pw=0, dh=1, dw=1)
    x = np.arange(4.0).reshape(1, 1, 2, 2, 1)
    cols = np.empty((1, 1, 1, 1, 2, 2, 1))
    _im2col(C, x, cols, g)
    np.testing.assert_array_equal(cols.ravel(), [0, 1, 2, 3])


# ------------------------------------------------------------------ max-pool tie scatter

def _overlapping(g):
    return not (g.sh >= g.kh and g.sw >= g.kw and g.dh == 1 and g.dw == 1)


def check_tie_scatter(x, g, dout=None, out=None, in_kind="c"):
    """C and NumPy tie scatter on the same arrays; returns the C result."""
    xv = view_as(x, in_kind)
    dt = x.dtype
    shape = (g.n, g.c, g.oh, g.ow)
    if out is None:
        out, arg = np.empty(shape, dt), np.empty(shape, np.int64)
        P.max_pool_forward(x, out, arg, g)
    if dout is None:
        dout = data(np.random.default_rng(g.h * 7 + g.w), shape, dt, special=True)
        dout.flat[::3] = -1.5
    da, db = np.empty(x.shape, dt), np.empty(x.shape, dt)
    C.max_pool_tie_scatter(xv, out, dout, da, g)
    P.max_pool_tie_scatter(xv, out, dout, db, g)
    # sums (overlapping windows) may keep either NaN's payload
    assert_bitwise(da, db, f"max_pool_tie_scatter {g}", nan_payload=not _overlapping(g))
    return da


@pytest.mark.parametrize("dtype", DTYPES)
def test_tie_scatter_by_hand(dtype):
    nan, inf = np.nan, np.inf
    g = conv_geometry(1, 1, 2, 6, 2, 2, 0, 1)
    x = np.array([[[[1, 1, 3, 0, nan, 5],
                    [1, 1, 3, 3, 2, nan]]]], dtype)
    out = np.array([[[[1, 3, nan]]]], dtype)
    dout = np.array([[[[1, 6, 4]]]], dtype)
    dx = check_tie_scatter(x, g, dout, out)
    expect = np.array([[[[0.25, 0.25, 2, 0, 2, 0], [0.25, 0.25, 2, 2, 0, 2]]]], dtype)
    assert_bitwise(dx, expect)
    # all -inf: four ties; -0.0 == 0.0 ties too
    x = np.array([[[[-inf, -inf, -0.0, 0.0], [-inf, -inf, -1, 0.0]]]], dtype)[..., :4]
    g = conv_geometry(1, 1, 2, 4, 2, 2, 0, 1)
    out = np.array([[[[-inf, 0.0]]]], dtype)
    dx = check_tie_scatter(x, g, np.array([[[[2, 3]]]], dtype), out)
    np.testing.assert_array_equal(dx, [[[[0.5, 0.5, 1, 1], [0.5, 0.5, 0, 1]]]])
    # non-tied taps get 0 * share: -0.0 for a negative gradient, NaN for inf
    dx = check_tie_scatter(x, g, np.array([[[[-2, inf]]]], dtype), out)
    assert_bitwise(dx[0, 0, :, :2], np.full((2, 2), -0.5, dtype))
    assert np.isnan(dx[0, 0, 1, 2]) and dx[0, 0, 0, 2] == inf
    # out matching no tap (count 0): every tap gets 0 * dout
    dx = check_tie_scatter(x, g, np.array([[[[-2, 5]]]], dtype), np.array([[[[7, 7]]]], dtype))
    assert_bitwise(dx, np.array([[[[-0.0, -0.0, 0, 0], [-0.0, -0.0, 0, 0]]]], dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_tie_scatter_overlapping_by_hand(dtype):
    # 2x2 windows, stride 1: the centre pixel ties in all four windows
    g = conv_geometry(1, 1, 3, 3, 2, 1, 0, 1)
    x = np.array([[[[0, 1, 0], [1, 1, 1], [0, 1, 0]]]], dtype)
    dout = np.array([[[[3, 6], [9, 12]]]], dtype)
    dx = check_tie_scatter(x, g, dout)
    expect = [[[[0, 3 / 3 + 6 / 3, 0],
                [3 / 3 + 9 / 3, 3 / 3 + 6 / 3 + 9 / 3 + 12 / 3, 6 / 3 + 12 / 3],
                [0, 9 / 3 + 12 / 3, 0]]]]
    np.testing.assert_allclose(dx, expect, rtol=1e-6)
    # padding never ties, even with a maximum of 0
    g = conv_geometry(1, 1, 2, 2, 3, 3, 1, 1)    # one window, 5 of its 9 taps padding
    x = np.array([[[[0, -1], [-1, 0]]]], dtype)
    dx = check_tie_scatter(x, g, np.ones((1, 1, 1, 1), dtype))
    np.testing.assert_array_equal(dx, [[[[0.5, 0], [0, 0.5]]]])


@pytest.mark.parametrize("dtype", DTYPES)
@given(g=geometries(), seed=st.integers(0, 2**32 - 1), special=st.booleans())
def test_tie_scatter_random(dtype, g, seed, special):
    rng = np.random.default_rng(seed)
    if special:
        x = data(rng, (g.n, g.c, g.h, g.w), dtype, special=True)
    else:
        x = rng.integers(-2, 3, size=(g.n, g.c, g.h, g.w)).astype(dtype)   # many ties
    check_tie_scatter(x, g)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("in_kind", ["c", "strided", "negative", "fortran", "readonly"])
def test_tie_scatter_strides_and_fast_paths(dtype, in_kind):
    rng = np.random.default_rng(12)
    for g in [conv_geometry(2, 3, 8, 6, 2, 2, 0, 1),      # the 2x2 fast paths
              conv_geometry(2, 3, 9, 7, 2, 3, 0, 1),      # 2x2, stride 3, uncovered pixels
              conv_geometry(2, 2, 6, 9, 3, 3, 0, 1),
              conv_geometry(2, 2, 9, 9, 3, 1, 1, 1),
              conv_geometry(1, 3, 7, 10, (3, 2), (2, 3), (1, 1), (2, 1)),
              conv_geometry(1, 2, 6, 6, 2, 2, 0, 2)]:     # dilated 2x2: generic path
        x = data(rng, (g.n, g.c, g.h, g.w), dtype, special=True)
        check_tie_scatter(x, g, in_kind=in_kind)
        # and the forward pass on the same views (2x2 fast path included)
        check_pools(x, g, in_kind)


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_forward_2x2_signed_zeros_and_nan_payloads(dtype):
    rng = np.random.default_rng(13)
    g = conv_geometry(3, 4, 10, 12, 2, 2, 0, 1)
    x = rng.choice(np.array([0.0, -0.0, np.nan, -np.nan, -1.0], dtype), size=(3, 4, 10, 12))
    u = x.view(f"u{x.itemsize}")
    u[np.isnan(x)] |= rng.integers(1, 50, size=int(np.isnan(x).sum())).astype(u.dtype)
    for kind in ["c", "strided"]:
        check_pools(x, g, kind)
        check_tie_scatter(x, g, in_kind=kind)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tie_scatter_threads(dtype):
    rng = np.random.default_rng(14)
    old = C.get_num_threads()
    try:
        for g in [conv_geometry(6, 5, 20, 18, 2, 2, 0, 1), conv_geometry(6, 5, 21, 19, 3, 1, 1, 1)]:
            x = rng.integers(-2, 3, size=(g.n, g.c, g.h, g.w)).astype(dtype)
            res = []
            for nt in (1, 2):
                C.set_num_threads(nt)
                res.append(bits(check_tie_scatter(x, g)))
            assert res[0] == res[1]
    finally:
        C.set_num_threads(old)


def test_tie_scatter_dtype_errors():
    g = conv_geometry(1, 1, 2, 2, 2, 2, 0, 1)
    x = np.zeros((1, 1, 2, 2))
    o = np.zeros((1, 1, 1, 1))
    with pytest.raises(TypeError):
        C.max_pool_tie_scatter(x.astype(np.float32), o, o, np.empty_like(x), g)
    with pytest.raises(TypeError):
        C.max_pool_tie_scatter(x.astype(np.int64), o.astype(np.int64), o.astype(np.int64),
                               np.empty((1, 1, 2, 2), np.int64), g)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.complex128])
@pytest.mark.parametrize("n", [8, 9, 16, 19, 50])
@pytest.mark.parametrize("shape, k, p, s", [((3, 6, 10), 2, 0, 2), ((2, 7, 5), 3, 1, 1),
                                            ((1, 9, 11), 3, 0, 2)])
def test_course_layout_batch_blocks(dtype, n, shape, k, p, s):
    """im2col_indices / col2im_indices with enough images for the transposes'
    blocks of 8 images (and their tails: n % 8, odd row lengths) against the
    loop references, bitwise."""
    from im2col_ext._api import col2im_indices, im2col_indices

    rng = np.random.default_rng(n)
    x = (rng.standard_normal((n,) + shape) * 8).astype(dtype)
    cols = im2col_indices(x, k, k, p, s)
    np.testing.assert_array_equal(cols, ref.im2col_cs231n(x, k, k, p, s))
    back = col2im_indices(cols, x.shape, k, k, p, s)
    expect = ref.col2im_cs231n(cols, x.shape, k, k, p, s)
    if np.issubdtype(dtype, np.integer):
        np.testing.assert_array_equal(back, expect)
    else:
        np.testing.assert_allclose(back, expect, rtol=1e-6 if dtype == np.float32 else 1e-13)


@pytest.mark.parametrize("layout", ["torch", "cs231n", "six"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_col2im_exact_tiling_bits(layout, dtype):
    """Windows that tile the image exactly (2x2 stride 2; 3x2 stride (3, 2) and
    others with padding, a first window wholly in it) skip the zeroing (and
    in the 6-D layout take the row-interleaving walk): each pixel is 0 + its
    one tap, so -0.0 still comes back as +0.0, bit for bit as the NumPy twin."""
    rng = np.random.default_rng(3)
    for n, h, w, k, s, p in [(9, 6, 8, 2, 2, 0), (3, 7, 8, (3, 2), (3, 2), (1, 0)),
                             (4, 8, 7, 2, 2, (0, 1)), (2, 6, 9, 3, 3, (2, 3))]:
        g = conv_geometry(n, 2, h, w, k, s, p, 1)
        x = np.zeros((n, 2, h, w), dtype)
        x5, make_cols, g2 = layouts(x, g, layout)
        cols = make_cols()
        cols[...] = rng.standard_normal(cols.shape)
        cols[..., ::3] = -0.0
        expect = image_out(x5, "c")
        _col2im(P, cols, expect, g2)
        got = image_out(x5, "c")
        got[...] = np.nan
        _col2im(C, cols, got, g2)
        assert_bitwise(got, expect, layout)
        assert (got == 0).any() and not np.signbit(got[got == 0]).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_fold_column_phases_bits(dtype):
    """Folds with a column stride > 1 go through the plane split by column
    phase (col2im_plane_phases); with depth taps the later ones add into what
    the earlier wrote (add=1).  Bitwise against the NumPy twin."""
    import im2col_ext as ie
    from im2col_ext import _backend

    rng = np.random.default_rng(5)
    for shape, k, s, p in [((2, 3, 9, 11), 3, 2, 1), ((3, 2, 7, 8), (2, 3), (1, 3), (0, 2)),
                           ((2, 3, 5, 9, 11), (2, 3, 3), (1, 2, 2), 1),
                           ((2, 3, 4, 7, 8), (3, 2, 3), (1, 3, 3), (1, 0, 2))]:
        cols = (rng.standard_normal(ie.unfold(np.zeros(shape), k, stride=s, padding=p).shape)
                * 100).astype(dtype)
        got = ie.fold(cols, shape[2:], k, stride=s, padding=p)
        previous = _backend.use("numpy")
        try:
            expect = ie.fold(cols, shape[2:], k, stride=s, padding=p)
        finally:
            _backend.use(previous)
        assert_bitwise(got, expect, str(shape))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_col2im_6d_channel_blocks(dtype):
    """The 6-D layout (batch inside the taps) with column stride 1 is folded
    tap by tap across blocks of one channel's planes (64x64 float64 planes:
    16 to a block, so 40 images make three blocks, the last one short);
    bitwise against the NumPy twin, on 1 and 2 threads."""
    rng = np.random.default_rng(11)
    old = C.get_num_threads()
    try:
        for n, h, w, k, s, p, d in [(40, 64, 64, 3, 1, 1, 1), (5, 9, 7, (3, 2), (2, 1), (1, 0), 1),
                                    (3, 10, 12, 3, 1, 2, 2)]:
            g = conv_geometry(n, 2, h, w, k, s, p, d)
            x5, make_cols, g2 = layouts(np.zeros((n, 2, h, w), dtype), g, "six")
            cols = make_cols()
            cols[...] = (rng.standard_normal(cols.shape) * 100).astype(dtype)
            expect = image_out(x5, "c")
            _col2im(P, cols, expect, g2)
            for nt in (1, 2):
                C.set_num_threads(nt)
                got = image_out(x5, "c")
                got[...] = 7
                _col2im(C, cols, got, g2)
                assert_bitwise(got, expect, f"{n}x{h}x{w} threads {nt}")
    finally:
        C.set_num_threads(old)
