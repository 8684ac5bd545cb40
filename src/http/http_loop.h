/* Many requests at once on one thread: the transport side of the lease
 * engine (lease/engine.c).
 *
 * A loop runs any number of requests concurrently. Everything about one
 * request is what klease__transport's request()/stream() promise (one time
 * budget per call covering credentials, the request and the retry after a
 * 401; the same statuses, messages and response fields), but instead of
 * blocking, start() returns at once and the outcome arrives later through
 * the op's `done` function, called from klease__http_loop_run().
 *
 * The libcurl transport runs its loop on one curl multi handle: HTTP/2
 * streams multiplexed over one connection where the server offers h2, a
 * bounded set of kept-alive connections (the client's max_connections) for
 * HTTP/1.1, extra requests queued inside libcurl. A transport without a loop
 * of its own (the scripted ones of the unit tests) gets a generic one:
 * requests run inline in start() (their outcome is still delivered from
 * run()), and streams on a thread each, whose bytes are handed to on_data
 * from run() on the loop's thread.
 *
 * Threads: every function except klease__http_loop_wakeup() is called on
 * the loop's thread (the one calling run()); done and on_data are called on
 * it, from run(). done may start and abort ops; on_data may not (it returns
 * false to end its own op). */
#ifndef KLEASE_HTTP_HTTP_LOOP_H
#define KLEASE_HTTP_HTTP_LOOP_H

#include "core/budget.h"
#include "core/clock.h"
#include "http/http.h"

#include <stdint.h>

typedef struct klease__http_loop klease__http_loop;
typedef struct klease__http_op klease__http_op;

/* The end of one op: `st` as request()/stream() would return it. On
 * KLEASE_OK, *resp holds the response and becomes the callee's (clear it with
 * klease__http_response_clear); otherwise *resp is empty and `err` says why.
 * The op is freed after done returns. */
typedef void (*klease__http_done_fn)(void *user, klease_status st, klease__http_response *resp,
                                     const klease_error *err);

/* Counters of one loop, for benchmarks and metrics. */
typedef struct klease__http_loop_stats {
    uint64_t started;     /* ops started */
    uint64_t connections; /* new connections opened (libcurl's CURLINFO_NUM_CONNECTS summed) */
    uint64_t running;     /* ops in flight now */
    uint64_t http2;       /* transfers that ended over HTTP/2 (CURLINFO_HTTP_VERSION) */
    /* The generic loop counts no connections and no HTTP/2 transfers. */
} klease__http_loop_stats;

/* A loop on transport `t` (which must outlive it) whose run() deadlines are
 * on `clock` (the client's: the fake clock in unit tests). */
klease_status klease__http_loop_new(klease__transport *t, const klease__clock *clock,
                                    klease__http_loop **out, klease_error *err);
/* Ends every op still in flight without calling its done; waits for stream
 * threads of the generic loop to finish. */
void klease__http_loop_free(klease__http_loop *l);

/* Starts `req` (everything it points to is copied). `on_data` NULL: a plain
 * request; else a stream whose 2xx body bytes go to on_data (see
 * klease__transport.stream). `cancel` (may be NULL; must outlive the op)
 * ends the op with KLEASE_ECLOSED once fired, as it does a blocking call;
 * the loop takes the token's one waker slot while the op runs, so a token
 * serves one op at a time. Returns NULL only when out of memory (done is
 * then never called).
 *
 * The libcurl loop fetches credentials here, inline, within the op's budget
 * (and again for the one retry after a 401, from run()): a kubeconfig exec
 * plugin therefore runs on the loop's thread. Over HTTP/1.1 a stream holds
 * one of the client's max_connections for as long as it runs. */
klease__http_op *klease__http_loop_start(klease__http_loop *l, const klease__http_request *req,
                                         klease__cancel *cancel, klease__http_data_fn on_data,
                                         klease__http_done_fn done, void *user);

/* Ends `op` now; its done is not called. Not for an op whose done is running. */
void klease__http_loop_abort(klease__http_loop *l, klease__http_op *op);

/* Moves every op forward: sends, receives, calls on_data and done for what
 * is ready, then waits for more until `deadline_ns` (monotonic, on the loop's
 * clock; INT64_MAX: no limit) or a wakeup, and runs what became ready. Returns
 * after at least one wait, at most once per deadline/wakeup/activity. When
 * the first pass already called on_data or done, that wait is zero-length:
 * the caller has new work to schedule, so run() returns at once. The libcurl
 * loop waits in slices of at most 1 s (10 ms on a clock other than the
 * system's, so a test's fake clock is seen to move) and returns only for one
 * of the three reasons. */
void klease__http_loop_run(klease__http_loop *l, int64_t deadline_ns);

/* From any thread: makes the run() in progress (or the next one) return soon. */
void klease__http_loop_wakeup(klease__http_loop *l);

void klease__http_loop_get_stats(const klease__http_loop *l, klease__http_loop_stats *out);

#endif
