/*
 * im2col_ext_template.c -- the dtype-generic body of the kernels.
 *
 * Not compiled on its own: im2col_ext.c includes it once per element type
 * after defining
 *   T       the element type (float or double)
 *   FN(f)   the name of function f for that type (f_f32 or f_f64, from
 *           the suffix macro I2C_SUFFIX)
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
                dst[i * dstep] = (T)0;
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
                d[j * dvs] = (T)0;
        }
    }
}

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

/* dst(i, j) += src(i, j) for i < cnt, j < v (no overlap; within one block
 * every dst element is distinct, so the order inside a block is free). */
static void FN(add_block)(T *I2C_RESTRICT dst, int64_t dstep, int64_t dvs,
                          const T *I2C_RESTRICT src, int64_t sstep, int64_t svs,
                          int64_t cnt, int64_t v)
{
    int64_t i, j;
    if (v == 1) {
        if (dstep == 1 && sstep == 1) {
            for (i = 0; i < cnt; i++)
                dst[i] += src[i];
        } else if (sstep == 1) {
            for (i = 0; i < cnt; i++)
                dst[i * dstep] += src[i];
        } else {
            for (i = 0; i < cnt; i++)
                dst[i * dstep] += src[i * sstep];
        }
    } else if (dvs == 1 && svs == 1) {
        for (i = 0; i < cnt; i++) {
            T *I2C_RESTRICT d = dst + i * dstep;
            const T *I2C_RESTRICT s = src + i * sstep;
            for (j = 0; j < v; j++)
                d[j] += s[j];
        }
    } else if (svs == 1) {
        /* cs231n layout: contiguous vectors in cols, one image per element
         * in x; the caller keeps the touched image rows hot in cache. */
        for (i = 0; i < cnt; i++) {
            T *d = dst + i * dstep;
            const T *I2C_RESTRICT s = src + i * sstep;
            for (j = 0; j < v; j++)
                d[j * dvs] += s[j];
        }
    } else {
        for (i = 0; i < cnt; i++) {
            T *d = dst + i * dstep;
            const T *s = src + i * sstep;
            for (j = 0; j < v; j++)
                d[j * dvs] += s[j * svs];
        }
    }
}

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

/* ------------------------------------------------------------------------
 * im2col gather
 * ------------------------------------------------------------------------ */

/* (I2C_KX_CACHE and I2C_KX_RANGE are defined in im2col_ext.c.) */

/* One row of cols: cols[plane, ky, kx, oy, :, :] from image row iy
 * (iy may be out of range: then the row is all padding).
 *   xp   : image plane (h, w, v), strides g->xs[2..4]
 *   row  : cols row (ow, v), strides g->cs[5..6]
 *   ox0, ox1 : valid ox range of this kx, offx = kx*dw - pw             */
static void FN(gather_row)(const T *xp, T *row, const i2c_geom *g, int64_t iy,
                           int64_t ox0, int64_t ox1, int64_t offx)
{
    const int64_t cs5 = g->cs[5], cs6 = g->cs[6];
    if (iy < 0 || iy >= g->h || ox0 >= ox1) {
        FN(zero_block)(row, cs5, cs6, g->ow, g->v);
        return;
    }
    FN(zero_block)(row, cs5, cs6, ox0, g->v);
    FN(copy_block)(row + ox0 * cs5, cs5, cs6,
                   xp + iy * g->xs[2] + (ox0 * g->sw + offx) * g->xs[3],
                   g->sw * g->xs[3], g->xs[4], ox1 - ox0, g->v);
    FN(zero_block)(row + ox1 * cs5, cs5, cs6, g->ow - ox1, g->v);
}

/* Gather one (n, c) plane.  xp: (h, w, v) image plane; cp: (kh, kw, oh, ow, v)
 * cols plane.  row_major_taps != 0 walks cols in memory order (tap, oy);
 * otherwise oy is the outer loop so that the kh image rows of a window row
 * (for all v) are read while hot -- used when v is strided in x (cs231n). */
static void FN(gather_plane)(const T *xp, T *cp, const i2c_geom *g, int tap_major)
{
    int64_t kx_lo[I2C_KX_CACHE], kx_hi[I2C_KX_CACHE];
    const int64_t ncache = g->kw < I2C_KX_CACHE ? g->kw : I2C_KX_CACHE;
    int64_t ky, kx, oy, ox0, ox1;
    for (kx = 0; kx < ncache; kx++)
        i2c_range(kx * g->dw - g->pw, g->sw, g->w, g->ow, &kx_lo[kx], &kx_hi[kx]);
    if (tap_major) {
        for (ky = 0; ky < g->kh; ky++) {
            const int64_t offy = ky * g->dh - g->ph;
            for (kx = 0; kx < g->kw; kx++) {
                const int64_t offx = kx * g->dw - g->pw;
                T *tap = cp + ky * g->cs[2] + kx * g->cs[3];
                I2C_KX_RANGE(kx, offx, ox0, ox1);
                for (oy = 0; oy < g->oh; oy++)
                    FN(gather_row)(xp, tap + oy * g->cs[4], g, oy * g->sh + offy,
                                   ox0, ox1, offx);
            }
        }
    } else {
        for (oy = 0; oy < g->oh; oy++) {
            for (ky = 0; ky < g->kh; ky++) {
                const int64_t iy = oy * g->sh + ky * g->dh - g->ph;
                for (kx = 0; kx < g->kw; kx++) {
                    const int64_t offx = kx * g->dw - g->pw;
                    I2C_KX_RANGE(kx, offx, ox0, ox1);
                    FN(gather_row)(xp, cp + ky * g->cs[2] + kx * g->cs[3] + oy * g->cs[4],
                                   g, iy, ox0, ox1, offx);
                }
            }
        }
    }
}

/* See im2col_ext.h.  x: (n, c, h, w, v) strides g->xs; cols: (n, c, kh, kw,
 * oh, ow, v) strides g->cs; num_threads <= 0: OpenMP default. */
void FN(i2c_im2col_gather)(const T *x, T *cols, const i2c_geom *g, int num_threads)
{
    const int64_t planes = g->n * g->c;
    const int64_t per_plane = g->kh * g->kw * g->oh * g->ow * g->v;
    /* strided v in x but contiguous in cols: walk window rows outermost */
    const int tap_major = !(g->v > 1 && g->xs[4] != 1 && g->cs[6] == 1);
    const int nt = i2c_plan_threads(num_threads, planes, per_plane);
    int64_t p;
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (p = 0; p < planes; p++) {
        const int64_t ni = p / g->c, ci = p % g->c;
        FN(gather_plane)(x + ni * g->xs[0] + ci * g->xs[1],
                         cols + ni * g->cs[0] + ci * g->cs[1], g, tap_major);
    }
}

/* ------------------------------------------------------------------------
 * col2im accumulate
 *
 * Image rows are produced one at a time: row iy is zeroed, then every
 * (ky, kx) tap that reads row iy adds its contributions, taps in row-major
 * order.  For each pixel that is exactly "0, then + tap (0,0), + tap (0,1),
 * ..." -- the order the NumPy twin uses -- while each image row is written
 * once and stays in cache (all v images of it in the cs231n layout).
 * ------------------------------------------------------------------------ */

static void FN(col2im_plane)(const T *cp, T *xp, const i2c_geom *g)
{
    int64_t kx_lo[I2C_KX_CACHE], kx_hi[I2C_KX_CACHE];
    const int64_t ncache = g->kw < I2C_KX_CACHE ? g->kw : I2C_KX_CACHE;
    const int64_t xs2 = g->xs[2], xs3 = g->xs[3], xs4 = g->xs[4];
    const int64_t cs5 = g->cs[5], cs6 = g->cs[6];
    int64_t iy, ky, kx;

    for (kx = 0; kx < ncache; kx++)
        i2c_range(kx * g->dw - g->pw, g->sw, g->w, g->ow, &kx_lo[kx], &kx_hi[kx]);

    for (iy = 0; iy < g->h; iy++) {
        T *xrow = xp + iy * xs2;
        FN(zero_block)(xrow, xs3, xs4, g->w, g->v);
        for (ky = 0; ky < g->kh; ky++) {
            const int64_t t = iy + g->ph - ky * g->dh;   /* = oy * sh */
            int64_t oy;
            const T *crow;
            if (t < 0)
                break;                 /* t only decreases with ky */
            if (t % g->sh != 0)
                continue;
            oy = t / g->sh;
            if (oy >= g->oh)
                continue;
            crow = cp + ky * g->cs[2] + oy * g->cs[4];
            for (kx = 0; kx < g->kw; kx++) {
                const int64_t offx = kx * g->dw - g->pw;
                int64_t ox0, ox1;
                I2C_KX_RANGE(kx, offx, ox0, ox1);
                if (ox0 >= ox1)
                    continue;
                FN(add_block)(xrow + (ox0 * g->sw + offx) * xs3, g->sw * xs3, xs4,
                              crow + kx * g->cs[3] + ox0 * cs5, cs5, cs6,
                              ox1 - ox0, g->v);
            }
        }
    }
}

/* See im2col_ext.h.  cols: (n, c, kh, kw, oh, ow, v) strides g->cs, read
 * only; x: (n, c, h, w, v) strides g->xs, overwritten. */
void FN(i2c_col2im_accumulate)(const T *cols, T *x, const i2c_geom *g, int num_threads)
{
    const int64_t planes = g->n * g->c;
    const int64_t per_plane = g->kh * g->kw * g->oh * g->ow * g->v;
    const int nt = i2c_plan_threads(num_threads, planes, per_plane);
    int64_t p;
    (void)nt;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (p = 0; p < planes; p++) {
        const int64_t ni = p / g->c, ci = p % g->c;
        FN(col2im_plane)(cols + ni * g->cs[0] + ci * g->cs[1],
                         x + ni * g->xs[0] + ci * g->xs[1], g);
    }
}

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

/* See im2col_ext.h.  x: (n, c, h, w) strides g->xs[0..3]; out, argmax:
 * C-contiguous (n, c, oh, ow). */
void FN(i2c_max_pool_forward)(const T *x, T *out, int64_t *argmax, const i2c_geom *g,
                              int num_threads)
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
