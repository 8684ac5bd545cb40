/* The generic HTTP loop (for transports without a loop of their own) over
 * the scripted transport, on a fake clock: outcomes and stream bytes are
 * delivered by run() on the loop's thread, never from start(); cancel,
 * abort and free end ops cleanly. */
#include "cmocka_wrap.h"

#include "alloc_fail.h"
#include "scripted_transport.h"
#include "core/fake_clock.h"
#include "http/http_loop.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 (INT64_C(1000) * KLEASE__NS_PER_S)

typedef struct fixture {
    scripted_transport *t;
    klease__fake_clock *fc;
    const klease__clock *clock;
    klease__http_loop *loop;
} fixture;

/* What one op saw. */
typedef struct outcome {
    int done_calls;
    klease_status st;
    int http_status;
    char body[256];
    char message[512];
    char data[256]; /* stream bytes, concatenated */
    int data_calls;
    int stop_after;  /* on_data returns false at this call (0: never) */
    bool off_thread; /* a callback ran on another thread than the loop's */
    pthread_t loop_thread;
    int order; /* position among all completions */
} outcome;

static int completions;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->t = scripted_new();
    f->fc = klease__fake_clock_new(T0, T0);
    f->clock = klease__fake_clock_get(f->fc);
    assert_int_equal(klease__http_loop_new(&f->t->base, f->clock, &f->loop, NULL), KLEASE_OK);
    completions = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    klease__http_loop_free(f->loop);
    scripted_free(f->t);
    klease__fake_clock_free(f->fc);
    free(f);
    return 0;
}

static void on_done(void *user, klease_status st, klease__http_response *resp,
                    const klease_error *err)
{
    outcome *o = user;
    o->done_calls++;
    o->st = st;
    o->order = completions++;
    if (!pthread_equal(pthread_self(), o->loop_thread))
        o->off_thread = true;
    if (st == KLEASE_OK) {
        o->http_status = resp->status;
        snprintf(o->body, sizeof o->body, "%s", resp->body);
        klease__http_response_clear(resp);
    } else {
        snprintf(o->message, sizeof o->message, "%s", err->message);
    }
}

static bool on_data(void *user, const char *data, size_t len)
{
    outcome *o = user;
    if (!pthread_equal(pthread_self(), o->loop_thread))
        o->off_thread = true;
    size_t have = strlen(o->data);
    if (have + len < sizeof o->data) {
        memcpy(o->data + have, data, len);
        o->data[have + len] = '\0';
    }
    o->data_calls++;
    return o->stop_after == 0 || o->data_calls < o->stop_after;
}

static const klease__http_request GET = {.method = "GET", .path = "/x", .timeout_ms = 1000};

static klease__http_op *start(fixture *f, outcome *o, klease__cancel *cancel, bool stream)
{
    o->loop_thread = pthread_self();
    klease__http_op *op =
        klease__http_loop_start(f->loop, &GET, cancel, stream ? on_data : NULL, on_done, o);
    assert_non_null(op);
    return op;
}

/* Runs the loop until `o` is done; each run() waits for news without a
 * deadline, so a stream thread's bytes or end wake it. */
static void run_until_done(fixture *f, outcome *o)
{
    for (int i = 0; i < 1000 && o->done_calls == 0; i++)
        klease__http_loop_run(f->loop, INT64_MAX);
    assert_int_equal(o->done_calls, 1);
}

static void test_a_request_outcome_arrives_from_run_not_from_start(void **state)
{
    fixture *f = *state;
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = "hello"});
    outcome o = {0};
    start(f, &o, NULL, false);
    /* The request already ran (inline), but done waits for run(). */
    assert_int_equal(f->t->nrequests, 1);
    assert_int_equal(o.done_calls, 0);
    klease__http_loop_stats s;
    klease__http_loop_get_stats(f->loop, &s);
    assert_int_equal(s.started, 1);
    assert_int_equal(s.running, 1);
    klease__http_loop_run(f->loop, klease__mono_ns(f->clock));
    assert_int_equal(o.done_calls, 1);
    assert_int_equal(o.st, KLEASE_OK);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.body, "hello");
    assert_false(o.off_thread);
    klease__http_loop_get_stats(f->loop, &s);
    assert_int_equal(s.running, 0);
}

static void test_many_requests_each_get_their_own_outcome_in_start_order(void **state)
{
    fixture *f = *state;
    enum { N = 50 };
    char bodies[N][16];
    outcome o[N];
    memset(o, 0, sizeof o);
    for (int i = 0; i < N; i++) {
        snprintf(bodies[i], sizeof bodies[i], "body-%d", i);
        if (i % 7 == 3)
            scripted_push(f->t, (scripted_reply){.status = KLEASE_ETRANSPORT});
        else
            scripted_push(f->t, (scripted_reply){.http_status = 200 + i, .body = bodies[i]});
    }
    for (int i = 0; i < N; i++)
        start(f, &o[i], NULL, false);
    klease__http_loop_run(f->loop, klease__mono_ns(f->clock));
    for (int i = 0; i < N; i++) {
        assert_int_equal(o[i].done_calls, 1);
        assert_int_equal(o[i].order, i);
        if (i % 7 == 3) {
            assert_int_equal(o[i].st, KLEASE_ETRANSPORT);
        } else {
            assert_int_equal(o[i].st, KLEASE_OK);
            assert_int_equal(o[i].http_status, 200 + i);
            assert_string_equal(o[i].body, bodies[i]);
        }
    }
}

static void test_an_aborted_request_never_calls_done(void **state)
{
    fixture *f = *state;
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = "a"});
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = "b"});
    outcome a = {0}, b = {0};
    klease__http_op *op = start(f, &a, NULL, false);
    start(f, &b, NULL, false);
    klease__http_loop_abort(f->loop, op);
    klease__http_loop_run(f->loop, klease__mono_ns(f->clock));
    assert_int_equal(a.done_calls, 0);
    assert_int_equal(b.done_calls, 1);
    assert_string_equal(b.body, "b");
}

/* A done that starts the next request and aborts another queued one: the
 * loop keeps delivering the right outcomes to the right ops. */
typedef struct chain {
    fixture *f;
    outcome self;
    outcome *next;
    klease__http_op *victim;
} chain;

static void chain_done(void *user, klease_status st, klease__http_response *resp,
                       const klease_error *err)
{
    chain *c = user;
    on_done(&c->self, st, resp, err);
    klease__http_loop_abort(c->f->loop, c->victim);
    start(c->f, c->next, NULL, false);
}

static void test_done_may_start_and_abort_other_ops(void **state)
{
    fixture *f = *state;
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = "first"});
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = "victim"});
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = "next"});
    outcome victim = {0}, next = {0};
    chain c = {.f = f, .next = &next};
    c.self.loop_thread = pthread_self();
    assert_non_null(klease__http_loop_start(f->loop, &GET, NULL, NULL, chain_done, &c));
    c.victim = start(f, &victim, NULL, false);
    klease__http_loop_run(f->loop, klease__mono_ns(f->clock));
    assert_int_equal(c.self.done_calls, 1);
    assert_string_equal(c.self.body, "first");
    assert_int_equal(victim.done_calls, 0);
    /* The op started from done is delivered by this run or the next. */
    if (next.done_calls == 0)
        klease__http_loop_run(f->loop, klease__mono_ns(f->clock));
    assert_int_equal(next.done_calls, 1);
    assert_string_equal(next.body, "next");
}

static void test_stream_bytes_arrive_on_the_loop_thread_in_order(void **state)
{
    fixture *f = *state;
    const char *body = "{\"type\":\"ADDED\"}\n{\"type\":\"MODIFIED\"}\n{\"type\":\"DELETED\"}\n";
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = body, .chunk = 5});
    outcome o = {0};
    start(f, &o, NULL, true);
    assert_int_equal(o.data_calls, 0); /* nothing from start() */
    run_until_done(f, &o);
    assert_string_equal(o.data, body);
    assert_int_equal(o.data_calls, (int)((strlen(body) + 4) / 5));
    assert_false(o.off_thread);
    assert_int_equal(o.st, KLEASE_OK);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.body, "");
    assert_true(f->t->requests[0].stream);
}

static void test_a_stream_stops_once_on_data_returns_false(void **state)
{
    fixture *f = *state;
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = "abcdefghij", .chunk = 1});
    outcome o = {.stop_after = 2};
    start(f, &o, NULL, true);
    run_until_done(f, &o);
    /* Bytes the thread had already queued are dropped, not delivered. */
    assert_int_equal(o.data_calls, 2);
    assert_string_equal(o.data, "ab");
    assert_int_equal(o.st, KLEASE_OK);
}

static void test_a_stream_error_status_returns_the_body(void **state)
{
    fixture *f = *state;
    scripted_push(f->t, (scripted_reply){.http_status = 410, .body = "{\"reason\":\"Expired\"}"});
    outcome o = {0};
    start(f, &o, NULL, true);
    run_until_done(f, &o);
    assert_int_equal(o.data_calls, 0);
    assert_int_equal(o.st, KLEASE_OK);
    assert_int_equal(o.http_status, 410);
    assert_string_equal(o.body, "{\"reason\":\"Expired\"}");
}

static void test_an_aborted_hanging_stream_ends_without_done(void **state)
{
    fixture *f = *state;
    scripted_push(f->t, (scripted_reply){.hang = true});
    outcome o = {0};
    klease__http_op *op = start(f, &o, NULL, true);
    assert_true(scripted_await_hang(f->t));
    klease__http_loop_abort(f->loop, op); /* returns once the thread is out */
    assert_false(f->t->hanging);
    klease__http_loop_run(f->loop, klease__mono_ns(f->clock));
    assert_int_equal(o.done_calls, 0);
    klease__http_loop_stats s;
    klease__http_loop_get_stats(f->loop, &s);
    assert_int_equal(s.running, 0);
}

static void test_a_fired_token_ends_a_hanging_stream_with_eclosed(void **state)
{
    fixture *f = *state;
    scripted_push(f->t, (scripted_reply){.hang = true});
    klease__cancel cancel;
    assert_int_equal(klease__cancel_init(&cancel), 0);
    outcome o = {0};
    start(f, &o, &cancel, true);
    assert_true(scripted_await_hang(f->t));
    klease__cancel_fire(&cancel);
    run_until_done(f, &o);
    assert_int_equal(o.st, KLEASE_ECLOSED);
    assert_non_null(strstr(o.message, "cancelled"));
    klease__cancel_destroy(&cancel);
}

static void test_an_already_fired_token_ends_ops_with_eclosed_from_run(void **state)
{
    fixture *f = *state;
    scripted_push(f->t, (scripted_reply){.hang = true});
    klease__cancel cancel;
    assert_int_equal(klease__cancel_init(&cancel), 0);
    klease__cancel_fire(&cancel);
    outcome req = {0}, stream = {0};
    start(f, &req, &cancel, false);
    start(f, &stream, &cancel, true);
    assert_int_equal(req.done_calls + stream.done_calls, 0);
    klease__http_loop_run(f->loop, klease__mono_ns(f->clock));
    assert_int_equal(req.st, KLEASE_ECLOSED);
    assert_int_equal(stream.st, KLEASE_ECLOSED);
    assert_non_null(strstr(stream.message, "GET /x: cancelled"));
    klease__cancel_destroy(&cancel);
}

static void test_freeing_the_loop_ends_ops_in_flight_without_done(void **state)
{
    fixture *f = *state;
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = "queued"});
    scripted_push(f->t, (scripted_reply){.hang = true});
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = "streamed", .chunk = 2});
    outcome a = {0}, b = {0}, c = {0};
    start(f, &a, NULL, false);
    start(f, &b, NULL, true);
    start(f, &c, NULL, true);
    assert_true(scripted_await_hang(f->t));
    klease__http_loop_free(f->loop); /* joins both stream threads; leaks show in ASan/valgrind */
    f->loop = NULL;
    assert_int_equal(a.done_calls + b.done_calls + c.done_calls, 0);
    assert_int_equal(c.data_calls, 0);
    assert_false(f->t->hanging);
}

typedef struct runner {
    fixture *f;
    int64_t deadline;
    bool returned;
} runner;

static void *run_main(void *arg)
{
    runner *r = arg;
    klease__http_loop_run(r->f->loop, r->deadline);
    r->returned = true;
    return NULL;
}

static void test_run_waits_on_the_loop_clock_until_its_deadline(void **state)
{
    fixture *f = *state;
    runner r = {.f = f, .deadline = klease__mono_ns(f->clock) + 5 * KLEASE__NS_PER_S};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, run_main, &r), 0);
    assert_true(klease__fake_clock_await_sleepers(f->fc, 1, 10000));
    assert_int_equal(klease__fake_clock_next_deadline(f->fc), r.deadline);
    klease__fake_clock_advance(f->fc, 5 * KLEASE__NS_PER_S);
    pthread_join(th, NULL);
    assert_true(r.returned);
}

static void test_a_wakeup_from_another_thread_ends_a_wait(void **state)
{
    fixture *f = *state;
    runner r = {.f = f, .deadline = INT64_MAX};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, run_main, &r), 0);
    assert_true(klease__fake_clock_await_sleepers(f->fc, 1, 10000));
    klease__http_loop_wakeup(f->loop);
    pthread_join(th, NULL);
    assert_true(r.returned);
    /* A wakeup before run() makes the next run return at once, too. */
    klease__http_loop_wakeup(f->loop);
    klease__http_loop_run(f->loop, INT64_MAX);
}

static void test_a_loop_without_a_transport_or_clock_is_refused(void **state)
{
    fixture *f = *state;
    klease__http_loop *l = (klease__http_loop *)f; /* anything non-NULL */
    klease_error err;
    assert_int_equal(klease__http_loop_new(NULL, f->clock, &l, &err), KLEASE_EINVAL);
    assert_null(l);
    assert_non_null(strstr(err.message, "needs a transport and a clock"));
    assert_int_equal(klease__http_loop_new(&f->t->base, NULL, &l, &err), KLEASE_EINVAL);
    klease__http_loop_free(NULL); /* NULL-safe */
}

/* One run of a loop with a request and a stream, the n-th allocation
 * failing: every failure ends in NULL from start(), a failed new, or an
 * outcome of KLEASE_ENOMEM; never a crash, a hang or a leak. */
static klease_status loop_with_failure(void *ctx, long n)
{
    fixture *f = ctx;
    scripted_transport *t = scripted_new();
    scripted_push(t, (scripted_reply){.http_status = 200, .body = "plain"});
    scripted_push(t, (scripted_reply){.http_status = 200, .body = "streamed", .chunk = 3});
    klease__http_loop *l = NULL;
    outcome a = {0}, b = {0};
    a.loop_thread = b.loop_thread = pthread_self();
    klease_status st = KLEASE_OK;
    klease__alloc_fail_after(n);
    if ((st = klease__http_loop_new(&t->base, f->clock, &l, NULL)) != KLEASE_OK)
        goto out;
    if (klease__http_loop_start(l, &GET, NULL, NULL, on_done, &a) == NULL) {
        st = KLEASE_ENOMEM;
        goto out;
    }
    if (klease__http_loop_start(l, &GET, NULL, on_data, on_done, &b) == NULL) {
        st = KLEASE_ENOMEM;
        goto out;
    }
    for (int i = 0; i < 1000 && (a.done_calls == 0 || b.done_calls == 0); i++)
        klease__http_loop_run(l, INT64_MAX);
    st = a.st != KLEASE_OK ? a.st : b.st;
    if (st == KLEASE_OK && (strcmp(a.body, "plain") != 0 || strcmp(b.data, "streamed") != 0))
        st = KLEASE_EPROTO;
out:
    klease__alloc_fail_after(-1);
    klease__http_loop_free(l);
    scripted_free(t);
    return st;
}

static void test_every_allocation_failure_ends_in_enomem_without_a_leak(void **state)
{
    assert_true(alloc_fail_each("generic loop", loop_with_failure, *state, KLEASE_OK) > 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_request_outcome_arrives_from_run_not_from_start,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_many_requests_each_get_their_own_outcome_in_start_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_an_aborted_request_never_calls_done, setup, teardown),
        cmocka_unit_test_setup_teardown(test_done_may_start_and_abort_other_ops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_bytes_arrive_on_the_loop_thread_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_stream_stops_once_on_data_returns_false, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_stream_error_status_returns_the_body, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_an_aborted_hanging_stream_ends_without_done, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_fired_token_ends_a_hanging_stream_with_eclosed,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_an_already_fired_token_ends_ops_with_eclosed_from_run,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_freeing_the_loop_ends_ops_in_flight_without_done,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_waits_on_the_loop_clock_until_its_deadline, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_wakeup_from_another_thread_ends_a_wait, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_loop_without_a_transport_or_clock_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_every_allocation_failure_ends_in_enomem_without_a_leak,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
