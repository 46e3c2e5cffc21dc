/* check.h - the few assertion helpers the C tests share (text and engine). */
#ifndef KK_TEST_CHECK_H
#define KK_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: FAIL %s: ", __FILE__, __LINE__, #cond);                   \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
            check_failures++;                                                                  \
        }                                                                                      \
    } while (0)

#define CHECK_STR(got, want)                                                                   \
    CHECK((got) && strcmp((got), (want)) == 0, "got \"%s\", want \"%s\"", (got) ? (got) : "(null)", \
          (want))

/* Relative L2 difference of got against want (1 when want is all zeros). */
static inline double check_rel_l2(const float *got, const float *want, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += (got[i] - want[i]) * (double)(got[i] - want[i]);
        den += (double)want[i] * want[i];
    }
    return den > 0 ? sqrt(num / den) : 1;
}

/* Exit status of a test program. */
static int check_done(const char *name)
{
    if (check_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}

#endif
