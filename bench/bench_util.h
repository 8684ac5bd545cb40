/* Shared helpers for the benchmarks: clocks, percentiles, JSON-line output
 * and the API server simulator started as a separate process (so its CPU
 * time never counts as the client's). */
#ifndef KLEASE_BENCH_UTIL_H
#define KLEASE_BENCH_UTIL_H

#include "klease/klease.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

int64_t bench_now_ns(void);       /* CLOCK_BOOTTIME, as the library uses */
int64_t bench_thread_cpu_ns(void); /* CPU time of the calling thread */
int64_t bench_process_cpu_ns(void);
void bench_sleep_ms(int64_t ms);
long bench_rss_kib(pid_t pid);     /* VmRSS from /proc, 0 for self */
long bench_threads(pid_t pid);     /* Threads from /proc, 0 for self */

/* Sorts `v` in place and returns its p-th percentile (0..100), nearest rank. */
double bench_percentile(double *v, size_t n, double p);

/* Prints one JSON line: {"bench":NAME, ...fields} where fields is a
 * printf-formatted list like "\"x\":%d,\"y\":%.3f". */
void bench_emit(const char *name, const char *fields_fmt, ...)
    __attribute__((format(printf, 2, 3)));

typedef struct bench_sim {
    pid_t pid;
    int port;
    char kubeconfig[1024];
    char workdir[512];
} bench_sim;

/* Starts `sim_binary` (klease-apiserver-sim) with TLS on an ephemeral port
 * and extra args (NULL-terminated, may be NULL). Exits on failure. */
void bench_sim_start(bench_sim *s, const char *sim_binary, const char *const *extra);
void bench_sim_stop(bench_sim *s);

/* A client from the simulator's kubeconfig (admin token). Exits on failure. */
klease_client *bench_client(const bench_sim *s);

/* Exits with a message when st != KLEASE_OK. */
void bench_check(klease_status st, const klease_error *err, const char *what);

#endif
