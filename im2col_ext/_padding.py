"""Padding modes, their exact adjoints and the per-pixel window counts of fold.

unfold with a padding mode other than zeros never builds a padded copy of
the input.  The compiled gather (``i2c_gather_mode_*``) reads every padding
tap through the mode's per-axis index map itself.  The NumPy backend runs
:func:`gather_padded`: the ordinary zero-padded gather first, then only the
column blocks whose source index falls in the padding are rewritten from
small padded strips (:func:`border_plan`), reading ``x`` at the mode's
mapped index on every axis (so corners are right); its extra cost is
proportional to the border.  Both copy bits, so they agree bitwise.

fold with a mode is the adjoint: the columns are summed (padding 0) into an
image of the padded size, then :func:`fold_border` adds every padding
hyperplane onto the pixels it was read from, axis by axis (the adjoint of
``numpy.pad``'s "reflect", "edge" and "wrap"), and the caller crops.

:func:`coverage` gives, for ``reduction="mean"``, how many column elements
fold adds into each pixel: the count is separable, the product over axes of
1-D counts, so it costs ``d`` small vectors and one broadcast division.

Everything works on the kernel views of ``_api._views`` (``x6`` is
``(n, c, s0, s1, s2, v)``, ``cols9`` is ``(n, c, k0, k1, k2, o0, o1, o2,
v)``) and a ``Window.kernel_spec()``, so it serves every rank, layout,
dtype and backend.
"""

import numpy as np

#: Accepted ``padding_mode`` values; the names are torch's.
PADDING_MODES = ("zeros", "constant", "reflect", "replicate", "circular")

#: Accepted ``reduction`` values of fold / col2im.
REDUCTIONS = ("sum", "mean")

#: Modes whose padding reads the input (the others read a constant).
READING_MODES = ("reflect", "replicate", "circular")

_AXIS_NAMES = {1: ("width",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def check_mode(padding_mode, value=None):
    """``padding_mode`` checked (a name of :data:`PADDING_MODES`); ``value`` only with "constant"."""
    if not isinstance(padding_mode, str) or padding_mode not in PADDING_MODES:
        raise ValueError(
            f"padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}"
        )
    if value is not None and padding_mode != "constant":
        raise ValueError(
            f"value is only used with padding_mode=\"constant\", got value={value!r} "
            f"with padding_mode={padding_mode!r}"
        )
    return padding_mode


def check_reduction(reduction):
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def check_pads(g, mode):
    """Reject padding that ``mode`` cannot fill: reflect needs ``pad < size``, circular ``pad <= size``."""
    if mode not in ("reflect", "circular"):
        return
    names = _AXIS_NAMES[g.d]
    for a, ((lo, hi), n) in enumerate(zip(g.pad, g.size)):
        worst = max(lo, hi)
        if mode == "reflect" and worst >= n:
            raise ValueError(
                f"padding {worst} along {names[a]} is too large for padding_mode=\"reflect\": "
                f"it must be smaller than the input size {n} along that axis"
            )
        if mode == "circular" and worst > n:
            raise ValueError(
                f"padding {worst} along {names[a]} is too large for padding_mode=\"circular\": "
                f"it must be at most the input size {n} along that axis"
            )


def check_value(value, dtype):
    """``value`` as a scalar of ``dtype``, or ValueError naming ``value`` when it does not fit."""
    if value is None:
        return dtype.type(0)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if not isinstance(value, (int, float, complex, bool, np.generic)) or isinstance(
            value, (np.str_, np.bytes_, np.void)):
        raise TypeError(f"value must be a number, got {type(value).__name__} {value!r}")
    with np.errstate(all="ignore"):
        try:
            cast = np.array(value).astype(dtype)[()]
        except (TypeError, ValueError, OverflowError):
            cast = None
        fits = cast is not None and (cast == value or (cast != cast and value != value))
        if fits and dtype.kind in "biu" and isinstance(value, (complex, np.complexfloating)):
            fits = value.imag == 0
    if not fits:
        raise ValueError(
            f"value={value!r} does not fit the dtype {dtype} of x (padding_mode=\"constant\" "
            "writes it into the columns unchanged)"
        )
    return cast


def _source_index(spec, a):
    """``(kernel, out)`` array of the unpadded input index tap ``k`` of window ``o`` reads on axis ``a``."""
    size, kernel, out, stride, low, dil = spec
    return (np.arange(kernel[a], dtype=np.int64)[:, None] * dil[a]
            + np.arange(out[a], dtype=np.int64)[None, :] * stride[a] - low[a])


def map_index(mode, n, i):
    """Input index that padding ``mode`` reads at (possibly out-of-range) index ``i`` of an axis of size ``n``."""
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return np.mod(i, n)
    # reflect (numpy.pad's "reflect": the edge is not repeated); pads < n
    i = np.abs(i)
    return np.where(i >= n, 2 * (n - 1) - i, i)


def _ceil_div(a, b):
    return -(-a // b)


def border_blocks(spec):
    """The blocks of columns that read padding, axis by axis and side by side.

    Yields ``(a, taps, windows)``: along axis ``a`` the taps ``taps`` (a
    slice) of the windows ``windows`` (a slice) are the smallest rectangle
    holding every (tap, window) pair whose source index is in the low or
    the high padding; the other axes are taken whole.
    """
    size, kernel, out, stride, low, dil = spec
    for a in range(3):
        n, k, o, s, lo, dl = size[a], kernel[a], out[a], stride[a], low[a], dil[a]
        span = (k - 1) * dl + 1
        if lo > 0:   # taps k*dl < lo of windows o*s < lo
            yield a, slice(0, min(k, _ceil_div(lo, dl))), slice(0, min(o, _ceil_div(lo, s)))
        top = lo + n  # first high padding index (padded coordinates)
        if (o - 1) * s + span > top:
            k0 = max(0, _ceil_div(top - (o - 1) * s, dl))
            o0 = max(0, _ceil_div(top - (k - 1) * dl, s))
            yield a, slice(k0, k), slice(o0, o)


def _padded_rows(x6, axis, n, j0, j1, lo, mode, value):
    """Rows ``[j0, j1)`` (padded coordinates) of ``x6`` along ``axis``, padded by ``mode``."""
    i = np.arange(j0 - lo, j1 - lo, dtype=np.int64)
    if i[0] >= 0 and i[-1] < n:
        return x6[_along(6, axis, slice(i[0], i[-1] + 1))]
    if mode == "constant":
        rows = x6.take(np.clip(i, 0, n - 1), axis=axis)
        outside = np.nonzero((i < 0) | (i >= n))[0]
        rows[_along(6, axis, outside)] = value
        return rows
    return x6.take(map_index(mode, n, i), axis=axis)


def border_plan(x6, spec, mode, value):
    """The strips and column blocks that rewrite the padding taps for ``mode``.

    For each block of :func:`border_blocks`, a small strip of the padded
    input (the rows the block reads along its axis, padded by ``mode`` on
    every axis, so corners are right) is built with ``np.take``.  Returns
    ``[(strip6, block_index, block_spec)]``: gathering ``strip6`` into
    ``cols9[block_index]`` with ``block_spec`` rewrites the block.  Corners
    are written once per axis they pad, with the same values.  Cost:
    proportional to the border, never a padded copy of ``x``.
    """
    size, kernel, out, stride, low, dil = spec
    full = slice(None)
    plan = []
    for a, taps, wins in border_blocks(spec):
        ks, os_ = list(kernel), list(out)
        ks[a] = taps.stop - taps.start
        os_[a] = wins.stop - wins.start
        if ks[a] <= 0 or os_[a] <= 0:
            continue
        strip = x6
        for b in [a] + [b for b in range(3) if b != a]:
            if b == a:
                j0 = wins.start * stride[a] + taps.start * dil[a]
                j1 = (wins.stop - 1) * stride[a] + (taps.stop - 1) * dil[a] + 1
            else:
                j0, j1 = 0, (out[b] - 1) * stride[b] + (kernel[b] - 1) * dil[b] + 1
            strip = _padded_rows(strip, 2 + b, size[b], j0, j1, low[b], mode, value)
        kidx, oidx = [full] * 3, [full] * 3
        kidx[a], oidx[a] = taps, wins
        sub = (tuple(strip.shape[2:5]), tuple(ks), tuple(os_), tuple(stride), (0, 0, 0),
               tuple(dil))
        plan.append((strip, (full, full, *kidx, *oidx, full), sub))
    return plan


def gather_padded(x6, cols9, spec, mode, value, gather):
    """Fill ``cols9`` from ``x6`` with padding ``mode``: the zero-padded
    ``gather`` (the backend's kernel), then the border blocks of
    :func:`border_plan`, gathered from their strips by the same kernel."""
    gather(x6, cols9, spec)
    if mode != "zeros":
        for strip, block, sub in border_plan(x6, spec, mode, value):
            gather(strip, cols9[block], sub)


def _along(ndim, axis, index):
    """An index tuple selecting ``index`` on ``axis`` of an ``ndim``-D array."""
    return (slice(None),) * axis + (index,) + (slice(None),) * (ndim - axis - 1)


def fold_border(xp, axis, n, lo, hi, mode):
    """Add the padding of ``xp`` along ``axis`` onto the pixels ``mode`` read it from, in place.

    ``xp`` has ``lo + n + hi`` (or fewer, the high end of the padding unused)
    entries along ``axis``; the interior is ``[lo, lo + n)``.  The adjoint of
    ``numpy.pad`` along one axis ("reflect", "edge" = replicate, "wrap" =
    circular); the padding entries are left stale for the caller to crop.
    """
    nd = xp.ndim
    end = xp.shape[axis]
    hi = min(hi, end - lo - n)

    def at(index):
        return _along(nd, axis, index)

    if lo:
        if mode == "reflect":      # pixel lo + m reads padding lo - m, m = 1..lo
            xp[at(slice(lo + 1, 2 * lo + 1))] += xp[at(slice(lo - 1, None, -1))]
        elif mode == "replicate":  # pixel lo reads every low padding entry
            xp[at(slice(lo, lo + 1))] += xp[at(slice(0, lo))].sum(axis=axis, keepdims=True)
        else:                      # circular: padding j reads pixel j + n
            xp[at(slice(n, n + lo))] += xp[at(slice(0, lo))]
    if hi > 0:
        top = lo + n               # first high padding entry
        if mode == "reflect":      # pixel top - 1 - m reads padding top - 1 + m, m = 1..hi
            xp[at(slice(top - 1 - hi, top - 1))] += xp[at(slice(top - 1 + hi, top - 1, -1))]
        elif mode == "replicate":
            xp[at(slice(top - 1, top))] += xp[at(slice(top, top + hi))].sum(
                axis=axis, keepdims=True)
        else:                      # circular: padding top + m reads pixel lo + m
            xp[at(slice(lo, lo + hi))] += xp[at(slice(top, top + hi))]


def padded_size(spec):
    """Per-axis extent of the padded domain that the windows touch (3-tuple)."""
    size, kernel, out, stride, low, dil = spec
    return tuple(max(low[a] + size[a], (out[a] - 1) * stride[a] + (kernel[a] - 1) * dil[a] + 1)
                 for a in range(3))


def coverage(spec, mode, pad):
    """Three 1-D int64 vectors whose outer product counts the column elements fold adds into each pixel.

    ``pad`` is the 3-tuple of (low, high) pairs (leading axes unpadded).
    The count along an axis is the histogram of the padded-domain indices
    the taps read, passed through the same 1-D border adjoint as the data.
    """
    size, kernel, out, stride, low, dil = spec
    ext = padded_size(spec)
    counts = []
    for a in range(3):
        j = _source_index(spec, a) + low[a]
        c = np.bincount(j.ravel(), minlength=ext[a]).astype(np.int64)
        lo, hi = pad[a]
        if mode in READING_MODES:
            fold_border(c, 0, size[a], lo, hi, mode)
        counts.append(c[lo:lo + size[a]])
    return counts
