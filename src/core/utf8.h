/* utf8.h - the UTF-8 helpers of the code base: decoding and encoding code points (the text
 * front end, captions), counting characters (request limits) and cleaning bytes that are
 * not UTF-8 out of messages and logs (JSON holds only UTF-8). None of these can fail. */
#ifndef KK_UTF8_H
#define KK_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one code point at s (n bytes left). Returns its length (>= 1) and sets *cp;
 * invalid or truncated sequences (overlong forms, surrogates, past U+10FFFF) give length 1
 * and *cp = 0xFFFD, and n = 0 gives length 1 and *cp = 0. */
int kk_utf8_next(const char *s, size_t n, uint32_t *cp);
/* Encodes cp into out (4 bytes at least); returns the length. */
int kk_utf8_put(uint32_t cp, char *out);
/* Number of code points in the first n bytes of UTF-8 text (bytes that do not continue a
 * sequence); kk_utf8_len counts a NUL-terminated string. */
size_t kk_utf8_count(const char *s, size_t n);
size_t kk_utf8_len(const char *s);
/* Replaces each byte that does not start a valid UTF-8 sequence by '?', in place (messages
 * quote input cut to a length, which can split a character). */
void kk_utf8_sanitize(char *s);

#endif
