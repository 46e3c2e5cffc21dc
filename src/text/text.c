/* text.c - the text front end's public entry points: languages, phonemize, tokenize. */
#include "core/util.h"
#include "text/text_int.h"
#include "text/ja/ja.h"
#include "text/zh/zh.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TEXT_BYTES (4u << 20) /* kokoro_phonemize input limit (KOKORO_E_TOO_LONG) */

static const kk_lang LANGS[] = {
    {"en-us", "en-us", 'a'}, {"en-gb", "en", 'b'}, {"es", "es", 'e'},  {"fr", "fr", 'f'},
    {"hi", "hi", 'h'},       {"it", "it", 'i'},       {"pt-br", "pt-br", 'p'},
    {"ja", "ja", 'j'},      {"zh", "cmn", 'z'},
};

/* Aliases accepted on input, mapped to the canonical codes above. */
static const struct {
    const char *alias, *code;
} ALIASES[] = {{"en", "en-us"}, {"a", "en-us"}, {"en-us", "en-us"}, {"en_us", "en-us"},
               {"b", "en-gb"},  {"en-gb", "en-gb"}, {"en_gb", "en-gb"}, {"e", "es"},
               {"es", "es"},    {"f", "fr"},     {"fr", "fr"},       {"fr-fr", "fr"},
               {"h", "hi"},     {"hi", "hi"},    {"i", "it"},        {"it", "it"},
               {"p", "pt-br"},  {"pt", "pt-br"}, {"pt-br", "pt-br"}, {"pt_br", "pt-br"},
               {"j", "ja"},     {"ja", "ja"},    {"ja-jp", "ja"},    {"ja_jp", "ja"},
               {"z", "zh"},     {"zh", "zh"},    {"zh-cn", "zh"},    {"zh_cn", "zh"},
               {"zh-hans", "zh"}, {"cmn", "zh"}};

const kk_lang *kk_lang_find(const char *code)
{
    if (!code)
        return NULL;
    for (size_t i = 0; i < sizeof ALIASES / sizeof ALIASES[0]; i++) {
        if (strcasecmp(code, ALIASES[i].alias) != 0)
            continue;
        for (size_t j = 0; j < sizeof LANGS / sizeof LANGS[0]; j++)
            if (strcmp(LANGS[j].code, ALIASES[i].code) == 0)
                return &LANGS[j];
    }
    return NULL;
}

int kokoro_lang_count(void)
{
    return (int)(sizeof LANGS / sizeof LANGS[0]);
}

const char *kokoro_lang_code(int i)
{
    return i >= 0 && i < kokoro_lang_count() ? LANGS[i].code : NULL;
}

const char *kokoro_lang_canonical(const char *code)
{
    const kk_lang *l = kk_lang_find(code);
    return l ? l->code : NULL;
}

const char *kokoro_lang_of_voice(const char *voice_name)
{
    if (!voice_name || !voice_name[0] || voice_name[1] == 0)
        return NULL;
    /* a blend speaks the language of its first voice */
    for (size_t j = 0; j < sizeof LANGS / sizeof LANGS[0]; j++)
        if (LANGS[j].prefix == voice_name[0])
            return LANGS[j].code;
    return NULL;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int kokoro_text_new(const char *data_dir, kokoro_text **out, char *err, size_t errlen)
{
    if (!out)
        return kk_fail(err, errlen, KOKORO_E_ARG, "kokoro_text_new: out is NULL");
    *out = NULL;
    if (!data_dir)
        data_dir = getenv("KOKORO_LEXICON_DIR");
    if (!data_dir || !*data_dir)
        data_dir = "models/lexicon";
    kokoro_text *t = calloc(1, sizeof *t);
    if (!t)
        return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    double t0 = now_ms();
    int rc = kk_lexicon_load(data_dir, "us", &t->us, err, errlen);
    if (rc == KOKORO_OK)
        rc = kk_lexicon_load(data_dir, "gb", &t->gb, err, errlen);
    const char *user = getenv("KOKORO_USER_LEXICON");
    if (rc == KOKORO_OK && user && *user)
        rc = kk_lexicon_load_user(user, &t->user, err, errlen);
    t->load_ms = now_ms() - t0;
    if (rc == KOKORO_OK && !(t->ja = kk_ja_new(data_dir)))
        rc = kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    if (rc == KOKORO_OK)
        rc = kk_espeak_open(err, errlen);
    if (rc != KOKORO_OK) {
        kk_ja_free(t->ja);
        kk_lexicon_free(t->us);
        kk_lexicon_free(t->gb);
        kk_lexicon_free(t->user);
        free(t);
        return rc;
    }
    kk_zh_set_dir(data_dir); /* Mandarin loads its dictionaries from here when first used */
    *out = t;
    return KOKORO_OK;
}

void kokoro_text_free(kokoro_text *t)
{
    if (!t)
        return;
    kk_lexicon_free(t->us);
    kk_lexicon_free(t->gb);
    kk_lexicon_free(t->user);
    kk_ja_free(t->ja);
    kk_espeak_close();
    free(t);
}

int kokoro_text_user_lexicon(kokoro_text *t, const char *path, char *err, size_t errlen)
{
    if (!t)
        return kk_fail(err, errlen, KOKORO_E_ARG, "kokoro_text_user_lexicon: NULL front end");
    kk_lexicon *lx = NULL;
    if (path && *path) {
        int rc = kk_lexicon_load_user(path, &lx, err, errlen);
        if (rc != KOKORO_OK)
            return rc;
    }
    kk_lexicon_free(t->user);
    t->user = lx;
    return KOKORO_OK;
}

void kk_phon_free(kk_phon *p)
{
    for (int i = 0; i < p->n_words; i++)
        free(p->words[i].text);
    free(p->words);
    kk_buf_free(&p->ph);
    memset(p, 0, sizeof *p);
}

int kk_phon_add_word(kk_phon *p, const char *text, size_t n, int ph_start, int ph_end)
{
    if (p->n_words == p->cap_words) {
        int cap = p->cap_words ? p->cap_words * 2 : 32;
        kk_word *w = realloc(p->words, (size_t)cap * sizeof *w);
        if (!w)
            return -1;
        p->words = w;
        p->cap_words = cap;
    }
    char *copy = malloc(n + 1);
    if (!copy)
        return -1;
    memcpy(copy, text, n);
    copy[n] = 0;
    p->words[p->n_words++] = (kk_word){copy, ph_start, ph_end, 0, 0, 0};
    return 0;
}

static int unsupported(const char *lang, char *err, size_t errlen)
{
    return kk_fail(err, errlen, KOKORO_E_UNSUPPORTED,
                   "unsupported language \"%s\": use en-us, en-gb, es, fr, hi, it, pt-br, ja or zh",
                   lang ? lang : "(null)");
}

int kk_phonemize_words(kokoro_text *t, const char *text, const kk_lang *lang, kk_phon *out,
                       char *err, size_t errlen)
{
    if (strlen(text) > MAX_TEXT_BYTES)
        return kk_fail(err, errlen, KOKORO_E_TOO_LONG, "text is longer than %u bytes",
                       MAX_TEXT_BYTES);
    int rc;
    if (lang->prefix == 'a' || lang->prefix == 'b') {
        rc = kk_phonemize_en(t, text, lang->prefix == 'b', out);
    } else if (lang->prefix == 'j') {
        rc = kk_g2p_ja(t->ja, text, out, err, errlen);
        if (rc != KOKORO_OK)
            return rc; /* err says why */
    } else if (lang->prefix == 'z') {
        rc = kk_g2p_zh(text, out, err, errlen);
        if (rc != KOKORO_OK)
            return rc; /* err says why */
    } else {
        rc = kk_g2p_espeak(lang, text, out);
    }
    if (rc == KOKORO_OK && kk_buf_put(&out->ph, "", 0) < 0)
        rc = KOKORO_E_NOMEM;
    if (rc == KOKORO_E_UNSUPPORTED)
        return kk_fail(err, errlen, rc, "espeak-ng has no voice \"%s\": install espeak-ng-data",
                       lang->voice);
    if (rc != KOKORO_OK)
        return kk_fail(err, errlen, rc, "phonemizing failed: %s", kokoro_status_str(rc));
    return KOKORO_OK;
}

int kokoro_phonemize(kokoro_text *t, const char *text, const char *lang, char **phonemes,
                     char *err, size_t errlen)
{
    if (!t || !text || !phonemes)
        return kk_fail(err, errlen, KOKORO_E_ARG, "kokoro_phonemize: NULL argument");
    *phonemes = NULL;
    const kk_lang *l = kk_lang_find(lang);
    if (!l)
        return unsupported(lang, err, errlen);
    kk_phon ph = {0};
    int rc = kk_phonemize_words(t, text, l, &ph, err, errlen);
    if (rc == KOKORO_OK) {
        *phonemes = ph.ph.p;
        ph.ph.p = NULL;
    }
    kk_phon_free(&ph);
    return rc;
}
