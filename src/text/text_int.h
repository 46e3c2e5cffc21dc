/* text_int.h - internals shared by the modules of the text front end (not public API). */
#ifndef KK_TEXT_INT_H
#define KK_TEXT_INT_H

#include "kokoro.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ growable string */

/* A NUL-terminated, growable byte string. Functions return 0, or -1 when out of memory
 * (the buffer then keeps its previous contents). */
typedef struct {
    char *p;
    size_t n, cap;
} kk_buf;

int kk_buf_put(kk_buf *b, const char *s, size_t n);
int kk_buf_puts(kk_buf *b, const char *s);
int kk_buf_putc(kk_buf *b, char c);
void kk_buf_free(kk_buf *b);
/* Removes trailing spaces. */
void kk_buf_rtrim(kk_buf *b);

/* ------------------------------------------------------------ UTF-8 */

/* Decodes one code point at s (n bytes left). Returns its length (>= 1) and sets *cp;
 * invalid or truncated sequences give length 1 and *cp = 0xFFFD. */
int kk_utf8_next(const char *s, size_t n, uint32_t *cp);
/* Encodes cp into out (4 bytes at least); returns the length. */
int kk_utf8_put(uint32_t cp, char *out);

/* ------------------------------------------------------------ vocabulary */

/* Id of a code point in the model's vocabulary, or 0 when it has none. */
int kk_vocab_id(uint32_t cp);

/* ------------------------------------------------------------ normalisation */

/* Rewrites English text so that it can be read word by word: numbers, money, dates, times,
 * abbreviations, units, URLs, symbols and Roman numerals become words. british selects
 * en-gb conventions. *out is malloc'd. Returns KOKORO_OK or KOKORO_E_NOMEM. */
int kk_normalize_en(const char *text, int british, char **out);

/* Where the normaliser's output came from: the output bytes from out_pos up to the next
 * span's out_pos were written for the input bytes [in_start, in_end). Sorted by out_pos. */
typedef struct {
    int out_pos, in_start, in_end;
} kk_srcspan;

typedef struct {
    kk_srcspan *s;
    int n, cap;
} kk_srcmap;

/* kk_normalize_en with the caller's options (NULL = kokoro_norm_defaults()) and, when map is
 * not NULL, the source of every piece of the output (map->s is malloc'd; free it). */
int kk_normalize_en_map(const char *text, int british, const kokoro_norm_options *opts,
                        char **out, kk_srcmap *map);

/* ------------------------------------------------------------ lexicon */

typedef struct kk_lexicon kk_lexicon;

/* Loads <dir>/<dialect>_gold.json then <dialect>_silver.json (gold wins) into one table. */
int kk_lexicon_load(const char *dir, const char *dialect, kk_lexicon **out, char *err,
                    size_t errlen);
/* Loads one JSON file {"word": "phonemes", ...} (the user's lexicon). */
int kk_lexicon_load_user(const char *path, kk_lexicon **out, char *err, size_t errlen);
void kk_lexicon_free(kk_lexicon *lx);
int kk_lexicon_size(const kk_lexicon *lx);
/* Pronunciation of word (n bytes) for a part-of-speech tag ("VERB", "NOUN", ...; NULL or
 * unknown tags give the default), or NULL when the word is absent. */
const char *kk_lexicon_get(const kk_lexicon *lx, const char *word, size_t n, const char *pos);

/* ------------------------------------------------------------ espeak-ng */

/* espeak-ng is one process-wide instance and not thread-safe: every use goes through one
 * lock, and results are cached. kk_espeak_open/close count the front ends using it. */
int kk_espeak_open(char *err, size_t errlen);
void kk_espeak_close(void);
/* Phonemes of text (no punctuation: one clause) in the model's vocabulary, for an espeak-ng
 * voice ("en-us", "en" = British, "es", ...). Appends to out. Returns KOKORO_OK, KOKORO_E_NOMEM or
 * KOKORO_E_UNSUPPORTED (voice missing from espeak-ng-data). */
int kk_espeak_phonemes(const char *voice, const char *text, size_t n, kk_buf *out);
/* Maps espeak-ng IPA (ties written '^') to the vocabulary; dialect 'a' (US), 'b' (GB) or
 * 0 for other languages. Appends to out; returns 0 or -1 when out of memory. */
int kk_ipa_to_vocab(const char *ipa, int dialect, kk_buf *out);
/* Statistics for tests: espeak-ng calls made and cache hits since start. */
void kk_espeak_stats(long *calls, long *hits);

/* ------------------------------------------------------------ phonemised text */

/* A word of the phonemised text: what was read (normalised), and where its phonemes are. */
typedef struct {
    char *text;
    int ph_start, ph_end; /* byte offsets into the phoneme string */
    int src_start, src_end; /* the input bytes it was read from; src_end == 0: not known */
    int src_input; /* src_start/src_end are bytes of the caller's whole input (a marked-up
                    * piece's source), not of the text phonemised */
} kk_word;

typedef struct {
    kk_buf ph;
    kk_word *words;
    int n_words, cap_words;
    const kokoro_norm_options *norm; /* set by the caller: English normalisation (NULL: all) */
} kk_phon;

void kk_phon_free(kk_phon *p);
int kk_phon_add_word(kk_phon *p, const char *text, size_t n, int ph_start, int ph_end);

/* Language as the front end sees it. */
typedef struct {
    const char *code;  /* canonical: "en-us", "en-gb", "es", ... */
    const char *voice; /* espeak-ng voice name */
    char prefix;       /* voice-name letter: 'a', 'b', 'e', ... */
} kk_lang;

const kk_lang *kk_lang_find(const char *code);

struct kokoro_text {
    kk_lexicon *us, *gb;
    kk_lexicon *user; /* the user's lexicon (word -> phonemes), or NULL; wins over us/gb */
    double load_ms; /* time spent loading the dictionaries */
    struct kk_ja *ja; /* the Japanese front end (its dictionary loads on first use) */
};

/* English grapheme-to-phoneme over normalised text. Appends to out. */
int kk_g2p_en(const kokoro_text *t, const char *norm, int british, kk_phon *out);
/* English text -> words and phonemes: normalised with out->norm, each word with the input
 * bytes it was read from (src_start, src_end). Appends to out. */
int kk_phonemize_en(const kokoro_text *t, const char *text, int british, kk_phon *out);
/* Other languages: espeak-ng clause by clause, punctuation kept. Appends to out. */
int kk_g2p_espeak(const kk_lang *lang, const char *text, kk_phon *out);
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
/* Standard IPA (or the model's own letters) -> the model's vocabulary: diphthongs to their
 * letters (eɪ A, aɪ I, oʊ O, aʊ W, ɔɪ Y, əʊ Q), ɝ ɜɹ, ɚ əɹ, r ɹ, g ɡ, tie bars dropped,
 * anything outside the vocabulary dropped. Appends to out; 0 or -1 when out of memory. */
int kk_parse_duration_ms(const char *s, size_t n); /* "1.5s", "500ms" -> ms, or -1 */
int kk_user_ipa(const char *ipa, size_t n, kk_buf *out);
/* Phonemises the pieces of a segment into one utterance, words positioned. */
int kk_seg_phonemize(kokoro_text *t, const kk_seg *s, const kk_lang *lang, kk_phon *out,
                     char *err, size_t errlen);

#endif
