/* ops.c - numeric kernels of the engine. Heavy products go to BLAS sgemm; the work is split
 * by output columns over the state's own threads, each calling single-threaded BLAS. */
#include "model/ops.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ thread pool */

struct kk_pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    void (*fn)(int, int, void *);
    void *arg;
    unsigned long gen;
    int pending, quit;
};

typedef struct {
    kk_pool *p;
    int idx;
} worker_arg;

static void *pool_main(void *a)
{
    worker_arg *wa = a;
    kk_pool *p = wa->p;
    int idx = wa->idx;
    free(wa);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->gen == seen) pthread_cond_wait(&p->go, &p->mu);
        if (p->quit) break;
        seen = p->gen;
        void (*fn)(int, int, void *) = p->fn;
        void *arg = p->arg;
        pthread_mutex_unlock(&p->mu);
        fn(idx, p->n, arg);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

kk_pool *kk_pool_new(int n)
{
    if (n < 1) n = 1;
    kk_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    if (n > 1) {
        p->threads = calloc((size_t)n - 1, sizeof *p->threads);
        if (!p->threads) {
            free(p);
            return NULL;
        }
        for (int i = 1; i < n; i++) {
            worker_arg *wa = malloc(sizeof *wa);
            if (!wa || pthread_create(&p->threads[i - 1], NULL, pool_main, wa) != 0) {
                free(wa);
                p->n = i; /* keep the threads that did start */
                break;
            }
            wa->p = p;
            wa->idx = i;
        }
    }
    return p;
}

void kk_pool_free(kk_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->threads[i - 1], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
}

int kk_pool_size(const kk_pool *p) { return p ? p->n : 1; }

void kk_pool_run(kk_pool *p, void (*fn)(int, int, void *), void *arg)
{
    if (!p || p->n == 1) {
        fn(0, 1, arg);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->pending = p->n - 1;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    fn(0, p->n, arg);
    pthread_mutex_lock(&p->mu);
    while (p->pending) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

/* ------------------------------------------------------------------ GEMM */

typedef struct {
    int M, N, K, lda, ldb, ldc, acc;
    const float *A, *B;
    float *C;
} gemm_job;

static void gemm_part(int i, int n, void *arg)
{
    gemm_job *j = arg;
    /* split N in multiples of 16 columns */
    int blocks = (j->N + 15) / 16;
    int b0 = blocks * i / n, b1 = blocks * (i + 1) / n;
    int c0 = b0 * 16, c1 = b1 * 16 < j->N ? b1 * 16 : j->N;
    if (c1 <= c0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->M, c1 - c0, j->K, 1.0f, j->A,
                j->lda, j->B + c0, j->ldb, j->acc ? 1.0f : 0.0f, j->C + c0, j->ldc);
}

void kk_gemm(kk_pool *p, int M, int N, int K, const float *A, int lda, const float *B, int ldb,
             float *C, int ldc, int accumulate)
{
    gemm_job j = {M, N, K, lda, ldb, ldc, accumulate, A, B, C};
    if (!p || p->n == 1 || (long)M * N * K < 200000)
        gemm_part(0, 1, &j);
    else
        kk_pool_run(p, gemm_part, &j);
}

void kk_linear_rows(kk_pool *p, const float *W, const float *b, int in, int out, const float *x,
                    int T, float *y)
{
    (void)p;
    if (b)
        for (int t = 0; t < T; t++) memcpy(y + (size_t)t * out, b, (size_t)out * sizeof *y);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, out, in, 1.0f, x, in, W, in,
                b ? 1.0f : 0.0f, y, out);
}

/* ------------------------------------------------------------------ convolutions */

typedef struct {
    const float *w, *b, *x;
    float *y;
    int in, out, k, stride, dil, pad, T, Tout;
    int failed;
} conv_job;

enum { CONV_BLOCK = 512 }; /* output columns per GEMM: the im2col block stays cache-sized */

/* Each thread takes whole column blocks: builds their im2col rows [(j,c)][t] and runs one
 * GEMM with K = k*in, so every tap of the kernel is one product instead of k. */
static void conv_part(int i, int n, void *arg)
{
    conv_job *j = arg;
    int K = j->k * j->in;
    int blocks = (j->Tout + CONV_BLOCK - 1) / CONV_BLOCK;
    int b0 = blocks * i / n, b1 = blocks * (i + 1) / n;
    if (b1 <= b0) return;
    float *col = malloc((size_t)K * CONV_BLOCK * sizeof *col);
    if (!col) {
        j->failed = 1;
        return;
    }
    for (int bl = b0; bl < b1; bl++) {
        int t0 = bl * CONV_BLOCK, nb = j->Tout - t0 < CONV_BLOCK ? j->Tout - t0 : CONV_BLOCK;
        for (int tap = 0; tap < j->k; tap++)
            for (int c = 0; c < j->in; c++) {
                float *dst = col + ((size_t)tap * j->in + c) * nb;
                const float *src = j->x + (size_t)c * j->T;
                int off = tap * j->dil - j->pad;
                if (j->stride == 1) {
                    int lo = -(t0 + off), hi = j->T - (t0 + off); /* valid tt in [lo, hi) */
                    if (lo < 0) lo = 0;
                    if (hi > nb) hi = nb;
                    if (hi < lo) hi = lo;
                    memset(dst, 0, (size_t)lo * sizeof *dst);
                    memcpy(dst + lo, src + t0 + off + lo, (size_t)(hi - lo) * sizeof *dst);
                    memset(dst + hi, 0, (size_t)(nb - hi) * sizeof *dst);
                } else {
                    for (int tt = 0; tt < nb; tt++) {
                        int ti = (t0 + tt) * j->stride + off;
                        dst[tt] = ti >= 0 && ti < j->T ? src[ti] : 0.0f;
                    }
                }
            }
        for (int o = 0; o < j->out; o++) {
            float bv = j->b ? j->b[o] : 0.0f, *r = j->y + (size_t)o * j->Tout + t0;
            for (int tt = 0; tt < nb; tt++) r[tt] = bv;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->out, nb, K, 1.0f, j->w, K, col,
                    nb, 1.0f, j->y + t0, j->Tout);
    }
    free(col);
}

int kk_conv1d(kk_pool *p, const float *w, const float *b, int in, int out, int k, int stride,
              int dil, int pad, const float *x, int T, float *y)
{
    int Tout = (T + 2 * pad - dil * (k - 1) - 1) / stride + 1;
    if (Tout < 1) return -1;
    conv_job j = {w, b, x, y, in, out, k, stride, dil, pad, T, Tout, 0};
    if ((long)out * Tout * in * k < 100000 || !p)
        conv_part(0, 1, &j);
    else
        kk_pool_run(p, conv_part, &j);
    return j.failed ? -1 : Tout;
}

typedef struct {
    const float *w, *x;
    float *y;
    int in, out, k, stride, pad, T, Tout;
    float *cols; /* [out*k][T] */
} convt_job;

int kk_convt1d(kk_pool *p, const float *w, const float *b, int in, int out, int k, int stride,
               int pad, int outpad, const float *x, int T, float *y)
{
    int Tout = (T - 1) * stride - 2 * pad + k + outpad;
    /* cols[(o,j)][t] = sum_c w[c][o][j] x[c][t]: one GEMM with A = w^T viewed [out*k][in] */
    float *wt = malloc((size_t)out * k * in * sizeof *wt);
    float *cols = malloc((size_t)out * k * T * sizeof *cols);
    if (!wt || !cols) {
        free(wt);
        free(cols);
        return -1;
    }
    for (int c = 0; c < in; c++)
        for (int ok = 0; ok < out * k; ok++) wt[(size_t)ok * in + c] = w[(size_t)c * out * k + ok];
    kk_gemm(p, out * k, T, in, wt, in, x, T, cols, T, 0);
    for (int o = 0; o < out; o++) {
        float *r = y + (size_t)o * Tout;
        float bv = b ? b[o] : 0.0f;
        for (int t = 0; t < Tout; t++) r[t] = bv;
        for (int j = 0; j < k; j++) {
            const float *cr = cols + ((size_t)o * k + j) * T;
            for (int t = 0; t < T; t++) {
                int to = t * stride + j - pad;
                if (to >= 0 && to < Tout) r[to] += cr[t];
            }
        }
    }
    free(wt);
    free(cols);
    return 0;
}

/* ------------------------------------------------------------------ LSTM */

static inline float sigm(float v) { return 1.0f / (1.0f + expf(-v)); }

typedef struct {
    float *const *wh;
    const float *gx; /* [2][T][4H] input projections incl. bias */
    float *y;
    int T, H;
} lstm_job;

static void lstm_dir(int d, int n, void *arg)
{
    lstm_job *j = arg;
    int H = j->H, T = j->T;
    (void)n;
    float *h = calloc((size_t)H, sizeof *h), *c = calloc((size_t)H, sizeof *c);
    float *g = malloc((size_t)4 * H * sizeof *g);
    if (!h || !c || !g) abort();
    const float *wh = j->wh[d];
    for (int s = 0; s < T; s++) {
        int t = d == 0 ? s : T - 1 - s;
        memcpy(g, j->gx + ((size_t)d * T + t) * 4 * H, (size_t)4 * H * sizeof *g);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, 4 * H, H, 1.0f, wh, H, h, 1, 1.0f, g, 1);
        float *out = j->y + (size_t)t * 2 * H + (size_t)d * H;
        for (int u = 0; u < H; u++) {
            float ig = sigm(g[u]), fg = sigm(g[H + u]), gg = tanhf(g[2 * H + u]),
                  og = sigm(g[3 * H + u]);
            c[u] = fg * c[u] + ig * gg;
            h[u] = og * tanhf(c[u]);
            out[u] = h[u];
        }
    }
    free(h);
    free(c);
    free(g);
}

static void lstm_both(int i, int n, void *arg)
{
    if (n >= 2) {
        if (i < 2) lstm_dir(i, 2, arg);
    } else {
        lstm_dir(0, 1, arg);
        lstm_dir(1, 1, arg);
    }
}

void kk_bilstm(kk_pool *p, float *const wx[2], float *const wh[2], float *const b[2], int in,
               int H, const float *x, int T, float *y, float *scratch)
{
    for (int d = 0; d < 2; d++)
        kk_linear_rows(p, wx[d], b[d], in, 4 * H, x, T, scratch + (size_t)d * T * 4 * H);
    lstm_job j = {wh, scratch, y, T, H};
    kk_pool_run(p, lstm_both, &j);
}

/* ------------------------------------------------------------------ norms, activations */

void kk_layernorm_rows(float *x, int T, int C, const float *g, const float *b, float eps)
{
    for (int t = 0; t < T; t++) {
        float *r = x + (size_t)t * C;
        double mean = 0, var = 0;
        for (int c = 0; c < C; c++) mean += r[c];
        mean /= C;
        for (int c = 0; c < C; c++) var += (r[c] - mean) * (r[c] - mean);
        var /= C;
        float inv = (float)(1.0 / sqrt(var + eps)), m = (float)mean;
        for (int c = 0; c < C; c++) {
            float v = (r[c] - m) * inv;
            r[c] = g ? v * g[c] + (b ? b[c] : 0.0f) : v;
        }
    }
}

void kk_adain(float *x, int C, int T, const float *gamma, const float *beta)
{
    for (int c = 0; c < C; c++) {
        float *r = x + (size_t)c * T;
        double mean = 0, var = 0;
        for (int t = 0; t < T; t++) mean += r[t];
        mean /= T;
        for (int t = 0; t < T; t++) var += (r[t] - mean) * (r[t] - mean);
        var /= T;
        float inv = (float)(1.0 / sqrt(var + 1e-5)), m = (float)mean;
        float ga = 1.0f + gamma[c], be = beta[c];
        for (int t = 0; t < T; t++) r[t] = ga * ((r[t] - m) * inv) + be;
    }
}

void kk_leaky_relu(float *x, size_t n, float slope)
{
    for (size_t i = 0; i < n; i++)
        if (x[i] < 0) x[i] *= slope;
}

typedef struct {
    float *x;
    const float *alpha;
    int C, T;
} snake_job;

/* sin^2 of a float, vectorisable: reduce by multiples of pi (sin^2 has period pi, so the
 * sign of the reduction does not matter), then an odd polynomial on [-pi/2, pi/2]
 * (absolute error below 2e-7 there). */
static inline float sin2f(float x)
{
    const float inv_pi = 0.31830988618379067f, pi_hi = 3.140625f,
                pi_lo = 9.67653589793e-4f;
    float k = floorf(x * inv_pi + 0.5f);
    float r = (x - k * pi_hi) - k * pi_lo;
    float r2 = r * r;
    float p = -2.5052108385e-8f;
    p = p * r2 + 2.7557319224e-6f;
    p = p * r2 - 1.9841269841e-4f;
    p = p * r2 + 8.3333333333e-3f;
    p = p * r2 - 1.6666666667e-1f;
    float sn = r + r * r2 * p;
    return sn * sn;
}

static void snake_row(float *restrict x, int T, float a)
{
    float ia = 1.0f / a;
    for (int t = 0; t < T; t++) x[t] += ia * sin2f(a * x[t]);
}

static void snake_part(int i, int n, void *arg)
{
    snake_job *j = arg;
    int c0 = j->C * i / n, c1 = j->C * (i + 1) / n;
    for (int c = c0; c < c1; c++) snake_row(j->x + (size_t)c * j->T, j->T, j->alpha[c]);
}

void kk_snake(kk_pool *p, float *x, int C, int T, const float *alpha)
{
    snake_job j = {x, alpha, C, T};
    kk_pool_run(p, snake_part, &j);
}
