/* Jittered exponential backoff: the base grows by `factor` per attempt up to
 * `max_ms`, and jitter only ever shortens a delay, so the cap is a hard
 * bound (the elector relies on it never to sleep past its deadline). */
#include "core/backoff.h"

#include <sys/random.h>
#include <time.h>

static uint64_t random_seed(void)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed || seed == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^ 0x9e3779b97f4a7c15u;
    }
    return seed == 0 ? 1 : seed;
}

/* xorshift64*: small, fast, good enough to spread retries apart. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Du;
}

void klease__backoff_init(klease__backoff *b, int64_t min_ms, int64_t max_ms, double factor,
                          double jitter, uint64_t seed)
{
    b->min_ms = min_ms < 0 ? 0 : min_ms;
    b->max_ms = max_ms < b->min_ms ? b->min_ms : max_ms;
    b->factor = factor >= 1.0 ? factor : 1.0;
    b->jitter = jitter < 0.0 ? 0.0 : (jitter > 1.0 ? 1.0 : jitter);
    b->rng = seed != 0 ? seed : random_seed();
    b->base_ms = b->min_ms;
}

void klease__backoff_reset(klease__backoff *b)
{
    b->base_ms = b->min_ms;
}

int64_t klease__backoff_next(klease__backoff *b)
{
    int64_t base = b->base_ms;
    /* 53 random bits give a uniform double in [0, 1). */
    double u = (double)(next_random(&b->rng) >> 11) * (1.0 / 9007199254740992.0);
    int64_t delay = base - (int64_t)((double)base * b->jitter * u);

    double grown = (double)base * b->factor;
    b->base_ms = grown >= (double)b->max_ms ? b->max_ms : (int64_t)grown;
    if (b->base_ms < b->min_ms)
        b->base_ms = b->min_ms;
    return delay;
}
