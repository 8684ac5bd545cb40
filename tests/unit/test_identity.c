/* klease_default_identity: `<$POD_NAME or host>_<UUIDv4>`, unique per
 * process, stable within one, never overflowing. */
#include "cmocka_wrap.h"

#include "klease/klease.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define UUID_LEN 36

static int setup(void **state)
{
    (void)state;
    unsetenv("POD_NAME");
    return 0;
}

/* Checks that `id` is `<name>_<UUIDv4>`. */
static void assert_name_and_uuid(const char *id, const char *name)
{
    size_t n = strlen(name);
    assert_int_equal(strlen(id), n + 1 + UUID_LEN);
    assert_memory_equal(id, name, n);
    assert_int_equal(id[n], '_');
    const char *u = id + n + 1;
    for (int i = 0; i < UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(u[i], '-');
        else if (strchr("0123456789abcdef", u[i]) == NULL)
            fail_msg("not a lower-case UUID: %s", u);
    }
    assert_int_equal(u[14], '4');           /* version 4 */
    assert_non_null(strchr("89ab", u[19])); /* RFC 4122 variant */
}

static void test_pod_name_and_a_random_uuid_make_the_identity(void **state)
{
    (void)state;
    setenv("POD_NAME", "controller-7d9f8-abcde", 1);
    char buf[KLEASE_IDENTITY_MAX + 1];
    klease_error err;
    assert_int_equal(klease_default_identity(buf, sizeof buf, &err), KLEASE_OK);
    assert_name_and_uuid(buf, "controller-7d9f8-abcde");
}

static void test_host_name_is_used_without_pod_name(void **state)
{
    (void)state;
    char host[HOST_NAME_MAX + 1] = "";
    assert_int_equal(gethostname(host, sizeof host), 0);
    char buf[KLEASE_IDENTITY_MAX + 1];
    assert_int_equal(klease_default_identity(buf, sizeof buf, NULL), KLEASE_OK);
    assert_name_and_uuid(buf, host);
    /* An empty $POD_NAME counts as unset. */
    setenv("POD_NAME", "", 1);
    assert_int_equal(klease_default_identity(buf, sizeof buf, NULL), KLEASE_OK);
    assert_name_and_uuid(buf, host);
}

static void test_repeated_calls_in_one_process_agree(void **state)
{
    (void)state;
    char a[KLEASE_IDENTITY_MAX + 1], b[KLEASE_IDENTITY_MAX + 1];
    assert_int_equal(klease_default_identity(a, sizeof a, NULL), KLEASE_OK);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(klease_default_identity(b, sizeof b, NULL), KLEASE_OK);
        assert_string_equal(a, b);
    }
}

/* The identity a forked child computes, read back through a pipe. */
static void identity_of_a_child(char *out, size_t size)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char id[KLEASE_IDENTITY_MAX + 1] = "";
        int rc = klease_default_identity(id, sizeof id, NULL) == KLEASE_OK ? 0 : 1;
        ssize_t w = write(fds[1], id, strlen(id) + 1);
        _exit(rc == 0 && w > 0 ? 0 : 1);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t n;
    while (got < size && (n = read(fds[0], out + got, size - got)) > 0)
        got += (size_t)n;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(got > 0 && out[got - 1] == '\0');
}

static void test_two_processes_get_different_identities(void **state)
{
    (void)state;
    setenv("POD_NAME", "same-pod", 1);
    char parent[KLEASE_IDENTITY_MAX + 1], child1[512], child2[512];
    assert_int_equal(klease_default_identity(parent, sizeof parent, NULL), KLEASE_OK);
    identity_of_a_child(child1, sizeof child1); /* forked after the parent cached its own */
    identity_of_a_child(child2, sizeof child2);
    assert_name_and_uuid(child1, "same-pod");
    assert_name_and_uuid(child2, "same-pod");
    assert_string_not_equal(parent, child1);
    assert_string_not_equal(parent, child2);
    assert_string_not_equal(child1, child2);
    char again[KLEASE_IDENTITY_MAX + 1];
    assert_int_equal(klease_default_identity(again, sizeof again, NULL), KLEASE_OK);
    assert_string_equal(parent, again); /* the parent's own is unchanged */
}

static void test_small_buffer_is_einval_and_not_overrun(void **state)
{
    (void)state;
    setenv("POD_NAME", "abcdef", 1);
    char buf[64];
    memset(buf, 'Z', sizeof buf);
    klease_error err;
    size_t need = 6 + 1 + UUID_LEN + 1;
    assert_int_equal(klease_default_identity(buf, need - 1, &err), KLEASE_EINVAL);
    assert_int_equal(err.status, KLEASE_EINVAL);
    assert_non_null(strstr(err.message, "needs 44 bytes"));
    assert_int_equal(buf[0], 'Z');
    assert_int_equal(klease_default_identity(buf, need, &err), KLEASE_OK);
    assert_name_and_uuid(buf, "abcdef");
    assert_int_equal(buf[need], 'Z');
    assert_int_equal(klease_default_identity(NULL, 7, &err), KLEASE_EINVAL);
    assert_int_equal(klease_default_identity(buf, 0, &err), KLEASE_EINVAL);
}

static void test_a_long_name_is_cut_so_the_identity_fits_the_maximum(void **state)
{
    (void)state;
    char name[KLEASE_IDENTITY_MAX + 2];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    setenv("POD_NAME", name, 1);
    char buf[KLEASE_IDENTITY_MAX + 1];
    klease_error err;
    assert_int_equal(klease_default_identity(buf, sizeof buf, &err), KLEASE_OK);
    assert_int_equal(strlen(buf), KLEASE_IDENTITY_MAX);
    name[KLEASE_IDENTITY_MAX - 1 - UUID_LEN] = '\0';
    assert_name_and_uuid(buf, name);
}

static void test_a_pod_name_with_control_characters_is_refused(void **state)
{
    (void)state;
    setenv("POD_NAME", "pod\nX-Injected: yes", 1);
    char buf[KLEASE_IDENTITY_MAX + 1];
    klease_error err;
    assert_int_equal(klease_default_identity(buf, sizeof buf, &err), KLEASE_ECONFIG);
    assert_non_null(strstr(err.message, "$POD_NAME contains a control character"));
}

#define RACERS 4

static void *draw_identity(void *arg)
{
    char *out = arg;
    if (klease_default_identity(out, KLEASE_IDENTITY_MAX + 1, NULL) != KLEASE_OK)
        out[0] = '\0';
    return NULL;
}

/* In a fresh process (nothing cached yet), threads racing for the first draw
 * all get the same identity. */
static void test_threads_racing_for_the_first_identity_agree(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        static char ids[RACERS][KLEASE_IDENTITY_MAX + 1];
        pthread_t th[RACERS];
        for (int i = 0; i < RACERS; i++)
            if (pthread_create(&th[i], NULL, draw_identity, ids[i]) != 0)
                _exit(2);
        for (int i = 0; i < RACERS; i++)
            pthread_join(th[i], NULL);
        for (int i = 0; i < RACERS; i++)
            if (ids[i][0] == '\0' || strcmp(ids[i], ids[0]) != 0)
                _exit(1);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_pod_name_and_a_random_uuid_make_the_identity, setup),
        cmocka_unit_test_setup(test_host_name_is_used_without_pod_name, setup),
        cmocka_unit_test_setup(test_repeated_calls_in_one_process_agree, setup),
        cmocka_unit_test_setup(test_two_processes_get_different_identities, setup),
        cmocka_unit_test_setup(test_threads_racing_for_the_first_identity_agree, setup),
        cmocka_unit_test_setup(test_small_buffer_is_einval_and_not_overrun, setup),
        cmocka_unit_test_setup(test_a_long_name_is_cut_so_the_identity_fits_the_maximum, setup),
        cmocka_unit_test_setup(test_a_pod_name_with_control_characters_is_refused, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
