/* The chaos checkers' shared reading and judging: see chaos_log.h. */
#include "chaos_log.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct event_rec {
    int64_t mono;
    char text[256];
} event_rec;

int64_t chaos_run_start = INT64_MAX, chaos_run_end = INT64_MIN;
static event_rec *events;
static size_t nevents;

void chaos_note_time(int64_t t)
{
    if (t < chaos_run_start)
        chaos_run_start = t;
    if (t > chaos_run_end)
        chaos_run_end = t;
}

double chaos_rel_s(int64_t t)
{
    return (double)(t - chaos_run_start) / 1e9;
}

void *chaos_grow(void *v, size_t *cap, size_t size)
{
    *cap = *cap ? *cap * 2 : 64;
    v = realloc(v, *cap * size);
    if (v == NULL)
        abort();
    return v;
}

void chaos_push(chaos_list *l, chaos_interval it)
{
    if (l->n == l->cap)
        l->v = chaos_grow(l->v, &l->cap, sizeof *l->v);
    l->v[l->n++] = it;
}

void chaos_wpush(chaos_wlist *l, const chaos_write *w)
{
    if (l->n == l->cap)
        l->v = chaos_grow(l->v, &l->cap, sizeof *l->v);
    l->v[l->n++] = *w;
}

int chaos_split(char *line, char **tok, int max)
{
    char *save = NULL;
    int nt = 0;
    for (char *t = strtok_r(line, " \n", &save); t && nt < max; t = strtok_r(NULL, " \n", &save))
        tok[nt++] = t;
    return nt;
}

int chaos_read_history(const char *path,
                       void (*add)(void *ctx, const char *name, const chaos_write *w), void *ctx)
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
        if (cJSON_IsNumber(mono)) {
            chaos_write w = {.mono = (int64_t)mono->valuedouble};
            snprintf(w.holder, sizeof w.holder, "%s",
                     cJSON_IsString(holder) ? holder->valuestring : "");
            snprintf(w.op, sizeof w.op, "%s", cJSON_IsString(op) ? op->valuestring : "?");
            add(ctx, cJSON_IsString(name) ? name->valuestring : NULL, &w);
        }
        cJSON_Delete(doc);
    }
    free(line);
    fclose(f);
    return 0;
}

void chaos_read_events(const char *path)
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
            events = chaos_grow(events, &cap, sizeof *events);
        events[nevents].mono = strtoll(line, NULL, 10);
        snprintf(events[nevents].text, sizeof events[nevents].text, "%s", sp + 1);
        events[nevents].text[strcspn(events[nevents].text, "\n")] = '\0';
        nevents++;
    }
    fclose(f);
}

void chaos_print_causes(int64_t from, int64_t to)
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
            printf("    %s at %.3f s: %s\n", inside ? "event" : "active",
                   chaos_rel_s(events[i].mono), events[i].text);
            shown++;
        }
    }
    if (shown == 0)
        printf("    no fault event recorded around it\n");
}

static int by_start(const void *a, const void *b)
{
    const chaos_interval *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

void chaos_overlaps(chaos_list *l, bool by_owner,
                    void (*hit)(void *ctx, const chaos_interval *a, const chaos_interval *b,
                                int64_t together_ns),
                    void *ctx)
{
    if (l->n > 1) /* qsort's array must not be NULL, even when empty */
        qsort(l->v, l->n, sizeof *l->v, by_start);
    for (size_t i = 0; i < l->n; i++) {
        for (size_t j = i + 1; j < l->n && l->v[j].start < l->v[i].end; j++) {
            if (l->v[j].pid == l->v[i].pid || (by_owner && !strcmp(l->v[j].id, l->v[i].id)))
                continue;
            int64_t end = l->v[i].end < l->v[j].end ? l->v[i].end : l->v[j].end;
            hit(ctx, &l->v[i], &l->v[j], end - l->v[j].start);
        }
    }
}

void chaos_history_hits(const chaos_list *l, const chaos_wlist *w,
                        void (*hit)(void *ctx, const chaos_write *w, const chaos_interval *it),
                        void *ctx)
{
    for (size_t k = 0; k < w->n; k++) {
        for (size_t i = 0; i < l->n; i++) {
            const chaos_interval *it = &l->v[i];
            if (it->start < w->v[k].mono && w->v[k].mono < it->end &&
                strcmp(it->id, w->v[k].holder) != 0)
                hit(ctx, &w->v[k], it);
        }
    }
}

int chaos_handovers(const chaos_wlist *w)
{
    int handovers = 0;
    char last[64] = "";
    for (size_t k = 0; k < w->n; k++) {
        if (w->v[k].holder[0] != '\0' && strcmp(w->v[k].holder, last) != 0) {
            if (last[0] != '\0')
                handovers++;
            snprintf(last, sizeof last, "%s", w->v[k].holder);
        }
    }
    return handovers;
}

chaos_cover chaos_coverage(const chaos_list *l, int64_t from, int64_t gaps_after)
{
    chaos_cover c = {0};
    int64_t cover_end = from;
    for (size_t i = 0; i < l->n; i++) {
        chaos_interval it = l->v[i];
        if (it.start > cover_end && cover_end > gaps_after && it.start - cover_end > c.longest) {
            c.longest = it.start - cover_end;
            c.gap_from = cover_end;
            c.gap_to = it.start;
        }
        if (it.start < cover_end)
            it.start = cover_end;
        if (it.end > it.start) {
            c.covered += it.end - it.start;
            cover_end = it.end;
        }
    }
    return c;
}

bool chaos_common_arg(chaos_args *a, const char *share_opt, int argc, char **argv, int *i)
{
    const char *opt = argv[*i];
    bool has_value = *i + 1 < argc;
    if (strcmp(opt, "--history") == 0 && has_value)
        a->history = argv[++*i];
    else if (strcmp(opt, "--events") == 0 && has_value)
        a->events = argv[++*i];
    else if (strcmp(opt, "--expect-overlap") == 0)
        a->expect_overlap = true;
    else if (strcmp(opt, share_opt) == 0 && has_value)
        a->min_share = strtod(argv[++*i], NULL);
    else
        return false;
    return true;
}

bool chaos_load(const chaos_args *a, char **logs, int nlogs, int (*read_log)(const char *path),
                void (*add)(void *ctx, const char *name, const chaos_write *w), const char *prog)
{
    for (int i = 0; i < nlogs; i++)
        if (read_log(logs[i]) != 0)
            return false;
    if (chaos_read_history(a->history, add, NULL) != 0)
        return false;
    if (a->events != NULL)
        chaos_read_events(a->events);
    if (chaos_run_start == INT64_MAX) {
        fprintf(stderr, "%s: the logs are empty\n", prog);
        return false;
    }
    return true;
}

int chaos_expected_overlap_verdict(int overlaps)
{
    printf(overlaps > 0 ? "PASS: the checker caught the overlap it was expected to find\n"
                        : "FAIL: an overlap was expected and none was found\n");
    return overlaps > 0 ? 0 : 1;
}
