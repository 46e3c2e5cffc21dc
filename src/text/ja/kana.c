/* kana.c - kana to phonemes, as misaki 0.9.4's cutlet path maps them (its Hepburn-like table
 * written in the model's IPA), with the rules of a word's reading: digraphs with small kana,
 * the long-vowel mark, sokuon (っ -> ʔ), the moraic nasal (ん by what follows), iteration
 * marks. The table below was written from the facts of misaki's table. */
#include "text/ja/ja.h"

#include <string.h>

/* U+3041 ぁ .. U+3096 ゖ; NULL for っ and ん, which follow rules. */
static const char *const HIRA[] = {
    "a", "a", "i", "i", "ɯ", "ɯ", "e", "e", "o", "o",
    "ka", "ɡa", "kʲi", "ɡʲi", "kɯ", "ɡɯ", "ke", "ɡe", "ko", "ɡo",
    "sa", "ʣa", "ɕi", "ʥi", "sɨ", "zɨ", "se", "ʣe", "so", "ʣo",
    "ta", "da", "ʨi", "ʥi", NULL, "ʦɨ", "zɨ", "te", "de", "to",
    "do", "na", "ɲi", "nɯ", "ne", "no", "ha", "ba", "pa", "çi",
    "bʲi", "pʲi", "ɸɯ", "bɯ", "pɯ", "he", "be", "pe", "ho", "bo",
    "po", "ma", "mʲi", "mɯ", "me", "mo", "ja", "ja", "jɯ", "jɯ",
    "jo", "jo", "ɾa", "ɾʲi", "ɾɯ", "ɾe", "ɾo", "βa", "βa", "i",
    "e", "o", NULL, "vɯ", "ka", "ke",};

/* A kana and a small kana read as one mora. */
static const struct {
    const char *pair, *ph;
} DIGRAPHS[] = {
    {"いぇ", "je"},
    {"うぃ", "βi"},
    {"うぇ", "βe"},
    {"うぉ", "βo"},
    {"きぇ", "kʲe"},
    {"きゃ", "kʲa"},
    {"きゅ", "kʲɨ"},
    {"きょ", "kʲo"},
    {"ぎゃ", "ɡʲa"},
    {"ぎゅ", "ɡʲɨ"},
    {"ぎょ", "ɡʲo"},
    {"くぁ", "kᵝa"},
    {"くぃ", "kᵝi"},
    {"くぇ", "kᵝe"},
    {"くぉ", "kᵝo"},
    {"ぐぁ", "ɡᵝa"},
    {"ぐぃ", "ɡᵝi"},
    {"ぐぇ", "ɡᵝe"},
    {"ぐぉ", "ɡᵝo"},
    {"しぇ", "ɕe"},
    {"しゃ", "ɕa"},
    {"しゅ", "ɕɨ"},
    {"しょ", "ɕo"},
    {"じぇ", "ʥe"},
    {"じゃ", "ʥa"},
    {"じゅ", "ʥɨ"},
    {"じょ", "ʥo"},
    {"ちぇ", "ʨe"},
    {"ちゃ", "ʨa"},
    {"ちゅ", "ʨɨ"},
    {"ちょ", "ʨo"},
    {"ぢゃ", "ʥa"},
    {"ぢゅ", "ʥɨ"},
    {"ぢょ", "ʥo"},
    {"つぁ", "ʦa"},
    {"つぃ", "ʦʲi"},
    {"つぇ", "ʦe"},
    {"つぉ", "ʦo"},
    {"てぃ", "tʲi"},
    {"てゅ", "tʲɨ"},
    {"でぃ", "dʲi"},
    {"でゅ", "dʲɨ"},
    {"とぅ", "tɯ"},
    {"どぅ", "dɯ"},
    {"にぇ", "ɲe"},
    {"にゃ", "ɲa"},
    {"にゅ", "ɲɨ"},
    {"にょ", "ɲo"},
    {"ひぇ", "çe"},
    {"ひゃ", "ça"},
    {"ひゅ", "çɨ"},
    {"ひょ", "ço"},
    {"びゃ", "bʲa"},
    {"びゅ", "bʲɨ"},
    {"びょ", "bʲo"},
    {"ぴゃ", "pʲa"},
    {"ぴゅ", "pʲɨ"},
    {"ぴょ", "pʲo"},
    {"ふぁ", "ɸa"},
    {"ふぃ", "ɸʲi"},
    {"ふぇ", "ɸe"},
    {"ふぉ", "ɸo"},
    {"ふゅ", "ɸʲɨ"},
    {"ふょ", "ɸʲo"},
    {"みゃ", "mʲa"},
    {"みゅ", "mʲɨ"},
    {"みょ", "mʲo"},
    {"りゃ", "ɾʲa"},
    {"りゅ", "ɾʲɨ"},
    {"りょ", "ɾʲo"},
    {"ゔぁ", "va"},
    {"ゔぃ", "vʲi"},
    {"ゔぇ", "ve"},
    {"ゔぉ", "vo"},
    {"ゔゅ", "bʲɨ"},
    {"ゔょ", "bʲo"},};

static const struct {
    uint32_t cp;
    const char *ph;
} SYMBOLS[] = {
    {0x30F7, "va"}, {0x30F8, "vʲi"}, {0x30F9, "ve"}, {0x30FA, "vo"}, /* ヷヸヹヺ: no hiragana */
    {0x3002, "."},  {0x3001, ","},   {0xFF1F, "?"},  {0xFF01, "!"},  {0x300C, "“"},
    {0x300D, "”"},  {0x300E, "“"},   {0x300F, "”"},  {0xFF1A, ":"},  {0xFF1B, ";"},
    {0xFF08, "("},  {0xFF09, ")"},   {0x300A, "("},  {0x300B, ")"},  {0x3010, "["},
    {0x3011, "]"},  {0x30FB, " "},   {0xFF0C, ","},  {0xFF5E, "—"},  {0x301C, "—"},
    {0x2014, "—"},  {0xAB, "“"},     {0xBB, "”"},    {0x309A, ""},   {0x3099, ""},
};

#define SOKUON 0x3063 /* っ */
#define HATSUON 0x3093 /* ん */
#define CHOON 0x30FC /* ー */

const char *kk_ja_symbol(uint32_t cp)
{
    for (size_t i = 0; i < sizeof SYMBOLS / sizeof *SYMBOLS; i++)
        if (SYMBOLS[i].cp == cp)
            return SYMBOLS[i].ph;
    return NULL;
}

/* The table's entry for one character (kana or symbol), or NULL. */
static const char *single(uint32_t cp)
{
    if (cp >= 0x3041 && cp <= 0x3096)
        return HIRA[cp - 0x3041];
    return kk_ja_symbol(cp);
}

static const char *digraph(uint32_t a, uint32_t b)
{
    char key[8];
    int n = kk_utf8_put(a, key);
    n += kk_utf8_put(b, key + n);
    key[n] = 0;
    for (size_t i = 0; i < sizeof DIGRAPHS / sizeof *DIGRAPHS; i++)
        if (strcmp(DIGRAPHS[i].pair, key) == 0)
            return DIGRAPHS[i].ph;
    return NULL;
}

/* The small kana that make a digraph with the kana before them (ゎ is not one). */
static int sutegana(uint32_t cp)
{
    return cp == 0x3083 || cp == 0x3085 || cp == 0x3087 || cp == 0x3041 || cp == 0x3043 ||
           cp == 0x3045 || cp == 0x3047 || cp == 0x3049;
}

/* The voiced twin of a kana (か -> が), or 0. */
static uint32_t voiced(uint32_t cp)
{
    static const char from[] = "かきくけこさしすせそたちつてとはひふへほ";
    static const char to[] = "がぎぐげござじずぜぞだぢづでどばびぶべぼ";
    size_t i = 0, j = 0;
    while (from[i]) {
        uint32_t a, b;
        i += (size_t)kk_utf8_next(from + i, sizeof from - 1 - i, &a);
        j += (size_t)kk_utf8_next(to + j, sizeof to - 1 - j, &b);
        if (a == cp)
            return b;
    }
    return 0;
}

/* Length of s without its last code point. */
static size_t drop_last(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && ((unsigned char)s[n - 1] & 0xC0) == 0x80)
        n--;
    return n ? n - 1 : 0;
}

/* ん before a kana: m before m p b, ŋ before k ɡ, ɲ before ɲ ʨ ʥ, n before n t d ɾ z, ɴ
 * elsewhere (and at the end of a word). */
static const char *moraic_nasal(uint32_t next)
{
    const char *t = next ? single(next) : NULL;
    if (!t || !*t)
        return "ɴ";
    uint32_t c;
    kk_utf8_next(t, strlen(t), &c);
    if (c == 'm' || c == 'p' || c == 'b')
        return "m";
    if (c == 'k' || c == 0x261 /* ɡ */)
        return "ŋ";
    if (c == 0x272 /* ɲ */ || c == 0x2A8 /* ʨ */ || c == 0x2A5 /* ʥ */)
        return "ɲ";
    if (c == 'n' || c == 't' || c == 'd' || c == 0x27E /* ɾ */ || c == 'z')
        return "n";
    return "ɴ";
}

/* One character of a reading, seen with its neighbours (0 at the word's edges). */
static int map_one(uint32_t pk, uint32_t kk, uint32_t nk, kk_buf *out)
{
    char tmp[8];
    const char *t;
    switch (kk) {
    case 0x309D: case 0x30FD: /* ゝヽ repeat the kana before (left as the kana, as misaki does) */
        if (!pk)
            return 0;
        return kk_buf_put(out, tmp, (size_t)kk_utf8_put(pk, tmp));
    case 0x309E: /* ゞ repeats it voiced */
        t = pk && voiced(pk) ? single(voiced(pk)) : NULL;
        return t ? kk_buf_puts(out, t) : 0;
    case 0x3003: case 0x3005: /* 〃 々: their span cannot be told from a reading */
        return 0;
    }
    if (pk && digraph(pk, kk))
        return kk_buf_puts(out, digraph(pk, kk));
    if (nk && digraph(kk, nk))
        return 0;
    if (nk && sutegana(nk)) {
        if (kk == SOKUON)
            return 0;
        t = single(kk);
        const char *s = single(nk);
        if (t && kk_buf_put(out, t, drop_last(t)) < 0)
            return -1;
        return s ? kk_buf_puts(out, s) : 0;
    }
    if (sutegana(kk))
        return 0;
    if (kk == CHOON)
        return kk_buf_puts(out, "ː");
    if (kk == SOKUON)
        return kk_buf_puts(out, "ʔ");
    if (kk == HATSUON)
        return kk_buf_puts(out, moraic_nasal(nk));
    t = single(kk);
    return t ? kk_buf_puts(out, t) : 0;
}

int kk_ja_kana_word(const uint32_t *hira, size_t n, kk_buf *out)
{
    for (size_t i = 0; i < n; i++)
        if (map_one(i > 0 ? hira[i - 1] : 0, hira[i], i + 1 < n ? hira[i + 1] : 0, out) < 0)
            return -1;
    return 0;
}
