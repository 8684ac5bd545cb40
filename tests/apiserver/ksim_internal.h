/* Internals of the simulator shared between its files. Everything that reads
 * or writes leases, watchers, history, tokens or faults holds `sim->mu`. */
#ifndef KLEASE_TESTS_KSIM_INTERNAL_H
#define KLEASE_TESTS_KSIM_INTERNAL_H

#include "ksim.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>

struct MHD_Connection;
struct MHD_Daemon;

#define KSIM_GROUP       "coordination.k8s.io"
#define KSIM_API_VERSION "coordination.k8s.io/v1"

/* ------------------------------------------------------------ lease model */

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
    struct lease *next;
} lease;

/* Bits of the fields set in `s`. */
unsigned spec_mask(const lease_spec *s);
/* Bits of the fields whose values differ between a and b (set vs unset too). */
unsigned spec_diff(const lease_spec *a, const lease_spec *b);
void spec_clear(lease_spec *s);
int spec_copy(lease_spec *dst, const lease_spec *src);
void lease_free(lease *l);
lease *lease_clone(const lease *l);
/* Keeps only `keep` of the spec, drops managedFields bits that are unset. */
void lease_prune_owners(lease *l);
/* Gives the fields of `mask` to (manager, apply), stamping `now_s`; with
 * `exclusive`, takes them away from every other entry. -1 on OOM. */
int lease_set_owner(lease *l, const char *manager, bool apply, unsigned mask, bool exclusive,
                    int64_t now_s);

/* The lease as the API returns it (with kind/apiVersion unless `bare`). */
cJSON *lease_to_json(const lease *l, bool bare);
/* Compact JSON text of lease_to_json(), newline-terminated. NULL on OOM. */
char *lease_to_text(const lease *l);

/* Why a body could not be turned into a lease. */
typedef enum decode_kind { DEC_OK = 0, DEC_TIME, DEC_TYPE, DEC_OOM } decode_kind;

typedef struct decoded {
    const char *name; /* borrowed from the JSON, NULL when absent */
    const char *ns;
    const char *rv; /* metadata.resourceVersion, NULL when absent */
    const char *uid;
    lease_spec spec;  /* owned; spec_clear() it */
    unsigned present; /* fields present (non-null) in the body */
    char msg[512];    /* DEC_TIME / DEC_TYPE: Go-like message */
} decoded;

/* Decodes a Lease body (already parsed JSON). Null fields count as absent. */
decode_kind lease_decode(const cJSON *obj, decoded *out);

/* Validation as the real server's: appends Status causes to `causes` and
 * returns how many were added (0: valid). -1 on OOM. */
int lease_validate(const lease_spec *s, cJSON *causes);

/* ---------------------------------------------------------- Status bodies */

typedef struct reply {
    int code;
    char *body;          /* newline-terminated JSON; owned */
    int retry_after_s;   /* > 0: add a Retry-After header */
    bool drop;           /* close the connection without any response */
    struct watch *watch; /* non-NULL: stream this watch instead of `body` */
} reply;

/* Status with reason (NULL: none) and details (consumed, may be NULL). */
void reply_status(reply *r, int code, const char *reason, const char *message, cJSON *details);
/* details {name, group, kind:"leases"} */
cJSON *details_named(const char *name);
void reply_not_found(reply *r, const char *name);
void reply_conflict(reply *r, const char *name);
void reply_bad_request(reply *r, const char *message);
void reply_internal(reply *r, const char *message); /* 500 without reason, like the server's */
void reply_invalid(reply *r, const char *name, cJSON *causes); /* 422 from lease_validate */
void reply_json(reply *r, int code, char *body);               /* takes `body` */
void reply_text(reply *r, int code, char *text); /* takes `text`; NULL (no memory): 500 */
void reply_oom(reply *r);
/* Compact JSON text of `o`, newline-terminated like the server's. NULL on OOM. */
char *json_line(const cJSON *o);
char *status_text(int code, const char *reason, const char *message, cJSON *details);

/* ------------------------------------------------------------- the server */

typedef struct token {
    char *token;
    char *user;
    struct token *next;
} token;

typedef struct user_right {
    char *user;
    bool authorized;
    struct user_right *next;
} user_right;

typedef struct fault_rule {
    uint64_t id;
    ksim_fault f; /* method/identity point at the copies below */
    char *method;
    char *identity;
    int left; /* remaining firings, or -1 for unlimited */
    struct fault_rule *next;
} fault_rule;

typedef struct fired {
    uint64_t id;
    uint64_t count;
    struct fired *next;
} fired;

/* Past watch events of one lease, for replay. */
typedef struct event_log {
    char *ns;
    char *name;
    uint64_t *rvs;
    char **lines;
    size_t n;
    uint64_t dropped_rv; /* rv of the newest event forgotten, 0 if none */
    struct event_log *next;
} event_log;

typedef struct history_vec {
    ksim_history_entry *v;
    size_t n;
    size_t cap;
} history_vec;

struct ksim {
    ksim_options o; /* strings below are copies */
    char *bind_address;
    char *workdir;
    bool own_workdir;
    char *history_path;
    char *state_path;

    pthread_mutex_t mu;
    pthread_cond_t cond; /* broadcast on every write and at stop */
    bool stopping;

    struct MHD_Daemon *daemon;
    uint16_t port;
    char url[80];

    EVP_PKEY *ca_key;
    X509 *ca_cert;
    char *ca_pem;
    char *ca_path;
    char *server_cert_pem;
    char *server_key_pem;
    char admin_token[65];

    token *tokens;
    user_right *rights;
    unsigned rbac_verbs; /* bit per verb of auth_verb_bit(); all set when unrestricted */

    uint64_t rv;
    uint64_t floor_rv; /* events at or below this were never recorded */
    lease *leases;
    event_log *logs;
    struct watch *watches;

    history_vec history;
    FILE *history_file;

    fault_rule *faults;
    fired *fired;
    uint64_t next_fault_id;
    uint64_t rng;

    ksim_counters counters;
};

/* Identity of one request. */
typedef struct identity {
    char user[256];
    bool authenticated; /* a valid token or certificate */
    bool bad_token;     /* a bearer token nobody registered: 401 */
    bool bad_cert;      /* a certificate the CA did not sign: 401 */
} identity;

/* What the routes need to know about a request. */
typedef struct request {
    ksim *sim;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    const char *body;
    size_t body_len;
    identity id;
    char manager[256]; /* fieldManager, else the User-Agent's product, like the server */
    bool drop_after;   /* DROP_AFTER fault: apply, then drop */
    int fd;            /* client socket, for noticing a disconnect */
} request;

/* routes.c */
void route_request(request *rq, reply *r);
/* Parses /apis/coordination.k8s.io/v1/namespaces/NS/leases[/NAME]; NAME may
 * come back NULL. false when the path is something else. */
bool parse_lease_path(const char *url, char *ns, size_t nsz, char *name, size_t namesz,
                      bool *has_name);
const char *query(const request *rq, const char *key);
const char *field_manager(const request *rq);
/* Reads "metadata.name=NAME" (also "==", and metadata.namespace terms) into
 * name (empty: no name term). false for anything else, with the bad label. */
bool parse_field_selector(const char *sel, char *name, size_t namesz, char *bad, size_t badsz);
/* Parses a JSON body; on failure fills a 400 with Go's wording. */
cJSON *parse_body(const request *rq, reply *r);

/* Checks a decoded body's namespace and name against the URL (400 if not). */
bool check_names(reply *r, const decoded *d, const char *ns, const char *url_name,
                 bool name_required);
/* lease_validate() answering 422 (or OOM); true when valid. */
bool validate(reply *r, const char *name, const lease_spec *s);

/* patch.c */
void handle_patch(request *rq, reply *r, const char *ns, const char *name);
/* Go's fmt %v rendering of a JSON value (maps with sorted keys). */
char *go_value_text(const cJSON *v);

/* store.c: all with sim->mu held */
lease *store_find(ksim *sim, const char *ns, const char *name);
/* Commits `next` (a new lease or a modified clone of the stored one) with a
 * fresh resourceVersion: replaces/inserts it, emits the watch event and the
 * history entry. Takes ownership of `next`. -1 on OOM. */
int store_commit(ksim *sim, lease *next, ksim_op op, const request *rq, bool created);

/* An update that replaces the spec (PUT, strategic merge, merge): a write
 * that changes nothing is answered with the object as it is (no new
 * resourceVersion, like the real server); otherwise `spec` (taken) is
 * committed with the writer as an Update manager, and the result answered. */
void commit_spec_update(request *rq, reply *r, const lease *cur, lease_spec *spec, ksim_op op);
/* Deletes the stored lease `l` (emits DELETED + history). -1 on OOM. */
int store_delete(ksim *sim, lease *l, const request *rq);
int64_t now_wall_s(void);
void random_uid(char out[37]);
bool parse_rv(const char *s, uint64_t *out);

/* watch.c */
void handle_watch(request *rq, reply *r, const char *ns);
/* Queues `line` (copied) for every watch of ns/name, and keeps it for replay. */
int watch_publish(ksim *sim, const char *ns, const char *name, uint64_t rv, const char *line);
void watch_free_all(ksim *sim);
int watch_queue_response(struct MHD_Connection *conn, struct watch *w);
void watch_discard(struct watch *w);

/* auth.c */
void auth_identify(ksim *sim, struct MHD_Connection *conn, identity *id);
bool auth_allowed(ksim *sim, const identity *id);
/* Parses a comma-separated verb list into a mask; -1 names a bad verb. */
int auth_parse_verbs(const char *list, unsigned *mask, char *bad, size_t badsz);
/* Whether the RBAC verbs configured allow `verb` on leases. */
bool auth_verb_allowed(const ksim *sim, const char *verb);
void auth_free(ksim *sim);

/* certs.c */
int certs_init(ksim *sim, char *err, size_t errlen);
void certs_free(ksim *sim);
char *base64_encode(const char *data, size_t len);

/* faults.c */
typedef struct fault_decision {
    int latency_ms;
    bool fire;
    ksim_fault_kind kind;
    int status;
    int retry_after_s;
} fault_decision;
void faults_decide(ksim *sim, const char *method, bool is_watch, const char *user,
                   fault_decision *d);
bool identity_partitioned(ksim *sim, const char *user); /* with mu held */
void faults_free(ksim *sim);
/* Sleeps up to `ms`, returning early at stop. */
void sim_sleep_ms(ksim *sim, int64_t ms);
/* Blocks until the client on `fd` hangs up or the simulator stops. */
void hang_until_gone(ksim *sim, int fd);
bool client_gone(int fd);

/* history.c */
int history_append(ksim *sim, const ksim_history_entry *e); /* copies; mu held */
void history_free_all(ksim *sim);
char *history_jsonl(ksim *sim, size_t from); /* takes mu itself */

/* state.c */
int state_load(ksim *sim, const char *path, char *err, size_t errlen);

/* control.c */
void control_request(request *rq, reply *r);

/* kubeconfig.c uses only the public API. */

#endif
