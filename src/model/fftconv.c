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
 * they cost no memory between calls. */
#include "model/ops.h"

#include <cblas.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define FFT_V 32      /* transforms whose butterflies run together */
#define FFT_MAX_N 64

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

/* Forward FFT of FFT_V sequences at once: re/im are [N][FFT_V], rows already in bit-reversed
 * order. */
static void fft_rows(const fft_plan *P, float *restrict re, float *restrict im)
{
    const int N = P->N;
    for (int len = 2; len <= N; len <<= 1) {
        int half = len / 2, step = N / len;
        for (int s = 0; s < N; s += len)
            for (int j = 0; j < half; j++) {
                const float wr = P->cr[j * step], wi = P->ci[j * step];
                float *restrict ar = re + (size_t)(s + j) * FFT_V;
                float *restrict ai = im + (size_t)(s + j) * FFT_V;
                float *restrict br = re + (size_t)(s + j + half) * FFT_V;
                float *restrict bi = im + (size_t)(s + j + half) * FFT_V;
                for (int v = 0; v < FFT_V; v++) {
                    float tr = wr * br[v] - wi * bi[v], ti = wr * bi[v] + wi * br[v];
                    br[v] = ar[v] - tr;
                    bi[v] = ai[v] - ti;
                    ar[v] += tr;
                    ai[v] += ti;
                }
            }
    }
}

typedef struct {
    fft_plan P;
    int in, out, dil, T, G; /* G: windows per item */
    const float *x, *b;
    float *y;
    const float *Wr, *Ws, *Wd; /* [bins][out][in]: Re, Re + Im', Im' - Re of conj(W) */
    int n_items;
    int *item_phase, *item_first, *item_count; /* phase, first window, windows */
    float **scratch;                           /* per thread, NULL past n_scratch */
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

static void run_item(fft_job *j, int item, float *S)
{
    const fft_plan *P = &j->P;
    const int N = P->N, bins = P->bins, L = P->L, G = j->G, in = j->in, out = j->out;
    const int p = j->item_phase[item], w0 = j->item_first[item], nw = j->item_count[item];
    const int d = j->dil, Tp = phase_len(j->T, d, p);
    /* per bin f: Z[f] = Re [in][G], Im [in][G], Re + Im [in][G]; Y[f] = Re [out][G], Im */
    float *Z = S, *Y = Z + (size_t)bins * 3 * in * G;
    float *A = Y + (size_t)bins * 2 * out * G, *B = A + (size_t)out * G, *C = B + (size_t)out * G;
    float *re = C + (size_t)out * G, *im = re + (size_t)N * FFT_V;
    const size_t zb = (size_t)3 * in * G, yb = (size_t)2 * out * G; /* floats per bin */

    /* 1. spectra of the windows: channels 2q and 2q+1 of windows wa..wb share transforms */
    for (int q = 0; q < in / 2; q++)
        for (int wa = 0; wa < nw; wa += FFT_V) {
            int nv = nw - wa < FFT_V ? nw - wa : FFT_V;
            const float *x1 = j->x + (size_t)(2 * q) * j->T + p, *x2 = x1 + j->T;
            for (int v = 0; v < FFT_V; v++) {
                int u0 = (w0 + wa + v) * L - P->half; /* the window's first sample */
                for (int n = 0; n < N; n++) {
                    int u = u0 + n;
                    int ok = v < nv && u >= 0 && u < Tp;
                    size_t r = (size_t)P->rev[n] * FFT_V + v;
                    re[r] = ok ? x1[(size_t)u * d] : 0.0f;
                    im[r] = ok ? x2[(size_t)u * d] : 0.0f;
                }
            }
            fft_rows(P, re, im);
            for (int f = 0; f < bins; f++) {
                int m = (N - f) % N;
                const float *restrict fr = re + (size_t)f * FFT_V, *restrict fi = im + (size_t)f * FFT_V;
                const float *restrict mr = re + (size_t)m * FFT_V, *restrict mi = im + (size_t)m * FFT_V;
                float *restrict zr1 = Z + f * zb + (size_t)(2 * q) * G + wa, *restrict zr2 = zr1 + G;
                float *restrict zi1 = zr1 + (size_t)in * G, *restrict zi2 = zi1 + G;
                float *restrict zs1 = zi1 + (size_t)in * G, *restrict zs2 = zs1 + G;
                for (int v = 0; v < nv; v++) {
                    float x1r = 0.5f * (fr[v] + mr[v]), x1i = 0.5f * (fi[v] - mi[v]);
                    float x2r = 0.5f * (fi[v] + mi[v]), x2i = -0.5f * (fr[v] - mr[v]);
                    zr1[v] = x1r, zi1[v] = x1i, zs1[v] = x1r + x1i;
                    zr2[v] = x2r, zi2[v] = x2i, zs2[v] = x2r + x2i;
                }
            }
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
        for (int wa = 0; wa < nw; wa += FFT_V) {
            int nv = nw - wa < FFT_V ? nw - wa : FFT_V;
            memset(re, 0, (size_t)2 * N * FFT_V * sizeof *re);
            for (int f = 0; f < bins; f++) {
                float *restrict rf = re + (size_t)P->rev[f] * FFT_V, *restrict jf = im + (size_t)P->rev[f] * FFT_V;
                int m = (N - f) % N;
                const float *y1r = Y + f * yb + (size_t)(2 * q) * G + wa, *y2r = y1r + G;
                const float *y1i = y1r + (size_t)out * G, *y2i = y1i + G;
                /* conj of Z[f] = Y1 + i Y2, and of Z[N-f] = conj(Y1) + i conj(Y2) */
                for (int v = 0; v < nv; v++) {
                    rf[v] = y1r[v] - y2i[v];
                    jf[v] = -(y1i[v] + y2r[v]);
                }
                if (m != f) {
                    float *restrict rm = re + (size_t)P->rev[m] * FFT_V, *restrict jm = im + (size_t)P->rev[m] * FFT_V;
                    for (int v = 0; v < nv; v++) {
                        rm[v] = y1r[v] + y2i[v];
                        jm[v] = y1i[v] - y2r[v];
                    }
                }
            }
            fft_rows(P, re, im);
            float b1 = j->b ? j->b[2 * q] : 0.0f, b2 = j->b ? j->b[2 * q + 1] : 0.0f;
            float *y1 = j->y + (size_t)(2 * q) * j->T + p, *y2 = y1 + j->T;
            for (int v = 0; v < nv; v++) {
                int u0 = (w0 + wa + v) * L;
                for (int n = 0; n < L && u0 + n < Tp; n++) {
                    size_t t = (size_t)(u0 + n) * d;
                    y1[t] = b1 + scale * re[(size_t)n * FFT_V + v];
                    y2[t] = b2 - scale * im[(size_t)n * FFT_V + v];
                }
            }
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
    for (int f = f0; f < f1; f++)
        for (int o = 0; o < j->out; o++) {
            float *wr = j->Wr + ((size_t)f * j->out + o) * j->in;
            float *ws = j->Ws + ((size_t)f * j->out + o) * j->in;
            float *wd = j->Wd + ((size_t)f * j->out + o) * j->in;
            memset(wr, 0, (size_t)j->in * sizeof *wr);
            memset(wd, 0, (size_t)j->in * sizeof *wd); /* Im' accumulates here first */
            for (int t = 0; t < j->k; t++) {
                int e = (f * t) % P->N; /* e^{-2 pi i f t / N} = cr + i ci, at index e */
                float c = e < P->N / 2 ? P->cr[e] : -P->cr[e - P->N / 2];
                float s = e < P->N / 2 ? P->ci[e] : -P->ci[e - P->N / 2];
                const float *wt = j->w + ((size_t)o * j->k + t) * j->in; /* w[o][t][c] */
                for (int c_ = 0; c_ < j->in; c_++) {
                    wr[c_] += c * wt[c_];
                    wd[c_] -= s * wt[c_]; /* Im of conj(W) = -Im(W) */
                }
            }
            for (int c_ = 0; c_ < j->in; c_++) {
                float re_ = wr[c_], im_ = wd[c_];
                ws[c_] = re_ + im_;
                wd[c_] = im_ - re_;
            }
        }
}

int kk_conv1d_fft_useful(int in, int out, int k, int T)
{
    /* Where it pays: even channel counts (windows go in pairs), 7 or more taps, and enough
     * samples for the filters' spectra to be worth making. */
    return in % 2 == 0 && out % 2 == 0 && k >= 7 && k <= 33 && T >= 8192;
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
    /* windows per item: enough columns for sgemm, enough items for the threads */
    int phases = dil < T ? dil : T, windows = 0;
    for (int ph = 0; ph < phases; ph++) windows += phase_windows(T, dil, ph, j.P.L);
    int threads = kk_pool_size(p);
    j.G = in <= 128 ? 128 : 64;
    while (j.G > 16 && windows < 2 * threads * j.G) j.G /= 2;
    for (int ph = 0; ph < phases; ph++)
        j.n_items += (phase_windows(T, dil, ph, j.P.L) + j.G - 1) / j.G;
    size_t wfl = (size_t)j.P.bins * out * in;
    float *W = malloc(3 * wfl * sizeof *W);
    j.item_phase = malloc((size_t)j.n_items * 3 * sizeof(int));
    j.scratch = calloc((size_t)threads, sizeof *j.scratch);
    size_t sfl = scratch_floats(&j.P, in, out, j.G);
    int rc = -1;
    if (!W || !j.item_phase || !j.scratch) goto done;
    j.n_scratch = threads;
    for (int i = 0; i < threads; i++)
        if (!(j.scratch[i] = malloc(sfl * sizeof(float)))) goto done;
    long bytes = (long)((3 * wfl + threads * sfl) * sizeof(float));
    kk_pool_mem(p, bytes); /* fixed, whatever the length: in KOKORO_SYNTH_FIXED_BYTES */
    j.item_first = j.item_phase + j.n_items;
    j.item_count = j.item_first + j.n_items;
    int it = 0;
    for (int ph = 0; ph < phases; ph++) {
        int nwin = phase_windows(T, dil, ph, j.P.L);
        for (int w0 = 0; w0 < nwin; w0 += j.G) {
            j.item_phase[it] = ph;
            j.item_first[it] = w0;
            j.item_count[it] = nwin - w0 < j.G ? nwin - w0 : j.G;
            it++;
        }
    }
    j.Wr = W;
    j.Ws = W + wfl;
    j.Wd = W + 2 * wfl;
    wspec_job wj = {&j.P, w, in, out, k, W, W + wfl, W + 2 * wfl};
    kk_pool_run(p, wspec_part, &wj);
    atomic_store(&j.next, 0);
    kk_pool_run(p, fft_part, &j);
    kk_pool_mem(p, -bytes);
    rc = 0;
done:
    if (j.scratch)
        for (int i = 0; i < threads; i++) free(j.scratch[i]);
    free(j.scratch);
    free(j.item_phase);
    free(W);
    return rc;
}
