/* A many-lease chaos contender: one process, one client, N managers and N
 * electors (klease_spawn on each, public API only) for leases
 * PREFIX-000..PREFIX-(N-1) in one namespace, and a worker thread that does
 * the guarded "work" of every lease and logs when it runs. chaos_many_check
 * reads the logs of every process and fails when two processes' work on one
 * lease overlaps.
 *
 * The work of a lease starts only when klease_elector_is_leader() is true
 * (so the claim is current for the elector's margin) and stops when it turns
 * false, but is slow to stop, as real work is: it ends --stop-ms after the
 * loss is seen (by default 0, 300 or 700 ms by lease, index % 3). With a
 * margin longer than the stop time the work ends before the claim's
 * deadline, the earliest moment another process may take over; with
 * --margin-ms 0 it does not (the negative run).
 *
 * Log lines (one write(2) each, O_APPEND, so SIGKILL loses nothing):
 *   BOOT_NS WALL_NS ID PID start NLEASES MARGIN_MS STOP_MS
 *   BOOT_NS WALL_NS ID PID ws I       (work on lease I started at BOOT_NS)
 *   BOOT_NS WALL_NS ID PID lost I     (is_leader() false seen; the work stops)
 *   BOOT_NS WALL_NS ID PID we I       (work on lease I ended at BOOT_NS)
 *   BOOT_NS WALL_NS ID PID alive      (every 20 ms while any work runs)
 *   BOOT_NS WALL_NS ID PID closing | closed STATUS | error MESSAGE
 * BOOT_NS is CLOCK_BOOTTIME, comparable across processes on one machine. A
 * process killed with SIGKILL did its work until its last line, at most
 * 20 ms before its death.
 *
 * Usage: chaos_many --kubeconfig P --id ID --log FILE [--leases 200]
 *          [--prefix lease] [--duration-ms 6000] [--grace-ms 4000]
 *          [--margin-ms 2000] [--stop-ms -1 (by lease)] [--timeout-ms 2500]
 *          [--skew-ms 0] [--tolerance-ms 1000] [--scan-ms 5] */
#include "chaos_proc.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LEASES 1000

static const char *ident = "?";

typedef struct lease_slot {
    char name[64];
    klease_manager *m;
    klease_elector *e;
    int64_t stop_ns; /* how long the work takes to stop */
    /* Set (release) once e is there, read (acquire) by the worker. */
    atomic_bool ready;
    /* The worker's state for this lease. */
    bool working, stopping;
    int64_t stop_at;
} lease_slot;

static lease_slot slots[MAX_LEASES];
static int nleases = 200;
static int64_t scan_ns = 5000000;
/* Set by main on SIGTERM: every work stops, then the worker exits, and only
 * then are the electors closed (a close vacates, so work still running then
 * could overlap the next holder's). */
static atomic_bool quitting;

static void *worker_main(void *arg)
{
    (void)arg;
    int64_t last_alive = 0;
    for (;;) {
        bool quit = atomic_load(&quitting);
        int active = 0;
        for (int i = 0; i < nleases; i++) {
            lease_slot *s = &slots[i];
            if (!atomic_load_explicit(&s->ready, memory_order_acquire))
                continue;
            if (s->working && !s->stopping) {
                if (quit || !klease_elector_is_leader(s->e)) {
                    int64_t now = chaos_boot_ns();
                    s->stopping = true;
                    s->stop_at = now + s->stop_ns;
                    chaos_logat(now, "lost %d", i);
                }
            }
            if (s->stopping) {
                int64_t now = chaos_boot_ns();
                if (now >= s->stop_at) {
                    s->working = s->stopping = false;
                    chaos_logat(now, "we %d", i);
                }
            } else if (!s->working && !quit && klease_elector_is_leader(s->e)) {
                /* The start is logged after the check: the work certainly
                 * began no earlier. */
                s->working = true;
                chaos_logat(chaos_boot_ns(), "ws %d", i);
            }
            active += s->working;
        }
        int64_t now = chaos_boot_ns();
        if (active > 0 && now - last_alive >= 20000000) {
            chaos_logat(now, "alive");
            last_alive = now;
        }
        if (quit && active == 0)
            return NULL;
        struct timespec nap = {0, (long)scan_ns};
        nanosleep(&nap, NULL);
    }
}

/* What every elector is started with, set by main before any thread. */
static klease_client *client;
static klease_manager_options mopts;
static klease_claim_params cparams;
static klease_elector_options eopts;
static atomic_int next_init;
static atomic_bool spawn_failed;

/* klease_manager_init reads (and may create) its lease: 200 of them one
 * after the other, under the simulator's latency and errors, take most of a
 * minute, so a few threads set them up in parallel. Each retries its lease
 * until it works, as a controller would, or until the process is told to
 * stop. */
#define INITERS 16

static void *init_main(void *arg)
{
    (void)arg;
    for (;;) {
        int i = atomic_fetch_add(&next_init, 1);
        if (i >= nleases)
            return NULL;
        lease_slot *s = &slots[i];
        klease_error err;
        while (klease_manager_init(&s->m, client, NULL, s->name, &mopts, &err) != KLEASE_OK) {
            chaos_logat(chaos_boot_ns(), "error init %d: %s", i, err.message);
            if (atomic_load(&quitting))
                return NULL;
            chaos_nap_ms(200);
        }
        if (klease_spawn(&s->e, s->m, ident, &cparams, &eopts, &err) != KLEASE_OK) {
            chaos_logat(chaos_boot_ns(), "error spawn %d: %s", i, err.message);
            atomic_store(&spawn_failed, true);
            return NULL;
        }
        atomic_store_explicit(&s->ready, true, memory_order_release);
    }
}

/* Closing 200 electors one after the other could take 200 vacate timeouts
 * against a hung server: a few threads close them in parallel. */
#define CLOSERS 8
static atomic_int next_close;

static void *closer_main(void *arg)
{
    (void)arg;
    for (;;) {
        int i = atomic_fetch_add(&next_close, 1);
        if (i >= nleases)
            return NULL;
        klease_error err;
        if (slots[i].e != NULL)
            klease_elector_close(slots[i].e, &err);
        slots[i].e = NULL;
    }
}

static const char *prefix = "lease";
static long long margin_ms = 2000, stop_ms = -1, scan_ms = 5, leases = 200;

static bool own_arg(const char *opt, const char *v, long long n, bool num)
{
    if (strcmp(opt, "--prefix") == 0)
        prefix = v;
    else if (strcmp(opt, "--leases") == 0 && num && n >= 1 && n <= MAX_LEASES)
        leases = n;
    else if (strcmp(opt, "--margin-ms") == 0 && num && n >= 0)
        margin_ms = n;
    else if (strcmp(opt, "--stop-ms") == 0 && num && n >= -1)
        stop_ms = n;
    else if (strcmp(opt, "--scan-ms") == 0 && num && n > 0 && n < 1000)
        scan_ms = n;
    else
        return false;
    return true;
}

int main(int argc, char **argv)
{
    chaos_proc_args pa = {
        .id = "?", .duration_ms = 6000, .grace_ms = 4000, .timeout_ms = 2500, .tolerance_ms = 1000};
    if (!chaos_proc_parse(&pa, argc, argv, own_arg, "chaos_many"))
        return 2;
    if (pa.kubeconfig == NULL || pa.log == NULL) {
        fprintf(stderr, "usage: chaos_many --kubeconfig P --id ID --log FILE [--leases N]\n");
        return 2;
    }
    if (chaos_log_open(pa.log, pa.id) != 0)
        return 2;
    ident = pa.id;
    nleases = (int)leases;
    scan_ns = scan_ms * 1000000;

    /* Only the main thread takes SIGTERM/SIGINT, through sigwait; every
     * thread created below inherits the mask. */
    sigset_t set;
    if (!chaos_take_signals(&set))
        return 0;
    chaos_logat(chaos_boot_ns(), "start %d %lld %lld", nleases, margin_ms, stop_ms);

    klease_client_options co = chaos_client_options(pa.kubeconfig, pa.timeout_ms, pa.skew_ms);
    mopts = (klease_manager_options)KLEASE_MANAGER_OPTIONS_INIT;
    mopts.create_if_missing = true;
    mopts.clock_skew_tolerance_ms = pa.tolerance_ms;
    cparams = (klease_claim_params)KLEASE_CLAIM_PARAMS_INIT;
    cparams.lease_duration_ms = pa.duration_ms;
    cparams.renew_grace_ms = pa.grace_ms;
    eopts = (klease_elector_options)KLEASE_ELECTOR_OPTIONS_INIT;
    eopts.max_backoff_ms = 1000;
    eopts.poll_interval_ms = 1000;
    eopts.vacate_timeout_ms = 1000;
    eopts.margin_ms = margin_ms;
    for (int i = 0; i < nleases; i++) {
        static const long long by_lease_ms[3] = {0, 300, 700};
        snprintf(slots[i].name, sizeof slots[i].name, "%s-%03d", prefix, i);
        slots[i].stop_ns = (stop_ms >= 0 ? stop_ms : by_lease_ms[i % 3]) * 1000000;
    }

    klease_error err;
    int rc = 0;
    if (klease_client_new(&client, &co, &err) != KLEASE_OK) {
        chaos_logat(chaos_boot_ns(), "error client: %s", err.message);
        return 1;
    }
    pthread_t worker, initers[INITERS];
    int ninit = 0;
    bool have_worker = pthread_create(&worker, NULL, worker_main, NULL) == 0;
    for (int i = 0; i < INITERS && have_worker; i++)
        if (pthread_create(&initers[ninit], NULL, init_main, NULL) == 0)
            ninit++;
    if (have_worker && ninit > 0) {
        /* Wait for SIGTERM, checking now and then that every spawn worked
         * (a failed klease_spawn is a bug: exit 1, the driver reports it). */
        struct timespec tick = {0, 200000000};
        while (sigtimedwait(&set, NULL, &tick) < 0 && !atomic_load(&spawn_failed)) {
        }
    }
    if (!have_worker || ninit == 0 || atomic_load(&spawn_failed))
        rc = 1;
    atomic_store(&quitting, true);
    for (int i = 0; i < ninit; i++)
        pthread_join(initers[i], NULL);
    chaos_logat(chaos_boot_ns(), "closing");
    if (have_worker)
        pthread_join(worker, NULL);
    pthread_t closers[CLOSERS];
    int nclosers = 0;
    for (int i = 0; i < CLOSERS; i++)
        if (pthread_create(&closers[nclosers], NULL, closer_main, NULL) == 0)
            nclosers++;
    if (nclosers == 0)
        closer_main(NULL);
    for (int i = 0; i < nclosers; i++)
        pthread_join(closers[i], NULL);
    for (int i = 0; i < nleases; i++)
        klease_manager_free(slots[i].m);
    chaos_logat(chaos_boot_ns(), "closed %d", rc);
    klease_client_free(client);
    chaos_log_close();
    return rc;
}
