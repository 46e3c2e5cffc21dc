/* wyoming.c - the Wyoming protocol on a port of its own (`--wyoming-port`), so that Home
 * Assistant uses this service as a voice with no bridge process in between:
 *
 *   describe                                  -> info (a TTS program, its voices)
 *   synthesize {text, voice}                  -> audio-start, audio-chunk..., audio-stop
 *   synthesize-start {voice}, synthesize-chunk {text}..., synthesize-stop
 *                                             -> audio-start, audio-chunk... as sentences
 *                                                complete, audio-stop, synthesize-stopped
 *   ping                                      -> pong
 *
 * A failure is an `error` event {text, code} and the connection stays usable; unknown event
 * types are dropped, as the protocol asks. An event is a JSON header line {type, data,
 * data_length, payload_length}, then data_length bytes of JSON merged into data, then
 * payload_length bytes of payload (the framing of the PyPI `wyoming` package, event.py).
 *
 * Jobs go to the HTTP API's worker pool and queue as raw s16le PCM at 24 kHz, streamed (so
 * the first piece is short and the worker stays one piece ahead), and are framed here into
 * audio-chunk events as the bytes arrive.
 *
 * One thread per connection, at most --max-connections of them and --max-per-ip from one
 * address (counted apart from the HTTP port's). Each event must be complete within
 * --request-timeout of its first byte; its header line is at most --max-header bytes (a
 * longer one is refused as soon as it passes the bound, the connection closed), its data and
 * payload at most --max-body bytes; a connection silent for --idle-timeout with nothing
 * running is closed; a text (a stream's chunks together) has at most --max-text characters.
 * A client that resets its connection cancels its job at once, one that closes it at the
 * next audio written.
 *
 * text_format "ssml" is SSML (text starting with <speak>, as on the HTTP API, where such text
 * is SSML whatever the format says); it is checked before the job, and a stream of it is
 * spoken whole at synthesize-stop, since markup cannot be cut at sentences. */
#include "server/wyoming.h"
#include "core/clock.h"
#include "core/utf8.h"
#include "server/metrics.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* The event format this file follows: the PyPI `wyoming` package of that version. */
#define WY_PROTOCOL_VERSION "1.10.2"
#define WY_WIDTH 2                /* bytes per sample: s16le */
#define WY_CHUNK_BYTES 8192       /* most audio per audio-chunk event (170 ms) */
#define WY_READ_BYTES 65536       /* most bytes taken from the socket at once */
#define WY_TICK_MS 250            /* longest sleep: how soon a drain or stop is seen */
#define WY_JOB_TICK_MS 10         /* how often the socket is looked at while a job runs */
#define WY_STACK_BYTES (2u << 20) /* jansson parses nested JSON recursively */
#define WY_TYPE_MAX 64

typedef enum { IN_HEADER, IN_DATA, IN_PAYLOAD } in_phase;

typedef struct wy_conn {
    struct wy_conn *prev, *next;
    sv_server *s;
    int fd;
    struct sockaddr_storage peer;
    char addr[INET6_ADDRSTRLEN];

    /* Input: bytes received and not yet consumed, and the event being read. */
    kk_buf in;
    in_phase phase;
    char type[WY_TYPE_MAX];
    json_t *data;      /* the event's data so far */
    size_t need;       /* IN_DATA, IN_PAYLOAD: bytes still to come */
    size_t payload;    /* the payload's length, read after the data */
    int discard;       /* the event is broken: read past it, do not handle it */
    double t_event;    /* when the event being read began, 0 = none */
    double t_heard;    /* the last sign of life either way (idle clock) */
    int eof;           /* the client sends no more (it may still read) */
    int gone;          /* the client cannot be written to: stop */
    int linger;        /* closing on a protocol error: input may be unread (see linger) */
    char held_type[WY_TYPE_MAX];
    json_t *held;      /* an event waiting for the work before it to end (its data) */

    /* Work: one job at a time, its audio framed as it arrives. */
    sv_job *job;
    kk_buf pcm;        /* taken from the job, not yet sent */
    int counted;       /* counted in s->active, so that a drain waits for it */
    const char *kind;  /* "synthesize" or "stream", for metrics and logs */
    double t_request;  /* when the request arrived */
    double t_first;    /* when its first audio was sent, 0 = not yet */
    int audio_started;
    unsigned long long audio_bytes;

    /* The streaming form: text gathered between synthesize-start and synthesize-stop. */
    int stream, stream_stop, stream_failed;
    int stream_ssml;     /* text_format ssml: gathered whole, spoken at the stop */
    int stream_spoken;   /* a part of the stream has been submitted */
    const char *outcome; /* the error code of a failed stream */
    kk_buf text;       /* not yet submitted */
    size_t stream_chars;
    char *voice;
    char lang[8];
} wy_conn;

static struct {
    sv_server *s;
    int lfd;
    pthread_t acceptor;
    int acceptor_running;
    atomic_int quiesced, stopping;
    pthread_mutex_t mu; /* the connection list */
    pthread_cond_t cv;  /* a connection ended */
    wy_conn *conns;
    int n_conns;
} wy = {.lfd = -1, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* ------------------------------------------------------------------ languages and voices */

/* Kokoro's languages by the first letter of a voice's name: the front end's code, the tag
 * Home Assistant is shown, and the voice a language picks when the default voice does not
 * speak it (the best graded of each, hexgrad's VOICES.md). */
static const struct {
    char prefix;
    const char *code, *tag, *label, *best;
} langs[] = {
    {'a', "en-us", "en-US", "American English", "af_heart"},
    {'b', "en-gb", "en-GB", "British English", "bf_emma"},
    {'e', "es", "es", "Spanish", "ef_dora"},
    {'f', "fr", "fr", "French", "ff_siwis"},
    {'h', "hi", "hi", "Hindi", "hf_alpha"},
    {'i', "it", "it", "Italian", "if_sara"},
    {'p', "pt", "pt-BR", "Brazilian Portuguese", "pf_dora"},
    {'j', "ja", "ja", "Japanese", "jf_alpha"},
    {'z', "zh", "zh", "Mandarin Chinese", "zf_xiaobei"},
};
#define N_LANGS (sizeof langs / sizeof *langs)

static int lang_of_prefix(char prefix)
{
    for (size_t i = 0; i < N_LANGS; i++)
        if (langs[i].prefix == prefix)
            return (int)i;
    return -1;
}

static int speakable(const sv_server *s, const char *code)
{
    for (int i = 0; i < s->n_langs; i++)
        if (strcmp(s->langs[i], code) == 0)
            return 1;
    return 0;
}

/* The language a Wyoming client names ("en", "en-US", "en_GB", "pt-BR", "fr-FR"...) as an
 * index into langs, or -1; *english_only: it said "en" (or an English we have no voice
 * for), so any English voice will do. */
static int lang_of_request(const char *req, int *english_only)
{
    char low[16];
    size_t n = strlen(req);
    *english_only = 0;
    if (n == 0 || n >= sizeof low)
        return -1;
    for (size_t i = 0; i <= n; i++)
        low[i] = req[i] == '_' ? '-' : (char)tolower((unsigned char)req[i]);
    for (size_t i = 0; i < N_LANGS; i++)
        if (strcasecmp(low, langs[i].tag) == 0 || strcmp(low, langs[i].code) == 0)
            return (int)i;
    if (strcmp(low, "en-uk") == 0)
        return lang_of_prefix('b');
    if (n != 2 && low[2] != '-')
        return -1;
    if (strncmp(low, "en", 2) == 0) {
        *english_only = 1;
        return lang_of_prefix('a');
    }
    for (size_t i = 0; i < N_LANGS; i++)
        if (strncmp(low, langs[i].code, 2) == 0)
            return (int)i;
    return -1;
}

/* A loaded voice for language li: the default voice when it speaks it, else the language's
 * best, else the first of its voices. NULL when none is loaded. */
static const char *voice_for_lang(sv_server *s, int li, int english_only)
{
    const char *def = s->cfg.default_voice;
    if (def[0] == langs[li].prefix || (english_only && (def[0] == 'a' || def[0] == 'b')))
        return def;
    if (kokoro_voices_get(s->eng.voices, langs[li].best))
        return langs[li].best;
    for (int i = 0; i < kokoro_voices_count(s->eng.voices); i++) {
        const char *name = kokoro_voices_name(s->eng.voices, i);
        if (name[0] == langs[li].prefix)
            return name;
    }
    return NULL;
}

/* The data of the info event: one TTS program with every loaded voice. A voice whose
 * language the text front end cannot speak is listed as not installed (Home Assistant then
 * does not offer it). */
static json_t *info_data(sv_server *s)
{
    json_t *voices = json_array();
    const char *model_url = "https://huggingface.co/hexgrad/Kokoro-82M";
    for (int i = 0; voices && i < kokoro_voices_count(s->eng.voices); i++) {
        const char *name = kokoro_voices_name(s->eng.voices, i);
        int li = lang_of_prefix(name[0]);
        char desc[96];
        const char *base = strchr(name, '_') ? strchr(name, '_') + 1 : name;
        snprintf(desc, sizeof desc, "%c%s (%s%s)", toupper((unsigned char)base[0]),
                 base[0] ? base + 1 : "", li >= 0 ? langs[li].label : "unknown language",
                 name[1] == 'f' ? ", female" : name[1] == 'm' ? ", male" : "");
        json_t *v = json_pack("{s:s, s:{s:s, s:s}, s:b, s:s, s:s, s:[s]}", "name", name,
                              "attribution", "name", "hexgrad", "url", model_url, "installed",
                              li >= 0 && speakable(s, langs[li].code), "description", desc,
                              "version", "1.0", "languages", li >= 0 ? langs[li].tag : "und");
        if (!v || json_array_append_new(voices, v)) {
            json_decref(voices);
            return NULL;
        }
    }
    if (!voices)
        return NULL;
    json_t *tts = json_pack(
        "{s:s, s:{s:s, s:s}, s:b, s:s, s:s, s:o, s:b}", "name", "kokoro", "attribution", "name",
        "hexgrad (Kokoro-82M), kokoro-c", "url", model_url, "installed", 1, "description",
        "Kokoro-82M text to speech, in C", "version", "1.0", "voices", voices,
        "supports_synthesize_streaming", 1);
    return json_pack("{s:[o], s:[], s:[], s:[], s:[], s:[], s:[]}", "tts", tts, "asr",
                     "handle", "intent", "wake", "mic", "snd");
}

/* ------------------------------------------------------------------ sending events */

/* Writes iov whole. Returns 0, or -1 (and marks the client gone) when it cannot: the
 * client reset or closed the connection, or read nothing for --idle-timeout. */
static int send_all(wy_conn *c, struct iovec *iov, int n)
{
    while (n > 0 && !c->gone) {
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t k = sendmsg(c->fd, &m, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            c->gone = 1;
            break;
        }
        while (n > 0 && (size_t)k >= iov->iov_len) {
            k -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + k;
            iov->iov_len -= (size_t)k;
        }
    }
    if (!c->gone)
        c->t_heard = kk_now();
    return c->gone ? -1 : 0;
}

/* Sends one event: type (a name of ours), data (borrowed; NULL or empty = none), payload. */
static int send_event(wy_conn *c, const char *type, json_t *data, const void *payload, size_t n)
{
    char *d = data && json_object_size(data) ? json_dumps(data, JSON_COMPACT) : NULL;
    if (data && json_object_size(data) && !d) {
        c->gone = 1; /* out of memory: the client would wait for an answer that never comes */
        return -1;
    }
    char head[256];
    int hn = snprintf(head, sizeof head, "{\"type\":\"%s\",\"version\":\"%s\"", type,
                      WY_PROTOCOL_VERSION);
    if (d)
        hn += snprintf(head + hn, sizeof head - (size_t)hn, ",\"data_length\":%zu", strlen(d));
    if (n)
        hn += snprintf(head + hn, sizeof head - (size_t)hn, ",\"payload_length\":%zu", n);
    hn += snprintf(head + hn, sizeof head - (size_t)hn, "}\n");
    struct iovec iov[3] = {{head, (size_t)hn}, {d, d ? strlen(d) : 0}, {(void *)payload, n}};
    int rc = send_all(c, iov, 3);
    free(d);
    return rc;
}

/* An error event; the connection goes on. code: a type name of api.md. */
static int send_error(wy_conn *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int send_error(wy_conn *c, const char *code, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    kk_utf8_sanitize(text);
    json_t *d = json_pack("{s:s, s:s}", "text", text, "code", code);
    int rc = send_event(c, "error", d, NULL, 0);
    json_decref(d);
    return rc;
}

static int send_audio_format(wy_conn *c, const char *type)
{
    json_t *d = json_pack("{s:i, s:i, s:i, s:I}", "rate", KOKORO_SAMPLE_RATE, "width", WY_WIDTH,
                          "channels", 1, "timestamp",
                          (json_int_t)(c->audio_bytes * 1000 / (KOKORO_SAMPLE_RATE * WY_WIDTH)));
    int rc = send_event(c, type, d, NULL, 0);
    json_decref(d);
    return rc;
}

static int send_audio_stop(wy_conn *c)
{
    json_t *d = json_pack("{s:I}", "timestamp",
                          (json_int_t)(c->audio_bytes * 1000 / (KOKORO_SAMPLE_RATE * WY_WIDTH)));
    int rc = send_event(c, "audio-stop", d, NULL, 0);
    json_decref(d);
    return rc;
}

/* Sends what c->pcm holds as audio-chunk events (whole samples), audio-start first. */
static int send_pcm(wy_conn *c)
{
    size_t off = 0;
    while (c->pcm.n - off >= WY_WIDTH) {
        if (!c->audio_started) {
            if (send_audio_format(c, "audio-start"))
                return -1;
            c->audio_started = 1;
        }
        size_t n = (c->pcm.n - off) & ~(size_t)(WY_WIDTH - 1);
        if (n > WY_CHUNK_BYTES)
            n = WY_CHUNK_BYTES;
        json_t *d = json_pack("{s:i, s:i, s:i, s:I}", "rate", KOKORO_SAMPLE_RATE, "width",
                              WY_WIDTH, "channels", 1, "timestamp",
                              (json_int_t)(c->audio_bytes * 1000 /
                                           (KOKORO_SAMPLE_RATE * WY_WIDTH)));
        int rc = send_event(c, "audio-chunk", d, c->pcm.p + off, n);
        json_decref(d);
        if (rc)
            return -1;
        if (c->t_first == 0)
            c->t_first = kk_now();
        c->audio_bytes += n;
        off += n;
    }
    if (off) {
        memmove(c->pcm.p, c->pcm.p + off, c->pcm.n - off + 1); /* with the terminator */
        c->pcm.n -= off;
    }
    return 0;
}

/* ------------------------------------------------------------------ requests */

/* The connection has work in progress: a drain waits for it. */
static void busy_begin(wy_conn *c, const char *kind)
{
    if (!c->counted)
        atomic_fetch_add(&c->s->active, 1);
    c->counted = 1;
    c->kind = kind;
    c->t_request = kk_now();
    c->t_first = 0;
    c->audio_started = 0;
    c->audio_bytes = 0;
}

/* The request ended with outcome ("ok" or an error code): metrics, log line, drain count. */
static void busy_end(wy_conn *c, const char *outcome)
{
    double now = kk_now();
    double first = c->t_first > 0 ? c->t_first - c->t_request : -1;
    sv_metrics_wyoming(c->kind, outcome, first);
    if (sv_log_level <= SV_LOG_INFO) {
        json_t *o = json_pack("{s:f, s:s, s:s, s:s, s:s, s:f, s:f, s:s}", "ts",
                              kk_wall_now(), "level", "info", "msg", "wyoming",
                              "event", c->kind, "outcome", outcome, "duration_ms",
                              (now - c->t_request) * 1000.0, "audio_s",
                              (double)c->audio_bytes / (KOKORO_SAMPLE_RATE * WY_WIDTH), "remote",
                              c->addr);
        if (o && first >= 0)
            json_object_set_new(o, "first_audio_ms", json_real(first * 1000.0));
        char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (line)
            sv_log_line(line, strlen(line));
        free(line);
        json_decref(o);
    }
    if (c->counted)
        atomic_fetch_sub(&c->s->active, 1);
    c->counted = 0;
}

/* Sends e as an error event; returns -1 when the client is gone. */
static int send_err(wy_conn *c, sv_err *e)
{
    int rc = send_error(c, e->type, "%s", e->message);
    sv_err_clear(e);
    return rc;
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

/* A string member: absent or null leaves *out as it is; another type, or a NUL, fails. */
static int get_string(json_t *o, const char *name, const char *field, const char **out,
                      sv_err *e)
{
    json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return sv_fail(e, 400, "ValidationError", field, "%s must be a string", field);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return sv_fail(e, 400, "ValidationError", field, "%s contains a NUL character", field);
    *out = json_string_value(v);
    return 0;
}

/* The voice and language of a synthesize or synthesize-start: voice.name (a Kokoro voice,
 * a blend or an OpenAI name; it wins over the language), else voice.language (the default
 * voice when it speaks it, else one that does), else the default voice. Also reads
 * text_format: *ssml is set for "ssml", "text" (or none) is plain, others are refused.
 * Fills *voice (malloc'd) and lang. */
static int parse_voice(wy_conn *c, json_t *data, char **voice, char lang[8], int *ssml,
                       sv_err *e)
{
    sv_server *s = c->s;
    const char *name = NULL, *language = NULL, *format = NULL, *speaker = NULL;
    json_t *v = json_object_get(data, "voice");
    if (v && !json_is_null(v) && !json_is_object(v))
        return sv_fail(e, 400, "ValidationError", "voice",
                       "voice must be an object {name, language, speaker}");
    if (get_string(data, "text_format", "text_format", &format, e) ||
        (v && (get_string(v, "name", "voice.name", &name, e) ||
               get_string(v, "language", "voice.language", &language, e) ||
               get_string(v, "speaker", "voice.speaker", &speaker, e))))
        return -1;
    *ssml = format && strcmp(format, "ssml") == 0;
    if (format && !*ssml && strcmp(format, "text") != 0)
        return sv_fail(e, 400, "UnsupportedFormat", "text_format",
                       "text_format must be \"text\" or \"ssml\", not \"%.32s\"", format);
    const char *pick = s->cfg.default_voice;
    if (name)
        pick = name;
    else if (language) {
        int english_only, li = lang_of_request(language, &english_only);
        if (li < 0)
            return sv_fail(e, 400, "UnsupportedLanguage", "voice.language",
                           "language \"%.32s\" is not one of this service's: en-US, en-GB, es, "
                           "fr, hi, it, pt-BR", language);
        pick = voice_for_lang(s, li, english_only);
        if (!pick)
            return sv_fail(e, 400, "UnsupportedLanguage", "voice.language",
                           "no voice for language %.32s is loaded", language);
    }
    *voice = sv_resolve_voice(s, pick, name ? "voice.name" : "voice", e);
    if (!*voice)
        return -1;
    if (sv_pick_lang(s, NULL, *voice, 0, name ? "voice.name" : "voice.language", lang, e)) {
        free(*voice);
        *voice = NULL;
        return -1;
    }
    return 0;
}

/* Checks a text's markup before its job, as the HTTP API does: SSML well-formed and within
 * bounds, its <voice> names known, [pause:] within bounds; ssml: the client said it is SSML,
 * so it must be. Returns 0, or -1 with e filled. */
static int check_markup(wy_conn *c, const char *text, int ssml, sv_err *e)
{
    char err[256];
    if (ssml && !kokoro_is_ssml(text))
        return sv_fail(e, 400, "ValidationError", "text",
                       "text_format is ssml but the text does not start with <speak>");
    int rc = kokoro_markup_check(text, c->s->eng.voices, err, sizeof err);
    if (rc == KOKORO_E_NOT_FOUND)
        return sv_fail(e, 400, "UnsupportedVoice", "text", "%s", err);
    if (rc != KOKORO_OK)
        return sv_fail(e, 400, "ValidationError", "text", "%s", err);
    return 0;
}

/* Queues one text as a job of raw PCM. A stream already begun goes on during a drain (its
 * listener is mid-sentence); a new request does not. Returns 0, or -1 with e filled. */
static int submit(wy_conn *c, const char *text, const char *voice, const char *lang,
                  int draining_ok, sv_err *e)
{
    sv_server *s = c->s;
    if (!s->pool || atomic_load(&s->abort_all) ||
        (!draining_ok && atomic_load(&s->draining)))
        return sv_fail(e, 503, "NotReady", NULL, "the server is shutting down");
    sv_job *job = sv_job_new(1);
    if (!job || !(job->items[0].text = strdup(text)) ||
        !(job->items[0].voice = strdup(voice))) {
        sv_job_unref(job);
        return sv_fail(e, 500, "InternalError", NULL, "out of memory");
    }
    snprintf(job->items[0].lang, sizeof job->items[0].lang, "%s", lang);
    job->items[0].speed = 1.0f;
    job->items[0].fmt = KOKORO_FMT_PCM;
    job->fmt = KOKORO_FMT_PCM;
    job->wrap = SV_WRAP_RAW;
    job->streaming = 1; /* a short first piece, and one piece ahead of what was sent */
    job->timeout_s = s->cfg.job_timeout;
    job->max_audio_s = s->cfg.max_audio_s;
    job->max_frames = s->cfg.max_frames;
    if (sv_pool_submit(s->pool, job)) {
        sv_job_unref(job);
        sv_metrics_event(SV_EV_OVERLOADED);
        return sv_fail(e, 503, "Overloaded", NULL,
                       "all workers are busy and the queue is full; retry in %d s",
                       sv_pool_retry_after(s->pool));
    }
    c->job = job;
    return 0;
}

static int text_too_long(wy_conn *c, size_t chars, sv_err *e)
{
    return sv_fail(e, 413, "PayloadTooLarge", "text",
                   "the text has %zu characters; the limit is %d (KOKORO_MAX_TEXT_CHARS)", chars,
                   c->s->cfg.max_text);
}

static int not_ready(wy_conn *c, sv_err *e)
{
    sv_server *s = c->s;
    if (atomic_load(&s->draining))
        return sv_fail(e, 503, "NotReady", NULL, "the server is shutting down");
    if (!atomic_load(&s->ready))
        return sv_fail(e, 503, "NotReady", NULL, "the model is still loading; retry shortly");
    return 0;
}

/* synthesize outside a stream: one job, its audio framed as it comes. */
static int on_synthesize(wy_conn *c, json_t *data)
{
    sv_err e = {0};
    const char *text = NULL;
    char *voice = NULL, lang[8];
    int ssml = 0;
    busy_begin(c, "synthesize");
    if (not_ready(c, &e) || get_string(data, "text", "text", &text, &e))
        goto fail;
    if (!text || blank(text)) {
        sv_fail(&e, 400, "ValidationError", "text", "text is required and cannot be blank");
        goto fail;
    }
    size_t chars = kk_utf8_len(text);
    if (chars > (size_t)c->s->cfg.max_text) {
        text_too_long(c, chars, &e);
        goto fail;
    }
    if (parse_voice(c, data, &voice, lang, &ssml, &e) || check_markup(c, text, ssml, &e) ||
        submit(c, text, voice, lang, 0, &e))
        goto fail;
    free(voice);
    return 0;
fail:
    free(voice);
    busy_end(c, e.type);
    return send_err(c, &e);
}

static int on_stream_start(wy_conn *c, json_t *data)
{
    sv_err e = {0};
    busy_begin(c, "stream");
    if (not_ready(c, &e) || parse_voice(c, data, &c->voice, c->lang, &c->stream_ssml, &e)) {
        busy_end(c, e.type);
        return send_err(c, &e);
    }
    c->stream = 1;
    c->stream_stop = c->stream_failed = c->stream_spoken = 0;
    c->outcome = NULL;
    c->stream_chars = 0;
    kk_buf_clear(&c->text);
    return 0;
}

/* A stream's failure: said once; its later chunks are dropped, and its synthesize-stop
 * still gets synthesize-stopped, so that the client stops waiting. */
static int stream_fail(wy_conn *c, sv_err *e)
{
    c->stream_failed = 1;
    c->outcome = e->type;
    kk_buf_clear(&c->text);
    return send_err(c, e);
}

static int on_stream_chunk(wy_conn *c, json_t *data)
{
    sv_err e = {0};
    const char *text = NULL;
    if (c->stream_failed)
        return 0;
    if (get_string(data, "text", "text", &text, &e))
        return send_err(c, &e); /* this chunk is refused; the stream goes on */
    if (!text)
        text = "";
    size_t chars = kk_utf8_len(text);
    if (c->stream_chars + chars > (size_t)c->s->cfg.max_text) {
        text_too_long(c, c->stream_chars + chars, &e);
        return stream_fail(c, &e);
    }
    c->stream_chars += chars;
    if (kk_buf_puts(&c->text, text)) {
        sv_fail(&e, 500, "InternalError", NULL, "out of memory");
        return stream_fail(c, &e);
    }
    return 0;
}

/* Words whose full stop ends no sentence. */
static int abbreviation(const char *w, size_t n)
{
    static const char *const list[] = {"mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr",
                                       "vs", "etc", "e.g", "i.e", "no", "mt", "sgt", "capt",
                                       "gen", "col", "lt", "fig", "approx", "inc", "ltd", NULL};
    if (n == 1 && isalpha((unsigned char)w[0]))
        return 1; /* an initial: J. R. R. Tolkien */
    for (const char *const *a = list; *a; a++)
        if (strlen(*a) == n && strncasecmp(*a, w, n) == 0)
            return 1;
    return 0;
}

/* How much of t[0..n) is whole sentences: up to after the last end mark (. ! ? or the
 * ellipsis, CJK and full-width marks) that closing quotes and then white space follow, or
 * the last line break. 0 when no sentence is complete yet. */
static size_t sentences_end(const char *t, size_t n)
{
    size_t end = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j;
        if (t[i] == '\n') {
            end = i + 1;
            continue;
        }
        if (t[i] == '.' || t[i] == '!' || t[i] == '?')
            j = i + 1;
        else if (i + 2 < n && ((!memcmp(t + i, "\xe2\x80\xa6", 3)) || /* … */
                               !memcmp(t + i, "\xe3\x80\x82", 3) ||    /* 。 */
                               !memcmp(t + i, "\xef\xbc\x81", 3) ||    /* ！ */
                               !memcmp(t + i, "\xef\xbc\x9f", 3)))     /* ？ */
            j = i + 3;
        else
            continue;
        if (t[i] == '.') {
            size_t w = i;
            while (w > 0 && !isspace((unsigned char)t[w - 1]))
                w--;
            if (abbreviation(t + w, i - w))
                continue;
        }
        for (;;) { /* closing quotes and brackets belong to the sentence */
            if (j < n && strchr("\"')]", t[j]) && t[j])
                j++;
            else if (j + 2 < n && (!memcmp(t + j, "\xe2\x80\x9d", 3) || /* ” */
                                   !memcmp(t + j, "\xe2\x80\x99", 3)))  /* ’ */
                j += 3;
            else if (j + 1 < n && !memcmp(t + j, "\xc2\xbb", 2)) /* » */
                j += 2;
            else
                break;
        }
        if (j < n && isspace((unsigned char)t[j]))
            end = j;
    }
    return end;
}

/* Between jobs of a stream: submits the sentences complete so far (all the text once the
 * stop has come), or, when the stop has come and nothing is left, ends the stream with
 * audio-stop and synthesize-stopped. Returns -1 when the client is gone. */
static int stream_advance(wy_conn *c)
{
    while (!c->stream_failed && c->text.n) {
        /* Markup is spoken whole: SSML, or text that begins as SSML does */
        size_t lead = strspn(c->text.p, " \t\r\n");
        int whole = c->stream_ssml || (!c->stream_spoken && c->text.p[lead] == '<');
        size_t cut = c->stream_stop ? c->text.n
                     : whole        ? 0
                                    : sentences_end(c->text.p, c->text.n);
        if (cut == 0)
            return 0;
        char *part = strndup(c->text.p, cut);
        memmove(c->text.p, c->text.p + cut, c->text.n - cut + 1);
        c->text.n -= cut;
        sv_err e = {0};
        if (!part)
            sv_fail(&e, 500, "InternalError", NULL, "out of memory");
        int skip = part && blank(part);
        int rc = part && !skip ? check_markup(c, part, c->stream_ssml, &e) ||
                                     submit(c, part, c->voice, c->lang, 1, &e)
                               : 0;
        c->stream_spoken |= !skip;
        free(part);
        if (!part || rc)
            return stream_fail(c, &e);
        if (!skip)
            return 0; /* the job's audio comes first */
    }
    if (!c->stream_stop)
        return 0;
    if (c->audio_started && send_audio_stop(c))
        return -1;
    int rc = send_event(c, "synthesize-stopped", NULL, NULL, 0);
    busy_end(c, c->stream_failed && c->outcome ? c->outcome : "ok");
    c->stream = c->stream_stop = c->stream_failed = 0;
    kk_buf_clear(&c->text);
    free(c->voice);
    c->voice = NULL;
    return rc;
}

/* The code and message of a job that did not finish. */
static const char *job_error(wy_conn *c, sv_job *job, int status, char *msg, size_t len)
{
    snprintf(msg, len, "%s", job->err[0] ? job->err : kokoro_status_str(status));
    if (atomic_load(&job->timed_out))
        return "Timeout";
    switch (status) {
    case KOKORO_E_TOO_LONG: return "PayloadTooLarge";
    case KOKORO_E_UNSUPPORTED: return "UnsupportedLanguage";
    case KOKORO_E_ARG: return "ValidationError";
    case KOKORO_E_NOT_FOUND: return "UnsupportedVoice";
    case KOKORO_E_CANCELLED:
        snprintf(msg, len, "the request was cancelled: the server is shutting down");
        return "NotReady";
    default:
        sv_log(SV_LOG_ERROR, "wyoming request from %s failed: %s (%s)", c->addr, job->err,
               kokoro_status_str(status));
        return "SynthesisFailed";
    }
}

/* Moves what the job has published to the client; when the job is done, ends its turn.
 * Returns -1 when the client is gone. */
static int pump(wy_conn *c)
{
    sv_job *job = c->job;
    int oom = 0;
    pthread_mutex_lock(&job->mu);
    if (job->out.n > job->out_pos) {
        oom = kk_buf_put(&c->pcm, job->out.p + job->out_pos, job->out.n - job->out_pos);
        job->out_pos = 0;
        kk_buf_clear(&job->out);
        pthread_cond_broadcast(&job->cv); /* the worker waits for this (wait_sent) */
    }
    int done = job->state == SV_JOB_DONE, status = job->status;
    pthread_mutex_unlock(&job->mu);
    if (oom) {
        sv_pool_cancel(c->s->pool, job);
        c->gone = 1; /* half an answer cannot be repaired */
        return -1;
    }
    if (send_pcm(c))
        return -1;
    if (!done)
        return 0;
    c->job = NULL;
    int rc = 0;
    if (status == KOKORO_OK) {
        if (!c->stream) {
            if (!c->audio_started)
                rc = send_audio_format(c, "audio-start");
            rc = rc ? rc : send_audio_stop(c);
            busy_end(c, "ok");
        }
    } else {
        char msg[300];
        const char *code = job_error(c, job, status, msg, sizeof msg);
        rc = send_error(c, code, "%s", msg);
        if (!c->stream) {
            if (c->audio_started && !rc)
                rc = send_audio_stop(c);
            busy_end(c, code);
        } else {
            c->stream_failed = 1;
            c->outcome = code;
            kk_buf_clear(&c->text);
        }
    }
    sv_job_unref(job);
    return rc;
}

/* One complete event. Returns 0 when it is handled, 1 when it must wait for the work in
 * progress (it stays held, and nothing more is read meanwhile), -1 when the client is gone. */
static int handle(wy_conn *c, const char *type, json_t *data)
{
    int busy = c->job || c->stream;
    if (strcmp(type, "describe") == 0) {
        sv_err e = {0};
        if (!atomic_load(&c->s->ready)) {
            sv_fail(&e, 503, "NotReady", NULL, "the model is still loading; retry shortly");
            sv_metrics_wyoming("describe", "NotReady", -1);
            return send_err(c, &e);
        }
        json_t *info = info_data(c->s);
        int rc = info ? send_event(c, "info", info, NULL, 0)
                      : send_error(c, "InternalError", "out of memory");
        json_decref(info);
        sv_metrics_wyoming("describe", info ? "ok" : "InternalError", -1);
        return rc;
    }
    if (strcmp(type, "ping") == 0) {
        json_t *text = json_object_get(data, "text");
        json_t *d = json_is_string(text) ? json_pack("{s:O}", "text", text) : NULL;
        int rc = send_event(c, "pong", d, NULL, 0);
        json_decref(d);
        return rc;
    }
    if (strcmp(type, "synthesize") == 0) {
        if (c->stream && !c->stream_stop)
            return 0; /* the whole text, sent inside a stream for older servers: spoken already */
        return busy ? 1 : on_synthesize(c, data);
    }
    if (strcmp(type, "synthesize-start") == 0) {
        if (c->stream && !c->stream_stop)
            return send_error(c, "ValidationError",
                              "a stream is open already: end it with synthesize-stop first");
        return busy ? 1 : on_stream_start(c, data);
    }
    if (strcmp(type, "synthesize-chunk") == 0 || strcmp(type, "synthesize-stop") == 0) {
        if (!c->stream || c->stream_stop)
            return send_error(c, "ValidationError", "%s without an open stream: send "
                              "synthesize-start first", type);
        if (strcmp(type, "synthesize-chunk") == 0)
            return on_stream_chunk(c, data);
        c->stream_stop = 1;
        return 0;
    }
    return 0; /* not ours (audio, transcribe, select-program...): dropped, as the protocol asks */
}

/* ------------------------------------------------------------------ reading events */

static void consume(wy_conn *c, size_t n)
{
    if (n == 0)
        return;
    memmove(c->in.p, c->in.p + n, c->in.n - n + 1); /* with the terminator */
    c->in.n -= n;
}

/* Reads a length member of the header: absent or null is 0. Returns -1 when it is not a
 * whole number (ValidationError), -2 when it passes max (PayloadTooLarge). */
static int get_length(json_t *hdr, const char *name, size_t max, size_t *out)
{
    json_t *v = json_object_get(hdr, name);
    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    if ((unsigned long long)json_integer_value(v) > max)
        return -2;
    *out = (size_t)json_integer_value(v);
    return 0;
}

/* Parses the header line t[0..n). Returns 0 (the event has begun: type, data and lengths
 * set, or discard when it is broken but its lengths are known), or -1 when its framing
 * cannot be trusted: the connection must close. Sends an error event for either. */
static int begin_event(wy_conn *c, const char *t, size_t n)
{
    size_t max = c->s->cfg.max_body;
    json_error_t je;
    c->discard = 0;
    c->type[0] = 0;
    json_decref(c->data);
    c->data = NULL;
    c->need = c->payload = 0;
    json_t *hdr = json_loadb(t, n, JSON_REJECT_DUPLICATES, &je);
    if (!hdr || !json_is_object(hdr)) {
        json_decref(hdr);
        c->discard = 1;
        return send_error(c, "ValidationError", "the header line is not a JSON object "
                          "(column %d: %s); an event is one line of JSON {\"type\", \"data\", "
                          "\"data_length\", \"payload_length\"}", je.column,
                          hdr ? "not an object" : je.text) < 0 ? -1 : 0;
    }
    size_t dlen, plen;
    int bad = get_length(hdr, "data_length", max, &dlen);
    if (!bad)
        bad = get_length(hdr, "payload_length", max, &plen);
    if (bad) {
        json_decref(hdr);
        send_error(c, bad == -2 ? "PayloadTooLarge" : "ValidationError",
                   "data_length and payload_length must be whole numbers from 0 to %zu "
                   "(KOKORO_MAX_BODY_BYTES); closing the connection", max);
        c->linger = 1;
        return -1;
    }
    c->need = dlen;
    c->payload = plen;
    c->phase = dlen ? IN_DATA : plen ? IN_PAYLOAD : IN_HEADER;
    if (c->phase == IN_PAYLOAD)
        c->need = plen;
    json_t *type = json_object_get(hdr, "type"), *data = json_object_get(hdr, "data");
    const char *ts = json_is_string(type) ? json_string_value(type) : NULL;
    if (!ts || !ts[0] || strlen(ts) >= WY_TYPE_MAX) {
        json_decref(hdr);
        c->discard = 1;
        return send_error(c, "ValidationError", "the header has no \"type\" (a string of 1 to "
                          "%d characters)", WY_TYPE_MAX - 1) < 0 ? -1 : 0;
    }
    if (data && !json_is_null(data) && !json_is_object(data)) {
        c->discard = 1;
        int rc = send_error(c, "ValidationError", "the \"data\" of %s must be an object", ts);
        json_decref(hdr);
        return rc < 0 ? -1 : 0;
    }
    snprintf(c->type, sizeof c->type, "%s", ts);
    c->data = json_is_object(data) ? json_deep_copy(data) : json_object();
    json_decref(hdr);
    if (!c->data) {
        c->discard = 1;
        return send_error(c, "InternalError", "out of memory") < 0 ? -1 : 0;
    }
    return 0;
}

/* Handles the held event, then every complete event in the input. Returns -1 to close. */
static int run_events(wy_conn *c)
{
    sv_server *s = c->s;
    if (c->held) {
        int rc = handle(c, c->held_type, c->held);
        if (rc == 1)
            return 0;
        json_decref(c->held);
        c->held = NULL;
        if (rc < 0)
            return -1;
    }
    while (!c->held && !c->gone) {
        int complete = 0;
        if (c->phase == IN_HEADER) {
            char *nl = c->in.n ? memchr(c->in.p, '\n', c->in.n) : NULL;
            size_t line = nl ? (size_t)(nl - c->in.p) : c->in.n;
            if (line > s->cfg.max_header) {
                send_error(c, "PayloadTooLarge", "the header line is longer than %zu bytes "
                           "(KOKORO_MAX_HEADER_BYTES); closing the connection",
                           s->cfg.max_header);
                c->linger = 1;
                return -1;
            }
            if (!nl)
                break;
            size_t k = 0;
            while (k < line && isspace((unsigned char)c->in.p[k]))
                k++;
            if (k == line) { /* a blank line is no event */
                consume(c, line + 1);
                continue;
            }
            if (begin_event(c, c->in.p, line) < 0)
                return -1;
            consume(c, line + 1);
            complete = c->phase == IN_HEADER;
        } else if (c->phase == IN_DATA) {
            if (c->in.n < c->need)
                break;
            json_error_t je;
            json_t *d = json_loadb(c->in.p, c->need, JSON_REJECT_DUPLICATES, &je);
            consume(c, c->need);
            if (!c->discard && (!d || !json_is_object(d))) {
                c->discard = 1;
                if (send_error(c, "ValidationError", "the data of %s (data_length bytes after "
                               "the header) is not a JSON object: %s", c->type,
                               d ? "not an object" : je.text) < 0) {
                    json_decref(d);
                    return -1;
                }
            }
            if (!c->discard && json_object_update(c->data, d)) {
                c->discard = 1;
                if (send_error(c, "InternalError", "out of memory") < 0) {
                    json_decref(d);
                    return -1;
                }
            }
            json_decref(d);
            c->need = c->payload;
            c->phase = c->payload ? IN_PAYLOAD : IN_HEADER;
            complete = c->phase == IN_HEADER;
        } else { /* IN_PAYLOAD: no event of ours carries one; read past it */
            size_t k = c->in.n < c->need ? c->in.n : c->need;
            consume(c, k);
            c->need -= k;
            if (c->need)
                break;
            c->phase = IN_HEADER;
            complete = 1;
        }
        if (!complete)
            continue;
        c->t_event = c->in.n ? kk_now() : 0;
        if (c->discard) {
            json_decref(c->data);
            c->data = NULL;
            continue;
        }
        json_t *data = c->data;
        c->data = NULL;
        int rc = handle(c, c->type, data);
        if (rc == 1) {
            snprintf(c->held_type, sizeof c->held_type, "%s", c->type);
            c->held = data;
            break;
        }
        json_decref(data);
        if (rc < 0)
            return -1;
    }
    return c->gone ? -1 : 0;
}

/* Takes what the socket has, without waiting. */
static void read_some(wy_conn *c)
{
    if (kk_buf_reserve(&c->in, WY_READ_BYTES)) {
        c->gone = 1;
        return;
    }
    ssize_t n = recv(c->fd, c->in.p + c->in.n, WY_READ_BYTES, MSG_DONTWAIT);
    if (n == 0)
        c->eof = 1; /* a half-close: the answers in progress are still written */
    else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        c->gone = 1;
    else if (n > 0) {
        c->t_heard = kk_now();
        if (c->t_event == 0) /* the first byte of an event: its deadline starts */
            c->t_event = c->t_heard;
        c->in.n += (size_t)n;
        c->in.p[c->in.n] = 0; /* kk_buf's terminator */
    }
}

/* Waits for input, or for the job's output (the socket is looked at every WY_JOB_TICK_MS). */
static void wait_io(wy_conn *c)
{
    int timeout = WY_TICK_MS;
    if (c->job) {
        sv_job *job = c->job;
        pthread_mutex_lock(&job->mu);
        if (job->out.n <= job->out_pos && job->state != SV_JOB_DONE)
            sv_job_wait(job, WY_JOB_TICK_MS);
        pthread_mutex_unlock(&job->mu);
        timeout = 0;
    }
    struct pollfd p = {.fd = c->fd, .events = !c->eof && !c->held ? POLLIN : 0};
    if (poll(&p, 1, timeout) <= 0)
        return;
    /* POLLHUP: both ways closed, or reset (as the HTTP port, a FIN alone is not a hang-up) */
    if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
        c->gone = 1;
    else if (p.revents & POLLIN)
        read_some(c);
}

/* Closing on a protocol error while the client may still be sending: a close with unread
 * input sends a reset, which can destroy the error event on its way. So: end our side,
 * then read and drop what comes, for at most LINGER_MS. */
#define LINGER_MS 1000
static void linger(wy_conn *c)
{
    if (shutdown(c->fd, SHUT_WR))
        return;
    double end = kk_now() + LINGER_MS / 1000.0;
    char sink[16384];
    while (kk_now() < end && !atomic_load(&wy.stopping)) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, 50) < 0 || (p.revents & (POLLHUP | POLLERR | POLLNVAL)))
            break;
        if ((p.revents & POLLIN) && recv(c->fd, sink, sizeof sink, MSG_DONTWAIT) <= 0)
            break;
    }
}

/* Takes a connection out of the list, closes its socket and frees it. */
static void conn_forget(wy_conn *c)
{
    pthread_mutex_lock(&wy.mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        wy.conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    wy.n_conns--;
    pthread_cond_broadcast(&wy.cv);
    pthread_mutex_unlock(&wy.mu);
    close(c->fd); /* after leaving the list: sv_wyoming_stop never touches a closed number */
    sv_metrics_wyoming_conn(SV_WY_CLOSED);
    free(c);
}

static void *conn_main(void *arg)
{
    wy_conn *c = arg;
    sv_server *s = c->s;
    c->t_heard = kk_now();
    while (!c->gone && !atomic_load(&wy.stopping)) {
        if (c->job && atomic_load(&s->abort_all) && !atomic_load(&c->job->cancel))
            sv_pool_cancel(s->pool, c->job);
        if (c->job && pump(c))
            break;
        if (run_events(c))
            break;
        if (!c->job && c->stream && stream_advance(c))
            break;
        int working = c->job || c->stream || c->held;
        if (!working && (c->eof || atomic_load(&s->draining)))
            break; /* nothing left to answer */
        if (c->stream && !c->stream_stop && c->eof)
            break; /* the text stream can never end: abandoned */
        double now = kk_now();
        if (c->t_event && !c->held && now - c->t_event > s->cfg.request_timeout) {
            send_error(c, "RequestTimeout", "the event was not complete within %d s "
                       "(KOKORO_REQUEST_TIMEOUT); closing the connection",
                       s->cfg.request_timeout);
            c->linger = 1;
            break;
        }
        if (!c->job && !c->held && !c->t_event && now - c->t_heard > s->cfg.idle_timeout) {
            if (c->stream)
                send_error(c, "Timeout", "the stream was silent for %d s "
                           "(KOKORO_IDLE_TIMEOUT); closing the connection",
                           s->cfg.idle_timeout);
            break;
        }
        wait_io(c);
    }
    if (c->job) {
        sv_pool_cancel(s->pool, c->job); /* a no-op when it finished */
        sv_job_unref(c->job);
        c->job = NULL;
    }
    if (c->counted)
        busy_end(c, c->gone || c->eof ? "client_gone" : "closed");
    if (c->linger && !c->gone)
        linger(c);
    json_decref(c->held);
    json_decref(c->data);
    kk_buf_free(&c->in);
    kk_buf_free(&c->pcm);
    kk_buf_free(&c->text);
    free(c->voice);
    conn_forget(c);
    return NULL;
}

/* ------------------------------------------------------------------ accepting */

static int same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (a->ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
    return 0;
}

/* Refuses a connection at once, saying why in an error event when the socket takes it. */
static void refuse(int fd, const char *why)
{
    char line[512];
    char text[400];
    snprintf(text, sizeof text, "%s", why);
    json_t *d = json_pack("{s:s, s:s}", "text", text, "code", "Overloaded");
    char *ds = d ? json_dumps(d, JSON_COMPACT) : NULL;
    if (ds) {
        int n = snprintf(line, sizeof line, "{\"type\":\"error\",\"version\":\"%s\","
                         "\"data_length\":%zu}\n%s", WY_PROTOCOL_VERSION, strlen(ds), ds);
        if (n > 0 && (size_t)n < sizeof line)
            (void)!send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    free(ds);
    json_decref(d);
    close(fd);
    sv_metrics_wyoming_conn(SV_WY_REFUSED);
}

static void admit(int fd, const struct sockaddr_storage *peer)
{
    sv_server *s = wy.s;
    pthread_mutex_lock(&wy.mu);
    int from_peer = 0;
    for (wy_conn *o = wy.conns; o; o = o->next)
        from_peer += same_host(&o->peer, peer);
    int full = wy.n_conns >= s->cfg.max_connections;
    int capped = s->cfg.max_per_ip > 0 && from_peer >= s->cfg.max_per_ip;
    pthread_mutex_unlock(&wy.mu);
    if (full || capped) {
        refuse(fd, full ? "too many connections; retry shortly"
                        : "too many connections from your address (KOKORO_MAX_PER_IP)");
        return;
    }
    wy_conn *c = calloc(1, sizeof *c);
    if (!c) {
        refuse(fd, "out of memory");
        return;
    }
    c->s = s;
    c->fd = fd;
    c->peer = *peer;
    c->phase = IN_HEADER;
    if (peer->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, c->addr, sizeof c->addr);
    else if (peer->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, c->addr,
                  sizeof c->addr);
    else
        snprintf(c->addr, sizeof c->addr, "-");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* small events go at once */
    struct timeval tv = {.tv_sec = s->cfg.idle_timeout};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* a client that reads nothing */
    pthread_mutex_lock(&wy.mu);
    c->next = wy.conns;
    if (wy.conns)
        wy.conns->prev = c;
    wy.conns = c;
    wy.n_conns++;
    pthread_mutex_unlock(&wy.mu);
    sv_metrics_wyoming_conn(SV_WY_ACCEPTED);
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, WY_STACK_BYTES);
    int rc = pthread_create(&t, &attr, conn_main, c);
    pthread_attr_destroy(&attr);
    if (rc) {
        sv_log(SV_LOG_WARN, "wyoming: cannot start a connection thread: %s", strerror(rc));
        c->gone = 1;
        conn_forget(c);
    }
}

static void *accept_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&wy.quiesced)) {
        struct pollfd p = {.fd = wy.lfd, .events = POLLIN};
        if (poll(&p, 1, WY_TICK_MS) <= 0)
            continue;
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        int fd = accept4(wy.lfd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS)
                usleep(50000); /* out of descriptors: let connections end */
            continue;
        }
        admit(fd, &peer);
    }
    pthread_mutex_lock(&wy.mu); /* sv_wyoming_quiesce may be shutting it down */
    close(wy.lfd);
    wy.lfd = -1;
    pthread_mutex_unlock(&wy.mu);
    return NULL;
}

int sv_wyoming_start(sv_server *s)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE}, *ai = NULL;
    char port[8];
    snprintf(port, sizeof port, "%d", s->cfg.wyoming_port);
    int rc = getaddrinfo(s->cfg.host, port, &hints, &ai);
    if (rc) {
        sv_log(SV_LOG_ERROR, "cannot resolve --host %s: %s", s->cfg.host, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128)) {
        sv_log(SV_LOG_ERROR, "cannot listen on %s:%d (wyoming port): %s (is the port in use?)",
               s->cfg.host, s->cfg.wyoming_port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    wy.s = s;
    wy.lfd = fd;
    if (pthread_create(&wy.acceptor, NULL, accept_main, NULL)) {
        sv_log(SV_LOG_ERROR, "cannot start the wyoming listener thread");
        close(fd);
        wy.lfd = -1;
        return -1;
    }
    wy.acceptor_running = 1;
    return 0;
}

void sv_wyoming_quiesce(void)
{
    if (!wy.acceptor_running)
        return;
    /* Wakes the acceptor at once and takes the socket out of LISTEN: new connections are
     * refused from now on; the acceptor closes it. */
    pthread_mutex_lock(&wy.mu);
    atomic_store(&wy.quiesced, 1);
    if (wy.lfd >= 0)
        shutdown(wy.lfd, SHUT_RDWR);
    pthread_mutex_unlock(&wy.mu);
}

void sv_wyoming_stop(void)
{
    if (!wy.acceptor_running)
        return;
    sv_wyoming_quiesce();
    pthread_join(wy.acceptor, NULL);
    wy.acceptor_running = 0;
    atomic_store(&wy.stopping, 1);
    pthread_mutex_lock(&wy.mu);
    for (wy_conn *c = wy.conns; c; c = c->next)
        shutdown(c->fd, SHUT_RDWR); /* wakes its thread; it closes the socket itself */
    while (wy.n_conns > 0)
        pthread_cond_wait(&wy.cv, &wy.mu);
    pthread_mutex_unlock(&wy.mu);
}
