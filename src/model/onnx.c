/* onnx.c - reads the parts of an ONNX file the engine needs, straight from the protobuf
 * wire format. Every length is checked against the buffer: a corrupt file is an error. */
#include "model/onnx.h"
#include "core/buf.h"
#include "core/util.h"
#include "kokoro.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const uint8_t *p, *end;
} pb;

/* Reads a varint; returns 0 on success, -1 when truncated or longer than 10 bytes. */
static int pb_varint(pb *b, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (b->p >= b->end) return -1;
        uint8_t c = *b->p++;
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* Reads one field header and, for length-delimited fields, its payload bounds.
 * Skips nothing: the caller handles the value by wire type. */
typedef struct {
    uint32_t field, wire;
    uint64_t v;              /* varint value or fixed value */
    const uint8_t *data;     /* length-delimited payload */
    size_t len;
} pb_field;

static int pb_next(pb *b, pb_field *f)
{
    uint64_t key;
    if (pb_varint(b, &key)) return -1;
    f->field = (uint32_t)(key >> 3);
    f->wire = (uint32_t)(key & 7);
    switch (f->wire) {
    case 0: return pb_varint(b, &f->v);
    case 1:
        if (b->end - b->p < 8) return -1;
        memcpy(&f->v, b->p, 8);
        b->p += 8;
        return 0;
    case 5: {
        if (b->end - b->p < 4) return -1;
        uint32_t x;
        memcpy(&x, b->p, 4);
        f->v = x;
        b->p += 4;
        return 0;
    }
    case 2: {
        uint64_t n;
        if (pb_varint(b, &n)) return -1;
        if (n > (uint64_t)(b->end - b->p)) return -1;
        f->data = b->p;
        f->len = (size_t)n;
        b->p += n;
        return 0;
    }
    default: return -1; /* groups (3, 4) are not used by ONNX */
    }
}

/* String pool: all names are copied once so that they are NUL-terminated. */
typedef kk_buf spool;

/* Adds a name of n bytes and its NUL. Returns its offset, or -1 when out of memory. */
static long spool_add(spool *s, const uint8_t *data, size_t n)
{
    long off = (long)s->n;
    if (kk_buf_reserve(s, n + 1)) return -1;
    kk_buf_put(s, data, n); /* cannot fail: the room is reserved */
    kk_buf_putc(s, 0);
    return off;
}

/* During parsing, names are stored as pool offsets (cast to pointers) and fixed up at the
 * end, because the pool may move while it grows. */
#define OFF2P(o) ((const char *)(uintptr_t)(o))
#define P2OFF(p) ((long)(uintptr_t)(p))

static int parse_tensor(const uint8_t *data, size_t len, onnx_tensor *t, spool *sp)
{
    pb b = {data, data + len};
    pb_field f = {0};
    memset(t, 0, sizeof *t);
    long name = spool_add(sp, (const uint8_t *)"", 0);
    if (name < 0) return KOKORO_E_NOMEM;
    while (b.p < b.end) {
        if (pb_next(&b, &f)) return KOKORO_E_FORMAT;
        switch (f.field) {
        case 1: /* dims, packed or not */
            if (f.wire == 0) {
                if (t->ndims >= 8) return KOKORO_E_FORMAT;
                t->dims[t->ndims++] = (int64_t)f.v;
            } else if (f.wire == 2) {
                pb d = {f.data, f.data + f.len};
                while (d.p < d.end) {
                    uint64_t v;
                    if (pb_varint(&d, &v) || t->ndims >= 8) return KOKORO_E_FORMAT;
                    t->dims[t->ndims++] = (int64_t)v;
                }
            }
            break;
        case 2: t->dtype = (int)f.v; break;
        case 4: /* float_data */
        case 5: /* int32_data */
        case 7: /* int64_data */
            if (f.wire == 2) {
                t->packed = f.data;
                t->packed_len = f.len;
                t->packed_field = (int)f.field;
            } else {
                return KOKORO_E_FORMAT; /* unpacked repeated values: not produced by exporters */
            }
            break;
        case 8:
            if (f.wire != 2) return KOKORO_E_FORMAT;
            name = spool_add(sp, f.data, f.len);
            if (name < 0) return KOKORO_E_NOMEM;
            break;
        case 9:
            if (f.wire != 2) return KOKORO_E_FORMAT;
            t->raw = f.data;
            t->raw_len = f.len;
            break;
        case 14: /* data_location: 1 = external */
            if (f.v == 1) return KOKORO_E_UNSUPPORTED;
            break;
        default: break;
        }
    }
    t->name = OFF2P(name);
    /* At most 2^34 elements (64 GiB of float), checked before each product, which could
     * otherwise pass int64 (2^34 * 2^32 is 2^66). */
    const int64_t max_count = (int64_t)1 << 34;
    int64_t count = 1;
    for (int i = 0; i < t->ndims; i++) {
        if (t->dims[i] < 0 || t->dims[i] > ((int64_t)1 << 32)) return KOKORO_E_FORMAT;
        if (t->dims[i] && count > max_count / t->dims[i]) return KOKORO_E_FORMAT;
        count *= t->dims[i];
    }
    t->count = count;
    /* The data must hold count elements of the declared type. */
    size_t esz = 0;
    switch (t->dtype) {
    case ONNX_FLOAT: case ONNX_INT32: esz = 4; break;
    case ONNX_UINT8: case ONNX_INT8: esz = 1; break;
    case ONNX_INT64: esz = 8; break;
    case ONNX_FLOAT16: esz = 2; break;
    default: esz = 0; break; /* other types are kept but never read */
    }
    if (esz && t->raw) {
        if (t->raw_len != (size_t)count * esz) return KOKORO_E_FORMAT;
    } else if (esz && t->packed) {
        if (t->packed_field == 4 && t->packed_len != (size_t)count * 4) return KOKORO_E_FORMAT;
        if (t->packed_field != 4) { /* varint-packed int32_data / int64_data */
            pb d = {t->packed, t->packed + t->packed_len};
            int64_t n = 0;
            uint64_t v;
            while (d.p < d.end) {
                if (pb_varint(&d, &v)) return KOKORO_E_FORMAT;
                n++;
            }
            if (n != count) return KOKORO_E_FORMAT;
        }
    }
    return KOKORO_OK;
}

typedef struct {
    onnx_node *nodes;
    int n, cap;
    long *strs; /* offsets */
    size_t n_strs, cap_strs;
} nodevec;

static int push_str(nodevec *nv, long off)
{
    if (nv->n_strs == nv->cap_strs) {
        size_t cap = nv->cap_strs ? nv->cap_strs * 2 : 4096;
        long *ns = realloc(nv->strs, cap * sizeof *ns);
        if (!ns) return KOKORO_E_NOMEM;
        nv->strs = ns;
        nv->cap_strs = cap;
    }
    nv->strs[nv->n_strs++] = off;
    return KOKORO_OK;
}

static int parse_node(const uint8_t *data, size_t len, nodevec *nv, spool *sp)
{
    onnx_node *nn = kk_grow(nv->nodes, nv->n + 1, &nv->cap, sizeof *nn, 1024);
    if (!nn) return KOKORO_E_NOMEM;
    nv->nodes = nn;
    onnx_node *nd = &nv->nodes[nv->n];
    memset(nd, 0, sizeof *nd);
    long empty = spool_add(sp, (const uint8_t *)"", 0);
    if (empty < 0) return KOKORO_E_NOMEM;
    long name = empty, op = empty;
    /* inputs first, then outputs, are pushed in order; two passes keep them contiguous */
    for (int pass = 1; pass <= 2; pass++) {
        pb b = {data, data + len};
        pb_field f = {0};
        size_t start = nv->n_strs;
        while (b.p < b.end) {
            if (pb_next(&b, &f)) return KOKORO_E_FORMAT;
            if (f.wire != 2) continue;
            if (f.field == (uint32_t)pass) {
                long o = spool_add(sp, f.data, f.len);
                if (o < 0 || push_str(nv, o)) return KOKORO_E_NOMEM;
            } else if (pass == 1 && f.field == 3) {
                if ((name = spool_add(sp, f.data, f.len)) < 0) return KOKORO_E_NOMEM;
            } else if (pass == 1 && f.field == 4) {
                if ((op = spool_add(sp, f.data, f.len)) < 0) return KOKORO_E_NOMEM;
            }
        }
        int cnt = (int)(nv->n_strs - start);
        /* store the start index; fixed up to pointers later */
        if (pass == 1) {
            nd->n_in = cnt;
            nd->in = (const char **)(uintptr_t)start;
        } else {
            nd->n_out = cnt;
            nd->out = (const char **)(uintptr_t)start;
        }
    }
    nd->name = OFF2P(name);
    nd->op = OFF2P(op);
    nv->n++;
    return KOKORO_OK;
}

typedef struct {
    onnx_tensor *t;
    int n, cap;
} tensorvec;

static int parse_graph(const uint8_t *data, size_t len, tensorvec *tv, nodevec *nv, spool *sp)
{
    pb b = {data, data + len};
    pb_field f = {0};
    while (b.p < b.end) {
        if (pb_next(&b, &f)) return KOKORO_E_FORMAT;
        if (f.wire != 2) continue;
        int rc = KOKORO_OK;
        if (f.field == 1) {
            rc = parse_node(f.data, f.len, nv, sp);
        } else if (f.field == 5) {
            onnx_tensor *nt = kk_grow(tv->t, tv->n + 1, &tv->cap, sizeof *nt, 1024);
            if (!nt) return KOKORO_E_NOMEM;
            tv->t = nt;
            rc = parse_tensor(f.data, f.len, &tv->t[tv->n], sp);
            if (rc == KOKORO_OK) tv->n++;
        }
        if (rc) return rc;
    }
    return KOKORO_OK;
}

int onnx_parse(const uint8_t *buf, size_t len, onnx_file *out, char *err, size_t errlen)
{
    pb b = {buf, buf + len};
    pb_field f = {0};
    spool sp = {0};
    tensorvec tv = {0};
    nodevec nv = {0};
    int have_graph = 0, rc = KOKORO_OK;
    memset(out, 0, sizeof *out);
    while (b.p < b.end && rc == KOKORO_OK) {
        if (pb_next(&b, &f)) {
            rc = KOKORO_E_FORMAT;
            break;
        }
        if (f.field == 7 && f.wire == 2) {
            if (have_graph) {
                rc = KOKORO_E_FORMAT;
                break;
            }
            have_graph = 1;
            rc = parse_graph(f.data, f.len, &tv, &nv, &sp);
        }
    }
    if (rc == KOKORO_OK && !have_graph) rc = KOKORO_E_FORMAT;
    if (rc == KOKORO_OK && nv.n_strs == 0 && nv.n == 0 && tv.n == 0) rc = KOKORO_E_FORMAT;
    const char **strs = NULL;
    if (rc == KOKORO_OK) {
        strs = malloc((nv.n_strs ? nv.n_strs : 1) * sizeof *strs);
        if (!strs) rc = KOKORO_E_NOMEM;
    }
    if (rc != KOKORO_OK) {
        kk_buf_free(&sp);
        free(tv.t);
        free(nv.nodes);
        free(nv.strs);
        if (rc == KOKORO_E_NOMEM) return kk_fail(err, errlen, rc, "out of memory reading the model");
        if (rc == KOKORO_E_UNSUPPORTED)
            return kk_fail(err, errlen, KOKORO_E_FORMAT,
                           "the model keeps its weights in external data files; use a "
                           "single-file ONNX export");
        return kk_fail(err, errlen, KOKORO_E_FORMAT,
                       "not a valid ONNX model (corrupt or truncated protobuf)");
    }
    for (size_t i = 0; i < nv.n_strs; i++) strs[i] = sp.p + nv.strs[i];
    for (int i = 0; i < nv.n; i++) {
        onnx_node *nd = &nv.nodes[i];
        nd->name = sp.p + P2OFF(nd->name);
        nd->op = sp.p + P2OFF(nd->op);
        nd->in = strs + (uintptr_t)nd->in;
        nd->out = strs + (uintptr_t)nd->out;
    }
    for (int i = 0; i < tv.n; i++) tv.t[i].name = sp.p + P2OFF(tv.t[i].name);
    free(nv.strs);
    out->tensors = tv.t;
    out->n_tensors = tv.n;
    out->nodes = nv.nodes;
    out->n_nodes = nv.n;
    out->pool = sp.p;
    out->strs = strs;
    return KOKORO_OK;
}

int onnx_open(const char *path, onnx_file *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kk_fail(err, errlen, KOKORO_E_IO, "cannot open model %s: %s (run `make model`, "
                       "or pass the path of kokoro-v1.0.onnx / .int8.onnx)", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size == 0) {
        close(fd);
        return kk_fail(err, errlen, KOKORO_E_IO, "model %s is not a readable, non-empty file", path);
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return kk_fail(err, errlen, KOKORO_E_IO, "cannot map model %s: %s", path, strerror(errno));
    int rc = onnx_parse(map, (size_t)st.st_size, f, err, errlen);
    if (rc) {
        munmap(map, (size_t)st.st_size);
        return rc;
    }
    f->map = map;
    f->map_len = (size_t)st.st_size;
    return KOKORO_OK;
}

void onnx_close(onnx_file *f)
{
    if (!f) return;
    if (f->map) munmap(f->map, f->map_len);
    free(f->tensors);
    free(f->nodes);
    free(f->pool);
    free((void *)f->strs);
    memset(f, 0, sizeof *f);
}

const onnx_tensor *onnx_tensor_find(const onnx_file *f, const char *name)
{
    for (int i = 0; i < f->n_tensors; i++)
        if (!strcmp(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal */
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) {
                man <<= 1;
                exp--;
            }
            bits = sign | (exp << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float out;
    memcpy(&out, &bits, 4);
    return out;
}

float onnx_tensor_get(const onnx_tensor *t, int64_t i)
{
    if (i < 0 || i >= t->count) return 0.0f;
    const uint8_t *d = t->raw ? t->raw : t->packed;
    if (!d) return 0.0f;
    if (!t->raw && t->packed_field != 4) { /* varints: walk to element i (small tensors only) */
        pb b = {t->packed, t->packed + t->packed_len};
        uint64_t v = 0;
        for (int64_t k = 0; k <= i; k++)
            if (pb_varint(&b, &v)) return 0.0f;
        if (t->dtype == ONNX_INT8 || t->dtype == ONNX_INT32) return (float)(int32_t)(uint32_t)v;
        return t->dtype == ONNX_INT64 ? (float)(int64_t)v : (float)v;
    }
    switch (t->dtype) {
    case ONNX_FLOAT: {
        float v;
        memcpy(&v, d + 4 * i, 4);
        return v;
    }
    case ONNX_UINT8: return (float)d[i];
    case ONNX_INT8: return (float)(int8_t)d[i];
    case ONNX_INT32: {
        int32_t v;
        memcpy(&v, d + 4 * i, 4);
        return (float)v;
    }
    case ONNX_INT64: {
        int64_t v;
        memcpy(&v, d + 8 * i, 8);
        return (float)v;
    }
    case ONNX_FLOAT16: {
        uint16_t v;
        memcpy(&v, d + 2 * i, 2);
        return half_to_float(v);
    }
    default: return 0.0f;
    }
}
