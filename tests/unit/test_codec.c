/* Lease codec: decoding real server responses and building the seed's bodies. */
#include "cmocka_wrap.h"

#include "core/clock.h"
#include "core/microtime.h"
#include "lease/codec.h"
#include "alloc_fail.h"
#include "scripted_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static klease__lease decode_ok(const char *json)
{
    klease__lease l;
    klease_error err;
    klease_status st = klease__lease_decode(json, strlen(json), &l, &err);
    if (st != KLEASE_OK)
        fail_msg("decode failed: %s", err.message);
    return l;
}

static void decode_fails(const char *json, const char *message_part)
{
    klease__lease l;
    klease_error err;
    assert_int_equal(klease__lease_decode(json, strlen(json), &l, &err), KLEASE_EPROTO);
    if (strstr(err.message, message_part) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err.message, message_part);
}

static int64_t mt(const char *s)
{
    int64_t ns;
    assert_int_equal(klease__microtime_parse(s, strlen(s), &ns, NULL), KLEASE_OK);
    return ns;
}

static void test_decodes_a_held_lease_from_the_server(void **state)
{
    (void)state;
    char *json = read_fixture("wire/01-get-lease.json");
    klease__lease l = decode_ok(json);
    free(json);
    assert_string_equal(l.resource_version, "197");
    assert_true(l.has_holder);
    assert_string_equal(l.holder, "initial-holder");
    assert_false(l.holder_truncated);
    assert_true(l.has_duration);
    assert_int_equal(l.duration_s, 10);
    assert_true(l.has_renew_time);
    assert_int_equal(l.renew_time_ns, mt("2026-11-23T18:38:49.574490Z"));
    assert_true(l.has_acquire_time);
    assert_int_equal(l.transitions, 0);
    assert_true(klease__lease_held_by(&l, "initial-holder"));
    assert_false(klease__lease_held_by(&l, "initial"));
}

static void test_decodes_a_vacated_lease_as_unheld_with_transitions_kept(void **state)
{
    (void)state;
    char *json = read_fixture("wire/07-get-after-vacate.json");
    klease__lease l = decode_ok(json);
    free(json);
    assert_string_equal(l.resource_version, "201");
    assert_false(l.has_holder);
    assert_false(l.has_renew_time);
    assert_false(l.has_duration);
    assert_int_equal(l.transitions, 1);
}

static void test_missing_spec_or_resource_version_is_a_protocol_error(void **state)
{
    (void)state;
    decode_fails("{\"metadata\":{\"resourceVersion\":\"5\"}}", "does not have a spec");
    decode_fails("{\"metadata\":{\"resourceVersion\":\"5\"},\"spec\":null}",
                 "does not have a spec");
    decode_fails("{\"metadata\":{},\"spec\":{}}", "resource version");
    decode_fails("{\"spec\":{}}", "resource version");
    decode_fails("{\"metadata\":{\"resourceVersion\":5},\"spec\":{}}", "resource version");
    decode_fails("{\"metadata\":{\"resourceVersion\":\"\"},\"spec\":{}}", "resource version");
}

static void test_null_and_missing_fields_mean_not_set(void **state)
{
    (void)state;
    klease__lease l = decode_ok("{\"metadata\":{\"resourceVersion\":\"9\"},\"spec\":{"
                                "\"holderIdentity\":null,\"renewTime\":null,"
                                "\"leaseDurationSeconds\":null,\"leaseTransitions\":null}}");
    assert_false(l.has_holder);
    assert_false(l.has_renew_time);
    assert_false(l.has_duration);
    assert_int_equal(l.transitions, 0);
    l = decode_ok("{\"metadata\":{\"resourceVersion\":\"9\"},\"spec\":{}}");
    assert_false(l.has_holder);
}

static void test_empty_holder_counts_as_free(void **state)
{
    (void)state;
    klease__lease l = decode_ok("{\"metadata\":{\"resourceVersion\":\"9\"},\"spec\":"
                                "{\"holderIdentity\":\"\",\"leaseDurationSeconds\":30}}");
    assert_false(l.has_holder);
    assert_false(klease__lease_held_by(&l, ""));
}

static void test_wrong_types_are_protocol_errors(void **state)
{
    (void)state;
    decode_fails("[1,2]", "not a JSON object");
    decode_fails("not json", "not JSON");
    decode_fails("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"holderIdentity\":7}}",
                 "holderIdentity");
    decode_fails(
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"leaseDurationSeconds\":\"30\"}}",
        "leaseDurationSeconds");
    decode_fails(
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"leaseDurationSeconds\":1.5}}",
        "leaseDurationSeconds");
    decode_fails("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"renewTime\":12}}",
                 "renewTime");
    decode_fails("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"renewTime\":\"2026-11-"
                 "23T18:30:00Z\"}}",
                 "renewTime");
    decode_fails("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"leaseTransitions\":1e300}}",
                 "leaseTransitions");
}

static void test_zero_and_negative_durations_are_kept_for_the_manager(void **state)
{
    (void)state;
    klease__lease l = decode_ok("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":"
                                "{\"holderIdentity\":\"a\",\"leaseDurationSeconds\":0}}");
    assert_true(l.has_duration);
    assert_int_equal(l.duration_s, 0);
    l = decode_ok("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":"
                  "{\"holderIdentity\":\"a\",\"leaseDurationSeconds\":-30}}");
    assert_int_equal(l.duration_s, -30);
}

static void test_negative_transitions_are_clamped_to_zero(void **state)
{
    (void)state;
    klease__lease l =
        decode_ok("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"leaseTransitions\":-4}}");
    assert_int_equal(l.transitions, 0);
}

/* Every integer of a Lease spec is an int32 in the API. Beyond that range a
 * duration would overflow the deadline arithmetic (1e10 s in ns wraps), so
 * the response is refused rather than clamped. */
static void test_integers_outside_int32_are_protocol_errors(void **state)
{
    (void)state;
    klease__lease l = decode_ok("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":"
                                "{\"holderIdentity\":\"a\",\"leaseDurationSeconds\":2147483647,"
                                "\"leaseTransitions\":2147483647}}");
    assert_int_equal(l.duration_s, INT32_MAX);
    assert_int_equal(l.transitions, INT32_MAX);
    l = decode_ok("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":"
                  "{\"holderIdentity\":\"a\",\"leaseDurationSeconds\":-2147483648}}");
    assert_int_equal(l.duration_s, INT32_MIN);
    decode_fails("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":"
                 "{\"leaseDurationSeconds\":2147483648}}",
                 "spec.leaseDurationSeconds 2147483648 is outside int32");
    decode_fails("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":"
                 "{\"leaseDurationSeconds\":-2147483649}}",
                 "outside int32");
    decode_fails("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":"
                 "{\"leaseDurationSeconds\":10000000000}}",
                 "outside int32");
    decode_fails("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":"
                 "{\"leaseTransitions\":99999999999}}",
                 "spec.leaseTransitions 99999999999 is outside int32");
    decode_fails("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":"
                 "{\"leaseTransitions\":9223372036854775807}}",
                 "leaseTransitions");
}

static void test_long_foreign_holders_never_match_and_compare_correctly(void **state)
{
    (void)state;
    char a[600], b[600], json[1400];
    memset(a, 'h', 400);
    a[400] = '\0';
    memcpy(b, a, 401);
    b[399] = 'x'; /* same 253-byte prefix, different identity */
    snprintf(json, sizeof json,
             "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"holderIdentity\":\"%s\"}}", a);
    klease__lease la = decode_ok(json);
    snprintf(json, sizeof json,
             "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"holderIdentity\":\"%s\"}}", b);
    klease__lease lb = decode_ok(json);
    assert_true(la.has_holder);
    assert_true(la.holder_truncated);
    assert_int_equal(strlen(la.holder), KLEASE_IDENTITY_MAX);
    assert_false(klease__lease_held_by(&la, la.holder)); /* the cut name is not the holder */
    assert_false(klease__lease_same_holder(&la, &lb));
    assert_true(klease__lease_same_holder(&la, &la));
}

static void test_overlong_resource_version_is_refused(void **state)
{
    (void)state;
    char json[300], rv[100];
    memset(rv, '7', 80);
    rv[80] = '\0';
    snprintf(json, sizeof json, "{\"metadata\":{\"resourceVersion\":\"%s\"},\"spec\":{}}", rv);
    decode_fails(json, "longer than");
}

static void test_acquire_body_is_the_seeds_bytes(void **state)
{
    (void)state;
    int64_t now = mt("2026-11-23T18:38:50.700544Z");
    char *body = klease__lease_acquire_body("197", "a", now, 15, 1);
    /* serde_json's json! maps are BTreeMaps: keys come out sorted. */
    assert_string_equal(body,
                        "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
                        "\"metadata\":{\"resourceVersion\":\"197\"},\"spec\":{"
                        "\"acquireTime\":\"2026-11-23T18:38:50.700544Z\",\"holderIdentity\":\"a\","
                        "\"leaseDurationSeconds\":15,\"leaseTransitions\":1,"
                        "\"renewTime\":\"2026-11-23T18:38:50.700544Z\"}}");
    cJSON_free(body);
}

static void test_renew_body_is_the_seeds_bytes(void **state)
{
    (void)state;
    char *body = klease__lease_renew_body("199", mt("2026-11-23T18:38:51.150110Z"), 30);
    assert_string_equal(body, "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
                              "\"metadata\":{\"resourceVersion\":\"199\"},\"spec\":{"
                              "\"leaseDurationSeconds\":30,"
                              "\"renewTime\":\"2026-11-23T18:38:51.150110Z\"}}");
    cJSON_free(body);
}

/* What cJSON prints for the renew body's tree: the bytes the direct encoder
 * of the renew body must reproduce. */
static char *renew_body_by_cjson(const char *rv, int64_t now_ns, int64_t duration_s)
{
    char when[KLEASE__MICROTIME_LEN + 1];
    assert_int_equal(klease__microtime_format(now_ns, when), KLEASE_OK);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "apiVersion", "coordination.k8s.io/v1");
    cJSON_AddStringToObject(doc, "kind", "Lease");
    cJSON *metadata = cJSON_AddObjectToObject(doc, "metadata");
    cJSON_AddStringToObject(metadata, "resourceVersion", rv);
    cJSON *spec = cJSON_AddObjectToObject(doc, "spec");
    cJSON_AddNumberToObject(spec, "leaseDurationSeconds", (double)duration_s);
    cJSON_AddStringToObject(spec, "renewTime", when);
    char *out = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return out;
}

/* The renew body is written without a cJSON tree; for every byte a
 * resource version may hold (escapes, control characters, UTF-8), and
 * durations up to and past int's range, its bytes equal cJSON's. */
static void test_renew_body_bytes_equal_cjsons_for_any_resource_version_and_duration(void **state)
{
    (void)state;
    const char *rvs[] = {"1",
                         "",
                         "a\"b\\c/d",
                         "\b\f\n\r\t\x01\x1f\x7f",
                         "h\xc3\xa9\xe2\x82\xac",
                         "123456789012345678901234567890"};
    const int64_t durations[] = {
        0, 1, -1, 30, 3600, INT32_MAX - 1, INT32_MIN + 1, INT32_MAX, INT32_MIN, (int64_t)1 << 40};
    const int64_t times[] = {0, mt("2026-11-23T18:38:51.150110Z"),
                             mt("1999-12-31T23:59:59.999999Z")};
    char rv[2] = {0, 0};
    for (int b = 1; b < 256; b++) {
        rv[0] = (char)b;
        char *got = klease__lease_renew_body(rv, times[1], 30);
        char *want = renew_body_by_cjson(rv, times[1], 30);
        assert_non_null(got);
        assert_string_equal(got, want);
        cJSON_free(got);
        cJSON_free(want);
    }
    for (size_t i = 0; i < sizeof rvs / sizeof rvs[0]; i++)
        for (size_t j = 0; j < sizeof durations / sizeof durations[0]; j++)
            for (size_t k = 0; k < sizeof times / sizeof times[0]; k++) {
                char *got = klease__lease_renew_body(rvs[i], times[k], durations[j]);
                char *want = renew_body_by_cjson(rvs[i], times[k], durations[j]);
                assert_non_null(got);
                assert_string_equal(got, want);
                cJSON_free(got);
                cJSON_free(want);
            }
}

static void test_vacate_body_is_the_seeds_bytes(void **state)
{
    (void)state;
    char *body = klease__lease_vacate_body("200");
    assert_string_equal(body, "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
                              "\"metadata\":{\"resourceVersion\":\"200\"},\"spec\":{"
                              "\"acquireTime\":null,\"holderIdentity\":null,"
                              "\"leaseDurationSeconds\":null,\"renewTime\":null}}");
    cJSON_free(body);
}

static void test_create_body_names_an_unheld_lease(void **state)
{
    (void)state;
    char *body = klease__lease_create_body("lease-a");
    assert_string_equal(body, "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
                              "\"metadata\":{\"name\":\"lease-a\"},\"spec\":{}}");
    cJSON_free(body);
}

static void test_identities_with_quotes_are_escaped_and_round_trip(void **state)
{
    (void)state;
    const char *holder = "pod \"x\"\\y\n";
    char *body = klease__lease_acquire_body("1", holder, 0, 30, 0);
    assert_non_null(strstr(body, "\"holderIdentity\":\"pod \\\"x\\\"\\\\y\\n\""));
    klease__lease l = decode_ok(body);
    assert_true(klease__lease_held_by(&l, holder));
    cJSON_free(body);
}

static klease__lease decode_holder(const char *holder_json)
{
    char json[1024];
    snprintf(json, sizeof json,
             "{\"metadata\":{\"resourceVersion\":\"5\"},\"spec\":{\"holderIdentity\":\"%s\","
             "\"leaseDurationSeconds\":10,\"renewTime\":\"2026-11-23T18:38:49.574490Z\"}}",
             holder_json);
    return decode_ok(json);
}

static void test_a_holder_with_an_embedded_nul_is_held_but_never_by_us(void **state)
{
    (void)state;
    klease__lease a = decode_holder("me\\u0000other");
    assert_true(a.has_holder);
    assert_true(a.holder_truncated);
    assert_false(klease__lease_held_by(&a, "me"));
    assert_false(klease__lease_held_by(&a, "me\xEF\xBF\xBFother"));
    klease__lease b = decode_holder("\\u0000other");
    assert_true(b.has_holder); /* not unheld: someone else's claim */
    assert_true(b.holder_truncated);
    assert_false(klease__lease_held_by(&b, "other"));
    /* Different holders stay different; the same one stays the same. */
    klease__lease c = decode_holder("me\\u0000another");
    klease__lease a2 = decode_holder("me\\u0000other");
    assert_false(klease__lease_same_holder(&a, &c));
    assert_true(klease__lease_same_holder(&a, &a2));
    klease__lease upper = decode_holder("me\\u0000Other");
    assert_false(klease__lease_same_holder(&a, &upper));
}

/* The scan for \u0000 jumps from backslash to backslash: a NUL escape that
 * follows other escapes, or sits at the very end of the string, is still
 * found, and the escapes before it keep their meaning. */
static void test_a_nul_escape_after_other_escapes_or_at_the_end_is_still_found(void **state)
{
    (void)state;
    klease__lease a = decode_holder("a\\\"b\\\\c\\nd\\u0000");
    assert_true(a.has_holder);
    assert_true(a.holder_truncated);
    assert_false(klease__lease_held_by(&a, "a\"b\\c\nd"));
    klease__lease b = decode_holder("a\\\"b\\\\c\\nd");
    assert_false(b.holder_truncated);
    assert_true(klease__lease_held_by(&b, "a\"b\\c\nd"));
}

static void test_an_escaped_backslash_before_u0000_text_is_an_ordinary_holder(void **state)
{
    (void)state;
    /* JSON "me\\u0000" is the 8 characters me\u0000, no NUL at all. */
    klease__lease l = decode_holder("me\\\\u0000");
    assert_false(l.holder_truncated);
    assert_true(klease__lease_held_by(&l, "me\\u0000"));
}

static void test_an_over_long_holder_never_equals_its_prefix(void **state)
{
    (void)state;
    char holder[KLEASE_IDENTITY_MAX + 2];
    memset(holder, 'h', sizeof holder - 1);
    holder[sizeof holder - 1] = '\0';
    klease__lease l = decode_holder(holder);
    assert_true(l.has_holder);
    assert_true(l.holder_truncated);
    holder[KLEASE_IDENTITY_MAX] = '\0';
    assert_false(klease__lease_held_by(&l, holder));
}

static klease_status decode_nul_holder_run(void *ctx, long n)
{
    (void)ctx;
    const char *json = "{\"metadata\":{\"resourceVersion\":\"5\"},\"spec\":{\"holderIdentity\":"
                       "\"me\\u0000other\",\"leaseDurationSeconds\":10}}";
    klease__lease l;
    klease__alloc_fail_after(n);
    klease_status st = klease__lease_decode(json, strlen(json), &l, NULL);
    klease__alloc_fail_after(-1);
    return st;
}

static void test_every_allocation_failure_decoding_a_nul_holder_is_enomem(void **state)
{
    (void)state;
    alloc_fail_route_cjson();
    /* The rewritten copy of the text is one more allocation than usual. */
    assert_true(alloc_fail_each("decode a NUL holder", decode_nul_holder_run, NULL, KLEASE_OK) >=
                2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decodes_a_held_lease_from_the_server),
        cmocka_unit_test(test_decodes_a_vacated_lease_as_unheld_with_transitions_kept),
        cmocka_unit_test(test_missing_spec_or_resource_version_is_a_protocol_error),
        cmocka_unit_test(test_null_and_missing_fields_mean_not_set),
        cmocka_unit_test(test_empty_holder_counts_as_free),
        cmocka_unit_test(test_wrong_types_are_protocol_errors),
        cmocka_unit_test(test_zero_and_negative_durations_are_kept_for_the_manager),
        cmocka_unit_test(test_negative_transitions_are_clamped_to_zero),
        cmocka_unit_test(test_integers_outside_int32_are_protocol_errors),
        cmocka_unit_test(test_long_foreign_holders_never_match_and_compare_correctly),
        cmocka_unit_test(test_overlong_resource_version_is_refused),
        cmocka_unit_test(test_acquire_body_is_the_seeds_bytes),
        cmocka_unit_test(test_renew_body_is_the_seeds_bytes),
        cmocka_unit_test(test_renew_body_bytes_equal_cjsons_for_any_resource_version_and_duration),
        cmocka_unit_test(test_vacate_body_is_the_seeds_bytes),
        cmocka_unit_test(test_create_body_names_an_unheld_lease),
        cmocka_unit_test(test_identities_with_quotes_are_escaped_and_round_trip),
        cmocka_unit_test(test_a_holder_with_an_embedded_nul_is_held_but_never_by_us),
        cmocka_unit_test(test_an_escaped_backslash_before_u0000_text_is_an_ordinary_holder),
        cmocka_unit_test(test_a_nul_escape_after_other_escapes_or_at_the_end_is_still_found),
        cmocka_unit_test(test_an_over_long_holder_never_equals_its_prefix),
        cmocka_unit_test(test_every_allocation_failure_decoding_a_nul_holder_is_enomem),
    };
    return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
