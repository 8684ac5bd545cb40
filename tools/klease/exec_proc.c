/* klease exec: CMD's process tree.
 *
 * CMD runs in a process group of its own (its first process is the group
 * leader), so everything it starts, down to a `worker &` of a shell script,
 * can be signalled at once: every signal klease sends or forwards goes to
 * the group. klease is a child subreaper (PR_SET_CHILD_SUBREAPER, set by
 * exec.c), so group members orphaned by their parent become klease's
 * children and are reaped here, and klease waits until no process of the
 * group is left before it exits.
 *
 * If klease dies, even by SIGKILL, nothing of klease runs any more, so a
 * watchdog does it: a small process forked from klease that holds the read
 * end of a pipe whose only write end is klease's. When klease dies the
 * kernel closes that end, the watchdog's read() returns 0 and it SIGKILLs
 * the group, within milliseconds. The watchdog is in a session of its own
 * and ignores the signals a terminal or a user sends a job, so what stops
 * klease does not stop it first. When the group is gone klease writes one
 * byte: the watchdog exits without killing anything. CMD's first process
 * also asks for SIGKILL when klease dies (PR_SET_PDEATHSIG), and is held
 * before exec until the watchdog is in place, so there is no window in which
 * CMD runs unguarded.
 *
 * Nothing is inherited: CMD gets fds 0-2 and nothing else (the API server's
 * sockets, libcurl's, our pipes are all closed before exec). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The signals klease forwards; the children reset them to their defaults. */
static const int job_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

/* Highest fd to close when close_range() is missing; read before fork. */
static int max_fd = 1024;

/* Closes every fd from `from` to `to` inclusive. Async-signal-safe. */
static void close_fds(int from, int to)
{
    if (from > to)
        return;
    if (close_range((unsigned)from, (unsigned)to, 0) == 0)
        return;
    for (int fd = from; fd <= to && fd <= max_fd; fd++)
        close(fd);
}

/* Closes everything but `keep`, from fd `from` on. */
static void close_all_but(int from, int keep)
{
    close_fds(from, keep - 1);
    close_fds(keep + 1, ~0U >> 1);
}

static void set_dispositions(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof job_signals / sizeof job_signals[0]; i++)
        sigaction(job_signals[i], &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
}

/* The watchdog's whole life. Only async-signal-safe calls: it was forked
 * from a multithreaded process. */
static void watchdog_main(int fd, pid_t pgid)
{
    setsid();
    set_dispositions(SIG_IGN);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    close_all_but(0, fd);
    unsigned char b;
    ssize_t n;
    do
        n = read(fd, &b, 1);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        kill(-pgid, SIGKILL); /* klease is gone */
    _exit(0);
}

static pid_t start_watchdog(pid_t pgid, int *fd_out)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    pid_t w = fork();
    if (w == 0)
        watchdog_main(p[0], pgid);
    close(p[0]);
    if (w < 0) {
        close(p[1]);
        return -1;
    }
    *fd_out = p[1];
    return w;
}

/* CMD's first process, from fork to exec. Only async-signal-safe calls. */
static void child_main(char **argv, char **envp, pid_t parent, int go_fd, int err_fd)
{
    setpgid(0, 0);
    set_dispositions(SIG_DFL);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* klease died before prctl took effect */
        _exit(CLI_EXIT_CANNOT_EXEC);
    /* Wait for the watchdog to be in place; EOF: klease died meanwhile. */
    unsigned char b;
    ssize_t n;
    do
        n = read(go_fd, &b, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        _exit(CLI_EXIT_CANNOT_EXEC);
    close_all_but(3, err_fd); /* err_fd is close-on-exec: gone once exec succeeds */
    execvpe(argv[0], argv, envp);
    int e = errno;
    ssize_t r = write(err_fd, &e, sizeof e);
    (void)r;
    _exit(e == ENOENT ? CLI_EXIT_NO_COMMAND : CLI_EXIT_CANNOT_EXEC);
}

/* After fork: waits for exec's verdict (the error pipe closes on success).
 * Returns 0, or the errno of a failed exec. */
static int exec_verdict(int err_fd)
{
    int e = 0;
    ssize_t n;
    do
        n = read(err_fd, &e, sizeof e);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof e ? e : 0;
}

static void close_pair(int p[2])
{
    for (int i = 0; i < 2; i++) {
        if (p[i] >= 0)
            close(p[i]);
        p[i] = -1;
    }
}

bool cli_job_start(cli_job *j, char **argv, char **envp, int *exit_code)
{
    int ep[2] = {-1, -1}, go[2] = {-1, -1};
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 1 << 20)
        max_fd = (int)rl.rlim_cur;
    j->pgid = j->watchdog = -1;
    j->watchdog_fd = -1;
    j->first_done = false;
    j->first_rc = 0;
    *exit_code = CLI_EXIT_CANNOT_EXEC;
    if (pipe2(ep, O_CLOEXEC) != 0 || pipe2(go, O_CLOEXEC) != 0) {
        cli_errorf("cannot start %s: pipe: %s", argv[0], strerror(errno));
        close_pair(ep);
        close_pair(go);
        return false;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        child_main(argv, envp, parent, go[0], ep[1]);
    int e = errno;
    close(go[0]);
    close(ep[1]);
    go[0] = ep[1] = -1;
    if (pid < 0) {
        cli_errorf("cannot start %s: fork: %s", argv[0], strerror(e));
        goto fail;
    }
    setpgid(pid, pid); /* as the child does: whichever runs first */
    j->pgid = pid;
    if ((j->watchdog = start_watchdog(pid, &j->watchdog_fd)) < 0) {
        cli_errorf("cannot start %s: watchdog: %s", argv[0], strerror(errno));
        goto fail;
    }
    unsigned char b = 1;
    if (write(go[1], &b, 1) != 1) {
        cli_errorf("cannot start %s: %s", argv[0], strerror(errno));
        goto fail;
    }
    close(go[1]);
    go[1] = -1;
    if ((e = exec_verdict(ep[0])) != 0) {
        cli_errorf("cannot run %s: %s", argv[0], strerror(e));
        *exit_code = e == ENOENT ? CLI_EXIT_NO_COMMAND : CLI_EXIT_CANNOT_EXEC;
        goto fail;
    }
    close(ep[0]);
    return true;

fail:
    close_pair(ep);
    close_pair(go);
    if (j->pgid > 0)
        cli_job_kill_and_wait(j);
    cli_job_finish(j);
    j->pgid = -1;
    return false;
}

void cli_job_signal(const cli_job *j, int sig)
{
    if (j->pgid > 0)
        kill(-j->pgid, sig);
}

bool cli_job_alive(cli_job *j)
{
    if (j->pgid <= 0)
        return false;
    int status;
    pid_t r;
    /* Every child in the group: CMD's first process and, as subreaper, its
     * orphans. */
    while ((r = waitpid(-j->pgid, &status, WNOHANG)) > 0) {
        if (r == j->pgid) {
            j->first_done = true;
            j->first_rc = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
        }
    }
    /* Members whose parent is alive are not ours to reap, but still there. */
    return kill(-j->pgid, 0) == 0 || errno == EPERM;
}

void cli_job_kill_and_wait(cli_job *j)
{
    while (cli_job_alive(j)) {
        cli_job_signal(j, SIGKILL);
        struct timespec nap = {0, 10 * 1000000};
        nanosleep(&nap, NULL);
    }
}

void cli_job_finish(cli_job *j)
{
    if (j->watchdog_fd >= 0) {
        unsigned char b = 1;
        ssize_t r = write(j->watchdog_fd, &b, 1); /* "all is well": exit quietly */
        (void)r;
        close(j->watchdog_fd);
        j->watchdog_fd = -1;
    }
    if (j->watchdog > 0) {
        while (waitpid(j->watchdog, NULL, 0) < 0 && errno == EINTR) {
        }
        j->watchdog = -1;
    }
}
