/* MicroTime: exact formatting and the server's strict parsing rules. */
#include "cmocka_wrap.h"

#include "core/clock.h"
#include "core/microtime.h"

#include <string.h>

#define S KLEASE__NS_PER_S

static int64_t parse_ok(const char *s)
{
    int64_t ns = -1;
    klease_error err;
    klease_status st = klease__microtime_parse(s, strlen(s), &ns, &err);
    if (st != KLEASE_OK)
        fail_msg("expected \"%s\" to parse: %s", s, err.message);
    return ns;
}

static void assert_rejected(const char *s)
{
    int64_t ns = 42;
    klease_error err;
    klease_status st = klease__microtime_parse(s, strlen(s), &ns, &err);
    if (st != KLEASE_EPROTO)
        fail_msg("expected \"%s\" to be rejected, got status %d", s, st);
    assert_int_equal(err.status, KLEASE_EPROTO);
    assert_true(strlen(err.message) > 0);
    assert_int_equal(ns, 42); /* output untouched on failure */
}

static void format_ok(int64_t ns, const char *want)
{
    char buf[KLEASE__MICROTIME_LEN + 1];
    assert_int_equal(klease__microtime_format(ns, buf), KLEASE_OK);
    assert_string_equal(buf, want);
}

static void test_formats_exactly_six_fraction_digits_in_utc(void **state)
{
    (void)state;
    /* 2026-11-23T18:38:50.700544Z, as in wire capture 02. */
    int64_t ns = INT64_C(1795459130) * S + 700544000 + 999; /* sub-µs digits are truncated */
    format_ok(ns, "2026-11-23T18:38:50.700544Z");
    format_ok(0, "1970-01-01T00:00:00.000000Z");
}

static void test_parses_what_the_server_returns(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2026-11-23T18:38:50.700544Z"), INT64_C(1795459130) * S + 700544000);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.000000Z"), 0);
}

static void test_accepts_and_converts_a_zone_offset(void **state)
{
    (void)state;
    /* Capture 15-5: the server turns +02:00 into 16:30 UTC. */
    assert_int_equal(parse_ok("2026-11-23T18:30:00.123456+02:00"),
                     parse_ok("2026-11-23T16:30:00.123456Z"));
    assert_int_equal(parse_ok("2026-11-23T18:30:00.000000-05:30"),
                     parse_ok("2026-11-24T00:00:00.000000Z"));
}

static void test_rejects_every_form_the_server_rejects(void **state)
{
    (void)state;
    /* Captures 15-1..15-7, 16, 17, 17b. */
    assert_rejected("not-a-time");
    assert_rejected("2026-11-23T18:30:00Z");
    assert_rejected("2026-11-23T18:30:00.123Z");
    assert_rejected("2026-11-23T18:30:00.123456789Z");
    assert_rejected("2026-11-23 18:30:00.123456Z");
    assert_rejected("2026-11-23T18:30:00.123456z");
}

static void test_rejects_malformed_and_out_of_range_fields(void **state)
{
    (void)state;
    assert_rejected("");
    assert_rejected("2026-11-23T18:30:00.123456");      /* no zone */
    assert_rejected("2026-11-23T18:30:00.123456Z ");    /* trailing space */
    assert_rejected("2026-11-23T18:30:00.1234567Z");    /* seven digits */
    assert_rejected("2026-13-01T00:00:00.000000Z");     /* month 13 */
    assert_rejected("2026-00-01T00:00:00.000000Z");     /* month 0 */
    assert_rejected("2026-04-31T00:00:00.000000Z");     /* April has 30 days */
    assert_rejected("2026-11-23T24:00:00.000000Z");     /* hour 24 */
    assert_rejected("2026-11-23T23:60:00.000000Z");     /* minute 60 */
    assert_rejected("2026-11-23T23:59:60.000000Z");     /* leap second: Go rejects it */
    assert_rejected("2026-11-23T18:30:00.123456+2:00"); /* short offset */
    assert_rejected("2026-11-23T18:30:00.123456+02:60");
    assert_rejected("26-11-23T18:30:00.123456Z");
    assert_rejected("+2026-11-23T18:30:00.123456Z");
    assert_rejected("2026-11-2xT18:30:00.123456Z");
}

static void test_leap_days_follow_the_gregorian_rules(void **state)
{
    (void)state;
    parse_ok("2024-02-29T12:00:00.000000Z");
    parse_ok("2000-02-29T12:00:00.000000Z");
    assert_rejected("2023-02-29T12:00:00.000000Z");
    assert_rejected("1900-02-29T12:00:00.000000Z");
    assert_rejected("2024-02-30T12:00:00.000000Z");
    assert_int_equal(parse_ok("2024-03-01T00:00:00.000000Z") -
                         parse_ok("2024-02-28T00:00:00.000000Z"),
                     2 * 86400 * S);
}

static void test_year_boundary_rolls_over_by_one_microsecond(void **state)
{
    (void)state;
    int64_t last = parse_ok("2026-12-31T23:59:59.999999Z");
    format_ok(last + 1000, "2027-01-01T00:00:00.000000Z");
    format_ok(last, "2026-12-31T23:59:59.999999Z");
}

static void test_instants_before_1970_keep_a_positive_fraction(void **state)
{
    (void)state;
    format_ok(-1000, "1969-12-31T23:59:59.999999Z");
    assert_int_equal(parse_ok("1969-12-31T23:59:59.999999Z"), -1000);
}

static void test_extremes_of_the_int64_range_format_and_beyond_is_rejected(void **state)
{
    (void)state;
    format_ok(INT64_MAX, "2262-04-11T23:47:16.854775Z");
    format_ok(INT64_MIN, "1677-09-21T00:12:43.145224Z");
    /* Valid MicroTimes that do not fit in int64_t nanoseconds are refused,
     * not wrapped around into some other instant. */
    assert_rejected("9999-12-31T23:59:59.999999Z");
    assert_rejected("0000-01-01T00:00:00.000000Z");
    assert_rejected("2262-04-12T00:00:00.000000Z");
}

static void test_round_trip_over_many_instants(void **state)
{
    (void)state;
    char buf[KLEASE__MICROTIME_LEN + 1];
    /* Walk across ~200 years in irregular steps, hitting many dates. */
    for (int64_t ns = INT64_C(-1000000000) * S; ns < INT64_C(5000000000) * S;
         ns += INT64_C(7777777) * S + 123456000) {
        assert_int_equal(klease__microtime_format(ns, buf), KLEASE_OK);
        assert_int_equal(parse_ok(buf), ns);
    }
}

static void test_parse_reads_only_len_bytes(void **state)
{
    (void)state;
    const char *s = "2026-11-23T18:38:50.700544Zgarbage";
    int64_t ns;
    assert_int_equal(klease__microtime_parse(s, KLEASE__MICROTIME_LEN, &ns, NULL), KLEASE_OK);
    assert_int_equal(klease__microtime_parse(s, strlen(s), &ns, NULL), KLEASE_EPROTO);
    assert_int_equal(klease__microtime_parse(NULL, 0, &ns, NULL), KLEASE_EPROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats_exactly_six_fraction_digits_in_utc),
        cmocka_unit_test(test_parses_what_the_server_returns),
        cmocka_unit_test(test_accepts_and_converts_a_zone_offset),
        cmocka_unit_test(test_rejects_every_form_the_server_rejects),
        cmocka_unit_test(test_rejects_malformed_and_out_of_range_fields),
        cmocka_unit_test(test_leap_days_follow_the_gregorian_rules),
        cmocka_unit_test(test_year_boundary_rolls_over_by_one_microsecond),
        cmocka_unit_test(test_instants_before_1970_keep_a_positive_fraction),
        cmocka_unit_test(test_extremes_of_the_int64_range_format_and_beyond_is_rejected),
        cmocka_unit_test(test_round_trip_over_many_instants),
        cmocka_unit_test(test_parse_reads_only_len_bytes),
    };
    return cmocka_run_group_tests_name("microtime", tests, NULL, NULL);
}
