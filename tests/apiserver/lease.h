/* The Lease model: spec values, managedFields ownership, JSON encoding and
 * decoding with the real server's error texts, and validation. Pure values:
 * nothing here knows the store or a request. Owned by lease.c. */
#ifndef KLEASE_TESTS_KSIM_LEASE_H
#define KLEASE_TESTS_KSIM_LEASE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The five spec fields, also the bits of a managedFields mask. */
enum {
    F_HOLDER = 1u << 0,
    F_DURATION = 1u << 1,
    F_ACQUIRE = 1u << 2,
    F_RENEW = 1u << 3,
    F_TRANSITIONS = 1u << 4,
    F_ALL = 0x1fu
};

typedef struct lease_spec {
    char *holder; /* NULL: unset */
    bool has_duration;
    int32_t duration;
    bool has_acquire;
    int64_t acquire_ns;
    bool has_renew;
    int64_t renew_ns;
    bool has_transitions;
    int32_t transitions;
} lease_spec;

/* One managedFields entry: who last set which fields, and how. */
typedef struct managed_entry {
    char *manager;
    bool apply; /* operation Apply, else Update */
    int64_t time_s;
    unsigned mask;
} managed_entry;

typedef struct lease {
    char *ns;
    char *name;
    char uid[37];
    int64_t created_s;
    uint64_t rv;
    lease_spec spec;
    managed_entry *mf;
    size_t n_mf;
} lease;

/* Bits of the fields set in `s`. */
unsigned ksim__spec_mask(const lease_spec *s);
/* Bits of the fields whose values differ between a and b (set vs unset too). */
unsigned ksim__spec_diff(const lease_spec *a, const lease_spec *b);
void ksim__spec_clear(lease_spec *s);
int ksim__spec_copy(lease_spec *dst, const lease_spec *src);
void ksim__lease_free(lease *l);
lease *ksim__lease_clone(const lease *l);
/* Gives the fields of `mask` to (manager, apply), stamping `now_s`; with
 * `exclusive`, takes them away from every other entry. -1 on OOM. */
int ksim__lease_set_owner(lease *l, const char *manager, bool apply, unsigned mask, bool exclusive,
                          int64_t now_s);

/* The lease as the API returns it (with kind/apiVersion unless `bare`). */
cJSON *ksim__lease_to_json(const lease *l, bool bare);
/* Compact JSON text of ksim__lease_to_json(), newline-terminated. NULL on OOM. */
char *ksim__lease_to_text(const lease *l);

/* Why a body could not be turned into a lease. */
typedef enum decode_kind { DEC_OK = 0, DEC_TIME, DEC_TYPE, DEC_OOM } decode_kind;

typedef struct decoded {
    const char *name; /* borrowed from the JSON, NULL when absent */
    const char *ns;
    const char *rv; /* metadata.resourceVersion, NULL when absent */
    const char *uid;
    lease_spec spec;  /* owned; ksim__spec_clear() it */
    unsigned present; /* fields present (non-null) in the body */
    char msg[512];    /* DEC_TIME / DEC_TYPE: Go-like message */
} decoded;

/* Decodes a Lease body (already parsed JSON). Null fields count as absent. */
decode_kind ksim__lease_decode(const cJSON *obj, decoded *out);

/* Validation as the real server's: appends Status causes to `causes` and
 * returns how many were added (0: valid). -1 on OOM. */
int ksim__lease_validate(const lease_spec *s, cJSON *causes);

#endif
