/* Shared setup for integration tests. */
#include "itest.h"

#include "cmocka_wrap.h"
#include "config/base64.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

ksim *itest_sim(const ksim_options *o)
{
    ksim *sim = NULL;
    char errbuf[512] = "";
    if (ksim_start(&sim, o, errbuf, sizeof errbuf) != 0)
        fail_msg("cannot start the simulator: %s", errbuf);
    return sim;
}

klease_client *itest_client_from(const char *kubeconfig, int64_t request_timeout_ms)
{
    klease_client_options opts = KLEASE_CLIENT_OPTIONS_INIT;
    opts.kubeconfig = kubeconfig;
    if (request_timeout_ms > 0)
        opts.request_timeout_ms = request_timeout_ms;
    klease_client *c = NULL;
    klease_error err;
    if (klease_client_new(&c, &opts, &err) != KLEASE_OK)
        fail_msg("klease_client_new(%s): %s", kubeconfig, err.message);
    return c;
}

klease_client *itest_client(ksim *sim, ksim_kubeconfig_kind kind, int64_t request_timeout_ms)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/kubeconfig-%d", ksim_workdir(sim), (int)kind);
    if (ksim_write_kubeconfig(sim, path, kind) != 0)
        fail_msg("cannot write %s", path);
    return itest_client_from(path, request_timeout_ms);
}

int itest_env_setup(void **state)
{
    itest_env *e = calloc(1, sizeof *e);
    if (e == NULL)
        return -1;
    e->sim = itest_sim(NULL);
    e->client = itest_client(e->sim, KSIM_KUBECONFIG_TOKEN, 0);
    *state = e;
    return 0;
}

int itest_env_teardown(void **state)
{
    itest_env *e = *state;
    klease_client_free(e->client);
    ksim_stop(e->sim);
    free(e);
    return 0;
}

klease_manager *itest_manager(klease_client *c, const char *ns, const char *name, bool create)
{
    klease_manager_options o = KLEASE_MANAGER_OPTIONS_INIT;
    o.create_if_missing = create;
    klease_manager *m = NULL;
    klease_error err;
    if (klease_manager_init(&m, c, ns, name, &o, &err) != KLEASE_OK)
        fail_msg("manager_init(%s): %s", name, err.message);
    return m;
}

void itest_write_token_kubeconfig(ksim *sim, const char *path, const char *token)
{
    char user[1024];
    snprintf(user, sizeof user, "    token: %s\n", token);
    itest_write_kubeconfig(sim, path, user);
}

void itest_write_kubeconfig(ksim *sim, const char *path, const char *user_yaml)
{
    const char *ca = ksim_ca_pem(sim);
    char *ca64 = klease__base64_encode(ca, strlen(ca));
    FILE *f = fopen(path, "w");
    if (f == NULL || ca64 == NULL)
        fail_msg("cannot write %s", path);
    fprintf(f,
            "apiVersion: v1\nkind: Config\ncurrent-context: sim\n"
            "clusters:\n- name: sim\n  cluster:\n    server: %s\n"
            "    certificate-authority-data: %s\n"
            "users:\n- name: u\n  user:\n%s"
            "contexts:\n- name: sim\n  context:\n    cluster: sim\n    user: u\n"
            "    namespace: default\n",
            ksim_url(sim), ca64, user_yaml);
    fclose(f);
    free(ca64);
}

klease_client *itest_client_with_token(ksim *sim, const char *token, int64_t request_timeout_ms)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/kubeconfig-token-%s", ksim_workdir(sim), token);
    itest_write_token_kubeconfig(sim, path, token);
    return itest_client_from(path, request_timeout_ms);
}

int64_t itest_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void itest_sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0) {
    }
}
