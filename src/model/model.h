/* model.h - the weights of Kokoro-82M as the engine uses them, and the per-worker state.
 * Private to src/model/. Layouts are chosen for the kernels in ops.c. */
#ifndef KK_MODEL_H
#define KK_MODEL_H

#include "kokoro.h"
#include "kokoro_debug.h" /* the hooks on kokoro_state, defined in engine.c */
#include "core/alloc.h"
#include "model/onnx.h"
#include "model/ops.h"

#include <pthread.h>

/* A weight matrix [rows][cols] in the layout its kernel reads, kept as the file keeps it: the
 * 8-bit integers of a quantised export (with one scale and zero point per row: w = (q -
 * zero) * scale, exactly the floats the export stands for), either packed for the 8-bit
 * products (pk) or made floats in a worker's scratch when its layer runs (q; engine.c,
 * wt_floats); or the floats of a float export (f). */
typedef struct {
    int8_t *q;           /* [rows][cols], or NULL */
    float *scale, *zero; /* [rows], with q */
    float *f;            /* [rows][cols] when q and pk.q are NULL */
    kk_qw pk;            /* the same integers packed for kk_qconv1d (q is then NULL): every
                          * linear layer and convolution of a quantised export but the
                          * generator's Winograd ones, whose transform is made from floats */
    int rows, cols;
} kk_wt;

typedef struct {
    kk_wt w;  /* [out][in] */
    float *b; /* [out] or NULL */
    int in, out;
} kk_linear;

typedef struct {
    kk_wt w;        /* [out][k * in]: taps side by side for one im2col GEMM; rows 0: absent */
    float *b;       /* [out] or NULL */
    int wino;       /* 1: Winograd F(4,3) (ops.h) when no FFT: the generator's hot path */
    int in, out, k; /* kernel size */
} kk_conv;

typedef struct {
    /* per direction d: wx [4H][in], wh [4H][H], b [4H]; gate order i, f, g, o */
    kk_wt wx[2], wh[2];
    float *b[2];
    int in, hid;
} kk_lstm;

typedef struct {
    kk_linear fc; /* style 128 -> 2C (gamma, beta) */
    int ch;
} kk_adain_w;

/* AdainResBlk1d of the predictor and decoder. */
typedef struct {
    kk_adain_w n1, n2;
    kk_conv c1, c2, sc; /* sc.w NULL when the shortcut is the identity */
    int upsample;
    float *pool_w, *pool_b; /* depthwise transposed conv [in][3] */
    int in, out;
} kk_adablk;

/* AdaINResBlock1 of the generator (dilations 1, 3, 5). */
typedef struct {
    kk_adain_w a1[3], a2[3];
    kk_conv c1[3], c2[3];
    float *alpha1[3], *alpha2[3];
    int ch, k;
} kk_resblk;

typedef struct {
    float *w; /* [in][out][k] as in torch/ONNX */
    float *b;
    int in, out, k;
} kk_convt;

struct kokoro_model {
    onnx_file onnx;
    /* ALBERT */
    float *word_emb, *pos_emb, *type_emb; /* [178][128], [512][128], [128] */
    float *emb_ln_g, *emb_ln_b;
    kk_linear map_in, q, k, v, dense, ffn, ffn_out, bert_enc;
    float *attn_ln_g, *attn_ln_b, *full_ln_g, *full_ln_b;
    /* prosody predictor */
    kk_lstm dur_lstm[3];
    kk_linear dur_aln[3];
    kk_lstm pred_lstm, shared;
    kk_linear dur_proj;
    kk_adablk f0[3], nn[3];
    kk_conv f0_proj, n_proj;
    /* text encoder */
    float *tok_emb; /* [178][512] */
    kk_conv te_cnn[3];
    float *te_ln_g[3], *te_ln_b[3];
    kk_lstm te_lstm;
    /* decoder */
    kk_conv f0_conv, n_conv; /* stride 2 */
    kk_adablk encode, decode[4];
    kk_conv asr_res;
    /* generator */
    float src_w[9], src_b;
    kk_conv noise_conv[2];
    kk_resblk noise_res[2];
    kk_convt ups[2];
    kk_resblk res[6];
    kk_conv conv_post;
    float window[20];
    kk_allocs allocs; /* every buffer above, freed with the model */
};

/* Loads every weight of the model from a parsed ONNX file into m. */
int kk_weights_load(kokoro_model *m, char *err, size_t errlen);

typedef struct {
    const char *name;
    float *data;
    int dims[3];
} kk_tensor_slot;

enum { KK_MAX_TENSORS = 24 };

/* Scratch for the floats of the weights a layer uses (engine.c, wt_floats). A slot keeps the
 * weight it holds until another one needs it, so ALBERT's one layer, run twelve times, is
 * made floats once. Six slots: the most one step uses together (ALBERT's six matrices). */
enum { KK_WT_SLOTS = 6 };
typedef struct {
    float *buf;
    size_t cap;       /* floats */
    const void *key;  /* the kk_wt (or, for a Winograd transform, the kk_conv) it holds */
    int kind;         /* 0: floats of key, 1: Winograd transform of key */
} kk_wt_slot;

struct kokoro_state {
    const kokoro_model *m;
    kk_pool *pool;
    int32_t *durations;
    int n_durations;
    kk_tensor_slot tensors[KK_MAX_TENSORS];
    int n_tensors;
    int keep_tensors; /* keep intermediates for kokoro_state_tensor (parity tests) */
    int direct_conv;  /* 1: no Winograd, no FFT (the reference path, for tests and comparisons) */
    int no_fft;       /* 1: Winograd where the FFT would be used (comparisons) */
    double stage_s[KOKORO_DEBUG_STAGES]; /* seconds per stage of the last run */
    size_t peak_bytes; /* working memory high-water mark of the last run */
    kk_wt_slot wt[KK_WT_SLOTS];
};


#endif
