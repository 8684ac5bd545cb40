/* Internal allocation hooks. Every allocation in the library goes through
 * these so tests can count allocations and make the Nth one fail (cJSON's own
 * allocations do not: see core/json.h). */
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

#ifdef KLEASE_TEST_SEAMS
/* Test seam, only in the klease_internal library that tests link (built with
 * KLEASE_TEST_SEAMS); the shipped library has none of these.
 * After `n` more successful allocations, every allocation fails
 * (n = 0 fails the very next one). A negative n turns the switch off. The
 * switch is process-wide and atomic; production code never sets it. */
void klease__alloc_fail_after(long n);
/* Number of allocations attempted (successful or failed) since start. */
uint64_t klease__alloc_count(void);
/* Number of allocations that the switch made fail since start. */
uint64_t klease__alloc_failed_count(void);
#endif

#endif
