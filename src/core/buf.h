/* buf.h - the one growable byte buffer of the code base (library, server and CLI alike), in
 * the spirit of redis's sds: text being built, encoded audio, a request body, a response
 * being framed, the list behind an allocation list (core/alloc.h).
 *
 * A zeroed kk_buf is empty and needs no set-up. Once it holds memory, p[n] is always 0, so
 * that p can be read as a C string when no NUL was put in it. Every function that can fail
 * returns 0, or -1 when out of memory (or when the size would overflow), and then leaves
 * the buffer as it was. */
#ifndef KK_BUF_H
#define KK_BUF_H

#include <stddef.h>

typedef struct {
    char *p;    /* NULL until the first byte (or reserve) */
    size_t n;   /* bytes held, not counting the terminating 0 */
    size_t cap; /* bytes allocated */
} kk_buf;

/* Makes room for `extra` more bytes (and the terminating 0) past n. Returns 0 or -1. */
int kk_buf_reserve(kk_buf *b, size_t extra);
/* Appends n bytes. Returns 0 or -1. */
int kk_buf_put(kk_buf *b, const void *data, size_t n);
int kk_buf_puts(kk_buf *b, const char *s);
int kk_buf_putc(kk_buf *b, char c);
/* Appends printf-formatted text. Returns 0 or -1. */
int kk_buf_printf(kk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends the base64 encoding (RFC 4648, padded) of n bytes. Returns 0 or -1. */
int kk_buf_base64(kk_buf *b, const void *data, size_t n);
/* Removes trailing spaces. */
void kk_buf_rtrim(kk_buf *b);
/* Empties b and keeps its memory for reuse. */
void kk_buf_clear(kk_buf *b);
/* Hands the bytes over to the caller (malloc'd, NUL-terminated; NULL when b never held
 * memory) with their count in *len (may be NULL), and leaves b empty. */
char *kk_buf_take(kk_buf *b, size_t *len);
void kk_buf_free(kk_buf *b);

/* Room for `need` items of `size` bytes in a growable array of *cap allocated (an empty
 * array is NULL with *cap 0): the capacity doubles from `first` until need fits. Returns the
 * array, moved when it grew (*cap then updated), or NULL when out of memory or when the size
 * would overflow, the array and *cap then as they were. The typed arrays of the code base
 * (words, pieces, tokens, code points) grow with it:
 *     kk_word *w = kk_grow(p->words, p->n_words + 1, &p->cap_words, sizeof *w, 32);
 *     if (!w) return -1;
 *     p->words = w; */
void *kk_grow(void *items, int need, int *cap, size_t size, int first);

#endif
