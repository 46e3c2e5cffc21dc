/* test_frontend.c - the front-end errors users found, one row each: the text as written must
 * sound exactly like a plain rewording of it (both through kokoro_phonemize). The table grows
 * with every error fixed (issue 12 onwards). */
#include "check.h"
#include "kokoro.h"

static const struct {
    const char *lang, *written, *said;
} ROWS[] = {
    /* issue 12: "U.S." was /ʌs/, the dictionary's "US" */
    {"en-us", "The U.S. Navy sailed.", "The U-S Navy sailed."},
    /* issue 12: "1-800-555-0199" was "one to eight zero zero ..." */
    {"en-us", "Call 1-800-555-0199 today.", "Call one, eight zero zero, five five five, zero one nine nine today."},
    {"en-us", "Call 1.800.555.0199 today.", "Call one, eight zero zero, five five five, zero one nine nine today."},
    /* issue 12: "read" after a subject in a sentence about the past is past tense */
    {"en-us", "I read the book yesterday.", "I red the book yesterday."},
    {"en-us", "Yesterday we read three chapters.", "Yesterday we red three chapters."},
    {"en-us", "He read it twice.", "He red it twice."},
    {"en-us", "They read it two years ago.", "They red it two years ago."},
    {"en-gb", "I read the book yesterday.", "I red the book yesterday."},
    /* ... and stays present where it is */
    {"en-us", "I read books every day.", "I reed books every day."},
    {"en-us", "I will read it tomorrow, as I did yesterday.", "I will reed it tomorrow, as I did yesterday."},
    {"en-us", "Yesterday she wanted to read.", "Yesterday she wanted to reed."},
    /* issue 12: runs of more than 39 digits lost their tail; now every digit is read */
    {"en-us", "Key 1234567890123456789012345678901234567890123 ok.",
     "Key one two three four five six seven eight nine zero one two three four five six seven "
     "eight nine zero one two three four five six seven eight nine zero one two three four five "
     "six seven eight nine zero one two three ok."},
};

int main(void)
{
    char err[256];
    kokoro_text *t = NULL;
    if (kokoro_text_new(NULL, &t, err, sizeof err) != KOKORO_OK) {
        fprintf(stderr, "test_frontend: %s\n", err);
        return 1;
    }
    int n = (int)(sizeof ROWS / sizeof ROWS[0]);
    for (int i = 0; i < n; i++) {
        char *a = NULL, *b = NULL;
        CHECK(kokoro_phonemize(t, ROWS[i].written, ROWS[i].lang, &a, err, sizeof err) == KOKORO_OK,
              "%s", err);
        CHECK(kokoro_phonemize(t, ROWS[i].said, ROWS[i].lang, &b, err, sizeof err) == KOKORO_OK,
              "%s", err);
        CHECK(a && b && strcmp(a, b) == 0, "[%s] \"%s\"\n    reads  %s\n    wanted %s", ROWS[i].lang,
              ROWS[i].written, a ? a : "", b ? b : "");
        free(a);
        free(b);
    }
    kokoro_text_free(t);
    printf("%d front-end rows\n", n);
    return check_done("test_frontend");
}
