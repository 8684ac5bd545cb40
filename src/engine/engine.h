/* The engine: one thread per client that drives every elector of the client
 * without blocking (lease/elector.c), plus one thread that runs their
 * callbacks. It knows nothing about leases: it has
 *   - a loop (http/http_loop.h) on which every API request of every elector
 *     runs concurrently,
 *   - a timer heap (renewals, retries, follower deadlines), on the client's
 *     clock, so unit tests drive it with the fake clock,
 *   - tasks other threads post to it (spawn, close),
 *   - a callback queue, delivered in order on the callback thread, so a slow
 *     callback delays other callbacks but never a request or a timer.
 *
 * Threads: the engine thread runs every timer, task and loop callback.
 * Timers and the loop are touched only there; klease__engine_post and
 * klease__engine_deliver may be called from any thread. */
#ifndef KLEASE_ENGINE_ENGINE_H
#define KLEASE_ENGINE_ENGINE_H

#include "klease/klease.h"

#include "http/http_loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct klease__engine klease__engine;

/* A timer: embed it, set fn/arg once, then arm and stop it on the engine
 * thread. */
typedef struct klease__timer {
    int64_t deadline; /* monotonic ns on the client's clock */
    size_t slot;      /* heap index + 1; 0 while not armed */
    void (*fn)(void *arg);
    void *arg;
} klease__timer;

/* A task posted from any thread; runs once on the engine thread. Posting a
 * task that is already queued does nothing (it runs once). */
typedef struct klease__task {
    struct klease__task *next;
    bool queued;
    void (*fn)(void *arg);
    void *arg;
} klease__task;

/* A callback to run on the callback thread. `run` is called once, then the
 * engine forgets the event (run frees it if it must). */
typedef struct klease__event {
    struct klease__event *next;
    void (*run)(struct klease__event *ev);
} klease__event;

/* The client's engine, started on first use (its two threads with it) and
 * stopped by klease_client_free. */
klease_status klease__engine_of(klease_client *c, klease__engine **out, klease_error *err);

klease_client *klease__engine_client(const klease__engine *e);
klease__http_loop *klease__engine_loop(klease__engine *e);

/* Engine thread only. Every owner of a timer reserves its heap slot first
 * (so arming never allocates and cannot fail) and releases it when done. */
klease_status klease__engine_timers_reserve(klease__engine *e, size_t n, klease_error *err);
void klease__engine_timers_release(klease__engine *e, size_t n);
/* Engine thread only. Arming an armed timer moves it. */
void klease__engine_timer_arm(klease__engine *e, klease__timer *t, int64_t deadline);
void klease__engine_timer_stop(klease__engine *e, klease__timer *t);

/* Turns to send a request. At most KLEASE__ENGINE_MAX_IN_FLIGHT requests run
 * at once: 10,000 renewals due together must neither queue 10,000 transfers
 * inside libcurl (where their time limits run out while they wait for a
 * connection) nor hold 10,000 transfer handles. The rest wait here, urgent
 * ones (renewals, vacates: a lease we hold is at stake) before the others,
 * each kind first come, first served. Engine thread only. */
#define KLEASE__ENGINE_MAX_IN_FLIGHT 32

typedef struct klease__turn {
    struct klease__turn *next;
    bool queued;
    void (*fn)(void *arg); /* called when the turn comes (it is then taken) */
    void *arg;
} klease__turn;

/* True: the turn is taken now (fn is not called). False: `t` waits; fn is
 * called, from klease__engine_turn_give of another op, when it comes. */
bool klease__engine_turn_take(klease__engine *e, klease__turn *t, bool urgent);
/* Gives a taken turn back (the request ended), which may start a waiting one. */
void klease__engine_turn_give(klease__engine *e);
/* Stops `t` waiting (no-op when not waiting). */
void klease__engine_turn_cancel(klease__engine *e, klease__turn *t);

/* Any thread. */
void klease__engine_post(klease__engine *e, klease__task *t);
/* Any thread: queues `ev` for the callback thread (FIFO over all callers). */
void klease__engine_deliver(klease__engine *e, klease__event *ev);

/* Whether the calling thread is the engine's callback thread. */
bool klease__engine_on_callback_thread(const klease__engine *e);

/* Engine thread only: one pointer the layer above keeps per engine (the
 * lease layer's watch hubs). NULL at first; empty again before the client
 * is freed. */
void **klease__engine_ext(klease__engine *e);

#endif
