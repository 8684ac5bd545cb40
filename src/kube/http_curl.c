/* HTTP transport on libcurl.
 *
 * Connection reuse: requests take a "slot" (an easy handle plus the multi
 * handle that owns its connection cache) from a LIFO free list and put it
 * back when done. Sequential requests therefore always land on the same slot
 * and reuse its open connection; concurrent requests get extra slots, and so
 * extra connections, only while they overlap. A curl share object spreads
 * TLS session tickets and DNS results across slots, so even a new slot
 * resumes TLS instead of a full handshake. A watch takes a slot of its own
 * that never returns to the pool: a long-running stream must not hold the
 * connection that renewals need.
 *
 * The pool (kube/http_pool.c) holds at most max_connections slots.
 *
 * Every call runs on the slot's multi handle and waits in curl_multi_poll(),
 * so klease__cancel_fire() can interrupt it at once with curl_multi_wakeup().
 *
 * libcurl's global state: we rely on curl_easy_init()'s own lazy, thread-safe
 * initialisation (libcurl >= 7.84); a host that wants to control it calls
 * curl_global_init() itself before creating a client. */
#include "kube/http_curl.h"

#include "kube/http_pool.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

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

/* ---------------------------------------------------------------- share */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *user)
{
    (void)h;
    (void)access;
    curl_transport *t = user;
    pthread_mutex_lock(&t->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *user)
{
    (void)h;
    curl_transport *t = user;
    pthread_mutex_unlock(&t->share_locks[data]);
}

/* ------------------------------------------------------------- transfer */

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

static bool buffer_append(transfer *x, const char *data, size_t n)
{
    if (x->len + n > x->t->max_body) {
        x->too_big = true;
        return false;
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap == 0 ? 1024 : x->cap;
        while (cap < x->len + n + 1)
            cap *= 2;
        char *grown = klease__realloc(x->buf, cap);
        if (grown == NULL)
            return false;
        x->buf = grown;
        x->cap = cap;
    }
    memcpy(x->buf + x->len, data, n);
    x->len += n;
    x->buf[x->len] = '\0';
    return true;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *user)
{
    transfer *x = user;
    size_t n = size * nmemb;
    if (x->on_data != NULL) {
        long code = 0;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 200 && code < 300) {
            if (!x->on_data(x->user, data, n)) {
                x->stopped = true;
                return CURL_WRITEFUNC_ERROR;
            }
            return n;
        }
    }
    return buffer_append(x, data, n) ? n : CURL_WRITEFUNC_ERROR;
}

static void wake_multi(void *arg)
{
    curl_multi_wakeup(arg);
}

/* Runs the prepared transfer on the slot's multi handle until it finishes,
 * fails or is cancelled. */
static CURLcode run(klease__slot *s, klease__cancel *cancel, bool *cancelled)
{
    *cancelled = false;
    if (curl_multi_add_handle(s->multi, s->easy) != CURLM_OK)
        return CURLE_OUT_OF_MEMORY;
    if (!klease__cancel_attach(cancel, wake_multi, s->multi)) {
        curl_multi_remove_handle(s->multi, s->easy);
        *cancelled = true;
        return CURLE_ABORTED_BY_CALLBACK;
    }
    CURLcode result = CURLE_OK;
    for (;;) {
        int running = 0;
        CURLMcode mc = curl_multi_perform(s->multi, &running);
        if (mc != CURLM_OK) {
            result = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_RECV_ERROR;
            break;
        }
        if (running == 0) {
            int left;
            CURLMsg *msg;
            while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
                if (msg->msg == CURLMSG_DONE)
                    result = msg->data.result;
            }
            break;
        }
        if (klease__cancel_fired(cancel)) {
            *cancelled = true;
            result = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        /* libcurl's own timeouts fire from curl_multi_perform, so a bounded
         * poll is enough; wakeups from cancel end the poll early. */
        if (curl_multi_poll(s->multi, NULL, 0, 1000, NULL) != CURLM_OK) {
            result = CURLE_RECV_ERROR;
            break;
        }
        if (klease__cancel_fired(cancel)) {
            *cancelled = true;
            result = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
    }
    klease__cancel_detach(cancel);
    curl_multi_remove_handle(s->multi, s->easy);
    return result;
}

static int64_t retry_after_ms(CURL *easy)
{
    struct curl_header *h = NULL;
    if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
        return -1;
    return klease__retry_after_parse(h->value, (int64_t)time(NULL));
}

/* Every socket libcurl opens for us is close-on-exec, so a child the host
 * forks and execs (klease exec's CMD, any subprocess of the application)
 * does not inherit the API server connection. */
static curl_socket_t open_socket(void *user, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)user;
    (void)purpose;
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* An option libcurl refused. For options that carry security (the CA, the
 * client certificate, verification, the pinned server name, the TLS
 * version) going on without them would silently weaken the connection, so
 * every refusal is an error. */
static klease_status refused(klease_error *err, const char *option, CURLcode rc)
{
    return klease__fail(err, rc == CURLE_OUT_OF_MEMORY ? KLEASE_ENOMEM : KLEASE_ECONFIG,
                        "libcurl refused %s: %s", option, curl_easy_strerror(rc));
}

#define SETOPT(e, opt, val)                                                                        \
    do {                                                                                           \
        CURLcode rc_ = curl_easy_setopt((e), opt, (val));                                          \
        if (rc_ != CURLE_OK)                                                                       \
            return refused(err, #opt, rc_);                                                        \
    } while (0)

/* The options every request on a slot shares, set once per slot rather than
 * after a curl_easy_reset() per request (measured: about 10-20% less client
 * CPU per renewal; see bench/bench_renew.c). */
static klease_status configure_slot(curl_transport *t, klease__slot *s, klease_error *err)
{
    CURL *e = s->easy;
    if (s->configured)
        return KLEASE_OK;
    SETOPT(e, CURLOPT_USERAGENT, "libklease/" KLEASE_VERSION_STRING);
    SETOPT(e, CURLOPT_NOSIGNAL, 1L);
    SETOPT(e, CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(e, CURLOPT_SHARE, t->share);
    SETOPT(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    SETOPT(e, CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(e, CURLOPT_WRITEFUNCTION, on_write);
    SETOPT(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    /* TLS 1.2 is the oldest version Kubernetes API servers accept. */
    SETOPT(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (t->connect_to != NULL)
        SETOPT(e, CURLOPT_CONNECT_TO, t->connect_to);
    if (t->proxy != NULL)
        SETOPT(e, CURLOPT_PROXY, t->proxy);
    if (t->ca_pem != NULL) {
        struct curl_blob ca = {t->ca_pem, t->ca_pem_len, CURL_BLOB_NOCOPY};
        SETOPT(e, CURLOPT_CAINFO_BLOB, &ca);
    }
    SETOPT(e, CURLOPT_SSL_VERIFYPEER, t->insecure ? 0L : 1L);
    SETOPT(e, CURLOPT_SSL_VERIFYHOST, t->insecure ? 0L : 2L);
    s->configured = true;
    return KLEASE_OK;
}

static klease_status set_url(curl_transport *t, CURL *e, const klease__http_request *req,
                             klease_error *err)
{
    size_t url_len = strlen(t->base_url) + strlen(req->path) + 1;
    char *url = klease__malloc(url_len);
    if (url == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    snprintf(url, url_len, "%s%s", t->base_url, req->path);
    CURLcode rc = curl_easy_setopt(e, CURLOPT_URL, url); /* libcurl copies it */
    klease__free(url);
    if (rc != CURLE_OK)
        return klease__fail(err, rc == CURLE_OUT_OF_MEMORY ? KLEASE_ENOMEM : KLEASE_EINVAL,
                            "%s %s: cannot set up the request: %s", req->method, req->path,
                            curl_easy_strerror(rc));
    return KLEASE_OK;
}

/* The request's header list into *headers (the caller frees it). The bearer
 * token is wiped from the stack buffer it passed through. */
static klease_status build_headers(const klease__http_request *req, const klease__auth *auth,
                                   struct curl_slist **headers, klease_error *err)
{
    char line[8192];
    struct curl_slist *h = NULL, *tmp;
    const char *fixed[] = {"Accept: application/json", "Expect:"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if ((tmp = curl_slist_append(h, fixed[i])) == NULL)
            goto oom;
        h = tmp;
    }
    if (req->content_type != NULL) {
        snprintf(line, sizeof line, "Content-Type: %s", req->content_type);
        if ((tmp = curl_slist_append(h, line)) == NULL)
            goto oom;
        h = tmp;
    }
    if (auth->bearer_token != NULL) {
        int n = snprintf(line, sizeof line, "Authorization: Bearer %s", auth->bearer_token);
        if (n < 0 || (size_t)n >= sizeof line) {
            explicit_bzero(line, sizeof line);
            curl_slist_free_all(h);
            return klease__fail(err, KLEASE_EAUTH, "bearer token is too long (%d bytes)", n);
        }
        tmp = curl_slist_append(h, line);
        explicit_bzero(line, sizeof line);
        if (tmp == NULL)
            goto oom;
        h = tmp;
    }
    *headers = h;
    return KLEASE_OK;
oom:
    curl_slist_free_all(h);
    return klease__fail(err, KLEASE_ENOMEM, "out of memory");
}

/* HTTPGET drops any body of an earlier request; CUSTOMREQUEST then names the
 * method (NULL: plain GET). */
static klease_status set_method(CURL *e, const klease__http_request *req, klease_error *err)
{
    SETOPT(e, CURLOPT_HTTPGET, 1L);
    if (strcmp(req->method, "GET") == 0) {
        SETOPT(e, CURLOPT_CUSTOMREQUEST, (char *)NULL);
        return KLEASE_OK;
    }
    SETOPT(e, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->body != NULL) {
        SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        SETOPT(e, CURLOPT_POSTFIELDS, req->body);
    } else if (strcmp(req->method, "DELETE") != 0) {
        SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        SETOPT(e, CURLOPT_POSTFIELDS, "");
    }
    return KLEASE_OK;
}

/* Client certificate and basic auth of this request; each is set or
 * cleared, since an earlier request on the slot may have used others. */
static klease_status set_client_auth(CURL *e, const klease__auth *auth, klease_error *err)
{
    if (auth->client_cert_pem != NULL && auth->client_key_pem != NULL) {
        /* Certificates and keys go to libcurl from memory; nothing touches disk. */
        struct curl_blob cert = {auth->client_cert_pem, auth->client_cert_pem_len, CURL_BLOB_COPY};
        struct curl_blob key = {auth->client_key_pem, auth->client_key_pem_len, CURL_BLOB_COPY};
        SETOPT(e, CURLOPT_SSLCERTTYPE, "PEM");
        SETOPT(e, CURLOPT_SSLCERT_BLOB, &cert);
        SETOPT(e, CURLOPT_SSLKEYTYPE, "PEM");
        SETOPT(e, CURLOPT_SSLKEY_BLOB, &key);
    } else {
        SETOPT(e, CURLOPT_SSLCERT_BLOB, (struct curl_blob *)NULL);
        SETOPT(e, CURLOPT_SSLKEY_BLOB, (struct curl_blob *)NULL);
    }
    SETOPT(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    SETOPT(e, CURLOPT_USERNAME, auth->username);
    SETOPT(e, CURLOPT_PASSWORD,
           auth->username == NULL   ? NULL
           : auth->password != NULL ? auth->password
                                    : "");
    return KLEASE_OK;
}

/* Sets the options of one request (every one checked). Everything a
 * previous request on this slot may have set differently (method, body,
 * credentials) is set again, or cleared, explicitly. */
static klease_status prepare(curl_transport *t, klease__slot *s, transfer *x,
                             const klease__http_request *req, const klease__auth *auth,
                             struct curl_slist **headers, klease_error *err)
{
    CURL *e = x->easy;
    klease_status st;
    if ((st = configure_slot(t, s, err)) != KLEASE_OK ||
        (st = set_url(t, e, req, err)) != KLEASE_OK ||
        (st = build_headers(req, auth, headers, err)) != KLEASE_OK)
        return st;
    SETOPT(e, CURLOPT_HTTPHEADER, *headers);
    SETOPT(e, CURLOPT_ERRORBUFFER, x->errbuf);
    SETOPT(e, CURLOPT_WRITEDATA, x);
    SETOPT(e, CURLOPT_TIMEOUT_MS, (long)x->attempt_ms);
    SETOPT(e, CURLOPT_CONNECTTIMEOUT_MS, (long)x->connect_ms);
    if ((st = set_method(e, req, err)) != KLEASE_OK)
        return st;
    return set_client_auth(e, auth, err);
}

/* Between calls a pooled handle must not point at memory of the call that
 * ended: the error buffer and write target live on perform()'s stack, the
 * body and headers belong to the caller. */
static void unhook(CURL *e)
{
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, (char *)NULL);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)NULL);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, (char *)NULL);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
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

/* The call's budget ran out before `stage` could begin. */
static klease_status no_time_left(const klease__http_request *req, const klease__budget *b,
                                  const char *stage, klease_error *err)
{
    return klease__fail(err, KLEASE_ETIMEDOUT,
                        "%s %s: timed out: the call's time limit of %lld ms ran out before %s",
                        req->method, req->path, (long long)b->limit_ms, stage);
}

/* One attempt of the call: credentials, then the request, both within the
 * call's budget `b`. */
static klease_status perform(curl_transport *t, klease__slot *s, const klease__http_request *req,
                             const klease__budget *b, klease__http_data_fn on_data, void *user,
                             klease__http_response *resp, bool *retry_401, klease_error *err)
{
    klease_status st = KLEASE_OK;
    struct curl_slist *headers = NULL;
    klease__auth auth = {0};
    transfer x = {.t = t, .easy = s->easy, .on_data = on_data, .user = user};

    *retry_401 = false;
    if (t->creds != NULL && (st = klease__credentials_get(t->creds, b, &auth, err)) != KLEASE_OK)
        goto out;
    if ((x.attempt_ms = klease__budget_left_ms(b)) < 1) {
        st = no_time_left(req, b, "the request could be sent", err);
        goto out;
    }
    x.connect_ms = t->connect_timeout_ms < x.attempt_ms ? t->connect_timeout_ms : x.attempt_ms;
    if ((st = prepare(t, s, &x, req, &auth, &headers, err)) != KLEASE_OK)
        goto out;
    x.started_ns = klease__mono_ns(klease__clock_system());

    bool cancelled;
    CURLcode rc = run(s, b->cancel, &cancelled);
    if (x.stopped)
        rc = CURLE_OK; /* the stream consumer asked to stop: a clean end */
    if (rc != CURLE_OK) {
        st = map_result(&x, req, b, rc, cancelled, err);
        goto out;
    }
    long code = 0;
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
    klease__log(
        t->log, KLEASE_LOG_DEBUG, "%s %s -> %ld in %lld ms", req->method, req->path, code,
        (long long)((klease__mono_ns(klease__clock_system()) - x.started_ns) / KLEASE__NS_PER_MS));
    if (code == 401 && t->creds != NULL)
        *retry_401 = klease__credentials_unauthorized(t->creds, auth.generation);
    resp->status = (int)code;
    resp->body = x.buf;
    resp->body_len = x.len;
    resp->retry_after_ms = retry_after_ms(s->easy);
    x.buf = NULL;
    if (resp->body == NULL) {
        /* Always hand back a NUL-terminated body, even an empty one. */
        if ((resp->body = klease__strdup("")) == NULL)
            st = klease__fail(err, KLEASE_ENOMEM, "out of memory");
    }
out:
    unhook(s->easy);
    curl_slist_free_all(headers);
    klease__auth_clear(&auth);
    klease__free(x.buf);
    return st;
}

/* One call, end to end, on one budget: the wait for a pooled connection,
 * credentials, the request and the retry after a 401 all draw from the
 * call's time limit, and all of them end early when it is cancelled. */
static klease_status do_request(curl_transport *t, const klease__http_request *req,
                                klease__cancel *cancel, klease__http_data_fn on_data, void *user,
                                klease__http_response *resp, klease_error *err)
{
    if (req->timeout_ms < 1)
        return klease__fail(err, KLEASE_ETIMEDOUT, "%s %s: no time left for the call", req->method,
                            req->path);
    klease__budget b = klease__budget_start(req->timeout_ms, cancel);
    bool pooled = on_data == NULL;
    klease_status took = KLEASE_OK;
    klease__slot *s = pooled ? klease__slot_pool_take(&t->pool, b.deadline_ns, cancel, &took)
                             : klease__slot_new();
    if (s == NULL) {
        if (took == KLEASE_ETIMEDOUT)
            return klease__fail(err, took,
                                "%s %s: timed out after %lld ms (the call's time limit) waiting "
                                "for one of %zu connections",
                                req->method, req->path, (long long)b.limit_ms, t->pool.max);
        if (took == KLEASE_ECLOSED)
            return klease__fail(err, took, "%s %s: cancelled", req->method, req->path);
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    }
    *resp = (klease__http_response){.retry_after_ms = -1};
    bool retry = false;
    klease_status st = perform(t, s, req, &b, on_data, user, resp, &retry, err);
    if (st == KLEASE_OK && retry) {
        /* One more try with fresh credentials (exec plugin re-run, token
         * re-read), in what is left of the same budget. */
        klease__log(t->log, KLEASE_LOG_INFO, "%s %s: 401, retrying with fresh credentials",
                    req->method, req->path);
        klease__http_response_clear(resp);
        st = perform(t, s, req, &b, on_data, user, resp, &retry, err);
    }
    if (!pooled)
        klease__slot_free(s);
    else if (st == KLEASE_ENOMEM)
        klease__slot_pool_discard(&t->pool, s);
    else
        klease__slot_pool_put(&t->pool, s);
    return st;
}

static klease_status curl_request(klease__transport *base, const klease__http_request *req,
                                  klease__cancel *cancel, klease__http_response *resp,
                                  klease_error *err)
{
    return do_request((curl_transport *)base, req, cancel, NULL, NULL, resp, err);
}

static klease_status curl_stream(klease__transport *base, const klease__http_request *req,
                                 klease__cancel *cancel, klease__http_data_fn on_data, void *user,
                                 klease__http_response *resp, klease_error *err)
{
    return do_request((curl_transport *)base, req, cancel, on_data, user, resp, err);
}

static void curl_destroy(klease__transport *base)
{
    curl_transport *t = (curl_transport *)base;
    if (t == NULL)
        return;
    if (t->pool_ready)
        klease__slot_pool_destroy(&t->pool);
    if (t->share != NULL)
        curl_share_cleanup(t->share);
    for (int i = 0; i < t->share_locks_ready; i++)
        pthread_mutex_destroy(&t->share_locks[i]);
    curl_slist_free_all(t->connect_to);
    klease__free(t->base_url);
    klease__free(t->proxy);
    klease__free(t->ca_pem);
    klease__free(t);
}

/* Splits cfg->server into what libcurl needs. With tls-server-name, the URL
 * carries that name (so SNI and certificate checks use it) and CONNECT_TO
 * sends the connection to the real host. */
static klease_status set_server(curl_transport *t, const klease__kube_config *cfg,
                                klease_error *err)
{
    klease_status st = KLEASE_OK;
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
    CURLU *u = curl_url();
    if (u == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    if (cfg->server == NULL || curl_url_set(u, CURLUPART_URL, cfg->server, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
        st = klease__fail(err, KLEASE_ECONFIG, "%s: server \"%s\" is not an http(s) URL",
                          cfg->source ? cfg->source : "config", cfg->server ? cfg->server : "");
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    curl_url_get(u, CURLUPART_PATH, &path, 0);
    /* Drop a trailing '/' so "base + /apis/..." never doubles it. */
    size_t plen = path != NULL ? strlen(path) : 0;
    while (plen > 0 && path[plen - 1] == '/')
        path[--plen] = '\0';
    const char *url_host = cfg->tls_server_name != NULL ? cfg->tls_server_name : host;
    bool v6 = strchr(url_host, ':') != NULL && url_host[0] != '[';
    size_t n = strlen(scheme) + strlen(url_host) + (port ? strlen(port) : 0) + plen + 16;
    if ((t->base_url = klease__malloc(n)) == NULL) {
        st = klease__fail(err, KLEASE_ENOMEM, "out of memory");
        goto out;
    }
    snprintf(t->base_url, n, "%s://%s%s%s:%s%s", scheme, v6 ? "[" : "", url_host, v6 ? "]" : "",
             port ? port : "443", path ? path : "");
    if (cfg->tls_server_name != NULL && strcmp(cfg->tls_server_name, host) != 0) {
        char route[1024];
        snprintf(route, sizeof route, "%s:%s:%s:%s", cfg->tls_server_name, port ? port : "443",
                 host, port ? port : "443");
        if ((t->connect_to = curl_slist_append(NULL, route)) == NULL)
            st = klease__fail(err, KLEASE_ENOMEM, "out of memory");
    }
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
    return st;
}

klease_status klease__curl_transport_new(klease__transport **out, const klease__kube_config *cfg,
                                         const klease__curl_settings *settings, klease_error *err)
{
    klease_status st = KLEASE_OK;
    curl_transport *t = klease__calloc(1, sizeof *t);
    if (t == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    t->base.request = curl_request;
    t->base.stream = curl_stream;
    t->base.destroy = curl_destroy;
    if (klease__slot_pool_init(&t->pool, settings->max_connections > 0 ? settings->max_connections
                                                                       : 16) != 0) {
        klease__free(t);
        return klease__fail(err, KLEASE_ENOMEM, "cannot create the connection pool");
    }
    t->pool_ready = true;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) {
        if (pthread_mutex_init(&t->share_locks[i], NULL) != 0) {
            t->share_locks_ready = i;
            st = klease__fail(err, KLEASE_ENOMEM, "cannot create a mutex");
            goto fail;
        }
    }
    t->share_locks_ready = CURL_LOCK_DATA_LAST;
    t->connect_timeout_ms = settings->connect_timeout_ms;
    t->max_body = settings->max_response_bytes;
    t->log = settings->log;
    t->creds = settings->creds;
    t->insecure = cfg->insecure_skip_tls_verify;

    if ((st = set_server(t, cfg, err)) != KLEASE_OK)
        goto fail;
    if ((cfg->proxy_url != NULL && (t->proxy = klease__strdup(cfg->proxy_url)) == NULL) ||
        (cfg->ca_pem != NULL &&
         (t->ca_pem = klease__strndup(cfg->ca_pem, cfg->ca_pem_len)) == NULL)) {
        st = klease__fail(err, KLEASE_ENOMEM, "out of memory");
        goto fail;
    }
    t->ca_pem_len = cfg->ca_pem_len;
    if ((t->share = curl_share_init()) == NULL) {
        st = klease__fail(err, KLEASE_ENOMEM, "out of memory");
        goto fail;
    }
    /* Without the locks, sharing between threads would be a data race. */
    if (curl_share_setopt(t->share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
        curl_share_setopt(t->share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
        curl_share_setopt(t->share, CURLSHOPT_USERDATA, t) != CURLSHE_OK ||
        curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
        curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK) {
        st = klease__fail(err, KLEASE_ECONFIG, "libcurl refused to share TLS sessions and DNS");
        goto fail;
    }
    *out = &t->base;
    return KLEASE_OK;
fail:
    curl_destroy(&t->base);
    return st;
}
