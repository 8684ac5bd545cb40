/* The held fast path: klease_ensure_claimed() while we hold the lease outside
 * the renew grace (ns per call, allocations per call), and
 * klease_elector_is_leader() (ns per call). Both on a real lease held on the
 * simulator, with the real system clock.
 * Usage: bench_fastpath SIM_BINARY */
#include "bench_util.h"
#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>

#define CALLS 2000000
#define RUNS  7

static double median_ns_per_call(double per_call[RUNS])
{
    return bench_percentile(per_call, RUNS, 50);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_fastpath SIM_BINARY\n");
        return 2;
    }
    bench_sim sim;
    bench_sim_start(&sim, argv[1], NULL);
    klease_client *c = bench_client(&sim);
    klease_error err;
    klease_manager_options mo = KLEASE_MANAGER_OPTIONS_INIT;
    mo.create_if_missing = true;
    klease_manager *m = NULL;
    bench_check(klease_manager_init(&m, c, NULL, "fastpath", &mo, &err), &err, "manager_init");
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT; /* 30 s lease: no renewal during the run */
    klease_claim claim;
    bench_check(klease_ensure_claimed(m, "bench", &p, &claim, &err), &err, "acquire");

    klease_manager_stats before;
    klease_manager_get_stats(m, &before);
    double per_call[RUNS];
    uint64_t allocs = 0;
    for (int r = 0; r < RUNS; r++) {
        uint64_t a0 = klease__alloc_count();
        int64_t t0 = bench_now_ns();
        for (int i = 0; i < CALLS; i++) {
            if (klease_ensure_claimed(m, "bench", &p, &claim, &err) != KLEASE_OK) {
                fprintf(stderr, "fast path failed: %s\n", err.message);
                return 1;
            }
        }
        per_call[r] = (double)(bench_now_ns() - t0) / CALLS;
        allocs += klease__alloc_count() - a0;
    }
    klease_manager_stats stats;
    klease_manager_get_stats(m, &stats);
    bench_emit("ensure_claimed_fast_path",
               "\"calls\":%d,\"runs\":%d,\"ns_per_call_median\":%.1f,\"ns_per_call_min\":%.1f,"
               "\"allocations_per_call\":%.6f,\"api_calls_during_run\":%llu,"
               "\"target_ns\":100,\"met\":%s",
               CALLS, RUNS, median_ns_per_call(per_call), per_call[0],
               (double)allocs / ((double)CALLS * RUNS),
               (unsigned long long)(stats.api_calls - before.api_calls),
               median_ns_per_call(per_call) <= 100 && allocs == 0 ? "true" : "false");

    /* is_leader: an elector holding a second lease. */
    klease_manager *m2 = NULL;
    bench_check(klease_manager_init(&m2, c, NULL, "fastpath-elector", &mo, &err), &err, "init");
    klease_elector *e = NULL;
    bench_check(klease_spawn(&e, m2, "bench", &p, NULL, &err), &err, "spawn");
    for (int i = 0; i < 5000 && !klease_elector_is_leader(e); i++)
        bench_sleep_ms(1);
    if (!klease_elector_is_leader(e)) {
        fprintf(stderr, "the elector never led\n");
        return 1;
    }
    volatile int leading = 0;
    for (int r = 0; r < RUNS; r++) {
        int64_t t0 = bench_now_ns();
        for (int i = 0; i < CALLS * 5; i++)
            leading += klease_elector_is_leader(e);
        per_call[r] = (double)(bench_now_ns() - t0) / (CALLS * 5);
    }
    double med = median_ns_per_call(per_call);
    bench_emit("elector_is_leader",
               "\"calls\":%d,\"runs\":%d,\"ns_per_call_median\":%.1f,\"ns_per_call_min\":%.1f,"
               "\"all_true\":%s,\"target_ns\":20,\"met\":%s",
               CALLS * 5, RUNS, med, per_call[0], leading == CALLS * 5 * RUNS ? "true" : "false",
               med <= 20 ? "true" : "false");
    klease_elector_close(e, NULL);
    klease_manager_free(m2);
    bool vacated;
    klease_vacate(m, "bench", &vacated, NULL);
    klease_manager_free(m);
    klease_client_free(c);
    bench_sim_stop(&sim);
    return 0;
}
