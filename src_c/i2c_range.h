/* im2col_ext: the window-range arithmetic shared by the kernel files
 * (im2col_ext.c, depthwise.c, winograd.c).  Internal: not part of the kernels' API. */
#ifndef I2C_RANGE_H
#define I2C_RANGE_H

#include <stdint.h>

/* The range [*lo, *hi) of k in [0, count) for which off + k*step lies in
 * [0, size).  step >= 1, count >= 0, size >= 1; *lo <= *hi always.
 * Used both ways: ox range of a tap (step = sw) and tap range of a window
 * (step = dilation). */
static void i2c_range(int64_t off, int64_t step, int64_t size, int64_t count,
                      int64_t *lo, int64_t *hi)
{
    int64_t a, b;
    if (step == 1) {
        a = off >= 0 ? 0 : -off;
        b = size - off;                    /* first k with off + k >= size */
    } else {
        a = off >= 0 ? 0 : (-off + step - 1) / step;
        b = size - 1 - off < 0 ? 0 : (size - 1 - off) / step + 1;
    }
    if (b > count)
        b = count;
    if (a > count)
        a = count;
    if (b < a)
        b = a;
    *lo = a;
    *hi = b;
}

#endif /* I2C_RANGE_H */
