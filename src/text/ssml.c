/* ssml.c - SSML into segments (kk_doc), with expat.
 *
 * Safety: no DTD, no entity declarations (so no external entities and no billion laughs:
 * only the five predefined entities and character references expand), parameter entities
 * never parsed; depth, element count and break lengths bounded. Errors carry the line and
 * column where expat stood.
 *
 * Elements: speak (the root), p and s (sentence and paragraph boundaries), break, prosody
 * (rate, volume), voice (name), phoneme (ph in IPA or the model's letters), sub (alias),
 * say-as (interpret-as), emphasis; any other element is accepted and its text spoken. */
#include "core/util.h"
#include "text/numbers.h"
#include "text/text_int.h"

#include <ctype.h>
#include <expat.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...)                                                                          \
    do {                                                                                   \
        fail(c, __VA_ARGS__);                                                              \
        return;                                                                            \
    } while (0)
#define OOM()                                                                              \
    do {                                                                                   \
        c->oom = 1;                                                                        \
        FAIL("out of memory");                                                             \
    } while (0)

#define PAUSE_S_MS 200 /* after </s> */
#define PAUSE_P_MS 500 /* after </p> */

enum { E_OTHER, E_SPEAK, E_P, E_S, E_BREAK, E_PROSODY, E_VOICE, E_PHONEME, E_SUB, E_SAYAS };

typedef struct {
    int el;
    float speed, volume;
    char *voice;
    char *arg;     /* phoneme: the ph (mapped); sub: alias; say-as: interpret-as */
    char *format;  /* say-as format */
    kk_buf text;   /* text collected inside phoneme / sub / say-as */
    long content;  /* phoneme / sub / say-as: the input byte where their content starts */
} frame;

typedef struct {
    XML_Parser xp;
    const char *xml; /* the input, for the bytes an element's content spans */
    kk_doc doc;
    frame st[KK_SSML_MAX_DEPTH + 1];
    int depth, n_elements, collecting; /* collecting: depth of the innermost text holder */
    int oom;
    char msg[200];
    unsigned long line, col;
} ssml_ctx;

static void fail(ssml_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(ssml_ctx *c, const char *fmt, ...)
{
    if (c->msg[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    c->line = XML_GetCurrentLineNumber(c->xp);
    c->col = XML_GetCurrentColumnNumber(c->xp) + 1;
    XML_StopParser(c->xp, XML_FALSE);
}

static const char *attr(const XML_Char **a, const char *name)
{
    for (; a && a[0]; a += 2)
        if (strcmp(a[0], name) == 0)
            return a[1];
    return NULL;
}

static int element_kind(const char *name)
{
    static const struct {
        const char *name;
        int el;
    } T[] = {{"speak", E_SPEAK},     {"p", E_P},         {"paragraph", E_P},
             {"s", E_S},             {"sentence", E_S},  {"break", E_BREAK},
             {"prosody", E_PROSODY}, {"voice", E_VOICE}, {"phoneme", E_PHONEME},
             {"sub", E_SUB},         {"say-as", E_SAYAS}};
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
        if (strcmp(T[i].name, name) == 0)
            return T[i].el;
    return E_OTHER;
}

/* rate: x-slow .. x-fast, "default", "80%", "+20%", "-10%", or a bare factor "1.2". */
static int parse_rate(const char *v, float cur, float *out)
{
    static const struct {
        const char *name;
        float f;
    } N[] = {{"x-slow", 0.5f}, {"slow", 0.75f}, {"medium", 1.0f}, {"default", 1.0f},
             {"fast", 1.25f},  {"x-fast", 1.5f}};
    for (size_t i = 0; i < sizeof N / sizeof N[0]; i++)
        if (strcmp(v, N[i].name) == 0)
            return *out = cur * N[i].f, 0;
    char *end;
    double x = strtod(v, &end);
    if (end == v || !isfinite(x))
        return -1;
    if (*end == '%')
        x = (v[0] == '+' || v[0] == '-') ? 1.0 + x / 100.0 : x / 100.0;
    else if (*end)
        return -1;
    if (!(x >= KOKORO_SPEED_MIN && x <= KOKORO_SPEED_MAX))
        return -1;
    *out = cur * (float)x;
    return 0;
}

/* volume: silent .. x-loud, "+6dB", "-3dB", "50%", "+10%", or a bare factor. */
static int parse_volume(const char *v, float cur, float *out)
{
    static const struct {
        const char *name;
        float f;
    } N[] = {{"silent", 0.0f}, {"x-soft", 0.25f}, {"soft", 0.5f},  {"medium", 1.0f},
             {"default", 1.0f}, {"loud", 1.5f},   {"x-loud", 2.0f}};
    for (size_t i = 0; i < sizeof N / sizeof N[0]; i++)
        if (strcmp(v, N[i].name) == 0)
            return *out = cur * N[i].f, 0;
    char *end;
    double x = strtod(v, &end);
    if (end == v || !isfinite(x))
        return -1;
    if (strcasecmp(end, "dB") == 0)
        x = pow(10.0, x / 20.0);
    else if (*end == '%' && !end[1])
        x = (v[0] == '+' || v[0] == '-') ? 1.0 + x / 100.0 : x / 100.0;
    else if (*end)
        return -1;
    if (!(x >= 0.0 && x <= 4.0))
        return -1;
    *out = cur * (float)x;
    return 0;
}

static int break_strength(const char *v)
{
    static const struct {
        const char *name;
        int ms;
    } N[] = {{"none", 0},     {"x-weak", 100},  {"weak", 250},
             {"medium", 400}, {"strong", 750}, {"x-strong", 1200}};
    for (size_t i = 0; i < sizeof N / sizeof N[0]; i++)
        if (strcmp(v, N[i].name) == 0)
            return N[i].ms;
    return -1;
}

/* Opens a segment with the prosody of frame f (a boundary). */
static void open_seg(ssml_ctx *c, const frame *f)
{
    if (!kk_doc_open(&c->doc, f->speed, f->volume, f->voice))
        c->oom = 1;
}

/* Ends a sentence or paragraph: at least ms of silence after what was said. */
static void boundary(ssml_ctx *c, const frame *parent, int ms)
{
    kk_doc *d = &c->doc;
    if (d->n_segs && d->segs[d->n_segs - 1].n_pieces &&
        d->segs[d->n_segs - 1].pause_after_ms < ms)
        d->segs[d->n_segs - 1].pause_after_ms = ms;
    open_seg(c, parent);
}

/* In the start tag's handler: the input byte just after the tag, where the content starts. */
static long content_start(ssml_ctx *c)
{
    return (long)(XML_GetCurrentByteIndex(c->xp) + XML_GetCurrentByteCount(c->xp));
}

/* In the end tag's handler: the bytes of the content of the element f, blanks trimmed, in
 * [*a, *b); 0 when it has none (an empty element, <sub alias="x"/>). */
static int content_span(ssml_ctx *c, const frame *f, long *a, long *b)
{
    long s = f->content, e = (long)XML_GetCurrentByteIndex(c->xp);
    if (s < 0 || e < 0)
        return 0;
    while (s < e && isspace((unsigned char)c->xml[s]))
        s++;
    while (e > s && isspace((unsigned char)c->xml[e - 1]))
        e--;
    *a = s, *b = e;
    return e > s;
}

static void XMLCALL on_start(void *user, const XML_Char *name, const XML_Char **atts)
{
    ssml_ctx *c = user;
    int el = element_kind(name);
    if (++c->n_elements > KK_SSML_MAX_ELEMENTS)
        FAIL("more than %d elements", KK_SSML_MAX_ELEMENTS);
    if (c->depth == 0 && el != E_SPEAK)
        FAIL("the root element must be <speak>, not <%.40s>", name);
    if (c->depth > 0 && el == E_SPEAK)
        FAIL("<speak> inside <speak>");
    if (c->depth >= KK_SSML_MAX_DEPTH)
        FAIL("elements nested deeper than %d", KK_SSML_MAX_DEPTH);
    if (c->collecting)
        FAIL("<%.40s> inside <%s>: phoneme, sub and say-as hold text only", name,
                    c->st[c->collecting].el == E_PHONEME ? "phoneme"
                    : c->st[c->collecting].el == E_SUB   ? "sub"
                                                         : "say-as");
    frame *up = &c->st[c->depth];
    frame *f = &c->st[++c->depth];
    memset(f, 0, sizeof *f);
    f->el = el;
    f->speed = c->depth == 1 ? 1.0f : up->speed;
    f->volume = c->depth == 1 ? 1.0f : up->volume;
    const char *v = c->depth == 1 ? NULL : up->voice;
    if (v && !(f->voice = strdup(v)))
        OOM();
    const char *a;
    switch (el) {
    case E_P:
    case E_S:
        boundary(c, f, 0);
        break;
    case E_BREAK: {
        int ms = 400;
        if ((a = attr(atts, "strength")) && (ms = break_strength(a)) < 0)
            FAIL("<break strength=\"%.20s\">: use none, x-weak, weak, medium, strong "
                           "or x-strong", a);
        if ((a = attr(atts, "time"))) {
            ms = kk_parse_duration_ms(a, strlen(a));
            if (ms < 0)
                FAIL("<break time=\"%.20s\">: write a time such as 500ms or 1.5s", a);
            if (ms > KK_MAX_BREAK_MS)
                FAIL("<break time=\"%.20s\"> is longer than the limit of %d ms", a,
                            KK_MAX_BREAK_MS);
        }
        kk_doc_pause(&c->doc, ms);
        break;
    }
    case E_PROSODY:
        if ((a = attr(atts, "rate")) && parse_rate(a, f->speed, &f->speed) < 0)
            FAIL("<prosody rate=\"%.20s\">: use x-slow .. x-fast, a percentage or a "
                           "factor from %g to %g", a, (double)KOKORO_SPEED_MIN,
                        (double)KOKORO_SPEED_MAX);
        if ((a = attr(atts, "volume")) && parse_volume(a, f->volume, &f->volume) < 0)
            FAIL("<prosody volume=\"%.20s\">: use silent .. x-loud, dB, a percentage "
                           "or a factor up to 4", a);
        if (f->speed < KOKORO_SPEED_MIN)
            f->speed = KOKORO_SPEED_MIN;
        if (f->speed > KOKORO_SPEED_MAX)
            f->speed = KOKORO_SPEED_MAX;
        if (f->volume > 4.0f)
            f->volume = 4.0f;
        open_seg(c, f);
        break;
    case E_VOICE:
        if (!(a = attr(atts, "name")) || !*a)
            FAIL("<voice> needs a name (a Kokoro voice such as af_heart, or a blend)");
        if (strlen(a) > 200)
            FAIL("<voice name> is longer than 200 characters");
        free(f->voice);
        if (!(f->voice = strdup(a)))
            OOM();
        open_seg(c, f);
        break;
    case E_PHONEME: {
        const char *alpha = attr(atts, "alphabet");
        if (alpha && strcmp(alpha, "ipa") != 0 && strcmp(alpha, "x-kokoro") != 0 &&
            strcmp(alpha, "x-misaki") != 0)
            FAIL("<phoneme alphabet=\"%.20s\">: use ipa (x-kokoro and x-misaki are "
                           "the model's own letters)", alpha);
        if (!(a = attr(atts, "ph")) || !*a)
            FAIL("<phoneme> needs a ph attribute");
        kk_buf b = {0};
        if (kk_user_ipa(a, strlen(a), &b) < 0)
            OOM();
        if (!b.n) {
            kk_buf_free(&b);
            FAIL("<phoneme ph=\"%.40s\"> has no phoneme the model knows", a);
        }
        f->arg = b.p;
        c->collecting = c->depth;
        f->content = content_start(c);
        break;
    }
    case E_SUB:
        if (!(a = attr(atts, "alias")))
            FAIL("<sub> needs an alias attribute");
        if (!(f->arg = strdup(a)))
            OOM();
        c->collecting = c->depth;
        f->content = content_start(c);
        break;
    case E_SAYAS:
        if (!(a = attr(atts, "interpret-as")))
            FAIL("<say-as> needs interpret-as");
        if (!(f->arg = strdup(a)))
            OOM();
        if ((a = attr(atts, "format")) && !(f->format = strdup(a)))
            OOM();
        c->collecting = c->depth;
        f->content = content_start(c);
        break;
    default:
        break;
    }
    if (c->oom)
        fail(c, "out of memory");
}

static int only_digits(const char *s, size_t n)
{
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* The text a <say-as> stands for; spelled kinds become a spelling piece. */
static int say_as(ssml_ctx *c, const char *kind, const char *s, long src_a, long src_b)
{
    kk_buf b = {0}, digits = {0};
    int rc = 0;
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    /* digits only, with the separators people write in numbers */
    for (size_t i = 0; i < n && rc == 0; i++)
        if (isdigit((unsigned char)s[i]))
            rc = kk_buf_putc(&digits, s[i]);
    if (strcmp(kind, "characters") == 0 || strcmp(kind, "spell-out") == 0 ||
        strcmp(kind, "verbatim") == 0) {
        rc = kk_doc_piece_src(&c->doc, KK_PIECE_SPELL, s, n, NULL, 0, src_a, src_b);
    } else if ((strcmp(kind, "cardinal") == 0 || strcmp(kind, "number") == 0) && digits.n &&
               digits.n <= 15) {
        if (s[0] == '-')
            rc = kk_buf_puts(&b, "minus");
        rc = rc ? rc : kk_say_number(&b, digits.p, digits.n, 0);
    } else if (strcmp(kind, "ordinal") == 0 && digits.n && digits.n <= 15) {
        rc = kk_say_ordinal(&b, strtoull(digits.p, NULL, 10), 0);
    } else if (strcmp(kind, "digits") == 0 && digits.n) {
        rc = kk_say_digits(&b, digits.p, digits.n);
    } else if (strcmp(kind, "telephone") == 0 && digits.n) {
        /* digit by digit, a short pause between the groups the text has */
        size_t i = 0;
        while (i < n && rc == 0) {
            size_t j = i;
            while (j < n && isdigit((unsigned char)s[j]))
                j++;
            if (j > i) {
                if (b.n)
                    rc = kk_buf_putc(&b, ',');
                rc = rc ? rc : kk_say_digits(&b, s + i, j - i);
                i = j;
            } else {
                i++;
            }
        }
    } else {
        /* date, time and the rest: the normaliser reads them as it reads plain text */
        (void)only_digits;
        rc = kk_buf_put(&b, s, n);
    }
    if (rc == 0 && b.n)
        rc = kk_buf_putc(&b, ' ') ||
             kk_doc_piece_src(&c->doc, KK_PIECE_TEXT, b.p, b.n, NULL, 0, src_a, src_b);
    kk_buf_free(&b);
    kk_buf_free(&digits);
    return rc;
}

static void XMLCALL on_end(void *user, const XML_Char *name)
{
    (void)name;
    ssml_ctx *c = user;
    if (c->depth <= 0)
        return;
    frame *f = &c->st[c->depth];
    frame *up = &c->st[c->depth - 1];
    int rc = 0;
    const char *txt = f->text.p ? f->text.p : "";
    long src_a = -1, src_b = -1; /* the element's content in the input: its written form */
    if (f->el == E_PHONEME || f->el == E_SUB || f->el == E_SAYAS)
        if (!content_span(c, f, &src_a, &src_b))
            src_a = src_b = -1;
    /* after a failure expat may still report the end of the element that failed */
    switch (c->msg[0] ? E_OTHER : f->el) {
    case E_P:
    case E_S:
        boundary(c, c->depth > 1 ? up : f, f->el == E_P ? PAUSE_P_MS : PAUSE_S_MS);
        break;
    case E_PROSODY:
    case E_VOICE:
        if (c->depth > 1)
            open_seg(c, up);
        break;
    case E_PHONEME: {
        /* a space either side keeps it a word of its own */
        rc = kk_doc_piece_src(&c->doc, KK_PIECE_PHON, f->arg, strlen(f->arg), txt, f->text.n,
                              src_a, src_b);
        break;
    }
    case E_SUB:
        rc = kk_doc_piece_src(&c->doc, KK_PIECE_TEXT, f->arg, strlen(f->arg), NULL, 0, src_a,
                              src_b);
        break;
    case E_SAYAS:
        rc = say_as(c, f->arg, txt, src_a, src_b);
        break;
    default:
        break;
    }
    if (c->collecting == c->depth)
        c->collecting = 0;
    free(f->voice);
    free(f->arg);
    free(f->format);
    kk_buf_free(&f->text);
    c->depth--;
    if (rc)
        c->oom = 1;
    if (c->oom)
        fail(c, "out of memory");
}

static void XMLCALL on_text(void *user, const XML_Char *s, int len)
{
    ssml_ctx *c = user;
    if (c->depth <= 0 || c->msg[0])
        return;
    int rc;
    if (c->collecting)
        rc = kk_buf_put(&c->st[c->collecting].text, s, (size_t)len);
    else
        rc = kk_doc_piece(&c->doc, KK_PIECE_TEXT, s, (size_t)len, NULL, 0);
    if (rc) {
        c->oom = 1;
        fail(c, "out of memory");
    }
}

static void XMLCALL on_entity_decl(void *user, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_len, const XML_Char *base,
                                   const XML_Char *system_id, const XML_Char *public_id,
                                   const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)system_id,
        (void)public_id, (void)notation;
    fail(user, "entity declarations are not allowed");
}

static void XMLCALL on_doctype(void *user, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal;
    fail(user, "a DOCTYPE is not allowed in SSML");
}

int kk_is_ssml(const char *text)
{
    if (!text)
        return 0;
    if (strncmp(text, "\xEF\xBB\xBF", 3) == 0) /* byte order mark */
        text += 3;
    while (isspace((unsigned char)*text))
        text++;
    /* an XML declaration or a DOCTYPE is XML too: parsed, so that a DOCTYPE is refused
     * rather than read aloud */
    if (strncmp(text, "<?xml", 5) == 0 || strncmp(text, "<!DOCTYPE", 9) == 0)
        return 1;
    return strncmp(text, "<speak", 6) == 0 &&
           (text[6] == '>' || text[6] == '/' || isspace((unsigned char)text[6]));
}

int kk_ssml_parse(const char *xml, kk_doc *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    ssml_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    c->xp = XML_ParserCreate("UTF-8");
    c->xml = xml;
    if (!c->xp) {
        free(c);
        return kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
    }
    XML_SetUserData(c->xp, c);
    XML_SetParamEntityParsing(c->xp, XML_PARAM_ENTITY_PARSING_NEVER);
    XML_SetEntityDeclHandler(c->xp, on_entity_decl);
    XML_SetStartDoctypeDeclHandler(c->xp, on_doctype);
    XML_SetElementHandler(c->xp, on_start, on_end);
    XML_SetCharacterDataHandler(c->xp, on_text);
    c->st[0].speed = c->st[0].volume = 1.0f;
    size_t n = strlen(xml);
    int rc = KOKORO_OK;
    if (n > (size_t)1 << 30) {
        rc = kk_fail(err, errlen, KOKORO_E_TOO_LONG, "SSML longer than 1 GB");
    } else if (XML_Parse(c->xp, xml, (int)n, XML_TRUE) != XML_STATUS_OK || c->msg[0]) {
        if (c->oom)
            rc = kk_fail(err, errlen, KOKORO_E_NOMEM, "out of memory");
        else if (c->msg[0])
            rc = kk_fail(err, errlen, KOKORO_E_ARG, "SSML line %lu, column %lu: %s", c->line,
                         c->col, c->msg);
        else
            rc = kk_fail(err, errlen, KOKORO_E_ARG, "SSML line %lu, column %lu: %s",
                         (unsigned long)XML_GetCurrentLineNumber(c->xp),
                         (unsigned long)XML_GetCurrentColumnNumber(c->xp) + 1,
                         XML_ErrorString(XML_GetErrorCode(c->xp)));
    }
    /* frames left open by an error */
    for (int d = c->depth; d >= 1; d--) {
        free(c->st[d].voice);
        free(c->st[d].arg);
        free(c->st[d].format);
        kk_buf_free(&c->st[d].text);
    }
    XML_ParserFree(c->xp);
    if (rc == KOKORO_OK)
        *out = c->doc;
    else
        kk_doc_free(&c->doc);
    free(c);
    return rc;
}
