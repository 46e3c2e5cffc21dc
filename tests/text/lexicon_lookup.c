/* lexicon_lookup.c - test helper: loads a dialect's dictionaries and answers lookups, one per
 * stdin line "word<TAB>tag" (tag "-" for none) with "pronunciation" or "-" on stdout. */
#include "text/text_int.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: lexicon_lookup DIR us|gb < queries\n");
        return 2;
    }
    kk_lexicon *lx;
    char err[256], line[4096];
    if (kk_lexicon_load(argv[1], argv[2], &lx, err, sizeof err) != KOKORO_OK) {
        fprintf(stderr, "lexicon_lookup: %s\n", err);
        return 1;
    }
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        char *tab = strchr(line, '\t');
        const char *tag = NULL;
        if (tab) {
            *tab = 0;
            tag = strcmp(tab + 1, "-") == 0 ? NULL : tab + 1;
        }
        const char *ph = kk_lexicon_get(lx, line, strlen(line), tag);
        puts(ph ? ph : "-");
    }
    kk_lexicon_free(lx);
    return 0;
}
