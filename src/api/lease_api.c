/* Lease REST calls: paths, query strings, content types, Status mapping. */
#include "api/lease_api.h"

#include "core/alloc.h"
#include "core/error.h"
#include "api/status.h"

#include <stdio.h>
#include <string.h>

#define LEASES_PATH "/apis/coordination.k8s.io/v1/namespaces/%s/leases"

static bool is_alnum_lower(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* DNS-1123 label: 1-63 of [a-z0-9-], starting and ending alphanumeric. */
static bool valid_label(const char *s, size_t len)
{
    if (len == 0 || len > 63 || !is_alnum_lower(s[0]) || !is_alnum_lower(s[len - 1]))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!is_alnum_lower(s[i]) && s[i] != '-')
            return false;
    }
    return true;
}

/* DNS-1123 subdomain: at most 253 characters, dot-separated labels. */
static bool valid_subdomain(const char *s)
{
    size_t len = strnlen(s, 254);
    if (len == 0 || len > 253)
        return false;
    const char *start = s;
    for (const char *p = s;; p++) {
        if (*p == '.' || *p == '\0') {
            if (!valid_label(start, (size_t)(p - start)))
                return false;
            if (*p == '\0')
                return true;
            start = p + 1;
        }
    }
}

klease_status klease__lease_validate_names(const char *ns, const char *name, klease_error *err)
{
    if (ns == NULL || !valid_label(ns, strnlen(ns, 64)))
        return klease__fail(err, KLEASE_EINVAL,
                            "namespace \"%.64s\" is not a valid name (DNS-1123 label)",
                            ns ? ns : "(null)");
    if (name == NULL || !valid_subdomain(name))
        return klease__fail(err, KLEASE_EINVAL,
                            "lease name \"%.253s\" is not a valid name (DNS-1123 subdomain)",
                            name ? name : "(null)");
    return KLEASE_OK;
}

char *klease__lease_path(const char *ns, const char *name, const char *query)
{
    size_t n = sizeof LEASES_PATH + strlen(ns) + (name ? strlen(name) + 1 : 0) +
               (query ? strlen(query) + 1 : 0);
    char *path = klease__malloc(n);
    if (path == NULL)
        return NULL;
    int used = snprintf(path, n, LEASES_PATH, ns);
    if (name != NULL)
        used += snprintf(path + used, n - (size_t)used, "/%s", name);
    if (query != NULL && query[0] != '\0')
        snprintf(path + used, n - (size_t)used, "?%s", query);
    return path;
}

/* "fieldManager=<escaped>[&force=true]" into buf. */
static klease_status field_manager_query(char *buf, size_t size, const char *field_manager,
                                         bool force, klease_error *err)
{
    buf[0] = '\0';
    if (field_manager == NULL)
        return KLEASE_OK;
    char *escaped = klease__http_query_escape(field_manager);
    if (escaped == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    int n = snprintf(buf, size, "fieldManager=%s%s", escaped, force ? "&force=true" : "");
    klease__free(escaped);
    if (n < 0 || (size_t)n >= size)
        return klease__fail(err, KLEASE_EINVAL, "field manager \"%.128s\" is too long",
                            field_manager);
    return KLEASE_OK;
}

/* Builds the request of one call (the caller sends it, blocking or on a
 * loop, and passes the outcome to klease__lease_request_finish). */
static klease_status build(klease_client *c, const char *method, const char *ns, const char *name,
                           const char *query, const char *content_type, const char *body,
                           const klease__call *opts, klease__lease_request *r, klease_error *err)
{
    *r = (klease__lease_request){0};
    klease_status st = klease__lease_validate_names(ns, name, err);
    if (st != KLEASE_OK)
        return st;
    if (opts != NULL && opts->timeout_ms < 0)
        return klease__fail(err, KLEASE_ETIMEDOUT,
                            "%s lease %s/%s: no time left (under 1 ms) for the call", method, ns,
                            name);
    /* POST goes to the collection; the name travels in the body. */
    r->path = klease__lease_path(ns, strcmp(method, "POST") == 0 ? NULL : name, query);
    if (r->path == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    r->http = (klease__http_request){
        .method = method,
        .path = r->path,
        .content_type = content_type,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .timeout_ms = klease__client_timeout(c, opts ? opts->timeout_ms : 0),
    };
    snprintf(r->what, sizeof r->what, "%s lease %s/%s", method, ns, name);
    return KLEASE_OK;
}

void klease__lease_request_clear(klease__lease_request *r)
{
    klease__free(r->path);
    *r = (klease__lease_request){0};
}

klease_status klease__lease_request_finish(klease_client *c, const klease__lease_request *r,
                                           klease_status st, klease__http_response *resp,
                                           klease_error *err)
{
    /* The log line below reports the error's message whether or not the
     * caller asked for details. */
    klease_error local_err;
    if (err == NULL)
        err = &local_err;
    if (st == KLEASE_OK && (resp->status < 200 || resp->status > 299)) {
        st = klease__status_error(resp, r->what, err);
        klease__http_response_clear(resp);
    }
    if (st != KLEASE_OK)
        klease__log(&c->log, KLEASE_LOG_DEBUG, "%s %s failed: %s", r->http.method, r->path,
                    err->message);
    return st;
}

/* One blocking call: build, send on the client's transport, finish. */
static klease_status call(klease_client *c, const char *method, const char *ns, const char *name,
                          const char *query, const char *content_type, const char *body,
                          const klease__call *opts, klease__http_response *resp, klease_error *err)
{
    klease__lease_request r;
    *resp = (klease__http_response){.retry_after_ms = -1};
    klease_status st = build(c, method, ns, name, query, content_type, body, opts, &r, err);
    if (st != KLEASE_OK)
        return st;
    st = c->transport->request(c->transport, &r.http, opts ? opts->cancel : NULL, resp, err);
    st = klease__lease_request_finish(c, &r, st, resp, err);
    klease__lease_request_clear(&r);
    return st;
}

klease_status klease__lease_get_request(klease_client *c, const char *ns, const char *name,
                                        const klease__call *opts, klease__lease_request *r,
                                        klease_error *err)
{
    return build(c, "GET", ns, name, NULL, NULL, NULL, opts, r, err);
}

klease_status klease__lease_get(klease_client *c, const char *ns, const char *name,
                                const klease__call *opts, klease__http_response *resp,
                                klease_error *err)
{
    return call(c, "GET", ns, name, NULL, NULL, NULL, opts, resp, err);
}

klease_status klease__lease_create(klease_client *c, const char *ns, const char *name,
                                   const char *body, const char *field_manager,
                                   const klease__call *opts, klease__http_response *resp,
                                   klease_error *err)
{
    char query[512];
    klease_status st = field_manager_query(query, sizeof query, field_manager, false, err);
    if (st != KLEASE_OK)
        return st;
    return call(c, "POST", ns, name, query, "application/json", body, opts, resp, err);
}

static const char *const patch_content_types[] = {
    [KLEASE__PATCH_APPLY] = "application/apply-patch+yaml",
    [KLEASE__PATCH_STRATEGIC] = "application/strategic-merge-patch+json",
    [KLEASE__PATCH_MERGE] = "application/merge-patch+json",
};

klease_status klease__lease_patch_request(klease_client *c, const char *ns, const char *name,
                                          klease__patch_type type, const char *body,
                                          const char *field_manager, bool force,
                                          const klease__call *opts, klease__lease_request *r,
                                          klease_error *err)
{
    char query[512];
    *r = (klease__lease_request){0};
    klease_status st = field_manager_query(query, sizeof query, field_manager,
                                           force && type == KLEASE__PATCH_APPLY, err);
    if (st != KLEASE_OK)
        return st;
    return build(c, "PATCH", ns, name, query, patch_content_types[type], body, opts, r, err);
}

klease_status klease__lease_patch(klease_client *c, const char *ns, const char *name,
                                  klease__patch_type type, const char *body,
                                  const char *field_manager, bool force, const klease__call *opts,
                                  klease__http_response *resp, klease_error *err)
{
    char query[512];
    klease_status st = field_manager_query(query, sizeof query, field_manager,
                                           force && type == KLEASE__PATCH_APPLY, err);
    if (st != KLEASE_OK)
        return st;
    return call(c, "PATCH", ns, name, query, patch_content_types[type], body, opts, resp, err);
}

klease_status klease__lease_delete(klease_client *c, const char *ns, const char *name,
                                   const klease__call *opts, klease__http_response *resp,
                                   klease_error *err)
{
    return call(c, "DELETE", ns, name, NULL, NULL, NULL, opts, resp, err);
}
