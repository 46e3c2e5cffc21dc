/* onnx.h - a minimal, bounds-checked reader of ONNX model files (protobuf wire format):
 * graph nodes (name, op, inputs) and initializers (constant tensors), nothing else. */
#ifndef KK_ONNX_H
#define KK_ONNX_H

#include <stddef.h>
#include <stdint.h>

enum { ONNX_FLOAT = 1, ONNX_UINT8 = 2, ONNX_INT8 = 3, ONNX_INT32 = 6, ONNX_INT64 = 7,
       ONNX_FLOAT16 = 10 };

typedef struct {
    const char *name;     /* points into the names pool, NUL-terminated */
    int dtype;
    int ndims;
    int64_t dims[8];
    int64_t count;        /* number of elements */
    const uint8_t *raw;   /* raw little-endian data inside the file (raw_data) ... */
    size_t raw_len;
    const uint8_t *packed; /* ... or packed float_data/int32_data/int64_data (varints for ints) */
    size_t packed_len;
    int packed_field;     /* which repeated field packed points to */
} onnx_tensor;

typedef struct {
    const char *name, *op;
    int n_in, n_out;
    const char **in, **out;
} onnx_node;

typedef struct {
    void *map;            /* the whole file, mmap'd read-only */
    size_t map_len;
    onnx_tensor *tensors;
    int n_tensors;
    onnx_node *nodes;
    int n_nodes;
    char *pool;           /* NUL-terminated copies of every string */
    const char **strs;    /* storage of node input/output lists */
} onnx_file;

/* Opens and parses path. Returns KOKORO_OK or KOKORO_E_IO / KOKORO_E_FORMAT / KOKORO_E_NOMEM
 * with a message in err. On failure nothing needs freeing. */
int onnx_open(const char *path, onnx_file *f, char *err, size_t errlen);
/* Parses a file already in memory (used by the fuzzer); buf must outlive f. */
int onnx_parse(const uint8_t *buf, size_t len, onnx_file *f, char *err, size_t errlen);
void onnx_close(onnx_file *f);

const onnx_tensor *onnx_tensor_find(const onnx_file *f, const char *name);

/* Element i of a tensor of any supported numeric type, as float (0 when out of range). */
float onnx_tensor_get(const onnx_tensor *t, int64_t i);

#endif
