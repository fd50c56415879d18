/*
 * depthwise.c -- the direct depthwise convolution kernels (no Python.h).
 *
 * The contract (layouts, summation order, threads) is in depthwise.h; each
 * function there is defined for float (_f32) and double (_f64) by including
 * the dtype-generic body depthwise_template.c twice.  Same portability and
 * IEEE rules as im2col_ext.c (C99, no VLAs, with or without OpenMP, never
 * -ffast-math: the summation order documented in depthwise.h relies on it).
 */
#include <stdint.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "depthwise.h"
#include "i2c_range.h"

#if defined(_MSC_VER)
#define I2C_DW_RESTRICT __restrict
#else
#define I2C_DW_RESTRICT __restrict__
#endif

/* SSE2 (part of x86-64) for the register-blocked chunks of dw_row_corr;
 * elsewhere, or with -DI2C_NO_SSE2, plain loops that compute the same bits
 * (gcc turns them into a poorer vectorization of the tap loop). */
#if !defined(I2C_NO_SSE2) && (defined(__x86_64__) || defined(_M_X64))
#include <emmintrin.h>
#define DW_HAVE_SSE2 1
#else
#define DW_HAVE_SSE2 0
#endif

/* Below this many multiply-adds per call a parallel region costs more than
 * it saves (the result is the same either way). */
#define DW_MIN_PARALLEL_WORK ((int64_t)1 << 15)

/* Interleaved partial sums of the channels-first dw (see depthwise.h); the
 * lane reduction in dw_lane_sum is written out for exactly 8. */
#define DW_LANES 8

/* Taps whose dw partial sums are held at once on the stack: channels first
 * DW_TAPS x DW_LANES sums, channels last DW_TAPS_V x DW_VB.  Kernels with
 * more taps make one pass over the data per block of taps. */
#define DW_TAPS 32
#define DW_TAPS_V 16

/* Widest block of channels (elements of the v axis) of the channels-last
 * dw; narrower blocks (down to DW_VB_MIN) when there would be fewer blocks
 * than threads.  The block width does not change any result. */
#define DW_VB 64
#define DW_VB_MIN 16

/* Row taps (valid kernel rows (k0, k1) of an output or dx row) combined in
 * one register-blocked pass of dw_row_corr; more take several passes. */
#define DW_ROWTAPS 64

/* Number of last-axis taps (k2) whose valid output range is computed once
 * per call (dw_ranges); wider kernels recompute the rest. */
#define DW_KCACHE 64


/* The valid output range along the last axis of every tap k2 < DW_KCACHE:
 * tap k2 reads source ox*s2 + k2*d2 - p2, inside [0, size2) for ox in
 * [lo[k2], hi[k2]). */
typedef struct {
    int64_t lo[DW_KCACHE], hi[DW_KCACHE];
} dw_ranges;

static void dw_fill_ranges(const i2c_win *w, dw_ranges *r)
{
    int64_t k2;
    for (k2 = 0; k2 < w->k[2] && k2 < DW_KCACHE; k2++)
        i2c_range(k2 * w->d[2] - w->p[2], w->s[2], w->size[2], w->o[2], &r->lo[k2], &r->hi[k2]);
}

/* [*lo, *hi) of tap k2, from the cache or recomputed. */
static void dw_k2_range(const i2c_win *w, const dw_ranges *r, int64_t k2, int64_t *lo,
                        int64_t *hi)
{
    if (k2 < DW_KCACHE) {
        *lo = r->lo[k2];
        *hi = r->hi[k2];
    } else {
        i2c_range(k2 * w->d[2] - w->p[2], w->s[2], w->size[2], w->o[2], lo, hi);
    }
}

/* Source index o*s + k*d - p of output o and tap k along axis a, or -1 when
 * it lies in the padding. */
static int64_t dw_source(const i2c_win *w, int a, int64_t o, int64_t k)
{
    const int64_t i = o * w->s[a] + k * w->d[a] - w->p[a];
    return i >= 0 && i < w->size[a] ? i : -1;
}

/* The output o that reads source i through tap k along axis a (i = o*s +
 * k*d - p), or -1 when there is none. */
static int64_t dw_output(const i2c_win *w, int a, int64_t i, int64_t k)
{
    const int64_t j = i + w->p[a] - k * w->d[a];
    int64_t o;
    if (j < 0)
        return -1;
    if (w->s[a] == 1) {
        o = j;
    } else {
        if (j % w->s[a] != 0)
            return -1;
        o = j / w->s[a];
    }
    return o < w->o[a] ? o : -1;
}

/* The thread count a call may use: num_threads <= 0 means OpenMP's default;
 * 1 without OpenMP. */
static int dw_max_threads(int num_threads)
{
#ifdef _OPENMP
    int nt = num_threads > 0 ? num_threads : omp_get_max_threads();
    return nt < 1 ? 1 : nt;
#else
    (void)num_threads;
    return 1;
#endif
}

/* Threads for `units` independent units of `per_unit` multiply-adds each:
 * never more than units, 1 for small calls. */
static int dw_threads(int num_threads, int64_t units, int64_t per_unit)
{
    int nt = dw_max_threads(num_threads);
    if ((int64_t)nt > units)
        nt = (int)units;
    if (units * per_unit < DW_MIN_PARALLEL_WORK)
        nt = 1;
    return nt < 1 ? 1 : nt;
}

/* Width of the channel blocks of the channels-last dw: DW_VB, halved while
 * there would be fewer than nt blocks in all (c blocks per v-block column),
 * never below DW_VB_MIN or above v. */
static int64_t dw_vblock(int64_t c, int64_t v, int nt)
{
    int64_t vb = DW_VB;
    while (vb > DW_VB_MIN && c * ((v + vb - 1) / vb) < (int64_t)nt)
        vb /= 2;
    return vb < v ? vb : v;
}

/* Per type: DW_CHUNK, the outputs of a row that dw_row_corr computes at
 * once, their sums in four SSE2 registers of DW_VN elements (DW_VEC, and
 * the intrinsics DW_V*: unaligned load / store, broadcast, zero, add,
 * multiply -- separately rounded, no fused multiply-add). */
#define T float
#define FN(f) f##_f32
#define DW_VN 4
#define DW_CHUNK 16
#if DW_HAVE_SSE2
#define DW_VEC __m128
#define DW_VLOAD _mm_loadu_ps
#define DW_VSTORE _mm_storeu_ps
#define DW_VSET1 _mm_set1_ps
#define DW_VZERO _mm_setzero_ps
#define DW_VADD _mm_add_ps
#define DW_VMUL _mm_mul_ps
#endif
#include "depthwise_template.c"
#undef T
#undef FN
#undef DW_VN
#undef DW_CHUNK
#undef DW_VEC
#undef DW_VLOAD
#undef DW_VSTORE
#undef DW_VSET1
#undef DW_VZERO
#undef DW_VADD
#undef DW_VMUL

#define T double
#define FN(f) f##_f64
#define DW_VN 2
#define DW_CHUNK 8
#if DW_HAVE_SSE2
#define DW_VEC __m128d
#define DW_VLOAD _mm_loadu_pd
#define DW_VSTORE _mm_storeu_pd
#define DW_VSET1 _mm_set1_pd
#define DW_VZERO _mm_setzero_pd
#define DW_VADD _mm_add_pd
#define DW_VMUL _mm_mul_pd
#endif
#include "depthwise_template.c"
#undef T
#undef FN
#undef DW_VN
#undef DW_CHUNK
#undef DW_VEC
#undef DW_VLOAD
#undef DW_VSTORE
#undef DW_VSET1
#undef DW_VZERO
#undef DW_VADD
#undef DW_VMUL
