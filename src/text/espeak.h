/* espeak.h - espeak-ng as a service of the text front end: phonemes of a clause in the
 * model's vocabulary, behind one process-wide lock and a cache. Not public API. */
#ifndef KK_ESPEAK_H
#define KK_ESPEAK_H

#include "core/buf.h"

#include <stddef.h>

/* espeak-ng is one process-wide instance and not thread-safe: every use goes through one
 * lock, and results are cached. kk_espeak_open/close count the front ends using it.
 * kk_espeak_open returns KOKORO_OK, or a status with a message in err (no espeak-ng-data). */
int kk_espeak_open(char *err, size_t errlen);
void kk_espeak_close(void);
/* Phonemes of text (no punctuation: one clause) in the model's vocabulary, for an espeak-ng
 * voice ("en-us", "en" = British, "es", ...). Appends to out. Returns KOKORO_OK, KOKORO_E_NOMEM or
 * KOKORO_E_UNSUPPORTED (voice missing from espeak-ng-data). */
int kk_espeak_phonemes(const char *voice, const char *text, size_t n, kk_buf *out);
/* Maps espeak-ng IPA (ties written '^') to the vocabulary; dialect 'a' (US), 'b' (GB) or
 * 0 for other languages. Appends to out; returns 0 or -1 when out of memory. */
int kk_ipa_to_vocab(const char *ipa, int dialect, kk_buf *out);
/* Statistics for tests: espeak-ng calls made and cache hits since start. */
void kk_espeak_stats(long *calls, long *hits);

#endif
