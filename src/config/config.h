/* Loading connection settings: kubeconfig files (client-go's rules) or
 * in-cluster config, resolved into a klease__kube_config (config/kube_config.h).
 * Owned by config/config.c. */
#ifndef KLEASE_CONFIG_CONFIG_H
#define KLEASE_CONFIG_CONFIG_H

#include "config/kube_config.h"
#include "core/log.h"
#include "klease/klease.h"

/* What to load. All fields may be NULL/empty for the default behaviour. */
typedef struct klease__config_request {
    const char
        *kubeconfig;     /* explicit path (a single file, or a ':'-list); overrides $KUBECONFIG */
    const char *context; /* overrides current-context */
    const char *in_cluster_dir; /* default /var/run/secrets/kubernetes.io/serviceaccount */
    /* kubectl's overrides of what the context says; NULL/false: none.
     * `cluster` and `user` name kubeconfig entries used instead of the
     * context's; `server`, `certificate_authority` (a file) and `insecure`
     * replace the cluster's; `token` replaces the user's token, token file,
     * exec plugin and basic auth (a client certificate stays). With `server`
     * or `cluster` no context is needed. */
    const char *cluster;
    const char *user;
    const char *server;
    const char *token;
    const char *certificate_authority;
    bool insecure_skip_tls_verify;
} klease__config_request;

/* Loads settings: an explicit path, else $KUBECONFIG (':'-separated list
 * merged with client-go's rules), else ~/.kube/config when it exists, else
 * in-cluster ($KUBERNETES_SERVICE_HOST/PORT and the service-account
 * directory). KLEASE_ECONFIG with a message naming the file and the field on
 * any problem; KLEASE_ENOMEM on allocation failure. */
klease_status klease__kube_config_load(klease__kube_config **out, const klease__config_request *req,
                                       const klease__logger *log, klease_error *err);

#endif
