/* web.c - serves the web page's static files from the configured folder under /web, refusing
 * anything that could leave that folder (dot segments, symlinks out, non-regular files). */
#include "server/handler.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *ext, *mime;
} mimes[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".wasm", "application/wasm"},
    {".woff2", "font/woff2"},
};

static const char *mime_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof mimes / sizeof *mimes; i++)
        if (strcmp(dot, mimes[i].ext) == 0)
            return mimes[i].mime;
    return "application/octet-stream";
}

/* Only plain relative paths: no empty, "." or ".." segments, no hidden files, no backslashes. */
static int safe_relative(const char *rel)
{
    if (strlen(rel) > 512)
        return 0;
    const char *seg = rel;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0 && end)
            return 0;
        if (n > 0 && seg[0] == '.')
            return 0;
        for (size_t i = 0; i < n; i++)
            if (seg[i] == '\\' || (unsigned char)seg[i] < 0x20)
                return 0;
        if (!end)
            return 1;
        seg = end + 1;
    }
}

static sv_resp not_found(sv_req *r, const char *why)
{
    sv_err e = {0};
    sv_fail(&e, 404, "NotFound", NULL, "%s", why);
    return sv_resp_error(&e);
}

sv_resp sv_h_web(sv_req *r)
{
    const char *rest = r->path + strlen("/web");
    if (*rest == 0)
        return sv_resp_redirect("/web/");
    if (*rest != '/')
        return not_found(r, "no such page");
    rest++;
    if (!safe_relative(*rest ? rest : "index.html"))
        return not_found(r, "no such file under /web");

    char root[PATH_MAX], want[PATH_MAX], real[PATH_MAX];
    if (!realpath(r->srv->cfg.web_dir, root))
        return not_found(r, "no web page is installed (the web folder is missing)");
    /* A folder (the root, or a path ending in /) means its index.html. */
    int n = snprintf(want, sizeof want, "%s/%s%s", root, rest,
                     *rest == 0 || rest[strlen(rest) - 1] == '/' ? "index.html" : "");
    if (n < 0 || (size_t)n >= sizeof want || !realpath(want, real))
        return not_found(r, "no such file under /web");
    size_t rl = strlen(root);
    if (strncmp(real, root, rl) != 0 || real[rl] != '/')
        return not_found(r, "no such file under /web");
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return not_found(r, "no such file under /web");
    struct stat st;
    if (fstat(fd, &st)) { /* st holds nothing to read */
        close(fd);
        return not_found(r, "no such file under /web");
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        char loc[PATH_MAX];
        snprintf(loc, sizeof loc, "%s/", r->path);
        return sv_resp_redirect(loc);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return not_found(r, "no such file under /web");
    }
    return sv_resp_file(fd, (size_t)st.st_size, mime_of(real));
}
