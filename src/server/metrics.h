/* metrics.h - counters of the server, rendered in the Prometheus text format at /metrics. */
#ifndef SV_METRICS_H
#define SV_METRICS_H

#include "core/buf.h"

enum { SV_EV_OVERLOADED, SV_EV_CANCELLED, SV_EV_FAILED, SV_EV_COUNT };

/* A finished HTTP request of route `route` (a name from the route table, static storage). */
void sv_metrics_request(const char *route, int status, double seconds);
/* A finished synthesis job: audio produced and worker time spent. */
void sv_metrics_job(double audio_s, double busy_s, double first_audio_s);
void sv_metrics_event(int which);

/* The Wyoming port: a finished request of kind "describe", "synthesize" or "stream", with
 * outcome "ok" or an error code (both static strings), and, when audio was sent, the time
 * from the request to its first audio. */
void sv_metrics_wyoming(const char *kind, const char *outcome, double first_audio_s);
enum { SV_WY_ACCEPTED, SV_WY_REFUSED, SV_WY_CLOSED, SV_WY_COUNT };
/* A Wyoming connection accepted, refused (a connection cap), or closed. */
void sv_metrics_wyoming_conn(int which);
/* Appends the whole exposition; the gauges are passed in by the caller. */
int sv_metrics_render(kk_buf *b, int ready, int queued, int running, int workers, int capacity);

#endif
