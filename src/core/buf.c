/* buf.c - the growable byte buffer (core/buf.h). */
#include "core/buf.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kk_buf_reserve(kk_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - 1 - b->n)
        return -1;
    size_t need = b->n + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    p[b->n] = 0;
    b->p = p;
    b->cap = cap;
    return 0;
}

int kk_buf_put(kk_buf *b, const void *data, size_t n)
{
    if (kk_buf_reserve(b, n))
        return -1;
    if (n)
        memcpy(b->p + b->n, data, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

int kk_buf_puts(kk_buf *b, const char *s) { return kk_buf_put(b, s, strlen(s)); }

int kk_buf_putc(kk_buf *b, char c) { return kk_buf_put(b, &c, 1); }

int kk_buf_printf(kk_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || kk_buf_reserve(b, (size_t)n))
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
    return 0;
}

int kk_buf_base64(kk_buf *b, const void *data, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = data;
    if (n > SIZE_MAX / 4 * 3 - 2 || kk_buf_reserve(b, (n + 2) / 3 * 4))
        return -1;
    char *o = b->p + b->n;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = tab[(v >> 6) & 63];
        *o++ = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    b->n = (size_t)(o - b->p);
    b->p[b->n] = 0;
    return 0;
}

void kk_buf_rtrim(kk_buf *b)
{
    while (b->n && b->p[b->n - 1] == ' ')
        b->p[--b->n] = 0;
}

void kk_buf_clear(kk_buf *b)
{
    b->n = 0;
    if (b->p)
        b->p[0] = 0;
}

char *kk_buf_take(kk_buf *b, size_t *len)
{
    char *p = b->p;
    if (len)
        *len = b->n;
    *b = (kk_buf){0};
    return p;
}

void kk_buf_free(kk_buf *b)
{
    free(b->p);
    *b = (kk_buf){0};
}

void *kk_grow(void *items, int need, int *cap, size_t size, int first)
{
    if (need <= *cap)
        return items;
    int c = *cap > 0 ? *cap : first > 0 ? first : 1;
    while (c < need) {
        if (c > INT_MAX / 2)
            return NULL;
        c *= 2;
    }
    if (size && (size_t)c > SIZE_MAX / size)
        return NULL;
    void *p = realloc(items, (size_t)c * size);
    if (!p)
        return NULL;
    *cap = c;
    return p;
}
