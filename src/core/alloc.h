/* Internal allocation hooks. Every allocation in the library goes through
 * these so tests can count allocations and make the Nth one fail. */
#ifndef KLEASE_CORE_ALLOC_H
#define KLEASE_CORE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *klease__malloc(size_t size);
void *klease__calloc(size_t count, size_t size);
void *klease__realloc(void *ptr, size_t size);
void klease__free(void *ptr);
/* NULL in, NULL out; NULL on allocation failure. */
char *klease__strdup(const char *s);
char *klease__strndup(const char *s, size_t n);

/* Test switch: after `n` more successful allocations, every allocation fails
 * (n = 0 fails the very next one). A negative n turns the switch off. The
 * switch is process-wide and atomic; production code never sets it. */
void klease__alloc_fail_after(long n);
/* Number of allocations attempted (successful or failed) since start. */
uint64_t klease__alloc_count(void);
/* Number of allocations that the switch made fail since start. */
uint64_t klease__alloc_failed_count(void);

#endif
