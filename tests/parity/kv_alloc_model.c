/*
 * kv_alloc_model.c: a malloc replacement for parity_kv_store whose malloc_usable_size is
 * a function of the request alone: glibc's size for a fresh heap chunk (the request
 * plus 8 rounded up to 16, at least 32, minus 8), which is what the Rust engine accounts
 * (kv_store::SizeModel::Glibc).
 *
 * Why: kv_store.c accounts an item as malloc_usable_size of its allocation, and glibc
 * sometimes hands out a chunk 16 bytes larger than the request needs (a free chunk whose
 * remainder would be too small to split) or page-rounds a large one (mmap): the same
 * request then costs a different amount depending on the allocator's history, which no
 * second engine can reproduce. With this replacement both engines account the same
 * deterministic size, so a difference in `bytes`, `accounted`, or in which item is
 * evicted when, is a real one. In kvd the history-dependent part remains a known source
 * of legitimate difference (docs/SERVER.md, "The Rust storage engine").
 *
 * Each block comes from glibc's own allocator (__libc_memalign) with a 16-byte header
 * before the user pointer: the raw pointer and the request. glibc supports replacing
 * malloc this way (its internal allocations then come here too). Not built under a
 * sanitizer, whose allocator already reports the request itself.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

void *__libc_memalign(size_t align, size_t n);
void __libc_free(void *p);

#define KV_AM_HEADER 16

static void *kv_am_alloc(size_t align, size_t n)
{
    if (align < KV_AM_HEADER) {
        align = KV_AM_HEADER;
    }
    if (n > SIZE_MAX - align) {
        errno = ENOMEM;
        return NULL;
    }
    char *raw = __libc_memalign(align, n + align);
    if (raw == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    char *user = raw + align;
    ((void **)user)[-2] = raw;
    ((size_t *)user)[-1] = n;
    return user;
}

static size_t kv_am_request(void *p)
{
    return ((size_t *)p)[-1];
}

void *malloc(size_t n)
{
    return kv_am_alloc(KV_AM_HEADER, n);
}

void free(void *p)
{
    if (p != NULL) {
        __libc_free(((void **)p)[-2]);
    }
}

void *calloc(size_t m, size_t n)
{
    if (n != 0 && m > SIZE_MAX / n) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = kv_am_alloc(KV_AM_HEADER, m * n);
    if (p != NULL) {
        memset(p, 0, m * n);
    }
    return p;
}

void *realloc(void *p, size_t n)
{
    if (p == NULL) {
        return malloc(n);
    }
    if (n == 0) {
        free(p);
        return NULL;
    }
    void *q = malloc(n);
    if (q == NULL) {
        return NULL;
    }
    size_t old = kv_am_request(p);
    memcpy(q, p, old < n ? old : n);
    free(p);
    return q;
}

void *aligned_alloc(size_t align, size_t n)
{
    return kv_am_alloc(align, n);
}

void *memalign(size_t align, size_t n)
{
    return kv_am_alloc(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0) {
        return EINVAL;
    }
    void *p = kv_am_alloc(align, n);
    if (p == NULL) {
        return ENOMEM;
    }
    *out = p;
    return 0;
}

void *valloc(size_t n)
{
    return kv_am_alloc(4096, n);
}

void *pvalloc(size_t n)
{
    return kv_am_alloc(4096, (n + 4095) & ~(size_t)4095);
}

size_t malloc_usable_size(void *p)
{
    if (p == NULL) {
        return 0;
    }
    size_t chunk = (kv_am_request(p) + 8 + 15) & ~(size_t)15;
    return (chunk < 32 ? 32 : chunk) - 8;
}
