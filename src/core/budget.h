/* One call's time budget and its cancel token: a deadline on the system
 * monotonic clock that every stage of a call (waiting for a connection,
 * fetching credentials, the request, a retry) draws from, and a token another
 * thread fires to stop the call. Nothing here knows about HTTP or Kubernetes;
 * the transport (http/) and the credential fetchers (config/) both use it. */
#ifndef KLEASE_CORE_BUDGET_H
#define KLEASE_CORE_BUDGET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Lets another thread interrupt a call in flight (an elector closing while
 * the API server hangs). Once cancelled it stays cancelled. */
typedef struct klease__cancel {
    pthread_mutex_t mu;
    atomic_bool cancelled;
    void (*wake)(void *arg); /* set by the transport while a call is in flight */
    void *wake_arg;
} klease__cancel;

/* Returns 0 or an errno value (then nothing needs destroying). */
int klease__cancel_init(klease__cancel *c);
void klease__cancel_destroy(klease__cancel *c);
/* Marks the token cancelled and wakes the call in flight, if any. */
void klease__cancel_fire(klease__cancel *c);
static inline bool klease__cancel_fired(klease__cancel *c)
{
    return c != NULL && atomic_load(&c->cancelled);
}
/* Transport side: registers / unregisters the waker of the call in flight.
 * attach returns false (and registers nothing) when already cancelled. */
bool klease__cancel_attach(klease__cancel *c, void (*wake)(void *), void *arg);
void klease__cancel_detach(klease__cancel *c);

/* One call's time budget, shared by every stage of the call: waiting for a
 * pooled connection, fetching credentials (token file, exec plugin), the
 * request and the retry after a 401. An absolute deadline on the system
 * monotonic clock, the limit it was made from (so a timeout message can name
 * it) and the call's cancel token. */
typedef struct klease__budget {
    int64_t deadline_ns;    /* INT64_MAX: no limit */
    int64_t limit_ms;       /* the call's time limit, for messages */
    klease__cancel *cancel; /* may be NULL */
} klease__budget;

/* A budget of `limit_ms` from now (<= 0: no limit). */
klease__budget klease__budget_start(int64_t limit_ms, klease__cancel *cancel);
/* Whole milliseconds left; 0 when less than 1 ms is left (the caller then
 * fails with KLEASE_ETIMEDOUT rather than pass 0, "no limit", to libcurl).
 * INT64_MAX without a limit. A NULL budget has no limit. */
int64_t klease__budget_left_ms(const klease__budget *b);

#endif
