/* Status bodies shaped like the real server's: kind, apiVersion, metadata{},
 * status, message, reason, details, code, in that order; reason left out
 * where the server leaves it out (500s), details only when given. */
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *ksim__json_line(const cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (t == NULL) {
        free(s);
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    return t;
}

char *ksim__status_text(int code, const char *reason, const char *message, cJSON *details)
{
    cJSON *o = cJSON_CreateObject();
    char *s = NULL;
    if (o == NULL || !cJSON_AddStringToObject(o, "kind", "Status") ||
        !cJSON_AddStringToObject(o, "apiVersion", "v1") ||
        !cJSON_AddObjectToObject(o, "metadata") ||
        !cJSON_AddStringToObject(o, "status", "Failure") ||
        !cJSON_AddStringToObject(o, "message", message) ||
        (reason && !cJSON_AddStringToObject(o, "reason", reason)))
        goto out;
    if (details) {
        cJSON_AddItemToObject(o, "details", details);
        details = NULL;
    }
    if (!cJSON_AddNumberToObject(o, "code", code))
        goto out;
    s = ksim__json_line(o);
out:
    cJSON_Delete(details);
    cJSON_Delete(o);
    return s;
}

void ksim__reply_text(reply *r, int code, char *text)
{
    if (text == NULL)
        ksim__reply_oom(r);
    else
        ksim__reply_json(r, code, text);
}

void ksim__reply_json(reply *r, int code, char *body)
{
    free(r->body);
    r->code = body ? code : 500;
    r->body = body;
}

void ksim__reply_oom(reply *r)
{
    /* Even the Status may not fit; an empty 500 still tells the client. */
    free(r->body);
    r->code = 500;
    r->body = NULL;
}

void ksim__reply_status(reply *r, int code, const char *reason, const char *message, cJSON *details)
{
    char *s = ksim__status_text(code, reason, message, details);
    if (s == NULL) {
        ksim__reply_oom(r);
        return;
    }
    ksim__reply_json(r, code, s);
}

cJSON *ksim__details_named(const char *name)
{
    cJSON *d = cJSON_CreateObject();
    if (d == NULL || (name && !cJSON_AddStringToObject(d, "name", name)) ||
        !cJSON_AddStringToObject(d, "group", KSIM_GROUP) ||
        !cJSON_AddStringToObject(d, "kind", "leases")) {
        cJSON_Delete(d);
        return NULL;
    }
    return d;
}

void ksim__reply_not_found(reply *r, const char *name)
{
    char msg[512];
    snprintf(msg, sizeof(msg), "leases.%s \"%s\" not found", KSIM_GROUP, name);
    ksim__reply_status(r, 404, "NotFound", msg, ksim__details_named(name));
}

void ksim__reply_conflict(reply *r, const char *name)
{
    char msg[512];
    snprintf(msg, sizeof(msg),
             "Operation cannot be fulfilled on leases.%s \"%s\": the object has been modified; "
             "please apply your changes to the latest version and try again",
             KSIM_GROUP, name);
    ksim__reply_status(r, 409, "Conflict", msg, ksim__details_named(name));
}

void ksim__reply_bad_request(reply *r, const char *message)
{
    ksim__reply_status(r, 400, "BadRequest", message, NULL);
}

void ksim__reply_internal(reply *r, const char *message)
{
    ksim__reply_status(r, 500, NULL, message, NULL);
}

void ksim__reply_invalid(reply *r, const char *name, cJSON *causes)
{
    char msg[1024];
    int n = cJSON_GetArraySize(causes);
    size_t off = (size_t)snprintf(msg, sizeof(msg), "Lease.%s \"%s\" is invalid: %s", KSIM_GROUP,
                                  name, n > 1 ? "[" : "");
    for (int i = 0; i < n && off < sizeof(msg); i++) {
        const cJSON *c = cJSON_GetArrayItem(causes, i);
        off += (size_t)snprintf(msg + off, sizeof(msg) - off, "%s%s: %s", i ? ", " : "",
                                cJSON_GetObjectItem(c, "field")->valuestring,
                                cJSON_GetObjectItem(c, "message")->valuestring);
    }
    if (n > 1 && off < sizeof(msg))
        snprintf(msg + off, sizeof(msg) - off, "]");
    cJSON *d = cJSON_CreateObject();
    if (d == NULL || !cJSON_AddStringToObject(d, "name", name) ||
        !cJSON_AddStringToObject(d, "group", KSIM_GROUP) ||
        !cJSON_AddStringToObject(d, "kind", "Lease")) {
        cJSON_Delete(d);
        cJSON_Delete(causes);
        ksim__reply_oom(r);
        return;
    }
    cJSON_AddItemToObject(d, "causes", causes);
    ksim__reply_status(r, 422, "Invalid", msg, d);
}
