/* What every verb handler does with a request: its query parameters, its
 * field manager, its JSON body (with Go's decoder wording on failure), and
 * the name and validation answers shared by POST, PUT and the patches. */
#include "request.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ksim__query(const request *rq, const char *key)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

void ksim__default_manager(request *rq)
{
    const char *fm = ksim__query(rq, "fieldManager");
    const char *ua = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "User-Agent");
    /* The server names an unnamed manager after the client's product. */
    const char *src = fm ? fm : ua ? ua : "unknown";
    size_t n = fm ? strlen(fm) : strcspn(src, "/");
    if (n >= sizeof(rq->manager))
        n = sizeof(rq->manager) - 1;
    memcpy(rq->manager, src, n);
    rq->manager[n] = '\0';
}

const char *ksim__field_manager(const request *rq)
{
    return rq->manager;
}

writer ksim__request_writer(const request *rq)
{
    return (writer){.identity = rq->id.user, .field_manager = rq->manager};
}

bool ksim__parse_field_selector(const char *sel, char *name, size_t namesz, char *bad, size_t badsz)
{
    name[0] = '\0';
    while (sel && *sel) {
        const char *end = strchr(sel, ',');
        size_t len = end ? (size_t)(end - sel) : strlen(sel);
        const char *eq = memchr(sel, '=', len);
        if (eq == NULL) {
            snprintf(bad, badsz, "invalid selector: '%.*s'; can't understand '%.*s'", (int)len, sel,
                     (int)len, sel);
            return false;
        }
        size_t klen = (size_t)(eq - sel);
        const char *val = eq + 1;
        if (val < sel + len && *val == '=')
            val++;
        size_t vlen = len - (size_t)(val - sel);
        if (klen == 13 && strncmp(sel, "metadata.name", 13) == 0) {
            if (vlen >= namesz)
                vlen = namesz - 1;
            memcpy(name, val, vlen);
            name[vlen] = '\0';
        } else if (!(klen == 18 && strncmp(sel, "metadata.namespace", 18) == 0)) {
            snprintf(bad, badsz, "field label not supported: %.*s", (int)klen, sel);
            return false;
        }
        sel = end ? end + 1 : NULL;
    }
    return true;
}

/* Whether a JSON text stops in the middle of a value, which Go's decoder
 * reports as "unexpected end of JSON input" rather than a bad character. */
static bool truncated_json(const char *s, size_t n)
{
    int depth = 0;
    bool in_string = false, escaped = false;
    char last = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"')
            in_string = true;
        else if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']')
            depth--;
        if (c != ' ' && c != '\n' && c != '\t' && c != '\r')
            last = c;
    }
    return n == 0 || in_string || depth > 0 || last == ':' || last == ',';
}

cJSON *ksim__parse_body(const request *rq, reply *r)
{
    const char *errp = NULL;
    cJSON *doc = NULL;
    if (rq->body_len > 0)
        doc = cJSON_ParseWithLengthOpts(rq->body, rq->body_len, &errp, false);
    if (doc != NULL)
        return doc;
    char msg[128];
    if (truncated_json(rq->body, rq->body_len) || errp == NULL || errp >= rq->body + rq->body_len)
        snprintf(msg, sizeof(msg), "unexpected end of JSON input");
    else
        snprintf(msg, sizeof(msg), "invalid character '%c' looking for beginning of value",
                 *errp >= ' ' && *errp < 127 ? *errp : '?');
    ksim__reply_bad_request(r, msg);
    return NULL;
}

bool ksim__check_names(reply *r, const decoded *d, const char *ns, const char *url_name,
                       bool name_required)
{
    if (d->ns && strcmp(d->ns, ns) != 0) {
        ksim__reply_bad_request(r,
                                "the namespace of the provided object does not match the namespace "
                                "sent on the request");
        return false;
    }
    if (url_name && (name_required || d->name) && (!d->name || strcmp(d->name, url_name) != 0)) {
        char msg[600];
        snprintf(msg, sizeof(msg),
                 "the name of the object (%s) does not match the name on the "
                 "URL (%s)",
                 d->name ? d->name : "", url_name);
        ksim__reply_bad_request(r, msg);
        return false;
    }
    return true;
}

bool ksim__validate(reply *r, const char *name, const lease_spec *s)
{
    cJSON *causes = cJSON_CreateArray();
    int n = causes ? ksim__lease_validate(s, causes) : -1;
    if (n == 0) {
        cJSON_Delete(causes);
        return true;
    }
    if (n < 0) {
        cJSON_Delete(causes);
        ksim__reply_oom(r);
    } else {
        ksim__reply_invalid(r, name, causes);
    }
    return false;
}
