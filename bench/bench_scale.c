/* Scale: N leases held by one process through one client, one elector each,
 * against the simulator binary. After all are held, samples every lease's
 * is_leader for a window covering at least two renewals of each, and reports
 * whether every lease stayed held (renewed on time), the process's threads,
 * resident memory and CPU per second of holding, and the connections the
 * simulator accepted.
 * Usage: bench_scale SIM_BINARY [LEASES] [WINDOW_S] [DURATION_S] */
#include "bench_util.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Atomic long losses;

static void on_change(void *user, const klease_claim *claim, bool leading, klease_status status)
{
    (void)claim;
    (void)status;
    _Atomic bool *was = user;
    if (atomic_load(was) && !leading)
        atomic_fetch_add(&losses, 1);
    atomic_store(was, leading);
}

/* The simulator's counters, read through its control endpoint with curl. */
static long sim_connections(const bench_sim *s)
{
    char cmd[1400], line[512];
    snprintf(cmd, sizeof cmd,
             "curl -sS --cacert '%s/ca.crt' -H 'Authorization: Bearer bench-token' "
             "https://127.0.0.1:%d/_ksim/counters",
             s->workdir, s->port);
    FILE *p = popen(cmd, "r");
    long n = -1;
    if (p != NULL && fgets(line, sizeof line, p) != NULL) {
        char *k = strstr(line, "\"connections\":");
        if (k != NULL)
            n = strtol(k + 14, NULL, 10);
    }
    if (p != NULL)
        pclose(p);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_scale SIM_BINARY [LEASES] [WINDOW_S] [DURATION_S]\n");
        return 2;
    }
    int n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 1000;
    int window_s = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 65;
    int duration_s = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 30;
    const char *extra[] = {"--token", "bench-token:bench-admin", NULL};
    bench_sim sim;
    bench_sim_start(&sim, argv[1], extra);
    klease_client *c = bench_client(&sim);

    klease_manager **m = calloc((size_t)n, sizeof *m);
    klease_elector **e = calloc((size_t)n, sizeof *e);
    _Atomic bool *leading = calloc((size_t)n, sizeof *leading);
    klease_manager_options mo = KLEASE_MANAGER_OPTIONS_INIT;
    mo.create_if_missing = true;
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    p.lease_duration_ms = (int64_t)duration_s * 1000;
    klease_error err;
    int64_t t_start = bench_now_ns();
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "scale-%04d", i);
        bench_check(klease_manager_init(&m[i], c, NULL, name, &mo, &err), &err, "manager_init");
        klease_elector_options eo = KLEASE_ELECTOR_OPTIONS_INIT;
        eo.on_change = on_change;
        eo.user = &leading[i];
        bench_check(klease_spawn(&e[i], m[i], "bench-holder", &p, &eo, &err), &err, "spawn");
    }
    for (int held = 0; held < n;) {
        held = 0;
        for (int i = 0; i < n; i++)
            held += klease_elector_is_leader(e[i]);
        if (held < n)
            bench_sleep_ms(10);
    }
    double ramp_s = (double)(bench_now_ns() - t_start) / 1e9;

    long conn0 = sim_connections(&sim);
    atomic_store(&losses, 0);
    int64_t cpu0 = bench_process_cpu_ns(), t0 = bench_now_ns();
    long lapses = 0, samples = 0, rss_max = 0;
    while (bench_now_ns() - t0 < (int64_t)window_s * 1000000000) {
        for (int i = 0; i < n; i++)
            lapses += !klease_elector_is_leader(e[i]);
        /* Reading /proc costs more than the sampling itself: once a second. */
        if (samples++ % 10 == 0) {
            long rss = bench_rss_kib(0);
            if (rss > rss_max)
                rss_max = rss;
        }
        bench_sleep_ms(100);
    }
    /* The sampling (1,000 is_leader calls per round) is counted, not removed. */
    double cpu_s = (double)(bench_process_cpu_ns() - cpu0) / 1e9;
    double wall_s = (double)(bench_now_ns() - t0) / 1e9;
    long conn1 = sim_connections(&sim);
    long threads = bench_threads(0);
    klease_manager_stats total = {0};
    for (int i = 0; i < n; i++) {
        klease_manager_stats s;
        klease_manager_get_stats(m[i], &s);
        total.renewals += s.renewals;
        total.errors += s.errors;
    }
    double core_pct = 100.0 * cpu_s / wall_s;
    double rss_mib = (double)rss_max / 1024.0;
    bench_emit("scale_1000_leases",
               "\"leases\":%d,\"lease_duration_s\":%d,\"window_s\":%.1f,\"ramp_up_s\":%.1f,"
               "\"all_renewed_on_time\":%s,\"lapsed_samples\":%ld,\"losses\":%ld,"
               "\"renewals\":%llu,\"errors\":%llu,\"threads\":%ld,\"rss_mib\":%.1f,"
               "\"cpu_percent_of_one_core\":%.3f,\"connections_during_window\":%ld,"
               "\"connections_total\":%ld,\"target\":\"all on time, < 1%% of a core, < 64 MiB\","
               "\"met\":%s",
               n, duration_s, wall_s, ramp_s, lapses == 0 && losses == 0 ? "true" : "false",
               lapses, (long)losses, (unsigned long long)total.renewals,
               (unsigned long long)total.errors, threads, rss_mib, core_pct, conn1 - conn0, conn1,
               lapses == 0 && losses == 0 && core_pct < 1.0 && rss_mib < 64 ? "true" : "false");
    for (int i = 0; i < n; i++) {
        klease_elector_close(e[i], NULL);
        klease_manager_free(m[i]);
    }
    free(m);
    free(e);
    free(leading);
    klease_client_free(c);
    bench_sim_stop(&sim);
    return 0;
}
