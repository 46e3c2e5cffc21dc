/* fftconv.c - the generator's long convolutions (7 and 11 taps, dilated 1, 3 or 5) by FFT.
 *
 * Overlap-save. Each dilation phase of the input (every d-th sample) is cut into windows of
 * N samples that overlap by k - 1. A window's spectrum times the conjugate spectrum of a
 * filter is the spectrum of L = N - k + 1 outputs of that filter, so summing over the input
 * channels makes, per frequency bin, one complex matrix product: W[f] (out x in) times the
 * windows' spectra Z[f] (in x windows). Gauss's trick does each complex product as three real
 * ones: sgemm for a float model's filters; for 8-bit filters, whose spectra are made at each
 * call, the 8-bit product's own tiles (kernels.h qgemm_tile), reading the spectra made in
 * their panel layout and the windows' spectra in place, so nothing is packed per call. Work
 * per output and channel pair: 3 (N/2 - 1) + 2 multiply-adds per L outputs, 1.8 for 11 taps
 * at N = 64 where direct convolution takes 11 and Winograd F(4,3) 6.
 *
 * Two real windows share one complex FFT (one as the real part, one as the imaginary, split
 * apart by the spectra's symmetry), and two output rows share one inverse FFT. The butterflies
 * run over FFT_V transforms at once, a row of each, so that they vectorise. The filters'
 * spectra are made at each call (a small product next to the convolution itself), so that
 * they cost no memory between layers; they and the scratch live in buffers the pool keeps
 * until the engine releases them at the end of a resblock (kk_pool_work).
 *
 * A work item is a stretch of the row: windows w0 .. w0 + g - 1 of every phase, side by side
 * as the columns of its products. Items of one phase each (as before) read and wrote every
 * cache line of x and y once per phase, from memory: dilated 5, 128 channels and 87,000
 * samples took 146 ms where undilated took 103 (one thread); now 96-102 ms.
 *
 * A row short enough for one item in the threads' scratch (a short utterance's: 1,480 samples
 * x 256 channels, 68 windows) is that one item, its three steps shared by the threads (channel
 * pairs, bins, output pairs), and each bin's spectra are made just before its products, in L2.
 * Items of their own left a thread idle (dilated 3 and 5 were one item), all the spectra made
 * first (13 MB at 256 channels) went out to memory and back, and every item packed them
 * again: "Hello from Kokoro." at 2 threads, its 256-channel rows on this path instead of
 * Winograd, 0.31 -> 0.26 s (docs/engine.md). */
#include "model/ops.h"
#include "model/cpu/kernels.h"

#include <cblas.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define FFT_V KK_FFT_V /* transforms whose butterflies run together */
#define FFT_MAX_N 64
/* One thread's scratch at most (its part of KOKORO_THREAD_BYTES, include/kokoro.h). */
#define FFT_SCRATCH_MAX (11u << 20)
/* A shared item's spectra buffer, per thread: bins of it at most (in L2 beside the int8 block) */
#define SPEC_GROUP_MAX (1u << 20)

typedef struct {
    int N, log2n, bins, L, k, half;
    float cr[FFT_MAX_N / 2], ci[FFT_MAX_N / 2]; /* e^{-2 pi i t / N} */
    int rev[FFT_MAX_N];
    /* tc[f k + t] + i ts[f k + t] = e^{-2 pi i f t / N}: the filters' spectra's factors */
    float tc[(FFT_MAX_N / 2 + 1) * FFT_MAX_N], ts[(FFT_MAX_N / 2 + 1) * FFT_MAX_N];
} fft_plan;

static void plan_init(fft_plan *P, int N, int k)
{
    P->N = N;
    P->log2n = 0;
    while ((1 << P->log2n) < N) P->log2n++;
    P->bins = N / 2 + 1;
    P->k = k;
    P->half = (k - 1) / 2;
    P->L = N - k + 1;
    for (int t = 0; t < N / 2; t++) {
        double a = -2.0 * M_PI * t / N;
        P->cr[t] = (float)cos(a);
        P->ci[t] = (float)sin(a);
    }
    for (int n = 0; n < N; n++) {
        int r = 0;
        for (int b = 0; b < P->log2n; b++) r |= ((n >> b) & 1) << (P->log2n - 1 - b);
        P->rev[n] = r;
    }
    for (int f = 0; f < P->bins; f++)
        for (int t = 0; t < k; t++) {
            int e = (f * t) % N;
            P->tc[f * k + t] = e < N / 2 ? P->cr[e] : -P->cr[e - N / 2];
            P->ts[f * k + t] = e < N / 2 ? P->ci[e] : -P->ci[e - N / 2];
        }
}

typedef struct {
    fft_plan P;
    int in, out, dil, T, G; /* G: windows per item */
    int outp;               /* the spectra's rows: out, or 8-bit rows padded (kk_qw_rows) */
    const float *x, *b, *w; /* w: the filters [out][k][in] (NULL: qw) */
    const kk_qw *qw;        /* or packed 8-bit (kk_qw_pack); their spectra are transposed */
    float *y;
    float *Wr, *Ws, *Wd; /* per bin: Re, Re + Im', Im' - Re of conj(W); [out][in], or panels */
    int n_items, phases, g; /* item i: windows [i g, (i + 1) g) of every phase */
    int spec_group;         /* a shared item's bins per spectra buffer, 0: all spectra in W */
    float **scratch;        /* per thread, NULL past n_scratch */
    int n_scratch;
    atomic_int next;
} fft_job;

/* Samples in phase p of a length-T row dilated by d. */
static int phase_len(int T, int d, int p) { return p < T ? (T - p + d - 1) / d : 0; }

/* Windows of L outputs that cover phase p. */
static int phase_windows(int T, int d, int p, int L) { return (phase_len(T, d, p) + L - 1) / L; }

/* Windows of phase p in the item that starts at window w0. */
static int item_windows(const fft_job *j, int p, int w0)
{
    int c = phase_windows(j->T, j->dil, p, j->P.L) - w0;
    return c < 0 ? 0 : c > j->g ? j->g : c;
}

/* An item's buffers: per bin f, Z[f] = Re [in][G], Im [in][G], Re + Im [in][G] and
 * Y[f] = Re [out][G], Im [out][G] (shared by the threads that work on one item); A, B, C,
 * the products of one bin, and re, im, the butterflies' rows (one thread's). A shared item
 * keeps Y[f] in Z[f]'s place (its Re and Im), which its products no longer need: the item
 * takes 3/5 of the memory, so that a short utterance's 128-channel rows are one item on one
 * thread too. */
typedef struct {
    float *Z, *Y;
    int nw;          /* the item's columns */
    size_t yb, yim;  /* floats from Y[f] to Y[f + 1], from its Re to its Im */
} item_bufs;

static item_bufs item_at(const fft_job *j, float *S, int w0, int in_place)
{
    item_bufs ib;
    ib.Z = S;
    ib.nw = 0;
    for (int p = 0; p < j->phases; p++) ib.nw += item_windows(j, p, w0);
    if (in_place) {
        ib.Y = S;
        ib.yb = (size_t)3 * j->in * j->G;
        ib.yim = (size_t)j->in * j->G;
    } else {
        ib.Y = S + (size_t)j->P.bins * 3 * j->in * j->G;
        ib.yb = (size_t)2 * j->out * j->G;
        ib.yim = (size_t)j->out * j->G;
    }
    return ib;
}

typedef struct {
    float *A, *B, *C, *re, *im;
    float *Zt; /* a last partial tile's columns of Z, zero-padded (8-bit products) */
    float *W; /* a shared item's: the filters' spectra of spec_group bins */
} thread_bufs;

/* Rows of a panel of 8-bit filters' spectra (make_spectra). */
static int panel_rows(void) { return kk_kern->qg_nb * KK_QG_ROWS; }

/* Floats of the spectra one thread of a shared item makes at once */
static size_t spec_floats(const fft_job *j)
{
    return (size_t)3 * j->spec_group * j->outp * j->in;
}

static size_t thread_floats(const fft_job *j)
{
    return (size_t)3 * j->out * j->G + (size_t)2 * j->P.N * FFT_V +
           (size_t)j->in * KK_QG_NR_MAX + spec_floats(j);
}

/* Floats of one item's Z, and Y unless it is in Z's place. */
static size_t item_floats(const fft_plan *P, int in, int out, int G, int in_place)
{
    return (size_t)3 * P->bins * in * G + (in_place ? 0 : (size_t)2 * P->bins * out * G);
}

/* The conjugate spectra of outputs o0..o1 at bins f0..f1 (bin f at Wr + (f - f0) fstride,
 * output o at + o in; 8-bit filters' in panels, see below), KK_WS_B bins a call while an
 * output's filters are in L1. */
static void make_spectra(const fft_job *j, int o0, int o1, int f0, int f1, float *Wr,
                         float *Ws, float *Wd, size_t fstride)
{
    const fft_plan *P = &j->P;
    if (j->qw) { /* per bin, panels of W rows [outp / W][in][W] that qgemm_tile reads as they
                  * are; o0 and o1 are whole blocks of KK_QG_ROWS */
        const size_t K = (size_t)P->k * j->in;
        const int W = panel_rows();
        for (int o = o0; o < o1; o += KK_QG_ROWS)
            for (int f = f0; f < f1; f += KK_WS_B) {
                int nb = f1 - f < KK_WS_B ? f1 - f : KK_WS_B;
                size_t at = (size_t)(f - f0) * fstride + (size_t)(o / W) * W * j->in + o % W;
                kk_kern->wspec_q(Wr + at, Ws + at, Wd + at, fstride, (size_t)W,
                                 j->qw->q + (size_t)o * K, j->qw->zero + o, j->qw->scale + o, P->k,
                                 j->in, P->tc + f * P->k, P->ts + f * P->k, nb);
            }
        return;
    }
    for (int o = o0; o < o1; o++) /* [f][out][in] */
        for (int f = f0; f < f1; f += KK_WS_B) {
            int nb = f1 - f < KK_WS_B ? f1 - f : KK_WS_B;
            size_t at = (size_t)(f - f0) * fstride + (size_t)o * j->in;
            kk_kern->wspec_bins(Wr + at, Ws + at, Wd + at, fstride, j->w + (size_t)o * P->k * j->in,
                                P->k, j->in, P->tc + f * P->k, P->ts + f * P->k, nb);
        }
}

/* All the filters' spectra into j->Wr, Ws, Wd, outputs (blocks of 8-bit rows) split over the
 * threads. */
static void wspec_part(int i, int n, void *arg)
{
    fft_job *j = arg;
    int unit = j->qw ? KK_QG_ROWS : 1, units = j->outp / unit;
    make_spectra(j, units * i / n * unit, units * (i + 1) / n * unit, 0, j->P.bins, j->Wr, j->Ws,
                 j->Wd, (size_t)j->outp * j->in);
}

/* Floats of one thread's scratch in items of its own: an item's and a thread's. */
static size_t scratch_floats(const fft_job *j)
{
    return item_floats(&j->P, j->in, j->out, j->G, 0) + thread_floats(j);
}

static thread_bufs thread_at(const fft_job *j, float *at)
{
    thread_bufs t;
    t.A = at;
    t.B = t.A + (size_t)j->out * j->G;
    t.C = t.B + (size_t)j->out * j->G;
    t.re = t.C + (size_t)j->out * j->G;
    t.im = t.re + (size_t)j->P.N * FFT_V;
    t.Zt = t.im + (size_t)j->P.N * FFT_V;
    t.W = t.Zt + (size_t)j->in * KK_QG_NR_MAX;
    return t;
}

/* 1. spectra of the windows: channels 2q and 2q+1 of windows wa..wb share transforms; the
 * item's columns are windows w0.. of phase 0, then of phase 1, ... (all phases of a stretch
 * of the row in one item, so that a dilated convolution reads and writes each cache line of
 * x and y once, not once per phase) */
static void item_forward(const fft_job *j, int w0, const item_bufs *ib, const thread_bufs *tb,
                         int q0, int q1)
{
    const fft_plan *P = &j->P;
    const size_t zb = (size_t)3 * j->in * j->G; /* floats per bin */
    for (int q = q0; q < q1; q++)
        for (int p = 0, col = 0; p < j->phases; p++) {
            int cnt = item_windows(j, p, w0), Tp = phase_len(j->T, j->dil, p);
            for (int wa = 0; wa < cnt; wa += FFT_V) {
                int nv = cnt - wa < FFT_V ? cnt - wa : FFT_V;
                const float *x1 = j->x + (size_t)(2 * q) * j->T + p, *x2 = x1 + j->T;
                kk_kern->fft_gather(tb->re, tb->im, x1, x2, P->N, P->rev,
                                    (w0 + wa) * P->L - P->half, P->L, j->dil, Tp, nv);
                kk_kern->fft_rows(tb->re, tb->im, P->N, P->cr, P->ci);
                kk_kern->fft_split(tb->re, tb->im, P->N, nv, ib->Z + (size_t)(2 * q) * j->G + col + wa,
                                   zb, (size_t)j->in * j->G, (size_t)j->G);
            }
            col += cnt;
        }
}

/* dst [out][G] = w z for the item's nw columns z [in][G], w a bin's float spectra ([out][in])
 * or those of 8-bit filters, panels (make_spectra) that the 8-bit product's tiles read as
 * they are: no packing per call, as sgemm did (a tenth of a 128-channel layer's time). */
static void product(const fft_job *j, const thread_bufs *tb, const float *w, const float *z,
                    int nw, float *dst)
{
    const int G = j->G, in = j->in;
    if (!j->qw) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->out, nw, in, 1.0f, w, in, z,
                    G, 0.0f, dst, G);
        return;
    }
    const kk_kernels *kn = kk_kern;
    const int W = panel_rows(), NR = kn->qg_nr, full = nw / NR * NR;
    kk_qtile g = {NULL, NULL, NULL, NULL, z, in, 1, 0, G, 1, dst, (size_t)G, 1, j->out, full};
    kk_qtile gp = g; /* the last partial tile, from a zero-padded copy of its columns */
    if (full < nw) {
        for (int c = 0; c < in; c++) {
            float *r = tb->Zt + (size_t)c * NR;
            memcpy(r, z + (size_t)c * G + full, (size_t)(nw - full) * sizeof *r);
            memset(r + nw - full, 0, (size_t)(NR - nw + full) * sizeof *r);
        }
        gp.x = tb->Zt;
        gp.ld = NR;
        gp.y = dst + full;
        gp.N = nw - full;
    }
    for (int r = 0; r < j->outp; r += W) {
        const float *panel = w + (size_t)r * in;
        for (int n0 = 0; n0 < full; n0 += NR) kn->qgemm_tile(&g, panel, r / KK_QG_ROWS, n0);
        if (full < nw) kn->qgemm_tile(&gp, panel, r / KK_QG_ROWS, 0);
    }
}

/* Bin f's windows' spectra in the item: Re, Im, Re + Im, each [in][G]. */
static const float *bin_z(const fft_job *j, const item_bufs *ib, int f, int part)
{
    return ib->Z + (size_t)f * 3 * j->in * j->G + (size_t)part * j->in * j->G;
}

static int real_bin(const fft_job *j, int f) { return f == 0 || f == j->P.N / 2; }

/* Y[f] from its products, once all of them have read Z[f] (Y may be in its place). */
static void bin_finish(const fft_job *j, const item_bufs *ib, int f, const float *A,
                       const float *B, const float *C)
{
    const int G = j->G, nw = ib->nw;
    float *yr = ib->Y + f * ib->yb, *yi = yr + ib->yim;
    if (real_bin(j, f)) {
        for (int o = 0; o < j->out; o++) {
            memcpy(yr + (size_t)o * G, A + (size_t)o * G, (size_t)nw * sizeof *yr);
            memset(yi + (size_t)o * G, 0, (size_t)nw * sizeof *yi);
        }
        return;
    }
    for (int o = 0; o < j->out; o++) {
        const float *restrict a = A + (size_t)o * G, *restrict b_ = B + (size_t)o * G;
        const float *restrict c = C + (size_t)o * G;
        float *restrict r = yr + (size_t)o * G, *restrict i_ = yi + (size_t)o * G;
        for (int w = 0; w < nw; w++) {
            r[w] = a[w] - b_[w];
            i_[w] = a[w] + c[w];
        }
    }
}

/* 2. bin f: Y = conj(W) Z, with the spectra wr, ws, wd: Gauss's trick, three real products
 * into A, B, C (one for the real bins 0 and N/2), which Y then takes, in Z's place or not */
static void bin_products(const fft_job *j, const item_bufs *ib, const thread_bufs *tb, int f,
                         const float *wr, const float *ws, const float *wd)
{
    if (real_bin(j, f)) {
        product(j, tb, wr, bin_z(j, ib, f, 0), ib->nw, tb->A);
    } else {
        product(j, tb, wr, bin_z(j, ib, f, 2), ib->nw, tb->A);
        product(j, tb, ws, bin_z(j, ib, f, 1), ib->nw, tb->B);
        product(j, tb, wd, bin_z(j, ib, f, 0), ib->nw, tb->C);
    }
    bin_finish(j, ib, f, tb->A, tb->B, tb->C);
}

/* 3. inverse: output rows 2q and 2q+1 of windows wa..wb share transforms */
static void item_inverse(const fft_job *j, int w0, const item_bufs *ib, const thread_bufs *tb,
                         int q0, int q1)
{
    const fft_plan *P = &j->P;
    const float scale = 1.0f / P->N;
    for (int q = q0; q < q1; q++)
        for (int p = 0, col = 0; p < j->phases; p++) {
            int cnt = item_windows(j, p, w0), Tp = phase_len(j->T, j->dil, p);
            float b1 = j->b ? j->b[2 * q] : 0.0f, b2 = j->b ? j->b[2 * q + 1] : 0.0f;
            float *y1 = j->y + (size_t)(2 * q) * j->T + p, *y2 = y1 + j->T;
            for (int wa = 0; wa < cnt; wa += FFT_V) {
                int nv = cnt - wa < FFT_V ? cnt - wa : FFT_V;
                kk_kern->fft_merge(tb->re, tb->im, ib->Y + (size_t)(2 * q) * j->G + col + wa,
                                   P->N, P->rev, nv, ib->yb, ib->yim, (size_t)j->G);
                kk_kern->fft_rows(tb->re, tb->im, P->N, P->cr, P->ci);
                kk_kern->fft_scatter(y1, y2, tb->re, tb->im, (w0 + wa) * P->L, P->L, j->dil, Tp,
                                     nv, b1, b2, scale);
            }
            col += cnt;
        }
}

/* One item on one thread: its buffers and the thread's in scratch S. */
static void run_item(fft_job *j, int item, float *S)
{
    const int w0 = item * j->g;
    item_bufs ib = item_at(j, S, w0, 0);
    thread_bufs tb = thread_at(j, S + item_floats(&j->P, j->in, j->out, j->G, 0));
    if (!ib.nw) return;
    item_forward(j, w0, &ib, &tb, 0, j->in / 2);
    const size_t fl = (size_t)j->outp * j->in;
    for (int f = 0; f < j->P.bins; f++)
        bin_products(j, &ib, &tb, f, j->Wr + f * fl, j->Ws + f * fl, j->Wd + f * fl);
    item_inverse(j, w0, &ib, &tb, 0, j->out / 2);
}

static void fft_part(int i, int n, void *arg)
{
    fft_job *j = arg;
    (void)n;
    if (i >= j->n_scratch || !j->scratch[i]) return; /* a thread the pool added meanwhile */
    for (int item; (item = atomic_fetch_add(&j->next, 1)) < j->n_items;)
        run_item(j, item, j->scratch[i]);
}

/* A row with few windows is one item that all threads share, step by step: channel pairs,
 * then bins, then output pairs split among them (items of their own left a thread idle: a
 * short utterance's 256-channel rows, 68 windows, were one or three items of 32). */
typedef struct {
    fft_job *j;
    item_bufs ib;
    float *tbase; /* thread_floats each, n_scratch of them */
    int step;
} shared_job;

static void shared_part(int i, int n, void *arg)
{
    shared_job *s = arg;
    fft_job *j = s->j;
    int m = n < j->n_scratch ? n : j->n_scratch; /* threads with buffers */
    if (i >= m) return;
    thread_bufs tb = thread_at(j, s->tbase + (size_t)i * thread_floats(j));
    if (s->step == 0) {
        item_forward(j, 0, &s->ib, &tb, j->in / 2 * i / m, j->in / 2 * (i + 1) / m);
    } else if (s->step == 2) {
        item_inverse(j, 0, &s->ib, &tb, j->out / 2 * i / m, j->out / 2 * (i + 1) / m);
    } else { /* bins by cost: three products each, one for bins 0 and N/2 */
        int bins = j->P.bins, total = 3 * (bins - 2) + 2, lo = total * i / m,
            hi = total * (i + 1) / m, f0 = bins, f1 = bins;
        for (int f = 0, acc = 0; f < bins; f++) {
            if (f0 == bins && acc >= lo) f0 = f;
            if (acc >= hi) {
                f1 = f;
                break;
            }
            acc += f == 0 || f == bins - 1 ? 1 : 3;
        }
        /* each group's spectra made here, into this thread's buffer (in L2), just before its
         * products read them: all of them made first went out to memory and back (13 MB a
         * 256-channel layer) */
        const size_t fl = (size_t)j->outp * j->in;
        for (int f = f0; f < f1; f += j->spec_group) {
            int nb = f1 - f < j->spec_group ? f1 - f : j->spec_group;
            make_spectra(j, 0, j->outp, f, f + nb, tb.W, tb.W + nb * fl, tb.W + 2 * nb * fl, fl);
            for (int b = 0; b < nb; b++)
                bin_products(j, &s->ib, &tb, f + b, tb.W + b * fl, tb.W + (nb + b) * fl,
                             tb.W + (2 * nb + b) * fl);
        }
    }
}

int kk_conv1d_fft_useful(int in, int out, int k, int T)
{
    /* Where it pays: even channel counts (windows go in pairs), 7 or more taps, and enough
     * samples for the filters' spectra to be worth making. From 1,024 samples since short
     * rows are one shared item (above); they used to start at 2,048, below which Winograd was
     * level with the FFT's items. */
    return in % 2 == 0 && out % 2 == 0 && k >= 7 && k <= 33 && T >= 1024;
}

static int fft_conv(kk_pool *p, const float *w, const kk_qw *qw, const float *b, int in, int out,
                    int k, int dil, const float *x, int T, float *y)
{
    if (in % 2 || out % 2 || k < 1 || k % 2 == 0 || dil < 1 || T < 1) return -1;
    if (qw && (out % KK_QG_ROWS || qw->cols != k * in || qw->rows != out)) return -1;
    fft_job j = {0};
    int N = in <= 128 ? 64 : 32;
    while (N - k + 1 < k && N < FFT_MAX_N) N *= 2;
    if (N - k + 1 < 1) return -1;
    plan_init(&j.P, N, k);
    j.in = in;
    j.out = out;
    j.dil = dil;
    j.T = T;
    j.x = x;
    j.b = b;
    j.y = y;
    j.w = w;
    j.qw = qw;
    j.outp = qw ? kk_qw_rows(out) : out;
    j.phases = dil < T ? dil : T;
    int windows = phase_windows(T, dil, 0, j.P.L); /* phase 0 is the longest */
    int threads = kk_pool_size(p);
    /* The whole row as one item, if it fits the threads' scratch together: the threads share
     * its steps, and each makes the spectra of its bins as it goes, a few at a time (those of
     * 256 channels' bins are 786 KB each). The pool's kept buffers, not fresh ones at each
     * call; within KOKORO_THREAD_BYTES a thread. */
    j.g = windows;
    j.G = j.g * j.phases;
    j.n_scratch = kk_pool_threads(p);
    j.spec_group = KK_WS_B;
    while (j.spec_group > 1 && spec_floats(&j) * sizeof(float) > SPEC_GROUP_MAX) j.spec_group--;
    const int in_place = out <= in; /* Y in Z's place (item_bufs) */
    size_t item = item_floats(&j.P, in, out, j.G, in_place);
    size_t shared = item + (size_t)j.n_scratch * thread_floats(&j);
    if (shared * sizeof(float) <= (size_t)threads * FFT_SCRATCH_MAX) {
        float *S = kk_pool_work(p, 1, shared);
        if (!S) return -1;
        shared_job sj = {&j, item_at(&j, S, 0, in_place), S + item, 0};
        for (sj.step = 0; sj.step < 3; sj.step++) kk_pool_run(p, shared_part, &sj);
        return 0;
    }
    /* Items of their own, each thread taking the next: the filters' spectra all made first
     * (fixed, whatever the length: in KOKORO_SYNTH_FIXED_BYTES), since every item reads them. */
    j.spec_group = 0;
    size_t wfl = (size_t)j.P.bins * j.outp * in;
    float *W = kk_pool_work(p, 0, 3 * wfl);
    int rc = -1;
    if (!W) return -1;
    j.Wr = W;
    j.Ws = W + wfl;
    j.Wd = W + 2 * wfl;
    /* windows per item and phase (g): enough columns for sgemm, enough items for the
     * threads; the columns (G) are g times the phases. 128 columns (64 with 256 channels), a
     * whole number of FFT_V-window groups per phase (a dilated convolution takes more
     * columns), within the scratch allowance */
    j.g = ((in <= 128 ? 128 : 64) / j.phases + FFT_V - 1) / FFT_V * FFT_V;
    for (j.G = j.g * j.phases; j.g > 8 && scratch_floats(&j) * sizeof(float) > FFT_SCRATCH_MAX;
         j.G = j.g * j.phases)
        j.g = j.g > FFT_V && j.g % FFT_V == 0 ? j.g - FFT_V : j.g - 1;
    /* enough items for the threads, down to one lane group per phase; a g that fills no
     * whole lane groups anyway (the scratch's cap, dilated) is evened out over items the
     * threads can share: dilated 5 over 8,881 samples, two threads take 17 + 16 windows of
     * each phase, not 6 + 6 + 6 + 6 + 6 + 3 (10.8 -> 9.4 ms). Whole groups stay whole:
     * 28-window items were 20% slower than 32. */
    while (j.g > FFT_V && windows < 2 * threads * j.g) j.g = j.g / 2 > FFT_V ? j.g / 2 : FFT_V;
    if (j.g % FFT_V) {
        int items = (windows + j.g - 1) / j.g;
        items = (items + threads - 1) / threads * threads;
        if (items > windows) items = windows;
        j.g = (windows + items - 1) / items;
    }
    j.G = j.g * j.phases;
    j.n_items = (windows + j.g - 1) / j.g;
    j.scratch = calloc((size_t)threads, sizeof *j.scratch);
    size_t sfl = scratch_floats(&j);
    if (!j.scratch) goto done;
    j.n_scratch = threads;
    for (int i = 0; i < threads; i++)
        if (!(j.scratch[i] = kk_pool_work(p, 1 + i, sfl))) goto done;
    kk_pool_run(p, wspec_part, &j);
    atomic_store(&j.next, 0);
    kk_pool_run(p, fft_part, &j);
    rc = 0;
done:
    free(j.scratch);
    return rc;
}

int kk_conv1d_fft(kk_pool *p, const float *w, const float *b, int in, int out, int k, int dil,
                  const float *x, int T, float *y)
{
    return fft_conv(p, w, NULL, b, in, out, k, dil, x, T, y);
}

int kk_conv1d_fft_q(kk_pool *p, const kk_qw *w, const float *b, int in, int out, int k, int dil,
                    const float *x, int T, float *y)
{
    return fft_conv(p, NULL, w, b, in, out, k, dil, x, T, y);
}
