/* lexicon.c - misaki's gold/silver pronunciation dictionaries, parsed in place into a hash table.
 *
 * The files are JSON objects mapping a word either to a phoneme string or to an object of
 * part-of-speech tag -> phoneme string (null allowed) for heteronyms. Each file is read into
 * one buffer that stays alive; strings are unescaped inside it, so entries point into it and
 * loading costs one read and one pass. */
#include "core/util.h"
#include "core/utf8.h"
#include "text/lexicon.h"
#include "kokoro.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *key;  /* NUL-terminated, inside a file buffer */
    const char *ph;   /* default pronunciation (may be NULL for heteronym tables) */
    const char *tags; /* heteronyms: "TAG\0ph\0TAG\0ph\0\0" inside a file buffer, or NULL */
    uint32_t hash;
} kk_entry;

struct kk_lexicon {
    char *files[2];
    kk_entry *slots;
    uint32_t mask;
    int count;
};

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h ? h : 1;
}

typedef struct {
    char *p, *end;
    const char *path;
} parser;

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses a JSON string at ps->p, unescaping it in place; returns its start (NUL-terminated)
 * or NULL on a syntax error. The closing quote is overwritten by the NUL. */
static char *parse_string(parser *ps)
{
    if (ps->p >= ps->end || *ps->p != '"')
        return NULL;
    char *start = ++ps->p, *w = start;
    while (ps->p < ps->end && *ps->p != '"') {
        char c = *ps->p++;
        if (c != '\\') {
            *w++ = c;
            continue;
        }
        if (ps->p >= ps->end)
            return NULL;
        c = *ps->p++;
        switch (c) {
        case 'n': *w++ = '\n'; break;
        case 't': *w++ = '\t'; break;
        case 'r': *w++ = '\r'; break;
        case 'b': *w++ = '\b'; break;
        case 'f': *w++ = '\f'; break;
        case 'u': {
            uint32_t cp = 0;
            for (int i = 0; i < 4; i++) {
                int h = ps->p < ps->end ? hexval(*ps->p++) : -1;
                if (h < 0)
                    return NULL;
                cp = cp << 4 | (uint32_t)h;
            }
            /* A surrogate pair becomes one code point; 6+6 escaped bytes >= 4 written. */
            if (cp >= 0xD800 && cp < 0xDC00 && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
                ps->p[1] == 'u') {
                uint32_t lo = 0;
                int ok = 1;
                for (int i = 0; i < 4; i++) {
                    int h = hexval(ps->p[2 + i]);
                    if (h < 0)
                        ok = 0;
                    lo = lo << 4 | (uint32_t)(h < 0 ? 0 : h);
                }
                if (ok && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    ps->p += 6;
                }
            }
            w += kk_utf8_put(cp, w);
            break;
        }
        default: *w++ = c; break; /* \" \\ \/ */
        }
    }
    if (ps->p >= ps->end)
        return NULL;
    ps->p++;
    *w = 0;
    return start;
}

static int expect(parser *ps, char c)
{
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == c) {
        ps->p++;
        return 1;
    }
    return 0;
}

static int is_null(parser *ps)
{
    if (ps->end - ps->p >= 4 && memcmp(ps->p, "null", 4) == 0) {
        ps->p += 4;
        return 1;
    }
    return 0;
}

static int table_grow(kk_lexicon *lx)
{
    uint32_t cap = lx->mask ? (lx->mask + 1) * 2 : 1u << 19; /* 2x the entries of one dialect */
    kk_entry *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (uint32_t i = 0; lx->slots && i <= lx->mask; i++) {
        kk_entry *e = &lx->slots[i];
        if (!e->key)
            continue;
        uint32_t j = e->hash & (cap - 1);
        while (slots[j].key)
            j = (j + 1) & (cap - 1);
        slots[j] = *e;
    }
    free(lx->slots);
    lx->slots = slots;
    lx->mask = cap - 1;
    return 0;
}

static kk_entry *table_find(const kk_lexicon *lx, const char *key, size_t n, uint32_t h)
{
    if (!lx->slots)
        return NULL;
    for (uint32_t j = h & lx->mask;; j = (j + 1) & lx->mask) {
        kk_entry *e = &lx->slots[j];
        if (!e->key)
            return e;
        if (e->hash == h && strncmp(e->key, key, n) == 0 && e->key[n] == 0)
            return e;
    }
}

/* Adds an entry unless the key is already there (the gold file is loaded first and wins). */
static int table_add(kk_lexicon *lx, const char *key, const char *ph, const char *tags)
{
    if ((uint32_t)(lx->count + 1) * 2 > lx->mask + 1 && table_grow(lx) < 0)
        return -1;
    size_t n = strlen(key);
    uint32_t h = hash_bytes(key, n);
    kk_entry *e = table_find(lx, key, n, h);
    if (e->key)
        return 0;
    e->key = key, e->ph = ph, e->tags = tags, e->hash = h;
    lx->count++;
    return 0;
}

static int load_file(kk_lexicon *lx, int slot, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return kk_fail(err, errlen, KOKORO_E_IO,
                       "cannot open the pronunciation dictionary %s (%s); run `make model`", path,
                       strerror(errno));
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = size > 0 ? malloc((size_t)size + 1) : NULL;
    if (!buf) {
        fclose(f);
        return kk_fail(err, errlen, size > 0 ? KOKORO_E_NOMEM : KOKORO_E_FORMAT,
                       "cannot load %s: %s", path, size > 0 ? "out of memory" : "empty file");
    }
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    buf[got] = 0;
    lx->files[slot] = buf;
    if (got != (size_t)size)
        return kk_fail(err, errlen, KOKORO_E_IO, "short read on %s", path);

    parser ps = {buf, buf + got, path};
    if (!expect(&ps, '{'))
        goto bad;
    if (expect(&ps, '}'))
        return KOKORO_OK;
    do {
        skip_ws(&ps);
        char *key = parse_string(&ps);
        if (!key || !expect(&ps, ':'))
            goto bad;
        skip_ws(&ps);
        const char *ph = NULL, *tags = NULL;
        if (ps.p < ps.end && *ps.p == '"') {
            if (!(ph = parse_string(&ps)))
                goto bad;
        } else if (ps.p < ps.end && *ps.p == '{') {
            /* Heteronym table: rewrite "TAG": "ph" pairs compactly over the object's own
             * bytes as TAG\0ph\0...\0 (the packed form is never longer than the source). */
            ps.p++;
            char *w = NULL;
            if (!expect(&ps, '}')) {
                do {
                    skip_ws(&ps);
                    char *tag = parse_string(&ps);
                    if (!tag || !expect(&ps, ':'))
                        goto bad;
                    skip_ws(&ps);
                    char *v = NULL;
                    if (!is_null(&ps) && !(v = parse_string(&ps)))
                        goto bad;
                    if (!v)
                        continue;
                    if (!w)
                        w = tag - 1; /* the tag's opening quote: free to reuse */
                    if (!tags)
                        tags = w;
                    size_t tl = strlen(tag) + 1, vl = strlen(v) + 1;
                    /* decided before moving: the move may overwrite the tag's old bytes */
                    int is_default = strcmp(tag, "DEFAULT") == 0;
                    memmove(w, tag, tl);
                    w += tl;
                    memmove(w, v, vl);
                    w += vl;
                    if (is_default)
                        ph = w - vl;
                } while (expect(&ps, ','));
                if (!expect(&ps, '}'))
                    goto bad;
            }
            if (w)
                *w = 0; /* terminates the packed list; the '}' region is behind it */
        } else if (!is_null(&ps)) {
            goto bad;
        }
        if ((ph || tags) && table_add(lx, key, ph, tags) < 0)
            return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory loading %s", path);
    } while (expect(&ps, ','));
    if (!expect(&ps, '}'))
        goto bad;
    return KOKORO_OK;
bad:
    return kk_fail(err, errlen, KOKORO_E_FORMAT,
                   "%s is not a pronunciation dictionary (JSON error near byte %ld); "
                   "run `make model` to fetch it again",
                   path, (long)(ps.p - buf));
}

int kk_lexicon_load(const char *dir, const char *dialect, kk_lexicon **out, char *err,
                    size_t errlen)
{
    *out = NULL;
    kk_lexicon *lx = calloc(1, sizeof *lx);
    if (!lx)
        return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    static const char *const kinds[2] = {"gold", "silver"};
    for (int i = 0; i < 2; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s_%s.json", dir, dialect, kinds[i]);
        int rc = load_file(lx, i, path, err, errlen);
        if (rc != KOKORO_OK) {
            kk_lexicon_free(lx);
            return rc;
        }
    }
    *out = lx;
    return KOKORO_OK;
}

int kk_lexicon_load_user(const char *path, kk_lexicon **out, char *err, size_t errlen)
{
    *out = NULL;
    kk_lexicon *lx = calloc(1, sizeof *lx);
    if (!lx)
        return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    char why[300];
    int rc = load_file(lx, 0, path, why, sizeof why);
    if (rc != KOKORO_OK) {
        kk_lexicon_free(lx);
        return kk_fail(err, errlen, rc, "user lexicon %s: a JSON object of word -> phonemes is "
                       "expected (%s)", path, why);
    }
    *out = lx;
    return KOKORO_OK;
}

void kk_lexicon_free(kk_lexicon *lx)
{
    if (!lx)
        return;
    free(lx->files[0]);
    free(lx->files[1]);
    free(lx->slots);
    free(lx);
}

int kk_lexicon_size(const kk_lexicon *lx) { return lx ? lx->count : 0; }

const char *kk_lexicon_get(const kk_lexicon *lx, const char *word, size_t n, const char *pos)
{
    if (!lx || n == 0)
        return NULL;
    kk_entry *e = table_find(lx, word, n, hash_bytes(word, n));
    if (!e || !e->key)
        return NULL;
    if (pos && e->tags) {
        for (const char *t = e->tags; *t;) {
            const char *v = t + strlen(t) + 1;
            if (strcmp(t, pos) == 0)
                return v;
            t = v + strlen(v) + 1;
        }
    }
    if (e->ph)
        return e->ph;
    return e->tags ? e->tags + strlen(e->tags) + 1 : NULL; /* first tagged form */
}
