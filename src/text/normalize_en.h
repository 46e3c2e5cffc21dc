/* normalize_en.h - English text normalisation: numbers, money, dates, times, abbreviations,
 * units, URLs and symbols rewritten as the words that are said, with a map back to the
 * input. Not public API. */
#ifndef KK_NORMALIZE_EN_H
#define KK_NORMALIZE_EN_H

#include "kokoro.h"

/* Rewrites English text so that it can be read word by word: numbers, money, dates, times,
 * abbreviations, units, URLs, symbols and Roman numerals become words. british selects
 * en-gb conventions. *out is malloc'd. Returns KOKORO_OK or KOKORO_E_NOMEM. */
int kk_normalize_en(const char *text, int british, char **out);

/* Where the normaliser's output came from: the output bytes from out_pos up to the next
 * span's out_pos were written for the input bytes [in_start, in_end). Sorted by out_pos. */
typedef struct {
    int out_pos, in_start, in_end;
} kk_srcspan;

typedef struct {
    kk_srcspan *s;
    int n, cap;
} kk_srcmap;

/* kk_normalize_en with the caller's options (NULL = kokoro_norm_defaults()) and, when map is
 * not NULL, the source of every piece of the output (map->s is malloc'd; free it). Returns
 * KOKORO_OK or KOKORO_E_NOMEM. */
int kk_normalize_en_map(const char *text, int british, const kokoro_norm_options *opts,
                        char **out, kk_srcmap *map);

#endif
