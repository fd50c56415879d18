"""Winograd F(2x2, 3x3) and F(4x4, 3x3) convolutions: against the gemm path, a
brute-force loop and torch.

Every test runs on both backends (conftest's ``backend`` fixture): the C
transforms of ``src_c/winograd.c`` and their NumPy twins in ``_winograd``.
"""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, strategies as st

from im2col_ext import _backend, _winograd, layers
from im2col_ext._geometry import window

SHAPES = [  # x shape, F, padding
    ((2, 3, 7, 6), 4, (1, 1)),
    ((1, 1, 3, 3), 1, (0, 0)),       # one output pixel
    ((3, 2, 5, 8), 2, (0, 2)),
    ((2, 2, 6, 6), 3, (2, 0)),
    ((2, 2, 9, 151), 3, (1, 2)),     # more tiles per row than one C run (F(2x2))
    ((1, 2, 140, 4), 2, (0, 1)),
    ((1, 2, 300, 6), 2, (1, 1)),     # many C runs of whole tile rows, the last one short
    ((2, 1, 10, 523), 2, (2, 1)),    # more tiles per row than one C run (F(4x4))
    ((2, 3, 2, 2), 2, (2, 2)),       # tiles mostly padding
    ((0, 2, 5, 5), 2, (1, 1)),       # empty batch
]

WINOGRAD = ["winograd", "winograd4x4"]


def brute_force(x, w, b, ph, pw, dout):
    """out, dx, dw, db straight from the definition (float64 loops over taps)."""
    n, c, h, wd = x.shape
    f = w.shape[0]
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    oh, ow = h + 2 * ph - 2, wd + 2 * pw - 2
    out = np.zeros((n, f, oh, ow)) + b.reshape(1, f, 1, 1)
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape)
    for ky in range(3):
        for kx in range(3):
            win = xp[:, :, ky:ky + oh, kx:kx + ow]                  # (n, c, oh, ow)
            out += np.einsum("nchw,fc->nfhw", win, w[:, :, ky, kx])
            dw[:, :, ky, kx] = np.einsum("nchw,nfhw->fc", win, dout)
            dxp[:, :, ky:ky + oh, kx:kx + ow] += np.einsum("nfhw,fc->nchw", dout, w[:, :, ky, kx])
    return out, dxp[:, :, ph:ph + h, pw:pw + wd], dw, dout.sum(axis=(0, 2, 3))


def _data(x_shape, f, ph, pw, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    n, c, h, w = x_shape
    x = rng.standard_normal(x_shape).astype(dtype)
    wt = rng.standard_normal((f, c, 3, 3)).astype(dtype)
    b = rng.standard_normal(f).astype(dtype)
    dout = rng.standard_normal((n, f, h + 2 * ph - 2, w + 2 * pw - 2)).astype(dtype)
    return x, wt, b, dout


@pytest.mark.parametrize("algorithm", WINOGRAD)
@pytest.mark.parametrize("x_shape, f, pad", SHAPES)
def test_matches_brute_force(x_shape, f, pad, algorithm):
    x, w, b, dout = _data(x_shape, f, *pad)
    out, cache = layers.conv2d_forward(x, w, b, padding=pad, algorithm=algorithm)
    assert isinstance(cache, _winograd.WinogradCache)
    assert cache.variant is _winograd.VARIANTS[algorithm]
    dx, dw, db = layers.conv2d_backward(dout, cache)
    for got, want in zip((out, dx, dw, db), brute_force(x, w, b, *pad, dout)):
        assert got.shape == want.shape and got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("algorithm", WINOGRAD)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, f, pad", SHAPES[:6])
def test_matches_gemm(x_shape, f, pad, dtype, algorithm):
    x, w, b, dout = _data(x_shape, f, *pad, dtype=dtype, seed=1)
    results = []
    for alg in ("gemm", algorithm):
        out, cache = layers.conv2d_forward(x, w, b, padding=pad, algorithm=alg)
        results.append((out,) + tuple(layers.conv2d_backward(dout, cache)))
    tol = 2e-5 if dtype == np.float32 else 1e-11
    for got, want in zip(*results[::-1]):
        assert got.dtype == want.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


@pytest.mark.parametrize("algorithm", WINOGRAD)
def test_no_bias(algorithm):
    x, w, _, dout = _data((2, 3, 6, 5), 2, 1, 1)
    out, cache = layers.conv2d_forward(x, w, None, padding=1, algorithm=algorithm)
    dx, dw, db = layers.conv2d_backward(dout, cache)
    assert db is None
    want = brute_force(x, w, np.zeros(2), 1, 1, dout)
    for got, ref in zip((out, dx, dw), want):
        np.testing.assert_allclose(got, ref, atol=1e-11)


def _from_points(points):
    """F(4x4, 3x3)'s A^T, G, B^T derived in exact arithmetic from its finite points.

    A^T[i, j] = a_j^i and G[j, k] = a_j^k / prod_{l != j} (a_j - a_l) (the
    point at infinity: the last column of A^T and row of G, e_4 and e_3);
    B^T is the unique matrix that makes A^T [(G g) .* (B^T d)] the
    correlation of d (6) and g (3): solved for here by Gaussian elimination.
    """
    pts = [Fraction(p) for p in points]
    n, m, r = 6, 4, 3
    at = [[pts[j] ** i if j < 5 else Fraction(i == m - 1) for j in range(n)] for i in range(m)]
    g = []
    for j in range(n):
        if j == 5:
            g.append([Fraction(k == r - 1) for k in range(r)])
            continue
        den = Fraction(1)
        for q in pts:
            if q != pts[j]:
                den *= pts[j] - q
        g.append([pts[j] ** k / den for k in range(r)])
    # the unknowns B^T[j, l]: for each l, sum_j at[i][j] g[j][k] B^T[j, l] = [l == i + k]
    bt = [[Fraction(0)] * n for _ in range(n)]
    for col in range(n):
        rows = [[at[i][j] * g[j][k] for j in range(n)] + [Fraction(col == i + k)]
                for i in range(m) for k in range(r)]
        for c in range(n):      # row-reduce the 12 x 6 system (consistent, rank 6)
            piv = next(i for i in range(c, len(rows)) if rows[i][c] != 0)
            rows[c], rows[piv] = rows[piv], rows[c]
            rows[c] = [v / rows[c][c] for v in rows[c]]
            for i in range(len(rows)):
                if i != c and rows[i][c] != 0:
                    rows[i] = [a - rows[i][c] * b for a, b in zip(rows[i], rows[c])]
        assert all(all(v == 0 for v in row) for row in rows[n:])   # consistent
        for j in range(n):
            bt[j][col] = rows[j][n]
    return [np.array(a, dtype=np.float64) for a in (at, g, bt)]


def test_f4_matrices_come_from_their_points():
    at, g, bt = _from_points([0, 1, -1, 2, Fraction(-1, 2)])
    v = _winograd.VARIANTS["winograd4x4"]
    np.testing.assert_array_equal(v.at, at)
    np.testing.assert_allclose(v.g, g, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(v.bt, bt)


@pytest.mark.parametrize("algorithm", WINOGRAD)
def test_1d_transforms_compute_correlation(algorithm):
    """A^T [(G g) .* (B^T d)] is the correlation of d (m + 2) with g (3), for any d, g."""
    v = _winograd.VARIANTS[algorithm]
    rng = np.random.default_rng(7)
    for _ in range(5):
        d, g = rng.standard_normal(v.m + 2), rng.standard_normal(3)
        want = [d[i:i + 3] @ g for i in range(v.m)]
        np.testing.assert_allclose(v.at @ ((v.g @ g) * (v.bt @ d)), want, rtol=1e-13,
                                   atol=1e-13)


GEOMETRIES = [  # x shape, leading padding, output size (None: the same padding trailing)
    ((2, 3, 9, 140), (1, 2), None),
    ((1, 2, 5, 7), (0, 0), None),
    ((2, 2, 13, 130), (2, 1), None),
    ((1, 1, 1, 1), (1, 1), None),
    ((1, 2, 300, 6), (1, 1), None),
    ((1, 1, 11, 600), (0, 2), None),
    ((2, 2, 9, 13), (0, 3), (7, 14)),       # no trailing padding
    ((1, 3, 17, 70), (3, 0), (18, 68)),
]


@pytest.mark.cross_backend
@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("x_shape, pad, out", GEOMETRIES)
def test_c_transforms_match_the_numpy_twins(x_shape, pad, out, m):
    """The C kernels and the NumPy twins agree transform by transform (outputs
    NaN-filled first: every element is written)."""
    if _backend.compiled is None:
        pytest.skip("the compiled extension is not built")
    rng = np.random.default_rng(2)
    t2 = (m + 2) ** 2
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal(x_shape).astype(dtype)
        n, c = x_shape[:2]
        wg = _winograd.geometry(x.shape, pad, out, m=m)
        p = wg.n * wg.th * wg.tw
        mm = rng.standard_normal((t2, c, p)).astype(dtype)
        bias = rng.standard_normal(c).astype(dtype)
        dy = rng.standard_normal((n, c, wg.oh, wg.ow)).astype(dtype)
        for name, args, out_shape in [
            ("winograd_input", (x,), (t2, c, p)),
            ("winograd_output", (mm, bias), (n, c, wg.oh, wg.ow)),
            ("winograd_output_adjoint", (dy,), (t2, c, p)),
            ("winograd_input_adjoint", (mm,), x.shape),
        ]:
            got, want = np.full(out_shape, np.nan, dtype), np.empty(out_shape, dtype)
            getattr(_backend.compiled, name)(*args, got, tuple(wg))
            getattr(_winograd, name)(*args, want, tuple(wg))
            tol = 1e-4 if dtype == np.float32 else 1e-12
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=name)


@pytest.mark.c_only
def test_c_transforms_check_their_arrays():
    x = np.zeros((1, 2, 6, 6))
    wg = _winograd.geometry(x.shape, (1, 1), m=4)
    p = wg.n * wg.th * wg.tw
    with pytest.raises(ValueError, match="tile array"):
        _backend.compiled.winograd_input(x, np.zeros((16, 2, p)), tuple(wg))   # F(2x2)'s rows
    with pytest.raises(ValueError, match="tile array"):
        _backend.compiled.winograd_input(x, np.zeros((36, 2, p + 1)), tuple(wg))
    with pytest.raises(ValueError, match="tile size"):
        _backend.compiled.winograd_input(x, np.zeros((25, 2, p)), tuple(wg._replace(m=3)))


@pytest.mark.c_only
@pytest.mark.parametrize("algorithm", WINOGRAD)
def test_bitwise_identical_for_any_thread_count(algorithm):
    x, w, b, dout = _data((4, 8, 30, 30), 8, 1, 1, dtype=np.float32)
    results = []
    previous = _backend.get_num_threads()
    try:
        for threads in (1, 2):
            _backend.set_num_threads(threads)
            out, cache = layers.conv2d_forward(x, w, b, padding=1, algorithm=algorithm)
            results.append((out,) + tuple(layers.conv2d_backward(dout, cache)))
    finally:
        _backend.set_num_threads(previous)
    for a, c in zip(*results):
        np.testing.assert_array_equal(a, c)


def _win(c, kernel, stride, padding, dilation):
    return window(2, c, (8, 8), kernel, stride, padding, dilation, channel_axis=1)


def test_algorithm_choice():
    w33 = _win(16, 3, 1, 1, 1)
    f2, f4 = _winograd.VARIANTS["winograd"], _winograd.VARIANTS["winograd4x4"]
    assert _winograd.chosen("auto", w33, 16, np.float32) is f4
    assert _winograd.chosen("auto", w33, 16, np.float64) is f2
    assert _winograd.chosen("winograd", w33, 16, np.float32) is f2
    assert _winograd.chosen("winograd4x4", w33, 16, np.float64) is f4
    assert _winograd.chosen("auto", w33, 16, np.float16) is None
    assert _winograd.chosen("auto", _win(3, 3, 1, 1, 1), 16, np.float32) is None
    assert _winograd.chosen("auto", w33, 16, np.float32, groups=2) is None
    assert _winograd.chosen("auto", w33, 16, np.float32, mode="reflect") is None
    assert _winograd.chosen("gemm", w33, 16, np.float32) is None
    for win in (_win(16, 5, 1, 2, 1), _win(16, 3, 2, 1, 1), _win(16, 3, 1, 2, 2)):
        assert _winograd.chosen("auto", win, 16, np.float32) is None
        for algorithm in WINOGRAD:
            with pytest.raises(ValueError, match=algorithm):
                _winograd.chosen(algorithm, win, 16, np.float32)
    x, w, b, _ = _data((1, 2, 5, 5), 2, 1, 1)
    with pytest.raises(ValueError, match="algorithm"):
        layers.conv2d_forward(x, w, b, padding=1, algorithm="fft")


def test_auto_runs_the_chosen_variant():
    x, w, b, _ = _data((1, 16, 6, 6), 16, 1, 1)
    for dtype, name in ((np.float32, "winograd4x4"), (np.float64, "winograd")):
        _, cache = layers.conv2d_forward(x.astype(dtype), w.astype(dtype), b.astype(dtype),
                                         padding=1)
        assert cache.variant is _winograd.VARIANTS[name]


@pytest.mark.parametrize("algorithm", WINOGRAD)
def test_asymmetric_padding(algorithm):
    """Padding given per side (torch's F.pad order) reaches the tiles as it should."""
    x, w, b, _ = _data((2, 3, 7, 6), 4, 1, 1, seed=5)
    pad = ((1, 0), (2, 1))
    out, cache = layers.conv2d_forward(x, w, b, padding=pad, algorithm=algorithm)
    ref, ref_cache = layers.conv2d_forward(x, w, b, padding=pad, algorithm="gemm")
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    dout = np.random.default_rng(6).standard_normal(out.shape)
    for got, want in zip(layers.conv2d_backward(dout, cache),
                         layers.conv2d_backward(dout, ref_cache)):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)


def test_bad_dout_shape():
    x, w, b, dout = _data((2, 3, 6, 6), 2, 1, 1)
    _, cache = layers.conv2d_forward(x, w, b, padding=1, algorithm="winograd")
    with pytest.raises(ValueError, match="dout"):
        layers.conv2d_backward(dout[:, :, :-1], cache)


@pytest.mark.torch
@pytest.mark.parametrize("algorithm", WINOGRAD)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_torch(dtype, algorithm):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    x, w, b, dout = _data((3, 4, 11, 10), 5, 1, 1, dtype=dtype, seed=3)
    out, cache = layers.conv2d_forward(x, w, b, padding=1, algorithm=algorithm)
    dx, dw, db = layers.conv2d_backward(dout, cache)
    xt = torch.from_numpy(x).requires_grad_(True)
    wt = torch.from_numpy(w).requires_grad_(True)
    bt = torch.from_numpy(b).requires_grad_(True)
    ot = torch.nn.functional.conv2d(xt, wt, bt, padding=1)
    ot.backward(torch.from_numpy(dout))
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for got, want in ((out, ot), (dx, xt.grad), (dw, wt.grad), (db, bt.grad)):
        want = want.detach().numpy()
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


def _float32_error(algorithm, seed=4):
    """Max |error| / max |reference| of float32 out, dx, dw against float64."""
    x, w, b, dout = _data((4, 32, 16, 16), 32, 1, 1, seed=seed)
    w /= np.sqrt(32 * 9)
    ref_out, ref_cache = layers.conv2d_forward(x, w, b, padding=1, algorithm="gemm")
    ref = (ref_out,) + tuple(layers.conv2d_backward(dout, ref_cache))[:2]
    f32 = [a.astype(np.float32) for a in (x, w, b, dout)]
    out, cache = layers.conv2d_forward(*f32[:3], padding=1, algorithm=algorithm)
    got = (out,) + tuple(layers.conv2d_backward(f32[3], cache))[:2]
    return {k: float(np.abs(g - r).max() / np.abs(r).max())
            for k, g, r in zip(("out", "dx", "dw"), got, ref)}


def test_float32_accuracy_is_documented():
    """The documented float32 errors (``_winograd.ACCURACY``) hold within 4x."""
    for algorithm in ("gemm",) + tuple(WINOGRAD):
        err = _float32_error(algorithm)
        for key, value in err.items():
            assert value <= 4 * _winograd.ACCURACY[algorithm][key], (algorithm, key, value)


@st.composite
def _conv_cases(draw):
    """A 3x3 stride-1 convolution: any per-side padding 0..3, image sizes 1..70
    wide (up to 18 F(4x4) tiles per row, several runs of whole tile rows)."""
    pads = tuple((draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(2))
    h = draw(st.integers(max(1, 3 - sum(pads[0])), 40))
    w = draw(st.integers(max(1, 3 - sum(pads[1])), 70))
    n, c, f = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    return dict(x_shape=(n, c, h, w), f=f, pad=pads, seed=draw(st.integers(0, 2**32 - 1)),
                algorithm=draw(st.sampled_from(WINOGRAD)))


@pytest.mark.cross_backend
@given(_conv_cases())
def test_fuzz_matches_gemm_on_both_backends(case):
    """Random geometries: each Winograd variant, on each backend, gives the gemm
    path's out, dx, dw, db (float64)."""
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal(case["x_shape"])
    w = rng.standard_normal((case["f"], case["x_shape"][1], 3, 3))
    b = rng.standard_normal(case["f"])
    want_out, want_cache = layers.conv2d_forward(x, w, b, padding=case["pad"],
                                                 algorithm="gemm")
    dout = rng.standard_normal(want_out.shape)
    want = (want_out,) + tuple(layers.conv2d_backward(dout, want_cache))
    backends = ["numpy"] + (["c"] if _backend.compiled is not None else [])
    previous = _backend.name()
    try:
        for name in backends:
            _backend.use(name)
            out, cache = layers.conv2d_forward(x, w, b, padding=case["pad"],
                                               algorithm=case["algorithm"])
            got = (out,) + tuple(layers.conv2d_backward(dout, cache))
            for g, r in zip(got, want):
                np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-10, err_msg=name)
    finally:
        _backend.use(previous)
