/* wyoming.h - the Wyoming protocol listener of `kokoro serve` (Home Assistant's voice
 * services): a TCP port of its own, served on the HTTP API's worker pool and queue. */
#ifndef SV_WYOMING_H
#define SV_WYOMING_H

#include "server/handler.h"

/* Listens on s->cfg.wyoming_port at s->cfg.host. Returns 0, or -1 (logged) when the port
 * cannot be bound or the accepting thread cannot start. */
int sv_wyoming_start(sv_server *s);
/* SIGTERM: stops accepting; open connections finish the work they have begun (a stream
 * included) while s->draining holds new requests off. Safe when never started. */
void sv_wyoming_quiesce(void);
/* After the drain, before the pool stops: closes every connection (its job is cancelled)
 * and waits for their threads. Safe when never started. */
void sv_wyoming_stop(void);

#endif
