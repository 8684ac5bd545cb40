/* Transport-independent helpers: responses, query escaping and Retry-After. */
#include "http/http.h"

#include "core/alloc.h"
#include "core/clock.h"

#include <curl/curl.h>
#include <string.h>

void klease__http_response_clear(klease__http_response *resp)
{
    if (resp == NULL)
        return;
    klease__free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    resp->status = 0;
    resp->retry_after_ms = -1;
}

char *klease__http_query_escape(const char *s)
{
    char *escaped = curl_easy_escape(NULL, s, 0);
    char *copy = klease__strdup(escaped);
    curl_free(escaped);
    return copy;
}

int64_t klease__retry_after_parse(const char *value, int64_t now_wall_s)
{
    const int64_t cap_s = KLEASE__RETRY_AFTER_MAX_MS / 1000;
    if (value == NULL)
        return -1;
    size_t len = strlen(value);
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    while (len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        len--;
    }
    if (len == 0)
        return -1;
    if (value[0] >= '0' && value[0] <= '9') {
        /* delay-seconds: digits only, counted without overflow. */
        int64_t secs = 0;
        for (size_t i = 0; i < len; i++) {
            if (value[i] < '0' || value[i] > '9')
                return -1;
            if (secs <= cap_s)
                secs = secs * 10 + (value[i] - '0');
        }
        return secs > cap_s ? KLEASE__RETRY_AFTER_MAX_MS : secs * 1000;
    }
    /* An HTTP date. curl_getdate wants a NUL-terminated string; headers are
     * short, and a longer value is not a date. */
    char date[128];
    if (len >= sizeof date)
        return -1;
    memcpy(date, value, len);
    date[len] = '\0';
    time_t when = curl_getdate(date, NULL);
    if (when == (time_t)-1)
        return -1;
    if ((int64_t)when <= now_wall_s)
        return 0;
    int64_t secs = klease__add_sat((int64_t)when, -now_wall_s);
    return secs > cap_s ? KLEASE__RETRY_AFTER_MAX_MS : secs * 1000;
}
