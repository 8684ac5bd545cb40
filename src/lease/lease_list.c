/* klease_lease_list, klease_lease_delete and klease_lease_watch: the calls
 * behind `klease list`, `klease delete` and `klease get --watch`, beside the
 * manager (which follows one lease for a participant). They live in the
 * lease layer because they decode and judge Leases (lease/codec.h) on top of
 * the API calls below. A list
 * is one snapshot: each claim is judged by renewTime + leaseDurationSeconds
 * on our wall clock, as kubectl shows leases, without the skew tolerance a
 * participant adds before it takes a lease over. */
#include "klease/klease.h"

#include "api/client.h"
#include "api/lease_api.h"
#include "api/status.h"
#include "api/watch.h"
#include "core/alloc.h"
#include "core/clock.h"
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
        int64_t expiry = klease__add_sat(l.renew_time_ns, klease__s_to_ns(l.duration_s));
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

typedef struct lease_watch_ctx {
    klease_client *c;
    char *rv;
    size_t rv_size;
    klease_lease_watch_fn fn;
    void *user;
    klease_status st; /* a bad event: the first failure, which stops the watch */
    klease_error *err;
} lease_watch_ctx;

/* Keeps the last resourceVersion seen, so the next watch resumes there. */
static bool remember_rv(lease_watch_ctx *w, const cJSON *object)
{
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(object, "metadata");
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(md, "resourceVersion");
    if (!cJSON_IsString(rv) || rv->valuestring[0] == '\0') {
        w->st = klease__fail(w->err, KLEASE_EPROTO, "watch: an event without a resourceVersion");
        return false;
    }
    if (strlen(rv->valuestring) >= w->rv_size) {
        w->st = klease__fail(w->err, KLEASE_EPROTO,
                             "watch: resourceVersion \"%.32s\" does not fit in %zu bytes",
                             rv->valuestring, w->rv_size);
        return false;
    }
    snprintf(w->rv, w->rv_size, "%s", rv->valuestring);
    return true;
}

static bool on_lease_event(void *user, klease__watch_type type, const cJSON *object)
{
    lease_watch_ctx *w = user;
    klease_lease_info info;
    if (type == KLEASE__WATCH_ADDED || type == KLEASE__WATCH_MODIFIED) {
        /* Decoded before the rv moves on: a bad event is not skipped next time. */
        if ((w->st = decode_item(w->c, object, &info, w->err)) != KLEASE_OK)
            return false;
    }
    if (!remember_rv(w, object))
        return false;
    if (type == KLEASE__WATCH_BOOKMARK)
        return true;
    return w->fn(w->user, type == KLEASE__WATCH_DELETED ? NULL : &info);
}

/* After 410 Expired: one GET, reported as one event (NULL when missing). */
static klease_status relist(lease_watch_ctx *w, const char *ns, const char *name,
                            int64_t timeout_ms)
{
    klease__call call = {.timeout_ms = timeout_ms > 0 ? timeout_ms : 1};
    klease__http_response resp = {.retry_after_ms = -1};
    klease_status st = klease__lease_get(w->c, ns, name, &call, &resp, w->err);
    if (st == KLEASE_ENOTFOUND) {
        w->rv[0] = '\0'; /* from the current state: it comes as ADDED when created */
        w->fn(w->user, NULL);
        return KLEASE_OK;
    }
    if (st != KLEASE_OK)
        return st;
    cJSON *doc = NULL;
    st = klease__json_parse(resp.body, resp.body_len, &doc);
    if (st == KLEASE_ENOMEM)
        st = klease__fail(w->err, st, "out of memory");
    else if (st != KLEASE_OK)
        st = klease__fail(w->err, KLEASE_EPROTO, "watch: the re-read lease is not JSON");
    else {
        klease_lease_info info;
        if ((st = decode_item(w->c, doc, &info, w->err)) == KLEASE_OK && remember_rv(w, doc))
            w->fn(w->user, &info);
        else if (st == KLEASE_OK)
            st = w->st;
    }
    cJSON_Delete(doc);
    klease__http_response_clear(&resp);
    return st;
}

/* The server's own limit (whole seconds) is rounded up and the HTTP call is
 * capped at timeout_ms: the cap, not the server, usually ends a short watch. */
#define WATCH_MAX_MS ((int64_t)24 * 3600 * 1000)
/* A transport may measure its limit from a little later than we do. */
#define WATCH_DEADLINE_SLACK_MS 50

klease_status klease_lease_watch(klease_client *c, const char *ns, const char *name,
                                 char *resource_version, size_t rv_size, int64_t timeout_ms,
                                 klease_lease_watch_fn fn, void *user, klease_error *err)
{
    if (c == NULL || name == NULL || resource_version == NULL || rv_size == 0 || fn == NULL)
        return klease__fail(err, KLEASE_EINVAL, "klease_lease_watch: NULL argument");
    if (timeout_ms <= 0)
        return klease__fail(err, KLEASE_EINVAL, "klease_lease_watch: timeout must be positive");
    if (memchr(resource_version, '\0', rv_size) == NULL)
        return klease__fail(err, KLEASE_EINVAL,
                            "klease_lease_watch: resource_version is not a string");
    if (timeout_ms > WATCH_MAX_MS)
        timeout_ms = WATCH_MAX_MS;
    if (ns == NULL)
        ns = c->ns;
    /* Our own error record, so a 410 is recognised even when err is NULL. */
    klease_error own;
    klease__error_clear(&own);
    lease_watch_ctx w = {.c = c,
                         .rv = resource_version,
                         .rv_size = rv_size,
                         .fn = fn,
                         .user = user,
                         .st = KLEASE_OK,
                         .err = &own};
    int64_t start = klease__mono_ns(c->clock);
    klease_status st =
        klease__lease_watch(c, ns, name, resource_version, (int)((timeout_ms + 999) / 1000),
                            timeout_ms, NULL, on_lease_event, &w, &own);
    int64_t elapsed_ms = (klease__mono_ns(c->clock) - start) / KLEASE__NS_PER_MS;
    if (w.st != KLEASE_OK)
        st = w.st;
    else if (st == KLEASE_EHTTP && own.http_code == 410)
        st = relist(&w, ns, name, timeout_ms - elapsed_ms);
    else if (st == KLEASE_ETIMEDOUT && elapsed_ms + WATCH_DEADLINE_SLACK_MS >= timeout_ms)
        st = KLEASE_OK; /* our own time limit: a quiet lease, not an error */
    if (st != KLEASE_OK && err != NULL)
        *err = own;
    return st;
}
