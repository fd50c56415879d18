"""The public array API: validation, output shapes, allocation and dtype policy.

Every public function of im2col_ext ends up here.  Each one checks its
arguments (``_geometry``), allocates its output with ``np.empty``, builds the
array views the kernels expect and hands them to the backend that
``_backend.kernels`` picks.  Backends never see an unchecked argument and
never allocate a result.

Column layouts
--------------
``cs231n``  ``(C*kh*kw, oh*ow*N)``: row ``c*kh*kw + ky*kw + kx``, column
            ``(oy*ow + ox)*N + n`` (the batch is the fastest axis).
``torch``   ``(N, C*kh*kw, oh*ow)``, as ``torch.nn.functional.unfold``.
``6d``      ``(C, kh, kw, N, oh, ow)``, cs231n's ``col2im_6d_cython`` and the
            ``conv_forward_strides`` columns (the batch is the slowest
            column axis).

Dtype policy: outputs have the dtype of the data input (``x`` for im2col,
``cols`` for col2im), in native byte order.  Inputs are never written to.
"""

import functools
from typing import Any, Optional, Sequence, Tuple

import numpy as np

from . import _backend, _memory
from . import _numpy_backend as _numpy
from ._typing import Array, ArrayLike, DTypeLike, IntOrSeq, Padding
from . import _padding
from ._geometry import (
    as_array,
    Geometry,
    Window,
    as_channel_axis,
    as_int,
    as_ints,
    as_pair,
    as_shape,
    check_alloc,
    check_array,
    conv_geometry,
    from_geometry,
    spatial_rank,
    window,
)

LAYOUTS = ("cs231n", "torch", "6d")


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def _native(a):
    """``a`` itself, or a native-byte-order copy of it."""
    if a.dtype.isnative:
        return a
    return a.astype(a.dtype.newbyteorder("="))


def _field(field_height, field_width):
    return (
        as_int(field_height, "field_height", 1),
        as_int(field_width, "field_width", 1),
    )


def _window(g):
    """A :class:`Window` (legacy 2-D :class:`Geometry` accepted and converted)."""
    return g if isinstance(g, Window) else from_geometry(g)


def _cols_shape(g, layout):
    """Shape of the columns of window geometry ``g`` in ``layout``."""
    g = _window(g)
    if layout == "torch":
        if g.channel_axis == 1:
            return (g.n, g.c * g.K, g.L)
        return (g.n, g.L, g.K * g.c)
    if layout == "cs231n":
        return (g.c * g.K, g.L * g.n)
    return (g.c,) + g.kernel + (g.n,) + g.out


def _views(x, cols, g, layout):
    """The kernel views ``(x6, cols9)`` of an image and its columns.

    ``x6`` is ``(n, c, s0, s1, s2, v)`` and ``cols9`` is ``(n, c, k0, k1, k2,
    o0, o1, o2, v)``: spatial axes padded to three with leading unit axes,
    ``v`` an innermost vector axis (1, the channels when channels-last, the
    batch in the cs231n layout).  Views only: nothing is copied.
    """
    k3 = (1,) * (3 - g.d) + g.kernel
    o3 = (1,) * (3 - g.d) + g.out
    x6 = _image_view(x, g, layout)
    if layout == "cs231n":
        cols9 = cols.reshape((1, g.c) + k3 + o3 + (g.n,))
    elif layout == "6d":
        cols9 = cols.transpose(3, 0, 1, 2, 4, 5)[:, :, None, :, :, None, :, :, None]
    elif g.channel_axis == 1:
        cols9 = cols.reshape((g.n, g.c) + k3 + o3 + (1,))
    else:
        c8 = cols.reshape((g.n,) + o3 + k3 + (g.c,))
        cols9 = c8.transpose(0, 4, 5, 6, 1, 2, 3, 7)[:, None]
    return x6, cols9


def _image_view(x, g, layout):
    """The ``x6`` view ``(n, c, s0, s1, s2, v)`` of an image (see :func:`_views`)."""
    if layout == "cs231n":
        return x.transpose(1, 2, 3, 0)[None, :, None]
    if layout == "6d":
        return x[(slice(None), slice(None), None, Ellipsis, None)]
    lead = (None,) * (3 - g.d)
    if g.channel_axis == 1:
        return x[(slice(None), slice(None)) + lead + (Ellipsis, None)]
    return x[(slice(None), None) + lead]


def _layout(layout):
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    return layout


# --------------------------------------------------------------------------
# the two core operations, on checked arguments
# --------------------------------------------------------------------------

def _check_out(out, shape, dtype, source, source_name, why=None):
    """Check a caller-supplied output array; return it."""
    check_array(out, "out")
    if out.shape != tuple(shape):
        raise ValueError(f"out has shape {out.shape}, expected {tuple(shape)}")
    if out.dtype != dtype:
        why = why or f"the dtype of {source_name}"
        raise TypeError(f"out has dtype {out.dtype}, expected {dtype} ({why})")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    if np.may_share_memory(out, source):
        raise ValueError(f"out must not overlap {source_name}")
    return out


def _gather(x, g, layout, out=None, mode="zeros", value=None):
    """im2col of a checked batched ``x`` with window geometry ``g`` into a new array (or ``out``).

    ``mode`` is a checked padding mode (:mod:`._padding`), ``value`` the
    checked fill of "constant"; the backend's gather reads every padding
    tap through the mode's index map (no padded copy of ``x``).
    """
    g = _window(g)
    x = _native(x)
    shape = check_alloc(_cols_shape(g, layout), x.dtype, "cols")
    fresh = False
    if out is None:
        cols, fresh = _memory.alloc(shape, x.dtype)
    else:
        cols = _check_out(out, shape, x.dtype, x, "x")
    if cols.size:
        x6, cols9 = _views(x, cols, g, layout)
        _backend.for_gather(x6, cols9).gather(x6, cols9, g.kernel_spec(), mode, value,
                                              fresh=fresh)
    return cols


def _accumulate(cols, g, layout, out=None):
    """col2im of checked ``cols`` (shape ``_cols_shape(g, layout)``) into a new image (or ``out``)."""
    g = _window(g)
    cols = _native(cols)
    shape = check_alloc(g.image_shape(), cols.dtype, "output")
    if out is None:
        x = _memory.empty(shape, cols.dtype)
    else:
        x = _check_out(out, shape, cols.dtype, cols, "cols")
    if cols.size == 0:
        x[...] = 0
    elif x.size:
        x6, cols9 = _views(x, cols, g, layout)
        _sum_into(cols9, x6, g.kernel_spec())
    return x


def _sum_into(cols9, x6, spec):
    """Overwrite ``x6`` with the fold of ``cols9`` (any dtypes ``x6 += cols9`` accepts).

    The C kernels take the pairs of ``_cext.ACCUMULATE_PAIRS``; any other
    pair runs on the NumPy twin.  Complex sums are real sums, component by
    component (the same bits as NumPy's complex add): channels last as one
    real sum over 2*C interleaved components (the same window-major order
    NumPy's twin takes for these arrays), otherwise two sums on the real
    and imaginary views.
    """
    if x6.dtype.kind == "c" and cols9.dtype == x6.dtype and \
            _backend.for_accumulate(x6.real, cols9.real) is not _numpy:
        if _numpy._window_major(x6, cols9, spec):
            xr = x6.view(x6.real.dtype)
            cr = cols9.view(cols9.real.dtype)
            _backend.for_accumulate(xr, cr).accumulate(cr, xr, spec)
        else:
            for part in ("real", "imag"):
                xp, cp = getattr(x6, part), getattr(cols9, part)
                _backend.for_accumulate(xp, cp).accumulate(cp, xp, spec)
        return
    _backend.for_accumulate(x6, cols9).accumulate(cols9, x6, spec)


# --------------------------------------------------------------------------
# fold's dtype policy, padding modes and reduction
# --------------------------------------------------------------------------

def _sum_type(dtype):
    """The accumulator np.sum uses for ``dtype``: int64 for bool and signed
    integers, uint64 for unsigned, float32 for float16, else ``dtype``."""
    dtype = np.dtype(dtype)
    if dtype.kind in "bi":
        return np.dtype(np.int64)
    if dtype.kind == "u":
        return np.dtype(np.uint64)
    if dtype == np.float16:
        return np.dtype(np.float32)
    return dtype


def _check_dtype(dtype, reduction):
    """``dtype=`` of fold/col2im as an np.dtype (None stays None)."""
    if dtype is None:
        return None
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a numeric NumPy dtype, got {dtype!r}") from None
    if dt.kind not in "biufc":
        raise TypeError(f"dtype must be a numeric NumPy dtype, got {dt} ({dtype!r})")
    if reduction == "mean" and dt.kind not in "fc":
        raise ValueError(
            f"dtype must be a floating or complex dtype with reduction=\"mean\", got {dt}"
        )
    return dt.newbyteorder("=")


def _fold_dtypes(cols_dtype, dtype=None, reduction="sum", policy=True):
    """``(accumulator, result)`` dtypes of a fold of ``cols_dtype`` columns.

    With ``policy`` (fold, col2im in the torch layout) the sum is np.sum's:
    bool and signed integers in int64, unsigned in uint64, float16 in float32
    returned as float16, other types in their own.  Without it (the course
    layouts), the result keeps the dtype of the columns.  ``dtype`` chooses
    the result (and, float16 aside, the accumulator), as np.sum's does.
    "mean" of bool/integer columns returns float64.
    """
    cols_dtype = np.dtype(cols_dtype)
    if dtype is not None:
        return _sum_type(dtype) if dtype == np.float16 else dtype, dtype
    if not policy:
        return cols_dtype, cols_dtype
    acc = _sum_type(cols_dtype)
    if cols_dtype == np.float16:
        return acc, cols_dtype
    if reduction == "mean" and acc.kind in "iu":
        return acc, np.dtype(np.float64)
    return acc, acc


def _fold_options(padding_mode, reduction, dtype):
    mode = _padding.check_mode(padding_mode)
    reduction = _padding.check_reduction(reduction)
    return mode, reduction, _check_dtype(dtype, reduction)


def _unfold_options(padding_mode, value, dtype):
    """Checked ``(mode, value)`` of unfold/im2col; ``value`` cast to ``dtype``."""
    mode = _padding.check_mode(padding_mode, value)
    if mode == "constant":
        value = _padding.check_value(value, np.dtype(dtype).newbyteorder("="))
    return mode, value


@functools.lru_cache(maxsize=64)
def _mean_factors(spec, mode, pads, real):
    """The per-axis counts of :func:`._padding.coverage` as ``real`` vectors, read-only.

    An uncovered pixel has a zero factor and a zero sum: any divisor gives 0
    there, so each factor is clamped to 1.  Cached per geometry (a few
    vectors of the image's side lengths): computing them was a third of
    what ``reduction="mean"`` added to a small fold (4x32x32x32: ~60 of
    ~170 us).
    """
    factors = tuple(np.maximum(c, 1).astype(real) for c in _padding.coverage(spec, mode, pads))
    for f in factors:
        f.flags.writeable = False
    return factors


def _fold(cols, g, layout, out=None, mode="zeros", reduction="sum", dtype=None, policy=True):
    """fold/col2im of checked ``cols`` with a padding mode, a reduction and a dtype policy.

    Reading modes (reflect, replicate, circular) sum into an image of the
    padded size, fold its border back (:func:`._padding.fold_border`) and
    crop; "mean" divides by the separable count of :func:`._padding.coverage`.
    """
    cols = _native(cols)
    acc, res = _fold_dtypes(cols.dtype, dtype, reduction, policy)
    shape = check_alloc(g.image_shape(), res, "output")
    if out is None:
        x = _memory.empty(shape, res)
    else:
        x = _check_out(out, shape, res, cols, "cols",
                       None if res == cols.dtype else f"fold's result type for {cols.dtype} cols")
    if x.size == 0:
        return x
    if cols.size == 0:
        x[...] = 0
        return x
    if np.promote_types(acc, cols.dtype) != acc:
        cols = cols.astype(acc)  # e.g. float cols with dtype=int64: np.sum casts first too
    spec = g.kernel_spec()
    x6 = _image_view(x, g, layout)
    lead = 3 - g.d
    reading = mode in _padding.READING_MODES and any(lo or hi for lo, hi in g.pad)
    if reading:
        size = tuple(s + lo + hi for s, (lo, hi) in zip(g.size, g.pad))
        gp = g._replace(size=size, pad=((0, 0),) * g.d)
        work = np.empty(check_alloc(gp.image_shape(), acc, "output"), dtype=acc)
        w6, cols9 = _views(work, cols, gp, layout)
        _sum_into(cols9, w6, gp.kernel_spec())
        for a, (n, (lo, hi)) in enumerate(zip(g.size, g.pad)):
            axis = 2 + lead + a
            _padding.fold_border(w6, axis, n, lo, hi, mode)
            w6 = w6[_padding._along(6, axis, slice(lo, lo + n))]
        inner6 = w6
    elif acc == res:
        x6, cols9 = _views(x, cols, g, layout)
        _sum_into(cols9, x6, spec)
        inner6 = x6
    else:
        work = np.empty(shape, dtype=acc)
        inner6, cols9 = _views(work, cols, g, layout)
        _sum_into(cols9, inner6, spec)
    if reduction == "mean":
        pads = ((0, 0),) * lead + tuple(g.pad)
        real = np.dtype(np.float64) if acc.kind in "biu" else np.dtype(acc.type(0).real.dtype)
        c0, c1, c2 = _mean_factors(spec, mode, pads, real)
        count = np.multiply.outer(np.multiply.outer(c0, c1), c2)[None, None, :, :, :, None]
        with np.errstate(invalid="ignore", over="ignore"):
            np.divide(inner6, count, out=x6, casting="unsafe")
    elif inner6 is not x6:
        np.copyto(x6, inner6, casting="unsafe")
    return x


def backend_for(dtype: DTypeLike, operation: str = "unfold") -> str:
    """``"c"`` or ``"numpy"``: which kernels run ``operation`` on data of ``dtype`` now.

    ``im2col_ext.backend`` names the active backend; this says whether a
    given dtype actually takes its compiled path (aligned arrays assumed;
    non-native byte order is converted first, so it answers as native).

    Parameters
    ----------
    dtype : dtype of ``x`` (unfold) or of ``cols`` (fold)
    operation : {"unfold", "im2col", "fold", "col2im"}
        "unfold"/"im2col" is a gather (any layout, any padding mode: the
        compiled gathers take the mode); "fold"/"col2im" the sum of
        :func:`fold` with its default accumulator (np.sum's).
    """
    dt = np.dtype(dtype).newbyteorder("=")
    if operation in ("unfold", "im2col"):
        gather = True
    elif operation in ("fold", "col2im"):
        gather = False
    else:
        raise ValueError(
            f"operation must be one of ('unfold', 'im2col', 'fold', 'col2im'), got {operation!r}"
        )
    active = _backend.active
    if active is _numpy:
        return "numpy"
    if gather:
        return "c" if dt.itemsize in active.GATHER_ITEMSIZES else "numpy"
    acc = _sum_type(dt).newbyteorder("=")
    src = dt if np.promote_types(acc, dt) == acc else acc
    if acc.kind == "c" and src == acc:
        acc = src = np.dtype(acc.type(0).real.dtype)
    return "c" if (src.str, acc.str) in active.ACCUMULATE_PAIRS else "numpy"


def _check_cols(cols, expected, name="cols"):
    if cols.shape == tuple(expected):
        return
    if cols.ndim == 2 and cols.shape == tuple(expected)[::-1]:
        raise ValueError(
            f"{name} looks transposed: got shape {cols.shape}, expected "
            f"{tuple(expected)} (rows = C*field_height*field_width, one column "
            f"per window and image); pass {name}.T"
        )
    raise ValueError(
        f"{name} has shape {cols.shape}, expected {tuple(expected)} for these "
        "image shape and window parameters"
    )


# --------------------------------------------------------------------------
# modern API
# --------------------------------------------------------------------------

def _image_window(x_shape, kernel_size, stride, padding, dilation, channel_axis, batched=True,
                  name="x"):
    """The Window of an image of shape ``x_shape`` (batched: d+2 dims); ``name`` for messages."""
    ndim = len(x_shape)
    d = spatial_rank(kernel_size, ndim + (0 if batched else 1))
    channel_axis = as_channel_axis(channel_axis)
    want = d + 2 if batched else d + 1
    if ndim != want:
        what = "batched " if batched else ""
        got = f"shape {tuple(x_shape)}" if name == "x" else f"{tuple(x_shape)}"
        raise ValueError(
            f"{name} must be {want}-D for {d}-D windows ({what}(N, C, *spatial) or "
            f"(N, *spatial, C)), got {got}; the spatial rank comes from len(kernel_size)"
        )
    if channel_axis == 1:
        n, c, size = x_shape[0], x_shape[1], tuple(x_shape[2:])
    else:
        n, c, size = x_shape[0], x_shape[-1], tuple(x_shape[1:-1])
    return window(n, c, size, kernel_size, stride, padding, dilation,
                  channel_axis=channel_axis)


def _check_2d_layout(layout, g):
    if layout != "torch" and (g.d != 2 or g.channel_axis != 1):
        raise ValueError(
            f"layout {layout!r} is 2-D and channels-first only (got {g.d}-D windows, "
            f"channel_axis={g.channel_axis}); use layout=\"torch\""
        )


def im2col(x: ArrayLike, kernel_size: IntOrSeq, stride: IntOrSeq = 1, padding: Padding = 0,
           dilation: IntOrSeq = 1, layout: str = "torch", *, channel_axis: int = 1,
           padding_mode: str = "zeros", value: Any = None, out: Optional[Array] = None) -> Array:
    """Columns of every sliding window of a batched ``x`` in the given layout.

    Parameters
    ----------
    x : ndarray, shape (N, C, *spatial) or, with ``channel_axis=-1``, (N, *spatial, C)
        One, two or three spatial axes: the rank is ``len(kernel_size)``
        (an int kernel_size means 2-D for 4-D x and 3-D for 5-D x).
    kernel_size, stride, dilation : int or tuple of ints
    padding : int, tuple of ints or (low, high) pairs, "valid" or "same"
    layout : {"torch", "cs231n", "6d"}
        See the module docstring; "cs231n" and "6d" are 2-D, channels-first.
    channel_axis : {1, -1}
    padding_mode, value : see :func:`unfold`
    out : ndarray, optional
        A C-contiguous array of the result's shape and dtype to write into
        (saves the allocation, whose page faults cost as much as the
        gather itself for large columns).

    Returns
    -------
    cols : ndarray of ``x.dtype`` (``out`` when given)
    """
    layout = _layout(layout)
    x = as_array(x, "x")
    mode, value = _unfold_options(padding_mode, value, x.dtype)
    g = _image_window(x.shape, kernel_size, stride, padding, dilation, channel_axis)
    _check_2d_layout(layout, g)
    _padding.check_pads(g, mode)
    return _gather(x, g, layout, out, mode, value)


def col2im(cols: ArrayLike, x_shape: Sequence[int], kernel_size: IntOrSeq, stride: IntOrSeq = 1,
           padding: Padding = 0, dilation: IntOrSeq = 1, layout: str = "torch", *,
           channel_axis: int = 1, padding_mode: str = "zeros", reduction: str = "sum",
           dtype: DTypeLike = None, out: Optional[Array] = None) -> Array:
    """Adjoint of :func:`im2col`: sum every column element back into an image of shape ``x_shape``.

    ``padding_mode``, ``reduction`` and ``dtype`` are those of :func:`fold`.
    In the torch layout the result type follows :func:`fold` (np.sum's
    accumulator); the course layouts "cs231n" and "6d" keep the dtype of
    ``cols`` (integer sums wrap around) unless ``dtype`` is given.
    ``out``, if given, is a C-contiguous array of shape ``x_shape`` and the
    result's dtype that is overwritten with the result.
    """
    layout = _layout(layout)
    cols = as_array(cols, "cols")
    mode, reduction, dtype = _fold_options(padding_mode, reduction, dtype)
    if isinstance(x_shape, (str, bytes)) or x_shape is None:
        raise TypeError(f"x_shape must be a sequence of ints, got {x_shape!r}")
    try:
        ndim = len(x_shape)
    except TypeError:
        raise TypeError(f"x_shape must be a sequence of ints, got {type(x_shape).__name__}") from None
    shape = as_shape(x_shape, "x_shape", ndim)
    g = _image_window(shape, kernel_size, stride, padding, dilation, channel_axis,
                      name="x_shape")
    _check_2d_layout(layout, g)
    _padding.check_pads(g, mode)
    _check_cols(cols, _cols_shape(g, layout))
    return _fold(cols, g, layout, out, mode, reduction, dtype, policy=layout == "torch")


def unfold(x: ArrayLike, kernel_size: IntOrSeq, dilation: IntOrSeq = 1, padding: Padding = 0,
           stride: IntOrSeq = 1, *, channel_axis: int = 1, padding_mode: str = "zeros",
           value: Any = None, out: Optional[Array] = None) -> Array:
    """``torch.nn.functional.unfold`` on NumPy arrays, for 1-D, 2-D and 3-D windows.

    Parameters
    ----------
    x : ndarray
        Channels first (``channel_axis=1``): (N, C, *spatial) or unbatched
        (C, *spatial); channels last (``channel_axis=-1``): (N, *spatial, C)
        or (*spatial, C).  The spatial rank is ``len(kernel_size)``; an int
        kernel_size means 2-D for 3-D/4-D x and 3-D for 5-D x.
    kernel_size, dilation, stride : int or tuple of ints (one per spatial axis)
    padding : int, tuple of ints or (low, high) pairs, "valid" or "same"
        "same" is TensorFlow's rule: ``ceil(size / stride)`` windows per axis,
        the extra padding on the high side when odd.
    channel_axis : {1, -1}
    padding_mode : {"zeros", "constant", "reflect", "replicate", "circular"}
        What the padding reads (torch's names): zeros; ``value``; the input
        mirrored without repeating the edge (numpy.pad's "reflect", padding
        smaller than the input on every axis); the edge pixel (numpy.pad's
        "edge"); the input wrapped around (numpy.pad's "wrap", padding at
        most the input size).  No padded copy of ``x`` is made: the compiled
        gather reads each padding tap through the mode's index map (the
        NumPy backend rewrites the border taps after a zero-padded gather);
        both give the same bits.
    value : scalar, optional
        The fill of ``padding_mode="constant"`` (default 0); it must be
        representable in ``x.dtype`` exactly (ValueError otherwise) and is
        refused with any other mode.
    out : ndarray, optional
        C-contiguous, of the result's shape and dtype: written and returned.

    Returns
    -------
    ndarray
        Channels first: (N, C*K, L) or (C*K, L), rows ordered (c, k0, k1, ...)
        as torch.  Channels last: (N, L, K*C) or (L, K*C), C fastest then the
        kernel offsets row-major (tf.image.extract_patches' layout).
        ``K = prod(kernel_size)``, ``L`` = number of windows (row-major).
        The dtype of ``x``.
    """
    x = as_array(x, "x")
    mode, value = _unfold_options(padding_mode, value, x.dtype)
    d = spatial_rank(kernel_size, x.ndim)
    batched = x.ndim == d + 2
    if not batched and x.ndim != d + 1:
        raise ValueError(
            f"x must be {d + 2}-D (batched) or {d + 1}-D (unbatched) for {d}-D windows, "
            f"got shape {x.shape}; the spatial rank comes from len(kernel_size)"
        )
    xb = x if batched else x[None]
    g = _image_window(xb.shape, kernel_size, stride, padding, dilation, channel_axis)
    _padding.check_pads(g, mode)
    if out is not None and not batched:
        check_array(out, "out", 2)
        _gather(xb, g, "torch", out[None], mode, value)
        return out
    cols = _gather(xb, g, "torch", out, mode, value)
    return cols if batched else cols[0]


def fold(cols: ArrayLike, output_size: IntOrSeq, kernel_size: IntOrSeq, dilation: IntOrSeq = 1,
         padding: Padding = 0, stride: IntOrSeq = 1, *, channel_axis: int = 1,
         padding_mode: str = "zeros", reduction: str = "sum", dtype: DTypeLike = None,
         out: Optional[Array] = None) -> Array:
    """``torch.nn.functional.fold`` on NumPy arrays (the adjoint of :func:`unfold`), 1-D to 3-D.

    Parameters
    ----------
    cols : ndarray
        Channels first: (N, C*K, L) or unbatched (C*K, L); channels last:
        (N, L, K*C) or (L, K*C) (see :func:`unfold`).
    output_size : int or tuple of ints, the spatial size of the image
    kernel_size, dilation, padding, stride, channel_axis : as :func:`unfold`
        The spatial rank is ``len(kernel_size)``, else ``len(output_size)``,
        else 2.
    padding_mode : {"zeros", "constant", "reflect", "replicate", "circular"}
        The mode :func:`unfold` read the columns with.  fold is its exact
        adjoint: a column element read from a mirrored, edge or wrapped
        position is added back to the pixel it was read from; "zeros" and
        "constant" drop the padding taps.
    reduction : {"sum", "mean"}
        "mean" divides every pixel by the number of column elements added
        into it (under ``padding_mode``), so ``fold(unfold(x), ...,
        reduction="mean")`` gives back ``x`` wherever a window covers it;
        uncovered pixels are 0.  The count is separable (a product of 1-D
        counts), so "mean" costs one extra pass over the image.
    dtype : dtype, optional
        The result type, and the accumulator, as np.sum's ``dtype``.  By
        default the sum is np.sum's: bool and signed integers in int64,
        unsigned in uint64, float16 in float32 (returned as float16), floats
        and complex in their own type.  "mean" of bool/integer columns
        returns float64, and its ``dtype`` must be floating or complex.
    out : ndarray, optional
        C-contiguous, of the result's shape and dtype: written and returned.

    Returns
    -------
    ndarray, (N, C, *output_size) or (N, *output_size, C) (unbatched without
    N), of the dtype described under ``dtype``.
    """
    cols = as_array(cols, "cols", (2, 3))
    mode, reduction, dtype = _fold_options(padding_mode, reduction, dtype)
    channel_axis = as_channel_axis(channel_axis)
    d = spatial_rank(kernel_size, output_size=output_size)
    batched = cols.ndim == 3
    c3 = cols if batched else cols[None]
    size = as_ints(output_size, "output_size", d, 1)
    kernel = as_ints(kernel_size, "kernel_size", d, 1)
    K = 1
    for k in kernel:
        K *= k
    n = c3.shape[0]
    rows, length = (c3.shape[1], c3.shape[2]) if channel_axis == 1 else (c3.shape[2], c3.shape[1])
    axis = (1 if batched else 0) if channel_axis == 1 else (2 if batched else 1)
    if rows % K:
        raise ValueError(
            f"cols dimension {axis} is {rows}, which is not divisible by the kernel "
            f"size {'*'.join(map(str, kernel))} = {K}"
        )
    g = window(n, rows // K, size, kernel, stride, padding, dilation, channel_axis=channel_axis)
    if length != g.L:
        where = "last dimension" if channel_axis == 1 else f"dimension {axis - 1}"
        raise ValueError(
            f"cols has {length} windows ({where}), but output_size {size} "
            f"with these parameters gives {'*'.join(map(str, g.out))} = {g.L}"
        )
    _padding.check_pads(g, mode)
    if out is not None and not batched:
        check_array(out, "out", d + 1)
        _fold(c3, g, "torch", out[None], mode, reduction, dtype)
        return out
    x = _fold(c3, g, "torch", out, mode, reduction, dtype)
    return x if batched else x[0]


# --------------------------------------------------------------------------
# cs231n im2col.py
# --------------------------------------------------------------------------

def _cs231n_geometry(x_shape, field_height, field_width, padding, stride):
    n, c, h, w = as_shape(x_shape, "x_shape")
    fh, fw = _field(field_height, field_width)
    p = as_int(padding, "padding", 0)
    s = as_int(stride, "stride", 1)
    return conv_geometry(n, c, h, w, (fh, fw), s, p, 1)


def get_im2col_indices(x_shape: Sequence[int], field_height: int, field_width: int,
                       padding: int = 1, stride: int = 1,
                       verbose: Any = 0) -> Tuple[Array, Array, Array]:
    """cs231n's index triple ``(k, i, j)``: ``x_padded[:, k, i, j]`` gathers every window.

    ``k`` has shape ``(C*fh*fw, 1)``; ``i`` and ``j`` have shape
    ``(C*fh*fw, oh*ow)``.  Non-divisible shapes are floored.
    """
    g = _cs231n_geometry(x_shape, field_height, field_width, padding, stride)
    row = np.arange(g.c * g.kh * g.kw, dtype=np.int64)
    ky = (row // g.kw) % g.kh
    kx = row % g.kw
    col = np.arange(g.oh * g.ow, dtype=np.int64)
    oy = col // g.ow
    ox = col % g.ow
    k = (row // (g.kh * g.kw)).reshape(-1, 1)
    i = ky[:, None] + g.sh * oy[None, :]
    j = kx[:, None] + g.sw * ox[None, :]
    return k, i, j


def im2col_indices(x: Array, field_height: int, field_width: int, padding: int = 1,
                   stride: int = 1, verbose: Any = False, *,
                   out: Optional[Array] = None) -> Array:
    """cs231n's ``im2col_indices``: columns ``(C*fh*fw, oh*ow*N)``, the batch fastest.

    ``out`` (an extension): a C-contiguous array of that shape and
    ``x.dtype`` to write into.
    """
    check_array(x, "x", 4)
    g = _cs231n_geometry(x.shape, field_height, field_width, padding, stride)
    return _gather(x, g, "cs231n", out)


def col2im_indices(cols: Array, x_shape: Sequence[int], field_height: int = 3,
                   field_width: int = 3, padding: int = 1, stride: int = 1,
                   verbose: Any = False, *, out: Optional[Array] = None) -> Array:
    """cs231n's ``col2im_indices``: the adjoint of :func:`im2col_indices`.

    Returns an array of shape ``x_shape`` and the dtype of ``cols``.  ``cols``
    must have exactly the shape ``(C*fh*fw, oh*ow*N)``.  ``out`` (an
    extension): a C-contiguous array of shape ``x_shape`` to write into.
    """
    check_array(cols, "cols", 2)
    g = _cs231n_geometry(x_shape, field_height, field_width, padding, stride)
    _check_cols(cols, _cols_shape(g, "cs231n"))
    return _accumulate(cols, g, "cs231n", out)


# --------------------------------------------------------------------------
# pooling primitives (used by layers and cs231n.fast_layers)
# --------------------------------------------------------------------------

def _pool_geometry(x_shape, kernel_size, stride, padding, dilation, names=None):
    """Checked geometry of a pooling window over an (N, C, H, W) input."""
    n, c, h, w = x_shape
    names = names or ("kernel_size", "stride", "padding", "dilation")
    return conv_geometry(n, c, h, w, kernel_size, stride, padding, dilation, names=names)


def _max_pool_forward(x, g):
    """``(out, argmax)`` of a checked float (N, C, H, W) ``x``; argmax is ``iy*W + ix``."""
    x = _native(x)
    shape = check_alloc((g.n, g.c, g.oh, g.ow), x.dtype, "out")
    out = np.empty(shape, dtype=x.dtype)
    argmax = np.empty(shape, dtype=np.int64)
    if out.size:
        _backend.kernels(x.dtype, x).max_pool_forward(x, out, argmax, g)
    return out, argmax


def _max_pool_scatter(dout, argmax, g):
    """dx of shape (N, C, H, W): ``dout`` added at the in-plane ``argmax`` positions."""
    dout = np.ascontiguousarray(_native(dout))
    argmax = np.ascontiguousarray(argmax, dtype=np.int64)
    if dout.size == 0:
        return np.zeros((g.n, g.c, g.h, g.w), dtype=dout.dtype)
    dx = np.empty((g.n, g.c, g.h, g.w), dtype=dout.dtype)
    _backend.kernels(dout.dtype, dout).max_pool_scatter(dout, argmax, dx, g)
    return dx


def _max_pool_tie_scatter(x, out, dout, g, dtype):
    """dx (N, C, H, W) of ``dtype`` where every tied maximum of a window shares its gradient.

    The backward pass of cs231n's reshape max pool: for each window, with
    ``o`` its maximum in ``out``, the taps equal to ``o`` (or NaN when ``o``
    is) each get ``dout / count`` (see ``i2c_max_pool_tie_scatter``).
    """
    dout = np.ascontiguousarray(_native(dout), dtype=dtype)
    out = np.ascontiguousarray(_native(out))
    dx = np.empty((g.n, g.c, g.h, g.w), dtype=dtype)
    if dx.size == 0:
        return dx
    if x.dtype != dtype or out.dtype != dtype:
        kernels = _numpy  # integer x: the compiled kernels want one float dtype
    else:
        kernels = _backend.kernels(dtype, x, out, dout)
    kernels.max_pool_tie_scatter(x, out, dout, dx, g)
    return dx


def _avg_pool_forward(x, g):
    """Window means (padding counted as zeros, divisor ``kh*kw``)."""
    x = _native(x)
    out = np.empty(check_alloc((g.n, g.c, g.oh, g.ow), x.dtype, "out"), dtype=x.dtype)
    if out.size:
        _backend.kernels(x.dtype, x).avg_pool_forward(x, out, g)
    return out


def _avg_pool_scatter(dout, g):
    """Gradient of :func:`_avg_pool_forward`."""
    dout = np.ascontiguousarray(_native(dout))
    if dout.size == 0:
        return np.zeros((g.n, g.c, g.h, g.w), dtype=dout.dtype)
    dx = np.empty((g.n, g.c, g.h, g.w), dtype=dout.dtype)
    _backend.kernels(dout.dtype, dout).avg_pool_scatter(dout, dx, g)
    return dx


# --------------------------------------------------------------------------
# depthwise convolution (used by layers.conv*d with groups == C)
# --------------------------------------------------------------------------

def _depthwise_shapes(win):
    """The kernels' shapes ``(x6, out6, w3)`` of ``win``'s images, outputs and taps.

    ``x6`` ``(n, c, s0, s1, s2, v)``, ``out6`` ``(n, c, o0, o1, o2, v)``,
    ``w3`` ``(c, K, v)``: channels first ``c = C, v = 1``, channels last
    ``c = 1, v = C`` (src_c/depthwise.h); 1-D and 2-D windows get leading
    unit axes.
    """
    lead = (1,) * (3 - win.d)
    size3, out3 = lead + win.size, lead + win.out
    if win.channel_axis == 1:
        return ((win.n, win.c) + size3 + (1,), (win.n, win.c) + out3 + (1,),
                (win.c, win.K, 1))
    return (win.n, 1) + size3 + (win.c,), (win.n, 1) + out3 + (win.c,), (1, win.K, win.c)


def _depthwise_taps(w, win):
    """The ``(C, K)`` taps as the kernels' contiguous ``w3``: ``(C, K, 1)``, or ``(1, K, C)`` channels last."""
    if win.channel_axis == 1:
        return np.ascontiguousarray(w).reshape(win.c, win.K, 1)
    return np.ascontiguousarray(w.T).reshape(1, win.K, win.c)


def _depthwise_forward(x, w, b, win, out):
    """Depthwise convolution with zero padding of a checked batch ``x``, plus ``b``, into ``out``.

    ``x``: the images of ``win`` (``(N, C, *size)`` or ``(N, *size, C)``;
    ``N = x.shape[0]``, ``win.n`` is not used), any strides; ``w``: the
    ``(C, K)`` taps (torch's ``(C, 1, *kernel)`` weight reshaped), of
    ``x.dtype``; ``b``: the ``(C,)`` bias of ``x.dtype``, or None;
    ``out``: C-contiguous, ``x.dtype``, the output images' elements in
    their memory order (``(N, C, L)`` or ``(N, L, C)`` will do), overwritten.  The C kernel (src_c/depthwise.h) when the compiled backend
    serves the dtype (float32, float64), else the NumPy twin; both take
    contiguous arrays, so strided inputs are copied here first.
    """
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    if out.size == 0:
        return
    win = win._replace(n=x.shape[0])
    xshape, oshape, wshape = _depthwise_shapes(win)
    x6 = np.ascontiguousarray(_native(x)).reshape(xshape)
    w3 = _depthwise_taps(_native(w), win)
    out6 = out.reshape(oshape)                       # a view: out is contiguous
    b2 = None if b is None else np.ascontiguousarray(_native(b)).reshape(wshape[0], wshape[2])
    arrays = (x6, w3, out6) + (() if b2 is None else (b2,))
    _backend.kernels(x6.dtype, *arrays).depthwise_forward(x6, w3, b2, out6, win.kernel_spec())


def _depthwise_backward(x, w, dout, win, dx):
    """Gradients of :func:`_depthwise_forward` for ``dout``: writes ``dx``, returns ``dw`` ``(C, K)``.

    ``x`` and ``w`` as there; ``dout`` laid out as ``out`` there (any
    strides); ``dx`` C-contiguous of ``x``'s shape and dtype, overwritten.
    ``dw`` has the dtype of ``x``.
    """
    if not dx.flags.c_contiguous:
        raise ValueError("dx must be C-contiguous")
    win = win._replace(n=x.shape[0])
    xshape, oshape, wshape = _depthwise_shapes(win)
    x6 = np.ascontiguousarray(_native(x)).reshape(xshape)
    w3 = _depthwise_taps(_native(w), win)
    d6 = np.ascontiguousarray(_native(dout)).reshape(oshape)
    dx6 = dx.reshape(xshape)                         # a view: dx is contiguous
    dw3 = np.empty(wshape, dtype=x6.dtype)
    _backend.kernels(x6.dtype, x6, w3, d6, dx6).depthwise_backward(
        x6, w3, d6, dx6, dw3, win.kernel_spec())
    return dw3.reshape(win.c, win.K) if win.channel_axis == 1 else dw3.reshape(win.K, win.c).T


__all__ = [
    "Geometry",
    "LAYOUTS",
    "backend_for",
    "im2col",
    "col2im",
    "unfold",
    "fold",
    "get_im2col_indices",
    "im2col_indices",
    "col2im_indices",
]
