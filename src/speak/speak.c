/* speak.c - text to audio: front end, chunk by chunk through the engine, joined for listening.
 *
 * Each chunk is synthesised with the voice row for its length, scaled by the volume, faded in
 * and out over a few milliseconds (so that joins cannot click even when a chunk does not end
 * at zero), and followed by a pause that depends on the punctuation it ended with. Audio is
 * handed to the caller chunk by chunk, so memory stays bounded by one chunk however long the
 * text. Word timings come from the engine's per-token durations. */
#include "core/util.h"
#include "text/text_int.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* Volume, clipping and a short fade at both ends of a piece of `total` samples, of which a
 * holds n from sample pos on (a piece handed over range by range is shaped a range at a time). */
static void shape_at(float *a, size_t n, size_t pos, size_t total, float volume)
{
    size_t fade = (size_t)(KOKORO_SAMPLE_RATE * FADE_MS / 1000);
    if (fade * 2 > total)
        fade = total / 2;
    for (size_t k = 0; k < n; k++) {
        size_t i = pos + k;
        float g = volume;
        if (i < fade)
            g *= 0.5f - 0.5f * cosf((float)M_PI * (float)i / (float)fade);
        else if (i >= total - fade)
            g *= 0.5f - 0.5f * cosf((float)M_PI * (float)(total - 1 - i) / (float)fade);
        float v = a[k] * g;
        a[k] = v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v;
    }
}

static void shape(float *a, size_t n, float volume) { shape_at(a, n, 0, n, volume); }

/* Where the words of the input are, for captions. Plain text: the front end knows each word's
 * bytes. Marked-up text (SSML, [word](/ph/)): the words an element rewrote (<sub>, <say-as>,
 * <phoneme>) carry the bytes of its content; the others are looked for in the input in order,
 * outside tags and controls; a word that is not found (a number the normaliser rewrote inside
 * SSML) has no written form. */
typedef struct {
    const char *text; /* the input as the caller gave it */
    size_t n;
    int markup;       /* SSML or plain-text controls: search instead of the front end's bytes */
    size_t cursor;    /* markup: where the next word is looked for */
} src_track;

#define SEARCH_WINDOW 4096 /* bytes of markup looked through for one word */

static int word_byte(unsigned char c) { return isalnum(c) || c == '\'' || c >= 0x80; }

/* Finds word w in the markup at or after tr->cursor, outside <...>, [pause:...] and (/.../). */
static int find_written(src_track *tr, const char *w, long *s, long *e)
{
    size_t wl = strlen(w), end = tr->cursor + SEARCH_WINDOW;
    if (end > tr->n)
        end = tr->n;
    const char *t = tr->text;
    for (size_t i = tr->cursor; i + wl <= end; i++) {
        if (t[i] == '<') { /* a tag, a comment or a declaration */
            const char *gt = memchr(t + i, '>', tr->n - i);
            if (!gt)
                return 0;
            i = (size_t)(gt - t);
            continue;
        }
        if ((t[i] == '[' && strncmp(t + i, "[pause:", 7) == 0) || (t[i] == '(' && t[i + 1] == '/')) {
            const char *close = memchr(t + i, t[i] == '[' ? ']' : ')', tr->n - i);
            if (close)
                i = (size_t)(close - t);
            continue;
        }
        if (strncasecmp(t + i, w, wl) == 0 && (i == 0 || !word_byte((unsigned char)t[i - 1])) &&
            (i + wl >= tr->n || !word_byte((unsigned char)t[i + wl]))) {
            *s = (long)i, *e = (long)(i + wl);
            tr->cursor = i + wl;
            return 1;
        }
    }
    return 0;
}

/* The input bytes of word wd, or 0 when they are not known. */
static int source_bytes(src_track *tr, const kk_word *wd, long *s, long *e)
{
    if (!tr || !tr->text)
        return 0;
    if (!tr->markup) {
        if (wd->src_end <= wd->src_start)
            return 0;
        *s = wd->src_start, *e = wd->src_end;
        return 1;
    }
    if (wd->src_input && wd->src_end > wd->src_start) {
        /* a rewritten piece (<sub>, <say-as>, <phoneme>): the markup gave its source bytes */
        *s = wd->src_start, *e = wd->src_end;
        if ((size_t)wd->src_end > tr->cursor)
            tr->cursor = (size_t)wd->src_end;
        return 1;
    }
    return find_written(tr, wd->text, s, e);
}

/* Frames from a chunk's start to where the sound of the token that begins at frame f is
 * heard: ONSET_LEAD frames earlier (report_words), never before the chunk. */
#define ONSET_LEAD 1
static double heard(double f) { return f > ONSET_LEAD ? f - ONSET_LEAD : 0; }

/* Word timings of one chunk from the engine's durations (frames, boundary tokens included).
 * Words read from one written word ("$25.50") are reported as one. */
static void report_words(kokoro_state *st, const kk_phon *p, const kk_span *sp, double offset_s,
                         const kokoro_speak_params *params, src_track *tr, void *user)
{
    int n_dur = 0;
    const int32_t *dur = kokoro_state_durations(st, &n_dur);
    int n = sp->word_end - sp->word_start;
    if (!dur || n_dur < 2 || n <= 0)
        return;
    kokoro_word_time *w = calloc((size_t)n, sizeof *w);
    char **owned = calloc((size_t)n * 2, sizeof *owned); /* joined and written strings */
    /* frames before each token position: cum[k] = sum(dur[0..k)) */
    double *cum = malloc(((size_t)n_dur + 1) * sizeof *cum);
    if (!w || !cum || !owned) {
        free(w);
        free(cum);
        free(owned);
        return;
    }
    cum[0] = 0;
    for (int k = 0; k < n_dur; k++)
        cum[k + 1] = cum[k] + dur[k];
    const double frame_s = (double)KOKORO_SAMPLES_PER_FRAME / KOKORO_SAMPLE_RATE;
    int m = 0, n_owned = 0;
    for (int i = sp->word_start; i < sp->word_end; i++) {
        const kk_word *wd = &p->words[i];
        int a = wd->ph_start > sp->ph_start ? wd->ph_start : sp->ph_start;
        int b = wd->ph_end < sp->ph_end ? wd->ph_end : sp->ph_end;
        if (b <= a)
            continue;
        /* A word is heard from the start of the space token(s) before it, and one frame
         * before that: the model voices a word's onset (a fricative's hiss, a stop's closure)
         * about 3 frames before the frame of its first phoneme, inside the space and a frame
         * ahead of it (docs/text.md "Captions": at spectral landmarks 25 ms before the
         * space; against a forced aligner, 35 ms in running speech). The word's end moves
         * with it, to where the next word's sound starts. */
        int a_heard = a;
        while (a_heard > sp->ph_start && p->ph.p[a_heard - 1] == ' ')
            a_heard--;
        /* position 0 is the leading boundary token */
        int ta = 1 + kk_count_ids(p->ph.p, sp->ph_start, a_heard);
        int tb = 1 + kk_count_ids(p->ph.p, sp->ph_start, b);
        if (ta > n_dur)
            ta = n_dur;
        if (tb > n_dur)
            tb = n_dur;
        long s0 = -1, e0 = -1;
        int known = source_bytes(tr, wd, &s0, &e0);
        kokoro_word_time *prev = m ? &w[m - 1] : NULL;
        if (known && prev && prev->src_end > s0 && prev->src_start < e0) {
            /* another word read from the same written one: one entry, the words joined */
            size_t l1 = strlen(prev->word), l2 = strlen(wd->text);
            char *j = malloc(l1 + l2 + 2);
            if (!j)
                continue;
            memcpy(j, prev->word, l1);
            j[l1] = ' ';
            memcpy(j + l1 + 1, wd->text, l2 + 1);
            if (n_owned && owned[n_owned - 1] == prev->word) /* joined before: replaced */
                free(owned[--n_owned]);
            owned[n_owned++] = j;
            prev->word = j;
            if (e0 > prev->src_end)
                prev->src_end = e0;
            prev->end_s = offset_s + heard(cum[tb]) * frame_s;
            continue;
        }
        w[m].word = wd->text;
        w[m].start_s = offset_s + heard(cum[ta]) * frame_s;
        w[m].end_s = offset_s + heard(cum[tb]) * frame_s;
        w[m].src_start = known ? s0 : -1;
        w[m].src_end = known ? e0 : -1;
        m++;
    }
    /* the written words, once their extent is final */
    for (int k = 0; k < m; k++) {
        if (w[k].src_start < 0)
            continue;
        char *wr = strndup(tr->text + w[k].src_start, (size_t)(w[k].src_end - w[k].src_start));
        if (!wr) {
            w[k].src_start = w[k].src_end = -1;
            continue;
        }
        owned[n_owned++] = wr;
        w[k].written = wr;
    }
    if (m)
        params->on_words(w, m, user);
    for (int k = 0; k < n_owned; k++)
        free(owned[k]);
    free(owned);
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
 * a stream's first piece keeps 100 ms before its speech, so that it is heard sooner. */
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
    float volume; /* the request's volume times the segment's */
    double offset_s;
    int n_done;    /* pieces spoken so far */
    int prev_open; /* the last piece ended inside a sentence */
    char *err;
    size_t errlen;
    src_track src; /* where the words are in the input, for on_words */
} speak_ctx;

/* Nonzero when s more seconds of audio would pass the budget, counting what earlier calls
 * spent of it. */
static int over_budget(const speak_ctx *c, double s)
{
    const kokoro_speak_params *p = c->params;
    return p->max_audio_s > 0 && p->budget_used_s + c->offset_s + s > p->max_audio_s + 1e-9;
}

static int budget_fail(const speak_ctx *c)
{
    return kk_fail(c->err, c->errlen, KOKORO_E_TOO_LONG,
                   "the text gives more than the limit of %g s of audio per request",
                   c->params->max_audio_s);
}

/* n samples of silence to the caller, a second at a time, within the audio budget. */
static int emit_silence(speak_ctx *c, size_t n)
{
    const size_t block = (size_t)KOKORO_SAMPLE_RATE;
    if (!n)
        return KOKORO_OK;
    if (over_budget(c, (double)n / KOKORO_SAMPLE_RATE))
        return budget_fail(c);
    if (!c->silence && !(c->silence = calloc(block, sizeof *c->silence)))
        return kk_fail(c->err, c->errlen, KOKORO_E_NOMEM, "out of memory");
    while (n) {
        size_t k = n < block ? n : block;
        if (c->on_audio(c->silence, k, c->user))
            return kk_fail(c->err, c->errlen, KOKORO_E_CANCELLED, "stopped by the audio callback");
        c->offset_s += (double)k / KOKORO_SAMPLE_RATE;
        n -= k;
    }
    return KOKORO_OK;
}

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

/* The model's edge silence to cut from a piece of n_samples (durations of the last pass on
 * c->st). It is cut from the audio, not from the durations: a shorter leading boundary token
 * makes the model swallow the first phoneme (Whisper lost the first word of three streams in
 * four when the durations were clamped). */
static void edge_cuts(const speak_ctx *c, const kk_span *s, int is_last, size_t n_samples,
                      size_t *cut_front, size_t *cut_back)
{
    int nd = 0;
    const int32_t *dur = kokoro_state_durations(c->st, &nd);
    *cut_front = *cut_back = 0;
    if (!dur || nd < 2)
        return;
    int keep_front = c->prev_open ? JOIN_FRAMES
                     : c->n_done == 0 && c->params->quick_start ? QUICK_LEAD_FRAMES
                                                                : -1;
    int keep_back = s->mid_sentence && !is_last ? JOIN_FRAMES : -1;
    if (keep_front >= 0 && dur[0] > keep_front)
        *cut_front = (size_t)(dur[0] - keep_front) * KOKORO_SAMPLES_PER_FRAME;
    if (keep_back >= 0 && dur[nd - 1] > keep_back)
        *cut_back = (size_t)(dur[nd - 1] - keep_back) * KOKORO_SAMPLES_PER_FRAME;
    if (*cut_front + *cut_back >= n_samples)
        *cut_front = *cut_back = 0;
}

/* A stream's first piece goes to the caller range by range as the engine vocodes it
 * (kokoro_synth_params.on_range), so that its first audio comes after a fraction of the
 * piece's work: the first range is about PROGRESSIVE_FIRST_FRAMES frames. */
#define PROGRESSIVE_FIRST_FRAMES 12

typedef struct {
    speak_ctx *c;
    const kk_span *s;
    int is_last;
    size_t pos;      /* samples of the piece seen so far */
    size_t from, to; /* the piece's kept samples [from, to) */
    int started, over, stopped;
    float *buf;      /* a range's kept samples, shaped */
    size_t cap;
} progressive;

static int progressive_range(const float *samples, size_t n, void *user)
{
    progressive *g = user;
    speak_ctx *c = g->c;
    if (!g->started) { /* the durations are known: the piece's length, cuts and words */
        int nd = 0;
        const int32_t *dur = kokoro_state_durations(c->st, &nd);
        size_t total = 0, cf, cb;
        for (int i = 0; i < nd; i++)
            total += (size_t)dur[i] * KOKORO_SAMPLES_PER_FRAME;
        edge_cuts(c, g->s, g->is_last, total, &cf, &cb);
        g->from = cf;
        g->to = total - cb;
        g->started = 1;
        if (over_budget(c, (double)(g->to - g->from) / KOKORO_SAMPLE_RATE))
            return g->over = 1;
        if (c->params->on_words)
            report_words(c->st, c->p, g->s, c->offset_s - (double)cf / KOKORO_SAMPLE_RATE,
                         c->params, &c->src, c->user);
    }
    size_t a = g->pos > g->from ? g->pos : g->from;
    size_t b = g->pos + n < g->to ? g->pos + n : g->to;
    g->pos += n;
    if (a >= b)
        return 0;
    size_t k = b - a;
    if (k > g->cap) {
        float *nb = realloc(g->buf, k * sizeof *nb);
        if (!nb)
            return g->stopped = 1;
        g->buf = nb;
        g->cap = k;
    }
    memcpy(g->buf, samples + (a - (g->pos - n)), k * sizeof *g->buf);
    shape_at(g->buf, k, a - g->from, g->to - g->from, c->volume);
    if (c->on_audio(g->buf, k, c->user))
        return g->stopped = 1;
    c->offset_s += (double)k / KOKORO_SAMPLE_RATE;
    return 0;
}

/* Synthesises a stream's first piece progressively; then as speak_span goes on. */
static int speak_progressive(speak_ctx *c, const kk_span *s, int is_last, const int32_t *ids,
                             int n)
{
    progressive g = {.c = c, .s = s, .is_last = is_last};
    kokoro_synth_params sp = c->sp;
    sp.on_range = progressive_range;
    sp.range_user = &g;
    sp.first_frames = PROGRESSIVE_FIRST_FRAMES;
    float *audio = NULL;
    size_t n_samples = 0;
    int rc = kokoro_synthesize(c->st, ids, n, kokoro_voice_row(c->pack, n), &sp, &audio,
                               &n_samples, c->err, c->errlen);
    free(audio);
    free(g.buf);
    if (g.over)
        return budget_fail(c);
    if (g.stopped)
        return kk_fail(c->err, c->errlen, KOKORO_E_CANCELLED, "stopped by the audio callback");
    return rc;
}

/* Hands a whole piece's audio to the caller, its edge silence cut and its ends shaped. */
static int emit_piece(speak_ctx *c, const kk_span *s, int is_last, float *audio,
                      size_t n_samples)
{
    size_t cut_front, cut_back;
    edge_cuts(c, s, is_last, n_samples, &cut_front, &cut_back);
    float *kept = audio + cut_front;
    n_samples -= cut_front + cut_back;
    double chunk_s = (double)n_samples / KOKORO_SAMPLE_RATE;
    if (over_budget(c, chunk_s))
        return budget_fail(c);
    shape(kept, n_samples, c->volume);
    if (c->params->on_words)
        report_words(c->st, c->p, s, c->offset_s - (double)cut_front / KOKORO_SAMPLE_RATE,
                     c->params, &c->src, c->user);
    int stop = n_samples ? c->on_audio(kept, n_samples, c->user) : 0;
    c->offset_s += chunk_s;
    if (stop)
        return kk_fail(c->err, c->errlen, KOKORO_E_CANCELLED, "stopped by the audio callback");
    return KOKORO_OK;
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
    int rc;
    if (params->quick_start && c->n_done == 0) {
        rc = speak_progressive(c, s, is_last, ids, n);
    } else {
        rc = kokoro_synthesize(c->st, ids, n, kokoro_voice_row(c->pack, n), &c->sp, &audio,
                               &n_samples, c->err, c->errlen);
    }
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
    if (audio) {
        rc = emit_piece(c, s, is_last, audio, n_samples);
        free(audio);
        if (rc != KOKORO_OK)
            return rc;
    }
    c->n_done++;
    c->prev_open = s->mid_sentence && !is_last;
    size_t pause = (size_t)((double)s->pause_after_ms / c->sp.speed * KOKORO_SAMPLE_RATE /
                            1000.0);
    return is_last ? KOKORO_OK : emit_silence(c, pause);
}

/* A pause after a piece, an SSML break, a [pause:]: within the audio budget. */
static int emit_pause(speak_ctx *c, int ms)
{
    return emit_silence(c, (size_t)((double)ms * KOKORO_SAMPLE_RATE / 1000.0));
}

/* Audio seconds that spans surely give at least (the up-front budget check). */
static double estimate_s(const kk_span *spans, int n, float speed)
{
    double est = 0;
    for (int i = 0; i < n; i++)
        est += (spans[i].n_ids * FRAMES_PER_ID_LOW * KOKORO_SAMPLES_PER_FRAME /
                    KOKORO_SAMPLE_RATE + spans[i].pause_after_ms / 1000.0) / speed;
    return est;
}

static void init_ctx(speak_ctx *c, const kokoro_speak_params *params)
{
    c->sp = kokoro_synth_defaults();
    c->sp.speed = params->speed;
    c->sp.noise_seed = params->noise_seed;
    c->sp.zero_noise = params->zero_noise;
    c->sp.cancel = params->cancel;
    c->sp.cancel_user = params->cancel_user;
    c->sp.max_frames = params->max_frames;
    c->volume = params->volume;
}

/* ---------------------------------------------------------------- marked-up text */

#define MAX_DOC_VOICES 8 /* distinct <voice> names in one text (a pack is 522 KB) */

/* One segment, planned: its phonemes, pieces, voice pack and language. */
typedef struct {
    kk_phon p;
    kk_span *spans;
    int n_spans;
    const float *pack;
    const char *lang;
} seg_plan;

typedef struct {
    char *name[MAX_DOC_VOICES];
    float *pack[MAX_DOC_VOICES];
    int n;
} voice_cache;

static void voice_cache_free(voice_cache *v)
{
    for (int i = 0; i < v->n; i++) {
        free(v->name[i]);
        free(v->pack[i]);
    }
}

/* The pack of a <voice name>, resolved once per name. */
static int doc_voice(voice_cache *vc, const kokoro_voices *voices, const char *name,
                     const float **pack, char *err, size_t errlen)
{
    for (int i = 0; i < vc->n; i++)
        if (strcmp(vc->name[i], name) == 0)
            return *pack = vc->pack[i], KOKORO_OK;
    if (!voices)
        return kk_fail(err, errlen, KOKORO_E_UNSUPPORTED,
                       "<voice name=\"%.64s\">: voice changes need the voice set", name);
    if (vc->n == MAX_DOC_VOICES)
        return kk_fail(err, errlen, KOKORO_E_ARG, "more than %d different voices in one text",
                       MAX_DOC_VOICES);
    float *pk = malloc((size_t)KOKORO_VOICE_FLOATS * sizeof *pk);
    char *nm = strdup(name);
    if (!pk || !nm) {
        free(pk);
        free(nm);
        return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    }
    int rc = kokoro_voice_blend(voices, name, pk, err, errlen);
    if (rc != KOKORO_OK) {
        free(pk);
        free(nm);
        return rc;
    }
    vc->name[vc->n] = nm;
    vc->pack[vc->n++] = pk;
    *pack = pk;
    return KOKORO_OK;
}

/* The speed a segment is read at: the request's times its <prosody rate>, within the
 * engine's range. */
static float seg_speed(const kokoro_speak_params *params, const kk_seg *g)
{
    float speed = params->speed * g->speed;
    return speed < KOKORO_SPEED_MIN ? KOKORO_SPEED_MIN
           : speed > KOKORO_SPEED_MAX ? KOKORO_SPEED_MAX
                                      : speed;
}

/* The language a segment is read in: the request's, unless its voice speaks another one
 * (an English voice reads English in either dialect). */
static const char *seg_lang(const char *lang, const char *voice)
{
    const char *vl = voice ? kokoro_lang_of_voice(voice) : NULL;
    const kk_lang *rl = kk_lang_find(lang);
    if (!vl || !rl)
        return lang;
    int v_en = vl[0] == 'e' && vl[1] == 'n', r_en = rl->prefix == 'a' || rl->prefix == 'b';
    return v_en && r_en ? lang : strcmp(vl, rl->code) == 0 ? lang : vl;
}

int kokoro_is_ssml(const char *text) { return kk_is_ssml(text); }

/* Parses the markup of text: 1 with *doc filled, 0 when there is none, or a status. */
static int parse_markup(const char *text, kk_doc *doc, char *err, size_t errlen)
{
    if (kk_is_ssml(text)) {
        int rc = kk_ssml_parse(text, doc, err, errlen);
        return rc == KOKORO_OK ? 1 : rc;
    }
    return kk_controls_parse(text, doc, err, errlen);
}

int kokoro_markup_check(const char *text, const kokoro_voices *voices, char *err,
                        size_t errlen)
{
    if (!text)
        return kk_fail(err, errlen, KOKORO_E_ARG, "kokoro_markup_check: NULL text");
    kk_doc doc = {0};
    int rc = parse_markup(text, &doc, err, errlen);
    if (rc <= 0)
        return rc;
    rc = KOKORO_OK;
    for (int i = 0; rc == KOKORO_OK && i < doc.n_segs; i++) {
        const char *v = doc.segs[i].voice;
        if (!v || !voices)
            continue;
        /* each name of a blend "a(2)+b" must exist */
        const char *s = v;
        while (rc == KOKORO_OK && *s) {
            size_t n = strcspn(s, "(+");
            char name[64];
            if (n == 0 || n >= sizeof name) {
                rc = kk_fail(err, errlen, KOKORO_E_ARG, "<voice name=\"%.64s\"> is malformed", v);
                break;
            }
            memcpy(name, s, n);
            name[n] = 0;
            if (!kokoro_voices_get(voices, name))
                rc = kk_fail(err, errlen, KOKORO_E_NOT_FOUND,
                             "<voice name=\"%.64s\">: no voice \"%s\"", v, name);
            s += n;
            s += strcspn(s, "+");
            if (*s == '+')
                s++;
        }
    }
    kk_doc_free(&doc);
    return rc;
}

static int speak_doc(speak_ctx *c, kokoro_text *t, const kk_doc *doc, const char *lang)
{
    const kokoro_speak_params *params = c->params;
    seg_plan *plan = calloc((size_t)doc->n_segs + 1, sizeof *plan);
    voice_cache vc = {0};
    int rc = plan ? KOKORO_OK : kk_fail(c->err, c->errlen, KOKORO_E_NOMEM, "out of memory");
    double est = 0;
    int said = 0;
    for (int i = 0; rc == KOKORO_OK && i < doc->n_segs; i++) {
        const kk_seg *g = &doc->segs[i];
        seg_plan *sp = &plan[i];
        sp->pack = c->pack;
        sp->lang = seg_lang(lang, g->voice);
        if (g->voice)
            rc = doc_voice(&vc, params->voices, g->voice, &sp->pack, c->err, c->errlen);
        const kk_lang *l = rc == KOKORO_OK ? kk_lang_find(sp->lang) : NULL;
        if (rc == KOKORO_OK && !l)
            rc = kk_fail(c->err, c->errlen, KOKORO_E_UNSUPPORTED,
                         "unsupported language \"%s\": use en-us, en-gb, es, fr, hi, it or pt-br",
                         sp->lang ? sp->lang : "(null)");
        sp->p.norm = params->norm;
        if (rc == KOKORO_OK && g->n_pieces)
            rc = kk_seg_phonemize(t, g, l, &sp->p, c->err, c->errlen);
        float speed = seg_speed(params, g);
        kokoro_chunk_opts co = {speed, params->quick_start && !said, params->max_frames};
        if (rc == KOKORO_OK && sp->p.ph.n &&
            (rc = kk_plan_chunks(&sp->p, &co, &sp->spans, &sp->n_spans)) != KOKORO_OK)
            kk_fail(c->err, c->errlen, rc, "out of memory");
        said += sp->n_spans;
        est += estimate_s(sp->spans, sp->n_spans, speed) + g->pause_after_ms / 1000.0;
    }
    if (rc == KOKORO_OK && said == 0)
        rc = kk_fail(c->err, c->errlen, KOKORO_E_ARG, "the text has nothing to say");
    est += params->budget_used_s;
    if (rc == KOKORO_OK && params->max_audio_s > 0 && est > params->max_audio_s)
        rc = kk_fail(c->err, c->errlen, KOKORO_E_TOO_LONG,
                     "the text gives at least %.0f s of audio with its pauses; the limit is %g s "
                     "of audio per request", est, params->max_audio_s);
    /* the last segment that speaks: no pause after it */
    int last = doc->n_segs - 1;
    while (last > 0 && plan && plan[last].n_spans == 0)
        last--;
    for (int i = 0; rc == KOKORO_OK && i <= last; i++) {
        const kk_seg *g = &doc->segs[i];
        seg_plan *sp = &plan[i];
        c->p = &sp->p;
        c->pack = sp->pack;
        c->volume = params->volume * g->volume;
        if (c->volume > 10.0f)
            c->volume = 10.0f;
        c->sp.speed = seg_speed(params, g);
        for (int k = 0; rc == KOKORO_OK && k < sp->n_spans; k++) {
            if (params->cancel && params->cancel(params->cancel_user)) {
                rc = kk_fail(c->err, c->errlen, KOKORO_E_CANCELLED, "cancelled");
                break;
            }
            kk_span s = sp->spans[k];
            int final = i == last && k + 1 == sp->n_spans;
            if (k + 1 == sp->n_spans && !final) {
                /* the segment goes on in the next: no silence of the model's at the join,
                 * only the pause the markup asked for */
                s.mid_sentence = 1;
                s.pause_after_ms = 0;
            }
            rc = speak_span(c, &s, final, 0);
        }
        if (rc == KOKORO_OK && i < last)
            rc = emit_pause(c, g->pause_after_ms);
    }
    for (int i = 0; plan && i < doc->n_segs; i++) {
        kk_phon_free(&plan[i].p);
        free(plan[i].spans);
    }
    free(plan);
    voice_cache_free(&vc);
    return rc;
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
    speak_ctx c = {.st = st, .params = params, .on_audio = on_audio, .user = user,
                   .err = err, .errlen = errlen, .pack = pack,
                   .src = {.text = text, .n = strlen(text)}};
    init_ctx(&c, params);

    kk_doc doc = {0};
    int rc = parse_markup(text, &doc, err, errlen);
    if (rc != 0) {
        c.src.markup = 1;
        if (rc == 1)
            rc = speak_doc(&c, t, &doc, lang);
        kk_doc_free(&doc);
        free(c.silence);
        return rc;
    }

    kk_phon p = {.norm = params->norm};
    kk_span *spans = NULL;
    int n_spans = 0;
    kokoro_chunk_opts co = {params->speed, params->quick_start, params->max_frames};
    rc = kk_text_plan(t, text, lang, &co, &p, &spans, &n_spans, err, errlen);
    if (rc == KOKORO_OK && n_spans == 0)
        rc = kk_fail(err, errlen, KOKORO_E_ARG, "the text has nothing to say");
    if (rc == KOKORO_OK && params->max_audio_s > 0) {
        /* refuse at once what is sure to exceed the budget, before any work */
        double est = params->budget_used_s + estimate_s(spans, n_spans, params->speed);
        if (est > params->max_audio_s)
            rc = kk_fail(err, errlen, KOKORO_E_TOO_LONG,
                         "the text gives at least %.0f s of audio at speed %g; the limit is %g s "
                         "of audio per request", est, (double)params->speed, params->max_audio_s);
    }
    c.p = &p;
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
