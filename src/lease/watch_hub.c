/* One watch per namespace for every follower of an engine (see
 * lease/watch_hub.h). */
#include "lease/watch_hub.h"

#include "api/client.h"
#include "api/status.h"
#include "api/watch.h"
#include "core/alloc.h"
#include "core/error.h"

#include <cjson/cJSON.h>
#include <string.h>

/* Longest single watch request: the server ends it then and we start another. */
#define WATCH_MAX_S 300
/* The newest leases the watch delivered, kept for followers that register
 * just after an event for their lease went by: a follower whose read was
 * answered before a vacate, but taken in after the vacate's event, would
 * otherwise follow a holder that is gone until its claim's deadline. A
 * follower registers within one request of its read, so a short memory
 * covers the window. */
#define RECENT_MAX 64

typedef struct recent_lease {
    char name[254];
    klease__lease lease;
} recent_lease;

/* A stream that ended sooner than this is started again only after it: a
 * server that ends every stream at once must not make the hub spin. */
#define RESTART_MIN_NS (1000 * KLEASE__NS_PER_MS)

struct klease__hub {
    klease__hub *next; /* the engine's hubs */
    klease__engine *eng;
    char ns[64];
    klease__follower *followers;
    size_t count;
    klease__http_op *op;
    klease__lease_request req;
    klease__watch_parser parser;
    char rv[KLEASE__RV_MAX + 1]; /* resume point: the newest version seen */
    klease_status st;            /* what ended the stream from inside */
    klease_error err;
    bool restart_fresh;  /* 410: start again without a version */
    klease__task notify; /* tells flagged followers, outside on_data */
    bool notify_posted;
    bool notifying;     /* inside notify_followers */
    size_t pending;     /* followers flagged, not yet told */
    int64_t started_at; /* when the current stream began */
    klease__timer restart;
    bool timer_reserved;
    recent_lease recent[RECENT_MAX]; /* a ring, newest at recent_next - 1 */
    size_t recent_next;
    size_t recent_len;
};

static klease__hub **hubs_of(klease__engine *eng)
{
    return (klease__hub **)klease__engine_ext(eng);
}

static void remove_follower(klease__hub *h, klease__follower *f)
{
    if (f->prev != NULL)
        f->prev->next = f->next;
    else
        h->followers = f->next;
    if (f->next != NULL)
        f->next->prev = f->prev;
    f->next = f->prev = NULL;
    f->hub = NULL;
    if (f->pending)
        h->pending--;
    f->pending = false;
    h->count--;
}

static void hub_free(klease__hub *h)
{
    klease__hub **p = hubs_of(h->eng);
    while (*p != h)
        p = &(*p)->next;
    *p = h->next;
    if (h->op != NULL)
        klease__http_loop_abort(klease__engine_loop(h->eng), h->op);
    klease__engine_timer_stop(h->eng, &h->restart);
    if (h->timer_reserved)
        klease__engine_timers_release(h->eng, 1);
    klease__lease_request_clear(&h->req);
    klease__watch_parser_free(&h->parser);
    klease__free(h);
}

/* Frees a hub nobody follows, unless a queued task or the notify loop still
 * holds it (they call this again when they are done). */
static void release_if_empty(klease__hub *h)
{
    if (h->count == 0 && !h->notify_posted && !h->notifying)
        hub_free(h);
}

/* ---------------------------------------------------------------- events */

/* Runs on the engine thread after on_data returned: followers whose lease
 * changed hands decide again (that starts requests, which on_data may not). */
static void notify_followers(void *arg)
{
    klease__hub *h = arg;
    h->notify_posted = false;
    h->notifying = true;
    for (;;) {
        klease__follower *f = h->followers;
        while (f != NULL && !f->pending)
            f = f->next;
        if (f == NULL)
            break;
        remove_follower(h, f);
        f->changed(f->arg); /* may follow again, here or elsewhere */
    }
    h->notifying = false;
    release_if_empty(h);
}

static void flag(klease__hub *h, klease__follower *f)
{
    f->pending = true;
    h->pending++;
    if (!h->notify_posted) {
        h->notify_posted = true;
        klease__engine_post(h->eng, &h->notify);
    }
}

static bool on_event(void *user, klease__watch_type type, const cJSON *object)
{
    klease__hub *h = user;
    if (type == KLEASE__WATCH_ERROR) {
        h->st = klease__status_from_object(object, h->req.what, &h->err);
        return false;
    }
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(object, "metadata");
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
    if (cJSON_IsString(rv) && strlen(rv->valuestring) <= KLEASE__RV_MAX)
        memcpy(h->rv, rv->valuestring, strlen(rv->valuestring) + 1);
    if (type == KLEASE__WATCH_BOOKMARK)
        return true;
    /* An event we cannot read ends the stream as a failure: its followers
     * poll (and say why) rather than trust a watch that lost a change. */
    klease__lease l;
    if (type != KLEASE__WATCH_DELETED &&
        (h->st = klease__lease_decode_object(object, &l, &h->err)) != KLEASE_OK)
        return false;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
    if (!cJSON_IsString(name)) {
        h->st = klease__fail(&h->err, KLEASE_EPROTO, "watch: an event's lease has no name");
        return false;
    }
    if (type != KLEASE__WATCH_DELETED && strlen(name->valuestring) < sizeof h->recent[0].name) {
        recent_lease *r = &h->recent[h->recent_next];
        memcpy(r->name, name->valuestring, strlen(name->valuestring) + 1);
        r->lease = l;
        h->recent_next = (h->recent_next + 1) % RECENT_MAX;
        if (h->recent_len < RECENT_MAX)
            h->recent_len++;
    }
    for (klease__follower *f = h->followers; f != NULL; f = f->next) {
        if (f->pending || strcmp(klease_manager_name(f->m), name->valuestring) != 0)
            continue;
        if (type == KLEASE__WATCH_DELETED) {
            klease__manager_forget(f->m);
            flag(h, f);
            continue;
        }
        klease__manager_observe(f->m, &l);
        /* A renewal by the same holder: keep following. Anything else
         * (vacated, taken over): decide again at once. */
        if (!klease__lease_same_holder(&l, &f->followed) || !l.has_renew_time)
            flag(h, f);
    }
    return true;
}

static bool on_data(void *user, const char *data, size_t len)
{
    klease__hub *h = user;
    klease_status st = klease__watch_parser_feed(&h->parser, data, len, &h->err);
    if (st != KLEASE_OK && h->st == KLEASE_OK)
        h->st = st;
    return h->st == KLEASE_OK && !h->parser.stopped;
}

/* ----------------------------------------------------------------- watch */

static bool start_watch(klease__hub *h);

/* The watch failed: every follower polls instead (and comes back through
 * klease__hub_follow, which starts a new watch, after its next read). One
 * already told of a change (its notify task not run yet) decides at once,
 * as it would have. All leave the hub before any is told, so one that
 * follows again meanwhile joins a fresh watch. */
static void fail_all(klease__hub *h, const klease_error *err)
{
    klease__log(&klease__engine_client(h->eng)->log, KLEASE_LOG_INFO,
                "leases in %s: watch failed (%s); polling until it is back (%zu followers)", h->ns,
                err->message, h->count);
    klease__follower *todo = NULL;
    while (h->followers != NULL) {
        klease__follower *f = h->followers;
        bool changed = f->pending;
        remove_follower(h, f);
        f->pending = changed; /* kept only until it is told, below */
        f->next = todo;
        todo = f;
    }
    bool notifying = h->notifying;
    h->notifying = true; /* the hub outlives the calls below */
    while (todo != NULL) {
        klease__follower *f = todo;
        todo = f->next;
        f->next = NULL;
        bool changed = f->pending;
        f->pending = false;
        if (changed)
            f->changed(f->arg);
        else
            f->lost(f->arg);
    }
    h->notifying = notifying;
    release_if_empty(h);
}

static void on_watch_done(void *user, klease_status sent, klease__http_response *resp,
                          const klease_error *err)
{
    klease__hub *h = user;
    h->op = NULL;
    klease_error e = *err;
    klease_status st = sent;
    if (h->st != KLEASE_OK) {
        st = h->st; /* an ERROR event or a malformed event ended the stream */
        e = h->err;
    } else if (st == KLEASE_OK) {
        st = klease__lease_request_finish(klease__engine_client(h->eng), &h->req, st, resp, &e);
        if (st == KLEASE_OK)
            st = klease__watch_parser_finish(&h->parser, &e);
    }
    klease__http_response_clear(resp);
    if (st == KLEASE_EHTTP && e.http_code == 410) {
        h->rv[0] = '\0'; /* older than the server's history: start from the current state */
        st = KLEASE_OK;
    }
    if (h->count == h->pending) {
        /* Everyone left or is about to decide again: whoever follows next
         * starts a new watch (klease__hub_follow). */
        release_if_empty(h);
        return;
    }
    if (st != KLEASE_OK) {
        fail_all(h, &e);
        return;
    }
    int64_t now = klease__mono_ns(klease__engine_client(h->eng)->clock);
    if (now - h->started_at < RESTART_MIN_NS) {
        klease__engine_timer_arm(h->eng, &h->restart, h->started_at + RESTART_MIN_NS);
        return;
    }
    if (!start_watch(h))
        fail_all(h, &h->err);
}

static void on_restart(void *arg)
{
    klease__hub *h = arg;
    if (h->op == NULL && !start_watch(h))
        fail_all(h, &h->err);
}

/* Starts (again) from h->rv; without one the server sends every lease as
 * ADDED first. */
static bool start_watch(klease__hub *h)
{
    klease_client *c = klease__engine_client(h->eng);
    klease__lease_request_clear(&h->req);
    klease__watch_parser_free(&h->parser);
    klease__watch_parser_init(&h->parser, c->max_response_bytes, on_event, h);
    h->st = KLEASE_OK;
    klease__error_clear(&h->err);
    h->started_at = klease__mono_ns(c->clock);
    if (klease__lease_watch_request(c, h->ns, NULL, h->rv, WATCH_MAX_S, &h->req, &h->err) !=
        KLEASE_OK)
        return false;
    h->op = klease__http_loop_start(klease__engine_loop(h->eng), &h->req.http, NULL, on_data,
                                    on_watch_done, h);
    if (h->op == NULL) {
        klease__fail(&h->err, KLEASE_ENOMEM, "out of memory");
        return false;
    }
    return true;
}

/* ------------------------------------------------------------- followers */

static klease__hub *hub_for(klease__engine *eng, const char *ns)
{
    for (klease__hub *h = *hubs_of(eng); h != NULL; h = h->next) {
        if (strcmp(h->ns, ns) != 0)
            continue;
        if (h->op == NULL && h->restart.slot == 0 && !start_watch(h))
            return NULL; /* (between streams: a queued task kept it) */
        return h;
    }
    klease__hub *h = klease__calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->eng = eng;
    klease__strlcpy(h->ns, ns, sizeof h->ns);
    h->notify = (klease__task){.fn = notify_followers, .arg = h};
    h->restart = (klease__timer){.fn = on_restart, .arg = h};
    h->next = *hubs_of(eng);
    *hubs_of(eng) = h;
    klease_error err;
    if (klease__engine_timers_reserve(eng, 1, &err) != KLEASE_OK) {
        hub_free(h);
        return NULL;
    }
    h->timer_reserved = true;
    if (!start_watch(h)) {
        klease__log(&klease__engine_client(eng)->log, KLEASE_LOG_INFO,
                    "leases in %s: cannot start a watch (%s); polling", ns, h->err.message);
        hub_free(h);
        return NULL;
    }
    return h;
}

/* A follower that just registered takes in the newest copy of its lease the
 * watch delivered, if any (the cache keeps the newer of the two), and is told
 * at once when that copy shows a change of holder. */
static void catch_up(klease__hub *h, klease__follower *f)
{
    const char *name = klease_manager_name(f->m);
    for (size_t i = 1; i <= h->recent_len; i++) {
        const recent_lease *r = &h->recent[(h->recent_next + RECENT_MAX - i) % RECENT_MAX];
        if (strcmp(r->name, name) != 0)
            continue;
        klease__manager_observe(f->m, &r->lease);
        klease__manager_view view;
        klease__manager_view_get(f->m, &view);
        if (!view.has_lease || !klease__lease_same_holder(&view.lease, &f->followed) ||
            !view.lease.has_renew_time)
            flag(h, f);
        return;
    }
}

bool klease__hub_follow(klease__engine *eng, klease__follower *f)
{
    klease__hub_unfollow(f);
    klease__hub *h = hub_for(eng, klease_manager_namespace(f->m));
    if (h == NULL)
        return false;
    f->hub = h;
    f->pending = false;
    f->prev = NULL;
    f->next = h->followers;
    if (h->followers != NULL)
        h->followers->prev = f;
    h->followers = f;
    h->count++;
    catch_up(h, f);
    return true;
}

void klease__hub_unfollow(klease__follower *f)
{
    klease__hub *h = f->hub;
    if (h == NULL)
        return;
    remove_follower(h, f);
    release_if_empty(h);
}
