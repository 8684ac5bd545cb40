/* One watch per namespace, shared by every follower of the client's engine
 * in that namespace (issue: N followed leases must not be N watches). The
 * hub watches the namespace's lease collection, filters events by name,
 * feeds each followed manager's cache, and tells a follower when what it
 * follows changed hands or ended. Without resourceVersion the server first
 * sends every lease as ADDED, so a (re)started watch never misses a change;
 * 410 Expired restarts it that way; bookmarks advance the version. When the
 * watch fails, its followers are told to poll and the hub retries with
 * backoff. Engine thread only. */
#ifndef KLEASE_LEASE_WATCH_HUB_H
#define KLEASE_LEASE_WATCH_HUB_H

#include "engine/engine.h"
#include "lease/codec.h"
#include "lease/manager.h"

typedef struct klease__hub klease__hub;

typedef struct klease__follower {
    struct klease__follower *next;
    struct klease__follower *prev;
    klease__hub *hub; /* NULL while not following */
    klease_manager *m;
    klease__lease followed; /* the lease as it was when following began */
    bool pending;           /* it changed: told after the event is handled */
    /* Called on the engine thread; the follower is no longer registered. */
    void (*changed)(void *arg); /* holder changed, vacated, deleted */
    void (*lost)(void *arg);    /* the watch failed: poll instead */
    void *arg;
} klease__follower;

/* Registers `f` (m, changed, lost, arg set) with its namespace's hub,
 * starting the watch if needed. False when the hub's watch is failing (or
 * out of memory): then poll. */
bool klease__hub_follow(klease__engine *eng, klease__follower *f);
/* Unregisters `f` (no-op when not registered); the last follower stops the
 * watch. */
void klease__hub_unfollow(klease__follower *f);

#endif
