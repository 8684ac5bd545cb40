/* Allocation failures everywhere a user can reach: client creation from a
 * kubeconfig file, manager init (plain, creating, losing the create race),
 * sync, acquire after a conflict, takeover, an error answer, the watch
 * stream, and an elector's whole life (spawn, lead or follow, close). The
 * 1st, 2nd, ... allocation fails until a run needs no failure; every run
 * must end in KLEASE_ENOMEM or the normal status, never crash, never leak.
 * Acquire, renew and vacate are covered in test_manager.c, kubeconfig
 * loading in test_kubeconfig.c, credentials in test_credentials.c, with the
 * same loop (alloc_fail.h). */
#include "alloc_fail.h"

#include "core/fake_clock.h"
#include "api/watch.h"
#include "kube_test_util.h"
#include "api/client.h"
#include "lease/manager.h"
#include "lease_fixtures.h"
#include "scripted_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------ the client */

typedef struct client_case {
    char path[512]; /* the kubeconfig */
} client_case;

static klease_status run_client_new(void *ctx, long n)
{
    client_case *cc = ctx;
    klease_client_options o = KLEASE_CLIENT_OPTIONS_INIT;
    o.kubeconfig = cc->path;
    o.in_cluster_dir = "/nonexistent/klease-sa";
    klease_client *c = NULL;
    klease_error err;
    klease__alloc_fail_after(n);
    klease_status st = klease_client_new(&c, &o, &err);
    klease__alloc_fail_after(-1);
    if (st == KLEASE_OK) {
        assert_string_equal(klease_client_namespace(c), "team-a");
        assert_string_equal(klease_client_server(c), "https://127.0.0.1:6443");
    } else {
        assert_null(c);
    }
    klease_client_free(c);
    return st;
}

static void test_client_creation_from_a_kubeconfig_survives_every_allocation_failure(void **state)
{
    (void)state;
    char dir[256];
    make_temp_dir(dir, sizeof dir);
    write_file(dir, "token", "secret-token\n");
    write_file(dir, "ca.crt", "-----BEGIN CERTIFICATE-----\nY2E=\n-----END CERTIFICATE-----\n");
    /* A relative CA file and token file, inline client certificate, two
     * contexts: every allocation path of loading, credentials and transport. */
    write_file(
        dir, "config",
        "apiVersion: v1\nkind: Config\ncurrent-context: main\n"
        "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n"
        "    certificate-authority: ca.crt\n    tls-server-name: api.internal\n"
        "users:\n- name: u\n  user:\n    tokenFile: token\n"
        "- name: cert\n  user:\n"
        "    client-certificate-data: "
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClkyVnlkQT09Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K\n"
        "    client-key-data: "
        "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCmEyVjUKLS0tLS1FTkQgUFJJVkFURSBLRVktLS0tLQo=\n"
        "contexts:\n- name: main\n  context: {cluster: c, user: u, namespace: team-a}\n"
        "- name: other\n  context: {cluster: c, user: cert}\n");
    write_file(dir, "exec-config",
               "apiVersion: v1\nkind: Config\ncurrent-context: main\n"
               "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n"
               "    insecure-skip-tls-verify: true\n"
               "users:\n- name: u\n  user:\n    exec:\n"
               "      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/true\n"
               "      args: [a, b]\n      env: [{name: X, value: y}]\n"
               "      interactiveMode: Never\n      provideClusterInfo: true\n"
               "contexts:\n- name: main\n  context: {cluster: c, user: u, namespace: team-a}\n");
    client_case cc;
    snprintf(cc.path, sizeof cc.path, "%s/config", dir);
    long allocs = alloc_fail_each("client_new (token file)", run_client_new, &cc, KLEASE_OK);
    assert_true(allocs > 20);
    snprintf(cc.path, sizeof cc.path, "%s/exec-config", dir);
    alloc_fail_each("client_new (exec plugin)", run_client_new, &cc, KLEASE_OK);
    rm_tree(dir);
}

/* ----------------------------------------------------------- the manager */

typedef struct env {
    scripted_transport *t;
    klease__fake_clock *fc;
    klease_client *client;
    klease_manager *m;
} env;

static env *env_new(void)
{
    env *v = calloc(1, sizeof *v);
    v->t = scripted_new();
    v->fc = klease__fake_clock_new(MONO0, WALL0);
    v->t->clock = klease__fake_clock_get(v->fc);
    assert_int_equal(klease__client_new_with_transport(&v->client, &v->t->base,
                                                       klease__fake_clock_get(v->fc), "ns", NULL),
                     KLEASE_OK);
    return v;
}

static int64_t env_wall(env *v)
{
    return klease__wall_ns(klease__fake_clock_get(v->fc));
}

/* A manager on an unheld lease (rv 10), made without any failure. */
static env *env_with_manager(const char *holder, int64_t renew_wall)
{
    env *v = env_new();
    push_lease(v->t, 200, 10, holder, renew_wall == 0 ? env_wall(v) : renew_wall, 30, 3);
    assert_int_equal(klease_manager_init(&v->m, v->client, NULL, "lease-a", NULL, NULL), KLEASE_OK);
    return v;
}

static void env_free(env *v)
{
    klease_manager_free(v->m);
    klease_client_free(v->client);
    scripted_free(v->t);
    klease__fake_clock_free(v->fc);
    free(v);
}

typedef enum init_kind { INIT_PLAIN, INIT_CREATE, INIT_CREATE_RACE } init_kind;

static klease_status run_manager_init(void *ctx, long n)
{
    init_kind kind = *(init_kind *)ctx;
    env *v = env_new();
    klease_manager_options o = KLEASE_MANAGER_OPTIONS_INIT;
    o.create_if_missing = kind != INIT_PLAIN;
    o.field_manager = "my-controller";
    if (kind == INIT_PLAIN) {
        push_lease(v->t, 200, 10, "other", env_wall(v), 30, 3);
    } else {
        scripted_push_fixture(v->t, 404, "08-get-missing.json");
        if (kind == INIT_CREATE) {
            push_lease(v->t, 201, 5, NULL, 0, 0, 0);
        } else {
            scripted_push_fixture(v->t, 409, "12-post-duplicate.json");
            push_lease(v->t, 200, 7, "winner", env_wall(v), 30, 1);
        }
    }
    klease_error err;
    klease__alloc_fail_after(n);
    klease_status st = klease_manager_init(&v->m, v->client, NULL, "lease-a", &o, &err);
    klease__alloc_fail_after(-1);
    if (st != KLEASE_OK)
        assert_null(v->m);
    env_free(v);
    return st;
}

static void test_manager_init_survives_every_allocation_failure(void **state)
{
    (void)state;
    init_kind kinds[] = {INIT_PLAIN, INIT_CREATE, INIT_CREATE_RACE};
    const char *names[] = {"manager_init", "manager_init (create)", "manager_init (create race)"};
    for (int i = 0; i < 3; i++)
        alloc_fail_each(names[i], run_manager_init, &kinds[i], KLEASE_OK);
}

typedef enum op_kind { OP_SYNC, OP_ACQUIRE_AFTER_CONFLICT, OP_TAKEOVER, OP_RENEW_ERROR } op_kind;

static klease_status run_manager_op(void *ctx, long n)
{
    op_kind kind = *(op_kind *)ctx;
    env *v;
    klease_claim claim;
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    klease_error err;
    klease_status st;
    switch (kind) {
    case OP_SYNC:
        v = env_with_manager(NULL, 0);
        push_lease(v->t, 200, 11, "other", env_wall(v), 30, 4);
        klease__alloc_fail_after(n);
        bool has;
        st = klease_sync(v->m, &claim, &has, &err);
        break;
    case OP_ACQUIRE_AFTER_CONFLICT:
        /* 409, re-read (still free), acquire. */
        v = env_with_manager(NULL, 0);
        scripted_push(v->t, (scripted_reply){.http_status = 409, .body = CONFLICT_STATUS});
        push_lease(v->t, 200, 11, NULL, 0, 0, 3);
        push_lease(v->t, 200, 12, "me", env_wall(v), 30, 4);
        klease__alloc_fail_after(n);
        st = klease_ensure_claimed(v->m, "me", &p, &claim, &err);
        break;
    case OP_TAKEOVER:
        /* Someone else's claim, expired by the wall rule. */
        v = env_with_manager("other", WALL0 - 120 * S);
        push_lease(v->t, 200, 11, "me", env_wall(v), 30, 4);
        klease__alloc_fail_after(n);
        st = klease_ensure_claimed(v->m, "me", &p, &claim, &err);
        break;
    default:
        /* The renewal is answered with a Status: parsing it may fail too,
         * and the answer is still the HTTP error, never a crash. */
        v = env_with_manager(NULL, 0);
        push_lease(v->t, 200, 11, "me", env_wall(v), 30, 4);
        assert_int_equal(klease_ensure_claimed(v->m, "me", &p, &claim, NULL), KLEASE_OK);
        klease__fake_clock_advance(v->fc, 29 * S);
        scripted_push_fixture(v->t, 500, "17-apply-invalid-microtime.json");
        klease__alloc_fail_after(n);
        st = klease_ensure_claimed(v->m, "me", &p, &claim, &err);
        break;
    }
    klease__alloc_fail_after(-1);
    if (st == KLEASE_OK && kind != OP_SYNC)
        assert_string_equal(claim.holder, "me");
    env_free(v);
    return st;
}

static void test_manager_operations_survive_every_allocation_failure(void **state)
{
    (void)state;
    op_kind ops[] = {OP_SYNC, OP_ACQUIRE_AFTER_CONFLICT, OP_TAKEOVER, OP_RENEW_ERROR};
    alloc_fail_each("sync", run_manager_op, &ops[0], KLEASE_OK);
    alloc_fail_each("acquire after a conflict", run_manager_op, &ops[1], KLEASE_OK);
    alloc_fail_each("takeover of an expired claim", run_manager_op, &ops[2], KLEASE_OK);
    alloc_fail_each("renewal answered 500", run_manager_op, &ops[3], KLEASE_EHTTP);
}

/* ------------------------------------------------------------- the watch */

typedef struct watch_case {
    int http;
    const char *fixture; /* under tests/fixtures/wire */
    size_t chunk;
    int events; /* events delivered when nothing fails */
} watch_case;

static bool count_event(void *user, klease__watch_type type, const cJSON *object)
{
    (void)type;
    (void)object;
    (*(int *)user)++;
    return true;
}

static klease_status run_watch(void *ctx, long n)
{
    const watch_case *wc = ctx;
    env *v = env_new();
    char rel[256];
    snprintf(rel, sizeof rel, "wire/%s", wc->fixture);
    char *body = read_fixture(rel);
    scripted_push(v->t,
                  (scripted_reply){.http_status = wc->http, .body = body, .chunk = wc->chunk});
    free(body);
    int events = 0;
    klease_error err;
    klease__alloc_fail_after(n);
    klease_status st = klease__lease_watch(v->client, "ns", "lease-a", "208", 60, 0, NULL,
                                           count_event, &events, &err);
    klease__alloc_fail_after(-1);
    if (st != KLEASE_ENOMEM)
        assert_int_equal(events, wc->events);
    env_free(v);
    return st;
}

static void test_watch_survives_every_allocation_failure(void **state)
{
    (void)state;
    watch_case events = {200, "20-watch-events.stream", 7, 8};
    watch_case expired = {200, "22-watch-too-old-rv.stream", 0, 0};
    watch_case forbidden = {403, "33-no-credentials.json", 0, 0};
    alloc_fail_each("watch (8 events in 7-byte chunks)", run_watch, &events, KLEASE_OK);
    alloc_fail_each("watch (410 Expired)", run_watch, &expired, KLEASE_EHTTP);
    alloc_fail_each("watch (403)", run_watch, &forbidden, KLEASE_EAUTH);
}

/* ----------------------------------------------------------- the elector */

/* Spawns an elector, lets it run until its thread sleeps (leading, following
 * or backing off after a failure: the switch keeps failing every later
 * allocation), and closes it. Spawn must be OK or ENOMEM; close must stop
 * the thread and free everything whatever happened, and report OK or the
 * ENOMEM of its vacate. */
static klease_status run_elector(void *ctx, long n)
{
    bool follower = *(bool *)ctx;
    env *v = env_with_manager(follower ? "other" : NULL, 0);
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    klease_elector_options o = KLEASE_ELECTOR_OPTIONS_INIT;
    int rv = 11;
    if (follower) {
        /* The watch sees the holder vacate (in 9-byte pieces); we take over. */
        char *line = watch_line("MODIFIED", rv++, NULL, 0, 0, 3);
        scripted_push(v->t, (scripted_reply){.http_status = 200, .body = line, .chunk = 9});
        free(line);
    }
    push_lease(v->t, 200, rv, "me", env_wall(v), 30, 4); /* the acquire */
    push_lease(v->t, 200, rv, "me", env_wall(v), 30, 4); /* close: the fresh read */
    push_lease(v->t, 200, rv + 1, NULL, 0, 0, 4);        /* close: the vacate */
    klease_elector *e = NULL;
    klease_error err;
    uint64_t failed_before = klease__alloc_failed_count();
    klease__alloc_fail_after(n);
    klease_status st = klease_spawn(&e, v->m, "me", &p, &o, &err);
    if (st == KLEASE_OK) {
        /* Asleep on the fake clock: renewing later, watching (the scripted
         * hang waits on the clock too) or backing off. Real-time bound. */
        assert_true(klease__fake_clock_await_sleepers(v->fc, 1, 10000));
        /* The engine thread also sleeps, without a deadline, before it has
         * run the elector's first step: wait for a deadline, or the end. */
        /* A run where nothing failed (so far) settles when it leads; one where
         * something failed, once it is asleep with a deadline and has made no
         * request for 20 ms (it retries, polls or renews later), or stopped. */
        uint64_t seen = 0;
        size_t quiet = 0, last_requests = 0;
        for (int i = 0; i < 10000; i++) {
            if (klease_elector_is_leader(e) ||
                klease_elector_wait_change(e, &seen, 0, NULL, NULL) == KLEASE_ECLOSED)
                break;
            bool failed = klease__alloc_failed_count() != failed_before;
            /* The engine thread counts requests under the transport's lock. */
            pthread_mutex_lock(&v->t->mu);
            size_t requests = v->t->nrequests;
            pthread_mutex_unlock(&v->t->mu);
            quiet =
                requests == last_requests && klease__fake_clock_next_deadline(v->fc) != INT64_MAX
                    ? quiet + 1
                    : 0;
            last_requests = requests;
            if (failed && quiet >= 20)
                break;
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        bool leading = klease_elector_is_leader(e);
        st = klease_elector_close(e, &err);
        /* A run without failures must have done what the elector is for. */
        if (klease__alloc_failed_count() == failed_before)
            assert_true(leading);
    } else {
        assert_null(e);
    }
    klease__alloc_fail_after(-1);
    env_free(v);
    return st;
}

static void test_elector_start_and_stop_survive_every_allocation_failure(void **state)
{
    (void)state;
    bool leader = false, follower = true;
    alloc_fail_each("elector (leads, vacates at close)", run_elector, &leader, KLEASE_OK);
    alloc_fail_each("elector (follows, watch sees a vacate, takes over)", run_elector, &follower,
                    KLEASE_OK);
}

int main(void)
{
    clean_kube_env();
    alloc_fail_route_cjson();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_creation_from_a_kubeconfig_survives_every_allocation_failure),
        cmocka_unit_test(test_manager_init_survives_every_allocation_failure),
        cmocka_unit_test(test_manager_operations_survive_every_allocation_failure),
        cmocka_unit_test(test_watch_survives_every_allocation_failure),
        cmocka_unit_test(test_elector_start_and_stop_survive_every_allocation_failure),
    };
    return cmocka_run_group_tests_name("alloc_failures", tests, NULL, NULL);
}
