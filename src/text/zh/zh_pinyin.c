/* zh_pinyin.c - a word's pinyin as pypinyin 0.55's lazy_pinyin(word, Style.TONE3,
 * neutral_tone_with_five=True) gives it, and each syllable in IPA as misaki 0.9.4's
 * transcription table (after pinyin-to-ipa) writes it.
 *
 * pypinyin cuts the word again with its own phrase dictionary: the longest phrase starting
 * at each place, scanning while the text is the start of some phrase; characters outside
 * any phrase are read alone, with their first reading. */
#include "text/zh/zh.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ syllable -> IPA */

static const char *const TONE_ARROW[6] = {"", "→", "↗", "↓", "↘", ""};

/* Initials in the order they must be tried (two letters first) and their IPA. */
static const struct {
    const char *py, *ipa;
} INITIALS[] = {{"zh", "ꭧ"}, {"ch", "ꭧʰ"}, {"sh", "ʂ"}, {"b", "p"},  {"p", "pʰ"}, {"m", "m"},
                {"f", "f"},  {"d", "t"},   {"t", "tʰ"}, {"n", "n"},  {"l", "l"},  {"g", "k"},
                {"k", "kʰ"}, {"h", "x"},   {"j", "ʨ"},  {"q", "ʨʰ"}, {"x", "ɕ"},  {"r", "ɻ"},
                {"z", "ʦ"},  {"c", "ʦʰ"},  {"s", "s"}};

/* Finals (pinyin's strict spelling, ü written v): the IPA before and after the tone. */
static const struct {
    const char *py, *pre, *post;
} FINALS[] = {
    {"a", "a", ""},      {"ai", "ai", ""},     {"an", "a", "n"},     {"ang", "a", "ŋ"},
    {"ao", "au", ""},    {"e", "ɤ", ""},       {"ei", "ei", ""},     {"en", "ə", "n"},
    {"eng", "ə", "ŋ"},   {"i", "i", ""},       {"ia", "ja", ""},     {"ian", "jɛ", "n"},
    {"iang", "ja", "ŋ"}, {"iao", "jau", ""},   {"ie", "je", ""},     {"in", "i", "n"},
    {"iou", "jou", ""},  {"ing", "i", "ŋ"},    {"iong", "jʊ", "ŋ"},  {"ong", "ʊ", "ŋ"},
    {"ou", "ou", ""},    {"u", "u", ""},       {"uei", "wei", ""},   {"ua", "wa", ""},
    {"uai", "wai", ""},  {"uan", "wa", "n"},   {"uen", "wə", "n"},   {"uang", "wa", "ŋ"},
    {"ueng", "wə", "ŋ"}, {"uo", "wo", ""},     {"o", "wo", ""},      {"v", "y", ""},
    {"ve", "ɥe", ""},    {"van", "ɥɛ", "n"},   {"vn", "y", "n"},
};

/* Whole syllables read without an initial/final split: interjections and syllabic
 * consonants. */
static const struct {
    const char *py, *pre, *post;
} WHOLE[] = {{"io", "jɔ", ""}, {"ê", "ɛ", ""}, {"er", "ɚ", ""}, {"o", "ɔ", ""},
             {"hm", "hm", ""}, {"hng", "hŋ", ""}, {"m", "m", ""}, {"n", "n", ""},
             {"ng", "ŋ", ""}};

static int put3(kk_buf *out, const char *a, const char *tone, const char *b)
{
    return kk_buf_puts(out, a) < 0 || kk_buf_puts(out, tone) < 0 || kk_buf_puts(out, b) < 0
               ? -1
               : 0;
}

/* The strict final of a syllable without its initial, as pypinyin's to_finals(strict=True)
 * rewrites y-, w- and the short spellings. Writes into buf (16 bytes). */
static void strict_final(const char *ini, const char *rest, char *buf)
{
    static const struct {
        const char *from, *to;
    } Y[] = {{"yi", "i"},   {"yin", "in"},   {"ying", "ing"}, {"yu", "v"},   {"yue", "ve"},
             {"yuan", "van"}, {"yun", "vn"}, {"yv", "v"},     {"yve", "ve"}, {"yvan", "van"},
             {"yvn", "vn"},  {"yo", "o"},     {"wu", "u"},     {"wong", "ong"}};
    for (size_t i = 0; i < sizeof Y / sizeof Y[0]; i++)
        if (!*ini && strcmp(rest, Y[i].from) == 0) {
            snprintf(buf, 16, "%s", Y[i].to);
            return;
        }
    if (!*ini && rest[0] == 'y') {
        snprintf(buf, 16, "i%s", rest + 1); /* ya ye yao you yan yang yong */
        return;
    }
    if (!*ini && rest[0] == 'w') {
        snprintf(buf, 16, "u%s", rest + 1); /* wa wo wai wei wan wen wang weng */
        return;
    }
    if ((strcmp(ini, "j") == 0 || strcmp(ini, "q") == 0 || strcmp(ini, "x") == 0) &&
        rest[0] == 'u') {
        snprintf(buf, 16, "v%s", rest + 1); /* ju -> jü */
        return;
    }
    if (strcmp(rest, "iu") == 0)
        snprintf(buf, 16, "iou");
    else if (strcmp(rest, "ui") == 0)
        snprintf(buf, 16, "uei");
    else if (strcmp(rest, "un") == 0)
        snprintf(buf, 16, "uen");
    else
        snprintf(buf, 16, "%s", rest);
}

int kk_zh_syllable_ipa(const char *py, size_t n, kk_buf *out)
{
    if (n < 2 || n > 10 || py[n - 1] < '1' || py[n - 1] > '5')
        return 1;
    const char *tone = TONE_ARROW[py[n - 1] - '0'];
    char base[16];
    memcpy(base, py, n - 1);
    base[n - 1] = 0;
    for (size_t i = 0; i < sizeof WHOLE / sizeof WHOLE[0]; i++)
        if (strcmp(base, WHOLE[i].py) == 0)
            return put3(out, WHOLE[i].pre, tone, WHOLE[i].post);
    const char *ini = "", *ini_ipa = "";
    for (size_t i = 0; i < sizeof INITIALS / sizeof INITIALS[0]; i++) {
        size_t len = strlen(INITIALS[i].py);
        if (strncmp(base, INITIALS[i].py, len) == 0) {
            ini = INITIALS[i].py;
            ini_ipa = INITIALS[i].ipa;
            break;
        }
    }
    const char *rest = base + strlen(ini);
    char fin[16];
    strict_final(ini, rest, fin);
    if (strcmp(fin, "i") == 0 && *ini && strchr("zcsr", ini[0])) /* zhi chi shi ri zi ci si */
        return put3(out, ini_ipa, "ɨ", tone);
    for (size_t i = 0; i < sizeof FINALS / sizeof FINALS[0]; i++)
        if (strcmp(fin, FINALS[i].py) == 0) {
            if (kk_buf_puts(out, ini_ipa) < 0)
                return -1;
            return put3(out, FINALS[i].pre, tone, FINALS[i].post);
        }
    return 1;
}

/* ------------------------------------------------------------ word -> pinyin -> IPA */

/* IPA of each syllable of a space-separated reading. */
static int reading_ipa(const char *r, kk_buf *out)
{
    while (*r) {
        size_t len = strcspn(r, " ");
        if (kk_zh_syllable_ipa(r, len, out) < 0)
            return -1;
        r += len;
        while (*r == ' ')
            r++;
    }
    return 0;
}

int kk_zh_word_ipa(const kk_zh_dict *d, const uint32_t *w, int n, kk_buf *out)
{
    for (int p = 0; p < n;) {
        /* pypinyin's mmseg: the longest phrase among the prefixes seen before the first
         * text that starts no phrase */
        int last = 0, all_prefixes = 1;
        for (int len = 1; p + len <= n; len++) {
            int is_prefix;
            const char *r = kk_zh_phrase(d, w + p, len, &is_prefix);
            if (!is_prefix) {
                all_prefixes = 0;
                break;
            }
            if (r)
                last = len;
        }
        int piece = last ? last : all_prefixes ? n - p : 1;
        const char *r = last ? kk_zh_phrase(d, w + p, last, NULL) : NULL;
        if (r) {
            if (reading_ipa(r, out) < 0)
                return -1;
        } else {
            /* the rest starts a phrase but holds none: pypinyin reads it character by
             * character; so it does a character that starts no phrase */
            for (int i = 0; i < piece; i++) {
                const char *c = kk_zh_phrase(d, w + p + i, 1, NULL);
                if (!c)
                    c = kk_zh_char(d, w[p + i]);
                if (c && reading_ipa(c, out) < 0)
                    return -1;
            }
        }
        p += piece;
    }
    return 0;
}
