/* The shared state's plain accessors (the public getters) and the waits that
 * latency faults, hung requests and watches need. Sleeps and hangs wait on
 * sim->cond, watches on their own waiter; ksim__wake_all() (at stop) cuts
 * every one of them short. */
#include "sim.h"

#include "core/clock.h"

#include <poll.h>

#define HANG_SLICE_NS (50 * KLEASE__NS_PER_MS)

uint16_t ksim_port(const ksim *sim)
{
    return sim->port;
}

const char *ksim_url(const ksim *sim)
{
    return sim->url;
}

const char *ksim_workdir(const ksim *sim)
{
    return sim->workdir;
}

const char *ksim_ca_pem(const ksim *sim)
{
    return sim->ca_pem;
}

const char *ksim_ca_path(const ksim *sim)
{
    return sim->ca_path;
}

const char *ksim_admin_token(const ksim *sim)
{
    return sim->admin_token;
}

void ksim_get_counters(ksim *sim, ksim_counters *out)
{
    pthread_mutex_lock(&sim->mu);
    *out = sim->counters;
    pthread_mutex_unlock(&sim->mu);
}

uint64_t ksim_resource_version(ksim *sim)
{
    pthread_mutex_lock(&sim->mu);
    uint64_t rv = sim->rv;
    pthread_mutex_unlock(&sim->mu);
    return rv;
}

void ksim__wake_all(ksim *sim)
{
    pthread_cond_broadcast(&sim->cond);
    for (ksim__waiter *w = sim->waiters; w; w = w->next)
        pthread_cond_signal(&w->cond);
}

void ksim__waiter_add(ksim *sim, ksim__waiter *w)
{
    w->prev = NULL;
    w->next = sim->waiters;
    if (sim->waiters)
        sim->waiters->prev = w;
    sim->waiters = w;
}

void ksim__waiter_remove(ksim *sim, ksim__waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else if (sim->waiters == w)
        sim->waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
}

void ksim__sleep_ms(ksim *sim, int64_t ms)
{
    const klease__clock *clk = klease__clock_system();
    int64_t until = klease__mono_ns(clk) + ms * KLEASE__NS_PER_MS;
    pthread_mutex_lock(&sim->mu);
    while (!sim->stopping && klease__mono_ns(clk) < until)
        clk->timedwait(clk, &sim->cond, &sim->mu, until);
    pthread_mutex_unlock(&sim->mu);
}

bool ksim__client_gone(int fd)
{
    if (fd < 0)
        return false;
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

void ksim__hang_until_gone(ksim *sim, int fd)
{
    const klease__clock *clk = klease__clock_system();
    pthread_mutex_lock(&sim->mu);
    while (!sim->stopping && !ksim__client_gone(fd))
        clk->timedwait(clk, &sim->cond, &sim->mu, klease__mono_ns(clk) + HANG_SLICE_NS);
    pthread_mutex_unlock(&sim->mu);
}
