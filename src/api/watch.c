/* Lease watch: the streaming request and its line-by-line event parser. */
#include "api/watch.h"

#include "core/alloc.h"
#include "core/error.h"
#include "core/json.h"
#include "api/lease_api.h"
#include "api/status.h"

#include <stdio.h>
#include <string.h>

/* The stream may stay silent up to timeoutSeconds (the real server sends a
 * bookmark only about once a minute), so the HTTP time limit is the server's
 * own limit plus this margin. */
#define WATCH_MARGIN_MS 5000

void klease__watch_parser_init(klease__watch_parser *p, size_t max_line, klease__watch_fn fn,
                               void *user)
{
    *p = (klease__watch_parser){.max_line = max_line, .fn = fn, .user = user};
}

void klease__watch_parser_free(klease__watch_parser *p)
{
    klease__free(p->buf);
    p->buf = NULL;
    p->len = p->cap = 0;
}

static klease_status parse_event(klease__watch_parser *p, const char *line, size_t len,
                                 klease_error *err)
{
    static const struct {
        const char *name;
        klease__watch_type type;
    } types[] = {
        {"ADDED", KLEASE__WATCH_ADDED},     {"MODIFIED", KLEASE__WATCH_MODIFIED},
        {"DELETED", KLEASE__WATCH_DELETED}, {"BOOKMARK", KLEASE__WATCH_BOOKMARK},
        {"ERROR", KLEASE__WATCH_ERROR},
    };
    cJSON *doc = NULL;
    klease_status parsed = klease__json_parse(line, len, &doc);
    if (parsed == KLEASE_ENOMEM)
        return klease__fail(err, parsed, "out of memory");
    if (parsed != KLEASE_OK)
        return klease__fail(err, KLEASE_EPROTO, "watch: an event is not valid JSON: %.*s",
                            len > 100 ? 100 : (int)len, line);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(doc, "type");
    const cJSON *object = cJSON_GetObjectItemCaseSensitive(doc, "object");
    klease_status st = KLEASE_OK;
    if (!cJSON_IsString(type) || !cJSON_IsObject(object)) {
        st = klease__fail(err, KLEASE_EPROTO, "watch: an event lacks a type or an object");
        goto out;
    }
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(type->valuestring, types[i].name) == 0) {
            if (!p->fn(p->user, types[i].type, object))
                p->stopped = true;
            goto out;
        }
    }
    st = klease__fail(err, KLEASE_EPROTO, "watch: unknown event type \"%.32s\"", type->valuestring);
out:
    cJSON_Delete(doc);
    return st;
}

static bool blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    }
    return true;
}

klease_status klease__watch_parser_feed(klease__watch_parser *p, const char *data, size_t len,
                                        klease_error *err)
{
    while (len > 0 && !p->stopped) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl != NULL ? (size_t)(nl - data) : len;
        if (p->len + take > p->max_line)
            return klease__fail(err, KLEASE_EPROTO, "watch: an event is longer than %zu bytes",
                                p->max_line);
        if (nl != NULL && p->len == 0) {
            /* The whole line is in this chunk: parse it in place, no copy. */
            if (!blank(data, take)) {
                klease_status st = parse_event(p, data, take, err);
                if (st != KLEASE_OK)
                    return st;
            }
        } else {
            if (p->len + take + 1 > p->cap) {
                size_t cap = p->cap == 0 ? 4096 : p->cap;
                while (cap < p->len + take + 1)
                    cap *= 2;
                char *grown = klease__realloc(p->buf, cap);
                if (grown == NULL)
                    return klease__fail(err, KLEASE_ENOMEM, "out of memory");
                p->buf = grown;
                p->cap = cap;
            }
            memcpy(p->buf + p->len, data, take);
            p->len += take;
            if (nl != NULL) {
                size_t line_len = p->len;
                p->len = 0;
                if (!blank(p->buf, line_len)) {
                    klease_status st = parse_event(p, p->buf, line_len, err);
                    if (st != KLEASE_OK)
                        return st;
                }
            }
        }
        if (nl == NULL)
            break;
        data += take + 1;
        len -= take + 1;
    }
    return KLEASE_OK;
}

klease_status klease__watch_parser_finish(klease__watch_parser *p, klease_error *err)
{
    if (p->stopped || p->len == 0 || blank(p->buf, p->len))
        return KLEASE_OK;
    /* A final event without its newline is still a whole JSON document. */
    klease_status st = parse_event(p, p->buf, p->len, err);
    p->len = 0;
    if (st == KLEASE_EPROTO)
        return klease__fail(err, KLEASE_EPROTO,
                            "watch: the stream ended in the middle of an event");
    return st;
}

typedef struct watch_ctx {
    klease__watch_parser parser;
    klease__watch_fn fn;
    void *user;
    klease_status st; /* first failure inside the stream */
    klease_error *err;
    const char *what;
} watch_ctx;

/* Routes events to the caller, turning an ERROR event into the watch's result. */
static bool route_event(void *user, klease__watch_type type, const cJSON *object)
{
    watch_ctx *w = user;
    if (type == KLEASE__WATCH_ERROR) {
        w->st = klease__status_from_object(object, w->what, w->err);
        return false;
    }
    return w->fn(w->user, type, object);
}

static bool on_data(void *user, const char *data, size_t len)
{
    watch_ctx *w = user;
    klease_status st = klease__watch_parser_feed(&w->parser, data, len, w->err);
    if (st != KLEASE_OK && w->st == KLEASE_OK)
        w->st = st;
    return w->st == KLEASE_OK && !w->parser.stopped;
}

klease_status klease__lease_watch_request(klease_client *c, const char *ns, const char *name,
                                          const char *resource_version, int timeout_s,
                                          klease__lease_request *r, klease_error *err)
{
    (void)c; /* the same signature as the other request builders */
    *r = (klease__lease_request){0};
    /* A collection watch is checked with a placeholder name. */
    klease_status st = klease__lease_validate_names(ns, name != NULL ? name : "x", err);
    if (st != KLEASE_OK)
        return st;
    if (timeout_s <= 0)
        return klease__fail(err, KLEASE_EINVAL, "watch: timeout must be positive");

    char *rv = NULL;
    if (resource_version != NULL && resource_version[0] != '\0' &&
        (rv = klease__http_query_escape(resource_version)) == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    char query[1024];
    int n =
        snprintf(query, sizeof query, "watch=1%s%s&allowWatchBookmarks=true&timeoutSeconds=%d%s%s",
                 name != NULL ? "&fieldSelector=metadata.name%3D" : "", name != NULL ? name : "",
                 timeout_s, rv ? "&resourceVersion=" : "", rv ? rv : "");
    klease__free(rv);
    if (n < 0 || (size_t)n >= sizeof query)
        return klease__fail(err, KLEASE_EINVAL, "watch: resourceVersion is too long");
    if ((r->path = klease__lease_path(ns, NULL, query)) == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    r->http = (klease__http_request){
        .method = "GET",
        .path = r->path,
        .timeout_ms = (int64_t)timeout_s * 1000 + WATCH_MARGIN_MS,
    };
    if (name != NULL)
        snprintf(r->what, sizeof r->what, "WATCH lease %s/%s", ns, name);
    else
        snprintf(r->what, sizeof r->what, "WATCH leases in %s", ns);
    return KLEASE_OK;
}

klease_status klease__lease_watch(klease_client *c, const char *ns, const char *name,
                                  const char *resource_version, int timeout_s, int64_t max_ms,
                                  klease__cancel *cancel, klease__watch_fn fn, void *user,
                                  klease_error *err)
{
    klease__lease_request r;
    klease_status st =
        klease__lease_watch_request(c, ns, name, resource_version, timeout_s, &r, err);
    if (st != KLEASE_OK) {
        klease__lease_request_clear(&r);
        return st;
    }
    watch_ctx w = {.fn = fn, .user = user, .st = KLEASE_OK, .err = err, .what = r.what};
    klease__watch_parser_init(&w.parser, c->max_response_bytes, route_event, &w);
    if (max_ms > 0 && max_ms < r.http.timeout_ms)
        r.http.timeout_ms = max_ms;
    klease__http_response resp = {.retry_after_ms = -1};
    st = c->transport->stream(c->transport, &r.http, cancel, on_data, &w, &resp, err);
    if (w.st != KLEASE_OK) {
        st = w.st; /* an ERROR event or a malformed event ended the stream */
    } else if (st == KLEASE_OK && (resp.status < 200 || resp.status > 299)) {
        st = klease__status_error(&resp, r.what, err);
    } else if (st == KLEASE_OK) {
        st = klease__watch_parser_finish(&w.parser, err);
    }
    klease__http_response_clear(&resp);
    klease__watch_parser_free(&w.parser);
    klease__lease_request_clear(&r);
    return st;
}
