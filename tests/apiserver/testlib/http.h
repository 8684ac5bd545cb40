/* A small libcurl client for the simulator's tests. */
#ifndef KLEASE_TESTS_KSIM_HTTP_H
#define KLEASE_TESTS_KSIM_HTTP_H

#include "ksim.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>

#define LEASES "/apis/coordination.k8s.io/v1/namespaces/klease-test/leases"

typedef struct th_req {
    const char *method;       /* default GET */
    const char *path;         /* appended to ksim_url() */
    const char *content_type; /* default application/json when there is a body */
    const char *body;
    const char *token;    /* NULL: the admin token; "": no Authorization header */
    const char *cert_pem; /* client certificate (with key_pem) */
    const char *key_pem;
    long timeout_ms; /* default 10000 */
    CURL *reuse;     /* a handle kept across calls, for connection reuse */
} th_req;

typedef struct th_resp {
    CURLcode rc;
    long code;
    char *body;
    size_t len;
    long retry_after; /* -1 when absent */
    bool www_authenticate;
} th_resp;

void th_do(ksim *sim, const th_req *r, th_resp *out);
void th_resp_free(th_resp *r);
/* Shortcuts; the body is parsed as JSON (NULL if it is not). */
cJSON *th_json(const th_resp *r);
long th_simple(ksim *sim, const char *method, const char *path, const char *ctype, const char *body,
               cJSON **json);
/* String at a dotted path ("metadata.resourceVersion"), or NULL. */
const char *th_str(const cJSON *o, const char *path);
/* Number at a dotted path, or -999999 if missing. */
double th_num(const cJSON *o, const char *path);

/* A watch read on its own thread. */
typedef struct th_watch {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    ksim *sim;
    char *path;
    char *token;
    long timeout_ms;
    char *buf;
    size_t len;
    bool done;
    bool abandon; /* th_watch_abandon() */
    CURLcode rc;
    long code;
} th_watch;

th_watch *th_watch_start(ksim *sim, const char *path, const char *token, long timeout_ms);
/* Waits until at least n complete lines arrived (or the stream ended, or
 * timeout_ms passed); returns the number of lines. */
int th_watch_wait_lines(th_watch *w, int n, long timeout_ms);
/* Line i (0-based) parsed as JSON, or NULL. */
cJSON *th_watch_event(th_watch *w, int i);
/* Milliseconds on the monotonic clock, for generous elapsed-time bounds. */
long long th_now_ms(void);
/* Makes the reader give up: it closes the connection without reading the
 * stream to its end (within about a second: libcurl's progress callback). */
void th_watch_abandon(th_watch *w);
/* Joins the reader and frees everything. */
void th_watch_end(th_watch *w);

#endif
