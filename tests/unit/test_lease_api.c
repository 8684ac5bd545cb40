/* Lease REST calls over the scripted transport: request shapes and the
 * mapping of every real server error into klease_error. */
#include "cmocka_wrap.h"

#include "api/lease_api.h"
#include "scripted_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef scripted_fixture fixture;

/* Runs a GET of lease-a against one scripted reply and returns the status. */
static klease_status get_with(fixture *f, int http_status, const char *fixture_name,
                              klease_error *err)
{
    scripted_push_fixture(f->t, http_status, fixture_name);
    klease__http_response resp;
    klease_status st = klease__lease_get(f->client, "klease-test", "lease-a", NULL, &resp, err);
    klease__http_response_clear(&resp);
    return st;
}

static void test_get_sends_the_lease_path_and_returns_the_body(void **state)
{
    fixture *f = *state;
    scripted_push_fixture(f->t, 200, "01-get-lease.json");
    klease__http_response resp;
    klease_error err;
    assert_int_equal(klease__lease_get(f->client, "klease-test", "lease-a", NULL, &resp, &err),
                     KLEASE_OK);
    assert_int_equal(resp.status, 200);
    assert_non_null(strstr(resp.body, "\"holderIdentity\":\"initial-holder\""));
    klease__http_response_clear(&resp);
    scripted_request *r = &f->t->requests[0];
    assert_string_equal(r->method, "GET");
    assert_string_equal(r->path,
                        "/apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-a");
    assert_null(r->body);
    assert_int_equal(r->timeout_ms, 10000);
}

static void test_apply_sends_force_field_manager_and_apply_content_type(void **state)
{
    fixture *f = *state;
    scripted_push_fixture(f->t, 200, "02-apply-correct-rv.json");
    klease__http_response resp;
    assert_int_equal(klease__lease_patch(f->client, "klease-test", "lease-a", KLEASE__PATCH_APPLY,
                                         "{\"x\":1}", "klease", true, NULL, &resp, NULL),
                     KLEASE_OK);
    klease__http_response_clear(&resp);
    scripted_request *r = &f->t->requests[0];
    assert_string_equal(r->method, "PATCH");
    assert_string_equal(r->path, "/apis/coordination.k8s.io/v1/namespaces/klease-test/leases/"
                                 "lease-a?fieldManager=klease&force=true");
    assert_string_equal(r->content_type, "application/apply-patch+yaml");
    assert_string_equal(r->body, "{\"x\":1}");
}

static void test_strategic_merge_never_sends_force(void **state)
{
    fixture *f = *state;
    scripted_push_fixture(f->t, 200, "04-smp-correct-rv.json");
    scripted_push_fixture(f->t, 200, "04-smp-correct-rv.json");
    klease__http_response resp;
    assert_int_equal(klease__lease_patch(f->client, "klease-test", "lease-a",
                                         KLEASE__PATCH_STRATEGIC, "{}", "klease", true, NULL, &resp,
                                         NULL),
                     KLEASE_OK);
    klease__http_response_clear(&resp);
    assert_int_equal(klease__lease_patch(f->client, "klease-test", "lease-a", KLEASE__PATCH_MERGE,
                                         "{}", "klease", false, NULL, &resp, NULL),
                     KLEASE_OK);
    klease__http_response_clear(&resp);
    assert_string_equal(f->t->requests[0].path, "/apis/coordination.k8s.io/v1/namespaces/"
                                                "klease-test/leases/lease-a?fieldManager=klease");
    assert_string_equal(f->t->requests[0].content_type, "application/strategic-merge-patch+json");
    assert_string_equal(f->t->requests[1].content_type, "application/merge-patch+json");
}

static void test_create_posts_to_the_collection(void **state)
{
    fixture *f = *state;
    scripted_push_fixture(f->t, 201, "11-post-create.json");
    klease__http_response resp;
    assert_int_equal(klease__lease_create(f->client, "klease-test", "lease-post", "{}", "klease",
                                          NULL, &resp, NULL),
                     KLEASE_OK);
    assert_int_equal(resp.status, 201);
    klease__http_response_clear(&resp);
    assert_string_equal(f->t->requests[0].method, "POST");
    assert_string_equal(
        f->t->requests[0].path,
        "/apis/coordination.k8s.io/v1/namespaces/klease-test/leases?fieldManager=klease");
    assert_string_equal(f->t->requests[0].content_type, "application/json");
}

static void test_field_manager_is_escaped(void **state)
{
    fixture *f = *state;
    scripted_push_fixture(f->t, 200, "04-smp-correct-rv.json");
    klease__http_response resp;
    assert_int_equal(klease__lease_patch(f->client, "klease-test", "lease-a",
                                         KLEASE__PATCH_STRATEGIC, "{}", "my mgr/x&y", false, NULL,
                                         &resp, NULL),
                     KLEASE_OK);
    klease__http_response_clear(&resp);
    assert_non_null(strstr(f->t->requests[0].path, "fieldManager=my%20mgr%2Fx%26y"));
}

static void test_invalid_names_are_refused_before_any_request(void **state)
{
    fixture *f = *state;
    klease__http_response resp;
    klease_error err;
    char long_name[300];
    memset(long_name, 'a', 254);
    long_name[254] = '\0';
    const char *bad_names[] = {"",       "Lease-A", "lease/a", "lease a", "-lease",
                               "lease.", "a..b",    "%2e%2e",  long_name};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
        assert_int_equal(
            klease__lease_get(f->client, "klease-test", bad_names[i], NULL, &resp, &err),
            KLEASE_EINVAL);
    assert_int_equal(klease__lease_get(f->client, "Klease", "a", NULL, &resp, &err), KLEASE_EINVAL);
    assert_int_equal(klease__lease_get(f->client, "a.b", "a", NULL, &resp, &err), KLEASE_EINVAL);
    assert_int_equal(klease__lease_get(f->client, NULL, "a", NULL, &resp, &err), KLEASE_EINVAL);
    assert_non_null(strstr(err.message, "namespace"));
    assert_int_equal(f->t->nrequests, 0);
    assert_int_equal(klease__lease_validate_names("kube-system", "a.b-c.d", NULL), KLEASE_OK);
}

static void test_call_timeout_only_tightens_the_client_timeout(void **state)
{
    fixture *f = *state;
    klease__http_response resp;
    const int64_t asked[] = {500, 0, 20000};
    const int64_t want[] = {500, 10000, 10000};
    for (int i = 0; i < 3; i++) {
        scripted_push_fixture(f->t, 200, "01-get-lease.json");
        klease__call call = {.timeout_ms = asked[i]};
        assert_int_equal(klease__lease_get(f->client, "klease-test", "lease-a", &call, &resp, NULL),
                         KLEASE_OK);
        klease__http_response_clear(&resp);
        assert_int_equal(f->t->requests[i].timeout_ms, want[i]);
    }
}

static void test_not_found_maps_to_enotfound(void **state)
{
    klease_error err;
    assert_int_equal(get_with(*state, 404, "08-get-missing.json", &err), KLEASE_ENOTFOUND);
    assert_int_equal(err.http_code, 404);
    assert_string_equal(err.reason, "NotFound");
    assert_non_null(strstr(err.message, "\"lease-missing\" not found"));
}

static void test_stale_version_conflict_maps_to_econflict_reason_conflict(void **state)
{
    klease_error err;
    assert_int_equal(get_with(*state, 409, "03-apply-stale-rv.json", &err), KLEASE_ECONFLICT);
    assert_string_equal(err.reason, "Conflict");
    assert_int_equal(err.http_code, 409);
}

static void test_field_manager_conflict_is_told_apart(void **state)
{
    klease_error err;
    assert_int_equal(get_with(*state, 409, "03c-apply-other-manager-no-force.json", &err),
                     KLEASE_ECONFLICT);
    assert_string_equal(err.reason, "FieldManagerConflict");
}

static void test_already_exists_is_told_apart(void **state)
{
    klease_error err;
    assert_int_equal(get_with(*state, 409, "12-post-duplicate.json", &err), KLEASE_ECONFLICT);
    assert_string_equal(err.reason, "AlreadyExists");
}

static void test_unauthorized_and_forbidden_map_to_eauth(void **state)
{
    klease_error err;
    assert_int_equal(get_with(*state, 401, "31-token-bad.json", &err), KLEASE_EAUTH);
    assert_string_equal(err.reason, "Unauthorized");
    assert_int_equal(get_with(*state, 403, "32-token-forbidden.json", &err), KLEASE_EAUTH);
    assert_string_equal(err.reason, "Forbidden");
    assert_non_null(strstr(err.message, "klease-token-nobody"));
    assert_int_equal(get_with(*state, 403, "33-no-credentials.json", &err), KLEASE_EAUTH);
    assert_non_null(strstr(err.message, "system:anonymous"));
}

static void test_server_errors_map_to_ehttp_without_reason(void **state)
{
    klease_error err;
    assert_int_equal(get_with(*state, 500, "12b-post-with-rv.json", &err), KLEASE_EHTTP);
    assert_int_equal(err.http_code, 500);
    assert_string_equal(err.reason, "");
    assert_non_null(strstr(err.message, "resourceVersion should not be set"));
    assert_int_equal(get_with(*state, 422, "13-post-invalid-duration-zero.json", &err),
                     KLEASE_EHTTP);
    assert_string_equal(err.reason, "Invalid");
    assert_int_equal(get_with(*state, 400, "09-apply-missing-no-rv.json", &err), KLEASE_EHTTP);
    assert_string_equal(err.reason, "BadRequest");
    assert_int_equal(get_with(*state, 415, "18b-patch-unsupported-ctype.json", &err), KLEASE_EHTTP);
    assert_string_equal(err.reason, "UnsupportedMediaType");
    assert_int_equal(get_with(*state, 410, "25b-list-exact-compacted-rv.json", &err), KLEASE_EHTTP);
    assert_string_equal(err.reason, "Expired");
}

static void test_too_many_requests_keeps_retry_after(void **state)
{
    fixture *f = *state;
    scripted_push(f->t, (scripted_reply){
                            .http_status = 429,
                            .retry_after_ms = 3000,
                            .body = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                                    "\"status\":\"Failure\",\"message\":\"too many requests\","
                                    "\"reason\":\"TooManyRequests\",\"code\":429}",
                        });
    klease__http_response resp;
    klease_error err;
    assert_int_equal(klease__lease_get(f->client, "klease-test", "lease-a", NULL, &resp, &err),
                     KLEASE_EHTTP);
    assert_int_equal(err.http_code, 429);
    assert_int_equal(err.retry_after_ms, 3000);
    assert_string_equal(err.reason, "TooManyRequests");
    assert_null(resp.body);
}

static void test_a_non_status_error_body_is_quoted_in_the_message(void **state)
{
    fixture *f = *state;
    scripted_push(f->t, (scripted_reply){.http_status = 502, .body = "<html>Bad Gateway</html>"});
    klease__http_response resp;
    klease_error err;
    assert_int_equal(klease__lease_get(f->client, "klease-test", "lease-a", NULL, &resp, &err),
                     KLEASE_EHTTP);
    assert_int_equal(err.http_code, 502);
    assert_string_equal(err.reason, "");
    assert_non_null(strstr(err.message, "<html>Bad Gateway"));
}

static void test_transport_failures_pass_through(void **state)
{
    fixture *f = *state;
    klease__http_response resp;
    klease_error err;
    const klease_status kinds[] = {KLEASE_ETIMEDOUT, KLEASE_ETRANSPORT, KLEASE_EPROTO};
    for (int i = 0; i < 3; i++) {
        scripted_push(f->t, (scripted_reply){.status = kinds[i]});
        assert_int_equal(klease__lease_get(f->client, "klease-test", "lease-a", NULL, &resp, &err),
                         kinds[i]);
        assert_int_equal(err.status, kinds[i]);
    }
}

static void test_delete_maps_success_and_not_found(void **state)
{
    fixture *f = *state;
    klease__http_response resp;
    klease_error err;
    scripted_push_fixture(f->t, 200, "19c-delete-lease-post.json");
    assert_int_equal(
        klease__lease_delete(f->client, "klease-test", "lease-post", NULL, &resp, &err), KLEASE_OK);
    klease__http_response_clear(&resp);
    scripted_push_fixture(f->t, 404, "19d-delete-missing.json");
    assert_int_equal(
        klease__lease_delete(f->client, "klease-test", "lease-missing", NULL, &resp, &err),
        KLEASE_ENOTFOUND);
    assert_string_equal(f->t->requests[0].method, "DELETE");
}

static void test_list_reads_every_lease_of_the_namespace_from_a_real_lease_list(void **state)
{
    fixture *f = *state;
    scripted_push_fixture(f->t, 200, "35-list-leases.json");
    klease_lease_info *l = NULL;
    size_t n = 0;
    klease_error err;
    assert_int_equal(klease_lease_list(f->client, "klease-test", false, &l, &n, &err), KLEASE_OK);
    assert_string_equal(f->t->requests[0].method, "GET");
    assert_string_equal(f->t->requests[0].path,
                        "/apis/coordination.k8s.io/v1/namespaces/klease-test/leases");
    assert_int_equal(n, 3);
    assert_string_equal(l[0].ns, "klease-test");
    assert_string_equal(l[0].name, "lease-a");
    assert_int_equal(l[0].claim.transitions, 2);
    assert_string_equal(l[0].claim.resource_version, "208");
    assert_int_equal(l[0].created_wall_ns, 1795459130LL * 1000000000); /* 2026-11-23T18:38:50Z */
    /* Renewed in 2026 for 15 s: long expired, so not shown as held. */
    assert_false(l[0].held);
    assert_string_equal(l[0].claim.holder, "");
    assert_string_equal(l[2].name, "lease-apply-with-rv");
    klease_lease_list_free(l);
}

static void test_list_shows_a_current_claim_and_all_namespaces_use_the_cluster_path(void **state)
{
    fixture *f = *state;
    scripted_reply r = {.http_status = 200,
                        .body = "{\"kind\":\"LeaseList\",\"items\":[{\"metadata\":{\"name\":\"x\","
                                "\"namespace\":\"team\",\"resourceVersion\":\"7\"},\"spec\":{"
                                "\"holderIdentity\":\"pod-a\",\"leaseDurationSeconds\":15,"
                                "\"renewTime\":\"2200-01-01T00:00:00.000000Z\","
                                "\"leaseTransitions\":4}}]}"};
    scripted_push(f->t, r);
    klease_lease_info *l = NULL;
    size_t n = 0;
    klease_error err;
    assert_int_equal(klease_lease_list(f->client, NULL, true, &l, &n, &err), KLEASE_OK);
    assert_string_equal(f->t->requests[0].path, "/apis/coordination.k8s.io/v1/leases");
    assert_int_equal(n, 1);
    assert_true(l[0].held);
    assert_string_equal(l[0].claim.holder, "pod-a");
    assert_int_equal(l[0].claim.transitions, 4);
    assert_int_equal(l[0].created_wall_ns, 0); /* no creationTimestamp: age unknown */
    klease_lease_list_free(l);

    /* An empty list is still an array to free. */
    scripted_reply empty = {.http_status = 200, .body = "{\"kind\":\"LeaseList\",\"items\":[]}"};
    scripted_push(f->t, empty);
    assert_int_equal(klease_lease_list(f->client, NULL, false, &l, &n, &err), KLEASE_OK);
    assert_string_equal(f->t->requests[1].path,
                        "/apis/coordination.k8s.io/v1/namespaces/default/leases");
    assert_int_equal(n, 0);
    assert_non_null(l);
    klease_lease_list_free(l);
}

static void test_list_refuses_bad_input_and_bad_responses_with_a_status(void **state)
{
    fixture *f = *state;
    klease_lease_info *l = NULL;
    size_t n = 0;
    klease_error err;
    assert_int_equal(klease_lease_list(f->client, "Bad_NS", false, &l, &n, &err), KLEASE_EINVAL);
    assert_int_equal(f->t->nrequests, 0);
    assert_int_equal(klease_lease_list(f->client, NULL, false, NULL, &n, &err), KLEASE_EINVAL);
    scripted_reply items = {.http_status = 200, .body = "{\"items\":{}}"};
    scripted_push(f->t, items);
    assert_int_equal(klease_lease_list(f->client, NULL, false, &l, &n, &err), KLEASE_EPROTO);
    assert_null(l);
    scripted_reply nameless = {.http_status = 200,
                               .body = "{\"items\":[{\"metadata\":{\"resourceVersion\":\"1\"},"
                                       "\"spec\":{}}]}"};
    scripted_push(f->t, nameless);
    assert_int_equal(klease_lease_list(f->client, NULL, false, &l, &n, &err), KLEASE_EPROTO);
    scripted_reply text = {.http_status = 200, .body = "not json"};
    scripted_push(f->t, text);
    assert_int_equal(klease_lease_list(f->client, NULL, false, &l, &n, &err), KLEASE_EPROTO);
    scripted_push_fixture(f->t, 403, "19d-delete-missing.json");
    assert_int_equal(klease_lease_list(f->client, NULL, false, &l, &n, &err), KLEASE_EAUTH);
}

static void test_public_delete_deletes_and_says_when_the_lease_is_missing(void **state)
{
    fixture *f = *state;
    klease_error err;
    scripted_push_fixture(f->t, 200, "19c-delete-lease-post.json");
    assert_int_equal(klease_lease_delete(f->client, NULL, "lease-post", &err), KLEASE_OK);
    assert_string_equal(f->t->requests[0].method, "DELETE");
    assert_string_equal(f->t->requests[0].path,
                        "/apis/coordination.k8s.io/v1/namespaces/default/leases/lease-post");
    scripted_push_fixture(f->t, 404, "19d-delete-missing.json");
    assert_int_equal(klease_lease_delete(f->client, "klease-test", "lease-missing", &err),
                     KLEASE_ENOTFOUND);
    assert_int_equal(klease_lease_delete(f->client, NULL, "Bad Name", &err), KLEASE_EINVAL);
    assert_int_equal(f->t->nrequests, 2);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, scripted_setup, scripted_teardown)
    const struct CMUnitTest tests[] = {
        T(test_get_sends_the_lease_path_and_returns_the_body),
        T(test_apply_sends_force_field_manager_and_apply_content_type),
        T(test_strategic_merge_never_sends_force),
        T(test_create_posts_to_the_collection),
        T(test_field_manager_is_escaped),
        T(test_invalid_names_are_refused_before_any_request),
        T(test_call_timeout_only_tightens_the_client_timeout),
        T(test_not_found_maps_to_enotfound),
        T(test_stale_version_conflict_maps_to_econflict_reason_conflict),
        T(test_field_manager_conflict_is_told_apart),
        T(test_already_exists_is_told_apart),
        T(test_unauthorized_and_forbidden_map_to_eauth),
        T(test_server_errors_map_to_ehttp_without_reason),
        T(test_too_many_requests_keeps_retry_after),
        T(test_a_non_status_error_body_is_quoted_in_the_message),
        T(test_transport_failures_pass_through),
        T(test_delete_maps_success_and_not_found),
        T(test_list_reads_every_lease_of_the_namespace_from_a_real_lease_list),
        T(test_list_shows_a_current_claim_and_all_namespaces_use_the_cluster_path),
        T(test_list_refuses_bad_input_and_bad_responses_with_a_status),
        T(test_public_delete_deletes_and_says_when_the_lease_is_missing),
    };
    return cmocka_run_group_tests_name("lease_api", tests, NULL, NULL);
}
