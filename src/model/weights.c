/* weights.c - finds every weight of Kokoro-82M in an ONNX graph and turns it into float arrays
 * in the layouts of ops.c. Weights are found by the node that consumes them (the exporter
 * names nodes after the torch modules, e.g. "/decoder/decoder/generator/ups.0/ConvTranspose"),
 * so fp32 and dynamically quantised (int8/uint8) exports load the same way. */
#include "model/model.h"
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
static float *own(loader *L, float *p, size_t n)
{
    return kk_allocs_add(&L->m->allocs, p, n * sizeof(float));
}

static float *track(loader *L, size_t n) { return own(L, calloc(n ? n : 1, sizeof(float)), n); }

/* Frees a buffer own() registered, once its contents have been copied into another layout:
 * keeping the dequantised tensors next to their rearranged copies doubled the model's memory. */
static void disown(loader *L, float *p) { kk_allocs_release(&L->m->allocs, p); }

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

/* Dequantises tensor t into a new float array. axis_last: per-channel parameters run along
 * the last axis (MatMul) instead of the first (Conv). zp_in is the node input holding the
 * zero point when it is not found by name. */
static float *dequant(loader *L, const onnx_tensor *t, const onnx_tensor *scale_in,
                      const onnx_tensor *zp_in, int axis_last)
{
    const onnx_file *f = &L->m->onnx;
    if (t->dtype != ONNX_FLOAT && t->dtype != ONNX_FLOAT16 && t->dtype != ONNX_INT8 &&
        t->dtype != ONNX_UINT8) {
        fail(L, KOKORO_E_FORMAT, "weight %s has an unsupported data type", t->name);
        return NULL;
    }
    if (!t->raw && !t->packed && t->count) {
        fail(L, KOKORO_E_FORMAT, "weight %s has no data", t->name);
        return NULL;
    }
    float *out = track(L, (size_t)t->count);
    if (!out) {
        fail(L, KOKORO_E_NOMEM, "out of memory for %s", t->name);
        return NULL;
    }
    if (t->dtype == ONNX_FLOAT && t->raw) {
        memcpy(out, t->raw, (size_t)t->count * sizeof *out); /* little-endian host */
        return out;
    }
    if (t->dtype == ONNX_FLOAT || t->dtype == ONNX_FLOAT16) {
        for (int64_t i = 0; i < t->count; i++) out[i] = onnx_tensor_get(t, i);
        return out;
    }
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
    if (!sc || sc->count < 1) {
        fail(L, KOKORO_E_FORMAT, "quantised weight %s has no scale", t->name);
        return NULL;
    }
    int64_t rows = t->ndims ? t->dims[0] : 1, cols = rows ? t->count / rows : 0;
    int64_t last = t->ndims ? t->dims[t->ndims - 1] : 1;
    int64_t nch = sc->count;
    if (nch > 1 && nch != (axis_last ? last : rows)) {
        fail(L, KOKORO_E_FORMAT, "scale of %s does not match its shape", t->name);
        return NULL;
    }
    if (zp && zp->count != 1 && zp->count != nch) {
        fail(L, KOKORO_E_FORMAT, "zero point of %s does not match its scale", t->name);
        return NULL;
    }
    /* per-channel parameters decoded once (they may be varint-packed) */
    float *s = malloc((size_t)nch * 2 * sizeof *s);
    if (!s) {
        fail(L, KOKORO_E_NOMEM, "out of memory for %s", t->name);
        return NULL;
    }
    float *z = s + nch;
    for (int64_t c = 0; c < nch; c++) {
        s[c] = onnx_tensor_get(sc, c);
        z[c] = zp ? onnx_tensor_get(zp, zp->count > 1 ? c : 0) : 0.0f;
    }
    const uint8_t *raw = t->raw;
    for (int64_t i = 0; i < t->count; i++) {
        int64_t ch = nch == 1 ? 0 : axis_last ? i % last : i / (cols ? cols : 1);
        float q = raw ? (t->dtype == ONNX_INT8 ? (float)(int8_t)raw[i] : (float)raw[i])
                      : onnx_tensor_get(t, i);
        out[i] = (q - z[ch]) * s[ch];
    }
    free(s);
    return out;
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
    float *raw = dequant(L, w, NULL, zp, in_out);
    if (!raw) return;
    lin->in = in;
    lin->out = out;
    if (in_out) { /* [in][out] -> [out][in] */
        lin->w = track(L, (size_t)in * out);
        if (!lin->w) {
            fail(L, KOKORO_E_NOMEM, "out of memory for %s", n->name);
            return;
        }
        for (int i = 0; i < in; i++)
            for (int o = 0; o < out; o++) lin->w[(size_t)o * in + i] = raw[(size_t)i * out + o];
        disown(L, raw);
    } else {
        lin->w = raw;
    }
    lin->b = bias ? bias_of(L, n, bias, out) : NULL;
}

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
    float *raw = dequant(L, w, NULL, zp, 0);
    if (!raw) return;
    cv->w = track(L, (size_t)out * in * k);
    if (!cv->w) {
        disown(L, raw);
        fail(L, KOKORO_E_NOMEM, "out of memory for %s", n->name);
        return;
    }
    for (int o = 0; o < out; o++)
        for (int c = 0; c < in; c++)
            for (int j = 0; j < k; j++)
                cv->w[((size_t)o * k + j) * in + c] = raw[((size_t)o * in + c) * k + j];
    disown(L, raw);
    cv->in = in;
    cv->out = out;
    cv->k = k;
    cv->b = bias ? bias_of(L, n, bias, out) : NULL;
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

/* ONNX LSTM gate order i, o, f, c -> ours i, f, g(c), o. */
static const int gate_map[4] = {0, 3, 1, 2}; /* onnx gate index -> our gate index */

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
    float *w = quant ? dequant(L, W, input_tensor(L, n, 8), input_tensor(L, n, 9), 0)
                     : dequant(L, W, NULL, NULL, 0);
    float *r = quant ? dequant(L, R, input_tensor(L, n, 10), input_tensor(L, n, 11), 0)
                     : dequant(L, R, NULL, NULL, 0);
    float *b = dequant(L, B, NULL, NULL, 0);
    if (!w || !r || !b) return;
    ls->in = in;
    ls->hid = H;
    for (int d = 0; d < 2; d++) {
        ls->wx[d] = track(L, (size_t)4 * H * in);
        ls->wh[d] = track(L, (size_t)4 * H * H);
        ls->b[d] = track(L, (size_t)4 * H);
        if (!ls->wx[d] || !ls->wh[d] || !ls->b[d]) {
            fail(L, KOKORO_E_NOMEM, "out of memory for %s", n->name);
            return;
        }
        for (int og = 0; og < 4; og++) {
            int g = gate_map[og];
            for (int u = 0; u < H; u++) {
                int src = og * H + u, dst = g * H + u;
                for (int c = 0; c < in; c++)
                    ls->wx[d][(size_t)dst * in + c] =
                        quant ? w[((size_t)d * in + c) * 4 * H + src]
                              : w[((size_t)d * 4 * H + src) * in + c];
                for (int c = 0; c < H; c++)
                    ls->wh[d][(size_t)dst * H + c] =
                        quant ? r[((size_t)d * H + c) * 4 * H + src]
                              : r[((size_t)d * 4 * H + src) * H + c];
                ls->b[d][dst] = b[(size_t)d * 8 * H + src] + b[(size_t)d * 8 * H + 4 * H + src];
            }
        }
    }
    disown(L, w);
    disown(L, r);
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

/* Adds the Winograd form of a loaded convolution (the generator's hot path). */
static void prep_wino(loader *L, kk_conv *c)
{
    float *u = NULL;
    if (L->rc || c->k < 3) return;
    if (kk_wino_prepare(c->w, c->in, c->out, c->k, &u) ||
        !own(L, u, (size_t)(c->k / 3) * 6 * (size_t)c->out * (size_t)c->in)) {
        fail(L, KOKORO_E_NOMEM, "out of memory for %s", "Winograd weights");
        return;
    }
    c->wino = u;
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
    if (!L.rc) {
        memcpy(m->src_w, src.w, sizeof m->src_w);
        m->src_b = src.b[0];
    }
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
