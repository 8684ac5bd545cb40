/* Kubeconfig loading: sources, client-go merge rules, every field, and a
 * clear error for each kind of bad input. */
#include "cmocka_wrap.h"

#include "core/alloc.h"
#include "config/config.h"
#include "config/kubeconfig.h"
#include "kube_test_util.h"

#include <cjson/cJSON.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

static int setup(void **state)
{
    (void)state;
    clean_kube_env();
    klease__alloc_fail_after(-1);
    return 0;
}

static klease__kube_config *load_ok_log(const char *path, const char *context, log_capture *lc)
{
    klease__config_request req = {
        .kubeconfig = path, .context = context, .in_cluster_dir = "/nonexistent/klease-sa"};
    klease__logger lg = {capture_log, lc, KLEASE_LOG_DEBUG};
    klease__kube_config *cfg = NULL;
    klease_error err;
    klease_status st = klease__kube_config_load(&cfg, &req, &lg, &err);
    if (st != KLEASE_OK)
        fail_msg("loading %s: status %d: %s", path != NULL ? path : "(default)", st, err.message);
    assert_non_null(cfg);
    return cfg;
}

static klease__kube_config *load_ok(const char *path, const char *context)
{
    log_capture lc = {0};
    return load_ok_log(path, context, &lc);
}

static klease_status load_err(const char *path, const char *context, klease_error *err)
{
    klease__config_request req = {
        .kubeconfig = path, .context = context, .in_cluster_dir = "/nonexistent/klease-sa"};
    klease__kube_config *cfg = NULL;
    klease_status st = klease__kube_config_load(&cfg, &req, NULL, err);
    assert_null(cfg);
    return st;
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle) == NULL)
        fail_msg("expected \"%s\" in \"%s\"", needle, haystack);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_full_kubeconfig_loads_every_cluster_field(void **state)
{
    (void)state;
    klease__kube_config *cfg = load_ok(KC_FIXTURE("full.yaml"), NULL);
    assert_string_equal(cfg->server, "https://full.example.com:6443"); /* trailing '/' dropped */
    assert_string_equal(cfg->tls_server_name, "api.internal");
    assert_string_equal(cfg->proxy_url, "socks5://proxy.example.com:1080");
    assert_false(cfg->insecure_skip_tls_verify);
    assert_non_null(cfg->ca_pem);
    assert_int_equal(cfg->ca_pem_len, strlen(cfg->ca_pem));
    assert_true(strncmp(cfg->ca_pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
    assert_string_equal(cfg->ns, "team-a");
    assert_contains(cfg->source, "full.yaml");
    assert_contains(cfg->source, "context full");
    assert_null(cfg->token);
    assert_null(cfg->exec);
    klease__kube_config_free(cfg);
}

static void test_inline_client_certificate_is_decoded_to_pem_in_memory(void **state)
{
    (void)state;
    klease__kube_config *cfg = load_ok(KC_FIXTURE("full.yaml"), NULL);
    assert_non_null(cfg->client_cert_pem);
    assert_true(strncmp(cfg->client_cert_pem, "-----BEGIN CERTIFICATE-----", 27) == 0);
    assert_int_equal(cfg->client_cert_pem_len, strlen(cfg->client_cert_pem));
    /* The key was split over two lines in a YAML block: line breaks inside
     * base64 are ignored, as Go does. */
    assert_true(strncmp(cfg->client_key_pem, "-----BEGIN PRIVATE KEY-----", 27) == 0);
    assert_int_equal(cfg->client_key_pem_len, strlen(cfg->client_key_pem));
    klease__kube_config_free(cfg);
}

static void test_relative_paths_resolve_against_the_kubeconfig_directory(void **state)
{
    (void)state;
    /* Run from elsewhere so a path resolved against the working directory
     * would not be found. */
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir("/"), 0);
    klease__kube_config *cfg = load_ok(KC_FIXTURE("files.yaml"), NULL);
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(cfg->ca_pem, slurp(KC_FIXTURE("ca.crt")));
    assert_string_equal(cfg->client_cert_pem, slurp(KC_FIXTURE("client.crt")));
    assert_string_equal(cfg->client_key_pem, slurp(KC_FIXTURE("client.key")));
    klease__kube_config_free(cfg);
}

static void test_token_file_user_keeps_the_path_so_it_is_re_read(void **state)
{
    (void)state;
    klease__kube_config *cfg = load_ok(KC_FIXTURE("files.yaml"), "token-file");
    assert_string_equal(cfg->token_file, KC_FIXTURE("token.txt"));
    assert_null(cfg->token);
    assert_string_equal(cfg->ns, "tf");
    klease__kube_config_free(cfg);
}

static void test_inline_data_wins_over_files_when_both_are_set(void **state)
{
    (void)state;
    /* The files named next to the data do not exist: they must not be read. */
    klease__kube_config *cfg = load_ok(KC_FIXTURE("data_wins.yaml"), NULL);
    assert_true(strncmp(cfg->ca_pem, "-----BEGIN CERTIFICATE-----", 27) == 0);
    assert_true(strncmp(cfg->client_key_pem, "-----BEGIN PRIVATE KEY-----", 27) == 0);
    klease__kube_config_free(cfg);
}

static void test_explicit_context_overrides_current_context(void **state)
{
    (void)state;
    klease__kube_config *cfg = load_ok(KC_FIXTURE("full.yaml"), "other");
    assert_string_equal(cfg->ns, "default"); /* "other" sets no namespace */
    assert_contains(cfg->source, "context other");
    klease__kube_config_free(cfg);
}

static void test_kubeconfig_list_merges_with_the_first_definition_winning(void **state)
{
    (void)state;
    setenv("KUBECONFIG", KC_FIXTURE("merge_a.yaml") ":" KC_FIXTURE("merge_b.yaml"), 1);
    klease__kube_config *cfg = load_ok(NULL, NULL);
    /* current-context b-ctx is only in b; cluster "shared" and user
     * "a-user" are defined in both, and a's definitions win whole. */
    assert_string_equal(cfg->server, "https://a.example.com:6443");
    assert_string_equal(cfg->token, "token-from-a");
    assert_string_equal(cfg->ns, "default");
    assert_contains(cfg->source, "merge_b.yaml, context b-ctx");
    klease__kube_config_free(cfg);

    /* The context a-ctx is defined in both files: a's wins. */
    cfg = load_ok(NULL, "a-ctx");
    assert_string_equal(cfg->server, "https://a.example.com:6443");
    assert_string_equal(cfg->ns, "from-a");
    klease__kube_config_free(cfg);
}

static void test_kubeconfig_list_order_decides_the_winner(void **state)
{
    (void)state;
    setenv("KUBECONFIG", KC_FIXTURE("merge_b.yaml") ":" KC_FIXTURE("merge_a.yaml"), 1);
    klease__kube_config *cfg = load_ok(NULL, NULL);
    assert_string_equal(cfg->server, "https://b.example.com:6443");
    assert_string_equal(cfg->token, "a-user-from-b");
    klease__kube_config_free(cfg);
    cfg = load_ok(NULL, "a-ctx");
    assert_string_equal(cfg->server, "https://b-only.example.com");
    assert_string_equal(cfg->token, "token-from-b");
    assert_string_equal(cfg->ns, "from-b");
    klease__kube_config_free(cfg);
}

static void test_current_context_comes_from_the_first_file_that_sets_it(void **state)
{
    (void)state;
    setenv("KUBECONFIG",
           KC_FIXTURE("merge_a.yaml") ":" KC_FIXTURE("merge_c.yaml") ":" KC_FIXTURE("merge_b.yaml"),
           1);
    klease__kube_config *cfg = load_ok(NULL, NULL);
    assert_string_equal(cfg->ns, "from-a"); /* merge_c says a-ctx, defined by merge_a */
    assert_string_equal(cfg->token, "token-from-a");
    klease__kube_config_free(cfg);
}

static void test_missing_files_and_empty_entries_in_the_list_are_skipped(void **state)
{
    (void)state;
    setenv("KUBECONFIG",
           "::/nonexistent/klease/config:" KC_FIXTURE("empty.yaml") ":" KC_FIXTURE(
               "merge_a.yaml") "::" KC_FIXTURE("merge_a.yaml") ":" KC_FIXTURE("merge_b.yaml") ":",
           1);
    klease__kube_config *cfg = load_ok(NULL, NULL);
    assert_string_equal(cfg->server, "https://a.example.com:6443");
    klease__kube_config_free(cfg);
}

static void test_explicit_path_overrides_kubeconfig_env(void **state)
{
    (void)state;
    setenv("KUBECONFIG", KC_FIXTURE("merge_b.yaml"), 1);
    klease__kube_config *cfg = load_ok(KC_FIXTURE("full.yaml"), NULL);
    assert_string_equal(cfg->server, "https://full.example.com:6443");
    klease__kube_config_free(cfg);
}

static void test_explicit_path_must_exist(void **state)
{
    (void)state;
    klease_error err;
    assert_int_equal(load_err("/nonexistent/klease/config", NULL, &err), KLEASE_ECONFIG);
    assert_contains(err.message, "/nonexistent/klease/config");
    assert_contains(err.message, "No such file");
}

static void test_home_kube_config_is_used_when_kubeconfig_is_unset(void **state)
{
    (void)state;
    char dir[256], sub[300];
    make_temp_dir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/.kube", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file(sub, "config", slurp(KC_FIXTURE("merge_b.yaml")));
    setenv("HOME", dir, 1);
    klease__kube_config *cfg = load_ok(NULL, NULL);
    assert_string_equal(cfg->server, "https://b.example.com:6443");
    assert_contains(cfg->source, "/.kube/config");
    klease__kube_config_free(cfg);
    /* An empty $KUBECONFIG counts as unset. */
    setenv("KUBECONFIG", "", 1);
    cfg = load_ok(NULL, NULL);
    klease__kube_config_free(cfg);
    rm_tree(dir);
}

static void test_insecure_skip_tls_verify_is_honoured_and_logged(void **state)
{
    (void)state;
    log_capture lc = {0};
    klease__kube_config *cfg = load_ok_log(KC_FIXTURE("insecure.yaml"), NULL, &lc);
    assert_true(cfg->insecure_skip_tls_verify);
    assert_int_equal(lc.warnings, 1);
    /* A bare host:port gets https://, as in client-go. */
    assert_string_equal(cfg->server, "https://127.0.0.1:6443");
    assert_string_equal(cfg->username, "admin");
    assert_string_equal(cfg->password, "s3cret");
    assert_string_equal(cfg->ns, "123"); /* a YAML number where a string is expected */
    klease__kube_config_free(cfg);
}

static void test_http_proxy_is_accepted(void **state)
{
    (void)state;
    klease__kube_config *cfg = load_ok(KC_FIXTURE("proxy_http.yaml"), NULL);
    assert_string_equal(cfg->proxy_url, "http://proxy.example.com:3128");
    klease__kube_config_free(cfg);
}

static void test_anonymous_context_has_no_credentials(void **state)
{
    (void)state;
    klease__kube_config *cfg = load_ok(KC_FIXTURE("anonymous.yaml"), NULL);
    assert_null(cfg->token);
    assert_null(cfg->client_cert_pem);
    assert_null(cfg->exec);
    klease__kube_config_free(cfg);
}

static void test_exec_v1_fields_are_loaded(void **state)
{
    (void)state;
    klease__kube_config *cfg = load_ok(KC_FIXTURE("exec_v1.yaml"), NULL);
    const klease__exec_config *x = cfg->exec;
    assert_non_null(x);
    /* A command with a '/' is relative to the kubeconfig. */
    assert_string_equal(x->command, KLEASE_FIXTURE_DIR "/kubeconfig/../exec/token.sh");
    assert_string_equal(x->args[0], "--region");
    assert_string_equal(x->args[1], "eu-west-1");
    assert_null(x->args[2]);
    assert_string_equal(x->env[0], "PLUGIN_MODE=fast");
    assert_string_equal(x->env[1], "EMPTY_VALUE=");
    assert_null(x->env[2]);
    assert_string_equal(x->api_version, "client.authentication.k8s.io/v1");
    assert_string_equal(x->install_hint, "Install the plugin with 'apt install example-auth'.");
    assert_true(x->provide_cluster_info);
    assert_int_equal(x->interactive_mode, 0);
    klease__kube_config_free(cfg);
}

static void test_exec_v1beta1_defaults_interactive_mode_and_uses_path(void **state)
{
    (void)state;
    klease__kube_config *cfg = load_ok(KC_FIXTURE("exec_v1beta1.yaml"), NULL);
    assert_string_equal(cfg->exec->command, "example-auth-plugin"); /* looked up in $PATH */
    assert_string_equal(cfg->exec->api_version, "client.authentication.k8s.io/v1beta1");
    assert_int_equal(cfg->exec->interactive_mode, 1);
    assert_non_null(cfg->exec->args);
    assert_null(cfg->exec->args[0]);
    assert_null(cfg->exec->install_hint);
    assert_false(cfg->exec->provide_cluster_info);
    klease__kube_config_free(cfg);
}

static const struct {
    const char *file;
    const char *context;
    const char *expect;
} bad_files[] = {
    {"bad_yaml.yaml", NULL, "invalid YAML at line"},
    {"list_root.yaml", NULL, "the top level is not a mapping"},
    {"clusters_map.yaml", NULL, "clusters: expected a list of {name, cluster} entries"},
    {"wrong_type.yaml", NULL, "clusters \"c\".cluster.server: expected a string"},
    {"bool_wrong.yaml", NULL, "cluster.insecure-skip-tls-verify: expected true or false"},
    {"bad_base64.yaml", NULL, "users \"u\".user.client-certificate-data: invalid base64"},
    {"duplicate_names.yaml", NULL, "contexts: name \"x\" is defined twice"},
    {"no_name.yaml", NULL, "users[0].name: missing"},
    {"merge_key.yaml", NULL, "merge keys (<<) are not supported"},
    {"alias_bomb.yaml", NULL, "after expanding aliases"},
    {"missing_cluster.yaml", NULL, "context \"x\": cluster \"nowhere\" is not defined"},
    {"missing_user.yaml", NULL, "context \"x\": user \"nobody\" is not defined"},
    {"ctx_no_cluster.yaml", NULL, "context \"x\": cluster: missing"},
    {"dangling_current.yaml", NULL, "current-context \"gone\" is not defined"},
    {"full.yaml", "nope", "the requested context \"nope\" is not defined"},
    {"no_current_context.yaml", NULL, "no current-context is set"},
    {"empty.yaml", NULL, "no current-context is set"},
    {"no_server.yaml", NULL, "cluster \"c\": server: missing"},
    {"server_bad_scheme.yaml", NULL, "expected an http:// or https:// URL"},
    {"proxy_bad.yaml", NULL, "proxy-url \"ftp://proxy.example.com\": the scheme must be http"},
    {"insecure_with_ca.yaml", NULL, "insecure-skip-tls-verify cannot be combined"},
    {"token_and_basic.yaml", NULL, "user \"u\": more than one authentication method"},
    {"auth_provider.yaml", NULL, "auth-provider \"gcp\" is unsupported, use an exec plugin"},
    {"impersonate.yaml", NULL, "impersonation"},
    {"cert_without_key.yaml", NULL, "client-certificate(-data) is set but client-key"},
    {"missing_ca_file.yaml", NULL,
     "certificate-authority " KLEASE_FIXTURE_DIR "/kubeconfig/no-such-ca.crt: No such file"},
    {"missing_token_file.yaml", NULL, "tokenFile /nonexistent/klease/token: No such file"},
    {"exec_v1_no_mode.yaml", NULL, "exec.interactiveMode: required"},
    {"exec_always.yaml", NULL, "Always needs a terminal"},
    {"exec_bad_version.yaml", NULL, "exec.apiVersion \"client.authentication.k8s.io/v1alpha1\""},
    {"exec_no_command.yaml", NULL, "exec.command: missing"},
    {"exec_bad_env.yaml", NULL, "exec.env: expected a list"},
};

static void test_bad_kubeconfigs_fail_with_a_message_naming_the_file_and_field(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
        char path[512];
        klease_error err;
        snprintf(path, sizeof path, KLEASE_FIXTURE_DIR "/kubeconfig/%s", bad_files[i].file);
        klease_status st = load_err(path, bad_files[i].context, &err);
        if (st != KLEASE_ECONFIG)
            fail_msg("%s: status %d, expected KLEASE_ECONFIG (%s)", bad_files[i].file, st,
                     err.message);
        assert_int_equal(err.status, KLEASE_ECONFIG);
        assert_contains(err.message, bad_files[i].file);
        assert_contains(err.message, bad_files[i].expect);
    }
}

static void test_unreadable_kubeconfig_is_a_config_error(void **state)
{
    (void)state;
    klease_error err;
    /* A directory is never readable as a file, even as root. */
    assert_int_equal(load_err(KLEASE_FIXTURE_DIR "/kubeconfig", NULL, &err), KLEASE_ECONFIG);
    assert_contains(err.message, "cannot read: is a directory");
}

static void test_no_configuration_anywhere_is_a_clear_error(void **state)
{
    (void)state;
    klease__config_request req = {.in_cluster_dir = "/nonexistent/klease-sa"};
    klease__kube_config *cfg = NULL;
    klease_error err;
    assert_int_equal(klease__kube_config_load(&cfg, &req, NULL, &err), KLEASE_ECONFIG);
    assert_null(cfg);
    assert_contains(err.message, "no Kubernetes configuration");
    assert_contains(err.message, "/nonexistent/klease-test-home/.kube/config");
    assert_contains(err.message, "KUBERNETES_SERVICE_HOST");
}

static void test_anchors_and_aliases_are_expanded(void **state)
{
    (void)state;
    klease__kube_config *cfg = load_ok(KC_FIXTURE("anchors.yaml"), NULL);
    assert_string_equal(cfg->server, "https://anchored.example.com");
    assert_string_equal(cfg->tls_server_name, "anchored");
    klease__kube_config_free(cfg);
}

static klease__kube_config *load_with(const klease__config_request *req, klease_error *err,
                                      klease_status want)
{
    klease__kube_config *cfg = NULL;
    klease_status st = klease__kube_config_load(&cfg, req, NULL, err);
    if (st != want)
        fail_msg("status %d, want %d: %s", st, want, err->message);
    return cfg;
}

static void test_cluster_and_user_overrides_win_over_the_context(void **state)
{
    (void)state;
    klease_error err;
    klease__config_request req = {.kubeconfig = KC_FIXTURE("overrides.yaml"),
                                  .in_cluster_dir = "/nonexistent/klease-sa",
                                  .cluster = "cluster-b",
                                  .user = "token-user"};
    klease__kube_config *cfg = load_with(&req, &err, KLEASE_OK);
    assert_string_equal(cfg->server, "https://b.example.com:6443");
    assert_true(cfg->insecure_skip_tls_verify);
    assert_string_equal(cfg->token, "token-from-kubeconfig");
    assert_null(cfg->exec);
    assert_string_equal(cfg->ns, "team-a"); /* the context still gives the namespace */
    klease__kube_config_free(cfg);
}

static void test_server_token_and_ca_overrides_replace_the_kubeconfig_values(void **state)
{
    (void)state;
    klease_error err;
    klease__config_request req = {.kubeconfig = KC_FIXTURE("overrides.yaml"),
                                  .in_cluster_dir = "/nonexistent/klease-sa",
                                  .server = "https://override.example.com:443/",
                                  .token = "token-from-flag",
                                  .certificate_authority = KC_FIXTURE("ca.crt")};
    klease__kube_config *cfg = load_with(&req, &err, KLEASE_OK);
    assert_string_equal(cfg->server, "https://override.example.com:443");
    assert_string_equal(cfg->token, "token-from-flag");
    assert_null(cfg->exec); /* --token replaces the user's exec plugin */
    assert_string_equal(cfg->ca_pem, slurp(KC_FIXTURE("ca.crt")));
    klease__kube_config_free(cfg);

    /* --insecure-skip-tls-verify drops the cluster's CA instead of clashing with it. */
    klease__config_request insecure = {.kubeconfig = KC_FIXTURE("overrides.yaml"),
                                       .in_cluster_dir = "/nonexistent/klease-sa",
                                       .insecure_skip_tls_verify = true};
    cfg = load_with(&insecure, &err, KLEASE_OK);
    assert_true(cfg->insecure_skip_tls_verify);
    assert_null(cfg->ca_pem);
    klease__kube_config_free(cfg);
}

static void test_a_server_override_needs_no_kubeconfig(void **state)
{
    (void)state;
    klease_error err;
    klease__config_request req = {
        .in_cluster_dir = "/nonexistent/klease-sa", .server = "127.0.0.1:6443", .token = "t"};
    klease__kube_config *cfg = load_with(&req, &err, KLEASE_OK);
    assert_string_equal(cfg->server, "https://127.0.0.1:6443");
    assert_string_equal(cfg->token, "t");
    assert_string_equal(cfg->ns, "default");
    klease__kube_config_free(cfg);
}

static void test_bad_overrides_are_config_errors_that_name_them(void **state)
{
    (void)state;
    klease_error err;
    klease__config_request req = {.kubeconfig = KC_FIXTURE("overrides.yaml"),
                                  .in_cluster_dir = "/nonexistent/klease-sa",
                                  .cluster = "nope"};
    assert_null(load_with(&req, &err, KLEASE_ECONFIG));
    assert_contains(err.message, "the requested cluster \"nope\" is not defined");
    klease__config_request user = {.kubeconfig = KC_FIXTURE("overrides.yaml"),
                                   .in_cluster_dir = "/nonexistent/klease-sa",
                                   .user = "nobody"};
    assert_null(load_with(&user, &err, KLEASE_ECONFIG));
    assert_contains(err.message, "the requested user \"nobody\" is not defined");
    klease__config_request server = {.kubeconfig = KC_FIXTURE("overrides.yaml"),
                                     .in_cluster_dir = "/nonexistent/klease-sa",
                                     .server = "ftp://x"};
    assert_null(load_with(&server, &err, KLEASE_ECONFIG));
    assert_contains(err.message, "expected an http:// or https:// URL");
    klease__config_request token = {.kubeconfig = KC_FIXTURE("overrides.yaml"),
                                    .in_cluster_dir = "/nonexistent/klease-sa",
                                    .token = "a\r\nX-Injected: 1"};
    assert_null(load_with(&token, &err, KLEASE_ECONFIG));
    klease__config_request ca = {.kubeconfig = KC_FIXTURE("overrides.yaml"),
                                 .in_cluster_dir = "/nonexistent/klease-sa",
                                 .certificate_authority = "/nonexistent/ca.crt"};
    assert_null(load_with(&ca, &err, KLEASE_ECONFIG));
    assert_contains(err.message, "/nonexistent/ca.crt");
}

static void test_only_the_first_yaml_document_is_read(void **state)
{
    (void)state;
    klease__kube_config *cfg = load_ok(KC_FIXTURE("multi_doc.yaml"), NULL);
    assert_string_equal(cfg->token, "t");
    klease__kube_config_free(cfg);
}

static klease_status parse(const char *text, klease_error *err)
{
    klease__kubeconfig *kc = NULL;
    klease_status st = klease__kubeconfig_parse(text, strlen(text), "mem.yaml", &kc, err);
    if (st == KLEASE_OK)
        assert_non_null(kc);
    else
        assert_null(kc);
    klease__kubeconfig_free(kc);
    return st;
}

static void test_parser_refuses_recursive_aliases_and_deep_nesting(void **state)
{
    (void)state;
    klease_error err;
    assert_int_equal(parse("a: &x [*x]\n", &err), KLEASE_ECONFIG);
    char deep[4096];
    size_t n = 0;
    n += (size_t)snprintf(deep, sizeof deep, "a: ");
    for (int i = 0; i < 500; i++)
        deep[n++] = '[';
    for (int i = 0; i < 500; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    assert_int_equal(parse(deep, &err), KLEASE_ECONFIG);
    assert_contains(err.message, "nested too deeply");
    assert_contains(err.message, "mem.yaml");
}

static void test_parser_handles_odd_but_valid_input(void **state)
{
    (void)state;
    klease_error err;
    /* JSON is YAML; nulls and unknown fields are ignored; comments only. */
    assert_int_equal(
        parse("{\"clusters\": [{\"name\": \"c\", \"cluster\": {\"server\": \"h\"}}]}", &err),
        KLEASE_OK);
    assert_int_equal(parse("clusters: ~\nusers: null\ncontexts:\nfuture-field: [1, 2]\n", &err),
                     KLEASE_OK);
    assert_int_equal(parse("# only a comment\n", &err), KLEASE_OK);
    assert_int_equal(parse("~\n", &err), KLEASE_OK);
    assert_int_equal(parse("", &err), KLEASE_OK);
    klease__kubeconfig *kc = NULL;
    assert_int_equal(klease__kubeconfig_parse("current-context: x", 18, NULL, &kc, &err),
                     KLEASE_OK);
    assert_string_equal(kc->current_context, "x");
    klease__kubeconfig_free(kc);
}

static void test_parser_rejects_wrong_shapes(void **state)
{
    (void)state;
    klease_error err;
    assert_int_equal(parse("\"just a string\"\n", &err), KLEASE_ECONFIG);
    assert_int_equal(parse("current-context: [a]\n", &err), KLEASE_ECONFIG);
    assert_contains(err.message, "current-context: expected a string");
    assert_int_equal(parse("users: [{name: u, user: [1]}]\n", &err), KLEASE_ECONFIG);
    assert_contains(err.message, "users \"u\".user: expected a mapping");
    assert_int_equal(
        parse("users: [{name: u, user: {exec: {command: c, args: [{a: b}]}}}]\n", &err),
        KLEASE_ECONFIG);
    assert_contains(err.message, "exec.args: expected a list of strings");
    assert_int_equal(parse("? [complex, key]\n: value\n", &err), KLEASE_ECONFIG);
    assert_contains(err.message, "not a scalar");
    assert_int_equal(parse("a: \"nul\\0inside\"\n", &err), KLEASE_ECONFIG);
    assert_int_equal(parse("a: *undefined\n", &err), KLEASE_ECONFIG);
    assert_int_equal(
        parse("clusters: [{name: c, cluster: {certificate-authority-data: QQ}}]\n", &err),
        KLEASE_ECONFIG);
    assert_contains(err.message, "invalid base64");
}

static void test_alias_bomb_is_refused_quickly(void **state)
{
    (void)state;
    struct timespec a, b;
    klease_error err;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(load_err(KC_FIXTURE("alias_bomb.yaml"), NULL, &err), KLEASE_ECONFIG);
    clock_gettime(CLOCK_MONOTONIC, &b);
    /* Generous for valgrind; unbounded expansion would take minutes. */
    assert_true(b.tv_sec - a.tv_sec < 20);
}

/* "a: " + n openers + "1" + n closers: flow nesting, where libyaml's
 * scanner is quadratic in the depth. */
static char *nested_flow(size_t n, const char *open, char close, size_t *len)
{
    size_t olen = strlen(open);
    char *buf = malloc((olen + 1) * n + 16);
    assert_non_null(buf);
    size_t k = (size_t)snprintf(buf, 16, "a: ");
    for (size_t i = 0; i < n; i++, k += olen)
        memcpy(buf + k, open, olen);
    buf[k++] = '1';
    memset(buf + k, close, n);
    k += n;
    buf[k++] = '\n';
    buf[k] = '\0';
    *len = k;
    return buf;
}

/* "- - - ... x": block sequences nested n deep on one line. */
static char *nested_block(size_t n, size_t *len)
{
    char *buf = malloc(2 * n + 8);
    assert_non_null(buf);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        buf[k++] = '-';
        buf[k++] = ' ';
    }
    buf[k++] = 'x';
    buf[k++] = '\n';
    buf[k] = '\0';
    *len = k;
    return buf;
}

static klease_status parse_len(const char *text, size_t len, klease_error *err)
{
    klease__kubeconfig *kc = NULL;
    klease_status st = klease__kubeconfig_parse(text, len, "mem.yaml", &kc, err);
    if (st != KLEASE_OK)
        assert_null(kc);
    klease__kubeconfig_free(kc);
    return st;
}

static void test_a_million_levels_of_flow_nesting_are_refused_while_parsing(void **state)
{
    (void)state;
    /* Loaded whole by libyaml, 100k levels took a minute and 1M hours: the
     * depth limit must stop the parser, not check its result. */
    static const struct {
        const char *open;
        char close;
    } pairs[] = {{"[", ']'}, {"{k: ", '}'}};
    for (size_t p = 0; p < 2; p++) {
        for (size_t n = 100000; n <= 1000000; n *= 10) {
            size_t len = 0;
            char *text = nested_flow(n, pairs[p].open, pairs[p].close, &len);
            klease_error err;
            assert_int_equal(parse_len(text, len, &err), KLEASE_ECONFIG);
            assert_contains(err.message, "mem.yaml");
            assert_contains(err.message, "nested too deeply (more than 64 levels)");
            free(text);
        }
    }
}

static void test_a_million_levels_of_block_nesting_are_refused_while_parsing(void **state)
{
    (void)state;
    for (size_t n = 100000; n <= 1000000; n *= 10) {
        size_t len = 0;
        char *text = nested_block(n, &len);
        klease_error err;
        assert_int_equal(parse_len(text, len, &err), KLEASE_ECONFIG);
        assert_contains(err.message, "nested too deeply");
        free(text);
    }
}

static void test_a_deeply_nested_kubeconfig_file_is_refused_with_a_config_error(void **state)
{
    (void)state;
    char dir[256], path[320];
    make_temp_dir(dir, sizeof dir);
    size_t len = 0;
    char *text = nested_flow(1000000, "[", ']', &len); /* 2 MB */
    write_file(dir, "config", text);
    free(text);
    snprintf(path, sizeof path, "%s/config", dir);
    klease_error err;
    assert_int_equal(load_err(path, NULL, &err), KLEASE_ECONFIG);
    assert_contains(err.message, path);
    assert_contains(err.message, "nested too deeply");
    rm_tree(dir);
}

static void test_nesting_up_to_the_limit_is_accepted(void **state)
{
    (void)state;
    size_t len = 0;
    klease_error err;
    /* The root mapping is level 0, "a"'s value level 1: 63 more openers
     * put the innermost scalar at level 64. */
    char *text = nested_flow(63, "[", ']', &len);
    assert_int_equal(parse_len(text, len, &err), KLEASE_OK);
    free(text);
    text = nested_flow(64, "[", ']', &len);
    assert_int_equal(parse_len(text, len, &err), KLEASE_ECONFIG);
    free(text);
    /* An alias can add depth without nesting in the text. */
    assert_int_equal(
        parse("x: &d "
              "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n"
              "y: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[*d]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
              &err),
        KLEASE_ECONFIG);
    assert_contains(err.message, "after expanding an alias");
}

static void test_a_kubeconfig_over_the_size_limit_is_refused_before_parsing(void **state)
{
    (void)state;
    char dir[256], path[320];
    make_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/config", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    /* Valid YAML throughout, so only the size can refuse it. */
    for (size_t i = 0; i < (KLEASE__KUBECONFIG_MAX_BYTES >> 4) + 1; i++)
        fputs("# 16 bytes ....\n", f);
    fclose(f);
    klease_error err;
    assert_int_equal(load_err(path, NULL, &err), KLEASE_ECONFIG);
    assert_contains(err.message, "larger than the limit");
    assert_contains(err.message, "16777216 bytes");
    rm_tree(dir);
}

static void test_aliases_keys_and_anchor_limits(void **state)
{
    (void)state;
    klease_error err;
    klease__kubeconfig *kc = NULL;
    const char *text = "&k current-context: *k\n";
    assert_int_equal(klease__kubeconfig_parse(text, strlen(text), "mem.yaml", &kc, &err),
                     KLEASE_OK);
    assert_string_equal(kc->current_context, "current-context");
    klease__kubeconfig_free(kc);
    assert_int_equal(parse("a: &x [*x]\n", &err), KLEASE_ECONFIG);
    assert_contains(err.message, "recursive alias");
    assert_int_equal(parse("a: *nowhere\n", &err), KLEASE_ECONFIG);
    assert_contains(err.message, "undefined anchor");
    assert_int_equal(parse("a: &m {b: c}\n*m : d\n", &err), KLEASE_ECONFIG);
    assert_contains(err.message, "not a scalar");
    char many[8192];
    size_t n = 0;
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "k%d: &a%d v\n", i, i);
    assert_int_equal(parse(many, &err), KLEASE_ECONFIG);
    assert_contains(err.message, "too many anchors");
}

static void test_a_repeated_key_keeps_the_last_value_as_kubectl_does(void **state)
{
    (void)state;
    char dir[256], path[320];
    make_temp_dir(dir, sizeof dir);
    write_file(dir, "config",
               "current-context: first\n"
               "clusters:\n"
               "- name: c\n"
               "  cluster:\n"
               "    server: https://first.example.com\n"
               "    server: https://last.example.com\n"
               "contexts:\n"
               "- name: first\n"
               "  context: {cluster: c, namespace: one}\n"
               "- name: last\n"
               "  context: {cluster: c, namespace: two, namespace: three}\n"
               "current-context: last\n");
    snprintf(path, sizeof path, "%s/config", dir);
    log_capture lc = {0};
    klease__kube_config *cfg = load_ok_log(path, NULL, &lc);
    assert_string_equal(cfg->server, "https://last.example.com");
    assert_string_equal(cfg->ns, "three");
    /* Three repeated keys, one warning for the file. */
    assert_int_equal(lc.warnings, 1);
    assert_contains(lc.last, path);
    assert_contains(lc.last, "the last value is used");
    assert_contains(lc.last, "3 repeated keys");
    klease__kube_config_free(cfg);
    rm_tree(dir);
}

static void test_repeated_keys_next_to_anchors_and_aliases_keep_the_last_value(void **state)
{
    (void)state;
    klease__kube_config *cfg = load_ok(KC_FIXTURE("duplicate_keys.yaml"), NULL);
    assert_string_equal(cfg->server, "https://last.example.com");
    assert_string_equal(cfg->token, "last");
    assert_string_equal(cfg->ns, "last");
    klease__kube_config_free(cfg);
}

static void test_a_repeated_key_that_was_anchored_can_still_be_aliased(void **state)
{
    (void)state;
    klease_error err;
    klease__kubeconfig *kc = NULL;
    const char *text = "x: &c one\nx: two\ncurrent-context: *c\n";
    assert_int_equal(klease__kubeconfig_parse(text, strlen(text), "mem.yaml", &kc, &err),
                     KLEASE_OK);
    assert_string_equal(kc->current_context, "one");
    assert_int_equal(kc->dups.count, 1);
    assert_string_equal(kc->dups.key, "x");
    klease__kubeconfig_free(kc);
}

/* A kubeconfig in a fresh directory whose `field` names a FIFO there. Old
 * code blocked in open() forever: alarm() turns that into a failure. */
static void expect_fifo_refused(const char *user_yaml, const char *cluster_yaml, const char *field)
{
    char dir[256], path[320], fifo[320], text[2048];
    make_temp_dir(dir, sizeof dir);
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    snprintf(text, sizeof text,
             "current-context: c\n"
             "clusters: [{name: c, cluster: {server: https://h%s}}]\n"
             "users: [{name: u, user: {%s}}]\n"
             "contexts: [{name: c, context: {cluster: c, user: u}}]\n",
             cluster_yaml, user_yaml);
    write_file(dir, "config", text);
    snprintf(path, sizeof path, "%s/config", dir);
    klease_error err;
    alarm(20);
    assert_int_equal(load_err(path, NULL, &err), KLEASE_ECONFIG);
    alarm(0);
    assert_contains(err.message, field);
    assert_contains(err.message, "fifo");
    assert_contains(err.message, "is a FIFO or a pipe, not a regular file");
    rm_tree(dir);
}

static void test_a_fifo_as_kubeconfig_is_refused_without_blocking(void **state)
{
    (void)state;
    char dir[256], fifo[320];
    make_temp_dir(dir, sizeof dir);
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    klease_error err;
    alarm(20);
    assert_int_equal(load_err(fifo, NULL, &err), KLEASE_ECONFIG);
    /* The same through $KUBECONFIG, where missing files are skipped. */
    setenv("KUBECONFIG", fifo, 1);
    assert_int_equal(load_err(NULL, NULL, &err), KLEASE_ECONFIG);
    alarm(0);
    assert_contains(err.message, fifo);
    assert_contains(err.message, "is a FIFO or a pipe, not a regular file");
    rm_tree(dir);
}

static void test_a_fifo_as_token_file_is_refused_without_blocking(void **state)
{
    (void)state;
    expect_fifo_refused("tokenFile: fifo", "", "tokenFile");
}

static void test_a_fifo_as_client_key_is_refused_without_blocking(void **state)
{
    (void)state;
    expect_fifo_refused("client-certificate: " KC_FIXTURE("client.crt") ", client-key: fifo", "",
                        "client-key");
}

static void test_a_fifo_as_certificate_authority_is_refused_without_blocking(void **state)
{
    (void)state;
    expect_fifo_refused("token: t", ", certificate-authority: fifo", "certificate-authority");
}

static void test_a_device_as_certificate_authority_is_refused(void **state)
{
    (void)state;
    klease_error err;
    char dir[256], path[320];
    make_temp_dir(dir, sizeof dir);
    /* /dev/zero never ends: without the check it would be read up to the limit. */
    write_file(dir, "config",
               "current-context: c\n"
               "clusters: [{name: c, cluster: {server: https://h, certificate-authority: "
               "/dev/zero}}]\n"
               "contexts: [{name: c, context: {cluster: c}}]\n");
    snprintf(path, sizeof path, "%s/config", dir);
    assert_int_equal(load_err(path, NULL, &err), KLEASE_ECONFIG);
    assert_contains(err.message, "/dev/zero: is a device, not a regular file");
    rm_tree(dir);
}

/* A kubeconfig whose only user has the given fields. */
static klease_status load_user(const char *user_yaml, const char *token_file_text,
                               klease_error *err)
{
    char dir[256], path[320], text[2048];
    make_temp_dir(dir, sizeof dir);
    snprintf(text, sizeof text,
             "current-context: c\n"
             "clusters: [{name: c, cluster: {server: https://h}}]\n"
             "users: [{name: u, user: {%s}}]\n"
             "contexts: [{name: c, context: {cluster: c, user: u}}]\n",
             user_yaml);
    write_file(dir, "config", text);
    if (token_file_text != NULL)
        write_file(dir, "token", token_file_text);
    snprintf(path, sizeof path, "%s/config", dir);
    klease__config_request req = {.kubeconfig = path, .in_cluster_dir = "/nonexistent/klease-sa"};
    klease__kube_config *cfg = NULL;
    klease_status st = klease__kube_config_load(&cfg, &req, NULL, err);
    assert_true((st == KLEASE_OK) == (cfg != NULL));
    klease__kube_config_free(cfg);
    rm_tree(dir);
    return st;
}

static void test_a_token_with_a_line_break_is_refused_so_it_cannot_add_headers(void **state)
{
    (void)state;
    klease_error err;
    assert_int_equal(load_user("token: \"abc\\r\\nX-Injected: yes\"", NULL, &err), KLEASE_ECONFIG);
    assert_contains(err.message, "user \"u\": token: contains a line break");
    assert_null(strstr(err.message, "X-Injected"));
    /* A trailing newline in a token file is usual and trimmed; one inside is not. */
    assert_int_equal(load_user("tokenFile: token", "abc\r\nX-Injected: yes\n", &err),
                     KLEASE_ECONFIG);
    assert_contains(err.message, "tokenFile");
    assert_contains(err.message, "the token contains a line break");
    assert_int_equal(load_user("token: \"abc\\u0001\"", NULL, &err), KLEASE_ECONFIG);
    assert_contains(err.message, "contains a control character");
}

static void test_a_user_name_or_password_with_control_characters_is_refused(void **state)
{
    (void)state;
    klease_error err;
    assert_int_equal(load_user("username: \"u\\nX-Injected: yes\", password: p", NULL, &err),
                     KLEASE_ECONFIG);
    assert_contains(err.message, "username: contains a line break");
    assert_int_equal(load_user("username: u, password: \"p\\r\\nX: y\"", NULL, &err),
                     KLEASE_ECONFIG);
    assert_contains(err.message, "password: contains a line break");
    assert_int_equal(load_user("username: u, password: \"p\\u007f\"", NULL, &err), KLEASE_ECONFIG);
    assert_contains(err.message, "password: contains a control character");
}

static void test_ordinary_tokens_and_token_files_are_accepted(void **state)
{
    (void)state;
    klease_error err;
    assert_int_equal(load_user("tokenFile: token", "  eyJhbGciOi.x-y_z~+/=  \n\n", &err),
                     KLEASE_OK);
    assert_int_equal(load_user("username: \"user name\", password: \"p@ss w:rd\"", NULL, &err),
                     KLEASE_OK);
}

static void test_url_redaction_hides_user_info_and_nothing_else(void **state)
{
    (void)state;
    char out[128];
    assert_string_equal(klease__url_redact("https://u:SECRET@h:6443/p", out, sizeof out),
                        "https://redacted@h:6443/p");
    assert_string_equal(klease__url_redact("https://u:p@ss@h", out, sizeof out),
                        "https://redacted@h");
    assert_string_equal(klease__url_redact("SECRET@h:6443", out, sizeof out), "redacted@h:6443");
    assert_string_equal(klease__url_redact("https://h/a@b?c@d#e@f", out, sizeof out),
                        "https://h/a@b?c@d#e@f");
    assert_string_equal(klease__url_redact(NULL, out, sizeof out), "");
    assert_string_equal(klease__url_redact("https://u:SECRET@h", out, 12), "https://red");
}

static void test_a_server_url_with_user_info_loads_without_it(void **state)
{
    (void)state;
    char dir[256], path[320];
    make_temp_dir(dir, sizeof dir);
    write_file(
        dir, "config",
        "current-context: c\n"
        "clusters: [{name: c, cluster: {server: \"https://u:SECRET@h.example.com:6443/\"}}]\n"
        "contexts: [{name: c, context: {cluster: c}}]\n");
    snprintf(path, sizeof path, "%s/config", dir);
    log_capture lc = {0};
    klease__kube_config *cfg = load_ok_log(path, NULL, &lc);
    assert_string_equal(cfg->server, "https://h.example.com:6443");
    assert_int_equal(lc.warnings, 1);
    assert_contains(lc.last, "https://redacted@h.example.com:6443");
    assert_null(strstr(lc.last, "SECRET"));
    klease__kube_config_free(cfg);
    rm_tree(dir);
}

static void *hooked_malloc(size_t n)
{
    return klease__malloc(n);
}

/* Fails the 1st, 2nd, ... allocation until loading succeeds; every run must
 * end in KLEASE_ENOMEM or success. Leaks show up under ASan and valgrind. */
static void run_alloc_failures(const char *path, const char *env)
{
    cJSON_Hooks hooks = {hooked_malloc, klease__free};
    cJSON_InitHooks(&hooks);
    if (env != NULL)
        setenv("KUBECONFIG", env, 1);
    klease__config_request req = {.kubeconfig = path, .in_cluster_dir = "/nonexistent/klease-sa"};
    for (long n = 0;; n++) {
        klease__kube_config *cfg = NULL;
        klease_error err;
        klease__alloc_fail_after(n);
        klease_status st = klease__kube_config_load(&cfg, &req, NULL, &err);
        klease__alloc_fail_after(-1);
        if (st == KLEASE_OK) {
            assert_non_null(cfg);
            klease__kube_config_free(cfg);
            assert_true(n > 10);
            break;
        }
        if (st != KLEASE_ENOMEM)
            fail_msg("failing allocation %ld: status %d (%s)", n, st, err.message);
        assert_null(cfg);
        assert_true(n < 100000);
    }
    cJSON_InitHooks(NULL);
}

static void test_allocation_failures_end_in_enomem_without_leaks(void **state)
{
    (void)state;
    run_alloc_failures(KC_FIXTURE("full.yaml"), NULL);
    run_alloc_failures(KC_FIXTURE("exec_v1.yaml"), NULL);
    run_alloc_failures(KC_FIXTURE("files.yaml"), NULL);
    run_alloc_failures(KC_FIXTURE("anchors.yaml"), NULL);
    run_alloc_failures(KC_FIXTURE("duplicate_keys.yaml"), NULL);
    run_alloc_failures(NULL, KC_FIXTURE("merge_a.yaml") ":" KC_FIXTURE("merge_b.yaml"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_full_kubeconfig_loads_every_cluster_field, setup),
        cmocka_unit_test_setup(test_inline_client_certificate_is_decoded_to_pem_in_memory, setup),
        cmocka_unit_test_setup(test_relative_paths_resolve_against_the_kubeconfig_directory, setup),
        cmocka_unit_test_setup(test_token_file_user_keeps_the_path_so_it_is_re_read, setup),
        cmocka_unit_test_setup(test_inline_data_wins_over_files_when_both_are_set, setup),
        cmocka_unit_test_setup(test_explicit_context_overrides_current_context, setup),
        cmocka_unit_test_setup(test_kubeconfig_list_merges_with_the_first_definition_winning,
                               setup),
        cmocka_unit_test_setup(test_kubeconfig_list_order_decides_the_winner, setup),
        cmocka_unit_test_setup(test_current_context_comes_from_the_first_file_that_sets_it, setup),
        cmocka_unit_test_setup(test_missing_files_and_empty_entries_in_the_list_are_skipped, setup),
        cmocka_unit_test_setup(test_explicit_path_overrides_kubeconfig_env, setup),
        cmocka_unit_test_setup(test_explicit_path_must_exist, setup),
        cmocka_unit_test_setup(test_home_kube_config_is_used_when_kubeconfig_is_unset, setup),
        cmocka_unit_test_setup(test_insecure_skip_tls_verify_is_honoured_and_logged, setup),
        cmocka_unit_test_setup(test_http_proxy_is_accepted, setup),
        cmocka_unit_test_setup(test_anonymous_context_has_no_credentials, setup),
        cmocka_unit_test_setup(test_exec_v1_fields_are_loaded, setup),
        cmocka_unit_test_setup(test_exec_v1beta1_defaults_interactive_mode_and_uses_path, setup),
        cmocka_unit_test_setup(test_bad_kubeconfigs_fail_with_a_message_naming_the_file_and_field,
                               setup),
        cmocka_unit_test_setup(test_unreadable_kubeconfig_is_a_config_error, setup),
        cmocka_unit_test_setup(test_no_configuration_anywhere_is_a_clear_error, setup),
        cmocka_unit_test_setup(test_cluster_and_user_overrides_win_over_the_context, setup),
        cmocka_unit_test_setup(test_server_token_and_ca_overrides_replace_the_kubeconfig_values,
                               setup),
        cmocka_unit_test_setup(test_a_server_override_needs_no_kubeconfig, setup),
        cmocka_unit_test_setup(test_bad_overrides_are_config_errors_that_name_them, setup),
        cmocka_unit_test_setup(test_anchors_and_aliases_are_expanded, setup),
        cmocka_unit_test_setup(test_only_the_first_yaml_document_is_read, setup),
        cmocka_unit_test_setup(test_parser_refuses_recursive_aliases_and_deep_nesting, setup),
        cmocka_unit_test_setup(test_parser_handles_odd_but_valid_input, setup),
        cmocka_unit_test_setup(test_parser_rejects_wrong_shapes, setup),
        cmocka_unit_test_setup(test_alias_bomb_is_refused_quickly, setup),
        cmocka_unit_test_setup(test_a_million_levels_of_flow_nesting_are_refused_while_parsing,
                               setup),
        cmocka_unit_test_setup(test_a_million_levels_of_block_nesting_are_refused_while_parsing,
                               setup),
        cmocka_unit_test_setup(test_a_deeply_nested_kubeconfig_file_is_refused_with_a_config_error,
                               setup),
        cmocka_unit_test_setup(test_nesting_up_to_the_limit_is_accepted, setup),
        cmocka_unit_test_setup(test_a_kubeconfig_over_the_size_limit_is_refused_before_parsing,
                               setup),
        cmocka_unit_test_setup(test_aliases_keys_and_anchor_limits, setup),
        cmocka_unit_test_setup(test_a_repeated_key_keeps_the_last_value_as_kubectl_does, setup),
        cmocka_unit_test_setup(test_a_repeated_key_that_was_anchored_can_still_be_aliased, setup),
        cmocka_unit_test_setup(test_repeated_keys_next_to_anchors_and_aliases_keep_the_last_value,
                               setup),
        cmocka_unit_test_setup(test_a_fifo_as_kubeconfig_is_refused_without_blocking, setup),
        cmocka_unit_test_setup(test_a_fifo_as_token_file_is_refused_without_blocking, setup),
        cmocka_unit_test_setup(test_a_fifo_as_client_key_is_refused_without_blocking, setup),
        cmocka_unit_test_setup(test_a_fifo_as_certificate_authority_is_refused_without_blocking,
                               setup),
        cmocka_unit_test_setup(test_a_device_as_certificate_authority_is_refused, setup),
        cmocka_unit_test_setup(test_a_token_with_a_line_break_is_refused_so_it_cannot_add_headers,
                               setup),
        cmocka_unit_test_setup(test_a_user_name_or_password_with_control_characters_is_refused,
                               setup),
        cmocka_unit_test_setup(test_ordinary_tokens_and_token_files_are_accepted, setup),
        cmocka_unit_test_setup(test_url_redaction_hides_user_info_and_nothing_else, setup),
        cmocka_unit_test_setup(test_a_server_url_with_user_info_loads_without_it, setup),
        cmocka_unit_test_setup(test_allocation_failures_end_in_enomem_without_leaks, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
