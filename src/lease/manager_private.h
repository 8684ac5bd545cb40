/* The manager's state and the cache steps its calls share. Private to
 * lease/manager.c (lifecycle, blocking calls) and lease/manager_round.c
 * (what each call sends and how its answer changes the cache), and kept by
 * lease/manager_state.c. */
#ifndef KLEASE_LEASE_MANAGER_PRIVATE_H
#define KLEASE_LEASE_MANAGER_PRIVATE_H

#include "lease/lease_cache.h"
#include "lease/manager.h"

#include "http/http.h"

#include <pthread.h>

struct klease_manager {
    klease_client *client;
    char *ns;
    char *name;
    char *field_manager;
    int max_conflict_rounds;

    /* Serialises the blocking API calls, as the seed's async mutex does.
     * Held across I/O. The engine's rounds do not take it (its requests
     * never block a thread; the API server's CAS decides any race). */
    pthread_mutex_t io_mu;
    /* Guards everything below. Never held across I/O, so readers of the
     * cached claim never wait behind the network. */
    pthread_mutex_t state_mu;
    klease__lease_cache cache;
    klease_manager_stats stats;
};

/* One instant for the cache, read once per decision under state_mu. */
klease__now klease__manager_now(const klease_manager *m);

/* Takes in a lease we just read or wrote (see klease__cache_accept) and
 * counts `counter` (may be NULL). Takes the state lock. */
void klease__manager_accept(klease_manager *m, const klease__lease *l, int64_t own_deadline,
                            uint64_t *counter);
/* Stops trusting the cache; `distrust_own` also forgets our last write.
 * Counts `counter` (may be NULL). Takes the state lock. */
void klease__manager_drop(klease_manager *m, bool distrust_own, uint64_t *counter);
/* Counts one event under the state lock. */
void klease__manager_count(klease_manager *m, uint64_t *counter);
/* Counts a failed call by kind; returns st. */
klease_status klease__manager_count_failure(klease_manager *m, klease_status st);

#endif
