/* Shared helpers for the benchmarks. */
#include "bench_util.h"

#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int64_t ns_of(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t bench_now_ns(void)
{
    return ns_of(CLOCK_BOOTTIME);
}

int64_t bench_thread_cpu_ns(void)
{
    return ns_of(CLOCK_THREAD_CPUTIME_ID);
}

int64_t bench_process_cpu_ns(void)
{
    return ns_of(CLOCK_PROCESS_CPUTIME_ID);
}

void bench_sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static long proc_status_field(pid_t pid, const char *field)
{
    char path[64], line[256];
    if (pid == 0)
        snprintf(path, sizeof path, "/proc/self/status");
    else
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long value = -1;
    size_t n = strlen(field);
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            value = strtol(line + n + 1, NULL, 10);
            break;
        }
    }
    if (f != NULL)
        fclose(f);
    return value;
}

long bench_rss_kib(pid_t pid)
{
    return proc_status_field(pid, "VmRSS");
}

long bench_threads(pid_t pid)
{
    return proc_status_field(pid, "Threads");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_percentile(double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_double);
    size_t rank = (size_t)((p / 100.0) * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

void bench_emit(const char *name, const char *fields_fmt, ...)
{
    char fields[4096];
    va_list ap;
    va_start(ap, fields_fmt);
    vsnprintf(fields, sizeof fields, fields_fmt, ap);
    va_end(ap);
    printf("{\"bench\":\"%s\",%s}\n", name, fields);
    fflush(stdout);
}

void bench_sim_start(bench_sim *s, const char *sim_binary, const char *const *extra)
{
    char tmpl[] = "/tmp/klease-bench-XXXXXX";
    if (mkdtemp(tmpl) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(s->workdir, sizeof s->workdir, "%s", tmpl);
    const char *argv[32];
    int argc = 0;
    argv[argc++] = sim_binary;
    argv[argc++] = "--workdir";
    argv[argc++] = s->workdir;
    for (int i = 0; extra != NULL && extra[i] != NULL && argc < 30; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    int out[2];
    if (pipe(out) != 0) {
        perror("pipe");
        exit(1);
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    if (posix_spawn(&s->pid, sim_binary, &fa, NULL, (char *const *)argv, environ) != 0) {
        fprintf(stderr, "cannot start %s\n", sim_binary);
        exit(1);
    }
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    FILE *f = fdopen(out[0], "r");
    char line[1200];
    s->port = 0;
    s->kubeconfig[0] = '\0';
    while ((s->port == 0 || s->kubeconfig[0] == '\0') && fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "port=", 5) == 0)
            s->port = (int)strtol(line + 5, NULL, 10);
        else if (strncmp(line, "kubeconfig=", 11) == 0)
            snprintf(s->kubeconfig, sizeof s->kubeconfig, "%s", line + 11);
    }
    fclose(f);
    if (s->port == 0 || s->kubeconfig[0] == '\0') {
        fprintf(stderr, "the simulator did not report its port and kubeconfig\n");
        exit(1);
    }
}

void bench_sim_stop(bench_sim *s)
{
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->workdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", s->workdir);
}

klease_client *bench_client(const bench_sim *s)
{
    klease_client_options o = KLEASE_CLIENT_OPTIONS_INIT;
    o.kubeconfig = s->kubeconfig;
    klease_client *c = NULL;
    klease_error err;
    bench_check(klease_client_new(&c, &o, &err), &err, "klease_client_new");
    return c;
}

void bench_check(klease_status st, const klease_error *err, const char *what)
{
    if (st != KLEASE_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, klease_strerror(st), err ? err->message : "");
        exit(1);
    }
}
