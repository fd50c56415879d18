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
static void FN(wino_load_rows)(const T *plane, int64_t h, int64_t w, int64_t r0, int64_t q0,
                               int64_t len, T r[4][2 * WINO_CHUNK + 2])
{
    int64_t i, ja, jb;
    for (i = 0; i < 4; i++) {
        const int64_t row = r0 + i;
        if (row < 0 || row >= h) {
            memset(r[i], 0, (size_t)len * sizeof(T));
            continue;
        }
        /* zeros, the columns [ja, jb) inside the plane, zeros (block copies:
         * the element-wise loop with its bounds test took a third of the
         * transform, and its scalar stores stalled the vector loads after) */
        wino_span(q0, len, w, &ja, &jb);
        memset(r[i], 0, (size_t)ja * sizeof(T));
        memcpy(r[i] + ja, plane + row * w + q0 + ja, (size_t)(jb - ja) * sizeof(T));
        memset(r[i] + jb, 0, (size_t)(len - jb) * sizeof(T));
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
        int64_t ty, tx0, t, q, k;
        for (ty = 0; ty < g->th; ty++) {
            for (tx0 = 0; tx0 < g->tw; tx0 += WINO_CHUNK) {
                const int64_t cnt = g->tw - tx0 < WINO_CHUNK ? g->tw - tx0 : WINO_CHUNK;
                const int64_t len = 2 * cnt + 2;
                T *out = tiles + ch * p + n * per_image + ty * g->tw + tx0;
                FN(wino_load_rows)(plane, g->h, g->w, 2 * ty - g->ph, 2 * tx0 - g->pw, len, r);
                for (q = 0; q < len; q++) {        /* B^T on the 4 rows, column by column */
                    const T d0 = r[0][q], d1 = r[1][q], d2 = r[2][q], d3 = r[3][q];
                    r[0][q] = d0 - d2;
                    r[1][q] = d1 + d2;
                    r[2][q] = d2 - d1;
                    r[3][q] = d1 - d3;
                }
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
        T rows[2][2 * WINO_CHUNK];
        int64_t ty, tx0, t, k;
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
                const T *mk[16];
                for (k = 0; k < 16; k++)
                    mk[k] = in + k * cp;
                for (t = 0; t < cnt; t++) {
                    /* s = A^T M (rows 0, 1; columns 0..3), then Y = s A */
                    const T s00 = mk[0][t] + mk[4][t] + mk[8][t];
                    const T s01 = mk[1][t] + mk[5][t] + mk[9][t];
                    const T s02 = mk[2][t] + mk[6][t] + mk[10][t];
                    const T s03 = mk[3][t] + mk[7][t] + mk[11][t];
                    const T s10 = mk[4][t] - mk[8][t] - mk[12][t];
                    const T s11 = mk[5][t] - mk[9][t] - mk[13][t];
                    const T s12 = mk[6][t] - mk[10][t] - mk[14][t];
                    const T s13 = mk[7][t] - mk[11][t] - mk[15][t];
                    r0[2 * t] = s00 + s01 + s02 + b;
                    r0[2 * t + 1] = s01 - s02 - s03 + b;
                    r1[2 * t] = s10 + s11 + s12 + b;
                    r1[2 * t + 1] = s11 - s12 - s13 + b;
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
        int64_t ty, tx0, t, k;
        for (ty = 0; ty < g->th; ty++) {
            const int64_t oy = 2 * ty;
            for (tx0 = 0; tx0 < g->tw; tx0 += WINO_CHUNK) {
                const int64_t cnt = g->tw - tx0 < WINO_CHUNK ? g->tw - tx0 : WINO_CHUNK;
                const int64_t ox = 2 * tx0;
                const int64_t len = ow - ox < 2 * cnt ? ow - ox : 2 * cnt;
                T *out = dm + ch * p + n * per_image + ty * g->tw + tx0;
                const T *q0 = plane + oy * ow + ox, *q1 = plane + (oy + 1) * ow + ox;
                T *I2C_WINO_RESTRICT v[16];
                if (len < 2 * cnt || oy + 1 >= oh) {
                    memset(rows, 0, sizeof(rows));
                    memcpy(rows[0], q0, (size_t)len * sizeof(T));
                    if (oy + 1 < oh)
                        memcpy(rows[1], q1, (size_t)len * sizeof(T));
                    q0 = rows[0];
                    q1 = rows[1];
                }
                for (k = 0; k < 16; k++)
                    v[k] = out + k * cp;
                for (t = 0; t < cnt; t++) {
                    const T e00 = q0[2 * t], e01 = q0[2 * t + 1];
                    const T e10 = q1[2 * t], e11 = q1[2 * t + 1];
                    /* r = A dY (4x2), dM = r A^T */
                    const T r00 = e00, r01 = e01;
                    const T r10 = e00 + e10, r11 = e01 + e11;
                    const T r20 = e00 - e10, r21 = e01 - e11;
                    const T r30 = -e10, r31 = -e11;
                    v[0][t] = r00;  v[1][t] = r00 + r01;  v[2][t] = r00 - r01;  v[3][t] = -r01;
                    v[4][t] = r10;  v[5][t] = r10 + r11;  v[6][t] = r10 - r11;  v[7][t] = -r11;
                    v[8][t] = r20;  v[9][t] = r20 + r21;  v[10][t] = r20 - r21; v[11][t] = -r21;
                    v[12][t] = r30; v[13][t] = r30 + r31; v[14][t] = r30 - r31; v[15][t] = -r31;
                }
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
                        const T *I2C_WINO_RESTRICT x0 = vk[j], *I2C_WINO_RESTRICT x4 = vk[4 + j];
                        const T *I2C_WINO_RESTRICT x8 = vk[8 + j], *I2C_WINO_RESTRICT x12 = vk[12 + j];
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
                    wino_span(q0, len, w, &ja, &jb);
                    for (j = ja; j < jb; j++)
                        dst[j] += acc[i][j];
                }
            }
        }
    }
}
