/* Lease JSON codec on cJSON. */
#include "lease/codec.h"

#include "core/error.h"
#include "core/json.h"
#include "core/microtime.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define API_VERSION "coordination.k8s.io/v1"

uint64_t klease__holder_hash(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3u;
    }
    return h;
}

bool klease__lease_held_by(const klease__lease *l, const char *identity)
{
    return l->has_holder && !l->holder_truncated && identity != NULL &&
           strcmp(l->holder, identity) == 0;
}

bool klease__lease_same_holder(const klease__lease *a, const klease__lease *b)
{
    if (a->has_holder != b->has_holder)
        return false;
    if (!a->has_holder)
        return true;
    return a->holder_truncated == b->holder_truncated && a->holder_hash == b->holder_hash &&
           strcmp(a->holder, b->holder) == 0;
}

/* A spec field: absent and null read as "not set"; anything else must have
 * the expected type. */
static const cJSON *field(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNull(v) ? NULL : v;
}

static klease_status read_int(const cJSON *spec, const char *name, bool *has, int64_t *out,
                              klease_error *err)
{
    const cJSON *v = field(spec, name);
    *has = false;
    if (v == NULL)
        return KLEASE_OK;
    /* cJSON keeps numbers as doubles: refuse fractions, and values outside
     * int32, the type of every integer in a Lease spec. A server that sends
     * leaseDurationSeconds 1e10 is broken, and trusting it would make a
     * deadline arithmetic problem out of a protocol problem. */
    double d = cJSON_IsNumber(v) ? v->valuedouble : 0.5;
    if (!(d >= -9.0e18 && d <= 9.0e18) || (double)(int64_t)d != d)
        return klease__fail(err, KLEASE_EPROTO, "lease: spec.%s is not an integer", name);
    if (d < (double)INT32_MIN || d > (double)INT32_MAX)
        return klease__fail(err, KLEASE_EPROTO, "lease: spec.%s %.0f is outside int32", name, d);
    *has = true;
    *out = (int64_t)d;
    return KLEASE_OK;
}

static klease_status read_time(const cJSON *spec, const char *name, bool *has, int64_t *out,
                               klease_error *err)
{
    const cJSON *v = field(spec, name);
    *has = false;
    if (v == NULL)
        return KLEASE_OK;
    if (!cJSON_IsString(v))
        return klease__fail(err, KLEASE_EPROTO, "lease: spec.%s is not a string", name);
    klease_error perr;
    if (klease__microtime_parse(v->valuestring, strlen(v->valuestring), out, &perr) != KLEASE_OK)
        return klease__fail(err, KLEASE_EPROTO, "lease: spec.%s: %s", name, perr.message);
    *has = true;
    return KLEASE_OK;
}

klease_status klease__lease_decode_object(const cJSON *obj, klease__lease *out, klease_error *err)
{
    klease_status st;
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(obj))
        return klease__fail(err, KLEASE_EPROTO, "lease: not a JSON object");
    const cJSON *metadata = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(metadata, "resourceVersion");
    if (!cJSON_IsString(rv) || rv->valuestring[0] == '\0')
        return klease__fail(err, KLEASE_EPROTO, "lease does not have a resource version");
    if (!klease__strlcpy(out->resource_version, rv->valuestring, sizeof out->resource_version))
        return klease__fail(err, KLEASE_EPROTO, "lease: resourceVersion is longer than %d bytes",
                            KLEASE__RV_MAX);
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    if (!cJSON_IsObject(spec))
        return klease__fail(err, KLEASE_EPROTO, "lease does not have a spec");

    const cJSON *holder = field(spec, "holderIdentity");
    if (holder != NULL) {
        if (!cJSON_IsString(holder))
            return klease__fail(err, KLEASE_EPROTO, "lease: spec.holderIdentity is not a string");
        size_t len = strlen(holder->valuestring);
        out->has_holder = len > 0;
        out->holder_truncated =
            !klease__strlcpy(out->holder, holder->valuestring, sizeof out->holder);
        /* A holder with an embedded NUL (decoded to the mark, see core/json.h)
         * is not representable as a C string: like an over-long one, it never
         * equals an identity we claim with, and it is still someone's claim. */
        if (strstr(holder->valuestring, KLEASE__JSON_NUL_MARK) != NULL)
            out->holder_truncated = true;
        out->holder_hash = klease__holder_hash(holder->valuestring, len);
    }
    if ((st = read_time(spec, "renewTime", &out->has_renew_time, &out->renew_time_ns, err)) ||
        (st = read_time(spec, "acquireTime", &out->has_acquire_time, &out->acquire_time_ns, err)) ||
        (st = read_int(spec, "leaseDurationSeconds", &out->has_duration, &out->duration_s, err)))
        return st;
    bool has_transitions;
    int64_t transitions = 0;
    if ((st = read_int(spec, "leaseTransitions", &has_transitions, &transitions, err)))
        return st;
    out->transitions = transitions < 0 ? 0 : transitions;
    return KLEASE_OK;
}

klease_status klease__lease_decode(const char *json, size_t len, klease__lease *out,
                                   klease_error *err)
{
    cJSON *doc = NULL;
    klease_status st = klease__json_parse(json, len, &doc);
    if (st == KLEASE_ENOMEM)
        return klease__fail(err, st, "out of memory");
    if (st != KLEASE_OK)
        return klease__fail(err, KLEASE_EPROTO, "lease: the response is not JSON");
    st = klease__lease_decode_object(doc, out, err);
    cJSON_Delete(doc);
    return st;
}

/* {"apiVersion":..., "kind":"Lease", "metadata":{...}} with an empty spec
 * object to fill; the keys of every level are added in sorted order. */
static cJSON *lease_skeleton(const char *rv_or_null, const char *name_or_null, cJSON **spec)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *metadata = NULL;
    if (doc == NULL || !cJSON_AddStringToObject(doc, "apiVersion", API_VERSION) ||
        !cJSON_AddStringToObject(doc, "kind", "Lease") ||
        (metadata = cJSON_AddObjectToObject(doc, "metadata")) == NULL ||
        (name_or_null && !cJSON_AddStringToObject(metadata, "name", name_or_null)) ||
        (rv_or_null && !cJSON_AddStringToObject(metadata, "resourceVersion", rv_or_null)) ||
        (*spec = cJSON_AddObjectToObject(doc, "spec")) == NULL) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

static char *print_and_delete(cJSON *doc, bool ok)
{
    char *out = ok && doc != NULL ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    return out;
}

static bool add_time(cJSON *spec, const char *name, int64_t ns)
{
    char buf[KLEASE__MICROTIME_LEN + 1];
    return klease__microtime_format(ns, buf) == KLEASE_OK &&
           cJSON_AddStringToObject(spec, name, buf) != NULL;
}

char *klease__lease_acquire_body(const char *resource_version, const char *holder, int64_t now_ns,
                                 int64_t duration_s, int64_t transitions)
{
    cJSON *spec = NULL;
    cJSON *doc = lease_skeleton(resource_version, NULL, &spec);
    bool ok = doc != NULL && add_time(spec, "acquireTime", now_ns) &&
              cJSON_AddStringToObject(spec, "holderIdentity", holder) &&
              cJSON_AddNumberToObject(spec, "leaseDurationSeconds", (double)duration_s) &&
              cJSON_AddNumberToObject(spec, "leaseTransitions", (double)transitions) &&
              add_time(spec, "renewTime", now_ns);
    return print_and_delete(doc, ok);
}

/* The bytes of `s` as cJSON prints a string value, quotes included: '"',
 * '\\' and the control characters escaped exactly as cJSON 1.7 does (\b \f
 * \n \r \t, other bytes below 0x20 as \u00xx), everything else as it is.
 * With out NULL it only counts. */
static size_t put_json_string(char *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (out != NULL)                                                                           \
            out[n] = (ch);                                                                         \
        n++;                                                                                       \
    } while (0)
    PUT('"');
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        const char *esc = NULL;
        switch (*p) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default: break;
        }
        if (esc != NULL) {
            PUT(esc[0]);
            PUT(esc[1]);
        } else if (*p < 0x20) {
            PUT('\\');
            PUT('u');
            PUT('0');
            PUT('0');
            PUT(hex[*p >> 4]);
            PUT(hex[*p & 0xf]);
        } else {
            PUT((char)*p);
        }
    }
    PUT('"');
#undef PUT
    return n;
}

/* Appends `len` bytes of `s` at *at. */
static void put(char **at, const char *s, size_t len)
{
    memcpy(*at, s, len);
    *at += len;
}

/* Every renewal of every lease builds this body, so it is written directly
 * rather than through a cJSON tree (a dozen allocations and a print): the
 * bytes are the ones cJSON_PrintUnformatted gives for the same tree (keys
 * sorted, integers as %d), pinned by tests/unit/test_codec.c. Durations
 * outside what cJSON prints as a plain int, and a missing resource version,
 * take the tree path below. The result is freed with cJSON_free like every
 * other body. */
static char *renew_body_direct(const char *resource_version, int64_t now_ns, int64_t duration_s)
{
    static const char head[] = "{\"apiVersion\":\"" API_VERSION "\",\"kind\":\"Lease\","
                               "\"metadata\":{\"resourceVersion\":";
    static const char mid[] = "},\"spec\":{\"leaseDurationSeconds\":";
    static const char time_key[] = ",\"renewTime\":\"";
    char when[KLEASE__MICROTIME_LEN + 1], duration[16];
    if (klease__microtime_format(now_ns, when) != KLEASE_OK)
        return NULL;
    int dn = snprintf(duration, sizeof duration, "%d", (int)duration_s);
    if (dn < 0 || (size_t)dn >= sizeof duration)
        return NULL;
    size_t rv_len = put_json_string(NULL, resource_version);
    size_t len = sizeof head - 1 + rv_len + sizeof mid - 1 + (size_t)dn + sizeof time_key - 1 +
                 KLEASE__MICROTIME_LEN + 3; /* "}} */
    char *body = cJSON_malloc(len + 1);
    if (body == NULL)
        return NULL;
    char *at = body;
    put(&at, head, sizeof head - 1);
    at += put_json_string(at, resource_version);
    put(&at, mid, sizeof mid - 1);
    put(&at, duration, (size_t)dn);
    put(&at, time_key, sizeof time_key - 1);
    put(&at, when, KLEASE__MICROTIME_LEN);
    put(&at, "\"}}", 4); /* with the NUL */
    return body;
}

char *klease__lease_renew_body(const char *resource_version, int64_t now_ns, int64_t duration_s)
{
    /* cJSON prints a number as %d only when it equals its int value, which
     * it saturates at INT_MIN/INT_MAX. */
    if (resource_version != NULL && duration_s > INT_MIN && duration_s < INT_MAX)
        return renew_body_direct(resource_version, now_ns, duration_s);
    cJSON *spec = NULL;
    cJSON *doc = lease_skeleton(resource_version, NULL, &spec);
    bool ok = doc != NULL &&
              cJSON_AddNumberToObject(spec, "leaseDurationSeconds", (double)duration_s) &&
              add_time(spec, "renewTime", now_ns);
    return print_and_delete(doc, ok);
}

char *klease__lease_vacate_body(const char *resource_version)
{
    cJSON *spec = NULL;
    cJSON *doc = lease_skeleton(resource_version, NULL, &spec);
    bool ok = doc != NULL && cJSON_AddNullToObject(spec, "acquireTime") &&
              cJSON_AddNullToObject(spec, "holderIdentity") &&
              cJSON_AddNullToObject(spec, "leaseDurationSeconds") &&
              cJSON_AddNullToObject(spec, "renewTime");
    return print_and_delete(doc, ok);
}

char *klease__lease_create_body(const char *name)
{
    cJSON *spec = NULL;
    cJSON *doc = lease_skeleton(NULL, name, &spec);
    return print_and_delete(doc, doc != NULL);
}
