/* klease exec: flock(1) for a cluster. An elector keeps the lease in the
 * background; this thread supervises the command:
 *
 *   waiting --(we lead)--> running --(lease lost)--> stopping --(CMD exits)--> done
 *                             \-------------(CMD exits)------------------------/
 *
 * Signals arrive through a self-pipe (the handler only writes one byte) and
 * claim changes through a second pipe written by the elector's callback, so
 * one poll() loop sees everything and no logic runs in a handler. The loop
 * also wakes at our claim's deadline: klease_elector_is_leader() is a pure
 * time predicate, so the command is stopped on time even if the elector's
 * thread is stuck on a hung API server. */
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

typedef struct supervisor {
    const cli_opts *o;
    char ns[256];
    char cmdline[256];
    int notify[2];            /* the elector's callback -> the loop */
    _Atomic int final_status; /* KLEASE_OK until the elector stops on its own */
    klease_elector *elector;
} supervisor;

/* Runs on the elector's thread: must be quick and must not close the elector. */
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

/* The command for messages: its words joined by spaces, cut short if long. */
static void format_cmdline(char *buf, size_t size, char **argv)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; argv[i] != NULL && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? " " : "", argv[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (used >= size && size > 4)
        memcpy(buf + size - 4, "...", 4);
}

/* Starts the command. fork+exec rather than posix_spawn because the child
 * asks the kernel for SIGKILL when klease dies: otherwise a SIGKILLed klease
 * would leave the command running without the lease. Returns the pid, or -1
 * with *exit_code set (126/127) when the command could not be run. */
static pid_t start_command(char **argv, int *exit_code)
{
    int ep[2];
    if (pipe2(ep, O_CLOEXEC) != 0) {
        cli_errorf("cannot start %s: pipe: %s", argv[0], strerror(errno));
        *exit_code = CLI_EXIT_CANNOT_EXEC;
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(ep[0]);
        close(ep[1]);
        cli_errorf("cannot start %s: fork: %s", argv[0], strerror(e));
        *exit_code = CLI_EXIT_CANNOT_EXEC;
        return -1;
    }
    if (pid == 0) {
        /* Only async-signal-safe calls from here to exec: we were forked
         * from a multithreaded process. */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(SIGTERM, &dfl, NULL);
        sigaction(SIGINT, &dfl, NULL);
        sigaction(SIGCHLD, &dfl, NULL);
        sigaction(SIGPIPE, &dfl, NULL); /* ignored in klease, default for the command */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int e = 0;
        if (getppid() != parent) /* klease died before prctl took effect */
            _exit(CLI_EXIT_CANNOT_EXEC);
        execvp(argv[0], argv);
        e = errno;
        ssize_t r = write(ep[1], &e, sizeof e);
        (void)r;
        _exit(e == ENOENT ? CLI_EXIT_NO_COMMAND : CLI_EXIT_CANNOT_EXEC);
    }
    close(ep[1]);
    int e = 0;
    ssize_t n;
    do
        n = read(ep[0], &e, sizeof e);
    while (n < 0 && errno == EINTR);
    close(ep[0]);
    if (n == (ssize_t)sizeof e) { /* exec failed; the child has _exited */
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        cli_errorf("cannot run %s: %s", argv[0], strerror(e));
        *exit_code = e == ENOENT ? CLI_EXIT_NO_COMMAND : CLI_EXIT_CANNOT_EXEC;
        return -1;
    }
    return pid;
}

static void install_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    /* A dead connection must be an error from write(), not the end of klease. */
    signal(SIGPIPE, SIG_IGN);
}

static const char *signame(int sig)
{
    switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
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

typedef enum phase { WAITING, RUNNING, STOPPING } phase;

static int supervise(supervisor *s)
{
    const cli_opts *o = s->o;
    phase ph = WAITING;
    pid_t child = -1;
    int rc = CLI_EXIT_OK;
    int64_t start = cli_mono_ns();
    int64_t kill_at = 0;
    bool killed = false;
    char last_holder[KLEASE_IDENTITY_MAX + 1] = "";
    bool announced = false;
    klease_status last_status = KLEASE_OK;

    for (;;) {
        /* 1. Signals. */
        unsigned char sigs[64];
        ssize_t n;
        int stop_sig = 0;
        while ((n = read(signal_pipe[0], sigs, sizeof sigs)) > 0) {
            for (ssize_t i = 0; i < n; i++) {
                int sig = sigs[i];
                if (sig != SIGTERM && sig != SIGINT)
                    continue; /* SIGCHLD: reaped below */
                if (child > 0) {
                    say(s, "received %s; forwarding it to %s", signame(sig), o->cmd[0]);
                    kill(child, sig);
                } else {
                    stop_sig = sig;
                }
            }
        }
        drain(s->notify[0]);

        /* 2. The command. */
        if (child > 0) {
            int status = 0;
            pid_t r = waitpid(child, &status, WNOHANG);
            if (r == child) {
                child = -1;
                if (WIFSIGNALED(status)) {
                    rc = 128 + WTERMSIG(status);
                    say(s, "%s was killed by signal %d (exit status %d)", o->cmd[0],
                        WTERMSIG(status), rc);
                } else {
                    rc = WEXITSTATUS(status);
                    say(s, "%s exited with status %d", o->cmd[0], rc);
                }
                return rc;
            }
        }

        /* 3. The lease. */
        bool leading = klease_elector_is_leader(s->elector);
        klease_status fatal = (klease_status)atomic_load(&s->final_status);
        klease_claim claim;
        bool has = false;
        klease_elector_current(s->elector, &claim, &has);
        int64_t now = cli_mono_ns();
        int timeout_ms = 1000;

        switch (ph) {
        case WAITING:
            if (stop_sig != 0) {
                say(s, "received %s while waiting for lease %s/%s; not starting %s",
                    signame(stop_sig), s->ns, o->name, o->cmd[0]);
                return 128 + stop_sig;
            }
            if (fatal != KLEASE_OK) {
                klease_error err;
                klease_elector_status(s->elector, &err);
                cli_report("elector stopped", fatal, &err);
                return cli_exit_for(fatal);
            }
            if (leading) {
                say(s, "acquired lease %s/%s as %s; starting: %s", s->ns, o->name, o->identity,
                    s->cmdline);
                if ((child = start_command(o->cmd, &rc)) < 0)
                    return rc;
                ph = RUNNING;
                continue; /* look at the deadline right away */
            }
            if (has && (!announced || strcmp(last_holder, claim.holder) != 0)) {
                say(s, "waiting for lease %s/%s (held by %s)", s->ns, o->name, claim.holder);
                snprintf(last_holder, sizeof last_holder, "%s", claim.holder);
                announced = true;
            }
            {
                /* Errors the elector is retrying: said once per kind, so a
                 * waiting replica does not look hung when the server is down. */
                klease_error err;
                klease_status st = klease_elector_status(s->elector, &err);
                if (st != KLEASE_OK && st != last_status) {
                    char what[512];
                    snprintf(what, sizeof what, "lease %s/%s (retrying)", s->ns, o->name);
                    if (!o->quiet)
                        cli_report(what, st, &err);
                }
                last_status = st;
            }
            if (o->timeout_ms >= 0) {
                int64_t end = start + o->timeout_ms * MS;
                if (now >= end) {
                    say(s, "gave up waiting for lease %s/%s after %lld ms", s->ns, o->name,
                        (long long)o->timeout_ms);
                    return CLI_EXIT_TIMEOUT;
                }
                timeout_ms = poll_ms(end - now, 1000);
            }
            break;
        case RUNNING:
            if (!leading) {
                if (fatal != KLEASE_OK)
                    say(s, "lost lease %s/%s (the elector stopped: %s); stopping %s", s->ns,
                        o->name, klease_strerror(fatal), o->cmd[0]);
                else
                    say(s, "lost lease %s/%s; stopping %s", s->ns, o->name, o->cmd[0]);
                ph = STOPPING;
                kill_at = now + o->kill_after_ms * MS;
                if (o->kill_after_ms == 0) {
                    kill(child, SIGKILL);
                    killed = true;
                } else {
                    kill(child, SIGTERM);
                }
                timeout_ms = killed ? 1000 : poll_ms(kill_at - now, 1000);
                break;
            }
            /* Wake at our deadline even if the elector never tells us. */
            timeout_ms = has ? poll_ms(claim.deadline_mono_ns - now, 1000) : 0;
            if (timeout_ms == 0)
                timeout_ms = 1; /* leading with a deadline now: re-check shortly */
            break;
        case STOPPING:
            if (!killed && now >= kill_at) {
                say(s, "%s did not stop within %lld ms; sending SIGKILL", o->cmd[0],
                    (long long)o->kill_after_ms);
                kill(child, SIGKILL);
                killed = true;
            }
            timeout_ms = killed ? 1000 : poll_ms(kill_at - now, 1000);
            break;
        }

        struct pollfd fds[2] = {{signal_pipe[0], POLLIN, 0}, {s->notify[0], POLLIN, 0}};
        if (poll(fds, 2, timeout_ms) < 0 && errno != EINTR) {
            cli_errorf("poll: %s", strerror(errno));
            if (child > 0)
                kill(child, SIGKILL); /* we cannot supervise it any more */
            return CLI_EXIT_API;
        }
    }
}

int cli_cmd_exec(const cli_opts *o)
{
    supervisor s;
    cli_session session = {0};
    int rc;
    klease_error err;

    memset(&s, 0, sizeof s);
    s.o = o;
    s.notify[0] = s.notify[1] = -1;
    atomic_init(&s.final_status, (int)KLEASE_OK);
    format_cmdline(s.cmdline, sizeof s.cmdline, o->cmd);

    if (!make_pipe(signal_pipe) || !make_pipe(s.notify)) {
        cli_errorf("pipe: %s", strerror(errno));
        return CLI_EXIT_API;
    }
    /* Before any API call: a SIGTERM during the first request is seen, not fatal. */
    install_handlers();

    if ((rc = cli_session_open(&session, o, o->create)) != CLI_EXIT_OK)
        goto out;
    snprintf(s.ns, sizeof s.ns, "%s", session.ns);

    klease_claim_params p = KLEASE_CLAIM_PARAMS_INIT;
    p.lease_duration_ms = o->duration_ms;
    p.renew_grace_ms = o->grace_ms;
    klease_elector_options eo = KLEASE_ELECTOR_OPTIONS_INIT;
    eo.on_change = on_change;
    eo.user = &s;
    /* The elector's thread inherits this mask: signals then go to this thread. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    klease_status st = klease_spawn(&s.elector, session.manager, o->identity, &p, &eo, &err);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (st != KLEASE_OK) {
        cli_report("elector", st, &err);
        rc = cli_exit_for(st);
        goto out;
    }

    rc = supervise(&s);

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
