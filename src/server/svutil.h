/* svutil.h - the server's structured log: one JSON line per message on stderr. (Buffers,
 * clocks and UTF-8 are the library's core helpers: src/core/buf.h, clock.h, utf8.h.) */
#ifndef SV_UTIL_H
#define SV_UTIL_H

#include <stddef.h>

/* Log levels, lowest first. Messages below the configured level are dropped. */
enum { SV_LOG_DEBUG, SV_LOG_INFO, SV_LOG_WARN, SV_LOG_ERROR };
extern int sv_log_level;
/* Parses "debug", "info", "warn", "error"; returns -1 for anything else. */
int sv_log_level_parse(const char *s);
/* Writes one JSON line {"ts":..,"level":..,"msg":..} to stderr. */
void sv_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes a preformatted JSON object (without newline) as one line, atomically. */
void sv_log_line(const char *json, size_t len);

#endif
