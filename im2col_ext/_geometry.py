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


# --- layer geometry ---
# Window arithmetic of im2col_ext.layers: spatial rank and channel axis of a
# layer input, conv padding (ints, (low, high) pairs, "valid", "same"),
# groups, pooling output sizes with ceil_mode, the transposed convolution's
# output size and the unpooling output size.  Everything is checked here with
# errors naming the argument; the layers only move data.

import math  # noqa: E402  (kept inside this section for a trivial merge)

LayerWindow = namedtuple(
    "LayerWindow", "n c size kernel stride dilation pad out channel_axis"
)
LayerWindow.__doc__ = """\
A d-dimensional sliding window over a batch ``(n, c, *size)`` (``channel_axis=1``)
or ``(n, *size, c)`` (``channel_axis=-1``): per-axis ``kernel``, ``stride``,
``dilation``, ``pad`` ((low, high) pairs) and window counts ``out``.
"""
LayerWindow.d = property(lambda self: len(self.size))
LayerWindow.K = property(lambda self: math.prod(self.kernel))
LayerWindow.L = property(lambda self: math.prod(self.out))
LayerWindow.P = property(lambda self: math.prod(self.size))


def layer_channel_axis(channel_axis):
    """``channel_axis`` checked: 1 (channels first) or -1 (channels last)."""
    if isinstance(channel_axis, (bool, np.bool_)) or channel_axis not in (1, -1):
        raise ValueError(
            f"channel_axis must be 1 (channels first) or -1 (channels last), "
            f"got {channel_axis!r}"
        )
    return int(channel_axis)


def layer_split(shape, channel_axis):
    """``(n, c, spatial size)`` of a batched layer input of ``shape``."""
    if channel_axis == 1:
        return shape[0], shape[1], tuple(shape[2:])
    return shape[0], shape[-1], tuple(shape[1:-1])


def layer_join(n, c, size, channel_axis):
    """The batched array shape of ``n`` images of ``c`` channels and spatial ``size``."""
    if channel_axis == 1:
        return (n, c) + tuple(size)
    return (n,) + tuple(size) + (c,)


_TUPLE_NAMES = {1: "1-tuple of ints", 2: "pair of ints", 3: "triple of ints"}


def as_tuple(value, d, name, minimum=None):
    """Return ``value`` (an int or a sequence of ``d`` ints) as a ``d``-tuple of ints."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != d:
            raise ValueError(
                f"{name} must be an int or a {_TUPLE_NAMES[d]}, got {len(value)} values"
            )
        return tuple(as_int(v, f"{name}[{i}]", minimum) for i, v in enumerate(value))
    v = as_int(value, name, minimum)
    return (v,) * d


def layer_padding(padding, d, size=None, kernel=None, stride=None, dilation=None,
                  name="padding", strings=True):
    """Padding as a ``d``-tuple of ``(low, high)`` pairs.

    ``padding`` is an int, a ``d``-sequence whose entries are ints or
    ``(low, high)`` pairs, or (when ``strings``) ``"valid"`` or ``"same"``
    (TensorFlow's rule for any stride: ``out = ceil(in / stride)``, the total
    padding ``max((out-1)*stride + (k-1)*dilation + 1 - in, 0)`` split with
    the odd unit high).
    """
    if isinstance(padding, str):
        if not strings:
            raise ValueError(
                f"{name} must be an int or a sequence of ints; {padding!r} is not "
                "defined here"
            )
        if padding == "valid":
            return ((0, 0),) * d
        if padding == "same":
            pads = []
            for i, k, s, dl in zip(size, kernel, stride, dilation):
                o = -(-i // s)
                total = max((o - 1) * s + (k - 1) * dl + 1 - i, 0)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise ValueError(f"{name} must be 'valid', 'same', an int or a sequence, got {padding!r}")
    if isinstance(padding, np.ndarray) and padding.ndim == 0:
        padding = padding[()]
    if not isinstance(padding, (tuple, list, np.ndarray)):
        p = as_int(padding, name, 0)
        return ((p, p),) * d
    if len(padding) != d:
        hint = ""
        if d == 1 and len(padding) == 2:
            hint = "; for (low, high) padding of a 1-D window write ((low, high),)"
        raise ValueError(
            f"{name} must be an int or a sequence of {d} entries, got {len(padding)}{hint}"
        )
    pads = []
    for i, p in enumerate(padding):
        if isinstance(p, (tuple, list, np.ndarray)):
            if len(p) != 2:
                raise ValueError(f"{name}[{i}] must be an int or a (low, high) pair, got {p!r}")
            pads.append((as_int(p[0], f"{name}[{i}][0]", 0), as_int(p[1], f"{name}[{i}][1]", 0)))
        else:
            v = as_int(p, f"{name}[{i}]", 0)
            pads.append((v, v))
    return tuple(pads)


def _window_out(i, k, s, pad, dl, axis):
    lo, hi = pad
    span = dl * (k - 1) + 1
    padded = i + lo + hi
    if padded + span + s > _INDEX_LIMIT:
        raise ValueError(f"window parameters along axis {axis} are too large")
    if span > padded:
        raise ValueError(
            f"kernel does not fit along spatial axis {axis}: effective kernel size {span} "
            f"(kernel {k}, dilation {dl}) is larger than the padded input size {padded} "
            f"(size {i} + padding {lo} + {hi})"
        )
    return (padded - span) // s + 1


def layer_window(n, c, size, kernel, stride=1, padding=0, dilation=1, *, channel_axis=1,
                 names=("kernel_size", "stride", "padding", "dilation"), strings=True):
    """Checked :class:`LayerWindow` of a d-dimensional window (d = ``len(size)``)."""
    d = len(size)
    kernel = as_tuple(kernel, d, names[0], 1)
    stride = as_tuple(stride, d, names[1], 1)
    dilation = as_tuple(dilation, d, names[3], 1)
    if any(i < 1 for i in size):
        raise ValueError(f"the input's spatial size must be positive, got {tuple(size)}")
    pad = layer_padding(padding, d, size, kernel, stride, dilation, names[2], strings)
    out = tuple(_window_out(*a, axis) for axis, a in
                enumerate(zip(size, kernel, stride, pad, dilation)))
    return LayerWindow(n, c, tuple(size), kernel, stride, dilation, pad, out, channel_axis)


def layer_groups(groups, c_in, c_out=None, name_in="x channels", name_out="filters"):
    """``groups`` checked: a positive int dividing both channel counts."""
    g = as_int(groups, "groups", 1)
    if c_out is None:
        c_out = c_in
    if c_in % g or c_out % g:
        raise ValueError(
            f"groups={g} must divide both the input channels ({c_in}, {name_in}) "
            f"and the output channels ({c_out}, {name_out})"
        )
    return g


def pool_window(n, c, size, kernel_size, stride=None, padding=0, dilation=1,
                ceil_mode=False, *, channel_axis=1):
    """Checked :class:`LayerWindow` of a pooling layer, as torch sizes it.

    ``out = (in + 2p - dilation*(k-1) - 1 [+ stride-1 with ceil_mode]) // stride + 1``,
    and with ``ceil_mode`` the last window must start inside the input or the
    low padding (else it is dropped).  ``padding`` is at most half the kernel
    (torch's rule).  The returned ``pad`` holds the low padding and the high
    padding the last window needs (possibly more than ``padding`` with
    ``ceil_mode``, or less when the windows stop short of the end), so an
    unfold with that padding yields exactly ``out`` windows.
    """
    d = len(size)
    kernel = as_tuple(kernel_size, d, "kernel_size", 1)
    stride = kernel if stride is None else as_tuple(stride, d, "stride", 1)
    if isinstance(padding, str):
        raise ValueError(f"padding must be an int or a sequence of ints, got {padding!r}")
    pad = as_tuple(padding, d, "padding", 0)
    dilation = as_tuple(dilation, d, "dilation", 1)
    if not isinstance(ceil_mode, (bool, np.bool_, int)):
        raise TypeError(f"ceil_mode must be a bool, got {ceil_mode!r}")
    if any(p > k // 2 for p, k in zip(pad, kernel)):
        raise ValueError(
            f"padding should be at most half of kernel_size: got padding {pad} for "
            f"kernel_size {kernel} (limit {tuple(k // 2 for k in kernel)})"
        )
    if any(i < 1 for i in size):
        raise ValueError(f"the input's spatial size must be positive, got {tuple(size)}")
    out, pads = [], []
    for axis, (i, k, s, p, dl) in enumerate(zip(size, kernel, stride, pad, dilation)):
        span = dl * (k - 1) + 1
        if i + 2 * p + span + s > _INDEX_LIMIT:
            raise ValueError(f"window parameters along axis {axis} are too large")
        o = (i + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= i + p:
            o -= 1
        if o < 1:
            raise ValueError(
                f"kernel does not fit along spatial axis {axis}: effective kernel size "
                f"{span} (kernel {k}, dilation {dl}) is larger than the padded input "
                f"size {i + 2 * p} (size {i} + 2*padding {p})"
            )
        out.append(o)
        pads.append((p, max((o - 1) * s + span - i - p, 0)))
    return LayerWindow(n, c, tuple(size), kernel, stride, dilation, tuple(pads), tuple(out),
                       channel_axis)


def pool_divisors(win, padding, count_include_pad=True, divisor_override=None):
    """Per-window divisors of average pooling, shape ``win.out``, as torch computes them.

    A window is clipped to the input plus ``padding`` on each side (the
    extra ``ceil_mode`` window can reach beyond it); ``count_include_pad``
    counts the padded part of that, otherwise only the pixels of the input.
    ``divisor_override`` replaces them all.
    """
    if divisor_override is not None:
        v = as_int(divisor_override, "divisor_override", 1)
        return np.full(win.out, v, dtype=np.int64)
    total = np.ones((), dtype=np.int64)
    for axis, (i, k, s, (lo, _), o) in enumerate(zip(win.size, win.kernel, win.stride,
                                                     win.pad, win.out)):
        start = np.arange(o, dtype=np.int64) * s - lo
        end = np.minimum(start + k, i + padding[axis])
        if count_include_pad:
            cnt = end - start
        else:
            cnt = np.minimum(end, i) - np.maximum(start, 0)
        total = np.multiply.outer(total, cnt)
    return total


def conv_transpose_window(n, c_in, size, c_out, kernel, stride=1, padding=0,
                          output_padding=0, dilation=1, *, channel_axis=1):
    """``(out_size, window)`` of a transposed convolution, as torch sizes it.

    ``out = (in - 1)*stride - low - high + dilation*(k - 1) + output_padding + 1``
    per axis (torch's ``padding`` p is ``low = high = p``; ``(low, high)``
    pairs are accepted too, strings are not).  ``output_padding`` must be
    smaller than the stride or the dilation of its axis.  ``window`` is the
    convolution window over the output (``c_out`` channels) whose adjoint the
    transposed convolution is; its ``out`` is ``in`` plus the windows that
    an ``output_padding >= stride`` adds (no input pixel feeds those).
    """
    d = len(size)
    kernel = as_tuple(kernel, d, "kernel_size", 1)
    stride = as_tuple(stride, d, "stride", 1)
    dilation = as_tuple(dilation, d, "dilation", 1)
    pad = layer_padding(padding, d, name="padding", strings=False)
    opad = as_tuple(output_padding, d, "output_padding", 0)
    if any(i < 1 for i in size):
        raise ValueError(f"x must have a positive spatial size, got {tuple(size)}")
    out_size = []
    for axis, (i, k, s, (lo, hi), op, dl) in enumerate(
            zip(size, kernel, stride, pad, opad, dilation)):
        if not (op < s or op < dl):
            raise ValueError(
                f"output_padding must be smaller than either stride or dilation "
                f"(along spatial axis {axis}: output_padding {op}, stride {s}, dilation {dl})"
            )
        o = (i - 1) * s - lo - hi + dl * (k - 1) + op + 1
        if o < 1:
            raise ValueError(
                f"the transposed convolution's output size along spatial axis {axis} is "
                f"{o}, not positive (input {i}, kernel {k}, stride {s}, padding "
                f"{(lo, hi)}, dilation {dl})"
            )
        out_size.append(o)
    win = layer_window(n, c_out, tuple(out_size), kernel, stride, pad, dilation,
                       channel_axis=channel_axis)
    return tuple(out_size), win


def unpool_size(size, kernel_size, stride=None, padding=0, output_size=None):
    """``(kernel, stride, padding, output size)`` of max unpooling, as torch checks them.

    The default size is ``(in - 1)*stride + kernel - 2*padding``;
    ``output_size`` (d entries, or d + 2 with the batch and channel axes
    first, ignored) must lie strictly within ``stride`` of it.
    """
    d = len(size)
    kernel = as_tuple(kernel_size, d, "kernel_size", 1)
    stride = kernel if stride is None else as_tuple(stride, d, "stride", 1)
    if isinstance(padding, str):
        raise ValueError(f"padding must be an int or a sequence of ints, got {padding!r}")
    pad = as_tuple(padding, d, "padding", 0)
    default = tuple((i - 1) * s + k - 2 * p for i, s, k, p in zip(size, stride, kernel, pad))
    if output_size is None:
        out = default
    else:
        if isinstance(output_size, (str, bytes)) or not hasattr(output_size, "__len__"):
            raise TypeError(f"output_size must be a sequence of {d} ints, got {output_size!r}")
        items = list(output_size)
        if len(items) == d + 2:
            items = items[2:]
        if len(items) != d:
            raise ValueError(
                f"output_size must have {d} entries (or {d + 2}), got {len(items)}"
            )
        out = tuple(as_int(v, f"output_size[{i}]", 1) for i, v in enumerate(items))
        for axis, (o, df, s) in enumerate(zip(out, default, stride)):
            if not df - s < o < df + s:
                raise ValueError(
                    f"output_size[{axis}] = {o} is invalid: it must be between "
                    f"{df - s + 1} and {df + s - 1} (default {df})"
                )
    if any(o < 1 for o in out):
        raise ValueError(f"max_unpool output size {out} is not positive")
    return kernel, stride, pad, out
