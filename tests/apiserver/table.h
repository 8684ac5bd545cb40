/* A hash table keyed by (namespace, name), for the lease store, the replay
 * windows and the index of open watches: O(1) find, insert and delete at
 * 10,000 leases, where a list searched with strcmp under the one mutex was
 * most of the simulator's CPU. Listing sorts on demand (lists and watch
 * starts are rare next to writes). The table copies its keys and owns none
 * of its values. Owned by table.c; depends on nothing else here. */
#ifndef KLEASE_TESTS_KSIM_TABLE_H
#define KLEASE_TESTS_KSIM_TABLE_H

#include <stddef.h>

typedef struct ksim__table ksim__table;

/* The value of ns/name, or NULL (also for a NULL table). */
void *ksim__table_get(const ksim__table *t, const char *ns, const char *name);
/* Sets ns/name to `value` (not NULL), creating *t on first use; the value it
 * replaces is in *old (NULL if none; `old` may be NULL). -1 on OOM (nothing
 * changed). */
int ksim__table_put(ksim__table **t, const char *ns, const char *name, void *value, void **old);
/* Removes ns/name, returning its value (NULL if absent). */
void *ksim__table_remove(ksim__table *t, const char *ns, const char *name);
/* Number of entries (0 for a NULL table). */
size_t ksim__table_count(const ksim__table *t);
/* The values whose namespace is `ns` ("" or NULL: every namespace) sorted by
 * namespace then name (byte order), as a new array in *out (NULL when there
 * are none; the caller frees it). Returns how many, or -1 on OOM. */
long ksim__table_sorted(const ksim__table *t, const char *ns, void ***out);
/* Calls fn for every value of namespace `ns` ("" or NULL: all), in no
 * particular order; fn must not change the table. */
void ksim__table_each(const ksim__table *t, const char *ns, void (*fn)(void *value, void *arg),
                      void *arg);
/* Frees the table and its keys, and each value with free_value (unless
 * NULL). NULL-safe. */
void ksim__table_free(ksim__table *t, void (*free_value)(void *value));

#endif
