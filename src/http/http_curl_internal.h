/* What the libcurl transport's files share: the transport, one transfer,
 * the steps that set a request's options and its write callback
 * (http/http_curl_options.c), and the beginning and end of one attempt
 * (http/http_curl_attempt.c). http/http_curl.c runs transfers one at a
 * time, blocking; http/http_curl_loop.c runs many on one multi handle. */
#ifndef KLEASE_HTTP_HTTP_CURL_INTERNAL_H
#define KLEASE_HTTP_HTTP_CURL_INTERNAL_H

#include "config/credentials.h"
#include "http/http.h"
#include "http/http_pool.h"

#include "core/log.h"

#include <curl/curl.h>

typedef struct curl_transport {
    klease__transport base;
    klease__slot_pool pool;
    bool pool_ready;
    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
    int share_locks_ready; /* how many of share_locks are initialised */
    char *base_url;        /* scheme://host[:port][/prefix], host replaced by tls-server-name */
    struct curl_slist *connect_to; /* routes tls-server-name to the real host */
    char *proxy;
    char *ca_pem;
    size_t ca_pem_len;
    bool insecure;
    int64_t connect_timeout_ms;
    size_t max_body;
    size_t max_connections; /* the pool's size, and the loop's per-host connection limit */
    const klease__logger *log;
    klease__credentials *creds;
} curl_transport;

typedef struct transfer {
    curl_transport *t;
    CURL *easy;
    char *buf; /* body of a non-streamed (or non-2xx streamed) response */
    size_t len;
    size_t cap;
    bool too_big;
    klease__http_data_fn on_data; /* streaming only */
    void *user;
    bool stopped;       /* on_data asked to stop */
    int64_t attempt_ms; /* libcurl's whole-transfer limit: what is left of the call's budget */
    int64_t connect_ms; /* libcurl's connect limit: min(client's connect limit, attempt_ms) */
    int64_t started_ns;
    char errbuf[CURL_ERROR_SIZE];
} transfer;

/* Sets every option of one request on x->easy (and, while *configured is
 * false, the options all requests on that handle share, then sets it);
 * every curl_easy_setopt is checked, and one libcurl refuses is
 * KLEASE_ECONFIG (KLEASE_ENOMEM when it ran out of memory) naming the
 * option. *headers is the caller's to free after the transfer, whatever the
 * result. */
klease_status klease__curl_prepare(curl_transport *t, bool *configured, transfer *x,
                                   const klease__http_request *req, const klease__auth *auth,
                                   struct curl_slist **headers, klease_error *err);

/* The start of one attempt within the call's budget `b`: credentials into
 * *auth (an exec plugin runs here, on the calling thread), the attempt's
 * share of the budget into x->attempt_ms/connect_ms, every option, and
 * x->started_ns. The caller frees *auth and *headers whatever the result. */
klease_status klease__curl_attempt_begin(curl_transport *t, bool *configured, transfer *x,
                                         const klease__http_request *req, const klease__budget *b,
                                         klease__auth *auth, struct curl_slist **headers,
                                         klease_error *err);

/* The end of an attempt whose transfer ended with `rc` (`cancelled`: the
 * call's token fired): the status and message, or on KLEASE_OK the response
 * (body moved out of x->buf, "" when empty) and whether to retry once after
 * a 401 with credentials newer than `generation`. Logs the DEBUG line. */
klease_status klease__curl_attempt_end(curl_transport *t, transfer *x,
                                       const klease__http_request *req, const klease__budget *b,
                                       CURLcode rc, bool cancelled, uint64_t generation,
                                       klease__http_response *resp, bool *retry_401,
                                       klease_error *err);

/* The messages of a call cancelled, or started without time. */
klease_status klease__curl_cancelled(const klease__http_request *req, klease_error *err);
klease_status klease__curl_no_time_for_call(const klease__http_request *req, klease_error *err);
/* The INFO line before the retry after a 401. */
void klease__curl_log_401_retry(const curl_transport *t, const klease__http_request *req);

/* The libcurl loop of transport `t` (klease__transport.loop_new). */
klease_status klease__curl_loop_new(klease__transport *t, const klease__clock *clock,
                                    klease__http_loop **out, klease_error *err);

/* Drops the handle's pointers into the call that ended (error buffer, write
 * target, body, header list), so a pooled handle never points at freed
 * memory between calls. */
void klease__curl_unhook(CURL *e);

#endif
