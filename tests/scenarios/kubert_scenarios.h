/* kubert's own lease scenarios (exclusive, expires, renews, vacates,
 * vacate_expired_noop) with the same assertions on the stored Lease, run by
 * the integration tests against the simulator and by tests/e2e against a
 * real cluster. Each creates its leases as "<prefix>-<scenario>". */
#ifndef KLEASE_TEST_KUBERT_SCENARIOS_H
#define KLEASE_TEST_KUBERT_SCENARIOS_H

#include "klease/klease.h"

typedef struct scenario_ctx {
    klease_client *client;
    const char *ns;
    const char *prefix;
} scenario_ctx;

void scenario_exclusive(const scenario_ctx *e);
void scenario_expires(const scenario_ctx *e);
void scenario_renews(const scenario_ctx *e);
void scenario_vacates(const scenario_ctx *e);
void scenario_vacate_expired_noop(const scenario_ctx *e);

/* Deletes every lease the scenarios created (ignoring missing ones). */
void scenario_cleanup(const scenario_ctx *e);

#endif
