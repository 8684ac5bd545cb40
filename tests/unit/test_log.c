/* Log plumbing: levels, truncation, and silence without a callback. */
#include "cmocka_wrap.h"

#include "core/log.h"

#include <string.h>

typedef struct captured {
    int calls;
    klease_log_level level;
    char line[2048];
} captured;

static void capture(void *user, klease_log_level level, const char *msg)
{
    captured *c = user;
    c->calls++;
    c->level = level;
    strncpy(c->line, msg, sizeof c->line - 1);
}

static void test_messages_reach_the_callback_with_their_level(void **state)
{
    (void)state;
    captured c = {0};
    klease__logger lg = {capture, &c, KLEASE_LOG_DEBUG};
    klease__log(&lg, KLEASE_LOG_WARN, "renew failed: %s (%d)", "timeout", 3);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.level, KLEASE_LOG_WARN);
    assert_string_equal(c.line, "renew failed: timeout (3)");
}

static void test_messages_below_the_minimum_level_are_dropped(void **state)
{
    (void)state;
    captured c = {0};
    klease__logger lg = {capture, &c, KLEASE_LOG_INFO};
    klease__log(&lg, KLEASE_LOG_DEBUG, "noise");
    assert_int_equal(c.calls, 0);
    klease__log(&lg, KLEASE_LOG_ERROR, "bad");
    assert_int_equal(c.calls, 1);
}

static void test_no_callback_or_no_logger_is_silent(void **state)
{
    (void)state;
    klease__logger lg = {NULL, NULL, KLEASE_LOG_DEBUG};
    klease__log(&lg, KLEASE_LOG_ERROR, "nobody hears this");
    klease__log(NULL, KLEASE_LOG_ERROR, "nor this");
}

static void test_long_lines_are_truncated_and_marked(void **state)
{
    (void)state;
    captured c = {0};
    klease__logger lg = {capture, &c, KLEASE_LOG_DEBUG};
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    klease__log(&lg, KLEASE_LOG_INFO, "%s", big);
    assert_int_equal(strlen(c.line), KLEASE__LOG_LINE_MAX - 1);
    assert_string_equal(c.line + strlen(c.line) - 3, "...");
}

static void test_level_names_are_stable(void **state)
{
    (void)state;
    assert_string_equal(klease_log_level_name(KLEASE_LOG_DEBUG), "debug");
    assert_string_equal(klease_log_level_name(KLEASE_LOG_INFO), "info");
    assert_string_equal(klease_log_level_name(KLEASE_LOG_WARN), "warn");
    assert_string_equal(klease_log_level_name(KLEASE_LOG_ERROR), "error");
    assert_string_equal(klease_log_level_name((klease_log_level)42), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages_reach_the_callback_with_their_level),
        cmocka_unit_test(test_messages_below_the_minimum_level_are_dropped),
        cmocka_unit_test(test_no_callback_or_no_logger_is_silent),
        cmocka_unit_test(test_long_lines_are_truncated_and_marked),
        cmocka_unit_test(test_level_names_are_stable),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
