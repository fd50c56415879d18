"""Mirror of cs231n's ``im2col_cython.pyx``, with nothing to compile on the user's side.

``im2col_cython`` / ``col2im_cython`` use the cs231n layout
``(C*fh*fw, oh*ow*N)``; ``col2im_6d_cython`` takes the 6-D
``cols[c, hh, ww, n, oy, ox]`` of ``conv_forward_strides``.  Unlike the
course module, non-square filters are right (its row index used
``field_height`` for ``field_width`` and wrote out of bounds), any numeric
dtype works, and ``N, C, H, W`` are checked against ``cols`` before any
kernel runs.
"""

from .._api import _cols_shape, _check_cols, _cs231n_geometry, _accumulate, _gather
from .._geometry import as_int, check_array

__all__ = ["im2col_cython", "col2im_cython", "col2im_6d_cython"]


def _shape(N, C, H, W):
    return (
        as_int(N, "N", 0),
        as_int(C, "C", 0),
        as_int(H, "H", 1),
        as_int(W, "W", 1),
    )


def im2col_cython(x, field_height, field_width, padding, stride):
    """Columns ``(C*fh*fw, oh*ow*N)`` of ``x`` (N, C, H, W), a new C-contiguous array."""
    check_array(x, "x", 4)
    g = _cs231n_geometry(x.shape, field_height, field_width, padding, stride)
    return _gather(x, g, "cs231n")


def col2im_cython(cols, N, C, H, W, field_height, field_width, padding, stride):
    """Adjoint of :func:`im2col_cython`; returns ``(N, C, H, W)``."""
    check_array(cols, "cols", 2)
    g = _cs231n_geometry(_shape(N, C, H, W), field_height, field_width, padding, stride)
    _check_cols(cols, _cols_shape(g, "cs231n"))
    return _accumulate(cols, g, "cs231n")


def col2im_6d_cython(cols, N, C, H, W, HH, WW, pad, stride):
    """``x_padded[n, c, oy*s + hh, ox*s + ww] += cols[c, hh, ww, n, oy, ox]``, cropped.

    ``cols`` must have shape ``(C, HH, WW, N, oh, ow)`` with ``oh``, ``ow``
    the window counts of an ``H x W`` image under ``pad`` and ``stride``.
    """
    check_array(cols, "cols", 6)
    g = _cs231n_geometry(_shape(N, C, H, W), HH, WW, pad, stride)
    _check_cols(cols, _cols_shape(g, "6d"))
    return _accumulate(cols, g, "6d")
