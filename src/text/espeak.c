/* espeak.c - espeak-ng behind one lock, with a cache, and its IPA mapped to the vocabulary.
 *
 * libespeak-ng keeps its state in globals and is not thread-safe, so every call into it
 * holds espeak_lock. Its results are deterministic for a (voice, text) pair, so they are
 * cached: repeated unknown words and short clauses then cost a hash lookup, and the lock is
 * held only for real work. The cache is bounded; when full it is emptied and starts over. */
#include "core/util.h"
#include "text/text_int.h"

#include <espeak-ng/speak_lib.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_BUCKETS 4096
#define CACHE_MAX_ENTRIES 50000
#define CACHE_MAX_KEY 512 /* longer texts are not cached */

typedef struct cache_entry {
    struct cache_entry *next;
    char *key; /* voice '\x1f' text */
    char *value;
} cache_entry;

static pthread_mutex_t espeak_lock = PTHREAD_MUTEX_INITIALIZER;
static int espeak_ready;   /* espeak_Initialize succeeded (kept for the process lifetime) */
static int espeak_users;   /* open front ends; the cache is freed when the last one closes */
static char espeak_voice[32];
static cache_entry *cache[CACHE_BUCKETS];
static int cache_count;
static long stat_calls, stat_hits;

static uint32_t fnv(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void cache_clear(void)
{
    for (int i = 0; i < CACHE_BUCKETS; i++) {
        for (cache_entry *e = cache[i], *next; e; e = next) {
            next = e->next;
            free(e->key);
            free(e->value);
            free(e);
        }
        cache[i] = NULL;
    }
    cache_count = 0;
}

int kk_espeak_open(char *err, size_t errlen)
{
    pthread_mutex_lock(&espeak_lock);
    if (!espeak_ready) {
        int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL,
                                     espeakINITIALIZE_DONT_EXIT);
        if (rate <= 0) {
            pthread_mutex_unlock(&espeak_lock);
            return kk_fail(err, errlen, KOKORO_E_IO,
                           "espeak-ng could not start: is espeak-ng-data installed "
                           "(apt-get install espeak-ng-data)?");
        }
        espeak_ready = 1;
        espeak_voice[0] = 0;
    }
    espeak_users++;
    pthread_mutex_unlock(&espeak_lock);
    return KOKORO_OK;
}

void kk_espeak_close(void)
{
    pthread_mutex_lock(&espeak_lock);
    if (espeak_users > 0 && --espeak_users == 0)
        cache_clear();
    pthread_mutex_unlock(&espeak_lock);
}

void kk_espeak_stats(long *calls, long *hits)
{
    pthread_mutex_lock(&espeak_lock);
    *calls = stat_calls;
    *hits = stat_hits;
    pthread_mutex_unlock(&espeak_lock);
}

/* Removes espeak-ng's language-switch flags such as "(en)" from its output, in place. */
static void strip_flags(char *s)
{
    char *w = s;
    for (char *r = s; *r;) {
        if (*r == '(') {
            char *q = r + 1;
            while ((*q >= 'a' && *q <= 'z') || *q == '-' || *q == '^') /* ties show up inside */
                q++;
            if (*q == ')' && q > r + 1) {
                r = q + 1;
                continue;
            }
        }
        *w++ = *r++;
    }
    *w = 0;
}

/* Runs espeak-ng on text (NUL-terminated) for voice; appends the raw IPA, clauses joined by
 * spaces. Caller holds espeak_lock. */
static int run_espeak(const char *voice, const char *text, kk_buf *raw)
{
    if (strcmp(espeak_voice, voice) != 0) {
        if (espeak_SetVoiceByName(voice) != EE_OK) {
            espeak_voice[0] = 0;
            return KOKORO_E_UNSUPPORTED;
        }
        snprintf(espeak_voice, sizeof espeak_voice, "%s", voice);
    }
    stat_calls++;
    const void *p = text;
    const int mode = espeakPHONEMES_IPA | espeakPHONEMES_TIE | ('^' << 8);
    while (p) {
        const char *ph = espeak_TextToPhonemes(&p, espeakCHARS_UTF8, mode);
        if (!ph)
            break;
        if (raw->n && raw->p[raw->n - 1] != ' ' && kk_buf_putc(raw, ' ') < 0)
            return KOKORO_E_NOMEM;
        if (kk_buf_puts(raw, ph) < 0)
            return KOKORO_E_NOMEM;
    }
    return KOKORO_OK;
}

int kk_espeak_phonemes(const char *voice, const char *text, size_t n, kk_buf *out)
{
    char dialect = strcmp(voice, "en-us") == 0 ? 'a' : strcmp(voice, "en") == 0 ? 'b' : 0;
    size_t vl = strlen(voice);
    /* espeak-ng's UTF-8 reader looks a few bytes past a multi-byte character even at the end
     * of the text: the zero padding keeps those reads inside the allocation and defined. */
    char *key = calloc(1, vl + 1 + n + 1 + 8);
    if (!key)
        return KOKORO_E_NOMEM;
    memcpy(key, voice, vl);
    key[vl] = '\x1f';
    memcpy(key + vl + 1, text, n);
    key[vl + 1 + n] = 0;
    size_t kl = vl + 1 + n;
    uint32_t b = fnv(key, kl) % CACHE_BUCKETS;
    int cacheable = n <= CACHE_MAX_KEY;

    pthread_mutex_lock(&espeak_lock);
    if (cacheable) {
        for (cache_entry *e = cache[b]; e; e = e->next) {
            if (strcmp(e->key, key) == 0) {
                int rc = kk_buf_puts(out, e->value) < 0 ? KOKORO_E_NOMEM : KOKORO_OK;
                stat_hits++;
                pthread_mutex_unlock(&espeak_lock);
                free(key);
                return rc;
            }
        }
    }
    kk_buf raw = {0}, mapped = {0};
    int rc = espeak_ready ? run_espeak(voice, key + vl + 1, &raw) : KOKORO_E_INTERNAL;
    if (rc == KOKORO_OK && raw.p) {
        strip_flags(raw.p);
        if (kk_ipa_to_vocab(raw.p, dialect, &mapped) < 0)
            rc = KOKORO_E_NOMEM;
    }
    if (rc == KOKORO_OK && cacheable) {
        if (cache_count >= CACHE_MAX_ENTRIES)
            cache_clear();
        cache_entry *e = malloc(sizeof *e);
        char *v = strdup(mapped.p ? mapped.p : "");
        if (e && v) {
            e->key = key, e->value = v, e->next = cache[b];
            cache[b] = e;
            cache_count++;
            key = NULL;
        } else {
            free(e);
            free(v);
        }
    }
    pthread_mutex_unlock(&espeak_lock);

    if (rc == KOKORO_OK && mapped.p && kk_buf_puts(out, mapped.p) < 0)
        rc = KOKORO_E_NOMEM;
    free(key);
    kk_buf_free(&raw);
    kk_buf_free(&mapped);
    return rc;
}

/* ------------------------------------------------------------ IPA -> vocabulary */

typedef struct {
    const char *from, *to;
} subst;

/* English (both dialects), as kokoro-model.md describes; ties are written '^'. */
static const subst EN_COMMON[] = {
    {"a^ɪ", "I"}, {"a^ʊ", "W"}, {"d^ʒ", "ʤ"}, {"e^ɪ", "A"}, {"t^ʃ", "ʧ"}, {"ɔ^ɪ", "Y"},
    {"ə^l", "ᵊl"}, {"ʲo", "jo"}, {"ʲə", "jə"}, {"ʲ", ""}, {"ɚ", "əɹ"}, {"r", "ɹ"},
    {"x", "k"}, {"ç", "k"}, {"ɐ", "ə"}, {"ɬ", "l"}, {"\xcc\x83", ""}, {"\xcc\xa9", ""},
    {"ɾ", "T"}, {"ʔ", "t"}, {"^", ""}, {NULL, NULL}};
static const subst EN_US[] = {{"o^ʊ", "O"}, {"ɜːɹ", "ɜɹ"}, {"ɜː", "ɜɹ"}, {"ɪə", "iə"},
                              {"ː", ""},    {"e", "A"},    {"o", "ɔ"},   {NULL, NULL}};
static const subst EN_GB[] = {{"e^ə", "ɛː"}, {"iə", "ɪə"}, {"ə^ʊ", "Q"}, {"e", "A"},
                              {"o", "ɔ"},    {NULL, NULL}};
/* Other languages keep espeak-ng's symbols; only ties become the vocabulary's letters. */
static const subst OTHER[] = {{"a^ɪ", "I"}, {"a^ʊ", "W"}, {"d^z", "ʣ"}, {"d^ʒ", "ʤ"},
                              {"e^ɪ", "A"}, {"o^ʊ", "O"}, {"ə^ʊ", "Q"}, {"s^s", "S"},
                              {"t^s", "ʦ"}, {"t^ʃ", "ʧ"}, {"ɔ^ɪ", "Y"}, {"^", ""},
                              {"-", ""},    {NULL, NULL}};

/* The longest rule of the tables that matches at s, or NULL. */
static const subst *match(const subst *const *tables, const char *s)
{
    const subst *best = NULL;
    size_t best_len = 0;
    for (int t = 0; tables[t]; t++) {
        for (const subst *r = tables[t]; r->from; r++) {
            size_t l = strlen(r->from);
            if (l > best_len && strncmp(s, r->from, l) == 0)
                best = r, best_len = l;
        }
    }
    return best;
}

static int is_vowel(uint32_t cp)
{
    static const char *const V = "AIOQWYaeiouyæɑɐɒɔəɛɜɪʊʌᵊᵻɚøœɨɯɤ";
    char tmp[5];
    int l = kk_utf8_put(cp, tmp);
    tmp[l] = 0;
    return cp != 0 && strstr(V, tmp) != NULL;
}

/* The dictionaries put a stress mark right before the stressed vowel ("həlˈO"), espeak-ng at
 * the start of the syllable ("hɛlˈoʊ" but also "ˈstɑp"); move marks to the vowel. */
static int restress(const char *s, kk_buf *out)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int l = kk_utf8_next(s + i, n - i, &cp);
        if (cp == 0x2C8 || cp == 0x2CC) {
            size_t j = i + (size_t)l;
            uint32_t c2;
            int l2;
            /* consonants between the mark and the vowel move in front of the mark */
            while (j < n && (l2 = kk_utf8_next(s + j, n - j, &c2)) && !is_vowel(c2) && c2 != ' ' &&
                   c2 != 0x2C8 && c2 != 0x2CC)
                j += (size_t)l2;
            if (j < n && is_vowel(c2)) {
                if (kk_buf_put(out, s + i + l, j - i - (size_t)l) < 0 ||
                    kk_buf_put(out, s + i, (size_t)l) < 0)
                    return -1;
                i = j;
                continue;
            }
        }
        if (kk_buf_put(out, s + i, (size_t)l) < 0)
            return -1;
        i += (size_t)l;
    }
    return 0;
}

int kk_ipa_to_vocab(const char *ipa, int dialect, kk_buf *out)
{
    const subst *en_us[] = {EN_COMMON, EN_US, NULL};
    const subst *en_gb[] = {EN_COMMON, EN_GB, NULL};
    const subst *other[] = {OTHER, NULL};
    const subst *const *tables = dialect == 'a' ? en_us : dialect == 'b' ? en_gb : other;
    kk_buf tmp = {0};
    size_t n = strlen(ipa);
    int last_space = 1;
    for (size_t i = 0; i < n;) {
        const subst *r = match(tables, ipa + i);
        if (r) {
            if (kk_buf_puts(&tmp, r->to) < 0)
                goto oom;
            if (*r->to)
                last_space = 0;
            i += strlen(r->from);
            continue;
        }
        uint32_t cp;
        int l = kk_utf8_next(ipa + i, n - i, &cp);
        i += (size_t)l;
        if (cp == ' ' || cp == '\n' || cp == '\t') {
            if (!last_space && kk_buf_putc(&tmp, ' ') < 0)
                goto oom;
            last_space = 1;
        } else if (kk_vocab_id(cp)) {
            if (kk_buf_put(&tmp, ipa + i - (size_t)l, (size_t)l) < 0)
                goto oom;
            last_space = 0;
        }
    }
    kk_buf_rtrim(&tmp);
    int rc = 0;
    if (tmp.p)
        rc = dialect ? restress(tmp.p, out) : kk_buf_puts(out, tmp.p);
    kk_buf_free(&tmp);
    return rc;
oom:
    kk_buf_free(&tmp);
    return -1;
}
