/* Lease responses for tests that script a conversation with the server. */
#ifndef KLEASE_TEST_LEASE_FIXTURES_H
#define KLEASE_TEST_LEASE_FIXTURES_H

#include "core/clock.h"
#include "scripted_transport.h"

#define S     KLEASE__NS_PER_S
#define MS    KLEASE__NS_PER_MS
#define WALL0 (INT64_C(1795456800) * S) /* 2026-11-23T18:00:00Z */
#define MONO0 (INT64_C(1000) * S)

/* A 409 Conflict Status body. */
extern const char *const CONFLICT_STATUS;

/* A Lease JSON body (malloc'd). holder NULL: unheld (only leaseTransitions set). */
char *lease_json(int rv, const char *holder, int64_t renew_wall_ns, int duration_s,
                 int transitions);

/* Pushes a Lease reply with HTTP status `http`. */
void push_lease(scripted_transport *t, int http, int rv, const char *holder, int64_t renew_wall,
                int duration_s, int transitions);

/* A watch stream line (with its newline) carrying `type` and a Lease (malloc'd). */
char *watch_line(const char *type, int rv, const char *holder, int64_t renew_wall, int duration_s,
                 int transitions);

#endif
