/* The libcurl transport's request options: one named step per concern,
 * every curl_easy_setopt checked. An option that carries security (the CA,
 * client certificate and key, verification, the pinned server name, the TLS
 * version) that libcurl refuses must stop the request, not weaken it. */
#include "http/http_curl_internal.h"

#include "core/alloc.h"
#include "core/error.h"

#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* Every socket libcurl opens for us is close-on-exec, so a child the host
 * forks and execs (klease exec's CMD, any subprocess of the application)
 * does not inherit the API server connection. */
static curl_socket_t open_socket(void *user, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)user;
    (void)purpose;
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* libcurl (7.88, OpenSSL) puts every TLS context in SSL_MODE_RELEASE_BUFFERS:
 * OpenSSL then frees a connection's 16 KiB record buffers whenever they run
 * empty and allocates them again for the next record, twice per response
 * here (headers and body arrive as two records). Keeping them costs about
 * 34 KiB per connection (a handful per client). Measured with callgrind at
 * steady state (30 leases): about 10% fewer instructions in SSL_read per
 * renewal, a small win that changes nothing about verification. */
static CURLcode keep_tls_buffers(CURL *e, void *ssl_ctx, void *user)
{
    (void)e;
    (void)user;
    SSL_CTX_clear_mode((SSL_CTX *)ssl_ctx, SSL_MODE_RELEASE_BUFFERS);
    return CURLE_OK;
}

/* The context libcurl hands to CURLOPT_SSL_CTX_FUNCTION is an OpenSSL
 * SSL_CTX only when OpenSSL is its TLS backend (wolfSSL and mbedTLS pass
 * their own types); with any other backend the buffers are left alone. */
static bool tls_backend_is_openssl(void)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    return v != NULL && v->ssl_version != NULL && strncmp(v->ssl_version, "OpenSSL/", 8) == 0;
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

/* libcurl's write callback: body bytes to the stream callback (2xx of a
 * stream) or into the transfer's buffer, up to the body cap. */
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

/* The options every request on a handle shares, set once per handle rather than
 * after a curl_easy_reset() per request (measured: about 10-20% less client
 * CPU per renewal; see bench/bench_renew.c). */
static klease_status configure_handle(curl_transport *t, CURL *e, bool *configured,
                                      klease_error *err)
{
    if (*configured)
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
    if (tls_backend_is_openssl())
        SETOPT(e, CURLOPT_SSL_CTX_FUNCTION, keep_tls_buffers);
    SETOPT(e, CURLOPT_SSL_VERIFYPEER, t->insecure ? 0L : 1L);
    SETOPT(e, CURLOPT_SSL_VERIFYHOST, t->insecure ? 0L : 2L);
    *configured = true;
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

/* The longest header line we send: a bearer token beyond it is refused. */
#define HEADER_LINE_MAX 8192

/* Appends the line `prefix` `value` to *h, put together in a buffer of the
 * line's own size: a per-request snprintf into, and wipe of, an 8 KiB
 * buffer cost more than the rest of the request's options together. A
 * `secret` line is wiped from that buffer once libcurl has its copy. */
static bool append_header(struct curl_slist **h, const char *prefix, const char *value, bool secret)
{
    size_t prefix_len = strlen(prefix), value_len = strlen(value);
    size_t len = prefix_len + value_len;
    char small[256];
    char *line = len < sizeof small ? small : klease__malloc(len + 1);
    if (line == NULL)
        return false;
    memcpy(line, prefix, prefix_len);
    memcpy(line + prefix_len, value, value_len + 1);
    struct curl_slist *tmp = curl_slist_append(*h, line);
    if (secret)
        explicit_bzero(line, len);
    if (line != small)
        klease__free(line);
    if (tmp == NULL)
        return false;
    *h = tmp;
    return true;
}

/* The request's header list into *headers (the caller frees it). */
static klease_status build_headers(const klease__http_request *req, const klease__auth *auth,
                                   struct curl_slist **headers, klease_error *err)
{
    struct curl_slist *h = NULL, *tmp;
    const char *fixed[] = {"Accept: application/json", "Expect:"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if ((tmp = curl_slist_append(h, fixed[i])) == NULL)
            goto oom;
        h = tmp;
    }
    if (req->content_type != NULL && !append_header(&h, "Content-Type: ", req->content_type, false))
        goto oom;
    if (auth->bearer_token != NULL) {
        static const char prefix[] = "Authorization: Bearer ";
        size_t n = sizeof prefix - 1 + strlen(auth->bearer_token);
        if (n >= HEADER_LINE_MAX) {
            curl_slist_free_all(h);
            return klease__fail(err, KLEASE_EAUTH, "bearer token is too long (%zu bytes)", n);
        }
        if (!append_header(&h, prefix, auth->bearer_token, true))
            goto oom;
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
 * cleared, since an earlier request on the handle may have used others. */
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
 * previous request on this handle may have set differently (method, body,
 * credentials) is set again, or cleared, explicitly. */
klease_status klease__curl_prepare(curl_transport *t, bool *configured, transfer *x,
                                   const klease__http_request *req, const klease__auth *auth,
                                   struct curl_slist **headers, klease_error *err)
{
    CURL *e = x->easy;
    klease_status st;
    if ((st = configure_handle(t, e, configured, err)) != KLEASE_OK ||
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
void klease__curl_unhook(CURL *e)
{
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, (char *)NULL);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)NULL);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, (char *)NULL);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
}
