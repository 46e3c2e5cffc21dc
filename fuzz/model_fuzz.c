/* model_fuzz.c - libFuzzer target for the model loader: the protobuf reader and the weight
 * finder must turn any byte string into either a model or a clear error, never a crash. */
#include "model/model.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    kokoro_model *m = calloc(1, sizeof *m);
    if (!m) return 0;
    if (onnx_parse(data, size, &m->onnx, err, sizeof err) == KOKORO_OK) {
        /* walk every tensor the reader accepted, then try to find the model's weights */
        for (int i = 0; i < m->onnx.n_tensors; i++) (void)onnx_tensor_get(&m->onnx.tensors[i], 0);
        (void)kk_weights_load(m, err, sizeof err);
        /* onnx_close must not unmap a buffer it did not map */
        m->onnx.map = NULL;
    }
    kokoro_model_free(m);
    return 0;
}
