/* g2p.h - the grapheme-to-phoneme back ends of the text front end behind one table, as
 * src/audio/encoder.h keeps its codecs: English (dictionaries, espeak-ng for the rest),
 * espeak-ng for Spanish, French, Hindi, Italian and Portuguese, Japanese (MeCab, UniDic) and
 * Mandarin (jieba, pypinyin). The pipeline (text.c) drives them: it opens every back end
 * with the front end, finds the language's back end in its table of languages, and calls
 * its phonemize.
 *
 * The dependencies run one way: a back end includes this header and the services below it
 * (phon.h, lexicon.h, espeak.h, normalize_en.h, vocab.h, core/), never the pipeline's
 * text_int.h, and calls nothing of text.c. Not public API. */
#ifndef KK_G2P_H
#define KK_G2P_H

#include "text/lexicon.h"
#include "text/phon.h"

#include <stddef.h>

typedef struct kk_g2p kk_g2p;

/* Language as the front end sees it. */
typedef struct {
    const char *code;  /* canonical: "en-us", "en-gb", "es", ... */
    const char *voice; /* espeak-ng voice name */
    char prefix;       /* voice-name letter: 'a', 'b', 'e', ... */
    const kk_g2p *g2p; /* the back end that reads it */
} kk_lang;

/* The dictionaries a front end loads once and every back end may read (English does). */
typedef struct {
    const kk_lexicon *us, *gb;
    const kk_lexicon *user; /* the user's words (word -> phonemes), or NULL; wins */
} kk_dicts;

struct kk_g2p {
    const char *name;
    /* Readies the back end for a front end whose data is in data_dir: *state is its own
     * (NULL when it keeps none). Loading may wait for the first text. Returns KOKORO_OK, or
     * a status with a message in err. NULL: nothing to open. */
    int (*open)(const char *data_dir, void **state, char *err, size_t errlen);
    /* Frees what open made; NULL: nothing to free. */
    void (*close)(void *state);
    /* Appends the phonemes of text in lang to out, its words positioned. Returns KOKORO_OK,
     * or a status with a message in err, or with err left as it was when the status says
     * it all (KOKORO_E_NOMEM; KOKORO_E_UNSUPPORTED: espeak-ng lacks the voice). */
    int (*phonemize)(void *state, const kk_dicts *dicts, const kk_lang *lang, const char *text,
                     kk_phon *out, char *err, size_t errlen);
};

extern const kk_g2p kk_g2p_english;   /* g2p_en.c */
extern const kk_g2p kk_g2p_espeak_ng; /* g2p_espeak.c */
extern const kk_g2p kk_g2p_japanese;  /* ja/ja.c */
extern const kk_g2p kk_g2p_mandarin;  /* zh/zh.c */

#endif
