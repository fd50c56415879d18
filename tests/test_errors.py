"""Bad input gets ValueError or TypeError naming the argument; inputs stay unchanged."""

import numpy as np
import pytest

import im2col_ext
from im2col_ext.cs231n import im2col_cython as cy

# Argument validation happens in Python, before any kernel: run once.
pytestmark = pytest.mark.any_backend

X = np.random.default_rng(0).standard_normal((2, 3, 5, 5))


def frozen(a):
    a = a.copy()
    a.setflags(write=False)
    return a


BAD_INTS = [
    (True, TypeError), (2.0, TypeError), (None, TypeError), ("3", TypeError),
    (np.float64(2), TypeError), ([1, 2, 3, 4], ValueError), ((1,), ValueError), (object(), TypeError),
]


@pytest.mark.parametrize("arg", ["kernel_size", "stride", "padding", "dilation"])
@pytest.mark.parametrize("value, exc", BAD_INTS)
def test_unfold_rejects_non_integer_parameters(arg, value, exc):
    if arg == "padding" and isinstance(value, str):
        exc = ValueError  # a string padding must be "valid" or "same"
    kwargs = dict(kernel_size=2, stride=1, padding=0, dilation=1)
    kwargs[arg] = value
    with pytest.raises(exc, match=arg):
        im2col_ext.unfold(X, **kwargs)


@pytest.mark.parametrize("arg, value", [
    ("kernel_size", 0), ("kernel_size", -1), ("stride", 0), ("stride", -2),
    ("dilation", 0), ("padding", -1), ("kernel_size", (2, 0)), ("padding", (0, -1)),
])
def test_unfold_rejects_out_of_range_parameters(arg, value):
    kwargs = dict(kernel_size=2, stride=1, padding=0, dilation=1)
    kwargs[arg] = value
    with pytest.raises(ValueError, match=arg):
        im2col_ext.unfold(X, **kwargs)


def test_numpy_integers_are_accepted():
    cols = im2col_ext.unfold(X, np.int64(3), dilation=np.int32(1), padding=np.uint8(1),
                             stride=(np.int16(1), 2))
    assert cols.shape == (2, 27, 5 * 3)
    im2col_ext.im2col_indices(X, np.int64(3), np.int32(3), np.int8(1), np.uint64(1))


@pytest.mark.parametrize("kernel, pad, dil, word", [
    (6, 0, 1, "height"), ((1, 8), 1, 1, "width"), (3, 0, 3, "dilation"),
])
def test_kernel_that_fits_nowhere(kernel, pad, dil, word):
    with pytest.raises(ValueError, match=word):
        im2col_ext.unfold(X, kernel, dilation=dil, padding=pad)


@pytest.mark.parametrize("bad, exc", [
    (X[0, 0], ValueError), (X[None], ValueError), (X.tolist(), TypeError),
    (X.astype(object), TypeError), (X.astype("U3"), TypeError), (None, TypeError),
])
def test_bad_arrays(bad, exc):
    with pytest.raises(exc, match="x"):
        im2col_ext.im2col_indices(bad, 3, 3)
    with pytest.raises(exc, match="x"):
        cy.im2col_cython(bad, 3, 3, 1, 1)


def test_unfold_ndim():
    with pytest.raises(ValueError, match="x"):
        im2col_ext.unfold(X[0, 0], 2)
    with pytest.raises(ValueError, match="cols"):
        im2col_ext.fold(X, 5, 2)


@pytest.mark.parametrize("shape, exc", [
    ((2, 3, 5), ValueError), ((2, 3, 5, 5, 1), ValueError), ((2, 3, 5.0, 5), TypeError),
    ((2, -3, 5, 5), ValueError), ("2355", TypeError), (None, TypeError), (5, TypeError),
    (np.array([2.0, 3, 5, 5]), TypeError), (np.array([[2, 3, 5, 5]]), ValueError),
    ((2, 3, True, 5), TypeError),
])
def test_bad_x_shape(shape, exc):
    cols = im2col_ext.im2col_indices(X, 3, 3)
    with pytest.raises(exc, match="x_shape"):
        im2col_ext.col2im_indices(cols, shape)


def test_cols_shape_mismatches():
    cols = im2col_ext.im2col_indices(X, 3, 3)
    for bad in (cols[:-1], cols[:, :-1], cols.reshape(-1), cols[None], cols.T):
        with pytest.raises(ValueError, match="cols"):
            im2col_ext.col2im_indices(bad, X.shape)
    with pytest.raises(ValueError, match="cols"):
        im2col_ext.col2im_indices(cols, (2, 3, 5, 6))
    t = im2col_ext.unfold(X, 3)
    with pytest.raises(ValueError, match="cols"):
        im2col_ext.fold(t[:, :-1], 5, 3)
    with pytest.raises(ValueError, match="windows"):
        im2col_ext.fold(t, 6, 3)
    with pytest.raises(ValueError, match="output_size"):
        im2col_ext.fold(t, 0, 3)


def test_layout_name_checked():
    with pytest.raises(ValueError, match="layout"):
        im2col_ext.im2col(X, 3, layout="nchw")


def test_sizes_that_overflow_are_rejected_before_allocating():
    huge = np.lib.stride_tricks.as_strided(np.zeros(1), (2**26, 2**27, 8, 8), (0, 0, 0, 0))
    with pytest.raises(ValueError, match="bytes"):
        im2col_ext.unfold(huge, 3)
    with pytest.raises(ValueError, match="bytes"):
        im2col_ext.im2col_indices(huge, 3, 3)
    cols = np.zeros((9, 1))
    with pytest.raises(ValueError, match="bytes|too large|cols"):
        im2col_ext.col2im_indices(cols, (2**62, 2**62, 3, 3), 3, 3, 1, 1)
    with pytest.raises(ValueError):
        im2col_ext.unfold(X, 2**63)


def test_inputs_unchanged_on_success_and_failure():
    x = frozen(X)
    cols = frozen(im2col_ext.im2col_indices(x, 3, 3))
    im2col_ext.col2im_indices(cols, x.shape)
    with pytest.raises(ValueError):
        im2col_ext.col2im_indices(cols, (2, 3, 5, 6))
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(cols, im2col_ext.im2col_indices(X, 3, 3))


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=1, padding=2**61, stride=2**62),
    dict(kernel_size=1, padding=2**62, stride=2**63 - 1),
    dict(kernel_size=2, dilation=2**62, padding=2**61),
])
def test_parameters_whose_index_arithmetic_would_overflow_int64(kwargs):
    """A huge stride keeps the output small, but the indices would leave int64 in C."""
    with pytest.raises(ValueError, match="too large"):
        im2col_ext.unfold(X, **kwargs)
