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
    "as_array",
    "Window",
    "window",
    "spatial_rank",
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
    """Number of window positions along one axis with ``pad`` on both sides (floored, like torch)."""
    return _out_len(size, kernel, stride, (pad, pad), dilation, axis)


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


def as_array(x, name, ndim=None, kinds="biufc"):
    """``x`` as an ndarray (array-likes converted once, keeping their own dtype), checked.

    Lists, tuples and objects with ``__array__`` (a CPU torch tensor, say)
    are accepted as NumPy functions accept them; strings, ``None`` and
    anything that becomes an object or string array are a ``TypeError``.
    """
    if not isinstance(x, np.ndarray):
        if x is None or isinstance(x, (str, bytes)):
            raise TypeError(f"{name} must be an array, got {type(x).__name__}")
        try:
            x = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be an array-like of numbers: {exc}") from None
    return check_array(x, name, ndim, kinds)


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


# --------------------------------------------------------------------------
# N-d windows
# --------------------------------------------------------------------------

class Window(namedtuple("Window", "n c size kernel stride dilation pad out channel_axis")):
    """Checked geometry of sliding windows of spatial rank ``d`` (1, 2 or 3).

    ``size``, ``kernel``, ``stride``, ``dilation`` and ``out`` are d-tuples
    of ints; ``pad`` is a d-tuple of ``(low, high)`` pairs; ``channel_axis``
    is 1 (channels first: ``(N, C, *size)``) or -1 (channels last:
    ``(N, *size, C)``).  Window ``o`` reads input index
    ``o[a]*stride[a] + k[a]*dilation[a] - pad[a][0]`` along axis ``a``.
    """

    __slots__ = ()

    @property
    def d(self):
        return len(self.size)

    @property
    def K(self):
        return _prod(self.kernel)

    @property
    def L(self):
        return _prod(self.out)

    def image_shape(self):
        """Shape of the (batched) image."""
        if self.channel_axis == 1:
            return (self.n, self.c) + self.size
        return (self.n,) + self.size + (self.c,)

    def kernel_spec(self):
        """``(size, kernel, out, stride, low_pad, dilation)`` as 3-tuples with leading unit axes."""
        lead = 3 - self.d
        one, zero = (1,) * lead, (0,) * lead
        return (
            one + self.size,
            one + self.kernel,
            one + self.out,
            one + self.stride,
            zero + tuple(lo for lo, _ in self.pad),
            one + self.dilation,
        )


def _prod(values):
    result = 1
    for v in values:
        result *= v
    return result


def _is_seq(value):
    return isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray) and value.ndim == 1)


def as_ints(value, name, d, minimum=None):
    """An int or a d-sequence of ints, as a d-tuple."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if _is_seq(value):
        if len(value) != d:
            raise ValueError(
                f"{name} must be an int or a sequence of {d} ints (one per spatial "
                f"axis), got {len(value)} values: {tuple(value)!r}"
            )
        return tuple(as_int(v, f"{name}[{i}]", minimum) for i, v in enumerate(value))
    v = as_int(value, name, minimum)
    return (v,) * d


def spatial_rank(kernel_size, ndim=None, output_size=None, name="kernel_size"):
    """Spatial rank from ``kernel_size`` (a tuple gives its length).

    An int kernel_size means 2-D for 3-D/4-D input (torch's rule) and 3-D
    for 5-D input; with ``output_size`` (fold), a tuple there gives the rank.
    """
    if isinstance(kernel_size, np.ndarray) and kernel_size.ndim == 0:
        kernel_size = kernel_size[()]
    if _is_seq(kernel_size):
        d = len(kernel_size)
        if d not in (1, 2, 3):
            raise ValueError(
                f"{name} must have 1, 2 or 3 entries (the spatial rank), got {d}"
            )
        return d
    if output_size is not None:
        if isinstance(output_size, np.ndarray) and output_size.ndim == 0:
            output_size = output_size[()]
        if _is_seq(output_size):
            d = len(output_size)
            if d not in (1, 2, 3):
                raise ValueError(
                    f"output_size must have 1, 2 or 3 entries (the spatial rank), got {d}"
                )
            return d
        return 2
    if ndim is None or ndim in (3, 4):
        return 2
    if ndim == 5:
        return 3
    raise ValueError(
        f"an int {name} is ambiguous for {ndim}-D input: pass a tuple with one "
        f"entry per spatial axis, e.g. {name}=(3,) for 1-D or (3, 3, 3) for 3-D"
    )


def as_pads(padding, name, d):
    """``padding`` (int, d-tuple of ints / (low, high) pairs) as d (low, high) pairs."""
    if isinstance(padding, np.ndarray) and padding.ndim == 0:
        padding = padding[()]
    if not _is_seq(padding):
        p = as_int(padding, name, 0)
        return ((p, p),) * d
    if len(padding) != d:
        hint = ""
        if d == 1 and len(padding) == 2 and not any(_is_seq(v) for v in padding):
            hint = (f"; for 1-D asymmetric padding write {name}=(({padding[0]!r}, "
                    f"{padding[1]!r}),)")
        raise ValueError(
            f"{name} must be an int, \"valid\", \"same\" or a sequence of {d} entries "
            f"(an int or a (low, high) pair per spatial axis), got {len(padding)} "
            f"entries: {tuple(padding)!r}{hint}"
        )
    pads = []
    for i, v in enumerate(padding):
        if isinstance(v, np.ndarray) and v.ndim == 0:
            v = v[()]
        if _is_seq(v):
            if len(v) != 2:
                raise ValueError(
                    f"{name}[{i}] must be an int or a (low, high) pair, got {len(v)} values"
                )
            pads.append((as_int(v[0], f"{name}[{i}][0]", 0), as_int(v[1], f"{name}[{i}][1]", 0)))
        else:
            p = as_int(v, f"{name}[{i}]", 0)
            pads.append((p, p))
    return tuple(pads)


def same_pads(size, kernel, stride, dilation):
    """TensorFlow's "same" padding: ``out = ceil(in / stride)`` on every axis."""
    pads = []
    for n, k, s, dl in zip(size, kernel, stride, dilation):
        out = -(-n // s)
        total = max((out - 1) * s + (k - 1) * dl + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


_AXIS_NAMES = {1: ("width",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def window(n, c, size, kernel_size, stride=1, padding=0, dilation=1, *, channel_axis=1,
           names=("kernel_size", "stride", "padding", "dilation")):
    """Validate N-d window parameters and return the :class:`Window`.

    ``size`` is the d-tuple of spatial extents (d = 1, 2 or 3); ``padding``
    may be an int, a d-sequence of ints or (low, high) pairs, "valid" or
    "same".  ``names`` are the user-facing argument names for messages.
    """
    d = len(size)
    channel_axis = as_channel_axis(channel_axis)
    if (type(kernel_size) is int and type(stride) is int and type(padding) is int
            and type(dilation) is int and kernel_size >= 1 and stride >= 1 and padding >= 0
            and dilation >= 1 and max(kernel_size, stride, padding, dilation) < _INDEX_LIMIT):
        # the common all-int call, without the general parsing below
        kernel, stride_t, dil = (kernel_size,) * d, (stride,) * d, (dilation,) * d
        pads = ((padding, padding),) * d
        return _finish(n, c, size, kernel, stride_t, dil, pads, channel_axis)
    kernel = as_ints(kernel_size, names[0], d, 1)
    stride_t = as_ints(stride, names[1], d, 1)
    dil = as_ints(dilation, names[3], d, 1)
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            pads = ((0, 0),) * d
        elif mode == "same":
            pads = same_pads(size, kernel, stride_t, dil)
        else:
            raise ValueError(
                f"{names[2]} must be an int, a sequence, \"valid\" or \"same\", got {padding!r}"
            )
    else:
        pads = as_pads(padding, names[2], d)
    return _finish(n, c, size, kernel, stride_t, dil, pads, channel_axis)


def _finish(n, c, size, kernel, stride_t, dil, pads, channel_axis):
    d = len(size)
    for s in size:
        if s < 1:
            raise ValueError(f"input spatial size must be positive, got {tuple(size)}")
    out = []
    for a in range(d):
        axis = _AXIS_NAMES[d][a]
        out.append(_out_len(size[a], kernel[a], stride_t[a], pads[a], dil[a], axis))
    return Window(n, c, tuple(size), kernel, stride_t, dil, pads, tuple(out), channel_axis)


def _out_len(size, kernel, stride, pad, dilation, axis):
    """Number of window positions along one axis with ``pad = (low, high)`` (floored)."""
    lo, hi = pad
    span = dilation * (kernel - 1) + 1
    padded = size + lo + hi
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
            f"input size {padded} (size {size} + padding {lo} + {hi})"
        )
    return (padded - span) // stride + 1


def as_channel_axis(channel_axis):
    """1 (channels first) or -1 (channels last)."""
    if type(channel_axis) is int and (channel_axis == 1 or channel_axis == -1):
        return channel_axis
    if isinstance(channel_axis, (bool, np.bool_)) or not isinstance(
            channel_axis, (int, np.integer)):
        raise TypeError(f"channel_axis must be 1 or -1, got {channel_axis!r}")
    if channel_axis not in (1, -1):
        raise ValueError(
            f"channel_axis must be 1 (channels first) or -1 (channels last), got {channel_axis}"
        )
    return int(channel_axis)


def from_geometry(g):
    """The :class:`Window` of a 2-D :class:`Geometry` (channels first)."""
    return Window(g.n, g.c, (g.h, g.w), (g.kh, g.kw), (g.sh, g.sw), (g.dh, g.dw),
                  ((g.ph, g.ph), (g.pw, g.pw)), (g.oh, g.ow), 1)


# --- layer geometry ---
# Window arithmetic of im2col_ext.layers, on top of :func:`window`: the
# channel axis of a layer input, groups, pooling output sizes with
# ceil_mode and their divisors, the transposed convolution's output size and
# the unpooling output size.  Everything is checked here with errors naming
# the argument; the layers only move data.

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


def _no_string(padding, name="padding"):
    if isinstance(padding, str):
        raise ValueError(
            f"{name} must be an int or a sequence of ints; {padding!r} is not defined here"
        )


def pool_window(n, c, size, kernel_size, stride=None, padding=0, dilation=1,
                ceil_mode=False, *, channel_axis=1):
    """Checked :class:`Window` of a pooling layer, as torch sizes it.

    ``out = (in + 2p - dilation*(k-1) - 1 [+ stride-1 with ceil_mode]) // stride + 1``,
    and with ``ceil_mode`` the last window must start inside the input or the
    low padding (else it is dropped).  ``padding`` is at most half the kernel
    (torch's rule).  The returned ``pad`` holds the low padding and the high
    padding the last window needs (possibly more than ``padding`` with
    ``ceil_mode``, or less when the windows stop short of the end), so an
    unfold with that padding yields exactly ``out`` windows.
    """
    d = len(size)
    channel_axis = as_channel_axis(channel_axis)
    kernel = as_ints(kernel_size, "kernel_size", d, 1)
    stride = kernel if stride is None else as_ints(stride, "stride", d, 1)
    _no_string(padding)
    pad = as_ints(padding, "padding", d, 0)
    dilation = as_ints(dilation, "dilation", d, 1)
    if not isinstance(ceil_mode, (bool, np.bool_, int, np.integer)):
        raise TypeError(f"ceil_mode must be a bool, got {ceil_mode!r}")
    if any(p > k // 2 for p, k in zip(pad, kernel)):
        raise ValueError(
            f"padding should be at most half of kernel_size: got padding {pad} for "
            f"kernel_size {kernel} (limit {tuple(k // 2 for k in kernel)})"
        )
    if any(i < 1 for i in size):
        raise ValueError(f"the input's spatial size must be positive, got {tuple(size)}")
    out, pads = [], []
    for a, (i, k, s, p, dl) in enumerate(zip(size, kernel, stride, pad, dilation)):
        span = dl * (k - 1) + 1
        if i + 2 * p + span + s > _INDEX_LIMIT:
            raise ValueError(f"window parameters along {_AXIS_NAMES[d][a]} are too large")
        o = (i + 2 * p - span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= i + p:
            o -= 1
        if o < 1:
            raise ValueError(
                f"kernel does not fit along {_AXIS_NAMES[d][a]}: effective kernel size "
                f"{span} (kernel {k}, dilation {dl}) is larger than the padded input "
                f"size {i + 2 * p} (size {i} + 2*padding {p})"
            )
        out.append(o)
        pads.append((p, max((o - 1) * s + span - i - p, 0)))
    return Window(n, c, tuple(size), kernel, stride, dilation, tuple(pads), tuple(out),
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
    total: np.ndarray = np.ones((), dtype=np.int64)
    for a, (i, k, s, (lo, _), o) in enumerate(zip(win.size, win.kernel, win.stride,
                                                  win.pad, win.out)):
        start = np.arange(o, dtype=np.int64) * s - lo
        end = np.minimum(start + k, i + padding[a])
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
    kernel = as_ints(kernel, "kernel_size", d, 1)
    stride = as_ints(stride, "stride", d, 1)
    dilation = as_ints(dilation, "dilation", d, 1)
    _no_string(padding)
    pad = as_pads(padding, "padding", d)
    opad = as_ints(output_padding, "output_padding", d, 0)
    if any(i < 1 for i in size):
        raise ValueError(f"x must have a positive spatial size, got {tuple(size)}")
    out_size = []
    for a, (i, k, s, (lo, hi), op, dl) in enumerate(
            zip(size, kernel, stride, pad, opad, dilation)):
        axis = _AXIS_NAMES[d][a]
        if not (op < s or op < dl):
            raise ValueError(
                f"output_padding must be smaller than either stride or dilation "
                f"(along {axis}: output_padding {op}, stride {s}, dilation {dl})"
            )
        o = (i - 1) * s - lo - hi + dl * (k - 1) + op + 1
        if o < 1:
            raise ValueError(
                f"the transposed convolution's output size along {axis} is {o}, not "
                f"positive (input {i}, kernel {k}, stride {s}, padding {(lo, hi)}, "
                f"dilation {dl})"
            )
        out_size.append(o)
    win = window(n, c_out, tuple(out_size), kernel, stride, pad, dilation,
                 channel_axis=channel_axis)
    return tuple(out_size), win


def unpool_size(size, kernel_size, stride=None, padding=0, output_size=None):
    """The output spatial size of max unpooling, checked as torch checks it.

    The default size is ``(in - 1)*stride + kernel - 2*padding``;
    ``output_size`` (d entries, or d + 2 with the batch and channel axes
    first, ignored) must lie strictly within ``stride`` of it.
    """
    d = len(size)
    kernel = as_ints(kernel_size, "kernel_size", d, 1)
    stride = kernel if stride is None else as_ints(stride, "stride", d, 1)
    _no_string(padding)
    pad = as_ints(padding, "padding", d, 0)
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
        for a, (o, df, s) in enumerate(zip(out, default, stride)):
            if not df - s < o < df + s:
                raise ValueError(
                    f"output_size[{a}] = {o} is invalid: it must be between "
                    f"{df - s + 1} and {df + s - 1} (default {df})"
                )
    if any(o < 1 for o in out):
        raise ValueError(f"max_unpool output size {out} is not positive")
    return out
