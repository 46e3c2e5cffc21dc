/* engine.c - the forward pass of Kokoro-82M: ALBERT, prosody predictor, text encoder,
 * decoder and the iSTFTNet generator with its harmonic source, from phoneme ids to 24 kHz
 * audio. Follows the original PyTorch model (see docs/engine.md for where the ONNX export
 * differs). */
#include "model/model.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/util.h"
#include "model/cpu/kernels.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const stage_names[KOKORO_DEBUG_STAGES] = {
    "albert", "predictor", "text_encoder", "decoder", "generator", "source+istft"};

/* ------------------------------------------------------------------ model and state */

int kokoro_model_load(const char *path, kokoro_model **out, char *err, size_t errlen)
{
    if (!path || !out) return kk_fail(err, errlen, KOKORO_E_ARG, "model path missing");
    *out = NULL;
    /* The kernels' CPU back end, chosen once per process; only a bad KOKORO_CPU fails here. */
    if (kk_cpu_init(err, errlen) != KOKORO_OK) return KOKORO_E_UNSUPPORTED;
    kokoro_model *m = calloc(1, sizeof *m);
    if (!m) return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    int rc = onnx_open(path, &m->onnx, err, errlen);
    if (rc == KOKORO_OK) rc = kk_weights_load(m, err, errlen);
    /* The weights are copied out as floats: the mapping is no longer needed. */
    onnx_close(&m->onnx);
    if (rc != KOKORO_OK) {
        kokoro_model_free(m);
        return rc;
    }
    for (int i = 0; i < 20; i++) m->window[i] = 0.5f - 0.5f * cosf(2.0f * (float)M_PI * i / 20.0f);
    /* Threads are ours (kk_pool): BLAS must not start its own inside each call. */
    openblas_set_num_threads(1);
    *out = m;
    return KOKORO_OK;
}

void kokoro_model_free(kokoro_model *m)
{
    if (!m) return;
    kk_allocs_free(&m->allocs);
    onnx_close(&m->onnx);
    free(m);
}

kokoro_state *kokoro_state_new(const kokoro_model *m, int n_threads)
{
    if (!m) return NULL;
    kokoro_state *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->m = m;
    st->pool = kk_pool_new(n_threads < 1 ? 1 : n_threads);
    if (!st->pool) {
        free(st);
        return NULL;
    }
    return st;
}

static void drop_tensors(kokoro_state *st)
{
    for (int i = 0; i < st->n_tensors; i++) free(st->tensors[i].data);
    st->n_tensors = 0;
}

void kokoro_state_free(kokoro_state *st)
{
    if (!st) return;
    drop_tensors(st);
    for (int i = 0; i < KK_WT_SLOTS; i++) free(st->wt[i].buf);
    kk_pool_free(st->pool);
    free(st->durations);
    free(st);
}

const int32_t *kokoro_state_durations(const kokoro_state *st, int *n)
{
    if (n) *n = st ? st->n_durations : 0;
    return st ? st->durations : NULL;
}

int kokoro_state_tensor(const kokoro_state *st, const char *name, const float **data, int dims[3])
{
    for (int i = 0; st && i < st->n_tensors; i++) {
        if (strcmp(st->tensors[i].name, name)) continue;
        *data = st->tensors[i].data;
        memcpy(dims, st->tensors[i].dims, sizeof st->tensors[i].dims);
        return KOKORO_OK;
    }
    return KOKORO_E_NOT_FOUND;
}

/* The hooks of kokoro_debug.h. */
const char *kokoro_debug_stage_name(int i)
{
    return i >= 0 && i < KOKORO_DEBUG_STAGES ? stage_names[i] : NULL;
}

const double *kokoro_debug_stage_seconds(const kokoro_state *st) { return st->stage_s; }

size_t kokoro_debug_weight_bytes(const kokoro_state *st)
{
    size_t n = 0;
    for (int i = 0; i < KK_WT_SLOTS; i++) n += st->wt[i].cap * sizeof(float);
    return n;
}

void kokoro_debug_keep_tensors(kokoro_state *st, int on) { st->keep_tensors = on; }

void kokoro_debug_direct_conv(kokoro_state *st, int on) { st->direct_conv = on; }

void kokoro_debug_no_fft(kokoro_state *st, int on) { st->no_fft = on; }

static void keep(kokoro_state *st, const char *name, const float *data, int d0, int d1)
{
    if (!st->keep_tensors || st->n_tensors >= KK_MAX_TENSORS) return;
    size_t n = (size_t)d0 * d1;
    float *c = malloc(n * sizeof *c);
    if (!c) return;
    memcpy(c, data, n * sizeof *c);
    kk_tensor_slot *s = &st->tensors[st->n_tensors++];
    s->name = name;
    s->data = c;
    s->dims[0] = d0;
    s->dims[1] = d1;
    s->dims[2] = 1;
}

kokoro_synth_params kokoro_synth_defaults(void)
{
    kokoro_synth_params p = {.speed = 1.0f, .noise_seed = 0x5eed, .max_frames = KOKORO_MAX_FRAMES};
    return p;
}

int kokoro_state_set_threads(kokoro_state *st, int n)
{
    if (!st) return 1;
    kk_pool_set_use(st->pool, n);
    return kk_pool_size(st->pool);
}

const char *kokoro_kernels(void) { return kk_cpu_name(); }

size_t kokoro_state_peak_bytes(const kokoro_state *st) { return st ? st->peak_bytes : 0; }

/* ------------------------------------------------------------------ per-call arena */

/* Every buffer of one synthesis, with its size: the live total and its high-water mark are
 * what KOKORO_FRAME_BYTES promises, and what tests hold it to. */
typedef struct {
    kk_allocs bufs;
    int oom;
    kk_pool *acct; /* counts live bytes, with the kernels' own large buffers */
} arena;

static void arena_count(arena *a, long bytes) { kk_pool_mem(a->acct, bytes); }

/* A buffer of n floats, freed with the arena. NULL (and a->oom set) when out of memory. */
static float *A(arena *a, size_t n)
{
    if (a->oom) return NULL;
    size_t bytes = (n ? n : 1) * sizeof(float);
    float *p = kk_allocs_add(&a->bufs, malloc(bytes), bytes);
    if (!p) {
        a->oom = 1;
        return NULL;
    }
    arena_count(a, (long)bytes);
    return p;
}

/* Frees one buffer of the arena early (large generator buffers), so peak memory stays low;
 * the others keep their order, since arena_pop frees by position. */
static void arena_release(arena *a, void *p) { arena_count(a, -(long)kk_allocs_release(&a->bufs, p)); }

/* A mark for arena_pop: the buffers allocated so far. */
static size_t arena_mark(const arena *a) { return kk_allocs_count(&a->bufs); }

/* Frees every buffer allocated since `mark`: a helper's temporaries, on its way out. */
static void arena_pop(arena *a, size_t mark) { arena_count(a, -(long)kk_allocs_pop(&a->bufs, mark)); }

static void arena_free(arena *a)
{
    arena_pop(a, 0);
    kk_allocs_free(&a->bufs);
}

/* ------------------------------------------------------------------ weights */

/* The slot's buffer with room for n floats, holding nothing yet; NULL when out of memory. */
static float *slot_take(kokoro_state *st, int slot, size_t n)
{
    kk_wt_slot *s = &st->wt[slot];
    s->key = NULL;
    if (s->cap < n) {
        float *b = realloc(s->buf, n * sizeof *b);
        if (!b) return NULL;
        s->buf = b;
        s->cap = n;
    }
    return s->buf;
}

/* The floats of weight w: its own (a float export), or its integers dequantised into scratch
 * slot `slot` of the state (kept there while nothing else needs the slot). NULL when out of
 * memory. */
static const float *wt_floats(kokoro_state *st, const kk_wt *w, int slot)
{
    if (!w->q && !w->pk.q) return w->f;
    kk_wt_slot *s = &st->wt[slot];
    if (s->key == w && s->kind == 0) return s->buf;
    float *b = slot_take(st, slot, (size_t)w->rows * w->cols);
    if (!b) return NULL;
    if (w->q)
        kk_dequant(st->pool, w->q, w->scale, w->zero, w->rows, w->cols, b);
    else
        kk_dequant_packed(st->pool, &w->pk, b);
    s->key = w;
    s->kind = 0;
    return b;
}

/* The Winograd transform of convolution c's weights w (their floats) in slot `slot`. */
static const float *wt_wino(kokoro_state *st, const kk_conv *c, const float *w, int slot)
{
    kk_wt_slot *s = &st->wt[slot];
    if (s->key == c && s->kind == 1) return s->buf;
    float *u = slot_take(st, slot, kk_wino_size(c->in, c->out, c->k));
    if (!u) return NULL;
    kk_wino_transform(st->pool, w, c->in, c->out, c->k, u);
    s->key = c;
    s->kind = 1;
    return u;
}

/* Scratch slots by use: a layer's weights (and their Winograd transform), the style affines,
 * an LSTM's four matrices, ALBERT's six. */
enum { WS_W = 0, WS_U = 1, WS_STYLE = 2 };

/* ------------------------------------------------------------------ building blocks */

static void transpose(const float *x, int R, int C, float *y) /* x [R][C] -> y [C][R] */
{
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) y[(size_t)c * R + r] = x[(size_t)r * C + c];
}

static int style_affine(kokoro_state *st, const kk_linear *fc, const float *s, float *gb)
{
    if (fc->w.pk.q)
        return kk_qlinear_rows(st->pool, &fc->w.pk, fc->b, fc->in, fc->out, s, 1, gb)
                   ? KOKORO_E_NOMEM
                   : KOKORO_OK;
    const float *w = wt_floats(st, &fc->w, WS_STYLE);
    if (!w) return KOKORO_E_NOMEM;
    memcpy(gb, fc->b, (size_t)fc->out * sizeof *gb);
    cblas_sgemv(CblasRowMajor, CblasNoTrans, fc->out, fc->in, 1.0f, w, fc->in, s, 1, 1.0f, gb, 1);
    return KOKORO_OK;
}

/* y = x W^T + b for x [T][in], the weights' floats in slot `slot`. */
static int linear(kokoro_state *st, const kk_linear *l, int slot, const float *x, int T, float *y)
{
    if (l->w.pk.q)
        return kk_qlinear_rows(st->pool, &l->w.pk, l->b, l->in, l->out, x, T, y)
                   ? KOKORO_E_NOMEM
                   : KOKORO_OK;
    const float *w = wt_floats(st, &l->w, slot);
    if (!w) return KOKORO_E_NOMEM;
    kk_linear_rows(st->pool, w, l->b, l->in, l->out, x, T, y);
    return KOKORO_OK;
}

/* The bidirectional LSTM l over x [T][in] -> y [T][2H], its weights in slots 0-3. */
static int bilstm(kokoro_state *st, const kk_lstm *l, const float *x, int T, float *y,
                  float *scratch)
{
    if (l->wx[0].pk.q) { /* 8-bit weights stay 8-bit */
        const kk_qw *qx[2] = {&l->wx[0].pk, &l->wx[1].pk}, *qh[2] = {&l->wh[0].pk, &l->wh[1].pk};
        return kk_qbilstm(st->pool, qx, qh, l->b, l->in, l->hid, x, T, y, scratch)
                   ? KOKORO_E_NOMEM
                   : KOKORO_OK;
    }
    const float *wx[2], *wh[2];
    for (int d = 0; d < 2; d++) {
        wx[d] = wt_floats(st, &l->wx[d], 2 * d);
        wh[d] = wt_floats(st, &l->wh[d], 2 * d + 1);
        if (!wx[d] || !wh[d]) return KOKORO_E_NOMEM;
    }
    return kk_bilstm(st->pool, wx, wh, l->b, l->in, l->hid, x, T, y, scratch) ? KOKORO_E_NOMEM
                                                                             : KOKORO_OK;
}

/* 1x1 convolution (stride 1): y [out][T]. */
static int conv1x1(kokoro_state *st, const kk_conv *c, const float *x, int T, float *y)
{
    if (c->w.pk.q)
        return kk_qconv1d(st->pool, &c->w.pk, c->b, c->in, c->out, 1, 1, 1, 0, x, T, y) < 0
                   ? KOKORO_E_NOMEM
                   : KOKORO_OK;
    const float *w = wt_floats(st, &c->w, WS_W);
    if (!w || kk_conv1d(st->pool, w, c->b, c->in, c->out, 1, 1, 1, 0, x, T, y) < 0)
        return KOKORO_E_NOMEM;
    return KOKORO_OK;
}

/* Below this many input samples (row length x channels) a generator resblock convolution runs
 * as an 8-bit product: Winograd and the FFT first turn all its weights into floats and
 * transforms, which a short row does not pay back. So a stream's first ranges (about 22
 * frames: 440 x 256 and 2,640 x 128) run direct, whole utterances on the FFT. Measured
 * (2 threads, best of 8, alternating): the stream paragraph's first byte 228-230 -> 191-192 ms;
 * "Hello from Kokoro." whole (1,480 x 256, Winograd) level at 1 and 2 threads. Sent direct, that
 * one was 10% slower at 1 thread (0.55 -> 0.61 s) and level at 2; a kernel-by-kernel
 * comparison (256 and 128 channels, 3-11 taps, one thread) crosses over at 800-3,000 samples.
 * Three taps run direct at any length: Winograd F(4,3) saves half the multiplications but
 * pays two transforms, OpenBLAS's packing and (dilated) a strided pass per phase, and
 * with 128 channels that is more than it saves (one thread, 87,000 samples: 62 ms direct,
 * 83 ms Winograd; with 256 channels level). The bench paragraph's generator: 4.44 -> 4.17 s at
 * one thread, 2.43 -> 2.34 s at two (best of 9, alternating); "Hello from Kokoro." level. */
#define QCONV_MAX_SAMPLES 350000L

/* "same" convolution (stride 1): y has T columns. Returns KOKORO_OK or KOKORO_E_NOMEM. */
static int conv(kokoro_state *st, const kk_conv *c, int dil, const float *x, int T, float *y)
{
    int direct = (long)T * c->in < QCONV_MAX_SAMPLES || c->k == 3;
    if (c->w.pk.q && (!c->wino || (direct && !st->direct_conv)))
        return kk_qconv1d(st->pool, &c->w.pk, c->b, c->in, c->out, c->k, 1, dil,
                          dil * (c->k - 1) / 2, x, T, y) < 0
                   ? KOKORO_E_NOMEM
                   : KOKORO_OK;
    /* 7 and 11 taps from 1,024 samples: FFT (with 8-bit weights every row past the direct
     * product's is that long), its filters' spectra made from the integers (no float copy);
     * shorter rows of a float model, and its 3 taps: Winograd */
    int fft = !st->direct_conv && !st->no_fft && kk_conv1d_fft_useful(c->in, c->out, c->k, T);
    if (fft && c->w.pk.q && c->out % KK_QG_ROWS == 0)
        return kk_conv1d_fft_q(st->pool, &c->w.pk, c->b, c->in, c->out, c->k, dil, x, T, y)
                   ? KOKORO_E_NOMEM
                   : KOKORO_OK;
    const float *w = wt_floats(st, &c->w, WS_W);
    if (!w) return KOKORO_E_NOMEM;
    if (fft)
        return kk_conv1d_fft(st->pool, w, c->b, c->in, c->out, c->k, dil, x, T, y)
                   ? KOKORO_E_NOMEM
                   : KOKORO_OK;
    if (c->wino && !st->direct_conv) {
        const float *u = wt_wino(st, c, w, WS_U);
        return !u || kk_conv1d_wino(st->pool, u, w, c->b, c->in, c->out, c->k, dil, x, T, y)
                   ? KOKORO_E_NOMEM
                   : KOKORO_OK;
    }
    int pad = dil * (c->k - 1) / 2;
    return kk_conv1d(st->pool, w, c->b, c->in, c->out, c->k, 1, dil, pad, x, T, y) < 0
               ? KOKORO_E_NOMEM
               : KOKORO_OK;
}

/* Elementwise passes over a whole tensor, shared by the pool's threads. The generator makes a
 * dozen such passes over tensors of tens of MB per chunk, the decoder's blocks a few each; on
 * one thread they kept the other core idle (the bench paragraph at 2 threads: 3.2 -> 3.05 s). */
typedef enum {
    VEC_ADD,   /* y = x + t */
    VEC_ACC,   /* y += s t */
    VEC_LRELU, /* y = leaky ReLU of y, slope s */
    VEC_MEAN2, /* y = (y + t) s */
    VEC_ADAIN  /* rows of y [n / T][T]: instance norm, then (1 + gamma) y + beta, t = gamma */
} vec_kind;

typedef struct {
    vec_kind kind;
    float *y;
    const float *x, *t, *beta;
    float s;
    size_t n;
    int T;
} vec_job;

static void vec_part(int i, int n, void *arg)
{
    const vec_job *j = arg;
    if (j->kind == VEC_ADAIN) { /* whole rows per thread */
        int C = (int)(j->n / (size_t)j->T), c0 = C * i / n, c1 = C * (i + 1) / n;
        if (c1 > c0)
            kk_adain(j->y + (size_t)c0 * j->T, c1 - c0, j->T, j->t + c0, j->beta + c0);
        return;
    }
    size_t a = j->n * i / n, b = j->n * (i + 1) / n;
    float *restrict y = j->y, s = j->s;
    const float *restrict t = j->t;
    switch (j->kind) {
    case VEC_ADD:
        for (size_t k = a; k < b; k++) y[k] = j->x[k] + t[k];
        break;
    case VEC_ACC:
        if (s == 1.0f)
            for (size_t k = a; k < b; k++) y[k] += t[k];
        else
            for (size_t k = a; k < b; k++) y[k] += t[k] * s;
        break;
    case VEC_LRELU:
        kk_leaky_relu(y + a, b - a, s);
        break;
    case VEC_MEAN2:
        for (size_t k = a; k < b; k++) y[k] = (y[k] + t[k]) * s;
        break;
    default:
        break;
    }
}

/* Runs j on the pool, or on this thread when it is too small to share. */
static void vec_go(kokoro_state *st, vec_job *j)
{
    if (j->n < 65536)
        vec_part(0, 1, j);
    else
        kk_pool_run(st->pool, vec_part, j);
}

static void vec_run(kokoro_state *st, vec_kind kind, float *y, const float *x, const float *t,
                    float s, size_t n)
{
    vec_job j = {kind, y, x, t, NULL, s, n, 1};
    vec_go(st, &j);
}

/* kk_adain on the pool: x [C][T] */
static void adain_run(kokoro_state *st, float *x, int C, int T, const float *gamma,
                      const float *beta)
{
    vec_job j = {VEC_ADAIN, x, NULL, gamma, beta, 0.0f, (size_t)C * T, T};
    vec_go(st, &j);
}

/* AdainResBlk1d: x [in][T] -> y [out][T or 2T]. */
static int adablk(kokoro_state *st, arena *a, const kk_adablk *b, const float *x, int T,
                  const float *s, float *y)
{
    size_t mark = arena_mark(a);
    int To = b->upsample ? 2 * T : T;
    float *gb1 = A(a, 2 * (size_t)b->in), *gb2 = A(a, 2 * (size_t)b->out);
    float *r = A(a, (size_t)b->in * T), *h = A(a, (size_t)b->in * To);
    float *h2 = A(a, (size_t)b->out * To), *sc = A(a, (size_t)b->in * To);
    if (a->oom) return KOKORO_E_NOMEM;
    if (style_affine(st, &b->n1.fc, s, gb1)) return KOKORO_E_NOMEM;
    memcpy(r, x, (size_t)b->in * T * sizeof *r);
    adain_run(st, r, b->in, T, gb1, gb1 + b->in);
    vec_run(st, VEC_LRELU, r, NULL, NULL, 0.2f, (size_t)b->in * T);
    if (b->upsample) {
        /* depthwise ConvTranspose1d k3 s2 p1 output_padding 1: out[2t+j-1] += w[j] x[t] */
        for (int c = 0; c < b->in; c++) {
            const float *xr = r + (size_t)c * T, *w = b->pool_w + (size_t)c * 3;
            float *o = h + (size_t)c * To;
            for (int t = 0; t < To; t++) o[t] = b->pool_b[c];
            for (int t = 0; t < T; t++)
                for (int j = 0; j < 3; j++) {
                    int to = 2 * t + j - 1;
                    if (to >= 0 && to < To) o[to] += w[j] * xr[t];
                }
        }
    } else {
        memcpy(h, r, (size_t)b->in * T * sizeof *h);
    }
    if (conv(st, &b->c1, 1, h, To, h2)) return KOKORO_E_NOMEM;
    if (style_affine(st, &b->n2.fc, s, gb2)) return KOKORO_E_NOMEM;
    adain_run(st, h2, b->out, To, gb2, gb2 + b->out);
    vec_run(st, VEC_LRELU, h2, NULL, NULL, 0.2f, (size_t)b->out * To);
    if (conv(st, &b->c2, 1, h2, To, y)) return KOKORO_E_NOMEM;
    /* shortcut: nearest x2, then 1x1 conv when the width changes */
    const float *xs = x;
    if (b->upsample) {
        for (int c = 0; c < b->in; c++)
            for (int t = 0; t < To; t++) sc[(size_t)c * To + t] = x[(size_t)c * T + t / 2];
        xs = sc;
    }
    const float inv = 1.0f / sqrtf(2.0f);
    if (b->sc.w.rows) {
        float *t1 = A(a, (size_t)b->out * To);
        if (!t1 || conv1x1(st, &b->sc, xs, To, t1)) return KOKORO_E_NOMEM;
        vec_run(st, VEC_MEAN2, y, NULL, t1, inv, (size_t)b->out * To);
    } else {
        vec_run(st, VEC_MEAN2, y, NULL, xs, inv, (size_t)b->out * To);
    }
    arena_pop(a, mark);
    return KOKORO_OK;
}

/* AdaINResBlock1 of the generator: x [ch][T] -> y [ch][T]; scratch holds 2*ch*T floats. */
static int resblk(kokoro_state *st, const kk_resblk *r, const float *x, int T, const float *s,
                  float *y, float *scratch)
{
    static const int dil[3] = {1, 3, 5};
    int C = r->ch;
    float gb[2 * 256], *t1 = scratch, *t2 = scratch + (size_t)C * T;
    const float *xin = x; /* y = x + sum of the three branches; x is read in place at first */
    for (int j = 0; j < 3; j++) {
        if (style_affine(st, &r->a1[j].fc, s, gb)) return KOKORO_E_NOMEM;
        kk_adain_snake(st->pool, xin, t1, C, T, gb, gb + C, r->alpha1[j]);
        if (conv(st, &r->c1[j], dil[j], t1, T, t2)) return KOKORO_E_NOMEM;
        if (style_affine(st, &r->a2[j].fc, s, gb)) return KOKORO_E_NOMEM;
        kk_adain_snake(st->pool, t2, t1, C, T, gb, gb + C, r->alpha2[j]);
        if (conv(st, &r->c2[j], 1, t1, T, t2)) return KOKORO_E_NOMEM;
        if (j == 0)
            vec_run(st, VEC_ADD, y, x, t2, 1.0f, (size_t)C * T);
        else
            vec_run(st, VEC_ACC, y, NULL, t2, 1.0f, (size_t)C * T);
        xin = y;
    }
    /* the FFT's buffers, kept over the block's convolutions (four of its six; fresh pages at
     * each call were 8% of a short request's time in the server), go before the next step,
     * whose peak they would raise */
    kk_pool_work_release(st->pool);
    return KOKORO_OK;
}

/* Strided convolution: x [in][T] -> y [out][*Tout]. */
static int conv_strided(kokoro_state *st, const kk_conv *c, int stride, int pad, const float *x,
                        int T, float *y, int *Tout)
{
    if (c->w.pk.q) {
        *Tout = kk_qconv1d(st->pool, &c->w.pk, c->b, c->in, c->out, c->k, stride, 1, pad, x, T, y);
        return *Tout < 0 ? KOKORO_E_NOMEM : KOKORO_OK;
    }
    const float *w = wt_floats(st, &c->w, WS_W);
    *Tout = w ? kk_conv1d(st->pool, w, c->b, c->in, c->out, c->k, stride, 1, pad, x, T, y) : -1;
    return *Tout < 0 ? KOKORO_E_NOMEM : KOKORO_OK;
}

typedef struct {
    float *x;
    size_t n;
} gelu_job;

/* GELU (tanh form) on the thread's share of the values, with the back end's vectorised e^x:
 * libm's tanhf cost about 10 ns a value, a million values for a 45-id sentence (ALBERT of a
 * 29-id piece at 2 threads: 8 ms of GELU, now about 1). */
static void gelu_part(int i, int n, void *arg)
{
    const gelu_job *j = arg;
    size_t a = j->n * i / n, b = j->n * (i + 1) / n;
    kk_kern->gelu(j->x + a, b - a);
}

static void gelu_tanh(kokoro_state *st, float *x, size_t n)
{
    gelu_job j = {x, n};
    kk_pool_run(st->pool, gelu_part, &j);
}

/* ------------------------------------------------------------------ stages */

/* ALBERT's self-attention, the twelve heads shared by the pool's threads (at 303 tokens the
 * heads' 13 M exponentials were a serial part of every layer). sc holds T x T floats per
 * thread. */
typedef struct {
    const float *q, *k, *v;
    float *ctx, *sc;
    int T;
} attn_job;

static void attn_part(int i, int n, void *arg)
{
    const attn_job *j = arg;
    int T = j->T;
    float *sc = j->sc + (size_t)i * T * T;
    for (int hd = 12 * i / n; hd < 12 * (i + 1) / n; hd++) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, 64, 0.125f, j->q + hd * 64, 768,
                    j->k + hd * 64, 768, 0.0f, sc, T);
        for (int r0 = 0; r0 < T; r0++) {
            float *r = sc + (size_t)r0 * T, mx = r[0], sum = 0;
            for (int c = 1; c < T; c++) mx = r[c] > mx ? r[c] : mx;
            for (int c = 0; c < T; c++) sum += (r[c] = expf(r[c] - mx));
            for (int c = 0; c < T; c++) r[c] /= sum;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, 64, T, 1.0f, sc, T,
                    j->v + hd * 64, 768, 0.0f, j->ctx + hd * 64, 768);
    }
}

/* ALBERT + bert_encoder: tokens [T] -> d_en [T][512]. */
static int albert(kokoro_state *st, arena *a, const int32_t *tok, int T, float *d_en)
{
    size_t mark = arena_mark(a);
    const kokoro_model *m = st->m;
    float *e = A(a, (size_t)T * 128), *h = A(a, (size_t)T * 768), *q = A(a, (size_t)T * 768);
    float *k = A(a, (size_t)T * 768), *v = A(a, (size_t)T * 768), *ctx = A(a, (size_t)T * 768);
    float *att = A(a, (size_t)T * 768), *f = A(a, (size_t)T * 2048);
    /* one score matrix per thread the pool has: the scheduler may give it more meanwhile */
    float *sc = A(a, (size_t)kk_pool_threads(st->pool) * T * T);
    if (a->oom) return KOKORO_E_NOMEM;
    for (int t = 0; t < T; t++)
        for (int c = 0; c < 128; c++)
            e[t * 128 + c] = m->word_emb[tok[t] * 128 + c] + m->pos_emb[t * 128 + c] + m->type_emb[c];
    kk_layernorm_rows(e, T, 128, m->emb_ln_g, m->emb_ln_b, 1e-12f);
    /* the one layer's six matrices keep slots 0-5 through the twelve passes */
    if (linear(st, &m->map_in, 4, e, T, h)) return KOKORO_E_NOMEM;
    for (int layer = 0; layer < 12; layer++) {
        if (linear(st, &m->q, 0, h, T, q) || linear(st, &m->k, 1, h, T, k) ||
            linear(st, &m->v, 2, h, T, v))
            return KOKORO_E_NOMEM;
        attn_job aj = {q, k, v, ctx, sc, T};
        kk_pool_run(st->pool, attn_part, &aj);
        if (linear(st, &m->dense, 3, ctx, T, att)) return KOKORO_E_NOMEM;
        vec_run(st, VEC_ACC, att, NULL, h, 1.0f, (size_t)T * 768);
        kk_layernorm_rows(att, T, 768, m->attn_ln_g, m->attn_ln_b, 1e-12f);
        if (linear(st, &m->ffn, 4, att, T, f)) return KOKORO_E_NOMEM;
        gelu_tanh(st, f, (size_t)T * 2048);
        if (linear(st, &m->ffn_out, 5, f, T, h)) return KOKORO_E_NOMEM;
        vec_run(st, VEC_ACC, h, NULL, att, 1.0f, (size_t)T * 768);
        kk_layernorm_rows(h, T, 768, m->full_ln_g, m->full_ln_b, 1e-12f);
    }
    if (linear(st, &m->bert_enc, 0, h, T, d_en)) return KOKORO_E_NOMEM;
    arena_pop(a, mark);
    return KOKORO_OK;
}

/* Duration encoder: d_en [T][512] -> d [T][640]. */
static int duration_encoder(kokoro_state *st, arena *a, const float *d_en, int T, const float *s,
                            float *d)
{
    size_t mark = arena_mark(a);
    const kokoro_model *m = st->m;
    float *y = A(a, (size_t)T * 512), *scr = A(a, (size_t)T * 8 * 256), *gb = A(a, 1024);
    if (a->oom) return KOKORO_E_NOMEM;
    for (int t = 0; t < T; t++) {
        memcpy(d + (size_t)t * 640, d_en + (size_t)t * 512, 512 * sizeof *d);
        memcpy(d + (size_t)t * 640 + 512, s, 128 * sizeof *d);
    }
    for (int i = 0; i < 3; i++) {
        if (bilstm(st, &m->dur_lstm[i], d, T, y, scr)) return KOKORO_E_NOMEM;
        kk_layernorm_rows(y, T, 512, NULL, NULL, 1e-5f);
        if (style_affine(st, &m->dur_aln[i], s, gb)) return KOKORO_E_NOMEM;
        for (int t = 0; t < T; t++) {
            float *r = y + (size_t)t * 512;
            for (int c = 0; c < 512; c++) r[c] = (1.0f + gb[c]) * r[c] + gb[512 + c];
            memcpy(d + (size_t)t * 640, r, 512 * sizeof *d);
            memcpy(d + (size_t)t * 640 + 512, s, 128 * sizeof *d);
        }
    }
    arena_pop(a, mark);
    return KOKORO_OK;
}

/* Text encoder: tokens -> t_en [512][T]. */
static int text_encoder(kokoro_state *st, arena *a, const int32_t *tok, int T, float *t_en)
{
    size_t mark = arena_mark(a);
    const kokoro_model *m = st->m;
    float *x = A(a, (size_t)512 * T), *y = A(a, (size_t)512 * T), *rows = A(a, (size_t)T * 512);
    float *out = A(a, (size_t)T * 512), *scr = A(a, (size_t)T * 8 * 256);
    if (a->oom) return KOKORO_E_NOMEM;
    for (int t = 0; t < T; t++)
        for (int c = 0; c < 512; c++) x[(size_t)c * T + t] = m->tok_emb[tok[t] * 512 + c];
    for (int i = 0; i < 3; i++) {
        if (conv(st, &m->te_cnn[i], 1, x, T, y)) return KOKORO_E_NOMEM;
        transpose(y, 512, T, rows);
        kk_layernorm_rows(rows, T, 512, m->te_ln_g[i], m->te_ln_b[i], 1e-5f);
        kk_leaky_relu(rows, (size_t)T * 512, 0.2f);
        transpose(rows, T, 512, x);
    }
    transpose(x, 512, T, rows);
    if (bilstm(st, &m->te_lstm, rows, T, out, scr)) return KOKORO_E_NOMEM;
    transpose(out, T, 512, t_en);
    arena_pop(a, mark);
    return KOKORO_OK;
}

/* F0 or N branch: shared features [512][F] -> curve [2F]. */
static int f0n_branch(kokoro_state *st, arena *a, const kk_adablk *blk, const kk_conv *proj,
                      const float *x, int F, const float *s, float *curve)
{
    size_t mark = arena_mark(a);
    float *b0 = A(a, (size_t)512 * F), *b1 = A(a, (size_t)256 * 2 * F), *b2 = A(a, (size_t)256 * 2 * F);
    if (a->oom) return KOKORO_E_NOMEM;
    int rc = adablk(st, a, &blk[0], x, F, s, b0);
    if (!rc) rc = adablk(st, a, &blk[1], b0, F, s, b1);
    if (!rc) rc = adablk(st, a, &blk[2], b1, 2 * F, s, b2);
    if (!rc) rc = conv1x1(st, proj, b2, 2 * F, curve);
    arena_pop(a, mark);
    return rc;
}

/* Gaussian noise for the harmonic source: xorshift64* + Box-Muller, seeded per call. */
static double rng_uniform(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return ((*s * 0x2545F4914F6CDD1DULL) >> 11) * (1.0 / 9007199254740992.0) + 1e-300;
}

/* Standard normal draws, two per Box-Muller step (the sine half is kept for the next call). */
typedef struct {
    uint64_t s;
    double spare;
    int has_spare;
} normal_rng;

static double rng_normal(normal_rng *g)
{
    if (g->has_spare) {
        g->has_spare = 0;
        return g->spare;
    }
    double u = rng_uniform(&g->s), v = rng_uniform(&g->s);
    double r = sqrt(-2.0 * log(u)), a = 2.0 * M_PI * v;
    g->spare = r * sin(a);
    g->has_spare = 1;
    return r * cos(a);
}

/* The harmonic source and its STFT, for the pool: source_part makes a thread's share of the
 * samples, then stft_part its share of the frames. */
typedef struct {
    const kokoro_model *m;
    const float *f0, *noise;
    const double *cum, *rf;
    float *src, *har;
    int F2, L, nfr;
    double noise_w; /* sqrt(sum of src_w^2): the nine harmonics' noises summed in one */
} source_job;

static void source_part(int i, int n, void *arg)
{
    const source_job *j = arg;
    const kokoro_model *m = j->m;
    const int up = 300, F2 = j->F2;
    for (int s = (int)((long)j->L * i / n), end = (int)((long)j->L * (i + 1) / n); s < end; s++) {
        double srcpos = (s + 0.5) / up - 0.5;
        if (srcpos < 0) srcpos = 0;
        int i0 = (int)srcpos;
        if (i0 > F2 - 1) i0 = F2 - 1;
        int i1 = i0 + 1 < F2 ? i0 + 1 : F2 - 1;
        double w = srcpos - i0;
        int voiced = j->f0[s / up] > 10.0f;
        double acc = m->src_b;
        if (voiced)
            for (int h = 0; h < 9; h++) {
                double c0 = j->cum[(size_t)h * F2 + i0];
                double r1 = i1 != i0 ? j->rf[(size_t)h * F2 + i1] : 0.0;
                double ph = up * c0 + up * w * r1;
                ph -= floor(ph);
                acc += m->src_w[h] * (0.1 * sin(2.0 * M_PI * ph));
            }
        if (j->noise) acc += (voiced ? 0.003 : 0.1 / 3.0) * j->noise_w * j->noise[s];
        j->src[s] = (float)tanh(acc);
    }
}

/* STFT: n_fft 20, hop 5, periodic Hann, centred with reflect padding; frames split over the
 * pool. */
static void stft_part(int i, int n, void *arg)
{
    const source_job *j = arg;
    const int L = j->L, nfr = j->nfr;
    double cs[11][20], sn[11][20];
    for (int k = 0; k <= 10; k++)
        for (int t = 0; t < 20; t++) {
            double ang = 2.0 * M_PI * k * t / 20.0;
            cs[k][t] = cos(ang);
            sn[k][t] = sin(ang);
        }
    for (int fr = (int)((long)nfr * i / n), end = (int)((long)nfr * (i + 1) / n); fr < end; fr++) {
        float seg[20];
        for (int t = 0; t < 20; t++) {
            int idx = fr * 5 + t - 10;
            if (idx < 0) idx = -idx;
            if (idx >= L) idx = 2 * (L - 1) - idx;
            if (idx < 0) idx = 0;
            seg[t] = j->src[idx] * j->m->window[t];
        }
        for (int k = 0; k <= 10; k++) {
            double re = 0, im = 0;
            for (int t = 0; t < 20; t++) {
                re += seg[t] * cs[k][t];
                im -= seg[t] * sn[k][t];
            }
            if (k == 0 || k == 10) im = 0.0; /* exactly real: keeps atan2 at 0 or +pi */
            j->har[(size_t)k * nfr + fr] = (float)sqrt(re * re + im * im);
            j->har[(size_t)(11 + k) * nfr + fr] = (float)atan2(im, re);
        }
    }
}

/* Harmonic source (SineGen + Linear + tanh) and its STFT: f0 [F2] -> har [22][L/5 + 1]. */
static int source_stft(kokoro_state *st, arena *a, const float *f0, int F2,
                       const kokoro_synth_params *p, float *har)
{
    size_t mark = arena_mark(a);
    const kokoro_model *m = st->m;
    const int up = 300, L = F2 * up, nfr = L / 5 + 1;
    float *src = A(a, (size_t)L), *noise = p->zero_noise ? NULL : A(a, (size_t)L);
    double *cum = (double *)A(a, 2 * (size_t)F2 * 9); /* frac of cumulative phase, per harmonic */
    double *rf = (double *)A(a, 2 * (size_t)F2 * 9);  /* frac(f0 * h / sr), per harmonic */
    if (a->oom) return KOKORO_E_NOMEM;
    /* The original computes the phase at frame rate: rad = frac(f0*k/sr) per frame,
     * cumulative sum, x300, then linear interpolation to samples (align_corners=False).
     * Fractions are kept in double so that long inputs do not lose phase precision. */
    for (int h = 0; h < 9; h++) {
        double c = 0;
        for (int j = 0; j < F2; j++) {
            double r = fmod((double)f0[j] * (h + 1) / 24000.0, 1.0);
            if (r < 0) r += 1.0;
            rf[(size_t)h * F2 + j] = r;
            c += r;
            c -= floor(c);
            cum[(size_t)h * F2 + j] = c;
        }
    }
    /* Each harmonic carries its own Gaussian noise of the same level, and the Linear layer
     * sums them: that sum is one Gaussian of deviation level * sqrt(sum of w^2), drawn once
     * per sample (in order, from the seed) instead of nine times. */
    source_job j = {m, f0, noise, cum, rf, src, har, F2, L, nfr, 0.0};
    if (noise) {
        normal_rng g = {p->noise_seed * 0x9E3779B97F4A7C15ULL + 1, 0.0, 0};
        for (int i = 0; i < L; i++) noise[i] = (float)rng_normal(&g);
        for (int h = 0; h < 9; h++) j.noise_w += (double)m->src_w[h] * m->src_w[h];
        j.noise_w = sqrt(j.noise_w);
    }
    kk_pool_run(st->pool, source_part, &j);
    keep(st, "source", src, L, 1);
    kk_pool_run(st->pool, stft_part, &j);
    arena_pop(a, mark);
    return KOKORO_OK;
}

/* The frames' windowed inverse DFTs, for the pool: a thread's share of x's frames -> their rows
 * of seg [nfr][20]. */
typedef struct {
    const float *x, *window;
    float *seg;
    int nfr;
} istft_job;

static void istft_part(int i, int n, void *arg)
{
    const istft_job *j = arg;
    const int nfr = j->nfr;
    double cs[20], sn[20];
    for (int t = 0; t < 20; t++) {
        cs[t] = cos(2.0 * M_PI * t / 20.0);
        sn[t] = sin(2.0 * M_PI * t / 20.0);
    }
    for (int fr = (int)((long)nfr * i / n), end = (int)((long)nfr * (i + 1) / n); fr < end; fr++) {
        double re[11], im[11];
        for (int k = 0; k <= 10; k++) {
            double mag = exp((double)j->x[(size_t)k * nfr + fr]);
            double ph = sin((double)j->x[(size_t)(11 + k) * nfr + fr]);
            re[k] = mag * cos(ph);
            im[k] = mag * sin(ph);
        }
        for (int t = 0; t < 20; t++) {
            /* real inverse DFT (C2R: imaginary parts of DC and Nyquist ignored) */
            double v = re[0] + re[10] * ((t & 1) ? -1.0 : 1.0);
            for (int k = 1; k < 10; k++) {
                int idx = (k * t) % 20;
                v += 2.0 * (re[k] * cs[idx] - im[k] * sn[idx]);
            }
            j->seg[(size_t)fr * 20 + t] = (float)(v / 20.0 * j->window[t]);
        }
    }
}

/* Inverse STFT of conv_post output x [22][nfr] -> audio [5*(nfr-1)]: the frames on the pool,
 * then their overlap-add in order. */
static int istft(kokoro_state *st, arena *a, const float *x, int nfr, float *audio)
{
    const kokoro_model *m = st->m;
    size_t mark = arena_mark(a);
    int Lp = 5 * (nfr - 1) + 20;
    float *acc = A(a, (size_t)Lp), *wsum = A(a, (size_t)Lp), *seg = A(a, (size_t)nfr * 20);
    if (a->oom) return KOKORO_E_NOMEM;
    memset(acc, 0, (size_t)Lp * sizeof *acc);
    memset(wsum, 0, (size_t)Lp * sizeof *wsum);
    istft_job j = {x, m->window, seg, nfr};
    kk_pool_run(st->pool, istft_part, &j);
    for (int fr = 0; fr < nfr; fr++)
        for (int t = 0; t < 20; t++) {
            acc[fr * 5 + t] += seg[(size_t)fr * 20 + t];
            wsum[fr * 5 + t] += m->window[t] * m->window[t];
        }
    int L = 5 * (nfr - 1);
    for (int i = 0; i < L; i++) {
        float w = wsum[i + 10];
        audio[i] = w > 1e-11f ? acc[i + 10] / w : 0.0f;
    }
    arena_pop(a, mark);
    return KOKORO_OK;
}

static int stop_asked(const kokoro_synth_params *p)
{
    return p->cancel && p->cancel(p->cancel_user);
}

/* The generator's first half, at 20 samples' hop: the decoder output x1 [512][2F] (changed in
 * place) and the source's spectrum har [22][120F+1] -> *acc [256][20F], left in the arena
 * (its own temporaries are released). scratch: 2 x 256 x 20F floats. */
static int gen_first(kokoro_state *st, arena *a, float *x1, const float *har, int F,
                     const float *s, const kokoro_synth_params *p, float *scratch, float **acc)
{
    const kokoro_model *m = st->m;
    const int T1 = 20 * F, nfr = 120 * F + 1;
    const size_t n = (size_t)256 * T1;
    int Tn, rc;
    vec_run(st, VEC_LRELU, x1, NULL, NULL, 0.1f, (size_t)512 * 2 * F);
    float *xs = A(a, n), *xs2 = A(a, n);
    if (!xs || !xs2) return KOKORO_E_NOMEM;
    if ((rc = conv_strided(st, &m->noise_conv[0], 6, 3, har, nfr, xs, &Tn))) return rc;
    if (Tn != T1) return KOKORO_E_INTERNAL;
    if ((rc = resblk(st, &m->noise_res[0], xs, T1, s, xs2, scratch))) return rc;
    float *g = A(a, n);
    if (!g || kk_convt1d(st->pool, m->ups[0].w, m->ups[0].b, 512, 256, 20, 10, 5, 0, x1, 2 * F, g))
        return KOKORO_E_NOMEM;
    vec_run(st, VEC_ACC, g, NULL, xs2, 1.0f, n);
    if (stop_asked(p)) return KOKORO_E_CANCELLED;
    float *sum = A(a, n);
    if (!sum) return KOKORO_E_NOMEM;
    memset(sum, 0, n * sizeof *sum);
    for (int j = 0; j < 3; j++) {
        if ((rc = resblk(st, &m->res[j], g, T1, s, xs, scratch))) return rc;
        vec_run(st, VEC_ACC, sum, NULL, xs, 1.0f / 3.0f, n);
        if (stop_asked(p)) return KOKORO_E_CANCELLED;
    }
    arena_release(a, g);
    arena_release(a, xs);
    arena_release(a, xs2);
    *acc = sum;
    return KOKORO_OK;
}

/* The generator's second half, at 1 sample's hop: acc [256][20F] (released here) and har ->
 * *post [22][120F+1], the spectrum the inverse STFT reads, left in the arena. scratch:
 * 2 x 128 x (120F+1) floats. */
static int gen_second(kokoro_state *st, arena *a, float *acc, const float *har, int F,
                      const float *s, const kokoro_synth_params *p, float *scratch, float **post)
{
    const kokoro_model *m = st->m;
    const int T1 = 20 * F, nfr = 120 * F + 1;
    const size_t n = (size_t)128 * nfr;
    int rc;
    vec_run(st, VEC_LRELU, acc, NULL, NULL, 0.1f, (size_t)256 * T1);
    float *u = A(a, (size_t)128 * (nfr - 1));
    if (!u || kk_convt1d(st->pool, m->ups[1].w, m->ups[1].b, 256, 128, 12, 6, 3, 0, acc, T1, u))
        return KOKORO_E_NOMEM;
    arena_release(a, acc);
    float *g = A(a, n);
    if (!g) return KOKORO_E_NOMEM;
    for (int c = 0; c < 128; c++) { /* reflection pad one sample on the left */
        float *o = g + (size_t)c * nfr;
        const float *r = u + (size_t)c * (nfr - 1);
        o[0] = r[1];
        memcpy(o + 1, r, (size_t)(nfr - 1) * sizeof *o);
    }
    arena_release(a, u);
    float *xsrc = A(a, n), *sum = A(a, n);
    if (!xsrc || !sum) return KOKORO_E_NOMEM;
    if ((rc = conv1x1(st, &m->noise_conv[1], har, nfr, xsrc)) ||
        (rc = resblk(st, &m->noise_res[1], xsrc, nfr, s, sum, scratch)))
        return rc;
    vec_run(st, VEC_ACC, g, NULL, sum, 1.0f, n);
    if (stop_asked(p)) return KOKORO_E_CANCELLED;
    memset(sum, 0, n * sizeof *sum);
    for (int j = 3; j < 6; j++) {
        if ((rc = resblk(st, &m->res[j], g, nfr, s, xsrc, scratch))) return rc;
        vec_run(st, VEC_ACC, sum, NULL, xsrc, 1.0f / 3.0f, n);
        if (stop_asked(p)) return KOKORO_E_CANCELLED;
    }
    arena_release(a, g);
    arena_release(a, xsrc);
    arena_release(a, scratch);
    vec_run(st, VEC_LRELU, sum, NULL, NULL, 0.01f, n);
    float *out = A(a, (size_t)22 * nfr);
    if (!out) return KOKORO_E_NOMEM;
    if ((rc = conv(st, &m->conv_post, 1, sum, nfr, out))) return rc;
    arena_release(a, sum);
    *post = out;
    return KOKORO_OK;
}

/* The generator and the inverse STFT: decoder output x1 [512][2F] (changed in place) and the
 * source's spectrum har [22][120F+1] -> audio [600F]. keep: record tensors for the parity
 * tests. Returns KOKORO_OK, KOKORO_E_NOMEM or KOKORO_E_CANCELLED; the arena is as it was. */
static int generate(kokoro_state *st, arena *a, float *x1, const float *har, int F,
                    const float *s_dec, const kokoro_synth_params *p, int keep_tensors,
                    float *out)
{
    double t0 = kk_now();
    size_t mark = arena_mark(a);
    int nfr = 120 * F + 1;
    float *acc = NULL, *post = NULL;
    /* one scratch for both halves (2 x 128 x (120F+1) >= 2 x 256 x 20F); the first half's
     * buffers are released before the second's, larger, are taken */
    float *scratch = A(a, (size_t)2 * 128 * nfr);
    int rc = scratch ? KOKORO_OK : KOKORO_E_NOMEM;
    if (rc == KOKORO_OK) rc = gen_first(st, a, x1, har, F, s_dec, p, scratch, &acc);
    if (rc == KOKORO_OK) rc = gen_second(st, a, acc, har, F, s_dec, p, scratch, &post);
    if (rc == KOKORO_OK) {
        if (keep_tensors) keep(st, "gen_pre", post, 22, nfr);
        double t1 = kk_now();
        st->stage_s[4] += t1 - t0;
        rc = istft(st, a, post, nfr, out);
        st->stage_s[5] += kk_now() - t1;
    }
    arena_pop(a, mark);
    return rc;
}

/* Context frames vocoded on either side of a range and then dropped: more than the decoder
 * output's reach through the generator's convolutions (about 4 frames), so that the kept
 * samples do not see the cut. */
#ifndef RANGE_CONTEXT
#define RANGE_CONTEXT 6
#endif
/* Samples over which two ranges cross-fade at a cut (inside the context). */
#define RANGE_FADE 480

/* Where to end a range of about `want` frames after frame `from`: the middle of the boundary,
 * space or punctuation token whose middle is nearest, so that the cut falls between words. */
static int range_end(const int32_t *dur, const int32_t *tok, int T, int from, int want, int F)
{
    if (from + want + 2 * RANGE_CONTEXT >= F) return F; /* the rest, not a sliver after it */
    int best = -1, best_d = 0, f = 0;
    for (int t = 0; t < T; t++) {
        int mid = f + dur[t] / 2;
        f += dur[t];
        int gap = t == 0 || t == T - 1 || tok[t] == 16 || (tok[t] >= 1 && tok[t] <= 6); /* boundary, space, punctuation */
        if (!gap || mid <= from + RANGE_CONTEXT || mid >= F - 2 * RANGE_CONTEXT) continue;
        int d = abs(mid - (from + want));
        if (best < 0 || d < best_d) best = mid, best_d = d;
    }
    if (best < 0) return F;
    return best;
}

/* Vocodes [0, F) range by range (params->on_range), cross-fading at the cuts. */
static int vocode_ranges(kokoro_state *st, arena *a, const float *x1, const float *har, int F,
                         const int32_t *tok, const float *s_dec, const kokoro_synth_params *p)
{
    const int SPF = KOKORO_SAMPLES_PER_FRAME, H = RANGE_FADE / 2;
    size_t mark = arena_mark(a);
    int rc = KOKORO_OK;
    float tail[RANGE_FADE]; /* the previous range's samples over the fade */
    int from = 0, want = p->first_frames > 0 ? p->first_frames : F;
    while (from < F && rc == KOKORO_OK) {
        int to = range_end(st->durations, tok, st->n_durations, from, want, F);
        /* the second range as short as the first: it must be out before the first has played */
        if (from > 0) want *= 2;
        int lo = from - RANGE_CONTEXT < 0 ? 0 : from - RANGE_CONTEXT;
        int hi = to + RANGE_CONTEXT > F ? F : to + RANGE_CONTEXT, Fs = hi - lo;
        int nfs = 120 * Fs + 1, nfr = 120 * F + 1;
        float *xs = A(a, (size_t)512 * 2 * Fs), *hs = A(a, (size_t)22 * nfs);
        float *out = A(a, (size_t)SPF * Fs);
        if (!xs || !hs || !out) return KOKORO_E_NOMEM;
        for (int c = 0; c < 512; c++)
            memcpy(xs + (size_t)c * 2 * Fs, x1 + (size_t)c * 2 * F + 2 * lo,
                   (size_t)2 * Fs * sizeof *xs);
        for (int c = 0; c < 22; c++)
            memcpy(hs + (size_t)c * nfs, har + (size_t)c * nfr + 120 * lo,
                   (size_t)nfs * sizeof *hs);
        rc = generate(st, a, xs, hs, Fs, s_dec, p, 0, out);
        if (rc != KOKORO_OK) break;
        /* out[0] is sample lo * SPF; this range gives [from * SPF - H, to * SPF - H), the last
         * range up to the end; the first H samples fade in over the previous range's tail */
        float *o = out + (size_t)(from - lo) * SPF;
        size_t n = (size_t)(to - from) * SPF;
        if (from > 0) {
            o -= H;
            for (int i = 0; i < RANGE_FADE; i++) {
                float w = (i + 0.5f) / RANGE_FADE;
                o[i] = tail[i] * (1.0f - w) + o[i] * w;
            }
        }
        if (from > 0) n += H;
        if (to < F) {
            memcpy(tail, out + (size_t)(to - lo) * SPF - H, sizeof tail);
            n -= H;
        }
        if (p->on_range(o, n, p->range_user)) rc = KOKORO_E_CANCELLED;
        arena_pop(a, mark);
        from = to;
    }
    arena_pop(a, mark);
    return rc;
}

/* ------------------------------------------------------------------ the forward pass */

/* One forward pass: its arena and the tensors each stage hands to the next. */
typedef struct {
    kokoro_state *st;
    const kokoro_model *m;
    const kokoro_synth_params *p;
    arena ar;
    const float *s_dec, *s_pred; /* the style row's halves: decoder, predictor */
    int32_t *tok;                /* the ids between two boundary zeros */
    int T, F;                    /* tokens, frames */
    float *d;                    /* duration encoder output [T][640] */
    float *f0, *nc;              /* F0 and energy curves [2F] */
    float *asr;                  /* text encoder output, aligned [512][F] */
    float *x1;                   /* decoder output [512][2F] */
    float *har;                  /* the harmonic source's spectrum [22][120F+1] */
    char *err;
    size_t errlen;
} pass;


static int cancelled(const pass *x) { return x->p->cancel && x->p->cancel(x->p->cancel_user); }

/* ALBERT over the tokens, then the duration encoder: x->d. */
static int stage_albert(pass *x)
{
    float *d_en;
    if (!(d_en = A(&x->ar, (size_t)x->T * 512))) return KOKORO_E_NOMEM;
    int rc = albert(x->st, &x->ar, x->tok, x->T, d_en);
    if (rc == KOKORO_OK && cancelled(x)) rc = KOKORO_E_CANCELLED;
    if (rc == KOKORO_OK) {
        if (!(x->d = A(&x->ar, (size_t)x->T * 640))) return KOKORO_E_NOMEM;
        rc = duration_encoder(x->st, &x->ar, d_en, x->T, x->s_pred, x->d);
    }
    arena_release(&x->ar, d_en);
    return rc;
}

/* Durations (st->durations) at the requested speed, and the frame count x->F, refused past
 * the frame cap before any per-frame memory is taken. */
static int stage_durations(pass *x)
{
    const kk_lstm *l = &x->m->pred_lstm;
    const int T = x->T;
    float *xl, *logits, *scr;
    if (!(xl = A(&x->ar, (size_t)T * 512))) return KOKORO_E_NOMEM;
    if (!(logits = A(&x->ar, (size_t)T * 50))) return KOKORO_E_NOMEM;
    if (!(scr = A(&x->ar, (size_t)T * 8 * 256))) return KOKORO_E_NOMEM;
    if (bilstm(x->st, l, x->d, T, xl, scr) || linear(x->st, &x->m->dur_proj, 4, xl, T, logits))
        return KOKORO_E_NOMEM;
    int32_t *dur = realloc(x->st->durations, (size_t)T * sizeof *dur);
    if (!dur) return KOKORO_E_NOMEM;
    x->st->durations = dur;
    x->st->n_durations = T;
    long F = 0;
    for (int t = 0; t < T; t++) {
        float sum = 0;
        for (int j = 0; j < 50; j++) sum += 1.0f / (1.0f + expf(-logits[t * 50 + j]));
        float v = rintf(sum / x->p->speed); /* round half to even, like torch.round */
        dur[t] = v < 1.0f ? 1 : (int32_t)v;
        F += dur[t];
    }
    arena_release(&x->ar, scr);
    arena_release(&x->ar, logits);
    arena_release(&x->ar, xl);
    int cap = x->p->max_frames > 0 ? x->p->max_frames : KOKORO_MAX_FRAMES;
    if (x->p->max_frames >= 0 && F > cap)
        return kk_fail(x->err, x->errlen, KOKORO_E_TOO_LONG,
                       "%d phonemes at speed %g last %ld frames (%.1f s); one forward pass "
                       "takes at most %d frames: cut the text into shorter pieces", T - 2,
                       (double)x->p->speed, F,
                       F * (double)KOKORO_SAMPLES_PER_FRAME / KOKORO_SAMPLE_RATE, cap);
    x->F = (int)F;
    if (x->st->keep_tensors) {
        float *df;
        if (!(df = A(&x->ar, (size_t)T))) return KOKORO_E_NOMEM;
        for (int t = 0; t < T; t++) df[t] = (float)dur[t];
        keep(x->st, "durations", df, T, 1);
    }
    return KOKORO_OK;
}

/* F0 and energy (x->f0, x->nc): the duration encoder's rows repeated by their durations,
 * the shared LSTM, then the two branches. */
static int stage_prosody(pass *x)
{
    const int T = x->T, F = x->F;
    const int32_t *dur = x->st->durations;
    float *shared_in, *shared_out, *sh, *scr;
    if (!(shared_in = A(&x->ar, (size_t)F * 640))) return KOKORO_E_NOMEM;
    for (int t = 0, f = 0; t < T; t++)
        for (int r = 0; r < dur[t]; r++, f++)
            memcpy(shared_in + (size_t)f * 640, x->d + (size_t)t * 640, 640 * sizeof *x->d);
    if (!(shared_out = A(&x->ar, (size_t)F * 512))) return KOKORO_E_NOMEM;
    if (!(sh = A(&x->ar, (size_t)512 * F))) return KOKORO_E_NOMEM;
    if (!(scr = A(&x->ar, (size_t)F * 8 * 256))) return KOKORO_E_NOMEM;
    if (bilstm(x->st, &x->m->shared, shared_in, F, shared_out, scr)) return KOKORO_E_NOMEM;
    arena_release(&x->ar, scr);
    transpose(shared_out, F, 512, sh);
    if (!(x->f0 = A(&x->ar, 2 * (size_t)F))) return KOKORO_E_NOMEM;
    if (!(x->nc = A(&x->ar, 2 * (size_t)F))) return KOKORO_E_NOMEM;
    if (cancelled(x)) return KOKORO_E_CANCELLED;
    int rc = f0n_branch(x->st, &x->ar, x->m->f0, &x->m->f0_proj, sh, F, x->s_pred, x->f0);
    if (rc == KOKORO_OK)
        rc = f0n_branch(x->st, &x->ar, x->m->nn, &x->m->n_proj, sh, F, x->s_pred, x->nc);
    arena_release(&x->ar, shared_in);
    arena_release(&x->ar, shared_out);
    arena_release(&x->ar, sh);
    keep(x->st, "f0", x->f0, 2 * F, 1);
    keep(x->st, "n", x->nc, 2 * F, 1);
    return rc;
}

/* The text encoder, aligned to the frames: x->asr. */
static int stage_text(pass *x)
{
    const int T = x->T, F = x->F;
    const int32_t *dur = x->st->durations;
    float *t_en;
    if (!(t_en = A(&x->ar, (size_t)512 * T))) return KOKORO_E_NOMEM;
    if (!(x->asr = A(&x->ar, (size_t)512 * F))) return KOKORO_E_NOMEM;
    int rc = text_encoder(x->st, &x->ar, x->tok, T, t_en);
    if (rc != KOKORO_OK) return rc;
    for (int c = 0; c < 512; c++)
        for (int t = 0, f = 0; t < T; t++)
            for (int r = 0; r < dur[t]; r++, f++)
                x->asr[(size_t)c * F + f] = t_en[(size_t)c * T + t];
    arena_release(&x->ar, t_en);
    keep(x->st, "asr", x->asr, 512, F);
    return KOKORO_OK;
}

/* The decoder: aligned text, F0 and energy -> x->x1 [512][2F]. */
static int stage_decoder(pass *x)
{
    kokoro_state *st = x->st;
    const kokoro_model *m = x->m;
    const int F = x->F;
    size_t mark = arena_mark(&x->ar);
    int Fd, rc;
    float *f0d, *nd, *x0, *ares, *cat;
    if (!(f0d = A(&x->ar, (size_t)F + 1))) return KOKORO_E_NOMEM;
    if (!(nd = A(&x->ar, (size_t)F + 1))) return KOKORO_E_NOMEM;
    if ((rc = conv_strided(st, &m->f0_conv, 2, 1, x->f0, 2 * F, f0d, &Fd)) ||
        (rc = conv_strided(st, &m->n_conv, 2, 1, x->nc, 2 * F, nd, &Fd)))
        return rc;
    if (!(x->x1 = A(&x->ar, (size_t)1024 * 2 * F))) return KOKORO_E_NOMEM;
    mark = arena_mark(&x->ar); /* what follows is the decoder's own */
    if (!(cat = A(&x->ar, (size_t)1090 * F))) return KOKORO_E_NOMEM;
    if (!(x0 = A(&x->ar, (size_t)1024 * F))) return KOKORO_E_NOMEM;
    if (!(ares = A(&x->ar, (size_t)64 * F))) return KOKORO_E_NOMEM;
    memcpy(cat, x->asr, (size_t)512 * F * sizeof *cat);
    memcpy(cat + (size_t)512 * F, f0d, (size_t)F * sizeof *cat);
    memcpy(cat + (size_t)513 * F, nd, (size_t)F * sizeof *cat);
    if ((rc = adablk(st, &x->ar, &m->encode, cat, F, x->s_dec, x0))) return rc;
    if ((rc = conv1x1(st, &m->asr_res, x->asr, F, ares))) return rc;
    for (int i = 0; i < 4; i++) {
        memcpy(cat, x0, (size_t)1024 * F * sizeof *cat);
        memcpy(cat + (size_t)1024 * F, ares, (size_t)64 * F * sizeof *cat);
        memcpy(cat + (size_t)1088 * F, f0d, (size_t)F * sizeof *cat);
        memcpy(cat + (size_t)1089 * F, nd, (size_t)F * sizeof *cat);
        if ((rc = adablk(st, &x->ar, &m->decode[i], cat, F, x->s_dec, i == 3 ? x->x1 : x0)))
            return rc;
        if (cancelled(x)) return KOKORO_E_CANCELLED;
    }
    arena_pop(&x->ar, mark);
    keep(st, "decoder", x->x1, 512, 2 * F);
    return KOKORO_OK;
}

/* The harmonic source for the whole utterance (its phase runs on from the start): x->har. */
static int stage_source(pass *x)
{
    int nfr = 120 * x->F + 1;
    if (!(x->har = A(&x->ar, (size_t)22 * nfr))) return KOKORO_E_NOMEM;
    int rc = source_stft(x->st, &x->ar, x->f0, 2 * x->F, x->p, x->har);
    keep(x->st, "har", x->har, 22, nfr);
    return rc;
}

/* Runs one stage unless an earlier one failed or the caller cancelled; adds its time to
 * stage_s[slot]. */
static int run_stage(pass *x, int rc, int (*stage)(pass *), int slot)
{
    if (rc != KOKORO_OK) return rc;
    if (cancelled(x)) return KOKORO_E_CANCELLED;
    double t0 = kk_now();
    rc = stage(x);
    x->st->stage_s[slot] += kk_now() - t0;
    return rc;
}

int kokoro_synthesize(kokoro_state *st, const int32_t *ids, int n_ids, const float *style,
                      const kokoro_synth_params *params, float **audio, size_t *n_samples,
                      char *err, size_t errlen)
{
    if (!st || !ids || !style || !audio || !n_samples)
        return kk_fail(err, errlen, KOKORO_E_ARG, "missing argument");
    *audio = NULL;
    *n_samples = 0;
    if (n_ids < 1 || n_ids > KOKORO_MAX_PHONEMES)
        return kk_fail(err, errlen, n_ids < 1 ? KOKORO_E_ARG : KOKORO_E_TOO_LONG,
                       "%d phoneme ids: a forward pass takes 1 to %d", n_ids, KOKORO_MAX_PHONEMES);
    for (int i = 0; i < n_ids; i++)
        if (ids[i] < 0 || ids[i] > 177)
            return kk_fail(err, errlen, KOKORO_E_ARG, "phoneme id %d at %d is outside 0..177",
                           ids[i], i);
    kokoro_synth_params defaults = kokoro_synth_defaults();
    const kokoro_synth_params *p = params ? params : &defaults;
    if (!(p->speed >= KOKORO_SPEED_MIN && p->speed <= KOKORO_SPEED_MAX))
        return kk_fail(err, errlen, KOKORO_E_ARG, "speed %g is outside %g..%g", p->speed,
                       (double)KOKORO_SPEED_MIN, (double)KOKORO_SPEED_MAX);

    pass x = {.st = st, .m = st->m, .p = p, .ar = {.acct = st->pool}, .s_dec = style,
              .s_pred = style + 128, .T = n_ids + 2, .err = err, .errlen = errlen};
    long out_counted = 0; /* the output buffer's bytes, counted while this call runs */
    drop_tensors(st);
    kk_pool_mem_peak(st->pool, 1); /* a new high-water mark for this call */
    memset(st->stage_s, 0, sizeof st->stage_s);

    int rc = (x.tok = (int32_t *)A(&x.ar, (size_t)x.T)) ? KOKORO_OK : KOKORO_E_NOMEM;
    if (rc == KOKORO_OK) {
        x.tok[0] = x.tok[x.T - 1] = 0;
        memcpy(x.tok + 1, ids, (size_t)n_ids * sizeof *x.tok);
    }
    rc = run_stage(&x, rc, stage_albert, 0);
    rc = run_stage(&x, rc, stage_durations, 1);
    rc = run_stage(&x, rc, stage_prosody, 1);
    rc = run_stage(&x, rc, stage_text, 2);
    rc = run_stage(&x, rc, stage_decoder, 3);
    rc = run_stage(&x, rc, stage_source, 5);
    if (rc == KOKORO_OK && cancelled(&x)) rc = KOKORO_E_CANCELLED;

    /* the generator and inverse STFT (they time themselves): at once, or range by range */
    if (rc == KOKORO_OK && p->on_range) {
        rc = vocode_ranges(st, &x.ar, x.x1, x.har, x.F, x.tok, x.s_dec, p);
        if (rc == KOKORO_OK) *n_samples = (size_t)x.F * KOKORO_SAMPLES_PER_FRAME;
    } else if (rc == KOKORO_OK) {
        size_t L = (size_t)KOKORO_SAMPLES_PER_FRAME * x.F;
        float *out = malloc(L * sizeof *out);
        if (!out) rc = KOKORO_E_NOMEM;
        if (out) {
            out_counted = (long)(L * sizeof *out); /* the caller's afterwards, alive at the peak */
            arena_count(&x.ar, out_counted);
            rc = generate(st, &x.ar, x.x1, x.har, x.F, x.s_dec, p, 1, out);
        }
        if (rc == KOKORO_OK) {
            keep(st, "audio", out, (int)L, 1);
            *audio = out;
            *n_samples = L;
        } else {
            free(out);
        }
    }
    if (rc == KOKORO_E_CANCELLED)
        kk_fail(err, errlen, rc, "synthesis cancelled");
    else if (rc == KOKORO_E_NOMEM || rc == KOKORO_E_INTERNAL)
        kk_fail(err, errlen, rc, "%s during synthesis",
                rc == KOKORO_E_NOMEM ? "out of memory" : "internal error");
    arena_free(&x.ar);
    kk_pool_work_release(st->pool); /* the kernels' kept buffers: an idle state holds none */
    arena_count(&x.ar, -out_counted);
    st->peak_bytes = kk_pool_mem_peak(st->pool, 1);
    return rc;
}
