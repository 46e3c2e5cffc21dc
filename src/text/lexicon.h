/* lexicon.h - pronunciation dictionaries (misaki's gold and silver JSON, and the user's
 * own): word -> phonemes, by part of speech where the entry has several. Not public API. */
#ifndef KK_LEXICON_H
#define KK_LEXICON_H

#include <stddef.h>

typedef struct kk_lexicon kk_lexicon;

/* Loads <dir>/<dialect>_gold.json then <dialect>_silver.json (gold wins) into one table.
 * Returns KOKORO_OK, or a status with a message in err (files missing or malformed). */
int kk_lexicon_load(const char *dir, const char *dialect, kk_lexicon **out, char *err,
                    size_t errlen);
/* Loads one JSON file {"word": "phonemes", ...} (the user's lexicon); returns as above. */
int kk_lexicon_load_user(const char *path, kk_lexicon **out, char *err, size_t errlen);
void kk_lexicon_free(kk_lexicon *lx);
int kk_lexicon_size(const kk_lexicon *lx);
/* Pronunciation of word (n bytes) for a part-of-speech tag ("VERB", "NOUN", ...; NULL or
 * unknown tags give the default), or NULL when the word is absent. */
const char *kk_lexicon_get(const kk_lexicon *lx, const char *word, size_t n, const char *pos);

#endif
