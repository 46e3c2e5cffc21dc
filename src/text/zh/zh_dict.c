/* zh_dict.c - the Mandarin dictionaries: loaded once per process, on the first Mandarin
 * request, then read by every thread without locks.
 *
 * Each file is read whole and cut in place (tabs and newlines become NULs); the tables are
 * open-addressing hashes whose keys point into that text, so a word costs one slot and its
 * bytes once. An English-only process never calls kk_zh_dict_get and pays nothing. */
#include "text/zh/zh.h"
#include "core/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILE_BYTES (64u << 20) /* a damaged or wrong file fails instead of filling memory */
#define MAX_KEY_BYTES 256          /* longer lines are not words */

typedef struct {
    const char *key; /* NUL-terminated, inside the file text */
    uint32_t len;
    long long val;
} slot;

typedef struct {
    slot *s;
    size_t cap, n; /* cap is a power of two */
} table;

struct kk_zh_dict {
    char *text[4]; /* the files' contents, cut in place */
    size_t text_bytes;
    table words, emit, phrases, chars;
    double *emit_p; /* values of emit */
    double total;   /* sum of the word frequencies */
    int max_word, max_phrase;
    double start[4], trans[4][4];
};

static uint64_t hash(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
    return h;
}

static int table_init(table *t, size_t expect)
{
    t->cap = 16;
    while (t->cap < expect * 2)
        t->cap *= 2;
    t->n = 0;
    t->s = calloc(t->cap, sizeof *t->s);
    return t->s ? 0 : -1;
}

static void table_insert(table *t, slot e, int replace)
{
    size_t i = hash(e.key, e.len) & (t->cap - 1);
    while (t->s[i].key && !(t->s[i].len == e.len && memcmp(t->s[i].key, e.key, e.len) == 0))
        i = (i + 1) & (t->cap - 1);
    if (!t->s[i].key)
        t->n++;
    else if (!replace)
        return;
    t->s[i] = e;
}

/* Inserts, or replaces when replace is set (the last line of a file wins, as in a Python
 * dict); the table doubles before it is 3/4 full. Returns 0 or -1 (memory). */
static int table_put(table *t, const char *k, size_t n, long long val, int replace)
{
    if ((t->n + 1) * 4 > t->cap * 3) {
        table bigger = {calloc(t->cap * 2, sizeof(slot)), t->cap * 2, 0};
        if (!bigger.s)
            return -1;
        for (size_t i = 0; i < t->cap; i++)
            if (t->s[i].key)
                table_insert(&bigger, t->s[i], 1);
        free(t->s);
        *t = bigger;
    }
    table_insert(t, (slot){k, (uint32_t)n, val}, replace);
    return 0;
}

static const slot *table_get(const table *t, const char *k, size_t n)
{
    if (!t->s)
        return NULL;
    size_t i = hash(k, n) & (t->cap - 1);
    while (t->s[i].key) {
        if (t->s[i].len == n && memcmp(t->s[i].key, k, n) == 0)
            return &t->s[i];
        i = (i + 1) & (t->cap - 1);
    }
    return NULL;
}

static int read_file(const char *dir, const char *name, char **out, size_t *len, char *err,
                     size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return kk_fail(err, errlen, KOKORO_E_IO,
                       "Mandarin dictionary %s: %s (run `make model`)", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0;
    int rc = KOKORO_OK;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size < 0 || (unsigned long)size > MAX_FILE_BYTES)
            rc = kk_fail(err, errlen, KOKORO_E_IO, "Mandarin dictionary %s: bad size", path);
        else if (!(buf = malloc((size_t)size + 1)))
            rc = kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
        else {
            rewind(f);
            n = fread(buf, 1, (size_t)size, f);
            if (n != (size_t)size)
                rc = kk_fail(err, errlen, KOKORO_E_IO, "Mandarin dictionary %s: short read",
                             path);
        }
    } else {
        rc = kk_fail(err, errlen, KOKORO_E_IO, "Mandarin dictionary %s: cannot seek", path);
    }
    fclose(f);
    if (rc != KOKORO_OK) {
        free(buf);
        return rc;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return KOKORO_OK;
}

/* Cuts the next line into at most max fields (tab-separated); returns the field count, 0 at
 * the end of the text. *pos moves past the line. */
static int next_line(char *text, size_t len, size_t *pos, char **f, int max)
{
    if (*pos >= len)
        return 0;
    char *p = text + *pos;
    char *end = memchr(p, '\n', len - *pos);
    if (!end)
        end = text + len;
    *pos = (size_t)(end - text) + 1;
    *end = 0;
    int n = 0;
    f[n++] = p;
    for (char *q = p; q < end && n < max; q++)
        if (*q == '\t') {
            *q = 0;
            f[n++] = q + 1;
        }
    return n;
}

static size_t count_lines(const char *text, size_t len)
{
    size_t n = 1;
    for (const char *p = text; (p = memchr(p, '\n', len - (size_t)(p - text))); p++)
        n++;
    return n;
}

static int state_of(const char *s)
{
    const char *p = s[0] && !s[1] ? strchr("BMES", s[0]) : NULL;
    return p ? (int)(p - "BMES") : -1;
}

static int corrupt(const char *name, size_t line, char *err, size_t errlen)
{
    return kk_fail(err, errlen, KOKORO_E_IO,
                   "Mandarin dictionary %s: bad line %zu (run `make model` again)", name, line);
}

static int load_words(kk_zh_dict *d, char *text, size_t len, char *err, size_t errlen)
{
    if (table_init(&d->words, count_lines(text, len)) < 0)
        return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    char *f[2];
    size_t pos = 0, line = 0;
    int nf;
    while ((nf = next_line(text, len, &pos, f, 2))) {
        line++;
        if (nf == 1 && !f[0][0])
            continue;
        if (nf != 2)
            return corrupt("jieba.dict", line, err, errlen);
        char *end;
        long long freq = strtoll(f[1], &end, 10);
        size_t kn = strlen(f[0]);
        if (*end || freq < 0 || !kn || kn > MAX_KEY_BYTES)
            return corrupt("jieba.dict", line, err, errlen);
        if (table_put(&d->words, f[0], kn, freq, 1) < 0)
            return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
        d->total += (double)freq;
        int chars = (int)kk_utf8_len(f[0]);
        if (chars > d->max_word)
            d->max_word = chars;
    }
    return d->words.n ? KOKORO_OK : corrupt("jieba.dict", 0, err, errlen);
}

static int load_hmm(kk_zh_dict *d, char *text, size_t len, char *err, size_t errlen)
{
    size_t lines = count_lines(text, len);
    d->emit_p = malloc(lines * sizeof *d->emit_p);
    if (!d->emit_p || table_init(&d->emit, lines) < 0)
        return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    for (int i = 0; i < 4; i++) {
        d->start[i] = KK_ZH_MIN_LOGP;
        for (int j = 0; j < 4; j++)
            d->trans[i][j] = KK_ZH_MIN_LOGP;
    }
    char *f[4];
    size_t pos = 0, line = 0, n_emit = 0;
    int nf;
    while ((nf = next_line(text, len, &pos, f, 4))) {
        line++;
        if (nf == 1 && !f[0][0])
            continue;
        char *end;
        double p = strtod(f[nf - 1], &end);
        int s = nf >= 2 ? state_of(f[1]) : -1;
        if (*end || s < 0)
            return corrupt("jieba.hmm", line, err, errlen);
        if (nf == 3 && strcmp(f[0], "start") == 0) {
            d->start[s] = p;
        } else if (nf == 4 && strcmp(f[0], "trans") == 0 && state_of(f[2]) >= 0) {
            d->trans[s][state_of(f[2])] = p;
        } else if (nf == 4 && strcmp(f[0], "emit") == 0 && strlen(f[2]) <= 4) {
            /* key: the state letter followed by the character, both inside the line */
            char *key = f[1];
            size_t cn = strlen(f[2]);
            memmove(key + 1, f[2], cn + 1);
            d->emit_p[n_emit] = p;
            if (table_put(&d->emit, key, cn + 1, (long long)n_emit++, 1) < 0)
                return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
        } else {
            return corrupt("jieba.hmm", line, err, errlen);
        }
    }
    return n_emit ? KOKORO_OK : corrupt("jieba.hmm", 0, err, errlen);
}

/* pinyin.chars and pinyin.phrases: key, tab, reading. With prefixes set, every prefix of
 * a key is entered too (value -1), for pypinyin's segmenter, which stops at the first
 * prefix of no phrase. */
static int load_readings(table *t, int *max_chars, int prefixes, const char *name, char *text,
                         size_t len, char *err, size_t errlen)
{
    if (table_init(t, count_lines(text, len)) < 0)
        return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    char *f[2];
    size_t pos = 0, line = 0;
    int nf;
    while ((nf = next_line(text, len, &pos, f, 2))) {
        line++;
        if (nf == 1 && !f[0][0])
            continue;
        size_t kn = strlen(f[0]);
        if (nf != 2 || !kn || kn > MAX_KEY_BYTES || !f[1][0])
            return corrupt(name, line, err, errlen);
        if (table_put(t, f[0], kn, (long long)(f[1] - text), 1) < 0)
            return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
        for (size_t i = 1; prefixes && i < kn; i++)
            if (((unsigned char)f[0][i] & 0xC0) != 0x80 && table_put(t, f[0], i, -1, 0) < 0)
                return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
        int chars = (int)kk_utf8_len(f[0]);
        if (max_chars && chars > *max_chars)
            *max_chars = chars;
    }
    return t->n ? KOKORO_OK : corrupt(name, 0, err, errlen);
}

static void dict_free(kk_zh_dict *d)
{
    if (!d)
        return;
    for (int i = 0; i < 4; i++)
        free(d->text[i]);
    free(d->words.s);
    free(d->emit.s);
    free(d->phrases.s);
    free(d->chars.s);
    free(d->emit_p);
    free(d);
}

static int dict_load(const char *dir, kk_zh_dict **out, char *err, size_t errlen)
{
    static const char *const names[4] = {"jieba.dict", "jieba.hmm", "pinyin.chars",
                                         "pinyin.phrases"};
    kk_zh_dict *d = calloc(1, sizeof *d);
    if (!d)
        return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    size_t len[4] = {0};
    int rc = KOKORO_OK;
    for (int i = 0; i < 4 && rc == KOKORO_OK; i++) {
        rc = read_file(dir, names[i], &d->text[i], &len[i], err, errlen);
        d->text_bytes += len[i];
    }
    if (rc == KOKORO_OK)
        rc = load_words(d, d->text[0], len[0], err, errlen);
    if (rc == KOKORO_OK)
        rc = load_hmm(d, d->text[1], len[1], err, errlen);
    if (rc == KOKORO_OK)
        rc = load_readings(&d->chars, NULL, 0, names[2], d->text[2], len[2], err, errlen);
    if (rc == KOKORO_OK)
        rc = load_readings(&d->phrases, &d->max_phrase, 1, names[3], d->text[3], len[3], err,
                           errlen);
    if (rc != KOKORO_OK) {
        dict_free(d);
        return rc;
    }
    *out = d;
    return KOKORO_OK;
}

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static kk_zh_dict *g_dict; /* never freed: shared by every front end of the process */

int kk_zh_dict_get(const char *dir, const kk_zh_dict **out, char *err, size_t errlen)
{
    pthread_mutex_lock(&g_lock);
    int rc = KOKORO_OK;
    if (!g_dict)
        rc = dict_load(dir, &g_dict, err, errlen);
    *out = g_dict;
    pthread_mutex_unlock(&g_lock);
    return rc;
}

int kk_zh_dict_present(const char *dir, char *err, size_t errlen)
{
    static const char *const names[4] = {"jieba.dict", "jieba.hmm", "pinyin.chars",
                                         "pinyin.phrases"};
    pthread_mutex_lock(&g_lock);
    int loaded = g_dict != NULL;
    pthread_mutex_unlock(&g_lock);
    for (int i = 0; i < 4 && !loaded; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            return kk_fail(err, errlen, KOKORO_E_IO,
                           "the Mandarin dictionaries are missing (%s): run `make model`", path);
    }
    return KOKORO_OK;
}

size_t kk_zh_dict_bytes(const kk_zh_dict *d)
{
    return d->text_bytes +
           (d->words.cap + d->emit.cap + d->phrases.cap + d->chars.cap) * sizeof(slot) +
           d->emit.n * sizeof(double);
}

/* ------------------------------------------------------------ lookups */

/* UTF-8 of w[0..n) into buf (MAX_KEY_BYTES + 1 bytes at least); its length, or -1 when
 * the word cannot be a key. */
static int key_of(const uint32_t *w, int n, char *buf)
{
    int len = 0;
    for (int i = 0; i < n; i++) {
        if (len + 4 > MAX_KEY_BYTES)
            return -1;
        len += kk_utf8_put(w[i], buf + len);
    }
    return len;
}

long long kk_zh_freq(const kk_zh_dict *d, const uint32_t *w, int n)
{
    char key[MAX_KEY_BYTES + 8];
    int len = key_of(w, n, key);
    const slot *s = len > 0 ? table_get(&d->words, key, (size_t)len) : NULL;
    return s ? s->val : 0;
}

double kk_zh_freq_total(const kk_zh_dict *d) { return d->total; }
int kk_zh_max_word(const kk_zh_dict *d) { return d->max_word; }
int kk_zh_max_phrase(const kk_zh_dict *d) { return d->max_phrase; }
double kk_zh_hmm_start(const kk_zh_dict *d, int state) { return d->start[state]; }
double kk_zh_hmm_trans(const kk_zh_dict *d, int from, int to) { return d->trans[from][to]; }

double kk_zh_hmm_emit(const kk_zh_dict *d, int state, uint32_t c)
{
    char key[8];
    key[0] = "BMES"[state];
    int len = 1 + kk_utf8_put(c, key + 1);
    const slot *s = table_get(&d->emit, key, (size_t)len);
    return s ? d->emit_p[s->val] : KK_ZH_MIN_LOGP;
}

const char *kk_zh_phrase(const kk_zh_dict *d, const uint32_t *w, int n, int *is_prefix)
{
    char key[MAX_KEY_BYTES + 8];
    int len = key_of(w, n, key);
    const slot *s = len > 0 ? table_get(&d->phrases, key, (size_t)len) : NULL;
    if (is_prefix)
        *is_prefix = s != NULL;
    return s && s->val >= 0 ? d->text[3] + s->val : NULL;
}

const char *kk_zh_char(const kk_zh_dict *d, uint32_t c)
{
    char key[8];
    int len = kk_utf8_put(c, key);
    const slot *s = table_get(&d->chars, key, (size_t)len);
    return s ? d->text[2] + s->val : NULL;
}
