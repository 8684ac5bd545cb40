/* klease_metrics_render() over real leases on the simulator: the text is
 * valid Prometheus exposition format (each family's HELP and TYPE once,
 * before its samples), the values say who leads and what was counted, and a
 * buffer that is too small is reported with the size needed. */
#include "cmocka_wrap.h"

#include "itest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS "default"

typedef itest_env env;

static klease_manager *manager(env *e, const char *name)
{
    return itest_manager(e->client, NS, name, true);
}

static void claim(klease_manager *m, const char *who)
{
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    klease_claim c;
    klease_error err;
    if (klease_ensure_claimed(m, who, &p, &c, &err) != KLEASE_OK)
        fail_msg("ensure_claimed(%s): %s", who, err.message);
}

static char *render(const klease_metrics_lease *leases, size_t n)
{
    size_t len = 0;
    klease_error err;
    klease_status st = klease_metrics_render(leases, n, NULL, 0, &len, &err);
    assert_int_equal(st, KLEASE_EINVAL); /* nothing fits in no buffer */
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    size_t len2 = 0;
    if (klease_metrics_render(leases, n, buf, len + 1, &len2, &err) != KLEASE_OK)
        fail_msg("metrics_render: %s", err.message);
    assert_int_equal(len2, len);
    assert_int_equal(strlen(buf), len);
    return buf;
}

/* Checks the exposition format line by line: comments are HELP or TYPE of a
 * family not seen before, in that order; a sample belongs to the family of
 * the last TYPE and has one name label and a number. */
static void assert_valid_exposition(const char *text)
{
    char family[128] = "";
    char seen[4096] = " ";
    const char *p = text;
    assert_true(*p != '\0');
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl); /* every line ends with a newline */
        char line[1024];
        size_t n = (size_t)(nl - p);
        assert_true(n < sizeof line);
        memcpy(line, p, n);
        line[n] = '\0';
        char name[128], rest[512];
        if (strncmp(line, "# HELP ", 7) == 0) {
            assert_int_equal(sscanf(line + 7, "%127s %511[^\n]", name, rest), 2);
            char key[140];
            snprintf(key, sizeof key, " %s ", name);
            if (strstr(seen, key) != NULL)
                fail_msg("family %s appears twice", name);
            strncat(seen, name, sizeof seen - strlen(seen) - 2);
            strcat(seen, " ");
            snprintf(family, sizeof family, "%s", name);
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            assert_int_equal(sscanf(line + 7, "%127s %511s", name, rest), 2);
            assert_string_equal(name, family); /* TYPE right after its HELP */
            assert_true(strcmp(rest, "gauge") == 0 || strcmp(rest, "counter") == 0);
        } else {
            char label[256];
            double v;
            char extra;
            if (sscanf(line, "%127[a-z_]{name=\"%255[^\"]\"} %lf%c", name, label, &v, &extra) != 3)
                fail_msg("not a sample line: '%s'", line);
            assert_string_equal(name, family);
        }
        p = nl + 1;
    }
}

/* The value of family{name="default/lease"}, or -1 when absent. */
static double value(const char *text, const char *family, const char *lease)
{
    char key[256];
    snprintf(key, sizeof key, "\n%s{name=\"" NS "/%s\"} ", family, lease);
    const char *at = strstr(text, key);
    return at != NULL ? strtod(at + strlen(key), NULL) : -1;
}

static void test_metrics_say_who_leads_and_count_calls(void **state)
{
    env *e = *state;
    klease_manager *ours = manager(e, "ours");
    klease_manager *theirs = manager(e, "theirs");
    claim(theirs, "someone-else");

    klease_elector *el = NULL;
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    klease_error err;
    assert_int_equal(klease_spawn(&el, ours, "me", &p, NULL, &err), KLEASE_OK);
    for (int i = 0; i < 500 && !klease_elector_is_leader(el); i++)
        itest_sleep_ms(10); /* one round trip on loopback; 5 s for slow builds */
    assert_true(klease_elector_is_leader(el));

    klease_metrics_lease leases[] = {{ours, el, NULL}, {theirs, NULL, "me"}};
    char *text = render(leases, 2);
    assert_valid_exposition(text);
    assert_true(value(text, "leader_election_master_status", "ours") == 1);
    assert_true(value(text, "leader_election_master_status", "theirs") == 0);
    assert_true(value(text, "klease_lease_acquisitions_total", "ours") == 1);
    assert_true(value(text, "klease_lease_acquisitions_total", "theirs") == 1); /* someone-else's */
    assert_true(value(text, "klease_lease_time_left_seconds", "ours") > 1);
    assert_true(value(text, "klease_lease_time_left_seconds", "ours") <= 30);
    assert_true(value(text, "klease_lease_time_left_seconds", "theirs") == 0);
    assert_true(value(text, "klease_lease_transitions", "ours") == 1);
    assert_true(value(text, "klease_elector_healthy", "ours") == 1);
    assert_true(value(text, "klease_elector_healthy", "theirs") == -1);    /* electors only */
    assert_true(value(text, "klease_lease_api_calls_total", "ours") >= 2); /* create + apply */
    free(text);

    /* After the elector vacates, the manager alone says we no longer lead. */
    assert_int_equal(klease_elector_close(el, &err), KLEASE_OK);
    klease_metrics_lease after[] = {{ours, NULL, "me"}};
    text = render(after, 1);
    assert_valid_exposition(text);
    assert_true(value(text, "leader_election_master_status", "ours") == 0);
    assert_true(value(text, "klease_lease_vacates_total", "ours") == 1);
    assert_null(strstr(text, "klease_elector_healthy")); /* no elector, no family */
    free(text);

    klease_manager_free(ours);
    klease_manager_free(theirs);
}

static void test_metrics_report_a_short_buffer_with_the_size_needed(void **state)
{
    env *e = *state;
    klease_manager *m = manager(e, "short");
    claim(m, "me");
    klease_metrics_lease one[] = {{m, NULL, "me"}};
    char *full = render(one, 1);
    size_t need = strlen(full);

    char small[64];
    size_t len = 0;
    klease_error err;
    assert_int_equal(klease_metrics_render(one, 1, small, sizeof small, &len, &err), KLEASE_EINVAL);
    assert_int_equal(len, need);
    assert_non_null(strstr(err.message, "bytes needed"));
    assert_int_equal(strlen(small), sizeof small - 1); /* cut, but terminated */
    assert_memory_equal(small, full, sizeof small - 1);
    free(full);
    klease_manager_free(m);
}

static void test_metrics_refuse_a_lease_without_manager(void **state)
{
    (void)state;
    klease_metrics_lease bad[] = {{NULL, NULL, "me"}};
    char buf[256];
    size_t len = 0;
    klease_error err;
    assert_int_equal(klease_metrics_render(bad, 1, buf, sizeof buf, &len, &err), KLEASE_EINVAL);
    assert_non_null(strstr(err.message, "no manager"));
    assert_int_equal(klease_metrics_render(NULL, 0, buf, sizeof buf, &len, &err), KLEASE_OK);
    assert_int_equal(len, 0); /* no lease, no family */
    assert_string_equal(buf, "");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, itest_env_setup, itest_env_teardown)
    const struct CMUnitTest tests[] = {
        T(test_metrics_say_who_leads_and_count_calls),
        T(test_metrics_report_a_short_buffer_with_the_size_needed),
        T(test_metrics_refuse_a_lease_without_manager),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
