/* request.c - strict reading of JSON request bodies, and the checks shared by the routes:
 * typed fields, unknown-field policy, voice specs (names, OpenAI aliases, blends), languages. */
#include "server/handler.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "unknown";
}

json_t *sv_parse_body(sv_req *r, sv_err *e)
{
    const char *ct = r->content_type;
    if (ct) {
        size_t n = strlen("application/json");
        if (strncasecmp(ct, "application/json", n) != 0 ||
            (ct[n] && ct[n] != ';' && ct[n] != ' ')) {
            sv_fail(e, 415, "UnsupportedMediaType", NULL,
                    "the body must be JSON: send Content-Type: application/json, not %.64s", ct);
            e->details = json_pack("{s:s%}", "content_type", ct, strnlen(ct, 64));
            if (!e->details) /* not UTF-8: leave the header out */
                e->details = json_object();
            return NULL;
        }
    }
    if (r->body.n == 0) {
        sv_fail(e, 400, "ValidationError", NULL, "the request body is empty; send a JSON object");
        return NULL;
    }
    json_error_t je;
    json_t *v = json_loadb(r->body.p, r->body.n, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        enum json_error_code code = json_error_code(&je);
        sv_fail(e, 400, "ValidationError", NULL, "%s at line %d, column %d: %s",
                code == json_error_invalid_utf8 ? "invalid UTF-8 in the body"
                : code == json_error_duplicate_key ? "duplicate key in the JSON object"
                                                   : "invalid JSON",
                je.line, je.column, je.text);
        e->details = json_pack("{s:i, s:i, s:i}", "line", je.line, "column", je.column,
                               "position", je.position);
        return NULL;
    }
    if (!json_is_object(v)) {
        sv_fail(e, 400, "ValidationError", NULL, "the body must be a JSON object, not %s",
                type_name(v));
        json_decref(v);
        return NULL;
    }
    return v;
}

int sv_only_fields(json_t *obj, const char *const *allowed, sv_err *e)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val) {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (!ok) {
            kk_buf list = {0};
            for (const char *const *a = allowed; *a; a++)
                kk_buf_printf(&list, "%s%s", a == allowed ? "" : ", ", *a);
            sv_fail(e, 400, "ValidationError", key, "unknown field \"%.64s\"; the fields are: %s",
                    key, list.p ? list.p : "");
            kk_buf_free(&list);
            return -1;
        }
    }
    return 0;
}

static int wrong_type(sv_err *e, const char *name, const char *want, const json_t *v)
{
    sv_fail(e, 400, "ValidationError", name, "field \"%s\" must be %s, not %s", name, want,
            type_name(v));
    e->details = json_pack("{s:s, s:s, s:s}", "field", name, "expected", want, "received",
                           type_name(v));
    return -1;
}

int sv_get_string(json_t *obj, const char *name, const char **out, sv_err *e)
{
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return wrong_type(e, name, "a string", v);
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        sv_fail(e, 400, "ValidationError", name, "field \"%s\" contains a NUL character", name);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

int sv_get_number(json_t *obj, const char *name, double *out, sv_err *e)
{
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        return wrong_type(e, name, "a number", v);
    *out = json_number_value(v);
    return 0;
}

int sv_get_bool(json_t *obj, const char *name, int *out, sv_err *e)
{
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return wrong_type(e, name, "a boolean", v);
    *out = json_is_true(v);
    return 0;
}

/* OpenAI's voice names, each mapped to a Kokoro voice of a similar character. A loaded voice
 * of the same name wins over the mapping. */
const char *const sv_openai_voice_map[][2] = {
    {"alloy", "af_alloy"},   {"ash", "am_adam"},     {"ballad", "bm_lewis"},
    {"coral", "af_river"},   {"echo", "am_echo"},    {"fable", "bm_fable"},
    {"nova", "af_nova"},     {"onyx", "am_onyx"},    {"sage", "af_sarah"},
    {"shimmer", "af_bella"}, {"verse", "am_puck"},   {"marin", "af_heart"},
    {"cedar", "am_michael"}, {NULL, NULL},
};

const char *sv_openai_voice(const char *name)
{
    for (int i = 0; sv_openai_voice_map[i][0]; i++)
        if (strcmp(sv_openai_voice_map[i][0], name) == 0)
            return sv_openai_voice_map[i][1];
    return NULL;
}

char *sv_resolve_voice(sv_server *s, const char *spec, const char *param, sv_err *e)
{
    size_t n = strlen(spec);
    if (n == 0 || n > 256) {
        sv_fail(e, 400, "UnsupportedVoice", param, "field \"%s\" must name a voice (1 to 256 "
                "characters); GET /v1/audio/voices lists them", param);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)spec[i];
        if (!(isalnum(c) || c == '_' || c == '+' || c == '(' || c == ')' || c == '.' || c == ' ')) {
            sv_fail(e, 400, "UnsupportedVoice", param,
                    "voice \"%.64s\" has a character a voice name cannot have; names are "
                    "letters, digits and _, blends look like af_bella(2)+af_sky(1)", spec);
            e->details = json_pack("{s:s, s:s}", "field", param, "received", spec);
            return NULL;
        }
    }
    /* Rewrite each component's name through the OpenAI map, keep weights as they are. */
    kk_buf out = {0};
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, '+');
        if (!end)
            end = p + strlen(p);
        const char *name_end = p;
        while (name_end < end && *name_end != '(')
            name_end++;
        const char *a = p, *b = name_end;
        while (a < b && *a == ' ')
            a++;
        while (b > a && b[-1] == ' ')
            b--;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(b - a), a);
        if (!name[0] || (*end && !end[1])) {
            kk_buf_free(&out);
            sv_fail(e, 400, "UnsupportedVoice", param,
                    "voice \"%.64s\" has an empty part; blends look like af_bella(2)+af_sky(1)",
                    spec);
            e->details = json_pack("{s:s, s:s}", "field", param, "received", spec);
            return NULL;
        }
        const char *mapped = kokoro_voices_get(s->eng.voices, name) ? NULL : sv_openai_voice(name);
        kk_buf_printf(&out, "%s%s%.*s%s", out.n ? "+" : "", mapped ? mapped : name,
                      (int)(end - name_end), name_end, "");
        p = *end ? end + 1 : end;
    }
    char *resolved = kk_buf_take(&out, NULL);
    char err[256] = "";
    /* parsed and looked up here; the worker blends it */
    int rc = resolved ? kokoro_voice_check(s->eng.voices, resolved, err, sizeof err)
                      : KOKORO_E_NOMEM;
    if (rc == KOKORO_OK)
        return resolved;
    free(resolved);
    if (rc == KOKORO_E_NOMEM) {
        sv_fail(e, 500, "InternalError", NULL, "out of memory");
        return NULL;
    }
    sv_fail(e, 400, "UnsupportedVoice", param, "voice \"%.64s\" is not available: %s; GET "
            "/v1/audio/voices lists the %d voices", spec, err,
            kokoro_voices_count(s->eng.voices));
    e->details = json_pack("{s:s, s:s}", "field", param, "received", spec);
    return NULL;
}

/* A language code as the server names it: the library's canonical code for any of its codes
 * and aliases, in any case (kokoro_lang_canonical), but Portuguese as "pt", and "en" alone
 * kept as "en" (the voice's English, else en-us: sv_pick_lang). NULL when unknown. */
static const char *canonical_lang(const char *code)
{
    if (strcasecmp(code, "en") == 0)
        return "en";
    const char *c = kokoro_lang_canonical(code);
    return c && strcmp(c, "pt-br") == 0 ? "pt" : c;
}

static int lang_supported(sv_server *s, const char *lang)
{
    for (int i = 0; i < s->n_langs; i++)
        if (strcmp(s->langs[i], lang) == 0)
            return 1;
    return 0;
}

static int same_base(const char *a, const char *b)
{
    return strncmp(a, b, 2) == 0;
}

int sv_pick_lang(sv_server *s, const char *requested, const char *voice_spec, int strict,
                 const char *param, char out[8], sv_err *e)
{
    char first[128];
    size_t k = strcspn(voice_spec, "(+");
    snprintf(first, sizeof first, "%.*s", (int)k, voice_spec);
    const char *voice_lang = first[0] ? kokoro_lang_of_voice(first) : NULL;
    if (voice_lang && canonical_lang(voice_lang))
        voice_lang = canonical_lang(voice_lang);
    const char *lang = voice_lang;
    if (requested) {
        const char *c = canonical_lang(requested);
        if (!c) {
            sv_fail(e, 400, "UnsupportedLanguage", param,
                    "language \"%.32s\" is not a code this service knows; use en, en-us, "
                    "en-gb, es, fr, hi, it, pt, ja or zh", requested);
            e->details = json_pack("{s:s, s:s}", "field", param, "received", requested);
            return -1;
        }
        if (strcmp(c, "en") == 0)
            c = voice_lang && same_base(voice_lang, "en") ? voice_lang : "en-us";
        if (strict && voice_lang && !same_base(c, voice_lang)) {
            sv_fail(e, 400, "UnsupportedLanguage", param,
                    "voice %s speaks %s, not %s; choose a %s voice or leave language out",
                    first, voice_lang, requested, requested);
            e->details = json_pack("{s:s, s:s, s:s}", "field", param, "received", requested,
                                   "voice_language", voice_lang);
            return -1;
        }
        lang = c;
    }
    if (!lang) {
        sv_fail(e, 400, "UnsupportedLanguage", param,
                "cannot tell the language of voice %s; give it in \"%s\"", first, param);
        return -1;
    }
    if (!lang_supported(s, lang)) {
        sv_fail(e, 400, "UnsupportedLanguage", param,
                "language %s is not available on this server: its front end or dictionary is "
                "missing (make model fetches the Japanese and Mandarin dictionaries)", lang);
        e->details = json_pack("{s:s, s:s}", "field", param, "received", requested ? requested : lang);
        return -1;
    }
    snprintf(out, 8, "%s", lang);
    return 0;
}
