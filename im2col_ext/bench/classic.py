"""The classic cs231n algorithm, the course's own peer: a fancy-index gather and ``np.add.at``.

Written from the course's description (not imported from it), with the
window counts from :mod:`im2col_ext._geometry`.
"""

import numpy as np

from im2col_ext._geometry import conv_geometry


def classic_indices(x_shape, fh, fw, pad, stride):
    """Index arrays ``(k, i, j)`` with ``x_padded[:, k, i, j]`` = every window.

    ``k`` (C*fh*fw, 1) is the channel of each row, ``i`` and ``j``
    (C*fh*fw, oh*ow) the padded row and column each (row, window) reads.
    """
    n, c, h, w = x_shape
    g = conv_geometry(n, c, h, w, (fh, fw), stride, pad, 1)
    ky = np.tile(np.repeat(np.arange(fh), fw), c)  # the tap row of each row
    kx = np.tile(np.arange(fw), fh * c)  # the tap column of each row
    oy = np.repeat(np.arange(g.oh), g.ow)  # the window row of each window
    ox = np.tile(np.arange(g.ow), g.oh)
    i = ky[:, None] + stride * oy[None, :]
    j = kx[:, None] + stride * ox[None, :]
    k = np.repeat(np.arange(c), fh * fw)[:, None]
    return k, i, j


def classic_im2col(x, fh, fw, pad, stride):
    """cs231n's ``im2col_indices``: pad, gather ``x_padded[:, k, i, j]``, reorder."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    k, i, j = classic_indices(x.shape, fh, fw, pad, stride)
    cols = xp[:, k, i, j]  # (N, C*fh*fw, oh*ow)
    return cols.transpose(1, 2, 0).reshape(fh * fw * x.shape[1], -1)


def classic_col2im(cols, x_shape, fh, fw, pad, stride, layout="cs231n"):
    """cs231n's ``col2im_indices``: ``np.add.at`` into a padded zero image, then crop.

    ``layout`` is that of ``cols``: ``"cs231n"`` ``(C*fh*fw, oh*ow*N)`` or
    ``"6d"`` ``(C, fh, fw, N, oh, ow)`` (``col2im_6d_cython``'s).
    """
    n, c, h, w = x_shape
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    k, i, j = classic_indices(x_shape, fh, fw, pad, stride)
    if layout == "6d":
        per_image = cols.reshape(c * fh * fw, n, -1).transpose(1, 0, 2)
    else:
        per_image = cols.reshape(c * fh * fw, -1, n).transpose(2, 0, 1)
    np.add.at(xp, (slice(None), k, i, j), per_image)
    if pad == 0:
        return xp
    return xp[:, :, pad:-pad, pad:-pad]
