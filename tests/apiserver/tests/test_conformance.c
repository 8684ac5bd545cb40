/* Replays the wire captures of a real kube-apiserver (reference/apiserver-
 * wire/) against the simulator and compares status codes and bodies. Error
 * bodies must match byte for byte; success bodies are compared field by
 * field, since uid, times and resourceVersions differ from run to run. */
#include "cmocka_wrap.h"

#include "captures.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ksim *sim;

#define APPLY   "application/apply-patch+yaml"
#define SMP     "application/strategic-merge-patch+json"
#define MERGE   "application/merge-patch+json"
#define A       "/lease-a"
#define APPLY_Q "?fieldManager=klease&force=true"

/* The lease of capture 00, created the way kubectl created it. */
#define LEASE_A_00                                                                                 \
    "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":"        \
    "\"lease-a\",\"namespace\":\"klease-test\"},\"spec\":{\"holderIdentity\":\"initial-holder\","  \
    "\"leaseDurationSeconds\":10,\"acquireTime\":\"2026-11-23T18:38:49.574490Z\",\"renewTime\":"   \
    "\"2026-11-23T18:38:49.574490Z\",\"leaseTransitions\":0}}"

static int setup(void **state)
{
    (void)state;
    char err[256];
    ksim_options o = KSIM_OPTIONS_INIT;
    if (ksim_start(&sim, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "ksim_start: %s\n", err);
        return -1;
    }
    return th_simple(sim, "POST", LEASES "?fieldManager=kubectl-create", NULL, LEASE_A_00, NULL) ==
                   201
               ? 0
               : -1;
}

static int teardown(void **state)
{
    (void)state;
    ksim_stop(sim);
    sim = NULL;
    return 0;
}

/* Sends a request and returns the response (caller frees). */
static th_resp call(const char *method, const char *path, const char *ctype, const char *body)
{
    th_req q = {.method = method, .path = path, .content_type = ctype, .body = body};
    th_resp r;
    th_do(sim, &q, &r);
    assert_int_equal(r.rc, CURLE_OK);
    return r;
}

static void expect_exact(const char *method, const char *path, const char *ctype, const char *body,
                         long code, const char *want)
{
    th_resp r = call(method, path, ctype, body);
    assert_int_equal(r.code, code);
    assert_non_null(r.body);
    assert_string_equal(r.body, want);
    th_resp_free(&r);
}

/* Returns the parsed body after checking the code. */
static cJSON *expect_json(const char *method, const char *path, const char *ctype, const char *body,
                          long code)
{
    th_resp r = call(method, path, ctype, body);
    assert_int_equal(r.code, code);
    assert_non_null(r.body);
    /* Compact JSON with the server's trailing newline. */
    assert_int_equal(r.body[r.len - 1], '\n');
    assert_null(strstr(r.body, ": "));
    cJSON *o = th_json(&r);
    assert_non_null(o);
    th_resp_free(&r);
    return o;
}

static char *current_rv(void)
{
    cJSON *o = expect_json("GET", LEASES A, NULL, NULL, 200);
    char *rv = strdup(th_str(o, "metadata.resourceVersion"));
    cJSON_Delete(o);
    return rv;
}

/* managedFields[i] as "manager/Operation:f1,f2,..." for compact asserts. */
static void managed(const cJSON *o, int i, char *out, size_t n)
{
    const cJSON *mf = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "managedFields"), i);
    if (mf == NULL) {
        snprintf(out, n, "-");
        return;
    }
    size_t off = (size_t)snprintf(out, n, "%s/%s:", th_str(mf, "manager"), th_str(mf, "operation"));
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(cJSON_GetObjectItem(mf, "fieldsV1"), "f:spec")) off +=
        (size_t)snprintf(out + off, n - off, "%s,", f->string + 2);
}

static char *apply_body(const char *rv, const char *holder, const char *time, int transitions)
{
    char *b = malloc(512);
    snprintf(b, 512,
             "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{"
             "\"resourceVersion\":\"%s\"},\"spec\":{\"holderIdentity\":\"%s\","
             "\"leaseDurationSeconds\":15,\"acquireTime\":\"%s\",\"renewTime\":\"%s\","
             "\"leaseTransitions\":%d}}",
             rv, holder, time, time, transitions);
    return b;
}

static void test_get_returns_the_lease_like_capture_01(void **state)
{
    (void)state;
    th_resp r = call("GET", LEASES A, NULL, NULL);
    assert_int_equal(r.code, 200);
    assert_non_null(strstr(r.body,
                           "{\"kind\":\"Lease\",\"apiVersion\":\"coordination.k8s.io/v1\","
                           "\"metadata\":{\"name\":\"lease-a\",\"namespace\":\"klease-test\""
                           ",\"uid\":\""));
    const char *tail =
        ",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:acquireTime\":{},"
        "\"f:holderIdentity\":{},\"f:leaseDurationSeconds\":{},\"f:leaseTransitions"
        "\":{},\"f:renewTime\":{}}}}]},\"spec\":{\"holderIdentity\":\"initial-holder\""
        ",\"leaseDurationSeconds\":10,\"acquireTime\":\"2026-11-23T18:38:49.574490Z\","
        "\"renewTime\":\"2026-11-23T18:38:49.574490Z\",\"leaseTransitions\":0}}\n";
    assert_true(r.len > strlen(tail));
    assert_string_equal(r.body + r.len - strlen(tail), tail);
    cJSON *o = th_json(&r);
    const char *created = th_str(o, "metadata.creationTimestamp");
    assert_non_null(created);
    assert_int_equal(strlen(created), 20); /* second precision */
    assert_int_equal(strlen(th_str(o, "metadata.uid")), 36);
    char mf[256];
    managed(o, 0, mf, sizeof(mf));
    assert_string_equal(mf, "kubectl-create/Update:acquireTime,holderIdentity,leaseDurationSeconds,"
                            "leaseTransitions,renewTime,");
    cJSON_Delete(o);
    th_resp_free(&r);
}

static void test_apply_with_current_rv_succeeds_and_stale_rv_conflicts(void **state)
{
    (void)state;
    char *rv = current_rv(), mf[256];
    char *body = apply_body(rv, "a", "2026-11-23T18:38:50.700544Z", 1);
    cJSON *o = expect_json("PATCH", LEASES A APPLY_Q, APPLY, body, 200); /* 02 */
    assert_int_equal(strtoull(th_str(o, "metadata.resourceVersion"), NULL, 10),
                     strtoull(rv, NULL, 10) + 1);
    assert_string_equal(th_str(o, "spec.holderIdentity"), "a");
    assert_int_equal(th_num(o, "spec.leaseDurationSeconds"), 15);
    managed(o, 0, mf, sizeof(mf));
    assert_string_equal(mf, "klease/Apply:acquireTime,holderIdentity,leaseDurationSeconds,"
                            "leaseTransitions,renewTime,");
    managed(o, 1, mf, sizeof(mf));
    assert_string_equal(mf, "-"); /* kubectl-create lost every field */
    cJSON_Delete(o);
    /* 03: the same body again carries a stale resourceVersion, force or not. */
    expect_exact("PATCH", LEASES A APPLY_Q, APPLY, body, X_03_APPLY_STALE_RV_CODE,
                 X_03_APPLY_STALE_RV_BODY);
    free(body);
    free(rv);
    /* 03b: without a resourceVersion the apply is unconditional. */
    o = expect_json("PATCH", LEASES A APPLY_Q, APPLY,
                    "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{"
                    "\"name\":\"lease-a\",\"namespace\":\"klease-test\"},\"spec\":{"
                    "\"holderIdentity\":\"a\",\"leaseDurationSeconds\":15,\"acquireTime\":"
                    "\"2026-11-23T18:38:50.881005Z\",\"renewTime\":\"2026-11-23T18:38:50.881005Z\","
                    "\"leaseTransitions\":1}}",
                    200);
    assert_string_equal(th_str(o, "spec.renewTime"), "2026-11-23T18:38:50.881005Z");
    cJSON_Delete(o);
}

static void test_apply_by_another_manager_without_force_conflicts_per_field(void **state)
{
    (void)state;
    char *rv = current_rv();
    char *body = apply_body(rv, "a", "2026-11-23T18:38:50.700544Z", 1);
    cJSON_Delete(expect_json("PATCH", LEASES A APPLY_Q, APPLY, body, 200));
    free(body);
    free(rv);
    expect_exact("PATCH", LEASES A "?fieldManager=other", APPLY,
                 X_03C_APPLY_OTHER_MANAGER_NO_FORCE_REQ, X_03C_APPLY_OTHER_MANAGER_NO_FORCE_CODE,
                 X_03C_APPLY_OTHER_MANAGER_NO_FORCE_BODY);
    /* With force the other manager takes the fields over. */
    cJSON *o = expect_json("PATCH", LEASES A "?fieldManager=other&force=true", APPLY,
                           X_03C_APPLY_OTHER_MANAGER_NO_FORCE_REQ, 200);
    char mf[256];
    managed(o, 0, mf, sizeof(mf));
    assert_string_equal(mf, "klease/Apply:acquireTime,leaseDurationSeconds,leaseTransitions,");
    managed(o, 1, mf, sizeof(mf));
    assert_string_equal(mf, "other/Apply:holderIdentity,renewTime,");
    cJSON_Delete(o);
    expect_exact("PATCH", LEASES A APPLY_Q, APPLY, X_03D_APPLY_NAME_MISMATCH_REQ,
                 X_03D_APPLY_NAME_MISMATCH_CODE, X_03D_APPLY_NAME_MISMATCH_BODY);
}

static void test_strategic_merge_patch_renews_vacates_and_reacquires(void **state)
{
    (void)state;
    char *rv = current_rv(), mf[256], body[512];
    char *ab = apply_body(rv, "a", "2026-11-23T18:38:50.881005Z", 1);
    cJSON *o = expect_json("PATCH", LEASES A APPLY_Q, APPLY, ab, 200);
    free(ab);
    free(rv);
    rv = strdup(th_str(o, "metadata.resourceVersion"));
    cJSON_Delete(o);
    /* 04: a renewal moves renewTime to an Update entry. */
    snprintf(body, sizeof(body),
             "{\"metadata\":{\"resourceVersion\":\"%s\"},\"spec\":{"
             "\"renewTime\":\"2026-11-23T18:38:51.150110Z\"}}",
             rv);
    o = expect_json("PATCH", LEASES A "?fieldManager=klease", SMP, body, 200);
    assert_string_equal(th_str(o, "spec.renewTime"), "2026-11-23T18:38:51.150110Z");
    assert_string_equal(th_str(o, "spec.acquireTime"), "2026-11-23T18:38:50.881005Z");
    managed(o, 0, mf, sizeof(mf));
    assert_string_equal(mf, "klease/Apply:acquireTime,holderIdentity,leaseDurationSeconds,"
                            "leaseTransitions,");
    managed(o, 1, mf, sizeof(mf));
    assert_string_equal(mf, "klease/Update:renewTime,");
    char *rv2 = strdup(th_str(o, "metadata.resourceVersion"));
    cJSON_Delete(o);
    /* 05, 05b: the old version again is stale for both patch types. */
    expect_exact("PATCH", LEASES A "?fieldManager=klease", SMP, body, X_05_SMP_STALE_RV_CODE,
                 X_05_SMP_STALE_RV_BODY);
    expect_exact("PATCH", LEASES A "?fieldManager=klease", MERGE, body,
                 X_05B_MERGEPATCH_STALE_RV_CODE, X_05B_MERGEPATCH_STALE_RV_BODY);
    /* 06, 07: nulls remove the fields and keep leaseTransitions. */
    snprintf(body, sizeof(body),
             "{\"metadata\":{\"resourceVersion\":\"%s\"},\"spec\":{"
             "\"holderIdentity\":null,\"acquireTime\":null,\"renewTime\":null,"
             "\"leaseDurationSeconds\":null}}",
             rv2);
    o = expect_json("PATCH", LEASES A "?fieldManager=klease", SMP, body, 200);
    char *spec = cJSON_PrintUnformatted(cJSON_GetObjectItem(o, "spec"));
    assert_string_equal(spec, "{\"leaseTransitions\":1}");
    free(spec);
    managed(o, 0, mf, sizeof(mf));
    assert_string_equal(mf, "klease/Apply:leaseTransitions,");
    managed(o, 1, mf, sizeof(mf));
    assert_string_equal(mf, "-");
    char *rv3 = strdup(th_str(o, "metadata.resourceVersion"));
    cJSON_Delete(o);
    o = expect_json("GET", LEASES A, NULL, NULL, 200);
    assert_string_equal(th_str(o, "metadata.resourceVersion"), rv3);
    assert_null(th_str(o, "spec.holderIdentity"));
    cJSON_Delete(o);
    /* 07b: re-acquire by strategic merge. */
    snprintf(body, sizeof(body),
             "{\"metadata\":{\"resourceVersion\":\"%s\"},\"spec\":{"
             "\"holderIdentity\":\"c\",\"leaseDurationSeconds\":15,\"acquireTime\":"
             "\"2026-11-23T18:38:51.616661Z\",\"renewTime\":\"2026-11-23T18:38:51.616661Z\","
             "\"leaseTransitions\":2}}",
             rv3);
    o = expect_json("PATCH", LEASES A "?fieldManager=klease", SMP, body, 200);
    managed(o, 0, mf, sizeof(mf));
    assert_string_equal(mf, "klease/Update:acquireTime,holderIdentity,leaseDurationSeconds,"
                            "leaseTransitions,renewTime,");
    managed(o, 1, mf, sizeof(mf));
    assert_string_equal(mf, "-");
    assert_int_equal(th_num(o, "spec.leaseTransitions"), 2);
    cJSON_Delete(o);
    free(rv);
    free(rv2);
    free(rv3);
}

static void test_missing_leases_answer_404_and_apply_creates_only_with_a_name(void **state)
{
    (void)state;
    expect_exact("GET", LEASES "/lease-missing", NULL, NULL, X_08_GET_MISSING_CODE,
                 X_08_GET_MISSING_BODY);
    expect_exact("PATCH", LEASES "/lease-missing?fieldManager=klease", SMP, X_10B_SMP_MISSING_REQ,
                 X_10B_SMP_MISSING_CODE, X_10B_SMP_MISSING_BODY);
    expect_exact("PATCH", LEASES "/lease-apply-created" APPLY_Q, APPLY,
                 X_09_APPLY_MISSING_NO_RV_REQ, X_09_APPLY_MISSING_NO_RV_CODE,
                 X_09_APPLY_MISSING_NO_RV_BODY);
    expect_exact("PATCH", LEASES "/lease-apply-with-rv" APPLY_Q, APPLY,
                 X_10_APPLY_MISSING_WITH_RV_REQ, X_10_APPLY_MISSING_WITH_RV_CODE,
                 X_10_APPLY_MISSING_WITH_RV_BODY);
    /* 09b, 10c: with a name apply creates, ignoring the resourceVersion. */
    cJSON *o = expect_json(
        "PATCH", LEASES "/lease-apply-with-rv" APPLY_Q, APPLY,
        "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":"
        "\"lease-apply-with-rv\",\"resourceVersion\":\"201\"},\"spec\":{\"holderIdentity\":\"a\","
        "\"leaseDurationSeconds\":15,\"acquireTime\":\"2026-11-23T18:38:51.935086Z\","
        "\"renewTime\":\"2026-11-23T18:38:51.935086Z\",\"leaseTransitions\":0}}",
        201);
    char mf[256];
    managed(o, 0, mf, sizeof(mf));
    assert_string_equal(mf, "klease/Apply:acquireTime,holderIdentity,leaseDurationSeconds,"
                            "leaseTransitions,renewTime,");
    assert_string_equal(th_str(o, "metadata.namespace"), "klease-test");
    cJSON_Delete(o);
}

static void test_post_creates_once_and_refuses_a_resource_version(void **state)
{
    (void)state;
    cJSON *o = expect_json("POST", LEASES "?fieldManager=klease", NULL, X_12_POST_DUPLICATE_REQ,
                           201); /* 11 */
    assert_string_equal(th_str(o, "metadata.name"), "lease-post");
    cJSON_Delete(o);
    expect_exact("POST", LEASES "?fieldManager=klease", NULL, X_12_POST_DUPLICATE_REQ,
                 X_12_POST_DUPLICATE_CODE, X_12_POST_DUPLICATE_BODY);
    expect_exact("POST", LEASES "?fieldManager=klease", NULL, X_12B_POST_WITH_RV_REQ,
                 X_12B_POST_WITH_RV_CODE, X_12B_POST_WITH_RV_BODY);
}

static void test_invalid_durations_and_transitions_answer_422(void **state)
{
    (void)state;
    char *rv = current_rv(), body[256];
    expect_exact("POST", LEASES, NULL, X_13_POST_INVALID_DURATION_ZERO_REQ,
                 X_13_POST_INVALID_DURATION_ZERO_CODE, X_13_POST_INVALID_DURATION_ZERO_BODY);
    expect_exact("POST", LEASES, NULL, X_14_POST_INVALID_DURATION_NEGATIVE_REQ,
                 X_14_POST_INVALID_DURATION_NEGATIVE_CODE,
                 X_14_POST_INVALID_DURATION_NEGATIVE_BODY);
    snprintf(body, sizeof(body),
             "{\"metadata\":{\"resourceVersion\":\"%s\"},\"spec\":{"
             "\"leaseDurationSeconds\":0}}",
             rv);
    expect_exact("PATCH", LEASES A "?fieldManager=klease", SMP, body,
                 X_14B_SMP_INVALID_DURATION_CODE, X_14B_SMP_INVALID_DURATION_BODY);
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
             "\"metadata\":{\"resourceVersion\":\"%s\"},\"spec\":{\"leaseDurationSeconds\":-1}}",
             rv);
    expect_exact("PATCH", LEASES A APPLY_Q, APPLY, body, X_14C_APPLY_INVALID_DURATION_CODE,
                 X_14C_APPLY_INVALID_DURATION_BODY);
    free(rv);
}

static void test_microtime_is_validated_like_the_server_for_each_verb(void **state)
{
    (void)state;
    static const struct {
        const char *req, *body;
    } posts[] = {
        {X_15_POST_MICROTIME_1_REQ, X_15_POST_MICROTIME_1_BODY},
        {X_15_POST_MICROTIME_2_REQ, X_15_POST_MICROTIME_2_BODY},
        {X_15_POST_MICROTIME_3_REQ, X_15_POST_MICROTIME_3_BODY},
        {X_15_POST_MICROTIME_4_REQ, X_15_POST_MICROTIME_4_BODY},
        {X_15_POST_MICROTIME_6_REQ, X_15_POST_MICROTIME_6_BODY},
        {X_15_POST_MICROTIME_7_REQ, X_15_POST_MICROTIME_7_BODY},
    };
    for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++)
        expect_exact("POST", LEASES, NULL, posts[i].req, 400, posts[i].body);
    /* 15-5: an offset is accepted and converted to UTC. */
    cJSON *o = expect_json("POST", LEASES, NULL,
                           "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
                           "\"metadata\":{\"name\":\"lease-badtime\"},\"spec\":{\"holderIdentity\""
                           ":\"a\",\"renewTime\":\"2026-11-23T18:30:00.123456+02:00\"}}",
                           201);
    assert_string_equal(th_str(o, "spec.renewTime"), "2026-11-23T16:30:00.123456Z");
    char mf[256];
    managed(o, 0, mf, sizeof(mf));
    assert_string_equal(mf, "ksim-test/Update:holderIdentity,renewTime,"); /* from User-Agent */
    cJSON_Delete(o);

    /* 16: strategic merge answers 422 quoting the patch as Go prints it. */
    char *rv = current_rv(), body[256], want[2048];
    snprintf(body, sizeof(body),
             "{\"metadata\":{\"resourceVersion\":\"%s\"},\"spec\":{"
             "\"renewTime\":\"not-a-time\"}}",
             rv);
    const char *tmpl = X_16_SMP_INVALID_MICROTIME_BODY;
    size_t off = 0;
    for (const char *p = tmpl; *p && off < sizeof(want) - 32;) {
        if (strncmp(p, "resourceVersion:202", 19) == 0) {
            off += (size_t)snprintf(want + off, sizeof(want) - off, "resourceVersion:%s", rv);
            p += 19;
        } else {
            want[off++] = *p++;
        }
    }
    want[off] = '\0';
    expect_exact("PATCH", LEASES A "?fieldManager=klease", SMP, body, 422, want);
    /* 17, 17b: apply answers 500. */
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
             "\"metadata\":{\"resourceVersion\":\"%s\"},\"spec\":{\"renewTime\":\"not-a-time\"}}",
             rv);
    expect_exact("PATCH", LEASES A APPLY_Q, APPLY, body, X_17_APPLY_INVALID_MICROTIME_CODE,
                 X_17_APPLY_INVALID_MICROTIME_BODY);
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
             "\"metadata\":{\"resourceVersion\":\"%s\"},\"spec\":{\"renewTime\":"
             "\"2026-11-23T18:30:00Z\"}}",
             rv);
    expect_exact("PATCH", LEASES A APPLY_Q, APPLY, body, X_17B_APPLY_MICROTIME_NOFRACTION_CODE,
                 X_17B_APPLY_MICROTIME_NOFRACTION_BODY);
    free(rv);
}

static void test_bad_json_and_unsupported_patch_types_are_refused(void **state)
{
    (void)state;
    expect_exact("PATCH", LEASES A "?fieldManager=klease", SMP, X_18_PATCH_BAD_JSON_REQ,
                 X_18_PATCH_BAD_JSON_CODE, X_18_PATCH_BAD_JSON_BODY);
    expect_exact("PATCH", LEASES A "?fieldManager=klease", "application/json",
                 X_18B_PATCH_UNSUPPORTED_CTYPE_REQ, X_18B_PATCH_UNSUPPORTED_CTYPE_CODE,
                 X_18B_PATCH_UNSUPPORTED_CTYPE_BODY);
}

static void test_put_checks_the_resource_version(void **state)
{
    (void)state;
    char *rv = current_rv(), body[1024];
    snprintf(body, sizeof(body),
             "{\"kind\":\"Lease\",\"apiVersion\":\"coordination.k8s.io/v1\","
             "\"metadata\":{\"name\":\"lease-a\",\"namespace\":\"klease-test\",\"resourceVersion\""
             ":\"%llu\"},\"spec\":{\"holderIdentity\":\"put-holder\",\"leaseDurationSeconds\":15,"
             "\"acquireTime\":\"2026-11-23T18:38:51.616661Z\",\"renewTime\":"
             "\"2026-11-23T18:38:51.616661Z\",\"leaseTransitions\":2}}",
             strtoull(rv, NULL, 10) - 1);
    expect_exact("PUT", LEASES A "?fieldManager=klease", NULL, body, X_19_PUT_STALE_RV_CODE,
                 X_19_PUT_STALE_RV_BODY);
    snprintf(body, sizeof(body),
             "{\"kind\":\"Lease\",\"apiVersion\":\"coordination.k8s.io/v1\","
             "\"metadata\":{\"name\":\"lease-a\",\"namespace\":\"klease-test\",\"resourceVersion\""
             ":\"%s\"},\"spec\":{\"holderIdentity\":\"put-holder\",\"leaseDurationSeconds\":15,"
             "\"acquireTime\":\"2026-11-23T18:38:51.616661Z\",\"renewTime\":"
             "\"2026-11-23T18:38:51.616661Z\",\"leaseTransitions\":2}}",
             rv);
    cJSON *o = expect_json("PUT", LEASES A "?fieldManager=klease", NULL, body, 200);
    assert_string_equal(th_str(o, "spec.holderIdentity"), "put-holder");
    cJSON_Delete(o);
    free(rv);
}

static void test_delete_answers_a_success_status_then_404(void **state)
{
    (void)state;
    cJSON *o = expect_json("GET", LEASES A, NULL, NULL, 200);
    char want[512];
    snprintf(want, sizeof(want),
             "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
             "\"status\":\"Success\",\"details\":{\"name\":\"lease-a\",\"group\":"
             "\"coordination.k8s.io\",\"kind\":\"leases\",\"uid\":\"%s\"}}\n",
             th_str(o, "metadata.uid"));
    cJSON_Delete(o);
    expect_exact("DELETE", LEASES A, NULL, NULL, 200, want); /* 19c */
    expect_exact("DELETE", LEASES "/lease-missing", NULL, NULL, X_19D_DELETE_MISSING_CODE,
                 X_19D_DELETE_MISSING_BODY);
    expect_exact("GET", LEASES "/lease-a", NULL, NULL, 404,
                 "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\""
                 ",\"message\":\"leases.coordination.k8s.io \\\"lease-a\\\" not found\",\"reason\":"
                 "\"NotFound\",\"details\":{\"name\":\"lease-a\",\"group\":\"coordination.k8s.io\","
                 "\"kind\":\"leases\"},\"code\":404}\n");
}

static void test_list_returns_a_lease_list_sorted_by_name(void **state)
{
    (void)state;
    cJSON_Delete(expect_json("POST", LEASES, NULL, X_12_POST_DUPLICATE_REQ, 201));
    cJSON *o = expect_json("GET", LEASES, NULL, NULL, 200);
    assert_string_equal(th_str(o, "kind"), "LeaseList");
    assert_string_equal(th_str(o, "apiVersion"), "coordination.k8s.io/v1");
    char rv[24];
    snprintf(rv, sizeof(rv), "%llu", (unsigned long long)ksim_resource_version(sim));
    assert_string_equal(th_str(o, "metadata.resourceVersion"), rv);
    const cJSON *items = cJSON_GetObjectItem(o, "items");
    assert_int_equal(cJSON_GetArraySize(items), 2);
    assert_string_equal(th_str(cJSON_GetArrayItem(items, 0), "metadata.name"), "lease-a");
    assert_string_equal(th_str(cJSON_GetArrayItem(items, 1), "metadata.name"), "lease-post");
    assert_null(th_str(cJSON_GetArrayItem(items, 0), "kind")); /* items carry no kind */
    cJSON_Delete(o);
    expect_exact("GET", LEASES "?resourceVersion=1&resourceVersionMatch=Exact", NULL, NULL,
                 X_25B_LIST_EXACT_COMPACTED_RV_CODE, X_25B_LIST_EXACT_COMPACTED_RV_BODY);
    o = expect_json("GET", LEASES "?fieldSelector=metadata.name%3Dlease-post", NULL, NULL, 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "items")), 1);
    cJSON_Delete(o);
}

static void test_no_op_writes_keep_the_resource_version(void **state)
{
    (void)state;
    char *rv = current_rv(), body[256];
    snprintf(body, sizeof(body),
             "{\"metadata\":{\"resourceVersion\":\"%s\"},\"spec\":{"
             "\"holderIdentity\":\"initial-holder\"}}",
             rv);
    cJSON *o = expect_json("PATCH", LEASES A "?fieldManager=klease", SMP, body, 200);
    assert_string_equal(th_str(o, "metadata.resourceVersion"), rv);
    cJSON_Delete(o);
    free(rv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_get_returns_the_lease_like_capture_01),
        T(test_apply_with_current_rv_succeeds_and_stale_rv_conflicts),
        T(test_apply_by_another_manager_without_force_conflicts_per_field),
        T(test_strategic_merge_patch_renews_vacates_and_reacquires),
        T(test_missing_leases_answer_404_and_apply_creates_only_with_a_name),
        T(test_post_creates_once_and_refuses_a_resource_version),
        T(test_invalid_durations_and_transitions_answer_422),
        T(test_microtime_is_validated_like_the_server_for_each_verb),
        T(test_bad_json_and_unsupported_patch_types_are_refused),
        T(test_put_checks_the_resource_version),
        T(test_delete_answers_a_success_status_then_404),
        T(test_list_returns_a_lease_list_sorted_by_name),
        T(test_no_op_writes_keep_the_resource_version),
#undef T
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
