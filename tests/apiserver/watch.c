/* Watch streams: one JSON event per line over a chunked response. Each
 * watch drains its subscriber queue (events.c) through libmicrohttpd's
 * content reader, which blocks in the connection's own thread. */
#include "watch.h"

#include "core/clock.h"
#include "events.h"
#include "faults.h"
#include "sim.h"

#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

/* How often a blocked stream looks at its client socket and the clock. */
#define WATCH_SLICE_NS    (100 * KLEASE__NS_PER_MS)
#define DEFAULT_TIMEOUT_S 1800

struct watch {
    ksim *sim;
    ksim__subscriber *sub; /* attached while the watch is open */
    char user[256];
    int fd;
    char *pending;
    size_t pending_len, pending_off;
    bool bookmarks;
    bool final_bookmark_sent;
    int64_t deadline_ns, next_bookmark_ns, final_bookmark_ns;
};

/* Frees a watch no longer attached. */
static void watch_free(struct watch *w)
{
    ksim__sub_free(w->sub);
    free(w->pending);
    free(w);
}

/* Queues a synthetic ADDED event for one lease. With mu held. */
static int added(ksim__subscriber *sub, const lease *l)
{
    cJSON *o = cJSON_CreateObject(), *obj = ksim__lease_to_json(l, false);
    char *line = NULL;
    if (o && obj && cJSON_AddStringToObject(o, "type", "ADDED")) {
        cJSON_AddItemToObject(o, "object", obj);
        obj = NULL;
        line = ksim__json_line(o);
    }
    cJSON_Delete(obj);
    cJSON_Delete(o);
    int rc = line ? ksim__sub_push(sub, line) : -1;
    free(line);
    return rc;
}

/* Queues a synthetic ADDED event for each current lease the watch follows,
 * in the order of a list (by name within a namespace). With mu held. */
static int initial_state(ksim *sim, ksim__subscriber *sub, const char *ns, const char *name)
{
    if (ns[0] && name[0]) {
        lease *l = ksim__store_find(sim, ns, name);
        return l ? added(sub, l) : 0;
    }
    void **all = NULL;
    long n = ksim__store_sorted(sim, ns, &all);
    int rc = n < 0 ? -1 : 0;
    for (long i = 0; i < n && rc == 0; i++)
        if (ksim__sub_matches(sub, ((lease *)all[i])->ns, ((lease *)all[i])->name))
            rc = added(sub, all[i]);
    free(all);
    return rc;
}

/* The query of a watch request. */
typedef struct watch_query {
    char name[256]; /* from fieldSelector; "": every lease */
    bool synthetic; /* no resourceVersion (or "0"): start with the current state */
    uint64_t from;
    int64_t timeout_s;
    bool bookmarks;
} watch_query;

/* Reads the query, answering 400 (false) for a bad selector or version. */
static bool parse_watch_query(request *rq, reply *r, watch_query *q)
{
    char bad[300];
    if (!ksim__parse_field_selector(ksim__query(rq, "fieldSelector"), q->name, sizeof(q->name), bad,
                                    sizeof(bad))) {
        ksim__reply_bad_request(r, bad);
        return false;
    }
    const char *rv_q = ksim__query(rq, "resourceVersion");
    q->from = 0;
    q->synthetic = rv_q == NULL || rv_q[0] == '\0' || strcmp(rv_q, "0") == 0;
    if (!q->synthetic && !ksim__parse_rv(rv_q, &q->from)) {
        char msg[300];
        snprintf(msg, sizeof(msg), "resourceVersion: Invalid value: \"%s\": invalid syntax", rv_q);
        ksim__reply_bad_request(r, msg);
        return false;
    }
    q->timeout_s = DEFAULT_TIMEOUT_S;
    const char *to_q = ksim__query(rq, "timeoutSeconds");
    if (to_q) {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(to_q, &end, 10);
        if (errno == 0 && end != to_q && *end == '\0' && v > 0 && v < INT32_MAX)
            q->timeout_s = v;
    }
    const char *bm = ksim__query(rq, "allowWatchBookmarks");
    q->bookmarks = bm && strcmp(bm, "true") == 0;
    return true;
}

/* Sets the stream's end and bookmark times from now. */
static void schedule(struct watch *w, const watch_query *q)
{
    int64_t now = klease__mono_ns(klease__clock_system());
    int64_t timeout_ns = q->timeout_s * KLEASE__NS_PER_S;
    w->bookmarks = q->bookmarks;
    w->deadline_ns = now + timeout_ns;
    w->next_bookmark_ns = now + w->sim->o.bookmark_interval_ms * KLEASE__NS_PER_MS;
    /* The server sends a last bookmark shortly before it ends the stream. */
    w->final_bookmark_ns =
        w->deadline_ns - (timeout_ns / 2 < KLEASE__NS_PER_S ? timeout_ns / 2 : KLEASE__NS_PER_S);
}

void ksim__handle_watch(request *rq, reply *r, const char *ns)
{
    ksim *sim = rq->sim;
    watch_query q;
    struct watch *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        ksim__reply_oom(r);
        return;
    }
    w->sim = sim;
    w->fd = rq->fd;
    snprintf(w->user, sizeof(w->user), "%s", rq->id.user);
    if (!parse_watch_query(rq, r, &q)) {
        watch_free(w);
        return;
    }
    if ((w->sub = ksim__sub_new(ns, q.name, rq->id.user)) == NULL) {
        watch_free(w);
        ksim__reply_oom(r);
        return;
    }
    schedule(w, &q);

    pthread_mutex_lock(&sim->mu);
    sim->counters.watches++;
    int rc = q.synthetic ? initial_state(sim, w->sub, ns, q.name)
                         : ksim__events_replay(sim, w->sub, q.from);
    if (rc == 0)
        rc = ksim__events_attach(sim, w->sub);
    pthread_mutex_unlock(&sim->mu);
    if (rc != 0) {
        watch_free(w);
        ksim__reply_oom(r);
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
            if (ksim__client_gone(w->fd)) {
                pthread_mutex_unlock(&sim->mu);
                return MHD_CONTENT_READER_END_WITH_ERROR;
            }
            int64_t now = klease__mono_ns(clk);
            /* A partitioned client hears nothing, not even the end. */
            bool silent = ksim__identity_partitioned(sim, w->user);
            if (!silent && (w->pending = ksim__sub_pop(w->sub)) != NULL)
                break;
            if (!silent && (ksim__sub_ended(w->sub) || now >= w->deadline_ns)) {
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
            ksim__sub_wait(sim, w->sub, until);
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

void ksim__watch_discard(struct watch *w)
{
    if (w == NULL)
        return;
    ksim *sim = w->sim;
    pthread_mutex_lock(&sim->mu);
    ksim__events_detach(sim, w->sub);
    pthread_mutex_unlock(&sim->mu);
    watch_free(w);
}

static void reader_free(void *cls)
{
    ksim__watch_discard(cls);
}

int ksim__watch_queue_response(struct MHD_Connection *conn, struct watch *w)
{
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, reader, w, reader_free);
    if (resp == NULL) {
        ksim__watch_discard(w);
        return -1;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
    enum MHD_Result ok = MHD_queue_response(conn, 200, resp);
    MHD_destroy_response(resp); /* frees the watch now if it was not queued */
    return ok == MHD_YES ? 0 : -1;
}
