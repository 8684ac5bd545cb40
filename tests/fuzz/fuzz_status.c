/* libFuzzer target: an error response (Status body or anything a proxy may
 * send) mapped to a klease_status, and the same body as a watch ERROR event.
 * Input: one byte choosing the HTTP code, one choosing Retry-After, then the
 * body. The transport always hands over a NUL-terminated body, so this does
 * too; the mapping must follow the code whatever the body says. */
#include "api/status.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int codes[] = {400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 429,
                            500, 502, 503, 504, 0,   -1,  302, 999, 200, 201, 418};

static klease_status expected(int code)
{
    switch (code) {
    case 404: return KLEASE_ENOTFOUND;
    case 409: return KLEASE_ECONFLICT;
    case 401:
    case 403: return KLEASE_EAUTH;
    default: return KLEASE_EHTTP;
    }
}

static void check_error(const klease_error *err)
{
    if (strnlen(err->message, sizeof err->message) == sizeof err->message ||
        strnlen(err->reason, sizeof err->reason) == sizeof err->reason)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int code = codes[data[0] % (sizeof codes / sizeof codes[0])];
    int64_t retry_after = data[1] == 0 ? -1 : (int64_t)data[1] * 1000;
    size_t len = size - 2;
    char *body = malloc(len + 1);
    if (body == NULL)
        return 0;
    memcpy(body, data + 2, len);
    body[len] = '\0';

    klease__http_response resp = {
        .status = code, .body = body, .body_len = len, .retry_after_ms = retry_after};
    klease_error err;
    klease_status st = klease__status_error(&resp, "PATCH lease ns/name", &err);
    if (st != expected(code) || err.status != st || err.http_code != code ||
        err.retry_after_ms != retry_after)
        abort();
    check_error(&err);

    /* The watch path: an ERROR event carries the Status as an object. */
    cJSON *doc = cJSON_ParseWithLength(body, len);
    if (cJSON_IsObject(doc)) {
        st = klease__status_from_object(doc, "WATCH lease ns/name", &err);
        if (st == KLEASE_OK || err.status != st)
            abort();
        check_error(&err);
    }
    cJSON_Delete(doc);
    free(body);
    return 0;
}
