/* The chaos safety checker: reads the contenders' logs (chaos_contender.c),
 * the simulator's write history (--history, JSON lines) and the driver's
 * fault events, and FAILS on any overlap of two leaders.
 *
 * Clock assumption: every process runs on this one machine, so their
 * CLOCK_BOOTTIME readings (the logs' first field, the history's monoNs)
 * are one clock. Nothing else is assumed: wall clocks may be skewed.
 *
 * Three checks, each of which must find no overlap:
 *  1. poll: each process's "definitely leading" intervals, from the first to
 *     the last true klease_elector_is_leader() sample (an inner bound: it led
 *     at least then), must not overlap another process's;
 *  2. callback: the intervals the change callback reported, each cut at the
 *     claim's deadline, must not overlap another process's;
 *  3. history: no accepted write naming another holder (or none: a vacate)
 *     may land while a process definitely led (check 1's intervals).
 * With --work DIR (the `klease exec` mode) it judges the WORK instead: the
 * lifetimes chaos_work recorded for each CMD and its grandchild, grouped by
 * owner (the klease exec identity, one per klease process):
 *  4. work: no two owners' CMD lifetimes may overlap;
 *  5. work history: no accepted write naming another holder (or none) may
 *     land while an owner's CMD certainly ran;
 * and reports the shortest gap between one owner's last process ending and
 * the next owner's first starting. The contender logs are then optional.
 * Then it reports liveness: the share of the run some process led, the
 * handovers (holder changes in the history), the longest leaderless gap and
 * the faults active around it.
 *
 * Usage: chaos_check [--expect-overlap] [--min-leader-share PCT] --history FILE
 *                    [--events FILE] [--work DIR] LOG...
 * Exit: 0 when the expectation holds (no overlap; or, with --expect-overlap,
 * at least one), 1 when it does not, 2 on bad input. */
#include "chaos_log.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static chaos_list poll_iv, cb_iv, work_iv;
static chaos_wlist writes;
static int overlaps;

static int64_t parse_ll(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

/* One contender log. Instances are told apart by PID (a restart is a new
 * process with the same identity). */
static int read_log(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    char line[1024];
    /* Open intervals of the process being read; a log holds several
     * processes in sequence (restarts append). */
    int cur_pid = -1;
    chaos_interval poll_open = {0}, cb_open = {0};
    bool poll_is_open = false, cb_is_open = false;
    int64_t cb_deadline = 0, last_time = 0;
    char cur_id[64] = "";
#define CLOSE_OPEN(at)                                                                             \
    do {                                                                                           \
        if (poll_is_open) {                                                                        \
            chaos_push(&poll_iv, poll_open);                                                       \
            poll_is_open = false;                                                                  \
        }                                                                                          \
        if (cb_is_open) {                                                                          \
            cb_open.end = (at) < cb_deadline ? (at) : cb_deadline;                                 \
            chaos_push(&cb_iv, cb_open);                                                           \
            cb_is_open = false;                                                                    \
        }                                                                                          \
    } while (0)
    while (fgets(line, sizeof line, f) != NULL) {
        char *tok[12] = {0};
        int nt = chaos_split(line, tok, 12);
        if (nt < 5)
            continue; /* a line cut by SIGKILL mid-write cannot happen (one write), but be lenient
                       */
        int64_t now = parse_ll(tok[0]);
        int pid = (int)parse_ll(tok[3]);
        const char *kind = tok[4];
        if (pid != cur_pid) {
            CLOSE_OPEN(last_time);
            cur_pid = pid;
            snprintf(cur_id, sizeof cur_id, "%s", tok[2]);
        }
        last_time = now;
        chaos_note_time(now);
        if (strcmp(kind, "lead_start") == 0 && nt >= 7) {
            if (poll_is_open)
                chaos_push(&poll_iv, poll_open);
            poll_open =
                (chaos_interval){.start = parse_ll(tok[6]), .end = parse_ll(tok[6]), .pid = pid};
            snprintf(poll_open.id, sizeof poll_open.id, "%s", cur_id);
            poll_is_open = true;
        } else if (strcmp(kind, "alive") == 0 && nt >= 6 && poll_is_open) {
            int64_t tb = parse_ll(tok[5]);
            if (tb > poll_open.end)
                poll_open.end = tb;
        } else if (strcmp(kind, "lead_end") == 0 && nt >= 6 && poll_is_open) {
            int64_t tb = parse_ll(tok[5]);
            if (tb > poll_open.end)
                poll_open.end = tb;
            chaos_push(&poll_iv, poll_open);
            poll_is_open = false;
        } else if (strcmp(kind, "cb") == 0 && nt >= 10) {
            bool leading = strcmp(tok[5], "1") == 0;
            if (cb_is_open) {
                cb_open.end = now < cb_deadline ? now : cb_deadline;
                chaos_push(&cb_iv, cb_open);
                cb_is_open = false;
            }
            if (leading) {
                cb_open = (chaos_interval){.start = now, .pid = pid};
                snprintf(cb_open.id, sizeof cb_open.id, "%s", cur_id);
                cb_deadline = parse_ll(tok[8]);
                cb_is_open = true;
            }
        }
    }
    /* A killed process: its belief ended by its death, after its last line
     * (the poller writes every 20 ms while leading) and by the deadline. */
    CLOSE_OPEN(last_time);
#undef CLOSE_OPEN
    fclose(f);
    return 0;
}

static void add_write(void *ctx, const char *name, const chaos_write *w)
{
    (void)ctx;
    (void)name; /* one lease */
    chaos_wpush(&writes, w);
}

/* The chaos_work files of DIR: one interval per process, named by owner. */
static int read_work(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        perror(dir);
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "work-", 5) != 0)
            continue;
        char path[2048], line[256];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        long long start, alive, end;
        char owner[64];
        if (fgets(line, sizeof line, f) != NULL &&
            sscanf(line, "%lld %lld %lld %63s", &start, &alive, &end, owner) == 4) {
            /* work-OWNER-PID: the PID is what follows the last '-'. */
            const char *dash = strrchr(de->d_name, '-');
            int pid = dash ? (int)strtol(dash + 1, NULL, 10) : 0;
            chaos_interval it = {.start = start, .end = end ? end : alive, .pid = pid};
            snprintf(it.id, sizeof it.id, "%s", owner);
            chaos_push(&work_iv, it);
            chaos_note_time(start);
            chaos_note_time(it.end);
        }
        fclose(f);
    }
    closedir(d);
    return 0;
}

/* The shortest time between one owner's CMD group ending and the next
 * owner's starting, over the run (sorted by start). -1 if no handover. */
static int64_t min_work_gap(const chaos_list *l)
{
    int64_t best = -1, block_end = 0;
    const char *block_owner = NULL;
    for (size_t i = 0; i < l->n; i++) {
        const chaos_interval *it = &l->v[i];
        if (block_owner != NULL && strcmp(block_owner, it->id) != 0) {
            int64_t gap = it->start - block_end;
            if (best < 0 || gap < best)
                best = gap < 0 ? 0 : gap;
            block_owner = NULL;
        }
        if (block_owner == NULL) {
            block_owner = it->id;
            block_end = it->end;
        } else if (it->end > block_end) {
            block_end = it->end;
        }
    }
    return best;
}

typedef struct overlap_kind {
    const char *what, *verb;
} overlap_kind;

static void report_overlap(void *ctx, const chaos_interval *a, const chaos_interval *b,
                           int64_t together_ns)
{
    const overlap_kind *k = ctx;
    const char *what = k->what, *verb = k->verb;
    overlaps++;
    printf("OVERLAP (%s): %s (pid %d) %s %.3f-%.3f s and %s (pid %d) %s %.3f-%.3f s: "
           "%.1f ms together\n",
           what, a->id, a->pid, verb, chaos_rel_s(a->start), chaos_rel_s(a->end), b->id, b->pid,
           verb, chaos_rel_s(b->start), chaos_rel_s(b->end), (double)together_ns / 1e6);
}

/* Check 1, 2 and 4: any two intervals of different processes (for the
 * work: of different owners) that overlap. */
static void check_overlaps(chaos_list *l, const char *what, bool by_owner)
{
    overlap_kind k = {.what = what, .verb = by_owner ? "ran" : "led"};
    chaos_overlaps(l, by_owner, report_overlap, &k);
}

static void report_history(void *ctx, const chaos_write *w, const chaos_interval *it)
{
    (void)ctx;
    overlaps++;
    printf("OVERLAP (history): %s write at %.3f s names %s while %s (pid %d) led "
           "%.3f-%.3f s\n",
           w->op, chaos_rel_s(w->mono), w->holder[0] ? w->holder : "no holder", it->id, it->pid,
           chaos_rel_s(it->start), chaos_rel_s(it->end));
}

/* Check 3 and 5: writes that handed the lease away while someone definitely
 * led (or its CMD definitely ran). */
static void check_history(const chaos_list *l)
{
    chaos_history_hits(l, &writes, report_history, NULL);
}

int main(int argc, char **argv)
{
    chaos_args args = {0};
    const char *work_dir = NULL;
    int first_log = argc;
    for (int i = 1; i < argc; i++) {
        if (chaos_common_arg(&args, "--min-leader-share", argc, argv, &i))
            continue;
        if (strcmp(argv[i], "--work") == 0 && i + 1 < argc) {
            work_dir = argv[++i];
        } else {
            first_log = i;
            break;
        }
    }
    if (args.history == NULL || (first_log >= argc && work_dir == NULL)) {
        fprintf(stderr, "usage: chaos_check [--expect-overlap] [--min-leader-share PCT] "
                        "--history FILE [--events FILE] [--work DIR] LOG...\n");
        return 2;
    }
    /* The work first: its lifetimes count as recorded moments too. */
    if (work_dir != NULL && read_work(work_dir) != 0)
        return 2;
    if (!chaos_load(&args, argv + first_log, argc - first_log, read_log, add_write, "chaos_check"))
        return 2;

    check_overlaps(&poll_iv, "is_leader polls", false);
    check_overlaps(&cb_iv, "change callbacks", false);
    check_history(&poll_iv);
    check_overlaps(&work_iv, "CMD lifetimes", true);
    check_history(&work_iv);

    /* Liveness, from the poll intervals, or the work's (sorted by check_overlaps). */
    const chaos_list *live = work_dir != NULL ? &work_iv : &poll_iv;
    int64_t first_lead = live->n ? live->v[0].start : chaos_run_end;
    chaos_cover cover = chaos_coverage(live, chaos_run_start, first_lead);
    int64_t led = cover.covered, longest = cover.longest;
    int64_t gap_from = cover.gap_from, gap_to = cover.gap_to;
    int handovers = chaos_handovers(&writes);
    double span = (double)(chaos_run_end - chaos_run_start) / 1e9;
    double share =
        chaos_run_end > first_lead ? 100.0 * (double)led / (double)(chaos_run_end - first_lead) : 0;
    printf("run: %.1f s, %zu leadership intervals (polls), %zu (callbacks), %zu CMD processes, "
           "%zu writes\n",
           span, poll_iv.n, cb_iv.n, work_iv.n, writes.n);
    if (work_dir != NULL) {
        int64_t gap = min_work_gap(&work_iv);
        printf("work: shortest gap between two owners' CMD groups: %.3f s\n",
               gap < 0 ? -1.0 : (double)gap / 1e9);
        printf("chaos-exec: cmd_processes=%zu cmd_overlaps=%d cmd_min_gap_ms=%lld\n", work_iv.n,
               overlaps, (long long)(gap < 0 ? -1 : gap / 1000000));
    }
    printf("first leader after %.3f s; some process led %.1f%% of the time since\n",
           chaos_rel_s(first_lead), share);
    printf("handovers (holder changes in the history): %d\n", handovers);
    printf("longest leaderless gap: %.3f s (%.3f-%.3f s)\n", (double)longest / 1e9,
           longest ? chaos_rel_s(gap_from) : 0.0, longest ? chaos_rel_s(gap_to) : 0.0);
    if (longest > 0)
        chaos_print_causes(gap_from - 5 * (int64_t)1000000000, gap_to);
    printf("chaos: run_s=%.1f overlaps=%d handovers=%d leader_share_pct=%.1f longest_gap_ms=%lld\n",
           span, overlaps, handovers, share, (long long)(longest / 1000000));

    if (args.expect_overlap)
        return chaos_expected_overlap_verdict(overlaps);
    if (overlaps > 0) {
        printf("FAIL: %d overlap(s) of two leaders\n", overlaps);
        return 1;
    }
    if (share < args.min_share) {
        printf("FAIL: leader share %.1f%% is below %.1f%%: the run proves too little\n", share,
               args.min_share);
        return 1;
    }
    printf("PASS: no overlap of two leaders\n");
    return 0;
}
