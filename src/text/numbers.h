/* numbers.h - English number words (not public API). All functions append to b, separated
 * from what precedes by a space, and return 0 or -1 when out of memory. */
#ifndef KK_NUMBERS_H
#define KK_NUMBERS_H

#include "core/buf.h"

#include <stddef.h>
#include <stdint.h>

int kk_say_cardinal(kk_buf *b, uint64_t v, int british);        /* 1234 -> one thousand ... */
int kk_say_ordinal(kk_buf *b, uint64_t v, int british);         /* 21 -> twenty-first */
int kk_say_year(kk_buf *b, unsigned y, int british);            /* 1998 -> nineteen ninety-eight */
int kk_say_digits(kk_buf *b, const char *d, size_t n);          /* "042" -> zero four two */
int kk_say_number(kk_buf *b, const char *d, size_t n, int british); /* digit string, any length */
int kk_say_fraction(kk_buf *b, uint64_t num, uint64_t den, int british); /* 3/4 -> three quarters */
/* Pluralises the last word of b ("ninety" -> "nineties"). */
int kk_say_plural(kk_buf *b);

#endif
