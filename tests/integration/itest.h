/* Shared setup for integration tests: a TLS simulator in process and
 * libklease clients built from kubeconfigs it wrote. */
#ifndef KLEASE_TEST_ITEST_H
#define KLEASE_TEST_ITEST_H

#include "ksim.h"
#include "klease/klease.h"

#include <stdint.h>

/* Starts a TLS simulator (o may be NULL); fails the test on error. */
ksim *itest_sim(const ksim_options *o);

/* A client from a kubeconfig the simulator wrote (admin token or a client
 * certificate). request_timeout_ms <= 0: the default. */
klease_client *itest_client(ksim *sim, ksim_kubeconfig_kind kind, int64_t request_timeout_ms);

/* A client whose kubeconfig presents `token` (registered or not). */
klease_client *itest_client_with_token(ksim *sim, const char *token, int64_t request_timeout_ms);

/* Writes a kubeconfig presenting `token` to `path`. */
void itest_write_token_kubeconfig(ksim *sim, const char *path, const char *token);

/* Writes a kubeconfig whose user entry is `user_yaml` (lines indented by
 * four spaces, below "user:"). */
void itest_write_kubeconfig(ksim *sim, const char *path, const char *user_yaml);

/* A client from the kubeconfig at `path`. */
klease_client *itest_client_from(const char *path, int64_t request_timeout_ms);

/* A simulator and a token client for it: the state of most integration
 * tests. itest_env_setup/_teardown are cmocka fixtures (state: itest_env *). */
typedef struct itest_env {
    ksim *sim;
    klease_client *client;
} itest_env;
int itest_env_setup(void **state);
int itest_env_teardown(void **state);

/* A manager for ns/name (create: create_if_missing); fails the test on error. */
klease_manager *itest_manager(klease_client *c, const char *ns, const char *name, bool create);

/* Monotonic milliseconds (real clock). */
int64_t itest_now_ms(void);
void itest_sleep_ms(int64_t ms);

#endif
