"""im2col_ext.cs231n.fast_layers against the contract, point by point, and against naive loops."""

import importlib
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import reference
from im2col_ext.cs231n import fast_layers as fl
from im2col_ext.cs231n.fast_layers import (
    conv_backward_fast,
    conv_backward_im2col,
    conv_backward_strides,
    conv_forward_fast,
    conv_forward_im2col,
    conv_forward_strides,
    max_pool_backward_fast,
    max_pool_backward_im2col,
    max_pool_backward_reshape,
    max_pool_forward_fast,
    max_pool_forward_im2col,
    max_pool_forward_reshape,
)
from naive_layers import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
    rel_error,
)

HERE = Path(__file__).resolve().parent


def _pool(ph, pw, s):
    return {"pool_height": ph, "pool_width": pw, "stride": s}


def _conv_data(seed, x_shape, w_shape, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    return x, w, b


# --------------------------------------------------------------------------
# the course's checks
# --------------------------------------------------------------------------

def _course_conv_data():
    np.random.seed(231)
    x = np.random.randn(100, 3, 31, 31)
    w = np.random.randn(25, 3, 3, 3)
    b = np.random.randn(25,)
    dout = np.random.randn(100, 25, 16, 16)
    return x, w, b, dout, {"stride": 2, "pad": 1}


def test_course_conv_fast_vs_naive():
    """'Testing conv_forward_fast': seed 231, x (100,3,31,31), w (25,3,3,3), stride 2, pad 1."""
    x, w, b, dout, conv_param = _course_conv_data()
    out_naive, cache_naive = conv_forward_naive(x, w, b, conv_param)
    out_fast, cache_fast = conv_forward_fast(x, w, b, conv_param)
    assert out_fast.shape == (100, 25, 16, 16)
    assert rel_error(out_naive, out_fast) <= 1e-9

    dx_naive, dw_naive, db_naive = conv_backward_naive(dout, cache_naive)
    dx_fast, dw_fast, db_fast = conv_backward_fast(dout, cache_fast)
    assert rel_error(dx_naive, dx_fast) <= 1e-9
    assert rel_error(dw_naive, dw_fast) <= 1e-9
    assert rel_error(db_naive, db_fast) <= 1e-9


def test_course_conv_strides_vs_im2col():
    """The course's exact shapes, fast path against fast path."""
    x, w, b, dout, conv_param = _course_conv_data()
    out_s, cache_s = conv_forward_strides(x, w, b, conv_param)
    out_i, cache_i = conv_forward_im2col(x, w, b, conv_param)
    # Two GEMM orders of the same sums (the strides path runs the chunked
    # layer GEMMs, the im2col path one GEMM): rounding only, which depends on
    # the BLAS build (up to 1.1e-11 element-wise relative error with NumPy
    # 1.23.5's OpenBLAS, below 1e-12 with NumPy 2.x's); the course's own
    # fast-vs-naive checks use 1e-9, as test_course_conv_fast_vs_naive does.
    assert rel_error(out_s, out_i) <= 1e-9
    for a, c in zip(conv_backward_strides(dout, cache_s), conv_backward_im2col(dout, cache_i)):
        assert rel_error(a, c) <= 1e-9


def test_course_pool_fast_vs_naive():
    """'Testing pool_forward_fast': x (100,3,32,32), 2x2 pool, stride 2: errors exactly 0."""
    np.random.seed(231)
    x = np.random.randn(100, 3, 32, 32)
    dout = np.random.randn(100, 3, 16, 16)
    pool_param = _pool(2, 2, 2)
    out_naive, cache_naive = max_pool_forward_naive(x, pool_param)
    out_fast, cache_fast = max_pool_forward_fast(x, pool_param)
    assert cache_fast[0] == "reshape"
    assert rel_error(out_naive, out_fast) == 0.0
    dx_naive = max_pool_backward_naive(dout, cache_naive)
    dx_fast = max_pool_backward_fast(dout, cache_fast)
    assert rel_error(dx_naive, dx_fast) == 0.0
    # the im2col path agrees on the same data
    out_i, cache_i = max_pool_forward_im2col(x, pool_param)
    assert rel_error(out_naive, out_i) == 0.0
    assert rel_error(dx_naive, max_pool_backward_im2col(dout, cache_i)) == 0.0


# --------------------------------------------------------------------------
# conv caches and returns
# --------------------------------------------------------------------------

def test_conv_fast_is_strides():
    assert conv_forward_fast is conv_forward_strides
    assert conv_backward_fast is conv_backward_strides


def test_conv_im2col_cache_and_layout():
    x, w, b = _conv_data(1, (3, 2, 7, 7), (4, 2, 3, 3))
    conv_param = {"stride": 2, "pad": 1}
    out, cache = conv_forward_im2col(x, w, b, conv_param)
    assert isinstance(cache, tuple) and len(cache) == 5
    assert cache[0] is x and cache[1] is w and cache[2] is b and cache[3] is conv_param
    x_cols = cache[4]
    assert isinstance(x_cols, np.ndarray) and x_cols.shape == (2 * 3 * 3, 4 * 4 * 3)
    np.testing.assert_array_equal(x_cols, reference.im2col_cs231n(x, 3, 3, 1, 2))
    assert out.shape == (3, 4, 4, 4)
    # the course's out is res.reshape(F, oh, ow, N).transpose(3, 0, 1, 2)
    res = w.reshape(4, -1) @ x_cols + b.reshape(-1, 1)
    np.testing.assert_array_equal(out, res.reshape(4, 4, 4, 3).transpose(3, 0, 1, 2))


def test_conv_strides_cache_and_layout():
    x, w, b = _conv_data(2, (3, 2, 7, 7), (4, 2, 3, 3))
    conv_param = {"stride": 2, "pad": 1}
    out, cache = conv_forward_strides(x, w, b, conv_param)
    assert isinstance(cache, tuple) and len(cache) == 5
    assert cache[0] is x and cache[1] is w and cache[2] is b and cache[3] is conv_param
    assert out.shape == (3, 4, 4, 4) and out.flags.c_contiguous
    # integer data keeps the course's own cache: the columns of the 6-D window view
    xi = (x * 10).astype(np.int64)
    _, cache = conv_forward_strides(xi, w, b, conv_param)
    x_cols = cache[4]
    assert x_cols.shape == (2 * 3 * 3, 3 * 4 * 4)
    # columns in (n, oy, ox) order: the 6-D window view reshaped
    xp = np.pad(xi, ((0, 0), (0, 0), (1, 1), (1, 1)))
    six = x_cols.reshape(2, 3, 3, 3, 4, 4)
    for c, hh, ww, n, oy, ox in np.ndindex(six.shape):
        assert six[c, hh, ww, n, oy, ox] == xp[n, c, oy * 2 + hh, ox * 2 + ww]


@pytest.mark.parametrize(
    "x_shape, w_shape, stride, pad",
    [
        ((2, 3, 7, 9), (4, 3, 3, 5), 1, 1),      # non-square filter
        ((2, 2, 8, 6), (3, 2, 5, 2), 1, 0),      # tall filter
        ((3, 1, 9, 9), (2, 1, 3, 3), 3, 0),      # stride == filter
        ((1, 2, 5, 5), (2, 2, 1, 1), 2, 2),      # 1x1 filter, large pad
        ((2, 2, 4, 4), (2, 2, 4, 4), 1, 0),      # filter == image
    ],
)
@pytest.mark.parametrize("path", ["strides", "im2col"])
def test_conv_vs_naive(x_shape, w_shape, stride, pad, path):
    x, w, b = _conv_data(3, x_shape, w_shape)
    conv_param = {"stride": stride, "pad": pad}
    fwd, bwd = {
        "strides": (conv_forward_strides, conv_backward_strides),
        "im2col": (conv_forward_im2col, conv_backward_im2col),
    }[path]
    out, cache = fwd(x, w, b, conv_param)
    out_n, cache_n = conv_forward_naive(x, w, b, conv_param)
    assert rel_error(out, out_n) < 1e-12
    dout = np.random.default_rng(4).standard_normal(out.shape)
    for got, want in zip(bwd(dout, cache), conv_backward_naive(dout, cache_n)):
        assert got.shape == want.shape
        assert rel_error(got, want) < 1e-12


def test_conv_strides_floors_non_tiling_shapes():
    """The strides path drops windows that do not fit (the im2col path refuses)."""
    x, w, b = _conv_data(5, (2, 2, 8, 8), (3, 2, 3, 3))
    conv_param = {"stride": 2, "pad": 0}
    out, cache = conv_forward_strides(x, w, b, conv_param)
    out_n, cache_n = conv_forward_naive(x, w, b, conv_param)
    assert out.shape == (2, 3, 3, 3)
    assert rel_error(out, out_n) < 1e-12
    dout = np.ones(out.shape)
    for got, want in zip(conv_backward_strides(dout, cache), conv_backward_naive(dout, cache_n)):
        assert rel_error(got, want) < 1e-12
    with pytest.raises(ValueError, match="width does not work"):
        conv_forward_im2col(x, w, b, conv_param)


def test_conv_width_check_uses_the_width():
    """H=5, W=6, 3x2 filter, stride 2 is valid (upstream's check used the height)."""
    x, w, b = _conv_data(6, (2, 1, 5, 6), (2, 1, 3, 2))
    conv_param = {"stride": 2, "pad": 0}
    out, cache = conv_forward_im2col(x, w, b, conv_param)
    out_n, _ = conv_forward_naive(x, w, b, conv_param)
    assert out.shape == (2, 2, 2, 3)
    assert rel_error(out, out_n) < 1e-12
    x2, w2, b2 = _conv_data(6, (2, 1, 5, 5), (2, 1, 3, 2))
    with pytest.raises(ValueError, match="width does not work"):
        conv_forward_im2col(x2, w2, b2, conv_param)
    x3, w3, b3 = _conv_data(6, (2, 1, 6, 5), (2, 1, 2, 3))
    conv_forward_im2col(x3, w3, b3, conv_param)
    x4, w4, b4 = _conv_data(6, (2, 1, 6, 5), (2, 1, 3, 3))
    with pytest.raises(ValueError, match="height does not work"):
        conv_forward_im2col(x4, w4, b4, conv_param)


@pytest.mark.parametrize("fwd, bwd", [
    (conv_forward_strides, conv_backward_strides),
    (conv_forward_im2col, conv_backward_im2col),
])
def test_conv_mixed_dtypes(fwd, bwd):
    """ThreeLayerConvNet keeps float32 weights while the data is float64."""
    x, w, b = _conv_data(7, (2, 3, 8, 8), (4, 3, 3, 3))
    conv_param = {"stride": 1, "pad": 1}
    w32, b32 = w.astype(np.float32), b.astype(np.float32)
    out, cache = fwd(x, w32, b32, conv_param)
    assert out.dtype == np.float64
    out_n, cache_n = conv_forward_naive(x, w32.astype(np.float64), b32.astype(np.float64),
                                        conv_param)
    assert rel_error(out, out_n) < 1e-12
    dout = np.random.default_rng(8).standard_normal(out.shape)
    dx, dw, db = bwd(dout, cache)
    assert dx.dtype == np.float64 and dw.dtype == np.float64
    for got, want in zip((dx, dw, db), conv_backward_naive(dout, cache_n)):
        assert rel_error(got, want) < 1e-12
    # all float32 stays float32
    out32, cache32 = fwd(x.astype(np.float32), w32, b32, conv_param)
    assert out32.dtype == np.float32
    grads = bwd(dout.astype(np.float32), cache32)
    assert all(g.dtype == np.float32 for g in grads)
    assert rel_error(out32, out_n) < 1e-4


# --------------------------------------------------------------------------
# pooling caches and returns
# --------------------------------------------------------------------------

def test_pool_reshape_cache():
    x = np.random.default_rng(9).standard_normal((2, 3, 8, 6))
    out, cache = max_pool_forward_fast(x, _pool(2, 2, 2))
    method, (cx, x_reshaped, cout) = cache
    assert method == "reshape"
    assert cx is x and cout is out
    assert x_reshaped.shape == (2, 3, 4, 2, 3, 2)
    assert np.shares_memory(x_reshaped, x)
    assert out.shape == (2, 3, 4, 3)
    out_n, _ = max_pool_forward_naive(x, _pool(2, 2, 2))
    np.testing.assert_array_equal(out, out_n)


def test_pool_im2col_cache():
    x = np.random.default_rng(10).standard_normal((2, 3, 9, 7))
    pool_param = _pool(3, 3, 2)
    out, cache = max_pool_forward_fast(x, pool_param)
    method, (cx, x_cols, x_cols_argmax, cparam) = cache
    assert method == "im2col"
    assert cx is x and cparam is pool_param
    assert x_cols.shape == (9, 4 * 3 * 2 * 3)
    np.testing.assert_array_equal(
        x_cols, reference.im2col_cs231n(x.reshape(6, 1, 9, 7), 3, 3, 0, 2))
    np.testing.assert_array_equal(x_cols_argmax, np.argmax(x_cols, axis=0))
    np.testing.assert_array_equal(
        out,
        x_cols[x_cols_argmax, np.arange(x_cols.shape[1])].reshape(4, 3, 2, 3).transpose(2, 3, 0, 1),
    )


@pytest.mark.parametrize(
    "x_shape, ph, pw, s",
    [
        ((2, 3, 9, 9), 3, 3, 2),    # overlapping windows
        ((2, 2, 6, 9), 2, 3, 1),    # non-square, overlapping
        ((1, 2, 8, 9), 4, 3, 2),    # non-square, tall
        ((3, 1, 6, 6), 2, 2, 2),    # the reshape case, through im2col
        ((2, 2, 5, 7), 5, 7, 1),    # pool == image
        ((2, 2, 6, 6), 3, 3, 3),    # square pool != 2, reshape path
    ],
)
def test_pool_vs_naive(x_shape, ph, pw, s):
    rng = np.random.default_rng(11)
    x = rng.standard_normal(x_shape)
    pool_param = _pool(ph, pw, s)
    out_n, cache_n = max_pool_forward_naive(x, pool_param)
    dout = rng.standard_normal(out_n.shape)
    dx_n = max_pool_backward_naive(dout, cache_n)
    for fwd, bwd in [
        (max_pool_forward_fast, max_pool_backward_fast),
        (max_pool_forward_im2col, max_pool_backward_im2col),
    ]:
        out, cache = fwd(x, pool_param)
        np.testing.assert_array_equal(out, out_n)
        np.testing.assert_allclose(bwd(dout, cache), dx_n, rtol=1e-15, atol=0)


def test_pool_reshape_ties_share_the_gradient():
    x = np.ones((1, 1, 2, 2))
    out, cache = max_pool_forward_fast(x, _pool(2, 2, 2))
    assert cache[0] == "reshape"
    dx = max_pool_backward_fast(np.ones((1, 1, 1, 1)), cache)
    np.testing.assert_array_equal(dx, np.full((1, 1, 2, 2), 0.25))
    x = np.array([[[[1.0, 3.0, 0.0, 0.0], [3.0, 2.0, 0.0, -1.0]]]])
    out, cache = max_pool_forward_reshape(x, _pool(2, 2, 2))
    dx = max_pool_backward_reshape(np.array([[[[2.0, 4.0]]]]), cache)
    np.testing.assert_array_equal(dx, [[[[0.0, 1.0, 4 / 3, 4 / 3], [1.0, 0.0, 4 / 3, 0.0]]]])


def test_pool_im2col_ties_first_max_only():
    x = np.ones((1, 1, 2, 2))
    out, cache = max_pool_forward_im2col(x, _pool(2, 2, 2))
    dx = max_pool_backward_im2col(np.ones((1, 1, 1, 1)), cache)
    np.testing.assert_array_equal(dx, [[[[1.0, 0.0], [0.0, 0.0]]]])
    x = np.array([[[[0.0, 3.0, 3.0], [3.0, 1.0, 3.0]]]])
    out, cache = max_pool_forward_fast(x, _pool(2, 2, 1))
    assert cache[0] == "im2col"
    dx = max_pool_backward_fast(np.array([[[[1.0, 10.0]]]]), cache)
    np.testing.assert_array_equal(dx, [[[[0.0, 11.0, 0.0], [0.0, 0.0, 0.0]]]])


def test_pool_nan_propagates():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 1, 0] = np.nan
    for fwd, bwd in [
        (max_pool_forward_fast, max_pool_backward_fast),
        (max_pool_forward_im2col, max_pool_backward_im2col),
    ]:
        out, cache = fwd(x, _pool(2, 2, 2))
        assert np.isnan(out[0, 0, 0, 0]) and not np.isnan(out[0, 0, 1, 1])
        with np.errstate(all="raise"):
            dx = bwd(np.ones(out.shape), cache)
        assert dx[0, 0, 1, 0] == 1.0 and np.isfinite(dx).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pool_param", [_pool(2, 2, 2), _pool(3, 2, 1)])
def test_pool_dtype_kept(dtype, pool_param):
    x = np.random.default_rng(12).standard_normal((2, 2, 6, 6)).astype(dtype)
    out, cache = max_pool_forward_fast(x, pool_param)
    assert out.dtype == dtype
    dx = max_pool_backward_fast(np.ones(out.shape, dtype=np.float64), cache)
    assert dx.dtype == dtype and dx.shape == x.shape


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------

@pytest.mark.any_backend
def test_conv_argument_errors():
    x, w, b = _conv_data(13, (2, 3, 6, 6), (4, 3, 3, 3))
    cp = {"stride": 1, "pad": 1}
    for fwd in (conv_forward_strides, conv_forward_im2col):
        with pytest.raises(ValueError, match="x must be 4-D"):
            fwd(x[0], w, b, cp)
        with pytest.raises(ValueError, match="w must be 4-D"):
            fwd(x, w[0], b, cp)
        with pytest.raises(ValueError, match="input channels"):
            fwd(x, w[:, :2], b, cp)
        with pytest.raises(ValueError, match="b must have one entry per filter"):
            fwd(x, w, b[:3], cp)
        with pytest.raises(ValueError, match="conv_param is missing the key 'pad'"):
            fwd(x, w, b, {"stride": 1})
        with pytest.raises(ValueError, match="conv_param is missing the key 'stride'"):
            fwd(x, w, b, {"pad": 1})
        with pytest.raises(TypeError, match="conv_param\\['stride'\\]"):
            fwd(x, w, b, {"stride": 1.0, "pad": 1})
        with pytest.raises(ValueError, match="conv_param\\['stride'\\]"):
            fwd(x, w, b, {"stride": 0, "pad": 1})
        with pytest.raises(ValueError, match="conv_param\\['pad'\\]"):
            fwd(x, w, b, {"stride": 1, "pad": -1})
        with pytest.raises(TypeError, match="x must be a numpy.ndarray"):
            fwd(x.tolist(), w, b, cp)
        with pytest.raises(ValueError, match="does not fit"):
            fwd(x[:, :, :2, :2], w, b, {"stride": 1, "pad": 0})


@pytest.mark.parametrize("fwd, bwd", [
    (conv_forward_strides, conv_backward_strides),
    (conv_forward_im2col, conv_backward_im2col),
])
@pytest.mark.any_backend
def test_conv_dout_shape_checked(fwd, bwd):
    x, w, b = _conv_data(14, (2, 3, 6, 6), (4, 3, 3, 3))
    out, cache = fwd(x, w, b, {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match="dout has shape"):
        bwd(np.ones((2, 4, 6, 5)), cache)
    with pytest.raises(ValueError, match="dout must be 4-D"):
        bwd(np.ones(out.size), cache)


@pytest.mark.any_backend
def test_pool_argument_errors():
    x = np.zeros((2, 3, 6, 6))
    with pytest.raises(ValueError, match="pool_param is missing the key 'pool_width'"):
        max_pool_forward_fast(x, {"pool_height": 2, "stride": 2})
    with pytest.raises(TypeError, match="pool_param\\['stride'\\]"):
        max_pool_forward_fast(x, _pool(2, 2, 2.0))
    with pytest.raises(ValueError, match="x must be 4-D"):
        max_pool_forward_fast(x[0], _pool(2, 2, 2))
    with pytest.raises(ValueError, match="Invalid height"):
        max_pool_forward_im2col(np.zeros((1, 1, 6, 5)), _pool(3, 3, 2))
    with pytest.raises(ValueError, match="Invalid width"):
        max_pool_forward_im2col(np.zeros((1, 1, 5, 6)), _pool(3, 3, 2))
    with pytest.raises(ValueError, match="Invalid height"):
        max_pool_forward_im2col(np.zeros((1, 1, 2, 5)), _pool(3, 3, 2))
    # 2x2/2 that does not tile W goes to the im2col path, which refuses it
    with pytest.raises(ValueError, match="Invalid width"):
        max_pool_forward_fast(np.zeros((1, 1, 4, 5)), _pool(2, 2, 2))
    with pytest.raises(ValueError, match="Invalid pool params"):
        max_pool_forward_reshape(x, _pool(2, 3, 2))
    with pytest.raises(ValueError, match="Invalid width"):
        max_pool_forward_reshape(np.zeros((1, 1, 4, 5)), _pool(2, 2, 2))
    with pytest.raises(ValueError, match="Invalid height"):
        max_pool_forward_reshape(np.zeros((1, 1, 5, 4)), _pool(2, 2, 2))


@pytest.mark.any_backend
def test_pool_backward_errors():
    x = np.random.default_rng(15).standard_normal((2, 3, 6, 6))
    out, cache = max_pool_forward_fast(x, _pool(2, 2, 2))
    with pytest.raises(ValueError, match='Unrecognized method "bogus"'):
        max_pool_backward_fast(np.ones(out.shape), ("bogus", cache[1]))
    with pytest.raises(ValueError, match="dout has shape"):
        max_pool_backward_fast(np.ones((2, 3, 3, 2)), cache)
    out, cache = max_pool_forward_fast(x, _pool(3, 3, 1))
    assert cache[0] == "im2col"
    with pytest.raises(ValueError, match="dout has shape"):
        max_pool_backward_fast(np.ones((2, 3, 3, 3)), cache)


@pytest.mark.any_backend
def test_errors_survive_python_O(tmp_path):
    """The course's asserts are ValueErrors here, so ``python -O`` keeps them."""
    import subprocess

    code = (
        "import numpy as np\n"
        "from im2col_ext.cs231n.fast_layers import conv_forward_im2col\n"
        "try:\n"
        "    conv_forward_im2col(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 2, 2)),"
        " np.zeros(1), {'stride': 2, 'pad': 0})\n"
        "except ValueError as e:\n"
        "    print('raised', e)\n"
    )
    env = dict(__import__("os").environ, IM2COL_EXT_BACKEND="numpy")
    res = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True,
                         cwd=HERE.parent, env=env, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "raised width does not work" in res.stdout


# --------------------------------------------------------------------------
# a completed assignment 2 whose helper modules are one-line re-exports
# --------------------------------------------------------------------------

@pytest.mark.any_backend
def test_assignment2_oneline_reexports(tmp_path):
    pkg = tmp_path / "cs231n"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "im2col.py").write_text("from im2col_ext.cs231n.im2col import *\n")
    (pkg / "im2col_cython.py").write_text("from im2col_ext.cs231n.im2col_cython import *\n")
    (pkg / "fast_layers.py").write_text("from im2col_ext.cs231n.fast_layers import *\n")
    shutil.copy(HERE / "naive_layers.py", pkg / "layers.py")

    def drop_cs231n_modules():
        return {k: sys.modules.pop(k) for k in list(sys.modules)
                if k == "cs231n" or k.startswith("cs231n.")}

    saved = drop_cs231n_modules()
    sys.path.insert(0, str(tmp_path))
    try:
        importlib.invalidate_caches()
        from cs231n.fast_layers import (
            conv_backward_fast as cbf,
            conv_forward_fast as cff,
            max_pool_backward_fast as mpbf,
            max_pool_forward_fast as mpff,
        )
        from cs231n.im2col import col2im_indices, im2col_indices  # noqa: F401
        from cs231n.im2col_cython import col2im_6d_cython, col2im_cython, im2col_cython  # noqa: F401
        from cs231n.layers import (
            conv_backward_naive as cbn,
            conv_forward_naive as cfn,
            max_pool_backward_naive as mpbn,
            max_pool_forward_naive as mpfn,
            rel_error as rel,
        )
        assert Path(sys.modules["cs231n"].__file__).parent == pkg

        # "Testing conv_forward_fast" / "Testing conv_backward_fast"
        np.random.seed(231)
        x = np.random.randn(100, 3, 31, 31)
        w = np.random.randn(25, 3, 3, 3)
        b = np.random.randn(25,)
        dout = np.random.randn(100, 25, 16, 16)
        conv_param = {"stride": 2, "pad": 1}
        out_naive, cache_naive = cfn(x, w, b, conv_param)
        out_fast, cache_fast = cff(x, w, b, conv_param)
        assert rel(out_naive, out_fast) <= 1e-9
        dx_naive, dw_naive, db_naive = cbn(dout, cache_naive)
        dx_fast, dw_fast, db_fast = cbf(dout, cache_fast)
        assert rel(dx_naive, dx_fast) <= 1e-9
        assert rel(dw_naive, dw_fast) <= 1e-9
        assert rel(db_naive, db_fast) <= 1e-9

        # "Testing pool_forward_fast" / "Testing pool_backward_fast"
        np.random.seed(231)
        x = np.random.randn(100, 3, 32, 32)
        dout = np.random.randn(100, 3, 16, 16)
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        out_naive, cache_naive = mpfn(x, pool_param)
        out_fast, cache_fast = mpff(x, pool_param)
        assert rel(out_naive, out_fast) == 0.0
        assert rel(mpbn(dout, cache_naive), mpbf(dout, cache_fast)) == 0.0
    finally:
        sys.path.remove(str(tmp_path))
        drop_cs231n_modules()
        sys.modules.update(saved)
        importlib.invalidate_caches()


# --------------------------------------------------------------------------
# the reshape max-pool path against its previous pure-NumPy formulation
# --------------------------------------------------------------------------

def _old_reshape_forward(x, ph):
    """The reshape forward pass as it was written before the kernels (the oracle)."""
    n, c, h, w = x.shape
    x_reshaped = x.reshape(n, c, h // ph, ph, w // ph, ph)
    out = x_reshaped.max(axis=3).max(axis=4)
    return out, (x, x_reshaped, out)


def _old_reshape_backward(dout, cache):
    """The reshape backward pass as it was written before the kernels (the oracle)."""
    x, x_reshaped, out = cache
    out6 = out[:, :, :, None, :, None]
    mask = x_reshaped == out6
    if out.dtype.kind == "f":
        nan_out = np.isnan(out6)
        if nan_out.any():
            mask |= nan_out & np.isnan(x_reshaped)
    counts = mask.sum(axis=(3, 5), keepdims=True)
    np.maximum(counts, 1, out=counts)
    dtype = x.dtype if x.dtype.kind == "f" else np.result_type(dout.dtype, np.float64)
    with np.errstate(all="ignore"):
        share = dout[:, :, :, None, :, None].astype(dtype, copy=False) / counts.astype(dtype)
        dx = np.empty(x.shape, dtype=dtype)
        np.multiply(mask, share, out=dx.reshape(x_reshaped.shape), casting="unsafe")
    return dx


def _assert_same_bits(a, b, what):
    assert a.dtype == b.dtype and a.shape == b.shape, what
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    if a.dtype.kind == "f":
        a, b = a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}")
    bad = np.argwhere(a != b)
    assert len(bad) == 0, f"{what}: {len(bad)} elements differ, first at {bad[0]}"


def _check_reshape_path(x, ph, dout):
    out_o, cache_o = _old_reshape_forward(x, ph)
    out, cache = max_pool_forward_fast(x, _pool(ph, ph, ph))
    assert cache[0] == "reshape"
    cx, x_reshaped, cout = cache[1]
    assert cx is x and cout is out
    assert x_reshaped.shape == cache_o[1].shape
    assert x.size == 0 or np.shares_memory(x_reshaped, x)
    _assert_same_bits(out, out_o, "out")
    dx = max_pool_backward_fast(dout, cache)
    dx_o = _old_reshape_backward(dout, cache_o)
    _assert_same_bits(dx, dx_o, "dx")
    return out, dx


def _with_payloads(x, rng):
    """x with random payloads on its NaNs, and -0.0 / +0.0 mixed in."""
    if x.dtype.kind == "f":
        u = x.view(f"u{x.itemsize}")
        nan = np.isnan(x)
        u[nan] |= rng.integers(1, 50, size=int(nan.sum())).astype(u.dtype)
    return x


_SPECIAL = np.array([0.0, -0.0, np.nan, -np.nan, 1.0, 1.0, -1.0, np.inf, -np.inf, 2.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ph", [1, 2, 3])
@pytest.mark.parametrize("kind", ["random", "ties", "special", "zeros"])
@pytest.mark.parametrize("layout", ["c", "fortran", "strided"])
def test_pool_reshape_matches_old_formula(dtype, ph, kind, layout):
    rng = np.random.default_rng(hash((ph, kind, layout)) % 2**32)
    shape = (3, 4, 4 * ph, 6 * ph)
    if kind == "random":
        x = rng.standard_normal(shape)
    elif kind == "ties":
        x = rng.integers(-1, 2, size=shape).astype(np.float64)
    elif kind == "special":
        x = rng.choice(_SPECIAL, size=shape)
    else:   # ReLU-like: many all-zero windows, only +0.0 ...
        x = np.maximum(rng.standard_normal(shape), 0)
    x = _with_payloads(x.astype(dtype), rng)
    if layout == "fortran":
        x = np.asfortranarray(x)
    elif layout == "strided":
        x = np.repeat(x, 2, axis=3)[:, :, :, ::2]
    oshape = (shape[0], shape[1], shape[2] // ph, shape[3] // ph)
    dout = rng.standard_normal(oshape)
    dout.flat[::7] = -0.0
    dout.flat[::11] = -2.0
    _check_reshape_path(x, ph, dout.astype(dtype))
    # a gradient of another dtype, with infinities and NaNs
    dout.flat[::13] = np.inf
    dout.flat[::17] = np.nan
    _check_reshape_path(x, ph, dout)
    _check_reshape_path(x, ph, rng.integers(-3, 4, size=oshape))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pool_reshape_mixed_zero_signs_and_nan_payloads(dtype):
    # ... and windows whose tied maxima differ in their bits, where the
    # kernel's choice and NumPy's (layout-dependent) choice can differ
    rng = np.random.default_rng(21)
    for layout in ["c", "fortran", "strided"]:
        x = rng.choice(np.array([0.0, -0.0, -1.0, np.nan], dtype), size=(2, 3, 8, 8))
        x = _with_payloads(x, rng)
        if layout == "fortran":
            x = np.asfortranarray(x)
        elif layout == "strided":
            x = np.repeat(x, 2, axis=3)[:, :, :, ::2]
        _check_reshape_path(x, 2, rng.standard_normal((2, 3, 4, 4)).astype(dtype))
    # a signalling NaN alone in its window
    x = np.zeros((1, 1, 2, 4), dtype)
    x.view(f"u{x.itemsize}")[0, 0, 1, 1] = 0x7F800001 if dtype == np.float32 else 0x7FF0000000000001
    _check_reshape_path(x, 2, np.ones((1, 1, 1, 2), dtype))


@pytest.mark.parametrize(
    "dtype", [np.float16, np.int64, np.int8, np.uint8, np.bool_, ">f8"])
def test_pool_reshape_other_dtypes_match_old_formula(dtype):
    rng = np.random.default_rng(22)
    x = rng.integers(0, 3, size=(2, 3, 6, 4)).astype(dtype)
    _check_reshape_path(x, 2, rng.standard_normal((2, 3, 3, 2)))
    _check_reshape_path(x, 2, rng.standard_normal((2, 3, 3, 2)).astype(np.float32))


def test_pool_reshape_all_equal_window_quarter_each():
    for dtype in [np.float32, np.float64]:
        x = np.full((2, 2, 4, 4), -3.5, dtype)
        out, dx = _check_reshape_path(x, 2, np.ones((2, 2, 2, 2), dtype))
        np.testing.assert_array_equal(dx, np.full(x.shape, 0.25))
        x[:, :, 0, 0] = np.nan
        x[:, :, 1, 1] = np.nan
        out, dx = _check_reshape_path(x, 2, np.full((2, 2, 2, 2), 3.0, dtype))
        assert np.isnan(out[:, :, 0, 0]).all()
        np.testing.assert_array_equal(dx[:, :, :2, :2], [[1.5, 0], [0, 1.5]] * np.ones((2, 2, 1, 1)))


def test_pool_reshape_empty_and_thread_counts():
    import im2col_ext

    _check_reshape_path(np.zeros((0, 3, 4, 4)), 2, np.zeros((0, 3, 2, 2)))
    rng = np.random.default_rng(23)
    x = rng.integers(-1, 2, size=(8, 6, 16, 16)).astype(np.float64)
    dout = rng.standard_normal((8, 6, 8, 8))
    old = im2col_ext.get_num_threads()
    try:
        for nt in (1, 2):
            im2col_ext.set_num_threads(nt)
            _check_reshape_path(x, 2, dout)
    finally:
        im2col_ext.set_num_threads(old)
