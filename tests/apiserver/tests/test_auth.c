/* Authentication and authorization as in captures 30-34, plain HTTP on
 * request, and kubeconfigs that work as written. */
#include "cmocka_wrap.h"

#include "captures.h"
#include "http.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define A LEASES "/lease-a"

static ksim *sim;

static int setup(void **state)
{
    (void)state;
    if (ksim_start(&sim, NULL, NULL, 0) != 0)
        return -1;
    return th_simple(sim, "POST", LEASES, NULL,
                     "{\"metadata\":{\"name\":\"lease-a\"},\"spec\":{\"holderIdentity\":\"h\"}}",
                     NULL) == 201
               ? 0
               : -1;
}

static int teardown(void **state)
{
    (void)state;
    ksim_stop(sim);
    return 0;
}

static th_resp get(const char *token, const char *cert, const char *key)
{
    th_req q = {.path = A, .token = token, .cert_pem = cert, .key_pem = key};
    th_resp r;
    th_do(sim, &q, &r);
    assert_int_equal(r.rc, CURLE_OK);
    return r;
}

static void expect(th_resp r, long code, const char *body)
{
    assert_int_equal(r.code, code);
    if (body)
        assert_string_equal(r.body, body);
    th_resp_free(&r);
}

static void test_tokens_good_bad_forbidden_and_none_answer_like_the_server(void **state)
{
    (void)state;
    expect(get(NULL, NULL, NULL), 200, NULL); /* 30 */
    th_resp r = get("this-is-not-a-valid-token", NULL, NULL);
    assert_false(r.www_authenticate); /* 31: no WWW-Authenticate header */
    expect(r, X_31_TOKEN_BAD_CODE, X_31_TOKEN_BAD_BODY);
    assert_int_equal(ksim_add_token(sim, "nobody-token", "klease-token-nobody", false), 0);
    expect(get("nobody-token", NULL, NULL), X_32_TOKEN_FORBIDDEN_CODE, X_32_TOKEN_FORBIDDEN_BODY);
    expect(get("", NULL, NULL), X_33_NO_CREDENTIALS_CODE, X_33_NO_CREDENTIALS_BODY);
    /* Rights can change at run time. */
    assert_int_equal(ksim_set_user_authorized(sim, "klease-token-nobody", true), 0);
    expect(get("nobody-token", NULL, NULL), 200, NULL);
}

static void test_client_certificates_from_the_ca_name_the_user(void **state)
{
    (void)state;
    char *cert = NULL, *key = NULL;
    assert_int_equal(ksim_issue_client_cert(sim, "realk8s-admin", &cert, &key), 0);
    expect(get("", cert, key), 200, NULL); /* 34 */
    assert_int_equal(ksim_set_user_authorized(sim, "realk8s-admin", false), 0);
    th_resp r = get("", cert, key);
    assert_int_equal(r.code, 403);
    assert_non_null(strstr(r.body, "User \\\"realk8s-admin\\\" cannot get resource"));
    th_resp_free(&r);
    free(cert);
    free(key);

    /* A certificate from another CA is not accepted. */
    ksim *other = NULL;
    assert_int_equal(ksim_start(&other, NULL, NULL, 0), 0);
    assert_int_equal(ksim_issue_client_cert(other, "intruder", &cert, &key), 0);
    ksim_stop(other);
    expect(get("", cert, key), 401, X_31_TOKEN_BAD_BODY);
    free(cert);
    free(key);
}

static void test_anonymous_requests_pass_only_when_allowed(void **state)
{
    (void)state;
    ksim *open = NULL;
    ksim_options o = KSIM_OPTIONS_INIT;
    o.allow_anonymous = true;
    o.tls = false;
    assert_int_equal(ksim_start(&open, &o, NULL, 0), 0);
    assert_int_equal(strncmp(ksim_url(open), "http://127.0.0.1:", 17), 0);
    assert_null(ksim_ca_pem(open));
    th_req q = {.path = A, .token = ""};
    th_resp r;
    th_do(open, &q, &r);
    expect(r, 404, NULL); /* let in, and the lease does not exist there */
    ksim_counters c;
    ksim_get_counters(open, &c);
    assert_int_equal(c.tls_handshakes, 0);
    ksim_stop(open);
}

/* The base64 value of `key:` in a kubeconfig file, decoded; NULL if absent. */
static char *kubeconfig_value(const char *text, const char *key, bool decode)
{
    const char *p = strstr(text, key);
    if (p == NULL)
        return NULL;
    p += strlen(key);
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, "\n");
    char *v = strndup(p, n);
    if (!decode)
        return v;
    char *out = calloc(1, n);
    int len = EVP_DecodeBlock((unsigned char *)out, (unsigned char *)v, (int)n);
    free(v);
    assert_true(len > 0);
    return out;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_kubeconfigs_carry_server_ca_and_credentials_that_work(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/kc-token", ksim_workdir(sim));
    assert_int_equal(ksim_write_kubeconfig(sim, path, KSIM_KUBECONFIG_TOKEN), 0);
    char *text = read_text(path);
    char *server = kubeconfig_value(text, "server:", false);
    assert_string_equal(server, ksim_url(sim));
    char *ca = kubeconfig_value(text, "certificate-authority-data:", true);
    assert_string_equal(ca, ksim_ca_pem(sim));
    char *token = kubeconfig_value(text, "token:", false);
    assert_string_equal(token, ksim_admin_token(sim));
    assert_non_null(strstr(text, "current-context: ksim"));
    free(server);
    free(ca);
    free(token);
    free(text);

    snprintf(path, sizeof(path), "%s/kc-cert", ksim_workdir(sim));
    assert_int_equal(ksim_write_kubeconfig(sim, path, KSIM_KUBECONFIG_CERT), 0);
    text = read_text(path);
    char *cert = kubeconfig_value(text, "client-certificate-data:", true);
    char *key = kubeconfig_value(text, "client-key-data:", true);
    assert_non_null(cert);
    assert_non_null(key);
    assert_null(strstr(text, "token:"));
    expect(get("", cert, key), 200, NULL);
    free(cert);
    free(key);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_tokens_good_bad_forbidden_and_none_answer_like_the_server),
        T(test_client_certificates_from_the_ca_name_the_user),
        T(test_anonymous_requests_pass_only_when_allowed),
        T(test_kubeconfigs_carry_server_ca_and_credentials_that_work),
#undef T
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
