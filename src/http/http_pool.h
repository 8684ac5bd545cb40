/* A bounded pool of libcurl handle pairs ("slots") for the transport.
 *
 * A slot is an easy handle plus the multi handle that runs it and owns its
 * connection cache. Sequential calls take the same slot (the free list is
 * LIFO) and so reuse its open connection; calls that overlap take more slots,
 * up to `max`, and beyond that wait for one to come back. */
#ifndef KLEASE_HTTP_HTTP_POOL_H
#define KLEASE_HTTP_HTTP_POOL_H

#include "http/http.h"

#include <curl/curl.h>

typedef struct klease__slot {
    struct klease__slot *next;
    CURL *easy;
    CURLM *multi;
    bool configured; /* the transport set the options common to every request */
} klease__slot;

typedef struct klease__slot_pool {
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t freed;
    klease__slot *free;
    size_t count; /* slots of this pool in existence, free or in use */
    size_t max;
} klease__slot_pool;

/* Returns 0 or an errno value. */
int klease__slot_pool_init(klease__slot_pool *p, size_t max);
/* Frees the free slots; every taken slot must have come back. */
void klease__slot_pool_destroy(klease__slot_pool *p);

/* A slot, waiting while `max` are taken. NULL with *st set to KLEASE_ETIMEDOUT
 * (none came back by `deadline`, system monotonic ns: the call's own
 * deadline), KLEASE_ECLOSED (`cancel` fired) or KLEASE_ENOMEM. */
klease__slot *klease__slot_pool_take(klease__slot_pool *p, int64_t deadline, klease__cancel *cancel,
                                     klease_status *st);
/* Returns a slot for reuse. */
void klease__slot_pool_put(klease__slot_pool *p, klease__slot *s);
/* Frees a taken slot that must not be reused (an allocation failed in it). */
void klease__slot_pool_discard(klease__slot_pool *p, klease__slot *s);

/* A slot outside any pool (a watch's own connection); NULL when out of memory. */
klease__slot *klease__slot_new(void);
void klease__slot_free(klease__slot *s);

#endif
