/* numbers.c - English number words: cardinals, ordinals, years, digits, decimals, fractions. */
#include "text/numbers.h"

#include <string.h>

static const char *const ONES[] = {"zero",    "one",     "two",       "three",    "four",
                                   "five",    "six",     "seven",     "eight",    "nine",
                                   "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                   "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
static const char *const TENS[] = {"",      "",      "twenty",  "thirty", "forty",
                                   "fifty", "sixty", "seventy", "eighty", "ninety"};

static int sep(kk_buf *b)
{
    return (b->n && b->p[b->n - 1] != ' ' && b->p[b->n - 1] != '-') ? kk_buf_putc(b, ' ') : 0;
}

/* 0..999 */
static int say_hundreds(kk_buf *b, unsigned v, int british)
{
    int rc = 0;
    if (v >= 100) {
        rc |= sep(b) | kk_buf_puts(b, ONES[v / 100]) | kk_buf_puts(b, " hundred");
        v %= 100;
        if (v && british)
            rc |= kk_buf_puts(b, " and");
        if (!v)
            return rc;
    }
    rc |= sep(b);
    if (v < 20)
        return rc | kk_buf_puts(b, ONES[v]);
    rc |= kk_buf_puts(b, TENS[v / 10]);
    if (v % 10)
        rc |= kk_buf_putc(b, '-') | kk_buf_puts(b, ONES[v % 10]);
    return rc;
}

int kk_say_cardinal(kk_buf *b, uint64_t v, int british)
{
    static const char *const SCALE[] = {"", " thousand", " million", " billion", " trillion",
                                        " quadrillion"};
    if (v == 0)
        return sep(b) | kk_buf_puts(b, "zero");
    unsigned groups[7];
    int n = 0;
    for (uint64_t x = v; x; x /= 1000)
        groups[n++] = (unsigned)(x % 1000);
    int rc = 0;
    for (int g = n - 1; g >= 0; g--) {
        if (!groups[g])
            continue;
        /* en-gb: "one thousand and five" */
        if (g == 0 && british && n > 1 && groups[0] < 100)
            rc |= kk_buf_puts(b, " and");
        rc |= say_hundreds(b, groups[g], british);
        if (g < 6)
            rc |= kk_buf_puts(b, SCALE[g]);
    }
    return rc;
}

/* Rewrites the last number word of b (from start) into its ordinal form. */
static int ordinalise(kk_buf *b, size_t start)
{
    static const struct {
        const char *card, *ord;
    } IRREG[] = {{"one", "first"},   {"two", "second"}, {"three", "third"}, {"five", "fifth"},
                 {"eight", "eighth"}, {"nine", "ninth"}, {"twelve", "twelfth"}};
    size_t w = b->n;
    while (w > start && b->p[w - 1] != ' ' && b->p[w - 1] != '-')
        w--;
    for (size_t i = 0; i < sizeof IRREG / sizeof IRREG[0]; i++) {
        if (strcmp(b->p + w, IRREG[i].card) == 0) {
            b->n = w;
            b->p[w] = 0;
            return kk_buf_puts(b, IRREG[i].ord);
        }
    }
    if (b->n > w && b->p[b->n - 1] == 'y') {
        b->p[--b->n] = 0;
        return kk_buf_puts(b, "ieth");
    }
    return kk_buf_puts(b, "th");
}

int kk_say_ordinal(kk_buf *b, uint64_t v, int british)
{
    if (kk_say_cardinal(b, v, british) < 0)
        return -1;
    return ordinalise(b, 0);
}

int kk_say_plural(kk_buf *b)
{
    if (b->n && b->p[b->n - 1] == 'y') {
        b->p[--b->n] = 0;
        return kk_buf_puts(b, "ies");
    }
    if (b->n && b->p[b->n - 1] == 'x')
        return kk_buf_puts(b, "es");
    return kk_buf_puts(b, "s");
}

int kk_say_year(kk_buf *b, unsigned y, int british)
{
    if (y < 1000 || y > 9999 || (y >= 2000 && y < 2010) || y % 1000 == 0)
        return kk_say_cardinal(b, y, british);
    int rc = say_hundreds(b, y / 100, british);
    unsigned lo = y % 100;
    if (lo == 0)
        return rc | kk_buf_puts(b, " hundred");
    if (lo < 10)
        return rc | kk_buf_puts(b, " oh ") | kk_buf_puts(b, ONES[lo]);
    return rc | say_hundreds(b, lo, british);
}

int kk_say_digits(kk_buf *b, const char *d, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (d[i] >= '0' && d[i] <= '9')
            rc |= sep(b) | kk_buf_puts(b, ONES[d[i] - '0']);
    return rc;
}

int kk_say_number(kk_buf *b, const char *digits, size_t n, int british)
{
    if (n > 15) /* past the trillions: digit by digit */
        return kk_say_digits(b, digits, n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (uint64_t)(digits[i] - '0');
    return kk_say_cardinal(b, v, british);
}

int kk_say_fraction(kk_buf *b, uint64_t num, uint64_t den, int british)
{
    int rc = kk_say_cardinal(b, num, british);
    rc |= sep(b);
    size_t start = b->n;
    if (den == 2)
        return rc | kk_buf_puts(b, num == 1 ? "half" : "halves");
    if (den == 4)
        rc |= kk_buf_puts(b, "quarter");
    else
        rc |= kk_say_cardinal(b, den, british) | ordinalise(b, start);
    if (num != 1)
        rc |= kk_say_plural(b);
    return rc;
}
