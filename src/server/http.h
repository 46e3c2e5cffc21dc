/* http.h - what the server's modules share: the server state, one request, errors, and the
 * helpers that turn them into responses. Internal to src/server. */
#ifndef SV_HTTP_H
#define SV_HTTP_H

#include "kokoro.h"
#include "server/config.h"
#include "server/pool.h"
#include "server/svutil.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdatomic.h>

#define SV_MAX_LANGS 16

typedef struct {
    sv_config cfg;
    sv_engine eng;
    /* Written once by the loader and read by connection threads before and after that, so
     * every access is atomic; NULL until the workers are up. */
    sv_pool *_Atomic pool;
    struct MHD_Daemon *daemon;
    atomic_int ready;     /* model, voices and workers are up */
    atomic_int draining;  /* SIGTERM received: refuse new work */
    atomic_int abort_all; /* the drain bound passed: cancel what still runs */
    atomic_int active;    /* requests in progress */
    atomic_int load_failed;
    const char *langs[SV_MAX_LANGS]; /* languages the text front end speaks */
    int n_langs;
    double started;
} sv_server;

/* Error families: the seed's {"error","message","details"} or OpenAI's {"error":{...}}. */
enum { SV_FAM_SEED, SV_FAM_OPENAI };

/* An error to send: HTTP status, a type name from api.md, a message, the field at fault. */
typedef struct {
    int status;
    const char *type;
    char message[512];
    char param[64];
    json_t *details; /* owned; may be NULL */
    const char *allow; /* for 405: the methods the route takes */
} sv_err;

/* One request, from its first byte to its access-log line. */
typedef struct sv_req {
    sv_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    char *path;
    const char *route; /* the route's pattern, for logs and metrics */
    int family;
    sv_buf body;
    size_t discarded;
    int too_large;
    double t0;
    int status;
    size_t bytes;
    sv_job *job; /* a streamed job, logged and released at the end */
    char id[48];
    int fd;
} sv_req;

/* Fills e and returns -1, so that validators read `return sv_fail(e, 400, ...)`. */
int sv_fail(sv_err *e, int status, const char *type, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void sv_err_clear(sv_err *e);

/* Responses. Each queues a response on r's connection and returns the MHD result. */
enum MHD_Result sv_respond_error(sv_req *r, sv_err *e);
enum MHD_Result sv_respond_json(sv_req *r, int status, json_t *body); /* steals body */
/* Takes ownership of data (malloc'd). */
enum MHD_Result sv_respond_bytes(sv_req *r, int status, const char *mime, char *data, size_t n);
/* Streams a submitted job's output as it is produced (chunked). */
enum MHD_Result sv_respond_stream(sv_req *r, sv_job *job, const char *mime);
enum MHD_Result sv_respond_fd(sv_req *r, int fd, size_t size, const char *mime);
enum MHD_Result sv_respond_redirect(sv_req *r, const char *location);

/* Blocks until the job is done (want_first = 0) or has output or is done (want_first = 1),
 * cancelling it if the client hangs up or the drain bound passes. */
void sv_wait_job(sv_req *r, sv_job *job, int want_first);

/* Submits a job, or fills e with 503 Overloaded / NotReady. Returns 0 or -1. */
int sv_submit(sv_req *r, sv_job *job, sv_err *e);

/* Strict JSON body: an object, no duplicate keys, valid UTF-8, a JSON Content-Type when one
 * is given. Returns the object (caller decrefs) or NULL with e filled. */
json_t *sv_parse_body(sv_req *r, sv_err *e);
/* Rejects members not in the NULL-terminated list. Returns 0 or -1. */
int sv_only_fields(json_t *obj, const char *const *allowed, sv_err *e);
/* Typed members: absent (or null) leaves *out unchanged and returns 0; a wrong type fails. */
int sv_get_string(json_t *obj, const char *name, const char **out, sv_err *e);
int sv_get_number(json_t *obj, const char *name, double *out, sv_err *e);
int sv_get_bool(json_t *obj, const char *name, int *out, sv_err *e);

/* Resolves a voice spec (names, OpenAI aliases, blends) into one kokoro_voice_blend accepts.
 * Returns a malloc'd spec, or NULL with e filled (UnsupportedVoice, field `param`). */
char *sv_resolve_voice(sv_server *s, const char *spec, const char *param, sv_err *e);
/* Picks the language: requested (may be NULL) against what the voice implies. strict: the
 * request must match the voice's language. Writes a code the front end accepts. */
int sv_pick_lang(sv_server *s, const char *requested, const char *voice_spec, int strict,
                 const char *param, char out[8], sv_err *e);
/* Maps an OpenAI voice name to a Kokoro voice, or NULL. */
const char *sv_openai_voice(const char *name);
extern const char *const sv_openai_voice_map[][2];

/* Route handlers (routes.c, web.c). */
enum MHD_Result sv_h_synthesize(sv_req *r);
enum MHD_Result sv_h_batch(sv_req *r);
enum MHD_Result sv_h_speech(sv_req *r);
enum MHD_Result sv_h_captioned(sv_req *r);
enum MHD_Result sv_h_phonemize(sv_req *r);
enum MHD_Result sv_h_voices(sv_req *r);
enum MHD_Result sv_h_models(sv_req *r);
enum MHD_Result sv_h_model_one(sv_req *r);
enum MHD_Result sv_h_health(sv_req *r);
enum MHD_Result sv_h_ready(sv_req *r);
enum MHD_Result sv_h_metrics(sv_req *r);
enum MHD_Result sv_h_openapi(sv_req *r);
enum MHD_Result sv_h_root(sv_req *r);
enum MHD_Result sv_h_web(sv_req *r);

/* The OpenAPI 3.1 document, NUL-terminated (openapi.c). */
extern const char sv_openapi_json[];

#endif
