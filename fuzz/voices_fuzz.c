/* voices_fuzz.c - libFuzzer target for voice archives (npz) and voice specs (blends): any
 * input is either accepted or refused with an error, never a crash or a leak. */
#include "kokoro.h"

#include <stdlib.h>
#include <string.h>

int kokoro_voices_parse_npz(const uint8_t *buf, size_t len, kokoro_voices **out, char *err,
                            size_t errlen);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    kokoro_voices *v = NULL;
    if (kokoro_voices_parse_npz(data, size, &v, err, sizeof err) == KOKORO_OK) {
        /* a parsed archive: blend specs made from the input's tail against it */
        char spec[128];
        size_t n = size < sizeof spec - 1 ? size : sizeof spec - 1;
        memcpy(spec, data + size - n, n);
        spec[n] = 0;
        float *pack = malloc(KOKORO_VOICE_FLOATS * sizeof *pack);
        if (pack) {
            (void)kokoro_voice_blend(v, spec, pack, err, sizeof err);
            (void)kokoro_voice_blend(v, kokoro_voices_name(v, 0), pack, err, sizeof err);
        }
        free(pack);
        kokoro_voices_free(v);
    }
    return 0;
}
