/* status.c - names of kokoro_status codes and the shared error-message helper. */
#include "kokoro.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>

const char *kokoro_status_str(int status)
{
    switch (status) {
    case KOKORO_OK: return "ok";
    case KOKORO_E_ARG: return "invalid argument";
    case KOKORO_E_IO: return "input/output error";
    case KOKORO_E_FORMAT: return "corrupt or unexpected file";
    case KOKORO_E_NOMEM: return "out of memory";
    case KOKORO_E_CANCELLED: return "cancelled";
    case KOKORO_E_UNSUPPORTED: return "unsupported";
    case KOKORO_E_NOT_FOUND: return "not found";
    case KOKORO_E_TOO_LONG: return "input too long";
    case KOKORO_E_INTERNAL: return "internal error";
    default: return "unknown status";
    }
}

int kk_fail(char *err, size_t errlen, int status, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return status;
}
