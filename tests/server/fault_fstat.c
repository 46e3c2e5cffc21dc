/* fault_fstat.c - an LD_PRELOAD shim for test_faults.py: fstat() fails (EIO) on any file whose
 * path contains "fstat-fails", after filling the struct with a directory's mode, as memory
 * left over from earlier use might hold. A caller that reads st_mode after a failed fstat then
 * acts on a directory that is not there. Every other call goes to the C library. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fstat(int fd, struct stat *st)
{
    static int (*real)(int, struct stat *);
    if (!real)
        real = (int (*)(int, struct stat *))dlsym(RTLD_NEXT, "fstat");
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n > 0) {
        path[n] = 0;
        if (strstr(path, "fstat-fails")) {
            memset(st, 0, sizeof *st);
            st->st_mode = S_IFDIR | 0755;
            errno = EIO;
            return -1;
        }
    }
    return real(fd, st);
}
