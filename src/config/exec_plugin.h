/* Exec credential plugins (client.authentication.k8s.io/v1 and v1beta1):
 * running the command without a shell, bounded in time and output, and
 * reading the ExecCredential it prints. */
#ifndef KLEASE_CONFIG_EXEC_PLUGIN_H
#define KLEASE_CONFIG_EXEC_PLUGIN_H

#include "config/config.h"
#include "core/budget.h"

#include <stdint.h>

#define KLEASE__EXEC_API_V1      "client.authentication.k8s.io/v1"
#define KLEASE__EXEC_API_V1BETA1 "client.authentication.k8s.io/v1beta1"

/* A plugin that has not finished after this long is killed. client-go has no
 * limit; cloud CLIs that refresh a token over the network take a few seconds,
 * and an interactive login (which we cannot offer anyway) would take longer. */
#define KLEASE__EXEC_TIMEOUT_MS_DEFAULT 30000
/* An ExecCredential is a few KiB; a plugin printing more is broken. */
#define KLEASE__EXEC_MAX_STDOUT ((size_t)1 << 20)
/* Standard error is kept for error messages and the debug log only. */
#define KLEASE__EXEC_MAX_STDERR ((size_t)4096)

/* What a plugin returned. Any pointer may be NULL. */
typedef struct klease__exec_result {
    char *token;
    char *cert_pem;
    size_t cert_pem_len;
    char *key_pem;
    size_t key_pem_len;
    int64_t expiry_ns; /* Unix-epoch wall time; INT64_MAX when no expirationTimestamp */
} klease__exec_result;

void klease__exec_result_clear(klease__exec_result *r);

#ifdef KLEASE_TEST_SEAMS
/* Test seam, only in klease_internal (built with KLEASE_TEST_SEAMS): sets
 * the process-wide plugin timeout; ms <= 0 restores the default. Atomic. */
void klease__exec_plugin_set_timeout_ms(int64_t ms);
#endif

/* A deep copy, or NULL when out of memory (or x is NULL). */
klease__exec_config *klease__exec_config_dup(const klease__exec_config *x);
/* NULL-safe. */
void klease__exec_config_free(klease__exec_config *x);

/* The KUBERNETES_EXEC_INFO value for a plugin: an ExecCredential request with
 * spec.interactive=false and, when x->provide_cluster_info, spec.cluster built
 * from `cfg` (server, tls-server-name, insecure-skip-tls-verify,
 * certificate-authority-data, proxy-url). *out is freed with klease__free.
 * KLEASE_ENOMEM only. */
klease_status klease__exec_info_json(const klease__exec_config *x, const klease__kube_config *cfg,
                                     char **out);

/* Parses a plugin's standard output (`len` bytes, no NUL needed): an
 * ExecCredential of `api_version` with status.token and/or
 * status.clientCertificateData + clientKeyData, and an optional RFC 3339
 * status.expirationTimestamp. KLEASE_EAUTH naming what is wrong,
 * KLEASE_ENOMEM. Entry point for fuzzing. */
klease_status klease__exec_credential_parse(const char *buf, size_t len, const char *api_version,
                                            klease__exec_result *out, klease_error *err);

/* Runs the plugin: looked up in $PATH when the command has no '/', started
 * with posix_spawn (no shell) in its own process group, stdin
 * from /dev/null, stdout and stderr captured, only fds 0-2 inherited, our
 * environment plus x->env plus KUBERNETES_EXEC_INFO=`exec_info`. The whole
 * process group is killed when the plugin outlives its time limit
 * (KLEASE__EXEC_TIMEOUT_MS_DEFAULT) or the call's budget `b` (may be NULL),
 * when the budget's cancel token fires, or when it prints more than
 * KLEASE__EXEC_MAX_STDOUT bytes. The call's budget running out is
 * KLEASE_ETIMEDOUT, a cancel KLEASE_ECLOSED; a spawn failure, non-zero exit,
 * signal, the plugin's own time limit, too much output or a bad
 * ExecCredential is KLEASE_EAUTH with a message that ends with the
 * installHint. Blocks the calling thread; call it without holding locks
 * other threads need quickly. */
klease_status klease__exec_plugin_run(const klease__exec_config *x, const char *exec_info,
                                      const klease__logger *log, const klease__budget *b,
                                      klease__exec_result *out, klease_error *err);

#endif
