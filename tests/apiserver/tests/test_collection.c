/* Watches of a whole namespace (the collection), as the lease engine uses
 * them to follow any number of leases with one stream: the current leases
 * first as ADDED in list order without a resourceVersion (or with "0"), the
 * changes after a resourceVersion, 410 for one older than the kept history,
 * bookmarks, a field selector narrowing it to one lease, watches of every
 * namespace; the count of open watches as streams open and close; and lists
 * in name order at a few thousand leases. */
#include "cmocka_wrap.h"

#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OTHER "/apis/coordination.k8s.io/v1/namespaces/klease-other/leases"
#define ALL   "/apis/coordination.k8s.io/v1/leases"
#define SMP   "application/strategic-merge-patch+json"

/* Generous bounds for a loaded 2-core machine (and sanitizers): events come
 * in milliseconds, so these only decide how long a failure takes. */
#define EVENT_WAIT_MS 10000

static ksim *start(int history, int bookmark_ms)
{
    ksim *sim = NULL;
    ksim_options o = KSIM_OPTIONS_INIT;
    o.watch_history = history;
    o.bookmark_interval_ms = bookmark_ms;
    assert_int_equal(ksim_start(&sim, &o, NULL, 0), 0);
    return sim;
}

static void create_in(ksim *sim, const char *collection, const char *name, const char *holder)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"holderIdentity\":"
             "\"%s\",\"leaseDurationSeconds\":10}}",
             name, holder);
    assert_int_equal(th_simple(sim, "POST", collection, NULL, body, NULL), 201);
}

static void renew_in(ksim *sim, const char *collection, const char *name, const char *holder)
{
    char path[256], body[128];
    snprintf(path, sizeof(path), "%s/%s?fieldManager=t", collection, name);
    snprintf(body, sizeof(body), "{\"spec\":{\"holderIdentity\":\"%s\"}}", holder);
    assert_int_equal(th_simple(sim, "PATCH", path, SMP, body, NULL), 200);
}

/* Event i is `type` of lease `name` (NULL: any) held by `holder` (NULL: any). */
static void expect_event(th_watch *w, int i, const char *type, const char *name, const char *holder)
{
    cJSON *ev = th_watch_event(w, i);
    assert_non_null(ev);
    assert_string_equal(th_str(ev, "type"), type);
    if (name)
        assert_string_equal(th_str(ev, "object.metadata.name"), name);
    if (holder)
        assert_string_equal(th_str(ev, "object.spec.holderIdentity"), holder);
    cJSON_Delete(ev);
}

static uint64_t open_watches(ksim *sim)
{
    ksim_counters c;
    ksim_get_counters(sim, &c);
    return c.watches_open;
}

/* Waits (generously) for the open-watch count to become `want`. */
static bool open_watches_become(ksim *sim, uint64_t want, long timeout_ms)
{
    long long until = th_now_ms() + timeout_ms;
    while (open_watches(sim) != want && th_now_ms() < until)
        nanosleep(&(struct timespec){.tv_nsec = 20 * 1000000L}, NULL);
    return open_watches(sim) == want;
}

static void
test_a_namespace_watch_without_version_starts_with_every_lease_in_name_order(void **state)
{
    (void)state;
    ksim *sim = start(100, 60000);
    /* Created out of order: the synthetic ADDED events come sorted by name,
     * as the server's list is. */
    create_in(sim, LEASES, "lease-c", "hc");
    create_in(sim, LEASES, "lease-a", "ha");
    create_in(sim, LEASES, "lease-b", "hb");
    create_in(sim, OTHER, "lease-a", "elsewhere");
    const char *paths[] = {LEASES "?watch=1&timeoutSeconds=30",
                           LEASES "?watch=1&resourceVersion=0&timeoutSeconds=30"};
    for (size_t p = 0; p < 2; p++) {
        th_watch *w = th_watch_start(sim, paths[p], NULL, 40000);
        assert_int_equal(th_watch_wait_lines(w, 3, EVENT_WAIT_MS), 3);
        expect_event(w, 0, "ADDED", "lease-a", "ha");
        expect_event(w, 1, "ADDED", "lease-b", "hb");
        expect_event(w, 2, "ADDED", "lease-c", "hc");
        /* Then the changes of any lease of the namespace, and only those. */
        renew_in(sim, OTHER, "lease-a", "not-for-us");
        renew_in(sim, LEASES, "lease-b", "hb2");
        char name[32];
        snprintf(name, sizeof(name), "lease-new-%zu", p);
        create_in(sim, LEASES, name, "hn");
        assert_int_equal(th_watch_wait_lines(w, 5, EVENT_WAIT_MS), 5);
        expect_event(w, 3, "MODIFIED", "lease-b", "hb2");
        expect_event(w, 4, "ADDED", name, "hn");
        th_watch_abandon(w);
        th_watch_end(w);
        /* The same start for the next round. */
        renew_in(sim, LEASES, "lease-b", "hb");
        char path[128];
        snprintf(path, sizeof(path), LEASES "/%s", name);
        assert_int_equal(th_simple(sim, "DELETE", path, NULL, NULL, NULL), 200);
    }
    ksim_stop(sim);
}

static void test_a_namespace_watch_from_a_version_gets_every_change_after_it_in_order(void **state)
{
    (void)state;
    ksim *sim = start(100, 60000);
    create_in(sim, LEASES, "lease-a", "a0");
    create_in(sim, LEASES, "lease-b", "b0");
    uint64_t from = ksim_resource_version(sim);
    renew_in(sim, LEASES, "lease-b", "b1");
    renew_in(sim, LEASES, "lease-a", "a1");
    create_in(sim, OTHER, "lease-x", "x0"); /* another namespace */
    assert_int_equal(th_simple(sim, "DELETE", LEASES "/lease-b", NULL, NULL, NULL), 200);
    char path[256];
    snprintf(path, sizeof(path), LEASES "?watch=1&resourceVersion=%llu&timeoutSeconds=1",
             (unsigned long long)from);
    th_watch *w = th_watch_start(sim, path, NULL, 10000);
    /* Waits for the end of the 1 s stream: exactly these three, by version. */
    assert_int_equal(th_watch_wait_lines(w, 99, EVENT_WAIT_MS), 3);
    expect_event(w, 0, "MODIFIED", "lease-b", "b1");
    expect_event(w, 1, "MODIFIED", "lease-a", "a1");
    expect_event(w, 2, "DELETED", "lease-b", "b1");
    th_watch_end(w);
    ksim_stop(sim);
}

static void test_a_namespace_watch_from_a_forgotten_version_gets_410_and_ends(void **state)
{
    (void)state;
    ksim *sim = start(2, 60000); /* two events kept per lease */
    create_in(sim, LEASES, "lease-a", "a0");
    uint64_t first = ksim_resource_version(sim);
    create_in(sim, LEASES, "lease-b", "b0");
    for (int i = 1; i <= 3; i++) {
        char h[8];
        snprintf(h, sizeof(h), "a%d", i);
        renew_in(sim, LEASES, "lease-a", h); /* lease-a's window forgets its early events */
    }
    char path[256];
    snprintf(path, sizeof(path), LEASES "?watch=1&resourceVersion=%llu&timeoutSeconds=30",
             (unsigned long long)first);
    long long t0 = th_now_ms();
    th_watch *w = th_watch_start(sim, path, NULL, 40000);
    assert_int_equal(th_watch_wait_lines(w, 99, EVENT_WAIT_MS), 1);
    cJSON *ev = th_watch_event(w, 0);
    assert_string_equal(th_str(ev, "type"), "ERROR");
    assert_string_equal(th_str(ev, "object.reason"), "Expired");
    assert_int_equal(th_num(ev, "object.code"), 410);
    cJSON_Delete(ev);
    th_watch_end(w); /* ended by the server, long before its 30 s */
    assert_true(th_now_ms() - t0 < EVENT_WAIT_MS);
    assert_true(open_watches_become(sim, 0, EVENT_WAIT_MS));
    ksim_stop(sim);
}

static void test_history_across_leases_is_capped_and_forgets_the_oldest_first(void **state)
{
    (void)state;
    ksim *sim = NULL;
    ksim_options o = KSIM_OPTIONS_INIT;
    o.watch_history_total = 3; /* room for three events in all */
    assert_int_equal(ksim_start(&sim, &o, NULL, 0), 0);
    uint64_t before = ksim_resource_version(sim);
    create_in(sim, LEASES, "lease-a", "a0"); /* forgotten when lease-d arrives */
    uint64_t after_a = ksim_resource_version(sim);
    create_in(sim, LEASES, "lease-b", "b0");
    create_in(sim, OTHER, "lease-c", "c0");
    create_in(sim, LEASES, "lease-d", "d0");
    char path[256];
    snprintf(path, sizeof(path), LEASES "?watch=1&resourceVersion=%llu&timeoutSeconds=1",
             (unsigned long long)before);
    th_watch *w = th_watch_start(sim, path, NULL, 10000);
    assert_int_equal(th_watch_wait_lines(w, 99, EVENT_WAIT_MS), 1);
    expect_event(w, 0, "ERROR", NULL, NULL);
    th_watch_end(w);
    /* From just after it, the three kept ones are all there. */
    snprintf(path, sizeof(path), LEASES "?watch=1&resourceVersion=%llu&timeoutSeconds=1",
             (unsigned long long)after_a);
    w = th_watch_start(sim, path, NULL, 10000);
    assert_int_equal(th_watch_wait_lines(w, 99, EVENT_WAIT_MS), 2);
    expect_event(w, 0, "ADDED", "lease-b", "b0");
    expect_event(w, 1, "ADDED", "lease-d", "d0"); /* lease-c is in another namespace */
    th_watch_end(w);
    ksim_stop(sim);
}

static void test_a_namespace_watch_gets_bookmarks_with_the_latest_version(void **state)
{
    (void)state;
    ksim *sim = start(100, 200);
    create_in(sim, LEASES, "lease-a", "a0");
    char path[256];
    snprintf(path, sizeof(path),
             LEASES "?watch=1&allowWatchBookmarks=true&resourceVersion=%llu&timeoutSeconds=30",
             (unsigned long long)ksim_resource_version(sim));
    th_watch *w = th_watch_start(sim, path, NULL, 40000);
    assert_int_equal(th_watch_wait_lines(w, 1, EVENT_WAIT_MS), 1);
    /* A write in another namespace moves the version a bookmark reports. */
    create_in(sim, OTHER, "lease-x", "x0");
    char want[32];
    snprintf(want, sizeof(want), "%llu", (unsigned long long)ksim_resource_version(sim));
    bool seen = false;
    for (int n = 1; !seen && n < 200; n++) {
        if (th_watch_wait_lines(w, n, EVENT_WAIT_MS) < n)
            break;
        cJSON *ev = th_watch_event(w, n - 1);
        assert_string_equal(th_str(ev, "type"), "BOOKMARK");
        seen = strcmp(th_str(ev, "object.metadata.resourceVersion"), want) == 0;
        cJSON_Delete(ev);
    }
    assert_true(seen);
    th_watch_abandon(w);
    th_watch_end(w);
    ksim_stop(sim);
}

static void test_a_field_selector_narrows_a_watch_to_one_lease_as_the_library_asks(void **state)
{
    (void)state;
    ksim *sim = start(100, 60000);
    create_in(sim, LEASES, "lease-a", "a0");
    create_in(sim, LEASES, "lease-b", "b0");
    /* The query src/api/watch.c builds for one lease. */
    char path[256];
    snprintf(path, sizeof(path),
             LEASES "?watch=1&fieldSelector=metadata.name%%3Dlease-b&allowWatchBookmarks=true"
                    "&timeoutSeconds=30&resourceVersion=%llu",
             (unsigned long long)(ksim_resource_version(sim) - 1));
    th_watch *w = th_watch_start(sim, path, NULL, 40000);
    renew_in(sim, LEASES, "lease-a", "a1");
    renew_in(sim, LEASES, "lease-b", "b1");
    assert_int_equal(th_watch_wait_lines(w, 2, EVENT_WAIT_MS), 2);
    expect_event(w, 0, "ADDED", "lease-b", "b0"); /* its creation, after the version asked */
    expect_event(w, 1, "MODIFIED", "lease-b", "b1");
    th_watch_abandon(w);
    th_watch_end(w);
    ksim_stop(sim);
}

static void test_a_watch_of_every_namespace_sees_every_lease(void **state)
{
    (void)state;
    ksim *sim = start(100, 60000);
    create_in(sim, OTHER, "lease-z", "z0");
    create_in(sim, LEASES, "lease-a", "a0");
    th_watch *w = th_watch_start(sim, ALL "?watch=1&timeoutSeconds=30", NULL, 40000);
    assert_int_equal(th_watch_wait_lines(w, 2, EVENT_WAIT_MS), 2);
    /* By namespace first: klease-other before klease-test. */
    expect_event(w, 0, "ADDED", "lease-z", "z0");
    expect_event(w, 1, "ADDED", "lease-a", "a0");
    renew_in(sim, OTHER, "lease-z", "z1");
    renew_in(sim, LEASES, "lease-a", "a1");
    assert_int_equal(th_watch_wait_lines(w, 4, EVENT_WAIT_MS), 4);
    expect_event(w, 2, "MODIFIED", "lease-z", "z1");
    expect_event(w, 3, "MODIFIED", "lease-a", "a1");
    th_watch_abandon(w);
    th_watch_end(w);
    ksim_stop(sim);
}

static void test_open_watches_count_streams_open_now_including_abandoned_ones(void **state)
{
    (void)state;
    ksim *sim = start(100, 60000);
    create_in(sim, LEASES, "lease-a", "a0");
    assert_int_equal(open_watches(sim), 0);
    th_watch *ns = th_watch_start(sim, LEASES "?watch=1&timeoutSeconds=30", NULL, 40000);
    th_watch *one = th_watch_start(
        sim, LEASES "?watch=1&fieldSelector=metadata.name%3Dlease-a&timeoutSeconds=30", NULL,
        40000);
    th_watch *brief = th_watch_start(sim, LEASES "?watch=1&timeoutSeconds=1", NULL, 10000);
    assert_int_equal(th_watch_wait_lines(ns, 1, EVENT_WAIT_MS), 1);
    assert_int_equal(th_watch_wait_lines(one, 1, EVENT_WAIT_MS), 1);
    assert_int_equal(th_watch_wait_lines(brief, 1, EVENT_WAIT_MS), 1);
    assert_true(open_watches_become(sim, 3, EVENT_WAIT_MS));
    /* By who opened them: what one client of many holds. */
    assert_int_equal(ksim_watches_open_by(sim, KSIM_ADMIN_USER), 3);
    assert_int_equal(ksim_watches_open_by(sim, "someone-else"), 0);
    /* A stream that reaches its timeout closes. */
    th_watch_end(brief);
    assert_true(open_watches_become(sim, 2, EVENT_WAIT_MS));
    /* A client that gives up: the simulator notices the hang-up within a
     * slice (100 ms) of its thread; the bound covers libcurl's once-a-second
     * progress callback and a loaded machine. */
    th_watch_abandon(one);
    th_watch_end(one);
    assert_true(open_watches_become(sim, 1, EVENT_WAIT_MS));
    assert_int_equal(ksim_watches_open_by(sim, KSIM_ADMIN_USER), 1);
    ksim_counters c;
    ksim_get_counters(sim, &c);
    assert_int_equal(c.watches, 3); /* started: cumulative */
    th_watch_abandon(ns);
    th_watch_end(ns);
    assert_true(open_watches_become(sim, 0, EVENT_WAIT_MS));
    ksim_stop(sim);
}

static void test_lists_come_in_name_order_and_finds_stay_right_at_thousands_of_leases(void **state)
{
    (void)state;
    ksim *sim = start(2, 60000);
    enum { N = 2000 };
    CURL *h = curl_easy_init();
    /* A fixed permutation (7919 is prime to N): creation order is not name order. */
    for (int i = 0; i < N; i++) {
        char body[200];
        snprintf(body, sizeof(body),
                 "{\"metadata\":{\"name\":\"l-%05d\"},\"spec\":{\"holderIdentity\":\"h\"}}",
                 (i * 7919) % N);
        th_req rq = {.method = "POST", .path = LEASES, .body = body, .reuse = h};
        th_resp r;
        th_do(sim, &rq, &r);
        assert_int_equal(r.code, 201);
        th_resp_free(&r);
    }
    /* Every third one deleted, then each one read back by name. */
    for (int i = 0; i < N; i += 3) {
        char path[128];
        snprintf(path, sizeof(path), LEASES "/l-%05d", i);
        th_req rq = {.method = "DELETE", .path = path, .reuse = h};
        th_resp r;
        th_do(sim, &rq, &r);
        assert_int_equal(r.code, 200);
        th_resp_free(&r);
    }
    for (int i = 0; i < N; i++) {
        char path[128];
        snprintf(path, sizeof(path), LEASES "/l-%05d", i);
        th_req rq = {.path = path, .reuse = h};
        th_resp r;
        th_do(sim, &rq, &r);
        assert_int_equal(r.code, i % 3 == 0 ? 404 : 200);
        th_resp_free(&r);
    }
    curl_easy_cleanup(h);
    cJSON *list = NULL;
    assert_int_equal(th_simple(sim, "GET", LEASES, NULL, NULL, &list), 200);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items");
    int n = 0, want = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        while (want % 3 == 0)
            want++;
        char name[16];
        snprintf(name, sizeof(name), "l-%05d", want++);
        assert_string_equal(th_str(it, "metadata.name"), name);
        n++;
    }
    assert_int_equal(n, N - (N + 2) / 3);
    cJSON_Delete(list);
    ksim_stop(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_a_namespace_watch_without_version_starts_with_every_lease_in_name_order),
        cmocka_unit_test(test_a_namespace_watch_from_a_version_gets_every_change_after_it_in_order),
        cmocka_unit_test(test_a_namespace_watch_from_a_forgotten_version_gets_410_and_ends),
        cmocka_unit_test(test_history_across_leases_is_capped_and_forgets_the_oldest_first),
        cmocka_unit_test(test_a_namespace_watch_gets_bookmarks_with_the_latest_version),
        cmocka_unit_test(test_a_field_selector_narrows_a_watch_to_one_lease_as_the_library_asks),
        cmocka_unit_test(test_a_watch_of_every_namespace_sees_every_lease),
        cmocka_unit_test(test_open_watches_count_streams_open_now_including_abandoned_ones),
        cmocka_unit_test(test_lists_come_in_name_order_and_finds_stay_right_at_thousands_of_leases),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
