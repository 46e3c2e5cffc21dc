/* test_synth_ref.c - one synthesis against the intermediates another build wrote with
 * `kokoro dump`: how make test-arm64 holds the arm64 engine (under qemu, with its own small
 * BLAS) to the x86 engine, which test-parity holds to ONNX Runtime. Source noise off, speed 1,
 * one thread, voice row n_ids, as `kokoro dump` does.
 *   test_synth_ref MODEL VOICES VOICE IDS REFDIR
 * Bars: durations identical; f0, n, asr and decoder within 1e-4 relative (||a-b|| / ||b||);
 * gen_pre and audio within 2e-2, since the generator turns the last-bit differences of another
 * BLAS and libm into ~1e-2 (docs/parity.md: a float32 vs float64 DFT of the same source alone
 * moves gen_pre by 7e-3 to 1e-2). */
#include "kokoro.h"
#include "kokoro_debug.h" /* kokoro_debug_keep_tensors */
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float *read_f32(const char *dir, const char *name, size_t *n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.f32", dir, name);
    FILE *f = fopen(path, "rb");
    float *d = NULL;
    long len = -1;
    if (f && !fseek(f, 0, SEEK_END) && (len = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET) &&
        (d = malloc((size_t)len)) && fread(d, 1, (size_t)len, f) == (size_t)len) {
        *n = (size_t)len / sizeof *d;
    } else {
        free(d);
        d = NULL;
    }
    if (f) fclose(f);
    return d;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: test_synth_ref MODEL VOICES VOICE IDS REFDIR\n");
        return 2;
    }
    int32_t ids[KOKORO_MAX_PHONEMES];
    int n = 0;
    for (char *s = argv[4], *end; *s && n < KOKORO_MAX_PHONEMES; s = *end ? end + 1 : end) {
        ids[n++] = (int32_t)strtol(s, &end, 10);
        if (end == s) return 2;
    }
    char err[512];
    kokoro_model *m = NULL;
    kokoro_voices *v = NULL;
    double t0 = now_s();
    if (kokoro_model_load(argv[1], &m, err, sizeof err) ||
        kokoro_voices_load(argv[2], &v, err, sizeof err)) {
        fprintf(stderr, "test_synth_ref: %s\n", err);
        return 1;
    }
    const float *pack = kokoro_voices_get(v, argv[3]);
    kokoro_state *st = kokoro_state_new(m, 1);
    if (!pack || !st) {
        fprintf(stderr, "test_synth_ref: no voice %s, or out of memory\n", argv[3]);
        return 1;
    }
    kokoro_debug_keep_tensors(st, 1);
    kokoro_synth_params p = kokoro_synth_defaults();
    p.zero_noise = 1;
    float *audio = NULL;
    size_t ns = 0;
    double t1 = now_s();
    int rc = kokoro_synthesize(st, ids, n, kokoro_voice_row(pack, n), &p, &audio, &ns, err,
                               sizeof err);
    double t2 = now_s();
    CHECK(rc == KOKORO_OK, "synthesis: %s", err);
    static const struct {
        const char *name;
        double bar;
    } cmp[] = {{"durations", 0},  {"f0", 1e-4},      {"n", 1e-4},    {"asr", 1e-4},
               {"decoder", 1e-4}, {"gen_pre", 2e-2}, {"audio", 2e-2}};
    printf("test_synth_ref: kernels %s, %d ids, %zu samples (load %.1f s, synthesis %.1f s)\n",
           kokoro_kernels(), n, ns, t1 - t0, t2 - t1);
    for (size_t i = 0; rc == KOKORO_OK && i < sizeof cmp / sizeof cmp[0]; i++) {
        size_t nr = 0;
        float *ref = read_f32(argv[5], cmp[i].name, &nr);
        const float *got = NULL;
        int dims[3] = {0, 0, 0};
        int have = kokoro_state_tensor(st, cmp[i].name, &got, dims) == KOKORO_OK;
        size_t ng = have ? (size_t)dims[0] * (dims[1] ? dims[1] : 1) * (dims[2] ? dims[2] : 1) : 0;
        double e = ref && have && ng == nr ? check_rel_l2(got, ref, nr) : 1;
        CHECK(ref && have && ng == nr && e <= cmp[i].bar,
              "%s: %zu values (reference %zu), rel err %.2e, bar %.0e", cmp[i].name, ng, nr, e,
              cmp[i].bar);
        printf("  %-10s rel err %.2e (bar %.0e)\n", cmp[i].name, e, cmp[i].bar);
        free(ref);
    }
    free(audio);
    kokoro_state_free(st);
    kokoro_voices_free(v);
    kokoro_model_free(m);
    return check_done("test_synth_ref");
}
