/*
 * depthwise_template.c -- the dtype-generic body of the depthwise kernels.
 *
 * Not compiled on its own: depthwise.c includes it once per element type
 * after defining T (float or double) and FN(f) (f_f32 or f_f64).  Layouts,
 * formulas and the summation order are those of depthwise.h; the helpers
 * shared by both types (dw_ranges, dw_source, dw_output, dw_threads,
 * dw_vblock) live in depthwise.c, i2c_range in i2c_range.h.
 *
 * Names: S0, S1, S2 are the image extents (w->size), O0, O1, O2 the output
 * extents (w->o), K0, K1, K2 the kernel (w->k), V the vector axis (w->v).
 * A "row" is a line along the last spatial axis: S2 (or O2) elements, each
 * a vector of V contiguous elements.  Channels first (V == 1) works on one
 * (n, c) plane at a time, which stays in the cache while every tap passes
 * over it; channels last (V > 1) on rows of pixels, the inner loops running
 * over the V contiguous channels with their own filter taps.
 */
#ifndef T
#error "define T and FN before including depthwise_template.c"
#endif

/* ------------------------------------------------------------------------
 * Row primitives
 * ------------------------------------------------------------------------ */

/* y[i*ys] += a * x[i] for i < cnt: one tap's scatter into a dx row with
 * the stride ys (y and x in different arrays). */
static void FN(dw_scatter)(T *I2C_DW_RESTRICT y, int64_t ys, const T *I2C_DW_RESTRICT x, T a,
                           int64_t cnt)
{
    int64_t i;
    for (i = 0; i < cnt; i++)
        y[i * ys] += a * x[i];
}

/* y[j] += a[j] * x[j] for j < v: one tap of a pixel of v channels, each
 * with its own weight a[j] (channels last). */
static void FN(dw_vmuladd)(T *I2C_DW_RESTRICT y, const T *I2C_DW_RESTRICT a,
                           const T *I2C_DW_RESTRICT x, int64_t v)
{
    int64_t j;
    for (j = 0; j < v; j++)
        y[j] += a[j] * x[j];
}

/* The DW_LANES lanes l[0 .. DW_LANES) += a[i] * b[i*bs] for i < cnt,
 * element i going to lane i % DW_LANES (the dw partial sums of channels
 * first, see depthwise.h). */
static void FN(dw_dot_lanes)(T *I2C_DW_RESTRICT l, const T *I2C_DW_RESTRICT a,
                             const T *I2C_DW_RESTRICT b, int64_t bs, int64_t cnt)
{
    T s[DW_LANES];
    int64_t i = 0, j;
    for (j = 0; j < DW_LANES; j++)
        s[j] = l[j];
    if (bs == 1) {
        for (; i + DW_LANES <= cnt; i += DW_LANES)
            for (j = 0; j < DW_LANES; j++)
                s[j] += a[i + j] * b[i + j];
    } else {
        for (; i + DW_LANES <= cnt; i += DW_LANES)
            for (j = 0; j < DW_LANES; j++)
                s[j] += a[i + j] * b[(i + j) * bs];
    }
    for (j = 0; i < cnt; i++, j++)
        s[j] += a[i] * b[i * bs];
    for (j = 0; j < DW_LANES; j++)
        l[j] = s[j];
}

/* The lanes' total, in the fixed order of depthwise.h. */
static T FN(dw_lane_sum)(const T *l)
{
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

/* ------------------------------------------------------------------------
 * Channels first (V == 1): one (n, c) plane at a time
 * ------------------------------------------------------------------------ */

/* One output row as a correlation over a set of "row taps": row tap r
 * reads the source row src[r] with the K2 weights wts[r] (forward: an input
 * row and a kernel row; dx with stride 1: a dout row and a kernel row).
 * For i < ny, with j = i*step + off0 + k2*dd:
 *   y[i] = (init ? 0 : y[i]) + sum over r < nr, then k2 < K2, in that order,
 *          of wts[r][k2] * src[r][j] for the j inside [0, len).
 * The interior outputs (every k2 inside) go DW_CHUNK at a time with the sums
 * in registers; the others one by one, testing each tap.  Both add in the
 * same order, so the split does not change any result. */

/* The chunk y[0 .. DW_CHUNK) of dw_row_corr; pos = the source index of y[0]
 * for k2 = 0 (every tap inside for the whole chunk).  Unit steps run on
 * four SSE2 registers where available (x86-64): the same products and
 * additions, in the same order, as the plain loops. */
static void FN(dw_corr_chunk)(T *I2C_DW_RESTRICT y, const T *const *src, const T *const *wts,
                              int64_t nr, int64_t K2, int64_t pos, int64_t step, int64_t dd,
                              int init)
{
    T acc[DW_CHUNK];
    int64_t r, k2, j;
#if DW_HAVE_SSE2
    if (step == 1) {
        DW_VEC a0, a1, a2, a3;
        if (init) {
            a0 = a1 = a2 = a3 = DW_VZERO();
        } else {
            a0 = DW_VLOAD(y);
            a1 = DW_VLOAD(y + DW_VN);
            a2 = DW_VLOAD(y + 2 * DW_VN);
            a3 = DW_VLOAD(y + 3 * DW_VN);
        }
        for (r = 0; r < nr; r++)
            for (k2 = 0; k2 < K2; k2++) {
                const DW_VEC wv = DW_VSET1(wts[r][k2]);
                const T *xq = src[r] + (pos + k2 * dd);
                a0 = DW_VADD(a0, DW_VMUL(wv, DW_VLOAD(xq)));
                a1 = DW_VADD(a1, DW_VMUL(wv, DW_VLOAD(xq + DW_VN)));
                a2 = DW_VADD(a2, DW_VMUL(wv, DW_VLOAD(xq + 2 * DW_VN)));
                a3 = DW_VADD(a3, DW_VMUL(wv, DW_VLOAD(xq + 3 * DW_VN)));
            }
        DW_VSTORE(y, a0);
        DW_VSTORE(y + DW_VN, a1);
        DW_VSTORE(y + 2 * DW_VN, a2);
        DW_VSTORE(y + 3 * DW_VN, a3);
        return;
    }
#endif
    for (j = 0; j < DW_CHUNK; j++)
        acc[j] = init ? (T)0 : y[j];
    for (r = 0; r < nr; r++)
        for (k2 = 0; k2 < K2; k2++) {
            const T wv = wts[r][k2];
            const T *I2C_DW_RESTRICT xq = src[r] + (pos + k2 * dd);
            for (j = 0; j < DW_CHUNK; j++)
                acc[j] += wv * xq[j * step];
        }
    for (j = 0; j < DW_CHUNK; j++)
        y[j] = acc[j];
}

/* One output y[i] of dw_row_corr (pos = i*step + off0), any taps outside. */
static T FN(dw_corr_one)(T start, const T *const *src, const T *const *wts, int64_t nr,
                         int64_t K2, int64_t pos, int64_t dd, int64_t len)
{
    T acc = start;
    int64_t r, k2;
    for (r = 0; r < nr; r++)
        for (k2 = 0; k2 < K2; k2++) {
            const int64_t j = pos + k2 * dd;
            if (j >= 0 && j < len)
                acc += wts[r][k2] * src[r][j];
        }
    return acc;
}

static void FN(dw_row_corr)(T *y, int64_t ny, const T *const *src, const T *const *wts,
                            int64_t nr, int64_t K2, int64_t step, int64_t off0, int64_t dd,
                            int64_t len, int init)
{
    int64_t a, b, lo, hi, c, i;
    /* [a, b): every k2 inside (the extreme offsets are those of k2 = 0, K2 - 1) */
    i2c_range(off0, step, len, ny, &a, &b);
    i2c_range(off0 + (K2 - 1) * dd, step, len, ny, &lo, &hi);
    if (lo > a)
        a = lo;
    if (hi < b)
        b = hi;
    if (b < a)
        b = a;
    c = a;                                   /* [a, c) is done in chunks */
    if (b - a >= DW_CHUNK) {
        for (; c + DW_CHUNK <= b; c += DW_CHUNK)
            FN(dw_corr_chunk)(y + c, src, wts, nr, K2, c * step + off0, step, dd, init);
        if (init && c < b) {
            /* the last chunk again, overlapping: it stores the same values */
            FN(dw_corr_chunk)(y + (b - DW_CHUNK), src, wts, nr, K2, (b - DW_CHUNK) * step + off0,
                              step, dd, init);
            c = b;
        }
    }
    for (i = 0; i < a; i++)
        y[i] = FN(dw_corr_one)(init ? (T)0 : y[i], src, wts, nr, K2, i * step + off0, dd, len);
    for (i = c; i < ny; i++)
        y[i] = FN(dw_corr_one)(init ? (T)0 : y[i], src, wts, nr, K2, i * step + off0, dd, len);
}

/* Output plane op (O0, O1, O2) from input plane xp (S0, S1, S2) and the
 * channel's K taps wp: each output row is the dw_row_corr of the valid
 * (k0, k1) input rows (row-major, DW_ROWTAPS at a time), then plus the bias
 * *b (none when b is NULL). */
static void FN(dw_plane_forward)(const T *xp, const T *wp, const T *b, T *op, const i2c_win *w)
{
    const int64_t S1 = w->size[1], S2 = w->size[2];
    const int64_t K0 = w->k[0], K1 = w->k[1], K2 = w->k[2];
    const int64_t O0 = w->o[0], O1 = w->o[1], O2 = w->o[2];
    const int64_t s2 = w->s[2], d2 = w->d[2], p2 = w->p[2];
    const T *src[DW_ROWTAPS], *wts[DW_ROWTAPS];
    int64_t o0, o1, k0, k1, i0, i1, ox, nr;
    int init;
    for (o0 = 0; o0 < O0; o0++) {
        for (o1 = 0; o1 < O1; o1++) {
            T *orow = op + (o0 * O1 + o1) * O2;
            nr = 0;
            init = 1;
            for (k0 = 0; k0 < K0; k0++) {
                if ((i0 = dw_source(w, 0, o0, k0)) < 0)
                    continue;
                for (k1 = 0; k1 < K1; k1++) {
                    if ((i1 = dw_source(w, 1, o1, k1)) < 0)
                        continue;
                    src[nr] = xp + (i0 * S1 + i1) * S2;
                    wts[nr] = wp + (k0 * K1 + k1) * K2;
                    if (++nr == DW_ROWTAPS) {
                        FN(dw_row_corr)(orow, O2, src, wts, nr, K2, s2, -p2, d2, S2, init);
                        init = 0;
                        nr = 0;
                    }
                }
            }
            if (nr > 0 || init)
                FN(dw_row_corr)(orow, O2, src, wts, nr, K2, s2, -p2, d2, S2, init);
            if (b != NULL) {
                const T bv = *b;
                for (ox = 0; ox < O2; ox++)
                    orow[ox] += bv;
            }
        }
    }
}

/* dwc[t] += the partial sum of plane (n, c) for every tap t: dout plane dp
 * (O0, O1, O2) times the input plane xp (S0, S1, S2) that tap t reads,
 * summed in DW_LANES lanes per tap (dw_dot_lanes, output rows in order),
 * the lanes then added by dw_lane_sum; DW_TAPS taps per pass over the
 * planes. */
static void FN(dw_plane_dw)(const T *xp, const T *dp, T *dwc, const i2c_win *w,
                            const dw_ranges *r)
{
    const int64_t S1 = w->size[1], S2 = w->size[2];
    const int64_t K0 = w->k[0], K1 = w->k[1], K2 = w->k[2], K = K0 * K1 * K2;
    const int64_t O0 = w->o[0], O1 = w->o[1], O2 = w->o[2];
    const int64_t s2 = w->s[2], d2 = w->d[2], p2 = w->p[2];
    T acc[DW_TAPS][DW_LANES];
    int64_t tb, nb, t, o0, o1, k0, k1, k2, i0, i1, lo, hi;
    for (tb = 0; tb < K; tb += DW_TAPS) {
        nb = K - tb < DW_TAPS ? K - tb : DW_TAPS;
        memset(acc, 0, sizeof(acc));
        for (o0 = 0; o0 < O0; o0++) {
            for (o1 = 0; o1 < O1; o1++) {
                const T *drow = dp + (o0 * O1 + o1) * O2;
                for (k0 = 0; k0 < K0; k0++) {
                    if ((i0 = dw_source(w, 0, o0, k0)) < 0)
                        continue;
                    for (k1 = 0; k1 < K1; k1++) {
                        const int64_t t0 = (k0 * K1 + k1) * K2;   /* tap of k2 = 0 */
                        const T *xr;
                        int64_t ka = tb - t0, kb = tb + nb - t0;   /* k2 in this block */
                        if (ka < 0)
                            ka = 0;
                        if (kb > K2)
                            kb = K2;
                        if (ka >= kb || (i1 = dw_source(w, 1, o1, k1)) < 0)
                            continue;
                        xr = xp + (i0 * S1 + i1) * S2;
                        for (k2 = ka; k2 < kb; k2++) {
                            dw_k2_range(w, r, k2, &lo, &hi);
                            if (hi > lo)
                                FN(dw_dot_lanes)(acc[t0 + k2 - tb], drow + lo,
                                                 xr + (lo * s2 + k2 * d2 - p2), s2, hi - lo);
                        }
                    }
                }
            }
        }
        for (t = 0; t < nb; t++)
            dwc[tb + t] += FN(dw_lane_sum)(acc[t]);
    }
}

/* Input gradient plane dxp (S0, S1, S2) from the dout plane dp and the
 * channel's taps wp.  Every dx row receives, in row-major tap order, w *
 * dout from each (tap, output) pair that reads it: with stride s2 == 1 as
 * the dw_row_corr of the dout rows (k0, k1) that read it (dx[ix] gathers
 * dout[ix + p2 - k2*d2]), otherwise zeroed and then scattered into, tap by
 * tap, with the stride s2. */
static void FN(dw_plane_dx)(const T *dp, const T *wp, T *dxp, const i2c_win *w,
                            const dw_ranges *r)
{
    const int64_t S0 = w->size[0], S1 = w->size[1], S2 = w->size[2];
    const int64_t K0 = w->k[0], K1 = w->k[1], K2 = w->k[2];
    const int64_t O1 = w->o[1], O2 = w->o[2];
    const int64_t s2 = w->s[2], d2 = w->d[2], p2 = w->p[2];
    const T *src[DW_ROWTAPS], *wts[DW_ROWTAPS];
    int64_t i0, i1, k0, k1, k2, o0, o1, lo, hi, nr;
    int init;
    for (i0 = 0; i0 < S0; i0++) {
        for (i1 = 0; i1 < S1; i1++) {
            T *dxrow = dxp + (i0 * S1 + i1) * S2;
            nr = 0;
            init = 1;
            if (s2 != 1)
                memset(dxrow, 0, (size_t)S2 * sizeof(T));
            for (k0 = 0; k0 < K0; k0++) {
                if ((o0 = dw_output(w, 0, i0, k0)) < 0)
                    continue;
                for (k1 = 0; k1 < K1; k1++) {
                    const T *drow, *wr;
                    if ((o1 = dw_output(w, 1, i1, k1)) < 0)
                        continue;
                    drow = dp + (o0 * O1 + o1) * O2;
                    wr = wp + (k0 * K1 + k1) * K2;
                    if (s2 == 1) {
                        src[nr] = drow;
                        wts[nr] = wr;
                        if (++nr == DW_ROWTAPS) {
                            FN(dw_row_corr)(dxrow, S2, src, wts, nr, K2, 1, p2, -d2, O2, init);
                            init = 0;
                            nr = 0;
                        }
                        continue;
                    }
                    for (k2 = 0; k2 < K2; k2++) {
                        dw_k2_range(w, r, k2, &lo, &hi);
                        if (hi > lo)
                            FN(dw_scatter)(dxrow + (lo * s2 + k2 * d2 - p2), s2, drow + lo,
                                           wr[k2], hi - lo);
                    }
                }
            }
            if (s2 == 1 && (nr > 0 || init))
                FN(dw_row_corr)(dxrow, S2, src, wts, nr, K2, 1, p2, -d2, O2, init);
        }
    }
}

/* ------------------------------------------------------------------------
 * Channels last (V > 1): rows of pixels of V channels
 * ------------------------------------------------------------------------ */

/* Output row orow (O2 pixels of V) at (o0, o1) of image xp (S0, S1, S2, V)
 * with the taps wp (K, V): zeroed, then every valid tap, in row-major
 * order, adds w[t, :] * (source pixel) to every output pixel it reaches,
 * then the bias b[0..V) is added to every pixel (none when b is NULL). */
static void FN(dw_row_forward_vec)(const T *xp, const T *wp, const T *b, T *orow, int64_t o0,
                                   int64_t o1, const i2c_win *w, const dw_ranges *r)
{
    const int64_t S1 = w->size[1], S2 = w->size[2], V = w->v;
    const int64_t K0 = w->k[0], K1 = w->k[1], K2 = w->k[2];
    const int64_t O2 = w->o[2];
    const int64_t s2 = w->s[2], d2 = w->d[2], p2 = w->p[2];
    int64_t k0, k1, k2, i0, i1, ox, lo, hi;
    memset(orow, 0, (size_t)(O2 * V) * sizeof(T));
    for (k0 = 0; k0 < K0; k0++) {
        if ((i0 = dw_source(w, 0, o0, k0)) < 0)
            continue;
        for (k1 = 0; k1 < K1; k1++) {
            const T *xr, *wr;
            if ((i1 = dw_source(w, 1, o1, k1)) < 0)
                continue;
            xr = xp + (i0 * S1 + i1) * S2 * V;
            wr = wp + (k0 * K1 + k1) * K2 * V;
            for (k2 = 0; k2 < K2; k2++) {
                const int64_t off = k2 * d2 - p2;
                dw_k2_range(w, r, k2, &lo, &hi);
                for (ox = lo; ox < hi; ox++)
                    FN(dw_vmuladd)(orow + ox * V, wr + k2 * V, xr + (ox * s2 + off) * V, V);
            }
        }
    }
    if (b != NULL) {
        int64_t j;
        for (ox = 0; ox < O2; ox++)
            for (j = 0; j < V; j++)
                orow[ox * V + j] += b[j];
    }
}

/* Input gradient row dxrow (S2 pixels of V) at (i0, i1) of image dp's
 * gradient, from the dout image dp (O0, O1, O2, V) and the taps wp (K, V):
 * zeroed, then every (tap, output row) pair that reads it adds w[t, :] *
 * (dout pixel), taps in row-major order. */
static void FN(dw_row_dx_vec)(const T *dp, const T *wp, T *dxrow, int64_t i0, int64_t i1,
                              const i2c_win *w, const dw_ranges *r)
{
    const int64_t S2 = w->size[2], V = w->v;
    const int64_t K0 = w->k[0], K1 = w->k[1], K2 = w->k[2];
    const int64_t O1 = w->o[1], O2 = w->o[2];
    const int64_t s2 = w->s[2], d2 = w->d[2], p2 = w->p[2];
    int64_t k0, k1, k2, o0, o1, ox, lo, hi;
    memset(dxrow, 0, (size_t)(S2 * V) * sizeof(T));
    for (k0 = 0; k0 < K0; k0++) {
        if ((o0 = dw_output(w, 0, i0, k0)) < 0)
            continue;
        for (k1 = 0; k1 < K1; k1++) {
            const T *drow, *wr;
            if ((o1 = dw_output(w, 1, i1, k1)) < 0)
                continue;
            drow = dp + (o0 * O1 + o1) * O2 * V;
            wr = wp + (k0 * K1 + k1) * K2 * V;
            for (k2 = 0; k2 < K2; k2++) {
                const int64_t off = k2 * d2 - p2;
                dw_k2_range(w, r, k2, &lo, &hi);
                for (ox = lo; ox < hi; ox++)
                    FN(dw_vmuladd)(dxrow + (ox * s2 + off) * V, wr + k2 * V, drow + ox * V, V);
            }
        }
    }
}

/* dw for channels [v0, v0 + vn) of channel c (the block of one thread):
 * dwc = dw + c*K*V is zeroed there, then for each block of DW_TAPS_V taps
 * and each image n in order, the image's partial sums (one running sum per
 * tap and channel, outputs in row-major order) are added to it. */
static void FN(dw_block_dw_vec)(const T *x, const T *dout, T *dwc, int64_t c, int64_t v0,
                                int64_t vn, const i2c_win *w, const dw_ranges *r)
{
    const int64_t S1 = w->size[1], S2 = w->size[2], V = w->v;
    const int64_t K0 = w->k[0], K1 = w->k[1], K2 = w->k[2], K = K0 * K1 * K2;
    const int64_t O0 = w->o[0], O1 = w->o[1], O2 = w->o[2];
    const int64_t s2 = w->s[2], d2 = w->d[2], p2 = w->p[2];
    const int64_t P = w->size[0] * S1 * S2 * V, Q = O0 * O1 * O2 * V;
    T acc[DW_TAPS_V][DW_VB];
    int64_t tb, nb, t, n, o0, o1, k0, k1, k2, i0, i1, ox, lo, hi, j;
    for (t = 0; t < K; t++)
        memset(dwc + t * V + v0, 0, (size_t)vn * sizeof(T));
    for (tb = 0; tb < K; tb += DW_TAPS_V) {
        nb = K - tb < DW_TAPS_V ? K - tb : DW_TAPS_V;
        for (n = 0; n < w->n; n++) {
            const T *xp = x + (n * w->c + c) * P + v0;   /* channel v0 of image (n, c) */
            const T *dp = dout + (n * w->c + c) * Q + v0;
            memset(acc, 0, sizeof(acc));
            for (o0 = 0; o0 < O0; o0++) {
                for (o1 = 0; o1 < O1; o1++) {
                    const T *drow = dp + (o0 * O1 + o1) * O2 * V;
                    for (k0 = 0; k0 < K0; k0++) {
                        if ((i0 = dw_source(w, 0, o0, k0)) < 0)
                            continue;
                        for (k1 = 0; k1 < K1; k1++) {
                            const int64_t t0 = (k0 * K1 + k1) * K2;
                            const T *xr;
                            int64_t ka = tb - t0, kb = tb + nb - t0;
                            if (ka < 0)
                                ka = 0;
                            if (kb > K2)
                                kb = K2;
                            if (ka >= kb || (i1 = dw_source(w, 1, o1, k1)) < 0)
                                continue;
                            xr = xp + (i0 * S1 + i1) * S2 * V;
                            for (k2 = ka; k2 < kb; k2++) {
                                const int64_t off = k2 * d2 - p2;
                                T *a = acc[t0 + k2 - tb];
                                dw_k2_range(w, r, k2, &lo, &hi);
                                for (ox = lo; ox < hi; ox++)
                                    FN(dw_vmuladd)(a, drow + ox * V, xr + (ox * s2 + off) * V, vn);
                            }
                        }
                    }
                }
            }
            for (t = 0; t < nb; t++)
                for (j = 0; j < vn; j++)
                    dwc[(tb + t) * V + v0 + j] += acc[t][j];
        }
    }
}

/* ------------------------------------------------------------------------
 * Entry points (depthwise.h)
 * ------------------------------------------------------------------------ */

void FN(i2c_depthwise_forward)(const T *x, const T *wt, const T *bias, T *out, const i2c_win *w,
                               int num_threads)
{
    const int64_t V = w->v, K = w->k[0] * w->k[1] * w->k[2];
    const int64_t P = w->size[0] * w->size[1] * w->size[2] * V;
    const int64_t O01 = w->o[0] * w->o[1], Q = O01 * w->o[2] * V;
    dw_ranges r;
    int64_t u;
    int nt;
    dw_fill_ranges(w, &r);
    if (V == 1) {
        const int64_t units = w->n * w->c;   /* planes (n, c) */
        nt = dw_threads(num_threads, units, Q * K);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (u = 0; u < units; u++)
            FN(dw_plane_forward)(x + u * P, wt + (u % w->c) * K, bias ? bias + u % w->c : NULL,
                                 out + u * Q, w);
    } else {
        const int64_t units = w->n * w->c * O01;   /* output rows (n, c, o0, o1) */
        nt = dw_threads(num_threads, units, w->o[2] * V * K);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (u = 0; u < units; u++) {
            const int64_t nc = u / O01, o01 = u % O01;
            const int64_t c = nc % w->c;
            FN(dw_row_forward_vec)(x + nc * P, wt + c * K * V, bias ? bias + c * V : NULL,
                                   out + u * w->o[2] * V, o01 / w->o[1], o01 % w->o[1], w, &r);
        }
    }
    (void)nt;   /* only read by OpenMP */
}

void FN(i2c_depthwise_backward)(const T *x, const T *wt, const T *dout, T *dx, T *dw,
                                const i2c_win *w, int num_threads)
{
    const int64_t V = w->v, K = w->k[0] * w->k[1] * w->k[2];
    const int64_t S01 = w->size[0] * w->size[1], P = S01 * w->size[2] * V;
    const int64_t Q = w->o[0] * w->o[1] * w->o[2] * V;
    dw_ranges r;
    int64_t u;
    int nt;
    dw_fill_ranges(w, &r);
    if (V == 1) {
        /* One thread per channel c: dw[c] and the planes dx[:, c] are its
         * own; images in order, dw first (partial sums of the plane), then
         * dx, while the plane is in the cache. */
        const int64_t C = w->c;
        nt = dw_threads(num_threads, C, w->n * Q * K * 2);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (u = 0; u < C; u++) {
            int64_t n;
            memset(dw + u * K, 0, (size_t)K * sizeof(T));
            for (n = 0; n < w->n; n++) {
                const int64_t pl = n * C + u;
                FN(dw_plane_dw)(x + pl * P, dout + pl * Q, dw + u * K, w, &r);
                FN(dw_plane_dx)(dout + pl * Q, wt + u * K, dx + pl * P, w, &r);
            }
        }
        (void)nt;   /* only read by OpenMP */
        return;
    }
    {
        /* dx by input rows (n, c, i0, i1) */
        const int64_t units = w->n * w->c * S01;
        nt = dw_threads(num_threads, units, w->size[2] * V * K);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (u = 0; u < units; u++) {
            const int64_t nc = u / S01, i01 = u % S01;
            FN(dw_row_dx_vec)(dout + nc * Q, wt + (nc % w->c) * K * V, dx + u * w->size[2] * V,
                              i01 / w->size[1], i01 % w->size[1], w, &r);
        }
    }
    {
        /* dw by blocks of channels (c, v0 .. v0 + vb) */
        const int64_t vb = dw_vblock(w->c, V, dw_max_threads(num_threads));
        const int64_t nvb = (V + vb - 1) / vb, units = w->c * nvb;
        nt = dw_threads(num_threads, units, w->n * Q / V * vb * K);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
        for (u = 0; u < units; u++) {
            const int64_t c = u / nvb, v0 = (u % nvb) * vb;
            FN(dw_block_dw_vec)(x, dout, dw + c * K * V, c, v0, V - v0 < vb ? V - v0 : vb, w, &r);
        }
    }
    (void)nt;
}
