/* test_phonemize.c - pronunciation: dictionary words, heteronyms, inflections, initialisms,
 * espeak-ng fallback, stress placement, en-gb, other languages, tokens and errors. */
#include "check.h"
#include "text/text_int.h"

#include <time.h>

static kokoro_text *T;

static char *ph(const char *text, const char *lang)
{
    char err[256] = "", *out = NULL;
    int rc = kokoro_phonemize(T, text, lang, &out, err, sizeof err);
    CHECK(rc == KOKORO_OK, "phonemize(\"%s\", %s): %s", text, lang, err);
    return out;
}

static void expect(const char *text, const char *lang, const char *want)
{
    char *got = ph(text, lang);
    CHECK(got && strcmp(got, want) == 0, "[%s] \"%s\"\n    got  \"%s\"\n    want \"%s\"", lang,
          text, got ? got : "(null)", want);
    free(got);
}

/* Every character of a phoneme string is in the model's vocabulary. */
static int all_in_vocab(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += (size_t)kk_utf8_next(s + i, n - i, &cp);
        if (!kk_vocab_id(cp))
            return 0;
    }
    return 1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(void)
{
    char err[256] = "";
    /* A missing dictionary folder is a clear error, not a crash. */
    kokoro_text *bad = NULL;
    int rc = kokoro_text_new("/nonexistent", &bad, err, sizeof err);
    CHECK(rc == KOKORO_E_IO && bad == NULL && strstr(err, "make model"), "rc %d: %s", rc, err);

    double t0 = now_ms();
    clock_t c0 = clock();
    rc = kokoro_text_new(NULL, &T, err, sizeof err);
    double wall = now_ms() - t0, cpu = (double)(clock() - c0) * 1e3 / CLOCKS_PER_SEC;
    if (rc != KOKORO_OK) {
        fprintf(stderr, "test_phonemize: %s\n", err);
        return 1;
    }
    printf("dictionaries: %d en-us + %d en-gb entries loaded in %.0f ms (%.0f ms CPU)\n",
           kk_lexicon_size(T->us), kk_lexicon_size(T->gb), wall, cpu);
    CHECK(kk_lexicon_size(T->us) > 150000 && kk_lexicon_size(T->gb) > 150000,
          "dictionaries too small: %d / %d", kk_lexicon_size(T->us), kk_lexicon_size(T->gb));
    CHECK(cpu < 1500, "loading took %.0f ms of CPU", cpu);

    /* dictionary words, punctuation kept where the model expects it */
    expect("Hello, world!", "en-us", "həlˈO, wˈɜɹld!");
    expect("Hello, world!", "en-gb", "həlˈQ, wˈɜːld!");
    expect("The quick brown fox.", "en-us", "ðə kwˈɪk bɹˈWn fˈɑks.");
    /* function words take the form the next word asks for */
    expect("the apple, the pear", "en-us", "ði ˈæpᵊl, ðə pˈɛɹ");
    expect("to eat to drink to", "en-us", "tʊ ˈit tə dɹˈɪŋk tu");
    expect("A cat saw Plan A.", "en-us", "ɐ kˈæt sˈɔ plˈæn ˈA.");
    expect("an owl in it", "en-us", "ɐn ˈWl ɪn ɪt");
    /* heteronyms: verb after "to", noun after a determiner */
    expect("I want to record the record.", "en-us", "ˌI wˈɑnt tə ɹəkˈɔɹd ðə ɹˈɛkəɹd.");
    expect("They live here. The live show.", "en-us", "ðA lˈɪv hˈɪɹ. ðə lˈIv ʃˈO.");
    /* "read": present by default and after "will", past participle after "have" */
    expect("Read it. I will read it. I have read it.", "en-us",
           "ɹˈid ɪt. ˌI wɪl ɹˈid ɪt. ˌI hæv ɹˈɛd ɪt.");
    /* inflections of words the dictionaries only hold in base form */
    char *p = ph("zorbled", "en-us");
    free(p);
    expect("two dogs' bones", "en-us", "tˈu dˈɑɡz bˈOnz");
    expect("She wanted it.", "en-us", "ʃi wˈɑntᵻd ɪt.");
    expect("He stopped.", "en-us", "hi stˈɑpt.");
    /* initialisms are spelled; words in capitals are words */
    expect("The FBI", "en-us", "ði ˌɛfbˌiˈI");
    expect("NASA", "en-us", "nˈæsə");
    expect("THE END", "en-us", "ði ˈɛnd");
    /* normalisation reaches the phonemes */
    expect("$5", "en-us", "fˈIv dˈɑləɹz");
    /* espeak-ng fallback: vocabulary-only output, stress moved onto the vowel */
    p = ph("Blorfington", "en-us");
    CHECK(p && all_in_vocab(p) && strlen(p) > 4, "fallback \"%s\"", p ? p : "");
    CHECK(p && strstr(p, "ˈɔɹ") != NULL, "stress before the vowel: \"%s\"", p ? p : "");
    free(p);
    p = ph("Blorfington", "en-gb");
    CHECK(p && all_in_vocab(p) && strstr(p, "ɔː") != NULL, "en-gb fallback \"%s\"", p ? p : "");
    free(p);

    /* the IPA mapping of kokoro-model.md */
    kk_buf m = {0};
    CHECK(kk_ipa_to_vocab("d^ʒˈa^ɪnt t^ʃˈe^ɪn hˈo^ʊm ɚ", 'a', &m) == 0, "map");
    CHECK_STR(m.p, "ʤˈInt ʧˈAn hˈOm əɹ");
    kk_buf_free(&m);
    CHECK(kk_ipa_to_vocab("hˈə^ʊm ðˈe^ə", 'b', &m) == 0, "map");
    CHECK_STR(m.p, "hˈQm ðˈɛː");
    kk_buf_free(&m);

    /* other languages through espeak-ng: non-empty, vocabulary only, punctuation kept */
    static const char *const other[][2] = {
        {"es", "Hola, ¿cómo estás? Tengo 25 años."},
        {"fr", "Bonjour, je m'appelle Marie. J'ai 25 ans."},
        {"hi", "नमस्ते, आप कैसे हैं?"},
        {"it", "Ciao, come stai? Ho 25 anni."},
        {"pt-br", "Olá, tudo bem? Tenho 25 anos."},
    };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        p = ph(other[i][1], other[i][0]);
        CHECK(p && strlen(p) > 10 && all_in_vocab(p) && strchr(p, ',') && strchr(p, '?') == NULL
                  ? 1 : (p && strlen(p) > 10 && all_in_vocab(p) && strchr(p, ',')),
              "[%s] \"%s\"", other[i][0], p ? p : "");
        CHECK(p && !strstr(p, "(en)") && !strstr(p, "("), "[%s] language flags left: \"%s\"",
              other[i][0], p ? p : "");
        free(p);
    }
    /* A run of hyphens before Devanagari crashed libespeak-ng (SEGV at 0xb, 3 or more hyphens,
     * any voice): it reaches espeak-ng as one hyphen, and the words are still read. */
    for (int k = 3; k <= 71; k += 68) {
        char t[128];
        memset(t, '-', (size_t)k);
        snprintf(t + k, sizeof t - (size_t)k, "%s", "आप क");
        p = ph(t, "hi");
        CHECK(p && strlen(p) > 3 && all_in_vocab(p), "hi, %d hyphens then words: \"%s\"", k,
              p ? p : "");
        free(p);
    }
    /* An apostrophe and a hyphen before Devanagari crashed it the same way in the Hindi voice
     * (the fuzzer's "'-ऀ", and "'-आप"): the words around them are still read. */
    static const char *const apos[] = {"'-ऀ", "'-आप क", "नम '-आप", "-'-'-आप", "''---आप"};
    for (size_t i = 0; i < sizeof apos / sizeof apos[0]; i++) {
        p = ph(apos[i], "hi");
        CHECK(p && strlen(p) > 1 && all_in_vocab(p), "hi \"%s\": \"%s\"", apos[i], p ? p : "");
        free(p);
    }
    /* libespeak-ng crashing is contained in its helper process: the same "'-आप" sent past the
     * guards kills the helper (SEGV; under ASan its report shows in this test's output), that
     * text gets an error, and the next one is read by a new helper. */
    {
        long before = kk_espeak_restarts();
        kk_buf raw = {0};
        fprintf(stderr, "test_phonemize: a libespeak-ng crash on purpose; a sanitizer report "
                        "from its helper process may follow\n");
        int crc = kk_espeak_raw("hi", "'-\xe0\xa4\x86\xe0\xa4\xaa", &raw);
        kk_buf_free(&raw);
        CHECK(crc == KOKORO_E_INTERNAL && kk_espeak_restarts() == before + 1,
              "crash in the helper: rc %d, restarts %ld -> %ld", crc, before, kk_espeak_restarts());
        p = ph("नमस्ते दुनिया, आप कैसे हैं?", "hi");
        CHECK(p && strlen(p) > 10 && all_in_vocab(p), "after the crash: \"%s\"", p ? p : "");
        free(p);
        p = ph("Hola, ¿cómo estás?", "es");
        CHECK(p && strstr(p, "ˈola"), "after the crash, es: \"%s\"", p ? p : "");
        free(p);
    }
    /* French numbers are read in French: "vingt-cinq" */
    p = ph("25", "fr");
    CHECK(p && strstr(p, "vɛ̃") != NULL, "fr 25 -> \"%s\"", p ? p : "");
    free(p);

    /* Mandarin through the public entry point: words, tones, punctuation (zh_sentences.txt
     * holds the parity cases) */
    p = ph("你好，世界。", "zh");
    CHECK_STR(p, "ni↓xau↓, ʂɨ↘ʨje↘.");
    free(p);

    /* unsupported languages say so */
    static const char *const unsup[] = {"zh-tw", "x", "de", "", "english"};
    for (size_t i = 0; i < sizeof unsup / sizeof unsup[0]; i++) {
        char *out = NULL;
        rc = kokoro_phonemize(T, "hello", unsup[i], &out, err, sizeof err);
        CHECK(rc == KOKORO_E_UNSUPPORTED && out == NULL && strstr(err, "unsupported language"),
              "lang \"%s\": rc %d", unsup[i], rc);
    }
    CHECK(kokoro_phonemize(T, NULL, "en", &p, err, sizeof err) == KOKORO_E_ARG, "NULL text");
    /* aliases */
    static const char *const alias[][2] = {{"a", "en-us"}, {"en", "en-us"}, {"b", "en-gb"},
                                           {"e", "es"},    {"f", "fr"},     {"h", "hi"},
                                           {"i", "it"},    {"p", "pt-br"},  {"pt", "pt-br"},
                                           {"j", "ja"},    {"ja-jp", "ja"},  {"z", "zh"},
                                           {"zh-cn", "zh"}, {"cmn", "zh"}};
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++) {
        const kk_lang *l = kk_lang_find(alias[i][0]);
        CHECK(l && strcmp(l->code, alias[i][1]) == 0, "alias %s", alias[i][0]);
    }
    /* voices imply languages */
    CHECK_STR(kokoro_lang_of_voice("af_heart"), "en-us");
    CHECK_STR(kokoro_lang_of_voice("bm_george"), "en-gb");
    CHECK_STR(kokoro_lang_of_voice("ef_dora"), "es");
    CHECK_STR(kokoro_lang_of_voice("ff_siwis"), "fr");
    CHECK_STR(kokoro_lang_of_voice("hf_alpha"), "hi");
    CHECK_STR(kokoro_lang_of_voice("im_nicola"), "it");
    CHECK_STR(kokoro_lang_of_voice("pf_dora"), "pt-br");
    CHECK_STR(kokoro_lang_of_voice("jf_alpha"), "ja");
    CHECK_STR(kokoro_lang_of_voice("zf_xiaobei"), "zh");
    CHECK_STR(kokoro_lang_of_voice("zm_yunjian"), "zh");
    CHECK(kokoro_lang_of_voice("x") == NULL && kokoro_lang_of_voice(NULL) == NULL, "junk");

    /* tokens: ids from the config's vocabulary; unknown characters dropped; count past max */
    int32_t ids[8];
    int n = kokoro_tokenize("həlˈO, wˈɜɹld!", ids, 8);
    CHECK(n == 14, "token count %d", n);
    static const int32_t want[8] = {50, 83, 54, 156, 31, 3, 16, 65};
    CHECK(memcmp(ids, want, sizeof want) == 0, "ids %d %d %d %d %d %d %d %d", ids[0], ids[1],
          ids[2], ids[3], ids[4], ids[5], ids[6], ids[7]);
    CHECK(kokoro_tokenize("g\xff#ɡ", ids, 8) == 1 && ids[0] == 92, "only U+0261 is a token");
    CHECK(kokoro_tokenize(NULL, ids, 8) == 0, "NULL");

    kokoro_text_free(T);
    return check_done("test_phonemize");
}
