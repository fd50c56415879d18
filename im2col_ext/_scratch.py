"""Per-thread scratch arrays for the layers' internal temporaries.

A convolution allocates megabytes of temporaries (Winograd tile arrays, the
columns of a chunk of images) and frees them when it returns.  glibc hands
that memory back to the kernel (it trims the top of the heap, or unmaps a
large block), so the next call page-faults it in again and the kernel
zeroes every page first: 28 % of the time of a float32 16-channel
Winograd convolution (64x16x28x28, forward and backward).  Keeping the
buffers between calls, as torch's caching allocator does, removes that.

A buffer is named by the site that uses it; a site takes it, uses it, and
lets go of it before it returns, so nothing taken from here may reach the
caller (results, caches).  One buffer per name and thread (threads never
share one), grown when a larger request comes, and kept only up to
``LIMIT`` bytes: a bigger request gets a plain new array.  :func:`release`
drops the calling thread's buffers.
"""
import threading

import numpy as np

#: The largest buffer kept between calls, in bytes.
LIMIT = 32 << 20

_local = threading.local()


def take(name, shape, dtype):
    """An uninitialised C-contiguous array of ``shape`` and ``dtype``, from buffer ``name``.

    The array's contents are whatever the last user of the buffer left; it
    is valid until the next :func:`take` of the same name on this thread.
    """
    dtype = np.dtype(dtype)
    count = 1
    for s in shape:
        count *= int(s)
    need = count * dtype.itemsize
    if need > LIMIT:
        return np.empty(shape, dtype=dtype)
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {}
    buf = buffers.get(name)
    if buf is None or buf.nbytes < need:
        # 64 bytes of slack, so that the array can start on a cache line
        buf = buffers[name] = np.empty(max(need, 1) + 64, dtype=np.uint8)
    start = (-buf.ctypes.data) % 64
    return buf[start:start + need].view(dtype).reshape(shape)


def release():
    """Drop the calling thread's scratch buffers (they are made again when needed)."""
    _local.buffers = {}
