/* The Lease model: spec values, managedFields ownership, JSON encoding and
 * decoding with the real server's error texts, and validation. */
#include "lease.h"

#include "status.h"

#include "core/microtime.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

unsigned ksim__spec_mask(const lease_spec *s)
{
    return (s->holder ? F_HOLDER : 0) | (s->has_duration ? F_DURATION : 0) |
           (s->has_acquire ? F_ACQUIRE : 0) | (s->has_renew ? F_RENEW : 0) |
           (s->has_transitions ? F_TRANSITIONS : 0);
}

unsigned ksim__spec_diff(const lease_spec *a, const lease_spec *b)
{
    unsigned d = ksim__spec_mask(a) ^ ksim__spec_mask(b);
    if (a->holder && b->holder && strcmp(a->holder, b->holder) != 0)
        d |= F_HOLDER;
    if (a->has_duration && b->has_duration && a->duration != b->duration)
        d |= F_DURATION;
    if (a->has_acquire && b->has_acquire && a->acquire_ns != b->acquire_ns)
        d |= F_ACQUIRE;
    if (a->has_renew && b->has_renew && a->renew_ns != b->renew_ns)
        d |= F_RENEW;
    if (a->has_transitions && b->has_transitions && a->transitions != b->transitions)
        d |= F_TRANSITIONS;
    return d;
}

void ksim__spec_clear(lease_spec *s)
{
    free(s->holder);
    memset(s, 0, sizeof(*s));
}

int ksim__spec_copy(lease_spec *dst, const lease_spec *src)
{
    *dst = *src;
    dst->holder = NULL;
    if (src->holder && (dst->holder = strdup(src->holder)) == NULL)
        return -1;
    return 0;
}

void ksim__lease_free(lease *l)
{
    if (l == NULL)
        return;
    free(l->ns);
    free(l->name);
    ksim__spec_clear(&l->spec);
    for (size_t i = 0; i < l->n_mf; i++)
        free(l->mf[i].manager);
    free(l->mf);
    free(l);
}

lease *ksim__lease_clone(const lease *l)
{
    lease *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    memcpy(c->uid, l->uid, sizeof(c->uid));
    c->created_s = l->created_s;
    c->rv = l->rv;
    c->ns = strdup(l->ns);
    c->name = strdup(l->name);
    if (c->ns == NULL || c->name == NULL || ksim__spec_copy(&c->spec, &l->spec) != 0)
        goto fail;
    if (l->n_mf > 0) {
        if ((c->mf = calloc(l->n_mf, sizeof(*c->mf))) == NULL)
            goto fail;
        for (size_t i = 0; i < l->n_mf; i++) {
            c->mf[i] = l->mf[i];
            if ((c->mf[i].manager = strdup(l->mf[i].manager)) == NULL) {
                c->n_mf = i;
                goto fail;
            }
        }
        c->n_mf = l->n_mf;
    }
    return c;
fail:
    ksim__lease_free(c);
    return NULL;
}

static void lease_prune_owners(lease *l)
{
    unsigned set = ksim__spec_mask(&l->spec);
    size_t out = 0;
    for (size_t i = 0; i < l->n_mf; i++) {
        l->mf[i].mask &= set;
        if (l->mf[i].mask == 0) {
            free(l->mf[i].manager); /* an entry that owns nothing disappears */
            continue;
        }
        l->mf[out++] = l->mf[i];
    }
    l->n_mf = out;
}

int ksim__lease_set_owner(lease *l, const char *manager, bool apply, unsigned mask, bool exclusive,
                          int64_t now_s)
{
    managed_entry *mine = NULL;
    for (size_t i = 0; i < l->n_mf; i++) {
        managed_entry *e = &l->mf[i];
        if (e->apply == apply && strcmp(e->manager, manager) == 0)
            mine = e;
        else if (exclusive)
            e->mask &= ~mask;
    }
    if (mine == NULL) {
        managed_entry *v = realloc(l->mf, (l->n_mf + 1) * sizeof(*v));
        if (v == NULL)
            return -1;
        l->mf = v;
        mine = &l->mf[l->n_mf];
        memset(mine, 0, sizeof(*mine));
        if ((mine->manager = strdup(manager)) == NULL)
            return -1;
        mine->apply = apply;
        l->n_mf++;
    }
    /* An applier owns exactly what it applied; an updater adds what it set. */
    mine->mask = apply ? mask : (mine->mask | mask);
    mine->time_s = now_s;
    lease_prune_owners(l);
    return 0;
}

/* ------------------------------------------------------------ encoding */

static bool format_seconds(int64_t s, char out[21])
{
    time_t t = (time_t)s;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        return false;
    return snprintf(out, 21, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec) == 20;
}

static bool add_time(cJSON *o, const char *key, int64_t ns)
{
    char buf[KLEASE__MICROTIME_LEN + 1];
    if (klease__microtime_format(ns, buf) != KLEASE_OK)
        return false;
    return cJSON_AddStringToObject(o, key, buf) != NULL;
}

static cJSON *fields_v1(unsigned mask)
{
    /* Alphabetical, as the server sorts them. */
    static const struct {
        unsigned bit;
        const char *key;
    } keys[] = {{F_ACQUIRE, "f:acquireTime"},
                {F_HOLDER, "f:holderIdentity"},
                {F_DURATION, "f:leaseDurationSeconds"},
                {F_TRANSITIONS, "f:leaseTransitions"},
                {F_RENEW, "f:renewTime"}};
    cJSON *fv = cJSON_CreateObject();
    cJSON *spec = cJSON_AddObjectToObject(fv, "f:spec");
    if (spec == NULL) {
        cJSON_Delete(fv);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if ((mask & keys[i].bit) && cJSON_AddObjectToObject(spec, keys[i].key) == NULL) {
            cJSON_Delete(fv);
            return NULL;
        }
    return fv;
}

static bool add_managed(cJSON *meta, const lease *l)
{
    if (l->n_mf == 0)
        return true;
    cJSON *arr = cJSON_AddArrayToObject(meta, "managedFields");
    if (arr == NULL)
        return false;
    for (size_t i = 0; i < l->n_mf; i++) {
        char ts[21];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, e);
        if (e == NULL || !format_seconds(l->mf[i].time_s, ts) ||
            !cJSON_AddStringToObject(e, "manager", l->mf[i].manager) ||
            !cJSON_AddStringToObject(e, "operation", l->mf[i].apply ? "Apply" : "Update") ||
            !cJSON_AddStringToObject(e, "apiVersion", KSIM_API_VERSION) ||
            !cJSON_AddStringToObject(e, "time", ts) ||
            !cJSON_AddStringToObject(e, "fieldsType", "FieldsV1"))
            return false;
        cJSON *fv = fields_v1(l->mf[i].mask);
        if (fv == NULL)
            return false;
        cJSON_AddItemToObject(e, "fieldsV1", fv);
    }
    return true;
}

cJSON *ksim__lease_to_json(const lease *l, bool bare)
{
    char rv[24], ts[21];
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    if (!bare && (!cJSON_AddStringToObject(o, "kind", "Lease") ||
                  !cJSON_AddStringToObject(o, "apiVersion", KSIM_API_VERSION)))
        goto fail;
    snprintf(rv, sizeof(rv), "%" PRIu64, l->rv);
    cJSON *meta = cJSON_AddObjectToObject(o, "metadata");
    if (meta == NULL || !cJSON_AddStringToObject(meta, "name", l->name) ||
        !cJSON_AddStringToObject(meta, "namespace", l->ns) ||
        !cJSON_AddStringToObject(meta, "uid", l->uid) ||
        !cJSON_AddStringToObject(meta, "resourceVersion", rv) ||
        !format_seconds(l->created_s, ts) ||
        !cJSON_AddStringToObject(meta, "creationTimestamp", ts) || !add_managed(meta, l))
        goto fail;
    cJSON *spec = cJSON_AddObjectToObject(o, "spec");
    const lease_spec *s = &l->spec;
    if (spec == NULL ||
        (s->holder && !cJSON_AddStringToObject(spec, "holderIdentity", s->holder)) ||
        (s->has_duration && !cJSON_AddNumberToObject(spec, "leaseDurationSeconds", s->duration)) ||
        (s->has_acquire && !add_time(spec, "acquireTime", s->acquire_ns)) ||
        (s->has_renew && !add_time(spec, "renewTime", s->renew_ns)) ||
        (s->has_transitions && !cJSON_AddNumberToObject(spec, "leaseTransitions", s->transitions)))
        goto fail;
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

char *ksim__lease_to_text(const lease *l)
{
    cJSON *o = ksim__lease_to_json(l, false);
    char *s = o ? ksim__json_line(o) : NULL;
    cJSON_Delete(o);
    return s;
}

/* ------------------------------------------------------------ decoding */

#define GO_LAYOUT "2006-01-02T15:04:05.000000Z07:00"

static bool isdig(char c)
{
    return c >= '0' && c <= '9';
}

/* Go's time.Parse error text for a MicroTime the core parser rejected. The
 * decision is the core parser's; this only walks Go's layout far enough to
 * name the element where Go stops, so messages match the server's. */
static void go_time_error(const char *v, char *out, size_t outsz)
{
    static const struct {
        const char *elem;
        int digits; /* >0: that many digits; 0: literal; -1 hour; -2 fraction; -3 zone */
    } layout[] = {{"2006", 4}, {"-", 0},        {"01", 2},     {"-", 0},  {"02", 2},
                  {"T", 0},    {"15", -1},      {":", 0},      {"04", 2}, {":", 0},
                  {"05", 2},   {".000000", -2}, {"Z07:00", -3}};
    const char *p = v;
    for (size_t i = 0; i < sizeof(layout) / sizeof(layout[0]); i++) {
        size_t left = strlen(p);
        bool ok = true;
        int d = layout[i].digits;
        if (d == 0) {
            ok = p[0] == layout[i].elem[0];
            p += ok ? 1 : 0;
        } else if (d > 0) {
            for (int k = 0; k < d; k++)
                ok = ok && isdig(p[k]);
            p += ok ? d : 0;
        } else if (d == -1) {
            ok = isdig(p[0]);
            p += ok ? (isdig(p[1]) ? 2 : 1) : 0;
        } else if (d == -2) {
            ok = left >= 7 && p[0] == '.';
            for (int k = 1; ok && k < 7; k++)
                ok = isdig(p[k]);
            p += ok ? 7 : 0;
        } else if (p[0] == 'Z') {
            p++;
        } else {
            ok = left >= 6 && (p[0] == '+' || p[0] == '-') && p[3] == ':' && isdig(p[1]) &&
                 isdig(p[2]) && isdig(p[4]) && isdig(p[5]);
            p += ok ? 6 : 0;
        }
        if (!ok) {
            snprintf(out, outsz,
                     "parsing time \"%s\" as \"" GO_LAYOUT "\": cannot parse \"%s\" as \"%s\"", v,
                     p, layout[i].elem);
            return;
        }
    }
    if (*p != '\0') {
        snprintf(out, outsz, "parsing time \"%s\": extra text: \"%s\"", v, p);
        return;
    }
    /* The shape is right, so a value is out of range; Go reports the first
     * one in layout order, and a day that does not exist in its month last. */
    int mon = (v[5] - '0') * 10 + (v[6] - '0');
    int day = (v[8] - '0') * 10 + (v[9] - '0');
    bool one_digit_hour = !isdig(v[12]);
    const char *t = v + (one_digit_hour ? 11 : 12);
    int hour = one_digit_hour ? v[11] - '0' : (v[11] - '0') * 10 + (v[12] - '0');
    int min = (t[1] - '0') * 10 + (t[2] - '0');
    const char *what = mon < 1 || mon > 12                     ? "month"
                       : day > 31                              ? "day"
                       : hour > 23                             ? "hour"
                       : min > 59                              ? "minute"
                       : (t[4] - '0') * 10 + (t[5] - '0') > 59 ? "second"
                                                               : "day";
    snprintf(out, outsz, "parsing time \"%s\": %s out of range", v, what);
}

static const char *json_type(const cJSON *v)
{
    if (cJSON_IsString(v))
        return "string";
    if (cJSON_IsNumber(v))
        return "number";
    if (cJSON_IsBool(v))
        return "bool";
    if (cJSON_IsArray(v))
        return "array";
    return "object";
}

static decode_kind type_error(decoded *out, const cJSON *v, const char *field, const char *type)
{
    if (cJSON_IsNumber(v))
        snprintf(out->msg, sizeof(out->msg),
                 "json: cannot unmarshal number %.17g into Go struct field %s of type %s",
                 v->valuedouble, field, type);
    else
        snprintf(out->msg, sizeof(out->msg),
                 "json: cannot unmarshal %s into Go struct field %s of type %s", json_type(v),
                 field, type);
    return DEC_TYPE;
}

static decode_kind get_int32(const cJSON *v, const char *field, bool *has, int32_t *out, decoded *d)
{
    if (v == NULL || cJSON_IsNull(v))
        return DEC_OK;
    double x = v->valuedouble;
    if (!cJSON_IsNumber(v) || x != floor(x) || x < INT32_MIN || x > INT32_MAX)
        return type_error(d, v, field, "int32");
    *has = true;
    *out = (int32_t)x;
    return DEC_OK;
}

static decode_kind get_time(const cJSON *v, const char *field, bool *has, int64_t *out, decoded *d)
{
    if (v == NULL || cJSON_IsNull(v))
        return DEC_OK;
    if (!cJSON_IsString(v))
        return type_error(d, v, field, "v1.MicroTime");
    if (klease__microtime_parse(v->valuestring, strlen(v->valuestring), out, NULL) != KLEASE_OK) {
        go_time_error(v->valuestring, d->msg, sizeof(d->msg));
        return DEC_TIME;
    }
    *has = true;
    return DEC_OK;
}

static decode_kind get_meta_string(const cJSON *meta, const char *key, const char **out, decoded *d)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, key);
    if (v == NULL || cJSON_IsNull(v))
        return DEC_OK;
    if (!cJSON_IsString(v)) {
        char field[64];
        snprintf(field, sizeof(field), "ObjectMeta.metadata.%s", key);
        return type_error(d, v, field, "string");
    }
    *out = v->valuestring;
    return DEC_OK;
}

decode_kind ksim__lease_decode(const cJSON *obj, decoded *out)
{
    decode_kind k = DEC_OK;
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(obj)) {
        snprintf(out->msg, sizeof(out->msg),
                 "json: cannot unmarshal %s into Go value of type "
                 "v1.Lease",
                 json_type(obj));
        return DEC_TYPE;
    }
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    if (meta != NULL && !cJSON_IsNull(meta)) {
        if (!cJSON_IsObject(meta))
            return type_error(out, meta, "Lease.metadata", "v1.ObjectMeta");
        if ((k = get_meta_string(meta, "name", &out->name, out)) != DEC_OK ||
            (k = get_meta_string(meta, "namespace", &out->ns, out)) != DEC_OK ||
            (k = get_meta_string(meta, "resourceVersion", &out->rv, out)) != DEC_OK ||
            (k = get_meta_string(meta, "uid", &out->uid, out)) != DEC_OK)
            return k;
    }
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    if (spec == NULL || cJSON_IsNull(spec))
        return DEC_OK;
    if (!cJSON_IsObject(spec))
        return type_error(out, spec, "Lease.spec", "v1.LeaseSpec");
    lease_spec *s = &out->spec;
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(spec, "holderIdentity");
    if (h != NULL && !cJSON_IsNull(h)) {
        if (!cJSON_IsString(h))
            return type_error(out, h, "LeaseSpec.spec.holderIdentity", "string");
        if ((s->holder = strdup(h->valuestring)) == NULL)
            return DEC_OOM;
    }
    if ((k = get_int32(cJSON_GetObjectItemCaseSensitive(spec, "leaseDurationSeconds"),
                       "LeaseSpec.spec.leaseDurationSeconds", &s->has_duration, &s->duration,
                       out)) != DEC_OK ||
        (k = get_time(cJSON_GetObjectItemCaseSensitive(spec, "acquireTime"),
                      "LeaseSpec.spec.acquireTime", &s->has_acquire, &s->acquire_ns, out)) !=
            DEC_OK ||
        (k = get_time(cJSON_GetObjectItemCaseSensitive(spec, "renewTime"),
                      "LeaseSpec.spec.renewTime", &s->has_renew, &s->renew_ns, out)) != DEC_OK ||
        (k = get_int32(cJSON_GetObjectItemCaseSensitive(spec, "leaseTransitions"),
                       "LeaseSpec.spec.leaseTransitions", &s->has_transitions, &s->transitions,
                       out)) != DEC_OK) {
        ksim__spec_clear(s);
        return k;
    }
    out->present = ksim__spec_mask(s);
    return DEC_OK;
}

static int add_cause(cJSON *causes, const char *field, const char *message)
{
    cJSON *c = cJSON_CreateObject();
    if (c == NULL)
        return -1;
    cJSON_AddItemToArray(causes, c);
    if (!cJSON_AddStringToObject(c, "reason", "FieldValueInvalid") ||
        !cJSON_AddStringToObject(c, "message", message) ||
        !cJSON_AddStringToObject(c, "field", field))
        return -1;
    return 0;
}

int ksim__lease_validate(const lease_spec *s, cJSON *causes)
{
    char msg[128];
    int n = 0;
    if (s->has_duration && s->duration <= 0) {
        snprintf(msg, sizeof(msg), "Invalid value: %" PRId32 ": must be greater than 0",
                 s->duration);
        if (add_cause(causes, "spec.leaseDurationSeconds", msg) != 0)
            return -1;
        n++;
    }
    if (s->has_transitions && s->transitions < 0) {
        /* The server's own wording, grammar included. */
        snprintf(msg, sizeof(msg), "Invalid value: %" PRId32 ": must to greater or equal than 0",
                 s->transitions);
        if (add_cause(causes, "spec.leaseTransitions", msg) != 0)
            return -1;
        n++;
    }
    return n;
}
