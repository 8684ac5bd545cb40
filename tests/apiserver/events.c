/* Replay windows (the last `watch_history` events of each lease) and the
 * queues of open watches. Every function taking `sim` runs with sim->mu
 * held; a subscriber's queue is only touched under it once attached. */
#include "events.h"

#include "sim.h"
#include "status.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct qitem {
    char *line;
    struct qitem *next;
} qitem;

struct ksim__subscriber {
    char ns[256];
    char name[256]; /* "" : every lease of the namespace */
    qitem *head, *tail;
    bool end_when_drained; /* after the 410 ERROR event */
    struct ksim__subscriber *next;
};

/* Past watch events of one lease, for replay. */
typedef struct ksim__event_log {
    char *ns;
    char *name;
    uint64_t *rvs;
    char **lines;
    size_t n;
    uint64_t dropped_rv; /* rv of the newest event forgotten, 0 if none */
    struct ksim__event_log *next;
} event_log;

ksim__subscriber *ksim__sub_new(const char *ns, const char *name)
{
    ksim__subscriber *s = calloc(1, sizeof(*s));
    if (s) {
        snprintf(s->ns, sizeof(s->ns), "%s", ns);
        snprintf(s->name, sizeof(s->name), "%s", name);
    }
    return s;
}

void ksim__sub_free(ksim__subscriber *s)
{
    if (s == NULL)
        return;
    while (s->head) {
        qitem *q = s->head;
        s->head = q->next;
        free(q->line);
        free(q);
    }
    free(s);
}

bool ksim__sub_matches(const ksim__subscriber *s, const char *ns, const char *name)
{
    return strcmp(s->ns, ns) == 0 && (s->name[0] == '\0' || strcmp(s->name, name) == 0);
}

int ksim__sub_push(ksim__subscriber *s, const char *line)
{
    qitem *q = calloc(1, sizeof(*q));
    if (q == NULL || (q->line = strdup(line)) == NULL) {
        free(q);
        return -1;
    }
    if (s->tail)
        s->tail->next = q;
    else
        s->head = q;
    s->tail = q;
    return 0;
}

char *ksim__sub_pop(ksim__subscriber *s)
{
    qitem *q = s->head;
    if (q == NULL)
        return NULL;
    s->head = q->next;
    if (s->head == NULL)
        s->tail = NULL;
    char *line = q->line;
    free(q);
    return line;
}

bool ksim__sub_ended(const ksim__subscriber *s)
{
    return s->end_when_drained;
}

void ksim__events_attach(ksim *sim, ksim__subscriber *s)
{
    s->next = sim->subscribers;
    sim->subscribers = s;
}

void ksim__events_detach(ksim *sim, ksim__subscriber *s)
{
    for (ksim__subscriber **pp = &sim->subscribers; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
}

static event_log *find_log(ksim *sim, const char *ns, const char *name, bool create)
{
    for (event_log *g = sim->logs; g; g = g->next)
        if (strcmp(g->ns, ns) == 0 && strcmp(g->name, name) == 0)
            return g;
    if (!create)
        return NULL;
    event_log *g = calloc(1, sizeof(*g));
    if (g == NULL || (g->ns = strdup(ns)) == NULL || (g->name = strdup(name)) == NULL) {
        if (g)
            free(g->ns);
        free(g);
        return NULL;
    }
    g->next = sim->logs;
    sim->logs = g;
    return g;
}

/* Appends one event to a lease's window of `keep`, forgetting the oldest. */
static int keep_event(event_log *g, size_t keep, uint64_t rv, const char *line)
{
    if (keep == 0) {
        g->dropped_rv = rv;
        return 0;
    }
    if (g->n == keep) {
        /* Forget the oldest: a watch from before it now gets 410. */
        g->dropped_rv = g->rvs[0];
        free(g->lines[0]);
        memmove(g->rvs, g->rvs + 1, (g->n - 1) * sizeof(*g->rvs));
        memmove(g->lines, g->lines + 1, (g->n - 1) * sizeof(*g->lines));
        g->n--;
    }
    uint64_t *rvs = realloc(g->rvs, (g->n + 1) * sizeof(*rvs));
    if (rvs)
        g->rvs = rvs;
    char **lines = realloc(g->lines, (g->n + 1) * sizeof(*lines));
    if (lines)
        g->lines = lines;
    char *copy = strdup(line);
    if (rvs == NULL || lines == NULL || copy == NULL) {
        free(copy);
        g->dropped_rv = rv; /* replay across this gap must say 410 */
        return -1;
    }
    g->rvs[g->n] = rv;
    g->lines[g->n] = copy;
    g->n++;
    return 0;
}

int ksim__events_publish(ksim *sim, const char *ns, const char *name, uint64_t rv, const char *line)
{
    int rc = 0;
    event_log *g = find_log(sim, ns, name, true);
    size_t keep = sim->o.watch_history > 0 ? (size_t)sim->o.watch_history : 0;
    if (g == NULL || keep_event(g, keep, rv, line) != 0)
        rc = -1;
    for (ksim__subscriber *s = sim->subscribers; s; s = s->next)
        if (!s->end_when_drained && ksim__sub_matches(s, ns, name) && ksim__sub_push(s, line) != 0)
            rc = -1;
    return rc;
}

typedef struct replay_item {
    uint64_t rv;
    const char *line;
} replay_item;

static int cmp_rv(const void *a, const void *b)
{
    uint64_t x = ((const replay_item *)a)->rv, y = ((const replay_item *)b)->rv;
    return x < y ? -1 : x > y;
}

/* Queues the 410 ERROR event and ends the stream after it. */
static int push_expired(ksim__subscriber *s, uint64_t from, uint64_t oldest)
{
    char msg[128];
    snprintf(msg, sizeof(msg), "too old resource version: %" PRIu64 " (%" PRIu64 ")", from, oldest);
    char *st = ksim__status_text(410, "Expired", msg, NULL);
    if (st == NULL)
        return -1;
    st[strlen(st) - 1] = '\0';
    size_t n = strlen(st) + 40;
    char *line = malloc(n);
    if (line)
        snprintf(line, n, "{\"type\":\"ERROR\",\"object\":%s}\n", st);
    free(st);
    int rc = line ? ksim__sub_push(s, line) : -1;
    free(line);
    s->end_when_drained = true;
    return rc;
}

int ksim__events_replay(ksim *sim, ksim__subscriber *s, uint64_t from)
{
    uint64_t oldest = 0;
    bool expired = from < sim->floor_rv;
    if (expired)
        oldest = sim->floor_rv;
    size_t total = 0;
    for (event_log *g = sim->logs; g; g = g->next) {
        if (!ksim__sub_matches(s, g->ns, g->name))
            continue;
        if (g->dropped_rv > from && !expired) {
            expired = true;
            oldest = g->n ? g->rvs[0] : sim->rv;
        }
        total += g->n;
    }
    if (expired)
        return push_expired(s, from, oldest);
    replay_item *items = total ? calloc(total, sizeof(*items)) : NULL;
    if (total && items == NULL)
        return -1;
    size_t k = 0;
    for (event_log *g = sim->logs; g; g = g->next)
        if (ksim__sub_matches(s, g->ns, g->name))
            for (size_t i = 0; i < g->n; i++)
                if (g->rvs[i] > from)
                    items[k++] = (replay_item){g->rvs[i], g->lines[i]};
    if (k > 1) /* qsort's array must not be NULL, even when empty */
        qsort(items, k, sizeof(*items), cmp_rv);
    int rc = 0;
    for (size_t i = 0; i < k && rc == 0; i++)
        rc = ksim__sub_push(s, items[i].line);
    free(items);
    return rc;
}

void ksim__events_free_all(ksim *sim)
{
    while (sim->subscribers) {
        ksim__subscriber *s = sim->subscribers;
        sim->subscribers = s->next;
        ksim__sub_free(s);
    }
    while (sim->logs) {
        event_log *g = sim->logs;
        sim->logs = g->next;
        for (size_t i = 0; i < g->n; i++)
            free(g->lines[i]);
        free(g->lines);
        free(g->rvs);
        free(g->ns);
        free(g->name);
        free(g);
    }
}
