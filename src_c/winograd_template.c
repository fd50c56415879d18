/*
 * winograd_template.c -- the dtype-generic body of the Winograd transforms.
 *
 * Not compiled on its own: winograd.c includes it once per element type
 * after defining T (float or double) and FN(f) (f_f32 or f_f64).  Layouts,
 * matrices and meanings are those of winograd.h.
 *
 * Every transform is separable: a 1-D transform down the columns of a tile
 * and one along its rows.  The 1-D transforms are the inline functions
 * below, for m = 2 and m = 4.  A kernel works on a plane (one image, one
 * channel) a run of tiles at a time: the tiles of whole tile rows ("bands")
 * while up to WINO_RUN of them fit, else WINO_RUN tiles of one band.  The
 * tiles of a run are consecutive in the tile arrays, so every pass over
 * tiles is one loop over the run (whole bands at once: a 28-pixel-wide
 * image has only 7 or 14 tiles per band, too few for vector loops), with
 * restrict parameters so that the compiler vectorizes it.  The T rows of a
 * tile array are read or written as T streams (g->ks apart, which the
 * caller keeps off multiples of 4 KiB so that they do not share one cache
 * set).
 */
#ifndef T
#error "define T and FN before including winograd_template.c"
#endif

#define WR T *I2C_WINO_RESTRICT         /* a written stream */
#define RD const T *I2C_WINO_RESTRICT   /* a read stream    */

/* ------------------------------------------------------------------------
 * 1-D transforms: B^T (input), B (its adjoint), A^T (output), A (its adjoint)
 * ------------------------------------------------------------------------ */

static I2C_WINO_INLINE void FN(wino2_bt)(T d0, T d1, T d2, T d3, T *o0, T *o1, T *o2, T *o3)
{
    *o0 = d0 - d2;
    *o1 = d1 + d2;
    *o2 = d2 - d1;
    *o3 = d1 - d3;
}

static I2C_WINO_INLINE void FN(wino2_b)(T v0, T v1, T v2, T v3, T *d0, T *d1, T *d2, T *d3)
{
    *d0 = v0;
    *d1 = v1 - v2 + v3;
    *d2 = v1 + v2 - v0;
    *d3 = -v3;
}

static I2C_WINO_INLINE void FN(wino2_at)(T m0, T m1, T m2, T m3, T *y0, T *y1)
{
    *y0 = m0 + m1 + m2;
    *y1 = m1 - m2 - m3;
}

static I2C_WINO_INLINE void FN(wino2_a)(T e0, T e1, T *r0, T *r1, T *r2, T *r3)
{
    *r0 = e0;
    *r1 = e0 + e1;
    *r2 = e0 - e1;
    *r3 = -e1;
}

static I2C_WINO_INLINE void FN(wino4_bt)(T d0, T d1, T d2, T d3, T d4, T d5, T *o0, T *o1,
                                         T *o2, T *o3, T *o4, T *o5)
{
    const T e = d4 - d2, f = d1 - d3;
    *o0 = (d0 + (T)1.5 * f) + (d4 - (T)2 * d2);
    *o1 = (d4 - (T)2.5 * d2) - (d1 + (T)0.5 * d3);
    *o2 = (d4 + (T)0.5 * d2) + (d1 - (T)2.5 * d3);
    *o3 = e - (T)0.5 * f;
    *o4 = e + (T)2 * f;
    *o5 = (d5 + (d1 - (T)2 * d3)) - (T)1.5 * e;
}

static I2C_WINO_INLINE void FN(wino4_b)(T v0, T v1, T v2, T v3, T v4, T v5, T *d0, T *d1,
                                        T *d2, T *d3, T *d4, T *d5)
{
    *d0 = v0;
    *d1 = ((T)1.5 * v0 - v1) + (v2 - (T)0.5 * v3) + ((T)2 * v4 + v5);
    *d2 = ((T)0.5 * v2 - v3) + ((T)1.5 * v5 - v4) - ((T)2 * v0 + (T)2.5 * v1);
    *d3 = ((T)0.5 * v3 - (T)2.5 * v2) - ((T)1.5 * v0 + (T)0.5 * v1) - (T)2 * (v4 + v5);
    *d4 = (v0 + v1) + (v2 + v3) + (v4 - (T)1.5 * v5);
    *d5 = v5;
}

static I2C_WINO_INLINE void FN(wino4_at)(T m0, T m1, T m2, T m3, T m4, T m5, T *y0, T *y1,
                                         T *y2, T *y3)
{
    const T p = m1 + m2, q = m1 - m2;
    *y0 = (m0 + p) + (m3 + m4);
    *y1 = q + ((T)2 * m3 - (T)0.5 * m4);
    *y2 = p + ((T)4 * m3 + (T)0.25 * m4);
    *y3 = (q + ((T)8 * m3 - (T)0.125 * m4)) + m5;
}

static I2C_WINO_INLINE void FN(wino4_a)(T e0, T e1, T e2, T e3, T *r0, T *r1, T *r2, T *r3,
                                        T *r4, T *r5)
{
    const T s = e0 + e2, d = e1 + e3;
    *r0 = e0;
    *r1 = s + d;
    *r2 = s - d;
    *r3 = (e0 + (T)2 * e1) + ((T)4 * e2 + (T)8 * e3);
    *r4 = (e0 - (T)0.5 * e1) + ((T)0.25 * e2 - (T)0.125 * e3);
    *r5 = e3;
}

/* ------------------------------------------------------------------------
 * Passes over n elements or tiles, one function per pass and m: every
 * stream a restrict parameter (restrict on local pointers, or pointers in
 * an array, left the compiler checking them for aliasing, and with more
 * than 10 pairs it keeps the loop scalar).
 * ------------------------------------------------------------------------ */

/* Element-wise passes: o_k[q] = (F(a[q]))_k for a 1-D transform F of 4 or 6
 * values into as many: down the columns of a band (B^T) and across the
 * streams of a tile array (B, both passes of the adjoint input transform). */
#define WINO_PASS4(NAME, F)                                                             \
    I2C_WINO_CLONES                                                                     \
    static void FN(NAME)(RD a0, RD a1, RD a2, RD a3, int64_t n, WR o0, WR o1, WR o2,     \
                         WR o3)                                                         \
    {                                                                                   \
        int64_t q;                                                                      \
        for (q = 0; q < n; q++)                                                         \
            FN(F)(a0[q], a1[q], a2[q], a3[q], &o0[q], &o1[q], &o2[q], &o3[q]);          \
    }
#define WINO_PASS6(NAME, F)                                                             \
    I2C_WINO_CLONES                                                                     \
    static void FN(NAME)(RD a0, RD a1, RD a2, RD a3, RD a4, RD a5, int64_t n, WR o0,     \
                         WR o1, WR o2, WR o3, WR o4, WR o5)                             \
    {                                                                                   \
        int64_t q;                                                                      \
        for (q = 0; q < n; q++)                                                         \
            FN(F)(a0[q], a1[q], a2[q], a3[q], a4[q], a5[q], &o0[q], &o1[q], &o2[q],     \
                  &o3[q], &o4[q], &o5[q]);                                              \
    }
WINO_PASS4(wino2_bt_cols, wino2_bt)
WINO_PASS6(wino4_bt_cols, wino4_bt)
WINO_PASS4(wino2_b_cols, wino2_b)
WINO_PASS6(wino4_b_cols, wino4_b)
#undef WINO_PASS4
#undef WINO_PASS6

/* Along a row: tile t is r[m*t .. m*t + m + 1]; v_j[t] = (B^T r_t)_j. */
I2C_WINO_CLONES
static void FN(wino2_bt_row)(RD r, int64_t n, WR v0, WR v1, WR v2, WR v3)
{
    int64_t t;
    for (t = 0; t < n; t++)
        FN(wino2_bt)(r[2 * t], r[2 * t + 1], r[2 * t + 2], r[2 * t + 3], &v0[t], &v1[t],
                     &v2[t], &v3[t]);
}

I2C_WINO_CLONES
static void FN(wino4_bt_row)(RD r, int64_t n, WR v0, WR v1, WR v2, WR v3, WR v4, WR v5)
{
    int64_t t;
    for (t = 0; t < n; t++)
        FN(wino4_bt)(r[4 * t], r[4 * t + 1], r[4 * t + 2], r[4 * t + 3], r[4 * t + 4],
                     r[4 * t + 5], &v0[t], &v1[t], &v2[t], &v3[t], &v4[t], &v5[t]);
}

/* Down the columns of the products: s_a[t] = (A^T m[t])_a. */
I2C_WINO_CLONES
static void FN(wino2_at_cols)(RD m0, RD m1, RD m2, RD m3, int64_t n, WR s0, WR s1)
{
    int64_t t;
    for (t = 0; t < n; t++)
        FN(wino2_at)(m0[t], m1[t], m2[t], m3[t], &s0[t], &s1[t]);
}

I2C_WINO_CLONES
static void FN(wino4_at_cols)(RD m0, RD m1, RD m2, RD m3, RD m4, RD m5, int64_t n, WR s0,
                              WR s1, WR s2, WR s3)
{
    int64_t t;
    for (t = 0; t < n; t++)
        FN(wino4_at)(m0[t], m1[t], m2[t], m3[t], m4[t], m5[t], &s0[t], &s1[t], &s2[t], &s3[t]);
}

/* Along a row of outputs: y[m*t + b] = (A^T s[t])_b + bias. */
I2C_WINO_CLONES
static void FN(wino2_at_row)(RD s0, RD s1, RD s2, RD s3, int64_t n, T bias, WR y)
{
    int64_t t;
    for (t = 0; t < n; t++) {
        T y0, y1;
        FN(wino2_at)(s0[t], s1[t], s2[t], s3[t], &y0, &y1);
        y[2 * t] = y0 + bias;
        y[2 * t + 1] = y1 + bias;
    }
}

I2C_WINO_CLONES
static void FN(wino4_at_row)(RD s0, RD s1, RD s2, RD s3, RD s4, RD s5, int64_t n, T bias, WR y)
{
    int64_t t;
    for (t = 0; t < n; t++) {
        T y0, y1, y2, y3;
        FN(wino4_at)(s0[t], s1[t], s2[t], s3[t], s4[t], s5[t], &y0, &y1, &y2, &y3);
        y[4 * t] = y0 + bias;
        y[4 * t + 1] = y1 + bias;
        y[4 * t + 2] = y2 + bias;
        y[4 * t + 3] = y3 + bias;
    }
}

/* Down the columns of dY: u_i[q] = (A e[q])_i. */
I2C_WINO_CLONES
static void FN(wino2_a_cols)(RD e0, RD e1, int64_t n, WR u0, WR u1, WR u2, WR u3)
{
    int64_t q;
    for (q = 0; q < n; q++)
        FN(wino2_a)(e0[q], e1[q], &u0[q], &u1[q], &u2[q], &u3[q]);
}

I2C_WINO_CLONES
static void FN(wino4_a_cols)(RD e0, RD e1, RD e2, RD e3, int64_t n, WR u0, WR u1, WR u2,
                             WR u3, WR u4, WR u5)
{
    int64_t q;
    for (q = 0; q < n; q++)
        FN(wino4_a)(e0[q], e1[q], e2[q], e3[q], &u0[q], &u1[q], &u2[q], &u3[q], &u4[q], &u5[q]);
}

/* Along a row: tile t is u[m*t .. m*t + m - 1]; v_j[t] = (A u_t)_j. */
I2C_WINO_CLONES
static void FN(wino2_a_row)(RD u, int64_t n, WR v0, WR v1, WR v2, WR v3)
{
    int64_t t;
    for (t = 0; t < n; t++)
        FN(wino2_a)(u[2 * t], u[2 * t + 1], &v0[t], &v1[t], &v2[t], &v3[t]);
}

I2C_WINO_CLONES
static void FN(wino4_a_row)(RD u, int64_t n, WR v0, WR v1, WR v2, WR v3, WR v4, WR v5)
{
    int64_t t;
    for (t = 0; t < n; t++)
        FN(wino4_a)(u[4 * t], u[4 * t + 1], u[4 * t + 2], u[4 * t + 3], &v0[t], &v1[t],
                    &v2[t], &v3[t], &v4[t], &v5[t]);
}

/* ------------------------------------------------------------------------
 * Runs of tiles.  A run is `bands` whole tile rows ty0 .. (cnt = tw tiles
 * each), or one band's tiles tx0 .. tx0 + cnt - 1; its tiles are
 * consecutive in the tile arrays (from tile ty0*tw + tx0 of the plane).
 * ------------------------------------------------------------------------ */

#define WINO_TW 6                               /* the largest tile width m + 2 */
#define WINO_COLS (4 * WINO_RUN + 2)            /* the widest run of columns    */

/* p[0 .. n-1] = 0; the usual n (the padding, 0 to 2) without a call. */
static I2C_WINO_INLINE void FN(wino_zero)(T *p, int64_t n)
{
    if (n > 2)
        memset(p, 0, (size_t)n * sizeof(T));
    else if (n > 0) {
        p[0] = (T)0;
        if (n == 2)
            p[1] = (T)0;
    }
}

/* The input transform of one run of plane `plane` into the tile streams
 * `out` (tile 0 of the run, rows cp apart). */
static I2C_WINO_INLINE void FN(wino_input_run)(const T *plane, const i2c_wino_geom *g,
                                               int64_t ty0, int64_t bands, int64_t tx0,
                                               int64_t cnt, T *out, int64_t cp, const int m)
{
    static const T zeros[WINO_COLS];
    const int r = m + 2;
    const int64_t len = m * cnt + 2, band = m * cnt, n = bands * cnt;
    T rows[WINO_TW][WINO_COLS], spill[WINO_TW][WINO_RUN][2];
    int64_t b, i, k, ja, jb;
    i2c_range(m * tx0 - g->pw, 1, g->w, len, &ja, &jb);   /* columns inside the plane */
    for (b = 0; b < bands; b++) {
        /* B^T down the columns of the band's r input rows (rows outside the
         * plane read zeros) into rows[k][band*b ..]: its last two columns
         * land on the next band's first two, so they are kept in spill */
        const T *src[WINO_TW];
        T *dst[WINO_TW];
        for (i = 0; i < r; i++) {
            const int64_t row = m * (ty0 + b) - g->ph + i;
            src[i] = row >= 0 && row < g->h ? plane + row * g->w + m * tx0 - g->pw + ja : zeros;
            dst[i] = rows[i] + band * b;
            FN(wino_zero)(dst[i], ja);
            FN(wino_zero)(dst[i] + jb, len - jb);
        }
        if (m == 2)
            FN(wino2_bt_cols)(src[0], src[1], src[2], src[3], jb - ja, dst[0] + ja,
                              dst[1] + ja, dst[2] + ja, dst[3] + ja);
        else
            FN(wino4_bt_cols)(src[0], src[1], src[2], src[3], src[4], src[5], jb - ja,
                              dst[0] + ja, dst[1] + ja, dst[2] + ja, dst[3] + ja, dst[4] + ja,
                              dst[5] + ja);
        if (b + 1 < bands)
            for (k = 0; k < r; k++) {
                spill[k][b][0] = dst[k][band];
                spill[k][b][1] = dst[k][band + 1];
            }
    }
    for (k = 0; k < r; k++) {
        /* B^T along the rows for the whole run at once ... */
        T *v = out + r * k * cp;
        if (m == 2)
            FN(wino2_bt_row)(rows[k], n, v, v + cp, v + 2 * cp, v + 3 * cp);
        else
            FN(wino4_bt_row)(rows[k], n, v, v + cp, v + 2 * cp, v + 3 * cp, v + 4 * cp,
                             v + 5 * cp);
        /* ... then again for each band's last tile, which read the next
         * band's first columns in place of its own last two */
        for (b = 0; b + 1 < bands; b++) {
            const int64_t t = cnt * (b + 1) - 1;
            const T *e = rows[k] + m * t;
            if (m == 2)
                FN(wino2_bt)(e[0], e[1], spill[k][b][0], spill[k][b][1], &v[t], &v[t + cp],
                             &v[t + 2 * cp], &v[t + 3 * cp]);
            else
                FN(wino4_bt)(e[0], e[1], e[2], e[3], spill[k][b][0], spill[k][b][1], &v[t],
                             &v[t + cp], &v[t + 2 * cp], &v[t + 3 * cp], &v[t + 4 * cp],
                             &v[t + 5 * cp]);
        }
    }
}

/* The output transform of one run of products `in` (tile 0 of the run, rows
 * cp apart) into plane `plane`, plus bias. */
static I2C_WINO_INLINE void FN(wino_output_run)(const T *in, int64_t cp, T bias,
                                                const i2c_wino_geom *g, int64_t ty0,
                                                int64_t bands, int64_t tx0, int64_t cnt,
                                                T *plane, const int m)
{
    const int r = m + 2;
    const int64_t n = bands * cnt, ox = m * tx0;
    const int64_t len = g->ow - ox < m * cnt ? g->ow - ox : m * cnt;
    T s[4][WINO_TW][WINO_RUN], y[4][4 * WINO_RUN];
    int64_t a, b, j;
    for (j = 0; j < r; j++) {   /* s = A^T M: column j of the m x r product */
        const T *c = in + j * cp;
        if (m == 2)
            FN(wino2_at_cols)(c, c + 4 * cp, c + 8 * cp, c + 12 * cp, n, s[0][j], s[1][j]);
        else
            FN(wino4_at_cols)(c, c + 6 * cp, c + 12 * cp, c + 18 * cp, c + 24 * cp,
                              c + 30 * cp, n, s[0][j], s[1][j], s[2][j], s[3][j]);
    }
    for (a = 0; a < m; a++) {   /* Y = s A, row a of every tile: y[a][m*t ..] */
        if (m == 2)
            FN(wino2_at_row)(s[a][0], s[a][1], s[a][2], s[a][3], n, bias, y[a]);
        else
            FN(wino4_at_row)(s[a][0], s[a][1], s[a][2], s[a][3], s[a][4], s[a][5], n, bias,
                             y[a]);
    }
    for (b = 0; b < bands; b++)
        for (a = 0; a < m; a++) {
            const int64_t oy = m * (ty0 + b) + a;
            if (oy < g->oh)
                memcpy(plane + oy * g->ow + ox, y[a] + m * cnt * b, (size_t)len * sizeof(T));
        }
}

/* The adjoint output transform of one run of plane `plane` (dY) into the
 * tile streams `out`. */
static I2C_WINO_INLINE void FN(wino_output_adjoint_run)(const T *plane,
                                                        const i2c_wino_geom *g, int64_t ty0,
                                                        int64_t bands, int64_t tx0,
                                                        int64_t cnt, T *out, int64_t cp,
                                                        const int m)
{
    const int r = m + 2;
    const int64_t n = bands * cnt, ox = m * tx0, band = m * cnt;
    const int64_t len = g->ow - ox < band ? g->ow - ox : band;
    T u[WINO_TW][4 * WINO_RUN], zrows[4][4 * WINO_RUN];
    int64_t a, b, i;
    for (b = 0; b < bands; b++) {
        /* A dY down the columns of the band's m output rows (zeros past oh, ow) */
        const int64_t oy = m * (ty0 + b);
        const T *e[4];
        for (a = 0; a < m; a++)
            e[a] = plane + (oy + a) * g->ow + ox;
        if (len < band || oy + m > g->oh) {
            for (a = 0; a < m; a++) {
                memset(zrows[a], 0, (size_t)band * sizeof(T));
                if (oy + a < g->oh)
                    memcpy(zrows[a], e[a], (size_t)len * sizeof(T));
                e[a] = zrows[a];
            }
        }
        if (m == 2)
            FN(wino2_a_cols)(e[0], e[1], band, u[0] + band * b, u[1] + band * b,
                             u[2] + band * b, u[3] + band * b);
        else
            FN(wino4_a_cols)(e[0], e[1], e[2], e[3], band, u[0] + band * b, u[1] + band * b,
                             u[2] + band * b, u[3] + band * b, u[4] + band * b,
                             u[5] + band * b);
    }
    for (i = 0; i < r; i++) {   /* then (A dY) A^T along row i of every tile */
        T *v = out + r * i * cp;
        if (m == 2)
            FN(wino2_a_row)(u[i], n, v, v + cp, v + 2 * cp, v + 3 * cp);
        else
            FN(wino4_a_row)(u[i], n, v, v + cp, v + 2 * cp, v + 3 * cp, v + 4 * cp,
                            v + 5 * cp);
    }
}

/* The adjoint input transform of one run of tile streams `in` added into
 * plane `plane` (dX, zeroed by the caller). */
static I2C_WINO_INLINE void FN(wino_input_adjoint_run)(const T *in, int64_t cp,
                                                       const i2c_wino_geom *g, int64_t ty0,
                                                       int64_t bands, int64_t tx0,
                                                       int64_t cnt, T *plane, const int m)
{
    const int r = m + 2;
    const int64_t n = bands * cnt, q0 = m * tx0 - g->pw, len = m * cnt + 2;
    T tr[WINO_TW][WINO_TW][WINO_RUN], d[WINO_TW][WINO_RUN], acc[WINO_COLS];
    int64_t a, b, i, j, t, ja, jb;
    for (j = 0; j < r; j++) {   /* B dV down column j: tr[a][j] */
        const T *c = in + j * cp;
        if (m == 2)
            FN(wino2_b_cols)(c, c + 4 * cp, c + 8 * cp, c + 12 * cp, n, tr[0][j], tr[1][j],
                             tr[2][j], tr[3][j]);
        else
            FN(wino4_b_cols)(c, c + 6 * cp, c + 12 * cp, c + 18 * cp, c + 24 * cp,
                             c + 30 * cp, n, tr[0][j], tr[1][j], tr[2][j], tr[3][j],
                             tr[4][j], tr[5][j]);
    }
    i2c_range(q0, 1, g->w, len, &ja, &jb);   /* columns inside the plane */
    for (a = 0; a < r; a++) {
        /* (B dV) B^T along row a of every tile: d[c][t], column c of tile t */
        if (m == 2)
            FN(wino2_b_cols)(tr[a][0], tr[a][1], tr[a][2], tr[a][3], n, d[0], d[1], d[2], d[3]);
        else
            FN(wino4_b_cols)(tr[a][0], tr[a][1], tr[a][2], tr[a][3], tr[a][4], tr[a][5], n,
                             d[0], d[1], d[2], d[3], d[4], d[5]);
        for (b = 0; b < bands; b++) {
            /* the band's row a: tile t covers columns m*t .. m*t + m + 1, its
             * last two meet the next tile's first two */
            const int64_t row = m * (ty0 + b) - g->ph + a, t0 = cnt * b;
            T *dst;
            if (row < 0 || row >= g->h)
                continue;
            for (i = 0; i < m; i++)
                acc[i] = d[i][t0];
            for (t = 1; t < cnt; t++) {
                acc[m * t] = d[0][t0 + t] + d[m][t0 + t - 1];
                acc[m * t + 1] = d[1][t0 + t] + d[m + 1][t0 + t - 1];
                for (i = 2; i < m; i++)
                    acc[m * t + i] = d[i][t0 + t];
            }
            acc[m * cnt] = d[m][t0 + cnt - 1];
            acc[m * cnt + 1] = d[m + 1][t0 + cnt - 1];
            dst = plane + row * g->w + q0;
            for (j = ja; j < jb; j++)
                dst[j] += acc[j];
        }
    }
}

/* ------------------------------------------------------------------------
 * The entry points of winograd.h: planes over threads, runs within a plane
 * ------------------------------------------------------------------------ */

/* Calls `RUN(m)` (a statement using ty0, bands, tx0, cnt, first) for every
 * run of a plane, with m the literal 2 or 4 so that each copy folds. */
#define WINO_FOR_RUNS(g, RUN)                                                             \
    do {                                                                                  \
        const int64_t per_run_ = (g)->tw <= WINO_RUN ? WINO_RUN / (g)->tw : 1;           \
        int64_t ty0, tx0;                                                                 \
        for (ty0 = 0; ty0 < (g)->th; ty0 += per_run_) {                                   \
            const int64_t bands = (g)->th - ty0 < per_run_ ? (g)->th - ty0 : per_run_;    \
            for (tx0 = 0; tx0 < (g)->tw; tx0 += WINO_RUN) {                               \
                const int64_t cnt = (g)->tw - tx0 < WINO_RUN ? (g)->tw - tx0 : WINO_RUN;  \
                const int64_t first = ty0 * (g)->tw + tx0;                                \
                if ((g)->m == 4)                                                          \
                    RUN(4);                                                               \
                else                                                                      \
                    RUN(2);                                                               \
            }                                                                             \
        }                                                                                 \
    } while (0)

void FN(i2c_wino_input)(const T *x, T *tiles, int64_t c, const i2c_wino_geom *g,
                        int num_threads)
{
    const int64_t per_image = g->th * g->tw, p = g->n * per_image, cp = g->ks;
    const int64_t units = g->n * c;
    int64_t u;
    int nt = wino_threads(num_threads, units, (g->m + 2) * (g->m + 2) * per_image);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (u = 0; u < units; u++) {
        const int64_t ch = u % c, n = u / c;
        const T *plane = x + u * g->h * g->w;   /* x[n, ch]: planes in (n, c) order */
        T *out = tiles + ch * p + n * per_image;
#define WINO_IN_RUN(M) \
        FN(wino_input_run)(plane, g, ty0, bands, tx0, cnt, out + first, cp, M)
        WINO_FOR_RUNS(g, WINO_IN_RUN);
#undef WINO_IN_RUN
    }
}

void FN(i2c_wino_output)(const T *m, const T *bias, T *y, int64_t c, const i2c_wino_geom *g,
                         int num_threads)
{
    const int64_t per_image = g->th * g->tw, p = g->n * per_image, cp = g->ks;
    const int64_t units = g->n * c;
    int64_t u;
    int nt = wino_threads(num_threads, units, (g->m + 2) * (g->m + 2) * per_image);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (u = 0; u < units; u++) {
        const int64_t ch = u % c, n = u / c;
        T *plane = y + u * g->oh * g->ow;
        const T *in = m + ch * p + n * per_image;
        const T b = bias ? bias[ch] : (T)0;
#define WINO_OUT_RUN(M) \
        FN(wino_output_run)(in + first, cp, b, g, ty0, bands, tx0, cnt, plane, M)
        WINO_FOR_RUNS(g, WINO_OUT_RUN);
#undef WINO_OUT_RUN
    }
}

void FN(i2c_wino_output_adjoint)(const T *dy, T *dm, int64_t c, const i2c_wino_geom *g,
                                 int num_threads)
{
    const int64_t per_image = g->th * g->tw, p = g->n * per_image, cp = g->ks;
    const int64_t units = g->n * c;
    int64_t u;
    int nt = wino_threads(num_threads, units, (g->m + 2) * (g->m + 2) * per_image);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (u = 0; u < units; u++) {
        const int64_t ch = u % c, n = u / c;
        const T *plane = dy + u * g->oh * g->ow;
        T *out = dm + ch * p + n * per_image;
#define WINO_OADJ_RUN(M) \
        FN(wino_output_adjoint_run)(plane, g, ty0, bands, tx0, cnt, out + first, cp, M)
        WINO_FOR_RUNS(g, WINO_OADJ_RUN);
#undef WINO_OADJ_RUN
    }
}

void FN(i2c_wino_input_adjoint)(const T *dv, T *dx, int64_t c, const i2c_wino_geom *g,
                                int num_threads)
{
    const int64_t per_image = g->th * g->tw, p = g->n * per_image, cp = g->ks;
    const int64_t units = g->n * c;
    int64_t u;
    int nt = wino_threads(num_threads, units, (g->m + 2) * (g->m + 2) * per_image);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (u = 0; u < units; u++) {
        const int64_t ch = u % c, n = u / c;
        T *plane = dx + u * g->h * g->w;
        const T *in = dv + ch * p + n * per_image;
        memset(plane, 0, (size_t)(g->h * g->w) * sizeof(T));
#define WINO_IADJ_RUN(M) \
        FN(wino_input_adjoint_run)(in + first, cp, g, ty0, bands, tx0, cnt, plane, M)
        WINO_FOR_RUNS(g, WINO_IADJ_RUN);
#undef WINO_IADJ_RUN
    }
}

#undef WINO_FOR_RUNS
#undef WINO_COLS
#undef WINO_TW
#undef WR
#undef RD
