/* Transport-independent helpers: responses and cancellation tokens. */
#include "kube/http.h"

#include "core/alloc.h"

void klease__http_response_clear(klease__http_response *resp)
{
    if (resp == NULL)
        return;
    klease__free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    resp->status = 0;
    resp->retry_after_ms = -1;
}

void klease__cancel_init(klease__cancel *c)
{
    pthread_mutex_init(&c->mu, NULL);
    atomic_init(&c->cancelled, false);
    c->wake = NULL;
    c->wake_arg = NULL;
}

void klease__cancel_destroy(klease__cancel *c)
{
    if (c != NULL)
        pthread_mutex_destroy(&c->mu);
}

void klease__cancel_fire(klease__cancel *c)
{
    pthread_mutex_lock(&c->mu);
    atomic_store(&c->cancelled, true);
    if (c->wake != NULL)
        c->wake(c->wake_arg);
    pthread_mutex_unlock(&c->mu);
}

bool klease__cancel_attach(klease__cancel *c, void (*wake)(void *), void *arg)
{
    if (c == NULL)
        return true;
    pthread_mutex_lock(&c->mu);
    bool ok = !atomic_load(&c->cancelled);
    if (ok) {
        c->wake = wake;
        c->wake_arg = arg;
    }
    pthread_mutex_unlock(&c->mu);
    return ok;
}

void klease__cancel_detach(klease__cancel *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->wake = NULL;
    c->wake_arg = NULL;
    pthread_mutex_unlock(&c->mu);
}
