/* ssml_fuzz.c - libFuzzer target: random bytes as SSML (after "<speak>" half of the time) and
 * as plain text with controls, then each segment phonemised: never a crash, hang or leak, and
 * every refusal says where. Build with `make fuzz-ssml`; tests/text/run_ssml_fuzz.sh runs it
 * for a bounded time inside `make test-text`. */
#include "kokoro.h"
#include "text/text_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kokoro_text *text;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];
    if (kokoro_text_new(NULL, &text, err, sizeof err) != KOKORO_OK) {
        fprintf(stderr, "ssml_fuzz: %s\n", err);
        exit(1);
    }
    return 0;
}

static void speak_doc(const kk_doc *d)
{
    char err[256];
    for (int i = 0; i < d->n_segs; i++) {
        kk_phon p = {0};
        if (kk_seg_phonemize(text, &d->segs[i], kk_lang_find("en-us"), &p, err, sizeof err) ==
            KOKORO_OK)
            for (int w = 0; w < p.n_words; w++)
                if (p.words[w].ph_start < 0 || p.words[w].ph_end > (int)p.ph.n ||
                    p.words[w].ph_start > p.words[w].ph_end) {
                    fprintf(stderr, "ssml_fuzz: word %d out of range\n", w);
                    abort();
                }
        kk_phon_free(&p);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 4096)
        return 0;
    int wrap = data[0] & 1;
    const char *pre = wrap ? "<speak>" : "";
    size_t pl = strlen(pre);
    char *s = malloc(pl + size);
    if (!s)
        return 0;
    memcpy(s, pre, pl);
    memcpy(s + pl, data + 1, size - 1);
    s[pl + size - 1] = 0;
    char err[256];
    kk_doc d = {0};
    if (kk_is_ssml(s)) {
        int rc = kk_ssml_parse(s, &d, err, sizeof err);
        if (rc == KOKORO_E_ARG && strncmp(err, "SSML line ", 10) != 0) {
            fprintf(stderr, "ssml_fuzz: an error without its position: %s\n", err);
            abort();
        }
        if (rc == KOKORO_OK)
            speak_doc(&d);
    } else if (kk_controls_parse(s, &d, err, sizeof err) == 1) {
        speak_doc(&d);
    }
    kk_doc_free(&d);
    free(s);
    return 0;
}
