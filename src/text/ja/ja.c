/* ja.c - the Japanese front end: misaki 0.9.4's JAG2P cutlet path (Kokoro v1.0) in C.
 *
 * 1. The text is normalised as misaki does: a wave dash before a digit reads から, NFKC,
 *    curly single quotes and the closing double quote to ASCII, digit strings to hiragana
 *    (number.c), each after a space.
 * 2. MeCab with UniDic (unidic-lite, the dictionary of the original pipeline's fugashi) cuts it
 *    into words and gives each its pronunciation (the pron field, else kana, else the word).
 * 3. Neighbouring words of one character class that form a word of misaki's ja_words list are
 *    read as one word (this decides where the spaces go).
 * 4. Each word is read: ASCII as written, symbols by a table, kana words by their reading
 *    (kana.c), anything else not at all. Spaces follow words except around brackets and
 *    closing marks, and never touch a sokuon ʔ except after punctuation or before a quote.
 *
 * The dictionary (about 250 MB, memory-mapped) is loaded by the first Japanese text and shared
 * by all threads; a server that never reads Japanese never loads it. */
#include "text/ja/ja.h"
#include "core/buf.h"
#include "core/util.h"

#include <mecab.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utf8proc.h>

#define SEG_SOFT 1024  /* bytes: a MeCab call ends at the next sentence mark after this */
#define SEG_HARD 8192  /* bytes: and at a character boundary after this */

/* misaki's ja_words list as an open-addressing hash set over one buffer. */
typedef struct {
    char *data;        /* the file, lines NUL-terminated */
    uint32_t *slots;   /* offset + 1 into data, 0 = empty */
    size_t mask, maxlen;
} word_set;

struct kk_ja {
    char *dir;
    pthread_mutex_t lock;
    mecab_model_t *model;
    word_set words;
    size_t mapped;
};

/* ------------------------------------------------------------------ data */

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static int words_has(const word_set *w, const char *s, size_t n)
{
    if (n > w->maxlen || !w->slots)
        return 0;
    for (size_t i = hash(s, n) & w->mask;; i = (i + 1) & w->mask) {
        uint32_t o = w->slots[i];
        if (!o)
            return 0;
        const char *e = w->data + o - 1;
        if (strncmp(e, s, n) == 0 && e[n] == 0)
            return 1;
    }
}

static int words_load(const char *path, word_set *w, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return kk_fail(err, errlen, KOKORO_E_IO, "cannot open %s: run `make model`", path);
    char *data = NULL;
    size_t n = 0;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && st.st_size > 0 && st.st_size < (1 << 30) &&
        (data = malloc((size_t)st.st_size + 1)))
        n = fread(data, 1, (size_t)st.st_size, f);
    fclose(f);
    if (!data || n != (size_t)st.st_size) {
        free(data);
        return kk_fail(err, errlen, KOKORO_E_IO, "cannot read %s", path);
    }
    data[n] = 0;
    size_t lines = 1;
    for (size_t i = 0; i < n; i++)
        lines += data[i] == '\n';
    size_t cap = 1;
    while (cap < lines * 2)
        cap <<= 1;
    w->slots = calloc(cap, sizeof *w->slots);
    if (!w->slots) {
        free(data);
        return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    }
    w->data = data;
    w->mask = cap - 1;
    w->maxlen = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && data[b] != '\n')
            b++;
        size_t e = b; /* the line, stripped as misaki strips it */
        while (e > a && (data[e - 1] == '\r' || data[e - 1] == ' ' || data[e - 1] == '\t'))
            e--;
        data[e] = 0;
        if (e > a && !words_has(w, data + a, e - a)) {
            size_t i = hash(data + a, e - a) & w->mask;
            while (w->slots[i])
                i = (i + 1) & w->mask;
            w->slots[i] = (uint32_t)a + 1;
            if (e - a > w->maxlen)
                w->maxlen = e - a;
        }
        a = b + 1;
    }
    return KOKORO_OK;
}

kk_ja *kk_ja_new(const char *dir)
{
    kk_ja *ja = calloc(1, sizeof *ja);
    if (!ja)
        return NULL;
    ja->dir = strdup(dir);
    if (!ja->dir || pthread_mutex_init(&ja->lock, NULL) != 0) {
        free(ja->dir);
        free(ja);
        return NULL;
    }
    return ja;
}

void kk_ja_free(kk_ja *ja)
{
    if (!ja)
        return;
    if (ja->model)
        mecab_model_destroy(ja->model);
    free(ja->words.data);
    free(ja->words.slots);
    pthread_mutex_destroy(&ja->lock);
    free(ja->dir);
    free(ja);
}

size_t kk_ja_loaded_bytes(kk_ja *ja)
{
    pthread_mutex_lock(&ja->lock);
    size_t n = ja->mapped;
    pthread_mutex_unlock(&ja->lock);
    return n;
}

/* dir/name into path; -1 when it does not fit. */
static int join_path(char *path, size_t size, const char *dir, const char *name)
{
    int n = snprintf(path, size, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int file_size(const char *dir, const char *name, size_t *n)
{
    char path[4096];
    struct stat st;
    if (join_path(path, sizeof path, dir, name) != 0 || stat(path, &st) != 0)
        return -1;
    *n += (size_t)st.st_size;
    return 0;
}

/* Whether the data is in place, without loading it. */
static int data_present(const kk_ja *ja, char *err, size_t errlen)
{
    static const char *const files[] = {"unidic-lite/sys.dic", "unidic-lite/matrix.bin",
                                        "unidic-lite/unk.dic", "unidic-lite/char.bin",
                                        "unidic-lite/dicrc", "ja_words.txt"};
    size_t n = 0;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        if (file_size(ja->dir, files[i], &n) != 0)
            return kk_fail(err, errlen, KOKORO_E_IO,
                           "the Japanese dictionary is missing (%s/%s): run `make model`",
                           ja->dir, files[i]);
    return KOKORO_OK;
}

/* Loads MeCab's model and the word list, once. Called under ja->lock. */
static int load(kk_ja *ja, char *err, size_t errlen)
{
    if (ja->model)
        return KOKORO_OK;
    int rc = data_present(ja, err, errlen);
    if (rc != KOKORO_OK)
        return rc;
    char dic[4096], rcfile[4096], words[4096];
    if (join_path(dic, sizeof dic, ja->dir, "unidic-lite") != 0 ||
        join_path(rcfile, sizeof rcfile, ja->dir, "unidic-lite/dicrc") != 0 ||
        join_path(words, sizeof words, ja->dir, "ja_words.txt") != 0)
        return kk_fail(err, errlen, KOKORO_E_IO, "the dictionary folder's path is too long");
    if (!ja->words.slots && (rc = words_load(words, &ja->words, err, errlen)) != KOKORO_OK)
        return rc;
    /* dicrc stands in for mecabrc: MeCab needs one to exist, and reads the dictionary's own */
    char *argv[] = {"mecab", "-r", rcfile, "-d", dic, NULL};
    ja->model = mecab_model_new(5, argv);
    if (!ja->model)
        return kk_fail(err, errlen, KOKORO_E_IO, "MeCab cannot load %s: %s", dic,
                       mecab_strerror(NULL));
    size_t n = 0;
    file_size(dic, "sys.dic", &n);
    file_size(dic, "matrix.bin", &n);
    file_size(dic, "char.bin", &n);
    file_size(dic, "unk.dic", &n);
    ja->mapped = n;
    return KOKORO_OK;
}

/* ------------------------------------------------------------------ normalisation */

static int is_digit_cp(uint32_t c)
{
    return (c >= '0' && c <= '9') || (c >= 0xFF10 && c <= 0xFF19);
}

/* What misaki does before analysis, up to (not including) digits: the wave dash before a
 * digit, the small katakana of the Ainu extensions, NFKC, three quotes to ASCII. */
static int normalize(const char *text, kk_buf *out)
{
    static const char ext[] = "クシストヌハヒフヘホムラリルレロ"; /* for U+31F0..U+31FF */
    kk_buf pre = {0};
    size_t n = strlen(text);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        uint32_t c, next = 0;
        int l = kk_utf8_next(text + i, n - i, &c);
        if (i + (size_t)l < n)
            kk_utf8_next(text + i + l, n - i - (size_t)l, &next);
        char tmp[4];
        if ((c == 0x301C || c == 0xFF5E) && is_digit_cp(next))
            rc = kk_buf_puts(&pre, "から");
        else if (c >= 0x31F0 && c <= 0x31FF)
            rc = kk_buf_put(&pre, ext + (c - 0x31F0) * 3, 3);
        else if (c == 0)
            rc = kk_buf_putc(&pre, ' ');
        else
            rc = kk_buf_put(&pre, tmp, (size_t)kk_utf8_put(c, tmp)); /* invalid bytes: U+FFFD */
        i += (size_t)l;
    }
    utf8proc_uint8_t *nf = NULL;
    if (rc == 0 && pre.n > 0) {
        utf8proc_ssize_t m =
            utf8proc_map((const utf8proc_uint8_t *)pre.p, (utf8proc_ssize_t)pre.n, &nf,
                         UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
        if (m < 0)
            rc = -1;
    }
    kk_buf_free(&pre);
    if (rc != 0 || !nf)
        return rc;
    const char *s = (const char *)nf;
    size_t sn = strlen(s);
    for (size_t i = 0; i < sn && rc == 0;) {
        uint32_t c;
        int l = kk_utf8_next(s + i, sn - i, &c);
        if (c >= '0' && c <= '9') {
            size_t j = i;
            while (j < sn && s[j] >= '0' && s[j] <= '9')
                j++;
            rc = kk_buf_putc(out, ' ') | kk_ja_number(s + i, j - i, out);
            i = j;
            continue;
        }
        if (c == 0x2018)
            rc = kk_buf_putc(out, '`');
        else if (c == 0x2019)
            rc = kk_buf_putc(out, '\'');
        else if (c == 0x201D)
            rc = kk_buf_putc(out, '"');
        else
            rc = kk_buf_put(out, s + i, (size_t)l);
        i += (size_t)l;
    }
    free(nf);
    return rc;
}

/* ------------------------------------------------------------------ analysis */

typedef struct {
    char *surface, *hira; /* UTF-8, malloc'd */
    int ctype;
} jword;

typedef struct {
    jword *w;
    int n, cap;
} jwords;

static void jwords_free(jwords *ws)
{
    for (int i = 0; i < ws->n; i++) {
        free(ws->w[i].surface);
        free(ws->w[i].hira);
    }
    free(ws->w);
    memset(ws, 0, sizeof *ws);
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static int jwords_add(jwords *ws, char *surface, char *hira, int ctype)
{
    if (surface && hira) {
        jword *w = kk_grow(ws->w, ws->n + 1, &ws->cap, sizeof *w, 64);
        if (w)
            ws->w = w;
    }
    if (!surface || !hira || ws->n == ws->cap) {
        free(surface);
        free(hira);
        return -1;
    }
    ws->w[ws->n++] = (jword){surface, hira, ctype};
    return 0;
}

/* Field k (from 0) of a MeCab feature line (CSV, fields may be quoted). Returns its length and
 * sets *start, or -1 when the line has fewer fields. Quoted fields are returned with quotes
 * stripped only when they hold no doubled quote (UniDic's pron and kana never do). */
static int field(const char *f, int k, const char **start)
{
    for (int i = 0;; i++) {
        const char *a = f;
        if (*f == '"') {
            f++;
            while (*f && !(*f == '"' && f[1] != '"'))
                f += (*f == '"') ? 2 : 1;
            if (*f == '"')
                f++;
        } else {
            while (*f && *f != ',')
                f++;
        }
        if (i == k) {
            if (*a == '"' && f - a >= 2) {
                *start = a + 1;
                return (int)(f - a - 2);
            }
            *start = a;
            return (int)(f - a);
        }
        if (*f != ',')
            return -1;
        f++;
    }
}

/* Katakana to hiragana (ァ..ヶ, ヽヾ), as jaconv does; other characters kept. */
static char *kata2hira(const char *s, size_t n)
{
    kk_buf b = {0};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        uint32_t c;
        int l = kk_utf8_next(s + i, n - i, &c);
        if (c >= 0x30A1 && c <= 0x30F6)
            c -= 0x60;
        else if (c == 0x30FD || c == 0x30FE)
            c -= 0x60;
        char tmp[4];
        rc = kk_buf_put(&b, tmp, (size_t)kk_utf8_put(c, tmp));
        i += (size_t)l;
    }
    if (rc == 0 && kk_buf_put(&b, "", 0) == 0)
        return b.p;
    kk_buf_free(&b);
    return NULL;
}

/* One MeCab call over s[0..n): its words appended to ws. */
static int analyse(mecab_t *tagger, mecab_lattice_t *lat, const char *s, size_t n, jwords *ws)
{
    mecab_lattice_clear(lat);
    mecab_lattice_set_sentence2(lat, s, n);
    if (!mecab_parse_lattice(tagger, lat))
        return KOKORO_E_INTERNAL;
    for (const mecab_node_t *nd = mecab_lattice_get_bos_node(lat); nd; nd = nd->next) {
        if (nd->stat == MECAB_BOS_NODE || nd->stat == MECAB_EOS_NODE || nd->length == 0)
            continue;
        int unk = nd->stat == MECAB_UNK_NODE;
        const char *r;
        int rl = field(nd->feature, 9, &r); /* pron */
        if (rl <= 0)
            rl = field(nd->feature, 17, &r); /* kana */
        if (rl <= 0) {
            r = nd->surface;
            rl = nd->length;
        }
        int ctype = (nd->char_type == 7 || !unk) ? 6 : nd->char_type;
        if (jwords_add(ws, dupn(nd->surface, nd->length), kata2hira(r, (size_t)rl), ctype) < 0)
            return KOKORO_E_NOMEM;
    }
    return KOKORO_OK;
}

static int sentence_end(const char *s)
{
    return *s == '.' || *s == '!' || *s == '?' || strncmp(s, "。", 3) == 0;
}

/* The words of normalised text. Long text goes to MeCab in pieces (lines, then sentences past
 * SEG_SOFT bytes, then any character past SEG_HARD), so that its lattice stays small. */
static int tokenize(kk_ja *ja, const char *s, size_t n, jwords *ws)
{
    mecab_t *tagger = mecab_model_new_tagger(ja->model);
    mecab_lattice_t *lat = tagger ? mecab_model_new_lattice(ja->model) : NULL;
    int rc = lat ? KOKORO_OK : KOKORO_E_NOMEM;
    for (size_t a = 0; a < n && rc == KOKORO_OK;) {
        size_t b = a;
        while (b < n && s[b] != '\n') {
            uint32_t c;
            int l = kk_utf8_next(s + b, n - b, &c);
            int end = b - a >= SEG_SOFT && sentence_end(s + b);
            b += (size_t)l;
            if (end || b - a >= SEG_HARD)
                break;
        }
        if (b > a)
            rc = analyse(tagger, lat, s + a, b - a, ws);
        a = b < n && s[b] == '\n' ? b + 1 : b;
    }
    if (lat)
        mecab_lattice_destroy(lat);
    if (tagger)
        mecab_destroy(tagger);
    return rc;
}

/* ------------------------------------------------------------------ reading */

/* A word of the reading: its phonemes, whether a space follows, and what it was written as. */
typedef struct {
    char *ph, *surface;
    int space;
} jtoken;

/* Python's `s in hay` for strings: s is empty or a substring of hay. */
static int py_in(const char *s, const char *hay)
{
    return !*s || strstr(hay, s) != NULL;
}

static int is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

/* The phonemes of one (grouped) word. */
static int read_word(const char *surface, const char *hira, int ctype, kk_buf *out)
{
    if (is_ascii(surface))
        return kk_buf_puts(out, surface);
    size_t n = strlen(surface), hn = strlen(hira);
    if (ctype == 3) { /* symbols: by the table, else as written */
        int rc = 0;
        for (size_t i = 0; i < n && rc == 0;) {
            uint32_t c;
            int l = kk_utf8_next(surface + i, n - i, &c);
            const char *t = kk_ja_symbol(c);
            rc = t ? kk_buf_puts(out, t) : kk_buf_put(out, surface + i, (size_t)l);
            i += (size_t)l;
        }
        return rc;
    }
    if (ctype != 6)
        return 0;
    uint32_t *cps = malloc((hn + 1) * sizeof *cps);
    if (!cps)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < hn;) {
        i += (size_t)kk_utf8_next(hira + i, hn - i, &cps[m]);
        m++;
    }
    int rc = kk_ja_kana_word(cps, m, out);
    free(cps);
    return rc;
}

/* Drops a leftover っ from phonemes. */
static void drop_sokuon(char *s)
{
    char *w = s;
    for (char *r = s; *r;) {
        if (strncmp(r, "っ", 3) == 0) {
            r += 3;
            continue;
        }
        *w++ = *r++;
    }
    *w = 0;
}

/* Groups words into tokens (misaki's ja_words) and reads them. */
static int read_words(const kk_ja *ja, const jwords *ws, jtoken *toks, int *n_toks)
{
    int n = ws->n, nt = 0, rc = KOKORO_OK;
    int *run_end = malloc((size_t)(n + 1) * sizeof *run_end);
    if (!run_end)
        return KOKORO_E_NOMEM;
    for (int i = n - 1; i >= 0; i--)
        run_end[i] = (i + 1 < n && ws->w[i + 1].ctype == ws->w[i].ctype) ? run_end[i + 1] : i + 1;
    kk_buf join = {0}, hira = {0}, ph = {0};
    size_t lens[64];
    for (int i = 0; i < n && rc == KOKORO_OK;) {
        /* the longest ws[i..j) (j <= the end of the class run) that is a listed word */
        int z = run_end[i], j = i + 1, cnt = 0, k;
        join.n = 0;
        while (i + cnt < z && cnt < (int)(sizeof lens / sizeof *lens) &&
               join.n <= ja->words.maxlen) {
            if (kk_buf_puts(&join, ws->w[i + cnt].surface) < 0) {
                rc = KOKORO_E_NOMEM;
                break;
            }
            lens[cnt++] = join.n;
        }
        for (int c = cnt; c > 1; c--)
            if (words_has(&ja->words, join.p, lens[c - 1])) {
                j = i + c;
                break;
            }
        join.n = hira.n = ph.n = 0;
        for (k = i; k < j && rc == KOKORO_OK; k++)
            if (kk_buf_puts(&join, ws->w[k].surface) < 0 || kk_buf_puts(&hira, ws->w[k].hira) < 0)
                rc = KOKORO_E_NOMEM;
        if (rc == KOKORO_OK && (kk_buf_put(&join, "", 0) < 0 || kk_buf_put(&hira, "", 0) < 0 ||
                                read_word(join.p, hira.p, ws->w[i].ctype, &ph) < 0 ||
                                kk_buf_put(&ph, "", 0) < 0))
            rc = KOKORO_E_NOMEM;
        if (rc != KOKORO_OK)
            break;
        jtoken t = {dupn(ph.p, ph.n), dupn(join.p, join.n), 0};
        if (!t.ph || !t.surface) {
            free(t.ph);
            free(t.surface);
            rc = KOKORO_E_NOMEM;
            break;
        }
        /* spacing around brackets and closing marks (with Python's substring tests) */
        jtoken *po = nt > 0 ? &toks[nt - 1] : NULL;
        if (py_in(t.surface, "「『«") || py_in(t.ph, "([")) {
            if (po)
                po->space = 1;
        } else if (py_in(t.surface, "」』»") || py_in(t.ph, "]).,?!:")) {
            if (po)
                po->space = 0;
            t.space = 1;
        } else {
            t.space = strcmp(t.ph, " ") != 0;
        }
        drop_sokuon(t.ph);
        toks[nt++] = t;
        i = j;
    }
    kk_buf_free(&join);
    kk_buf_free(&hira);
    kk_buf_free(&ph);
    free(run_end);
    *n_toks = nt;
    return rc;
}

/* ------------------------------------------------------------------ output */

typedef struct {
    uint32_t cp;
    int tok; /* token the character comes from, -1 for spaces between tokens */
} tchar;

static int is_space(uint32_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F) || c == 0x85 ||
           c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Collapses runs of whitespace to one space and trims both ends. Returns the new length. */
static size_t squeeze(tchar *t, size_t n)
{
    size_t w = 0;
    for (size_t r = 0; r < n; r++) {
        if (is_space(t[r].cp)) {
            if (w == 0 || t[w - 1].cp == ' ')
                continue;
            t[w++] = (tchar){' ', -1};
        } else {
            t[w++] = t[r];
        }
    }
    while (w > 0 && t[w - 1].cp == ' ')
        w--;
    return w;
}

static int punct(uint32_t c)
{
    return c < 0x80 ? strchr("!\"(),.:;?[]", (int)c) != NULL
                    : (c == 0x2014 || c == 0x2026 || c == 0x201C || c == 0x201D || c == 0xAB ||
                       c == 0xBB);
}

#define GLOTTAL 0x294 /* ʔ */
#define SRC_WINDOW 512 /* bytes of the input searched for a word as written */

/* Where a word (as MeCab saw it, after normalisation) stands in the input src, searched from
 * *cursor on: the word timestamps and captions point there. Words the normalisation changed
 * (digits, full-width letters) are not found and stay unknown (src_end 0). */
static void locate(kk_word *w, const char *src, size_t src_n, size_t *cursor)
{
    size_t n = strlen(w->text), left = src_n - *cursor;
    if (n == 0 || n > left)
        return;
    const char *hit = memmem(src + *cursor, left < SRC_WINDOW + n ? left : SRC_WINDOW + n,
                             w->text, n);
    if (!hit)
        return;
    w->src_start = (int)(hit - src);
    w->src_end = w->src_start + (int)n;
    *cursor = (size_t)w->src_end;
}

/* Tokens -> the phoneme string of the model's vocabulary, words positioned (in the phonemes,
 * and in src, the input text, where they can be found in it). */
static int emit(const jtoken *toks, int nt, const char *src, kk_phon *out)
{
    size_t src_n = strlen(src), cursor = 0;
    size_t cap = 1, n = 0;
    for (int i = 0; i < nt; i++)
        cap += strlen(toks[i].ph) + 1;
    tchar *t = malloc(cap * sizeof *t);
    if (!t)
        return KOKORO_E_NOMEM;
    for (int i = 0; i < nt; i++) {
        const char *p = toks[i].ph;
        size_t pn = strlen(p);
        for (size_t k = 0; k < pn;) {
            uint32_t c;
            k += (size_t)kk_utf8_next(p + k, pn - k, &c);
            t[n++] = (tchar){c == '(' ? 0xAB : c == ')' ? 0xBB : c, i};
        }
        if (toks[i].space)
            t[n++] = (tchar){' ', -1};
    }
    n = squeeze(t, n);
    /* no space before ʔ unless after punctuation, none after ʔ unless before a quote */
    size_t w = 0;
    for (size_t r = 0; r < n; r++) {
        if (t[r].cp == ' ' && r > 0 && r + 1 < n) {
            uint32_t a = t[r - 1].cp, b = t[r + 1].cp;
            int before = b == GLOTTAL && !(a < 0x80 ? strchr("!\",.:;?", (int)a) != NULL
                                                    : (a == 0xBB || a == 0x2014 || a == 0x2026 ||
                                                       a == 0x201D));
            int after = a == GLOTTAL && !(b == '"' || b == 0xAB || b == 0x201C);
            if (before || after)
                continue;
        }
        t[w++] = t[r];
    }
    n = w;
    /* what the model has no phoneme for goes */
    w = 0;
    for (size_t r = 0; r < n; r++)
        if (t[r].cp == ' ' || kk_vocab_id(t[r].cp))
            t[w++] = t[r];
    n = squeeze(t, w);

    int rc = KOKORO_OK;
    kk_buf text = {0};
    for (size_t a = 0; a < n && rc == KOKORO_OK;) {
        size_t b = a;
        while (b < n && t[b].cp != ' ')
            b++;
        /* a word is a run between spaces, its edge punctuation in the gaps */
        size_t ws = a, we = b;
        while (ws < we && punct(t[ws].cp))
            ws++;
        while (we > ws && punct(t[we - 1].cp))
            we--;
        int ph_start = 0, ph_end = 0, last = -1;
        text.n = 0;
        for (size_t k = a; k < b && rc == KOKORO_OK; k++) {
            if (k == ws)
                ph_start = (int)out->ph.n;
            char tmp[4];
            if (kk_buf_put(&out->ph, tmp, (size_t)kk_utf8_put(t[k].cp, tmp)) < 0)
                rc = KOKORO_E_NOMEM;
            if (k + 1 == we)
                ph_end = (int)out->ph.n;
            if (k >= ws && k < we && t[k].tok != last && t[k].tok >= 0) {
                last = t[k].tok;
                if (kk_buf_puts(&text, toks[last].surface) < 0)
                    rc = KOKORO_E_NOMEM;
            }
        }
        if (rc == KOKORO_OK && we > ws &&
            kk_phon_add_word(out, text.p ? text.p : "", text.n, ph_start, ph_end) < 0)
            rc = KOKORO_E_NOMEM;
        else if (rc == KOKORO_OK && we > ws)
            locate(&out->words[out->n_words - 1], src, src_n, &cursor);
        if (rc == KOKORO_OK && b < n && kk_buf_putc(&out->ph, ' ') < 0)
            rc = KOKORO_E_NOMEM;
        a = b + 1;
    }
    kk_buf_free(&text);
    free(t);
    return rc;
}

/* ------------------------------------------------------------------ entry */

int kk_g2p_ja(kk_ja *ja, const char *text, kk_phon *out, char *err, size_t errlen)
{
    kk_buf norm = {0};
    if (normalize(text, &norm) < 0) {
        kk_buf_free(&norm);
        return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    }
    size_t i = 0;
    while (i < norm.n && (norm.p[i] == ' ' || norm.p[i] == '\t' || norm.p[i] == '\n'))
        i++;
    if (i == norm.n) { /* nothing to read */
        kk_buf_free(&norm);
        return KOKORO_OK;
    }
    /* One Latin letter reads as itself: answered without loading the dictionary (the server
     * asks each language for "a" at start), but only where the dictionary is in place. */
    if (norm.n - i == 1 && ((norm.p[i] | 0x20) >= 'a' && (norm.p[i] | 0x20) <= 'z') &&
        kk_vocab_id((unsigned char)norm.p[i])) {
        int rc = data_present(ja, err, errlen);
        int start = (int)out->ph.n;
        if (rc == KOKORO_OK && (kk_buf_putc(&out->ph, norm.p[i]) < 0 ||
                                kk_phon_add_word(out, norm.p + i, 1, start, start + 1) < 0))
            rc = kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
        kk_buf_free(&norm);
        return rc;
    }
    pthread_mutex_lock(&ja->lock);
    int rc = load(ja, err, errlen);
    pthread_mutex_unlock(&ja->lock);
    jwords ws = {0};
    jtoken *toks = NULL;
    int nt = 0;
    if (rc == KOKORO_OK)
        rc = tokenize(ja, norm.p, norm.n, &ws);
    if (rc == KOKORO_OK && ws.n > 0 && !(toks = calloc((size_t)ws.n, sizeof *toks)))
        rc = KOKORO_E_NOMEM;
    if (rc == KOKORO_OK && toks)
        rc = read_words(ja, &ws, toks, &nt);
    if (rc == KOKORO_OK)
        rc = emit(toks, nt, text, out);
    for (int k = 0; k < nt; k++) {
        free(toks[k].ph);
        free(toks[k].surface);
    }
    free(toks);
    jwords_free(&ws);
    kk_buf_free(&norm);
    if (rc == KOKORO_E_NOMEM)
        return kk_fail(err, errlen, rc, "out of memory");
    if (rc == KOKORO_E_INTERNAL)
        return kk_fail(err, errlen, rc, "MeCab could not analyse the text");
    return rc;
}

/* ------------------------------------------------------------ the back end (g2p.h) */

/* Nothing is loaded yet: the dictionary waits for the first Japanese text. */
static int ja_open(const char *data_dir, void **state, char *err, size_t errlen)
{
    *state = kk_ja_new(data_dir);
    return *state ? KOKORO_OK : kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
}

static void ja_close(void *state) { kk_ja_free(state); }

static int ja_phonemize(void *state, const kk_dicts *d, const kk_lang *lang, const char *text,
                        kk_phon *out, char *err, size_t errlen)
{
    (void)d, (void)lang;
    return kk_g2p_ja(state, text, out, err, errlen);
}

const kk_g2p kk_g2p_japanese = {"japanese", ja_open, ja_close, ja_phonemize};
