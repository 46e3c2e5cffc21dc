/* voices.c - voice packs: a folder of <name>.bin (raw float32 [510][256]) or a
 * voices-v1.0.bin / .npz archive (uncompressed zip of <name>.npy), and blends of them. */
#include "kokoro.h"
#include "core/buf.h"
#include "core/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PACK_BYTES ((size_t)KOKORO_VOICE_FLOATS * sizeof(float))

typedef struct {
    char *name;
    float *pack;
} voice;

struct kokoro_voices {
    voice *v;
    int n, cap;
};

static int valid_name(const char *s, size_t n)
{
    if (n == 0 || n > 64) return 0;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-')) return 0;
    return 1;
}

static int add_voice(kokoro_voices *vs, const char *name, size_t nlen, const void *data)
{
    voice *nv = kk_grow(vs->v, vs->n + 1, &vs->cap, sizeof *nv, 64);
    if (!nv) return KOKORO_E_NOMEM;
    vs->v = nv;
    voice *v = &vs->v[vs->n];
    v->name = strndup(name, nlen);
    v->pack = malloc(PACK_BYTES);
    if (!v->name || !v->pack) {
        free(v->name);
        free(v->pack);
        return KOKORO_E_NOMEM;
    }
    memcpy(v->pack, data, PACK_BYTES);
    for (size_t i = 0; i < KOKORO_VOICE_FLOATS; i++)
        if (!isfinite(v->pack[i])) {
            free(v->name);
            free(v->pack);
            return KOKORO_E_FORMAT;
        }
    vs->n++;
    return KOKORO_OK;
}

static int cmp_voice(const void *a, const void *b)
{
    return strcmp(((const voice *)a)->name, ((const voice *)b)->name);
}

static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | rd16(p + 2) << 16; }

/* Validates an .npy blob holding float32 little-endian [510,1,256] or [510,256] and returns a
 * pointer to its data, or NULL. */
static const uint8_t *npy_data(const uint8_t *p, size_t n)
{
    if (n < 10 || memcmp(p, "\x93NUMPY", 6)) return NULL;
    size_t hl, off;
    if (p[6] == 1) {
        hl = rd16(p + 8);
        off = 10;
    } else if (p[6] == 2 || p[6] == 3) {
        if (n < 12) return NULL;
        hl = rd32(p + 8);
        off = 12;
    } else {
        return NULL;
    }
    if (hl > n - off) return NULL;
    char hdr[512];
    size_t cl = hl < sizeof hdr - 1 ? hl : sizeof hdr - 1;
    memcpy(hdr, p + off, cl);
    hdr[cl] = 0;
    if (!strstr(hdr, "'<f4'") || strstr(hdr, "True")) return NULL;
    if (!strstr(hdr, "(510, 1, 256)") && !strstr(hdr, "(510, 256)")) return NULL;
    if (n - off - hl != PACK_BYTES) return NULL;
    return p + off + hl;
}

static int load_npz(kokoro_voices *vs, const uint8_t *buf, size_t len, const char *path, char *err,
                    size_t errlen)
{
    /* End of central directory: the last 22+ bytes, signature PK\5\6 */
    if (len < 22) goto bad;
    size_t eocd = len - 22;
    size_t stop = len > 22 + 65535 ? len - 22 - 65535 : 0;
    while (rd32(buf + eocd) != 0x06054b50) {
        if (eocd == stop) goto bad;
        eocd--;
    }
    uint32_t entries = rd16(buf + eocd + 10), cd_size = rd32(buf + eocd + 12),
             cd_off = rd32(buf + eocd + 16);
    if ((size_t)cd_off + cd_size > eocd) goto bad;
    size_t pos = cd_off;
    for (uint32_t e = 0; e < entries; e++) {
        if (pos + 46 > eocd || rd32(buf + pos) != 0x02014b50) goto bad;
        uint32_t method = rd16(buf + pos + 10), csize = rd32(buf + pos + 20),
                 usize = rd32(buf + pos + 24), nlen = rd16(buf + pos + 28),
                 xlen = rd16(buf + pos + 30), clen = rd16(buf + pos + 32),
                 loff = rd32(buf + pos + 42);
        const char *name = (const char *)buf + pos + 46;
        if (pos + 46 + (size_t)nlen + xlen + clen > eocd) goto bad;
        pos += 46 + (size_t)nlen + xlen + clen;
        if (nlen < 5 || memcmp(name + nlen - 4, ".npy", 4)) continue;
        if (method != 0)
            return kk_fail(err, errlen, KOKORO_E_FORMAT,
                           "%s: compressed archives (np.savez_compressed) are not supported; "
                           "use np.savez or a folder of .bin files", path);
        if ((size_t)loff + 30 > len || rd32(buf + loff) != 0x04034b50) goto bad;
        size_t data = (size_t)loff + 30 + rd16(buf + loff + 26) + rd16(buf + loff + 28);
        if (csize != usize || data > len || csize > len - data) goto bad;
        const uint8_t *d = npy_data(buf + data, csize);
        if (!d || !valid_name(name, nlen - 4))
            return kk_fail(err, errlen, KOKORO_E_FORMAT,
                           "%s: entry %.*s is not a float32 [510,1,256] voice", path, (int)nlen,
                           name);
        int rc = add_voice(vs, name, nlen - 4, d);
        if (rc)
            return kk_fail(err, errlen, rc, "%s: entry %.*s: %s", path, (int)nlen, name,
                           rc == KOKORO_E_FORMAT ? "holds non-finite values" : "out of memory");
    }
    return KOKORO_OK;
bad:
    return kk_fail(err, errlen, KOKORO_E_FORMAT, "%s is not a valid voices archive (npz)", path);
}

static int read_file(const char *path, uint8_t **buf, size_t *len, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f) return KOKORO_E_IO;
    struct stat st;
    if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
        fclose(f);
        return KOKORO_E_FORMAT;
    }
    *len = (size_t)st.st_size;
    *buf = malloc(*len ? *len : 1);
    if (!*buf) {
        fclose(f);
        return KOKORO_E_NOMEM;
    }
    size_t got = fread(*buf, 1, *len, f);
    fclose(f);
    if (got != *len) {
        free(*buf);
        return KOKORO_E_IO;
    }
    return KOKORO_OK;
}

int kokoro_voices_parse_npz(const uint8_t *buf, size_t len, kokoro_voices **out, char *err,
                            size_t errlen);

int kokoro_voices_parse_npz(const uint8_t *buf, size_t len, kokoro_voices **out, char *err,
                            size_t errlen)
{
    kokoro_voices *vs = calloc(1, sizeof *vs);
    if (!vs) return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    int rc = load_npz(vs, buf, len, "archive", err, errlen);
    if (rc == KOKORO_OK && vs->n == 0)
        rc = kk_fail(err, errlen, KOKORO_E_FORMAT, "archive holds no voices");
    if (rc) {
        kokoro_voices_free(vs);
        return rc;
    }
    qsort(vs->v, (size_t)vs->n, sizeof *vs->v, cmp_voice);
    *out = vs;
    return KOKORO_OK;
}

int kokoro_voices_load(const char *path, kokoro_voices **out, char *err, size_t errlen)
{
    if (!path || !out) return kk_fail(err, errlen, KOKORO_E_ARG, "voices path missing");
    *out = NULL;
    struct stat st;
    if (stat(path, &st))
        return kk_fail(err, errlen, KOKORO_E_IO, "cannot open voices %s: %s (run `make model`)",
                       path, strerror(errno));
    kokoro_voices *vs = calloc(1, sizeof *vs);
    if (!vs) return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    int rc = KOKORO_OK;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) {
            kokoro_voices_free(vs);
            return kk_fail(err, errlen, KOKORO_E_IO, "cannot read folder %s: %s", path,
                           strerror(errno));
        }
        struct dirent *de;
        while (rc == KOKORO_OK && (de = readdir(d))) {
            size_t nl = strlen(de->d_name);
            if (nl < 5 || strcmp(de->d_name + nl - 4, ".bin")) continue;
            char full[4096];
            snprintf(full, sizeof full, "%s/%s", path, de->d_name);
            uint8_t *buf;
            size_t len;
            int r = read_file(full, &buf, &len, 64u << 20);
            if (r) {
                rc = kk_fail(err, errlen, r, "cannot read voice %s", full);
                break;
            }
            if (len == PACK_BYTES && valid_name(de->d_name, nl - 4)) {
                r = add_voice(vs, de->d_name, nl - 4, buf);
                if (r)
                    rc = kk_fail(err, errlen, r, "voice %s: %s", full,
                                 r == KOKORO_E_FORMAT ? "holds non-finite values" : "out of memory");
            } else if (len >= 4 && rd32(buf) == 0x04034b50) {
                r = load_npz(vs, buf, len, full, err, errlen);
                if (r) rc = r;
            } else {
                rc = kk_fail(err, errlen, KOKORO_E_FORMAT,
                             "voice %s is %zu bytes, expected %zu (float32 [510][256])", full,
                             len, PACK_BYTES);
            }
            free(buf);
        }
        closedir(d);
    } else {
        uint8_t *buf;
        size_t len;
        rc = read_file(path, &buf, &len, 1u << 30);
        if (rc) {
            kokoro_voices_free(vs);
            return kk_fail(err, errlen, rc, "cannot read voices %s", path);
        }
        if (len == PACK_BYTES) {
            const char *base = strrchr(path, '/');
            base = base ? base + 1 : path;
            size_t nl = strlen(base);
            if (nl > 4 && !strcmp(base + nl - 4, ".bin")) nl -= 4;
            rc = valid_name(base, nl) ? add_voice(vs, base, nl, buf)
                                      : kk_fail(err, errlen, KOKORO_E_FORMAT,
                                                "voice file name %s is not a voice name", base);
        } else {
            rc = load_npz(vs, buf, len, path, err, errlen);
        }
        free(buf);
    }
    if (rc == KOKORO_OK && vs->n == 0)
        rc = kk_fail(err, errlen, KOKORO_E_FORMAT, "no voices found in %s", path);
    if (rc) {
        kokoro_voices_free(vs);
        return rc;
    }
    qsort(vs->v, (size_t)vs->n, sizeof *vs->v, cmp_voice);
    *out = vs;
    return KOKORO_OK;
}

void kokoro_voices_free(kokoro_voices *vs)
{
    if (!vs) return;
    for (int i = 0; i < vs->n; i++) {
        free(vs->v[i].name);
        free(vs->v[i].pack);
    }
    free(vs->v);
    free(vs);
}

int kokoro_voices_count(const kokoro_voices *vs) { return vs ? vs->n : 0; }

const char *kokoro_voices_name(const kokoro_voices *vs, int i)
{
    return vs && i >= 0 && i < vs->n ? vs->v[i].name : NULL;
}

const float *kokoro_voices_get(const kokoro_voices *vs, const char *name)
{
    if (!vs || !name) return NULL;
    voice key = {(char *)name, NULL};
    voice *v = bsearch(&key, vs->v, (size_t)vs->n, sizeof *vs->v, cmp_voice);
    return v ? v->pack : NULL;
}

enum { MAX_PARTS = 8 };

/* Reads a voice spec into its voices' packs and weights (*n of them, *total their weights'
 * sum); the checks and messages of kokoro_voice_check. */
static int parse_blend(const kokoro_voices *vs, const char *spec, const float **packs,
                       double *weights, int *n_out, double *total_out, char *err, size_t errlen)
{
    double total = 0;
    int n = 0;
    const char *p = spec;
    if (!*p) return kk_fail(err, errlen, KOKORO_E_ARG, "empty voice name");
    while (*p) {
        if (n == MAX_PARTS)
            return kk_fail(err, errlen, KOKORO_E_ARG, "a blend takes at most %d voices", MAX_PARTS);
        const char *s = p;
        while (*p && *p != '+' && *p != '(') p++;
        size_t nl = (size_t)(p - s);
        while (nl && s[nl - 1] == ' ') nl--;
        while (nl && *s == ' ') s++, nl--;
        char name[65];
        if (!valid_name(s, nl))
            return kk_fail(err, errlen, KOKORO_E_ARG,
                           "voice '%.64s' is not a valid voice name (letters, digits, _ and -)",
                           spec);
        memcpy(name, s, nl);
        name[nl] = 0;
        double w = 1.0;
        if (*p == '(') {
            char *end;
            errno = 0;
            w = strtod(p + 1, &end);
            if (end == p + 1 || *end != ')' || errno || !(w > 0) || !isfinite(w) || w > 1e6)
                return kk_fail(err, errlen, KOKORO_E_ARG,
                               "weight of voice %s must be a positive number, as in %s(2)", name,
                               name);
            p = end + 1;
        }
        while (*p == ' ') p++;
        if (*p == '+') {
            p++;
            if (!*p) return kk_fail(err, errlen, KOKORO_E_ARG, "blend '%.64s' ends with '+'", spec);
        } else if (*p) {
            return kk_fail(err, errlen, KOKORO_E_ARG, "cannot read voice blend '%.64s'", spec);
        }
        const float *pk = kokoro_voices_get(vs, name);
        if (!pk) return kk_fail(err, errlen, KOKORO_E_NOT_FOUND, "voice %s not found", name);
        packs[n] = pk;
        weights[n] = w;
        total += w;
        n++;
    }
    *n_out = n;
    *total_out = total;
    return KOKORO_OK;
}

int kokoro_voice_check(const kokoro_voices *vs, const char *spec, char *err, size_t errlen)
{
    if (!vs || !spec) return kk_fail(err, errlen, KOKORO_E_ARG, "missing argument");
    const float *packs[MAX_PARTS];
    double weights[MAX_PARTS], total;
    int n;
    return parse_blend(vs, spec, packs, weights, &n, &total, err, errlen);
}

int kokoro_voice_blend(const kokoro_voices *vs, const char *spec, float *pack_out, char *err,
                       size_t errlen)
{
    if (!vs || !spec || !pack_out) return kk_fail(err, errlen, KOKORO_E_ARG, "missing argument");
    const float *packs[MAX_PARTS];
    double weights[MAX_PARTS], total;
    int n;
    int rc = parse_blend(vs, spec, packs, weights, &n, &total, err, errlen);
    if (rc != KOKORO_OK) return rc;
    for (size_t i = 0; i < KOKORO_VOICE_FLOATS; i++) {
        double acc = 0;
        for (int j = 0; j < n; j++) acc += weights[j] / total * packs[j][i];
        pack_out[i] = (float)acc;
    }
    return KOKORO_OK;
}

const float *kokoro_voice_row(const float *pack, int n_ids)
{
    int r = n_ids - 1;
    if (r < 0) r = 0;
    if (r > KOKORO_VOICE_ROWS - 1) r = KOKORO_VOICE_ROWS - 1;
    return pack + (size_t)r * KOKORO_STYLE_DIM;
}
