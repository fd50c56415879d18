"""Big arrays: column arrays of more than 2**31 elements (64-bit indexing).

Marked slow (needs about 14 GB of memory and a minute): `make test-slow`.
"""

import numpy as np
import pytest

import im2col_ext
from im2col_ext import _backend

pytestmark = pytest.mark.slow


def test_unfold_and_fold_beyond_2_31_elements(backend):
    if backend != "c":
        pytest.skip("one backend is enough for the big run; the NumPy one is checked on samples")
    h = w = 16400
    x = np.random.default_rng(0).standard_normal((1, 1, h, w), dtype=np.float32)
    cols = im2col_ext.unfold(x, 3, padding=1)  # (1, 9, h*w): 2.42e9 elements
    assert cols.size > 2**31
    rng = np.random.default_rng(1)
    for _ in range(200):
        r = int(rng.integers(0, 9))
        q = int(rng.integers(0, h * w)) if _ % 2 else int(rng.integers(h * w - 3 * w, h * w))
        ky, kx = divmod(r, 3)
        oy, ox = divmod(q, w)
        iy, ix = oy + ky - 1, ox + kx - 1
        expect = x[0, 0, iy, ix] if (0 <= iy < h and 0 <= ix < w) else 0
        assert cols[0, r, q] == expect
    # The last rows against the NumPy backend on the same crop.
    # Windows oy = h-4 .. h-1 read rows h-5 .. h (the last one padding): the
    # same as windows 1 .. 4 of the 5-row crop with its own padding.
    crop = x[:, :, -5:, :]
    previous = _backend.use("numpy")
    try:
        tail = im2col_ext.unfold(crop, 3, padding=1)
    finally:
        _backend.use(previous)
    np.testing.assert_array_equal(cols[0, :, -4 * w:].reshape(9, 4, w),
                                  tail[0].reshape(9, 5, w)[:, 1:, :])
    # fold: each interior pixel is covered by 9 windows.
    back = im2col_ext.fold(cols, (h, w), 3, padding=1)
    del cols
    for iy, ix in [(1, 1), (h - 2, w - 2), (h // 2, w // 3), (h - 2, 7)]:
        assert back[0, 0, iy, ix] == pytest.approx(9 * x[0, 0, iy, ix], rel=1e-5)
    assert back[0, 0, 0, 0] == pytest.approx(4 * x[0, 0, 0, 0], rel=1e-5)
