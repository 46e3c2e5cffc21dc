/* encoder.h - what the format-independent encoder front (encoder.c) shares with each codec
 * module (wav.c, mp3.c, vorbis.c, opus.c, flac.c, aac.c). Not part of the public API. */
#ifndef KK_AUDIO_ENCODER_H
#define KK_AUDIO_ENCODER_H

#include "kokoro.h"
#include "core/buf.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* Input is handed to a codec in blocks of at most this many samples, already clamped. */
#define KK_ENC_BLOCK 4096

/* One codec: the front calls open once, write for each block of clamped input, flush after
 * each kokoro_encoder_write in streaming mode (push out whatever is complete), finish once,
 * close always (also after a failure, also without finish). Each returns KOKORO_OK or a
 * status set with kk_enc_fail. flush may be NULL. */
typedef struct {
    int (*open)(kokoro_encoder *e);
    int (*write)(kokoro_encoder *e, const float *x, size_t n);
    int (*flush)(kokoro_encoder *e);
    int (*finish)(kokoro_encoder *e);
    void (*close)(kokoro_encoder *e);
} kk_codec;

extern const kk_codec kk_codec_wav, kk_codec_pcm, kk_codec_mp3, kk_codec_vorbis, kk_codec_opus,
    kk_codec_flac, kk_codec_aac;

struct kokoro_encoder {
    kokoro_format format;
    int rate;
    int streaming;
    kokoro_write_fn write;
    void *user;
    const kk_codec *codec;
    void *impl; /* the codec's own state, owned by it (freed in close) */

    int status;     /* first failure, sticky; KOKORO_OK while healthy */
    int finished;   /* finish has run (successfully or not) */
    int opening;    /* inside new: output is held in e->out, the callback is not called */
    int closing;    /* inside free: output is dropped, the user's callback is not called */
    char msg[256];  /* message of the first failure */

    /* Non-streaming: the whole file collects here and goes to the callback in finish, so
     * that codecs can fix up headers (WAV sizes, the MP3 LAME tag, FLAC STREAMINFO). */
    kk_buf out;
    uint64_t bytes_emitted; /* bytes handed to the user's callback so far */
};

/* Hands encoded bytes on: straight to the callback when streaming, into e->out otherwise
 * (and while opening).
 * Returns KOKORO_OK, KOKORO_E_CANCELLED when the callback asked to stop, KOKORO_E_NOMEM. */
int kk_enc_out(kokoro_encoder *e, const void *data, size_t n);

/* Records the first failure (status and message) and returns e->status. */
int kk_enc_fail(kokoro_encoder *e, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A serial number for a new Ogg stream (vorbis.c). */
uint32_t kk_ogg_serial(void);

/* A clamped sample ([-1, 1], NaN already 0) -> s16, rounded to nearest: x * 32767. */
static inline int16_t kk_s16(float x)
{
    return (int16_t)lrintf(x * 32767.0f);
}

/* Little-endian stores, for the headers we write ourselves. */
static inline void kk_le16(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static inline void kk_le32(unsigned char *p, uint32_t v)
{
    kk_le16(p, v);
    kk_le16(p + 2, v >> 16);
}

#endif
