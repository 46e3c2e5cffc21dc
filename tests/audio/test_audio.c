/* test_audio.c - the audio encoders, checked the way a user would check them: encode a tone
 * sweep and speech-like bursts in every format, streaming and not, fed in uneven pieces, then
 * ask ffprobe and ffmpeg what the files are and what they sound like.
 *
 * Usage: test_audio OUTDIR   (files are left in OUTDIR for listening) */
#include "kokoro.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RATE 24000
#define N_IN (RATE * 6 + 777) /* a length no codec frame divides */

/* Lossy codecs, once aligned: the decoded signal must correlate with the input this well
 * overall, and in every 0.25 s window that carries sound both correlate this well below
 * 3 kHz and keep its level within this many dB. Measured values are printed. */
#define MIN_TOTAL_CORR 0.97
#define MIN_WINDOW_CORR 0.95
#define MAX_WINDOW_DB 2.0
/* Streaming: once 1.5 s were fed, the bytes out so far must decode to at least this much. */
#define MIN_PREFIX_S 1.25

static int failures;
static const char *outdir;

#define CHECK(cond, ...) check((cond), #cond, __LINE__, __VA_ARGS__)
static void check(int ok, const char *expr, int line, const char *fmt, ...)
{
    if (ok)
        return;
    failures++;
    fprintf(stderr, "FAIL line %d (%s): ", line, expr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* ---------------------------------------------------------------- the test signal */

static uint32_t rng = 12345;
static float frand(void) /* uniform in [-1, 1) */
{
    rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
    return (float)((double)rng / 2147483648.0 - 1.0);
}

/* 2.5 s logarithmic sweep 80 Hz .. 6 kHz, then syllables: a voiced buzz with a gliding pitch
 * and falling harmonics, fricative noise, pauses. One syllable is driven past full scale and
 * a NaN and an infinity are planted, which the encoder must clamp rather than pass on. */
static float *make_signal(void)
{
    float *x = xmalloc(N_IN * sizeof *x);
    const double two_pi = 6.283185307179586;
    size_t sweep = (size_t)(2.5 * RATE);
    double phase = 0;
    for (size_t i = 0; i < sweep; i++) {
        double t = (double)i / (double)sweep;
        double f = 80.0 * pow(6000.0 / 80.0, t);
        phase += two_pi * f / RATE;
        double fade = fmin(1.0, fmin((double)i, (double)(sweep - i)) / (0.02 * RATE));
        x[i] = (float)(0.6 * fade * sin(phase));
    }
    size_t i = sweep;
    int syllable = 0;
    double lp = 0, hp_prev = 0;
    while (i < N_IN) {
        size_t gap = (size_t)(RATE * (0.05 + 0.1 * (frand() + 1.0)));
        for (size_t k = 0; k < gap && i < N_IN; k++)
            x[i++] = 0.0f;
        size_t voiced = (size_t)(RATE * (0.15 + 0.075 * (frand() + 1.0)));
        double f0 = 110.0 + 35.0 * (frand() + 1.0), glide = 1.0 + 0.3 * frand();
        double gain = syllable == 3 ? 1.5 : 0.5; /* syllable 3 clips */
        phase = 0;
        for (size_t k = 0; k < voiced && i < N_IN; k++, i++) {
            double t = (double)k / (double)voiced;
            double f = f0 * (1.0 + (glide - 1.0) * t);
            phase += two_pi * f / RATE;
            double s = 0;
            for (int h = 1; h * f < 3500.0; h++)
                s += sin(h * phase) / h;
            double env = sin(3.141592653589793 * t);
            lp = 0.9 * lp + 0.1 * frand(); /* a little breath */
            x[i] = (float)(gain * env * (0.6 * s + 0.3 * lp));
        }
        size_t fric = (size_t)(RATE * 0.08);
        for (size_t k = 0; k < fric && i < N_IN; k++, i++) {
            double n = frand();
            double hp = n - hp_prev; /* high-passed noise, like an "s" */
            hp_prev = n;
            x[i] = (float)(0.12 * sin(3.141592653589793 * (double)k / (double)fric) * hp);
        }
        syllable++;
    }
    x[RATE * 3 + 5] = NAN;
    x[RATE * 4 + 7] = INFINITY;
    return x;
}

/* What every lossless format must give back: clamp, NaN -> 0, round(x * 32767). */
static int16_t reference_s16(float x)
{
    if (!(x == x))
        return 0;
    if (x > 1.0f)
        x = 1.0f;
    if (x < -1.0f)
        x = -1.0f;
    return (int16_t)lrintf(x * 32767.0f);
}

/* ---------------------------------------------------------------- a sink that records */

typedef struct {
    unsigned char *data;
    size_t len, cap;
    int calls;
    int abort_at_call; /* 0: never; k: return nonzero on the k-th call */
} sink;

static int sink_write(const void *data, size_t n, void *user)
{
    sink *s = user;
    s->calls++;
    if (s->abort_at_call && s->calls >= s->abort_at_call)
        return 1;
    if (n == 0)
        return 0;
    if (s->len + n > s->cap) {
        s->cap = (s->len + n) * 2;
        s->data = realloc(s->data, s->cap);
        if (!s->data) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
    }
    memcpy(s->data + s->len, data, n);
    s->len += n;
    return 0;
}

/* ---------------------------------------------------------------- asking ffmpeg */

/* Runs a command and returns its stdout (malloc'd, *len bytes), or NULL. */
static unsigned char *run(const char *cmd, size_t *len)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, p)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf)
                exit(2);
        }
    }
    int status = pclose(p);
    if (status != 0) {
        free(buf);
        return NULL;
    }
    buf[n < cap ? n : cap - 1] = 0;
    *len = n;
    return buf;
}

typedef struct {
    char codec[32], format[64];
    int rate, channels;
    double duration; /* -1 when ffprobe gives none */
} probe_info;

static int probe(const char *path, const char *input_opts, probe_info *pi)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error %s -show_entries stream=codec_name,sample_rate,channels"
             ":format=format_name,duration -of default=nw=1 '%s'",
             input_opts, path);
    size_t n;
    char *out = (char *)run(cmd, &n);
    if (!out)
        return -1;
    memset(pi, 0, sizeof *pi);
    pi->duration = -1;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        if (sscanf(line, "codec_name=%31s", pi->codec) == 1)
            continue;
        if (sscanf(line, "format_name=%63s", pi->format) == 1)
            continue;
        if (sscanf(line, "sample_rate=%d", &pi->rate) == 1)
            continue;
        if (sscanf(line, "channels=%d", &pi->channels) == 1)
            continue;
        if (strncmp(line, "duration=", 9) == 0 && strcmp(line + 9, "N/A") != 0)
            pi->duration = atof(line + 9);
    }
    free(out);
    return 0;
}

/* Decodes a file to s16 mono at `rate` with ffmpeg. */
static int16_t *decode(const char *path, const char *input_opts, int rate, size_t *n)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error %s -i '%s' -f s16le -ac 1 -ar %d -",
             input_opts, path, rate);
    size_t bytes;
    unsigned char *raw = run(cmd, &bytes);
    if (!raw)
        return NULL;
    *n = bytes / 2;
    int16_t *s = xmalloc(*n * sizeof *s);
    for (size_t i = 0; i < *n; i++)
        s[i] = (int16_t)(raw[2 * i] | raw[2 * i + 1] << 8);
    free(raw);
    return s;
}

static void write_file(const char *path, const unsigned char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        exit(2);
    }
}

/* Ogg Opus always decodes at 48 kHz; the rate we gave is in the OpusHead packet. */
static int opus_input_rate(const unsigned char *d, size_t n)
{
    for (size_t i = 0; i + 16 <= n && i < 200; i++)
        if (memcmp(d + i, "OpusHead", 8) == 0)
            return d[i + 12] | d[i + 13] << 8 | d[i + 14] << 16 | d[i + 15] << 24;
    return -1;
}

/* ---------------------------------------------------------------- comparing sound */

static double corr(const int16_t *a, const int16_t *b, size_t n)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0.0;
}

/* The decoder's delay: the shift of dec against ref (dec[i + lag] ~ ref[i]) that best lines
 * up a stretch of the sweep. */
static long best_lag(const int16_t *ref, size_t nref, const int16_t *dec, size_t ndec)
{
    const size_t at = RATE / 2, len = RATE / 2;
    long best = 0;
    double best_c = -2;
    for (long lag = -600; lag <= 3000; lag++) {
        if ((long)at + lag < 0 || at + lag + len > ndec || at + len > nref)
            continue;
        double c = corr(ref + at, dec + at + lag, len);
        if (c > best_c)
            best_c = c, best = lag;
    }
    return best;
}

/* Below 3 kHz (where speech's voicing lives) every codec here keeps the waveform; above it
 * Opus and Vorbis may substitute shaped noise, which sounds the same but does not correlate.
 * A 101-tap windowed-sinc low-pass, applied to both signals alike. */
static float *lowpass(const int16_t *x, size_t n)
{
    enum { TAPS = 101 };
    static double h[TAPS];
    const double pi = 3.141592653589793, fc = 3000.0 / RATE;
    for (int k = 0; k < TAPS; k++) {
        double m = k - (TAPS - 1) / 2.0;
        double sinc = m == 0 ? 2 * fc : sin(2 * pi * fc * m) / (pi * m);
        h[k] = sinc * (0.42 - 0.5 * cos(2 * pi * k / (TAPS - 1)) + 0.08 * cos(4 * pi * k / (TAPS - 1)));
    }
    float *y = xmalloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        double acc = 0;
        for (int k = 0; k < TAPS; k++) {
            long j = (long)i + k - (TAPS - 1) / 2;
            if (j >= 0 && (size_t)j < n)
                acc += h[k] * x[j];
        }
        y[i] = (float)acc;
    }
    return y;
}

static double corrf(const float *a, const float *b, size_t n)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0.0;
}

typedef struct {
    long lag;             /* decoder delay found */
    double total;         /* correlation over the whole signal */
    double worst_low;     /* lowest below-3-kHz correlation of a 0.25 s window with sound */
    double worst_db;      /* largest level difference of such a window, in dB */
    double low_at, db_at; /* where those were, in seconds */
} lossy_result;

/* Aligns dec with ref, then measures it over the whole signal and over 0.25 s windows. */
static lossy_result compare_lossy(const int16_t *ref, size_t nref, const int16_t *dec,
                                  size_t ndec)
{
    lossy_result r = {.lag = best_lag(ref, nref, dec, ndec), .worst_low = 1.0};
    size_t start = r.lag < 0 ? (size_t)-r.lag : 0;
    size_t end = nref;
    if ((long)end + r.lag > (long)ndec)
        end = (size_t)((long)ndec - r.lag);
    r.total = corr(ref + start, dec + start + r.lag, end - start);
    float *lref = lowpass(ref, nref), *ldec = lowpass(dec, ndec);
    const size_t win = RATE / 4;
    for (size_t w = start; w + win <= end; w += win) {
        double er = 0, ed = 0;
        for (size_t i = w; i < w + win; i++) {
            er += (double)ref[i] * ref[i];
            ed += (double)dec[i + r.lag] * dec[i + r.lag];
        }
        if (er / win < 300.0 * 300.0) /* mostly a pause: nothing to compare */
            continue;
        double db = 10.0 * log10((ed + 1.0) / er);
        if (fabs(db) > fabs(r.worst_db))
            r.worst_db = db, r.db_at = (double)w / RATE;
        double el = 0;
        for (size_t i = w; i < w + win; i++)
            el += (double)lref[i] * lref[i];
        if (el / win < 300.0 * 300.0) /* all above 3 kHz, e.g. the top of the sweep */
            continue;
        double c = corrf(lref + w, ldec + w + r.lag, win);
        if (c < r.worst_low)
            r.worst_low = c, r.low_at = (double)w / RATE;
    }
    free(lref);
    free(ldec);
    return r;
}

/* ---------------------------------------------------------------- one encode, checked */

static const struct {
    kokoro_format f;
    const char *ext, *codec, *container;
    int lossless;
    int max_extra; /* decoded length may exceed the input by this many samples (priming) */
    /* How close ffprobe's duration of a whole file must be, in s; 0: it cannot know (raw PCM
     * has no header, ADTS no length: ffprobe guesses from the bitrate). MP3 counts whole
     * 576-sample frames, Ogg Opus includes its 6.5 ms pre-skip. */
    double duration_tol;
} fmts[] = {
    {KOKORO_FMT_WAV, "wav", "pcm_s16le", "wav", 1, 0, 0.001},
    {KOKORO_FMT_PCM, "pcm", "pcm_s16le", "s16le", 1, 0, 0},
    {KOKORO_FMT_FLAC, "flac", "flac", "flac", 1, 0, 0.001},
    {KOKORO_FMT_MP3, "mp3", "mp3", "mp3", 0, 2 * 1152 + 576, 0.1},
    {KOKORO_FMT_OGG, "ogg", "vorbis", "ogg", 0, 0, 0.001},
    {KOKORO_FMT_OPUS, "opus", "opus", "ogg", 0, 0, 0.01},
    {KOKORO_FMT_AAC, "aac", "aac", "aac", 0, 3 * 1024, 0},
};
#define N_FMTS (sizeof fmts / sizeof fmts[0])

static const size_t chunk_sizes[] = {1, 0, 4095, 4096, 4097, 37, 1024, 23999, 160, 7000, 2, 513};

static void encode_and_check(int fi, int streaming, const float *in, const int16_t *ref)
{
    const char *mode = streaming ? "stream" : "file";
    char err[256] = "", path[512];
    kokoro_encoder *e = NULL;
    sink s = {0};
    int rc = kokoro_encoder_new(fmts[fi].f, RATE, streaming, sink_write, &s, &e, err, sizeof err);
    CHECK(rc == KOKORO_OK, "%s/%s: encoder_new: %d %s", fmts[fi].ext, mode, rc, err);
    if (rc != KOKORO_OK)
        return;
    CHECK(s.calls == 0, "%s/%s: callback ran inside encoder_new", fmts[fi].ext, mode);

    size_t done = 0, at_1_5s = (size_t)-1;
    for (int k = 0; done < N_IN; k++) {
        size_t m = chunk_sizes[k % (sizeof chunk_sizes / sizeof chunk_sizes[0])];
        if (m > N_IN - done)
            m = N_IN - done;
        rc = kokoro_encoder_write(e, in + done, m);
        CHECK(rc == KOKORO_OK, "%s/%s: write: %s", fmts[fi].ext, mode, kokoro_encoder_error(e));
        if (rc != KOKORO_OK)
            break;
        done += m;
        if (at_1_5s == (size_t)-1 && done >= RATE * 3 / 2)
            at_1_5s = s.len;
    }
    if (at_1_5s > s.len) /* the loop stopped early; the failure is already counted */
        at_1_5s = s.len;
    size_t before_finish = s.len;
    rc = kokoro_encoder_finish(e);
    CHECK(rc == KOKORO_OK, "%s/%s: finish: %s", fmts[fi].ext, mode, kokoro_encoder_error(e));
    CHECK(kokoro_encoder_write(e, in, 10) == KOKORO_E_ARG, "%s/%s: write after finish accepted",
          fmts[fi].ext, mode);
    CHECK(kokoro_encoder_finish(e) == KOKORO_E_ARG, "%s/%s: second finish accepted",
          fmts[fi].ext, mode);
    kokoro_encoder_free(e);

    const char *opts = fmts[fi].f == KOKORO_FMT_PCM ? "-f s16le -ar 24000 -ac 1" : "";
    /* FLAC is built whole even when streamed, so that it says how long it is (issue 11). */
    int whole = !streaming || fmts[fi].f == KOKORO_FMT_FLAC;
    if (!whole) {
        /* The bytes must flow while audio comes in, not pile up until finish: what a client
         * has received once 1.5 s were fed must already play as most of that 1.5 s. */
        snprintf(path, sizeof path, "%s/test-prefix.%s", outdir, fmts[fi].ext);
        write_file(path, s.data, at_1_5s);
        size_t nprefix = 0;
        int16_t *prefix = decode(path, opts, RATE, &nprefix);
        CHECK(prefix && nprefix >= RATE * MIN_PREFIX_S,
              "%s/stream: the %zu bytes out after 1.5 s of input decode to %.3f s", fmts[fi].ext,
              at_1_5s, (double)nprefix / RATE);
        printf("  %-5s %-6s after 1.5 s in: %zu bytes out, playing %.3f s; before finish: %zu "
               "of %zu bytes\n",
               fmts[fi].ext, mode, at_1_5s, (double)nprefix / RATE, before_finish, s.len);
        free(prefix);
        CHECK(before_finish >= s.len * 9 / 10,
              "%s/stream: only %zu of %zu bytes out before finish", fmts[fi].ext, before_finish,
              s.len);
    } else {
        CHECK(before_finish == 0 && s.calls == 1,
              "%s/%s: %zu bytes in %d calls before finish; want the whole file in one call",
              fmts[fi].ext, mode, before_finish, s.calls);
    }

    snprintf(path, sizeof path, "%s/test-%s.%s", outdir, mode, fmts[fi].ext);
    write_file(path, s.data, s.len);
    if (fmts[fi].f == KOKORO_FMT_WAV) {
        /* Streamed: RIFF and data sizes say "unknown" (all ones); a file: the exact sizes. */
        uint32_t riff = 0, data = 0;
        for (int b = 3; b >= 0 && s.len >= 44; b--)
            riff = riff << 8 | s.data[4 + b], data = data << 8 | s.data[40 + b];
        uint32_t want_data = streaming ? 0xFFFFFFFFu : (uint32_t)(2 * N_IN);
        uint32_t want_riff = streaming ? 0xFFFFFFFFu : want_data + 36;
        CHECK(s.len == 44 + 2 * N_IN && riff == want_riff && data == want_data,
              "%s: RIFF size %u, data size %u, %zu bytes", path, riff, data, s.len);
    }

    probe_info pi;
    CHECK(probe(path, opts, &pi) == 0, "%s: ffprobe failed", path);
    CHECK(strcmp(pi.codec, fmts[fi].codec) == 0, "%s: codec %s, want %s", path, pi.codec,
          fmts[fi].codec);
    CHECK(strcmp(pi.format, fmts[fi].container) == 0, "%s: container %s, want %s", path,
          pi.format, fmts[fi].container);
    CHECK(pi.channels == 1, "%s: %d channels", path, pi.channels);
    if (fmts[fi].f == KOKORO_FMT_OPUS) {
        CHECK(opus_input_rate(s.data, s.len) == RATE, "%s: OpusHead rate %d", path,
              opus_input_rate(s.data, s.len));
    } else {
        CHECK(pi.rate == RATE, "%s: sample rate %d", path, pi.rate);
    }

    size_t ndec = 0;
    int16_t *dec = decode(path, opts, RATE, &ndec);
    CHECK(dec != NULL, "%s: ffmpeg could not decode it", path);
    if (!dec) {
        free(s.data);
        return;
    }
    long extra = (long)ndec - N_IN;
    /* A whole MP3 carries the LAME tag, with which decoders trim priming and padding. */
    int max_extra = !streaming && fmts[fi].f == KOKORO_FMT_MP3 ? 0 : fmts[fi].max_extra;
    CHECK(extra >= 0 && extra <= max_extra,
          "%s: decoded %zu samples for %d in (%+ld, allowed 0 .. +%d)", path, ndec, N_IN, extra,
          max_extra);
    if (fmts[fi].lossless) {
        size_t diff = 0, first = 0;
        for (size_t i = 0; i < N_IN && i < ndec; i++)
            if (dec[i] != ref[i] && diff++ == 0)
                first = i;
        CHECK(diff == 0 && ndec == N_IN, "%s: %zu samples differ from the input (first at %zu)",
              path, diff, first);
        printf("  %-5s %-6s %7zu bytes  decoded %zu samples, bit-exact%s\n", fmts[fi].ext, mode,
               s.len, ndec, diff ? " NO" : "");
    } else {
        lossy_result r = compare_lossy(ref, N_IN, dec, ndec);
        CHECK(r.total >= MIN_TOTAL_CORR, "%s: correlation %.4f (need %.2f)", path, r.total,
              MIN_TOTAL_CORR);
        CHECK(r.worst_low >= MIN_WINDOW_CORR,
              "%s: below 3 kHz the window at %.2f s correlates %.4f (need %.2f)", path, r.low_at,
              r.worst_low, MIN_WINDOW_CORR);
        CHECK(fabs(r.worst_db) <= MAX_WINDOW_DB, "%s: the window at %.2f s is %+.2f dB off", path,
              r.db_at, r.worst_db);
        printf("  %-5s %-6s %7zu bytes  decoded %zu samples (%+ld), delay %ld, corr %.4f, "
               "worst window: <3 kHz corr %.4f, level %+.2f dB\n",
               fmts[fi].ext, mode, s.len, ndec, extra, r.lag, r.total, r.worst_low, r.worst_db);
    }
    /* A whole file must also say how long it is (a player shows it before playing). */
    if (whole && fmts[fi].duration_tol > 0)
        CHECK(fabs(pi.duration - (double)N_IN / RATE) <= fmts[fi].duration_tol,
              "%s: ffprobe duration %.4f s, want %.4f s", path, pi.duration,
              (double)N_IN / RATE);
    free(dec);
    free(s.data);
}

/* ---------------------------------------------------------------- other behaviour */

static void test_format_names(void)
{
    for (size_t i = 0; i < N_FMTS; i++) {
        kokoro_format f;
        const char *name = kokoro_format_name(fmts[i].f);
        CHECK(kokoro_format_parse(name, &f) == KOKORO_OK && f == fmts[i].f,
              "format %s does not parse back", name);
        CHECK(strcmp(name, fmts[i].ext) == 0, "format name %s, want %s", name, fmts[i].ext);
        CHECK(strncmp(kokoro_format_mime(fmts[i].f), "audio/", 6) == 0, "%s mime %s", name,
              kokoro_format_mime(fmts[i].f));
    }
    /* The seed contract names these three exactly. */
    CHECK(strcmp(kokoro_format_mime(KOKORO_FMT_MP3), "audio/mpeg") == 0, "mp3 mime");
    CHECK(strcmp(kokoro_format_mime(KOKORO_FMT_WAV), "audio/wav") == 0, "wav mime");
    CHECK(strcmp(kokoro_format_mime(KOKORO_FMT_OGG), "audio/ogg") == 0, "ogg mime");
    kokoro_format f = KOKORO_FMT_WAV;
    CHECK(kokoro_format_parse("m4a", &f) == KOKORO_E_UNSUPPORTED, "m4a accepted");
    CHECK(kokoro_format_parse("MP3 ", &f) == KOKORO_E_UNSUPPORTED, "'MP3 ' accepted");
    CHECK(kokoro_format_parse("", &f) == KOKORO_E_UNSUPPORTED, "empty name accepted");
    CHECK(kokoro_format_parse(NULL, &f) == KOKORO_E_ARG, "NULL name accepted");
    CHECK(f == KOKORO_FMT_WAV, "a failed parse changed *out");
    CHECK(strcmp(kokoro_format_name((kokoro_format)99), "unknown") == 0, "name of 99");
}

static void test_bad_arguments(void)
{
    char err[256];
    kokoro_encoder *e = (kokoro_encoder *)&err; /* must be reset to NULL on failure */
    sink s = {0};
    err[0] = 0;
    CHECK(kokoro_encoder_new((kokoro_format)42, RATE, 0, sink_write, &s, &e, err, sizeof err) ==
                  KOKORO_E_ARG &&
              e == NULL && err[0],
          "format 42: '%s'", err);
    CHECK(kokoro_encoder_new(KOKORO_FMT_MP3, 0, 0, sink_write, &s, &e, err, sizeof err) ==
              KOKORO_E_ARG,
          "rate 0");
    CHECK(kokoro_encoder_new(KOKORO_FMT_MP3, RATE, 0, NULL, &s, &e, err, sizeof err) ==
              KOKORO_E_ARG,
          "no callback");
    CHECK(kokoro_encoder_new(KOKORO_FMT_MP3, RATE, 0, sink_write, &s, NULL, err, sizeof err) ==
              KOKORO_E_ARG,
          "no out");
    err[0] = 0;
    CHECK(kokoro_encoder_new(KOKORO_FMT_AAC, 22222, 0, sink_write, &s, &e, err, sizeof err) ==
                  KOKORO_E_UNSUPPORTED &&
              e == NULL && strstr(err, "22222"),
          "aac at 22222 Hz: '%s'", err);
    CHECK(s.calls == 0, "callback ran for a failed encoder_new");
    CHECK(kokoro_encoder_write(NULL, NULL, 1) == KOKORO_E_ARG, "write(NULL)");
    CHECK(kokoro_encoder_finish(NULL) == KOKORO_E_ARG, "finish(NULL)");
    kokoro_encoder_free(NULL);

    CHECK(kokoro_encoder_new(KOKORO_FMT_WAV, RATE, 1, sink_write, &s, &e, err, sizeof err) ==
              KOKORO_OK,
          "wav: %s", err);
    CHECK(kokoro_encoder_write(e, NULL, 5) == KOKORO_E_ARG, "NULL samples accepted");
    CHECK(kokoro_encoder_finish(e) == KOKORO_E_ARG, "a failed encoder finished fine");
    CHECK(strstr(kokoro_encoder_error(e), "NULL") != NULL, "message '%s'", kokoro_encoder_error(e));
    kokoro_encoder_free(e);
    free(s.data);
}

/* A callback that says stop: the call fails with KOKORO_E_CANCELLED, the encoder never
 * calls back again, and freeing it leaks nothing. */
static void test_callback_abort(const float *in)
{
    for (size_t i = 0; i < N_FMTS; i++) {
        for (int streaming = 0; streaming <= 1; streaming++) {
            char err[256];
            kokoro_encoder *e;
            int whole = !streaming || fmts[i].f == KOKORO_FMT_FLAC; /* one call, from finish */
            sink s = {.abort_at_call = whole ? 1 : 3};
            int rc = kokoro_encoder_new(fmts[i].f, RATE, streaming, sink_write, &s, &e, err,
                                        sizeof err);
            CHECK(rc == KOKORO_OK, "%s: %s", fmts[i].ext, err);
            if (rc != KOKORO_OK)
                continue;
            int failed_at = -1;
            for (int k = 0; k < 60 && failed_at < 0; k++) {
                rc = kokoro_encoder_write(e, in + k * 2400, 2400);
                if (rc != KOKORO_OK)
                    failed_at = k;
            }
            if (whole) {
                CHECK(failed_at < 0, "%s/%d: write failed before finish", fmts[i].ext, streaming);
                rc = kokoro_encoder_finish(e);
            }
            CHECK(rc == KOKORO_E_CANCELLED, "%s/%d: got %d, want KOKORO_E_CANCELLED", fmts[i].ext,
                  streaming, rc);
            CHECK(strstr(kokoro_encoder_error(e), "callback") != NULL, "%s: message '%s'",
                  fmts[i].ext, kokoro_encoder_error(e));
            int calls = s.calls;
            CHECK(kokoro_encoder_write(e, in, 2400) == KOKORO_E_CANCELLED,
                  "%s: write after abort", fmts[i].ext);
            CHECK(kokoro_encoder_finish(e) == KOKORO_E_CANCELLED, "%s: finish after abort",
                  fmts[i].ext);
            kokoro_encoder_free(e);
            CHECK(s.calls == calls, "%s/%d: %d more callback calls after the abort", fmts[i].ext,
                  streaming, s.calls - calls);
            free(s.data);
        }
    }
}

/* A stream dropped half-way (client gone) is freed without finish, without calling back. */
static void test_free_unfinished(const float *in)
{
    for (size_t i = 0; i < N_FMTS; i++) {
        char err[256];
        kokoro_encoder *e;
        sink s = {0};
        if (kokoro_encoder_new(fmts[i].f, RATE, 1, sink_write, &s, &e, err, sizeof err)) {
            CHECK(0, "%s: %s", fmts[i].ext, err);
            continue;
        }
        CHECK(kokoro_encoder_write(e, in, RATE) == KOKORO_OK, "%s", fmts[i].ext);
        int calls = s.calls;
        kokoro_encoder_free(e);
        CHECK(s.calls == calls, "%s: free called back %d times", fmts[i].ext, s.calls - calls);
        free(s.data);
    }
}

/* No audio at all still makes a valid, empty file; other rates are taken as given. */
static void test_empty_and_other_rate(const float *in)
{
    for (size_t i = 0; i < N_FMTS; i++) {
        char err[256], path[512];
        kokoro_encoder *e;
        sink s = {0};
        CHECK(kokoro_encoder_new(fmts[i].f, RATE, 0, sink_write, &s, &e, err, sizeof err) == 0 &&
                  kokoro_encoder_finish(e) == KOKORO_OK,
              "%s: empty: %s", fmts[i].ext, err);
        kokoro_encoder_free(e);
        free(s.data);

        const int rate = 16000;
        sink t = {0};
        if (kokoro_encoder_new(fmts[i].f, rate, 0, sink_write, &t, &e, err, sizeof err) ||
            kokoro_encoder_write(e, in, rate) || kokoro_encoder_finish(e)) {
            CHECK(0, "%s at %d Hz: %s", fmts[i].ext, rate, err);
            kokoro_encoder_free(e);
            free(t.data);
            continue;
        }
        kokoro_encoder_free(e);
        snprintf(path, sizeof path, "%s/test-16k.%s", outdir, fmts[i].ext);
        write_file(path, t.data, t.len);
        probe_info pi;
        const char *opts = fmts[i].f == KOKORO_FMT_PCM ? "-f s16le -ar 16000 -ac 1" : "";
        CHECK(probe(path, opts, &pi) == 0, "%s: ffprobe failed", path);
        int got = fmts[i].f == KOKORO_FMT_OPUS ? opus_input_rate(t.data, t.len) : pi.rate;
        CHECK(got == rate, "%s: rate %d, want %d", path, got, rate);
        free(t.data);
    }
}

/* Encoders share no state: several threads encoding at once get the same bytes as one alone
 * (Vorbis and Opus streams differ only in their random serial numbers, so not compared). */
typedef struct {
    const float *in;
    sink out[N_FMTS];
    int rc;
} job;

static void *encode_all(void *arg)
{
    job *j = arg;
    for (size_t i = 0; i < N_FMTS; i++) {
        kokoro_encoder *e;
        int rc = kokoro_encoder_new(fmts[i].f, RATE, 0, sink_write, &j->out[i], &e, NULL, 0);
        for (size_t done = 0; rc == KOKORO_OK && done < N_IN; done += 3000)
            rc = kokoro_encoder_write(e, j->in + done, N_IN - done < 3000 ? N_IN - done : 3000);
        if (rc == KOKORO_OK)
            rc = kokoro_encoder_finish(e);
        kokoro_encoder_free(e);
        if (rc != KOKORO_OK)
            j->rc = rc;
    }
    return NULL;
}

static void test_threads(const float *in)
{
    enum { THREADS = 4 };
    job alone = {.in = in}, jobs[THREADS];
    encode_all(&alone);
    CHECK(alone.rc == KOKORO_OK, "single-threaded encode: %d", alone.rc);
    pthread_t t[THREADS];
    for (int k = 0; k < THREADS; k++) {
        jobs[k] = (job){.in = in};
        CHECK(pthread_create(&t[k], NULL, encode_all, &jobs[k]) == 0, "pthread_create");
    }
    for (int k = 0; k < THREADS; k++) {
        pthread_join(t[k], NULL);
        CHECK(jobs[k].rc == KOKORO_OK, "thread %d: %d", k, jobs[k].rc);
        for (size_t i = 0; i < N_FMTS; i++) {
            if (fmts[i].f != KOKORO_FMT_OGG && fmts[i].f != KOKORO_FMT_OPUS)
                CHECK(jobs[k].out[i].len == alone.out[i].len &&
                          memcmp(jobs[k].out[i].data, alone.out[i].data, alone.out[i].len) == 0,
                      "thread %d: %s differs from a single-threaded encode", k, fmts[i].ext);
            free(jobs[k].out[i].data);
        }
    }
    for (size_t i = 0; i < N_FMTS; i++)
        free(alone.out[i].data);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", outdir);
    if (system(cmd) != 0)
        return 2;

    float *in = make_signal();
    int16_t *ref = xmalloc(N_IN * sizeof *ref);
    for (size_t i = 0; i < N_IN; i++)
        ref[i] = reference_s16(in[i]);

    test_format_names();
    test_bad_arguments();
    printf("encoding %.3f s of sweep + speech-like bursts at %d Hz:\n", (double)N_IN / RATE, RATE);
    for (size_t i = 0; i < N_FMTS; i++)
        for (int streaming = 0; streaming <= 1; streaming++)
            encode_and_check((int)i, streaming, in, ref);
    test_callback_abort(in);
    test_free_unfinished(in);
    test_empty_and_other_rate(in);
    test_threads(in);

    free(in);
    free(ref);
    if (failures) {
        fprintf(stderr, "test_audio: %d check(s) failed\n", failures);
        return 1;
    }
    printf("test_audio: all checks passed (files in %s)\n", outdir);
    return 0;
}
