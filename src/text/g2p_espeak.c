/* g2p_espeak.c - languages other than English: espeak-ng clause by clause, punctuation kept.
 *
 * espeak-ng reads numbers and abbreviations in its own language, so the text goes to it as
 * written. It drops punctuation, which the model uses for prosody, so the text is cut at
 * punctuation here, each piece phonemised, and the marks put back between the pieces. */
#include "core/utf8.h"
#include "text/espeak.h"
#include "text/g2p.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PIECE 400 /* bytes per espeak-ng call; longer clauses are cut at spaces */

/* Punctuation kept in the phonemes (all in the vocabulary); 0 for other code points. */
static int keep_punct(uint32_t cp)
{
    switch (cp) {
    case ';': case ':': case ',': case '.': case '!': case '?': case '(': case ')': case '"':
    case 0x2014: case 0x2026: case 0x201C: case 0x201D: case 0x964: case 0x965: case 0xAB:
    case 0xBB:
        return 1;
    default:
        return 0;
    }
}

/* What a character is to the espeak-ng voice of a language. espeak-ng switches language by
 * itself on characters of other scripts, and that internal switch is where its bugs live
 * (language not restored, a use-after-free found by fuzzing), so characters no voice here
 * reads are blanked, and Latin words inside Hindi go to the English voice explicitly. */
enum { CH_DROP, CH_SPACE, CH_NATIVE, CH_LATIN, CH_NEUTRAL };

static int classify(const kk_lang *lang, uint32_t cp)
{
    int latin_letter = (cp < 0x80 && ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')) ||
                       (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) ||
                       (cp >= 0x1E00 && cp <= 0x1EFF);
    if (cp == ' ' || cp == '\t' || cp == '\r')
        return CH_SPACE;
    if ((cp >= '0' && cp <= '9') || cp == '\'' || cp == 0x2019 || cp == '-')
        return CH_NEUTRAL;
    if (lang->prefix == 'h') {
        if (cp >= 0x900 && cp <= 0x97F)
            return CH_NATIVE;
        return latin_letter ? CH_LATIN : CH_SPACE;
    }
    if (latin_letter)
        return CH_NATIVE;
    if (cp < 0x80 && strchr("%$+=&@#", (int)cp))
        return CH_NEUTRAL;
    if (cp == 0x20AC || cp == 0xA3 || cp == 0xB0) /* € £ ° */
        return CH_NEUTRAL;
    return CH_SPACE;
}

/* Characters that end a piece without being spoken or kept. */
static int is_break(uint32_t cp)
{
    return cp == '\n' || cp == 0xA1 || cp == 0xBF || cp == 0x2013;
}

/* Whether the character before byte i of text is a space: ASCII, no-break (U+00A0) or narrow
 * no-break (U+202F), the spaces French puts before ? ! : ; */
static int space_before(const char *text, size_t i)
{
    const unsigned char *t = (const unsigned char *)text;
    return (i >= 1 && (t[i - 1] == ' ' || t[i - 1] == '\t')) ||
           (i >= 2 && t[i - 2] == 0xC2 && t[i - 1] == 0xA0) ||
           (i >= 3 && t[i - 3] == 0xE2 && t[i - 2] == 0x80 && t[i - 1] == 0xAF);
}

static int count_words(const char *s, size_t n)
{
    int words = 0, in = 0;
    for (size_t i = 0; i < n; i++) {
        int sp = s[i] == ' ';
        if (!sp && !in)
            words++;
        in = !sp;
    }
    return words;
}

/* Phonemises one clean piece (no punctuation) and records its words. after_mark: the output
 * ends with a punctuation mark, which the piece follows with a space only if the text has one
 * there ("7:30" stays joined, as in the original pipeline). */
static int piece(const char *voice, const char *s, size_t n, int after_mark, kk_phon *out)
{
    int lead = n && s[0] == ' ';
    while (n && s[0] == ' ')
        s++, n--;
    while (n && s[n - 1] == ' ')
        n--;
    if (!n)
        return KOKORO_OK;
    if (out->ph.n && out->ph.p[out->ph.n - 1] != ' ' && (lead || !after_mark) &&
        kk_buf_putc(&out->ph, ' ') < 0)
        return KOKORO_E_NOMEM;
    size_t start = out->ph.n;
    int rc = kk_espeak_phonemes(voice, s, n, &out->ph);
    if (rc != KOKORO_OK)
        return rc;
    if (out->ph.n == start) {
        kk_buf_rtrim(&out->ph);
        return KOKORO_OK;
    }
    /* words line up with espeak-ng's output when both have the same count; otherwise the
     * piece is one timing unit */
    int nw = count_words(s, n);
    if (nw > 1 && nw == count_words(out->ph.p + start, out->ph.n - start)) {
        size_t a = 0, b = start;
        for (int w = 0; w < nw; w++) {
            while (s[a] == ' ')
                a++;
            size_t ae = a;
            while (ae < n && s[ae] != ' ')
                ae++;
            while (out->ph.p[b] == ' ')
                b++;
            size_t be = b;
            while (be < out->ph.n && out->ph.p[be] != ' ')
                be++;
            if (kk_phon_add_word(out, s + a, ae - a, (int)b, (int)be) < 0)
                return KOKORO_E_NOMEM;
            a = ae, b = be;
        }
        return KOKORO_OK;
    }
    return kk_phon_add_word(out, s, n, (int)start, (int)out->ph.n) < 0 ? KOKORO_E_NOMEM
                                                                       : KOKORO_OK;
}

/* Appends the phonemes of text to out. Returns KOKORO_OK, KOKORO_E_NOMEM or
 * KOKORO_E_UNSUPPORTED (espeak-ng lacks the voice). */
static int espeak_phonemize(void *state, const kk_dicts *d, const kk_lang *lang,
                            const char *text, kk_phon *out, char *err, size_t errlen)
{
    (void)state, (void)d, (void)err, (void)errlen;
    size_t n = strlen(text);
    kk_buf cur = {0};     /* the clean text of the current piece */
    int script = CH_NATIVE; /* CH_LATIN: the piece goes to the English voice (Hindi only) */
    int letters = 0;      /* the piece holds letters of that script */
    int after_mark = 0;   /* the output ends with a punctuation mark */
    int rc = KOKORO_OK;
    size_t i = 0;
    while (rc == KOKORO_OK) {
        uint32_t cp = 0;
        int end = i >= n;
        int l = end ? 0 : kk_utf8_next(text + i, n - i, &cp);
        int cls = end ? CH_DROP : classify(lang, cp);
        int punct = !end && keep_punct(cp), brk = !end && is_break(cp);
        int other_script = (cls == CH_NATIVE || cls == CH_LATIN) && cls != script && letters;
        if (end || punct || brk || other_script || cur.n >= MAX_PIECE) {
            size_t cut = cur.n;
            if (!end && !punct && !brk && !other_script) {
                /* a long clause is cut at its last space, a long word anywhere */
                while (cut > 0 && cur.p[cut - 1] != ' ')
                    cut--;
                if (cut == 0)
                    cut = cur.n;
            }
            size_t before = out->ph.n;
            int blank = 1; /* the piece is only spaces: they stay to separate what follows */
            for (size_t k = 0; k < cut; k++)
                blank &= cur.p[k] == ' ';
            rc = piece(script == CH_LATIN ? "en-us" : lang->voice, cur.p ? cur.p : "", cut,
                       after_mark, out);
            if (rc != KOKORO_OK)
                break;
            if (out->ph.n != before)
                after_mark = 0;
            if (blank && cut)
                cut--;
            size_t rest = cur.n - cut;
            if (cur.p) {
                memmove(cur.p, cur.p + cut, rest);
                cur.p[rest] = 0;
            }
            cur.n = rest;
            letters = rest > 0 && !blank;
            if (end)
                break;
            if (punct) {
                int opening = cp == '(' || cp == 0x201C || cp == 0xAB ||
                              (cp == '"' && (i == 0 || text[i - 1] == ' '));
                const char *mark = text + i;
                size_t ml = (size_t)l;
                if (cp == 0x964 || cp == 0x965) /* Devanagari danda: a full stop */
                    mark = ".", ml = 1;
                else if (cp == 0xAB || cp == 0xBB) /* guillemets: curly quotes */
                    mark = cp == 0xAB ? "\u201C" : "\u201D", ml = 3;
                /* the spaces around a mark follow the text, as in the original pipeline
                 * (French writes "plaît ?") */
                if (!opening && out->ph.n == 0)
                    ; /* nothing to attach a closing mark to */
                else if (out->ph.n && out->ph.p[out->ph.n - 1] != ' ' && space_before(text, i) &&
                         kk_buf_putc(&out->ph, ' ') < 0)
                    rc = KOKORO_E_NOMEM;
                else if (kk_buf_put(&out->ph, mark, ml) < 0)
                    rc = KOKORO_E_NOMEM;
                else
                    after_mark = 1;
                i += (size_t)l;
                continue;
            }
            if (brk) {
                i += (size_t)l;
                continue;
            }
        }
        if (cls == CH_NATIVE || cls == CH_LATIN) {
            script = cls;
            letters = 1;
        }
        int dash = cp == '-' && cur.n &&
                   (cur.p[cur.n - 1] == '-' || (cur.n > 1 && cur.p[cur.n - 1] == ' ' &&
                                                cur.p[cur.n - 2] == '-'));
        if (dash) /* a run of hyphens is a dash: one stays, the rest are spaces (a dash has
                   * no sound). The crash three hyphens before Devanagari caused is guarded
                   * where espeak-ng is called (guard_text in espeak.c), for every caller. */
            rc = kk_buf_putc(&cur, ' ') < 0 ? KOKORO_E_NOMEM : KOKORO_OK;
        else if (cls == CH_NATIVE || cls == CH_LATIN || cls == CH_NEUTRAL)
            rc = kk_buf_put(&cur, text + i, (size_t)l) < 0 ? KOKORO_E_NOMEM : KOKORO_OK;
        else /* spaces, control characters, invalid bytes, other scripts, symbols */
            rc = kk_buf_putc(&cur, ' ') < 0 ? KOKORO_E_NOMEM : KOKORO_OK;
        i += (size_t)l;
    }
    kk_buf_free(&cur);
    return rc;
}

const kk_g2p kk_g2p_espeak_ng = {"espeak-ng", NULL, NULL, espeak_phonemize};
