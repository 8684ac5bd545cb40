/* The libcurl transport's loop: every op of one loop is a transfer on one
 * curl multi handle, driven by the thread that calls run().
 *
 * Connections: the multi handle owns one connection cache. Over HTTP/2
 * (a server that offers h2 through ALPN) transfers are multiplexed on one
 * connection: CURLMOPT_PIPELINING allows it and CURLOPT_PIPEWAIT on every
 * transfer makes a new one wait for the connection being set up rather than
 * open another. Over HTTP/1.1 CURLMOPT_MAX_HOST_CONNECTIONS caps the
 * connections at the client's max_connections and libcurl queues the
 * transfers beyond them. A stream holds its connection for as long as it
 * runs, so over HTTP/1.1 each open stream takes one of those connections
 * (the engine opens one watch per namespace, not one per lease).
 *
 * Every attempt begins and ends through http/http_curl_attempt.c, as a
 * blocking call's does: the same budget rules, options, 401 retry, body cap,
 * statuses and messages. Credentials are fetched inline, in start() or when
 * a 401 asks for a retry: a kubeconfig exec plugin therefore runs on the
 * loop's thread (within the op's budget), and holds up the other ops while
 * it runs; its result is cached, so that happens once per credential
 * lifetime.
 *
 * Easy handles are reused through a free list, so a steady state allocates
 * none. */
#include "http/http_curl_internal.h"
#include "http/http_loop_internal.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"

#include <stdatomic.h>
#include <string.h>

/* How long past an op's budget the loop itself ends it, when libcurl has
 * not: libcurl's own timeout (CURLOPT_TIMEOUT_MS, the same budget) fires
 * first for a transfer under way and names the limit as the blocking call
 * does; a transfer still queued for a connection (HTTP/1.1, every allowed
 * connection busy) is not timed by libcurl 7.88 at all. */
#define EXPIRY_GRACE_NS (100 * KLEASE__NS_PER_MS)

typedef struct handle {
    struct handle *next;
    CURL *easy;
    bool configured; /* the options every request shares are set */
} handle;

typedef struct curl_loop curl_loop;

struct klease__http_op {
    klease__link link; /* in l->running until the outcome is known, then in l->ready */
    curl_loop *l;
    klease__request_copy req;
    klease__budget b;
    klease__cancel *cancel; /* the caller's; may be NULL */
    bool attached;          /* its waker is ours */
    klease__http_data_fn on_data;
    klease__http_done_fn done;
    void *user;
    handle *h;
    bool in_multi;
    bool retried; /* the one retry after a 401 is used */
    transfer x;
    struct curl_slist *headers;
    uint64_t generation; /* of the credentials the attempt presented */
    /* The outcome, once in l->ready. */
    klease_status st;
    klease__http_response resp;
    klease_error err;
};

struct curl_loop {
    klease__http_loop base;
    curl_transport *t;
    const klease__clock *clock;
    bool system_clock;
    CURLM *multi;
    handle *free_handles;
    klease__link running;
    klease__link ready;
    bool activity;            /* loop thread: on_data or done was called */
    atomic_bool woken;        /* klease__http_loop_wakeup() */
    atomic_bool cancel_fired; /* some op's token fired: scan the running ops */
    int64_t next_expiry_ns;   /* system clock: no running op expires before (INT64_MAX: none) */
    uint64_t started, nrunning, connections, http2;
};

/* ----------------------------------------------------------- handles */

static handle *take_handle(curl_loop *l)
{
    handle *h = l->free_handles;
    if (h != NULL) {
        l->free_handles = h->next;
        return h;
    }
    if ((h = klease__calloc(1, sizeof *h)) == NULL)
        return NULL;
    if ((h->easy = curl_easy_init()) == NULL) {
        klease__free(h);
        return NULL;
    }
    return h;
}

static void drop_handle(handle *h)
{
    curl_easy_cleanup(h->easy);
    klease__free(h);
}

/* -------------------------------------------------------------- ops */

/* From the thread firing an op's token (its mutex held). */
static void wake_cancel(void *arg)
{
    curl_loop *l = arg;
    atomic_store(&l->cancel_fired, true);
    curl_multi_wakeup(l->multi);
}

static bool op_data(void *user, const char *data, size_t len)
{
    klease__http_op *op = user;
    op->l->activity = true;
    return op->on_data(op->user, data, len);
}

/* Drops what the attempt in progress holds (the transfer's buffer and
 * header list, the handle's pointers into them). */
static void end_attempt(klease__http_op *op)
{
    if (op->in_multi) {
        curl_multi_remove_handle(op->l->multi, op->h->easy);
        op->in_multi = false;
    }
    if (op->h != NULL)
        klease__curl_unhook(op->h->easy);
    curl_slist_free_all(op->headers);
    op->headers = NULL;
    klease__free(op->x.buf);
    op->x.buf = NULL;
}

/* Starts one attempt of `op`: credentials, options, onto the multi handle. */
static klease_status begin_attempt(curl_loop *l, klease__http_op *op)
{
    klease__auth auth = {0};
    klease_status st;
    if (op->h == NULL && (op->h = take_handle(l)) == NULL)
        return klease__fail(&op->err, KLEASE_ENOMEM, "out of memory");
    op->x = (transfer){.t = l->t, .easy = op->h->easy};
    if (op->on_data != NULL) {
        op->x.on_data = op_data;
        op->x.user = op;
    }
    st = klease__curl_attempt_begin(l->t, &op->h->configured, &op->x, &op->req.req, &op->b, &auth,
                                    &op->headers, &op->err);
    op->generation = auth.generation;
    klease__auth_clear(&auth); /* libcurl copied what it needs */
    if (st != KLEASE_OK)
        return st;
    CURLcode rc;
    if ((rc = curl_easy_setopt(op->h->easy, CURLOPT_PIPEWAIT, 1L)) != CURLE_OK ||
        (rc = curl_easy_setopt(op->h->easy, CURLOPT_PRIVATE, (void *)op)) != CURLE_OK)
        return klease__fail(&op->err, rc == CURLE_OUT_OF_MEMORY ? KLEASE_ENOMEM : KLEASE_ECONFIG,
                            "libcurl refused CURLOPT_PIPEWAIT: %s", curl_easy_strerror(rc));
    CURLMcode mc = curl_multi_add_handle(l->multi, op->h->easy);
    if (mc != CURLM_OK)
        return klease__fail(&op->err, KLEASE_ENOMEM, "%s %s: cannot start the transfer: %s",
                            op->req.req.method, op->req.req.path, curl_multi_strerror(mc));
    op->in_multi = true;
    int64_t expiry = klease__add_sat(op->b.deadline_ns, EXPIRY_GRACE_NS);
    if (expiry < l->next_expiry_ns)
        l->next_expiry_ns = expiry;
    return KLEASE_OK;
}

/* The outcome of `op` is known: off the multi handle, into the ready queue. */
static void make_ready(curl_loop *l, klease__http_op *op, klease_status st)
{
    end_attempt(op);
    if (op->attached) {
        klease__cancel_detach(op->cancel);
        op->attached = false;
    }
    if (op->h != NULL) {
        if (st == KLEASE_ENOMEM) {
            drop_handle(op->h); /* an allocation failed somewhere in it */
        } else {
            op->h->next = l->free_handles;
            l->free_handles = op->h;
        }
        op->h = NULL;
    }
    op->st = st;
    if (st != KLEASE_OK)
        klease__http_response_clear(&op->resp);
    klease__list_remove(&op->link);
    klease__list_push_back(&l->ready, &op->link);
}

static void op_free(curl_loop *l, klease__http_op *op)
{
    klease__list_remove(&op->link);
    l->nrunning--;
    klease__http_response_clear(&op->resp);
    klease__request_copy_clear(&op->req);
    klease__free(op);
}

static klease__http_op *loop_start(klease__http_loop *base, const klease__http_request *req,
                                   klease__cancel *cancel, klease__http_data_fn on_data,
                                   klease__http_done_fn done, void *user)
{
    curl_loop *l = (curl_loop *)base;
    klease__http_op *op = klease__calloc(1, sizeof *op);
    if (op == NULL)
        return NULL;
    if (!klease__request_copy_init(&op->req, req)) {
        klease__free(op);
        return NULL;
    }
    op->l = l;
    op->cancel = cancel;
    op->on_data = on_data;
    op->done = done;
    op->user = user;
    op->resp.retry_after_ms = -1;
    klease__list_push_back(&l->running, &op->link);
    l->started++;
    l->nrunning++;
    klease_status st;
    if (req->timeout_ms < 1) {
        st = klease__curl_no_time_for_call(&op->req.req, &op->err);
    } else if (!klease__cancel_attach(cancel, wake_cancel, l)) {
        st = klease__curl_cancelled(&op->req.req, &op->err);
    } else {
        op->attached = cancel != NULL;
        op->b = klease__budget_start(req->timeout_ms, cancel);
        st = begin_attempt(l, op);
    }
    if (st != KLEASE_OK)
        make_ready(l, op, st);
    return op;
}

static void loop_abort(klease__http_loop *base, klease__http_op *op)
{
    curl_loop *l = (curl_loop *)base;
    end_attempt(op);
    if (op->attached)
        klease__cancel_detach(op->cancel);
    if (op->h != NULL) {
        op->h->next = l->free_handles;
        l->free_handles = op->h;
    }
    op_free(l, op);
}

/* A transfer ended with `rc`: its outcome, or its retry after a 401. */
static void finished(curl_loop *l, klease__http_op *op, CURLcode rc)
{
    long connects = 0, version = 0;
    if (curl_easy_getinfo(op->h->easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
        l->connections += (uint64_t)connects;
    if (curl_easy_getinfo(op->h->easy, CURLINFO_HTTP_VERSION, &version) == CURLE_OK &&
        version == CURL_HTTP_VERSION_2_0)
        l->http2++;
    curl_multi_remove_handle(l->multi, op->h->easy);
    op->in_multi = false;
    bool retry = false;
    klease_status st = klease__curl_attempt_end(l->t, &op->x, &op->req.req, &op->b, rc, false,
                                                op->generation, &op->resp, &retry, &op->err);
    if (st == KLEASE_OK && retry && !op->retried) {
        /* One more try with fresh credentials, in what is left of the same
         * budget, as a blocking call does. */
        klease__curl_log_401_retry(l->t, &op->req.req);
        op->retried = true;
        klease__http_response_clear(&op->resp);
        end_attempt(op);
        if ((st = begin_attempt(l, op)) == KLEASE_OK)
            return;
    }
    make_ready(l, op, st);
}

/* Ops whose token fired end with KLEASE_ECLOSED. */
static void check_cancels(curl_loop *l)
{
    if (!atomic_exchange(&l->cancel_fired, false))
        return;
    klease__link *n = l->running.next;
    while (n != &l->running) {
        klease__http_op *op = KLEASE__CONTAINER_OF(n, klease__http_op, link);
        n = n->next; /* make_ready moves op to the ready list */
        if (op->in_multi && klease__cancel_fired(op->cancel)) {
            bool retry;
            klease_status st = klease__curl_attempt_end(l->t, &op->x, &op->req.req, &op->b,
                                                        CURLE_ABORTED_BY_CALLBACK, true, 0,
                                                        &op->resp, &retry, &op->err);
            make_ready(l, op, st);
        }
    }
}

/* Ops past their budget (and the grace) that libcurl did not end end with
 * the timeout libcurl would have given them. Scans only the ops in flight,
 * and only once the earliest expiry has come. */
static void check_expired(curl_loop *l)
{
    int64_t now = klease__mono_ns_system();
    if (now < l->next_expiry_ns)
        return;
    int64_t next = INT64_MAX;
    klease__link *n = l->running.next;
    while (n != &l->running) {
        klease__http_op *op = KLEASE__CONTAINER_OF(n, klease__http_op, link);
        n = n->next; /* make_ready moves op to the ready list */
        if (!op->in_multi)
            continue;
        int64_t expiry = klease__add_sat(op->b.deadline_ns, EXPIRY_GRACE_NS);
        if (now < expiry) {
            if (expiry < next)
                next = expiry;
            continue;
        }
        bool retry;
        klease_status st =
            klease__curl_attempt_end(l->t, &op->x, &op->req.req, &op->b, CURLE_OPERATION_TIMEDOUT,
                                     false, 0, &op->resp, &retry, &op->err);
        make_ready(l, op, st);
    }
    l->next_expiry_ns = next;
}

/* One pass: transfers moved forward, their outcomes collected, then every
 * ready op's done called. Outcomes are all collected before any done runs,
 * so a done that starts or aborts ops never meets libcurl's message queue
 * half-read. */
static void step(curl_loop *l)
{
    int running = 0;
    curl_multi_perform(l->multi, &running);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(l->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        void *priv = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        CURLcode rc = msg->data.result; /* msg is invalid once the handle is removed */
        finished(l, priv, rc);
    }
    check_cancels(l);
    check_expired(l);
    while (!klease__list_empty(&l->ready)) {
        klease__http_op *op = KLEASE__CONTAINER_OF(l->ready.next, klease__http_op, link);
        klease__list_remove(&op->link); /* op_free's removal is then a no-op */
        klease__http_response resp = op->resp;
        op->resp = (klease__http_response){.retry_after_ms = -1}; /* now the callee's */
        l->activity = true;
        op->done(op->user, op->st, &resp, &op->err);
        op_free(l, op);
    }
}

static void loop_run(klease__http_loop *base, int64_t deadline_ns)
{
    curl_loop *l = (curl_loop *)base;
    l->activity = false;
    step(l);
    /* After a delivery the caller has new work to schedule: no waiting. */
    while (!l->activity && !atomic_exchange(&l->woken, false)) {
        int64_t now = klease__mono_ns(l->clock);
        if (deadline_ns <= now)
            break;
        int64_t left_ns = deadline_ns - now;
        /* libcurl shortens the wait to its own next timeout. A clock other
         * than the system's (a test's fake clock) moves without waking us:
         * look at it often. */
        int64_t cap_ms = l->system_clock ? 1000 : 10;
        int64_t wait_ms = (left_ns + KLEASE__NS_PER_MS - 1) / KLEASE__NS_PER_MS;
        if (wait_ms > cap_ms)
            wait_ms = cap_ms;
        if (l->next_expiry_ns != INT64_MAX) {
            int64_t to_expiry = l->next_expiry_ns - klease__mono_ns_system();
            int64_t expiry_ms =
                to_expiry > 0 ? (to_expiry + KLEASE__NS_PER_MS - 1) / KLEASE__NS_PER_MS : 0;
            if (expiry_ms < wait_ms)
                wait_ms = expiry_ms;
        }
        curl_multi_poll(l->multi, NULL, 0, (int)wait_ms, NULL);
        step(l);
    }
}

static void loop_wakeup(klease__http_loop *base)
{
    curl_loop *l = (curl_loop *)base;
    atomic_store(&l->woken, true);
    curl_multi_wakeup(l->multi);
}

static void loop_get_stats(const klease__http_loop *base, klease__http_loop_stats *out)
{
    const curl_loop *l = (const curl_loop *)base;
    *out = (klease__http_loop_stats){.started = l->started,
                                     .connections = l->connections,
                                     .running = l->nrunning,
                                     .http2 = l->http2};
}

static void loop_free(klease__http_loop *base)
{
    curl_loop *l = (curl_loop *)base;
    while (!klease__list_empty(&l->running))
        loop_abort(base, KLEASE__CONTAINER_OF(l->running.next, klease__http_op, link));
    while (!klease__list_empty(&l->ready))
        loop_abort(base, KLEASE__CONTAINER_OF(l->ready.next, klease__http_op, link));
    while (l->free_handles != NULL) {
        handle *h = l->free_handles;
        l->free_handles = h->next;
        drop_handle(h);
    }
    if (l->multi != NULL)
        curl_multi_cleanup(l->multi);
    klease__free(l);
}

static const klease__http_loop_impl curl_loop_impl = {
    .start = loop_start,
    .end_op = loop_abort,
    .run = loop_run,
    .wakeup = loop_wakeup,
    .get_stats = loop_get_stats,
    .free = loop_free,
};

klease_status klease__curl_loop_new(klease__transport *base, const klease__clock *clock,
                                    klease__http_loop **out, klease_error *err)
{
    curl_transport *t = (curl_transport *)base;
    curl_loop *l = klease__calloc(1, sizeof *l);
    if (l == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    l->base.impl = &curl_loop_impl;
    l->t = t;
    l->clock = clock;
    l->system_clock = klease__clock_mono_is_system(clock);
    klease__list_init(&l->running);
    klease__list_init(&l->ready);
    atomic_init(&l->woken, false);
    atomic_init(&l->cancel_fired, false);
    l->next_expiry_ns = INT64_MAX;
    if ((l->multi = curl_multi_init()) == NULL) {
        klease__free(l);
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    }
    CURLMcode mc;
    if ((mc = curl_multi_setopt(l->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX)) !=
            CURLM_OK ||
        (mc = curl_multi_setopt(l->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                                (long)t->max_connections)) != CURLM_OK ||
        /* Keep every connection the cap allows (plus the watches' own): the
         * default cache holds 4 per transfer in flight, so with few in flight
         * it closes connections that the next burst of renewals opens again. */
        (mc = curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, (long)t->max_connections + 8)) !=
            CURLM_OK) {
        loop_free(&l->base);
        return klease__fail(err, mc == CURLM_OUT_OF_MEMORY ? KLEASE_ENOMEM : KLEASE_ECONFIG,
                            "libcurl refused the loop's options: %s", curl_multi_strerror(mc));
    }
    *out = &l->base;
    return KLEASE_OK;
}
