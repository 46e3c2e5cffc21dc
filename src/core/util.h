/* util.h - small helpers shared by the library's modules (not part of the public API). */
#ifndef KK_UTIL_H
#define KK_UTIL_H

#include <stddef.h>

/* Formats a message into err (if non-NULL) and returns status, so that failures read
 * `return kk_fail(err, errlen, KOKORO_E_IO, "cannot open %s", path);`. */
int kk_fail(char *err, size_t errlen, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
