/* pool.h - the fixed pool of inference workers, its bounded queue, and the jobs they run. */
#ifndef SV_POOL_H
#define SV_POOL_H

#include "kokoro.h"
#include "core/buf.h"
#include "server/svutil.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

/* The loaded, read-only engine shared by all workers. */
typedef struct {
    kokoro_model *model;
    kokoro_voices *voices;
    kokoro_text *text;
} sv_engine;

/* How a job turns encoded audio into the response body. */
typedef enum {
    SV_WRAP_RAW,             /* the audio bytes as they are */
    SV_WRAP_SSE,             /* speech.audio.delta events with base64 audio, then done */
    SV_WRAP_CAPTIONS_NDJSON, /* one JSON line per chunk: audio + word timestamps */
    SV_WRAP_CAPTIONS_JSON,   /* one JSON object: all audio + all word timestamps */
    SV_WRAP_BATCH_JSON       /* a JSON array, one result (audio or error) per item */
} sv_wrap;

/* One text to speak, already validated by the handler. */
typedef struct {
    char *text;
    char *voice; /* a voice spec kokoro_voice_blend accepts */
    char lang[8];
    float speed;
    kokoro_format fmt;
    json_t *error; /* set: this item failed validation; the worker reports it, speaks nothing */
    kokoro_norm_options norm; /* normalization_options, when has_norm */
    int has_norm;             /* 0: the library's defaults (kokoro_norm_defaults) */
} sv_item;

enum { SV_JOB_QUEUED, SV_JOB_RUNNING, SV_JOB_DONE };
enum { SV_CAPTIONS_SRT = 1, SV_CAPTIONS_VTT = 2 };

typedef struct sv_job {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;           /* under mu; the last sv_job_unref frees */
    atomic_int cancel;  /* set by the connection when the client is gone */

    /* Input: fixed once submitted. */
    sv_item *items;
    int n_items;
    kokoro_format fmt; /* of the concatenated / streamed output */
    sv_wrap wrap;
    int streaming;   /* encoders emit as they go; WAV gets an unknown-length header */
    float volume;
    int concatenate; /* all items into one audio stream (SV_WRAP_RAW) */
    int captions;    /* captions wraps: 0 none, SV_CAPTIONS_SRT or SV_CAPTIONS_VTT text too */

    /* Output: under mu. The connection consumes out from out_pos on. */
    kk_buf out;
    size_t out_pos;
    size_t sent;   /* bytes the connection has taken from out (a stream's body size) */
    int state;
    int status;    /* KOKORO_OK or the kokoro_status that stopped the job */
    char err[256];
    double audio_s;          /* seconds of audio produced */
    int error_sent;          /* the failure went out as an event of the stream itself */

    /* Limits, set at submission from the server's settings. */
    double timeout_s;        /* compute seconds from the start of the run, 0 = none */
    double max_audio_s;      /* audio seconds of the whole job, 0 = none */
    int max_frames;          /* frames per forward pass, 0 = the library's default */
    double t_deadline;       /* t_start + timeout_s, set by the worker */
    atomic_int timed_out;    /* the deadline stopped the job */
    double t_submit, t_start, t_first, t_end;
    struct sv_job *next;     /* queue link, under the pool's lock */
} sv_job;

/* A new job with one reference (the caller's) and room for n_items items. NULL when out of
 * memory. */
sv_job *sv_job_new(int n_items);
void sv_job_ref(sv_job *job);
void sv_job_unref(sv_job *job);
/* Waits on job->cv for at most ms milliseconds; the caller holds job->mu. Every side that
 * waits for the other (connection for output, worker for the connection to catch up) wakes
 * this way too, so that it can look at deadlines and sockets between signals. */
void sv_job_wait(sv_job *job, int ms);

typedef struct sv_pool sv_pool;

/* Starts `workers` threads, each with its own kokoro_state of `threads` threads (0 = the
 * usable CPUs), behind a queue of `queue_depth` waiting jobs. The usable CPUs are shared out
 * among the running jobs (a lone job uses them all). Returns 0, or -1 with a message in err. */
int sv_pool_start(sv_pool **out, const sv_engine *eng, int workers, int threads, int queue_depth,
                  char *err, size_t errlen);
/* Queues a job (the pool takes its own reference). Returns 0, or -1 when the queue is full or
 * the pool is stopping: the caller answers 503 at once. */
int sv_pool_submit(sv_pool *p, sv_job *job);
/* Asks a job to stop: a queued job leaves the queue at once, a running one stops within a
 * chunk. */
void sv_pool_cancel(sv_pool *p, sv_job *job);
/* Waiting and running jobs now, and the worker count. */
void sv_pool_stats(sv_pool *p, int *queued, int *running, int *workers, int *capacity);
/* Seconds a rejected client should wait before retrying, from recent job durations. */
int sv_pool_retry_after(sv_pool *p);
/* Cancels queued jobs, lets running ones finish, joins the workers and frees the pool. */
void sv_pool_stop(sv_pool *p);

/* Runs a job on a worker (synth.c). pack is the worker's KOKORO_VOICE_FLOATS scratch. */
void sv_job_run(sv_job *job, kokoro_state *st, const sv_engine *eng, float *pack);

/* The number of CPUs this process may use: its affinity mask, bounded by a cgroup (v1 or
 * v2) CPU quota, at least 1. */
int sv_usable_cpus(void);

#endif
