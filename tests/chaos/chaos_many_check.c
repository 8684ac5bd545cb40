/* The per-lease checker of the many-lease chaos run: reads the logs of the
 * chaos_many processes (several processes in sequence per log: restarts
 * append), the simulator's write history (--history, JSON lines) and the
 * driver's fault events, and FAILS when, for any one lease, two processes'
 * work intervals overlap.
 *
 * Clock assumption: every process runs on this one machine, so their
 * CLOCK_BOOTTIME readings (the logs' first field, the history's monoNs)
 * are one clock. Wall clocks are not used (they are skewed on purpose).
 *
 * Checks, per lease, any hit fails the run:
 *  1. work: the intervals from "ws" to "we" (for a process killed with
 *     SIGKILL, to its last log line: it writes one every 20 ms while any
 *     work runs) of two different processes must not overlap;
 *  2. history: no accepted write of that lease naming another holder (or
 *     none: a vacate) may land while a process's work on it ran.
 * Then it reports, per lease: handovers (holder changes in the history),
 * leases never worked on, the share of the time since its first work during
 * which some process worked on it, and the largest gap with the faults
 * around it; --table FILE writes one line per lease (name, handovers, work
 * intervals, share, largest gap) for a closer look.
 *
 * Usage: chaos_many_check [--expect-overlap] [--min-share PCT] [--leases 200]
 *                         [--prefix lease] [--table FILE] --history FILE [--events FILE]
 *                         LOG...
 * Exit: 0 when the expectation holds (no overlap, every lease worked on and
 * a mean share of at least PCT; or, with --expect-overlap, at least one
 * overlap), 1 when it does not, 2 on bad input. */
#include "chaos_log.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEASES 1000
/* Overlap lines printed in full; the rest are only counted. */
#define MAX_PRINTED 40

static chaos_list work[MAX_LEASES];
static chaos_wlist writes[MAX_LEASES];
static int nleases = 200;
static const char *prefix = "lease";
static int overlaps, printed;

/* A lease index from a "ws"/"we" token or a lease name; -1 if out of range. */
static int lease_index(const char *s)
{
    char *end = NULL;
    long i = strtol(s, &end, 10);
    return end != s && *end == '\0' && i >= 0 && i < nleases ? (int)i : -1;
}

static int lease_by_name(const char *name)
{
    size_t pl = strlen(prefix);
    if (strncmp(name, prefix, pl) != 0 || name[pl] != '-')
        return -1;
    return lease_index(name + pl + 1);
}

typedef struct proc_state {
    int pid;
    char id[64];
    int64_t last;
    int64_t open_at[MAX_LEASES]; /* 0: no work open */
} proc_state;

/* A process ended (its log moved on to the next process, or ended): its open
 * work ended by its death, after its last line. */
static void close_proc(proc_state *p)
{
    for (int i = 0; i < nleases; i++) {
        if (p->open_at[i] != 0) {
            chaos_interval it = {.start = p->open_at[i], .end = p->last, .pid = p->pid};
            snprintf(it.id, sizeof it.id, "%s", p->id);
            chaos_push(&work[i], it);
            p->open_at[i] = 0;
        }
    }
}

static int read_log(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    static proc_state p;
    memset(&p, 0, sizeof p);
    p.pid = -1;
    char line[1024];
    while (fgets(line, sizeof line, f) != NULL) {
        char *tok[8] = {0};
        int nt = chaos_split(line, tok, 8);
        if (nt < 5)
            continue;
        int64_t now = strtoll(tok[0], NULL, 10);
        int pid = (int)strtol(tok[3], NULL, 10);
        if (pid != p.pid) {
            close_proc(&p);
            p.pid = pid;
            snprintf(p.id, sizeof p.id, "%s", tok[2]);
        }
        p.last = now;
        chaos_note_time(now);
        int i = nt >= 6 ? lease_index(tok[5]) : -1;
        if (strcmp(tok[4], "ws") == 0 && i >= 0) {
            if (p.open_at[i] == 0)
                p.open_at[i] = now;
        } else if (strcmp(tok[4], "we") == 0 && i >= 0 && p.open_at[i] != 0) {
            chaos_interval it = {.start = p.open_at[i], .end = now, .pid = pid};
            snprintf(it.id, sizeof it.id, "%s", p.id);
            chaos_push(&work[i], it);
            p.open_at[i] = 0;
        }
    }
    close_proc(&p);
    fclose(f);
    return 0;
}

/* A write of a lease this run knows; others (and unnamed ones) are ignored. */
static void add_write(void *ctx, const char *name, const chaos_write *w)
{
    (void)ctx;
    int i = name != NULL ? lease_by_name(name) : -1;
    if (i >= 0)
        chaos_wpush(&writes[i], w);
}

static void report_work(void *ctx, const chaos_interval *a, const chaos_interval *b,
                        int64_t together_ns)
{
    int lease = *(const int *)ctx;
    overlaps++;
    if (printed++ < MAX_PRINTED)
        printf("OVERLAP (work) %s-%03d: %s (pid %d) worked %.3f-%.3f s and %s (pid %d) "
               "%.3f-%.3f s: %.1f ms together\n",
               prefix, lease, a->id, a->pid, chaos_rel_s(a->start), chaos_rel_s(a->end), b->id,
               b->pid, chaos_rel_s(b->start), chaos_rel_s(b->end), (double)together_ns / 1e6);
}

/* Check 1 for one lease: any two intervals of different processes. */
static void check_work(int lease)
{
    chaos_overlaps(&work[lease], false, report_work, &lease);
}

static void report_history(void *ctx, const chaos_write *w, const chaos_interval *it)
{
    int lease = *(const int *)ctx;
    overlaps++;
    if (printed++ < MAX_PRINTED)
        printf("OVERLAP (history) %s-%03d: %s write at %.3f s names %s while %s "
               "(pid %d) worked %.3f-%.3f s\n",
               prefix, lease, w->op, chaos_rel_s(w->mono), w->holder[0] ? w->holder : "no holder",
               it->id, it->pid, chaos_rel_s(it->start), chaos_rel_s(it->end));
}

/* Check 2 for one lease: writes that handed it away while work on it ran. */
static void check_history(int lease)
{
    chaos_history_hits(&work[lease], &writes[lease], report_history, &lease);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    chaos_args args = {0};
    const char *table_path = NULL;
    int first_log = argc;
    for (int i = 1; i < argc; i++) {
        if (chaos_common_arg(&args, "--min-share", argc, argv, &i))
            continue;
        if (strcmp(argv[i], "--table") == 0 && i + 1 < argc) {
            table_path = argv[++i];
        } else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc) {
            prefix = argv[++i];
        } else if (strcmp(argv[i], "--leases") == 0 && i + 1 < argc) {
            nleases = (int)strtol(argv[++i], NULL, 10);
        } else {
            first_log = i;
            break;
        }
    }
    if (args.history == NULL || first_log >= argc || nleases < 1 || nleases > MAX_LEASES) {
        fprintf(stderr,
                "usage: chaos_many_check [--expect-overlap] [--min-share PCT] "
                "[--leases 1-%d] [--prefix P] --history FILE [--events FILE] LOG...\n",
                MAX_LEASES);
        return 2;
    }
    if (!chaos_load(&args, argv + first_log, argc - first_log, read_log, add_write,
                    "chaos_many_check"))
        return 2;

    FILE *table = NULL;
    if (table_path != NULL) {
        if ((table = fopen(table_path, "w")) == NULL) {
            perror(table_path);
            return 2;
        }
        fprintf(table, "lease\thandovers\tintervals\tshare_pct\tlargest_gap_ms\n");
    }
    static int handovers[MAX_LEASES];
    int never = 0, total_handovers = 0, gap_lease = -1;
    size_t intervals = 0, nwrites = 0;
    int64_t longest = 0, gap_from = 0, gap_to = 0;
    double share_sum = 0, share_min = 100.0;
    int share_min_lease = -1;
    for (int L = 0; L < nleases; L++) {
        check_work(L);
        check_history(L);
        const chaos_list *l = &work[L];
        intervals += l->n;
        nwrites += writes[L].n;
        handovers[L] = chaos_handovers(&writes[L]);
        total_handovers += handovers[L];
        if (l->n == 0) {
            if (table != NULL)
                fprintf(table, "%s-%03d\t%d\t0\t0.0\t-1\n", prefix, L, handovers[L]);
            never++;
            if (never <= 10)
                printf("never worked on: %s-%03d\n", prefix, L);
            share_min = 0;
            share_min_lease = L;
            continue;
        }
        /* Coverage since the lease's first work (sorted by check_work). */
        int64_t first = l->v[0].start;
        chaos_cover cover = chaos_coverage(l, first, INT64_MIN);
        int64_t worked = cover.covered, lease_gap = cover.longest;
        if (lease_gap > longest) {
            longest = lease_gap;
            gap_from = cover.gap_from;
            gap_to = cover.gap_to;
            gap_lease = L;
        }
        double share =
            chaos_run_end > first ? 100.0 * (double)worked / (double)(chaos_run_end - first) : 0;
        share_sum += share;
        if (table != NULL)
            fprintf(table, "%s-%03d\t%d\t%zu\t%.1f\t%lld\n", prefix, L, handovers[L], l->n, share,
                    (long long)(lease_gap / 1000000));
        if (share < share_min) {
            share_min = share;
            share_min_lease = L;
        }
    }
    if (table != NULL)
        fclose(table);
    if (printed > MAX_PRINTED)
        printf("... %d more overlap(s) not shown\n", printed - MAX_PRINTED);
    int sorted[MAX_LEASES];
    memcpy(sorted, handovers, sizeof(int) * (size_t)nleases);
    qsort(sorted, (size_t)nleases, sizeof(int), cmp_int);
    double share_mean = share_sum / nleases;
    double span = (double)(chaos_run_end - chaos_run_start) / 1e9;
    printf("run: %.1f s, %d leases, %zu work intervals, %zu writes\n", span, nleases, intervals,
           nwrites);
    printf("handovers per lease (holder changes in the history): total %d, min %d, median %d, "
           "max %d\n",
           total_handovers, sorted[0], sorted[nleases / 2], sorted[nleases - 1]);
    printf("leases never worked on: %d\n", never);
    printf("share of the time since its first work some process worked on a lease: mean %.1f%%, "
           "min %.1f%% (%s-%03d)\n",
           share_mean, share_min, prefix, share_min_lease < 0 ? 0 : share_min_lease);
    printf("largest gap of one lease: %.3f s (%s-%03d, %.3f-%.3f s)\n", (double)longest / 1e9,
           prefix, gap_lease < 0 ? 0 : gap_lease, longest ? chaos_rel_s(gap_from) : 0.0,
           longest ? chaos_rel_s(gap_to) : 0.0);
    if (longest > 0)
        chaos_print_causes(gap_from - 5 * (int64_t)1000000000, gap_to);
    printf("chaos-many: run_s=%.1f leases=%d overlaps=%d handovers=%d never_held=%d "
           "mean_share_pct=%.1f min_share_pct=%.1f largest_gap_ms=%lld\n",
           span, nleases, overlaps, total_handovers, never, share_mean, share_min,
           (long long)(longest / 1000000));

    if (args.expect_overlap)
        return chaos_expected_overlap_verdict(overlaps);
    if (overlaps > 0) {
        printf("FAIL: %d overlap(s) of two processes' work on one lease\n", overlaps);
        return 1;
    }
    if (never > 0) {
        printf("FAIL: %d lease(s) never worked on: the run proves too little\n", never);
        return 1;
    }
    if (share_mean < args.min_share) {
        printf("FAIL: mean share %.1f%% is below %.1f%%: the run proves too little\n", share_mean,
               args.min_share);
        return 1;
    }
    printf("PASS: no two processes worked on one lease at once\n");
    return 0;
}
