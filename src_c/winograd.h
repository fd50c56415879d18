/*
 * winograd.h -- Winograd minimal-filtering transforms F(2x2, 3x3) (no Python.h).
 *
 * A 3x3, stride-1, undilated convolution computes each 2x2 block of outputs
 * from a 4x4 tile of the (zero-padded) input.  With
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   (input transform)
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1] (filter transform)
 *   A^T = [1 1 1 0; 0 1 -1 -1]                       (output transform)
 * the output tile is Y = A^T [ sum_c (G g G^T) .* (B^T d B) ] A: 16
 * independent products over the channels per tile (the "batched GEMM",
 * done by the caller) in place of 36 multiplications per output pair.
 * The kernels here are the four transforms that need the image layout:
 * the forward input and output transforms and their adjoints (the
 * backward pass).  The filter transforms (3x3 <-> 4x4 per filter) are tiny
 * and done by the caller.
 *
 * Layouts (all C-contiguous, sizes in elements):
 *   image   (n, c, h, w)       the convolution input x or its gradient dx
 *   out     (n, c, oh, ow)     the convolution output y or its gradient dy
 *   tiles   (16, c, p)         p = n*th*tw tiles in (n, ty, tx) order; the
 *                              16 rows are the 4x4 tile positions (i, j) in
 *                              row-major order, g->ks elements apart (each
 *                              row is a C-contiguous (c, p) block)
 * Tile (ty, tx) of image n reads image rows 2*ty - ph .. 2*ty - ph + 3 and
 * columns 2*tx - pw .. + 3 (zeros outside the image) and makes output rows
 * 2*ty, 2*ty + 1 and columns 2*tx, 2*tx + 1 (those < oh, ow).
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
    int64_t th, tw;  /* tiles per image: (oh + 1) / 2, (ow + 1) / 2       */
    int64_t ks;      /* elements between the 16 rows of a tile array,     */
                     /* >= c*p (the caller pads it off multiples of 4 KiB) */
} i2c_wino_geom;

/* Input transform: tiles[k, ch, p] = (B^T d B)[k] for every channel.
 *   x     : image (n, c, h, w), read only
 *   tiles : (16, c, p), written
 *   c     : channels                                                       */
void i2c_wino_input_f32(const float *x, float *tiles, int64_t c, const i2c_wino_geom *g,
                        int num_threads);
void i2c_wino_input_f64(const double *x, double *tiles, int64_t c, const i2c_wino_geom *g,
                        int num_threads);

/* Output transform: y[n, ch, 2ty + a, 2tx + b] = (A^T M A)[a, b] + bias[ch].
 *   m    : products (16, c, p), read only
 *   bias : (c,), read only, or NULL for none
 *   y    : output (n, c, oh, ow), written
 *   c    : output channels                                                 */
void i2c_wino_output_f32(const float *m, const float *bias, float *y, int64_t c,
                         const i2c_wino_geom *g, int num_threads);
void i2c_wino_output_f64(const double *m, const double *bias, double *y, int64_t c,
                         const i2c_wino_geom *g, int num_threads);

/* Adjoint of the output transform: dm[k, ch, p] = (A dY A^T)[k], dY the
 * 2x2 block of dy a tile makes (zeros past oh, ow).
 *   dy : output gradient (n, c, oh, ow), read only
 *   dm : (16, c, p), written
 *   c  : output channels                                                   */
void i2c_wino_output_adjoint_f32(const float *dy, float *dm, int64_t c,
                                 const i2c_wino_geom *g, int num_threads);
void i2c_wino_output_adjoint_f64(const double *dy, double *dm, int64_t c,
                                 const i2c_wino_geom *g, int num_threads);

/* Adjoint of the input transform: dx = the sum over tiles of B dV B^T,
 * each 4x4 block added at the tile's place (parts in the padding dropped),
 * tiles in p order.
 *   dv : (16, c, p), read only
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
