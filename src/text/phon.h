/* phon.h - phonemised text, what every G2P back end produces and the pipeline cuts into
 * chunks: the phoneme string and the words it was read from, each with its place in both.
 * Not public API. */
#ifndef KK_PHON_H
#define KK_PHON_H

#include "kokoro.h"
#include "core/buf.h"

#include <stddef.h>

/* A word of the phonemised text: what was read (normalised), and where its phonemes are. */
typedef struct {
    char *text;
    int ph_start, ph_end; /* byte offsets into the phoneme string */
    int src_start, src_end; /* the input bytes it was read from; src_end == 0: not known */
    int src_input; /* src_start/src_end are bytes of the caller's whole input (a marked-up
                    * piece's source), not of the text phonemised */
} kk_word;

typedef struct {
    kk_buf ph;
    kk_word *words;
    int n_words, cap_words;
    const kokoro_norm_options *norm; /* set by the caller: English normalisation (NULL: all) */
} kk_phon;

/* Frees what p holds and leaves it empty. */
void kk_phon_free(kk_phon *p);
/* Appends a word (a copy of text's n bytes) with its phonemes at [ph_start, ph_end).
 * Returns 0, or -1 when out of memory (p unchanged). */
int kk_phon_add_word(kk_phon *p, const char *text, size_t n, int ph_start, int ph_end);

#endif
