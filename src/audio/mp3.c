/* mp3.c - MP3 through LAME: mono, constant bitrate, frames handed on as LAME makes them. */
#include "audio/encoder.h"

#include <lame/lame.h>
#include <stdlib.h>

/* 64 kbit/s CBR mono keeps speech transparent at 24 kHz (MPEG-2 layer III). Constant rate
 * lets players estimate duration and seek in a stream that has no header to tell them. */
#define MP3_KBPS 64
#define MP3_QUALITY 3 /* LAME's 0 (best, slowest) .. 9; 3 costs little on mono speech */

typedef struct {
    lame_global_flags *gf;
    /* LAME asks for 1.25 * samples + 7200 bytes of room per call. */
    unsigned char buf[KK_ENC_BLOCK * 5 / 4 + 7200];
} mp3_state;

static int mp3_open(kokoro_encoder *e)
{
    mp3_state *s = calloc(1, sizeof *s);
    if (!s)
        return kk_enc_fail(e, KOKORO_E_NOMEM, "out of memory");
    e->impl = s;
    s->gf = lame_init();
    if (!s->gf)
        return kk_enc_fail(e, KOKORO_E_NOMEM, "lame_init failed");
    lame_set_num_channels(s->gf, 1);
    lame_set_mode(s->gf, MONO);
    lame_set_in_samplerate(s->gf, e->rate);
    static const int mp3_rates[] = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000};
    for (size_t i = 0; i < sizeof mp3_rates / sizeof mp3_rates[0]; i++)
        if (mp3_rates[i] == e->rate) /* else LAME resamples to the nearest MP3 rate */
            lame_set_out_samplerate(s->gf, e->rate);
    lame_set_VBR(s->gf, vbr_off);
    lame_set_brate(s->gf, MP3_KBPS);
    lame_set_quality(s->gf, MP3_QUALITY);
    lame_set_write_id3tag_automatic(s->gf, 0);
    /* The LAME/Info tag (exact length and encoder delay, for gapless decoding) goes in the
     * first frame but is only known at the end: only a whole file can carry it. */
    lame_set_bWriteVbrTag(s->gf, !e->streaming);
    if (lame_init_params(s->gf) < 0)
        return kk_enc_fail(e, KOKORO_E_UNSUPPORTED, "LAME rejected %d Hz mono at %d kbit/s",
                           e->rate, MP3_KBPS);
    return KOKORO_OK;
}

static int mp3_write(kokoro_encoder *e, const float *x, size_t n)
{
    mp3_state *s = e->impl;
    int got = lame_encode_buffer_ieee_float(s->gf, x, x, (int)n, s->buf, (int)sizeof s->buf);
    if (got < 0)
        return kk_enc_fail(e, KOKORO_E_INTERNAL, "lame_encode_buffer failed (%d)", got);
    return kk_enc_out(e, s->buf, (size_t)got);
}

static int mp3_finish(kokoro_encoder *e)
{
    mp3_state *s = e->impl;
    int got = lame_encode_flush(s->gf, s->buf, (int)sizeof s->buf);
    if (got < 0)
        return kk_enc_fail(e, KOKORO_E_INTERNAL, "lame_encode_flush failed (%d)", got);
    int rc = kk_enc_out(e, s->buf, (size_t)got);
    if (rc != KOKORO_OK || e->streaming)
        return rc;
    /* LAME began the file with a blank frame of the tag's size; the final tag replaces it. */
    size_t tag = lame_get_lametag_frame(s->gf, s->buf, sizeof s->buf);
    if (tag > sizeof s->buf || tag > e->out.n)
        return kk_enc_fail(e, KOKORO_E_INTERNAL, "LAME tag of %zu bytes does not fit", tag);
    for (size_t i = 0; i < tag; i++)
        e->out.p[i] = (char)s->buf[i];
    return KOKORO_OK;
}

static void mp3_close(kokoro_encoder *e)
{
    mp3_state *s = e->impl;
    if (!s)
        return;
    if (s->gf)
        lame_close(s->gf);
    free(s);
}

const kk_codec kk_codec_mp3 = {mp3_open, mp3_write, NULL, mp3_finish, mp3_close};
