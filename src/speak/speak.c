/* speak.c - text to audio: front end, chunk by chunk through the engine, joined for listening.
 *
 * Each chunk is synthesised with the voice row for its length, scaled by the volume, faded in
 * and out over a few milliseconds (so that joins cannot click even when a chunk does not end
 * at zero), and followed by a pause that depends on the punctuation it ended with. Audio is
 * handed to the caller chunk by chunk, so memory stays bounded by one chunk however long the
 * text. Word timings come from the engine's per-token durations. */
#include "core/util.h"
#include "text/text_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FADE_MS 4

kokoro_speak_params kokoro_speak_defaults(void)
{
    kokoro_speak_params p;
    memset(&p, 0, sizeof p);
    p.speed = 1.0f;
    p.volume = 1.0f;
    p.noise_seed = 0;
    return p;
}

static void shape(float *a, size_t n, float volume)
{
    size_t fade = (size_t)(KOKORO_SAMPLE_RATE * FADE_MS / 1000);
    if (fade * 2 > n)
        fade = n / 2;
    for (size_t i = 0; i < n; i++) {
        float g = volume;
        if (i < fade)
            g *= 0.5f - 0.5f * cosf((float)M_PI * (float)i / (float)fade);
        else if (i >= n - fade)
            g *= 0.5f - 0.5f * cosf((float)M_PI * (float)(n - 1 - i) / (float)fade);
        float v = a[i] * g;
        a[i] = v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v;
    }
}

/* Word timings of one chunk from the engine's durations (frames, boundary tokens included). */
static void report_words(kokoro_state *st, const kk_phon *p, const kk_span *sp, double offset_s,
                         const kokoro_speak_params *params, void *user)
{
    int n_dur = 0;
    const int32_t *dur = kokoro_state_durations(st, &n_dur);
    int n = sp->word_end - sp->word_start;
    if (!dur || n_dur < 2 || n <= 0)
        return;
    kokoro_word_time *w = malloc((size_t)n * sizeof *w);
    /* frames before each token position: cum[k] = sum(dur[0..k)) */
    double *cum = malloc(((size_t)n_dur + 1) * sizeof *cum);
    if (!w || !cum) {
        free(w);
        free(cum);
        return;
    }
    cum[0] = 0;
    for (int k = 0; k < n_dur; k++)
        cum[k + 1] = cum[k] + dur[k];
    const double frame_s = (double)KOKORO_SAMPLES_PER_FRAME / KOKORO_SAMPLE_RATE;
    int m = 0;
    for (int i = sp->word_start; i < sp->word_end; i++) {
        const kk_word *wd = &p->words[i];
        int a = wd->ph_start > sp->ph_start ? wd->ph_start : sp->ph_start;
        int b = wd->ph_end < sp->ph_end ? wd->ph_end : sp->ph_end;
        if (b <= a)
            continue;
        /* position 0 is the leading boundary token */
        int ta = 1 + kk_count_ids(p->ph.p, sp->ph_start, a);
        int tb = 1 + kk_count_ids(p->ph.p, sp->ph_start, b);
        if (ta > n_dur)
            ta = n_dur;
        if (tb > n_dur)
            tb = n_dur;
        w[m].word = wd->text;
        w[m].start_s = offset_s + cum[ta] * frame_s;
        w[m].end_s = offset_s + cum[tb] * frame_s;
        m++;
    }
    if (m)
        params->on_words(w, m, user);
    free(w);
    free(cum);
}

int kokoro_speak(kokoro_state *st, kokoro_text *t, const char *text, const char *lang,
                 const float *pack, const kokoro_speak_params *params, kokoro_audio_fn on_audio,
                 void *user, char *err, size_t errlen)
{
    if (!st || !t || !text || !pack || !on_audio)
        return kk_fail(err, errlen, KOKORO_E_ARG, "kokoro_speak: NULL argument");
    kokoro_speak_params dp = kokoro_speak_defaults();
    if (!params)
        params = &dp;
    if (!(params->speed >= 0.25f && params->speed <= 4.0f))
        return kk_fail(err, errlen, KOKORO_E_ARG, "speed %g is outside 0.25 .. 4.0",
                       (double)params->speed);
    if (!(params->volume >= 0.0f && params->volume <= 10.0f))
        return kk_fail(err, errlen, KOKORO_E_ARG, "volume %g is outside 0 .. 10",
                       (double)params->volume);
    kk_phon p = {0};
    kk_span *spans = NULL;
    int n_spans = 0;
    int rc = kk_text_plan(t, text, lang, &p, &spans, &n_spans, err, errlen);
    if (rc == KOKORO_OK && n_spans == 0)
        rc = kk_fail(err, errlen, KOKORO_E_ARG, "the text has nothing to say");

    kokoro_synth_params sp = kokoro_synth_defaults();
    sp.speed = params->speed;
    sp.noise_seed = params->noise_seed;
    sp.zero_noise = params->zero_noise;
    sp.cancel = params->cancel;
    sp.cancel_user = params->cancel_user;

    int32_t ids[KOKORO_MAX_PHONEMES];
    float *silence = NULL;
    double offset_s = 0;
    for (int c = 0; rc == KOKORO_OK && c < n_spans; c++) {
        if (params->cancel && params->cancel(params->cancel_user)) {
            rc = kk_fail(err, errlen, KOKORO_E_CANCELLED, "cancelled");
            break;
        }
        const kk_span *s = &spans[c];
        char *chunk_ph = strndup(p.ph.p + s->ph_start, (size_t)(s->ph_end - s->ph_start));
        if (!chunk_ph) {
            rc = kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
            break;
        }
        int n = kokoro_tokenize(chunk_ph, ids, KOKORO_MAX_PHONEMES);
        free(chunk_ph);
        if (n > KOKORO_MAX_PHONEMES) {
            rc = kk_fail(err, errlen, KOKORO_E_INTERNAL, "chunk of %d ids exceeds the window", n);
            break;
        }
        float *audio = NULL;
        size_t n_samples = 0;
        rc = kokoro_synthesize(st, ids, n, kokoro_voice_row(pack, n), &sp, &audio, &n_samples,
                               err, errlen);
        if (rc != KOKORO_OK) {
            free(audio);
            break;
        }
        shape(audio, n_samples, params->volume);
        if (params->on_words)
            report_words(st, &p, s, offset_s, params, user);
        int stop = n_samples ? on_audio(audio, n_samples, user) : 0;
        free(audio);
        offset_s += (double)n_samples / KOKORO_SAMPLE_RATE;
        size_t pause = (size_t)((double)s->pause_after_ms / params->speed * KOKORO_SAMPLE_RATE /
                                1000.0);
        if (!stop && pause && c + 1 < n_spans) {
            if (!silence && !(silence = calloc((size_t)KOKORO_SAMPLE_RATE * 4, sizeof *silence))) {
                rc = kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
                break;
            }
            stop = on_audio(silence, pause, user);
            offset_s += (double)pause / KOKORO_SAMPLE_RATE;
        }
        if (stop)
            rc = kk_fail(err, errlen, KOKORO_E_CANCELLED, "stopped by the audio callback");
    }
    free(silence);
    free(spans);
    kk_phon_free(&p);
    return rc;
}
