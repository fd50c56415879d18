/*
 * winograd.h -- Winograd minimal-filtering transforms F(m x m, 3x3), m = 2
 * or 4 (no Python.h).
 *
 * A 3x3, stride-1, undilated convolution computes each m x m block of
 * outputs from a t x t tile (t = m + 2) of the (zero-padded) input as
 *   Y = A^T [ sum_c (G g G^T) .* (B^T d B) ] A:
 * T = t*t independent products over the channels per tile (the "batched
 * GEMM", done by the caller) in place of 9*m*m multiplications per tile.
 * m = 2, F(2x2, 3x3):
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   (input transform)
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1] (filter transform)
 *   A^T = [1 1 1 0; 0 1 -1 -1]                       (output transform)
 * m = 4, F(4x4, 3x3), from the interpolation points 0, 1, -1, 2, -1/2:
 *   B^T = [1 3/2 -2 -3/2 1 0; 0 -1 -5/2 -1/2 1 0; 0 1 1/2 -5/2 1 0;
 *          0 -1/2 -1 1/2 1 0; 0 2 -1 -2 1 0; 0 1 3/2 -2 -3/2 1]
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -1/2 0; 0 1 1 4 1/4 0; 0 1 -1 8 -1/8 1]
 *   (G: im2col_ext/_winograd.py)
 * The kernels here are the four transforms that need the image layout:
 * the forward input and output transforms and their adjoints (the
 * backward pass).  The filter transforms are tiny and done by the caller.
 *
 * Layouts (all C-contiguous, sizes in elements):
 *   image   (n, c, h, w)       the convolution input x or its gradient dx
 *   out     (n, c, oh, ow)     the convolution output y or its gradient dy
 *   tiles   (T, c, p)          p = n*th*tw tiles in (n, ty, tx) order; the
 *                              T rows are the t x t tile positions (i, j) in
 *                              row-major order, g->ks elements apart (each
 *                              row is a C-contiguous (c, p) block)
 * Tile (ty, tx) of image n reads image rows m*ty - ph .. m*ty - ph + m + 1
 * and columns m*tx - pw .. + m + 1 (zeros outside the image) and makes
 * output rows m*ty .. m*ty + m - 1 and the same columns (those < oh, ow).
 *
 * Determinism: every output element is computed by one thread in a fixed
 * order; work is split over channels only.  `num_threads` as in
 * im2col_ext.h (<= 0: OpenMP's default, 1: serial).
 */
#ifndef IM2COL_EXT_WINOGRAD_H
#define IM2COL_EXT_WINOGRAD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int64_t n;       /* images                                            */
    int64_t h, w;    /* image height and width, >= 1                      */
    int64_t ph, pw;  /* zero padding on each side, >= 0                   */
    int64_t oh, ow;  /* output height and width: h + 2*ph - 2, >= 1       */
    int64_t th, tw;  /* tiles per image: ceil(oh / m), ceil(ow / m)       */
    int64_t m;       /* output tile size: 2 or 4                          */
    int64_t ks;      /* elements between the 16 rows of a tile array,     */
                     /* >= c*p (the caller pads it off multiples of 4 KiB) */
} i2c_wino_geom;

/* Input transform: tiles[k, ch, p] = (B^T d B)[k] for every channel.
 *   x     : image (n, c, h, w), read only
 *   tiles : (T, c, p), written
 *   c     : channels                                                       */
void i2c_wino_input_f32(const float *x, float *tiles, int64_t c, const i2c_wino_geom *g,
                        int num_threads);
void i2c_wino_input_f64(const double *x, double *tiles, int64_t c, const i2c_wino_geom *g,
                        int num_threads);

/* Output transform: y[n, ch, m*ty + a, m*tx + b] = (A^T M A)[a, b] + bias[ch].
 *   m    : products (T, c, p), read only
 *   bias : (c,), read only, or NULL for none
 *   y    : output (n, c, oh, ow), written
 *   c    : output channels                                                 */
void i2c_wino_output_f32(const float *m, const float *bias, float *y, int64_t c,
                         const i2c_wino_geom *g, int num_threads);
void i2c_wino_output_f64(const double *m, const double *bias, double *y, int64_t c,
                         const i2c_wino_geom *g, int num_threads);

/* Adjoint of the output transform: dm[k, ch, p] = (A dY A^T)[k], dY the
 * m x m block of dy a tile makes (zeros past oh, ow).
 *   dy : output gradient (n, c, oh, ow), read only
 *   dm : (T, c, p), written
 *   c  : output channels                                                   */
void i2c_wino_output_adjoint_f32(const float *dy, float *dm, int64_t c,
                                 const i2c_wino_geom *g, int num_threads);
void i2c_wino_output_adjoint_f64(const double *dy, double *dm, int64_t c,
                                 const i2c_wino_geom *g, int num_threads);

/* Adjoint of the input transform: dx = the sum over tiles of B dV B^T,
 * each t x t block added at the tile's place (parts in the padding dropped),
 * tiles in p order.
 *   dv : (T, c, p), read only
 *   dx : image gradient (n, c, h, w), overwritten
 *   c  : channels                                                          */
void i2c_wino_input_adjoint_f32(const float *dv, float *dx, int64_t c,
                                const i2c_wino_geom *g, int num_threads);
void i2c_wino_input_adjoint_f64(const double *dv, double *dx, int64_t c,
                                const i2c_wino_geom *g, int num_threads);

#ifdef __cplusplus
}
#endif

#endif /* IM2COL_EXT_WINOGRAD_H */
