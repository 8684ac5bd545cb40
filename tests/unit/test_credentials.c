/* Credentials over time: static values, token files that rotate, exec
 * plugin results cached until they expire (fake wall clock) or a 401. */
#include "cmocka_wrap.h"

#include "core/alloc.h"
#include "core/fake_clock.h"
#include "config/credentials.h"
#include "config/exec_plugin.h"
#include "kube_test_util.h"

#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Real monotonic ms: plugins are real processes, so these tests measure
 * real time (with bounds far from the values they check). */
static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 2029-12-31T23:00:00Z, one hour before the scripts' expiry below. */
#define START_WALL_NS (INT64_C(1893452400) * KLEASE__NS_PER_S)

typedef struct fixture {
    char dir[256];
    char counter[300];
    klease__fake_clock *fc;
    log_capture lc;
    klease__logger lg;
} fixture;

static int setup(void **state)
{
    clean_kube_env();
    unsetenv("PLUGIN_API_VERSION");
    unsetenv("PLUGIN_EXPIRY");
    unsetenv("PLUGIN_CAPTURE");
    unsetenv("PLUGIN_SLEEP");
    klease__exec_plugin_set_timeout_ms(0);
    fixture *f = calloc(1, sizeof *f);
    make_temp_dir(f->dir, sizeof f->dir);
    snprintf(f->counter, sizeof f->counter, "%s/runs", f->dir);
    setenv("PLUGIN_COUNTER", f->counter, 1);
    f->fc = klease__fake_clock_new(0, START_WALL_NS);
    f->lg = (klease__logger){capture_log, &f->lc, KLEASE_LOG_DEBUG};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rm_tree(f->dir);
    klease__fake_clock_free(f->fc);
    free(f);
    return 0;
}

static int runs(fixture *f)
{
    FILE *fp = fopen(f->counter, "r");
    if (fp == NULL)
        return 0;
    int n = 0;
    if (fscanf(fp, "%d", &n) != 1)
        n = -1;
    fclose(fp);
    return n;
}

static klease__credentials *make(fixture *f, const klease__kube_config *cfg)
{
    klease__credentials *c = NULL;
    klease_error err;
    if (klease__credentials_new(&c, cfg, klease__fake_clock_get(f->fc), &f->lg, &err) != KLEASE_OK)
        fail_msg("credentials_new: %s", err.message);
    return c;
}

static klease__auth get_ok(klease__credentials *c)
{
    klease__auth a = {0};
    klease_error err;
    if (klease__credentials_get(c, NULL, &a, &err) != KLEASE_OK)
        fail_msg("credentials_get: %s", err.message);
    return a;
}

static klease__exec_config *plugin(const char *script)
{
    char *args[] = {(char *)script, NULL};
    char *env[] = {NULL};
    klease__exec_config x = {.command = "/bin/sh",
                             .args = args,
                             .env = env,
                             .api_version = KLEASE__EXEC_API_V1,
                             .install_hint = "see https://example.com/auth"};
    return klease__exec_config_dup(&x);
}

static void test_static_credentials_come_back_on_every_get(void **state)
{
    fixture *f = *state;
    klease__kube_config cfg = {.token = "static-token",
                               .client_cert_pem = "CERT",
                               .client_cert_pem_len = 4,
                               .client_key_pem = "KEY",
                               .client_key_pem_len = 3};
    klease__credentials *c = make(f, &cfg);
    for (int i = 0; i < 3; i++) {
        klease__auth a = get_ok(c);
        assert_string_equal(a.bearer_token, "static-token");
        assert_string_equal(a.client_cert_pem, "CERT");
        assert_int_equal(a.client_cert_pem_len, 4);
        assert_string_equal(a.client_key_pem, "KEY");
        assert_int_equal(a.generation, 1);
        assert_null(a.username);
        klease__auth_clear(&a);
    }
    /* A 401 cannot be cured by re-reading static values. */
    assert_false(klease__credentials_unauthorized(c, 1));
    klease__credentials_free(c);

    klease__kube_config basic = {.username = "admin", .password = "s3cret"};
    c = make(f, &basic);
    klease__auth a = get_ok(c);
    assert_string_equal(a.username, "admin");
    assert_string_equal(a.password, "s3cret");
    assert_null(a.bearer_token);
    klease__auth_clear(&a);
    klease__credentials_free(c);
}

static void test_token_file_is_re_read_whenever_it_changes(void **state)
{
    fixture *f = *state;
    char path[300];
    snprintf(path, sizeof path, "%s/token", f->dir);
    write_file(f->dir, "token", "first-token\n");
    klease__kube_config cfg = {.token_file = path};
    klease__credentials *c = make(f, &cfg);
    klease__auth a1 = get_ok(c), a2 = get_ok(c);
    assert_string_equal(a1.bearer_token, "first-token"); /* whitespace trimmed */
    assert_int_equal(a1.generation, a2.generation);      /* unchanged file, same generation */

    write_file(f->dir, "token", "second-token-longer\n"); /* rewritten in place */
    klease__auth a3 = get_ok(c);
    assert_string_equal(a3.bearer_token, "second-token-longer");
    assert_true(a3.generation != a2.generation);

    write_file(f->dir, "token", "third--token-longer\n"); /* same size, new contents */
    klease__auth a4 = get_ok(c);
    assert_string_equal(a4.bearer_token, "third--token-longer");
    assert_true(a4.generation != a3.generation);
    /* A 401 makes the next get re-read the file, but a retry with the
     * same token would not help. */
    assert_false(klease__credentials_unauthorized(c, a4.generation));
    klease__auth a5 = get_ok(c);
    assert_string_equal(a5.bearer_token, "third--token-longer");
    assert_int_equal(a5.generation, a4.generation);
    klease__auth_clear(&a1);
    klease__auth_clear(&a2);
    klease__auth_clear(&a3);
    klease__auth_clear(&a4);
    klease__auth_clear(&a5);
    klease__credentials_free(c);
}

static void test_vanished_token_file_keeps_the_last_good_token(void **state)
{
    fixture *f = *state;
    char path[300];
    snprintf(path, sizeof path, "%s/token", f->dir);
    write_file(f->dir, "token", "good-token");
    klease__kube_config cfg = {.token_file = path};
    klease__credentials *c = make(f, &cfg);
    klease__auth a = get_ok(c);
    klease__auth_clear(&a);
    assert_int_equal(unlink(path), 0);
    a = get_ok(c);
    assert_string_equal(a.bearer_token, "good-token");
    assert_int_equal(f->lc.warnings, 1);
    assert_non_null(strstr(f->lc.last, "previous"));
    klease__auth_clear(&a);
    klease__credentials_free(c);
}

static void test_unreadable_token_file_without_a_previous_token_is_eauth(void **state)
{
    fixture *f = *state;
    char path[300];
    snprintf(path, sizeof path, "%s/never-written", f->dir);
    klease__kube_config cfg = {.token_file = path};
    klease__credentials *c = make(f, &cfg);
    klease__auth a = {0};
    klease_error err;
    assert_int_equal(klease__credentials_get(c, NULL, &a, &err), KLEASE_EAUTH);
    assert_non_null(strstr(err.message, path));
    assert_null(a.bearer_token);
    write_file(f->dir, "never-written", "   \n");
    assert_int_equal(klease__credentials_get(c, NULL, &a, &err), KLEASE_EAUTH);
    assert_non_null(strstr(err.message, "empty"));
    klease__credentials_free(c);
}

static void test_a_rotated_token_with_a_line_break_is_never_sent(void **state)
{
    fixture *f = *state;
    char path[300];
    snprintf(path, sizeof path, "%s/token", f->dir);
    write_file(f->dir, "token", "good-token\n");
    klease__kube_config cfg = {.token_file = path};
    klease__credentials *c = make(f, &cfg);
    klease__auth a = get_ok(c);
    klease__auth_clear(&a);
    /* Rewritten in place with a header smuggled in: the last good token stays. */
    write_file(f->dir, "token", "evil\r\nX-Injected: yes\n");
    klease__credentials_unauthorized(c, 1); /* forces a full re-read */
    a = get_ok(c);
    assert_string_equal(a.bearer_token, "good-token");
    assert_int_equal(f->lc.warnings, 1);
    assert_non_null(strstr(f->lc.last, "line break"));
    klease__auth_clear(&a);
    klease__credentials_free(c);

    /* Without a previous token it is a configuration error. */
    cfg = (klease__kube_config){.token_file = path};
    c = make(f, &cfg);
    klease_error err;
    assert_int_equal(klease__credentials_get(c, NULL, &a, &err), KLEASE_ECONFIG);
    assert_null(a.bearer_token);
    assert_non_null(strstr(err.message, "line break"));
    klease__credentials_free(c);
}

static void test_exec_token_is_cached_until_expiry_then_fetched_again(void **state)
{
    fixture *f = *state;
    setenv("PLUGIN_EXPIRY", "2030-01-01T00:00:00Z", 1);
    klease__kube_config cfg = {.server = "https://x", .exec = plugin(EXEC_FIXTURE("token.sh"))};
    klease__credentials *c = make(f, &cfg);
    klease__auth a1 = get_ok(c);
    assert_string_equal(a1.bearer_token, "exec-token-1");
    klease__fake_clock_advance(f->fc, 59 * 60 * KLEASE__NS_PER_S);
    klease__auth a2 = get_ok(c);
    assert_string_equal(a2.bearer_token, "exec-token-1"); /* cached: still valid */
    assert_int_equal(runs(f), 1);
    assert_int_equal(a2.generation, a1.generation);
    klease__fake_clock_advance(f->fc, 60 * KLEASE__NS_PER_S); /* now exactly at expiry */
    klease__auth a3 = get_ok(c);
    assert_string_equal(a3.bearer_token, "exec-token-2");
    assert_int_equal(runs(f), 2);
    assert_true(a3.generation != a2.generation);
    klease__auth_clear(&a1);
    klease__auth_clear(&a2);
    klease__auth_clear(&a3);
    klease__credentials_free(c);
    klease__exec_config_free(cfg.exec);
}

static void test_a_401_forces_exactly_one_new_plugin_run(void **state)
{
    fixture *f = *state;
    klease__kube_config cfg = {.server = "https://x", .exec = plugin(EXEC_FIXTURE("token.sh"))};
    klease__credentials *c = make(f, &cfg);
    klease__auth a1 = get_ok(c);
    klease__auth_clear(&a1);
    a1 = get_ok(c); /* no expiry: cached */
    assert_int_equal(runs(f), 1);
    assert_true(klease__credentials_unauthorized(c, a1.generation));
    klease__auth a2 = get_ok(c);
    assert_string_equal(a2.bearer_token, "exec-token-2");
    assert_int_equal(runs(f), 2);
    /* A second request that failed with the old credentials retries with the
     * new ones without running the plugin again. */
    assert_true(klease__credentials_unauthorized(c, a1.generation));
    klease__auth a3 = get_ok(c);
    assert_string_equal(a3.bearer_token, "exec-token-2");
    assert_int_equal(runs(f), 2);
    klease__auth_clear(&a1);
    klease__auth_clear(&a2);
    klease__auth_clear(&a3);
    klease__credentials_free(c);
    klease__exec_config_free(cfg.exec);
}

static void test_exec_client_certificate_is_presented(void **state)
{
    fixture *f = *state;
    klease__kube_config cfg = {.server = "https://x", .exec = plugin(EXEC_FIXTURE("cert.sh"))};
    klease__credentials *c = make(f, &cfg);
    klease__auth a = get_ok(c);
    assert_null(a.bearer_token);
    assert_non_null(strstr(a.client_cert_pem, "BEGIN CERTIFICATE"));
    assert_non_null(strstr(a.client_key_pem, "BEGIN PRIVATE KEY"));
    assert_int_equal(a.client_key_pem_len, strlen(a.client_key_pem));
    klease__auth_clear(&a);
    klease__credentials_free(c);
    klease__exec_config_free(cfg.exec);
}

static void test_failing_plugin_is_eauth_with_hint_and_is_retried_next_time(void **state)
{
    fixture *f = *state;
    klease__kube_config cfg = {.server = "https://x", .exec = plugin(EXEC_FIXTURE("fail.sh"))};
    klease__credentials *c = make(f, &cfg);
    klease__auth a = {0};
    klease_error err;
    assert_int_equal(klease__credentials_get(c, NULL, &a, &err), KLEASE_EAUTH);
    assert_non_null(strstr(err.message, "see https://example.com/auth"));
    assert_int_equal(klease__credentials_get(c, NULL, &a, &err), KLEASE_EAUTH);
    assert_null(a.bearer_token);
    klease__credentials_free(c);
    klease__exec_config_free(cfg.exec);
}

static void test_plugin_is_not_run_when_the_user_has_a_token(void **state)
{
    fixture *f = *state;
    klease__kube_config cfg = {
        .server = "https://x", .token = "explicit", .exec = plugin(EXEC_FIXTURE("token.sh"))};
    klease__credentials *c = make(f, &cfg);
    klease__auth a = get_ok(c);
    assert_string_equal(a.bearer_token, "explicit");
    assert_int_equal(runs(f), 0);
    klease__auth_clear(&a);
    klease__credentials_free(c);
    klease__exec_config_free(cfg.exec);
}

typedef struct racer {
    klease__credentials *c;
    char token[64];
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    klease__auth a = {0};
    if (klease__credentials_get(r->c, NULL, &a, NULL) == KLEASE_OK)
        snprintf(r->token, sizeof r->token, "%s", a.bearer_token);
    klease__auth_clear(&a);
    return NULL;
}

static void test_concurrent_gets_share_one_plugin_run(void **state)
{
    fixture *f = *state;
    klease__kube_config cfg = {.server = "https://x", .exec = plugin(EXEC_FIXTURE("token.sh"))};
    klease__credentials *c = make(f, &cfg);
    racer r[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (racer){.c = c};
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_string_equal(r[i].token, "exec-token-1");
    }
    assert_int_equal(runs(f), 1);
    klease__credentials_free(c);
    klease__exec_config_free(cfg.exec);
}

/* A plugin that takes 5 s cannot hold a call with a 300 ms budget: the call
 * ends at its deadline with KLEASE_ETIMEDOUT naming the call's limit, and
 * the plugin (its whole process group) is stopped. */
static void test_a_slow_plugin_ends_at_the_calls_deadline(void **state)
{
    fixture *f = *state;
    setenv("PLUGIN_SLEEP", "5", 1);
    klease__kube_config cfg = {.server = "https://x", .exec = plugin(EXEC_FIXTURE("token.sh"))};
    klease__credentials *c = make(f, &cfg);
    klease__budget b = klease__budget_start(300, NULL);
    klease__auth a = {0};
    klease_error err;
    int64_t t0 = real_ms();
    assert_int_equal(klease__credentials_get(c, &b, &a, &err), KLEASE_ETIMEDOUT);
    /* 300 ms budget; 3 s leaves room for a loaded machine, and is still
     * well short of the plugin's 5 s (or its own 30 s limit). */
    assert_true(real_ms() - t0 < 3000);
    if (strstr(err.message, "the call's time limit of 300 ms") == NULL)
        fail_msg("message: %s", err.message);
    klease__credentials_free(c);
    klease__exec_config_free(cfg.exec);
}

typedef struct getter {
    klease__credentials *c;
    int64_t budget_ms; /* 0: none */
    klease_status st;
    char token[64];
} getter;

static void *get_main(void *arg)
{
    getter *g = arg;
    klease__budget b = klease__budget_start(g->budget_ms, NULL);
    klease__auth a = {0};
    g->st = klease__credentials_get(g->c, g->budget_ms > 0 ? &b : NULL, &a, NULL);
    if (g->st == KLEASE_OK)
        snprintf(g->token, sizeof g->token, "%s", a.bearer_token);
    klease__auth_clear(&a);
    return NULL;
}

/* Blocks (real time, up to 10 s) until the plugin has counted `n` runs. */
static void await_runs(fixture *f, int n)
{
    for (int i = 0; i < 1000 && runs(f) < n; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(runs(f), n);
}

/* While one caller runs a slow plugin, another caller with a short budget
 * waits only until its own deadline (it used to block on the lock for the
 * whole run), and a caller without a limit shares the first run's result:
 * one run in all. */
static void test_a_waiter_leaves_at_its_own_deadline_and_the_run_serves_the_rest(void **state)
{
    fixture *f = *state;
    setenv("PLUGIN_SLEEP", "2", 1);
    klease__kube_config cfg = {.server = "https://x", .exec = plugin(EXEC_FIXTURE("token.sh"))};
    klease__credentials *c = make(f, &cfg);
    getter first = {.c = c}, patient = {.c = c};
    pthread_t t1, t2;
    assert_int_equal(pthread_create(&t1, NULL, get_main, &first), 0);
    await_runs(f, 1); /* the plugin is running now, for 2 s */
    assert_int_equal(pthread_create(&t2, NULL, get_main, &patient), 0);

    klease__budget b = klease__budget_start(200, NULL);
    klease__auth a = {0};
    klease_error err;
    int64_t t0 = real_ms();
    assert_int_equal(klease__credentials_get(c, &b, &a, &err), KLEASE_ETIMEDOUT);
    assert_true(real_ms() - t0 < 1500); /* 200 ms asked; the run takes 2 s */
    if (strstr(err.message, "waiting for the plugin run in progress") == NULL)
        fail_msg("message: %s", err.message);

    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    assert_int_equal(first.st, KLEASE_OK);
    assert_int_equal(patient.st, KLEASE_OK);
    assert_string_equal(first.token, "exec-token-1");
    assert_string_equal(patient.token, "exec-token-1");
    assert_int_equal(runs(f), 1);
    klease__credentials_free(c);
    klease__exec_config_free(cfg.exec);
}

/* A cancel reaches a caller waiting for another caller's run. */
static void test_a_cancelled_call_stops_waiting_for_the_plugin(void **state)
{
    fixture *f = *state;
    setenv("PLUGIN_SLEEP", "2", 1);
    klease__kube_config cfg = {.server = "https://x", .exec = plugin(EXEC_FIXTURE("token.sh"))};
    klease__credentials *c = make(f, &cfg);
    getter first = {.c = c};
    pthread_t t1;
    assert_int_equal(pthread_create(&t1, NULL, get_main, &first), 0);
    await_runs(f, 1);
    klease__cancel cancel;
    klease__cancel_init(&cancel);
    klease__cancel_fire(&cancel);
    klease__budget b = klease__budget_start(0, &cancel);
    klease__auth a = {0};
    klease_error err;
    int64_t t0 = real_ms();
    assert_int_equal(klease__credentials_get(c, &b, &a, &err), KLEASE_ECLOSED);
    assert_true(real_ms() - t0 < 1500);
    pthread_join(t1, NULL);
    assert_int_equal(first.st, KLEASE_OK);
    klease__cancel_destroy(&cancel);
    klease__credentials_free(c);
    klease__exec_config_free(cfg.exec);
}

static void test_allocation_failures_end_in_enomem_without_leaks(void **state)
{
    fixture *f = *state;
    char path[300];
    snprintf(path, sizeof path, "%s/token", f->dir);
    write_file(f->dir, "token", "tok");
    klease__kube_config cfg = {.token_file = path,
                               .username = NULL,
                               .client_cert_pem = "C",
                               .client_cert_pem_len = 1,
                               .client_key_pem = "K",
                               .client_key_pem_len = 1};
    for (long n = 0;; n++) {
        klease__credentials *c = NULL;
        klease__auth a = {0};
        klease_error err;
        klease__alloc_fail_after(n);
        klease_status st =
            klease__credentials_new(&c, &cfg, klease__fake_clock_get(f->fc), NULL, &err);
        if (st == KLEASE_OK)
            st = klease__credentials_get(c, NULL, &a, &err);
        klease__alloc_fail_after(-1);
        klease__auth_clear(&a);
        klease__credentials_free(c);
        if (st == KLEASE_OK)
            break;
        assert_int_equal(st, KLEASE_ENOMEM);
    }
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_static_credentials_come_back_on_every_get),
        T(test_token_file_is_re_read_whenever_it_changes),
        T(test_vanished_token_file_keeps_the_last_good_token),
        T(test_unreadable_token_file_without_a_previous_token_is_eauth),
        T(test_a_rotated_token_with_a_line_break_is_never_sent),
        T(test_exec_token_is_cached_until_expiry_then_fetched_again),
        T(test_a_401_forces_exactly_one_new_plugin_run),
        T(test_exec_client_certificate_is_presented),
        T(test_a_slow_plugin_ends_at_the_calls_deadline),
        T(test_a_waiter_leaves_at_its_own_deadline_and_the_run_serves_the_rest),
        T(test_a_cancelled_call_stops_waiting_for_the_plugin),
        T(test_failing_plugin_is_eauth_with_hint_and_is_retried_next_time),
        T(test_plugin_is_not_run_when_the_user_has_a_token),
        T(test_concurrent_gets_share_one_plugin_run),
        T(test_allocation_failures_end_in_enomem_without_leaks),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
