/*
 * winograd.c -- the Winograd F(2x2, 3x3) and F(4x4, 3x3) transforms (no Python.h).
 *
 * The contract (layouts, tile placement, threads) is in winograd.h; each
 * function there is defined for float (_f32) and double (_f64) by including
 * the dtype-generic body winograd_template.c twice.  Same portability and
 * IEEE rules as im2col_ext.c (C99, with or without OpenMP, no fast-math).
 */
#include <stdint.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "winograd.h"
#include "i2c_range.h"

/* Below this many tile elements per call a parallel region costs more than
 * it saves (the result is the same either way). */
#define WINO_MIN_PARALLEL_WORK ((int64_t)1 << 15)

#if defined(_MSC_VER)
#define I2C_WINO_RESTRICT __restrict
#else
#define I2C_WINO_RESTRICT __restrict__
#endif

/* Inlined into every caller, so that its constant arguments fold. */
#if defined(_MSC_VER)
#define I2C_WINO_INLINE __forceinline
#elif defined(__GNUC__)
#define I2C_WINO_INLINE inline __attribute__((always_inline))
#else
#define I2C_WINO_INLINE inline
#endif

/* The passes over tiles (winograd_template.c) are compiled twice with GCC on
 * x86-64 Linux with glibc: for AVX2 and for the baseline, chosen once at load
 * time by the CPU (an ifunc: glibc's, musl has none), so that wheels run anywhere and use 8-float vectors
 * where they can.  Both are the same element-wise operations (no FMA:
 * -ffp-contract=off; no sums reordered), so the results are bitwise the
 * same on every CPU.  Define I2C_NO_CLONES to build one version only. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) \
    && defined(__GLIBC__) && !defined(I2C_NO_CLONES)
#define I2C_WINO_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define I2C_WINO_CLONES
#endif

/* Tiles a kernel transforms at a time, at most (see winograd_template.c). */
#define WINO_RUN 64

/* Threads for `units` independent units of `per_unit` elements each. */
static int wino_threads(int num_threads, int64_t units, int64_t per_unit)
{
#ifdef _OPENMP
    int nt = num_threads > 0 ? num_threads : omp_get_max_threads();
    if ((int64_t)nt > units)
        nt = (int)units;
    if (units * per_unit < WINO_MIN_PARALLEL_WORK)
        nt = 1;
    return nt < 1 ? 1 : nt;
#else
    (void)num_threads;
    (void)units;
    (void)per_unit;
    return 1;
#endif
}

#define T float
#define FN(f) f##_f32
#include "winograd_template.c"
#undef T
#undef FN

#define T double
#define FN(f) f##_f64
#include "winograd_template.c"
#undef T
#undef FN
