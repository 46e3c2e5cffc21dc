/* flac.c - FLAC through libFLAC's stream encoder, written through a callback (no seeking).
 * The file is always built whole (encoder.c), so that its final STREAMINFO (length, MD5) can
 * be patched in. */
#include "audio/encoder.h"

#include <FLAC/stream_encoder.h>
#include <stdlib.h>

#define FLAC_LEVEL 5          /* libFLAC's default trade of size against speed */
#define STREAMINFO_AT 8       /* "fLaC", then the 4-byte header of the first metadata block */
#define STREAMINFO_LEN 34

typedef struct {
    FLAC__StreamEncoder *enc;
} flac_state;

static FLAC__StreamEncoderWriteStatus flac_out(const FLAC__StreamEncoder *enc,
                                               const FLAC__byte buffer[], size_t bytes,
                                               uint32_t samples, uint32_t frame, void *user)
{
    kokoro_encoder *e = user;
    return kk_enc_out(e, buffer, bytes) == KOKORO_OK ? FLAC__STREAM_ENCODER_WRITE_STATUS_OK
                                                     : FLAC__STREAM_ENCODER_WRITE_STATUS_FATAL_ERROR;
}

static void put_be(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

/* libFLAC reports the final STREAMINFO when it finishes; it would seek back to write it, we
 * can just overwrite it in the buffered file. */
static void flac_metadata(const FLAC__StreamEncoder *enc, const FLAC__StreamMetadata *m,
                          void *user)
{
    kokoro_encoder *e = user;
    if (e->streaming || e->closing || m->type != FLAC__METADATA_TYPE_STREAMINFO ||
        e->out.n < STREAMINFO_AT + STREAMINFO_LEN)
        return;
    const FLAC__StreamMetadata_StreamInfo *si = &m->data.stream_info;
    unsigned char *p = (unsigned char *)e->out.p + STREAMINFO_AT;
    put_be(p, si->min_blocksize, 2);
    put_be(p + 2, si->max_blocksize, 2);
    put_be(p + 4, si->min_framesize, 3);
    put_be(p + 7, si->max_framesize, 3);
    /* 20 bits rate, 3 bits channels - 1, 5 bits bits - 1, 36 bits total samples */
    uint64_t packed = (uint64_t)si->sample_rate << 44 | (uint64_t)(si->channels - 1) << 41 |
                      (uint64_t)(si->bits_per_sample - 1) << 36 |
                      (si->total_samples & 0xFFFFFFFFFull);
    put_be(p + 10, packed, 8);
    for (int i = 0; i < 16; i++)
        p[18 + i] = si->md5sum[i];
}

static int flac_open(kokoro_encoder *e)
{
    flac_state *s = calloc(1, sizeof *s);
    if (!s)
        return kk_enc_fail(e, KOKORO_E_NOMEM, "out of memory");
    e->impl = s;
    s->enc = FLAC__stream_encoder_new();
    if (!s->enc)
        return kk_enc_fail(e, KOKORO_E_NOMEM, "FLAC__stream_encoder_new failed");
    FLAC__stream_encoder_set_channels(s->enc, 1);
    FLAC__stream_encoder_set_bits_per_sample(s->enc, 16);
    FLAC__stream_encoder_set_sample_rate(s->enc, (uint32_t)e->rate);
    FLAC__stream_encoder_set_compression_level(s->enc, FLAC_LEVEL);
    FLAC__stream_encoder_set_streamable_subset(
        s->enc, FLAC__format_sample_rate_is_subset((uint32_t)e->rate));
    FLAC__StreamEncoderInitStatus st =
        FLAC__stream_encoder_init_stream(s->enc, flac_out, NULL, NULL, flac_metadata, e);
    if (st != FLAC__STREAM_ENCODER_INIT_STATUS_OK) {
        if (e->status != KOKORO_OK)
            return e->status;
        return kk_enc_fail(e, KOKORO_E_UNSUPPORTED, "libFLAC cannot encode %d Hz mono: %s",
                           e->rate, FLAC__StreamEncoderInitStatusString[st]);
    }
    return KOKORO_OK;
}

static int flac_failed(kokoro_encoder *e)
{
    flac_state *s = e->impl;
    if (e->status != KOKORO_OK) /* our callback refused the bytes */
        return e->status;
    FLAC__StreamEncoderState st = FLAC__stream_encoder_get_state(s->enc);
    return kk_enc_fail(e, st == FLAC__STREAM_ENCODER_MEMORY_ALLOCATION_ERROR ? KOKORO_E_NOMEM
                                                                              : KOKORO_E_INTERNAL,
                       "libFLAC: %s", FLAC__StreamEncoderStateString[st]);
}

static int flac_write(kokoro_encoder *e, const float *x, size_t n)
{
    flac_state *s = e->impl;
    FLAC__int32 buf[KK_ENC_BLOCK];
    for (size_t i = 0; i < n; i++)
        buf[i] = kk_s16(x[i]);
    if (!FLAC__stream_encoder_process_interleaved(s->enc, buf, (uint32_t)n))
        return flac_failed(e);
    return KOKORO_OK;
}

static int flac_finish(kokoro_encoder *e)
{
    flac_state *s = e->impl;
    if (!FLAC__stream_encoder_finish(s->enc))
        return flac_failed(e);
    return KOKORO_OK;
}

static void flac_close(kokoro_encoder *e)
{
    flac_state *s = e->impl;
    if (!s)
        return;
    /* Deleting an encoder that was never finished runs finish, whose output e->closing
     * drops; that is how an abandoned stream is cut off. */
    if (s->enc)
        FLAC__stream_encoder_delete(s->enc);
    free(s);
}

const kk_codec kk_codec_flac = {flac_open, flac_write, NULL, flac_finish, flac_close};
