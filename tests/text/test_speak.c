/* test_speak.c - text to audio through the real model: chunked audio with pauses, no clicks
 * at the joins, volume, word timings, cancellation, and a sentence in every language.
 * Needs `make model`; fails (never skips) when the model is missing. */
#include "check.h"
#include "kokoro.h"

#include <math.h>

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

typedef struct {
    size_t total, calls, pauses, max_pause;
    int clicks;        /* speech buffers whose first or last sample is not silent */
    double peak, sum2;
    int words;
    double last_start, last_end;
    int order_errors;
    int stop_after;    /* on_audio returns nonzero after this many calls (0 = never) */
} collect;

static int on_audio(const float *s, size_t n, void *user)
{
    collect *c = user;
    int silent = 1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != 0.0f)
            silent = 0;
        double a = fabs(s[i]);
        if (a > c->peak)
            c->peak = a;
        c->sum2 += (double)s[i] * s[i];
    }
    if (silent) {
        c->pauses++;
        if (n > c->max_pause)
            c->max_pause = n;
    } else if (fabsf(s[0]) > 1e-3f || fabsf(s[n - 1]) > 1e-3f) {
        c->clicks++;
    }
    c->total += n;
    c->calls++;
    return c->stop_after && (int)c->calls >= c->stop_after;
}

static void on_words(const kokoro_word_time *w, int n, void *user)
{
    collect *c = user;
    for (int i = 0; i < n; i++) {
        if (w[i].start_s < c->last_start - 1e-9 || w[i].end_s < w[i].start_s || !w[i].word[0])
            c->order_errors++;
        c->last_start = w[i].start_s;
        c->last_end = w[i].end_s;
        c->words++;
    }
}

static int cancel_calls;
static int cancel_second(void *user) { return ++cancel_calls >= 2; }

int main(void)
{
    char err[256] = "";
    kokoro_model *model = NULL;
    kokoro_voices *voices = NULL;
    kokoro_text *text = NULL;
    const char *mpath = env_or("KOKORO_MODEL", "models/kokoro.onnx");
    const char *vpath = env_or("KOKORO_VOICES", "models/voices");
    if (kokoro_model_load(mpath, &model, err, sizeof err) != KOKORO_OK ||
        kokoro_voices_load(vpath, &voices, err, sizeof err) != KOKORO_OK ||
        kokoro_text_new(NULL, &text, err, sizeof err) != KOKORO_OK) {
        fprintf(stderr, "test_speak: %s (run `make model`)\n", err);
        return 1;
    }
    kokoro_state *st = kokoro_state_new(model, 1);
    static float pack[KOKORO_VOICE_FLOATS];
    CHECK(kokoro_voice_blend(voices, "af_heart", pack, err, sizeof err) == KOKORO_OK, "%s", err);

    /* several chunks: pauses between them, no clicks, timings in order and inside the audio */
    const char *story =
        "The committee met on Tuesday morning to talk about the new library. "
        "Everyone agreed that the old building, which had stood since 1921, was too small. "
        "After a long discussion, they voted to build a larger one near the river. "
        "Work will begin next spring.";
    kokoro_speak_params sp = kokoro_speak_defaults();
    sp.zero_noise = 1;
    sp.on_words = on_words;
    collect c = {0};
    int rc = kokoro_speak(st, text, story, "en-us", pack, &sp, on_audio, &c, err, sizeof err);
    double secs = (double)c.total / KOKORO_SAMPLE_RATE;
    printf("story: %.2f s of audio in %zu buffers, %zu pauses, %d words timed, peak %.3f\n",
           secs, c.calls, c.pauses, c.words, c.peak);
    CHECK(rc == KOKORO_OK, "speak: %s", err);
    CHECK(secs > 8 && secs < 30, "%.2f s for 50 words is implausible", secs);
    CHECK(c.pauses >= 1 && c.max_pause >= KOKORO_SAMPLE_RATE / 20, "no pause between chunks");
    CHECK(c.clicks == 0, "%d buffers start or end on a non-zero sample", c.clicks);
    CHECK(c.words >= 45 && c.order_errors == 0, "%d words, %d out of order", c.words,
          c.order_errors);
    CHECK(c.last_end <= secs + 0.01 && c.last_end > secs * 0.7, "last word ends at %.2f of %.2f",
          c.last_end, secs);
    CHECK(c.peak > 0.05 && c.peak <= 1.0, "peak %.3f", c.peak);

    /* volume scales the samples */
    collect full = {0}, half = {0};
    kokoro_speak_params vp = kokoro_speak_defaults();
    vp.zero_noise = 1;
    CHECK(kokoro_speak(st, text, "Volume check.", "en-us", pack, &vp, on_audio, &full, err,
                       sizeof err) == KOKORO_OK, "%s", err);
    vp.volume = 0.5f;
    CHECK(kokoro_speak(st, text, "Volume check.", "en-us", pack, &vp, on_audio, &half, err,
                       sizeof err) == KOKORO_OK, "%s", err);
    CHECK(full.total == half.total && fabs(half.peak / full.peak - 0.5) < 0.01,
          "volume 0.5: peak %.4f vs %.4f", half.peak, full.peak);

    /* cancellation: between chunks, and from the audio callback */
    collect cc = {0};
    kokoro_speak_params cp = kokoro_speak_defaults();
    cp.cancel = cancel_second;
    rc = kokoro_speak(st, text, story, "en-us", pack, &cp, on_audio, &cc, err, sizeof err);
    CHECK(rc == KOKORO_E_CANCELLED, "cancel: rc %d", rc);
    collect stop = {0};
    stop.stop_after = 1;
    rc = kokoro_speak(st, text, story, "en-us", pack, NULL, on_audio, &stop, err, sizeof err);
    CHECK(rc == KOKORO_E_CANCELLED && stop.calls == 1, "stop from on_audio: rc %d, %zu calls",
          rc, stop.calls);

    /* bad requests */
    kokoro_speak_params bad = kokoro_speak_defaults();
    bad.speed = 9;
    CHECK(kokoro_speak(st, text, "Hi.", "en-us", pack, &bad, on_audio, &c, err, sizeof err) ==
              KOKORO_E_ARG, "speed 9");
    CHECK(kokoro_speak(st, text, "Hi.", "de", pack, NULL, on_audio, &c, err, sizeof err) ==
              KOKORO_E_UNSUPPORTED, "de");
    CHECK(kokoro_speak(st, text, " \n", "en-us", pack, NULL, on_audio, &c, err, sizeof err) ==
              KOKORO_E_ARG, "nothing to say");

    /* every language: a sentence of plausible length, not silent */
    static const char *const langs[][4] = {
        {"en-us", "af_heart", "The weather is lovely today.", "5"},
        {"en-gb", "bf_emma", "The weather is lovely today.", "5"},
        {"es", "ef_dora", "Hoy hace muy buen tiempo en la ciudad.", "8"},
        {"fr", "ff_siwis", "Il fait très beau aujourd'hui dans la ville.", "9"},
        {"hi", "hf_alpha", "आज मौसम बहुत अच्छा है।", "5"},
        {"it", "if_sara", "Oggi il tempo è molto bello in città.", "8"},
        {"pt-br", "pf_dora", "Hoje o tempo está muito bonito na cidade.", "8"},
    };
    for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++) {
        collect lc = {0};
        CHECK(kokoro_voice_blend(voices, langs[i][1], pack, err, sizeof err) == KOKORO_OK, "%s",
              err);
        rc = kokoro_speak(st, text, langs[i][2], langs[i][0], pack, NULL, on_audio, &lc, err,
                          sizeof err);
        double d = (double)lc.total / KOKORO_SAMPLE_RATE;
        double rms = lc.total ? sqrt(lc.sum2 / (double)lc.total) : 0;
        int words = atoi(langs[i][3]);
        printf("%-6s %-9s %.2f s (%.2f s/word), rms %.3f\n", langs[i][0], langs[i][1], d,
               d / words, rms);
        CHECK(rc == KOKORO_OK, "[%s] %s", langs[i][0], err);
        /* people speak 2-4 words a second; allow 0.15-0.9 s a word with the silences */
        CHECK(d > 0.15 * words && d < 0.9 * words + 0.5, "[%s] %.2f s for %d words",
              langs[i][0], d, words);
        CHECK(rms > 0.01, "[%s] silent (rms %.4f)", langs[i][0], rms);
    }

    kokoro_state_free(st);
    kokoro_text_free(text);
    kokoro_voices_free(voices);
    kokoro_model_free(model);
    return check_done("test_speak");
}
