/* test_engine.c - the engine's contract: loading (and refusing) model and voice files,
 * voice blends, synthesis outputs a user would check, cancellation, threads, and many
 * syntheses in one process (run under ASan/LSan by `make test-engine`). */
#include "kokoro.h"
#include "check.h"
#include "kokoro_debug.h" /* kokoro_debug_keep_tensors */

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *model_path = "models/kokoro.onnx";
static const char *voices_path = "models/voices";
static const char *tmp_dir = "build/test-out/engine";

/* "Hello world" as phoneme ids of the vocabulary (həlˈO wˈɜɹld). */
static const int32_t hello[] = {50, 83, 54, 156, 31, 16, 65, 156, 87, 123, 54, 46};
enum { N_HELLO = sizeof hello / sizeof hello[0] };

static kokoro_model *model;
static kokoro_voices *voices;

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n)) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static void *read_prefix(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    void *buf = malloc(n);
    if (!f || !buf || fread(buf, 1, n, f) != n) {
        fprintf(stderr, "cannot read %zu bytes of %s (run `make model`)\n", n, path);
        exit(1);
    }
    fclose(f);
    return buf;
}

static void test_model_errors(void)
{
    char err[256], path[512];
    kokoro_model *m = (kokoro_model *)1;
    CHECK(kokoro_model_load("no/such/model.onnx", &m, err, sizeof err) == KOKORO_E_IO, "%s", err);
    CHECK(m == NULL, "out pointer cleared on failure");
    CHECK(strstr(err, "make model") != NULL, "message tells what to do: %s", err);
    /* truncated copies of the real file, at several cut points */
    static const size_t cuts[] = {0, 1, 100, 4096, 1 << 20, 30u << 20};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        snprintf(path, sizeof path, "%s/truncated.onnx", tmp_dir);
        void *buf = cuts[i] ? read_prefix(model_path, cuts[i]) : NULL;
        write_bytes(path, buf, cuts[i]);
        free(buf);
        int rc = kokoro_model_load(path, &m, err, sizeof err);
        CHECK(rc == KOKORO_E_FORMAT || rc == KOKORO_E_IO, "cut at %zu: rc %d (%s)", cuts[i], rc, err);
        CHECK(m == NULL, "no model from a truncated file");
    }
    /* not a model at all */
    snprintf(path, sizeof path, "%s/text.onnx", tmp_dir);
    const char *text = "this is not a protobuf, it is a sentence\n";
    write_bytes(path, text, strlen(text));
    CHECK(kokoro_model_load(path, &m, err, sizeof err) == KOKORO_E_FORMAT, "text file: %s", err);
    CHECK(kokoro_model_load(tmp_dir, &m, err, sizeof err) == KOKORO_E_IO, "a folder: %s", err);
}

static void test_voices(void)
{
    char err[256], path[512];
    CHECK(kokoro_voices_count(voices) == 54, "54 voices, got %d", kokoro_voices_count(voices));
    for (int i = 1; i < kokoro_voices_count(voices); i++)
        CHECK(strcmp(kokoro_voices_name(voices, i - 1), kokoro_voices_name(voices, i)) < 0,
              "names sorted");
    const float *bella = kokoro_voices_get(voices, "af_bella"), *sky = kokoro_voices_get(voices, "af_sky");
    CHECK(bella && sky, "af_bella and af_sky present");
    CHECK(kokoro_voices_get(voices, "xx_nobody") == NULL, "unknown voice is NULL");
    float *pack = malloc(KOKORO_VOICE_FLOATS * sizeof *pack);
    CHECK(kokoro_voice_blend(voices, "af_bella(2)+af_sky(1)", pack, err, sizeof err) == KOKORO_OK, "%s", err);
    double maxd = 0;
    for (size_t i = 0; bella && sky && i < KOKORO_VOICE_FLOATS; i++)
        maxd = fmax(maxd, fabs(pack[i] - (2.0 * bella[i] + sky[i]) / 3.0));
    CHECK(maxd < 1e-6, "weighted blend is the normalised sum (max diff %g)", maxd);
    CHECK(kokoro_voice_blend(voices, "af_bella + af_sky", pack, err, sizeof err) == KOKORO_OK, "%s", err);
    CHECK(fabsf(pack[1000] - (bella[1000] + sky[1000]) / 2) < 1e-6, "equal blend");
    static const struct {
        const char *spec;
        int rc;
    } bad[] = {{"", KOKORO_E_ARG},           {"af_bella+", KOKORO_E_ARG},
               {"af_bella(0)", KOKORO_E_ARG}, {"af_bella(-1)+af_sky", KOKORO_E_ARG},
               {"af_bella(x)", KOKORO_E_ARG}, {"../../etc/passwd", KOKORO_E_ARG},
               {"af_bella/..", KOKORO_E_ARG}, {"zz_unknown", KOKORO_E_NOT_FOUND},
               {"af_bella+zz_unknown", KOKORO_E_NOT_FOUND}, {"af_bella(1e400)", KOKORO_E_ARG}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        int rc = kokoro_voice_blend(voices, bad[i].spec, pack, err, sizeof err);
        CHECK(rc == bad[i].rc && err[0], "spec '%s': rc %d, message '%s'", bad[i].spec, rc, err);
    }
    /* the npz archive made from the same voices (voices-v1.0.bin layout) loads the same values */
    kokoro_voices *npz = NULL;
    snprintf(path, sizeof path, "%s/voices.npz", tmp_dir);
    CHECK(kokoro_voices_load(path, &npz, err, sizeof err) == KOKORO_OK, "%s", err);
    if (npz) {
        CHECK(kokoro_voices_count(npz) == 3, "3 voices in the archive, got %d", kokoro_voices_count(npz));
        const float *a = kokoro_voices_get(npz, "af_bella");
        CHECK(a && !memcmp(a, bella, KOKORO_VOICE_FLOATS * sizeof *a), "npz voice equals .bin voice");
        kokoro_voices_free(npz);
    }
    /* a damaged voice folder is refused with the file named */
    snprintf(path, sizeof path, "%s/badvoices", tmp_dir);
    mkdir(path, 0755);
    char file[600];
    snprintf(file, sizeof file, "%s/af_short.bin", path);
    write_bytes(file, bella, 1000);
    kokoro_voices *bad_v = NULL;
    CHECK(kokoro_voices_load(path, &bad_v, err, sizeof err) == KOKORO_E_FORMAT && strstr(err, "af_short"),
          "short voice refused: %s", err);
    remove(file);
    free(pack);
}

static float *synth(kokoro_state *st, const int32_t *ids, int n, const char *voice,
                    kokoro_synth_params *p, size_t *ns, int *rc_out)
{
    char err[256];
    const float *pack = kokoro_voices_get(voices, voice);
    float *audio = NULL;
    int rc = kokoro_synthesize(st, ids, n, kokoro_voice_row(pack, n), p, &audio, ns, err, sizeof err);
    if (rc_out) *rc_out = rc;
    else CHECK(rc == KOKORO_OK, "synthesis failed: %s", err);
    return audio;
}

static int cancel_now(void *user)
{
    int *calls = user;
    return ++*calls >= 2;
}

typedef struct {
    float *audio;
    size_t n;
} thread_out;

static void *thread_synth(void *arg)
{
    thread_out *o = arg;
    kokoro_state *st = kokoro_state_new(model, 1);
    kokoro_synth_params p = kokoro_synth_defaults();
    p.zero_noise = 1;
    o->audio = synth(st, hello, N_HELLO, "am_adam", &p, &o->n, NULL);
    kokoro_state_free(st);
    return NULL;
}

/* The working-memory promise of kokoro.h: at most KOKORO_FRAME_BYTES per frame plus
 * KOKORO_SYNTH_FIXED_BYTES plus KOKORO_THREAD_BYTES per thread, and not a loose bound either
 * (within 15% on long input). */
static void check_memory_bound(kokoro_state *st, size_t frames, const char *what)
{
    size_t peak = kokoro_state_peak_bytes(st);
    double bound = (double)KOKORO_FRAME_BYTES * frames + KOKORO_SYNTH_FIXED_BYTES +
                   (double)KOKORO_THREAD_BYTES * kokoro_state_set_threads(st, 64);
    CHECK(peak > 0 && peak <= bound, "%s: %zu frames held %zu bytes, bound %.0f", what, frames, peak,
          bound);
    if (frames >= 400)
        CHECK(peak >= 0.85 * KOKORO_FRAME_BYTES * frames,
              "%s: %zu bytes for %zu frames: KOKORO_FRAME_BYTES is a tight figure", what, peak, frames);
    /* the floats of weights the state keeps: none, since every layer of an 8-bit model runs on
     * its integers (the last, the LSTMs, since 2026-12-01); only the debugging paths
     * (--no-fft, --direct-conv) fill the slots, within KOKORO_STATE_WEIGHT_BYTES */
    size_t wt = kokoro_debug_weight_bytes(st);
    CHECK(wt == 0, "%s: the state keeps %zu bytes of float weights", what, wt);
}

static void test_synthesis(void)
{
    char err[256];
    kokoro_state *st = kokoro_state_new(model, 1);
    kokoro_synth_params p = kokoro_synth_defaults();
    p.zero_noise = 1;
    size_t n1, n2;
    float *a1 = synth(st, hello, N_HELLO, "af_heart", &p, &n1, NULL);
    int nd;
    const int32_t *dur = kokoro_state_durations(st, &nd);
    long frames = 0;
    for (int i = 0; i < nd; i++) frames += dur[i];
    CHECK(nd == N_HELLO + 2, "one duration per token and boundary, got %d", nd);
    CHECK(a1 && n1 == (size_t)frames * KOKORO_SAMPLES_PER_FRAME, "%zu samples = 600 x %ld frames", n1, frames);
    check_memory_bound(st, (size_t)frames, "hello");
    CHECK(n1 > 0.5 * KOKORO_SAMPLE_RATE && n1 < 3.0 * KOKORO_SAMPLE_RATE,
          "'hello world' lasts 0.5..3 s, got %.2f s", n1 / 24000.0);
    double rms = 0, peak = 0;
    int finite = 1;
    for (size_t i = 0; a1 && i < n1; i++) {
        finite &= isfinite(a1[i]);
        rms += a1[i] * a1[i];
        peak = fmax(peak, fabs(a1[i]));
    }
    rms = sqrt(rms / (n1 ? n1 : 1));
    CHECK(finite, "all samples finite");
    CHECK(rms > 0.01 && peak <= 1.0, "audible and not clipping: rms %.4f peak %.3f", rms, peak);

    /* determinism: zero noise -> identical; same seed -> identical; other seed -> differs */
    float *a2 = synth(st, hello, N_HELLO, "af_heart", &p, &n2, NULL);
    CHECK(n1 == n2 && a2 && !memcmp(a1, a2, n1 * sizeof *a1), "zero-noise output is reproducible");
    free(a2);
    p.zero_noise = 0;
    p.noise_seed = 7;
    float *s1 = synth(st, hello, N_HELLO, "af_heart", &p, &n2, NULL);
    float *s2 = synth(st, hello, N_HELLO, "af_heart", &p, &n2, NULL);
    CHECK(s1 && s2 && !memcmp(s1, s2, n2 * sizeof *s1), "same seed, same audio");
    p.noise_seed = 8;
    float *s3 = synth(st, hello, N_HELLO, "af_heart", &p, &n2, NULL);
    CHECK(s1 && s3 && memcmp(s1, s3, n2 * sizeof *s1), "other seed, other audio");
    free(s1);
    free(s2);
    free(s3);
    p.zero_noise = 1;

    /* speed: twice as fast is about half as long */
    p.speed = 2.0f;
    float *fast = synth(st, hello, N_HELLO, "af_heart", &p, &n2, NULL);
    CHECK(n2 < 0.65 * n1 && n2 > 0.35 * n1, "speed 2: %zu samples vs %zu", n2, n1);
    free(fast);
    p.speed = 1.0f;

    /* Two threads inside one synthesis: the same network, sums in another order. Everything up
     * to the decoder agrees to float rounding; the harmonic source integrates F0 into a phase,
     * which turns 1e-7 of F0 into 1e-5..1e-3 of audio (more in -O1 builds without FMA), so the
     * audio is held to 1e-2 and the decoder output to 1e-5 (relative L2). */
    kokoro_state *st2 = kokoro_state_new(model, 2);
    kokoro_debug_keep_tensors(st, 1);
    kokoro_debug_keep_tensors(st2, 1);
    free(synth(st, hello, N_HELLO, "af_heart", &p, &n1, NULL));
    float *a3 = synth(st2, hello, N_HELLO, "af_heart", &p, &n2, NULL);
    const float *d1, *d2, *w1, *w2;
    int dims1[3], dims2[3], wd1[3], wd2[3];
    int have = !kokoro_state_tensor(st, "decoder", &d1, dims1) &&
               !kokoro_state_tensor(st2, "decoder", &d2, dims2) &&
               !kokoro_state_tensor(st, "audio", &w1, wd1) && !kokoro_state_tensor(st2, "audio", &w2, wd2);
    CHECK(have && dims1[0] * dims1[1] == dims2[0] * dims2[1] && n1 == n2, "same shapes with 2 threads");
    if (have && n1 == n2 && dims1[0] * dims1[1] == dims2[0] * dims2[1]) {
        double rd = check_rel_l2(d2, d1, (size_t)dims1[0] * dims1[1]), ra = check_rel_l2(w2, w1, n1);
        CHECK(rd < 1e-5, "decoder output, 2 vs 1 thread: relative difference %g", rd);
        CHECK(ra < 1e-2, "audio, 2 vs 1 thread: relative difference %g", ra);
    }
    kokoro_debug_keep_tensors(st, 0);
    free(a3);
    kokoro_state_free(st2);

    /* bad input: clear errors, no audio */
    int32_t bad_ids[] = {50, 200, 54};
    float *audio = (float *)1;
    size_t ns = 99;
    CHECK(kokoro_synthesize(st, bad_ids, 3, kokoro_voice_row(kokoro_voices_get(voices, "af_heart"), 3),
                            &p, &audio, &ns, err, sizeof err) == KOKORO_E_ARG &&
              audio == NULL && ns == 0,
          "id 200 refused: %s", err);
    int rc;
    synth(st, hello, 0, "af_heart", &p, &ns, &rc);
    CHECK(rc == KOKORO_E_ARG, "no ids refused");
    int32_t *many = calloc(KOKORO_MAX_PHONEMES + 1, sizeof *many);
    for (int i = 0; i <= KOKORO_MAX_PHONEMES; i++) many[i] = hello[i % N_HELLO];
    synth(st, many, KOKORO_MAX_PHONEMES + 1, "af_heart", &p, &ns, &rc);
    CHECK(rc == KOKORO_E_TOO_LONG, "511 ids refused as too long, rc %d", rc);
    p.speed = 0.1f;
    synth(st, hello, N_HELLO, "af_heart", &p, &ns, &rc);
    CHECK(rc == KOKORO_E_ARG, "speed 0.1 refused");
    p.speed = NAN;
    synth(st, hello, N_HELLO, "af_heart", &p, &ns, &rc);
    CHECK(rc == KOKORO_E_ARG, "speed NaN refused");
    p.speed = 1.0f;

    /* Bounded work: the longest input at speed 0.5 lasts more than KOKORO_MAX_FRAMES, so it is
     * refused after the durations, before the decoder allocates anything per frame. */
    p.speed = 0.5f;
    float *refused = synth(st, many, KOKORO_MAX_PHONEMES, "af_heart", &p, &ns, &rc);
    CHECK(rc == KOKORO_E_TOO_LONG && !refused, "510 ids at speed 0.5 refused past %d frames (rc %d)",
          KOKORO_MAX_FRAMES, rc);
    CHECK(kokoro_state_peak_bytes(st) < KOKORO_SYNTH_FIXED_BYTES,
          "the refusal cost %zu bytes, none of them per frame", kokoro_state_peak_bytes(st));
    p.speed = 1.0f;

    /* the longest input works when the caller lifts the frame cap, and the state is reusable
     * after it; its working memory stays within the documented bound */
    p.max_frames = -1;
    float *longest = synth(st, many, KOKORO_MAX_PHONEMES, "af_heart", &p, &ns, NULL);
    CHECK(longest && ns > 10 * KOKORO_SAMPLE_RATE, "510 ids give %.1f s", ns / 24000.0);
    check_memory_bound(st, ns / KOKORO_SAMPLES_PER_FRAME, "510 ids");
    free(longest);
    free(many);
    p.max_frames = 0;

    /* cancel: stops with KOKORO_E_CANCELLED, nothing returned, state still usable */
    int calls = 0;
    p.cancel = cancel_now;
    p.cancel_user = &calls;
    audio = synth(st, hello, N_HELLO, "af_heart", &p, &ns, &rc);
    CHECK(rc == KOKORO_E_CANCELLED && audio == NULL && calls >= 2, "cancelled: rc %d after %d checks", rc, calls);
    p.cancel = NULL;
    a2 = synth(st, hello, N_HELLO, "af_heart", &p, &n2, NULL);
    CHECK(n2 == n1 && a2 && !memcmp(a1, a2, n1 * sizeof *a1), "state reusable after cancel");
    free(a2);

    /* two states on one model in parallel threads: same audio as alone */
    float *alone = synth(st, hello, N_HELLO, "am_adam", &p, &n2, NULL);
    pthread_t th[2];
    thread_out out[2] = {{0}};
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, thread_synth, &out[i]);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        CHECK(out[i].n == n2 && out[i].audio && !memcmp(out[i].audio, alone, n2 * sizeof *alone),
              "concurrent state %d matches", i);
        free(out[i].audio);
    }
    free(alone);
    free(a1);
    kokoro_state_free(st);
}

typedef struct {
    float *audio;
    size_t n, cap;
    int calls, stop_at;
    size_t first_n; /* samples in the first call */
} ranges_out;

static int collect_range(const float *samples, size_t n, void *user)
{
    ranges_out *o = user;
    if (++o->calls == o->stop_at) return 1;
    if (o->calls == 1) o->first_n = n;
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2;
        o->audio = realloc(o->audio, o->cap * sizeof *o->audio);
        if (!o->audio) abort();
    }
    memcpy(o->audio + o->n, samples, n * sizeof *samples);
    o->n += n;
    return 0;
}

/* RMS envelope correlation over 50 ms windows: 1 when the two have the same loudness contour. */
static double envelope_corr(const float *a, const float *b, size_t n)
{
    enum { W = 1200 };
    size_t nw = n / W;
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    for (size_t w = 0; w < nw; w++) {
        double ea = 0, eb = 0;
        for (size_t i = w * W; i < (w + 1) * W; i++) ea += a[i] * a[i], eb += b[i] * b[i];
        ea = sqrt(ea / W), eb = sqrt(eb / W);
        sa += ea, sb += eb, saa += ea * ea, sbb += eb * eb, sab += ea * eb;
    }
    double ca = saa - sa * sa / nw, cb = sbb - sb * sb / nw, cab = sab - sa * sb / nw;
    return cab / sqrt(ca * cb);
}

/* Progressive output (kokoro_synth_params.on_range), as a stream's first piece uses it: the
 * first audio is a small part of the utterance, the parts add up to the whole pass's length,
 * sound like it, and one range covering everything is the whole pass exactly. */
static void test_ranges(void)
{
    char err[256];
    int32_t ids[8 * (N_HELLO + 1)];
    int n = 0;
    for (int r = 0; r < 8; r++) {
        memcpy(ids + n, hello, sizeof hello);
        n += N_HELLO;
        ids[n++] = r == 7 ? 4 : 3; /* "." at the end, "," between */
    }
    kokoro_state *st = kokoro_state_new(model, 2);
    kokoro_synth_params p = kokoro_synth_defaults();
    p.zero_noise = 1;
    size_t n_whole;
    float *whole = synth(st, ids, n, "af_heart", &p, &n_whole, NULL);
    size_t frames = n_whole / KOKORO_SAMPLES_PER_FRAME;

    ranges_out o = {0};
    p.on_range = collect_range;
    p.range_user = &o;
    p.first_frames = 24;
    float *audio = (float *)1;
    size_t ns = 0;
    int rc = kokoro_synthesize(st, ids, n, kokoro_voice_row(kokoro_voices_get(voices, "af_heart"), n),
                               &p, &audio, &ns, err, sizeof err);
    CHECK(rc == KOKORO_OK, "ranges: %s", err);
    CHECK(audio == NULL && ns == n_whole, "ranges: *audio NULL and the total given (%zu of %zu)",
          ns, n_whole);
    CHECK(o.n == n_whole, "ranges hand over %zu samples, the whole pass %zu", o.n, n_whole);
    CHECK(o.calls >= 3, "%zu frames in %d ranges", frames, o.calls);
    CHECK(o.first_n < n_whole / 4 && o.first_n >= (size_t)12 * KOKORO_SAMPLES_PER_FRAME,
          "first range %zu samples of %zu", o.first_n, n_whole);
    int finite = 1;
    for (size_t i = 0; i < o.n; i++) finite &= isfinite(o.audio[i]) && fabsf(o.audio[i]) <= 1.0f;
    CHECK(finite, "ranges: finite samples in [-1, 1]");
    double corr = envelope_corr(whole, o.audio, o.n < n_whole ? o.n : n_whole);
    CHECK(corr > 0.95, "ranges follow the whole pass's loudness contour: correlation %.3f", corr);
    check_memory_bound(st, frames, "ranges");
    printf("ranges: %d ranges over %zu frames, first %.2f s, envelope correlation %.3f\n", o.calls,
           frames, (double)o.first_n / KOKORO_SAMPLE_RATE, corr);

    /* one range over everything: the whole pass, bit for bit */
    free(o.audio);
    memset(&o, 0, sizeof o);
    p.first_frames = (int)frames + 100;
    rc = kokoro_synthesize(st, ids, n, kokoro_voice_row(kokoro_voices_get(voices, "af_heart"), n),
                           &p, &audio, &ns, err, sizeof err);
    CHECK(rc == KOKORO_OK && o.calls == 1 && o.n == n_whole &&
              memcmp(o.audio, whole, n_whole * sizeof *whole) == 0,
          "one range is the whole pass exactly (%d calls, %zu samples)", o.calls, o.n);

    /* the callback stops it */
    free(o.audio);
    memset(&o, 0, sizeof o);
    o.stop_at = 2;
    p.first_frames = 24;
    rc = kokoro_synthesize(st, ids, n, kokoro_voice_row(kokoro_voices_get(voices, "af_heart"), n),
                           &p, &audio, &ns, err, sizeof err);
    CHECK(rc == KOKORO_E_CANCELLED && o.calls == 2 && audio == NULL,
          "a nonzero return from on_range cancels: rc %d after %d calls (%s)", rc, o.calls, err);
    free(o.audio);
    free(whole);
    kokoro_state_free(st);
}

/* Many syntheses in one process: LeakSanitizer (ASan build) reports any leak at exit. */
static void test_many(int n)
{
    kokoro_state *st = kokoro_state_new(model, 1);
    kokoro_synth_params p = kokoro_synth_defaults();
    int ok = 0;
    for (int i = 0; i < n; i++) {
        size_t ns;
        p.noise_seed = (uint64_t)i;
        int len = 3 + i % 10;
        float *a = synth(st, hello, len < N_HELLO ? len : N_HELLO, i % 2 ? "af_heart" : "bm_george", &p, &ns, NULL);
        ok += a != NULL;
        free(a);
    }
    CHECK(ok == n, "%d of %d syntheses succeeded", ok, n);
    kokoro_state_free(st);
}

int main(int argc, char **argv)
{
    char err[256];
    int many = argc > 1 ? atoi(argv[1]) : 100;
    if (kokoro_model_load(model_path, &model, err, sizeof err) ||
        kokoro_voices_load(voices_path, &voices, err, sizeof err)) {
        fprintf(stderr, "test_engine: %s\n", err);
        return 1;
    }
    test_model_errors();
    test_voices();
    test_synthesis();
    test_ranges();
    test_many(many);
    kokoro_voices_free(voices);
    kokoro_model_free(model);
    return check_done("test_engine");
}
