"""Backend selection: which kernel module fills the arrays.

``IM2COL_EXT_BACKEND`` is read once, at import:

* ``auto`` (default): the compiled extension when it imports, else NumPy
  with a :class:`PerformanceWarning`, so a slow install is never silent;
* ``c``: the compiled extension, or ``ImportError`` if it is not built;
* ``numpy``: the NumPy kernels, quietly.

Any other value raises ``ImportError`` naming the allowed ones.  The compiled
kernels serve native float32 and float64; every other dtype (integers,
float16, complex, ...) and unaligned data go to the NumPy kernels.
"""

import importlib
import os
import sys
import warnings

import numpy as np

from . import _numpy_backend

ALLOWED = ("auto", "c", "numpy")
ENV_VAR = "IM2COL_EXT_BACKEND"


class PerformanceWarning(UserWarning):
    """The compiled extension is missing and the slower NumPy backend is in use."""


def _requested():
    raw = os.environ.get(ENV_VAR, "auto")
    value = raw.strip().lower() or "auto"
    if value not in ALLOWED:
        raise ImportError(
            f"{ENV_VAR}={raw!r} is not valid; allowed values: {', '.join(ALLOWED)}"
        )
    return value


def _import_compiled():
    """Import ``_cext``, with GNU OpenMP's idle threads sleeping instead of spinning.

    libgomp reads OMP_WAIT_POLICY once, when it is loaded (with ``_cext``).
    Its default lets idle workers spin, which on a machine whose cores are
    also used by the BLAS threads of the GEMMs around our kernels made a
    conv layer's forward+backward 5x slower (340 ms against 70 ms on 2
    cores).  The variable is set only for the import and then restored, and
    a value the user set is left alone.
    """
    key = "OMP_WAIT_POLICY"
    user_set = key in os.environ
    if not user_set:
        os.environ[key] = "PASSIVE"
    try:
        return importlib.import_module(__package__ + "._cext")
    finally:
        if not user_set:
            os.environ.pop(key, None)


def _fallback_reason(exc):
    """What is wrong when ``_cext`` does not import, and what to run about it.

    Three cases: a source checkout whose extension was never built (the
    usual one: ``python`` started in the clone's root imports ./im2col_ext),
    a built file that does not load (another Python's build, a missing
    library), and an installed package whose build fell back (no compiler).
    """
    pkg_dir = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(pkg_dir)
    built = sorted(f for f in os.listdir(pkg_dir)
                   if f.startswith("_cext.") and f.endswith((".so", ".pyd")))
    in_checkout = (os.path.isfile(os.path.join(root, "setup.py"))
                   and os.path.isdir(os.path.join(root, "src_c")))
    if in_checkout and not built:
        return (f"im2col_ext is imported from the source checkout {root}, whose C extension "
                f"is not built (no im2col_ext/_cext.*.so there). Build it in place with "
                f"`make build` (or `{os.path.basename(sys.executable)} -m pip install -e .`) "
                f"in {root}")
    if built:
        where = "the source checkout" if in_checkout else "the installed package"
        todo = ("`make build` there" if in_checkout else
                "reinstall im2col-ext for this Python")
        return (f"the compiled extension in {where} ({', '.join(built)} in {pkg_dir}) does not "
                f"load on this Python {sys.version.split()[0]}: {exc}. Rebuild it: {todo}")
    return (f"im2col_ext in {pkg_dir} was installed without its C extension: the build "
            f"fell back when it was installed (usually: no C compiler). Install a C compiler "
            f"(Debian/Ubuntu: apt-get install gcc python3-dev) and reinstall with "
            f"`pip install --force-reinstall --no-deps --no-cache-dir im2col-ext` "
            f"(IM2COL_EXT_REQUIRE_C=1 makes a failed build an error that says why)")


requested = _requested()
compiled = None  # the _cext module, when it imported
import_error = None  # why it did not

if requested != "numpy":
    try:
        compiled = _import_compiled()
    except ImportError as exc:
        import_error = exc
        if requested == "c":
            raise ImportError(
                f"{ENV_VAR}=c but the compiled extension im2col_ext._cext is not "
                f"available: {_fallback_reason(exc)}; or set {ENV_VAR}=numpy."
            ) from exc
        warnings.warn(
            f"im2col_ext is using its NumPy backend, several times slower than the C "
            f"kernels: {_fallback_reason(exc)}. (Set {ENV_VAR}=numpy to use NumPy on "
            f"purpose and silence this warning.)",
            PerformanceWarning,
            stacklevel=3,
        )

#: The kernel module in use for float32/float64.
active = compiled if compiled is not None else _numpy_backend

_C_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def name():
    """``"c"`` or ``"numpy"``: the backend serving float32/float64 now."""
    return active.name


def use(which):
    """Switch the active backend ("c" or "numpy"); returns the previous name.

    For tests and benchmarks, which run the same code on both backends.
    """
    global active
    previous = active.name
    if which == "numpy":
        active = _numpy_backend
    elif which == "c":
        if compiled is None:
            raise ImportError("the compiled extension im2col_ext._cext is not available")
        active = compiled
    else:
        raise ValueError(f"backend must be 'c' or 'numpy', got {which!r}")
    return previous


def kernels(dtype, *arrays):
    """The kernel module for data of ``dtype`` in these arrays.

    The compiled kernels take native float32/float64 in aligned arrays; all
    else goes to NumPy.
    """
    if active is _numpy_backend or np.dtype(dtype) not in _C_DTYPES:
        return _numpy_backend
    for a in arrays:
        if not a.flags.aligned or not a.dtype.isnative:
            return _numpy_backend
    return active


def _c_ready(arrays, itemsize):
    """Every array's address and strides are multiples of the C element's alignment."""
    align = min(itemsize, 8)
    for a in arrays:
        if a.flags.aligned and a.dtype.alignment >= align:
            if all(st % itemsize == 0 for st in a.strides):
                continue
            return False
        if a.__array_interface__["data"][0] % align:
            return False
        for st in a.strides:
            if st % itemsize:
                return False
    return True


def for_gather(x6, cols9):
    """The module whose ``gather`` fills ``cols9`` from ``x6``.

    The compiled gathers copy elements by size (1, 2, 4, 8 or 16 bytes), so
    every such dtype runs in C; other sizes and misaligned views use NumPy.
    """
    if active is _numpy_backend:
        return _numpy_backend
    isz = x6.dtype.itemsize
    if isz not in active.GATHER_ITEMSIZES or not _c_ready((x6, cols9), isz):
        return _numpy_backend
    return active


def for_accumulate(x6, cols9):
    """The module whose ``accumulate`` sums ``cols9`` into ``x6`` (pairs: ``_cext.ACCUMULATE_PAIRS``)."""
    if active is _numpy_backend:
        return _numpy_backend
    if (cols9.dtype.str, x6.dtype.str) not in active.ACCUMULATE_PAIRS:
        return _numpy_backend
    if not (_c_ready((x6,), x6.dtype.itemsize) and _c_ready((cols9,), cols9.dtype.itemsize)):
        return _numpy_backend
    return active


def c_dtypes(operation):
    """Which dtypes ``operation`` ("gather" or "accumulate") runs in C now: a description."""
    if active is _numpy_backend:
        return "none (NumPy backend)"
    if operation == "gather":
        return "every dtype of item size " + ", ".join(map(str, active.GATHER_ITEMSIZES))
    return ", ".join(f"{np.dtype(a)}->{np.dtype(b)}" for a, b in active.ACCUMULATE_PAIRS) + (
        ", complex64, complex128")


def get_num_threads():
    """Threads the compiled kernels use (1 without the extension)."""
    return compiled.get_num_threads() if compiled is not None else 1


def set_num_threads(n):
    """Set the compiled kernels' thread count (``IM2COL_EXT_NUM_THREADS`` sets the default)."""
    from ._geometry import as_int

    n = as_int(n, "n", 1)
    if compiled is not None:
        compiled.set_num_threads(n)
