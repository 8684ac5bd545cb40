/* The manager's shared state under its state lock: accessors, the steps
 * that take answers into the cache, watch observations, counters. Called by
 * the blocking calls (lease/manager.c), the rounds (lease/manager_round.c)
 * and the engine's electors and shared watch. */
#include "lease/manager_private.h"

#include "api/client.h"

#include <pthread.h>

klease_client *klease__manager_client(const klease_manager *m)
{
    return m->client;
}

const klease__clock *klease__manager_clock(const klease_manager *m)
{
    return m->client->clock;
}

const klease__logger *klease__manager_log(const klease_manager *m)
{
    return &m->client->log;
}

klease__now klease__manager_now(const klease_manager *m)
{
    const klease__clock *c = klease__manager_clock(m);
    return (klease__now){.mono_ns = klease__mono_ns(c), .wall_ns = klease__wall_ns(c)};
}

/* ------------------------------------------------------------- the cache */

/* The one step that takes in a lease we just read or wrote: stores it in the
 * cache and derives the claim at one instant. */
void klease__manager_accept(klease_manager *m, const klease__lease *l, int64_t own_deadline,
                            uint64_t *counter)
{
    pthread_mutex_lock(&m->state_mu);
    klease__cache_accept(&m->cache, l, own_deadline, klease__manager_now(m));
    if (counter != NULL)
        (*counter)++;
    pthread_mutex_unlock(&m->state_mu);
}

void klease__manager_drop(klease_manager *m, bool distrust_own, uint64_t *counter)
{
    pthread_mutex_lock(&m->state_mu);
    klease__cache_forget(&m->cache, distrust_own);
    if (counter != NULL)
        (*counter)++;
    pthread_mutex_unlock(&m->state_mu);
}

void klease__manager_observe(klease_manager *m, const klease__lease *l)
{
    pthread_mutex_lock(&m->state_mu);
    klease__cache_observe(&m->cache, l, klease__manager_now(m));
    pthread_mutex_unlock(&m->state_mu);
}

void klease__manager_forget(klease_manager *m)
{
    klease__manager_drop(m, false, NULL);
}

void klease__manager_view_get(klease_manager *m, klease__manager_view *out)
{
    pthread_mutex_lock(&m->state_mu);
    out->has_lease = m->cache.has_lease;
    out->lease = m->cache.lease;
    out->has_claim = m->cache.has_claim;
    out->claim = m->cache.claim;
    pthread_mutex_unlock(&m->state_mu);
}

void klease__manager_count(klease_manager *m, uint64_t *counter)
{
    pthread_mutex_lock(&m->state_mu);
    (*counter)++;
    pthread_mutex_unlock(&m->state_mu);
}

klease_status klease__manager_count_failure(klease_manager *m, klease_status st)
{
    if (st == KLEASE_ECONFLICT)
        klease__manager_count(m, &m->stats.conflicts);
    else if (st != KLEASE_OK)
        klease__manager_count(m, &m->stats.errors);
    return st;
}

void klease_manager_get_stats(klease_manager *m, klease_manager_stats *out)
{
    if (m == NULL || out == NULL)
        return;
    pthread_mutex_lock(&m->state_mu);
    *out = m->stats;
    pthread_mutex_unlock(&m->state_mu);
}

const char *klease_manager_namespace(const klease_manager *m)
{
    return m != NULL ? m->ns : "";
}

const char *klease_manager_name(const klease_manager *m)
{
    return m != NULL ? m->name : "";
}
