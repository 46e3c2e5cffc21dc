/* captions.c - SubRip and WebVTT captions from word timings: words grouped into cues people
 * can read (at most 2 lines of KOKORO_CAPTION_LINE characters, a cue per sentence or less,
 * breaks at punctuation), shown as the input wrote them, with times that never go back. */
#include "core/buf.h"
#include "core/utf8.h"
#include "core/util.h"
#include "text/text_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 2
#define PAUSE_BREAK_S 1.0 /* a silence this long between words starts a new cue */

/* A word as shown: its text (owned), times, and the punctuation it ends with. */
typedef struct {
    char *text;
    int chars; /* code points */
    double start_s, end_s;
    int sentence_end, clause_end;
} token;

typedef struct {
    token *t;
    int n, cap;
} token_list;

static int chars_of(const char *s, size_t n) { return (int)kk_utf8_count(s, n); }

/* Byte length of the closing punctuation at s (0 when none): . , ; : ! ? " ' ) ] and the
 * typographic closers … ” ’ » — */
static size_t closing_at(const char *s, size_t n)
{
    static const char *const MB[] = {"\xe2\x80\xa6", "\xe2\x80\x9d", "\xe2\x80\x99",
                                     "\xc2\xbb", "\xe2\x80\x94", NULL};
    if (n && strchr(".,;:!?\")]'", s[0]) && s[0])
        return 1;
    for (int k = 0; MB[k]; k++) {
        size_t l = strlen(MB[k]);
        if (n >= l && memcmp(s, MB[k], l) == 0)
            return l;
    }
    return 0;
}

/* Byte length of the opening punctuation that ends at s + n (0 when none): " ' ( [ “ ‘ « */
static size_t opening_before(const char *s, size_t n)
{
    static const char *const MB[] = {"\xe2\x80\x9c", "\xe2\x80\x98", "\xc2\xab", NULL};
    if (n && strchr("\"'([", s[n - 1]) && s[n - 1])
        return 1;
    for (int k = 0; MB[k]; k++) {
        size_t l = strlen(MB[k]);
        if (n >= l && memcmp(s + n - l, MB[k], l) == 0)
            return l;
    }
    return 0;
}

static int ends_with(const char *s, size_t n, const char *set, int ellipsis)
{
    /* look through closing quotes and brackets: 'said "no."' ends a sentence */
    while (n && (s[n - 1] == '"' || s[n - 1] == ')' || s[n - 1] == '\'' || s[n - 1] == ']'))
        n--;
    while (n >= 3 && (memcmp(s + n - 3, "\xe2\x80\x9d", 3) == 0 ||
                      memcmp(s + n - 3, "\xe2\x80\x99", 3) == 0))
        n -= 3;
    if (n && strchr(set, s[n - 1]) && s[n - 1])
        return 1;
    return ellipsis && n >= 3 && memcmp(s + n - 3, "\xe2\x80\xa6", 3) == 0;
}

/* A word whose full stop does not end a sentence: a title or an initial ("Dr.", "J."). */
static int abbreviation(const char *s, size_t n)
{
    static const char *const ABBR[] = {"Mr.", "Mrs.", "Ms.", "Dr.", "St.", "Prof.", "Jr.", "Sr.",
                                       "vs.", "etc.", "e.g.", "i.e.", "No.", "Mt.", "Gen.",
                                       "Gov.", "Sen.", "Capt.", "Lt.", "Col.", "Sgt.", "Rev.",
                                       NULL};
    if (n == 2 && s[1] == '.' && s[0] >= 'A' && s[0] <= 'Z')
        return 1;
    for (int k = 0; ABBR[k]; k++)
        if (strlen(ABBR[k]) == n && strncmp(s, ABBR[k], n) == 0)
            return 1;
    return 0;
}

static int blank(unsigned char c) { return c <= 0x20 || c == 0x7F; }

/* Gives t its text (owned): line breaks, tabs and control characters become single spaces,
 * and its length and punctuation are worked out again. */
static void set_text(token *t, char *text)
{
    char *w = text;
    for (const char *r = text; *r; r++)
        if (!blank((unsigned char)*r))
            *w++ = *r;
        else if (w > text && w[-1] != ' ')
            *w++ = ' ';
    while (w > text && w[-1] == ' ')
        w--;
    *w = 0;
    size_t n = (size_t)(w - text);
    t->text = text;
    t->chars = chars_of(text, n);
    t->sentence_end = ends_with(text, n, ".!?", 1) && !abbreviation(text, n);
    t->clause_end = ends_with(text, n, ",;:", 0) ||
                    (n >= 3 && memcmp(text + n - 3, "\xe2\x80\x94", 3) == 0);
}

static int push(token_list *l, char *text, double a, double b)
{
    token *grown = kk_grow(l->t, l->n + 1, &l->cap, sizeof *grown, 64);
    if (!grown)
        return -1;
    l->t = grown;
    token *t = &l->t[l->n++];
    t->start_s = a, t->end_s = b;
    set_text(t, text);
    if (!t->chars) { /* only blanks: nothing to show */
        free(text);
        l->n--;
    }
    return 0;
}

/* Adds one word, cut into pieces of at most KOKORO_CAPTION_LINE characters when longer (a URL),
 * its time shared out by length. */
static int add_word(token_list *l, const char *s, size_t n, double a, double b)
{
    int total = chars_of(s, n);
    if (total <= KOKORO_CAPTION_LINE) {
        char *t = strndup(s, n);
        return t && push(l, t, a, b) == 0 ? 0 : (free(t), -1);
    }
    int done = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        int c = 0;
        for (uint32_t cp; j < n && c < KOKORO_CAPTION_LINE; c++)
            j += (size_t)kk_utf8_next(s + j, n - j, &cp);
        c = chars_of(s + i, j - i);
        double ta = a + (b - a) * done / total, tb = a + (b - a) * (done + c) / total;
        char *t = strndup(s + i, j - i);
        if (!t || push(l, t, ta, tb) < 0) {
            free(t);
            return -1;
        }
        done += c;
        i = j;
    }
    return 0;
}

/* The text of [a, b) without its blanks at the ends, as a token of no duration at `at` (none
 * when it is all blank). */
static int standalone(token_list *l, const char *text, long a, long b, double at)
{
    while (a < b && blank((unsigned char)text[a]))
        a++;
    while (b > a && blank((unsigned char)text[b - 1]))
        b--;
    return b > a ? add_word(l, text + a, (size_t)(b - a), at, at) : 0;
}

/* The words as shown: the input's bytes or what was read when they are not known. In plain
 * text everything not blank is shown: what touches a word with it, what stands alone with the
 * word before it. In marked-up text (SSML, [pause:], [word](/ph/)) only the punctuation that
 * clings to a word is, so that no tag shows. A written word split over two entries (a word
 * cut between chunks) is shown once. */
static int make_tokens(const kokoro_word_time *w, int n, const char *text, token_list *l)
{
    size_t tn = text ? strlen(text) : 0;
    long prev_end = 0;
    int plain = text && !kk_is_ssml(text) && !strstr(text, "[pause:") && !strstr(text, "](/");
    for (int i = 0; i < n; i++) {
        long s = w[i].src_start, e = w[i].src_end;
        int known = text && w[i].written && s >= 0 && e > s && (size_t)e <= tn;
        if (known && i && l->n && w[i - 1].src_start == s && w[i - 1].src_end == e) {
            l->t[l->n - 1].end_s = w[i].end_s;
            continue;
        }
        if (!known) {
            const char *t = w[i].written ? w[i].written : w[i].word ? w[i].word : "";
            if (*t && add_word(l, t, strlen(t), w[i].start_s, w[i].end_s) < 0)
                return -1;
            continue;
        }
        long next = i + 1 < n && w[i + 1].src_start > e ? w[i + 1].src_start : (long)tn;
        size_t k;
        if (plain) {
            while (s > prev_end && !blank((unsigned char)text[s - 1]))
                s--;
            while (e < next && !blank((unsigned char)text[e]))
                e++;
            /* what stands alone between the two words ("a — b"), at the end of the one before */
            double at = l->n ? l->t[l->n - 1].end_s : w[i].start_s;
            if (standalone(l, text, prev_end, s, at) < 0)
                return -1;
        } else {
            while (s > prev_end && (k = opening_before(text, (size_t)s)) > 0 &&
                   s - (long)k >= prev_end)
                s -= (long)k;
            while (e < next && (k = closing_at(text + e, (size_t)(next - e))) > 0)
                e += (long)k;
            /* the punctuation after the end tags of a rewritten word's element clings to it
             * too: <sub alias="..">WWW</sub>. shows "WWW." */
            long p = e, q;
            while (p + 1 < next && text[p] == '<' && text[p + 1] == '/' &&
                   (q = (long)strcspn(text + p, ">")) < next - p)
                p += q + 1;
            long pe = p;
            while (p > e && pe < next && (k = closing_at(text + pe, (size_t)(next - pe))) > 0)
                pe += (long)k;
            if (pe > p) {
                size_t wl = (size_t)(e - s), pl = (size_t)(pe - p);
                char *j = malloc(wl + pl);
                if (!j)
                    return -1;
                memcpy(j, text + s, wl);
                memcpy(j + wl, text + p, pl);
                int rc = add_word(l, j, wl + pl, w[i].start_s, w[i].end_s);
                free(j);
                if (rc < 0)
                    return -1;
                prev_end = pe;
                continue;
            }
        }
        prev_end = e;
        if (add_word(l, text + s, (size_t)(e - s), w[i].start_s, w[i].end_s) < 0)
            return -1;
    }
    if (plain && prev_end > 0 && l->n && /* what follows the last word */
        standalone(l, text, prev_end, (long)tn, l->t[l->n - 1].end_s) < 0)
        return -1;
    return 0;
}

/* Chinese and Japanese are written without spaces between words: CJK punctuation, kana,
 * Han (with the extensions past U+FFFF) and full-width forms. */
static int is_cjk(unsigned cp)
{
    return (cp >= 0x3000 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0xFF00 && cp <= 0xFFEF) || (cp >= 0x20000 && cp <= 0x3134F);
}

/* The code point that starts at s (0 for an empty string, U+FFFD for a malformed start). */
static unsigned first_cp(const char *s)
{
    uint32_t cp;
    kk_utf8_next(s, strlen(s), &cp);
    return cp;
}

/* The last code point of s. */
static unsigned last_cp(const char *s)
{
    size_t n = strlen(s);
    if (!n) return 0;
    size_t i = n - 1;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
    return first_cp(s + i);
}

/* Nonzero when tokens i-1 and i meet without a space (either side is CJK). */
static int tight(const token *t, int i)
{
    return is_cjk(last_cp(t[i - 1].text)) || is_cjk(first_cp(t[i].text));
}

/* Characters of tokens [a, b) on one line, spaces between (none where CJK meets). */
static int line_chars(const token *t, int a, int b)
{
    int c = 0;
    for (int i = a; i < b; i++)
        c += t[i].chars + (i > a && !tight(t, i));
    return c;
}

/* Where tokens [a, b) break into two lines (the index the second line starts at), b when
 * one line holds them, or -1 when two lines cannot. Prefers a break after punctuation, then
 * lines of even length. */
static int line_break(const token *t, int a, int b)
{
    if (line_chars(t, a, b) <= KOKORO_CAPTION_LINE)
        return b;
    int best = -1, best_score = 0;
    for (int k = a + 1; k < b; k++) {
        int l1 = line_chars(t, a, k), l2 = line_chars(t, k, b);
        if (l1 > KOKORO_CAPTION_LINE || l2 > KOKORO_CAPTION_LINE)
            continue;
        int score = abs(l1 - l2) - (t[k - 1].clause_end || t[k - 1].sentence_end ? 24 : 0);
        if (best < 0 || score < best_score)
            best = k, best_score = score;
    }
    return best;
}

static void put_time(kk_buf *b, long long ms, int vtt, int *oom)
{
    char s[32];
    snprintf(s, sizeof s, "%02lld:%02lld:%02lld%c%03lld", ms / 3600000, ms / 60000 % 60,
             ms / 1000 % 60, vtt ? '.' : ',', ms % 1000);
    *oom |= kk_buf_puts(b, s);
}

static void put_text(kk_buf *b, const char *s, int vtt, int *oom)
{
    for (; *s; s++) {
        const char *rep = !vtt ? NULL : *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;
        *oom |= rep ? kk_buf_puts(b, rep) : kk_buf_putc(b, *s);
    }
}

/* Writes the cue of tokens [a, b). */
static void put_cue(kk_buf *b, const token *t, int a, int b_, int number, long long *last_ms,
                    int vtt, int *oom)
{
    long long start = llround(t[a].start_s * 1000), end = llround(t[b_ - 1].end_s * 1000);
    if (start < *last_ms)
        start = *last_ms;
    if (end < start)
        end = start;
    *last_ms = end;
    char num[24];
    if (!vtt) {
        snprintf(num, sizeof num, "%d\n", number);
        *oom |= kk_buf_puts(b, num);
    }
    put_time(b, start, vtt, oom);
    *oom |= kk_buf_puts(b, " --> ");
    put_time(b, end, vtt, oom);
    *oom |= kk_buf_putc(b, '\n');
    int k = line_break(t, a, b_);
    for (int i = a; i < b_; i++) {
        if (i == k)
            *oom |= kk_buf_putc(b, '\n');
        else if (i > a && !tight(t, i))
            *oom |= kk_buf_putc(b, ' ');
        put_text(b, t[i].text, vtt, oom);
    }
    *oom |= kk_buf_puts(b, "\n\n");
}

int kokoro_captions(const kokoro_word_time *words, int n, const char *text, int vtt, char **out,
                    char *err, size_t errlen)
{
    if (!out || n < 0 || (n > 0 && !words))
        return kk_fail(err, errlen, KOKORO_E_ARG, "kokoro_captions: bad argument");
    *out = NULL;
    token_list l = {0};
    kk_buf b = {0};
    int oom = make_tokens(words, n, text, &l) < 0;
    oom |= kk_buf_puts(&b, vtt ? "WEBVTT\n\n" : "");
    long long last_ms = 0;
    int cues = 0, a = 0;
    for (int i = 0; !oom && i < l.n; i++) {
        /* tokens [a, i) are the cue so far; does token i still fit? */
        int gap = i > a && l.t[i].start_s - l.t[i - 1].end_s > PAUSE_BREAK_S;
        if (i > a && (gap || line_break(l.t, a, i + 1) < 0)) {
            int cut = i;
            /* the cue is full: end it at its last punctuation when that leaves both parts
             * something, else here */
            for (int k = i - 1; !gap && k > a; k--)
                if (l.t[k - 1].clause_end || l.t[k - 1].sentence_end) {
                    cut = k;
                    break;
                }
            put_cue(&b, l.t, a, cut, ++cues, &last_ms, vtt, &oom);
            a = cut;
            i--; /* token i is looked at again against the new cue */
            continue;
        }
        if (l.t[i].sentence_end) {
            put_cue(&b, l.t, a, i + 1, ++cues, &last_ms, vtt, &oom);
            a = i + 1;
        }
    }
    if (!oom && a < l.n)
        put_cue(&b, l.t, a, l.n, ++cues, &last_ms, vtt, &oom);
    for (int i = 0; i < l.n; i++)
        free(l.t[i].text);
    free(l.t);
    if (oom || kk_buf_put(&b, "", 0) < 0) {
        kk_buf_free(&b);
        return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    }
    *out = b.p;
    return KOKORO_OK;
}
