"""Mirror of cs231n's ``im2col.py`` (the pure NumPy helpers), backed by im2col_ext.

Same names, signatures, defaults and column layout as the course file
(``(C*fh*fw, oh*ow*N)``, batch fastest), including the 2025 extras
``get_num_fields``, ``field_coords``, ``im2col_naive`` and ``col2im``.
Differences, all deliberate: the width check uses the field width,
non-divisible shapes are floored (like the course's Cython module and torch)
instead of asserting, and ``cols`` of the wrong shape (a transposed one, say)
raise ``ValueError`` instead of being reshaped into a wrong gradient.
"""

from .._api import (
    _cs231n_geometry,
    col2im_indices,
    get_im2col_indices,
    im2col_indices,
)
from .._geometry import as_int

__all__ = [
    "get_im2col_indices",
    "im2col_indices",
    "col2im_indices",
    "get_num_fields",
    "field_coords",
    "im2col_naive",
    "col2im",
]


def get_num_fields(x_shape, field_height, field_width, padding, stride):
    """Number of window positions ``(oh, ow)`` vertically and horizontally."""
    g = _cs231n_geometry(x_shape, field_height, field_width, padding, stride)
    return g.oh, g.ow


def field_coords(H, W, field_height, field_width, padding, stride):
    """Yield ``(y0, y1, x0, x1)`` of every window in the padded image, row-major."""
    g = _cs231n_geometry(
        (1, 1, as_int(H, "H", 1), as_int(W, "W", 1)),
        field_height, field_width, padding, stride,
    )
    for oy in range(g.oh):
        for ox in range(g.ow):
            y0, x0 = oy * g.sh, ox * g.sw
            yield (y0, y0 + g.kh, x0, x0 + g.kw)


def im2col_naive(x, field_height=3, field_width=3, padding=1, stride=1):
    """Same result as :func:`im2col_indices` (the course's loop version, made fast)."""
    return im2col_indices(x, field_height, field_width, padding, stride)


def col2im(cols, x_shape, field_height=3, field_width=3, padding=1, stride=1):
    """Same result as :func:`col2im_indices` (the course's loop version, made fast)."""
    return col2im_indices(cols, x_shape, field_height, field_width, padding, stride)
