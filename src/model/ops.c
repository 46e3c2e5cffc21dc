/* ops.c - numeric kernels of the engine. Heavy products go to BLAS sgemm; the work is split
 * by output columns over the state's own threads, each calling single-threaded BLAS. The
 * elementwise inner loops are the CPU back end's (kk_kern, src/model/cpu/kernels.h). */
#include "model/ops.h"
#include "model/cpu/kernels.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ thread pool */

struct kk_pool {
    int n;          /* threads that exist (the caller included) */
    atomic_int use; /* threads a run may use, 1..n: set by the owner's scheduler */
    int cur;        /* threads of the run in progress, under mu */
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    void (*fn)(int, int, void *);
    void *arg;
    unsigned long gen;       /* runs started, under mu */
    atomic_ulong agen;       /* the same, read by spinning threads without the lock */
    atomic_int pending;      /* helpers of the run in progress still working */
    int caller_sleeps, quit; /* under mu */
    size_t mem_live, mem_peak; /* working memory of the owner's synthesis, see kk_pool_mem */
    float **work;              /* n + 1 buffers kept from run to run, see kk_pool_work */
    size_t *work_n;            /* their floats */
};

typedef struct {
    kk_pool *p;
    int idx;
} worker_arg;

/* How long a thread that just worked, or a caller waiting for its helpers, polls before it
 * sleeps on the condition variable. A short synthesis makes about 800 runs; sleeping through
 * each gap between them cost a futex wake-up of tens of microseconds on each side, and a
 * context switch (16,000 for 21 syntheses of "Hello from Kokoro." at 2 threads). Only a
 * thread that was in the last run spins, so a pool whose owner was given fewer cores than it
 * has threads leaves the others asleep. */
#define POOL_SPIN_NS 100000

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static long long mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Polls until cond(p, v) holds or POOL_SPIN_NS pass; returns whether it held. */
static int spin_until(int (*cond)(kk_pool *, unsigned long), kk_pool *p, unsigned long v)
{
    long long until = 0;
    for (int i = 0;; i++) {
        if (cond(p, v)) return 1;
        if ((i & 63) == 0) {
            long long t = mono_ns();
            if (!until)
                until = t + POOL_SPIN_NS;
            else if (t > until)
                return 0;
        }
        cpu_relax();
    }
}

static int new_run(kk_pool *p, unsigned long seen) { return atomic_load(&p->agen) != seen; }
static int helpers_done(kk_pool *p, unsigned long unused) { return atomic_load(&p->pending) == 0; }

static void *pool_main(void *a)
{
    worker_arg *wa = a;
    kk_pool *p = wa->p;
    int idx = wa->idx;
    free(wa);
    unsigned long seen = 0;
    int worked = 0;
    for (;;) {
        if (worked) spin_until(new_run, p, seen);
        pthread_mutex_lock(&p->mu);
        while (!p->quit && p->gen == seen) pthread_cond_wait(&p->go, &p->mu);
        if (p->quit) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        seen = p->gen;
        int cur = p->cur;
        void (*fn)(int, int, void *) = p->fn;
        void *arg = p->arg;
        pthread_mutex_unlock(&p->mu);
        worked = idx < cur;
        if (!worked) continue; /* not in use this run: nobody waits for it */
        fn(idx, cur, arg);
        /* under the mutex, so that the caller's lock after it orders this run's writes before
         * whatever the caller does next, for ThreadSanitizer too (the library is not built with
         * it, so it sees the mutex, not the atomic) */
        pthread_mutex_lock(&p->mu);
        if (atomic_fetch_sub(&p->pending, 1) == 1 && p->caller_sleeps)
            pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

kk_pool *kk_pool_new(int n)
{
    if (n < 1) n = 1;
    kk_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n;
    p->work = calloc((size_t)n + 1, sizeof *p->work);
    p->work_n = calloc((size_t)n + 1, sizeof *p->work_n);
    if (!p->work || !p->work_n) {
        free(p->work);
        free(p->work_n);
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    if (n > 1) {
        p->threads = calloc((size_t)n - 1, sizeof *p->threads);
        if (!p->threads) {
            free(p->work);
            free(p->work_n);
            free(p);
            return NULL;
        }
        for (int i = 1; i < n; i++) {
            worker_arg *wa = malloc(sizeof *wa);
            if (wa) {
                wa->p = p;
                wa->idx = i;
            }
            if (!wa || pthread_create(&p->threads[i - 1], NULL, pool_main, wa) != 0) {
                free(wa);
                p->n = i; /* keep the threads that did start */
                break;
            }
        }
    }
    atomic_store(&p->use, p->n);
    return p;
}

void kk_pool_set_use(kk_pool *p, int n)
{
    if (!p) return;
    atomic_store(&p->use, n < 1 ? 1 : n > p->n ? p->n : n);
}

void kk_pool_mem(kk_pool *p, long delta)
{
    if (!p) return;
    p->mem_live += (size_t)delta;
    if (p->mem_live > p->mem_peak) p->mem_peak = p->mem_live;
}

size_t kk_pool_mem_peak(kk_pool *p, int reset)
{
    if (!p) return 0;
    size_t peak = p->mem_peak;
    if (reset) p->mem_peak = p->mem_live;
    return peak;
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
    kk_pool_work_release(p);
    free(p->work);
    free(p->work_n);
    free(p);
}

static void work_drop(kk_pool *p, int slot)
{
    kk_pool_mem(p, -(long)(p->work_n[slot] * sizeof(float)));
    free(p->work[slot]);
    p->work[slot] = NULL;
    p->work_n[slot] = 0;
}

float *kk_pool_work(kk_pool *p, int slot, size_t floats)
{
    if (!p || slot < 0 || slot > p->n) return NULL;
    if (p->work_n[slot] < floats) {
        work_drop(p, slot);
        if (!(p->work[slot] = malloc(floats * sizeof(float)))) return NULL;
        p->work_n[slot] = floats;
        kk_pool_mem(p, (long)(floats * sizeof(float)));
    }
    return p->work[slot];
}

void kk_pool_work_release(kk_pool *p)
{
    if (!p) return;
    for (int i = 0; i <= p->n; i++) work_drop(p, i);
}

int kk_pool_size(const kk_pool *p) { return p ? atomic_load(&((kk_pool *)p)->use) : 1; }

int kk_pool_threads(const kk_pool *p) { return p ? p->n : 1; }

/* A run uses the first `use` threads; the others wake, see they are not needed and sleep on,
 * so a pool sized for the whole machine costs next to nothing while its owner shares cores. */
void kk_pool_run(kk_pool *p, void (*fn)(int, int, void *), void *arg)
{
    int use = p ? atomic_load(&p->use) : 1;
    if (use <= 1) {
        fn(0, 1, arg);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->cur = use;
    atomic_store(&p->pending, use - 1);
    p->gen++;
    atomic_store(&p->agen, p->gen);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    fn(0, use, arg);
    spin_until(helpers_done, p, 0); /* then the lock: uncontended once the helpers are done */
    pthread_mutex_lock(&p->mu);
    p->caller_sleeps = 1;
    while (atomic_load(&p->pending)) pthread_cond_wait(&p->done, &p->mu);
    p->caller_sleeps = 0;
    pthread_mutex_unlock(&p->mu);
}

/* ------------------------------------------------------------------ GEMM */

typedef struct {
    int M, N, K, lda, ldb, ldc, acc;
    const float *A, *B;
    float *C;
} gemm_job;

/* Thread i of n's share [*c0, *c1) of N columns, in whole vectors of 16. */
static void share16(int N, int i, int n, int *c0, int *c1)
{
    int blocks = (N + 15) / 16;
    int b0 = blocks * i / n, b1 = blocks * (i + 1) / n;
    *c0 = b0 * 16;
    *c1 = b1 * 16 < N ? b1 * 16 : N;
}

static void gemm_part(int i, int n, void *arg)
{
    gemm_job *j = arg;
    int c0, c1;
    share16(j->N, i, n, &c0, &c1);
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

typedef struct {
    const float *W, *b, *x;
    float *y;
    int in, out, T;
} linear_job;

/* One thread's share of a linear layer: all rows of x, its share of the outputs (whole
 * vectors of 16). BLAS packs the W it is given on every call, so when the threads split the
 * rows instead, each packed all of W: with ALBERT's dozen tokens that packing was most of the
 * work ("Hi." at 2 threads: ALBERT 53 ms, now 31; the 303-id bench paragraph 604 ms, now 557). */
static void linear_part(int i, int n, void *arg)
{
    linear_job *j = arg;
    int o0, o1;
    share16(j->out, i, n, &o0, &o1);
    if (o1 <= o0) return;
    if (j->b)
        for (int t = 0; t < j->T; t++)
            memcpy(j->y + (size_t)t * j->out + o0, j->b + o0, (size_t)(o1 - o0) * sizeof *j->y);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->T, o1 - o0, j->in, 1.0f, j->x, j->in,
                j->W + (size_t)o0 * j->in, j->in, j->b ? 1.0f : 0.0f, j->y + o0, j->out);
}

void kk_linear_rows(kk_pool *p, const float *W, const float *b, int in, int out, const float *x,
                    int T, float *y)
{
    linear_job j = {W, b, x, y, in, out, T};
    if (!p || (long)T * in * out < 200000)
        linear_part(0, 1, &j);
    else
        kk_pool_run(p, linear_part, &j);
}

/* ------------------------------------------------------------------ convolutions */

typedef struct {
    const float *w, *b, *x;
    float *y;
    int in, out, k, stride, dil, off, T, Tout, accumulate;
    int failed;
} conv_job;

enum { CONV_BLOCK = 512 }; /* output columns per GEMM: the im2col block stays cache-sized */

/* d[v] = src[s0 + v] for v < n, zero where s0 + v is outside [0, T): a row's run with its
 * zero padding (im2col, and the 8-bit product's source block). */
static void padded_run(float *d, const float *src, int T, int s0, int n)
{
    int lo = -s0, hi = T - s0; /* valid v in [lo, hi) */
    if (lo < 0) lo = 0;
    if (hi > n) hi = n;
    if (hi < lo) hi = lo;
    if (lo > n) lo = hi = n;
    memset(d, 0, (size_t)lo * sizeof *d);
    memcpy(d + lo, src + s0 + lo, (size_t)(hi - lo) * sizeof *d);
    memset(d + hi, 0, (size_t)(n - hi) * sizeof *d);
}

/* The im2col rows of output columns [t0, t0 + nb): col[(tap, c)][tt] = x[c][(t0 + tt) *
 * stride + tap * dil + off], zero outside x. */
static void im2col(const conv_job *j, int t0, int nb, float *col)
{
    for (int tap = 0; tap < j->k; tap++)
        for (int c = 0; c < j->in; c++) {
            float *dst = col + ((size_t)tap * j->in + c) * nb;
            const float *src = j->x + (size_t)c * j->T;
            int off = tap * j->dil + j->off;
            if (j->stride == 1) {
                padded_run(dst, src, j->T, t0 + off, nb);
            } else {
                for (int tt = 0; tt < nb; tt++) {
                    int ti = (t0 + tt) * j->stride + off;
                    dst[tt] = ti >= 0 && ti < j->T ? src[ti] : 0.0f;
                }
            }
        }
}

/* How many ranges of output channels each of `blocks` pieces of work is cut into, so that
 * n threads get even shares: a short input has too few column blocks (or Winograd tiles) to
 * go round, and one thread would do it all (the decoder's 1,024-channel convolutions over
 * 85 frames ran on one core). A unit is then a block and a range of channels. */
static int out_splits(int blocks, int n)
{
    return blocks % n == 0 || blocks >= 4 * n ? 1 : n;
}

/* Direct convolution: y[o][t] (+)= b[o] + sum_{tap,c} w[o][tap][c] x[c][t*stride + tap*dil + off].
 * Each thread takes whole units (a column block, or a block's share of the output channels,
 * see out_splits): builds the block's im2col rows [(tap,c)][t] and runs one GEMM with
 * K = k*in, so all taps of the kernel are one product instead of k. */
static void conv_part(int i, int n, void *arg)
{
    conv_job *j = arg;
    int K = j->k * j->in;
    int blocks = (j->Tout + CONV_BLOCK - 1) / CONV_BLOCK, S = out_splits(blocks, n);
    int u0 = blocks * S * i / n, u1 = blocks * S * (i + 1) / n;
    if (u1 <= u0) return;
    float *col = malloc((size_t)K * CONV_BLOCK * sizeof *col);
    if (!col) {
        j->failed = 1;
        return;
    }
    for (int u = u0, built = -1; u < u1; u++) {
        int bl = u / S, o0, o1;
        int t0 = bl * CONV_BLOCK, nb = j->Tout - t0 < CONV_BLOCK ? j->Tout - t0 : CONV_BLOCK;
        share16(j->out, u % S, S, &o0, &o1);
        if (o1 <= o0) continue;
        if (bl != built) {
            im2col(j, t0, nb, col);
            built = bl;
        }
        if (!j->accumulate)
            for (int o = o0; o < o1; o++) {
                float bv = j->b ? j->b[o] : 0.0f, *r = j->y + (size_t)o * j->Tout + t0;
                for (int tt = 0; tt < nb; tt++) r[tt] = bv;
            }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, o1 - o0, nb, K, 1.0f,
                    j->w + (size_t)o0 * K, K, col, nb, 1.0f, j->y + (size_t)o0 * j->Tout + t0,
                    j->Tout);
    }
    free(col);
}

static int conv_direct(kk_pool *p, conv_job *j)
{
    if ((long)j->out * j->Tout * j->in * j->k < 100000 || !p)
        conv_part(0, 1, j);
    else
        kk_pool_run(p, conv_part, j);
    return j->failed ? -1 : 0;
}

/* Output length of a convolution with zero padding, stride and dilation. */
static int conv_tout(int T, int pad, int dil, int k, int stride)
{
    return (T + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

int kk_conv1d(kk_pool *p, const float *w, const float *b, int in, int out, int k, int stride,
              int dil, int pad, const float *x, int T, float *y)
{
    int Tout = conv_tout(T, pad, dil, k, stride);
    if (Tout < 1) return -1;
    conv_job j = {w, b, x, y, in, out, k, stride, dil, -pad, T, Tout, 0, 0};
    return conv_direct(p, &j) ? -1 : Tout;
}

/* ------------------------------------------------------------------ 8-bit weights
 * Products whose weights stay 8-bit (kernels.h kk_qtile): each unit of work is a block of at
 * most QG_BLOCK output columns (blocks of even size) and a range of row groups (kk_kern->qg_nb
 * blocks of 16 rows), each made floats once into a panel that the block's tiles share. A
 * convolution's source columns are copied once into a zero-padded block [in][ld], which stays
 * in L2 while every row group sweeps it; a linear layer reads its x [T][in] in place. A lone
 * short input (ALBERT's tokens, one block) is split by rows, so each thread keeps its share of
 * the weights in its own cache from one layer to the next. */

enum { QG_BLOCK = 240 }; /* a multiple of every back end's qg_nr */
/* Tiles per row group at most that widen the 8-bit weights themselves (kernels.h
 * qgemm_tile_q) instead of sharing a panel of their floats: a panel made for a tile or two
 * cost more than it saved. One thread, 768 x 768, best of 300: AVX-512 (12 columns a tile)
 * 1 token 0.182 -> 0.103 ms, 19 tokens 0.253 -> 0.193, 36 tokens 0.314 -> 0.287, 48 level;
 * AVX2 (6 columns) 1 token 0.120 -> 0.083, 12 tokens 0.177 -> 0.167, 18 level, 19 (4 tiles)
 * 7% slower. */
enum { QG_DIRECT_TILES = 3 };

int kk_qw_rows(int rows) { return (rows + 2 * KK_QG_ROWS - 1) / (2 * KK_QG_ROWS) * 2 * KK_QG_ROWS; }

void kk_qw_pack(const int8_t *q, int rows, int cols, int8_t *dst)
{
    int R = kk_qw_rows(rows);
    for (int r = 0; r < R; r++) {
        int8_t *d = dst + (size_t)(r / KK_QG_ROWS) * cols * KK_QG_ROWS + r % KK_QG_ROWS;
        for (int c = 0; c < cols; c++) d[(size_t)c * KK_QG_ROWS] = r < rows ? q[(size_t)r * cols + c] : 0;
    }
}

typedef struct {
    const kk_qw *w;
    const float *b, *x;
    float *y;
    int in, out, k, stride, dil, off, T, Tout;
    int rows_x;   /* 1: x is [T][in] and y [T][out] (a linear layer) */
    int QB, S, failed; /* output columns per block, row ranges per block */
} qconv_job;

static void qconv_part(int i, int n, void *arg)
{
    qconv_job *j = arg;
    const kk_kernels *kn = kk_kern;
    int NB = kn->qg_nb, NR = kn->qg_nr;
    int groups = kk_qw_rows(j->out) / (KK_QG_ROWS * NB);
    int QB = j->QB, blocks = (j->Tout + QB - 1) / QB, S = j->S;
    int u0 = blocks * S * i / n, u1 = blocks * S * (i + 1) / n;
    if (u1 <= u0) return;
    /* a linear layer reads x [T][in] in place (column n is row n of x) and copies only a last
     * partial tile's rows, zero-padded; a convolution copies each block's source columns */
    int ld = j->rows_x ? j->in : (QB - 1) * j->stride + (j->k - 1) * j->dil + 1;
    size_t xs_n = j->rows_x ? (size_t)NR * j->in : (size_t)j->in * ld;
    size_t K = (size_t)j->k * j->in;
    float *xs = malloc(xs_n * sizeof *xs), *panel = NULL; /* the panel when a unit needs it */
    if (!xs) {
        j->failed = 1;
        return;
    }
    for (int u = u0, built = -1; u < u1; u++) {
        int bl = u / S, t0 = bl * QB;
        int nb = j->Tout - t0 < QB ? j->Tout - t0 : QB;
        int g0 = groups * (u % S) / S, g1 = groups * (u % S + 1) / S;
        if (g1 <= g0) continue;
        /* a few tiles a row group widen the weights themselves (qgemm_tile_q); more share a
         * panel of their floats */
        const int direct = (nb + NR - 1) / NR <= QG_DIRECT_TILES;
        kk_qtile g, gp;
        int full;
        if (j->rows_x) {
            full = nb / NR * NR;
            g = (kk_qtile){j->w->q, j->w->zero, j->w->scale, j->b, j->x + (size_t)t0 * j->in,
                           j->in, 1, 0, 1, j->in, j->y + (size_t)t0 * j->out, 1, (size_t)j->out,
                           j->out, full};
            gp = g; /* the last partial tile, from a zero-padded copy of its rows */
            if (full < nb) {
                memset(xs, 0, xs_n * sizeof *xs);
                memcpy(xs, g.x + (size_t)full * j->in, (size_t)(nb - full) * j->in * sizeof *xs);
                gp.x = xs;
                gp.y += (size_t)full * j->out;
                gp.N = nb - full;
            }
        } else {
            full = (nb + NR - 1) / NR * NR; /* whole tiles: xs is padded for them */
            if (bl != built) { /* xs[c][v] = x[c][t0 * stride + off + v], zero outside x */
                int nv = (full - 1) * j->stride + (j->k - 1) * j->dil + 1;
                for (int c = 0; c < j->in; c++)
                    padded_run(xs + (size_t)c * ld, j->x + (size_t)c * j->T, j->T,
                               t0 * j->stride + j->off, nv);
                built = bl;
            }
            g = (kk_qtile){j->w->q, j->w->zero, j->w->scale, j->b, xs, j->in, j->k, j->dil, ld,
                           j->stride, j->y + t0, (size_t)j->Tout, 1, j->out, nb};
            gp = g;
        }
        for (int gr = g0; gr < g1; gr++) {
            if (direct) {
                for (int n0 = 0; n0 < full; n0 += NR) kn->qgemm_tile_q(&g, gr * NB, n0);
                if (full < nb) kn->qgemm_tile_q(&gp, gr * NB, 0);
                continue;
            }
            if (!panel && !(panel = malloc(K * NB * KK_QG_ROWS * sizeof *panel))) {
                free(xs);
                j->failed = 1;
                return;
            }
            kn->qg_panel(&g, gr * NB, panel);
            for (int n0 = 0; n0 < full; n0 += NR) kn->qgemm_tile(&g, panel, gr * NB, n0);
            if (full < nb) kn->qgemm_tile(&gp, panel, gr * NB, 0);
        }
    }
    free(xs);
    free(panel);
}

static int qconv_run(kk_pool *p, qconv_job *j)
{
    int n = p ? kk_pool_size(p) : 1, NR = kk_kern->qg_nr;
    /* blocks of even size (303 columns: 156 + 147, not 240 + 63, which left a thread idle) */
    int blocks = (j->Tout + QG_BLOCK - 1) / QG_BLOCK;
    j->QB = ((j->Tout + blocks - 1) / blocks + NR - 1) / NR * NR;
    blocks = (j->Tout + j->QB - 1) / j->QB;
    j->S = out_splits(blocks, n);
    if (n == 1 || (long)j->out * j->Tout * j->in * j->k < 100000)
        qconv_part(0, 1, j);
    else
        kk_pool_run(p, qconv_part, j);
    return j->failed ? -1 : 0;
}

int kk_qconv1d(kk_pool *p, const kk_qw *w, const float *b, int in, int out, int k, int stride,
               int dil, int pad, const float *x, int T, float *y)
{
    int Tout = conv_tout(T, pad, dil, k, stride);
    if (Tout < 1) return -1;
    qconv_job j = {w, b, x, y, in, out, k, stride, dil, -pad, T, Tout, 0, 0, 0, 0};
    return qconv_run(p, &j) ? -1 : Tout;
}

int kk_qlinear_rows(kk_pool *p, const kk_qw *w, const float *b, int in, int out, const float *x,
                    int T, float *y)
{
    qconv_job j = {w, b, x, y, in, out, 1, 1, 1, 0, T, T, 1, 0, 0, 0};
    return qconv_run(p, &j);
}

/* ------------------------------------------------------------------ Winograd F(4,3)
 * The generator's convolutions (k = 3, 7, 11, dilations 1, 3, 5) take most of the time.
 * Taps are cut into groups of three; each group is computed with Winograd's F(4,3): four
 * outputs from six transformed inputs, so 6 multiplications per channel pair where direct
 * convolution needs 12. Left-over taps (k mod 3) go through the direct path. Dilation d is
 * handled by tiling each phase (t mod d) of the output separately. */

static const float wino_G[6][3] = {{1.0f / 4, 0, 0},
                                   {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                                   {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                                   {1.0f / 24, 1.0f / 12, 1.0f / 6},
                                   {1.0f / 24, -1.0f / 12, 1.0f / 6},
                                   {0, 0, 1}};

size_t kk_wino_size(int in, int out, int k) { return (size_t)(k / 3) * 6 * out * in; }

typedef struct {
    const float *w;
    float *u;
    int in, out, k;
} wino_tf_job;

/* Rows (g, xi, o) of u for the i-th of n parts. */
static void wino_tf_part(int i, int n, void *arg)
{
    const wino_tf_job *j = arg;
    int in = j->in, out = j->out, k = j->k;
    long rows = (long)(k / 3) * 6 * out, a = rows * i / n, b = rows * (i + 1) / n;
    for (long row = a; row < b; row++) {
        int o = (int)(row % out), xi = (int)(row / out % 6), g = (int)(row / out / 6);
        const float *wt = j->w + ((size_t)o * k + 3 * g) * in; /* w[o][3g][c] */
        float *ur = j->u + (size_t)row * in, g0 = wino_G[xi][0], g1 = wino_G[xi][1],
              g2 = wino_G[xi][2];
        for (int c = 0; c < in; c++) ur[c] = g0 * wt[c] + g1 * wt[in + c] + g2 * wt[2 * in + c];
    }
}

void kk_wino_transform(kk_pool *p, const float *w, int in, int out, int k, float *u)
{
    wino_tf_job j = {w, u, in, out, k};
    if (p && (size_t)out * in * k >= 65536)
        kk_pool_run(p, wino_tf_part, &j);
    else
        wino_tf_part(0, 1, &j);
}

typedef struct {
    const int8_t *q;
    const float *scale, *zero;
    int rows, cols;
    float *out;
    int packed; /* q is a kk_qw's packed integers */
} dequant_job;

static void dequant_part(int i, int n, void *arg)
{
    const dequant_job *j = arg;
    int a = (int)((long)j->rows * i / n), b = (int)((long)j->rows * (i + 1) / n);
    for (int r = a; r < b; r++) {
        float *o = j->out + (size_t)r * j->cols, z = j->zero[r], s = j->scale[r];
        if (j->packed) { /* row r is every KK_QG_ROWS-th byte of its block */
            const int8_t *q = j->q + (size_t)(r / KK_QG_ROWS) * j->cols * KK_QG_ROWS + r % KK_QG_ROWS;
            for (int c = 0; c < j->cols; c++) o[c] = ((float)q[(size_t)c * KK_QG_ROWS] - z) * s;
            continue;
        }
        const int8_t *q = j->q + (size_t)r * j->cols;
        for (int c = 0; c < j->cols; c++) o[c] = ((float)q[c] - z) * s;
    }
}

void kk_dequant(kk_pool *p, const int8_t *q, const float *scale, const float *zero, int rows,
                int cols, float *out)
{
    dequant_job j = {q, scale, zero, rows, cols, out, 0};
    if (p && (size_t)rows * cols >= 65536)
        kk_pool_run(p, dequant_part, &j);
    else
        dequant_part(0, 1, &j);
}

void kk_dequant_packed(kk_pool *p, const kk_qw *w, float *out)
{
    dequant_job j = {w->q, w->scale, w->zero, w->rows, w->cols, out, 1};
    if (p && (size_t)w->rows * w->cols >= 65536)
        kk_pool_run(p, dequant_part, &j);
    else
        dequant_part(0, 1, &j);
}

/* Work is cut into items (a phase of the dilation and a block of its tiles). The input is
 * first rearranged into zero-padded polyphase rows: row r of phase p holds the phase's
 * samples 4u + r, so the six inputs of every tile of a block are six contiguous runs and
 * both transforms vectorise. */
typedef struct {
    const float *u;
    float *y, *rows;
    int in, out, k, dil, T, groups, half, padl, rowlen, n_phases;
    int n_items, *item_phase, *item_q0, *item_nb;
    int failed;
} wino_job;

enum { WINO_BLOCK = 256 }; /* tiles (4 outputs each) per GEMM */

/* Output channels [o0, o1) of item `item`: for each group of three taps, the block's input
 * transform V (kept from the last call when it was this item's single group, *v_item), six
 * GEMMs with those channels' rows of U, the output transform; then the outputs are added
 * into y. */
static void wino_item(wino_job *j, int item, int o0, int o1, int *v_item, float *V, float *M,
                      float *Yb)
{
    const int p = j->item_phase[item], q0 = j->item_q0[item], nb = j->item_nb[item];
    const int in = j->in, out = j->out, no = o1 - o0, d = j->dil, T = j->T;
    const size_t sv = (size_t)in * WINO_BLOCK, sm = (size_t)no * WINO_BLOCK;
    memset(Yb, 0, (size_t)no * 4 * WINO_BLOCK * sizeof *Yb);
    for (int g = 0; g < j->groups; g++) {
        if (*v_item != item || j->groups > 1) {
            int sg = 3 * g - j->half + j->padl;
            for (int c = 0; c < in; c++) {
                const float *R = j->rows + ((size_t)p * in + c) * 4 * j->rowlen;
                const float *z[6];
                for (int m = 0; m < 6; m++)
                    z[m] = R + ((m + sg) % 4) * j->rowlen + q0 + (m + sg) / 4;
                float *v = V + (size_t)c * WINO_BLOCK;
                kk_kern->wino_in(v, v + sv, v + 2 * sv, v + 3 * sv, v + 4 * sv, v + 5 * sv,
                                 z[0], z[1], z[2], z[3], z[4], z[5], nb);
            }
        }
        for (int xi = 0; xi < 6; xi++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, no, nb, in, 1.0f,
                        j->u + (((size_t)g * 6 + xi) * out + o0) * in, in, V + xi * sv,
                        WINO_BLOCK, 0.0f, M + xi * sm, WINO_BLOCK);
        for (int o = 0; o < no; o++) {
            const float *m = M + (size_t)o * WINO_BLOCK;
            float *yb = Yb + (size_t)o * 4 * WINO_BLOCK;
            kk_kern->wino_out(yb, yb + WINO_BLOCK, yb + 2 * WINO_BLOCK, yb + 3 * WINO_BLOCK, m,
                              m + sm, m + 2 * sm, m + 3 * sm, m + 4 * sm, m + 5 * sm, nb);
        }
    }
    *v_item = item;
    /* scatter the block's outputs back to their positions p + d*(4q + e) */
    for (int o = 0; o < no; o++) {
        float *yr = j->y + (size_t)(o0 + o) * T;
        const float *yb = Yb + (size_t)o * 4 * WINO_BLOCK;
        for (int tt = 0; tt < nb; tt++)
            for (int e = 0; e < 4; e++) {
                long pos = p + (long)d * (4L * (q0 + tt) + e);
                if (pos < T) yr[pos] += yb[e * WINO_BLOCK + tt];
            }
    }
}

/* Thread i of n: its units (an item, or an item's share of the output channels when the
 * items are too few to share out evenly, see out_splits). */
static void wino_part(int i, int n, void *arg)
{
    wino_job *j = arg;
    int S = out_splits(j->n_items, n), units = j->n_items * S;
    int a = units * i / n, b = units * (i + 1) / n;
    if (b <= a) return;
    int rows = 0; /* the most output channels one of these units holds */
    for (int u = a; u < b; u++) {
        int o0, o1;
        share16(j->out, u % S, S, &o0, &o1);
        if (o1 - o0 > rows) rows = o1 - o0;
    }
    float *V = malloc((size_t)6 * j->in * WINO_BLOCK * sizeof *V);
    float *M = malloc((size_t)6 * rows * WINO_BLOCK * sizeof *M);
    float *Yb = malloc((size_t)4 * rows * WINO_BLOCK * sizeof *Yb);
    if (V && M && Yb)
        for (int u = a, v_item = -1; u < b; u++) {
            int o0, o1;
            share16(j->out, u % S, S, &o0, &o1);
            if (o1 > o0) wino_item(j, u / S, o0, o1, &v_item, V, M, Yb);
        }
    else
        j->failed = 1;
    free(V);
    free(M);
    free(Yb);
}

typedef struct {
    const float *x;
    wino_job *j;
} rows_job;

static void rows_part(int i, int n, void *arg)
{
    rows_job *rj = arg;
    wino_job *j = rj->j;
    int units = j->n_phases * j->in;
    for (int unit = units * i / n; unit < units * (i + 1) / n; unit++) {
        int p = unit / j->in, c = unit % j->in;
        const float *xr = rj->x + (size_t)c * j->T;
        float *R = j->rows + (size_t)unit * 4 * j->rowlen;
        for (int r = 0; r < 4; r++)
            for (int u = 0; u < j->rowlen; u++) {
                long idx = 4L * u + r - j->padl, pos = p + (long)j->dil * idx;
                R[(size_t)r * j->rowlen + u] = idx >= 0 && pos < j->T ? xr[pos] : 0.0f;
            }
    }
}

int kk_conv1d_wino(kk_pool *p, const float *u, const float *w, const float *b, int in, int out,
                   int k, int dil, const float *x, int T, float *y)
{
    int groups = k / 3, rem = k - 3 * groups, half = (k - 1) / 2;
    for (int o = 0; o < out; o++) {
        float bv = b ? b[o] : 0.0f, *r = y + (size_t)o * T;
        for (int t = 0; t < T; t++) r[t] = bv;
    }
    if (rem) { /* the last taps, directly: weights w[o][3*groups + r][c] */
        float *wr = malloc((size_t)out * rem * in * sizeof *wr);
        if (!wr) return -1;
        for (int o = 0; o < out; o++)
            memcpy(wr + (size_t)o * rem * in, w + ((size_t)o * k + 3 * groups) * in,
                   (size_t)rem * in * sizeof *wr);
        conv_job cj = {wr, NULL, x, y, in, out, rem, 1, dil, (3 * groups - half) * dil, T, T, 1, 0};
        int rc = conv_direct(p, &cj);
        free(wr);
        if (rc) return -1;
    }
    wino_job j = {0};
    j.u = u;
    j.y = y;
    j.in = in;
    j.out = out;
    j.k = k;
    j.dil = dil;
    j.T = T;
    j.groups = groups;
    j.half = half;
    j.padl = (half + 3) / 4 * 4;
    j.n_phases = dil < T ? dil : T;
    int max_tiles = ((T + dil - 1) / dil + 3) / 4;
    j.rowlen = max_tiles + (j.padl + 3 * groups + 8) / 4 + 2;
    int max_items = j.n_phases * (max_tiles / WINO_BLOCK + 1);
    j.item_phase = malloc((size_t)max_items * 3 * sizeof(int));
    j.rows = malloc((size_t)j.n_phases * in * 4 * j.rowlen * sizeof *j.rows);
    if (!j.item_phase || !j.rows) {
        free(j.item_phase);
        free(j.rows);
        return -1;
    }
    long rows_bytes = (long)((size_t)j.n_phases * in * 4 * j.rowlen * sizeof *j.rows);
    kk_pool_mem(p, rows_bytes); /* per frame: counted in KOKORO_FRAME_BYTES */
    j.item_q0 = j.item_phase + max_items;
    j.item_nb = j.item_q0 + max_items;
    for (int ph = 0; ph < j.n_phases; ph++) { /* blocks of even size: 370 tiles are 185 + 185,
                                                * not 256 + 114 (one thread each, one idle) */
        int tiles = ((T - ph + dil - 1) / dil + 3) / 4;
        int nblk = (tiles + WINO_BLOCK - 1) / WINO_BLOCK, per = nblk ? (tiles + nblk - 1) / nblk : 0;
        for (int q0 = 0; q0 < tiles; q0 += per) {
            j.item_phase[j.n_items] = ph;
            j.item_q0[j.n_items] = q0;
            j.item_nb[j.n_items] = tiles - q0 < per ? tiles - q0 : per;
            j.n_items++;
        }
    }
    rows_job rj = {x, &j};
    int small = !p || (long)out * in * T < 100000;
    if (small) {
        rows_part(0, 1, &rj);
        wino_part(0, 1, &j);
    } else {
        kk_pool_run(p, rows_part, &rj);
        kk_pool_run(p, wino_part, &j);
    }
    free(j.item_phase);
    free(j.rows);
    kk_pool_mem(p, -rows_bytes);
    return j.failed ? -1 : 0;
}

typedef struct {
    const float *w, *b, *x;
    float *y, *cols;
    int in, out, k, stride, pad, T, Tout;
} convt_job;

/* One thread's output channels [o0, o1) of a transposed convolution: its rows of
 * cols[(o,j)][t] = sum_c w[c][o][j] x[c][t] (w read in place as the transpose of [in][out*k]),
 * then each tap's row added into y at t * stride + j - pad. */
static void convt_part(int i, int n, void *arg)
{
    convt_job *j = arg;
    int o0 = j->out * i / n, o1 = j->out * (i + 1) / n, k = j->k, T = j->T;
    if (o1 <= o0) return;
    float *cols = j->cols + (size_t)o0 * k * T;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (o1 - o0) * k, T, j->in, 1.0f,
                j->w + (size_t)o0 * k, j->out * k, j->x, T, 0.0f, cols, T);
    for (int o = o0; o < o1; o++) {
        float *r = j->y + (size_t)o * j->Tout;
        float bv = j->b ? j->b[o] : 0.0f;
        for (int t = 0; t < j->Tout; t++) r[t] = bv;
        for (int tap = 0; tap < k; tap++) {
            const float *cr = j->cols + ((size_t)o * k + tap) * T;
            /* t * stride + tap - pad in [0, Tout) */
            int t0 = tap < j->pad ? (j->pad - tap + j->stride - 1) / j->stride : 0;
            int last = j->Tout - 1 - tap + j->pad;
            if (last < 0) continue;
            int t1 = last / j->stride + 1 < T ? last / j->stride + 1 : T;
            for (int t = t0; t < t1; t++) r[t * j->stride + tap - j->pad] += cr[t];
        }
    }
}

int kk_convt1d(kk_pool *p, const float *w, const float *b, int in, int out, int k, int stride,
               int pad, int outpad, const float *x, int T, float *y)
{
    int Tout = (T - 1) * stride - 2 * pad + k + outpad;
    float *cols = malloc((size_t)out * k * T * sizeof *cols);
    if (!cols) return -1;
    long cols_bytes = (long)((size_t)out * k * T * sizeof *cols);
    kk_pool_mem(p, cols_bytes); /* per frame: counted in KOKORO_FRAME_BYTES */
    convt_job j = {w, b, x, y, cols, in, out, k, stride, pad, T, Tout};
    if (!p || (long)out * k * T * in < 200000)
        convt_part(0, 1, &j);
    else
        kk_pool_run(p, convt_part, &j);
    free(cols);
    kk_pool_mem(p, -cols_bytes);
    return 0;
}

/* ------------------------------------------------------------------ LSTM */

typedef struct {
    const float *const *wh;
    const kk_qw *const *qh; /* or the packed 8-bit weights (wh NULL) */
    const float *gx; /* [2][T][4H] input projections incl. bias */
    float *y;
    int T, H;
    int failed; /* a direction could not get its state (out of memory) */
} lstm_job;

static void lstm_dir(int d, int n, void *arg)
{
    lstm_job *j = arg;
    int H = j->H, T = j->T;
    (void)n;
    float *h = calloc((size_t)H, sizeof *h), *c = calloc((size_t)H, sizeof *c);
    float *g = malloc((size_t)4 * H * sizeof *g);
    if (!h || !c || !g) {
        free(h);
        free(c);
        free(g);
        j->failed = 1;
        return;
    }
    for (int s = 0; s < T; s++) {
        int t = d == 0 ? s : T - 1 - s;
        memcpy(g, j->gx + ((size_t)d * T + t) * 4 * H, (size_t)4 * H * sizeof *g);
        if (j->wh) {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, 4 * H, H, 1.0f, j->wh[d], H, h, 1, 1.0f, g, 1);
        } else {
            const kk_qw *w = j->qh[d];
            kk_kern->qgemv(w->q, w->zero, w->scale, 4 * H, H, h, g);
        }
        kk_kern->lstm_cell(g, c, h, j->y + (size_t)t * 2 * H + (size_t)d * H, H);
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

int kk_bilstm(kk_pool *p, const float *const wx[2], const float *const wh[2], float *const b[2], int in,
              int H, const float *x, int T, float *y, float *scratch)
{
    for (int d = 0; d < 2; d++)
        kk_linear_rows(p, wx[d], b[d], in, 4 * H, x, T, scratch + (size_t)d * T * 4 * H);
    lstm_job j = {wh, NULL, scratch, y, T, H, 0};
    kk_pool_run(p, lstm_both, &j);
    return j.failed ? -1 : 0;
}

int kk_qbilstm(kk_pool *p, const kk_qw *const wx[2], const kk_qw *const wh[2], float *const b[2],
               int in, int H, const float *x, int T, float *y, float *scratch)
{
    for (int d = 0; d < 2; d++)
        if (kk_qlinear_rows(p, wx[d], b[d], in, 4 * H, x, T, scratch + (size_t)d * T * 4 * H))
            return -1;
    lstm_job j = {NULL, wh, scratch, y, T, H, 0};
    kk_pool_run(p, lstm_both, &j);
    return j.failed ? -1 : 0;
}

/* ------------------------------------------------------------------ norms, activations */

void kk_layernorm_rows(float *x, int T, int C, const float *g, const float *b, float eps)
{
    for (int t = 0; t < T; t++) kk_kern->layernorm(x + (size_t)t * C, C, g, b, eps);
}

void kk_adain(float *x, int C, int T, const float *gamma, const float *beta)
{
    for (int c = 0; c < C; c++) {
        float *r = x + (size_t)c * T;
        double mean, var;
        kk_kern->row_stats(r, T, &mean, &var);
        kk_kern->norm_affine(r, T, (float)mean, (float)(1.0 / sqrt(var + 1e-5)), 1.0f + gamma[c],
                             beta[c]);
    }
}

void kk_leaky_relu(float *x, size_t n, float slope) { kk_kern->leaky_relu(x, n, slope); }

typedef struct {
    float *x;
    const float *alpha;
    int C, T;
} snake_job;

static void snake_part(int i, int n, void *arg)
{
    snake_job *j = arg;
    int c0 = j->C * i / n, c1 = j->C * (i + 1) / n;
    for (int c = c0; c < c1; c++) kk_kern->snake(j->x + (size_t)c * j->T, j->T, j->alpha[c]);
}

void kk_snake(kk_pool *p, float *x, int C, int T, const float *alpha)
{
    snake_job j = {x, alpha, C, T};
    kk_pool_run(p, snake_part, &j);
}

typedef struct {
    const float *x, *gamma, *beta, *alpha;
    float *y;
    int C, T;
} adain_snake_job;

static void adain_snake_part(int i, int n, void *arg)
{
    adain_snake_job *j = arg;
    for (int c = j->C * i / n; c < j->C * (i + 1) / n; c++) {
        const float *r = j->x + (size_t)c * j->T;
        double mean, var;
        kk_kern->row_stats(r, j->T, &mean, &var);
        /* (1 + gamma) * (x - mean) / sd + beta as one multiply-add */
        double scale = (1.0 + j->gamma[c]) / sqrt(var + 1e-5);
        kk_kern->affine_snake(r, j->y + (size_t)c * j->T, j->T, (float)scale,
                              (float)(j->beta[c] - scale * mean), j->alpha[c]);
    }
}

void kk_adain_snake(kk_pool *p, const float *x, float *y, int C, int T, const float *gamma,
                    const float *beta, const float *alpha)
{
    adain_snake_job j = {x, gamma, beta, alpha, y, C, T};
    kk_pool_run(p, adain_snake_part, &j);
}
