/* A renewal round trip over TLS against the simulator (in process, so its
 * connection and handshake counters can be read; the figures count only the
 * client thread's CPU). Wall and client CPU time per renewal, connections
 * and TLS handshakes per 1,000 renewals, and beside it the same strategic
 * merge PATCH sent by the curl command-line tool with a fresh connection
 * (and a full TLS handshake) each time: the no-reuse baseline.
 * Usage: bench_renew [RENEWALS] [--no-curl] */
#include "bench_util.h"
#include "core/clock.h"
#include "core/microtime.h"
#include "ksim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define CURL_RUNS 100

static int64_t children_cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

int main(int argc, char **argv)
{
    int renewals = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 1000;
    bool with_curl = !(argc > 2 && strcmp(argv[2], "--no-curl") == 0);
    ksim *sim = NULL;
    char errbuf[256];
    if (ksim_start(&sim, NULL, errbuf, sizeof errbuf) != 0) {
        fprintf(stderr, "ksim_start: %s\n", errbuf);
        return 1;
    }
    char kubeconfig[1024];
    snprintf(kubeconfig, sizeof kubeconfig, "%s/kubeconfig", ksim_workdir(sim));
    ksim_write_kubeconfig(sim, kubeconfig, KSIM_KUBECONFIG_TOKEN);
    klease_client_options o = KLEASE_CLIENT_OPTIONS_INIT;
    o.kubeconfig = kubeconfig;
    klease_client *c = NULL;
    klease_error err;
    bench_check(klease_client_new(&c, &o, &err), &err, "client");
    klease_manager_options mo = KLEASE_MANAGER_OPTIONS_INIT;
    mo.create_if_missing = true;
    klease_manager *m = NULL;
    bench_check(klease_manager_init(&m, c, NULL, "renew", &mo, &err), &err, "manager_init");
    /* A 1 s lease with a 999 ms grace: every call 1 ms after a write renews. */
    klease_claim_params p = {KLEASE_CLAIM_PARAMS_VERSION, 1000, 999};
    klease_claim claim;
    bench_check(klease_ensure_claimed(m, "bench", &p, &claim, &err), &err, "acquire");

    ksim_counters before, after;
    ksim_get_counters(sim, &before);
    double *wall = calloc((size_t)renewals, sizeof *wall);
    int64_t cpu_total = 0;
    klease_manager_stats st0, st;
    klease_manager_get_stats(m, &st0);
    for (int done = 0; done < renewals;) {
        /* Sleep until the renewal is due (1 ms after the last write), so the
         * figures hold renewals only, not a busy wait. */
        int64_t due = claim.deadline_mono_ns - p.renew_grace_ms * 1000000;
        int64_t now = bench_now_ns();
        if (now < due) {
            struct timespec ts = {0, (long)(due - now)};
            nanosleep(&ts, NULL);
        }
        int64_t t0 = bench_now_ns(), c0 = bench_thread_cpu_ns();
        bench_check(klease_ensure_claimed(m, "bench", &p, &claim, &err), &err, "renew");
        int64_t t1 = bench_now_ns(), c1 = bench_thread_cpu_ns();
        klease_manager_get_stats(m, &st);
        if (st.renewals - st0.renewals > (uint64_t)done) {
            wall[done++] = (double)(t1 - t0) / 1e6;
            cpu_total += c1 - c0;
        }
    }
    ksim_get_counters(sim, &after);
    double p50 = bench_percentile(wall, (size_t)renewals, 50);
    double p99 = bench_percentile(wall, (size_t)renewals, 99);
    double per1000 = 1000.0 / renewals;
    bench_emit("renew_round_trip_libklease",
               "\"renewals\":%d,\"wall_ms_p50\":%.3f,\"wall_ms_p99\":%.3f,"
               "\"client_cpu_us_per_renew\":%.1f,\"connections_per_1000\":%.1f,"
               "\"tls_handshakes_per_1000\":%.1f,\"requests\":%llu,\"met\":%s",
               renewals, p50, p99, (double)cpu_total / renewals / 1000.0,
               (double)(after.connections - before.connections) * per1000,
               (double)(after.tls_handshakes - before.tls_handshakes) * per1000,
               (unsigned long long)(after.requests - before.requests),
               after.tls_handshakes - before.tls_handshakes <= 1 ? "true" : "false");

    if (!with_curl) {
        free(wall);
        klease_manager_free(m);
        klease_client_free(c);
        ksim_stop(sim);
        return 0;
    }
    /* The curl CLI baseline: the same renewal PATCH, one process and one new
     * TLS connection per request (no resourceVersion, so every one succeeds). */
    char cmd[4096], t[KLEASE__MICROTIME_LEN + 1];
    double *cwall = calloc(CURL_RUNS, sizeof *cwall);
    ksim_get_counters(sim, &before);
    int64_t cc0 = children_cpu_ns();
    for (int i = 0; i < CURL_RUNS; i++) {
        klease__microtime_format(klease__wall_ns(klease__clock_system()), t);
        snprintf(cmd, sizeof cmd,
                 "curl -sS -o /dev/null --fail --cacert '%s' -X PATCH "
                 "-H 'Authorization: Bearer %s' -H 'Accept: application/json' "
                 "-H 'Content-Type: application/strategic-merge-patch+json' "
                 "--data '{\"spec\":{\"leaseDurationSeconds\":1,\"renewTime\":\"%s\"}}' "
                 "'%s/apis/coordination.k8s.io/v1/namespaces/default/leases/renew"
                 "?fieldManager=klease'",
                 ksim_ca_path(sim), ksim_admin_token(sim), t, ksim_url(sim));
        int64_t t0 = bench_now_ns();
        if (system(cmd) != 0) {
            fprintf(stderr, "curl failed\n");
            return 1;
        }
        cwall[i] = (double)(bench_now_ns() - t0) / 1e6;
    }
    int64_t ccpu = children_cpu_ns() - cc0;
    ksim_get_counters(sim, &after);
    bench_emit("renew_round_trip_curl_cli",
               "\"requests\":%d,\"wall_ms_p50\":%.3f,\"wall_ms_p99\":%.3f,"
               "\"client_cpu_us_per_request\":%.1f,\"connections_per_1000\":%.1f,"
               "\"tls_handshakes_per_1000\":%.1f,\"note\":\"a new curl process, TCP "
               "connection and TLS handshake per request (CPU includes process start)\"",
               CURL_RUNS, bench_percentile(cwall, CURL_RUNS, 50),
               bench_percentile(cwall, CURL_RUNS, 99), (double)ccpu / CURL_RUNS / 1000.0,
               (double)(after.connections - before.connections) * 1000.0 / CURL_RUNS,
               (double)(after.tls_handshakes - before.tls_handshakes) * 1000.0 / CURL_RUNS);
    free(wall);
    free(cwall);
    klease_manager_free(m);
    klease_client_free(c);
    ksim_stop(sim);
    return 0;
}
