/* The elector's state, shared by lease/elector.c (the public calls and the
 * publication of changes, any thread) and lease/elector_run.c (what the
 * elector does, on its client's engine thread). */
#ifndef KLEASE_LEASE_ELECTOR_PRIVATE_H
#define KLEASE_LEASE_ELECTOR_PRIVATE_H

#include "core/backoff.h"
#include "core/budget.h"
#include "engine/engine.h"
#include "lease/manager.h"
#include "lease/manager_round.h"
#include "lease/watch_hub.h"

#include <pthread.h>
#include <stdatomic.h>

/* What the armed timer is for. */
typedef enum klease__wake_for {
    KLEASE__WAKE_RENEW,  /* our claim's renew time */
    KLEASE__WAKE_FOLLOW, /* the followed claim's deadline (a watch tells of changes) */
    KLEASE__WAKE_POLL,   /* read the followed lease again */
    KLEASE__WAKE_RETRY,  /* after a failure: retry_at, publishing a loss on the way */
} klease__wake_for;

typedef enum klease__round_kind {
    KLEASE__ROUND_KIND_CLAIM,
    KLEASE__ROUND_KIND_POLL,
    KLEASE__ROUND_KIND_VACATE,
} klease__round_kind;

/* One change for the callback thread. */
typedef struct klease__change_event {
    klease__event base;
    struct klease_elector *e;
    bool has;
    klease_claim claim;
    bool leading;
    klease_status final;
    bool spare; /* the elector's own, not allocated */
} klease__change_event;

struct klease_elector {
    klease_manager *m;
    klease__engine *eng;
    const klease__clock *clock;
    char claimant[KLEASE_IDENTITY_MAX + 1];
    klease_claim_params params;
    int64_t duration_s;
    int64_t grace_ns;
    int64_t margin_ns; /* leadership ends this long before the claim's deadline */
    klease_elector_options opts;
    klease__cancel cancel;      /* fired by close: ends the request in flight */
    klease__task kick;          /* start */
    klease__task close_task;    /* posted once, by close: stops and releases */
    klease__change_event spare; /* carries a change when no event can be allocated */

    /* Engine thread only. */
    bool started;
    bool stop_begun;
    bool finished;
    bool timer_reserved; /* holds one slot of the engine's timer heap */
    klease__timer timer;
    klease__wake_for wake;
    int64_t retry_at;
    klease__backoff backoff;
    uint64_t rng; /* renewal jitter */
    klease__round round;
    klease__round_kind round_kind;
    klease__http_op *op; /* the round's request in flight, or NULL */
    klease__turn turn;   /* waiting for a turn to send the round's request */
    bool has_turn;
    int64_t turn_asked; /* when the round's request asked for its turn */
    klease_claim round_claim;
    klease_error round_err;
    bool vacated;
    klease__follower follower;
    int64_t follow_deadline;
    klease_status fatal;
    klease_error fatal_err;

    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cond;
    bool closing;
    bool stopped;  /* the final change was published */
    bool released; /* the engine is done with the elector */
    bool muted;    /* closed from a callback: drop its remaining callbacks */
    bool free_when_drained;
    unsigned queued_events; /* changes queued for the callback thread */
    bool spare_queued;
    unsigned waiters; /* threads inside wait_change; close waits for them to leave */
    uint64_t version;
    bool has_claim;
    bool leading;
    klease_claim claim;
    klease_status status; /* last failure while retrying, or the fatal one */
    klease_error error;
    klease_status final_status;
    klease_error final_error;

    _Atomic int64_t leader_deadline; /* monotonic ns (claim deadline - margin); 0: not leading */
    bool system_clock;               /* read the clock inline in is_leader */
};

/* lease/elector.c: publishes `claim` (NULL: unheld) if it changes what
 * readers see, and queues the callback. `final` != KLEASE_OK marks the last
 * change. Any thread. */
void klease__elector_publish(klease_elector *e, const klease_claim *claim, klease_status final);
/* Publishes the end of our leadership once its margin has begun, or at once
 * when `now` is set (before a vacate). */
void klease__elector_publish_loss(klease_elector *e, bool now);
/* Records the last failure (KLEASE_OK: healthy again). */
void klease__elector_record(klease_elector *e, klease_status st, const klease_error *err);

/* lease/elector_run.c: the kick task (start) and the close task, on the
 * engine thread. */
void klease__elector_on_kick(void *arg);
void klease__elector_on_close(void *arg);
void klease__elector_on_timer(void *arg);
void klease__elector_on_turn(void *arg);

#endif
