/* kokoro.h - the one public header of libkokoro: Kokoro-82M speech synthesis in plain C.
 *
 * Usage (error handling shortened):
 *
 *     char err[256];
 *     kokoro_model *model;  kokoro_voices *voices;  kokoro_text *text;
 *     kokoro_model_load("models/kokoro.onnx", &model, err, sizeof err);   // once, read-only
 *     kokoro_voices_load("models/voices", &voices, err, sizeof err);      // once, read-only
 *     kokoro_text_new(NULL, &text, err, sizeof err);                      // once, thread-safe
 *     kokoro_state *st = kokoro_state_new(model, 1);                      // one per worker
 *     float style[KOKORO_VOICE_FLOATS];
 *     kokoro_voice_blend(voices, "af_heart", style, err, sizeof err);
 *     kokoro_speak_params sp = kokoro_speak_defaults();
 *     kokoro_speak(st, text, "Hello world.", "en-us", style, &sp, on_audio, user, err, sizeof err);
 *
 * Conventions: every function that can fail returns an int status, KOKORO_OK (0) on success
 * and a negative kokoro_status otherwise, and writes a readable message into err (may be NULL).
 * Objects returned through an out-pointer are owned by the caller and freed with the matching
 * *_free. A model, a voice set and a text front end are read-only after loading and may be
 * shared by any number of threads; a kokoro_state belongs to one thread at a time.
 */
#ifndef KOKORO_H
#define KOKORO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

typedef enum {
    KOKORO_OK = 0,
    KOKORO_E_ARG = -1,         /* an argument is out of range or malformed */
    KOKORO_E_IO = -2,          /* a file could not be opened or read */
    KOKORO_E_FORMAT = -3,      /* a file is corrupt, truncated or not what was expected */
    KOKORO_E_NOMEM = -4,       /* an allocation failed */
    KOKORO_E_CANCELLED = -5,   /* the cancel callback asked to stop */
    KOKORO_E_UNSUPPORTED = -6, /* a language, format or feature this build does not offer */
    KOKORO_E_NOT_FOUND = -7,   /* a named voice (or other named item) does not exist */
    KOKORO_E_TOO_LONG = -8,    /* input exceeds a documented limit */
    KOKORO_E_INTERNAL = -9     /* a bug: please report it */
} kokoro_status;

/* Returns a static, human readable name for a status code. */
const char *kokoro_status_str(int status);

/* ---------------------------------------------------------------- model */

#define KOKORO_SAMPLE_RATE 24000
#define KOKORO_MAX_PHONEMES 510     /* phoneme ids per forward pass, boundaries excluded */
#define KOKORO_VOICE_ROWS 510
#define KOKORO_STYLE_DIM 256
#define KOKORO_VOICE_FLOATS (KOKORO_VOICE_ROWS * KOKORO_STYLE_DIM)
#define KOKORO_SAMPLES_PER_FRAME 600 /* samples of audio per duration frame */
#define KOKORO_SPEED_MIN 0.25f      /* the speeds the engine accepts */
#define KOKORO_SPEED_MAX 4.0f

typedef struct kokoro_model kokoro_model;
typedef struct kokoro_state kokoro_state;

/* Loads the weights of a Kokoro-82M ONNX export (fp32, int8 or uint8 quantised; the
 * kokoro-onnx and onnx-community files). Returns KOKORO_OK and sets *out, or an error
 * (KOKORO_E_IO, KOKORO_E_FORMAT for a corrupt/unexpected file, KOKORO_E_NOMEM). */
int kokoro_model_load(const char *path, kokoro_model **out, char *err, size_t errlen);
void kokoro_model_free(kokoro_model *model);

/* Per-worker scratch state. n_threads >= 1 threads are used inside one synthesis.
 * Returns NULL only when out of memory. */
kokoro_state *kokoro_state_new(const kokoro_model *model, int n_threads);
void kokoro_state_free(kokoro_state *st);
/* The instruction set the engine's kernels use in this process ("avx512", "avx2", "neon" or
 * "generic"), chosen by the first kokoro_model_load from the CPU or KOKORO_CPU. */
const char *kokoro_kernels(void);

/* Sets how many of the state's n_threads the next layers use (clamped to 1..n_threads).
 * Safe from any thread, also while the state synthesises: a scheduler gives a lone job every
 * core and shares them out when more jobs run. Returns the count now in use. */
int kokoro_state_set_threads(kokoro_state *st, int n);

/* Memory. A synthesis of F frames (KOKORO_SAMPLES_PER_FRAME samples each, after durations
 * and speed) on a state of n_threads holds at most KOKORO_FRAME_BYTES * F +
 * KOKORO_SYNTH_FIXED_BYTES + n_threads * KOKORO_THREAD_BYTES bytes of working memory beyond
 * the model (measured 397 KB per frame; tested in tests/engine/test_engine.c). One forward
 * pass takes at most max_frames frames: KOKORO_MAX_FRAMES by default (20 s of audio, about
 * 350 MB); a longer one is refused with KOKORO_E_TOO_LONG before the decoder runs, so that
 * no input can take unbounded memory. kokoro_speak splits such a chunk.
 * An 8-bit model's layers all run on its integers; only the debugging paths
 * (kokoro_debug_no_fft, kokoro_debug_direct_conv) make a state keep floats of weights, at most
 * KOKORO_STATE_WEIGHT_BYTES from then until kokoro_state_free. */
#define KOKORO_FRAME_BYTES (400u * 1024u)
#define KOKORO_SYNTH_FIXED_BYTES (24u * 1024u * 1024u)
#define KOKORO_THREAD_BYTES (12u * 1024u * 1024u)
#define KOKORO_STATE_WEIGHT_BYTES (35u * 1024u * 1024u)
#define KOKORO_MAX_FRAMES 800
/* The working-memory high-water mark of the last synthesis on st, in bytes. */
size_t kokoro_state_peak_bytes(const kokoro_state *st);

/* Returns nonzero to ask a running synthesis to stop (checked between layers). */
typedef int (*kokoro_cancel_fn)(void *user);

typedef struct {
    float speed;             /* 1.0 = normal; durations are divided by it. KOKORO_SPEED_MIN .. MAX */
    uint64_t noise_seed;     /* seed of the harmonic source's noise */
    int zero_noise;          /* nonzero: no source noise (deterministic; used by tests) */
    kokoro_cancel_fn cancel; /* may be NULL */
    void *cancel_user;
    int max_frames;          /* refuse (KOKORO_E_TOO_LONG) a pass of more frames than this;
                              * 0 = KOKORO_MAX_FRAMES, negative = no limit (tools, tests) */
    /* Progressive output, for streams. With on_range set, the text stages and the decoder run
     * over the whole utterance, then the generator over consecutive ranges of frames cut
     * between words (the first two of about first_frames frames, each next one twice as long),
     * and each range's samples go to on_range as soon as they are made, in order, cross-faded
     * at the cuts. *audio is then NULL and *n_samples the total handed over; the durations
     * are known before the first call. A nonzero return from on_range cancels the synthesis.
     * The generator's normalisations then see a range, not the utterance: the audio differs
     * slightly from the whole pass's (docs/engine.md "Ranges"). */
    int (*on_range)(const float *samples, size_t n, void *user);
    void *range_user;
    int first_frames;
} kokoro_synth_params;

kokoro_synth_params kokoro_synth_defaults(void);

/* Synthesises one utterance. ids are phoneme ids WITHOUT the boundary zeros
 * (1 <= n_ids <= KOKORO_MAX_PHONEMES); style is the 256-float row of the voice chosen for
 * this length (see kokoro_voice_row). On success *audio (malloc'd, caller frees) holds
 * *n_samples float samples at 24 kHz in [-1, 1]. */
int kokoro_synthesize(kokoro_state *st, const int32_t *ids, int n_ids, const float *style,
                      const kokoro_synth_params *params, float **audio, size_t *n_samples,
                      char *err, size_t errlen);

/* Durations (in frames of 600 samples) of the last synthesis on this state, one per
 * position including the two boundary tokens: n_ids + 2 values. Valid until the next call. */
const int32_t *kokoro_state_durations(const kokoro_state *st, int *n);

/* Intermediate tensors of the last synthesis, for parity tests: "durations" [T],
 * "f0" [2F], "n" [2F], "decoder" [512, 2F]... see docs/engine.md for the list. Returns
 * KOKORO_OK and sets *data (owned by the state) and dims (up to 3, unused = 1). */
int kokoro_state_tensor(const kokoro_state *st, const char *name, const float **data,
                        int dims[3]);

/* ---------------------------------------------------------------- voices */

typedef struct kokoro_voices kokoro_voices;

/* Loads voices from a folder of <name>.bin files (raw float32 [510][256]) or from a
 * voices-v1.0.bin / .npz archive (uncompressed np.savez of <name>.npy [510,1,256]). */
int kokoro_voices_load(const char *path, kokoro_voices **out, char *err, size_t errlen);
void kokoro_voices_free(kokoro_voices *v);
int kokoro_voices_count(const kokoro_voices *v);
const char *kokoro_voices_name(const kokoro_voices *v, int i); /* sorted by name */
/* Returns the [510][256] pack of a voice, or NULL when there is none of that name. */
const float *kokoro_voices_get(const kokoro_voices *v, const char *name);

/* Resolves a voice spec into a pack of KOKORO_VOICE_FLOATS floats: a name ("af_heart"),
 * an equal blend ("af_bella+af_sky") or a weighted one ("af_bella(2)+af_sky(1)", weights
 * normalised to sum 1). KOKORO_E_NOT_FOUND names the unknown voice; KOKORO_E_ARG a bad spec. */
int kokoro_voice_blend(const kokoro_voices *v, const char *spec, float *pack_out, char *err,
                       size_t errlen);
/* Checks a voice spec as kokoro_voice_blend would (same codes and messages) without blending:
 * no pack is written, so a server can refuse a bad spec before any work. */
int kokoro_voice_check(const kokoro_voices *v, const char *spec, char *err, size_t errlen);

/* The style row for an utterance of n_ids phonemes: pack + clamp(n_ids - 1, 0, 509) * 256. */
const float *kokoro_voice_row(const float *pack, int n_ids);

/* ---------------------------------------------------------------- text front end */

typedef struct kokoro_text kokoro_text;

/* Creates the text front end. data_dir holds the pronunciation dictionaries fetched by
 * `make model` (NULL = "models/lexicon" or $KOKORO_LEXICON_DIR). Thread-safe afterwards. */
int kokoro_text_new(const char *data_dir, kokoro_text **out, char *err, size_t errlen);
void kokoro_text_free(kokoro_text *t);
/* The user's lexicon: a JSON object {"word": "phonemes"} (the model's letters or standard
 * IPA, mapped as for SSML <phoneme>), consulted before the built-in dictionaries for English
 * words (exact case, then lower case). kokoro_text_new loads $KOKORO_USER_LEXICON when set.
 * path NULL or "" removes it. Call before the front end is shared between threads. */
int kokoro_text_user_lexicon(kokoro_text *t, const char *path, char *err, size_t errlen);

/* What the English normaliser rewrites into words: Kokoro-FastAPI's normalization_options,
 * same names. Each field is nonzero to turn that part on. normalize = 0 reads the text as
 * written (only control characters and typography are cleaned); unit_normalization reads
 * "3 kg" as "three kilograms" (off: the letters "k g"); url_ and email_normalization read
 * addresses ("example dot com"); phone_normalization reads phone numbers digit by digit in
 * their groups; optional_pluralization_normalization makes "word(s)" "words";
 * replace_remaining_symbols reads & @ # + = % / ~ < > × ÷ ° as words. Other languages are
 * not affected. */
typedef struct {
    int normalize;
    int unit_normalization;
    int url_normalization;
    int email_normalization;
    int phone_normalization;
    int optional_pluralization_normalization;
    int replace_remaining_symbols;
} kokoro_norm_options;

/* Everything on: what kokoro_phonemize and kokoro_speak do by default. (Kokoro-FastAPI's
 * request default differs in one field: unit_normalization off; the server follows it.) */
kokoro_norm_options kokoro_norm_defaults(void);

/* Language codes accepted: "en-us" (also "en", "a"), "en-gb" ("b"), "es" ("e"), "fr" ("f"),
 * "hi" ("h"), "it" ("i"), "pt" / "pt-br" ("p"), "ja" ("j", "ja-jp"), "zh" ("z", "zh-cn",
 * "cmn"); others give KOKORO_E_UNSUPPORTED.
 * kokoro_lang_of_voice gives the language a voice name implies ("af_heart" -> "en-us"),
 * or NULL. */
const char *kokoro_lang_of_voice(const char *voice_name);

/* The languages the front end knows, so that a program need not keep its own list:
 * kokoro_lang_count() of them, kokoro_lang_code(i) the canonical code of the i-th
 * (0 <= i < count; NULL otherwise). kokoro_lang_canonical maps any accepted code or alias
 * (any case: "EN", "a", "pt", "zh-CN") to its canonical code, NULL when unknown. Whether a
 * language's data is installed shows when it is first used (kokoro_phonemize). */
int kokoro_lang_count(void);
const char *kokoro_lang_code(int i);
const char *kokoro_lang_canonical(const char *code);

/* Text -> phoneme string in the model's vocabulary (UTF-8, malloc'd, caller frees). */
int kokoro_phonemize(kokoro_text *t, const char *text, const char *lang, char **phonemes,
                     char *err, size_t errlen);

/* Phoneme string -> ids (characters outside the vocabulary are dropped). Writes at most
 * max ids and returns how many the whole string has (may exceed max). */
int kokoro_tokenize(const char *phonemes, int32_t *ids, int max);

/* One piece of text ready for the engine: at most KOKORO_MAX_PHONEMES phonemes. */
typedef struct {
    char *text;       /* the source text of this chunk */
    char *phonemes;   /* its phoneme string */
    int32_t *ids;     /* tokenised phonemes */
    int n_ids;
    int pause_after_ms; /* silence to insert after this chunk (sentence vs clause end) */
} kokoro_chunk;

/* How to cut text into chunks. */
typedef struct {
    float speed;     /* the speed the chunks will be spoken at: slower speech, shorter chunks */
    int quick_start; /* nonzero: the first chunk is a phrase of a few words (about 1 s of
                      * audio), and later chunks double up to the usual size; for streams */
    int max_frames;  /* the engine's frame cap the chunks must fit (0 = KOKORO_MAX_FRAMES) */
} kokoro_chunk_opts;

kokoro_chunk_opts kokoro_chunk_defaults(void);

/* Splits text into chunks (sentence, then clause, then space boundaries), the first one
 * short so that streaming can start early, none longer than the frame cap allows at the
 * given speed. opts may be NULL (defaults). *chunks is malloc'd; free with
 * kokoro_chunks_free. */
int kokoro_text_chunks(kokoro_text *t, const char *text, const char *lang,
                       const kokoro_chunk_opts *opts, kokoro_chunk **chunks, int *n_chunks,
                       char *err, size_t errlen);
void kokoro_chunks_free(kokoro_chunk *chunks, int n_chunks);

/* ---------------------------------------------------------------- text to audio */

/* Receives audio as it is made; return nonzero to stop (the call then returns
 * KOKORO_E_CANCELLED). */
typedef int (*kokoro_audio_fn)(const float *samples, size_t n, void *user);

/* Timing of a word in the produced audio, for captions. A word of the input that is read as
 * several ("$25.50": "twenty-five dollars and fifty cents") is one entry (two when a chunk
 * boundary falls inside it: the same offsets twice, in order). */
typedef struct {
    const char *word;       /* what was read, normalised ("twenty-five dollars ...") */
    double start_s, end_s;
    const char *written;    /* the word as written in the input ("$25.50"), or NULL when it
                             * cannot be told (some words of SSML) */
    long src_start, src_end; /* its byte offsets in the input text, [start, end); -1 when
                              * written is NULL */
} kokoro_word_time;

typedef struct {
    float speed;
    float volume;            /* gain applied to samples, 1.0 = unchanged; 0 .. 10 */
    kokoro_cancel_fn cancel; /* checked between chunks and inside the engine */
    void *cancel_user;
    uint64_t noise_seed;
    int zero_noise;
    /* Optional: called after each chunk's audio with the timings of its words, in seconds
     * from the start of the whole output. May be NULL. */
    void (*on_words)(const kokoro_word_time *words, int n, void *user);
    int quick_start;    /* nonzero: a short first chunk, for streams (see kokoro_chunk_opts) */
    int max_frames;     /* frames per forward pass (0 = KOKORO_MAX_FRAMES); longer chunks are
                         * planned shorter, or halved when the durations exceed it */
    double max_audio_s; /* budget of audio seconds, 0 = none: text sure to exceed it is refused
                         * before any synthesis, and speech stops when the audio would pass it
                         * (both KOKORO_E_TOO_LONG) */
    double budget_used_s; /* audio earlier calls already spent of the same max_audio_s (the
                           * items of one request sharing one budget); 0 for a lone call */
    const kokoro_voices *voices; /* optional: resolves SSML <voice name="..."> (a name or a
                                  * blend); NULL refuses <voice> with KOKORO_E_UNSUPPORTED */
    const kokoro_norm_options *norm; /* English normalisation; NULL = kokoro_norm_defaults() */
} kokoro_speak_params;

kokoro_speak_params kokoro_speak_defaults(void);

/* Text -> audio through the front end and the engine, chunk by chunk, with natural pauses
 * between chunks. pack is a full voice pack (KOKORO_VOICE_FLOATS). on_audio is called once
 * per chunk at least.
 *
 * Markup (docs/text.md): text that starts with "<speak" is SSML (break, p, s, prosody rate
 * and volume, voice, phoneme, sub, say-as, emphasis); plain text may hold [pause:1.5s] /
 * [pause:500ms] and [word](/phonemes/). Text with neither is spoken exactly as before. */
int kokoro_speak(kokoro_state *st, kokoro_text *t, const char *text, const char *lang,
                 const float *pack, const kokoro_speak_params *params, kokoro_audio_fn on_audio,
                 void *user, char *err, size_t errlen);

/* Captions from word timings (in output order): SubRip (vtt = 0) or WebVTT (vtt != 0) text,
 * malloc'd into *out (caller frees). Each cue holds at most 2 lines of at most
 * KOKORO_CAPTION_LINE characters (a longer word is cut), ends at a sentence end and prefers
 * breaks at punctuation; cue times never go backwards. A word is shown as written when known.
 * Returns KOKORO_OK, KOKORO_E_ARG or KOKORO_E_NOMEM. */
#define KOKORO_CAPTION_LINE 42
int kokoro_captions(const kokoro_word_time *words, int n, const char *text, int vtt, char **out,
                    char *err, size_t errlen);

/* Nonzero when text is SSML (starts with "<speak", after spaces or an XML declaration). */
int kokoro_is_ssml(const char *text);

/* Checks marked-up text without speaking it: SSML well-formed and within bounds (at most
 * 10 s per break, 32 levels, 4096 elements; no DTD or entity declarations), its <voice>
 * names known to voices (when voices is not NULL), plain-text [pause:] within 10 s.
 * KOKORO_OK for text without markup. KOKORO_E_ARG: err says where ("SSML line 2, column 7:
 * ..."); KOKORO_E_NOT_FOUND: an unknown voice. */
int kokoro_markup_check(const char *text, const kokoro_voices *voices, char *err,
                        size_t errlen);

/* ---------------------------------------------------------------- audio encoders */

typedef enum {
    KOKORO_FMT_WAV,
    KOKORO_FMT_MP3,
    KOKORO_FMT_OGG,  /* Ogg Vorbis */
    KOKORO_FMT_OPUS, /* Ogg Opus */
    KOKORO_FMT_FLAC,
    KOKORO_FMT_AAC,  /* ADTS */
    KOKORO_FMT_PCM   /* raw s16le mono at the input rate */
} kokoro_format;

/* "mp3", "wav", ... -> format. KOKORO_E_UNSUPPORTED for unknown names. */
int kokoro_format_parse(const char *name, kokoro_format *out);
const char *kokoro_format_name(kokoro_format f);
const char *kokoro_format_mime(kokoro_format f);

/* Receives encoded bytes; return nonzero to abort (the encoder call then fails). */
typedef int (*kokoro_write_fn)(const void *data, size_t n, void *user);

typedef struct kokoro_encoder kokoro_encoder;

/* Creates an encoder for mono float input at sample_rate (8000 .. 192000; AAC needs a
 * standard rate). streaming != 0: bytes are emitted as soon as they are encoded, from inside
 * write (a WAV then carries an "unknown length" header), except FLAC, which is always whole:
 * its length and MD5 can only be in its first block; otherwise the whole file, with exact
 * sizes, goes to the callback in one call from finish (so its length is known up front).
 * The callback is never called from new or free. See docs/audio.md for bitrates. */
int kokoro_encoder_new(kokoro_format f, int sample_rate, int streaming, kokoro_write_fn write,
                       void *user, kokoro_encoder **out, char *err, size_t errlen);
/* Samples outside [-1, 1] are clamped, NaN becomes 0. A failure (KOKORO_E_CANCELLED when the
 * callback returned nonzero) is sticky: later calls return it without calling back. */
int kokoro_encoder_write(kokoro_encoder *e, const float *samples, size_t n);
/* Flushes everything; the encoder must still be freed. */
int kokoro_encoder_finish(kokoro_encoder *e);
/* A readable message for the first failure of e ("" while there was none). */
const char *kokoro_encoder_error(const kokoro_encoder *e);
/* Frees e, finished or not (an unfinished stream is simply cut off). */
void kokoro_encoder_free(kokoro_encoder *e);

#ifdef __cplusplus
}
#endif
#endif
