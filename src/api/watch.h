/* Watching one Lease: a streaming GET whose body is one JSON event per line.
 * The parser is separate from the HTTP call so it can be fed any chunking
 * (tests and fuzzers do). */
#ifndef KLEASE_API_WATCH_H
#define KLEASE_API_WATCH_H

#include "api/client.h"
#include "api/lease_api.h"
#include "http/http.h"

#include <cjson/cJSON.h>

typedef enum klease__watch_type {
    KLEASE__WATCH_ADDED,
    KLEASE__WATCH_MODIFIED,
    KLEASE__WATCH_DELETED,
    KLEASE__WATCH_BOOKMARK,
    KLEASE__WATCH_ERROR, /* the object is a Status (e.g. 410 Expired) */
} klease__watch_type;

/* One event; `object` is valid only during the call. Return false to stop. */
typedef bool (*klease__watch_fn)(void *user, klease__watch_type type, const cJSON *object);

typedef struct klease__watch_parser {
    char *buf; /* the unfinished line */
    size_t len;
    size_t cap;
    size_t max_line;
    klease__watch_fn fn;
    void *user;
    bool stopped; /* fn returned false */
} klease__watch_parser;

void klease__watch_parser_init(klease__watch_parser *p, size_t max_line, klease__watch_fn fn,
                               void *user);
void klease__watch_parser_free(klease__watch_parser *p);

/* Feeds bytes as they arrive; complete lines become events. KLEASE_EPROTO for
 * a line that is not a watch event or longer than max_line, KLEASE_ENOMEM.
 * After fn stops the watch, further input is ignored. */
klease_status klease__watch_parser_feed(klease__watch_parser *p, const char *data, size_t len,
                                        klease_error *err);

/* At the end of the stream: KLEASE_EPROTO when it stopped mid-event. */
klease_status klease__watch_parser_finish(klease__watch_parser *p, klease_error *err);

/* Watches lease ns/name from `resource_version` (NULL or "": from the
 * current state, which arrives first as ADDED) for at most `timeout_s`
 * seconds (the server ends the stream then). `max_ms` > 0 also caps the
 * HTTP call itself (KLEASE_ETIMEDOUT when it is reached), so a caller can
 * stop watching at a deadline of its own. Events go to `fn` except ERROR:
 * an ERROR event ends the watch with its Status mapped into `err` (410
 * Expired: KLEASE_EHTTP with http_code 410 and reason "Expired"). Returns
 * KLEASE_OK when the stream ends cleanly or `fn` stops it, KLEASE_ECLOSED
 * when cancelled (within about one poll wake-up), or a transport error. */
/* The request of the watch below, built but not sent (the engine's shared
 * namespace watch sends it on its loop): `name` NULL watches every lease of
 * the namespace. Its time limit is the server's timeoutSeconds plus a margin.
 * Free with klease__lease_request_clear (also after a failure). */
klease_status klease__lease_watch_request(klease_client *c, const char *ns, const char *name,
                                          const char *resource_version, int timeout_s,
                                          klease__lease_request *r, klease_error *err);

klease_status klease__lease_watch(klease_client *c, const char *ns, const char *name,
                                  const char *resource_version, int timeout_s, int64_t max_ms,
                                  klease__cancel *cancel, klease__watch_fn fn, void *user,
                                  klease_error *err);

#endif
