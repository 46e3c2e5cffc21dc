/* text.c - the text front end's public entry points: languages, the front end's life, and
 * phonemising, which it hands to the language's G2P back end (g2p.h) through one table. */
#include "core/clock.h"
#include "core/util.h"
#include "text/text_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_TEXT_BYTES (4u << 20) /* kokoro_phonemize input limit (KOKORO_E_TOO_LONG) */

/* The back ends, opened and closed with every front end. */
static const kk_g2p *const G2P[] = {&kk_g2p_english, &kk_g2p_espeak_ng, &kk_g2p_japanese,
                                    &kk_g2p_mandarin};
_Static_assert(sizeof G2P / sizeof G2P[0] == KK_G2P_COUNT, "KK_G2P_COUNT is G2P's length");

static const kk_lang LANGS[] = {
    {"en-us", "en-us", 'a', &kk_g2p_english}, {"en-gb", "en", 'b', &kk_g2p_english},
    {"es", "es", 'e', &kk_g2p_espeak_ng},     {"fr", "fr", 'f', &kk_g2p_espeak_ng},
    {"hi", "hi", 'h', &kk_g2p_espeak_ng},     {"it", "it", 'i', &kk_g2p_espeak_ng},
    {"pt-br", "pt-br", 'p', &kk_g2p_espeak_ng}, {"ja", "ja", 'j', &kk_g2p_japanese},
    {"zh", "cmn", 'z', &kk_g2p_mandarin},
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
    double t0 = kk_now();
    int rc = kk_lexicon_load(data_dir, "us", &t->us, err, errlen);
    if (rc == KOKORO_OK)
        rc = kk_lexicon_load(data_dir, "gb", &t->gb, err, errlen);
    const char *user = getenv("KOKORO_USER_LEXICON");
    if (rc == KOKORO_OK && user && *user)
        rc = kk_lexicon_load_user(user, &t->user, err, errlen);
    t->load_ms = (kk_now() - t0) * 1e3;
    int espeak = rc == KOKORO_OK && (rc = kk_espeak_open(err, errlen)) == KOKORO_OK;
    int opened = 0; /* back ends whose open succeeded */
    while (rc == KOKORO_OK && opened < KK_G2P_COUNT) {
        if (G2P[opened]->open)
            rc = G2P[opened]->open(data_dir, &t->g2p_state[opened], err, errlen);
        if (rc == KOKORO_OK)
            opened++;
    }
    if (rc != KOKORO_OK) {
        while (opened-- > 0)
            if (G2P[opened]->close)
                G2P[opened]->close(t->g2p_state[opened]);
        if (espeak)
            kk_espeak_close();
        kk_lexicon_free(t->us);
        kk_lexicon_free(t->gb);
        kk_lexicon_free(t->user);
        free(t);
        return rc;
    }
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
    for (int i = 0; i < KK_G2P_COUNT; i++)
        if (G2P[i]->close)
            G2P[i]->close(t->g2p_state[i]);
    kk_espeak_close();
    free(t);
}

void *kk_text_g2p_state(const kokoro_text *t, const kk_g2p *g)
{
    for (int i = 0; i < KK_G2P_COUNT; i++)
        if (G2P[i] == g)
            return t->g2p_state[i];
    return NULL;
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
    kk_dicts dicts = {t->us, t->gb, t->user};
    if (err && errlen)
        err[0] = 0;
    int rc = lang->g2p->phonemize(kk_text_g2p_state(t, lang->g2p), &dicts, lang, text, out, err,
                                  errlen);
    if (rc != KOKORO_OK && err && errlen && err[0])
        return rc; /* the back end said why */
    if (rc == KOKORO_OK && kk_buf_put(&out->ph, "", 0) < 0)
        rc = KOKORO_E_NOMEM;
    if (rc == KOKORO_E_UNSUPPORTED)
        return kk_fail(err, errlen, rc, "espeak-ng has no voice \"%s\": install espeak-ng-data",
                       lang->voice);
    if (rc == KOKORO_E_INTERNAL)
        return kk_fail(err, errlen, rc, "espeak-ng failed on this text (its helper process "
                                        "stopped and will be restarted)");
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
