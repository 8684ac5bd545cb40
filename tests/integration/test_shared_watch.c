/* One watch per namespace (issue 17): a client following 50 leases of one
 * namespace holds exactly one watch stream on the API server, not 50, and
 * still takes every lease over as soon as its holder vacates it.
 *
 * Needs the lease engine: with one thread per elector (before the engine),
 * every follower opens its own watch and the count is 50. */
#include "cmocka_wrap.h"

#include "itest.h"

#include <stdio.h>
#include <string.h>

#define NS      "klease-shared"
#define N       50
#define HOLDER  "holder"
#define FOLLOWS "follower"

/* Bounds, generous for a loaded 2-core machine under TSan: acquiring 50
 * leases is 50 writes through a pool of 16 connections, milliseconds each. */
#define SETTLE_MS 30000
/* A takeover is one watch event plus one write per lease (50 writes through
 * the pool). The holders' claims last 120 s and the followers poll only
 * when the watch fails (every 2 s by default, which could also see the
 * vacated lease), so 30 s leaves room for a slow machine while staying far
 * below the claim's expiry: a takeover inside the bound comes from the
 * vacate, not from the old claim running out. */
#define TAKEOVER_MS 30000
#define CLAIM_MS    120000

static bool all_leading(klease_elector **e)
{
    for (int i = 0; i < N; i++)
        if (!klease_elector_is_leader(e[i]))
            return false;
    return true;
}

static bool all_see_holder(klease_elector **e)
{
    for (int i = 0; i < N; i++) {
        klease_claim c;
        bool has = false;
        klease_elector_current(e[i], &c, &has);
        if (!has || strcmp(c.holder, HOLDER) != 0)
            return false;
    }
    return true;
}

/* The follower's open watches once the count has not changed for a second
 * (a follower that has just seen the holder may still be opening its
 * stream), or after SETTLE_MS. */
static uint64_t settled_watches(ksim *sim)
{
    int64_t until = itest_now_ms() + SETTLE_MS;
    uint64_t last = ksim_watches_open_by(sim, FOLLOWS);
    int64_t same_since = itest_now_ms();
    while (itest_now_ms() < until) {
        itest_sleep_ms(100);
        uint64_t now = ksim_watches_open_by(sim, FOLLOWS);
        if (now != last) {
            last = now;
            same_since = itest_now_ms();
        } else if (last > 0 && itest_now_ms() - same_since >= 1000) {
            break;
        }
    }
    return last;
}

static void test_followers_of_many_leases_in_a_namespace_share_one_watch_and_take_over(void **state)
{
    (void)state;
    ksim *sim = itest_sim(NULL);
    assert_int_equal(ksim_add_token(sim, "holder-token", HOLDER, true), 0);
    assert_int_equal(ksim_add_token(sim, "follower-token", FOLLOWS, true), 0);
    klease_client *hc = itest_client_with_token(sim, "holder-token", 5000);
    klease_client *fc = itest_client_with_token(sim, "follower-token", 5000);

    klease_manager *hm[N], *fm[N];
    klease_elector *he[N], *fe[N];
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    p.lease_duration_ms = CLAIM_MS;
    klease_elector_options eo = KLEASE_ELECTOR_OPTIONS_INIT;
    klease_error err;
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof(name), "shard-%02d", i);
        hm[i] = itest_manager(hc, NS, name, true);
        fm[i] = itest_manager(fc, NS, name, true);
        assert_int_equal(klease_spawn(&he[i], hm[i], HOLDER, &p, &eo, &err), KLEASE_OK);
    }
    int64_t until = itest_now_ms() + SETTLE_MS;
    while (!all_leading(he) && itest_now_ms() < until)
        itest_sleep_ms(20);
    assert_true(all_leading(he));

    assert_int_equal(ksim_watches_open_by(sim, FOLLOWS), 0);
    for (int i = 0; i < N; i++)
        assert_int_equal(klease_spawn(&fe[i], fm[i], FOLLOWS, &p, &eo, &err), KLEASE_OK);
    until = itest_now_ms() + SETTLE_MS;
    while (!all_see_holder(fe) && itest_now_ms() < until)
        itest_sleep_ms(20);
    assert_true(all_see_holder(fe));
    /* The point of the engine: one stream for the whole namespace. */
    uint64_t watches = settled_watches(sim);
    if (watches != 1)
        print_error("follower watches open: %llu (want 1)\n", (unsigned long long)watches);
    assert_int_equal(watches, 1);

    /* The holder goes away cleanly: every elector vacates at close. */
    int64_t t0 = itest_now_ms();
    for (int i = 0; i < N; i++) {
        assert_int_equal(klease_elector_close(he[i], &err), KLEASE_OK);
        klease_manager_free(hm[i]);
    }
    klease_client_free(hc);
    until = t0 + TAKEOVER_MS;
    while (!all_leading(fe) && itest_now_ms() < until)
        itest_sleep_ms(20);
    assert_true(all_leading(fe));

    for (int i = 0; i < N; i++) {
        assert_int_equal(klease_elector_close(fe[i], &err), KLEASE_OK);
        klease_manager_free(fm[i]);
    }
    klease_client_free(fc);
    ksim_stop(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_followers_of_many_leases_in_a_namespace_share_one_watch_and_take_over),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
