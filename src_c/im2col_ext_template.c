/*
 * im2col_ext_template.c -- the dtype-generic body of the kernels.
 *
 * Not compiled on its own: im2col_ext.c includes it once per element type
 * after defining
 *   T       the element type (float or double)
 *   FN(f)   the name of function f for that type (f_f32 or f_f64, from
 *           the suffix macro I2C_SUFFIX)
 * and, for the accumulations (I2C_ACCUM):
 *   TS          the element type of cols (T itself, or a narrower one)
 *   I2C_LOAD(s) the value of cols element s as a T (a cast, or the
 *               float16 -> float conversion)
 *   TA          (optional) a narrow accumulator type between TS and T,
 *               exact for up to I2C_TA_MAX_TAPS taps per plane (see
 *               col2im_plane_narrow)
 * Layouts, strides and the meaning of every public function are those of
 * im2col_ext.h; all strides are in elements and may be negative or zero.
 * Helpers shared by both types (i2c_range, i2c_plan_threads, ...) live in
 * im2col_ext.c.
 */

/* ------------------------------------------------------------------------
 * Row primitives.  A "block" is cnt items along the ox (or ix) axis, each a
 * vector of v elements:
 *   element (i, j) of dst is dst[i*dstep + j*dvs], of src is src[i*sstep + j*svs]
 * The branches only pick the fastest loop for the strides at hand; they all
 * do the same element-wise operation.
 * ------------------------------------------------------------------------ */

/* dst(i, j) = 0 for i < cnt, j < v. */
static void FN(zero_block)(T *dst, int64_t dstep, int64_t dvs, int64_t cnt, int64_t v)
{
    int64_t i, j;
    if (cnt <= 0)
        return;
    if (v == 1) {
        if (dstep == 1) {
            memset(dst, 0, (size_t)cnt * sizeof(T));
        } else {
            for (i = 0; i < cnt; i++)
                dst[i * dstep] = I2C_ZERO;
        }
    } else if (dvs == 1) {
        if (dstep == v) {
            memset(dst, 0, (size_t)(cnt * v) * sizeof(T));
        } else {
            for (i = 0; i < cnt; i++)
                memset(dst + i * dstep, 0, (size_t)v * sizeof(T));
        }
    } else {
        for (i = 0; i < cnt; i++) {
            T *d = dst + i * dstep;
            for (j = 0; j < v; j++)
                d[j * dvs] = I2C_ZERO;
        }
    }
}

#if I2C_GATHER
/* dst(i, j) = src(i, j) for i < cnt, j < v (dst and src never overlap). */
static void FN(copy_block)(T *I2C_RESTRICT dst, int64_t dstep, int64_t dvs,
                           const T *I2C_RESTRICT src, int64_t sstep, int64_t svs,
                           int64_t cnt, int64_t v)
{
    int64_t i, j;
    if (cnt <= 0)
        return;
    if (v == 1) {
        if (dstep == 1 && sstep == 1) {
            memcpy(dst, src, (size_t)cnt * sizeof(T));
        } else if (dstep == 1) {
            for (i = 0; i < cnt; i++)
                dst[i] = src[i * sstep];
        } else {
            for (i = 0; i < cnt; i++)
                dst[i * dstep] = src[i * sstep];
        }
    } else if (dvs == 1 && svs == 1) {
        if (dstep == v && sstep == v) {
            memcpy(dst, src, (size_t)(cnt * v) * sizeof(T));
        } else {
            for (i = 0; i < cnt; i++)
                memcpy(dst + i * dstep, src + i * sstep, (size_t)v * sizeof(T));
        }
    } else if (dvs == 1) {
        /* cs231n layout: contiguous vectors in cols, one image per element
         * in x.  Each source line is reused for the next ox, so the v lines
         * being read stay in cache while the row is swept. */
        for (i = 0; i < cnt; i++) {
            T *I2C_RESTRICT d = dst + i * dstep;
            const T *s = src + i * sstep;
            for (j = 0; j < v; j++)
                d[j] = s[j * svs];
        }
    } else {
        for (i = 0; i < cnt; i++) {
            T *d = dst + i * dstep;
            const T *s = src + i * sstep;
            for (j = 0; j < v; j++)
                d[j * dvs] = s[j * svs];
        }
    }
}

#endif /* I2C_GATHER */

#if I2C_ACCUM
/* dst(i, j) += src(i, j) for i < cnt, j < v (no overlap; within one block
 * every dst element is distinct, so the order inside a block is free); with
 * `set`, dst(i, j) = 0 + src(i, j) instead: the first tap of a pixel that
 * nobody zeroed, the same bits as zeroing then adding (0 + -0.0 is +0.0). */
#define I2C_ACC(d, s) ((d) = (set ? I2C_ZERO : (d)) + I2C_LOAD(s))
static void FN(add_block)(T *I2C_RESTRICT dst, int64_t dstep, int64_t dvs,
                          const TS *I2C_RESTRICT src, int64_t sstep, int64_t svs,
                          int64_t cnt, int64_t v, int set)
{
    int64_t i, j;
    if (v == 1) {
        if (dstep == 1 && sstep == 1) {
            for (i = 0; i < cnt; i++)
                I2C_ACC(dst[i], src[i]);
        } else if (sstep == 1) {
            for (i = 0; i < cnt; i++)
                I2C_ACC(dst[i * dstep], src[i]);
        } else {
            for (i = 0; i < cnt; i++)
                I2C_ACC(dst[i * dstep], src[i * sstep]);
        }
    } else if (dvs == 1 && svs == 1) {
        /* the prefetch runs I2C_PREFETCH_BYTES ahead, or one vector ahead
         * where vectors lie further apart (a block of a cs231n plane) */
        const int64_t sb = sstep * (int64_t)sizeof(TS);
        const int64_t ahead =
            (sb < I2C_PREFETCH_BYTES && sb > 0 ? I2C_PREFETCH_BYTES / sb : 1) * sstep;
        for (i = 0; i < cnt; i++) {
            T *I2C_RESTRICT d = dst + i * dstep;
            const TS *I2C_RESTRICT s = src + i * sstep;
            for (j = 0; j < v; j += 64 / (int64_t)sizeof(TS))
                I2C_PREFETCH(s + ahead + j);
            for (j = 0; j < v; j++)
                I2C_ACC(d[j], s[j]);
        }
    } else if (svs == 1) {
        /* cs231n layout: contiguous vectors in cols, one image per element
         * in x; the caller keeps the touched image rows hot in cache. */
        for (i = 0; i < cnt; i++) {
            T *d = dst + i * dstep;
            const TS *I2C_RESTRICT s = src + i * sstep;
            for (j = 0; j < v; j++)
                I2C_ACC(d[j * dvs], s[j]);
        }
    } else {
        for (i = 0; i < cnt; i++) {
            T *d = dst + i * dstep;
            const TS *s = src + i * sstep;
            for (j = 0; j < v; j++)
                I2C_ACC(d[j * dvs], s[j * svs]);
        }
    }
}

#endif /* I2C_ACCUM */

#if I2C_POOL
/* dst[i*dstep] += src[i] / div for i < cnt (avg-pool scatter; v == 1). */
static void FN(add_div_block)(T *I2C_RESTRICT dst, int64_t dstep,
                              const T *I2C_RESTRICT src, T div, int64_t cnt)
{
    int64_t i;
    if (dstep == 1) {
        for (i = 0; i < cnt; i++)
            dst[i] += src[i] / div;
    } else {
        for (i = 0; i < cnt; i++)
            dst[i * dstep] += src[i] / div;
    }
}

#endif /* I2C_POOL */

#if I2C_GATHER || I2C_ACCUM
/* ------------------------------------------------------------------------
 * Plane transposes for the cs231n layout (the batch v strided by a whole
 * image in x, contiguous in cols): blocks of images are moved through an
 * (h*w, vb) copy of the plane that stays in the L2 cache (see
 * I2C_TRANSPOSE_BYTES).  Pure copies: bits are moved unchanged.
 * ------------------------------------------------------------------------ */

/* xt[q*ld + j] = xp[j*xs4 + q] for q < hw, j < vb: a (vb, hw) block of
 * image rows (each contiguous, xs4 apart) transposed into xt (hw, vb) with
 * rows ld apart, a cache line of vectors at a time so that every line of
 * xt is written whole. */
static void FN(transpose_plane)(const T *xp, int64_t xs4, int64_t hw, int64_t vb, T *xt,
                                int64_t ld)
{
    enum { JB = 64 / sizeof(T) > 0 ? 64 / sizeof(T) : 1, QB = 256 };
    int64_t j0, q0, j, q;
    for (q0 = 0; q0 < hw; q0 += QB) {
        const int64_t qn = hw - q0 < QB ? hw - q0 : QB;
        for (j0 = 0; j0 < vb; j0 += JB) {
            const int64_t jn = vb - j0 < JB ? vb - j0 : JB;
            j = j0;
#if I2C_HAVE_STREAM
            /* SSE2 4x4 (4-byte items) and 2x2 (8-byte items) register transposes */
            if (sizeof(T) == 4) {
                for (; j + 8 <= j0 + jn; j += 8) {
                    /* 8 image rows read side by side (8 streams in flight;
                     * more would share an 8-way L1 set when the image
                     * stride is a multiple of 4 KiB) */
                    const float *s[8];
                    int jj;
                    for (jj = 0; jj < 8; jj++)
                        s[jj] = (const float *)(xp + (j + jj) * xs4 + q0);
                    for (q = 0; q + 4 <= qn; q += 4) {
                        float *d = (float *)(xt + (q0 + q) * ld + j);
                        for (jj = 0; jj < 8; jj += 4) {
                            __m128 r0 = _mm_loadu_ps(s[jj] + q), r1 = _mm_loadu_ps(s[jj + 1] + q);
                            __m128 r2 = _mm_loadu_ps(s[jj + 2] + q), r3 = _mm_loadu_ps(s[jj + 3] + q);
                            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
                            _mm_storeu_ps(d + jj, r0);
                            _mm_storeu_ps(d + ld + jj, r1);
                            _mm_storeu_ps(d + 2 * ld + jj, r2);
                            _mm_storeu_ps(d + 3 * ld + jj, r3);
                        }
                    }
                    for (; q < qn; q++) {
                        for (jj = 0; jj < 8; jj++)
                            xt[(q0 + q) * ld + j + jj] = xp[(j + jj) * xs4 + q0 + q];
                    }
                }
                for (; j + 4 <= j0 + jn; j += 4) {
                    const float *s0 = (const float *)(xp + j * xs4 + q0);
                    const float *s1 = (const float *)(xp + (j + 1) * xs4 + q0);
                    const float *s2 = (const float *)(xp + (j + 2) * xs4 + q0);
                    const float *s3 = (const float *)(xp + (j + 3) * xs4 + q0);
                    for (q = 0; q + 4 <= qn; q += 4) {
                        __m128 r0 = _mm_loadu_ps(s0 + q), r1 = _mm_loadu_ps(s1 + q);
                        __m128 r2 = _mm_loadu_ps(s2 + q), r3 = _mm_loadu_ps(s3 + q);
                        float *d = (float *)(xt + (q0 + q) * ld + j);
                        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
                        _mm_storeu_ps(d, r0);
                        _mm_storeu_ps(d + ld, r1);
                        _mm_storeu_ps(d + 2 * ld, r2);
                        _mm_storeu_ps(d + 3 * ld, r3);
                    }
                    for (; q < qn; q++) {
                        T *d = xt + (q0 + q) * ld + j;
                        d[0] = xp[j * xs4 + q0 + q];
                        d[1] = xp[(j + 1) * xs4 + q0 + q];
                        d[2] = xp[(j + 2) * xs4 + q0 + q];
                        d[3] = xp[(j + 3) * xs4 + q0 + q];
                    }
                }
            } else if (sizeof(T) == 8) {
                if (jn == JB) {
                    /* a whole line of xt at a time: the JB image rows are
                     * read side by side (JB streams in flight) */
                    const double *s[JB];
                    int jj;
                    for (jj = 0; jj < JB; jj++)
                        s[jj] = (const double *)(xp + (j0 + jj) * xs4 + q0);
                    for (q = 0; q + 2 <= qn; q += 2) {
                        double *d = (double *)(xt + (q0 + q) * ld + j0);
                        for (jj = 0; jj < JB; jj += 2) {
                            const __m128d r0 = _mm_loadu_pd(s[jj] + q), r1 = _mm_loadu_pd(s[jj + 1] + q);
                            _mm_storeu_pd(d + jj, _mm_unpacklo_pd(r0, r1));
                            _mm_storeu_pd(d + ld + jj, _mm_unpackhi_pd(r0, r1));
                        }
                    }
                    for (; q < qn; q++) {
                        for (jj = 0; jj < JB; jj++)
                            xt[(q0 + q) * ld + j0 + jj] = xp[(j0 + jj) * xs4 + q0 + q];
                    }
                    j = j0 + JB;
                }
                for (; j + 2 <= j0 + jn; j += 2) {
                    const double *s0 = (const double *)(xp + j * xs4 + q0);
                    const double *s1 = (const double *)(xp + (j + 1) * xs4 + q0);
                    for (q = 0; q + 2 <= qn; q += 2) {
                        const __m128d r0 = _mm_loadu_pd(s0 + q), r1 = _mm_loadu_pd(s1 + q);
                        double *d = (double *)(xt + (q0 + q) * ld + j);
                        _mm_storeu_pd(d, _mm_unpacklo_pd(r0, r1));
                        _mm_storeu_pd(d + ld, _mm_unpackhi_pd(r0, r1));
                    }
                    for (; q < qn; q++) {
                        T *d = xt + (q0 + q) * ld + j;
                        d[0] = xp[j * xs4 + q0 + q];
                        d[1] = xp[(j + 1) * xs4 + q0 + q];
                    }
                }
            }
#endif
            for (; j < j0 + jn; j++) {
                const T *src = xp + j * xs4 + q0;
                T *dst = xt + q0 * ld + j;
                for (q = 0; q < qn; q++)
                    dst[q * ld] = src[q];
            }
        }
    }
}

#if I2C_ACCUM
/* The inverse of transpose_plane: xp[j*xs4 + q] = xt[q*ld + j]. */
static void FN(untranspose_plane)(const T *xt, int64_t ld, int64_t hw, int64_t vb, T *xp,
                                  int64_t xs4)
{
    enum { JB = 64 / sizeof(T) > 0 ? 64 / sizeof(T) : 1, QB = 256 };
    int64_t j0, q0, j, q;
    for (q0 = 0; q0 < hw; q0 += QB) {
        const int64_t qn = hw - q0 < QB ? hw - q0 : QB;
        for (j0 = 0; j0 < vb; j0 += JB) {
            const int64_t jn = vb - j0 < JB ? vb - j0 : JB;
            j = j0;
#if I2C_HAVE_STREAM
            /* SSE2 4x4 (4-byte items) and 2x2 (8-byte items) register transposes */
            if (sizeof(T) == 4) {
                for (; j + 4 <= j0 + jn; j += 4) {
                    float *s0 = (float *)(xp + j * xs4 + q0);
                    float *s1 = (float *)(xp + (j + 1) * xs4 + q0);
                    float *s2 = (float *)(xp + (j + 2) * xs4 + q0);
                    float *s3 = (float *)(xp + (j + 3) * xs4 + q0);
                    for (q = 0; q + 4 <= qn; q += 4) {
                        const float *d = (const float *)(xt + (q0 + q) * ld + j);
                        __m128 r0 = _mm_loadu_ps(d), r1 = _mm_loadu_ps(d + ld);
                        __m128 r2 = _mm_loadu_ps(d + 2 * ld), r3 = _mm_loadu_ps(d + 3 * ld);
                        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
                        _mm_storeu_ps(s0 + q, r0);
                        _mm_storeu_ps(s1 + q, r1);
                        _mm_storeu_ps(s2 + q, r2);
                        _mm_storeu_ps(s3 + q, r3);
                    }
                    for (; q < qn; q++) {
                        const T *d = xt + (q0 + q) * ld + j;
                        xp[j * xs4 + q0 + q] = d[0];
                        xp[(j + 1) * xs4 + q0 + q] = d[1];
                        xp[(j + 2) * xs4 + q0 + q] = d[2];
                        xp[(j + 3) * xs4 + q0 + q] = d[3];
                    }
                }
            } else if (sizeof(T) == 8) {
                for (; j + 8 <= j0 + jn; j += 8) {
                    /* 8 image rows written side by side, a line of xt per
                     * step */
                    double *s[8];
                    int jj;
                    for (jj = 0; jj < 8; jj++)
                        s[jj] = (double *)(xp + (j + jj) * xs4 + q0);
                    for (q = 0; q + 2 <= qn; q += 2) {
                        const double *d = (const double *)(xt + (q0 + q) * ld + j);
                        for (jj = 0; jj < 8; jj += 2) {
                            const __m128d r0 = _mm_loadu_pd(d + jj), r1 = _mm_loadu_pd(d + ld + jj);
                            _mm_storeu_pd(s[jj] + q, _mm_unpacklo_pd(r0, r1));
                            _mm_storeu_pd(s[jj + 1] + q, _mm_unpackhi_pd(r0, r1));
                        }
                    }
                    for (; q < qn; q++) {
                        for (jj = 0; jj < 8; jj++)
                            xp[(j + jj) * xs4 + q0 + q] = xt[(q0 + q) * ld + j + jj];
                    }
                }
                for (; j + 2 <= j0 + jn; j += 2) {
                    double *s0 = (double *)(xp + j * xs4 + q0);
                    double *s1 = (double *)(xp + (j + 1) * xs4 + q0);
                    for (q = 0; q + 2 <= qn; q += 2) {
                        const double *d = (const double *)(xt + (q0 + q) * ld + j);
                        const __m128d r0 = _mm_loadu_pd(d), r1 = _mm_loadu_pd(d + ld);
                        _mm_storeu_pd(s0 + q, _mm_unpacklo_pd(r0, r1));
                        _mm_storeu_pd(s1 + q, _mm_unpackhi_pd(r0, r1));
                    }
                    for (; q < qn; q++) {
                        const T *d = xt + (q0 + q) * ld + j;
                        xp[j * xs4 + q0 + q] = d[0];
                        xp[(j + 1) * xs4 + q0 + q] = d[1];
                    }
                }
            }
#endif
            for (; j < j0 + jn; j++) {
                T *dst = xp + j * xs4 + q0;
                const T *src = xt + q0 * ld + j;
                for (q = 0; q < qn; q++)
                    dst[q] = src[q * ld];
            }
        }
    }
}

#endif

/* Images per block of a transposed plane copy, or 0 when the plane does not
 * qualify (it must be C-contiguous, vectors contiguous in cols, v > 1). */
static int64_t FN(transpose_block)(const i2c_geom *g)
{
    const int64_t hw = g->h * g->w;
    int64_t vb;
    if (g->xs[3] != 1 || g->xs[2] != g->w || g->cs[6] != 1 || g->v < 2)
        return 0;
    vb = I2C_TRANSPOSE_BYTES / (hw * (int64_t)sizeof(T));
    if (vb < 8)
        return 0;
    return vb > g->v ? g->v : vb;
}

#if (I2C_GATHER && I2C_HAVE_SSE2) || (I2C_ACCUM && defined(I2C_FV))
/* 1 when plane g may take the direct 2x2-stride-2 walks of the cs231n
 * layout (gather_course_pairs, col2im_course_pairs; each adds its own
 * conditions): at least I2C_PAIRS_BLOCK images contiguous in cols,
 * contiguous image rows, two undilated taps a row at stride 2 with no
 * column padding, and more images than one block of the transposed copy
 * holds (a plane whose images fit one block keeps that walk). */
static int FN(course_pairs_plane)(const i2c_geom *g)
{
    return g->v >= I2C_PAIRS_BLOCK && g->xs[3] == 1 && g->cs[6] == 1 && g->kw == 2 &&
           g->sw == 2 && g->dw == 1 && g->pw == 0 && 2 * g->ow <= g->w &&
           FN(transpose_block)(g) < g->v;
}
#endif

/* g for one block of jn images of a transposed plane copy (hw, jn). */
static void FN(transposed_geom)(const i2c_geom *g, int64_t jn, i2c_geom *g2)
{
    *g2 = *g;
    g2->v = jn;
    g2->xs[2] = g->w * jn;
    g2->xs[3] = jn;
    g2->xs[4] = 1;
}
#endif

#if I2C_GATHER
/* ------------------------------------------------------------------------
 * im2col gather
 *
 * Three walks, one result:
 *   - tap-major (the default): cols is written in memory order (ky, kx, oy,
 *     ox, v); each tap re-reads the small image plane from cache;
 *   - tiled (v strided in x, contiguous in cols: the cs231n layout): for
 *     each window row (oy, ky) a block of image row iy for up to
 *     I2C_TILE_V images is transposed into a stack tile, from which every
 *     kx copies contiguous vectors into cols;
 *   - with `stream`, contiguous cols runs are written with non-temporal
 *     stores (large outputs only, see I2C_STREAM_MIN_BYTES).
 * Padding is zero-filled explicitly: cols comes from np.empty.
 * ------------------------------------------------------------------------ */

/* (I2C_KX_CACHE and I2C_KX_RANGE are defined in im2col_ext.c.) */

/* dst(i, j) = 0 for the (cnt, v) block at dst; streams when asked and the
 * block is contiguous.  Forced inline: gather_row calls it for the short
 * padding runs at both ends of every row, and gcc -O3 may otherwise keep
 * it out of line (17% more instructions on a streamed 2-D gather). */
static I2C_ALWAYS_INLINE void FN(zero_run)(T *dst, int64_t dstep, int64_t dvs, int64_t cnt,
                                           int64_t v, int stream)
{
    if (stream && cnt > 0 && (v == 1 ? dstep == 1 : (dvs == 1 && dstep == v)))
        FN(i2c_stream_zero)(dst, cnt * v);
    else
        FN(zero_block)(dst, dstep, dvs, cnt, v);
}

/* One row of cols: cols[plane, ky, kx, oy, :, :] from image row iy
 * (iy may be out of range: then the row is all padding).
 *   xp   : image plane (h, w, v), strides g->xs[2..4]
 *   row  : cols row (ow, v), strides g->cs[5..6]
 *   ox0, ox1 : valid ox range of this kx, offx = kx*dw - pw
 *   stream   : use non-temporal stores for contiguous runs              */
static void FN(gather_row)(const T *xp, T *row, const i2c_geom *g, int64_t iy,
                           int64_t ox0, int64_t ox1, int64_t offx, int stream)
{
    const int64_t cs5 = g->cs[5], cs6 = g->cs[6], v = g->v;
    const T *src;
    if (iy < 0 || iy >= g->h || ox0 >= ox1) {
        FN(zero_run)(row, cs5, cs6, g->ow, v, stream);
        return;
    }
    FN(zero_run)(row, cs5, cs6, ox0, v, stream);
    src = xp + iy * g->xs[2] + (ox0 * g->sw + offx) * g->xs[3];
    if (stream && v == 1 && cs5 == 1) {
        FN(i2c_stream_copy)(row + ox0, src, g->sw * g->xs[3], ox1 - ox0);
    } else if (stream && v > 1 && cs6 == 1 && g->xs[4] == 1) {
        int64_t i;
        for (i = ox0; i < ox1; i++)
            FN(i2c_stream_copy)(row + i * cs5, src + (i - ox0) * g->sw * g->xs[3], 1, v);
    } else {
        FN(copy_block)(row + ox0 * cs5, cs5, cs6, src, g->sw * g->xs[3], g->xs[4],
                       ox1 - ox0, v);
    }
    FN(zero_run)(row + ox1 * cs5, cs5, cs6, g->ow - ox1, v, stream);
}

/* Gather one (n, c) plane, tap-major.  xp: (h, w, v) image plane; cp:
 * (kh, kw, oh, ow, v) cols plane. */
static void FN(gather_plane)(const T *xp, T *cp, const i2c_geom *g, int stream)
{
    int64_t kx_lo[I2C_KX_CACHE], kx_hi[I2C_KX_CACHE];
    const int64_t ncache = g->kw < I2C_KX_CACHE ? g->kw : I2C_KX_CACHE;
    int64_t ky, kx, oy, ox0, ox1;
    for (kx = 0; kx < ncache; kx++)
        i2c_range(kx * g->dw - g->pw, g->sw, g->w, g->ow, &kx_lo[kx], &kx_hi[kx]);
    for (ky = 0; ky < g->kh; ky++) {
        const int64_t offy = ky * g->dh - g->ph;
        for (kx = 0; kx < g->kw; kx++) {
            const int64_t offx = kx * g->dw - g->pw;
            T *tap = cp + ky * g->cs[2] + kx * g->cs[3];
            I2C_KX_RANGE(kx, offx, ox0, ox1);
            for (oy = 0; oy < g->oh; oy++)
                FN(gather_row)(xp, tap + oy * g->cs[4], g, oy * g->sh + offy,
                               ox0, ox1, offx, stream);
        }
    }
}

/* Gather one (n, c) plane through a stack tile; requires v > 1 and
 * g->cs[6] == 1 (contiguous vectors in cols).  Same arguments as
 * gather_plane. */
static void FN(gather_plane_tiled)(const T *xp, T *cp, const i2c_geom *g, int stream)
{
    T tile[I2C_TILE];
    int64_t kx_lo[I2C_KX_CACHE], kx_hi[I2C_KX_CACHE];
    const int64_t ncache = g->kw < I2C_KX_CACHE ? g->kw : I2C_KX_CACHE;
    const int64_t v = g->v, vb = v < I2C_TILE_V ? v : I2C_TILE_V;
    const int64_t wb = I2C_TILE / vb;
    const int64_t xs2 = g->xs[2], xs3 = g->xs[3], xs4 = g->xs[4], cs5 = g->cs[5];
    const int contig = cs5 == v;        /* whole cols rows contiguous */
    int64_t ky, kx, oy, ox0, ox1, j0, ixa, i, j;
    for (kx = 0; kx < ncache; kx++)
        i2c_range(kx * g->dw - g->pw, g->sw, g->w, g->ow, &kx_lo[kx], &kx_hi[kx]);
    for (oy = 0; oy < g->oh; oy++) {
        for (ky = 0; ky < g->kh; ky++) {
            const int64_t iy = oy * g->sh + ky * g->dh - g->ph;
            T *rows = cp + ky * g->cs[2] + oy * g->cs[4];
            /* padding: whole rows, or the ox outside the image */
            for (kx = 0; kx < g->kw; kx++) {
                const int64_t offx = kx * g->dw - g->pw;
                T *row = rows + kx * g->cs[3];
                I2C_KX_RANGE(kx, offx, ox0, ox1);
                if (iy < 0 || iy >= g->h || ox0 >= ox1) {
                    FN(zero_run)(row, cs5, 1, g->ow, v, stream && contig);
                } else {
                    FN(zero_run)(row, cs5, 1, ox0, v, stream && contig);
                    FN(zero_run)(row + ox1 * cs5, cs5, 1, g->ow - ox1, v, stream && contig);
                }
            }
            if (iy < 0 || iy >= g->h)
                continue;
            for (j0 = 0; j0 < v; j0 += vb) {
                const int64_t jn = v - j0 < vb ? v - j0 : vb;
                for (ixa = 0; ixa < g->w; ixa += wb) {
                    const int64_t ixn = g->w - ixa < wb ? g->w - ixa : wb;
                    /* tile(i, j) = x[iy, ixa + i, j0 + j] */
                    for (j = 0; j < jn; j++) {
                        const T *s = xp + iy * xs2 + ixa * xs3 + (j0 + j) * xs4;
                        for (i = 0; i < ixn; i++)
                            tile[i * jn + j] = s[i * xs3];
                    }
                    for (kx = 0; kx < g->kw; kx++) {
                        const int64_t offx = kx * g->dw - g->pw;
                        T *row = rows + kx * g->cs[3] + j0;
                        int64_t a, b, ox;
                        i2c_range(offx - ixa, g->sw, ixn, g->ow, &a, &b);
                        for (ox = a; ox < b; ox++) {
                            const T *t = tile + (ox * g->sw + offx - ixa) * jn;
                            if (stream && contig)
                                FN(i2c_stream_copy)(row + ox * cs5, t, 1, jn);
                            else
                                memcpy(row + ox * cs5, t, (size_t)jn * sizeof(T));
                        }
                    }
                }
            }
        }
    }
}

/* p[0..n) = 0 for the few padding pixels of a row: up to 4 plain stores,
 * a loop beyond (which gcc may turn into a call of memset). */
static I2C_ALWAYS_INLINE void FN(zero_few)(T *p, int64_t n)
{
    int64_t i;
    if (n <= 4) {
        if (n > 0)
            p[0] = I2C_ZERO;
        if (n > 1)
            p[1] = I2C_ZERO;
        if (n > 2)
            p[2] = I2C_ZERO;
        if (n > 3)
            p[3] = I2C_ZERO;
        return;
    }
    for (i = 0; i < n; i++)
        p[i] = I2C_ZERO;
}

/* Gather one plane when v == 1 and cols rows are contiguous (cs[5] == 1),
 * without streaming stores: the torch layout of small images, whose short
 * rows made the general row walk's per-row work dominate.  Same result as
 * gather_plane. */
static void FN(gather_plane_v1)(const T *xp, T *cp, const i2c_geom *g)
{
    const int64_t ow = g->ow, cs4 = g->cs[4], xs2 = g->xs[2];
    const int64_t sx = g->sw * g->xs[3];
    int64_t ky, kx, oy, i, ox0, ox1, oy0, oy1, offx, offy;
    T *tap, *row;
    const T *src;
    for (ky = 0; ky < g->kh; ky++) {
        offy = ky * g->dh - g->ph;
        i2c_range(offy, g->sh, g->h, g->oh, &oy0, &oy1);
        for (kx = 0; kx < g->kw; kx++) {
            offx = kx * g->dw - g->pw;
            i2c_range(offx, g->sw, g->w, ow, &ox0, &ox1);
            tap = cp + ky * g->cs[2] + kx * g->cs[3];
            if (sx == 1 && cs4 == ow && g->sh * xs2 == ow && ox0 < ox1 && oy0 < oy1) {
                /* Source and destination rows advance by the same stride,
                 * so the valid rows of this tap are ONE run in both arrays
                 * (with, between rows, the elements that the padding columns
                 * get): one copy, then the padding columns are zeroed.  Short
                 * rows (small images, 1- and 2-byte items) no longer pay a
                 * loop per row.  The run starts and ends on valid pixels. */
                for (oy = 0; oy < oy0; oy++)
                    memset(tap + oy * ow, 0, (size_t)ow * sizeof(T));
                memcpy(tap + oy0 * ow + ox0,
                       xp + (oy0 * g->sh + offy) * xs2 + ox0 + offx,
                       (size_t)((oy1 - oy0 - 1) * ow + (ox1 - ox0)) * sizeof(T));
                if (ox0 > 0 || ox1 < ow) {
                    /* a pixel or two a row: stores, where gcc made each
                     * loop a call of memset (0.45 of a uint8 3x3 gather) */
                    for (oy = oy0; oy < oy1; oy++) {
                        row = tap + oy * ow;
                        FN(zero_few)(row, ox0);
                        FN(zero_few)(row + ox1, ow - ox1);
                    }
                }
                for (oy = oy1; oy < g->oh; oy++)
                    memset(tap + oy * ow, 0, (size_t)ow * sizeof(T));
                continue;
            }
            for (oy = 0; oy < g->oh; oy++) {
                row = tap + oy * cs4;
                if (oy < oy0 || oy >= oy1 || ox0 >= ox1) {
                    for (i = 0; i < ow; i++)
                        row[i] = I2C_ZERO;
                    continue;
                }
                src = xp + (oy * g->sh + offy) * xs2 + (ox0 * g->sw + offx) * g->xs[3];
                for (i = 0; i < ox0; i++)
                    row[i] = I2C_ZERO;
                if (sx == 1) {
                    for (i = ox0; i < ox1; i++)
                        row[i] = src[i - ox0];
                } else {
                    for (i = ox0; i < ox1; i++)
                        row[i] = src[(i - ox0) * sx];
                }
                for (i = ox1; i < ow; i++)
                    row[i] = I2C_ZERO;
            }
        }
    }
}

/* The streamed gather of a torch-layout plane (v == 1, each tap's oh*ow
 * outputs contiguous, unit column stride: gather_plane_v1 copies whole
 * runs) whose tap fits I2C_STAGE_BYTES: each tap is gathered
 * by gather_plane_v1 (as a 1x1 window whose padding is moved by the tap's
 * offsets) into a stack buffer in L1, which is then streamed out as one
 * run.  The row walk streamed each row's pieces on their own (the valid
 * run between two padding runs, a few partial cache lines per row); float32
 * 3x3 and 7x7 gathers ran 1.3-1.7x slower that way than without streaming.
 * With column stride 2 (2x2 stride-2 windows) the staged walk measured
 * 1.25x slower: the element-wise copy into the buffer costs more than the
 * partial lines it saves.  Returns 0, having written nothing, when the
 * plane does not qualify. */
static int FN(gather_plane_staged)(const T *xp, T *cp, const i2c_geom *g)
{
    T buf[I2C_STAGE_BYTES / sizeof(T)];
    const int64_t n = g->oh * g->ow;
    i2c_geom g1 = *g;
    int64_t ky, kx;
    if (g->v != 1 || g->cs[5] != 1 || g->cs[4] != g->ow || g->sw * g->xs[3] != 1 ||
        n > (int64_t)(I2C_STAGE_BYTES / sizeof(T)))
        return 0;
    g1.kh = g1.kw = 1;
    for (ky = 0; ky < g->kh; ky++) {
        g1.ph = g->ph - ky * g->dh;
        for (kx = 0; kx < g->kw; kx++) {
            g1.pw = g->pw - kx * g->dw;
            FN(gather_plane_v1)(xp, buf, &g1);
            FN(i2c_stream_copy)(cp + ky * g->cs[2] + kx * g->cs[3], buf, 1, n);
        }
    }
    return 1;
}

/* Gather one plane of the cs231n layout (v > 1 strided by xs4 in x, the
 * plane itself C-contiguous, vectors contiguous in cols) through a
 * transposed copy of blocks of images (see I2C_TRANSPOSE_BYTES).  Returns
 * 0, having written nothing, when the plane does not qualify or no buffer
 * could be had: the caller then takes another walk.  Same result as
 * gather_plane. */
static int FN(gather_plane_transposed)(const T *xp, T *cp, const i2c_geom *g, int stream)
{
    const int64_t hw = g->h * g->w, v = g->v, vb = FN(transpose_block)(g);
    int64_t j0;
    T *xt;
    if (vb == 0)
        return 0;
    if (i2c_plane_unit(g)) {
        /* the columns are the transposed plane: no copy in between */
        for (j0 = 0; j0 < v; j0 += vb)
            FN(transpose_plane)(xp + j0 * g->xs[4], g->xs[4], hw, v - j0 < vb ? v - j0 : vb,
                                cp + j0, g->cs[5]);
        return 1;
    }
    xt = (T *)malloc((size_t)(hw * vb) * sizeof(T));
    if (xt == NULL)
        return 0;
    for (j0 = 0; j0 < v; j0 += vb) {
        const int64_t jn = v - j0 < vb ? v - j0 : vb;
        i2c_geom g2;
        FN(transpose_plane)(xp + j0 * g->xs[4], g->xs[4], hw, jn, xt, jn);
        FN(transposed_geom)(g, jn, &g2);
        FN(gather_plane)(xt, cp + j0, &g2, stream);
    }
    free(xt);
    return 1;
}

#if I2C_HAVE_SSE2
/* Gather of a cs231n-layout plane (v > 1 images, contiguous in cols) with
 * two undilated taps a row at stride 2 and no padding (2x2 stride-2
 * pools) without the transposed copy, the twin of col2im_course_pairs:
 * blocks of 4 images, row by row, one register transpose of the images'
 * pixel pairs (8-byte items) or quads (4-byte items) giving the rows of
 * taps (ky, 0) and (ky, 1).  Taken where the transposed copy would be
 * split into blocks (see col2im_course_pairs): side by side, float32
 * (1600, 1, 32, 32) 0.41x the time, float64 (200, 8, 32, 32) 0.62x,
 * float64 (800, 1, 32, 32) 0.71x (blocks of 8 images: 1.0-1.6x).  Each
 * block of images stores into every page of the plane's columns: past
 * I2C_PAIRS_SPAN_BYTES of them (float64 (1600, 1, 32, 32), 13 MB) the walk
 * measured 1.15x slower, and the transposed copy stays.  Returns 0,
 * writing nothing, when the plane does not qualify. */
static int FN(gather_course_pairs)(const T *xp, T *cp, const i2c_geom *g)
{
    enum { JB = I2C_PAIRS_BLOCK };
    const int64_t ow = g->ow, v = g->v, cs4 = g->cs[4], cs5 = g->cs[5];
    const int64_t xs2 = g->xs[2], xs4 = g->xs[4];
    int64_t j0, oy, ky, ox, jj;
    if ((sizeof(T) != 4 && sizeof(T) != 8) || !FN(course_pairs_plane)(g) || g->ph != 0 ||
        g->kh * 2 * g->oh * ow * v * (int64_t)sizeof(T) > I2C_PAIRS_SPAN_BYTES)
        return 0;
    for (j0 = 0; j0 < v; j0 += JB) {
        const int64_t jn = v - j0 < JB ? v - j0 : JB;
        for (oy = 0; oy < g->oh; oy++) {
            for (ky = 0; ky < g->kh; ky++) {
                const int64_t iy = oy * g->sh + ky * g->dh;
                T *t0 = cp + ky * g->cs[2] + oy * cs4 + j0, *t1 = t0 + g->cs[3];
                const T *xr = xp + j0 * xs4 + iy * xs2;
                ox = 0;
                if (jn == JB && sizeof(T) == 8) {
                    for (; ox < ow; ox++) {
                        for (jj = 0; jj < JB; jj += 2) {
                            const T *p0 = xr + jj * xs4 + 2 * ox, *p1 = p0 + xs4;
                            const __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p0);
                            const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)p1);
                            _mm_storeu_si128((__m128i *)(void *)(t0 + ox * cs5 + jj),
                                             _mm_unpacklo_epi64(a, b));
                            _mm_storeu_si128((__m128i *)(void *)(t1 + ox * cs5 + jj),
                                             _mm_unpackhi_epi64(a, b));
                        }
                    }
                } else if (jn == JB && sizeof(T) == 4) {
                    for (; ox + 2 <= ow; ox += 2) {
                        for (jj = 0; jj < JB; jj += 4) {
                            const float *p0 = (const float *)(const void *)(xr + jj * xs4 + 2 * ox);
                            __m128 r0 = _mm_loadu_ps(p0), r1 = _mm_loadu_ps(p0 + xs4);
                            __m128 r2 = _mm_loadu_ps(p0 + 2 * xs4), r3 = _mm_loadu_ps(p0 + 3 * xs4);
                            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
                            _mm_storeu_ps((float *)(void *)(t0 + ox * cs5 + jj), r0);
                            _mm_storeu_ps((float *)(void *)(t1 + ox * cs5 + jj), r1);
                            _mm_storeu_ps((float *)(void *)(t0 + (ox + 1) * cs5 + jj), r2);
                            _mm_storeu_ps((float *)(void *)(t1 + (ox + 1) * cs5 + jj), r3);
                        }
                    }
                }
                for (; ox < ow; ox++) {
                    for (jj = 0; jj < jn; jj++) {
                        t0[ox * cs5 + jj] = xr[jj * xs4 + 2 * ox];
                        t1[ox * cs5 + jj] = xr[jj * xs4 + 2 * ox + 1];
                    }
                }
            }
        }
    }
    return 1;
}
#endif

/* Gather one 2-D (h, w) plane with the walk that suits its strides.  Kept
 * out of line: inlined into gather_nd, its only caller, the walks it
 * inlines (gather_plane_v1) compiled to more instructions per row. */
#if I2C_HAVE_SSE2
/* Gather of a torch-layout plane (v == 1, unit column stride in cols and
 * x) with two undilated taps a row at stride 2 and no column padding, the
 * windows of 2x2 stride-2 pooling: each image row is read once and split
 * into its even and odd columns, the rows of taps (ky, 0) and (ky, 1),
 * by 16-byte loads and shuffles (streamed, when `stream`, if the rows are
 * whole aligned vectors).  The tap-major walk copied every other element
 * of a row twice over (about 3 cycles an element, streamed or not).
 * Each window row prefetches its share of the plane of x the caller
 * gathers next (`next`, NULL for none), as col2im_plane_pairs does for its
 * columns: side by side, float64 (16, 32, 64, 64) 0.49x the time,
 * (8, 16, 16, 32, 32) 2x2x2 0.68x, (50, 32, 32, 32) 1.02x.
 * 4- and 8-byte elements; returns 0, writing nothing, when the plane does
 * not qualify. */
static int FN(gather_plane_pairs)(const T *xp, T *cp, const i2c_geom *g, int stream,
                                  const T *next)
{
    const int64_t ow = g->ow, xs2 = g->xs[2], cs4 = g->cs[4];
    const int64_t lanes = 16 / (int64_t)sizeof(T);
    const int64_t span = g->h * xs2 * (int64_t)sizeof(T);   /* bytes of a plane of x */
    const int64_t per = next != NULL ? (span / (g->kh * g->oh) + 63) & ~(int64_t)63 : 0;
    int64_t ky, oy, oy0, oy1, ox;
    if ((sizeof(T) != 4 && sizeof(T) != 8) || g->v != 1 || g->kw != 2 || g->sw != 2 ||
        g->dw != 1 || g->pw != 0 || 2 * ow > g->w || g->xs[3] != 1 || g->cs[5] != 1)
        return 0;
    for (ky = 0; ky < g->kh; ky++) {
        const int64_t offy = ky * g->dh - g->ph;
        T *t0 = cp + ky * g->cs[2], *t1 = t0 + g->cs[3];
        i2c_range(offy, g->sh, g->h, g->oh, &oy0, &oy1);
        for (oy = 0; oy < g->oh; oy++) {
            T *I2C_RESTRICT d0 = t0 + oy * cs4, *I2C_RESTRICT d1 = t1 + oy * cs4;
            const T *I2C_RESTRICT r;
            int nt;
            int64_t pb;
            for (pb = 0; pb < per; pb += 64)
                I2C_PREFETCH((const char *)next + (ky * g->oh + oy) * per + pb);
            if (oy < oy0 || oy >= oy1) {
                FN(zero_run)(d0, 1, 1, ow, 1, stream);
                FN(zero_run)(d1, 1, 1, ow, 1, stream);
                continue;
            }
            r = xp + (oy * g->sh + offy) * xs2;
            nt = I2C_HAVE_STREAM && stream && ow % lanes == 0 &&
                 ((uintptr_t)d0 & 15) == 0 && ((uintptr_t)d1 & 15) == 0;
            for (ox = 0; ox + lanes <= ow; ox += lanes) {
                const __m128i *q = (const __m128i *)(const void *)(r + 2 * ox);
                const __m128i a = _mm_loadu_si128(q), b = _mm_loadu_si128(q + 1);
                __m128i ev, od;
                if (sizeof(T) == 8) {
                    ev = _mm_unpacklo_epi64(a, b);
                    od = _mm_unpackhi_epi64(a, b);
                } else {
                    const __m128 fa = _mm_castsi128_ps(a), fb = _mm_castsi128_ps(b);
                    ev = _mm_castps_si128(_mm_shuffle_ps(fa, fb, _MM_SHUFFLE(2, 0, 2, 0)));
                    od = _mm_castps_si128(_mm_shuffle_ps(fa, fb, _MM_SHUFFLE(3, 1, 3, 1)));
                }
                if (nt) {
                    _mm_stream_si128((__m128i *)(void *)(d0 + ox), ev);
                    _mm_stream_si128((__m128i *)(void *)(d1 + ox), od);
                } else {
                    _mm_storeu_si128((__m128i *)(void *)(d0 + ox), ev);
                    _mm_storeu_si128((__m128i *)(void *)(d1 + ox), od);
                }
            }
            for (; ox < ow; ox++) {
                d0[ox] = r[2 * ox];
                d1[ox] = r[2 * ox + 1];
            }
        }
    }
    return 1;
}
#endif

static I2C_NOINLINE void FN(gather_plane_any)(const T *xp, T *cp, const i2c_geom *g, int stream,
                                               const T *next)
{
#if I2C_HAVE_SSE2
    if (g->v > 1 && g->xs[4] != 1 && FN(gather_course_pairs)(xp, cp, g))
        return;
#endif
    if (g->v > 1 && g->xs[4] != 1 && g->cs[6] == 1 &&
        FN(gather_plane_transposed)(xp, cp, g, stream))
        return;
#if I2C_HAVE_SSE2
    if (FN(gather_plane_pairs)(xp, cp, g, stream, next))
        return;
#endif
    if (g->v > 1 && g->xs[4] != 1 && g->cs[6] == 1)
        FN(gather_plane_tiled)(xp, cp, g, stream);
    else if (!stream && g->v == 1 && g->cs[5] == 1)
        FN(gather_plane_v1)(xp, cp, g);
    else if (!stream || !FN(gather_plane_staged)(xp, cp, g))
        FN(gather_plane)(xp, cp, g, stream);
}

#endif /* I2C_GATHER */

#if I2C_GATHER
/* ------------------------------------------------------------------------
 * im2col gather with a padding mode (issue 11): i2c_gather_mode_*
 *
 * Each padding tap reads its source through the per-axis index map of the
 * mode (i2c_pad_index, i2c_edge_map in im2col_ext.c); the in-range taps are
 * copied as by the zero-padded gather.  One generic plane walk (tap-major,
 * row by row: map the source row, copy the in-range run, map the edge runs
 * on either side); the window-major walk of channels last and the depth
 * axis are those of every mode (gather_wm, gather_nd below).  Planes whose
 * windows stay inside along both plane axes take the zero-padded plane
 * walks (nothing to map there).
 * ------------------------------------------------------------------------ */

/* dst(i, j) = src(i, j) for i < cnt, j < v, as copy_block, with streaming
 * stores when `stream` and dst's vectors (or, v == 1, the run) are
 * contiguous.  src may repeat (sstep, svs 0: a fill value). */
static void FN(put_run)(T *dst, int64_t dstep, int64_t dvs, const T *src, int64_t sstep,
                        int64_t svs, int64_t cnt, int64_t v, int stream)
{
    int64_t i;
    if (cnt <= 0)
        return;
    if (stream && v == 1 && dstep == 1) {
        FN(i2c_stream_copy)(dst, src, sstep, cnt);
    } else if (stream && v > 1 && dvs == 1) {
        for (i = 0; i < cnt; i++)
            FN(i2c_stream_copy)(dst + i * dstep, src + i * sstep, svs, v);
    } else {
        FN(copy_block)(dst, dstep, dvs, src, sstep, svs, cnt, v);
    }
}

/* One row of cols, (ow, v) at `row` (strides g->cs[5..6]), of tap
 * offx = kx*dw - pw whose in-range windows are [ox0, ox1):
 *   xr   : the source image row (w, v), strides g->xs[3..4], already mapped
 *          along the other axes; NULL: the row lies in constant padding
 *   fill : the constant fill value (mode I2C_PAD_CONSTANT)               */
static void FN(gather_row_mode)(const T *xr, T *row, const i2c_geom *g, int64_t ox0,
                                int64_t ox1, int64_t offx, int mode, const T *fill,
                                int stream)
{
    const int64_t cs5 = g->cs[5], cs6 = g->cs[6], v = g->v;
    const int64_t xs3 = g->xs[3], xs4 = g->xs[4], sw = g->sw;
    int64_t start, step;
    if (xr == NULL) {
        FN(put_run)(row, cs5, cs6, fill, 0, 0, g->ow, v, stream);
        return;
    }
    if (stream && v == 1 && cs5 == 1) {
        /* the torch layout's streamed rows: the three runs without put_run */
        if (ox0 > 0) {
            if (mode == I2C_PAD_CONSTANT) {
                FN(i2c_stream_copy)(row, fill, 0, ox0);
            } else {
                i2c_edge_map(mode, offx, sw, g->w, &start, &step);
                FN(i2c_stream_copy)(row, xr + start * xs3, step * xs3, ox0);
            }
        }
        if (ox1 > ox0)
            FN(i2c_stream_copy)(row + ox0, xr + (ox0 * sw + offx) * xs3, sw * xs3, ox1 - ox0);
        if (ox1 < g->ow) {
            if (mode == I2C_PAD_CONSTANT) {
                FN(i2c_stream_copy)(row + ox1, fill, 0, g->ow - ox1);
            } else {
                i2c_edge_map(mode, ox1 * sw + offx, sw, g->w, &start, &step);
                FN(i2c_stream_copy)(row + ox1, xr + start * xs3, step * xs3, g->ow - ox1);
            }
        }
        return;
    }
    if (ox0 > 0) {
        if (mode == I2C_PAD_CONSTANT) {
            FN(put_run)(row, cs5, cs6, fill, 0, 0, ox0, v, stream);
        } else {
            i2c_edge_map(mode, offx, sw, g->w, &start, &step);
            FN(put_run)(row, cs5, cs6, xr + start * xs3, step * xs3, xs4, ox0, v, stream);
        }
    }
    FN(put_run)(row + ox0 * cs5, cs5, cs6, xr + (ox0 * sw + offx) * xs3, sw * xs3, xs4,
                ox1 - ox0, v, stream);
    if (ox1 < g->ow) {
        if (mode == I2C_PAD_CONSTANT) {
            FN(put_run)(row + ox1 * cs5, cs5, cs6, fill, 0, 0, g->ow - ox1, v, stream);
        } else {
            i2c_edge_map(mode, ox1 * sw + offx, sw, g->w, &start, &step);
            FN(put_run)(row + ox1 * cs5, cs5, cs6, xr + start * xs3, step * xs3, xs4,
                        g->ow - ox1, v, stream);
        }
    }
}

/* One row as gather_row_mode for v == 1 and contiguous cols rows (cs[5]
 * == 1) without streaming: plain loops, no calls (short rows). */
static void FN(gather_row_mode_v1)(const T *xr, T *I2C_RESTRICT row, const i2c_geom *g,
                                   int64_t ox0, int64_t ox1, int64_t offx, int mode,
                                   const T *fill)
{
    const int64_t ow = g->ow, xs3 = g->xs[3], sw = g->sw, sx = sw * xs3;
    int64_t i, start, step;
    const T *src;
    if (xr == NULL) {
        const T f = *fill;
        for (i = 0; i < ow; i++)
            row[i] = f;
        return;
    }
    if (ox0 > 0) {
        if (mode == I2C_PAD_CONSTANT) {
            const T f = *fill;
            for (i = 0; i < ox0; i++)
                row[i] = f;
        } else {
            i2c_edge_map(mode, offx, sw, g->w, &start, &step);
            src = xr + start * xs3;
            for (i = 0; i < ox0; i++)
                row[i] = src[i * step * xs3];
        }
    }
    src = xr + (ox0 * sw + offx) * xs3;
    if (sx == 1) {
        for (i = ox0; i < ox1; i++)
            row[i] = src[i - ox0];
    } else {
        for (i = ox0; i < ox1; i++)
            row[i] = src[(i - ox0) * sx];
    }
    if (ox1 < ow) {
        if (mode == I2C_PAD_CONSTANT) {
            const T f = *fill;
            for (i = ox1; i < ow; i++)
                row[i] = f;
        } else {
            i2c_edge_map(mode, ox1 * sw + offx, sw, g->w, &start, &step);
            src = xr + start * xs3;
            for (i = ox1; i < ow; i++)
                row[i] = src[(i - ox1) * step * xs3];
        }
    }
}

/* Gather one (h, w) plane with padding `mode`, tap-major (the order of
 * gather_plane).  xp: image plane (h, w, v), strides g->xs[2..4], already
 * mapped along the depth axis; cp: cols plane (kh, kw, oh, ow, v). */
static void FN(gather_plane_mode)(const T *xp, T *cp, const i2c_geom *g, int mode,
                                  const T *fill, int stream)
{
    const int v1 = !stream && g->v == 1 && g->cs[5] == 1;
    int64_t ky, kx, oy, ox0, ox1, oy0, oy1;
    for (ky = 0; ky < g->kh; ky++) {
        const int64_t offy = ky * g->dh - g->ph;
        i2c_range(offy, g->sh, g->h, g->oh, &oy0, &oy1);
        for (kx = 0; kx < g->kw; kx++) {
            const int64_t offx = kx * g->dw - g->pw;
            T *tap = cp + ky * g->cs[2] + kx * g->cs[3];
            i2c_range(offx, g->sw, g->w, g->ow, &ox0, &ox1);
            for (oy = 0; oy < g->oh; oy++) {
                const int64_t iy = oy * g->sh + offy;
                const int64_t my = oy >= oy0 && oy < oy1 ? iy : i2c_pad_index(mode, iy, g->h);
                const T *xr = my < 0 ? NULL : xp + my * g->xs[2];
                if (v1)
                    FN(gather_row_mode_v1)(xr, tap + oy * g->cs[4], g, ox0, ox1, offx, mode,
                                           fill);
                else
                    FN(gather_row_mode)(xr, tap + oy * g->cs[4], g, ox0, ox1, offx, mode,
                                        fill, stream);
            }
        }
    }
}

/* Write the (kh, kw, oh, ow, v) block of cols at cp for a depth tap that
 * lies in the padding of a mode that reads no element there: zeros
 * (I2C_PAD_ZEROS) or *fill (I2C_PAD_CONSTANT). */
static void FN(pad_plane)(T *cp, const i2c_geom *g, int mode, const T *fill, int stream)
{
    int64_t ky, kx, oy;
    for (ky = 0; ky < g->kh; ky++) {
        for (kx = 0; kx < g->kw; kx++) {
            for (oy = 0; oy < g->oh; oy++) {
                T *row = cp + ky * g->cs[2] + kx * g->cs[3] + oy * g->cs[4];
                if (mode == I2C_PAD_ZEROS)
                    FN(zero_run)(row, g->cs[5], g->cs[6], g->ow, g->v, stream);
                else
                    FN(put_run)(row, g->cs[5], g->cs[6], fill, 0, 0, g->ow, g->v, stream);
            }
        }
    }
}

/* dst(i, :) = src(i*step, :) for i < cnt, rows of v contiguous elements
 * (step 0: src repeated). */
static void FN(copy_vectors)(T *I2C_RESTRICT dst, const T *I2C_RESTRICT src, int64_t step,
                             int64_t cnt, int64_t v)
{
    int64_t i;
    for (i = 0; i < cnt; i++)
        memcpy(dst + i * v, src + i * step * v, (size_t)v * sizeof(T));
}

/* A padding run of a channels-last window row: dst(t, :) for t < cnt,
 * vectors of v contiguous elements, as `mode` writes them: zeros, *fill,
 * or (reading modes) the vectors of the source row xr at the indices
 * i2c_edge_map gives the source indices i + t of an axis of size n, all in
 * the padding on one side (zeros and constant read neither xr, i nor n). */
static I2C_ALWAYS_INLINE void FN(pad_vectors)(T *I2C_RESTRICT dst, const T *I2C_RESTRICT xr,
                                              int64_t i, int64_t cnt, int64_t n, int64_t v,
                                              int mode, const T *fill)
{
    int64_t t, start, step;
    if (mode == I2C_PAD_ZEROS) {
        memset(dst, 0, (size_t)(cnt * v) * sizeof(T));
    } else if (mode == I2C_PAD_CONSTANT) {
        const T f = *fill;
        for (t = 0; t < cnt * v; t++)
            dst[t] = f;
    } else {
        i2c_edge_map(mode, i, 1, n, &start, &step);
        FN(copy_vectors)(dst, xr + start * v, step, cnt, v);
    }
}

/* One window of gather_wm: window o2 of the window row (o0, o1) at win, its
 * rows (k0, k1) each one run of k2*v elements, the in-range vectors copied
 * between the two edge runs of pad_vectors (a row in the padding of zeros
 * or constant is one such run).  With `stream`, every run goes out through
 * non-temporal stores: rows inside the image straight from it, rows with
 * padding assembled in `stage` (k2*v elements) first, so that no line of
 * cols mixes plain and streaming stores (a padded 3-D gather mixing them
 * ran 3.6x slower). */
static I2C_ALWAYS_INLINE void FN(wm_window)(const T *xp, T *win, const i2c_win *w,
                                            int64_t o0, int64_t o1, int64_t o2, int mode,
                                            const T *fill, T *stage)
{
    const int64_t v = w->v, kw = w->k[2], n0 = w->size[0], n1 = w->size[1], n2 = w->size[2];
    const int reading = mode != I2C_PAD_ZEROS && mode != I2C_PAD_CONSTANT;
    const int64_t ix0 = o2 * w->s[2] - w->p[2];
    const size_t run = (size_t)(kw * v) * sizeof(T);
    int64_t k0, k1, a, b;
    i2c_range(ix0, 1, n2, kw, &a, &b);
    for (k0 = 0; k0 < w->k[0]; k0++) {
        const int64_t i0 = o0 * w->s[0] + k0 * w->d[0] - w->p[0];
        const int64_t m0 = i0 >= 0 && i0 < n0 ? i0 : i2c_pad_index(mode, i0, n0);
        for (k1 = 0; k1 < w->k[1]; k1++) {
            const int64_t i1 = o1 * w->s[1] + k1 * w->d[1] - w->p[1];
            T *dst = win + k0 * w->cs[2] + k1 * w->cs[3], *out = dst;
            const T *xr;
            int64_t m1 = i1;
            if (m0 < 0 || i1 < 0 || i1 >= n1 || (!reading && a >= b)) {
                /* a row in the padding: one run for zeros and constant
                 * (a >= b: no in-range vectors either), mapped by the
                 * reading modes (m0 >= 0 there) */
                if (!reading) {
                    FN(pad_vectors)(stage ? stage : dst, NULL, ix0, kw, n2, v, mode, fill);
                    if (stage)
                        i2c_stream_run(dst, stage, run);
                    continue;
                }
                m1 = i2c_pad_index(mode, i1, n1);
            }
            xr = xp + m0 * w->xs[2] + m1 * w->xs[3];
            if (stage && a == 0 && b == kw) {
                i2c_stream_run(dst, xr + ix0 * v, run);
                continue;
            }
            if (stage)
                out = stage;
            if (a > 0)
                FN(pad_vectors)(out, xr, ix0, a, n2, v, mode, fill);
            if (b > a)
                memcpy(out + a * v, xr + (ix0 + a) * v, (size_t)((b - a) * v) * sizeof(T));
            if (b < kw)
                FN(pad_vectors)(out + b * v, xr, ix0 + b, kw - b, n2, v, mode, fill);
            if (stage)
                i2c_stream_run(dst, stage, run);
        }
    }
}

/* Gather one channels-last (n, c) plane (i2c_window_major: v contiguous
 * in x and cols, the k2 taps adjacent to it in cols, no dilation along the
 * last axis) with padding `mode`, window by window in the memory order of
 * cols (wm_window).  When a window row is short (at most I2C_SHORT_RUN
 * bytes: a few channels, 9 bytes for 3x3 RGB uint8) the windows of a row
 * (o0, o1) whose k2 taps all lie inside the image share their sources:
 * each row (k0, k1) is a run of one image row (or of the padding: zeros
 * or the constant) that moves by s2*v per window, so those windows are a
 * loop of inline copies (i2c_copy_short) over a table of the rows, with
 * no index arithmetic and no call per run.
 * Forced inline, so that gather_nd's call with the constant I2C_PAD_ZEROS
 * is compiled as a walk of its own in which every mode test is folded
 * away.  The geometry is read from a local copy, which memcpy cannot
 * write: its fields need not be reloaded after each call. */
static I2C_ALWAYS_INLINE void FN(gather_wm)(const T *xp, T *cp, const i2c_win *wp, int mode,
                                            const T *fill, int stream)
{
    T stage[I2C_STAGE_BYTES / sizeof(T)];
    const i2c_win wl = *wp, *w = &wl;
    const int64_t v = w->v, kw = w->k[2], n0 = w->size[0], n1 = w->size[1], n2 = w->size[2];
    const int64_t rows = w->k[0] * w->k[1];
    const size_t run = (size_t)(kw * v) * sizeof(T);
    const T *src[I2C_SHORT_ROWS];
    int64_t dsto[I2C_SHORT_ROWS], step[I2C_SHORT_ROWS];
    T pad[I2C_SHORT_RUN / sizeof(T) + 1];
    int64_t o0, o1, o2, oa = 0, ob = 0, k0, k1, r, j;
    const int shortrun = run <= I2C_SHORT_RUN && rows <= I2C_SHORT_ROWS && kw <= n2;
    const int packed = !stream && run < 16 && w->cs[3] == kw * v &&
                       w->cs[2] == w->k[1] * kw * v && w->cs[7] == rows * kw * v;
    int64_t jpack = 0;
    if (shortrun) {
        /* the windows whose k2 taps lie in [0, n2) */
        i2c_range(-w->p[2], w->s[2], n2 - kw + 1, w->o[2], &oa, &ob);
        if (packed) {
            /* windows before jpack: the 16-byte moves of their rows read
             * inside their image rows and write inside windows oa .. ob-1
             * (a window of wb bytes, its windows sb bytes apart in x) */
            const size_t sb = (size_t)(w->s[2] * v) * sizeof(T), wb = (size_t)rows * run;
            const int64_t cr = (int64_t)((16 - run + sb - 1) / sb);
            const int64_t cw = (int64_t)((16 - run + wb - 1) / wb);
            jpack = ob - (cr > cw ? cr : cw);
            jpack = jpack < oa ? oa : jpack;
        }
        memset(pad, 0, sizeof(pad));
        for (j = 0; mode == I2C_PAD_CONSTANT && j < kw * v; j++)
            pad[j] = *fill;
    }
    for (o0 = 0; o0 < w->o[0]; o0++) {
        for (o1 = 0; o1 < w->o[1]; o1++) {
            T *wrow = cp + o0 * w->cs[5] + o1 * w->cs[6];
            for (o2 = 0; o2 < w->o[2]; o2++) {
                if (!shortrun || o2 != oa || oa >= ob) {
                    FN(wm_window)(xp, wrow + o2 * w->cs[7], w, o0, o1, o2, mode, fill,
                                  stream ? stage : NULL);
                    continue;
                }
                /* the table of rows, then windows oa .. ob-1 */
                for (k0 = 0, r = 0; k0 < w->k[0]; k0++) {
                    const int64_t i0 = o0 * w->s[0] + k0 * w->d[0] - w->p[0];
                    const int64_t m0 = i0 >= 0 && i0 < n0 ? i0 : i2c_pad_index(mode, i0, n0);
                    for (k1 = 0; k1 < w->k[1]; k1++, r++) {
                        const int64_t i1 = o1 * w->s[1] + k1 * w->d[1] - w->p[1];
                        const int64_t m1 = i1 >= 0 && i1 < n1 ? i1 : i2c_pad_index(mode, i1, n1);
                        dsto[r] = k0 * w->cs[2] + k1 * w->cs[3];
                        if (m0 < 0 || m1 < 0) {   /* zeros, constant */
                            src[r] = pad;
                            step[r] = 0;
                        } else {
                            src[r] = xp + m0 * w->xs[2] + m1 * w->xs[3] +
                                     (oa * w->s[2] - w->p[2]) * v;
                            step[r] = w->s[2] * v;
                        }
                    }
                }
                /* runs under 16 bytes, windows packed in cols: one 16-byte
                 * move per row; the bytes past a run land on the next row
                 * (or window), written after it.  Not the last windows,
                 * whose moves could pass the end of their image row. */
                for (j = 0; j < jpack - oa; j++) {
                    unsigned char *win = (unsigned char *)(wrow + (oa + j) * w->cs[7]);
                    for (r = 0; r < rows; r++) {
                        uint64_t a[2];
                        memcpy(a, src[r] + j * step[r], 16);
                        memcpy(win + r * run, a, 16);
                    }
                }
                for (; j < ob - oa; j++) {
                    T *win = wrow + (oa + j) * w->cs[7];
                    for (r = 0; r < rows; r++) {
                        if (stream)
                            i2c_stream_run(win + dsto[r], src[r] + j * step[r], run);
                        else
                            i2c_copy_short(win + dsto[r], src[r] + j * step[r], run);
                    }
                }
                o2 = ob - 1;
            }
        }
    }
}

/* See im2col_ext.h: the one dispatch of i2c_gather_* (mode I2C_PAD_ZEROS)
 * and i2c_gather_mode_*.  Each (n, c) plane is one window-major walk
 * (channels last, i2c_window_major) or a stack of 2-D gathers, one per
 * depth tap k0 and depth position o0, whose depth index `mode` maps.
 *   mode : one of I2C_PAD_*; a constant whose bytes are all zero is zeros;
 *          with I2C_FRESH_COLS, channels-first planes are not streamed
 *   fill : one element, the constant (read for I2C_PAD_CONSTANT only; may
 *          be NULL for the other modes)
 * The mode is tested per plane and per depth tap only: zeros gathers with
 * the zero-padded plane walks (gather_plane_any, and pad_plane's zero_run
 * for a depth tap in the padding) and with the gather_wm instance compiled
 * for I2C_PAD_ZEROS, so its per-element work is that of a gather written
 * for zeros alone. */
static void FN(gather_nd)(const T *x, T *cols, const i2c_win *w, int mode, const T *fill,
                          int num_threads)
{
    i2c_geom g2;
    const int64_t planes = w->n * w->c;
    const int64_t per_plane = w->k[0] * w->k[1] * w->k[2] * w->o[0] * w->o[1] * w->o[2] * w->v;
    const int past = i2c_past_stream(w, (int64_t)sizeof(T), (int64_t)sizeof(T));
    const int stream = I2C_HAVE_STREAM && I2C_T_STREAM && past &&
                       !((mode & I2C_FRESH_COLS) && w->v == 1);
    const int nt = i2c_plan_threads(num_threads, planes, per_plane);
    const int wm = i2c_window_major(w);
    /* long window rows stream (any element size: whole runs of bytes),
     * but not into fresh pages (1.16-1.17x slower there, like the planes) */
    const int wm_stream = I2C_HAVE_STREAM && wm && !(mode & I2C_FRESH_COLS) && past &&
                          w->k[2] * w->v * (int64_t)sizeof(T) >= I2C_STREAM_MIN_RUN &&
                          w->k[2] * w->v * (int64_t)sizeof(T) <= I2C_STAGE_BYTES;
    int zeros, plain;
    int64_t p;
    (void)nt;
    mode &= ~I2C_FRESH_COLS;
    if (mode == I2C_PAD_CONSTANT && i2c_all_zero(fill, sizeof(T)))
        mode = I2C_PAD_ZEROS;
    zeros = mode == I2C_PAD_ZEROS;
    /* the zero-padded plane walks: zeros, or no padding read in the plane */
    plain = zeros || i2c_plane_inside(w);
    i2c_plane_geom(w, &g2);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (p = 0; p < planes; p++) {
        const int64_t ni = p / w->c, ci = p % w->c;
        const T *xp = x + ni * w->xs[0] + ci * w->xs[1], *pend = NULL;
        T *cp = cols + ni * w->cs[0] + ci * w->cs[1], *pend_c = NULL;
        int64_t k0, o0, first = 0;
        if (wm) {
            if (zeros)
                FN(gather_wm)(xp, cp, w, I2C_PAD_ZEROS, NULL, wm_stream);
            else
                FN(gather_wm)(xp, cp, w, mode, fill, wm_stream);
            if (wm_stream)
                i2c_stream_fence();
            continue;
        }
        /* each zero-padded 2-D gather runs one step late, once the next
         * one is known: it may prefetch that one's plane of x (the next
         * (n, c) plane's first for the last) */
        for (k0 = 0; k0 < w->k[0]; k0++) {
            for (o0 = 0; o0 < w->o[0]; o0++) {
                const int64_t m0 = i2c_pad_index(mode, o0 * w->s[0] + k0 * w->d[0] - w->p[0],
                                                 w->size[0]);
                T *sub = cp + k0 * w->cs[2] + o0 * w->cs[5];
                if (m0 < 0) {
                    FN(pad_plane)(sub, &g2, mode, fill, stream);
                } else if (plain) {
                    if (pend != NULL)
                        FN(gather_plane_any)(pend, pend_c, &g2, stream, xp + m0 * w->xs[2]);
                    else
                        first = m0 * w->xs[2];
                    pend = xp + m0 * w->xs[2];
                    pend_c = sub;
                } else {
                    FN(gather_plane_mode)(xp + m0 * w->xs[2], sub, &g2, mode, fill, stream);
                }
            }
        }
        if (pend != NULL) {
            const T *next = NULL;
            if (p + 1 < planes)
                next = x + ((p + 1) / w->c) * w->xs[0] + ((p + 1) % w->c) * w->xs[1] + first;
            FN(gather_plane_any)(pend, pend_c, &g2, stream, next);
        }
        if (stream)
            i2c_stream_fence();
    }
}
#endif /* I2C_GATHER (padding modes, the dispatch) */

#if I2C_ACCUM
/* ------------------------------------------------------------------------
 * col2im accumulate
 *
 * Image rows are produced one at a time: row iy is zeroed, then every
 * (ky, kx) tap that reads row iy adds its contributions, taps in row-major
 * order.  For each pixel that is exactly "0, then + tap (0,0), + tap (0,1),
 * ..." -- the order the NumPy twin uses -- while each image row is written
 * once and stays in cache.  When v is strided in x (cs231n layout) the row
 * is accumulated in a stack tile of contiguous vectors, then written out
 * image by image.
 * There is no accumulation with a padding mode to share i2c_accumulate's
 * dispatch with: fold with a reading mode (reflect, replicate, circular)
 * runs this one into an image of the padded size and NumPy adds the
 * border back (_padding.fold_border); zeros and constant drop the padding,
 * as this one does.
 * ------------------------------------------------------------------------ */

/* The cols row (ow, v) of tap ky that feeds image row iy, or NULL. */
static const TS *FN(col2im_src_row)(const TS *cp, const i2c_geom *g, int64_t iy, int64_t ky)
{
    const int64_t t = iy + g->ph - ky * g->dh;   /* = oy * sh */
    int64_t oy;
    if (t < 0 || t % g->sh != 0)
        return NULL;
    oy = t / g->sh;
    if (oy >= g->oh)
        return NULL;
    return cp + ky * g->cs[2] + oy * g->cs[4];
}

static void FN(col2im_plane)(const TS *cp, T *xp, const i2c_geom *g, int add)
{
    int64_t kx_lo[I2C_KX_CACHE], kx_hi[I2C_KX_CACHE];
    const int64_t ncache = g->kw < I2C_KX_CACHE ? g->kw : I2C_KX_CACHE;
    const int64_t xs2 = g->xs[2], xs3 = g->xs[3], xs4 = g->xs[4];
    const int64_t cs5 = g->cs[5], cs6 = g->cs[6];
    const int set = !add && i2c_plane_tiles(g);   /* no zeroing: one tap per pixel */
    int64_t iy, ky, kx;

    for (kx = 0; kx < ncache; kx++)
        i2c_range(kx * g->dw - g->pw, g->sw, g->w, g->ow, &kx_lo[kx], &kx_hi[kx]);

    for (iy = 0; iy < g->h; iy++) {
        T *xrow = xp + iy * xs2;
        if (!add && !set)
            FN(zero_block)(xrow, xs3, xs4, g->w, g->v);
        for (ky = 0; ky < g->kh; ky++) {
            const TS *crow = FN(col2im_src_row)(cp, g, iy, ky);
            if (crow == NULL)
                continue;
            for (kx = 0; kx < g->kw; kx++) {
                const int64_t offx = kx * g->dw - g->pw;
                int64_t ox0, ox1;
                I2C_KX_RANGE(kx, offx, ox0, ox1);
                if (ox0 >= ox1)
                    continue;
                FN(add_block)(xrow + (ox0 * g->sw + offx) * xs3, g->sw * xs3, xs4,
                              crow + kx * g->cs[3] + ox0 * cs5, cs5, cs6,
                              ox1 - ox0, g->v, set);
            }
        }
    }
}

/* The plane copy split by column phase of col2im_plane_taps (v == 1,
 * column stride sw > 1): buf[r, iy, j] is pixel (iy, j*sw + r), shape
 * (sw, h, wq) with wq = ceil(w / sw).  phase_split fills it from the plane
 * (add) or with zeros; phase_join writes it back. */
static void FN(phase_split)(const T *xp, const i2c_geom *g, int add, T *buf)
{
    const int64_t sw = g->sw, wq = (g->w + sw - 1) / sw, ph_elems = g->h * wq;
    int64_t iy, r, j;
    if (!add) {
        memset(buf, 0, (size_t)(sw * ph_elems) * sizeof(T));
        return;
    }
    for (iy = 0; iy < g->h; iy++) {
        const T *I2C_RESTRICT xrow = xp + iy * g->xs[2];
        T *I2C_RESTRICT brow = buf + iy * wq;
        if (sw == 2 && g->xs[3] == 1) {   /* as in phase_join */
            T *I2C_RESTRICT b1 = brow + ph_elems;
            for (j = 0; j < g->w / 2; j++) {
                brow[j] = xrow[2 * j];
                b1[j] = xrow[2 * j + 1];
            }
            if (g->w % 2)
                brow[wq - 1] = xrow[g->w - 1];
            continue;
        }
        for (r = 0; r < sw; r++)
            for (j = 0; j * sw + r < g->w; j++)
                brow[r * ph_elems + j] = xrow[(j * sw + r) * g->xs[3]];
    }
}

static void FN(phase_join)(const T *buf, const i2c_geom *g, T *xp)
{
    const int64_t sw = g->sw, wq = (g->w + sw - 1) / sw, ph_elems = g->h * wq;
    int64_t iy, r, j;
    for (iy = 0; iy < g->h; iy++) {
        T *I2C_RESTRICT xrow = xp + iy * g->xs[2];
        const T *I2C_RESTRICT brow = buf + iy * wq;
        if (sw == 2 && g->xs[3] == 1) {
            /* the common stride: one interleaving loop (vectorised) */
            const T *I2C_RESTRICT b1 = brow + ph_elems;
            for (j = 0; j < g->w / 2; j++) {
                xrow[2 * j] = brow[j];
                xrow[2 * j + 1] = b1[j];
            }
            if (g->w % 2)
                xrow[g->w - 1] = brow[wq - 1];
            continue;
        }
        for (r = 0; r < sw; r++)   /* phase r: columns r, r + sw, ... */
            for (j = 0; j * sw + r < g->w; j++)
                xrow[(j * sw + r) * g->xs[3]] = brow[r * ph_elems + j];
    }
}

/* col2im of one small plane, tap by tap: the plane is zeroed, then each
 * (ky, kx) tap adds its whole (oh, ow) block, taps in row-major order --
 * the same order for every pixel as col2im_plane.  cols is read as one
 * sequential stream per tap while the plane (at most I2C_TAPS_PLANE_BYTES)
 * stays in cache; the row-wise walk instead reads kh*kw rows at once, more
 * streams than the prefetchers follow for 7x7 kernels.  With v == 1 and a
 * column stride sw > 1 the taps add into the plane split by column phase
 * (phase_split): all pixels of one tap kx share a phase, so each tap row is
 * ONE contiguous (vectorised) add instead of a scalar add every sw pixels
 * (float64 (100, 3, 31, 31) 3x3 stride 2: fold 0.59 -> 0.52 ms); same taps
 * in the same order per pixel, the same bits.  Same arguments as
 * col2im_plane. */
static void FN(col2im_plane_taps)(const TS *cp, T *xp, const i2c_geom *g, int add)
{
    T buf[I2C_PHASE_BYTES / sizeof(T)];
    const int64_t xs2 = g->xs[2], xs3 = g->xs[3], xs4 = g->xs[4];
    const int64_t cs4 = g->cs[4], cs5 = g->cs[5], cs6 = g->cs[6];
    const int64_t sw = g->sw, wq = (g->w + sw - 1) / sw, ph_elems = g->h * wq;
    const int set = !add && i2c_plane_tiles(g);   /* no zeroing: one tap per pixel */
    const int phases = g->v == 1 && sw > 1 && !set &&
                       sw * ph_elems * (int64_t)sizeof(T) <= I2C_PHASE_BYTES;
    const int64_t rstep = phases ? wq : xs2;      /* image row step of the target */
    int64_t iy, ky, kx, oy, oy0, oy1, ox0, ox1, offy, offx, ix0;
    const TS *ctap;
    T *dst;

    if (phases)
        FN(phase_split)(xp, g, add, buf);
    for (iy = 0; !phases && !add && !set && iy < g->h; iy++)
        FN(zero_block)(xp + iy * xs2, xs3, xs4, g->w, g->v);
    for (ky = 0; ky < g->kh; ky++) {
        offy = ky * g->dh - g->ph;
        i2c_range(offy, g->sh, g->h, g->oh, &oy0, &oy1);
        if (oy0 >= oy1)
            continue;
        for (kx = 0; kx < g->kw; kx++) {
            offx = kx * g->dw - g->pw;
            i2c_range(offx, sw, g->w, g->ow, &ox0, &ox1);
            if (ox0 >= ox1)
                continue;
            ctap = cp + ky * g->cs[2] + kx * g->cs[3];
            ix0 = ox0 * sw + offx;                   /* >= 0 */
            dst = phases ? buf + (ix0 % sw) * ph_elems + ix0 / sw : xp + ix0 * xs3;
            if (g->v == 1 && cs5 == 1 && (phases || sw * xs3 == 1)) {
                /* an image (or phase) row and a tap row both contiguous:
                 * the adds inline (a call of add_block per row of 16 or 32
                 * cost as much as its adds) */
                const int64_t cnt = ox1 - ox0;
                for (oy = oy0; oy < oy1; oy++) {
                    T *I2C_RESTRICT d = dst + (oy * g->sh + offy) * rstep;
                    const TS *I2C_RESTRICT c = ctap + oy * cs4 + ox0;
                    int64_t i;
                    for (i = 0; !phases && i < cnt; i += 64 / (int64_t)sizeof(TS))
                        I2C_PREFETCH((const char *)(c + i) + I2C_PREFETCH_BYTES);
                    if (set)
                        for (i = 0; i < cnt; i++)
                            d[i] = I2C_ZERO + I2C_LOAD(c[i]);
                    else
                        for (i = 0; i < cnt; i++)
                            d[i] += I2C_LOAD(c[i]);
                }
                continue;
            }
            for (oy = oy0; oy < oy1; oy++)
                FN(add_block)(dst + (oy * g->sh + offy) * rstep, phases ? 1 : sw * xs3, xs4,
                              ctap + oy * cs4 + ox0 * cs5, cs5, cs6, ox1 - ox0, g->v, set);
        }
    }
    if (phases)
        FN(phase_join)(buf, g, xp);
}

/* col2im of one v == 1 plane whose windows tile it exactly
 * (i2c_plane_tiles; !add): every pixel is 0 + its one tap, so each image
 * row is written once, in order, from the kw tap rows of its one (ky, oy):
 * x[iy, ox*sw + kx - pw] = 0 + cols[ky, kx, oy, ox].  Taken when the taps
 * of a plane lie apart in cols (the cs231n 6-D layout, taps N planes
 * apart): the tap-major walk then reads kh*kw distant runs per plane and
 * writes every row kw times with stride sw (float64 (50, 32, 32, 32) 2x2
 * stride 2: 2.1 -> 1.5 ms).  Where a plane's taps are one block of cols
 * (torch's layout) the tap-major walk reads one stream and was 1.4-1.9x
 * faster than this walk in the same measurement.  Same result as
 * col2im_plane. */
static void FN(col2im_plane_interleave)(const TS *cp, T *xp, const i2c_geom *g)
{
    const int64_t kw = g->kw, cs3 = g->cs[3], cs5 = g->cs[5], xs3 = g->xs[3];
    int64_t iy, ix, ox, kx;
    for (iy = 0; iy < g->h; iy++) {
        const int64_t t = iy + g->ph;            /* = oy * sh + ky, sh == kh */
        const TS *crow = cp + (t % g->kh) * g->cs[2] + (t / g->kh) * g->cs[4];
        T *xrow = xp + iy * g->xs[2];
        ix = 0;
        /* the first window may start inside the padding */
        for (kx = g->pw % kw, ox = g->pw / kw; ix < g->w && kx < kw; kx++, ix++)
            xrow[ix * xs3] = I2C_ZERO + I2C_LOAD(crow[kx * cs3 + ox * cs5]);
        for (ox++; ix + kw <= g->w; ox++)
            for (kx = 0; kx < kw; kx++, ix++)
                xrow[ix * xs3] = I2C_ZERO + I2C_LOAD(crow[kx * cs3 + ox * cs5]);
        for (kx = 0; ix < g->w; kx++, ix++)
            xrow[ix * xs3] = I2C_ZERO + I2C_LOAD(crow[kx * cs3 + ox * cs5]);
    }
}

/* col2im of one plane through a stack tile; requires v > 1 and
 * g->cs[6] == 1.  Same arguments as col2im_plane. */
static void FN(col2im_plane_tiled)(const TS *cp, T *xp, const i2c_geom *g, int add)
{
    T tile[I2C_TILE];
    const int64_t v = g->v, vb = v < I2C_TILE_V ? v : I2C_TILE_V;
    const int64_t wb = I2C_TILE / vb;
    const int64_t xs2 = g->xs[2], xs3 = g->xs[3], xs4 = g->xs[4], cs5 = g->cs[5];
    int64_t iy, ky, kx, j0, ixa, i, j;
    for (iy = 0; iy < g->h; iy++) {
        for (j0 = 0; j0 < v; j0 += vb) {
            const int64_t jn = v - j0 < vb ? v - j0 : vb;
            for (ixa = 0; ixa < g->w; ixa += wb) {
                const int64_t ixn = g->w - ixa < wb ? g->w - ixa : wb;
                /* tile(i, j) accumulates x[iy, ixa + i, j0 + j] */
                if (add) {
                    for (j = 0; j < jn; j++) {
                        const T *d = xp + iy * xs2 + ixa * xs3 + (j0 + j) * xs4;
                        for (i = 0; i < ixn; i++)
                            tile[i * jn + j] = d[i * xs3];
                    }
                } else {
                    memset(tile, 0, (size_t)(ixn * jn) * sizeof(T));
                }
                for (ky = 0; ky < g->kh; ky++) {
                    const TS *crow = FN(col2im_src_row)(cp, g, iy, ky);
                    if (crow == NULL)
                        continue;
                    for (kx = 0; kx < g->kw; kx++) {
                        const int64_t offx = kx * g->dw - g->pw;
                        int64_t a, b;
                        i2c_range(offx - ixa, g->sw, ixn, g->ow, &a, &b);
                        if (a < b)
                            FN(add_block)(tile + (a * g->sw + offx - ixa) * jn, g->sw * jn, 1,
                                          crow + kx * g->cs[3] + a * cs5 + j0, cs5, 1,
                                          b - a, jn, 0);
                    }
                }
                for (j = 0; j < jn; j++) {
                    T *d = xp + iy * xs2 + ixa * xs3 + (j0 + j) * xs4;
                    for (i = 0; i < ixn; i++)
                        d[i * xs3] = tile[i * jn + j];
                }
            }
        }
    }
}

/* col2im of one channels-last plane (the conditions of gather_wm): the
 * plane is zeroed, then windows are visited in row-major order, each window
 * row adding one run of k2*v elements, so cols is read as one forward
 * stream.  For one pixel the windows that reach it, taken in that order,
 * are its taps in REVERSE row-major order (a backward walk, which would
 * keep the row-major order, ran 2.4x slower: the prefetchers do not
 * follow it).  The NumPy twin sums in the same order under the same
 * condition.  As in gather_wm, short window rows (at most I2C_SHORT_RUN
 * bytes of cols) take, for the windows of a row (o0, o1) whose k2 taps are
 * all inside the image, a table of the rows (k0, k1) inside the image
 * (their targets move by s2*v per window) and a loop of short adds, in the
 * same order. */
#if defined(I2C_FV) && I2C_HAVE_STREAM
/* d[i] = 0 + s[i] for i < n, by non-temporal stores from where d is
 * 16-byte aligned on (float and double: T == TS). */
static void FN(stream_plus_zero)(T *d, const TS *s, int64_t n)
{
    const int64_t L = I2C_FV_LANES;
    int64_t i = 0;
    for (; i < n && ((uintptr_t)(void *)(d + i) & 15) != 0; i++)
        d[i] = I2C_ZERO + s[i];
    for (; i + L <= n; i += L)
        I2C_FV_STREAM(d + i, I2C_FV_ADD(I2C_FV_ZERO(), I2C_FV_LOAD(s + i)));
    for (; i < n; i++)
        d[i] = I2C_ZERO + s[i];
}
#endif

/* Stores one window row of a tiling walk: d[i] = 0 + s[i], non-temporal
 * with `stream` where the type has vectors. */
static I2C_ALWAYS_INLINE void FN(put_tiled_row)(T *I2C_RESTRICT d, const TS *I2C_RESTRICT s,
                                                int64_t n, int stream)
{
    int64_t i;
#if defined(I2C_FV) && I2C_HAVE_STREAM
    if (stream) {
        FN(stream_plus_zero)(d, s, n);
        return;
    }
#else
    (void)stream;
#endif
    for (i = 0; i < n; i++)
        d[i] = I2C_ZERO + I2C_LOAD(s[i]);
}

static void FN(accumulate_wm)(const TS *cp, T *xp, const i2c_win *w, int stream)
{
    const int64_t v = w->v, kw = w->k[2], n2 = w->size[2];
    const int64_t run = kw * v;
    const int shortrun = run * (int64_t)sizeof(TS) <= I2C_SHORT_RUN &&
                         w->k[0] * w->k[1] <= I2C_SHORT_ROWS && kw <= n2;
    /* windows that tile the volume (2x2x2 stride 2, say) give each pixel
     * one tap: it is stored (0 + the tap), with no zeroing pass first, and
     * with `stream` (see i2c_accumulate) by non-temporal stores: side by
     * side, float64 (8, 16, 32, 32, 16) 2x2x2, 0.8x the time without the
     * zeroing, 0.59x with the stores too (1.2-1.3x a memcpy) */
    const int tiles = i2c_axis_tiles(w->size[0], w->k[0], w->s[0], w->d[0], w->p[0], w->o[0]) &&
                      i2c_axis_tiles(w->size[1], w->k[1], w->s[1], w->d[1], w->p[1], w->o[1]) &&
                      i2c_axis_tiles(n2, kw, w->s[2], w->d[2], w->p[2], w->o[2]);
    T *dst[I2C_SHORT_ROWS];
    int64_t srco[I2C_SHORT_ROWS];
    int64_t o0, o1, o2, oa = 0, ob = 0, k0, k1, a, b, i, j, r, rows;
    for (o0 = 0; o0 < w->size[0] && !tiles; o0++)
        for (o1 = 0; o1 < w->size[1]; o1++)
            memset(xp + o0 * w->xs[2] + o1 * w->xs[3], 0, (size_t)(n2 * v) * sizeof(T));
    if (shortrun)   /* the windows whose k2 taps lie in [0, n2) */
        i2c_range(-w->p[2], w->s[2], n2 - kw + 1, w->o[2], &oa, &ob);
    for (o0 = 0; o0 < w->o[0]; o0++) {
        for (o1 = 0; o1 < w->o[1]; o1++) {
            const TS *wrow = cp + o0 * w->cs[5] + o1 * w->cs[6];
            for (o2 = 0; o2 < w->o[2]; o2++) {
                const int64_t ix0 = o2 * w->s[2] - w->p[2];
                const TS *win = wrow + o2 * w->cs[7];
                if (shortrun && o2 == oa && oa < ob) {
                    /* the table of rows, then windows oa .. ob-1 */
                    for (k0 = 0, rows = 0; k0 < w->k[0]; k0++) {
                        const int64_t i0 = o0 * w->s[0] + k0 * w->d[0] - w->p[0];
                        for (k1 = 0; k1 < w->k[1]; k1++) {
                            const int64_t i1 = o1 * w->s[1] + k1 * w->d[1] - w->p[1];
                            if (i0 < 0 || i0 >= w->size[0] || i1 < 0 || i1 >= w->size[1])
                                continue;
                            dst[rows] = xp + i0 * w->xs[2] + i1 * w->xs[3] + ix0 * v;
                            srco[rows++] = k0 * w->cs[2] + k1 * w->cs[3];
                        }
                    }
                    for (j = 0; j < ob - oa; j++) {
                        const TS *wj = win + j * w->cs[7];
                        for (r = 0; r < rows; r++) {
                            T *I2C_RESTRICT d = dst[r] + j * w->s[2] * v;
                            const TS *I2C_RESTRICT src = wj + srco[r];
                            if (tiles)
                                FN(put_tiled_row)(d, src, run, stream);
                            else
                                for (i = 0; i < run; i++)
                                    d[i] += I2C_LOAD(src[i]);
                        }
                    }
                    o2 = ob - 1;
                    continue;
                }
                a = ix0 >= 0 ? 0 : -ix0;
                b = n2 - ix0 < kw ? n2 - ix0 : kw;
                if (b <= a)
                    continue;
                for (k0 = 0; k0 < w->k[0]; k0++) {
                    const int64_t i0 = o0 * w->s[0] + k0 * w->d[0] - w->p[0];
                    if (i0 < 0 || i0 >= w->size[0])
                        continue;
                    for (k1 = 0; k1 < w->k[1]; k1++) {
                        const int64_t i1 = o1 * w->s[1] + k1 * w->d[1] - w->p[1];
                        T *I2C_RESTRICT d;
                        const TS *I2C_RESTRICT src;
                        if (i1 < 0 || i1 >= w->size[1])
                            continue;
                        d = xp + i0 * w->xs[2] + i1 * w->xs[3] + (ix0 + a) * v;
                        src = win + k0 * w->cs[2] + k1 * w->cs[3] + a * v;
                        if (tiles)
                            FN(put_tiled_row)(d, src, (b - a) * v, stream);
                        else
                            for (i = 0; i < (b - a) * v; i++)
                                d[i] += I2C_LOAD(src[i]);
                    }
                }
            }
        }
    }
}

/* col2im of one 2-D (h, w) plane (add: onto x's values instead of 0). */
static void FN(col2im_plane_any)(const TS *cp, T *xp, const i2c_geom *g, int add,
                                  const TS *next, int stream);

/* col2im of one plane of the cs231n layout through a transposed copy of
 * blocks of images (the gather's twin): the copy (in L2) is accumulated
 * tap by tap like a channels-last plane, each tap one stream of cols, in
 * the same per-pixel order, then moved back.  Row by row (the nine taps of
 * a 3x3 window nine streams a tap row apart), with the same prefetch, ran
 * 1.4x slower.
 * Returns 0, having written nothing, when the plane does not qualify or no
 * buffer could be had. */
static int FN(col2im_plane_transposed)(const TS *cp, T *xp, const i2c_geom *g, int add)
{
    const int64_t hw = g->h * g->w, v = g->v, vb = FN(transpose_block)(g);
    int64_t j0;
    T *xt;
    if (vb == 0)
        return 0;
    if (!add && i2c_plane_unit(g) && sizeof(TS) == sizeof(T)) {
        /* the columns are the transposed plane: no copy in between */
        for (j0 = 0; j0 < v; j0 += vb)
            FN(untranspose_plane)((const T *)(cp + j0), g->cs[5], hw, v - j0 < vb ? v - j0 : vb,
                                  xp + j0 * g->xs[4], g->xs[4]);
        return 1;
    }
    xt = (T *)malloc((size_t)(hw * vb) * sizeof(T));
    if (xt == NULL)
        return 0;
    for (j0 = 0; j0 < v; j0 += vb) {
        const int64_t jn = v - j0 < vb ? v - j0 : vb;
        i2c_geom g2;
        FN(transposed_geom)(g, jn, &g2);
        if (add)
            FN(transpose_plane)(xp + j0 * g->xs[4], g->xs[4], hw, jn, xt, jn);
        FN(col2im_plane_taps)(cp + j0, xt, &g2, add);
        FN(untranspose_plane)(xt, jn, hw, jn, xp + j0 * g->xs[4], g->xs[4]);
    }
    free(xt);
    return 1;
}

#ifdef I2C_FV
/* col2im of a v == 1 plane tiled exactly by 2x2-stride-2-like windows (two
 * undilated taps a row at stride 2, no column padding, unit column strides;
 * i2c_plane_tiles, !add): every image row is 0 + the interleave of the
 * rows of taps (ky, 0) and (ky, 1), written once from 16-byte loads and
 * unpacks, where the tap-major walk wrote each row twice at stride 2
 * (gather_plane_pairs is the gather's twin).  float and double (0 + -0.0
 * is +0.0: the add is kept); returns 0, writing nothing, when the plane
 * does not qualify.  With `stream` (columns and image past
 * I2C_STREAM_MIN_BYTES) the image rows, whole vectors when x is 16-byte
 * aligned, are written with non-temporal stores, which write the image
 * without reading it into the cache first: side by side, float64
 * (50, 32, 32, 32) 0.58x the time (the speed of a memcpy of the bytes),
 * (16, 32, 64, 64) 0.5-0.6x, 3-D (8, 16, 16, 32, 32) 2x2x2 0.5x, the
 * allocating fold 0.5-0.7x. */
static int FN(col2im_plane_pairs)(const TS *cp, T *xp, const i2c_geom *g, const TS *next,
                                  int stream)
{
    const int64_t ow = g->ow, cs4 = g->cs[4], L = I2C_FV_LANES;
    const int64_t rowb = ow * (int64_t)sizeof(TS);
    const int packed = g->cs[3] == g->oh * cs4 && g->cs[2] == 2 * g->cs[3];
    const int64_t per = (g->kh * 2 * rowb + 63) & ~(int64_t)63;
    int64_t oy, ky, ox;
    if (g->v != 1 || g->kw != 2 || g->sw != 2 || g->dw != 1 || g->pw != 0 || 2 * ow != g->w ||
        g->xs[3] != 1 || g->cs[5] != 1 || !i2c_plane_tiles(g))
        return 0;
    /* The plane's columns are 4 short streams (a tap row each, 2 KiB for a
     * 32x32 image) that the hardware prefetcher barely learns before they
     * end: each window row prefetches its share of the columns of the next
     * plane the caller will fold (`next`, NULL for none): in memory order
     * where the taps are packed (the torch layout; a tap row at a time
     * across the taps measured 1.3x slower there), else the same row of
     * each tap (the depth slices of 3-D windows).  Side by side, float64
     * (50, 32, 32, 32): 0.55x the time, (16, 32, 64, 64) 0.39x, 3-D
     * (8, 16, 16, 32, 32) 2x2x2 0.86-0.89x; with it this walk is also
     * faster than the tap-major one where image and columns alias in the
     * low 12 address bits (0.6-0.75x; without it, 1.17-1.29x slower). */
    for (oy = 0; oy < g->oh; oy++) {
        int64_t pb;
        if (next != NULL && packed)
            for (pb = 0; pb < per; pb += 64)
                I2C_PREFETCH((const char *)next + oy * per + pb);
        for (ky = 0; next != NULL && !packed && ky < g->kh; ky++)
            for (pb = 0; pb < rowb; pb += 64) {
                const char *n0 = (const char *)(next + ky * g->cs[2] + oy * cs4) + pb;
                I2C_PREFETCH(n0);
                I2C_PREFETCH(n0 + g->cs[3] * (int64_t)sizeof(TS));
            }
        for (ky = 0; ky < g->kh; ky++) {
            const int64_t iy = oy * g->sh + ky * g->dh - g->ph;
            const T *I2C_RESTRICT t0 = cp + ky * g->cs[2] + oy * cs4;
            const T *I2C_RESTRICT t1 = t0 + g->cs[3];
            T *I2C_RESTRICT xr = xp + iy * g->xs[2];
            if (iy < 0 || iy >= g->h)
                continue;
#if I2C_HAVE_STREAM
            if (stream && ((uintptr_t)(const void *)xr & 15) == 0)
                for (ox = 0; ox + L <= ow; ox += L) {
                    const I2C_FV a = I2C_FV_LOAD(t0 + ox), b = I2C_FV_LOAD(t1 + ox);
                    I2C_FV_STREAM(xr + 2 * ox, I2C_FV_ADD(I2C_FV_ZERO(), I2C_FV_LO(a, b)));
                    I2C_FV_STREAM(xr + 2 * ox + L, I2C_FV_ADD(I2C_FV_ZERO(), I2C_FV_HI(a, b)));
                }
            else
#endif
            for (ox = 0; ox + L <= ow; ox += L) {
                const I2C_FV a = I2C_FV_LOAD(t0 + ox), b = I2C_FV_LOAD(t1 + ox);
                I2C_FV_STORE(xr + 2 * ox, I2C_FV_ADD(I2C_FV_ZERO(), I2C_FV_LO(a, b)));
                I2C_FV_STORE(xr + 2 * ox + L, I2C_FV_ADD(I2C_FV_ZERO(), I2C_FV_HI(a, b)));
            }
            for (; ox < ow; ox++) {
                xr[2 * ox] = I2C_ZERO + t0[ox];
                xr[2 * ox + 1] = I2C_ZERO + t1[ox];
            }
        }
    }
    return 1;
}
#endif

#ifdef I2C_FV
/* col2im of a cs231n-layout plane (v > 1 images, contiguous in cols)
 * tiled exactly by 2x2-stride-2-like windows (col2im_plane_pairs' windows,
 * !add) without the transposed copy: blocks of 4 images, row by row, every
 * image row 0 + the interleave of the rows of taps (ky, 0) and (ky, 1),
 * one register transpose of the two taps' image vectors giving pixel pairs
 * of two images (float64) or pixel quads of four (float32, two windows at
 * a time).  Taken where the transposed copy would be split into blocks
 * (more images than I2C_TRANSPOSE_BYTES holds: the pooling view (N*C, 1,
 * H, W)), whose walk reads each window's images in runs a block long:
 * side by side, float64 (1600, 1, 32, 32) 0.54x the time, (200, 8, 32, 32)
 * 0.45x, float32 0.47x / 0.60x.  Where the copy is one block the copy
 * stays: this walk measured 1.2-2x slower for (50, 32, 32, 32), though
 * 0.5-0.6x for (50, 16, 32, 32) and (100, 32, 16, 16) float64.  (Blocks
 * of 8 images: 0.6-0.9x.)  Returns 0, writing nothing, when the plane does
 * not qualify. */
static int FN(col2im_course_pairs)(const TS *cp, T *xp, const i2c_geom *g)
{
    enum { JB = I2C_PAIRS_BLOCK };
    const int64_t ow = g->ow, v = g->v, cs4 = g->cs[4], cs5 = g->cs[5];
    const int64_t xs2 = g->xs[2], xs4 = g->xs[4];
    int64_t j0, oy, ky, ox, jj;
    if (!FN(course_pairs_plane)(g) || 2 * ow != g->w || !i2c_plane_tiles(g))
        return 0;
    for (j0 = 0; j0 < v; j0 += JB) {
        const int64_t jn = v - j0 < JB ? v - j0 : JB;
        for (oy = 0; oy < g->oh; oy++) {
            for (ky = 0; ky < g->kh; ky++) {
                const int64_t iy = oy * g->sh + ky * g->dh - g->ph;
                const T *t0 = cp + ky * g->cs[2] + oy * cs4 + j0, *t1 = t0 + g->cs[3];
                T *xr = xp + j0 * xs4 + iy * xs2;
                if (iy < 0 || iy >= g->h)
                    continue;
                ox = 0;
                if (jn == JB && sizeof(T) == 8) {
                    const __m128d z = _mm_setzero_pd();
                    for (; ox < ow; ox++) {
                        const double *a = (const double *)(t0 + ox * cs5);
                        const double *b = (const double *)(t1 + ox * cs5);
                        for (jj = 0; jj < JB; jj += 2) {
                            const __m128d va = _mm_loadu_pd(a + jj), vb = _mm_loadu_pd(b + jj);
                            _mm_storeu_pd((double *)(xr + jj * xs4 + 2 * ox),
                                          _mm_add_pd(z, _mm_unpacklo_pd(va, vb)));
                            _mm_storeu_pd((double *)(xr + (jj + 1) * xs4 + 2 * ox),
                                          _mm_add_pd(z, _mm_unpackhi_pd(va, vb)));
                        }
                    }
                } else if (jn == JB && sizeof(T) == 4) {
                    const __m128 z = _mm_setzero_ps();
                    for (; ox + 2 <= ow; ox += 2) {
                        const float *a = (const float *)(t0 + ox * cs5);
                        const float *b = (const float *)(t1 + ox * cs5);
                        for (jj = 0; jj < JB; jj += 4) {
                            __m128 r0 = _mm_loadu_ps(a + jj), r1 = _mm_loadu_ps(b + jj);
                            __m128 r2 = _mm_loadu_ps(a + cs5 + jj), r3 = _mm_loadu_ps(b + cs5 + jj);
                            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
                            float *d = (float *)(xr + jj * xs4 + 2 * ox);
                            _mm_storeu_ps(d, _mm_add_ps(z, r0));
                            _mm_storeu_ps(d + xs4, _mm_add_ps(z, r1));
                            _mm_storeu_ps(d + 2 * xs4, _mm_add_ps(z, r2));
                            _mm_storeu_ps(d + 3 * xs4, _mm_add_ps(z, r3));
                        }
                    }
                }
                for (; ox < ow; ox++) {
                    for (jj = 0; jj < jn; jj++) {
                        xr[jj * xs4 + 2 * ox] = I2C_ZERO + t0[ox * cs5 + jj];
                        xr[jj * xs4 + 2 * ox + 1] = I2C_ZERO + t1[ox * cs5 + jj];
                    }
                }
            }
        }
    }
    return 1;
}
#endif

static void FN(col2im_plane_any)(const TS *cp, T *xp, const i2c_geom *g, int add,
                                  const TS *next, int stream)
{
#ifdef I2C_FV
    if (!add && FN(col2im_plane_pairs)(cp, xp, g, next, stream))
        return;
    if (!add && g->v > 1 && g->xs[4] != 1 && FN(col2im_course_pairs)(cp, xp, g))
        return;
#endif
    if (g->v > 1 && g->xs[4] != 1 && g->cs[6] == 1 &&
        FN(col2im_plane_transposed)(cp, xp, g, add))
        return;
    if (g->v > 1 && g->xs[4] != 1 && g->cs[6] == 1)
        FN(col2im_plane_tiled)(cp, xp, g, add);
    else if (g->v == 1 && !add && g->cs[3] != g->oh * g->cs[4] && i2c_plane_tiles(g))
        FN(col2im_plane_interleave)(cp, xp, g);
    else if (g->h * g->w * g->v * (int64_t)sizeof(T) <= I2C_TAPS_PLANE_BYTES)
        FN(col2im_plane_taps)(cp, xp, g, add);
    else
        FN(col2im_plane)(cp, xp, g, add);
}

/* ------------------------------------------------------------------------
 * col2im of small integers through a narrow accumulator (issue 11)
 *
 * Widening every element of cols straight to 64 bits costs a chain of
 * unpacks per element (SSE2 has no pmovzx/pmovsx), which made uint8 fold
 * 5x slower than a copy of the columns.  Within one 2-D plane a pixel gets
 * at most kh*kw contributions, so when kh*kw <= I2C_TA_MAX_TAPS their sum
 * is exact in TA (uint8/int8 in 16 bits, uint16/int16 in 32): the plane is
 * summed, band of rows by band, into a stack tile of TA (adds of narrow
 * vectors), and each band is widened into x once.  Integer sums are exact
 * (modulo 2**64), so the result is the same bits as the direct walks'.
 * ------------------------------------------------------------------------ */
#ifdef TA

/* (I2C_NARROW_TILE, the elements of the stack tile, is defined in
 * im2col_ext.c.) */

/* dst[i*dstep + j] += src[i*sstep + j*svs] for i < cnt, j < v, in TA. */
static void FN(add_block_narrow)(TA *I2C_RESTRICT dst, int64_t dstep,
                                 const TS *I2C_RESTRICT src, int64_t sstep, int64_t svs,
                                 int64_t cnt, int64_t v)
{
    int64_t i, j;
    if (v == 1) {
        if (dstep == 1 && sstep == 1) {
            for (i = 0; i < cnt; i++)
                dst[i] = (TA)(dst[i] + (TA)src[i]);
        } else {
            for (i = 0; i < cnt; i++)
                dst[i * dstep] = (TA)(dst[i * dstep] + (TA)src[i * sstep]);
        }
    } else if (svs == 1) {
        for (i = 0; i < cnt; i++) {
            TA *I2C_RESTRICT d = dst + i * dstep;
            const TS *I2C_RESTRICT s = src + i * sstep;
            for (j = 0; j < v; j++)
                d[j] = (TA)(d[j] + (TA)s[j]);
        }
    } else {
        for (i = 0; i < cnt; i++) {
            TA *I2C_RESTRICT d = dst + i * dstep;
            const TS *I2C_RESTRICT s = src + i * sstep;
            for (j = 0; j < v; j++)
                d[j] = (TA)(d[j] + (TA)s[j * svs]);
        }
    }
}

/* col2im of one 2-D plane through TA tiles (same arguments as col2im_plane);
 * returns 0, doing nothing, when it does not apply (too many taps for TA,
 * or a padded image row wider than the tile).  The tile holds a band of
 * rows of the image padded along the row (pw on the left, as far as the
 * windows reach on the right), so every cols row is added whole -- its
 * padding taps land in the margins, which are dropped -- and the rows of
 * the torch layout (v == 1, unit stride) are plain contiguous loops. */
static int FN(col2im_plane_narrow)(const TS *cp, T *xp, const i2c_geom *g, int add)
{
    TA tile[I2C_NARROW_TILE];
    const int64_t v = g->v, wd = g->w, ow = g->ow;   /* locals: x may alias g */
    const int64_t reach = (ow - 1) * g->sw + (g->kw - 1) * g->dw + 1;
    const int64_t row = (reach > g->pw + wd ? reach : g->pw + wd) * v;
    const int64_t xs2 = g->xs[2], xs3 = g->xs[3], xs4 = g->xs[4];
    const int64_t cs4 = g->cs[4], cs5 = g->cs[5], cs6 = g->cs[6];
    const int64_t margin = g->pw * v;
    const int plain = v == 1 && g->sw == 1 && cs5 == 1;
    int64_t hb, r0, r1, ky, kx, oy, oy0, oy1, offy, iy, i, j;
    if (g->kh * g->kw > I2C_TA_MAX_TAPS || row > I2C_NARROW_TILE)
        return 0;
    hb = I2C_NARROW_TILE / row;
    for (r0 = 0; r0 < g->h; r0 += hb) {
        r1 = g->h - r0 < hb ? g->h : r0 + hb;
        memset(tile, 0, (size_t)((r1 - r0) * row) * sizeof(TA));
        for (ky = 0; ky < g->kh; ky++) {
            offy = ky * g->dh - g->ph;
            /* windows oy whose row iy = oy*sh + offy lies in [r0, r1) */
            i2c_range(offy - r0, g->sh, r1 - r0, g->oh, &oy0, &oy1);
            /* taps outermost: consecutive rows added go to different tile
             * rows (adding the kx taps of one row in a row stalls on
             * store-to-load forwarding of the overlapping vectors) */
            for (kx = 0; kx < g->kw; kx++) {
                for (oy = oy0; oy < oy1; oy++) {
                    TA *I2C_RESTRICT t = tile + (oy * g->sh + offy - r0) * row + kx * g->dw * v;
                    const TS *I2C_RESTRICT c = cp + ky * g->cs[2] + kx * g->cs[3] + oy * cs4;
                    if (plain) {
                        for (i = 0; i < ow; i++)
                            t[i] = (TA)(t[i] + (TA)c[i]);
                    } else {
                        FN(add_block_narrow)(t, g->sw * v, c, cs5, cs6, ow, v);
                    }
                }
            }
        }
        for (iy = r0; iy < r1; iy++) {
            const TA *I2C_RESTRICT t = tile + (iy - r0) * row + margin;
            T *I2C_RESTRICT xr = xp + iy * xs2;
            if (v == 1 && xs3 == 1) {
                if (add)
                    for (i = 0; i < wd; i++)
                        xr[i] += (T)t[i];
                else
                    for (i = 0; i < wd; i++)
                        xr[i] = (T)t[i];
            } else {
                for (i = 0; i < wd; i++)
                    for (j = 0; j < v; j++) {
                        if (add)
                            xr[i * xs3 + j * xs4] += (T)t[i * v + j];
                        else
                            xr[i * xs3 + j * xs4] = (T)t[i * v + j];
                    }
            }
        }
    }
    return 1;
}

#if I2C_HAVE_SSE2
/* d[0 .. 16/sizeof(TS)) += the 16 bytes at s, widened to TA, after
 * `mask` has cleared those past the window row (they add 0).  The only
 * vector code of the window-major narrow walk; TS of 1 or 2 bytes. */
static I2C_ALWAYS_INLINE void FN(add16_narrow)(TA *I2C_RESTRICT d, const TS *I2C_RESTRICT s,
                                              __m128i mask)
{
    const __m128i b = _mm_and_si128(_mm_loadu_si128((const __m128i *)(const void *)s), mask);
    const __m128i z = _mm_setzero_si128();
    __m128i lo, hi;
    __m128i *d0 = (__m128i *)(void *)d, *d1 = (__m128i *)(void *)(d + 16 / (2 * sizeof(TS)));
    const __m128i a0 = _mm_loadu_si128(d0), a1 = _mm_loadu_si128(d1);
    /* the high halves: zeros, or (signed) the value again, shifted out below */
    const __m128i e = (TS)-1 < (TS)0 ? b : z;
    if (sizeof(TS) == 1) {   /* bytes to 16 bits */
        lo = _mm_unpacklo_epi8(b, e);
        hi = _mm_unpackhi_epi8(b, e);
    } else {                 /* 16 bits to 32 */
        lo = _mm_unpacklo_epi16(b, e);
        hi = _mm_unpackhi_epi16(b, e);
    }
    if ((TS)-1 < (TS)0) {
        lo = sizeof(TS) == 1 ? _mm_srai_epi16(lo, 8) : _mm_srai_epi32(lo, 16);
        hi = sizeof(TS) == 1 ? _mm_srai_epi16(hi, 8) : _mm_srai_epi32(hi, 16);
    }
    _mm_storeu_si128(d0, sizeof(TS) == 1 ? _mm_add_epi16(a0, lo) : _mm_add_epi32(a0, lo));
    _mm_storeu_si128(d1, sizeof(TS) == 1 ? _mm_add_epi16(a1, hi) : _mm_add_epi32(a1, hi));
}
#endif

/* Image rows f in [f0, f1) of a plane (f = i0*size1 + i1) from the ring
 * of accumulate_wm_narrow into x: rows before `filled` were reached by a
 * window and are widened from their ring row, the others are zeros. */
static void FN(wm_ring_flush)(const TA *ring, int64_t rowlen, int64_t nring, int64_t f0,
                              int64_t f1, int64_t filled, T *xp, const i2c_win *w)
{
    const int64_t n1 = w->size[1], len = w->size[2] * w->v, margin = w->p[2] * w->v;
    int64_t f, i;
    for (f = f0; f < f1; f++) {
        T *I2C_RESTRICT xr = xp + (f / n1) * w->xs[2] + (f % n1) * w->xs[3];
        if (f < filled) {
            const TA *I2C_RESTRICT t = ring + (f % nring) * rowlen + margin;
            for (i = 0; i < len; i++)
                xr[i] = (T)t[i];
        } else {
            memset(xr, 0, (size_t)len * sizeof(T));
        }
    }
}

/* col2im of one channels-last plane (the conditions of accumulate_wm)
 * through a ring of image rows in TA.  Windows are visited as in
 * accumulate_wm, window row (o0, o1) by window row; the ring holds the
 * image rows (i0, i1), taken in row-major order, from the first one the
 * current window row reaches; rows before it are done (no later window
 * reaches them) and are widened into x, or zeroed there when no window
 * reached them.  Ring rows carry the padding (p2 pixels on the left, the
 * windows' reach on the right) plus a vector of slack, so every window row
 * is added whole and padding taps land in the margins, which are dropped.
 * Window rows of at most 16 bytes are added as one masked 16-byte vector;
 * the windows of a row are then taken in `nph` interleaved passes (every
 * nph-th window), so that no add reads a vector still being stored by the
 * one before it (store-to-load forwarding fails on partial overlaps).
 * Integer sums are exact in TA (at most I2C_TA_MAX_TAPS taps per pixel)
 * and modulo 2**64 in T, so the order does not change the result.
 * Returns 0, writing nothing, when the ring does not fit I2C_NARROW_RING. */
static int FN(accumulate_wm_narrow)(const TS *cp, T *xp, const i2c_win *w)
{
    TA ring[I2C_NARROW_RING];
    const int64_t v = w->v, n1 = w->size[1], n2 = w->size[2], o2n = w->o[2];
    const int64_t run = w->k[2] * v, sv = w->s[2] * v;
    const int64_t reach = (o2n - 1) * w->s[2] + w->k[2];
    const int64_t lanes = 16 / (int64_t)sizeof(TS);
    const int64_t rowlen = (reach > w->p[2] + n2 ? reach : w->p[2] + n2) * v + lanes;
    const int64_t nring = I2C_NARROW_RING / rowlen;
    const int vec = I2C_HAVE_SSE2 && run * (int64_t)sizeof(TS) <= 16;
    const int64_t nph = vec ? (lanes + sv - 1) / sv : 1;
    TA *dst[I2C_SHORT_ROWS];
    int64_t srco[I2C_SHORT_ROWS];
    const TS *lim = cp + run;   /* past the last element of the plane's cols */
    int64_t o0, o1, k0, k1, j, r, i, ph, rows, lo, hi, later, keep;
    int64_t done = 0, filled = 0;
#if I2C_HAVE_SSE2
    __m128i mask = _mm_setzero_si128();
    if (vec)
        mask = _mm_loadu_si128((const __m128i *)(const void *)
                               (i2c_first_bytes + 16 - run * (int64_t)sizeof(TS)));
#endif
    if (w->k[0] * w->k[1] * w->k[2] > I2C_TA_MAX_TAPS || w->k[0] * w->k[1] > I2C_SHORT_ROWS ||
        nring < 1)
        return 0;
    /* the rows live at once, [first one kept, last one reached), must fit */
    for (o0 = 0; o0 < w->o[0]; o0++)
        for (o1 = 0; o1 < w->o[1]; o1++)
            if (i2c_wm_rows(w, o0, o1, &lo, &hi, &later) &&
                hi - (lo < later ? lo : later) > nring)
                return 0;
    {
        const int64_t ext[5] = {w->k[0], w->k[1], w->o[0], w->o[1], o2n};
        const int64_t str[5] = {w->cs[2], w->cs[3], w->cs[5], w->cs[6], w->cs[7]};
        for (i = 0; i < 5; i++)
            if (str[i] > 0)
                lim += (ext[i] - 1) * str[i];
    }
    for (o0 = 0; o0 < w->o[0]; o0++) {
        for (o1 = 0; o1 < w->o[1]; o1++) {
            const TS *wrow = cp + o0 * w->cs[5] + o1 * w->cs[6];
            if (!i2c_wm_rows(w, o0, o1, &lo, &hi, &later))
                continue;
            /* rows no window row from here on reaches are done */
            keep = lo < later ? lo : later;
            FN(wm_ring_flush)(ring, rowlen, nring, done, keep, filled, xp, w);
            done = keep;
            for (i = filled > done ? filled : done; i < hi; i++)
                memset(ring + (i % nring) * rowlen, 0, (size_t)rowlen * sizeof(TA));
            if (hi > filled)
                filled = hi;
            /* the table of the rows (k0, k1) inside the image */
            for (k0 = 0, rows = 0; k0 < w->k[0]; k0++) {
                const int64_t i0 = o0 * w->s[0] + k0 * w->d[0] - w->p[0];
                for (k1 = 0; k1 < w->k[1]; k1++) {
                    const int64_t i1 = o1 * w->s[1] + k1 * w->d[1] - w->p[1];
                    if (i0 < 0 || i0 >= w->size[0] || i1 < 0 || i1 >= n1)
                        continue;
                    dst[rows] = ring + ((i0 * n1 + i1) % nring) * rowlen;
                    srco[rows++] = k0 * w->cs[2] + k1 * w->cs[3];
                }
            }
            for (r = 0; r < rows; r++) {
                for (ph = 0; ph < nph; ph++) {
                    TA *I2C_RESTRICT d = dst[r] + ph * sv;
                    const TS *I2C_RESTRICT src = wrow + srco[r] + ph * w->cs[7];
                    for (j = ph; j < o2n; j += nph, d += nph * sv, src += nph * w->cs[7]) {
#if I2C_HAVE_SSE2
                        if (vec && src + lanes <= lim) {
                            FN(add16_narrow)(d, src, mask);
                            continue;
                        }
#endif
                        for (i = 0; i < run; i++)
                            d[i] = (TA)(d[i] + (TA)src[i]);
                    }
                }
            }
        }
    }
    FN(wm_ring_flush)(ring, rowlen, nring, done, w->size[0] * n1, filled, xp, w);
    return 1;
}
#endif /* TA */

/* col2im of one 2-D plane: the narrow accumulator when the pair has one
 * and it applies, else col2im_plane_any. */
static void FN(col2im_plane_acc)(const TS *cp, T *xp, const i2c_geom *g, int add,
                                 const TS *next, int stream)
{
#ifdef TA
    if (FN(col2im_plane_narrow)(cp, xp, g, add))
        return;
#endif
    FN(col2im_plane_any)(cp, xp, g, add, next, stream);
}

/* See im2col_ext.h.  For each depth slice i0 of a plane, the depth taps k0
 * that read it add their 2-D col2im in order (the first one overwrites):
 * every pixel gets 0 + its taps (k0, k1, k2) in row-major order (reversed
 * on the window-major walk of channels-last planes, accumulate_wm). */
/* col2im of nn planes of one channel of the cs231n 6-D layout (cols
 * (C, kh, kw, N, oh, ow): the batch inside the taps, cs0 = its stride), tap
 * by tap across the planes: the planes are zeroed (unless the windows tile
 * them), then each tap adds its block to every plane, taps in row-major
 * order -- the order of col2im_plane_taps for every pixel.  Each tap is one
 * stream of cols through the nn planes (kept in L2 by the caller's block),
 * where a plane at a time reads kh*kw runs N planes apart (49 streams for
 * 7x7 windows).  v == 1, column stride 1. */
static void FN(col2im_channel_taps)(const TS *cp, T *xp, const i2c_geom *g, int64_t nn,
                                    int64_t xs0, int64_t cs0)
{
    const int set = i2c_plane_tiles(g);
    const int64_t xs2 = g->xs[2], xs3 = g->xs[3], cs4 = g->cs[4], cs5 = g->cs[5];
    int64_t n, iy, ky, kx, oy, oy0, oy1, ox0, ox1, offy, offx;
    for (n = 0; !set && n < nn; n++)
        for (iy = 0; iy < g->h; iy++)
            FN(zero_block)(xp + n * xs0 + iy * xs2, xs3, 1, g->w, 1);
    for (ky = 0; ky < g->kh; ky++) {
        offy = ky * g->dh - g->ph;
        i2c_range(offy, g->sh, g->h, g->oh, &oy0, &oy1);
        if (oy0 >= oy1)
            continue;
        for (kx = 0; kx < g->kw; kx++) {
            const TS *ctap = cp + ky * g->cs[2] + kx * g->cs[3];
            offx = kx * g->dw - g->pw;
            i2c_range(offx, g->sw, g->w, g->ow, &ox0, &ox1);
            if (ox0 >= ox1)
                continue;
            for (n = 0; n < nn; n++) {
                T *dst = xp + n * xs0 + (ox0 * g->sw + offx) * xs3;
                const TS *src = ctap + n * cs0 + ox0 * cs5;
                for (oy = oy0; oy < oy1; oy++) {
                    int64_t j;
                    for (j = 0; j < (ox1 - ox0) * cs5; j += 64 / (int64_t)sizeof(TS))
                        I2C_PREFETCH((const char *)(src + oy * cs4 + j) + I2C_PREFETCH_BYTES);
                    FN(add_block)(dst + (oy * g->sh + offy) * xs2, g->sw * xs3, 1,
                                  src + oy * cs4, cs5, 1, ox1 - ox0, 1, set);
                }
            }
        }
    }
}

void FN(i2c_accumulate)(const TS *cols, T *x, const i2c_win *w, int num_threads)
{
    i2c_geom g2;
    const int64_t planes = w->n * w->c;
    const int64_t per_plane = w->k[0] * w->k[1] * w->k[2] * w->o[0] * w->o[1] * w->o[2] * w->v;
    const int nt = i2c_plan_threads(num_threads, planes, per_plane);
    const int wm = i2c_window_major(w);
    /* non-temporal stores where a walk writes whole image rows (the pair
     * walk), by the gathers' threshold */
    const int stream = I2C_HAVE_STREAM &&
                       i2c_past_stream(w, (int64_t)sizeof(TS), (int64_t)sizeof(T));
    int64_t p;
    (void)nt;
    i2c_plane_geom(w, &g2);
    if (w->v == 1 && !wm && w->size[0] == 1 && w->k[0] == 1 && w->p[0] == 0 && w->n > 1 &&
        w->cs[0] < w->cs[3] && g2.sw == 1 &&
        g2.h * g2.w * (int64_t)sizeof(T) <= I2C_TAPS_PLANE_BYTES) {
        /* the 6-D layout: blocks of planes of one channel, tap by tap (the one
         * depth slice is window row 0 only without depth padding before it) */
        const int64_t nb0 = I2C_CHANNEL_BLOCK_BYTES / (g2.h * g2.w * (int64_t)sizeof(T));
        const int64_t nb = nb0 < 1 ? 1 : nb0, blocks = (w->n + nb - 1) / nb;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
        for (p = 0; p < w->c * blocks; p++) {
            const int64_t ci = p / blocks, n0 = (p % blocks) * nb;
            FN(col2im_channel_taps)(cols + n0 * w->cs[0] + ci * w->cs[1],
                                    x + n0 * w->xs[0] + ci * w->xs[1], &g2,
                                    w->n - n0 < nb ? w->n - n0 : nb, w->xs[0], w->cs[0]);
        }
        return;
    }
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (p = 0; p < planes; p++) {
        int64_t ni, ci;
        const TS *cp;
        T *xp, *pend_x = NULL;
        const TS *pend = NULL;
        int64_t i0, k0, iy, first = 0;
        int pend_add = 0;
        i2c_plane_index(w, p, &ni, &ci);
        cp = cols + ni * w->cs[0] + ci * w->cs[1];
        xp = x + ni * w->xs[0] + ci * w->xs[1];
        if (wm) {
#ifdef TA
            if (FN(accumulate_wm_narrow)(cp, xp, w))
                continue;
#endif
            FN(accumulate_wm)(cp, xp, w, stream);
            if (stream)
                i2c_stream_fence();
            continue;
        }
        /* each 2-D fold runs one step late, once the next one is known:
         * it may prefetch that one's columns (the next plane's first for
         * the last) */
        for (i0 = 0; i0 < w->size[0]; i0++) {
            T *xs = xp + i0 * w->xs[2];
            int add = 0;
            for (k0 = 0; k0 < w->k[0]; k0++) {
                const int64_t t = i0 + w->p[0] - k0 * w->d[0];   /* = o0 * s0 */
                int64_t o0;
                if (t < 0 || t % w->s[0] != 0)
                    continue;
                o0 = t / w->s[0];
                if (o0 >= w->o[0])
                    continue;
                if (pend != NULL)
                    FN(col2im_plane_acc)(pend, pend_x, &g2, pend_add,
                                         cp + k0 * w->cs[2] + o0 * w->cs[5], stream);
                else
                    first = k0 * w->cs[2] + o0 * w->cs[5];
                pend = cp + k0 * w->cs[2] + o0 * w->cs[5];
                pend_x = xs;
                pend_add = add;
                add = 1;
            }
            if (!add)
                for (iy = 0; iy < g2.h; iy++)
                    FN(zero_block)(xs + iy * g2.xs[2], g2.xs[3], g2.xs[4], g2.w, g2.v);
        }
        if (pend != NULL) {
            const TS *next = NULL;
            if (p + 1 < planes) {
                i2c_plane_index(w, p + 1, &ni, &ci);
                next = cols + ni * w->cs[0] + ci * w->cs[1] + first;
            }
            FN(col2im_plane_acc)(pend, pend_x, &g2, pend_add, next, stream);
        }
        if (stream)
            i2c_stream_fence();
    }
}
#endif /* I2C_ACCUM */

#if I2C_POOL
/* ------------------------------------------------------------------------
 * Pooling (v == 1; x strides g->xs[0..3]; out, argmax, dout, dx are
 * C-contiguous).  Each window visits only its in-bounds taps, found from
 * the precomputed ky / kx ranges, in row-major order.
 * ------------------------------------------------------------------------ */

static void FN(max_pool_plane)(const T *xp, T *op, int64_t *ap, const i2c_geom *g)
{
    const int64_t xs2 = g->xs[2], xs3 = g->xs[3];
    int64_t oy, ox, ky, kx;
    for (oy = 0; oy < g->oh; oy++) {
        const int64_t offy = oy * g->sh - g->ph;
        int64_t ky0, ky1;
        i2c_range(offy, g->dh, g->h, g->kh, &ky0, &ky1);
        for (ox = 0; ox < g->ow; ox++) {
            const int64_t offx = ox * g->sw - g->pw;
            int64_t kx0, kx1, bi;
            T best;
            i2c_range(offx, g->dw, g->w, g->kw, &kx0, &kx1);
            if (ky0 >= ky1 || kx0 >= kx1) {
                op[oy * g->ow + ox] = (T)(-INFINITY);
                ap[oy * g->ow + ox] = -1;
                continue;
            }
            {
                const int64_t iy = offy + ky0 * g->dh, ix = offx + kx0 * g->dw;
                best = xp[iy * xs2 + ix * xs3];
                bi = iy * g->w + ix;
            }
            for (ky = ky0; ky < ky1; ky++) {
                const int64_t iy = offy + ky * g->dh;
                const T *xr = xp + iy * xs2;
                for (kx = (ky == ky0 ? kx0 + 1 : kx0); kx < kx1; kx++) {
                    const int64_t ix = offx + kx * g->dw;
                    const T val = xr[ix * xs3];
                    if (val > best || val != val) {
                        best = val;
                        bi = iy * g->w + ix;
                    }
                }
            }
            op[oy * g->ow + ox] = best;
            ap[oy * g->ow + ox] = bi;
        }
    }
}

/* max_pool_plane for windows without padding or dilation (every tap in
 * bounds) and unit column stride in x: the same scan per window (taps in
 * row-major order, the first tap starts, a later tap replaces when greater
 * or NaN), run tap by tap over a run of up to I2C_POOL_RUN windows of a row
 * so that the inner loop is branch-free over the windows. */
#ifndef I2C_POOL_RUN
#define I2C_POOL_RUN 256
#define I2C_POOL_TAPS 256
#endif
static void FN(max_pool_plane_inner)(const T *xp, T *op, int64_t *ap, const i2c_geom *g)
{
    const int64_t xs2 = g->xs[2], sh = g->sh, sw = g->sw, w = g->w;
    int64_t oy, ox0, ox, ky, kx;
    /* the in-window offset ky*w + kx of each tap, where the taps are few
     * (an integer division per window cost 1.x the scan of a 3x3 window) */
    int64_t toff_buf[I2C_POOL_TAPS];
    const int64_t *toff = NULL;
    if (g->kh * g->kw <= I2C_POOL_TAPS) {
        for (ky = 0; ky < g->kh; ky++)
            for (kx = 0; kx < g->kw; kx++)
                toff_buf[ky * g->kw + kx] = ky * w + kx;
        toff = toff_buf;
    }
    for (oy = 0; oy < g->oh; oy++) {
        const T *xrow = xp + oy * sh * xs2;
        for (ox0 = 0; ox0 < g->ow; ox0 += I2C_POOL_RUN) {
            const int64_t cnt = g->ow - ox0 < I2C_POOL_RUN ? g->ow - ox0 : I2C_POOL_RUN;
            const T *base = xrow + ox0 * sw;
            T *I2C_RESTRICT best = op + oy * g->ow + ox0;
            int64_t *I2C_RESTRICT bi = ap + oy * g->ow + ox0;
            int32_t tap[I2C_POOL_RUN];
            for (ox = 0; ox < cnt; ox++) {
                best[ox] = base[ox * sw];
                tap[ox] = 0;
            }
            for (ky = 0; ky < g->kh; ky++) {
                const T *r = base + ky * xs2;
                for (kx = (ky == 0 ? 1 : 0); kx < g->kw; kx++) {
                    const int32_t t = (int32_t)(ky * g->kw + kx);
                    for (ox = 0; ox < cnt; ox++) {
                        const T val = r[ox * sw + kx];
                        const int u = (val > best[ox]) | (val != val);
                        best[ox] = u ? val : best[ox];
                        tap[ox] = u ? t : tap[ox];
                    }
                }
            }
            if (toff != NULL) {
                const int64_t corner = oy * sh * w + ox0 * sw;
                for (ox = 0; ox < cnt; ox++)
                    bi[ox] = corner + ox * sw + toff[tap[ox]];
            } else {
                for (ox = 0; ox < cnt; ox++) {
                    const int64_t ky_ = tap[ox] / g->kw, kx_ = tap[ox] - ky_ * g->kw;
                    bi[ox] = (oy * sh + ky_) * w + (ox0 + ox) * sw + kx_;
                }
            }
        }
    }
}

/* See im2col_ext.h.  x: (n, c, h, w) strides g->xs[0..3]; out, argmax:
 * C-contiguous (n, c, oh, ow). */
void FN(i2c_max_pool_forward)(const T *x, T *out, int64_t *argmax, const i2c_geom *g,
                              int num_threads)
{
    const int64_t planes = g->n * g->c;
    const int64_t per_plane = g->kh * g->kw * g->oh * g->ow;
    const int64_t osz = g->oh * g->ow;
    /* any window without padding or dilation (every tap in bounds) */
    const int inner = g->ph == 0 && g->pw == 0 && g->dh == 1 && g->dw == 1 && g->xs[3] == 1;
    const int nt = i2c_plan_threads(num_threads, planes, per_plane);
    int64_t p;
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (p = 0; p < planes; p++) {
        const int64_t ni = p / g->c, ci = p % g->c;
        if (inner && g->kh * g->kw < (1 << 30))
            FN(max_pool_plane_inner)(x + ni * g->xs[0] + ci * g->xs[1], out + p * osz,
                                     argmax + p * osz, g);
        else
            FN(max_pool_plane)(x + ni * g->xs[0] + ci * g->xs[1], out + p * osz,
                               argmax + p * osz, g);
    }
}

/* See im2col_ext.h.  dout, argmax: C-contiguous (n, c, oh, ow); dx:
 * C-contiguous (n, c, h, w), overwritten.  Non-overlapping windows (the
 * NumPy twin's fast path) store instead of adding onto 0, so that a -0.0
 * gradient survives exactly as it does there. */
void FN(i2c_max_pool_scatter)(const T *dout, const int64_t *argmax, T *dx, const i2c_geom *g,
                              int num_threads)
{
    const int64_t planes = g->n * g->c;
    const int64_t osz = g->oh * g->ow, isz = g->h * g->w;
    const int store = g->sh >= g->kh && g->sw >= g->kw && g->dh == 1 && g->dw == 1;
    const int nt = i2c_plan_threads(num_threads, planes, osz + isz);
    int64_t p;
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (p = 0; p < planes; p++) {
        const T *d = dout + p * osz;
        const int64_t *a = argmax + p * osz;
        T *o = dx + p * isz;
        int64_t i;
        memset(o, 0, (size_t)isz * sizeof(T));
        if (store) {
            for (i = 0; i < osz; i++)
                if (a[i] >= 0)
                    o[a[i]] = d[i];
        } else {
            for (i = 0; i < osz; i++)
                if (a[i] >= 0)
                    o[a[i]] += d[i];
        }
    }
}

/* A tap of a window whose maximum is o "ties" when it equals o, or when both
 * are NaN (onan: o != o).  Quiet comparisons: NaN raises no exception. */
#define I2C_TIES(val, o, onan) (((val) == (o)) | ((onan) & ((val) != (val))))

/* One (n, c) plane of the tie scatter.  xp: (h, w) strides g->xs[2..3];
 * op, dp: (oh, ow) C-contiguous; xo: (h, w) C-contiguous, zeroed by the
 * caller; store: windows do not overlap (store instead of add). */
static void FN(tie_scatter_plane)(const T *xp, const T *op, const T *dp, T *xo,
                                  const i2c_geom *g, int store)
{
    const int64_t xs2 = g->xs[2], xs3 = g->xs[3];
    int64_t oy, ox, ky, kx;
    for (oy = 0; oy < g->oh; oy++) {
        const int64_t offy = oy * g->sh - g->ph;
        int64_t ky0, ky1;
        i2c_range(offy, g->dh, g->h, g->kh, &ky0, &ky1);
        for (ox = 0; ox < g->ow; ox++) {
            const int64_t offx = ox * g->sw - g->pw;
            const T o = op[oy * g->ow + ox];
            const int onan = o != o;
            int64_t kx0, kx1, cnt = 0;
            T share;
            i2c_range(offx, g->dw, g->w, g->kw, &kx0, &kx1);
            for (ky = ky0; ky < ky1; ky++) {
                const T *xr = xp + (offy + ky * g->dh) * xs2;
                for (kx = kx0; kx < kx1; kx++) {
                    const T val = xr[(offx + kx * g->dw) * xs3];
                    cnt += I2C_TIES(val, o, onan);
                }
            }
            share = dp[oy * g->ow + ox] / (T)(cnt > 0 ? cnt : 1);
            for (ky = ky0; ky < ky1; ky++) {
                const int64_t iy = offy + ky * g->dh;
                const T *xr = xp + iy * xs2;
                T *dr = xo + iy * g->w;
                for (kx = kx0; kx < kx1; kx++) {
                    const int64_t ix = offx + kx * g->dw;
                    const T val = xr[ix * xs3];
                    /* m * share, not a select: 0 * share is -0.0 or NaN
                     * exactly as in NumPy's mask * share */
                    const T m = I2C_TIES(val, o, onan) ? (T)1 : (T)0;
                    if (store)
                        dr[ix] = m * share;
                    else
                        dr[ix] += m * share;
                }
            }
        }
    }
}

/* tie_scatter_plane for non-overlapping 2x2 windows without padding or
 * dilation and with unit column stride in x (the cs231n reshape case):
 * the same operations, with the taps unrolled. */
static void FN(tie_scatter_plane_2x2)(const T *xp, const T *op, const T *dp, T *xo,
                                      const i2c_geom *g)
{
    const int64_t xs2 = g->xs[2], sh = g->sh, sw = g->sw, w = g->w;
    int64_t oy, ox;
    for (oy = 0; oy < g->oh; oy++) {
        const T *x0 = xp + oy * sh * xs2, *x1 = x0 + xs2;
        T *d0 = xo + oy * sh * w, *d1 = d0 + w;
        const T *orow = op + oy * g->ow, *drow = dp + oy * g->ow;
        for (ox = 0; ox < g->ow; ox++) {
            const int64_t ix = ox * sw;
            const T o = orow[ox];
            const int onan = o != o;
            const T a = x0[ix], b = x0[ix + 1], c = x1[ix], d = x1[ix + 1];
            const int ta = I2C_TIES(a, o, onan), tb = I2C_TIES(b, o, onan);
            const int tc = I2C_TIES(c, o, onan), td = I2C_TIES(d, o, onan);
            const int cnt = ta + tb + tc + td;
            const T share = drow[ox] / (T)(cnt > 0 ? cnt : 1);
            d0[ix] = (T)ta * share;
            d0[ix + 1] = (T)tb * share;
            d1[ix] = (T)tc * share;
            d1[ix + 1] = (T)td * share;
        }
    }
}

#undef I2C_TIES

/* See im2col_ext.h.  x: (n, c, h, w) strides g->xs[0..3]; out, dout:
 * C-contiguous (n, c, oh, ow); dx: C-contiguous (n, c, h, w), overwritten. */
void FN(i2c_max_pool_tie_scatter)(const T *x, const T *out, const T *dout, T *dx,
                                  const i2c_geom *g, int num_threads)
{
    const int64_t planes = g->n * g->c;
    const int64_t osz = g->oh * g->ow, isz = g->h * g->w;
    const int store = g->sh >= g->kh && g->sw >= g->kw && g->dh == 1 && g->dw == 1;
    const int fast2x2 = store && g->kh == 2 && g->kw == 2 && g->ph == 0 && g->pw == 0 &&
                        g->xs[3] == 1;
    const int nt = i2c_plan_threads(num_threads, planes, g->kh * g->kw * osz + isz);
    int64_t p;
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (p = 0; p < planes; p++) {
        const int64_t ni = p / g->c, ci = p % g->c;
        T *o = dx + p * isz;
        memset(o, 0, (size_t)isz * sizeof(T));
        if (fast2x2)
            FN(tie_scatter_plane_2x2)(x + ni * g->xs[0] + ci * g->xs[1], out + p * osz,
                                      dout + p * osz, o, g);
        else
            FN(tie_scatter_plane)(x + ni * g->xs[0] + ci * g->xs[1], out + p * osz,
                                  dout + p * osz, o, g, store);
    }
}

static void FN(avg_pool_plane)(const T *xp, T *op, const i2c_geom *g)
{
    const int64_t xs2 = g->xs[2], xs3 = g->xs[3];
    const T div = (T)(g->kh * g->kw);
    int64_t oy, ox, ky, kx;
    for (oy = 0; oy < g->oh; oy++) {
        const int64_t offy = oy * g->sh - g->ph;
        int64_t ky0, ky1;
        i2c_range(offy, g->dh, g->h, g->kh, &ky0, &ky1);
        for (ox = 0; ox < g->ow; ox++) {
            const int64_t offx = ox * g->sw - g->pw;
            int64_t kx0, kx1;
            /* Padding taps are skipped: adding +0 never changes a sum that
             * starts at +0 (it cannot become -0), so this equals the
             * padded sum bit for bit. */
            T acc = (T)0;
            i2c_range(offx, g->dw, g->w, g->kw, &kx0, &kx1);
            for (ky = ky0; ky < ky1; ky++) {
                const T *xr = xp + (offy + ky * g->dh) * xs2;
                for (kx = kx0; kx < kx1; kx++)
                    acc += xr[(offx + kx * g->dw) * xs3];
            }
            op[oy * g->ow + ox] = acc / div;
        }
    }
}

/* See im2col_ext.h.  x: (n, c, h, w) strides g->xs[0..3]; out: C-contiguous
 * (n, c, oh, ow). */
void FN(i2c_avg_pool_forward)(const T *x, T *out, const i2c_geom *g, int num_threads)
{
    const int64_t planes = g->n * g->c;
    const int64_t per_plane = g->kh * g->kw * g->oh * g->ow;
    const int64_t osz = g->oh * g->ow;
    const int nt = i2c_plan_threads(num_threads, planes, per_plane);
    int64_t p;
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (p = 0; p < planes; p++) {
        const int64_t ni = p / g->c, ci = p % g->c;
        FN(avg_pool_plane)(x + ni * g->xs[0] + ci * g->xs[1], out + p * osz, g);
    }
}

/* Same row-wise walk as col2im_plane, with every tap reading dout / (kh*kw).
 * dp: (oh, ow) C-contiguous; xp: (h, w) C-contiguous. */
static void FN(avg_scatter_plane)(const T *dp, T *xp, const i2c_geom *g)
{
    const T div = (T)(g->kh * g->kw);
    int64_t iy, ky, kx;
    for (iy = 0; iy < g->h; iy++) {
        T *xrow = xp + iy * g->w;
        memset(xrow, 0, (size_t)g->w * sizeof(T));
        for (ky = 0; ky < g->kh; ky++) {
            const int64_t t = iy + g->ph - ky * g->dh;
            int64_t oy;
            if (t < 0)
                break;
            if (t % g->sh != 0)
                continue;
            oy = t / g->sh;
            if (oy >= g->oh)
                continue;
            for (kx = 0; kx < g->kw; kx++) {
                const int64_t offx = kx * g->dw - g->pw;
                int64_t ox0, ox1;
                i2c_range(offx, g->sw, g->w, g->ow, &ox0, &ox1);
                if (ox0 < ox1)
                    FN(add_div_block)(xrow + ox0 * g->sw + offx, g->sw,
                                      dp + oy * g->ow + ox0, div, ox1 - ox0);
            }
        }
    }
}

/* See im2col_ext.h.  dout: C-contiguous (n, c, oh, ow); dx: C-contiguous
 * (n, c, h, w), overwritten. */
void FN(i2c_avg_pool_scatter)(const T *dout, T *dx, const i2c_geom *g, int num_threads)
{
    const int64_t planes = g->n * g->c;
    const int64_t per_plane = g->kh * g->kw * g->oh * g->ow;
    const int64_t osz = g->oh * g->ow, isz = g->h * g->w;
    const int nt = i2c_plan_threads(num_threads, planes, per_plane);
    int64_t p;
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (p = 0; p < planes; p++)
        FN(avg_scatter_plane)(dout + p * osz, dx + p * isz, g);
}
#endif /* I2C_POOL */
