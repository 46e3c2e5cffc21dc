/* say_lines.c - test helper: speaks each line of stdin into OUTDIR/NNN.wav (16-bit mono
 * 24 kHz) with one model load, for the ASR tests.
 * usage: say_lines OUTDIR [voice [lang]]   (model and voices from $KOKORO_MODEL/$KOKORO_VOICES) */
#include "kokoro.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    FILE *f;
    uint32_t samples;
} wav;

static void put32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }
static void put16(FILE *f, uint16_t v) { fwrite(&v, 2, 1, f); }

static void wav_header(FILE *f, uint32_t samples)
{
    fwrite("RIFF", 1, 4, f);
    put32(f, 36 + samples * 2);
    fwrite("WAVEfmt ", 1, 8, f);
    put32(f, 16), put16(f, 1), put16(f, 1), put32(f, KOKORO_SAMPLE_RATE);
    put32(f, KOKORO_SAMPLE_RATE * 2), put16(f, 2), put16(f, 16);
    fwrite("data", 1, 4, f);
    put32(f, samples * 2);
}

static int on_audio(const float *s, size_t n, void *user)
{
    wav *w = user;
    for (size_t i = 0; i < n; i++) {
        float v = s[i] > 1 ? 1 : s[i] < -1 ? -1 : s[i];
        int16_t q = (int16_t)(v * 32767.0f);
        fwrite(&q, 2, 1, w->f);
    }
    w->samples += (uint32_t)n;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: say_lines OUTDIR [voice [lang]] < lines\n");
        return 2;
    }
    const char *voice = argc > 2 ? argv[2] : "af_heart";
    const char *lang = argc > 3 ? argv[3] : kokoro_lang_of_voice(voice);
    const char *mp = getenv("KOKORO_MODEL"), *vp = getenv("KOKORO_VOICES");
    char err[256];
    kokoro_model *model;
    kokoro_voices *voices;
    kokoro_text *text;
    static float pack[KOKORO_VOICE_FLOATS];
    if (kokoro_model_load(mp ? mp : "models/kokoro.onnx", &model, err, sizeof err) ||
        kokoro_voices_load(vp ? vp : "models/voices", &voices, err, sizeof err) ||
        kokoro_text_new(NULL, &text, err, sizeof err) ||
        kokoro_voice_blend(voices, voice, pack, err, sizeof err)) {
        fprintf(stderr, "say_lines: %s\n", err);
        return 1;
    }
    kokoro_state *st = kokoro_state_new(model, 1);
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        char path[4096];
        snprintf(path, sizeof path, "%s/%03d.wav", argv[1], n);
        wav w = {fopen(path, "wb"), 0};
        if (!w.f) {
            perror(path);
            return 1;
        }
        wav_header(w.f, 0);
        kokoro_speak_params sp = kokoro_speak_defaults();
        if (kokoro_speak(st, text, line, lang, pack, &sp, on_audio, &w, err, sizeof err)) {
            fprintf(stderr, "say_lines: line %d: %s\n", n, err);
            return 1;
        }
        fseek(w.f, 0, SEEK_SET);
        wav_header(w.f, w.samples);
        fclose(w.f);
        printf("%s\n", path);
        fflush(stdout);
        n++;
    }
    kokoro_state_free(st);
    kokoro_text_free(text);
    kokoro_voices_free(voices);
    kokoro_model_free(model);
    return 0;
}
