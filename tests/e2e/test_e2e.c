/* End-to-end: kubert's lease scenarios and an elector handover against a
 * real cluster. Opt-in: KLEASE_E2E_KUBECONFIG names the kubeconfig (the
 * namespace comes from KLEASE_E2E_NAMESPACE, default "default"). Without it
 * the test exits with ctest's skip code, so it is reported as skipped, never
 * as passed. Every lease it creates is named "klease-e2e-<run>-..." and
 * deleted at the end, pass or fail. */
#include "cmocka_wrap.h"

#include "api/lease_api.h"
#include "kubert_scenarios.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SKIP_CODE 77

static scenario_ctx ctx;
static char prefix[64];

static int group_setup(void **state)
{
    (void)state;
    klease_client_options o = KLEASE_CLIENT_OPTIONS_INIT;
    o.kubeconfig = getenv("KLEASE_E2E_KUBECONFIG");
    klease_error err;
    if (klease_client_new(&ctx.client, &o, &err) != KLEASE_OK) {
        fprintf(stderr, "e2e: cannot use %s: %s\n", o.kubeconfig, err.message);
        return -1;
    }
    const char *ns = getenv("KLEASE_E2E_NAMESPACE");
    ctx.ns = ns != NULL && ns[0] != '\0' ? ns : "default";
    snprintf(prefix, sizeof prefix, "klease-e2e-%ld-%d", (long)time(NULL) % 100000, (int)getpid());
    ctx.prefix = prefix;
    fprintf(stderr, "e2e: server %s, namespace %s, leases %s-*\n", klease_client_server(ctx.client),
            ctx.ns, prefix);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    scenario_cleanup(&ctx);
    char name[128];
    snprintf(name, sizeof name, "%s-handover", prefix);
    klease__http_response resp;
    if (klease__lease_delete(ctx.client, ctx.ns, name, NULL, &resp, NULL) == KLEASE_OK)
        klease__http_response_clear(&resp);
    klease_client_free(ctx.client);
    return 0;
}

static void test_exclusive(void **state)
{
    (void)state;
    scenario_exclusive(&ctx);
}

static void test_expires(void **state)
{
    (void)state;
    scenario_expires(&ctx);
}

static void test_renews(void **state)
{
    (void)state;
    scenario_renews(&ctx);
}

static void test_vacates(void **state)
{
    (void)state;
    scenario_vacates(&ctx);
}

static void test_vacate_expired_noop(void **state)
{
    (void)state;
    scenario_vacate_expired_noop(&ctx);
}

static bool await_leader(klease_elector *e, int seconds)
{
    for (int i = 0; i < seconds * 100; i++) {
        if (klease_elector_is_leader(e))
            return true;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

/* Two electors: the first leads, closes (vacating), and the second takes
 * over by watch long before the 15 s claim could have run out. */
static void test_elector_handover(void **state)
{
    (void)state;
    char name[128];
    snprintf(name, sizeof name, "%s-handover", prefix);
    klease_manager_options mo = KLEASE_MANAGER_OPTIONS_INIT;
    mo.create_if_missing = true;
    klease_manager *ma = NULL, *mb = NULL;
    klease_error err;
    assert_int_equal(klease_manager_init(&ma, ctx.client, ctx.ns, name, &mo, &err), KLEASE_OK);
    assert_int_equal(klease_manager_init(&mb, ctx.client, ctx.ns, name, &mo, &err), KLEASE_OK);
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    p.lease_duration_ms = 15000;
    klease_elector *a = NULL, *b = NULL;
    assert_int_equal(klease_spawn(&a, ma, "e2e-a", &p, NULL, &err), KLEASE_OK);
    assert_true(await_leader(a, 20));
    assert_int_equal(klease_spawn(&b, mb, "e2e-b", &p, NULL, &err), KLEASE_OK);
    struct timespec settle = {1, 0};
    nanosleep(&settle, NULL);
    assert_false(klease_elector_is_leader(b));
    time_t closed = time(NULL);
    assert_int_equal(klease_elector_close(a, &err), KLEASE_OK);
    assert_true(await_leader(b, 10));
    assert_true(time(NULL) - closed < 10);
    assert_int_equal(klease_elector_close(b, &err), KLEASE_OK);
    klease_manager_free(ma);
    klease_manager_free(mb);
}

int main(void)
{
    const char *kubeconfig = getenv("KLEASE_E2E_KUBECONFIG");
    if (kubeconfig == NULL || kubeconfig[0] == '\0') {
        printf("e2e: KLEASE_E2E_KUBECONFIG is not set: skipped (set it to a kubeconfig of a "
               "cluster where the lease scenarios may create and delete leases)\n");
        return SKIP_CODE;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exclusive),
        cmocka_unit_test(test_expires),
        cmocka_unit_test(test_renews),
        cmocka_unit_test(test_vacates),
        cmocka_unit_test(test_vacate_expired_noop),
        cmocka_unit_test(test_elector_handover),
    };
    return cmocka_run_group_tests_name("e2e", tests, group_setup, group_teardown);
}
