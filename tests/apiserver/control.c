/* The control endpoint for the standalone binary (README.md):
 *   POST   /_ksim/faults        body: one fault as JSON -> 201 {"id":N}
 *   DELETE /_ksim/faults        removes every fault
 *   DELETE /_ksim/faults/ID     removes one fault (404 if unknown)
 *   GET    /_ksim/counters      connections, TLS handshakes, requests, watches started
 *                                and open, rv
 *   GET    /_ksim/history?from=N  accepted writes as JSON lines
 * Callers must be authenticated and authorized; these requests are never
 * faulted. */
#include "control.h"

#include "history.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reply_small(reply *r, int code, const char *fmt_key, uint64_t value)
{
    char *s = malloc(64);
    if (s == NULL) {
        ksim__reply_oom(r);
        return;
    }
    if (fmt_key)
        snprintf(s, 64, "{\"%s\":%" PRIu64 "}\n", fmt_key, value);
    else
        snprintf(s, 64, "{}\n");
    ksim__reply_json(r, code, s);
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

void ksim__control_request(request *rq, reply *r)
{
    ksim *sim = rq->sim;
    const char *p = rq->url + strlen("/_ksim/");
    const char *m = rq->method;
    uint64_t id = 0;
    if (strcmp(p, "faults") == 0 && strcmp(m, "POST") == 0) {
        char *body = strndup(rq->body ? rq->body : "", rq->body_len);
        int rc = body ? ksim_add_fault_json(sim, body, &id) : -1;
        free(body);
        if (rc != 0)
            ksim__reply_bad_request(r, "not a valid fault (see tests/apiserver/README.md)");
        else
            reply_small(r, 201, "id", id);
    } else if (strcmp(p, "faults") == 0 && strcmp(m, "DELETE") == 0) {
        ksim_clear_faults(sim);
        reply_small(r, 200, NULL, 0);
    } else if (strncmp(p, "faults/", 7) == 0 && strcmp(m, "DELETE") == 0 && parse_u64(p + 7, &id)) {
        if (ksim_remove_fault(sim, id))
            reply_small(r, 200, NULL, 0);
        else
            ksim__reply_status(r, 404, "NotFound", "no such fault", NULL);
    } else if (strcmp(p, "counters") == 0 && strcmp(m, "GET") == 0) {
        ksim_counters c;
        ksim_get_counters(sim, &c);
        char *s = malloc(320);
        if (s == NULL) {
            ksim__reply_oom(r);
            return;
        }
        snprintf(s, 320,
                 "{\"connections\":%" PRIu64 ",\"tlsHandshakes\":%" PRIu64 ",\"requests\":%" PRIu64
                 ",\"watches\":%" PRIu64 ",\"watchesOpen\":%" PRIu64
                 ",\"resourceVersion\":\"%" PRIu64 "\"}\n",
                 c.connections, c.tls_handshakes, c.requests, c.watches, c.watches_open,
                 ksim_resource_version(sim));
        ksim__reply_json(r, 200, s);
    } else if (strcmp(p, "history") == 0 && strcmp(m, "GET") == 0) {
        uint64_t from = 0;
        const char *f = ksim__query(rq, "from");
        if (f && !parse_u64(f, &from)) {
            ksim__reply_bad_request(r, "from: not a number");
            return;
        }
        char *s = ksim__history_jsonl(sim, (size_t)from);
        if (s == NULL)
            ksim__reply_oom(r);
        else
            ksim__reply_json(r, 200, s);
    } else {
        ksim__reply_status(r, 404, "NotFound", "the server could not find the requested resource",
                           NULL);
    }
}
