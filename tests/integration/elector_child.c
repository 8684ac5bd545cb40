/* A process that holds a lease with an elector until SIGTERM (then closes it,
 * vacating) or SIGKILL. Used by the integration tests to kill a leader.
 * Usage: elector_child KUBECONFIG LEASE IDENTITY DURATION_MS
 * Prints "leading" / "following" lines on stdout as the claim changes. */
#include "klease/klease.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static void on_change(void *user, const klease_claim *claim, bool leading, klease_status status)
{
    (void)user;
    (void)status;
    printf("%s %s\n", leading ? "leading" : "following", claim ? claim->holder : "-");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: elector_child KUBECONFIG LEASE IDENTITY DURATION_MS\n");
        return 2;
    }
    signal(SIGTERM, on_term);
    klease_client_options co = KLEASE_CLIENT_OPTIONS_INIT;
    co.kubeconfig = argv[1];
    klease_client *c = NULL;
    klease_manager *m = NULL;
    klease_elector *e = NULL;
    klease_error err;
    klease_manager_options mo = KLEASE_MANAGER_OPTIONS_INIT;
    mo.create_if_missing = true;
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    p.lease_duration_ms = strtoll(argv[4], NULL, 10);
    klease_elector_options eo = KLEASE_ELECTOR_OPTIONS_INIT;
    eo.on_change = on_change;
    if (klease_client_new(&c, &co, &err) != KLEASE_OK ||
        klease_manager_init(&m, c, NULL, argv[2], &mo, &err) != KLEASE_OK ||
        klease_spawn(&e, m, argv[3], &p, &eo, &err) != KLEASE_OK) {
        fprintf(stderr, "elector_child: %s\n", err.message);
        return 1;
    }
    while (!stop)
        pause();
    klease_status st = klease_elector_close(e, &err);
    klease_manager_free(m);
    klease_client_free(c);
    return st == KLEASE_OK ? 0 : 1;
}
