/* handler.h - what the route handlers see: the server's state, one request, an error, and the
 * response object a handler returns (bytes, a file, a streamed job, a redirect or an error).
 * Nothing here names the HTTP library: transport.c alone turns requests and responses into
 * libmicrohttpd's, so handlers (routes.c, web.c) and the Wyoming port share these types and
 * can be tested without a socket. Internal to src/server. */
#ifndef SV_HANDLER_H
#define SV_HANDLER_H

#include "kokoro.h"
#include "server/config.h"
#include "server/pool.h"
#include "server/svutil.h"

#include <jansson.h>
#include <stdatomic.h>

#define SV_MAX_LANGS 16

/* The process's one server: settings, the engine, and the flags the lifecycle (server.c)
 * sets and every connection reads. */
typedef struct {
    sv_config cfg;
    sv_engine eng;
    /* Written once by the loader and read by connection threads before and after that, so
     * every access is atomic; NULL until the workers are up. */
    sv_pool *_Atomic pool;
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

/* One request as a handler sees it. The transport fills it and owns it; a handler reads it
 * and may hand it the job it ran (r->job), whose timings the access log then reports. */
typedef struct sv_req {
    sv_server *srv;
    const char *method;
    char *path;
    const char *content_type; /* the Content-Type header, NULL when absent */
    kk_buf body;
    char id[48];              /* X-Request-Id: the client's when safe, else made up */
    sv_job *job;              /* one reference, released with the request */
    /* Nonzero when the client is gone (the transport's test on its socket). */
    int (*client_gone)(void *ctx);
    void *gone_ctx;
} sv_req;

typedef enum {
    SV_RESP_NONE,     /* no response could be made (out of memory): the connection is closed */
    SV_RESP_BYTES,    /* status, content type and a whole body */
    SV_RESP_FILE,     /* 200 with an open file's bytes (static files) */
    SV_RESP_STREAM,   /* 200, chunked: a job's output as the worker produces it */
    SV_RESP_REDIRECT, /* 308 to location */
    SV_RESP_ERROR     /* err, as the route's family writes errors */
} sv_resp_kind;

/* What a handler returns. The response owns what it points to (body, fd, job, location):
 * the transport takes it over, or sv_resp_release frees it. */
typedef struct {
    sv_resp_kind kind;
    int status;
    const char *content_type; /* static storage */
    char *body;               /* BYTES: malloc'd, may be NULL when len is 0 */
    size_t len;
    int fd;                   /* FILE */
    size_t size;
    sv_job *job;              /* STREAM: one reference */
    char *location;           /* REDIRECT: malloc'd */
    sv_err err;               /* ERROR */
} sv_resp;

typedef sv_resp (*sv_handler)(sv_req *r);

/* Fills e and returns -1, so that validators read `return sv_fail(e, 400, ...)`. */
int sv_fail(sv_err *e, int status, const char *type, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void sv_err_clear(sv_err *e);

/* Response constructors (response.c). Each takes ownership of what it is given, also when
 * it fails, and none fails but by returning SV_RESP_NONE when out of memory. */
static inline sv_resp sv_resp_none(void) { return (sv_resp){.kind = SV_RESP_NONE, .fd = -1}; }
sv_resp sv_resp_error(sv_err *e); /* moves e (its details) into the response */
sv_resp sv_resp_json(int status, json_t *body); /* steals body */
sv_resp sv_resp_bytes(int status, const char *mime, char *data, size_t n); /* data malloc'd */
sv_resp sv_resp_file(int fd, size_t size, const char *mime);
sv_resp sv_resp_redirect(const char *location);
/* Streams a submitted job's output (the response takes a reference of its own). */
sv_resp sv_resp_stream(sv_job *job, const char *mime);
/* Frees what a response owns, cancelling a stream's job; for responses never sent. */
void sv_resp_release(sv_server *s, sv_resp *resp);

/* The body of an error in a family's shape, malloc'd JSON (NULL when out of memory); the
 * message and field are made valid UTF-8 first. */
char *sv_err_body(sv_err *e, int family, size_t *len);
/* Retry-After seconds for a 503: the pool's estimate for Overloaded, else 5. */
int sv_err_retry_after(sv_server *s, const sv_err *e);

/* Blocks until the job is done (want_first = 0) or has output or is done (want_first = 1),
 * cancelling it if the client hangs up or the drain bound passes. */
void sv_wait_job(sv_req *r, sv_job *job, int want_first);

/* Submits a job, or fills e with 503 Overloaded / NotReady. Returns 0 or -1. */
int sv_submit(sv_req *r, sv_job *job, sv_err *e);

/* A streamed response's next bytes: copies at most max of job's output into buf, waiting
 * for them, and cancels the job when gone(ctx) says the client left or the drain bound
 * passed. Returns the count (> 0), SV_STREAM_END after the last byte, or SV_STREAM_FAILED
 * when the job stopped short (logged), so that the transport ends the body in error. */
enum { SV_STREAM_END = 0, SV_STREAM_FAILED = -1 };
long sv_stream_next(sv_server *s, sv_job *job, char *buf, size_t max, int (*gone)(void *ctx),
                    void *ctx);
/* The end of a streamed response: cancels the job if it still runs (the client left), and
 * drops the stream's reference. */
void sv_stream_close(sv_server *s, sv_job *job);

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
 * request must match the voice's language. Writes a code the front end accepts. Returns 0,
 * or -1 with e filled (UnsupportedLanguage). */
int sv_pick_lang(sv_server *s, const char *requested, const char *voice_spec, int strict,
                 const char *param, char out[8], sv_err *e);
/* Maps an OpenAI voice name to a Kokoro voice, or NULL. */
const char *sv_openai_voice(const char *name);
extern const char *const sv_openai_voice_map[][2];

/* Route handlers (routes.c, web.c); transport.c's route table names them. */
sv_resp sv_h_synthesize(sv_req *r);
sv_resp sv_h_batch(sv_req *r);
sv_resp sv_h_speech(sv_req *r);
sv_resp sv_h_captioned(sv_req *r);
sv_resp sv_h_phonemize(sv_req *r);
sv_resp sv_h_voices(sv_req *r);
sv_resp sv_h_models(sv_req *r);
sv_resp sv_h_model_one(sv_req *r);
sv_resp sv_h_health(sv_req *r);
sv_resp sv_h_ready(sv_req *r);
sv_resp sv_h_metrics(sv_req *r);
sv_resp sv_h_openapi(sv_req *r);
sv_resp sv_h_root(sv_req *r);
sv_resp sv_h_web(sv_req *r);

/* The OpenAPI 3.1 document, NUL-terminated (openapi.c). */
extern const char sv_openapi_json[];

#endif
