/* What the two chaos contenders (chaos_contender.c, chaos_many.c) do alike
 * as processes: read the clocks, append stamped lines to their log, take
 * SIGTERM/SIGINT only through sigwait, skew the library's wall clock, and
 * set up the client against the simulator. */
#ifndef CHAOS_PROC_H
#define CHAOS_PROC_H

#include "klease/klease.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* CLOCK_BOOTTIME: comparable across processes on one machine. */
int64_t chaos_boot_ns(void);

/* Sleeps MS milliseconds, through signal interruptions. */
void chaos_nap_ms(long ms);

/* The options both contenders take: a contender sets its defaults, then
 * calls chaos_proc_parse with a function for its own options. */
typedef struct chaos_proc_args {
    const char *kubeconfig, *id, *log;
    long long duration_ms, grace_ms, timeout_ms, skew_ms, tolerance_ms;
} chaos_proc_args;

/* Parses ARGV's "--option value" pairs into P (--kubeconfig, --id, --log
 * and, V a whole number, --duration-ms, --grace-ms, --timeout-ms,
 * --skew-ms, --tolerance-ms), offering the others to OWN (N and NUM: V as a
 * whole number). False, after naming the bad option on stderr as PROG, when
 * OWN does not take one either. */
bool chaos_proc_parse(chaos_proc_args *p, int argc, char **argv,
                      bool (*own)(const char *opt, const char *v, long long n, bool num),
                      const char *prog);

/* Opens the log at PATH for appending, the lines stamped with IDENT (kept,
 * not copied); -1 after perror when it cannot. */
int chaos_log_open(const char *path, const char *ident);
void chaos_log_close(void);

/* One line "T WALL_NS IDENT PID <fmt...>", written with one write(2) on
 * an O_APPEND file, so SIGKILL loses nothing and lines never interleave.
 * T is the CLOCK_BOOTTIME moment the line reports. Exits the process when
 * the log cannot be written: a contender with no log proves nothing. */
void chaos_logat(int64_t t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Blocks SIGTERM and SIGINT in this thread (and the threads it creates
 * later) and puts them in *SET for sigwait; asks for SIGTERM when the
 * driver dies (a ctest timeout), so the contender closes rather than
 * contends forever. False when the driver is already gone. */
bool chaos_take_signals(sigset_t *set);

/* Client options against KUBECONFIG with TIMEOUT_MS for requests and
 * connects and, unless SKEW_MS is 0, a wall clock SKEW_MS ahead. */
klease_client_options chaos_client_options(const char *kubeconfig, long long timeout_ms,
                                           long long skew_ms);

#endif
