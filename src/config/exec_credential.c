/* The data side of exec plugins: the KUBERNETES_EXEC_INFO request we hand
 * a plugin and the ExecCredential it prints. */
#include "config/exec_credential.h"

#include "core/alloc.h"
#include "core/error.h"
#include "core/json.h"
#include "core/microtime.h"
#include "config/base64.h"

#include <cjson/cJSON.h>
#include <string.h>

void klease__exec_result_clear(klease__exec_result *r)
{
    if (r == NULL)
        return;
    klease__free(r->token);
    klease__free(r->cert_pem);
    klease__free(r->key_pem);
    *r = (klease__exec_result){.expiry_ns = INT64_MAX};
}

/* cJSON allocates with the host's allocator, which the library must not
 * replace; the finished text is copied into our own allocation. */
static char *print_to_own_memory(const cJSON *json)
{
    char *text = cJSON_PrintUnformatted(json);
    char *copy = klease__strdup(text);
    cJSON_free(text);
    return copy;
}

klease_status klease__exec_info_json(const klease__exec_config *x, const klease__kube_config *cfg,
                                     char **out)
{
    klease_status st = KLEASE_ENOMEM;
    char *ca_b64 = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *spec = NULL;

    if (root == NULL || cJSON_AddStringToObject(root, "kind", "ExecCredential") == NULL ||
        cJSON_AddStringToObject(root, "apiVersion",
                                x->api_version != NULL ? x->api_version : KLEASE__EXEC_API_V1) ==
            NULL ||
        (spec = cJSON_AddObjectToObject(root, "spec")) == NULL ||
        cJSON_AddBoolToObject(spec, "interactive", false) == NULL)
        goto out;
    if (x->provide_cluster_info && cfg != NULL) {
        /* The plugin may use these to pick the right credential; field names
         * follow client.authentication.k8s.io Cluster. */
        cJSON *cl = cJSON_AddObjectToObject(spec, "cluster");
        if (cl == NULL || cJSON_AddStringToObject(cl, "server", cfg->server) == NULL)
            goto out;
        if (cfg->tls_server_name != NULL &&
            cJSON_AddStringToObject(cl, "tls-server-name", cfg->tls_server_name) == NULL)
            goto out;
        if (cfg->insecure_skip_tls_verify &&
            cJSON_AddBoolToObject(cl, "insecure-skip-tls-verify", true) == NULL)
            goto out;
        if (cfg->ca_pem != NULL &&
            ((ca_b64 = klease__base64_encode(cfg->ca_pem, cfg->ca_pem_len)) == NULL ||
             cJSON_AddStringToObject(cl, "certificate-authority-data", ca_b64) == NULL))
            goto out;
        if (cfg->proxy_url != NULL &&
            cJSON_AddStringToObject(cl, "proxy-url", cfg->proxy_url) == NULL)
            goto out;
    }
    if ((*out = print_to_own_memory(root)) != NULL)
        st = KLEASE_OK;
out:
    klease__free(ca_b64);
    cJSON_Delete(root);
    return st;
}

/* A string member of `obj`, or NULL when missing, null or empty. `*bad` is
 * set when it is there with another type. */
static const char *opt_string(const cJSON *obj, const char *key, bool *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL || cJSON_IsNull(v))
        return NULL;
    if (!cJSON_IsString(v)) {
        *bad = true;
        return NULL;
    }
    return v->valuestring[0] != '\0' ? v->valuestring : NULL;
}

klease_status klease__exec_credential_parse(const char *buf, size_t len, const char *api_version,
                                            klease__exec_result *out, klease_error *err)
{
    klease_status st = KLEASE_OK;
    klease__exec_result r = {.expiry_ns = INT64_MAX};
    bool bad = false;
    const char *what = NULL;

    cJSON *root = NULL;
    st = klease__json_parse(buf, len, &root);
    if (st == KLEASE_ENOMEM)
        return klease__fail(err, st, "out of memory");
    if (st != KLEASE_OK)
        return klease__fail(err, KLEASE_EAUTH, "the output is not JSON (%zu bytes)", len);
    const char *kind = opt_string(root, "kind", &bad);
    const char *version = opt_string(root, "apiVersion", &bad);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "status");
    const char *token = opt_string(status, "token", &bad);
    const char *cert = opt_string(status, "clientCertificateData", &bad);
    const char *key = opt_string(status, "clientKeyData", &bad);
    const char *expiry = opt_string(status, "expirationTimestamp", &bad);

    if (!cJSON_IsObject(root))
        what = "the output is not a JSON object";
    else if (bad)
        what = "a field of the ExecCredential is not a string";
    else if (kind == NULL || strcmp(kind, "ExecCredential") != 0)
        what = "the output is not an ExecCredential (kind)";
    else if (version == NULL || api_version == NULL || strcmp(version, api_version) != 0)
        st = klease__fail(err, KLEASE_EAUTH,
                          "the plugin returned apiVersion \"%.80s\", configured \"%.80s\"",
                          version != NULL ? version : "", api_version != NULL ? api_version : "");
    else if (!cJSON_IsObject(status))
        what = "the ExecCredential has no status";
    else if ((cert == NULL) != (key == NULL))
        what = "the ExecCredential has only one of clientCertificateData and clientKeyData";
    else if (token == NULL && cert == NULL)
        what = "the ExecCredential has neither a token nor a client certificate and key";
    else if (token != NULL && klease__credential_text_problem(token, strlen(token)) != NULL)
        st = klease__fail(err, KLEASE_EAUTH, "status.token %s; refused",
                          klease__credential_text_problem(token, strlen(token)));
    if (what != NULL)
        st = klease__fail(err, KLEASE_EAUTH, "%s", what);
    if (st != KLEASE_OK)
        goto out;

    if (expiry != NULL) {
        klease_error terr;
        if (klease__rfc3339_parse(expiry, strlen(expiry), &r.expiry_ns, &terr) != KLEASE_OK) {
            st = klease__fail(err, KLEASE_EAUTH, "status.expirationTimestamp: %s", terr.message);
            goto out;
        }
    }
    if ((token != NULL && (r.token = klease__strdup(token)) == NULL) ||
        (cert != NULL && (r.cert_pem = klease__strdup(cert)) == NULL) ||
        (key != NULL && (r.key_pem = klease__strdup(key)) == NULL)) {
        st = klease__fail(err, KLEASE_ENOMEM, "out of memory");
        goto out;
    }
    r.cert_pem_len = cert != NULL ? strlen(cert) : 0;
    r.key_pem_len = key != NULL ? strlen(key) : 0;
    *out = r;
    r = (klease__exec_result){0};
out:
    klease__exec_result_clear(&r);
    cJSON_Delete(root);
    return st;
}
