/* zh_num.c - Arabic numbers in Mandarin text read as cn2an 0.5's transform(text, "an2cn")
 * reads them, which is what misaki 0.9.4 does first with every Mandarin text.
 *
 * cn2an rewrites the text in six passes, each a regular-expression substitution over the
 * previous pass's output: ranges before a measure word ("10-20个" 十到二十个), dates (years
 * digit by digit: "2024年" 二零二四年), fractions ("3/4" 四分之三), percentages, degrees
 * Celsius, and any other number (integer part in myriads, decimals digit by digit, "-" read
 * 负). A number it cannot read (more than 16 integer digits) stays as written. Each pass
 * here scans for the leftmost match at every position, as the regular expression does. */
#include "text/zh/zh.h"

#include <string.h>

#define MAX_INT_DIGITS 16 /* cn2an's unit list ends at 千万亿 */

static const uint32_t NUM_LOW[10] = {0x96F6, 0x4E00, 0x4E8C, 0x4E09, 0x56DB,  /* 零一二三四 */
                                     0x4E94, 0x516D, 0x4E03, 0x516B, 0x4E5D}; /* 五六七八九 */
enum {
    C_TEN = 0x5341,    /* 十 */
    C_HUNDRED = 0x767E, /* 百 */
    C_THOUSAND = 0x5343, /* 千 */
    C_WAN = 0x4E07,    /* 万 */
    C_YI = 0x4EBF,     /* 亿 */
    C_ZERO = 0x96F6,   /* 零 */
    C_ONE = 0x4E00,    /* 一 */
    C_POINT = 0x70B9,  /* 点 */
    C_NEG = 0x8D1F,    /* 负 */
    C_YEAR = 0x5E74,   /* 年 */
    C_MONTH = 0x6708,  /* 月 */
    C_DAY = 0x65E5,    /* 日 */
    C_CELSIUS = 0x2103 /* ℃ */
};
/* cn2an's unit_low_order_an2cn: the unit of the digit at each place */
static const uint32_t UNIT_ORDER[MAX_INT_DIGITS] = {
    0, C_TEN, C_HUNDRED, C_THOUSAND, C_WAN, C_TEN, C_HUNDRED, C_THOUSAND,
    C_YI, C_TEN, C_HUNDRED, C_THOUSAND, C_WAN, C_TEN, C_HUNDRED, C_THOUSAND};

/* Value of a digit (ASCII or full-width, which Python's \d also matches), or -1. */
static int digit(uint32_t c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 0xFF10 && c <= 0xFF19)
        return (int)(c - 0xFF10);
    return -1;
}

static int digits_at(const uint32_t *s, int n, int i)
{
    int j = i;
    while (j < n && digit(s[j]) >= 0)
        j++;
    return j - i;
}

/* Replaces every non-overlapping a,b (left to right) by r, as str.replace does. */
static void replace2(kk_zu *s, uint32_t a, uint32_t b, uint32_t r)
{
    int w = 0;
    for (int i = 0; i < s->n; i++) {
        if (i + 1 < s->n && s->c[i] == a && s->c[i + 1] == b) {
            s->c[w++] = r;
            i++;
        } else {
            s->c[w++] = s->c[i];
        }
    }
    s->n = w;
}

static int is_upper_or_low_digit(uint32_t c)
{
    static const uint32_t up[] = {0x58F9, 0x8D30, 0x53C1, 0x8086, 0x4F0D,
                                  0x9646, 0x67D2, 0x634C, 0x7396}; /* 壹贰叁肆伍陆柒捌玖 */
    for (int i = 1; i < 10; i++)
        if (c == NUM_LOW[i] || c == up[i - 1])
            return 1;
    return 0;
}

/* cn2an's __integer_convert in "low" mode. Returns 0, 1 when too long, -1 (memory). */
static int integer_low(const uint32_t *d, int n, kk_zu *out)
{
    while (n > 1 && digit(d[0]) == 0) { /* str(int(x)) */
        d++;
        n--;
    }
    if (n > MAX_INT_DIGITS)
        return 1;
    kk_zu s = {0};
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        int v = digit(d[i]), place = n - i - 1;
        if (v) {
            rc = kk_zu_put(&s, NUM_LOW[v]);
            if (rc == 0 && UNIT_ORDER[place])
                rc = kk_zu_put(&s, UNIT_ORDER[place]);
            continue;
        }
        if (place % 4 == 0) {
            rc = kk_zu_put(&s, C_ZERO);
            if (rc == 0 && UNIT_ORDER[place])
                rc = kk_zu_put(&s, UNIT_ORDER[place]);
        }
        if (rc == 0 && i > 0 && s.c[s.n - 1] != C_ZERO)
            rc = kk_zu_put(&s, C_ZERO);
    }
    if (rc == 0) {
        replace2(&s, C_ZERO, C_ZERO, C_ZERO);
        replace2(&s, C_ZERO, C_WAN, C_WAN);
        replace2(&s, C_ZERO, C_YI, C_YI);
        replace2(&s, C_YI, C_WAN, C_YI);
        int a = 0, b = s.n; /* strip 零 at both ends */
        while (a < b && s.c[a] == C_ZERO)
            a++;
        while (b > a && s.c[b - 1] == C_ZERO)
            b--;
        /* ([万亿])零([一..九][千仟]) -> \1\2 */
        kk_zu t = {0};
        for (int i = a; i < b && rc == 0; i++) {
            if ((s.c[i] == C_WAN || s.c[i] == C_YI) && i + 3 < b && s.c[i + 1] == C_ZERO && is_upper_or_low_digit(s.c[i + 2]) &&
                (s.c[i + 3] == C_THOUSAND || s.c[i + 3] == 0x4EDF /* 仟 */)) {
                rc = kk_zu_put(&t, s.c[i]);
                if (rc == 0)
                    rc = kk_zu_append(&t, s.c + i + 2, 2);
                i += 3;
            } else {
                rc = kk_zu_put(&t, s.c[i]);
            }
        }
        int skip = t.n >= 2 && t.c[0] == C_ONE && t.c[1] == C_TEN; /* 一十二 -> 十二 */
        if (rc == 0 && t.n == 0)
            rc = kk_zu_put(&t, C_ZERO);
        if (rc == 0)
            rc = kk_zu_append(out, t.c + skip, t.n - skip);
        kk_zu_free(&t);
    }
    kk_zu_free(&s);
    return rc;
}

/* cn2an's an2cn(x, "low") or (direct) "direct" over s[0..n) made of digits, '.' and a
 * leading '-'. Returns 0, 1 when cn2an would refuse it (the caller keeps the text), -1. */
static int an2cn(const uint32_t *s, int n, int direct, kk_zu *out)
{
    if (n == 0)
        return 1;
    kk_zu r = {0};
    int rc = 0;
    if (s[0] == '-') {
        rc = kk_zu_put(&r, C_NEG);
        s++;
        n--;
    }
    int dot = -1;
    for (int i = 0; i < n && rc == 0; i++) {
        if (s[i] == '.') {
            if (dot >= 0 && !direct)
                rc = 1; /* "1.2.3" */
            dot = i;
        } else if (digit(s[i]) < 0) {
            rc = 1;
        }
    }
    if (rc == 0 && direct) {
        for (int i = 0; i < n && rc == 0; i++)
            rc = kk_zu_put(&r, s[i] == '.' ? C_POINT : NUM_LOW[digit(s[i])]);
    } else if (rc == 0) {
        int int_n = dot >= 0 ? dot : n;
        rc = int_n ? integer_low(s, int_n, &r) : 1;
        if (rc == 0 && dot >= 0 && dot + 1 < n) {
            int dec_n = n - dot - 1;
            if (dec_n > 16)
                dec_n = 16; /* cn2an keeps 16 decimals */
            rc = kk_zu_put(&r, C_POINT);
            for (int i = 0; i < dec_n && rc == 0; i++)
                rc = kk_zu_put(&r, NUM_LOW[digit(s[dot + 1 + i])]);
        }
    }
    if (rc == 0)
        rc = kk_zu_append(out, r.c, r.n);
    kk_zu_free(&r);
    return rc;
}

/* ------------------------------------------------------------ the passes */

/* A pass: at position i of s, the length of a match (0: none) and its rewriting appended
 * to out (returns 0, 1 when the match is kept as written, -1). */
typedef int (*match_fn)(const uint32_t *s, int n, int i);
typedef int (*rewrite_fn)(const uint32_t *m, int n, kk_zu *out);

/* whole_runs: a pattern that fails at the first digit of a run fails at every later digit
 * of it too (its digits are greedy and what follows the run decides), so the rest of the run
 * is copied at once; this keeps a megabyte of digits linear, where the regular expression
 * would start again at every digit. */
static int run_pass(const kk_zu *in, const kk_zi *in_src, kk_zu *out, kk_zi *out_src,
                    match_fn match, rewrite_fn rewrite, int whole_runs)
{
    for (int i = 0; i < in->n;) {
        int len = match(in->c, in->n, i), before = out->n, rc = 1;
        if (len > 0) {
            rc = rewrite(in->c + i, len, out);
            if (rc < 0)
                return -1;
        } else {
            len = whole_runs ? digits_at(in->c, in->n, i) : 0;
            if (len == 0)
                len = 1;
        }
        if (rc == 1) { /* kept as written: each code point keeps its source */
            out->n = before;
            if (kk_zu_append(out, in->c + i, len) < 0)
                return -1;
            for (int k = i; k < i + len; k++)
                if (kk_zi_pair(out_src, in_src->v[2 * k], in_src->v[2 * k + 1]) < 0)
                    return -1;
        } else { /* rewritten: every numeral comes from the whole match */
            for (int k = before; k < out->n; k++)
                if (kk_zi_pair(out_src, in_src->v[2 * i], in_src->v[2 * (i + len - 1) + 1]) < 0)
                    return -1;
        }
        i += len;
    }
    return 0;
}

/* misaki's measure words: 斤 克 千克 公斤 吨 米 厘米 毫米 公里 升 毫升 元 角 分 个 只 条 张 块
 * 瓶 杯 份 本 辆 台 匹 头 位 亩 小时 分钟 秒 天 半; a prefix test, as the lookahead is */
static int measure_word_at(const uint32_t *s, int n, int i)
{
    static const uint32_t first[] = {0x65A4, 0x514B, 0x5343, 0x516C, 0x5428, 0x7C73, 0x5398,
                                     0x6BEB, 0x5347, 0x5143, 0x89D2, 0x5206, 0x4E2A, 0x53EA,
                                     0x6761, 0x5F20, 0x5757, 0x74F6, 0x676F, 0x4EFD, 0x672C,
                                     0x8F86, 0x53F0, 0x5339, 0x5934, 0x4F4D, 0x4EA9, 0x5C0F,
                                     0x79D2, 0x5929, 0x534A};
    if (i >= n)
        return 0;
    uint32_t c = s[i], next = i + 1 < n ? s[i + 1] : 0;
    switch (c) {
    case 0x5343: return next == 0x514B;                   /* 千克 */
    case 0x516C: return next == 0x65A4 || next == 0x91CC; /* 公斤 公里 */
    case 0x5398: case 0x6BEB: return next == 0x7C73 || (c == 0x6BEB && next == 0x5347);
    case 0x5C0F: return next == 0x65F6;                   /* 小时 */
    default: break;
    }
    for (size_t k = 0; k < sizeof first / sizeof first[0]; k++)
        if (c == first[k])
            return 1;
    return 0;
}

/* \d+(\.\d+)? at i: its length (0: none). */
static int decimal_at(const uint32_t *s, int n, int i)
{
    int a = digits_at(s, n, i);
    if (a && i + a < n && s[i + a] == '.') {
        int b = digits_at(s, n, i + a + 1);
        if (b)
            return a + 1 + b;
    }
    return a;
}

/* \d+(\.\d+)?-\d+(\.\d+)?(?=measure word) */
static int match_range(const uint32_t *s, int n, int i)
{
    int a = decimal_at(s, n, i);
    if (!a || i + a >= n || s[i + a] != '-')
        return 0;
    int b = decimal_at(s, n, i + a + 1);
    if (!b || !measure_word_at(s, n, i + a + 1 + b))
        return 0;
    return a + 1 + b;
}

static int rewrite_range(const uint32_t *m, int n, kk_zu *out)
{
    int dash = 0;
    while (m[dash] != '-')
        dash++;
    kk_zu r = {0};
    int rc = an2cn(m, dash, 0, &r);
    if (rc == 0)
        rc = kk_zu_put(&r, 0x5230); /* 到 */
    if (rc == 0)
        rc = an2cn(m + dash + 1, n - dash - 1, 0, &r);
    if (rc == 0)
        rc = kk_zu_append(out, r.c, r.n);
    kk_zu_free(&r);
    return rc;
}

/* (\d{2,4}年)?(\d{1,2}月)?(\d{1,2}日)? */
static int digits_upto(const uint32_t *s, int n, int i, int max)
{
    int j = i;
    while (j < n && j - i < max && digit(s[j]) >= 0)
        j++;
    return j - i;
}

/* Digit counts are capped at 5: enough to tell a run of 2..4 from a longer one, and it keeps
 * the pass linear (it may match from any digit of a run). */
static int match_date(const uint32_t *s, int n, int i)
{
    int j = i, d = digits_upto(s, n, j, 5);
    if (d >= 2 && d <= 4 && j + d < n && s[j + d] == C_YEAR)
        j += d + 1;
    d = digits_upto(s, n, j, 5);
    if (d >= 1 && d <= 2 && j + d < n && s[j + d] == C_MONTH)
        j += d + 1;
    d = digits_upto(s, n, j, 5);
    if (d >= 1 && d <= 2 && j + d < n && s[j + d] == C_DAY)
        j += d + 1;
    return j - i;
}

static int rewrite_date(const uint32_t *m, int n, kk_zu *out)
{
    for (int i = 0; i < n;) {
        int d = digits_at(m, n, i);
        if (!d) {
            if (kk_zu_put(out, m[i++]) < 0)
                return -1;
            continue;
        }
        if (an2cn(m + i, d, m[i + d] == C_YEAR, out) < 0)
            return -1;
        i += d;
    }
    return 0;
}

/* \d+/\d+ */
static int match_fraction(const uint32_t *s, int n, int i)
{
    int a = digits_at(s, n, i);
    if (!a || i + a >= n || s[i + a] != '/')
        return 0;
    int b = digits_at(s, n, i + a + 1);
    return b ? a + 1 + b : 0;
}

static int rewrite_fraction(const uint32_t *m, int n, kk_zu *out)
{
    int slash = 0;
    while (m[slash] != '/')
        slash++;
    kk_zu r = {0};
    int rc = an2cn(m + slash + 1, n - slash - 1, 0, &r);
    if (rc == 0)
        rc = kk_zu_lit(&r, "分之");
    if (rc == 0)
        rc = an2cn(m, slash, 0, &r);
    if (rc == 0)
        rc = kk_zu_append(out, r.c, r.n);
    kk_zu_free(&r);
    return rc;
}

/* -?(\d+\.)?\d+ followed by suffix (0: none): the length with the suffix. */
static int signed_number_at(const uint32_t *s, int n, int i, uint32_t suffix)
{
    int p = i < n && s[i] == '-' ? i + 1 : i;
    int len = decimal_at(s, n, p);
    if (!len)
        return 0;
    if (suffix) {
        if (p + len < n && s[p + len] == suffix)
            return p + len + 1 - i;
        /* with a decimal part that failed, the integer alone may still meet the suffix */
        int a = digits_at(s, n, p);
        if (a != len && p + a < n && s[p + a] == suffix)
            return p + a + 1 - i;
        return 0;
    }
    return p + len - i;
}

static int match_percent(const uint32_t *s, int n, int i)
{
    return signed_number_at(s, n, i, '%');
}

static int rewrite_percent(const uint32_t *m, int n, kk_zu *out)
{
    kk_zu r = {0};
    int rc = kk_zu_lit(&r, "百分之");
    if (rc == 0)
        rc = an2cn(m, n - 1, 0, &r);
    if (rc == 0)
        rc = kk_zu_append(out, r.c, r.n);
    kk_zu_free(&r);
    return rc;
}

/* \d+℃ */
static int match_celsius(const uint32_t *s, int n, int i)
{
    int a = digits_at(s, n, i);
    return a && i + a < n && s[i + a] == C_CELSIUS ? a + 1 : 0;
}

static int rewrite_celsius(const uint32_t *m, int n, kk_zu *out)
{
    kk_zu r = {0};
    int rc = an2cn(m, n - 1, 0, &r);
    if (rc == 0)
        rc = kk_zu_lit(&r, "摄氏度");
    if (rc == 0)
        rc = kk_zu_append(out, r.c, r.n);
    kk_zu_free(&r);
    return rc;
}

static int match_number(const uint32_t *s, int n, int i)
{
    return signed_number_at(s, n, i, 0);
}

static int rewrite_number(const uint32_t *m, int n, kk_zu *out)
{
    return an2cn(m, n, 0, out);
}

int kk_zh_an2cn(const uint32_t *s, const kk_zi *src, int n, kk_zu *out, kk_zi *out_src)
{
    static const struct {
        match_fn match;
        rewrite_fn rewrite;
        int whole_runs;
    } passes[] = {{match_range, rewrite_range, 1},       {match_date, rewrite_date, 0},
                  {match_fraction, rewrite_fraction, 1}, {match_percent, rewrite_percent, 1},
                  {match_celsius, rewrite_celsius, 1},   {match_number, rewrite_number, 1}};
    kk_zu cur = {0}, next = {0};
    kk_zi cur_src = {0}, next_src = {0};
    int rc = kk_zu_append(&cur, s, n);
    for (int i = 0; i < 2 * n && rc == 0; i += 2)
        rc = kk_zi_pair(&cur_src, src->v[i], src->v[i + 1]);
    for (size_t p = 0; p < sizeof passes / sizeof passes[0] && rc == 0; p++) {
        next.n = 0;
        next_src.n = 0;
        rc = run_pass(&cur, &cur_src, &next, &next_src, passes[p].match, passes[p].rewrite,
                      passes[p].whole_runs);
        kk_zu tmp = cur;
        cur = next;
        next = tmp;
        kk_zi tmp_src = cur_src;
        cur_src = next_src;
        next_src = tmp_src;
    }
    if (rc == 0)
        rc = kk_zu_append(out, cur.c, cur.n);
    for (int i = 0; i < cur_src.n && rc == 0; i += 2)
        rc = kk_zi_pair(out_src, cur_src.v[i], cur_src.v[i + 1]);
    kk_zu_free(&cur);
    kk_zu_free(&next);
    kk_zi_free(&cur_src);
    kk_zi_free(&next_src);
    return rc;
}
