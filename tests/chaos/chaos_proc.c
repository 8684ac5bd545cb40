/* The chaos contenders' process plumbing: see chaos_proc.h. */
#include "chaos_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static int log_fd = -1;
static const char *log_ident = "?";
static int64_t skew_ns;

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t chaos_boot_ns(void)
{
    return clock_ns(CLOCK_BOOTTIME);
}

void chaos_nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static bool num_arg(const char *v, long long *n)
{
    char *end = NULL;
    *n = strtoll(v, &end, 10);
    return end != v && *end == '\0';
}

static bool proc_arg(chaos_proc_args *p, const char *opt, const char *v, long long n, bool num)
{
    if (strcmp(opt, "--kubeconfig") == 0)
        p->kubeconfig = v;
    else if (strcmp(opt, "--id") == 0)
        p->id = v;
    else if (strcmp(opt, "--log") == 0)
        p->log = v;
    else if (strcmp(opt, "--duration-ms") == 0 && num)
        p->duration_ms = n;
    else if (strcmp(opt, "--grace-ms") == 0 && num)
        p->grace_ms = n;
    else if (strcmp(opt, "--timeout-ms") == 0 && num)
        p->timeout_ms = n;
    else if (strcmp(opt, "--skew-ms") == 0 && num)
        p->skew_ms = n;
    else if (strcmp(opt, "--tolerance-ms") == 0 && num)
        p->tolerance_ms = n;
    else
        return false;
    return true;
}

bool chaos_proc_parse(chaos_proc_args *p, int argc, char **argv,
                      bool (*own)(const char *opt, const char *v, long long n, bool num),
                      const char *prog)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *opt = argv[i], *v = argv[i + 1];
        long long n = 0;
        bool num = num_arg(v, &n);
        if (!proc_arg(p, opt, v, n, num) && !own(opt, v, n, num)) {
            fprintf(stderr, "%s: bad argument %s\n", prog, opt);
            return false;
        }
    }
    return true;
}

int chaos_log_open(const char *path, const char *ident)
{
    log_ident = ident;
    if ((log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
        perror(path);
        return -1;
    }
    return 0;
}

void chaos_log_close(void)
{
    close(log_fd);
    log_fd = -1;
}

void chaos_logat(int64_t t, const char *fmt, ...)
{
    char line[1024];
    int n = snprintf(line, sizeof line, "%lld %lld %s %d ", (long long)t,
                     (long long)clock_ns(CLOCK_REALTIME), log_ident, (int)getpid());
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    if (write(log_fd, line, (size_t)n) < 0)
        _exit(3);
}

bool chaos_take_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    /* SIGPIPE keeps its default action on purpose: the library must never
     * raise it, even when the server drops connections mid-request. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    return getppid() != 1;
}

/* The library's wall-clock hook: the real clock, offset by the skew. */
static int64_t skewed_wall(void *user)
{
    (void)user;
    return clock_ns(CLOCK_REALTIME) + skew_ns;
}

klease_client_options chaos_client_options(const char *kubeconfig, long long timeout_ms,
                                           long long skew_ms)
{
    klease_client_options co = KLEASE_CLIENT_OPTIONS_INIT;
    co.kubeconfig = kubeconfig;
    co.request_timeout_ms = timeout_ms;
    co.connect_timeout_ms = timeout_ms;
    skew_ns = skew_ms * 1000000;
    if (skew_ms != 0)
        co.wall_clock_ns = skewed_wall;
    return co;
}
