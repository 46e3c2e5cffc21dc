/* text_fuzz.c - libFuzzer target: random bytes through normalisation, pronunciation and
 * chunking must never crash, hang or leak. Build with `make fuzz-text`.
 *
 * The first byte picks the language (mostly English, whose path is the most intricate); the
 * rest is the text. With KOKORO_FUZZ_LANG set (es, pt-br, ...) every input is text in that
 * language, so that a run spends all its time on one espeak-ng voice (tests/text/run_fuzz.sh
 * runs each that way). The dictionaries come from $KOKORO_LEXICON_DIR or models/lexicon. */
#include "kokoro.h"
#include "text/text_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kokoro_text *text;
static const char *fixed_lang; /* KOKORO_FUZZ_LANG, or NULL */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];
    if (kokoro_text_new(NULL, &text, err, sizeof err) != KOKORO_OK) {
        fprintf(stderr, "text_fuzz: %s\n", err);
        exit(1);
    }
    fixed_lang = getenv("KOKORO_FUZZ_LANG");
    if (fixed_lang && !*fixed_lang)
        fixed_lang = NULL;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const langs[] = {"en-us", "en-gb", "en-us", "en-gb", "es",
                                        "fr",    "hi",    "it",    "pt-br", "ja"};
    if (size == 0 && !fixed_lang)
        return 0;
    const char *lang = fixed_lang ? fixed_lang : langs[data[0] % (sizeof langs / sizeof langs[0])];
    size_t skip = fixed_lang ? 0 : 1; /* the language byte */
    char *s = malloc(size - skip + 1);
    if (!s)
        return 0;
    if (size > skip)
        memcpy(s, data + skip, size - skip);
    s[size - skip] = 0; /* embedded NULs simply end the text early */

    char err[256], *norm = NULL, *ph = NULL;
    if (kk_normalize_en(s, size && (data[0] & 1), &norm) == KOKORO_OK)
        free(norm);
    if (kokoro_phonemize(text, s, lang, &ph, err, sizeof err) == KOKORO_OK) {
        /* whatever comes out is made of vocabulary characters only */
        size_t n = strlen(ph);
        for (size_t i = 0; i < n;) {
            uint32_t cp;
            i += (size_t)kk_utf8_next(ph + i, n - i, &cp);
            if (!kk_vocab_id(cp)) {
                fprintf(stderr, "text_fuzz: U+%04X is not in the vocabulary\n", cp);
                abort();
            }
        }
        free(ph);
    }
    kokoro_chunk *chunks = NULL;
    int n_chunks = 0;
    if (kokoro_text_chunks(text, s, lang, NULL, &chunks, &n_chunks, err, sizeof err) == KOKORO_OK) {
        for (int i = 0; i < n_chunks; i++)
            if (chunks[i].n_ids < 1 || chunks[i].n_ids > KOKORO_MAX_PHONEMES)
                abort();
        kokoro_chunks_free(chunks, n_chunks);
    }
    free(s);
    return 0;
}
