/* opus.c - Ogg Opus through libopusenc's pull interface: we take each page as it is made and
 * hand it on, so that nothing waits for a file or a muxing deadline. */
#include "audio/encoder.h"

#include <opus/opusenc.h>
#include <stdlib.h>

/* 32 kbit/s VBR: Opus's own guidance for full-band mono speech with room to spare. */
#define OPUS_BITRATE 32000

/* libopusenc 0.2.1 extends the signal at the end from its last 480 input samples (20 ms at
 * 24 kHz) and reads that history uninitialised when fewer were written (valgrind shows it;
 * we saw it end in an assertion in ope_encoder_drain). A shorter stream is padded with
 * silence to that length. */
#define OPUS_MIN_INPUT 480

typedef struct {
    OggOpusEnc *enc;
    size_t written; /* input samples so far */
} opus_state;

/* Moves out the pages libopusenc has ready; with force, first closes the page in progress. */
static int opus_pages(kokoro_encoder *e, int force)
{
    opus_state *s = e->impl;
    for (;;) {
        unsigned char *page;
        opus_int32 len;
        int got = ope_encoder_get_page(s->enc, &page, &len, force);
        if (got < 0)
            return kk_enc_fail(e, KOKORO_E_INTERNAL, "libopusenc: %s", ope_strerror(got));
        if (got == 0)
            return KOKORO_OK;
        int rc = kk_enc_out(e, page, (size_t)len);
        if (rc != KOKORO_OK)
            return rc;
    }
}

static int opus_open(kokoro_encoder *e)
{
    opus_state *s = calloc(1, sizeof *s);
    if (!s)
        return kk_enc_fail(e, KOKORO_E_NOMEM, "out of memory");
    e->impl = s;
    OggOpusComments *comments = ope_comments_create();
    if (!comments)
        return kk_enc_fail(e, KOKORO_E_NOMEM, "out of memory");
    int err = OPE_OK;
    s->enc = ope_encoder_create_pull(comments, e->rate, 1, 0, &err);
    ope_comments_destroy(comments); /* the encoder keeps its own copy */
    if (!s->enc)
        return kk_enc_fail(e, err == OPE_ALLOC_FAIL ? KOKORO_E_NOMEM : KOKORO_E_UNSUPPORTED,
                           "libopusenc cannot encode %d Hz mono: %s", e->rate,
                           ope_strerror(err));
    /* By default libopusenc looks up to 2 s ahead before deciding on a packet; at 0 every
     * 20 ms frame goes out once it is complete, which is what streaming needs. */
    int rc = ope_encoder_ctl(s->enc, OPE_SET_DECISION_DELAY(0));
    if (rc == OPE_OK)
        rc = ope_encoder_ctl(s->enc, OPE_SET_SERIALNO((opus_int32)kk_ogg_serial()));
    if (rc == OPE_OK)
        rc = ope_encoder_ctl(s->enc, OPUS_SET_BITRATE(OPUS_BITRATE));
    /* 20 ms is the default, but libopusenc 0.2.1 only records the requested frame size when
     * it is set, and reads that record uninitialised while draining (found with valgrind). */
    if (rc == OPE_OK)
        rc = ope_encoder_ctl(s->enc, OPUS_SET_EXPERT_FRAME_DURATION(OPUS_FRAMESIZE_20_MS));
    if (rc == OPE_OK)
        rc = ope_encoder_flush_header(s->enc);
    if (rc != OPE_OK)
        return kk_enc_fail(e, KOKORO_E_INTERNAL, "libopusenc: %s", ope_strerror(rc));
    return opus_pages(e, 0);
}

static int opus_write(kokoro_encoder *e, const float *x, size_t n)
{
    opus_state *s = e->impl;
    int rc = ope_encoder_write_float(s->enc, x, (int)n);
    s->written += n;
    if (rc != OPE_OK)
        return kk_enc_fail(e, KOKORO_E_INTERNAL, "libopusenc: %s", ope_strerror(rc));
    return opus_pages(e, 0);
}

static int opus_flush(kokoro_encoder *e)
{
    return opus_pages(e, 1);
}

static int opus_finish(kokoro_encoder *e)
{
    opus_state *s = e->impl;
    if (s->written < OPUS_MIN_INPUT) {
        static const float silence[OPUS_MIN_INPUT];
        int rc = opus_write(e, silence, OPUS_MIN_INPUT - s->written);
        if (rc != KOKORO_OK)
            return rc;
    }
    int rc = ope_encoder_drain(s->enc);
    if (rc != OPE_OK)
        return kk_enc_fail(e, KOKORO_E_INTERNAL, "libopusenc: %s", ope_strerror(rc));
    return opus_pages(e, 1);
}

static void opus_close(kokoro_encoder *e)
{
    opus_state *s = e->impl;
    if (!s)
        return;
    if (s->enc)
        ope_encoder_destroy(s->enc);
    free(s);
}

const kk_codec kk_codec_opus = {opus_open, opus_write, opus_flush, opus_finish, opus_close};
