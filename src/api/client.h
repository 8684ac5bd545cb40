/* The client object: settings, credentials, transport, logging and clock,
 * shared by every lease manager and thread that uses it. */
#ifndef KLEASE_API_CLIENT_H
#define KLEASE_API_CLIENT_H

#include "core/clock.h"
#include "core/log.h"
#include "config/kube_config.h"
#include "config/credentials.h"
#include "http/http.h"

#include <stdatomic.h>

struct klease_client {
    klease__kube_config *cfg;   /* NULL for test clients */
    klease__credentials *creds; /* NULL for test clients */
    klease__transport *transport;
    klease__logger log;
    klease__clock clock_with_hook; /* the system clock with the user's wall-clock hook */
    const klease__clock *clock;    /* what the library uses: &clock_with_hook or a fake */
    int64_t (*wall_hook)(void *user);
    void *wall_hook_user;
    int64_t request_timeout_ms;
    size_t max_response_bytes;
    char *ns;
    /* The engine that drives this client's electors (engine/engine.h),
     * started by the first one. The client cannot name the layer above it,
     * so the engine leaves its own stop function here for klease_client_free. */
    _Atomic(struct klease__engine *) engine;
    void (*engine_free)(struct klease__engine *engine);
};

/* A client on a given transport (ownership taken, even on failure), for unit
 * tests: no kubeconfig, no credentials. `clock` must outlive the client. */
klease_status klease__client_new_with_transport(klease_client **out, klease__transport *transport,
                                                const klease__clock *clock, const char *ns,
                                                klease_error *err);

/* The time limit of one call: the client's, tightened by `call_timeout_ms`
 * when that is positive and smaller. */
int64_t klease__client_timeout(const klease_client *c, int64_t call_timeout_ms);

#endif
