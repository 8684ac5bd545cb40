/* klease_default_identity: $POD_NAME, else the host name, never overflowing. */
#include "cmocka_wrap.h"

#include "klease/klease.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int setup(void **state)
{
    (void)state;
    unsetenv("POD_NAME");
    return 0;
}

static void test_pod_name_is_the_identity_when_set(void **state)
{
    (void)state;
    setenv("POD_NAME", "controller-7d9f8-abcde", 1);
    char buf[KLEASE_IDENTITY_MAX + 1];
    klease_error err;
    assert_int_equal(klease_default_identity(buf, sizeof buf, &err), KLEASE_OK);
    assert_string_equal(buf, "controller-7d9f8-abcde");
}

static void test_host_name_is_used_without_pod_name(void **state)
{
    (void)state;
    char host[HOST_NAME_MAX + 1] = "";
    assert_int_equal(gethostname(host, sizeof host), 0);
    char buf[KLEASE_IDENTITY_MAX + 1];
    assert_int_equal(klease_default_identity(buf, sizeof buf, NULL), KLEASE_OK);
    assert_string_equal(buf, host);
    /* An empty $POD_NAME counts as unset. */
    setenv("POD_NAME", "", 1);
    assert_int_equal(klease_default_identity(buf, sizeof buf, NULL), KLEASE_OK);
    assert_string_equal(buf, host);
}

static void test_small_buffer_is_einval_and_not_overrun(void **state)
{
    (void)state;
    setenv("POD_NAME", "abcdef", 1);
    char buf[8];
    memset(buf, 'Z', sizeof buf);
    klease_error err;
    assert_int_equal(klease_default_identity(buf, 6, &err), KLEASE_EINVAL);
    assert_int_equal(err.status, KLEASE_EINVAL);
    assert_non_null(strstr(err.message, "needs 7 bytes"));
    assert_int_equal(buf[6], 'Z');
    assert_int_equal(klease_default_identity(buf, 7, &err), KLEASE_OK);
    assert_string_equal(buf, "abcdef");
    assert_int_equal(klease_default_identity(NULL, 7, &err), KLEASE_EINVAL);
    assert_int_equal(klease_default_identity(buf, 0, &err), KLEASE_EINVAL);
}

static void test_identity_longer_than_the_maximum_is_refused(void **state)
{
    (void)state;
    char name[KLEASE_IDENTITY_MAX + 2];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    setenv("POD_NAME", name, 1);
    char buf[512];
    klease_error err;
    assert_int_equal(klease_default_identity(buf, sizeof buf, &err), KLEASE_ECONFIG);
    assert_non_null(strstr(err.message, "$POD_NAME"));
    name[KLEASE_IDENTITY_MAX] = '\0'; /* exactly the maximum is fine */
    setenv("POD_NAME", name, 1);
    assert_int_equal(klease_default_identity(buf, KLEASE_IDENTITY_MAX + 1, &err), KLEASE_OK);
    assert_int_equal(strlen(buf), KLEASE_IDENTITY_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_pod_name_is_the_identity_when_set, setup),
        cmocka_unit_test_setup(test_host_name_is_used_without_pod_name, setup),
        cmocka_unit_test_setup(test_small_buffer_is_einval_and_not_overrun, setup),
        cmocka_unit_test_setup(test_identity_longer_than_the_maximum_is_refused, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
