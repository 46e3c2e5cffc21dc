/* test_markup.c - SSML and the plain-text controls as segments: what each element gives,
 * the IPA mapping of <phoneme>, errors with their line and column, the bounds, and that text
 * without controls is left alone. */
#include "check.h"
#include "text/text_int.h"

static int ssml(const char *xml, kk_doc *d, char *err, size_t n)
{
    memset(d, 0, sizeof *d);
    return kk_ssml_parse(xml, d, err, n);
}

static void test_ipa(void)
{
    static const char *const T[][2] = {
        {"təˈmeɪtoʊ", "təˈmAtO"}, {"ˈaɪ", "ˈI"},   {"haʊs", "hWs"},  {"bɔɪ", "bY"},
        {"bɝd", "bɜɹd"},          {"ˈbʌtɚ", "ˈbʌtəɹ"}, {"t͡ʃɪp", "ʧɪp"}, {"d͡ʒæm", "ʤæm"},
        {"ɡoʊ", "ɡO"},            {"go", "ɡo"},    {"rɛd", "ɹɛd"},   {"kˈOkəɹO", "kˈOkəɹO"},
        {"həˈləʊ", "həˈlQ"},      {"a  b", "a b"}, {"x1y", "xy"},
    };
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        kk_buf b = {0};
        CHECK(kk_user_ipa(T[i][0], strlen(T[i][0]), &b) == 0, "oom");
        CHECK_STR(b.p, T[i][1]);
        kk_buf_free(&b);
    }
}

static void test_controls(void)
{
    char err[256];
    kk_doc d = {0};
    CHECK(kk_controls_parse("Nothing to see [here] (or) here.", &d, err, sizeof err) == 0,
          "no controls");
    CHECK(kk_controls_parse("[pause:2s", &d, err, sizeof err) == 0, "unclosed is text");
    CHECK(kk_controls_parse("One. [pause:1.5s] Two [pause:250ms]", &d, err, sizeof err) == 1,
          "pauses");
    CHECK(d.n_segs == 2, "%d segments", d.n_segs);
    CHECK(d.segs[0].pause_after_ms == 1500 && d.segs[1].pause_after_ms == 250, "%d %d",
          d.segs[0].pause_after_ms, d.n_segs > 1 ? d.segs[1].pause_after_ms : -1);
    kk_doc_free(&d);
    CHECK(kk_controls_parse("[pause:1s]Go.", &d, err, sizeof err) == 1, "leading pause");
    CHECK(d.n_segs == 2 && d.segs[0].n_pieces == 0 && d.segs[0].pause_after_ms == 1000,
          "silence first");
    kk_doc_free(&d);
    CHECK(kk_controls_parse("I say [tomato](/təˈmeɪtoʊ/), yes.", &d, err, sizeof err) == 1,
          "inline");
    CHECK(d.n_segs == 1 && d.segs[0].n_pieces == 3, "pieces");
    if (d.n_segs == 1 && d.segs[0].n_pieces == 3) {
        kk_piece *p = d.segs[0].pieces;
        CHECK(p[1].kind == KK_PIECE_PHON, "phon");
        CHECK_STR(p[1].s, "təˈmAtO");
        CHECK_STR(p[1].written, "tomato");
        CHECK(p[1].space_before && !p[2].space_before, "spaces");
    }
    kk_doc_free(&d);
    CHECK(kk_controls_parse("Wait [pause:11s].", &d, err, sizeof err) == KOKORO_E_ARG, "limit");
}

static void test_ssml(void)
{
    char err[256];
    kk_doc d;
    CHECK(kk_is_ssml("  <speak>x</speak>") && kk_is_ssml("<?xml version='1.0'?><speak/>") &&
              !kk_is_ssml("<speaker> hi") && !kk_is_ssml("hello <speak>"),
          "detection");
    int rc = ssml("<speak>Hello <break time=\"700ms\"/> world. "
                  "<prosody rate=\"slow\" volume=\"-6dB\">Slow.</prosody>"
                  "<voice name=\"am_adam\">Adam.</voice>"
                  "<sub alias=\"World Wide Web\">WWW</sub> "
                  "<say-as interpret-as=\"characters\">abc</say-as> "
                  "<say-as interpret-as=\"ordinal\">21</say-as> "
                  "<say-as interpret-as=\"telephone\">555-0199</say-as>"
                  "<emphasis>yes</emphasis><s>One</s><p>Two</p></speak>",
                  &d, err, sizeof err);
    CHECK(rc == KOKORO_OK, "%s", err);
    CHECK(d.n_segs >= 5, "%d segments", d.n_segs);
    if (rc == KOKORO_OK && d.n_segs >= 5) {
        CHECK(d.segs[0].pause_after_ms == 700, "break %d", d.segs[0].pause_after_ms);
        CHECK(d.segs[2].speed == 0.75f && d.segs[2].volume < 0.55f && d.segs[2].volume > 0.45f,
              "prosody %g %g", (double)d.segs[2].speed, (double)d.segs[2].volume);
        CHECK(d.segs[3].voice && strcmp(d.segs[3].voice, "am_adam") == 0, "voice");
        kk_seg *g = &d.segs[4];
        kk_buf all = {0};
        for (int i = 0; i < g->n_pieces; i++)
            kk_buf_puts(&all, g->pieces[i].s), kk_buf_putc(&all, '|');
        CHECK(all.p && strstr(all.p, "World Wide Web") && strstr(all.p, "|abc|") &&
                  strstr(all.p, "twenty-first") && strstr(all.p, "five five five, zero one"),
              "pieces: %s", all.p ? all.p : "");
        kk_buf_free(&all);
    }
    kk_doc_free(&d);

    static const struct {
        const char *xml, *want;
    } BAD[] = {
        {"<speak>a<b></speak>", "SSML line 1, column "},
        {"<speak>\n\n  <break time=\"1 hour\"/></speak>", "SSML line 3, column 3"},
        {"<speak><break time=\"10001ms\"/></speak>", "longer than the limit"},
        {"<speak><break strength=\"huge\"/></speak>", "strength"},
        {"<speak>&bomb;</speak>", "undefined entity"},
        {"<!DOCTYPE speak [<!ENTITY a \"b\">]><speak>&a;</speak>", "DOCTYPE"},
        {"<voice name=\"x\">a</voice>", "root element must be <speak>"},
        {"<speak><voice>a</voice></speak>", "needs a name"},
        {"<speak><phoneme>a</phoneme></speak>", "needs a ph"},
        {"<speak><phoneme ph=\"123\">a</phoneme></speak>", "no phoneme"},
        {"<speak><phoneme ph=\"a\"><b/></phoneme></speak>", "text only"},
        {"<speak><prosody rate=\"9\">a</prosody></speak>", "rate"},
        {"<speak><speak/></speak>", "inside <speak>"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        err[0] = 0;
        rc = ssml(BAD[i].xml, &d, err, sizeof err);
        CHECK(rc == KOKORO_E_ARG && strstr(err, BAD[i].want), "%s: rc %d \"%s\"", BAD[i].xml, rc,
              err);
        CHECK(d.n_segs == 0 && !d.segs, "freed on error");
    }
    /* bounds: depth and element count */
    kk_buf deep = {0};
    kk_buf_puts(&deep, "<speak>");
    for (int i = 0; i < 40; i++)
        kk_buf_puts(&deep, "<emphasis>");
    rc = ssml(deep.p, &d, err, sizeof err);
    CHECK(rc == KOKORO_E_ARG && strstr(err, "deeper"), "%s", err);
    kk_buf_free(&deep);
    kk_buf many = {0};
    kk_buf_puts(&many, "<speak>");
    for (int i = 0; i < KK_SSML_MAX_ELEMENTS + 10; i++)
        kk_buf_puts(&many, "<mark/>");
    kk_buf_puts(&many, "</speak>");
    rc = ssml(many.p, &d, err, sizeof err);
    CHECK(rc == KOKORO_E_ARG && strstr(err, "elements"), "%s", err);
    kk_buf_free(&many);
}

static void test_phonemize_segments(kokoro_text *t)
{
    char err[256];
    kk_doc d = {0};
    CHECK(kk_controls_parse("I like [kokoro](/kˈOkəɹO/). Fine.", &d, err, sizeof err) == 1, "x");
    kk_phon p = {0};
    int rc = kk_seg_phonemize(t, &d.segs[0], kk_lang_find("en-us"), &p, err, sizeof err);
    CHECK(rc == KOKORO_OK && p.ph.p && strstr(p.ph.p, "kˈOkəɹO.") && !strstr(p.ph.p, "  "),
          "%s", p.ph.p ? p.ph.p : err);
    int found = 0;
    for (int i = 0; i < p.n_words; i++)
        found |= strcmp(p.words[i].text, "kokoro") == 0;
    CHECK(found, "the written word is kept");
    kk_phon_free(&p);
    kk_doc_free(&d);
    CHECK(ssml("<speak><say-as interpret-as=\"spell-out\">NASA</say-as></speak>", &d, err,
               sizeof err) == KOKORO_OK, "%s", err);
    rc = kk_seg_phonemize(t, &d.segs[0], kk_lang_find("en-us"), &p, err, sizeof err);
    CHECK(rc == KOKORO_OK && p.n_words == 4, "%d letters: %s", p.n_words, p.ph.p);
    kk_phon_free(&p);
    kk_doc_free(&d);
}

/* The words an element rewrote carry its content's bytes in the input (blanks trimmed), so
 * that timestamps and captions show them as written; plain text and an empty element have
 * none, and text on either side of a rewritten piece does not merge into it. */
static void test_rewritten_sources(kokoro_text *t)
{
    char err[256];
    kk_doc d;
    const char *xml = "<speak>Say <sub alias=\"World Wide Web\"> WWW </sub>, "
                      "<say-as interpret-as=\"cardinal\">12</say-as> "
                      "<phoneme alphabet=\"ipa\" ph=\"t\u0259m\u02c8\u0251to\u028a\">tomato</phoneme>"
                      " <say-as interpret-as=\"characters\">ab</say-as> "
                      "<sub alias=\"nothing\"/> end</speak>";
    int rc = ssml(xml, &d, err, sizeof err);
    CHECK(rc == KOKORO_OK && d.n_segs == 1, "%s", err);
    if (rc != KOKORO_OK || d.n_segs != 1)
        return;
    static const struct {
        const char *s, *written; /* the piece's text (its start); its source, or NULL */
    } WANT[] = {{"Say", NULL},    {"World Wide Web", "WWW"}, {",", NULL}, {"twelve", "12"},
                {"", "tomato"},   {"ab", "ab"},              {"nothing", NULL}};
    const kk_seg *g = &d.segs[0];
    int k = 0;
    for (int i = 0; i < g->n_pieces && k < (int)(sizeof WANT / sizeof WANT[0]); i++) {
        const kk_piece *pc = &g->pieces[i];
        const char *s = pc->s;
        while (*s == ' ')
            s++;
        if (!*s)
            continue; /* a blank text piece between two elements */
        if (WANT[k].s[0])
            CHECK(strncmp(s, WANT[k].s, strlen(WANT[k].s)) == 0, "piece %d: \"%s\", want \"%s\"", i,
                  pc->s, WANT[k].s);
        if (WANT[k].written) {
            size_t wl = strlen(WANT[k].written);
            CHECK(pc->src_start >= 0 && pc->src_end - pc->src_start == (long)wl &&
                      memcmp(xml + pc->src_start, WANT[k].written, wl) == 0,
                  "piece \"%s\": source [%ld, %ld), want \"%s\"", pc->s, pc->src_start,
                  pc->src_end, WANT[k].written);
        } else {
            CHECK(pc->src_start < 0 && pc->src_end < 0, "piece \"%s\" has a source [%ld, %ld)",
                  pc->s, pc->src_start, pc->src_end);
        }
        k++;
    }
    CHECK(k == (int)(sizeof WANT / sizeof WANT[0]), "%d pieces matched", k);
    /* phonemised: every word read for "WWW" points at it, as the caller's input */
    kk_phon p = {0};
    rc = kk_seg_phonemize(t, g, kk_lang_find("en-us"), &p, err, sizeof err);
    CHECK(rc == KOKORO_OK, "%s", err);
    long www = strstr(xml, "WWW") - xml;
    int n_www = 0, n_input = 0;
    for (int i = 0; rc == KOKORO_OK && i < p.n_words; i++) {
        const kk_word *w = &p.words[i];
        n_input += w->src_input;
        if (w->src_input && w->src_start == www && w->src_end == www + 3)
            n_www++;
    }
    CHECK(n_www == 3, "%d words read for WWW", n_www);
    CHECK(n_input == 3 + 1 + 1 + 2, "%d words with input sources", n_input); /* twelve, tomato, a b */
    kk_phon_free(&p);
    kk_doc_free(&d);
}

/* Many pieces in one segment: text and pronunciations alternating, so that the piece array
 * grows while the piece before is still in use (a use-after-free the server's ASan run found
 * in the first SSML test that said "<sub>" then "<phoneme>" then text). */
static void test_many_pieces(void)
{
    char err[256];
    kk_doc d;
    char buf[4096] = "<speak>";
    for (int i = 0; i < 40; i++)
        strcat(buf, "word <phoneme alphabet=\"ipa\" ph=\"t\u0259m\u02c8eIto\u028a\">tomato</phoneme>"
                    "<sub alias=\"Doctor\">Dr.</sub>");
    strcat(buf, "</speak>");
    int rc = ssml(buf, &d, err, sizeof err);
    CHECK(rc == KOKORO_OK, "many pieces: %s", err);
    if (rc == KOKORO_OK)
        kk_doc_free(&d);
}

int main(void)
{
    test_ipa();
    test_controls();
    test_ssml();
    test_many_pieces();
    char err[256];
    kokoro_text *t = NULL;
    if (kokoro_text_new(NULL, &t, err, sizeof err) != KOKORO_OK) {
        fprintf(stderr, "test_markup: %s\n", err);
        return 1;
    }
    test_phonemize_segments(t);
    test_rewritten_sources(t);
    kokoro_text_free(t);
    return check_done("test_markup");
}
