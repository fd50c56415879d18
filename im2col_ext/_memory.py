"""Large result arrays on transparent huge pages (new columns of the gathers,
new images of the folds).

A fresh array's pages are mapped in by the kernel at first touch, one fault
each.  NumPy asks for transparent huge pages (2 MiB, ``madvise``) on large
arrays, but glibc puts a large array in its own mapping at an address that
is not a multiple of 2 MiB, so up to 2 MiB at each end stay 4 KiB pages:
about a thousand faults for every array, and on a virtual machine each
costs microseconds.  Measured here (float64 course columns of 38 MB,
written by the gather): 8.4-9.3 ms into ``np.empty`` against 4.3 ms into a
warm array, 7.0 ms into a mapping of our own aligned to 2 MiB, and 26 ms
with 4 KiB pages throughout.  torch's CPU allocator does the same (2 MiB
alignment and ``MADV_HUGEPAGE`` for large blocks).

:func:`empty` is ``np.empty`` for small arrays and where ``mmap`` has no
``MADV_HUGEPAGE`` (not Linux); from :data:`MIN_BYTES` on (arrays that are
fresh pages whatever allocates them, unless a kept one is reused) it maps anonymous
memory with 2 MiB to spare, asks for huge pages, and returns the array
that starts at the first 2 MiB boundary.  The array's base is the mapping.

Mappings are kept for reuse, as torch's caching allocator keeps its blocks:
a new large array goes onto a kept mapping that no array uses any more
(none holds a reference to it) and that it fits, warm pages already mapped
in, and a training loop that drops last step's columns writes this step's
into them (38 MB course columns: 7.0 ms fresh, 4.3 ms warm).  At most
:data:`KEEP_BYTES` of mappings are kept, oldest forgotten first; a
forgotten mapping is unmapped with the last array on it, and
:func:`release` (``im2col_ext.release_memory``) forgets them all.  A new
array's contents are whatever was there (zeros on fresh pages).
"""
import mmap
import os
import sys
import threading
from typing import List

import numpy as np

#: Arrays of at least this many bytes are mapped on their own.  glibc maps
#: every block from 32 MiB on (its largest mmap threshold), so such arrays
#: are fresh pages either way; smaller ones may come warm from its heap
#: (a 30 MB array in a loop: 2.1 ms into np.empty, 5.1 ms mapped fresh).
#: At most 1/16 of a mapped array lies in a partly used huge page.
MIN_BYTES = 32 << 20

#: Mappings kept for reuse after their last array is gone, at most this many
#: bytes in all (``IM2COL_EXT_KEEP_BYTES``, read at import; 0 keeps none).
KEEP_BYTES = int(os.environ.get("IM2COL_EXT_KEEP_BYTES", str(512 << 20)))

_HUGE = 2 << 20
_ADVICE = getattr(mmap, "MADV_HUGEPAGE", None)
_FLAGS = getattr(mmap, "MAP_PRIVATE", 0) | getattr(mmap, "MAP_ANONYMOUS", 0)

_lock = threading.Lock()
_kept: List[mmap.mmap] = []     # the mappings made here, oldest first (a reference each)


def _refs(maps, i):
    return sys.getrefcount(maps[i])


#: What _refs counts for an object that only a list holds (measured, not
#: assumed: interpreters differ in the references a call adds).
_ALONE = _refs([object()], 0)


def empty(shape, dtype):
    """An uninitialised C-contiguous array, as ``np.empty(shape, dtype)``."""
    return alloc(shape, dtype)[0]


def alloc(shape, dtype):
    """``(array, fresh)``: an uninitialised C-contiguous array and whether its
    pages are fresh (not yet mapped in: a new mapping)."""
    dtype = np.dtype(dtype)
    count = 1
    for s in shape:
        count *= int(s)
    nbytes = count * dtype.itemsize
    if nbytes < MIN_BYTES or _ADVICE is None or dtype.hasobject:
        return np.empty(shape, dtype=dtype), False
    with _lock:
        mm = _reuse(nbytes)
        fresh = mm is None
        if fresh:
            try:
                mm = mmap.mmap(-1, nbytes + _HUGE, flags=_FLAGS)
                mm.madvise(_ADVICE)
            except (OSError, ValueError, OverflowError):
                return np.empty(shape, dtype=dtype), False
            _keep(mm)
    raw = np.frombuffer(mm, dtype=np.uint8)
    start = (-raw.ctypes.data) % _HUGE      # the mapping starts on a page: start < 2 MiB
    return raw[start:start + nbytes].view(dtype).reshape(shape), fresh


def _reuse(nbytes):
    """The smallest kept mapping that no array uses and that fits ``nbytes``
    (without wasting more than half of it), or None."""
    best = None
    for i in range(len(_kept)):
        size = len(_kept[i]) - _HUGE
        if nbytes <= size <= 2 * nbytes and _refs(_kept, i) <= _ALONE and \
                (best is None or size < len(_kept[best]) - _HUGE):
            best = i
    if best is None:
        return None
    mm = _kept.pop(best)
    _kept.append(mm)                        # the most recently used last
    return mm


def _keep(mm):
    """Keep ``mm`` for reuse; forget the oldest mappings past KEEP_BYTES (a
    forgotten one is unmapped with the last array on it)."""
    _kept.append(mm)
    total = sum(len(m) for m in _kept)
    while _kept and total > KEEP_BYTES:
        total -= len(_kept.pop(0))


def release():
    """Forget every kept mapping: each is unmapped when no array is on it."""
    with _lock:
        del _kept[:]

