/* A reconcile loop that acts only while it holds a lease.
 *
 * Each round calls klease_ensure_claimed(): while we hold the lease and are
 * outside the renew grace it returns the cached claim with no I/O, so calling
 * it every round is cheap; near expiry it renews; when the lease is free it
 * takes it. Work happens only when the claim is ours with more time left
 * than one round of work may need (the work margin), so a round never runs
 * past the moment another replica may take over. The renew grace is larger
 * than that margin: ensure_claimed renews before the margin is reached, and
 * only a renewal that keeps failing makes a round skip its work.
 *
 *   controller [--kubeconfig PATH] [--namespace NS] [--lease NAME]
 *              [--identity ID] [--rounds N] [--interval-ms N] [--duration-ms N]
 *              [--work-margin-ms N]
 *
 * Stops after --rounds rounds (default: forever) and vacates, so another
 * replica takes over at once. Exit status 0, or 1 on a failure that cannot heal. */
#include <klease/klease.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int arg_num(const char *s, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (s == NULL || errno != 0 || end == s || *end != '\0' || v < 0)
        return -1;
    *out = v;
    return 0;
}

static void sleep_ms(long long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The work a controller does only while it leads. */
static void reconcile(long long round, const klease_claim *claim)
{
    printf("round %lld: leader (resourceVersion %s, transitions %lld): reconciled\n", round,
           claim->resource_version, (long long)claim->transitions);
}

int main(int argc, char **argv)
{
    const char *kubeconfig = NULL, *ns = NULL, *lease = "example-controller", *id_arg = NULL;
    long long rounds = -1, interval_ms = 1000, duration_ms = 15000, work_margin_ms = 2000;
    for (int i = 1; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = next == NULL;
        if (strcmp(argv[i], "--kubeconfig") == 0)
            kubeconfig = next;
        else if (strcmp(argv[i], "--namespace") == 0)
            ns = next;
        else if (strcmp(argv[i], "--lease") == 0)
            lease = next;
        else if (strcmp(argv[i], "--identity") == 0)
            id_arg = next;
        else if (strcmp(argv[i], "--rounds") == 0)
            bad = arg_num(next, &rounds);
        else if (strcmp(argv[i], "--interval-ms") == 0)
            bad = arg_num(next, &interval_ms);
        else if (strcmp(argv[i], "--duration-ms") == 0)
            bad = arg_num(next, &duration_ms);
        else if (strcmp(argv[i], "--work-margin-ms") == 0)
            bad = arg_num(next, &work_margin_ms);
        else
            bad = 1;
        if (bad) {
            fprintf(stderr, "controller: bad argument '%s'\n", argv[i]);
            return 2;
        }
        i++;
    }

    char identity[KLEASE_IDENTITY_MAX + 1];
    klease_error err;
    klease_client *client = NULL;
    klease_manager *manager = NULL;
    int rc = 1;

    if (id_arg != NULL)
        snprintf(identity, sizeof identity, "%s", id_arg);
    else if (klease_default_identity(identity, sizeof identity, &err) != KLEASE_OK)
        goto fail;

    /* One client per process; one manager per lease. */
    klease_client_options co = KLEASE_CLIENT_OPTIONS_INIT;
    co.kubeconfig = kubeconfig;
    if (klease_client_new(&client, &co, &err) != KLEASE_OK)
        goto fail;
    klease_manager_options mo = KLEASE_MANAGER_OPTIONS_INIT;
    mo.create_if_missing = true;
    if (klease_manager_init(&manager, client, ns, lease, &mo, &err) != KLEASE_OK)
        goto fail;

    klease_claim_params params = KLEASE_CLAIM_PARAMS_INIT;
    params.lease_duration_ms = duration_ms;
    params.renew_grace_ms = work_margin_ms + 1000; /* renew before the margin is reached */
    for (long long round = 1; rounds < 0 || round <= rounds; round++) {
        klease_claim claim;
        klease_status st = klease_ensure_claimed(manager, identity, &params, &claim, &err);
        if (st != KLEASE_OK) {
            /* Transient (network, 5xx, conflicts): skip this round and retry
             * at the next; do not act without a confirmed claim. */
            fprintf(stderr, "round %lld: %s: %s\n", round, klease_strerror(st), err.message);
        } else if (klease_claim_is_current_for_margin(&claim, identity, work_margin_ms)) {
            reconcile(round, &claim);
        } else if (klease_claim_is_current_for(&claim, identity)) {
            /* Ours, but renewals failed and too little is left to finish a
             * round before someone else may start: wait for a renewal. */
            printf("round %lld: leader with only %lld ms left; work skipped\n", round,
                   (long long)klease_claim_time_left_ms(&claim));
        } else {
            printf("round %lld: follower; %s leads\n", round, claim.holder);
        }
        fflush(stdout);
        sleep_ms(interval_ms);
    }

    /* Hand over now rather than at expiry. */
    bool vacated = false;
    if (klease_vacate(manager, identity, &vacated, &err) != KLEASE_OK)
        goto fail;
    printf("done%s\n", vacated ? "; lease vacated" : "");
    rc = 0;
    goto out;

fail:
    fprintf(stderr, "controller: %s: %s\n", klease_strerror(err.status), err.message);
out:
    klease_manager_free(manager);
    klease_client_free(client);
    return rc;
}
