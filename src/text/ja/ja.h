/* ja.h - the Japanese front end: misaki 0.9.4's cutlet path (the G2P of Kokoro v1.0's jf_ and
 * jm_ voices) over MeCab with UniDic (unidic-lite). See docs/text.md, "Japanese". */
#ifndef KK_JA_H
#define KK_JA_H

#include "core/buf.h"
#include "core/utf8.h"
#include "text/g2p.h" /* the back-end interface this front end implements */
#include "text/vocab.h"

#include <stddef.h>
#include <stdint.h>

typedef struct kk_ja kk_ja;

/* A front end that will read its data from dir (unidic-lite/ and ja_words.txt): nothing is
 * loaded until the first text that needs the analyser. Returns NULL when out of memory. */
kk_ja *kk_ja_new(const char *dir);
void kk_ja_free(kk_ja *ja);
/* Phonemes of Japanese text, words positioned, appended to out. Thread-safe: the dictionary
 * is loaded once, by the first caller, and shared. KOKORO_E_IO when it is missing. */
int kk_g2p_ja(kk_ja *ja, const char *text, kk_phon *out, char *err, size_t errlen);
/* Bytes the front end has mapped for its dictionaries (0 before the first load). */
size_t kk_ja_loaded_bytes(kk_ja *ja);

/* ---- internals shared by ja.c, kana.c and number.c */

/* Appends the reading of a digit string (n ASCII digits) in hiragana, as misaki's num2kana
 * reads it (no spaces). Returns 0 or -1 when out of memory. */
int kk_ja_number(const char *digits, size_t n, kk_buf *out);
/* Appends the phonemes of one word read as kana: hira is its reading in hiragana (n code
 * points). Returns 0 or -1 when out of memory. */
int kk_ja_kana_word(const uint32_t *hira, size_t n, kk_buf *out);
/* The mapping of one symbol (。 -> ".", 「 -> "“", ...), or NULL when it has none. */
const char *kk_ja_symbol(uint32_t cp);

#endif
