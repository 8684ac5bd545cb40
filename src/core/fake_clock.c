/* Fake clock: deterministic time for tests, with timed waits that wake as
 * soon as the test advances time past their deadline. */
#include "core/fake_clock.h"

#include "core/alloc.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

typedef struct sleeper {
    struct sleeper *next;
    pthread_cond_t *cond;
    pthread_mutex_t *mu;
    int64_t deadline;
    bool woken;
} sleeper;

struct klease__fake_clock {
    klease__clock iface; /* first, so the interface pointer is the object */
    pthread_mutex_t lock;
    pthread_cond_t sleepers_changed; /* real-time condvar for await_sleepers */
    _Atomic int64_t mono;
    _Atomic int64_t wall;
    sleeper *sleepers; /* guarded by lock */
    size_t nsleeping;  /* sleepers not yet woken; guarded by lock */
};

static int64_t fake_mono_ns(const klease__clock *c)
{
    klease__fake_clock *fc = c->ctx;
    return atomic_load(&fc->mono);
}

static int64_t fake_wall_ns(const klease__clock *c)
{
    klease__fake_clock *fc = c->ctx;
    return atomic_load(&fc->wall);
}

static int fake_timedwait(const klease__clock *c, pthread_cond_t *cond, pthread_mutex_t *mu,
                          int64_t deadline)
{
    klease__fake_clock *fc = c->ctx;
    sleeper self = {.cond = cond, .mu = mu, .deadline = deadline, .woken = false};

    pthread_mutex_lock(&fc->lock);
    if (atomic_load(&fc->mono) >= deadline) {
        pthread_mutex_unlock(&fc->lock);
        return ETIMEDOUT;
    }
    self.next = fc->sleepers;
    fc->sleepers = &self;
    fc->nsleeping++;
    pthread_cond_broadcast(&fc->sleepers_changed);
    pthread_mutex_unlock(&fc->lock);

    /* `mu` is still held here, and advance() only signals `cond` while it
     * holds `mu`, so the wake-up cannot fall between the check and the wait. */
    pthread_cond_wait(cond, mu);

    pthread_mutex_lock(&fc->lock);
    for (sleeper **p = &fc->sleepers; *p != NULL; p = &(*p)->next) {
        if (*p == &self) {
            *p = self.next;
            break;
        }
    }
    if (!self.woken)
        fc->nsleeping--;
    bool timed_out = atomic_load(&fc->mono) >= deadline;
    pthread_cond_broadcast(&fc->sleepers_changed);
    pthread_mutex_unlock(&fc->lock);
    return timed_out ? ETIMEDOUT : 0;
}

klease__fake_clock *klease__fake_clock_new(int64_t mono_ns, int64_t wall_ns)
{
    klease__fake_clock *fc = klease__calloc(1, sizeof *fc);
    if (fc == NULL)
        return NULL;
    fc->iface.mono_ns = fake_mono_ns;
    fc->iface.wall_ns = fake_wall_ns;
    fc->iface.timedwait = fake_timedwait;
    fc->iface.ctx = fc;
    pthread_mutex_init(&fc->lock, NULL);
    if (klease__cond_init(&fc->sleepers_changed) != 0) {
        pthread_mutex_destroy(&fc->lock);
        klease__free(fc);
        return NULL;
    }
    atomic_store(&fc->mono, mono_ns);
    atomic_store(&fc->wall, wall_ns);
    return fc;
}

void klease__fake_clock_free(klease__fake_clock *fc)
{
    if (fc == NULL)
        return;
    pthread_cond_destroy(&fc->sleepers_changed);
    pthread_mutex_destroy(&fc->lock);
    klease__free(fc);
}

const klease__clock *klease__fake_clock_get(klease__fake_clock *fc)
{
    return &fc->iface;
}

void klease__fake_clock_advance(klease__fake_clock *fc, int64_t ns)
{
    pthread_mutex_lock(&fc->lock);
    int64_t now = atomic_load(&fc->mono) + ns;
    atomic_store(&fc->mono, now);
    atomic_fetch_add(&fc->wall, ns);
retry:
    for (sleeper *s = fc->sleepers; s != NULL; s = s->next) {
        if (s->woken || s->deadline > now)
            continue;
        /* Signal only while holding the sleeper's mutex (see fake_timedwait).
         * Never block on it while holding our lock: its owner may need our
         * lock to make progress, so back off and retry instead. */
        if (pthread_mutex_trylock(s->mu) != 0) {
            pthread_mutex_unlock(&fc->lock);
            sched_yield();
            pthread_mutex_lock(&fc->lock);
            goto retry;
        }
        pthread_cond_broadcast(s->cond);
        pthread_mutex_unlock(s->mu);
        s->woken = true;
        fc->nsleeping--;
    }
    pthread_cond_broadcast(&fc->sleepers_changed);
    pthread_mutex_unlock(&fc->lock);
}

void klease__fake_clock_set_wall(klease__fake_clock *fc, int64_t wall_ns)
{
    atomic_store(&fc->wall, wall_ns);
}

size_t klease__fake_clock_sleepers(klease__fake_clock *fc)
{
    pthread_mutex_lock(&fc->lock);
    size_t n = fc->nsleeping;
    pthread_mutex_unlock(&fc->lock);
    return n;
}

int64_t klease__fake_clock_next_deadline(klease__fake_clock *fc)
{
    int64_t next = INT64_MAX;
    pthread_mutex_lock(&fc->lock);
    for (sleeper *s = fc->sleepers; s != NULL; s = s->next) {
        if (!s->woken && s->deadline < next)
            next = s->deadline;
    }
    pthread_mutex_unlock(&fc->lock);
    return next;
}

bool klease__fake_clock_await_sleepers(klease__fake_clock *fc, size_t n, int64_t real_timeout_ms)
{
    const klease__clock *real = klease__clock_system();
    int64_t deadline = klease__add_sat(klease__mono_ns(real), klease__ms_to_ns(real_timeout_ms));
    pthread_mutex_lock(&fc->lock);
    while (fc->nsleeping < n) {
        if (real->timedwait(real, &fc->sleepers_changed, &fc->lock, deadline) == ETIMEDOUT &&
            fc->nsleeping < n)
            break;
    }
    bool reached = fc->nsleeping >= n;
    pthread_mutex_unlock(&fc->lock);
    return reached;
}
