/* normalize_en.c - English text normalisation: what a reader says for "$25.50" or "Dr. Smith".
 *
 * One left-to-right pass. At the start of each token a list of matchers is tried (URL, e-mail,
 * money, phone number, date, time, number with its suffix or unit, abbreviation, Roman
 * numeral); the first that matches writes words to the output and consumes its input.
 * Anything else is copied, with control characters and invalid UTF-8 turned into spaces.
 *
 * Conventions (docs/text.md): d/d/dddd dates are month/day/year in en-us and day/month/year
 * in en-gb; a four-digit number from 1100 to 2099 is read as a year after "in", "since",
 * a month, ... or before "AD"/"BC", or when no word follows it, and as a quantity otherwise;
 * phone numbers are read digit by digit in their groups. */
#include "text/numbers.h"
#include "core/buf.h"
#include "core/utf8.h"
#include "text/normalize_en.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *s;
    size_t n, i;
    kk_buf out;
    int british;
    int oom;
    kokoro_norm_options opt;
} norm;

#define AT(k) ((nm->i + (k)) < nm->n ? (unsigned char)nm->s[nm->i + (k)] : 0)

static int isdig(int c) { return c >= '0' && c <= '9'; }
static int isalph(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int isaln(int c) { return isdig(c) || isalph(c); }

static void put(norm *nm, const char *s) { nm->oom |= kk_buf_puts(&nm->out, s); }
static void putn(norm *nm, const char *s, size_t n) { nm->oom |= kk_buf_put(&nm->out, s, n); }

/* Makes sure the next word is separated from the previous output. */
static void space(norm *nm)
{
    kk_buf *b = &nm->out;
    if (b->n && b->p[b->n - 1] != ' ' && b->p[b->n - 1] != '\n' && b->p[b->n - 1] != '(' &&
        b->p[b->n - 1] != '"')
        put(nm, " ");
}

static void say(norm *nm, const char *words)
{
    space(nm);
    put(nm, words);
}

/* ------------------------------------------------------------ context */

static const char *const MONTHS[] = {"January", "February", "March",     "April",
                                     "May",     "June",     "July",      "August",
                                     "September", "October", "November", "December", NULL};

static int month_index(const char *w)
{
    for (int i = 0; MONTHS[i]; i++)
        if (strcasecmp(w, MONTHS[i]) == 0)
            return i;
    return -1;
}


/* The word before position pos in the input (skipping spaces and commas), into w. */
static void input_prev_word(const norm *nm, size_t pos, char *w, size_t cap)
{
    size_t e = pos;
    while (e > 0 && (nm->s[e - 1] == ' ' || nm->s[e - 1] == ','))
        e--;
    size_t s = e;
    while (s > 0 && (isaln((unsigned char)nm->s[s - 1]) || nm->s[s - 1] == '.'))
        s--;
    size_t n = e - s < cap - 1 ? e - s : cap - 1;
    memcpy(w, nm->s + s, n);
    w[n] = 0;
}

/* The word of the output before byte end (lower-cased) into w; returns where it starts. */
static size_t output_word_before(const norm *nm, size_t end, char *w, size_t cap)
{
    const kk_buf *b = &nm->out;
    size_t e = end;
    while (e > 0 && (b->p[e - 1] == ' ' || b->p[e - 1] == ','))
        e--;
    size_t s = e;
    while (s > 0 && (isalph((unsigned char)b->p[s - 1]) || b->p[s - 1] == '-'))
        s--;
    size_t n = e - s < cap - 1 ? e - s : cap - 1;
    for (size_t k = 0; k < n; k++)
        w[k] = (char)tolower((unsigned char)b->p[s + k]);
    w[n] = 0;
    return s;
}

static void output_prev_word(const norm *nm, char *w, size_t cap)
{
    output_word_before(nm, nm->out.n, w, cap);
}

/* Whether the output ends with a month and a day: "March third," */
static int after_month_day(const norm *nm)
{
    char w[32];
    size_t s = output_word_before(nm, nm->out.n, w, sizeof w);
    size_t l = strlen(w);
    if (l < 3 || !(strcmp(w + l - 2, "th") == 0 || strcmp(w + l - 2, "st") == 0 ||
                   strcmp(w + l - 2, "nd") == 0 || strcmp(w + l - 2, "rd") == 0))
        return 0;
    output_word_before(nm, s, w, sizeof w);
    return month_index(w) >= 0;
}

/* The letters at input position pos after optional spaces; returns its length. */
static size_t input_word_at(const norm *nm, size_t pos, size_t *start)
{
    while (pos < nm->n && nm->s[pos] == ' ')
        pos++;
    *start = pos;
    size_t e = pos;
    while (e < nm->n && isalph((unsigned char)nm->s[e]))
        e++;
    return e - pos;
}

static int in_list(const char *w, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strcasecmp(w, list[i]) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------ number scanning */

typedef struct {
    size_t len;      /* bytes consumed */
    char ip[40];     /* integer digits, commas removed */
    size_t ipn;
    const char *fp;  /* fraction digits (after '.') */
    size_t fpn;
    int commas, too_long;
    const char *src; /* the digits as written (all of them when too_long) */
} number;

/* Scans 1,234,567.89 / 1234 / 3.14 at s. Returns 0 when no digit is there. */
static int scan_number(const char *s, size_t n, number *num)
{
    memset(num, 0, sizeof *num);
    num->src = s;
    size_t i = 0;
    while (i < n && isdig((unsigned char)s[i]))
        i++;
    if (i == 0)
        return 0;
    size_t first = i;
    /* thousands separators: groups of exactly three digits */
    if (first <= 3) {
        size_t j = i;
        while (j + 3 < n && s[j] == ',' && isdig((unsigned char)s[j + 1]) &&
               isdig((unsigned char)s[j + 2]) && isdig((unsigned char)s[j + 3]) &&
               (j + 4 >= n || !isdig((unsigned char)s[j + 4])))
            j += 4, num->commas++;
        i = j;
    }
    for (size_t k = 0; k < i; k++) {
        if (s[k] == ',')
            continue;
        if (num->ipn < sizeof num->ip - 1)
            num->ip[num->ipn++] = s[k];
        else
            num->too_long = 1;
    }
    if (num->too_long) { /* read as digits: the whole run, its thousands separators too */
        num->len = i;
        return 1;
    }
    if (i + 1 < n && s[i] == '.' && isdig((unsigned char)s[i + 1])) {
        num->fp = s + i + 1;
        i++;
        while (i < n && isdig((unsigned char)s[i]))
            i++;
        num->fpn = (size_t)(s + i - num->fp);
    }
    num->len = i;
    return 1;
}

static uint64_t num_value(const number *num)
{
    uint64_t v = 0;
    for (size_t k = 0; k < num->ipn && k < 18; k++)
        v = v * 10 + (uint64_t)(num->ip[k] - '0');
    return v;
}

/* Reads a scanned number as a quantity: "3.14" -> "three point one four". */
static void say_quantity(norm *nm, const number *num)
{
    space(nm);
    if (num->too_long) /* more digits than any number name: every one of them, one by one */
        nm->oom |= kk_say_digits(&nm->out, num->src, num->len);
    else if (num->ipn > 1 && num->ip[0] == '0' && !num->commas && !num->fp)
        nm->oom |= kk_say_digits(&nm->out, num->ip, num->ipn); /* "007" */
    else
        nm->oom |= kk_say_number(&nm->out, num->ip, num->ipn, nm->british);
    if (num->fp) {
        put(nm, " point");
        nm->oom |= kk_say_digits(&nm->out, num->fp, num->fpn);
    }
}

static int is_one(const number *num)
{
    if (num->ipn != 1 || num->ip[0] != '1')
        return 0;
    for (size_t k = 0; k < num->fpn; k++)
        if (num->fp[k] != '0')
            return 0;
    return 1;
}

/* ------------------------------------------------------------ matchers */

/* Each matcher looks at nm->s + nm->i; on a match it writes words, advances nm->i and
 * returns 1; otherwise it changes nothing and returns 0. */

static size_t url_char_run(const norm *nm, size_t p)
{
    while (p < nm->n) {
        unsigned char c = (unsigned char)nm->s[p];
        if (isaln(c) || strchr("-._~:/?#[]@!$&'()*+,;=%", c))
            p++;
        else
            break;
    }
    /* trailing sentence punctuation is not part of the address */
    while (p > 0 && strchr(".,;:!?)'", nm->s[p - 1]))
        p--;
    return p;
}

/* Reads an address piece by piece: "www.example.com/a-b" -> "w w w dot example dot com slash
 * a dash b". */
static void say_address(norm *nm, size_t s, size_t e)
{
    for (size_t p = s; p < e;) {
        unsigned char c = (unsigned char)nm->s[p];
        if (isalph(c)) {
            size_t q = p;
            while (q < e && isalph((unsigned char)nm->s[q]))
                q++;
            space(nm);
            if (q - p == 3 && strncasecmp(nm->s + p, "www", 3) == 0)
                put(nm, "w w w");
            else
                putn(nm, nm->s + p, q - p);
            p = q;
        } else if (isdig(c)) {
            size_t q = p;
            while (q < e && isdig((unsigned char)nm->s[q]))
                q++;
            space(nm);
            if (q - p > 4)
                nm->oom |= kk_say_digits(&nm->out, nm->s + p, q - p);
            else
                nm->oom |= kk_say_number(&nm->out, nm->s + p, q - p, nm->british);
            p = q;
        } else {
            static const char *const names[][2] = {
                {".", "dot"}, {"/", "slash"}, {"-", "dash"}, {"_", "underscore"},
                {":", "colon"}, {"@", "at"}, {"?", "question mark"}, {"=", "equals"},
                {"&", "and"}, {"#", "hash"}, {"+", "plus"}, {"~", "tilde"}, {"%", "percent"}};
            for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
                if (c == (unsigned char)names[k][0][0])
                    say(nm, names[k][1]);
            p++;
        }
    }
}

static int match_url(norm *nm)
{
    size_t p = nm->i, body;
    if (nm->n - p > 8 && strncasecmp(nm->s + p, "https://", 8) == 0)
        body = p + 8;
    else if (nm->n - p > 7 && strncasecmp(nm->s + p, "http://", 7) == 0)
        body = p + 7;
    else if (nm->n - p > 4 && strncasecmp(nm->s + p, "www.", 4) == 0)
        body = p;
    else
        return 0;
    size_t e = url_char_run(nm, body);
    if (e <= body + 1)
        return 0;
    /* a trailing slash adds nothing to what a listener needs */
    size_t se = e;
    if (se > body && nm->s[se - 1] == '/')
        se--;
    say_address(nm, body, se);
    nm->i = e;
    return 1;
}

static int match_email(norm *nm)
{
    size_t p = nm->i, q = p;
    while (q < nm->n && (isaln((unsigned char)nm->s[q]) || strchr("._%+-", nm->s[q])))
        q++;
    if (q == p || q >= nm->n || nm->s[q] != '@')
        return 0;
    size_t d = q + 1, e = d;
    int dots = 0;
    while (e < nm->n && (isaln((unsigned char)nm->s[e]) || nm->s[e] == '-' ||
                         (nm->s[e] == '.' && e + 1 < nm->n && isaln((unsigned char)nm->s[e + 1]))))
        dots += nm->s[e++] == '.';
    if (!dots || e == d)
        return 0;
    say_address(nm, p, e);
    nm->i = e;
    return 1;
}

typedef struct {
    const char *sym; /* UTF-8 */
    const char *one, *many, *sub_one, *sub_many;
} currency;

static const currency CURRENCIES[] = {
    {"$", "dollar", "dollars", "cent", "cents"},
    {"\xc2\xa3", "pound", "pounds", "penny", "pence"},
    {"\xe2\x82\xac", "euro", "euros", "cent", "cents"},
    {"\xc2\xa5", "yen", "yen", NULL, NULL},
    {"\xe2\x82\xb9", "rupee", "rupees", "paisa", "paise"},
};

static const char *scale_word(const norm *nm, size_t p, size_t *len)
{
    static const struct {
        const char *abbr, *word;
    } SCALES[] = {{"thousand", "thousand"}, {"million", "million"}, {"billion", "billion"},
                  {"trillion", "trillion"}, {"bn", "billion"},      {"k", "thousand"},
                  {"K", "thousand"},        {"m", "million"},       {"M", "million"},
                  {"B", "billion"},         {"tn", "trillion"}};
    for (size_t k = 0; k < sizeof SCALES / sizeof SCALES[0]; k++) {
        size_t q = p;
        if (strlen(SCALES[k].abbr) > 2) /* whole words may follow a space */
            while (q < nm->n && nm->s[q] == ' ')
                q++;
        size_t l = strlen(SCALES[k].abbr);
        if (nm->n - q >= l && strncmp(nm->s + q, SCALES[k].abbr, l) == 0 &&
            (q + l >= nm->n || !isaln((unsigned char)nm->s[q + l]))) {
            *len = q + l - p;
            return SCALES[k].word;
        }
    }
    return NULL;
}

static int match_money(norm *nm)
{
    const currency *cur = NULL;
    size_t p = nm->i;
    for (size_t k = 0; k < sizeof CURRENCIES / sizeof CURRENCIES[0]; k++) {
        size_t l = strlen(CURRENCIES[k].sym);
        if (nm->n - p > l && memcmp(nm->s + p, CURRENCIES[k].sym, l) == 0) {
            cur = &CURRENCIES[k];
            p += l;
            break;
        }
    }
    if (!cur)
        return 0;
    if (p < nm->n && nm->s[p] == ' ')
        p++;
    number num;
    if (!scan_number(nm->s + p, nm->n - p, &num))
        return 0;
    p += num.len;
    size_t sl = 0;
    const char *scale = scale_word(nm, p, &sl);
    if (scale) {
        say_quantity(nm, &num);
        say(nm, scale);
        say(nm, cur->many);
        nm->i = p + sl;
        return 1;
    }
    uint64_t whole = num_value(&num);
    int cents = -1;
    if (num.fp && cur->sub_one && num.fpn <= 2)
        cents = (num.fp[0] - '0') * 10 + (num.fpn == 2 ? num.fp[1] - '0' : 0);
    if (num.fp && cents < 0) { /* "¥3.5" or "$1.005": read as a quantity */
        say_quantity(nm, &num);
        say(nm, cur->many);
    } else {
        if (whole || cents <= 0) {
            space(nm);
            nm->oom |= kk_say_number(&nm->out, num.ip, num.ipn, nm->british);
            say(nm, whole == 1 && num.ipn == 1 ? cur->one : cur->many);
        }
        if (cents > 0) {
            if (whole)
                say(nm, "and");
            space(nm);
            nm->oom |= kk_say_cardinal(&nm->out, (uint64_t)cents, nm->british);
            say(nm, cents == 1 ? cur->sub_one : cur->sub_many);
        }
    }
    nm->i = p;
    return 1;
}

/* Counts a run of digits at p. */
static size_t digits_at(const norm *nm, size_t p)
{
    size_t q = p;
    while (q < nm->n && isdig((unsigned char)nm->s[q]))
        q++;
    return q - p;
}

/* (555) 123-4567, 555-123-4567, 555.123.4567, 123-4567, 1-800-555-0199, +1 555 123 4567,
 * +44 20 7946 0958 */
static int match_phone(norm *nm)
{
    size_t p = nm->i, groups[8][2];
    int ng = 0, plus = 0;
    if (nm->s[p] == '+') {
        plus = 1;
        p++;
    }
    if (!plus && nm->s[p] == '(') {
        size_t d = digits_at(nm, p + 1);
        if (d != 3 || p + 4 >= nm->n || nm->s[p + 4] != ')')
            return 0;
        groups[ng][0] = p + 1, groups[ng][1] = 3, ng++;
        p += 5;
        if (p < nm->n && nm->s[p] == ' ')
            p++;
    }
    size_t total = 0;
    char seps = 0;
    while (ng < 8) {
        size_t d = digits_at(nm, p);
        if (d == 0 || d > 4)
            break;
        groups[ng][0] = p, groups[ng][1] = d, ng++;
        total += d;
        p += d;
        char c = p < nm->n ? nm->s[p] : 0;
        if ((c == '-' || c == '.' || (plus && c == ' ')) && p + 1 < nm->n &&
            isdig((unsigned char)nm->s[p + 1])) {
            if (!plus && seps && c != seps)
                break;
            seps = c;
            p++;
        } else {
            break;
        }
    }
    if (p < nm->n && (isaln((unsigned char)nm->s[p]) || nm->s[p] == '/'))
        return 0;
    int ok;
    if (plus)
        ok = ng >= 3 && total >= 8;
    else if (ng == 3)
        ok = groups[0][1] == 3 && groups[1][1] == 3 && groups[2][1] == 4;
    else if (ng == 4) /* 1-800-555-0199: the North American trunk prefix, then the number */
        ok = groups[0][1] == 1 && nm->s[groups[0][0]] == '1' && groups[1][1] == 3 &&
             groups[2][1] == 3 && groups[3][1] == 4 && nm->s[nm->i] != '(';
    else if (ng == 2)
        ok = groups[0][1] == 3 && groups[1][1] == 4 && seps == '-' && nm->s[nm->i] != '(';
    else
        ok = 0;
    if (!ok)
        return 0;
    if (plus)
        say(nm, "plus");
    for (int g = 0; g < ng; g++) {
        space(nm);
        nm->oom |= kk_say_digits(&nm->out, nm->s + groups[g][0], groups[g][1]);
        if (g + 1 < ng)
            put(nm, ",");
    }
    nm->i = p;
    return 1;
}

static void say_date(norm *nm, int month, int day, int year)
{
    if (nm->british) {
        say(nm, "the");
        space(nm);
        nm->oom |= kk_say_ordinal(&nm->out, (uint64_t)day, 1);
        say(nm, "of");
        say(nm, MONTHS[month - 1]);
    } else {
        say(nm, MONTHS[month - 1]);
        space(nm);
        nm->oom |= kk_say_ordinal(&nm->out, (uint64_t)day, 0);
    }
    if (year >= 0) {
        put(nm, ",");
        space(nm);
        nm->oom |= kk_say_year(&nm->out, (unsigned)year, nm->british);
    }
}

static int atoi_n(const char *s, size_t n)
{
    int v = 0;
    for (size_t k = 0; k < n; k++)
        v = v * 10 + (s[k] - '0');
    return v;
}

/* 2024-03-03 and 3/4/2024 (en-us month/day/year, en-gb day/month/year) */
static int match_date(norm *nm)
{
    size_t p = nm->i;
    size_t a = digits_at(nm, p);
    if (a == 4 && p + 10 <= nm->n && nm->s[p + 4] == '-' && digits_at(nm, p + 5) == 2 &&
        nm->s[p + 7] == '-' && digits_at(nm, p + 8) == 2 &&
        (p + 10 == nm->n || !isaln((unsigned char)nm->s[p + 10]))) {
        int y = atoi_n(nm->s + p, 4), m = atoi_n(nm->s + p + 5, 2), d = atoi_n(nm->s + p + 8, 2);
        if (m < 1 || m > 12 || d < 1 || d > 31)
            return 0;
        say_date(nm, m, d, y);
        nm->i = p + 10;
        return 1;
    }
    if (a < 1 || a > 2 || p + a >= nm->n || nm->s[p + a] != '/')
        return 0;
    size_t b = digits_at(nm, p + a + 1);
    size_t q = p + a + 1 + b;
    if (b < 1 || b > 2 || q >= nm->n || nm->s[q] != '/')
        return 0;
    size_t c = digits_at(nm, q + 1);
    if ((c != 2 && c != 4) || (q + 1 + c < nm->n && isaln((unsigned char)nm->s[q + 1 + c])))
        return 0;
    int x = atoi_n(nm->s + p, a), z = atoi_n(nm->s + p + a + 1, b);
    int y = atoi_n(nm->s + q + 1, c);
    if (c == 2)
        y += y < 50 ? 2000 : 1900;
    int m = nm->british ? z : x, d = nm->british ? x : z;
    if (m < 1 || m > 12 || d < 1 || d > 31)
        return 0;
    say_date(nm, m, d, y);
    nm->i = q + 1 + c;
    return 1;
}

/* am/pm after a time: "am", "a.m.", "AM", "A.M." (with an optional space before). Returns
 * the length consumed and sets *pm, or 0. */
static size_t ampm_at(const norm *nm, size_t p, int *pm)
{
    size_t q = p;
    if (q < nm->n && nm->s[q] == ' ')
        q++;
    if (q >= nm->n)
        return 0;
    char c = (char)tolower((unsigned char)nm->s[q]);
    if (c != 'a' && c != 'p')
        return 0;
    size_t r = q + 1;
    if (r < nm->n && nm->s[r] == '.')
        r++;
    if (r >= nm->n || tolower((unsigned char)nm->s[r]) != 'm')
        return 0;
    r++;
    int dotted = r < nm->n && nm->s[r] == '.' && nm->s[q + 1] == '.';
    if (dotted)
        r++;
    if (r < nm->n && isaln((unsigned char)nm->s[r]))
        return 0;
    /* "a.m." ending a sentence keeps its full stop for the sentence */
    if (dotted && (r >= nm->n || nm->s[r] == '\n' ||
                   (r + 1 < nm->n && nm->s[r] == ' ' && isupper((unsigned char)nm->s[r + 1]))))
        r--;
    *pm = c == 'p';
    return r - p;
}

static int match_time(norm *nm)
{
    size_t p = nm->i;
    size_t a = digits_at(nm, p);
    if (a < 1 || a > 2 || p + a + 2 >= nm->n || nm->s[p + a] != ':' ||
        digits_at(nm, p + a + 1) != 2)
        return 0;
    int h = atoi_n(nm->s + p, a), m = atoi_n(nm->s + p + a + 1, 2), sec = -1;
    size_t q = p + a + 3;
    if (q + 2 < nm->n && nm->s[q] == ':' && digits_at(nm, q + 1) == 2) {
        sec = atoi_n(nm->s + q + 1, 2);
        q += 3;
    }
    if (q < nm->n && (isdig((unsigned char)nm->s[q]) || nm->s[q] == ':'))
        return 0;
    if (h > 24 || m > 59 || sec > 59)
        return 0;
    int pm = 0;
    size_t al = ampm_at(nm, q, &pm);
    space(nm);
    nm->oom |= kk_say_cardinal(&nm->out, (uint64_t)h, nm->british);
    if (m == 0 && !al && h <= 12)
        say(nm, "o'clock");
    else if (m == 0 && !al)
        say(nm, "hundred");
    else if (m > 0 && m < 10) {
        say(nm, "oh");
        space(nm);
        nm->oom |= kk_say_cardinal(&nm->out, (uint64_t)m, 0);
    } else if (m > 0) {
        space(nm);
        nm->oom |= kk_say_cardinal(&nm->out, (uint64_t)m, 0);
    }
    if (sec > 0) {
        say(nm, "and");
        space(nm);
        nm->oom |= kk_say_cardinal(&nm->out, (uint64_t)sec, 0);
        say(nm, sec == 1 ? "second" : "seconds");
    }
    if (al)
        say(nm, pm ? "P M" : "A M");
    nm->i = q + al;
    return 1;
}

static int match_fraction(norm *nm)
{
    size_t p = nm->i;
    size_t a = digits_at(nm, p);
    if (a < 1 || a > 3 || p + a >= nm->n || nm->s[p + a] != '/')
        return 0;
    size_t b = digits_at(nm, p + a + 1);
    size_t e = p + a + 1 + b;
    if (b < 1 || b > 3 || (e < nm->n && (isaln((unsigned char)nm->s[e]) || nm->s[e] == '/')))
        return 0;
    int num = atoi_n(nm->s + p, a), den = atoi_n(nm->s + p + a + 1, b);
    int fraction_den = (den >= 2 && den <= 10) || den == 12 || den == 16 || den == 32 ||
                       den == 64 || den == 100;
    if ((num == 24 && den == 7) || (num == 9 && den == 11) || (num > 0 && !fraction_den)) {
        /* 24/7, 9/11, 50/50: two numbers */
        space(nm);
        nm->oom |= kk_say_cardinal(&nm->out, (uint64_t)num, nm->british);
        space(nm);
        nm->oom |= kk_say_cardinal(&nm->out, (uint64_t)den, nm->british);
    } else if (num > 0) {
        space(nm);
        nm->oom |= kk_say_fraction(&nm->out, (uint64_t)num, (uint64_t)den, nm->british);
    } else {
        space(nm);
        nm->oom |= kk_say_cardinal(&nm->out, (uint64_t)num, nm->british);
        say(nm, "slash");
        space(nm);
        nm->oom |= kk_say_cardinal(&nm->out, (uint64_t)den, nm->british);
    }
    nm->i = e;
    return 1;
}

typedef struct {
    const char *abbr, *one, *many;
} unit;

static const unit UNITS[] = {
    {"km/h", "kilometer per hour", "kilometers per hour"},
    {"mph", "mile per hour", "miles per hour"},
    {"kph", "kilometer per hour", "kilometers per hour"},
    {"km", "kilometer", "kilometers"},
    {"cm", "centimeter", "centimeters"},
    {"mm", "millimeter", "millimeters"},
    {"m", "meter", "meters"},
    {"kg", "kilogram", "kilograms"},
    {"mg", "milligram", "milligrams"},
    {"g", "gram", "grams"},
    {"lbs", "pound", "pounds"},
    {"lb", "pound", "pounds"},
    {"oz", "ounce", "ounces"},
    {"mi", "mile", "miles"},
    {"ft", "foot", "feet"},
    {"yd", "yard", "yards"},
    {"ml", "milliliter", "milliliters"},
    {"mL", "milliliter", "milliliters"},
    {"L", "liter", "liters"},
    {"TB", "terabyte", "terabytes"},
    {"GB", "gigabyte", "gigabytes"},
    {"MB", "megabyte", "megabytes"},
    {"KB", "kilobyte", "kilobytes"},
    {"kB", "kilobyte", "kilobytes"},
    {"GHz", "gigahertz", "gigahertz"},
    {"MHz", "megahertz", "megahertz"},
    {"kHz", "kilohertz", "kilohertz"},
    {"Hz", "hertz", "hertz"},
    {"kWh", "kilowatt hour", "kilowatt hours"},
    {"kW", "kilowatt", "kilowatts"},
    {"W", "watt", "watts"},
    {"V", "volt", "volts"},
    {"mAh", "milliamp hour", "milliamp hours"},
    {"ms", "millisecond", "milliseconds"},
    {"sec", "second", "seconds"},
    {"min", "minute", "minutes"},
    {"hrs", "hour", "hours"},
    {"hr", "hour", "hours"},
    {"h", "hour", "hours"},
    {"\xc2\xb0" "C", "degree Celsius", "degrees Celsius"},
    {"\xc2\xb0" "F", "degree Fahrenheit", "degrees Fahrenheit"},
    {"\xc2\xb0", "degree", "degrees"},
};

/* A unit right after a number (optionally after one space). */
static const unit *unit_at(const norm *nm, size_t p, size_t *len)
{
    if (!nm->opt.unit_normalization)
        return NULL;
    size_t q = p < nm->n && nm->s[p] == ' ' ? p + 1 : p;
    for (size_t k = 0; k < sizeof UNITS / sizeof UNITS[0]; k++) {
        size_t l = strlen(UNITS[k].abbr);
        if (nm->n - q < l || memcmp(nm->s + q, UNITS[k].abbr, l) != 0)
            continue;
        if (q + l < nm->n && (isaln((unsigned char)nm->s[q + l]) ||
                              ((unsigned char)nm->s[q + l] >= 0x80 && UNITS[k].abbr[0] != '\xc2')))
            continue;
        /* a degree sign may not be separated from its number */
        if (q != p && UNITS[k].abbr[0] == '\xc2')
            continue;
        *len = q + l - p;
        return &UNITS[k];
    }
    return NULL;
}

static const char *const YEAR_BEFORE[] = {
    "in",     "since", "by",     "from",  "until", "till",  "during", "before", "after",
    "around", "circa", "year",   "early", "late",  "mid",   "of",     "summer", "winter",
    "spring", "autumn", "fall",  "through", "between", "and", "to",   "c.",     NULL};

static const char *const ROMAN_REGNAL[] = {
    "Henry",     "Louis",   "George",   "Edward",    "Elizabeth", "Charles",  "Richard",
    "James",     "William", "John",     "Mary",      "Anne",      "Victoria", "Philip",
    "Frederick", "Peter",   "Pius",     "Benedict",  "Gregory",   "Leo",      "Paul",
    "Clement",   "Innocent", "Alexander", "Ramesses", "Constantine", "Ferdinand",
    "Isabella",  "Catherine", "Nicholas", "Ivan",    "Alfonso",   "Felipe",   "Carlos",
    "Juan",      "Gustav",  "Olaf",     "Harald",    "Christian", "Wilhelm",  "Otto",
    "Francis",   "Urban",   "Boniface", "Sixtus",    "Stephen",   "David",    "Robert",
    "Malcolm",   "Edmund",  "Harold",   "Rudolf",    "Joseph",    "Leopold",  "Ludwig",
    "Umberto",   "Emmanuel", "Pedro",   "Manuel",    "Alfred",    "Henri",    "Napoleon",
    "Rama",      "Willem",  "Frederik", "Haakon",    "Carl",      "Margrethe", "Charlemagne",
    NULL};

static const char *const ROMAN_CARDINAL[] = {
    "War",   "Chapter", "Part",   "Act",      "Scene",   "Volume", "Vol.",    "Book",
    "Phase", "Level",   "Episode", "Type",    "Class",   "Section", "Article", "Title",
    "Bowl",  "Apollo",  "Stage",  "Grade",    "Round",   "Mark",   "Series",  "Appendix",
    "Psalm", "Unit",    "Tier",   "Category", "Schedule", "Annex", "Division", "League",
    NULL};

/* Value of a canonical Roman numeral in w (n letters), or 0. */
static int roman_value(const char *w, size_t n)
{
    static const struct {
        const char *s;
        int v;
    } R[] = {{"M", 1000}, {"CM", 900}, {"D", 500}, {"CD", 400}, {"C", 100}, {"XC", 90}, {"L", 50},
             {"XL", 40},  {"X", 10},   {"IX", 9},  {"V", 5},    {"IV", 4},  {"I", 1}};
    int v = 0;
    size_t p = 0;
    for (size_t k = 0; k < sizeof R / sizeof R[0] && p < n; k++) {
        size_t l = strlen(R[k].s);
        int reps = 0;
        while (p + l <= n && strncmp(w + p, R[k].s, l) == 0 && reps < 3) {
            v += R[k].v;
            p += l;
            reps++;
            if (l == 2 || R[k].v == 5 || R[k].v == 50 || R[k].v == 500)
                break;
        }
    }
    return p == n ? v : 0;
}

static int match_roman(norm *nm)
{
    size_t p = nm->i, e = p;
    while (e < nm->n && strchr("IVXLCDM", nm->s[e]) && nm->s[e])
        e++;
    if (e == p || (e < nm->n && isaln((unsigned char)nm->s[e])))
        return 0;
    int v = roman_value(nm->s + p, e - p);
    if (v <= 0)
        return 0;
    char prev[32];
    input_prev_word(nm, p, prev, sizeof prev);
    size_t pl = strlen(prev);
    if (pl && prev[pl - 1] == ',')
        return 0;
    if (in_list(prev, ROMAN_REGNAL) && isupper((unsigned char)prev[0])) {
        say(nm, "the");
        space(nm);
        nm->oom |= kk_say_ordinal(&nm->out, (uint64_t)v, nm->british);
    } else if (in_list(prev, ROMAN_CARDINAL) && isupper((unsigned char)prev[0])) {
        space(nm);
        nm->oom |= kk_say_cardinal(&nm->out, (uint64_t)v, nm->british);
    } else {
        return 0;
    }
    nm->i = e;
    return 1;
}

/* A number and what follows it: ordinal suffix, decade, percent, unit, range, am/pm, year. */
static int match_number(norm *nm)
{
    size_t p = nm->i;
    number num;
    if (!scan_number(nm->s + p, nm->n - p, &num))
        return 0;
    size_t e = p + num.len;
    uint64_t v = num_value(&num);
    int plain = !num.fp && !num.commas && !num.too_long;
    char prevw[32];
    output_prev_word(nm, prevw, sizeof prevw);
    char nx = e < nm->n ? nm->s[e] : 0;

    /* version numbers and addresses: 1.2.3 */
    if (num.fp && nx == '.' && e + 1 < nm->n && isdig((unsigned char)nm->s[e + 1])) {
        say_quantity(nm, &num);
        while (e + 1 < nm->n && nm->s[e] == '.' && isdig((unsigned char)nm->s[e + 1])) {
            size_t d = digits_at(nm, e + 1);
            put(nm, " point");
            nm->oom |= kk_say_digits(&nm->out, nm->s + e + 1, d);
            e += 1 + d;
        }
        nm->i = e;
        return 1;
    }
    /* ordinals: 1st 2nd 3rd 4th */
    if (plain && e + 2 <= nm->n && (e + 2 == nm->n || !isalph((unsigned char)nm->s[e + 2]))) {
        static const char *const SUF[] = {"st", "nd", "rd", "th", "ST", "ND", "RD", "TH"};
        for (int k = 0; k < 8; k++) {
            if (strncmp(nm->s + e, SUF[k], 2) == 0) {
                space(nm);
                nm->oom |= kk_say_ordinal(&nm->out, v, nm->british);
                nm->i = e + 2;
                return 1;
            }
        }
    }
    /* decades: 1990s, 80s, '90s */
    if (plain && (num.ipn == 4 || num.ipn == 2) && v % 10 == 0 &&
        ((nx == 's' && (e + 1 >= nm->n || !isaln((unsigned char)nm->s[e + 1]))) ||
         (nx == '\'' && e + 1 < nm->n && nm->s[e + 1] == 's' &&
          (e + 2 >= nm->n || !isaln((unsigned char)nm->s[e + 2]))))) {
        space(nm);
        if (num.ipn == 4)
            nm->oom |= kk_say_year(&nm->out, (unsigned)v, nm->british);
        else
            nm->oom |= kk_say_cardinal(&nm->out, v, nm->british);
        nm->oom |= kk_say_plural(&nm->out);
        nm->i = e + (nx == 's' ? 1 : 2);
        return 1;
    }
    if (plain && num.ipn == 3 &&
        (v == 911 || ((v == 999 || v == 112) && (strcmp(prevw, "call") == 0 ||
                                                 strcmp(prevw, "dial") == 0)))) { /* emergency */
        space(nm);
        nm->oom |= kk_say_digits(&nm->out, num.ip, num.ipn);
        nm->i = e;
        return 1;
    }
    /* 3.30pm: a British time */
    int pm0;
    size_t al0;
    if (num.fp && num.fpn == 2 && num.ipn <= 2 && v >= 1 && v <= 12 && (al0 = ampm_at(nm, e, &pm0))) {
        int mins = (num.fp[0] - '0') * 10 + (num.fp[1] - '0');
        if (mins < 60) {
            space(nm);
            nm->oom |= kk_say_cardinal(&nm->out, v, nm->british);
            if (mins) {
                if (mins < 10)
                    say(nm, "oh");
                space(nm);
                nm->oom |= kk_say_cardinal(&nm->out, (uint64_t)mins, nm->british);
            }
            say(nm, pm0 ? "P M" : "A M");
            nm->i = e + al0;
            return 1;
        }
    }
    if (nx == '%') {
        say_quantity(nm, &num);
        say(nm, "percent");
        nm->i = e + 1;
        return 1;
    }
    /* ranges: 10-20, 2020-2024 */
    if (plain && nx == '-' && e + 1 < nm->n && isdig((unsigned char)nm->s[e + 1])) {
        number b;
        scan_number(nm->s + e + 1, nm->n - e - 1, &b);
        size_t be = e + 1 + b.len;
        if (!b.fp && !b.commas && !(be < nm->n && (isaln((unsigned char)nm->s[be]) ||
                                                   nm->s[be] == '-'))) {
            int years = num.ipn == 4 && b.ipn == 4 && v >= 1100 && v < 2100;
            space(nm);
            if (years)
                nm->oom |= kk_say_year(&nm->out, (unsigned)v, nm->british);
            else
                say_quantity(nm, &num);
            say(nm, "to");
            space(nm);
            if (years)
                nm->oom |= kk_say_year(&nm->out, (unsigned)num_value(&b), nm->british);
            else
                say_quantity(nm, &b);
            nm->i = be;
            return 1;
        }
    }
    /* 7pm, 7 a.m. */
    int pm;
    size_t al;
    if (plain && v >= 1 && v <= 12 && (al = ampm_at(nm, e, &pm))) {
        space(nm);
        nm->oom |= kk_say_cardinal(&nm->out, v, nm->british);
        say(nm, pm ? "P M" : "A M");
        nm->i = e + al;
        return 1;
    }
    if (nx == 'x' && (e + 1 >= nm->n || !isaln((unsigned char)nm->s[e + 1]))) { /* 10x */
        say_quantity(nm, &num);
        say(nm, "times");
        nm->i = e + 1;
        return 1;
    }
    size_t ul;
    const unit *u = unit_at(nm, e, &ul);
    if (u) {
        say_quantity(nm, &num);
        size_t at = nm->out.n;
        say(nm, is_one(&num) ? u->one : u->many);
        if (nm->british) { /* metre, litre */
            char *m;
            while ((m = strstr(nm->out.p + at, "meter")) || (m = strstr(nm->out.p + at, "liter")))
                memcpy(m + 3, "re", 2);
        }
        nm->i = e + ul;
        return 1;
    }
    /* dates: "March 3", "3 March" */
    size_t ws;
    size_t wl = input_word_at(nm, e, &ws);
    char next[16] = "";
    if (wl && wl < sizeof next) {
        memcpy(next, nm->s + ws, wl);
        next[wl] = 0;
    }
    if (plain && v >= 1 && v <= 31 && num.ipn <= 2 && month_index(prevw) >= 0) {
        space(nm);
        nm->oom |= kk_say_ordinal(&nm->out, v, nm->british);
        nm->i = e;
        return 1;
    }
    if (plain && v >= 1 && v <= 31 && num.ipn <= 2 && month_index(next) >= 0 && e < nm->n &&
        nm->s[e] == ' ') {
        say(nm, "the");
        space(nm);
        nm->oom |= kk_say_ordinal(&nm->out, v, nm->british);
        say(nm, "of");
        nm->i = e;
        return 1;
    }
    /* years */
    if (plain && num.ipn == 4 && v >= 1000 && v <= 2099) {
        int year = in_list(prevw, YEAR_BEFORE) || month_index(prevw) >= 0 || after_month_day(nm) ||
                   strcasecmp(next, "AD") == 0 || strcasecmp(next, "BC") == 0 ||
                   strcasecmp(next, "BCE") == 0 || strcasecmp(next, "CE") == 0;
        /* "the 1998 season": a bare number with no word after it is also a year */
        if (!year && !wl && v >= 1100)
            year = 1;
        /* "Dr. Smith, 1998" or "ordinal, 2024" after a date */
        if (year) {
            space(nm);
            nm->oom |= kk_say_year(&nm->out, (unsigned)v, nm->british);
            nm->i = e;
            return 1;
        }
    }
    say_quantity(nm, &num);
    nm->i = e;
    return 1;
}

/* ------------------------------------------------------------ abbreviations */

enum { TITLE, PLAIN, MONTH };

typedef struct {
    const char *abbr;
    const char *word;
    int kind;
} abbrev;

static const abbrev ABBREVS[] = {
    {"Mr", "Mister", TITLE},        {"Mrs", "Missus", TITLE},       {"Ms", "Miz", TITLE},
    {"Prof", "Professor", TITLE},   {"Gen", "General", TITLE},      {"Gov", "Governor", TITLE},
    {"Sen", "Senator", TITLE},      {"Rep", "Representative", TITLE}, {"Capt", "Captain", TITLE},
    {"Lt", "Lieutenant", TITLE},    {"Col", "Colonel", TITLE},      {"Sgt", "Sergeant", TITLE},
    {"Rev", "Reverend", TITLE},     {"Hon", "Honorable", TITLE},    {"Pres", "President", TITLE},
    {"Jr", "Junior", PLAIN},        {"Sr", "Senior", PLAIN},        {"Inc", "Incorporated", PLAIN},
    {"Ltd", "Limited", PLAIN},      {"Corp", "Corporation", PLAIN}, {"Co", "Company", PLAIN},
    {"Bros", "Brothers", PLAIN},    {"Ave", "Avenue", PLAIN},       {"Blvd", "Boulevard", PLAIN},
    {"Rd", "Road", PLAIN},          {"Ln", "Lane", PLAIN},          {"Mt", "Mount", TITLE},
    {"Ft", "Fort", TITLE},          {"Apt", "Apartment", PLAIN},    {"Dept", "Department", PLAIN},
    {"Univ", "University", PLAIN},  {"vs", "versus", PLAIN},        {"etc", "et cetera", PLAIN},
    {"approx", "approximately", PLAIN}, {"cf", "compare", PLAIN},   {"fig", "figure", PLAIN},
    {"Fig", "Figure", PLAIN},       {"vol", "volume", PLAIN},       {"Vol", "Volume", PLAIN},
    {"ch", "chapter", PLAIN},       {"Ch", "Chapter", PLAIN},       {"est", "established", PLAIN},
    {"Jan", "January", MONTH},      {"Feb", "February", MONTH},     {"Mar", "March", MONTH},
    {"Apr", "April", MONTH},        {"Jun", "June", MONTH},         {"Jul", "July", MONTH},
    {"Aug", "August", MONTH},       {"Sep", "September", MONTH},    {"Sept", "September", MONTH},
    {"Oct", "October", MONTH},      {"Nov", "November", MONTH},     {"Dec", "December", MONTH},
};

/* Words that can start a sentence and are capitalised without being a name. */
static const char *const NOT_NAMES[] = {"The", "A", "An", "In", "At", "On", "To", "From", "Of",
                                        "And", "Visit", "Visited", "Near", "By", "Via", "Off",
                                        "Into", "Past", "Welcome", "Go", "Take", NULL};

static const char *const SENTENCE_STARTS[] = {
    "The", "A", "An", "I", "It", "He", "She", "We", "They", "This", "That", "There", "Then",
    "But", "And", "So", "If", "In", "On", "At", "My", "Our", "Your", "His", "Her", "Its", NULL};

static int capitalised(const char *w) { return w[0] >= 'A' && w[0] <= 'Z'; }

/* Whether the word before start is a name or a number ("Main St.", "5th St.", "Elm Dr."),
 * and whether the word after is capitalised ("St. Louis", "Dr. Smith"). */
static void name_context(const norm *nm, size_t start, size_t after, int *prev_name,
                         int *next_cap)
{
    char prev[32];
    input_prev_word(nm, start, prev, sizeof prev);
    size_t ns;
    size_t nl = input_word_at(nm, after, &ns);
    char next[16] = "";
    if (nl && nl < sizeof next) {
        memcpy(next, nm->s + ns, nl);
        next[nl] = 0;
    }
    /* a capitalised word that usually starts a sentence is no name: "Elm Dr. The ..." */
    *next_cap = nl && isupper((unsigned char)nm->s[ns]) && !in_list(next, SENTENCE_STARTS);
    size_t pl = strlen(prev);
    *prev_name = pl && prev[pl - 1] != '.' &&
                 (isdig((unsigned char)prev[0]) || (capitalised(prev) && !in_list(prev, NOT_NAMES)));
}

/* Whether a full stop after an abbreviation also ends the sentence: the text ends, a line
 * ends, or a capitalised word follows. */
static int ends_sentence(const norm *nm, size_t after)
{
    size_t q = after;
    while (q < nm->n && nm->s[q] == ' ')
        q++;
    if (q >= nm->n || nm->s[q] == '\n')
        return 1;
    if (q == after || !isupper((unsigned char)nm->s[q]))
        return 0;
    /* "the U.S. Navy" goes on; "... etc. The next" starts a new sentence */
    char w[16];
    size_t l = 0;
    while (q + l < nm->n && l < sizeof w - 1 && isalph((unsigned char)nm->s[q + l]))
        w[l] = nm->s[q + l], l++;
    w[l] = 0;
    return in_list(w, SENTENCE_STARTS);
}

static int match_abbrev(norm *nm)
{
    size_t p = nm->i, e = p;
    while (e < nm->n && isalph((unsigned char)nm->s[e]))
        e++;
    size_t wl = e - p;
    int dot = e < nm->n && nm->s[e] == '.';
    size_t after = e + (size_t)dot;
    if (e < nm->n && !dot && (isaln((unsigned char)nm->s[e]) || nm->s[e] == '\''))
        return 0;

    /* e.g. / i.e. */
    if (nm->n - p >= 4 && (strncasecmp(nm->s + p, "e.g.", 4) == 0 ||
                           strncasecmp(nm->s + p, "i.e.", 4) == 0)) {
        say(nm, tolower((unsigned char)nm->s[p]) == 'e' ? "for example" : "that is");
        nm->i = p + 4;
        return 1;
    }
    /* U.S.A. / U.K. -> "U-S-A" / "U-K": letters apart, each read by its name ("US" joined
     * is the dictionary's "us", /ʌs/; "U S A" would read the A as the article) */
    if (wl == 1 && dot && e + 2 < nm->n && isalph((unsigned char)nm->s[e + 1]) &&
        nm->s[e + 2] == '.') {
        size_t q = p;
        kk_buf letters = {0};
        while (q + 1 < nm->n && isalph((unsigned char)nm->s[q]) && nm->s[q + 1] == '.' &&
               (q + 2 >= nm->n || !isalph((unsigned char)nm->s[q + 2]) ||
                (q + 3 < nm->n && nm->s[q + 3] == '.'))) {
            if (letters.n)
                nm->oom |= kk_buf_putc(&letters, '-');
            nm->oom |= kk_buf_putc(&letters, (char)toupper((unsigned char)nm->s[q]));
            q += 2;
        }
        if (letters.n >= 3) {
            space(nm);
            putn(nm, letters.p, letters.n);
            kk_buf_free(&letters);
            nm->i = ends_sentence(nm, q) ? q - 1 : q;
            return 1;
        }
        kk_buf_free(&letters);
    }
    /* initials: "J. K. Rowling" */
    if (wl == 1 && dot && isupper((unsigned char)nm->s[p]) && after + 1 < nm->n &&
        nm->s[after] == ' ' && isupper((unsigned char)nm->s[after + 1])) {
        space(nm);
        putn(nm, nm->s + p, 1);
        nm->i = after;
        return 1;
    }
    /* No. 5 -> number five */
    if (wl == 2 && dot && strncasecmp(nm->s + p, "no", 2) == 0 && after + 1 < nm->n &&
        nm->s[after] == ' ' && isdig((unsigned char)nm->s[after + 1])) {
        say(nm, isupper((unsigned char)nm->s[p]) ? "Number" : "number");
        nm->i = after;
        return 1;
    }
    /* p. 5 -> page five, pp. 5-9 -> pages five to nine */
    if ((wl == 1 || wl == 2) && dot && strncmp(nm->s + p, "pp", wl) == 0 && after + 1 < nm->n &&
        nm->s[after] == ' ' && isdig((unsigned char)nm->s[after + 1])) {
        say(nm, wl == 1 ? "page" : "pages");
        nm->i = after;
        return 1;
    }
    /* St. and Dr.: Saint or Street, Doctor or Drive */
    if (wl == 2 && (strncmp(nm->s + p, "St", 2) == 0 || strncmp(nm->s + p, "Dr", 2) == 0)) {
        int prev_name, next_cap;
        name_context(nm, p, after, &prev_name, &next_cap);
        int st = nm->s[p] == 'S';
        int street = st ? !(next_cap && !prev_name) : (prev_name && !next_cap);
        if (!dot && !next_cap && !prev_name)
            return 0; /* a bare "st" or "dr" is not an abbreviation we can read */
        say(nm, st ? (street ? "Street" : "Saint") : (street ? "Drive" : "Doctor"));
        nm->i = (dot && ends_sentence(nm, after)) ? e : after;
        return 1;
    }
    for (size_t k = 0; k < sizeof ABBREVS / sizeof ABBREVS[0]; k++) {
        const abbrev *a = &ABBREVS[k];
        if (strlen(a->abbr) != wl || strncmp(a->abbr, nm->s + p, wl) != 0)
            continue;
        if (!dot) {
            /* without a full stop only titles before a name ("Mr Smith") are expanded */
            size_t ns;
            size_t nl = input_word_at(nm, e, &ns);
            if (a->kind != TITLE || !nl || !isupper((unsigned char)nm->s[ns]) || e >= nm->n ||
                nm->s[e] != ' ')
                return 0;
        }
        say(nm, a->word);
        nm->i = (dot && a->kind != TITLE && ends_sentence(nm, after)) ? e : after;
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------ symbols and the main loop */

static int match_symbol(norm *nm)
{
    unsigned char c = (unsigned char)nm->s[nm->i];
    unsigned char n1 = AT(1);
    const char *w = NULL;
    size_t len = 1;
    switch (c) {
    case '&': w = "and"; break;
    case '@': w = "at"; break;
    case '+': w = "plus"; break;
    case '=': w = "equals"; break;
    case '%': w = "percent"; break;
    case '#': w = isdig(n1) ? "number" : "hash"; break;
    case '~': w = isdig(n1) ? "about" : NULL; break;
    case '<': w = n1 == ' ' ? "less than" : NULL; break;
    case '>': w = n1 == ' ' ? "greater than" : NULL; break;
    case '/': w = "slash"; break;
    case 0xC3:
        if (n1 == 0x97)
            w = "times", len = 2; /* × */
        else if (n1 == 0xB7)
            w = "divided by", len = 2; /* ÷ */
        break;
    case 0xC2:
        if (n1 == 0xB0)
            w = "degrees", len = 2; /* ° */
        break;
    default: break;
    }
    if (!w)
        return 0;
    say(nm, w);
    nm->i += len;
    if (nm->i < nm->n && isaln((unsigned char)nm->s[nm->i]))
        put(nm, " ");
    return 1;
}

/* Whether the output ends with something a range can start from: "ten A M" in "10am-5pm",
 * "five dollars" in "$5-$10". */
static int ends_range_start(const norm *nm)
{
    static const char *const ENDS[] = {" A M", " P M", " dollars", " dollar", " euros", " euro",
                                       " pounds", " pound", " yen", " cents", " pence", NULL};
    for (int k = 0; ENDS[k]; k++) {
        size_t l = strlen(ENDS[k]);
        if (nm->out.n >= l && strcmp(nm->out.p + nm->out.n - l, ENDS[k]) == 0)
            return 1;
    }
    return 0;
}

/* Copies one code point, rewriting typographic variants into what the phonemiser reads. */
static void copy_char(norm *nm)
{
    uint32_t cp;
    int l = kk_utf8_next(nm->s + nm->i, nm->n - nm->i, &cp);
    const char *rep = NULL;
    if (cp == 0xFFFD || (cp < 0x20 && cp != '\n') || cp == 0x7F || (cp >= 0x80 && cp < 0xA0))
        rep = " ";
    else if (cp == '\t')
        rep = " ";
    else if (cp == 0x2018 || cp == 0x2019 || cp == 0x2032)
        rep = "'";
    else if (cp == 0x2013 || cp == 0x2012) /* en dash */
        rep = " \xe2\x80\x94 ";
    else if (cp == 0xAB)
        rep = "\xe2\x80\x9c";
    else if (cp == 0xBB)
        rep = "\xe2\x80\x9d";
    else if (cp == '[' || cp == '{')
        rep = "(";
    else if (cp == ']' || cp == '}')
        rep = ")";
    else if (cp == '_' || cp == '*' || cp == '|' || cp == '\\' || cp == '^' || cp == '`')
        rep = " ";
    if (rep)
        put(nm, rep);
    else
        putn(nm, nm->s + nm->i, (size_t)l);
    nm->i += (size_t)l;
}

/* "word(s)" -> "words" (Kokoro-FastAPI's optional_pluralization_normalization). */
static int match_optional_plural(norm *nm)
{
    if (nm->i == 0 || !isalph((unsigned char)nm->s[nm->i - 1]) || AT(1) != 's' || AT(2) != ')' ||
        isaln(AT(3)))
        return 0;
    put(nm, "s");
    nm->i += 3;
    return 1;
}

/* One token at nm->i: the first matcher that takes it writes its words, else it is copied. */
static void norm_step(norm *nm)
{
    unsigned char c = (unsigned char)nm->s[nm->i];
    const kokoro_norm_options *o = &nm->opt;
    if (!o->normalize) { /* read as written: only typography and control characters */
        size_t e = nm->i;
        while (e < nm->n && (isalph((unsigned char)nm->s[e]) || nm->s[e] == '\''))
            e++;
        if (e > nm->i) {
            putn(nm, nm->s + nm->i, e - nm->i);
            nm->i = e;
        } else {
            copy_char(nm);
        }
        return;
    }
    unsigned char prev = nm->i ? (unsigned char)nm->s[nm->i - 1] : ' ';
    int boundary = !isaln(prev) && prev != '.' && prev != '-';
    if (boundary && isalph(c) &&
        ((o->url_normalization && match_url(nm)) || (o->email_normalization && match_email(nm))))
        return;
    if (c == '$' || c == 0xC2 || c == 0xE2) {
        if (match_money(nm))
            return;
    }
    if (c == '.' && isdig(AT(1)) && !isdig(prev)) { /* .75 */
        say(nm, "point");
        size_t d = digits_at(nm, nm->i + 1);
        space(nm);
        nm->oom |= kk_say_digits(&nm->out, nm->s + nm->i + 1, d);
        nm->i += 1 + d;
        return;
    }
    if (c == '-' && (isdig(AT(1)) || AT(1) == '$' || AT(1) == 0xC2 || AT(1) == 0xE2) &&
        (isdig(prev) || ends_range_start(nm))) {
        say(nm, "to"); /* 10am-5pm, $5-$10 */
        nm->i++;
        return;
    }
    if (c == '-' && isdig(AT(1)) && isalph(prev)) { /* COVID-19 */
        put(nm, " ");
        nm->i++;
        return;
    }
    if (c == '-' && isdig(AT(1)) && !isaln(prev) && prev != '-') {
        say(nm, "minus");
        nm->i++;
        return;
    }
    if (c == '-' && (AT(1) == '$' || AT(1) == 0xC2 || AT(1) == 0xE2) && !isaln(prev)) {
        size_t save = nm->i, outn = nm->out.n;
        say(nm, "minus");
        nm->i++;
        if (match_money(nm))
            return;
        nm->i = save, nm->out.n = outn, nm->out.p[outn] = 0;
    }
    if ((c == '+' || c == '(') && boundary && o->phone_normalization && match_phone(nm))
        return;
    if (c == '(' && o->optional_pluralization_normalization && match_optional_plural(nm))
        return;
    if (isdig(c)) {
        if (isalph(prev)) { /* MP3, COVID19 */
            space(nm);
        }
        if (!isdig(prev) && ((o->phone_normalization && match_phone(nm)) || match_date(nm) || match_time(nm) ||
                             match_fraction(nm) || match_number(nm))) {
            if (nm->i < nm->n && isalph((unsigned char)nm->s[nm->i]))
                put(nm, " "); /* 3D -> three D */
            return;
        }
    }
    if (isalph(c) && boundary && prev != '\'') {
        if (match_abbrev(nm) || match_roman(nm))
            return;
        /* copy the whole word so that matchers only run at word starts */
        size_t e = nm->i;
        while (e < nm->n && (isalph((unsigned char)nm->s[e]) || nm->s[e] == '\''))
            e++;
        putn(nm, nm->s + nm->i, e - nm->i);
        nm->i = e;
        return;
    }
    if (c == '/' && nm->i >= 3 && strncasecmp(nm->s + nm->i - 3, "and/or", 6) == 0) {
        put(nm, " ");
        nm->i++;
        return;
    }
    if (c == '.' && AT(1) == '.' && AT(2) == '.') {
        put(nm, "\xe2\x80\xa6");
        nm->i += 3;
        return;
    }
    if (c == '-' && AT(1) == '-') {
        put(nm, " \xe2\x80\x94 ");
        nm->i += 2;
        while (AT(0) == '-')
            nm->i++;
        return;
    }
    if (c == '-' && prev == ' ' && AT(1) == ' ') {
        put(nm, "\xe2\x80\x94");
        nm->i++;
        return;
    }
    if (c == '\'' && AT(1) && isdig(AT(1)) && digits_at(nm, nm->i + 1) == 2 && AT(3) == 's') {
        nm->i++; /* '90s */
        return;
    }
    if (o->replace_remaining_symbols && match_symbol(nm))
        return;
    copy_char(nm);
}

kokoro_norm_options kokoro_norm_defaults(void)
{
    return (kokoro_norm_options){1, 1, 1, 1, 1, 1, 1};
}

/* Notes that output from out_pos on was written for input [in_start, in_end). */
static void map_add(norm *nm, kk_srcmap *map, size_t out_pos, size_t in_start, size_t in_end)
{
    kk_srcspan *s = kk_grow(map->s, map->n + 1, &map->cap, sizeof *s, 64);
    if (!s) {
        nm->oom = 1;
        return;
    }
    map->s = s;
    map->s[map->n++] = (kk_srcspan){(int)out_pos, (int)in_start, (int)in_end};
}

int kk_normalize_en(const char *text, int british, char **out)
{
    return kk_normalize_en_map(text, british, NULL, out, NULL);
}

int kk_normalize_en_map(const char *text, int british, const kokoro_norm_options *opts,
                        char **out, kk_srcmap *map)
{
    norm nmv = {text, strlen(text), 0, {0}, british, 0, kokoro_norm_defaults()};
    norm *nm = &nmv;
    if (opts)
        nm->opt = *opts;
    if (map)
        *map = (kk_srcmap){0};
    nm->oom |= kk_buf_put(&nm->out, "", 0);
    while (nm->i < nm->n && !nm->oom) {
        size_t i0 = nm->i, o0 = nm->out.n;
        norm_step(nm);
        if (map && nm->out.n > o0)
            map_add(nm, map, o0, i0, nm->i);
    }
    if (nm->oom) {
        kk_buf_free(&nm->out);
        if (map) {
            free(map->s);
            *map = (kk_srcmap){0};
        }
        *out = NULL;
        return KOKORO_E_NOMEM;
    }
    /* one space between words, none at the ends of lines */
    char *w = nm->out.p;
    int k = 0; /* the map's spans move with the bytes they start at */
    for (const char *r = nm->out.p; *r; r++) {
        for (; map && k < map->n && map->s[k].out_pos == (int)(r - nm->out.p); k++)
            map->s[k].out_pos = (int)(w - nm->out.p);
        if (*r == ' ' && (w == nm->out.p || w[-1] == ' ' || w[-1] == '\n' || r[1] == '\n' || !r[1]))
            continue;
        *w++ = *r;
    }
    for (; map && k < map->n; k++)
        map->s[k].out_pos = (int)(w - nm->out.p);
    *w = 0;
    *out = nm->out.p;
    return KOKORO_OK;
}
