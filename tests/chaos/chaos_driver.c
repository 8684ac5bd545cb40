/* The chaos driver: starts klease-apiserver-sim (with --state, --history and
 * a fixed --port after the first start, so a restart keeps data and
 * address), N chaos_contender processes with their own identities, and for a
 * bounded time draws faults at random:
 *   background, per request (the simulator's seeded draws): latency up to
 *     2 s, 500/503 and 429 at about 10%, connections dropped before and
 *     after the write is applied, hung requests;
 *   episodes: a contender partitioned for a while (often the leader), a
 *     contender killed with SIGKILL and restarted, a contender stopped with
 *     SIGTERM (close + vacate) and restarted, a simulator restart, a burst of
 *     503s on writes.
 * Every episode goes to events.log with its CLOCK_BOOTTIME time. At the end
 * everything is stopped (contenders first, gracefully) and chaos_check
 * judges the logs; its exit status is the driver's.
 *
 * --scenario skew-negative instead runs the proof that the checker can
 * fail: a holder whose renewals are slowed, and a contender whose wall clock
 * runs 10 s ahead with a skew tolerance of 0, which takes the lease over
 * while the holder still (rightly, by its own clock) leads. The checker must
 * report the overlap.
 *
 * --scenario exec runs the same episodes with `klease exec` contenders
 * (--klease BIN) guarding chaos_work (--work BIN), a CMD that records its
 * own lifetime and its grandchild's: quick to stop, slow to stop (700 ms)
 * or ignoring SIGTERM, by contender. Each klease process has an identity of
 * its own (contender-I-rN). The checker then counts overlaps of the CMD
 * lifetimes. --scenario exec-negative is its proof that the checker can
 * fail: --margin 0 (SIGTERM only at the claim's deadline) and a CMD that
 * takes 4 s to stop, with the leader partitioned: the follower's CMD starts
 * while the old one still runs.
 *
 * --scenario many runs the same episodes with chaos_many contenders
 * (--many BIN), each holding --leases (200) leases lease-000.. of one
 * namespace through one client and doing slow-to-stop work for each while
 * is_leader() is true; chaos_many_check (--many-checker BIN) then fails on
 * any overlap of two processes' work on one lease. --scenario many-negative
 * is its proof that it can fail: a contender with --margin-ms 0 whose work
 * takes 4 s to stop, partitioned while it holds every lease.
 *
 * Usage: chaos_driver --sim BIN --contender BIN --checker BIN --workdir DIR
 *          [--klease BIN --work BIN] [--many BIN --many-checker BIN --leases 200]
 *          [--seconds 60] [--contenders 5] [--seed N]
 *          [--scenario chaos|skew-negative|exec|exec-negative|many|many-negative] */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAXC  16
#define LEASE "chaos-lease"

static const char *sim_bin, *contender_bin, *checker_bin, *workdir;
static const char *klease_bin, *work_bin;
static char sim_dir[1024], state_path[1024], history_path[1024], events_path[1024];
static char ca_path[1100], admin_token[256];
static int port;
static pid_t sim_pid = -1;
static pid_t cpid[MAXC];
static int ncont = 5;
static long duration_ms = 5000, grace_ms = 2000;
static char skew_args[MAXC][32], tol_args[MAXC][32];
static uint64_t rng_state;

/* The exec scenarios: contenders are `klease exec` processes. */
static bool exec_mode;
static char work_dir[1100];
static int restarts[MAXC];      /* identities are contender-I-rN, one per process */
static const char *exec_margin; /* --margin, or NULL for exec's default */
static const char *exec_kill_after;
static const char *work_kind[MAXC];

/* The many-lease scenarios: contenders are chaos_many processes. */
static bool many_mode;
static const char *many_bin, *many_checker_bin;
static int nleases = 200;
static char margin_args[MAXC][32], stop_args[MAXC][32];

static int64_t boot_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static long between(long lo, long hi)
{
    return lo + (long)(rng() % (uint64_t)(hi - lo + 1));
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Never leave processes behind: stop every contender and the simulator
 * (by PID) before giving up. */
static void kill_children(void)
{
    for (int i = 0; i < MAXC; i++) {
        if (cpid[i] > 0) {
            kill(cpid[i], SIGKILL);
            waitpid(cpid[i], NULL, 0);
            cpid[i] = -1;
        }
    }
    if (sim_pid > 0) {
        kill(sim_pid, SIGTERM);
        waitpid(sim_pid, NULL, 0);
        sim_pid = -1;
    }
}

static void on_signal(int sig)
{
    (void)sig;
    kill_children(); /* kill and waitpid are async-signal-safe */
    _exit(2);
}

static void die(const char *fmt, ...)
{
    kill_children();
    va_list ap;
    va_start(ap, fmt);
    fputs("chaos_driver: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* events.log: "BOOT_NS TEXT"; episodes as "begin X" ... "end X". */
static void event(const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    FILE *f = fopen(events_path, "a");
    if (f == NULL)
        die("cannot write %s", events_path);
    fprintf(f, "%lld %s\n", (long long)boot_ns(), text);
    fclose(f);
    printf("[%7.3f] %s\n", (double)boot_ns() / 1e9, text);
    fflush(stdout);
}

/* ------------------------------------------------------------ simulator */

static void start_sim(void)
{
    int out[2];
    if (pipe(out) != 0)
        die("pipe: %s", strerror(errno));
    char port_s[16], seed_s[32];
    snprintf(port_s, sizeof port_s, "%d", port);
    /* The simulator takes a signed 64-bit seed. */
    snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)((rng() >> 2) | 1));
    char tokens[MAXC][64];
    const char *argv[64];
    int a = 0;
    argv[a++] = sim_bin;
    argv[a++] = "--port";
    argv[a++] = port_s;
    argv[a++] = "--workdir";
    argv[a++] = sim_dir;
    argv[a++] = "--state";
    argv[a++] = state_path;
    argv[a++] = "--history";
    argv[a++] = history_path;
    argv[a++] = "--seed";
    argv[a++] = seed_s;
    argv[a++] = "--bookmark-interval-ms";
    argv[a++] = "1000";
    for (int i = 0; i < ncont; i++) {
        snprintf(tokens[i], sizeof tokens[i], "chaos-token-%d:contender-%d", i, i);
        argv[a++] = "--token";
        argv[a++] = tokens[i];
    }
    argv[a] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    /* A restart can race the old socket's TIME_WAIT: retry a few times. */
    for (int attempt = 0;; attempt++) {
        if (posix_spawn(&sim_pid, sim_bin, &fa, NULL, (char **)argv, environ) != 0)
            die("cannot start %s", sim_bin);
        close(out[1]);
        FILE *f = fdopen(out[0], "r");
        char line[1200];
        bool got_port = false;
        while (fgets(line, sizeof line, f) != NULL) {
            if (strncmp(line, "port=", 5) == 0) {
                port = (int)strtol(line + 5, NULL, 10);
                got_port = true;
            }
            if (strncmp(line, "kubeconfig=", 11) == 0)
                break;
        }
        fclose(f);
        if (got_port)
            break;
        int status;
        waitpid(sim_pid, &status, 0);
        if (attempt == 20)
            die("the simulator does not start (port %d)", port);
        nap_ms(250);
        if (pipe(out) != 0)
            die("pipe: %s", strerror(errno));
        posix_spawn_file_actions_destroy(&fa);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_addclose(&fa, out[0]);
    }
    posix_spawn_file_actions_destroy(&fa);
}

static void stop_sim(void)
{
    if (sim_pid <= 0)
        return;
    kill(sim_pid, SIGTERM);
    int status;
    waitpid(sim_pid, &status, 0);
    sim_pid = -1;
}

/* POST/DELETE on the control endpoint or GET on the API, as the admin. */
static size_t collect(char *data, size_t size, size_t n, void *user)
{
    char *buf = user;
    size_t have = strlen(buf), add = size * n;
    if (have + add < 8191) {
        memcpy(buf + have, data, add);
        buf[have + add] = '\0';
    }
    return size * n;
}

static long api(const char *method, const char *path, const char *body, char *out)
{
    char url[1200], auth[300];
    snprintf(url, sizeof url, "https://127.0.0.1:%d%s", port, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", admin_token);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    out[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CAINFO, ca_path);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    if (body != NULL)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long code = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return code;
}

/* Adds a fault; returns its id or -1. */
static long add_fault(const char *json)
{
    char out[8192];
    if (api("POST", "/_ksim/faults", json, out) != 201)
        return -1;
    const char *id = strstr(out, "\"id\":");
    return id ? strtol(id + 5, NULL, 10) : -1;
}

static void remove_fault(long id)
{
    char out[8192], path[64];
    if (id < 0)
        return;
    snprintf(path, sizeof path, "/_ksim/faults/%ld", id);
    api("DELETE", path, NULL, out);
}

/* The holder's index, or -1. In the many-lease scenario, of a lease drawn
 * at random (so a partition often hits a process at work). */
static int current_holder(void)
{
    char out[8192], path[256];
    if (many_mode)
        snprintf(path, sizeof path,
                 "/apis/coordination.k8s.io/v1/namespaces/default/leases/"
                 "lease-%03d",
                 (int)(rng() % (uint64_t)nleases));
    else
        snprintf(path, sizeof path, "/apis/coordination.k8s.io/v1/namespaces/default/leases/%s",
                 LEASE);
    if (api("GET", path, NULL, out) != 200)
        return -1;
    const char *h = strstr(out, "\"holderIdentity\":\"contender-");
    return h ? (int)strtol(h + strlen("\"holderIdentity\":\"contender-"), NULL, 10) : -1;
}

/* The per-request faults, drawn by the simulator for every request: about
 * 10% server errors and 10% throttling, some drops on both sides of the
 * write, some hangs, and latency up to 2 s. Lost at a simulator restart,
 * so added again after each. */
static void add_background_faults(void)
{
    static const char *const faults[] = {
        "{\"kind\":\"latency\",\"probability\":0.10,\"latencyMs\":300}",
        "{\"kind\":\"latency\",\"probability\":0.05,\"latencyMs\":1000}",
        "{\"kind\":\"latency\",\"probability\":0.02,\"latencyMs\":2000}",
        "{\"kind\":\"error\",\"route\":\"non-watch\",\"probability\":0.05,\"status\":500}",
        "{\"kind\":\"error\",\"route\":\"non-watch\",\"probability\":0.05,\"status\":503}",
        "{\"kind\":\"throttle\",\"route\":\"non-watch\",\"probability\":0.10,\"retryAfterSeconds\":"
        "1}",
        "{\"kind\":\"drop-before\",\"route\":\"non-watch\",\"probability\":0.03}",
        "{\"kind\":\"drop-after\",\"method\":\"PATCH\",\"probability\":0.04}",
        "{\"kind\":\"hang\",\"route\":\"non-watch\",\"probability\":0.01}",
        "{\"kind\":\"hang\",\"route\":\"watch\",\"probability\":0.05}",
    };
    /* A simulator just restarted may be slow to answer while every
     * contender reconnects (1,000 electors in the many-lease scenario, more
     * so under a sanitizer): try each a few times. A fault whose answer was
     * lost after it was added is added twice, which only makes it likelier. */
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        int attempt = 0;
        while (add_fault(faults[i]) < 0) {
            if (++attempt == 10)
                die("the simulator refused fault %s", faults[i]);
            nap_ms(500);
        }
    }
}

/* ----------------------------------------------------------- contenders */

static void write_kubeconfigs(void)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/kubeconfig", sim_dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        die("no kubeconfig in %s", sim_dir);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    char *tok = strstr(text, "    token: ");
    if (tok == NULL)
        die("the simulator's kubeconfig has no token");
    char *eol = strchr(tok, '\n');
    snprintf(admin_token, sizeof admin_token, "%.*s", (int)(eol - tok - 11), tok + 11);
    for (int i = 0; i < ncont; i++) {
        snprintf(path, sizeof path, "%s/kubeconfig-%d", workdir, i);
        FILE *o = fopen(path, "w");
        if (o == NULL)
            die("cannot write %s", path);
        fprintf(o, "%.*s    token: chaos-token-%d%s", (int)(tok - text), text, i, eol);
        fclose(o);
    }
}

/* A `klease exec` contender: its state lines go to exec-I.log. */
static void start_exec_contender(int i)
{
    char kc[1200], log[1200], id[64], dur[32], grace[32];
    snprintf(kc, sizeof kc, "%s/kubeconfig-%d", workdir, i);
    snprintf(log, sizeof log, "%s/exec-%d.log", workdir, i);
    snprintf(id, sizeof id, "contender-%d-r%d", i, restarts[i]++);
    snprintf(dur, sizeof dur, "%ldms", duration_ms);
    snprintf(grace, sizeof grace, "%ldms", grace_ms);
    const char *argv[32];
    int a = 0;
    argv[a++] = klease_bin;
    argv[a++] = "exec";
    argv[a++] = LEASE;
    argv[a++] = "--kubeconfig";
    argv[a++] = kc;
    argv[a++] = "--identity";
    argv[a++] = id;
    argv[a++] = "--create";
    argv[a++] = "--duration";
    argv[a++] = dur;
    if (exec_margin != NULL) {
        argv[a++] = "--grace";
        argv[a++] = grace;
        argv[a++] = "--margin";
        argv[a++] = exec_margin;
    }
    if (exec_kill_after != NULL) {
        argv[a++] = "--kill-after";
        argv[a++] = exec_kill_after;
    }
    argv[a++] = "--";
    argv[a++] = work_bin;
    argv[a++] = work_dir;
    argv[a++] = id;
    argv[a++] = work_kind[i];
    argv[a] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (posix_spawn(&cpid[i], klease_bin, &fa, NULL, (char **)argv, environ) != 0)
        die("cannot start %s", klease_bin);
    posix_spawn_file_actions_destroy(&fa);
}

/* A chaos_contender (the one lease) or, in the many mode, a chaos_many
 * contender (every lease): its log is contender-I.log or many-I.log, every
 * process of contender I in turn. */
static void start_elector_contender(int i)
{
    const char *bin = many_mode ? many_bin : contender_bin;
    char kc[1200], log[1200], id[32], dur[32], grace[32], leases[32];
    snprintf(kc, sizeof kc, "%s/kubeconfig-%d", workdir, i);
    snprintf(log, sizeof log, "%s/%s-%d.log", workdir, many_mode ? "many" : "contender", i);
    snprintf(id, sizeof id, "contender-%d", i);
    snprintf(dur, sizeof dur, "%ld", duration_ms);
    snprintf(grace, sizeof grace, "%ld", grace_ms);
    snprintf(leases, sizeof leases, "%d", nleases);
    const char *argv[32];
    int a = 0;
    argv[a++] = bin;
    argv[a++] = "--kubeconfig";
    argv[a++] = kc;
    argv[a++] = "--id";
    argv[a++] = id;
    argv[a++] = "--log";
    argv[a++] = log;
    argv[a++] = "--duration-ms";
    argv[a++] = dur;
    argv[a++] = "--grace-ms";
    argv[a++] = grace;
    argv[a++] = "--skew-ms";
    argv[a++] = skew_args[i];
    argv[a++] = "--tolerance-ms";
    argv[a++] = tol_args[i];
    if (many_mode) {
        argv[a++] = "--leases";
        argv[a++] = leases;
        argv[a++] = "--margin-ms";
        argv[a++] = margin_args[i];
        argv[a++] = "--stop-ms";
        argv[a++] = stop_args[i];
    } else {
        argv[a++] = "--lease";
        argv[a++] = LEASE;
    }
    argv[a] = NULL;
    if (posix_spawn(&cpid[i], bin, NULL, NULL, (char **)argv, environ) != 0)
        die("cannot start %s", bin);
}

static void start_contender(int i)
{
    if (exec_mode)
        start_exec_contender(i);
    else
        start_elector_contender(i);
}

/* Contenders that died on their own (a crash, an abort, a SIGPIPE from the
 * library) or did not close cleanly on SIGTERM. Any makes the run fail. */
static int unexpected_deaths;

/* klease exec forwards SIGTERM to CMD, which may ignore it (that is its
 * right): wait 4 s, then SIGKILL klease, whose watchdog kills CMD. */
static void stop_exec_contender(int i, int sig)
{
    kill(cpid[i], sig);
    int status;
    for (int waited = 0; sig == SIGTERM && waited < 4000; waited += 20) {
        if (waitpid(cpid[i], &status, WNOHANG) == cpid[i]) {
            cpid[i] = -1;
            return;
        }
        nap_ms(20);
    }
    if (sig == SIGTERM)
        event("contender-%d still running 4 s after SIGTERM; SIGKILL", i);
    kill(cpid[i], SIGKILL);
    waitpid(cpid[i], &status, 0);
    cpid[i] = -1;
}

static void stop_contender(int i, int sig)
{
    if (cpid[i] <= 0)
        return;
    if (exec_mode) {
        stop_exec_contender(i, sig);
        return;
    }
    kill(cpid[i], sig);
    int status;
    waitpid(cpid[i], &status, 0);
    cpid[i] = -1;
    if (sig == SIGTERM && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        unexpected_deaths++;
        event("contender-%d did not close cleanly on SIGTERM (status 0x%x)", i, status);
    }
}

static void reap_unexpected(void)
{
    for (int i = 0; i < ncont; i++) {
        int status;
        if (cpid[i] > 0 && waitpid(cpid[i], &status, WNOHANG) == cpid[i]) {
            cpid[i] = -1;
            /* klease exec exits 124 when it stopped CMD because the lease
             * was lost, CMD's status (0 or 128+N here) when CMD ended on
             * its own, or 3 when the elector gave up: a supervisor restarts
             * it. Anything else is klease's own failure. */
            if (exec_mode && WIFEXITED(status) &&
                (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 3 ||
                 WEXITSTATUS(status) == 124 || WEXITSTATUS(status) >= 128)) {
                event("contender-%d exited with status %d; restart", i, WEXITSTATUS(status));
                start_contender(i);
                continue;
            }
            unexpected_deaths++;
            if (WIFSIGNALED(status))
                event("contender-%d DIED of signal %d", i, WTERMSIG(status));
            else
                event("contender-%d EXITED with status %d", i, WEXITSTATUS(status));
            start_contender(i);
        }
    }
}

/* ------------------------------------------------------------- episodes */

typedef struct pending {
    int64_t at; /* boot ns */
    int kind;   /* 1: end partition, 2: restart contender, 3: end burst */
    int who;
    long fault;
    bool used;
} pending;

static pending todo[64];

static void later(int64_t delay_ms, int kind, int who, long fault)
{
    for (int i = 0; i < 64; i++) {
        if (!todo[i].used) {
            todo[i] = (pending){boot_ns() + delay_ms * 1000000, kind, who, fault, true};
            return;
        }
    }
}

static bool busy(int who)
{
    for (int i = 0; i < 64; i++)
        if (todo[i].used && todo[i].who == who)
            return true;
    return false;
}

static void run_due(bool all)
{
    for (int i = 0; i < 64; i++) {
        pending *p = &todo[i];
        if (!p->used || (!all && p->at > boot_ns()))
            continue;
        p->used = false;
        if (p->kind == 1) {
            remove_fault(p->fault);
            event("end partition contender-%d", p->who);
        } else if (p->kind == 2) {
            /* Not at the end: the SIGTERM of the final stop would follow the
             * start within milliseconds, before the new process blocks the
             * signal, and kill it (counted as an unexpected death). */
            if (!all) {
                start_contender(p->who);
                event("restart contender-%d", p->who);
            }
        } else if (p->kind == 3) {
            remove_fault(p->fault);
            event("end burst of 503 on writes");
        }
    }
}

/* A victim: the current holder 60% of the time (that is where faults
 * matter), else anyone; never one already in an episode. */
static int pick_victim(void)
{
    int h = current_holder();
    int v = (h >= 0 && h < ncont && rng() % 10 < 6) ? h : (int)(rng() % (uint64_t)ncont);
    return busy(v) || cpid[v] <= 0 ? -1 : v;
}

/* Episodes are dealt from a shuffled deck of the five kinds, so every kind
 * happens in every five episodes (a one-minute run sees each twice or so). */
static int draw_kind(void)
{
    static int deck[5], left;
    if (left == 0) {
        for (int i = 0; i < 5; i++)
            deck[i] = i;
        for (int i = 4; i > 0; i--) {
            int j = (int)(rng() % (uint64_t)(i + 1)), t = deck[i];
            deck[i] = deck[j];
            deck[j] = t;
        }
        left = 5;
    }
    return deck[--left];
}

static void episode(void)
{
    int kind = draw_kind();
    if (kind == 0) {
        int v = pick_victim();
        if (v < 0)
            return;
        char json[128];
        snprintf(json, sizeof json, "{\"kind\":\"partition\",\"identity\":\"contender-%d\"}", v);
        long id = add_fault(json);
        long ms = between(3000, 9000);
        event("begin partition contender-%d", v);
        later(ms, 1, v, id);
    } else if (kind == 1) {
        int v = pick_victim();
        if (v < 0)
            return;
        stop_contender(v, SIGKILL);
        event("SIGKILL contender-%d", v);
        later(between(500, 3000), 2, v, -1);
    } else if (kind == 2) {
        int v = pick_victim();
        if (v < 0)
            return;
        event("begin SIGTERM contender-%d (close, vacate)", v);
        stop_contender(v, SIGTERM);
        event("end SIGTERM contender-%d (close, vacate)", v);
        later(between(300, 2000), 2, v, -1);
    } else if (kind == 3) {
        event("begin simulator restart");
        stop_sim();
        /* Its faults and partitions are gone with it: say so, so the
         * checker does not think them still active. */
        for (int i = 0; i < 64; i++) {
            if (todo[i].used && todo[i].kind != 2) {
                todo[i].used = false;
                if (todo[i].kind == 1)
                    event("end partition contender-%d", todo[i].who);
                else
                    event("end burst of 503 on writes");
            }
        }
        nap_ms(between(200, 1500));
        start_sim();
        add_background_faults();
        event("end simulator restart");
    } else {
        long id = add_fault("{\"kind\":\"error\",\"method\":\"PATCH\",\"status\":503}");
        event("begin burst of 503 on writes");
        later(between(1000, 4000), 3, 99, id);
    }
}

/* ------------------------------------------------------------------ main */

static int run_checker(bool expect_overlap, double min_share)
{
    char logs[MAXC][1200], share[32], leases[32], table[1200];
    const char *argv[MAXC + 16];
    int a = 0;
    snprintf(share, sizeof share, "%.1f", min_share);
    snprintf(leases, sizeof leases, "%d", nleases);
    if (many_mode) {
        argv[a++] = many_checker_bin;
        if (expect_overlap)
            argv[a++] = "--expect-overlap";
        argv[a++] = "--min-share";
        argv[a++] = share;
        argv[a++] = "--leases";
        argv[a++] = leases;
        snprintf(table, sizeof table, "%s/per-lease.tsv", workdir);
        argv[a++] = "--table";
        argv[a++] = table;
        argv[a++] = "--history";
        argv[a++] = history_path;
        argv[a++] = "--events";
        argv[a++] = events_path;
        for (int i = 0; i < ncont; i++) {
            snprintf(logs[i], sizeof logs[i], "%s/many-%d.log", workdir, i);
            argv[a++] = logs[i];
        }
        argv[a] = NULL;
        goto spawn;
    }
    argv[a++] = checker_bin;
    if (expect_overlap)
        argv[a++] = "--expect-overlap";
    argv[a++] = "--min-leader-share";
    argv[a++] = share;
    argv[a++] = "--history";
    argv[a++] = history_path;
    argv[a++] = "--events";
    argv[a++] = events_path;
    if (exec_mode) {
        argv[a++] = "--work";
        argv[a++] = work_dir;
    }
    for (int i = 0; i < ncont && !exec_mode; i++) {
        snprintf(logs[i], sizeof logs[i], "%s/contender-%d.log", workdir, i);
        argv[a++] = logs[i];
    }
    argv[a] = NULL;
spawn:;
    pid_t pid;
    fflush(stdout);
    if (posix_spawn(&pid, argv[0], NULL, NULL, (char **)argv, environ) != 0)
        die("cannot start %s", argv[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

static void prepare_workdir(void)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s/sim'", workdir, workdir);
    if (system(cmd) != 0)
        die("cannot prepare %s", workdir);
    snprintf(sim_dir, sizeof sim_dir, "%s/sim", workdir);
    snprintf(state_path, sizeof state_path, "%s/state.json", workdir);
    snprintf(history_path, sizeof history_path, "%s/history.jsonl", workdir);
    snprintf(events_path, sizeof events_path, "%s/events.log", workdir);
    snprintf(ca_path, sizeof ca_path, "%s/ca.crt", sim_dir);
    snprintf(work_dir, sizeof work_dir, "%s/work", workdir);
    if (mkdir(work_dir, 0755) != 0)
        die("cannot create %s", work_dir);
}

static int scenario_chaos(long seconds)
{
    for (int i = 0; i < ncont; i++) {
        snprintf(skew_args[i], sizeof skew_args[i], "0");
        snprintf(tol_args[i], sizeof tol_args[i], "1000");
    }
    /* Wall clocks within the tolerance: +700 ms and -200 ms (900 ms apart,
     * less than the 1000 ms tolerance): these must stay safe. */
    snprintf(skew_args[ncont - 1], sizeof skew_args[0], "700");
    snprintf(skew_args[ncont - 2], sizeof skew_args[0], "-200");
    start_sim();
    write_kubeconfigs();
    add_background_faults();
    event("run: %d contenders, lease %ld ms, grace %ld ms, %ld s", ncont, duration_ms, grace_ms,
          seconds);
    for (int i = 0; i < ncont; i++)
        start_contender(i);
    int64_t end = boot_ns() + (int64_t)seconds * 1000000000;
    /* The last seconds are quiet, so the run ends with a settled leader. */
    int64_t quiet = end - 4 * (int64_t)1000000000;
    int64_t next = boot_ns() + between(2000, 4000) * 1000000;
    while (boot_ns() < end) {
        reap_unexpected();
        run_due(false);
        if (boot_ns() >= next && boot_ns() < quiet) {
            episode();
            next = boot_ns() + between(1500, 4000) * 1000000;
        }
        nap_ms(50);
    }
    run_due(true);
    event("stop: SIGTERM to every contender");
    for (int i = 0; i < ncont; i++)
        stop_contender(i, SIGTERM);
    reap_unexpected();
    stop_sim();
    int rc = run_checker(false, 20.0);
    if (unexpected_deaths > 0) {
        printf("FAIL: %d contender(s) died on their own (see events.log)\n", unexpected_deaths);
        return 1;
    }
    return rc;
}

static int scenario_skew_negative(void)
{
    ncont = 2;
    snprintf(skew_args[0], sizeof skew_args[0], "0");
    snprintf(tol_args[0], sizeof tol_args[0], "1000");
    /* Ten seconds ahead, and no tolerance for it. */
    snprintf(skew_args[1], sizeof skew_args[1], "10000");
    snprintf(tol_args[1], sizeof tol_args[1], "0");
    start_sim();
    write_kubeconfigs();
    start_contender(0);
    int64_t limit = boot_ns() + 20 * (int64_t)1000000000;
    while (current_holder() != 0) {
        if (boot_ns() > limit)
            die("contender-0 never took the lease");
        nap_ms(100);
    }
    /* The holder's renewals are slow but in time: it rightly keeps leading
     * until its own deadline. */
    add_fault("{\"kind\":\"latency\",\"identity\":\"contender-0\",\"method\":\"PATCH\","
              "\"latencyMs\":1500}");
    event("begin slow renewals of contender-0; contender-1 starts 10 s ahead, tolerance 0");
    start_contender(1);
    nap_ms(3L * duration_ms);
    event("stop");
    stop_contender(1, SIGTERM);
    stop_contender(0, SIGTERM);
    stop_sim();
    return run_checker(true, 0.0);
}

/* The exec chaos run: the chaos episodes, with klease exec contenders and
 * 6 s leases (exec's other defaults scale with it: grace 4 s, margin 2 s,
 * kill-after 1 s), so handovers happen often in a minute. */
static int scenario_exec(long seconds)
{
    static const char *const kinds[] = {"quick", "slow:700", "stubborn"};
    exec_mode = true;
    duration_ms = 6000;
    for (int i = 0; i < ncont; i++)
        work_kind[i] = kinds[i % 3];
    return scenario_chaos(seconds);
}

/* The end of both negative work runs, once contender-0 holds the lease (or
 * every lease): contender-1 joins and follows for SETTLE_MS, then
 * contender-0 is partitioned for three lease durations, long enough for its
 * claim to end and contender-1 to take over while contender-0's slow work
 * runs on (WHY says how). Passes only when the checker finds the overlap. */
static int partition_holder_and_check(long settle_ms, const char *why)
{
    start_contender(1);
    nap_ms(settle_ms);
    long id = add_fault("{\"kind\":\"partition\",\"identity\":\"contender-0\"}");
    event("begin partition contender-0; %s", why);
    nap_ms(3L * duration_ms);
    remove_fault(id);
    event("end partition contender-0");
    event("stop");
    stop_contender(1, SIGTERM);
    stop_contender(0, SIGTERM);
    stop_sim();
    return run_checker(true, 0.0);
}

static int scenario_exec_negative(void)
{
    exec_mode = true;
    ncont = 2;
    duration_ms = 5000;
    grace_ms = 2000;
    exec_margin = "0";
    exec_kill_after = "10s";
    work_kind[0] = work_kind[1] = "slow:4000";
    start_sim();
    write_kubeconfigs();
    start_contender(0);
    int64_t limit = boot_ns() + 20 * (int64_t)1000000000;
    while (current_holder() != 0) {
        if (boot_ns() > limit)
            die("contender-0 never took the lease");
        nap_ms(100);
    }
    /* Its claim ends within 5 s, the follower takes over then, while the old
     * CMD runs 4 s more. */
    return partition_holder_and_check(1000, "--margin 0, CMD takes 4 s to stop");
}

/* The many-lease chaos run: the chaos episodes with chaos_many contenders,
 * 6 s leases renewed 4 s before their end and a leadership margin of 2 s,
 * more than the slowest work takes to stop (700 ms) with room for a late
 * scan on a loaded machine. */
static int scenario_many(long seconds)
{
    many_mode = true;
    duration_ms = 6000;
    grace_ms = 4000;
    for (int i = 0; i < ncont; i++) {
        snprintf(margin_args[i], sizeof margin_args[i], "2000");
        snprintf(stop_args[i], sizeof stop_args[i], "-1");
    }
    return scenario_chaos(seconds);
}

/* Lines of contender-I's log that start a piece of work. */
static int many_work_starts(int i)
{
    char path[1200], line[256];
    snprintf(path, sizeof path, "%s/many-%d.log", workdir, i);
    FILE *f = fopen(path, "r");
    int n = 0;
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f) != NULL)
        n += strstr(line, " ws ") != NULL;
    fclose(f);
    return n;
}

static int scenario_many_negative(void)
{
    many_mode = true;
    ncont = 2;
    duration_ms = 6000;
    grace_ms = 4000;
    for (int i = 0; i < ncont; i++) {
        snprintf(skew_args[i], sizeof skew_args[i], "0");
        snprintf(tol_args[i], sizeof tol_args[i], "1000");
        snprintf(margin_args[i], sizeof margin_args[i], "2000");
        snprintf(stop_args[i], sizeof stop_args[i], "-1");
    }
    /* No margin, and work that takes 4 s to stop: it runs on past the
     * claim's deadline, when the other contender may take over. */
    snprintf(margin_args[0], sizeof margin_args[0], "0");
    snprintf(stop_args[0], sizeof stop_args[0], "4000");
    start_sim();
    write_kubeconfigs();
    start_contender(0);
    /* Alone, it takes every lease: generous, 200 creates and claims take a
     * few seconds on a loaded machine. */
    int64_t limit = boot_ns() + 60 * (int64_t)1000000000;
    while (many_work_starts(0) < nleases) {
        if (boot_ns() > limit)
            die("contender-0 did not take every lease in 60 s");
        nap_ms(100);
    }
    /* Its claims end within 6 s, the other takes them over soon after (it
     * follows them with watches), while contender-0's work runs 4 s more. */
    return partition_holder_and_check(2000, "--margin-ms 0, work takes 4 s to stop");
}

int main(int argc, char **argv)
{
    long seconds = 60;
    const char *scenario = "chaos";
    rng_state = (uint64_t)boot_ns() | 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (strcmp(a, "--sim") == 0)
            sim_bin = v;
        else if (strcmp(a, "--contender") == 0)
            contender_bin = v;
        else if (strcmp(a, "--checker") == 0)
            checker_bin = v;
        else if (strcmp(a, "--workdir") == 0)
            workdir = v;
        else if (strcmp(a, "--seconds") == 0)
            seconds = strtol(v, NULL, 10);
        else if (strcmp(a, "--contenders") == 0)
            ncont = (int)strtol(v, NULL, 10);
        else if (strcmp(a, "--seed") == 0)
            rng_state = strtoull(v, NULL, 10) | 1;
        else if (strcmp(a, "--scenario") == 0)
            scenario = v;
        else if (strcmp(a, "--klease") == 0)
            klease_bin = v;
        else if (strcmp(a, "--work") == 0)
            work_bin = v;
        else if (strcmp(a, "--many") == 0)
            many_bin = v;
        else if (strcmp(a, "--many-checker") == 0)
            many_checker_bin = v;
        else if (strcmp(a, "--leases") == 0)
            nleases = (int)strtol(v, NULL, 10);
        else
            die("unknown argument %s", a);
    }
    if (!sim_bin || !contender_bin || !checker_bin || !workdir || seconds < 10 || ncont < 2 ||
        ncont > MAXC)
        die("usage: chaos_driver --sim BIN --contender BIN --checker BIN --workdir DIR "
            "[--klease BIN --work BIN] [--many BIN --many-checker BIN --leases 1-1000] "
            "[--seconds N>=10] [--contenders 2-16] [--seed N] "
            "[--scenario chaos|skew-negative|exec|exec-negative|many|many-negative]");
    bool is_exec = strncmp(scenario, "exec", 4) == 0;
    if (is_exec && (klease_bin == NULL || work_bin == NULL))
        die("--scenario %s needs --klease BIN and --work BIN", scenario);
    bool is_many = strncmp(scenario, "many", 4) == 0;
    if (is_many && (many_bin == NULL || many_checker_bin == NULL || nleases < 1 || nleases > 1000))
        die("--scenario %s needs --many BIN and --many-checker BIN (--leases 1-1000)", scenario);
    printf("chaos_driver: seed %llu, workdir %s\n", (unsigned long long)rng_state, workdir);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (int i = 0; i < MAXC; i++)
        cpid[i] = -1;
    prepare_workdir();
    int rc;
    if (strcmp(scenario, "skew-negative") == 0)
        rc = scenario_skew_negative();
    else if (strcmp(scenario, "exec") == 0)
        rc = scenario_exec(seconds);
    else if (strcmp(scenario, "exec-negative") == 0)
        rc = scenario_exec_negative();
    else if (strcmp(scenario, "many") == 0)
        rc = scenario_many(seconds);
    else if (strcmp(scenario, "many-negative") == 0)
        rc = scenario_many_negative();
    else
        rc = scenario_chaos(seconds);
    curl_global_cleanup();
    return rc;
}
