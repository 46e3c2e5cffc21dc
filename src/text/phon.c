/* phon.c - phonemised text (phon.h). */
#include "text/phon.h"

#include <stdlib.h>
#include <string.h>

void kk_phon_free(kk_phon *p)
{
    for (int i = 0; i < p->n_words; i++)
        free(p->words[i].text);
    free(p->words);
    kk_buf_free(&p->ph);
    memset(p, 0, sizeof *p);
}

int kk_phon_add_word(kk_phon *p, const char *text, size_t n, int ph_start, int ph_end)
{
    kk_word *w = kk_grow(p->words, p->n_words + 1, &p->cap_words, sizeof *w, 32);
    if (!w)
        return -1;
    p->words = w;
    char *copy = malloc(n + 1);
    if (!copy)
        return -1;
    memcpy(copy, text, n);
    copy[n] = 0;
    p->words[p->n_words++] = (kk_word){copy, ph_start, ph_end, 0, 0, 0};
    return 0;
}
