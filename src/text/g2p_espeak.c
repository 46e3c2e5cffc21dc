/* g2p_espeak.c - languages other than English: espeak-ng clause by clause, punctuation kept.
 *
 * espeak-ng reads numbers and abbreviations in its own language, so the text goes to it as
 * written. It drops punctuation, which the model uses for prosody, so the text is cut at
 * punctuation here, each piece phonemised, and the marks put back between the pieces. */
#include "text/text_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PIECE 400 /* bytes per espeak-ng call; longer clauses are cut at spaces */

/* Punctuation kept in the phonemes (all in the vocabulary); 0 for other code points. */
static int keep_punct(uint32_t cp)
{
    switch (cp) {
    case ';': case ':': case ',': case '.': case '!': case '?': case '(': case ')': case '"':
    case 0x2014: case 0x2026: case 0x201C: case 0x201D:
        return 1;
    default:
        return 0;
    }
}

/* Characters that end a piece without being spoken or kept. */
static int is_break(uint32_t cp)
{
    return cp == '\n' || cp == 0xA1 || cp == 0xBF || cp == 0xAB || cp == 0xBB || cp == 0x2013;
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

/* Phonemises one clean piece (no punctuation) and records its words. */
static int piece(const kk_lang *lang, const char *s, size_t n, kk_phon *out)
{
    while (n && s[0] == ' ')
        s++, n--;
    while (n && s[n - 1] == ' ')
        n--;
    if (!n)
        return KOKORO_OK;
    if (out->ph.n && out->ph.p[out->ph.n - 1] != '(' && out->ph.p[out->ph.n - 1] != ' ' &&
        kk_buf_putc(&out->ph, ' ') < 0)
        return KOKORO_E_NOMEM;
    size_t start = out->ph.n;
    int rc = kk_espeak_phonemes(lang->voice, s, n, &out->ph);
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

int kk_g2p_espeak(const kk_lang *lang, const char *text, kk_phon *out)
{
    size_t n = strlen(text);
    kk_buf cur = {0}; /* the clean text of the current piece */
    int rc = KOKORO_OK;
    for (size_t i = 0; i <= n && rc == KOKORO_OK;) {
        uint32_t cp = 0;
        int l = i < n ? kk_utf8_next(text + i, n - i, &cp) : 1;
        int end = i == n;
        if (end || keep_punct(cp) || is_break(cp) || cur.n >= MAX_PIECE) {
            /* a long clause is cut at its last space */
            size_t cut = cur.n;
            if (!end && !keep_punct(cp) && !is_break(cp)) {
                while (cut > 0 && cur.p[cut - 1] != ' ')
                    cut--;
                if (cut == 0) {
                    cut = cur.n;
                    while (cut > 0 && ((unsigned char)cur.p[cut] & 0xC0) == 0x80 && cut < cur.n)
                        cut--;
                }
            }
            rc = piece(lang, cur.p ? cur.p : "", cut, out);
            if (rc != KOKORO_OK)
                break;
            size_t rest = cur.n - cut;
            if (cur.p)
                memmove(cur.p, cur.p + cut, rest);
            cur.n = rest;
            if (cur.p)
                cur.p[rest] = 0;
            if (end)
                break;
            if (keep_punct(cp)) {
                int opening = cp == '(' || cp == 0x201C || (cp == '"' && (i == 0 || text[i - 1] == ' '));
                if (opening && out->ph.n && out->ph.p[out->ph.n - 1] != ' ' &&
                    kk_buf_putc(&out->ph, ' ') < 0)
                    rc = KOKORO_E_NOMEM;
                else if (!opening && out->ph.n == 0)
                    ; /* nothing to attach a closing mark to */
                else if (kk_buf_put(&out->ph, text + i, (size_t)l) < 0)
                    rc = KOKORO_E_NOMEM;
                i += (size_t)l;
                continue;
            }
            if (is_break(cp)) {
                i += (size_t)l;
                continue;
            }
        }
        /* control characters and invalid bytes become spaces */
        if (cp == 0xFFFD || cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0))
            rc = kk_buf_putc(&cur, ' ') < 0 ? KOKORO_E_NOMEM : KOKORO_OK;
        else
            rc = kk_buf_put(&cur, text + i, (size_t)l) < 0 ? KOKORO_E_NOMEM : KOKORO_OK;
        i += (size_t)l;
    }
    kk_buf_free(&cur);
    return rc;
}
