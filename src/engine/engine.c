/* The engine thread: posted tasks, due timers, then the loop (see
 * engine/engine.h). The callback thread is engine/callbacks.c. */
#include "engine/engine.h"

#include "engine/engine_private.h"

#include "api/client.h"
#include "core/alloc.h"
#include "core/error.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

klease_client *klease__engine_client(const klease__engine *e)
{
    return e->client;
}

klease__http_loop *klease__engine_loop(klease__engine *e)
{
    return e->loop;
}

void **klease__engine_ext(klease__engine *e)
{
    return &e->ext;
}

/* ----------------------------------------------------------- timer heap */

static void heap_place(klease__engine *e, size_t i, klease__timer *t)
{
    e->heap[i] = t;
    t->slot = i + 1;
}

static void sift_up(klease__engine *e, size_t i)
{
    klease__timer *t = e->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (e->heap[parent]->deadline <= t->deadline)
            break;
        heap_place(e, i, e->heap[parent]);
        i = parent;
    }
    heap_place(e, i, t);
}

static void sift_down(klease__engine *e, size_t i)
{
    klease__timer *t = e->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= e->heap_len)
            break;
        if (child + 1 < e->heap_len && e->heap[child + 1]->deadline < e->heap[child]->deadline)
            child++;
        if (t->deadline <= e->heap[child]->deadline)
            break;
        heap_place(e, i, e->heap[child]);
        i = child;
    }
    heap_place(e, i, t);
}

void klease__engine_timer_stop(klease__engine *e, klease__timer *t)
{
    if (t->slot == 0)
        return;
    size_t i = t->slot - 1;
    t->slot = 0;
    klease__timer *last = e->heap[--e->heap_len];
    if (i == e->heap_len)
        return;
    heap_place(e, i, last);
    sift_up(e, i);
    sift_down(e, last->slot - 1);
}

klease_status klease__engine_timers_reserve(klease__engine *e, size_t n, klease_error *err)
{
    if (e->heap_reserved + n > e->heap_cap) {
        size_t cap = e->heap_cap == 0 ? 64 : e->heap_cap;
        while (cap < e->heap_reserved + n)
            cap *= 2;
        klease__timer **grown = klease__realloc(e->heap, cap * sizeof *grown);
        if (grown == NULL)
            return klease__fail(err, KLEASE_ENOMEM, "out of memory");
        e->heap = grown;
        e->heap_cap = cap;
    }
    e->heap_reserved += n;
    return KLEASE_OK;
}

void klease__engine_timers_release(klease__engine *e, size_t n)
{
    e->heap_reserved -= n;
}

void klease__engine_timer_arm(klease__engine *e, klease__timer *t, int64_t deadline)
{
    klease__engine_timer_stop(e, t);
    /* Room is there: every timer's owner reserved its slot. */
    t->deadline = deadline;
    heap_place(e, e->heap_len++, t);
    sift_up(e, e->heap_len - 1);
}

/* ---------------------------------------------------------------- turns */

bool klease__engine_turn_take(klease__engine *e, klease__turn *t, bool urgent)
{
    if (e->in_flight < KLEASE__ENGINE_MAX_IN_FLIGHT) {
        e->in_flight++;
        return true;
    }
    klease__turn **head = urgent ? &e->urgent : &e->normal;
    klease__turn **tail = urgent ? &e->urgent_tail : &e->normal_tail;
    t->next = NULL;
    t->queued = true;
    if (*tail != NULL)
        (*tail)->next = t;
    else
        *head = t;
    *tail = t;
    return false;
}

static bool unlink_turn(klease__turn **head, klease__turn **tail, klease__turn *t)
{
    klease__turn *prev = NULL;
    for (klease__turn *p = *head; p != NULL; prev = p, p = p->next) {
        if (p != t)
            continue;
        if (prev != NULL)
            prev->next = p->next;
        else
            *head = p->next;
        if (*tail == p)
            *tail = prev;
        t->next = NULL;
        t->queued = false;
        return true;
    }
    return false;
}

void klease__engine_turn_cancel(klease__engine *e, klease__turn *t)
{
    if (t->queued && !unlink_turn(&e->urgent, &e->urgent_tail, t))
        unlink_turn(&e->normal, &e->normal_tail, t);
}

void klease__engine_turn_give(klease__engine *e)
{
    /* A turn passes straight to the next in line, whose start may end at
     * once and give it back: a loop rather than recursion, however many wait. */
    e->turns_returned++;
    if (e->giving)
        return;
    e->giving = true;
    while (e->turns_returned > 0) {
        e->turns_returned--;
        klease__turn *t = e->urgent != NULL ? e->urgent : e->normal;
        if (t == NULL) {
            e->in_flight--;
            continue;
        }
        klease__engine_turn_cancel(e, t);
        t->fn(t->arg);
    }
    e->giving = false;
}

/* ---------------------------------------------------------------- tasks */

void klease__engine_post(klease__engine *e, klease__task *t)
{
    pthread_mutex_lock(&e->mu);
    if (!t->queued) {
        t->queued = true;
        t->next = NULL;
        if (e->tasks_tail != NULL)
            e->tasks_tail->next = t;
        else
            e->tasks = t;
        e->tasks_tail = t;
    }
    pthread_mutex_unlock(&e->mu);
    klease__http_loop_wakeup(e->loop);
}

/* Runs the tasks queued so far; true when some ran. */
static bool run_tasks(klease__engine *e)
{
    pthread_mutex_lock(&e->mu);
    klease__task *t = e->tasks;
    e->tasks = e->tasks_tail = NULL;
    pthread_mutex_unlock(&e->mu);
    bool ran = t != NULL;
    while (t != NULL) {
        pthread_mutex_lock(&e->mu);
        klease__task *next = t->next;
        t->queued = false; /* before it runs: it may post itself again */
        pthread_mutex_unlock(&e->mu);
        t->fn(t->arg);
        t = next;
    }
    return ran;
}

/* Runs the timers due by now, at most as many as were armed when the pass
 * began: a timer that re-arms itself for now (a zero backoff after a failure
 * found before sending) waits for the next pass, so it cannot keep the
 * engine from its tasks and its loop. */
static void run_timers(klease__engine *e)
{
    int64_t now = klease__mono_ns(e->client->clock);
    size_t budget = e->heap_len;
    while (budget-- > 0 && e->heap_len > 0 && e->heap[0]->deadline <= now) {
        klease__timer *t = e->heap[0];
        klease__engine_timer_stop(e, t);
        t->fn(t->arg);
    }
}

static void *engine_main(void *arg)
{
    klease__engine *e = arg;
    for (;;) {
        pthread_mutex_lock(&e->mu);
        bool stopping = e->stopping;
        pthread_mutex_unlock(&e->mu);
        if (stopping)
            break;
        bool ran = run_tasks(e);
        run_timers(e);
        pthread_mutex_lock(&e->mu);
        bool pending = e->tasks != NULL;
        pthread_mutex_unlock(&e->mu);
        /* With work just done or queued, only collect what is ready. */
        int64_t deadline = e->heap_len > 0 ? e->heap[0]->deadline : INT64_MAX;
        if (pending || ran)
            deadline = INT64_MIN;
        klease__http_loop_run(e->loop, deadline);
    }
    return NULL;
}

/* ------------------------------------------------------------ lifecycle */

static void engine_free(klease__engine *e)
{
    if (e == NULL)
        return;
    if (e->started) {
        pthread_mutex_lock(&e->mu);
        e->stopping = true;
        pthread_mutex_unlock(&e->mu);
        klease__http_loop_wakeup(e->loop);
        pthread_join(e->thread, NULL);
    }
    klease__callbacks_stop(e);
    klease__http_loop_free(e->loop);
    pthread_mutex_destroy(&e->mu);
    klease__free(e->heap);
    klease__free(e);
}

static klease_status engine_new(klease_client *c, klease__engine **out, klease_error *err)
{
    klease__engine *e = klease__calloc(1, sizeof *e);
    if (e == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    e->client = c;
    int rc = pthread_mutex_init(&e->mu, NULL);
    if (rc != 0) {
        klease__free(e);
        return klease__fail(err, KLEASE_ENOMEM, "cannot create the engine's lock: %s",
                            strerror(rc));
    }
    klease_status st = klease__http_loop_new(c->transport, c->clock, &e->loop, err);
    if (st == KLEASE_OK)
        st = klease__callbacks_start(e, err);
    if (st == KLEASE_OK && (rc = pthread_create(&e->thread, NULL, engine_main, e)) != 0)
        st = klease__fail(err, rc == EAGAIN ? KLEASE_ENOMEM : KLEASE_EINVAL,
                          "cannot start the engine thread: %s", strerror(rc));
    if (st != KLEASE_OK) {
        engine_free(e);
        return st;
    }
    e->started = true;
    *out = e;
    return KLEASE_OK;
}

static void engine_stop_hook(struct klease__engine *e)
{
    engine_free(e);
}

klease_status klease__engine_of(klease_client *c, klease__engine **out, klease_error *err)
{
    klease__engine *e = atomic_load(&c->engine);
    if (e != NULL) {
        *out = e;
        return KLEASE_OK;
    }
    klease_status st = engine_new(c, &e, err);
    if (st != KLEASE_OK)
        return st;
    klease__engine *none = NULL;
    if (!atomic_compare_exchange_strong(&c->engine, &none, e)) {
        engine_free(e); /* another thread started one first: use theirs */
        e = none;
    } else {
        c->engine_free = engine_stop_hook;
    }
    *out = e;
    return KLEASE_OK;
}
