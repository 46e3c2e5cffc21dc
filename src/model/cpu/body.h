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

/* Eight float partial sums, which the vectoriser keeps in one register, combined in double. */
static void KK_FN(row_stats)(const float *restrict r, int T, double *mean, double *var)
{
    float s[8] = {0}, q[8] = {0};
    int t = 0;
    for (; t + 8 <= T; t += 8)
        for (int j = 0; j < 8; j++) s[j] += r[t + j];
    double sum = 0;
    for (int j = 0; j < 8; j++) sum += s[j];
    for (; t < T; t++) sum += r[t];
    double m = sum / T;
    float mf = (float)m;
    t = 0;
    for (; t + 8 <= T; t += 8)
        for (int j = 0; j < 8; j++) {
            float d = r[t + j] - mf;
            q[j] += d * d;
        }
    double sq = 0;
    for (int j = 0; j < 8; j++) sq += q[j];
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

static inline float KK_FN(sigm)(float v) { return 1.0f / (1.0f + expf(-v)); }

/* expf and tanhf stay libm's (exact to an ulp) in every back end: the LSTMs run a few hundred
 * steps per utterance, and parity with the reference is held to 3e-6 there. */
static void KK_FN(lstm_cell)(const float *restrict g, float *restrict c, float *restrict h,
                             float *restrict out, int H)
{
    for (int u = 0; u < H; u++) {
        float ig = KK_FN(sigm)(g[u]), fg = KK_FN(sigm)(g[H + u]), gg = tanhf(g[2 * H + u]),
              og = KK_FN(sigm)(g[3 * H + u]);
        c[u] = fg * c[u] + ig * gg;
        h[u] = og * tanhf(c[u]);
        out[u] = h[u];
    }
}

/* The table of this variant with every kernel from this file; a back end that replaces some
 * defines its own table instead. */
#define KK_BODY_TABLE(variant_name)                                                            \
    {                                                                                          \
        variant_name, KK_FN(wino_in), KK_FN(wino_out), KK_FN(row_stats), KK_FN(norm_affine),   \
            KK_FN(snake), KK_FN(affine_snake), KK_FN(leaky_relu), KK_FN(layernorm),            \
            KK_FN(lstm_cell)                                                                   \
    }
