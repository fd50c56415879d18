/*
 * im2col_ext.c -- the plain C kernels of im2col_ext (no Python.h).
 *
 * The contract (layouts, strides in elements, accumulation order, threads)
 * is documented in im2col_ext.h; every public function there is defined
 * here for float (_f32) and double (_f64) by including the dtype-generic
 * body im2col_ext_template.c twice.
 *
 * Portability: C99 (no VLAs), builds with gcc, clang and MSVC, with or
 * without OpenMP.  Work is split over independent (n, c) planes with a
 * static schedule and no atomics, so results do not depend on the thread
 * count.  Never compile with -ffast-math: the NaN rule of the max pool and
 * the bitwise equality with the NumPy twin rely on IEEE semantics.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "im2col_ext.h"

#if defined(_MSC_VER)
#define I2C_RESTRICT __restrict
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L
#define I2C_RESTRICT restrict
#elif defined(__GNUC__)
#define I2C_RESTRICT __restrict__
#else
#define I2C_RESTRICT
#endif

#ifndef INFINITY
#define INFINITY HUGE_VAL
#endif

/* Below this many elements per call a parallel region costs more than it
 * saves; such calls run serially (the result is the same either way). */
#define I2C_MIN_PARALLEL_WORK ((int64_t)1 << 15)

/* Number of per-kx ox ranges cached on the stack in a plane kernel; wider
 * kernels recompute the rest. */
#define I2C_KX_CACHE 64

/* The valid ox range [lo, hi) of tap kx, from the cache kx_lo / kx_hi
 * (filled for kx < ncache) or recomputed.  Uses g from the caller. */
#define I2C_KX_RANGE(kx, offx, lo, hi)                                  \
    do {                                                                \
        if ((kx) < ncache) {                                            \
            (lo) = kx_lo[kx];                                           \
            (hi) = kx_hi[kx];                                           \
        } else {                                                        \
            i2c_range((offx), g->sw, g->w, g->ow, &(lo), &(hi));        \
        }                                                               \
    } while (0)

/* The range [*lo, *hi) of k in [0, count) for which off + k*step lies in
 * [0, size).  step >= 1, count >= 0, size >= 1; *lo <= *hi always.
 * Used both ways: ox range of a tap (step = sw) and tap range of a window
 * (step = dilation). */
static void i2c_range(int64_t off, int64_t step, int64_t size, int64_t count,
                      int64_t *lo, int64_t *hi)
{
    int64_t a, b;
    if (step == 1) {
        a = off >= 0 ? 0 : -off;
        b = size - off;                    /* first k with off + k >= size */
    } else {
        a = off >= 0 ? 0 : (-off + step - 1) / step;
        b = size - 1 - off < 0 ? 0 : (size - 1 - off) / step + 1;
    }
    if (b > count)
        b = count;
    if (a > count)
        a = count;
    if (b < a)
        b = a;
    *lo = a;
    *hi = b;
}

/* Thread count for a call over `planes` planes of `per_plane` elements:
 * num_threads <= 0 means OpenMP's default; never more threads than planes;
 * 1 for small calls and in builds without OpenMP. */
static int i2c_plan_threads(int num_threads, int64_t planes, int64_t per_plane)
{
#ifdef _OPENMP
    int nt = num_threads > 0 ? num_threads : omp_get_max_threads();
    if ((int64_t)nt > planes)
        nt = (int)planes;
    if (planes * per_plane < I2C_MIN_PARALLEL_WORK)
        nt = 1;
    return nt < 1 ? 1 : nt;
#else
    (void)num_threads;
    (void)planes;
    (void)per_plane;
    return 1;
#endif
}

/* 1 when built with OpenMP, else 0. */
int i2c_openmp_enabled(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

/* OpenMP's default thread count (omp_get_max_threads()), 1 without OpenMP. */
int i2c_default_num_threads(void)
{
#ifdef _OPENMP
    int nt = omp_get_max_threads();
    return nt < 1 ? 1 : nt;
#else
    return 1;
#endif
}

#define I2C_PASTE(a, b) a##b
#define I2C_XPASTE(a, b) I2C_PASTE(a, b)
#define FN(name) I2C_XPASTE(name, I2C_SUFFIX)

#define T float
#define I2C_SUFFIX _f32
#include "im2col_ext_template.c"
#undef T
#undef I2C_SUFFIX

#define T double
#define I2C_SUFFIX _f64
#include "im2col_ext_template.c"
#undef T
#undef I2C_SUFFIX
