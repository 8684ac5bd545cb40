/* One attempt of a libcurl call, shared by the blocking transport
 * (http/http_curl.c) and the loop (http/http_curl_loop.c) so both give the
 * same statuses, messages and response fields: credentials and options
 * before the transfer, the mapping of its result after. */
#include "http/http_curl_internal.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t retry_after_ms(CURL *easy)
{
    struct curl_header *h = NULL;
    if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
        return -1;
    return klease__retry_after_parse(h->value, (int64_t)time(NULL));
}

/* A timeout names the limit that fired and its value: the connect limit
 * when the transfer ended nearer to it than to the call's limit (libcurl
 * reports both as CURLE_OPERATION_TIMEDOUT), else the call's own limit. */
static klease_status timed_out(const transfer *x, const klease__http_request *req,
                               const klease__budget *b, const char *detail, klease_error *err)
{
    int64_t elapsed_ms =
        (klease__mono_ns(klease__clock_system()) - x->started_ns) / KLEASE__NS_PER_MS;
    if (x->connect_ms < x->attempt_ms && elapsed_ms < (x->connect_ms + x->attempt_ms) / 2)
        return klease__fail(err, KLEASE_ETIMEDOUT,
                            "%s %s: connecting timed out after %lld ms (the client's connect "
                            "time limit): %s",
                            req->method, req->path, (long long)x->connect_ms, detail);
    /* Earlier stages (pool wait, credentials, a first attempt) may have used
     * part of the call's limit; say so when it was a noticeable part. */
    char share[96] = "";
    if (b->limit_ms - x->attempt_ms > 50)
        snprintf(share, sizeof share, "; %lld ms of it were left for this request",
                 (long long)x->attempt_ms);
    return klease__fail(err, KLEASE_ETIMEDOUT,
                        "%s %s: timed out after %lld ms (the call's time limit%s): %s", req->method,
                        req->path, (long long)b->limit_ms, share, detail);
}

static klease_status map_result(const transfer *x, const klease__http_request *req,
                                const klease__budget *b, CURLcode rc, bool cancelled,
                                klease_error *err)
{
    const char *detail = x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(rc);
    if (cancelled)
        return klease__fail(err, KLEASE_ECLOSED, "%s %s: cancelled", req->method, req->path);
    if (x->too_big)
        return klease__fail(err, KLEASE_EPROTO, "%s %s: response body larger than %zu bytes",
                            req->method, req->path, x->t->max_body);
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return timed_out(x, req, b, detail, err);
    case CURLE_OUT_OF_MEMORY:
    case CURLE_WRITE_ERROR:
        return klease__fail(err, KLEASE_ENOMEM, "%s %s: out of memory", req->method, req->path);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return klease__fail(err, KLEASE_ECONFIG, "%s %s: %s", req->method, req->path, detail);
    default:
        return klease__fail(err, KLEASE_ETRANSPORT, "%s %s: %s", req->method, req->path, detail);
    }
}

klease_status klease__curl_cancelled(const klease__http_request *req, klease_error *err)
{
    return klease__fail(err, KLEASE_ECLOSED, "%s %s: cancelled", req->method, req->path);
}

klease_status klease__curl_no_time_for_call(const klease__http_request *req, klease_error *err)
{
    return klease__fail(err, KLEASE_ETIMEDOUT, "%s %s: no time left for the call", req->method,
                        req->path);
}

void klease__curl_log_401_retry(const curl_transport *t, const klease__http_request *req)
{
    klease__log(t->log, KLEASE_LOG_INFO, "%s %s: 401, retrying with fresh credentials", req->method,
                req->path);
}

klease_status klease__curl_attempt_begin(curl_transport *t, bool *configured, transfer *x,
                                         const klease__http_request *req, const klease__budget *b,
                                         klease__auth *auth, struct curl_slist **headers,
                                         klease_error *err)
{
    klease_status st;
    if (t->creds != NULL && (st = klease__credentials_get(t->creds, b, auth, err)) != KLEASE_OK)
        return st;
    if ((x->attempt_ms = klease__budget_left_ms(b)) < 1)
        return klease__fail(err, KLEASE_ETIMEDOUT,
                            "%s %s: timed out: the call's time limit of %lld ms ran out before "
                            "the request could be sent",
                            req->method, req->path, (long long)b->limit_ms);
    x->connect_ms = t->connect_timeout_ms < x->attempt_ms ? t->connect_timeout_ms : x->attempt_ms;
    if ((st = klease__curl_prepare(t, configured, x, req, auth, headers, err)) != KLEASE_OK)
        return st;
    x->started_ns = klease__mono_ns(klease__clock_system());
    return KLEASE_OK;
}

klease_status klease__curl_attempt_end(curl_transport *t, transfer *x,
                                       const klease__http_request *req, const klease__budget *b,
                                       CURLcode rc, bool cancelled, uint64_t generation,
                                       klease__http_response *resp, bool *retry_401,
                                       klease_error *err)
{
    *retry_401 = false;
    if (x->stopped)
        rc = CURLE_OK; /* the stream consumer asked to stop: a clean end */
    if (rc != CURLE_OK)
        return map_result(x, req, b, rc, cancelled, err);
    long code = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    klease__log(
        t->log, KLEASE_LOG_DEBUG, "%s %s -> %ld in %lld ms", req->method, req->path, code,
        (long long)((klease__mono_ns(klease__clock_system()) - x->started_ns) / KLEASE__NS_PER_MS));
    if (code == 401 && t->creds != NULL)
        *retry_401 = klease__credentials_unauthorized(t->creds, generation);
    resp->status = (int)code;
    resp->body = x->buf;
    resp->body_len = x->len;
    resp->retry_after_ms = retry_after_ms(x->easy);
    x->buf = NULL;
    if (resp->body == NULL) {
        /* Always hand back a NUL-terminated body, even an empty one. */
        if ((resp->body = klease__strdup("")) == NULL)
            return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    }
    return KLEASE_OK;
}
