/* server.c - the lifecycle of `kokoro serve`: settings, the listeners (transport.c and the
 * Wyoming port), the model loaded in the background while the probes already answer, the
 * worker pool, signals, and the SIGTERM drain. */
#include "server/server.h"
#include "core/clock.h"
#include "server/transport.h"
#include "server/wyoming.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sv_server server;

/* The languages the text front end knows (the library's list, so that a new front end shows
 * up here by itself) whose data is installed, found by asking it to read one word. The
 * server names Portuguese "pt", as the OpenAI-style API always has. */
static void probe_languages(sv_server *s)
{
    for (int i = 0; i < kokoro_lang_count() && s->n_langs < SV_MAX_LANGS; i++) {
        const char *code = kokoro_lang_code(i);
        char *ph = NULL;
        if (kokoro_phonemize(s->eng.text, "a", code, &ph, NULL, 0) == KOKORO_OK)
            s->langs[s->n_langs++] = strcmp(code, "pt-br") == 0 ? "pt" : code;
        free(ph);
    }
}

static void *load_main(void *arg)
{
    sv_server *s = arg;
    char err[512];
    double t = kk_now();
    sv_log(SV_LOG_INFO, "loading model %s and voices %s", s->cfg.model, s->cfg.voices);
    if (kokoro_model_load(s->cfg.model, &s->eng.model, err, sizeof err) != KOKORO_OK ||
        kokoro_voices_load(s->cfg.voices, &s->eng.voices, err, sizeof err) != KOKORO_OK ||
        kokoro_text_new(s->cfg.lexicon, &s->eng.text, err, sizeof err) != KOKORO_OK)
        goto fail;
    /* the flag (or the same variable, read again) replaces what kokoro_text_new loaded */
    if (s->cfg.user_lexicon &&
        kokoro_text_user_lexicon(s->eng.text, s->cfg.user_lexicon, err, sizeof err) != KOKORO_OK)
        goto fail;
    if (!kokoro_voices_get(s->eng.voices, s->cfg.default_voice)) {
        snprintf(err, sizeof err, "the default voice %s is not among the %d voices in %s",
                 s->cfg.default_voice, kokoro_voices_count(s->eng.voices), s->cfg.voices);
        goto fail;
    }
    probe_languages(s);
    int workers = s->cfg.workers ? s->cfg.workers : sv_usable_cpus();
    sv_pool *pool;
    if (sv_pool_start(&pool, &s->eng, workers, s->cfg.threads_per_worker, s->cfg.queue_depth,
                      err, sizeof err))
        goto fail;
    atomic_store(&s->pool, pool);
    atomic_store(&s->ready, 1);
    sv_log(SV_LOG_INFO, "ready in %.1f s: %d voices, %d languages, %d workers sharing %d cores "
           "(at most %d threads per job, %s kernels), queue %d", kk_now() - t,
           kokoro_voices_count(s->eng.voices), s->n_langs, workers, sv_usable_cpus(),
           s->cfg.threads_per_worker ? s->cfg.threads_per_worker : sv_usable_cpus(),
           kokoro_kernels(), s->cfg.queue_depth);
    return NULL;
fail:
    sv_log(SV_LOG_ERROR, "cannot start: %s", err);
    atomic_store(&s->load_failed, 1);
    kill(getpid(), SIGTERM);
    return NULL;
}

/* SIGTERM: not ready, stop listening, let in-flight requests finish within the bound, cancel
 * the rest, then close everything. */
static void drain(sv_server *s)
{
    atomic_store(&s->draining, 1);
    sv_log(SV_LOG_INFO, "draining: %d requests in flight, bound %d s", atomic_load(&s->active),
           s->cfg.drain_timeout);
    sv_http_quiesce();
    sv_wyoming_quiesce();
    double end = kk_now() + s->cfg.drain_timeout;
    while (atomic_load(&s->active) > 0 && kk_now() < end)
        usleep(20000);
    if (atomic_load(&s->active) > 0) {
        sv_log(SV_LOG_WARN, "drain bound passed; cancelling %d requests", atomic_load(&s->active));
        atomic_store(&s->abort_all, 1);
        double hard = kk_now() + 5;
        while (atomic_load(&s->active) > 0 && kk_now() < hard)
            usleep(20000);
    }
    sv_wyoming_stop(); /* before the pool: its connections hold jobs */
    sv_http_stop();
}

int kk_serve_main(int argc, char **argv)
{
    sv_server *s = &server;
    int rc = sv_config_parse(&s->cfg, argc, argv);
    if (rc)
        return rc > 0 ? 0 : 2;
    sv_log_level = s->cfg.log_level;
    s->started = kk_now();

    /* Signals go to sigwait below, never to a worker in the middle of a synthesis. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (sv_http_start(s))
        return 1;
    if (s->cfg.wyoming_port && sv_wyoming_start(s)) {
        sv_http_stop();
        return 1;
    }
    if (s->cfg.probe_port)
        sv_log(SV_LOG_INFO, "listening on %s:%d, probes on port %d", s->cfg.host, s->cfg.port,
               s->cfg.probe_port);
    else
        sv_log(SV_LOG_INFO, "listening on %s:%d", s->cfg.host, s->cfg.port);
    if (s->cfg.wyoming_port)
        sv_log(SV_LOG_INFO, "wyoming protocol on port %d", s->cfg.wyoming_port);
    pthread_t loader;
    if (pthread_create(&loader, NULL, load_main, s)) {
        sv_log(SV_LOG_ERROR, "cannot start the loader thread");
        sv_wyoming_stop();
        sv_http_stop();
        return 1;
    }
    int sig = 0;
    sigwait(&set, &sig);
    pthread_join(loader, NULL);
    int failed = atomic_load(&s->load_failed);
    if (!failed)
        sv_log(SV_LOG_INFO, "received %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    drain(s);
    sv_pool *pool = atomic_exchange(&s->pool, NULL);
    if (pool)
        sv_pool_stop(pool);
    if (s->eng.text)
        kokoro_text_free(s->eng.text);
    if (s->eng.voices)
        kokoro_voices_free(s->eng.voices);
    if (s->eng.model)
        kokoro_model_free(s->eng.model);
    sv_log(SV_LOG_INFO, "stopped");
    return failed ? 1 : 0;
}
