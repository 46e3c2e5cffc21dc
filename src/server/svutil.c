/* svutil.c - the server's structured log (svutil.h). */
#include "server/svutil.h"
#include "core/clock.h"
#include "core/utf8.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int sv_log_level = SV_LOG_INFO;

int sv_log_level_parse(const char *s)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

void sv_log_line(const char *json, size_t len)
{
    /* One writev per line, so that lines from concurrent threads never interleave. */
    struct iovec iov[2] = {{(void *)json, len}, {"\n", 1}};
    ssize_t rc = writev(STDERR_FILENO, iov, 2);
    (void)rc;
}

void sv_log(int level, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (level < sv_log_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kk_utf8_sanitize(msg);
    json_t *o = json_pack("{s:f, s:s, s:s}", "ts", kk_wall_now(), "level",
                          names[level], "msg", msg);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (s)
        sv_log_line(s, strlen(s));
    free(s);
    json_decref(o);
}
