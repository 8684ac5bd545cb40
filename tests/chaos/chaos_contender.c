/* A chaos contender: one process, one elector, a log of every change of
 * belief. The chaos driver runs several of these against the simulator and
 * kills, stops, restarts and partitions them; chaos_check reads the logs.
 *
 * Log lines (one write(2) each, O_APPEND, so SIGKILL loses nothing):
 *   BOOT_NS WALL_NS ID PID start SKEW_MS TOLERANCE_MS
 *   BOOT_NS WALL_NS ID PID cb LEADING HOLDER RV DEADLINE_NS STATUS   (change callback)
 *   BOOT_NS WALL_NS ID PID lead_start TB TA    (poll: first true is_leader, read between TB and TA)
 *   BOOT_NS WALL_NS ID PID alive TB            (poll: still true, every 20 ms)
 *   BOOT_NS WALL_NS ID PID lead_end TB         (poll: the last true sample was taken at TB)
 *   BOOT_NS WALL_NS ID PID closing | closed STATUS | error MESSAGE
 * BOOT_NS is CLOCK_BOOTTIME, comparable across processes on one machine.
 * The poller keeps polling while klease_elector_close runs (until the final
 * callback), so leadership reported during a close is checked too.
 *
 * Usage: chaos_contender --kubeconfig P --lease NAME --id ID --log FILE
 *          [--duration-ms 5000] [--grace-ms 2000] [--timeout-ms 2500]
 *          [--skew-ms 0] [--tolerance-ms 1000] [--poll-ms 2] */
#include "chaos_proc.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t poll_mu = PTHREAD_MUTEX_INITIALIZER;
static bool elector_done; /* the final callback ran: the elector may be freed any moment */

static void on_change(void *user, const klease_claim *claim, bool leading, klease_status status)
{
    (void)user;
    chaos_logat(chaos_boot_ns(), "cb %d %s %s %lld %d", leading ? 1 : 0,
                claim ? claim->holder : "-",
                claim && claim->resource_version[0] ? claim->resource_version : "-",
                claim ? (long long)claim->deadline_mono_ns : 0LL, (int)status);
    if (status != KLEASE_OK) {
        pthread_mutex_lock(&poll_mu);
        elector_done = true;
        pthread_mutex_unlock(&poll_mu);
    }
}

typedef struct poller {
    klease_elector *e;
    int64_t interval_ns;
} poller;

static void *poll_main(void *arg)
{
    poller *p = arg;
    bool was = false;
    int64_t last_true_tb = 0, last_alive = 0;
    struct timespec nap = {0, (long)p->interval_ns};
    for (;;) {
        pthread_mutex_lock(&poll_mu);
        if (elector_done) {
            pthread_mutex_unlock(&poll_mu);
            break;
        }
        int64_t tb = chaos_boot_ns();
        bool now = klease_elector_is_leader(p->e);
        int64_t ta = chaos_boot_ns();
        pthread_mutex_unlock(&poll_mu);
        if (now && !was) {
            chaos_logat(chaos_boot_ns(), "lead_start %lld %lld", (long long)tb, (long long)ta);
            last_alive = tb;
        } else if (now && tb - last_alive >= 20000000) {
            chaos_logat(chaos_boot_ns(), "alive %lld", (long long)tb);
            last_alive = tb;
        } else if (!now && was) {
            chaos_logat(chaos_boot_ns(), "lead_end %lld", (long long)last_true_tb);
        }
        if (now)
            last_true_tb = tb;
        was = now;
        nanosleep(&nap, NULL);
    }
    if (was)
        chaos_logat(chaos_boot_ns(), "lead_end %lld", (long long)last_true_tb);
    return NULL;
}

static const char *lease;
static long long poll_ms = 2;

static bool own_arg(const char *opt, const char *v, long long n, bool num)
{
    if (strcmp(opt, "--lease") == 0)
        lease = v;
    else if (strcmp(opt, "--poll-ms") == 0 && num && n > 0)
        poll_ms = n;
    else
        return false;
    return true;
}

int main(int argc, char **argv)
{
    chaos_proc_args pa = {
        .id = "?", .duration_ms = 5000, .grace_ms = 2000, .timeout_ms = 2500, .tolerance_ms = 1000};
    if (!chaos_proc_parse(&pa, argc, argv, own_arg, "chaos_contender"))
        return 2;
    if (pa.kubeconfig == NULL || lease == NULL || pa.log == NULL) {
        fprintf(stderr, "usage: chaos_contender --kubeconfig P --lease NAME --id ID --log FILE\n");
        return 2;
    }
    if (chaos_log_open(pa.log, pa.id) != 0)
        return 2;

    /* Only the main thread takes SIGTERM/SIGINT, through sigwait. */
    sigset_t set;
    if (!chaos_take_signals(&set))
        return 0;
    chaos_logat(chaos_boot_ns(), "start %lld %lld", pa.skew_ms, pa.tolerance_ms);

    klease_client_options co = chaos_client_options(pa.kubeconfig, pa.timeout_ms, pa.skew_ms);
    klease_manager_options mo = KLEASE_MANAGER_OPTIONS_INIT;
    mo.create_if_missing = true;
    mo.clock_skew_tolerance_ms = pa.tolerance_ms;
    klease_claim_params cp = KLEASE_CLAIM_PARAMS_INIT;
    cp.lease_duration_ms = pa.duration_ms;
    cp.renew_grace_ms = pa.grace_ms;
    klease_elector_options eo = KLEASE_ELECTOR_OPTIONS_INIT;
    eo.on_change = on_change;
    eo.max_backoff_ms = 500;
    eo.poll_interval_ms = 500;
    eo.vacate_timeout_ms = 1000;

    klease_client *c = NULL;
    klease_manager *m = NULL;
    klease_elector *e = NULL;
    klease_error err;
    if (klease_client_new(&c, &co, &err) != KLEASE_OK) {
        chaos_logat(chaos_boot_ns(), "error client: %s", err.message);
        return 1;
    }
    /* The simulator may be restarting or faulting: keep trying, as a
     * controller would, until told to stop. */
    struct timespec zero = {0, 0};
    for (;;) {
        if (klease_manager_init(&m, c, NULL, lease, &mo, &err) == KLEASE_OK)
            break;
        chaos_logat(chaos_boot_ns(), "error init: %s", err.message);
        if (sigtimedwait(&set, NULL, &zero) > 0) {
            klease_client_free(c);
            return 0;
        }
        chaos_nap_ms(200);
    }
    if (klease_spawn(&e, m, pa.id, &cp, &eo, &err) != KLEASE_OK) {
        chaos_logat(chaos_boot_ns(), "error spawn: %s", err.message);
        return 1;
    }
    poller p = {.e = e, .interval_ns = poll_ms * 1000000};
    pthread_t th;
    if (pthread_create(&th, NULL, poll_main, &p) != 0)
        return 1;

    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    chaos_logat(chaos_boot_ns(), "closing");
    klease_status st = klease_elector_close(e, &err);
    pthread_join(th, NULL);
    chaos_logat(chaos_boot_ns(), "closed %d", (int)st);
    klease_manager_free(m);
    klease_client_free(c);
    chaos_log_close();
    return 0;
}
