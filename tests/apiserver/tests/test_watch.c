/* Watch streams: initial state, live events, replay, 410 Expired,
 * bookmarks, the clean end at timeoutSeconds, and a prompt end at stop. */
#include "cmocka_wrap.h"

#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WATCH_A "?watch=1&fieldSelector=metadata.name%3Dlease-a"
#define SMP     "application/strategic-merge-patch+json"

static ksim *start(int history, int bookmark_ms)
{
    ksim *sim = NULL;
    ksim_options o = KSIM_OPTIONS_INIT;
    o.watch_history = history;
    o.bookmark_interval_ms = bookmark_ms;
    assert_int_equal(ksim_start(&sim, &o, NULL, 0), 0);
    return sim;
}

static void create(ksim *sim, const char *name, const char *holder)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"holderIdentity\":"
             "\"%s\",\"leaseDurationSeconds\":10}}",
             name, holder);
    assert_int_equal(th_simple(sim, "POST", LEASES, NULL, body, NULL), 201);
}

static void renew(ksim *sim, const char *name, const char *holder)
{
    char path[256], body[128];
    snprintf(path, sizeof(path), LEASES "/%s?fieldManager=t", name);
    snprintf(body, sizeof(body), "{\"spec\":{\"holderIdentity\":\"%s\"}}", holder);
    assert_int_equal(th_simple(sim, "PATCH", path, SMP, body, NULL), 200);
}

static const char *type_of(cJSON *ev)
{
    return th_str(ev, "type");
}

static void expect_event(th_watch *w, int i, const char *type, const char *holder)
{
    cJSON *ev = th_watch_event(w, i);
    assert_non_null(ev);
    assert_string_equal(type_of(ev), type);
    if (holder)
        assert_string_equal(th_str(ev, "object.spec.holderIdentity"), holder);
    cJSON_Delete(ev);
}

static void test_watch_sends_the_current_lease_then_live_events_of_that_lease_only(void **state)
{
    (void)state;
    ksim *sim = start(100, 60000);
    create(sim, "lease-a", "x");
    th_watch *w = th_watch_start(sim, LEASES WATCH_A "&timeoutSeconds=30", NULL, 40000);
    assert_int_equal(th_watch_wait_lines(w, 1, 5000), 1);
    expect_event(w, 0, "ADDED", "x"); /* 24: synthetic ADDED of the current state */
    renew(sim, "lease-a", "y");
    create(sim, "lease-other", "z"); /* filtered out by the field selector */
    renew(sim, "lease-other", "zz");
    assert_int_equal(th_simple(sim, "DELETE", LEASES "/lease-a", NULL, NULL, NULL), 200);
    create(sim, "lease-a", "again");
    assert_int_equal(th_watch_wait_lines(w, 4, 5000), 4);
    expect_event(w, 1, "MODIFIED", "y");
    expect_event(w, 2, "DELETED", "y");
    expect_event(w, 3, "ADDED", "again");
    /* The DELETED event carries the deletion's own resourceVersion. */
    cJSON *del = th_watch_event(w, 2), *mod = th_watch_event(w, 1);
    assert_true(strtoull(th_str(del, "object.metadata.resourceVersion"), NULL, 10) >
                strtoull(th_str(mod, "object.metadata.resourceVersion"), NULL, 10) + 2);
    cJSON_Delete(del);
    cJSON_Delete(mod);
    /* Stopping the server ends the stream well before its 30 s timeout. */
    long long t0 = th_now_ms();
    ksim_stop(sim);
    th_watch_end(w);
    assert_true(th_now_ms() - t0 < 5000);
}

static void test_watch_from_an_old_version_replays_what_happened_since(void **state)
{
    (void)state;
    ksim *sim = start(100, 60000);
    uint64_t before = ksim_resource_version(sim);
    create(sim, "lease-a", "h0");
    renew(sim, "lease-a", "h1");
    renew(sim, "lease-a", "h2");
    char path[256];
    snprintf(path, sizeof(path), "%s%s&resourceVersion=%llu&timeoutSeconds=1", LEASES, WATCH_A,
             (unsigned long long)before);
    th_watch *w = th_watch_start(sim, path, NULL, 10000);
    assert_int_equal(th_watch_wait_lines(w, 99, 8000), 3); /* waits for the end of stream */
    expect_event(w, 0, "ADDED", "h0");
    expect_event(w, 1, "MODIFIED", "h1");
    expect_event(w, 2, "MODIFIED", "h2");
    th_watch_end(w);
    ksim_stop(sim);
}

static void test_watch_from_a_forgotten_version_gets_one_410_event(void **state)
{
    (void)state;
    ksim *sim = start(2, 60000); /* keeps two events per lease */
    create(sim, "lease-a", "h0");
    uint64_t first = ksim_resource_version(sim);
    renew(sim, "lease-a", "h1");
    renew(sim, "lease-a", "h2");
    renew(sim, "lease-a", "h3");
    char path[256];
    snprintf(path, sizeof(path), "%s%s&resourceVersion=%llu&timeoutSeconds=20", LEASES, WATCH_A,
             (unsigned long long)first);
    long long t0 = th_now_ms();
    th_watch *w = th_watch_start(sim, path, NULL, 30000);
    assert_int_equal(th_watch_wait_lines(w, 99, 10000), 1);
    th_watch_end(w); /* the stream ended by itself, long before the timeout */
    assert_true(th_now_ms() - t0 < 10000);
    ksim_stop(sim);
}

static void test_watch_410_event_is_an_expired_status(void **state)
{
    (void)state;
    ksim *sim = start(1, 60000);
    create(sim, "lease-a", "h0");
    renew(sim, "lease-a", "h1");
    th_watch *w = th_watch_start(sim, LEASES WATCH_A "&resourceVersion=1", NULL, 10000);
    assert_int_equal(th_watch_wait_lines(w, 99, 8000), 1);
    cJSON *ev = th_watch_event(w, 0);
    assert_string_equal(th_str(ev, "type"), "ERROR");
    assert_string_equal(th_str(ev, "object.kind"), "Status");
    assert_string_equal(th_str(ev, "object.reason"), "Expired");
    assert_int_equal(th_num(ev, "object.code"), 410);
    assert_non_null(strstr(th_str(ev, "object.message"), "too old resource version: 1 ("));
    cJSON_Delete(ev);
    assert_int_equal(w->code, 200); /* the error travels inside a 200 stream */
    th_watch_end(w);
    ksim_stop(sim);
}

static void test_watch_of_a_missing_lease_is_silent_and_ends_at_the_timeout(void **state)
{
    (void)state;
    ksim *sim = start(100, 60000);
    long long t0 = th_now_ms();
    th_watch *w = th_watch_start(
        sim,
        LEASES "?watch=1&fieldSelector=metadata.name%3Dnope&resourceVersion=0&timeoutSeconds=1",
        NULL, 10000);
    assert_int_equal(th_watch_wait_lines(w, 99, 8000), 0);
    long long took = th_now_ms() - t0;
    assert_true(took >= 900 && took < 8000); /* ~1 s, generous upper bound for slow CI */
    assert_int_equal(w->rc, CURLE_OK);       /* clean end of the chunked stream */
    assert_int_equal(w->code, 200);
    th_watch_end(w);
    ksim_stop(sim);
}

static void test_bookmarks_come_at_the_interval_and_just_before_the_timeout(void **state)
{
    (void)state;
    ksim *sim = start(100, 300);
    create(sim, "lease-a", "h0");
    char path[256];
    snprintf(path, sizeof(path),
             "%s%s&resourceVersion=%llu&allowWatchBookmarks=true"
             "&timeoutSeconds=2",
             LEASES, WATCH_A, (unsigned long long)ksim_resource_version(sim));
    th_watch *w = th_watch_start(sim, path, NULL, 10000);
    int n = th_watch_wait_lines(w, 99, 8000);
    /* 300 ms period over 2 s, plus the final one: at least 4 even on a slow machine. */
    assert_true(n >= 4);
    char want[512];
    snprintf(want, sizeof(want),
             "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Lease\","
             "\"apiVersion\":\"coordination.k8s.io/v1\",\"metadata\":{\"resourceVersion\":\"%llu\","
             "\"creationTimestamp\":null},\"spec\":{}}}",
             (unsigned long long)ksim_resource_version(sim));
    for (int i = 0; i < n; i++) {
        cJSON *ev = th_watch_event(w, i);
        char *text = cJSON_PrintUnformatted(ev);
        assert_string_equal(text, want);
        free(text);
        cJSON_Delete(ev);
    }
    assert_int_equal(w->rc, CURLE_OK);
    th_watch_end(w);
    ksim_stop(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_watch_sends_the_current_lease_then_live_events_of_that_lease_only),
        cmocka_unit_test(test_watch_from_an_old_version_replays_what_happened_since),
        cmocka_unit_test(test_watch_from_a_forgotten_version_gets_one_410_event),
        cmocka_unit_test(test_watch_410_event_is_an_expired_status),
        cmocka_unit_test(test_watch_of_a_missing_lease_is_silent_and_ends_at_the_timeout),
        cmocka_unit_test(test_bookmarks_come_at_the_interval_and_just_before_the_timeout),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
