/* One manager call (ensure_claimed's rounds, a vacate, a read) as a short
 * sequence of requests: the round says what to send next, and takes in each
 * answer. The blocking calls (lease/manager.c) send on the client's
 * transport; the lease engine (lease/elector.c) sends on its loop. Both send
 * the same bytes and judge every answer with the same code.
 *
 *   step = begin(...);
 *   while (step == KLEASE__ROUND_SEND) {
 *       send r.op.req.http, then
 *       step = klease__round_answer(&r, sent_status, &resp, ...);
 *   }
 *   klease__round_clear(&r);
 */
#ifndef KLEASE_LEASE_MANAGER_ROUND_H
#define KLEASE_LEASE_MANAGER_ROUND_H

#include "api/lease_api.h"
#include "lease/manager.h"

typedef enum klease__op_kind {
    KLEASE__OP_READ,    /* GET the lease into the cache */
    KLEASE__OP_RENEW,   /* strategic-merge PATCH with our resourceVersion */
    KLEASE__OP_ACQUIRE, /* server-side apply with the seen resourceVersion */
    KLEASE__OP_VACATE,  /* strategic-merge PATCH clearing the holder */
} klease__op_kind;

/* Why a read is sent: what its answer leads to. */
typedef enum klease__read_for {
    KLEASE__READ_AGAIN,     /* the cache had no lease: decide again after it */
    KLEASE__READ_CONFLICT,  /* another writer got in first: decide again */
    KLEASE__READ_DELETED,   /* an apply answered 400: was the lease deleted? */
    KLEASE__READ_TO_VACATE, /* a vacate clears only what a fresh copy says */
    KLEASE__READ_ONLY,      /* klease_sync / a follower's poll: the read is the call */
} klease__read_for;

/* The request to send. */
typedef struct klease__lease_op {
    klease__op_kind kind;
    klease__read_for read_for;
    klease__lease_request req;
    char *body;        /* writes: owned (cJSON_free) */
    int64_t send_mono; /* writes: when the body was made, our claim's start */
} klease__lease_op;

typedef enum klease__round_step {
    KLEASE__ROUND_SEND, /* send r->op, then call klease__round_answer */
    KLEASE__ROUND_END,  /* *st (and *out, *vacated) are the call's answer */
} klease__round_step;

typedef struct klease__round {
    klease_manager *m;
    const char *claimant; /* borrowed; NULL for a plain read */
    int64_t duration_s;
    int64_t grace_ns;
    int64_t margin_ns;
    int64_t vacate_timeout_ms;
    int conflicts;
    klease_error apply_err; /* the 400 an apply answered, while we check for deletion */
    klease__lease_op op;
} klease__round;

/* ensure_claimed's rounds for `claimant` (checked by the caller), ending
 * with our claim, someone else's, or an error. */
klease__round_step klease__round_claim(klease__round *r, klease_manager *m, const char *claimant,
                                       int64_t duration_s, int64_t grace_ns, int64_t margin_ns,
                                       klease_status *st, klease_claim *out, klease_error *err);
/* A vacate by `claimant`: read, then clear the holder if a current claim
 * names it. The write is bounded by timeout_ms (0: the client's limit). */
klease__round_step klease__round_vacate(klease__round *r, klease_manager *m, const char *claimant,
                                        int64_t timeout_ms, klease_status *st, klease_error *err);
/* One read into the cache (klease_sync, a follower's poll). */
klease__round_step klease__round_read(klease__round *r, klease_manager *m, klease_status *st,
                                      klease_error *err);

/* Takes in the outcome of sending r->op: `sent` and *resp as the transport
 * returned them (the response is consumed). `out` receives the claim of a
 * claim round, `vacated` whether a vacate landed (either may be NULL). */
klease__round_step klease__round_answer(klease__round *r, klease_status sent,
                                        klease__http_response *resp, klease_status *st,
                                        klease_claim *out, bool *vacated, klease_error *err);

/* Frees the request of the current op (safe to call at any point). */
void klease__round_clear(klease__round *r);

#endif
