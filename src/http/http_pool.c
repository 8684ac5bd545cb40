/* The transport's bounded pool of libcurl handles. A burst of calls (a
 * thousand electors renewing at once) waits for a free slot instead of
 * opening a thousand connections and TLS handshakes; the wait counts against
 * the call's own time limit and ends early when the call is cancelled. */
#include "http/http_pool.h"

#include "core/alloc.h"
#include "core/clock.h"

#include <errno.h>

klease__slot *klease__slot_new(void)
{
    klease__slot *s = klease__calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->easy = curl_easy_init();
    s->multi = curl_multi_init();
    if (s->easy == NULL || s->multi == NULL) {
        klease__slot_free(s);
        return NULL;
    }
    return s;
}

void klease__slot_free(klease__slot *s)
{
    if (s == NULL)
        return;
    if (s->multi != NULL)
        curl_multi_cleanup(s->multi);
    if (s->easy != NULL)
        curl_easy_cleanup(s->easy);
    klease__free(s);
}

int klease__slot_pool_init(klease__slot_pool *p, size_t max)
{
    *p = (klease__slot_pool){.max = max > 0 ? max : 1};
    int rc = klease__cond_init(&p->freed);
    if (rc == 0 && (rc = pthread_mutex_init(&p->mu, NULL)) != 0)
        pthread_cond_destroy(&p->freed);
    return rc;
}

void klease__slot_pool_destroy(klease__slot_pool *p)
{
    while (p->free != NULL) {
        klease__slot *s = p->free;
        p->free = s->next;
        klease__slot_free(s);
    }
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->mu);
}

static void wake_waiters(void *arg)
{
    klease__slot_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->freed);
    pthread_mutex_unlock(&p->mu);
}

klease__slot *klease__slot_pool_take(klease__slot_pool *p, int64_t deadline, klease__cancel *cancel,
                                     klease_status *st)
{
    const klease__clock *c = klease__clock_system();
    bool attached = false;
    klease__slot *s = NULL;
    *st = KLEASE_OK;
    pthread_mutex_lock(&p->mu);
    while (p->free == NULL && p->count >= p->max) {
        if (!attached) {
            /* Attach without holding our lock: the waker takes it. */
            pthread_mutex_unlock(&p->mu);
            attached = klease__cancel_attach(cancel, wake_waiters, p);
            pthread_mutex_lock(&p->mu);
            if (!attached) {
                *st = KLEASE_ECLOSED;
                break;
            }
            continue;
        }
        if (klease__cancel_fired(cancel)) {
            *st = KLEASE_ECLOSED;
            break;
        }
        if (c->timedwait(c, &p->freed, &p->mu, deadline) == ETIMEDOUT && p->free == NULL) {
            *st = KLEASE_ETIMEDOUT;
            break;
        }
    }
    if (*st == KLEASE_OK) {
        s = p->free;
        if (s != NULL)
            p->free = s->next;
        else
            p->count++; /* reserve a place for the slot made below */
    }
    pthread_mutex_unlock(&p->mu);
    if (attached)
        klease__cancel_detach(cancel);
    if (*st == KLEASE_OK && s == NULL && (s = klease__slot_new()) == NULL) {
        pthread_mutex_lock(&p->mu);
        p->count--;
        pthread_cond_signal(&p->freed);
        pthread_mutex_unlock(&p->mu);
        *st = KLEASE_ENOMEM;
    }
    return s;
}

void klease__slot_pool_put(klease__slot_pool *p, klease__slot *s)
{
    pthread_mutex_lock(&p->mu);
    s->next = p->free;
    p->free = s;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
}

void klease__slot_pool_discard(klease__slot_pool *p, klease__slot *s)
{
    klease__slot_free(s);
    pthread_mutex_lock(&p->mu);
    p->count--;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
}
