/* fftconv.c - the generator's long convolutions (7 and 11 taps, dilated 1, 3 or 5) by FFT.
 *
 * Overlap-save. Each dilation phase of the input (every d-th sample) is cut into windows of
 * N samples that overlap by k - 1. A window's spectrum times the conjugate spectrum of a
 * filter is the spectrum of L = N - k + 1 outputs of that filter, so summing over the input
 * channels makes, per frequency bin, one complex matrix product: W[f] (out x in) times the
 * windows' spectra Z[f] (in x windows). Gauss's trick does each complex product as three real
 * sgemm calls. Work per output and channel pair: 3 (N/2 - 1) + 2 multiply-adds per L outputs,
 * 1.8 for 11 taps at N = 64 where direct convolution takes 11 and Winograd F(4,3) 6.
 *
 * Two real windows share one complex FFT (one as the real part, one as the imaginary, split
 * apart by the spectra's symmetry), and two output rows share one inverse FFT. The butterflies
 * run over FFT_V transforms at once, a row of each, so that they vectorise. The filters'
 * spectra are made at each call (a small product next to the convolution itself), so that
 * they cost no memory between layers; they and the per-thread scratch live in buffers the
 * pool keeps until the engine releases them at the end of a resblock (kk_pool_work).
 *
 * A work item is a stretch of the row: windows w0 .. w0 + g - 1 of every phase, side by side
 * as the columns of its products. Items of one phase each (as before) read and wrote every
 * cache line of x and y once per phase, from memory: dilated 5, 128 channels and 87,000
 * samples took 146 ms where undilated took 103 (one thread); now 96-102 ms. */
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

typedef struct {
    int N, log2n, bins, L, k, half;
    float cr[FFT_MAX_N / 2], ci[FFT_MAX_N / 2]; /* e^{-2 pi i t / N} */
    int rev[FFT_MAX_N];
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
}

typedef struct {
    fft_plan P;
    int in, out, dil, T, G; /* G: windows per item */
    const float *x, *b;
    float *y;
    const float *Wr, *Ws, *Wd; /* [bins][out][in]: Re, Re + Im', Im' - Re of conj(W) */
    int n_items, phases, g; /* item i: windows [i g, (i + 1) g) of every phase */
    float **scratch;        /* per thread, NULL past n_scratch */
    int n_scratch;
    atomic_int next;
    atomic_int failed;
} fft_job;

/* Floats of one thread's scratch: spectra of the windows (Re, Im, Re + Im), of the outputs
 * (Re, Im), three product rows and the butterfly buffer. */
static size_t scratch_floats(const fft_plan *P, int in, int out, int G)
{
    return (size_t)3 * P->bins * in * G + (size_t)2 * P->bins * out * G + (size_t)3 * out * G +
           (size_t)2 * P->N * FFT_V;
}

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

static void run_item(fft_job *j, int item, float *S)
{
    const fft_plan *P = &j->P;
    const int N = P->N, bins = P->bins, L = P->L, G = j->G, in = j->in, out = j->out;
    const int d = j->dil, w0 = item * j->g;
    /* per bin f: Z[f] = Re [in][G], Im [in][G], Re + Im [in][G]; Y[f] = Re [out][G], Im */
    float *Z = S, *Y = Z + (size_t)bins * 3 * in * G;
    float *A = Y + (size_t)bins * 2 * out * G, *B = A + (size_t)out * G, *C = B + (size_t)out * G;
    float *re = C + (size_t)out * G, *im = re + (size_t)N * FFT_V;
    const size_t zb = (size_t)3 * in * G, yb = (size_t)2 * out * G; /* floats per bin */
    /* The item's columns: windows w0.. of phase 0, then of phase 1, ... All phases of a
     * stretch of the row in one item, so that a dilated convolution reads and writes each
     * cache line of x and y once, not once per phase. */
    int nw = 0;
    for (int p = 0; p < j->phases; p++) nw += item_windows(j, p, w0);
    if (!nw) return;

    /* 1. spectra of the windows: channels 2q and 2q+1 of windows wa..wb share transforms */
    for (int q = 0; q < in / 2; q++)
        for (int p = 0, col = 0; p < j->phases; p++) {
            int cnt = item_windows(j, p, w0), Tp = phase_len(j->T, d, p);
            for (int wa = 0; wa < cnt; wa += FFT_V) {
                int nv = cnt - wa < FFT_V ? cnt - wa : FFT_V;
                const float *x1 = j->x + (size_t)(2 * q) * j->T + p, *x2 = x1 + j->T;
                kk_kern->fft_gather(re, im, x1, x2, N, P->rev, (w0 + wa) * L - P->half, L, d, Tp,
                                    nv);
                kk_kern->fft_rows(re, im, N, P->cr, P->ci);
                kk_kern->fft_split(re, im, N, nv, Z + (size_t)(2 * q) * G + col + wa, zb,
                                   (size_t)in * G, (size_t)G);
            }
            col += cnt;
        }

    /* 2. per bin: Y = conj(W) Z, three real products (bins 0 and N/2 are real) */
    for (int f = 0; f < bins; f++) {
        const float *wr = j->Wr + (size_t)f * out * in;
        const float *zr = Z + f * zb, *zi = zr + (size_t)in * G, *zs = zi + (size_t)in * G;
        float *yr = Y + f * yb, *yi = yr + (size_t)out * G;
        if (f == 0 || f == N / 2) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, nw, in, 1.0f, wr, in, zr,
                        G, 0.0f, yr, G);
            for (int o = 0; o < out; o++) memset(yi + (size_t)o * G, 0, (size_t)nw * sizeof *yi);
            continue;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, nw, in, 1.0f, wr, in, zs, G,
                    0.0f, A, G);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, nw, in, 1.0f,
                    j->Ws + (size_t)f * out * in, in, zi, G, 0.0f, B, G);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, nw, in, 1.0f,
                    j->Wd + (size_t)f * out * in, in, zr, G, 0.0f, C, G);
        for (int o = 0; o < out; o++) {
            const float *restrict a = A + (size_t)o * G, *restrict b_ = B + (size_t)o * G;
            const float *restrict c = C + (size_t)o * G;
            float *restrict r = yr + (size_t)o * G, *restrict i_ = yi + (size_t)o * G;
            for (int w = 0; w < nw; w++) {
                r[w] = a[w] - b_[w];
                i_[w] = a[w] + c[w];
            }
        }
    }

    /* 3. inverse: output rows 2q and 2q+1 of windows wa..wb share transforms */
    const float scale = 1.0f / N;
    for (int q = 0; q < out / 2; q++)
        for (int p = 0, col = 0; p < j->phases; p++) {
            int cnt = item_windows(j, p, w0), Tp = phase_len(j->T, d, p);
            float b1 = j->b ? j->b[2 * q] : 0.0f, b2 = j->b ? j->b[2 * q + 1] : 0.0f;
            float *y1 = j->y + (size_t)(2 * q) * j->T + p, *y2 = y1 + j->T;
            for (int wa = 0; wa < cnt; wa += FFT_V) {
                int nv = cnt - wa < FFT_V ? cnt - wa : FFT_V;
                kk_kern->fft_merge(re, im, Y + (size_t)(2 * q) * G + col + wa, N, P->rev, nv, yb,
                                   (size_t)out * G, (size_t)G);
                kk_kern->fft_rows(re, im, N, P->cr, P->ci);
                kk_kern->fft_scatter(y1, y2, re, im, (w0 + wa) * L, L, d, Tp, nv, b1, b2, scale);
            }
            col += cnt;
        }
}

static void fft_part(int i, int n, void *arg)
{
    fft_job *j = arg;
    (void)n;
    if (i >= j->n_scratch || !j->scratch[i]) return; /* a thread the pool added meanwhile */
    for (int item; (item = atomic_fetch_add(&j->next, 1)) < j->n_items;)
        run_item(j, item, j->scratch[i]);
}

typedef struct {
    const fft_plan *P;
    const float *w;
    int in, out, k;
    float *Wr, *Ws, *Wd;
} wspec_job;

/* The filters' conjugate spectra, bins split over the threads. */
static void wspec_part(int i, int n, void *arg)
{
    wspec_job *j = arg;
    const fft_plan *P = j->P;
    int f0 = P->bins * i / n, f1 = P->bins * (i + 1) / n;
    float c[FFT_MAX_N], s[FFT_MAX_N]; /* e^{-2 pi i f t / N} for the k taps */
    for (int f = f0; f < f1; f++) {
        for (int t = 0; t < j->k; t++) {
            int e = (f * t) % P->N;
            c[t] = e < P->N / 2 ? P->cr[e] : -P->cr[e - P->N / 2];
            s[t] = e < P->N / 2 ? P->ci[e] : -P->ci[e - P->N / 2];
        }
        for (int o = 0; o < j->out; o++) {
            size_t at = ((size_t)f * j->out + o) * j->in;
            kk_kern->wspec_row(j->Wr + at, j->Ws + at, j->Wd + at,
                               j->w + (size_t)o * j->k * j->in, j->k, j->in, c, s);
        }
    }
}

int kk_conv1d_fft_useful(int in, int out, int k, int T)
{
    /* Where it pays: even channel counts (windows go in pairs), 7 or more taps, and enough
     * samples for the filters' spectra to be worth making. */
    return in % 2 == 0 && out % 2 == 0 && k >= 7 && k <= 33 && T >= 2048;
}

int kk_conv1d_fft(kk_pool *p, const float *w, const float *b, int in, int out, int k, int dil,
                  const float *x, int T, float *y)
{
    if (in % 2 || out % 2 || k < 1 || k % 2 == 0 || dil < 1 || T < 1) return -1;
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
    /* windows per item and phase (g): enough columns for sgemm, enough items for the
     * threads; the columns (G) are g times the phases */
    j.phases = dil < T ? dil : T;
    int windows = phase_windows(T, dil, 0, j.P.L); /* phase 0 is the longest */
    int threads = kk_pool_size(p);
    /* 128 columns (64 with 256 channels), a whole number of FFT_V-window groups per phase
     * (a dilated convolution takes more columns), within the scratch allowance */
    j.g = ((in <= 128 ? 128 : 64) / j.phases + FFT_V - 1) / FFT_V * FFT_V;
    while (j.g > 8 && scratch_floats(&j.P, in, out, j.g * j.phases) * sizeof(float) > FFT_SCRATCH_MAX)
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
    size_t wfl = (size_t)j.P.bins * out * in;
    /* the pool's kept buffers (fixed, whatever the length: in KOKORO_SYNTH_FIXED_BYTES and
     * KOKORO_THREAD_BYTES), not fresh ones at each call */
    float *W = kk_pool_work(p, 0, 3 * wfl);
    j.scratch = calloc((size_t)threads, sizeof *j.scratch);
    size_t sfl = scratch_floats(&j.P, in, out, j.G);
    int rc = -1;
    if (!W || !j.scratch) goto done;
    j.n_scratch = threads;
    for (int i = 0; i < threads; i++)
        if (!(j.scratch[i] = kk_pool_work(p, 1 + i, sfl))) goto done;
    j.Wr = W;
    j.Ws = W + wfl;
    j.Wd = W + 2 * wfl;
    wspec_job wj = {&j.P, w, in, out, k, W, W + wfl, W + 2 * wfl};
    kk_pool_run(p, wspec_part, &wj);
    atomic_store(&j.next, 0);
    kk_pool_run(p, fft_part, &j);
    rc = 0;
done:
    free(j.scratch);
    return rc;
}
