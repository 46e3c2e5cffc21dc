/* cpu.c - chooses the kernels' back end once per process: the best one this CPU supports, or
 * the one KOKORO_CPU names. Like redis's ae.c over epoll/kqueue/select: a portable core (ops.c)
 * calls through one table; each back end is a file. */
#include "model/cpu/kernels.h"
#include "core/util.h"
#include "kokoro.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const kk_kernels *kk_kern = &kk_kernels_generic;

/* Back ends of this build, best first, with the test of the CPU that allows each. */
typedef struct {
    const kk_kernels *k;
    int (*usable)(void);
} backend;

static int always(void) { return 1; }

#if defined(__x86_64__)
/* __builtin_cpu_supports also checks that the OS saves the YMM / ZMM registers (XCR0). */
static int has_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
static int has_avx512(void) { return has_avx2() && __builtin_cpu_supports("avx512f"); }
#endif

static const backend backends[] = {
#if defined(__x86_64__)
    {&kk_kernels_avx512, has_avx512},
    {&kk_kernels_avx2, has_avx2},
#endif
#if defined(__aarch64__)
    {&kk_kernels_neon, always},
#endif
    {&kk_kernels_generic, always},
};
enum { N_BACKENDS = sizeof backends / sizeof backends[0] };

/* Every name KOKORO_CPU accepts in some build, to tell "unknown" from "not here". */
static const char *const known[] = {"generic", "avx2", "avx512", "neon"};

static int init_rc;
static char init_msg[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

char *kk_cpu_paths(char *buf, size_t n)
{
    size_t len = 0;
    if (n) buf[0] = '\0';
    for (int i = 0; i < N_BACKENDS; i++)
        if (backends[i].usable() && len < n) {
            int w = snprintf(buf + len, n - len, "%s%s", len ? " " : "", backends[i].k->name);
            if (w > 0) len += (size_t)w;
        }
    return buf;
}

static void choose(void)
{
    const char *want = getenv("KOKORO_CPU");
    if (!want || !*want || !strcmp(want, "auto")) {
        for (int i = 0; i < N_BACKENDS; i++)
            if (backends[i].usable()) {
                kk_kern = backends[i].k;
                return;
            }
        return; /* unreachable: generic is always usable */
    }
    char paths[64];
    kk_cpu_paths(paths, sizeof paths);
    for (int i = 0; i < N_BACKENDS; i++)
        if (!strcmp(want, backends[i].k->name)) {
            if (backends[i].usable()) {
                kk_kern = backends[i].k;
                return;
            }
            init_rc = KOKORO_E_UNSUPPORTED;
            snprintf(init_msg, sizeof init_msg,
                     "KOKORO_CPU=%s: this CPU does not support it; it offers: %s (or unset "
                     "KOKORO_CPU for the best)", want, paths);
            return;
        }
    int is_known = 0;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) is_known |= !strcmp(want, known[i]);
    init_rc = KOKORO_E_UNSUPPORTED;
    snprintf(init_msg, sizeof init_msg, "KOKORO_CPU=%.32s: %s; this CPU offers: %s", want,
             is_known ? "not built for this architecture" : "unknown kernel path", paths);
}

int kk_cpu_init(char *err, size_t errlen)
{
    pthread_once(&once, choose);
    if (init_rc) return kk_fail(err, errlen, init_rc, "%s", init_msg);
    return 0;
}

const char *kk_cpu_name(void) { return kk_kern->name; }
