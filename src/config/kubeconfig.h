/* One kubeconfig file, parsed into typed entries (client-go's api.Config,
 * limited to what libklease uses). Merging several files and choosing the
 * context happen in config/config.c. */
#ifndef KLEASE_CONFIG_KUBECONFIG_H
#define KLEASE_CONFIG_KUBECONFIG_H

#include "config/kube_config.h"
#include "config/yaml_json.h"

#include <stdbool.h>
#include <stddef.h>

/* Longest kubeconfig file read; real ones are a few KiB to a few MiB. */
#define KLEASE__KUBECONFIG_MAX_BYTES ((size_t)16 << 20)

/* Empty strings in the file are stored as NULL, as client-go treats "" as
 * unset. Relative paths are already resolved against the file's directory. */
typedef struct klease__kc_cluster {
    char *name;
    char *server;
    char *tls_server_name;
    char *proxy_url;
    bool insecure_skip_tls_verify;
    char *ca_file;
    char *ca_data; /* decoded certificate-authority-data */
    size_t ca_data_len;
} klease__kc_cluster;

typedef struct klease__kc_user {
    char *name;
    char *token;
    char *token_file;
    char *cert_file;
    char *key_file;
    char *cert_data; /* decoded client-certificate-data */
    size_t cert_data_len;
    char *key_data;
    size_t key_data_len;
    char *username;
    char *password;
    bool has_auth_provider;
    char *auth_provider_name; /* may be NULL even when has_auth_provider */
    bool has_impersonation;   /* as, as-uid, as-groups or as-user-extra */
    klease__exec_config *exec;
    char *exec_interactive_mode; /* as written; validated when the user is chosen */
} klease__kc_user;

typedef struct klease__kc_context {
    char *name;
    char *cluster;
    char *user;
    char *ns;
} klease__kc_context;

typedef struct klease__kubeconfig {
    char *origin; /* the file name given to the parser, for messages */
    char *current_context;
    klease__kc_cluster *clusters;
    size_t n_clusters;
    klease__kc_user *users;
    size_t n_users;
    klease__kc_context *contexts;
    size_t n_contexts;
    klease__yaml_dups dups; /* repeated keys, of which the last value was kept */
} klease__kubeconfig;

/* Parses one kubeconfig held in `buf` (`len` bytes, no NUL needed). `origin`
 * names it in messages and, when it contains a '/', gives the directory that
 * relative paths in the file are resolved against (NULL: "kubeconfig", no
 * resolution). An empty file or an empty document gives an empty config, as
 * in client-go. Unknown fields are ignored; wrong types, duplicate names,
 * missing names and bad base64 are KLEASE_ECONFIG with a message naming
 * `origin` and the field. KLEASE_ENOMEM on allocation failure. This is the
 * entry point for fuzzing. */
klease_status klease__kubeconfig_parse(const char *buf, size_t len, const char *origin,
                                       klease__kubeconfig **out, klease_error *err);

void klease__kubeconfig_free(klease__kubeconfig *kc);

#endif
