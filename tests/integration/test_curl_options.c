/* Every libcurl option is checked. libcurl's own allocator is made to fail
 * at each allocation in turn (curl_global_init_mem) while a fresh client
 * makes one HTTPS call: each call either works or fails with a clear status,
 * and the options libcurl refused (a CA, a client certificate, a TLS setting
 * it could not store) are reported as such, never dropped silently. */
#include "cmocka_wrap.h"

#include "itest.h"
#include "api/lease_api.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS "default"

static atomic_bool armed;
static atomic_long allowed; /* allocations left before they fail, while armed */

static bool fail_now(void)
{
    return atomic_load(&armed) && atomic_fetch_sub(&allowed, 1) <= 0;
}

static void *f_malloc(size_t n)
{
    return fail_now() ? NULL : malloc(n);
}

static void *f_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : realloc(p, n);
}

static char *f_strdup(const char *s)
{
    return fail_now() ? NULL : strdup(s);
}

static void *f_calloc(size_t n, size_t size)
{
    return fail_now() ? NULL : calloc(n, size);
}

static void test_every_refused_curl_option_is_an_error(void **state)
{
    (void)state;
    ksim *sim = itest_sim(NULL);
    char path[1024];
    snprintf(path, sizeof path, "%s/kubeconfig-cert", ksim_workdir(sim));
    assert_int_equal(ksim_write_kubeconfig(sim, path, KSIM_KUBECONFIG_CERT), 0);
    int refused = 0, worked = 0;
    char seen[2048] = "";
    for (long n = 0; n < 600 && worked < 3; n++) {
        klease_client *c = itest_client_from(path, 5000);
        klease__http_response resp;
        klease_error err;
        atomic_store(&allowed, n);
        atomic_store(&armed, true);
        klease_status st = klease__lease_get(c, NS, "absent", NULL, &resp, &err);
        atomic_store(&armed, false);
        if (st == KLEASE_OK)
            klease__http_response_clear(&resp);
        if (st == KLEASE_ENOTFOUND) {
            worked++;
        } else if (st != KLEASE_ENOMEM && st != KLEASE_ETRANSPORT && st != KLEASE_ECONFIG &&
                   st != KLEASE_EAUTH) {
            fail_msg("allocation %ld failing gave %s: %s", n, klease_strerror(st), err.message);
        }
        const char *opt = st != KLEASE_ENOTFOUND ? strstr(err.message, "libcurl refused ") : NULL;
        if (opt != NULL) {
            refused++;
            char name[64];
            size_t used = strlen(seen);
            if (sscanf(opt, "libcurl refused %63[A-Z_0-9]", name) == 1 &&
                strstr(seen, name) == NULL)
                snprintf(seen + used, sizeof seen - used, " %s", name);
        }
        klease_client_free(c);
    }
    print_message("calls with a refused option: %d; options:%s\n", refused, seen);
    assert_true(worked > 0); /* enough allocations: the call works */
    /* The options that carry security are among those reported. */
    assert_non_null(strstr(seen, "CURLOPT_CAINFO_BLOB"));
    assert_non_null(strstr(seen, "CURLOPT_SSLCERT_BLOB"));
    assert_non_null(strstr(seen, "CURLOPT_SSLKEY_BLOB"));
    ksim_stop(sim);
}

int main(void)
{
    /* Before any other libcurl call, as curl_global_init_mem requires. */
    if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, f_malloc, free, f_realloc, f_strdup, f_calloc) !=
        CURLE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_refused_curl_option_is_an_error),
    };
    int rc = cmocka_run_group_tests_name("curl_options", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
