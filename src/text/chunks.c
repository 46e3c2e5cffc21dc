/* chunks.c - cutting phonemised text into pieces the model can take.
 *
 * The text is phonemised once, then cut between words: preferably after a sentence, else after
 * clause punctuation, else at a space (before a function word when one is near), else (one
 * enormous "word") anywhere. Two limits bound a piece: the model's 510 ids, and the frames
 * the engine may spend on one pass (KOKORO_MAX_FRAMES), converted to ids at the requested
 * speed with a generous frames-per-id figure, so that slow speech gets shorter pieces instead
 * of unbounded memory. The first piece is short so that a listener hears audio early: in the
 * normal plan its first sentence (or a clause of a long one); with quick_start, for streams,
 * a phrase of a few words cut at a clause or before a conjunction, after which pieces double
 * in size up to the usual length. Later pieces gather sentences up to a comfortable length,
 * since very long utterances gain nothing and delay the next audio. */
#include "core/util.h"
#include "text/text_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_SOFT 100   /* ids: aim of the first chunk */
#define FIRST_MIN 12     /* ids: a first chunk shorter than this is not worth cutting for */
#define NEXT_SOFT 180    /* ids: aim of later chunks (about 12 s of audio) */
#define QUICK_SOFT 16    /* ids: aim of a quick first piece (about 1 s of audio) */
#define QUICK_MIN 6      /* ids: a quick first piece is at least this long... */
#define QUICK_MAX 36     /* ...and at most this long */
#define PAUSE_SENTENCE_MS 200
#define PAUSE_CLAUSE_MS 80
/* Frames per id: about 2.4 on average (measured on the bench paragraph at speed 1); the
 * window uses a high figure so that a planned piece almost never exceeds the frame cap.
 * kokoro_speak splits the rare piece that still does. */
#define FRAMES_PER_ID_HIGH 3.2

enum { CUT_NONE, CUT_SPACE, CUT_CLAUSE, CUT_SENTENCE };

int kk_count_ids(const char *ph, int a, int b)
{
    int n = 0;
    for (int i = a; i < b;) {
        uint32_t cp;
        i += kk_utf8_next(ph + i, (size_t)(b - i), &cp);
        n += kk_vocab_id(cp) != 0;
    }
    return n;
}

kokoro_chunk_opts kokoro_chunk_defaults(void)
{
    kokoro_chunk_opts o = {.speed = 1.0f, .quick_start = 0, .max_frames = KOKORO_MAX_FRAMES};
    return o;
}

int kk_plan_window(const kokoro_chunk_opts *o)
{
    float speed = o && o->speed >= 0.25f && o->speed <= 4.0f ? o->speed : 1.0f;
    int frames = o && o->max_frames > 0 ? o->max_frames : KOKORO_MAX_FRAMES;
    double ids = frames * (double)speed / FRAMES_PER_ID_HIGH;
    if (ids > KOKORO_MAX_PHONEMES)
        return KOKORO_MAX_PHONEMES;
    return ids < 1 ? 1 : (int)ids;
}

/* Marks besides ASCII . ! ? , ; : ) that end a sentence or a clause: the ellipsis and dash, and
 * the CJK full-width marks (。！？ and ，、；：) for front ends that keep them. */
static const char *const SENTENCE_MARKS[] = {"…", "。", "！", "？", NULL};
static const char *const CLAUSE_MARKS[] = {"—", "，", "、", "；", "：", NULL};

static int mark_at(const char *s, const char *const *marks)
{
    for (const char *const *m = marks; *m; m++)
        if (strncmp(s, *m, strlen(*m)) == 0)
            return 1;
    return 0;
}

/* The kind of boundary formed by the gap ph[a..b) between two words, and where to cut it: the
 * marks before its first space close the left chunk, the rest opens the right one. */
static int gap_kind(const char *ph, int a, int b, int *cut)
{
    int kind = CUT_SPACE;
    *cut = b;
    for (int i = a; i < b; i++) {
        if (ph[i] == ' ') {
            if (*cut == b)
                *cut = i;
            continue;
        }
        if (*cut != b)
            continue; /* opening marks of the next chunk */
        if (ph[i] == '.' || ph[i] == '!' || ph[i] == '?' || mark_at(ph + i, SENTENCE_MARKS))
            kind = CUT_SENTENCE;
        else if (kind < CUT_SENTENCE && (ph[i] == ',' || ph[i] == ';' || ph[i] == ':' ||
                                         ph[i] == ')' || mark_at(ph + i, CLAUSE_MARKS)))
            kind = CUT_CLAUSE;
    }
    return kind;
}

/* Words that open a phrase: cutting before them keeps a phrase whole ("...jumps | over the
 * dog"). English first, then the commonest of the other languages. */
static int opens_phrase(const char *w)
{
    static const char *const list[] = {
        "and", "but", "or", "so", "because", "while", "when", "where", "which", "who", "that",
        "if", "then", "than", "though", "although", "after", "before", "until", "since", "with",
        "without", "for", "to", "of", "in", "on", "at", "from", "into", "over", "under", "about",
        "as", "like", "through", "between", "against", "during", "y", "e", "o", "pero", "que",
        "porque", "con", "para", "et", "mais", "ou", "qui", "avec", "pour", "dans", "ma", "che",
        "perché", "mas", "com", "और", "लेकिन", NULL};
    if (!w)
        return 0;
    char low[16];
    size_t n = strlen(w);
    if (n == 0 || n >= sizeof low)
        return 0;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)w[i]);
    for (const char *const *l = list; *l; l++)
        if (strcmp(low, *l) == 0)
            return 1;
    return 0;
}

typedef struct {
    int cut;    /* byte offset where the left chunk ends */
    int next;   /* byte offset where the right chunk starts */
    int word;   /* index of the first word right of the cut */
    int kind;
    int ids;    /* ids from the chunk start to the cut */
    int phrase; /* the word right of the cut opens a phrase */
} cut_point;

/* Keeps c in *best when its distance d to the target is the smallest yet. */
static void nearer(int *best, int *best_d, int c, int d)
{
    if (*best < 0 || d < *best_d)
        *best = c, *best_d = d;
}

/* The cut that ends the piece starting at cuts[ci..nc) (those within the window), or -1. */
static int pick_cut(const cut_point *cuts, int ci, int nc, int first, int quick, int soft,
                    int window)
{
    int best_soft[4] = {-1, -1, -1, -1}, first_sentence = -1;
    int early = -1, near_clause = -1, near_space = -1, near_phrase = -1;
    int dc = 0, ds = 0, dp = 0, qc = -1, qs = -1, qp = -1, dqs = 0, dqp = 0;
    for (int c = ci; c < nc && cuts[c].ids <= window; c++) {
        int ids = cuts[c].ids, k = cuts[c].kind, d = abs(ids - soft);
        if (ids <= soft)
            best_soft[k] = c;
        if (k == CUT_SENTENCE && first_sentence < 0)
            first_sentence = c;
        if (first && early < 0 && k == CUT_SENTENCE && ids >= FIRST_MIN && ids <= soft)
            early = c;
        if (k == CUT_CLAUSE)
            nearer(&near_clause, &dc, c, d);
        if (k == CUT_SPACE)
            nearer(&near_space, &ds, c, d);
        if (k == CUT_SPACE && cuts[c].phrase)
            nearer(&near_phrase, &dp, c, d);
        if (quick && ids >= QUICK_MIN && ids <= QUICK_MAX) {
            int dq = abs(ids - QUICK_SOFT);
            if (k >= CUT_CLAUSE && qc < 0)
                qc = c; /* the first sentence or clause end of a quick length */
            if (k == CUT_SPACE && cuts[c].phrase)
                nearer(&qp, &dqp, c, dq);
            if (k == CUT_SPACE)
                nearer(&qs, &dqs, c, dq);
        }
    }
    if (quick) {
        /* a short sentence or clause whole; else before a phrase; else after a few words */
        if (qc >= 0)
            return qc;
        if (qp >= 0)
            return qp;
        if (qs >= 0)
            return qs;
    }
    if (early >= 0)
        return early;
    if (best_soft[CUT_SENTENCE] >= 0)
        return best_soft[CUT_SENTENCE];
    if (first && best_soft[CUT_CLAUSE] >= 0 && cuts[best_soft[CUT_CLAUSE]].ids >= FIRST_MIN)
        return best_soft[CUT_CLAUSE];
    if (first_sentence >= 0)
        return first_sentence;
    /* no sentence end in the window: a clause, else a space, near the soft target rather than
     * at the window's edge (unpunctuated text must not make window-sized pieces) */
    if (near_clause >= 0 && cuts[near_clause].ids >= soft / 3)
        return near_clause;
    if (near_phrase >= 0 && dp <= soft / 4)
        return near_phrase;
    if (near_space >= 0)
        return near_space;
    if (near_clause >= 0)
        return near_clause;
    return -1;
}

int kk_plan_chunks(const kk_phon *p, const kokoro_chunk_opts *opts, kk_span **spans,
                   int *n_spans)
{
    *spans = NULL;
    *n_spans = 0;
    const char *ph = p->ph.p ? p->ph.p : "";
    int len = (int)p->ph.n;
    int window = kk_plan_window(opts);
    int quick = opts && opts->quick_start;
    /* ids before each byte, so that any range is counted in O(1) */
    int *pre = malloc(((size_t)len + 1) * sizeof *pre);
    cut_point *cuts = malloc(((size_t)p->n_words + 1) * sizeof *cuts);
    kk_span *out = NULL;
    int n_out = 0, cap_out = 0;
    if (!pre || !cuts)
        goto oom;
    pre[0] = 0;
    for (int i = 0; i < len;) {
        uint32_t cp;
        int l = kk_utf8_next(ph + i, (size_t)(len - i), &cp);
        int id = kk_vocab_id(cp) != 0;
        for (int k = 1; k <= l && i + k <= len; k++)
            pre[i + k] = pre[i] + (k == l ? id : 0);
        i += l;
    }
    /* cut points between words, then the end */
    int nc = 0;
    for (int w = 0; w + 1 < p->n_words; w++) {
        int cut, a = p->words[w].ph_end, b = p->words[w + 1].ph_start;
        if (b < a)
            continue;
        int kind = gap_kind(ph, a, b, &cut);
        int next = cut;
        while (next < len && ph[next] == ' ')
            next++;
        cuts[nc++] = (cut_point){cut, next, w + 1, kind, 0, opens_phrase(p->words[w + 1].text)};
    }
    cuts[nc++] = (cut_point){len, len, p->n_words, CUT_SENTENCE, 0, 0};

    int start = 0, word = 0, ci = 0, grow = QUICK_SOFT;
    while (start < len) {
        while (start < len && ph[start] == ' ')
            start++;
        if (start >= len)
            break;
        int first = n_out == 0;
        int soft = first ? FIRST_SOFT : NEXT_SOFT;
        if (quick && !first) { /* pieces after a quick start double: 32, 64, 128, 180 ids */
            grow = grow * 2 < NEXT_SOFT ? grow * 2 : NEXT_SOFT;
            soft = grow;
        }
        if (soft > window)
            soft = window;
        while (ci < nc && cuts[ci].cut <= start)
            ci++;
        for (int c = ci; c < nc; c++) {
            cuts[c].ids = pre[cuts[c].cut] - pre[start];
            if (cuts[c].ids > window)
                break;
        }
        int pick = pick_cut(cuts, ci, nc, first, quick && first, soft, window);

        kk_span sp;
        int next;
        if (pick >= 0) {
            sp.ph_end = cuts[pick].cut;
            next = cuts[pick].next;
            sp.word_end = cuts[pick].word;
            sp.pause_after_ms = cuts[pick].kind == CUT_SENTENCE ? PAUSE_SENTENCE_MS
                                : cuts[pick].kind == CUT_CLAUSE ? PAUSE_CLAUSE_MS
                                                                : 0;
            if (cuts[pick].cut == len)
                sp.pause_after_ms = 0;
            sp.mid_sentence = cuts[pick].kind != CUT_SENTENCE;
            ci = pick + 1;
        } else {
            /* one word longer than the window: cut it at the window's edge */
            int e = start;
            while (e < len && pre[e] - pre[start] < window)
                e++;
            while (e < len && ((unsigned char)ph[e] & 0xC0) == 0x80)
                e++;
            if (pre[e] - pre[start] > window)
                do
                    e--;
                while (e > start && ((unsigned char)ph[e] & 0xC0) == 0x80);
            sp.ph_end = e;
            next = e;
            sp.word_end = word + 1 <= p->n_words ? word + 1 : word;
            /* later pieces of the same word still belong to it */
            if (e < len && word < p->n_words && p->words[word].ph_end > e)
                sp.word_end = word + 1;
            sp.pause_after_ms = 0;
            sp.mid_sentence = e < len;
        }
        sp.ph_start = start;
        while (sp.ph_end > start && ph[sp.ph_end - 1] == ' ')
            sp.ph_end--;
        sp.word_start = word;
        sp.n_ids = pre[sp.ph_end] - pre[start];
        if (sp.n_ids > 0 && sp.word_end > sp.word_start) { /* punctuation alone is not said */
            if (n_out == cap_out) {
                cap_out = cap_out ? cap_out * 2 : 16;
                kk_span *grown = realloc(out, (size_t)cap_out * sizeof *grown);
                if (!grown)
                    goto oom;
                out = grown;
            }
            out[n_out++] = sp;
        }
        /* words wholly before next are done */
        while (word < p->n_words && p->words[word].ph_end <= next)
            word++;
        if (next <= start)
            next = start + 1; /* cannot happen; guards the loop */
        start = next;
    }
    free(pre);
    free(cuts);
    *spans = out;
    *n_spans = n_out;
    return KOKORO_OK;
oom:
    free(pre);
    free(cuts);
    free(out);
    return KOKORO_E_NOMEM;
}

static char *join_words(const kk_phon *p, int a, int b)
{
    kk_buf t = {0};
    if (kk_buf_put(&t, "", 0) < 0)
        return NULL;
    for (int w = a; w < b; w++) {
        if ((w > a && kk_buf_putc(&t, ' ') < 0) || kk_buf_puts(&t, p->words[w].text) < 0) {
            kk_buf_free(&t);
            return NULL;
        }
    }
    return t.p;
}

void kokoro_chunks_free(kokoro_chunk *chunks, int n_chunks)
{
    if (!chunks)
        return;
    for (int i = 0; i < n_chunks; i++) {
        free(chunks[i].text);
        free(chunks[i].phonemes);
        free(chunks[i].ids);
    }
    free(chunks);
}

int kk_text_plan(kokoro_text *t, const char *text, const char *lang,
                 const kokoro_chunk_opts *opts, kk_phon *p, kk_span **spans, int *n_spans,
                 char *err, size_t errlen)
{
    const kk_lang *l = kk_lang_find(lang);
    if (!l)
        return kk_fail(err, errlen, KOKORO_E_UNSUPPORTED,
                       "unsupported language \"%s\": use en-us, en-gb, es, fr, hi, it or pt-br",
                       lang ? lang : "(null)");
    int rc = kk_phonemize_words(t, text, l, p, err, errlen);
    if (rc == KOKORO_OK && (rc = kk_plan_chunks(p, opts, spans, n_spans)) != KOKORO_OK)
        kk_fail(err, errlen, rc, "out of memory");
    return rc;
}

int kokoro_text_chunks(kokoro_text *t, const char *text, const char *lang,
                       const kokoro_chunk_opts *opts, kokoro_chunk **chunks, int *n_chunks,
                       char *err, size_t errlen)
{
    if (!t || !text || !chunks || !n_chunks)
        return kk_fail(err, errlen, KOKORO_E_ARG, "kokoro_text_chunks: NULL argument");
    *chunks = NULL;
    *n_chunks = 0;
    kk_phon p = {0};
    kk_span *spans = NULL;
    int n = 0;
    int rc = kk_text_plan(t, text, lang, opts, &p, &spans, &n, err, errlen);
    kokoro_chunk *c = NULL;
    if (rc == KOKORO_OK && n > 0 && !(c = calloc((size_t)n, sizeof *c)))
        rc = kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    int said = 0; /* words before this are in an earlier chunk's text */
    for (int i = 0; rc == KOKORO_OK && i < n; i++) {
        const kk_span *s = &spans[i];
        /* A word too long for one chunk is cut into several: its text goes with the first
         * piece only, so that a megabyte without spaces is not copied once per piece. */
        int from = s->word_start > said ? s->word_start : said;
        c[i].text = join_words(&p, from, s->word_end > from ? s->word_end : from);
        if (s->word_end > said)
            said = s->word_end;
        c[i].phonemes = strndup(p.ph.p + s->ph_start, (size_t)(s->ph_end - s->ph_start));
        c[i].ids = malloc((size_t)(s->n_ids > 0 ? s->n_ids : 1) * sizeof *c[i].ids);
        c[i].pause_after_ms = s->pause_after_ms;
        if (!c[i].text || !c[i].phonemes || !c[i].ids) {
            rc = kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
            n = i + 1;
            break;
        }
        c[i].n_ids = kokoro_tokenize(c[i].phonemes, c[i].ids, s->n_ids);
    }
    kk_phon_free(&p);
    free(spans);
    if (rc != KOKORO_OK) {
        kokoro_chunks_free(c, n);
        return rc;
    }
    *chunks = c;
    *n_chunks = n;
    return KOKORO_OK;
}
