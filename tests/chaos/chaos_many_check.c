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
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEASES 1000
/* Overlap lines printed in full; the rest are only counted. */
#define MAX_PRINTED 40

typedef struct interval {
    int64_t start, end;
    int pid;
    char id[64];
} interval;

typedef struct list {
    interval *v;
    size_t n, cap;
} list;

typedef struct write_rec {
    int64_t mono;
    char holder[64]; /* "" when none */
    char op[16];
} write_rec;

typedef struct wlist {
    write_rec *v;
    size_t n, cap;
} wlist;

typedef struct event_rec {
    int64_t mono;
    char text[256];
} event_rec;

static list work[MAX_LEASES];
static wlist writes[MAX_LEASES];
static int nleases = 200;
static const char *prefix = "lease";
static event_rec *events;
static size_t nevents;
static int64_t run_start = INT64_MAX, run_end = INT64_MIN;
static int overlaps, printed;

static void *grow(void *v, size_t *cap, size_t size)
{
    *cap = *cap ? *cap * 2 : 64;
    v = realloc(v, *cap * size);
    if (v == NULL)
        abort();
    return v;
}

static void push(list *l, interval it)
{
    if (l->n == l->cap)
        l->v = grow(l->v, &l->cap, sizeof *l->v);
    l->v[l->n++] = it;
}

static int by_start(const void *a, const void *b)
{
    const interval *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static double rel_s(int64_t t)
{
    return (double)(t - run_start) / 1e9;
}

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
            interval it = {.start = p->open_at[i], .end = p->last, .pid = p->pid};
            snprintf(it.id, sizeof it.id, "%s", p->id);
            push(&work[i], it);
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
        char *save = NULL, *tok[8] = {0};
        int nt = 0;
        for (char *t = strtok_r(line, " \n", &save); t && nt < 8; t = strtok_r(NULL, " \n", &save))
            tok[nt++] = t;
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
        if (now < run_start)
            run_start = now;
        if (now > run_end)
            run_end = now;
        int i = nt >= 6 ? lease_index(tok[5]) : -1;
        if (strcmp(tok[4], "ws") == 0 && i >= 0) {
            if (p.open_at[i] == 0)
                p.open_at[i] = now;
        } else if (strcmp(tok[4], "we") == 0 && i >= 0 && p.open_at[i] != 0) {
            interval it = {.start = p.open_at[i], .end = now, .pid = pid};
            snprintf(it.id, sizeof it.id, "%s", p.id);
            push(&work[i], it);
            p.open_at[i] = 0;
        }
    }
    close_proc(&p);
    fclose(f);
    return 0;
}

static int read_history(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, f) > 0) {
        cJSON *doc = cJSON_Parse(line);
        if (doc == NULL)
            continue;
        const cJSON *mono = cJSON_GetObjectItemCaseSensitive(doc, "monoNs");
        const cJSON *holder = cJSON_GetObjectItemCaseSensitive(doc, "holderIdentity");
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(doc, "op");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(doc, "name");
        int i = cJSON_IsString(name) ? lease_by_name(name->valuestring) : -1;
        if (cJSON_IsNumber(mono) && i >= 0) {
            wlist *l = &writes[i];
            if (l->n == l->cap)
                l->v = grow(l->v, &l->cap, sizeof *l->v);
            write_rec *w = &l->v[l->n++];
            w->mono = (int64_t)mono->valuedouble;
            snprintf(w->holder, sizeof w->holder, "%s",
                     cJSON_IsString(holder) ? holder->valuestring : "");
            snprintf(w->op, sizeof w->op, "%s", cJSON_IsString(op) ? op->valuestring : "?");
        }
        cJSON_Delete(doc);
    }
    free(line);
    fclose(f);
    return 0;
}

static void read_events(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[512];
    size_t cap = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        char *sp = strchr(line, ' ');
        if (sp == NULL)
            continue;
        if (nevents == cap)
            events = grow(events, &cap, sizeof *events);
        events[nevents].mono = strtoll(line, NULL, 10);
        snprintf(events[nevents].text, sizeof events[nevents].text, "%s", sp + 1);
        events[nevents].text[strcspn(events[nevents].text, "\n")] = '\0';
        nevents++;
    }
    fclose(f);
}

/* Check 1 for one lease: any two intervals of different processes. */
static void check_work(int lease)
{
    list *l = &work[lease];
    if (l->n > 1) /* qsort's array must not be NULL, even when empty */
        qsort(l->v, l->n, sizeof *l->v, by_start);
    for (size_t i = 0; i < l->n; i++) {
        for (size_t j = i + 1; j < l->n && l->v[j].start < l->v[i].end; j++) {
            if (l->v[j].pid == l->v[i].pid)
                continue;
            int64_t end = l->v[i].end < l->v[j].end ? l->v[i].end : l->v[j].end;
            overlaps++;
            if (printed++ < MAX_PRINTED)
                printf("OVERLAP (work) %s-%03d: %s (pid %d) worked %.3f-%.3f s and %s (pid %d) "
                       "%.3f-%.3f s: %.1f ms together\n",
                       prefix, lease, l->v[i].id, l->v[i].pid, rel_s(l->v[i].start),
                       rel_s(l->v[i].end), l->v[j].id, l->v[j].pid, rel_s(l->v[j].start),
                       rel_s(l->v[j].end), (double)(end - l->v[j].start) / 1e6);
        }
    }
}

/* Check 2 for one lease: writes that handed it away while work on it ran. */
static void check_history(int lease)
{
    const list *l = &work[lease];
    const wlist *wl = &writes[lease];
    for (size_t w = 0; w < wl->n; w++) {
        for (size_t i = 0; i < l->n; i++) {
            const interval *it = &l->v[i];
            if (it->start < wl->v[w].mono && wl->v[w].mono < it->end &&
                strcmp(it->id, wl->v[w].holder) != 0) {
                overlaps++;
                if (printed++ < MAX_PRINTED)
                    printf("OVERLAP (history) %s-%03d: %s write at %.3f s names %s while %s "
                           "(pid %d) worked %.3f-%.3f s\n",
                           prefix, lease, wl->v[w].op, rel_s(wl->v[w].mono),
                           wl->v[w].holder[0] ? wl->v[w].holder : "no holder", it->id, it->pid,
                           rel_s(it->start), rel_s(it->end));
            }
        }
    }
}

/* Faults around [from, to]: events inside it, and episodes begun before it
 * and not ended by its start. */
static void print_causes(int64_t from, int64_t to)
{
    int shown = 0;
    for (size_t i = 0; i < nevents && shown < 12; i++) {
        bool inside = events[i].mono >= from && events[i].mono <= to;
        bool active = false;
        if (events[i].mono < from && strncmp(events[i].text, "begin ", 6) == 0) {
            active = true;
            for (size_t j = i + 1; j < nevents && events[j].mono < from; j++) {
                if (strncmp(events[j].text, "end ", 4) == 0 &&
                    strcmp(events[j].text + 4, events[i].text + 6) == 0)
                    active = false;
            }
        }
        if (inside || active) {
            printf("    %s at %.3f s: %s\n", inside ? "event" : "active", rel_s(events[i].mono),
                   events[i].text);
            shown++;
        }
    }
    if (shown == 0)
        printf("    no fault event recorded around it\n");
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *history = NULL, *events_path = NULL, *table_path = NULL;
    bool expect_overlap = false;
    double min_share = 0;
    int first_log = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--history") == 0 && i + 1 < argc)
            history = argv[++i];
        else if (strcmp(argv[i], "--events") == 0 && i + 1 < argc)
            events_path = argv[++i];
        else if (strcmp(argv[i], "--table") == 0 && i + 1 < argc)
            table_path = argv[++i];
        else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc)
            prefix = argv[++i];
        else if (strcmp(argv[i], "--leases") == 0 && i + 1 < argc)
            nleases = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--expect-overlap") == 0)
            expect_overlap = true;
        else if (strcmp(argv[i], "--min-share") == 0 && i + 1 < argc)
            min_share = strtod(argv[++i], NULL);
        else {
            first_log = i;
            break;
        }
    }
    if (history == NULL || first_log >= argc || nleases < 1 || nleases > MAX_LEASES) {
        fprintf(stderr,
                "usage: chaos_many_check [--expect-overlap] [--min-share PCT] "
                "[--leases 1-%d] [--prefix P] --history FILE [--events FILE] LOG...\n",
                MAX_LEASES);
        return 2;
    }
    for (int i = first_log; i < argc; i++)
        if (read_log(argv[i]) != 0)
            return 2;
    if (read_history(history) != 0)
        return 2;
    if (events_path != NULL)
        read_events(events_path);
    if (run_start == INT64_MAX) {
        fprintf(stderr, "chaos_many_check: the logs are empty\n");
        return 2;
    }

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
        const list *l = &work[L];
        intervals += l->n;
        nwrites += writes[L].n;
        char last[64] = "";
        for (size_t w = 0; w < writes[L].n; w++) {
            const write_rec *wr = &writes[L].v[w];
            if (wr->holder[0] != '\0' && strcmp(wr->holder, last) != 0) {
                if (last[0] != '\0')
                    handovers[L]++;
                snprintf(last, sizeof last, "%s", wr->holder);
            }
        }
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
        int64_t first = l->v[0].start, cover_end = first, worked = 0, lease_gap = 0;
        for (size_t i = 0; i < l->n; i++) {
            interval it = l->v[i];
            if (it.start > cover_end && it.start - cover_end > lease_gap)
                lease_gap = it.start - cover_end;
            if (it.start > cover_end && it.start - cover_end > longest) {
                longest = it.start - cover_end;
                gap_from = cover_end;
                gap_to = it.start;
                gap_lease = L;
            }
            if (it.start < cover_end)
                it.start = cover_end;
            if (it.end > it.start) {
                worked += it.end - it.start;
                cover_end = it.end;
            }
        }
        double share = run_end > first ? 100.0 * (double)worked / (double)(run_end - first) : 0;
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
    double span = (double)(run_end - run_start) / 1e9;
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
           prefix, gap_lease < 0 ? 0 : gap_lease, longest ? rel_s(gap_from) : 0.0,
           longest ? rel_s(gap_to) : 0.0);
    if (longest > 0)
        print_causes(gap_from - 5 * (int64_t)1000000000, gap_to);
    printf("chaos-many: run_s=%.1f leases=%d overlaps=%d handovers=%d never_held=%d "
           "mean_share_pct=%.1f min_share_pct=%.1f largest_gap_ms=%lld\n",
           span, nleases, overlaps, total_handovers, never, share_mean, share_min,
           (long long)(longest / 1000000));

    if (expect_overlap) {
        printf(overlaps > 0 ? "PASS: the checker caught the overlap it was expected to find\n"
                            : "FAIL: an overlap was expected and none was found\n");
        return overlaps > 0 ? 0 : 1;
    }
    if (overlaps > 0) {
        printf("FAIL: %d overlap(s) of two processes' work on one lease\n", overlaps);
        return 1;
    }
    if (never > 0) {
        printf("FAIL: %d lease(s) never worked on: the run proves too little\n", never);
        return 1;
    }
    if (share_mean < min_share) {
        printf("FAIL: mean share %.1f%% is below %.1f%%: the run proves too little\n", share_mean,
               min_share);
        return 1;
    }
    printf("PASS: no two processes worked on one lease at once\n");
    return 0;
}
