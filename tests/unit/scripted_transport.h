/* A transport that replays scripted replies and records requests, so unit
 * tests exercise the API calls without sockets. */
#ifndef KLEASE_TEST_SCRIPTED_TRANSPORT_H
#define KLEASE_TEST_SCRIPTED_TRANSPORT_H

#include "core/clock.h"
#include "http/http.h"

#include <stdbool.h>

#define SCRIPT_MAX 64

typedef struct scripted_reply {
    klease_status status; /* KLEASE_OK: an HTTP response; else the transport fails so */
    int http_status;
    const char *body;       /* copied when pushed; NULL = "" */
    int64_t retry_after_ms; /* -1 none (0 is taken as none too, for brevity) */
    size_t chunk;           /* streams: deliver the body in chunks of this size (0 = whole) */
    bool hang;              /* block until the call's cancel token fires */
} scripted_reply;

typedef struct scripted_request {
    char method[16];
    char path[2048];
    char content_type[96];
    char *body; /* NULL when none */
    int64_t timeout_ms;
    bool stream;
} scripted_request;

typedef struct scripted_transport {
    klease__transport base;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    scripted_reply replies[SCRIPT_MAX];
    char *bodies[SCRIPT_MAX];
    size_t nreplies;
    size_t next;
    scripted_request requests[SCRIPT_MAX];
    size_t nrequests;
    bool hanging; /* a call is blocked in a hang reply */
    /* When set, a hang also ends (KLEASE_ETIMEDOUT) once the request's time
     * limit has passed on this clock, as a real transport's would. */
    const klease__clock *clock;
} scripted_transport;

/* The transport is not freed by the client (destroy is a no-op); the test
 * frees it with scripted_free after freeing the client. */
scripted_transport *scripted_new(void);
void scripted_free(scripted_transport *t);
void scripted_push(scripted_transport *t, scripted_reply reply);
/* Pushes an HTTP reply whose body is a fixture file from tests/fixtures/wire. */
void scripted_push_fixture(scripted_transport *t, int http_status, const char *fixture);
/* Blocks until some call is hanging (real time, up to 10 s). */
bool scripted_await_hang(scripted_transport *t);

/* cmocka setup/teardown: a client (default namespace "default", system
 * clock) on a fresh scripted transport, in *state as a scripted_fixture. */
typedef struct scripted_fixture {
    scripted_transport *t;
    klease_client *client;
} scripted_fixture;
int scripted_setup(void **state);
int scripted_teardown(void **state);

/* Reads tests/fixtures/<relpath> into a malloc'd NUL-terminated string. */
char *read_fixture(const char *relpath);

#endif
