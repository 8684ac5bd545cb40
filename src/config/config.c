/* Where connection settings come from, client-go's way: an explicit path,
 * else $KUBECONFIG (a ':'-list merged file by file), else ~/.kube/config,
 * else in-cluster. Merging follows client-go's rules without building a
 * merged document: every lookup walks the files in order and the first file
 * that defines a name (or sets current-context) wins, with the entry taken
 * whole from that file. */
#include "config/config.h"

#include "core/alloc.h"
#include "core/error.h"
#include "config/exec_credential.h"
#include "config/incluster.h"
#include "config/file.h"
#include "config/kubeconfig.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct loaded {
    klease__kubeconfig **docs;
    size_t n;
    char names[256]; /* the files read, for messages */
} loaded;

static void loaded_clear(loaded *ld)
{
    for (size_t i = 0; i < ld->n; i++)
        klease__kubeconfig_free(ld->docs[i]);
    klease__free(ld->docs);
}

static bool already_listed(const loaded *ld, const char *path)
{
    for (size_t i = 0; i < ld->n; i++) {
        if (strcmp(ld->docs[i]->origin, path) == 0)
            return true;
    }
    return false;
}

static klease_status load_file(loaded *ld, const char *path, bool must_exist,
                               const klease__logger *log, klease_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    klease__kubeconfig *kc = NULL;
    klease__kubeconfig **grown = NULL;

    /* client-go removes duplicates from the list before merging. */
    if (already_listed(ld, path))
        return KLEASE_OK;
    int e = klease__file_read(path, KLEASE__KUBECONFIG_MAX_BYTES, &buf, &len, NULL);
    if (e == ENOENT && !must_exist) {
        /* client-go skips missing files in $KUBECONFIG. */
        klease__log(log, KLEASE_LOG_DEBUG, "kubeconfig %s does not exist; skipped", path);
        return KLEASE_OK;
    }
    if (e == ENOMEM)
        return klease__fail(err, KLEASE_ENOMEM, "kubeconfig %s: out of memory", path);
    if (e == EFBIG)
        return klease__fail(err, KLEASE_ECONFIG,
                            "kubeconfig %s: larger than the limit of %zu bytes; not parsed", path,
                            KLEASE__KUBECONFIG_MAX_BYTES);
    if (e != 0)
        return klease__fail(err, KLEASE_ECONFIG, "kubeconfig %s: cannot read: %s", path,
                            klease__file_strerror(e));
    klease_status st = klease__kubeconfig_parse(buf, len, path, &kc, err);
    klease__free(buf);
    if (st != KLEASE_OK)
        return st;
    /* kubectl silently keeps the last value; we keep it too, but say so
     * once, since a repeated server: or token: is usually a mistake. */
    if (kc->dups.count > 0)
        klease__log(log, KLEASE_LOG_WARN,
                    "kubeconfig %s: key \"%s\" is repeated in the mapping at line %zu; the last "
                    "value is used, as kubectl does (%zu repeated key%s in the file)",
                    path, kc->dups.key, kc->dups.line, kc->dups.count,
                    kc->dups.count == 1 ? "" : "s");
    if ((grown = klease__realloc(ld->docs, (ld->n + 1) * sizeof *grown)) == NULL) {
        klease__kubeconfig_free(kc);
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    }
    ld->docs = grown;
    ld->docs[ld->n++] = kc;
    size_t used = strlen(ld->names);
    snprintf(ld->names + used, sizeof ld->names - used, "%s%s", used > 0 ? ":" : "", path);
    return KLEASE_OK;
}

/* A ':'-separated list; empty entries are skipped, as in client-go. */
static klease_status load_list(loaded *ld, const char *list, bool must_exist,
                               const klease__logger *log, klease_error *err)
{
    const char *p = list;
    while (*p != '\0') {
        const char *end = strchr(p, ':');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > 0) {
            char *path = klease__strndup(p, len);
            if (path == NULL)
                return klease__fail(err, KLEASE_ENOMEM, "out of memory");
            klease_status st = load_file(ld, path, must_exist, log, err);
            klease__free(path);
            if (st != KLEASE_OK)
                return st;
        }
        p += len;
        if (*p == ':')
            p++;
    }
    return KLEASE_OK;
}

/* Finds the first entry named `name` across the files, in order. Every entry
 * struct starts with its name. */
static const void *find(const loaded *ld, const char *name, size_t which,
                        const klease__kubeconfig **from)
{
    for (size_t i = 0; i < ld->n; i++) {
        const klease__kubeconfig *kc = ld->docs[i];
        const char *base = which == 0   ? (const char *)kc->clusters
                           : which == 1 ? (const char *)kc->users
                                        : (const char *)kc->contexts;
        size_t n = which == 0 ? kc->n_clusters : which == 1 ? kc->n_users : kc->n_contexts;
        size_t size = which == 0   ? sizeof(klease__kc_cluster)
                      : which == 1 ? sizeof(klease__kc_user)
                                   : sizeof(klease__kc_context);
        for (size_t j = 0; j < n; j++) {
            const void *e = base + j * size;
            if (strcmp(*(char *const *)e, name) == 0) {
                *from = kc;
                return e;
            }
        }
    }
    return NULL;
}

/* Checks a credential field of a user; NULL fields are unset. */
static klease_status check_credential(const char *where, const char *field, const char *s,
                                      klease_error *err)
{
    const char *why = s != NULL ? klease__credential_text_problem(s, strlen(s)) : NULL;
    if (why != NULL)
        return klease__fail(err, KLEASE_ECONFIG, "%s: %s %s; refused", where, field, why);
    return KLEASE_OK;
}

/* A token file's token: its text without surrounding whitespace, as
 * client-go and config/credentials.c use it. */
static const char *token_file_problem(const char *buf, size_t len)
{
    while (len > 0 && isspace((unsigned char)buf[len - 1]))
        len--;
    size_t skip = 0;
    while (skip < len && isspace((unsigned char)buf[skip]))
        skip++;
    return klease__credential_text_problem(buf + skip, len - skip);
}

static bool copy(char **dst, const char *src)
{
    return src == NULL || (*dst = klease__strdup(src)) != NULL;
}

/* Inline data (already decoded) or a file; client-go prefers the data. */
static klease_status data_or_file(const char *data, size_t data_len, const char *file, char **out,
                                  size_t *out_len, const char *where, const char *field,
                                  klease_error *err)
{
    if (data != NULL) {
        if ((*out = klease__malloc(data_len + 1)) == NULL)
            return klease__fail(err, KLEASE_ENOMEM, "out of memory");
        memcpy(*out, data, data_len);
        (*out)[data_len] = '\0';
        *out_len = data_len;
        return KLEASE_OK;
    }
    if (file == NULL)
        return KLEASE_OK;
    int e = klease__file_read(file, KLEASE__PEM_FILE_MAX, out, out_len, NULL);
    if (e == ENOMEM)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    if (e == 0 && *out_len == 0) {
        klease__free(*out);
        *out = NULL;
        return klease__fail(err, KLEASE_ECONFIG, "%s: %s %s: the file is empty", where, field,
                            file);
    }
    if (e != 0)
        return klease__fail(err, KLEASE_ECONFIG, "%s: %s %s: %s", where, field, file,
                            klease__file_strerror(e));
    return KLEASE_OK;
}

static bool has_scheme(const char *url, const char *scheme)
{
    size_t n = strlen(scheme);
    return strncasecmp(url, scheme, n) == 0 && strncmp(url + n, "://", 3) == 0 &&
           url[n + 3] != '\0' && url[n + 3] != '/';
}

/* cfg->server from the cluster's server: https:// added to a bare
 * "host:port" (client-go's default), no trailing '/', no user info. */
static klease_status fill_server(klease__kube_config *cfg, const klease__kc_cluster *cl,
                                 const char *where, const klease__logger *log, klease_error *err)
{
    char shown[128];
    if (cl->server == NULL)
        return klease__fail(err, KLEASE_ECONFIG, "%s: server: missing", where);
    klease__url_redact(cl->server, shown, sizeof shown);
    bool bare = strstr(cl->server, "://") == NULL;
    size_t len = strlen(cl->server) + (bare ? 8 : 0) + 1;
    if ((cfg->server = klease__malloc(len)) == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    snprintf(cfg->server, len, "%s%s", bare ? "https://" : "", cl->server);
    if (!has_scheme(cfg->server, "https") && !has_scheme(cfg->server, "http"))
        return klease__fail(err, KLEASE_ECONFIG,
                            "%s: server \"%s\": expected an http:// or https:// URL with a host",
                            where, shown);
    for (size_t n = strlen(cfg->server); n > 0 && cfg->server[n - 1] == '/'; n--)
        cfg->server[n - 1] = '\0';
    /* The transport never sends user info from the URL, so it is dropped
     * here, where it cannot reach a log line, an error or the exec plugin. */
    size_t ui_start = 0, ui_len = 0;
    if (klease__url_userinfo(cfg->server, &ui_start, &ui_len)) {
        memmove(cfg->server + ui_start, cfg->server + ui_start + ui_len,
                strlen(cfg->server + ui_start + ui_len) + 1);
        klease__log(log, KLEASE_LOG_WARN,
                    "%s: server \"%s\": user info in the URL is ignored (put credentials in the "
                    "user's username and password)",
                    where, shown);
    }
    return KLEASE_OK;
}

/* A proxy URL libcurl will take, with a scheme we support. */
static klease_status check_proxy(const char *proxy_url, const char *where, klease_error *err)
{
    char shown[128];
    if (proxy_url == NULL)
        return KLEASE_OK;
    if (!has_scheme(proxy_url, "http") && !has_scheme(proxy_url, "https") &&
        !has_scheme(proxy_url, "socks5"))
        return klease__fail(err, KLEASE_ECONFIG,
                            "%s: proxy-url \"%s\": the scheme must be http, https or socks5", where,
                            klease__url_redact(proxy_url, shown, sizeof shown));
    /* libcurl quotes a proxy URL it cannot parse in its error message,
     * user info and all: refuse such a URL here, where it is redacted. */
    CURLU *u = curl_url();
    if (u == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, proxy_url, CURLU_NON_SUPPORT_SCHEME);
    curl_url_cleanup(u);
    if (rc != CURLUE_OK)
        return klease__fail(err, KLEASE_ECONFIG, "%s: proxy-url \"%s\": not a valid URL (%s)",
                            where, klease__url_redact(proxy_url, shown, sizeof shown),
                            curl_url_strerror(rc));
    return KLEASE_OK;
}

static klease_status fill_cluster(klease__kube_config *cfg, const klease__kc_cluster *cl,
                                  const klease__kubeconfig *kc, const klease__logger *log,
                                  klease_error *err)
{
    char where[320];
    snprintf(where, sizeof where, "kubeconfig %s: cluster \"%.64s\"", kc->origin, cl->name);
    klease_status st;
    if ((st = fill_server(cfg, cl, where, log, err)) != KLEASE_OK ||
        (st = check_proxy(cl->proxy_url, where, err)) != KLEASE_OK)
        return st;
    if (!copy(&cfg->proxy_url, cl->proxy_url) || !copy(&cfg->tls_server_name, cl->tls_server_name))
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");

    if (cl->ca_data != NULL && cl->ca_file != NULL)
        klease__log(log, KLEASE_LOG_DEBUG,
                    "%s: certificate-authority-data and certificate-authority are both set; "
                    "using the data",
                    where);
    st = data_or_file(cl->ca_data, cl->ca_data_len, cl->ca_file, &cfg->ca_pem, &cfg->ca_pem_len,
                      where, "certificate-authority", err);
    if (st != KLEASE_OK)
        return st;
    if (cl->insecure_skip_tls_verify) {
        /* client-go refuses this pair ("specifying a root certificates file
         * with the insecure flag is not allowed"): one of them is a mistake. */
        if (cfg->ca_pem != NULL)
            return klease__fail(err, KLEASE_ECONFIG,
                                "%s: insecure-skip-tls-verify cannot be combined with "
                                "certificate-authority or certificate-authority-data",
                                where);
        cfg->insecure_skip_tls_verify = true;
        klease__log(log, KLEASE_LOG_WARN,
                    "%s: insecure-skip-tls-verify is set: the API server's certificate will not "
                    "be verified",
                    where);
    }
    return KLEASE_OK;
}

static klease_status check_exec(const klease__kc_user *u, const char *where, int *mode,
                                klease_error *err)
{
    const char *v = u->exec->api_version;
    bool beta = v != NULL && strcmp(v, KLEASE__EXEC_API_V1BETA1) == 0;
    if (v == NULL || (!beta && strcmp(v, KLEASE__EXEC_API_V1) != 0))
        return klease__fail(err, KLEASE_ECONFIG,
                            "%s: exec.apiVersion \"%.80s\": expected " KLEASE__EXEC_API_V1
                            " or " KLEASE__EXEC_API_V1BETA1,
                            where, v != NULL ? v : "");
    const char *m = u->exec_interactive_mode;
    if (m == NULL && beta)
        m = "IfAvailable"; /* client-go's default for v1beta1; v1 requires it */
    if (m == NULL)
        return klease__fail(err, KLEASE_ECONFIG,
                            "%s: exec.interactiveMode: required with " KLEASE__EXEC_API_V1, where);
    if (strcmp(m, "Never") == 0)
        *mode = 0;
    else if (strcmp(m, "IfAvailable") == 0)
        *mode = 1;
    else if (strcmp(m, "Always") == 0)
        return klease__fail(err, KLEASE_ECONFIG,
                            "%s: exec.interactiveMode Always needs a terminal, and libklease "
                            "never gives a plugin one",
                            where);
    else
        return klease__fail(err, KLEASE_ECONFIG,
                            "%s: exec.interactiveMode \"%.40s\": expected Never, IfAvailable or "
                            "Always",
                            where, m);
    return KLEASE_OK;
}

static klease_status fill_user(klease__kube_config *cfg, const klease__kc_user *u,
                               const klease__kubeconfig *kc, klease_error *err)
{
    klease_status st;
    char where[320];
    snprintf(where, sizeof where, "kubeconfig %s: user \"%.64s\"", kc->origin, u->name);
    if (u->has_auth_provider)
        return klease__fail(err, KLEASE_ECONFIG,
                            "%s: auth-provider \"%.40s\" is unsupported, use an exec plugin "
                            "(client.authentication.k8s.io/v1) instead",
                            where, u->auth_provider_name != NULL ? u->auth_provider_name : "");
    if (u->has_impersonation)
        return klease__fail(err, KLEASE_ECONFIG,
                            "%s: impersonation (as, as-uid, as-groups, as-user-extra) is not "
                            "supported",
                            where);
    if ((u->token != NULL || u->token_file != NULL) && (u->username != NULL || u->password != NULL))
        return klease__fail(err, KLEASE_ECONFIG,
                            "%s: more than one authentication method (a token and a username/"
                            "password); only one is allowed",
                            where);
    bool has_cert = u->cert_data != NULL || u->cert_file != NULL;
    bool has_key = u->key_data != NULL || u->key_file != NULL;
    if (has_cert != has_key)
        return klease__fail(err, KLEASE_ECONFIG, "%s: %s is set but %s is not", where,
                            has_cert ? "client-certificate(-data)" : "client-key(-data)",
                            has_cert ? "client-key(-data)" : "client-certificate(-data)");
    if ((st = data_or_file(u->cert_data, u->cert_data_len, u->cert_file, &cfg->client_cert_pem,
                           &cfg->client_cert_pem_len, where, "client-certificate", err)) !=
            KLEASE_OK ||
        (st = data_or_file(u->key_data, u->key_data_len, u->key_file, &cfg->client_key_pem,
                           &cfg->client_key_pem_len, where, "client-key", err)) != KLEASE_OK)
        return st;
    if (u->token_file != NULL && u->token == NULL) {
        /* client-go reads the file at load time when there is no static
         * token, so a wrong path fails early, not on the first request. */
        char *tok = NULL;
        size_t len = 0;
        int e = klease__file_read(u->token_file, (size_t)1 << 20, &tok, &len, NULL);
        const char *why = e == 0 ? token_file_problem(tok, len) : NULL;
        klease__free(tok);
        if (e == ENOMEM)
            return klease__fail(err, KLEASE_ENOMEM, "out of memory");
        if (e != 0)
            return klease__fail(err, KLEASE_ECONFIG, "%s: tokenFile %s: %s", where, u->token_file,
                                klease__file_strerror(e));
        if (why != NULL)
            return klease__fail(err, KLEASE_ECONFIG, "%s: tokenFile %s: the token %s; refused",
                                where, u->token_file, why);
    }
    if ((st = check_credential(where, "token:", u->token, err)) != KLEASE_OK ||
        (st = check_credential(where, "username:", u->username, err)) != KLEASE_OK ||
        (st = check_credential(where, "password:", u->password, err)) != KLEASE_OK)
        return st;
    int mode = 0;
    if (u->exec != NULL && (st = check_exec(u, where, &mode, err)) != KLEASE_OK)
        return st;
    if (!copy(&cfg->token, u->token) || !copy(&cfg->token_file, u->token_file) ||
        !copy(&cfg->username, u->username) || !copy(&cfg->password, u->password) ||
        (u->exec != NULL && (cfg->exec = klease__exec_config_dup(u->exec)) == NULL))
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    if (cfg->exec != NULL)
        cfg->exec->interactive_mode = mode;
    return KLEASE_OK;
}

/* Where the overrides come from, for messages. */
static const klease__kubeconfig overrides_origin = {.origin = (char *)"(overrides)"};

static void whose_entry(char *buf, size_t size, bool requested, const klease__kc_context *ctx)
{
    if (requested || ctx == NULL)
        snprintf(buf, size, "the requested ");
    else
        snprintf(buf, size, "context \"%.64s\": ", ctx->name);
}

/* The cluster and user to use: the context's, or those the overrides name
 * (`ctx` may be NULL when the overrides say enough). */
static klease_status pick_entries(const loaded *ld, const klease__kc_context *ctx,
                                  const klease__kubeconfig *ctx_kc,
                                  const klease__config_request *req, const klease__kc_cluster **cl,
                                  const klease__kubeconfig **cl_kc, const klease__kc_user **u,
                                  const klease__kubeconfig **u_kc, klease_error *err)
{
    const char *cl_name = req->cluster != NULL ? req->cluster : ctx != NULL ? ctx->cluster : NULL;
    const char *u_name = req->user != NULL ? req->user : ctx != NULL ? ctx->user : NULL;
    const char *files = ld->n > 0 ? ld->names : "none";
    const char *in = ctx != NULL ? ctx_kc->origin : files;
    if (cl_name == NULL && req->server == NULL)
        return klease__fail(err, KLEASE_ECONFIG,
                            "kubeconfig %s: context \"%.64s\": cluster: missing", in,
                            ctx != NULL ? ctx->name : "");
    /* "context \"x\": " or "the requested ", before "cluster \"NAME\"". */
    char whose[128];
    if (cl_name != NULL && (*cl = find(ld, cl_name, 0, cl_kc)) == NULL) {
        whose_entry(whose, sizeof whose, req->cluster != NULL, ctx);
        return klease__fail(err, KLEASE_ECONFIG,
                            "kubeconfig %s: %scluster \"%.64s\" is not defined (files: %s)", in,
                            whose, cl_name, files);
    }
    /* A context without a user is anonymous; a user that is named must exist. */
    if (u_name != NULL && (*u = find(ld, u_name, 1, u_kc)) == NULL) {
        whose_entry(whose, sizeof whose, req->user != NULL, ctx);
        return klease__fail(err, KLEASE_ECONFIG,
                            "kubeconfig %s: %suser \"%.64s\" is not defined (files: %s)", in, whose,
                            u_name, files);
    }
    return KLEASE_OK;
}

/* The cluster and user with kubectl's overrides applied: shallow copies
 * whose replaced fields point at the request's strings, so that every
 * check fill_cluster and fill_user make applies to the overrides too. */
static void apply_overrides(const klease__config_request *req, klease__kc_cluster *cl,
                            klease__kc_user *u)
{
    if (req->server != NULL)
        cl->server = (char *)req->server;
    /* As client-go: either TLS override replaces both of the cluster's. */
    if (req->certificate_authority != NULL || req->insecure_skip_tls_verify) {
        cl->ca_file = (char *)req->certificate_authority;
        cl->ca_data = NULL;
        cl->ca_data_len = 0;
        cl->insecure_skip_tls_verify = req->insecure_skip_tls_verify;
    }
    if (req->token != NULL) {
        u->token = (char *)req->token;
        u->token_file = NULL;
        u->exec = NULL;
        u->exec_interactive_mode = NULL;
        u->username = u->password = NULL;
    }
}

static klease_status resolve(klease__kube_config **out, const loaded *ld, const char *ctx_name,
                             bool requested, const klease__config_request *req,
                             const klease__logger *log, klease_error *err)
{
    klease_status st = KLEASE_OK;
    const klease__kubeconfig *ctx_kc = NULL, *cl_kc = &overrides_origin, *u_kc = &overrides_origin;
    const klease__kc_context *ctx = ctx_name != NULL ? find(ld, ctx_name, 2, &ctx_kc) : NULL;
    const klease__kc_cluster *cl = NULL;
    const klease__kc_user *u = NULL;
    klease__kube_config *cfg = NULL;

    if (ctx == NULL && ctx_name != NULL)
        return klease__fail(err, KLEASE_ECONFIG, "kubeconfig %s: %s \"%.64s\" is not defined",
                            ld->names, requested ? "the requested context" : "current-context",
                            ctx_name);
    if ((st = pick_entries(ld, ctx, ctx_kc, req, &cl, &cl_kc, &u, &u_kc, err)) != KLEASE_OK)
        return st;
    klease__kc_cluster cl_used = {.name = (char *)"(overrides)"};
    klease__kc_user u_used = {.name = (char *)"(overrides)"};
    if (cl != NULL)
        cl_used = *cl;
    if (u != NULL)
        u_used = *u;
    apply_overrides(req, &cl_used, &u_used);

    if ((cfg = klease__calloc(1, sizeof *cfg)) == NULL) {
        st = klease__fail(err, KLEASE_ENOMEM, "out of memory");
        goto out;
    }
    if ((st = fill_cluster(cfg, &cl_used, cl_kc, log, err)) != KLEASE_OK ||
        ((u != NULL || req->token != NULL) &&
         (st = fill_user(cfg, &u_used, u_kc, err)) != KLEASE_OK))
        goto out;
    const char *origin = ctx != NULL ? ctx_kc->origin : ld->n > 0 ? ld->names : "(none)";
    const char *ctx_shown = ctx != NULL ? ctx->name : "(overrides)";
    size_t len = strlen(origin) + strlen(ctx_shown) + 32;
    if (!copy(&cfg->ns, ctx != NULL && ctx->ns != NULL ? ctx->ns : "default") ||
        (cfg->source = klease__malloc(len)) == NULL) {
        st = klease__fail(err, KLEASE_ENOMEM, "out of memory");
        goto out;
    }
    snprintf(cfg->source, len, "kubeconfig %s, context %s", origin, ctx_shown);
    klease__log(log, KLEASE_LOG_DEBUG, "using %s (server %s)", cfg->source, cfg->server);
    *out = cfg;
    cfg = NULL;
out:
    klease__kube_config_free(cfg);
    return st;
}

klease_status klease__kube_config_load(klease__kube_config **out, const klease__config_request *req,
                                       const klease__logger *log, klease_error *err)
{
    static const klease__config_request none = {0};
    klease_status st = KLEASE_OK;
    loaded ld = {0};
    char *home_config = NULL;
    const char *tried;

    if (req == NULL)
        req = &none;
    const char *env = getenv("KUBECONFIG");
    const char *home = getenv("HOME");
    if (req->kubeconfig != NULL && req->kubeconfig[0] != '\0') {
        /* An explicit path is like kubectl --kubeconfig: it must exist. */
        tried = req->kubeconfig;
        st = load_list(&ld, req->kubeconfig, true, log, err);
    } else if (env != NULL && env[0] != '\0') {
        tried = env;
        st = load_list(&ld, env, false, log, err);
    } else if (home != NULL && home[0] != '\0') {
        size_t len = strlen(home) + sizeof "/.kube/config";
        if ((home_config = klease__malloc(len)) == NULL) {
            st = klease__fail(err, KLEASE_ENOMEM, "out of memory");
            goto out;
        }
        snprintf(home_config, len, "%s/.kube/config", home);
        tried = home_config;
        st = load_file(&ld, home_config, false, log, err);
    } else {
        tried = "$HOME/.kube/config ($HOME is not set)";
    }
    if (st != KLEASE_OK)
        goto out;

    const char *ctx_name = req->context != NULL && req->context[0] != '\0' ? req->context : NULL;
    for (size_t i = 0; ctx_name == NULL && i < ld.n; i++)
        ctx_name = ld.docs[i]->current_context;
    /* kubectl --server or --cluster needs no context. */
    if (ctx_name != NULL || req->server != NULL || req->cluster != NULL) {
        st = resolve(out, &ld, ctx_name, ctx_name == req->context, req, log, err);
        goto out;
    }
    /* Nothing chose a context: client-go then falls back to in-cluster
     * config when it is possible, whatever the files said. */
    const char *dir = req->in_cluster_dir != NULL ? req->in_cluster_dir : KLEASE__INCLUSTER_DIR;
    if (klease__incluster_possible(dir)) {
        if (ld.n > 0)
            klease__log(log, KLEASE_LOG_INFO,
                        "kubeconfig %s sets no current-context; using in-cluster config", ld.names);
        st = klease__incluster_load(out, dir, log, err);
    } else if (ld.n > 0) {
        st = klease__fail(err, KLEASE_ECONFIG,
                          "kubeconfig %s: no current-context is set and no context was "
                          "requested",
                          ld.names);
    } else {
        st = klease__fail(err, KLEASE_ECONFIG,
                          "no Kubernetes configuration: no kubeconfig found (%s) and not running "
                          "in a cluster (KUBERNETES_SERVICE_HOST/PORT unset or %s/token missing)",
                          tried, dir);
    }
out:
    klease__free(home_config);
    loaded_clear(&ld);
    return st;
}
