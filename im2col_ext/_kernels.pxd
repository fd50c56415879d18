# Extern-only declarations of the plain C kernels (src_c/im2col_ext.h).
# The meaning of every field and argument is documented in that header.

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t


cdef extern from "im2col_ext.h" nogil:
    ctypedef struct i2c_geom:
        int64_t n, c, h, w, v
        int64_t kh, kw
        int64_t oh, ow
        int64_t sh, sw
        int64_t ph, pw
        int64_t dh, dw
        int64_t xs[5]
        int64_t cs[7]

    ctypedef struct i2c_win:
        int64_t n, c, v
        int64_t size[3]
        int64_t k[3]
        int64_t o[3]
        int64_t s[3]
        int64_t p[3]
        int64_t d[3]
        int64_t xs[6]
        int64_t cs[9]

    void i2c_gather_b1(const void *x, void *cols, const i2c_win *w, int num_threads)
    void i2c_gather_b2(const void *x, void *cols, const i2c_win *w, int num_threads)
    void i2c_gather_b4(const void *x, void *cols, const i2c_win *w, int num_threads)
    void i2c_gather_b8(const void *x, void *cols, const i2c_win *w, int num_threads)
    void i2c_gather_b16(const void *x, void *cols, const i2c_win *w, int num_threads)

    enum:
        I2C_PAD_ZEROS
        I2C_PAD_CONSTANT
        I2C_PAD_REFLECT
        I2C_PAD_REPLICATE
        I2C_PAD_CIRCULAR
        I2C_FRESH_COLS

    void i2c_gather_mode_b1(const void *x, void *cols, const i2c_win *w, int mode, const void *value, int num_threads)
    void i2c_gather_mode_b2(const void *x, void *cols, const i2c_win *w, int mode, const void *value, int num_threads)
    void i2c_gather_mode_b4(const void *x, void *cols, const i2c_win *w, int mode, const void *value, int num_threads)
    void i2c_gather_mode_b8(const void *x, void *cols, const i2c_win *w, int mode, const void *value, int num_threads)
    void i2c_gather_mode_b16(const void *x, void *cols, const i2c_win *w, int mode, const void *value, int num_threads)

    void i2c_accumulate_f32(const float *cols, float *x, const i2c_win *w, int num_threads)
    void i2c_accumulate_f64(const double *cols, double *x, const i2c_win *w, int num_threads)
    void i2c_accumulate_i64(const int64_t *cols, int64_t *x, const i2c_win *w, int num_threads)
    void i2c_accumulate_u64(const uint64_t *cols, uint64_t *x, const i2c_win *w, int num_threads)
    void i2c_accumulate_i8_i64(const int8_t *cols, int64_t *x, const i2c_win *w, int num_threads)
    void i2c_accumulate_i16_i64(const int16_t *cols, int64_t *x, const i2c_win *w, int num_threads)
    void i2c_accumulate_i32_i64(const int32_t *cols, int64_t *x, const i2c_win *w, int num_threads)
    void i2c_accumulate_u8_i64(const uint8_t *cols, int64_t *x, const i2c_win *w, int num_threads)
    void i2c_accumulate_u8_u64(const uint8_t *cols, uint64_t *x, const i2c_win *w, int num_threads)
    void i2c_accumulate_u16_u64(const uint16_t *cols, uint64_t *x, const i2c_win *w, int num_threads)
    void i2c_accumulate_u32_u64(const uint32_t *cols, uint64_t *x, const i2c_win *w, int num_threads)
    void i2c_accumulate_f16_f32(const uint16_t *cols, float *x, const i2c_win *w, int num_threads)

    void i2c_max_pool_forward_f32(const float *x, float *out, int64_t *argmax, const i2c_geom *g, int num_threads)
    void i2c_max_pool_forward_f64(const double *x, double *out, int64_t *argmax, const i2c_geom *g, int num_threads)

    void i2c_max_pool_scatter_f32(const float *dout, const int64_t *argmax, float *dx, const i2c_geom *g, int num_threads)
    void i2c_max_pool_scatter_f64(const double *dout, const int64_t *argmax, double *dx, const i2c_geom *g, int num_threads)

    void i2c_max_pool_tie_scatter_f32(const float *x, const float *out, const float *dout, float *dx, const i2c_geom *g, int num_threads)
    void i2c_max_pool_tie_scatter_f64(const double *x, const double *out, const double *dout, double *dx, const i2c_geom *g, int num_threads)

    void i2c_avg_pool_forward_f32(const float *x, float *out, const i2c_geom *g, int num_threads)
    void i2c_avg_pool_forward_f64(const double *x, double *out, const i2c_geom *g, int num_threads)

    void i2c_avg_pool_scatter_f32(const float *dout, float *dx, const i2c_geom *g, int num_threads)
    void i2c_avg_pool_scatter_f64(const double *dout, double *dx, const i2c_geom *g, int num_threads)


# Three build queries defined in im2col_ext.c but not part of the kernel
# contract in im2col_ext.h; their prototypes are emitted verbatim here.
cdef extern from *:
    """
    int i2c_openmp_enabled(void);
    int i2c_default_num_threads(void);
    long long i2c_stream_min_bytes(void);
    """
    int i2c_openmp_enabled()
    int i2c_default_num_threads()
    long long i2c_stream_min_bytes()


# Build description (a JSON object as a C string literal) that setup.py
# writes into the build directory before compiling.
cdef extern from "im2col_ext_build_info.h":
    const char *I2C_BUILD_INFO_JSON


# ---------------------------------------------------------------- Winograd
# The F(2x2, 3x3) and F(4x4, 3x3) transforms of src_c/winograd.h (used by im2col_ext._winograd).

cdef extern from "winograd.h" nogil:
    ctypedef struct i2c_wino_geom:
        int64_t n
        int64_t h, w
        int64_t ph, pw
        int64_t oh, ow
        int64_t th, tw
        int64_t m
        int64_t ks

    void i2c_wino_input_f32(const float *x, float *tiles, int64_t c, const i2c_wino_geom *g, int num_threads)
    void i2c_wino_input_f64(const double *x, double *tiles, int64_t c, const i2c_wino_geom *g, int num_threads)
    void i2c_wino_output_f32(const float *m, const float *bias, float *y, int64_t c, const i2c_wino_geom *g, int num_threads)
    void i2c_wino_output_f64(const double *m, const double *bias, double *y, int64_t c, const i2c_wino_geom *g, int num_threads)
    void i2c_wino_output_adjoint_f32(const float *dy, float *dm, int64_t c, const i2c_wino_geom *g, int num_threads)
    void i2c_wino_output_adjoint_f64(const double *dy, double *dm, int64_t c, const i2c_wino_geom *g, int num_threads)
    void i2c_wino_input_adjoint_f32(const float *dv, float *dx, int64_t c, const i2c_wino_geom *g, int num_threads)
    void i2c_wino_input_adjoint_f64(const double *dv, double *dx, int64_t c, const i2c_wino_geom *g, int num_threads)


# ---------------------------------------------------------------- depthwise
# The direct depthwise convolution of src_c/depthwise.h (i2c_win geometry,
# C-contiguous arrays; used through im2col_ext._api._depthwise_*).

cdef extern from "depthwise.h" nogil:
    void i2c_depthwise_forward_f32(const float *x, const float *wt, const float *bias, float *out, const i2c_win *w, int num_threads)
    void i2c_depthwise_forward_f64(const double *x, const double *wt, const double *bias, double *out, const i2c_win *w, int num_threads)
    void i2c_depthwise_backward_f32(const float *x, const float *wt, const float *dout, float *dx, float *dw, const i2c_win *w, int num_threads)
    void i2c_depthwise_backward_f64(const double *x, const double *wt, const double *dout, double *dx, double *dw, const i2c_win *w, int num_threads)
