/* The klease command-line tool: what its files share. The tool uses only the
 * public API of libklease (klease/klease.h). */
#ifndef KLEASE_TOOL_CLI_H
#define KLEASE_TOOL_CLI_H

#include "klease/klease.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit codes (also in --help and docs/klease.md). `exec` exits with its
 * command's status once the command has started. */
enum {
    CLI_EXIT_OK = 0,        /* held by us / done */
    CLI_EXIT_NOT_HELD = 1,  /* someone else holds it, or we did not hold it */
    CLI_EXIT_USAGE = 2,     /* bad command line */
    CLI_EXIT_API = 3,       /* the API call failed (network, TLS, HTTP, timeout, conflict) */
    CLI_EXIT_CONFIG = 4,    /* no usable kubeconfig / in-cluster configuration */
    CLI_EXIT_NOT_FOUND = 5, /* the lease does not exist (and --create was not given) */
    CLI_EXIT_AUTH = 6,      /* credentials rejected (HTTP 401/403) or unobtainable */
    CLI_EXIT_TIMEOUT = 7,   /* exec --timeout passed before the lease was acquired */
    CLI_EXIT_LOST = 124,    /* exec: CMD was stopped because the lease was lost (timeout(1)'s) */
    CLI_EXIT_CANNOT_EXEC = 126, /* exec: the command exists but could not run */
    CLI_EXIT_NO_COMMAND = 127,  /* exec: the command was not found */
};

typedef enum cli_output {
    CLI_OUTPUT_TEXT,
    CLI_OUTPUT_JSON,
    CLI_OUTPUT_YAML, /* get only */
    CLI_OUTPUT_WIDE  /* get only: a table row, as kubectl's */
} cli_output;

/* Everything the command line says. Strings point into argv. */
typedef struct cli_opts {
    const char *command; /* "create", "get", "claim", "vacate", "exec" */
    const char *name;    /* the lease */
    const char *kubeconfig;
    const char *context;
    const char *cluster; /* kubectl's connection overrides */
    const char *user;
    const char *server;
    const char *token;
    const char *certificate_authority;
    bool insecure_skip_tls_verify;
    const char *ns;
    const char *field_manager;
    char identity[KLEASE_IDENTITY_MAX + 1];
    int64_t duration_ms;
    int64_t grace_ms;
    int64_t kill_after_ms; /* exec: SIGTERM to SIGKILL (see exec_plan.c); -1 until defaulted */
    int64_t margin_ms;     /* exec: stop CMD this long before our claim's deadline */
    int64_t timeout_ms;    /* exec: give up waiting after this; < 0: wait forever */
    int64_t request_timeout_ms;
    int conflict_exit; /* exec: status when the lease is held; -1: 1 (--nonblock) or 7 */
    bool nonblock;     /* exec: try once (--nonblock, --timeout 0) */
    bool create;
    bool watch;          /* get: a line per change, until interrupted */
    bool all_namespaces; /* list -A */
    bool quiet;
    int verbose; /* > 0: the library's log, debug and up, on stderr */
    cli_output output;
    char **cmd; /* exec: the command and its arguments, NULL-terminated */
    int cmd_argc;
    char *shell_argv[4]; /* exec -c: /bin/sh -c STRING */
} cli_opts;

/* flags.c: the commands and flags, the one source of the parser, the help,
 * the completions and (checked by a test) the man page. */
enum {
    CLI_C_CREATE = 1 << 0,
    CLI_C_GET = 1 << 1,
    CLI_C_CLAIM = 1 << 2,
    CLI_C_VACATE = 1 << 3,
    CLI_C_EXEC = 1 << 4,
    CLI_C_LIST = 1 << 5,
    CLI_C_DELETE = 1 << 6,
};
typedef struct cli_command {
    const char *name;
    unsigned bit; /* 0: not a lease command (help, version, completion) */
    const char *usage, *summary, *about;
} cli_command;
typedef enum cli_flag_id {
    CLI_F_KUBECONFIG,
    CLI_F_CONTEXT,
    CLI_F_NAMESPACE,
    CLI_F_REQUEST_TIMEOUT,
    CLI_F_CLUSTER,
    CLI_F_USER,
    CLI_F_SERVER,
    CLI_F_TOKEN,
    CLI_F_CA,
    CLI_F_INSECURE,
    CLI_F_IDENTITY,
    CLI_F_DURATION,
    CLI_F_GRACE,
    CLI_F_FIELD_MANAGER,
    CLI_F_CREATE,
    CLI_F_OUTPUT,
    CLI_F_MARGIN,
    CLI_F_KILL_AFTER,
    CLI_F_TIMEOUT,
    CLI_F_NONBLOCK,
    CLI_F_CONFLICT_EXIT,
    CLI_F_SHELL,
    CLI_F_WATCH,
    CLI_F_ALL_NAMESPACES,
    CLI_F_QUIET,
    CLI_F_VERBOSE,
    CLI_F_HELP,
    CLI_F_COUNT
} cli_flag_id;
typedef struct cli_flag {
    cli_flag_id id; /* its index in cli_flags */
    const char *name;
    char short_name; /* 0: none */
    const char *arg; /* the value's placeholder; NULL: a switch */
    unsigned commands;
    const char *help;
} cli_flag;
extern const cli_command cli_commands[];
extern const size_t cli_ncommands;
extern const cli_flag cli_flags[];
extern const size_t cli_nflags;
const cli_command *cli_command_find(const char *name);
/* The help of one command, or of klease (NULL), on stdout. */
void cli_print_help(const cli_command *c);
/* `klease completion SHELL`. */
int cli_completion(const char *shell);

/* parse.c: fills `o` from argv. Returns -1 to go on, else the exit code. */
int cli_parse(int argc, char **argv, cli_opts *o);
/* 15s, 1500ms, 2m, 1m30s, 0.5s or 10 (seconds) into ms. */
bool cli_parse_duration(const char *s, int64_t *out_ms);

/* A lease session: the client and manager every command starts with. */
typedef struct cli_session {
    klease_client *client;
    klease_manager *manager;
    char ns[256]; /* the namespace actually used */
} cli_session;

/* commands.c */
int cli_cmd_create(const cli_opts *o);
int cli_cmd_get(const cli_opts *o);
int cli_cmd_claim(const cli_opts *o);
int cli_cmd_vacate(const cli_opts *o);
/* Opens the client and the manager; on failure prints why and returns an exit code. */
int cli_session_open(cli_session *s, const cli_opts *o, bool create_if_missing);
/* As cli_session_open, but an error that may pass (down, hung or busy
 * server) is left in *st and *err, unreported, and -1 is returned, so the
 * caller can wait it out. */
int cli_session_try(cli_session *s, const cli_opts *o, bool create_if_missing, klease_status *st,
                    klease_error *err);
void cli_session_close(cli_session *s);
/* The exit code for a library status. */
int cli_exit_for(klease_status st);

/* list.c */
int cli_cmd_list(const cli_opts *o);
int cli_cmd_delete(const cli_opts *o);
/* A client as the command line says; on failure prints why and returns an exit code. */
int cli_client_open(klease_client **out, const cli_opts *o);

/* exec.c */
int cli_cmd_exec(const cli_opts *o);

/* exec_plan.c: the stop schedule. Room left between SIGKILL and our claim's
 * deadline for the kill to land and the kernel to reap the group. */
#define CLI_EXEC_SAFETY_SLACK_MS 1000
/* That slack for this duration: 1 s, or a tenth of --duration if less. */
int64_t cli_exec_slack_ms(const cli_opts *o);
/* Fills exec's defaults for the durations still < 0 (duration, grace,
 * margin, kill-after, request timeout) and checks that the schedule can keep
 * its promise; false with the reason in `why` when it cannot. */
bool cli_exec_plan(cli_opts *o, char *why, size_t size);
/* When CMD gets SIGTERM for a claim ending at deadline_ns (monotonic). */
int64_t cli_exec_term_at(const cli_opts *o, int64_t deadline_ns);
/* When CMD gets SIGKILL after a stop begun at term_ns (deadline_ns: our
 * claim's, 0 if unknown). */
int64_t cli_exec_kill_at(const cli_opts *o, int64_t term_ns, int64_t deadline_ns);

/* exec_proc.c: CMD's process group and its watchdog. */
typedef struct cli_job {
    pid_t pgid;      /* CMD's first process and its process group; -1 before start */
    pid_t watchdog;  /* kills the group if klease dies; -1 when none */
    int watchdog_fd; /* our end of the watchdog's pipe */
    bool first_done; /* CMD's first process has been reaped */
    int first_rc;    /* its exit status, 128+N for signal N */
} cli_job;
/* Starts CMD in a process group of its own, with only fds 0-2 and the
 * environment envp, guarded by a watchdog. Returns false with *exit_code
 * (126/127) and a message printed. */
bool cli_job_start(cli_job *j, char **argv, char **envp, int *exit_code);
/* Sends sig to every process of the group. */
void cli_job_signal(const cli_job *j, int sig);
/* Reaps what has exited; true while any process of the group is alive. */
bool cli_job_alive(cli_job *j);
/* SIGKILLs the group and waits until it is gone (klease must not outlive it). */
void cli_job_kill_and_wait(cli_job *j);
/* Lets the watchdog go once the group is gone, and reaps it. */
void cli_job_finish(cli_job *j);

/* exec_env.c: what exec checks and gives CMD. */
/* Finds CMD as execvp() would, before the lease is taken: false with
 * *exit_code 127 (not found) or 126 (not executable) and a message. */
bool cli_cmd_check(char *const *argv, int *exit_code);
/* CMD's words for a state line, quoted as a shell would need them. */
void cli_format_cmdline(char *buf, size_t size, char *const *argv);
/* CMD's environment: ours, with KLEASE_LEASE (NS/NAME), KLEASE_NAMESPACE,
 * KLEASE_NAME, KLEASE_IDENTITY and KLEASE_FENCING_TOKEN (the claim's
 * leaseTransitions) set. NULL if out of memory; free with cli_env_free. */
char **cli_env_new(const char *ns, const char *name, const char *identity,
                   const klease_claim *claim);
void cli_env_free(char **env);

/* output.c */
/* "klease: " + message on stderr, one line. */
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reports a failed library call: "klease: WHAT: status: message" (WHAT may be NULL). */
void cli_report(const char *what, klease_status st, const klease_error *err);
/* Prints a claim (NULL: unheld) as text or JSON on stdout. */
void cli_print_claim(const cli_opts *o, const char *ns, const klease_claim *claim, bool held,
                     const char *verdict);
/* One row of the wide table (NAMESPACE NAME HOLDER TIME-LEFT TRANSITIONS
 * RESOURCE-VERSION EXPIRES), after the header if `header`. */
void cli_print_claim_row(const char *ns, const char *name, const klease_claim *claim, bool held,
                         bool header);
/* Copies `s` into `out` (`size` bytes, cut at a whole escape) for a
 * terminal: control characters (C0, DEL, C1), invalid UTF-8, bidirectional
 * overrides and backslashes become \xNN, \uNNNN or \\, so text from the
 * server cannot move the cursor, retitle the window or hide itself. Returns
 * `out`. */
const char *cli_escape(char *out, size_t size, const char *s);
/* Prints `s` as a JSON string literal on stdout. */
void cli_print_json_string(const char *s);
/* Formats a wall-clock time as RFC 3339 UTC with milliseconds. */
void cli_format_wall(char *buf, size_t size, int64_t wall_ns);
/* Formats a duration in ms as "12.3s" / "1m05s". */
void cli_format_duration(char *buf, size_t size, int64_t ms);
/* The library's log callback for -v: one line on stderr. */
void cli_log(void *user, klease_log_level level, const char *msg);
/* This process's reading of the clock the library's deadlines use. */
int64_t cli_mono_ns(void);

#endif
