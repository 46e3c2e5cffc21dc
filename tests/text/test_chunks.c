/* test_chunks.c - long text is cut into chunks the model can take: every chunk within 510
 * ids, cut at sentence ends where possible, the first one short, nothing lost or reordered. */
#include "check.h"
#include "text/text_int.h"

static const char *SENTENCES[] = {
    "The committee met on March 3rd, 2024 to discuss the budget of $2.5 million.",
    "Dr. Smith, who has worked at St. Mary's Hospital since 1998, presented the findings.",
    "Nobody expected the results to be so clear; the data spoke for itself.",
    "After a short break, the members returned, and the debate continued well into the night.",
    "It was, in the words of one observer, a remarkable day for the city.",
};

/* Removes spaces so that phoneme strings can be compared however they were cut. */
static char *squeeze(const char *s)
{
    char *o = malloc(strlen(s) + 1), *w = o;
    for (; *s; s++)
        if (*s != ' ')
            *w++ = *s;
    *w = 0;
    return o;
}

static void check_chunks_opts(kokoro_text *t, const char *text, const char *lang,
                              int expect_sentences, const kokoro_chunk_opts *o)
{
    char err[256] = "";
    kokoro_chunk *c = NULL;
    int n = 0;
    int rc = kokoro_text_chunks(t, text, lang, o, &c, &n, err, sizeof err);
    CHECK(rc == KOKORO_OK && n > 0, "chunks: rc %d %s", rc, err);
    char *whole = NULL;
    CHECK(kokoro_phonemize(t, text, lang, &whole, err, sizeof err) == KOKORO_OK, "%s", err);
    kk_buf joined = {0};
    kk_buf_put(&joined, "", 0);
    for (int i = 0; i < n; i++) {
        CHECK(c[i].n_ids >= 1 && c[i].n_ids <= kk_plan_window(o), "chunk %d has %d ids", i,
              c[i].n_ids);
        CHECK(c[i].n_ids == kokoro_tokenize(c[i].phonemes, NULL, 0), "chunk %d ids", i);
        CHECK(c[i].text && c[i].phonemes && c[i].phonemes[0] != ' ', "chunk %d strings", i);
        CHECK(c[i].pause_after_ms >= 0 && c[i].pause_after_ms <= 1000, "pause");
        if (expect_sentences && i + 1 < n) {
            size_t l = strlen(c[i].phonemes);
            char last = l ? c[i].phonemes[l - 1] : 0;
            CHECK(last == '.' || last == ';' || last == ',', "chunk %d ends \"%s\"", i,
                  c[i].phonemes + (l > 20 ? l - 20 : 0));
            CHECK(c[i].pause_after_ms > 0, "chunk %d has no pause after \"%c\"", i, last);
        }
        kk_buf_puts(&joined, c[i].phonemes);
    }
    if (n > 1 && expect_sentences)
        CHECK(c[0].n_ids <= 120, "first chunk has %d ids: it should be short", c[0].n_ids);
    char *a = squeeze(joined.p), *b = squeeze(whole);
    CHECK(strcmp(a, b) == 0, "the chunks do not add up to the whole text (%zu vs %zu bytes)",
          strlen(a), strlen(b));
    free(a);
    free(b);
    free(whole);
    kk_buf_free(&joined);
    kokoro_chunks_free(c, n);
}

static void check_chunks(kokoro_text *t, const char *text, const char *lang, int expect_sentences)
{
    check_chunks_opts(t, text, lang, expect_sentences, NULL);
}

/* The first piece of a stream: a phrase of a few words, cut at a clause or before a phrase,
 * then pieces that grow; the whole text is still there, in order. */
static void test_quick_start(kokoro_text *t)
{
    char err[256];
    kokoro_chunk *c;
    int n;
    kokoro_chunk_opts o = kokoro_chunk_defaults();
    o.quick_start = 1;
    const char *three = "The quick brown fox jumps over the lazy dog. A second sentence follows "
                        "the first one closely. Finally, the third sentence ends this short "
                        "paragraph.";
    CHECK(kokoro_text_chunks(t, three, "en-us", &o, &c, &n, err, sizeof err) == KOKORO_OK && n >= 3,
          "quick start: %d chunks", n);
    CHECK(n > 0 && c[0].n_ids >= 6 && c[0].n_ids <= 36, "first piece has %d ids (\"%s\")",
          n > 0 ? c[0].n_ids : 0, n > 0 ? c[0].text : "");
    CHECK(n > 0 && strcmp(c[0].text, "The quick brown fox jumps") == 0,
          "cut before the phrase \"over the lazy dog\": \"%s\"", n > 0 ? c[0].text : "");
    CHECK(n > 1 && strcmp(c[1].text, "over the lazy dog") == 0, "then the rest of the sentence: "
          "\"%s\"", n > 1 ? c[1].text : "");
    kokoro_chunks_free(c, n);
    /* a comma within reach is where the first piece ends */
    CHECK(kokoro_text_chunks(t, "After the long meeting on Monday, everyone went home to rest.",
                             "en-us", &o, &c, &n, err, sizeof err) == KOKORO_OK && n >= 2 &&
              strcmp(c[0].text, "After the long meeting on Monday") == 0,
          "first piece ends at the comma: \"%s\"", n > 0 ? c[0].text : "");
    kokoro_chunks_free(c, n);
    /* a short sentence is taken whole */
    CHECK(kokoro_text_chunks(t, "Hello there. How are you doing today, my friend?", "en-us", &o, &c,
                             &n, err, sizeof err) == KOKORO_OK && n >= 2 &&
              strcmp(c[0].text, "Hello there") == 0,
          "short sentence whole: \"%s\"", n > 0 ? c[0].text : "");
    kokoro_chunks_free(c, n);
    kk_buf text = {0};
    for (int i = 0; i < 200; i++) {
        kk_buf_puts(&text, SENTENCES[i % 5]);
        kk_buf_puts(&text, " ");
    }
    check_chunks_opts(t, text.p, "en-us", 0, &o);
    kk_buf_free(&text);
}

/* Slow speech gets shorter pieces: at speed 0.25 no piece can pass the frame cap, and text
 * without punctuation is cut near the target, not at the window's edge. */
static void test_frame_window(kokoro_text *t)
{
    char err[256];
    kokoro_chunk *c;
    int n;
    kokoro_chunk_opts o = kokoro_chunk_defaults();
    CHECK(kk_plan_window(&o) * 3.2 <= KOKORO_MAX_FRAMES + 3.2, "window %d ids at speed 1",
          kk_plan_window(&o));
    o.speed = 0.25f;
    int win = kk_plan_window(&o);
    CHECK(win >= 40 && win * 3.2 / 0.25 <= KOKORO_MAX_FRAMES + 16, "window %d ids at speed 0.25",
          win);
    kk_buf words = {0};
    for (int i = 0; i < 116; i++)
        kk_buf_puts(&words, i % 3 ? "river " : "stone ");
    check_chunks_opts(t, words.p, "en-us", 0, &o);
    o.speed = 1.0f;
    CHECK(kokoro_text_chunks(t, words.p, "en-us", &o, &c, &n, err, sizeof err) == KOKORO_OK && n > 1,
          "unpunctuated: %d chunks", n);
    for (int i = 0; i + 1 < n; i++)
        CHECK(c[i].n_ids <= 200, "unpunctuated piece %d has %d ids: cut near the 180-id target", i,
              c[i].n_ids);
    kokoro_chunks_free(c, n);
    kk_buf_free(&words);
}

int main(void)
{
    char err[256];
    kokoro_text *t;
    if (kokoro_text_new(NULL, &t, err, sizeof err) != KOKORO_OK) {
        fprintf(stderr, "test_chunks: %s\n", err);
        return 1;
    }
    /* short text: one chunk, same phonemes */
    kokoro_chunk *c;
    int n;
    CHECK(kokoro_text_chunks(t, "Hello world.", "en-us", NULL, &c, &n, err, sizeof err) == KOKORO_OK &&
              n == 1, "one chunk");
    CHECK_STR(c[0].phonemes, "həlˈO wˈɜɹld.");
    CHECK_STR(c[0].text, "Hello world");
    CHECK(c[0].pause_after_ms == 0, "no pause after the last chunk");
    kokoro_chunks_free(c, n);
    /* nothing to say: zero chunks, no error */
    CHECK(kokoro_text_chunks(t, "  \n ", "en-us", NULL, &c, &n, err, sizeof err) == KOKORO_OK && n == 0,
          "empty text");
    kokoro_chunks_free(c, n);
    CHECK(kokoro_text_chunks(t, "( ... ) \" !", "en-us", NULL, &c, &n, err, sizeof err) == KOKORO_OK &&
              n == 0, "punctuation alone: %d chunks", n);
    kokoro_chunks_free(c, n);
    CHECK(kokoro_text_chunks(t, "x", "de", NULL, &c, &n, err, sizeof err) == KOKORO_E_UNSUPPORTED,
          "de");

    /* a long text of 2,000 sentences */
    kk_buf text = {0};
    for (int i = 0; i < 2000; i++) {
        kk_buf_puts(&text, SENTENCES[i % 5]);
        kk_buf_puts(&text, i % 7 == 6 ? "\n\n" : " ");
    }
    check_chunks(t, text.p, "en-us", 1);
    check_chunks(t, text.p, "en-gb", 1);
    kk_buf_free(&text);

    /* one sentence longer than the window: cut at commas, then at spaces */
    kk_buf longs = {0};
    for (int i = 0; i < 120; i++)
        kk_buf_puts(&longs, "and the river ran on, ");
    kk_buf_puts(&longs, "until the end.");
    check_chunks(t, longs.p, "en-us", 0);
    kk_buf_free(&longs);
    kk_buf nocomma = {0};
    for (int i = 0; i < 400; i++)
        kk_buf_puts(&nocomma, "word ");
    check_chunks(t, nocomma.p, "en-us", 0);
    kk_buf_free(&nocomma);

    /* a word without end (no spaces at all) is still cut within the window */
    kk_buf blob = {0};
    for (int i = 0; i < 5000; i++)
        kk_buf_puts(&blob, "abcdefghij");
    check_chunks(t, blob.p, "en-us", 0);
    /* ...and its text is carried once, not once per piece (a 1 MB word took 4 GB) */
    CHECK(kokoro_text_chunks(t, blob.p, "en-us", NULL, &c, &n, err, sizeof err) == KOKORO_OK &&
              n > 10, "blob: %d chunks", n);
    size_t text_bytes = 0;
    for (int i = 0; i < n; i++)
        text_bytes += strlen(c[i].text);
    CHECK(text_bytes <= 2 * blob.n, "the chunks' texts hold %zu bytes for %zu of input", text_bytes,
          blob.n);
    kokoro_chunks_free(c, n);
    kk_buf_free(&blob);

    /* other languages are chunked the same way */
    kk_buf es = {0};
    for (int i = 0; i < 60; i++)
        kk_buf_puts(&es, "El comité se reunió para hablar del presupuesto, y el debate siguió. ");
    check_chunks(t, es.p, "es", 1);
    kk_buf_free(&es);

    test_quick_start(t);
    test_frame_window(t);

    kokoro_text_free(t);
    return check_done("test_chunks");
}
