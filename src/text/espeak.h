/* espeak.h - espeak-ng as a service of the text front end: phonemes of a clause in the
 * model's vocabulary, behind one process-wide lock and a cache. Not public API. */
#ifndef KK_ESPEAK_H
#define KK_ESPEAK_H

#include "core/buf.h"

#include <stddef.h>

/* espeak-ng is one process-wide instance and not thread-safe: every use goes through one
 * lock, and results are cached. It runs in a helper process, so that its crashes are not the
 * caller's: a text that kills or hangs it gets KOKORO_E_INTERNAL (espeak.c).
 * kk_espeak_open/close count the front ends using it; the first starts the helper, the
 * last ends it.
 * kk_espeak_open returns KOKORO_OK, or a status with a message in err (no espeak-ng-data). */
int kk_espeak_open(char *err, size_t errlen);
void kk_espeak_close(void);
/* Phonemes of text (no punctuation: one clause) in the model's vocabulary, for an espeak-ng
 * voice ("en-us", "en" = British, "es", ...). Appends to out. Returns KOKORO_OK, KOKORO_E_NOMEM,
 * KOKORO_E_UNSUPPORTED (voice missing from espeak-ng-data) or KOKORO_E_INTERNAL (the helper
 * died or hung on this text). */
int kk_espeak_phonemes(const char *voice, const char *text, size_t n, kk_buf *out);
/* Maps espeak-ng IPA (ties written '^') to the vocabulary; dialect 'a' (US), 'b' (GB) or
 * 0 for other languages. Appends to out; returns 0 or -1 when out of memory. */
int kk_ipa_to_vocab(const char *ipa, int dialect, kk_buf *out);
/* Statistics for tests: espeak-ng calls made and cache hits since start. */
void kk_espeak_stats(long *calls, long *hits);
/* How many times the espeak-ng helper process died or hung on a text and was ended (each
 * such text got KOKORO_E_INTERNAL; the next call started a new helper). */
long kk_espeak_restarts(void);
/* For tests of that containment: espeak-ng's raw IPA of text straight from the helper, with
 * none of kk_espeak_phonemes' guards (so a text known to crash libespeak-ng can be sent).
 * KOKORO_E_ARG when no front end is open. */
int kk_espeak_raw(const char *voice, const char *text, kk_buf *raw);

#endif
