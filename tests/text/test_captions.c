/* test_captions.c - words keep where they were written, and captions built from them are
 * readable: at most 2 lines of 42 characters per cue, cues end at sentence ends, lines break
 * at punctuation when they can, times never go back, every word is shown once and in order. */
#include "check.h"
#include "text/text_int.h"

/* Each word the front end reads, with the bytes of the input it came from. */
static void test_written_words(kokoro_text *t)
{
    static const struct {
        const char *in, *read, *written;
    } W[] = {
        {"Dr. Smith paid $25.50 today.", "Doctor", "Dr."},
        {"Dr. Smith paid $25.50 today.", "dollars", "$25.50"},
        {"Dr. Smith paid $25.50 today.", "today", "today"},
        {"Call 1-800-555-0199, please.", "nine", "1-800-555-0199"},
        {"It's 7:30 PM in Zürich.", "Zürich", "Zürich"},
        {"It's 7:30 PM in Zürich.", "It's", "It's"},
        {"Visit https://www.example.com/docs now.", "dot", "https://www.example.com/docs"},
        {"The U.S. Navy sailed.", "Navy", "Navy"},
        {"A well-known fact.", "well-known", "well-known"},
        {"word(s) matter", "words", "word(s)"},
    };
    const kk_lang *en = kk_lang_find("en-us");
    for (size_t i = 0; i < sizeof W / sizeof W[0]; i++) {
        kk_phon p = {0};
        char err[128];
        CHECK(kk_phonemize_words(t, W[i].in, en, &p, err, sizeof err) == KOKORO_OK, "%s", err);
        int found = 0;
        for (int k = 0; k < p.n_words && !found; k++) {
            if (strcmp(p.words[k].text, W[i].read) != 0)
                continue;
            found = 1;
            const kk_word *w = &p.words[k];
            int len = w->src_end - w->src_start;
            CHECK(len > 0 && (size_t)len == strlen(W[i].written) &&
                      memcmp(W[i].in + w->src_start, W[i].written, (size_t)len) == 0,
                  "\"%s\" in \"%s\": written \"%.*s\", want \"%s\"", W[i].read, W[i].in,
                  len > 0 ? len : 0, len > 0 ? W[i].in + w->src_start : "", W[i].written);
        }
        CHECK(found, "\"%s\" is not a word of \"%s\"", W[i].read, W[i].in);
        kk_phon_free(&p);
    }
}

static int utf8_chars(const char *s, size_t n)
{
    int c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static long long ms_of(const char *s, int vtt)
{
    int h, m, sec, ms;
    char sep;
    if (sscanf(s, "%d:%d:%d%c%d", &h, &m, &sec, &sep, &ms) != 5 || sep != (vtt ? '.' : ','))
        return -1;
    return ((h * 60LL + m) * 60 + sec) * 1000 + ms;
}

/* Parses the cues and checks the rules; returns the text of all cues, words joined by spaces. */
static char *check_cues(const char *cap, int vtt, const char *what)
{
    size_t cap_n = strlen(cap);
    char *all = calloc(1, cap_n + 1);
    char *copy = strdup(cap);
    CHECK(!vtt || strncmp(cap, "WEBVTT\n\n", 8) == 0, "%s: no WEBVTT header", what);
    char *save = NULL, *line = strtok_r(copy + (vtt ? 8 : 0), "\n", &save);
    long long last_end = 0;
    int cue = 0, state = 0, lines = 0;
    while (line) {
        if (state == 0 && !vtt) { /* cue number */
            CHECK(atoi(line) == cue + 1, "%s: cue %d numbered \"%s\"", what, cue + 1, line);
            state = 1;
        } else if (state <= 1) { /* times */
            char *arrow = strstr(line, " --> ");
            CHECK(arrow, "%s: no times in \"%s\"", what, line);
            long long a = arrow ? ms_of(line, vtt) : -1, b = arrow ? ms_of(arrow + 5, vtt) : -1;
            CHECK(a >= 0 && b >= a && a >= last_end, "%s: cue %d times %lld..%lld after %lld", what,
                  cue + 1, a, b, last_end);
            last_end = b;
            cue++;
            lines = 0;
            state = 2;
        } else { /* text */
            lines++;
            CHECK(lines <= 2, "%s: cue %d has a third line \"%s\"", what, cue, line);
            CHECK(utf8_chars(line, strlen(line)) <= 42, "%s: line of %d characters \"%s\"", what,
                  utf8_chars(line, strlen(line)), line);
            if (*all)
                strcat(all, " ");
            strcat(all, line);
        }
        /* a blank line (two newlines) ends a cue: strtok_r hides it, so look at the source */
        char *next = strtok_r(NULL, "\n", &save);
        if (next && state == 2 && next[-2] == '\0' && (next - copy) >= 2 && cap[next - copy - 2] == '\n')
            state = 0;
        line = next;
    }
    free(copy);
    CHECK(cue > 0, "%s: no cue", what);
    return all;
}

static void test_captions(void)
{
    const char *text =
        "Dr. Smith paid $25.50 at 7:30 PM, which surprised nobody. \"Call 1-800-555-0199,\" she "
        "said, \"or visit https://www.example.com/a/very/long/path/that/goes/on/and/on today!\" "
        "I read the book yesterday; it was long. Short one. Another sentence follows here & "
        "there <now> with a comma, a semicolon; and a dash \xe2\x80\x94 then the end.";
    /* the words of the text as the front end would time them: whitespace-separated, written
     * forms without their punctuation, 0.3 s each, with one backward step that must not show */
    kokoro_word_time w[128];
    char words[128][96];
    int n = 0;
    double t = 0.2;
    for (const char *p = text; *p && n < 128;) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        const char *a = p, *b = e;
        while (a < b && strchr("\"(", *a))
            a++;
        while (b > a && strchr(".,;:!?\")", b[-1]))
            b--;
        if (b > a) {
            snprintf(words[n], sizeof words[n], "%.*s", (int)(b - a), a);
            w[n] = (kokoro_word_time){words[n], t, t + 0.25, words[n], a - text, b - text};
            t += n == 10 ? -0.2 : 0.3; /* timings that step back once */
            n++;
        }
        p = e;
    }
    for (int vtt = 0; vtt <= 1; vtt++) {
        char *cap = NULL, err[128];
        CHECK(kokoro_captions(w, n, text, vtt, &cap, err, sizeof err) == KOKORO_OK, "%s", err);
        if (!cap)
            continue;
        char *all = check_cues(cap, vtt, vtt ? "vtt" : "srt");
        /* every written word, in order; VTT escapes its markup characters */
        const char *at = all;
        for (int i = 0; i < n && at; i++) {
            const char *wd = strcmp(words[i], "<now>") == 0 && vtt ? "&lt;now&gt;"
                             : strcmp(words[i], "&") == 0 && vtt ? "&amp;"
                                                                  : words[i];
            const char *f = strstr(at, wd);
            if (!f && strlen(wd) > 42) { /* a long word is cut over lines: its first 42 bytes */
                char head[43];
                memcpy(head, wd, 42);
                head[42] = 0;
                f = strstr(at, head);
            }
            CHECK(f, "%s: word %d \"%s\" missing or out of order", vtt ? "vtt" : "srt", i, wd);
            at = f ? f + (strlen(wd) > 42 ? 42 : strlen(wd)) : NULL;
        }
        /* cues end at sentence ends: "nobody." and "today!\"" close theirs */
        CHECK(strstr(cap, "nobody.\n\n") && strstr(cap, "today!\"\n\n") && strstr(cap, "long.\n\n"),
              "sentence ends do not end cues:\n%s", cap);
        /* "Dr." is a title, not a sentence end */
        CHECK(!strstr(cap, "Dr.\n\n"), "a cue ends at \"Dr.\":\n%s", cap);
        /* a two-line cue with a comma inside breaks its lines after it */
        CHECK(strstr(cap, "PM,\n"), "no line break after \"PM,\":\n%s", cap);
        if (check_failures)
            fprintf(stderr, "%s\n", cap);
        free(all);
        free(cap);
    }
    /* nothing to caption: an empty file (VTT: the header) */
    char *cap = NULL;
    CHECK(kokoro_captions(NULL, 0, NULL, 1, &cap, NULL, 0) == KOKORO_OK && cap &&
              strcmp(cap, "WEBVTT\n\n") == 0, "empty vtt");
    free(cap);
    CHECK(kokoro_captions(NULL, 3, NULL, 0, &cap, NULL, 0) == KOKORO_E_ARG, "NULL words accepted");
    /* words without their written form are shown as read */
    kokoro_word_time r[2] = {{"twenty", 0.1, 0.4, NULL, -1, -1}, {"five.", 0.4, 0.8, NULL, -1, -1}};
    CHECK(kokoro_captions(r, 2, "x", 0, &cap, NULL, 0) == KOKORO_OK && cap &&
              strcmp(cap, "1\n00:00:00,100 --> 00:00:00,800\ntwenty five.\n\n") == 0,
          "got \"%s\"", cap ? cap : "");
    free(cap);
    /* marked-up text: the punctuation after a rewritten word's end tag goes with it, the tags
     * never show, and a sentence end behind a tag still ends the cue */
    const char *ssml = "<speak>Visit the <sub alias=\"World Wide Web\">WWW</sub>, daily. Call "
                       "<say-as interpret-as=\"telephone\">555-0199</say-as>.</speak>";
    long www = strstr(ssml, "WWW") - ssml, tel = strstr(ssml, "555-") - ssml;
    long vis = strstr(ssml, "Visit") - ssml, the = strstr(ssml, "the") - ssml;
    long day = strstr(ssml, "daily") - ssml, cal = strstr(ssml, "Call") - ssml;
    kokoro_word_time m[6] = {{"Visit", 0.1, 0.4, "Visit", vis, vis + 5},
                             {"the", 0.4, 0.5, "the", the, the + 3},
                             {"World Wide Web", 0.5, 1.2, "WWW", www, www + 3},
                             {"daily", 1.2, 1.6, "daily", day, day + 5},
                             {"Call", 2.0, 2.3, "Call", cal, cal + 4},
                             {"five five five", 2.3, 3.5, "555-0199", tel, tel + 8}};
    CHECK(kokoro_captions(m, 6, ssml, 0, &cap, NULL, 0) == KOKORO_OK && cap &&
              strcmp(cap, "1\n00:00:00,100 --> 00:00:01,600\nVisit the WWW, daily.\n\n"
                          "2\n00:00:02,000 --> 00:00:03,500\nCall 555-0199.\n\n") == 0,
          "got \"%s\"", cap ? cap : "");
    free(cap);
    /* Japanese and Chinese words meet without a space; a Latin word next to them keeps none
     * either, two Latin words keep theirs */
    const char *ja = "\xe4\xbb\x8a\xe6\x97\xa5\xe3\x81\xaf iPhone \xe3\x81\xa7\xe3\x81\x99\xe3\x80\x82";
    kokoro_word_time j[4] = {{"\xe4\xbb\x8a\xe6\x97\xa5", 0.1, 0.4, NULL, -1, -1},
                             {"\xe3\x81\xaf", 0.4, 0.5, NULL, -1, -1},
                             {"iPhone", 0.5, 0.9, NULL, -1, -1},
                             {"\xe3\x81\xa7\xe3\x81\x99\xe3\x80\x82", 0.9, 1.3, NULL, -1, -1}};
    CHECK(kokoro_captions(j, 4, ja, 0, &cap, NULL, 0) == KOKORO_OK && cap &&
              strstr(cap, "\xe4\xbb\x8a\xe6\x97\xa5\xe3\x81\xafiPhone\xe3\x81\xa7\xe3\x81\x99\xe3\x80\x82\n"),
          "CJK words joined without spaces: \"%s\"", cap ? cap : "");
    free(cap);
    /* the same for Han past U+FFFF (4 UTF-8 bytes; U+20BB7 ends the first word): the
     * caption's own decoder read such a character as no character at all */
    const char *ext = "\xe9\x87\x8e\xf0\xa0\xae\xb7 iPhone";
    kokoro_word_time e[2] = {{"\xe9\x87\x8e\xf0\xa0\xae\xb7", 0.1, 0.4, NULL, -1, -1},
                             {"iPhone", 0.4, 0.9, NULL, -1, -1}};
    CHECK(kokoro_captions(e, 2, ext, 0, &cap, NULL, 0) == KOKORO_OK && cap &&
              strstr(cap, "\xe9\x87\x8e\xf0\xa0\xae\xb7iPhone\n"),
          "Han past U+FFFF joined without a space: \"%s\"", cap ? cap : "");
    free(cap);
}

int main(void)
{
    char err[256];
    kokoro_text *t = NULL;
    if (kokoro_text_new(NULL, &t, err, sizeof err) != KOKORO_OK) {
        fprintf(stderr, "test_captions: %s\n", err);
        return 1;
    }
    test_written_words(t);
    test_captions();
    kokoro_text_free(t);
    return check_done("test_captions");
}
