/* klease's commands and flags: one table each, from which the parser, the
 * help of every command, the shell completions and the check of the man
 * page all come, so they cannot disagree. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#define C_LEASE                                                                                    \
    (CLI_C_CREATE | CLI_C_GET | CLI_C_CLAIM | CLI_C_VACATE | CLI_C_EXEC | CLI_C_LIST | CLI_C_DELETE)
#define C_CLAIMS (CLI_C_CLAIM | CLI_C_VACATE | CLI_C_EXEC)

const cli_command cli_commands[] = {
    {"create", CLI_C_CREATE, "create NAME [options]",
     "create the lease (unheld) if it does not exist",
     "Creates lease NAME, unheld, if it does not exist. Exit 0 either way."},
    {"get", CLI_C_GET, "get NAME [options]",
     "show holder, expiry, time left, transitions, resourceVersion",
     "Shows who holds lease NAME: holder, expiry (wall clock, UTC), time left\n"
     "as this process judges it, leaseTransitions and resourceVersion."},
    {"claim", CLI_C_CLAIM, "claim NAME [options]",
     "claim the lease once (or renew our claim); exit 0 if we hold it",
     "Claims lease NAME for IDENTITY once (klease_ensure_claimed): takes it if\n"
     "it is free or expired, renews it if IDENTITY holds it, and reports the\n"
     "holder otherwise. Nothing renews the claim after klease exits: run it\n"
     "again before --duration passes, or use 'klease exec'."},
    {"vacate", CLI_C_VACATE, "vacate NAME [options]", "give the lease up if IDENTITY holds it",
     "Gives lease NAME up if IDENTITY holds it (holder and times cleared,\n"
     "leaseTransitions kept). Exit 1 if IDENTITY did not hold it."},
    {"exec", CLI_C_EXEC, "exec NAME [options] -- CMD [ARGS...] | -c 'SHELL COMMAND'",
     "wait for the lease, run CMD while holding it, stop CMD if it is lost",
     "Like flock(1) for a cluster. Waits until IDENTITY holds lease NAME (renewing\n"
     "it in the background; an API server that is down or hangs is retried until\n"
     "--timeout), then runs CMD in a process group of its own, with only fds 0-2\n"
     "and KLEASE_LEASE, KLEASE_NAMESPACE, KLEASE_NAME, KLEASE_IDENTITY and\n"
     "KLEASE_FENCING_TOKEN (the lease's leaseTransitions after our acquiring\n"
     "write) in its environment. SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and\n"
     "SIGUSR2 are forwarded to the group. CMD is stopped before anyone else may\n"
     "start: if the lease is lost, or not renewed by --margin before our claim\n"
     "ends, the group gets SIGTERM, then SIGKILL after --kill-after, which lands\n"
     "before our claim ends; klease then exits 124. klease exits when every\n"
     "process of the group has exited, vacating the lease so a waiting replica\n"
     "takes over at once. If klease itself dies (even by SIGKILL), a watchdog\n"
     "kills the group at once and the lease expires. State changes are printed\n"
     "on stderr as one line each.\n"
     "\n"
     "Defaults: --duration 15s, --grace 2/3 of the duration (10s), --margin 1/3\n"
     "(5s), --kill-after 3s or what fits (margin - slack), --request-timeout\n"
     "(grace - margin) / 2 (2.5s); the slack is 1s (a tenth of --duration below\n"
     "3s). Refused (exit 2): --grace >= --duration, --margin >= --grace,\n"
     "--kill-after + slack > --margin."},
    {"list", CLI_C_LIST, "list [options]", "list the leases of a namespace (-A: of all)",
     "Lists the leases of the namespace (-A: of every namespace): holder, time left\n"
     "(judged by renewTime + leaseDurationSeconds on this machine's clock),\n"
     "leaseTransitions and age."},
    {"delete", CLI_C_DELETE, "delete NAME [options]", "delete the lease, whoever holds it",
     "Deletes lease NAME, whoever holds it (a holder's klease exec then loses it).\n"
     "Exit 5 if it does not exist."},
    {"version", 0, "version", "print the version", "Prints the version of klease."},
    {"help", 0, "help [COMMAND]", "this help, or a command's", "Prints the help of COMMAND."},
    {"completion", 0, "completion bash|zsh", "print a shell completion script",
     "Prints a completion script for bash or zsh, e.g.\n"
     "  source <(klease completion bash)"},
};
const size_t cli_ncommands = sizeof cli_commands / sizeof cli_commands[0];

const cli_flag cli_flags[] = {
    [CLI_F_KUBECONFIG] = {CLI_F_KUBECONFIG, "kubeconfig", 0, "PATH", C_LEASE,
                          "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)"},
    [CLI_F_CONTEXT] = {CLI_F_CONTEXT, "context", 0, "NAME", C_LEASE,
                       "kubeconfig context (default: current-context)"},
    [CLI_F_NAMESPACE] = {CLI_F_NAMESPACE, "namespace", 'n', "NS", C_LEASE,
                         "namespace of the lease (default: the context's, else \"default\")"},
    [CLI_F_REQUEST_TIMEOUT] =
        {CLI_F_REQUEST_TIMEOUT, "request-timeout", 0, "D", C_LEASE,
         "time limit of one API call (default 10s; exec: (grace - margin) / 2, 1s to 10s)"},
    [CLI_F_CLUSTER] = {CLI_F_CLUSTER, "cluster", 0, "NAME", C_LEASE,
                       "kubeconfig cluster to use instead of the context's"},
    [CLI_F_USER] = {CLI_F_USER, "user", 0, "NAME", C_LEASE,
                    "kubeconfig user to use instead of the context's"},
    [CLI_F_SERVER] = {CLI_F_SERVER, "server", 's', "URL", C_LEASE,
                      "API server URL, instead of the cluster's (no kubeconfig needed)"},
    [CLI_F_TOKEN] = {CLI_F_TOKEN, "token", 0, "TOKEN", C_LEASE,
                     "bearer token, instead of the user's credentials"},
    [CLI_F_CA] = {CLI_F_CA, "certificate-authority", 0, "PATH", C_LEASE,
                  "CA certificate file, instead of the cluster's"},
    [CLI_F_INSECURE] = {CLI_F_INSECURE, "insecure-skip-tls-verify", 0, NULL, C_LEASE,
                        "do not verify the server's certificate (insecure)"},
    [CLI_F_IDENTITY] = {CLI_F_IDENTITY, "identity", 0, "ID", C_CLAIMS | CLI_C_GET,
                        "who claims (default: $POD_NAME or the host name, '_', a random UUID)"},
    [CLI_F_DURATION] =
        {CLI_F_DURATION, "duration", 0, "D", CLI_C_CLAIM | CLI_C_EXEC,
         "lease duration, whole seconds, at least 1s (default: claim 30s, exec 15s)"},
    [CLI_F_GRACE] = {CLI_F_GRACE, "grace", 0, "D", CLI_C_CLAIM | CLI_C_EXEC,
                     "renew this long before expiry (default 2/3 of --duration)"},
    [CLI_F_FIELD_MANAGER] = {CLI_F_FIELD_MANAGER, "field-manager", 0, "NAME",
                             C_LEASE & ~(unsigned)(CLI_C_LIST | CLI_C_DELETE),
                             "server-side apply field manager (default \"klease\")"},
    [CLI_F_CREATE] = {CLI_F_CREATE, "create", 0, NULL, CLI_C_GET | CLI_C_CLAIM | CLI_C_EXEC,
                      "create the lease if it does not exist"},
    [CLI_F_OUTPUT] = {CLI_F_OUTPUT, "output", 'o', "FORMAT",
                      CLI_C_CREATE | CLI_C_GET | CLI_C_CLAIM | CLI_C_VACATE | CLI_C_LIST |
                          CLI_C_DELETE,
                      "text (default) or json; get also yaml or wide"},
    [CLI_F_MARGIN] =
        {CLI_F_MARGIN, "margin", 0, "D", CLI_C_EXEC,
         "stop CMD when our claim has D left and was not renewed (default 1/3 of --duration)"},
    [CLI_F_KILL_AFTER] = {CLI_F_KILL_AFTER, "kill-after", 0, "D", CLI_C_EXEC,
                          "time between SIGTERM and SIGKILL (default 3s or what fits in --margin)"},
    [CLI_F_TIMEOUT] = {CLI_F_TIMEOUT, "timeout", 0, "D", CLI_C_EXEC,
                       "give up (exit 7) if the lease is not acquired within D; 0: as --nonblock"},
    [CLI_F_NONBLOCK] = {CLI_F_NONBLOCK, "nonblock", 0, NULL, CLI_C_EXEC,
                        "try once; if the lease is held, exit at once (status 1, or -E's)"},
    [CLI_F_CONFLICT_EXIT] = {CLI_F_CONFLICT_EXIT, "conflict-exit-code", 'E', "N", CLI_C_EXEC,
                             "exit status when the lease is held (--nonblock) or --timeout passes"},
    [CLI_F_SHELL] = {CLI_F_SHELL, "command", 'c', "STRING", CLI_C_EXEC,
                     "run STRING with /bin/sh -c (as flock -c)"},
    [CLI_F_WATCH] = {CLI_F_WATCH, "watch", 'w', NULL, CLI_C_GET,
                     "after the lease, print it again on every change, until interrupted"},
    [CLI_F_ALL_NAMESPACES] = {CLI_F_ALL_NAMESPACES, "all-namespaces", 'A', NULL, CLI_C_LIST,
                              "list the leases of every namespace"},
    [CLI_F_QUIET] = {CLI_F_QUIET, "quiet", 'q', NULL, CLI_C_EXEC, "do not print state changes"},
    [CLI_F_VERBOSE] = {CLI_F_VERBOSE, "verbose", 'v', NULL, C_LEASE,
                       "log the library's messages (requests, retries) on stderr"},
    [CLI_F_HELP] = {CLI_F_HELP, "help", 'h', NULL, ~0U, "this help"},
};
const size_t cli_nflags = sizeof cli_flags / sizeof cli_flags[0];
/* Indexed by id (the designated initializers), and none missing. */
_Static_assert(sizeof cli_flags / sizeof cli_flags[0] == CLI_F_COUNT, "a flag has no entry");

const cli_command *cli_command_find(const char *name)
{
    for (size_t i = 0; i < cli_ncommands; i++)
        if (strcmp(cli_commands[i].name, name) == 0)
            return &cli_commands[i];
    return NULL;
}

/* "-n, --namespace NS" for the tables. */
static void flag_label(char *buf, size_t size, const cli_flag *f)
{
    char s[8] = "";
    if (f->short_name != 0)
        snprintf(s, sizeof s, "-%c, ", f->short_name);
    snprintf(buf, size, "%s--%s%s%s", s, f->name, f->arg ? " " : "", f->arg ? f->arg : "");
}

static const char exit_help[] =
    "Exit status:\n"
    "  0    done; for claim: the lease is held by IDENTITY\n"
    "  1    not held: claim found it held by someone else, vacate found it not ours,\n"
    "       exec --nonblock found it held (or -E's status)\n"
    "  2    usage error (bad command, flag or duration)\n"
    "  3    API error (connection, TLS, HTTP error, timeout, repeated conflicts)\n"
    "  4    configuration error (no usable kubeconfig or in-cluster configuration)\n"
    "  5    the lease does not exist (use --create)\n"
    "  6    authentication or authorization failed (HTTP 401/403, credentials)\n"
    "  7    exec --timeout passed before the lease was acquired (or -E's status)\n"
    "  exec: the command's status once it started (128+N if killed by signal N);\n"
    "  124  CMD was stopped because the lease was lost or not renewed in time;\n"
    "  126  the command could not run; 127 it was not found;\n"
    "  128+N  signal N stopped klease while it was still waiting.\n";

/* "  LABEL  text", the text wrapped at 80 columns under itself. */
static void print_wrapped(const char *label, const char *text)
{
    enum { COL = 32, WIDTH = 80 };
    int col = printf("  %-*s", COL - 3, label);
    const char *p = text;
    while (*p != '\0') {
        size_t n = strcspn(p, " ");
        if (col + 1 + (int)n > WIDTH && col > COL) {
            printf("\n%*s", COL - 1, "");
            col = COL - 1;
        }
        col += printf(" %.*s", (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
    }
    fputs("\n", stdout);
}

static void print_flags(unsigned bit)
{
    char label[64];
    fputs("Options:\n", stdout);
    for (size_t i = 0; i < cli_nflags; i++) {
        if ((cli_flags[i].commands & bit) == 0)
            continue;
        flag_label(label, sizeof label, &cli_flags[i]);
        print_wrapped(label, cli_flags[i].help);
    }
    fputs("Durations: a number with a unit, e.g. 15s, 1500ms, 2m, 1m30s, 0.5s\n"
          "(a bare number is seconds)",
          stdout);
    if ((cli_flags[CLI_F_DURATION].commands & bit) != 0)
        fputs("; --duration takes whole seconds only", stdout);
    fputs(".\n", stdout);
}

void cli_print_help(const cli_command *c)
{
    if (c == NULL) {
        fputs("usage: klease COMMAND [NAME] [options]\n\n"
              "Hold a Kubernetes coordination.k8s.io/v1 Lease as a distributed, advisory lock.\n"
              "\nCommands:\n",
              stdout);
        for (size_t i = 0; i < cli_ncommands; i++)
            printf("  %-11s %s\n", cli_commands[i].name, cli_commands[i].summary);
        fputs("\nRun 'klease help COMMAND' for a command's options. The connection flags\n"
              "(--kubeconfig, --context, --cluster, --user, -s/--server, --token,\n"
              "--certificate-authority, --insecure-skip-tls-verify, -n/--namespace,\n"
              "--request-timeout) go before or after the command, and win over the\n"
              "kubeconfig as kubectl's do.\n\n",
              stdout);
        fputs(exit_help, stdout);
        return;
    }
    printf("usage: klease %s\n\n%s\n\n", c->usage, c->about);
    if (c->bit != 0) {
        print_flags(c->bit);
        fputs("\n", stdout);
        fputs(exit_help, stdout);
    }
}

/* Every flag of command bit `bit`, space-separated, for a completion script. */
static void put_words(unsigned bit)
{
    for (size_t i = 0; i < cli_nflags; i++) {
        if ((cli_flags[i].commands & bit) == 0)
            continue;
        printf(" --%s", cli_flags[i].name);
        if (cli_flags[i].short_name != 0)
            printf(" -%c", cli_flags[i].short_name);
    }
}

static void put_commands(void)
{
    for (size_t i = 0; i < cli_ncommands; i++)
        printf(" %s", cli_commands[i].name);
}

int cli_completion(const char *shell)
{
    bool bash = shell != NULL && strcmp(shell, "bash") == 0;
    bool zsh = shell != NULL && strcmp(shell, "zsh") == 0;
    if (!bash && !zsh) {
        cli_errorf("completion: want bash or zsh (see 'klease help completion')");
        return CLI_EXIT_USAGE;
    }
    if (zsh)
        fputs("#compdef klease\n", stdout);
    fputs("# klease completion, generated by 'klease completion'.\n"
          "_klease_words() {\n"
          "    case $1 in\n",
          stdout);
    for (size_t i = 0; i < cli_ncommands; i++) {
        printf("    %s) echo '", cli_commands[i].name);
        if (strcmp(cli_commands[i].name, "help") == 0)
            put_commands();
        else if (strcmp(cli_commands[i].name, "completion") == 0)
            fputs(" bash zsh", stdout);
        else
            put_words(cli_commands[i].bit);
        fputs("' ;;\n", stdout);
    }
    fputs("    *) echo '", stdout);
    put_commands();
    put_words(~0U & ~(unsigned)(CLI_C_CREATE | CLI_C_GET | CLI_C_CLAIM | CLI_C_VACATE));
    fputs("' ;;\n    esac\n}\n", stdout);
    /* The command is the first word that names one, wherever the flags are. */
    fputs("_klease_command() {\n"
          "    local w\n"
          "    for w in \"$@\"; do\n"
          "        case \" $(_klease_words '') \" in *\" $w \"*) case $w in -*) ;; *) echo \"$w\"; "
          "return ;; esac ;; esac\n"
          "    done\n"
          "}\n",
          stdout);
    if (bash) {
        fputs("_klease() {\n"
              "    local cur=${COMP_WORDS[COMP_CWORD]}\n"
              "    local cmd=$(_klease_command \"${COMP_WORDS[@]:1:COMP_CWORD-1}\")\n"
              "    COMPREPLY=($(compgen -W \"$(_klease_words \"$cmd\")\" -- \"$cur\"))\n"
              "}\n"
              "complete -F _klease klease\n",
              stdout);
    } else {
        fputs(
            "_klease() {\n"
            "    local cmd=$(_klease_command \"${(@)words[2,CURRENT-1]}\")\n"
            "    compadd -- ${=$(_klease_words \"$cmd\")}\n"
            "}\n"
            "if [ \"$funcstack[1]\" = _klease ]; then _klease \"$@\"; else compdef _klease klease; "
            "fi\n",
            stdout);
    }
    return CLI_EXIT_OK;
}
