/* test_ops.c - the engine's kernels against plain loops: convolutions (direct, strided,
 * dilated, Winograd), the Snake activation, norms and the LSTM cell, on the CPU back end that
 * KOKORO_CPU selects (make test-engine runs it once per back end this CPU offers), and the
 * refusal of a back end that is unknown or not offered.
 *   test_ops            the tests, on the back end KOKORO_CPU names (default: the best)
 *   test_ops --paths    prints the back ends this build and CPU can run, best first */
#include "kokoro.h"
#include "model/cpu/kernels.h"
#include "model/ops.h"
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* One shape through the kernel (direct, Winograd or FFT) with each pool of threads, against
 * one reference: the double-precision loop is most of this test's time (under qemu-aarch64,
 * make test-arm64, minutes), so it runs once per shape. */
static void check_conv(kk_pool *const *pools, int n_pools, int in, int out, int k, int stride,
                       int dil, int T, int wino)
{
    unsigned s = (unsigned)(in * 31 + k * 7 + dil + T);
    int pad = stride == 1 ? dil * (k - 1) / 2 : k / 2;
    int Tout = (T + 2 * pad - dil * (k - 1) - 1) / stride + 1;
    float *w = malloc(sizeof(float) * out * k * in), *b = malloc(sizeof(float) * out);
    float *x = malloc(sizeof(float) * in * T), *y = malloc(sizeof(float) * out * Tout);
    float *r = malloc(sizeof(float) * out * Tout), *u = NULL;
    CHECK(w && b && x && y && r, "buffers");
    for (int i = 0; i < out * k * in; i++) w[i] = frand(&s) * 0.1f;
    for (int i = 0; i < out; i++) b[i] = frand(&s);
    for (int i = 0; i < in * T; i++) x[i] = frand(&s);
    conv_ref(w, b, in, out, k, stride, dil, pad, x, T, r, Tout);
    for (int pi = 0; pi < n_pools; pi++) {
        kk_pool *p = pools[pi];
        int got;
        memset(y, 0, sizeof(float) * out * Tout);
        if (wino == 2) {
            got = kk_conv1d_fft(p, w, b, in, out, k, dil, x, T, y) == 0 ? T : -1;
        } else if (wino) {
            free(u);
            u = malloc(kk_wino_size(in, out, k) * sizeof *u);
            CHECK(u != NULL, "winograd weights");
            kk_wino_transform(p, w, in, out, k, u);
            got = kk_conv1d_wino(p, u, w, b, in, out, k, dil, x, T, y) == 0 ? T : -1;
        } else {
            got = kk_conv1d(p, w, b, in, out, k, stride, dil, pad, x, T, y);
        }
        double e = got == Tout ? check_rel_l2(y, r, (size_t)out * Tout) : 1;
        CHECK(got == Tout && e < 2e-6,
              "%s conv in %d out %d k %d stride %d dil %d T %d, %d thread(s): Tout %d/%d, rel err %.2e",
              wino == 2 ? "fft" : wino ? "winograd" : "direct", in, out, k, stride, dil, T,
              kk_pool_size(p), got, Tout, e);
    }
    free(w), free(b), free(x), free(y), free(r), free(u);
}

/* The 8-bit-weight products (kk_qconv1d, kk_qlinear_rows, kk_conv1d_fft_q, as path says)
 * against the double loop with the weights' floats (q - zero) * scale: shapes of every layer
 * that runs them, output counts that are not whole register tiles or row blocks, more columns
 * than one block. */
enum { Q_CONV, Q_LINEAR, Q_FFT };
static void check_qconv(kk_pool *const *pools, int n_pools, int in, int out, int k, int stride,
                        int dil, int T, int path)
{
    unsigned s = (unsigned)(in * 17 + out * 5 + k + T);
    int pad = stride == 1 ? dil * (k - 1) / 2 : k / 2;
    int Tout = path == Q_LINEAR ? T : (T + 2 * pad - dil * (k - 1) - 1) / stride + 1;
    int K = k * in, R = kk_qw_rows(out);
    int8_t *q = malloc((size_t)out * K), *pq = malloc((size_t)R * K);
    float *w = malloc(sizeof(float) * out * K), *b = malloc(sizeof(float) * out);
    float *zero = calloc((size_t)R, sizeof(float)), *scale = calloc((size_t)R, sizeof(float));
    float *x = malloc(sizeof(float) * in * T), *xt = malloc(sizeof(float) * in * T);
    float *y = malloc(sizeof(float) * out * Tout), *r = malloc(sizeof(float) * out * Tout);
    CHECK(q && pq && w && b && zero && scale && x && xt && y && r, "buffers");
    for (int o = 0; o < out; o++) { /* zero points as a uint8 export's shifted ones, -90 .. 90 */
        zero[o] = (float)((int)(frand(&s) * 90));
        scale[o] = 0.002f + 0.01f * fabsf(frand(&s));
        b[o] = frand(&s);
        for (int i = 0; i < K; i++) {
            q[(size_t)o * K + i] = (int8_t)(frand(&s) * 127);
            w[(size_t)o * K + i] = ((float)q[(size_t)o * K + i] - zero[o]) * scale[o];
        }
    }
    kk_qw_pack(q, out, K, pq);
    kk_qw pw = {pq, zero, scale, out, K};
    { /* the floats made from the packed form are the row-major form's, bit for bit */
        float *f1 = malloc(sizeof(float) * out * K), *f2 = malloc(sizeof(float) * out * K);
        CHECK(f1 && f2, "buffers");
        kk_dequant(pools[n_pools - 1], q, scale, zero, out, K, f1);
        kk_dequant_packed(pools[n_pools - 1], &pw, f2);
        CHECK(!memcmp(f1, f2, sizeof(float) * out * K),
              "kk_dequant_packed %d x %d gives kk_dequant's floats", out, K);
        free(f1), free(f2);
    }
    for (int i = 0; i < in * T; i++) x[i] = frand(&s);
    for (int c = 0; c < in; c++) /* a linear layer's x is [T][in] */
        for (int t = 0; t < T; t++) xt[(size_t)t * in + c] = x[(size_t)c * T + t];
    conv_ref(w, b, in, out, k, stride, dil, pad, x, T, r, Tout);
    for (int pi = 0; pi < n_pools; pi++) {
        int got;
        if (path == Q_LINEAR) { /* y [T][out], compared as [out][T] */
            float *yt = malloc(sizeof(float) * out * T);
            CHECK(yt != NULL, "buffer");
            got = kk_qlinear_rows(pools[pi], &pw, b, in, out, xt, T, yt) ? -1 : T;
            for (int o = 0; o < out; o++)
                for (int t = 0; t < T; t++) y[(size_t)o * T + t] = yt[(size_t)t * out + o];
            free(yt);
        } else if (path == Q_FFT) { /* the filters' spectra from the integers */
            memset(y, 0, sizeof(float) * out * Tout);
            got = kk_conv1d_fft_q(pools[pi], &pw, b, in, out, k, dil, x, T, y) ? -1 : T;
        } else {
            memset(y, 0, sizeof(float) * out * Tout);
            got = kk_qconv1d(pools[pi], &pw, b, in, out, k, stride, dil, pad, x, T, y);
        }
        double e = got == Tout ? check_rel_l2(y, r, (size_t)out * Tout) : 1;
        CHECK(got == Tout && e < 2e-6,
              "8-bit %s in %d out %d k %d stride %d dil %d T %d, %d thread(s): Tout %d/%d, rel err %.2e",
              path == Q_FFT ? "fft" : path == Q_LINEAR ? "linear" : "conv", in, out, k, stride,
              dil, T, kk_pool_size(pools[pi]), got,
              Tout, e);
    }
    free(q), free(pq), free(w), free(b), free(zero), free(scale), free(x), free(xt), free(y), free(r);
}

/* A product of a tile or two widens the 8-bit weights in its tiles (qgemm_tile_q), a longer one
 * shares a panel of their floats: the same floats in the same order, so a column is the same
 * bits either way (the first columns of a short run against those of a long one). And an
 * LSTM's step (qgemv) against the double loop, its zero points far from 0. */
static void check_qdirect(kk_pool *pool)
{
    enum { IN = 200, OUT = 48, K3 = 3 * IN, LONG = 300, SHORT = 9 }; /* 1 to 3 tiles on any path */
    unsigned s = 7;
    const int R = kk_qw_rows(OUT);
    int8_t *q = malloc((size_t)OUT * K3), *pq = malloc((size_t)R * K3);
    float *zero = calloc((size_t)R, sizeof(float)), *scale = calloc((size_t)R, sizeof(float));
    float *b = malloc(sizeof(float) * OUT), *x = malloc(sizeof(float) * IN * LONG);
    float *y1 = malloc(sizeof(float) * OUT * LONG), *y2 = malloc(sizeof(float) * OUT * LONG);
    CHECK(q && pq && zero && scale && b && x && y1 && y2, "buffers");
    for (int o = 0; o < OUT; o++) {
        zero[o] = (float)((int)(frand(&s) * 90));
        scale[o] = 0.002f + 0.01f * fabsf(frand(&s));
        b[o] = frand(&s);
        for (int i = 0; i < K3; i++) q[(size_t)o * K3 + i] = (int8_t)(frand(&s) * 127);
    }
    for (int i = 0; i < IN * LONG; i++) x[i] = frand(&s);
    for (int k = 1; k <= 3; k += 2) { /* a linear layer (x [T][in]), a 3-tap convolution */
        kk_qw_pack(q, OUT, k * IN, pq);
        kk_qw pw = {pq, zero, scale, OUT, k * IN};
        int same = 1;
        if (k == 1) {
            CHECK(!kk_qlinear_rows(pool, &pw, b, IN, OUT, x, LONG, y1) &&
                      !kk_qlinear_rows(pool, &pw, b, IN, OUT, x, SHORT, y2),
                  "linear");
            same = !memcmp(y1, y2, sizeof(float) * OUT * SHORT);
        } else {
            float *xs = malloc(sizeof(float) * IN * SHORT);
            CHECK(xs != NULL, "buffer");
            for (int c = 0; c < IN; c++) memcpy(xs + c * SHORT, x + c * LONG, sizeof(float) * SHORT);
            CHECK(kk_qconv1d(pool, &pw, b, IN, OUT, 3, 1, 1, 1, x, LONG, y1) == LONG &&
                      kk_qconv1d(pool, &pw, b, IN, OUT, 3, 1, 1, 1, xs, SHORT, y2) == SHORT,
                  "conv");
            for (int o = 0; o < OUT; o++) /* all but the last column, which sees the padding */
                same &= !memcmp(y1 + o * LONG, y2 + o * SHORT, sizeof(float) * (SHORT - 1));
            free(xs);
        }
        CHECK(same, "8-bit %s: %d columns (tiles widen the weights) give the bits of %d (a panel)",
              k == 1 ? "linear" : "conv", SHORT, LONG);
    }
    kk_qw_pack(q, OUT, IN, pq); /* y += W x, one LSTM step */
    double err = 0, norm = 0;
    for (int o = 0; o < OUT; o++) y1[o] = b[o];
    kk_kern->qgemv(pq, zero, scale, OUT, IN, x, y1);
    for (int o = 0; o < OUT; o++) {
        double r = b[o];
        for (int i = 0; i < IN; i++) r += ((double)q[(size_t)o * IN + i] - zero[o]) * scale[o] * x[i];
        err += (y1[o] - r) * (y1[o] - r);
        norm += r * r;
    }
    CHECK(sqrt(err / norm) < 1e-6, "8-bit LSTM step rel err %.2e", sqrt(err / norm));
    free(q), free(pq), free(zero), free(scale), free(b), free(x), free(y1), free(y2);
}

/* Transposed convolution (the generator's upsamplers) against a plain loop:
 * y[o][t*stride + j - pad] += w[c][o][j] x[c][t], plus the bias. */
static void check_convt(kk_pool *const *pools, int n_pools, int in, int out, int k, int stride,
                        int pad, int T)
{
    unsigned s = (unsigned)(in * 17 + k + T);
    int Tout = (T - 1) * stride - 2 * pad + k;
    float *w = malloc(sizeof(float) * in * out * k), *b = malloc(sizeof(float) * out);
    float *x = malloc(sizeof(float) * in * T), *y = malloc(sizeof(float) * out * Tout);
    double *r = calloc((size_t)out * Tout, sizeof *r);
    float *rf = malloc(sizeof(float) * out * Tout);
    CHECK(w && b && x && y && r && rf, "buffers");
    for (int i = 0; i < in * out * k; i++) w[i] = frand(&s) * 0.1f;
    for (int i = 0; i < out; i++) b[i] = frand(&s);
    for (int i = 0; i < in * T; i++) x[i] = frand(&s);
    for (int o = 0; o < out; o++) {
        for (int t = 0; t < Tout; t++) r[(size_t)o * Tout + t] = b[o];
        for (int c = 0; c < in; c++)
            for (int j = 0; j < k; j++)
                for (int t = 0; t < T; t++) {
                    int to = t * stride + j - pad;
                    if (to >= 0 && to < Tout)
                        r[(size_t)o * Tout + to] += (double)w[((size_t)c * out + o) * k + j] * x[(size_t)c * T + t];
                }
    }
    for (size_t i = 0; i < (size_t)out * Tout; i++) rf[i] = (float)r[i];
    for (int pi = 0; pi < n_pools; pi++) {
        memset(y, 0, sizeof(float) * out * Tout);
        int rc = kk_convt1d(pools[pi], w, b, in, out, k, stride, pad, 0, x, T, y);
        double e = rc == 0 ? check_rel_l2(y, rf, (size_t)out * Tout) : 1;
        CHECK(rc == 0 && e < 2e-6, "transposed conv in %d out %d k %d stride %d pad %d T %d, %d thread(s): rel err %.2e",
              in, out, k, stride, pad, T, kk_pool_size(pools[pi]), e);
    }
    free(w), free(b), free(x), free(y), free(r), free(rf);
}

/* LayerNorm, AdaIN, leaky ReLU and the LSTM cell against double-precision loops. */
static void check_norms_lstm(void)
{
    unsigned s = 7;
    enum { T = 3, C = 771, H = 37 };
    float x[T * C], g[C], b[C], ref[T * C];
    for (int i = 0; i < T * C; i++) x[i] = frand(&s) * 3.0f + 1.0f;
    for (int i = 0; i < C; i++) g[i] = frand(&s), b[i] = frand(&s);
    for (int t = 0; t < T; t++) {
        const float *r = x + t * C;
        double m = 0, v = 0;
        for (int c = 0; c < C; c++) m += r[c];
        m /= C;
        for (int c = 0; c < C; c++) v += (r[c] - m) * (r[c] - m);
        v /= C;
        for (int c = 0; c < C; c++) ref[t * C + c] = (float)((r[c] - m) / sqrt(v + 1e-5) * g[c] + b[c]);
    }
    kk_layernorm_rows(x, T, C, g, b, 1e-5f);
    double e = check_rel_l2(x, ref, T * C);
    CHECK(e < 1e-6, "layernorm rel err %.2e", e);

    /* AdaIN over rows of C values: (1 + gamma) * instnorm(x) + beta */
    for (int i = 0; i < T * C; i++) x[i] = frand(&s) * 2.0f - 0.5f;
    float gam[T] = {0.5f, -0.25f, 2.0f}, bet[T] = {0.1f, -1.0f, 0.0f};
    for (int t = 0; t < T; t++) {
        const float *r = x + t * C;
        double m = 0, v = 0;
        for (int c = 0; c < C; c++) m += r[c];
        m /= C;
        for (int c = 0; c < C; c++) v += (r[c] - m) * (r[c] - m);
        v /= C;
        for (int c = 0; c < C; c++)
            ref[t * C + c] = (float)((1.0 + gam[t]) * (r[c] - m) / sqrt(v + 1e-5) + bet[t]);
    }
    kk_adain(x, T, C, gam, bet);
    e = check_rel_l2(x, ref, T * C);
    CHECK(e < 1e-6, "adain rel err %.2e", e);

    for (int i = 0; i < T * C; i++) ref[i] = x[i] < 0 ? x[i] * 0.2f : x[i];
    kk_leaky_relu(x, T * C, 0.2f);
    CHECK(!memcmp(x, ref, sizeof x), "leaky relu is exact");

    float gates[4 * H], c[H], h[H], out[H], cr[H], hr[H];
    for (int i = 0; i < 4 * H; i++) gates[i] = frand(&s) * 4.0f;
    for (int u = 0; u < H; u++) c[u] = cr[u] = frand(&s);
    for (int u = 0; u < H; u++) {
        double ig = 1 / (1 + exp(-gates[u])), fg = 1 / (1 + exp(-gates[H + u]));
        double gg = tanh(gates[2 * H + u]), og = 1 / (1 + exp(-gates[3 * H + u]));
        cr[u] = (float)(fg * cr[u] + ig * gg);
        hr[u] = (float)(og * tanh(cr[u]));
    }
    kk_kern->lstm_cell(gates, c, h, out, H);
    e = check_rel_l2(c, cr, H) + check_rel_l2(h, hr, H);
    CHECK(e < 1e-6 && !memcmp(h, out, sizeof h), "lstm cell rel err %.2e", e);
}

/* A forced back end that is unknown, or not built in, or not offered by this CPU is refused
 * by kokoro_model_load before it reads the file (in a child: the choice is once per process). */
static void check_refused(const char *name, const char *paths)
{
    pid_t pid = fork();
    if (pid == 0) {
        char err[512] = "";
        kokoro_model *m = NULL;
        setenv("KOKORO_CPU", name, 1);
        int rc = kokoro_model_load("no/such/model.onnx", &m, err, sizeof err);
        int ok = rc == KOKORO_E_UNSUPPORTED && m == NULL && strstr(err, paths) &&
                 strstr(err, name);
        if (!ok) fprintf(stderr, "KOKORO_CPU=%s: rc %d, message \"%s\"\n", name, rc, err);
        _exit(ok ? 0 : 1);
    }
    int st = 0;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "KOKORO_CPU=%s is refused with a message naming the paths offered (%s)", name, paths);
}

int main(int argc, char **argv)
{
    char err[256], paths[64];
    kk_cpu_paths(paths, sizeof paths);
    if (argc > 1 && !strcmp(argv[1], "--paths")) {
        printf("%s\n", paths);
        return 0;
    }
    /* before this process chooses its own back end, which the children would inherit */
    check_refused("sse9", paths);
    static const char *const all[] = {"generic", "avx2", "avx512", "neon"};
    for (int i = 0; i < 4; i++) {
        char padded[80], word[16];
        snprintf(padded, sizeof padded, " %s ", paths);
        snprintf(word, sizeof word, " %s ", all[i]);
        if (!strstr(padded, word)) check_refused(all[i], paths);
    }
    if (kk_cpu_init(err, sizeof err)) {
        fprintf(stderr, "test_ops: %s\n", err);
        return 1;
    }
    printf("test_ops: kernels %s (this CPU offers: %s)\n", kk_cpu_name(), paths);
    check_norms_lstm();
    kk_pool *pools[2] = {kk_pool_new(1), kk_pool_new(2)};
    check_qdirect(pools[0]);
    {
        /* 8-bit weights: the decoder's and text encoder's shapes (scaled down), the noise
         * conv (strided), F0_conv (one channel, stride 2), 1x1, conv_post (22 outputs), more
         * columns than a block, ALBERT's and the style's linear layers */
        check_qconv(pools, 2, 130, 96, 3, 1, 1, 85, Q_CONV);
        check_qconv(pools, 2, 64, 48, 5, 1, 1, 700, Q_CONV);
        check_qconv(pools, 2, 22, 256, 12, 6, 1, 601, Q_CONV);
        check_qconv(pools, 2, 1, 1, 3, 2, 1, 50, Q_CONV);
        check_qconv(pools, 2, 512, 64, 1, 1, 1, 37, Q_CONV);
        check_qconv(pools, 2, 128, 22, 7, 1, 1, 1201, Q_CONV);
        check_qconv(pools, 2, 40, 36, 3, 1, 3, 7, Q_CONV);
        check_qconv(pools, 2, 768, 200, 1, 1, 1, 25, Q_LINEAR);
        check_qconv(pools, 2, 128, 1024, 1, 1, 1, 1, Q_LINEAR);
        check_qconv(pools, 2, 96, 33, 1, 1, 1, 250, Q_LINEAR);
        /* FFT with 8-bit filters: one shared item (dilated, both stages' channel counts, inputs
         * not a whole number of vectors), and items of their own (a row past one thread's
         * scratch) */
        check_qconv(pools, 2, 128, 128, 11, 1, 5, 1500, Q_FFT);
        check_qconv(pools, 2, 256, 64, 7, 1, 3, 1100, Q_FFT);
        check_qconv(pools, 2, 34, 32, 9, 1, 1, 300, Q_FFT);
        check_qconv(pools, 2, 128, 32, 11, 1, 1, 10500, Q_FFT);
        /* 48 outputs: the products' panels are whole (32 rows on AVX-512), padded past 48
         * (items of their own share the products; 128 -> 32 above runs them) */
        check_qconv(pools, 2, 64, 48, 7, 1, 1, 1300, Q_FFT);
        check_conv(pools, 2, 22, 256, 12, 6, 1, 601, 0); /* the generator's noise conv */
        check_conv(pools, 2, 1, 1, 3, 2, 1, 50, 0);      /* F0_conv */
        check_conv(pools, 2, 64, 48, 5, 1, 1, 700, 0);
        /* too few column blocks or tiles for the threads: they share the output channels
         * (one block, three blocks; one Winograd item with one and with three tap groups) */
        check_conv(pools, 2, 96, 72, 3, 1, 1, 85, 0);
        check_conv(pools, 2, 40, 36, 3, 1, 1, 1100, 0);
        check_conv(pools, 2, 48, 72, 3, 1, 1, 200, 1);
        check_conv(pools, 2, 48, 72, 11, 1, 1, 200, 1);
        static const int ks[3] = {3, 7, 11}, ds[3] = {1, 3, 5};
        for (int a = 0; a < 3; a++)
            for (int d = 0; d < 3; d++) {
                check_conv(pools, 2, 32, 40, ks[a], 1, ds[d], 1500, 1);
                check_conv(pools, 2, 16, 8, ks[a], 1, ds[d], 7, 1); /* shorter than the kernel */
            }
        check_conv(pools, 2, 70, 70, 11, 1, 5, 3333, 1);
        /* the FFT (overlap-save) path: every tap count and dilation of the generator, rows
         * shorter than a window, not a multiple of it, and a phase longer than the others */
        for (int a = 1; a < 3; a++)
            for (int d = 0; d < 3; d++) {
                check_conv(pools, 2, 32, 40, ks[a], 1, ds[d], 1500, 2);
                check_conv(pools, 2, 16, 8, ks[a], 1, ds[d], 7, 2);
                check_conv(pools, 2, 2, 2, ks[a], 1, ds[d], 1, 2);
            }
        check_conv(pools, 2, 128, 128, 11, 1, 5, 9001, 2); /* the second stage's shape */
        check_conv(pools, 2, 256, 256, 7, 1, 3, 2049, 2);  /* the first stage's (32-point windows) */
        check_conv(pools, 2, 64, 64, 3, 1, 1, 999, 2);
        check_convt(pools, 2, 512, 256, 20, 10, 5, 42); /* ups.0 and ups.1 */
        check_convt(pools, 2, 256, 128, 12, 6, 3, 840);
        check_convt(pools, 2, 8, 5, 20, 10, 5, 1);     /* one input column */
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
    /* GELU (tanh form) against double precision, over ALBERT's range and past it, where the
     * vectorised e^x clamps. The float argument u of e^(-2u) carries rounding of about an ulp
     * of u, which e^x turns into a relative error of that size: the bar grows with |u|. */
    {
        enum { NG = 20001 };
        static float g[NG];
        for (int i = 0; i < NG; i++) g[i] = -60.0f + 120.0f * (float)i / (NG - 1);
        g[NG / 2] = 0.0f;
        kk_kern->gelu(g, NG);
        double worst = 0, at = 0;
        for (int i = 0; i < NG; i++) {
            double v = i == NG / 2 ? 0.0 : (double)(-60.0f + 120.0f * (float)i / (NG - 1));
            /* 0.5 v (1 + tanh u) = v / (1 + e^(-2u)), the latter exact in the negative tail */
            double u2 = 2.0 * 0.7978845608028654 * (v + 0.044715 * v * v * v);
            double r = v / (1.0 + exp(-u2));
            double e = fabs(g[i] - r) / fmax(fabs(r), 1e-6) / (2.0 + fmin(fabs(u2), 88.0));
            if (e > worst) worst = e, at = v;
        }
        CHECK(worst < 2e-7 && g[NG / 2] == 0.0f,
              "gelu: worst relative error %.2e x (2 + |2u|) at %g", worst, at);
    }
    kk_pool_free(pools[0]);
    kk_pool_free(pools[1]);
    return check_done("test_ops");
}
