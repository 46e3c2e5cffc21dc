/* test_request.c - the server's request checks without a model or a socket (make check): the
 * JSON body reader, typed fields, unknown fields, languages, settings from flags and the
 * environment, the UTF-8 cleaner used for logs and messages, the error bodies of both route
 * families (handlers return response objects, so no connection is needed), and the core
 * buffer, allocation list and UTF-8 helpers. Each request case is what a client would send
 * and the status, type and field the API document says it gets back. */
#include "check.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/utf8.h"
#include "server/config.h"
#include "server/handler.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static sv_server srv;

/* Parses body as a request would arrive (no Content-Type header: no connection). */
static json_t *body(const char *text, sv_err *e)
{
    sv_req r = {.srv = &srv};
    memset(e, 0, sizeof *e);
    kk_buf_put(&r.body, text, strlen(text));
    json_t *o = sv_parse_body(&r, e);
    kk_buf_free(&r.body);
    return o;
}

static void expect_error(const char *text, int status, const char *type, const char *needle)
{
    sv_err e;
    json_t *o = body(text, &e);
    CHECK(!o, "%s: accepted", text);
    json_decref(o);
    CHECK(e.status == status && e.type && strcmp(e.type, type) == 0 &&
              strstr(e.message, needle) != NULL,
          "%.40s: got %d %s \"%s\", want %d %s with \"%s\"", text, e.status,
          e.type ? e.type : "-", e.message, status, type, needle);
    sv_err_clear(&e);
}

static void test_body(void)
{
    sv_err e;
    json_t *o = body("{\"text\": \"Hello\", \"speed\": 1.5}", &e);
    CHECK(o && json_is_object(o), "a JSON object is read");
    json_decref(o);
    expect_error("", 400, "ValidationError", "empty");
    expect_error("{\"text\": ", 400, "ValidationError", "line 1");
    expect_error("[1, 2]", 400, "ValidationError", "not an array");
    expect_error("\"text\"", 400, "ValidationError", "invalid JSON"); /* a bare value */
    expect_error("{\"a\": 1, \"a\": 2}", 400, "ValidationError", "duplicate key");
    expect_error("{\"text\": \"\xff\xfe\"}", 400, "ValidationError", "invalid UTF-8");
    /* where the mistake is: line and column, for the client to find it */
    o = body("{\n  \"text\": \"a\",\n  oops\n}", &e);
    CHECK(!o && e.details && json_integer_value(json_object_get(e.details, "line")) == 3,
          "the error names line 3: %s", e.message);
    json_decref(o);
    sv_err_clear(&e);
}

static void test_fields(void)
{
    sv_err e = {0};
    json_t *o = json_pack("{s:s, s:f, s:b, s:i}", "text", "Hi", "speed", 1.25, "stream", 1,
                          "count", 3);
    const char *s = NULL;
    double d = 0;
    int b = 0;
    CHECK(sv_get_string(o, "text", &s, &e) == 0 && s && strcmp(s, "Hi") == 0, "a string");
    CHECK(sv_get_number(o, "speed", &d, &e) == 0 && d == 1.25, "a number");
    CHECK(sv_get_number(o, "count", &d, &e) == 0 && d == 3, "an integer is a number");
    CHECK(sv_get_bool(o, "stream", &b, &e) == 0 && b == 1, "a boolean");
    s = "kept";
    CHECK(sv_get_string(o, "absent", &s, &e) == 0 && strcmp(s, "kept") == 0,
          "an absent field leaves the default");

    CHECK(sv_get_string(o, "speed", &s, &e) != 0 && e.status == 400 &&
              strcmp(e.param, "speed") == 0 && strstr(e.message, "a number"),
          "a number where a string belongs: %s", e.message);
    sv_err_clear(&e);
    CHECK(sv_get_number(o, "text", &d, &e) != 0 && strcmp(e.param, "text") == 0,
          "a string where a number belongs");
    sv_err_clear(&e);
    CHECK(sv_get_bool(o, "count", &b, &e) != 0 && strcmp(e.param, "count") == 0,
          "an integer where a boolean belongs");
    sv_err_clear(&e);

    static const char *const allowed[] = {"text", "speed", "stream", NULL};
    CHECK(sv_only_fields(o, allowed, &e) != 0 && strstr(e.message, "count"),
          "an unknown field is named: %s", e.message);
    sv_err_clear(&e);
    json_object_del(o, "count");
    CHECK(sv_only_fields(o, allowed, &e) == 0, "known fields pass");
    json_decref(o);
}

static void test_languages(void)
{
    static const char *langs[] = {"en-us", "en-gb", "es", "fr", "hi", "it", "pt"};
    for (size_t i = 0; i < sizeof langs / sizeof *langs; i++)
        srv.langs[srv.n_langs++] = langs[i];
    sv_err e = {0};
    char out[8];
    CHECK(sv_pick_lang(&srv, NULL, "af_heart", 0, "language", out, &e) == 0 &&
              strcmp(out, "en-us") == 0, "af_heart speaks en-us");
    CHECK(sv_pick_lang(&srv, NULL, "bf_emma", 0, "language", out, &e) == 0 &&
              strcmp(out, "en-gb") == 0, "bf_emma speaks en-gb");
    CHECK(sv_pick_lang(&srv, "pt-BR", "pf_dora", 0, "language", out, &e) == 0 &&
              strcmp(out, "pt") == 0, "pt-BR is pt (case does not matter)");
    CHECK(sv_pick_lang(&srv, "en", "bf_emma", 0, "language", out, &e) == 0 &&
              strcmp(out, "en-gb") == 0, "\"en\" follows the voice's English");
    CHECK(sv_pick_lang(&srv, "xx", "af_heart", 0, "lang_code", out, &e) != 0 &&
              strcmp(e.type, "UnsupportedLanguage") == 0 && strcmp(e.param, "lang_code") == 0,
          "an unknown code is refused and the field named");
    sv_err_clear(&e);
    CHECK(sv_pick_lang(&srv, "es", "af_heart", 1, "language", out, &e) != 0 &&
              strstr(e.message, "speaks en-us"),
          "strict: a Spanish request for an English voice is refused: %s", e.message);
    sv_err_clear(&e);
    CHECK(sv_pick_lang(&srv, "ja", "af_heart", 0, "language", out, &e) != 0 &&
              strstr(e.message, "not available"),
          "a language without a front end in this build: %s", e.message);
    sv_err_clear(&e);
}

/* The library's list of languages, and the server's checks accepting each of them. */
static void test_library_languages(void)
{
    int n = kokoro_lang_count();
    CHECK(n >= 7, "the library lists %d languages", n);
    CHECK(kokoro_lang_code(-1) == NULL && kokoro_lang_code(n) == NULL, "outside the list: NULL");
    CHECK_STR(kokoro_lang_canonical("EN"), "en-us");
    CHECK_STR(kokoro_lang_canonical("b"), "en-gb");
    CHECK_STR(kokoro_lang_canonical("pt"), "pt-br");
    CHECK(kokoro_lang_canonical("xx") == NULL && kokoro_lang_canonical(NULL) == NULL,
          "unknown codes have no canonical form");
    srv.n_langs = 0;
    for (int i = 0; i < n && srv.n_langs < SV_MAX_LANGS; i++)
        srv.langs[srv.n_langs++] = strcmp(kokoro_lang_code(i), "pt-br") == 0 ? "pt"
                                                                            : kokoro_lang_code(i);
    for (int i = 0; i < n; i++) {
        const char *code = kokoro_lang_code(i);
        CHECK(code && kokoro_lang_canonical(code) && strcmp(kokoro_lang_canonical(code), code) == 0,
              "language %d (%s) is its own canonical code", i, code ? code : "(null)");
        sv_err e = {0};
        char out[8];
        CHECK(code && sv_pick_lang(&srv, code, "af_heart", 0, "language", out, &e) == 0,
              "the server refuses the library's language %s: %s", code ? code : "(null)",
              e.message);
        sv_err_clear(&e);
    }
}

/* Voice specs against a folder of three made-up voices (constant packs): the server's check
 * (sv_resolve_voice, which maps OpenAI's names) and the library's, which must agree with the
 * blend on every spec without blending. */
static void test_voices(void)
{
    char dir[] = "/tmp/kokoro-check-voicesXXXXXX";
    CHECK(mkdtemp(dir) != NULL, "a temporary folder");
    static const char *names[] = {"af_heart", "af_bella", "am_puck"};
    static float pack[KOKORO_VOICE_FLOATS];
    char path[256];
    for (int i = 0; i < 3; i++) {
        for (size_t k = 0; k < KOKORO_VOICE_FLOATS; k++)
            pack[k] = (float)(i + 1);
        snprintf(path, sizeof path, "%s/%s.bin", dir, names[i]);
        FILE *f = fopen(path, "wb");
        CHECK(f && fwrite(pack, sizeof pack, 1, f) == 1, "writing %s", path);
        if (f)
            fclose(f);
    }
    char err[256] = "";
    kokoro_voices *v = NULL;
    CHECK(kokoro_voices_load(dir, &v, err, sizeof err) == KOKORO_OK, "%s", err);
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s.bin", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    if (!v)
        return;
    static const struct {
        const char *spec;
        int rc;
    } specs[] = {
        {"af_heart", KOKORO_OK},          {"af_heart(2)+am_puck(1)", KOKORO_OK},
        {" af_bella + am_puck ", KOKORO_OK}, {"af_nobody", KOKORO_E_NOT_FOUND},
        {"af_heart+", KOKORO_E_ARG},      {"af_heart(0)", KOKORO_E_ARG},
        {"af_heart(x)", KOKORO_E_ARG},    {"", KOKORO_E_ARG},
        {"af_heart+af_heart+af_heart+af_heart+af_heart+af_heart+af_heart+af_heart+af_heart",
         KOKORO_E_ARG},
    };
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        char e1[256] = "", e2[256] = "";
        int check = kokoro_voice_check(v, specs[i].spec, e1, sizeof e1);
        int blend = kokoro_voice_blend(v, specs[i].spec, pack, e2, sizeof e2);
        CHECK(check == specs[i].rc && blend == check && strcmp(e1, e2) == 0,
              "\"%s\": check %d (%s), blend %d (%s), want %d", specs[i].spec, check, e1, blend,
              e2, specs[i].rc);
    }
    CHECK(kokoro_voice_blend(v, "af_heart(3)+am_puck(1)", pack, err, sizeof err) == KOKORO_OK &&
              fabsf(pack[0] - 1.5f) < 1e-6f, "3:1 of packs 1 and 3 is 1.5, got %g", pack[0]);

    srv.eng.voices = v;
    sv_err e = {0};
    char *r = sv_resolve_voice(&srv, "shimmer", "voice", &e);
    CHECK(r && strcmp(r, "af_bella") == 0, "OpenAI's shimmer is af_bella: %s", r ? r : e.message);
    free(r);
    r = sv_resolve_voice(&srv, "verse(1)+af_heart(3)", "voice", &e);
    CHECK(r && strcmp(r, "am_puck(1)+af_heart(3)") == 0, "aliases inside a blend: %s",
          r ? r : e.message);
    free(r);
    r = sv_resolve_voice(&srv, "af_nobody", "voice", &e);
    CHECK(!r && e.status == 400 && strcmp(e.type, "UnsupportedVoice") == 0 &&
              strstr(e.message, "af_nobody") && strstr(e.message, "3 voices"),
          "an unknown voice: %s", e.message);
    sv_err_clear(&e);
    r = sv_resolve_voice(&srv, "af_heart;rm", "voice", &e);
    CHECK(!r && e.status == 400 && strcmp(e.param, "voice") == 0, "a character no name has");
    sv_err_clear(&e);
    srv.eng.voices = NULL;
    kokoro_voices_free(v);
}

static int parse_args(sv_config *cfg, const char *a1, const char *a2)
{
    char *argv[] = {"serve", (char *)a1, (char *)a2, NULL};
    return sv_config_parse(cfg, a2 ? 3 : a1 ? 2 : 1, argv);
}

static void test_config(void)
{
    sv_config cfg;
    unsetenv("KOKORO_PORT");
    CHECK(parse_args(&cfg, NULL, NULL) == 0 && cfg.port == 8000 && cfg.request_timeout == 10,
          "defaults: port %d, request timeout %d", cfg.port, cfg.request_timeout);
    CHECK(parse_args(&cfg, "--port", "9000") == 0 && cfg.port == 9000, "--port");
    setenv("KOKORO_PORT", "9100", 1);
    CHECK(parse_args(&cfg, NULL, NULL) == 0 && cfg.port == 9100, "KOKORO_PORT");
    CHECK(parse_args(&cfg, "--port", "9200") == 0 && cfg.port == 9200, "the flag wins");
    unsetenv("KOKORO_PORT");
    /* bad values are refused, not clamped or read as 0 (messages go to stderr) */
    CHECK(parse_args(&cfg, "--port", "70000") < 0, "a port past 65535");
    CHECK(parse_args(&cfg, "--port", "80x") < 0, "a port with letters");
    CHECK(parse_args(&cfg, "--max-body", "12") < 0, "a body limit under 64 bytes");
    CHECK(parse_args(&cfg, "--no-such-flag", NULL) < 0, "an unknown flag");
    CHECK(parse_args(&cfg, "--port", NULL) < 0, "a flag without its value");
}

static void test_utf8_sanitize(void)
{
    char buf[] = "caf\xc3\xa9 \xe9t\xc3 \xed\xa0\x80 \xf4\x90\x80\x80 ok";
    const char *s = buf;
    kk_utf8_sanitize(buf);
    CHECK_STR(s, "caf\xc3\xa9 ?t? ??? ???? ok");
}

/* A handler's error as each route family writes it, without a connection: the seed's
 * {error, message, details} (the field at fault in details) and OpenAI's {"error": {...}}. */
static void test_error_bodies(void)
{
    sv_err e = {0};
    sv_fail(&e, 400, "ValidationError", "speed", "field \"speed\" must be between %g and %g", 0.5,
            2.0);
    sv_resp r = sv_resp_error(&e);
    CHECK(r.kind == SV_RESP_ERROR && r.status == 400 && e.details == NULL,
          "the error moves into the response");
    size_t n;
    char *body = sv_err_body(&r.err, SV_FAM_SEED, &n);
    CHECK_STR(body, "{\"error\":\"ValidationError\",\"message\":\"field \\\"speed\\\" must be "
                    "between 0.5 and 2\",\"details\":{\"field\":\"speed\"}}");
    CHECK(body && n == strlen(body), "the length is the body's");
    free(body);
    body = sv_err_body(&r.err, SV_FAM_OPENAI, &n);
    CHECK_STR(body, "{\"error\":{\"message\":\"field \\\"speed\\\" must be between 0.5 and 2\","
                    "\"type\":\"invalid_request_error\",\"param\":\"speed\",\"code\":"
                    "\"ValidationError\"}}");
    free(body);
    sv_resp_release(&srv, &r);

    /* a message cut inside a character still gives JSON, the bytes replaced */
    sv_fail(&e, 503, "Overloaded", NULL, "%.4s", "caf\xc3\xa9");
    body = sv_err_body(&e, SV_FAM_SEED, &n);
    CHECK(body && strstr(body, "\"message\":\"caf?\""), "sanitised: %s", body ? body : "(null)");
    free(body);
    CHECK(sv_err_retry_after(&srv, &e) == 5, "Retry-After without a pool");
    sv_err_clear(&e);

    sv_resp j = sv_resp_json(201, json_pack("{s:i}", "a", 1));
    CHECK(j.kind == SV_RESP_BYTES && j.status == 201 && j.len == 7 &&
              strcmp(j.content_type, "application/json") == 0 && memcmp(j.body, "{\"a\":1}", 7) == 0,
          "a JSON body");
    sv_resp_release(&srv, &j);
    CHECK(j.kind == SV_RESP_NONE && j.body == NULL && j.fd == -1, "released");
    CHECK(sv_resp_json(200, NULL).kind == SV_RESP_NONE, "no body: no response");
}

/* The core helpers the server shares with the library: buffer, allocation list, UTF-8. */
static void test_core(void)
{
    kk_buf b = {0};
    CHECK(kk_buf_take(&b, NULL) == NULL, "an empty buffer holds nothing");
    CHECK(kk_buf_put(&b, "ab", 2) == 0 && kk_buf_printf(&b, "-%d-", 42) == 0 &&
              kk_buf_base64(&b, "hello", 5) == 0 && kk_buf_putc(&b, ' ') == 0,
          "appends");
    CHECK_STR(b.p, "ab-42-aGVsbG8= ");
    kk_buf_rtrim(&b);
    CHECK(b.n == 14 && b.p[b.n] == 0, "trimmed, still terminated");
    kk_buf_clear(&b);
    CHECK(b.n == 0 && b.p && b.p[0] == 0 && b.cap >= 15, "cleared, memory kept");
    CHECK(kk_buf_put(&b, "x", 1) == 0 && kk_buf_reserve(&b, (size_t)-1) == -1 && b.n == 1,
          "an impossible size fails and leaves the buffer");
    size_t n;
    char *p = kk_buf_take(&b, &n);
    CHECK(p && n == 1 && strcmp(p, "x") == 0 && b.p == NULL && b.n == 0, "taken");
    free(p);

    kk_allocs a = {0};
    void *x = kk_allocs_add(&a, malloc(10), 10), *y = kk_allocs_add(&a, malloc(20), 20);
    size_t mark = kk_allocs_count(&a);
    void *z = kk_allocs_add(&a, malloc(30), 30);
    CHECK(x && y && z && mark == 2 && kk_allocs_count(&a) == 3, "three buffers");
    CHECK(kk_allocs_release(&a, x) == 10 && kk_allocs_count(&a) == 2, "one freed early");
    CHECK(kk_allocs_release(&a, x) == 0, "a buffer not in the list is left alone");
    CHECK(kk_allocs_pop(&a, 1) == 30 && kk_allocs_count(&a) == 1, "popped back to a mark");
    CHECK(kk_allocs_add(&a, NULL, 5) == NULL && kk_allocs_count(&a) == 1, "NULL is not added");
    kk_allocs_free(&a); /* frees y; LeakSanitizer would say otherwise */

    uint32_t cp;
    CHECK(kk_utf8_next("\xc3\xa9", 2, &cp) == 2 && cp == 0xE9, "two bytes");
    CHECK(kk_utf8_next("\xc0\xaf", 2, &cp) == 1 && cp == 0xFFFD, "an overlong form");
    CHECK(kk_utf8_next("\xe2\x82", 2, &cp) == 1 && cp == 0xFFFD, "a cut sequence");
    char out[4];
    CHECK(kk_utf8_put(0x1F600, out) == 4 && memcmp(out, "\xf0\x9f\x98\x80", 4) == 0, "encoded");
    CHECK(kk_utf8_len("caf\xc3\xa9") == 4 && kk_utf8_count("caf\xc3\xa9", 4) == 4,
          "characters, not bytes");
}

int main(void)
{
    test_body();
    test_fields();
    test_languages();
    test_library_languages();
    test_voices();
    test_config();
    test_utf8_sanitize();
    test_error_bodies();
    test_core();
    return check_done("test_request");
}
