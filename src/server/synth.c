/* synth.c - runs one job on a worker: text -> kokoro_speak -> encoder -> the framing the
 * route asked for (raw audio, SSE events, caption lines, batch JSON), published to the
 * waiting connection chunk by chunk. */
#include "server/pool.h"
#include "core/buf.h"
#include "core/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_GAP_MS 300 /* silence between items of a concatenated batch */

typedef struct {
    sv_job *job;
    kokoro_encoder *enc;
    kk_buf pending;  /* encoded bytes not yet published */
    json_t *words;   /* word timestamps not yet published (captions) */
    size_t samples;  /* samples produced by this job so far */
    double offset_s; /* start of the current item in the whole output */
    double total_s;  /* audio of the whole job so far (all items), against its budget */
    int oom;
    /* captions: the item's text, where the last offset was turned into characters, and the
     * timings kept for the caption text (job->captions) */
    const char *text;
    long cp_byte, cp_chars;
    long last_src[2]; /* the written word of the last timestamp (a word cut between chunks) */
    kokoro_word_time *kept;
    int n_kept, cap_kept;
} run_ctx;

static int on_encoded(const void *data, size_t n, void *user)
{
    run_ctx *rc = user;
    if (kk_buf_put(&rc->pending, data, n)) {
        rc->oom = 1;
        return 1;
    }
    return 0;
}

/* Moves bytes to the connection's side and wakes it. Returns -1 when out of memory: the
 * caller fails the job rather than let the client take a truncated body for a whole one. */
static int publish(sv_job *job, const void *data, size_t n)
{
    int rc = 0;
    pthread_mutex_lock(&job->mu);
    if (n) {
        rc = kk_buf_put(&job->out, data, n) ? -1 : 0;
        if (rc == 0 && job->t_first == 0)
            job->t_first = kk_now();
    }
    pthread_cond_broadcast(&job->cv);
    pthread_mutex_unlock(&job->mu);
    return rc;
}

/* Nonzero once the job should stop: the client is gone, the server drains, or its deadline
 * has passed (which is remembered, for the error the client gets). */
static int stop_now(sv_job *job)
{
    if (atomic_load(&job->cancel))
        return 1;
    if (job->t_deadline > 0 && kk_now() > job->t_deadline) {
        atomic_store(&job->timed_out, 1);
        atomic_store(&job->cancel, 1);
        return 1;
    }
    return 0;
}

/* A stream computes at most one piece ahead of what it has sent: before publishing the next
 * piece, wait until the connection has taken everything published before it. A slow reader
 * then holds one piece of encoded audio, not the whole text's. */
static void wait_sent(sv_job *job)
{
    pthread_mutex_lock(&job->mu);
    while (job->out.n > job->out_pos && !stop_now(job))
        sv_job_wait(job, 50);
    pthread_mutex_unlock(&job->mu);
}

/* Publishes what is pending in the job's framing; `final` adds the closing event. */
static void flush(run_ctx *rc, int final)
{
    sv_job *job = rc->job;
    kk_buf frame = {0};
    int bad = 0;
    switch (job->wrap) {
    case SV_WRAP_RAW:
        bad = publish(job, rc->pending.p, rc->pending.n);
        break;
    case SV_WRAP_SSE:
        if (rc->pending.n) {
            kk_buf_printf(&frame, "data: {\"type\":\"speech.audio.delta\",\"audio\":\"");
            kk_buf_base64(&frame, rc->pending.p, rc->pending.n);
            kk_buf_printf(&frame, "\"}\n\n");
        }
        if (final)
            kk_buf_printf(&frame, "data: {\"type\":\"speech.audio.done\"}\n\n");
        bad = publish(job, frame.p, frame.n);
        break;
    case SV_WRAP_CAPTIONS_NDJSON:
        if (rc->pending.n || (rc->words && json_array_size(rc->words))) {
            kk_buf_printf(&frame, "{\"audio\":\"");
            kk_buf_base64(&frame, rc->pending.p, rc->pending.n);
            char *w = rc->words ? json_dumps(rc->words, JSON_COMPACT) : NULL;
            kk_buf_printf(&frame, "\",\"audio_format\":\"%s\",\"timestamps\":%s}\n",
                          kokoro_format_name(job->fmt), w ? w : "[]");
            free(w);
            json_array_clear(rc->words);
        }
        bad = publish(job, frame.p, frame.n);
        break;
    case SV_WRAP_CAPTIONS_JSON:
    case SV_WRAP_BATCH_JSON:
        return; /* assembled at the end */
    }
    if (bad)
        rc->oom = 1;
    kk_buf_clear(&rc->pending);
    kk_buf_free(&frame);
}

static int is_silence(const float *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != 0.0f)
            return 0;
    return 1;
}

static int on_audio(const float *samples, size_t n, void *user)
{
    run_ctx *rc = user;
    sv_job *job = rc->job;
    if (stop_now(job))
        return 1;
    if (kokoro_encoder_write(rc->enc, samples, n) != KOKORO_OK || rc->oom)
        return 1;
    rc->samples += n;
    rc->total_s += (double)n / KOKORO_SAMPLE_RATE;
    if (job->wrap != SV_WRAP_CAPTIONS_NDJSON) {
        /* a pause is not a piece: it goes out with the piece before it */
        if (job->streaming && (job->wrap == SV_WRAP_RAW || job->wrap == SV_WRAP_SSE) &&
            !is_silence(samples, n))
            wait_sent(job);
        flush(rc, 0);
    }
    return stop_now(job) || rc->oom;
}

/* A byte offset of the item's text as a count of characters (Unicode code points, as Python
 * indexes strings). Offsets mostly grow, so counting goes on from the last one. */
static json_t *char_offset(run_ctx *rc, long byte)
{
    if (byte < 0 || !rc->text)
        return json_null();
    if (byte < rc->cp_byte)
        rc->cp_byte = rc->cp_chars = 0;
    for (; rc->cp_byte < byte && rc->text[rc->cp_byte]; rc->cp_byte++)
        rc->cp_chars += ((unsigned char)rc->text[rc->cp_byte] & 0xC0) != 0x80;
    return json_integer(rc->cp_chars);
}

/* Keeps a copy of a word's timing for the caption text. */
static void keep_word(run_ctx *rc, const kokoro_word_time *w)
{
    kokoro_word_time *k = kk_grow(rc->kept, rc->n_kept + 1, &rc->cap_kept, sizeof *k, 64);
    if (!k) {
        rc->oom = 1;
        return;
    }
    rc->kept = k;
    kokoro_word_time t = *w;
    t.word = strdup(w->word ? w->word : "");
    t.written = w->written ? strdup(w->written) : NULL;
    if (!t.word || (w->written && !t.written)) {
        free((char *)t.word);
        free((char *)t.written);
        rc->oom = 1;
        return;
    }
    t.start_s += rc->offset_s;
    t.end_s += rc->offset_s;
    rc->kept[rc->n_kept++] = t;
}

static void on_words(const kokoro_word_time *w, int n, void *user)
{
    run_ctx *rc = user;
    for (int i = 0; i < n && rc->words; i++) {
        if (rc->job->captions)
            keep_word(rc, &w[i]);
        size_t k = json_array_size(rc->words);
        json_t *prev = k ? json_array_get(rc->words, k - 1) : NULL;
        if (prev && w[i].src_start >= 0 && w[i].src_start == rc->last_src[0] &&
            w[i].src_end == rc->last_src[1]) {
            /* the rest of a written word whose first words ended the chunk before */
            const char *sp = json_string_value(json_object_get(prev, "spoken"));
            char *joined = NULL;
            if (sp && asprintf(&joined, "%s %s", sp, w[i].word) >= 0) {
                json_object_set_new(prev, "spoken", json_string(joined));
                json_object_set_new(prev, "end_time", json_real(w[i].end_s + rc->offset_s));
            }
            free(joined);
            continue;
        }
        rc->last_src[0] = w[i].src_start, rc->last_src[1] = w[i].src_end;
        /* word: as written in the input when known; spoken: what was read */
        json_t *start = char_offset(rc, w[i].src_start), *end = char_offset(rc, w[i].src_end);
        json_array_append_new(rc->words,
                              json_pack("{s:s?, s:s?, s:f, s:f, s:o, s:o}", "word",
                                        w[i].written ? w[i].written : w[i].word, "spoken",
                                        w[i].word, "start_time", w[i].start_s + rc->offset_s,
                                        "end_time", w[i].end_s + rc->offset_s, "start_char",
                                        start, "end_char", end));
    }
    if (rc->job->wrap == SV_WRAP_CAPTIONS_NDJSON)
        flush(rc, 0);
}

/* The caption text of the words kept, or NULL (out of memory: rc->oom is set). */
static char *caption_text(run_ctx *rc)
{
    char *cap = NULL, err[128];
    if (!rc->oom && kokoro_captions(rc->kept, rc->n_kept, rc->text,
                                    rc->job->captions == SV_CAPTIONS_VTT, &cap, err,
                                    sizeof err) != KOKORO_OK)
        rc->oom = 1;
    return cap;
}

static int cancelled(void *user)
{
    return stop_now(user);
}

/* Speaks one item into rc->enc. Returns a kokoro_status, message in err. */
static int speak_item(run_ctx *rc, const sv_item *it, kokoro_state *st, const sv_engine *eng,
                      float *pack, char *err, size_t errlen)
{
    int rc_ = kokoro_voice_blend(eng->voices, it->voice, pack, err, errlen);
    if (rc_ != KOKORO_OK)
        return rc_;
    kokoro_speak_params sp = kokoro_speak_defaults();
    sp.speed = it->speed;
    sp.volume = rc->job->volume;
    sp.cancel = cancelled;
    sp.cancel_user = rc->job;
    sp.quick_start = rc->job->streaming; /* a stream starts with a phrase, for early audio */
    sp.max_frames = rc->job->max_frames;
    sp.voices = eng->voices; /* SSML <voice name> */
    sp.max_audio_s = rc->job->max_audio_s;
    sp.budget_used_s = rc->total_s; /* a batch's items share one budget */
    if (rc->words)
        sp.on_words = on_words;
    if (it->has_norm)
        sp.norm = &it->norm;
    rc->offset_s = (double)rc->samples / KOKORO_SAMPLE_RATE;
    rc->text = it->text;
    rc->cp_byte = rc->cp_chars = 0;
    rc->last_src[0] = rc->last_src[1] = -1;
    rc_ = kokoro_speak(st, eng->text, it->text, it->lang, pack, &sp, on_audio, rc, err, errlen);
    if (rc_ == KOKORO_OK && rc->oom) {
        snprintf(err, errlen, "out of memory holding the encoded audio");
        rc_ = KOKORO_E_NOMEM;
    }
    return rc_;
}

/* The status to report when speak failed because of the job's own cancel flag. */
static int effective(run_ctx *rc, int status)
{
    if (rc->oom)
        return KOKORO_E_NOMEM;
    return atomic_load(&rc->job->cancel) ? KOKORO_E_CANCELLED : status;
}

/* The message of a job its deadline stopped. */
static void timeout_message(const sv_job *job, char *err, size_t errlen)
{
    snprintf(err, errlen, "the request took longer than the limit of %g s of computing "
             "(KOKORO_JOB_TIMEOUT)", job->timeout_s);
}

static void fail(sv_job *job, int status, const char *err)
{
    pthread_mutex_lock(&job->mu);
    if (job->status == KOKORO_OK) {
        job->status = status;
        snprintf(job->err, sizeof job->err, "%s", err);
    }
    pthread_mutex_unlock(&job->mu);
}

/* Fails a job that its cancel flag stopped, with the deadline's message when that was why. */
static void fail_stopped(sv_job *job)
{
    char msg[256] = "cancelled";
    if (atomic_load(&job->timed_out))
        timeout_message(job, msg, sizeof msg);
    fail(job, KOKORO_E_CANCELLED, msg);
}

/* Batch without concatenation: each item gets its own encoder and result entry. */
static void run_batch_json(run_ctx *rc, kokoro_state *st, const sv_engine *eng, float *pack)
{
    sv_job *job = rc->job;
    json_t *results = json_array();
    char err[256];
    for (int i = 0; i < job->n_items && results; i++) {
        const sv_item *it = &job->items[i];
        if (stop_now(job)) {
            fail_stopped(job);
            break;
        }
        if (it->error) {
            json_array_append(results, it->error);
            continue;
        }
        kk_buf_clear(&rc->pending);
        rc->samples = 0;
        int status = kokoro_encoder_new(it->fmt, KOKORO_SAMPLE_RATE, 0, on_encoded, rc, &rc->enc,
                                        err, sizeof err);
        if (status == KOKORO_OK)
            status = speak_item(rc, it, st, eng, pack, err, sizeof err);
        if (status == KOKORO_OK && kokoro_encoder_finish(rc->enc) != KOKORO_OK)
            status = KOKORO_E_INTERNAL, snprintf(err, sizeof err, "the encoder failed");
        if (rc->enc)
            kokoro_encoder_free(rc->enc);
        rc->enc = NULL;
        status = effective(rc, status);
        if (status == KOKORO_E_CANCELLED) {
            fail_stopped(job);
            break;
        }
        if (status == KOKORO_E_TOO_LONG) { /* the batch's budget: the whole batch is refused */
            fail(job, status, err);
            break;
        }
        if (status != KOKORO_OK) {
            json_array_append_new(results,
                                  json_pack("{s:s, s:s, s:{s:i}}", "error", "InternalError",
                                            "message", err, "details", "index", i));
            continue;
        }
        kk_buf b64 = {0};
        kk_buf_base64(&b64, rc->pending.p, rc->pending.n);
        json_array_append_new(results,
                              json_pack("{s:i, s:s, s:s, s:f, s:s%}", "index", i, "content_type",
                                        kokoro_format_mime(it->fmt), "format",
                                        kokoro_format_name(it->fmt), "duration_s",
                                        (double)rc->samples / KOKORO_SAMPLE_RATE, "audio",
                                        b64.p ? b64.p : "", b64.n));
        kk_buf_free(&b64);
        pthread_mutex_lock(&job->mu);
        job->audio_s += (double)rc->samples / KOKORO_SAMPLE_RATE;
        pthread_mutex_unlock(&job->mu);
    }
    if (job->status == KOKORO_OK) {
        char *s = results ? json_dumps(results, JSON_COMPACT) : NULL;
        if (!s || publish(job, s, strlen(s)))
            fail(job, KOKORO_E_NOMEM, "out of memory building the batch response");
        free(s);
    }
    json_decref(results);
}

void sv_job_run(sv_job *job, kokoro_state *st, const sv_engine *eng, float *pack)
{
    run_ctx rc = {.job = job};
    char err[256] = "";
    if (job->wrap == SV_WRAP_BATCH_JSON) {
        run_batch_json(&rc, st, eng, pack);
        kk_buf_free(&rc.pending);
        return;
    }
    if (job->wrap == SV_WRAP_CAPTIONS_JSON || job->wrap == SV_WRAP_CAPTIONS_NDJSON)
        rc.words = json_array();
    int status = kokoro_encoder_new(job->fmt, KOKORO_SAMPLE_RATE, job->streaming, on_encoded, &rc,
                                    &rc.enc, err, sizeof err);
    for (int i = 0; status == KOKORO_OK && i < job->n_items; i++) {
        if (i > 0) {
            /* A pause between concatenated items, as between sentences. */
            static const float silence[KOKORO_SAMPLE_RATE * BATCH_GAP_MS / 1000];
            if (kokoro_encoder_write(rc.enc, silence, sizeof silence / sizeof *silence))
                status = KOKORO_E_INTERNAL, snprintf(err, sizeof err, "the encoder failed");
            rc.samples += sizeof silence / sizeof *silence;
        }
        if (status == KOKORO_OK)
            status = speak_item(&rc, &job->items[i], st, eng, pack, err, sizeof err);
    }
    if (status == KOKORO_OK && kokoro_encoder_finish(rc.enc) != KOKORO_OK)
        status = KOKORO_E_INTERNAL, snprintf(err, sizeof err, "the encoder failed to finish");
    status = effective(&rc, status);
    pthread_mutex_lock(&job->mu);
    job->audio_s = (double)rc.samples / KOKORO_SAMPLE_RATE;
    pthread_mutex_unlock(&job->mu);
    if (status == KOKORO_OK) {
        if (job->wrap == SV_WRAP_CAPTIONS_JSON) {
            kk_buf b64 = {0};
            kk_buf_base64(&b64, rc.pending.p, rc.pending.n);
            json_t *o = json_pack("{s:s%, s:s, s:s, s:f, s:O}", "audio", b64.p ? b64.p : "",
                                  b64.n, "audio_format", kokoro_format_name(job->fmt),
                                  "content_type", kokoro_format_mime(job->fmt), "duration_s",
                                  job->audio_s, "timestamps", rc.words);
            if (o && job->captions) {
                char *cap = caption_text(&rc);
                if (!cap || json_object_set_new(o, "captions", json_string(cap)))
                    json_decref(o), o = NULL;
                free(cap);
            }
            char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
            if (!s || publish(job, s, strlen(s)))
                status = KOKORO_E_NOMEM, snprintf(err, sizeof err, "out of memory");
            free(s);
            json_decref(o);
            kk_buf_free(&b64);
        } else {
            flush(&rc, 1);
            if (job->wrap == SV_WRAP_CAPTIONS_NDJSON && job->captions) {
                /* the captions need every word: one last line carries them */
                char *cap = caption_text(&rc);
                json_t *line = cap ? json_pack("{s:s, s:s, s:[], s:s}", "audio", "", "audio_format",
                                               kokoro_format_name(job->fmt), "timestamps",
                                               "captions", cap)
                                   : NULL;
                char *js = line ? json_dumps(line, JSON_COMPACT) : NULL;
                kk_buf frame = {0};
                if (!js || kk_buf_printf(&frame, "%s\n", js) < 0 ||
                    publish(job, frame.p, frame.n))
                    rc.oom = 1;
                kk_buf_free(&frame);
                free(js);
                json_decref(line);
                free(cap);
            }
            if (rc.oom)
                status = KOKORO_E_NOMEM, snprintf(err, sizeof err, "out of memory");
        }
    }
    if (status == KOKORO_E_CANCELLED && atomic_load(&job->timed_out))
        timeout_message(job, err, sizeof err);
    if (status != KOKORO_OK && job->wrap == SV_WRAP_SSE && job->t_first > 0) {
        /* an event stream that has begun ends with an error event, then closes cleanly */
        json_t *ev = json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error", "type",
                               atomic_load(&job->timed_out) ? "Timeout"
                               : status == KOKORO_E_TOO_LONG ? "PayloadTooLarge"
                                                            : "SynthesisFailed",
                               "message", err[0] ? err : kokoro_status_str(status));
        char *js = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
        kk_buf frame = {0};
        if (js && kk_buf_printf(&frame, "data: %s\n\n", js) >= 0 &&
            publish(job, frame.p, frame.n) == 0)
            job->error_sent = 1;
        kk_buf_free(&frame);
        free(js);
        json_decref(ev);
    }
    if (status != KOKORO_OK)
        fail(job, status, err[0] ? err : kokoro_status_str(status));
    if (rc.enc)
        kokoro_encoder_free(rc.enc);
    json_decref(rc.words);
    kk_buf_free(&rc.pending);
    for (int i = 0; i < rc.n_kept; i++) {
        free((char *)rc.kept[i].word);
        free((char *)rc.kept[i].written);
    }
    free(rc.kept);
}
