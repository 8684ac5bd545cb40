/* klease's command line, in named steps: find the command wherever the
 * global flags put it (as kubectl does), collect the flags the table in
 * flags.c knows, turn their values into cli_opts, check the command's shape,
 * then fill the defaults that depend on each other. Every usage error is one
 * line on stderr and exit status 2, so scripts can tell a typo from a lease
 * held elsewhere. */
#include "cli.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What step 2 found, before any value is interpreted. */
typedef struct raw_args {
    const char *value[CLI_F_COUNT];
    int count[CLI_F_COUNT];
    const cli_flag *foreign; /* the first flag that does not apply to the command */
} raw_args;

static int usage_error(const cli_command *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One line on stderr, pointing at the right help, and exit status 2. */
static int usage_error(const cli_command *c, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (c != NULL && c->bit != 0)
        fprintf(stderr, "klease: %s (see 'klease %s --help')\n", line, c->name);
    else
        fprintf(stderr, "klease: %s (see 'klease --help')\n", line);
    return CLI_EXIT_USAGE;
}

/* Parses a duration such as 15s, 1500ms, 2m, 1m30s, 0.5s or 10 (seconds) into
 * milliseconds. Rejects empty strings, signs, unknown units and overflow. */
bool cli_parse_duration(const char *s, int64_t *out_ms)
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

/* The flag `arg` names ("--name", "--name=v", "-x", "-xv"), or NULL; sets
 * *inline_value to the value written in the same word, if any. */
static const cli_flag *lookup_flag(const char *arg, const char **inline_value)
{
    *inline_value = NULL;
    for (size_t i = 0; i < cli_nflags; i++) {
        const cli_flag *f = &cli_flags[i];
        if (arg[1] == '-') {
            size_t n = strlen(f->name);
            if (strncmp(arg + 2, f->name, n) != 0)
                continue;
            if (arg[2 + n] == '\0')
                return f;
            if (arg[2 + n] == '=' && f->arg != NULL) {
                *inline_value = arg + 3 + n;
                return f;
            }
        } else if (f->short_name != 0 && arg[1] == f->short_name) {
            if (arg[2] == '\0')
                return f;
            if (f->arg != NULL) {
                *inline_value = arg[2] == '=' ? arg + 3 : arg + 2;
                return f;
            }
        }
    }
    return NULL;
}

static bool is_flag(const char *a)
{
    return a[0] == '-' && a[1] != '\0';
}

/* Step 1: the index of the command word: the first word that is neither a
 * flag nor a flag's value, before any "--". 0 when there is none. */
static int find_command(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (!is_flag(argv[i]))
            return i;
        const cli_flag *f = lookup_flag(argv[i], &v);
        if (f != NULL && f->arg != NULL && v == NULL)
            i++;
    }
    return 0;
}

/* Step 2: every word but the command: flags into `raw`, the first other word
 * as NAME, what follows "--" as CMD. */
static int collect(int argc, char **argv, int cmd_i, const cli_command *c, cli_opts *o,
                   raw_args *raw)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (i == cmd_i)
            continue;
        if (strcmp(a, "--") == 0) {
            o->cmd = &argv[i + 1];
            o->cmd_argc = argc - i - 1;
            break;
        }
        if (!is_flag(a)) {
            if (o->name != NULL)
                return usage_error(c, "unexpected argument '%s'", a);
            o->name = a;
            continue;
        }
        const cli_flag *f = lookup_flag(a, &v);
        if (f == NULL)
            return usage_error(c, "unknown option '%s'", a);
        if (f->arg != NULL && v == NULL) {
            if (i + 1 >= argc)
                return usage_error(c, "option --%s needs a value", f->name);
            v = argv[++i];
        }
        if (c != NULL && (f->commands & c->bit) == 0 && raw->foreign == NULL)
            raw->foreign = f;
        raw->value[f->id] = v;
        raw->count[f->id]++;
    }
    return -1;
}

/* --conflict-exit-code: a whole number 0 to 255. */
static bool parse_status(const char *s, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 255 || s[0] == '+')
        return false;
    *out = (int)v;
    return true;
}

/* Step 3: the values, checked one by one. */
static int apply_values(const cli_command *c, const raw_args *raw, cli_opts *o)
{
    static const struct {
        cli_flag_id id;
        size_t offset;
    } durations[] = {
        {CLI_F_DURATION, offsetof(cli_opts, duration_ms)},
        {CLI_F_GRACE, offsetof(cli_opts, grace_ms)},
        {CLI_F_KILL_AFTER, offsetof(cli_opts, kill_after_ms)},
        {CLI_F_MARGIN, offsetof(cli_opts, margin_ms)},
        {CLI_F_TIMEOUT, offsetof(cli_opts, timeout_ms)},
        {CLI_F_REQUEST_TIMEOUT, offsetof(cli_opts, request_timeout_ms)},
    };
    for (size_t k = 0; k < sizeof durations / sizeof durations[0]; k++) {
        const char *text = raw->value[durations[k].id];
        int64_t *dest = (int64_t *)(void *)((char *)o + durations[k].offset);
        if (text != NULL && !cli_parse_duration(text, dest))
            return usage_error(c, "--%s: bad duration '%s' (e.g. 15s, 1500ms, 2m)",
                               cli_flags[durations[k].id].name, text);
    }
    /* The Lease has leaseDurationSeconds, an integer: rather than round a
     * fraction one way or the other behind the user's back, refuse it. */
    if (o->duration_ms >= 0 && o->duration_ms % 1000 != 0)
        return usage_error(c,
                           "--duration must be whole seconds ('%s'): the lease stores "
                           "leaseDurationSeconds, an integer",
                           raw->value[CLI_F_DURATION]);
    const char *out = raw->value[CLI_F_OUTPUT];
    bool get = c->bit == CLI_C_GET;
    if (out != NULL && strcmp(out, "json") == 0)
        o->output = CLI_OUTPUT_JSON;
    else if (get && out != NULL && strcmp(out, "yaml") == 0)
        o->output = CLI_OUTPUT_YAML;
    else if (get && out != NULL && strcmp(out, "wide") == 0)
        o->output = CLI_OUTPUT_WIDE;
    else if (out != NULL && strcmp(out, "text") != 0)
        return usage_error(c, "--output must be text or json%s, not '%s'",
                           get ? ", yaml or wide" : "", out);
    const char *e = raw->value[CLI_F_CONFLICT_EXIT];
    if (e != NULL && !parse_status(e, &o->conflict_exit))
        return usage_error(c, "--conflict-exit-code must be 0 to 255, not '%s'", e);
    o->kubeconfig = raw->value[CLI_F_KUBECONFIG];
    o->context = raw->value[CLI_F_CONTEXT];
    o->cluster = raw->value[CLI_F_CLUSTER];
    o->user = raw->value[CLI_F_USER];
    o->server = raw->value[CLI_F_SERVER];
    o->token = raw->value[CLI_F_TOKEN];
    o->certificate_authority = raw->value[CLI_F_CA];
    o->insecure_skip_tls_verify = raw->count[CLI_F_INSECURE] > 0;
    o->ns = raw->value[CLI_F_NAMESPACE];
    o->field_manager = raw->value[CLI_F_FIELD_MANAGER];
    o->create = raw->count[CLI_F_CREATE] > 0;
    o->quiet = raw->count[CLI_F_QUIET] > 0;
    o->watch = raw->count[CLI_F_WATCH] > 0;
    o->all_namespaces = raw->count[CLI_F_ALL_NAMESPACES] > 0;
    o->nonblock = raw->count[CLI_F_NONBLOCK] > 0 || o->timeout_ms == 0;
    o->verbose = raw->count[CLI_F_VERBOSE];
    return -1;
}

/* Step 4: NAME and CMD as the command wants them. */
static int check_shape(const cli_command *c, const raw_args *raw, cli_opts *o)
{
    bool is_exec = c->bit == CLI_C_EXEC;
    if (c->bit == CLI_C_LIST && o->name != NULL)
        return usage_error(c, "list: unexpected argument '%s' (list takes no NAME)", o->name);
    if (c->bit != CLI_C_LIST && (o->name == NULL || o->name[0] == '\0'))
        return usage_error(c, "%s: missing lease NAME", c->name);
    const char *shell = raw->value[CLI_F_SHELL];
    if (shell != NULL && o->cmd != NULL)
        return usage_error(c, "%s", "exec: give either -c 'SHELL COMMAND' or '-- CMD', not both");
    if (shell != NULL) {
        o->shell_argv[0] = (char *)"/bin/sh";
        o->shell_argv[1] = (char *)"-c";
        o->shell_argv[2] = (char *)shell;
        o->shell_argv[3] = NULL;
        o->cmd = o->shell_argv;
        o->cmd_argc = 3;
    }
    if (is_exec && (o->cmd == NULL || o->cmd_argc == 0))
        return usage_error(c, "%s", "exec: missing '-- CMD [ARGS...]' or -c 'SHELL COMMAND'");
    if (!is_exec && o->cmd != NULL)
        return usage_error(c, "%s: does not run a command ('--' is for exec)", c->name);
    return -1;
}

/* Step 5: defaults that depend on each other, the checks between flags,
 * and the identity. */
static int fill_defaults(const cli_command *c, const char *identity, cli_opts *o)
{
    if (c->bit == CLI_C_EXEC) {
        char why[400];
        if (!cli_exec_plan(o, why, sizeof why))
            return usage_error(c, "exec: %s", why);
    } else {
        /* The same rule as exec's, so `--duration 1s` works everywhere. */
        if (o->duration_ms < 0)
            o->duration_ms = 30000;
        if (o->grace_ms < 0)
            o->grace_ms = o->duration_ms * 2 / 3;
        if (o->request_timeout_ms < 0)
            o->request_timeout_ms = 10000;
    }
    /* The library checks these too; checking here makes them usage errors. */
    if (o->duration_ms < 1000)
        return usage_error(c, "%s", "--duration must be at least 1s");
    if (o->grace_ms >= o->duration_ms)
        return usage_error(c, "%s", "--grace must be less than --duration");
    if (o->request_timeout_ms <= 0)
        return usage_error(c, "%s", "--request-timeout must be more than 0");
    if (identity != NULL) {
        size_t n = strlen(identity);
        if (n == 0 || n > KLEASE_IDENTITY_MAX)
            return usage_error(c, "%s", "--identity must be 1 to 253 bytes");
        memcpy(o->identity, identity, n + 1);
        return -1;
    }
    klease_error err;
    klease_status st = klease_default_identity(o->identity, sizeof o->identity, &err);
    if (st != KLEASE_OK) {
        cli_report("default identity (use --identity)", st, &err);
        return CLI_EXIT_CONFIG;
    }
    return -1;
}

/* The commands that are not about a lease: help, version, completion. */
static int run_meta(const cli_command *c, const cli_opts *o)
{
    if (strcmp(c->name, "version") == 0) {
        printf("klease %s\n", klease_version());
        return CLI_EXIT_OK;
    }
    if (strcmp(c->name, "completion") == 0)
        return cli_completion(o->name);
    const cli_command *about = o->name != NULL ? cli_command_find(o->name) : NULL;
    if (o->name != NULL && about == NULL)
        return usage_error(NULL, "help: unknown command '%s'", o->name);
    cli_print_help(about);
    return CLI_EXIT_OK;
}

int cli_parse(int argc, char **argv, cli_opts *o)
{
    raw_args raw;
    memset(&raw, 0, sizeof raw);
    int cmd_i = find_command(argc, argv);
    const cli_command *c = cmd_i > 0 ? cli_command_find(argv[cmd_i]) : NULL;
    if (cmd_i > 0 && c == NULL)
        return usage_error(NULL, "unknown command '%s'", argv[cmd_i]);
    int rc = collect(argc, argv, cmd_i, c, o, &raw);
    if (rc >= 0)
        return rc;
    if (raw.count[CLI_F_HELP] > 0) {
        cli_print_help(c);
        return CLI_EXIT_OK;
    }
    if (c == NULL)
        return usage_error(NULL, "%s", "missing command");
    o->command = c->name;
    if (raw.foreign != NULL)
        return usage_error(c, "%s: --%s does not apply to %s", c->name, raw.foreign->name, c->name);
    if (c->bit == 0)
        return run_meta(c, o);
    if ((rc = apply_values(c, &raw, o)) >= 0 || (rc = check_shape(c, &raw, o)) >= 0)
        return rc;
    return fill_defaults(c, raw.value[CLI_F_IDENTITY], o);
}
