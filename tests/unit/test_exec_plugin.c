/* Exec credential plugins, run for real as small /bin/sh scripts. Timeouts
 * are lowered to 300 ms so the hang tests finish quickly; the scripts that
 * hang sleep 30 s, so passing proves the plugin was killed. */
#include "cmocka_wrap.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "config/config.h"
#include "config/exec_plugin.h"
#include "kube_test_util.h"

#include <time.h>

static int setup(void **state)
{
    (void)state;
    clean_kube_env();
    unsetenv("PLUGIN_API_VERSION");
    unsetenv("PLUGIN_COUNTER");
    unsetenv("PLUGIN_EXPIRY");
    unsetenv("PLUGIN_CAPTURE");
    unsetenv("PLUGIN_MODE");
    klease__exec_plugin_set_timeout_ms(0);
    return 0;
}

/* /bin/sh runs the script, so the tests do not depend on its mode bits.
 * `extra` holds up to two more arguments. */
static klease__exec_config *plugin_args(const char *script, const char *api, char **env,
                                        const char *extra0, const char *extra1)
{
    char *args[] = {(char *)script, (char *)extra0, (char *)extra1, NULL};
    char *no_env[] = {NULL};
    klease__exec_config x = {
        .command = "/bin/sh",
        .args = args,
        .env = env != NULL ? env : no_env,
        .api_version = (char *)(api != NULL ? api : KLEASE__EXEC_API_V1),
        .install_hint = "Install example-auth: https://example.com/install",
    };
    klease__exec_config *c = klease__exec_config_dup(&x);
    assert_non_null(c);
    return c;
}

static klease__exec_config *plugin(const char *script, const char *api, char **env)
{
    return plugin_args(script, api, env, NULL, NULL);
}

static klease_status run(const klease__exec_config *x, klease__exec_result *r, klease_error *err)
{
    char *info = NULL;
    assert_int_equal(klease__exec_info_json(x, NULL, &info), KLEASE_OK);
    *r = (klease__exec_result){.expiry_ns = INT64_MAX};
    klease_status st = klease__exec_plugin_run(x, info, NULL, NULL, r, err);
    klease__free(info);
    return st;
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle) == NULL)
        fail_msg("expected \"%s\" in \"%s\"", needle, haystack);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_plugin_token_is_returned(void **state)
{
    (void)state;
    klease__exec_config *x = plugin(EXEC_FIXTURE("token.sh"), NULL, NULL);
    klease__exec_result r;
    klease_error err;
    assert_int_equal(run(x, &r, &err), KLEASE_OK);
    assert_string_equal(r.token, "exec-token-1");
    assert_null(r.cert_pem);
    assert_int_equal(r.expiry_ns, INT64_MAX); /* no expirationTimestamp: no expiry */
    klease__exec_result_clear(&r);
    /* A bare command name is found through $PATH. */
    klease__free(x->command);
    x->command = klease__strdup("sh");
    assert_int_equal(run(x, &r, &err), KLEASE_OK);
    assert_string_equal(r.token, "exec-token-1");
    klease__exec_result_clear(&r);
    klease__exec_config_free(x);
}

static void test_plugin_client_certificate_is_returned_with_its_expiry(void **state)
{
    (void)state;
    klease__exec_config *x = plugin(EXEC_FIXTURE("cert.sh"), NULL, NULL);
    klease__exec_result r;
    klease_error err;
    assert_int_equal(run(x, &r, &err), KLEASE_OK);
    assert_null(r.token);
    assert_string_equal(r.cert_pem,
                        "-----BEGIN CERTIFICATE-----\nZXhlYw==\n-----END CERTIFICATE-----\n");
    assert_int_equal(r.cert_pem_len, strlen(r.cert_pem));
    assert_string_equal(r.key_pem,
                        "-----BEGIN PRIVATE KEY-----\nZXhlYw==\n-----END PRIVATE KEY-----\n");
    /* 2030-01-01T00:00:00.5Z */
    assert_int_equal(r.expiry_ns, INT64_C(1893456000) * KLEASE__NS_PER_S + 500000000);
    klease__exec_result_clear(&r);
    klease__exec_config_free(x);
}

static void test_v1beta1_plugin_is_supported(void **state)
{
    (void)state;
    setenv("PLUGIN_API_VERSION", KLEASE__EXEC_API_V1BETA1, 1);
    setenv("PLUGIN_EXPIRY", "2031-02-03T04:05:06Z", 1);
    klease__exec_config *x = plugin(EXEC_FIXTURE("token.sh"), KLEASE__EXEC_API_V1BETA1, NULL);
    klease__exec_result r;
    klease_error err;
    assert_int_equal(run(x, &r, &err), KLEASE_OK);
    assert_string_equal(r.token, "exec-token-1");
    assert_int_equal(r.expiry_ns, INT64_C(1927857906) * KLEASE__NS_PER_S);
    klease__exec_result_clear(&r);
    klease__exec_config_free(x);
}

static void test_api_version_mismatch_is_an_auth_error(void **state)
{
    (void)state;
    setenv("PLUGIN_API_VERSION", KLEASE__EXEC_API_V1BETA1, 1);
    klease__exec_config *x = plugin(EXEC_FIXTURE("token.sh"), NULL, NULL);
    klease__exec_result r;
    klease_error err;
    assert_int_equal(run(x, &r, &err), KLEASE_EAUTH);
    assert_contains(err.message, "returned apiVersion \"client.authentication.k8s.io/v1beta1\"");
    assert_contains(err.message, "Install example-auth");
    klease__exec_config_free(x);
}

static void test_plugin_receives_args_env_and_exec_info(void **state)
{
    (void)state;
    char dir[256], capture[300];
    make_temp_dir(dir, sizeof dir);
    snprintf(capture, sizeof capture, "%s/capture", dir);
    setenv("PLUGIN_CAPTURE", capture, 1);
    setenv("PLUGIN_MODE", "from-host", 1); /* overridden by the plugin's env */
    char *env[] = {"PLUGIN_MODE=from-config", NULL};
    klease__exec_config *x =
        plugin_args(EXEC_FIXTURE("token.sh"), NULL, env, "--region", "eu west");
    x->provide_cluster_info = true;

    klease__kube_config cfg = {.server = "https://api.example.com:6443",
                               .ca_pem = "PEM",
                               .ca_pem_len = 3,
                               .tls_server_name = "api.internal"};
    char *info = NULL;
    assert_int_equal(klease__exec_info_json(x, &cfg, &info), KLEASE_OK);
    klease__exec_result r = {.expiry_ns = INT64_MAX};
    klease_error err;
    assert_int_equal(klease__exec_plugin_run(x, info, NULL, NULL, &r, &err), KLEASE_OK);
    klease__free(info);

    FILE *f = fopen(capture, "r");
    assert_non_null(f);
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    /* No shell parses the arguments: the space stays inside one. */
    assert_contains(text, "args=--region eu west\n");
    assert_contains(text, "mode=from-config\n");
    assert_contains(text, "\"kind\":\"ExecCredential\"");
    assert_contains(text, "\"apiVersion\":\"client.authentication.k8s.io/v1\"");
    assert_contains(text, "\"interactive\":false");
    assert_contains(text, "\"server\":\"https://api.example.com:6443\"");
    assert_contains(text, "\"certificate-authority-data\":\"UEVN\"");
    assert_contains(text, "\"tls-server-name\":\"api.internal\"");
    klease__exec_result_clear(&r);
    klease__exec_config_free(x);
    rm_tree(dir);
}

static void test_exec_info_has_no_cluster_unless_asked(void **state)
{
    (void)state;
    klease__exec_config *x = plugin(EXEC_FIXTURE("token.sh"), NULL, NULL);
    klease__kube_config cfg = {.server = "https://api.example.com"};
    char *info = NULL;
    assert_int_equal(klease__exec_info_json(x, &cfg, &info), KLEASE_OK);
    assert_string_equal(info,
                        "{\"kind\":\"ExecCredential\",\"apiVersion\":"
                        "\"client.authentication.k8s.io/v1\",\"spec\":{\"interactive\":false}}");
    klease__free(info);
    klease__exec_config_free(x);
}

static void test_failing_plugin_reports_status_stderr_and_install_hint(void **state)
{
    (void)state;
    klease__exec_config *x = plugin(EXEC_FIXTURE("fail.sh"), NULL, NULL);
    klease__exec_result r;
    klease_error err;
    assert_int_equal(run(x, &r, &err), KLEASE_EAUTH);
    assert_int_equal(err.status, KLEASE_EAUTH);
    assert_contains(err.message, "exec plugin \"/bin/sh\": exited with status 3");
    assert_contains(err.message, "you must log in first");
    assert_contains(err.message, "Install example-auth: https://example.com/install");
    klease__exec_config_free(x);
}

static void test_hanging_plugin_is_killed_after_the_timeout(void **state)
{
    (void)state;
    klease__exec_plugin_set_timeout_ms(300);
    const char *scripts[] = {EXEC_FIXTURE("hang.sh"), EXEC_FIXTURE("silent_hang.sh")};
    for (size_t i = 0; i < 2; i++) {
        klease__exec_config *x = plugin(scripts[i], NULL, NULL);
        klease__exec_result r;
        klease_error err;
        int64_t start = now_ms();
        assert_int_equal(run(x, &r, &err), KLEASE_EAUTH);
        int64_t took = now_ms() - start;
        assert_contains(err.message, "killed after 300 ms");
        assert_contains(err.message, "Install example-auth");
        /* Well under the script's 30 s sleep, with room for valgrind. */
        assert_true(took >= 290 && took < 10000);
        klease__exec_config_free(x);
    }
}

/* Inside a call, the call's budget and cancel token bound the plugin too:
 * the shorter of the two limits fires and the message names it. */
static void test_a_plugin_stops_when_the_calls_budget_ends_or_is_cancelled(void **state)
{
    (void)state;
    klease__exec_config *x = plugin(EXEC_FIXTURE("hang.sh"), NULL, NULL);
    char *info = NULL;
    assert_int_equal(klease__exec_info_json(x, NULL, &info), KLEASE_OK);
    klease__exec_result r = {.expiry_ns = INT64_MAX};
    klease_error err;
    klease__budget b = klease__budget_start(200, NULL);
    int64_t start = now_ms();
    assert_int_equal(klease__exec_plugin_run(x, info, NULL, &b, &r, &err), KLEASE_ETIMEDOUT);
    assert_true(now_ms() - start < 10000); /* the script sleeps 30 s */
    assert_contains(err.message, "the call's time limit of 200 ms ran out");

    klease__cancel cancel;
    assert_int_equal(klease__cancel_init(&cancel), 0);
    klease__cancel_fire(&cancel);
    b = klease__budget_start(0, &cancel);
    start = now_ms();
    assert_int_equal(klease__exec_plugin_run(x, info, NULL, &b, &r, &err), KLEASE_ECLOSED);
    assert_true(now_ms() - start < 10000);
    assert_contains(err.message, "cancelled");
    klease__cancel_destroy(&cancel);
    klease__free(info);
    klease__exec_config_free(x);
}

static void test_huge_output_is_capped_and_the_plugin_killed(void **state)
{
    (void)state;
    klease__exec_config *x = plugin(EXEC_FIXTURE("huge.sh"), NULL, NULL);
    klease__exec_result r;
    klease_error err;
    assert_int_equal(run(x, &r, &err), KLEASE_EAUTH);
    assert_contains(err.message, "killed for printing more than 1048576 bytes");
    klease__exec_config_free(x);
}

static void test_bad_json_is_an_auth_error_with_the_hint(void **state)
{
    (void)state;
    klease__exec_config *x = plugin(EXEC_FIXTURE("bad_json.sh"), NULL, NULL);
    klease__exec_result r;
    klease_error err;
    assert_int_equal(run(x, &r, &err), KLEASE_EAUTH);
    assert_contains(err.message, "bad output: the output is not JSON");
    assert_contains(err.message, "Install example-auth");
    klease__exec_config_free(x);
}

static void test_missing_command_says_not_installed_with_the_hint(void **state)
{
    (void)state;
    klease__exec_config *x = plugin("unused", NULL, NULL);
    klease__free(x->command);
    x->command = klease__strdup("klease-test-no-such-plugin");
    klease__exec_result r;
    klease_error err;
    assert_int_equal(run(x, &r, &err), KLEASE_EAUTH);
    assert_contains(err.message, "\"klease-test-no-such-plugin\": executable not found");
    assert_contains(err.message, "Install example-auth");
    klease__exec_config_free(x);
}

static void test_command_from_a_kubeconfig_runs_relative_to_it(void **state)
{
    (void)state;
    klease__config_request req = {.kubeconfig = KC_FIXTURE("exec_v1.yaml")};
    klease__kube_config *cfg = NULL;
    klease_error err;
    assert_int_equal(klease__kube_config_load(&cfg, &req, NULL, &err), KLEASE_OK);
    char *info = NULL;
    assert_int_equal(klease__exec_info_json(cfg->exec, cfg, &info), KLEASE_OK);
    klease__exec_result r = {.expiry_ns = INT64_MAX};
    if (klease__exec_plugin_run(cfg->exec, info, NULL, NULL, &r, &err) != KLEASE_OK)
        fail_msg("%s", err.message);
    assert_string_equal(r.token, "exec-token-1");
    klease__exec_result_clear(&r);
    klease__free(info);
    klease__kube_config_free(cfg);
}

static klease_status parse(const char *json, klease__exec_result *r, klease_error *err)
{
    *r = (klease__exec_result){.expiry_ns = INT64_MAX};
    return klease__exec_credential_parse(json, strlen(json), KLEASE__EXEC_API_V1, r, err);
}

static void test_exec_credential_parser_rejects_incomplete_results(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *expect;
    } bad[] = {
        {"[1]", "not a JSON object"},
        {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\"}",
         "has no status"},
        {"{\"kind\":\"Secret\",\"apiVersion\":\"client.authentication.k8s.io/v1\",\"status\":{}}",
         "not an ExecCredential"},
        {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
         "\"status\":{}}",
         "neither a token nor a client certificate"},
        {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
         "\"status\":{\"clientCertificateData\":\"x\"}}",
         "only one of clientCertificateData and clientKeyData"},
        {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
         "\"status\":{\"token\":42}}",
         "not a string"},
        {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
         "\"status\":{\"token\":\"t\",\"expirationTimestamp\":\"tomorrow\"}}",
         "status.expirationTimestamp"},
        {"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
         "\"status\":{\"token\":\"t\",\"expirationTimestamp\":\"2030-01-01T00:00:00.1234567890Z\"}"
         "}",
         "fraction digits"},
        {"{\"kind\":\"ExecCredential\"", "not JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        klease__exec_result r;
        klease_error err;
        klease_status st = parse(bad[i].json, &r, &err);
        if (st != KLEASE_EAUTH)
            fail_msg("case %zu: status %d", i, st);
        assert_contains(err.message, bad[i].expect);
        assert_null(r.token);
    }
}

static void test_exec_credential_token_with_a_line_break_is_refused(void **state)
{
    (void)state;
    klease__exec_result r;
    klease_error err;
    assert_int_equal(parse("{\"kind\":\"ExecCredential\",\"apiVersion\":\"" KLEASE__EXEC_API_V1
                           "\",\"status\":{\"token\":\"abc\\r\\nX-Injected: yes\"}}",
                           &r, &err),
                     KLEASE_EAUTH);
    assert_contains(err.message, "status.token contains a line break");
    assert_null(r.token);
}

static void test_exec_credential_parser_accepts_token_and_cert_together(void **state)
{
    (void)state;
    klease__exec_result r;
    klease_error err;
    assert_int_equal(
        parse("{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
              "\"status\":{\"token\":\"t\",\"clientCertificateData\":\"c\",\"clientKeyData\":\"k\","
              "\"expirationTimestamp\":\"2030-01-01T01:00:00+01:00\"}}",
              &r, &err),
        KLEASE_OK);
    assert_string_equal(r.token, "t");
    assert_string_equal(r.cert_pem, "c");
    assert_string_equal(r.key_pem, "k");
    assert_int_equal(r.expiry_ns, INT64_C(1893456000) * KLEASE__NS_PER_S);
    klease__exec_result_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_plugin_token_is_returned, setup),
        cmocka_unit_test_setup(test_plugin_client_certificate_is_returned_with_its_expiry, setup),
        cmocka_unit_test_setup(test_v1beta1_plugin_is_supported, setup),
        cmocka_unit_test_setup(test_api_version_mismatch_is_an_auth_error, setup),
        cmocka_unit_test_setup(test_plugin_receives_args_env_and_exec_info, setup),
        cmocka_unit_test_setup(test_exec_info_has_no_cluster_unless_asked, setup),
        cmocka_unit_test_setup(test_failing_plugin_reports_status_stderr_and_install_hint, setup),
        cmocka_unit_test_setup(test_hanging_plugin_is_killed_after_the_timeout, setup),
        cmocka_unit_test_setup(test_a_plugin_stops_when_the_calls_budget_ends_or_is_cancelled,
                               setup),
        cmocka_unit_test_setup(test_huge_output_is_capped_and_the_plugin_killed, setup),
        cmocka_unit_test_setup(test_bad_json_is_an_auth_error_with_the_hint, setup),
        cmocka_unit_test_setup(test_missing_command_says_not_installed_with_the_hint, setup),
        cmocka_unit_test_setup(test_command_from_a_kubeconfig_runs_relative_to_it, setup),
        cmocka_unit_test_setup(test_exec_credential_parser_rejects_incomplete_results, setup),
        cmocka_unit_test_setup(test_exec_credential_parser_accepts_token_and_cert_together, setup),
        cmocka_unit_test_setup(test_exec_credential_token_with_a_line_break_is_refused, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
