/* captions_fuzz.c - libFuzzer target for issue 12's paths: random bytes through the English
 * front end with random normalization options (the first byte), then the source map and the
 * words' written bytes checked (inside the input, in order), then captions made from those
 * words with random times (SRT and WebVTT): never a crash, hang or leak, never a line over 42
 * characters, a third line in a cue, or a cue time that goes back. Build with
 * `make fuzz-captions`; tests/text/run_captions_fuzz.sh runs it for a bounded time. */
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
        fprintf(stderr, "captions_fuzz: %s\n", err);
        exit(1);
    }
    return 0;
}

static void fail(const char *what)
{
    fprintf(stderr, "captions_fuzz: %s\n", what);
    abort();
}

/* Cue rules on caption text: line lengths, lines per cue, times in order. */
static void check_cues(const char *cap, int vtt)
{
    long long last = 0;
    int lines = -1; /* text lines in the current cue; -1 before its times */
    const char *p = cap + (vtt ? 8 : 0);
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        int h1, m1, s1, ms1, h2, m2, s2, ms2;
        char c1, c2;
        if (n == 0) {
            lines = -1;
        } else if (lines < 0 && sscanf(p, "%d:%d:%d%c%d --> %d:%d:%d%c%d", &h1, &m1, &s1, &c1, &ms1,
                                       &h2, &m2, &s2, &c2, &ms2) == 10) {
            long long a = ((h1 * 60LL + m1) * 60 + s1) * 1000 + ms1;
            long long b = ((h2 * 60LL + m2) * 60 + s2) * 1000 + ms2;
            if (a < last || b < a)
                fail("cue times go back");
            last = b;
            lines = 0;
        } else if (lines >= 0) {
            if (++lines > 2)
                fail("a cue with a third line");
            int chars = 0;
            for (size_t i = 0; i < n; i++)
                chars += ((unsigned char)p[i] & 0xC0) != 0x80;
            /* WebVTT's escapes (&amp; &lt; &gt;) are one character on screen */
            for (const char *q = p; vtt && (q = strchr(q, '&')) && q < p + n; q++)
                chars -= strncmp(q, "&amp;", 5) == 0 ? 4 : 3;
            if (chars > KOKORO_CAPTION_LINE)
                fail("a caption line over 42 characters");
        }
        p += n + (e ? 1 : 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 8192)
        return 0;
    unsigned flags = data[0];
    char *s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0;
    size_t n = strlen(s);
    kokoro_norm_options o = {flags & 1, flags >> 1 & 1, flags >> 2 & 1, flags >> 3 & 1,
                             flags >> 4 & 1, flags >> 5 & 1, flags >> 6 & 1};
    /* the normaliser's map */
    char *out = NULL;
    kk_srcmap map = {0};
    if (kk_normalize_en_map(s, flags >> 7, &o, &out, &map) == KOKORO_OK) {
        size_t on = strlen(out);
        for (int k = 0; k < map.n; k++) {
            const kk_srcspan *sp = &map.s[k];
            if (sp->in_start < 0 || sp->in_end > (int)n || sp->in_start >= sp->in_end ||
                sp->out_pos < 0 || sp->out_pos > (int)on)
                fail("a map span out of bounds");
            if (k && (sp->out_pos < map.s[k - 1].out_pos || sp->in_start < map.s[k - 1].in_end))
                fail("map spans out of order");
        }
    }
    free(out);
    free(map.s);
    /* the words and their written bytes, then captions of them */
    kk_phon p = {.norm = &o};
    char err[256];
    if (kk_phonemize_words(text, s, kk_lang_find(flags >> 7 ? "en-gb" : "en-us"), &p, err,
                           sizeof err) == KOKORO_OK && p.n_words) {
        kokoro_word_time *w = calloc((size_t)p.n_words, sizeof *w);
        double t = 0;
        for (int i = 0; w && i < p.n_words; i++) {
            const kk_word *k = &p.words[i];
            if (k->src_end && (k->src_start < 0 || k->src_end > (int)n || k->src_start >= k->src_end))
                fail("a word's written bytes out of bounds");
            /* times from the input's bytes: sometimes backwards, sometimes long pauses */
            double d = (double)(data[(size_t)i % size] % 50) / 40.0 - 0.2;
            w[i] = (kokoro_word_time){k->text, t, t + 0.3, k->src_end ? k->text : NULL,
                                      k->src_end ? k->src_start : -1, k->src_end ? k->src_end : -1};
            t += d;
        }
        for (int vtt = 0; w && vtt <= 1; vtt++) {
            char *cap = NULL;
            if (kokoro_captions(w, p.n_words, s, vtt, &cap, err, sizeof err) == KOKORO_OK)
                check_cues(cap, vtt);
            free(cap);
        }
        free(w);
    }
    kk_phon_free(&p);
    free(s);
    return 0;
}
