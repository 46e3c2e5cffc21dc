/* g2p_en.c - English words to phonemes: dictionary first, then inflections, acronyms, espeak-ng.
 *
 * Input is text that kk_normalize_en has already rewritten into words. Each word is looked up
 * as written, then in lower case; a word missing from the dictionaries but whose stem is there
 * (-s, -'s, -ed, -ing) gets the stem's pronunciation plus the suffix as the stem's last sound
 * requires; short all-capital words are spelled; anything else goes to espeak-ng. */
#include "core/utf8.h"
#include "text/espeak.h"
#include "text/g2p.h"
#include "text/normalize_en.h"
#include "text/vocab.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_WORD 64 /* longer runs of letters are read in pieces of this many bytes */

typedef struct {
    const kk_lexicon *lx;
    const kk_lexicon *user; /* wins over lx; its phonemes may be standard IPA */
    int british;
    const char *voice;
    char prev[32]; /* previous word in lower case, for heteronym context */
    int past;      /* the sentence speaks of the past ("yesterday", "ago", "was") */
} g2p_ctx;

static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static int is_lower(char c) { return c >= 'a' && c <= 'z'; }

/* A letter of a word in English text: ASCII letters and the Latin blocks (accented names). */
static int is_word_cp(uint32_t cp)
{
    return (cp < 0x80 && (isalnum((int)cp) || cp == '\'')) || (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) ||
           (cp >= 0x1E00 && cp <= 0x1EFF);
}

/* Part of speech implied by the previous word: enough to choose the verb or noun reading of
 * the common heteronyms ("to record" vs "the record"). */
static const char *context_tag(const char *prev)
{
    static const char *const det[] = {"the", "a", "an", "my", "your", "his", "her", "its",
                                      "our", "their", "this", "that", "these", "those", "no",
                                      "every", "each", NULL};
    if (strcmp(prev, "to") == 0 || strcmp(prev, "will") == 0 || strcmp(prev, "i") == 0 ||
        strcmp(prev, "you") == 0 || strcmp(prev, "we") == 0 || strcmp(prev, "they") == 0 || strcmp(prev, "can") == 0 ||
        strcmp(prev, "would") == 0 || strcmp(prev, "could") == 0 || strcmp(prev, "should") == 0 ||
        strcmp(prev, "must") == 0 || strcmp(prev, "might") == 0)
        return "VERB";
    for (int i = 0; det[i]; i++)
        if (strcmp(prev, det[i]) == 0)
            return "NOUN";
    /* "has read", "was read": the past participle where the dictionary has one */
    static const char *const aux[] = {"have", "has", "had", "was", "were", "been", "being",
                                      "having", NULL};
    for (int i = 0; aux[i]; i++)
        if (strcmp(prev, aux[i]) == 0)
            return "VBN";
    return NULL;
}

/* "read" (and "reread") is past tense after he/she/it, and after a subject in a sentence
 * that speaks of the past ("I read the book yesterday"); not after "to" or a modal. The
 * other words with a past-tense entry ("used", "wound") are not judged this way: their
 * past forms are other words' readings. */
static int past_read(const g2p_ctx *c, const char *w, size_t n, const char *tag)
{
    if (!((n == 4 && strncasecmp(w, "read", 4) == 0) || (n == 6 && strncasecmp(w, "reread", 6) == 0)))
        return 0;
    const char *p = c->prev;
    if (strcmp(p, "he") == 0 || strcmp(p, "she") == 0 || strcmp(p, "it") == 0)
        return 1;
    int subject = strcmp(p, "i") == 0 || strcmp(p, "you") == 0 || strcmp(p, "we") == 0 ||
                  strcmp(p, "they") == 0;
    return c->past && (subject || (!tag && p[0]));
}

static const char *lookup_cased(const g2p_ctx *c, const char *w, size_t n, const char *tag)
{
    const char *ph = kk_lexicon_get(c->lx, w, n, tag);
    if (ph || n >= MAX_WORD)
        return ph;
    char low[MAX_WORD];
    int changed = 0;
    for (size_t i = 0; i < n; i++) {
        low[i] = (char)tolower((unsigned char)w[i]);
        changed |= low[i] != w[i];
    }
    if (changed && (ph = kk_lexicon_get(c->lx, low, n, tag)))
        return ph;
    /* "PARIS" or "paris" -> "Paris" */
    if (is_lower(low[0]) || is_upper(w[0])) {
        low[0] = (char)toupper((unsigned char)low[0]);
        if ((ph = kk_lexicon_get(c->lx, low, n, tag)))
            return ph;
    }
    return NULL;
}

/* The last phoneme of a pronunciation, ignoring stress marks and length. */
static uint32_t last_sound(const char *ph)
{
    size_t n = strlen(ph);
    uint32_t last = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += (size_t)kk_utf8_next(ph + i, n - i, &cp);
        if (cp != 0x2C8 && cp != 0x2CC && cp != 0x2D0)
            last = cp;
    }
    return last;
}

static int in_set(uint32_t cp, const char *set)
{
    char tmp[5];
    int l = kk_utf8_put(cp, tmp);
    tmp[l] = 0;
    return cp && strstr(set, tmp) != NULL;
}

static const char *suffix_s(const g2p_ctx *c, const char *stem)
{
    uint32_t s = last_sound(stem);
    if (in_set(s, "szʃʒʧʤ"))
        return c->british ? "ɪz" : "ᵻz";
    return in_set(s, "ptkfθ") ? "s" : "z";
}

static const char *suffix_ed(const g2p_ctx *c, const char *stem)
{
    uint32_t s = last_sound(stem);
    if (in_set(s, "tdT"))
        return c->british ? "ɪd" : "ᵻd";
    return in_set(s, "pkfθsʃʧ") ? "t" : "d";
}

/* Tries the stem of an inflected word; on success appends stem + suffix to out. */
static int try_inflection(const g2p_ctx *c, const char *w, size_t n, kk_buf *out, int *found)
{
    char low[MAX_WORD + 2];
    *found = 0;
    if (n < 3 || n >= MAX_WORD)
        return 0;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)w[i]);
    low[n] = 0;
    const char *stem = NULL, *suffix = NULL;
    char cand[MAX_WORD + 2];
#define TRY(len, extra)                                                                        \
    do {                                                                                       \
        size_t l_ = (len);                                                                     \
        memcpy(cand, w, l_);                                                                   \
        strcpy(cand + l_, extra);                                                              \
        if (!stem)                                                                             \
            stem = lookup_cased(c, cand, strlen(cand), NULL);                                  \
    } while (0)

    if (n > 2 && (strcmp(low + n - 2, "'s") == 0)) {
        TRY(n - 2, "");
        if (stem)
            suffix = suffix_s(c, stem);
    } else if (low[n - 1] == '\'' ) {
        TRY(n - 1, "");
        suffix = "";
    } else if (strcmp(low + n - 3, "ies") == 0) {
        TRY(n - 3, "y");
        if (stem)
            suffix = "z";
    } else if (low[n - 1] == 's' && low[n - 2] != 's') {
        TRY(n - 1, "");
        if (!stem && low[n - 2] == 'e')
            TRY(n - 2, "");
        if (stem)
            suffix = suffix_s(c, stem);
    } else if (strcmp(low + n - 2, "ed") == 0) {
        if (strcmp(low + n - 3, "ied") == 0)
            TRY(n - 3, "y");
        TRY(n - 2, "");
        TRY(n - 1, "");
        if (n > 4 && low[n - 3] == low[n - 4])
            TRY(n - 3, "");
        if (stem)
            suffix = suffix_ed(c, stem);
    } else if (n > 4 && strcmp(low + n - 3, "ing") == 0) {
        TRY(n - 3, "");
        TRY(n - 3, "e");
        if (n > 5 && low[n - 4] == low[n - 5])
            TRY(n - 4, "");
        if (stem)
            suffix = "ɪŋ";
    }
#undef TRY
    if (!stem || !suffix)
        return 0;
    *found = 1;
    if (kk_buf_puts(out, stem) < 0 || kk_buf_puts(out, suffix) < 0)
        return -1;
    return 0;
}

/* Spells a short all-capital word ("FBI"): letter names, the last one stressed. */
static int spell(const g2p_ctx *c, const char *w, size_t n, kk_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        char up = (char)toupper((unsigned char)w[i]);
        const char *ph = kk_lexicon_get(c->lx, &up, 1, NULL);
        if (!ph)
            continue;
        size_t start = out->n;
        if (kk_buf_puts(out, ph) < 0)
            return -1;
        if (i + 1 < n) { /* primary stress only on the last letter */
            char *m = strstr(out->p + start, "ˈ");
            if (m)
                memcpy(m, "ˌ", strlen("ˌ"));
        }
    }
    return 0;
}

/* Initialisms that are also ordinary words in lower case: in capitals they are spelled.
 * Other all-capital words the dictionary knows are read as words ("THE END"). */
static int is_initialism_word(const char *w, size_t n)
{
    static const char *const list[] = {"US", "UN", "WHO", "AI", "ID", "PR", "IQ", "ER", "PC",
                                       "TV", "IT", "AM", "PM", "OS", "AD", "ET", "GP", "HR",
                                       "PA", "MD", "CV", "DJ", "RIP", "CAT", "MS", NULL};
    for (int i = 0; list[i]; i++)
        if (strlen(list[i]) == n && memcmp(list[i], w, n) == 0)
            return 1;
    return 0;
}

static int is_acronym(const char *w, size_t n)
{
    if (n < 2 || n > 5)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_upper(w[i]))
            return 0;
    return 1;
}

/* Appends the phonemes of one word part (no hyphens) to out. */
static int word_part(g2p_ctx *c, const char *w, size_t n, kk_buf *out)
{
    if (n == 0)
        return KOKORO_OK;
    if (c->user && n < MAX_WORD) {
        const char *u = kk_lexicon_get(c->user, w, n, NULL);
        char low[MAX_WORD];
        for (size_t i = 0; !u && i < n; i++)
            low[i] = (char)tolower((unsigned char)w[i]);
        if (!u)
            u = kk_lexicon_get(c->user, low, n, NULL);
        if (u)
            return kk_user_ipa(u, strlen(u), out) < 0 ? KOKORO_E_NOMEM : KOKORO_OK;
    }
    const char *tag = context_tag(c->prev);
    if (past_read(c, w, n, tag))
        tag = "VBD";
    const char *ph = n < MAX_WORD ? lookup_cased(c, w, n, tag) : NULL;
    /* "US" is the country, not "us"; "NASA" is in the dictionary as written. */
    if (ph && is_acronym(w, n) && is_initialism_word(w, n) && !kk_lexicon_get(c->lx, w, n, NULL))
        ph = NULL;
    if (ph)
        return kk_buf_puts(out, ph) < 0 ? KOKORO_E_NOMEM : KOKORO_OK;
    int found = 0;
    if (try_inflection(c, w, n, out, &found) < 0)
        return KOKORO_E_NOMEM;
    if (found)
        return KOKORO_OK;
    if (is_acronym(w, n))
        return spell(c, w, n, out) < 0 ? KOKORO_E_NOMEM : KOKORO_OK;
    /* espeak-ng, in bounded pieces so that a megabyte without spaces stays linear. */
    for (size_t i = 0; i < n;) {
        size_t len = n - i < MAX_WORD ? n - i : MAX_WORD;
        while (i + len < n && len > 1 && ((unsigned char)w[i + len] & 0xC0) == 0x80)
            len--; /* do not cut a UTF-8 sequence */
        if (i && kk_buf_putc(out, ' ') < 0)
            return KOKORO_E_NOMEM;
        int rc = kk_espeak_phonemes(c->voice, w + i, len, out);
        if (rc != KOKORO_OK)
            return rc;
        i += len;
    }
    return KOKORO_OK;
}

/* Punctuation the model reads (it is in the vocabulary); UTF-8 sequences. */
static int punct_kind(uint32_t cp)
{
    switch (cp) {
    case '(': case 0x201C: return 1; /* opening: attaches to the next word */
    case ';': case ':': case ',': case '.': case '!': case '?': case ')': case 0x201D:
    case 0x2026: return 2;           /* closing: attaches to the previous word */
    case 0x2014: return 3;           /* dash: spaced */
    case '"': return 4;              /* opening or closing by position */
    default: return 0;
    }
}

/* Function words whose reading depends on the next word ("the apple" vs "the pear"). They
 * are written with their phrase-final form first and rewritten once the next word is known. */
enum { FW_NONE, FW_THE, FW_A, FW_TO, FW_IN };

typedef struct {
    int kind;
    int a, b; /* its phonemes in the output */
    int word; /* its index in out->words */
} pending_word;

/* The reading of a function word on its own, or NULL for other words; sets *kind when the
 * next word may change it. */
static const char *function_word(const g2p_ctx *c, const char *w, size_t n, int *kind)
{
    *kind = FW_NONE;
#define IS(lit) (n == sizeof lit - 1 && memcmp(w, lit, n) == 0)
    if (IS("the") || IS("The") || IS("THE"))
        return *kind = FW_THE, "ðə";
    if (IS("a"))
        return "ɐ";
    if (IS("A")) /* the article, unless it is the letter ("Plan A", "A M") */
        return *kind = FW_A, "ˈA";
    if (IS("an") || IS("An"))
        return "ɐn";
    if (IS("to") || IS("To")) {
        *kind = FW_TO;
        const char *ph = kk_lexicon_get(c->lx, "to", 2, NULL);
        return ph ? ph : "tu";
    }
    if (IS("in") || IS("In"))
        return *kind = FW_IN, "ˈɪn";
    if (IS("I"))
        return "ˌI";
#undef IS
    return NULL;
}

static int starts_with_vowel(const char *ph)
{
    size_t n = strlen(ph);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += (size_t)kk_utf8_next(ph + i, n - i, &cp);
        if (cp == 0x2C8 || cp == 0x2CC)
            continue;
        return in_set(cp, "AIOQWYaeiouæɑɐɒɔəɛɜɪʊʌᵊᵻ");
    }
    return 0;
}

/* Rewrites the pending function word now that the next word (phonemes from next_ph, text
 * starting with next_text) follows it. Returns the change in length of the output. */
static int resolve_pending(kk_phon *out, pending_word *pw, int next_ph, const char *next_text)
{
    const char *v = NULL;
    int vowel = starts_with_vowel(out->ph.p + next_ph);
    switch (pw->kind) {
    case FW_THE: v = vowel ? "ði" : "ðə"; break;
    case FW_A: v = (next_text[0] >= 'a' && next_text[0] <= 'z') ? "ɐ" : NULL; break;
    case FW_TO: v = vowel ? "tʊ" : "tə"; break;
    case FW_IN: v = "ɪn"; break;
    default: break;
    }
    pw->kind = FW_NONE;
    if (!v)
        return 0;
    size_t old = (size_t)(pw->b - pw->a), nv = strlen(v), tail = out->ph.n - (size_t)pw->b;
    if (nv > old && kk_buf_put(&out->ph, v, nv - old) < 0) /* room to grow */
        return INT32_MIN;
    memmove(out->ph.p + pw->a + nv, out->ph.p + pw->b, tail);
    memcpy(out->ph.p + pw->a, v, nv);
    out->ph.n = (size_t)pw->a + nv + tail;
    out->ph.p[out->ph.n] = 0;
    int delta = (int)nv - (int)old;
    out->words[pw->word].ph_end += delta;
    return delta;
}

/* The input bytes the normalised bytes [a, b) were written for: the union of the spans of
 * the map that overlap them. */
static void source_of(const kk_srcmap *map, int a, int b, int *src_start, int *src_end)
{
    *src_start = *src_end = 0;
    if (!map || map->n == 0)
        return;
    int lo = 0, hi = map->n - 1; /* the last span starting at or before a */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (map->s[mid].out_pos <= a)
            lo = mid;
        else
            hi = mid - 1;
    }
    int s = -1, e = -1;
    for (int k = lo; k < map->n && (map->s[k].out_pos < b || k == lo); k++) {
        if (s < 0 || map->s[k].in_start < s)
            s = map->s[k].in_start;
        if (map->s[k].in_end > e)
            e = map->s[k].in_end;
    }
    if (s >= 0 && e > s)
        *src_start = s, *src_end = e;
}

/* Past-time words that make a sentence's "read" past tense ("I read it yesterday"). */
static int sentence_is_past(const char *s, size_t n)
{
    static const char *const PAST[] = {"yesterday", "ago", "last", "earlier", "previously",
                                       "formerly", "once", "was", "were", "had", "did",
                                       "then", NULL};
    if (n > 2000) /* a sentence longer than this is judged by its start */
        n = 2000;
    for (size_t i = 0; i < n;) {
        if (s[i] == '.' || s[i] == '!' || s[i] == '?')
            break;
        if (!isalpha((unsigned char)s[i])) {
            i++;
            continue;
        }
        size_t e = i;
        while (e < n && isalpha((unsigned char)s[e]))
            e++;
        for (int k = 0; PAST[k]; k++)
            if (strlen(PAST[k]) == e - i && strncasecmp(s + i, PAST[k], e - i) == 0)
                return 1;
        i = e;
    }
    return 0;
}

static int g2p_run(const kk_dicts *dicts, const char *norm, int british, kk_phon *out,
                   const kk_srcmap *map);

/* English text -> words and phonemes: normalised with out->norm, each word with the input
 * bytes it was read from (src_start, src_end). Appends to out. Returns KOKORO_OK,
 * KOKORO_E_NOMEM, or KOKORO_E_UNSUPPORTED (espeak-ng lacks the voice). */
static int en_phonemize(void *state, const kk_dicts *dicts, const kk_lang *lang, const char *text,
                        kk_phon *out, char *err, size_t errlen)
{
    (void)state, (void)err, (void)errlen;
    int british = lang->prefix == 'b';
    char *norm = NULL;
    kk_srcmap map = {0};
    int rc = kk_normalize_en_map(text, british, out->norm, &norm, &map);
    if (rc == KOKORO_OK)
        rc = g2p_run(dicts, norm, british, out, &map);
    free(norm);
    free(map.s);
    return rc;
}

const kk_g2p kk_g2p_english = {"english", NULL, NULL, en_phonemize};

static int g2p_run(const kk_dicts *dicts, const char *norm, int british, kk_phon *out,
                   const kk_srcmap *map)
{
    pending_word pw = {FW_NONE, 0, 0, 0};
    g2p_ctx c = {british ? dicts->gb : dicts->us, dicts->user, british, british ? "en" : "en-us", "", 0};
    size_t n = strlen(norm);
    c.past = sentence_is_past(norm, n);
    int space = 0;     /* whitespace seen since the last output */
    int open = 0;      /* last output was an opening mark: no space after it */
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int l = kk_utf8_next(norm + i, n - i, &cp);
        if (is_word_cp(cp) && cp != '\'') {
            /* a word: letters, digits, inner apostrophes and hyphens */
            size_t s = i, e = i;
            while (e < n) {
                uint32_t c2;
                int l2 = kk_utf8_next(norm + e, n - e, &c2);
                if (is_word_cp(c2) || (c2 == '-' && e + 1 < n && norm[e + 1] != '-' && e > s))
                    e += (size_t)l2;
                else
                    break;
            }
            while (e > s && (norm[e - 1] == '\'' || norm[e - 1] == '-'))
                e--;
            if (e < n && norm[e] == '\'' && e + 1 < n && norm[e - 1] == 's')
                e++; /* plural possessive "dogs'" */
            if (out->ph.n && !open && kk_buf_putc(&out->ph, ' ') < 0)
                return KOKORO_E_NOMEM;
            int start = (int)out->ph.n;
            int fw_kind;
            const char *fw = function_word(&c, norm + s, e - s, &fw_kind);
            if (fw && kk_buf_puts(&out->ph, fw) < 0)
                return KOKORO_E_NOMEM;
            for (size_t p = fw ? e : s; p < e;) {
                size_t q = p;
                while (q < e && norm[q] != '-')
                    q++;
                if (p > s && (int)out->ph.n > start && kk_buf_putc(&out->ph, ' ') < 0)
                    return KOKORO_E_NOMEM;
                int rc = word_part(&c, norm + p, q - p, &out->ph);
                if (rc != KOKORO_OK)
                    return rc;
                size_t pl = q - p < sizeof c.prev - 1 ? q - p : sizeof c.prev - 1;
                for (size_t k = 0; k < pl; k++)
                    c.prev[k] = (char)tolower((unsigned char)norm[p + k]);
                c.prev[pl] = 0;
                p = q < e ? q + 1 : q;
            }
            if (fw) {
                size_t pl = e - s < sizeof c.prev - 1 ? e - s : sizeof c.prev - 1;
                for (size_t k = 0; k < pl; k++)
                    c.prev[k] = (char)tolower((unsigned char)norm[s + k]);
                c.prev[pl] = 0;
            }
            if ((int)out->ph.n == start) { /* nothing pronounceable: drop the space too */
                kk_buf_rtrim(&out->ph);
            } else {
                if (pw.kind != FW_NONE) {
                    int d = resolve_pending(out, &pw, start, norm + s);
                    if (d == INT32_MIN)
                        return KOKORO_E_NOMEM;
                    start += d;
                }
                if (kk_phon_add_word(out, norm + s, e - s, start, (int)out->ph.n) < 0)
                    return KOKORO_E_NOMEM;
                kk_word *nw = &out->words[out->n_words - 1];
                source_of(map, (int)s, (int)e, &nw->src_start, &nw->src_end);
                if (fw && fw_kind != FW_NONE)
                    pw = (pending_word){fw_kind, start, (int)out->ph.n, out->n_words - 1};
            }
            open = (int)out->ph.n == 0;
            space = 0;
            i = e > i ? e : i + (size_t)l;
            continue;
        }
        int kind = punct_kind(cp);
        if (kind)
            pw.kind = FW_NONE; /* a phrase ends: the function word keeps its final form */
        if (kind == 4)
            kind = (space || out->ph.n == 0 || open) ? 1 : 2;
        if (kind == 1 || kind == 3) {
            if (out->ph.n && !open && kk_buf_putc(&out->ph, ' ') < 0)
                return KOKORO_E_NOMEM;
            if (kk_buf_put(&out->ph, norm + i, (size_t)l) < 0)
                return KOKORO_E_NOMEM;
            open = kind == 1;
            c.prev[0] = 0;
        } else if (kind == 2) {
            if (out->ph.n == 0 && cp != ')' && cp != 0x201D)
                ; /* a sentence cannot start with a full stop */
            else if (kk_buf_put(&out->ph, norm + i, (size_t)l) < 0)
                return KOKORO_E_NOMEM;
            open = 0;
            c.prev[0] = 0;
            if (cp == '.' || cp == '!' || cp == '?')
                c.past = sentence_is_past(norm + i + l, n - i - (size_t)l);
        }
        space = cp == ' ' || cp == '\n' || cp == '\t';
        i += (size_t)l;
    }
    return KOKORO_OK;
}
