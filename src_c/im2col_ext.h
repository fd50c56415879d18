/*
 * im2col_ext.h -- the plain C kernels of im2col_ext (no Python.h).
 *
 * Every function fills arrays that the Python API has already validated and
 * allocated.  No kernel allocates its result, checks its arguments or can
 * fail: the caller guarantees that every index the geometry implies lies
 * inside the arrays.  All sizes, strides and indices are 64-bit.
 *
 * Geometry of the 2-D plane kernels (i2c_geom; the N-d entry points take
 * an i2c_win, below, and run a stack of 2-D planes):
 *   the image   x    is viewed as (n, c, h, w, v)
 *   the columns cols is viewed as (n, c, kh, kw, oh, ow, v)
 *   cols[n,c,ky,kx,oy,ox,v] = x[n, c, oy*sh + ky*dh - ph, ox*sw + kx*dw - pw, v]
 *   (0 where that row or column lies in the padding).
 * v is an innermost "vector" axis: 1 for the torch layout (N, C*kh*kw, L),
 * the batch size N for the cs231n layout (C*kh*kw, oh*ow*N), where the
 * image is the (1, C, H, W, N) view of an (N, C, H, W) array.
 *
 * Strides are in ELEMENTS (not bytes) and may be negative or zero; the
 * pointers point at element [0,0,...,0].  Pooling kernels use v == 1 and
 * the first four image strides only.
 *
 * Determinism: every kernel gives bitwise the same output for the same
 * input, whatever the thread count.  Accumulations run in a fixed order:
 * col2im adds, for every image pixel, the contributions of the taps (ky, kx)
 * in row-major order onto 0; the pooling scatters add in (oy, ox) order.
 *
 * Threads: `num_threads` <= 0 means "OpenMP's default"; 1 runs serially.
 * Work is split over independent (n, c) planes only (no atomics).  Builds
 * without OpenMP ignore it.
 */
#ifndef IM2COL_EXT_H
#define IM2COL_EXT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int64_t n, c, h, w, v;   /* image extents                                  */
    int64_t kh, kw;          /* kernel (window) size                           */
    int64_t oh, ow;          /* number of window positions, >= 1               */
    int64_t sh, sw;          /* stride, >= 1                                   */
    int64_t ph, pw;          /* zero padding on each side, >= 0                */
    int64_t dh, dw;          /* dilation, >= 1                                 */
    int64_t xs[5];           /* element strides of the image (n, c, h, w, v)   */
    int64_t cs[7];           /* element strides of cols (n,c,ky,kx,oy,ox,v)    */
} i2c_geom;

/* The N-d window geometry of im2col / col2im.  Spatial rank 3; the API
 * describes 1-D and 2-D windows with leading unit axes (size 1, kernel 1,
 * stride 1, dilation 1, padding 0).
 *   the image   x    is viewed as (n, c, s0, s1, s2, v)
 *   the columns cols is viewed as (n, c, k0, k1, k2, o0, o1, o2, v)
 *   cols[n,c,k0,k1,k2,o0,o1,o2,v] = x[n, c, i0, i1, i2, v],
 *       i_a = o_a*s_a + k_a*d_a - p_a   (0 where any i_a is outside [0, size_a))
 * p_a is the LOW padding of axis a; the high padding is implied by o_a.
 * Channels first: v = 1.  Channels last (x is (N, *S, C)): c = 1, v = C.
 * cs231n layout: n = 1, v = N (the batch is the fastest column axis). */
typedef struct {
    int64_t n, c, v;
    int64_t size[3];         /* spatial extents of the image                    */
    int64_t k[3];            /* kernel (window) size                            */
    int64_t o[3];            /* number of window positions, >= 1                */
    int64_t s[3];            /* stride, >= 1                                    */
    int64_t p[3];            /* low (leading) padding, >= 0                     */
    int64_t d[3];            /* dilation, >= 1                                  */
    int64_t xs[6];           /* element strides of x (n, c, s0, s1, s2, v)      */
    int64_t cs[9];           /* element strides of cols (n,c,k0,k1,k2,o0,o1,o2,v) */
} i2c_win;

/* im2col gather: write every element of cols from x (zeros in the padding).
 * A pure copy, so one kernel per element SIZE (bytes 1, 2, 4, 8, 16) serves
 * every dtype of that size; bits are copied unchanged.  The same as
 * i2c_gather_mode_* (below) with mode I2C_PAD_ZEROS.
 *   x    : image, strides w->xs, read only
 *   cols : columns, strides w->cs, written                                */
void i2c_gather_b1(const void *x, void *cols, const i2c_win *w, int num_threads);
void i2c_gather_b2(const void *x, void *cols, const i2c_win *w, int num_threads);
void i2c_gather_b4(const void *x, void *cols, const i2c_win *w, int num_threads);
void i2c_gather_b8(const void *x, void *cols, const i2c_win *w, int num_threads);
void i2c_gather_b16(const void *x, void *cols, const i2c_win *w, int num_threads);

/* Padding modes of i2c_gather_mode_*: what a tap whose source index lies
 * outside [0, size_a) on some axis reads.  Every axis is mapped (corners
 * too): reflect mirrors without repeating the edge (numpy.pad "reflect" =
 * torch's), replicate reads the edge (numpy.pad "edge"), circular wraps
 * (numpy.pad "wrap"); constant writes the fill value, zeros writes 0. */
enum {
    I2C_PAD_ZEROS = 0,
    I2C_PAD_CONSTANT = 1,
    I2C_PAD_REFLECT = 2,
    I2C_PAD_REPLICATE = 3,
    I2C_PAD_CIRCULAR = 4
};

/* A flag OR'd into the mode of i2c_gather_mode_*: cols was just allocated
 * (fresh pages, mapped in by the kernel at first touch).  The walks of
 * channels-first planes (v == 1) then write it with regular stores, not
 * streaming ones: on fresh pages, streamed columns measured 1.15-1.35x
 * slower (float32/float64 3x3, allocating unfold). */
#define I2C_FRESH_COLS 16

/* im2col gather with a padding mode: cols as i2c_gather_b*, except that
 * the padding taps read the element `mode` maps them to (see above); the
 * in-range taps are copied exactly as there.  Requires, on every axis a
 * with padding (low w->p[a], high implied by w->o[a]): reflect: padding
 * < w->size[a]; circular: padding <= w->size[a].
 *   x     : image, strides w->xs, read only
 *   cols  : columns, strides w->cs, written
 *   mode  : one of I2C_PAD_*, with I2C_FRESH_COLS or'd in or not
 *   value : the fill of I2C_PAD_CONSTANT, one element of the item size
 *           (its bytes are copied); ignored (may be NULL) for other modes */
void i2c_gather_mode_b1(const void *x, void *cols, const i2c_win *w, int mode,
                        const void *value, int num_threads);
void i2c_gather_mode_b2(const void *x, void *cols, const i2c_win *w, int mode,
                        const void *value, int num_threads);
void i2c_gather_mode_b4(const void *x, void *cols, const i2c_win *w, int mode,
                        const void *value, int num_threads);
void i2c_gather_mode_b8(const void *x, void *cols, const i2c_win *w, int mode,
                        const void *value, int num_threads);
void i2c_gather_mode_b16(const void *x, void *cols, const i2c_win *w, int mode,
                         const void *value, int num_threads);

/* col2im accumulate: overwrite every element of x with the sum of the
 * column elements that im2col would have read from it (padding dropped),
 * added onto 0 in row-major tap order (k0, k1, k2) -- except that when v > 1
 * is contiguous in both arrays, x's last spatial stride and cols' k2 stride
 * are v and d2 == 1 (channels last: the window-major walk, which reads cols
 * forwards), the taps are taken in REVERSE row-major order.  Integer sums wrap
 * modulo 2**64 (the API accumulates in 64 bits, as np.sum does); the mixed
 * pairs of 8- and 16-bit integers may sum a plane in 16 / 32 bits first
 * where that is exact (the same result: integer sums have no order).
 *   cols : columns, strides w->cs, read only
 *   x    : image, strides w->xs, written                                  */
void i2c_accumulate_f32(const float *cols, float *x, const i2c_win *w, int num_threads);
void i2c_accumulate_f64(const double *cols, double *x, const i2c_win *w, int num_threads);
void i2c_accumulate_i64(const int64_t *cols, int64_t *x, const i2c_win *w, int num_threads);
void i2c_accumulate_u64(const uint64_t *cols, uint64_t *x, const i2c_win *w, int num_threads);
/* Mixed pairs: small integers (and bool, as uint8) summed in 64 bits.     */
void i2c_accumulate_i8_i64(const int8_t *cols, int64_t *x, const i2c_win *w, int num_threads);
void i2c_accumulate_i16_i64(const int16_t *cols, int64_t *x, const i2c_win *w, int num_threads);
void i2c_accumulate_i32_i64(const int32_t *cols, int64_t *x, const i2c_win *w, int num_threads);
void i2c_accumulate_u8_i64(const uint8_t *cols, int64_t *x, const i2c_win *w, int num_threads);
void i2c_accumulate_u8_u64(const uint8_t *cols, uint64_t *x, const i2c_win *w, int num_threads);
void i2c_accumulate_u16_u64(const uint16_t *cols, uint64_t *x, const i2c_win *w, int num_threads);
void i2c_accumulate_u32_u64(const uint32_t *cols, uint64_t *x, const i2c_win *w, int num_threads);
/* float16 columns (the raw bits, IEEE binary16) summed in float, each
 * element converted exactly as it is added (np.sum's float16 policy).   */
void i2c_accumulate_f16_f32(const uint16_t *cols, float *x, const i2c_win *w, int num_threads);

/* The 2-D geometry below serves the pooling kernels: the image is
 * (n, c, h, w) (v == 1), windows as in i2c_win with d = 2.             */
/* max-pool forward with argmax.
 *   x      : input, (n, c, h, w), strides g->xs[0..3], read only
 *   out    : C-contiguous (n, c, oh, ow), written: the window maximum
 *   argmax : C-contiguous (n, c, oh, ow), written: in-plane index iy*w + ix
 * Padding never wins.  Taps are scanned row-major; the first in-bounds tap
 * starts the scan, later ones replace it when (val > best || val != val).
 * A window with no in-bounds tap gives -INFINITY and index -1.          */
void i2c_max_pool_forward_f32(const float *x, float *out, int64_t *argmax, const i2c_geom *g, int num_threads);
void i2c_max_pool_forward_f64(const double *x, double *out, int64_t *argmax, const i2c_geom *g, int num_threads);

/* max-pool scatter (backward): dx = 0, then for every (n, c, oy, ox) in
 * order, dx[n, c, argmax / w, argmax % w] += dout[n, c, oy, ox]; index -1
 * is skipped.
 *   dout   : C-contiguous (n, c, oh, ow), read only
 *   argmax : C-contiguous (n, c, oh, ow), read only, values in [-1, h*w)
 *   dx     : C-contiguous (n, c, h, w), written                          */
void i2c_max_pool_scatter_f32(const float *dout, const int64_t *argmax, float *dx, const i2c_geom *g, int num_threads);
void i2c_max_pool_scatter_f64(const double *dout, const int64_t *argmax, double *dx, const i2c_geom *g, int num_threads);

/* max-pool tie scatter (backward of the cs231n "reshape" max pool): every
 * maximum of a window shares its gradient.  For each window, with o its
 * value in out, a tap "ties" when x == o, or when o is NaN and x is NaN;
 * cnt is the number of in-bounds taps that tie and
 *   share = dout / (T)(cnt > 0 ? cnt : 1)          (one IEEE division in T)
 * Every in-bounds tap then receives m * share with m = (T)1 for a tie and
 * (T)0 otherwise -- exactly NumPy's `mask * share`, so a non-tied tap gets
 * a signed zero (the sign of share), or NaN when share is NaN or infinite.
 * dx = 0 first; non-overlapping windows (sh >= kh, sw >= kw, no dilation)
 * store their values, so a -0.0 survives; otherwise the values are added
 * in (oy, ox) order, taps row-major within a window.  Padding taps never
 * tie and receive nothing.
 *   x    : input, (n, c, h, w), strides g->xs[0..3], read only
 *   out  : C-contiguous (n, c, oh, ow), read only: the window maxima
 *   dout : C-contiguous (n, c, oh, ow), read only
 *   dx   : C-contiguous (n, c, h, w), written                             */
void i2c_max_pool_tie_scatter_f32(const float *x, const float *out, const float *dout, float *dx,
                                  const i2c_geom *g, int num_threads);
void i2c_max_pool_tie_scatter_f64(const double *x, const double *out, const double *dout,
                                  double *dx, const i2c_geom *g, int num_threads);

/* average-pool forward: out = (sum of the window, padding counted as 0,
 * taps added row-major onto 0) / (T)(kh*kw).
 *   x   : input, (n, c, h, w), strides g->xs[0..3], read only
 *   out : C-contiguous (n, c, oh, ow), written                           */
void i2c_avg_pool_forward_f32(const float *x, float *out, const i2c_geom *g, int num_threads);
void i2c_avg_pool_forward_f64(const double *x, double *out, const i2c_geom *g, int num_threads);

/* average-pool scatter (backward): with gd = dout / (T)(kh*kw), dx is the
 * col2im of gd broadcast over every tap (same order as col2im).
 *   dout : C-contiguous (n, c, oh, ow), read only
 *   dx   : C-contiguous (n, c, h, w), written                            */
void i2c_avg_pool_scatter_f32(const float *dout, float *dx, const i2c_geom *g, int num_threads);
void i2c_avg_pool_scatter_f64(const double *dout, double *dx, const i2c_geom *g, int num_threads);

#ifdef __cplusplus
}
#endif

#endif /* IM2COL_EXT_H */
