/* transport.c - the HTTP transport of `kokoro serve`, and the only file that includes
 * microhttpd.h: libmicrohttpd with one thread per connection, the route table, limits,
 * authentication, CORS, the response objects of the handlers (handler.h) turned into
 * libmicrohttpd responses (buffered, files and streamed jobs), and the access log.
 *
 * Two listeners: the API port, and a probe port (/health, /ready, /metrics) with its own few
 * connection slots, so that idle connections filling the API port cannot make the kubelet
 * restart the pod. A sweeper thread holds every connection to a deadline for a complete
 * request (libmicrohttpd's own timeout only measures silence, which a client sending a byte
 * a second never lets run out). */
#include "server/transport.h"
#include "core/clock.h"
#include "core/utf8.h"
#include "server/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* One request from its first byte to its access-log line: what the handler sees (req), and
 * what only the transport keeps. */
typedef struct {
    sv_req req;
    struct MHD_Connection *conn;
    const char *route; /* the route's pattern, for logs and metrics */
    int family;
    size_t discarded;
    int too_large;
    double t0;
    int status;   /* the status queued; 0 until a response went to libmicrohttpd */
    size_t bytes; /* the body's size as queued */
    int fd;
} http_req;

/* A route: what the transport checks before its handler runs (method, key, readiness), and
 * how its errors are written. */
typedef struct {
    const char *method;
    const char *path;   /* exact, or a prefix when it ends with '*' */
    sv_handler fn;
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

static sv_server *server; /* the lifecycle's, from sv_http_start on */
static listener api_listener = {NULL, routes, N_ROUTES, "api"};
static listener probe_listener = {NULL, probe_routes, N_PROBE_ROUTES, "probe"};
static struct MHD_Daemon *api_daemon, *probe_daemon;

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
static void common_headers(http_req *r, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Request-Id", r->req.id);
    const char *cors = r->req.srv->cfg.cors_origins;
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
    if (atomic_load(&r->req.srv->draining))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
}

/* Queues resp with the common headers. The status and size are recorded for the access log
 * only when libmicrohttpd took the response, so that the log never reports a status that
 * was not sent. Returns libmicrohttpd's answer (MHD_NO closes the connection). */
static enum MHD_Result queue(http_req *r, int status, struct MHD_Response *resp, size_t bytes)
{
    if (!resp)
        return MHD_NO;
    common_headers(r, resp);
    enum MHD_Result rc = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (rc == MHD_YES) {
        r->status = status;
        r->bytes = bytes;
    }
    return rc;
}

/* ------------------------------------------------------------------ waiting and streaming */

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
                              (unsigned)server->cfg.idle_timeout);
}

/* What a streamed response reads from: the job, and the connection's socket to watch. */
typedef struct {
    sv_job *job;
    int fd;
    struct MHD_Connection *conn;
} stream;

static int stream_gone(void *ctx) { return client_gone(*(const int *)ctx); }

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    stream *st = cls;
    long n = sv_stream_next(server, st->job, buf, max, stream_gone, &st->fd);
    if (n > 0) {
        touch(st->conn);
        return (ssize_t)n;
    }
    return n == SV_STREAM_END ? MHD_CONTENT_READER_END_OF_STREAM
                              : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
    stream *st = cls;
    sv_stream_close(server, st->job);
    free(st);
}

/* Sends e in r's family with its headers (Retry-After, Allow, WWW-Authenticate) and clears
 * it. Returns libmicrohttpd's answer, MHD_NO when out of memory. */
static enum MHD_Result send_error(http_req *r, sv_err *e)
{
    size_t n;
    char *s = sv_err_body(e, r->family, &n);
    struct MHD_Response *resp = s ? MHD_create_response_from_buffer(n, s, MHD_RESPMEM_MUST_FREE)
                                  : NULL;
    if (!resp) {
        free(s);
        sv_err_clear(e);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (e->status == 503) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", sv_err_retry_after(r->req.srv, e));
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (e->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, e->allow);
    if (e->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    int status = e->status;
    sv_err_clear(e);
    return queue(r, status, resp, n);
}

/* Sends a handler's response, taking over what it owns (freed here when it cannot be
 * sent). Returns libmicrohttpd's answer, MHD_NO for SV_RESP_NONE or out of memory. */
static enum MHD_Result send_resp(http_req *r, sv_resp *out)
{
    struct MHD_Response *resp = NULL;
    switch (out->kind) {
    case SV_RESP_NONE:
        return MHD_NO;
    case SV_RESP_ERROR:
        return send_error(r, &out->err);
    case SV_RESP_BYTES: {
        size_t n = out->len;
        resp = MHD_create_response_from_buffer(n, n ? out->body : (void *)"",
                                               n ? MHD_RESPMEM_MUST_FREE
                                                 : MHD_RESPMEM_PERSISTENT);
        if (!resp) {
            sv_resp_release(server, out);
            return MHD_NO;
        }
        out->body = NULL; /* libmicrohttpd frees it */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, out->content_type);
        return queue(r, out->status, resp, n);
    }
    case SV_RESP_FILE:
        resp = MHD_create_response_from_fd(out->size, out->fd);
        if (!resp) {
            sv_resp_release(server, out);
            return MHD_NO;
        }
        out->fd = -1; /* libmicrohttpd closes it */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, out->content_type);
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        return queue(r, 200, resp, out->size);
    case SV_RESP_REDIRECT:
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (resp)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, out->location);
        sv_resp_release(server, out);
        return queue(r, 308, resp, 0);
    case SV_RESP_STREAM: {
        stream *st = malloc(sizeof *st);
        if (!st) {
            sv_resp_release(server, out);
            return MHD_NO;
        }
        *st = (stream){out->job, r->fd, r->conn};
        out->job = NULL; /* the stream's reference now */
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, st,
                                                 stream_free);
        if (!resp) {
            stream_free(st);
            return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, out->content_type);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        MHD_add_response_header(resp, "X-Accel-Buffering", "no");
        return queue(r, 200, resp, 0);
    }
    }
    return MHD_NO;
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
        c->t_start = kk_now();
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
            c->t_idle = c->t_checked = kk_now();
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
        double now = kk_now();
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

/* sv_req's client_gone: the request's socket was reset or closed. */
static int req_gone(void *ctx) { return client_gone(((const http_req *)ctx)->fd); }

static http_req *req_new(sv_server *s, struct MHD_Connection *conn, const char *url,
                         const char *method)
{
    static atomic_ulong counter;
    http_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->req.srv = s;
    r->conn = conn;
    r->req.method = method;
    r->req.path = strdup(url);
    if (!r->req.path) {
        free(r);
        return NULL;
    }
    r->req.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    r->req.client_gone = req_gone;
    r->req.gone_ctx = r;
    r->t0 = kk_now();
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
        snprintf(r->req.id, sizeof r->req.id, "%s", id);
    else
        snprintf(r->req.id, sizeof r->req.id, "%lx-%lu", (unsigned long)time(NULL),
                 (unsigned long)atomic_fetch_add(&counter, 1) + 1);
    atomic_fetch_add(&s->active, 1);
    return r;
}

static void req_free(http_req *r)
{
    kk_buf_free(&r->req.body);
    free(r->req.path);
    sv_job_unref(r->req.job);
    atomic_fetch_sub(&r->req.srv->active, 1);
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

static enum MHD_Result preflight(http_req *r)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, POST, OPTIONS");
    if (r->req.srv->cfg.cors_origins) {
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                "Authorization, Content-Type, X-Request-Id");
        MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
    }
    return queue(r, 204, resp, 0);
}

/* The route for r's method and path, or NULL; *path_hit: the first route of that path. */
static const route *find_route(const listener *l, const http_req *r, const route **path_hit)
{
    const route *hit = NULL;
    const char *method = r->req.method;
    int head = strcmp(method, "HEAD") == 0;
    *path_hit = NULL;
    for (size_t i = 0; i < l->n_routes && !hit; i++) {
        const route *rt = &l->routes[i];
        if (!path_matches(rt->path, r->req.path))
            continue;
        *path_hit = *path_hit ? *path_hit : rt;
        if (strcmp(rt->method, method) == 0 || (head && strcmp(rt->method, "GET") == 0))
            hit = rt;
    }
    return hit;
}

/* Whether r may not use route rt: it needs the API key and lacks it. */
static int unauthorized(const http_req *r, const route *rt)
{
    return rt->auth && r->req.srv->cfg.api_key &&
           !token_ok(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization"),
                     r->req.srv->cfg.api_key);
}

/* Answers r from l's routes: the transport's own refusals (405, 404, 401, 413, 503 while
 * loading or draining), else the route's handler. Returns libmicrohttpd's answer: MHD_NO
 * (the connection is closed) when no response could be queued. */
static enum MHD_Result dispatch(http_req *r, const listener *l)
{
    sv_server *s = r->req.srv;
    sv_err e = {0};
    if (strcmp(r->req.method, "OPTIONS") == 0) {
        r->route = "OPTIONS";
        return preflight(r);
    }
    const route *path_hit, *hit = find_route(l, r, &path_hit);
    if (!hit && path_hit) {
        r->route = path_hit->path;
        r->family = path_hit->family;
        sv_fail(&e, 405, "MethodNotAllowed", NULL, "%s %s is not allowed; use %s",
                r->req.method, r->req.path, path_hit->method);
        e.allow = strcmp(path_hit->method, "GET") == 0 ? "GET, HEAD, OPTIONS" : "POST, OPTIONS";
        return send_error(r, &e);
    }
    if (!hit) {
        sv_fail(&e, 404, "NotFound", NULL,
                "no route %s %s; GET /openapi.json lists the routes", r->req.method,
                r->req.path);
        return send_error(r, &e);
    }
    r->route = hit->path;
    r->family = hit->family;
    if (unauthorized(r, hit)) {
        sv_fail(&e, 401, "Unauthorized", NULL,
                "this server needs an API key: send `Authorization: Bearer <key>`");
        return send_error(r, &e);
    }
    if (r->too_large) {
        sv_fail(&e, 413, "PayloadTooLarge", NULL, "the request body is larger than %zu bytes",
                s->cfg.max_body);
        e.details = json_pack("{s:I}", "max_bytes", (json_int_t)s->cfg.max_body);
        return send_error(r, &e);
    }
    if (hit->needs_engine && (atomic_load(&s->draining) || !atomic_load(&s->ready))) {
        sv_fail(&e, 503, "NotReady", NULL,
                atomic_load(&s->draining) ? "the server is shutting down"
                                          : "the model is still loading; retry shortly");
        return send_error(r, &e);
    }
    sv_resp out = hit->fn(&r->req);
    if (r->req.job) /* time spent on a job is not the client's silence */
        touch(r->conn);
    return send_resp(r, &out);
}

/* Called with the raw URI before MHD decodes it: an encoded NUL would silently cut the
 * decoded path short, so such requests are marked and refused. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    static http_req nul_mark; /* srv == NULL tells it apart from a real request */
    return strstr(uri, "%00") ? &nul_mark : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    const listener *l = cls;
    sv_server *s = l->srv;
    http_req *r = *con_cls;
    if (!r || !r->req.srv) {
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
            return send_error(r, &e);
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
        if (r->status || r->too_large || r->req.body.n + n > s->cfg.max_body) {
            /* A body past the limit (chunked, so its size was not declared): libmicrohttpd
             * takes no answer before the body's end, so the rest is read and thrown away and
             * the 413 goes out then, where the client reads it. The request deadline bounds
             * the time; DISCARD_MAX the bytes, past which the connection is dropped. */
            r->too_large = 1;
            kk_buf_free(&r->req.body);
            r->discarded += n;
            return r->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
        }
        return kk_buf_put(&r->req.body, upload_data, n) ? MHD_NO : MHD_YES;
    }
    if (r->status) /* already answered on the first call */
        return MHD_YES;
    track_set(conn, CT_BUSY); /* head and body are in: the request deadline is met */
    return dispatch(r, l);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_req *r = *con_cls;
    if (!r || !r->req.srv)
        return;
    *con_cls = NULL;
    if (track_set(conn, CT_IDLE) == CT_CUT && !r->status)
        r->status = 408;
    static const char *why[] = {"ok", "error", "timeout", "shutdown", "read_error", "client_abort"};
    double dur = kk_now() - r->t0;
    size_t bytes = r->bytes;
    double ttfa = -1, audio_s = 0;
    sv_job *job = r->req.job;
    if (job) {
        pthread_mutex_lock(&job->mu);
        if (job->t_first > 0)
            ttfa = job->t_first - r->t0;
        audio_s = job->audio_s;
        if (job->sent) /* a streamed body: what went out, not the 0 of an unknown size */
            bytes = job->sent;
        pthread_mutex_unlock(&job->mu);
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
        snprintf(method, sizeof method, "%s", r->req.method);
        kk_utf8_sanitize(method);
        kk_utf8_sanitize(r->req.path);
        json_t *o = json_pack("{s:f, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:f, s:s, s:s}", "ts",
                              kk_wall_now(), "level", "info", "msg", "request",
                              "method", method, "path", r->req.path, "route", r->route, "status",
                              r->status, "bytes", (json_int_t)bytes, "duration_ms",
                              dur * 1000.0, "remote", addr, "request_id", r->req.id);
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

int sv_http_start(sv_server *s)
{
    server = s;
    api_listener.srv = probe_listener.srv = s;
    api_daemon = start_daemon(s, &api_listener, s->cfg.port, s->cfg.max_connections,
                              s->cfg.max_per_ip);
    if (!api_daemon)
        return -1;
    if (s->cfg.probe_port) {
        probe_daemon = start_daemon(s, &probe_listener, s->cfg.probe_port, PROBE_CONNECTIONS, 0);
        if (!probe_daemon) {
            MHD_stop_daemon(api_daemon);
            api_daemon = NULL;
            return -1;
        }
    }
    sweeper_running = pthread_create(&sweeper, NULL, sweep_main, s) == 0;
    if (!sweeper_running)
        sv_log(SV_LOG_WARN, "cannot start the request-deadline thread: only the idle timeout "
               "holds slow clients");
    return 0;
}

void sv_http_quiesce(void)
{
    if (!api_daemon)
        return;
    MHD_socket lfd = MHD_quiesce_daemon(api_daemon);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
}

void sv_http_stop(void)
{
    if (api_daemon)
        MHD_stop_daemon(api_daemon);
    api_daemon = NULL;
    if (probe_daemon)
        MHD_stop_daemon(probe_daemon);
    probe_daemon = NULL;
    atomic_store(&sweeper_stop, 1);
    if (sweeper_running)
        pthread_join(sweeper, NULL);
    sweeper_running = 0;
}
