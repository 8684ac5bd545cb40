/* Status bodies: the API server explains every failure in a Status object
 * (kind, apiVersion, metadata, status, message, reason, details, code). */
#include "api/status.h"

#include "core/error.h"
#include "core/json.h"

#include <cjson/cJSON.h>
#include <string.h>

static klease_status status_for_code(int code)
{
    switch (code) {
    case 404: return KLEASE_ENOTFOUND;
    case 409: return KLEASE_ECONFLICT;
    case 401:
    case 403: return KLEASE_EAUTH;
    default: return KLEASE_EHTTP;
    }
}

static const char *string_field(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "FieldManagerConflict" when any cause says so: the server sends
 * reason "Conflict" for both stale versions and field-manager conflicts, and
 * only the causes tell them apart (capture 03c). */
static const char *refined_reason(const cJSON *status, const char *reason)
{
    const cJSON *details = cJSON_GetObjectItemCaseSensitive(status, "details");
    const cJSON *causes = cJSON_GetObjectItemCaseSensitive(details, "causes");
    const cJSON *cause;
    cJSON_ArrayForEach(cause, causes)
    {
        const char *r = string_field(cause, "reason");
        if (r != NULL && strcmp(r, "FieldManagerConflict") == 0)
            return r;
    }
    return reason;
}

static klease_status fill(int code, const cJSON *status, const char *what, int64_t retry_after,
                          const char *raw, klease_error *err)
{
    klease_status st = status_for_code(code);
    const char *reason = NULL, *message = NULL;
    if (cJSON_IsObject(status)) {
        reason = refined_reason(status, string_field(status, "reason"));
        message = string_field(status, "message");
    }
    if (message != NULL)
        klease__fail_http(err, st, code, reason, "%s: HTTP %d%s%s: %s", what, code,
                          reason ? " " : "", reason ? reason : "", message);
    else
        /* Not a Status (a proxy's HTML page, say): show the start of it. */
        klease__fail_http(err, st, code, reason, "%s: HTTP %d%s%.200s", what, code,
                          raw && raw[0] ? ": " : "", raw ? raw : "");
    if (err != NULL)
        err->retry_after_ms = retry_after;
    return st;
}

klease_status klease__status_error(const klease__http_response *resp, const char *what,
                                   klease_error *err)
{
    cJSON *doc = NULL;
    /* Unparseable (or no memory to parse): the message quotes the raw body. */
    if (resp->body != NULL && resp->body_len > 0)
        (void)klease__json_parse(resp->body, resp->body_len, &doc);
    const char *kind = string_field(doc, "kind");
    klease_status st = fill(resp->status, kind && strcmp(kind, "Status") == 0 ? doc : NULL, what,
                            resp->retry_after_ms, resp->body, err);
    cJSON_Delete(doc);
    return st;
}

klease_status klease__status_from_object(const cJSON *status, const char *what, klease_error *err)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(status, "code");
    int c = cJSON_IsNumber(code) ? code->valueint : 500;
    return fill(c, status, what, -1, NULL, err);
}
