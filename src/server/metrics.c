/* metrics.c - request, job and queue counters, exposed in the Prometheus text format. */
#include "server/metrics.h"

#include <pthread.h>
#include <string.h>

#define MAX_SERIES 128
static const double buckets[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
#define N_BUCKETS (sizeof buckets / sizeof *buckets)

typedef struct {
    const char *route;
    int status;
    unsigned long count;
} series;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static series requests[MAX_SERIES];
static int n_series;
static unsigned long dur_buckets[N_BUCKETS], dur_count;
static double dur_sum;
static unsigned long ttfa_buckets[N_BUCKETS], ttfa_count;
static double ttfa_sum;
static double audio_total, busy_total;
static series wy_requests[MAX_SERIES]; /* route = kind, outcome in wy_outcomes */
static const char *wy_outcomes[MAX_SERIES];
static int n_wy;
static unsigned long wy_first_buckets[N_BUCKETS], wy_first_count, wy_conns[SV_WY_COUNT];
static double wy_first_sum;
static unsigned long jobs_total, events[SV_EV_COUNT];

static void observe(unsigned long *b, unsigned long *count, double *sum, double v)
{
    for (size_t i = 0; i < N_BUCKETS; i++)
        if (v <= buckets[i])
            b[i]++;
    (*count)++;
    *sum += v;
}

void sv_metrics_request(const char *route, int status, double seconds)
{
    pthread_mutex_lock(&mu);
    int i = 0;
    while (i < n_series && !(requests[i].status == status && strcmp(requests[i].route, route) == 0))
        i++;
    if (i == n_series && n_series < MAX_SERIES)
        requests[n_series++] = (series){route, status, 0};
    if (i < n_series)
        requests[i].count++;
    observe(dur_buckets, &dur_count, &dur_sum, seconds);
    pthread_mutex_unlock(&mu);
}

void sv_metrics_job(double audio_s, double busy_s, double first_audio_s)
{
    pthread_mutex_lock(&mu);
    audio_total += audio_s;
    busy_total += busy_s;
    jobs_total++;
    if (first_audio_s >= 0)
        observe(ttfa_buckets, &ttfa_count, &ttfa_sum, first_audio_s);
    pthread_mutex_unlock(&mu);
}

void sv_metrics_event(int which)
{
    pthread_mutex_lock(&mu);
    events[which]++;
    pthread_mutex_unlock(&mu);
}

void sv_metrics_wyoming(const char *kind, const char *outcome, double first_audio_s)
{
    pthread_mutex_lock(&mu);
    int i = 0;
    while (i < n_wy && !(strcmp(wy_requests[i].route, kind) == 0 &&
                         strcmp(wy_outcomes[i], outcome) == 0))
        i++;
    if (i == n_wy && n_wy < MAX_SERIES) {
        wy_requests[n_wy] = (series){kind, 0, 0};
        wy_outcomes[n_wy++] = outcome;
    }
    if (i < n_wy)
        wy_requests[i].count++;
    if (first_audio_s >= 0)
        observe(wy_first_buckets, &wy_first_count, &wy_first_sum, first_audio_s);
    pthread_mutex_unlock(&mu);
}

void sv_metrics_wyoming_conn(int which)
{
    pthread_mutex_lock(&mu);
    wy_conns[which]++;
    pthread_mutex_unlock(&mu);
}

static void histogram(kk_buf *b, const char *name, const char *help, const unsigned long *bk,
                      unsigned long count, double sum)
{
    kk_buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (size_t i = 0; i < N_BUCKETS; i++)
        kk_buf_printf(b, "%s_bucket{le=\"%g\"} %lu\n", name, buckets[i], bk[i]);
    kk_buf_printf(b, "%s_bucket{le=\"+Inf\"} %lu\n%s_sum %.6f\n%s_count %lu\n", name, count, name,
                  sum, name, count);
}

int sv_metrics_render(kk_buf *b, int ready, int queued, int running, int workers, int capacity)
{
    pthread_mutex_lock(&mu);
    kk_buf_printf(b, "# HELP kokoro_http_requests_total HTTP requests by route and status.\n"
                     "# TYPE kokoro_http_requests_total counter\n");
    for (int i = 0; i < n_series; i++)
        kk_buf_printf(b, "kokoro_http_requests_total{route=\"%s\",code=\"%d\"} %lu\n",
                      requests[i].route, requests[i].status, requests[i].count);
    histogram(b, "kokoro_http_request_duration_seconds", "Time from request to last byte.",
              dur_buckets, dur_count, dur_sum);
    histogram(b, "kokoro_time_to_first_audio_seconds",
              "Time from queueing a job to its first encoded audio.", ttfa_buckets, ttfa_count,
              ttfa_sum);
    kk_buf_printf(b,
                  "# HELP kokoro_audio_seconds_total Seconds of audio synthesised.\n"
                  "# TYPE kokoro_audio_seconds_total counter\nkokoro_audio_seconds_total %.3f\n"
                  "# HELP kokoro_worker_busy_seconds_total Worker time spent on jobs.\n"
                  "# TYPE kokoro_worker_busy_seconds_total counter\n"
                  "kokoro_worker_busy_seconds_total %.3f\n"
                  "# HELP kokoro_jobs_total Synthesis jobs run.\n"
                  "# TYPE kokoro_jobs_total counter\nkokoro_jobs_total %lu\n"
                  "# HELP kokoro_overloaded_total Requests refused with 503 because the queue "
                  "was full.\n# TYPE kokoro_overloaded_total counter\n"
                  "kokoro_overloaded_total %lu\n"
                  "# HELP kokoro_cancelled_total Jobs stopped because the client went away.\n"
                  "# TYPE kokoro_cancelled_total counter\nkokoro_cancelled_total %lu\n"
                  "# HELP kokoro_failed_total Jobs that failed.\n"
                  "# TYPE kokoro_failed_total counter\nkokoro_failed_total %lu\n",
                  audio_total, busy_total, jobs_total, events[SV_EV_OVERLOADED],
                  events[SV_EV_CANCELLED], events[SV_EV_FAILED]);
    kk_buf_printf(b, "# HELP kokoro_wyoming_requests_total Wyoming requests by kind (describe, "
                     "synthesize, stream) and outcome (ok or the error code).\n"
                     "# TYPE kokoro_wyoming_requests_total counter\n");
    for (int i = 0; i < n_wy; i++)
        kk_buf_printf(b, "kokoro_wyoming_requests_total{kind=\"%s\",outcome=\"%s\"} %lu\n",
                      wy_requests[i].route, wy_outcomes[i], wy_requests[i].count);
    histogram(b, "kokoro_wyoming_first_audio_seconds",
              "Time from a Wyoming synthesize (or synthesize-start) to its first audio-chunk.",
              wy_first_buckets, wy_first_count, wy_first_sum);
    kk_buf_printf(b,
                  "# HELP kokoro_wyoming_connections_total Wyoming connections accepted, and "
                  "refused by the connection caps.\n"
                  "# TYPE kokoro_wyoming_connections_total counter\n"
                  "kokoro_wyoming_connections_total{result=\"accepted\"} %lu\n"
                  "kokoro_wyoming_connections_total{result=\"refused\"} %lu\n"
                  "# HELP kokoro_wyoming_connections Open Wyoming connections.\n"
                  "# TYPE kokoro_wyoming_connections gauge\nkokoro_wyoming_connections %lu\n",
                  wy_conns[SV_WY_ACCEPTED], wy_conns[SV_WY_REFUSED],
                  wy_conns[SV_WY_ACCEPTED] - wy_conns[SV_WY_CLOSED]);
    pthread_mutex_unlock(&mu);
    return kk_buf_printf(b,
                         "# HELP kokoro_ready 1 when the service takes work.\n"
                         "# TYPE kokoro_ready gauge\nkokoro_ready %d\n"
                         "# HELP kokoro_queue_depth Jobs waiting for a worker.\n"
                         "# TYPE kokoro_queue_depth gauge\nkokoro_queue_depth %d\n"
                         "# HELP kokoro_queue_capacity Jobs that may wait.\n"
                         "# TYPE kokoro_queue_capacity gauge\nkokoro_queue_capacity %d\n"
                         "# HELP kokoro_workers_busy Workers running a job.\n"
                         "# TYPE kokoro_workers_busy gauge\nkokoro_workers_busy %d\n"
                         "# HELP kokoro_workers Inference workers.\n"
                         "# TYPE kokoro_workers gauge\nkokoro_workers %d\n",
                         ready, queued, capacity, running, workers);
}
