/* The callback thread: runs the events the engine queues, one at a time, in
 * the order they were queued. A callback that blocks delays the callbacks
 * after it, never the engine's requests and timers. */
#include "engine/engine_private.h"

#include "core/error.h"

#include <errno.h>
#include <string.h>

bool klease__engine_on_callback_thread(const klease__engine *e)
{
    return e->cb_started && pthread_equal(pthread_self(), e->cb_thread);
}

void klease__engine_deliver(klease__engine *e, klease__event *ev)
{
    ev->next = NULL;
    pthread_mutex_lock(&e->cb_mu);
    if (e->events_tail != NULL)
        e->events_tail->next = ev;
    else
        e->events = ev;
    e->events_tail = ev;
    pthread_cond_signal(&e->cb_cond);
    pthread_mutex_unlock(&e->cb_mu);
}

static void *callbacks_main(void *arg)
{
    klease__engine *e = arg;
    pthread_mutex_lock(&e->cb_mu);
    for (;;) {
        klease__event *ev = e->events;
        if (ev == NULL) {
            if (e->cb_stopping)
                break;
            pthread_cond_wait(&e->cb_cond, &e->cb_mu);
            continue;
        }
        e->events = ev->next;
        if (e->events == NULL)
            e->events_tail = NULL;
        pthread_mutex_unlock(&e->cb_mu);
        ev->run(ev); /* no engine lock held */
        pthread_mutex_lock(&e->cb_mu);
    }
    pthread_mutex_unlock(&e->cb_mu);
    return NULL;
}

klease_status klease__callbacks_start(klease__engine *e, klease_error *err)
{
    int rc = pthread_mutex_init(&e->cb_mu, NULL);
    if (rc == 0 && (rc = pthread_cond_init(&e->cb_cond, NULL)) != 0)
        pthread_mutex_destroy(&e->cb_mu);
    if (rc != 0)
        return klease__fail(err, KLEASE_ENOMEM, "cannot create the callback queue: %s",
                            strerror(rc));
    e->cb_mu_ready = true;
    if ((rc = pthread_create(&e->cb_thread, NULL, callbacks_main, e)) != 0)
        return klease__fail(err, rc == EAGAIN ? KLEASE_ENOMEM : KLEASE_EINVAL,
                            "cannot start the callback thread: %s", strerror(rc));
    e->cb_started = true;
    return KLEASE_OK;
}

void klease__callbacks_stop(klease__engine *e)
{
    if (!e->cb_mu_ready)
        return;
    if (e->cb_started) {
        pthread_mutex_lock(&e->cb_mu);
        e->cb_stopping = true;
        pthread_cond_signal(&e->cb_cond);
        pthread_mutex_unlock(&e->cb_mu);
        pthread_join(e->cb_thread, NULL);
    }
    pthread_cond_destroy(&e->cb_cond);
    pthread_mutex_destroy(&e->cb_mu);
}
