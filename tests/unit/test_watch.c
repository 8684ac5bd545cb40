/* Watch: the incremental event parser under every chunking, and the watch
 * call over the scripted transport (ERROR/410, clean end, cancellation). */
#include "cmocka_wrap.h"

#include "api/watch.h"
#include "klease/klease.h"
#include "lease/codec.h"
#include "scripted_transport.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct seen {
    int n;
    klease__watch_type types[32];
    char rvs[32][32];
    int stop_after; /* 0: never stop */
} seen;

static bool record(void *user, klease__watch_type type, const cJSON *object)
{
    seen *s = user;
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(object, "metadata");
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(md, "resourceVersion");
    if (s->n < 32) {
        s->types[s->n] = type;
        snprintf(s->rvs[s->n], sizeof s->rvs[0], "%s", cJSON_IsString(rv) ? rv->valuestring : "");
    }
    s->n++;
    return s->stop_after == 0 || s->n < s->stop_after;
}

/* Capture 20: MODIFIED 211, 212, 214, DELETED 215, ADDED 216, three BOOKMARKs at 216. */
static void check_capture_20(const seen *s)
{
    const klease__watch_type want[] = {KLEASE__WATCH_MODIFIED, KLEASE__WATCH_MODIFIED,
                                       KLEASE__WATCH_MODIFIED, KLEASE__WATCH_DELETED,
                                       KLEASE__WATCH_ADDED,    KLEASE__WATCH_BOOKMARK,
                                       KLEASE__WATCH_BOOKMARK, KLEASE__WATCH_BOOKMARK};
    const char *rvs[] = {"211", "212", "214", "215", "216", "216", "216", "216"};
    assert_int_equal(s->n, 8);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(s->types[i], want[i]);
        assert_string_equal(s->rvs[i], rvs[i]);
    }
}

static void test_parser_yields_the_same_events_for_every_chunk_size(void **state)
{
    (void)state;
    char *stream = read_fixture("wire/20-watch-events.stream");
    size_t len = strlen(stream);
    for (size_t chunk = 1; chunk <= len; chunk = chunk < 64 ? chunk + 1 : chunk * 2) {
        seen s = {0};
        klease__watch_parser p;
        klease__watch_parser_init(&p, 1 << 20, record, &s);
        for (size_t off = 0; off < len; off += chunk) {
            size_t n = len - off < chunk ? len - off : chunk;
            assert_int_equal(klease__watch_parser_feed(&p, stream + off, n, NULL), KLEASE_OK);
        }
        assert_int_equal(klease__watch_parser_finish(&p, NULL), KLEASE_OK);
        klease__watch_parser_free(&p);
        check_capture_20(&s);
    }
    free(stream);
}

static void test_events_decode_into_leases(void **state)
{
    (void)state;
    char *stream = read_fixture("wire/20-watch-events.stream");
    /* The third event is the vacate: holder gone, transitions kept. */
    char *line = stream;
    for (int i = 0; i < 2; i++)
        line = strchr(line, '\n') + 1;
    cJSON *doc = cJSON_ParseWithLength(line, (size_t)(strchr(line, '\n') - line));
    klease__lease l;
    assert_int_equal(klease__lease_decode_object(cJSON_GetObjectItem(doc, "object"), &l, NULL),
                     KLEASE_OK);
    assert_false(l.has_holder);
    assert_int_equal(l.transitions, 3);
    assert_string_equal(l.resource_version, "214");
    cJSON_Delete(doc);
    free(stream);
}

static void test_parser_rejects_malformed_events(void **state)
{
    (void)state;
    const char *bad[] = {
        "{not json}\n",
        "{\"type\":\"MODIFIED\"}\n",
        "{\"type\":7,\"object\":{}}\n",
        "{\"type\":\"RENAMED\",\"object\":{}}\n",
        "[1,2,3]\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        seen s = {0};
        klease__watch_parser p;
        klease_error err;
        klease__watch_parser_init(&p, 1 << 20, record, &s);
        assert_int_equal(klease__watch_parser_feed(&p, bad[i], strlen(bad[i]), &err),
                         KLEASE_EPROTO);
        assert_int_equal(s.n, 0);
        klease__watch_parser_free(&p);
    }
}

static void test_parser_caps_the_length_of_an_event(void **state)
{
    (void)state;
    seen s = {0};
    klease__watch_parser p;
    klease_error err;
    klease__watch_parser_init(&p, 100, record, &s);
    char big[300];
    memset(big, ' ', sizeof big);
    /* No newline ever arrives: the parser must refuse, not buffer forever. */
    assert_int_equal(klease__watch_parser_feed(&p, big, 60, &err), KLEASE_OK);
    assert_int_equal(klease__watch_parser_feed(&p, big, 60, &err), KLEASE_EPROTO);
    assert_non_null(strstr(err.message, "longer than 100"));
    klease__watch_parser_free(&p);
}

static void test_blank_lines_are_skipped_and_a_final_event_needs_no_newline(void **state)
{
    (void)state;
    const char *text =
        "\n\r\n{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}";
    seen s = {0};
    klease__watch_parser p;
    klease__watch_parser_init(&p, 1 << 20, record, &s);
    assert_int_equal(klease__watch_parser_feed(&p, text, strlen(text), NULL), KLEASE_OK);
    assert_int_equal(s.n, 0);
    assert_int_equal(klease__watch_parser_finish(&p, NULL), KLEASE_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.types[0], KLEASE__WATCH_BOOKMARK);
    klease__watch_parser_free(&p);
}

static void test_a_stream_cut_mid_event_is_reported(void **state)
{
    (void)state;
    const char *text = "{\"type\":\"MODIFIED\",\"object\":{\"metad";
    seen s = {0};
    klease__watch_parser p;
    klease_error err;
    klease__watch_parser_init(&p, 1 << 20, record, &s);
    assert_int_equal(klease__watch_parser_feed(&p, text, strlen(text), NULL), KLEASE_OK);
    assert_int_equal(klease__watch_parser_finish(&p, &err), KLEASE_EPROTO);
    assert_non_null(strstr(err.message, "middle of an event"));
    klease__watch_parser_free(&p);
}

/* ------------------------------------------------------ the watch call */

typedef scripted_fixture fixture;

static void test_watch_request_selects_the_lease_and_asks_for_bookmarks(void **state)
{
    fixture *f = *state;
    char *stream = read_fixture("wire/20-watch-events.stream");
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = stream, .chunk = 7});
    free(stream);
    seen s = {0};
    assert_int_equal(klease__lease_watch(f->client, "klease-test", "lease-a", "208", 70, 0, NULL,
                                         record, &s, NULL),
                     KLEASE_OK);
    check_capture_20(&s);
    scripted_request *r = &f->t->requests[0];
    assert_true(r->stream);
    assert_string_equal(r->path, "/apis/coordination.k8s.io/v1/namespaces/klease-test/leases?"
                                 "watch=1&fieldSelector=metadata.name%3Dlease-a"
                                 "&allowWatchBookmarks=true&timeoutSeconds=70&resourceVersion=208");
    /* The HTTP limit leaves the server room to end the stream itself. */
    assert_true(r->timeout_ms > 70000);
}

static void test_watch_without_version_omits_it(void **state)
{
    fixture *f = *state;
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = ""});
    seen s = {0};
    assert_int_equal(klease__lease_watch(f->client, "klease-test", "lease-a", NULL, 5, 0, NULL,
                                         record, &s, NULL),
                     KLEASE_OK);
    assert_null(strstr(f->t->requests[0].path, "resourceVersion"));
    assert_int_equal(s.n, 0);
}

static void test_error_event_with_410_ends_the_watch_as_expired(void **state)
{
    fixture *f = *state;
    char *stream = read_fixture("wire/22-watch-too-old-rv.stream");
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = stream});
    free(stream);
    seen s = {0};
    klease_error err;
    assert_int_equal(
        klease__lease_watch(f->client, "klease-test", "lease-a", "1", 5, 0, NULL, record, &s, &err),
        KLEASE_EHTTP);
    assert_int_equal(err.http_code, 410);
    assert_string_equal(err.reason, "Expired");
    assert_non_null(strstr(err.message, "too old resource version"));
    assert_int_equal(s.n, 0);
}

static void test_watch_stops_when_the_callback_says_so(void **state)
{
    fixture *f = *state;
    char *stream = read_fixture("wire/20-watch-events.stream");
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = stream, .chunk = 50});
    free(stream);
    seen s = {.stop_after = 2};
    assert_int_equal(klease__lease_watch(f->client, "klease-test", "lease-a", "208", 70, 0, NULL,
                                         record, &s, NULL),
                     KLEASE_OK);
    assert_int_equal(s.n, 2);
}

static void test_watch_http_error_is_mapped(void **state)
{
    fixture *f = *state;
    scripted_push_fixture(f->t, 403, "33-no-credentials.json");
    seen s = {0};
    klease_error err;
    assert_int_equal(klease__lease_watch(f->client, "klease-test", "lease-a", NULL, 5, 0, NULL,
                                         record, &s, &err),
                     KLEASE_EAUTH);
    assert_int_equal(err.http_code, 403);
}

typedef struct watcher {
    klease_client *client;
    klease__cancel cancel;
    klease_status st;
} watcher;

static void *watch_thread(void *arg)
{
    watcher *w = arg;
    seen s = {0};
    w->st = klease__lease_watch(w->client, "klease-test", "lease-a", NULL, 300, 0, &w->cancel,
                                record, &s, NULL);
    return NULL;
}

static void test_another_thread_can_cancel_a_watch(void **state)
{
    fixture *f = *state;
    scripted_push(f->t, (scripted_reply){.hang = true});
    watcher w = {.client = f->client, .st = KLEASE_OK};
    klease__cancel_init(&w.cancel);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, watch_thread, &w), 0);
    assert_true(scripted_await_hang(f->t));
    klease__cancel_fire(&w.cancel);
    pthread_join(th, NULL);
    assert_int_equal(w.st, KLEASE_ECLOSED);
    klease__cancel_destroy(&w.cancel);
}

/* ------------------------------------------- klease_lease_watch (public) */

#define RV_BUF 64

typedef struct changes {
    int n;
    bool deleted[16];
    char rvs[16][RV_BUF];
    char holders[16][KLEASE_IDENTITY_MAX + 1];
    bool held[16];
    int64_t transitions[16];
    int stop_after; /* 0: never stop */
} changes;

static bool on_change(void *user, const klease_lease_info *lease)
{
    changes *c = user;
    if (c->n < 16) {
        c->deleted[c->n] = lease == NULL;
        if (lease != NULL) {
            snprintf(c->rvs[c->n], sizeof c->rvs[0], "%s", lease->claim.resource_version);
            snprintf(c->holders[c->n], sizeof c->holders[0], "%s", lease->claim.holder);
            c->held[c->n] = lease->held;
            c->transitions[c->n] = lease->claim.transitions;
        }
    }
    c->n++;
    return c->stop_after == 0 || c->n < c->stop_after;
}

static void push_stream_fixture(fixture *f, const char *name, size_t chunk)
{
    char *stream = read_fixture(name);
    scripted_push(f->t, (scripted_reply){.http_status = 200, .body = stream, .chunk = chunk});
    free(stream);
}

/* klease_lease_watch of klease-test/lease-a, reporting to `c`. */
static klease_status watch_lease(fixture *f, char *rv, size_t rv_size, int64_t timeout_ms,
                                 changes *c, klease_error *err)
{
    return klease_lease_watch(f->client, "klease-test", "lease-a", rv, rv_size, timeout_ms,
                              on_change, c, err);
}

static void test_lease_watch_reports_every_change_in_order_and_keeps_the_last_version(void **state)
{
    fixture *f = *state;
    push_stream_fixture(f, "wire/20-watch-events.stream", 13);
    char rv[64] = "208";
    changes c = {0};
    assert_int_equal(watch_lease(f, rv, sizeof rv, 5000, &c, NULL), KLEASE_OK);
    /* MODIFIED 211, 212, 214, DELETED 215, ADDED 216; the bookmarks are not changes. */
    assert_int_equal(c.n, 5);
    const char *rvs[] = {"211", "212", "214", "", "216"};
    const int64_t transitions[] = {2, 3, 3, 0, 0};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(c.deleted[i], i == 3);
        assert_string_equal(c.rvs[i], rvs[i]);
        assert_int_equal(c.transitions[i], transitions[i]);
    }
    /* The captured claims are long expired: nobody holds the lease now. */
    assert_false(c.held[1]);
    assert_string_equal(rv, "216");
    assert_non_null(strstr(f->t->requests[0].path, "&resourceVersion=208"));
    assert_non_null(strstr(f->t->requests[0].path, "&timeoutSeconds=5"));
    assert_true(f->t->requests[0].timeout_ms <= 5000);
}

#define LEASE_EVENT(type, rv, holder)                                                              \
    "{\"type\":\"" type "\",\"object\":{\"kind\":\"Lease\",\"apiVersion\":"                        \
    "\"coordination.k8s.io/v1\",\"metadata\":{\"name\":\"lease-a\",\"namespace\":\"klease-test\"," \
    "\"resourceVersion\":\"" rv "\"},\"spec\":{\"holderIdentity\":\"" holder "\","                 \
    "\"leaseDurationSeconds\":15,\"renewTime\":\"2200-01-01T00:00:00.000000Z\","                   \
    "\"leaseTransitions\":4}}}\n"
#define BOOKMARK_EVENT(rv)                                                                         \
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Lease\",\"apiVersion\":"                        \
    "\"coordination.k8s.io/v1\",\"metadata\":{\"resourceVersion\":\"" rv "\"},\"spec\":{}}}\n"

static void test_lease_watch_moves_past_a_bookmark_without_reporting_it(void **state)
{
    fixture *f = *state;
    scripted_push(
        f->t, (scripted_reply){.http_status = 200,
                               .body = LEASE_EVENT("MODIFIED", "300", "b") BOOKMARK_EVENT("305")});
    char rv[64] = "299";
    changes c = {0};
    klease_error err;
    klease_status st = watch_lease(f, rv, sizeof rv, 1000, &c, &err);
    assert_int_equal(st, KLEASE_OK);
    assert_int_equal(c.n, 1);
    assert_true(c.held[0]);
    assert_string_equal(c.holders[0], "b");
    assert_int_equal(c.transitions[0], 4);
    assert_string_equal(rv, "305");
}

static void test_lease_watch_rereads_the_lease_when_its_version_expired(void **state)
{
    fixture *f = *state;
    push_stream_fixture(f, "wire/22-watch-too-old-rv.stream", 0);
    scripted_push_fixture(f->t, 200, "01-get-lease.json");
    char rv[64] = "1";
    changes c = {0};
    assert_int_equal(watch_lease(f, rv, sizeof rv, 1000, &c, NULL), KLEASE_OK);
    assert_int_equal(c.n, 1);
    assert_false(c.deleted[0]);
    assert_string_equal(c.rvs[0], "197");
    assert_string_equal(rv, "197");
    assert_int_equal(f->t->nrequests, 2);
    assert_string_equal(f->t->requests[1].method, "GET");
    assert_string_equal(f->t->requests[1].path,
                        "/apis/coordination.k8s.io/v1/namespaces/klease-test/leases/lease-a");
}

static void test_lease_watch_reports_a_lease_gone_after_expiry_as_deleted(void **state)
{
    fixture *f = *state;
    push_stream_fixture(f, "wire/22-watch-too-old-rv.stream", 0);
    scripted_push_fixture(f->t, 404, "08-get-missing.json");
    char rv[64] = "1";
    changes c = {0};
    assert_int_equal(watch_lease(f, rv, sizeof rv, 1000, &c, NULL), KLEASE_OK);
    assert_int_equal(c.n, 1);
    assert_true(c.deleted[0]);
    assert_string_equal(rv, ""); /* the next watch starts from whatever exists then */
}

static void test_lease_watch_stops_when_the_callback_says_so(void **state)
{
    fixture *f = *state;
    push_stream_fixture(f, "wire/20-watch-events.stream", 0);
    char rv[64] = "208";
    changes c = {.stop_after = 2};
    assert_int_equal(watch_lease(f, rv, sizeof rv, 5000, &c, NULL), KLEASE_OK);
    assert_int_equal(c.n, 2);
    assert_string_equal(rv, "212"); /* resuming repeats nothing and misses nothing */
}

static void test_lease_watch_refuses_bad_arguments_and_versions_too_long(void **state)
{
    fixture *f = *state;
    char rv[4] = "";
    changes c = {0};
    klease_error err;
    assert_int_equal(watch_lease(f, rv, sizeof rv, 0, &c, &err), KLEASE_EINVAL);
    assert_int_equal(klease_lease_watch(f->client, "klease-test", "Bad_Name", rv, sizeof rv, 1000,
                                        on_change, &c, &err),
                     KLEASE_EINVAL);
    assert_int_equal(klease_lease_watch(f->client, "klease-test", "lease-a", NULL, 64, 1000,
                                        on_change, &c, &err),
                     KLEASE_EINVAL);
    assert_int_equal(f->t->nrequests, 0);
    scripted_push(
        f->t, (scripted_reply){.http_status = 200, .body = LEASE_EVENT("ADDED", "123456", "b")});
    assert_int_equal(watch_lease(f, rv, sizeof rv, 1000, &c, &err), KLEASE_EPROTO);
    assert_non_null(strstr(err.message, "does not fit"));
    assert_int_equal(c.n, 0);
    assert_string_equal(rv, "");
}

static void test_lease_watch_passes_http_errors_on(void **state)
{
    fixture *f = *state;
    scripted_push_fixture(f->t, 403, "33-no-credentials.json");
    char rv[64] = "";
    changes c = {0};
    klease_error err;
    assert_int_equal(watch_lease(f, rv, sizeof rv, 1000, &c, &err), KLEASE_EAUTH);
    assert_int_equal(err.http_code, 403);
    assert_int_equal(f->t->nrequests, 1); /* no re-read: only 410 asks for one */
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, scripted_setup, scripted_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parser_yields_the_same_events_for_every_chunk_size),
        cmocka_unit_test(test_events_decode_into_leases),
        cmocka_unit_test(test_parser_rejects_malformed_events),
        cmocka_unit_test(test_parser_caps_the_length_of_an_event),
        cmocka_unit_test(test_blank_lines_are_skipped_and_a_final_event_needs_no_newline),
        cmocka_unit_test(test_a_stream_cut_mid_event_is_reported),
        T(test_watch_request_selects_the_lease_and_asks_for_bookmarks),
        T(test_watch_without_version_omits_it),
        T(test_error_event_with_410_ends_the_watch_as_expired),
        T(test_watch_stops_when_the_callback_says_so),
        T(test_watch_http_error_is_mapped),
        T(test_another_thread_can_cancel_a_watch),
        T(test_lease_watch_reports_every_change_in_order_and_keeps_the_last_version),
        T(test_lease_watch_moves_past_a_bookmark_without_reporting_it),
        T(test_lease_watch_rereads_the_lease_when_its_version_expired),
        T(test_lease_watch_reports_a_lease_gone_after_expiry_as_deleted),
        T(test_lease_watch_stops_when_the_callback_says_so),
        T(test_lease_watch_refuses_bad_arguments_and_versions_too_long),
        T(test_lease_watch_passes_http_errors_on),
    };
    return cmocka_run_group_tests_name("watch", tests, NULL, NULL);
}
