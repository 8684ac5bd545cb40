/* The lease manager over HTTPS against the simulator: kubert's own five
 * scenarios (exclusive, expires, renews, vacates, vacate_expired_noop) with
 * the same assertions on the stored Lease, then races, missing leases, a hung
 * server and a response lost after a successful write. Real time, with
 * durations of a few seconds. */
#include "cmocka_wrap.h"

#include "core/clock.h"
#include "itest.h"
#include "kubert_scenarios.h"
#include "lease/codec.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS "default"

typedef itest_env env;

static klease_manager *manager(env *e, const char *name, bool create)
{
    return itest_manager(e->client, NS, name, create);
}

/* The stored lease, read straight from the simulator. */
static klease__lease stored(env *e, const char *name)
{
    char *json = ksim_get_lease_json(e->sim, NS, name);
    assert_non_null(json);
    klease__lease l;
    assert_int_equal(klease__lease_decode(json, strlen(json), &l, NULL), KLEASE_OK);
    free(json);
    return l;
}

static klease_claim_params params(int64_t duration_ms, int64_t grace_ms)
{
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    p.lease_duration_ms = duration_ms;
    p.renew_grace_ms = grace_ms;
    return p;
}

/* kubert's five scenarios, shared with tests/e2e. */
#define SCENARIO(name)                                                                             \
    static void test_##name(void **state)                                                          \
    {                                                                                              \
        env *e = *state;                                                                           \
        scenario_ctx ctx = {e->client, NS, "sim"};                                                 \
        scenario_##name(&ctx);                                                                     \
    }
SCENARIO(exclusive)
SCENARIO(expires)
SCENARIO(renews)
SCENARIO(vacates)
SCENARIO(vacate_expired_noop)

typedef struct racer {
    env *e;
    klease_manager *m;
    char id[32];
    pthread_barrier_t *go;
    klease_claim got;
    klease_status st;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    klease_claim_params p = params(30000, 1000);
    pthread_barrier_wait(r->go);
    r->st = klease_ensure_claimed(r->m, r->id, &p, &r->got, NULL);
    return NULL;
}

static void test_racing_threads_and_managers_yield_exactly_one_holder_per_round(void **state)
{
    env *e = *state;
    enum { N = 4, ROUNDS = 5 };
    racer r[N];
    pthread_t th[N];
    pthread_barrier_t go;
    klease_manager *creator = manager(e, "race", true);
    for (int i = 0; i < N; i++) {
        r[i] = (racer){.e = e, .m = manager(e, "race", false), .go = &go};
        snprintf(r[i].id, sizeof r[i].id, "racer-%d", i);
    }
    for (int round = 0; round < ROUNDS; round++) {
        size_t history_before = ksim_history_count(e->sim);
        pthread_barrier_init(&go, NULL, N);
        for (int i = 0; i < N; i++)
            pthread_create(&th[i], NULL, race, &r[i]);
        for (int i = 0; i < N; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&go);
        int winners = 0, winner = -1;
        for (int i = 0; i < N; i++) {
            assert_int_equal(r[i].st, KLEASE_OK);
            if (klease_claim_is_current_for(&r[i].got, r[i].id)) {
                winners++;
                winner = i;
            }
        }
        assert_int_equal(winners, 1);
        for (int i = 0; i < N; i++)
            assert_string_equal(r[i].got.holder, r[winner].id);
        /* The server accepted exactly one write: the winner's acquire. */
        assert_int_equal(ksim_history_count(e->sim) - history_before, 1);
        bool vacated;
        assert_int_equal(klease_vacate(r[winner].m, r[winner].id, &vacated, NULL), KLEASE_OK);
        assert_true(vacated);
    }
    for (int i = 0; i < N; i++)
        klease_manager_free(r[i].m);
    klease_manager_free(creator);
}

static void test_missing_lease_without_and_with_create(void **state)
{
    env *e = *state;
    klease_manager *m = NULL;
    klease_error err;
    assert_int_equal(klease_manager_init(&m, e->client, NS, "absent", NULL, &err),
                     KLEASE_ENOTFOUND);
    assert_null(m);
    klease_manager *a = manager(e, "absent", true);
    klease_manager *b = manager(e, "absent", true); /* exists now: reads it */
    bool has = true;
    assert_int_equal(klease_claimed(b, NULL, &has), KLEASE_OK);
    assert_false(has);
    klease_manager_free(a);
    klease_manager_free(b);
}

static void test_a_hung_server_turns_into_a_timeout(void **state)
{
    env *e = *state;
    klease_client *c = itest_client(e->sim, KSIM_KUBECONFIG_TOKEN, 500);
    klease_manager *m = NULL;
    klease_manager_options o = KLEASE_MANAGER_OPTIONS_INIT;
    o.create_if_missing = true;
    assert_int_equal(klease_manager_init(&m, c, NS, "hung", &o, NULL), KLEASE_OK);
    ksim_fault f = KSIM_FAULT_INIT;
    f.kind = KSIM_FAULT_HANG;
    assert_int_equal(ksim_add_fault(e->sim, &f, NULL), 0);
    klease_claim_params p = params(10000, 1000);
    klease_claim got;
    klease_error err;
    int64_t start = itest_now_ms();
    assert_int_equal(klease_ensure_claimed(m, "me", &p, &got, &err), KLEASE_ETIMEDOUT);
    assert_true(itest_now_ms() - start < 3000); /* a 500 ms limit, generous slack */
    ksim_clear_faults(e->sim);
    assert_int_equal(klease_ensure_claimed(m, "me", &p, &got, &err), KLEASE_OK);
    assert_true(klease_claim_is_current_for(&got, "me"));
    klease_manager_free(m);
    klease_client_free(c);
}

static void test_a_response_lost_after_a_successful_write(void **state)
{
    env *e = *state;
    klease_manager *m = manager(e, "lost", true);
    ksim_fault f = KSIM_FAULT_INIT;
    f.kind = KSIM_FAULT_DROP_AFTER;
    f.method = "PATCH";
    f.count = 1;
    assert_int_equal(ksim_add_fault(e->sim, &f, NULL), 0);
    klease_claim_params p = params(30000, 1000);
    klease_claim got;
    klease_error err;
    size_t before = ksim_history_count(e->sim);
    /* The acquire lands but its answer is lost. Whether the first call sees
     * the error or libcurl's retry meets a 409 and re-reads, we must end up
     * holding the lease, as the server says we do. */
    klease_status st = klease_ensure_claimed(m, "me", &p, &got, &err);
    if (st != KLEASE_OK) {
        assert_int_equal(st, KLEASE_ETRANSPORT);
        assert_int_equal(klease_ensure_claimed(m, "me", &p, &got, &err), KLEASE_OK);
    }
    assert_true(klease_claim_is_current_for(&got, "me"));
    klease__lease l = stored(e, "lost");
    assert_true(klease__lease_held_by(&l, "me"));
    assert_int_equal(l.transitions, 1);
    ksim_history_entry *h;
    size_t n;
    assert_int_equal(ksim_history_get(e->sim, before, &h, &n), 0);
    assert_true(n >= 1);
    assert_int_equal(h[0].op, KSIM_OP_APPLY);
    ksim_history_free(h, n);
    klease_manager_free(m);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, itest_env_setup, itest_env_teardown)
    const struct CMUnitTest tests[] = {
        T(test_exclusive),
        T(test_expires),
        T(test_renews),
        T(test_vacates),
        T(test_vacate_expired_noop),
        T(test_racing_threads_and_managers_yield_exactly_one_holder_per_round),
        T(test_missing_lease_without_and_with_create),
        T(test_a_hung_server_turns_into_a_timeout),
        T(test_a_response_lost_after_a_successful_write),
    };
    return cmocka_run_group_tests_name("manager", tests, NULL, NULL);
}
