/* The simulator's shared state (struct ksim), the plain accessors of the
 * public API, and the waits on its condition variable. Everything that reads
 * or writes leases, watches, history, tokens or faults holds `sim->mu`.
 * Owned by sim.c; the bottom of the simulator: it includes no other
 * internal header. The types behind the pointers below are private to the
 * file named next to them. */
#ifndef KLEASE_TESTS_KSIM_SIM_H
#define KLEASE_TESTS_KSIM_SIM_H

#include "ksim.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>

struct MHD_Daemon;
struct lease;             /* lease.h */
struct ksim__token;       /* auth.c */
struct ksim__user_right;  /* auth.c */
struct ksim__fault_rule;  /* faults.c */
struct ksim__fired;       /* faults.c */
struct ksim__event_log;   /* events.c */
struct ksim__subscriber;  /* events.c */
struct ksim__table;       /* table.c */
struct ksim__kept_events; /* events.c */

/* A thread that waits for events of its own (a watch stream) on its own
 * condition variable with sim->mu, so a write wakes only the streams it
 * concerns instead of every open watch; stop and fault changes wake all. */
typedef struct ksim__waiter {
    pthread_cond_t cond; /* klease__cond_init: for the clock's timedwait */
    struct ksim__waiter *prev, *next;
} ksim__waiter;

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
    pthread_cond_t cond; /* sleeps and hung requests; broadcast by ksim__wake_all (stop,
                          * faults). Writes wake the watches they concern (events.c). */
    bool stopping;
    ksim__waiter *waiters; /* registered waiters, woken by ksim__wake_all */

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

    struct ksim__token *tokens;
    struct ksim__user_right *rights;
    unsigned rbac_verbs; /* bit per verb of auth.c; all set when unrestricted */

    uint64_t rv;
    uint64_t floor_rv;               /* events at or below this were never recorded */
    struct ksim__table *leases;      /* of lease, by namespace and name */
    struct ksim__table *logs;        /* of event_log (events.c), by namespace and name */
    struct ksim__table *subscribers; /* of subscriber lists (events.c), name "" for a collection */
    struct ksim__kept_events *kept;  /* kept events in publish order, for watch_history_total */

    history_vec history;
    FILE *history_file;

    struct ksim__fault_rule *faults;
    struct ksim__fired *fired;
    uint64_t next_fault_id;
    uint64_t rng;

    ksim_counters counters;
};

/* With mu held: wakes everything that waits (sim->cond and every waiter), at
 * stop and when what a waiter must look at changes (faults). */
void ksim__wake_all(ksim *sim);
/* With mu held: `w` (its cond initialised) is woken by ksim__wake_all / no
 * longer. */
void ksim__waiter_add(ksim *sim, ksim__waiter *w);
void ksim__waiter_remove(ksim *sim, ksim__waiter *w);

/* Sleeps up to `ms`, returning early at stop. */
void ksim__sleep_ms(ksim *sim, int64_t ms);
/* Blocks until the client on `fd` hangs up or the simulator stops. */
void ksim__hang_until_gone(ksim *sim, int fd);
/* Whether the client on `fd` has hung up (false for fd < 0). */
bool ksim__client_gone(int fd);

#endif
