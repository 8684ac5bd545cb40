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

int64_t chaos_clock_ns(clockid_t id);

/* CLOCK_BOOTTIME: comparable across processes on one machine. */
int64_t chaos_boot_ns(void);

/* Sleeps MS milliseconds, through signal interruptions. */
void chaos_nap_ms(long ms);

/* A number argument: true, with *N set, when all of V is one. */
bool chaos_num_arg(const char *v, long long *n);

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
