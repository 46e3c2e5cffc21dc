/* response.c - what handlers answer with: errors, the response objects transport.c sends,
 * and the jobs a handler waits on or streams (submission, waiting, the stream's next bytes).
 * No HTTP library here: the transport asks through sv_req's client_gone whether the client
 * is still there. */
#include "server/handler.h"
#include "core/utf8.h"
#include "server/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

char *sv_err_body(sv_err *e, int family, size_t *len)
{
    json_t *body;
    kk_utf8_sanitize(e->message);
    kk_utf8_sanitize(e->param);
    if (family == SV_FAM_OPENAI) {
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
    *len = s ? strlen(s) : 0;
    return s;
}

int sv_err_retry_after(sv_server *s, const sv_err *e)
{
    sv_pool *pool = atomic_load(&s->pool);
    return pool && strcmp(e->type, "Overloaded") == 0 ? sv_pool_retry_after(pool) : 5;
}

/* ------------------------------------------------------------------ responses */

sv_resp sv_resp_error(sv_err *e)
{
    sv_resp resp = {.kind = SV_RESP_ERROR, .status = e->status, .fd = -1, .err = *e};
    e->details = NULL; /* moved */
    return resp;
}

sv_resp sv_resp_bytes(int status, const char *mime, char *data, size_t n)
{
    if (!n) {
        free(data);
        data = NULL;
    }
    return (sv_resp){.kind = SV_RESP_BYTES, .status = status, .content_type = mime,
                     .body = data, .len = n, .fd = -1};
}

sv_resp sv_resp_json(int status, json_t *body)
{
    char *s = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(body);
    if (!s)
        return sv_resp_none();
    return sv_resp_bytes(status, "application/json", s, strlen(s));
}

sv_resp sv_resp_file(int fd, size_t size, const char *mime)
{
    return (sv_resp){.kind = SV_RESP_FILE, .status = 200, .content_type = mime, .fd = fd,
                     .size = size};
}

sv_resp sv_resp_redirect(const char *location)
{
    char *loc = strdup(location);
    if (!loc)
        return sv_resp_none();
    return (sv_resp){.kind = SV_RESP_REDIRECT, .status = 308, .location = loc, .fd = -1};
}

sv_resp sv_resp_stream(sv_job *job, const char *mime)
{
    sv_job_ref(job);
    return (sv_resp){.kind = SV_RESP_STREAM, .status = 200, .content_type = mime, .job = job,
                     .fd = -1};
}

void sv_resp_release(sv_server *s, sv_resp *resp)
{
    free(resp->body);
    free(resp->location);
    if (resp->fd >= 0)
        close(resp->fd);
    if (resp->job)
        sv_stream_close(s, resp->job);
    sv_err_clear(&resp->err);
    *resp = (sv_resp){.kind = SV_RESP_NONE, .fd = -1};
}

/* ------------------------------------------------------------------ jobs */

void sv_wait_job(sv_req *r, sv_job *job, int want_first)
{
    pthread_mutex_lock(&job->mu);
    while (job->state != SV_JOB_DONE && !(want_first && job->out.n > job->out_pos)) {
        sv_job_wait(job, 50);
        if (!atomic_load(&job->cancel) &&
            ((r->client_gone && r->client_gone(r->gone_ctx)) ||
             atomic_load(&r->srv->abort_all))) {
            pthread_mutex_unlock(&job->mu);
            sv_pool_cancel(r->srv->pool, job);
            pthread_mutex_lock(&job->mu);
        }
    }
    pthread_mutex_unlock(&job->mu);
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

long sv_stream_next(sv_server *s, sv_job *job, char *buf, size_t max, int (*gone)(void *ctx),
                    void *ctx)
{
    pthread_mutex_lock(&job->mu);
    for (;;) {
        if (job->out_pos < job->out.n) {
            size_t n = job->out.n - job->out_pos;
            if (n > max)
                n = max;
            memcpy(buf, job->out.p + job->out_pos, n);
            job->out_pos += n;
            job->sent += n;
            if (job->out_pos == job->out.n) { /* all taken: the buffer is reused */
                job->out_pos = 0;
                kk_buf_clear(&job->out);
            }
            pthread_cond_broadcast(&job->cv); /* the worker may wait for this (wait_sent) */
            pthread_mutex_unlock(&job->mu);
            return (long)n;
        }
        if (job->state == SV_JOB_DONE) {
            int ok = job->status == KOKORO_OK || job->error_sent;
            if (!ok)
                sv_log(SV_LOG_WARN, "stream ended early: %s", job->err);
            pthread_mutex_unlock(&job->mu);
            return ok ? SV_STREAM_END : SV_STREAM_FAILED;
        }
        sv_job_wait(job, 50);
        if (!atomic_load(&job->cancel) && (gone(ctx) || atomic_load(&s->abort_all))) {
            pthread_mutex_unlock(&job->mu);
            sv_pool_cancel(s->pool, job);
            pthread_mutex_lock(&job->mu);
        }
    }
}

void sv_stream_close(sv_server *s, sv_job *job)
{
    if (s->pool)
        sv_pool_cancel(s->pool, job); /* a no-op when it finished */
    sv_job_unref(job);
}
