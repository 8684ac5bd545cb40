/* Watch streams: one JSON event per line over a chunked response. Each
 * watch has its own queue, filled under sim->mu by every write (so replay
 * and live events cannot interleave wrongly), and drained by libmicrohttpd's
 * content reader, which blocks in the connection's own thread. */
#include "ksim_internal.h"

#include "core/clock.h"

#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

/* How often a blocked stream looks at its client socket and the clock. */
#define WATCH_SLICE_NS    (100 * KLEASE__NS_PER_MS)
#define DEFAULT_TIMEOUT_S 1800

typedef struct qitem {
    char *line;
    struct qitem *next;
} qitem;

struct watch {
    ksim *sim;
    char ns[256];
    char name[256]; /* "" : every lease of the namespace */
    char user[256];
    int fd;
    qitem *head, *tail;
    char *pending;
    size_t pending_len, pending_off;
    bool bookmarks;
    bool end_when_drained; /* after the 410 ERROR event */
    bool final_bookmark_sent;
    int64_t deadline_ns, next_bookmark_ns, final_bookmark_ns;
    struct watch *next;
};

static bool matches(const struct watch *w, const char *ns, const char *name)
{
    return strcmp(w->ns, ns) == 0 && (w->name[0] == '\0' || strcmp(w->name, name) == 0);
}

static int enqueue(struct watch *w, const char *line)
{
    qitem *q = calloc(1, sizeof(*q));
    if (q == NULL || (q->line = strdup(line)) == NULL) {
        free(q);
        return -1;
    }
    if (w->tail)
        w->tail->next = q;
    else
        w->head = q;
    w->tail = q;
    return 0;
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

int watch_publish(ksim *sim, const char *ns, const char *name, uint64_t rv, const char *line)
{
    int rc = 0;
    event_log *g = find_log(sim, ns, name, true);
    size_t keep = sim->o.watch_history > 0 ? (size_t)sim->o.watch_history : 0;
    if (g == NULL) {
        rc = -1;
    } else if (keep == 0) {
        g->dropped_rv = rv;
    } else {
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
            rc = -1;
        } else {
            g->rvs[g->n] = rv;
            g->lines[g->n] = copy;
            g->n++;
        }
    }
    for (struct watch *w = sim->watches; w; w = w->next)
        if (!w->end_when_drained && matches(w, ns, name) && enqueue(w, line) != 0)
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

/* Queues the kept events after `from`, or the 410 ERROR event when some of
 * them were forgotten. With mu held. */
static int replay(ksim *sim, struct watch *w, uint64_t from)
{
    uint64_t oldest = 0;
    bool expired = from < sim->floor_rv;
    if (expired)
        oldest = sim->floor_rv;
    size_t total = 0;
    for (event_log *g = sim->logs; g; g = g->next) {
        if (!matches(w, g->ns, g->name))
            continue;
        if (g->dropped_rv > from && !expired) {
            expired = true;
            oldest = g->n ? g->rvs[0] : sim->rv;
        }
        total += g->n;
    }
    if (expired) {
        char msg[128];
        snprintf(msg, sizeof(msg), "too old resource version: %" PRIu64 " (%" PRIu64 ")", from,
                 oldest);
        char *st = status_text(410, "Expired", msg, NULL);
        if (st == NULL)
            return -1;
        st[strlen(st) - 1] = '\0';
        size_t n = strlen(st) + 40;
        char *line = malloc(n);
        if (line)
            snprintf(line, n, "{\"type\":\"ERROR\",\"object\":%s}\n", st);
        free(st);
        int rc = line ? enqueue(w, line) : -1;
        free(line);
        w->end_when_drained = true;
        return rc;
    }
    replay_item *items = total ? calloc(total, sizeof(*items)) : NULL;
    if (total && items == NULL)
        return -1;
    size_t k = 0;
    for (event_log *g = sim->logs; g; g = g->next)
        if (matches(w, g->ns, g->name))
            for (size_t i = 0; i < g->n; i++)
                if (g->rvs[i] > from)
                    items[k++] = (replay_item){g->rvs[i], g->lines[i]};
    if (k > 1) /* qsort's array must not be NULL, even when empty */
        qsort(items, k, sizeof(*items), cmp_rv);
    int rc = 0;
    for (size_t i = 0; i < k && rc == 0; i++)
        rc = enqueue(w, items[i].line);
    free(items);
    return rc;
}

/* Queues a synthetic ADDED event for each current lease. With mu held. */
static int initial_state(ksim *sim, struct watch *w)
{
    for (lease *l = sim->leases; l; l = l->next) {
        if (!matches(w, l->ns, l->name))
            continue;
        cJSON *o = cJSON_CreateObject(), *obj = lease_to_json(l, false);
        char *line = NULL;
        if (o && obj && cJSON_AddStringToObject(o, "type", "ADDED")) {
            cJSON_AddItemToObject(o, "object", obj);
            obj = NULL;
            line = json_line(o);
        }
        cJSON_Delete(obj);
        cJSON_Delete(o);
        int rc = line ? enqueue(w, line) : -1;
        free(line);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static void free_queue(struct watch *w)
{
    while (w->head) {
        qitem *q = w->head;
        w->head = q->next;
        free(q->line);
        free(q);
    }
    w->tail = NULL;
    free(w->pending);
    w->pending = NULL;
}

void handle_watch(request *rq, reply *r, const char *ns)
{
    ksim *sim = rq->sim;
    char bad[300];
    struct watch *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        reply_oom(r);
        return;
    }
    w->sim = sim;
    w->fd = rq->fd;
    snprintf(w->ns, sizeof(w->ns), "%s", ns);
    snprintf(w->user, sizeof(w->user), "%s", rq->id.user);
    if (!parse_field_selector(query(rq, "fieldSelector"), w->name, sizeof(w->name), bad,
                              sizeof(bad))) {
        free(w);
        reply_bad_request(r, bad);
        return;
    }
    const char *rv_q = query(rq, "resourceVersion");
    uint64_t from = 0;
    bool synthetic = rv_q == NULL || rv_q[0] == '\0' || strcmp(rv_q, "0") == 0;
    if (!synthetic && !parse_rv(rv_q, &from)) {
        char msg[300];
        snprintf(msg, sizeof(msg), "resourceVersion: Invalid value: \"%s\": invalid syntax", rv_q);
        free(w);
        reply_bad_request(r, msg);
        return;
    }
    int64_t timeout_s = DEFAULT_TIMEOUT_S;
    const char *to_q = query(rq, "timeoutSeconds");
    if (to_q) {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(to_q, &end, 10);
        if (errno == 0 && end != to_q && *end == '\0' && v > 0 && v < INT32_MAX)
            timeout_s = v;
    }
    const char *bm = query(rq, "allowWatchBookmarks");
    w->bookmarks = bm && strcmp(bm, "true") == 0;
    int64_t now = klease__mono_ns(klease__clock_system());
    int64_t timeout_ns = timeout_s * KLEASE__NS_PER_S;
    w->deadline_ns = now + timeout_ns;
    w->next_bookmark_ns = now + sim->o.bookmark_interval_ms * KLEASE__NS_PER_MS;
    /* The server sends a last bookmark shortly before it ends the stream. */
    w->final_bookmark_ns =
        w->deadline_ns - (timeout_ns / 2 < KLEASE__NS_PER_S ? timeout_ns / 2 : KLEASE__NS_PER_S);

    pthread_mutex_lock(&sim->mu);
    sim->counters.watches++;
    int rc = synthetic ? initial_state(sim, w) : replay(sim, w, from);
    if (rc == 0) {
        w->next = sim->watches;
        sim->watches = w;
    }
    pthread_mutex_unlock(&sim->mu);
    if (rc != 0) {
        free_queue(w);
        free(w);
        reply_oom(r);
        return;
    }
    r->code = 200;
    r->watch = w;
}

static char *bookmark_line(ksim *sim)
{
    char *line = malloc(256);
    if (line)
        snprintf(line, 256,
                 "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Lease\",\"apiVersion\":\"%s\","
                 "\"metadata\":{\"resourceVersion\":\"%" PRIu64 "\",\"creationTimestamp\":null},"
                 "\"spec\":{}}}\n",
                 KSIM_API_VERSION, sim->rv);
    return line;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct watch *w = cls;
    ksim *sim = w->sim;
    const klease__clock *clk = klease__clock_system();
    (void)pos;
    if (w->pending == NULL) {
        pthread_mutex_lock(&sim->mu);
        for (;;) {
            if (sim->stopping) {
                pthread_mutex_unlock(&sim->mu);
                return MHD_CONTENT_READER_END_OF_STREAM;
            }
            if (client_gone(w->fd)) {
                pthread_mutex_unlock(&sim->mu);
                return MHD_CONTENT_READER_END_WITH_ERROR;
            }
            int64_t now = klease__mono_ns(clk);
            /* A partitioned client hears nothing, not even the end. */
            bool silent = identity_partitioned(sim, w->user);
            if (!silent && w->head) {
                qitem *q = w->head;
                w->head = q->next;
                if (w->head == NULL)
                    w->tail = NULL;
                w->pending = q->line;
                free(q);
                break;
            }
            if (!silent && (w->end_when_drained || now >= w->deadline_ns)) {
                pthread_mutex_unlock(&sim->mu);
                return MHD_CONTENT_READER_END_OF_STREAM;
            }
            bool final = !w->final_bookmark_sent && now >= w->final_bookmark_ns;
            if (!silent && w->bookmarks && (final || now >= w->next_bookmark_ns)) {
                if ((w->pending = bookmark_line(sim)) == NULL) {
                    pthread_mutex_unlock(&sim->mu);
                    return MHD_CONTENT_READER_END_WITH_ERROR;
                }
                if (final)
                    w->final_bookmark_sent = true;
                while (w->next_bookmark_ns <= now)
                    w->next_bookmark_ns += sim->o.bookmark_interval_ms * KLEASE__NS_PER_MS;
                break;
            }
            int64_t until = now + WATCH_SLICE_NS;
            if (w->deadline_ns < until)
                until = w->deadline_ns;
            if (w->bookmarks && w->next_bookmark_ns < until)
                until = w->next_bookmark_ns;
            if (w->bookmarks && !w->final_bookmark_sent && w->final_bookmark_ns < until)
                until = w->final_bookmark_ns;
            clk->timedwait(clk, &sim->cond, &sim->mu, until);
        }
        pthread_mutex_unlock(&sim->mu);
        w->pending_len = strlen(w->pending);
        w->pending_off = 0;
    }
    size_t n = w->pending_len - w->pending_off;
    if (n > max)
        n = max;
    memcpy(buf, w->pending + w->pending_off, n);
    w->pending_off += n;
    if (w->pending_off == w->pending_len) {
        free(w->pending);
        w->pending = NULL;
    }
    return (ssize_t)n;
}

void watch_discard(struct watch *w)
{
    if (w == NULL)
        return;
    ksim *sim = w->sim;
    pthread_mutex_lock(&sim->mu);
    for (struct watch **pp = &sim->watches; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    pthread_mutex_unlock(&sim->mu);
    free_queue(w);
    free(w);
}

static void reader_free(void *cls)
{
    watch_discard(cls);
}

int watch_queue_response(struct MHD_Connection *conn, struct watch *w)
{
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, reader, w, reader_free);
    if (resp == NULL) {
        watch_discard(w);
        return -1;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
    enum MHD_Result ok = MHD_queue_response(conn, 200, resp);
    MHD_destroy_response(resp); /* frees the watch now if it was not queued */
    return ok == MHD_YES ? 0 : -1;
}

void watch_free_all(ksim *sim)
{
    while (sim->watches) {
        struct watch *w = sim->watches;
        sim->watches = w->next;
        free_queue(w);
        free(w);
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
