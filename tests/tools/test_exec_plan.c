/* klease exec's stop schedule (tools/klease/exec_plan.c): the defaults each
 * duration gets, the combinations refused and why, and the stop times. */
#include "cmocka_wrap.h"

#include "cli.h"

#include <string.h>

#define MS 1000000LL

/* Options as main() leaves them: nothing given. */
static cli_opts none_given(void)
{
    cli_opts o;
    memset(&o, 0, sizeof o);
    o.duration_ms = o.grace_ms = o.kill_after_ms = o.margin_ms = o.request_timeout_ms = -1;
    return o;
}

static void test_no_flags_give_a_15s_lease_stopped_5s_before_its_end(void **state)
{
    (void)state;
    cli_opts o = none_given();
    char why[400] = "";
    assert_true(cli_exec_plan(&o, why, sizeof why));
    assert_int_equal(o.duration_ms, 15000);
    assert_int_equal(o.grace_ms, 10000);
    assert_int_equal(o.margin_ms, 5000);
    assert_int_equal(o.kill_after_ms, 3000);
    assert_int_equal(o.request_timeout_ms, 2500);
}

static void test_sigkill_lands_before_the_deadline_by_the_safety_slack_or_more(void **state)
{
    (void)state;
    static const int64_t durations[] = {3000, 5000, 6000, 15000, 30000, 3600000};
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        cli_opts o = none_given();
        o.duration_ms = durations[i];
        char why[400] = "";
        assert_true(cli_exec_plan(&o, why, sizeof why));
        int64_t deadline = 1000000 * MS;
        int64_t term = cli_exec_term_at(&o, deadline);
        assert_true(term < deadline);
        assert_true(cli_exec_kill_at(&o, term, deadline) <=
                    deadline - CLI_EXEC_SAFETY_SLACK_MS * MS);
        assert_true(o.margin_ms < o.grace_ms && o.grace_ms < o.duration_ms);
    }
}

static void test_defaults_follow_a_given_duration_and_margin(void **state)
{
    (void)state;
    cli_opts o = none_given();
    o.duration_ms = 6000;
    char why[400] = "";
    assert_true(cli_exec_plan(&o, why, sizeof why));
    assert_int_equal(o.grace_ms, 4000);
    assert_int_equal(o.margin_ms, 2000);
    assert_int_equal(o.kill_after_ms, 1000); /* what fits: margin - slack */
    assert_int_equal(o.request_timeout_ms, 1000);

    o = none_given();
    o.margin_ms = 8000; /* with the default 10 s grace */
    assert_true(cli_exec_plan(&o, why, sizeof why));
    assert_int_equal(o.kill_after_ms, 3000);
}

static void test_schedules_that_cannot_keep_the_promise_are_refused_with_why(void **state)
{
    (void)state;
    struct {
        int64_t duration, grace, margin, kill_after;
        const char *why;
    } bad[] = {
        {15000, 15000, -1, -1, "--grace (15s) must be less than --duration (15s)"},
        {15500, 15000, -1, -1, "--grace (15s) must be less than --duration (15s)"},
        {-1, 4000, 4000, -1, "--margin (4s) must be less than --grace (4s)"},
        {-1, -1, 3000, 2500, "--kill-after (2500ms) plus the 1s safety slack must fit"},
        {2000, -1, -1, 600,
         "--kill-after (600ms) plus the 200ms safety slack must fit in "
         "--margin (666ms)"},
        {500, -1, -1, -1, "--duration must be at least 1s"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cli_opts o = none_given();
        o.duration_ms = bad[i].duration;
        o.grace_ms = bad[i].grace;
        o.margin_ms = bad[i].margin;
        o.kill_after_ms = bad[i].kill_after;
        char why[400] = "";
        assert_false(cli_exec_plan(&o, why, sizeof why));
        assert_non_null(strstr(why, bad[i].why));
    }
}

static void test_a_1s_lease_gets_a_schedule_with_a_tenth_of_it_as_slack(void **state)
{
    (void)state;
    cli_opts o = none_given();
    o.duration_ms = 1000;
    char why[400] = "";
    assert_true(cli_exec_plan(&o, why, sizeof why));
    assert_int_equal(cli_exec_slack_ms(&o), 100);
    assert_int_equal(o.grace_ms, 666);
    assert_int_equal(o.margin_ms, 333);
    assert_int_equal(o.kill_after_ms, 233);
    int64_t deadline = 1000000 * MS;
    int64_t term = cli_exec_term_at(&o, deadline);
    assert_true(cli_exec_kill_at(&o, term, deadline) <= deadline - 100 * MS);
}

static void test_margin_zero_stops_at_the_deadline_and_keeps_kill_after(void **state)
{
    (void)state;
    cli_opts o = none_given();
    o.margin_ms = 0;
    o.kill_after_ms = 10000;
    char why[400] = "";
    assert_true(cli_exec_plan(&o, why, sizeof why));
    int64_t deadline = 500000 * MS;
    assert_int_equal(cli_exec_term_at(&o, deadline), deadline);
    assert_int_equal(cli_exec_kill_at(&o, deadline, deadline), deadline + 10000 * MS);
}

static void test_an_early_stop_keeps_the_same_latest_sigkill(void **state)
{
    (void)state;
    cli_opts o = none_given();
    char why[400] = "";
    assert_true(cli_exec_plan(&o, why, sizeof why));
    int64_t deadline = 100000 * MS;
    /* The lease was taken from us 2 s before the deadline: SIGKILL 1 s before it. */
    assert_int_equal(cli_exec_kill_at(&o, deadline - 2000 * MS, deadline), deadline - 1000 * MS);
    /* Taken early: kill-after applies. */
    assert_int_equal(cli_exec_kill_at(&o, deadline - 9000 * MS, deadline), deadline - 6000 * MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_flags_give_a_15s_lease_stopped_5s_before_its_end),
        cmocka_unit_test(test_sigkill_lands_before_the_deadline_by_the_safety_slack_or_more),
        cmocka_unit_test(test_defaults_follow_a_given_duration_and_margin),
        cmocka_unit_test(test_schedules_that_cannot_keep_the_promise_are_refused_with_why),
        cmocka_unit_test(test_a_1s_lease_gets_a_schedule_with_a_tenth_of_it_as_slack),
        cmocka_unit_test(test_margin_zero_stops_at_the_deadline_and_keeps_kill_after),
        cmocka_unit_test(test_an_early_stop_keeps_the_same_latest_sigkill),
    };
    return cmocka_run_group_tests_name("exec_plan", tests, NULL, NULL);
}
