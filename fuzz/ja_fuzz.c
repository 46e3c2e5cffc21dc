/* ja_fuzz.c - libFuzzer target for the Japanese front end (src/text/ja): any bytes through
 * normalisation, MeCab, the word grouping, the kana rules, the word positions and the chunk
 * plan must never crash, hang or leak, and give only vocabulary characters with words inside
 * the phoneme string, in order. The first bytes' digits also go through the number reader.
 * Build with `make fuzz-ja`; tests/text/run_ja_fuzz.sh runs it bounded. */
#include "kokoro.h"
#include "text/ja/ja.h"
#include "text/text_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kokoro_text *text;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256];
    if (kokoro_text_new(NULL, &text, err, sizeof err) != KOKORO_OK) {
        fprintf(stderr, "ja_fuzz: %s\n", err);
        exit(1);
    }
    return 0;
}

static void fail(const char *what, const char *ph)
{
    fprintf(stderr, "ja_fuzz: %s in \"%s\"\n", what, ph);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0; /* embedded NULs end the text early */

    char digits[16];
    size_t nd = 0;
    for (size_t i = 0; i < size && nd < sizeof digits; i++)
        digits[nd++] = (char)('0' + data[i] % 10);
    kk_buf num = {0};
    if (nd && kk_ja_number(digits, nd, &num) == 0 && num.n == 0)
        fail("a number read as nothing", digits);
    kk_buf_free(&num);

    kk_phon p = {0};
    kk_span *spans = NULL;
    int n_spans = 0;
    char err[256];
    if (kk_text_plan(text, s, "ja", NULL, &p, &spans, &n_spans, err, sizeof err) == KOKORO_OK) {
        const char *ph = p.ph.p ? p.ph.p : "";
        size_t n = strlen(ph);
        for (size_t i = 0; i < n;) {
            uint32_t cp;
            i += (size_t)kk_utf8_next(ph + i, n - i, &cp);
            if (!kk_vocab_id(cp))
                fail("a character outside the vocabulary", ph);
        }
        int last = 0;
        for (int w = 0; w < p.n_words; w++) {
            if (p.words[w].ph_start < last || p.words[w].ph_end <= p.words[w].ph_start ||
                (size_t)p.words[w].ph_end > n)
                fail("a word outside the phonemes or out of order", ph);
            last = p.words[w].ph_end;
        }
        for (int k = 0; k < n_spans; k++)
            if (spans[k].ph_start < 0 || spans[k].ph_end > (int)n ||
                spans[k].ph_start > spans[k].ph_end)
                fail("a chunk outside the phonemes", ph);
    }
    free(spans);
    kk_phon_free(&p);
    free(s);
    return 0;
}
