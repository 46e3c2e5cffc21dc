/* zh.c - the Mandarin front end's pipeline, in the order misaki 0.9.4's ZHG2P runs it for
 * Kokoro v1.0 (its legacy path, ZHG2P(version=None)):
 *
 *   1. numbers: cn2an's an2cn transform (zh_num.c)
 *   2. full-width punctuation to ASCII marks followed by a space, then the ends trimmed
 *   3. the text cut into Han runs (U+4E00..U+9FFF) and the rest; each Han run cut into words
 *      (jieba, zh_seg.c), each word read in pinyin and written in IPA (zh_pinyin.c), the
 *      words joined by spaces; the rest kept as written
 *
 * The dictionaries are loaded by the first text with a Han character (zh_dict.c).
 *
 * The phonemes keep only what the model's vocabulary has, as Kokoro's pipeline does when
 * it maps them to ids (Latin letters that are IPA letters pass, the others drop). */
#include "text/zh/zh.h"
#include "core/buf.h"
#include "core/util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ code point strings */

int kk_zu_put(kk_zu *s, uint32_t c)
{
    uint32_t *p = kk_grow(s->c, s->n + 1, &s->cap, sizeof *p, 64);
    if (!p)
        return -1;
    s->c = p;
    s->c[s->n++] = c;
    return 0;
}

int kk_zu_append(kk_zu *s, const uint32_t *c, int n)
{
    for (int i = 0; i < n; i++)
        if (kk_zu_put(s, c[i]) < 0)
            return -1;
    return 0;
}

int kk_zu_from_utf8(kk_zu *s, const char *text, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += (size_t)kk_utf8_next(text + i, n - i, &cp);
        if (kk_zu_put(s, cp) < 0)
            return -1;
    }
    return 0;
}

int kk_zu_lit(kk_zu *s, const char *utf8)
{
    return kk_zu_from_utf8(s, utf8, strlen(utf8));
}

void kk_zu_free(kk_zu *s)
{
    free(s->c);
    memset(s, 0, sizeof *s);
}

int kk_zu_to_utf8(const uint32_t *c, int n, kk_buf *out)
{
    for (int i = 0; i < n; i++) {
        char u[4];
        if (kk_buf_put(out, u, (size_t)kk_utf8_put(c[i], u)) < 0)
            return -1;
    }
    return 0;
}

int kk_zi_pair(kk_zi *m, int a, int b)
{
    int *v = kk_grow(m->v, m->n + 2, &m->cap, sizeof *v, 128);
    if (!v)
        return -1;
    m->v = v;
    m->v[m->n++] = a;
    m->v[m->n++] = b;
    return 0;
}

void kk_zi_free(kk_zi *m)
{
    free(m->v);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------ punctuation */

/* Python's str.isspace, which str.strip() trims. */
static int py_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

/* misaki's map_punctuation: what a full-width mark becomes, or NULL. */
static const char *punct_map(uint32_t c)
{
    switch (c) {
    case 0x3001: case 0xFF0C: return ", "; /* 、 ， */
    case 0x3002: case 0xFF0E: return ". "; /* 。 ． */
    case 0xFF01: return "! ";
    case 0xFF1A: return ": ";
    case 0xFF1B: return "; ";
    case 0xFF1F: return "? ";
    case 0xAB: case 0x300A: case 0x300C: case 0x3010: return " \u201C"; /* « 《 「 【 */
    case 0xBB: case 0x300B: case 0x300D: case 0x3011: return "\u201D "; /* » 》 」 】 */
    case 0xFF08: return " (";
    case 0xFF09: return ") ";
    default: return NULL;
    }
}

static int is_han(uint32_t c)
{
    return c >= 0x4E00 && c <= 0x9FFF;
}

/* ------------------------------------------------------------ pipeline */

static char g_dir[4096]; /* where the dictionaries are, from the last front end created */
static pthread_mutex_t g_dir_lock = PTHREAD_MUTEX_INITIALIZER;

void kk_zh_set_dir(const char *lexicon_dir)
{
    pthread_mutex_lock(&g_dir_lock);
    if (lexicon_dir)
        snprintf(g_dir, sizeof g_dir, "%s/zh", lexicon_dir);
    pthread_mutex_unlock(&g_dir_lock);
}

/* Appends the vocabulary's code points of c[0..n) to out. */
static int put_vocab(const uint32_t *c, int n, kk_buf *out)
{
    for (int i = 0; i < n; i++)
        if (kk_vocab_id(c[i]) && kk_zu_to_utf8(c + i, 1, out) < 0)
            return -1;
    return 0;
}

/* Adds word w[0..n) (source bytes src[0], src[2n - 1]) for the phonemes from start on. */
static int add_word(kk_phon *out, const uint32_t *w, const int *src, int n, int start)
{
    if ((int)out->ph.n <= start)
        return 0;
    kk_buf text = {0};
    int rc = kk_zu_to_utf8(w, n, &text);
    if (rc == 0)
        rc = kk_phon_add_word(out, text.p, text.n, start, (int)out->ph.n);
    if (rc == 0) {
        out->words[out->n_words - 1].src_start = src[0];
        out->words[out->n_words - 1].src_end = src[2 * n - 1];
    }
    kk_buf_free(&text);
    return rc;
}

/* Phonemes of a Han run: its words' IPA joined by spaces, each word listed in out. */
static int han_run(const kk_zh_dict *d, const uint32_t *s, const int *src, int n,
                   kk_phon *out)
{
    kk_zu lens = {0}, cps = {0};
    kk_buf ipa = {0};
    int rc = kk_zh_cut(d, s, n, &lens);
    for (int i = 0, at = 0; i < lens.n && rc == 0; at += (int)lens.c[i++]) {
        int len = (int)lens.c[i];
        if (i > 0)
            rc = kk_buf_putc(&out->ph, ' ');
        ipa.n = 0;
        cps.n = 0;
        if (rc == 0)
            rc = kk_zh_word_ipa(d, s + at, len, &ipa);
        int start = (int)out->ph.n;
        if (rc == 0 && ipa.n)
            rc = kk_zu_from_utf8(&cps, ipa.p, ipa.n);
        if (rc == 0)
            rc = put_vocab(cps.c, cps.n, &out->ph);
        if (rc == 0)
            rc = add_word(out, s + at, src + 2 * at, len, start);
    }
    kk_zu_free(&lens);
    kk_zu_free(&cps);
    kk_buf_free(&ipa);
    return rc;
}

/* Text between Han runs, kept as written; each run of Latin letters is a word. */
static int other_run(const uint32_t *s, const int *src, int n, kk_phon *out)
{
    int rc = 0;
    for (int i = 0; i < n && rc == 0;) {
        int j = i;
        while (j < n && s[j] < 0x80 && ((s[j] | 0x20) >= 'a' && (s[j] | 0x20) <= 'z'))
            j++;
        if (j == i) {
            rc = put_vocab(s + i, 1, &out->ph);
            i++;
            continue;
        }
        int start = (int)out->ph.n;
        rc = put_vocab(s + i, j - i, &out->ph);
        if (rc == 0)
            rc = add_word(out, s + i, src + 2 * i, j - i, start);
        i = j;
    }
    return rc;
}

static void dict_dir(char *dir, size_t n)
{
    pthread_mutex_lock(&g_dir_lock);
    snprintf(dir, n, "%s", g_dir[0] ? g_dir : "models/lexicon/zh");
    pthread_mutex_unlock(&g_dir_lock);
}

int kk_g2p_zh(const char *text, kk_phon *out, char *err, size_t errlen)
{
    /* Text without Han needs no dictionary, but a language whose data is missing fails for
     * all text alike, so that the server's start-up probe does not offer it. */
    char dir[sizeof g_dir];
    dict_dir(dir, sizeof dir);
    int rc = kk_zh_dict_present(dir, err, errlen);
    if (rc != KOKORO_OK)
        return rc;
    kk_zu in = {0}, num = {0}, mapped = {0};
    kk_zi in_src = {0}, num_src = {0}, src = {0};
    size_t len = strlen(text);
    for (size_t i = 0; i < len && rc == KOKORO_OK;) {
        uint32_t cp;
        int k = kk_utf8_next(text + i, len - i, &cp);
        if (kk_zu_put(&in, cp) < 0 || kk_zi_pair(&in_src, (int)i, (int)i + k) < 0)
            rc = KOKORO_E_NOMEM;
        i += (size_t)k;
    }
    if (rc == KOKORO_OK && kk_zh_an2cn(in.c, &in_src, in.n, &num, &num_src) < 0)
        rc = KOKORO_E_NOMEM;
    for (int i = 0; i < num.n && rc == KOKORO_OK; i++) {
        const char *m = punct_map(num.c[i]);
        int before = mapped.n;
        if (m ? kk_zu_lit(&mapped, m) < 0 : kk_zu_put(&mapped, num.c[i]) < 0)
            rc = KOKORO_E_NOMEM;
        for (int k = before; k < mapped.n && rc == KOKORO_OK; k++)
            if (kk_zi_pair(&src, num_src.v[2 * i], num_src.v[2 * i + 1]) < 0)
                rc = KOKORO_E_NOMEM;
    }
    int a = 0, b = mapped.n;
    while (a < b && py_space(mapped.c[a]))
        a++;
    while (b > a && py_space(mapped.c[b - 1]))
        b--;
    const kk_zh_dict *d = NULL;
    for (int i = a; i < b && rc == KOKORO_OK;) {
        int j = i;
        int han = is_han(mapped.c[i]);
        while (j < b && is_han(mapped.c[j]) == han)
            j++;
        if (han && !d) {
            rc = kk_zh_dict_get(dir, &d, err, errlen);
            if (rc != KOKORO_OK)
                break;
        }
        if ((han ? han_run(d, mapped.c + i, src.v + 2 * i, j - i, out)
                 : other_run(mapped.c + i, src.v + 2 * i, j - i, out)) < 0)
            rc = KOKORO_E_NOMEM;
        i = j;
    }
    kk_zu_free(&in);
    kk_zu_free(&num);
    kk_zu_free(&mapped);
    kk_zi_free(&in_src);
    kk_zi_free(&num_src);
    kk_zi_free(&src);
    if (rc == KOKORO_E_NOMEM)
        return kk_fail(err, errlen, rc, "out of memory");
    return rc;
}

/* ------------------------------------------------------------ the back end (g2p.h) */

/* The dictionaries are process-wide and load on the first Mandarin text, from data_dir. */
static int zh_open(const char *data_dir, void **state, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    kk_zh_set_dir(data_dir);
    *state = NULL;
    return KOKORO_OK;
}

static int zh_phonemize(void *state, const kk_dicts *d, const kk_lang *lang, const char *text,
                        kk_phon *out, char *err, size_t errlen)
{
    (void)state, (void)d, (void)lang;
    return kk_g2p_zh(text, out, err, errlen);
}

const kk_g2p kk_g2p_mandarin = {"mandarin", zh_open, NULL, zh_phonemize};
