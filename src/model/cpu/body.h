/* body.h - the kernels in portable C, written so that compilers vectorise them; included once
 * by each back-end file with KK_VARIANT set (generic, avx2, avx512, neon), which compiles the
 * same loops for its instruction set and may replace some of them with intrinsics.
 * Defines static functions named kk_<variant>_<kernel>; the including file builds the table.
 * Include <math.h> and <stddef.h> before, and outside any target pragma. */
#ifndef KK_VARIANT
#error "define KK_VARIANT before including model/cpu/body.h"
#endif

#define KK_CAT2(a, b, c) a##b##c
#define KK_CAT(a, b, c) KK_CAT2(a, b, c)
#define KK_FN(name) KK_CAT(kk_, KK_VARIANT, _##name)

static void KK_FN(wino_in)(float *restrict v0, float *restrict v1, float *restrict v2,
                           float *restrict v3, float *restrict v4, float *restrict v5,
                           const float *restrict z0, const float *restrict z1,
                           const float *restrict z2, const float *restrict z3,
                           const float *restrict z4, const float *restrict z5, int nb)
{
    for (int t = 0; t < nb; t++) {
        v0[t] = 4 * z0[t] - 5 * z2[t] + z4[t];
        v1[t] = -4 * z1[t] - 4 * z2[t] + z3[t] + z4[t];
        v2[t] = 4 * z1[t] - 4 * z2[t] - z3[t] + z4[t];
        v3[t] = -2 * z1[t] - z2[t] + 2 * z3[t] + z4[t];
        v4[t] = 2 * z1[t] - z2[t] - 2 * z3[t] + z4[t];
        v5[t] = 4 * z1[t] - 5 * z3[t] + z5[t];
    }
}

static void KK_FN(wino_out)(float *restrict y0, float *restrict y1, float *restrict y2,
                            float *restrict y3, const float *restrict m0,
                            const float *restrict m1, const float *restrict m2,
                            const float *restrict m3, const float *restrict m4,
                            const float *restrict m5, int nb)
{
    for (int t = 0; t < nb; t++) {
        float a = m1[t] + m2[t], b = m1[t] - m2[t], c = m3[t] + m4[t], d = m3[t] - m4[t];
        y0[t] += m0[t] + a + c;
        y1[t] += b + 2 * d;
        y2[t] += a + 4 * c;
        y3[t] += b + 8 * d + m5[t];
    }
}

/* Mean and variance in two passes (the squares of deviations from the mean, not the mean
 * of squares), each over 64 float lanes: independent adds, so that the passes run at the
 * cache's speed, not at the add's latency; the lanes are summed in double. */
enum { STAT_LANES = 64 };
static void KK_FN(row_stats)(const float *restrict r, int T, double *mean, double *var)
{
    float s[STAT_LANES] = {0}, q[STAT_LANES] = {0};
    int t = 0;
    for (; t + STAT_LANES <= T; t += STAT_LANES)
        for (int j = 0; j < STAT_LANES; j++) s[j] += r[t + j];
    double sum = 0;
    for (int j = 0; j < STAT_LANES; j++) sum += s[j];
    for (; t < T; t++) sum += r[t];
    double m = sum / T;
    float mf = (float)m;
    t = 0;
    for (; t + STAT_LANES <= T; t += STAT_LANES)
        for (int j = 0; j < STAT_LANES; j++) {
            float d = r[t + j] - mf;
            q[j] += d * d;
        }
    double sq = 0;
    for (int j = 0; j < STAT_LANES; j++) sq += q[j];
    for (; t < T; t++) sq += (r[t] - m) * (r[t] - m);
    *mean = m;
    *var = sq / T;
}

static void KK_FN(norm_affine)(float *restrict x, int T, float mean, float inv, float ga,
                               float be)
{
    for (int t = 0; t < T; t++) x[t] = ga * ((x[t] - mean) * inv) + be;
}

/* sin^2 of a float, vectorisable: reduce by multiples of pi (sin^2 has period pi, so the
 * sign of the reduction does not matter), then an odd polynomial on [-pi/2, pi/2]
 * (absolute error below 2e-7 there). */
static inline float KK_FN(sin2f)(float x)
{
    const float inv_pi = 0.31830988618379067f, pi_hi = 3.140625f, pi_lo = 9.67653589793e-4f;
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

static void KK_FN(snake)(float *restrict x, int T, float a)
{
    float ia = 1.0f / a;
    for (int t = 0; t < T; t++) x[t] += ia * KK_FN(sin2f)(a * x[t]);
}

static void KK_FN(affine_snake)(const float *restrict x, float *restrict y, int T, float scale,
                                float shift, float a)
{
    float ia = 1.0f / a;
    for (int t = 0; t < T; t++) {
        float v = scale * x[t] + shift;
        y[t] = v + ia * KK_FN(sin2f)(a * v);
    }
}

static void KK_FN(leaky_relu)(float *restrict x, size_t n, float slope)
{
    for (size_t i = 0; i < n; i++) x[i] = x[i] < 0 ? x[i] * slope : x[i];
}

static void KK_FN(layernorm)(float *restrict r, int C, const float *restrict g,
                             const float *restrict b, float eps)
{
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

/* e^x, vectorisable: x = n ln2 + r with |r| <= ln2 / 2, a degree-7 polynomial for e^r
 * (relative error below 2e-7), 2^n put in the exponent bits. x is clamped to [-87, 88], where
 * 2^n stays a normal float: e^x of a larger |x| is not needed here (gelu, the LSTM's gates, whose
 * 1 / (1 + e^x) is then within a float's reach of 0 or 1). */
static inline float KK_FN(expf_v)(float x)
{
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    float n = floorf(x * 1.44269504088896341f + 0.5f);
    float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union {
        int i;
        float f;
    } e = {.i = ((int)n + 127) << 23};
    return p * e.f;
}

static void KK_FN(gelu)(float *restrict x, size_t n)
{
    const float k2 = -2.0f * 0.7978845608028654f; /* -2 sqrt(2/pi) */
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        x[i] = v / (1.0f + KK_FN(expf_v)(k2 * (v + 0.044715f * v * v * v)));
    }
}

/* The gates with the vectorisable e^x (expf_v), all H units a vector at a time: sigmoid
 * 1 / (1 + e^-v), tanh 2 / (1 + e^-2v) - 1 (absolute error about 3e-7; the forget gate keeps
 * it from growing over the steps). libm's expf and tanhf, one unit at a time, were 70% of the
 * recurrence: "Hello from Kokoro." runs 358 steps of 256 units, 7 ms of 10 at one thread. */
static inline float KK_FN(sigm)(float v) { return 1.0f / (1.0f + KK_FN(expf_v)(-v)); }
static inline float KK_FN(tanh_v)(float v) { return 2.0f / (1.0f + KK_FN(expf_v)(-2.0f * v)) - 1.0f; }

static void KK_FN(lstm_cell)(const float *restrict g, float *restrict c, float *restrict h,
                             float *restrict out, int H)
{
    for (int u = 0; u < H; u++) {
        float ig = KK_FN(sigm)(g[u]), fg = KK_FN(sigm)(g[H + u]), gg = KK_FN(tanh_v)(g[2 * H + u]),
              og = KK_FN(sigm)(g[3 * H + u]);
        float cu = fg * c[u] + ig * gg;
        c[u] = cu;
        h[u] = og * KK_FN(tanh_v)(cu);
        out[u] = h[u];
    }
}

/* 4 x 4 blocks transposed in registers (every back end has 4-float vectors), for the
 * windows' gather and scatter: a window's samples are contiguous in x and y, a sample of 32
 * windows is one row of the butterflies. One float at a time, they were a fifth of a 128-channel
 * FFT convolution. */
typedef float kk_v4 __attribute__((vector_size(16), aligned(4), may_alias));
#define KK_T4(c0, c1, c2, c3, a0, a1, a2, a3)                                                  \
    do {                                                                                       \
        const kk_v4 t0_ = __builtin_shufflevector(a0, a1, 0, 4, 1, 5);                         \
        const kk_v4 t1_ = __builtin_shufflevector(a0, a1, 2, 6, 3, 7);                         \
        const kk_v4 t2_ = __builtin_shufflevector(a2, a3, 0, 4, 1, 5);                         \
        const kk_v4 t3_ = __builtin_shufflevector(a2, a3, 2, 6, 3, 7);                         \
        c0 = __builtin_shufflevector(t0_, t2_, 0, 1, 4, 5);                                    \
        c1 = __builtin_shufflevector(t0_, t2_, 2, 3, 6, 7);                                    \
        c2 = __builtin_shufflevector(t1_, t3_, 0, 1, 4, 5);                                    \
        c3 = __builtin_shufflevector(t1_, t3_, 2, 3, 6, 7);                                    \
    } while (0)

/* Rows rev[n] of dst [N][V], lanes v < nv4 (a multiple of 4), from windows v of src
 * (contiguous samples, window v at v L), N a multiple of 4, those windows inside the row. */
static inline void KK_FN(gather_t4)(float *restrict dst, const float *restrict src, int N,
                                    const int *restrict rev, int L, int nv4)
{
    enum { V = KK_FFT_V };
    for (int v = 0; v < nv4; v += 4)
        for (int n = 0; n < N; n += 4) {
            const float *a = src + (size_t)v * L + n;
            kk_v4 c0, c1, c2, c3;
            KK_T4(c0, c1, c2, c3, *(const kk_v4 *)a, *(const kk_v4 *)(a + L),
                  *(const kk_v4 *)(a + 2 * L), *(const kk_v4 *)(a + 3 * L));
            *(kk_v4 *)(dst + (size_t)rev[n] * V + v) = c0;
            *(kk_v4 *)(dst + (size_t)rev[n + 1] * V + v) = c1;
            *(kk_v4 *)(dst + (size_t)rev[n + 2] * V + v) = c2;
            *(kk_v4 *)(dst + (size_t)rev[n + 3] * V + v) = c3;
        }
}

static void KK_FN(fft_gather)(float *restrict re, float *restrict im, const float *restrict x1,
                              const float *restrict x2, int N, const int *restrict rev, int u0,
                              int L, int d, int Tp, int nv)
{
    enum { V = KK_FFT_V };
    int v_lo = 0, v_hi = 0; /* windows [v_lo, v_hi) four at a time */
    if (d == 1 && N % 4 == 0) { /* those wholly inside an undilated row */
        v_lo = u0 < 0 ? (-u0 + L - 1) / L : 0;
        int end = Tp - N - u0 < 0 ? 0 : (Tp - N - u0) / L + 1; /* u0 + v L + N <= Tp */
        end = end < nv ? end : nv;
        v_hi = end > v_lo ? v_lo + (end - v_lo) / 4 * 4 : v_lo;
        KK_FN(gather_t4)(re + v_lo, x1 + u0 + v_lo * L, N, rev, L, v_hi - v_lo);
        KK_FN(gather_t4)(im + v_lo, x2 + u0 + v_lo * L, N, rev, L, v_hi - v_lo);
    }
    for (int v = 0; v < V; v++) {
        if (v == v_lo) v = v_hi;
        if (v >= V) break;
        int base = u0 + v * L;
        if (v < nv && base >= 0 && base + N <= Tp) { /* inside the row: no tests */
            const float *restrict a = x1 + (size_t)base * d, *restrict b = x2 + (size_t)base * d;
            for (int n = 0; n < N; n++) {
                re[(size_t)rev[n] * V + v] = a[(size_t)n * d];
                im[(size_t)rev[n] * V + v] = b[(size_t)n * d];
            }
            continue;
        }
        for (int n = 0; n < N; n++) {
            int u = base + n, ok = v < nv && u >= 0 && u < Tp;
            re[(size_t)rev[n] * V + v] = ok ? x1[(size_t)u * d] : 0.0f;
            im[(size_t)rev[n] * V + v] = ok ? x2[(size_t)u * d] : 0.0f;
        }
    }
}

static inline void KK_FN(split_bin)(const float *restrict fr, const float *restrict fi,
                                    const float *restrict mr, const float *restrict mi,
                                    float *restrict zr1, float *restrict zi1,
                                    float *restrict zs1, float *restrict zr2,
                                    float *restrict zi2, float *restrict zs2, int nv)
{
    for (int v = 0; v < nv; v++) {
        float x1r = 0.5f * (fr[v] + mr[v]), x1i = 0.5f * (fi[v] - mi[v]);
        float x2r = 0.5f * (fi[v] + mi[v]), x2i = -0.5f * (fr[v] - mr[v]);
        zr1[v] = x1r, zi1[v] = x1i, zs1[v] = x1r + x1i;
        zr2[v] = x2r, zi2[v] = x2i, zs2[v] = x2r + x2i;
    }
}

static void KK_FN(fft_split)(const float *re, const float *im, int N, int nv, float *z,
                             size_t zbin, size_t part, size_t G)
{
    enum { V = KK_FFT_V };
    for (int f = 0; f <= N / 2; f++) {
        int m = (N - f) % N;
        float *zr = z + (size_t)f * zbin;
        KK_FN(split_bin)(re + (size_t)f * V, im + (size_t)f * V, re + (size_t)m * V,
                         im + (size_t)m * V, zr, zr + part, zr + 2 * part, zr + G,
                         zr + part + G, zr + 2 * part + G, nv);
    }
}

static inline void KK_FN(merge_bin)(float *restrict rf, float *restrict jf, float *restrict rm,
                                    float *restrict jm, const float *restrict y1r,
                                    const float *restrict y1i, const float *restrict y2r,
                                    const float *restrict y2i, int nv)
{
    /* conj of Z[f] = Y1 + i Y2, and of Z[N-f] = conj(Y1) + i conj(Y2) */
    for (int v = 0; v < nv; v++) {
        rf[v] = y1r[v] - y2i[v];
        jf[v] = -(y1i[v] + y2r[v]);
        rm[v] = y1r[v] + y2i[v];
        jm[v] = y1i[v] - y2r[v];
    }
}

static void KK_FN(fft_merge)(float *restrict re, float *restrict im, const float *restrict y,
                             int N, const int *restrict rev, int nv, size_t ybin, size_t part,
                             size_t G)
{
    enum { V = KK_FFT_V };
    for (size_t i = 0; i < (size_t)N * V; i++) re[i] = im[i] = 0.0f;
    for (int f = 0; f <= N / 2; f++) {
        int m = (N - f) % N;
        const float *y1r = y + (size_t)f * ybin;
        float *rf = re + (size_t)rev[f] * V, *jf = im + (size_t)rev[f] * V;
        if (m == f) { /* bins 0 and N/2: their own mirror, written once */
            for (int v = 0; v < nv; v++) {
                rf[v] = y1r[v] - y1r[part + G + v];
                jf[v] = -(y1r[part + v] + y1r[G + v]);
            }
            continue;
        }
        KK_FN(merge_bin)(rf, jf, re + (size_t)rev[m] * V, im + (size_t)rev[m] * V, y1r,
                         y1r + part, y1r + G, y1r + part + G, nv);
    }
}

static void KK_FN(fft_scatter)(float *restrict y1, float *restrict y2, const float *restrict re,
                               const float *restrict im, int u0, int L, int d, int Tp, int nv,
                               float b1, float b2, float scale)
{
    enum { V = KK_FFT_V };
    int v0 = 0;
    if (d == 1) { /* the windows wholly inside an undilated row, four at a time */
        const kk_v4 vb1 = {b1, b1, b1, b1}, vb2 = {b2, b2, b2, b2};
        int inside = (Tp - u0) / L < nv ? (Tp - u0) / L : nv;
        const int nv4 = inside / 4 * 4;
        int n = 0;
        for (; n + 4 <= L; n += 4)
            for (int v = 0; v < nv4; v += 4) {
                kk_v4 c0, c1, c2, c3;
                const float *r = re + (size_t)n * V + v, *m = im + (size_t)n * V + v;
                float *o1 = y1 + u0 + (size_t)v * L + n, *o2 = y2 + u0 + (size_t)v * L + n;
                KK_T4(c0, c1, c2, c3, *(const kk_v4 *)r, *(const kk_v4 *)(r + V),
                      *(const kk_v4 *)(r + 2 * V), *(const kk_v4 *)(r + 3 * V));
                *(kk_v4 *)o1 = vb1 + scale * c0;
                *(kk_v4 *)(o1 + L) = vb1 + scale * c1;
                *(kk_v4 *)(o1 + 2 * L) = vb1 + scale * c2;
                *(kk_v4 *)(o1 + 3 * L) = vb1 + scale * c3;
                KK_T4(c0, c1, c2, c3, *(const kk_v4 *)m, *(const kk_v4 *)(m + V),
                      *(const kk_v4 *)(m + 2 * V), *(const kk_v4 *)(m + 3 * V));
                *(kk_v4 *)o2 = vb2 - scale * c0;
                *(kk_v4 *)(o2 + L) = vb2 - scale * c1;
                *(kk_v4 *)(o2 + 2 * L) = vb2 - scale * c2;
                *(kk_v4 *)(o2 + 3 * L) = vb2 - scale * c3;
            }
        for (; n < L; n++) /* the last rows */
            for (int v = 0; v < nv4; v++) {
                y1[u0 + v * L + n] = b1 + scale * re[n * V + v];
                y2[u0 + v * L + n] = b2 - scale * im[n * V + v];
            }
        v0 = nv4;
    }
    for (int v = v0; v < nv; v++) {
        int uv = u0 + v * L, n_end = Tp - uv < L ? Tp - uv : L;
        for (int n = 0; n < n_end; n++) {
            int t = (uv + n) * d;
            y1[t] = b1 + scale * re[n * V + v];
            y2[t] = b2 - scale * im[n * V + v];
        }
    }
}

/* The 8-bit-weight product (kernels.h, kk_qtile): a row group's weights are made floats once
 * into a panel (qg_panel, L2-sized), which every tile of the group's columns then reads:
 * KK_QG_NB blocks of 16 rows as vectors of KK_QG_VL floats, KK_QG_NR columns as broadcast
 * scalars, the accumulators held in registers over the whole K. A back-end file sets the three
 * before including this one to fill its registers (AVX-512: 2 x 12 of its 32); the defaults
 * fit 16 SSE registers. */
#ifndef KK_QG_NB
#define KK_QG_NB 1
#define KK_QG_NR 3
#define KK_QG_VL 4
#endif
#if defined(__clang__)
#define KK_QG_UNROLL _Pragma("unroll")
#else
#define KK_QG_UNROLL _Pragma("GCC unroll 16")
#endif
#define KK_QG_H (KK_QG_NB * KK_QG_ROWS / KK_QG_VL) /* vectors of rows */
_Static_assert(KK_QG_NR <= KK_QG_NR_MAX && KK_QG_NB <= 2, "a tile kernels.h does not allow");
typedef float kk_qv __attribute__((vector_size(4 * KK_QG_VL), aligned(4), may_alias));
typedef int8_t kk_qb __attribute__((vector_size(KK_QG_VL), aligned(1), may_alias));
typedef int32_t kk_qi __attribute__((vector_size(4 * KK_QG_VL)));
/* KK_QG_VL int8 at p as floats in dst; a back end may give its own instructions. */
#ifndef KK_QG_WIDEN
#define KK_QG_WIDEN(dst, p) \
    ((dst) = __builtin_convertvector(__builtin_convertvector(*(const kk_qb *)(p), kk_qi), kk_qv))
#endif

/* The floats of rows blk * 16 .. (blk + KK_QG_NB) * 16 of g's weights, for every k, into
 * panel [K][KK_QG_NB * 16]: (q - zero) * scale, the same floats kk_dequant makes. */
static void KK_FN(qg_panel)(const kk_qtile *g, int blk, float *restrict panel)
{
    enum { PER = KK_QG_ROWS / KK_QG_VL, W = KK_QG_NB * KK_QG_ROWS };
    const size_t K = (size_t)g->in * g->taps;
    kk_qv z[KK_QG_H], sc[KK_QG_H];
    const int8_t *qb[KK_QG_H];
    KK_QG_UNROLL for (int h = 0; h < KK_QG_H; h++)
    {
        int b = blk + h / PER, off = h % PER * KK_QG_VL;
        z[h] = *(const kk_qv *)(g->zero + (size_t)b * KK_QG_ROWS + off);
        sc[h] = *(const kk_qv *)(g->scale + (size_t)b * KK_QG_ROWS + off);
        qb[h] = g->q + (size_t)b * K * KK_QG_ROWS + off;
    }
    for (size_t k = 0; k < K; k++) {
        KK_QG_UNROLL for (int h = 0; h < KK_QG_H; h++)
        {
            kk_qv w;
            KK_QG_WIDEN(w, qb[h] + k * KK_QG_ROWS);
            *(kk_qv *)(panel + k * W + h * KK_QG_VL) = (w - z[h]) * sc[h];
        }
    }
}

/* Complex x * w, w a scalar pair, x a vector pair. */
#define KK_CMUL(tr, ti, wr, wi, ar, ai) \
    const kk_qv tr = (wr) * (ar) - (wi) * (ai), ti = (wr) * (ai) + (wi) * (ar)
#define KK_LD(p) (*(const kk_qv *)(p))
#define KK_ST(p) (*(kk_qv *)(p))

/* The radix-2 stages two at a time (sizes len and 2 len): four rows loaded, both levels of
 * butterflies in registers, four stored, so that every row is read and written half as
 * often; a last single stage when log2 N is odd. KK_FFT_V is a whole number of vectors. */
static void KK_FN(fft_rows)(float *restrict re, float *restrict im, int N,
                            const float *restrict cr, const float *restrict ci)
{
    enum { V = KK_FFT_V, VL = KK_QG_VL };
    int len = 2;
    for (; 2 * len <= N; len *= 4) {
        const int h = len / 2, s1 = N / len, s2 = N / (2 * len);
        for (int b = 0; b < N; b += 2 * len)
            for (int j = 0; j < h; j++) {
                const float w1r = cr[j * s1], w1i = ci[j * s1];
                const float war = cr[j * s2], wai = ci[j * s2];
                const float wbr = cr[(j + h) * s2], wbi = ci[(j + h) * s2];
                float *r0 = re + (size_t)(b + j) * V, *i0 = im + (size_t)(b + j) * V;
                float *r1 = r0 + (size_t)h * V, *i1 = i0 + (size_t)h * V;
                float *r2 = r0 + (size_t)len * V, *i2 = i0 + (size_t)len * V;
                float *r3 = r2 + (size_t)h * V, *i3 = i2 + (size_t)h * V;
                for (int v = 0; v < V; v += VL) {
                    KK_CMUL(t1r, t1i, w1r, w1i, KK_LD(r1 + v), KK_LD(i1 + v));
                    KK_CMUL(t3r, t3i, w1r, w1i, KK_LD(r3 + v), KK_LD(i3 + v));
                    const kk_qv a0r = KK_LD(r0 + v), a0i = KK_LD(i0 + v);
                    const kk_qv a2r = KK_LD(r2 + v), a2i = KK_LD(i2 + v);
                    const kk_qv x0r = a0r + t1r, x0i = a0i + t1i, x1r = a0r - t1r, x1i = a0i - t1i;
                    const kk_qv x2r = a2r + t3r, x2i = a2i + t3i, x3r = a2r - t3r, x3i = a2i - t3i;
                    KK_CMUL(u2r, u2i, war, wai, x2r, x2i);
                    KK_CMUL(u3r, u3i, wbr, wbi, x3r, x3i);
                    KK_ST(r0 + v) = x0r + u2r, KK_ST(i0 + v) = x0i + u2i;
                    KK_ST(r2 + v) = x0r - u2r, KK_ST(i2 + v) = x0i - u2i;
                    KK_ST(r1 + v) = x1r + u3r, KK_ST(i1 + v) = x1i + u3i;
                    KK_ST(r3 + v) = x1r - u3r, KK_ST(i3 + v) = x1i - u3i;
                }
            }
    }
    if (len <= N) { /* the last stage alone */
        const int h = len / 2, st = N / len;
        for (int j = 0; j < h; j++) {
            const float wr = cr[j * st], wi = ci[j * st];
            float *ar = re + (size_t)j * V, *ai = im + (size_t)j * V;
            float *br = ar + (size_t)h * V, *bi = ai + (size_t)h * V;
            for (int v = 0; v < V; v += VL) {
                KK_CMUL(tr, ti, wr, wi, KK_LD(br + v), KK_LD(bi + v));
                const kk_qv xr = KK_LD(ar + v), xi = KK_LD(ai + v);
                KK_ST(br + v) = xr - tr, KK_ST(bi + v) = xi - ti;
                KK_ST(ar + v) = xr + tr, KK_ST(ai + v) = xi + ti;
            }
        }
    }
}
#undef KK_LD
#undef KK_ST

/* The filters' spectra (kernels.h): KK_QG_VL inputs of NB <= KK_WS_B bins in registers over
 * all the taps, each weight loaded once for 2 NB multiply-adds. Tap by tap over the whole row
 * with the sums in memory (as before) was bound by their loads and stores: a quarter of a
 * short utterance's first-stage FFT (256 channels, 1,480 samples) went to these spectra. */
static inline __attribute__((always_inline)) void
KK_FN(wspec_nb)(float *restrict wr, float *restrict ws, float *restrict wd, size_t fstride,
                const float *restrict w, int k, int in, const float *restrict c,
                const float *restrict s, const int NB)
{
    /* IV vectors of inputs at once, so that there are 8 sums (6 for 3 bins) to hide the
     * multiply-add's latency */
    enum { VL = KK_QG_VL };
    const int IV = NB == 1 ? 4 : NB == 2 ? 2 : 1;
    int i0 = 0;
    for (; i0 + IV * VL <= in; i0 += IV * VL) {
        kk_qv ar[KK_WS_B][4], ad[KK_WS_B][4];
        KK_QG_UNROLL for (int b = 0; b < NB; b++)
        {
            KK_QG_UNROLL for (int v = 0; v < IV; v++) ar[b][v] = ad[b][v] = (kk_qv){0};
        }
        for (int t = 0; t < k; t++) {
            KK_QG_UNROLL for (int v = 0; v < IV; v++)
            {
                const kk_qv x = *(const kk_qv *)(w + (size_t)t * in + i0 + v * VL);
                KK_QG_UNROLL for (int b = 0; b < NB; b++)
                {
                    ar[b][v] += c[b * k + t] * x;
                    ad[b][v] -= s[b * k + t] * x;
                }
            }
        }
        KK_QG_UNROLL for (int b = 0; b < NB; b++)
        {
            KK_QG_UNROLL for (int v = 0; v < IV; v++)
            {
                const size_t at = (size_t)b * fstride + i0 + v * VL;
                *(kk_qv *)(wr + at) = ar[b][v];
                *(kk_qv *)(ws + at) = ar[b][v] + ad[b][v];
                *(kk_qv *)(wd + at) = ad[b][v] - ar[b][v];
            }
        }
    }
    for (int b = 0; b < NB; b++) /* inputs past the last whole group of vectors */
        for (int i = i0; i < in; i++) {
            float re = 0.0f, im = 0.0f;
            for (int t = 0; t < k; t++) {
                re += c[b * k + t] * w[(size_t)t * in + i];
                im -= s[b * k + t] * w[(size_t)t * in + i];
            }
            const size_t at = (size_t)b * fstride + i;
            wr[at] = re;
            ws[at] = re + im;
            wd[at] = im - re;
        }
}

static void KK_FN(wspec_bins)(float *restrict wr, float *restrict ws, float *restrict wd,
                              size_t fstride, const float *restrict w, int k, int in,
                              const float *restrict c, const float *restrict s, int nb)
{
    _Static_assert(KK_WS_B == 4, "one case per bin count");
    switch (nb) { /* constant bin counts: the sums stay in registers */
    case 4: KK_FN(wspec_nb)(wr, ws, wd, fstride, w, k, in, c, s, 4); break;
    case 3: KK_FN(wspec_nb)(wr, ws, wd, fstride, w, k, in, c, s, 3); break;
    case 2: KK_FN(wspec_nb)(wr, ws, wd, fstride, w, k, in, c, s, 2); break;
    default: KK_FN(wspec_nb)(wr, ws, wd, fstride, w, k, in, c, s, 1); break;
    }
}

/* The filters' spectra from 8-bit weights (kernels.h): the 16 rows of a packed block as
 * vectors, for one input at a time (IU inputs when there are few bins, to keep 8 sums going),
 * all the taps; the zero point and scale applied to the sums. The int8 block stays in L2 for
 * every bin group, where the floats of a 256-channel layer (2.9 MB) were read again from
 * memory for each bin. */
static inline __attribute__((always_inline)) void
KK_FN(wspec_q_nb)(float *restrict wr, float *restrict ws, float *restrict wd, size_t fstride,
                  size_t ld, const int8_t *restrict qb, const float *restrict zero,
                  const float *restrict scale, int k, int in, const float *restrict c,
                  const float *restrict s, const int NB)
{
    enum { VL = KK_QG_VL, PER = KK_QG_ROWS / KK_QG_VL };
    const int IU = NB == 1 ? 4 : NB == 2 ? 2 : 1;
    kk_qv z[PER], sc[PER], zc[KK_WS_B][PER], zs[KK_WS_B][PER];
    KK_QG_UNROLL for (int v = 0; v < PER; v++)
    {
        z[v] = *(const kk_qv *)(zero + v * VL);
        sc[v] = *(const kk_qv *)(scale + v * VL);
    }
    for (int b = 0; b < NB; b++) { /* sum over t of (q - zero) c = sum q c - zero sum c */
        float cs = 0.0f, ss = 0.0f;
        for (int t = 0; t < k; t++) cs += c[b * k + t], ss += s[b * k + t];
        for (int v = 0; v < PER; v++) zc[b][v] = z[v] * cs, zs[b][v] = z[v] * ss;
    }
    const size_t K16 = (size_t)in * KK_QG_ROWS; /* bytes of one tap */
    int i = 0;
    for (; i + IU <= in; i += IU) {
        kk_qv ar[KK_WS_B][4][PER], ad[KK_WS_B][4][PER];
        KK_QG_UNROLL for (int b = 0; b < NB; b++)
        {
            KK_QG_UNROLL for (int u = 0; u < IU; u++)
            {
                KK_QG_UNROLL for (int v = 0; v < PER; v++) ar[b][u][v] = ad[b][u][v] = (kk_qv){0};
            }
        }
        for (int t = 0; t < k; t++) {
            const int8_t *qt = qb + (size_t)t * K16 + (size_t)i * KK_QG_ROWS;
            KK_QG_UNROLL for (int u = 0; u < IU; u++)
            {
                KK_QG_UNROLL for (int v = 0; v < PER; v++)
                {
                    kk_qv x;
                    KK_QG_WIDEN(x, qt + u * KK_QG_ROWS + v * VL);
                    KK_QG_UNROLL for (int b = 0; b < NB; b++)
                    {
                        ar[b][u][v] += c[b * k + t] * x;
                        ad[b][u][v] -= s[b * k + t] * x;
                    }
                }
            }
        }
        KK_QG_UNROLL for (int b = 0; b < NB; b++)
        {
            KK_QG_UNROLL for (int u = 0; u < IU; u++)
            {
                KK_QG_UNROLL for (int v = 0; v < PER; v++)
                {
                    const size_t at = (size_t)b * fstride + (size_t)(i + u) * ld + v * VL;
                    kk_qv re = (ar[b][u][v] - zc[b][v]) * sc[v];
                    kk_qv im = (ad[b][u][v] + zs[b][v]) * sc[v];
                    *(kk_qv *)(wr + at) = re;
                    *(kk_qv *)(ws + at) = re + im;
                    *(kk_qv *)(wd + at) = im - re;
                }
            }
        }
    }
    for (; i < in; i++) /* inputs past the last whole group */
        for (int b = 0; b < NB; b++)
            for (int r = 0; r < KK_QG_ROWS; r++) {
                float re = 0.0f, im = 0.0f;
                for (int t = 0; t < k; t++) {
                    float x = qb[(size_t)t * K16 + (size_t)i * KK_QG_ROWS + r];
                    re += c[b * k + t] * x;
                    im -= s[b * k + t] * x;
                }
                re = (re - zc[b][r / VL][r % VL]) * scale[r];
                im = (im + zs[b][r / VL][r % VL]) * scale[r];
                const size_t at = (size_t)b * fstride + (size_t)i * ld + r;
                wr[at] = re;
                ws[at] = re + im;
                wd[at] = im - re;
            }
}

static void KK_FN(wspec_q)(float *restrict wr, float *restrict ws, float *restrict wd,
                           size_t fstride, size_t ld, const int8_t *restrict qb,
                           const float *restrict zero, const float *restrict scale, int k, int in,
                           const float *restrict c, const float *restrict s, int nb)
{
    switch (nb) { /* constant bin counts: the sums stay in registers */
    case 4: KK_FN(wspec_q_nb)(wr, ws, wd, fstride, ld, qb, zero, scale, k, in, c, s, 4); break;
    case 3: KK_FN(wspec_q_nb)(wr, ws, wd, fstride, ld, qb, zero, scale, k, in, c, s, 3); break;
    case 2: KK_FN(wspec_q_nb)(wr, ws, wd, fstride, ld, qb, zero, scale, k, in, c, s, 2); break;
    default: KK_FN(wspec_q_nb)(wr, ws, wd, fstride, ld, qb, zero, scale, k, in, c, s, 1); break;
    }
}

/* A tile's accumulators acc[h][j] (rows blk * 16 + h * KK_QG_VL.., column n0 + j) + bias into
 * y, for m < M and n < N. */
static inline void KK_FN(qg_store)(const kk_qtile *g, int blk, int n0,
                                   kk_qv acc[KK_QG_H][KK_QG_NR])
{
    int nj = g->N - n0 < KK_QG_NR ? g->N - n0 : KK_QG_NR;
#if KK_QG_NR % 4 == 0 && KK_QG_VL % 4 == 0
    if (g->yn == 1 && nj == KK_QG_NR) {
        /* a convolution's y [M][N]: a whole tile's rows go out as 4 x 4 transposed blocks, 4
         * columns a store, not one float at a time (a fifth of a 128-channel, 3-tap layer) */
        for (int h = 0; h < KK_QG_H; h++) {
            float tmp[KK_QG_NR][KK_QG_VL];
            KK_QG_UNROLL for (int j = 0; j < KK_QG_NR; j++) *(kk_qv *)tmp[j] = acc[h][j];
            int m0 = blk * KK_QG_ROWS + h * KK_QG_VL;
            int nm = g->M - m0 < KK_QG_VL ? g->M - m0 : KK_QG_VL, l0 = 0;
            for (; l0 + 4 <= nm; l0 += 4) {
                float *y0 = g->y + (size_t)(m0 + l0) * g->ym + n0;
                const float *bb = g->bias ? g->bias + m0 + l0 : NULL;
                const float b0 = bb ? bb[0] : 0.0f, b1 = bb ? bb[1] : 0.0f,
                            b2 = bb ? bb[2] : 0.0f, b3 = bb ? bb[3] : 0.0f;
                for (int j = 0; j < KK_QG_NR; j += 4) {
                    kk_v4 c0, c1, c2, c3;
                    KK_T4(c0, c1, c2, c3, *(const kk_v4 *)&tmp[j][l0],
                          *(const kk_v4 *)&tmp[j + 1][l0], *(const kk_v4 *)&tmp[j + 2][l0],
                          *(const kk_v4 *)&tmp[j + 3][l0]);
                    *(kk_v4 *)(y0 + j) = c0 + b0;
                    *(kk_v4 *)(y0 + g->ym + j) = c1 + b1;
                    *(kk_v4 *)(y0 + 2 * g->ym + j) = c2 + b2;
                    *(kk_v4 *)(y0 + 3 * g->ym + j) = c3 + b3;
                }
            }
            for (; l0 < nm; l0++) /* rows past the last group of 4 */
                for (int j = 0; j < KK_QG_NR; j++)
                    g->y[(size_t)(m0 + l0) * g->ym + n0 + j] =
                        tmp[j][l0] + (g->bias ? g->bias[m0 + l0] : 0.0f);
        }
        return;
    }
#endif
    for (int h = 0; h < KK_QG_H; h++) {
        int m0 = blk * KK_QG_ROWS + h * KK_QG_VL;
        int nm = g->M - m0 < KK_QG_VL ? g->M - m0 : KK_QG_VL;
        for (int j = 0; j < nj; j++) {
            float *yc = g->y + (size_t)(n0 + j) * g->yn + (size_t)m0 * g->ym;
            for (int l = 0; l < nm; l++)
                yc[(size_t)l * g->ym] = acc[h][j][l] + (g->bias ? g->bias[m0 + l] : 0.0f);
        }
    }
}

/* The sums of a tile, the columns sn apart, each weight read from the panel or, widen (a
 * constant at each call), made (q - zero) * scale in registers from g's 8-bit weights (the
 * panel's very floats).
 * Inlined for each source and, for the panel, once with sn = 1 (a stride-1 convolution's
 * columns are adjacent, at offsets the loads carry as constants) and once as given, so that
 * the first keeps its pointers in registers. */
static inline __attribute__((always_inline)) void
KK_FN(qg_sums)(const kk_qtile *g, const float *restrict panel, const int widen, int blk, int n0,
               size_t sn, kk_qv acc[KK_QG_H][KK_QG_NR])
{
    enum { W = KK_QG_NB * KK_QG_ROWS, PER = KK_QG_ROWS / KK_QG_VL };
    const size_t ld = (size_t)g->ld, K = (size_t)g->in * g->taps;
    kk_qv z[KK_QG_H], sc[KK_QG_H];
    const int8_t *qb[KK_QG_H];
    KK_QG_UNROLL for (int h = 0; h < KK_QG_H; h++)
    {
        KK_QG_UNROLL for (int j = 0; j < KK_QG_NR; j++) acc[h][j] = (kk_qv){0};
        if (!widen) continue;
        size_t at = (size_t)(blk + h / PER) * KK_QG_ROWS + h % PER * KK_QG_VL;
        z[h] = *(const kk_qv *)(g->zero + at);
        sc[h] = *(const kk_qv *)(g->scale + at);
        qb[h] = g->q + (size_t)(blk + h / PER) * K * KK_QG_ROWS + h % PER * KK_QG_VL;
    }
    const float *x0 = g->x + (size_t)n0 * sn, *pw = panel;
    size_t k = 0;
    for (int tap = 0; tap < g->taps; tap++) {
        const float *xt = x0 + (size_t)tap * g->dil;
        for (int c = 0; c < g->in; c++, k++) {
            const float *xr = xt + (size_t)c * ld;
            kk_qv w[KK_QG_H];
            KK_QG_UNROLL for (int h = 0; h < KK_QG_H; h++)
            {
                if (widen) {
                    KK_QG_WIDEN(w[h], qb[h] + k * KK_QG_ROWS);
                    w[h] = (w[h] - z[h]) * sc[h];
                } else {
                    w[h] = *(const kk_qv *)(pw + h * KK_QG_VL);
                }
            }
            if (!widen) pw += W;
            KK_QG_UNROLL for (int j = 0; j < KK_QG_NR; j++)
            {
                float v = xr[(size_t)j * sn];
                KK_QG_UNROLL for (int h = 0; h < KK_QG_H; h++) acc[h][j] += w[h] * v;
            }
        }
    }
}

/* y for those rows and KK_QG_NR columns from n0: sum over k of panel[k] * B(k, n), + bias. */
static void KK_FN(qgemm_tile)(const kk_qtile *g, const float *restrict panel, int blk, int n0)
{
    kk_qv acc[KK_QG_H][KK_QG_NR];
    if (g->sn == 1)
        KK_FN(qg_sums)(g, panel, 0, blk, n0, 1, acc);
    else
        KK_FN(qg_sums)(g, panel, 0, blk, n0, (size_t)g->sn, acc);
    KK_FN(qg_store)(g, blk, n0, acc);
}

/* The same tile from the 8-bit weights themselves, for products of a few tiles per row group
 * (a short input's linear layers), where making a panel cost more than its tiles (30% of a
 * 768 x 768 layer over 19 tokens): the two give the same bits. */
static void KK_FN(qgemm_tile_q)(const kk_qtile *g, int blk, int n0)
{
    kk_qv acc[KK_QG_H][KK_QG_NR];
    KK_FN(qg_sums)(g, NULL, 1, blk, n0, (size_t)g->sn, acc);
    KK_FN(qg_store)(g, blk, n0, acc);
}

/* y[m] += scale[m] sum_k (q[m][k] - zero[m]) x[k] for m < rows, q packed in blocks of 16 rows
 * (kernels.h; rows padded to pairs of blocks): a matrix-vector product on the 8-bit weights
 * themselves, a pair of blocks at a time with KK_QV_CH sums each over alternate k to hide the
 * multiply-add's latency. The zero point goes before the products (q - zero is exact): the
 * sums of q x and of x, subtracted, lost digits to cancellation where zero is far from 0 (a
 * uint8 export's are -40 to -90). */
#define KK_QV_PER (KK_QG_ROWS / KK_QG_VL) /* vectors of one block */
#define KK_QV_CH (KK_QV_PER >= 4 ? 1 : 4 / KK_QV_PER)
static void KK_FN(qgemv)(const int8_t *restrict q, const float *restrict zero,
                         const float *restrict scale, int rows, int K, const float *restrict x,
                         float *restrict y)
{
    enum { PER = KK_QV_PER, CH = KK_QV_CH, H = 2 * PER };
    for (int b = 0; b < rows; b += 2 * KK_QG_ROWS) {
        const int8_t *qb[H];
        kk_qv acc[H][CH], z[H];
        KK_QG_UNROLL for (int h = 0; h < H; h++)
        {
            qb[h] = q + (size_t)(b / KK_QG_ROWS + h / PER) * K * KK_QG_ROWS + h % PER * KK_QG_VL;
            z[h] = *(const kk_qv *)(zero + b + h * KK_QG_VL);
            KK_QG_UNROLL for (int c = 0; c < CH; c++) acc[h][c] = (kk_qv){0};
        }
        int k = 0;
        for (; k + CH <= K; k += CH)
            KK_QG_UNROLL for (int c = 0; c < CH; c++)
            {
                const float v = x[k + c];
                KK_QG_UNROLL for (int h = 0; h < H; h++)
                {
                    kk_qv w;
                    KK_QG_WIDEN(w, qb[h] + (size_t)(k + c) * KK_QG_ROWS);
                    acc[h][c] += (w - z[h]) * v;
                }
            }
        for (; k < K; k++)
            KK_QG_UNROLL for (int h = 0; h < H; h++)
            {
                kk_qv w;
                KK_QG_WIDEN(w, qb[h] + (size_t)k * KK_QG_ROWS);
                acc[h][0] += (w - z[h]) * x[k];
            }
        KK_QG_UNROLL for (int h = 0; h < H; h++)
        {
            kk_qv sum = acc[h][0];
            KK_QG_UNROLL for (int c = 1; c < CH; c++) sum += acc[h][c];
            const int m0 = b + h * KK_QG_VL;
            for (int l = 0; l < KK_QG_VL && m0 + l < rows; l++) y[m0 + l] += scale[m0 + l] * sum[l];
        }
    }
}

/* The table of this variant with every kernel from this file; a back end that replaces some
 * defines its own table instead. */
#define KK_BODY_TABLE(variant_name)                                                            \
    {                                                                                          \
        variant_name, KK_FN(wino_in), KK_FN(wino_out), KK_FN(row_stats), KK_FN(norm_affine),   \
            KK_FN(snake), KK_FN(affine_snake), KK_FN(leaky_relu), KK_FN(layernorm),            \
            KK_FN(lstm_cell), KK_FN(fft_rows), KK_FN(wspec_bins), KK_FN(wspec_q),              \
            KK_FN(fft_gather), KK_FN(fft_split), KK_FN(fft_merge), KK_FN(fft_scatter),         \
            KK_FN(gelu),                                                                       \
            KK_FN(qg_panel), KK_FN(qgemm_tile), KK_FN(qgemm_tile_q), KK_FN(qgemv), KK_QG_NB,    \
            KK_QG_NR                                                                           \
    }
