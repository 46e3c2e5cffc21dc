/* zh_fuzz.c - libFuzzer target for the Mandarin front end (src/text/zh): random bytes through
 * numbers, punctuation, segmentation, pinyin and IPA must never crash, hang or leak, and what
 * comes out is vocabulary characters only, with every word inside the phoneme string.
 * Build with `make fuzz-zh`; tests/text/run_zh_fuzz.sh runs it bounded. The dictionaries
 * come from $KOKORO_LEXICON_DIR/zh or models/lexicon/zh. */
#include "text/zh/zh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("KOKORO_LEXICON_DIR");
    kk_zh_set_dir(dir && *dir ? dir : "models/lexicon");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0; /* embedded NULs end the text early */

    kk_phon p = {0};
    char err[512];
    int rc = kk_g2p_zh(s, &p, err, sizeof err);
    if (rc != KOKORO_OK) {
        fprintf(stderr, "zh_fuzz: %s\n", err);
        abort(); /* the dictionaries are there: nothing else may fail */
    }
    for (size_t i = 0; i < p.ph.n;) {
        uint32_t cp;
        i += (size_t)kk_utf8_next(p.ph.p + i, p.ph.n - i, &cp);
        if (!kk_vocab_id(cp))
            abort();
    }
    for (int w = 0; w < p.n_words; w++)
        if (p.words[w].ph_start < 0 || p.words[w].ph_end > (int)p.ph.n ||
            p.words[w].ph_start >= p.words[w].ph_end)
            abort();
    kk_phon_free(&p);

    /* the syllable table on any short string */
    kk_buf b = {0};
    if (size <= 12)
        kk_zh_syllable_ipa(s, strlen(s), &b);
    kk_buf_free(&b);
    free(s);
    return 0;
}
