/* Leadership changes between electors over TLS against the simulator binary:
 *  graceful: the leader closes (and vacates); time until a follower leads;
 *  kill:     a leader process is killed with SIGKILL (no vacate); time until
 *            an in-process follower leads, against the lease duration.
 * Usage: bench_handover SIM_BINARY ELECTOR_CHILD [HANDOVERS] [KILLS] */
#include "bench_util.h"

#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct party {
    klease_client *client;
    klease_manager *manager;
    klease_elector *elector;
    char id[32];
    _Atomic int64_t led_at; /* when the change callback last said "leading" */
} party;

static void on_change(void *user, const klease_claim *claim, bool leading, klease_status status)
{
    (void)claim;
    (void)status;
    party *p = user;
    if (leading)
        atomic_store(&p->led_at, bench_now_ns());
}

static void start(party *p, const bench_sim *sim, const char *lease, int64_t duration_ms)
{
    klease_error err;
    klease_manager_options mo = KLEASE_MANAGER_OPTIONS_INIT;
    mo.create_if_missing = true;
    klease_claim_params cp = KLEASE_CLAIM_PARAMS_INIT;
    cp.lease_duration_ms = duration_ms;
    klease_elector_options eo = KLEASE_ELECTOR_OPTIONS_INIT;
    eo.on_change = on_change;
    eo.user = p;
    if (p->client == NULL)
        p->client = bench_client(sim);
    if (p->manager == NULL)
        bench_check(klease_manager_init(&p->manager, p->client, NULL, lease, &mo, &err), &err,
                    "manager_init");
    atomic_store(&p->led_at, 0);
    bench_check(klease_spawn(&p->elector, p->manager, p->id, &cp, &eo, &err), &err, "spawn");
}

static void wait_following(party *p)
{
    /* Let the new follower read the lease and open its watch. */
    for (int i = 0; i < 2000; i++) {
        klease_claim c;
        bool has = false;
        klease_elector_current(p->elector, &c, &has);
        if (has)
            break;
        bench_sleep_ms(1);
    }
    bench_sleep_ms(100);
}

static void graceful(const bench_sim *sim, int n)
{
    party a = {0}, b = {0};
    snprintf(a.id, sizeof a.id, "bench-a");
    snprintf(b.id, sizeof b.id, "bench-b");
    start(&a, sim, "handover", 10000);
    while (!klease_elector_is_leader(a.elector))
        bench_sleep_ms(1);
    start(&b, sim, "handover", 10000);
    wait_following(&b);
    party *leader = &a, *follower = &b;
    double *ms = calloc((size_t)n, sizeof *ms);
    for (int i = 0; i < n; i++) {
        int64_t t0 = bench_now_ns();
        klease_elector_close(leader->elector, NULL);
        leader->elector = NULL;
        int64_t led;
        while ((led = atomic_load(&follower->led_at)) == 0 || led < t0)
            bench_sleep_ms(0);
        ms[i] = (double)(led - t0) / 1e6;
        start(leader, sim, "handover", 10000);
        wait_following(leader);
        party *t = leader;
        leader = follower;
        follower = t;
    }
    double p50 = bench_percentile(ms, (size_t)n, 50), p90 = bench_percentile(ms, (size_t)n, 90);
    double p99 = bench_percentile(ms, (size_t)n, 99), max = bench_percentile(ms, (size_t)n, 100);
    bench_emit("graceful_handover",
               "\"handovers\":%d,\"lease_duration_ms\":10000,\"p50_ms\":%.2f,\"p90_ms\":%.2f,"
               "\"p99_ms\":%.2f,\"max_ms\":%.2f,\"min_ms\":%.2f,\"target_p50_ms\":10,"
               "\"target_p99_ms\":50,\"met\":%s",
               n, p50, p90, p99, max, ms[0], p50 <= 10 && p99 <= 50 ? "true" : "false");
    free(ms);
    klease_elector_close(leader->elector, NULL);
    klease_elector_close(follower->elector, NULL);
    klease_manager_free(a.manager);
    klease_manager_free(b.manager);
    klease_client_free(a.client);
    klease_client_free(b.client);
}

static pid_t spawn_child(const char *child, const char *kubeconfig, const char *lease,
                         const char *duration_ms, FILE **out)
{
    int fds[2];
    if (pipe(fds) != 0)
        exit(1);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char *argv[] = {(char *)child, (char *)kubeconfig,  (char *)lease,
                    "bench-child", (char *)duration_ms, NULL};
    pid_t pid;
    if (posix_spawn(&pid, child, &fa, NULL, argv, environ) != 0) {
        fprintf(stderr, "cannot start %s\n", child);
        exit(1);
    }
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    *out = fdopen(fds[0], "r");
    return pid;
}

static void kill_takeover(const bench_sim *sim, const char *child, int n)
{
    const int64_t duration_ms = 2000;
    double *ms = calloc((size_t)n, sizeof *ms);
    for (int i = 0; i < n; i++) {
        char lease[32];
        snprintf(lease, sizeof lease, "kill-%d", i);
        FILE *out;
        pid_t pid = spawn_child(child, sim->kubeconfig, lease, "2000", &out);
        char line[256];
        while (fgets(line, sizeof line, out) != NULL && strncmp(line, "leading", 7) != 0) {
        }
        party f = {0};
        snprintf(f.id, sizeof f.id, "bench-follower");
        start(&f, sim, lease, duration_ms);
        wait_following(&f);
        /* Kill at a random point of the renew cycle. */
        bench_sleep_ms(rand() % (int)duration_ms);
        int64_t t0 = bench_now_ns();
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fclose(out);
        int64_t led;
        while ((led = atomic_load(&f.led_at)) == 0)
            bench_sleep_ms(0);
        ms[i] = (double)(led - t0) / 1e6;
        klease_elector_close(f.elector, NULL);
        klease_manager_free(f.manager);
        klease_client_free(f.client);
    }
    double max = bench_percentile(ms, (size_t)n, 100);
    bench_emit("sigkill_takeover",
               "\"kills\":%d,\"lease_duration_ms\":%lld,\"min_ms\":%.1f,\"p50_ms\":%.1f,"
               "\"max_ms\":%.1f,\"max_over_duration_ms\":%.1f,\"target\":\"within lease "
               "duration + 250 ms\",\"met\":%s",
               n, (long long)duration_ms, ms[0], bench_percentile(ms, (size_t)n, 50), max,
               max - (double)duration_ms, max <= (double)duration_ms + 250 ? "true" : "false");
    free(ms);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_handover SIM_BINARY ELECTOR_CHILD [HANDOVERS] [KILLS]\n");
        return 2;
    }
    int handovers = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 60;
    int kills = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 10;
    srand(42);
    bench_sim sim;
    bench_sim_start(&sim, argv[1], NULL);
    graceful(&sim, handovers);
    kill_takeover(&sim, argv[2], kills);
    bench_sim_stop(&sim);
    return 0;
}
