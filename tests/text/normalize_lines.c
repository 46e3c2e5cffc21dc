/* normalize_lines.c - test helper: each line of stdin through the English normaliser
 * (en-us, or en-gb with -b), one line out per line in. Used to score ASR output "as spoken". */
#include "text/text_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    int british = argc > 1 && strcmp(argv[1], "-b") == 0;
    char line[65536];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        char *out = NULL;
        if (kk_normalize_en(line, british, &out) != KOKORO_OK)
            return 1;
        for (char *p = out; *p; p++)
            if (*p == '\n')
                *p = ' ';
        puts(out);
        free(out);
    }
    return 0;
}
