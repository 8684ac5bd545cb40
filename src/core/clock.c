/* The system clock: CLOCK_BOOTTIME readings, CLOCK_MONOTONIC waits. */
#include "core/clock.h"

#include <errno.h>
#include <time.h>

/* pthread condition variables can only wait on CLOCK_MONOTONIC or
 * CLOCK_REALTIME. Readings use BOOTTIME; a wait converts its BOOTTIME
 * deadline into "time left" and waits that long on MONOTONIC. */
#ifdef CLOCK_BOOTTIME
#define READ_CLOCK CLOCK_BOOTTIME
#else
#define READ_CLOCK CLOCK_MONOTONIC
#endif

static int64_t read_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * KLEASE__NS_PER_S + ts.tv_nsec;
}

static int64_t system_mono_ns(const klease__clock *c)
{
    (void)c;
    return read_ns(READ_CLOCK);
}

static int64_t system_wall_ns(const klease__clock *c)
{
    (void)c;
    return read_ns(CLOCK_REALTIME);
}

static int system_timedwait(const klease__clock *c, pthread_cond_t *cond, pthread_mutex_t *mu,
                            int64_t deadline_mono_ns)
{
    int64_t left = deadline_mono_ns - system_mono_ns(c);
    if (left <= 0)
        return ETIMEDOUT;
    int64_t abs_ns = klease__add_sat(read_ns(CLOCK_MONOTONIC), left);
    struct timespec ts = {
        .tv_sec = (time_t)(abs_ns / KLEASE__NS_PER_S),
        .tv_nsec = (long)(abs_ns % KLEASE__NS_PER_S),
    };
    int rc = pthread_cond_timedwait(cond, mu, &ts);
    if (rc == ETIMEDOUT && system_mono_ns(c) < deadline_mono_ns)
        return 0; /* woke early by the BOOTTIME measure: let the caller re-check */
    return rc;
}

static const klease__clock system_clock = {
    .mono_ns = system_mono_ns,
    .wall_ns = system_wall_ns,
    .timedwait = system_timedwait,
    .ctx = NULL,
};

const klease__clock *klease__clock_system(void)
{
    return &system_clock;
}

bool klease__clock_mono_is_system(const klease__clock *c)
{
    return c->mono_ns == system_mono_ns;
}

int klease__cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    if (rc != 0)
        return rc;
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
    return rc;
}

void klease__sleep_until(const klease__clock *c, int64_t deadline_mono_ns)
{
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond;
    if (klease__cond_init(&cond) != 0) {
        /* Without a condition variable, fall back to plain sleeps. */
        for (int64_t now = klease__mono_ns(c); now < deadline_mono_ns; now = klease__mono_ns(c)) {
            int64_t left = deadline_mono_ns - now;
            struct timespec ts = {(time_t)(left / KLEASE__NS_PER_S),
                                  (long)(left % KLEASE__NS_PER_S)};
            nanosleep(&ts, NULL);
        }
        return;
    }
    pthread_mutex_lock(&mu);
    while (c->timedwait(c, &cond, &mu, deadline_mono_ns) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&mu);
    pthread_cond_destroy(&cond);
    pthread_mutex_destroy(&mu);
}
