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
#include "i2c_range.h"

#if defined(_MSC_VER)
#define I2C_RESTRICT __restrict
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L
#define I2C_RESTRICT restrict
#elif defined(__GNUC__)
#define I2C_RESTRICT __restrict__
#else
#define I2C_RESTRICT
#endif

/* A static function inlined into every caller: a call with a constant
 * argument is then compiled with the constant folded in (gather_wm's
 * zero-padded instance), and a short helper called for every row costs no
 * call (zero_run).  A plain inline where the compiler has no way to force
 * it. */
#if defined(_MSC_VER)
#define I2C_ALWAYS_INLINE __forceinline
#elif defined(__GNUC__)
#define I2C_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define I2C_ALWAYS_INLINE inline
#endif

/* A static function kept out of line (gather_plane_any), where the
 * compiler has a way. */
#if defined(_MSC_VER)
#define I2C_NOINLINE __declspec(noinline)
#elif defined(__GNUC__)
#define I2C_NOINLINE __attribute__((noinline))
#else
#define I2C_NOINLINE
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

/* col2im walks a plane tap by tap when it has at most this many bytes (it
 * then stays in the L1/L2 cache while each tap streams through cols). */
#define I2C_TAPS_PLANE_BYTES (64 * 1024)

/* col2im of the cs231n 6-D layout walks blocks of the planes of one channel
 * of at most this many bytes (they stay in L2 while each tap streams through
 * cols). */
#define I2C_CHANNEL_BLOCK_BYTES ((int64_t)512 * 1024)

/* Bytes of the stack copy of a plane split by column phase
 * (phase_split, col2im_plane_taps): a plane of the tap-major walk, and the padding
 * of its last phase column. */
#define I2C_PHASE_BYTES (72 * 1024)

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

/* 1 when the windows of one axis tile it exactly: every pixel in [0, size)
 * belongs to exactly one (window, tap) -- adjacent windows of k undilated
 * taps, s == k, reaching the end.  (p < k is implied: with s == k a window
 * inside the low padding would make o*s - p + k >= size false for the
 * sizes that conv_geometry accepts, and is harmless anyway: its taps are
 * all clipped.) */
static int i2c_axis_tiles(int64_t size, int64_t k, int64_t s, int64_t d, int64_t p, int64_t o)
{
    return s == k && (k == 1 || d == 1) && (o - 1) * s + k - p >= size;
}

/* 1 when the windows of plane g tile it exactly along both axes (2x2
 * stride-2 pools of an even image, say): col2im then only moves values,
 * each pixel's one tap being its first. */
static int i2c_plane_tiles(const i2c_geom *g)
{
    return i2c_axis_tiles(g->h, g->kh, g->sh, g->dh, g->ph, g->oh) &&
           i2c_axis_tiles(g->w, g->kw, g->sw, g->dw, g->pw, g->ow);
}

/* 1 when the windows of plane g are its pixels (1x1, stride 1, no
 * padding) and the columns' positions lie one stride apart: the plane's
 * columns are then the plane itself, relaid (the cs231n layout of such a
 * window is the plane transposed, which fast_layers' max pool uses to
 * move its argmax between layouts). */
static int i2c_plane_unit(const i2c_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 &&
           g->pw == 0 && g->cs[4] == g->w * g->cs[5];
}

/* Plane p of the n*c planes of w, as (n, c): n outer unless cols has n
 * inside c (the cs231n 6-D layout (C, kh, kw, N, oh, ow)): then c is outer,
 * so that consecutive planes continue the same cols streams, one per tap,
 * instead of starting kh*kw new ones a channel apart. */
static void i2c_plane_index(const i2c_win *w, int64_t p, int64_t *n, int64_t *c)
{
    if (w->cs[0] < w->cs[1]) {
        *n = p % w->n;
        *c = p / w->n;
    } else {
        *n = p / w->c;
        *c = p % w->c;
    }
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

/* Build queries for the Cython wrapper (declared there, not in the kernel
 * contract im2col_ext.h). */
int i2c_openmp_enabled(void);
int i2c_default_num_threads(void);
long long i2c_stream_min_bytes(void);

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

/* ------------------------------------------------------------------------
 * Streaming (non-temporal) stores.  im2col writes kh*kw times more data
 * than it reads; when that output is much larger than the caches, stores
 * that bypass them save the read-for-ownership of every cache line (about
 * a third of the memory traffic).  x86-64 only (SSE2 is part of the
 * baseline there); elsewhere, or with -DI2C_NO_STREAM, these helpers are
 * plain loops and are never selected.  They store exactly the same bits.
 * ------------------------------------------------------------------------ */
#if defined(__x86_64__) || defined(_M_X64)
#include <emmintrin.h>
#define I2C_HAVE_SSE2 1
#else
#define I2C_HAVE_SSE2 0
#endif
#if !defined(I2C_NO_STREAM) && I2C_HAVE_SSE2
#define I2C_HAVE_STREAM 1
#else
#define I2C_HAVE_STREAM 0
#endif

/* Gathers whose columns and image together are smaller than this keep
 * the columns in the cache (regular stores): they fit in the last-level
 * cache beside the image, and are likely to be read again soon (by the
 * product that follows).  Above it the streamed columns leave the cache
 * to the image.  Measured on a 32 MiB L3 (A/B medians of 7, out= gathers):
 * 10 MB columns of a 0.4 MB image 0.38x (unfold (64,1,28,28) 5x5) and
 * 0.72x (the course layout), 19 MB of a 2 MB image 0.75x (int32 3x3),
 * while 13 MB columns of a 13 MB image (2x2 stride 2) ran 1.36x slower
 * without streaming. */
#ifndef I2C_STREAM_MIN_BYTES
#define I2C_STREAM_MIN_BYTES ((int64_t)24 << 20)
#endif

/* 1 when the columns (items of cols_item bytes) and the image (x_item
 * bytes) of w together reach I2C_STREAM_MIN_BYTES: the size from which the
 * gathers and the tiling folds write with non-temporal stores. */
static int i2c_past_stream(const i2c_win *w, int64_t cols_item, int64_t x_item)
{
    const int64_t planes = w->n * w->c;
    const int64_t per_plane = w->k[0] * w->k[1] * w->k[2] * w->o[0] * w->o[1] * w->o[2] * w->v;
    const int64_t image = w->size[0] * w->size[1] * w->size[2] * w->v;
    return planes * (per_plane * cols_item + image * x_item) >= I2C_STREAM_MIN_BYTES;
}

/* The threshold above, for the tests (which size their arrays past it). */
long long i2c_stream_min_bytes(void)
{
    return (long long)I2C_STREAM_MIN_BYTES;
}

#if I2C_HAVE_STREAM
/* Non-temporal store of one 4-byte element (float or half a double). */
static void i2c_nt_store32(void *dst, const void *src)
{
    int bits;
    memcpy(&bits, src, sizeof(bits));
    _mm_stream_si32((int *)dst, bits);
}
#endif

/* dst[i] = src[i*sstep] for i < cnt with non-temporal stores (dst contiguous). */
static void i2c_stream_copy_f64(double *I2C_RESTRICT dst, const double *I2C_RESTRICT src,
                                int64_t sstep, int64_t cnt)
{
    int64_t i = 0;
#if I2C_HAVE_STREAM
    if (cnt > 0 && ((uintptr_t)dst & 15) != 0) {
        i2c_nt_store32(dst, src);
        i2c_nt_store32((char *)dst + 4, (const char *)src + 4);
        i = 1;
    }
    if (sstep == 1) {
        for (; i + 2 <= cnt; i += 2)
            _mm_stream_pd(dst + i, _mm_loadu_pd(src + i));
    } else {
        for (; i + 2 <= cnt; i += 2)
            _mm_stream_pd(dst + i, _mm_set_pd(src[(i + 1) * sstep], src[i * sstep]));
    }
    for (; i < cnt; i++) {
        i2c_nt_store32(dst + i, src + i * sstep);
        i2c_nt_store32((char *)(dst + i) + 4, (const char *)(src + i * sstep) + 4);
    }
#else
    for (; i < cnt; i++)
        dst[i] = src[i * sstep];
#endif
}

static void i2c_stream_copy_f32(float *I2C_RESTRICT dst, const float *I2C_RESTRICT src,
                                int64_t sstep, int64_t cnt)
{
    int64_t i = 0;
#if I2C_HAVE_STREAM
    for (; i < cnt && ((uintptr_t)(dst + i) & 15) != 0; i++)
        i2c_nt_store32(dst + i, src + i * sstep);
    if (sstep == 1) {
        for (; i + 4 <= cnt; i += 4)
            _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
    } else {
        for (; i + 4 <= cnt; i += 4)
            _mm_stream_ps(dst + i, _mm_set_ps(src[(i + 3) * sstep], src[(i + 2) * sstep],
                                              src[(i + 1) * sstep], src[i * sstep]));
    }
    for (; i < cnt; i++)
        i2c_nt_store32(dst + i, src + i * sstep);
#else
    for (; i < cnt; i++)
        dst[i] = src[i * sstep];
#endif
}

/* dst[i] = 0 for i < cnt with non-temporal stores (dst contiguous). */
static void i2c_stream_zero_f64(double *dst, int64_t cnt)
{
    int64_t i = 0;
#if I2C_HAVE_STREAM
    const double zero = 0.0;
    if (cnt > 0 && ((uintptr_t)dst & 15) != 0) {
        i2c_nt_store32(dst, &zero);
        i2c_nt_store32((char *)dst + 4, (const char *)&zero + 4);
        i = 1;
    }
    for (; i + 2 <= cnt; i += 2)
        _mm_stream_pd(dst + i, _mm_setzero_pd());
    for (; i < cnt; i++) {
        i2c_nt_store32(dst + i, &zero);
        i2c_nt_store32((char *)(dst + i) + 4, (const char *)&zero + 4);
    }
#else
    for (; i < cnt; i++)
        dst[i] = 0.0;
#endif
}

static void i2c_stream_zero_f32(float *dst, int64_t cnt)
{
    int64_t i = 0;
#if I2C_HAVE_STREAM
    const float zero = 0.0f;
    for (; i < cnt && ((uintptr_t)(dst + i) & 15) != 0; i++)
        i2c_nt_store32(dst + i, &zero);
    for (; i + 4 <= cnt; i += 4)
        _mm_stream_ps(dst + i, _mm_setzero_ps());
    for (; i < cnt; i++)
        i2c_nt_store32(dst + i, &zero);
#else
    for (; i < cnt; i++)
        dst[i] = 0.0f;
#endif
}

/* Bytes of a window row (k2*v elements) from which the window-major
 * gather streams its runs when it streams at all (I2C_STREAM_MIN_BYTES):
 * runs of adjacent windows continue each other in cols, so long runs fill
 * whole lines; short ones would be 4-byte stores at 9-byte steps. */
#define I2C_STREAM_MIN_RUN 64

/* memcpy(dst, src, n) with non-temporal stores: 16-byte stores from the
 * first 16-byte boundary of dst, 4-byte ones around them, bytes at a dst
 * not 4-byte aligned with plain stores.  dst and src do not overlap. */
static void i2c_stream_run(void *I2C_RESTRICT dst, const void *I2C_RESTRICT src, size_t n)
{
#if I2C_HAVE_STREAM
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    int bits;
    for (; n > 0 && ((uintptr_t)d & 3) != 0; n--)
        *d++ = *s++;
    for (; n >= 4 && ((uintptr_t)d & 15) != 0; n -= 4, d += 4, s += 4) {
        memcpy(&bits, s, 4);
        _mm_stream_si32((int *)(void *)d, bits);
    }
    for (; n >= 16; n -= 16, d += 16, s += 16)
        _mm_stream_si128((__m128i *)(void *)d, _mm_loadu_si128((const __m128i *)(const void *)s));
    for (; n >= 4; n -= 4, d += 4, s += 4) {
        memcpy(&bits, s, 4);
        _mm_stream_si32((int *)(void *)d, bits);
    }
    for (; n > 0; n--)
        *d++ = *s++;
#else
    memcpy(dst, src, n);
#endif
}

/* Make this thread's streaming stores visible before the parallel region
 * (or the call) ends. */
static void i2c_stream_fence(void)
{
#if I2C_HAVE_STREAM
    _mm_sfence();
#endif
}

/* Size of the stack tile used when v is strided in the image (cs231n
 * layout): a (columns, vectors) block of one image row, at most
 * I2C_TILE_V vectors wide, so that both the strided image rows and the
 * contiguous column vectors are walked in long runs. */
#define I2C_TILE 2048

/* Bytes of the stack buffer of a streamed torch-layout tap
 * (gather_plane_staged): a 32x32 float64 or 45x45 float32 output plane. */
#define I2C_STAGE_BYTES 8192
#define I2C_TILE_V 64

/* The cs231n layout of a C-contiguous image plane (the batch strided by a
 * whole image, the columns' vectors contiguous) is gathered through a
 * transposed copy of the plane, (h, w, vb) for blocks of vb images, of at
 * most this many bytes (it stays in the L2 cache): the image rows are read
 * in long runs, a few images at a time, and the copy is walked like a
 * channels-last plane. */
#define I2C_TRANSPOSE_BYTES ((int64_t)512 * 1024)

/* Software prefetch of the columns this many bytes ahead (prefetchnta:
 * into L1, sparing the outer caches) in the tap-by-tap folds, whose
 * accumulator is a plane in L1 or L2 and whose columns are one stream per
 * tap: the hardware prefetchers left the adds waiting on the columns, and
 * lines of the columns evicted lines of the accumulator.  Side by side,
 * float64 col2im_indices (32, 64, 32, 32) 3x3: 0.74x the time, the 6-D
 * layout 0.78x, fold (64, 1, 28, 28) 5x5: 0.71x. */
#define I2C_PREFETCH_BYTES 4096
#if I2C_HAVE_SSE2
#define I2C_PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_NTA)
#else
#define I2C_PREFETCH(p) ((void)0)
#endif

/* Images per block of the direct 2x2-stride-2 walks of the cs231n layout
 * (gather_course_pairs, col2im_course_pairs), and the most bytes of one
 * plane's columns that the gather writes a block at a time (see there). */
#define I2C_PAIRS_BLOCK 4
#define I2C_PAIRS_SPAN_BYTES ((int64_t)8 << 20)

/* The 2-D plane geometry of the (s1, s2) axes of w: what the plane kernels
 * of one (n, c, depth) slice take. */
static void i2c_plane_geom(const i2c_win *w, i2c_geom *g)
{
    g->n = w->n;
    g->c = w->c;
    g->h = w->size[1];
    g->w = w->size[2];
    g->v = w->v;
    g->kh = w->k[1];
    g->kw = w->k[2];
    g->oh = w->o[1];
    g->ow = w->o[2];
    g->sh = w->s[1];
    g->sw = w->s[2];
    g->ph = w->p[1];
    g->pw = w->p[2];
    g->dh = w->d[1];
    g->dw = w->d[2];
    g->xs[0] = w->xs[0];
    g->xs[1] = w->xs[1];
    g->xs[2] = w->xs[3];
    g->xs[3] = w->xs[4];
    g->xs[4] = w->xs[5];
    g->cs[0] = w->cs[0];
    g->cs[1] = w->cs[1];
    g->cs[2] = w->cs[3];
    g->cs[3] = w->cs[4];
    g->cs[4] = w->cs[6];
    g->cs[5] = w->cs[7];
    g->cs[6] = w->cs[8];
}

/* The short-run walk of gather_wm: window rows of at most I2C_SHORT_RUN
 * bytes, at most I2C_SHORT_ROWS rows (k0, k1) per window. */
#define I2C_SHORT_RUN 128
#define I2C_SHORT_ROWS 64

/* memcpy(dst, src, n) for the short runs of the window-major walks (a
 * window row of a few channels: 9 bytes for a 3x3 window of RGB uint8,
 * 72 for float64), inline, where a call to memcpy costs more than the
 * copy: 16-byte moves, the last one overlapping the one before it (runs
 * under 16 bytes: two overlapping moves of 8 or 4 bytes).  dst and src do
 * not overlap. */
static I2C_ALWAYS_INLINE void i2c_copy_short(void *I2C_RESTRICT dst,
                                             const void *I2C_RESTRICT src, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    if (n >= 16) {
        uint64_t a[2];
        size_t i;
        for (i = 0; i + 16 < n; i += 16) {
            memcpy(a, s + i, 16);
            memcpy(d + i, a, 16);
        }
        memcpy(a, s + n - 16, 16);
        memcpy(d + n - 16, a, 16);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else {
        size_t i;
        for (i = 0; i < n; i++)
            d[i] = s[i];
    }
}

/* 1 when the window-major walks (gather_wm, accumulate_wm) apply:
 * channels last, i.e. v > 1 contiguous in x and cols, x's last spatial
 * stride and cols' k2 stride equal to v, and no dilation along the last
 * axis, so that each window row (k0, k1) is one run of k2*v elements in
 * both arrays. */
static int i2c_window_major(const i2c_win *w)
{
    return w->v > 1 && w->xs[5] == 1 && w->cs[8] == 1 && w->xs[4] == w->v &&
           w->cs[4] == w->v && w->d[2] == 1;
}

/* The image rows (i0, i1), numbered f = i0*size1 + i1, that the windows
 * of window row (o0, o1) reach, on the window-major walk: [*lo, *hi) holds
 * all of them (0 when there are none), and *later is a row number no
 * window row after (o0, o1) reaches below (size0*size1 after the last). */
static int i2c_wm_rows(const i2c_win *w, int64_t o0, int64_t o1, int64_t *lo, int64_t *hi,
                       int64_t *later)
{
    const int64_t n1 = w->size[1];
    const int64_t first0 = o0 * w->s[0] - w->p[0], first1 = o1 * w->s[1] - w->p[1];
    int64_t a0, b0, a1, b1;
    *later = w->size[0] * n1;
    if (o1 + 1 < w->o[1]) {   /* (o0, o1 + 1 ..): i0 >= first0, i1 >= next1 */
        const int64_t next1 = (o1 + 1) * w->s[1] - w->p[1];
        *later = (first0 > 0 ? first0 : 0) * n1 + (next1 > 0 ? next1 : 0);
    }
    if (o0 + 1 < w->o[0]) {   /* (o0 + 1 .., any o1): i0 >= next0 */
        const int64_t next0 = (o0 + 1) * w->s[0] - w->p[0];
        if ((next0 > 0 ? next0 : 0) * n1 < *later)
            *later = (next0 > 0 ? next0 : 0) * n1;
    }
    /* the taps [a, b) of the window row inside the image, along each axis */
    i2c_range(first0, w->d[0], w->size[0], w->k[0], &a0, &b0);
    i2c_range(first1, w->d[1], n1, w->k[1], &a1, &b1);
    if (a0 >= b0 || a1 >= b1)
        return 0;
    *lo = (first0 + a0 * w->d[0]) * n1 + first1 + a1 * w->d[1];
    *hi = (first0 + (b0 - 1) * w->d[0]) * n1 + first1 + (b1 - 1) * w->d[1] + 1;
    return 1;
}

/* ------------------------------------------------------------------------
 * Padding modes of the gathers (issue 11): the source index that padding
 * `mode` reads along an axis of size n.
 * ------------------------------------------------------------------------ */

/* Index in [0, n) that `mode` reads at index i of an axis of size n >= 1,
 * or -1 when it reads no element (zeros, constant).  Any i is accepted:
 * reflect is numpy.pad's "reflect" (period 2*(n-1), the edge not repeated),
 * replicate clamps ("edge"), circular wraps ("wrap"). */
static int64_t i2c_pad_index(int mode, int64_t i, int64_t n)
{
    int64_t period;
    if (i >= 0 && i < n)
        return i;
    switch (mode) {
    case I2C_PAD_REPLICATE:
        return i < 0 ? 0 : n - 1;
    case I2C_PAD_CIRCULAR:
        i %= n;
        return i < 0 ? i + n : i;
    case I2C_PAD_REFLECT:
        if (n == 1)
            return 0;
        period = 2 * (n - 1);
        i %= period;
        if (i < 0)
            i += period;
        return i < n ? i : period - i;
    default:
        return -1;
    }
}

/* The affine source map of a run of padding indices i = ia + t*step
 * (t = 0, 1, ...), all below 0 (ia < 0) or all at or above n: the run reads
 * index *start + t * *mstep.  Holds for reading modes (reflect, replicate,
 * circular) within the padding the API allows: reflect -n < i < 2n - 1,
 * circular -n <= i < 2n; replicate any i.  step >= 0. */
static void i2c_edge_map(int mode, int64_t ia, int64_t step, int64_t n, int64_t *start,
                         int64_t *mstep)
{
    const int low = ia < 0;
    if (mode == I2C_PAD_REPLICATE) {
        *start = low ? 0 : n - 1;
        *mstep = 0;
    } else if (mode == I2C_PAD_REFLECT) {
        *start = low ? -ia : 2 * (n - 1) - ia;
        *mstep = -step;
    } else {  /* circular */
        *start = low ? ia + n : ia - n;
        *mstep = step;
    }
}

/* 1 when the n bytes at p are all zero (a constant fill that is zeros). */
static int i2c_all_zero(const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

/* 1 when the windows of w never leave the image along axes 1 and 2 (no
 * padding read there): the plane walks of the zero-padded gather then
 * serve every mode. */
static int i2c_plane_inside(const i2c_win *w)
{
    int a;
    for (a = 1; a < 3; a++)
        if (w->p[a] != 0 || (w->o[a] - 1) * w->s[a] + (w->k[a] - 1) * w->d[a] >= w->size[a])
            return 0;
    return 1;
}

/* Element types of the gathers: unsigned integers of each size, and a
 * 16-byte pair (complex128, longdouble, 16-byte records).  Streaming stores
 * are used for the 4- and 8-byte sizes (bit copies through the float
 * routines above, which only move bits). */
typedef struct {
    uint64_t lo, hi;
} i2c_b16_t;

static void i2c_stream_copy_b4(uint32_t *dst, const uint32_t *src, int64_t sstep, int64_t cnt)
{
    i2c_stream_copy_f32((float *)dst, (const float *)src, sstep, cnt);
}
static void i2c_stream_zero_b4(uint32_t *dst, int64_t cnt)
{
    i2c_stream_zero_f32((float *)dst, cnt);
}
static void i2c_stream_copy_b8(uint64_t *dst, const uint64_t *src, int64_t sstep, int64_t cnt)
{
    i2c_stream_copy_f64((double *)dst, (const double *)src, sstep, cnt);
}
static void i2c_stream_zero_b8(uint64_t *dst, int64_t cnt)
{
    i2c_stream_zero_f64((double *)dst, cnt);
}

/* Sizes without streaming stores get plain loops (never called: their
 * I2C_T_STREAM is 0). */
#define I2C_PLAIN_STREAM(sfx, TT)                                                      \
    static void i2c_stream_copy_##sfx(TT *dst, const TT *src, int64_t sstep, int64_t cnt) \
    {                                                                                  \
        int64_t i;                                                                     \
        for (i = 0; i < cnt; i++)                                                      \
            dst[i] = src[i * sstep];                                                   \
    }                                                                                  \
    static void i2c_stream_zero_##sfx(TT *dst, int64_t cnt)                            \
    {                                                                                  \
        memset(dst, 0, (size_t)cnt * sizeof(TT));                                      \
    }
I2C_PLAIN_STREAM(b1, uint8_t)
I2C_PLAIN_STREAM(b2, uint16_t)
I2C_PLAIN_STREAM(b16, i2c_b16_t)

#define I2C_PASTE(a, b) a##b
#define I2C_XPASTE(a, b) I2C_PASTE(a, b)
#define FN(name) I2C_XPASTE(name, I2C_SUFFIX)

/* Each inclusion of the template defines the sections its flags ask for:
 * I2C_GATHER (the gathers, by element size), I2C_ACCUM (col2im, by
 * arithmetic type), I2C_POOL (the pooling kernels, floating types). */
#define I2C_ZERO ((T)0)

#define I2C_GATHER 1
#define I2C_ACCUM 0
#define I2C_POOL 0
#define I2C_T_STREAM 0
#define T uint8_t
#define I2C_SUFFIX _b1
#include "im2col_ext_template.c"
#undef T
#undef I2C_SUFFIX

#define T uint16_t
#define I2C_SUFFIX _b2
#include "im2col_ext_template.c"
#undef T
#undef I2C_SUFFIX

#undef I2C_ZERO
#define I2C_ZERO i2c_b16_zero
static const i2c_b16_t i2c_b16_zero = {0, 0};
#define T i2c_b16_t
#define I2C_SUFFIX _b16
#include "im2col_ext_template.c"
#undef T
#undef I2C_SUFFIX
#undef I2C_ZERO
#define I2C_ZERO ((T)0)

#undef I2C_T_STREAM
#define I2C_T_STREAM 1
#define T uint32_t
#define I2C_SUFFIX _b4
#include "im2col_ext_template.c"
#undef T
#undef I2C_SUFFIX

#define T uint64_t
#define I2C_SUFFIX _b8
#include "im2col_ext_template.c"
#undef T
#undef I2C_SUFFIX

#undef I2C_GATHER
#define I2C_GATHER 0
#undef I2C_ACCUM
#define I2C_ACCUM 1

/* The value of a cols element as the accumulator type T. */
#define I2C_LOAD(s) ((T)(s))

/* Elements of the narrow accumulator's stack tile (col2im_plane_narrow):
 * a band of whole image rows, 8 or 16 KiB. */
#define I2C_NARROW_TILE 4096

/* Elements of the narrow accumulator's ring of image rows on the
 * window-major walk (accumulate_wm_narrow): 16 or 32 KiB, in L1. */
#define I2C_NARROW_RING 8192

#if I2C_HAVE_SSE2
/* Bytes 0..15 all ones, then 16 zero bytes: loaded at offset 16 - n, the
 * mask of the first n bytes of a 16-byte vector. */
static const unsigned char i2c_first_bytes[32] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
#endif

/* float16 (its bits, a uint16_t) -> float, exactly (every half is a
 * float), without _Float16 or F16C: normal numbers re-biased, subnormals
 * and zeros as m * 2**-24 (an exact product), infinities and NaNs with
 * their payload (the bits NumPy's conversion gives).  Mask selects rather
 * than branches or ?: (gcc then reported "control flow in loop"), so the
 * loops that call it vectorise. */
static float i2c_half_to_float(uint16_t h)
{
    const uint32_t em = (uint32_t)h & 0x7fffu;
    const uint32_t sign = ((uint32_t)h & 0x8000u) << 16;
    const float sub = (float)(int32_t)em * 5.9604644775390625e-08f;   /* 2**-24 */
    const uint32_t infnan = 0u - (uint32_t)(em >= 0x7c00u);   /* all ones or 0 */
    const uint32_t tiny = 0u - (uint32_t)(em < 0x0400u);
    uint32_t sbits, bits;
    float f;
    memcpy(&sbits, &sub, sizeof(sbits));
    bits = (em << 13) + (112u << 23) + (infnan & (112u << 23));   /* re-bias by 127 - 15 */
    bits = (sbits & tiny) | (bits & ~tiny);
    bits |= sign;
    memcpy(&f, &bits, sizeof(f));
    return f;
}
/* Accumulations: TS is the element type of cols, T the type of the image
 * (the accumulator).  Mixed pairs widen each element as it is added, as
 * np.sum does for small integers (no widened copy of cols). */
#define TS int64_t
#define T int64_t
#define I2C_SUFFIX _i64
#include "im2col_ext_template.c"
#undef T
#undef TS
#undef I2C_SUFFIX

#define TS uint64_t
#define T uint64_t
#define I2C_SUFFIX _u64
#include "im2col_ext_template.c"
#undef T
#undef TS
#undef I2C_SUFFIX

#define TS int8_t
#define T int64_t
#define TA int16_t
#define I2C_TA_MAX_TAPS 256
#define I2C_SUFFIX _i8_i64
#include "im2col_ext_template.c"
#undef T
#undef TS
#undef TA
#undef I2C_TA_MAX_TAPS
#undef I2C_SUFFIX

#define TS int16_t
#define T int64_t
#define TA int32_t
#define I2C_TA_MAX_TAPS 65536
#define I2C_SUFFIX _i16_i64
#include "im2col_ext_template.c"
#undef T
#undef TS
#undef TA
#undef I2C_TA_MAX_TAPS
#undef I2C_SUFFIX

#define TS int32_t
#define T int64_t
#define I2C_SUFFIX _i32_i64
#include "im2col_ext_template.c"
#undef T
#undef TS
#undef I2C_SUFFIX

#define TS uint8_t
#define T int64_t
#define TA uint16_t
#define I2C_TA_MAX_TAPS 257
#define I2C_SUFFIX _u8_i64
#include "im2col_ext_template.c"
#undef T
#undef TS
#undef TA
#undef I2C_TA_MAX_TAPS
#undef I2C_SUFFIX

#define TS uint8_t
#define T uint64_t
#define TA uint16_t
#define I2C_TA_MAX_TAPS 257
#define I2C_SUFFIX _u8_u64
#include "im2col_ext_template.c"
#undef T
#undef TS
#undef TA
#undef I2C_TA_MAX_TAPS
#undef I2C_SUFFIX

#define TS uint16_t
#define T uint64_t
#define TA uint32_t
#define I2C_TA_MAX_TAPS 65537
#define I2C_SUFFIX _u16_u64
#include "im2col_ext_template.c"
#undef T
#undef TS
#undef TA
#undef I2C_TA_MAX_TAPS
#undef I2C_SUFFIX

#define TS uint32_t
#define T uint64_t
#define I2C_SUFFIX _u32_u64
#include "im2col_ext_template.c"
#undef T
#undef TS
#undef I2C_SUFFIX

/* float16 columns (their bits) summed in float, as np.sum does. */
#undef I2C_LOAD
#define I2C_LOAD(s) i2c_half_to_float(s)
#define TS uint16_t
#define T float
#define I2C_SUFFIX _f16_f32
#include "im2col_ext_template.c"
#undef T
#undef TS
#undef I2C_SUFFIX
#undef I2C_LOAD
#define I2C_LOAD(s) ((T)(s))

#undef I2C_POOL
#define I2C_POOL 1
/* The float vectors of col2im_plane_pairs (SSE2): I2C_FV_LO / _HI
 * interleave the low / high halves of two vectors' lanes; I2C_FV_STREAM
 * is the non-temporal (aligned) store. */
#if I2C_HAVE_SSE2
#define I2C_FV __m128
#define I2C_FV_LANES 4
#define I2C_FV_LOAD _mm_loadu_ps
#define I2C_FV_STORE _mm_storeu_ps
#define I2C_FV_STREAM _mm_stream_ps
#define I2C_FV_ZERO _mm_setzero_ps
#define I2C_FV_ADD _mm_add_ps
#define I2C_FV_LO _mm_unpacklo_ps
#define I2C_FV_HI _mm_unpackhi_ps
#endif
#define TS float
#define T float
#define I2C_SUFFIX _f32
#include "im2col_ext_template.c"
#undef T
#undef TS
#undef I2C_SUFFIX

#if I2C_HAVE_SSE2
#undef I2C_FV
#undef I2C_FV_LANES
#undef I2C_FV_LOAD
#undef I2C_FV_STORE
#undef I2C_FV_STREAM
#undef I2C_FV_ZERO
#undef I2C_FV_ADD
#undef I2C_FV_LO
#undef I2C_FV_HI
#define I2C_FV __m128d
#define I2C_FV_LANES 2
#define I2C_FV_LOAD _mm_loadu_pd
#define I2C_FV_STORE _mm_storeu_pd
#define I2C_FV_STREAM _mm_stream_pd
#define I2C_FV_ZERO _mm_setzero_pd
#define I2C_FV_ADD _mm_add_pd
#define I2C_FV_LO _mm_unpacklo_pd
#define I2C_FV_HI _mm_unpackhi_pd
#endif
#define TS double
#define T double
#define I2C_SUFFIX _f64
#include "im2col_ext_template.c"
#undef T
#undef TS
#undef I2C_SUFFIX

/* The public gathers take untyped pointers: one kernel per element size.
 * Both take the one dispatch gather_nd, the zero-padded one with mode
 * I2C_PAD_ZEROS (gather_nd also takes a constant whose bytes are all zero
 * as zeros). */
#define I2C_GATHER_ENTRIES(SFX, TT)                                                      \
    void i2c_gather_##SFX(const void *x, void *cols, const i2c_win *w, int num_threads)    \
    {                                                                                      \
        gather_nd_##SFX((const TT *)x, (TT *)cols, w, I2C_PAD_ZEROS, NULL, num_threads);   \
    }                                                                                      \
    void i2c_gather_mode_##SFX(const void *x, void *cols, const i2c_win *w, int mode,      \
                               const void *value, int num_threads)                         \
    {                                                                                      \
        gather_nd_##SFX((const TT *)x, (TT *)cols, w, mode, (const TT *)value, num_threads); \
    }
I2C_GATHER_ENTRIES(b1, uint8_t)
I2C_GATHER_ENTRIES(b2, uint16_t)
I2C_GATHER_ENTRIES(b4, uint32_t)
I2C_GATHER_ENTRIES(b8, uint64_t)
I2C_GATHER_ENTRIES(b16, i2c_b16_t)
