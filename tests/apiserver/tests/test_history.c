/* The write history (in memory and as JSON lines), state persistence across
 * a restart, and concurrent writers racing on one lease. */
#include "cmocka_wrap.h"

#include "http.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SMP   "application/strategic-merge-patch+json"
#define APPLY "application/apply-patch+yaml"
#define A     LEASES "/lease-a"

static void test_history_records_every_accepted_write_and_nothing_else(void **state)
{
    (void)state;
    ksim *sim = NULL;
    char path[] = "/tmp/ksim-history-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    ksim_options o = KSIM_OPTIONS_INIT;
    o.history_path = path;
    assert_int_equal(ksim_start(&sim, &o, NULL, 0), 0);
    assert_int_equal(ksim_add_token(sim, "alice-token", "alice", true), 0);

    th_req q = {.method = "POST",
                .path = LEASES "?fieldManager=creator",
                .token = "alice-token",
                .body = "{\"metadata\":{\"name\":\"lease-a\"},\"spec\":{\"holderIdentity\":\"a\","
                        "\"leaseDurationSeconds\":15,\"renewTime\":\"2030-01-02T03:04:05.000006Z\","
                        "\"leaseTransitions\":0}}"};
    th_resp r;
    th_do(sim, &q, &r);
    assert_int_equal(r.code, 201);
    th_resp_free(&r);
    assert_int_equal(th_simple(sim, "PATCH", A "?fieldManager=klease&force=true", APPLY,
                               "{\"metadata\":{\"name\":\"lease-a\"},\"spec\":{\"holderIdentity\":"
                               "\"b\",\"leaseTransitions\":1}}",
                               NULL),
                     200);
    /* Refused writes are not history. */
    assert_int_equal(
        th_simple(sim, "PATCH", A, SMP, "{\"metadata\":{\"resourceVersion\":\"1\"}}", NULL), 409);
    assert_int_equal(th_simple(sim, "PATCH", A, SMP, "{\"spec\":{\"holderIdentity\":null}}", NULL),
                     200);
    assert_int_equal(th_simple(sim, "PUT", A, NULL,
                               "{\"metadata\":{\"name\":\"lease-a\"},\"spec\":{\"holderIdentity\":"
                               "\"p\"}}",
                               NULL),
                     200);
    assert_int_equal(th_simple(sim, "PATCH", A, "application/merge-patch+json",
                               "{\"spec\":{\"holderIdentity\":\"m\"}}", NULL),
                     200);
    assert_int_equal(th_simple(sim, "DELETE", A, NULL, NULL, NULL), 200);

    ksim_history_entry *h = NULL;
    size_t n = 0;
    assert_int_equal(ksim_history_get(sim, 0, &h, &n), 0);
    assert_int_equal(n, 6);
    static const ksim_op ops[] = {KSIM_OP_CREATE, KSIM_OP_APPLY, KSIM_OP_SMP,
                                  KSIM_OP_PUT,    KSIM_OP_MERGE, KSIM_OP_DELETE};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(h[i].op, ops[i]);
        assert_string_equal(h[i].ns, "klease-test");
        assert_string_equal(h[i].name, "lease-a");
        if (i > 0) {
            assert_true(h[i].resource_version > h[i - 1].resource_version);
            assert_true(h[i].mono_ns >= h[i - 1].mono_ns);
        }
    }
    assert_string_equal(h[0].holder, "a");
    assert_string_equal(h[0].identity, "alice");
    assert_string_equal(h[0].field_manager, "creator");
    assert_true(h[0].has_renew_time);
    assert_int_equal(h[0].renew_time_ns, INT64_C(1893553445000006000));
    assert_int_equal(h[0].lease_duration_seconds, 15);
    assert_string_equal(h[1].holder, "b");
    assert_int_equal(h[1].lease_transitions, 1);
    assert_string_equal(h[1].identity, KSIM_ADMIN_USER);
    assert_null(h[2].holder); /* vacated */
    assert_null(h[5].holder);
    ksim_history_free(h, n);
    assert_int_equal(ksim_history_get(sim, 4, &h, &n), 0);
    assert_int_equal(n, 2);
    ksim_history_free(h, n);
    ksim_stop(sim);

    /* The same six writes as JSON lines. */
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[2048];
    int lines = 0;
    while (fgets(line, sizeof(line), f)) {
        cJSON *e = cJSON_Parse(line);
        assert_non_null(e);
        assert_string_equal(th_str(e, "op"), ksim_op_name(ops[lines]));
        assert_non_null(th_str(e, "resourceVersion"));
        if (lines == 0) {
            assert_string_equal(th_str(e, "renewTime"), "2030-01-02T03:04:05.000006Z");
            assert_string_equal(th_str(e, "holderIdentity"), "a");
        }
        cJSON_Delete(e);
        lines++;
    }
    fclose(f);
    assert_int_equal(lines, 6);
    unlink(path);
}

static void test_state_survives_a_restart_and_old_watches_get_410(void **state)
{
    (void)state;
    char dir[] = "/tmp/ksim-state-XXXXXX", file[600];
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/state.json", dir);
    ksim_options o = KSIM_OPTIONS_INIT;
    o.state_path = file;
    ksim *sim = NULL;
    assert_int_equal(ksim_start(&sim, &o, NULL, 0), 0);
    assert_int_equal(th_simple(sim, "PATCH", A "?fieldManager=klease&force=true", APPLY,
                               "{\"metadata\":{\"name\":\"lease-a\"},\"spec\":{\"holderIdentity\":"
                               "\"a\",\"leaseDurationSeconds\":7}}",
                               NULL),
                     201);
    char *before = ksim_get_lease_json(sim, "klease-test", "lease-a");
    uint64_t rv = ksim_resource_version(sim);
    ksim_stop(sim);

    assert_int_equal(ksim_start(&sim, &o, NULL, 0), 0);
    char *after = ksim_get_lease_json(sim, "klease-test", "lease-a");
    assert_string_equal(after, before); /* uid, rv, managedFields and spec */
    assert_int_equal(ksim_resource_version(sim), rv);
    cJSON *o2 = NULL;
    assert_int_equal(th_simple(sim, "PATCH", A "?fieldManager=klease", SMP,
                               "{\"spec\":{\"holderIdentity\":\"b\"}}", &o2),
                     200);
    assert_int_equal(strtoull(th_str(o2, "metadata.resourceVersion"), NULL, 10), rv + 1);
    cJSON_Delete(o2);
    /* Events from before the restart are gone, as after a real restart. */
    char path[256];
    snprintf(path, sizeof(path), "%s?watch=1&resourceVersion=%llu", LEASES,
             (unsigned long long)(rv - 1));
    th_watch *w = th_watch_start(sim, path, NULL, 10000);
    assert_int_equal(th_watch_wait_lines(w, 99, 8000), 1);
    cJSON *ev = th_watch_event(w, 0);
    assert_int_equal(th_num(ev, "object.code"), 410);
    cJSON_Delete(ev);
    th_watch_end(w);
    ksim_stop(sim);
    free(before);
    free(after);
    unlink(file);
    char adm[600];
    snprintf(adm, sizeof(adm), "%s", dir);
    rmdir(adm);
}

/* Writers that read, then write with the version they read: exactly one
 * write per version wins and the history shows a strict order. */
typedef struct racer {
    ksim *sim;
    int id;
    int wins;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    CURL *c = curl_easy_init();
    for (int i = 0; i < 15; i++) {
        th_req g = {.path = A, .reuse = c};
        th_resp resp;
        th_do(r->sim, &g, &resp);
        cJSON *o = th_json(&resp);
        th_resp_free(&resp);
        char body[256];
        snprintf(body, sizeof(body),
                 "{\"metadata\":{\"resourceVersion\":\"%s\"},\"spec\":{"
                 "\"holderIdentity\":\"racer-%d-%d\"}}",
                 th_str(o, "metadata.resourceVersion"), r->id, i);
        cJSON_Delete(o);
        th_req p = {.method = "PATCH",
                    .path = A "?fieldManager=racer",
                    .content_type = SMP,
                    .body = body,
                    .reuse = c};
        th_do(r->sim, &p, &resp);
        r->wins += resp.code == 200;
        th_resp_free(&resp);
    }
    curl_easy_cleanup(c);
    return NULL;
}

static void test_racing_writers_never_both_win_the_same_version(void **state)
{
    (void)state;
    ksim *sim = NULL;
    assert_int_equal(ksim_start(&sim, NULL, NULL, 0), 0);
    assert_int_equal(th_simple(sim, "POST", LEASES, NULL,
                               "{\"metadata\":{\"name\":\"lease-a\"},\"spec\":{}}", NULL),
                     201);
    racer r[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (racer){.sim = sim, .id = i};
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    int wins = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        wins += r[i].wins;
    }
    ksim_history_entry *h = NULL;
    size_t n = 0;
    assert_int_equal(ksim_history_get(sim, 0, &h, &n), 0);
    assert_int_equal(n, (size_t)wins + 1);
    for (size_t i = 1; i < n; i++)
        assert_int_equal(h[i].resource_version, h[i - 1].resource_version + 1);
    ksim_history_free(h, n);
    ksim_stop(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history_records_every_accepted_write_and_nothing_else),
        cmocka_unit_test(test_state_survives_a_restart_and_old_watches_get_410),
        cmocka_unit_test(test_racing_writers_never_both_win_the_same_version),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
