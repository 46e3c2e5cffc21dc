/* test_ops.c - the engine's kernels against plain loops: convolutions (direct, strided,
 * dilated, Winograd), transposed convolution and the Snake activation. */
#include "model/ops.h"
#include "check.h"

#include <math.h>
#include <stdlib.h>

static float frand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return ((*s >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* reference: y[o][t] = b[o] + sum w[o][j][c] x[c][t*stride + j*dil - pad] */
static void conv_ref(const float *w, const float *b, int in, int out, int k, int stride, int dil,
                     int pad, const float *x, int T, float *y, int Tout)
{
    for (int o = 0; o < out; o++)
        for (int t = 0; t < Tout; t++) {
            double s = b ? b[o] : 0;
            for (int j = 0; j < k; j++)
                for (int c = 0; c < in; c++) {
                    int ti = t * stride + j * dil - pad;
                    if (ti >= 0 && ti < T) s += (double)w[((size_t)o * k + j) * in + c] * x[(size_t)c * T + ti];
                }
            y[(size_t)o * Tout + t] = (float)s;
        }
}

static void check_conv(kk_pool *p, int in, int out, int k, int stride, int dil, int T, int wino)
{
    unsigned s = (unsigned)(in * 31 + k * 7 + dil + T);
    int pad = stride == 1 ? dil * (k - 1) / 2 : k / 2;
    int Tout = (T + 2 * pad - dil * (k - 1) - 1) / stride + 1;
    float *w = malloc(sizeof(float) * out * k * in), *b = malloc(sizeof(float) * out);
    float *x = malloc(sizeof(float) * in * T), *y = calloc((size_t)out * Tout, sizeof(float));
    float *r = malloc(sizeof(float) * out * Tout), *u = NULL;
    for (int i = 0; i < out * k * in; i++) w[i] = frand(&s) * 0.1f;
    for (int i = 0; i < out; i++) b[i] = frand(&s);
    for (int i = 0; i < in * T; i++) x[i] = frand(&s);
    conv_ref(w, b, in, out, k, stride, dil, pad, x, T, r, Tout);
    int got;
    if (wino) {
        CHECK(kk_wino_prepare(w, in, out, k, &u) == 0, "prepare");
        got = kk_conv1d_wino(p, u, w, b, in, out, k, dil, x, T, y) == 0 ? T : -1;
    } else {
        got = kk_conv1d(p, w, b, in, out, k, stride, dil, pad, x, T, y);
    }
    double e = got == Tout ? check_rel_l2(y, r, (size_t)out * Tout) : 1;
    CHECK(got == Tout && e < 2e-6, "%s conv in %d out %d k %d stride %d dil %d T %d: Tout %d/%d, rel err %.2e",
          wino ? "winograd" : "direct", in, out, k, stride, dil, T, got, Tout, e);
    free(w), free(b), free(x), free(y), free(r), free(u);
}

int main(void)
{
    kk_pool *pools[2] = {kk_pool_new(1), kk_pool_new(2)};
    for (int pi = 0; pi < 2; pi++) {
        kk_pool *p = pools[pi];
        check_conv(p, 22, 256, 12, 6, 1, 601, 0); /* the generator's noise conv */
        check_conv(p, 1, 1, 3, 2, 1, 50, 0);      /* F0_conv */
        check_conv(p, 64, 48, 5, 1, 1, 700, 0);
        static const int ks[3] = {3, 7, 11}, ds[3] = {1, 3, 5};
        for (int a = 0; a < 3; a++)
            for (int d = 0; d < 3; d++) {
                check_conv(p, 32, 40, ks[a], 1, ds[d], 1500, 1);
                check_conv(p, 16, 8, ks[a], 1, ds[d], 7, 1); /* shorter than the kernel */
            }
        check_conv(p, 70, 70, 11, 1, 5, 3333, 1);
    }
    /* Snake: x + sin^2(a x)/a, against libm, including large arguments */
    unsigned s = 1;
    float x[4096], ref[4096], alpha[2] = {0.7f, 13.0f};
    for (int i = 0; i < 4096; i++) x[i] = frand(&s) * (i < 2048 ? 4.0f : 300.0f);
    for (int i = 0; i < 4096; i++) {
        float a = alpha[i / 2048];
        ref[i] = x[i] + sinf(a * x[i]) * sinf(a * x[i]) / a;
    }
    kk_snake(pools[1], x, 2, 2048, alpha);
    double maxd = 0;
    for (int i = 0; i < 4096; i++) maxd = fmax(maxd, fabs(x[i] - ref[i]));
    CHECK(maxd < 1e-4, "snake max abs error %.2e", maxd);
    /* AdaIN + Snake fused equals the two steps one after the other */
    float in[3 * 1001], fused[3 * 1001], gamma[3] = {0.3f, -0.2f, 1.5f}, beta[3] = {0.1f, 0, -2};
    float alphas[3] = {0.5f, 1.0f, 7.0f};
    for (int i = 0; i < 3 * 1001; i++) in[i] = frand(&s) * 5.0f + (i / 1001) * 3.0f;
    kk_adain_snake(pools[1], in, fused, 3, 1001, gamma, beta, alphas);
    kk_adain(in, 3, 1001, gamma, beta);
    kk_snake(pools[0], in, 3, 1001, alphas);
    maxd = 0;
    for (int i = 0; i < 3 * 1001; i++) maxd = fmax(maxd, fabs(in[i] - fused[i]));
    CHECK(maxd < 1e-4, "adain+snake fused vs separate: max abs diff %.2e", maxd);
    kk_pool_free(pools[0]);
    kk_pool_free(pools[1]);
    return check_done("test_ops");
}
