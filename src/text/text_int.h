/* text_int.h - the text front end's pipeline (text.c, chunks.c, the markup in ssml.c and
 * controls.c): languages, phonemising through the G2P back ends, the chunk plan. Not public
 * API. The layers below it have headers of their own (g2p.h and the back ends, lexicon.h,
 * espeak.h, normalize_en.h, vocab.h, phon.h) and never include this one, so that the
 * dependencies run one way: pipeline -> back ends -> services. */
#ifndef KK_TEXT_INT_H
#define KK_TEXT_INT_H

#include "kokoro.h"
#include "core/buf.h"  /* kk_buf: the strings the front end builds */
#include "core/utf8.h" /* kk_utf8_next, kk_utf8_put */
#include "text/espeak.h"
#include "text/g2p.h" /* the back ends this pipeline drives, kk_lang, kk_phon */
#include "text/lexicon.h"
#include "text/normalize_en.h"
#include "text/vocab.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ the pipeline (text.c) */

const kk_lang *kk_lang_find(const char *code);

enum { KK_G2P_COUNT = 4 }; /* the back ends of text.c's table */

struct kokoro_text {
    kk_lexicon *us, *gb;
    kk_lexicon *user; /* the user's lexicon (word -> phonemes), or NULL; wins over us/gb */
    double load_ms; /* time spent loading the dictionaries */
    void *g2p_state[KK_G2P_COUNT]; /* each back end's own, from its open */
};

/* The state back end g keeps for t (what its open made), or NULL. */
void *kk_text_g2p_state(const kokoro_text *t, const kk_g2p *g);

/* The whole pipeline (normalise, G2P) with word positions. */
int kk_phonemize_words(kokoro_text *t, const char *text, const kk_lang *lang, kk_phon *out,
                       char *err, size_t errlen);

/* ------------------------------------------------------------ chunk plan */

/* One chunk of a phonemised text: a byte range of its phoneme string (trimmed), the words in
 * it, and the pause that follows it. */
typedef struct {
    int ph_start, ph_end;
    int word_start, word_end; /* words[word_start .. word_end) */
    int n_ids;
    int pause_after_ms;
    int mid_sentence; /* the piece ends inside a sentence (at a clause or a space) */
} kk_span;

/* Cuts p into chunks of at most kk_plan_window(opts) ids: at sentence ends, then clause
 * punctuation, then spaces; the first chunk short. opts may be NULL (defaults). *spans is
 * malloc'd. */
int kk_plan_chunks(const kk_phon *p, const kokoro_chunk_opts *opts, kk_span **spans,
                   int *n_spans);
/* The most ids a piece may have under opts: the model's window, and the frame cap at the
 * requested speed. */
int kk_plan_window(const kokoro_chunk_opts *opts);

/* Language lookup, phonemisation and chunk plan in one step, shared by kokoro_text_chunks
 * and kokoro_speak. On failure the message is in err; *p and *spans are still the caller's
 * to free (kk_phon_free, free). */
int kk_text_plan(kokoro_text *t, const char *text, const char *lang,
                 const kokoro_chunk_opts *opts, kk_phon *p, kk_span **spans, int *n_spans,
                 char *err, size_t errlen);
/* Number of vocabulary ids in ph[a..b). */
int kk_count_ids(const char *ph, int a, int b);

/* ------------------------------------------------------------ markup: SSML, plain-text controls */

/* What a document (SSML, or plain text with [pause:..] / [word](/ph/) controls) asks to say:
 * segments spoken in turn, each with its speed, volume and voice, and the silence after it.
 * A segment is a list of pieces phonemised into one utterance: text, phonemes given by the
 * user, or letters to spell. */
enum { KK_PIECE_TEXT, KK_PIECE_PHON, KK_PIECE_SPELL };

typedef struct {
    int kind;
    char *s;       /* text, phonemes (vocabulary), or the letters to spell */
    char *written; /* phonemes: the word as written (may be NULL) */
    int space_before; /* the source has a space before this piece */
    long src_start, src_end; /* the input bytes it stands for (the content of <sub>,
                              * <say-as>, <phoneme>), or -1: text pieces are found by search */
} kk_piece;

typedef struct {
    kk_piece *pieces;
    int n_pieces, cap_pieces;
    float speed, volume; /* multipliers of the request's */
    char *voice;         /* NULL: the request's voice */
    int pause_after_ms;
} kk_seg;

typedef struct {
    kk_seg *segs;
    int n_segs, cap_segs;
} kk_doc;

#define KK_MAX_BREAK_MS 10000 /* one <break> or [pause:] */
#define KK_SSML_MAX_DEPTH 32
#define KK_SSML_MAX_ELEMENTS 4096

void kk_doc_free(kk_doc *d);
/* Opens a new segment with the given prosody (closing the current one when it has pieces).
 * Returns the segment, or NULL when out of memory. */
kk_seg *kk_doc_open(kk_doc *d, float speed, float volume, const char *voice);
/* Adds pause_ms of silence after the current segment. */
void kk_doc_pause(kk_doc *d, int pause_ms);
/* Appends a piece to the last segment (text pieces merge with a text piece before them).
 * Returns 0 or -1 when out of memory. */
int kk_doc_piece(kk_doc *d, int kind, const char *s, size_t n, const char *written,
                 size_t wn);
/* The same for a piece read for input bytes [src_start, src_end) that are not its text (a
 * <sub> alias, a <say-as> reading): its words take those bytes as their written form. It
 * merges with no other piece. */
int kk_doc_piece_src(kk_doc *d, int kind, const char *s, size_t n, const char *written,
                     size_t wn, long src_start, long src_end);
/* Nonzero when text (after leading spaces) starts with "<speak". */
int kk_is_ssml(const char *text);
/* Parses SSML into segments. KOKORO_E_ARG with "SSML line L, column C: ..." when invalid. */
int kk_ssml_parse(const char *xml, kk_doc *out, char *err, size_t errlen);
/* Finds the plain-text controls [pause:1.5s] and [word](/phonemes/). Returns 1 and fills out
 * when there are some, 0 when there are none (out untouched), or a negative status. */
int kk_controls_parse(const char *text, kk_doc *out, char *err, size_t errlen);
int kk_parse_duration_ms(const char *s, size_t n); /* "1.5s", "500ms" -> ms, or -1 */
/* Phonemises the pieces of a segment into one utterance, words positioned. */
int kk_seg_phonemize(kokoro_text *t, const kk_seg *s, const kk_lang *lang, kk_phon *out,
                     char *err, size_t errlen);

#endif
