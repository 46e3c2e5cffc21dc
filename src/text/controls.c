/* controls.c - marked-up text as segments: the segment list shared with SSML (ssml.c), the
 * plain-text controls [pause:1.5s] and [word](/phonemes/), user IPA, and phonemising a
 * segment's pieces into one utterance.
 *
 * Plain text with no control is not touched here: kokoro_speak then takes its usual path, so
 * that a control can only change what it marks. */
#include "core/buf.h"
#include "core/util.h"
#include "text/numbers.h"
#include "text/text_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INLINE_WORD 100 /* bytes of the word in [word](/phonemes/) */
#define MAX_INLINE_PH 400   /* bytes of its phonemes */

/* ------------------------------------------------------------ segment list */

static void seg_free(kk_seg *s)
{
    for (int i = 0; i < s->n_pieces; i++) {
        free(s->pieces[i].s);
        free(s->pieces[i].written);
    }
    free(s->pieces);
    free(s->voice);
}

void kk_doc_free(kk_doc *d)
{
    for (int i = 0; i < d->n_segs; i++)
        seg_free(&d->segs[i]);
    free(d->segs);
    memset(d, 0, sizeof *d);
}

kk_seg *kk_doc_open(kk_doc *d, float speed, float volume, const char *voice)
{
    if (d->n_segs > 0) {
        kk_seg *last = &d->segs[d->n_segs - 1];
        if (last->n_pieces == 0 && last->pause_after_ms == 0) { /* nothing yet: reuse it */
            char *v = voice ? strdup(voice) : NULL;
            if (voice && !v)
                return NULL;
            free(last->voice);
            last->voice = v;
            last->speed = speed;
            last->volume = volume;
            return last;
        }
    }
    kk_seg *g = kk_grow(d->segs, d->n_segs + 1, &d->cap_segs, sizeof *g, 8);
    if (!g)
        return NULL;
    d->segs = g;
    kk_seg *s = &d->segs[d->n_segs];
    memset(s, 0, sizeof *s);
    s->speed = speed;
    s->volume = volume;
    if (voice && !(s->voice = strdup(voice)))
        return NULL;
    d->n_segs++;
    return s;
}

void kk_doc_pause(kk_doc *d, int pause_ms)
{
    if (d->n_segs == 0 && !kk_doc_open(d, 1.0f, 1.0f, NULL))
        return;
    kk_seg *s = &d->segs[d->n_segs - 1];
    s->pause_after_ms += pause_ms;
}

int kk_doc_piece(kk_doc *d, int kind, const char *s, size_t n, const char *written, size_t wn)
{
    return kk_doc_piece_src(d, kind, s, n, written, wn, -1, -1);
}

int kk_doc_piece_src(kk_doc *d, int kind, const char *s, size_t n, const char *written,
                     size_t wn, long src_start, long src_end)
{
    if (d->n_segs == 0 && !kk_doc_open(d, 1.0f, 1.0f, NULL))
        return -1;
    kk_seg *g = &d->segs[d->n_segs - 1];
    if (g->pause_after_ms > 0) { /* a pause closes the segment: go on in a new one */
        if (!(g = kk_doc_open(d, g->speed, g->volume, g->voice)))
            return -1;
    }
    kk_piece *prev = g->n_pieces ? &g->pieces[g->n_pieces - 1] : NULL;
    if (kind == KK_PIECE_TEXT && src_start < 0 && prev && prev->kind == KK_PIECE_TEXT &&
        prev->src_start < 0) {
        size_t l = strlen(prev->s);
        char *m = realloc(prev->s, l + n + 1);
        if (!m)
            return -1;
        memcpy(m + l, s, n);
        m[l + n] = 0;
        prev->s = m;
        return 0;
    }
    /* whether the text before ends in a space: read now, since growing the array below may
     * move the piece prev points to */
    size_t pl = prev ? strlen(prev->s) : 0;
    int prev_space = prev && pl && isspace((unsigned char)prev->s[pl - 1]);
    int first = !prev;
    kk_piece *grown = kk_grow(g->pieces, g->n_pieces + 1, &g->cap_pieces, sizeof *grown, 4);
    if (!grown)
        return -1;
    g->pieces = grown;
    prev = NULL; /* may dangle after the realloc */
    kk_piece *p = &g->pieces[g->n_pieces];
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->s = strndup(s, n);
    p->written = written ? strndup(written, wn) : NULL;
    if (!p->s || (written && !p->written)) {
        free(p->s);
        free(p->written);
        return -1;
    }
    p->space_before = prev_space || (n && isspace((unsigned char)s[0])) || first;
    p->src_start = src_start < src_end ? src_start : -1;
    p->src_end = src_start < src_end ? src_end : -1;
    g->n_pieces++;
    return 0;
}

/* ------------------------------------------------------------ plain-text controls */

/* "1.5s", "500ms" at s (up to the closing bracket) -> milliseconds, or -1. */
static int parse_duration(const char *s, size_t n)
{
    char tmp[32];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *end;
    double v = strtod(tmp, &end);
    if (end == tmp || !(v >= 0))
        return -1;
    while (*end == ' ')
        end++;
    double ms;
    if (strcasecmp(end, "ms") == 0)
        ms = v;
    else if (strcasecmp(end, "s") == 0)
        ms = v * 1000.0;
    else
        return -1;
    return ms > 1e9 ? 1000000000 : (int)(ms + 0.5);
}

int kk_parse_duration_ms(const char *s, size_t n) { return parse_duration(s, n); }

/* A control at s: returns its length, or 0 when s is not one. Sets *pause_ms (>= 0) for a
 * pause, else the word (w, wn) and its phonemes (ph, pn) for an inline pronunciation. */
static size_t control_at(const char *s, int *pause_ms, const char **w, size_t *wn,
                         const char **ph, size_t *pn)
{
    *pause_ms = -1;
    if (s[0] != '[')
        return 0;
    if (strncasecmp(s, "[pause:", 7) == 0) {
        const char *e = strchr(s + 7, ']');
        if (!e || e - s > 40)
            return 0;
        const char *a = s + 7;
        while (*a == ' ')
            a++;
        int ms = parse_duration(a, (size_t)(e - a));
        if (ms < 0)
            return 0;
        *pause_ms = ms;
        return (size_t)(e - s) + 1;
    }
    const char *close = s + 1;
    while (*close && *close != ']' && *close != '[' && *close != '\n' &&
           close - s <= MAX_INLINE_WORD)
        close++;
    if (*close != ']' || close == s + 1 || strncmp(close, "](/", 3) != 0)
        return 0;
    const char *p0 = close + 3, *p1 = p0;
    while (*p1 && *p1 != '/' && *p1 != '\n' && p1 - p0 <= MAX_INLINE_PH)
        p1++;
    if (p1[0] != '/' || p1[1] != ')' || p1 == p0)
        return 0;
    *w = s + 1;
    *wn = (size_t)(close - s - 1);
    *ph = p0;
    *pn = (size_t)(p1 - p0);
    return (size_t)(p1 + 2 - s);
}

int kk_controls_parse(const char *text, kk_doc *out, char *err, size_t errlen)
{
    kk_doc d = {0};
    int found = 0;
    const char *run = text; /* plain text not yet added */
    for (const char *s = text; *s; s++) {
        int pause;
        const char *w = NULL, *ph = NULL;
        size_t wn = 0, pn = 0;
        size_t len = control_at(s, &pause, &w, &wn, &ph, &pn);
        if (!len)
            continue;
        if (pause > KK_MAX_BREAK_MS) {
            kk_doc_free(&d);
            return kk_fail(err, errlen, KOKORO_E_ARG,
                           "[pause:] at character %zu is %d ms; the most is %d ms per pause",
                           (size_t)(s - text), pause, KK_MAX_BREAK_MS);
        }
        found = 1;
        if ((s > run && kk_doc_piece(&d, KK_PIECE_TEXT, run, (size_t)(s - run), NULL, 0) < 0))
            goto oom;
        if (pause >= 0) {
            kk_doc_pause(&d, pause);
            if (d.n_segs == 0)
                goto oom;
        } else {
            kk_buf b = {0};
            if (kk_user_ipa(ph, pn, &b) < 0 || !b.p) {
                kk_buf_free(&b);
                goto oom;
            }
            int bad = kk_doc_piece(&d, KK_PIECE_PHON, b.p, b.n, w, wn);
            kk_buf_free(&b);
            if (bad)
                goto oom;
        }
        s += len - 1;
        run = s + 1;
    }
    if (!found)
        return 0;
    if (*run && kk_doc_piece(&d, KK_PIECE_TEXT, run, strlen(run), NULL, 0) < 0)
        goto oom;
    *out = d;
    return 1;
oom:
    kk_doc_free(&d);
    return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
}

/* ------------------------------------------------------------ a segment's utterance */

/* Appends tmp (its phonemes trimmed) to out, after a space when `space`. */
static int append_phon(kk_phon *out, const kk_phon *tmp, int space)
{
    const char *ph = tmp->ph.p ? tmp->ph.p : "";
    int n = (int)tmp->ph.n, lead = 0, end = n;
    while (lead < n && ph[lead] == ' ')
        lead++;
    while (end > lead && ph[end - 1] == ' ')
        end--;
    if (end <= lead)
        return 0;
    kk_buf_rtrim(&out->ph);
    if (space && out->ph.n && kk_buf_putc(&out->ph, ' ') < 0)
        return -1;
    for (int i = 0; i < out->n_words; i++)
        if (out->words[i].ph_end > (int)out->ph.n)
            out->words[i].ph_end = (int)out->ph.n;
    int base = (int)out->ph.n - lead;
    if (kk_buf_put(&out->ph, ph + lead, (size_t)(end - lead)) < 0)
        return -1;
    for (int i = 0; i < tmp->n_words; i++) {
        const kk_word *w = &tmp->words[i];
        int a = w->ph_start < lead ? lead : w->ph_start > end ? end : w->ph_start;
        int b = w->ph_end > end ? end : w->ph_end < a ? a : w->ph_end;
        if (kk_phon_add_word(out, w->text, strlen(w->text), a + base, b + base) < 0)
            return -1;
    }
    return 0;
}

/* Letters and digits one by one, by their names. */
static int spell_piece(kokoro_text *t, const char *s, const kk_lang *lang, kk_phon *tmp)
{
    static const char *const digits[] = {"zero", "one", "two", "three", "four",
                                         "five", "six", "seven", "eight", "nine"};
    int english = lang->prefix == 'a' || lang->prefix == 'b';
    const kk_lexicon *lx = lang->prefix == 'b' ? t->gb : t->us;
    for (const char *c = s; *c;) {
        uint32_t cp;
        int l = kk_utf8_next(c, strlen(c), &cp);
        const char *ph = NULL;
        char up = (char)toupper((unsigned char)*c);
        if (english && cp < 128 && isalpha((int)cp))
            ph = kk_lexicon_get(lx, &up, 1, NULL);
        else if (english && cp < 128 && isdigit((int)cp))
            ph = kk_lexicon_get(lx, digits[cp - '0'], strlen(digits[cp - '0']), NULL);
        if (ph) {
            if (tmp->ph.n && kk_buf_putc(&tmp->ph, ' ') < 0)
                return KOKORO_E_NOMEM;
            int a = (int)tmp->ph.n;
            if (kk_buf_puts(&tmp->ph, ph) < 0 ||
                kk_phon_add_word(tmp, c, (size_t)l, a, (int)tmp->ph.n) < 0)
                return KOKORO_E_NOMEM;
        } else if (!isspace((int)(cp < 128 ? cp : 'x'))) {
            /* no dictionary (other languages) or not a letter: espeak-ng says it alone */
            char word[8], e[8];
            memcpy(word, c, (size_t)l);
            word[l] = 0;
            kk_phon w = {0};
            int rc = kk_phonemize_words(t, word, lang, &w, e, sizeof e);
            if (rc == KOKORO_OK && append_phon(tmp, &w, 1) < 0)
                rc = KOKORO_E_NOMEM;
            kk_phon_free(&w);
            if (rc != KOKORO_OK)
                return rc;
        }
        c += l;
    }
    return KOKORO_OK;
}

int kk_seg_phonemize(kokoro_text *t, const kk_seg *s, const kk_lang *lang, kk_phon *out,
                     char *err, size_t errlen)
{
    int rc = KOKORO_OK;
    for (int i = 0; rc == KOKORO_OK && i < s->n_pieces; i++) {
        const kk_piece *pc = &s->pieces[i];
        kk_phon tmp = {0};
        tmp.norm = out->norm;
        int space = pc->space_before;
        if (pc->kind == KK_PIECE_TEXT) {
            /* punctuation that opens a piece closes the one before it ("[word](/ph/).");
             * the front end would drop it at the start of a text */
            const char *txt = pc->s;
            size_t np = strspn(txt, ".,;:!?");
            if (np && out->ph.n) {
                kk_buf_rtrim(&out->ph);
                for (int w = 0; w < out->n_words; w++)
                    if (out->words[w].ph_end > (int)out->ph.n)
                        out->words[w].ph_end = (int)out->ph.n;
                if (kk_buf_put(&out->ph, txt, np) < 0)
                    rc = kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
                txt += np;
                space = 1;
            }
            if (rc == KOKORO_OK)
                rc = kk_phonemize_words(t, txt, lang, &tmp, err, errlen);
        } else if (pc->kind == KK_PIECE_PHON) {
            const char *w = pc->written && *pc->written ? pc->written : pc->s;
            if (kk_buf_puts(&tmp.ph, pc->s) < 0 ||
                kk_phon_add_word(&tmp, w, strlen(w), 0, (int)tmp.ph.n) < 0)
                rc = kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
        } else {
            rc = spell_piece(t, pc->s, lang, &tmp);
            if (rc != KOKORO_OK)
                kk_fail(err, errlen, rc, "spelling failed: %s", kokoro_status_str(rc));
        }
        int first_word = out->n_words;
        if (rc == KOKORO_OK && append_phon(out, &tmp, space) < 0)
            rc = kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
        for (int w = first_word; rc == KOKORO_OK && pc->src_start >= 0 && w < out->n_words; w++) {
            /* the words read for a rewritten piece are written as the piece's source */
            out->words[w].src_start = (int)pc->src_start;
            out->words[w].src_end = (int)pc->src_end;
            out->words[w].src_input = 1;
        }
        kk_phon_free(&tmp);
    }
    if (rc == KOKORO_OK && kk_buf_put(&out->ph, "", 0) < 0)
        rc = kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    return rc;
}
