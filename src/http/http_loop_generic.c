/* The loop of a transport without one of its own (the scripted transports
 * of the unit tests): plain requests run inline in start(), streams on a
 * thread each. Either way the outcome, and a stream's bytes, are queued and
 * handed to done and on_data by run(), on the loop's thread, so the caller
 * sees the same order of events as with the libcurl loop: nothing is ever
 * delivered from inside start().
 *
 * A stream thread copies each piece of body it receives into a queue; once
 * on_data has returned false (or the op is aborted) its next data callback
 * returns false, and an op-local cancel token is fired so a stream that is
 * blocked waiting for the server ends too. The caller's token, when it
 * fires, fires the op-local one. */
#include "http/http_loop_internal.h"

#include "core/alloc.h"
#include "core/error.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

typedef struct chunk {
    struct chunk *next;
    size_t len;
    char data[];
} chunk;

typedef struct generic_loop generic_loop;

struct klease__http_op {
    klease__link all;  /* loop thread only: every op not yet ended */
    klease__link news; /* under l->mu: in l->news while it has something to deliver */
    generic_loop *l;
    klease__cancel *cancel; /* the caller's; may be NULL */
    klease__http_data_fn on_data;
    klease__http_done_fn done;
    void *user;
    /* Streams only. */
    klease__request_copy req;
    klease__cancel local; /* fired by abort, by on_data's false and by `cancel` */
    bool local_ready;
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;      /* the thread's data callback returns false from now on */
    bool consumer_stopped; /* loop thread: on_data returned false */
    /* Under l->mu. */
    chunk *head, *tail;
    bool out_of_memory; /* a copy of received bytes could not be made */
    bool finished;      /* the outcome below is final */
    klease_status st;
    klease__http_response resp;
    klease_error err;
};

struct generic_loop {
    klease__http_loop base;
    klease__transport *t;
    const klease__clock *clock;
    pthread_mutex_t mu;
    pthread_cond_t cond; /* news arrived or a wakeup: signalled under mu */
    klease__link news;   /* under mu */
    bool woken;          /* under mu */
    klease__link all;    /* loop thread only */
    uint64_t started, running;
};

static void push_news(generic_loop *l, klease__http_op *op)
{
    if (!klease__link_linked(&op->news))
        klease__list_push_back(&l->news, &op->news);
    pthread_cond_broadcast(&l->cond);
}

static void free_chunks(chunk *c)
{
    while (c != NULL) {
        chunk *next = c->next;
        klease__free(c);
        c = next;
    }
}

/* ------------------------------------------------------ stream threads */

static bool thread_data(void *user, const char *data, size_t len)
{
    klease__http_op *op = user;
    generic_loop *l = op->l;
    if (atomic_load(&op->stop))
        return false;
    chunk *c = klease__malloc(sizeof *c + len);
    pthread_mutex_lock(&l->mu);
    if (c == NULL) {
        op->out_of_memory = true;
    } else {
        c->next = NULL;
        c->len = len;
        memcpy(c->data, data, len);
        if (op->tail != NULL)
            op->tail->next = c;
        else
            op->head = c;
        op->tail = c;
        push_news(l, op);
    }
    pthread_mutex_unlock(&l->mu);
    return c != NULL;
}

static void *stream_main(void *arg)
{
    klease__http_op *op = arg;
    generic_loop *l = op->l;
    klease__http_response resp = {.retry_after_ms = -1};
    klease_error err;
    memset(&err, 0, sizeof err);
    klease_status st = l->t->stream(l->t, &op->req.req, &op->local, thread_data, op, &resp, &err);
    pthread_mutex_lock(&l->mu);
    op->st = st;
    op->resp = resp;
    op->err = err;
    op->finished = true;
    push_news(l, op);
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* The caller's token fired: end the stream as if aborted, but still
 * deliver its outcome (the stream returns KLEASE_ECLOSED). */
static void fire_local(void *arg)
{
    klease__http_op *op = arg;
    klease__cancel_fire(&op->local);
}

/* --------------------------------------------------------------- ops */

static void op_free(klease__http_op *op)
{
    klease__http_response_clear(&op->resp);
    free_chunks(op->head);
    klease__request_copy_clear(&op->req);
    if (op->local_ready)
        klease__cancel_destroy(&op->local);
    klease__free(op);
}

/* Stops and joins the stream thread of `op`, if any. */
static void end_thread(klease__http_op *op)
{
    if (op->on_data == NULL)
        return;
    /* After the detach, the caller's token no longer reaches op->local. */
    klease__cancel_detach(op->cancel);
    atomic_store(&op->stop, true);
    if (op->local_ready)
        klease__cancel_fire(&op->local);
    if (op->thread_started) {
        pthread_join(op->thread, NULL);
        op->thread_started = false;
    }
}

static void op_end(generic_loop *l, klease__http_op *op)
{
    klease__list_remove(&op->all);
    l->running--;
}

static void fail_now(generic_loop *l, klease__http_op *op, klease_status st, const char *what)
{
    op->st = klease__fail(&op->err, st, "%s %s: %s", op->req.req.method, op->req.req.path, what);
    op->finished = true;
    pthread_mutex_lock(&l->mu);
    push_news(l, op);
    pthread_mutex_unlock(&l->mu);
}

static klease__http_op *generic_start(klease__http_loop *base, const klease__http_request *req,
                                      klease__cancel *cancel, klease__http_data_fn on_data,
                                      klease__http_done_fn done, void *user)
{
    generic_loop *l = (generic_loop *)base;
    klease__http_op *op = klease__calloc(1, sizeof *op);
    if (op == NULL)
        return NULL;
    op->l = l;
    op->cancel = cancel;
    op->on_data = on_data;
    op->done = done;
    op->user = user;
    op->resp.retry_after_ms = -1;
    atomic_init(&op->stop, false);
    if (on_data != NULL) {
        if (!klease__request_copy_init(&op->req, req) || klease__cancel_init(&op->local) != 0) {
            klease__request_copy_clear(&op->req);
            klease__free(op);
            return NULL;
        }
        op->local_ready = true;
    }
    klease__list_push_back(&l->all, &op->all);
    l->started++;
    l->running++;
    if (on_data == NULL) {
        /* Inline: the transport's own limits and the caller's token apply. */
        op->st = l->t->request(l->t, req, cancel, &op->resp, &op->err);
        op->finished = true;
        pthread_mutex_lock(&l->mu);
        push_news(l, op);
        pthread_mutex_unlock(&l->mu);
    } else if (!klease__cancel_attach(cancel, fire_local, op)) {
        fail_now(l, op, KLEASE_ECLOSED, "cancelled");
    } else if (pthread_create(&op->thread, NULL, stream_main, op) != 0) {
        klease__cancel_detach(cancel);
        fail_now(l, op, KLEASE_ENOMEM, "cannot start a thread for the stream");
    } else {
        op->thread_started = true;
    }
    return op;
}

static void generic_abort(klease__http_loop *base, klease__http_op *op)
{
    generic_loop *l = (generic_loop *)base;
    end_thread(op);
    pthread_mutex_lock(&l->mu);
    if (klease__link_linked(&op->news))
        klease__list_remove(&op->news);
    pthread_mutex_unlock(&l->mu);
    op_end(l, op);
    op_free(op);
}

/* Calls done for an op whose outcome is final, then frees it. */
static void complete(generic_loop *l, klease__http_op *op)
{
    end_thread(op);
    op_end(l, op);
    klease_status st = op->st;
    if (op->consumer_stopped) {
        /* Stopped by on_data: a clean end, whatever the cancel it took to
         * get the thread out of the transport made stream() return. */
        if (st != KLEASE_OK) {
            op->resp.status = 200;
            op->resp.retry_after_ms = -1;
        }
        st = KLEASE_OK;
    } else if (op->out_of_memory) {
        st = klease__fail(&op->err, KLEASE_ENOMEM, "%s %s: out of memory", op->req.req.method,
                          op->req.req.path);
    }
    if (st == KLEASE_OK && op->resp.body == NULL) {
        if ((op->resp.body = klease__strdup("")) == NULL)
            st = klease__fail(&op->err, KLEASE_ENOMEM, "out of memory");
    }
    if (st != KLEASE_OK)
        klease__http_response_clear(&op->resp);
    klease__http_response resp = op->resp;
    op->resp = (klease__http_response){.retry_after_ms = -1}; /* now the callee's */
    op->done(op->user, st, &resp, &op->err);
    op_free(op);
}

/* Delivers everything queued; true when anything was. */
static bool deliver(generic_loop *l)
{
    bool any = false;
    pthread_mutex_lock(&l->mu);
    while (!klease__list_empty(&l->news)) {
        klease__http_op *op = KLEASE__CONTAINER_OF(l->news.next, klease__http_op, news);
        klease__list_remove(&op->news);
        chunk *c = op->head;
        op->head = op->tail = NULL;
        bool finished = op->finished;
        pthread_mutex_unlock(&l->mu);
        any = true;
        for (chunk *at = c; at != NULL; at = at->next) {
            if (!op->consumer_stopped && !op->on_data(op->user, at->data, at->len)) {
                op->consumer_stopped = true;
                atomic_store(&op->stop, true);
                klease__cancel_fire(&op->local);
            }
        }
        free_chunks(c);
        if (finished)
            complete(l, op); /* may start and abort other ops: the list is re-read */
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return any;
}

static void generic_run(klease__http_loop *base, int64_t deadline_ns)
{
    generic_loop *l = (generic_loop *)base;
    bool delivered = deliver(l);
    pthread_mutex_lock(&l->mu);
    /* After a delivery the caller has new work to schedule: no waiting. */
    while (!delivered && !l->woken && klease__list_empty(&l->news)) {
        if (deadline_ns <= klease__mono_ns(l->clock) ||
            l->clock->timedwait(l->clock, &l->cond, &l->mu, deadline_ns) == ETIMEDOUT)
            break;
    }
    l->woken = false;
    pthread_mutex_unlock(&l->mu);
    deliver(l);
}

static void generic_wakeup(klease__http_loop *base)
{
    generic_loop *l = (generic_loop *)base;
    pthread_mutex_lock(&l->mu);
    l->woken = true;
    pthread_cond_broadcast(&l->cond);
    pthread_mutex_unlock(&l->mu);
}

static void generic_get_stats(const klease__http_loop *base, klease__http_loop_stats *out)
{
    const generic_loop *l = (const generic_loop *)base;
    *out = (klease__http_loop_stats){.started = l->started, .running = l->running};
}

static void generic_free(klease__http_loop *base)
{
    generic_loop *l = (generic_loop *)base;
    while (!klease__list_empty(&l->all))
        generic_abort(base, KLEASE__CONTAINER_OF(l->all.next, klease__http_op, all));
    pthread_cond_destroy(&l->cond);
    pthread_mutex_destroy(&l->mu);
    klease__free(l);
}

static const klease__http_loop_impl generic_impl = {
    .start = generic_start,
    .end_op = generic_abort,
    .run = generic_run,
    .wakeup = generic_wakeup,
    .get_stats = generic_get_stats,
    .free = generic_free,
};

klease_status klease__http_loop_generic_new(klease__transport *t, const klease__clock *clock,
                                            klease__http_loop **out, klease_error *err)
{
    generic_loop *l = klease__calloc(1, sizeof *l);
    if (l == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    if (pthread_mutex_init(&l->mu, NULL) != 0) {
        klease__free(l);
        return klease__fail(err, KLEASE_ENOMEM, "cannot create a mutex");
    }
    if (klease__cond_init(&l->cond) != 0) {
        pthread_mutex_destroy(&l->mu);
        klease__free(l);
        return klease__fail(err, KLEASE_ENOMEM, "cannot create a condition variable");
    }
    l->base.impl = &generic_impl;
    l->t = t;
    l->clock = clock;
    klease__list_init(&l->news);
    klease__list_init(&l->all);
    *out = &l->base;
    return KLEASE_OK;
}
