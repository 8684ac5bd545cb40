/* One kubeconfig file: YAML text to typed entries. Everything the chosen
 * context will need is checked here for every entry, as client-go's decoder
 * does (a wrong type anywhere fails the whole file); checks that need the
 * file system or the choice of a context happen in config/config.c. */
#include "config/kubeconfig.h"

#include "core/alloc.h"
#include "core/error.h"
#include "config/base64.h"
#include "config/exec_credential.h"
#include "config/yaml_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct pctx {
    const char *origin;
    const char *dir; /* resolve relative paths against this; NULL: leave them */
    size_t dir_len;
    klease_error *err;
} pctx;

static klease_status nomem(pctx *p)
{
    return klease__fail(p->err, KLEASE_ENOMEM, "kubeconfig %s: out of memory", p->origin);
}

static klease_status bad(pctx *p, const char *where, const char *field, const char *what)
{
    return klease__fail(p->err, KLEASE_ECONFIG, "kubeconfig %s: %s%s%s: %s", p->origin, where,
                        where[0] != '\0' && field[0] != '\0' ? "." : "", field, what);
}

/* A string field: missing, null and "" all mean unset (NULL), as in client-go. */
static klease_status get_str(pctx *p, const cJSON *obj, const char *key, const char *where,
                             char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL || cJSON_IsNull(v))
        return KLEASE_OK;
    if (!cJSON_IsString(v))
        return bad(p, where, key, "expected a string");
    if (v->valuestring[0] == '\0')
        return KLEASE_OK;
    if ((*out = klease__strdup(v->valuestring)) == NULL)
        return nomem(p);
    return KLEASE_OK;
}

/* The YAML 1.1 booleans go-yaml (and so kubectl) accepts. */
static klease_status get_bool(pctx *p, const cJSON *obj, const char *key, const char *where,
                              bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "y"};
    static const char *const no[] = {"false", "no", "off", "n"};
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL || cJSON_IsNull(v))
        return KLEASE_OK;
    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v);
        return KLEASE_OK;
    }
    if (cJSON_IsString(v)) {
        for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
            if (strcasecmp(v->valuestring, yes[i]) == 0) {
                *out = true;
                return KLEASE_OK;
            }
            if (strcasecmp(v->valuestring, no[i]) == 0) {
                *out = false;
                return KLEASE_OK;
            }
        }
    }
    return bad(p, where, key, "expected true or false");
}

/* A file path: relative paths are relative to the kubeconfig's directory
 * (client-go's ResolveLocalPaths). */
static klease_status resolve_path(pctx *p, char **path)
{
    if (*path == NULL || (*path)[0] == '/' || p->dir == NULL)
        return KLEASE_OK;
    size_t len = p->dir_len + 1 + strlen(*path) + 1;
    char *abs = klease__malloc(len);
    if (abs == NULL)
        return nomem(p);
    snprintf(abs, len, "%.*s/%s", (int)p->dir_len, p->dir, *path);
    klease__free(*path);
    *path = abs;
    return KLEASE_OK;
}

static klease_status get_path(pctx *p, const cJSON *obj, const char *key, const char *where,
                              char **out)
{
    klease_status st = get_str(p, obj, key, where, out);
    return st != KLEASE_OK ? st : resolve_path(p, out);
}

static klease_status get_base64(pctx *p, const cJSON *obj, const char *key, const char *where,
                                char **out, size_t *out_len)
{
    char *text = NULL;
    klease_status st = get_str(p, obj, key, where, &text);
    if (st != KLEASE_OK || text == NULL)
        return st;
    st = klease__base64_decode(text, strlen(text), out, out_len);
    klease__free(text);
    if (st == KLEASE_EINVAL)
        return bad(p, where, key, "invalid base64");
    if (st != KLEASE_OK)
        return nomem(p);
    return KLEASE_OK;
}

static bool is_set(const cJSON *v)
{
    if (v == NULL || cJSON_IsNull(v))
        return false;
    if (cJSON_IsString(v))
        return v->valuestring[0] != '\0';
    if (cJSON_IsArray(v) || cJSON_IsObject(v))
        return v->child != NULL;
    return true;
}

/* A NULL-terminated string array from a list of strings (args). */
static klease_status get_str_list(pctx *p, const cJSON *obj, const char *key, const char *where,
                                  char ***out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v != NULL && !cJSON_IsNull(v) && !cJSON_IsArray(v))
        return bad(p, where, key, "expected a list of strings");
    size_t n = v != NULL ? (size_t)cJSON_GetArraySize(v) : 0;
    char **list = klease__calloc(n + 1, sizeof *list);
    if (list == NULL)
        return nomem(p);
    *out = list;
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it))
            return bad(p, where, key, "expected a list of strings");
        if ((list[i++] = klease__strdup(it->valuestring)) == NULL)
            return nomem(p);
    }
    return KLEASE_OK;
}

/* exec.env: a list of {name, value}, stored as "NAME=VALUE". */
static klease_status get_env(pctx *p, const cJSON *obj, const char *where, char ***out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "env");
    if (v != NULL && !cJSON_IsNull(v) && !cJSON_IsArray(v))
        return bad(p, where, "env", "expected a list of {name, value}");
    size_t n = v != NULL ? (size_t)cJSON_GetArraySize(v) : 0;
    char **list = klease__calloc(n + 1, sizeof *list);
    if (list == NULL)
        return nomem(p);
    *out = list;
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(it, "value");
        if (!cJSON_IsObject(it) || !cJSON_IsString(name))
            return bad(p, where, "env", "each entry needs a name");
        if (name->valuestring[0] == '\0' || strchr(name->valuestring, '=') != NULL)
            return bad(p, where, "env", "a name is empty or contains '='");
        if (value != NULL && !cJSON_IsNull(value) && !cJSON_IsString(value))
            return bad(p, where, "env", "a value is not a string");
        const char *val = cJSON_IsString(value) ? value->valuestring : "";
        size_t len = strlen(name->valuestring) + 1 + strlen(val) + 1;
        if ((list[i] = klease__malloc(len)) == NULL)
            return nomem(p);
        snprintf(list[i++], len, "%s=%s", name->valuestring, val);
    }
    return KLEASE_OK;
}

static klease_status parse_exec(pctx *p, const cJSON *v, const char *where, klease__kc_user *u)
{
    klease_status st;
    char w[192];
    snprintf(w, sizeof w, "%s.exec", where);
    if (!cJSON_IsObject(v))
        return bad(p, w, "", "expected a mapping");
    klease__exec_config *x = klease__calloc(1, sizeof *x);
    if (x == NULL)
        return nomem(p);
    u->exec = x;
    if ((st = get_str(p, v, "command", w, &x->command)) != KLEASE_OK ||
        (st = get_str(p, v, "apiVersion", w, &x->api_version)) != KLEASE_OK ||
        (st = get_str(p, v, "installHint", w, &x->install_hint)) != KLEASE_OK ||
        (st = get_str(p, v, "interactiveMode", w, &u->exec_interactive_mode)) != KLEASE_OK ||
        (st = get_bool(p, v, "provideClusterInfo", w, &x->provide_cluster_info)) != KLEASE_OK ||
        (st = get_str_list(p, v, "args", w, &x->args)) != KLEASE_OK ||
        (st = get_env(p, v, w, &x->env)) != KLEASE_OK)
        return st;
    if (x->command == NULL)
        return bad(p, w, "command", "missing");
    /* A bare name is looked up in $PATH; only a path with a '/' is relative
     * to the kubeconfig (client-go does the same). */
    if (strchr(x->command, '/') != NULL)
        return resolve_path(p, &x->command);
    return KLEASE_OK;
}

static klease_status parse_cluster(pctx *p, const cJSON *o, const char *where, void *elem)
{
    klease__kc_cluster *c = elem;
    klease_status st;
    if ((st = get_str(p, o, "server", where, &c->server)) != KLEASE_OK ||
        (st = get_str(p, o, "tls-server-name", where, &c->tls_server_name)) != KLEASE_OK ||
        (st = get_str(p, o, "proxy-url", where, &c->proxy_url)) != KLEASE_OK ||
        (st = get_bool(p, o, "insecure-skip-tls-verify", where, &c->insecure_skip_tls_verify)) !=
            KLEASE_OK ||
        (st = get_path(p, o, "certificate-authority", where, &c->ca_file)) != KLEASE_OK ||
        (st = get_base64(p, o, "certificate-authority-data", where, &c->ca_data,
                         &c->ca_data_len)) != KLEASE_OK)
        return st;
    return KLEASE_OK;
}

static klease_status parse_user(pctx *p, const cJSON *o, const char *where, void *elem)
{
    static const char *const impersonation[] = {"as", "as-uid", "as-groups", "as-user-extra"};
    klease__kc_user *u = elem;
    klease_status st;
    if ((st = get_str(p, o, "token", where, &u->token)) != KLEASE_OK ||
        (st = get_path(p, o, "tokenFile", where, &u->token_file)) != KLEASE_OK ||
        (st = get_path(p, o, "client-certificate", where, &u->cert_file)) != KLEASE_OK ||
        (st = get_path(p, o, "client-key", where, &u->key_file)) != KLEASE_OK ||
        (st = get_base64(p, o, "client-certificate-data", where, &u->cert_data,
                         &u->cert_data_len)) != KLEASE_OK ||
        (st = get_base64(p, o, "client-key-data", where, &u->key_data, &u->key_data_len)) !=
            KLEASE_OK ||
        (st = get_str(p, o, "username", where, &u->username)) != KLEASE_OK ||
        (st = get_str(p, o, "password", where, &u->password)) != KLEASE_OK)
        return st;
    const cJSON *ap = cJSON_GetObjectItemCaseSensitive(o, "auth-provider");
    if (ap != NULL && !cJSON_IsNull(ap)) {
        if (!cJSON_IsObject(ap))
            return bad(p, where, "auth-provider", "expected a mapping");
        u->has_auth_provider = true;
        char w[192];
        snprintf(w, sizeof w, "%s.auth-provider", where);
        if ((st = get_str(p, ap, "name", w, &u->auth_provider_name)) != KLEASE_OK)
            return st;
    }
    for (size_t i = 0; i < sizeof impersonation / sizeof impersonation[0]; i++)
        u->has_impersonation |= is_set(cJSON_GetObjectItemCaseSensitive(o, impersonation[i]));
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "exec");
    if (x != NULL && !cJSON_IsNull(x))
        return parse_exec(p, x, where, u);
    return KLEASE_OK;
}

static klease_status parse_context(pctx *p, const cJSON *o, const char *where, void *elem)
{
    klease__kc_context *c = elem;
    klease_status st;
    if ((st = get_str(p, o, "cluster", where, &c->cluster)) != KLEASE_OK ||
        (st = get_str(p, o, "user", where, &c->user)) != KLEASE_OK ||
        (st = get_str(p, o, "namespace", where, &c->ns)) != KLEASE_OK)
        return st;
    return KLEASE_OK;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* client-go refuses a file that defines one name twice in a list. Sorting
 * keeps this O(n log n) for files with many entries. */
static klease_status check_unique(pctx *p, const char *key, const char *base, size_t size, size_t n)
{
    if (n < 2)
        return KLEASE_OK;
    char **names = klease__malloc(n * sizeof *names);
    if (names == NULL)
        return nomem(p);
    for (size_t i = 0; i < n; i++)
        names[i] = *(char *const *)(const void *)(base + i * size); /* name is the first field */
    qsort(names, n, sizeof *names, cmp_names);
    klease_status st = KLEASE_OK;
    for (size_t i = 1; i < n && st == KLEASE_OK; i++) {
        if (strcmp(names[i - 1], names[i]) == 0)
            st = klease__fail(p->err, KLEASE_ECONFIG,
                              "kubeconfig %s: %s: name \"%.64s\" is defined twice", p->origin, key,
                              names[i]);
    }
    klease__free(names);
    return st;
}

typedef klease_status (*parse_fn)(pctx *p, const cJSON *o, const char *where, void *elem);

/* A client-go named list: `key` is a list of {name: ..., `inner`: {...}}.
 * Each element struct starts with its `char *name`. */
static klease_status parse_named_list(pctx *p, const cJSON *root, const char *key,
                                      const char *inner, size_t elem_size, parse_fn fn,
                                      void **out_arr, size_t *out_n)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, key);
    if (list == NULL || cJSON_IsNull(list))
        return KLEASE_OK;
    if (!cJSON_IsArray(list))
        return klease__fail(p->err, KLEASE_ECONFIG,
                            "kubeconfig %s: %s: expected a list of {name, %s} entries", p->origin,
                            key, inner);
    size_t n = (size_t)cJSON_GetArraySize(list);
    char *arr = klease__calloc(n, elem_size);
    if (arr == NULL)
        return nomem(p);
    *out_arr = arr;
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        char where[160];
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
        snprintf(where, sizeof where, "%s[%zu]", key, i);
        if (!cJSON_IsObject(it))
            return bad(p, where, "", "expected a mapping with a name");
        if (!cJSON_IsString(name) || name->valuestring[0] == '\0')
            return bad(p, where, "name", "missing or not a string");
        void *elem = arr + i * elem_size;
        char **namep = elem;
        if ((*namep = klease__strdup(name->valuestring)) == NULL)
            return nomem(p);
        *out_n = ++i; /* counted now, so a failure below still frees it */
        snprintf(where, sizeof where, "%s \"%.64s\"", key, name->valuestring);
        const cJSON *body = cJSON_GetObjectItemCaseSensitive(it, inner);
        char w[192];
        snprintf(w, sizeof w, "%s.%s", where, inner);
        if (body != NULL && !cJSON_IsNull(body) && !cJSON_IsObject(body))
            return bad(p, w, "", "expected a mapping");
        klease_status st = fn(p, body, w, elem);
        if (st != KLEASE_OK)
            return st;
    }
    return check_unique(p, key, arr, elem_size, n);
}

static void cluster_clear(klease__kc_cluster *c)
{
    klease__free(c->name);
    klease__free(c->server);
    klease__free(c->tls_server_name);
    klease__free(c->proxy_url);
    klease__free(c->ca_file);
    klease__free(c->ca_data);
}

static void user_clear(klease__kc_user *u)
{
    klease__free(u->name);
    klease__free(u->token);
    klease__free(u->token_file);
    klease__free(u->cert_file);
    klease__free(u->key_file);
    klease__free(u->cert_data);
    klease__free(u->key_data);
    klease__free(u->username);
    klease__free(u->password);
    klease__free(u->auth_provider_name);
    klease__exec_config_free(u->exec);
    klease__free(u->exec_interactive_mode);
}

static void context_clear(klease__kc_context *c)
{
    klease__free(c->name);
    klease__free(c->cluster);
    klease__free(c->user);
    klease__free(c->ns);
}

void klease__kubeconfig_free(klease__kubeconfig *kc)
{
    if (kc == NULL)
        return;
    for (size_t i = 0; i < kc->n_clusters; i++)
        cluster_clear(&kc->clusters[i]);
    for (size_t i = 0; i < kc->n_users; i++)
        user_clear(&kc->users[i]);
    for (size_t i = 0; i < kc->n_contexts; i++)
        context_clear(&kc->contexts[i]);
    klease__free(kc->clusters);
    klease__free(kc->users);
    klease__free(kc->contexts);
    klease__free(kc->current_context);
    klease__free(kc->origin);
    klease__free(kc);
}

klease_status klease__kubeconfig_parse(const char *buf, size_t len, const char *origin,
                                       klease__kubeconfig **out, klease_error *err)
{
    klease_status st = KLEASE_OK;
    cJSON *root = NULL;
    klease__kubeconfig *kc = NULL;
    char label[KLEASE_ERROR_MESSAGE_MAX];

    if (origin == NULL)
        origin = "kubeconfig";
    const char *slash = strrchr(origin, '/');
    /* No '/': the file is in the working directory, where relative paths
     * already point. "/config" gives dir_len 0, so "x" becomes "/x". */
    pctx p = {.origin = origin, .dir = slash != NULL ? origin : NULL, .err = err};
    if (slash != NULL)
        p.dir_len = (size_t)(slash - origin);

    if ((kc = klease__calloc(1, sizeof *kc)) == NULL ||
        (kc->origin = klease__strdup(origin)) == NULL) {
        st = nomem(&p);
        goto out;
    }
    snprintf(label, sizeof label, "kubeconfig %s", origin);
    if (len > KLEASE__KUBECONFIG_MAX_BYTES) {
        st = klease__fail(err, KLEASE_ECONFIG, "kubeconfig %s: larger than %zu bytes", origin,
                          KLEASE__KUBECONFIG_MAX_BYTES);
        goto out;
    }
    if ((st = klease__yaml_to_json(buf, len, label, &root, &kc->dups, err)) != KLEASE_OK)
        goto out;
    if (root == NULL)
        goto done; /* empty: contributes nothing, like client-go */
    if (!cJSON_IsObject(root)) {
        st = bad(&p, "", "", "the top level is not a mapping");
        goto out;
    }
    if ((st = get_str(&p, root, "current-context", "", &kc->current_context)) != KLEASE_OK ||
        (st = parse_named_list(&p, root, "clusters", "cluster", sizeof(klease__kc_cluster),
                               parse_cluster, (void **)&kc->clusters, &kc->n_clusters)) !=
            KLEASE_OK ||
        (st = parse_named_list(&p, root, "users", "user", sizeof(klease__kc_user), parse_user,
                               (void **)&kc->users, &kc->n_users)) != KLEASE_OK ||
        (st = parse_named_list(&p, root, "contexts", "context", sizeof(klease__kc_context),
                               parse_context, (void **)&kc->contexts, &kc->n_contexts)) !=
            KLEASE_OK)
        goto out;
done:
    *out = kc;
    kc = NULL;
out:
    cJSON_Delete(root);
    klease__kubeconfig_free(kc);
    return st;
}
