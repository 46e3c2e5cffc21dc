/* server.c - the HTTP layer of `kokoro serve`: libmicrohttpd with one thread per connection,
 * routing, limits, authentication, CORS, responses (buffered and streamed), access logs,
 * model loading in the background, and the SIGTERM drain.
 *
 * Two listeners: the API port, and a probe port (/health, /ready, /metrics) with its own few
 * connection slots, so that idle connections filling the API port cannot make the kubelet
 * restart the pod. A sweeper thread holds every connection to a deadline for a complete
 * request (libmicrohttpd's own timeout only measures silence, which a client sending a byte
 * a second never lets run out). */
#include "server/server.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/wyoming.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef enum MHD_Result (*handler_fn)(sv_req *r);

typedef struct {
    const char *method;
    const char *path;   /* exact, or a prefix when it ends with '*' */
    handler_fn fn;
    int auth;           /* needs the API key when one is configured */
    int needs_engine;   /* 503 NotReady until the model is loaded, and while draining */
    int family;
} route;

static const route routes[] = {
    {"POST", "/synthesize", sv_h_synthesize, 1, 1, SV_FAM_SEED},
    {"POST", "/synthesize/batch", sv_h_batch, 1, 1, SV_FAM_SEED},
    {"GET", "/health", sv_h_health, 0, 0, SV_FAM_SEED},
    {"GET", "/ready", sv_h_ready, 0, 0, SV_FAM_SEED},
    {"POST", "/v1/audio/speech", sv_h_speech, 1, 1, SV_FAM_OPENAI},
    {"GET", "/v1/audio/voices", sv_h_voices, 1, 1, SV_FAM_OPENAI},
    {"GET", "/v1/models", sv_h_models, 1, 0, SV_FAM_OPENAI},
    {"GET", "/v1/models/*", sv_h_model_one, 1, 0, SV_FAM_OPENAI},
    {"GET", "/v1/audio/models", sv_h_models, 1, 0, SV_FAM_OPENAI},
    {"POST", "/dev/captioned_speech", sv_h_captioned, 1, 1, SV_FAM_OPENAI},
    {"POST", "/dev/phonemize", sv_h_phonemize, 1, 1, SV_FAM_OPENAI},
    {"GET", "/metrics", sv_h_metrics, 0, 0, SV_FAM_SEED},
    {"GET", "/openapi.json", sv_h_openapi, 0, 0, SV_FAM_SEED},
    {"GET", "/web*", sv_h_web, 0, 0, SV_FAM_SEED},
    {"GET", "/", sv_h_root, 0, 0, SV_FAM_SEED},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

/* What the probe port serves: nothing that needs a worker or the request body. */
static const route probe_routes[] = {
    {"GET", "/health", sv_h_health, 0, 0, SV_FAM_SEED},
    {"GET", "/ready", sv_h_ready, 0, 0, SV_FAM_SEED},
    {"GET", "/metrics", sv_h_metrics, 0, 0, SV_FAM_SEED},
};
#define N_PROBE_ROUTES (sizeof probe_routes / sizeof probe_routes[0])
#define DISCARD_MAX ((size_t)16 << 20) /* bytes of a too-large body read on to its end */
#define PROBE_CONNECTIONS 16 /* the probe port's slots: a kubelet and a scraper need few */

/* One listening port and the routes it serves (the cls of its libmicrohttpd callbacks). */
typedef struct {
    sv_server *srv;
    const route *routes;
    size_t n_routes;
    const char *name;
} listener;

static sv_server server;
static listener api_listener = {&server, routes, N_ROUTES, "api"};
static listener probe_listener = {&server, probe_routes, N_PROBE_ROUTES, "probe"};
static struct MHD_Daemon *probe_daemon;

/* ------------------------------------------------------------------ errors */

int sv_fail(sv_err *e, int status, const char *type, const char *param, const char *fmt, ...)
{
    e->status = status;
    e->type = type;
    snprintf(e->param, sizeof e->param, "%s", param ? param : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

void sv_err_clear(sv_err *e)
{
    json_decref(e->details);
    e->details = NULL;
}

/* ------------------------------------------------------------------ responses */

static int origin_allowed(const char *list, const char *origin)
{
    size_t n = strlen(origin);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > p && last[-1] == ' ')
            last--;
        if ((size_t)(last - p) == n && strncmp(p, origin, n) == 0)
            return 1;
        p = end;
    }
    return 0;
}

/* Headers every response carries: request id, CORS, and Connection: close while draining. */
static void common_headers(sv_req *r, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Request-Id", r->id);
    const char *cors = r->srv->cfg.cors_origins;
    const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
    /* With a list of origins every answer depends on Origin (allowed, refused or absent), so
     * a cache must not hand one origin's answer to another. */
    if (cors && strcmp(cors, "*") != 0)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Origin");
    if (cors && origin) {
        if (strcmp(cors, "*") == 0)
            MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
        else if (origin_allowed(cors, origin))
            MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
        MHD_add_response_header(resp, "Access-Control-Expose-Headers",
                                "Retry-After, X-Request-Id, Content-Length");
    }
    if (atomic_load(&r->srv->draining))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
}

static enum MHD_Result queue(sv_req *r, int status, struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO;
    common_headers(r, resp);
    r->status = status;
    enum MHD_Result rc = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return rc;
}

enum MHD_Result sv_respond_bytes(sv_req *r, int status, const char *mime, char *data, size_t n)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(n, n ? data : (void *)"", n ? MHD_RESPMEM_MUST_FREE
                                                                     : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(data);
        return MHD_NO;
    }
    if (!n)
        free(data);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mime);
    r->bytes = n;
    return queue(r, status, resp);
}

enum MHD_Result sv_respond_json(sv_req *r, int status, json_t *body)
{
    char *s = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(body);
    if (!s)
        return MHD_NO;
    return sv_respond_bytes(r, status, "application/json", s, strlen(s));
}

enum MHD_Result sv_respond_error(sv_req *r, sv_err *e)
{
    json_t *body;
    sv_utf8_sanitize(e->message);
    sv_utf8_sanitize(e->param);
    if (r->family == SV_FAM_OPENAI) {
        const char *kind = e->status >= 500 ? "server_error"
                           : e->status == 401 ? "authentication_error"
                           : e->status == 404 ? "not_found_error"
                                              : "invalid_request_error";
        body = json_pack("{s:{s:s, s:s, s:s?, s:s}}", "error", "message", e->message, "type",
                         kind, "param", e->param[0] ? e->param : NULL, "code", e->type);
        if (body && e->details)
            json_object_set(json_object_get(body, "error"), "details", e->details);
    } else {
        body = json_pack("{s:s, s:s, s:o}", "error", e->type, "message", e->message, "details",
                         e->details ? json_incref(e->details) : json_object());
        if (body && !e->details && e->param[0])
            json_object_set_new(json_object_get(body, "details"), "field",
                                json_string(e->param));
    }
    if (!body) /* the message was not UTF-8 (it quotes input); say so plainly */
        body = json_pack("{s:s, s:s}", "error", e->type, "message", "invalid request");
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    struct MHD_Response *resp = s ? MHD_create_response_from_buffer(strlen(s), s,
                                                                     MHD_RESPMEM_MUST_FREE)
                                  : NULL;
    if (!resp) {
        free(s);
        sv_err_clear(e);
        return MHD_NO;
    }
    r->bytes = strlen(s);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (e->status == 503) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d",
                 r->srv->pool && strcmp(e->type, "Overloaded") == 0
                     ? sv_pool_retry_after(r->srv->pool)
                     : 5);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (e->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, e->allow);
    if (e->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    int status = e->status;
    sv_err_clear(e);
    return queue(r, status, resp);
}

enum MHD_Result sv_respond_fd(sv_req *r, int fd, size_t size, const char *mime)
{
    struct MHD_Response *resp = MHD_create_response_from_fd(size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mime);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    r->bytes = size;
    return queue(r, 200, resp);
}

enum MHD_Result sv_respond_redirect(sv_req *r, const char *location)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    return queue(r, 308, resp);
}

/* ------------------------------------------------------------------ jobs */

/* Nonzero when the connection is gone: reset by the client (POLLERR/POLLHUP: an RST came
 * in) or closed. A FIN alone (POLLRDHUP) is not enough: a client may shut down its sending
 * side after the request and still read the answer (HTTP/1.1 allows it, proxies and
 * `shutdown(SHUT_WR)` clients do it). A client that closed its socket completely is found
 * by the first write the server makes to it, which fails (a stream stops at its next chunk;
 * libmicrohttpd then ends the response and the job is cancelled in stream_free). */
static int client_gone(int fd)
{
    if (fd < 0)
        return 0;
    struct pollfd p = {.fd = fd, .events = 0};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

/* Restarts the connection's idle clock: time spent synthesising is not the client's silence. */
static void touch(struct MHD_Connection *conn)
{
    /* libmicrohttpd restarts the clock only when the timeout goes from 0 to a value. */
    MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
    MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
                              (unsigned)server.cfg.idle_timeout);
}

void sv_wait_job(sv_req *r, sv_job *job, int want_first)
{
    pthread_mutex_lock(&job->mu);
    while (job->state != SV_JOB_DONE && !(want_first && job->out.len > job->out_pos)) {
        sv_job_wait(job, 50);
        if (!atomic_load(&job->cancel) &&
            (client_gone(r->fd) || atomic_load(&r->srv->abort_all))) {
            pthread_mutex_unlock(&job->mu);
            sv_pool_cancel(r->srv->pool, job);
            pthread_mutex_lock(&job->mu);
        }
    }
    pthread_mutex_unlock(&job->mu);
    touch(r->conn);
}

int sv_submit(sv_req *r, sv_job *job, sv_err *e)
{
    sv_server *s = r->srv;
    if (atomic_load(&s->draining) || !s->pool)
        return sv_fail(e, 503, "NotReady", NULL, "the server is shutting down");
    job->timeout_s = s->cfg.job_timeout;
    job->max_audio_s = s->cfg.max_audio_s;
    job->max_frames = s->cfg.max_frames;
    if (sv_pool_submit(s->pool, job)) {
        sv_metrics_event(SV_EV_OVERLOADED);
        return sv_fail(e, 503, "Overloaded", NULL,
                       "all workers are busy and the queue is full; retry after the time in "
                       "Retry-After");
    }
    return 0;
}

/* What a streamed response reads from: the job, and the connection's socket to watch. */
typedef struct {
    sv_job *job;
    int fd;
    struct MHD_Connection *conn;
} stream;

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream *st = cls;
    sv_job *job = st->job;
    pthread_mutex_lock(&job->mu);
    for (;;) {
        if (job->out_pos < job->out.len) {
            size_t n = job->out.len - job->out_pos;
            if (n > max)
                n = max;
            memcpy(buf, job->out.data + job->out_pos, n);
            job->out_pos += n;
            job->sent += n;
            if (job->out_pos == job->out.len)
                job->out_pos = job->out.len = 0; /* reuse the buffer */
            pthread_cond_broadcast(&job->cv); /* the worker may wait for this (wait_sent) */
            pthread_mutex_unlock(&job->mu);
            touch(st->conn);
            return (ssize_t)n;
        }
        if (job->state == SV_JOB_DONE) {
            int ok = job->status == KOKORO_OK || job->error_sent;
            if (!ok)
                sv_log(SV_LOG_WARN, "stream ended early: %s", job->err);
            pthread_mutex_unlock(&job->mu);
            return ok ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
        }
        sv_job_wait(job, 50);
        if (!atomic_load(&job->cancel) &&
            (client_gone(st->fd) || atomic_load(&server.abort_all))) {
            pthread_mutex_unlock(&job->mu);
            sv_pool_cancel(server.pool, job);
            pthread_mutex_lock(&job->mu);
        }
    }
}

static void stream_free(void *cls)
{
    stream *st = cls;
    if (server.pool)
        sv_pool_cancel(server.pool, st->job); /* a no-op when it finished */
    sv_job_unref(st->job);
    free(st);
}

enum MHD_Result sv_respond_stream(sv_req *r, sv_job *job, const char *mime)
{
    stream *st = malloc(sizeof *st);
    if (!st)
        return MHD_NO;
    *st = (stream){job, r->fd, r->conn};
    sv_job_ref(job);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, st, stream_free);
    if (!resp) {
        stream_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mime);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    if (!r->job) {
        sv_job_ref(job);
        r->job = job;
    }
    return queue(r, 200, resp);
}

/* ------------------------------------------------------------------ connection deadlines */

/* One open connection of either port, from accept to close. The request deadline runs while
 * it is CT_READING: from accept (or, on a kept-alive connection, from the first byte after
 * the previous response) until its head and body are in. */
typedef struct conn_track {
    struct conn_track *prev, *next;
    int fd;
    struct sockaddr_storage peer; /* tells the socket from a later reuse of its number */
    socklen_t peer_len;
    int state;
    double t_start;   /* CT_READING, CT_ANSWERED: when the request began */
    double t_idle;    /* CT_IDLE: when the previous response ended */
    double t_checked; /* CT_IDLE: the sweeper's previous look */
} conn_track;

enum {
    CT_READING,  /* a request is being read: the deadline runs */
    CT_ANSWERED, /* answered before its body (401, 413): the deadline runs, no 408 is written */
    CT_BUSY,     /* the request is complete: the handler has it */
    CT_IDLE,     /* kept alive between requests */
    CT_CUT       /* the deadline passed: shut down, waiting for libmicrohttpd to close it */
};

#define SWEEP_MS 250

static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static conn_track *conns;
static pthread_t sweeper;
static int sweeper_running;
static atomic_int sweeper_stop;

static const char TIMEOUT_REPLY[] =
    "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json\r\n"
    "Content-Length: 100\r\n\r\n"
    "{\"error\":\"RequestTimeout\",\"message\":\"the request was not complete in time\",\"details\":{}}"
    "          ";

/* MHD_OPTION_NOTIFY_CONNECTION: tracks each connection from accept to close. libmicrohttpd
 * calls CLOSED before it closes the socket, and both take conns_lock, so the sweeper never
 * acts on a closed descriptor; same_peer guards against a reused number all the same. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_track *c = calloc(1, sizeof *c);
        if (!c)
            return; /* untracked: only the idle timeout holds it */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        c->fd = ci ? ci->connect_fd : -1;
        c->peer_len = sizeof c->peer;
        if (c->fd < 0 || getpeername(c->fd, (struct sockaddr *)&c->peer, &c->peer_len))
            c->peer_len = 0;
        c->state = CT_READING;
        c->t_start = sv_now();
        pthread_mutex_lock(&conns_lock);
        c->next = conns;
        if (conns)
            conns->prev = c;
        conns = c;
        pthread_mutex_unlock(&conns_lock);
        *socket_context = c;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        conn_track *c = *socket_context;
        pthread_mutex_lock(&conns_lock);
        if (c->prev)
            c->prev->next = c->next;
        else
            conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
        pthread_mutex_unlock(&conns_lock);
        free(c);
        *socket_context = NULL;
    }
}

static conn_track *track_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* Moves the connection's request to state; returns its previous state (CT_BUSY when
 * untracked). A connection the sweeper cut stays cut. */
static int track_set(struct MHD_Connection *conn, int state)
{
    conn_track *c = track_of(conn);
    if (!c)
        return CT_BUSY;
    pthread_mutex_lock(&conns_lock);
    int was = c->state;
    if (was != CT_CUT) {
        if (state == CT_READING && was != CT_IDLE)
            state = was; /* still the same request: its clock keeps running */
        else if (state == CT_READING)
            c->t_start = c->t_checked; /* the sweeper had not seen it begin yet */
        c->state = state;
        if (state == CT_IDLE)
            c->t_idle = c->t_checked = sv_now();
    }
    pthread_mutex_unlock(&conns_lock);
    return was;
}

static int same_peer(const conn_track *c)
{
    struct sockaddr_storage now;
    socklen_t len = sizeof now;
    return c->peer_len && getpeername(c->fd, (struct sockaddr *)&now, &len) == 0 &&
           len == c->peer_len && memcmp(&now, &c->peer, len) == 0;
}

/* Every SWEEP_MS: notices kept-alive connections starting a new request, and shuts down
 * those whose request is not complete within --request-timeout (408 first when nothing has
 * been answered). shutdown() wakes the connection's thread, whose read then ends it. */
static void *sweep_main(void *arg)
{
    sv_server *s = arg;
    while (!atomic_load(&sweeper_stop)) {
        usleep(SWEEP_MS * 1000);
        double now = sv_now();
        int cut = 0;
        pthread_mutex_lock(&conns_lock);
        for (conn_track *c = conns; c; c = c->next) {
            if (c->state == CT_IDLE) {
                /* TCP_INFO dates the last byte received: a byte after the previous response
                 * (50 ms of slack for the clock's grain) starts the next request. */
                struct tcp_info ti;
                socklen_t tl = sizeof ti;
                if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
                    now - ti.tcpi_last_data_recv / 1000.0 > c->t_idle + 0.05) {
                    c->state = CT_READING;
                    c->t_start = c->t_checked;
                }
                c->t_checked = now;
            }
            if ((c->state == CT_READING || c->state == CT_ANSWERED) &&
                now - c->t_start > s->cfg.request_timeout && same_peer(c)) {
                if (c->state == CT_READING)
                    (void)!send(c->fd, TIMEOUT_REPLY, sizeof TIMEOUT_REPLY - 1,
                                MSG_DONTWAIT | MSG_NOSIGNAL);
                shutdown(c->fd, SHUT_RDWR);
                c->state = CT_CUT;
                cut++;
            }
        }
        pthread_mutex_unlock(&conns_lock);
        if (cut)
            sv_log(SV_LOG_WARN, "closed %d connection(s) whose request was not complete within "
                   "%d s (--request-timeout)", cut, s->cfg.request_timeout);
    }
    return NULL;
}

/* ------------------------------------------------------------------ requests */

static int path_matches(const char *pattern, const char *path)
{
    size_t n = strlen(pattern);
    if (n && pattern[n - 1] == '*')
        return strncmp(pattern, path, n - 1) == 0;
    return strcmp(pattern, path) == 0;
}

static int safe_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!(s[n] == '-' || s[n] == '_' || s[n] == '.' || (s[n] >= '0' && s[n] <= '9') ||
              (s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z')))
            return 0;
    return n > 0 && n < 48;
}

static sv_req *req_new(sv_server *s, struct MHD_Connection *conn, const char *url,
                       const char *method)
{
    static atomic_ulong counter;
    sv_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->srv = s;
    r->conn = conn;
    r->method = method;
    r->path = strdup(url);
    if (!r->path) {
        free(r);
        return NULL;
    }
    r->t0 = sv_now();
    r->fd = -1;
    r->route = "unmatched";
    r->family = strncmp(url, "/v1/", 4) == 0 || strncmp(url, "/dev/", 5) == 0 ? SV_FAM_OPENAI
                                                                              : SV_FAM_SEED;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci)
        r->fd = ci->connect_fd;
    const char *id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    if (id && safe_id(id))
        snprintf(r->id, sizeof r->id, "%s", id);
    else
        snprintf(r->id, sizeof r->id, "%lx-%lu", (unsigned long)time(NULL),
                 (unsigned long)atomic_fetch_add(&counter, 1) + 1);
    atomic_fetch_add(&s->active, 1);
    return r;
}

static void req_free(sv_req *r)
{
    sv_buf_free(&r->body);
    free(r->path);
    sv_job_unref(r->job);
    atomic_fetch_sub(&r->srv->active, 1);
    free(r);
}

/* Constant-time comparison of the bearer token, so its length and bytes do not leak. */
static int token_ok(const char *header, const char *key)
{
    if (!header || strncasecmp(header, "Bearer ", 7) != 0)
        return 0;
    const char *tok = header + 7;
    while (*tok == ' ')
        tok++;
    size_t a = strlen(tok), b = strlen(key);
    unsigned diff = (unsigned)(a ^ b);
    for (size_t i = 0; i < a; i++)
        diff |= (unsigned char)tok[i] ^ (unsigned char)key[i % (b ? b : 1)];
    return diff == 0 && b > 0;
}

static enum MHD_Result preflight(sv_req *r)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, POST, OPTIONS");
    if (r->srv->cfg.cors_origins) {
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                "Authorization, Content-Type, X-Request-Id");
        MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
    }
    return queue(r, 204, resp);
}

/* The route for r's method and path, or NULL; *path_hit: the first route of that path. */
static const route *find_route(const listener *l, const sv_req *r, const route **path_hit)
{
    const route *hit = NULL;
    int head = strcmp(r->method, "HEAD") == 0;
    *path_hit = NULL;
    for (size_t i = 0; i < l->n_routes && !hit; i++) {
        const route *rt = &l->routes[i];
        if (!path_matches(rt->path, r->path))
            continue;
        *path_hit = *path_hit ? *path_hit : rt;
        if (strcmp(rt->method, r->method) == 0 || (head && strcmp(rt->method, "GET") == 0))
            hit = rt;
    }
    return hit;
}

/* Whether r may not use route rt: it needs the API key and lacks it. */
static int unauthorized(const sv_req *r, const route *rt)
{
    return rt->auth && r->srv->cfg.api_key &&
           !token_ok(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization"),
                     r->srv->cfg.api_key);
}

static enum MHD_Result dispatch(sv_req *r, const listener *l)
{
    sv_server *s = r->srv;
    sv_err e = {0};
    if (strcmp(r->method, "OPTIONS") == 0) {
        r->route = "OPTIONS";
        return preflight(r);
    }
    const route *path_hit, *hit = find_route(l, r, &path_hit);
    if (!hit && path_hit) {
        r->route = path_hit->path;
        r->family = path_hit->family;
        sv_fail(&e, 405, "MethodNotAllowed", NULL, "%s %s is not allowed; use %s", r->method,
                r->path, path_hit->method);
        e.allow = strcmp(path_hit->method, "GET") == 0 ? "GET, HEAD, OPTIONS" : "POST, OPTIONS";
        return sv_respond_error(r, &e);
    }
    if (!hit) {
        sv_fail(&e, 404, "NotFound", NULL,
                "no route %s %s; GET /openapi.json lists the routes", r->method, r->path);
        return sv_respond_error(r, &e);
    }
    r->route = hit->path;
    r->family = hit->family;
    if (unauthorized(r, hit)) {
        sv_fail(&e, 401, "Unauthorized", NULL,
                "this server needs an API key: send `Authorization: Bearer <key>`");
        return sv_respond_error(r, &e);
    }
    if (r->too_large) {
        sv_fail(&e, 413, "PayloadTooLarge", NULL, "the request body is larger than %zu bytes",
                s->cfg.max_body);
        e.details = json_pack("{s:I}", "max_bytes", (json_int_t)s->cfg.max_body);
        return sv_respond_error(r, &e);
    }
    if (hit->needs_engine && (atomic_load(&s->draining) || !atomic_load(&s->ready))) {
        sv_fail(&e, 503, "NotReady", NULL,
                atomic_load(&s->draining) ? "the server is shutting down"
                                          : "the model is still loading; retry shortly");
        return sv_respond_error(r, &e);
    }
    return hit->fn(r);
}

/* Called with the raw URI before MHD decodes it: an encoded NUL would silently cut the
 * decoded path short, so such requests are marked and refused. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    static sv_req nul_mark; /* srv == NULL tells it apart from a real request */
    return strstr(uri, "%00") ? &nul_mark : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    const listener *l = cls;
    sv_server *s = l->srv;
    sv_req *r = *con_cls;
    if (!r || !r->srv) {
        /* The head is in: a kept-alive connection's new request, if the sweeper missed it. */
        track_set(conn, CT_READING);
        int nul = r != NULL; /* on_uri's mark */
        r = req_new(s, conn, url, method);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        if (nul) {
            sv_err e = {0};
            sv_fail(&e, 400, "ValidationError", NULL, "the URL contains an encoded NUL (%%00)");
            track_set(conn, CT_ANSWERED);
            return sv_respond_error(r, &e);
        }
        /* Refusals that need no body are answered before it is sent (which also saves the
         * 100-continue): a missing API key, then a declared length past the limit. */
        const route *path_hit, *hit = find_route(l, r, &path_hit);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > s->cfg.max_body)
            r->too_large = 1;
        if ((hit && unauthorized(r, hit)) || r->too_large) {
            track_set(conn, CT_ANSWERED);
            return dispatch(r, l);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->status || r->too_large || r->body.len + n > s->cfg.max_body) {
            /* A body past the limit (chunked, so its size was not declared): libmicrohttpd
             * takes no answer before the body's end, so the rest is read and thrown away and
             * the 413 goes out then, where the client reads it. The request deadline bounds
             * the time; DISCARD_MAX the bytes, past which the connection is dropped. */
            r->too_large = 1;
            sv_buf_free(&r->body);
            r->discarded += n;
            return r->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
        }
        return sv_buf_append(&r->body, upload_data, n) ? MHD_NO : MHD_YES;
    }
    if (r->status) /* already answered on the first call */
        return MHD_YES;
    track_set(conn, CT_BUSY); /* head and body are in: the request deadline is met */
    return dispatch(r, l);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    sv_req *r = *con_cls;
    if (!r || !r->srv)
        return;
    *con_cls = NULL;
    if (track_set(conn, CT_IDLE) == CT_CUT && !r->status)
        r->status = 408;
    static const char *why[] = {"ok", "error", "timeout", "shutdown", "read_error", "client_abort"};
    double dur = sv_now() - r->t0;
    size_t bytes = r->bytes;
    double ttfa = -1, audio_s = 0;
    if (r->job) {
        pthread_mutex_lock(&r->job->mu);
        if (r->job->t_first > 0)
            ttfa = r->job->t_first - r->t0;
        audio_s = r->job->audio_s;
        if (r->job->sent) /* a streamed body: what went out, not the 0 of an unknown size */
            bytes = r->job->sent;
        pthread_mutex_unlock(&r->job->mu);
    }
    sv_metrics_request(r->route, r->status, dur);
    if (sv_log_level <= SV_LOG_INFO) {
        char addr[INET6_ADDRSTRLEN] = "-";
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof addr);
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr,
                          sizeof addr);
        }
        /* The log is JSON, which holds only UTF-8: a path of other bytes is logged with
         * them replaced, rather than not at all. */
        char method[32];
        snprintf(method, sizeof method, "%s", r->method);
        sv_utf8_sanitize(method);
        sv_utf8_sanitize(r->path);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        json_t *o = json_pack("{s:f, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:f, s:s, s:s}", "ts",
                              ts.tv_sec + ts.tv_nsec * 1e-9, "level", "info", "msg", "request",
                              "method", method, "path", r->path, "route", r->route, "status",
                              r->status, "bytes", (json_int_t)bytes, "duration_ms",
                              dur * 1000.0, "remote", addr, "request_id", r->id);
        if (o) {
            if (ttfa >= 0)
                json_object_set_new(o, "first_audio_ms", json_real(ttfa * 1000.0));
            if (audio_s > 0)
                json_object_set_new(o, "audio_s", json_real(audio_s));
            if ((unsigned)toe < sizeof why / sizeof *why && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
                json_object_set_new(o, "termination", json_string(why[toe]));
            char *line = json_dumps(o, JSON_COMPACT);
            if (line)
                sv_log_line(line, strlen(line));
            free(line);
            json_decref(o);
        }
    }
    req_free(r);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = 0;
    sv_log(SV_LOG_DEBUG, "http: %s", msg);
}

/* ------------------------------------------------------------------ lifecycle */

/* The languages the text front end knows (the library's list, so that a new front end shows
 * up here by itself) whose data is installed, found by asking it to read one word. The
 * server names Portuguese "pt", as the OpenAI-style API always has. */
static void probe_languages(sv_server *s)
{
    for (int i = 0; i < kokoro_lang_count() && s->n_langs < SV_MAX_LANGS; i++) {
        const char *code = kokoro_lang_code(i);
        char *ph = NULL;
        if (kokoro_phonemize(s->eng.text, "a", code, &ph, NULL, 0) == KOKORO_OK)
            s->langs[s->n_langs++] = strcmp(code, "pt-br") == 0 ? "pt" : code;
        free(ph);
    }
}

static void *load_main(void *arg)
{
    sv_server *s = arg;
    char err[512];
    double t = sv_now();
    sv_log(SV_LOG_INFO, "loading model %s and voices %s", s->cfg.model, s->cfg.voices);
    if (kokoro_model_load(s->cfg.model, &s->eng.model, err, sizeof err) != KOKORO_OK ||
        kokoro_voices_load(s->cfg.voices, &s->eng.voices, err, sizeof err) != KOKORO_OK ||
        kokoro_text_new(s->cfg.lexicon, &s->eng.text, err, sizeof err) != KOKORO_OK)
        goto fail;
    /* the flag (or the same variable, read again) replaces what kokoro_text_new loaded */
    if (s->cfg.user_lexicon &&
        kokoro_text_user_lexicon(s->eng.text, s->cfg.user_lexicon, err, sizeof err) != KOKORO_OK)
        goto fail;
    if (!kokoro_voices_get(s->eng.voices, s->cfg.default_voice)) {
        snprintf(err, sizeof err, "the default voice %s is not among the %d voices in %s",
                 s->cfg.default_voice, kokoro_voices_count(s->eng.voices), s->cfg.voices);
        goto fail;
    }
    probe_languages(s);
    int workers = s->cfg.workers ? s->cfg.workers : sv_usable_cpus();
    sv_pool *pool;
    if (sv_pool_start(&pool, &s->eng, workers, s->cfg.threads_per_worker, s->cfg.queue_depth,
                      err, sizeof err))
        goto fail;
    atomic_store(&s->pool, pool);
    atomic_store(&s->ready, 1);
    sv_log(SV_LOG_INFO, "ready in %.1f s: %d voices, %d languages, %d workers sharing %d cores "
           "(at most %d threads per job, %s kernels), queue %d", sv_now() - t,
           kokoro_voices_count(s->eng.voices), s->n_langs, workers, sv_usable_cpus(),
           s->cfg.threads_per_worker ? s->cfg.threads_per_worker : sv_usable_cpus(),
           kokoro_kernels(), s->cfg.queue_depth);
    return NULL;
fail:
    sv_log(SV_LOG_ERROR, "cannot start: %s", err);
    atomic_store(&s->load_failed, 1);
    kill(getpid(), SIGTERM);
    return NULL;
}

/* Listens on port for l's routes with at most `limit` connections (per_ip from one address,
 * 0 = no cap). */
static struct MHD_Daemon *start_daemon(sv_server *s, listener *l, int port_no, int limit,
                                       int per_ip)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE}, *ai = NULL;
    char port[8];
    snprintf(port, sizeof port, "%d", port_no);
    int rc = getaddrinfo(s->cfg.host, port, &hints, &ai);
    if (rc) {
        sv_log(SV_LOG_ERROR, "cannot resolve --host %s: %s", s->cfg.host, gai_strerror(rc));
        return NULL;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ITC | MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* The connection pool holds the request line and headers; past it MHD answers 431. */
    size_t pool = s->cfg.max_header + 8192;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)port_no, NULL, NULL, on_request, l, MHD_OPTION_SOCK_ADDR,
        ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->cfg.idle_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_THREAD_STACK_SIZE,
        (size_t)(2u << 20), MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!d)
        sv_log(SV_LOG_ERROR, "cannot listen on %s:%d (%s port): %s (is the port in use?)",
               s->cfg.host, port_no, l->name, strerror(errno));
    return d;
}

/* SIGTERM: not ready, stop listening, let in-flight requests finish within the bound, cancel
 * the rest, then close everything. */
static void drain(sv_server *s)
{
    atomic_store(&s->draining, 1);
    sv_log(SV_LOG_INFO, "draining: %d requests in flight, bound %d s", atomic_load(&s->active),
           s->cfg.drain_timeout);
    MHD_socket lfd = MHD_quiesce_daemon(s->daemon);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    sv_wyoming_quiesce();
    double end = sv_now() + s->cfg.drain_timeout;
    while (atomic_load(&s->active) > 0 && sv_now() < end)
        usleep(20000);
    if (atomic_load(&s->active) > 0) {
        sv_log(SV_LOG_WARN, "drain bound passed; cancelling %d requests", atomic_load(&s->active));
        atomic_store(&s->abort_all, 1);
        double hard = sv_now() + 5;
        while (atomic_load(&s->active) > 0 && sv_now() < hard)
            usleep(20000);
    }
    sv_wyoming_stop(); /* before the pool: its connections hold jobs */
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    if (probe_daemon)
        MHD_stop_daemon(probe_daemon);
    probe_daemon = NULL;
}

int kk_serve_main(int argc, char **argv)
{
    sv_server *s = &server;
    int rc = sv_config_parse(&s->cfg, argc, argv);
    if (rc)
        return rc > 0 ? 0 : 2;
    sv_log_level = s->cfg.log_level;
    s->started = sv_now();

    /* Signals go to sigwait below, never to a worker in the middle of a synthesis. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    s->daemon = start_daemon(s, &api_listener, s->cfg.port, s->cfg.max_connections,
                             s->cfg.max_per_ip);
    if (!s->daemon)
        return 1;
    if (s->cfg.probe_port) {
        probe_daemon = start_daemon(s, &probe_listener, s->cfg.probe_port, PROBE_CONNECTIONS, 0);
        if (!probe_daemon) {
            MHD_stop_daemon(s->daemon);
            return 1;
        }
    }
    if (s->cfg.wyoming_port && sv_wyoming_start(s)) {
        if (probe_daemon)
            MHD_stop_daemon(probe_daemon);
        MHD_stop_daemon(s->daemon);
        return 1;
    }
    sweeper_running = pthread_create(&sweeper, NULL, sweep_main, s) == 0;
    if (!sweeper_running)
        sv_log(SV_LOG_WARN, "cannot start the request-deadline thread: only the idle timeout "
               "holds slow clients");
    if (s->cfg.probe_port)
        sv_log(SV_LOG_INFO, "listening on %s:%d, probes on port %d", s->cfg.host, s->cfg.port,
               s->cfg.probe_port);
    else
        sv_log(SV_LOG_INFO, "listening on %s:%d", s->cfg.host, s->cfg.port);
    if (s->cfg.wyoming_port)
        sv_log(SV_LOG_INFO, "wyoming protocol on port %d", s->cfg.wyoming_port);
    pthread_t loader;
    if (pthread_create(&loader, NULL, load_main, s)) {
        sv_log(SV_LOG_ERROR, "cannot start the loader thread");
        MHD_stop_daemon(s->daemon);
        return 1;
    }
    int sig = 0;
    sigwait(&set, &sig);
    pthread_join(loader, NULL);
    int failed = atomic_load(&s->load_failed);
    if (!failed)
        sv_log(SV_LOG_INFO, "received %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    drain(s);
    atomic_store(&sweeper_stop, 1);
    if (sweeper_running)
        pthread_join(sweeper, NULL);
    sv_pool *pool = atomic_exchange(&s->pool, NULL);
    if (pool)
        sv_pool_stop(pool);
    if (s->eng.text)
        kokoro_text_free(s->eng.text);
    if (s->eng.voices)
        kokoro_voices_free(s->eng.voices);
    if (s->eng.model)
        kokoro_model_free(s->eng.model);
    sv_log(SV_LOG_INFO, "stopped");
    return failed ? 1 : 0;
}
