/* config.c - parses the server's flags and environment variables; one table drives both and
 * the --help text, so the three cannot drift apart. */
#include "server/config.h"
#include "server/svutil.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_STR, T_INT, T_SIZE, T_LEVEL };

typedef struct {
    const char *flag, *env;
    int type;
    size_t offset;
    long min, max;
    const char *help;
} option;

#define OFF(f) offsetof(sv_config, f)
static const option options[] = {
    {"--host", "KOKORO_HOST", T_STR, OFF(host), 0, 0, "address to listen on (default 0.0.0.0)"},
    {"--port", "KOKORO_PORT", T_INT, OFF(port), 1, 65535, "TCP port (default 8000)"},
    {"--probe-port", "KOKORO_PROBE_PORT", T_INT, OFF(probe_port), 0, 65535,
     "port of /health, /ready and /metrics alone, with their own connection slots, 0 = none "
     "(default 8081)"},
    {"--wyoming-port", "KOKORO_WYOMING_PORT", T_INT, OFF(wyoming_port), 0, 65535,
     "port of the Wyoming protocol (Home Assistant's voices; 10200 is its usual port), on the "
     "same workers and queue, 0 = none (default 0)"},
    {"--model", "KOKORO_MODEL", T_STR, OFF(model), 0, 0,
     "model weights (default models/kokoro.onnx)"},
    {"--voices", "KOKORO_VOICES", T_STR, OFF(voices), 0, 0,
     "voices folder or archive (default models/voices)"},
    {"--lexicon", "KOKORO_LEXICON_DIR", T_STR, OFF(lexicon), 0, 0,
     "text front-end data (default models/lexicon)"},
    {"--user-lexicon", "KOKORO_USER_LEXICON", T_STR, OFF(user_lexicon), 0, 0,
     "JSON object of word -> phonemes, before the built-in dictionaries (default: none)"},
    {"--default-voice", "KOKORO_DEFAULT_VOICE", T_STR, OFF(default_voice), 0, 0,
     "voice when a request names none (default af_heart)"},
    {"--workers", "KOKORO_WORKERS", T_INT, OFF(workers), 0, 256,
     "inference workers (default 0 = one per usable CPU, cgroup quota included)"},
    {"--threads-per-worker", "KOKORO_THREADS_PER_WORKER", T_INT, OFF(threads_per_worker), 0, 64,
     "most threads one synthesis uses (default 0 = usable CPUs: a lone request gets every "
     "core, concurrent ones share them)"},
    {"--job-timeout", "KOKORO_JOB_TIMEOUT", T_INT, OFF(job_timeout), 1, 86400,
     "seconds a request may compute; past it 504, or a stream ends with an error (default 120)"},
    {"--max-audio", "KOKORO_MAX_AUDIO_SECONDS", T_INT, OFF(max_audio_s), 1, 86400,
     "seconds of audio one request (a whole batch too) may produce, else 413 (default 600)"},
    {"--max-frames", "KOKORO_MAX_FRAMES", T_INT, OFF(max_frames), 100, 10000,
     "frames (25 ms) per forward pass: bounds a worker's memory at 400 KB each (default 800)"},
    {"--batch-max-chars", "KOKORO_BATCH_MAX_CHARS", T_INT, OFF(batch_max_chars), 1, 10000000,
     "characters of all the items of a batch together, else 413 (default 20000)"},
    {"--queue", "KOKORO_QUEUE_DEPTH", T_INT, OFF(queue_depth), 0, 100000,
     "requests that may wait for a worker; beyond it 503 Overloaded (default 16)"},
    {"--max-body", "KOKORO_MAX_BODY_BYTES", T_SIZE, OFF(max_body), 64, 1L << 30,
     "largest request body in bytes, else 413 (default 1048576)"},
    {"--max-text", "KOKORO_MAX_TEXT_CHARS", T_INT, OFF(max_text), 1, 10000000,
     "longest text in characters, else 413 (default 10000)"},
    {"--max-header", "KOKORO_MAX_HEADER_BYTES", T_SIZE, OFF(max_header), 1024, 1L << 20,
     "largest request line + headers in bytes (default 16384)"},
    {"--idle-timeout", "KOKORO_IDLE_TIMEOUT", T_INT, OFF(idle_timeout), 1, 86400,
     "seconds a connection may stay silent before it is closed (default 30)"},
    {"--request-timeout", "KOKORO_REQUEST_TIMEOUT", T_INT, OFF(request_timeout), 1, 3600,
     "seconds a client has to send a whole request, head and body, else 408 (default 10)"},
    {"--max-connections", "KOKORO_MAX_CONNECTIONS", T_INT, OFF(max_connections), 1, 100000,
     "open connections at most (default 256)"},
    {"--max-per-ip", "KOKORO_MAX_PER_IP", T_INT, OFF(max_per_ip), 0, 100000,
     "open connections per client address, 0 = no limit; behind a sidecar every client is "
     "127.0.0.1 (default 64)"},
    {"--drain-timeout", "KOKORO_DRAIN_TIMEOUT", T_INT, OFF(drain_timeout), 0, 3600,
     "seconds in-flight requests may take after SIGTERM (default 25)"},
    {"--api-key", "KOKORO_API_KEY", T_STR, OFF(api_key), 0, 0,
     "require `Authorization: Bearer KEY` on the API routes (default: none)"},
    {"--cors-origins", "KOKORO_CORS_ORIGINS", T_STR, OFF(cors_origins), 0, 0,
     "allowed browser origins, `*` or comma-separated (default: no CORS)"},
    {"--web-dir", "KOKORO_WEB_DIR", T_STR, OFF(web_dir), 0, 0,
     "folder served at /web (default web)"},
    {"--log-level", "KOKORO_LOG_LEVEL", T_LEVEL, OFF(log_level), 0, 0,
     "debug, info, warn or error (default info)"},
};
#define N_OPTIONS (sizeof options / sizeof options[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: kokoro serve [options]\n\n"
               "Serves the speech API over HTTP. Every option can also be set by the environment\n"
               "variable shown; a flag wins over the environment.\n\n");
    for (size_t i = 0; i < N_OPTIONS; i++)
        fprintf(f, "  %-22s %-26s %s\n", options[i].flag, options[i].env, options[i].help);
    fprintf(f, "  %-22s %-26s %s\n", "-h, --help", "", "show this text");
}

static int set(sv_config *cfg, const option *o, const char *value, const char *from)
{
    char *p = (char *)cfg + o->offset;
    if (o->type == T_STR) {
        *(const char **)p = value[0] ? value : NULL;
        return 0;
    }
    if (o->type == T_LEVEL) {
        int lv = sv_log_level_parse(value);
        if (lv < 0) {
            fprintf(stderr, "kokoro serve: %s: log level must be debug, info, warn or error, not "
                            "\"%s\"\n", from, value);
            return -1;
        }
        *(int *)p = lv;
        return 0;
    }
    errno = 0;
    char *end;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < o->min || v > o->max) {
        fprintf(stderr, "kokoro serve: %s: expected a whole number from %ld to %ld, not \"%s\"\n",
                from, o->min, o->max, value);
        return -1;
    }
    if (o->type == T_INT)
        *(int *)p = (int)v;
    else
        *(size_t *)p = (size_t)v;
    return 0;
}

int sv_config_parse(sv_config *cfg, int argc, char **argv)
{
    *cfg = (sv_config){
        .host = "0.0.0.0",
        .port = 8000,
        .model = "models/kokoro.onnx",
        .voices = "models/voices",
        .default_voice = "af_heart",
        .web_dir = "web",
        .threads_per_worker = 0,
        .job_timeout = 120,
        .max_audio_s = 600,
        .max_frames = 800,
        .batch_max_chars = 20000,
        .queue_depth = 16,
        .max_body = 1 << 20,
        .max_text = 10000,
        .max_header = 16384,
        .idle_timeout = 30,
        .request_timeout = 10,
        .probe_port = 8081,
        .max_per_ip = 64,
        .max_connections = 256,
        .drain_timeout = 25,
        .log_level = SV_LOG_INFO,
    };
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *v = getenv(options[i].env);
        if (v && set(cfg, &options[i], v, options[i].env))
            return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        }
        const option *o = NULL;
        const char *value = NULL;
        for (size_t k = 0; k < N_OPTIONS && !o; k++) {
            size_t n = strlen(options[k].flag);
            if (strncmp(a, options[k].flag, n) == 0 && (a[n] == 0 || a[n] == '=')) {
                o = &options[k];
                value = a[n] == '=' ? a + n + 1 : NULL;
            }
        }
        if (!o) {
            fprintf(stderr, "kokoro serve: unknown option \"%s\" (see kokoro serve --help)\n", a);
            return -1;
        }
        if (!value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "kokoro serve: %s needs a value\n", a);
                return -1;
            }
            value = argv[++i];
        }
        if (set(cfg, o, value, o->flag))
            return -1;
    }
    /* An empty value clears an optional setting; the required ones fall back to defaults. */
    if (!cfg->default_voice)
        cfg->default_voice = "af_heart";
    if (!cfg->host)
        cfg->host = "0.0.0.0";
    if (!cfg->model)
        cfg->model = "models/kokoro.onnx";
    if (!cfg->voices)
        cfg->voices = "models/voices";
    if (!cfg->web_dir)
        cfg->web_dir = "web";
    return 0;
}
