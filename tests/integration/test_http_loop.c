/* The libcurl HTTP loop over real HTTPS against the simulator: many
 * concurrent requests on one thread, the connection cap over HTTP/1.1, time
 * limits and cancellation with the blocking call's messages, the 401 retry,
 * a watch stream beside ordinary requests, and HTTP/2 multiplexing through
 * nghttpx. */
#include "cmocka_wrap.h"

#include "itest.h"
#include "api/client.h"
#include "api/lease_api.h"
#include "bench_util.h"
#include "core/alloc.h"
#include "http/http_loop.h"
#include "lease/codec.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NS      "default"
#define NGHTTPX "/usr/sbin/nghttpx"

/* What one op saw. */
typedef struct outcome {
    int done_calls;
    klease_status st;
    int http_status;
    char *body; /* malloc'd copy */
    char message[512];
    char data[4096];     /* stream bytes */
    const char *stop_at; /* a stream stops once its bytes contain this */
} outcome;

static void on_done(void *user, klease_status st, klease__http_response *resp,
                    const klease_error *err)
{
    outcome *o = user;
    o->done_calls++;
    o->st = st;
    if (st == KLEASE_OK) {
        o->http_status = resp->status;
        o->body = strdup(resp->body);
        klease__http_response_clear(resp);
    } else {
        snprintf(o->message, sizeof o->message, "%s", err->message);
    }
}

static bool on_data(void *user, const char *data, size_t len)
{
    outcome *o = user;
    size_t have = strlen(o->data);
    if (have + len < sizeof o->data) {
        memcpy(o->data + have, data, len);
        o->data[have + len] = '\0';
    }
    return o->stop_at == NULL || strstr(o->data, o->stop_at) == NULL;
}

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static klease__http_loop *new_loop(klease_client *c)
{
    klease__http_loop *l = NULL;
    klease_error err;
    if (klease__http_loop_new(c->transport, c->clock, &l, &err) != KLEASE_OK)
        fail_msg("loop: %s", err.message);
    return l;
}

/* Runs the loop until every one of `n` outcomes is done, or `limit_ms` of
 * real time passed (a generous bound: the machine is shared). */
static void run_until_done(klease__http_loop *l, outcome *o, size_t n, int64_t limit_ms)
{
    int64_t end = itest_now_ms() + limit_ms;
    for (;;) {
        size_t done = 0;
        for (size_t i = 0; i < n; i++)
            done += o[i].done_calls;
        if (done == n)
            return;
        if (itest_now_ms() > end)
            fail_msg("%zu of %zu ops done after %lld ms", done, n, (long long)limit_ms);
        klease__http_loop_run(l, klease__mono_ns_system() + 100 * KLEASE__NS_PER_MS);
    }
}

static klease__http_op *start_get(klease__http_loop *l, const char *name, int64_t timeout_ms,
                                  klease__cancel *cancel, outcome *o)
{
    char *path = klease__lease_path(NS, name, NULL);
    klease__http_request req = {.method = "GET", .path = path, .timeout_ms = timeout_ms};
    klease__http_op *op = klease__http_loop_start(l, &req, cancel, NULL, on_done, o);
    klease__free(path); /* the loop copied the request */
    assert_non_null(op);
    return op;
}

static void create_leases(klease__http_loop *l, int n, const char *prefix)
{
    outcome *o = calloc((size_t)n, sizeof *o);
    char *path = klease__lease_path(NS, NULL, NULL);
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s-%d", prefix, i);
        char *body = klease__lease_create_body(name);
        klease__http_request req = {.method = "POST",
                                    .path = path,
                                    .content_type = "application/json",
                                    .body = body,
                                    .body_len = strlen(body),
                                    .timeout_ms = 30000};
        assert_non_null(klease__http_loop_start(l, &req, NULL, NULL, on_done, &o[i]));
        cJSON_free(body);
    }
    klease__free(path);
    run_until_done(l, o, (size_t)n, 60000);
    for (int i = 0; i < n; i++) {
        assert_int_equal(o[i].st, KLEASE_OK);
        assert_int_equal(o[i].http_status, 201);
        free(o[i].body);
    }
    free(o);
}

static klease_client *client_with_max_connections(ksim *sim, size_t max)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/kubeconfig-loop", ksim_workdir(sim));
    assert_int_equal(ksim_write_kubeconfig(sim, path, KSIM_KUBECONFIG_TOKEN), 0);
    klease_client_options o = KLEASE_CLIENT_OPTIONS_INIT;
    o.kubeconfig = path;
    o.max_connections = max;
    klease_client *c = NULL;
    klease_error err;
    if (klease_client_new(&c, &o, &err) != KLEASE_OK)
        fail_msg("client: %s", err.message);
    return c;
}

static void test_two_hundred_concurrent_gets_complete_within_the_connection_cap(void **state)
{
    (void)state;
    enum { N = 200, MAX = 4 };
    ksim *sim = itest_sim(NULL);
    klease_client *c = client_with_max_connections(sim, MAX);
    klease__http_loop *l = new_loop(c);
    create_leases(l, N, "many");
    outcome *o = calloc(N, sizeof *o);
    int64_t cpu0 = thread_cpu_ns();
    for (int i = 0; i < N; i++) {
        char name[64];
        snprintf(name, sizeof name, "many-%d", i);
        start_get(l, name, 30000, NULL, &o[i]);
    }
    klease__http_loop_stats s;
    klease__http_loop_get_stats(l, &s);
    assert_int_equal(s.started, 2 * N); /* the creates and the GETs */
    assert_int_equal(s.running, N);
    run_until_done(l, o, N, 60000);
    int64_t loop_cpu = thread_cpu_ns() - cpu0;
    /* The same GETs as blocking calls, for comparison (a figure, not a test). */
    cpu0 = thread_cpu_ns();
    for (int i = 0; i < N; i++) {
        char name[64];
        snprintf(name, sizeof name, "many-%d", i);
        klease__http_response resp;
        assert_int_equal(klease__lease_get(c, NS, name, NULL, &resp, NULL), KLEASE_OK);
        klease__http_response_clear(&resp);
    }
    int64_t blocking_cpu = thread_cpu_ns() - cpu0;
    /* And one at a time on the loop, as spread-out renewals would be. */
    cpu0 = thread_cpu_ns();
    for (int i = 0; i < N; i++) {
        outcome one = {0};
        start_get(l, "many-0", 30000, NULL, &one);
        run_until_done(l, &one, 1, 10000);
        assert_int_equal(one.http_status, 200);
        free(one.body);
    }
    int64_t serial_cpu = thread_cpu_ns() - cpu0;
    print_message("client CPU per GET over HTTPS/1.1: loop %.1f us (%d at once), %.1f us (one "
                  "at a time); blocking %.1f us\n",
                  (double)loop_cpu / N / 1000.0, N, (double)serial_cpu / N / 1000.0,
                  (double)blocking_cpu / N / 1000.0);
    for (int i = 0; i < N; i++) {
        char name[64];
        snprintf(name, sizeof name, "\"name\":\"many-%d\"", i);
        assert_int_equal(o[i].st, KLEASE_OK);
        assert_int_equal(o[i].http_status, 200);
        if (strstr(o[i].body, name) == NULL)
            fail_msg("op %d got %s", i, o[i].body);
        free(o[i].body);
    }
    free(o);
    /* HTTP/1.1: libcurl queued what the cap did not allow, and reused the
     * connections for everything else. */
    ksim_counters k;
    ksim_get_counters(sim, &k);
    klease__http_loop_get_stats(l, &s);
    /* The server also saw the blocking calls' connection (the transport's
     * own pool, not the loop's): one more. */
    print_message("600 requests, %d connections allowed: %llu opened (server: %llu)\n", MAX,
                  (unsigned long long)s.connections, (unsigned long long)k.connections);
    assert_true(s.connections >= 1 && s.connections <= MAX);
    assert_true(k.connections <= MAX + 1);
    assert_int_equal(s.running, 0);
    assert_int_equal(s.http2, 0);
    klease__http_loop_free(l);
    klease_client_free(c);
    ksim_stop(sim);
}

static void test_a_hung_request_ends_at_its_time_limit_while_others_complete(void **state)
{
    (void)state;
    ksim *sim = itest_sim(NULL);
    klease_client *c = itest_client(sim, KSIM_KUBECONFIG_TOKEN, 0);
    klease__http_loop *l = new_loop(c);
    ksim_fault f = KSIM_FAULT_INIT;
    f.kind = KSIM_FAULT_HANG;
    f.method = "DELETE";
    assert_int_equal(ksim_add_fault(sim, &f, NULL), 0);
    char *path = klease__lease_path(NS, "x", NULL);
    klease__http_request del = {.method = "DELETE", .path = path, .timeout_ms = 500};
    outcome hung = {0}, fine[3] = {{0}};
    int64_t start = itest_now_ms();
    assert_non_null(klease__http_loop_start(l, &del, NULL, NULL, on_done, &hung));
    for (int i = 0; i < 3; i++)
        start_get(l, "x", 5000, NULL, &fine[i]);
    run_until_done(l, fine, 3, 10000);
    assert_int_equal(hung.done_calls, 0); /* the hung one does not hold the others up */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fine[i].http_status, 404);
        free(fine[i].body);
    }
    run_until_done(l, &hung, 1, 10000);
    int64_t took = itest_now_ms() - start;
    assert_int_equal(hung.st, KLEASE_ETIMEDOUT);
    /* The limit is 500 ms; generous slack for a loaded machine. */
    assert_true(took >= 450 && took < 5000);
    /* The same words as the blocking call's (tests/integration/test_transport.c). */
    if (strstr(hung.message, "DELETE /apis/coordination.k8s.io/v1/namespaces/default/leases/x: "
                             "timed out after 500 ms (the call's time limit)") == NULL)
        fail_msg("message: %s", hung.message);
    klease__free(path);
    ksim_clear_faults(sim);
    klease__http_loop_free(l);
    klease_client_free(c);
    ksim_stop(sim);
}

/* Over HTTP/1.1 with every allowed connection taken by a hung request, a
 * request libcurl queued behind it still ends at its own time limit. */
static void test_a_request_queued_for_a_connection_ends_at_its_time_limit(void **state)
{
    (void)state;
    ksim *sim = itest_sim(NULL);
    klease_client *c = client_with_max_connections(sim, 1);
    klease__http_loop *l = new_loop(c);
    ksim_fault f = KSIM_FAULT_INIT;
    f.kind = KSIM_FAULT_HANG;
    f.count = 1;
    assert_int_equal(ksim_add_fault(sim, &f, NULL), 0);
    outcome hung = {0}, queued = {0};
    start_get(l, "x", 3000, NULL, &hung);
    ksim_counters before, k;
    ksim_get_counters(sim, &before);
    for (int i = 0; i < 500; i++) {
        klease__http_loop_run(l, klease__mono_ns_system() + 10 * KLEASE__NS_PER_MS);
        ksim_get_counters(sim, &k);
        if (k.requests > 0)
            break;
    }
    int64_t start = itest_now_ms();
    start_get(l, "x", 500, NULL, &queued);
    run_until_done(l, &queued, 1, 10000);
    int64_t took = itest_now_ms() - start;
    assert_int_equal(queued.st, KLEASE_ETIMEDOUT);
    /* Generous bounds; the hung request's own limit is 3 s. */
    assert_true(took >= 450 && took < 2500);
    print_message("queued: %s (after %lld ms)\n", queued.message, (long long)took);
    run_until_done(l, &hung, 1, 10000);
    assert_int_equal(hung.st, KLEASE_ETIMEDOUT);
    klease__http_loop_free(l);
    klease_client_free(c);
    ksim_stop(sim);
}

static void test_a_fired_token_ends_a_request_in_flight_with_eclosed(void **state)
{
    (void)state;
    ksim *sim = itest_sim(NULL);
    klease_client *c = itest_client(sim, KSIM_KUBECONFIG_CERT, 0);
    klease__http_loop *l = new_loop(c);
    ksim_fault f = KSIM_FAULT_INIT;
    f.kind = KSIM_FAULT_HANG;
    f.count = 1;
    assert_int_equal(ksim_add_fault(sim, &f, NULL), 0);
    klease__cancel cancel;
    assert_int_equal(klease__cancel_init(&cancel), 0);
    outcome o = {0};
    ksim_counters before, k;
    ksim_get_counters(sim, &before);
    start_get(l, "x", 30000, &cancel, &o);
    /* Until the request reached the (hanging) server. */
    for (int i = 0; i < 500; i++) {
        klease__http_loop_run(l, klease__mono_ns_system() + 10 * KLEASE__NS_PER_MS);
        ksim_get_counters(sim, &k);
        if (k.requests > before.requests)
            break;
    }
    assert_true(k.requests > before.requests);
    assert_int_equal(o.done_calls, 0);
    int64_t fired_at = itest_now_ms();
    klease__cancel_fire(&cancel);
    run_until_done(l, &o, 1, 5000);
    assert_int_equal(o.st, KLEASE_ECLOSED);
    assert_string_equal(o.message, "GET /apis/coordination.k8s.io/v1/namespaces/default/leases/x: "
                                   "cancelled");
    /* The wakeup ends the wait at once, not after the 30 s limit (bound generous). */
    assert_true(itest_now_ms() - fired_at < 3000);
    /* The loop goes on: the next request on it works (over TLS with the
     * client certificate). */
    outcome next = {0};
    start_get(l, "x", 5000, NULL, &next);
    run_until_done(l, &next, 1, 10000);
    assert_int_equal(next.http_status, 404);
    free(next.body);
    klease__http_loop_free(l);
    klease__cancel_destroy(&cancel);
    klease_client_free(c);
    ksim_stop(sim);
}

static void test_an_aborted_request_never_calls_done_and_frees_cleanly(void **state)
{
    (void)state;
    ksim *sim = itest_sim(NULL);
    klease_client *c = itest_client(sim, KSIM_KUBECONFIG_TOKEN, 0);
    klease__http_loop *l = new_loop(c);
    outcome a = {0}, b = {0}, left = {0};
    klease__http_op *op = start_get(l, "x", 5000, NULL, &a);
    start_get(l, "x", 5000, NULL, &b);
    klease__http_loop_run(l, klease__mono_ns_system() + 10 * KLEASE__NS_PER_MS);
    if (a.done_calls == 0)
        klease__http_loop_abort(l, op);
    run_until_done(l, &b, 1, 10000);
    assert_true(a.done_calls == 0 || a.http_status == 404);
    free(a.body);
    free(b.body);
    /* No time at all: the blocking call's status and words, from run(). */
    outcome none = {0};
    start_get(l, "x", 0, NULL, &none);
    assert_int_equal(none.done_calls, 0);
    run_until_done(l, &none, 1, 10000);
    assert_int_equal(none.st, KLEASE_ETIMEDOUT);
    assert_non_null(strstr(none.message, "no time left for the call"));
    /* Freed with one still in flight: no done, no leak (ASan/valgrind). */
    start_get(l, "x", 5000, NULL, &left);
    klease__http_loop_free(l);
    assert_int_equal(left.done_calls, 0);
    klease_client_free(c);
    ksim_stop(sim);
}

static void test_a_body_over_the_cap_is_refused_as_the_blocking_call_does(void **state)
{
    (void)state;
    ksim *sim = itest_sim(NULL);
    char path[1024];
    snprintf(path, sizeof path, "%s/kubeconfig-small", ksim_workdir(sim));
    assert_int_equal(ksim_write_kubeconfig(sim, path, KSIM_KUBECONFIG_TOKEN), 0);
    klease_client_options co = KLEASE_CLIENT_OPTIONS_INIT;
    co.kubeconfig = path;
    co.max_response_bytes = 64;
    klease_client *c = NULL;
    assert_int_equal(klease_client_new(&c, &co, NULL), KLEASE_OK);
    klease__http_loop *l = new_loop(c);
    outcome o[2] = {{0}};
    start_get(l, "x", 5000, NULL, &o[0]); /* a 404 Status body is over 64 bytes */
    char *lpath = klease__lease_path(NS, "x", "watch=1");
    klease__http_request req = {.method = "GET", .path = lpath, .timeout_ms = 5000};
    assert_non_null(klease__http_loop_start(l, &req, NULL, on_data, on_done, &o[1]));
    klease__free(lpath);
    run_until_done(l, o, 2, 10000);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(o[i].st, KLEASE_EPROTO);
        if (strstr(o[i].message, "response body larger than 64 bytes") == NULL)
            fail_msg("message: %s", o[i].message);
    }
    klease__http_loop_free(l);
    klease_client_free(c);
    ksim_stop(sim);
}

typedef struct runner {
    klease__http_loop *l;
    int64_t deadline_ns;
    int64_t returned_ms;
} runner;

static void *run_main(void *arg)
{
    runner *r = arg;
    klease__http_loop_run(r->l, r->deadline_ns);
    r->returned_ms = itest_now_ms();
    return NULL;
}

/* The engine's case: its thread waits in run() for a far deadline while
 * another thread wants it back (a new lease) or fires a token (a close). */
static void test_a_wakeup_or_a_token_from_another_thread_ends_the_wait(void **state)
{
    (void)state;
    ksim *sim = itest_sim(NULL);
    klease_client *c = itest_client(sim, KSIM_KUBECONFIG_TOKEN, 0);
    klease__http_loop *l = new_loop(c);
    runner r = {.l = l, .deadline_ns = klease__mono_ns_system() + 60 * KLEASE__NS_PER_S};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, run_main, &r), 0);
    itest_sleep_ms(100);
    int64_t woke_at = itest_now_ms();
    klease__http_loop_wakeup(l);
    pthread_join(th, NULL);
    /* Bound generous for a loaded machine; without the wakeup it is 60 s. */
    assert_true(r.returned_ms - woke_at < 5000);

    ksim_fault f = KSIM_FAULT_INIT;
    f.kind = KSIM_FAULT_HANG;
    f.count = 1;
    assert_int_equal(ksim_add_fault(sim, &f, NULL), 0);
    klease__cancel cancel;
    assert_int_equal(klease__cancel_init(&cancel), 0);
    outcome o = {0};
    start_get(l, "x", 60000, &cancel, &o);
    r.returned_ms = 0;
    assert_int_equal(pthread_create(&th, NULL, run_main, &r), 0);
    itest_sleep_ms(200);
    int64_t fired_at = itest_now_ms();
    klease__cancel_fire(&cancel);
    pthread_join(th, NULL);
    assert_true(r.returned_ms - fired_at < 5000);
    assert_int_equal(o.done_calls, 1);
    assert_int_equal(o.st, KLEASE_ECLOSED);
    klease__cancel_destroy(&cancel);
    klease__http_loop_free(l);
    klease_client_free(c);
    ksim_stop(sim);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_a_401_is_retried_once_with_fresh_credentials(void **state)
{
    (void)state;
    ksim *sim = itest_sim(NULL);
    assert_int_equal(ksim_add_token(sim, "exec-token-2", "exec-user", true), 0);
    char plugin[1024], counter[1024], kubeconfig[1024], script[4096], user[2048];
    snprintf(plugin, sizeof plugin, "%s/plugin.sh", ksim_workdir(sim));
    snprintf(counter, sizeof counter, "%s/runs", ksim_workdir(sim));
    snprintf(kubeconfig, sizeof kubeconfig, "%s/kubeconfig-exec", ksim_workdir(sim));
    /* Run n prints token exec-token-n: the first is unknown to the server. */
    snprintf(script, sizeof script,
             "#!/bin/sh\n"
             "n=$(cat '%s' 2>/dev/null || echo 0); n=$((n + 1)); echo $n > '%s'\n"
             "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
             "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"exec-token-%%s\"}}' $n\n",
             counter, counter);
    write_file(plugin, script, 0700);
    snprintf(user, sizeof user,
             "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
             "      command: %s\n      interactiveMode: Never\n",
             plugin);
    itest_write_kubeconfig(sim, kubeconfig, user);
    klease_client *c = itest_client_from(kubeconfig, 0);
    klease__http_loop *l = new_loop(c);
    outcome o = {0};
    start_get(l, "x", 10000, NULL, &o);
    run_until_done(l, &o, 1, 20000);
    /* The retry's answer, not the 401: the lease does not exist. */
    assert_int_equal(o.st, KLEASE_OK);
    assert_int_equal(o.http_status, 404);
    free(o.body);
    FILE *f = fopen(counter, "r");
    int runs = 0;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &runs), 1);
    fclose(f);
    assert_int_equal(runs, 2); /* one run, a 401, exactly one more run */
    klease__http_loop_free(l);
    klease_client_free(c);
    ksim_stop(sim);
}

static void test_a_watch_stream_delivers_events_beside_ordinary_requests(void **state)
{
    (void)state;
    ksim *sim = itest_sim(NULL);
    klease_client *c = itest_client(sim, KSIM_KUBECONFIG_TOKEN, 0);
    klease__http_loop *l = new_loop(c);
    create_leases(l, 1, "watched");
    char query[256];
    snprintf(query, sizeof query,
             "watch=1&fieldSelector=metadata.name%%3Dwatched-0&resourceVersion=%llu",
             (unsigned long long)ksim_resource_version(sim));
    char *wpath = klease__lease_path(NS, NULL, query);
    klease__http_request watch = {.method = "GET", .path = wpath, .timeout_ms = 30000};
    outcome w = {.stop_at = "holder-b"};
    ksim_counters before, k;
    ksim_get_counters(sim, &before);
    assert_non_null(klease__http_loop_start(l, &watch, NULL, on_data, on_done, &w));
    for (int i = 0; i < 500; i++) {
        klease__http_loop_run(l, klease__mono_ns_system() + 10 * KLEASE__NS_PER_MS);
        ksim_get_counters(sim, &k);
        if (k.watches > before.watches)
            break;
    }
    assert_true(k.watches > before.watches);
    /* Two writes on the same loop while the stream is open. */
    char *path = klease__lease_path(NS, "watched-0", NULL);
    const char *patches[] = {"{\"spec\":{\"holderIdentity\":\"holder-a\"}}",
                             "{\"spec\":{\"holderIdentity\":\"holder-b\"}}"};
    for (int i = 0; i < 2; i++) {
        outcome p = {0};
        klease__http_request req = {.method = "PATCH",
                                    .path = path,
                                    .content_type = "application/merge-patch+json",
                                    .body = patches[i],
                                    .body_len = strlen(patches[i]),
                                    .timeout_ms = 10000};
        assert_non_null(klease__http_loop_start(l, &req, NULL, NULL, on_done, &p));
        run_until_done(l, &p, 1, 10000);
        assert_int_equal(p.http_status, 200);
        free(p.body);
    }
    /* on_data stops the stream once it saw the second: a clean end. */
    run_until_done(l, &w, 1, 10000);
    assert_int_equal(w.st, KLEASE_OK);
    assert_int_equal(w.http_status, 200);
    assert_non_null(strstr(w.data, "\"type\":\"MODIFIED\""));
    char *a = strstr(w.data, "holder-a"), *b = strstr(w.data, "holder-b");
    assert_true(a != NULL && b != NULL && a < b);
    free(w.body);
    klease__free(path);
    klease__free(wpath);
    klease__http_loop_free(l);
    klease_client_free(c);
    ksim_stop(sim);
}

/* nghttpx (Debian's nghttp2-proxy) in front of a plain-HTTP simulator
 * offers h2 over TLS, as a real API server does: 50 requests at once share
 * one connection. */
static void test_fifty_requests_through_an_h2_front_share_one_connection(void **state)
{
    (void)state;
    if (access(NGHTTPX, X_OK) != 0) {
        print_message("skipped: %s is missing (apt-get install nghttp2-proxy)\n", NGHTTPX);
        skip();
    }
    enum { N = 50 };
    ksim_options so = KSIM_OPTIONS_INIT;
    so.tls = false;
    ksim *sim = itest_sim(&so);
    assert_int_equal(ksim_add_token(sim, "bench-token", KSIM_ADMIN_USER, true), 0);
    bench_sim backend = {.port = ksim_port(sim), .plain_http = 1};
    snprintf(backend.workdir, sizeof backend.workdir, "%s", ksim_workdir(sim));
    bench_front front;
    bench_front_start(&front, NGHTTPX, &backend);
    klease_client *c = itest_client_from(front.kubeconfig, 0);
    /* The lease is made by a blocking call, outside the loop: the 50 start
     * on a loop with no connection yet, and must wait for the first rather
     * than open their own (CURLOPT_PIPEWAIT). */
    char *body = klease__lease_create_body("h2-0");
    klease__http_response resp;
    klease_error err;
    if (klease__lease_create(c, NS, "h2-0", body, "klease", NULL, &resp, &err) != KLEASE_OK)
        fail_msg("create: %s", err.message);
    klease__http_response_clear(&resp);
    cJSON_free(body);
    klease__http_loop *l = new_loop(c);
    klease__http_loop_stats s;
    outcome o[N];
    memset(o, 0, sizeof o);
    int64_t cpu0 = thread_cpu_ns();
    for (int i = 0; i < N; i++)
        start_get(l, "h2-0", 30000, NULL, &o[i]);
    run_until_done(l, o, N, 60000);
    print_message("client CPU per GET over h2 (first connection's TLS handshake included): "
                  "%.1f us\n",
                  (double)(thread_cpu_ns() - cpu0) / N / 1000.0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(o[i].http_status, 200);
        assert_non_null(strstr(o[i].body, "\"name\":\"h2-0\""));
        free(o[i].body);
    }
    klease__http_loop_get_stats(l, &s);
    long total, h2;
    bench_front_requests(&front, &total, &h2);
    print_message("h2 front: %llu connection(s) for %d concurrent requests; %ld of %ld "
                  "requests over h2\n",
                  (unsigned long long)s.connections, N, h2, total);
    assert_int_equal(s.connections, 1);
    assert_int_equal(s.http2, N);
    assert_int_equal(h2, total); /* the create too */
    klease__http_loop_free(l);
    klease_client_free(c);
    bench_front_stop(&front);
    ksim_stop(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_hundred_concurrent_gets_complete_within_the_connection_cap),
        cmocka_unit_test(test_a_hung_request_ends_at_its_time_limit_while_others_complete),
        cmocka_unit_test(test_a_request_queued_for_a_connection_ends_at_its_time_limit),
        cmocka_unit_test(test_a_fired_token_ends_a_request_in_flight_with_eclosed),
        cmocka_unit_test(test_an_aborted_request_never_calls_done_and_frees_cleanly),
        cmocka_unit_test(test_a_body_over_the_cap_is_refused_as_the_blocking_call_does),
        cmocka_unit_test(test_a_wakeup_or_a_token_from_another_thread_ends_the_wait),
        cmocka_unit_test(test_a_401_is_retried_once_with_fresh_credentials),
        cmocka_unit_test(test_a_watch_stream_delivers_events_beside_ordinary_requests),
        cmocka_unit_test(test_fifty_requests_through_an_h2_front_share_one_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
