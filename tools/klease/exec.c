/* klease exec: flock(1) for a cluster. An elector keeps the lease in the
 * background; this thread supervises CMD's process group:
 *
 *   waiting --(we lead)--> running --(lost, or not renewed by deadline - margin)--> stopping
 *                             |   SIGTERM to the group; SIGKILL at the time exec_plan.c sets,
 *                             |   before our claim's deadline
 *                             \--(every process of the group has exited)--> done
 *
 * Signals arrive through a self-pipe (the handler only writes one byte) and
 * claim changes through a second pipe written by the elector's callback, so
 * one poll() loop sees everything and no logic runs in a handler. SIGTERM,
 * SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are forwarded to the group.
 * The loop also wakes at the stop times computed from our claim's deadline,
 * which is a pure time value, so CMD is stopped on time even if the
 * API server hangs. klease exits only when no
 * process of the group is left (exec_proc.c: process group, subreaper,
 * watchdog, inherited fds). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define MS 1000000LL /* ns */

/* Written by the signal handler: async-signal-safe by being only a write(). */
static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t r = write(signal_pipe[1], &b, 1); /* a full pipe already says "look" */
    (void)r;
    errno = saved;
}

typedef enum phase { WAITING, RUNNING, STOPPING } phase;

typedef struct supervisor {
    const cli_opts *o;
    char ns[256];
    char cmdline[512];
    int notify[2];            /* the elector's callback -> the loop */
    _Atomic int final_status; /* KLEASE_OK until the elector stops on its own */
    klease_elector *elector;

    phase ph;
    cli_job job;
    bool said_first_done;
    int64_t deadline;  /* our claim's deadline, as last seen while leading */
    int64_t term_at;   /* when the stop began */
    int64_t kill_at;   /* when SIGKILL is due */
    bool killed;       /* SIGKILL sent */
    bool lost;         /* the stop was begun because the lease was lost or not renewed */
    int64_t wait_from; /* for --timeout */
    char last_holder[KLEASE_IDENTITY_MAX + 1];
    bool announced;
    klease_status last_status;
} supervisor;

/* Runs on the client's callback thread: must be quick and must not close the elector. */
static void on_change(void *user, const klease_claim *claim, bool leading, klease_status status)
{
    supervisor *s = user;
    (void)claim;
    (void)leading;
    if (status != KLEASE_OK && status != KLEASE_ECLOSED)
        atomic_store(&s->final_status, (int)status);
    unsigned char b = 1;
    ssize_t r = write(s->notify[1], &b, 1);
    (void)r;
}

static void say(const supervisor *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A state change, one line on stderr, unless --quiet. */
static void say(const supervisor *s, const char *fmt, ...)
{
    if (s->o->quiet)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cli_errorf("%s", line); /* escapes what the server sent (the holder) */
}

static bool make_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
        return false;
    return true;
}

static void drain(int fd)
{
    unsigned char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static void install_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        sigaction(forwarded[i], &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    /* A dead connection must be an error from write(), not the end of klease. */
    signal(SIGPIPE, SIG_IGN);
}

static const char *signame(int sig)
{
    switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    case SIGQUIT: return "SIGQUIT";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    case SIGKILL: return "SIGKILL";
    default: return "a signal";
    }
}

/* Clamps a wait in ns to poll()'s milliseconds, rounding up so we never
 * wake just before a deadline and spin. */
static int poll_ms(int64_t ns, int cap_ms)
{
    if (ns <= 0)
        return 0;
    int64_t ms = (ns + MS - 1) / MS;
    return ms > cap_ms ? cap_ms : (int)ms;
}

/* Step 1: signals. Forwarded to the group once CMD runs; before that the
 * ones that ask us to stop are returned (USR1/USR2 are then ignored). */
static int take_signals(supervisor *s)
{
    unsigned char sigs[64];
    ssize_t n;
    int stop_sig = 0;
    while ((n = read(signal_pipe[0], sigs, sizeof sigs)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            int sig = sigs[i];
            if (sig == SIGCHLD)
                continue; /* reaped by the caller */
            if (s->job.pgid > 0) {
                say(s, "received %s; forwarding it to %s's process group", signame(sig),
                    s->o->cmd[0]);
                cli_job_signal(&s->job, sig);
            } else if (sig != SIGUSR1 && sig != SIGUSR2) {
                stop_sig = sig;
            }
        }
    }
    drain(s->notify[0]);
    return stop_sig;
}

/* Errors the elector is retrying: said once per kind, so a waiting replica
 * does not look hung when the server is down. */
static void report_retrying(supervisor *s)
{
    klease_error err;
    klease_status st = klease_elector_status(s->elector, &err);
    if (st != KLEASE_OK && st != s->last_status && !s->o->quiet) {
        char what[512];
        snprintf(what, sizeof what, "lease %s/%s (retrying)", s->ns, s->o->name);
        cli_report(what, st, &err);
    }
    s->last_status = st;
}

static int gave_up(supervisor *s)
{
    say(s, "gave up waiting for lease %s/%s after %lld ms", s->ns, s->o->name,
        (long long)s->o->timeout_ms);
    return s->o->conflict_exit >= 0 ? s->o->conflict_exit : CLI_EXIT_TIMEOUT;
}

/* Step 2 while waiting: start CMD once we lead with more than the margin
 * left. Returns an exit code, or -1 to go on; sets *wake. */
static int step_waiting(supervisor *s, int stop_sig, int64_t now, int64_t *wake)
{
    const cli_opts *o = s->o;
    if (stop_sig != 0) {
        say(s, "received %s while waiting for lease %s/%s; not starting %s", signame(stop_sig),
            s->ns, o->name, o->cmd[0]);
        return 128 + stop_sig;
    }
    klease_status fatal = (klease_status)atomic_load(&s->final_status);
    if (fatal != KLEASE_OK) {
        klease_error err;
        klease_elector_status(s->elector, &err);
        cli_report("elector stopped", fatal, &err);
        return cli_exit_for(fatal);
    }
    klease_claim claim;
    bool has = false;
    klease_elector_current(s->elector, &claim, &has);
    if (klease_elector_is_leader(s->elector) && has &&
        cli_exec_term_at(o, claim.deadline_mono_ns) > now) {
        say(s, "acquired lease %s/%s as %s (fencing token %lld); starting: %s", s->ns, o->name,
            o->identity, (long long)claim.transitions, s->cmdline);
        int rc;
        char **env = cli_env_new(s->ns, o->name, o->identity, &claim);
        if (env == NULL) {
            cli_errorf("cannot start %s: out of memory", o->cmd[0]);
            return CLI_EXIT_CANNOT_EXEC;
        }
        bool started = cli_job_start(&s->job, o->cmd, env, &rc);
        cli_env_free(env);
        if (!started)
            return rc;
        s->deadline = claim.deadline_mono_ns;
        s->ph = RUNNING;
        *wake = now; /* look at the schedule right away */
        return -1;
    }
    if (has && (!s->announced || strcmp(s->last_holder, claim.holder) != 0)) {
        say(s, "waiting for lease %s/%s (held by %s)", s->ns, o->name, claim.holder);
        snprintf(s->last_holder, sizeof s->last_holder, "%s", claim.holder);
        s->announced = true;
    }
    report_retrying(s);
    *wake = now + 1000 * MS;
    /* --nonblock has taken the lease already (take_once): the elector is
     * about to say so; the start-up wait below is the bound. */
    if (o->timeout_ms >= 0 && !o->nonblock) {
        int64_t end = s->wait_from + o->timeout_ms * MS;
        if (now >= end)
            return gave_up(s);
        if (end < *wake)
            *wake = end;
    }
    return -1;
}

/* Begins the stop: SIGTERM to the group now, SIGKILL at kill_at. */
static void begin_stop(supervisor *s, int64_t now, const char *why)
{
    const cli_opts *o = s->o;
    s->ph = STOPPING;
    s->term_at = now;
    s->kill_at = cli_exec_kill_at(o, now, s->deadline);
    if (s->kill_at <= now) {
        say(s, "%s; stopping %s: sending SIGKILL to its process group now", why, o->cmd[0]);
        cli_job_signal(&s->job, SIGKILL);
        s->killed = true;
    } else {
        say(s, "%s; stopping %s: SIGTERM to its process group, SIGKILL in %lld ms", why, o->cmd[0],
            (long long)((s->kill_at - now) / MS));
        cli_job_signal(&s->job, SIGTERM);
    }
}

/* Step 2 while CMD runs: follow our deadline; stop at deadline - margin
 * when not renewed, or at once when the lease is lost. Sets *wake. */
static void step_running(supervisor *s, int64_t now, int64_t *wake)
{
    const cli_opts *o = s->o;
    char why[512];
    klease_claim claim;
    bool has = false;
    klease_elector_current(s->elector, &claim, &has);
    bool leading = klease_elector_is_leader(s->elector);
    if (leading && has && claim.deadline_mono_ns > s->deadline)
        s->deadline = claim.deadline_mono_ns; /* renewed */
    int64_t term_at = cli_exec_term_at(o, s->deadline);
    if (leading && now < term_at) {
        *wake = term_at;
        return;
    }
    klease_status fatal = (klease_status)atomic_load(&s->final_status);
    if (leading || (o->margin_ms > 0 && now >= term_at && now < s->deadline))
        snprintf(why, sizeof why, "lease %s/%s not renewed with %lld ms left", s->ns, o->name,
                 (long long)((s->deadline - now) / MS));
    else if (fatal != KLEASE_OK)
        snprintf(why, sizeof why, "lost lease %s/%s (the elector stopped: %s)", s->ns, o->name,
                 klease_strerror(fatal));
    else
        snprintf(why, sizeof why, "lost lease %s/%s", s->ns, o->name);
    s->lost = true;
    begin_stop(s, now, why);
    *wake = s->killed ? now + 100 * MS : s->kill_at;
}

/* Step 2 while stopping: SIGKILL when due. Once begun a stop is never
 * undone, even if a late renewal succeeds. Sets *wake. */
static void step_stopping(supervisor *s, int64_t now, int64_t *wake)
{
    if (!s->killed && now >= s->kill_at) {
        say(s, "%s did not stop within %lld ms; sending SIGKILL to its process group", s->o->cmd[0],
            (long long)((now - s->term_at) / MS));
        cli_job_signal(&s->job, SIGKILL);
        s->killed = true;
    }
    *wake = s->killed ? now + 100 * MS : s->kill_at;
}

/* Reaps; returns CMD's status once no process of its group is left, else -1. */
static int reap(supervisor *s)
{
    bool alive = cli_job_alive(&s->job);
    if (s->job.first_done && !s->said_first_done) {
        s->said_first_done = true;
        int rc = s->job.first_rc;
        if (rc > 128)
            say(s, "%s was killed by signal %d (exit status %d)", s->o->cmd[0], rc - 128, rc);
        else
            say(s, "%s exited with status %d", s->o->cmd[0], rc);
        if (alive)
            say(s, "waiting for the rest of %s's process group to exit", s->o->cmd[0]);
    }
    return alive || !s->job.first_done ? -1 : s->job.first_rc;
}

static int supervise(supervisor *s)
{
    s->ph = WAITING;
    for (;;) {
        int stop_sig = take_signals(s);
        if (s->ph != WAITING) {
            int rc = reap(s);
            if (rc >= 0 && s->lost) {
                say(s, "exiting with status %d: %s was stopped because the lease was lost",
                    CLI_EXIT_LOST, s->o->cmd[0]);
                return CLI_EXIT_LOST;
            }
            if (rc >= 0)
                return rc;
        }
        int64_t now = cli_mono_ns(), wake = now + 1000 * MS;
        if (s->ph == WAITING) {
            int rc = step_waiting(s, stop_sig, now, &wake);
            if (rc >= 0)
                return rc;
        } else if (s->ph == RUNNING) {
            step_running(s, now, &wake);
        } else {
            step_stopping(s, now, &wake);
        }
        /* Group members that are not our children die without a SIGCHLD. */
        int cap = s->ph != WAITING && s->job.first_done ? 100 : 1000;
        struct pollfd fds[2] = {{signal_pipe[0], POLLIN, 0}, {s->notify[0], POLLIN, 0}};
        if (poll(fds, 2, poll_ms(wake - now, cap)) < 0 && errno != EINTR) {
            cli_errorf("poll: %s", strerror(errno));
            return CLI_EXIT_API; /* the caller kills the group: we cannot supervise it */
        }
    }
}

/* Starts the elector with the forwarded signals and SIGCHLD blocked: its
 * thread inherits the mask, so signals come to this thread. */
static klease_status spawn_elector(supervisor *s, const cli_session *session, klease_error *err)
{
    const cli_opts *o = s->o;
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    p.lease_duration_ms = o->duration_ms;
    p.renew_grace_ms = o->grace_ms;
    klease_elector_options eo = KLEASE_ELECTOR_OPTIONS_INIT;
    eo.on_change = on_change;
    eo.user = s;
    /* The margin is exec_plan.c's: the elector ends leadership at the same
     * moment (is_leader() turns false, the callback wakes the loop), and the
     * loop's own schedule stays as the bound that needs no thread. */
    eo.margin_ms = o->margin_ms;
    sigset_t block, old;
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        sigaddset(&block, forwarded[i]);
    sigaddset(&block, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    klease_status st = klease_spawn(&s->elector, session->manager, o->identity, &p, &eo, err);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return st;
}

/* Opens the session, waiting out a server that is down, hangs or fails:
 * one line per kind of error, until --timeout (or a signal) ends the wait. */
static int open_session(supervisor *s, cli_session *session)
{
    const cli_opts *o = s->o;
    klease_status last = KLEASE_OK;
    for (;;) {
        klease_status st;
        klease_error err;
        int rc = cli_session_try(session, o, o->create, &st, &err);
        if (rc >= 0)
            return rc;
        if (st != last || o->nonblock) {
            char what[512];
            snprintf(what, sizeof what, "lease %s/%s%s", session->ns, o->name,
                     o->nonblock ? "" : " (retrying until it answers)");
            cli_report(what, st, &err);
        }
        last = st;
        if (o->nonblock)
            return cli_exit_for(st);
        int64_t now = cli_mono_ns(), wake = now + 1000 * MS;
        snprintf(s->ns, sizeof s->ns, "%s", session->ns);
        if (o->timeout_ms >= 0) {
            int64_t end = s->wait_from + o->timeout_ms * MS;
            if (now >= end)
                return gave_up(s);
            if (end < wake)
                wake = end;
        }
        struct pollfd pfd = {signal_pipe[0], POLLIN, 0};
        if (poll(&pfd, 1, poll_ms(wake - now, 1000)) > 0) {
            int sig = take_signals(s);
            if (sig != 0) {
                say(s, "received %s while waiting for lease %s/%s; not starting %s", signame(sig),
                    session->ns, o->name, o->cmd[0]);
                return 128 + sig;
            }
        }
    }
}

/* --nonblock: one claim now; if someone else holds the lease, exit at once
 * (flock -n). Returns -1 when we hold it, else the exit code. */
static int take_once(supervisor *s, const cli_session *session)
{
    const cli_opts *o = s->o;
    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    p.lease_duration_ms = o->duration_ms;
    p.renew_grace_ms = o->grace_ms;
    klease_claim claim;
    klease_error err;
    klease_status st = klease_ensure_claimed(session->manager, o->identity, &p, &claim, &err);
    if (st != KLEASE_OK) {
        char what[512];
        snprintf(what, sizeof what, "claim %s/%s", s->ns, o->name);
        cli_report(what, st, &err);
        return cli_exit_for(st);
    }
    if (klease_claim_is_current_for(&claim, o->identity))
        return -1;
    say(s, "lease %s/%s is held by %s; not waiting (--nonblock)", s->ns, o->name, claim.holder);
    return o->conflict_exit >= 0 ? o->conflict_exit : CLI_EXIT_NOT_HELD;
}

int cli_cmd_exec(const cli_opts *o)
{
    supervisor s;
    cli_session session = {0};
    int rc;
    klease_error err;

    /* With one of fds 0-2 closed, our pipes and sockets would land there and
     * CMD would inherit them as its stdin, stdout or stderr. */
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd) {
            cli_errorf("cannot open /dev/null: %s", strerror(errno));
            return CLI_EXIT_CANNOT_EXEC;
        }
    }
    memset(&s, 0, sizeof s);
    s.o = o;
    s.notify[0] = s.notify[1] = -1;
    s.job.pgid = s.job.watchdog = -1;
    s.job.watchdog_fd = -1;
    atomic_init(&s.final_status, (int)KLEASE_OK);
    cli_format_cmdline(s.cmdline, sizeof s.cmdline, o->cmd);

    if (!make_pipe(signal_pipe) || !make_pipe(s.notify)) {
        cli_errorf("pipe: %s", strerror(errno));
        return CLI_EXIT_API;
    }
    /* Before any API call: a SIGTERM during the first request is seen, not fatal. */
    install_handlers();
    /* CMD's orphans become ours, so we can reap them and wait for them. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);

    /* A typo in CMD must not take the lease from a replica that could run. */
    if (!cli_cmd_check(o->cmd, &rc))
        goto out;
    s.wait_from = cli_mono_ns(); /* --timeout counts from here */
    if ((rc = open_session(&s, &session)) != CLI_EXIT_OK)
        goto out;
    snprintf(s.ns, sizeof s.ns, "%s", session.ns);
    if (o->nonblock && (rc = take_once(&s, &session)) >= 0)
        goto out;
    say(&s, "waiting for lease %s/%s as %s", s.ns, o->name, o->identity);
    if (o->margin_ms == 0)
        say(&s, "--margin 0: CMD is stopped only when our claim has ended, so it may still run "
                "when the next holder starts");

    klease_status st = spawn_elector(&s, &session, &err);
    if (st != KLEASE_OK) {
        cli_report("elector", st, &err);
        rc = cli_exit_for(st);
        goto out;
    }

    rc = supervise(&s);
    /* Whatever ended the loop, no process of the group outlives klease. */
    cli_job_kill_and_wait(&s.job);
    cli_job_finish(&s.job);

    /* Closing vacates the lease if we still hold it, so a waiting replica
     * takes over in about one round trip instead of at expiry. */
    bool held = klease_elector_is_leader(s.elector);
    st = klease_elector_close(s.elector, &err);
    s.elector = NULL;
    if (st != KLEASE_OK && st != KLEASE_ECLOSED)
        cli_report("releasing the lease", st, &err);
    else if (held)
        say(&s, "released lease %s/%s", s.ns, o->name);

out:
    cli_session_close(&session);
    for (int i = 0; i < 2; i++) {
        if (s.notify[i] >= 0)
            close(s.notify[i]);
    }
    return rc;
}
