/* When, inside the renew grace, an elector renews: leases acquired together
 * must not renew together forever. */
#ifndef KLEASE_LEASE_RENEW_JITTER_H
#define KLEASE_LEASE_RENEW_JITTER_H

#include <stdbool.h>
#include <stdint.h>

/* A delay drawn uniformly from [0, min((grace - margin) / 2, grace / 10)):
 * added to deadline - grace, the renewal still starts with at least half of
 * the time to the margin, and nine tenths of the grace, left for its attempts
 * and retries (100 ms of spread with the default 30 s / 1 s params, 1 s with
 * klease exec's 15 s / 10 s). `rng` is xorshift state (never 0). Each
 * renewal's new deadline moves by its own draw, so leases that start in step
 * drift apart within a few cycles. */
int64_t klease__renew_jitter_ns(int64_t grace_ns, int64_t margin_ns, uint64_t *rng);

#ifdef KLEASE_TEST_SEAMS
/* Test seam, only in klease_internal: turns the jitter off (0) so unit tests
 * with the fake clock renew exactly at deadline - grace. */
void klease__test_renew_jitter(bool on);
#endif

#endif
