/* routes.c - the handlers of the API routes: the seed's /synthesize family, the OpenAI-style
 * speech API, captions, phonemes, listings, health and metrics. */
#include "server/handler.h"
#include "core/clock.h"
#include "core/utf8.h"
#include "server/metrics.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BATCH 100
/* The date the Kokoro-82M v1.0 weights were published, as OpenAI's model lists want one. */
#define MODEL_CREATED 1737936000

static const char *const openai_models[] = {"kokoro", "tts-1", "tts-1-hd", "gpt-4o-mini-tts",
                                            NULL};

static int blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

/* Non-empty text within the configured length. */
static int check_text(sv_server *s, const char *text, const char *param, sv_err *e)
{
    if (!text)
        return sv_fail(e, 400, "ValidationError", param, "field \"%s\" is required", param);
    if (blank(text)) {
        sv_fail(e, 400, "ValidationError", param, "Text input cannot be empty or whitespace-only");
        e->details = json_pack("{s:s, s:s}", "field", param, "received", text);
        return -1;
    }
    size_t n = kk_utf8_len(text);
    if (n > (size_t)s->cfg.max_text) {
        sv_fail(e, 413, "PayloadTooLarge", param,
                "field \"%s\" has %zu characters; the limit is %d (split the text, or use "
                "/synthesize/batch)", param, n, s->cfg.max_text);
        e->details = json_pack("{s:s, s:I, s:i}", "field", param, "received_chars",
                               (json_int_t)n, "max_chars", s->cfg.max_text);
        return -1;
    }
    /* SSML and [pause:] checked before the job: a stream's status is sent before synthesis */
    char err[256];
    int rc = kokoro_markup_check(text, s->eng.voices, err, sizeof err);
    if (rc == KOKORO_E_NOT_FOUND)
        return sv_fail(e, 400, "UnsupportedVoice", param, "%s", err);
    if (rc != KOKORO_OK) {
        sv_fail(e, 400, "ValidationError", param, "%s", err);
        unsigned long line = 0, col = 0;
        if (sscanf(err, "SSML line %lu, column %lu", &line, &col) == 2)
            e->details = json_pack("{s:s, s:i, s:i}", "field", param, "line", (int)line,
                                   "column", (int)col);
        return -1;
    }
    return 0;
}

static int check_range(double v, double lo, double hi, const char *param, sv_err *e)
{
    if (isfinite(v) && v >= lo && v <= hi)
        return 0;
    sv_fail(e, 400, "ValidationError", param, "field \"%s\" must be between %g and %g, not %g",
            param, lo, hi, v);
    e->details = json_pack("{s:s, s:f, s:f, s:f}", "field", param, "received", v, "min", lo,
                           "max", hi);
    return -1;
}

/* A format name from the allowed list. */
static int check_format(const char *name, const char *const *allowed, const char *param,
                        kokoro_format *out, sv_err *e)
{
    for (const char *const *a = allowed; *a; a++)
        if (strcmp(*a, name) == 0 && kokoro_format_parse(name, out) == KOKORO_OK)
            return 0;
    kk_buf list = {0};
    json_t *arr = json_array();
    for (const char *const *a = allowed; *a; a++) {
        kk_buf_printf(&list, "%s%s", a == allowed ? "" : ", ", *a);
        json_array_append_new(arr, json_string(*a));
    }
    sv_fail(e, 400, "UnsupportedFormat", param, "format \"%.32s\" is not offered here; use one "
            "of %s", name, list.p ? list.p : "");
    e->details = json_pack("{s:s, s:s, s:o}", "field", param, "received", name, "supported", arr);
    kk_buf_free(&list);
    return -1;
}

/* One seed request object -> an item. */
static int parse_seed_item(sv_server *s, json_t *o, sv_item *it, sv_err *e)
{
    static const char *const fields[] = {"text", "voice_id", "language", "speaking_rate",
                                         "output_format", NULL};
    static const char *const formats[] = {"mp3", "wav", "ogg", NULL};
    const char *text = NULL, *voice = s->cfg.default_voice, *lang = NULL, *format = "mp3";
    double rate = 1.0;
    if (sv_only_fields(o, fields, e) || sv_get_string(o, "text", &text, e) ||
        sv_get_string(o, "voice_id", &voice, e) || sv_get_string(o, "language", &lang, e) ||
        sv_get_number(o, "speaking_rate", &rate, e) ||
        sv_get_string(o, "output_format", &format, e))
        return -1;
    if (check_text(s, text, "text", e) || check_range(rate, 0.5, 2.0, "speaking_rate", e) ||
        check_format(format, formats, "output_format", &it->fmt, e))
        return -1;
    it->voice = sv_resolve_voice(s, voice, "voice_id", e);
    if (!it->voice || sv_pick_lang(s, lang, it->voice, 1, "language", it->lang, e))
        return -1;
    it->text = strdup(text);
    it->speed = (float)rate;
    return it->text ? 0 : sv_fail(e, 500, "InternalError", NULL, "out of memory");
}

/* The error for a job that did not produce its output. */
static sv_resp job_error(sv_req *r, sv_job *job)
{
    sv_err e = {0};
    if (atomic_load(&job->timed_out)) {
        sv_fail(&e, 504, "Timeout", NULL, "%s", job->err);
        return sv_resp_error(&e);
    }
    switch (job->status) {
    case KOKORO_E_TOO_LONG:
        sv_fail(&e, 413, "PayloadTooLarge", NULL, "%s", job->err);
        break;
    case KOKORO_E_UNSUPPORTED:
        sv_fail(&e, 400, "UnsupportedLanguage", NULL, "%s", job->err);
        break;
    case KOKORO_E_ARG:
        sv_fail(&e, 400, "ValidationError", NULL, "%s", job->err);
        break;
    case KOKORO_E_NOT_FOUND:
        sv_fail(&e, 400, "UnsupportedVoice", NULL, "%s", job->err);
        break;
    case KOKORO_E_CANCELLED:
        sv_fail(&e, 503, "NotReady", NULL, "the request was cancelled (client gone or server "
                                           "shutting down)");
        break;
    default:
        sv_log(SV_LOG_ERROR, "request %s failed: %s (%s)", r->id, job->err,
               kokoro_status_str(job->status));
        sv_fail(&e, 500, "InternalError", NULL, "synthesis failed: %s", job->err);
    }
    return sv_resp_error(&e);
}

/* Runs a job to completion and answers with its whole output and an exact Content-Length. */
static sv_resp run_buffered(sv_req *r, sv_job *job, const char *mime)
{
    sv_err e = {0};
    if (sv_submit(r, job, &e)) {
        sv_job_unref(job);
        return sv_resp_error(&e);
    }
    r->job = job; /* our reference, released with the request */
    sv_wait_job(r, job, 0);
    if (job->status != KOKORO_OK)
        return job_error(r, job);
    pthread_mutex_lock(&job->mu);
    size_t n;
    char *data = kk_buf_take(&job->out, &n);
    job->out_pos = 0;
    pthread_mutex_unlock(&job->mu);
    return sv_resp_bytes(200, mime, data, n);
}

/* Runs a job and streams its output; errors before the first byte still get a status. */
static sv_resp run_streamed(sv_req *r, sv_job *job, const char *mime)
{
    sv_err e = {0};
    if (sv_submit(r, job, &e)) {
        sv_job_unref(job);
        return sv_resp_error(&e);
    }
    r->job = job;
    sv_wait_job(r, job, 1);
    pthread_mutex_lock(&job->mu);
    int failed = job->out.n == job->out_pos && job->status != KOKORO_OK;
    pthread_mutex_unlock(&job->mu);
    if (failed)
        return job_error(r, job);
    return sv_resp_stream(job, mime);
}

sv_resp sv_h_synthesize(sv_req *r)
{
    sv_err e = {0};
    json_t *o = sv_parse_body(r, &e);
    sv_job *job = o ? sv_job_new(1) : NULL;
    if (o && !job)
        sv_fail(&e, 500, "InternalError", NULL, "out of memory");
    if (!job || parse_seed_item(r->srv, o, &job->items[0], &e)) {
        json_decref(o);
        sv_job_unref(job);
        return sv_resp_error(&e);
    }
    json_decref(o);
    job->fmt = job->items[0].fmt;
    job->wrap = SV_WRAP_RAW;
    return run_buffered(r, job, kokoro_format_mime(job->fmt));
}

sv_resp sv_h_batch(sv_req *r)
{
    static const char *const fields[] = {"items", "concatenate", NULL};
    sv_err e = {0};
    sv_job *job = NULL;
    int concat = 0;
    json_t *o = sv_parse_body(r, &e);
    if (!o || sv_only_fields(o, fields, &e) || sv_get_bool(o, "concatenate", &concat, &e))
        goto fail;
    json_t *items = json_object_get(o, "items");
    if (!json_is_array(items) || json_array_size(items) < 1 ||
        json_array_size(items) > MAX_BATCH) {
        sv_fail(&e, 400, "ValidationError", "items",
                "field \"items\" must be an array of 1 to %d requests", MAX_BATCH);
        e.details = json_pack("{s:s, s:i}", "field", "items", "max_items", MAX_BATCH);
        goto fail;
    }
    int n = (int)json_array_size(items);
    size_t total = 0; /* the batch's characters together: one request, one bound */
    for (int i = 0; i < n; i++) {
        json_t *text = json_object_get(json_array_get(items, (size_t)i), "text");
        if (json_is_string(text))
            total += kk_utf8_len(json_string_value(text));
    }
    if (total > (size_t)r->srv->cfg.batch_max_chars) {
        sv_fail(&e, 413, "PayloadTooLarge", "items",
                "the items have %zu characters together; the limit of a batch is %d "
                "(KOKORO_BATCH_MAX_CHARS): send several batches", total,
                r->srv->cfg.batch_max_chars);
        e.details = json_pack("{s:s, s:I, s:i}", "field", "items", "received_chars",
                              (json_int_t)total, "max_chars", r->srv->cfg.batch_max_chars);
        goto fail;
    }
    job = sv_job_new(n);
    if (!job) {
        sv_fail(&e, 500, "InternalError", NULL, "out of memory");
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        json_t *item = json_array_get(items, (size_t)i);
        sv_err ie = {0};
        int bad = !json_is_object(item)
                      ? sv_fail(&ie, 400, "ValidationError", NULL, "item %d is not an object", i)
                      : parse_seed_item(r->srv, item, &job->items[i], &ie);
        if (bad) {
            if (concat) { /* one audio file cannot have holes: the whole request fails */
                sv_fail(&e, ie.status, ie.type, ie.param, "items[%d]: %s", i, ie.message);
                e.details = json_pack("{s:i, s:s?, s:O?}", "index", i, "field",
                                      ie.param[0] ? ie.param : NULL, "item", ie.details);
                sv_err_clear(&ie);
                goto fail;
            }
            json_t *d = ie.details ? json_incref(ie.details) : json_object();
            if (ie.param[0] && !json_object_get(d, "field"))
                json_object_set_new(d, "field", json_string(ie.param));
            job->items[i].error = json_pack("{s:i, s:s, s:s, s:i, s:o}", "index", i, "error",
                                            ie.type, "message", ie.message, "status", ie.status,
                                            "details", d);
            sv_err_clear(&ie);
        }
    }
    if (concat) {
        for (int i = 1; i < n; i++)
            if (job->items[i].fmt != job->items[0].fmt) {
                sv_fail(&e, 400, "ValidationError", "output_format",
                        "concatenate needs one output_format for all items; item 0 is %s, item "
                        "%d is %s", kokoro_format_name(job->items[0].fmt), i,
                        kokoro_format_name(job->items[i].fmt));
                e.details = json_pack("{s:s, s:i}", "field", "output_format", "index", i);
                goto fail;
            }
        job->fmt = job->items[0].fmt;
        job->wrap = SV_WRAP_RAW;
        job->concatenate = 1;
    } else {
        job->wrap = SV_WRAP_BATCH_JSON;
    }
    json_decref(o);
    return run_buffered(r, job, concat ? kokoro_format_mime(job->fmt) : "application/json");
fail:
    json_decref(o);
    sv_job_unref(job);
    return sv_resp_error(&e);
}

/* The fields /v1/audio/speech and /dev/captioned_speech share. */
typedef struct {
    const char *input, *voice, *format, *lang_code, *stream_format, *model, *captions;
    double speed, volume;
    int stream, timestamps;
} speech_req;

/* normalization_options: Kokoro-FastAPI's names and request defaults (unit_normalization
 * off, the rest on), whether or not the object is sent. */
static int parse_norm(json_t *o, kokoro_norm_options *n, sv_err *e)
{
    static const char *const fields[] = {
        "normalize", "unit_normalization", "url_normalization", "email_normalization",
        "phone_normalization", "optional_pluralization_normalization",
        "replace_remaining_symbols", NULL};
    *n = kokoro_norm_defaults();
    n->unit_normalization = 0;
    json_t *norm = json_object_get(o, "normalization_options");
    if (!norm || json_is_null(norm))
        return 0;
    if (!json_is_object(norm))
        return sv_fail(e, 400, "ValidationError", "normalization_options",
                       "field \"normalization_options\" must be an object");
    return sv_only_fields(norm, fields, e) || sv_get_bool(norm, "normalize", &n->normalize, e) ||
           sv_get_bool(norm, "unit_normalization", &n->unit_normalization, e) ||
           sv_get_bool(norm, "url_normalization", &n->url_normalization, e) ||
           sv_get_bool(norm, "email_normalization", &n->email_normalization, e) ||
           sv_get_bool(norm, "phone_normalization", &n->phone_normalization, e) ||
           sv_get_bool(norm, "optional_pluralization_normalization",
                       &n->optional_pluralization_normalization, e) ||
           sv_get_bool(norm, "replace_remaining_symbols", &n->replace_remaining_symbols, e)
               ? -1
               : 0;
}

static int parse_speech(sv_req *r, json_t *o, int captioned, speech_req *q, sv_item *it,
                        sv_err *e)
{
    static const char *const speech_fields[] = {
        "model", "input", "voice", "response_format", "speed", "stream", "stream_format",
        "lang_code", "volume_multiplier", "normalization_options", "instructions",
        "return_download_link", "download_format", NULL};
    static const char *const caption_fields[] = {
        "model", "input", "voice", "response_format", "speed", "stream", "return_timestamps",
        "lang_code", "volume_multiplier", "normalization_options", "return_download_link",
        "download_format", "captions", NULL};
    static const char *const formats[] = {"mp3", "opus", "aac", "flac", "wav", "pcm", NULL};
    sv_server *s = r->srv;
    *q = (speech_req){.voice = s->cfg.default_voice, .format = "mp3", .stream_format = "audio",
                      .speed = 1.0, .volume = 1.0, .stream = 1, .timestamps = 1};
    const char *instructions = NULL, *dl_format = NULL;
    int download = 0;
    if (sv_only_fields(o, captioned ? caption_fields : speech_fields, e) ||
        sv_get_string(o, "model", &q->model, e) || sv_get_string(o, "input", &q->input, e) ||
        sv_get_string(o, "voice", &q->voice, e) ||
        sv_get_string(o, "response_format", &q->format, e) ||
        sv_get_number(o, "speed", &q->speed, e) || sv_get_bool(o, "stream", &q->stream, e) ||
        sv_get_string(o, "stream_format", &q->stream_format, e) ||
        sv_get_string(o, "lang_code", &q->lang_code, e) ||
        sv_get_number(o, "volume_multiplier", &q->volume, e) ||
        sv_get_bool(o, "return_timestamps", &q->timestamps, e) ||
        sv_get_string(o, "instructions", &instructions, e) ||
        sv_get_bool(o, "return_download_link", &download, e) ||
        sv_get_string(o, "download_format", &dl_format, e) ||
        sv_get_string(o, "captions", &q->captions, e) || parse_norm(o, &it->norm, e))
        return -1;
    it->has_norm = 1;
    if (q->captions && strcmp(q->captions, "srt") != 0 && strcmp(q->captions, "vtt") != 0)
        return sv_fail(e, 400, "ValidationError", "captions",
                       "captions must be \"srt\" or \"vtt\", not \"%.32s\"", q->captions);
    if (q->model) {
        int known = 0;
        for (const char *const *m = openai_models; *m && !known; m++)
            known = strcmp(*m, q->model) == 0;
        if (!known) {
            sv_fail(e, 400, "ValidationError", "model", "model \"%.64s\" does not exist here; "
                    "use kokoro, tts-1, tts-1-hd or gpt-4o-mini-tts", q->model);
            return -1;
        }
    }
    if (download)
        return sv_fail(e, 400, "ValidationError", "return_download_link",
                       "download links are not offered: the audio comes in the response");
    if (strcmp(q->stream_format, "audio") != 0 && strcmp(q->stream_format, "sse") != 0)
        return sv_fail(e, 400, "ValidationError", "stream_format",
                       "stream_format must be \"audio\" or \"sse\", not \"%.32s\"",
                       q->stream_format);
    if (check_text(s, q->input, "input", e) ||
        check_range(q->speed, KOKORO_SPEED_MIN, KOKORO_SPEED_MAX, "speed", e) ||
        check_range(q->volume, 0.0, 4.0, "volume_multiplier", e) ||
        check_format(q->format, formats, "response_format", &it->fmt, e))
        return -1;
    it->voice = sv_resolve_voice(s, q->voice, "voice", e);
    if (!it->voice || sv_pick_lang(s, q->lang_code, it->voice, 0, "lang_code", it->lang, e))
        return -1;
    it->text = strdup(q->input);
    it->speed = (float)q->speed;
    return it->text ? 0 : sv_fail(e, 500, "InternalError", NULL, "out of memory");
}

/* /v1/audio/speech (audio, or SSE events) and /dev/captioned_speech (audio with word
 * timestamps, as JSON or NDJSON): one body, one job of one item. */
static sv_resp speech_route(sv_req *r, int captioned)
{
    sv_err e = {0};
    speech_req q;
    json_t *o = sv_parse_body(r, &e);
    sv_job *job = o ? sv_job_new(1) : NULL;
    if (o && !job)
        sv_fail(&e, 500, "InternalError", NULL, "out of memory");
    if (!job || parse_speech(r, o, captioned, &q, &job->items[0], &e)) {
        json_decref(o);
        sv_job_unref(job);
        return sv_resp_error(&e);
    }
    job->fmt = job->items[0].fmt;
    job->volume = (float)q.volume;
    const char *mime;
    if (captioned) {
        job->streaming = q.stream;
        job->wrap = q.stream ? SV_WRAP_CAPTIONS_NDJSON : SV_WRAP_CAPTIONS_JSON;
        job->captions = !q.captions ? 0 : q.captions[0] == 's' ? SV_CAPTIONS_SRT : SV_CAPTIONS_VTT;
        mime = q.stream ? "application/x-ndjson" : "application/json";
    } else {
        int sse = strcmp(q.stream_format, "sse") == 0;
        job->streaming = q.stream || sse;
        job->wrap = sse ? SV_WRAP_SSE : SV_WRAP_RAW;
        mime = sse ? "text/event-stream" : kokoro_format_mime(job->fmt);
    }
    json_decref(o); /* q's strings point into it: released once they are read */
    return job->streaming ? run_streamed(r, job, mime) : run_buffered(r, job, mime);
}

sv_resp sv_h_speech(sv_req *r) { return speech_route(r, 0); }

sv_resp sv_h_captioned(sv_req *r) { return speech_route(r, 1); }

/* /dev/phonemize runs on its connection's thread (it needs no worker), where espeak-ng's one
 * lock would otherwise let any number of them pile up: at most one per worker runs at once,
 * and past that the answer is 503 Overloaded, as the synthesis routes give when their queue
 * is full. */
static atomic_int phonemize_running;

static int phonemize_limit(sv_server *s)
{
    static atomic_int cpus;
    if (s->cfg.workers)
        return s->cfg.workers;
    if (!atomic_load(&cpus))
        atomic_store(&cpus, sv_usable_cpus());
    return atomic_load(&cpus);
}

sv_resp sv_h_phonemize(sv_req *r)
{
    static const char *const fields[] = {"text", "language", NULL};
    sv_err e = {0};
    const char *text = NULL, *lang = "en-us";
    char code[8];
    json_t *o = sv_parse_body(r, &e);
    if (!o || sv_only_fields(o, fields, &e) || sv_get_string(o, "text", &text, &e) ||
        sv_get_string(o, "language", &lang, &e) || check_text(r->srv, text, "text", &e) ||
        sv_pick_lang(r->srv, lang, "", 0, "language", code, &e)) {
        json_decref(o);
        return sv_resp_error(&e);
    }
    if (atomic_fetch_add(&phonemize_running, 1) >= phonemize_limit(r->srv)) {
        atomic_fetch_sub(&phonemize_running, 1);
        json_decref(o);
        sv_metrics_event(SV_EV_OVERLOADED);
        sv_fail(&e, 503, "Overloaded", NULL,
                "as many phonemizations run as there are workers; retry after the time in "
                "Retry-After");
        return sv_resp_error(&e);
    }
    char *ph = NULL, err[256];
    int rc = kokoro_phonemize(r->srv->eng.text, text, code, &ph, err, sizeof err);
    atomic_fetch_sub(&phonemize_running, 1);
    json_decref(o);
    if (rc != KOKORO_OK) {
        free(ph);
        sv_fail(&e, rc == KOKORO_E_NOMEM || rc == KOKORO_E_INTERNAL ? 500 : 400,
                rc == KOKORO_E_UNSUPPORTED ? "UnsupportedLanguage"
                : rc == KOKORO_E_NOMEM || rc == KOKORO_E_INTERNAL ? "InternalError"
                                                                   : "ValidationError",
                "text", "%s", err);
        return sv_resp_error(&e);
    }
    int32_t probe[1];
    int n = kokoro_tokenize(ph, probe, 0);
    int32_t *ids = n > 0 ? malloc(sizeof *ids * (size_t)n) : NULL;
    json_t *tokens = json_array();
    if (ids) {
        kokoro_tokenize(ph, ids, n);
        for (int i = 0; i < n; i++)
            json_array_append_new(tokens, json_integer(ids[i]));
    }
    free(ids);
    json_t *body = json_pack("{s:s, s:o, s:s}", "phonemes", ph, "tokens", tokens, "language",
                             code);
    free(ph);
    return sv_resp_json(200, body);
}

sv_resp sv_h_voices(sv_req *r)
{
    const kokoro_voices *v = r->srv->eng.voices;
    json_t *list = json_array(), *aliases = json_object();
    for (int i = 0; i < kokoro_voices_count(v); i++) {
        const char *name = kokoro_voices_name(v, i);
        const char *lang = kokoro_lang_of_voice(name);
        json_array_append_new(list, json_pack("{s:s, s:s, s:s?}", "id", name, "name", name,
                                              "language", lang));
    }
    for (int i = 0; sv_openai_voice_map[i][0]; i++)
        if (kokoro_voices_get(v, sv_openai_voice_map[i][1]) &&
            !kokoro_voices_get(v, sv_openai_voice_map[i][0]))
            json_object_set_new(aliases, sv_openai_voice_map[i][0],
                                json_string(sv_openai_voice_map[i][1]));
    return sv_resp_json(200, json_pack("{s:o, s:o, s:s}", "voices", list, "aliases", aliases,
                                             "default", r->srv->cfg.default_voice));
}

static json_t *model_object(const char *id)
{
    return json_pack("{s:s, s:s, s:i, s:s}", "id", id, "object", "model", "created",
                     MODEL_CREATED, "owned_by", "kokoro");
}

sv_resp sv_h_models(sv_req *r)
{
    json_t *data = json_array();
    for (const char *const *m = openai_models; *m; m++)
        json_array_append_new(data, model_object(*m));
    return sv_resp_json(200, json_pack("{s:s, s:o}", "object", "list", "data", data));
}

sv_resp sv_h_model_one(sv_req *r)
{
    const char *id = r->path + strlen("/v1/models/");
    for (const char *const *m = openai_models; *m; m++)
        if (strcmp(*m, id) == 0)
            return sv_resp_json(200, model_object(id));
    sv_err e = {0};
    sv_fail(&e, 404, "NotFound", "model", "model \"%.64s\" does not exist here", id);
    return sv_resp_error(&e);
}

sv_resp sv_h_health(sv_req *r)
{
    return sv_resp_json(200, json_pack("{s:s, s:f}", "status", "ok", "uptime_s",
                                             kk_now() - r->srv->started));
}

sv_resp sv_h_ready(sv_req *r)
{
    sv_server *s = r->srv;
    if (atomic_load(&s->draining) || !atomic_load(&s->ready)) {
        sv_err e = {0};
        sv_fail(&e, 503, "NotReady", NULL,
                atomic_load(&s->draining) ? "the server is shutting down"
                                          : "the model and voices are still loading");
        return sv_resp_error(&e);
    }
    int queued, running, workers, capacity;
    sv_pool_stats(s->pool, &queued, &running, &workers, &capacity);
    return sv_resp_json(200,
                           json_pack("{s:s, s:i, s:i, s:i, s:i, s:i}", "status", "ready", "voices",
                                     kokoro_voices_count(s->eng.voices), "workers", workers,
                                     "running", running, "queued", queued, "queue_capacity",
                                     capacity));
}

sv_resp sv_h_metrics(sv_req *r)
{
    sv_server *s = r->srv;
    int queued = 0, running = 0, workers = 0, capacity = 0;
    if (s->pool && atomic_load(&s->ready))
        sv_pool_stats(s->pool, &queued, &running, &workers, &capacity);
    kk_buf b = {0};
    if (sv_metrics_render(&b, atomic_load(&s->ready) && !atomic_load(&s->draining), queued,
                          running, workers, capacity))
        return sv_resp_none();
    size_t n;
    char *data = kk_buf_take(&b, &n);
    return sv_resp_bytes(200, "text/plain; version=0.0.4; charset=utf-8", data, n);
}

sv_resp sv_h_openapi(sv_req *r)
{
    char *doc = strdup(sv_openapi_json);
    return doc ? sv_resp_bytes(200, "application/json", doc, strlen(doc)) : sv_resp_none();
}

sv_resp sv_h_root(sv_req *r)
{
    return sv_resp_json(200, json_pack("{s:s, s:s, s:s, s:s}", "service", "kokoro",
                                             "openapi", "/openapi.json", "web", "/web/", "health",
                                             "/health"));
}
