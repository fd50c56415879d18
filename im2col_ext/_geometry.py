"""Argument checking and shape arithmetic shared by every public entry point.

Nothing here touches array data.  The public API (``_api.py``, ``layers.py``,
the ``cs231n`` mirror) calls these helpers to turn user arguments into a
:class:`Geometry`, a plain tuple of Python ints that both backends receive
unchanged.  Every check raises ``TypeError`` or ``ValueError`` naming the
argument, so no unchecked value can ever reach a C loop.
"""

import operator
from collections import namedtuple

import numpy as np

__all__ = [
    "Geometry",
    "as_int",
    "as_pair",
    "as_shape",
    "check_array",
    "conv_geometry",
    "out_size",
    "check_alloc",
]

#: Everything a kernel needs besides the data pointers and strides.
#: The image is viewed as ``(n, c, h, w, v)``; the columns as
#: ``(n, c, kh, kw, oh, ow, v)``.  ``v`` is an innermost "vector" axis that is
#: 1 for the torch layout and the batch size for the cs231n layout.
Geometry = namedtuple(
    "Geometry",
    "n c h w v kh kw oh ow sh sw ph pw dh dw",
)

_INT64_MAX = 2**63 - 1
_INDEX_LIMIT = 2**62


def as_int(value, name, minimum=None):
    """Return ``value`` as a Python int, or raise naming ``name``.

    Python and NumPy integers are accepted; ``bool``, floats (even integral
    ones), ``None`` and strings are rejected with ``TypeError``.
    """
    if isinstance(value, (bool, np.bool_)) or value is None:
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, (float, np.floating, complex, np.complexfloating)):
        raise TypeError(f"{name} must be an integer, got float {value!r}")
    try:
        result = operator.index(value)
    except TypeError:
        raise TypeError(
            f"{name} must be an integer, got {type(value).__name__} {value!r}"
        ) from None
    if minimum is not None and result < minimum:
        what = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{name} must be {what}, got {result}")
    if result > _INT64_MAX:
        raise ValueError(f"{name} is too large: {result}")
    return result


def as_pair(value, name, minimum=None):
    """Return ``value`` (an int or a pair of ints) as a tuple of two ints."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(
                f"{name} must be an int or a pair of ints, got {len(value)} values"
            )
        return (
            as_int(value[0], f"{name}[0]", minimum),
            as_int(value[1], f"{name}[1]", minimum),
        )
    v = as_int(value, name, minimum)
    return (v, v)


def as_shape(value, name, length=4):
    """Return a sequence of ``length`` ints (tuple, list, torch.Size, int ndarray)."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a sequence of {length} ints, got {value!r}")
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got an array of shape {value.shape}")
        if value.dtype.kind not in "iu":
            raise TypeError(f"{name} must hold integers, got dtype {value.dtype}")
        value = value.tolist()
    try:
        items = list(value)
    except TypeError:
        raise TypeError(
            f"{name} must be a sequence of {length} ints, got {type(value).__name__}"
        ) from None
    if len(items) != length:
        raise ValueError(f"{name} must have {length} entries, got {len(items)}: {tuple(items)}")
    return tuple(as_int(v, f"{name}[{i}]", 0) for i, v in enumerate(items))


def out_size(size, kernel, stride, pad, dilation, axis):
    """Number of window positions along one axis (floored, like torch)."""
    span = dilation * (kernel - 1) + 1
    padded = size + 2 * pad
    if padded + span + stride > _INDEX_LIMIT:
        # Keeps every index the kernels compute (sums of these) inside int64.
        raise ValueError(
            f"window parameters along {axis} are too large: size {size}, padding {pad}, "
            f"kernel {kernel}, dilation {dilation}, stride {stride}"
        )
    if span > padded:
        raise ValueError(
            f"kernel does not fit along {axis}: effective kernel size {span} "
            f"(kernel {kernel}, dilation {dilation}) is larger than the padded "
            f"input size {padded} (size {size} + 2*padding {pad})"
        )
    return (padded - span) // stride + 1


def check_array(x, name, ndim=None, kinds="biufc"):
    """Check that ``x`` is an ndarray of a supported dtype and rank."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    if x.dtype.kind not in kinds:
        raise TypeError(f"{name} has unsupported dtype {x.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got shape {x.shape}")
    return x


def check_alloc(shape, dtype, name):
    """Reject an output whose byte size overflows 64 bits before allocating it."""
    total = np.dtype(dtype).itemsize
    for s in shape:
        total *= int(s)
    if total > _INT64_MAX:
        raise ValueError(
            f"{name} would need {total} bytes ({tuple(shape)} of {np.dtype(dtype)}), "
            "more than a 64-bit size can address"
        )
    return tuple(int(s) for s in shape)


def conv_geometry(n, c, h, w, kernel_size, stride, padding, dilation, v=1,
                  names=("kernel_size", "stride", "padding", "dilation")):
    """Validate window parameters and return the :class:`Geometry`.

    ``names`` are the user-facing argument names, used in error messages.
    """
    kh, kw = as_pair(kernel_size, names[0], 1)
    sh, sw = as_pair(stride, names[1], 1)
    ph, pw = as_pair(padding, names[2], 0)
    dh, dw = as_pair(dilation, names[3], 1)
    if h < 1 or w < 1:
        raise ValueError(f"input height and width must be positive, got {h}x{w}")
    oh = out_size(h, kh, sh, ph, dh, "height")
    ow = out_size(w, kw, sw, pw, dw, "width")
    return Geometry(n, c, h, w, v, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw)
