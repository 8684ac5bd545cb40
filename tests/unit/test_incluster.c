/* In-cluster config from a temporary service-account directory. */
#include "cmocka_wrap.h"

#include "core/alloc.h"
#include "config/config.h"
#include "config/incluster.h"
#include "config/credentials.h"
#include "kube_test_util.h"

typedef struct fixture {
    char dir[256];
} fixture;

static int setup(void **state)
{
    clean_kube_env();
    fixture *f = calloc(1, sizeof *f);
    make_temp_dir(f->dir, sizeof f->dir);
    write_file(f->dir, "token", "sa-token-1\n");
    write_file(f->dir, "ca.crt",
               "-----BEGIN CERTIFICATE-----\nY2x1c3Rlcg==\n-----END "
               "CERTIFICATE-----\n");
    write_file(f->dir, "namespace", "  kube-team\n");
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rm_tree(f->dir);
    free(f);
    return 0;
}

static klease__kube_config *load_ok(fixture *f, log_capture *lc)
{
    klease__config_request req = {.in_cluster_dir = f->dir};
    klease__logger lg = {capture_log, lc, KLEASE_LOG_DEBUG};
    klease__kube_config *cfg = NULL;
    klease_error err;
    if (klease__kube_config_load(&cfg, &req, &lg, &err) != KLEASE_OK)
        fail_msg("in-cluster load: %s", err.message);
    return cfg;
}

static void test_in_cluster_reads_service_env_token_ca_and_namespace(void **state)
{
    fixture *f = *state;
    log_capture lc = {0};
    klease__kube_config *cfg = load_ok(f, &lc);
    assert_string_equal(cfg->server, "https://10.96.0.1:443");
    char token_path[300];
    snprintf(token_path, sizeof token_path, "%s/token", f->dir);
    /* The token is referenced by path so rotation is picked up. */
    assert_string_equal(cfg->token_file, token_path);
    assert_null(cfg->token);
    assert_non_null(strstr(cfg->ca_pem, "Y2x1c3Rlcg=="));
    assert_int_equal(cfg->ca_pem_len, strlen(cfg->ca_pem));
    assert_string_equal(cfg->ns, "kube-team");
    assert_non_null(strstr(cfg->source, "in-cluster"));
    assert_int_equal(lc.warnings, 0);
    klease__kube_config_free(cfg);
}

static void test_ipv6_service_host_is_bracketed(void **state)
{
    fixture *f = *state;
    setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
    log_capture lc = {0};
    klease__kube_config *cfg = load_ok(f, &lc);
    assert_string_equal(cfg->server, "https://[fd00:10:96::1]:6443");
    klease__kube_config_free(cfg);
}

static void test_pod_namespace_env_wins_and_default_is_the_fallback(void **state)
{
    fixture *f = *state;
    log_capture lc = {0};
    setenv("POD_NAMESPACE", "from-env", 1);
    klease__kube_config *cfg = load_ok(f, &lc);
    assert_string_equal(cfg->ns, "from-env");
    klease__kube_config_free(cfg);
    unsetenv("POD_NAMESPACE");
    char path[300];
    snprintf(path, sizeof path, "%s/namespace", f->dir);
    assert_int_equal(unlink(path), 0);
    cfg = load_ok(f, &lc);
    assert_string_equal(cfg->ns, "default");
    klease__kube_config_free(cfg);
}

static void test_missing_ca_is_logged_and_the_system_store_is_used(void **state)
{
    fixture *f = *state;
    char path[300];
    snprintf(path, sizeof path, "%s/ca.crt", f->dir);
    assert_int_equal(unlink(path), 0);
    log_capture lc = {0};
    klease__kube_config *cfg = load_ok(f, &lc);
    assert_null(cfg->ca_pem);
    assert_int_equal(lc.warnings, 1);
    assert_non_null(strstr(lc.last, "ca.crt"));
    klease__kube_config_free(cfg);
}

static void test_missing_or_empty_token_is_a_config_error(void **state)
{
    fixture *f = *state;
    klease__kube_config *cfg = NULL;
    klease_error err;
    write_file(f->dir, "token", "");
    assert_int_equal(klease__incluster_load(&cfg, f->dir, NULL, &err), KLEASE_ECONFIG);
    assert_non_null(strstr(err.message, "/token: the file is empty"));
    char path[300];
    snprintf(path, sizeof path, "%s/token", f->dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(klease__incluster_load(&cfg, f->dir, NULL, &err), KLEASE_ECONFIG);
    assert_null(cfg);
    /* Without a token, in-cluster is not even tried by the default chain. */
    assert_false(klease__incluster_possible(f->dir));
}

static void test_a_service_account_token_with_a_line_break_is_refused(void **state)
{
    fixture *f = *state;
    klease__kube_config *cfg = NULL;
    klease_error err;
    write_file(f->dir, "token", "sa\r\nX-Injected: yes\n");
    assert_int_equal(klease__incluster_load(&cfg, f->dir, NULL, &err), KLEASE_ECONFIG);
    assert_null(cfg);
    assert_non_null(strstr(err.message, "/token: the token contains a line break"));
}

static void test_bad_or_missing_service_env_is_a_config_error(void **state)
{
    fixture *f = *state;
    klease__kube_config *cfg = NULL;
    klease_error err;
    setenv("KUBERNETES_SERVICE_PORT", "https", 1);
    assert_int_equal(klease__incluster_load(&cfg, f->dir, NULL, &err), KLEASE_ECONFIG);
    assert_non_null(strstr(err.message, "KUBERNETES_SERVICE_PORT \"https\""));
    setenv("KUBERNETES_SERVICE_PORT", "70000", 1);
    assert_int_equal(klease__incluster_load(&cfg, f->dir, NULL, &err), KLEASE_ECONFIG);
    unsetenv("KUBERNETES_SERVICE_HOST");
    assert_int_equal(klease__incluster_load(&cfg, f->dir, NULL, &err), KLEASE_ECONFIG);
    assert_non_null(strstr(err.message, "KUBERNETES_SERVICE_HOST"));
    assert_null(cfg);
}

static void test_kubeconfig_without_current_context_falls_back_to_in_cluster(void **state)
{
    fixture *f = *state;
    setenv("KUBECONFIG", KC_FIXTURE("no_current_context.yaml"), 1);
    log_capture lc = {0};
    klease__kube_config *cfg = load_ok(f, &lc);
    assert_string_equal(cfg->server, "https://10.96.0.1:443");
    klease__kube_config_free(cfg);
    /* A kubeconfig that picks a context wins over in-cluster. */
    setenv("KUBECONFIG", KC_FIXTURE("merge_b.yaml"), 1);
    cfg = load_ok(f, &lc);
    assert_string_equal(cfg->server, "https://b.example.com:6443");
    klease__kube_config_free(cfg);
}

static void test_rotated_service_account_token_is_picked_up(void **state)
{
    fixture *f = *state;
    log_capture lc = {0};
    klease__kube_config *cfg = load_ok(f, &lc);
    klease__credentials *cr = NULL;
    klease_error err;
    assert_int_equal(klease__credentials_new(&cr, cfg, klease__clock_system(), NULL, &err),
                     KLEASE_OK);
    klease__auth a1 = {0}, a2 = {0};
    assert_int_equal(klease__credentials_get(cr, NULL, &a1, &err), KLEASE_OK);
    assert_string_equal(a1.bearer_token, "sa-token-1");
    /* The kubelet swaps the projected volume's ..data symlink; a rename
     * over the file changes the inode the same way. */
    write_file(f->dir, "token.new", "sa-token-2\n");
    char from[300], to[300];
    snprintf(from, sizeof from, "%s/token.new", f->dir);
    snprintf(to, sizeof to, "%s/token", f->dir);
    assert_int_equal(rename(from, to), 0);
    assert_int_equal(klease__credentials_get(cr, NULL, &a2, &err), KLEASE_OK);
    assert_string_equal(a2.bearer_token, "sa-token-2");
    assert_true(a2.generation != a1.generation);
    klease__auth_clear(&a1);
    klease__auth_clear(&a2);
    klease__credentials_free(cr);
    klease__kube_config_free(cfg);
}

static void test_allocation_failures_end_in_enomem_without_leaks(void **state)
{
    fixture *f = *state;
    for (long n = 0;; n++) {
        klease__kube_config *cfg = NULL;
        klease_error err;
        klease__alloc_fail_after(n);
        klease_status st = klease__incluster_load(&cfg, f->dir, NULL, &err);
        klease__alloc_fail_after(-1);
        if (st == KLEASE_OK) {
            klease__kube_config_free(cfg);
            break;
        }
        assert_int_equal(st, KLEASE_ENOMEM);
        assert_null(cfg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_in_cluster_reads_service_env_token_ca_and_namespace,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_service_host_is_bracketed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pod_namespace_env_wins_and_default_is_the_fallback,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_ca_is_logged_and_the_system_store_is_used,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_or_empty_token_is_a_config_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_service_account_token_with_a_line_break_is_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_or_missing_service_env_is_a_config_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_kubeconfig_without_current_context_falls_back_to_in_cluster, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotated_service_account_token_is_picked_up, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failures_end_in_enomem_without_leaks, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
