/* pool.c - a fixed set of inference workers fed by a bounded FIFO of jobs. Each worker owns a
 * kokoro_state; the model, voices and text front end are shared read-only. */
#include "server/pool.h"
#include "core/clock.h"
#include "server/metrics.h"

#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sv_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sv_job *head, *tail;
    int queued, running, depth, stopping;
    int n_workers;
    double ewma_job_s; /* recent job duration, for Retry-After */
    const sv_engine *eng;
    pthread_t *threads;
    kokoro_state **states;
    int *busy;          /* states[i] is running a job, under mu */
    double *since;      /* when states[i]'s job started, under mu */
    int n_threads_each; /* threads each state has: the most one job may use */
    int n_cpus;         /* cores shared out among the running jobs */
    int n_alloc; /* states[] slots */
};

/* Shares the cores among the running jobs, at dispatch and whenever a job ends: a lone job
 * uses them all, two split them, more get one each. A running synthesis picks up its new
 * count at its next layer. Called under p->mu. */
static void share_cores(sv_pool *p)
{
    int running = p->running;
    if (running == 0)
        return;
    int each = p->n_cpus / running, extra = p->n_cpus % running, k = 0;
    for (int i = 0; i < p->n_alloc; i++) {
        if (!p->busy[i])
            continue;
        int n = each + (k++ < extra);
        kokoro_state_set_threads(p->states[i], n < 1 ? 1 : n);
    }
}

sv_job *sv_job_new(int n_items)
{
    sv_job *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    job->items = calloc((size_t)(n_items > 0 ? n_items : 1), sizeof *job->items);
    if (!job->items) {
        free(job);
        return NULL;
    }
    job->n_items = n_items;
    job->refs = 1;
    job->volume = 1.0f;
    pthread_mutex_init(&job->mu, NULL);
    pthread_cond_init(&job->cv, NULL);
    return job;
}

void sv_job_ref(sv_job *job)
{
    pthread_mutex_lock(&job->mu);
    job->refs++;
    pthread_mutex_unlock(&job->mu);
}

void sv_job_unref(sv_job *job)
{
    if (!job)
        return;
    pthread_mutex_lock(&job->mu);
    int last = --job->refs == 0;
    pthread_mutex_unlock(&job->mu);
    if (!last)
        return;
    for (int i = 0; i < job->n_items; i++) {
        free(job->items[i].text);
        free(job->items[i].voice);
        json_decref(job->items[i].error);
    }
    free(job->items);
    kk_buf_free(&job->out);
    pthread_mutex_destroy(&job->mu);
    pthread_cond_destroy(&job->cv);
    free(job);
}

void sv_job_wait(sv_job *job, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&job->cv, &job->mu, &ts);
}

/* Marks a job finished and wakes its connection. */
static void job_done(sv_job *job, int status, const char *err)
{
    pthread_mutex_lock(&job->mu);
    if (status != KOKORO_OK && job->status == KOKORO_OK) {
        job->status = status;
        snprintf(job->err, sizeof job->err, "%s", err ? err : kokoro_status_str(status));
    }
    job->state = SV_JOB_DONE;
    job->t_end = kk_now();
    pthread_cond_broadcast(&job->cv);
    pthread_mutex_unlock(&job->mu);
}

typedef struct {
    sv_pool *pool;
    int index;
} worker_arg;

static void *worker_main(void *arg)
{
    worker_arg wa = *(worker_arg *)arg;
    free(arg);
    sv_pool *p = wa.pool;
    kokoro_state *st = p->states[wa.index];
    float *pack = malloc(sizeof(float) * KOKORO_VOICE_FLOATS);
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        if (!p->head) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        sv_job *job = p->head;
        p->head = job->next;
        if (!p->head)
            p->tail = NULL;
        job->next = NULL;
        p->queued--;
        p->running++;
        p->busy[wa.index] = 1;
        p->since[wa.index] = kk_now();
        share_cores(p);
        pthread_mutex_unlock(&p->mu);

        pthread_mutex_lock(&job->mu);
        job->state = SV_JOB_RUNNING;
        job->t_start = kk_now();
        job->t_deadline = job->timeout_s > 0 ? job->t_start + job->timeout_s : 0;
        pthread_mutex_unlock(&job->mu);
        if (!pack)
            job_done(job, KOKORO_E_NOMEM, "out of memory for a voice pack");
        else if (atomic_load(&job->cancel))
            job_done(job, KOKORO_E_CANCELLED, NULL);
        else {
            sv_job_run(job, st, p->eng, pack);
            job_done(job, KOKORO_OK, NULL);
        }
        double busy = job->t_end - job->t_start;
        if (job->status == KOKORO_E_CANCELLED)
            sv_metrics_event(SV_EV_CANCELLED);
        else if (job->status != KOKORO_OK)
            sv_metrics_event(SV_EV_FAILED);
        sv_metrics_job(job->audio_s, busy, job->t_first > 0 ? job->t_first - job->t_submit : -1);

        pthread_mutex_lock(&p->mu);
        p->running--;
        p->busy[wa.index] = 0;
        share_cores(p);
        p->ewma_job_s = p->ewma_job_s > 0 ? 0.8 * p->ewma_job_s + 0.2 * busy : busy;
        pthread_mutex_unlock(&p->mu);
        sv_job_unref(job);
    }
    free(pack);
    return NULL;
}

int sv_pool_start(sv_pool **out, const sv_engine *eng, int workers, int threads, int queue_depth,
                  char *err, size_t errlen)
{
    sv_pool *p = calloc(1, sizeof *p);
    if (!p)
        goto nomem;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->eng = eng;
    p->depth = queue_depth;
    p->n_cpus = sv_usable_cpus();
    p->n_threads_each = threads > 0 ? threads : p->n_cpus;
    p->threads = calloc((size_t)workers, sizeof *p->threads);
    p->states = calloc((size_t)workers, sizeof *p->states);
    p->busy = calloc((size_t)workers, sizeof *p->busy);
    p->since = calloc((size_t)workers, sizeof *p->since);
    if (!p->threads || !p->states || !p->busy || !p->since)
        goto nomem;
    p->n_alloc = workers;
    for (int i = 0; i < workers; i++) {
        p->states[i] = kokoro_state_new(eng->model, p->n_threads_each);
        worker_arg *wa = malloc(sizeof *wa);
        if (!p->states[i] || !wa) {
            free(wa);
            goto nomem;
        }
        *wa = (worker_arg){p, i};
        if (pthread_create(&p->threads[i], NULL, worker_main, wa)) {
            free(wa);
            snprintf(err, errlen, "cannot start worker thread %d", i);
            sv_pool_stop(p);
            return -1;
        }
        p->n_workers++;
    }
    *out = p;
    return 0;
nomem:
    snprintf(err, errlen, "out of memory starting %d workers", workers);
    if (p)
        sv_pool_stop(p);
    return -1;
}

int sv_pool_submit(sv_pool *p, sv_job *job)
{
    pthread_mutex_lock(&p->mu);
    /* A job waits only while a worker is busy; with one idle, it is picked up at once. */
    int idle = p->n_workers - p->running - p->queued;
    if (p->stopping || (idle <= 0 && p->queued >= p->depth)) {
        pthread_mutex_unlock(&p->mu);
        return -1;
    }
    sv_job_ref(job);
    job->state = SV_JOB_QUEUED;
    job->t_submit = kk_now();
    job->next = NULL;
    if (p->tail)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    p->queued++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

void sv_pool_cancel(sv_pool *p, sv_job *job)
{
    atomic_store(&job->cancel, 1);
    pthread_mutex_lock(&p->mu);
    sv_job **link = &p->head, *prev = NULL;
    while (*link && *link != job) {
        prev = *link;
        link = &(*link)->next;
    }
    int found = *link == job;
    if (found) {
        *link = job->next;
        if (p->tail == job)
            p->tail = prev;
        job->next = NULL;
        p->queued--;
    }
    pthread_mutex_unlock(&p->mu);
    if (found) {
        job_done(job, KOKORO_E_CANCELLED, NULL);
        sv_metrics_event(SV_EV_CANCELLED);
        sv_job_unref(job); /* the reference the queue held */
    }
}

void sv_pool_stats(sv_pool *p, int *queued, int *running, int *workers, int *capacity)
{
    pthread_mutex_lock(&p->mu);
    *queued = p->queued;
    *running = p->running;
    *workers = p->n_workers;
    *capacity = p->depth;
    pthread_mutex_unlock(&p->mu);
}

int sv_pool_retry_after(sv_pool *p)
{
    pthread_mutex_lock(&p->mu);
    /* Before any job has finished there is no average yet: the longest-running job has
     * taken at least its elapsed time, and a new one would likely take as long. */
    double job_s = p->ewma_job_s, now = kk_now();
    for (int i = 0; i < p->n_alloc; i++)
        if (p->busy[i] && now - p->since[i] > job_s)
            job_s = now - p->since[i];
    double wait = job_s * (p->queued + 1) / (p->n_workers > 0 ? p->n_workers : 1);
    pthread_mutex_unlock(&p->mu);
    int s = (int)ceil(wait);
    return s < 1 ? 1 : s > 60 ? 60 : s;
}

void sv_pool_stop(sv_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    sv_job *q = p->head;
    p->head = p->tail = NULL;
    p->queued = 0;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    while (q) {
        sv_job *next = q->next;
        atomic_store(&q->cancel, 1);
        job_done(q, KOKORO_E_CANCELLED, "the server is shutting down");
        sv_job_unref(q);
        q = next;
    }
    for (int i = 0; i < p->n_workers; i++)
        pthread_join(p->threads[i], NULL);
    for (int i = 0; p->states && i < p->n_alloc; i++)
        if (p->states[i])
            kokoro_state_free(p->states[i]);
    free(p->states);
    free(p->busy);
    free(p->since);
    free(p->threads);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

/* Reads "quota period" (cgroup v2 cpu.max) or two v1 files; returns the CPU limit or 0. */
static double cgroup_cpu_limit(void)
{
    FILE *f = fopen("/sys/fs/cgroup/cpu.max", "r");
    if (f) {
        char quota[32];
        long period = 0;
        int n = fscanf(f, "%31s %ld", quota, &period);
        fclose(f);
        if (n == 2 && strcmp(quota, "max") != 0 && period > 0)
            return atof(quota) / (double)period;
        return 0;
    }
    long quota = -1, period = 0;
    f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "r");
    if (f) {
        if (fscanf(f, "%ld", &quota) != 1)
            quota = -1;
        fclose(f);
    }
    f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "r");
    if (f) {
        if (fscanf(f, "%ld", &period) != 1)
            period = 0;
        fclose(f);
    }
    return quota > 0 && period > 0 ? (double)quota / (double)period : 0;
}

int sv_usable_cpus(void)
{
    int n = 1;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
    double limit = cgroup_cpu_limit();
    if (limit > 0 && ceil(limit) < n)
        n = (int)ceil(limit);
    return n < 1 ? 1 : n;
}
