/* zh.h - the Mandarin front end: misaki 0.9.4's ZHG2P as Kokoro v1.0's pipeline runs it.
 *
 * kokoro 0.9.4 builds ZHG2P(version=None) for the v1.0 model (hexgrad/Kokoro-82M), which is
 * misaki's "legacy" path: numbers read as cn2an's an2cn transform reads them, full-width
 * punctuation mapped to ASCII, Han runs cut into words as jieba cuts them (dictionary DAG,
 * HMM for unknown words), each word read by pypinyin (phrase dictionary, then characters;
 * tone numbers, neutral tone 5), and each syllable written in IPA with tone arrows
 * (→ ↗ ↓ ↘). Everything between Han runs (Latin, punctuation, spaces) is kept as written.
 *
 * The dictionaries are plain text files made at `make model` time by tools/zh_convert.py
 * from the PyPI packages jieba and pypinyin (both MIT). They are loaded once per process on
 * the first Mandarin request, then shared read-only by every thread. */
#ifndef KK_ZH_H
#define KK_ZH_H

#include "core/buf.h"
#include "core/utf8.h"
#include "text/g2p.h" /* the back-end interface this front end implements */
#include "text/vocab.h"

#include <stddef.h>
#include <stdint.h>

/* A growable string of code points. kk_zu_* return 0, or -1 when out of memory. */
typedef struct {
    uint32_t *c;
    int n, cap;
} kk_zu;

int kk_zu_put(kk_zu *s, uint32_t c);
int kk_zu_append(kk_zu *s, const uint32_t *c, int n);
/* Appends the code points of UTF-8 text (invalid bytes become U+FFFD). */
int kk_zu_from_utf8(kk_zu *s, const char *text, size_t n);
/* Appends an ASCII or UTF-8 literal. */
int kk_zu_lit(kk_zu *s, const char *utf8);
void kk_zu_free(kk_zu *s);
/* UTF-8 of c[0..n) appended to out; 0 or -1 when out of memory. */
int kk_zu_to_utf8(const uint32_t *c, int n, kk_buf *out);

/* Where each code point of a rewritten text came from: the input bytes
 * [v[2i], v[2i + 1]) of code point i. kk_zi_pair returns 0, or -1 when out of memory. */
typedef struct {
    int *v;
    int n, cap; /* ints, two a code point */
} kk_zi;

int kk_zi_pair(kk_zi *m, int a, int b);
void kk_zi_free(kk_zi *m);

/* ------------------------------------------------------------ dictionaries (zh_dict.c) */

typedef struct kk_zh_dict kk_zh_dict;

/* The process-wide dictionaries from dir (jieba.dict, jieba.hmm, pinyin.chars,
 * pinyin.phrases), loaded by the first caller and shared afterwards. Returns KOKORO_OK,
 * KOKORO_E_IO (files missing or damaged: message in err) or KOKORO_E_NOMEM. */
int kk_zh_dict_get(const char *dir, const kk_zh_dict **out, char *err, size_t errlen);

/* KOKORO_OK when the dictionaries are loaded or their files are in dir, else KOKORO_E_IO
 * with a message; reads nothing (a few stat calls), so that every request may ask. */
int kk_zh_dict_present(const char *dir, char *err, size_t errlen);

/* jieba: frequency of a dictionary word (0 when absent), the sum of all frequencies, and
 * the longest word in code points. */
long long kk_zh_freq(const kk_zh_dict *d, const uint32_t *w, int n);
double kk_zh_freq_total(const kk_zh_dict *d);
int kk_zh_max_word(const kk_zh_dict *d);
/* jieba's HMM (states B, M, E, S as 0..3): log-probabilities; missing entries give
 * KK_ZH_MIN_LOGP as in jieba. */
#define KK_ZH_MIN_LOGP (-3.14e100)
double kk_zh_hmm_start(const kk_zh_dict *d, int state);
double kk_zh_hmm_trans(const kk_zh_dict *d, int from, int to);
double kk_zh_hmm_emit(const kk_zh_dict *d, int state, uint32_t c);
/* pypinyin: reading of a phrase ("zhong1 guo2", space-separated syllables) or of one
 * character ("zhong1"); NULL when absent. *is_prefix (may be NULL) tells whether w is a
 * phrase or the start of one. */
const char *kk_zh_phrase(const kk_zh_dict *d, const uint32_t *w, int n, int *is_prefix);
const char *kk_zh_char(const kk_zh_dict *d, uint32_t c);
int kk_zh_max_phrase(const kk_zh_dict *d);
/* Bytes held by the loaded dictionaries (file text and tables). */
size_t kk_zh_dict_bytes(const kk_zh_dict *d);

/* ------------------------------------------------------------ the steps */

/* cn2an.transform(text, "an2cn"): ranges, dates, fractions, percentages, degrees and plain
 * numbers in Arabic digits become Chinese numerals. Appends to out, and to out_src where
 * each of its code points came from (src: the same for s; a number's numerals all come from
 * the whole number). Returns 0 or -1 (memory). */
int kk_zh_an2cn(const uint32_t *s, const kk_zi *src, int n, kk_zu *out, kk_zi *out_src);
/* jieba.lcut(s) with the HMM: word lengths (in code points) appended to lens. */
int kk_zh_cut(const kk_zh_dict *d, const uint32_t *s, int n, kk_zu *lens);
/* A word's IPA as misaki's word2ipa writes it (pypinyin, then each syllable in IPA).
 * Characters without a reading are skipped. Appends to out; 0 or -1 (memory). */
int kk_zh_word_ipa(const kk_zh_dict *d, const uint32_t *w, int n, kk_buf *out);
/* One syllable with its tone number ("zhong1", "lve4", "de5") in IPA with a tone arrow.
 * Appends to out; returns 0, 1 when it is not a Mandarin syllable (nothing appended), or -1
 * (memory). */
int kk_zh_syllable_ipa(const char *py, size_t n, kk_buf *out);

/* Where the dictionaries are: <lexicon_dir>/zh, from the last front end created
 * (kokoro_text_new); "models/lexicon/zh" when none said. Once loaded they stay: a later
 * folder is not read. */
void kk_zh_set_dir(const char *lexicon_dir);
/* The whole front end over UTF-8 text: words and phonemes appended to out. The dictionaries
 * are loaded by the first call that meets a Han character; while their files are missing
 * every call fails. Returns KOKORO_OK, KOKORO_E_IO (message in err) or KOKORO_E_NOMEM. */
int kk_g2p_zh(const char *text, kk_phon *out, char *err, size_t errlen);

#endif
