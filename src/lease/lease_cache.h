/* The manager's cached copy of the lease, and the time model that turns it
 * into a claim (lease/lease_cache.c states the rules and why they are safe). A
 * plain value: every function is pure over the cache and the instant `now`
 * it is given, takes no lock and reads no clock. The manager owns one and
 * guards it with its state lock. Owned by lease/lease_cache.c. */
#ifndef KLEASE_LEASE_LEASE_CACHE_H
#define KLEASE_LEASE_LEASE_CACHE_H

#include "lease/codec.h"

#include <stdbool.h>
#include <stdint.h>

/* One instant, read once from the manager's clock. */
typedef struct klease__now {
    int64_t mono_ns;
    int64_t wall_ns;
} klease__now;

typedef struct klease__lease_cache {
    int64_t skew_tolerance_ns; /* for someone else's claim (the wall rule) */
    klease__lease lease;       /* last copy seen (valid when has_lease) */
    bool has_lease;
    int64_t observed_at_mono; /* when lease.resource_version was first seen */
    bool has_claim;
    klease_claim claim;              /* derived from lease; ours carries the send-time deadline */
    char own_rv[KLEASE__RV_MAX + 1]; /* resourceVersion of our last successful write */
    int64_t own_deadline;            /* that write's send time + duration */
    char claimant[KLEASE_IDENTITY_MAX + 1]; /* the last claimant of ensure_claimed */
} klease__lease_cache;

/* An empty cache: no lease, no claim, no claimant. */
void klease__cache_init(klease__lease_cache *c, int64_t skew_tolerance_ns);

/* Accepts a lease we just read or wrote: stores it (a new resourceVersion
 * restarts the "unchanged since observed" clock) and derives the claim at
 * `now`. When the lease is the result of our own write, `own_deadline` is
 * that write's send time + duration (its resourceVersion is remembered, so
 * the claim ends exactly there); otherwise pass INT64_MIN. */
void klease__cache_accept(klease__lease_cache *c, const klease__lease *l, int64_t own_deadline,
                          klease__now now);

/* Accepts a copy seen elsewhere (a watch event), unless it is older than
 * what the cache holds. */
void klease__cache_observe(klease__lease_cache *c, const klease__lease *l, klease__now now);

/* Forgets the lease and its claim (deleted, or a write whose result we could
 * not read). `distrust_own` also forgets our last write, so a lease that
 * names us is judged again like anyone's. */
void klease__cache_forget(klease__lease_cache *c, bool distrust_own);

/* Records the claimant of ensure_claimed. A cached claim judged before we
 * knew it could be ours (a restart under the same identity) is judged again
 * at `now`, without the skew tolerance. */
void klease__cache_set_claimant(klease__lease_cache *c, const char *claimant, klease__now now);

/* Derives the claim again at `now` (it may have expired). */
void klease__cache_derive(klease__lease_cache *c, klease__now now);

/* Time left at `now_mono` on the cached claim when it names `claimant`;
 * 0 when there is none, it has run out, or it is someone else's. */
int64_t klease__cache_left_ns(const klease__lease_cache *c, const char *claimant, int64_t now_mono);

/* What klease_claimed() and klease_sync() report (see klease.h): a cached
 * claim that has run out by `now_mono` is no claim. */
void klease__cache_report(const klease__lease_cache *c, int64_t now_mono, klease_claim *out,
                          bool *has_claim);

#endif
