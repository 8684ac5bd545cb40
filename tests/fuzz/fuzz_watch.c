/* libFuzzer target: the watch event stream, cut at arbitrary places.
 * Input: a byte n (0-15), n bytes of chunk lengths, then the stream. The
 * stream is parsed twice, in one piece and in the chunks the input names,
 * and both must yield the same events and the same result: the parser may
 * not depend on where the network cuts the bytes. Each event is handled as
 * the elector does (objects decoded as Leases, ERROR objects as Status). */
#include "api/status.h"
#include "api/watch.h"
#include "lease/codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINE   4096 /* small, so the cap on a line is reached too */
#define MAX_EVENTS 64

typedef struct trace {
    int n;
    uint64_t digest; /* of the event types and decoded resourceVersions */
} trace;

static bool on_event(void *user, klease__watch_type type, const cJSON *object)
{
    trace *t = user;
    klease_error err;
    t->n++;
    t->digest = t->digest * 31 + (uint64_t)type;
    if (type == KLEASE__WATCH_ERROR) {
        if (klease__status_from_object(object, "WATCH", &err) == KLEASE_OK)
            abort();
    } else if (type != KLEASE__WATCH_BOOKMARK) {
        klease__lease l;
        if (klease__lease_decode_object(object, &l, &err) == KLEASE_OK)
            t->digest = t->digest * 31 +
                        klease__holder_hash(l.resource_version, strlen(l.resource_version));
    }
    return t->n < MAX_EVENTS; /* stopping is deterministic, so both runs stop alike */
}

static klease_status run(const char *s, size_t len, const uint8_t *cuts, size_t ncuts, trace *t)
{
    klease__watch_parser p;
    klease_error err;
    klease_status st = KLEASE_OK;
    klease__watch_parser_init(&p, MAX_LINE, on_event, t);
    size_t off = 0, i = 0;
    while (off < len && st == KLEASE_OK) {
        size_t chunk = ncuts == 0 ? len : (size_t)cuts[i++ % ncuts] + 1;
        if (chunk > len - off)
            chunk = len - off;
        st = klease__watch_parser_feed(&p, s + off, chunk, &err);
        off += chunk;
    }
    if (st == KLEASE_OK)
        st = klease__watch_parser_finish(&p, &err);
    klease__watch_parser_free(&p);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t ncuts = data[0] % 16;
    if (size < 1 + ncuts)
        return 0;
    const uint8_t *cuts = data + 1;
    const char *stream = (const char *)data + 1 + ncuts;
    size_t len = size - 1 - ncuts;

    trace whole = {0}, chunked = {0};
    klease_status a = run(stream, len, NULL, 0, &whole);
    klease_status b = run(stream, len, cuts, ncuts, &chunked);
    if (a != b || whole.n != chunked.n || whole.digest != chunked.digest)
        abort();
    return 0;
}
