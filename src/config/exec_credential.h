/* Exec credential plugins (client.authentication.k8s.io/v1 and v1beta1),
 * the data side: the KUBERNETES_EXEC_INFO request a plugin gets and the
 * ExecCredential it prints. Owned by config/exec_credential.c. */
#ifndef KLEASE_CONFIG_EXEC_CREDENTIAL_H
#define KLEASE_CONFIG_EXEC_CREDENTIAL_H

#include "config/kube_config.h"

#include <stddef.h>
#include <stdint.h>

#define KLEASE__EXEC_API_V1      "client.authentication.k8s.io/v1"
#define KLEASE__EXEC_API_V1BETA1 "client.authentication.k8s.io/v1beta1"

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

#endif
