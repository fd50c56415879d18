"""Fuzzing every public entry point with hypothesis.

(a) random valid calls: the compiled backend, the NumPy backend and the
    brute-force reference agree;
(b) random invalid calls: the only exceptions are ValueError and TypeError,
    and the inputs are unchanged.

CI runs the default number of examples; ``make fuzz`` runs a long session
(HYPOTHESIS_PROFILE=fuzz, IM2COL_EXT_FUZZ_EXAMPLES per test).
"""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import im2col_ext
from im2col_ext import _backend, layers
from im2col_ext.cs231n import fast_layers
from im2col_ext.cs231n import im2col_cython as cy

import reference as ref

HAVE_C = _backend.compiled is not None

# Each example runs on every backend (on_backends): once per backend, not per backend squared.
pytestmark = pytest.mark.cross_backend


def on_backends(fn):
    """Results of ``fn()`` on every available backend, as a dict."""
    out = {}
    previous = _backend.name()
    try:
        for name in (["numpy", "c"] if HAVE_C else ["numpy"]):
            _backend.use(name)
            out[name] = fn()
    finally:
        _backend.use(previous)
    return out


# --------------------------------------------------------------------------
# (a) valid calls
# --------------------------------------------------------------------------

@st.composite
def windows(draw, max_dil=3, max_pad=3):
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    dh, dw = draw(st.integers(1, max_dil)), draw(st.integers(1, max_dil))
    ph, pw = draw(st.integers(0, max_pad)), draw(st.integers(0, max_pad))
    sh, sw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    hmin = max(1, dh * (kh - 1) + 1 - 2 * ph)
    wmin = max(1, dw * (kw - 1) + 1 - 2 * pw)
    h, w = draw(st.integers(hmin, hmin + 9)), draw(st.integers(wmin, wmin + 9))
    n, c = draw(st.integers(0, 4)), draw(st.integers(1, 4))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    layout = draw(st.sampled_from(["numpy", "fortran", "reversed", "sliced"]))
    return dict(shape=(n, c, h, w), k=(kh, kw), d=(dh, dw), p=(ph, pw), s=(sh, sw),
                dtype=dtype, layout=layout, seed=draw(st.integers(0, 2**32 - 1)))


def make(shape, dtype, layout, seed, specials=False):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if specials and a.size:
        a = np.round(a, 1)  # ties
        idx = rng.integers(0, a.size, size=max(1, a.size // 20))
        a.flat[idx] = rng.choice([np.inf, -np.inf, np.nan, 0.0, -0.0], size=idx.size)
    a = a.astype(dtype)
    if layout == "fortran":
        a = np.asfortranarray(a)
    elif layout == "reversed":
        a = a[..., ::-1, ::-1].copy()[..., ::-1, ::-1]
    elif layout == "sliced":
        a = np.repeat(a, 2, axis=-1)[..., ::2]
    a.setflags(write=False)
    return a


@given(windows())
def test_fuzz_unfold_fold_agree(case):
    x = make(case["shape"], case["dtype"], case["layout"], case["seed"])
    kw = dict(dilation=case["d"], padding=case["p"], stride=case["s"])
    res = on_backends(lambda: im2col_ext.unfold(x, case["k"], **kw))
    expect = ref.unfold(np.ascontiguousarray(x), case["k"], case["d"], case["p"], case["s"])
    for got in res.values():
        np.testing.assert_array_equal(got, expect)
    cols = make(expect.shape, case["dtype"], case["layout"], case["seed"] + 1)
    res = on_backends(lambda: im2col_ext.fold(cols, case["shape"][2:], case["k"], **kw))
    expect = ref.fold(np.ascontiguousarray(cols), case["shape"][2:], case["k"], case["d"],
                      case["p"], case["s"])
    tol = 1e-5 if case["dtype"] == np.float32 else 1e-12
    for got in res.values():
        np.testing.assert_allclose(got, expect, rtol=tol, atol=tol)
    if HAVE_C:
        np.testing.assert_array_equal(res["c"], res["numpy"])  # same summation order


@given(windows(max_dil=1), st.sampled_from(["cs231n", "6d", "torch"]))
def test_fuzz_layouts_agree(case, layout):
    x = make(case["shape"], case["dtype"], case["layout"], case["seed"])
    kw = dict(stride=case["s"], padding=case["p"], layout=layout)
    res = on_backends(lambda: im2col_ext.im2col(x, case["k"], **kw))
    if HAVE_C:
        np.testing.assert_array_equal(res["c"], res["numpy"])
    cols = make(res["numpy"].shape, case["dtype"], case["layout"], case["seed"] + 1)
    res = on_backends(lambda: im2col_ext.col2im(cols, case["shape"], case["k"], **kw))
    if HAVE_C:
        np.testing.assert_array_equal(res["c"], res["numpy"])


@given(windows(max_pad=2))
def test_fuzz_pooling_agrees(case):
    kh, kw = case["k"]
    p = (min(case["p"][0], kh // 2), min(case["p"][1], kw // 2))
    shape = case["shape"]
    dh, dw = case["d"]
    shape = shape[:2] + (max(shape[2], dh * (kh - 1) + 1), max(shape[3], dw * (kw - 1) + 1))
    x = make(shape, case["dtype"], case["layout"], case["seed"], specials=True)

    def run():
        out, cache = layers.max_pool2d_forward(x, case["k"], case["s"], p, case["d"])
        dout = np.ones_like(out) + np.arange(out.size, dtype=out.dtype).reshape(out.shape) / 7
        return out, cache.argmax, layers.max_pool2d_backward(dout, cache), dout

    res = on_backends(run)
    out, arg, dx, dout = res["numpy"]
    r_out, r_arg = ref.max_pool(np.ascontiguousarray(x), case["k"], case["s"], p, case["d"])
    np.testing.assert_array_equal(out, r_out)
    np.testing.assert_array_equal(arg, r_arg)
    np.testing.assert_allclose(dx, ref.max_pool_backward(dout, r_arg, shape), rtol=1e-5)
    if HAVE_C:
        c_out, c_arg, c_dx, _ = res["c"]
        np.testing.assert_array_equal(c_out, out)
        np.testing.assert_array_equal(c_arg, arg)
        np.testing.assert_allclose(c_dx, dx, rtol=1e-6)

    xf = np.nan_to_num(np.asarray(x, dtype=case["dtype"]), nan=0.5, posinf=2.0, neginf=-2.0)

    def run_avg():
        out, cache = layers.avg_pool2d_forward(xf, case["k"], case["s"], p)
        return out, layers.avg_pool2d_backward(np.ones_like(out), cache)

    res = on_backends(run_avg)
    tol = 1e-5 if case["dtype"] == np.float32 else 1e-12
    r = ref.avg_pool(xf, case["k"], case["s"], p)
    np.testing.assert_allclose(res["numpy"][0], r, rtol=tol, atol=tol)
    np.testing.assert_allclose(res["numpy"][1],
                               ref.avg_pool_backward(np.ones_like(r), shape, case["k"], case["s"], p),
                               rtol=tol, atol=tol)
    if HAVE_C:
        np.testing.assert_array_equal(res["c"][0], res["numpy"][0])
        np.testing.assert_array_equal(res["c"][1], res["numpy"][1])


# --------------------------------------------------------------------------
# (b) invalid calls
# --------------------------------------------------------------------------

GOOD = np.random.default_rng(0).standard_normal((2, 3, 6, 6))

ints = st.one_of(
    st.integers(-3, 8),
    st.sampled_from([0, 2**31, 2**40, 2**63, -(2**63)]),
    st.booleans(), st.none(), st.floats(allow_nan=True), st.text(max_size=3),
    st.tuples(st.integers(-2, 5), st.integers(-2, 5)),
    st.tuples(st.integers(0, 3)), st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)),
    st.just(np.int64(3)), st.just(np.float32(2)), st.just(np.array([1, 2])),
)

arrays = st.one_of(
    st.just(GOOD), st.just(GOOD[0]), st.just(GOOD[None]), st.just(GOOD[:, :, :0]),
    st.just(GOOD.astype(np.float32)), st.just(GOOD.astype(np.int16)),
    st.just(GOOD.astype(object)), st.just(GOOD.astype(np.complex64)), st.just(GOOD.astype("U2")),
    st.just(np.zeros((0, 3, 6, 6))), st.just(np.zeros((2, 3, 1, 1))), st.just(GOOD.tolist()),
    st.none(), st.just(np.float64(1.0)),
    st.builds(lambda s: np.ones(s), st.lists(st.integers(0, 7), min_size=1, max_size=6).map(tuple)),
)

shapes = st.one_of(
    st.just(GOOD.shape), st.lists(st.integers(-1, 7), min_size=0, max_size=5).map(tuple),
    st.just(np.array([2, 3, 6, 6])), st.just("2,3,6,6"), st.none(), st.just((2.0, 3, 6, 6)),
)

CALLS = {
    "unfold": (lambda a, i, j, k, l, s: im2col_ext.unfold(a, i, j, k, l)),
    "fold": (lambda a, i, j, k, l, s: im2col_ext.fold(a, s if isinstance(s, int) else i, j, k, l)),
    "im2col": (lambda a, i, j, k, l, s: im2col_ext.im2col(a, i, j, k, l, layout="cs231n")),
    "col2im": (lambda a, i, j, k, l, s: im2col_ext.col2im(a, s, i, j, k, l, layout="6d")),
    "im2col_indices": (lambda a, i, j, k, l, s: im2col_ext.im2col_indices(a, i, j, k, l)),
    "col2im_indices": (lambda a, i, j, k, l, s: im2col_ext.col2im_indices(a, s, i, j, k, l)),
    "get_im2col_indices": (lambda a, i, j, k, l, s: im2col_ext.get_im2col_indices(s, i, j, k, l)),
    "im2col_cython": (lambda a, i, j, k, l, s: cy.im2col_cython(a, i, j, k, l)),
    "col2im_cython": (lambda a, i, j, k, l, s: cy.col2im_cython(a, 2, 3, 6, 6, i, j, k, l)),
    "col2im_6d_cython": (lambda a, i, j, k, l, s: cy.col2im_6d_cython(a, i, j, k, l, 3, 3, 1, 1)),
    "max_pool2d": (lambda a, i, j, k, l, s: layers.max_pool2d_backward(
        *(lambda o: (np.ones_like(o[0]), o[1]))(layers.max_pool2d_forward(a, i, j, k, l)))),
    "avg_pool2d": (lambda a, i, j, k, l, s: layers.avg_pool2d_forward(a, i, j, k)),
    "conv2d": (lambda a, i, j, k, l, s: layers.conv2d_forward(a, GOOD[:2, :, :3, :3], None, i, j, k)),
    "conv_transpose2d": (lambda a, i, j, k, l, s: layers.conv_transpose2d_forward(
        a, GOOD[:, :2, :3, :3], None, i, j, k, l)),
    "conv_forward_fast": (lambda a, i, j, k, l, s: fast_layers.conv_forward_fast(
        a, GOOD[:2, :, :3, :3], np.zeros(2), {"stride": i, "pad": j})),
    "max_pool_forward_fast": (lambda a, i, j, k, l, s: fast_layers.max_pool_forward_fast(
        a, {"pool_height": i, "pool_width": j, "stride": k})),
}


@given(st.sampled_from(sorted(CALLS)), arrays, ints, ints, ints, ints, shapes)
def test_fuzz_invalid_calls_raise_only_value_or_type_errors(name, a, i, j, k, l, s):
    before = a.copy() if isinstance(a, np.ndarray) else None
    try:
        CALLS[name](a, i, j, k, l, s)
    except (ValueError, TypeError):
        pass
    except MemoryError:
        pass  # a valid request larger than the machine: a clean Python error
    if before is not None:
        np.testing.assert_array_equal(a, before)
