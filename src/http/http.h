/* The HTTP transport seen by the Lease API calls: one request in, one
 * response out (or a stream of body bytes for watches). It is a small table
 * of function pointers so unit tests can script responses without sockets;
 * http/http_curl.c is the real implementation on libcurl. */
#ifndef KLEASE_HTTP_HTTP_H
#define KLEASE_HTTP_HTTP_H

#include "core/budget.h"
#include "klease/klease.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct klease__http_request {
    const char *method;       /* "GET", "POST", "PATCH", "DELETE" */
    const char *path;         /* path and query, already escaped: "/apis/...?a=b" */
    const char *content_type; /* NULL when there is no body */
    const char *body;
    size_t body_len;
    int64_t timeout_ms; /* total time allowed, > 0 */
} klease__http_request;

typedef struct klease__http_response {
    int status; /* HTTP status code */
    char *body; /* NUL-terminated, owned; free with klease__http_response_clear */
    size_t body_len;
    int64_t retry_after_ms; /* from a Retry-After header, or -1 */
} klease__http_response;

void klease__http_response_clear(klease__http_response *resp);

/* The longest pause a server can ask for with Retry-After. A 429 or 503
 * asking for a day (or for a date in 2100) must not stop a participant from
 * retrying: the pause is capped well below any useful lease duration, and
 * equal to the elector's default longest backoff. */
#define KLEASE__RETRY_AFTER_MAX_MS INT64_C(5000)

/* A Retry-After header value (RFC 9110: delay-seconds or an HTTP date) in
 * ms from `now_wall_s` (Unix seconds), capped at KLEASE__RETRY_AFTER_MAX_MS;
 * 0 for a date in the past; -1 for anything else (negative, fractional,
 * garbage), which the caller treats as "no Retry-After". Entry point for
 * fuzzing. */
int64_t klease__retry_after_parse(const char *value, int64_t now_wall_s);

/* `s` percent-encoded for a URL query value (RFC 3986 unreserved characters
 * kept), in a fresh string freed with klease__free; NULL when out of memory.
 * The one place request paths are escaped, so callers above the transport
 * need no libcurl. */
char *klease__http_query_escape(const char *s);

/* Receives body bytes of a streaming response. Return false to stop. */
typedef bool (*klease__http_data_fn)(void *user, const char *data, size_t len);

typedef struct klease__transport klease__transport;
typedef struct klease__clock klease__clock;
typedef struct klease__http_loop klease__http_loop; /* http/http_loop.h */
struct klease__transport {
    /* One request with the whole body in memory. KLEASE_OK when an HTTP
     * response arrived, whatever its status; otherwise KLEASE_ETIMEDOUT,
     * KLEASE_ETRANSPORT, KLEASE_EPROTO (body over the cap), KLEASE_EAUTH
     * (credentials unavailable), KLEASE_ECLOSED (cancelled) or KLEASE_ENOMEM. */
    klease_status (*request)(klease__transport *t, const klease__http_request *req,
                             klease__cancel *cancel, klease__http_response *resp,
                             klease_error *err);
    /* A streaming request on a connection of its own. When the response
     * status is 2xx, body bytes go to `on_data` as they arrive; otherwise the
     * (capped) body is returned in `resp`. Returns like request(); a stream
     * that `on_data` stopped returns KLEASE_OK. */
    klease_status (*stream)(klease__transport *t, const klease__http_request *req,
                            klease__cancel *cancel, klease__http_data_fn on_data, void *user,
                            klease__http_response *resp, klease_error *err);
    void (*destroy)(klease__transport *t);
    /* Optional: a loop of this transport's own (http/http_loop.h), created
     * by klease__http_loop_new(). NULL: the generic loop, which runs
     * request() inline and stream() on a thread per stream. */
    klease_status (*loop_new)(klease__transport *t, const klease__clock *clock,
                              klease__http_loop **out, klease_error *err);
};

#endif
