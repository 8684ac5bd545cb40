/* Shared helpers for the benchmarks: clocks, percentiles, JSON-line output
 * and the API server simulator started as a separate process (so its CPU
 * time never counts as the client's). */
#ifndef KLEASE_BENCH_UTIL_H
#define KLEASE_BENCH_UTIL_H

#include "klease/klease.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

int64_t bench_now_ns(void);        /* CLOCK_BOOTTIME, as the library uses */
int64_t bench_thread_cpu_ns(void); /* CPU time of the calling thread */
int64_t bench_process_cpu_ns(void);
void bench_sleep_ms(int64_t ms);
long bench_rss_kib(pid_t pid); /* VmRSS from /proc, 0 for self */
long bench_threads(pid_t pid); /* Threads from /proc, 0 for self */
/* A numeric field of /proc/PID/status ("VmHWM", "Threads"...), 0 for self; -1 if absent. */
long bench_proc_status(pid_t pid, const char *field);
/* User + system CPU of process `pid` (all its threads) from /proc/PID/stat. */
int64_t bench_proc_cpu_ns(pid_t pid);
/* TCP sockets on 127.0.0.1 in state ESTABLISHED whose local port is `port`:
 * the connections a server listening on `port` has open right now. */
long bench_tcp_established(int port);

/* Sorts `v` in place and returns its p-th percentile (0..100), nearest rank. */
double bench_percentile(double *v, size_t n, double p);

/* Prints one JSON line: {"bench":NAME, ...fields} where fields is a
 * printf-formatted list like "\"x\":%d,\"y\":%.3f". */
void bench_emit(const char *name, const char *fields_fmt, ...)
    __attribute__((format(printf, 2, 3)));

typedef struct bench_sim {
    pid_t pid;
    int port;
    int plain_http; /* started with --plain-http */
    char kubeconfig[1024];
    char workdir[512];
} bench_sim;

/* Starts `sim_binary` (klease-apiserver-sim) with TLS on an ephemeral port
 * and extra args (NULL-terminated, may be NULL). Exits on failure. */
void bench_sim_start(bench_sim *s, const char *sim_binary, const char *const *extra);
void bench_sim_stop(bench_sim *s);

/* The simulator's control endpoint counters (cumulative since it started,
 * but for watches_open; every control request counts itself in `requests`). Needs --token
 * bench-token:bench-admin among the extra args. -1 fields on failure. */
typedef struct bench_sim_counters {
    long connections, tls_handshakes, requests, watches;
    long watches_open; /* open now, not cumulative (-1 from a simulator without it) */
} bench_sim_counters;
void bench_sim_counters_get(const bench_sim *s, bench_sim_counters *out);

/* nghttpx as a TLS + HTTP/2 front for a simulator started with --plain-http,
 * as curl's own tests use it: a self-signed certificate for 127.0.0.1 made
 * with the openssl tool, frontend on a free port, backend the simulator. */
typedef struct bench_front {
    pid_t pid;
    int port;
    char kubeconfig[1024]; /* https://127.0.0.1:port, the front's CA, token bench-token */
    char accesslog[1024];  /* one line per request: "$alpn $method $status" */
} bench_front;
void bench_front_start(bench_front *f, const char *nghttpx, const bench_sim *backend);
void bench_front_stop(bench_front *f);
/* Requests the front logged, and how many of them came over h2. */
void bench_front_requests(const bench_front *f, long *total, long *h2);

/* A client from the simulator's kubeconfig (admin token). Exits on failure. */
klease_client *bench_client(const bench_sim *s);
klease_client *bench_client_from(const char *kubeconfig);

/* Exits with a message when st != KLEASE_OK. */
void bench_check(klease_status st, const klease_error *err, const char *what);

#endif
