/* Cancel tokens and call budgets. */
#include "core/budget.h"

#include "core/clock.h"

int klease__cancel_init(klease__cancel *c)
{
    atomic_init(&c->cancelled, false);
    c->wake = NULL;
    c->wake_arg = NULL;
    return pthread_mutex_init(&c->mu, NULL);
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

klease__budget klease__budget_start(int64_t limit_ms, klease__cancel *cancel)
{
    int64_t now = klease__mono_ns(klease__clock_system());
    return (klease__budget){
        .deadline_ns = limit_ms > 0 ? klease__add_sat(now, klease__ms_to_ns(limit_ms)) : INT64_MAX,
        .limit_ms = limit_ms > 0 ? limit_ms : 0,
        .cancel = cancel,
    };
}

int64_t klease__budget_left_ms(const klease__budget *b)
{
    if (b == NULL || b->deadline_ns == INT64_MAX)
        return INT64_MAX;
    int64_t left = b->deadline_ns - klease__mono_ns(klease__clock_system());
    return left > 0 ? left / KLEASE__NS_PER_MS : 0;
}
