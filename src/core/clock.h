/* clock.h - the one clock of the code base: seconds on the monotonic clock for every duration
 * (engine stages, load times, deadlines, request timings), and wall-clock seconds for the
 * timestamps of log lines. Neither can fail. */
#ifndef KK_CLOCK_H
#define KK_CLOCK_H

/* Seconds on the monotonic clock (an arbitrary origin: only differences mean something). */
double kk_now(void);
/* Seconds since the Unix epoch (CLOCK_REALTIME), for timestamps. */
double kk_wall_now(void);

#endif
