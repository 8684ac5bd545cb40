/* Resolved Kubernetes connection settings, as plain values: where the API
 * server is and who we are. config/config.c and config/incluster.c produce
 * them; the libcurl transport (http/http_curl.c) and the credentials
 * (config/credentials.h) consume them. Owned by config/kube_config.c, which
 * also holds the checks every credential and URL passes. */
#ifndef KLEASE_CONFIG_KUBE_CONFIG_H
#define KLEASE_CONFIG_KUBE_CONFIG_H

#include "klease/klease.h"

#include <stdbool.h>
#include <stddef.h>

/* Largest certificate file read (CA bundles reach a few hundred KiB). */
#define KLEASE__PEM_FILE_MAX ((size_t)8 << 20)

/* An exec credential plugin (client.authentication.k8s.io/v1 or v1beta1). */
typedef struct klease__exec_config {
    char *command;      /* resolved against the kubeconfig's directory if relative with a '/' */
    char **args;        /* NULL-terminated; never NULL */
    char **env;         /* "NAME=VALUE", NULL-terminated; never NULL; added to our environment */
    char *api_version;  /* "client.authentication.k8s.io/v1" or ".../v1beta1" */
    char *install_hint; /* may be NULL */
    bool provide_cluster_info;
    int interactive_mode; /* 0 Never, 1 IfAvailable, 2 Always (we never have a terminal: Always
                             fails) */
} klease__exec_config;

/* Resolved settings for one cluster + user. Every pointer is owned by the
 * struct and freed by klease__kube_config_free. PEM blobs are NUL-terminated
 * as well as length-counted. */
typedef struct klease__kube_config {
    char *server;          /* "https://host:port[/path]", no trailing '/' */
    char *tls_server_name; /* NULL: the host of `server` */
    char *proxy_url;       /* http://, https:// or socks5:// ; NULL: none */
    bool insecure_skip_tls_verify;
    char *ca_pem; /* NULL: system trust store */
    size_t ca_pem_len;
    char *client_cert_pem; /* static client certificate; NULL: none */
    size_t client_cert_pem_len;
    char *client_key_pem;
    size_t client_key_pem_len;
    char *token;      /* static bearer token; NULL: none */
    char *token_file; /* bearer token re-read when the file changes; NULL: none */
    char *username;   /* basic auth; NULL: none */
    char *password;
    klease__exec_config *exec; /* NULL: none */
    char *ns;                  /* the context's namespace, else "default" */
    char *source;              /* where this came from, for messages, e.g.
                                  "kubeconfig /home/u/.kube/config, context kind-dev" or "in-cluster" */
} klease__kube_config;

void klease__kube_config_free(klease__kube_config *cfg);

/* A deep copy, or NULL when out of memory (or x is NULL). */
klease__exec_config *klease__exec_config_dup(const klease__exec_config *x);
/* NULL-safe. */
void klease__exec_config_free(klease__exec_config *x);

/* Why `s` (`len` bytes) cannot go into an HTTP header as a credential, or
 * NULL when it can. Control characters are refused: a CR or LF in a token
 * would end the Authorization header and start one of the sender's
 * choosing. Every token, user name and password is checked with this,
 * wherever it comes from. Static string. */
const char *klease__credential_text_problem(const char *s, size_t len);

/* Where the user info of `url` is: [*start, *start + *len) ends with its
 * '@'. False when there is none. */
bool klease__url_userinfo(const char *url, size_t *start, size_t *len);

/* Copies `url` into `out` (`size` bytes, always NUL-terminated, cut if
 * needed) with its user info ("user:password@") replaced by "redacted@".
 * Every URL that may reach a log line or an error message goes through
 * this. Returns `out`. */
char *klease__url_redact(const char *url, char *out, size_t size);

#endif
