/* server.h - the HTTP service: `kokoro serve`. */
#ifndef KK_SERVER_H
#define KK_SERVER_H

/* Runs the server until SIGTERM or SIGINT; argv[0] is "serve". Returns the process exit code:
 * 0 after a clean drain (or --help), 1 when the model cannot be loaded or the port bound,
 * 2 for bad options. */
int kk_serve_main(int argc, char **argv);

#endif
