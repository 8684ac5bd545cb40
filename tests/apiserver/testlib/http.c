/* libcurl client helpers for the simulator's tests. */
#include "http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    th_resp *r = ud;
    size_t len = size * n;
    char *b = realloc(r->body, r->len + len + 1);
    if (b == NULL)
        return 0;
    memcpy(b + r->len, p, len);
    r->body = b;
    r->len += len;
    b[r->len] = '\0';
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    th_resp *r = ud;
    size_t len = size * n;
    if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0)
        r->retry_after = strtol(p + 12, NULL, 10);
    if (len > 17 && strncasecmp(p, "WWW-Authenticate:", 17) == 0)
        r->www_authenticate = true;
    return len;
}

static struct curl_slist *setup(CURL *c, ksim *sim, const char *path, const char *token,
                                const char *cert, const char *key, long timeout_ms, char *url,
                                size_t urlsz, const char *ctype)
{
    struct curl_slist *h = NULL;
    char auth[512];
    snprintf(url, urlsz, "%s%s", ksim_url(sim), path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "ksim-test/1.0");
    if (ksim_ca_pem(sim)) {
        struct curl_blob ca = {(void *)ksim_ca_pem(sim), strlen(ksim_ca_pem(sim)), CURL_BLOB_COPY};
        curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
    }
    if (cert && key) {
        struct curl_blob cb = {(void *)cert, strlen(cert), CURL_BLOB_COPY};
        struct curl_blob kb = {(void *)key, strlen(key), CURL_BLOB_COPY};
        curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cb);
        curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &kb);
        curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (token == NULL)
        token = ksim_admin_token(sim);
    if (token[0]) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    h = curl_slist_append(h, "Accept: application/json");
    if (ctype) {
        char ct[256];
        snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
        h = curl_slist_append(h, ct);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    return h;
}

void th_do(ksim *sim, const th_req *r, th_resp *out)
{
    char url[2048];
    memset(out, 0, sizeof(*out));
    out->retry_after = -1;
    CURL *c = r->reuse ? r->reuse : curl_easy_init();
    if (c == NULL) {
        out->rc = CURLE_OUT_OF_MEMORY;
        return;
    }
    if (r->reuse)
        curl_easy_reset(c); /* keeps the connection cache */
    const char *ctype = r->body ? (r->content_type ? r->content_type : "application/json") : NULL;
    struct curl_slist *h = setup(c, sim, r->path, r->token, r->cert_pem, r->key_pem, r->timeout_ms,
                                 url, sizeof(url), ctype);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method ? r->method : "GET");
    if (r->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    out->rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->code);
    curl_slist_free_all(h);
    if (!r->reuse)
        curl_easy_cleanup(c);
}

void th_resp_free(th_resp *r)
{
    free(r->body);
    r->body = NULL;
}

cJSON *th_json(const th_resp *r)
{
    return r->body ? cJSON_Parse(r->body) : NULL;
}

long th_simple(ksim *sim, const char *method, const char *path, const char *ctype, const char *body,
               cJSON **json)
{
    th_req q = {.method = method, .path = path, .content_type = ctype, .body = body};
    th_resp r;
    th_do(sim, &q, &r);
    if (json)
        *json = th_json(&r);
    long code = r.rc == CURLE_OK ? r.code : -1;
    th_resp_free(&r);
    return code;
}

static const cJSON *walk(const cJSON *o, const char *path)
{
    char key[128];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        path += n + (path[n] == '.');
    }
    return o;
}

const char *th_str(const cJSON *o, const char *path)
{
    const cJSON *v = walk(o, path);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double th_num(const cJSON *o, const char *path)
{
    const cJSON *v = walk(o, path);
    return cJSON_IsNumber(v) ? v->valuedouble : -999999;
}

/* ------------------------------------------------------------------ watch */

static size_t on_watch_data(char *p, size_t size, size_t n, void *ud)
{
    th_watch *w = ud;
    size_t len = size * n;
    pthread_mutex_lock(&w->mu);
    char *b = realloc(w->buf, w->len + len + 1);
    if (b) {
        memcpy(b + w->len, p, len);
        w->buf = b;
        w->len += len;
        b[w->len] = '\0';
        pthread_cond_broadcast(&w->cond);
    }
    pthread_mutex_unlock(&w->mu);
    return b ? len : 0;
}

/* Called by libcurl at least once a second, also while the stream is idle:
 * a non-zero return aborts the transfer and closes the connection. */
static int on_watch_progress(void *ud, curl_off_t dlt, curl_off_t dln, curl_off_t ult,
                             curl_off_t uln)
{
    th_watch *w = ud;
    (void)dlt, (void)dln, (void)ult, (void)uln;
    pthread_mutex_lock(&w->mu);
    bool abandon = w->abandon;
    pthread_mutex_unlock(&w->mu);
    return abandon ? 1 : 0;
}

void th_watch_abandon(th_watch *w)
{
    pthread_mutex_lock(&w->mu);
    w->abandon = true;
    pthread_mutex_unlock(&w->mu);
}

static void *watch_main(void *arg)
{
    th_watch *w = arg;
    char url[2048];
    CURL *c = curl_easy_init();
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    long code = 0;
    if (c) {
        struct curl_slist *h =
            setup(c, w->sim, w->path, w->token, NULL, NULL, w->timeout_ms, url, sizeof(url), NULL);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_watch_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, w);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_watch_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, w);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
    }
    pthread_mutex_lock(&w->mu);
    w->rc = rc;
    w->code = code;
    w->done = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

th_watch *th_watch_start(ksim *sim, const char *path, const char *token, long timeout_ms)
{
    th_watch *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->sim = sim;
    w->path = strdup(path);
    w->token = token ? strdup(token) : NULL;
    w->timeout_ms = timeout_ms;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &a);
    pthread_condattr_destroy(&a);
    if (w->path == NULL || pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        free(w->path);
        free(w->token);
        free(w);
        return NULL;
    }
    return w;
}

static int count_lines(const th_watch *w)
{
    int n = 0;
    for (size_t i = 0; i < w->len; i++)
        n += w->buf[i] == '\n';
    return n;
}

int th_watch_wait_lines(th_watch *w, int n, long timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->mu);
    while (count_lines(w) < n && !w->done)
        if (pthread_cond_timedwait(&w->cond, &w->mu, &until) != 0)
            break;
    int got = count_lines(w);
    pthread_mutex_unlock(&w->mu);
    return got;
}

cJSON *th_watch_event(th_watch *w, int i)
{
    cJSON *o = NULL;
    pthread_mutex_lock(&w->mu);
    const char *p = w->buf;
    for (int k = 0; p && k < i; k++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    const char *end = p ? strchr(p, '\n') : NULL;
    if (end)
        o = cJSON_ParseWithLength(p, (size_t)(end - p));
    pthread_mutex_unlock(&w->mu);
    return o;
}

void th_watch_end(th_watch *w)
{
    if (w == NULL)
        return;
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mu);
    free(w->buf);
    free(w->path);
    free(w->token);
    free(w);
}

long long th_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
