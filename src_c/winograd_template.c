/*
 * winograd_template.c -- the dtype-generic body of the Winograd transforms.
 *
 * Not compiled on its own: winograd.c includes it once per element type
 * after defining T (float or double) and FN(f) (f_f32 or f_f64).  Layouts
 * and meanings are those of winograd.h.
 *
 * Each kernel works on a row of up to WINO_CHUNK tiles at a time, in loops
 * over the tiles that the compiler can vectorize; the 16 rows of a tile
 * array are read or written as 16 streams (g->ks apart, which the caller
 * keeps off multiples of 4 KiB so that they do not share one cache set).
 */
#ifndef T
#error "define T and FN before including winograd_template.c"
#endif

/* Row i (0..3) of the padded input of tile row ty, columns 2*tx0 - pw ..
 * 2*(tx0 + cnt) - pw + 1, into r (zeros outside the plane). */
/* B^T applied to rows r0 .. r0+3 of the zero-padded plane, columns q0 ..
 * q0 + len - 1, into r: r[0] = d0 - d2, r[1] = d1 + d2, r[2] = d2 - d1,
 * r[3] = d1 - d3.  The rows are read in place (a row outside the plane
 * reads a row of zeros), so no padded copy is made: copying each row
 * (memcpy calls of 30 elements) cost 7% of a convolution. */
static void FN(wino_bt_rows)(const T *plane, int64_t h, int64_t w, int64_t r0, int64_t q0,
                             int64_t len, T r[4][2 * WINO_CHUNK + 2])
{
    static const T zeros[2 * WINO_CHUNK + 2];
    const T *src[4];
    int64_t i, q, ja, jb;
    i2c_range(q0, 1, w, len, &ja, &jb);   /* columns inside the plane */
    for (i = 0; i < 4; i++) {
        const int64_t row = r0 + i;
        src[i] = row >= 0 && row < h ? plane + row * w + q0 + ja : zeros;
        memset(r[i], 0, (size_t)ja * sizeof(T));
        memset(r[i] + jb, 0, (size_t)(len - jb) * sizeof(T));
    }
    {
        const T *I2C_WINO_RESTRICT d0 = src[0], *I2C_WINO_RESTRICT d1 = src[1];
        const T *I2C_WINO_RESTRICT d2 = src[2], *I2C_WINO_RESTRICT d3 = src[3];
        T *I2C_WINO_RESTRICT o0 = r[0] + ja, *I2C_WINO_RESTRICT o1 = r[1] + ja;
        T *I2C_WINO_RESTRICT o2 = r[2] + ja, *I2C_WINO_RESTRICT o3 = r[3] + ja;
        for (q = 0; q < jb - ja; q++) {
            o0[q] = d0[q] - d2[q];
            o1[q] = d1[q] + d2[q];
            o2[q] = d2[q] - d1[q];
            o3[q] = d1[q] - d3[q];
        }
    }
}

void FN(i2c_wino_input)(const T *x, T *tiles, int64_t c, const i2c_wino_geom *g,
                        int num_threads)
{
    const int64_t per_image = g->th * g->tw, p = g->n * per_image, cp = g->ks;
    const int64_t units = g->n * c;
    int64_t u;
    int nt = wino_threads(num_threads, units, 16 * per_image);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (u = 0; u < units; u++) {
        const int64_t ch = u % c, n = u / c;
        const T *plane = x + u * g->h * g->w;   /* x[n, ch]: planes in (n, c) order */
        T r[4][2 * WINO_CHUNK + 2];
        int64_t ty, tx0, t, k;
        for (ty = 0; ty < g->th; ty++) {
            for (tx0 = 0; tx0 < g->tw; tx0 += WINO_CHUNK) {
                const int64_t cnt = g->tw - tx0 < WINO_CHUNK ? g->tw - tx0 : WINO_CHUNK;
                const int64_t len = 2 * cnt + 2;
                T *out = tiles + ch * p + n * per_image + ty * g->tw + tx0;
                FN(wino_bt_rows)(plane, g->h, g->w, 2 * ty - g->ph, 2 * tx0 - g->pw, len, r);
                for (k = 0; k < 4; k++) {
                    /* row k of tile t is rk[2t .. 2t+3]; V row k = that times B */
                    T *I2C_WINO_RESTRICT v0 = out + (4 * k + 0) * cp;
                    T *I2C_WINO_RESTRICT v1 = out + (4 * k + 1) * cp;
                    T *I2C_WINO_RESTRICT v2 = out + (4 * k + 2) * cp;
                    T *I2C_WINO_RESTRICT v3 = out + (4 * k + 3) * cp;
                    const T *I2C_WINO_RESTRICT rk = r[k];
                    for (t = 0; t < cnt; t++) {
                        v0[t] = rk[2 * t] - rk[2 * t + 2];
                        v1[t] = rk[2 * t + 1] + rk[2 * t + 2];
                        v2[t] = rk[2 * t + 2] - rk[2 * t + 1];
                        v3[t] = rk[2 * t + 1] - rk[2 * t + 3];
                    }
                }
            }
        }
    }
}

void FN(i2c_wino_output)(const T *m, const T *bias, T *y, int64_t c, const i2c_wino_geom *g,
                         int num_threads)
{
    const int64_t per_image = g->th * g->tw, p = g->n * per_image, cp = g->ks;
    const int64_t units = g->n * c, oh = g->oh, ow = g->ow;
    int64_t u;
    int nt = wino_threads(num_threads, units, 16 * per_image);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (u = 0; u < units; u++) {
        const int64_t ch = u % c, n = u / c;
        T *plane = y + u * oh * ow;
        const T b = bias ? bias[ch] : (T)0;
        T rows[2][2 * WINO_CHUNK], sa[2][4][WINO_CHUNK];
        int64_t ty, tx0, t, k, j;
        for (ty = 0; ty < g->th; ty++) {
            const int64_t oy = 2 * ty;
            for (tx0 = 0; tx0 < g->tw; tx0 += WINO_CHUNK) {
                const int64_t cnt = g->tw - tx0 < WINO_CHUNK ? g->tw - tx0 : WINO_CHUNK;
                const int64_t ox = 2 * tx0;
                const int64_t len = ow - ox < 2 * cnt ? ow - ox : 2 * cnt;
                const T *in = m + ch * p + n * per_image + ty * g->tw + tx0;
                const int direct = len == 2 * cnt && oy + 1 < oh;
                T *I2C_WINO_RESTRICT r0 = direct ? plane + oy * ow + ox : rows[0];
                T *I2C_WINO_RESTRICT r1 = direct ? plane + (oy + 1) * ow + ox : rows[1];
                /* s = A^T M (rows 0, 1; columns 0..3) for the whole chunk, in a
                 * loop over 16 restrict streams, then Y = s A with the
                 * interleaved stores (one loop doing both, through an array
                 * of pointers, stayed scalar) */
                for (j = 0; j < 4; j++) {
                    const T *I2C_WINO_RESTRICT m0 = in + j * cp;
                    const T *I2C_WINO_RESTRICT m4 = m0 + 4 * cp;
                    const T *I2C_WINO_RESTRICT m8 = m0 + 8 * cp;
                    const T *I2C_WINO_RESTRICT m12 = m0 + 12 * cp;
                    T *I2C_WINO_RESTRICT s0 = sa[0][j], *I2C_WINO_RESTRICT s1 = sa[1][j];
                    for (t = 0; t < cnt; t++) {
                        s0[t] = m0[t] + m4[t] + m8[t];
                        s1[t] = m4[t] - m8[t] - m12[t];
                    }
                }
                for (k = 0; k < 2; k++) {
                    const T *I2C_WINO_RESTRICT s0 = sa[k][0], *I2C_WINO_RESTRICT s1 = sa[k][1];
                    const T *I2C_WINO_RESTRICT s2 = sa[k][2], *I2C_WINO_RESTRICT s3 = sa[k][3];
                    T *I2C_WINO_RESTRICT rk = k == 0 ? r0 : r1;
                    for (t = 0; t < cnt; t++) {
                        rk[2 * t] = s0[t] + s1[t] + s2[t] + b;
                        rk[2 * t + 1] = s1[t] - s2[t] - s3[t] + b;
                    }
                }
                if (!direct) {
                    memcpy(plane + oy * ow + ox, rows[0], (size_t)len * sizeof(T));
                    if (oy + 1 < oh)
                        memcpy(plane + (oy + 1) * ow + ox, rows[1], (size_t)len * sizeof(T));
                }
            }
        }
    }
}

/* One row of dM = (A dY) A^T for cnt tiles: with the row of A dY
 * r_j = a*e0j + b*e1j (a in {0, 1}, b in {-1, 0, 1}; e0, e1 the two rows
 * of dY, columns 2t + j), dM's row is r0, r0 + r1, r0 - r1, -r1. */
static I2C_WINO_INLINE void FN(wino_dm_row)(const T *I2C_WINO_RESTRICT q0,
                                            const T *I2C_WINO_RESTRICT q1, int64_t cnt,
                                            int a, int b, T *I2C_WINO_RESTRICT v0,
                                            T *I2C_WINO_RESTRICT v1, T *I2C_WINO_RESTRICT v2,
                                            T *I2C_WINO_RESTRICT v3)
{
    int64_t t;
    for (t = 0; t < cnt; t++) {
        const T e00 = q0[2 * t], e01 = q0[2 * t + 1];
        const T e10 = q1[2 * t], e11 = q1[2 * t + 1];
        const T r0 = a == 0 ? -e10 : b == 0 ? e00 : b > 0 ? e00 + e10 : e00 - e10;
        const T r1 = a == 0 ? -e11 : b == 0 ? e01 : b > 0 ? e01 + e11 : e01 - e11;
        v0[t] = r0;
        v1[t] = r0 + r1;
        v2[t] = r0 - r1;
        v3[t] = -r1;
    }
}

void FN(i2c_wino_output_adjoint)(const T *dy, T *dm, int64_t c, const i2c_wino_geom *g,
                                 int num_threads)
{
    const int64_t per_image = g->th * g->tw, p = g->n * per_image, cp = g->ks;
    const int64_t units = g->n * c, oh = g->oh, ow = g->ow;
    int64_t u;
    int nt = wino_threads(num_threads, units, 16 * per_image);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (u = 0; u < units; u++) {
        const int64_t ch = u % c, n = u / c;
        const T *plane = dy + u * oh * ow;
        T rows[2][2 * WINO_CHUNK];
        int64_t ty, tx0;
        for (ty = 0; ty < g->th; ty++) {
            const int64_t oy = 2 * ty;
            for (tx0 = 0; tx0 < g->tw; tx0 += WINO_CHUNK) {
                const int64_t cnt = g->tw - tx0 < WINO_CHUNK ? g->tw - tx0 : WINO_CHUNK;
                const int64_t ox = 2 * tx0;
                const int64_t len = ow - ox < 2 * cnt ? ow - ox : 2 * cnt;
                T *out = dm + ch * p + n * per_image + ty * g->tw + tx0;
                const T *q0 = plane + oy * ow + ox, *q1 = plane + (oy + 1) * ow + ox;
                if (len < 2 * cnt || oy + 1 >= oh) {
                    memset(rows, 0, sizeof(rows));
                    memcpy(rows[0], q0, (size_t)len * sizeof(T));
                    if (oy + 1 < oh)
                        memcpy(rows[1], q1, (size_t)len * sizeof(T));
                    q0 = rows[0];
                    q1 = rows[1];
                }
                /* r = A dY (4x2), dM = r A^T; row i of dM is written by
                 * wino_dm_row, four rows of 16 distinct restrict pointers
                 * (through an array of pointers the compiler assumed they
                 * might alias and kept the loop scalar) */
                FN(wino_dm_row)(q0, q1, cnt, 1, 0, out, out + cp, out + 2 * cp, out + 3 * cp);
                FN(wino_dm_row)(q0, q1, cnt, 1, 1, out + 4 * cp, out + 5 * cp, out + 6 * cp,
                                out + 7 * cp);
                FN(wino_dm_row)(q0, q1, cnt, 1, -1, out + 8 * cp, out + 9 * cp, out + 10 * cp,
                                out + 11 * cp);
                FN(wino_dm_row)(q0, q1, cnt, 0, -1, out + 12 * cp, out + 13 * cp, out + 14 * cp,
                                out + 15 * cp);
            }
        }
    }
}

void FN(i2c_wino_input_adjoint)(const T *dv, T *dx, int64_t c, const i2c_wino_geom *g,
                                int num_threads)
{
    const int64_t per_image = g->th * g->tw, p = g->n * per_image, cp = g->ks;
    const int64_t units = g->n * c, h = g->h, w = g->w;
    int64_t u;
    int nt = wino_threads(num_threads, units, 16 * per_image);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (u = 0; u < units; u++) {
        const int64_t ch = u % c, n = u / c;
        T *plane = dx + u * h * w;
        T acc[4][2 * WINO_CHUNK + 2];
        T tr[4][WINO_CHUNK];
        int64_t ty, tx0, t, k;
        memset(plane, 0, (size_t)(h * w) * sizeof(T));
        for (ty = 0; ty < g->th; ty++) {
            const int64_t r0 = 2 * ty - g->ph;
            for (tx0 = 0; tx0 < g->tw; tx0 += WINO_CHUNK) {
                const int64_t cnt = g->tw - tx0 < WINO_CHUNK ? g->tw - tx0 : WINO_CHUNK;
                const int64_t q0 = 2 * tx0 - g->pw, len = 2 * cnt + 2;
                const T *in = dv + ch * p + n * per_image + ty * g->tw + tx0;
                const T *vk[16];
                int64_t i, j, a, ja, jb;
                for (k = 0; k < 16; k++)
                    vk[k] = in + k * cp;
                for (a = 0; a < 4; a++) {
                    /* row a of t = B dV, then d = t B^T; tile t adds d[a][0..3] at
                     * columns 2t .. 2t+3 of acc[a]: the even columns get d0 of tile t
                     * and d2 of tile t-1, the odd ones d1 of t and d3 of t-1.  Row a
                     * of t is computed for the whole chunk first, column j in
                     * tr[j] (loops without a branch inside, which vectorise). */
                    const T *I2C_WINO_RESTRICT t0 = tr[0], *I2C_WINO_RESTRICT t1 = tr[1];
                    const T *I2C_WINO_RESTRICT t2 = tr[2], *I2C_WINO_RESTRICT t3 = tr[3];
                    T *I2C_WINO_RESTRICT ac = acc[a];
                    for (j = 0; j < 4; j++) {
                        const T *I2C_WINO_RESTRICT x0 = vk[j];
                        const T *I2C_WINO_RESTRICT x4 = vk[4 + j];
                        const T *I2C_WINO_RESTRICT x8 = vk[8 + j];
                        const T *I2C_WINO_RESTRICT x12 = vk[12 + j];
                        T *I2C_WINO_RESTRICT o = tr[j];
                        if (a == 0)
                            for (t = 0; t < cnt; t++)
                                o[t] = x0[t];
                        else if (a == 1)
                            for (t = 0; t < cnt; t++)
                                o[t] = x4[t] - x8[t] + x12[t];
                        else if (a == 2)
                            for (t = 0; t < cnt; t++)
                                o[t] = x4[t] + x8[t] - x0[t];
                        else
                            for (t = 0; t < cnt; t++)
                                o[t] = -x12[t];
                    }
                    /* d0 = t0, d1 = t1 - t2 + t3, d2 = t1 + t2 - t0, d3 = -t3 */
                    ac[0] = t0[0];
                    ac[1] = t1[0] - t2[0] + t3[0];
                    for (t = 1; t < cnt; t++) {
                        ac[2 * t] = t0[t] + (t1[t - 1] + t2[t - 1] - t0[t - 1]);
                        ac[2 * t + 1] = (t1[t] - t2[t] + t3[t]) + -t3[t - 1];
                    }
                    ac[2 * cnt] = t1[cnt - 1] + t2[cnt - 1] - t0[cnt - 1];
                    ac[2 * cnt + 1] = -t3[cnt - 1];
                }
                /* add the chunk's 4 x len block into the plane */
                for (i = 0; i < 4; i++) {
                    const int64_t row = r0 + i;
                    T *dst;
                    if (row < 0 || row >= h)
                        continue;
                    dst = plane + row * w + q0;
                    i2c_range(q0, 1, w, len, &ja, &jb);   /* columns inside the plane */
                    for (j = ja; j < jb; j++)
                        dst[j] += acc[i][j];
                }
            }
        }
    }
}
