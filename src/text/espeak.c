/* espeak.c - espeak-ng behind one lock, with a cache, and its IPA mapped to the vocabulary.
 *
 * libespeak-ng keeps its state in globals and is not thread-safe, so every call into it
 * holds espeak_lock. Its results are deterministic for a (voice, text) pair, so they are
 * cached: repeated unknown words and short clauses then cost a hash lookup, and the lock is
 * held only for real work. The cache is bounded; when full it is emptied and starts over.
 *
 * libespeak-ng 1.51 has three defects on this path, all contained here (docs/text.md):
 * - a word it has to spell with letters that are not its language's reaches for other
 *   languages' letter names ("ĸß" in pt-br: English for ĸ, German for ß), and switching that
 *   second translator inside one word reads a freed dictionary (heap use-after-free). So no
 *   letter outside the voice's own alphabet reaches it: others are folded to their base
 *   letters (ß -> ss, ŉ -> n, ǅ -> Dz, ĸ -> k) and other scripts become spaces (guard_text);
 * - every voice change queues a 1,344-byte copy of the voice for its synthesiser, freed only
 *   when it synthesises, which phonemising never does: an empty synthesis after each change
 *   runs the queue and frees it (set_voice);
 * - the Hindi voice reads address 0xb (SEGV) when Devanagari follows an apostrophe and a
 *   hyphen ("'-आप") or three hyphens ("---आप"), whatever comes before them: found by the
 *   fuzzer and mapped exhaustively over every prefix of up to five of ' - space 1 क before
 *   each Devanagari code point. Neither mark has a sound there, so guard_text makes the
 *   apostrophe, or the third hyphen, a space.
 * Those are the defects found so far; others surely remain. So libespeak-ng runs in a helper
 * process (helper_main, this program run again) that reads requests from a socket: a crash or a
 * hang there (HELPER_TIMEOUT_MS) costs the text that caused it an error (KOKORO_E_INTERNAL),
 * not the process its caller serves; the next request starts a new helper. The cache stays
 * here, so repeated text never crosses the socket. */
#include "core/util.h"
#include "core/utf8.h"
#include "text/espeak.h"
#include "text/vocab.h"
#include "kokoro.h"

#include <errno.h>
#include <fcntl.h>
#include <espeak-ng/speak_lib.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define CACHE_BUCKETS 4096
#define CACHE_MAX_ENTRIES 50000
#define CACHE_MAX_KEY 512 /* longer texts are not cached */

typedef struct cache_entry {
    struct cache_entry *next;
    char *key; /* voice '\x1f' text */
    char *value;
} cache_entry;

#define HELPER_TIMEOUT_MS 10000 /* per request: a piece is at most a few hundred bytes */
#define HELPER_MAX_TEXT (1u << 20)
#define HELPER_MAX_CALLS 100000 /* then a new helper: a leak inside libespeak-ng stays bounded */

static pthread_mutex_t espeak_lock = PTHREAD_MUTEX_INITIALIZER;
static int espeak_users;   /* open front ends; the cache is freed when the last one closes */
static char espeak_voice[32]; /* the helper's current voice (used in the helper only) */
static cache_entry *cache[CACHE_BUCKETS];
static int cache_count;
static long stat_calls, stat_hits, stat_restarts;
static pid_t helper_pid = -1; /* the helper process and our end of its socket, or -1 */
static int helper_fd = -1;
static long helper_calls;     /* requests the current helper has answered */

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

/* espeak-ng's synthesiser output, when set_voice runs its queue: nothing to keep. */
static int discard_audio(short *wav, int n, espeak_EVENT *events)
{
    (void)wav, (void)n, (void)events;
    return 0;
}

static int run_espeak(const char *voice, const char *text, kk_buf *raw);

/* ------------------------------------------------------------ the helper process */

/* Reads or writes exactly n bytes; 0, or -1 on end of file, error or (parent side, with
 * timeout_ms >= 0) no progress for timeout_ms. */
static int io_full(int fd, void *buf, size_t n, int writing, int timeout_ms)
{
    char *p = buf;
    while (n) {
        if (timeout_ms >= 0) {
            struct pollfd pf = {fd, (short)(writing ? POLLOUT : POLLIN), 0};
            int r = poll(&pf, 1, timeout_ms);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return -1;
        }
        ssize_t k = writing ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* The helper: espeak-ng and nothing else, on the socket at fd 3. A request is the voice's
 * and the text's lengths (two uint32) then their bytes; the answer a status and a length
 * (int32, uint32) then the raw IPA. It ends when the socket closes, as it does when its
 * parent ends. */
static void helper_main(int fd)
{
    close_range((unsigned)fd + 1, ~0u, 0); /* only the socket and the standard streams */
    int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, espeakINITIALIZE_DONT_EXIT);
    unsigned char ok = rate > 0;
    if (io_full(fd, &ok, 1, 1, -1) < 0 || !ok)
        _exit(1);
    espeak_SetSynthCallback(discard_audio);
    espeak_voice[0] = 0;
    for (;;) {
        uint32_t len[2];
        if (io_full(fd, len, sizeof len, 0, -1) < 0 || len[0] >= 32 || len[1] > HELPER_MAX_TEXT)
            _exit(0);
        char voice[32];
        char *text = calloc(1, (size_t)len[1] + 9); /* zero padding: see kk_espeak_phonemes */
        if (!text || io_full(fd, voice, len[0], 0, -1) < 0 ||
            io_full(fd, text, len[1], 0, -1) < 0)
            _exit(1);
        voice[len[0]] = 0;
        kk_buf raw = {0};
        int32_t rc = run_espeak(voice, text, &raw);
        uint32_t n = rc == KOKORO_OK ? (uint32_t)raw.n : 0;
        if (io_full(fd, &rc, sizeof rc, 1, -1) < 0 || io_full(fd, &n, sizeof n, 1, -1) < 0 ||
            (n && io_full(fd, raw.p, n, 1, -1) < 0))
            _exit(1);
        kk_buf_free(&raw);
        free(text);
    }
}

/* The helper is this same program run again (/proc/self/exe) with HELPER_ENV set: this
 * runs before main, in whatever program links the text front end (kokoro, the tests, the
 * fuzzers), and never returns. A new image rather than a fork: a fork of a busy server would
 * keep a copy of every page the server writes afterwards. */
#define HELPER_ENV "KOKORO_ESPEAK_HELPER_FD"
__attribute__((constructor)) static void helper_entry(void)
{
    const char *fd = getenv(HELPER_ENV);
    if (fd && strcmp(fd, "3") == 0) {
        helper_main(3);
        _exit(0);
    }
}

/* Ends the helper, if any. Caller holds espeak_lock. */
static void helper_stop(void)
{
    if (helper_fd >= 0)
        close(helper_fd);
    if (helper_pid > 0) {
        kill(helper_pid, SIGKILL);
        while (waitpid(helper_pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    helper_fd = -1;
    helper_pid = -1;
    helper_calls = 0;
}

/* Starts the helper and waits for espeak-ng to be ready in it. Caller holds espeak_lock. */
static int helper_start(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return KOKORO_E_IO;
    if (sv[1] == 3) { /* dup2 onto itself would keep CLOEXEC in some C libraries */
        int moved = fcntl(3, F_DUPFD_CLOEXEC, 4);
        close(3);
        if (moved < 0) {
            close(sv[0]);
            return KOKORO_E_IO;
        }
        sv[1] = moved;
    }
    size_t n_env = 0;
    while (environ[n_env])
        n_env++;
    char **env = malloc((n_env + 3) * sizeof *env);
    posix_spawn_file_actions_t fa;
    int rc = env ? posix_spawn_file_actions_init(&fa) : -1;
    if (rc == 0) {
        size_t k = 0;
        for (size_t i = 0; i < n_env; i++)
            if (strncmp(environ[i], HELPER_ENV "=", sizeof HELPER_ENV) != 0 &&
                strncmp(environ[i], "OPENBLAS_NUM_THREADS=", 21) != 0)
                env[k++] = environ[i];
        env[k++] = HELPER_ENV "=3";
        env[k++] = "OPENBLAS_NUM_THREADS=1"; /* linked, not used: no idle BLAS threads */
        env[k] = NULL;
        char *argv[] = {"kokoro-espeak-helper", NULL};
        pid_t pid;
        rc = posix_spawn_file_actions_adddup2(&fa, sv[1], 3); /* dup2 clears CLOEXEC */
        if (rc == 0)
            rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, env);
        posix_spawn_file_actions_destroy(&fa);
        if (rc == 0)
            helper_pid = pid;
    }
    free(env);
    close(sv[1]);
    if (rc != 0) {
        close(sv[0]);
        return KOKORO_E_IO;
    }
    helper_fd = sv[0];
    unsigned char ok = 0;
    if (io_full(helper_fd, &ok, 1, 0, HELPER_TIMEOUT_MS) < 0 || !ok) {
        helper_stop();
        return KOKORO_E_IO;
    }
    return KOKORO_OK;
}

/* espeak-ng's raw IPA of text (NUL-terminated) for voice, from the helper, started if need
 * be. A helper that died while idle (killed, out of memory) is replaced first; one that dies
 * or does not answer in time on this text is ended (the next call starts another) and the
 * text gets KOKORO_E_INTERNAL. Caller holds espeak_lock. */
static int helper_call(const char *voice, const char *text, kk_buf *raw)
{
    size_t vl = strlen(voice), tl = strlen(text);
    if (vl >= 32 || tl > HELPER_MAX_TEXT)
        return KOKORO_E_TOO_LONG; /* refused before a helper is started or counted */
    struct pollfd idle = {helper_fd, POLLIN, 0};
    if (helper_fd >= 0 && (helper_calls >= HELPER_MAX_CALLS || poll(&idle, 1, 0) != 0))
        helper_stop(); /* worn, or ended while idle (it has nothing to say between requests) */
    if (helper_fd < 0 && helper_start() != KOKORO_OK)
        return KOKORO_E_INTERNAL;
    helper_calls++;
    uint32_t len[2] = {(uint32_t)vl, (uint32_t)tl}, n;
    int32_t rc;
    if (io_full(helper_fd, len, sizeof len, 1, HELPER_TIMEOUT_MS) < 0 ||
        io_full(helper_fd, (void *)voice, len[0], 1, HELPER_TIMEOUT_MS) < 0 ||
        io_full(helper_fd, (void *)text, len[1], 1, HELPER_TIMEOUT_MS) < 0 ||
        io_full(helper_fd, &rc, sizeof rc, 0, HELPER_TIMEOUT_MS) < 0 ||
        io_full(helper_fd, &n, sizeof n, 0, HELPER_TIMEOUT_MS) < 0 || n > 64 * HELPER_MAX_TEXT)
        goto lost;
    if (rc != KOKORO_OK)
        return rc;
    if (kk_buf_reserve(raw, n + 1) < 0)
        goto lost; /* the answer is still in the socket: start afresh */
    if (n && io_full(helper_fd, raw->p + raw->n, n, 0, HELPER_TIMEOUT_MS) < 0)
        goto lost;
    raw->n += n;
    raw->p[raw->n] = 0;
    return KOKORO_OK;
lost:
    helper_stop();
    stat_restarts++;
    return KOKORO_E_INTERNAL;
}

int kk_espeak_open(char *err, size_t errlen)
{
    pthread_mutex_lock(&espeak_lock);
    if (helper_fd < 0 && helper_start() != KOKORO_OK) {
        pthread_mutex_unlock(&espeak_lock);
        return kk_fail(err, errlen, KOKORO_E_IO,
                       "espeak-ng could not start: is espeak-ng-data installed "
                       "(apt-get install espeak-ng-data)?");
    }
    espeak_users++;
    pthread_mutex_unlock(&espeak_lock);
    return KOKORO_OK;
}

void kk_espeak_close(void)
{
    pthread_mutex_lock(&espeak_lock);
    if (espeak_users > 0 && --espeak_users == 0) {
        cache_clear();
        helper_stop();
    }
    pthread_mutex_unlock(&espeak_lock);
}

void kk_espeak_stats(long *calls, long *hits)
{
    pthread_mutex_lock(&espeak_lock);
    *calls = stat_calls;
    *hits = stat_hits;
    pthread_mutex_unlock(&espeak_lock);
}

int kk_espeak_raw(const char *voice, const char *text, kk_buf *raw)
{
    pthread_mutex_lock(&espeak_lock);
    int rc = helper_fd >= 0 || espeak_users > 0 ? helper_call(voice, text, raw) : KOKORO_E_ARG;
    pthread_mutex_unlock(&espeak_lock);
    return rc;
}

long kk_espeak_restarts(void)
{
    pthread_mutex_lock(&espeak_lock);
    long r = stat_restarts;
    pthread_mutex_unlock(&espeak_lock);
    return r;
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

/* Selects voice unless it is current. espeak_SetVoiceByName queues a copy of the voice for
 * the synthesiser (DoVoiceChange) and only synthesis frees it; without the empty synthesis
 * below each change leaked 1,344 bytes (LeakSanitizer, 1,000 es/pt-br alternations). The
 * empty text produces no audio and leaves the phonemiser's state as it was (the phonemes of
 * 400 mixed-language sentences are byte-identical with and without it). Caller holds
 * espeak_lock. */
static int set_voice(const char *voice)
{
    if (strcmp(espeak_voice, voice) == 0)
        return KOKORO_OK;
    if (espeak_SetVoiceByName(voice) != EE_OK) {
        espeak_voice[0] = 0;
        return KOKORO_E_UNSUPPORTED;
    }
    snprintf(espeak_voice, sizeof espeak_voice, "%s", voice);
    espeak_Synth("", 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL);
    return KOKORO_OK;
}

/* Runs espeak-ng on text (NUL-terminated) for voice; appends the raw IPA, clauses joined by
 * spaces. In the helper process only. */
static int run_espeak(const char *voice, const char *text, kk_buf *raw)
{
    int rc = set_voice(voice);
    if (rc != KOKORO_OK)
        return rc;
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

/* ------------------------------------------------------------ what a voice reads */

/* The letters of 0xC0-0x24F and 0x1E00-0x1EFF without their marks: what is left of a letter
 * once NFKD takes its diacritics off, or for letters with no decomposition the letter its
 * Unicode name is built on (stroke, hook, ligature: Đ -> D, ƒ -> f, Œ -> OE, ß -> ss,
 * þ -> th, ĸ -> k, ŋ -> n); "" for the glottal stops and tone letters, which have none. */
static const char FOLD_C0[][3] = {
    "A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I", "I",
    "D", "N", "O", "O", "O", "O", "O", "", "O", "U", "U", "U", "U", "Y", "TH", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y",
    "A", "a", "A", "a", "A", "a", "C", "c", "C", "c", "C", "c", "C", "c", "D", "d",
    "D", "d", "E", "e", "E", "e", "E", "e", "E", "e", "E", "e", "G", "g", "G", "g",
    "G", "g", "G", "g", "H", "h", "H", "h", "I", "i", "I", "i", "I", "i", "I", "i",
    "I", "i", "IJ", "ij", "J", "j", "K", "k", "k", "L", "l", "L", "l", "L", "l", "L",
    "l", "L", "l", "N", "n", "N", "n", "N", "n", "n", "N", "n", "O", "o", "O", "o",
    "O", "o", "OE", "oe", "R", "r", "R", "r", "R", "r", "S", "s", "S", "s", "S", "s",
    "S", "s", "T", "t", "T", "t", "T", "t", "U", "u", "U", "u", "U", "u", "U", "u",
    "U", "u", "U", "u", "W", "w", "Y", "y", "Y", "Z", "z", "Z", "z", "Z", "z", "s",
    "b", "B", "B", "b", "", "", "O", "C", "c", "D", "D", "D", "d", "d", "E", "E",
    "E", "F", "f", "G", "G", "hv", "I", "I", "K", "k", "l", "l", "M", "N", "n", "O",
    "O", "o", "OI", "oi", "P", "p", "yr", "", "", "SH", "sh", "t", "T", "t", "T", "U",
    "u", "U", "V", "Y", "y", "Z", "z", "Z", "Z", "z", "z", "", "", "", "", "w",
    "", "", "", "", "DZ", "Dz", "dz", "LJ", "Lj", "lj", "NJ", "Nj", "nj", "A", "a", "I",
    "i", "O", "o", "U", "u", "U", "u", "U", "u", "U", "u", "U", "u", "e", "A", "a",
    "A", "a", "AE", "ae", "G", "g", "G", "g", "K", "k", "O", "o", "O", "o", "Z", "z",
    "j", "DZ", "Dz", "dz", "G", "g", "HW", "W", "N", "n", "A", "a", "AE", "ae", "O", "o",
    "A", "a", "A", "a", "E", "e", "E", "e", "I", "i", "I", "i", "O", "o", "O", "o",
    "R", "r", "R", "r", "U", "u", "U", "u", "S", "s", "T", "t", "Y", "y", "H", "h",
    "N", "d", "OU", "ou", "Z", "z", "A", "a", "E", "e", "O", "o", "O", "o", "O", "o",
    "O", "o", "Y", "y", "l", "n", "t", "j", "db", "qp", "A", "C", "c", "L", "T", "s",
    "z", "", "", "B", "U", "V", "E", "e", "J", "j", "Q", "q", "R", "r", "Y", "y",
};
static const char FOLD_1E00[][3] = {
    "A", "a", "B", "b", "B", "b", "B", "b", "C", "c", "D", "d", "D", "d", "D", "d",
    "D", "d", "D", "d", "E", "e", "E", "e", "E", "e", "E", "e", "E", "e", "F", "f",
    "G", "g", "H", "h", "H", "h", "H", "h", "H", "h", "H", "h", "I", "i", "I", "i",
    "K", "k", "K", "k", "K", "k", "L", "l", "L", "l", "L", "l", "L", "l", "M", "m",
    "M", "m", "M", "m", "N", "n", "N", "n", "N", "n", "N", "n", "O", "o", "O", "o",
    "O", "o", "O", "o", "P", "p", "P", "p", "R", "r", "R", "r", "R", "r", "R", "r",
    "S", "s", "S", "s", "S", "s", "S", "s", "S", "s", "T", "t", "T", "t", "T", "t",
    "T", "t", "U", "u", "U", "u", "U", "u", "U", "u", "U", "u", "V", "v", "V", "v",
    "W", "w", "W", "w", "W", "w", "W", "w", "W", "w", "X", "x", "X", "x", "Y", "y",
    "Z", "z", "Z", "z", "Z", "z", "h", "t", "w", "y", "a", "s", "s", "s", "SS", "d",
    "A", "a", "A", "a", "A", "a", "A", "a", "A", "a", "A", "a", "A", "a", "A", "a",
    "A", "a", "A", "a", "A", "a", "A", "a", "E", "e", "E", "e", "E", "e", "E", "e",
    "E", "e", "E", "e", "E", "e", "E", "e", "I", "i", "I", "i", "O", "o", "O", "o",
    "O", "o", "O", "o", "O", "o", "O", "o", "O", "o", "O", "o", "O", "o", "O", "o",
    "O", "o", "O", "o", "U", "u", "U", "u", "U", "u", "U", "u", "U", "u", "U", "u",
    "U", "u", "Y", "y", "Y", "y", "Y", "y", "Y", "y", "LL", "ll", "V", "v", "Y", "y",
};

/* The alphabets the voices read themselves, beyond ASCII (lower and upper case). */
static const char *const NATIVE_ES = "áéíóúüñÁÉÍÓÚÜÑ";
static const char *const NATIVE_PT = "áâãàçéêíóôõúüÁÂÃÀÇÉÊÍÓÔÕÚÜ";
static const char *const NATIVE_FR = "àâæçéèêëîïôœùûüÿÀÂÆÇÉÈÊËÎÏÔŒÙÛÜŸ";
static const char *const NATIVE_IT = "àèéìíîòóùúÀÈÉÌÍÎÒÓÙÚ";

static int in_set(const char *set, uint32_t cp)
{
    char tmp[5];
    int l = kk_utf8_put(cp, tmp);
    tmp[l] = 0;
    return strstr(set, tmp) != NULL;
}

/* Copies text to out as the voice can read it without reaching for another language: ASCII
 * and the voice's own letters stay, other Latin letters lose their marks (FOLD_*), other
 * scripts and symbols become spaces. English keeps Latin-1 (it names and reads those letters
 * itself); Hindi keeps Devanagari, digits and spaces, since its voice reads any Latin letter
 * through English (g2p_espeak.c sends Latin words to the English voice itself). out must
 * hold n + 1 bytes: nothing grows (a Latin letter is 2 or 3 bytes, its fold at most 2).
 * Returns the length written. */
static size_t guard_text(const char *voice, const char *text, size_t n, char *out)
{
    const char *native = NULL;
    int english = strncmp(voice, "en", 2) == 0, hindi = strcmp(voice, "hi") == 0;
    if (strcmp(voice, "es") == 0)
        native = NATIVE_ES;
    else if (strncmp(voice, "pt", 2) == 0)
        native = NATIVE_PT;
    else if (strcmp(voice, "fr") == 0)
        native = NATIVE_FR;
    else if (strcmp(voice, "it") == 0)
        native = NATIVE_IT;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int l = kk_utf8_next(text + i, n - i, &cp);
        const char *fold = NULL;
        if (cp >= 0xC0 && cp <= 0x24F)
            fold = FOLD_C0[cp - 0xC0];
        else if (cp >= 0x1E00 && cp <= 0x1EFF)
            fold = FOLD_1E00[cp - 0x1E00];
        int keep;
        if (hindi)
            keep = (cp >= 0x900 && cp <= 0x97F) || (cp >= '0' && cp <= '9') || cp == '\'' ||
                   cp == '-' || cp == ' ';
        else if (cp < 0x80)
            keep = cp != 0;
        else if (fold)
            keep = english ? cp <= 0xFF : native && in_set(native, cp);
        else
            keep = cp == 0x20AC || cp == 0xA3 || cp == 0xB0 || cp == 0x2019; /* € £ ° ’ */
        if (keep && hindi && cp == '-' && o > 0 &&
            (out[o - 1] == '\'' || (o > 1 && out[o - 1] == '-' && out[o - 2] == '-'))) {
            if (out[o - 1] == '\'')
                out[o - 1] = ' '; /* "'-" -> " -" */
            else
                keep = 0; /* "---" -> "-- " */
        }
        if (keep) {
            memcpy(out + o, text + i, (size_t)l);
            o += (size_t)l;
        } else if (fold && !hindi) {
            size_t fl = strlen(fold);
            memcpy(out + o, fold, fl);
            o += fl;
        } else {
            out[o++] = ' ';
        }
        i += (size_t)l;
    }
    out[o] = 0;
    return o;
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
    n = guard_text(voice, text, n, key + vl + 1);
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
    stat_calls++;
    int rc = helper_call(voice, key + vl + 1, &raw);
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
