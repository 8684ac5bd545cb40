/* Request routing and the plain verbs: GET, LIST, POST, PUT, DELETE, with
 * the real server's authorization answers. PATCH is in patch.c, watch in
 * watch.c. */
#include "routes.h"

#include "commit.h"
#include "patch.h"
#include "sim.h"
#include "watch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "/apis/coordination.k8s.io/v1/namespaces/"

static bool copy_segment(const char *s, size_t n, char *out, size_t outsz)
{
    if (n == 0 || n >= outsz || memchr(s, '/', n) != NULL)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

/* Parses /apis/coordination.k8s.io/v1/namespaces/NS/leases[/NAME]; NAME may
 * come back NULL. false when the path is something else. */
static bool parse_lease_path(const char *url, char *ns, size_t nsz, char *name, size_t namesz,
                             bool *has_name)
{
    /* The leases of every namespace (kubectl get leases -A): ns "". */
    if (strcmp(url, "/apis/coordination.k8s.io/v1/leases") == 0) {
        ns[0] = '\0';
        *has_name = false;
        return true;
    }
    if (strncmp(url, PREFIX, strlen(PREFIX)) != 0)
        return false;
    const char *p = url + strlen(PREFIX);
    const char *slash = strchr(p, '/');
    if (slash == NULL || !copy_segment(p, (size_t)(slash - p), ns, nsz))
        return false;
    p = slash + 1;
    if (strncmp(p, "leases", 6) != 0)
        return false;
    p += 6;
    *has_name = false;
    if (*p == '\0' || strcmp(p, "/") == 0)
        return true;
    if (*p != '/' || !copy_segment(p + 1, strlen(p + 1), name, namesz))
        return false;
    *has_name = true;
    return true;
}

static void reply_forbidden(reply *r, const identity *id, const char *verb, const char *ns,
                            const char *name)
{
    char msg[1024];
    if (name)
        snprintf(msg, sizeof(msg),
                 "leases.%s \"%s\" is forbidden: User \"%s\" cannot %s resource \"leases\" in "
                 "API group \"%s\" in the namespace \"%s\"",
                 KSIM_GROUP, name, id->user, verb, KSIM_GROUP, ns);
    else
        snprintf(msg, sizeof(msg),
                 "leases.%s is forbidden: User \"%s\" cannot %s resource \"leases\" in API group "
                 "\"%s\" in the namespace \"%s\"",
                 KSIM_GROUP, id->user, verb, KSIM_GROUP, ns);
    ksim__reply_status(r, 403, "Forbidden", msg, ksim__details_named(name));
}

static void handle_get(request *rq, reply *r, const char *ns, const char *name)
{
    lease *l = ksim__store_find(rq->sim, ns, name);
    if (l == NULL)
        ksim__reply_not_found(r, name);
    else
        ksim__reply_text(r, 200, ksim__lease_to_text(l));
}

static void handle_list(request *rq, reply *r, const char *ns)
{
    char want[256], bad[300], rvbuf[24];
    void **all = NULL;
    if (!ksim__parse_field_selector(ksim__query(rq, "fieldSelector"), want, sizeof(want), bad,
                                    sizeof(bad))) {
        ksim__reply_bad_request(r, bad);
        return;
    }
    const char *match = ksim__query(rq, "resourceVersionMatch");
    uint64_t asked = 0;
    if (match && strcmp(match, "Exact") == 0 &&
        ksim__parse_rv(ksim__query(rq, "resourceVersion"), &asked) && asked < rq->sim->rv) {
        /* Past states are not kept, so any older exact list is "compacted". */
        ksim__reply_status(r, 410, "Expired",
                           "The resourceVersion for the provided list is too old.", NULL);
        return;
    }
    snprintf(rvbuf, sizeof(rvbuf), "%" PRIu64, rq->sim->rv);
    cJSON *o = cJSON_CreateObject();
    cJSON *meta = NULL, *items = NULL;
    if (o == NULL || !cJSON_AddStringToObject(o, "kind", "LeaseList") ||
        !cJSON_AddStringToObject(o, "apiVersion", KSIM_API_VERSION) ||
        (meta = cJSON_AddObjectToObject(o, "metadata")) == NULL ||
        !cJSON_AddStringToObject(meta, "resourceVersion", rvbuf) ||
        (items = cJSON_AddArrayToObject(o, "items")) == NULL)
        goto oom;
    if (want[0] && ns[0]) {
        /* One lease by name: no need to sort the namespace. */
        lease *l = ksim__store_find(rq->sim, ns, want);
        cJSON *item = l ? ksim__lease_to_json(l, true) : NULL;
        if (l && item == NULL)
            goto oom;
        if (item)
            cJSON_AddItemToArray(items, item);
    } else {
        long n = ksim__store_sorted(rq->sim, ns, &all);
        if (n < 0)
            goto oom;
        for (long i = 0; i < n; i++) {
            lease *l = all[i];
            if (want[0] && strcmp(l->name, want) != 0)
                continue;
            cJSON *item = ksim__lease_to_json(l, true);
            if (item == NULL)
                goto oom;
            cJSON_AddItemToArray(items, item);
        }
    }
    free(all);
    all = NULL;
    char *s = ksim__json_line(o);
    cJSON_Delete(o);
    o = NULL;
    if (s == NULL)
        goto oom;
    ksim__reply_json(r, 200, s);
    return;
oom:
    free(all);
    cJSON_Delete(o);
    ksim__reply_oom(r);
}

/* Decodes a POST/PUT body, answering 400 the way the server's decoder does. */
static bool decode_full(request *rq, reply *r, cJSON **doc, decoded *d)
{
    if ((*doc = ksim__parse_body(rq, r)) == NULL)
        return false;
    decode_kind k = ksim__lease_decode(*doc, d);
    if (k == DEC_OOM) {
        ksim__reply_oom(r);
        return false;
    }
    if (k != DEC_OK) {
        char msg[700];
        snprintf(msg, sizeof(msg), "Lease in version \"v1\" cannot be handled as a Lease: %s",
                 d->msg);
        ksim__reply_bad_request(r, msg);
        return false;
    }
    return true;
}

static void handle_create(request *rq, reply *r, const char *ns)
{
    cJSON *doc = NULL;
    decoded d;
    memset(&d, 0, sizeof(d));
    lease *l = NULL;
    if (!decode_full(rq, r, &doc, &d) || !ksim__check_names(r, &d, ns, NULL, false))
        goto out;
    if (d.rv) {
        ksim__reply_internal(r, "resourceVersion should not be set on objects to be created");
        goto out;
    }
    if (d.name == NULL || d.name[0] == '\0') {
        cJSON *causes = cJSON_CreateArray(), *c = cJSON_CreateObject();
        cJSON_AddItemToArray(causes, c);
        if (c == NULL || !cJSON_AddStringToObject(c, "reason", "FieldValueRequired") ||
            !cJSON_AddStringToObject(c, "message",
                                     "Required value: name or generateName is required") ||
            !cJSON_AddStringToObject(c, "field", "metadata.name")) {
            cJSON_Delete(causes);
            ksim__reply_oom(r);
            goto out;
        }
        ksim__reply_invalid(r, "", causes);
        goto out;
    }
    if (!ksim__validate(r, d.name, &d.spec))
        goto out;
    if (ksim__store_find(rq->sim, ns, d.name) != NULL) {
        char msg[600];
        snprintf(msg, sizeof(msg), "leases.%s \"%s\" already exists", KSIM_GROUP, d.name);
        ksim__reply_status(r, 409, "AlreadyExists", msg, ksim__details_named(d.name));
        goto out;
    }
    if ((l = calloc(1, sizeof(*l))) == NULL || (l->ns = strdup(ns)) == NULL ||
        (l->name = strdup(d.name)) == NULL)
        goto oom;
    ksim__random_uid(l->uid);
    l->created_s = ksim__now_wall_s();
    l->spec = d.spec;
    memset(&d.spec, 0, sizeof(d.spec));
    if (ksim__lease_set_owner(l, ksim__field_manager(rq), false, ksim__spec_mask(&l->spec), true,
                              l->created_s) != 0)
        goto oom;
    writer who = ksim__request_writer(rq);
    if (ksim__store_commit(rq->sim, l, KSIM_OP_CREATE, &who, true) != 0) {
        l = NULL;
        goto oom;
    }
    ksim__reply_text(r, 201, ksim__lease_to_text(ksim__store_find(rq->sim, ns, d.name)));
    l = NULL;
    goto out;
oom:
    ksim__lease_free(l);
    l = NULL;
    ksim__reply_oom(r);
out:
    ksim__lease_free(l);
    ksim__spec_clear(&d.spec);
    cJSON_Delete(doc);
}

static void reply_precondition(reply *r, const char *name, const char *what, const char *want,
                               const char *have)
{
    char msg[1024];
    snprintf(msg, sizeof(msg),
             "Operation cannot be fulfilled on leases.%s \"%s\": Precondition failed: %s in "
             "precondition: %s, %s in object meta: %s",
             KSIM_GROUP, name, what, want, what, have);
    ksim__reply_status(r, 409, "Conflict", msg, ksim__details_named(name));
}

static void handle_put(request *rq, reply *r, const char *ns, const char *name)
{
    cJSON *doc = NULL;
    decoded d;
    memset(&d, 0, sizeof(d));
    if (!decode_full(rq, r, &doc, &d) || !ksim__check_names(r, &d, ns, name, true))
        goto out;
    lease *cur = ksim__store_find(rq->sim, ns, name);
    if (cur == NULL) {
        ksim__reply_not_found(r, name);
        goto out;
    }
    uint64_t want = 0;
    if (d.rv && d.rv[0] && (!ksim__parse_rv(d.rv, &want) || want != cur->rv)) {
        ksim__reply_conflict(r, name);
        goto out;
    }
    if (d.uid && d.uid[0] && strcmp(d.uid, cur->uid) != 0) {
        reply_precondition(r, name, "UID", d.uid, cur->uid);
        goto out;
    }
    if (!ksim__validate(r, name, &d.spec))
        goto out;
    ksim__commit_spec_update(rq, r, cur, &d.spec, KSIM_OP_PUT);
out:
    ksim__spec_clear(&d.spec);
    cJSON_Delete(doc);
}

static void handle_delete(request *rq, reply *r, const char *ns, const char *name)
{
    char rvbuf[24];
    lease *l = ksim__store_find(rq->sim, ns, name);
    if (l == NULL) {
        ksim__reply_not_found(r, name);
        return;
    }
    /* DeleteOptions may carry preconditions. */
    cJSON *doc = rq->body_len ? ksim__parse_body(rq, r) : NULL;
    if (rq->body_len && doc == NULL)
        return;
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(doc, "preconditions");
    const cJSON *prv = cJSON_GetObjectItemCaseSensitive(pre, "resourceVersion");
    const cJSON *puid = cJSON_GetObjectItemCaseSensitive(pre, "uid");
    snprintf(rvbuf, sizeof(rvbuf), "%" PRIu64, l->rv);
    if (cJSON_IsString(prv) && strcmp(prv->valuestring, rvbuf) != 0) {
        reply_precondition(r, name, "ResourceVersion", prv->valuestring, rvbuf);
        cJSON_Delete(doc);
        return;
    }
    if (cJSON_IsString(puid) && strcmp(puid->valuestring, l->uid) != 0) {
        reply_precondition(r, name, "UID", puid->valuestring, l->uid);
        cJSON_Delete(doc);
        return;
    }
    cJSON_Delete(doc);
    char uid[37];
    memcpy(uid, l->uid, sizeof(uid));
    writer who = ksim__request_writer(rq);
    if (ksim__store_delete(rq->sim, l, &who) != 0) {
        ksim__reply_oom(r);
        return;
    }
    cJSON *o = cJSON_CreateObject(), *det = ksim__details_named(name);
    if (o == NULL || det == NULL || !cJSON_AddStringToObject(det, "uid", uid) ||
        !cJSON_AddStringToObject(o, "kind", "Status") ||
        !cJSON_AddStringToObject(o, "apiVersion", "v1") ||
        !cJSON_AddObjectToObject(o, "metadata") ||
        !cJSON_AddStringToObject(o, "status", "Success")) {
        cJSON_Delete(o);
        cJSON_Delete(det);
        ksim__reply_oom(r);
        return;
    }
    cJSON_AddItemToObject(o, "details", det);
    char *s = ksim__json_line(o);
    cJSON_Delete(o);
    ksim__reply_text(r, 200, s);
}

static bool is_watch(const request *rq)
{
    const char *w = ksim__query(rq, "watch");
    return w && (strcmp(w, "1") == 0 || strcmp(w, "true") == 0);
}

void ksim__route_request(request *rq, reply *r)
{
    char ns[256], name[256];
    bool has_name = false;
    const char *m = rq->method;

    if (rq->id.bad_token || rq->id.bad_cert) {
        ksim__reply_status(r, 401, "Unauthorized", "Unauthorized", NULL);
        return;
    }
    if (!parse_lease_path(rq->url, ns, sizeof(ns), name, sizeof(name), &has_name)) {
        ksim__reply_status(r, 404, "NotFound", "the server could not find the requested resource",
                           cJSON_CreateObject());
        return;
    }
    const char *verb = NULL;
    if (strcmp(m, "GET") == 0)
        verb = has_name ? "get" : is_watch(rq) ? "watch" : "list";
    else if (strcmp(m, "POST") == 0 && !has_name)
        verb = "create";
    else if (strcmp(m, "PUT") == 0 && has_name)
        verb = "update";
    else if (strcmp(m, "PATCH") == 0 && has_name)
        verb = "patch";
    else if (strcmp(m, "DELETE") == 0 && has_name)
        verb = "delete";
    if (ns[0] == '\0' &&
        (verb == NULL || (strcmp(verb, "list") != 0 && strcmp(verb, "watch") != 0)))
        verb = NULL; /* only a list or a watch spans namespaces */
    if (verb == NULL) {
        ksim__reply_status(r, 405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource",
                           cJSON_CreateObject());
        return;
    }
    if (!ksim__auth_allowed(rq->sim, &rq->id) || !ksim__auth_verb_allowed(rq->sim, verb)) {
        reply_forbidden(r, &rq->id, verb, ns, has_name ? name : NULL);
        return;
    }
    if (strcmp(verb, "watch") == 0) {
        ksim__handle_watch(rq, r, ns); /* takes the lock itself, as it may block */
        return;
    }
    pthread_mutex_lock(&rq->sim->mu);
    if (strcmp(verb, "get") == 0)
        handle_get(rq, r, ns, name);
    else if (strcmp(verb, "list") == 0)
        handle_list(rq, r, ns);
    else if (strcmp(verb, "create") == 0)
        handle_create(rq, r, ns);
    else if (strcmp(verb, "update") == 0)
        handle_put(rq, r, ns, name);
    else if (strcmp(verb, "patch") == 0)
        ksim__handle_patch(rq, r, ns, name);
    else
        handle_delete(rq, r, ns, name);
    pthread_mutex_unlock(&rq->sim->mu);
}
