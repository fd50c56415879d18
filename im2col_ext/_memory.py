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
fresh pages whatever allocates them, see :func:`fresh`) it maps anonymous
memory with 2 MiB to spare, asks for huge pages, and returns the array
that starts at the first 2 MiB boundary.  The array's base is the mapping
(released with the last view of it); its contents are zeros (fresh pages).
"""
import mmap

import numpy as np

#: Arrays of at least this many bytes are mapped on their own.  glibc maps
#: every block from 32 MiB on (its largest mmap threshold), so such arrays
#: are fresh pages either way; smaller ones may come warm from its heap
#: (a 30 MB array in a loop: 2.1 ms into np.empty, 5.1 ms mapped fresh).
#: At most 1/16 of a mapped array lies in a partly used huge page.
MIN_BYTES = 32 << 20

_HUGE = 2 << 20
_ADVICE = getattr(mmap, "MADV_HUGEPAGE", None)
_FLAGS = getattr(mmap, "MAP_PRIVATE", 0) | getattr(mmap, "MAP_ANONYMOUS", 0)


def empty(shape, dtype):
    """An uninitialised C-contiguous array, as ``np.empty(shape, dtype)``."""
    dtype = np.dtype(dtype)
    count = 1
    for s in shape:
        count *= int(s)
    nbytes = count * dtype.itemsize
    if nbytes < MIN_BYTES or _ADVICE is None or dtype.hasobject:
        return np.empty(shape, dtype=dtype)
    try:
        mm = mmap.mmap(-1, nbytes + _HUGE, flags=_FLAGS)
        mm.madvise(_ADVICE)
    except (OSError, ValueError, OverflowError):
        return np.empty(shape, dtype=dtype)
    raw = np.frombuffer(mm, dtype=np.uint8)
    start = (-raw.ctypes.data) % _HUGE      # the mapping starts on a page: start < 2 MiB
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def fresh(nbytes):
    """Whether a new array of ``nbytes`` (from :func:`empty`) is fresh pages, not yet mapped in."""
    return nbytes >= MIN_BYTES
