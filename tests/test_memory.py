"""Leaks: calling each public function many times leaves memory use flat."""

import gc
import sys

import numpy as np
import pytest

import im2col_ext
from im2col_ext import layers
from im2col_ext.cs231n import fast_layers
from im2col_ext.cs231n import im2col_cython as cy

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def _calls():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 16, 16))
    w = rng.standard_normal((5, 3, 3, 3))
    cols = im2col_ext.im2col_indices(x, 3, 3, 1, 1)
    cols6 = im2col_ext.im2col(x, 3, padding=1, layout="6d")
    t = im2col_ext.unfold(x, 3, padding=1)
    bad = x.reshape(-1)
    return [
        lambda: im2col_ext.unfold(x, 3, padding=1),
        lambda: im2col_ext.fold(t, 16, 3, padding=1),
        lambda: im2col_ext.col2im_indices(cols, x.shape),
        lambda: im2col_ext.get_im2col_indices(x.shape, 3, 3),
        lambda: cy.col2im_6d_cython(cols6, 4, 3, 16, 16, 3, 3, 1, 1),
        lambda: layers.conv2d_backward(np.ones((4, 5, 16, 16)),
                                       layers.conv2d_forward(x, w, None, padding=1)[1]),
        lambda: layers.conv_transpose2d_backward(
            np.ones((4, 5, 18, 18)), layers.conv_transpose2d_forward(x, w.transpose(1, 0, 2, 3), None)[1]),
        lambda: layers.max_pool2d_backward(np.ones((4, 3, 7, 7)), layers.max_pool2d_forward(x, 3, 2)[1]),
        lambda: layers.avg_pool2d_backward(np.ones((4, 3, 8, 8)), layers.avg_pool2d_forward(x, 2)[1]),
        lambda: fast_layers.conv_backward_fast(np.ones((4, 5, 16, 16)), fast_layers.conv_forward_fast(
            x, w, np.zeros(5), {"stride": 1, "pad": 1})[1]),
        lambda: fast_layers.max_pool_backward_fast(np.ones((4, 3, 8, 8)), fast_layers.max_pool_forward_fast(
            x, {"pool_height": 2, "pool_width": 2, "stride": 2})[1]),
        lambda: fast_layers.max_pool_backward_fast(np.ones((4, 3, 7, 7)), fast_layers.max_pool_forward_fast(
            x, {"pool_height": 4, "pool_width": 4, "stride": 2})[1]),
        lambda: pytest.raises(ValueError, im2col_ext.col2im_indices, bad[:-1, None], x.shape),
    ]


@pytest.mark.parametrize("index", range(13))
def test_repeated_calls_leave_memory_flat(index):
    call = _calls()[index]
    for _ in range(20):
        call()
    gc.collect()
    before = rss_bytes()
    for _ in range(400):
        call()
    gc.collect()
    growth = rss_bytes() - before
    # Each call allocates up to ~0.5 MB and frees it; a leak of even one
    # output per call would grow by > 100 MB here.
    assert growth < 16 * 2**20, f"RSS grew by {growth / 2**20:.1f} MiB"
