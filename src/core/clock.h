/* Internal clock interface: monotonic and wall time plus timed waits, behind
 * one small table so tests can substitute a fake clock (core/fake_clock.h).
 *
 * All times are nanoseconds as int64_t. Monotonic time is CLOCK_BOOTTIME where
 * the system has it (it keeps counting through suspend, so a lease deadline is
 * never stretched by a sleeping laptop or VM); wall time is Unix epoch time and
 * is only ever used to write and read renewTime/acquireTime. */
#ifndef KLEASE_CORE_CLOCK_H
#define KLEASE_CORE_CLOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define KLEASE__NS_PER_MS INT64_C(1000000)
#define KLEASE__NS_PER_S  INT64_C(1000000000)

typedef struct klease__clock klease__clock;
struct klease__clock {
    int64_t (*mono_ns)(const klease__clock *c);
    int64_t (*wall_ns)(const klease__clock *c);
    /* Like pthread_cond_timedwait with `mu` held, until `deadline_mono_ns` on
     * this clock's monotonic time. Returns 0 when woken (possibly spuriously)
     * or ETIMEDOUT once the deadline has passed. `cond` must come from
     * klease__cond_init. */
    int (*timedwait)(const klease__clock *c, pthread_cond_t *cond, pthread_mutex_t *mu,
                     int64_t deadline_mono_ns);
    void *ctx;
};

/* The real system clock. Never NULL, never freed. */
const klease__clock *klease__clock_system(void);

/* True when `c` reads the real monotonic clock (whatever its wall clock), so
 * a hot path may call klease__mono_ns_system() directly. */
bool klease__clock_mono_is_system(const klease__clock *c);

/* The system's monotonic reading without the indirect calls: for hot paths
 * (klease_elector_is_leader), where the clock read is most of the cost. */
static inline int64_t klease__mono_ns_system(void)
{
    struct timespec ts;
#ifdef CLOCK_BOOTTIME
    clock_gettime(CLOCK_BOOTTIME, &ts);
#else
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
    return (int64_t)ts.tv_sec * KLEASE__NS_PER_S + ts.tv_nsec;
}

/* Initialises a condition variable suitable for clock->timedwait. Returns 0 or
 * an errno value. */
int klease__cond_init(pthread_cond_t *cond);

static inline int64_t klease__mono_ns(const klease__clock *c)
{
    return c->mono_ns(c);
}

static inline int64_t klease__wall_ns(const klease__clock *c)
{
    return c->wall_ns(c);
}

/* Sleeps until the monotonic deadline on clock `c`. */
void klease__sleep_until(const klease__clock *c, int64_t deadline_mono_ns);

/* Saturating a + b for deadlines, so "forever" never wraps around. */
static inline int64_t klease__add_sat(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

/* Saturating a * unit for a unit conversion (unit > 0): durations from users
 * and from the wire can be anything an int64 holds, and a wrapped product
 * turns "forever" into "already over" (or a stranger's claim into a free
 * lease). Every ms->ns and s->ns conversion goes through these. */
static inline int64_t klease__mul_sat(int64_t a, int64_t unit)
{
    if (a > INT64_MAX / unit)
        return INT64_MAX;
    if (a < INT64_MIN / unit)
        return INT64_MIN;
    return a * unit;
}

static inline int64_t klease__ms_to_ns(int64_t ms)
{
    return klease__mul_sat(ms, KLEASE__NS_PER_MS);
}

static inline int64_t klease__s_to_ns(int64_t s)
{
    return klease__mul_sat(s, KLEASE__NS_PER_S);
}

#endif
