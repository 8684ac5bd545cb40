/* Allocation hooks. The fault-injection switch is a test seam: it is
 * compiled in only with KLEASE_TEST_SEAMS (the klease_internal library that
 * tests link), so the shipped library pays no atomic operation per allocation
 * and carries no process-wide switch. */
#include "core/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifdef KLEASE_TEST_SEAMS
#include <stdatomic.h>

/* -1: off. Otherwise the number of allocations still allowed to succeed. */
static atomic_long fail_countdown = -1;
static atomic_uint_fast64_t alloc_count;
static atomic_uint_fast64_t failed_count;

void klease__alloc_fail_after(long n)
{
    atomic_store(&fail_countdown, n < 0 ? -1 : n);
}

uint64_t klease__alloc_count(void)
{
    return atomic_load_explicit(&alloc_count, memory_order_relaxed);
}

uint64_t klease__alloc_failed_count(void)
{
    return atomic_load_explicit(&failed_count, memory_order_relaxed);
}

/* True when this allocation must fail. Once the countdown reaches zero it
 * stays there, so every later allocation fails too until the switch is reset. */
static int should_fail(void)
{
    /* A real malloc sets errno on failure; so does an injected one, so
     * callers that rely on errno (core/json.c) see the same thing. */
    atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed);
    long left = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    while (left >= 0) {
        if (left == 0) {
            atomic_fetch_add_explicit(&failed_count, 1, memory_order_relaxed);
            errno = ENOMEM;
            return 1;
        }
        if (atomic_compare_exchange_weak(&fail_countdown, &left, left - 1))
            return 0;
    }
    return 0;
}
#else
static int should_fail(void)
{
    return 0;
}
#endif

void *klease__malloc(size_t size)
{
    if (should_fail())
        return NULL;
    return malloc(size == 0 ? 1 : size);
}

void *klease__calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    if (count == 0 || size == 0)
        count = size = 1;
    return calloc(count, size);
}

void *klease__realloc(void *ptr, size_t size)
{
    if (should_fail())
        return NULL;
    return realloc(ptr, size == 0 ? 1 : size);
}

void klease__free(void *ptr)
{
    free(ptr);
}

char *klease__strndup(const char *s, size_t n)
{
    if (s == NULL)
        return NULL;
    size_t len = strnlen(s, n);
    char *copy = klease__malloc(len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

char *klease__strdup(const char *s)
{
    return s == NULL ? NULL : klease__strndup(s, strlen(s));
}
