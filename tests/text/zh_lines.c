/* zh_lines.c - the Mandarin front end over lines of standard input, for the parity test
 * (tests/text/test_zh_parity.py) and the fuzzer's seeds.
 *
 *   zh_lines DIR              each line of text -> its phonemes (one line each)
 *   zh_lines DIR --syllables  each line "zhong1" -> its IPA ("?" when not a syllable)
 *   zh_lines DIR --rss        after the lines, the dictionaries' bytes and the RSS growth
 *   zh_lines DIR --words      each line -> its words as read and the input bytes each came
 *                             from, "word=source" separated by tabs
 *   zh_lines DIR --threads N  the lines read by N threads at once from a cold start (the first
 *                             load races), each thread's output compared with the others'
 *
 * DIR is the lexicon folder (the dictionaries are in DIR/zh). */
#include "text/zh/zh.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rss.h"

/* --threads: every thread phonemises all the lines; their outputs must be equal. */
typedef struct {
    char **lines;
    int n;
    kk_buf out;
    int failed;
} job;

static void *read_all(void *arg)
{
    job *j = arg;
    for (int i = 0; i < j->n; i++) {
        kk_phon p = {0};
        char err[512];
        if (kk_g2p_zh(j->lines[i], &p, err, sizeof err) != KOKORO_OK)
            j->failed = 1;
        if (kk_buf_puts(&j->out, p.ph.p ? p.ph.p : "") < 0 || kk_buf_putc(&j->out, '\n') < 0)
            j->failed = 1;
        kk_phon_free(&p);
    }
    return NULL;
}

static int threads_main(int n_threads)
{
    char **lines = NULL, *line = NULL;
    int n = 0;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        char **l = realloc(lines, (size_t)(n + 1) * sizeof *l);
        if (!l)
            return 1;
        lines = l;
        lines[n++] = strndup(line, (size_t)len - (len && line[len - 1] == '\n'));
    }
    free(line);
    job jobs[16] = {{0}};
    pthread_t tid[16];
    if (n_threads < 1 || n_threads > 16)
        n_threads = 4;
    for (int t = 0; t < n_threads; t++) {
        jobs[t] = (job){lines, n, {0}, 0};
        pthread_create(&tid[t], NULL, read_all, &jobs[t]);
    }
    int status = 0;
    for (int t = 0; t < n_threads; t++) {
        pthread_join(tid[t], NULL);
        if (jobs[t].failed || !jobs[t].out.p || strcmp(jobs[t].out.p, jobs[0].out.p) != 0)
            status = 1;
    }
    if (status == 0)
        printf("%d threads, %d lines each: same phonemes\n", n_threads, n);
    for (int t = 0; t < n_threads; t++)
        kk_buf_free(&jobs[t].out);
    for (int i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: zh_lines LEXICON_DIR [--syllables|--rss|--words|--threads N] < lines\n");
        return 2;
    }
    if (argc > 3 && strcmp(argv[2], "--threads") == 0) {
        kk_zh_set_dir(argv[1]);
        return threads_main(atoi(argv[3]));
    }
    int syllables = argc > 2 && strcmp(argv[2], "--syllables") == 0;
    int rss = argc > 2 && strcmp(argv[2], "--rss") == 0;
    int words = argc > 2 && strcmp(argv[2], "--words") == 0;
    kk_zh_set_dir(argv[1]);
    long rss0 = rss_kb();
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int status = 0;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (syllables) {
            kk_buf out = {0};
            int rc = kk_zh_syllable_ipa(line, (size_t)len, &out);
            printf("%s\n", rc == 0 && out.p ? out.p : "?");
            kk_buf_free(&out);
            continue;
        }
        kk_phon p = {0};
        char err[512] = "";
        int rc = kk_g2p_zh(line, &p, err, sizeof err);
        if (rc != KOKORO_OK) {
            fprintf(stderr, "zh_lines: %s\n", err);
            status = 1;
        }
        if (words) {
            for (int w = 0; w < p.n_words; w++) {
                const kk_word *wd = &p.words[w];
                int ok = wd->src_start >= 0 && wd->src_end > wd->src_start && wd->src_end <= len;
                printf("%s%s=%.*s", w ? "\t" : "", wd->text, ok ? wd->src_end - wd->src_start : 1,
                       ok ? line + wd->src_start : "?");
            }
            printf("\n");
        } else {
            printf("%s\n", p.ph.p ? p.ph.p : "");
        }
        kk_phon_free(&p);
    }
    free(line);
    if (rss) {
        const kk_zh_dict *d = NULL;
        char err[512];
        if (kk_zh_dict_get("", &d, err, sizeof err) == KOKORO_OK)
            fprintf(stderr, "dictionaries %.1f MB, RSS %+.1f MB\n",
                    kk_zh_dict_bytes(d) / 1048576.0, (rss_kb() - rss0) / 1024.0);
    }
    return status;
}
