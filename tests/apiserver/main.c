/* klease-apiserver-sim: the simulator as a process, for the demo and for
 * multi-process tests. Prints "port=N" and "kubeconfig=PATH" on stdout, then
 * serves until SIGTERM or SIGINT. Usage: klease-apiserver-sim --help. */
#include "ksim.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: klease-apiserver-sim [options]\n"
    "  --port N                 listen port (default 0: ephemeral)\n"
    "  --bind ADDR              IPv4 address (default 127.0.0.1)\n"
    "  --plain-http             no TLS (tokens still work)\n"
    "  --workdir DIR            keep CA, admin token and kubeconfig here (reused on restart)\n"
    "  --kubeconfig PATH        where to write the kubeconfig (default WORKDIR/kubeconfig)\n"
    "  --kubeconfig-kind K      token (default) or cert\n"
    "  --token TOKEN:USER[:forbidden]  add a bearer token (repeatable)\n"
    "  --allow-anonymous        let requests without credentials in\n"
    "  --history FILE           append every accepted write as a JSON line\n"
    "  --state FILE             load leases at start, save them at exit\n"
    "  --bookmark-interval-ms N watch BOOKMARK period (default 60000)\n"
    "  --watch-history N        events kept per lease for watch replay (default 100)\n"
    "  --watch-history-total N  events kept in all, oldest first (default 100000; 0: no limit)\n"
    "  --seed N                 seed of fault probabilities\n"
    "  --fault JSON             add a fault at start (repeatable; see README.md)\n"
    "  --rbac-verbs LIST        allow only these Lease verbs (e.g. get,watch,patch), as a Role\n"
    "  --no-control             do not serve /_ksim/ (served by default)\n"
    "  --verbose                log libmicrohttpd errors\n";

static bool parse_num(const char *s, long long lo, long long hi, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (s == NULL || errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* What the command line asks for beyond ksim_options. */
typedef struct cli {
    ksim_options o;
    const char *kubeconfig;
    ksim_kubeconfig_kind kind;
    const char *faults[32], *tokens[32];
    int n_faults, n_tokens;
} cli;

/* One option that takes a value; false when `a` is not one or the value is bad. */
static bool take_value(cli *c, const char *a, const char *next)
{
    long long v = 0;
    if (strcmp(a, "--port") == 0 && parse_num(next, 0, 65535, &v))
        c->o.port = (uint16_t)v;
    else if (strcmp(a, "--bind") == 0 && next)
        c->o.bind_address = next;
    else if (strcmp(a, "--workdir") == 0 && next)
        c->o.workdir = next;
    else if (strcmp(a, "--kubeconfig") == 0 && next)
        c->kubeconfig = next;
    else if (strcmp(a, "--kubeconfig-kind") == 0 && next &&
             (!strcmp(next, "token") || !strcmp(next, "cert")))
        c->kind = strcmp(next, "cert") == 0 ? KSIM_KUBECONFIG_CERT : KSIM_KUBECONFIG_TOKEN;
    else if (strcmp(a, "--token") == 0 && next && c->n_tokens < 32)
        c->tokens[c->n_tokens++] = next;
    else if (strcmp(a, "--history") == 0 && next)
        c->o.history_path = next;
    else if (strcmp(a, "--state") == 0 && next)
        c->o.state_path = next;
    else if (strcmp(a, "--bookmark-interval-ms") == 0 && parse_num(next, 1, INT_MAX, &v))
        c->o.bookmark_interval_ms = v;
    else if (strcmp(a, "--watch-history") == 0 && parse_num(next, 0, 1000000, &v))
        c->o.watch_history = (int)v;
    else if (strcmp(a, "--watch-history-total") == 0 && parse_num(next, 0, INT_MAX, &v))
        c->o.watch_history_total = (int)v;
    else if (strcmp(a, "--seed") == 0 && parse_num(next, 0, LLONG_MAX, &v))
        c->o.seed = (uint64_t)v;
    else if (strcmp(a, "--rbac-verbs") == 0 && next)
        c->o.rbac_verbs = next;
    else if (strcmp(a, "--fault") == 0 && next && c->n_faults < 32)
        c->faults[c->n_faults++] = next;
    else
        return false;
    return true;
}

/* One flag without a value; false when `a` is not one. */
static bool take_flag(cli *c, const char *a)
{
    if (strcmp(a, "--plain-http") == 0)
        c->o.tls = false;
    else if (strcmp(a, "--allow-anonymous") == 0)
        c->o.allow_anonymous = true;
    else if (strcmp(a, "--no-control") == 0)
        c->o.control_endpoint = false;
    else if (strcmp(a, "--verbose") == 0)
        c->o.verbose = true;
    else
        return false;
    return true;
}

/* -1: go on; otherwise the exit status (0 after --help, 2 for bad arguments). */
static int parse_args(cli *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (take_value(c, a, next))
            i++;
        else if (!take_flag(c, a)) {
            bool help = strcmp(a, "--help") == 0;
            fputs(help ? usage : "bad arguments; try --help\n", help ? stdout : stderr);
            return help ? 0 : 2;
        }
    }
    return -1;
}

/* Registers the --token and --fault values, then writes the kubeconfig. */
static int configure(ksim *sim, cli *c, char *path, size_t pathsz)
{
    int rc = 0;
    for (int i = 0; i < c->n_tokens && rc == 0; i++) {
        char buf[512];
        snprintf(buf, sizeof(buf), "%s", c->tokens[i]);
        char *user = strchr(buf, ':');
        char *flag = user ? strchr(user + 1, ':') : NULL;
        if (user)
            *user++ = '\0';
        if (flag)
            *flag++ = '\0';
        if (user == NULL || ksim_add_token(sim, buf, user, !(flag && !strcmp(flag, "forbidden"))))
            rc = 1;
    }
    for (int i = 0; i < c->n_faults && rc == 0; i++)
        if (ksim_add_fault_json(sim, c->faults[i], NULL) != 0)
            rc = 1;
    if (c->kubeconfig == NULL) {
        snprintf(path, pathsz, "%s/kubeconfig", ksim_workdir(sim));
        c->kubeconfig = path;
    }
    if (rc == 0 && ksim_write_kubeconfig(sim, c->kubeconfig, c->kind) != 0)
        rc = 1;
    return rc;
}

int main(int argc, char **argv)
{
    cli c = {.o = KSIM_OPTIONS_INIT, .kind = KSIM_KUBECONFIG_TOKEN};
    c.o.control_endpoint = true;
    int rc = parse_args(&c, argc, argv);
    if (rc >= 0)
        return rc;

    /* Block the signals before any thread exists, so only sigwait sees them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    char err[512], path[4096];
    ksim *sim = NULL;
    if (ksim_start(&sim, &c.o, err, sizeof(err)) != 0) {
        fprintf(stderr, "klease-apiserver-sim: %s\n", err);
        return 1;
    }
    if (configure(sim, &c, path, sizeof(path)) != 0) {
        fprintf(stderr, "klease-apiserver-sim: bad --token/--fault or cannot write %s\n",
                c.kubeconfig);
        ksim_stop(sim);
        return 1;
    }
    printf("port=%u\nkubeconfig=%s\n", (unsigned)ksim_port(sim), c.kubeconfig);
    fflush(stdout);

    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    ksim_stop(sim);
    return 0;
}
