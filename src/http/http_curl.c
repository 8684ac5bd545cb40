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
 * The pool (http/http_pool.c) holds at most max_connections slots.
 *
 * Every call runs on the slot's multi handle and waits in curl_multi_poll(),
 * so klease__cancel_fire() can interrupt it at once with curl_multi_wakeup().
 *
 * libcurl's global state: we rely on curl_easy_init()'s own lazy, thread-safe
 * initialisation (libcurl >= 7.84); a host that wants to control it calls
 * curl_global_init() itself before creating a client. */
#include "http/http_curl.h"

#include "http/http_curl_internal.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* One attempt of the call: credentials, then the request, both within the
 * call's budget `b`. */
static klease_status perform(curl_transport *t, klease__slot *s, const klease__http_request *req,
                             const klease__budget *b, klease__http_data_fn on_data, void *user,
                             klease__http_response *resp, bool *retry_401, klease_error *err)
{
    struct curl_slist *headers = NULL;
    klease__auth auth = {0};
    transfer x = {.t = t, .easy = s->easy, .on_data = on_data, .user = user};

    *retry_401 = false;
    klease_status st =
        klease__curl_attempt_begin(t, &s->configured, &x, req, b, &auth, &headers, err);
    if (st == KLEASE_OK) {
        bool cancelled;
        CURLcode rc = run(s, b->cancel, &cancelled);
        st = klease__curl_attempt_end(t, &x, req, b, rc, cancelled, auth.generation, resp,
                                      retry_401, err);
    }
    klease__curl_unhook(s->easy);
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
        return klease__curl_no_time_for_call(req, err);
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
            return klease__curl_cancelled(req, err);
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    }
    *resp = (klease__http_response){.retry_after_ms = -1};
    bool retry = false;
    klease_status st = perform(t, s, req, &b, on_data, user, resp, &retry, err);
    if (st == KLEASE_OK && retry) {
        /* One more try with fresh credentials (exec plugin re-run, token
         * re-read), in what is left of the same budget. */
        klease__curl_log_401_retry(t, req);
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
    t->base.loop_new = klease__curl_loop_new;
    t->max_connections = settings->max_connections > 0 ? settings->max_connections : 16;
    if (klease__slot_pool_init(&t->pool, t->max_connections) != 0) {
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
