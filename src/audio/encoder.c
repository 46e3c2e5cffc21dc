/* encoder.c - the audio encoder front: format names, argument checks, input clamping,
 * streaming versus whole-file delivery, sticky errors. The codecs live in their own files. */
#include "audio/encoder.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    const char *mime;
    const kk_codec *codec;
    int whole; /* always built whole, even when streaming is asked for (see FLAC) */
} formats[] = {
    [KOKORO_FMT_WAV] = {"wav", "audio/wav", &kk_codec_wav},
    [KOKORO_FMT_MP3] = {"mp3", "audio/mpeg", &kk_codec_mp3},
    [KOKORO_FMT_OGG] = {"ogg", "audio/ogg", &kk_codec_vorbis},
    /* RFC 7845 names Ogg Opus audio/ogg; the codecs parameter tells it from Vorbis. */
    [KOKORO_FMT_OPUS] = {"opus", "audio/ogg; codecs=opus", &kk_codec_opus},
    /* FLAC says its length (and MD5) only in STREAMINFO, its first block: streamed, it
     * would say "unknown" and players and ffprobe would show no duration. Streaming it
     * gained little: browsers (the web page) play FLAC only once complete (docs/audio.md). */
    [KOKORO_FMT_FLAC] = {"flac", "audio/flac", &kk_codec_flac, 1},
    [KOKORO_FMT_AAC] = {"aac", "audio/aac", &kk_codec_aac},
    /* No registered type for little-endian headerless PCM (audio/L16 is big-endian). */
    [KOKORO_FMT_PCM] = {"pcm", "audio/pcm", &kk_codec_pcm},
};
#define N_FORMATS (sizeof formats / sizeof formats[0])

static int format_ok(kokoro_format f)
{
    return (unsigned)f < N_FORMATS;
}

int kokoro_format_parse(const char *name, kokoro_format *out)
{
    if (!name || !out)
        return KOKORO_E_ARG;
    for (size_t i = 0; i < N_FORMATS; i++) {
        if (strcmp(name, formats[i].name) == 0) {
            *out = (kokoro_format)i;
            return KOKORO_OK;
        }
    }
    return KOKORO_E_UNSUPPORTED;
}

const char *kokoro_format_name(kokoro_format f)
{
    return format_ok(f) ? formats[f].name : "unknown";
}

const char *kokoro_format_mime(kokoro_format f)
{
    return format_ok(f) ? formats[f].mime : "application/octet-stream";
}

int kk_enc_fail(kokoro_encoder *e, int status, const char *fmt, ...)
{
    if (e->status != KOKORO_OK)
        return e->status; /* the first failure is the one worth reporting */
    e->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return status;
}

int kk_enc_out(kokoro_encoder *e, const void *data, size_t n)
{
    if (e->status != KOKORO_OK)
        return e->status;
    if (e->closing || n == 0)
        return KOKORO_OK;
    if (!e->streaming || e->opening) {
        if (kk_buf_put(&e->out, data, n))
            return kk_enc_fail(e, KOKORO_E_NOMEM, "out of memory buffering %zu bytes",
                               e->out.n + n);
        return KOKORO_OK;
    }
    if (e->write(data, n, e->user) != 0)
        return kk_enc_fail(e, KOKORO_E_CANCELLED, "the write callback stopped the %s encoder",
                           formats[e->format].name);
    e->bytes_emitted += n;
    return KOKORO_OK;
}

int kokoro_encoder_new(kokoro_format f, int sample_rate, int streaming, kokoro_write_fn write,
                       void *user, kokoro_encoder **out, char *err, size_t errlen)
{
    if (!out)
        return kk_fail(err, errlen, KOKORO_E_ARG, "no place for the encoder (out is NULL)");
    *out = NULL;
    if (!format_ok(f))
        return kk_fail(err, errlen, KOKORO_E_ARG, "unknown audio format %d", (int)f);
    if (!write)
        return kk_fail(err, errlen, KOKORO_E_ARG, "a write callback is required");
    if (sample_rate < 8000 || sample_rate > 192000)
        return kk_fail(err, errlen, KOKORO_E_ARG,
                       "sample rate %d Hz out of range (8000 .. 192000)", sample_rate);

    kokoro_encoder *e = calloc(1, sizeof *e);
    if (!e)
        return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    e->format = f;
    e->rate = sample_rate;
    e->streaming = streaming != 0 && !formats[f].whole;
    e->write = write;
    e->user = user;
    e->codec = formats[f].codec;

    /* Headers made here are held back so that the callback only ever runs inside write and
     * finish; a streaming encoder sends them with its first audio. */
    e->opening = 1;
    int rc = e->codec->open(e);
    if (rc == KOKORO_OK && e->streaming && e->codec->flush)
        rc = e->codec->flush(e);
    e->opening = 0;
    if (rc != KOKORO_OK) {
        rc = kk_fail(err, errlen, rc, "%s encoder: %s", formats[f].name, e->msg);
        kokoro_encoder_free(e);
        return rc;
    }
    *out = e;
    return KOKORO_OK;
}

/* Streaming: sends what open() held back. Whole-file mode: sends the file. */
static int send_held(kokoro_encoder *e)
{
    if (e->out.n == 0)
        return KOKORO_OK;
    if (e->write(e->out.p, e->out.n, e->user) != 0)
        return kk_enc_fail(e, KOKORO_E_CANCELLED, "the write callback stopped the %s encoder",
                           formats[e->format].name);
    e->bytes_emitted += e->out.n;
    kk_buf_clear(&e->out);
    return KOKORO_OK;
}

int kokoro_encoder_write(kokoro_encoder *e, const float *samples, size_t n)
{
    if (!e)
        return KOKORO_E_ARG;
    if (e->status != KOKORO_OK)
        return e->status;
    if (e->finished)
        return kk_enc_fail(e, KOKORO_E_ARG, "write after finish");
    if (n == 0)
        return KOKORO_OK;
    if (!samples)
        return kk_enc_fail(e, KOKORO_E_ARG, "samples is NULL but n is %zu", n);
    if (e->streaming && send_held(e) != KOKORO_OK)
        return e->status;

    float block[KK_ENC_BLOCK];
    for (size_t done = 0; done < n;) {
        size_t m = n - done < KK_ENC_BLOCK ? n - done : KK_ENC_BLOCK;
        for (size_t i = 0; i < m; i++) {
            float x = samples[done + i];
            /* NaN fails both comparisons and becomes silence rather than noise. */
            block[i] = x >= -1.0f ? (x <= 1.0f ? x : 1.0f) : (x < -1.0f ? -1.0f : 0.0f);
        }
        int rc = e->codec->write(e, block, m);
        if (rc != KOKORO_OK)
            return kk_enc_fail(e, rc, "%s encoder failed", formats[e->format].name);
        done += m;
    }
    if (e->streaming && e->codec->flush) {
        int rc = e->codec->flush(e);
        if (rc != KOKORO_OK)
            return kk_enc_fail(e, rc, "%s encoder failed", formats[e->format].name);
    }
    return KOKORO_OK;
}

int kokoro_encoder_finish(kokoro_encoder *e)
{
    if (!e)
        return KOKORO_E_ARG;
    if (e->status != KOKORO_OK)
        return e->status;
    if (e->finished)
        return kk_enc_fail(e, KOKORO_E_ARG, "finish called twice");
    e->finished = 1;
    if (e->streaming && send_held(e) != KOKORO_OK)
        return e->status;
    int rc = e->codec->finish(e);
    if (rc != KOKORO_OK)
        return kk_enc_fail(e, rc, "%s encoder failed", formats[e->format].name);
    return e->streaming ? KOKORO_OK : send_held(e);
}

const char *kokoro_encoder_error(const kokoro_encoder *e)
{
    return e ? e->msg : "no encoder";
}

void kokoro_encoder_free(kokoro_encoder *e)
{
    if (!e)
        return;
    e->closing = 1;
    e->codec->close(e);
    kk_buf_free(&e->out);
    free(e);
}
