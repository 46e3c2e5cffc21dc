/* vocab.h - the phoneme vocabulary of Kokoro-82M v1.0: which code points the model reads,
 * and phonemes written by users (IPA) mapped onto them. Not public API. */
#ifndef KK_VOCAB_H
#define KK_VOCAB_H

#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>

/* Id of a code point in the model's vocabulary, or 0 when it has none. */
int kk_vocab_id(uint32_t cp);

/* Standard IPA (or the model's own letters) -> the model's vocabulary: diphthongs to their
 * letters (eɪ A, aɪ I, oʊ O, aʊ W, ɔɪ Y, əʊ Q), ɝ ɜɹ, ɚ əɹ, r ɹ, g ɡ, tie bars dropped,
 * anything outside the vocabulary dropped. Appends to out; 0 or -1 when out of memory. */
int kk_user_ipa(const char *ipa, size_t n, kk_buf *out);

#endif
