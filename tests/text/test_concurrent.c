/* test_concurrent.c - espeak-ng is shared by all threads behind one lock: phonemes computed
 * by many threads at once, in different languages, equal those computed alone (no request's
 * phonemes leak into another's). */
#include "check.h"
#include "text/text_int.h"

#include <pthread.h>

#define THREADS 8
#define TEXTS 200
#define ROUNDS 2

static const char *const LANGS[THREADS] = {"en-us", "en-gb", "es", "fr", "it", "pt-br", "hi",
                                           "en-us"};
static char *texts[THREADS][TEXTS];
static char *expected[THREADS][TEXTS];
static kokoro_text *shared;
static int mismatches;
static pthread_mutex_t mismatch_lock = PTHREAD_MUTEX_INITIALIZER;

/* Invented words, different for every thread and text, so that the dictionaries cannot answer
 * and every first lookup reaches espeak-ng. */
static void make_texts(void)
{
    static const char *const syl[] = {"bra", "zo", "kli", "mun", "dre", "fa", "lo", "vi",
                                      "tor", "sen", "gu", "pel", "ri", "sha", "to", "nek"};
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < TEXTS; i++) {
            char buf[512];
            int len = 0;
            for (int w = 0; w < 6; w++) {
                unsigned h = (unsigned)(t * 7919 + i * 104729 + w * 1299709);
                h ^= h >> 7;
                h *= 2654435761u;
                len += snprintf(buf + len, sizeof buf - (size_t)len, "%s%s%s%s%s", syl[t % 16],
                                syl[h % 16], syl[(h >> 4) % 16], syl[(h >> 8) % 16],
                                w == 2 ? ", " : w == 5 ? "." : " ");
            }
            texts[t][i] = strdup(buf);
        }
    }
}

static void *worker(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < TEXTS; i++) {
            char err[256], *out = NULL;
            int rc = kokoro_phonemize(shared, texts[t][i], LANGS[t], &out, err, sizeof err);
            if (rc != KOKORO_OK || strcmp(out, expected[t][i]) != 0) {
                pthread_mutex_lock(&mismatch_lock);
                if (mismatches++ < 5)
                    fprintf(stderr, "thread %d [%s] \"%s\": got \"%s\", want \"%s\"\n", t,
                            LANGS[t], texts[t][i], out ? out : err, expected[t][i]);
                pthread_mutex_unlock(&mismatch_lock);
            }
            free(out);
        }
    }
    return NULL;
}

int main(void)
{
    char err[256];
    make_texts();
    /* the reference, one thread */
    kokoro_text *alone;
    if (kokoro_text_new(NULL, &alone, err, sizeof err) != KOKORO_OK) {
        fprintf(stderr, "test_concurrent: %s\n", err);
        return 1;
    }
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < TEXTS; i++)
            CHECK(kokoro_phonemize(alone, texts[t][i], LANGS[t], &expected[t][i], err,
                                   sizeof err) == KOKORO_OK && strlen(expected[t][i]) > 3,
                  "reference %d/%d: %s", t, i, err);
    /* closing the last front end empties the cache, so the threads start cold */
    kokoro_text_free(alone);
    long calls0, hits0, calls1, hits1;
    kk_espeak_stats(&calls0, &hits0);

    CHECK(kokoro_text_new(NULL, &shared, err, sizeof err) == KOKORO_OK, "%s", err);
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    kk_espeak_stats(&calls1, &hits1);
    printf("%d threads x %d texts x %d rounds: %ld espeak-ng calls, %ld cache hits, %d "
           "mismatches\n",
           THREADS, TEXTS, ROUNDS, calls1 - calls0, hits1 - hits0, mismatches);
    CHECK(mismatches == 0, "%d phoneme strings differ from the single-threaded ones", mismatches);
    CHECK(calls1 - calls0 >= THREADS * TEXTS, "espeak-ng was not exercised (%ld calls)",
          calls1 - calls0);
    CHECK(hits1 - hits0 > 0, "the cache never answered");

    kokoro_text_free(shared);
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < TEXTS; i++)
            free(texts[t][i]), free(expected[t][i]);
    return check_done("test_concurrent");
}
