/* PATCH: strategic merge and JSON merge patches (identical for a Lease,
 * which has no lists) and server-side apply with per-field ownership. */
#include "patch.h"

#include "commit.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#define KSIM_CONVERT_PREFIX                                                                        \
    "failed to convert new object (%s/%s; coordination.k8s.io/v1, Kind=Lease) to proper "          \
    "version: unable to convert unstructured object to coordination.k8s.io/v1, Kind=Lease: %s"

/* ------------------------------------------------- Go's %v of JSON values */

static int cmp_keys(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

typedef struct sbuf {
    char *s;
    size_t n, cap;
    bool oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 128) + n;
        char *t = realloc(b->s, cap);
        if (t == NULL) {
            b->oom = true;
            return;
        }
        b->s = t;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void puts_(sbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* float64 as Go's %v prints it: shortest digits, exponent form below 1e-4
 * and from 1e+06 on. */
static void go_float(sbuf *b, double x)
{
    char e[40], out[64];
    int p = 1;
    for (; p < 17; p++) {
        snprintf(e, sizeof(e), "%.*e", p - 1, x);
        if (strtod(e, NULL) == x)
            break;
    }
    snprintf(e, sizeof(e), "%.*e", p - 1, x);
    const char *ep = strchr(e, 'e');
    long exp = ep ? strtol(ep + 1, NULL, 10) : 0;
    if (exp < -4 || exp >= 6)
        snprintf(out, sizeof(out), "%s", e);
    else
        snprintf(out, sizeof(out), "%.*f", p - 1 - (int)exp > 0 ? p - 1 - (int)exp : 0, x);
    puts_(b, out);
}

static void go_value(sbuf *b, const cJSON *v)
{
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        int n = cJSON_GetArraySize(v);
        const cJSON **kids = n ? calloc((size_t)n, sizeof(*kids)) : NULL;
        if (n && kids == NULL) {
            b->oom = true;
            return;
        }
        int i = 0;
        for (const cJSON *c = v->child; c && i < n; c = c->next)
            kids[i++] = c;
        bool map = cJSON_IsObject(v);
        if (map && n > 1) /* qsort's array must not be NULL, even when empty */
            qsort(kids, (size_t)n, sizeof(*kids), cmp_keys);
        puts_(b, map ? "map[" : "[");
        for (i = 0; i < n; i++) {
            if (i)
                puts_(b, " ");
            if (map) {
                puts_(b, kids[i]->string);
                puts_(b, ":");
            }
            go_value(b, kids[i]);
        }
        puts_(b, "]");
        free(kids);
    } else if (cJSON_IsString(v)) {
        puts_(b, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        go_float(b, v->valuedouble);
    } else if (cJSON_IsBool(v)) {
        puts_(b, cJSON_IsTrue(v) ? "true" : "false");
    } else {
        puts_(b, "<nil>");
    }
}

char *ksim__go_value_text(const cJSON *v)
{
    sbuf b = {0};
    go_value(&b, v);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* ------------------------------------------------------------ merge patch */

/* RFC 7386 merge of `patch` into `target` (consumed); returns the result. */
static cJSON *merge(cJSON *target, const cJSON *patch, bool strategic)
{
    if (!cJSON_IsObject(patch)) {
        cJSON_Delete(target);
        return cJSON_Duplicate(patch, true);
    }
    if (!cJSON_IsObject(target)) {
        cJSON_Delete(target);
        if ((target = cJSON_CreateObject()) == NULL)
            return NULL;
    }
    for (const cJSON *p = patch->child; p; p = p->next) {
        /* Strategic-merge directives ($patch, $retainKeys...) only matter for
         * lists and their order; a Lease has none. */
        if (strategic && p->string[0] == '$')
            continue;
        cJSON *old = cJSON_DetachItemFromObjectCaseSensitive(target, p->string);
        if (cJSON_IsNull(p)) {
            cJSON_Delete(old);
            continue;
        }
        cJSON *v = merge(old, p, strategic);
        if (v == NULL) {
            cJSON_Delete(target);
            return NULL;
        }
        cJSON_AddItemToObject(target, p->string, v);
    }
    return target;
}

static void smp_decode_error(reply *r, const cJSON *patch, const char *msg)
{
    char *map = ksim__go_value_text(patch);
    size_t cap = (map ? strlen(map) : 0) + strlen(msg) + 128;
    char *cause = malloc(cap), *full = malloc(cap + 32);
    cJSON *det = cJSON_CreateObject(), *causes = cJSON_AddArrayToObject(det, "causes");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(causes, c);
    if (map == NULL || cause == NULL || full == NULL || c == NULL) {
        cJSON_Delete(det);
        ksim__reply_oom(r);
        goto out;
    }
    snprintf(cause, cap, "Invalid value: \"%s\": %s", map, msg);
    /* The server really does start this message with a space and "". */
    snprintf(full, cap + 32, " \"\" is invalid: patch: %s", cause);
    if (!cJSON_AddStringToObject(c, "reason", "FieldValueInvalid") ||
        !cJSON_AddStringToObject(c, "message", cause) ||
        !cJSON_AddStringToObject(c, "field", "patch")) {
        cJSON_Delete(det);
        ksim__reply_oom(r);
        goto out;
    }
    ksim__reply_status(r, 422, "Invalid", full, det);
out:
    free(map);
    free(cause);
    free(full);
}

static void handle_merge(request *rq, reply *r, const char *ns, const char *name, bool strategic)
{
    cJSON *patch = NULL, *doc = NULL;
    decoded d;
    memset(&d, 0, sizeof(d));
    lease *next = NULL;
    if ((patch = ksim__parse_body(rq, r)) == NULL)
        return;
    lease *cur = ksim__store_find(rq->sim, ns, name);
    if (cur == NULL) {
        ksim__reply_not_found(r, name); /* a patch never creates */
        goto out;
    }
    if ((doc = ksim__lease_to_json(cur, false)) == NULL ||
        (doc = merge(doc, patch, strategic)) == NULL)
        goto oom;
    decode_kind k = ksim__lease_decode(doc, &d);
    if (k == DEC_OOM)
        goto oom;
    if (k != DEC_OK) {
        smp_decode_error(r, patch, d.msg);
        goto out;
    }
    if (!ksim__check_names(r, &d, ns, name, true))
        goto out;
    if (!ksim__is_current_rv(cur, d.rv)) {
        ksim__reply_conflict(r, name);
        goto out;
    }
    if (!ksim__validate(r, name, &d.spec))
        goto out;
    ksim__commit_spec_update(rq, r, cur, &d.spec, strategic ? KSIM_OP_SMP : KSIM_OP_MERGE);
    goto out;
oom:
    ksim__reply_oom(r);
out:
    ksim__lease_free(next);
    ksim__spec_clear(&d.spec);
    cJSON_Delete(doc);
    cJSON_Delete(patch);
}

/* ------------------------------------------------------ server-side apply */

static const struct {
    unsigned bit;
    const char *path;
} field_paths[] = {{F_ACQUIRE, ".spec.acquireTime"},
                   {F_HOLDER, ".spec.holderIdentity"},
                   {F_DURATION, ".spec.leaseDurationSeconds"},
                   {F_TRANSITIONS, ".spec.leaseTransitions"},
                   {F_RENEW, ".spec.renewTime"}};
#define N_FIELDS (sizeof(field_paths) / sizeof(field_paths[0]))

static void owner_label(const managed_entry *e, char *out, size_t n)
{
    if (e->apply)
        snprintf(out, n, "\"%s\"", e->manager);
    else
        snprintf(out, n, "\"%s\" using %s", e->manager, KSIM_API_VERSION);
}

/* 409 listing, per other manager, the fields it owns that this apply would
 * change. */
static void reply_field_conflicts(reply *r, const lease *cur, const char *me, unsigned conflicts)
{
    char msg[2048], label[300];
    int total = 0;
    for (size_t f = 0; f < N_FIELDS; f++)
        total += (conflicts & field_paths[f].bit) ? 1 : 0;
    cJSON *det = cJSON_CreateObject(), *causes = cJSON_AddArrayToObject(det, "causes");
    if (causes == NULL)
        goto oom;
    size_t off = (size_t)snprintf(msg, sizeof(msg), "Apply failed with %d conflict%s: ", total,
                                  total == 1 ? "" : "s");
    for (size_t i = 0; i < cur->n_mf; i++) {
        const managed_entry *e = &cur->mf[i];
        unsigned mine = e->mask & conflicts;
        if (mine == 0 || (e->apply && strcmp(e->manager, me) == 0))
            continue;
        owner_label(e, label, sizeof(label));
        if (total == 1 && off < sizeof(msg))
            off += (size_t)snprintf(msg + off, sizeof(msg) - off, "conflict with %s:", label);
        else if (off < sizeof(msg))
            off += (size_t)snprintf(msg + off, sizeof(msg) - off,
                                    "%sconflicts with %s:", msg[off - 2] == ':' ? "" : "\n", label);
        for (size_t f = 0; f < N_FIELDS; f++) {
            if (!(mine & field_paths[f].bit))
                continue;
            if (off < sizeof(msg))
                off += (size_t)snprintf(msg + off, sizeof(msg) - off, total == 1 ? " %s" : "\n- %s",
                                        field_paths[f].path);
            char cm[320];
            snprintf(cm, sizeof(cm), "conflict with %s", label);
            cJSON *c = cJSON_CreateObject();
            cJSON_AddItemToArray(causes, c);
            if (c == NULL || !cJSON_AddStringToObject(c, "reason", "FieldManagerConflict") ||
                !cJSON_AddStringToObject(c, "message", cm) ||
                !cJSON_AddStringToObject(c, "field", field_paths[f].path))
                goto oom;
        }
        conflicts &= ~mine; /* report each field once, against its first owner */
    }
    ksim__reply_status(r, 409, "Conflict", msg, det);
    return;
oom:
    cJSON_Delete(det);
    ksim__reply_oom(r);
}

/* Sets the fields of `mask` in dst from src. */
static int take_fields(lease_spec *dst, const lease_spec *src, unsigned mask)
{
    if (mask & F_HOLDER) {
        char *h = src->holder ? strdup(src->holder) : NULL;
        if (src->holder && h == NULL)
            return -1;
        free(dst->holder);
        dst->holder = h;
    }
    if (mask & F_DURATION) {
        dst->has_duration = src->has_duration;
        dst->duration = src->duration;
    }
    if (mask & F_ACQUIRE) {
        dst->has_acquire = src->has_acquire;
        dst->acquire_ns = src->acquire_ns;
    }
    if (mask & F_RENEW) {
        dst->has_renew = src->has_renew;
        dst->renew_ns = src->renew_ns;
    }
    if (mask & F_TRANSITIONS) {
        dst->has_transitions = src->has_transitions;
        dst->transitions = src->transitions;
    }
    return 0;
}

/* Parses and decodes an apply body, answering 400 (bad JSON) or 500 (a value
 * the converter refuses) as the server does; false when answered. */
static bool decode_apply(request *rq, reply *r, cJSON **doc, decoded *d)
{
    if ((*doc = ksim__parse_body(rq, r)) == NULL)
        return false;
    decode_kind k = ksim__lease_decode(*doc, d);
    if (k == DEC_OOM) {
        ksim__reply_oom(r);
        return false;
    }
    if (k != DEC_OK) {
        char msg[1024];
        snprintf(msg, sizeof(msg), KSIM_CONVERT_PREFIX, d->ns ? d->ns : "", d->name ? d->name : "",
                 d->msg);
        ksim__reply_internal(r, msg);
        return false;
    }
    return true;
}

/* Apply on a missing lease creates it, owned by `me` for what it applied;
 * the body's resourceVersion is not checked. */
static void apply_create(request *rq, reply *r, const char *ns, const char *name, const char *me,
                         decoded *d, int64_t now)
{
    if (d->name == NULL || d->name[0] == '\0') {
        char msg[600];
        snprintf(msg, sizeof(msg),
                 "the name of the object (%s based on URL) was "
                 "undeterminable: name must be provided",
                 name);
        ksim__reply_bad_request(r, msg);
        return;
    }
    if (!ksim__validate(r, name, &d->spec))
        return;
    lease *next = calloc(1, sizeof(*next));
    if (next == NULL || (next->ns = strdup(ns)) == NULL || (next->name = strdup(name)) == NULL)
        goto oom;
    ksim__random_uid(next->uid);
    next->created_s = now;
    next->spec = d->spec;
    memset(&d->spec, 0, sizeof(d->spec));
    if (ksim__lease_set_owner(next, me, true, d->present, false, now) != 0)
        goto oom;
    ksim__reply_commit(rq, r, next, KSIM_OP_APPLY, true);
    return;
oom:
    ksim__lease_free(next);
    ksim__reply_oom(r);
}

/* What an apply by `me` changes, what it applied before, and what the other
 * managers own. */
typedef struct apply_owners {
    unsigned changed;
    unsigned previous;
    unsigned others;
} apply_owners;

static apply_owners owners_of(const lease *cur, const decoded *d, const char *me)
{
    apply_owners o = {.changed = ksim__spec_diff(&cur->spec, &d->spec) & d->present};
    for (size_t i = 0; i < cur->n_mf; i++) {
        const managed_entry *e = &cur->mf[i];
        if (e->apply && strcmp(e->manager, me) == 0)
            o.previous = e->mask;
        else
            o.others |= e->mask;
    }
    return o;
}

/* The stored lease with the applied fields set and, as server-side apply
 * does, the fields this manager applied before, left out now and owned by
 * nobody else, removed. NULL on OOM. */
static lease *applied(const lease *cur, const decoded *d, const apply_owners *o)
{
    lease *next = ksim__lease_clone(cur);
    lease_spec none = {0};
    unsigned dropped = o->previous & ~d->present & ~o->others;
    if (next == NULL || take_fields(&next->spec, &d->spec, d->present) != 0 ||
        take_fields(&next->spec, &none, dropped) != 0) {
        ksim__lease_free(next);
        return NULL;
    }
    return next;
}

/* Apply on a stored lease: 409 on a stale resourceVersion (even with force)
 * or, without force, on fields others own that it would change; a no-op
 * keeps the resourceVersion; otherwise `me` takes what it applied. */
static void apply_update(request *rq, reply *r, const lease *cur, const char *me, bool force,
                         const decoded *d, int64_t now)
{
    const char *name = cur->name;
    if (!ksim__is_current_rv(cur, d->rv)) {
        ksim__reply_conflict(r, name);
        return;
    }
    apply_owners o = owners_of(cur, d, me);
    if (!force && (o.changed & o.others)) {
        reply_field_conflicts(r, cur, me, o.changed & o.others);
        return;
    }
    lease *next = applied(cur, d, &o);
    if (next == NULL) {
        ksim__reply_oom(r);
        return;
    }
    if (!ksim__validate(r, name, &next->spec)) {
        ksim__lease_free(next);
        return;
    }
    if (ksim__spec_diff(&cur->spec, &next->spec) == 0 && o.previous == d->present) {
        ksim__lease_free(next);
        ksim__reply_text(r, 200, ksim__lease_to_text(cur));
        return;
    }
    for (size_t i = 0; i < next->n_mf; i++)
        if (!(next->mf[i].apply && strcmp(next->mf[i].manager, me) == 0))
            next->mf[i].mask &= ~o.changed;
    if (ksim__lease_set_owner(next, me, true, d->present, false, now) != 0) {
        ksim__lease_free(next);
        ksim__reply_oom(r);
        return;
    }
    ksim__reply_commit(rq, r, next, KSIM_OP_APPLY, false);
}

static void handle_apply(request *rq, reply *r, const char *ns, const char *name)
{
    const char *me = ksim__query(rq, "fieldManager");
    const char *force_q = ksim__query(rq, "force");
    bool force = force_q && strcmp(force_q, "true") == 0;
    if (me == NULL || me[0] == '\0') {
        ksim__reply_bad_request(r,
                                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required "
                                "value: is required for apply patch");
        return;
    }
    cJSON *doc = NULL;
    decoded d;
    memset(&d, 0, sizeof(d));
    if (decode_apply(rq, r, &doc, &d) && ksim__check_names(r, &d, ns, name, false)) {
        lease *cur = ksim__store_find(rq->sim, ns, name);
        int64_t now = ksim__now_wall_s();
        if (cur == NULL)
            apply_create(rq, r, ns, name, me, &d, now);
        else
            apply_update(rq, r, cur, me, force, &d, now);
    }
    ksim__spec_clear(&d.spec);
    cJSON_Delete(doc);
}

void ksim__handle_patch(request *rq, reply *r, const char *ns, const char *name)
{
    const char *ct = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Content-Type");
    size_t n = ct ? strcspn(ct, "; ") : 0;
#define IS(t) (n == strlen(t) && strncasecmp(ct, t, n) == 0)
    if (ct && IS("application/apply-patch+yaml"))
        handle_apply(rq, r, ns, name);
    else if (ct && IS("application/strategic-merge-patch+json"))
        handle_merge(rq, r, ns, name, true);
    else if (ct && IS("application/merge-patch+json"))
        handle_merge(rq, r, ns, name, false);
    else
        ksim__reply_status(r, 415, "UnsupportedMediaType", "415: Unsupported Media Type",
                           cJSON_CreateObject());
#undef IS
}
