/* Followers: M leases in one namespace, each held by another identity and
 * followed by one elector in this process (one client), against the
 * simulator binary. Issue 17 wants one watch per namespace; today every
 * follower opens its own watch.
 *
 * The open watches are the simulator's own count of watch streams open
 * (watches_open) once the followers are settled; beside it, the watch
 * requests started (cumulative: re-watches after a timeout or an error show
 * there) and the TCP connections the simulator has open (every HTTP/1.1 watch
 * holds one; the client's pooled connections for other requests are at most
 * 16). Also: client threads and resident memory, and client and simulator CPU
 * while the followers idle.
 *
 * Usage: bench_followers SIM_BINARY [FOLLOWERS] [WINDOW_S] [--name NAME]
 * (defaults 1000 followers, 10 s; name "followers") */
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *name = "followers";
    const char *pos[3] = {NULL, "1000", "10"};
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (npos < 3)
            pos[npos++] = argv[i];
    }
    if (pos[0] == NULL) {
        fprintf(stderr, "usage: bench_followers SIM_BINARY [FOLLOWERS] [WINDOW_S] [--name NAME]\n");
        return 2;
    }
    int n = (int)strtol(pos[1], NULL, 10);
    int window_s = (int)strtol(pos[2], NULL, 10);
    if (n < 1 || window_s < 1) {
        fprintf(stderr, "bench_followers: FOLLOWERS >= 1, WINDOW_S >= 1\n");
        return 2;
    }
    const char *extra[] = {"--token", "bench-token:bench-admin", NULL};
    bench_sim sim;
    bench_sim_start(&sim, pos[0], extra);
    klease_client *c = bench_client(&sim);

    klease_manager **holder = calloc((size_t)n, sizeof *holder);
    klease_manager **fm = calloc((size_t)n, sizeof *fm);
    klease_elector **e = calloc((size_t)n, sizeof *e);
    klease_manager_options mo = KLEASE_MANAGER_OPTIONS_INIT;
    mo.create_if_missing = true;
    /* The holder never renews: its claim outlasts the run by far. */
    klease_claim_params hp = KLEASE_CLAIM_PARAMS_INIT;
    hp.lease_duration_ms = 3600 * 1000;
    klease_claim_params fp = KLEASE_CLAIM_PARAMS_INIT;
    klease_error err;
    klease_claim claim;
    for (int i = 0; i < n; i++) {
        char lname[32];
        snprintf(lname, sizeof lname, "follow-%05d", i);
        bench_check(klease_manager_init(&holder[i], c, NULL, lname, &mo, &err), &err,
                    "manager_init");
        bench_check(klease_ensure_claimed(holder[i], "bench-holder", &hp, &claim, &err), &err,
                    "holder claim");
        bench_check(klease_manager_init(&fm[i], c, NULL, lname, &mo, &err), &err, "manager_init");
    }
    bench_sim_counters k0, k1;
    bench_sim_counters_get(&sim, &k0);
    int64_t t_start = bench_now_ns();
    for (int i = 0; i < n; i++) {
        klease_elector_options eo = KLEASE_ELECTOR_OPTIONS_INIT;
        eo.vacate_timeout_ms = 0;
        bench_check(klease_spawn(&e[i], fm[i], "bench-follower", &fp, &eo, &err), &err, "spawn");
    }
    /* Settled: every follower has seen the holder's claim, and the number of
     * open watches has stopped changing for a second. Generous bounds: a
     * loaded 2-core machine. */
    int seen = 0;
    while (seen < n && bench_now_ns() - t_start < 60 * (int64_t)1000000000) {
        seen = 0;
        for (int i = 0; i < n; i++) {
            bool has;
            klease_elector_current(e[i], &claim, &has);
            seen += has && strcmp(claim.holder, "bench-holder") == 0;
        }
        if (seen < n)
            bench_sleep_ms(50);
    }
    long last = -1;
    for (int i = 0; i < 30; i++) {
        bench_sim_counters_get(&sim, &k1);
        if (k1.watches_open == last && k1.watches_open >= 1)
            break;
        last = k1.watches_open;
        bench_sleep_ms(1000);
    }
    double settle_s = (double)(bench_now_ns() - t_start) / 1e9;

    int64_t t0 = bench_now_ns(), cpu0 = bench_process_cpu_ns();
    int64_t sim_cpu0 = bench_proc_cpu_ns(sim.pid);
    bench_sim_counters_get(&sim, &k0);
    bench_sleep_ms((int64_t)window_s * 1000);
    bench_sim_counters_get(&sim, &k1);
    double wall_s = (double)(bench_now_ns() - t0) / 1e9;
    double cpu_pct = 100.0 * (double)(bench_process_cpu_ns() - cpu0) / 1e9 / wall_s;
    double sim_pct = 100.0 * (double)(bench_proc_cpu_ns(sim.pid) - sim_cpu0) / 1e9 / wall_s;
    long open_conns = bench_tcp_established(sim.port);
    long threads = bench_threads(0), sim_threads = bench_threads(sim.pid);
    double rss_mib = (double)bench_proc_status(0, "VmHWM") / 1024.0;
    bool met = k1.watches_open == 1;
    bench_emit(name,
               "\"followers\":%d,\"settle_s\":%.1f,\"watch_requests_open\":%ld,"
               "\"watch_requests_started\":%ld,"
               "\"watch_requests_during_window\":%ld,\"sim_connections_open\":%ld,"
               "\"client_threads\":%ld,\"client_peak_rss_mib\":%.1f,\"sim_threads\":%ld,"
               "\"window_s\":%.1f,\"client_cpu_percent_of_one_core\":%.3f,"
               "\"sim_cpu_percent_of_one_core\":%.3f,\"target\":\"1 watch request open\","
               "\"met\":%s",
               n, settle_s, k1.watches_open, k1.watches, k1.watches - k0.watches, open_conns,
               threads, rss_mib, sim_threads, wall_s, cpu_pct, sim_pct, met ? "true" : "false");
    for (int i = 0; i < n; i++) {
        klease_elector_close(e[i], NULL);
        klease_manager_free(fm[i]);
        klease_manager_free(holder[i]);
    }
    free(holder);
    free(fm);
    free(e);
    klease_client_free(c);
    bench_sim_stop(&sim);
    return 0;
}
