/* The work a chaos `klease exec` contender guards: a CMD that records its
 * own lifetime, and that of a background grandchild it starts, so the
 * checker can count overlaps of the WORK, not only of elector beliefs.
 *
 * Each process (the CMD and its grandchild) owns one file,
 * DIR/work-OWNER-PID, holding one fixed-width line rewritten in place with
 * pwrite(2):
 *   START_NS LAST_ALIVE_NS END_NS OWNER
 * CLOCK_BOOTTIME, comparable across processes on this machine. LAST_ALIVE
 * is rewritten every 2 ms, END is written when the process exits on its own
 * (0 otherwise, e.g. after SIGKILL). START is taken before anything else
 * and END (or LAST_ALIVE) as late as possible, so [START, END or
 * LAST_ALIVE] is an inner bound of the lifetime: an overlap of two owners'
 * intervals certainly happened.
 *
 * KIND says how SIGTERM is taken: "quick" (exit at once), "slow:MS" (keep
 * running MS milliseconds, then exit), "stubborn" (ignored: only SIGKILL
 * ends it). The grandchild behaves the same.
 *
 * Usage: chaos_work DIR OWNER KIND */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t term_seen;

static void on_term(int sig)
{
    (void)sig;
    term_seen = 1;
}

static int64_t boot_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int fd = -1;
static int64_t started;
static const char *owner;

static void record(int64_t alive, int64_t end)
{
    char line[160];
    int n = snprintf(line, sizeof line, "%020lld %020lld %020lld %-64s\n", (long long)started,
                     (long long)alive, (long long)end, owner);
    if (pwrite(fd, line, (size_t)n, 0) != n)
        _exit(3);
}

/* One process's life: heartbeat until SIGTERM has been handled per KIND. */
static void live(const char *dir, const char *kind)
{
    started = boot_ns();
    char path[1024];
    snprintf(path, sizeof path, "%s/work-%s-%d", dir, owner, (int)getpid());
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        _exit(3);
    record(started, 0);
    long slow_ms = strncmp(kind, "slow:", 5) == 0 ? strtol(kind + 5, NULL, 10) : 0;
    int stubborn = strcmp(kind, "stubborn") == 0;
    int64_t stop_at = 0;
    struct timespec nap = {0, 2 * 1000000};
    for (;;) {
        int64_t now = boot_ns();
        if (term_seen && !stubborn) {
            if (stop_at == 0)
                stop_at = now + (int64_t)slow_ms * 1000000;
            if (now >= stop_at) {
                record(now, boot_ns());
                _exit(0);
            }
        }
        record(now, 0);
        nanosleep(&nap, NULL);
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: chaos_work DIR OWNER quick|slow:MS|stubborn\n");
        return 2;
    }
    owner = argv[2];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = strcmp(argv[3], "stubborn") == 0 ? SIG_IGN : on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    pid_t pid = fork();
    if (pid < 0)
        return 3;
    live(argv[1], argv[3]); /* parent and grandchild alike; never returns */
    return 0;
}
