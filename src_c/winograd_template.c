/*
 * winograd_template.c -- the dtype-generic body of the Winograd transforms.
 *
 * Not compiled on its own: winograd.c includes it once per element type
 * after defining T (float or double) and FN(f) (f_f32 or f_f64).  Layouts
 * and meanings are those of winograd.h.
 */
#ifndef T
#error "define T and FN before including winograd_template.c"
#endif

/* The 4x4 input tile of image plane `plane` (h x w, row-major) whose top
 * left corner is at row r0, column q0, into d (zeros outside the plane). */
static void FN(wino_load_tile)(const T *plane, int64_t h, int64_t w, int64_t r0, int64_t q0,
                               T d[16])
{
    int i, j;
    if (r0 >= 0 && q0 >= 0 && r0 + 4 <= h && q0 + 4 <= w) {
        const T *row = plane + r0 * w + q0;
        for (i = 0; i < 4; i++, row += w)
            for (j = 0; j < 4; j++)
                d[4 * i + j] = row[j];
        return;
    }
    for (i = 0; i < 4; i++) {
        int64_t r = r0 + i;
        for (j = 0; j < 4; j++) {
            int64_t q = q0 + j;
            d[4 * i + j] = (r >= 0 && r < h && q >= 0 && q < w) ? plane[r * w + q] : (T)0;
        }
    }
}

void FN(i2c_wino_input)(const T *x, T *tiles, int64_t c, const i2c_wino_geom *g,
                        int num_threads)
{
    const int64_t per_image = g->th * g->tw, p = g->n * per_image, cp = c * p;
    const int64_t units = g->n * c;
    int64_t u;
    int nt = wino_threads(num_threads, units, 16 * per_image);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (u = 0; u < units; u++) {
        const int64_t ch = u % c, n = u / c;
        const T *plane = x + u * g->h * g->w;   /* x[n, ch]: planes in (n, c) order */
        T *out = tiles + ch * p + n * per_image;
        int64_t ty, tx;
        for (ty = 0; ty < g->th; ty++) {
            for (tx = 0; tx < g->tw; tx++, out++) {
                T d[16], t[16];
                int j;
                FN(wino_load_tile)(plane, g->h, g->w, 2 * ty - g->ph, 2 * tx - g->pw, d);
                for (j = 0; j < 4; j++) {          /* t = B^T d (columns) */
                    t[0 + j] = d[0 + j] - d[8 + j];
                    t[4 + j] = d[4 + j] + d[8 + j];
                    t[8 + j] = d[8 + j] - d[4 + j];
                    t[12 + j] = d[4 + j] - d[12 + j];
                }
                for (j = 0; j < 4; j++) {          /* V = t B (rows) */
                    const T *r = t + 4 * j;
                    out[(4 * j + 0) * cp] = r[0] - r[2];
                    out[(4 * j + 1) * cp] = r[1] + r[2];
                    out[(4 * j + 2) * cp] = r[2] - r[1];
                    out[(4 * j + 3) * cp] = r[1] - r[3];
                }
            }
        }
    }
}

void FN(i2c_wino_output)(const T *m, const T *bias, T *y, int64_t c, const i2c_wino_geom *g,
                         int num_threads)
{
    const int64_t per_image = g->th * g->tw, p = g->n * per_image, cp = c * p;
    const int64_t units = g->n * c, oh = g->oh, ow = g->ow;
    int64_t u;
    int nt = wino_threads(num_threads, units, 16 * per_image);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (u = 0; u < units; u++) {
        const int64_t ch = u % c, n = u / c;
        const T *in = m + ch * p + n * per_image;
        T *plane = y + u * oh * ow;
        const T b = bias ? bias[ch] : (T)0;
        int64_t ty, tx;
        for (ty = 0; ty < g->th; ty++) {
            const int64_t oy = 2 * ty;
            for (tx = 0; tx < g->tw; tx++, in++) {
                const int64_t ox = 2 * tx;
                T s[8], v[16];
                int k;
                for (k = 0; k < 16; k++)
                    v[k] = in[k * cp];
                for (k = 0; k < 4; k++) {          /* s = A^T M (columns) */
                    s[k] = v[k] + v[4 + k] + v[8 + k];
                    s[4 + k] = v[4 + k] - v[8 + k] - v[12 + k];
                }
                {
                    const T y00 = s[0] + s[1] + s[2] + b, y01 = s[1] - s[2] - s[3] + b;
                    const T y10 = s[4] + s[5] + s[6] + b, y11 = s[5] - s[6] - s[7] + b;
                    T *row = plane + oy * ow + ox;
                    if (oy + 1 < oh && ox + 1 < ow) {
                        row[0] = y00;
                        row[1] = y01;
                        row[ow] = y10;
                        row[ow + 1] = y11;
                    } else {
                        row[0] = y00;
                        if (ox + 1 < ow)
                            row[1] = y01;
                        if (oy + 1 < oh) {
                            row[ow] = y10;
                            if (ox + 1 < ow)
                                row[ow + 1] = y11;
                        }
                    }
                }
            }
        }
    }
}

void FN(i2c_wino_output_adjoint)(const T *dy, T *dm, int64_t c, const i2c_wino_geom *g,
                                 int num_threads)
{
    const int64_t per_image = g->th * g->tw, p = g->n * per_image, cp = c * p;
    const int64_t units = g->n * c, oh = g->oh, ow = g->ow;
    int64_t u;
    int nt = wino_threads(num_threads, units, 16 * per_image);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (u = 0; u < units; u++) {
        const int64_t ch = u % c, n = u / c;
        const T *plane = dy + u * oh * ow;
        T *out = dm + ch * p + n * per_image;
        int64_t ty, tx;
        for (ty = 0; ty < g->th; ty++) {
            const int64_t oy = 2 * ty;
            for (tx = 0; tx < g->tw; tx++, out++) {
                const int64_t ox = 2 * tx;
                const T *row = plane + oy * ow + ox;
                T e00, e01 = 0, e10 = 0, e11 = 0, r[8];
                int i;
                e00 = row[0];
                if (ox + 1 < ow)
                    e01 = row[1];
                if (oy + 1 < oh) {
                    e10 = row[ow];
                    if (ox + 1 < ow)
                        e11 = row[ow + 1];
                }
                /* r = A dY (4x2, row-major) */
                r[0] = e00;       r[1] = e01;
                r[2] = e00 + e10; r[3] = e01 + e11;
                r[4] = e00 - e10; r[5] = e01 - e11;
                r[6] = -e10;      r[7] = -e11;
                for (i = 0; i < 4; i++) {          /* dM = r A^T */
                    const T a = r[2 * i], b = r[2 * i + 1];
                    out[(4 * i + 0) * cp] = a;
                    out[(4 * i + 1) * cp] = a + b;
                    out[(4 * i + 2) * cp] = a - b;
                    out[(4 * i + 3) * cp] = -b;
                }
            }
        }
    }
}

void FN(i2c_wino_input_adjoint)(const T *dv, T *dx, int64_t c, const i2c_wino_geom *g,
                                int num_threads)
{
    const int64_t per_image = g->th * g->tw, p = g->n * per_image, cp = c * p;
    const int64_t units = g->n * c, h = g->h, w = g->w;
    int64_t u;
    int nt = wino_threads(num_threads, units, 16 * per_image);
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (u = 0; u < units; u++) {
        const int64_t ch = u % c, n = u / c;
        const T *in = dv + ch * p + n * per_image;
        T *plane = dx + u * h * w;
        int64_t ty, tx;
        memset(plane, 0, (size_t)(h * w) * sizeof(T));
        for (ty = 0; ty < g->th; ty++) {
            const int64_t r0 = 2 * ty - g->ph;
            for (tx = 0; tx < g->tw; tx++, in++) {
                const int64_t q0 = 2 * tx - g->pw;
                T v[16], t[16], d[16];
                int i, j;
                for (i = 0; i < 16; i++)
                    v[i] = in[i * cp];
                for (j = 0; j < 4; j++) {          /* t = B dV (columns) */
                    t[0 + j] = v[0 + j];
                    t[4 + j] = v[4 + j] - v[8 + j] + v[12 + j];
                    t[8 + j] = v[4 + j] + v[8 + j] - v[0 + j];
                    t[12 + j] = -v[12 + j];
                }
                for (i = 0; i < 4; i++) {          /* d = t B^T (rows) */
                    const T *rr = t + 4 * i;
                    d[4 * i + 0] = rr[0];
                    d[4 * i + 1] = rr[1] - rr[2] + rr[3];
                    d[4 * i + 2] = rr[1] + rr[2] - rr[0];
                    d[4 * i + 3] = -rr[3];
                }
                if (r0 >= 0 && q0 >= 0 && r0 + 4 <= h && q0 + 4 <= w) {
                    T *row = plane + r0 * w + q0;
                    for (i = 0; i < 4; i++, row += w)
                        for (j = 0; j < 4; j++)
                            row[j] += d[4 * i + j];
                } else {
                    for (i = 0; i < 4; i++) {
                        const int64_t r = r0 + i;
                        if (r < 0 || r >= h)
                            continue;
                        for (j = 0; j < 4; j++) {
                            const int64_t q = q0 + j;
                            if (q >= 0 && q < w)
                                plane[r * w + q] += d[4 * i + j];
                        }
                    }
                }
            }
        }
    }
}
