/* Scripted transport for unit tests. */
#include "scripted_transport.h"

#include "core/clock.h"
#include "api/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef KLEASE_FIXTURE_DIR
#error "KLEASE_FIXTURE_DIR must be defined"
#endif

char *read_fixture(const char *relpath)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", KLEASE_FIXTURE_DIR, relpath);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open fixture %s\n", path);
        abort();
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n)
        abort();
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static char *dup_heap(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d == NULL)
        abort();
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void wake(void *arg)
{
    scripted_transport *t = arg;
    pthread_mutex_lock(&t->mu);
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->mu);
}

static klease_status play(scripted_transport *t, const klease__http_request *req,
                          klease__cancel *cancel, klease__http_data_fn on_data, void *user,
                          klease__http_response *resp, klease_error *err)
{
    pthread_mutex_lock(&t->mu);
    if (t->nrequests < SCRIPT_MAX) {
        scripted_request *r = &t->requests[t->nrequests++];
        snprintf(r->method, sizeof r->method, "%s", req->method);
        snprintf(r->path, sizeof r->path, "%s", req->path);
        snprintf(r->content_type, sizeof r->content_type, "%s",
                 req->content_type ? req->content_type : "");
        r->body = req->body ? dup_heap(req->body, req->body_len) : NULL;
        r->timeout_ms = req->timeout_ms;
        r->stream = on_data != NULL;
    }
    if (t->next >= t->nreplies) {
        pthread_mutex_unlock(&t->mu);
        if (err != NULL) {
            err->status = KLEASE_ETRANSPORT;
            snprintf(err->message, sizeof err->message, "script exhausted at %s %s", req->method,
                     req->path);
        }
        return KLEASE_ETRANSPORT;
    }
    size_t i = t->next++;
    scripted_reply reply = t->replies[i];
    const char *body = t->bodies[i];
    if (reply.hang) {
        pthread_mutex_unlock(&t->mu);
        if (!klease__cancel_attach(cancel, wake, t))
            goto cancelled;
        pthread_mutex_lock(&t->mu);
        t->hanging = true;
        pthread_cond_broadcast(&t->cond);
        int64_t deadline = t->clock != NULL
                               ? klease__mono_ns(t->clock) + req->timeout_ms * KLEASE__NS_PER_MS
                               : INT64_MAX;
        bool timed_out = false;
        while (!klease__cancel_fired(cancel)) {
            if (t->clock == NULL) {
                pthread_cond_wait(&t->cond, &t->mu);
            } else if (t->clock->timedwait(t->clock, &t->cond, &t->mu, deadline) == ETIMEDOUT) {
                timed_out = !klease__cancel_fired(cancel);
                break;
            }
        }
        t->hanging = false;
        pthread_mutex_unlock(&t->mu);
        klease__cancel_detach(cancel);
        if (timed_out) {
            if (err != NULL) {
                err->status = KLEASE_ETIMEDOUT;
                err->http_code = 0;
                err->retry_after_ms = -1;
                snprintf(err->message, sizeof err->message, "%s %s: timed out", req->method,
                         req->path);
            }
            return KLEASE_ETIMEDOUT;
        }
    cancelled:
        if (err != NULL) {
            err->status = KLEASE_ECLOSED;
            snprintf(err->message, sizeof err->message, "%s %s: cancelled", req->method, req->path);
        }
        return KLEASE_ECLOSED;
    }
    pthread_mutex_unlock(&t->mu);

    if (reply.status != KLEASE_OK) {
        if (err != NULL) {
            err->status = reply.status;
            err->http_code = 0;
            err->retry_after_ms = -1;
            err->reason[0] = '\0';
            snprintf(err->message, sizeof err->message, "scripted failure");
        }
        return reply.status;
    }
    size_t len = strlen(body);
    resp->status = reply.http_status;
    resp->retry_after_ms = reply.retry_after_ms > 0 ? reply.retry_after_ms : -1;
    if (on_data != NULL && reply.http_status >= 200 && reply.http_status < 300) {
        size_t chunk = reply.chunk ? reply.chunk : (len ? len : 1);
        for (size_t off = 0; off < len; off += chunk) {
            size_t n = len - off < chunk ? len - off : chunk;
            if (!on_data(user, body + off, n))
                break;
        }
        resp->body = dup_heap("", 0);
        resp->body_len = 0;
    } else {
        resp->body = dup_heap(body, len);
        resp->body_len = len;
    }
    /* The library frees response bodies with klease__free, which is free(). */
    return KLEASE_OK;
}

static klease_status scripted_request_fn(klease__transport *base, const klease__http_request *req,
                                         klease__cancel *cancel, klease__http_response *resp,
                                         klease_error *err)
{
    return play((scripted_transport *)base, req, cancel, NULL, NULL, resp, err);
}

static klease_status scripted_stream_fn(klease__transport *base, const klease__http_request *req,
                                        klease__cancel *cancel, klease__http_data_fn on_data,
                                        void *user, klease__http_response *resp, klease_error *err)
{
    return play((scripted_transport *)base, req, cancel, on_data, user, resp, err);
}

static void scripted_destroy(klease__transport *base)
{
    (void)base; /* owned by the test */
}

scripted_transport *scripted_new(void)
{
    scripted_transport *t = calloc(1, sizeof *t);
    if (t == NULL)
        abort();
    t->base.request = scripted_request_fn;
    t->base.stream = scripted_stream_fn;
    t->base.destroy = scripted_destroy;
    pthread_mutex_init(&t->mu, NULL);
    klease__cond_init(&t->cond);
    return t;
}

void scripted_free(scripted_transport *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nreplies; i++)
        free(t->bodies[i]);
    for (size_t i = 0; i < t->nrequests; i++)
        free(t->requests[i].body);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

void scripted_push(scripted_transport *t, scripted_reply reply)
{
    pthread_mutex_lock(&t->mu);
    if (t->nreplies >= SCRIPT_MAX)
        abort();
    const char *b = reply.body ? reply.body : "";
    t->bodies[t->nreplies] = dup_heap(b, strlen(b));
    t->replies[t->nreplies++] = reply;
    pthread_mutex_unlock(&t->mu);
}

void scripted_push_fixture(scripted_transport *t, int http_status, const char *fixture)
{
    char rel[512];
    snprintf(rel, sizeof rel, "wire/%s", fixture);
    char *body = read_fixture(rel);
    scripted_push(t, (scripted_reply){.http_status = http_status, .body = body});
    free(body);
}

int scripted_setup(void **state)
{
    scripted_fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    f->t = scripted_new();
    if (klease__client_new_with_transport(&f->client, &f->t->base, NULL, "default", NULL) !=
        KLEASE_OK) {
        scripted_free(f->t);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

int scripted_teardown(void **state)
{
    scripted_fixture *f = *state;
    klease_client_free(f->client);
    scripted_free(f->t);
    free(f);
    return 0;
}

bool scripted_await_hang(scripted_transport *t)
{
    const klease__clock *c = klease__clock_system();
    int64_t deadline = klease__mono_ns(c) + 10 * KLEASE__NS_PER_S;
    pthread_mutex_lock(&t->mu);
    while (!t->hanging && klease__mono_ns(c) < deadline) {
        pthread_mutex_unlock(&t->mu);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&t->mu);
    }
    bool h = t->hanging;
    pthread_mutex_unlock(&t->mu);
    return h;
}
