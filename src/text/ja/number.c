/* number.c - digit strings read in hiragana, as misaki 0.9.4 reads them before analysis
 * (its num2kana): up to 9 digits by 万 and 億 with the sound changes of 300, 600, 800,
 * 3000 and 8000, and いっせん for a thousand inside a larger number. Longer strings, which
 * misaki cannot read, are read digit by digit. */
#include "text/ja/ja.h"

#include <string.h>

static const char *const DIGIT[] = {"ゼロ", "いち", "に", "さん", "よん",
                                    "ご",   "ろく", "なな", "はち", "きゅう"};
#define JUU "じゅう"
#define HYAKU "ひゃく"
#define SEN "せん"
#define MAN "まん"
#define OKU "おく"

static int put(kk_buf *b, const char *s)
{
    return kk_buf_puts(b, s);
}

static int one(char d, kk_buf *b)
{
    return put(b, DIGIT[d - '0']);
}

/* 10-99 (a leading zero reads the last digit alone). */
static int two(const char *d, kk_buf *b)
{
    if (d[0] == '0')
        return one(d[1], b);
    if (d[0] == '1')
        return put(b, JUU) | (d[1] == '0' ? 0 : one(d[1], b));
    if (d[1] == '0')
        return one(d[0], b) | put(b, JUU);
    return one(d[0], b) | put(b, JUU) | one(d[1], b);
}

static int three(const char *d, kk_buf *b)
{
    int rc;
    switch (d[0]) {
    case '1': rc = put(b, HYAKU); break;
    case '3': rc = put(b, "さんびゃく"); break;
    case '6': rc = put(b, "ろっぴゃく"); break;
    case '8': rc = put(b, "はっぴゃく"); break;
    default: rc = one(d[0], b) | put(b, HYAKU);
    }
    if (d[1] == '0' && d[2] == '0')
        return rc;
    if (d[1] == '0')
        return rc | one(d[2], b);
    return rc | two(d + 1, b);
}

/* 4 digits (leading zeros skipped; "0000" says nothing). alone: the whole number is these
 * four digits (1000 is せん alone, いっせん inside 万 or 億). */
static int four(const char *d, int alone, kk_buf *b)
{
    size_t n = 4;
    while (n > 0 && *d == '0')
        d++, n--;
    if (n == 0)
        return 0;
    if (n == 1)
        return one(d[0], b);
    if (n == 2)
        return two(d, b);
    if (n == 3)
        return three(d, b);
    int rc;
    switch (d[0]) {
    case '1': rc = put(b, alone ? SEN : "いっせん"); break;
    case '3': rc = put(b, "さんぜん"); break;
    case '8': rc = put(b, "はっせん"); break;
    default: rc = one(d[0], b) | put(b, SEN);
    }
    if (memcmp(d + 1, "000", 3) == 0)
        return rc;
    if (d[1] == '0')
        return rc | two(d + 2, b);
    return rc | three(d + 1, b);
}

/* 5 to 9 digits: the head before the last four, then 万 (and 億 for nine). */
static int large(const char *d, size_t n, kk_buf *b)
{
    size_t h = n - 4;
    int rc;
    char pad[4];
    switch (h) {
    case 1: rc = one(d[0], b) | put(b, MAN); break;
    case 2: rc = two(d, b) | put(b, MAN); break;
    case 3: rc = three(d, b) | put(b, MAN); break;
    case 4: rc = four(d, 0, b) | put(b, MAN); break;
    default: /* 5 */
        rc = one(d[0], b) | put(b, OKU) | four(d + 1, 0, b);
        if (memcmp(d + 1, "0000", 4) != 0)
            rc |= put(b, MAN);
    }
    memcpy(pad, d + h, 4);
    return rc | four(pad, 0, b);
}

int kk_ja_number(const char *digits, size_t n, kk_buf *out)
{
    if (n > 9) {
        for (size_t i = 0; i < n; i++)
            if (one(digits[i], out) < 0)
                return -1;
        return 0;
    }
    while (n > 1 && *digits == '0')
        digits++, n--;
    char d[10];
    memcpy(d, digits, n);
    d[n] = 0;
    switch (n) {
    case 1: return one(d[0], out);
    case 2: return two(d, out);
    case 3: return three(d, out);
    case 4: return four(d, 1, out);
    default: return large(d, n, out);
    }
}
