/* Lease manager over the scripted transport and the fake clock: every branch
 * of ensure_claimed, vacate, init, the time model and allocation failures. */
#include "cmocka_wrap.h"

#include "alloc_fail.h"

#include "core/alloc.h"
#include "core/fake_clock.h"
#include "core/microtime.h"
#include "api/client.h"
#include "lease/manager.h"
#include "lease_fixtures.h"
#include "scripted_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    scripted_transport *t;
    klease__fake_clock *fc;
    klease_client *client;
    klease_manager *m;
    klease_claim_params params; /* 30 s, grace 1 s */
} fixture;

static int64_t now_wall(fixture *f)
{
    return klease__wall_ns(klease__fake_clock_get(f->fc));
}

static int64_t now_mono(fixture *f)
{
    return klease__mono_ns(klease__fake_clock_get(f->fc));
}

static fixture *new_fixture(void)
{
    fixture *f = calloc(1, sizeof *f);
    f->t = scripted_new();
    f->fc = klease__fake_clock_new(MONO0, WALL0);
    assert_int_equal(klease__client_new_with_transport(&f->client, &f->t->base,
                                                       klease__fake_clock_get(f->fc), "ns", NULL),
                     KLEASE_OK);
    f->params = (klease_claim_params)KLEASE_CLAIM_PARAMS_INIT;
    return f;
}

/* A fixture whose manager was initialised from an unheld lease (rv 10). */
static int setup(void **state)
{
    fixture *f = new_fixture();
    push_lease(f->t, 200, 10, NULL, 0, 0, 3);
    assert_int_equal(klease_manager_init(&f->m, f->client, NULL, "lease-a", NULL, NULL), KLEASE_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    klease__alloc_fail_after(-1);
    klease_manager_free(f->m);
    klease_client_free(f->client);
    scripted_free(f->t);
    klease__fake_clock_free(f->fc);
    free(f);
    return 0;
}

/* Acquires the lease as "me" at rv 11. */
static klease_claim acquire_as_me(fixture *f)
{
    push_lease(f->t, 200, 11, "me", now_wall(f), 30, 4);
    klease_claim claim;
    klease_error err;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, &err), KLEASE_OK);
    assert_string_equal(claim.holder, "me");
    return claim;
}

static void test_init_reads_the_lease(void **state)
{
    fixture *f = *state;
    assert_int_equal(f->t->nrequests, 1);
    assert_string_equal(f->t->requests[0].method, "GET");
    assert_string_equal(f->t->requests[0].path,
                        "/apis/coordination.k8s.io/v1/namespaces/ns/leases/lease-a");
    bool has;
    assert_int_equal(klease_claimed(f->m, NULL, &has), KLEASE_OK);
    assert_false(has);
}

static void
test_acquire_applies_the_seeds_body_and_claims_until_send_time_plus_duration(void **state)
{
    fixture *f = *state;
    int64_t sent_wall = now_wall(f), sent_mono = now_mono(f);
    klease_claim claim = acquire_as_me(f);
    scripted_request *r = &f->t->requests[1];
    assert_string_equal(r->method, "PATCH");
    assert_string_equal(r->content_type, "application/apply-patch+yaml");
    assert_non_null(strstr(r->path, "?fieldManager=klease&force=true"));
    char *want = klease__lease_acquire_body("10", "me", sent_wall, 30, 4);
    assert_string_equal(r->body, want);
    cJSON_free(want);
    assert_int_equal(claim.deadline_mono_ns, sent_mono + 30 * S);
    assert_int_equal(claim.expiry_wall_ns, sent_wall + 30 * S);
    assert_string_equal(claim.resource_version, "11");
    assert_int_equal(claim.transitions, 4);
}

static void test_held_claim_is_served_from_cache_without_io_or_allocation(void **state)
{
    fixture *f = *state;
    acquire_as_me(f);
    size_t before = f->t->nrequests;
    klease__fake_clock_advance(f->fc, 28 * S); /* 29 s - grace 1 s: still outside the grace */
    uint64_t allocs = klease__alloc_count();
    klease_claim claim;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_int_equal(klease__alloc_count(), allocs);
    assert_int_equal(f->t->nrequests, before);
    assert_string_equal(claim.holder, "me");
}

static void test_renews_exactly_when_the_grace_begins(void **state)
{
    fixture *f = *state;
    acquire_as_me(f);
    klease__fake_clock_advance(f->fc, 29 * S - 1);
    klease_claim claim;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_int_equal(f->t->nrequests, 2); /* one ns before the grace: cached */

    klease__fake_clock_advance(f->fc, 1);
    int64_t sent_wall = now_wall(f), sent_mono = now_mono(f);
    push_lease(f->t, 200, 12, "me", sent_wall, 30, 4);
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    scripted_request *r = &f->t->requests[2];
    assert_string_equal(r->content_type, "application/strategic-merge-patch+json");
    assert_null(strstr(r->path, "force"));
    char *want = klease__lease_renew_body("11", sent_wall, 30);
    assert_string_equal(r->body, want);
    cJSON_free(want);
    assert_int_equal(claim.deadline_mono_ns, sent_mono + 30 * S);
    assert_string_equal(claim.resource_version, "12");
    /* The renewal never runs past the 1 s left on the claim. */
    assert_int_equal(r->timeout_ms, 1000);
}

static void test_renews_after_local_expiry_with_the_resource_version_precondition(void **state)
{
    fixture *f = *state;
    acquire_as_me(f);
    klease__fake_clock_advance(f->fc, 45 * S);
    bool has;
    klease_claimed(f->m, NULL, &has);
    assert_false(has); /* our claim ran out locally */
    push_lease(f->t, 200, 12, "me", now_wall(f), 30, 4);
    klease_claim claim;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_string_equal(f->t->requests[2].content_type, "application/strategic-merge-patch+json");
    assert_non_null(strstr(f->t->requests[2].body, "\"resourceVersion\":\"11\""));
    /* With nothing left on the claim, the client's own limit applies. */
    assert_int_equal(f->t->requests[2].timeout_ms, 10000);
}

static void test_someone_elses_current_claim_is_returned_without_io(void **state)
{
    fixture *f = *state;
    push_lease(f->t, 200, 20, "other", now_wall(f), 30, 5);
    assert_int_equal(klease_sync(f->m, NULL, NULL, NULL), KLEASE_OK);
    klease__fake_clock_advance(f->fc, 10 * S);
    klease_claim claim;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_string_equal(claim.holder, "other");
    assert_false(klease_claim_is_current_for(&claim, "me"));
    assert_int_equal(f->t->nrequests, 2);
}

static void test_someone_elses_expired_claim_is_acquired(void **state)
{
    fixture *f = *state;
    push_lease(f->t, 200, 20, "other", now_wall(f) - 60 * S, 30, 5);
    assert_int_equal(klease_sync(f->m, NULL, NULL, NULL), KLEASE_OK);
    push_lease(f->t, 200, 21, "me", now_wall(f), 30, 6);
    klease_claim claim;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_string_equal(claim.holder, "me");
    assert_non_null(strstr(f->t->requests[2].body, "\"leaseTransitions\":6"));
}

static void test_conflict_on_acquire_rereads_and_respects_the_new_holder(void **state)
{
    fixture *f = *state;
    scripted_push(f->t, (scripted_reply){.http_status = 409, .body = CONFLICT_STATUS});
    push_lease(f->t, 200, 12, "other", now_wall(f), 30, 4);
    klease_claim claim;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_string_equal(claim.holder, "other");
    assert_string_equal(f->t->requests[2].method, "GET");
    assert_int_equal(f->t->nrequests, 3);
    klease_manager_stats st;
    klease_manager_get_stats(f->m, &st);
    assert_int_equal(st.conflicts, 1);
    assert_int_equal(st.acquisitions, 0);
}

static void test_conflict_on_renew_rereads_and_renews_the_fresh_version(void **state)
{
    fixture *f = *state;
    acquire_as_me(f);
    klease__fake_clock_advance(f->fc, 29500 * MS);
    scripted_push(f->t, (scripted_reply){.http_status = 409, .body = CONFLICT_STATUS});
    /* Someone touched the lease (say, an annotation) but we still hold it. */
    push_lease(f->t, 200, 13, "me", now_wall(f) - 29500 * MS, 30, 4);
    push_lease(f->t, 200, 14, "me", now_wall(f), 30, 4);
    klease_claim claim;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_string_equal(f->t->requests[3].method, "GET");
    assert_non_null(strstr(f->t->requests[4].body, "\"resourceVersion\":\"13\""));
    assert_string_equal(claim.resource_version, "14");
}

static void test_endless_conflicts_give_up_with_a_clear_error(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 9; i++) {
        scripted_push(f->t, (scripted_reply){.http_status = 409, .body = CONFLICT_STATUS});
        push_lease(f->t, 200, 30 + i, NULL, 0, 0, 3);
    }
    klease_claim claim;
    klease_error err;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, &err), KLEASE_ECONFLICT);
    assert_non_null(strstr(err.message, "gave up after 9 conflicting writes"));
    assert_int_equal(f->t->nrequests, 1 + 9 + 8);
}

static void test_timeout_keeps_the_cached_claim_until_its_deadline(void **state)
{
    fixture *f = *state;
    klease_claim held = acquire_as_me(f);
    klease__fake_clock_advance(f->fc, 29 * S);
    scripted_push(f->t, (scripted_reply){.status = KLEASE_ETIMEDOUT});
    klease_claim claim;
    klease_error err;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, &err), KLEASE_ETIMEDOUT);
    bool has;
    klease_claimed(f->m, &claim, &has);
    assert_true(has);
    assert_int_equal(claim.deadline_mono_ns, held.deadline_mono_ns);
    klease__fake_clock_advance(f->fc, 1 * S);
    klease_claimed(f->m, &claim, &has);
    assert_false(has);
}

static void test_api_errors_pass_through(void **state)
{
    fixture *f = *state;
    const struct {
        int http;
        klease_status want;
    } cases[] = {{401, KLEASE_EAUTH},
                 {403, KLEASE_EAUTH},
                 {500, KLEASE_EHTTP},
                 {429, KLEASE_EHTTP},
                 {404, KLEASE_ENOTFOUND}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        scripted_push(f->t, (scripted_reply){.http_status = cases[i].http, .body = "{}"});
        klease_claim claim;
        klease_error err;
        assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, &err),
                         cases[i].want);
        assert_int_equal(err.http_code, cases[i].http);
        if (cases[i].http == 404) /* a 404 forgets the lease; read it back for the next case */
            push_lease(f->t, 200, 10, NULL, 0, 0, 3);
    }
}

static void test_malformed_responses_are_protocol_errors(void **state)
{
    fixture *f = *state;
    const char *bodies[] = {
        "not json", "{\"metadata\":{}}", "[]",
        "{\"metadata\":{\"resourceVersion\":\"11\"},\"spec\":{\"holderIdentity\":\"other\"}}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        scripted_push(f->t, (scripted_reply){.http_status = 200, .body = bodies[i]});
        klease_claim claim;
        klease_error err;
        assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, &err),
                         KLEASE_EPROTO);
        /* The write's result is unknown: the next call reads the lease first. */
        push_lease(f->t, 200, 10, NULL, 0, 0, 3);
    }
}

static void test_transitions_count_holder_changes_only_and_saturate(void **state)
{
    fixture *f = *state;
    /* Our own expired claim: taking it back is a renewal, not a new holder. */
    push_lease(f->t, 200, 40, "me", now_wall(f) - 120 * S, 30, 7);
    assert_int_equal(klease_sync(f->m, NULL, NULL, NULL), KLEASE_OK);
    push_lease(f->t, 200, 41, "me", now_wall(f), 30, 7);
    klease_claim claim;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_string_equal(f->t->requests[2].content_type, "application/strategic-merge-patch+json");
    assert_null(strstr(f->t->requests[2].body, "leaseTransitions"));
    assert_int_equal(claim.transitions, 7);

    /* A vacated lease has no holder: taking it is a change (as client-go counts). */
    push_lease(f->t, 200, 42, NULL, 0, 0, 7);
    assert_int_equal(klease_sync(f->m, NULL, NULL, NULL), KLEASE_OK);
    push_lease(f->t, 200, 43, "me", now_wall(f), 30, 8);
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_non_null(strstr(f->t->requests[4].body, "\"leaseTransitions\":8"));

    /* At the int32 limit the count stays put instead of wrapping. */
    push_lease(f->t, 200, 50, "other", now_wall(f) - 120 * S, 30, INT32_MAX);
    assert_int_equal(klease_sync(f->m, NULL, NULL, NULL), KLEASE_OK);
    push_lease(f->t, 200, 51, "me", now_wall(f), 30, INT32_MAX);
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_non_null(strstr(f->t->requests[6].body, "\"leaseTransitions\":2147483647"));
}

static void test_foreign_claim_expires_by_wall_clock_only_after_the_skew_tolerance(void **state)
{
    fixture *f = *state;
    /* Written 29.5 s ago by the other's clock: the wall rule says 0.5 s + 1 s
     * tolerance left; the monotonic rule (first seen now) says 30 s. */
    push_lease(f->t, 200, 20, "other", now_wall(f) - 29500 * MS, 30, 5);
    assert_int_equal(klease_sync(f->m, NULL, NULL, NULL), KLEASE_OK);
    klease_claim claim;
    bool has;
    klease_claimed(f->m, &claim, &has);
    assert_true(has);
    assert_int_equal(claim.deadline_mono_ns, now_mono(f) + 1500 * MS);
    klease__fake_clock_advance(f->fc, 1499 * MS);
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_string_equal(claim.holder, "other");
    klease__fake_clock_advance(f->fc, 1 * MS);
    push_lease(f->t, 200, 21, "me", now_wall(f), 30, 6);
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_string_equal(claim.holder, "me");
}

static void test_foreign_claim_from_a_clock_far_ahead_expires_by_observation(void **state)
{
    fixture *f = *state;
    /* The writer's clock is an hour ahead: by wall time its claim lasts an
     * hour more, but unchanged for 30 s on our monotonic clock means dead. */
    push_lease(f->t, 200, 20, "other", now_wall(f) + 3600 * S, 30, 5);
    assert_int_equal(klease_sync(f->m, NULL, NULL, NULL), KLEASE_OK);
    klease__fake_clock_advance(f->fc, 30 * S - 1);
    klease_claim claim;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_string_equal(claim.holder, "other");
    klease__fake_clock_advance(f->fc, 1);
    push_lease(f->t, 200, 21, "me", now_wall(f), 30, 6);
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_string_equal(claim.holder, "me");
    assert_non_null(strstr(f->t->requests[2].body, "\"resourceVersion\":\"20\""));
}

static void test_an_unheld_lease_still_reports_its_version_and_transitions(void **state)
{
    fixture *f = *state;
    klease_claim claim;
    bool has = true;
    memset(&claim, 0x5a, sizeof claim);
    assert_int_equal(klease_claimed(f->m, &claim, &has), KLEASE_OK);
    assert_false(has);
    assert_string_equal(claim.holder, "");
    assert_string_equal(claim.resource_version, "10");
    assert_int_equal(claim.transitions, 3);
    assert_int_equal(claim.deadline_mono_ns, 0);
    assert_false(klease_claim_is_current(&claim));
}

/* Regression (found by the chaos run): a process restarted under the same
 * identity adopted its previous incarnation's claim with the skew tolerance
 * added, as the manager was made before it knew the claimant, so it led
 * a whole tolerance past the real deadline while a follower took over. */
static void test_a_restart_under_the_same_identity_adopts_the_claim_without_tolerance(void **state)
{
    (void)state;
    fixture *f = new_fixture();
    *state = f;
    /* Written 10 s ago by our previous incarnation: 20 s are left, not 21. */
    push_lease(f->t, 200, 20, "me", now_wall(f) - 10 * S, 30, 5);
    assert_int_equal(klease_manager_init(&f->m, f->client, NULL, "lease-a", NULL, NULL), KLEASE_OK);
    klease_claim claim;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_string_equal(claim.holder, "me");
    assert_int_equal(claim.deadline_mono_ns, now_mono(f) + 20 * S);
    assert_int_equal(f->t->nrequests, 1); /* still outside the grace: no renewal needed */
}

static void test_zero_duration_or_missing_renew_time_is_no_claim(void **state)
{
    fixture *f = *state;
    push_lease(f->t, 200, 20, "other", now_wall(f), 0, 5);
    bool has = true;
    assert_int_equal(klease_sync(f->m, NULL, &has, NULL), KLEASE_OK);
    assert_false(has);
}

static void test_invalid_parameters_are_rejected_before_any_request(void **state)
{
    fixture *f = *state;
    klease_claim claim;
    klease_error err;
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    p.lease_duration_ms = 999;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &p, &claim, &err), KLEASE_EINVAL);
    p = (klease_claim_params)KLEASE_CLAIM_PARAMS_INIT;
    p.renew_grace_ms = 30000;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &p, &claim, &err), KLEASE_EINVAL);
    p.lease_duration_ms = 1500; /* 1 s on the wire: a grace of 1 s is not less */
    p.renew_grace_ms = 1000;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &p, &claim, &err), KLEASE_EINVAL);
    p.renew_grace_ms = -1;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &p, &claim, &err), KLEASE_EINVAL);
    /* The int64 extremes are refused too, without overflowing on the way. */
    const int64_t extremes[] = {INT64_MAX, INT64_MIN, (int64_t)INT32_MAX * 1000 + 1000};
    for (size_t i = 0; i < sizeof extremes / sizeof extremes[0]; i++) {
        p = (klease_claim_params)KLEASE_CLAIM_PARAMS_INIT;
        p.lease_duration_ms = extremes[i];
        assert_int_equal(klease_ensure_claimed(f->m, "me", &p, &claim, &err), KLEASE_EINVAL);
        p = (klease_claim_params)KLEASE_CLAIM_PARAMS_INIT;
        p.renew_grace_ms = extremes[i];
        assert_int_equal(klease_ensure_claimed(f->m, "me", &p, &claim, &err), KLEASE_EINVAL);
    }
    p = (klease_claim_params)KLEASE_CLAIM_PARAMS_INIT;
    p.version = 99;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &p, &claim, &err), KLEASE_EINVAL);
    char long_id[300];
    memset(long_id, 'x', 254);
    long_id[254] = '\0';
    assert_int_equal(klease_ensure_claimed(f->m, "", &f->params, &claim, &err), KLEASE_EINVAL);
    assert_int_equal(klease_ensure_claimed(f->m, long_id, &f->params, &claim, &err), KLEASE_EINVAL);
    assert_int_equal(klease_ensure_claimed(f->m, NULL, &f->params, &claim, &err), KLEASE_EINVAL);
    assert_int_equal(f->t->nrequests, 1);
}

static void test_fractional_durations_are_whole_seconds_on_the_wire_and_locally(void **state)
{
    fixture *f = *state;
    klease_claim_params p = {KLEASE_CLAIM_PARAMS_VERSION, 15900, 500};
    int64_t sent = now_mono(f);
    push_lease(f->t, 200, 11, "me", now_wall(f), 15, 4);
    klease_claim claim;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &p, &claim, NULL), KLEASE_OK);
    assert_non_null(strstr(f->t->requests[1].body, "\"leaseDurationSeconds\":15,"));
    assert_int_equal(claim.deadline_mono_ns, sent + 15 * S);
}

static void test_vacate_clears_a_fresh_copy_and_keeps_the_new_version(void **state)
{
    fixture *f = *state;
    acquire_as_me(f);
    push_lease(f->t, 200, 11, "me", now_wall(f), 30, 4);
    push_lease(f->t, 200, 12, NULL, 0, 0, 4);
    bool vacated = false;
    assert_int_equal(klease_vacate(f->m, "me", &vacated, NULL), KLEASE_OK);
    assert_true(vacated);
    assert_string_equal(f->t->requests[2].method, "GET");
    char *want = klease__lease_vacate_body("11");
    assert_string_equal(f->t->requests[3].body, want);
    cJSON_free(want);
    bool has;
    klease_claimed(f->m, NULL, &has);
    assert_false(has);
    /* The next acquire uses the version the vacate produced. */
    push_lease(f->t, 200, 13, "me", now_wall(f), 30, 5);
    klease_claim claim;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_non_null(strstr(f->t->requests[4].body, "\"resourceVersion\":\"12\""));
}

static void test_vacate_of_someone_elses_lease_writes_nothing(void **state)
{
    fixture *f = *state;
    acquire_as_me(f);
    /* Our claim lapsed and someone else took the lease meanwhile. */
    push_lease(f->t, 200, 15, "other", now_wall(f), 30, 5);
    bool vacated = true;
    assert_int_equal(klease_vacate(f->m, "me", &vacated, NULL), KLEASE_OK);
    assert_false(vacated);
    assert_int_equal(f->t->nrequests, 3);
    klease_claim claim;
    bool has;
    klease_claimed(f->m, &claim, &has);
    assert_true(has);
    assert_string_equal(claim.holder, "other");
}

static void test_vacate_conflict_rereads_and_retries(void **state)
{
    fixture *f = *state;
    acquire_as_me(f);
    push_lease(f->t, 200, 11, "me", now_wall(f), 30, 4);
    scripted_push(f->t, (scripted_reply){.http_status = 409, .body = CONFLICT_STATUS});
    push_lease(f->t, 200, 12, "me", now_wall(f), 30, 4);
    push_lease(f->t, 200, 13, NULL, 0, 0, 4);
    bool vacated = false;
    assert_int_equal(klease_vacate(f->m, "me", &vacated, NULL), KLEASE_OK);
    assert_true(vacated);
    assert_non_null(strstr(f->t->requests[5].body, "\"resourceVersion\":\"12\""));
}

static void test_failed_vacate_stops_trusting_the_cached_claim(void **state)
{
    fixture *f = *state;
    acquire_as_me(f);
    push_lease(f->t, 200, 11, "me", now_wall(f), 30, 4);
    scripted_push(f->t, (scripted_reply){.status = KLEASE_ETIMEDOUT});
    bool vacated = true;
    klease_error err;
    assert_int_equal(klease_vacate(f->m, "me", &vacated, &err), KLEASE_ETIMEDOUT);
    assert_false(vacated);
    bool has;
    klease_claimed(f->m, NULL, &has);
    assert_false(has);
    /* ensure_claimed must now ask the server instead of trusting the cache. */
    push_lease(f->t, 200, 12, NULL, 0, 0, 4);
    scripted_push(f->t, (scripted_reply){.http_status = 409, .body = CONFLICT_STATUS});
    push_lease(f->t, 200, 12, NULL, 0, 0, 4);
    push_lease(f->t, 200, 13, "me", now_wall(f), 30, 5);
    klease_claim claim;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_string_equal(f->t->requests[4].method, "GET");
    assert_string_equal(f->t->requests[5].method, "PATCH");
    assert_string_equal(claim.holder, "me");
}

static void test_vacate_of_an_expired_claim_writes_nothing(void **state)
{
    fixture *f = *state;
    acquire_as_me(f);
    klease__fake_clock_advance(f->fc, 30 * S);
    push_lease(f->t, 200, 11, "me", now_wall(f) - 30 * S, 30, 4);
    bool vacated = true;
    assert_int_equal(klease_vacate(f->m, "me", &vacated, NULL), KLEASE_OK);
    assert_false(vacated);
    assert_int_equal(f->t->nrequests, 3); /* the fresh read only */
}

static void test_vacate_without_a_claim_still_checks_the_server(void **state)
{
    fixture *f = *state;
    push_lease(f->t, 200, 10, NULL, 0, 0, 3);
    bool vacated = true;
    assert_int_equal(klease_vacate(f->m, "me", &vacated, NULL), KLEASE_OK);
    assert_false(vacated);
    assert_int_equal(f->t->nrequests, 2);
}

static void test_init_of_a_missing_lease_is_not_found(void **state)
{
    (void)state;
    fixture *f = new_fixture();
    scripted_push_fixture(f->t, 404, "08-get-missing.json");
    klease_error err;
    assert_int_equal(klease_manager_init(&f->m, f->client, NULL, "lease-missing", NULL, &err),
                     KLEASE_ENOTFOUND);
    assert_null(f->m);
    *state = f;
}

static void test_init_creates_a_missing_lease_when_asked(void **state)
{
    (void)state;
    fixture *f = new_fixture();
    *state = f;
    scripted_push_fixture(f->t, 404, "08-get-missing.json");
    push_lease(f->t, 201, 5, NULL, 0, 0, 0);
    klease_manager_options o = KLEASE_MANAGER_OPTIONS_INIT;
    o.create_if_missing = true;
    assert_int_equal(klease_manager_init(&f->m, f->client, NULL, "lease-a", &o, NULL), KLEASE_OK);
    assert_string_equal(f->t->requests[1].method, "POST");
    assert_string_equal(f->t->requests[1].body,
                        "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
                        "\"metadata\":{\"name\":\"lease-a\"},\"spec\":{}}");
}

static void test_init_loses_a_create_race_gracefully(void **state)
{
    (void)state;
    fixture *f = new_fixture();
    *state = f;
    scripted_push_fixture(f->t, 404, "08-get-missing.json");
    scripted_push_fixture(f->t, 409, "12-post-duplicate.json");
    push_lease(f->t, 200, 7, "winner", now_wall(f), 30, 1);
    klease_manager_options o = KLEASE_MANAGER_OPTIONS_INIT;
    o.create_if_missing = true;
    assert_int_equal(klease_manager_init(&f->m, f->client, NULL, "lease-a", &o, NULL), KLEASE_OK);
    klease_claim claim;
    bool has;
    klease_claimed(f->m, &claim, &has);
    assert_true(has);
    assert_string_equal(claim.holder, "winner");
}

static void test_init_rejects_bad_names_and_options(void **state)
{
    (void)state;
    fixture *f = new_fixture();
    *state = f;
    klease_error err;
    assert_int_equal(klease_manager_init(&f->m, f->client, NULL, "Bad_Name", NULL, &err),
                     KLEASE_EINVAL);
    klease_manager_options o = KLEASE_MANAGER_OPTIONS_INIT;
    o.field_manager = "";
    assert_int_equal(klease_manager_init(&f->m, f->client, NULL, "a", &o, &err), KLEASE_EINVAL);
    o = (klease_manager_options)KLEASE_MANAGER_OPTIONS_INIT;
    o.clock_skew_tolerance_ms = -1;
    assert_int_equal(klease_manager_init(&f->m, f->client, NULL, "a", &o, &err), KLEASE_EINVAL);
    assert_int_equal(f->t->nrequests, 0);
}

/* Runs `op` with the Nth allocation failing, for N = 0, 1, ... until it
 * succeeds (the loop is alloc_fail.h's, shared with test_alloc_failures.c). */
typedef klease_status (*op_fn)(fixture *f);

typedef struct op_case {
    op_fn prepare, op;
} op_case;

static klease_status run_op(void *ctx, long n)
{
    op_case *c = ctx;
    fixture *f = new_fixture();
    push_lease(f->t, 200, 10, NULL, 0, 0, 3);
    assert_int_equal(klease_manager_init(&f->m, f->client, NULL, "lease-a", NULL, NULL), KLEASE_OK);
    if (c->prepare != NULL)
        assert_int_equal(c->prepare(f), KLEASE_OK);
    klease__alloc_fail_after(n);
    klease_status st = c->op(f);
    klease__alloc_fail_after(-1);
    void *s = f;
    teardown(&s);
    return st;
}

static void fail_every_allocation(const char *what, op_fn prepare, op_fn op)
{
    op_case c = {prepare, op};
    alloc_fail_each(what, run_op, &c, KLEASE_OK);
}

static klease_status op_acquire(fixture *f)
{
    push_lease(f->t, 200, 11, "me", now_wall(f), 30, 4);
    klease_claim claim;
    return klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL);
}

static klease_status op_renew(fixture *f)
{
    klease__fake_clock_advance(f->fc, 29 * S);
    push_lease(f->t, 200, 12, "me", now_wall(f), 30, 4);
    klease_claim claim;
    return klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL);
}

static klease_status op_vacate(fixture *f)
{
    push_lease(f->t, 200, 11, "me", now_wall(f), 30, 4);
    push_lease(f->t, 200, 12, NULL, 0, 0, 4);
    bool vacated;
    return klease_vacate(f->m, "me", &vacated, NULL);
}

static void test_a_deleted_lease_is_not_found_whether_or_not_err_is_passed(void **state)
{
    fixture *f = *state;
    static const char *const bad_request =
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
        "\"message\":\"name must be provided\",\"reason\":\"BadRequest\",\"code\":400}";
    static const char *const not_found =
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
        "\"message\":\"leases \\\"lease-a\\\" not found\",\"reason\":\"NotFound\",\"code\":404}";
    klease_claim claim;
    for (int with_err = 0; with_err < 2; with_err++) {
        /* The apply to a deleted lease answers 400; the manager reads it to tell. */
        scripted_push(f->t, (scripted_reply){.http_status = 400, .body = bad_request});
        scripted_push(f->t, (scripted_reply){.http_status = 404, .body = not_found});
        klease_error err;
        klease_status st =
            klease_ensure_claimed(f->m, "me", &f->params, &claim, with_err ? &err : NULL);
        assert_int_equal(st, KLEASE_ENOTFOUND);
        /* The lease comes back: the next call reads it and acquires. */
        push_lease(f->t, 200, 30 + with_err * 10, NULL, 0, 0, 3);
    }
}

/* A Lease body whose holderIdentity is the raw JSON string text `holder_json`. */
static void push_raw_holder(fixture *f, int rv, const char *holder_json, int64_t renew_wall)
{
    char t[KLEASE__MICROTIME_LEN + 1];
    klease__microtime_format(renew_wall, t);
    char body[2048];
    snprintf(body, sizeof body,
             "{\"kind\":\"Lease\",\"apiVersion\":\"coordination.k8s.io/v1\",\"metadata\":{"
             "\"name\":\"lease-a\",\"namespace\":\"ns\",\"resourceVersion\":\"%d\"},\"spec\":{"
             "\"holderIdentity\":\"%s\",\"leaseDurationSeconds\":30,\"acquireTime\":\"%s\","
             "\"renewTime\":\"%s\",\"leaseTransitions\":4}}",
             rv, holder_json, t, t);
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = body});
}

static void test_holders_with_an_embedded_nul_are_someone_elses_current_claim(void **state)
{
    fixture *f = *state;
    const char *holders[] = {"me\\u0000other", "\\u0000other", "me\\u0000"};
    for (size_t i = 0; i < sizeof holders / sizeof holders[0]; i++) {
        push_raw_holder(f, 20 + (int)i, holders[i], now_wall(f));
        bool has = false;
        klease_claim claim;
        assert_int_equal(klease_sync(f->m, &claim, &has, NULL), KLEASE_OK);
        assert_true(has);
        assert_true(claim.holder_truncated);
        size_t before = f->t->nrequests;
        /* Not ours, and current: returned as it is, without a write. */
        assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
        assert_false(klease_claim_is_current_for(&claim, "me"));
        assert_int_equal(f->t->nrequests, before);
        /* Vacate reads a fresh copy and leaves someone else's claim alone. */
        push_raw_holder(f, 20 + (int)i, holders[i], now_wall(f));
        bool vacated = true;
        assert_int_equal(klease_vacate(f->m, "me", &vacated, NULL), KLEASE_OK);
        assert_false(vacated);
        assert_int_equal(f->t->nrequests, before + 1);
    }
}

static void test_an_over_long_holder_that_starts_with_our_identity_is_not_ours(void **state)
{
    fixture *f = *state;
    char me[KLEASE_IDENTITY_MAX + 1];
    char longer[KLEASE_IDENTITY_MAX + 2];
    memset(me, 'm', KLEASE_IDENTITY_MAX);
    me[KLEASE_IDENTITY_MAX] = '\0';
    memcpy(longer, me, KLEASE_IDENTITY_MAX);
    longer[KLEASE_IDENTITY_MAX] = 'x';
    longer[KLEASE_IDENTITY_MAX + 1] = '\0';
    push_raw_holder(f, 20, longer, now_wall(f));
    assert_int_equal(klease_sync(f->m, NULL, NULL, NULL), KLEASE_OK);
    klease_claim claim;
    assert_int_equal(klease_ensure_claimed(f->m, me, &f->params, &claim, NULL), KLEASE_OK);
    assert_true(claim.holder_truncated);
    assert_string_equal(claim.holder, me); /* cut short, but never taken for ours */
    assert_false(klease_claim_is_current_for(&claim, me));
    assert_int_equal(f->t->nrequests, 2);
    push_raw_holder(f, 20, longer, now_wall(f));
    bool vacated = true;
    assert_int_equal(klease_vacate(f->m, me, &vacated, NULL), KLEASE_OK);
    assert_false(vacated);
    assert_int_equal(f->t->nrequests, 3);
}

static void test_identities_with_control_characters_are_refused(void **state)
{
    fixture *f = *state;
    klease_claim claim;
    klease_error err;
    const char *bad[] = {"me\nother", "me\tx", "\x7f", "me\xEF\xBF\xBFx"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(klease_ensure_claimed(f->m, bad[i], &f->params, &claim, &err),
                         KLEASE_EINVAL);
        assert_non_null(strstr(err.message, "claimant identity"));
        bool vacated;
        assert_int_equal(klease_vacate(f->m, bad[i], &vacated, &err), KLEASE_EINVAL);
    }
    assert_int_equal(f->t->nrequests, 1);
}

static void test_every_options_version_up_to_the_current_one_is_accepted(void **state)
{
    fixture *f = *state;
    klease_claim claim;
    klease_error err;
    for (int v = 1; v <= KLEASE_CLAIM_PARAMS_VERSION; v++) {
        klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
        p.version = v;
        push_lease(f->t, 200, 11, "me", now_wall(f), 30, 4);
        assert_int_equal(klease_ensure_claimed(f->m, "me", &p, &claim, &err), KLEASE_OK);
    }
    int bad[] = {0, -1, KLEASE_CLAIM_PARAMS_VERSION + 1};
    for (size_t i = 0; i < 3; i++) {
        klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
        p.version = bad[i];
        assert_int_equal(klease_ensure_claimed(f->m, "me", &p, &claim, &err), KLEASE_EINVAL);
        assert_non_null(strstr(err.message, "version"));
        klease_manager_options o = KLEASE_MANAGER_OPTIONS_INIT;
        o.version = bad[i];
        klease_manager *m = NULL;
        assert_int_equal(klease_manager_init(&m, f->client, NULL, "lease-a", &o, &err),
                         KLEASE_EINVAL);
        assert_non_null(strstr(err.message, "version"));
        assert_null(m);
    }
    int bad_client[] = {0, -1, KLEASE_CLIENT_OPTIONS_VERSION + 1};
    for (size_t i = 0; i < 3; i++) {
        klease_client_options co = KLEASE_CLIENT_OPTIONS_INIT;
        co.version = bad_client[i];
        klease_client *c = NULL;
        assert_int_equal(klease_client_new(&c, &co, &err), KLEASE_EINVAL);
        assert_non_null(strstr(err.message, "klease_client_options: unknown version"));
        assert_null(c);
    }
    for (int v = 1; v <= KLEASE_CLIENT_OPTIONS_VERSION; v++) {
        /* Accepted: what fails next is the missing file, not the version. */
        klease_client_options co = KLEASE_CLIENT_OPTIONS_INIT;
        co.version = v;
        co.kubeconfig = "/nonexistent/klease-test-kubeconfig";
        klease_client *c = NULL;
        assert_int_equal(klease_client_new(&c, &co, &err), KLEASE_ECONFIG);
    }
    /* A version 1 struct ends before the connection overrides (version 2):
     * whatever lies there is not read. With version 2 the server is. */
    klease_client_options v1 = KLEASE_CLIENT_OPTIONS_INIT;
    v1.version = 1;
    v1.kubeconfig = KLEASE_FIXTURE_DIR "/kubeconfig/full.yaml";
    v1.server = "ftp://not-read.example.com";
    klease_client *c1 = NULL;
    assert_int_equal(klease_client_new(&c1, &v1, &err), KLEASE_OK);
    assert_string_equal(klease_client_server(c1), "https://full.example.com:6443");
    klease_client_free(c1);
    v1.version = 2;
    assert_int_equal(klease_client_new(&c1, &v1, &err), KLEASE_ECONFIG);
    assert_non_null(strstr(err.message, "expected an http:// or https:// URL"));
    for (int v = 1; v <= KLEASE_MANAGER_OPTIONS_VERSION; v++) {
        klease_manager_options o = KLEASE_MANAGER_OPTIONS_INIT;
        o.version = v;
        push_lease(f->t, 200, 12, NULL, 0, 0, 4);
        klease_manager *m = NULL;
        assert_int_equal(klease_manager_init(&m, f->client, NULL, "lease-a", &o, &err), KLEASE_OK);
        klease_manager_free(m);
    }
}

static void test_time_left_and_the_margin_check_read_the_claims_deadline(void **state)
{
    (void)state;
    /* These helpers use the system clock: the claim is built on it, and the
     * bounds leave a whole second for a slow, shared machine. */
    klease_claim claim;
    memset(&claim, 0, sizeof claim);
    snprintf(claim.holder, sizeof claim.holder, "me");
    claim.deadline_mono_ns = klease__mono_ns(klease__clock_system()) + 10 * S;
    int64_t left = klease_claim_time_left_ms(&claim);
    assert_true(left <= 10000 && left > 9000);
    assert_true(klease_claim_is_current_for_margin(&claim, "me", 0));
    assert_true(klease_claim_is_current_for_margin(&claim, "me", 8000));
    assert_false(klease_claim_is_current_for_margin(&claim, "me", 10001));
    assert_false(klease_claim_is_current_for_margin(&claim, "me", INT64_MAX));
    assert_true(klease_claim_is_current_for_margin(&claim, "me", -5)); /* as 0 */
    assert_false(klease_claim_is_current_for_margin(&claim, "other", 0));
    assert_false(klease_claim_is_current_for_margin(&claim, NULL, 0));
    claim.holder_truncated = true; /* not representable: never ours */
    assert_false(klease_claim_is_current_for_margin(&claim, "me", 0));
    claim.holder_truncated = false;
    claim.deadline_mono_ns = klease__mono_ns(klease__clock_system()) - 1;
    assert_int_equal(klease_claim_time_left_ms(&claim), 0);
    assert_false(klease_claim_is_current_for_margin(&claim, "me", 0));
    claim.holder[0] = '\0';
    claim.deadline_mono_ns = klease__mono_ns(klease__clock_system()) + 10 * S;
    assert_int_equal(klease_claim_time_left_ms(&claim), 0); /* no holder, no claim */
    assert_int_equal(klease_claim_time_left_ms(NULL), 0);
    assert_false(klease_claim_is_current_for_margin(NULL, "me", 0));
}

static void test_every_allocation_failure_in_acquire_renew_vacate_is_enomem(void **state)
{
    (void)state;
    fail_every_allocation("acquire", NULL, op_acquire);
    fail_every_allocation("renew", op_acquire, op_renew);
    fail_every_allocation("vacate", op_acquire, op_vacate);
}

/* A lease someone else renewed 3 s ago, with a duration no int32 holds: in
 * ns it wraps int64, and the lease used to read as long expired and be taken
 * over. It is refused instead, and nothing is written. */
static void test_a_duration_beyond_int32_is_refused_and_never_taken_over(void **state)
{
    fixture *f = *state;
    char t[KLEASE__MICROTIME_LEN + 1], body[1024];
    klease__microtime_format(now_wall(f) - 3 * S, t);
    snprintf(body, sizeof body,
             "{\"metadata\":{\"resourceVersion\":\"20\"},\"spec\":{\"holderIdentity\":\"other\","
             "\"leaseDurationSeconds\":10000000000,\"renewTime\":\"%s\"}}",
             t);
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = body});
    klease_claim claim;
    klease_error err;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, &err), KLEASE_EPROTO);
    assert_non_null(strstr(err.message, "outside int32"));
    assert_int_equal(f->t->nrequests, 2); /* the init GET and this GET; no write */
}

/* The largest legal duration is someone else's claim, far in the future. */
static void test_the_largest_int32_duration_is_someone_elses_claim(void **state)
{
    fixture *f = *state;
    push_lease(f->t, 200, 20, "other", now_wall(f) - 3 * S, INT32_MAX, 5);
    assert_int_equal(klease_sync(f->m, NULL, NULL, NULL), KLEASE_OK);
    klease_claim claim;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_string_equal(claim.holder, "other");
    assert_true(claim.deadline_mono_ns > now_mono(f) + (int64_t)INT32_MAX * S / 2);
    assert_int_equal(f->t->nrequests, 2);
}

/* clock_skew_tolerance_ms of INT64_MAX means "trust no expiry": it must
 * saturate, not wrap to a negative tolerance that expires every lease. */
static void test_an_int64_max_skew_tolerance_saturates_instead_of_wrapping(void **state)
{
    fixture *f = new_fixture();
    *state = f;
    push_lease(f->t, 200, 20, "other", now_wall(f) - 60 * S, 30, 5);
    klease_manager_options o = KLEASE_MANAGER_OPTIONS_INIT;
    o.clock_skew_tolerance_ms = INT64_MAX;
    assert_int_equal(klease_manager_init(&f->m, f->client, NULL, "lease-a", &o, NULL), KLEASE_OK);
    klease_claim claim;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, NULL), KLEASE_OK);
    assert_string_equal(claim.holder, "other"); /* the observation rule still bounds it */
    assert_int_equal(f->t->nrequests, 1);
}

/* With half a millisecond left on our claim a renewal cannot land in time;
 * it must fail at once, not go out with the client's whole 10 s limit. */
static void test_a_renewal_with_under_a_millisecond_left_times_out_without_a_request(void **state)
{
    fixture *f = *state;
    klease_claim mine = acquire_as_me(f);
    klease__fake_clock_advance(f->fc, mine.deadline_mono_ns - now_mono(f) - 500 * 1000);
    size_t before = f->t->nrequests;
    klease_claim claim;
    klease_error err;
    assert_int_equal(klease_ensure_claimed(f->m, "me", &f->params, &claim, &err), KLEASE_ETIMEDOUT);
    assert_non_null(strstr(err.message, "no time left"));
    assert_int_equal(f->t->nrequests, before);
}

static int teardown_optional(void **state)
{
    if (*state != NULL)
        teardown(state);
    return 0;
}

static int null_state(void **state)
{
    *state = NULL;
    return 0;
}

int main(void)
{
    /* Route cJSON's allocations through the hooks too, so the failure
     * switch reaches every allocation made on the library's behalf. */
    cJSON_Hooks hooks = {klease__malloc, klease__free};
    cJSON_InitHooks(&hooks);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define I(name) cmocka_unit_test_setup_teardown(name, null_state, teardown_optional)
    const struct CMUnitTest tests[] = {
        T(test_init_reads_the_lease),
        T(test_acquire_applies_the_seeds_body_and_claims_until_send_time_plus_duration),
        T(test_held_claim_is_served_from_cache_without_io_or_allocation),
        T(test_renews_exactly_when_the_grace_begins),
        T(test_renews_after_local_expiry_with_the_resource_version_precondition),
        T(test_someone_elses_current_claim_is_returned_without_io),
        T(test_someone_elses_expired_claim_is_acquired),
        T(test_a_duration_beyond_int32_is_refused_and_never_taken_over),
        T(test_the_largest_int32_duration_is_someone_elses_claim),
        I(test_an_int64_max_skew_tolerance_saturates_instead_of_wrapping),
        T(test_a_renewal_with_under_a_millisecond_left_times_out_without_a_request),
        T(test_conflict_on_acquire_rereads_and_respects_the_new_holder),
        T(test_conflict_on_renew_rereads_and_renews_the_fresh_version),
        T(test_endless_conflicts_give_up_with_a_clear_error),
        T(test_timeout_keeps_the_cached_claim_until_its_deadline),
        T(test_api_errors_pass_through),
        T(test_malformed_responses_are_protocol_errors),
        T(test_transitions_count_holder_changes_only_and_saturate),
        T(test_foreign_claim_expires_by_wall_clock_only_after_the_skew_tolerance),
        T(test_foreign_claim_from_a_clock_far_ahead_expires_by_observation),
        T(test_an_unheld_lease_still_reports_its_version_and_transitions),
        I(test_a_restart_under_the_same_identity_adopts_the_claim_without_tolerance),
        T(test_zero_duration_or_missing_renew_time_is_no_claim),
        T(test_invalid_parameters_are_rejected_before_any_request),
        T(test_fractional_durations_are_whole_seconds_on_the_wire_and_locally),
        T(test_vacate_clears_a_fresh_copy_and_keeps_the_new_version),
        T(test_vacate_of_someone_elses_lease_writes_nothing),
        T(test_vacate_conflict_rereads_and_retries),
        T(test_failed_vacate_stops_trusting_the_cached_claim),
        T(test_vacate_of_an_expired_claim_writes_nothing),
        T(test_vacate_without_a_claim_still_checks_the_server),
        I(test_init_of_a_missing_lease_is_not_found),
        I(test_init_creates_a_missing_lease_when_asked),
        I(test_init_loses_a_create_race_gracefully),
        I(test_init_rejects_bad_names_and_options),
        T(test_a_deleted_lease_is_not_found_whether_or_not_err_is_passed),
        T(test_holders_with_an_embedded_nul_are_someone_elses_current_claim),
        T(test_an_over_long_holder_that_starts_with_our_identity_is_not_ours),
        T(test_identities_with_control_characters_are_refused),
        T(test_every_options_version_up_to_the_current_one_is_accepted),
        cmocka_unit_test(test_time_left_and_the_margin_check_read_the_claims_deadline),
        cmocka_unit_test(test_every_allocation_failure_in_acquire_renew_vacate_is_enomem),
    };
    return cmocka_run_group_tests_name("manager", tests, NULL, NULL);
}
