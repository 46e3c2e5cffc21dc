/* alloc.h - the one allocation list of the library: the buffers an owner frees together,
 * each with its size. The model keeps its weights in one (freed with the model, some
 * early once copied into another layout), and each synthesis its working buffers (freed
 * back to a mark as each stage ends, the sizes counting the working memory). It lives in a
 * kk_buf (core/buf.h). A zeroed kk_allocs is empty. */
#ifndef KK_ALLOC_H
#define KK_ALLOC_H

#include "core/buf.h"

#include <stddef.h>

typedef struct {
    kk_buf list; /* kk_alloc entries, in the order they were added */
} kk_allocs;

typedef struct {
    void *p;
    size_t size;
} kk_alloc;

/* Registers p (malloc'd, size bytes) with the list, which then frees it. Returns p, or NULL
 * when p is NULL or the list cannot grow (p is freed then). */
void *kk_allocs_add(kk_allocs *a, void *p, size_t size);
/* How many buffers the list holds: a mark for kk_allocs_pop. */
size_t kk_allocs_count(const kk_allocs *a);
/* Frees p before the rest, keeping the others in order. Returns its size, or 0 when p is not
 * in the list (nothing freed). */
size_t kk_allocs_release(kk_allocs *a, void *p);
/* Frees every buffer added since the count was `mark`, newest first. Returns their bytes. */
size_t kk_allocs_pop(kk_allocs *a, size_t mark);
/* Frees every buffer and the list itself. */
void kk_allocs_free(kk_allocs *a);

#endif
