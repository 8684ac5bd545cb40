/* Replay windows (the last `watch_history` events of each lease) and the
 * queues of open watches. Every function taking `sim` runs with sim->mu
 * held; a subscriber's queue is only touched under it once attached.
 *
 * Both are found through hash tables (table.c), so a write costs the same at
 * 10,000 leases and 1,000 watches as at one: the windows by lease, the open
 * watches in lists by what they follow (ns/name, ns/"" for a namespace, ""/""
 * for every namespace), and a write wakes only the streams it queued for. */
#include "events.h"

#include "core/clock.h"
#include "sim.h"
#include "status.h"
#include "table.h"

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
    char user[256]; /* who opened the watch, for ksim_watches_open_by() */
    qitem *head, *tail;
    bool end_when_drained; /* after the 410 ERROR event */
    bool attached;
    ksim__waiter waiter;                  /* the stream's thread waits here */
    struct ksim__subscriber *prev, *next; /* in the list of what it follows */
};

/* The open watches that follow one key; a value of sim->subscribers. */
typedef struct sub_list {
    ksim__subscriber *head;
} sub_list;

/* Past watch events of one lease, for replay. */
typedef struct ksim__event_log {
    char *ns;
    char *name;
    uint64_t *rvs;
    char **lines;
    size_t n;
    uint64_t dropped_rv; /* rv of the newest event forgotten, 0 if none */
} event_log;

/* Every kept event in publish order, for the limit across leases. */
typedef struct kept_ref {
    event_log *g;
    uint64_t rv;
} kept_ref;

typedef struct ksim__kept_events {
    kept_ref *v; /* a ring of cap entries from head */
    size_t cap, head, len;
    size_t live; /* events kept in all windows */
} kept_events;

ksim__subscriber *ksim__sub_new(const char *ns, const char *name, const char *user)
{
    ksim__subscriber *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    if (klease__cond_init(&s->waiter.cond) != 0) {
        free(s);
        return NULL;
    }
    snprintf(s->ns, sizeof(s->ns), "%s", ns);
    snprintf(s->name, sizeof(s->name), "%s", name);
    snprintf(s->user, sizeof(s->user), "%s", user ? user : "");
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
    pthread_cond_destroy(&s->waiter.cond);
    free(s);
}

bool ksim__sub_matches(const ksim__subscriber *s, const char *ns, const char *name)
{
    /* ns "": a watch of every namespace (kubectl get leases -A --watch). */
    return (s->ns[0] == '\0' || strcmp(s->ns, ns) == 0) &&
           (s->name[0] == '\0' || strcmp(s->name, name) == 0);
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
    pthread_cond_signal(&s->waiter.cond);
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

void ksim__sub_wait(ksim *sim, ksim__subscriber *s, int64_t until_mono_ns)
{
    const klease__clock *clk = klease__clock_system();
    clk->timedwait(clk, &s->waiter.cond, &sim->mu, until_mono_ns);
}

int ksim__events_attach(ksim *sim, ksim__subscriber *s)
{
    sub_list *l = ksim__table_get(sim->subscribers, s->ns, s->name);
    if (l == NULL) {
        if ((l = calloc(1, sizeof(*l))) == NULL)
            return -1;
        if (ksim__table_put(&sim->subscribers, s->ns, s->name, l, NULL) != 0) {
            free(l);
            return -1;
        }
    }
    s->prev = NULL;
    s->next = l->head;
    if (l->head)
        l->head->prev = s;
    l->head = s;
    s->attached = true;
    ksim__waiter_add(sim, &s->waiter);
    sim->counters.watches_open++;
    return 0;
}

void ksim__events_detach(ksim *sim, ksim__subscriber *s)
{
    if (s == NULL || !s->attached)
        return;
    if (s->prev) {
        s->prev->next = s->next;
    } else {
        sub_list *l = ksim__table_get(sim->subscribers, s->ns, s->name);
        if (l)
            l->head = s->next;
        if (l && l->head == NULL)
            free(ksim__table_remove(sim->subscribers, s->ns, s->name));
    }
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    s->attached = false;
    ksim__waiter_remove(sim, &s->waiter);
    sim->counters.watches_open--;
}

static event_log *find_log(ksim *sim, const char *ns, const char *name, bool create)
{
    event_log *g = ksim__table_get(sim->logs, ns, name);
    if (g || !create)
        return g;
    g = calloc(1, sizeof(*g));
    if (g == NULL || (g->ns = strdup(ns)) == NULL || (g->name = strdup(name)) == NULL ||
        ksim__table_put(&sim->logs, ns, name, g, NULL) != 0) {
        if (g) {
            free(g->ns);
            free(g->name);
        }
        free(g);
        return NULL;
    }
    return g;
}

/* Forgets a lease's oldest kept event: a watch from before it now gets 410. */
static void forget_oldest(ksim *sim, event_log *g)
{
    g->dropped_rv = g->rvs[0];
    free(g->lines[0]);
    memmove(g->rvs, g->rvs + 1, (g->n - 1) * sizeof(*g->rvs));
    memmove(g->lines, g->lines + 1, (g->n - 1) * sizeof(*g->lines));
    g->n--;
    sim->kept->live--;
}

/* Appends one event to a lease's window of `keep`, forgetting the oldest.
 * 1 when it was kept, 0 when not (keep 0), -1 on OOM. */
static int keep_event(ksim *sim, event_log *g, size_t keep, uint64_t rv, const char *line)
{
    if (keep == 0) {
        g->dropped_rv = rv;
        return 0;
    }
    if (g->n == keep)
        forget_oldest(sim, g);
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
    sim->kept->live++;
    return 1;
}

/* Appends (g, rv) to the publish-order ring, growing it. -1 on OOM. */
static int ring_push(kept_events *k, event_log *g, uint64_t rv)
{
    if (k->len == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 1024;
        kept_ref *v = malloc(cap * sizeof(*v));
        if (v == NULL)
            return -1;
        for (size_t i = 0; i < k->len; i++)
            v[i] = k->v[(k->head + i) % k->cap];
        free(k->v);
        k->v = v;
        k->cap = cap;
        k->head = 0;
    }
    k->v[(k->head + k->len) % k->cap] = (kept_ref){g, rv};
    k->len++;
    return 0;
}

/* Keeps at most `total` events across all leases, the oldest going first.
 * The ring's front is either the oldest kept event of all (it is then its
 * lease's oldest too) or one its lease's window already forgot (skipped).
 * Forgotten ones in the middle wait for the front, so the ring is also held
 * to 2 x total entries, at the cost of forgetting a little early. */
static void enforce_total(ksim *sim, size_t total)
{
    kept_events *k = sim->kept;
    while (k->len > 0) {
        kept_ref f = k->v[k->head];
        bool live = f.g->n > 0 && f.g->rvs[0] == f.rv;
        if (live && k->live <= total && k->len <= 2 * total)
            break;
        if (live)
            forget_oldest(sim, f.g);
        k->head = (k->head + 1) % k->cap;
        k->len--;
    }
}

int ksim__events_publish(ksim *sim, const char *ns, const char *name, uint64_t rv, const char *line)
{
    int rc = 0;
    if (sim->kept == NULL && (sim->kept = calloc(1, sizeof(*sim->kept))) == NULL)
        return -1;
    event_log *g = find_log(sim, ns, name, true);
    size_t keep = sim->o.watch_history > 0 ? (size_t)sim->o.watch_history : 0;
    int kept = g ? keep_event(sim, g, keep, rv, line) : -1;
    if (kept < 0)
        rc = -1;
    if (kept > 0 && sim->o.watch_history_total > 0) {
        /* Untracked on OOM: that event is then only forgotten by its own window. */
        if (ring_push(sim->kept, g, rv) != 0)
            rc = -1;
        enforce_total(sim, (size_t)sim->o.watch_history_total);
    }
    /* The watches of this lease, of its namespace, of every namespace, and of
     * this name in every namespace. */
    const char *keys[4][2] = {{ns, name}, {ns, ""}, {"", ""}, {"", name}};
    for (size_t k = 0; k < 4; k++) {
        sub_list *l = ksim__table_get(sim->subscribers, keys[k][0], keys[k][1]);
        for (ksim__subscriber *s = l ? l->head : NULL; s; s = s->next)
            if (!s->end_when_drained && ksim__sub_push(s, line) != 0)
                rc = -1;
    }
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

/* What a replay gathers over the windows a subscriber follows. */
typedef struct replay_scan {
    const ksim__subscriber *s;
    uint64_t from;
    bool expired;
    uint64_t oldest;
    uint64_t now_rv;
    size_t total; /* events kept in the windows followed */
    replay_item *items;
    size_t k;
} replay_scan;

static void scan_expiry(void *value, void *arg)
{
    const event_log *g = value;
    replay_scan *r = arg;
    if (!ksim__sub_matches(r->s, g->ns, g->name))
        return;
    if (g->dropped_rv > r->from && !r->expired) {
        r->expired = true;
        r->oldest = g->n ? g->rvs[0] : r->now_rv;
    }
    r->total += g->n;
}

static void scan_items(void *value, void *arg)
{
    const event_log *g = value;
    replay_scan *r = arg;
    if (ksim__sub_matches(r->s, g->ns, g->name))
        for (size_t i = 0; i < g->n; i++)
            if (g->rvs[i] > r->from)
                r->items[r->k++] = (replay_item){g->rvs[i], g->lines[i]};
}

/* Calls fn on the windows `s` may follow: one by name, else a namespace's. */
static void scan(ksim *sim, const ksim__subscriber *s, void (*fn)(void *, void *), replay_scan *r)
{
    if (s->name[0] != '\0' && s->ns[0] != '\0') {
        event_log *g = ksim__table_get(sim->logs, s->ns, s->name);
        if (g)
            fn(g, r);
        return;
    }
    ksim__table_each(sim->logs, s->ns, fn, r);
}

int ksim__events_replay(ksim *sim, ksim__subscriber *s, uint64_t from)
{
    replay_scan r = {.s = s, .from = from, .now_rv = sim->rv};
    if (from < sim->floor_rv) {
        r.expired = true;
        r.oldest = sim->floor_rv;
    }
    scan(sim, s, scan_expiry, &r);
    if (r.expired)
        return push_expired(s, from, r.oldest);
    if (r.total == 0)
        return 0;
    if ((r.items = calloc(r.total, sizeof(*r.items))) == NULL)
        return -1;
    scan(sim, s, scan_items, &r);
    if (r.k > 1)
        qsort(r.items, r.k, sizeof(*r.items), cmp_rv);
    int rc = 0;
    for (size_t i = 0; i < r.k && rc == 0; i++)
        rc = ksim__sub_push(s, r.items[i].line);
    free(r.items);
    return rc;
}

typedef struct count_by {
    const char *user;
    uint64_t n;
} count_by;

static void count_user(void *value, void *arg)
{
    const sub_list *l = value;
    count_by *c = arg;
    for (const ksim__subscriber *s = l->head; s; s = s->next)
        c->n += strcmp(s->user, c->user) == 0;
}

uint64_t ksim_watches_open_by(ksim *sim, const char *user)
{
    count_by c = {.user = user ? user : ""};
    pthread_mutex_lock(&sim->mu);
    ksim__table_each(sim->subscribers, "", count_user, &c);
    pthread_mutex_unlock(&sim->mu);
    return c.n;
}

static void free_list(void *value)
{
    sub_list *l = value;
    while (l->head) {
        ksim__subscriber *s = l->head;
        l->head = s->next;
        ksim__sub_free(s);
    }
    free(l);
}

static void free_log(void *value)
{
    event_log *g = value;
    for (size_t i = 0; i < g->n; i++)
        free(g->lines[i]);
    free(g->lines);
    free(g->rvs);
    free(g->ns);
    free(g->name);
    free(g);
}

void ksim__events_free_all(ksim *sim)
{
    ksim__table_free(sim->subscribers, free_list);
    sim->subscribers = NULL;
    ksim__table_free(sim->logs, free_log);
    sim->logs = NULL;
    if (sim->kept)
        free(sim->kept->v);
    free(sim->kept);
    sim->kept = NULL;
}
