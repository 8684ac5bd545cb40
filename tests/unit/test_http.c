/* Transport-independent HTTP helpers: the Retry-After parser and its cap,
 * and call budgets. */
#include "cmocka_wrap.h"

#include "http/http.h"

#include <string.h>

/* 2026-11-23T18:00:00Z */
#define NOW_S INT64_C(1795456800)

static void test_retry_after_seconds_are_honoured_up_to_the_cap(void **state)
{
    (void)state;
    assert_int_equal(klease__retry_after_parse("0", NOW_S), 0);
    assert_int_equal(klease__retry_after_parse("2", NOW_S), 2000);
    assert_int_equal(klease__retry_after_parse(" 3 ", NOW_S), 3000);
    assert_int_equal(klease__retry_after_parse("5", NOW_S), KLEASE__RETRY_AFTER_MAX_MS);
    /* A day, and numbers no integer type holds, are the cap, not a wrap. */
    assert_int_equal(klease__retry_after_parse("86399", NOW_S), KLEASE__RETRY_AFTER_MAX_MS);
    assert_int_equal(klease__retry_after_parse("9223372036854775807", NOW_S),
                     KLEASE__RETRY_AFTER_MAX_MS);
    assert_int_equal(klease__retry_after_parse("99999999999999999999999999999", NOW_S),
                     KLEASE__RETRY_AFTER_MAX_MS);
}

static void test_retry_after_dates_are_capped_too(void **state)
{
    (void)state;
    assert_int_equal(klease__retry_after_parse("Mon, 23 Nov 2026 18:00:03 GMT", NOW_S), 3000);
    assert_int_equal(klease__retry_after_parse("Fri, 31 Dec 2100 23:59:59 GMT", NOW_S),
                     KLEASE__RETRY_AFTER_MAX_MS);
    /* A date in the past: retry now. */
    assert_int_equal(klease__retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", NOW_S), 0);
}

static void test_malformed_and_negative_retry_after_values_are_ignored(void **state)
{
    (void)state;
    const char *bad[] = {"",   " ",  "-1",   "-86400", "1.5",
                         "+3", "3s", "0x10", "soon",   "Mon, 99 Foo 2026 99:99:99 GMT"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (klease__retry_after_parse(bad[i], NOW_S) != -1)
            fail_msg("\"%s\" was accepted", bad[i]);
    }
    assert_int_equal(klease__retry_after_parse(NULL, NOW_S), -1);
    char longer[300];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    assert_int_equal(klease__retry_after_parse(longer, NOW_S), -1);
}

static void test_a_budget_counts_down_and_reports_under_a_millisecond_as_none(void **state)
{
    (void)state;
    klease__budget b = klease__budget_start(60000, NULL);
    int64_t left = klease__budget_left_ms(&b);
    assert_true(left <= 60000 && left > 50000);
    assert_int_equal(b.limit_ms, 60000);
    b.deadline_ns -= 60000 * INT64_C(1000000) - 500000; /* half a millisecond left, at most */
    assert_int_equal(klease__budget_left_ms(&b), 0);
    klease__budget none = klease__budget_start(0, NULL);
    assert_int_equal(klease__budget_left_ms(&none), INT64_MAX);
    assert_int_equal(klease__budget_left_ms(NULL), INT64_MAX);
    /* A huge limit saturates instead of wrapping into the past. */
    klease__budget huge = klease__budget_start(INT64_MAX, NULL);
    assert_true(klease__budget_left_ms(&huge) > INT64_C(1) << 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_after_seconds_are_honoured_up_to_the_cap),
        cmocka_unit_test(test_retry_after_dates_are_capped_too),
        cmocka_unit_test(test_malformed_and_negative_retry_after_values_are_ignored),
        cmocka_unit_test(test_a_budget_counts_down_and_reports_under_a_millisecond_as_none),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
