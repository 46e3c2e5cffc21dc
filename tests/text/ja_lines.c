/* ja_lines.c - test helper: each line of stdin through the Japanese front end, one line of
 * phonemes out per line in (an empty line when it has none), with one dictionary load. With
 * --rss it prints the resident memory (kB) before and after the first line to stderr. */
#include "kokoro.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rss.h"

int main(int argc, char **argv)
{
    int rss = argc > 1 && strcmp(argv[1], "--rss") == 0;
    char err[512];
    kokoro_text *t = NULL;
    if (kokoro_text_new(NULL, &t, err, sizeof err) != KOKORO_OK) {
        fprintf(stderr, "ja_lines: %s\n", err);
        return 1;
    }
    static char line[1 << 16];
    long before = rss_kb();
    int first = 1;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        char *ph = NULL;
        if (kokoro_phonemize(t, line, "ja", &ph, err, sizeof err) != KOKORO_OK) {
            fprintf(stderr, "ja_lines: %s\n", err);
            kokoro_text_free(t);
            return 1;
        }
        puts(ph);
        free(ph);
        if (rss && first)
            fprintf(stderr, "ja_lines: rss before %ld kB, after the first line %ld kB\n", before,
                    rss_kb());
        first = 0;
    }
    kokoro_text_free(t);
    return 0;
}
