/* Shared helpers for the benchmarks. */
#include "bench_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
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

long bench_proc_status(pid_t pid, const char *field)
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
    return bench_proc_status(pid, "VmRSS");
}

long bench_threads(pid_t pid)
{
    return bench_proc_status(pid, "Threads");
}

int64_t bench_proc_cpu_ns(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may hold spaces: fields count from the last ')'.
     * utime and stime are fields 14 and 15, the 12th and 13th after it. */
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    p++;
    for (int field = 3; field < 14 && p != NULL; field++)
        p = strchr(p + 1, ' ');
    if (p == NULL)
        return -1;
    char *end;
    long long ut = strtoll(p, &end, 10);
    long long st = strtoll(end, NULL, 10);
    long hz = sysconf(_SC_CLK_TCK);
    return (int64_t)(ut + st) * (1000000000 / hz);
}

long bench_tcp_established(int port)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    char line[512];
    long n = 0;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned lport, state;
        /* "  sl  local_address rem_address   st ..." e.g. "0: 0100007F:1F90 ... 01" */
        if (sscanf(line, " %*d: %*8x:%x %*8x:%*x %x", &lport, &state) == 2 && (int)lport == port &&
            state == 1)
            n++;
    }
    fclose(f);
    return n;
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
    char fields[8192];
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
    s->plain_http = 0;
    for (int i = 0; extra != NULL && extra[i] != NULL; i++)
        if (strcmp(extra[i], "--plain-http") == 0)
            s->plain_http = 1;
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

static long json_field(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *k = strstr(json, pat);
    return k != NULL ? strtol(k + strlen(pat), NULL, 10) : -1;
}

void bench_sim_counters_get(const bench_sim *s, bench_sim_counters *out)
{
    char cmd[1400], line[512] = "";
    snprintf(cmd, sizeof cmd,
             "curl -sS --cacert '%s/ca.crt' -H 'Authorization: Bearer bench-token' "
             "%s://127.0.0.1:%d/_ksim/counters",
             s->workdir, s->plain_http ? "http" : "https", s->port);
    FILE *p = popen(cmd, "r");
    if (p != NULL) {
        if (fgets(line, sizeof line, p) == NULL)
            line[0] = '\0';
        pclose(p);
    }
    out->connections = json_field(line, "connections");
    out->tls_handshakes = json_field(line, "tlsHandshakes");
    out->requests = json_field(line, "requests");
    out->watches = json_field(line, "watches");
    out->watches_open = json_field(line, "watchesOpen");
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("free port");
        exit(1);
    }
    close(fd);
    return ntohs(a.sin_port);
}

static int port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

void bench_front_start(bench_front *f, const char *nghttpx, const bench_sim *backend)
{
    char cmd[2048], key[600], crt[600], front[64], back[64], pidfile[600];
    snprintf(key, sizeof key, "%s/front.key", backend->workdir);
    snprintf(crt, sizeof crt, "%s/front.crt", backend->workdir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout '%s' -out '%s' -days 2 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 2>/dev/null",
             key, crt);
    if (system(cmd) != 0) {
        fprintf(stderr, "openssl could not make the front's certificate\n");
        exit(1);
    }
    f->port = free_port();
    snprintf(front, sizeof front, "--frontend=127.0.0.1,%d", f->port);
    snprintf(back, sizeof back, "--backend=127.0.0.1,%d", backend->port);
    snprintf(f->accesslog, sizeof f->accesslog, "%s/front-access.log", backend->workdir);
    char logopt[1100];
    snprintf(logopt, sizeof logopt, "--accesslog-file=%s", f->accesslog);
    snprintf(pidfile, sizeof pidfile, "%s/front-error.log", backend->workdir);
    char erropt[700];
    snprintf(erropt, sizeof erropt, "--errorlog-file=%s", pidfile);
    /* One process, one worker thread: its CPU is one /proc entry. The
     * timeouts are longer than any lease so idle connections stay up. */
    const char *argv[] = {nghttpx,
                          "--conf=/dev/null",
                          "--single-process",
                          "--workers=1",
                          "--no-ocsp",
                          front,
                          back,
                          logopt,
                          "--accesslog-format=$alpn $method $status",
                          erropt,
                          "--frontend-http2-read-timeout=10m",
                          "--frontend-keep-alive-timeout=10m",
                          "--backend-read-timeout=10m",
                          "--backend-keep-alive-timeout=10m",
                          key,
                          crt,
                          NULL};
    /* It prints a notice before it opens its error log: keep stdout clean. */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawn(&f->pid, nghttpx, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "cannot start %s\n", nghttpx);
        exit(1);
    }
    for (int i = 0; !port_open(f->port); i++) {
        if (i == 100) {
            fprintf(stderr, "nghttpx did not listen on %d in 10 s (see %s)\n", f->port, pidfile);
            exit(1);
        }
        bench_sleep_ms(100);
    }
    snprintf(f->kubeconfig, sizeof f->kubeconfig, "%s/front.kubeconfig", backend->workdir);
    FILE *k = fopen(f->kubeconfig, "w");
    if (k == NULL) {
        perror(f->kubeconfig);
        exit(1);
    }
    fprintf(k,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: h2\n  cluster:\n"
            "    server: https://127.0.0.1:%d\n    certificate-authority: %s\n"
            "users:\n- name: bench\n  user:\n    token: bench-token\n"
            "contexts:\n- name: h2\n  context:\n    cluster: h2\n    user: bench\n"
            "current-context: h2\n",
            f->port, crt);
    fclose(k);
}

void bench_front_stop(bench_front *f)
{
    kill(f->pid, SIGTERM);
    waitpid(f->pid, NULL, 0);
}

void bench_front_requests(const bench_front *f, long *total, long *h2)
{
    FILE *l = fopen(f->accesslog, "r");
    char line[256];
    *total = *h2 = 0;
    while (l != NULL && fgets(line, sizeof line, l) != NULL) {
        (*total)++;
        *h2 += strncmp(line, "h2 ", 3) == 0;
    }
    if (l != NULL)
        fclose(l);
}

klease_client *bench_client(const bench_sim *s)
{
    return bench_client_from(s->kubeconfig);
}

klease_client *bench_client_from(const char *kubeconfig)
{
    klease_client_options o = KLEASE_CLIENT_OPTIONS_INIT;
    o.kubeconfig = kubeconfig;
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
