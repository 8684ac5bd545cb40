/* The background elector: a thread keeps the lease and tells us when
 * leadership changes, while the main thread does its work only when
 * klease_elector_is_leader() says so (a lock-free check, cheap enough for a
 * hot path, and false at the claim's deadline even if the API server hangs).
 *
 *   elector [--kubeconfig PATH] [--namespace NS] [--lease NAME]
 *           [--identity ID] [--seconds N] [--duration-ms N]
 *
 * Runs for --seconds (default: forever), then closes the elector, which
 * vacates the lease so another replica takes over at once. */
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

/* Runs on the client's callback thread: keep it short (the callbacks of the
 * client's other electors wait behind it; renewals do not) and never close
 * this elector from here. */
static void on_change(void *user, const klease_claim *claim, bool leading, klease_status status)
{
    const char *me = user;
    if (status == KLEASE_ECLOSED)
        printf("elector closed\n");
    else if (status != KLEASE_OK)
        printf("elector stopped: %s\n", klease_strerror(status));
    else if (leading)
        printf("%s is now the leader (resourceVersion %s)\n", me, claim->resource_version);
    else if (claim != NULL)
        printf("following: %s leads\n", claim->holder);
    else
        printf("the lease is free\n");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *kubeconfig = NULL, *ns = NULL, *lease = "example-elector", *id_arg = NULL;
    long long seconds = -1, duration_ms = 15000;
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
        else if (strcmp(argv[i], "--seconds") == 0)
            bad = arg_num(next, &seconds);
        else if (strcmp(argv[i], "--duration-ms") == 0)
            bad = arg_num(next, &duration_ms);
        else
            bad = 1;
        if (bad) {
            fprintf(stderr, "elector: bad argument '%s'\n", argv[i]);
            return 2;
        }
        i++;
    }

    char identity[KLEASE_IDENTITY_MAX + 1];
    klease_error err;
    klease_client *client = NULL;
    klease_manager *manager = NULL;
    klease_elector *elector = NULL;
    int rc = 1;

    if (id_arg != NULL)
        snprintf(identity, sizeof identity, "%s", id_arg);
    else if (klease_default_identity(identity, sizeof identity, &err) != KLEASE_OK)
        goto fail;

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
    klease_elector_options eo = KLEASE_ELECTOR_OPTIONS_INIT;
    eo.on_change = on_change;
    eo.user = identity;
    if (klease_spawn(&elector, manager, identity, &params, &eo, &err) != KLEASE_OK)
        goto fail;

    /* The work loop: ten ticks a second, each done only while leading. */
    long long work = 0;
    for (long long tick = 0; seconds < 0 || tick < seconds * 10; tick++) {
        if (klease_elector_is_leader(elector))
            work++;
        sleep_ms(100);
    }
    printf("did %lld units of work as the leader\n", work);

    /* Stops the thread, vacates if we lead, and frees the elector. */
    klease_status st = klease_elector_close(elector, &err);
    elector = NULL;
    if (st != KLEASE_OK)
        goto fail;
    rc = 0;
    goto out;

fail:
    fprintf(stderr, "elector: %s: %s\n", klease_strerror(err.status), err.message);
out:
    klease_elector_close(elector, NULL);
    klease_manager_free(manager);
    klease_client_free(client);
    return rc;
}
