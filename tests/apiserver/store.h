/* The lease store: leases by namespace and name (table.c), the global
 * resourceVersion, and the fan-out of every accepted write to the watch
 * events and the history. Also the small values every writer needs (wall
 * seconds, uids, resourceVersion parsing). Owned by store.c. */
#ifndef KLEASE_TESTS_KSIM_STORE_H
#define KLEASE_TESTS_KSIM_STORE_H

#include "lease.h"
#include "ksim.h"

/* Who wrote, for the history: a user and a field manager (both may be ""). */
typedef struct writer {
    const char *identity;
    const char *field_manager;
} writer;

/* All with sim->mu held. */
lease *ksim__store_find(ksim *sim, const char *ns, const char *name);
/* The leases (each a `lease *`) of `ns` ("": every namespace) sorted by
 * namespace then name, the order of a real API server's lists within a
 * namespace, as a new array in *out (NULL when none; the caller frees it, not
 * the leases). Returns how many, or -1 on OOM. */
long ksim__store_sorted(ksim *sim, const char *ns, void ***out);
/* Commits `next` (a new lease or a modified clone of the stored one) with a
 * fresh resourceVersion: replaces/inserts it, emits the watch event and the
 * history entry. Takes ownership of `next`. -1 on OOM. */
int ksim__store_commit(ksim *sim, lease *next, ksim_op op, const writer *who, bool created);
/* Deletes the stored lease `l` (emits DELETED + history). -1 on OOM. */
int ksim__store_delete(ksim *sim, lease *l, const writer *who);
/* Frees every lease (at stop, and before a state file is loaded). */
void ksim__store_free_all(ksim *sim);

int64_t ksim__now_wall_s(void);
void ksim__random_uid(char out[37]);
/* A resourceVersion: digits only, no sign, no overflow. */
bool ksim__parse_rv(const char *s, uint64_t *out);

#endif
