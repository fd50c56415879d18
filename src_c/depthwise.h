/*
 * depthwise.h -- direct depthwise convolution, forward and backward (no Python.h).
 *
 * A depthwise convolution has one filter per channel (groups == channels,
 * one output channel per group) and zero padding.  These kernels compute it
 * straight from the input, without columns and without a padded copy: the
 * padding is handled by clipping each tap's range of output positions.
 *
 * Geometry: the N-d window i2c_win of im2col_ext.h (spatial rank 3; 1-D and
 * 2-D windows have leading unit axes: size 1, kernel 1, stride 1, dilation
 * 1, padding 0).  Only its fields n, c, v, size, k, o, s, p (LOW padding)
 * and d are read; its strides xs and cs are NOT read, because every array
 * here is C-contiguous (the API makes them so).  With K = k0*k1*k2 taps
 * t = (k0*k1 + ...) numbered in row-major order (k0, k1, k2):
 *
 *   out[n, c, o0, o1, o2, v] = sum over the taps t = (k0, k1, k2) whose
 *       source i_a = o_a*s_a + k_a*d_a - p_a lies in [0, size_a) on every axis
 *     of  wt[c, t, v] * x[n, c, i0, i1, i2, v]
 *
 * Pointer layouts (C-contiguous, extents in elements):
 *   x, dx      (n, c, size0, size1, size2, v)   input / its gradient
 *   out, dout  (n, c, o0, o1, o2, v)            output / its gradient
 *   wt, dw     (c, K, v)                        filter taps / their gradient
 * Channels first (x is (N, C, *S)): c = C, v = 1, and wt is torch's weight
 * (C, 1, *k) seen as (C, K).  Channels last (x is (N, *S, C)): c = 1,
 * v = C, and wt is the transposed weight (K, C), so that the inner loops run
 * over C contiguous channels.  Any c, v >= 1 work: channel (c, v) of the
 * image has its own filter wt[c, :, v].
 *
 * Requirements (the caller checks them): every size, k, s, d >= 1, p >= 0,
 * o >= 0; the arrays do not overlap.  Windows may reach anywhere into the
 * padding (a window entirely in the padding gives 0).
 *
 * Summation order (fixed, so results are deterministic and do not depend on
 * the thread count; -ffp-contract=off keeps every product rounded):
 *   out   each element is 0 plus w*x of its taps, in row-major tap order
 *         (taps in the padding are skipped), then plus the bias -- the order
 *         of the NumPy twin, which differs only in starting from the first
 *         product, not 0 (so a -0.0 sum reads +0.0 here), and in adding the
 *         padding taps' w*0.
 *   dx    each element is 0 plus w*dout of the (tap, output) pairs that
 *         read it, in row-major tap order (the NumPy twin's order).
 *   dw    dw[c, t, v] = sum over n (in order) of one partial sum per image:
 *         channels first (v == 1), the partial of plane (n, c) is summed in
 *         8 interleaved lanes (output rows in order; within a row the
 *         outputs of the tap's valid range go round-robin to lanes 0..7,
 *         starting again at lane 0 on every row), the lanes then added as
 *         ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)); channels last
 *         (v > 1), the partial of image n is one running sum per channel
 *         over the outputs in row-major order.  The NumPy twin uses einsum,
 *         so dw agrees with it to rounding, not bitwise.
 *
 * Threads: `num_threads` as in im2col_ext.h (<= 0: OpenMP's default; 1:
 * serial).  Work is split over independent units with a static schedule
 * and no atomics: forward over (n, c) planes (v == 1) or output rows
 * (v > 1); backward v == 1 over channels c (each thread owns dx[:, c] and
 * dw[c]); backward v > 1 over input rows for dx and over blocks of the v
 * channels for dw.
 */
#ifndef IM2COL_EXT_DEPTHWISE_H
#define IM2COL_EXT_DEPTHWISE_H

#include <stdint.h>

#include "im2col_ext.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Forward: out = the depthwise convolution of x with wt (formula above),
 * plus bias[c, v] when bias is not NULL (added to the taps' sum, last).
 *   x    : input  (n, c, size0, size1, size2, v), read only
 *   wt   : taps   (c, K, v), read only
 *   bias : (c, v), read only, or NULL for none
 *   out  : output (n, c, o0, o1, o2, v), overwritten
 *   w    : the window (n, c, v, size, k, o, s, p, d read)                 */
void i2c_depthwise_forward_f32(const float *x, const float *wt, const float *bias, float *out,
                               const i2c_win *w, int num_threads);
void i2c_depthwise_forward_f64(const double *x, const double *wt, const double *bias,
                               double *out, const i2c_win *w, int num_threads);

/* Backward: the gradients of the forward pass for the output gradient dout.
 *   dx[n, c, i, v] = sum over (t, o) with i = o*s + k*d - p of wt[c, t, v] * dout[n, c, o, v]
 *   dw[c, t, v]    = sum over n and o (source inside) of dout[n, c, o, v] * x[n, c, i, v]
 *   x    : input  (n, c, size0, size1, size2, v), read only
 *   wt   : taps   (c, K, v), read only
 *   dout : output gradient (n, c, o0, o1, o2, v), read only
 *   dx   : input gradient  (n, c, size0, size1, size2, v), overwritten
 *   dw   : taps gradient   (c, K, v), overwritten
 *   w    : the window, as for the forward pass                            */
void i2c_depthwise_backward_f32(const float *x, const float *wt, const float *dout, float *dx,
                                float *dw, const i2c_win *w, int num_threads);
void i2c_depthwise_backward_f64(const double *x, const double *wt, const double *dout,
                                double *dx, double *dw, const i2c_win *w, int num_threads);

#ifdef __cplusplus
}
#endif

#endif /* IM2COL_EXT_DEPTHWISE_H */
