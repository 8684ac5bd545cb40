/* The process side of exec plugins: spawn without a shell, capture output
 * with a cap, enforce a timeout by killing the plugin's process group. */
#include "config/exec_plugin.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#ifdef KLEASE_TEST_SEAMS
#include <stdatomic.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#ifdef KLEASE_TEST_SEAMS
/* Test seam (klease_internal only): tests shorten the plugin time limit. */
static atomic_int_fast64_t timeout_ms = KLEASE__EXEC_TIMEOUT_MS_DEFAULT;

void klease__exec_plugin_set_timeout_ms(int64_t ms)
{
    atomic_store(&timeout_ms, ms > 0 ? ms : KLEASE__EXEC_TIMEOUT_MS_DEFAULT);
}

static int64_t plugin_timeout_ms(void)
{
    return atomic_load(&timeout_ms);
}
#else
static int64_t plugin_timeout_ms(void)
{
    return KLEASE__EXEC_TIMEOUT_MS_DEFAULT;
}
#endif

/* What the child did, gathered by run_child. */
typedef struct child_run {
    char *out; /* stdout, NUL-terminated */
    size_t out_len;
    char err_text[KLEASE__EXEC_MAX_STDERR + 1]; /* the start of stderr */
    size_t err_len;
    int spawn_errno;     /* finding or starting the plugin failed with this */
    bool timed_out;      /* the plugin's own time limit ran out */
    bool call_timed_out; /* the call's budget ran out first */
    bool cancelled;
    bool too_much; /* stdout exceeded KLEASE__EXEC_MAX_STDOUT */
    bool nomem;
    int wait_status;
    bool waited; /* wait_status is valid */
} child_run;

/* "NAME=..." entries name the same variable. */
static bool same_name(const char *a, const char *b)
{
    while (*a != '\0' && *a != '=' && *a == *b) {
        a++;
        b++;
    }
    return (*a == '=' || *a == '\0') && (*b == '=' || *b == '\0');
}

/* Our environment, minus what the plugin config overrides, plus the
 * plugin's env and KUBERNETES_EXEC_INFO (client-go does the same). The array
 * borrows every string except the last, `*info_owned`. */
static char **build_env(const klease__exec_config *x, const char *exec_info, char **info_owned)
{
    static const char info_name[] = "KUBERNETES_EXEC_INFO=";
    size_t n_env = 0, n_x = 0;
    while (environ != NULL && environ[n_env] != NULL)
        n_env++;
    while (x->env[n_x] != NULL)
        n_x++;
    size_t info_len = sizeof info_name + strlen(exec_info);
    char **envp = klease__calloc(n_env + n_x + 2, sizeof *envp);
    char *info = klease__malloc(info_len);
    if (envp == NULL || info == NULL) {
        klease__free(envp);
        klease__free(info);
        return NULL;
    }
    snprintf(info, info_len, "%s%s", info_name, exec_info);
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++) {
        bool overridden = same_name(environ[i], info);
        for (size_t j = 0; j < n_x && !overridden; j++)
            overridden = same_name(environ[i], x->env[j]);
        if (!overridden)
            envp[k++] = environ[i];
    }
    for (size_t j = 0; j < n_x; j++)
        envp[k++] = x->env[j];
    envp[k] = info;
    *info_owned = info;
    return envp;
}

/* The executable posix_spawn will run: a command with a '/' as it is, a bare
 * name looked up in $PATH (an empty entry is the working directory, as for
 * execvp). Looking it up here, rather than leaving it to posix_spawnp, gives
 * "not found" reliably: where the C library cannot report exec failures (or
 * under valgrind) the child just exits with 127. 0 or an errno value. */
static int resolve_command(const char *cmd, char **out)
{
    if (strchr(cmd, '/') != NULL) {
        if (access(cmd, X_OK) != 0)
            return errno;
        return (*out = klease__strdup(cmd)) != NULL ? 0 : ENOMEM;
    }
    const char *path = getenv("PATH");
    if (path == NULL)
        path = "/usr/local/bin:/usr/bin:/bin";
    int e = ENOENT;
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t dlen = end != NULL ? (size_t)(end - p) : strlen(p);
        size_t len = dlen + 1 + strlen(cmd) + 1;
        char *full = klease__malloc(len);
        if (full == NULL)
            return ENOMEM;
        snprintf(full, len, "%.*s/%s", (int)(dlen > 0 ? dlen : 1), dlen > 0 ? p : ".", cmd);
        struct stat st;
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(full, X_OK) == 0) {
                *out = full;
                return 0;
            }
            e = EACCES; /* keep looking, like execvp, but remember why */
        }
        klease__free(full);
        if (end == NULL)
            break;
        p = end;
    }
    return e;
}

static char **build_argv(const klease__exec_config *x)
{
    size_t n = 0;
    while (x->args[n] != NULL)
        n++;
    char **argv = klease__calloc(n + 2, sizeof *argv);
    if (argv == NULL)
        return NULL;
    argv[0] = x->command;
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = x->args[i];
    return argv;
}

/* Reads what is available on `fd` into the stdout buffer or the stderr
 * prefix. Returns false at EOF or on a read error. */
static bool drain(int fd, bool is_stdout, child_run *r)
{
    char chunk[16384];
    ssize_t n;
    do {
        n = read(fd, chunk, sizeof chunk);
    } while (n < 0 && errno == EINTR);
    if (n <= 0)
        return n < 0 && errno == EAGAIN;
    if (!is_stdout) {
        size_t room = KLEASE__EXEC_MAX_STDERR - r->err_len;
        size_t take = (size_t)n < room ? (size_t)n : room;
        memcpy(r->err_text + r->err_len, chunk, take);
        r->err_len += take;
        r->err_text[r->err_len] = '\0';
        return true; /* the rest of stderr is read and dropped */
    }
    if (r->out_len + (size_t)n > KLEASE__EXEC_MAX_STDOUT) {
        r->too_much = true;
        return false;
    }
    char *grown = klease__realloc(r->out, r->out_len + (size_t)n + 1);
    if (grown == NULL) {
        r->nomem = true;
        return false;
    }
    r->out = grown;
    memcpy(r->out + r->out_len, chunk, (size_t)n);
    r->out_len += (size_t)n;
    r->out[r->out_len] = '\0';
    return true;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Marks the run as over when a limit ran out or the call was cancelled:
 * the plugin's own limit, or the call's budget when that ends first. */
static bool out_of_time(const klease__clock *clk, int64_t deadline, const klease__budget *b,
                        child_run *r)
{
    int64_t now = klease__mono_ns(clk);
    if (b != NULL && klease__cancel_fired(b->cancel))
        r->cancelled = true;
    else if (b != NULL && now >= b->deadline_ns && b->deadline_ns < deadline)
        r->call_timed_out = true;
    else if (now >= deadline)
        r->timed_out = true;
    return r->cancelled || r->call_timed_out || r->timed_out;
}

/* Only fds 0-2 reach the plugin. Our own pipes and sockets are close-on-exec
 * already; this also covers descriptors the host application or a library
 * opened without O_CLOEXEC. */
static int close_inherited(posix_spawn_file_actions_t *fa)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np(fa, 3);
#else
    (void)fa;
    return 0;
#endif
}

/* Starts the plugin with fds 0-2 set up (stdin /dev/null, stdout and
 * stderr to the write ends of the pipes), in its own process group, with
 * the signals a host commonly ignores or blocks reset. Returns 0 with *pid
 * set, or an errno value. */
static int spawn_plugin(const char *exe, char **argv, char **envp, int out_w, int err_w, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t mask, defaults;
    int e;

    /* A plugin with SIGPIPE ignored, for example, behaves differently from
     * one started by kubectl. */
    sigemptyset(&mask);
    sigemptyset(&defaults);
    int reset[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM};
    for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++)
        sigaddset(&defaults, reset[i]);
    if ((e = posix_spawn_file_actions_init(&fa)) != 0)
        return e;
    if ((e = posix_spawnattr_init(&attr)) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return e;
    }
    if ((e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) == 0 &&
        (e = posix_spawn_file_actions_adddup2(&fa, out_w, 1)) == 0 &&
        (e = posix_spawn_file_actions_adddup2(&fa, err_w, 2)) == 0 &&
        (e = close_inherited(&fa)) == 0 &&
        (e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                 POSIX_SPAWN_SETSIGDEF)) == 0 &&
        (e = posix_spawnattr_setpgroup(&attr, 0)) == 0 &&
        (e = posix_spawnattr_setsigmask(&attr, &mask)) == 0 &&
        (e = posix_spawnattr_setsigdefault(&attr, &defaults)) == 0)
        e = posix_spawn(pid, exe, &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return e;
}

/* Reads stdout and stderr until both close, the output is too much, or a
 * time limit or cancel comes (`end` is the earlier of the two deadlines). */
static void read_output(int out_r, int err_r, const klease__clock *clk, int64_t deadline,
                        const klease__budget *b, child_run *r)
{
    fcntl(out_r, F_SETFL, O_NONBLOCK);
    fcntl(err_r, F_SETFL, O_NONBLOCK);
    struct pollfd fds[2] = {{.fd = out_r, .events = POLLIN}, {.fd = err_r, .events = POLLIN}};
    bool stop = false;
    int64_t end = b != NULL && b->deadline_ns < deadline ? b->deadline_ns : deadline;
    while (!stop && (fds[0].fd >= 0 || fds[1].fd >= 0)) {
        if (out_of_time(clk, deadline, b, r))
            break;
        /* Short polls, so a cancelled call stops the plugin promptly. */
        int64_t left = end - klease__mono_ns(clk);
        int ms = left / KLEASE__NS_PER_MS > 50 ? 50 : (int)(left / KLEASE__NS_PER_MS) + 1;
        int n = poll(fds, 2, ms);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2 && n > 0; i++) {
            if (fds[i].fd < 0 || fds[i].revents == 0)
                continue;
            if (!drain(fds[i].fd, i == 0, r)) {
                fds[i].fd = -1;
                stop = r->too_much || r->nomem;
            }
        }
    }
}

/* Output is closed; the plugin may still be running (or hung after closing
 * stdout), so wait for it only until the deadline. Returns the pid still to
 * kill, or -1 when there is none. */
static pid_t wait_exit(pid_t pid, const klease__clock *clk, int64_t deadline,
                       const klease__budget *b, child_run *r)
{
    while (!r->timed_out && !r->call_timed_out && !r->cancelled && !r->too_much && !r->nomem) {
        pid_t w = waitpid(pid, &r->wait_status, WNOHANG);
        if (w == pid) {
            r->waited = true;
            return -1;
        }
        if (w < 0 && errno != EINTR)
            return -1; /* ECHILD: the host reaps children itself (SIGCHLD ignored) */
        if (!out_of_time(clk, deadline, b, r))
            sleep_ms(5);
    }
    return pid;
}

/* Spawns the plugin and collects its output until it exits, a limit runs out
 * (its own or the call's), the call is cancelled or it prints too much; then
 * its whole process group is killed (a shell script's children would
 * otherwise keep running). */
static void run_child(const char *exe, char **argv, char **envp, const klease__budget *b,
                      child_run *r)
{
    const klease__clock *clk = klease__clock_system();
    int64_t deadline = klease__add_sat(klease__mono_ns(clk), klease__ms_to_ns(plugin_timeout_ms()));
    int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    pid_t pid = -1;

    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
        r->spawn_errno = errno;
        goto out;
    }
    if ((r->spawn_errno = spawn_plugin(exe, argv, envp, out_pipe[1], err_pipe[1], &pid)) != 0) {
        pid = -1;
        goto out;
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    out_pipe[1] = err_pipe[1] = -1;
    read_output(out_pipe[0], err_pipe[0], clk, deadline, b, r);
    pid = wait_exit(pid, clk, deadline, b, r);
out:
    if (pid > 0) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        while (waitpid(pid, &r->wait_status, 0) < 0 && errno == EINTR) {
        }
    }
    for (int i = 0; i < 2; i++) {
        if (out_pipe[i] >= 0)
            close(out_pipe[i]);
        if (err_pipe[i] >= 0)
            close(err_pipe[i]);
    }
}

/* The first line(s) of stderr, flattened to one line for a message. */
static void stderr_excerpt(const child_run *r, char *buf, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < r->err_len && n + 1 < size; i++) {
        char c = r->err_text[i];
        buf[n++] = c == '\n' || c == '\r' || c == '\t' ? ' ' : c;
    }
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    buf[n] = '\0';
}

/* Every plugin failure ends with the installHint, which tells the user how
 * to get a working plugin. */
static klease_status plugin_fail(klease_error *err, const klease__exec_config *x,
                                 const child_run *r, const char *fmt, ...) KLEASE__PRINTF(4, 5);

static klease_status plugin_fail(klease_error *err, const klease__exec_config *x,
                                 const child_run *r, const char *fmt, ...)
{
    char detail[256];
    char errs[160] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (r != NULL)
        stderr_excerpt(r, errs, sizeof errs);
    return klease__fail(err, KLEASE_EAUTH, "exec plugin \"%.100s\": %s%s%s%s%s%s", x->command,
                        detail, errs[0] != '\0' ? " (stderr: " : "", errs,
                        errs[0] != '\0' ? ")" : "", x->install_hint != NULL ? ". " : "",
                        x->install_hint != NULL ? x->install_hint : "");
}

klease_status klease__exec_plugin_run(const klease__exec_config *x, const char *exec_info,
                                      const klease__logger *log, const klease__budget *b,
                                      klease__exec_result *out, klease_error *err)
{
    klease_status st = KLEASE_OK;
    char *info = NULL;
    char *exe = NULL;
    char **envp = build_env(x, exec_info, &info);
    char **argv = build_argv(x);
    child_run *r = klease__calloc(1, sizeof *r);

    if (envp == NULL || argv == NULL || r == NULL) {
        st = klease__fail(err, KLEASE_ENOMEM, "exec plugin: out of memory");
        goto out;
    }
    if ((r->spawn_errno = resolve_command(x->command, &exe)) == 0)
        run_child(exe, argv, envp, b, r);
    if (r->nomem || r->spawn_errno == ENOMEM) {
        st = klease__fail(err, KLEASE_ENOMEM, "exec plugin: out of memory");
    } else if (r->spawn_errno == ENOENT) {
        st = plugin_fail(err, x, NULL,
                         "executable not found; it looks like a client-go "
                         "credential plugin that is not installed");
    } else if (r->spawn_errno != 0) {
        st = plugin_fail(err, x, NULL, "cannot start: %s", strerror(r->spawn_errno));
    } else if (r->cancelled) {
        st = klease__fail(err, KLEASE_ECLOSED,
                          "exec plugin \"%.100s\": stopped: the call was "
                          "cancelled",
                          x->command);
    } else if (r->call_timed_out) {
        st = klease__fail(err, KLEASE_ETIMEDOUT,
                          "exec plugin \"%.100s\": stopped: the call's time limit of %lld ms "
                          "ran out before the plugin finished",
                          x->command, (long long)b->limit_ms);
    } else if (r->timed_out) {
        st =
            plugin_fail(err, x, r, "killed after %lld ms (the plugin time limit) without finishing",
                        (long long)plugin_timeout_ms());
    } else if (r->too_much) {
        st = plugin_fail(err, x, r, "killed for printing more than %zu bytes",
                         KLEASE__EXEC_MAX_STDOUT);
    } else if (r->waited && WIFSIGNALED(r->wait_status)) {
        st = plugin_fail(err, x, r, "killed by signal %d", WTERMSIG(r->wait_status));
    } else if (r->waited && WEXITSTATUS(r->wait_status) != 0) {
        st = plugin_fail(err, x, r, "exited with status %d", WEXITSTATUS(r->wait_status));
    } else {
        klease_error perr;
        klease__error_clear(&perr);
        st = klease__exec_credential_parse(r->out != NULL ? r->out : "", r->out_len, x->api_version,
                                           out, &perr);
        if (st == KLEASE_ENOMEM)
            st = klease__fail(err, st, "exec plugin: out of memory");
        else if (st != KLEASE_OK)
            st = plugin_fail(err, x, r, "bad output: %s", perr.message);
        else if (r->err_len > 0)
            klease__log(log, KLEASE_LOG_DEBUG, "exec plugin \"%s\" wrote to stderr: %.*s",
                        x->command, (int)r->err_len, r->err_text);
    }
out:
    if (r != NULL)
        klease__free(r->out);
    klease__free(r);
    klease__free(exe);
    klease__free(argv);
    klease__free(envp);
    klease__free(info);
    return st;
}
