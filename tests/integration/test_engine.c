/* The promises of the lease engine (issue 17) that users rely on, over HTTPS
 * against the simulator, through the public API only: a slow callback does
 * not cost another lease its renewals, 200 electors on one client renew
 * every cycle with a few threads, closing one or all of them, closing from a
 * callback, and renewals spread by jitter instead of bunching forever.
 *
 * What the server saw is read from the simulator's write history: every
 * accepted write with the renewTime the client wrote (microseconds, taken
 * from the client's wall clock when it built the request, right after it
 * read the monotonic send time its deadline counts from). So the gap between
 * two renewTimes of one lease is the gap between the two sends.
 *
 * Bounds are generous on purpose: two shared cores, five engineers building,
 * and TSan (about 5x slower). Each bound says what it leaves room for. */
#include "cmocka_wrap.h"

#include "itest.h"

#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS         "default"
#define FLEET      200
#define SPREAD_N   50
#define MAX_SERIES 64
#define MS         INT64_C(1000000) /* ns per ms */

/* ---------------------------------------------------------------- helpers */

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Threads of this process that are not the simulator's: libmicrohttpd names
 * its threads "MHD-..." (one per connection here), and the simulator runs in
 * this process, so its threads would otherwise count against the client. */
static int client_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[300], comm[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", de->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue; /* the thread ended while we looked */
        if (fgets(comm, sizeof comm, f) == NULL)
            comm[0] = '\0';
        fclose(f);
        if (strncmp(comm, "MHD-", 4) != 0)
            n++;
    }
    closedir(d);
    return n;
}

/* The thread count at rest: the least of ten samples 10 ms apart. A thread
 * the test thread starts (the simulator's listening thread) carries the test's
 * name until it renames itself, a moment later; the simulator's connection
 * threads inherit the "MHD-" name of the thread that starts them. */
static int baseline_threads(void)
{
    int least = client_threads();
    for (int i = 0; i < 9; i++) {
        itest_sleep_ms(10);
        int n = client_threads();
        least = n < least ? n : least;
    }
    return least;
}

/* Waits up to `limit_ms` for the thread count to come down to `target`
 * (a joined or exiting thread leaves /proc a moment later); returns the
 * last count seen. */
static int threads_settle(int target, int64_t limit_ms)
{
    int64_t end = itest_now_ms() + limit_ms;
    int n = client_threads();
    while (n > target && itest_now_ms() < end) {
        itest_sleep_ms(20);
        n = client_threads();
    }
    return n;
}

static klease_claim_params params(int64_t duration_ms, int64_t grace_ms)
{
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    p.lease_duration_ms = duration_ms;
    p.renew_grace_ms = grace_ms;
    return p;
}

static klease_elector *spawn(klease_manager *m, const char *id, const klease_claim_params *p,
                             klease_elector_change_fn fn, void *user)
{
    klease_elector_options o = KLEASE_ELECTOR_OPTIONS_INIT;
    o.on_change = fn;
    o.user = user;
    o.max_backoff_ms = 200;
    o.poll_interval_ms = 500;
    klease_elector *e = NULL;
    klease_error err;
    if (klease_spawn(&e, m, id, p, &o, &err) != KLEASE_OK)
        fail_msg("spawn %s: %s", id, err.message);
    return e;
}

/* Polls every 10 ms until `e` leads; false after `limit_ms`. */
static bool await_leading(klease_elector *e, int64_t limit_ms)
{
    int64_t end = itest_now_ms() + limit_ms;
    while (!klease_elector_is_leader(e)) {
        if (itest_now_ms() >= end)
            return false;
        itest_sleep_ms(10);
    }
    return true;
}

/* The writes of one lease as the server accepted them. */
typedef struct series {
    int64_t renew[MAX_SERIES]; /* renewTime (ns) of each write naming `holder` */
    int n;
    int vacates;  /* writes that cleared the holder */
    bool foreign; /* a write naming someone else */
} series;

static void series_of(const ksim_history_entry *h, size_t n, const char *name, const char *holder,
                      series *s)
{
    *s = (series){0};
    for (size_t i = 0; i < n; i++) {
        if (strcmp(h[i].name, name) != 0)
            continue;
        if (h[i].holder == NULL) {
            if (h[i].op != KSIM_OP_CREATE)
                s->vacates++;
        } else if (strcmp(h[i].holder, holder) != 0) {
            s->foreign = true;
        } else if (h[i].has_renew_time && s->n < MAX_SERIES) {
            s->renew[s->n++] = h[i].renew_time_ns;
        }
    }
}

static void history(ksim *sim, ksim_history_entry **h, size_t *n)
{
    assert_int_equal(ksim_history_get(sim, 0, h, n), 0);
}

/* Every gap between two successive writes of `s` (acquisition included),
 * and from the last one to `until` (wall ns), is at most `max_gap_ns`: the
 * lease was renewed each cycle, never left to run out. */
static void assert_renewed_throughout(const series *s, const char *what, int64_t until,
                                      int64_t max_gap_ns)
{
    if (s->n == 0)
        fail_msg("%s: never written", what);
    for (int i = 1; i < s->n; i++)
        if (s->renew[i] - s->renew[i - 1] > max_gap_ns)
            fail_msg("%s: %lld ms between renewals %d and %d (at most %lld allowed)", what,
                     (long long)((s->renew[i] - s->renew[i - 1]) / MS), i - 1, i,
                     (long long)(max_gap_ns / MS));
    if (until - s->renew[s->n - 1] > max_gap_ns)
        fail_msg("%s: not renewed for the last %lld ms (at most %lld allowed)", what,
                 (long long)((until - s->renew[s->n - 1]) / MS), (long long)(max_gap_ns / MS));
}

/* A fleet of electors on one client, one lease each, one identity. */
typedef struct fleet {
    ksim *sim;
    klease_client *client;
    klease_manager *m[FLEET];
    klease_elector *e[FLEET];
    char name[FLEET][32];
    int n;
    int threads_before; /* before the client was made */
    /* The callbacks' state: on the heap and freed after every elector is
     * closed, since their last calls come from close in the teardown. */
    void *ctx;
} fleet;

static int fleet_setup(void **state)
{
    fleet *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    f->sim = itest_sim(NULL);
    f->threads_before = baseline_threads();
    f->client = itest_client(f->sim, KSIM_KUBECONFIG_TOKEN, 0);
    *state = f;
    return 0;
}

static void fleet_close(fleet *f)
{
    for (int i = 0; i < f->n; i++) {
        klease_elector_close(f->e[i], NULL);
        f->e[i] = NULL;
    }
}

static int fleet_teardown(void **state)
{
    fleet *f = *state;
    fleet_close(f);
    for (int i = 0; i < f->n; i++)
        klease_manager_free(f->m[i]);
    klease_client_free(f->client);
    ksim_stop(f->sim);
    free(f->ctx);
    free(f);
    return 0;
}

/* Makes `n` leases (prefix-000...) and their managers; no elector yet. */
static void fleet_managers(fleet *f, const char *prefix, int n)
{
    for (int i = 0; i < n; i++) {
        snprintf(f->name[i], sizeof f->name[i], "%s-%03d", prefix, i);
        f->m[i] = itest_manager(f->client, NS, f->name[i], true);
    }
    f->n = n;
}

#define FLEET_ID "fleet-holder"

static void fleet_spawn(fleet *f, const klease_claim_params *p)
{
    for (int i = 0; i < f->n; i++)
        f->e[i] = spawn(f->m[i], FLEET_ID, p, NULL, NULL);
}

/* Waits until every elector of the fleet leads. The bound leaves room for
 * `n` acquisitions through the client's bounded connection pool on two
 * shared cores under TSan; the engine normally needs well under a second. */
static void fleet_await_all_leading(fleet *f, int64_t limit_ms)
{
    int64_t end = itest_now_ms() + limit_ms;
    for (int i = 0; i < f->n; i++)
        if (!await_leading(f->e[i], end - itest_now_ms()))
            fail_msg("%s: not leading %lld ms after the spawn", f->name[i], (long long)limit_ms);
}

/* Samples every elector of the fleet every 10 ms for `ms`, failing on the
 * first one that is not leading (skip: an index not to sample, or -1); also
 * returns the largest thread count seen. */
static int fleet_watch(fleet *f, int64_t ms, int skip)
{
    int most = 0;
    int64_t end = itest_now_ms() + ms;
    while (itest_now_ms() < end) {
        for (int i = 0; i < f->n; i++)
            if (i != skip && f->e[i] != NULL && !klease_elector_is_leader(f->e[i])) {
                klease_error err = {0};
                klease_status st = klease_elector_status(f->e[i], &err);
                klease_claim c;
                bool has = false;
                klease_elector_current(f->e[i], &c, &has);
                ksim_history_entry *h;
                size_t n;
                history(f->sim, &h, &n);
                series s;
                series_of(h, n, f->name[i], FLEET_ID, &s);
                ksim_history_free(h, n);
                fail_msg("%s lost its leadership (status %s: %s; %s, %lld ms left; %d writes, the "
                         "last %lld ms ago)",
                         f->name[i], klease_strerror(st), err.message, has ? c.holder : "unheld",
                         (long long)klease_claim_time_left_ms(&c), s.n,
                         s.n ? (long long)((wall_ns() - s.renew[s.n - 1]) / MS) : -1LL);
            }
        int t = client_threads();
        if (t > most)
            most = t;
        itest_sleep_ms(10);
    }
    return most;
}

/* ------------------------------------------------------ 1: slow callback */

/* A's callback: the first time A leads, it sleeps `block_ms`. */
typedef struct slow_cb {
    int64_t block_ms;
    atomic_bool blocked_once;
    atomic_bool blocking;
    atomic_bool done;
    atomic_int calls;
} slow_cb;

static void on_change_slow(void *user, const klease_claim *claim, bool leading,
                           klease_status status)
{
    (void)claim;
    (void)status;
    slow_cb *s = user;
    atomic_fetch_add(&s->calls, 1);
    if (s->block_ms > 0 && leading && !atomic_exchange(&s->blocked_once, true)) {
        atomic_store(&s->blocking, true);
        itest_sleep_ms(s->block_ms);
        atomic_store(&s->blocking, false);
        atomic_store(&s->done, true);
    }
}

/* 3 s leases with a 2 s grace and the automatic margin (1 s): each renewal
 * is due 1 to 2 s after the previous one was sent, and leadership ends 2 s
 * after it if none lands. A blocks in its callback for three lease
 * durations; meanwhile B (and A) must keep renewing and leading.
 * Asserted: B's and A's is_leader() true at every 10 ms sample while A's
 * callback sleeps, and on the server every gap between renewals of either
 * lease at most 2.5 s: the latest a renewal may be sent (deadline - margin,
 * 2 s) plus 500 ms for scheduling on the shared cores; still short of the
 * 3 s after which the lease would have run out.
 * NOT asserted: that B's callbacks arrive on time. Callbacks of one client
 * share one callback thread and are delivered in order, so B's may wait
 * behind A's sleeping callback; only B's renewals and is_leader() are
 * promised.
 * Can it fail? On today's code (one thread per elector, which cannot renew
 * while its own callback runs) A stops renewing: its is_leader() turns false
 * 2 s into the sleep and the test fails on A, while B passes (checked with
 * the A assertions disabled). Giving B the same blocking callback (tried
 * once by hand) fails the B check the same way. */
static void test_a_slow_callback_does_not_delay_another_lease_renewal(void **state)
{
    fleet *f = *state;
    fleet_managers(f, "slow", 2);
    klease_claim_params p = params(3000, 2000);
    const int64_t block_ms = 3 * 3000;
    const int64_t max_gap = (3000 - 1000 + 500) * MS;
    slow_cb *cb = f->ctx = calloc(2, sizeof *cb);
    assert_non_null(cb);
    slow_cb *a_cb = &cb[0], *b_cb = &cb[1];
    a_cb->block_ms = block_ms;
    klease_elector *b = f->e[1] = spawn(f->m[1], "slow-b-holder", &p, on_change_slow, b_cb);
    assert_true(await_leading(b, 10000));
    klease_elector *a = f->e[0] = spawn(f->m[0], "slow-a-holder", &p, on_change_slow, a_cb);

    int64_t end = itest_now_ms() + 10000;
    while (!atomic_load(&a_cb->blocking) && itest_now_ms() < end)
        itest_sleep_ms(1);
    assert_true(atomic_load(&a_cb->blocking));
    int64_t from = wall_ns();
    int samples = 0, b_lost = 0, a_lost = 0;
    int64_t a_lost_after = -1, t0 = itest_now_ms();
    /* Sample until A's callback returns (bounded in case it never does). */
    end = t0 + block_ms + 10000;
    while (!atomic_load(&a_cb->done) && itest_now_ms() < end) {
        samples++;
        b_lost += !klease_elector_is_leader(b);
        if (!klease_elector_is_leader(a)) {
            if (a_lost++ == 0)
                a_lost_after = itest_now_ms() - t0;
        }
        itest_sleep_ms(10);
    }
    int64_t until = wall_ns();
    assert_true(atomic_load(&a_cb->done));
    if (b_lost > 0)
        fail_msg("B was not leading in %d of %d samples while A's callback slept", b_lost, samples);
    if (a_lost > 0)
        fail_msg("A was not leading in %d of %d samples while its callback slept (first after "
                 "%lld ms): its renewals stopped",
                 a_lost, samples, (long long)a_lost_after);

    /* A renewal sent just before `until` may still be on its way. */
    itest_sleep_ms(500);
    ksim_history_entry *h;
    size_t n;
    history(f->sim, &h, &n);
    series sa, sb;
    series_of(h, n, f->name[0], "slow-a-holder", &sa);
    series_of(h, n, f->name[1], "slow-b-holder", &sb);
    ksim_history_free(h, n);
    assert_renewed_throughout(&sb, "B", until, max_gap);
    assert_renewed_throughout(&sa, "A", until, max_gap);
    /* Nine seconds at one renewal per 1 to 2.5 s: at least three of each. */
    int b_during = 0;
    for (int i = 0; i < sb.n; i++)
        b_during += sb.renew[i] >= from;
    assert_true(b_during >= 3);
    assert_true(sa.n >= 1 + 3);
}

/* ------------------------------------------------ 2: many on one client */

/* 200 leases of 6 s (grace 4 s, automatic margin 2 s: a renewal every 2 to
 * 4 s, with 2 s to retry before leadership ends) held by one client for
 * 12.5 s, at least three renewal cycles. The long retry room is for TSan:
 * with 4 s leases and a 1 s room, today's 200 threads, renewing in bunches
 * through 16 connections, let one lease lapse under TSan. Asserted: all 200
 * acquired; each leads at every 10 ms sample; on the server every gap
 * between two writes of each lease, and from the last one to the end, is at
 * most 4.5 s (the latest send, 4 s, plus 500 ms of scheduling slack; a lease
 * not renewed for 6 s would have run out), with at least 3 renewals each; and
 * the client's threads (the simulator's excluded) grow by at most 3 after
 * all 200 are spawned (an engine thread, a callback thread, one spare).
 * Can it fail? On today's code (one thread per elector) the thread check
 * fails: 200 more threads. Everything before it passes there (checked with
 * the thread check disabled); a lease left unrenewed would trip both the
 * sampling and the server-side gap check. */
static void test_two_hundred_electors_on_one_client_renew_every_cycle_with_few_threads(void **state)
{
    fleet *f = *state;
    fleet_managers(f, "many", FLEET);
    klease_claim_params p = params(6000, 4000);
    int before = baseline_threads();
    fleet_spawn(f, &p);
    fleet_await_all_leading(f, 60000);
    int after_spawn = client_threads();
    int most = fleet_watch(f, 12500, -1);
    int64_t until = wall_ns();
    if (after_spawn > most)
        most = after_spawn;
    print_message("threads: %d before spawning %d electors, at most %d while they ran\n", before,
                  FLEET, most);

    itest_sleep_ms(500); /* renewals sent just before `until` */
    ksim_history_entry *h;
    size_t n;
    history(f->sim, &h, &n);
    for (int i = 0; i < FLEET; i++) {
        series s;
        series_of(h, n, f->name[i], FLEET_ID, &s);
        assert_renewed_throughout(&s, f->name[i], until, (4000 + 500) * MS);
        if (s.n < 1 + 3)
            fail_msg("%s: renewed only %d times in 12.5 s", f->name[i], s.n - 1);
        assert_false(s.foreign);
    }
    ksim_history_free(h, n);
    if (most > before + 3)
        fail_msg("%d electors on one client took %d more threads (at most 3 expected)", FLEET,
                 most - before);
}

/* ------------------------------------------------------------ 3: closing */

/* 200 electors of 6 s leases on one client (grace 4 s, margin 2 s, as in
 * the test above), and a follower of lease 100 on a second client. Closing
 * elector 100 vacates that lease only: the server records a vacate, the
 * follower leads within 3 s (the vacate, the watch event and an acquisition
 * are three round trips; 3 s is room for TSan on shared cores; without the
 * vacate it would wait for expiry plus the 1 s skew tolerance), and the
 * other 199 lead at every sample and renew at least once over the following
 * 4.5 s (the longest renewal cycle plus slack). Closing the 199 in a loop
 * then ends within 30 s (each close sends one vacate: 199 round trips,
 * normally well under a second; 30 s covers TSan and the shared
 * cores), every lease is left unheld (klease_lease_list from a third client),
 * the first client's threads are back to at most what it had before the
 * spawn plus 3 (an engine that stays with its client), and after both clients
 * are freed, exactly what the process had before them.
 * Can it fail? Leaving one elector unclosed (tried once by hand) fails the
 * unheld-lease check, and its thread (today) or its registration would fail
 * the thread checks after it. A close that did not vacate would fail the
 * vacate count of that lease. Passes on today's code. */
static void
test_closing_one_of_two_hundred_hands_over_only_that_lease_and_closing_all_is_clean(void **state)
{
    fleet *f = *state;
    fleet_managers(f, "close", FLEET);
    klease_claim_params p = params(6000, 4000);
    int before_spawn = baseline_threads();
    fleet_spawn(f, &p);
    fleet_await_all_leading(f, 60000);

    const int k = 100;
    klease_client *other = itest_client(f->sim, KSIM_KUBECONFIG_TOKEN, 0);
    klease_manager *fm = itest_manager(other, NS, f->name[k], false);
    klease_elector *follower = spawn(fm, "follower", &p, NULL, NULL);
    itest_sleep_ms(500); /* let the follower settle into its watch */
    assert_false(klease_elector_is_leader(follower));

    int64_t closed_at = itest_now_ms();
    int64_t closed_wall = wall_ns();
    assert_int_equal(klease_elector_close(f->e[k], NULL), KLEASE_OK);
    f->e[k] = NULL;
    bool took_over = await_leading(follower, 3000);
    int64_t took = itest_now_ms() - closed_at;
    if (!took_over)
        fail_msg("the follower did not take %s within 3 s of its close", f->name[k]);
    print_message("close: the follower led %lld ms after the close began\n", (long long)took);

    fleet_watch(f, 4500, k);
    ksim_history_entry *h;
    size_t n;
    history(f->sim, &h, &n);
    for (int i = 0; i < FLEET; i++) {
        series s;
        series_of(h, n, f->name[i], FLEET_ID, &s);
        if (i == k) {
            assert_int_equal(s.vacates, 1);
            continue;
        }
        if (s.vacates != 0 || s.foreign)
            fail_msg("%s was touched by the close of %s", f->name[i], f->name[k]);
        if (s.renew[s.n - 1] < closed_wall)
            fail_msg("%s was not renewed after the close of %s", f->name[i], f->name[k]);
    }
    ksim_history_free(h, n);

    int64_t t0 = itest_now_ms();
    fleet_close(f);
    int64_t close_ms = itest_now_ms() - t0;
    print_message("close: %d electors closed in %lld ms\n", FLEET - 1, (long long)close_ms);
    assert_true(close_ms < 30000);
    assert_int_equal(klease_elector_close(follower, NULL), KLEASE_OK);

    klease_client *lister = itest_client(f->sim, KSIM_KUBECONFIG_TOKEN, 0);
    klease_lease_info *leases = NULL;
    size_t nl = 0;
    assert_int_equal(klease_lease_list(lister, NS, false, &leases, &nl, NULL), KLEASE_OK);
    assert_int_equal(nl, FLEET);
    for (size_t i = 0; i < nl; i++)
        if (leases[i].held)
            fail_msg("%s is still held by %s after every elector closed", leases[i].name,
                     leases[i].claim.holder);
    klease_lease_list_free(leases);
    klease_client_free(lister);

    klease_manager_free(fm);
    klease_client_free(other);
    /* Up to 2 s for joined threads to leave /proc. */
    int left = threads_settle(before_spawn + 3, 2000);
    if (left > before_spawn + 3)
        fail_msg("%d threads after closing every elector, %d before the spawn", left, before_spawn);
    for (int i = 0; i < f->n; i++)
        klease_manager_free(f->m[i]);
    f->n = 0;
    klease_client_free(f->client);
    f->client = NULL;
    left = threads_settle(f->threads_before, 2000);
    if (left != f->threads_before)
        fail_msg("%d threads after freeing the clients, %d before them", left, f->threads_before);
}

/* ------------------------------------------------ 4: close from callback */

typedef struct inside {
    klease_elector *self;  /* set before the first leading call can use it */
    klease_elector *other; /* another elector of the same client */
    klease_manager *self_m, *other_m;
    const char *self_id, *other_id;
    atomic_bool armed; /* self/other are set */
    atomic_bool done;
    /* What the callback saw, checked on the test thread. */
    klease_status close_st, close_err_st;
    bool close_err_message;
    bool self_leader, other_leader;
    bool self_current_ok, other_current_ok;
    bool self_claimed_ok, other_claimed_ok;
} inside;

static bool names(const klease_claim *c, bool has, const char *id)
{
    return has && strcmp(c->holder, id) == 0;
}

static void on_change_inside(void *user, const klease_claim *claim, bool leading,
                             klease_status status)
{
    (void)claim;
    inside *in = user;
    if (!leading || status != KLEASE_OK || !atomic_load(&in->armed) || atomic_load(&in->done))
        return;
    klease_error err = {0};
    in->close_st = klease_elector_close(in->self, &err);
    in->close_err_st = err.status;
    in->close_err_message = err.message[0] != '\0';
    in->self_leader = klease_elector_is_leader(in->self);
    in->other_leader = klease_elector_is_leader(in->other);
    klease_claim c;
    bool has = false;
    klease_elector_current(in->self, &c, &has);
    in->self_current_ok = names(&c, has, in->self_id);
    klease_elector_current(in->other, &c, &has);
    in->other_current_ok = names(&c, has, in->other_id);
    in->self_claimed_ok =
        klease_claimed(in->self_m, &c, &has) == KLEASE_OK && names(&c, has, in->self_id);
    in->other_claimed_ok =
        klease_claimed(in->other_m, &c, &has) == KLEASE_OK && names(&c, has, in->other_id);
    atomic_store(&in->done, true);
}

/* An elector's callback closes its own elector: KLEASE_EINVAL with a
 * message, and nothing changes (it still leads and renews, and a close from
 * the test thread later vacates normally); from the same callback,
 * is_leader, elector_current and klease_claimed of itself and of another
 * elector of the same client answer at once and correctly. A deadlock would
 * show as the callback never finishing within 10 s.
 * Leases of 3 s, grace 2 s: a renewal every 1 to 2 s.
 * Can it fail? A close that went ahead from the callback would deadlock (the
 * 10 s bound) or stop A (then the leading, status and vacate checks fail);
 * a read that took a lock held around the callback would deadlock. Passes
 * on today's code, where the callback runs on the elector's own thread; with
 * the engine it runs on the client's callback thread. */
static void
test_closing_an_elector_from_its_own_callback_is_refused_and_reads_do_not_deadlock(void **state)
{
    fleet *f = *state;
    fleet_managers(f, "inside", 2);
    klease_claim_params p = params(3000, 2000);
    inside *in = f->ctx = calloc(1, sizeof *in);
    assert_non_null(in);
    in->self_m = f->m[0];
    in->other_m = f->m[1];
    in->self_id = "inside-a";
    in->other_id = "inside-b";
    klease_elector *b = f->e[1] = spawn(f->m[1], in->other_id, &p, NULL, NULL);
    assert_true(await_leading(b, 10000));
    /* The callback only acts once `armed` says `self` is set, and a renewal
     * publishes a new claim (a new deadline) within 2 s, so it will run. */
    klease_elector *a = f->e[0] = spawn(f->m[0], in->self_id, &p, on_change_inside, in);
    in->self = a;
    in->other = b;
    atomic_store(&in->armed, true);
    int64_t end = itest_now_ms() + 10000;
    while (!atomic_load(&in->done) && itest_now_ms() < end)
        itest_sleep_ms(5);
    if (!atomic_load(&in->done))
        fail_msg("the callback did not finish within 10 s: a deadlock?");
    assert_int_equal(in->close_st, KLEASE_EINVAL);
    assert_int_equal(in->close_err_st, KLEASE_EINVAL);
    assert_true(in->close_err_message);
    assert_true(in->self_leader);
    assert_true(in->other_leader);
    assert_true(in->self_current_ok);
    assert_true(in->other_current_ok);
    assert_true(in->self_claimed_ok);
    assert_true(in->other_claimed_ok);

    /* Nothing changed: A still leads through its next renewals (a cycle is
     * at most 2 s; 3 s of samples span at least one), and its status is OK. */
    int64_t after = wall_ns();
    end = itest_now_ms() + 3000;
    while (itest_now_ms() < end) {
        assert_true(klease_elector_is_leader(a));
        itest_sleep_ms(10);
    }
    assert_int_equal(klease_elector_status(a, NULL), KLEASE_OK);
    ksim_history_entry *h;
    size_t n;
    history(f->sim, &h, &n);
    series s;
    series_of(h, n, f->name[0], in->self_id, &s);
    ksim_history_free(h, n);
    assert_int_equal(s.vacates, 0);
    assert_true(s.n >= 2 && s.renew[s.n - 1] > after);

    assert_int_equal(klease_elector_close(a, NULL), KLEASE_OK);
    f->e[0] = NULL;
    history(f->sim, &h, &n);
    series_of(h, n, f->name[0], in->self_id, &s);
    ksim_history_free(h, n);
    assert_int_equal(s.vacates, 1);
}

/* ------------------------------------------------------ 5: spread renewals */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The most values of sorted `v` inside any window of `w`. */
static int densest(const int64_t *v, int n, int64_t w)
{
    int most = 0;
    for (int i = 0, j = 0; i < n; i++) {
        while (v[i] - v[j] >= w)
            j++;
        if (i - j + 1 > most)
            most = i - j + 1;
    }
    return most;
}

/* 50 electors spawned in one loop with 4 s leases, a 2 s grace and the
 * automatic margin (1 s): each renewal is due in [deadline - 2 s,
 * deadline - 1 s], 2 to 3 s after the previous send. (With 2 s leases and a
 * 500 ms window, today's threads missed it under TSan at a load average of
 * 70 on the two cores.) Five renewals of each
 * are recorded on the server.
 *
 * Window: every gap between two successive writes of a lease lies in
 * [2000 - 50, 3000 + 500] ms. Below: renewTime is read right after the send
 * time that the deadline counts from, so the gap between two renewTimes is
 * the gap between the sends within microseconds today; 50 ms covers an
 * engine that reads the two clocks a little apart (a request waiting for a
 * connection) and a clock read delayed by preemption. Above: 500 ms of
 * scheduling slack on the shared cores (still short of the 4 s at which the
 * lease would run out).
 *
 * Spread: the fifth renewals must be spread (max - min of their renewTimes)
 * at least 100 ms wider than the acquisitions were. Without jitter each
 * lease renews at a fixed offset from its acquisition, so the spread stays
 * what the acquisitions made it (today: 24 ms then 27 ms, 43 then 45, 18
 * then 21). With jitter the fifth renewal of each lease is its acquisition
 * plus five random draws, so the spread grows like a random walk: drawing
 * from the whole 1 s window it grows by about 1.8 s, and even drawing
 * from only 100 ms of it, it grew by at least 136 ms in 3,000 simulated
 * runs (a per-lease fixed offset grows by five times its range). The count
 * of leases in the densest 50 ms window was considered and rejected: with
 * a 500 ms jitter it still reached 12 of 50 now and then, and with a
 * 100 ms jitter more than 25, so a threshold that fails today's bunching
 * (50 of 50) would be flaky for some valid engine. It is printed.
 *
 * Lateness: the growth alone passes today's code under heavy load (TSan at a
 * load average of 30 grew the spread by 220 ms: wake-ups late by up to
 * 170 ms, at random). So the median of the 250 gaps, counted from the start
 * of the grace window, must also be at least 40 ms: without jitter most
 * renewals go out within a few ms of it even then (late wake-ups are the
 * exception), while any jitter drawn from 80 ms or more of the window (or a
 * per-lease offset of that range) puts the median past 40 ms.
 *
 * Can it fail? It fails on today's code (no jitter): the spread grew by 2 to
 * 3 ms in every run. The window checks before it pass there. */
static void test_renewals_of_electors_spawned_together_spread_inside_the_grace_window(void **state)
{
    fleet *f = *state;
    fleet_managers(f, "spread", SPREAD_N);
    klease_claim_params p = params(4000, 2000);
    fleet_spawn(f, &p);
    /* Five renewals take at most 5 x 3.5 s; 30 s also covers a slow ramp-up. */
    series s[SPREAD_N];
    int64_t end = itest_now_ms() + 30000;
    for (;;) {
        ksim_history_entry *h;
        size_t n;
        history(f->sim, &h, &n);
        int ready = 0;
        for (int i = 0; i < SPREAD_N; i++) {
            series_of(h, n, f->name[i], FLEET_ID, &s[i]);
            ready += s[i].n >= 1 + 5;
        }
        ksim_history_free(h, n);
        if (ready == SPREAD_N)
            break;
        if (itest_now_ms() >= end)
            fail_msg("only %d of %d leases renewed five times in 30 s", ready, SPREAD_N);
        itest_sleep_ms(200);
    }

    int64_t first[SPREAD_N], fifth[SPREAD_N], late[SPREAD_N * 5];
    for (int i = 0; i < SPREAD_N; i++) {
        assert_false(s[i].foreign);
        for (int c = 1; c <= 5; c++) {
            int64_t gap = s[i].renew[c] - s[i].renew[c - 1];
            late[i * 5 + c - 1] = gap - 2000 * MS;
            if (gap < (2000 - 50) * MS || gap > (3000 + 500) * MS)
                fail_msg("%s: renewal %d came %lld ms after the previous write, outside the "
                         "grace window (2000 to 3000 ms)",
                         f->name[i], c, (long long)(gap / MS));
        }
        first[i] = s[i].renew[0];
        fifth[i] = s[i].renew[5];
    }
    qsort(first, SPREAD_N, sizeof first[0], cmp_i64);
    qsort(fifth, SPREAD_N, sizeof fifth[0], cmp_i64);
    qsort(late, SPREAD_N * 5, sizeof late[0], cmp_i64);
    int64_t late_median = late[SPREAD_N * 5 / 2];
    int dense_first = densest(first, SPREAD_N, 50 * MS);
    int dense_fifth = densest(fifth, SPREAD_N, 50 * MS);
    print_message("spread: renewals %lld..%lld ms into the grace window (median %lld); "
                  "acquisitions over %lld ms (densest 50 ms: %d), fifth renewals over %lld ms "
                  "(densest 50 ms: %d)\n",
                  (long long)(late[0] / MS), (long long)(late[SPREAD_N * 5 - 1] / MS),
                  (long long)(late_median / MS), (long long)((first[SPREAD_N - 1] - first[0]) / MS),
                  dense_first, (long long)((fifth[SPREAD_N - 1] - fifth[0]) / MS), dense_fifth);
    int64_t grew = (fifth[SPREAD_N - 1] - fifth[0]) - (first[SPREAD_N - 1] - first[0]);
    if (grew < 100 * MS)
        fail_msg("renewals stay bunched: after five cycles they spread only %lld ms wider than the "
                 "acquisitions (at least 100 ms expected from jitter)",
                 (long long)(grew / MS));
    if (late_median < 40 * MS)
        fail_msg("renewals start at the beginning of the grace window: half of them within %lld ms "
                 "of it (at least 40 ms expected from jitter)",
                 (long long)(late_median / MS));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fleet_setup, fleet_teardown)
    const struct CMUnitTest tests[] = {
        T(test_a_slow_callback_does_not_delay_another_lease_renewal),
        T(test_two_hundred_electors_on_one_client_renew_every_cycle_with_few_threads),
        T(test_closing_one_of_two_hundred_hands_over_only_that_lease_and_closing_all_is_clean),
        T(test_closing_an_elector_from_its_own_callback_is_refused_and_reads_do_not_deadlock),
        T(test_renewals_of_electors_spawned_together_spread_inside_the_grace_window),
    };
    return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
