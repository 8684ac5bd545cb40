/* Transport-independent helpers: responses and cancellation tokens. */
#include "kube/http.h"

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

int klease__cancel_init(klease__cancel *c)
{
    atomic_init(&c->cancelled, false);
    c->wake = NULL;
    c->wake_arg = NULL;
    return pthread_mutex_init(&c->mu, NULL);
}

void klease__cancel_destroy(klease__cancel *c)
{
    if (c != NULL)
        pthread_mutex_destroy(&c->mu);
}

void klease__cancel_fire(klease__cancel *c)
{
    pthread_mutex_lock(&c->mu);
    atomic_store(&c->cancelled, true);
    if (c->wake != NULL)
        c->wake(c->wake_arg);
    pthread_mutex_unlock(&c->mu);
}

bool klease__cancel_attach(klease__cancel *c, void (*wake)(void *), void *arg)
{
    if (c == NULL)
        return true;
    pthread_mutex_lock(&c->mu);
    bool ok = !atomic_load(&c->cancelled);
    if (ok) {
        c->wake = wake;
        c->wake_arg = arg;
    }
    pthread_mutex_unlock(&c->mu);
    return ok;
}

void klease__cancel_detach(klease__cancel *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->wake = NULL;
    c->wake_arg = NULL;
    pthread_mutex_unlock(&c->mu);
}

klease__budget klease__budget_start(int64_t limit_ms, klease__cancel *cancel)
{
    int64_t now = klease__mono_ns(klease__clock_system());
    return (klease__budget){
        .deadline_ns = limit_ms > 0 ? klease__add_sat(now, klease__ms_to_ns(limit_ms)) : INT64_MAX,
        .limit_ms = limit_ms > 0 ? limit_ms : 0,
        .cancel = cancel,
    };
}

int64_t klease__budget_left_ms(const klease__budget *b)
{
    if (b == NULL || b->deadline_ns == INT64_MAX)
        return INT64_MAX;
    int64_t left = b->deadline_ns - klease__mono_ns(klease__clock_system());
    return left > 0 ? left / KLEASE__NS_PER_MS : 0;
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
