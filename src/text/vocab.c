/* vocab.c - the phoneme vocabulary of Kokoro-82M v1.0 (from its config.json), tokenising,
 * and users' IPA mapped onto the vocabulary. */
#include "text/vocab.h"
#include "core/utf8.h"
#include "kokoro.h"

#include <ctype.h>
#include <string.h>

/* Code point -> id, sorted by code point for binary search. Generated once from
 * kokoro-v1.0-config.json ("vocab"); ids 1..177, 0 is padding and the boundary token. */
static const struct {
    uint32_t cp;
    int id;
} VOCAB[] = {
    {0x0020, 16}, /*   */
    {0x0021, 5}, /* ! */
    {0x0022, 11}, /* " */
    {0x0028, 12}, /* ( */
    {0x0029, 13}, /* ) */
    {0x002C, 3}, /* , */
    {0x002E, 4}, /* . */
    {0x003A, 2}, /* : */
    {0x003B, 1}, /* ; */
    {0x003F, 6}, /* ? */
    {0x0041, 24}, /* A */
    {0x0049, 25}, /* I */
    {0x004F, 31}, /* O */
    {0x0051, 33}, /* Q */
    {0x0053, 35}, /* S */
    {0x0054, 36}, /* T */
    {0x0057, 39}, /* W */
    {0x0059, 41}, /* Y */
    {0x0061, 43}, /* a */
    {0x0062, 44}, /* b */
    {0x0063, 45}, /* c */
    {0x0064, 46}, /* d */
    {0x0065, 47}, /* e */
    {0x0066, 48}, /* f */
    {0x0068, 50}, /* h */
    {0x0069, 51}, /* i */
    {0x006A, 52}, /* j */
    {0x006B, 53}, /* k */
    {0x006C, 54}, /* l */
    {0x006D, 55}, /* m */
    {0x006E, 56}, /* n */
    {0x006F, 57}, /* o */
    {0x0070, 58}, /* p */
    {0x0071, 59}, /* q */
    {0x0072, 60}, /* r */
    {0x0073, 61}, /* s */
    {0x0074, 62}, /* t */
    {0x0075, 63}, /* u */
    {0x0076, 64}, /* v */
    {0x0077, 65}, /* w */
    {0x0078, 66}, /* x */
    {0x0079, 67}, /* y */
    {0x007A, 68}, /* z */
    {0x00E6, 72}, /* æ */
    {0x00E7, 78}, /* ç */
    {0x00F0, 81}, /* ð */
    {0x00F8, 116}, /* ø */
    {0x014B, 112}, /* ŋ */
    {0x0153, 120}, /* œ */
    {0x0250, 70}, /* ɐ */
    {0x0251, 69}, /* ɑ */
    {0x0252, 71}, /* ɒ */
    {0x0254, 76}, /* ɔ */
    {0x0255, 77}, /* ɕ */
    {0x0256, 80}, /* ɖ */
    {0x0259, 83}, /* ə */
    {0x025A, 85}, /* ɚ */
    {0x025B, 86}, /* ɛ */
    {0x025C, 87}, /* ɜ */
    {0x025F, 90}, /* ɟ */
    {0x0261, 92}, /* ɡ */
    {0x0263, 139}, /* ɣ */
    {0x0264, 140}, /* ɤ */
    {0x0265, 99}, /* ɥ */
    {0x0268, 101}, /* ɨ */
    {0x026A, 102}, /* ɪ */
    {0x026F, 110}, /* ɯ */
    {0x0270, 111}, /* ɰ */
    {0x0272, 114}, /* ɲ */
    {0x0273, 113}, /* ɳ */
    {0x0274, 115}, /* ɴ */
    {0x0278, 118}, /* ɸ */
    {0x0279, 123}, /* ɹ */
    {0x027B, 126}, /* ɻ */
    {0x027D, 129}, /* ɽ */
    {0x027E, 125}, /* ɾ */
    {0x0281, 128}, /* ʁ */
    {0x0282, 130}, /* ʂ */
    {0x0283, 131}, /* ʃ */
    {0x0288, 132}, /* ʈ */
    {0x028A, 135}, /* ʊ */
    {0x028B, 136}, /* ʋ */
    {0x028C, 138}, /* ʌ */
    {0x028E, 143}, /* ʎ */
    {0x0292, 147}, /* ʒ */
    {0x0294, 148}, /* ʔ */
    {0x029D, 103}, /* ʝ */
    {0x02A3, 18}, /* ʣ */
    {0x02A4, 82}, /* ʤ */
    {0x02A5, 19}, /* ʥ */
    {0x02A6, 20}, /* ʦ */
    {0x02A7, 133}, /* ʧ */
    {0x02A8, 21}, /* ʨ */
    {0x02B0, 162}, /* ʰ */
    {0x02B2, 164}, /* ʲ */
    {0x02C8, 156}, /* ˈ */
    {0x02CC, 157}, /* ˌ */
    {0x02D0, 158}, /* ː */
    {0x0303, 17},
    {0x03B2, 75}, /* β */
    {0x03B8, 119}, /* θ */
    {0x03C7, 142}, /* χ */
    {0x1D4A, 42}, /* ᵊ */
    {0x1D5D, 22}, /* ᵝ */
    {0x1D7B, 177}, /* ᵻ */
    {0x2014, 9}, /* — */
    {0x201C, 14}, /* “ */
    {0x201D, 15}, /* ” */
    {0x2026, 10}, /* … */
    {0x2192, 171}, /* → */
    {0x2193, 169}, /* ↓ */
    {0x2197, 172}, /* ↗ */
    {0x2198, 173}, /* ↘ */
    {0xAB67, 23}, /* ꭧ */
};

int kk_vocab_id(uint32_t cp)
{
    int lo = 0, hi = (int)(sizeof VOCAB / sizeof VOCAB[0]) - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (VOCAB[mid].cp == cp)
            return VOCAB[mid].id;
        if (VOCAB[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return 0;
}

int kokoro_tokenize(const char *phonemes, int32_t *ids, int max)
{
    if (!phonemes)
        return 0;
    size_t n = strlen(phonemes);
    int count = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += (size_t)kk_utf8_next(phonemes + i, n - i, &cp);
        int id = kk_vocab_id(cp);
        if (!id)
            continue;
        if (ids && count < max)
            ids[count] = id;
        count++;
    }
    return count;
}

/* ------------------------------------------------------------ user IPA */

/* Standard IPA where it differs from the model's letters (misaki's conventions). Longest
 * match first; tie bars are dropped before matching. */
static const struct {
    const char *from, *to;
} USER_IPA[] = {
    {"eɪ", "A"}, {"aɪ", "I"}, {"oʊ", "O"}, {"əʊ", "Q"}, {"aʊ", "W"}, {"ɔɪ", "Y"},
    {"tʃ", "ʧ"}, {"dʒ", "ʤ"}, {"ɝ", "ɜɹ"}, {"ɚ", "əɹ"}, {"r", "ɹ"},  {"g", "ɡ"},
    {"ɐ", "ə"},  {"ɫ", "l"},  {"'", "ˈ"},  {"ɾ", "T"},  {NULL, NULL}};

int kk_user_ipa(const char *ipa, size_t n, kk_buf *out)
{
    if (kk_buf_put(out, "", 0) < 0)
        return -1;
    kk_buf clean = {0}; /* without tie bars */
    if (kk_buf_put(&clean, "", 0) < 0)
        return -1;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int l = kk_utf8_next(ipa + i, n - i, &cp);
        if (cp != 0x0361 && cp != 0x035C && kk_buf_put(&clean, ipa + i, (size_t)l) < 0) {
            kk_buf_free(&clean);
            return -1;
        }
        i += (size_t)l;
    }
    int rc = 0, space = 1;
    for (size_t i = 0; i < clean.n && rc == 0;) {
        const char *to = NULL;
        size_t fl = 0;
        for (int k = 0; USER_IPA[k].from; k++) {
            size_t l = strlen(USER_IPA[k].from);
            if (l > fl && strncmp(clean.p + i, USER_IPA[k].from, l) == 0)
                to = USER_IPA[k].to, fl = l;
        }
        if (to) {
            rc = kk_buf_puts(out, to);
            space = 0;
            i += fl;
            continue;
        }
        uint32_t cp;
        int l = kk_utf8_next(clean.p + i, clean.n - i, &cp);
        if (isspace((int)(cp < 128 ? cp : 'x'))) {
            if (!space)
                rc = kk_buf_putc(out, ' ');
            space = 1;
        } else if (kk_vocab_id(cp)) {
            rc = kk_buf_put(out, clean.p + i, (size_t)l);
            space = 0;
        }
        i += (size_t)l;
    }
    kk_buf_free(&clean);
    kk_buf_rtrim(out);
    return rc;
}
