/* aac.c - AAC-LC in ADTS frames: FFmpeg's native AAC encoder (libavcodec) makes the raw
 * frames, we put the 7-byte ADTS header in front of each so the stream needs no container.
 *
 * `make AAC=0` builds without libavcodec (KOKORO_NO_AAC): the container image does, since
 * libavcodec and the codecs it pulls in would triple its size (docs/deploy.md). The format
 * then stays known and fails to open with a clear message. */
#include "audio/encoder.h"

#ifdef KOKORO_NO_AAC

static int aac_open(kokoro_encoder *e)
{
    return kk_enc_fail(e, KOKORO_E_ARG, "this build has no AAC encoder (built with AAC=0, "
                       "without libavcodec); use mp3, opus, ogg, flac, wav or pcm");
}

static int aac_none(kokoro_encoder *e)
{
    return kk_enc_fail(e, KOKORO_E_ARG, "this build has no AAC encoder");
}

static int aac_write_none(kokoro_encoder *e, const float *x, size_t n)
{
    return aac_none(e);
}

static void aac_close(kokoro_encoder *e) {}

const kk_codec kk_codec_aac = {aac_open, aac_write_none, NULL, aac_none, aac_close};

#else

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <stdlib.h>
#include <string.h>

#define AAC_BITRATE 64000 /* mono AAC-LC at 24 kHz: clean speech, about MP3's size */
#define AAC_CHANNELS 1

typedef struct {
    AVCodecContext *ctx;
    AVFrame *frame;
    AVPacket *pkt;
    int filled;      /* samples in frame so far */
    int64_t pts;     /* samples sent to the encoder */
    int freq_index;  /* ADTS sampling_frequency_index */
} aac_state;

/* ADTS knows only these rates (ISO/IEC 14496-3, sampling_frequency_index). */
static const int adts_rates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                 22050, 16000, 12000, 11025, 8000,  7350};

static int av_failed(kokoro_encoder *e, const char *what, int averr)
{
    char msg[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(averr, msg, sizeof msg);
    return kk_enc_fail(e, averr == AVERROR(ENOMEM) ? KOKORO_E_NOMEM : KOKORO_E_INTERNAL,
                       "libavcodec %s: %s", what, msg);
}

/* Hands on every packet the encoder has ready, each behind its ADTS header. */
static int aac_packets(kokoro_encoder *e)
{
    aac_state *s = e->impl;
    for (;;) {
        int rc = avcodec_receive_packet(s->ctx, s->pkt);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return KOKORO_OK;
        if (rc < 0)
            return av_failed(e, "receive_packet", rc);
        size_t len = (size_t)s->pkt->size + 7;
        if (len > 0x1FFF) { /* 13-bit frame length; 64 kbit/s frames are ~400 bytes */
            av_packet_unref(s->pkt);
            return kk_enc_fail(e, KOKORO_E_INTERNAL, "AAC frame of %zu bytes too big", len);
        }
        unsigned char h[7];
        h[0] = 0xFF;                                     /* syncword */
        h[1] = 0xF1;                                     /* MPEG-4, layer 0, no CRC */
        /* profile (object type - 1), rate index, private bit 0, channel configuration 1 */
        h[2] = (unsigned char)(FF_PROFILE_AAC_LOW << 6 | s->freq_index << 2 | AAC_CHANNELS >> 2);
        h[3] = (unsigned char)((AAC_CHANNELS & 3) << 6 | len >> 11);
        h[4] = (unsigned char)(len >> 3);
        h[5] = (unsigned char)((len & 7) << 5 | 0x1F);  /* buffer fullness 0x7FF: VBR */
        h[6] = 0xFC;                                     /* ...and one raw data block */
        rc = kk_enc_out(e, h, sizeof h);
        if (rc == KOKORO_OK)
            rc = kk_enc_out(e, s->pkt->data, (size_t)s->pkt->size);
        av_packet_unref(s->pkt);
        if (rc != KOKORO_OK)
            return rc;
    }
}

static int aac_send(kokoro_encoder *e, AVFrame *frame)
{
    aac_state *s = e->impl;
    int rc = avcodec_send_frame(s->ctx, frame);
    if (rc < 0)
        return av_failed(e, "send_frame", rc);
    return aac_packets(e);
}

static int aac_open(kokoro_encoder *e)
{
    aac_state *s = calloc(1, sizeof *s);
    if (!s)
        return kk_enc_fail(e, KOKORO_E_NOMEM, "out of memory");
    e->impl = s;
    s->freq_index = -1;
    for (int i = 0; i < (int)(sizeof adts_rates / sizeof adts_rates[0]); i++)
        if (adts_rates[i] == e->rate)
            s->freq_index = i;
    if (s->freq_index < 0)
        return kk_enc_fail(e, KOKORO_E_UNSUPPORTED,
                           "AAC (ADTS) has no %d Hz; use 8000, 16000, 24000, 48000 ...", e->rate);
    const AVCodec *codec = avcodec_find_encoder_by_name("aac");
    if (!codec)
        return kk_enc_fail(e, KOKORO_E_UNSUPPORTED, "this libavcodec has no aac encoder");
    s->ctx = avcodec_alloc_context3(codec);
    s->frame = av_frame_alloc();
    s->pkt = av_packet_alloc();
    if (!s->ctx || !s->frame || !s->pkt)
        return kk_enc_fail(e, KOKORO_E_NOMEM, "out of memory");
    s->ctx->sample_rate = e->rate;
    s->ctx->time_base = (AVRational){1, e->rate};
    av_channel_layout_default(&s->ctx->ch_layout, 1);
    s->ctx->sample_fmt = AV_SAMPLE_FMT_FLTP;
    s->ctx->bit_rate = AAC_BITRATE;
    s->ctx->profile = FF_PROFILE_AAC_LOW;
    /* The encoder chats at "info" and "warning" level (its average quantiser, frames left
     * when a stream is dropped); shift this context's messages down so that only errors reach
     * a server's log, as warnings. */
    s->ctx->log_level_offset = AV_LOG_VERBOSE - AV_LOG_WARNING;
    int rc = avcodec_open2(s->ctx, codec, NULL);
    if (rc < 0)
        return av_failed(e, "open aac", rc);

    s->frame->nb_samples = s->ctx->frame_size;
    s->frame->format = s->ctx->sample_fmt;
    s->frame->sample_rate = e->rate;
    rc = av_channel_layout_copy(&s->frame->ch_layout, &s->ctx->ch_layout);
    if (rc >= 0)
        rc = av_frame_get_buffer(s->frame, 0);
    if (rc < 0)
        return av_failed(e, "frame", rc);
    return KOKORO_OK;
}

static int aac_write(kokoro_encoder *e, const float *x, size_t n)
{
    aac_state *s = e->impl;
    while (n > 0) {
        if (s->filled == 0) {
            /* The encoder may still hold a reference to the last frame's buffer. */
            int rc = av_frame_make_writable(s->frame);
            if (rc < 0)
                return av_failed(e, "frame", rc);
        }
        int room = s->ctx->frame_size - s->filled;
        int m = (size_t)room < n ? room : (int)n;
        memcpy((float *)s->frame->data[0] + s->filled, x, (size_t)m * sizeof *x);
        s->filled += m;
        x += m;
        n -= (size_t)m;
        if (s->filled == s->ctx->frame_size) {
            s->frame->nb_samples = s->filled;
            s->frame->pts = s->pts;
            s->pts += s->filled;
            s->filled = 0;
            int rc = aac_send(e, s->frame);
            if (rc != KOKORO_OK)
                return rc;
        }
    }
    return KOKORO_OK;
}

static int aac_finish(kokoro_encoder *e)
{
    aac_state *s = e->impl;
    if (s->filled > 0) { /* the encoder takes a short last frame */
        s->frame->nb_samples = s->filled;
        s->frame->pts = s->pts;
        s->pts += s->filled;
        s->filled = 0;
        int rc = aac_send(e, s->frame);
        if (rc != KOKORO_OK)
            return rc;
    }
    return aac_send(e, NULL); /* drain */
}

static void aac_close(kokoro_encoder *e)
{
    aac_state *s = e->impl;
    if (!s)
        return;
    av_packet_free(&s->pkt);
    av_frame_free(&s->frame);
    avcodec_free_context(&s->ctx);
    free(s);
}

const kk_codec kk_codec_aac = {aac_open, aac_write, NULL, aac_finish, aac_close};

#endif /* KOKORO_NO_AAC */
