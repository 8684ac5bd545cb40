/* klease_lease_list and klease_lease_delete: the calls behind `klease list`
 * and `klease delete`, beside the manager (which follows one lease). A list
 * is one snapshot: each claim is judged by renewTime + leaseDurationSeconds
 * on our wall clock, as kubectl shows leases, without the skew tolerance a
 * participant adds before it takes a lease over. */
#include "klease/klease.h"

#include "api/client.h"
#include "api/lease_api.h"
#include "api/status.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/json.h"
#include "core/microtime.h"
#include "lease/codec.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define ALL_LEASES_PATH "/apis/coordination.k8s.io/v1/leases"

/* One item of a LeaseList into `out`. */
static klease_status decode_item(const klease_client *c, const cJSON *item, klease_lease_info *out,
                                 klease_error *err)
{
    klease__lease l;
    klease_status st = klease__lease_decode_object(item, &l, err);
    if (st != KLEASE_OK)
        return st;
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(item, "metadata");
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(md, "namespace");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(md, "name");
    const cJSON *created = cJSON_GetObjectItemCaseSensitive(md, "creationTimestamp");
    if (!cJSON_IsString(ns) || !cJSON_IsString(name) ||
        klease__lease_validate_names(ns->valuestring, name->valuestring, NULL) != KLEASE_OK)
        return klease__fail(err, KLEASE_EPROTO,
                            "lease list: an item without a valid "
                            "metadata.namespace and metadata.name");
    memset(out, 0, sizeof *out);
    snprintf(out->ns, sizeof out->ns, "%s", ns->valuestring);
    snprintf(out->name, sizeof out->name, "%s", name->valuestring);
    if (cJSON_IsString(created))
        klease__rfc3339_parse(created->valuestring, strlen(created->valuestring),
                              &out->created_wall_ns, NULL); /* 0 when unreadable: age unknown */
    klease_claim *cl = &out->claim;
    memcpy(cl->resource_version, l.resource_version, sizeof cl->resource_version);
    cl->transitions = l.transitions;
    int64_t now_wall = c->clock->wall_ns(c->clock), now_mono = c->clock->mono_ns(c->clock);
    if (l.has_holder && l.has_renew_time && l.has_duration && l.duration_s > 0) {
        int64_t expiry = l.renew_time_ns + l.duration_s * 1000000000;
        if (expiry > now_wall) {
            out->held = true;
            memcpy(cl->holder, l.holder, sizeof cl->holder);
            cl->holder_truncated = l.holder_truncated;
            cl->expiry_wall_ns = expiry;
            cl->deadline_mono_ns = now_mono + (expiry - now_wall);
        }
    }
    return KLEASE_OK;
}

static klease_status decode_list(const klease_client *c, const klease__http_response *resp,
                                 klease_lease_info **out, size_t *n, klease_error *err)
{
    cJSON *doc = NULL;
    klease_status st = klease__json_parse(resp->body, resp->body_len, &doc);
    if (st == KLEASE_ENOMEM)
        return klease__fail(err, st, "out of memory");
    if (st != KLEASE_OK)
        return klease__fail(err, KLEASE_EPROTO, "lease list: the response is not JSON");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
    klease_lease_info *list = NULL;
    size_t count = 0;
    if (items != NULL && !cJSON_IsNull(items) && !cJSON_IsArray(items)) {
        st = klease__fail(err, KLEASE_EPROTO, "lease list: items is not an array");
        goto out;
    }
    size_t want = items != NULL ? (size_t)cJSON_GetArraySize(items) : 0;
    /* One more than needed, so an empty list is still a pointer to free. */
    if ((list = klease__calloc(want + 1, sizeof *list)) == NULL) {
        st = klease__fail(err, KLEASE_ENOMEM, "out of memory");
        goto out;
    }
    const cJSON *item = NULL;
    cJSON_ArrayForEach(item, items)
    {
        if (count < want && (st = decode_item(c, item, &list[count], err)) != KLEASE_OK)
            goto out;
        count++;
    }
    *out = list;
    *n = count < want ? count : want;
    list = NULL;
out:
    klease__free(list);
    cJSON_Delete(doc);
    return st;
}

klease_status klease_lease_list(klease_client *c, const char *ns, bool all_namespaces,
                                klease_lease_info **out, size_t *n, klease_error *err)
{
    if (out == NULL || n == NULL || c == NULL)
        return klease__fail(err, KLEASE_EINVAL, "klease_lease_list: NULL argument");
    *out = NULL;
    *n = 0;
    if (ns == NULL)
        ns = c->ns;
    klease_status st;
    /* The names check wants a lease name: any valid one does. */
    if (!all_namespaces && (st = klease__lease_validate_names(ns, "x", err)) != KLEASE_OK)
        return st;
    char *path =
        all_namespaces ? klease__strdup(ALL_LEASES_PATH) : klease__lease_path(ns, NULL, NULL);
    if (path == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    klease__http_request req = {
        .method = "GET",
        .path = path,
        .timeout_ms = klease__client_timeout(c, 0),
    };
    klease__http_response resp = {.retry_after_ms = -1};
    st = c->transport->request(c->transport, &req, NULL, &resp, err);
    if (st == KLEASE_OK && (resp.status < 200 || resp.status > 299)) {
        char what[128];
        snprintf(what, sizeof what, "list leases in %s", all_namespaces ? "all namespaces" : ns);
        st = klease__status_error(&resp, what, err);
    }
    if (st == KLEASE_OK)
        st = decode_list(c, &resp, out, n, err);
    klease__http_response_clear(&resp);
    klease__free(path);
    return st;
}

void klease_lease_list_free(klease_lease_info *leases)
{
    klease__free(leases);
}

klease_status klease_lease_delete(klease_client *c, const char *ns, const char *name,
                                  klease_error *err)
{
    if (c == NULL)
        return klease__fail(err, KLEASE_EINVAL, "klease_lease_delete: client is NULL");
    klease__http_response resp;
    klease_status st = klease__lease_delete(c, ns != NULL ? ns : c->ns, name, NULL, &resp, err);
    if (st == KLEASE_OK)
        klease__http_response_clear(&resp);
    return st;
}
