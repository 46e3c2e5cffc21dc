/* test_onnx.c - the ONNX reader on hand-made protobuf bytes: shapes it must accept, and shapes
 * whose element count would overflow or pass the limit, which must be a format error (built
 * with UBSan by `make check`, so an overflowing product fails the run even if it were caught
 * later). Needs no model file. */
#include "check.h"
#include "kokoro.h"
#include "model/onnx.h"

#include <stdint.h>

typedef struct {
    uint8_t b[512];
    size_t n;
} msg;

static void put_varint(msg *m, uint64_t v)
{
    do {
        m->b[m->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

static void put_key(msg *m, unsigned field, unsigned wire)
{
    put_varint(m, (uint64_t)field << 3 | wire);
}

static void put_bytes(msg *m, unsigned field, const void *data, size_t len)
{
    put_key(m, field, 2);
    put_varint(m, len);
    memcpy(m->b + m->n, data, len);
    m->n += len;
}

/* A ModelProto whose graph holds one float initializer "w" of the given dims and raw_len
 * bytes of data. */
static msg model_with(const int64_t *dims, int ndims, size_t raw_len)
{
    static const uint8_t zeros[64];
    msg tensor = {0}, graph = {0}, model = {0};
    for (int i = 0; i < ndims; i++) {
        put_key(&tensor, 1, 0);
        put_varint(&tensor, (uint64_t)dims[i]);
    }
    put_key(&tensor, 2, 0); /* data_type FLOAT */
    put_varint(&tensor, 1);
    put_bytes(&tensor, 8, "w", 1);
    put_bytes(&tensor, 9, zeros, raw_len);
    put_bytes(&graph, 5, tensor.b, tensor.n);
    put_key(&model, 1, 0); /* ir_version */
    put_varint(&model, 8);
    put_bytes(&model, 7, graph.b, graph.n);
    return model;
}

static int parse(const int64_t *dims, int ndims, size_t raw_len, onnx_file *f)
{
    char err[256] = "";
    msg m = model_with(dims, ndims, raw_len);
    memset(f, 0, sizeof *f);
    return onnx_parse(m.b, m.n, f, err, sizeof err);
}

static void expect_format_error(const char *what, const int64_t *dims, int ndims)
{
    onnx_file f;
    int rc = parse(dims, ndims, 4, &f);
    CHECK(rc == KOKORO_E_FORMAT, "%s: got %d, want a format error", what, rc);
    if (rc == KOKORO_OK)
        onnx_close(&f);
}

int main(void)
{
    onnx_file f;
    const int64_t ok[] = {2, 3};
    CHECK(parse(ok, 2, 24, &f) == KOKORO_OK, "a 2x3 float tensor of 24 bytes loads");
    const onnx_tensor *t = onnx_tensor_find(&f, "w");
    CHECK(t && t->count == 6, "its count is 6");
    onnx_close(&f);
    CHECK(parse(ok, 2, 20, &f) == KOKORO_E_FORMAT, "20 bytes cannot hold 6 floats");

    /* Each dimension within 2^32, the product far past int64: 2^34 * 2^32 = 2^66. */
    const int64_t wraps[] = {(int64_t)1 << 32, 4, (int64_t)1 << 32};
    expect_format_error("2^32 x 4 x 2^32", wraps, 3);
    const int64_t many[] = {65536, 65536, 65536, 65536, 65536};
    expect_format_error("65536^5", many, 5);
    const int64_t just_over[] = {((int64_t)1 << 34) / 1024 + 1, 1024};
    expect_format_error("one row past 2^34 elements", just_over, 2);
    const int64_t too_wide[] = {((int64_t)1 << 32) + 1};
    expect_format_error("one dimension past 2^32", too_wide, 1);

    /* A zero dimension makes an empty tensor whatever the others are. */
    const int64_t empty[] = {0, (int64_t)1 << 32, (int64_t)1 << 32};
    CHECK(parse(empty, 3, 0, &f) == KOKORO_OK, "0 x 2^32 x 2^32 is an empty tensor");
    t = onnx_tensor_find(&f, "w");
    CHECK(t && t->count == 0, "with no elements");
    onnx_close(&f);
    return check_done("test_onnx");
}
