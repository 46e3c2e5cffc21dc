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

/* Lower bound of frames per id (measured: 2.4 on average, rarely under 2), so that the
 * up-front budget check refuses only text that is surely too long. */
#define FRAMES_PER_ID_LOW 2.0
#define MAX_SPLITS 12 /* a piece over the frame cap is halved at most this deep */
/* Silence at the joins. The model frames each utterance with 0.3-0.4 s of silence on either
 * side: right between sentences, but a pause in mid-sentence where a long sentence or a
 * stream's first phrase is cut. There both sides keep 75 ms (then the clause pause, if any);
 * a stream's first piece keeps 100 ms before its speech, which is also less to compute
 * before the first byte. */
#define JOIN_FRAMES 3
#define QUICK_LEAD_FRAMES 4

typedef struct {
    kokoro_state *st;
    const kk_phon *p;
    const kokoro_speak_params *params;
    const float *pack;
    kokoro_synth_params sp;
    kokoro_audio_fn on_audio;
    void *user;
    float *silence;
    double offset_s;
    int n_done;    /* pieces spoken so far */
    int prev_open; /* the last piece ended inside a sentence */
    char *err;
    size_t errlen;
} speak_ctx;

/* Halves a span at the word boundary nearest its middle (by ids), or inside its one word. */
static int split_span(const kk_phon *p, const kk_span *s, kk_span *a, kk_span *b)
{
    int half = s->n_ids / 2, best = -1, best_d = 0;
    for (int w = s->word_start + 1; w < s->word_end; w++) {
        int at = p->words[w].ph_start;
        if (at <= s->ph_start || at >= s->ph_end)
            continue;
        int d = abs(kk_count_ids(p->ph.p, s->ph_start, at) - half);
        if (best < 0 || d < best_d)
            best = at, best_d = d;
    }
    *a = *b = *s;
    int cut = best, next = best;
    if (cut < 0) { /* one long word: cut between characters at the middle id */
        cut = s->ph_start;
        while (cut < s->ph_end && kk_count_ids(p->ph.p, s->ph_start, cut) < half)
            cut++;
        while (cut < s->ph_end && ((unsigned char)p->ph.p[cut] & 0xC0) == 0x80)
            cut++;
        next = cut;
    }
    a->ph_end = cut;
    while (a->ph_end > a->ph_start && p->ph.p[a->ph_end - 1] == ' ')
        a->ph_end--;
    b->ph_start = next;
    while (b->ph_start < b->ph_end && p->ph.p[b->ph_start] == ' ')
        b->ph_start++;
    a->n_ids = kk_count_ids(p->ph.p, a->ph_start, a->ph_end);
    b->n_ids = kk_count_ids(p->ph.p, b->ph_start, b->ph_end);
    a->pause_after_ms = 0;
    a->mid_sentence = 1; /* the second half goes on in the same sentence */
    /* words: those starting before the cut are the first half's; a word cut inside is both's */
    int w = s->word_start;
    while (w < s->word_end && p->words[w].ph_start < next)
        w++;
    a->word_end = w > s->word_start ? w : s->word_start + 1;
    b->word_start = best >= 0 ? w : a->word_end - 1;
    return a->n_ids > 0 && b->n_ids > 0 ? 0 : -1;
}

/* Synthesises one span and hands its audio (and the pause after it) to the caller. A span
 * whose speech exceeds the frame cap is halved and each half spoken in turn. */
static int speak_span(speak_ctx *c, const kk_span *s, int is_last, int depth)
{
    int32_t ids[KOKORO_MAX_PHONEMES];
    char *chunk_ph = strndup(c->p->ph.p + s->ph_start, (size_t)(s->ph_end - s->ph_start));
    if (!chunk_ph)
        return kk_fail(c->err, c->errlen, KOKORO_E_NOMEM, "out of memory");
    int n = kokoro_tokenize(chunk_ph, ids, KOKORO_MAX_PHONEMES);
    free(chunk_ph);
    if (n > KOKORO_MAX_PHONEMES)
        return kk_fail(c->err, c->errlen, KOKORO_E_INTERNAL, "chunk of %d ids exceeds the window",
                       n);
    if (n < 1)
        return KOKORO_OK;
    const kokoro_speak_params *params = c->params;
    float *audio = NULL;
    size_t n_samples = 0;
    kokoro_synth_params sp = c->sp;
    if (c->prev_open)
        sp.max_lead_frames = JOIN_FRAMES;
    else if (c->n_done == 0 && params->quick_start)
        sp.max_lead_frames = QUICK_LEAD_FRAMES;
    if (s->mid_sentence && !is_last)
        sp.max_trail_frames = JOIN_FRAMES;
    int rc = kokoro_synthesize(c->st, ids, n, kokoro_voice_row(c->pack, n), &sp, &audio,
                               &n_samples, c->err, c->errlen);
    if (rc == KOKORO_E_TOO_LONG && depth < MAX_SPLITS) {
        kk_span a, b;
        if (split_span(c->p, s, &a, &b) == 0) {
            rc = speak_span(c, &a, 0, depth + 1);
            return rc == KOKORO_OK ? speak_span(c, &b, is_last, depth + 1) : rc;
        }
    }
    if (rc != KOKORO_OK) {
        free(audio);
        return rc;
    }
    c->n_done++;
    c->prev_open = s->mid_sentence && !is_last;
    double chunk_s = (double)n_samples / KOKORO_SAMPLE_RATE;
    if (params->max_audio_s > 0 && c->offset_s + chunk_s > params->max_audio_s + 1e-9) {
        free(audio);
        return kk_fail(c->err, c->errlen, KOKORO_E_TOO_LONG,
                       "the text gives more than the limit of %g s of audio per request",
                       params->max_audio_s);
    }
    shape(audio, n_samples, params->volume);
    if (params->on_words)
        report_words(c->st, c->p, s, c->offset_s, params, c->user);
    int stop = n_samples ? c->on_audio(audio, n_samples, c->user) : 0;
    free(audio);
    c->offset_s += chunk_s;
    size_t pause = (size_t)((double)s->pause_after_ms / params->speed * KOKORO_SAMPLE_RATE /
                            1000.0);
    if (!stop && pause && !is_last) {
        if (!c->silence && !(c->silence = calloc((size_t)KOKORO_SAMPLE_RATE * 4, sizeof *c->silence)))
            return kk_fail(c->err, c->errlen, KOKORO_E_NOMEM, "out of memory");
        stop = c->on_audio(c->silence, pause, c->user);
        c->offset_s += (double)pause / KOKORO_SAMPLE_RATE;
    }
    if (stop)
        return kk_fail(c->err, c->errlen, KOKORO_E_CANCELLED, "stopped by the audio callback");
    return KOKORO_OK;
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
    if (!(params->speed >= KOKORO_SPEED_MIN && params->speed <= KOKORO_SPEED_MAX))
        return kk_fail(err, errlen, KOKORO_E_ARG, "speed %g is outside %g .. %g",
                       (double)params->speed, (double)KOKORO_SPEED_MIN, (double)KOKORO_SPEED_MAX);
    if (!(params->volume >= 0.0f && params->volume <= 10.0f))
        return kk_fail(err, errlen, KOKORO_E_ARG, "volume %g is outside 0 .. 10",
                       (double)params->volume);
    kk_phon p = {0};
    kk_span *spans = NULL;
    int n_spans = 0;
    kokoro_chunk_opts co = {params->speed, params->quick_start, params->max_frames};
    int rc = kk_text_plan(t, text, lang, &co, &p, &spans, &n_spans, err, errlen);
    if (rc == KOKORO_OK && n_spans == 0)
        rc = kk_fail(err, errlen, KOKORO_E_ARG, "the text has nothing to say");
    if (rc == KOKORO_OK && params->max_audio_s > 0) {
        /* refuse at once what is sure to exceed the budget, before any work */
        double est = 0;
        for (int i = 0; i < n_spans; i++)
            est += (spans[i].n_ids * FRAMES_PER_ID_LOW * KOKORO_SAMPLES_PER_FRAME /
                        KOKORO_SAMPLE_RATE + spans[i].pause_after_ms / 1000.0) / params->speed;
        if (est > params->max_audio_s)
            rc = kk_fail(err, errlen, KOKORO_E_TOO_LONG,
                         "the text gives at least %.0f s of audio at speed %g; the limit is %g s "
                         "of audio per request", est, (double)params->speed, params->max_audio_s);
    }

    speak_ctx c = {.st = st, .p = &p, .params = params, .on_audio = on_audio, .user = user,
                   .err = err, .errlen = errlen, .pack = pack};
    c.sp = kokoro_synth_defaults();
    c.sp.speed = params->speed;
    c.sp.noise_seed = params->noise_seed;
    c.sp.zero_noise = params->zero_noise;
    c.sp.cancel = params->cancel;
    c.sp.cancel_user = params->cancel_user;
    c.sp.max_frames = params->max_frames;
    for (int i = 0; rc == KOKORO_OK && i < n_spans; i++) {
        if (params->cancel && params->cancel(params->cancel_user)) {
            rc = kk_fail(err, errlen, KOKORO_E_CANCELLED, "cancelled");
            break;
        }
        rc = speak_span(&c, &spans[i], i + 1 == n_spans, 0);
    }
    free(c.silence);
    free(spans);
    kk_phon_free(&p);
    return rc;
}
