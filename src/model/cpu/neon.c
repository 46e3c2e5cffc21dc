/* neon.c - the NEON back end (aarch64 only, where NEON is part of the baseline armv8-a): the
 * Winograd transforms and the Snake activations written with intrinsics, four floats a
 * step with fused multiply-adds; the other kernels are body.h as the compiler vectorises it. */
#if defined(__aarch64__)
#include "model/cpu/kernels.h"

#include <arm_neon.h>
#include <math.h>

#define KK_VARIANT neon
#define KK_QG_NB 1 /* 4 x 6 accumulators of the 32 registers */
#define KK_QG_NR 6
#define KK_QG_VL 4
#include "model/cpu/body.h"

static void neon_wino_in(float *restrict v0, float *restrict v1, float *restrict v2,
                         float *restrict v3, float *restrict v4, float *restrict v5,
                         const float *restrict z0, const float *restrict z1,
                         const float *restrict z2, const float *restrict z3,
                         const float *restrict z4, const float *restrict z5, int nb)
{
    const float32x4_t c2 = vdupq_n_f32(2), c4 = vdupq_n_f32(4), c5 = vdupq_n_f32(5);
    int t = 0;
    for (; t + 4 <= nb; t += 4) {
        float32x4_t a0 = vld1q_f32(z0 + t), a1 = vld1q_f32(z1 + t), a2 = vld1q_f32(z2 + t);
        float32x4_t a3 = vld1q_f32(z3 + t), a4 = vld1q_f32(z4 + t), a5 = vld1q_f32(z5 + t);
        float32x4_t s24 = vsubq_f32(a4, a2);          /* z4 - z2 */
        float32x4_t p13 = vaddq_f32(a1, a2);          /* z1 + z2 */
        float32x4_t m13 = vsubq_f32(a1, a2);          /* z1 - z2 */
        float32x4_t d31 = vsubq_f32(a3, a1);          /* z3 - z1 */
        vst1q_f32(v0 + t, vfmaq_f32(vfmsq_f32(a4, c5, a2), c4, a0));
        vst1q_f32(v1 + t, vfmsq_f32(vaddq_f32(a3, a4), c4, p13));
        vst1q_f32(v2 + t, vfmaq_f32(vsubq_f32(a4, a3), c4, m13));
        vst1q_f32(v3 + t, vfmaq_f32(s24, c2, d31));
        vst1q_f32(v4 + t, vfmsq_f32(s24, c2, d31));
        vst1q_f32(v5 + t, vfmaq_f32(vfmsq_f32(a5, c5, a3), c4, a1));
    }
    if (t < nb)
        kk_neon_wino_in(v0 + t, v1 + t, v2 + t, v3 + t, v4 + t, v5 + t, z0 + t, z1 + t, z2 + t,
                        z3 + t, z4 + t, z5 + t, nb - t);
}

static void neon_wino_out(float *restrict y0, float *restrict y1, float *restrict y2,
                          float *restrict y3, const float *restrict m0,
                          const float *restrict m1, const float *restrict m2,
                          const float *restrict m3, const float *restrict m4,
                          const float *restrict m5, int nb)
{
    const float32x4_t c2 = vdupq_n_f32(2), c4 = vdupq_n_f32(4), c8 = vdupq_n_f32(8);
    int t = 0;
    for (; t + 4 <= nb; t += 4) {
        float32x4_t b1 = vld1q_f32(m1 + t), b2 = vld1q_f32(m2 + t);
        float32x4_t b3 = vld1q_f32(m3 + t), b4 = vld1q_f32(m4 + t);
        float32x4_t a = vaddq_f32(b1, b2), b = vsubq_f32(b1, b2);
        float32x4_t c = vaddq_f32(b3, b4), d = vsubq_f32(b3, b4);
        float32x4_t r0 = vaddq_f32(vaddq_f32(vld1q_f32(m0 + t), a), c);
        float32x4_t r1 = vfmaq_f32(b, c2, d);
        float32x4_t r2 = vfmaq_f32(a, c4, c);
        float32x4_t r3 = vaddq_f32(vfmaq_f32(b, c8, d), vld1q_f32(m5 + t));
        vst1q_f32(y0 + t, vaddq_f32(vld1q_f32(y0 + t), r0));
        vst1q_f32(y1 + t, vaddq_f32(vld1q_f32(y1 + t), r1));
        vst1q_f32(y2 + t, vaddq_f32(vld1q_f32(y2 + t), r2));
        vst1q_f32(y3 + t, vaddq_f32(vld1q_f32(y3 + t), r3));
    }
    if (t < nb)
        kk_neon_wino_out(y0 + t, y1 + t, y2 + t, y3 + t, m0 + t, m1 + t, m2 + t, m3 + t, m4 + t,
                         m5 + t, nb - t);
}

/* sin^2 of four floats, the same reduction and polynomial as body.h's sin2f. */
static inline float32x4_t neon_sin2(float32x4_t x)
{
    const float32x4_t inv_pi = vdupq_n_f32(0.31830988618379067f), half = vdupq_n_f32(0.5f);
    const float32x4_t pi_hi = vdupq_n_f32(3.140625f), pi_lo = vdupq_n_f32(9.67653589793e-4f);
    float32x4_t k = vrndmq_f32(vfmaq_f32(half, x, inv_pi));
    float32x4_t r = vfmsq_f32(vfmsq_f32(x, k, pi_hi), k, pi_lo);
    float32x4_t r2 = vmulq_f32(r, r);
    float32x4_t p = vdupq_n_f32(-2.5052108385e-8f);
    p = vfmaq_f32(vdupq_n_f32(2.7557319224e-6f), p, r2);
    p = vfmaq_f32(vdupq_n_f32(-1.9841269841e-4f), p, r2);
    p = vfmaq_f32(vdupq_n_f32(8.3333333333e-3f), p, r2);
    p = vfmaq_f32(vdupq_n_f32(-1.6666666667e-1f), p, r2);
    float32x4_t sn = vfmaq_f32(r, vmulq_f32(r, r2), p);
    return vmulq_f32(sn, sn);
}

static void neon_snake(float *restrict x, int T, float a)
{
    const float32x4_t va = vdupq_n_f32(a), ia = vdupq_n_f32(1.0f / a);
    int t = 0;
    for (; t + 4 <= T; t += 4) {
        float32x4_t v = vld1q_f32(x + t);
        vst1q_f32(x + t, vfmaq_f32(v, ia, neon_sin2(vmulq_f32(va, v))));
    }
    if (t < T) kk_neon_snake(x + t, T - t, a);
}

static void neon_affine_snake(const float *restrict x, float *restrict y, int T, float scale,
                              float shift, float a)
{
    const float32x4_t va = vdupq_n_f32(a), ia = vdupq_n_f32(1.0f / a);
    const float32x4_t vs = vdupq_n_f32(scale), vh = vdupq_n_f32(shift);
    int t = 0;
    for (; t + 4 <= T; t += 4) {
        float32x4_t v = vfmaq_f32(vh, vs, vld1q_f32(x + t));
        vst1q_f32(y + t, vfmaq_f32(v, ia, neon_sin2(vmulq_f32(va, v))));
    }
    if (t < T) kk_neon_affine_snake(x + t, y + t, T - t, scale, shift, a);
}

const kk_kernels kk_kernels_neon = {
    "neon",         neon_wino_in,          neon_wino_out,   kk_neon_row_stats,
    kk_neon_norm_affine, neon_snake,       neon_affine_snake, kk_neon_leaky_relu,
    kk_neon_layernorm,   kk_neon_lstm_cell,     kk_neon_fft_rows, kk_neon_wspec_bins,
    kk_neon_wspec_q,     kk_neon_fft_gather,    kk_neon_fft_split, kk_neon_fft_merge,
    kk_neon_fft_scatter,
    kk_neon_gelu,        kk_neon_qg_panel,      kk_neon_qgemm_tile, kk_neon_qgemm_tile_q,
    kk_neon_qgemv,       KK_QG_NB,              KK_QG_NR,
};
#else
typedef int kk_neon_unused; /* ISO C wants something in a translation unit */
#endif
