/* svutil.h - small helpers of the HTTP server: growable buffers, base64, clocks, logging. */
#ifndef SV_UTIL_H
#define SV_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer. Zero-initialised is empty; free with sv_buf_free. */
typedef struct {
    char *data;
    size_t len, cap;
} sv_buf;

/* Appends n bytes. Returns 0, or -1 when out of memory (the buffer is unchanged). */
int sv_buf_append(sv_buf *b, const void *data, size_t n);
int sv_buf_printf(sv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends the base64 encoding (RFC 4648, padded) of n bytes. */
int sv_buf_base64(sv_buf *b, const void *data, size_t n);
/* Hands the bytes over to the caller (malloc'd, may be NULL when empty) and empties b. */
char *sv_buf_take(sv_buf *b, size_t *len);
void sv_buf_free(sv_buf *b);

/* Seconds on the monotonic clock. */
double sv_now(void);

/* Number of Unicode code points in a valid UTF-8 string. */
size_t sv_utf8_len(const char *s);

/* Replaces each byte that does not start a valid UTF-8 sequence by '?', in place (messages
 * quote input cut to a length, which can split a character). */
void sv_utf8_sanitize(char *s);

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
