/* The engine's state, shared by engine/engine.c (the engine thread) and
 * engine/callbacks.c (the callback thread). */
#ifndef KLEASE_ENGINE_ENGINE_PRIVATE_H
#define KLEASE_ENGINE_ENGINE_PRIVATE_H

#include "engine/engine.h"

#include <pthread.h>

struct klease__engine {
    klease_client *client;
    klease__http_loop *loop;
    pthread_t thread;
    bool started;
    /* Engine thread only. */
    klease__timer **heap;
    size_t heap_len;
    size_t heap_cap;
    size_t heap_reserved;  /* timers that may be armed at once */
    void *ext;             /* klease__engine_ext */
    size_t in_flight;      /* turns taken */
    size_t turns_returned; /* given back, not yet passed on */
    bool giving;
    klease__turn *urgent, *urgent_tail; /* turns waiting */
    klease__turn *normal, *normal_tail;

    pthread_mutex_t mu; /* guards the fields below */
    bool stopping;
    klease__task *tasks;
    klease__task *tasks_tail;

    /* The callback thread (engine/callbacks.c). */
    pthread_t cb_thread;
    bool cb_started;
    pthread_mutex_t cb_mu; /* guards the queue and cb_stopping */
    pthread_cond_t cb_cond;
    bool cb_mu_ready;
    bool cb_stopping;
    klease__event *events;
    klease__event *events_tail;
};

klease_status klease__callbacks_start(klease__engine *e, klease_error *err);
/* Runs what is queued, then stops the callback thread. */
void klease__callbacks_stop(klease__engine *e);

#endif
