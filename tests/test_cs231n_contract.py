"""The cs231n contract (../shared/cs231n-contract.md), point by point."""

import inspect

import numpy as np
import pytest

import im2col_ext
import im2col_ext as im2col  # the seeds' `import im2col` spelling
from im2col_ext.cs231n import im2col as c_im2col
from im2col_ext.cs231n import im2col_cython as c_cy

import reference as ref


def rand(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- get_im2col_indices

def test_get_im2col_indices_shapes_and_gather():
    x = rand(2, 3, 5, 6)
    k, i, j = im2col.get_im2col_indices(x.shape, 3, 2, padding=1, stride=2)
    oh, ow = (5 + 2 - 3) // 2 + 1, (6 + 2 - 2) // 2 + 1
    assert k.shape == (3 * 3 * 2, 1)
    assert i.shape == j.shape == (3 * 3 * 2, oh * ow)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    gathered = xp[:, k, i, j]  # (N, C*fh*fw, oh*ow)
    expect = ref.im2col_cs231n(x, 3, 2, 1, 2).reshape(18, oh * ow, 2).transpose(2, 0, 1)
    np.testing.assert_array_equal(gathered, expect)


def test_get_im2col_indices_row_formula():
    k, i, j = im2col.get_im2col_indices((1, 2, 4, 4), 2, 3, padding=0, stride=1, verbose=0)
    for c in range(2):
        for ky in range(2):
            for kx in range(3):
                row = c * 6 + ky * 3 + kx
                assert k[row, 0] == c
                assert i[row, 0] == ky and j[row, 0] == kx


# ---------------------------------------------------------------- im2col_indices

def test_im2col_indices_layout_formula():
    N, C, H, W, fh, fw, p, s = 3, 2, 5, 6, 3, 2, 1, 2
    x = rand(N, C, H, W)
    cols = im2col.im2col_indices(x, fh, fw, p, s)
    oh, ow = (H + 2 * p - fh) // s + 1, (W + 2 * p - fw) // s + 1
    assert cols.shape == (C * fh * fw, oh * ow * N)
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    for n, c, ky, kx, oy, ox in [(0, 0, 0, 0, 0, 0), (2, 1, 2, 1, oh - 1, ow - 1), (1, 1, 1, 0, 1, 2)]:
        row = c * fh * fw + ky * fw + kx
        col = (oy * ow + ox) * N + n  # N is the fastest axis
        assert cols[row, col] == xp[n, c, oy * s + ky, ox * s + kx]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
@pytest.mark.parametrize("shape", [(40, 3, 5, 7), (700, 2, 16, 16), (9, 1, 1, 1)])
def test_1x1_windows_are_the_transposed_planes(shape, dtype):
    # a 1x1 stride-1 window's columns are the planes transposed; the C
    # kernels then transpose straight between x and cols (blocks of images
    # included: 700 images of 16x16 float64 are more than one block)
    x = (rand(*shape) * 100).astype(dtype)
    n, c, h, w = shape
    cols = im2col.im2col_indices(x, 1, 1, padding=0, stride=1)
    np.testing.assert_array_equal(cols, ref.im2col_cs231n(x, 1, 1, 0, 1))
    np.testing.assert_array_equal(cols, x.transpose(1, 2, 3, 0).reshape(c, h * w * n))
    back = im2col.col2im_indices(cols, shape, 1, 1, padding=0, stride=1)
    np.testing.assert_array_equal(back, x)
    assert back.dtype == x.dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int32, np.float16])
@pytest.mark.parametrize("shape", [(701, 1, 16, 16), (1203, 1, 9, 15), (130, 3, 16, 16), (9, 2, 5, 6),
                                   (4200, 1, 16, 16)])
def test_2x2_stride_2_im2col_of_many_images(shape, dtype):
    # pooling-view planes (more images than one transposed block) are
    # gathered straight from the images, 4 at a time, odd counts and odd
    # widths (a last column no window reads) included, up to 8 MiB of a
    # plane's columns (4200 float64 16x16 images are past it); bits moved
    # unchanged
    x = (rand(*shape, seed=shape[0]) * 50).astype(dtype)
    if dtype in (np.float64, np.float32):
        x.flat[::5] = -0.0
        x.flat[3::11] = np.nan
    got = im2col.im2col_indices(x, 2, 2, padding=0, stride=2)
    want = ref.im2col_cs231n(x, 2, 2, 0, 2)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(701, 1, 16, 16), (1203, 1, 8, 14), (130, 3, 16, 16), (9, 2, 4, 6)])
def test_2x2_stride_2_col2im_of_many_images(shape, dtype):
    # pooling-view planes (more images than one transposed block) are folded
    # straight from the columns, 4 images at a time, odd counts included;
    # each pixel is 0 + its one tap (a -0.0 tap gives +0.0, as np.add.at)
    n, c, h, w = shape
    cols = rand(c * 4, (h // 2) * (w // 2) * n, seed=n, dtype=dtype)
    cols.flat[::7] = -0.0
    got = im2col.col2im_indices(cols, shape, 2, 2, padding=0, stride=2)
    want = ref.col2im_cs231n(cols, shape, 2, 2, 0, 2)
    np.testing.assert_array_equal(got, want)
    assert not np.signbit(got[got == 0]).any()
    assert got.dtype == dtype


@pytest.mark.any_backend
def test_signatures_and_defaults():
    sig = inspect.signature(im2col.im2col_indices)
    assert list(sig.parameters)[:5] == ["x", "field_height", "field_width", "padding", "stride"]
    assert sig.parameters["field_height"].default is inspect.Parameter.empty
    assert sig.parameters["padding"].default == 1 and sig.parameters["stride"].default == 1
    sig = inspect.signature(im2col.col2im_indices)
    assert [sig.parameters[a].default for a in ("field_height", "field_width", "padding", "stride")] \
        == [3, 3, 1, 1]
    sig = inspect.signature(im2col.get_im2col_indices)
    assert sig.parameters["padding"].default == 1 and sig.parameters["stride"].default == 1
    with pytest.raises(TypeError):
        im2col.im2col_indices(rand(1, 1, 4, 4))  # no default for the field sizes


def test_col2im_indices_defaults_are_3_3_1_1():
    x = rand(2, 2, 5, 5)
    cols = im2col.im2col_indices(x, 3, 3, 1, 1)
    np.testing.assert_allclose(im2col.col2im_indices(cols, x.shape),
                               ref.col2im_cs231n(cols, x.shape, 3, 3, 1, 1), rtol=1e-13)


def test_verbose_is_accepted_everywhere():
    x = rand(1, 1, 4, 4)
    im2col.get_im2col_indices(x.shape, 3, 3, verbose=0)
    cols = im2col.im2col_indices(x, 3, 3, verbose=False)
    im2col.col2im_indices(cols, x.shape, 3, 3, verbose=True)
    im2col.col2im_indices(cols, x.shape, field_height=3, field_width=3, padding=1, stride=1,
                          verbose=False)


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["tuple", "list", "ndarray", "ndarray32", "shape", "torch"])
def test_x_shape_kinds(kind):
    x = rand(2, 3, 4, 5)
    cols = im2col.im2col_indices(x, 3, 3, 1, 1)
    if kind == "torch":
        torch = pytest.importorskip("torch")
        shape = torch.Size(x.shape)
    else:
        shape = {"tuple": tuple(x.shape), "list": list(x.shape), "shape": x.shape,
                 "ndarray": np.array(x.shape), "ndarray32": np.array(x.shape, np.int32)}[kind]
    out = im2col.col2im_indices(cols, shape, 3, 3, 1, 1)
    assert out.shape == x.shape
    np.testing.assert_allclose(out, ref.col2im_cs231n(cols, x.shape, 3, 3, 1, 1), rtol=1e-13)
    k, i, j = im2col.get_im2col_indices(shape, 3, 3)
    assert i.shape == (27, 20)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int8, np.uint16,
                                   np.float16, np.complex64, np.bool_])
def test_dtype_follows_the_input(dtype):
    x = (rand(2, 2, 4, 4) * 3).astype(dtype)
    cols = im2col.im2col_indices(x, 2, 2, 1, 1)
    assert cols.dtype == dtype
    np.testing.assert_array_equal(cols, ref.im2col_cs231n(x, 2, 2, 1, 1))
    back = im2col.col2im_indices(cols, x.shape, 2, 2, 1, 1)
    assert back.dtype == dtype


def test_width_check_uses_the_width():
    """Upstream checked W with field_height and rejected this valid shape."""
    x = rand(2, 1, 5, 6)
    cols = im2col.im2col_indices(x, 3, 2, padding=0, stride=2)
    assert cols.shape == (6, 2 * 3 * 2)
    np.testing.assert_array_equal(cols, ref.im2col_cs231n(x, 3, 2, 0, 2))
    back = im2col.col2im_indices(cols, x.shape, 3, 2, padding=0, stride=2)
    np.testing.assert_allclose(back, ref.col2im_cs231n(cols, x.shape, 3, 2, 0, 2), rtol=1e-13)


def test_non_divisible_shapes_are_floored():
    x = rand(2, 1, 6, 7)
    cols = im2col.im2col_indices(x, 3, 3, padding=0, stride=2)
    assert cols.shape == (9, 2 * 3 * 2)  # (6-3)//2+1 = 2, (7-3)//2+1 = 3
    np.testing.assert_array_equal(cols, ref.im2col_cs231n(x, 3, 3, 0, 2))


@pytest.mark.parametrize("args, word", [
    (dict(field_height=6, field_width=1, padding=0, stride=1), "height"),
    (dict(field_height=1, field_width=8, padding=1, stride=1), "width"),
    (dict(field_height=1, field_width=1, padding=0, stride=0), "stride"),
    (dict(field_height=1, field_width=1, padding=-1, stride=1), "padding"),
])
@pytest.mark.any_backend
def test_no_window_bad_stride_bad_padding_raise(args, word):
    with pytest.raises(ValueError, match=word):
        im2col.im2col_indices(rand(1, 1, 5, 5), **args)


@pytest.mark.any_backend
def test_transposed_cols_are_refused():
    """A real bug in legacy code (np.dot(deltaCols.T, filterCols)): upstream reshapes silently."""
    x = rand(2, 3, 4, 4)
    cols = im2col.im2col_indices(x, 3, 3, 1, 1)
    with pytest.raises(ValueError, match="transposed"):
        im2col.col2im_indices(cols.T, x.shape, 3, 3, 1, 1)
    with pytest.raises(ValueError, match="cols"):
        im2col.col2im_indices(cols.reshape(-1, 16), x.shape, 3, 3, 1, 1)


def test_naive_and_loop_names_of_2025():
    x = rand(2, 2, 5, 4)
    np.testing.assert_array_equal(c_im2col.im2col_naive(x), im2col.im2col_indices(x, 3, 3))
    cols = im2col.im2col_indices(x, 3, 3)
    np.testing.assert_array_equal(c_im2col.col2im(cols, x.shape), im2col.col2im_indices(cols, x.shape))
    assert c_im2col.get_num_fields(x.shape, 3, 3, 1, 1) == (5, 4)
    coords = list(c_im2col.field_coords(5, 4, 3, 2, 1, 2))
    assert coords[0] == (0, 3, 0, 2) and coords[1] == (0, 3, 2, 4)
    assert len(coords) == 3 * 3
    doc_example = np.array([[1, 2], [3, 4]]).reshape(1, 1, 2, 2)
    np.testing.assert_array_equal(
        c_im2col.im2col_naive(doc_example, 2, 2, 1, 1)[0], [0, 0, 0, 0, 1, 2, 0, 3, 4])


@pytest.mark.any_backend
def test_star_imports_carry_every_name():
    ns = {}
    exec("from im2col_ext.cs231n.im2col import *", ns)
    for name in ("get_im2col_indices", "im2col_indices", "col2im_indices", "get_num_fields",
                 "field_coords", "im2col_naive", "col2im"):
        assert callable(ns[name])
    ns = {}
    exec("from im2col_ext.cs231n.im2col_cython import *", ns)
    for name in ("im2col_cython", "col2im_cython", "col2im_6d_cython"):
        assert callable(ns[name])
    from im2col_ext import col2im_indices  # the seeds' `from im2col import col2im_indices`
    assert col2im_indices is im2col_ext.col2im_indices


# ---------------------------------------------------------------- im2col_cython.pyx

def test_im2col_cython_no_defaults_keywords_contiguous():
    sig = inspect.signature(c_cy.im2col_cython)
    assert all(p.default is inspect.Parameter.empty for p in sig.parameters.values())
    x = rand(3, 2, 5, 5)
    cols = c_cy.im2col_cython(x=x, field_height=3, field_width=3, padding=1, stride=2)
    assert cols.flags.c_contiguous
    np.testing.assert_array_equal(cols, im2col.im2col_indices(x, 3, 3, 1, 2))


@pytest.mark.parametrize("fh, fw", [(2, 3), (3, 2), (1, 4), (4, 1), (3, 3)])
def test_cython_non_square_filters_are_right(fh, fw):
    x = rand(2, 3, 6, 7, seed=fh * 10 + fw)
    cols = c_cy.im2col_cython(x, fh, fw, 1, 1)
    np.testing.assert_array_equal(cols, ref.im2col_cs231n(x, fh, fw, 1, 1))
    back = c_cy.col2im_cython(cols, 2, 3, 6, 7, fh, fw, 1, 1)
    np.testing.assert_allclose(back, ref.col2im_cs231n(cols, x.shape, fh, fw, 1, 1), rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_col2im_6d_formula(dtype):
    N, C, H, W, HH, WW, pad, s = 3, 2, 7, 6, 3, 2, 1, 2
    oh, ow = (H + 2 * pad - HH) // s + 1, (W + 2 * pad - WW) // s + 1
    cols = rand(C, HH, WW, N, oh, ow, seed=5, dtype=dtype)
    out = c_cy.col2im_6d_cython(cols, N, C, H, W, HH, WW, pad, s)
    assert out.shape == (N, C, H, W) and out.dtype == dtype
    np.testing.assert_allclose(out, ref.col2im_6d(cols, N, C, H, W, HH, WW, pad, s), rtol=1e-5)


def test_6d_is_the_adjoint_of_the_strides_columns():
    x = rand(2, 3, 5, 5)
    cols6 = im2col_ext.im2col(x, 3, stride=2, padding=1, layout="6d")
    assert cols6.shape == (3, 3, 3, 2, 3, 3)
    y = rand(*cols6.shape, seed=9)
    lhs = np.vdot(cols6, y)
    rhs = np.vdot(x, c_cy.col2im_6d_cython(y, 2, 3, 5, 5, 3, 3, 1, 2))
    assert lhs == pytest.approx(rhs, rel=1e-12)


@pytest.mark.any_backend
def test_cython_functions_check_n_c_h_w_against_cols():
    cols = c_cy.im2col_cython(rand(2, 3, 4, 4), 3, 3, 1, 1)
    with pytest.raises(ValueError, match="cols"):
        c_cy.col2im_cython(cols, 3, 3, 4, 4, 3, 3, 1, 1)
    with pytest.raises(ValueError, match="cols"):
        c_cy.col2im_cython(cols, 2, 3, 400, 4, 3, 3, 1, 1)
    cols6 = rand(3, 3, 3, 2, 4, 4)
    with pytest.raises(ValueError, match="cols"):
        c_cy.col2im_6d_cython(cols6, 2, 3, 8, 4, 3, 3, 1, 1)
    with pytest.raises(ValueError, match="cols"):
        c_cy.col2im_6d_cython(cols6[:2], 2, 3, 4, 4, 3, 3, 1, 1)
    with pytest.raises(ValueError, match="cols"):
        c_cy.col2im_6d_cython(cols6.reshape(3, 3, 3, 2, 16), 2, 3, 4, 4, 3, 3, 1, 1)


@pytest.mark.parametrize("make", [np.asfortranarray, lambda a: a[:, :, ::-1, ::-1],
                                  lambda a: a[:, ::2]])
def test_cython_accepts_strided_inputs(make):
    base = rand(2, 4, 5, 5)
    x = make(base)
    cols = c_cy.im2col_cython(x, 3, 3, 1, 1)
    np.testing.assert_array_equal(cols, ref.im2col_cs231n(np.ascontiguousarray(x), 3, 3, 1, 1))
    back = c_cy.col2im_cython(np.asfortranarray(cols), *x.shape, 3, 3, 1, 1)
    np.testing.assert_allclose(back, ref.col2im_cs231n(cols, x.shape, 3, 3, 1, 1), rtol=1e-13)
