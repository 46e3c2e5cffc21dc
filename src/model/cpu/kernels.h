/* kernels.h - the engine's hot inner loops behind one table of function pointers, with one
 * back end per instruction set (generic C, AVX2 + FMA, AVX-512, NEON), chosen once per process
 * by kk_cpu_init from the CPU's features or KOKORO_CPU. ops.c calls them through kk_kern.
 *
 * The rest of the build targets a baseline (x86-64-v2, armv8-a), so that one binary runs on
 * any CPU of its architecture; only the back-end files use wider instructions, and only after
 * the CPU was checked to have them (tests/engine/check_portable.sh checks the binary). */
#ifndef KK_KERNELS_H
#define KK_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Transforms whose butterflies run together in fft_rows (fftconv.c lays its buffers out so). */
#define KK_FFT_V 32
/* Frequencies of the filters' spectra one wspec_bins call makes at most. */
#define KK_WS_B 4

/* One product with 8-bit weights (ops.c kk_qconv1d, kk_qlinear_rows), read by qgemm_tile:
 * y[m][n] = scale[m] * sum_k (q[m][k] - zero[m]) * B(k, n) + bias[m], for m < M, n < N, where
 * k = tap * in + c and B(k, n) = x[c * ld + tap * dil + n * sn]. The weights are packed at load
 * in blocks of KK_QG_ROWS rows, each [K][KK_QG_ROWS] (block b at q + b * K * KK_QG_ROWS), zero
 * and scale padded with them to whole pairs of blocks (the padding rows are zero). The
 * weights stay 8-bit in memory; a row group's floats exist only in a per-thread panel while
 * its tiles run. */
#define KK_QG_ROWS 16
/* Columns of a tile (kk_kernels.qg_nr) on any back end at most. */
#define KK_QG_NR_MAX 12
typedef struct {
    const int8_t *q;
    const float *zero, *scale, *bias; /* bias may be NULL */
    const float *x;
    int in, taps, dil, ld, sn;
    float *y;
    size_t ym, yn; /* y[m][n] is y[m * ym + n * yn] */
    int M, N;
} kk_qtile;

/* Every kernel works on one row (or one block of tiles); the pool splits rows in ops.c. */
typedef struct kk_kernels {
    const char *name; /* the KOKORO_CPU value that selects it */
    /* Winograd F(4,3) input transform B^T z of nb tiles: six input runs -> six rows. */
    void (*wino_in)(float *restrict v0, float *restrict v1, float *restrict v2,
                    float *restrict v3, float *restrict v4, float *restrict v5,
                    const float *restrict z0, const float *restrict z1, const float *restrict z2,
                    const float *restrict z3, const float *restrict z4, const float *restrict z5,
                    int nb);
    /* Winograd F(4,3) output transform A^T m of nb tiles, added to four output rows. */
    void (*wino_out)(float *restrict y0, float *restrict y1, float *restrict y2,
                     float *restrict y3, const float *restrict m0, const float *restrict m1,
                     const float *restrict m2, const float *restrict m3, const float *restrict m4,
                     const float *restrict m5, int nb);
    /* Mean and biased variance of r[0..T). */
    void (*row_stats)(const float *r, int T, double *mean, double *var);
    /* Normalise and scale a row in place: x = ga * ((x - mean) * inv) + be. */
    void (*norm_affine)(float *x, int T, float mean, float inv, float ga, float be);
    /* Snake in place: x + sin^2(a x) / a. */
    void (*snake)(float *x, int T, float a);
    /* y = snake(scale * x + shift) with parameter a (AdaIN folded into scale and shift). */
    void (*affine_snake)(const float *x, float *y, int T, float scale, float shift, float a);
    void (*leaky_relu)(float *x, size_t n, float slope);
    /* LayerNorm of one row of C values in place; g and b may be NULL. */
    void (*layernorm)(float *x, int C, const float *g, const float *b, float eps);
    /* One LSTM step from the gate pre-activations g [4H] (i, f, g, o): updates c and h and
     * copies h to out. */
    void (*lstm_cell)(const float *g, float *c, float *h, float *out, int H);
    /* Radix-2 FFTs of KK_FFT_V sequences of length N at once: re and im are [N][KK_FFT_V],
     * rows in bit-reversed order; cr + i ci = e^{-2 pi i t / N} for t < N / 2. */
    void (*fft_rows)(float *re, float *im, int N, const float *cr, const float *ci);
    /* The conjugate spectra at nb <= KK_WS_B frequencies of one output's filters w [k][in]
     * (tap-major), given c[b k + t] + i s[b k + t] = e^{-2 pi i f_b t / N}: frequency b's
     * wr = Re, ws = Re + Im', wd = Im' - Re at + b fstride, where Im' = -Im (fftconv.c's
     * three-product layout). */
    void (*wspec_bins)(float *wr, float *ws, float *wd, size_t fstride, const float *w, int k,
                       int in, const float *c, const float *s, int nb);
    /* The same spectra from 8-bit weights: the 16 rows of one block of a packed matrix
     * (kk_qw_pack, taps side by side: column t in + i), qb its first byte, zero and scale its
     * rows': (q - zero) scale. Transposed: row r's value for input i at + i ld + r. */
    void (*wspec_q)(float *wr, float *ws, float *wd, size_t fstride, size_t ld,
                    const int8_t *qb, const float *zero, const float *scale, int k, int in,
                    const float *c, const float *s, int nb);
    /* The overlap-save steps around fft_rows (fftconv.c has the layout). Gather: row rev[n],
     * lane v < nv of re / im takes sample u = u0 + v L + n of x1 / x2 (every d-th float),
     * zero where u is outside [0, Tp). */
    void (*fft_gather)(float *re, float *im, const float *x1, const float *x2, int N,
                       const int *rev, int u0, int L, int d, int Tp, int nv);
    /* Two real windows' spectra from one complex FFT: for bins f <= N/2, lanes v < nv, the
     * spectrum of x1 goes to z + f zbin (Re, at + part Im, at + 2 part Re + Im), x2's G
     * floats after each. */
    void (*fft_split)(const float *re, const float *im, int N, int nv, float *z, size_t zbin,
                      size_t part, size_t G);
    /* The inverse's input: two outputs' half spectra (laid out as fft_split's) made into one
     * full complex spectrum, conjugated, in bit-reversed rows of re / im (zeroed first). */
    void (*fft_merge)(float *re, float *im, const float *y, int N, const int *rev, int nv,
                      size_t ybin, size_t part, size_t G);
    /* The inverse's output: lane v, row n < L is sample u = u0 + v L + n (< Tp) of y1 / y2
     * (every d-th float): y1 = b1 + scale re, y2 = b2 - scale im. */
    void (*fft_scatter)(float *y1, float *y2, const float *re, const float *im, int u0, int L,
                        int d, int Tp, int nv, float b1, float b2, float scale);
    /* GELU, tanh form, in place: x / (1 + e^(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3), which
     * is 0.5 x (1 + tanh u) (relative error within 2e-7 x (2 + |2u|): the float argument's
     * rounding, which e^x carries; tests/engine/test_ops.c). */
    void (*gelu)(float *x, size_t n);
    /* The floats of qg_nb blocks of KK_QG_ROWS rows from block blk of g's weights into panel
     * [K][qg_nb * KK_QG_ROWS]: (q - zero) * scale. */
    void (*qg_panel)(const kk_qtile *g, int blk, float *panel);
    /* Those rows (their panel) times qg_nr columns from n0 of the product g, + bias: reads
     * B's columns n0 .. n0 + qg_nr - 1 whatever N (the caller pads x), and writes y only for
     * m < M, n < N. qg_nb * qg_nr accumulators fill the vector registers. */
    void (*qgemm_tile)(const kk_qtile *g, const float *panel, int blk, int n0);
    /* The same from the weights themselves, for a few tiles per row group: (q - zero) * scale
     * made in registers as each is used, so the results are the panel's bit for bit. */
    void (*qgemm_tile_q)(const kk_qtile *g, int blk, int n0);
    /* y[m] += scale[m] sum_k (q[m][k] - zero[m]) x[k] for m < rows, q [K] packed as kk_qtile's
     * (an LSTM's recurrent product, one step). */
    void (*qgemv)(const int8_t *q, const float *zero, const float *scale, int rows, int K,
                  const float *x, float *y);
    int qg_nb, qg_nr;
} kk_kernels;

/* The back ends compiled into this build (each defined by its file under src/model/cpu/). */
extern const kk_kernels kk_kernels_generic;
#if defined(__x86_64__)
extern const kk_kernels kk_kernels_avx2, kk_kernels_avx512;
#endif
#if defined(__aarch64__)
extern const kk_kernels kk_kernels_neon;
#endif

/* The chosen back end; the generic one until kk_cpu_init has run. */
extern const kk_kernels *kk_kern;

/* Chooses the back end once per process (later calls return the first call's result; thread
 * safe): KOKORO_CPU=generic|avx2|avx512|neon forces one, unset or "auto" takes the best this
 * CPU offers. Returns 0, or KOKORO_E_UNSUPPORTED with a message naming the paths this CPU
 * offers when the forced path is unknown, not built in, or not supported by the CPU. */
int kk_cpu_init(char *err, size_t errlen);

/* The name of the chosen back end ("generic" before kk_cpu_init). */
const char *kk_cpu_name(void);

/* Writes the names of the back ends this build and CPU can run, best first, separated by
 * spaces, into buf (always NUL-terminated); returns buf. */
char *kk_cpu_paths(char *buf, size_t n);

#endif
