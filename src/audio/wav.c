/* wav.c - 16-bit PCM in a RIFF/WAVE file (our own 44-byte header), and raw s16le. */
#include "audio/encoder.h"

#include <stdint.h>

#define WAV_HEADER 44
/* Sizes a streamed WAV announces: the largest value, which ffmpeg's demuxer (and so Chromium,
 * and ffplay) reads as "until the end of the stream"; it is also what other streaming speech
 * APIs send. */
#define WAV_UNKNOWN 0xFFFFFFFFu

static void wav_header(unsigned char *h, int rate, uint32_t riff_size, uint32_t data_size)
{
    const unsigned char fixed[] = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E',
                                   'f', 'm', 't', ' ', 16, 0, 0, 0, 1, 0, 1, 0};
    for (int i = 0; i < (int)sizeof fixed; i++)
        h[i] = fixed[i];
    kk_le32(h + 4, riff_size);
    kk_le32(h + 24, (uint32_t)rate);
    kk_le32(h + 28, (uint32_t)rate * 2); /* bytes per second */
    kk_le16(h + 32, 2);                  /* bytes per sample frame */
    kk_le16(h + 34, 16);                 /* bits per sample */
    h[36] = 'd', h[37] = 'a', h[38] = 't', h[39] = 'a';
    kk_le32(h + 40, data_size);
}

static int wav_open(kokoro_encoder *e)
{
    unsigned char h[WAV_HEADER];
    /* Whole-file mode patches the sizes in finish; this is only their placeholder. */
    wav_header(h, e->rate, WAV_UNKNOWN, WAV_UNKNOWN);
    return kk_enc_out(e, h, sizeof h);
}

static int pcm_write(kokoro_encoder *e, const float *x, size_t n)
{
    unsigned char buf[2 * KK_ENC_BLOCK];
    for (size_t i = 0; i < n; i++)
        kk_le16(buf + 2 * i, (uint16_t)kk_s16(x[i]));
    return kk_enc_out(e, buf, 2 * n);
}

static int wav_finish(kokoro_encoder *e)
{
    if (e->streaming)
        return KOKORO_OK;
    size_t data = e->out.n - WAV_HEADER;
    if (data > UINT32_MAX - 36)
        return kk_enc_fail(e, KOKORO_E_TOO_LONG,
                           "%zu bytes of audio do not fit in a WAV file (4 GiB at most)", data);
    wav_header((unsigned char *)e->out.p, e->rate, (uint32_t)(data + 36), (uint32_t)data);
    return KOKORO_OK;
}

static int pcm_open(kokoro_encoder *e)
{
    return KOKORO_OK;
}

static int pcm_finish(kokoro_encoder *e)
{
    return KOKORO_OK;
}

static void pcm_close(kokoro_encoder *e)
{
}

const kk_codec kk_codec_wav = {wav_open, pcm_write, NULL, wav_finish, pcm_close};
const kk_codec kk_codec_pcm = {pcm_open, pcm_write, NULL, pcm_finish, pcm_close};
