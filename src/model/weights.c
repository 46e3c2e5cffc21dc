/* weights.c - finds every weight of Kokoro-82M in an ONNX graph and turns it into float arrays
 * in the layouts of ops.c. Weights are found by the node that consumes them (the exporter
 * names nodes after the torch modules, e.g. "/decoder/decoder/generator/ups.0/ConvTranspose"),
 * so fp32 and dynamically quantised (int8/uint8) exports load the same way. */
#include "model/model.h"
#include "model/cpu/kernels.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    kokoro_model *m;
    char *err;
    size_t errlen;
    int rc;
} loader;

/* Registers a malloc'd buffer with the model, which frees it. Returns p, or NULL (and frees
 * p) when the list cannot grow. */
static void *own(loader *L, void *p, size_t bytes)
{
    return kk_allocs_add(&L->m->allocs, p, bytes);
}

static float *track(loader *L, size_t n)
{
    return own(L, calloc(n ? n : 1, sizeof(float)), (n ? n : 1) * sizeof(float));
}

/* Frees a buffer own() registered, once its contents have been copied into another layout:
 * keeping the dequantised tensors next to their rearranged copies doubled the model's memory. */
static void disown(loader *L, void *p) { kk_allocs_release(&L->m->allocs, p); }

static int fail(loader *L, int rc, const char *fmt, const char *a)
{
    if (L->rc == KOKORO_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, fmt, a);
        L->rc = kk_fail(L->err, L->errlen, rc, "model: %s", msg);
    }
    return L->rc;
}

static int starts_with(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

static const char *const weight_ops[] = {"Conv", "ConvInteger", "ConvTranspose", "MatMul",
                                         "MatMulInteger", "Gemm", "Gather", "LSTM",
                                         "DynamicQuantizeLSTM", NULL};

static int is_weight_op(const char *op)
{
    for (int i = 0; weight_ops[i]; i++)
        if (!strcmp(op, weight_ops[i])) return 1;
    return 0;
}

/* The first weight-consuming node whose name starts with prefix and whose weight input is a
 * constant of the graph. */
static const onnx_node *find_node(loader *L, const char *prefix)
{
    const onnx_file *f = &L->m->onnx;
    for (int i = 0; i < f->n_nodes; i++) {
        const onnx_node *n = &f->nodes[i];
        if (!is_weight_op(n->op) || !starts_with(n->name, prefix)) continue;
        int wi = !strcmp(n->op, "Gather") ? 0 : 1;
        if (n->n_in > wi && onnx_tensor_find(f, n->in[wi])) return n;
    }
    fail(L, KOKORO_E_FORMAT, "no layer %s in this ONNX file (not a Kokoro-82M export?)", prefix);
    return NULL;
}

static const onnx_tensor *input_tensor(loader *L, const onnx_node *n, int i)
{
    if (i >= n->n_in || !n->in[i][0]) return NULL;
    return onnx_tensor_find(&L->m->onnx, n->in[i]);
}

/* How a quantised tensor's integers become floats: w = (q - z[ch]) * s[ch], one scale and zero
 * point per channel along the first axis (Conv, LSTM) or the last (MatMul: axis_last). */
typedef struct {
    const onnx_tensor *t;
    float *s, *z; /* [nch] */
    int64_t nch, per, last;
    int axis_last;
} qparams;

/* Finds t's scale and zero point (by name, or the node inputs scale_in and zp_in) and decodes
 * them (they may be varint-packed). Returns L->rc; on success qp_close frees them. */
static int qp_open(loader *L, const onnx_tensor *t, const onnx_tensor *scale_in,
                   const onnx_tensor *zp_in, int axis_last, qparams *qp)
{
    const onnx_file *f = &L->m->onnx;
    memset(qp, 0, sizeof *qp);
    const onnx_tensor *sc = scale_in, *zp = NULL;
    char name[512];
    size_t nl = strlen(t->name);
    const char *suffix = "_quantized";
    if (nl > 10 && !strcmp(t->name + nl - 10, suffix) && nl < sizeof name - 16) {
        memcpy(name, t->name, nl - 10);
        strcpy(name + nl - 10, "_scale");
        if (!sc) sc = onnx_tensor_find(f, name);
        strcpy(name + nl - 10, "_zero_point");
        zp = onnx_tensor_find(f, name);
    }
    if (!zp) zp = zp_in;
    if (!sc || sc->count < 1)
        return fail(L, KOKORO_E_FORMAT, "quantised weight %s has no scale", t->name);
    int64_t rows = t->ndims ? t->dims[0] : 1;
    qp->last = t->ndims ? t->dims[t->ndims - 1] : 1;
    qp->per = rows ? t->count / rows : 0;
    if (qp->per < 1) qp->per = 1;
    qp->nch = sc->count;
    qp->axis_last = axis_last;
    if (qp->nch > 1 && qp->nch != (axis_last ? qp->last : rows))
        return fail(L, KOKORO_E_FORMAT, "scale of %s does not match its shape", t->name);
    if (zp && zp->count != 1 && zp->count != qp->nch)
        return fail(L, KOKORO_E_FORMAT, "zero point of %s does not match its scale", t->name);
    qp->s = malloc((size_t)qp->nch * 2 * sizeof *qp->s);
    if (!qp->s) return fail(L, KOKORO_E_NOMEM, "out of memory for %s", t->name);
    qp->z = qp->s + qp->nch;
    for (int64_t c = 0; c < qp->nch; c++) {
        qp->s[c] = onnx_tensor_get(sc, c);
        qp->z[c] = zp ? onnx_tensor_get(zp, zp->count > 1 ? c : 0) : 0.0f;
    }
    qp->t = t;
    return L->rc;
}

static void qp_close(qparams *qp) { free(qp->s); }

static int64_t qp_channel(const qparams *qp, int64_t i)
{
    return qp->nch == 1 ? 0 : qp->axis_last ? i % qp->last : i / qp->per;
}

/* The integer at element i, as the file holds it (0..255 for uint8). */
static int qp_value(const qparams *qp, int64_t i)
{
    const onnx_tensor *t = qp->t;
    const uint8_t *raw = t->raw;
    if (!raw) return (int)onnx_tensor_get(t, i);
    return t->dtype == ONNX_INT8 ? (int)(int8_t)raw[i] : (int)raw[i];
}

static int is_quantised(const onnx_tensor *t)
{
    return t->dtype == ONNX_INT8 || t->dtype == ONNX_UINT8;
}

/* Checks that t holds data of a type the loader reads. Returns L->rc. */
static int check_weight(loader *L, const onnx_tensor *t)
{
    if (t->dtype != ONNX_FLOAT && t->dtype != ONNX_FLOAT16 && !is_quantised(t))
        return fail(L, KOKORO_E_FORMAT, "weight %s has an unsupported data type", t->name);
    if (!t->raw && !t->packed && t->count)
        return fail(L, KOKORO_E_FORMAT, "weight %s has no data", t->name);
    return L->rc;
}

/* Dequantises tensor t into a new float array. axis_last: per-channel parameters run along
 * the last axis (MatMul) instead of the first (Conv). zp_in is the node input holding the
 * zero point when it is not found by name. */
static float *dequant(loader *L, const onnx_tensor *t, const onnx_tensor *scale_in,
                      const onnx_tensor *zp_in, int axis_last)
{
    if (check_weight(L, t)) return NULL;
    float *out = track(L, (size_t)t->count);
    if (!out) {
        fail(L, KOKORO_E_NOMEM, "out of memory for %s", t->name);
        return NULL;
    }
    if (t->dtype == ONNX_FLOAT && t->raw) {
        memcpy(out, t->raw, (size_t)t->count * sizeof *out); /* little-endian host */
        return out;
    }
    if (!is_quantised(t)) {
        for (int64_t i = 0; i < t->count; i++) out[i] = onnx_tensor_get(t, i);
        return out;
    }
    qparams qp;
    if (qp_open(L, t, scale_in, zp_in, axis_last, &qp)) {
        qp_close(&qp);
        return NULL;
    }
    for (int64_t i = 0; i < t->count; i++) {
        int64_t ch = qp_channel(&qp, i);
        out[i] = ((float)qp_value(&qp, i) - qp.z[ch]) * qp.s[ch];
    }
    qp_close(&qp);
    return out;
}

/* Where element [r][c] of a weight in the engine's layout is in the file's tensor. */
typedef enum {
    LAY_SAME,   /* [rows][cols] as in the file */
    LAY_T,      /* the file has [cols][rows] (MatMul's [in][out]) */
    LAY_CONV,   /* [out][k][in] from the file's [out][in][k]; a = in, b = k */
    LAY_LSTM_Q, /* one direction d of the quantised export's [2][in][4H]; a = in, b = H */
    LAY_LSTM_F  /* one direction d of the float export's [2][4H][in]; a = in, b = H */
} layout_kind;

typedef struct {
    layout_kind kind;
    int64_t a, b, d;
} layout;

/* ONNX LSTM gate order i, o, f, c -> ours i, f, g(c), o. */
static const int gate_map[4] = {0, 3, 1, 2}; /* onnx gate index -> our gate index */
static const int gate_src[4] = {0, 2, 3, 1}; /* our gate index -> onnx gate index */

static int64_t src_index(const layout *lo, int64_t rows, int64_t cols, int64_t r, int64_t c)
{
    switch (lo->kind) {
    case LAY_T:
        return c * rows + r;
    case LAY_CONV:
        return (r * lo->a + c % lo->a) * lo->b + c / lo->a;
    case LAY_LSTM_Q:
    case LAY_LSTM_F: {
        int64_t H = lo->b, in = lo->a, og = gate_src[r / H] * H + r % H;
        return lo->kind == LAY_LSTM_Q ? (lo->d * in + c) * 4 * H + og
                                      : (lo->d * 4 * H + og) * in + c;
    }
    case LAY_SAME:
    default:
        return r * cols + c;
    }
}

/* Reads tensor t into w as [rows][cols] in layout lo. A quantised tensor stays 8-bit, with its
 * scale and zero point per row (uint8 is shifted to int8 with its zero point, which leaves
 * q - zero, and so every float, unchanged); a float tensor becomes floats. Returns L->rc. */
static int load_wt(loader *L, kk_wt *w, const onnx_tensor *t, const onnx_tensor *scale_in,
                   const onnx_tensor *zp_in, int axis_last, int rows, int cols, layout lo)
{
    memset(w, 0, sizeof *w);
    if (check_weight(L, t)) return L->rc;
    w->rows = rows;
    w->cols = cols;
    size_t n = (size_t)rows * cols;
    if (!is_quantised(t)) {
        float *raw = dequant(L, t, NULL, NULL, 0);
        if (!raw) return L->rc;
        w->f = track(L, n);
        if (!w->f) {
            disown(L, raw);
            return fail(L, KOKORO_E_NOMEM, "out of memory for %s", t->name);
        }
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < cols; c++) w->f[r * cols + c] = raw[src_index(&lo, rows, cols, r, c)];
        disown(L, raw);
        return L->rc;
    }
    qparams qp;
    if (qp_open(L, t, scale_in, zp_in, axis_last, &qp)) {
        qp_close(&qp);
        return L->rc;
    }
    int shift = t->dtype == ONNX_UINT8 ? 128 : 0;
    w->q = own(L, malloc(n ? n : 1), n ? n : 1);
    w->scale = track(L, (size_t)rows);
    w->zero = track(L, (size_t)rows);
    if (!w->q || !w->scale || !w->zero) {
        qp_close(&qp);
        return fail(L, KOKORO_E_NOMEM, "out of memory for %s", t->name);
    }
    for (int64_t r = 0; r < rows && !L->rc; r++)
        for (int64_t c = 0; c < cols; c++) {
            int64_t i = src_index(&lo, rows, cols, r, c), ch = qp_channel(&qp, i);
            if (c == 0) {
                w->scale[r] = qp.s[ch];
                w->zero[r] = qp.z[ch] - (float)shift;
            } else if (qp.s[ch] != w->scale[r] || qp.z[ch] - (float)shift != w->zero[r]) {
                fail(L, KOKORO_E_FORMAT, "quantisation of %s is not one per output channel",
                     t->name);
                break;
            }
            w->q[r * cols + c] = (int8_t)(qp_value(&qp, i) - shift);
        }
    qp_close(&qp);
    return L->rc;
}

/* Packs a quantised weight for the 8-bit products (ops.h kk_qw) and frees its row-major
 * integers, so the model keeps one copy (layers that also need floats make them from the
 * packed form, kk_dequant_packed). */
static void pack_wt(loader *L, kk_wt *w)
{
    if (L->rc || !w->q) return;
    int R = kk_qw_rows(w->rows);
    kk_qw *p = &w->pk;
    p->q = own(L, malloc((size_t)R * w->cols), (size_t)R * w->cols);
    p->zero = track(L, (size_t)R);
    p->scale = track(L, (size_t)R);
    if (!p->q || !p->zero || !p->scale) {
        fail(L, KOKORO_E_NOMEM, "out of memory for %s", "a packed weight");
        return;
    }
    kk_qw_pack(w->q, w->rows, w->cols, p->q);
    memcpy(p->zero, w->zero, (size_t)w->rows * sizeof *p->zero);
    memcpy(p->scale, w->scale, (size_t)w->rows * sizeof *p->scale);
    p->rows = w->rows;
    p->cols = w->cols;
    disown(L, w->q);
    disown(L, w->zero);
    disown(L, w->scale);
    w->q = NULL;
    w->zero = w->scale = NULL;
}

/* Weight (r, c) of a loaded linear layer as a float: packed (a quantised export) or a float. */
static float wt_value(const kk_wt *w, int r, int c)
{
    if (w->pk.q)
        return ((float)w->pk.q[(size_t)(r / KK_QG_ROWS) * w->cols * KK_QG_ROWS +
                               (size_t)c * KK_QG_ROWS + r % KK_QG_ROWS] -
                w->pk.zero[r]) *
               w->pk.scale[r];
    return w->f[(size_t)r * w->cols + c];
}

static int dims_are(const onnx_tensor *t, int nd, int64_t a, int64_t b, int64_t c)
{
    if (t->ndims != nd) return 0;
    int64_t want[3] = {a, b, c};
    for (int i = 0; i < nd; i++)
        if (t->dims[i] != want[i]) return 0;
    return 1;
}

static float *named(loader *L, const char *name, int64_t count)
{
    const onnx_tensor *t = onnx_tensor_find(&L->m->onnx, name);
    if (!t) {
        fail(L, KOKORO_E_FORMAT, "tensor %s is missing", name);
        return NULL;
    }
    if (t->count != count) {
        fail(L, KOKORO_E_FORMAT, "tensor %s has an unexpected size", name);
        return NULL;
    }
    return dequant(L, t, NULL, NULL, 0);
}

/* Bias of a layer: the initializer with the torch name, or the node's third input. */
static float *bias_of(loader *L, const onnx_node *n, const char *bias_name, int count)
{
    if (bias_name && onnx_tensor_find(&L->m->onnx, bias_name)) return named(L, bias_name, count);
    const onnx_tensor *b = input_tensor(L, n, 2);
    if (b && b->count == count && (b->dtype == ONNX_FLOAT || b->dtype == ONNX_FLOAT16))
        return dequant(L, b, NULL, NULL, 0);
    fail(L, KOKORO_E_FORMAT, "bias of %s not found", n->name);
    return NULL;
}

static const onnx_tensor *weight_of(loader *L, const onnx_node *n, int wi)
{
    const onnx_tensor *w = input_tensor(L, n, wi);
    if (!w) fail(L, KOKORO_E_FORMAT, "weight of %s not found", n->name);
    return w;
}

static void load_linear(loader *L, kk_linear *lin, const char *prefix, const char *bias, int in,
                        int out)
{
    if (L->rc) return;
    const onnx_node *n = find_node(L, prefix);
    if (!n) return;
    const onnx_tensor *w = weight_of(L, n, 1);
    if (!w) return;
    int gemm = !strcmp(n->op, "Gemm");
    int in_out = dims_are(w, 2, in, out, 0) && !(gemm && in == out);
    if (!in_out && !dims_are(w, 2, out, in, 0)) {
        fail(L, KOKORO_E_FORMAT, "weight of %s has an unexpected shape", n->name);
        return;
    }
    const onnx_tensor *zp = !strcmp(n->op, "MatMulInteger") ? input_tensor(L, n, 3) : NULL;
    layout lo = {in_out ? LAY_T : LAY_SAME, 0, 0, 0};
    if (load_wt(L, &lin->w, w, NULL, zp, in_out, out, in, lo)) return;
    pack_wt(L, &lin->w);
    lin->in = in;
    lin->out = out;
    lin->b = bias ? bias_of(L, n, bias, out) : NULL;
}

/* A convolution, its weights [out][k * in]: packed for the 8-bit products (a quantised
 * export), or floats (a float export). */
static void load_conv(loader *L, kk_conv *cv, const char *prefix, const char *bias, int in,
                      int out, int k)
{
    if (L->rc) return;
    const onnx_node *n = find_node(L, prefix);
    if (!n) return;
    const onnx_tensor *w = weight_of(L, n, 1);
    if (!w) return;
    if (!dims_are(w, 3, out, in, k)) {
        fail(L, KOKORO_E_FORMAT, "weight of %s has an unexpected shape", n->name);
        return;
    }
    const onnx_tensor *zp = !strcmp(n->op, "ConvInteger") ? input_tensor(L, n, 3) : NULL;
    layout lo = {LAY_CONV, in, k, 0};
    if (load_wt(L, &cv->w, w, NULL, zp, 0, out, k * in, lo)) return;
    cv->in = in;
    cv->out = out;
    cv->k = k;
    cv->b = bias ? bias_of(L, n, bias, out) : NULL;
    pack_wt(L, &cv->w);
}

static void load_convt(loader *L, kk_convt *cv, const char *prefix, const char *bias, int in,
                       int out_per_group, int k)
{
    if (L->rc) return;
    const onnx_node *n = find_node(L, prefix);
    if (!n) return;
    const onnx_tensor *w = weight_of(L, n, 1);
    if (!w) return;
    if (!dims_are(w, 3, in, out_per_group, k)) {
        fail(L, KOKORO_E_FORMAT, "weight of %s has an unexpected shape", n->name);
        return;
    }
    cv->w = dequant(L, w, NULL, NULL, 0);
    cv->in = in;
    cv->out = out_per_group;
    cv->k = k;
    int nb = out_per_group == 1 ? in : out_per_group; /* depthwise: one bias per channel */
    cv->b = bias_of(L, n, bias, nb);
}

static void load_lstm(loader *L, kk_lstm *ls, const char *prefix, int in, int H)
{
    if (L->rc) return;
    const onnx_node *n = find_node(L, prefix);
    if (!n) return;
    int quant = !strcmp(n->op, "DynamicQuantizeLSTM");
    const onnx_tensor *W = weight_of(L, n, 1), *R = weight_of(L, n, 2), *B = input_tensor(L, n, 3);
    if (!W || !R) return;
    int ok = quant ? dims_are(W, 3, 2, in, 4 * H) && dims_are(R, 3, 2, H, 4 * H)
                   : dims_are(W, 3, 2, 4 * H, in) && dims_are(R, 3, 2, 4 * H, H);
    if (!ok || !B || !dims_are(B, 2, 2, 8 * H, 0)) {
        fail(L, KOKORO_E_FORMAT, "LSTM %s has unexpected shapes", n->name);
        return;
    }
    float *b = dequant(L, B, NULL, NULL, 0);
    if (!b) return;
    ls->in = in;
    ls->hid = H;
    layout_kind kind = quant ? LAY_LSTM_Q : LAY_LSTM_F;
    for (int d = 0; d < 2; d++) {
        layout lx = {kind, in, H, d}, lh = {kind, H, H, d};
        if (load_wt(L, &ls->wx[d], W, quant ? input_tensor(L, n, 8) : NULL,
                    quant ? input_tensor(L, n, 9) : NULL, 0, 4 * H, in, lx) ||
            load_wt(L, &ls->wh[d], R, quant ? input_tensor(L, n, 10) : NULL,
                    quant ? input_tensor(L, n, 11) : NULL, 0, 4 * H, H, lh))
            return;
        pack_wt(L, &ls->wx[d]); /* both stay 8-bit (kk_qbilstm) */
        pack_wt(L, &ls->wh[d]);
        ls->b[d] = track(L, (size_t)4 * H);
        if (!ls->b[d]) {
            fail(L, KOKORO_E_NOMEM, "out of memory for %s", n->name);
            return;
        }
        for (int og = 0; og < 4; og++) {
            int g = gate_map[og];
            for (int u = 0; u < H; u++) {
                int src = og * H + u, dst = g * H + u;
                ls->b[d][dst] = b[(size_t)d * 8 * H + src] + b[(size_t)d * 8 * H + 4 * H + src];
            }
        }
    }
    disown(L, b);
}

static void load_embedding(loader *L, float **out, const char *prefix, int rows, int cols)
{
    if (L->rc) return;
    const onnx_node *n = find_node(L, prefix);
    if (!n) return;
    const onnx_tensor *w = weight_of(L, n, 0);
    if (!w) return;
    if (!dims_are(w, 2, rows, cols, 0)) {
        fail(L, KOKORO_E_FORMAT, "embedding %s has an unexpected shape", n->name);
        return;
    }
    *out = dequant(L, w, NULL, NULL, 0);
}

static void load_adain(loader *L, kk_adain_w *a, const char *prefix, const char *bias, int C)
{
    a->ch = C;
    load_linear(L, &a->fc, prefix, bias, 128, 2 * C);
}

/* AdainResBlk1d at onnx path P (e.g. "/encoder/F0.1/") and torch name T
 * ("encoder.predictor.F0.1."). */
static void load_adablk(loader *L, kk_adablk *b, const char *P, const char *T, int in, int out,
                        int up)
{
    char p[256], t[256];
    b->in = in;
    b->out = out;
    b->upsample = up;
#define PT(a, c) (snprintf(p, sizeof p, "%s%s", P, a), snprintf(t, sizeof t, "%s%s", T, c))
    PT("norm1/fc/", "norm1.fc.bias");
    load_adain(L, &b->n1, p, t, in);
    PT("norm2/fc/", "norm2.fc.bias");
    load_adain(L, &b->n2, p, t, out);
    PT("conv1/", "conv1.bias");
    load_conv(L, &b->c1, p, t, in, out, 3);
    PT("conv2/", "conv2.bias");
    load_conv(L, &b->c2, p, t, out, out, 3);
    if (in != out) {
        PT("conv1x1/", "");
        load_conv(L, &b->sc, p, NULL, in, out, 1);
    }
    if (up) {
        kk_convt pool;
        PT("pool/", "pool.bias");
        load_convt(L, &pool, p, t, in, 1, 3);
        b->pool_w = pool.w;
        b->pool_b = pool.b;
    }
#undef PT
}

/* Marks a loaded resblock convolution for the fast paths (engine.c conv): Winograd F(4,3) or
 * the FFT, whose floats and transforms are made from the weights (kk_dequant_packed) when the
 * layer runs. A quantised model's 3-tap layers, and its short rows, run as 8-bit products
 * instead; a float model's take Winograd. */
static void prep_wino(loader *L, kk_conv *c)
{
    if (!L->rc && c->k >= 3) c->wino = 1;
}

static void load_resblk(loader *L, kk_resblk *r, const char *P, const char *T, int ch, int k)
{
    char p[256], t[256];
    r->ch = ch;
    r->k = k;
    for (int j = 0; j < 3; j++) {
        snprintf(p, sizeof p, "%sadain1.%d/fc/", P, j);
        snprintf(t, sizeof t, "%sadain1.%d.fc.bias", T, j);
        load_adain(L, &r->a1[j], p, t, ch);
        snprintf(p, sizeof p, "%sadain2.%d/fc/", P, j);
        snprintf(t, sizeof t, "%sadain2.%d.fc.bias", T, j);
        load_adain(L, &r->a2[j], p, t, ch);
        snprintf(p, sizeof p, "%sconvs1.%d/", P, j);
        snprintf(t, sizeof t, "%sconvs1.%d.bias", T, j);
        load_conv(L, &r->c1[j], p, t, ch, ch, k);
        snprintf(p, sizeof p, "%sconvs2.%d/", P, j);
        snprintf(t, sizeof t, "%sconvs2.%d.bias", T, j);
        load_conv(L, &r->c2[j], p, t, ch, ch, k);
        prep_wino(L, &r->c1[j]);
        prep_wino(L, &r->c2[j]);
        snprintf(t, sizeof t, "%salpha1.%d", T, j);
        if (!L->rc) r->alpha1[j] = named(L, t, ch);
        snprintf(t, sizeof t, "%salpha2.%d", T, j);
        if (!L->rc) r->alpha2[j] = named(L, t, ch);
    }
}

int kk_weights_load(kokoro_model *m, char *err, size_t errlen)
{
    loader L = {m, err, errlen, KOKORO_OK};
    char p[256], t[256];

    /* ALBERT */
    const char *AL = "/encoder/bert/encoder/albert_layer_groups.0/albert_layers.0/";
    const char *AT = "encoder.bert.encoder.albert_layer_groups.0.albert_layers.0.";
    load_embedding(&L, &m->word_emb, "/encoder/bert/embeddings/word_embeddings/", 178, 128);
    load_embedding(&L, &m->pos_emb, "/encoder/bert/embeddings/position_embeddings/", 512, 128);
    load_embedding(&L, &m->type_emb, "/encoder/bert/embeddings/token_type_embeddings/", 2, 128);
    if (!L.rc) m->emb_ln_g = named(&L, "encoder.bert.embeddings.LayerNorm.weight", 128);
    if (!L.rc) m->emb_ln_b = named(&L, "encoder.bert.embeddings.LayerNorm.bias", 128);
    load_linear(&L, &m->map_in, "/encoder/bert/encoder/embedding_hidden_mapping_in/",
                "encoder.bert.encoder.embedding_hidden_mapping_in.bias", 128, 768);
    static const char *const attn[] = {"query", "key", "value", "dense"};
    kk_linear *attn_l[] = {&m->q, &m->k, &m->v, &m->dense};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%sattention/%s/", AL, attn[i]);
        snprintf(t, sizeof t, "%sattention.%s.bias", AT, attn[i]);
        load_linear(&L, attn_l[i], p, t, 768, 768);
    }
    snprintf(p, sizeof p, "%sffn/", AL);
    snprintf(t, sizeof t, "%sffn.bias", AT);
    load_linear(&L, &m->ffn, p, t, 768, 2048);
    snprintf(p, sizeof p, "%sffn_output/", AL);
    snprintf(t, sizeof t, "%sffn_output.bias", AT);
    load_linear(&L, &m->ffn_out, p, t, 2048, 768);
    snprintf(t, sizeof t, "%sattention.LayerNorm.weight", AT);
    if (!L.rc) m->attn_ln_g = named(&L, t, 768);
    snprintf(t, sizeof t, "%sattention.LayerNorm.bias", AT);
    if (!L.rc) m->attn_ln_b = named(&L, t, 768);
    snprintf(t, sizeof t, "%sfull_layer_layer_norm.weight", AT);
    if (!L.rc) m->full_ln_g = named(&L, t, 768);
    snprintf(t, sizeof t, "%sfull_layer_layer_norm.bias", AT);
    if (!L.rc) m->full_ln_b = named(&L, t, 768);
    load_linear(&L, &m->bert_enc, "/encoder/bert_encoder/", "encoder.bert_encoder.bias", 768, 512);

    /* prosody predictor */
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "/encoder/predictor/text_encoder/lstms.%d/", 2 * i);
        load_lstm(&L, &m->dur_lstm[i], p, 640, 256);
        snprintf(p, sizeof p, "/encoder/predictor/text_encoder/lstms.%d/fc/", 2 * i + 1);
        snprintf(t, sizeof t, "encoder.predictor.text_encoder.lstms.%d.fc.bias", 2 * i + 1);
        load_linear(&L, &m->dur_aln[i], p, t, 128, 1024);
    }
    load_lstm(&L, &m->pred_lstm, "/encoder/predictor/lstm/", 640, 256);
    load_linear(&L, &m->dur_proj, "/encoder/predictor/duration_proj/",
                "encoder.predictor.duration_proj.linear_layer.bias", 512, 50);
    load_lstm(&L, &m->shared, "/encoder/shared/", 640, 256);
    static const int fin[3] = {512, 512, 256}, fout[3] = {512, 256, 256};
    for (int i = 0; i < 3; i++) {
        char P2[64], T2[64];
        snprintf(P2, sizeof P2, "/encoder/F0.%d/", i);
        snprintf(T2, sizeof T2, "encoder.predictor.F0.%d.", i);
        load_adablk(&L, &m->f0[i], P2, T2, fin[i], fout[i], i == 1);
        snprintf(P2, sizeof P2, "/encoder/N.%d/", i);
        snprintf(T2, sizeof T2, "encoder.predictor.N.%d.", i);
        load_adablk(&L, &m->nn[i], P2, T2, fin[i], fout[i], i == 1);
    }
    load_conv(&L, &m->f0_proj, "/encoder/F0_proj/", "encoder.predictor.F0_proj.bias", 256, 1, 1);
    load_conv(&L, &m->n_proj, "/encoder/N_proj/", "encoder.predictor.N_proj.bias", 256, 1, 1);

    /* text encoder */
    load_embedding(&L, &m->tok_emb, "/encoder/text_encoder/embedding/", 178, 512);
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "/encoder/text_encoder/cnn.%d/cnn.%d.0/", i, i);
        snprintf(t, sizeof t, "encoder.text_encoder.cnn.%d.0.bias", i);
        load_conv(&L, &m->te_cnn[i], p, t, 512, 512, 5);
        snprintf(t, sizeof t, "encoder.text_encoder.cnn.%d.1.gamma", i);
        if (!L.rc) m->te_ln_g[i] = named(&L, t, 512);
        snprintf(t, sizeof t, "encoder.text_encoder.cnn.%d.1.beta", i);
        if (!L.rc) m->te_ln_b[i] = named(&L, t, 512);
    }
    load_lstm(&L, &m->te_lstm, "/encoder/text_encoder/lstm/", 512, 256);

    /* decoder */
    load_conv(&L, &m->f0_conv, "/decoder/decoder/F0_conv/", "decoder.decoder.F0_conv.bias", 1, 1, 3);
    load_conv(&L, &m->n_conv, "/decoder/decoder/N_conv/", "decoder.decoder.N_conv.bias", 1, 1, 3);
    load_adablk(&L, &m->encode, "/decoder/decoder/encode/", "decoder.decoder.encode.", 514, 1024, 0);
    for (int i = 0; i < 4; i++) {
        char P2[64], T2[64];
        snprintf(P2, sizeof P2, "/decoder/decoder/decode.%d/", i);
        snprintf(T2, sizeof T2, "decoder.decoder.decode.%d.", i);
        load_adablk(&L, &m->decode[i], P2, T2, 1090, i == 3 ? 512 : 1024, i == 3);
    }
    load_conv(&L, &m->asr_res, "/decoder/decoder/asr_res/", "decoder.decoder.asr_res.0.bias", 512,
              64, 1);

    /* generator */
    const char *G = "/decoder/decoder/generator/", *GT = "decoder.decoder.generator.";
    kk_linear src = {0};
    snprintf(p, sizeof p, "%sm_source/l_linear/", G);
    snprintf(t, sizeof t, "%sm_source.l_linear.bias", GT);
    load_linear(&L, &src, p, t, 9, 1);
    for (int i = 0; !L.rc && i < 9; i++) /* nine weights: kept as floats in the model */
        m->src_w[i] = wt_value(&src.w, 0, i);
    if (!L.rc) m->src_b = src.b[0];
    static const int nc_out[2] = {256, 128}, nc_k[2] = {12, 1}, nr_k[2] = {7, 11};
    static const int up_in[2] = {512, 256}, up_out[2] = {256, 128}, up_k[2] = {20, 12};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%snoise_convs.%d/", G, i);
        snprintf(t, sizeof t, "%snoise_convs.%d.bias", GT, i);
        load_conv(&L, &m->noise_conv[i], p, t, 22, nc_out[i], nc_k[i]);
        char P2[128], T2[128];
        snprintf(P2, sizeof P2, "%snoise_res.%d/", G, i);
        snprintf(T2, sizeof T2, "%snoise_res.%d.", GT, i);
        load_resblk(&L, &m->noise_res[i], P2, T2, nc_out[i], nr_k[i]);
        snprintf(p, sizeof p, "%sups.%d/", G, i);
        snprintf(t, sizeof t, "%sups.%d.bias", GT, i);
        load_convt(&L, &m->ups[i], p, t, up_in[i], up_out[i], up_k[i]);
    }
    static const int rk[3] = {3, 7, 11};
    for (int i = 0; i < 6; i++) {
        char P2[128], T2[128];
        snprintf(P2, sizeof P2, "%sresblocks.%d/", G, i);
        snprintf(T2, sizeof T2, "%sresblocks.%d.", GT, i);
        load_resblk(&L, &m->res[i], P2, T2, i < 3 ? 256 : 128, rk[i % 3]);
    }
    snprintf(p, sizeof p, "%sconv_post/", G);
    snprintf(t, sizeof t, "%sconv_post.bias", GT);
    load_conv(&L, &m->conv_post, p, t, 128, 22, 7);
    return L.rc;
}
