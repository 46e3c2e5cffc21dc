/* alloc.c - the allocation list (core/alloc.h). */
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

void *kk_allocs_add(kk_allocs *a, void *p, size_t size)
{
    if (!p)
        return NULL;
    kk_alloc e = {p, size};
    if (kk_buf_put(&a->list, &e, sizeof e)) {
        free(p);
        return NULL;
    }
    return p;
}

size_t kk_allocs_count(const kk_allocs *a) { return a->list.n / sizeof(kk_alloc); }

size_t kk_allocs_release(kk_allocs *a, void *p)
{
    kk_alloc *e = (kk_alloc *)a->list.p;
    size_t n = kk_allocs_count(a);
    for (size_t i = n; i-- > 0;)
        if (e[i].p == p) {
            size_t size = e[i].size;
            free(p);
            memmove(e + i, e + i + 1, (n - 1 - i) * sizeof *e);
            a->list.n -= sizeof *e;
            return size;
        }
    return 0;
}

size_t kk_allocs_pop(kk_allocs *a, size_t mark)
{
    kk_alloc *e = (kk_alloc *)a->list.p;
    size_t n = kk_allocs_count(a), bytes = 0;
    while (n > mark) {
        n--;
        free(e[n].p);
        bytes += e[n].size;
    }
    if (e)
        a->list.n = n * sizeof *e;
    return bytes;
}

void kk_allocs_free(kk_allocs *a)
{
    kk_allocs_pop(a, 0);
    kk_buf_free(&a->list);
}
