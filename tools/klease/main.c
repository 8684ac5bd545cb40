/* klease: the command line. Parses the arguments, then hands over to one
 * command (commands.c, exec.c). Every usage error is one line on stderr and
 * exit status 2, so scripts can tell a typo from a lease held elsewhere. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char common_help[] =
    "Options:\n"
    "  --kubeconfig PATH     kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)\n"
    "  --context NAME        kubeconfig context (default: current-context)\n"
    "  -n, --namespace NS    namespace of the lease (default: the context's, else \"default\")\n"
    "  --identity ID         who claims (default: $POD_NAME or the host name, '_', a random UUID)\n"
    "  --duration D          lease duration when claiming (default 30s, exec 15s; at least 1s)\n"
    "  --grace D             renew this long before expiry (default 1s, exec 2/3 of --duration;\n"
    "                        less than --duration)\n"
    "  --field-manager NAME  server-side apply field manager (default \"klease\")\n"
    "  --create              create the lease if it does not exist\n"
    "  --request-timeout D   time limit of one API call (default 10s; exec: half of\n"
    "                        --grace minus --margin, 1s to 10s)\n"
    "  -o, --output FORMAT   text (default) or json\n"
    "  -v, --verbose         log the library's messages (requests, retries) on stderr\n"
    "  -h, --help            this help\n"
    "Durations: a number with a unit, e.g. 15s, 1500ms, 2m, 1m30s, 0.5s\n"
    "(a bare number is seconds).\n";

static const char exit_help[] =
    "Exit status:\n"
    "  0  done; for claim: the lease is held by IDENTITY\n"
    "  1  not held: claim found it held by someone else, vacate found it not ours\n"
    "  2  usage error (bad command, flag or duration)\n"
    "  3  API error (connection, TLS, HTTP error, timeout, repeated conflicts)\n"
    "  4  configuration error (no usable kubeconfig or in-cluster configuration)\n"
    "  5  the lease does not exist (use --create)\n"
    "  6  authentication or authorization failed (HTTP 401/403, credentials)\n"
    "  7  exec --timeout passed before the lease was acquired\n"
    "  exec: the command's status once it started (128+N if killed by signal N);\n"
    "        126 the command could not run, 127 it was not found;\n"
    "        128+N when signal N stopped klease while it was still waiting.\n";

static const char main_help[] =
    "usage: klease COMMAND NAME [options]\n"
    "       klease exec NAME [options] -- CMD [ARGS...]\n"
    "\n"
    "Hold a Kubernetes coordination.k8s.io/v1 Lease as a distributed, advisory lock.\n"
    "\n"
    "Commands:\n"
    "  create NAME   create the lease (unheld) if it does not exist\n"
    "  get NAME      show holder, expiry, time left, transitions, resourceVersion\n"
    "  claim NAME    claim the lease once (or renew our claim); exit 0 if we hold it\n"
    "  vacate NAME   give the lease up if IDENTITY holds it\n"
    "  exec NAME -- CMD [ARGS...]\n"
    "                wait for the lease, run CMD while holding it, stop CMD if it is lost\n"
    "  version       print the version\n"
    "\n"
    "Run 'klease COMMAND --help' for a command's options.\n"
    "\n";

static const char exec_help[] =
    "usage: klease exec NAME [options] -- CMD [ARGS...]\n"
    "\n"
    "Like flock(1) for a cluster. Waits until IDENTITY holds lease NAME (renewing it in\n"
    "the background), then runs CMD in a process group of its own, with only fds 0-2.\n"
    "SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are forwarded to the group.\n"
    "CMD is stopped before anyone else may start: if the lease is lost, or not renewed\n"
    "by --margin before our claim ends, the group gets SIGTERM, then SIGKILL after\n"
    "--kill-after, which lands at least 1s before our claim ends. klease exits when\n"
    "every process of the group has exited, vacating the lease so a waiting replica\n"
    "takes over at once, with CMD's status. If klease itself dies (even by SIGKILL), a\n"
    "watchdog kills the group at once and the lease expires. State changes are printed\n"
    "on stderr as one line each.\n"
    "\n"
    "Exec defaults: --duration 15s, --grace 2/3 of the duration (10s), --margin 1/3\n"
    "(5s), --kill-after 3s or what fits (margin - 1s), --request-timeout (grace -\n"
    "margin) / 2 (2.5s). Refused (exit 2): --grace >= --duration, --margin >= --grace,\n"
    "--kill-after + 1s > --margin.\n"
    "\n"
    "Exec options:\n"
    "  --margin D            stop CMD when our claim has D left and was not renewed\n"
    "                        (default 1/3 of --duration; 0: stop only when the claim has\n"
    "                        ended, which cannot keep CMD from overlapping the next one)\n"
    "  --kill-after D        time between SIGTERM and SIGKILL (default 3s, at most\n"
    "                        --margin - 1s; 0: SIGKILL at once)\n"
    "  --timeout D           give up (exit 7) if the lease is not acquired within D\n"
    "  -q, --quiet           do not print state changes\n";

static void print_help(const char *command)
{
    if (command == NULL) {
        fputs(main_help, stdout);
        fputs(exit_help, stdout);
        return;
    }
    if (strcmp(command, "exec") == 0) {
        fputs(exec_help, stdout);
    } else {
        static const struct {
            const char *name, *text;
        } about[] = {
            {"create", "Creates lease NAME, unheld, if it does not exist. Exit 0 either way."},
            {"get", "Shows who holds lease NAME: holder, expiry (wall clock, UTC), time left\n"
                    "as this process judges it, leaseTransitions and resourceVersion."},
            {"claim", "Claims lease NAME for IDENTITY once (klease_ensure_claimed): takes it if\n"
                      "it is free or expired, renews it if IDENTITY holds it, and reports the\n"
                      "holder otherwise. Nothing renews the claim after klease exits: run it\n"
                      "again before --duration passes, or use 'klease exec'."},
            {"vacate", "Gives lease NAME up if IDENTITY holds it (holder and times cleared,\n"
                       "leaseTransitions kept). Exit 1 if IDENTITY did not hold it."},
        };
        for (size_t i = 0; i < sizeof about / sizeof about[0]; i++)
            if (strcmp(about[i].name, command) == 0)
                printf("usage: klease %s NAME [options]\n\n%s\n\n", command, about[i].text);
    }
    fputs(common_help, stdout);
    fputs("\n", stdout);
    fputs(exit_help, stdout);
}

/* Parses a duration such as 15s, 1500ms, 2m, 1m30s, 0.5s or 10 (seconds) into
 * milliseconds. Rejects empty strings, signs, unknown units and overflow. */
static bool parse_duration(const char *s, int64_t *out_ms)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    const int64_t limit = (int64_t)100 * 365 * 24 * 3600000; /* a century is enough */
    int64_t total = 0;
    const char *p = s;

    if (s == NULL || *s == '\0')
        return false;
    while (*p != '\0') {
        if (*p < '0' || *p > '9')
            return false;
        char *end = NULL;
        errno = 0;
        long long whole = strtoll(p, &end, 10);
        if (errno != 0 || end == p || whole > limit)
            return false;
        p = end;
        /* Up to three fractional digits: finer than a millisecond means nothing here. */
        int64_t frac_num = 0, frac_den = 1;
        if (*p == '.') {
            p++;
            if (*p < '0' || *p > '9')
                return false;
            while (*p >= '0' && *p <= '9') {
                if (frac_den < 1000) {
                    frac_num = frac_num * 10 + (*p - '0');
                    frac_den *= 10;
                }
                p++;
            }
        }
        int64_t unit_ms = -1;
        size_t unit_len = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t n = strlen(units[i].unit);
            if (strncmp(p, units[i].unit, n) == 0 && n > unit_len) {
                unit_ms = units[i].ms;
                unit_len = n;
            }
        }
        if (unit_ms < 0) {
            /* A bare number is seconds, but only on its own ("1m30" is a typo). */
            if (*p != '\0' || total != 0)
                return false;
            unit_ms = 1000;
        }
        p += unit_len;
        if (whole > limit / unit_ms)
            return false;
        total += whole * unit_ms + frac_num * unit_ms / frac_den;
        if (total > limit)
            return false;
    }
    *out_ms = total;
    return true;
}

/* Options that take a value: --name VALUE or --name=VALUE. Returns the value,
 * advancing *i, or NULL when `arg` is not this option. Sets *missing when the
 * option is there but its value is not. */
static const char *take_value(int argc, char **argv, int *i, const char *long_name,
                              const char *short_name, bool *missing)
{
    const char *arg = argv[*i];
    size_t n = strlen(long_name);
    if (strncmp(arg, long_name, n) == 0 && arg[n] == '=')
        return arg + n + 1;
    if (strcmp(arg, long_name) == 0 || (short_name != NULL && strcmp(arg, short_name) == 0)) {
        if (*i + 1 >= argc) {
            *missing = true;
            return NULL;
        }
        return argv[++*i];
    }
    return NULL;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr and exit status 2. */
static int usage_error(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "klease: %s (try 'klease --help')\n", line);
    return CLI_EXIT_USAGE;
}

static bool is_command(const char *s)
{
    static const char *const commands[] = {"create", "get", "claim", "vacate", "exec"};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(s, commands[i]) == 0)
            return true;
    return false;
}

/* Fills `o` from argv. Returns -1 to go on, else the exit code (help, errors). */
static int parse_args(int argc, char **argv, cli_opts *o)
{
    const char *identity = NULL;
    const char *duration = NULL, *grace = NULL, *kill_after = NULL, *timeout = NULL;
    const char *margin = NULL;
    const char *request_timeout = NULL;
    bool help = false;

    if (argc < 2)
        return usage_error("%s", "missing command");
    const char *first = argv[1];
    if (strcmp(first, "-h") == 0 || strcmp(first, "--help") == 0 || strcmp(first, "help") == 0) {
        print_help(argc > 2 && is_command(argv[2]) ? argv[2] : NULL);
        return CLI_EXIT_OK;
    }
    if (strcmp(first, "version") == 0 || strcmp(first, "--version") == 0) {
        printf("klease %s\n", klease_version());
        return CLI_EXIT_OK;
    }
    if (!is_command(first))
        return usage_error("unknown command '%s'", first);
    o->command = first;

    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v;
        bool missing = false;
        if (strcmp(a, "--") == 0) {
            o->cmd = &argv[i + 1];
            o->cmd_argc = argc - i - 1;
            break;
        }
#define VALUE(long_name, short_name, dest)                                                         \
    if ((v = take_value(argc, argv, &i, long_name, short_name, &missing)) != NULL) {               \
        dest = v;                                                                                  \
        continue;                                                                                  \
    }                                                                                              \
    if (missing)                                                                                   \
        return usage_error("option %s needs a value", long_name);
        VALUE("--kubeconfig", NULL, o->kubeconfig)
        VALUE("--context", NULL, o->context)
        VALUE("--namespace", "-n", o->ns)
        VALUE("--identity", NULL, identity)
        VALUE("--duration", NULL, duration)
        VALUE("--grace", NULL, grace)
        VALUE("--field-manager", NULL, o->field_manager)
        VALUE("--request-timeout", NULL, request_timeout)
        VALUE("--kill-after", NULL, kill_after)
        VALUE("--margin", NULL, margin)
        VALUE("--timeout", NULL, timeout)
        if ((v = take_value(argc, argv, &i, "--output", "-o", &missing)) != NULL) {
            if (strcmp(v, "text") == 0)
                o->output = CLI_OUTPUT_TEXT;
            else if (strcmp(v, "json") == 0)
                o->output = CLI_OUTPUT_JSON;
            else
                return usage_error("--output must be text or json, not '%s'", v);
            continue;
        }
        if (missing)
            return usage_error("option %s needs a value", "--output");
#undef VALUE
        if (strcmp(a, "--create") == 0)
            o->create = true;
        else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
            o->quiet = true;
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
            o->verbose++;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            help = true;
        else if (a[0] == '-' && a[1] != '\0')
            return usage_error("unknown option '%s'", a);
        else if (o->name == NULL)
            o->name = a;
        else
            return usage_error("unexpected argument '%s'", a);
    }
    if (help) {
        print_help(o->command);
        return CLI_EXIT_OK;
    }

    bool is_exec = strcmp(o->command, "exec") == 0;
    if (o->name == NULL || o->name[0] == '\0')
        return usage_error("%s: missing lease NAME", o->command);
    if (is_exec && (o->cmd == NULL || o->cmd_argc == 0))
        return usage_error("%s", "exec: missing '-- CMD [ARGS...]'");
    if (!is_exec && o->cmd != NULL)
        return usage_error("%s: does not run a command ('--' is for exec)", o->command);
    if (!is_exec && (kill_after != NULL || margin != NULL || timeout != NULL || o->quiet))
        return usage_error("%s: --kill-after, --margin, --timeout and --quiet are for exec",
                           o->command);

    struct {
        const char *flag, *text;
        int64_t *dest;
    } durations[] = {
        {"--duration", duration, &o->duration_ms},
        {"--grace", grace, &o->grace_ms},
        {"--kill-after", kill_after, &o->kill_after_ms},
        {"--margin", margin, &o->margin_ms},
        {"--timeout", timeout, &o->timeout_ms},
        {"--request-timeout", request_timeout, &o->request_timeout_ms},
    };
    for (size_t k = 0; k < sizeof durations / sizeof durations[0]; k++) {
        if (durations[k].text == NULL)
            continue;
        if (!parse_duration(durations[k].text, durations[k].dest)) {
            fprintf(stderr, "klease: %s: bad duration '%s' (e.g. 15s, 1500ms, 2m)\n",
                    durations[k].flag, durations[k].text);
            return CLI_EXIT_USAGE;
        }
    }
    /* Durations not given are still -1: exec's defaults depend on each other. */
    if (is_exec) {
        char why[400];
        if (!cli_exec_plan(o, why, sizeof why))
            return usage_error("exec: %s", why);
    } else {
        if (o->duration_ms < 0)
            o->duration_ms = 30000;
        if (o->grace_ms < 0)
            o->grace_ms = 1000;
        if (o->request_timeout_ms < 0)
            o->request_timeout_ms = 10000;
    }
    /* The library checks these too; checking here makes them usage errors. */
    if (o->duration_ms < 1000)
        return usage_error("%s", "--duration must be at least 1s");
    if (o->grace_ms >= o->duration_ms)
        return usage_error("%s", "--grace must be less than --duration");
    if (o->request_timeout_ms <= 0)
        return usage_error("%s", "--request-timeout must be more than 0");

    if (identity != NULL) {
        size_t n = strlen(identity);
        if (n == 0 || n > KLEASE_IDENTITY_MAX)
            return usage_error("%s", "--identity must be 1 to 253 bytes");
        memcpy(o->identity, identity, n + 1);
    } else {
        klease_error err;
        klease_status st = klease_default_identity(o->identity, sizeof o->identity, &err);
        if (st != KLEASE_OK) {
            cli_report("default identity (use --identity)", st, &err);
            return CLI_EXIT_CONFIG;
        }
    }
    return -1;
}

int main(int argc, char **argv)
{
    cli_opts o = {0};
    /* -1: not given; filled in by parse_args (exec's defaults differ). */
    o.duration_ms = -1;
    o.grace_ms = -1;
    o.kill_after_ms = -1;
    o.margin_ms = -1;
    o.timeout_ms = -1;
    o.request_timeout_ms = -1;
    o.output = CLI_OUTPUT_TEXT;

    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (strcmp(o.command, "create") == 0)
        return cli_cmd_create(&o);
    if (strcmp(o.command, "get") == 0)
        return cli_cmd_get(&o);
    if (strcmp(o.command, "claim") == 0)
        return cli_cmd_claim(&o);
    if (strcmp(o.command, "vacate") == 0)
        return cli_cmd_vacate(&o);
    return cli_cmd_exec(&o);
}
