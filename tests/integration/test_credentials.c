/* Every credential kind over TLS against the simulator, end to end: a bearer
 * token (see test_transport.c), a client certificate (test_transport.c), a
 * token file that rotates while the client lives, and an exec plugin whose
 * first token the server refuses (one re-run after the 401). The simulator
 * has no basic auth; basic auth is covered by the unit tests. */
#include "cmocka_wrap.h"

#include "itest.h"
#include "core/alloc.h"
#include "config/base64.h"
#include "api/lease_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NS "default"

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static klease_status get(klease_client *c, klease_error *err)
{
    klease__http_response resp;
    klease_status st = klease__lease_get(c, NS, "absent", NULL, &resp, err);
    if (st == KLEASE_OK)
        klease__http_response_clear(&resp);
    return st;
}

static void test_a_rotating_token_file_is_followed(void **state)
{
    (void)state;
    ksim *sim = itest_sim(NULL);
    assert_int_equal(ksim_add_token(sim, "token-one", "one", true), 0);
    assert_int_equal(ksim_add_token(sim, "token-two", "two", true), 0);
    char token_file[1024], kubeconfig[1024], user[1200];
    snprintf(token_file, sizeof token_file, "%s/token", ksim_workdir(sim));
    snprintf(kubeconfig, sizeof kubeconfig, "%s/kubeconfig-token-file", ksim_workdir(sim));
    write_file(token_file, "token-one\n", 0600);
    snprintf(user, sizeof user, "    tokenFile: %s\n", token_file);
    itest_write_kubeconfig(sim, kubeconfig, user);
    klease_client *c = itest_client_from(kubeconfig, 0);
    klease_error err;
    /* A 404 proves the request was authenticated and authorized. */
    assert_int_equal(get(c, &err), KLEASE_ENOTFOUND);
    /* Rotate: the old token stops working, the file holds the new one. */
    assert_int_equal(ksim_add_token(sim, "token-one", "one", false), 0);
    write_file(token_file, "token-two\n", 0600);
    assert_int_equal(get(c, &err), KLEASE_ENOTFOUND);
    klease_client_free(c);
    ksim_stop(sim);
}

/* The Authorization line is put together in a buffer of its own size (a
 * short one on the stack, a long one on the heap): a 2,000-byte token must
 * reach the server whole, one that differs only in its last byte must not
 * pass, and one past the 8 KiB header line limit is refused before sending. */
static void test_a_long_bearer_token_is_sent_whole_and_an_oversized_one_refused(void **state)
{
    (void)state;
    ksim *sim = itest_sim(NULL);
    char token[2001], kubeconfig[1024], user[2100];
    for (size_t i = 0; i < sizeof token - 1; i++)
        token[i] = (char)('a' + i % 26);
    token[sizeof token - 1] = '\0';
    assert_int_equal(ksim_add_token(sim, token, "long", true), 0);
    klease_error err;

    snprintf(kubeconfig, sizeof kubeconfig, "%s/kubeconfig-long-token", ksim_workdir(sim));
    snprintf(user, sizeof user, "    token: %s\n", token);
    itest_write_kubeconfig(sim, kubeconfig, user);
    klease_client *c = itest_client_from(kubeconfig, 0);
    assert_int_equal(get(c, &err), KLEASE_ENOTFOUND); /* authenticated */
    klease_client_free(c);

    token[sizeof token - 2] = 'Z';
    snprintf(user, sizeof user, "    token: %s\n", token);
    itest_write_kubeconfig(sim, kubeconfig, user);
    c = itest_client_from(kubeconfig, 0);
    assert_int_equal(get(c, &err), KLEASE_EAUTH);
    klease_client_free(c);

    char *huge = klease__malloc(9000), *huge_user = klease__malloc(9100);
    assert_non_null(huge);
    assert_non_null(huge_user);
    memset(huge, 'x', 8999);
    huge[8999] = '\0';
    snprintf(huge_user, 9100, "    token: %s\n", huge);
    itest_write_kubeconfig(sim, kubeconfig, huge_user);
    c = itest_client_from(kubeconfig, 0);
    assert_int_equal(get(c, &err), KLEASE_EAUTH);
    assert_non_null(strstr(err.message, "bearer token is too long"));
    klease_client_free(c);
    klease__free(huge);
    klease__free(huge_user);
    ksim_stop(sim);
}

/* A client whose kubeconfig (written to `kubeconfig`) runs `plugin` as its
 * exec credential plugin. */
static klease_client *exec_plugin_client(ksim *sim, const char *plugin, const char *kubeconfig,
                                         int64_t request_timeout_ms)
{
    char user[4096];
    snprintf(user, sizeof user,
             "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
             "      command: %s\n      interactiveMode: Never\n",
             plugin);
    itest_write_kubeconfig(sim, kubeconfig, user);
    return itest_client_from(kubeconfig, request_timeout_ms);
}

static void test_an_exec_plugin_is_run_again_after_a_401(void **state)
{
    (void)state;
    ksim *sim = itest_sim(NULL);
    assert_int_equal(ksim_add_token(sim, "exec-token-2", "exec-user", true), 0);
    char plugin[1024], counter[1024], kubeconfig[1024], script[4096];
    snprintf(plugin, sizeof plugin, "%s/plugin.sh", ksim_workdir(sim));
    snprintf(counter, sizeof counter, "%s/runs", ksim_workdir(sim));
    snprintf(kubeconfig, sizeof kubeconfig, "%s/kubeconfig-exec", ksim_workdir(sim));
    /* Run n prints token exec-token-n: the first is unknown to the server. */
    snprintf(script, sizeof script,
             "#!/bin/sh\n"
             "n=$(cat '%s' 2>/dev/null || echo 0); n=$((n + 1)); echo $n > '%s'\n"
             "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
             "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"exec-token-%%s\"}}' $n\n",
             counter, counter);
    write_file(plugin, script, 0700);
    klease_client *c = exec_plugin_client(sim, plugin, kubeconfig, 0);
    klease_error err;
    assert_int_equal(get(c, &err), KLEASE_ENOTFOUND);
    FILE *f = fopen(counter, "r");
    int runs = 0;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &runs), 1);
    fclose(f);
    assert_int_equal(runs, 2); /* one run, a 401, exactly one more run */
    /* The good credential is cached: no more runs. */
    assert_int_equal(get(c, &err), KLEASE_ENOTFOUND);
    f = fopen(counter, "r");
    assert_int_equal(fscanf(f, "%d", &runs), 1);
    fclose(f);
    assert_int_equal(runs, 2);
    klease_client_free(c);
    ksim_stop(sim);
}

/* Every log line, at every level, and a count of those naming SECRET. */
typedef struct leak_log {
    int lines;
    int leaks;
    char leaked[512];
} leak_log;

static void note_line(leak_log *l, const char *text)
{
    if (strstr(text, "SECRET") != NULL && l->leaks++ == 0)
        snprintf(l->leaked, sizeof l->leaked, "%s", text);
}

static void leak_log_fn(void *user, klease_log_level level, const char *msg)
{
    (void)level;
    leak_log *l = user;
    l->lines++;
    note_line(l, msg);
}

/* Writes a kubeconfig for the simulator whose server URL is `server` and
 * whose proxy-url is `proxy` (NULL: none). */
static void write_url_kubeconfig(ksim *sim, const char *path, const char *server, const char *proxy)
{
    const char *ca = ksim_ca_pem(sim);
    char *ca64 = klease__base64_encode(ca, strlen(ca));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_non_null(ca64);
    fprintf(f,
            "current-context: sim\n"
            "clusters:\n- name: sim\n  cluster:\n    server: %s\n"
            "    certificate-authority-data: %s\n%s%s%s"
            "users:\n- name: u\n  user:\n    token: %s\n"
            "contexts:\n- name: sim\n  context:\n    cluster: sim\n    user: u\n",
            server, ca64, proxy != NULL ? "    proxy-url: " : "", proxy != NULL ? proxy : "",
            proxy != NULL ? "\n" : "", ksim_admin_token(sim));
    fclose(f);
    klease__free(ca64);
}

/* Creates a client from `path` with every log line captured, makes one
 * call, and returns the status of whichever step failed. */
static klease_status use_client(const char *path, leak_log *l, klease_error *err)
{
    klease_client_options opts = KLEASE_CLIENT_OPTIONS_INIT;
    opts.kubeconfig = path;
    opts.log_fn = leak_log_fn;
    opts.log_user = l;
    opts.log_level = KLEASE_LOG_DEBUG;
    opts.request_timeout_ms = 5000;
    klease_client *c = NULL;
    klease_status st = klease_client_new(&c, &opts, err);
    if (st == KLEASE_OK) {
        note_line(l, klease_client_server(c));
        st = get(c, err);
    }
    if (st != KLEASE_OK && st != KLEASE_ENOTFOUND)
        note_line(l, err->message);
    klease_client_free(c);
    return st;
}

static void test_user_info_in_a_server_url_never_reaches_a_log_line_or_an_error(void **state)
{
    (void)state;
    ksim *sim = itest_sim(NULL);
    char path[1024], url[512];
    snprintf(path, sizeof path, "%s/kubeconfig-userinfo", ksim_workdir(sim));
    const char *host = ksim_url(sim) + strlen("https://");
    leak_log l = {0};
    klease_error err;

    /* The URL works (its user info is not what authenticates us)... */
    snprintf(url, sizeof url, "https://u:SECRET@%s", host);
    write_url_kubeconfig(sim, path, url, NULL);
    assert_int_equal(use_client(path, &l, &err), KLEASE_ENOTFOUND);
    assert_true(l.lines > 0); /* debug lines name the server */
    /* ...and without a scheme, which client-go reads as https. */
    snprintf(url, sizeof url, "SECRET@%s", host);
    write_url_kubeconfig(sim, path, url, NULL);
    assert_int_equal(use_client(path, &l, &err), KLEASE_ENOTFOUND);
    /* A URL the config refuses, and one the transport fails to reach. */
    write_url_kubeconfig(sim, path, "ftp://u:SECRET@example.com", NULL);
    assert_int_equal(use_client(path, &l, &err), KLEASE_ECONFIG);
    assert_non_null(strstr(err.message, "redacted@example.com"));
    write_url_kubeconfig(sim, path, "https://u:SECRET@127.0.0.1:1", NULL);
    assert_int_equal(use_client(path, &l, &err), KLEASE_ETRANSPORT);
    /* A proxy's user info is used (to log in to the proxy), never shown. */
    write_url_kubeconfig(sim, path, ksim_url(sim), "http://pu:SECRET@127.0.0.1:1");
    assert_int_not_equal(use_client(path, &l, &err), KLEASE_OK);
    write_url_kubeconfig(sim, path, ksim_url(sim), "gopher://pu:SECRET@127.0.0.1:1");
    assert_int_equal(use_client(path, &l, &err), KLEASE_ECONFIG);
    /* libcurl would quote these in its error message. */
    write_url_kubeconfig(sim, path, ksim_url(sim), "http://pu:SECRET@[bad");
    assert_int_equal(use_client(path, &l, &err), KLEASE_ECONFIG);
    write_url_kubeconfig(sim, path, ksim_url(sim), "\"http://pu:SECRET@bad host\"");
    assert_int_equal(use_client(path, &l, &err), KLEASE_ECONFIG);
    assert_non_null(strstr(err.message, "redacted@bad host"));
    if (l.leaks > 0)
        fail_msg("%d line(s) show the secret, e.g. \"%s\"", l.leaks, l.leaked);
    ksim_stop(sim);
}

/* The request's time limit covers the exec plugin too: a plugin that takes
 * 5 s fails a call limited to 500 ms at about 500 ms, with KLEASE_ETIMEDOUT
 * (it used to run to the plugin's own 30 s limit and fail with EAUTH). */
static void test_a_slow_exec_plugin_fails_the_call_at_its_time_limit(void **state)
{
    (void)state;
    ksim *sim = itest_sim(NULL);
    char plugin[1024], kubeconfig[1024];
    snprintf(plugin, sizeof plugin, "%s/slow.sh", ksim_workdir(sim));
    snprintf(kubeconfig, sizeof kubeconfig, "%s/kubeconfig-slow", ksim_workdir(sim));
    write_file(plugin,
               "#!/bin/sh\nsleep 5\n"
               "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
               "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"late\"}}'\n",
               0700);
    klease_client *c = exec_plugin_client(sim, plugin, kubeconfig, 500);
    klease_error err;
    int64_t t0 = itest_now_ms();
    assert_int_equal(get(c, &err), KLEASE_ETIMEDOUT);
    /* 500 ms asked; 3 s allows for a loaded machine and is far from 5 s. */
    assert_true(itest_now_ms() - t0 < 3000);
    if (strstr(err.message, "500 ms") == NULL)
        fail_msg("message: %s", err.message);
    klease_client_free(c);
    ksim_stop(sim);
}

/* The retry after a 401 draws from the same budget as the first attempt: a
 * second plugin run that takes 5 s cannot stretch a 1 s call to 5 s. */
static void test_the_retry_after_a_401_shares_the_calls_time_limit(void **state)
{
    (void)state;
    ksim *sim = itest_sim(NULL);
    assert_int_equal(ksim_add_token(sim, "exec-token-2", "exec-user", true), 0);
    char plugin[1024], counter[1024], kubeconfig[1024], script[4096];
    snprintf(plugin, sizeof plugin, "%s/slow-second.sh", ksim_workdir(sim));
    snprintf(counter, sizeof counter, "%s/runs", ksim_workdir(sim));
    snprintf(kubeconfig, sizeof kubeconfig, "%s/kubeconfig-slow-second", ksim_workdir(sim));
    /* Run 1 is quick with a token the server refuses; run 2 takes 5 s. */
    snprintf(script, sizeof script,
             "#!/bin/sh\n"
             "n=$(cat '%s' 2>/dev/null || echo 0); n=$((n + 1)); echo $n > '%s'\n"
             "[ $n -ge 2 ] && sleep 5\n"
             "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
             "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"exec-token-%%s\"}}' $n\n",
             counter, counter);
    write_file(plugin, script, 0700);
    klease_client *c = exec_plugin_client(sim, plugin, kubeconfig, 1000);
    klease_error err;
    int64_t t0 = itest_now_ms();
    assert_int_equal(get(c, &err), KLEASE_ETIMEDOUT);
    /* 1 s asked; 4 s allows for a loaded machine and is short of 5 s. */
    assert_true(itest_now_ms() - t0 < 4000);
    klease_client_free(c);
    ksim_stop(sim);
}

/* An exec plugin inherits only fds 0-2, even while the client holds an open
 * TLS connection (the second run happens after a 401 on a kept-alive
 * connection). The plugin lists its descriptors with ls. */
static void test_an_exec_plugin_inherits_only_stdin_stdout_and_stderr(void **state)
{
    (void)state;
    ksim *sim = itest_sim(NULL);
    assert_int_equal(ksim_add_token(sim, "exec-token-2", "exec-user", true), 0);
    char plugin[1024], counter[1024], fds[1024], kubeconfig[1024], script[4096];
    snprintf(plugin, sizeof plugin, "%s/fds.sh", ksim_workdir(sim));
    snprintf(counter, sizeof counter, "%s/runs", ksim_workdir(sim));
    snprintf(fds, sizeof fds, "%s/fds", ksim_workdir(sim));
    snprintf(kubeconfig, sizeof kubeconfig, "%s/kubeconfig-fds", ksim_workdir(sim));
    snprintf(script, sizeof script,
             "#!/bin/sh\n"
             "n=$(cat '%s' 2>/dev/null || echo 0); n=$((n + 1)); echo $n > '%s'\n"
             "ls -l /proc/self/fd > '%s.'$n 2>&1\n"
             "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
             "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"exec-token-%%s\"}}' $n\n",
             counter, counter, fds);
    write_file(plugin, script, 0700);
    klease_client *c = exec_plugin_client(sim, plugin, kubeconfig, 0);
    klease_error err;
    assert_int_equal(get(c, &err), KLEASE_ENOTFOUND); /* run 1, a 401, run 2 */

    char path[1100], line[1024];
    snprintf(path, sizeof path, "%s.2", fds);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int seen = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        const char *arrow = strstr(line, " -> ");
        if (arrow == NULL)
            continue; /* the "total" line */
        const char *name = arrow;
        while (name > line && name[-1] != ' ')
            name--;
        int fd = (int)strtol(name, NULL, 10);
        /* 0-2, and the directory ls itself opened to list them. */
        if (fd > 2 && strstr(arrow, "/proc/") == NULL)
            fail_msg("the plugin inherited fd %d: %s", fd, line);
        seen++;
    }
    fclose(f);
    assert_true(seen >= 3);
    klease_client_free(c);
    ksim_stop(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_rotating_token_file_is_followed),
        cmocka_unit_test(test_a_long_bearer_token_is_sent_whole_and_an_oversized_one_refused),
        cmocka_unit_test(test_an_exec_plugin_is_run_again_after_a_401),
        cmocka_unit_test(test_user_info_in_a_server_url_never_reaches_a_log_line_or_an_error),
        cmocka_unit_test(test_a_slow_exec_plugin_fails_the_call_at_its_time_limit),
        cmocka_unit_test(test_the_retry_after_a_401_shares_the_calls_time_limit),
        cmocka_unit_test(test_an_exec_plugin_inherits_only_stdin_stdout_and_stderr),
    };
    return cmocka_run_group_tests_name("credentials", tests, NULL, NULL);
}
