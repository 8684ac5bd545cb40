/* The elector over the scripted transport and the fake clock: renew schedule,
 * backoff, loss at the deadline while the server hangs, following by watch,
 * fatal errors, and close in each state. */
#include "cmocka_wrap.h"

#include "core/alloc.h"
#include "core/fake_clock.h"
#include "engine/engine.h"
#include "engine/engine_private.h"
#include "lease/elector_private.h"
#include "lease/renew_jitter.h"
#include "api/client.h"
#include "lease/manager.h"
#include "lease_fixtures.h"
#include "scripted_transport.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    scripted_transport *t;
    klease__fake_clock *fc;
    klease_client *client;
    klease_manager *m;
    klease_elector *e;
    klease_claim_params params; /* 30 s, grace 1 s */
    klease_elector_options opts;
    /* what the change callback saw */
    pthread_mutex_t mu;
    int calls;
    bool last_leading;
    klease_status last_status;
    /* set: the callback waits (on gate_cond) until it is cleared */
    bool gate_closed;
    pthread_cond_t gate_cond;
    /* set: the callback tries to close this elector (it must be refused) */
    klease_elector *close_from_callback;
    klease_status callback_close_status;
    char callback_close_message[KLEASE_ERROR_MESSAGE_MAX];
    char log[4096]; /* every log line, one per line */
} fixture;

static void on_change(void *user, const klease_claim *claim, bool leading, klease_status status)
{
    fixture *f = user;
    (void)claim;
    pthread_mutex_lock(&f->mu);
    f->calls++;
    f->last_leading = leading;
    f->last_status = status;
    while (f->gate_closed)
        pthread_cond_wait(&f->gate_cond, &f->mu);
    klease_elector *e = f->close_from_callback;
    f->close_from_callback = NULL;
    pthread_mutex_unlock(&f->mu);
    if (e != NULL) {
        klease_error err;
        klease_status st = klease_elector_close(e, &err);
        pthread_mutex_lock(&f->mu);
        f->callback_close_status = st;
        snprintf(f->callback_close_message, sizeof f->callback_close_message, "%s", err.message);
        pthread_mutex_unlock(&f->mu);
    }
}

static void capture_log(void *user, klease_log_level level, const char *msg)
{
    fixture *f = user;
    (void)level;
    pthread_mutex_lock(&f->mu);
    size_t n = strlen(f->log);
    snprintf(f->log + n, sizeof f->log - n, "%s\n", msg);
    pthread_mutex_unlock(&f->mu);
}

static int64_t now_wall(fixture *f)
{
    return klease__wall_ns(klease__fake_clock_get(f->fc));
}

static int64_t now_mono(fixture *f)
{
    return klease__mono_ns(klease__fake_clock_get(f->fc));
}

/* Manager initialised from lease-a; holder NULL for an unheld lease. */
static fixture *new_fixture(const char *holder)
{
    fixture *f = calloc(1, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->gate_cond, NULL);
    /* Renew exactly at deadline - grace, so the schedule below is exact; the
     * jitter has its own test. */
    klease__test_renew_jitter(false);
    f->t = scripted_new();
    f->fc = klease__fake_clock_new(MONO0, WALL0);
    f->t->clock = klease__fake_clock_get(f->fc);
    assert_int_equal(klease__client_new_with_transport(&f->client, &f->t->base,
                                                       klease__fake_clock_get(f->fc), "ns", NULL),
                     KLEASE_OK);
    push_lease(f->t, 200, 10, holder, now_wall(f), 30, 3);
    assert_int_equal(klease_manager_init(&f->m, f->client, NULL, "lease-a", NULL, NULL), KLEASE_OK);
    f->params = (klease_claim_params)KLEASE_CLAIM_PARAMS_INIT;
    f->opts = (klease_elector_options)KLEASE_ELECTOR_OPTIONS_INIT;
    f->opts.on_change = on_change;
    f->opts.user = f;
    return f;
}

static void spawn(fixture *f)
{
    assert_int_equal(klease_spawn(&f->e, f->m, "me", &f->params, &f->opts, NULL), KLEASE_OK);
}

static klease_status close_and_free(fixture *f)
{
    klease_status st = klease_elector_close(f->e, NULL);
    klease_manager_free(f->m);
    klease_client_free(f->client);
    scripted_free(f->t);
    klease__fake_clock_free(f->fc);
    pthread_cond_destroy(&f->gate_cond);
    pthread_mutex_destroy(&f->mu);
    free(f);
    return st;
}

/* Callbacks run on the engine's callback thread, after the change is
 * published: waits (real time, up to 10 s) until `n` have run. */
static void await_calls(fixture *f, uint64_t n)
{
    for (int i = 0; i < 10000; i++) {
        pthread_mutex_lock(&f->mu);
        bool done = (uint64_t)f->calls >= n;
        pthread_mutex_unlock(&f->mu);
        if (done)
            return;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    fail_msg("fewer than %llu callbacks within 10 s", (unsigned long long)n);
}

/* Requests the transport has seen (it records them on the engine's threads). */
static size_t requests_made(fixture *f)
{
    pthread_mutex_lock(&f->t->mu);
    size_t n = f->t->nrequests;
    pthread_mutex_unlock(&f->t->mu);
    return n;
}

/* Waits (real time, up to 10 s) until the log holds `needle`. */
static bool await_log(fixture *f, const char *needle)
{
    for (int i = 0; i < 10000; i++) {
        pthread_mutex_lock(&f->mu);
        bool found = strstr(f->log, needle) != NULL;
        pthread_mutex_unlock(&f->mu);
        if (found)
            return true;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

/* Waits (real time) until the elector thread sleeps on the fake clock, and
 * returns the deadline it sleeps until. */
static int64_t elector_sleeps_until(fixture *f)
{
    /* The engine thread, idle before its first task, sleeps without a
     * deadline: that is not the elector sleeping. */
    for (int i = 0; i < 10000; i++) {
        assert_true(klease__fake_clock_await_sleepers(f->fc, 1, 10000));
        int64_t next = klease__fake_clock_next_deadline(f->fc);
        if (next != INT64_MAX)
            return next;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    fail_msg("the elector did not go to sleep within 10 s");
    return 0;
}

/* Waits for the next published change (the elector's thread publishes). */
static void next_change(fixture *f, uint64_t *seen, klease_claim *claim, bool *has)
{
    /* A bounded real wait: poll the version rather than sleep on the fake clock. */
    for (int i = 0; i < 10000; i++) {
        if (klease_elector_wait_change(f->e, seen, 0, claim, has) != KLEASE_ETIMEDOUT)
            return;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    fail_msg("no change published within 10 s");
}

/* The elector acquires an unheld lease; returns the claim. */
static klease_claim lead(fixture *f, uint64_t *seen)
{
    push_lease(f->t, 200, 11, "me", now_wall(f), 30, 4);
    int64_t sent = now_mono(f);
    spawn(f);
    klease_claim claim;
    bool has = false;
    next_change(f, seen, &claim, &has);
    assert_true(has);
    assert_string_equal(claim.holder, "me");
    assert_int_equal(claim.deadline_mono_ns, sent + 30 * S);
    assert_true(klease_elector_is_leader(f->e));
    return claim;
}

/* With the jitter on, the renewal starts inside the grace window, early
 * (30 s / 1 s / 500 ms: within [29 s, 29.1 s) after the acquire: a tenth of
 * the grace), and the draws differ, so leases that were acquired together do
 * not renew together. */
static void test_renewals_are_jittered_inside_the_grace_window(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    klease__test_renew_jitter(true);
    uint64_t seen = 0;
    klease_claim claim = lead(f, &seen);
    int64_t start = claim.deadline_mono_ns - 1 * S;
    int64_t wake = elector_sleeps_until(f);
    /* Strictly later: an elector that ignored the jitter would wake at the
     * start itself (a zero draw has odds of one in 10^8). */
    assert_true(wake > start);
    assert_true(wake < start + 100 * MS);
    close_and_free(f);
    /* The draw itself: in range, and not one value. */
    uint64_t rng = 12345;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int i = 0; i < 1000; i++) {
        int64_t j = klease__renew_jitter_ns(1 * S, 500 * MS, &rng);
        assert_true(j >= 0 && j < 100 * MS);
        lo = j < lo ? j : lo;
        hi = j > hi ? j : hi;
    }
    assert_true(hi - lo > 80 * MS);
    /* A wide window is capped at a tenth of the grace; a narrow one at half
     * of it; none when grace and margin meet. */
    for (int i = 0; i < 1000; i++) {
        assert_true(klease__renew_jitter_ns(10 * S, 0, &rng) < 1 * S);
        assert_true(klease__renew_jitter_ns(10 * S, 9800 * MS, &rng) < 100 * MS);
    }
    assert_int_equal(klease__renew_jitter_ns(1 * S, 1 * S, &rng), 0);
    klease__test_renew_jitter(false);
}

static void test_leader_renews_when_the_grace_begins(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    uint64_t seen = 0;
    klease_claim claim = lead(f, &seen);
    assert_int_equal(elector_sleeps_until(f), claim.deadline_mono_ns - 1 * S);
    push_lease(f->t, 200, 12, "me", now_wall(f) + 29 * S, 30, 4);
    klease__fake_clock_advance(f->fc, 29 * S);
    bool has;
    next_change(f, &seen, &claim, &has);
    assert_string_equal(claim.resource_version, "12");
    assert_int_equal(claim.deadline_mono_ns, MONO0 + 59 * S);
    assert_string_equal(f->t->requests[2].content_type, "application/strategic-merge-patch+json");
    assert_true(klease_elector_is_leader(f->e));
    /* close vacates: a fresh read, then the strategic-merge vacate */
    push_lease(f->t, 200, 12, "me", now_wall(f), 30, 4);
    push_lease(f->t, 200, 13, NULL, 0, 0, 4);
    size_t before = f->t->nrequests;
    scripted_transport *t = f->t;
    f->t = NULL; /* keep the transport alive to inspect it after close */
    klease_status st = klease_elector_close(f->e, NULL);
    assert_int_equal(st, KLEASE_OK);
    assert_int_equal(t->nrequests, before + 2);
    assert_non_null(strstr(t->requests[before + 1].body, "\"holderIdentity\":null"));
    f->e = NULL;
    f->t = t;
    assert_false(f->last_leading);
    assert_int_equal(f->last_status, KLEASE_ECLOSED);
    close_and_free(f);
}

static void test_leadership_ends_at_the_margin_while_the_renewal_hangs(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    f->opts.vacate_timeout_ms = 0; /* close without vacating: not under test here */
    uint64_t seen = 0;
    klease_claim claim = lead(f, &seen);
    int64_t deadline = claim.deadline_mono_ns;
    elector_sleeps_until(f);
    scripted_push(f->t, (scripted_reply){.hang = true});
    klease__fake_clock_advance(f->fc, 29 * S); /* renew time: the renewal hangs */
    assert_true(scripted_await_hang(f->t));
    /* The default margin is half the 1 s grace: leadership ends 500 ms early. */
    klease__fake_clock_advance(f->fc, 500 * MS - 1);
    assert_true(klease_elector_is_leader(f->e));
    klease__fake_clock_advance(f->fc, 1);
    assert_int_equal(now_mono(f), deadline - 500 * MS);
    assert_false(klease_elector_is_leader(f->e));
    bool has;
    next_change(f, &seen, &claim, &has);
    await_calls(f, seen);
    pthread_mutex_lock(&f->mu);
    assert_false(f->last_leading);
    pthread_mutex_unlock(&f->mu);
    /* Published at deadline - margin; the claim still names us until its deadline. */
    assert_int_equal(now_mono(f), deadline - 500 * MS);
    assert_true(has);
    assert_string_equal(claim.holder, "me");
    assert_int_equal(claim.deadline_mono_ns, deadline);
    klease_error err;
    assert_int_equal(klease_elector_status(f->e, &err), KLEASE_ETIMEDOUT);
    /* The renewal was cut off at the margin: 1 s of grace - 500 ms. */
    assert_int_equal(f->t->requests[2].timeout_ms, 500);
    close_and_free(f);
}

static void test_is_leader_turns_false_at_the_margin_even_with_the_thread_blocked(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    f->opts.vacate_timeout_ms = 0;
    f->opts.margin_ms = 300;
    uint64_t seen = 0;
    klease_claim claim = lead(f, &seen);
    elector_sleeps_until(f);
    /* A transport that ignores time limits: the thread stays stuck until close. */
    f->t->clock = NULL;
    scripted_push(f->t, (scripted_reply){.hang = true});
    klease__fake_clock_advance(f->fc, 29 * S);
    assert_true(scripted_await_hang(f->t));
    assert_int_equal(f->t->requests[2].timeout_ms, 700);
    klease__fake_clock_advance(f->fc, 700 * MS - 1);
    assert_true(klease_elector_is_leader(f->e));
    klease__fake_clock_advance(f->fc, 1);
    assert_int_equal(now_mono(f), claim.deadline_mono_ns - 300 * MS);
    assert_false(klease_elector_is_leader(f->e));
    close_and_free(f);
}

static void test_a_renewal_that_lands_after_the_margin_makes_us_leader_again(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    f->opts.vacate_timeout_ms = 0;
    uint64_t seen = 0;
    lead(f, &seen);
    elector_sleeps_until(f);
    scripted_push(f->t, (scripted_reply){.hang = true});
    klease__fake_clock_advance(f->fc, 29 * S);
    assert_true(scripted_await_hang(f->t));
    klease__fake_clock_advance(f->fc, 500 * MS); /* the margin: the renewal is cut off */
    klease_claim claim;
    bool has;
    next_change(f, &seen, &claim, &has);
    assert_false(klease_elector_is_leader(f->e));
    /* The retry after the backoff succeeds before the deadline. */
    push_lease(f->t, 200, 12, "me", now_wall(f), 30, 4);
    int64_t wake = elector_sleeps_until(f);
    klease__fake_clock_advance(f->fc, wake - now_mono(f));
    int64_t sent = now_mono(f);
    next_change(f, &seen, &claim, &has);
    assert_true(has);
    assert_string_equal(claim.resource_version, "12");
    assert_int_equal(claim.deadline_mono_ns, sent + 30 * S);
    assert_true(klease_elector_is_leader(f->e));
    await_calls(f, seen);
    pthread_mutex_lock(&f->mu);
    assert_true(f->last_leading);
    pthread_mutex_unlock(&f->mu);
    /* That retry was bounded by the claim's deadline, not the passed margin. */
    assert_int_equal(f->t->requests[3].timeout_ms, (MONO0 + 30 * S - sent) / MS);
    close_and_free(f);
}

static void test_margin_must_be_less_than_the_grace_with_clear_messages(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    klease_error err;
    f->opts.margin_ms = 1000; /* equal to the default grace */
    assert_int_equal(klease_spawn(&f->e, f->m, "me", &f->params, &f->opts, &err), KLEASE_EINVAL);
    assert_non_null(strstr(err.message, "margin 1000 ms must be less than the renew grace"));
    f->opts.margin_ms = -5;
    assert_int_equal(klease_spawn(&f->e, f->m, "me", &f->params, &f->opts, &err), KLEASE_EINVAL);
    assert_non_null(strstr(err.message, "margin -5 ms must be at least 0"));
    /* The automatic margin of a small grace is validated like an explicit one. */
    f->opts.margin_ms = KLEASE_MARGIN_AUTO;
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    p.renew_grace_ms = 1;
    assert_int_equal(klease_spawn(&f->e, f->m, "me", &p, &f->opts, &err), KLEASE_OK);
    assert_int_equal(klease_elector_close(f->e, NULL), KLEASE_OK);
    f->e = NULL;
    p.renew_grace_ms = 0;
    f->opts.margin_ms = 0; /* no margin at all is allowed */
    assert_int_equal(klease_spawn(&f->e, f->m, "me", &p, &f->opts, &err), KLEASE_OK);
    assert_int_equal(klease_elector_close(f->e, NULL), KLEASE_OK);
    f->e = NULL;
    assert_int_equal(close_and_free(f), KLEASE_OK);
}

/* The layout of klease_elector_options version 1, as an older binary has it. */
typedef struct elector_options_v1 {
    int version;
    klease_elector_change_fn on_change;
    void *user;
    bool watch;
    int64_t poll_interval_ms;
    int64_t min_backoff_ms;
    int64_t max_backoff_ms;
    int64_t vacate_timeout_ms;
} elector_options_v1;

static void test_a_version_1_options_struct_is_accepted_with_the_default_margin(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    elector_options_v1 *v1 = malloc(sizeof *v1); /* exactly v1's size: ASan sees overreads */
    *v1 = (elector_options_v1){1, on_change, f, true, 2000, 5, 5000, 0};
    push_lease(f->t, 200, 11, "me", now_wall(f), 30, 4);
    assert_int_equal(
        klease_spawn(&f->e, f->m, "me", &f->params, (const klease_elector_options *)v1, NULL),
        KLEASE_OK);
    free(v1);
    uint64_t seen = 0;
    klease_claim claim;
    bool has;
    next_change(f, &seen, &claim, &has);
    assert_true(klease_elector_is_leader(f->e));
    elector_sleeps_until(f);
    scripted_push(f->t, (scripted_reply){.hang = true});
    klease__fake_clock_advance(f->fc, 29 * S);
    assert_true(scripted_await_hang(f->t));
    assert_int_equal(f->t->requests[2].timeout_ms, 500);
    klease__fake_clock_advance(f->fc, 500 * MS);
    assert_false(klease_elector_is_leader(f->e));
    close_and_free(f);
}

static void test_unknown_options_versions_are_refused(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    klease_error err;
    int bad[] = {0, -1, KLEASE_ELECTOR_OPTIONS_VERSION + 1};
    for (size_t i = 0; i < 3; i++) {
        f->opts.version = bad[i];
        assert_int_equal(klease_spawn(&f->e, f->m, "me", &f->params, &f->opts, &err),
                         KLEASE_EINVAL);
        assert_non_null(strstr(err.message, "unknown version"));
        assert_null(f->e);
    }
    assert_int_equal(close_and_free(f), KLEASE_OK);
}

static void test_failures_back_off_with_growing_capped_delays(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    f->opts.min_backoff_ms = 100;
    f->opts.max_backoff_ms = 1000;
    for (int i = 0; i < 8; i++)
        scripted_push(f->t, (scripted_reply){.status = KLEASE_ETRANSPORT});
    spawn(f);
    int64_t base = 100;
    for (int i = 0; i < 7; i++) {
        int64_t delay = elector_sleeps_until(f) - now_mono(f);
        assert_true(delay <= base * MS);
        assert_true(delay >= base * MS / 2);
        klease__fake_clock_advance(f->fc, delay);
        base = base * 2 > 1000 ? 1000 : base * 2;
    }
    klease_error err;
    assert_int_equal(klease_elector_status(f->e, &err), KLEASE_ETRANSPORT);
    assert_false(klease_elector_is_leader(f->e));
    close_and_free(f);
}

static void test_recovers_leadership_after_an_outage(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    f->opts.max_backoff_ms = 200;
    for (int i = 0; i < 3; i++)
        scripted_push(f->t, (scripted_reply){.status = KLEASE_ETRANSPORT});
    push_lease(f->t, 200, 11, "me", now_wall(f), 30, 4);
    spawn(f);
    for (int i = 0; i < 3; i++)
        klease__fake_clock_advance(f->fc, elector_sleeps_until(f) - now_mono(f));
    uint64_t seen = 0;
    klease_claim claim;
    bool has;
    next_change(f, &seen, &claim, &has);
    assert_true(has);
    assert_true(klease_elector_is_leader(f->e));
    assert_int_equal(klease_elector_status(f->e, NULL), KLEASE_OK);
    push_lease(f->t, 200, 11, "me", now_wall(f), 30, 4);
    push_lease(f->t, 200, 12, NULL, 0, 0, 4);
    assert_int_equal(close_and_free(f), KLEASE_OK);
}

static void test_retry_after_is_honoured(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    scripted_push(f->t, (scripted_reply){.http_status = 429, .retry_after_ms = 3000, .body = "{}"});
    spawn(f);
    assert_int_equal(elector_sleeps_until(f) - now_mono(f), 3000 * MS);
    close_and_free(f);
}

/* Retry-After: 86399 on one 429 must not park the elector for a day: the
 * pause is capped at KLEASE__RETRY_AFTER_MAX_MS. */
static void test_a_day_long_retry_after_is_capped(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    scripted_push(f->t,
                  (scripted_reply){.http_status = 429, .retry_after_ms = 86399000, .body = "{}"});
    spawn(f);
    assert_int_equal(elector_sleeps_until(f) - now_mono(f), KLEASE__RETRY_AFTER_MAX_MS * MS);
    close_and_free(f);
}

/* A leader whose renewal gets a long Retry-After still gives up leadership
 * at its margin (half the 1 s grace: 500 ms before its claim's deadline),
 * and retries soon after rather than a day later. */
static void test_a_retry_after_never_carries_a_leader_past_its_deadline(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    f->opts.vacate_timeout_ms = 0; /* close without vacating: not under test here */
    uint64_t seen = 0;
    klease_claim claim = lead(f, &seen);
    elector_sleeps_until(f);
    scripted_push(f->t,
                  (scripted_reply){.http_status = 429, .retry_after_ms = 86399000, .body = "{}"});
    klease__fake_clock_advance(f->fc, 29 * S); /* renew time: the server says "come back later" */
    int64_t give_up = claim.deadline_mono_ns - 500 * MS;
    assert_int_equal(elector_sleeps_until(f), give_up);
    klease__fake_clock_advance(f->fc, give_up - now_mono(f));
    bool has;
    next_change(f, &seen, &claim, &has);
    assert_false(klease_elector_is_leader(f->e));
    /* The retry: at most the capped pause after the 429, which came 1 s ago. */
    assert_true(elector_sleeps_until(f) - now_mono(f) <= KLEASE__RETRY_AFTER_MAX_MS * MS);
    close_and_free(f);
}

typedef struct waiter {
    klease_elector *e;
    uint64_t seen;
    int64_t timeout_ms;
    klease_status st;
} waiter;

static void *wait_main(void *arg)
{
    waiter *w = arg;
    w->st = klease_elector_wait_change(w->e, &w->seen, w->timeout_ms, NULL, NULL);
    return NULL;
}

/* A wait_change timeout whose nanoseconds overflow int64 means "a very long
 * time", not a deadline in the past: the waiter blocks until the next change
 * (it used to return KLEASE_ETIMEDOUT at once). */
static void test_an_overflowing_wait_change_timeout_waits_for_the_change(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    f->opts.vacate_timeout_ms = 0; /* close without vacating: not under test here */
    uint64_t seen = 0;
    lead(f, &seen);
    elector_sleeps_until(f);
    waiter w = {.e = f->e, .seen = seen, .timeout_ms = INT64_MAX / 1000000 + 1};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_main, &w), 0);
    /* The elector thread and the waiter both sleep on the fake clock. */
    assert_true(klease__fake_clock_await_sleepers(f->fc, 2, 10000));
    push_lease(f->t, 200, 12, "me", now_wall(f) + 29 * S, 30, 4);
    klease__fake_clock_advance(f->fc, 29 * S); /* the renewal publishes a change */
    pthread_join(t, NULL);
    assert_int_equal(w.st, KLEASE_OK);
    assert_true(w.seen > seen);
    close_and_free(f);
}

static void test_an_error_that_cannot_heal_stops_the_elector_and_says_so(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    scripted_push_fixture(f->t, 422, "14c-apply-invalid-duration.json");
    spawn(f);
    uint64_t seen = 0;
    klease_claim claim;
    bool has;
    next_change(f, &seen, &claim, &has);
    assert_int_equal(klease_elector_wait_change(f->e, &seen, 0, &claim, &has), KLEASE_ECLOSED);
    await_calls(f, seen);
    pthread_mutex_lock(&f->mu);
    assert_int_equal(f->last_status, KLEASE_EHTTP);
    assert_false(f->last_leading);
    pthread_mutex_unlock(&f->mu);
    klease_error err;
    assert_int_equal(klease_elector_status(f->e, &err), KLEASE_EHTTP);
    assert_int_equal(err.http_code, 422);
    assert_int_equal(close_and_free(f), KLEASE_EHTTP);
}

/* The engine's timer heap is grown on the engine thread when an elector
 * starts. When that allocation fails the elector must stop with ENOMEM and
 * leave the engine's accounting as it was: releasing a slot it never got
 * made the next elector's timer land outside the heap. */
static void
test_an_elector_that_cannot_reserve_its_timer_stops_and_leaves_the_engine_sound(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    klease__engine *eng;
    assert_int_equal(klease__engine_of(f->client, &eng, NULL), KLEASE_OK); /* heap still empty */
    klease__alloc_fail_after(1); /* the elector itself, then nothing: the heap cannot grow */
    spawn(f);
    uint64_t seen = 0;
    klease_claim claim;
    bool has = true;
    next_change(f, &seen, &claim, &has);
    klease__alloc_fail_after(-1);
    assert_false(has);
    assert_int_equal(klease_elector_wait_change(f->e, &seen, 0, &claim, &has), KLEASE_ECLOSED);
    await_calls(f, 1); /* carried by the spare event: no memory for another */
    pthread_mutex_lock(&f->mu);
    assert_int_equal(f->last_status, KLEASE_ENOMEM);
    pthread_mutex_unlock(&f->mu);
    assert_int_equal(klease_elector_close(f->e, NULL), KLEASE_ENOMEM);

    /* A second elector on the same engine leads and arms its renewal. */
    uint64_t seen2 = 0;
    lead(f, &seen2);
    push_lease(f->t, 200, 11, "me", now_wall(f), 30, 4); /* close: the fresh read */
    push_lease(f->t, 200, 12, NULL, 0, 0, 4);            /* close: the vacate */
    assert_int_equal(close_and_free(f), KLEASE_OK);
}

/* Changes published while no event can be allocated ride on the elector's
 * spare event, which takes newer ones on while it is queued. A change that
 * could be allocated meanwhile must not queue behind the spare: the spare,
 * carrying a newer change, would arrive before it, and the last callback
 * would report a stale state (here: leading, while we no longer lead). */
static void test_the_last_callback_reports_the_latest_change_when_memory_runs_out(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    f->opts.vacate_timeout_ms = 0;
    pthread_mutex_lock(&f->mu);
    f->gate_closed = true; /* the first callback holds the callback thread */
    pthread_mutex_unlock(&f->mu);
    uint64_t seen = 0;
    klease_claim claim = lead(f, &seen); /* change 1: leading (allocated) */
    bool has;

    /* Change 2, without memory: the renewal fails and leadership ends at
     * the margin; the spare carries the loss. */
    klease__alloc_fail_after(0);
    klease__fake_clock_advance(f->fc, claim.deadline_mono_ns - 500 * MS - now_mono(f));
    next_change(f, &seen, &claim, &has);
    assert_false(klease_elector_is_leader(f->e));

    /* Change 3, allocated: a renewal lands, we lead again. */
    klease__alloc_fail_after(-1);
    push_lease(f->t, 200, 12, "me", now_wall(f) + 100 * MS, 30, 4);
    klease__fake_clock_advance(f->fc, 100 * MS);
    next_change(f, &seen, &claim, &has);
    assert_true(klease_elector_is_leader(f->e));

    /* Change 4, without memory again: its leadership ends at its margin. */
    klease__alloc_fail_after(0);
    klease__fake_clock_advance(f->fc, claim.deadline_mono_ns - 500 * MS - now_mono(f));
    next_change(f, &seen, &claim, &has);
    klease__alloc_fail_after(-1);
    assert_false(klease_elector_is_leader(f->e));

    pthread_mutex_lock(&f->mu);
    f->gate_closed = false;
    pthread_cond_broadcast(&f->gate_cond);
    pthread_mutex_unlock(&f->mu);
    /* Every queued change delivered (real-time bound, 10 s). */
    for (int i = 0; i < 10000; i++) {
        pthread_mutex_lock(&f->e->mu);
        unsigned queued = f->e->queued_events;
        pthread_mutex_unlock(&f->e->mu);
        if (queued == 0)
            break;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&f->mu);
    assert_false(f->last_leading);
    pthread_mutex_unlock(&f->mu);
    close_and_free(f);
}

static void test_follower_takes_over_as_soon_as_the_watch_sees_a_vacate(void **state)
{
    (void)state;
    fixture *f = new_fixture("other");
    f->opts.vacate_timeout_ms = 0; /* close without vacating: not under test here */
    char *stream = watch_line("MODIFIED", 11, NULL, 0, 0, 3);
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = stream, .chunk = 10});
    free(stream);
    push_lease(f->t, 200, 12, "me", now_wall(f), 30, 4);
    spawn(f);
    uint64_t seen = 0;
    klease_claim claim;
    bool has;
    do
        next_change(f, &seen, &claim, &has);
    while (!klease_elector_is_leader(f->e));
    /* No time passed: the takeover did not wait for the old claim to expire. */
    assert_int_equal(now_mono(f), MONO0);
    scripted_request *w = &f->t->requests[1];
    assert_true(w->stream);
    /* The namespace's shared watch, from the current state (no version: the
     * server sends every lease as ADDED first, so no change is missed). */
    assert_string_equal(w->path, "/apis/coordination.k8s.io/v1/namespaces/ns/leases"
                                 "?watch=1&allowWatchBookmarks=true&timeoutSeconds=300");
    assert_non_null(strstr(f->t->requests[2].body, "\"resourceVersion\":\"11\""));
    close_and_free(f);
}

static void test_follower_acquires_when_the_followed_claim_expires(void **state)
{
    (void)state;
    fixture *f = new_fixture("other");
    f->opts.vacate_timeout_ms = 0; /* close without vacating: not under test here */
    scripted_push(f->t, (scripted_reply){.hang = true}); /* a silent watch */
    push_lease(f->t, 200, 12, "me", now_wall(f) + 30001 * MS, 30, 4);
    spawn(f);
    assert_true(scripted_await_hang(f->t));
    /* The follower wakes at the followed claim's deadline: 30 s after we
     * first saw it (the monotonic rule; the wall rule says 31 s), whatever
     * the shared watch (its own limit: timeoutSeconds 300 + 5 s) does. */
    assert_int_equal(f->t->requests[1].timeout_ms, 305000);
    /* Two sleepers on the fake clock: the hanging watch (until 305 s) and
     * the engine. With only the watch asleep, the earliest deadline would
     * be the watch's. Real-time bound, 10 s. */
    assert_true(klease__fake_clock_await_sleepers(f->fc, 2, 10000));
    assert_int_equal(elector_sleeps_until(f) - now_mono(f), 30 * S);
    klease__fake_clock_advance(f->fc, 30001 * MS);
    uint64_t seen = 0;
    klease_claim claim;
    bool has;
    do
        next_change(f, &seen, &claim, &has);
    while (!klease_elector_is_leader(f->e));
    assert_string_equal(f->t->requests[2].content_type, "application/apply-patch+yaml");
    close_and_free(f);
}

/* The shared watch resumes from the newest version it saw (a bookmark's
 * too), at least a second after the last stream began, and after a 410
 * Expired starts again from the current state (no version: every lease
 * arrives as ADDED first). The follower keeps following throughout. */
static void test_the_shared_watch_resumes_from_bookmarks_and_restarts_after_410(void **state)
{
    (void)state;
    fixture *f = new_fixture("other");
    f->opts.vacate_timeout_ms = 0;
    f->client->log.fn = capture_log;
    f->client->log.user = f;
    char *renewal = watch_line("MODIFIED", 11, "other", now_wall(f), 30, 3);
    char stream1[4096];
    snprintf(stream1, sizeof stream1,
             "%s{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Lease\",\"metadata\":"
             "{\"resourceVersion\":\"15\"}}}\n",
             renewal);
    free(renewal);
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = stream1});
    scripted_push(f->t, (scripted_reply){.http_status = 200,
                                         .body = "{\"type\":\"ERROR\",\"object\":{\"kind\":"
                                                 "\"Status\",\"status\":\"Failure\",\"reason\":"
                                                 "\"Expired\",\"code\":410}}\n"});
    scripted_push(f->t, (scripted_reply){.hang = true});
    spawn(f);
    /* Each clean end waits for the stream's first second to pass. */
    for (size_t want = 3; want <= 4; want++) {
        for (int i = 0; i < 10000 && requests_made(f) < want; i++) {
            klease__fake_clock_advance(f->fc, 100 * MS);
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        assert_true(requests_made(f) >= want);
    }
    assert_true(scripted_await_hang(f->t));
    pthread_mutex_lock(&f->t->mu);
    assert_null(strstr(f->t->requests[1].path, "resourceVersion"));
    assert_non_null(strstr(f->t->requests[2].path, "&resourceVersion=15"));
    assert_null(strstr(f->t->requests[3].path, "resourceVersion"));
    for (size_t i = 1; i <= 3; i++)
        assert_true(f->t->requests[i].stream);
    /* Neither the bookmark nor the 410 was taken for a change of holder. */
    assert_string_equal(f->t->requests[f->t->nrequests - 1].method, "GET");
    pthread_mutex_unlock(&f->t->mu);
    pthread_mutex_lock(&f->mu);
    assert_null(strstr(f->log, "watch failed"));
    pthread_mutex_unlock(&f->mu);
    close_and_free(f);
}

/* A follower that registers with the shared watch just after the event of
 * its lease's vacate went by (its read was answered before the vacate) takes
 * the lease at once, not at the old claim's deadline: the hub remembers the
 * newest copies it delivered. Elector A (lease-a) starts the watch, whose
 * stream carries lease-b's vacate; only then does elector B, whose manager
 * read lease-b as held by "other", follow it. Fails without the memory: B
 * would wait 30 s of fake time. */
static void test_a_follower_registering_after_its_lease_was_vacated_takes_it_at_once(void **state)
{
    (void)state;
    fixture *f = new_fixture("other"); /* manager A: lease-a, held by other */
    f->opts.vacate_timeout_ms = 0;
    klease_manager *mb = NULL;
    push_lease(f->t, 200, 20, "other", now_wall(f), 30, 3); /* manager B's read of lease-b */
    assert_int_equal(klease_manager_init(&mb, f->client, NULL, "lease-b", NULL, NULL), KLEASE_OK);
    char *vacate = watch_line("MODIFIED", 21, NULL, 0, 0, 3);
    char *named = malloc(strlen(vacate) + 64);
    assert_non_null(named);
    /* watch_line names its lease lease-a: this event is lease-b's. */
    char *at = strstr(vacate, "\"name\":\"lease-a\"");
    assert_non_null(at);
    at[strlen("\"name\":\"lease-")] = 'b';
    strcpy(named, vacate);
    free(vacate);
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = named}); /* A's watch */
    free(named);
    push_lease(f->t, 200, 22, "me", now_wall(f), 30, 4); /* B's acquire of lease-b */
    spawn(f);
    /* The stream has ended (and been taken in) once the hub waits to restart
     * it: a second after it began, before A's 30 s deadline. */
    int64_t wake = 0;
    for (int i = 0; i < 10000 && wake != now_mono(f) + 1 * S; i++) {
        wake = elector_sleeps_until(f);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(wake - now_mono(f), 1 * S);
    klease_elector *b = NULL;
    assert_int_equal(klease_spawn(&b, mb, "me", &f->params, &f->opts, NULL), KLEASE_OK);
    uint64_t seen = 0;
    bool leading = false;
    for (int i = 0; i < 10000 && !leading; i++) {
        klease_elector_wait_change(b, &seen, 0, NULL, NULL);
        leading = klease_elector_is_leader(b);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_true(leading);
    assert_int_equal(now_mono(f), MONO0); /* no time passed: not the old claim's expiry */
    assert_int_equal(klease_elector_close(b, NULL), KLEASE_OK);
    klease_elector_close(f->e, NULL);
    f->e = NULL;
    klease_manager_free(mb);
    close_and_free(f);
}

static void test_follower_polls_when_the_watch_fails(void **state)
{
    (void)state;
    fixture *f = new_fixture("other");
    f->opts.vacate_timeout_ms = 0; /* close without vacating: not under test here */
    scripted_push(f->t, (scripted_reply){.status = KLEASE_ETRANSPORT}); /* the watch */
    f->client->log.fn = capture_log;
    f->client->log.user = f;
    spawn(f);
    assert_true(await_log(f, "watch failed"));
    assert_int_equal(elector_sleeps_until(f) - now_mono(f), 2000 * MS);
    push_lease(f->t, 200, 11, NULL, 0, 0, 3); /* the poll sees a vacate */
    push_lease(f->t, 200, 12, "me", now_wall(f) + 2 * S, 30, 4);
    klease__fake_clock_advance(f->fc, 2 * S);
    uint64_t seen = 0;
    klease_claim claim;
    bool has;
    do
        next_change(f, &seen, &claim, &has);
    while (!klease_elector_is_leader(f->e));
    assert_string_equal(f->t->requests[2].method, "GET");
    close_and_free(f);
}

static void test_close_interrupts_a_hanging_watch_promptly(void **state)
{
    (void)state;
    fixture *f = new_fixture("other");
    scripted_push(f->t, (scripted_reply){.hang = true});
    spawn(f);
    assert_true(scripted_await_hang(f->t));
    /* Not the holder: close must neither wait for the watch nor write. */
    size_t before = f->t->nrequests;
    assert_int_equal(klease_elector_close(f->e, NULL), KLEASE_OK);
    f->e = NULL;
    assert_int_equal(f->t->nrequests, before);
    assert_int_equal(close_and_free(f), KLEASE_OK);
}

static void test_close_interrupts_a_hanging_renewal(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    uint64_t seen = 0;
    lead(f, &seen);
    elector_sleeps_until(f);
    scripted_push(f->t, (scripted_reply){.hang = true});
    klease__fake_clock_advance(f->fc, 29 * S);
    assert_true(scripted_await_hang(f->t));
    push_lease(f->t, 200, 11, "me", now_wall(f), 30, 4);
    push_lease(f->t, 200, 12, NULL, 0, 0, 4);
    assert_int_equal(close_and_free(f), KLEASE_OK);
}

typedef struct closer {
    klease_elector *e;
    klease_status st;
} closer;

static void *close_thread(void *arg)
{
    closer *c = arg;
    c->st = klease_elector_close(c->e, NULL);
    return NULL;
}

/* Regression (found designing the chaos checker): close used to keep reporting
 * leadership while its vacate was on the wire. Once the vacate lands, a
 * watching follower takes over within a round trip, so both would lead. */
static void test_close_stops_leading_before_the_vacate_is_sent(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    uint64_t seen = 0;
    lead(f, &seen);
    elector_sleeps_until(f);
    push_lease(f->t, 200, 11, "me", now_wall(f), 30, 4); /* close: the fresh read */
    scripted_push(f->t, (scripted_reply){.hang = true}); /* the vacate, in flight */
    closer c = {.e = f->e};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, close_thread, &c), 0);
    assert_true(scripted_await_hang(f->t));
    assert_string_equal(f->t->requests[f->t->nrequests - 1].method, "PATCH");
    assert_false(klease_elector_is_leader(f->e));
    await_calls(f, 2); /* leading, then the loss published before the vacate */
    pthread_mutex_lock(&f->mu);
    assert_false(f->last_leading);
    pthread_mutex_unlock(&f->mu);
    klease__fake_clock_advance(f->fc, 1 * S); /* the vacate reaches vacate_timeout_ms */
    pthread_join(th, NULL);
    assert_int_equal(c.st, KLEASE_ETIMEDOUT);
    f->e = NULL;
    close_and_free(f);
}

typedef struct timed_closer {
    klease_elector *e;
    atomic_bool done;
} timed_closer;

static void *timed_close_thread(void *arg)
{
    timed_closer *c = arg;
    klease_elector_close(c->e, NULL);
    atomic_store(&c->done, true);
    return NULL;
}

/* With a zero backoff, a failure found before anything is sent (no memory
 * for the request) re-arms the retry timer for the current instant. The
 * engine must still get to its tasks and its loop: it used to fire that
 * timer again and again without ever leaving its timer pass, so every
 * other elector of the client starved (here: closing one never returned). */
static void test_a_zero_backoff_elector_failing_without_memory_starves_no_other(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    uint64_t seen = 0;
    lead(f, &seen); /* B: leads, then sleeps until its renewal */

    /* A: same client (same engine), its own manager, the lease unheld in
     * its cache: it tries to acquire at once, and fails without memory. */
    push_lease(f->t, 200, 10, NULL, now_wall(f), 30, 3);
    klease_manager *m2;
    assert_int_equal(klease_manager_init(&m2, f->client, NULL, "lease-a", NULL, NULL), KLEASE_OK);
    klease_elector_options o = f->opts;
    o.on_change = NULL;
    o.min_backoff_ms = 0;
    o.max_backoff_ms = 0;
    o.vacate_timeout_ms = 0;
    klease_elector *a;
    klease__alloc_fail_after(1); /* the elector itself, then nothing (the heap has room) */
    assert_int_equal(klease_spawn(&a, m2, "you", &f->params, &o, NULL), KLEASE_OK);
    /* Real-time bound: it has failed many times over within 10 s. */
    for (int i = 0; i < 10000 && klease_elector_status(a, NULL) != KLEASE_ENOMEM; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(klease_elector_status(a, NULL), KLEASE_ENOMEM);

    timed_closer c = {.e = f->e};
    atomic_init(&c.done, false);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, timed_close_thread, &c), 0);
    /* Real-time bound, generous for a loaded machine: closing B needs one
     * pass of the engine (its vacate fails at once without memory). */
    for (int i = 0; i < 10000 && !atomic_load(&c.done); i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    bool closed = atomic_load(&c.done);
    klease__alloc_fail_after(-1);
    if (!closed)
        fail_msg("closing another elector did not return within 10 s");
    pthread_join(th, NULL);
    f->e = NULL;
    assert_int_equal(klease_elector_close(a, NULL), KLEASE_OK);
    klease_manager_free(m2);
    close_and_free(f);
}

static void test_spawn_rejects_bad_arguments(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    klease_error err;
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    p.renew_grace_ms = 40000;
    assert_int_equal(klease_spawn(&f->e, f->m, "me", &p, &f->opts, &err), KLEASE_EINVAL);
    assert_int_equal(klease_spawn(&f->e, f->m, "", &f->params, &f->opts, &err), KLEASE_EINVAL);
    f->opts.poll_interval_ms = 0;
    assert_int_equal(klease_spawn(&f->e, f->m, "me", &f->params, &f->opts, &err), KLEASE_EINVAL);
    f->opts = (klease_elector_options)KLEASE_ELECTOR_OPTIONS_INIT;
    f->opts.max_backoff_ms = 1;
    f->opts.min_backoff_ms = 2;
    assert_int_equal(klease_spawn(&f->e, f->m, "me", &f->params, &f->opts, &err), KLEASE_EINVAL);
    assert_null(f->e);
    assert_int_equal(close_and_free(f), KLEASE_OK);
}

/* Waits with no time limit (the waiter's own timeout_ms is not used). */
static void *wait_thread(void *arg)
{
    waiter *w = arg;
    w->st = klease_elector_wait_change(w->e, &w->seen, -1, NULL, NULL);
    return NULL;
}

static void test_close_wakes_every_waiter_and_frees_only_after_they_left(void **state)
{
    (void)state;
    fixture *f = new_fixture("other");
    f->t->clock = NULL;                                  /* the watch does not sleep on the clock */
    scripted_push(f->t, (scripted_reply){.hang = true}); /* a silent watch */
    spawn(f);
    uint64_t seen = 0;
    klease_claim claim;
    bool has;
    next_change(f, &seen, &claim, &has); /* following "other" */
    assert_true(scripted_await_hang(f->t));
    waiter w[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        w[i] = (waiter){.e = f->e, .seen = seen, .st = KLEASE_OK};
        assert_int_equal(pthread_create(&th[i], NULL, wait_thread, &w[i]), 0);
    }
    /* All three are inside wait_change. (Not "three sleepers on the fake
     * clock": the idle engine thread sleeps on it too, so close could free
     * the elector before the third waiter entered.) Real-time bound, 10 s. */
    unsigned inside = 0;
    for (int i = 0; i < 10000 && inside < 3; i++) {
        pthread_mutex_lock(&f->e->mu);
        inside = f->e->waiters;
        pthread_mutex_unlock(&f->e->mu);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(inside, 3);
    assert_int_equal(klease_elector_close(f->e, NULL), KLEASE_OK);
    f->e = NULL;
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].st, KLEASE_ECLOSED);
    }
    close_and_free(f);
}

static void test_close_from_the_callback_is_refused_and_changes_nothing(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    uint64_t seen = 0;
    lead(f, &seen);
    elector_sleeps_until(f);
    pthread_mutex_lock(&f->mu);
    f->close_from_callback = f->e;
    pthread_mutex_unlock(&f->mu);
    /* The renewal publishes a new claim: the callback tries to close. */
    push_lease(f->t, 200, 12, "me", now_wall(f) + 29 * S, 30, 4);
    klease__fake_clock_advance(f->fc, 29 * S);
    klease_claim claim;
    bool has;
    next_change(f, &seen, &claim, &has);
    await_calls(f, seen);
    int64_t next_renew = elector_sleeps_until(f); /* the engine carried on */
    pthread_mutex_lock(&f->mu);
    assert_int_equal(f->callback_close_status, KLEASE_EINVAL);
    assert_non_null(strstr(f->callback_close_message, "own callback"));
    pthread_mutex_unlock(&f->mu);
    assert_int_equal(next_renew, claim.deadline_mono_ns - 1 * S);
    assert_true(klease_elector_is_leader(f->e));
    /* A close from another thread still works and vacates. */
    push_lease(f->t, 200, 12, "me", now_wall(f), 30, 4);
    push_lease(f->t, 200, 13, NULL, 0, 0, 4);
    size_t before = f->t->nrequests;
    scripted_transport *t = f->t;
    assert_int_equal(klease_elector_close(f->e, NULL), KLEASE_OK);
    f->e = NULL;
    assert_int_equal(t->nrequests, before + 2);
    close_and_free(f);
}

static void test_an_undecodable_watch_event_is_logged_with_its_reason(void **state)
{
    (void)state;
    fixture *f = new_fixture("other");
    f->opts.vacate_timeout_ms = 0;
    f->client->log.fn = capture_log;
    f->client->log.user = f;
    f->client->log.min_level = KLEASE_LOG_DEBUG;
    const char *event = "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"lease-a\","
                        "\"resourceVersion\":\"11\"},\"spec\":{\"holderIdentity\":7}}}\n";
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = event});
    spawn(f);
    /* After the bad event the follower falls back to polling. (The engine
     * sleeps on the fake clock while the watch runs, so wait for the failure
     * to be logged before reading what it sleeps until.) */
    if (!await_log(f, "watch failed (lease: spec.holderIdentity is not a string); polling")) {
        pthread_mutex_lock(&f->mu);
        fail_msg("log lacks the decode error:\n%s", f->log);
    }
    assert_int_equal(elector_sleeps_until(f) - now_mono(f), 2000 * MS);
    close_and_free(f);
}

/* A task that holds the engine thread until the test lets it go. */
typedef struct engine_blocker {
    klease__task task;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool running;
    bool released;
} engine_blocker;

static void block_engine(void *arg)
{
    engine_blocker *b = arg;
    pthread_mutex_lock(&b->mu);
    b->running = true;
    pthread_cond_broadcast(&b->cond);
    while (!b->released)
        pthread_cond_wait(&b->cond, &b->mu);
    pthread_mutex_unlock(&b->mu);
}

/* The interleaving of a close() right after spawn(): close marks the
 * elector closing while its first kick runs, before the kick looks, and
 * posts its own task after the kick left the queue. The kick used to stop
 * and release the elector itself, so close's task (the same kick, queued
 * again) was still queued when close freed the elector: the engine then
 * ran it on freed memory (ASan: heap-use-after-free; found by a spawn/close
 * race hunt, forced here with the elector's lock). */
static void test_closing_right_after_spawn_leaves_nothing_queued_on_the_engine(void **state)
{
    (void)state;
    fixture *f = new_fixture(NULL);
    f->opts.on_change = NULL; /* close then waits for nothing but the engine */
    f->opts.vacate_timeout_ms = 0;
    klease__engine *eng;
    assert_int_equal(klease__engine_of(f->client, &eng, NULL), KLEASE_OK);
    engine_blocker b = {.task = {.fn = block_engine, .arg = &b}};
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.cond, NULL);
    klease__engine_post(eng, &b.task);
    spawn(f); /* its kick queues behind the blocker */

    pthread_mutex_lock(&f->e->mu); /* the kick will wait here to see whether we close */
    pthread_mutex_lock(&b.mu);
    b.released = true;
    pthread_cond_broadcast(&b.cond);
    pthread_mutex_unlock(&b.mu);
    /* Real-time bound (10 s): the kick has left the queue. */
    bool queued = true;
    for (int i = 0; i < 10000 && queued; i++) {
        pthread_mutex_lock(&eng->mu);
        queued = f->e->kick.queued;
        pthread_mutex_unlock(&eng->mu);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_false(queued);
    /* A second blocker holds the engine once the kick is done, so what close
     * posts stays queued until the test lets it run. */
    engine_blocker b2 = {.task = {.fn = block_engine, .arg = &b2}};
    pthread_mutex_init(&b2.mu, NULL);
    pthread_cond_init(&b2.cond, NULL);
    klease__engine_post(eng, &b2.task);
    f->e->closing = true; /* close's first step, as close does it */
    pthread_mutex_unlock(&f->e->mu);

    /* Real-time bound (10 s): the kick is done, the engine is in the second
     * blocker. */
    bool running = false;
    for (int i = 0; i < 10000 && !running; i++) {
        pthread_mutex_lock(&b2.mu);
        running = b2.running;
        pthread_mutex_unlock(&b2.mu);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_true(running);

    timed_closer c = {.e = f->e};
    atomic_init(&c.done, false);
    f->e = NULL; /* freed by close from now on */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, timed_close_thread, &c), 0);
    /* Real-time bound (10 s): close has queued its task behind the blocker. */
    bool posted = false;
    for (int i = 0; i < 10000 && !posted; i++) {
        pthread_mutex_lock(&eng->mu);
        posted = eng->tasks != NULL;
        pthread_mutex_unlock(&eng->mu);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_true(posted);
    /* Close must not return while its task is queued: give it 100 ms to
     * show that it does (it then frees the elector under the task). */
    for (int i = 0; i < 100 && !atomic_load(&c.done); i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&b2.mu);
    b2.released = true;
    pthread_cond_broadcast(&b2.cond);
    pthread_mutex_unlock(&b2.mu);
    pthread_join(th, NULL);
    pthread_cond_destroy(&b2.cond);
    pthread_mutex_destroy(&b2.mu);

    /* One more pass of the engine: a task of the freed elector would run now. */
    uint64_t seen = 0;
    lead(f, &seen);
    push_lease(f->t, 200, 11, "me", now_wall(f), 30, 4); /* close: the fresh read */
    push_lease(f->t, 200, 12, NULL, 0, 0, 4);            /* close: the vacate */
    f->opts.vacate_timeout_ms = 1000;
    assert_int_equal(close_and_free(f), KLEASE_OK);
    pthread_cond_destroy(&b.cond);
    pthread_mutex_destroy(&b.mu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leader_renews_when_the_grace_begins),
        cmocka_unit_test(test_renewals_are_jittered_inside_the_grace_window),
        cmocka_unit_test(test_leadership_ends_at_the_margin_while_the_renewal_hangs),
        cmocka_unit_test(test_is_leader_turns_false_at_the_margin_even_with_the_thread_blocked),
        cmocka_unit_test(test_a_renewal_that_lands_after_the_margin_makes_us_leader_again),
        cmocka_unit_test(test_margin_must_be_less_than_the_grace_with_clear_messages),
        cmocka_unit_test(test_a_version_1_options_struct_is_accepted_with_the_default_margin),
        cmocka_unit_test(test_unknown_options_versions_are_refused),
        cmocka_unit_test(test_failures_back_off_with_growing_capped_delays),
        cmocka_unit_test(test_recovers_leadership_after_an_outage),
        cmocka_unit_test(test_retry_after_is_honoured),
        cmocka_unit_test(test_a_day_long_retry_after_is_capped),
        cmocka_unit_test(test_an_overflowing_wait_change_timeout_waits_for_the_change),
        cmocka_unit_test(test_a_retry_after_never_carries_a_leader_past_its_deadline),
        cmocka_unit_test(test_an_error_that_cannot_heal_stops_the_elector_and_says_so),
        cmocka_unit_test(
            test_an_elector_that_cannot_reserve_its_timer_stops_and_leaves_the_engine_sound),
        cmocka_unit_test(test_the_last_callback_reports_the_latest_change_when_memory_runs_out),
        cmocka_unit_test(test_follower_takes_over_as_soon_as_the_watch_sees_a_vacate),
        cmocka_unit_test(test_follower_acquires_when_the_followed_claim_expires),
        cmocka_unit_test(test_the_shared_watch_resumes_from_bookmarks_and_restarts_after_410),
        cmocka_unit_test(test_a_follower_registering_after_its_lease_was_vacated_takes_it_at_once),
        cmocka_unit_test(test_follower_polls_when_the_watch_fails),
        cmocka_unit_test(test_close_interrupts_a_hanging_watch_promptly),
        cmocka_unit_test(test_close_interrupts_a_hanging_renewal),
        cmocka_unit_test(test_close_stops_leading_before_the_vacate_is_sent),
        cmocka_unit_test(test_a_zero_backoff_elector_failing_without_memory_starves_no_other),
        cmocka_unit_test(test_closing_right_after_spawn_leaves_nothing_queued_on_the_engine),
        cmocka_unit_test(test_spawn_rejects_bad_arguments),
        cmocka_unit_test(test_close_wakes_every_waiter_and_frees_only_after_they_left),
        cmocka_unit_test(test_close_from_the_callback_is_refused_and_changes_nothing),
        cmocka_unit_test(test_an_undecodable_watch_event_is_logged_with_its_reason),
    };
    return cmocka_run_group_tests_name("elector", tests, NULL, NULL);
}
