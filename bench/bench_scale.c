/* Scale: N leases of D seconds held by one process through one client, one
 * elector each, for K renewal cycles, against the simulator binary (its own
 * process, so its CPU is read from /proc beside the client's). Issue 17's
 * yardstick: it measures today's thread-per-elector design and, unchanged,
 * the engine that replaces it.
 *
 * Reports: whether every lease was renewed on time (no lease lost
 * leadership, every renewal landed before the deadline of the claim it
 * renewed, and every lease renewed at least K times in the window), the
 * tightest renewal (least time left on the old claim when the new one was
 * published), peak threads, peak resident memory, ramp-up (create + acquire
 * all), client CPU per renewal and as a share of one core while holding,
 * requests per renewal (simulator counter), connections, and the simulator's
 * own CPU. If the process cannot start N electors (threads, memory), it
 * carries on with the ones it has and says how many and why.
 *
 * With --h2 NGHTTPX the simulator runs as plain HTTP behind nghttpx (TLS +
 * HTTP/2 front, see bench_util.h) and the figures include how many requests
 * the front saw over h2.
 *
 * Usage: bench_scale SIM_BINARY [LEASES] [DURATION_S] [CYCLES] [--h2 NGHTTPX] [--name NAME]
 * (defaults 10000 leases of 30 s, 3 cycles; name "scale") */
#include "bench_util.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lease_state {
    _Atomic bool leading;
    _Atomic int64_t deadline_ns; /* of the last claim we published as leader */
    _Atomic long losses;         /* leading -> not leading */
    _Atomic long late;           /* renewals published after the old claim's deadline */
    _Atomic int64_t min_slack_ns;
    bool lapsed; /* seen not leading by the main thread's sampling */
} lease_state;

static _Atomic bool measuring;

/* Runs on the elector's thread for every published change; a renewal
 * publishes a new claim with a later deadline. */
static void on_change(void *user, const klease_claim *claim, bool leading, klease_status status)
{
    (void)status;
    lease_state *ls = user;
    int64_t now = bench_now_ns();
    if (atomic_load(&ls->leading) && !leading && atomic_load(&measuring))
        atomic_fetch_add(&ls->losses, 1);
    atomic_store(&ls->leading, leading);
    if (claim == NULL || !leading)
        return;
    int64_t old = atomic_exchange(&ls->deadline_ns, claim->deadline_mono_ns);
    if (old == 0 || old == claim->deadline_mono_ns || !atomic_load(&measuring))
        return;
    int64_t slack = old - now;
    if (slack < 0)
        atomic_fetch_add(&ls->late, 1);
    if (slack < atomic_load(&ls->min_slack_ns))
        atomic_store(&ls->min_slack_ns, slack);
}

/* Copies `src` so it can go inside a JSON string as it is. */
static void json_safe_copy(char *dst, size_t size, const char *src)
{
    size_t i = 0;
    for (; src[i] != '\0' && i + 1 < size; i++) {
        unsigned char ch = (unsigned char)src[i];
        dst[i] = ch == '"' || ch == '\\' || ch < 0x20 ? '\'' : (char)ch;
    }
    dst[i] = '\0';
}

static long peak_threads;

static void sample_threads(void)
{
    long t = bench_threads(0);
    if (t > peak_threads)
        peak_threads = t;
}

int main(int argc, char **argv)
{
    const char *h2 = NULL, *name = "scale";
    const char *pos[4] = {NULL, "10000", "30", "3"};
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--h2") == 0 && i + 1 < argc)
            h2 = argv[++i];
        else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (npos < 4)
            pos[npos++] = argv[i];
    }
    if (pos[0] == NULL) {
        fprintf(stderr, "usage: bench_scale SIM_BINARY [LEASES] [DURATION_S] [CYCLES] "
                        "[--h2 NGHTTPX] [--name NAME]\n");
        return 2;
    }
    int want = (int)strtol(pos[1], NULL, 10);
    int duration_s = (int)strtol(pos[2], NULL, 10);
    int cycles = (int)strtol(pos[3], NULL, 10);
    if (want < 1 || duration_s < 2 || cycles < 1) {
        fprintf(stderr, "bench_scale: LEASES >= 1, DURATION_S >= 2, CYCLES >= 1\n");
        return 2;
    }
    const char *extra_tls[] = {"--token", "bench-token:bench-admin", NULL};
    const char *extra_h2[] = {"--token", "bench-token:bench-admin", "--plain-http", NULL};
    bench_sim sim;
    bench_sim_start(&sim, pos[0], h2 != NULL ? extra_h2 : extra_tls);
    bench_front front = {0};
    klease_client *c;
    if (h2 != NULL) {
        bench_front_start(&front, h2, &sim);
        c = bench_client_from(front.kubeconfig);
    } else {
        c = bench_client(&sim);
    }

    klease_manager **m = calloc((size_t)want, sizeof *m);
    klease_elector **e = calloc((size_t)want, sizeof *e);
    lease_state *ls = calloc((size_t)want, sizeof *ls);
    klease_manager_options mo = KLEASE_MANAGER_OPTIONS_INIT;
    mo.create_if_missing = true;
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    p.lease_duration_ms = (int64_t)duration_s * 1000;
    klease_error err;
    char spawn_error[700] = "";
    int n = 0;
    int64_t t_start = bench_now_ns(), cpu_start = bench_process_cpu_ns();
    int64_t sim_cpu_start = bench_proc_cpu_ns(sim.pid);
    for (; n < want; n++) {
        char lname[32];
        snprintf(lname, sizeof lname, "scale-%05d", n);
        atomic_store(&ls[n].min_slack_ns, INT64_MAX);
        klease_status st = klease_manager_init(&m[n], c, NULL, lname, &mo, &err);
        if (st == KLEASE_OK) {
            klease_elector_options eo = KLEASE_ELECTOR_OPTIONS_INIT;
            eo.on_change = on_change;
            eo.user = &ls[n];
            /* Teardown after the measurement should not cost 10,000 vacates. */
            eo.vacate_timeout_ms = 0;
            st = klease_spawn(&e[n], m[n], "bench-holder", &p, &eo, &err);
            if (st != KLEASE_OK) {
                klease_manager_free(m[n]);
                m[n] = NULL;
            }
        }
        if (st != KLEASE_OK) {
            snprintf(spawn_error, sizeof spawn_error, "lease %d: %s: %s", n, klease_strerror(st),
                     err.message);
            json_safe_copy(spawn_error, sizeof spawn_error, spawn_error);
            fprintf(stderr, "bench_scale: stopped at %d electors (%s)\n", n, spawn_error);
            break;
        }
        if (n % 500 == 0)
            sample_threads();
    }
    sample_threads();
    /* Generous: a loaded 2-core machine creating thousands of leases. */
    int64_t ramp_limit_ns = (int64_t)(60 + n / 50) * 1000000000;
    int held = 0;
    while (held < n && bench_now_ns() - t_start < ramp_limit_ns) {
        held = 0;
        for (int i = 0; i < n; i++)
            held += klease_elector_is_leader(e[i]);
        sample_threads();
        if (held < n)
            bench_sleep_ms(50);
    }
    double ramp_s = (double)(bench_now_ns() - t_start) / 1e9;
    double ramp_cpu_s = (double)(bench_process_cpu_ns() - cpu_start) / 1e9;
    double ramp_sim_cpu_s = (double)(bench_proc_cpu_ns(sim.pid) - sim_cpu_start) / 1e9;

    /* The window: K lease durations, so every lease is due (at duration -
     * grace) at least K times. */
    bench_sim_counters k0, k1;
    bench_sim_counters_get(&sim, &k0);
    uint64_t *r0 = calloc((size_t)n + 1, sizeof *r0), *e0 = calloc((size_t)n + 1, sizeof *e0);
    for (int i = 0; i < n; i++) {
        klease_manager_stats s;
        klease_manager_get_stats(m[i], &s);
        r0[i] = s.renewals;
        e0[i] = s.errors;
    }
    long front_req0 = 0, front_h2_0 = 0;
    if (h2 != NULL)
        bench_front_requests(&front, &front_req0, &front_h2_0);
    atomic_store(&measuring, true);
    int64_t t0 = bench_now_ns(), cpu0 = bench_process_cpu_ns(), main0 = bench_thread_cpu_ns();
    int64_t sim_cpu0 = bench_proc_cpu_ns(sim.pid),
            front_cpu0 = h2 ? bench_proc_cpu_ns(front.pid) : 0;
    long lapses = 0, sim_threads_peak = 0;
    char why[300] = ""; /* the first failing elector's status while not leading */
    while (bench_now_ns() - t0 < (int64_t)cycles * duration_s * 1000000000) {
        /* Once a second: sampling 10,000 leases every 100 ms would cost more
         * than what it measures. The main thread's CPU is left out below. */
        for (int i = 0; i < n; i++) {
            if (!klease_elector_is_leader(e[i])) {
                lapses++;
                ls[i].lapsed = true;
                if (why[0] == '\0' && klease_elector_status(e[i], &err) != KLEASE_OK)
                    json_safe_copy(why, sizeof why, err.message);
            }
        }
        sample_threads();
        long st = bench_threads(sim.pid);
        if (st > sim_threads_peak)
            sim_threads_peak = st;
        bench_sleep_ms(1000);
    }
    int64_t main_cpu = bench_thread_cpu_ns() - main0;
    int64_t cpu = bench_process_cpu_ns() - cpu0 - main_cpu;
    int64_t sim_cpu = bench_proc_cpu_ns(sim.pid) - sim_cpu0;
    int64_t front_cpu = h2 ? bench_proc_cpu_ns(front.pid) - front_cpu0 : 0;
    double wall_s = (double)(bench_now_ns() - t0) / 1e9;
    atomic_store(&measuring, false);
    long conns_open = bench_tcp_established(h2 != NULL ? front.port : sim.port);
    long backend_conns_open = bench_tcp_established(sim.port);
    bench_sim_counters_get(&sim, &k1);
    long front_req1 = 0, front_h2_1 = 0;
    if (h2 != NULL)
        bench_front_requests(&front, &front_req1, &front_h2_1);

    uint64_t renewals = 0, errors = 0;
    long losses = 0, late = 0, short_of_cycles = 0, leases_on_time = 0;
    int64_t min_slack = INT64_MAX;
    for (int i = 0; i < n; i++) {
        klease_manager_stats s;
        klease_manager_get_stats(m[i], &s);
        uint64_t r = s.renewals - r0[i];
        renewals += r;
        errors += s.errors - e0[i];
        short_of_cycles += r < (uint64_t)cycles;
        losses += atomic_load(&ls[i].losses);
        late += atomic_load(&ls[i].late);
        leases_on_time += r >= (uint64_t)cycles && atomic_load(&ls[i].losses) == 0 &&
                          atomic_load(&ls[i].late) == 0 && !ls[i].lapsed;
        if (atomic_load(&ls[i].min_slack_ns) < min_slack)
            min_slack = atomic_load(&ls[i].min_slack_ns);
    }
    bool on_time =
        n == want && held == n && lapses == 0 && losses == 0 && late == 0 && short_of_cycles == 0;
    double rss_peak_mib = (double)bench_proc_status(0, "VmHWM") / 1024.0;
    double cpu_us_per_renewal = renewals ? (double)cpu / 1e3 / (double)renewals : 0;
    double core_pct = 100.0 * (double)cpu / 1e9 / wall_s;
    /* The second counters probe counts itself. */
    long requests = k1.requests - k0.requests - 1;
    double req_per_renewal = renewals ? (double)requests / (double)renewals : 0;
    bool met = on_time && peak_threads <= 4 && rss_peak_mib < 128 && cpu_us_per_renewal <= 50 &&
               requests == (long)renewals;
    bench_emit(
        name,
        "\"leases\":%d,\"leases_requested\":%d,\"spawn_error\":\"%s\",\"lease_duration_s\":%d,"
        "\"cycles\":%d,\"protocol\":\"%s\",\"window_s\":%.1f,\"ramp_up_s\":%.2f,"
        "\"ramp_up_client_cpu_s\":%.2f,\"ramp_up_sim_cpu_s\":%.2f,\"held_after_ramp\":%d,"
        "\"all_renewed_on_time\":%s,\"percent_renewed_on_time\":%.2f,\"lapsed_samples\":%ld,"
        "\"losses\":%ld,\"late_renewals\":%ld,"
        "\"leases_short_of_cycles\":%ld,\"first_failure\":\"%s\",\"min_slack_ms\":%.1f,"
        "\"renewals\":%llu,\"errors\":%llu,"
        "\"peak_threads\":%ld,\"peak_rss_mib\":%.1f,\"client_cpu_us_per_renewal\":%.1f,"
        "\"cpu_percent_of_one_core\":%.3f,\"sampling_cpu_ms\":%.1f,\"requests\":%ld,"
        "\"requests_per_renewal\":%.3f,\"connections_open\":%ld,\"backend_connections_open\":%ld,"
        "\"connections_during_window\":%ld,\"client_connections_total\":%ld,"
        "\"sim_cpu_us_per_renewal\":%.1f,\"sim_cpu_percent_of_one_core\":%.3f,"
        "\"sim_peak_threads\":%ld,\"front_cpu_us_per_renewal\":%.1f,\"front_requests\":%ld,"
        "\"front_h2_requests\":%ld,"
        "\"target\":\"all on time, <= 4 threads, < 128 MiB, <= 50 us per renewal, 1 request "
        "per renewal\",\"met\":%s",
        n, want, spawn_error, duration_s, cycles, h2 != NULL ? "h2 via nghttpx" : "http/1.1",
        wall_s, ramp_s, ramp_cpu_s, ramp_sim_cpu_s, held, on_time ? "true" : "false",
        100.0 * (double)leases_on_time / (double)want, lapses, losses, late, short_of_cycles, why,
        min_slack == INT64_MAX ? -1.0 : (double)min_slack / 1e6, (unsigned long long)renewals,
        (unsigned long long)errors, peak_threads, rss_peak_mib, cpu_us_per_renewal, core_pct,
        (double)main_cpu / 1e6, requests, req_per_renewal, conns_open,
        h2 != NULL ? backend_conns_open : conns_open, k1.connections - k0.connections,
        k1.connections, renewals ? (double)sim_cpu / 1e3 / (double)renewals : 0,
        100.0 * (double)sim_cpu / 1e9 / wall_s, sim_threads_peak,
        renewals ? (double)front_cpu / 1e3 / (double)renewals : 0, front_req1 - front_req0,
        front_h2_1 - front_h2_0, met ? "true" : "false");
    for (int i = 0; i < n; i++) {
        klease_elector_close(e[i], NULL);
        klease_manager_free(m[i]);
    }
    free(r0);
    free(e0);
    free(m);
    free(e);
    free(ls);
    klease_client_free(c);
    if (h2 != NULL)
        bench_front_stop(&front);
    bench_sim_stop(&sim);
    return 0;
}
