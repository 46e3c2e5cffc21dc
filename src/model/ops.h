/* ops.h - the numeric kernels of the engine (GEMM-based convolutions, LSTM, norms) and the
 * small thread pool that splits them across a state's threads. */
#ifndef KK_OPS_H
#define KK_OPS_H

#include <stddef.h>
#include <stdint.h>

typedef struct kk_pool kk_pool;

/* Creates a pool of n threads (n - 1 helpers plus the caller). NULL when out of memory. */
kk_pool *kk_pool_new(int n);
void kk_pool_free(kk_pool *p);
/* Threads the next runs use (1..n). */
int kk_pool_size(const kk_pool *p);
/* Threads the pool has (n): the most a run can use, whatever kk_pool_set_use does meanwhile. */
int kk_pool_threads(const kk_pool *p);
/* Sets the threads later runs use, clamped to 1..n; safe from any thread at any time (a run
 * in progress keeps its count). */
void kk_pool_set_use(kk_pool *p, int n);
/* Working-memory accounting of the owner thread's synthesis (bytes allocated, negative when
 * freed), and its high-water mark (reset: start a new one from what is live now). Only the
 * thread that calls kk_pool_run may use these. */
void kk_pool_mem(kk_pool *p, long delta);
size_t kk_pool_mem_peak(kk_pool *p, int reset);
/* A buffer of at least `floats` floats that the pool keeps from call to call until
 * kk_pool_work_release (slot 0 .. kk_pool_threads(p)), so that a kernel called again and
 * again (the FFT convolution, two dozen times a pass) does not fault in fresh pages each
 * time; its contents are lost when it grows. Its bytes count with kk_pool_mem while held.
 * NULL when out of memory. Owner thread only, like kk_pool_mem. */
float *kk_pool_work(kk_pool *p, int slot, size_t floats);
void kk_pool_work_release(kk_pool *p);
/* Runs fn(i, n, arg) for i in 0..n-1 on the pool's threads and waits for all. */
void kk_pool_run(kk_pool *p, void (*fn)(int i, int n, void *arg), void *arg);

/* C[M][N] = A[M][K] * B[K][N] (+ C when accumulate), row-major, with leading dimensions,
 * split over the pool by columns of N. */
void kk_gemm(kk_pool *p, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
             float *C, int ldc, int accumulate);

/* y[T][out] = x[T][in] * W^T + b (W is [out][in]). */
void kk_linear_rows(kk_pool *p, const float *W, const float *b, int in, int out, const float *x,
                    int T, float *y);

/* 1-D convolution of x [in][T] into y [out][Tout] with zero padding, stride and dilation;
 * w is [out][k][in]. Returns Tout = (T + 2*pad - dil*(k-1) - 1)/stride + 1, or -1 when out of
 * memory. */
int kk_conv1d(kk_pool *p, const float *w, const float *b, int in, int out, int k, int stride,
              int dil, int pad, const float *x, int T, float *y);

/* Winograd F(4,3) form of a "same" convolution (stride 1, odd k >= 3, pad dil*(k-1)/2):
 * kk_wino_transform turns w [out][k][in] into u (kk_wino_size(in, out, k) floats, k/3 * 6 *
 * out * in), the pool's threads sharing the work; kk_conv1d_wino then computes the same y as
 * kk_conv1d and returns 0, or -1 when out of memory. */
size_t kk_wino_size(int in, int out, int k);
void kk_wino_transform(kk_pool *p, const float *w, int in, int out, int k, float *u);
int kk_conv1d_wino(kk_pool *p, const float *u, const float *w, const float *b, int in, int out,
                   int k, int dil, const float *x, int T, float *y);

/* Floats of an 8-bit weight matrix: out[r][c] = (q[r][c] - zero[r]) * scale[r], the pool's
 * threads sharing the rows. */
void kk_dequant(kk_pool *p, const int8_t *q, const float *scale, const float *zero, int rows,
                int cols, float *out);

/* An 8-bit weight matrix [rows][cols] packed for the products below (model/cpu/kernels.h
 * kk_qtile): KK_QG_ROWS-row blocks, each [cols][KK_QG_ROWS], rows padded with zeros to whole
 * pairs of blocks (kk_qw_rows), zero and scale padded alike. w = (q - zero) * scale as in
 * kk_dequant. */
typedef struct {
    int8_t *q;
    float *zero, *scale;
    int rows, cols;
} kk_qw;
int kk_qw_rows(int rows);
/* Packs q [rows][cols] into dst (kk_qw_rows(rows) * cols bytes). */
void kk_qw_pack(const int8_t *q, int rows, int cols, int8_t *dst);
/* The floats of a packed matrix, [rows][cols]: the same values as kk_dequant of its rows. */
void kk_dequant_packed(kk_pool *p, const kk_qw *w, float *out);
/* kk_conv1d and kk_linear_rows with packed 8-bit weights (w: [out][k][in], [out][in]): a row
 * group's weights become floats (kk_dequant's) in a per-thread panel, never a whole layer's;
 * same results as the float path to rounding (tests/engine/test_ops.c). kk_qconv1d returns Tout or -1 (out of
 * memory); kk_qlinear_rows 0 or -1. */
int kk_qconv1d(kk_pool *p, const kk_qw *w, const float *b, int in, int out, int k, int stride,
               int dil, int pad, const float *x, int T, float *y);
int kk_qlinear_rows(kk_pool *p, const kk_qw *w, const float *b, int in, int out, const float *x,
                    int T, float *y);
/* Transposed 1-D convolution, w [in][out][k] (torch layout). y [out][Tout] with
 * Tout = (T-1)*stride - 2*pad + k + outpad. Returns 0, or -1 when out of memory. */
int kk_convt1d(kk_pool *p, const float *w, const float *b, int in, int out, int k, int stride,
               int pad, int outpad, const float *x, int T, float *y); /* 0, or -1 when out of memory */

/* Bidirectional LSTM over x [T][in] -> y [T][2H] (forward half first). wx, wh, b per
 * direction with gate order i, f, g, o. scratch holds at least T*8H floats. Returns 0, or -1
 * when out of memory. */
int kk_bilstm(kk_pool *p, const float *const wx[2], const float *const wh[2], float *const b[2], int in,
              int H, const float *x, int T, float *y, float *scratch);
/* The same with packed 8-bit weights (kk_qw, [4H][in] and [4H][H]), which stay 8-bit: the
 * input projections by kk_qlinear_rows, each step's recurrent product on the integers
 * (kk_kernels.qgemv). Returns 0, or -1 when out of memory. */
int kk_qbilstm(kk_pool *p, const kk_qw *const wx[2], const kk_qw *const wh[2], float *const b[2],
               int in, int H, const float *x, int T, float *y, float *scratch);

/* LayerNorm over the last dimension of x [T][C], in place. g/b may be NULL. */
void kk_layernorm_rows(float *x, int T, int C, const float *g, const float *b, float eps);

/* Instance norm of x [C][T] over time, then (1 + gamma) * xhat + beta per channel. */
void kk_adain(float *x, int C, int T, const float *gamma, const float *beta);

void kk_leaky_relu(float *x, size_t n, float slope);

/* AdaIN then Snake in one pass, out of place: y = snake((1 + gamma) * instnorm(x) + beta). */
void kk_adain_snake(kk_pool *p, const float *x, float *y, int C, int T, const float *gamma,
                    const float *beta, const float *alpha);

/* Snake in place: x + sin^2(alpha_c * x) / alpha_c for x [C][T]. */
void kk_snake(kk_pool *p, float *x, int C, int T, const float *alpha);

/* The same y as kk_conv1d ("same" padding, stride 1, weights w [out][k][in]) by FFT
 * (fftconv.c): for even channel counts and odd k. Returns 0, or -1 when out of memory or the
 * shape is not one it takes. kk_conv1d_fft_useful tells where it is faster. */
int kk_conv1d_fft(kk_pool *p, const float *w, const float *b, int in, int out, int k, int dil,
                  const float *x, int T, float *y);
int kk_conv1d_fft_useful(int in, int out, int k, int T);
/* The same with packed 8-bit weights (kk_qw_pack of [out][k][in]; out a multiple of 16): the
 * filters' spectra made from the integers, no float copy of the layer. */
int kk_conv1d_fft_q(kk_pool *p, const kk_qw *w, const float *b, int in, int out, int k, int dil,
                    const float *x, int T, float *y);

#endif
