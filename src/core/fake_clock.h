/* A fake clock for tests: time moves only when a test advances it, and
 * advancing wakes every timed wait whose deadline has passed, at once.
 *
 * Test seam: fake_clock.c is built only into klease_internal (what tests,
 * fuzzers, benchmarks and the simulator link), never into the shipped
 * libklease (README.md, "Source layout", lists every seam). The only clock
 * a host can change is the wall clock, through the public
 * klease_client_options.wall_clock_ns hook. */
#ifndef KLEASE_CORE_FAKE_CLOCK_H
#define KLEASE_CORE_FAKE_CLOCK_H

#include "core/clock.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct klease__fake_clock klease__fake_clock;

/* NULL on allocation failure. */
klease__fake_clock *klease__fake_clock_new(int64_t mono_ns, int64_t wall_ns);
void klease__fake_clock_free(klease__fake_clock *fc);

/* The clock interface of this fake clock; valid until the fake clock is freed. */
const klease__clock *klease__fake_clock_get(klease__fake_clock *fc);

/* Moves both monotonic and wall time forward by `ns` and wakes the waits
 * whose deadline is now reached. */
void klease__fake_clock_advance(klease__fake_clock *fc, int64_t ns);

/* Sets wall time alone (a wall-clock step, as NTP might make). */
void klease__fake_clock_set_wall(klease__fake_clock *fc, int64_t wall_ns);

/* Number of threads currently blocked in a timed wait on this clock. */
size_t klease__fake_clock_sleepers(klease__fake_clock *fc);

/* Blocks until at least `n` threads are in a timed wait on this clock, or
 * `real_timeout_ms` of real time passes. Lets a test advance time only once a
 * background thread has gone to sleep. Returns true when reached. */
bool klease__fake_clock_await_sleepers(klease__fake_clock *fc, size_t n, int64_t real_timeout_ms);

/* The earliest deadline among current sleepers, or INT64_MAX when none. */
int64_t klease__fake_clock_next_deadline(klease__fake_clock *fc);

#endif
