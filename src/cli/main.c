/* main.c - the kokoro program: say, phonemize, bench, dump and serve, on top of libkokoro. */
#include "kokoro.h"
#include "kokoro_debug.h" /* the engine hooks bench and dump use */
#include "core/buf.h"
#include "core/clock.h"
#include "server/server.h"

#include <errno.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>


static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

/* The process's resident memory now, in MB (0 when /proc is not there). */
static double rss_mb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

/* Common options of the synthesis commands. */
typedef struct {
    const char *model, *voices, *voice, *lang, *out, *file, *text, *ids;
    const char *user_lexicon; /* --user-lexicon (else $KOKORO_USER_LEXICON) */
    const char *captions;     /* --captions FILE.srt|FILE.vtt */
    kokoro_norm_options norm; /* --normalization (kokoro_norm_defaults() otherwise) */
    float speed;
    int threads, runs, print_ids, seed_set, direct_conv, no_fft;
    unsigned long long seed;
} opts;

static void usage_say(FILE *f)
{
    fprintf(f,
            "usage: kokoro say [options] -o OUT \"text\"   (text also from -f FILE or stdin)\n"
            "  -o, --output OUT   audio file; the format follows the extension:\n"
            "                     .wav .mp3 .ogg (Vorbis) .opus .flac .aac .pcm (s16le 24 kHz)\n"
            "  -f, --file FILE    read the text from FILE ('-' = stdin)\n"
            "  --voice V          voice or blend, e.g. af_heart, af_bella(2)+af_sky(1)\n"
            "                     (default $KOKORO_VOICE or af_heart)\n"
            "  --speed S          0.25 .. 4.0 (default 1.0)\n"
            "  --lang L           en-us, en-gb, es, fr, hi, it, pt-br, ja (default: from the voice)\n"
            "  --threads N        threads for one synthesis (default 1)\n"
            "  --seed N           seed of the voice's source noise (default fixed)\n"
            "  --model PATH       ONNX model (default $KOKORO_MODEL or models/kokoro.onnx)\n"
            "  --voices PATH      voices folder or voices-v1.0.bin (default $KOKORO_VOICES or\n"
            "                     models/voices)\n"
            "  --user-lexicon F   JSON {\"word\": \"phonemes\"} that wins over the dictionaries\n"
            "                     (default $KOKORO_USER_LEXICON)\n"
            "  --captions FILE    also write captions of the words as written: FILE.srt or\n"
            "                     FILE.vtt (SubRip or WebVTT, by the extension)\n"
            "  --normalization L  English normalisation switches, Kokoro-FastAPI's names:\n"
            "                     NAME=true|false,... of normalize, unit_normalization,\n"
            "                     url_normalization, email_normalization, phone_normalization,\n"
            "                     optional_pluralization_normalization, replace_remaining_symbols\n"
            "                     (default: all true)\n"
            "Text starting with <speak is SSML; plain text may hold [pause:1.5s] and\n"
            "[word](/phonemes/) (docs/text.md).\n"
            "A progress bar is drawn on stderr when it is a terminal.\n");
}

static void usage_main(FILE *f)
{
    fprintf(f,
            "usage: kokoro COMMAND [options]\n"
            "  say        text to an audio file          (kokoro say --help)\n"
            "  phonemize  print the phonemes the engine gets for a text\n"
            "  serve      the HTTP API on port 8000       (kokoro serve --help)\n"
            "  bench      real-time factor, time per stage and peak memory\n"
            "  dump       run phoneme ids and write the intermediate tensors (parity tests)\n");
}

/* Parses "name=true,name=false" into o. Returns 0, or -1 after saying what is wrong. */
static int parse_norm(const char *spec, kokoro_norm_options *o)
{
    static const char *const names[] = {"normalize", "unit_normalization", "url_normalization",
                                        "email_normalization", "phone_normalization",
                                        "optional_pluralization_normalization",
                                        "replace_remaining_symbols"};
    int *fields[] = {&o->normalize, &o->unit_normalization, &o->url_normalization,
                     &o->email_normalization, &o->phone_normalization,
                     &o->optional_pluralization_normalization, &o->replace_remaining_symbols};
    for (const char *p = spec; *p;) {
        size_t n = strcspn(p, ","), eq = strcspn(p, "=");
        int k = -1, v = -1;
        for (int i = 0; i < 7 && eq < n; i++)
            if (strlen(names[i]) == eq && strncmp(p, names[i], eq) == 0) k = i;
        if (eq < n && n - eq - 1 == 4 && strncmp(p + eq + 1, "true", 4) == 0) v = 1;
        if (eq < n && n - eq - 1 == 5 && strncmp(p + eq + 1, "false", 5) == 0) v = 0;
        if (k < 0 || v < 0) {
            fprintf(stderr, "kokoro: --normalization takes NAME=true|false,... (names in --help), "
                            "not \"%.*s\"\n", (int)n, p);
            return -1;
        }
        *fields[k] = v;
        p += n + (p[n] == ',');
    }
    return 0;
}

/* Parses options shared by the commands; positional text goes to o->text. Returns 0, 1 for
 * --help, -1 for an error (already reported). */
static int parse_opts(int argc, char **argv, opts *o, void (*usage)(FILE *))
{
    o->model = env_or("KOKORO_MODEL", "models/kokoro.onnx");
    o->voices = env_or("KOKORO_VOICES", "models/voices");
    o->voice = env_or("KOKORO_VOICE", "af_heart");
    o->speed = 1.0f;
    o->threads = 1;
    o->runs = 3;
    o->norm = kokoro_norm_defaults();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE(flag)                                                                              \
    (!strcmp(a, flag) && (v ? (i++, 1) : (fprintf(stderr, "kokoro: %s needs a value\n", flag), \
                                           exit(2), 0)))
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        } else if (TAKE("-o") || TAKE("--output") || TAKE("--out")) {
            o->out = v;
        } else if (TAKE("-f") || TAKE("--file")) {
            o->file = v;
        } else if (TAKE("--voice")) {
            o->voice = v;
        } else if (TAKE("--captions")) {
            o->captions = v;
        } else if (TAKE("--normalization")) {
            if (parse_norm(v, &o->norm)) return -1;
        } else if (TAKE("--user-lexicon")) {
            o->user_lexicon = v;
        } else if (TAKE("--voices")) {
            o->voices = v;
        } else if (TAKE("--model")) {
            o->model = v;
        } else if (TAKE("--lang")) {
            o->lang = v;
        } else if (TAKE("--ids")) {
            o->ids = v;
        } else if (TAKE("--text")) {
            o->text = v;
        } else if (TAKE("--speed")) {
            char *end;
            o->speed = strtof(v, &end);
            if (*end || !(o->speed >= KOKORO_SPEED_MIN && o->speed <= KOKORO_SPEED_MAX)) {
                fprintf(stderr, "kokoro: --speed must be a number from %g to %g\n",
                        (double)KOKORO_SPEED_MIN, (double)KOKORO_SPEED_MAX);
                return -1;
            }
        } else if (TAKE("--threads") || TAKE("--runs") || TAKE("--seed")) {
            char *end;
            errno = 0;
            long n = strtol(v, &end, 10);
            if (*end || errno || n < (strcmp(a, "--seed") ? 1 : 0) || n > 1000000) {
                fprintf(stderr, "kokoro: %s takes a positive integer\n", a);
                return -1;
            }
            if (!strcmp(a, "--threads")) o->threads = (int)n;
            else if (!strcmp(a, "--runs")) o->runs = (int)n;
            else o->seed = (unsigned long long)n, o->seed_set = 1;
        } else if (!strcmp(a, "--print-ids")) {
            o->print_ids = 1;
        } else if (!strcmp(a, "--direct-conv")) {
            o->direct_conv = 1;
        } else if (!strcmp(a, "--no-fft")) {
            o->no_fft = 1;
        } else if (!strcmp(a, "--print-chunks")) {
            o->print_ids = 2;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "kokoro: unknown option %s (see --help)\n", a);
            return -1;
        } else if (!o->text) {
            o->text = a;
        } else {
            fprintf(stderr, "kokoro: give the text as one argument (quote it)\n");
            return -1;
        }
#undef TAKE
    }
    return 0;
}

/* Reads a whole file (or stdin for "-") into a NUL-terminated buffer (malloc'd). Returns
 * NULL when it cannot be opened or memory runs out. */
static char *slurp(const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) return NULL;
    kk_buf b = {0};
    int ok = 1;
    for (size_t n = 1; ok && n > 0;) {
        ok = kk_buf_reserve(&b, 1 << 16) == 0;
        n = ok ? fread(b.p + b.n, 1, b.cap - b.n - 1, f) : 0;
        b.n += n;
        if (ok) b.p[b.n] = 0;
    }
    if (f != stdin) fclose(f);
    if (!ok) kk_buf_free(&b);
    return kk_buf_take(&b, NULL);
}

static const char *ext_format(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot && !strchr(dot, '/') ? dot + 1 : "wav";
}

/* The model, the chosen voice and one state: what say, bench and dump each open. */
typedef struct {
    kokoro_model *model;
    kokoro_voices *voices;
    kokoro_state *st;
    float *pack;
    double load_s;   /* seconds to load the model */
    double model_mb; /* resident memory the model added */
} engine;

/* Opens voices (a folder, an archive, or one .bin file when voice_file is set), blends the
 * voice, loads the model and makes a state. Returns a kokoro_status; close() in any case. */
static int engine_open(engine *e, const opts *o, int voice_file, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    if (!(e->pack = malloc(KOKORO_VOICE_FLOATS * sizeof *e->pack)))
        return snprintf(err, errlen, "out of memory"), KOKORO_E_NOMEM;
    int rc = kokoro_voices_load(voice_file ? o->voice : o->voices, &e->voices, err, errlen);
    if (!rc)
        rc = kokoro_voice_blend(e->voices, voice_file ? kokoro_voices_name(e->voices, 0) : o->voice,
                                e->pack, err, errlen);
    double t = kk_now(), rss0 = rss_mb();
    if (!rc) rc = kokoro_model_load(o->model, &e->model, err, errlen);
    e->load_s = kk_now() - t;
    e->model_mb = rss_mb() - rss0;
    if (!rc && !(e->st = kokoro_state_new(e->model, o->threads))) {
        snprintf(err, errlen, "out of memory");
        rc = KOKORO_E_NOMEM;
    }
    return rc;
}

static void engine_close(engine *e)
{
    kokoro_state_free(e->st);
    kokoro_model_free(e->model);
    kokoro_voices_free(e->voices);
    free(e->pack);
}

/* ------------------------------------------------------------------ say */

typedef struct {
    FILE *f;
    kokoro_encoder *enc;
    size_t samples;
    int tty;
    size_t done_bytes, total_bytes;
    double t0;
    /* --captions: every word of the whole text, times and offsets from its start */
    kokoro_word_time *words;
    int n_words, cap_words, words_oom;
    double block_s;    /* where the current block's audio starts */
    long block_offset; /* where the current block starts in the text */
} say_ctx;

/* Keeps a block's word timings, moved to the whole output and the whole text. */
static void on_words(const kokoro_word_time *w, int n, void *user)
{
    say_ctx *c = user;
    for (int i = 0; i < n && !c->words_oom; i++) {
        kokoro_word_time *nw = kk_grow(c->words, c->n_words + 1, &c->cap_words, sizeof *nw, 256);
        if (!nw) {
            c->words_oom = 1;
            return;
        }
        c->words = nw;
        kokoro_word_time t = w[i];
        t.word = strdup(w[i].word ? w[i].word : "");
        t.written = w[i].written ? strdup(w[i].written) : NULL;
        if (!t.word || (w[i].written && !t.written)) {
            free((char *)t.word);
            free((char *)t.written);
            c->words_oom = 1;
            return;
        }
        t.start_s += c->block_s;
        t.end_s += c->block_s;
        if (t.src_start >= 0) {
            t.src_start += c->block_offset;
            t.src_end += c->block_offset;
        }
        c->words[c->n_words++] = t;
    }
}

/* Writes the captions of the words kept by on_words. Returns a kokoro_status. */
static int write_captions(say_ctx *c, const char *path, const char *text, char *err,
                          size_t errlen)
{
    if (c->words_oom)
        return snprintf(err, errlen, "out of memory keeping the word timings"), KOKORO_E_NOMEM;
    char *cap = NULL;
    int rc = kokoro_captions(c->words, c->n_words, text, strcmp(ext_format(path), "vtt") == 0,
                             &cap, err, errlen);
    FILE *f = rc ? NULL : fopen(path, "wb");
    if (!rc && (!f || fputs(cap, f) < 0 || fclose(f) != 0)) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        rc = KOKORO_E_IO;
    }
    free(cap);
    return rc;
}

static int write_file(const void *data, size_t n, void *user)
{
    say_ctx *c = user;
    return fwrite(data, 1, n, c->f) == n ? 0 : -1;
}

static void progress(say_ctx *c, size_t extra)
{
    if (!c->tty || !c->total_bytes) return;
    double frac = (double)(c->done_bytes + extra) / c->total_bytes;
    if (frac > 1) frac = 1;
    int w = 30, filled = (int)(frac * w);
    fprintf(stderr, "\r[%.*s%*s] %3d%%  %.0f s of audio", filled,
            "##############################", w - filled, "", (int)(frac * 100),
            c->samples / (double)KOKORO_SAMPLE_RATE);
    fflush(stderr);
}

static int on_audio(const float *s, size_t n, void *user)
{
    say_ctx *c = user;
    c->samples += n;
    progress(c, 0);
    return kokoro_encoder_write(c->enc, s, n) == KOKORO_OK ? 0 : -1;
}

/* Cuts text into blocks of about 4 KB ending at a line or sentence end, so that very long
 * input is synthesised (and its memory released) block by block. Returns the block length. */
static size_t next_block(const char *s)
{
    size_t len = strlen(s), limit = 4096;
    if (len <= limit) return len;
    size_t best = 0;
    for (size_t i = limit / 2; i < limit; i++) {
        if (s[i] == '\n') best = i + 1;
        else if (!best && (s[i] == '.' || s[i] == '!' || s[i] == '?') && s[i + 1] == ' ')
            best = i + 2;
    }
    if (!best)
        for (size_t i = limit; i > limit / 2; i--)
            if (s[i] == ' ') return i + 1;
    return best ? best : limit;
}

/* A WAV streamed to a seekable file gets its real sizes written at the end. */
static void fix_wav_sizes(FILE *f, size_t samples)
{
    if (fseek(f, 0, SEEK_END) != 0) return;
    long end = ftell(f);
    uint32_t data = (uint32_t)(samples * 2), riff = (uint32_t)(end - 8);
    if (end < 44 || (size_t)end != 44 + samples * 2) return; /* not our plain 44-byte header */
    if (fseek(f, 4, SEEK_SET) == 0) fwrite(&riff, 4, 1, f);
    if (fseek(f, 40, SEEK_SET) == 0) fwrite(&data, 4, 1, f);
}

static int cmd_say(int argc, char **argv)
{
    opts o = {0};
    int r = parse_opts(argc, argv, &o, usage_say);
    if (r) return r > 0 ? 0 : 2;
    if (!o.out) {
        fprintf(stderr, "kokoro say: -o OUT is required (see --help)\n");
        return 2;
    }
    char *owned = NULL;
    const char *text = o.text;
    if (o.file || !text) {
        owned = slurp(o.file ? o.file : "-");
        if (!owned) {
            fprintf(stderr, "kokoro say: cannot read %s: %s\n", o.file ? o.file : "stdin",
                    strerror(errno));
            return 1;
        }
        text = owned;
    }
    if (o.captions && strcmp(ext_format(o.captions), "srt") && strcmp(ext_format(o.captions), "vtt")) {
        fprintf(stderr, "kokoro say: --captions takes a .srt or .vtt file, not %s\n", o.captions);
        free(owned);
        return 2;
    }
    kokoro_format fmt;
    if (kokoro_format_parse(ext_format(o.out), &fmt)) {
        fprintf(stderr, "kokoro say: unknown output format .%s (wav mp3 ogg opus flac aac pcm)\n",
                ext_format(o.out));
        free(owned);
        return 2;
    }
    char err[512];
    kokoro_text *tf = NULL;
    engine e = {0};
    say_ctx c = {0};
    const char *lang = o.lang ? o.lang : kokoro_lang_of_voice(o.voice);
    if (!lang) lang = "en-us";
    int rc = kokoro_text_new(NULL, &tf, err, sizeof err);
    if (!rc && o.user_lexicon) rc = kokoro_text_user_lexicon(tf, o.user_lexicon, err, sizeof err);
    if (!rc) rc = engine_open(&e, &o, 0, err, sizeof err);
    if (!rc && !(c.f = fopen(o.out, "wb+"))) {
        snprintf(err, sizeof err, "cannot write %s: %s", o.out, strerror(errno));
        rc = KOKORO_E_IO;
    }
    if (!rc) rc = kokoro_encoder_new(fmt, KOKORO_SAMPLE_RATE, 1, write_file, &c, &c.enc, err, sizeof err);
    if (!rc) {
        c.tty = isatty(2);
        c.total_bytes = strlen(text);
        c.t0 = kk_now();
        kokoro_speak_params sp = kokoro_speak_defaults();
        sp.speed = o.speed;
        if (o.seed_set) sp.noise_seed = o.seed;
        sp.voices = e.voices; /* SSML <voice name> */
        if (o.captions) sp.on_words = on_words;
        sp.norm = &o.norm;
        int ssml = kokoro_is_ssml(text); /* one document: never cut into blocks */
        const char *p = text;
        while (!rc && *p) {
            size_t n = ssml ? strlen(p) : next_block(p);
            char *block = strndup(p, n);
            if (!block) {
                rc = KOKORO_E_NOMEM;
                break;
            }
            /* blocks with no speakable content (blank lines) are skipped, not errors */
            int only_space = 1;
            for (size_t i = 0; i < n; i++)
                if (!strchr(" \t\r\n", block[i])) only_space = 0;
            c.block_s = (double)c.samples / KOKORO_SAMPLE_RATE;
            c.block_offset = (long)(p - text);
            if (!only_space)
                rc = kokoro_speak(e.st, tf, block, lang, e.pack, &sp, on_audio, &c, err, sizeof err);
            free(block);
            p += n;
            if (!rc && !only_space && *p) { /* blocks end at a line or sentence: pause there */
                static const float silence[KOKORO_SAMPLE_RATE / 5];
                if (on_audio(silence, sizeof silence / sizeof *silence, &c)) {
                    snprintf(err, sizeof err, "cannot write %s: %s", o.out,
                             kokoro_encoder_error(c.enc) ? kokoro_encoder_error(c.enc) : "write failed");
                    rc = KOKORO_E_IO;
                }
            }
            c.done_bytes += n;
            progress(&c, 0);
        }
        if (!rc) rc = kokoro_encoder_finish(c.enc);
        if (c.tty) fputc('\n', stderr);
        if (!rc && o.captions) rc = write_captions(&c, o.captions, text, err, sizeof err);
    }
    if (!rc && fmt == KOKORO_FMT_WAV) fix_wav_sizes(c.f, c.samples);
    if (c.f && fclose(c.f) && !rc) {
        snprintf(err, sizeof err, "cannot write %s: %s", o.out, strerror(errno));
        rc = KOKORO_E_IO;
    }
    if (rc) {
        fprintf(stderr, "kokoro say: %s\n", err);
        if (c.f) remove(o.out);
    } else {
        double secs = kk_now() - c.t0, audio = c.samples / (double)KOKORO_SAMPLE_RATE;
        fprintf(stderr, "kokoro say: %s: %.2f s of audio in %.2f s (RTF %.3f)\n", o.out, audio,
                secs, audio > 0 ? secs / audio : 0.0);
    }
    kokoro_encoder_free(c.enc);
    for (int i = 0; i < c.n_words; i++) {
        free((char *)c.words[i].word);
        free((char *)c.words[i].written);
    }
    free(c.words);
    engine_close(&e);
    kokoro_text_free(tf);
    free(owned);
    return rc ? 1 : 0;
}

/* ------------------------------------------------------------------ phonemize */

static void usage_phonemize(FILE *f)
{
    fprintf(f, "usage: kokoro phonemize [--lang L] \"text\"   (text also from -f FILE or stdin)\n"
               "Prints the phoneme string the engine gets (default language en-us).\n");
}

static int cmd_phonemize(int argc, char **argv)
{
    opts o = {0};
    int r = parse_opts(argc, argv, &o, usage_phonemize);
    if (r) return r > 0 ? 0 : 2;
    char *owned = NULL;
    const char *text = o.text;
    if (o.file || !text) {
        if (!(owned = slurp(o.file ? o.file : "-"))) {
            fprintf(stderr, "kokoro phonemize: cannot read input: %s\n", strerror(errno));
            return 1;
        }
        text = owned;
    }
    char err[512], *ph = NULL;
    kokoro_text *tf = NULL;
    int rc = kokoro_text_new(NULL, &tf, err, sizeof err);
    if (!rc) rc = kokoro_phonemize(tf, text, o.lang ? o.lang : "en-us", &ph, err, sizeof err);
    if (rc) fprintf(stderr, "kokoro phonemize: %s\n", err);
    else printf("%s\n", ph);
    free(ph);
    kokoro_text_free(tf);
    free(owned);
    return rc ? 1 : 0;
}

/* ------------------------------------------------------------------ bench and dump */

static int parse_ids(const char *s, int32_t *ids, int max)
{
    int n = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > 177 || n >= max) return -1;
        ids[n++] = (int32_t)v;
        s = end;
        if (*s == ',') s++;
        else if (*s) return -1;
    }
    return n;
}

static const char *bench_text =
    "The old lighthouse keeper climbed the spiral stairs every evening, counting each of the "
    "one hundred and twelve steps. From the top he could see the whole bay: fishing boats "
    "returning with their nets, gulls circling above the harbour, and the long shadow of the "
    "cliffs stretching across the water as the sun went down.";

static void usage_bench(FILE *f)
{
    fprintf(f, "usage: kokoro bench [--threads N] [--runs N] [--ids 1,2,..] [--text T] "
               "[--voice V] [--print-ids] [--print-chunks] [--direct-conv] [--no-fft]\n"
               "Synthesises one utterance (default: a 60-word paragraph) --runs times after a "
               "warm-up and prints key value lines: rtf (compute s per audio s, best run), "
               "time per stage, peak RSS. --direct-conv: no Winograd, no FFT (the reference path);\n"
               "--no-fft: Winograd for the long convolutions too.\n");
}

static int cmd_bench(int argc, char **argv)
{
    opts o = {0};
    int r = parse_opts(argc, argv, &o, usage_bench);
    if (r) return r > 0 ? 0 : 2;
    char err[512];
    int32_t ids[KOKORO_MAX_PHONEMES];
    int n = 0, rc = KOKORO_OK;
    if (o.ids) {
        n = parse_ids(o.ids, ids, KOKORO_MAX_PHONEMES);
        if (n < 1) {
            fprintf(stderr, "kokoro bench: --ids takes 1 to 510 comma-separated ids 0..177\n");
            return 2;
        }
    } else {
        kokoro_text *tf = NULL;
        char *ph = NULL;
        rc = kokoro_text_new(NULL, &tf, err, sizeof err);
        if (!rc) rc = kokoro_phonemize(tf, o.text ? o.text : bench_text, "en-us", &ph, err, sizeof err);
        if (!rc) {
            n = kokoro_tokenize(ph, ids, KOKORO_MAX_PHONEMES);
            if (n > KOKORO_MAX_PHONEMES) n = KOKORO_MAX_PHONEMES;
        }
        free(ph);
        kokoro_text_free(tf);
        if (rc) {
            fprintf(stderr, "kokoro bench: %s\n", err);
            return 1;
        }
    }
    if (o.print_ids == 2) { /* the chunks kokoro_speak would make of the text, one per line */
        kokoro_text *tf = NULL;
        kokoro_chunk *ch = NULL;
        int nc = 0;
        rc = kokoro_text_new(NULL, &tf, err, sizeof err);
        if (!rc) rc = kokoro_text_chunks(tf, o.text ? o.text : bench_text, "en-us", NULL, &ch, &nc,
                                         err, sizeof err);
        for (int c = 0; !rc && c < nc; c++) {
            for (int i = 0; i < ch[c].n_ids; i++) printf("%s%d", i ? "," : "", ch[c].ids[i]);
            printf("\n");
        }
        kokoro_chunks_free(ch, nc);
        kokoro_text_free(tf);
        if (rc) fprintf(stderr, "kokoro bench: %s\n", err);
        return rc ? 1 : 0;
    }
    if (o.print_ids) {
        for (int i = 0; i < n; i++) printf("%s%d", i ? "," : "", ids[i]);
        printf("\n");
        return 0;
    }
    engine e = {0};
    rc = engine_open(&e, &o, 0, err, sizeof err);
    if (!rc) kokoro_debug_direct_conv(e.st, o.direct_conv);
    if (!rc) kokoro_debug_no_fft(e.st, o.no_fft);
    double best = 1e30, best_stage[KOKORO_DEBUG_STAGES] = {0};
    size_t samples = 0;
    kokoro_synth_params sp = kokoro_synth_defaults();
    sp.max_frames = -1; /* a tool measures the engine on any input */
    for (int run = 0; !rc && run <= o.runs; run++) { /* run 0 is the warm-up */
        float *audio = NULL;
        double t = kk_now();
        rc = kokoro_synthesize(e.st, ids, n, kokoro_voice_row(e.pack, n), &sp, &audio, &samples, err,
                               sizeof err);
        t = kk_now() - t;
        free(audio);
        if (!rc && run > 0 && t < best) {
            best = t;
            memcpy(best_stage, kokoro_debug_stage_seconds(e.st), sizeof best_stage);
        }
    }
    if (rc) {
        fprintf(stderr, "kokoro bench: %s\n", err);
    } else {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double audio_s = samples / (double)KOKORO_SAMPLE_RATE;
        printf("threads %d\nphonemes %d\nruns %d\naudio_s %.3f\ncompute_s %.4f\nrtf %.4f\n",
               o.threads, n, o.runs, audio_s, best, best / audio_s);
        printf("kernels %s\n", kokoro_kernels());
        for (int i = 0; i < KOKORO_DEBUG_STAGES; i++)
            printf("stage_%s_s %.4f\n", kokoro_debug_stage_name(i), best_stage[i]);
        printf("load_s %.3f\nmodel_rss_mb %.1f\npeak_rss_mb %.1f\nend_rss_mb %.1f\n", e.load_s,
               e.model_mb, ru.ru_maxrss / 1024.0, rss_mb());
        int frames = (int)(samples / KOKORO_SAMPLES_PER_FRAME);
        size_t work = kokoro_state_peak_bytes(e.st);
        printf("frames %d\nwork_peak_mb %.1f\nwork_bytes_per_frame %.0f\n", frames,
               work / 1048576.0, frames ? (double)work / frames : 0.0);
    }
    engine_close(&e);
    return rc ? 1 : 0;
}

static void usage_dump(FILE *f)
{
    fprintf(f, "usage: kokoro dump --ids 1,2,.. --voice NAME|FILE.bin [--speed S] [--direct-conv] --out DIR\n"
               "Runs the ids with the source noise zeroed and writes DIR/<name>.f32 (float32) "
               "and DIR/<name>.shape for: durations f0 n asr decoder source har gen_pre audio.\n");
}

static int cmd_dump(int argc, char **argv)
{
    opts o = {0};
    int r = parse_opts(argc, argv, &o, usage_dump);
    if (r) return r > 0 ? 0 : 2;
    int32_t ids[KOKORO_MAX_PHONEMES];
    int n = o.ids ? parse_ids(o.ids, ids, KOKORO_MAX_PHONEMES) : -1;
    if (n < 1 || !o.out) {
        usage_dump(stderr);
        return 2;
    }
    char err[512];
    float *audio = NULL;
    size_t ns;
    engine e = {0};
    /* --voice may be a .bin file path or a name in --voices */
    int rc = engine_open(&e, &o, strchr(o.voice, '/') || strstr(o.voice, ".bin"), err, sizeof err);
    if (!rc) {
        kokoro_debug_keep_tensors(e.st, 1);
        kokoro_debug_direct_conv(e.st, o.direct_conv);
        kokoro_debug_no_fft(e.st, o.no_fft);
        kokoro_synth_params sp = kokoro_synth_defaults();
        sp.max_frames = -1; /* a tool: the parity references go up to 510 ids */
        sp.speed = o.speed;
        sp.zero_noise = 1;
        rc = kokoro_synthesize(e.st, ids, n, kokoro_voice_row(e.pack, n), &sp, &audio, &ns, err,
                               sizeof err);
    }
    static const char *const names[] = {"durations", "f0", "n", "asr", "decoder",
                                        "source", "har", "gen_pre", "audio"};
    for (int i = 0; !rc && i < 9; i++) {
        const float *d;
        int dims[3];
        if (kokoro_state_tensor(e.st, names[i], &d, dims)) continue;
        char path[4096];
        /* 1-D tensors are stored as [n][1]: write their shape as one dimension */
        snprintf(path, sizeof path, "%s/%s.f32", o.out, names[i]);
        FILE *f = fopen(path, "wb");
        size_t cnt = (size_t)dims[0] * dims[1];
        if (!f || fwrite(d, sizeof *d, cnt, f) != cnt) rc = KOKORO_E_IO;
        if (f) fclose(f);
        snprintf(path, sizeof path, "%s/%s.shape", o.out, names[i]);
        f = fopen(path, "w");
        if (!f) rc = KOKORO_E_IO;
        else {
            if (dims[1] == 1) fprintf(f, "%d\n", dims[0]);
            else fprintf(f, "%d %d\n", dims[0], dims[1]);
            fclose(f);
        }
        if (rc) snprintf(err, sizeof err, "cannot write into %s", o.out);
    }
    if (rc) fprintf(stderr, "kokoro dump: %s\n", err);
    free(audio);
    engine_close(&e);
    return rc ? 1 : 0;
}

/* A synthesis allocates its working memory afresh (tens of MB for a sentence) and frees it at
 * the end; glibc gave blocks over its mmap threshold back to the kernel at every free, and the
 * next synthesis faulted every page in again: 9,100 faults for "Hello from Kokoro.", 4-5% of
 * its time at one thread (best of 5, four rounds alternating: 0.462-0.490 -> 0.438-0.470 s).
 * Blocks up to 32 MB now come from the heap, and up to 64 MB freed at its top stay there, so a
 * worker keeps what a short synthesis needs; a long one's larger blocks still go back. */
static void keep_working_memory(void)
{
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

int main(int argc, char **argv)
{
    keep_working_memory();
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage_main(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "say")) return cmd_say(argc - 1, argv + 1);
    if (!strcmp(cmd, "phonemize")) return cmd_phonemize(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench")) return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "dump")) return cmd_dump(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve")) return kk_serve_main(argc - 1, argv + 1);
    fprintf(stderr, "kokoro: unknown command '%s'\n", cmd);
    usage_main(stderr);
    return 2;
}
