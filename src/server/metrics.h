/* metrics.h - counters of the server, rendered in the Prometheus text format at /metrics. */
#ifndef SV_METRICS_H
#define SV_METRICS_H

#include "server/svutil.h"

enum { SV_EV_OVERLOADED, SV_EV_CANCELLED, SV_EV_FAILED, SV_EV_COUNT };

/* A finished HTTP request of route `route` (a name from the route table, static storage). */
void sv_metrics_request(const char *route, int status, double seconds);
/* A finished synthesis job: audio produced and worker time spent. */
void sv_metrics_job(double audio_s, double busy_s, double first_audio_s);
void sv_metrics_event(int which);
/* Appends the whole exposition; the gauges are passed in by the caller. */
int sv_metrics_render(sv_buf *b, int ready, int queued, int running, int workers, int capacity);

#endif
