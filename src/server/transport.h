/* transport.h - the HTTP side of `kokoro serve` (transport.c, the one file that knows
 * libmicrohttpd): the API and probe listeners, routing, CORS, authentication, limits,
 * streaming and the access log. The lifecycle (server.c) starts and stops it. */
#ifndef SV_TRANSPORT_H
#define SV_TRANSPORT_H

#include "server/handler.h"

/* Listens on s->cfg.port (and s->cfg.probe_port when set) and starts the thread that holds
 * each request to --request-timeout. Returns 0, or -1 (logged) when a port cannot be bound;
 * nothing is left running then. */
int sv_http_start(sv_server *s);
/* SIGTERM: stops accepting on the API port; open connections go on. */
void sv_http_quiesce(void);
/* Closes every listener and connection and joins the deadline thread. Safe when not started. */
void sv_http_stop(void);

#endif
