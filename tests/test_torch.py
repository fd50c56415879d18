"""unfold / fold and the cs231n helpers against PyTorch, where it is installed."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import im2col_ext

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch
F = torch.nn.functional


@st.composite
def cases(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    hmin = max(1, dh * (kh - 1) + 1 - 2 * ph)
    wmin = max(1, dw * (kw - 1) + 1 - 2 * pw)
    h, w = draw(st.integers(hmin, hmin + 8)), draw(st.integers(wmin, wmin + 8))
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return (n, c, h, w), (kh, kw), (dh, dw), (ph, pw), (sh, sw), dtype, draw(st.integers(0, 2**31))


@given(cases())
def test_unfold_fold_match_torch(case):
    shape, k, d, p, s, dtype, seed = case
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    expect = F.unfold(torch.from_numpy(x), k, dilation=d, padding=p, stride=s).numpy()
    got = im2col_ext.unfold(x, k, dilation=d, padding=p, stride=s)
    np.testing.assert_array_equal(got, expect)
    y = np.random.default_rng(seed + 1).standard_normal(got.shape).astype(dtype)
    expect = F.fold(torch.from_numpy(y), shape[2:], k, dilation=d, padding=p, stride=s).numpy()
    got = im2col_ext.fold(y, shape[2:], k, dilation=d, padding=p, stride=s)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, expect, rtol=tol, atol=tol)


@pytest.mark.torch
def test_unbatched_matches_torch():
    x = np.random.default_rng(0).standard_normal((3, 7, 5))
    expect = F.unfold(torch.from_numpy(x), (2, 3), padding=(1, 0), stride=(2, 1)).numpy()
    got = im2col_ext.unfold(x, (2, 3), padding=(1, 0), stride=(2, 1))
    np.testing.assert_array_equal(got, expect)
    back = F.fold(torch.from_numpy(got), (7, 5), (2, 3), padding=(1, 0), stride=(2, 1)).numpy()
    np.testing.assert_allclose(im2col_ext.fold(got, (7, 5), (2, 3), padding=(1, 0), stride=(2, 1)),
                               back, rtol=1e-12)


@given(cases())
def test_cs231n_helpers_are_a_permutation_of_torch_unfold(case):
    shape, k, _, p, s, dtype, seed = case
    pad, stride = p[0], s[0]
    if k[0] > shape[2] + 2 * pad or k[1] > shape[3] + 2 * pad:
        return
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    t = F.unfold(torch.from_numpy(x), k, padding=pad, stride=stride).numpy()  # (N, K, L)
    n, kk, L = t.shape
    cols = im2col_ext.im2col_indices(x, k[0], k[1], pad, stride)
    np.testing.assert_array_equal(cols, t.transpose(1, 2, 0).reshape(kk, L * n))
    y = np.random.default_rng(seed + 1).standard_normal(cols.shape).astype(dtype)
    y_t = y.reshape(kk, L, n).transpose(2, 0, 1)
    expect = F.fold(torch.from_numpy(np.ascontiguousarray(y_t)), shape[2:], k, padding=pad,
                    stride=stride).numpy()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(im2col_ext.col2im_indices(y, torch.Size(shape), k[0], k[1], pad, stride),
                               expect, rtol=tol, atol=tol)
