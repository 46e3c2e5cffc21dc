/* vorbis.c - Ogg Vorbis through libvorbisenc and libogg; streaming flushes a page after every
 * write so that each piece of speech leaves as soon as it is encoded. */
#include "audio/encoder.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vorbis/vorbisenc.h>

/* VBR quality 0.4: about 35-50 kbit/s for 24 kHz mono speech. */
#define VORBIS_QUALITY 0.4f

typedef struct {
    vorbis_info vi;
    vorbis_comment vc;
    vorbis_dsp_state vd;
    vorbis_block vb;
    ogg_stream_state os;
    int have_vi, have_vd, have_vb, have_os; /* which parts exist, for close */
} vorbis_state;

/* Each Ogg stream wants its own serial number; any value unlikely to repeat will do. */
uint32_t kk_ogg_serial(void)
{
    static atomic_uint counter;
    uint32_t n = atomic_fetch_add(&counter, 1) + 1;
    return (uint32_t)time(NULL) ^ (n * 2654435761u);
}

/* Moves finished pages out: all of them, partial ones too, when force is set. */
static int vorbis_pages(kokoro_encoder *e, int force)
{
    vorbis_state *s = e->impl;
    ogg_page og;
    for (;;) {
        int got = force ? ogg_stream_flush(&s->os, &og) : ogg_stream_pageout(&s->os, &og);
        if (!got)
            return KOKORO_OK;
        int rc = kk_enc_out(e, og.header, (size_t)og.header_len);
        if (rc == KOKORO_OK)
            rc = kk_enc_out(e, og.body, (size_t)og.body_len);
        if (rc != KOKORO_OK)
            return rc;
    }
}

/* Runs the analysis over what has been submitted and queues the packets it yields. */
static int vorbis_drain(kokoro_encoder *e)
{
    vorbis_state *s = e->impl;
    ogg_packet op;
    while (vorbis_analysis_blockout(&s->vd, &s->vb) == 1) {
        if (vorbis_analysis(&s->vb, NULL) != 0 || vorbis_bitrate_addblock(&s->vb) != 0)
            return kk_enc_fail(e, KOKORO_E_INTERNAL, "vorbis analysis failed");
        while (vorbis_bitrate_flushpacket(&s->vd, &op) == 1) {
            if (ogg_stream_packetin(&s->os, &op) != 0)
                return kk_enc_fail(e, KOKORO_E_INTERNAL, "ogg_stream_packetin failed");
            int rc = vorbis_pages(e, 0);
            if (rc != KOKORO_OK)
                return rc;
        }
    }
    return KOKORO_OK;
}

static int vorbis_open(kokoro_encoder *e)
{
    vorbis_state *s = calloc(1, sizeof *s);
    if (!s)
        return kk_enc_fail(e, KOKORO_E_NOMEM, "out of memory");
    e->impl = s;
    vorbis_info_init(&s->vi);
    vorbis_comment_init(&s->vc);
    s->have_vi = 1;
    int rc = vorbis_encode_init_vbr(&s->vi, 1, e->rate, VORBIS_QUALITY);
    if (rc != 0)
        return kk_enc_fail(e, KOKORO_E_UNSUPPORTED, "libvorbisenc cannot encode %d Hz mono (%d)",
                           e->rate, rc);
    vorbis_comment_add_tag(&s->vc, "ENCODER", "libkokoro");
    if (vorbis_analysis_init(&s->vd, &s->vi) != 0)
        return kk_enc_fail(e, KOKORO_E_NOMEM, "vorbis_analysis_init failed");
    s->have_vd = 1;
    if (vorbis_block_init(&s->vd, &s->vb) != 0)
        return kk_enc_fail(e, KOKORO_E_NOMEM, "vorbis_block_init failed");
    s->have_vb = 1;
    if (ogg_stream_init(&s->os, (int)kk_ogg_serial()) != 0)
        return kk_enc_fail(e, KOKORO_E_NOMEM, "ogg_stream_init failed");
    s->have_os = 1;

    ogg_packet id, comment, code;
    if (vorbis_analysis_headerout(&s->vd, &s->vc, &id, &comment, &code) != 0)
        return kk_enc_fail(e, KOKORO_E_INTERNAL, "vorbis_analysis_headerout failed");
    ogg_stream_packetin(&s->os, &id);
    ogg_stream_packetin(&s->os, &comment);
    ogg_stream_packetin(&s->os, &code);
    return vorbis_pages(e, 1); /* the spec wants audio to start on a fresh page */
}

static int vorbis_write(kokoro_encoder *e, const float *x, size_t n)
{
    vorbis_state *s = e->impl;
    float **buf = vorbis_analysis_buffer(&s->vd, (int)n);
    memcpy(buf[0], x, n * sizeof *x);
    vorbis_analysis_wrote(&s->vd, (int)n);
    return vorbis_drain(e);
}

static int vorbis_flush(kokoro_encoder *e)
{
    return vorbis_pages(e, 1);
}

static int vorbis_finish(kokoro_encoder *e)
{
    vorbis_state *s = e->impl;
    vorbis_analysis_wrote(&s->vd, 0); /* end of stream: the last packet gets the eos flag */
    int rc = vorbis_drain(e);
    return rc == KOKORO_OK ? vorbis_pages(e, 1) : rc;
}

static void vorbis_close(kokoro_encoder *e)
{
    vorbis_state *s = e->impl;
    if (!s)
        return;
    if (s->have_os)
        ogg_stream_clear(&s->os);
    if (s->have_vb)
        vorbis_block_clear(&s->vb);
    if (s->have_vd)
        vorbis_dsp_clear(&s->vd);
    vorbis_comment_clear(&s->vc);
    if (s->have_vi)
        vorbis_info_clear(&s->vi);
    free(s);
}

const kk_codec kk_codec_vorbis = {vorbis_open, vorbis_write, vorbis_flush, vorbis_finish,
                                  vorbis_close};
