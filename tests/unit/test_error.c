/* Error model: status strings and safe formatting into klease_error. */
#include "cmocka_wrap.h"

#include "core/error.h"

#include <string.h>

static void test_every_status_has_a_distinct_description(void **state)
{
    (void)state;
    for (int a = KLEASE_OK; a <= KLEASE_ECLOSED; a++) {
        const char *sa = klease_strerror((klease_status)a);
        assert_non_null(sa);
        assert_true(strlen(sa) > 0);
        assert_string_not_equal(sa, "unknown status");
        for (int b = a + 1; b <= KLEASE_ECLOSED; b++)
            assert_string_not_equal(sa, klease_strerror((klease_status)b));
    }
}

static void test_unknown_status_still_gets_a_string(void **state)
{
    (void)state;
    assert_string_equal(klease_strerror((klease_status)999), "unknown status");
}

static void test_fail_fills_status_and_message_and_returns_status(void **state)
{
    (void)state;
    klease_error err;
    memset(&err, 0x5a, sizeof err);
    klease_status st = klease__fail(&err, KLEASE_ECONFIG, "cluster %s has no %s", "prod", "server");
    assert_int_equal(st, KLEASE_ECONFIG);
    assert_int_equal(err.status, KLEASE_ECONFIG);
    assert_int_equal(err.http_code, 0);
    assert_int_equal(err.retry_after_ms, -1);
    assert_string_equal(err.reason, "");
    assert_string_equal(err.message, "cluster prod has no server");
}

static void test_fail_accepts_a_null_error_pointer(void **state)
{
    (void)state;
    assert_int_equal(klease__fail(NULL, KLEASE_EINVAL, "x %d", 1), KLEASE_EINVAL);
    assert_int_equal(klease__fail_http(NULL, KLEASE_EHTTP, 500, "x", "y"), KLEASE_EHTTP);
}

static void test_long_message_is_truncated_and_marked(void **state)
{
    (void)state;
    char big[4096];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    klease_error err;
    klease__fail(&err, KLEASE_EPROTO, "%s", big);
    size_t len = strlen(err.message);
    assert_int_equal(len, KLEASE_ERROR_MESSAGE_MAX - 1);
    assert_string_equal(err.message + len - 3, "...");
}

static void test_fail_http_records_code_and_reason(void **state)
{
    (void)state;
    klease_error err;
    klease__fail_http(&err, KLEASE_ECONFLICT, 409, "AlreadyExists", "POST %s", "/x");
    assert_int_equal(err.status, KLEASE_ECONFLICT);
    assert_int_equal(err.http_code, 409);
    assert_string_equal(err.reason, "AlreadyExists");
    assert_string_equal(err.message, "POST /x");
}

static void test_overlong_reason_is_truncated_not_overflowed(void **state)
{
    (void)state;
    char reason[200];
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = '\0';
    klease_error err;
    klease__fail_http(&err, KLEASE_EHTTP, 500, reason, "m");
    assert_int_equal(strlen(err.reason), KLEASE_ERROR_REASON_MAX - 1);
    klease__fail_http(&err, KLEASE_EHTTP, 500, NULL, "m");
    assert_string_equal(err.reason, "");
}

static void test_strlcpy_reports_truncation(void **state)
{
    (void)state;
    char buf[4];
    assert_true(klease__strlcpy(buf, "abc", sizeof buf));
    assert_string_equal(buf, "abc");
    assert_false(klease__strlcpy(buf, "abcd", sizeof buf));
    assert_string_equal(buf, "abc");
    assert_true(klease__strlcpy(buf, NULL, sizeof buf));
    assert_string_equal(buf, "");
}

static void test_version_string_matches_macros(void **state)
{
    (void)state;
    assert_string_equal(klease_version(), KLEASE_VERSION_STRING);
    assert_true(KLEASE_AT_LEAST_VERSION(0, 0, 1));
    assert_false(KLEASE_AT_LEAST_VERSION(KLEASE_VERSION_MAJOR + 1, 0, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_status_has_a_distinct_description),
        cmocka_unit_test(test_unknown_status_still_gets_a_string),
        cmocka_unit_test(test_fail_fills_status_and_message_and_returns_status),
        cmocka_unit_test(test_fail_accepts_a_null_error_pointer),
        cmocka_unit_test(test_long_message_is_truncated_and_marked),
        cmocka_unit_test(test_fail_http_records_code_and_reason),
        cmocka_unit_test(test_overlong_reason_is_truncated_not_overflowed),
        cmocka_unit_test(test_strlcpy_reports_truncation),
        cmocka_unit_test(test_version_string_matches_macros),
    };
    return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
