/* test_ja.c - the Japanese front end (src/text/ja): numbers, the kana rules, the dictionary's
 * lazy load and its absence, threads sharing it, and chunking of Japanese text. The expected
 * phonemes are misaki 0.9.4's (JAG2P, cutlet path) for the same text. */
#include "check.h"
#include "kokoro.h"
#include "text/ja/ja.h"
#include "text/text_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_numbers(void)
{
    static const struct {
        const char *digits, *kana;
    } cases[] = {
        {"0", "ゼロ"}, {"7", "なな"}, {"007", "なな"}, {"10", "じゅう"}, {"11", "じゅういち"},
        {"20", "にじゅう"}, {"99", "きゅうじゅうきゅう"}, {"100", "ひゃく"}, {"105", "ひゃくご"},
        {"300", "さんびゃく"}, {"600", "ろっぴゃく"}, {"800", "はっぴゃく"}, {"1000", "せん"},
        {"1001", "せんいち"}, {"2024", "にせんにじゅうよん"}, {"3000", "さんぜん"},
        {"8000", "はっせん"}, {"10000", "いちまん"}, {"12000", "いちまんにせん"},
        {"10001000", "いっせんまんいっせん"}, {"100000000", "いちおく"},
        {"123456789", "いちおくにせんさんびゃくよんじゅうごまんろくせんななひゃくはちじゅうきゅう"},
        /* past misaki's nine digits: digit by digit */
        {"1234567890", "いちにさんよんごろくななはちきゅうゼロ"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        kk_buf b = {0};
        CHECK(kk_ja_number(cases[i].digits, strlen(cases[i].digits), &b) == 0, "nomem");
        kk_buf_put(&b, "", 0);
        CHECK_STR(b.p, cases[i].kana);
        kk_buf_free(&b);
    }
}

static char *ja(kokoro_text *t, const char *text)
{
    char err[256], *ph = NULL;
    int rc = kokoro_phonemize(t, text, "ja", &ph, err, sizeof err);
    CHECK(rc == KOKORO_OK, "%s: %s", text, err);
    return ph;
}

static void test_rules(kokoro_text *t)
{
    static const struct {
        const char *text, *ph;
    } cases[] = {
        {"散歩に行きましょう。", "sampo ɲi ikʲi maɕoː."},  /* ん before p: m */
        {"案内所はあちらです。", "annaiɕo βa aʨiɾa desɨ."}, /* before n: n; は as wa */
        {"新幹線で金沢へ。", "ɕiŋkaɴseɴ de kanaʣaβa e."}, /* before k: ŋ; at the end: ɴ */
        {"雰囲気がいい。", "ɸɯɴikʲi ɡa iː."},             /* before a vowel: ɴ; long i */
        {"コーヒーをちょっと飲んだ。", "koːçiː o ʨoʔto noɴ da."}, /* ー, っ */
        {"「学校」は？", "“ɡaʔkoː” βa?"},                 /* quotes, full-width ? */
        {"2024年、東京！", "ɲi seɴ ɲiʥɨːjoɴ neɴ, toːkʲoː!"}, /* digits read first */
        {"あっ", "aʔ"},
        {"ｶﾞｷﾞ", "ɡa ɡʲi"}, /* half-width katakana, voiced marks composed */
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *ph = ja(t, cases[i].text);
        CHECK_STR(ph, cases[i].ph);
        free(ph);
    }
}

/* The words of a sentence: what was written, and phonemes inside the string. */
static void test_words(kokoro_text *t)
{
    const kk_lang *l = kk_lang_find("ja-jp");
    CHECK(l && strcmp(l->code, "ja") == 0, "ja-jp is ja");
    CHECK_STR(kokoro_lang_of_voice("jf_alpha"), "ja");
    CHECK_STR(kokoro_lang_of_voice("jm_kumo"), "ja");
    kk_phon p = {0};
    char err[256];
    CHECK(kk_phonemize_words(t, "東京へ「行った」。", l, &p, err, sizeof err) == KOKORO_OK, "%s",
          err);
    CHECK_STR(p.ph.p, "toːkʲoː e “iʔta”.");
    CHECK(p.n_words == 3, "%d words", p.n_words);
    if (p.n_words == 3) {
        CHECK_STR(p.words[0].text, "東京");
        CHECK_STR(p.words[2].text, "行った");
        CHECK(strncmp(p.ph.p + p.words[2].ph_start, "iʔta",
                      (size_t)(p.words[2].ph_end - p.words[2].ph_start)) == 0 &&
                  p.words[2].ph_end - p.words[2].ph_start == (int)strlen("iʔta"),
              "the word's phonemes leave its quotes out");
        /* where each stands in the input (for word timestamps and captions) */
        CHECK(p.words[0].src_start == 0 && p.words[0].src_end == 6, "東京 at %d..%d",
              p.words[0].src_start, p.words[0].src_end);
        CHECK(p.words[2].src_start == 12 && p.words[2].src_end == 21, "行った at %d..%d",
              p.words[2].src_start, p.words[2].src_end);
    }
    kk_phon_free(&p);
    /* a word the normalisation rewrote (digits) is not in the input: its place is unknown */
    CHECK(kk_phonemize_words(t, "3人", l, &p, err, sizeof err) == KOKORO_OK, "%s", err);
    CHECK(p.n_words == 2 && p.words[0].src_end == 0 && p.words[1].src_start == 1 &&
              p.words[1].src_end == 4,
          "%d words", p.n_words);
    kk_phon_free(&p);
}

/* Nothing is loaded before the first Japanese text: not for English, not for the server's
 * language probe ("a"). */
static void test_lazy(kokoro_text *t)
{
    kk_ja *front = kk_text_g2p_state(t, &kk_g2p_japanese); /* the Japanese back end */
    CHECK(kk_ja_loaded_bytes(front) == 0, "loaded at start");
    char err[256], *ph = NULL;
    CHECK(kokoro_phonemize(t, "Hello world.", "en-us", &ph, err, sizeof err) == KOKORO_OK, "%s",
          err);
    free(ph);
    ph = ja(t, "a");
    CHECK_STR(ph, "a");
    free(ph);
    CHECK(kk_ja_loaded_bytes(front) == 0, "loaded by English or the probe");
    ph = ja(t, "日本");
    free(ph);
    CHECK(kk_ja_loaded_bytes(front) > 100u << 20, "%zu bytes after the first Japanese text",
          kk_ja_loaded_bytes(front));
}

/* Without the dictionary Japanese fails with a message naming `make model`; the rest works. */
static void test_missing(void)
{
    const char *src = getenv("KOKORO_LEXICON_DIR");
    if (!src || !*src)
        src = "models/lexicon";
    char dir[] = "/tmp/kk_ja_XXXXXX", path[512], target[512], cwd[256];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    static const char *const files[] = {"us_gold.json", "us_silver.json", "gb_gold.json",
                                        "gb_silver.json"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        snprintf(target, sizeof target, "%s%s%s/%s", src[0] == '/' ? "" : cwd,
                 src[0] == '/' ? "" : "/", src, files[i]);
        CHECK(symlink(target, path) == 0, "symlink %s", path);
    }
    kokoro_text *t = NULL;
    char err[256], *ph = NULL;
    CHECK(kokoro_text_new(dir, &t, err, sizeof err) == KOKORO_OK, "%s", err);
    if (t) {
        for (int k = 0; k < 2; k++) { /* the probe's "a" and a real text */
            int rc = kokoro_phonemize(t, k ? "日本語" : "a", "ja", &ph, err, sizeof err);
            CHECK(rc == KOKORO_E_IO && strstr(err, "make model"), "rc %d: %s", rc, err);
            CHECK(ph == NULL, "no phonemes");
        }
        CHECK(kokoro_phonemize(t, "Hello.", "en-us", &ph, err, sizeof err) == KOKORO_OK, "%s",
              err);
        free(ph);
        kokoro_text_free(t);
    }
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* Threads that start together share one load and read as one thread does. */
enum { N_THREADS = 4, N_ROUNDS = 5 };
static const char *const SENTENCES[] = {
    "政府は来年度の予算案を閣議決定しました。", "ちょっと待ってください。",
    "2011年3月11日に東日本大震災が発生しました。", "私はiPhoneを使っています。"};
static char *expected[N_THREADS];
static kokoro_text *shared;

static void *worker(void *arg)
{
    long id = (long)arg;
    for (int r = 0; r < N_ROUNDS; r++)
        for (int k = 0; k < N_THREADS; k++) {
            int s = (int)((id + k) % N_THREADS);
            char err[256], *ph = NULL;
            if (kokoro_phonemize(shared, SENTENCES[s], "ja", &ph, err, sizeof err) !=
                    KOKORO_OK ||
                !expected[s] || strcmp(ph, expected[s]) != 0)
                __atomic_fetch_add(&check_failures, 1, __ATOMIC_RELAXED);
            free(ph);
        }
    return NULL;
}

static void test_threads(kokoro_text *one)
{
    for (int s = 0; s < N_THREADS; s++)
        expected[s] = ja(one, SENTENCES[s]);
    char err[256];
    CHECK(kokoro_text_new(NULL, &shared, err, sizeof err) == KOKORO_OK, "%s", err);
    if (!shared)
        return;
    int before = check_failures;
    pthread_t th[N_THREADS];
    for (long i = 0; i < N_THREADS; i++)
        pthread_create(&th[i], NULL, worker, (void *)i);
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(th[i], NULL);
    CHECK(check_failures == before, "threads read differently");
    kokoro_text_free(shared);
    for (int s = 0; s < N_THREADS; s++)
        free(expected[s]);
}

/* A long text is cut at its sentence ends (。 -> ".") before any other place. */
static void test_chunks(kokoro_text *t)
{
    kk_buf text = {0};
    for (int i = 0; i < 30; i++)
        kk_buf_puts(&text, "今日は天気がいいので、公園まで散歩に行きました。");
    kk_phon p = {0};
    kk_span *spans = NULL;
    int n = 0;
    char err[256];
    CHECK(kk_text_plan(t, text.p, "ja", NULL, &p, &spans, &n, err, sizeof err) == KOKORO_OK,
          "%s", err);
    CHECK(n >= 3, "%d pieces", n);
    for (int i = 0; i + 1 < n; i++)
        CHECK(spans[i].ph_end > 0 && p.ph.p[spans[i].ph_end - 1] == '.',
              "piece %d ends with \"%.*s\"", i, 8,
              p.ph.p + (spans[i].ph_end > 8 ? spans[i].ph_end - 8 : 0));
    free(spans);
    kk_phon_free(&p);
    kk_buf_free(&text);
}

int main(void)
{
    test_numbers();
    kokoro_text *t = NULL;
    char err[256];
    if (kokoro_text_new(NULL, &t, err, sizeof err) != KOKORO_OK) {
        fprintf(stderr, "test_ja: %s (run `make model`)\n", err);
        return 1;
    }
    test_lazy(t);
    test_rules(t);
    test_words(t);
    test_chunks(t);
    test_threads(t);
    kokoro_text_free(t);
    test_missing();
    return check_done("test_ja");
}
