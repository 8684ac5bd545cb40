/* The renewal jitter (see lease/renew_jitter.h). A seam file: the test
 * switch exists only in klease_internal. */
#include "lease/renew_jitter.h"

#include <stdatomic.h>

#ifdef KLEASE_TEST_SEAMS
static atomic_bool jitter_off;

void klease__test_renew_jitter(bool on)
{
    atomic_store(&jitter_off, !on);
}
#endif

int64_t klease__renew_jitter_ns(int64_t grace_ns, int64_t margin_ns, uint64_t *rng)
{
#ifdef KLEASE_TEST_SEAMS
    if (atomic_load(&jitter_off))
        return 0;
#endif
    int64_t span = (grace_ns - margin_ns) / 2;
    if (span > grace_ns / 10)
        span = grace_ns / 10;
    if (span <= 0)
        return 0;
    uint64_t x = *rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *rng = x;
    return (int64_t)(x % (uint64_t)span);
}
