/* Every fault kind, matched by method, route and identity, plus the
 * connection counters that let tests prove connection reuse. */
#include "cmocka_wrap.h"

#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SMP "application/strategic-merge-patch+json"
#define A   LEASES "/lease-a"

static ksim *sim;

static int setup(void **state)
{
    (void)state;
    ksim_options o = KSIM_OPTIONS_INIT;
    o.seed = 42;
    if (ksim_start(&sim, &o, NULL, 0) != 0)
        return -1;
    if (ksim_add_token(sim, "alice-token", "alice", true) != 0 ||
        ksim_add_token(sim, "bob-token", "bob", true) != 0)
        return -1;
    return th_simple(sim, "POST", LEASES, NULL,
                     "{\"metadata\":{\"name\":\"lease-a\"},\"spec\":{\"holderIdentity\":\"h0\"}}",
                     NULL) == 201
               ? 0
               : -1;
}

static int teardown(void **state)
{
    (void)state;
    ksim_stop(sim);
    return 0;
}

static th_resp get_as(const char *token, long timeout_ms)
{
    th_req q = {.path = A, .token = token, .timeout_ms = timeout_ms};
    th_resp r;
    th_do(sim, &q, &r);
    return r;
}

static th_resp patch_holder(const char *holder)
{
    char body[128];
    snprintf(body, sizeof(body), "{\"spec\":{\"holderIdentity\":\"%s\"}}", holder);
    th_req q = {.method = "PATCH",
                .path = A "?fieldManager=t",
                .content_type = SMP,
                .body = body,
                .timeout_ms = 5000};
    th_resp r;
    th_do(sim, &q, &r);
    return r;
}

static char *holder_now(void)
{
    char *json = ksim_get_lease_json(sim, "klease-test", "lease-a");
    cJSON *o = cJSON_Parse(json);
    char *h = strdup(th_str(o, "spec.holderIdentity"));
    cJSON_Delete(o);
    free(json);
    return h;
}

static void test_latency_delays_only_matching_requests(void **state)
{
    (void)state;
    ksim_fault f = KSIM_FAULT_INIT;
    f.kind = KSIM_FAULT_LATENCY;
    f.method = "GET";
    f.latency_ms = 400;
    uint64_t id;
    assert_int_equal(ksim_add_fault(sim, &f, &id), 0);
    long long t0 = th_now_ms();
    th_resp r = get_as(NULL, 10000);
    assert_int_equal(r.code, 200);
    assert_true(th_now_ms() - t0 >= 400);
    th_resp_free(&r);
    r = patch_holder("h1"); /* PATCH is not delayed: nothing to measure but success */
    assert_int_equal(r.code, 200);
    th_resp_free(&r);
    assert_int_equal(ksim_fault_fired(sim, id), 1);
}

static void test_error_faults_answer_500_or_503_for_count_requests(void **state)
{
    (void)state;
    ksim_fault f = KSIM_FAULT_INIT;
    f.kind = KSIM_FAULT_ERROR;
    f.count = 1;
    uint64_t id;
    assert_int_equal(ksim_add_fault(sim, &f, &id), 0);
    cJSON *o = NULL;
    assert_int_equal(th_simple(sim, "GET", A, NULL, NULL, &o), 500);
    assert_string_equal(th_str(o, "reason"), "InternalError");
    cJSON_Delete(o);
    assert_int_equal(th_simple(sim, "GET", A, NULL, NULL, NULL), 200); /* used up */
    assert_int_equal(ksim_fault_fired(sim, id), 1);
    assert_false(ksim_remove_fault(sim, id));
    assert_int_equal(
        ksim_add_fault_json(sim, "{\"kind\":\"error\",\"status\":503,\"count\":1}", NULL), 0);
    assert_int_equal(th_simple(sim, "GET", A, NULL, NULL, &o), 503);
    assert_string_equal(th_str(o, "reason"), "ServiceUnavailable");
    cJSON_Delete(o);
}

static void test_throttle_answers_429_with_retry_after(void **state)
{
    (void)state;
    assert_int_equal(ksim_add_fault_json(sim,
                                         "{\"kind\":\"throttle\",\"method\":\"PATCH\","
                                         "\"retryAfterSeconds\":3,\"count\":1}",
                                         NULL),
                     0);
    th_resp r = patch_holder("h2");
    assert_int_equal(r.code, 429);
    assert_int_equal(r.retry_after, 3);
    cJSON *o = th_json(&r);
    assert_string_equal(th_str(o, "reason"), "TooManyRequests");
    assert_int_equal(th_num(o, "details.retryAfterSeconds"), 3);
    cJSON_Delete(o);
    th_resp_free(&r);
    char *h = holder_now();
    assert_string_equal(h, "h0");
    free(h);
}

static void test_drop_before_closes_without_applying(void **state)
{
    (void)state;
    uint64_t rv = ksim_resource_version(sim);
    size_t writes = ksim_history_count(sim);
    assert_int_equal(
        ksim_add_fault_json(sim, "{\"kind\":\"drop-before\",\"method\":\"PATCH\"}", NULL), 0);
    th_resp r = patch_holder("never");
    assert_int_not_equal(r.rc, CURLE_OK); /* empty reply */
    th_resp_free(&r);
    assert_int_equal(ksim_resource_version(sim), rv);
    assert_int_equal(ksim_history_count(sim), writes);
}

static void test_drop_after_applies_but_never_answers(void **state)
{
    (void)state;
    size_t writes = ksim_history_count(sim);
    assert_int_equal(
        ksim_add_fault_json(sim, "{\"kind\":\"drop-after\",\"method\":\"PATCH\"}", NULL), 0);
    th_resp r = patch_holder("won-silently");
    assert_int_not_equal(r.rc, CURLE_OK);
    th_resp_free(&r);
    char *h = holder_now();
    assert_string_equal(h, "won-silently");
    free(h);
    assert_int_equal(ksim_history_count(sim), writes + 1);
}

static void test_hang_lasts_until_the_client_gives_up_and_pins_nothing(void **state)
{
    (void)state;
    uint64_t id;
    ksim_fault f = KSIM_FAULT_INIT;
    f.kind = KSIM_FAULT_HANG;
    f.identity = "alice";
    assert_int_equal(ksim_add_fault(sim, &f, &id), 0);
    long long t0 = th_now_ms();
    th_resp r = get_as("alice-token", 600);
    assert_int_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
    assert_true(th_now_ms() - t0 >= 550);
    th_resp_free(&r);
    r = get_as("bob-token", 5000); /* other identities are served meanwhile */
    assert_int_equal(r.code, 200);
    th_resp_free(&r);
    assert_true(ksim_remove_fault(sim, id));
    r = get_as("alice-token", 5000);
    assert_int_equal(r.code, 200);
    th_resp_free(&r);
}

static void test_partition_silences_requests_and_watches_of_one_identity(void **state)
{
    (void)state;
    th_watch *w = th_watch_start(
        sim, LEASES "?watch=1&fieldSelector=metadata.name%3Dlease-a&timeoutSeconds=20",
        "alice-token", 30000);
    assert_int_equal(th_watch_wait_lines(w, 1, 5000), 1); /* ADDED */
    uint64_t id;
    ksim_fault f = KSIM_FAULT_INIT;
    f.kind = KSIM_FAULT_PARTITION;
    f.identity = "alice";
    assert_int_equal(ksim_add_fault(sim, &f, &id), 0);
    th_resp r = patch_holder("during-partition"); /* admin is not partitioned */
    assert_int_equal(r.code, 200);
    th_resp_free(&r);
    r = get_as("alice-token", 500);
    assert_int_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
    th_resp_free(&r);
    /* The watch heard nothing during the partition (half a second is plenty
     * for an event that otherwise arrives in milliseconds)... */
    assert_int_equal(th_watch_wait_lines(w, 2, 500), 1);
    assert_true(ksim_remove_fault(sim, id));
    /* ...and gets the held-back event once it heals. */
    assert_int_equal(th_watch_wait_lines(w, 2, 5000), 2);
    cJSON *ev = th_watch_event(w, 1);
    assert_string_equal(th_str(ev, "object.spec.holderIdentity"), "during-partition");
    cJSON_Delete(ev);
    ksim_stop(sim); /* ends the watch long before its timeout */
    th_watch_end(w);
}

static int bob_failures(uint64_t *id)
{
    assert_int_equal(ksim_add_fault_json(sim,
                                         "{\"kind\":\"error\",\"status\":503,"
                                         "\"probability\":0.5,\"identity\":\"bob\"}",
                                         id),
                     0);
    CURL *c = curl_easy_init();
    int failures = 0;
    for (int i = 0; i < 100; i++) {
        th_req q = {.path = A, .token = "bob-token", .reuse = c};
        th_resp r;
        th_do(sim, &q, &r);
        failures += r.code == 503;
        th_resp_free(&r);
    }
    curl_easy_cleanup(c);
    return failures;
}

static void test_probability_is_reproducible_with_a_seed(void **state)
{
    uint64_t id;
    int first = bob_failures(&id);
    /* Binomial(100, 0.5): 25..75 is more than 5 standard deviations wide. */
    assert_true(first > 25 && first < 75);
    assert_int_equal(ksim_fault_fired(sim, id), (uint64_t)first);
    teardown(state);
    assert_int_equal(setup(state), 0); /* same seed, same requests */
    assert_int_equal(bob_failures(&id), first);
}

static void test_counters_prove_connection_reuse(void **state)
{
    (void)state;
    ksim_counters before, after;
    ksim_get_counters(sim, &before);
    CURL *c = curl_easy_init();
    for (int i = 0; i < 5; i++) {
        th_req q = {.path = A, .reuse = c};
        th_resp r;
        th_do(sim, &q, &r);
        assert_int_equal(r.code, 200);
        th_resp_free(&r);
    }
    curl_easy_cleanup(c);
    assert_int_equal(th_simple(sim, "GET", A, NULL, NULL, NULL), 200); /* a fresh connection */
    ksim_get_counters(sim, &after);
    assert_int_equal(after.requests - before.requests, 6);
    assert_int_equal(after.connections - before.connections, 2);
    assert_int_equal(after.tls_handshakes - before.tls_handshakes, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_latency_delays_only_matching_requests),
        T(test_error_faults_answer_500_or_503_for_count_requests),
        T(test_throttle_answers_429_with_retry_after),
        T(test_drop_before_closes_without_applying),
        T(test_drop_after_applies_but_never_answers),
        T(test_hang_lasts_until_the_client_gives_up_and_pins_nothing),
        cmocka_unit_test_setup(test_partition_silences_requests_and_watches_of_one_identity, setup),
        T(test_probability_is_reproducible_with_a_seed),
        T(test_counters_prove_connection_reuse),
#undef T
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
