/* What the libcurl transport's files share: the transport, one transfer,
 * and the steps that set a request's options and its write callback. Owned
 * by http/http_curl_options.c; http/http_curl.c runs the transfers. */
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

/* Sets every option of one request on slot `s` (and, once per slot, the
 * options all requests share); every curl_easy_setopt is checked, and one
 * libcurl refuses is KLEASE_ECONFIG (KLEASE_ENOMEM when it ran out of
 * memory) naming the option. *headers is the caller's to free after the
 * transfer, whatever the result. */
klease_status klease__curl_prepare(curl_transport *t, klease__slot *s, transfer *x,
                                   const klease__http_request *req, const klease__auth *auth,
                                   struct curl_slist **headers, klease_error *err);

/* Drops the handle's pointers into the call that ended (error buffer, write
 * target, body, header list), so a pooled handle never points at freed
 * memory between calls. */
void klease__curl_unhook(CURL *e);

#endif
