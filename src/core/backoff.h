/* Jittered, capped exponential backoff. */
#ifndef KLEASE_CORE_BACKOFF_H
#define KLEASE_CORE_BACKOFF_H

#include <stdint.h>

typedef struct klease__backoff {
    int64_t min_ms;  /* first delay (before jitter) */
    int64_t max_ms;  /* no delay ever exceeds this */
    double factor;   /* growth per attempt, >= 1 */
    double jitter;   /* 0..1: a delay is drawn uniformly from [base*(1-jitter), base] */
    uint64_t rng;    /* xorshift state; never 0 */
    int64_t base_ms; /* base of the next delay */
} klease__backoff;

/* Sets up a backoff. Values are clamped into range (min >= 0, max >= min,
 * factor >= 1, 0 <= jitter <= 1). A seed of 0 picks a random seed; any other
 * seed makes the sequence of delays reproducible. */
void klease__backoff_init(klease__backoff *b, int64_t min_ms, int64_t max_ms, double factor,
                          double jitter, uint64_t seed);

/* The next delay in ms, then grows the base for the following one. */
int64_t klease__backoff_next(klease__backoff *b);

/* Starts again from the minimum delay (after a success). */
void klease__backoff_reset(klease__backoff *b);

#endif
