"""Large results on 2 MiB-aligned mappings with huge pages (im2col_ext._memory), and
the gathers' stores on fresh pages (I2C_FRESH_COLS): same results, memory released."""
import gc
import sys

import numpy as np
import pytest

import im2col_ext
from im2col_ext import _memory

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mmap.MADV_HUGEPAGE")


def test_small_arrays_are_numpy_arrays():
    a = _memory.empty((3, 4), np.float32)
    assert a.shape == (3, 4) and a.dtype == np.float32 and a.flags.owndata
    assert a.nbytes < _memory.MIN_BYTES


@linux
def test_large_arrays_start_on_a_huge_page_and_outlive_their_views(monkeypatch):
    monkeypatch.setattr(_memory, "MIN_BYTES", 1 << 16)
    a = _memory.empty((300, 70), np.complex128)
    assert a.shape == (300, 70) and a.dtype == np.complex128 and a.flags.c_contiguous
    assert a.flags.writeable and not a.flags.owndata
    assert a.ctypes.data % (2 << 20) == 0
    a[...] = 1 + 2j
    v = a[150:]
    del a
    gc.collect()
    v += 1                                        # the mapping lives as long as a view
    assert v.sum() == 150 * 70 * (2 + 2j)
    assert _memory.empty((0, 5), np.float64).shape == (0, 5)
    assert _memory.empty((70000,), object).flags.owndata   # never for objects


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@linux
def test_mapped_results_are_released():
    x = np.ones((130, 4, 23, 41))                  # columns of 35 MB: mapped
    cols = im2col_ext.unfold(x, 3, padding=1)
    assert cols.nbytes >= _memory.MIN_BYTES and not cols.flags.owndata
    del cols
    gc.collect()
    before = _rss()
    for _ in range(10):
        cols = im2col_ext.unfold(x, 3, padding=1)
        del cols
    gc.collect()
    assert _rss() - before < 60 << 20


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fresh_columns_hold_the_same_bits(dtype):
    """A new array past MIN_BYTES (fresh pages: regular stores for channels-first
    planes) against the same call into a warm array (streamed), every layout."""
    rng = np.random.default_rng(2)
    n = _memory.MIN_BYTES // (4 * 23 * 41 * 9 * np.dtype(dtype).itemsize) + 1
    x = rng.standard_normal((n, 4, 23, 41)).astype(dtype)
    x[0, 0, 0, :3] = (-0.0, np.nan, np.inf)
    calls = [lambda out=None: im2col_ext.unfold(x, 3, padding=1, out=out),
             lambda out=None: im2col_ext.unfold(x, 3, padding=((1, 1), (2, 0)), out=out),
             lambda out=None: im2col_ext.im2col_indices(x, 3, 3, 1, 1, out=out),
             lambda out=None: im2col_ext.unfold(np.moveaxis(x, 1, -1), 3, padding=1,
                                                channel_axis=-1, out=out)]
    for call in calls:
        _memory.release()                  # no kept mapping: the columns are fresh pages
        fresh = call()
        assert fresh.nbytes >= _memory.MIN_BYTES
        warm = call(np.full_like(fresh, 7))
        assert fresh.tobytes() == warm.tobytes()


@linux
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_large_fold_results_are_mapped_and_exact(reduction):
    """fold's new images from MIN_BYTES on are mapped too (both of its allocating paths)."""
    n = _memory.MIN_BYTES // (4 * 64 * 64 * 8) + 1
    rng = np.random.default_rng(3)
    cols = rng.standard_normal((n, 4, 64 * 64))             # 1x1 windows: the image itself
    img = im2col_ext.fold(cols, (64, 64), 1, reduction=reduction)
    assert img.nbytes >= _memory.MIN_BYTES and not img.flags.owndata
    np.testing.assert_array_equal(img, cols.reshape(n, 4, 64, 64))


@linux
def test_kept_mappings_are_reused_only_when_no_array_is_on_them(monkeypatch):
    monkeypatch.setattr(_memory, "MIN_BYTES", 1 << 18)
    monkeypatch.setattr(_memory, "_kept", [])
    a, fresh_a = _memory.alloc((1 << 18,), np.float32)
    a[...] = 1
    view = a[4:].reshape(-1, 4)
    del a
    gc.collect()
    b, fresh_b = _memory.alloc((1 << 18,), np.float32)       # `view` still on a's mapping
    assert fresh_a and fresh_b and not np.shares_memory(b, view)
    b[...] = 2
    assert (view == 1).all()
    base = b.ctypes.data
    del b
    gc.collect()
    c, fresh_c = _memory.alloc((1 << 17, 2), np.float32)     # b's mapping, free now
    assert not fresh_c and c.ctypes.data == base and c.shape == (1 << 17, 2)
    del c
    gc.collect()
    d, fresh_d = _memory.alloc((1 << 16,), np.float32)        # 1/4 of the free one: a new one
    assert fresh_d and d.ctypes.data != base and not np.shares_memory(d, view)
    assert (view == 1).all()


@linux
def test_kept_mappings_are_bounded_and_released(monkeypatch):
    monkeypatch.setattr(_memory, "MIN_BYTES", 1 << 20)
    monkeypatch.setattr(_memory, "_kept", [])
    monkeypatch.setattr(_memory, "KEEP_BYTES", 3 * (3 << 20))
    arrays = [_memory.alloc((1 << 20,), np.uint8)[0] for _ in range(5)]   # 3 MiB mappings
    assert len(_memory._kept) == 3                            # the two oldest forgotten
    assert all(a.ctypes.data % (2 << 20) == 0 for a in arrays)
    del arrays
    gc.collect()
    assert not _memory.alloc((1 << 20,), np.uint8)[1]         # a kept one, reused
    im2col_ext.release_memory()
    assert _memory._kept == [] and _memory.alloc((1 << 20,), np.uint8)[1]
    monkeypatch.setattr(_memory, "KEEP_BYTES", 0)
    _memory.release()
    _memory.alloc((1 << 20,), np.uint8)
    assert _memory._kept == []


@linux
def test_reused_columns_are_rewritten_whole():
    """Columns gathered onto a reused mapping (warm, holding the last call's
    values) are the same bits as onto a fresh one, for every layout."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((130, 4, 23, 41))
    _memory.release()
    for call in (lambda: im2col_ext.unfold(x, 3, padding=1),
                 lambda: im2col_ext.im2col_indices(x, 3, 3, 1, 1),
                 lambda: im2col_ext.fold(np.full((130, 40, 23 * 41), 7.0), (23, 41), 1)):
        first = call()
        assert first.nbytes >= _memory.MIN_BYTES               # a mapping of its own
        want = first.copy()
        first[...] = np.nan
        addr = first.ctypes.data
        del first
        gc.collect()
        again = call()
        assert again.ctypes.data == addr                       # the same mapping, reused
        assert again.tobytes() == want.tobytes()
        del again


@linux
def test_kept_mappings_are_never_shared_between_live_arrays_across_threads(monkeypatch):
    """Threads allocating and dropping large arrays at once: no array is ever
    handed a mapping another live array is on (each checks its own fill after
    the others had time to write theirs)."""
    import threading
    import time

    monkeypatch.setattr(_memory, "MIN_BYTES", 1 << 20)
    monkeypatch.setattr(_memory, "_kept", [])
    errors = []

    def work(tid):
        for i in range(25):
            a, _ = _memory.alloc((1 << 18,), np.float32)
            a[...] = tid * 1000 + i
            time.sleep(0.001)
            if not (a == tid * 1000 + i).all():
                errors.append((tid, i))
            del a

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert 1 <= len(_memory._kept) <= 8              # reused, not one mapping per call
