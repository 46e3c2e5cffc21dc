/* config.h - the server's settings, from command-line flags and KOKORO_* environment variables. */
#ifndef SV_CONFIG_H
#define SV_CONFIG_H

#include <stddef.h>

typedef struct {
    const char *host;          /* address to listen on */
    int port;
    int probe_port;            /* /health, /ready, /metrics on their own listener; 0 = none */
    int wyoming_port;          /* the Wyoming protocol (Home Assistant); 0 = none */
    const char *model;         /* path of the ONNX weights */
    const char *voices;        /* folder (or archive) of voices */
    const char *lexicon;       /* text front-end data folder, NULL = library default */
    const char *default_voice;
    const char *user_lexicon;  /* JSON word -> phonemes, NULL = none */
    const char *web_dir;       /* static files served under /web */
    const char *api_key;       /* NULL = no authentication */
    const char *cors_origins;  /* NULL = no CORS headers; "*" or a comma-separated list */
    int workers;               /* inference workers, 0 = one per usable CPU */
    int threads_per_worker;    /* most threads per synthesis, 0 = usable CPUs */
    int job_timeout;           /* seconds a job may compute */
    int max_audio_s;           /* seconds of audio per request (or batch) */
    int max_frames;            /* frames per forward pass: a worker's memory bound */
    int batch_max_chars;       /* characters of a whole batch */
    int queue_depth;           /* requests that may wait for a worker */
    size_t max_body;           /* bytes of a request body */
    int max_text;              /* characters of one text */
    size_t max_header;         /* bytes of the request line plus headers */
    int idle_timeout;          /* seconds a connection may stay silent */
    int request_timeout;       /* seconds to receive a whole request (head and body) */
    int max_connections;
    int max_per_ip;            /* connections per client address, 0 = no limit */
    int drain_timeout;         /* seconds in-flight work may take after SIGTERM */
    int log_level;
} sv_config;

/* Fills cfg from the environment, then from argv (argv[0] is "serve"). Returns 0 to go on,
 * 1 when --help was printed, -1 on a bad value (message printed to stderr). */
int sv_config_parse(sv_config *cfg, int argc, char **argv);

#endif
