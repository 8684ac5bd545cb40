/* kubert's lease scenarios, shared by the integration and e2e tests.
 * Real time, with leases of a few seconds. */
#include "kubert_scenarios.h"

#include "cmocka_wrap.h"
#include "core/clock.h"
#include "api/lease_api.h"
#include "lease/codec.h"

#include <stdio.h>
#include <string.h>

static int64_t now_ms(void)
{
    return klease__mono_ns(klease__clock_system()) / KLEASE__NS_PER_MS;
}

static const char *const SCENARIO_LEASES[] = {"exclusive", "expires", "renews", "vacates",
                                              "vacate-expired"};

/* The lease for scenario `base`: "<prefix>-<base>", so runs never collide. */
static const char *lease_name(const scenario_ctx *e, const char *base, char buf[128])
{
    snprintf(buf, 128, "%s-%s", e->prefix, base);
    return buf;
}

static klease_manager *manager(const scenario_ctx *e, const char *base, bool create)
{
    char buf[128];
    const char *name = lease_name(e, base, buf);
    klease_manager_options o = KLEASE_MANAGER_OPTIONS_INIT;
    o.create_if_missing = create;
    klease_manager *m = NULL;
    klease_error err;
    if (klease_manager_init(&m, e->client, e->ns, name, &o, &err) != KLEASE_OK)
        fail_msg("manager_init(%s): %s", name, err.message);
    return m;
}

/* The stored lease, read straight from the simulator. */
static klease__lease stored(const scenario_ctx *e, const char *base)
{
    char buf[128];
    const char *name = lease_name(e, base, buf);
    klease__http_response resp;
    klease_error err;
    if (klease__lease_get(e->client, e->ns, name, NULL, &resp, &err) != KLEASE_OK)
        fail_msg("GET lease %s/%s: %s", e->ns, name, err.message);
    klease__lease l;
    assert_int_equal(klease__lease_decode(resp.body, resp.body_len, &l, NULL), KLEASE_OK);
    klease__http_response_clear(&resp);
    return l;
}

static klease_claim_params params(int64_t duration_ms, int64_t grace_ms)
{
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    p.lease_duration_ms = duration_ms;
    p.renew_grace_ms = grace_ms;
    return p;
}

static klease_claim claim(klease_manager *m, const char *who, const klease_claim_params *p)
{
    klease_claim c;
    klease_error err;
    if (klease_ensure_claimed(m, who, p, &c, &err) != KLEASE_OK)
        fail_msg("ensure_claimed(%s): %s", who, err.message);
    return c;
}

#define SECS(ns) ((ns) / KLEASE__NS_PER_S)

/* exclusive: a current claim has precedence over another claimant. */
void scenario_exclusive(const scenario_ctx *e)
{
    klease_manager *m0 = manager(e, "exclusive", true);
    klease_claim_params p0 = params(3000, 1000), p1 = params(5000, 3000);
    klease_claim c0 = claim(m0, "id-0", &p0);
    assert_true(klease_claim_is_current_for(&c0, "id-0"));

    klease_manager *m1 = manager(e, "exclusive", false);
    klease_claim c1 = claim(m1, "id-1", &p1);
    assert_string_equal(c0.holder, c1.holder);
    assert_int_equal(SECS(c0.expiry_wall_ns), SECS(c1.expiry_wall_ns));
    assert_true(klease_claim_is_current_for(&c0, "id-0"));
    assert_true(klease_claim_is_current_for(&c1, "id-0"));
    assert_false(klease_claim_is_current_for(&c0, "id-1"));
    assert_false(klease_claim_is_current_for(&c1, "id-1"));
    klease__lease l = stored(e, "exclusive");
    assert_true(klease__lease_held_by(&l, "id-0"));
    klease_manager_free(m0);
    klease_manager_free(m1);
}

/* expires: once the claim expires, another claimant takes the lease. */
void scenario_expires(const scenario_ctx *e)
{
    klease_manager *m0 = manager(e, "expires", true);
    klease_manager *m1 = manager(e, "expires", false);
    klease_claim_params p0 = params(3000, 1000), p1 = params(5000, 3000);
    claim(m0, "id-0", &p0);
    klease_claim seen_by_1 = claim(m1, "id-1", &p1);
    assert_string_equal(seen_by_1.holder, "id-0");
    /* Wait for the claim to expire as the second claimant judges it (never
     * before the holder's own deadline: see the time model). */
    klease_claim_expire(&seen_by_1);
    klease_claim c2 = claim(m1, "id-1", &p1);
    assert_false(klease_claim_is_current_for(&c2, "id-0"));
    assert_true(klease_claim_is_current_for(&c2, "id-1"));

    klease__lease l = stored(e, "expires");
    assert_true(klease__lease_held_by(&l, c2.holder));
    assert_int_equal(SECS(l.renew_time_ns), SECS(c2.expiry_wall_ns - 5 * KLEASE__NS_PER_S));
    /* Just acquired: acquire time and renew time are the same. */
    assert_int_equal(l.acquire_time_ns, l.renew_time_ns);
    assert_int_equal(l.duration_s, 5);
    assert_int_equal(l.transitions, 2);
    klease_manager_free(m0);
    klease_manager_free(m1);
}

/* renews: within the renew grace the holder renews; acquireTime stays. */
void scenario_renews(const scenario_ctx *e)
{
    klease_manager *m1 = manager(e, "renews", true);
    klease_claim_params p1 = params(5000, 3000);
    klease_claim c2 = claim(m1, "id-1", &p1);
    klease_claim_expire_with_grace(&c2, 3000);
    klease_claim c3 = claim(m1, "id-1", &p1);
    assert_true(klease_claim_is_current_for(&c3, "id-1"));
    assert_true(c3.deadline_mono_ns > c2.deadline_mono_ns);

    klease__lease l = stored(e, "renews");
    assert_true(klease__lease_held_by(&l, "id-1"));
    assert_int_equal(SECS(l.renew_time_ns), SECS(c3.expiry_wall_ns - 5 * KLEASE__NS_PER_S));
    assert_true(l.acquire_time_ns < l.renew_time_ns);
    assert_int_equal(l.duration_s, 5);
    assert_int_equal(l.transitions, 1);
    klease_manager_free(m1);
}

/* vacates: the holder gives the lease up; another claims it at once. */
void scenario_vacates(const scenario_ctx *e)
{
    klease_manager *m0 = manager(e, "vacates", true);
    klease_manager *m1 = manager(e, "vacates", false);
    klease_claim_params p = params(30000, 1000);
    claim(m0, "id-0", &p);
    assert_string_equal(claim(m1, "id-1", &p).holder, "id-0");
    bool vacated = false;
    klease_error err;
    assert_int_equal(klease_vacate(m0, "id-0", &vacated, &err), KLEASE_OK);
    assert_true(vacated);
    klease__lease l = stored(e, "vacates");
    assert_false(l.has_holder);
    assert_false(l.has_renew_time);
    assert_false(l.has_acquire_time);
    assert_false(l.has_duration);
    assert_int_equal(l.transitions, 1);
    /* No waiting for the 30 s claim to run out: once m1 reads the lease (its
     * cache still shows id-0's claim, which ensure_claimed returns without
     * I/O, as the seed does; the elector learns of a vacate by watch). */
    int64_t start = now_ms();
    assert_int_equal(klease_sync(m1, NULL, NULL, NULL), KLEASE_OK);
    klease_claim c = claim(m1, "id-1", &p);
    assert_true(klease_claim_is_current_for(&c, "id-1"));
    assert_true(now_ms() - start < 5000);
    assert_int_equal(stored(e, "vacates").transitions, 2);
    klease_manager_free(m0);
    klease_manager_free(m1);
}

/* vacate_expired_noop: vacating an expired claim changes nothing. */
void scenario_vacate_expired_noop(const scenario_ctx *e)
{
    klease_manager *m0 = manager(e, "vacate-expired", true);
    klease_claim_params p = params(2000, 1000);
    klease_claim c0 = claim(m0, "id-0", &p);
    klease_claim_expire(&c0);
    klease__lease before = stored(e, "vacate-expired");
    bool vacated = true;
    assert_int_equal(klease_vacate(m0, "id-0", &vacated, NULL), KLEASE_OK);
    assert_false(vacated);
    klease__lease after = stored(e, "vacate-expired");
    assert_string_equal(after.resource_version, before.resource_version);
    assert_true(klease__lease_held_by(&after, "id-0"));
    assert_int_equal(after.renew_time_ns, before.renew_time_ns);
    klease_manager_free(m0);
}

void scenario_cleanup(const scenario_ctx *e)
{
    for (size_t i = 0; i < sizeof SCENARIO_LEASES / sizeof SCENARIO_LEASES[0]; i++) {
        char buf[128];
        klease__http_response resp;
        klease_status st = klease__lease_delete(
            e->client, e->ns, lease_name(e, SCENARIO_LEASES[i], buf), NULL, &resp, NULL);
        if (st == KLEASE_OK)
            klease__http_response_clear(&resp);
    }
}
