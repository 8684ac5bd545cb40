/* What the two chaos checkers (chaos_check.c, chaos_many_check.c) read and
 * judge alike: intervals of leadership or work, the simulator's write
 * history, the driver's fault events, and the run's time axis.
 *
 * Times are CLOCK_BOOTTIME nanoseconds, one clock for every process on the
 * machine. Output is printed relative to the run's first recorded moment. */
#ifndef CHAOS_LOG_H
#define CHAOS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* [start, end] of one process (pid) under a name (identity or owner). */
typedef struct chaos_interval {
    int64_t start, end;
    int pid;
    char id[64];
} chaos_interval;

typedef struct chaos_list {
    chaos_interval *v;
    size_t n, cap;
} chaos_list;

/* One accepted write of the history. */
typedef struct chaos_write {
    int64_t mono;
    char holder[64]; /* "" when none */
    char op[16];
} chaos_write;

typedef struct chaos_wlist {
    chaos_write *v;
    size_t n, cap;
} chaos_wlist;

/* The options both checkers take. */
typedef struct chaos_args {
    const char *history, *events;
    bool expect_overlap;
    double min_share;
} chaos_args;

/* Takes argv[*i] (and its value, moving *i on to it) when it is --history,
 * --events, --expect-overlap or SHARE_OPT (the minimum share's option);
 * false for any other. */
bool chaos_common_arg(chaos_args *a, const char *share_opt, int argc, char **argv, int *i);

/* Reads the NLOGS logs with READ_LOG, then A's history (each write to ADD,
 * see chaos_read_history) and events. False, after saying why on stderr
 * (as PROG), when a file cannot be read or nothing at all was recorded. */
bool chaos_load(const chaos_args *a, char **logs, int nlogs, int (*read_log)(const char *path),
                void (*add)(void *ctx, const char *name, const chaos_write *w), const char *prog);

/* The verdict of a run expected to overlap (the checker's proof that it can
 * fail): printed; the exit status. */
int chaos_expected_overlap_verdict(int overlaps);

/* The run's first and last recorded moments (INT64_MAX / INT64_MIN while
 * nothing is recorded). */
extern int64_t chaos_run_start, chaos_run_end;

/* Widens the run to T. */
void chaos_note_time(int64_t t);

/* Seconds from the run's start to T. */
double chaos_rel_s(int64_t t);

/* Growth of a realloc'd array of *CAP elements of SIZE; aborts when out of
 * memory (a checker has no use for a partial verdict). */
void *chaos_grow(void *v, size_t *cap, size_t size);

void chaos_push(chaos_list *l, chaos_interval it);
void chaos_wpush(chaos_wlist *l, const chaos_write *w);

/* Splits LINE in place at spaces and newlines into at most MAX tokens;
 * returns how many. */
int chaos_split(char *line, char **tok, int max);

/* Reads the JSON-lines write history at PATH and hands each write with a
 * monoNs to ADD, with the lease's name (NULL when the line has none).
 * -1 (after perror) when PATH cannot be opened. */
int chaos_read_history(const char *path,
                       void (*add)(void *ctx, const char *name, const chaos_write *w), void *ctx);

/* Reads the driver's "MONO_NS TEXT" event lines; a missing file is no
 * events. */
void chaos_read_events(const char *path);

/* Prints the faults around [from, to]: events inside it, and episodes begun
 * before it and not ended by its start. */
void chaos_print_causes(int64_t from, int64_t to);

/* Sorts L by start, then calls HIT for every two intervals of different
 * processes (and, with BY_OWNER, of different names) that overlap, with the
 * time they had together. */
void chaos_overlaps(chaos_list *l, bool by_owner,
                    void (*hit)(void *ctx, const chaos_interval *a, const chaos_interval *b,
                                int64_t together_ns),
                    void *ctx);

/* Calls HIT for every write of W that names another holder (or none) inside
 * an interval of L. */
void chaos_history_hits(const chaos_list *l, const chaos_wlist *w,
                        void (*hit)(void *ctx, const chaos_write *w, const chaos_interval *it),
                        void *ctx);

/* Holder changes in W, vacates not counted. */
int chaos_handovers(const chaos_wlist *w);

/* How much of the time L (sorted by start) covers from FROM on, and its
 * longest gap; gaps are counted only once the covered span has passed
 * GAPS_AFTER. */
typedef struct chaos_cover {
    int64_t covered, longest, gap_from, gap_to;
} chaos_cover;
chaos_cover chaos_coverage(const chaos_list *l, int64_t from, int64_t gaps_after);

#endif
