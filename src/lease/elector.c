/* The elector: the seed's spawn(), made to fail over in milliseconds and
 * never to die silently.
 *
 * One thread per elector runs this loop:
 *   ensure_claimed  -> ours:      sleep until the renew grace begins
 *                   -> someone's: follow them (watch the lease; poll if the
 *                                 watch fails) until they change or expire
 *                   -> failure:   retry with capped jittered backoff, or stop
 *                                 on an error that cannot heal
 * and publishes every change of the claim. Leadership is also a pure time
 * predicate (leader_deadline = claim deadline - margin, read lock-free by
 * is_leader), so it ends at deadline - margin even while the thread is stuck
 * in a request or a callback; the manager ends every request at that moment
 * while we lead, so the thread itself publishes the loss then too. */
#include "core/alloc.h"
#include "core/backoff.h"
#include "core/error.h"
#include "api/watch.h"
#include "lease/claim.h"
#include "lease/manager.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

/* Longest single watch request: the server ends it then and we start another. */
#define WATCH_MAX_S 300

struct klease_elector {
    klease_manager *m;
    const klease__clock *clock;
    char claimant[KLEASE_IDENTITY_MAX + 1];
    klease_claim_params params;
    int64_t grace_ns;
    int64_t margin_ns; /* leadership ends this long before the claim's deadline */
    klease_elector_options opts;
    pthread_t thread;
    klease__cancel cancel; /* fired by close: interrupts the call in flight */

    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cond;
    bool closing;
    bool stopped;
    unsigned waiters; /* threads inside wait_change; close waits for them to leave */
    uint64_t version;
    bool has_claim;
    bool leading;
    klease_claim claim;
    klease_status status; /* last failure while retrying, or the fatal one */
    klease_error error;
    klease_status final_status;
    klease_error final_error;

    _Atomic int64_t leader_deadline; /* monotonic ns (claim deadline - margin); 0: not leading */
    bool system_clock;               /* read the clock inline in is_leader */
};

/* ------------------------------------------------------------- publishing */

static bool claims_differ(const klease_claim *a, const klease_claim *b)
{
    return strcmp(a->holder, b->holder) != 0 || a->deadline_mono_ns != b->deadline_mono_ns ||
           strcmp(a->resource_version, b->resource_version) != 0;
}

/* Publishes `claim` (NULL: unheld) if it changes what readers see, and then
 * calls the callback outside every lock. */
static void publish(klease_elector *e, const klease_claim *claim, klease_status final)
{
    int64_t now = klease__mono_ns(e->clock);
    bool has = claim != NULL;
    int64_t lead_end = has ? claim->deadline_mono_ns - e->margin_ns : 0;
    bool leading = has && klease__claim_names(claim, e->claimant) && now < lead_end;
    pthread_mutex_lock(&e->mu);
    bool changed = has != e->has_claim || leading != e->leading || final != KLEASE_OK ||
                   (has && claims_differ(claim, &e->claim));
    if (changed) {
        if (has)
            e->claim = *claim;
        e->has_claim = has;
        e->leading = leading;
        e->version++;
        if (final != KLEASE_OK)
            e->stopped = true;
        atomic_store(&e->leader_deadline, leading ? lead_end : 0);
        pthread_cond_broadcast(&e->cond);
    }
    pthread_mutex_unlock(&e->mu);
    if (changed && e->opts.on_change != NULL)
        e->opts.on_change(e->opts.user, has ? claim : NULL, leading, final);
}

/* Publishes the end of our leadership: once the published claim's margin
 * has begun (deadline - margin), or at once when `now` is set (before a
 * vacate, which lets a watching follower take over within a round trip of it
 * landing). */
static void publish_loss(klease_elector *e, bool now)
{
    pthread_mutex_lock(&e->mu);
    bool leading = e->leading;
    klease_claim claim = e->claim;
    pthread_mutex_unlock(&e->mu);
    int64_t t = klease__mono_ns(e->clock);
    if (!leading || (!now && t < claim.deadline_mono_ns - e->margin_ns))
        return;
    if (now && claim.deadline_mono_ns > t)
        claim.deadline_mono_ns = t; /* publish sees it as past: leading=false */
    publish(e, &claim, KLEASE_OK);
}

static bool closing(klease_elector *e)
{
    pthread_mutex_lock(&e->mu);
    bool c = e->closing;
    pthread_mutex_unlock(&e->mu);
    return c;
}

/* Sleeps until `deadline` (monotonic) or close, whichever comes first. */
static void sleep_until(klease_elector *e, int64_t deadline)
{
    pthread_mutex_lock(&e->mu);
    while (!e->closing && e->clock->timedwait(e->clock, &e->cond, &e->mu, deadline) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&e->mu);
}

static void record(klease_elector *e, klease_status st, const klease_error *err)
{
    pthread_mutex_lock(&e->mu);
    e->status = st;
    e->error = *err;
    pthread_mutex_unlock(&e->mu);
}

/* Errors that waiting cannot fix. Everything else (timeouts, transport
 * errors, 429, 5xx, conflicts, 401/403 answers that a rotated token or an
 * RBAC change can fix, a deleted lease that may come back) is retried. */
static bool cannot_heal(klease_status st, const klease_error *err)
{
    switch (st) {
    case KLEASE_EINVAL:
    case KLEASE_ECONFIG: return true;
    case KLEASE_EAUTH:
        return err->http_code == 0; /* no credentials could be obtained (the seed's Auth) */
    case KLEASE_EHTTP:
        /* A request we built wrong: the server will refuse it every time. */
        return err->http_code == 400 || err->http_code == 405 || err->http_code == 413 ||
               err->http_code == 415 || err->http_code == 422;
    default: return false;
    }
}

/* -------------------------------------------------------------- following */

typedef struct follow_ctx {
    klease_elector *e;
    klease__lease followed; /* the lease as it was when we started following */
    klease_status st;       /* an event we could not decode ... */
    klease_error err;       /* ... and why */
} follow_ctx;

static bool on_event(void *user, klease__watch_type type, const cJSON *object)
{
    follow_ctx *f = user;
    if (type == KLEASE__WATCH_DELETED) {
        klease__manager_forget(f->e->m);
        return false;
    }
    if (type == KLEASE__WATCH_BOOKMARK)
        return true;
    klease__lease l;
    if ((f->st = klease__lease_decode_object(object, &l, &f->err)) != KLEASE_OK)
        return false;
    klease__manager_observe(f->e->m, &l);
    /* A renewal by the same holder: keep watching. Anything else (vacated,
     * taken over): stop and decide again at once. */
    return klease__lease_same_holder(&l, &f->followed) && l.has_renew_time;
}

/* Follows someone else's claim until it changes or ends: by watch when we can
 * (a vacate is seen within one round trip), by polling otherwise. */
static void follow(klease_elector *e, const klease_claim *claim)
{
    klease_manager *m = e->m;
    follow_ctx f = {.e = e, .st = KLEASE_OK};
    klease__manager_view view;
    klease__manager_view_get(m, &view);
    f.followed = view.lease;

    int64_t left_ns = claim->deadline_mono_ns - klease__mono_ns(e->clock);
    if (left_ns <= 0)
        return;
    if (e->opts.watch) {
        int64_t left_ms = left_ns / KLEASE__NS_PER_MS + 1;
        int timeout_s = left_ms / 1000 + 1 > WATCH_MAX_S ? WATCH_MAX_S : (int)(left_ms / 1000 + 1);
        klease_error err;
        klease_status st = klease__lease_watch(
            klease__manager_client(m), klease_manager_namespace(m), klease_manager_name(m),
            f.followed.resource_version, timeout_s, left_ms, &e->cancel, on_event, &f, &err);
        if (st == KLEASE_OK && f.st != KLEASE_OK) {
            st = f.st; /* an undecodable event: say why, then poll */
            err = f.err;
        }
        if (st == KLEASE_OK || st == KLEASE_ETIMEDOUT || st == KLEASE_ECLOSED)
            return; /* changed, ended, or reached the claim's deadline: decide again */
        if (st == KLEASE_EHTTP && err.http_code == 410) {
            /* Our version is older than the server's history: read afresh. */
            klease__sync(m, &e->cancel, NULL, NULL, &err);
            return;
        }
        klease__log(klease__manager_log(m), KLEASE_LOG_INFO,
                    "lease %s/%s: watch failed (%s); polling every %lld ms",
                    klease_manager_namespace(m), klease_manager_name(m), err.message,
                    (long long)e->opts.poll_interval_ms);
    }
    /* Poll: look again after the poll interval, or at the deadline if sooner. */
    int64_t next =
        klease__add_sat(klease__mono_ns(e->clock), klease__ms_to_ns(e->opts.poll_interval_ms));
    sleep_until(e, next < claim->deadline_mono_ns ? next : claim->deadline_mono_ns);
    if (!closing(e)) {
        klease_error err;
        klease__sync(m, &e->cancel, NULL, NULL, &err);
    }
}

/* ------------------------------------------------------------- the thread */

/* After a failure we will retry: publishes the end of our leadership when
 * its time has come and sleeps the backoff delay (or what the server asked
 * for, within reason), but never past the end of someone else's claim (the
 * lease is free then) nor through our own leadership's end (its loss must
 * be published then). */
static void back_off(klease_elector *e, klease__backoff *backoff, const klease_error *err)
{
    publish_loss(e, false);
    int64_t delay_ms = klease__backoff_next(backoff);
    if (err->retry_after_ms > delay_ms)
        delay_ms = err->retry_after_ms < KLEASE__RETRY_AFTER_MAX_MS ? err->retry_after_ms
                                                                    : KLEASE__RETRY_AFTER_MAX_MS;
    int64_t now = klease__mono_ns(e->clock);
    int64_t wake = klease__add_sat(now, klease__ms_to_ns(delay_ms));
    klease__manager_view view;
    klease__manager_view_get(e->m, &view);
    const klease_claim *theirs = &view.claim;
    if (view.has_claim && !klease__claim_names(theirs, e->claimant) &&
        theirs->deadline_mono_ns > now && theirs->deadline_mono_ns < wake)
        wake = theirs->deadline_mono_ns;
    int64_t lead_end = atomic_load(&e->leader_deadline);
    if (lead_end != 0 && lead_end < wake) {
        sleep_until(e, lead_end);
        publish_loss(e, false);
    }
    sleep_until(e, wake);
}

/* On a normal close: gives the lease up so a follower takes over now, not
 * at expiry. The close token is fired already, so this call gets its own
 * time bound. A failed vacate becomes the elector's final status. */
static void give_up(klease_elector *e, klease_status *fatal, klease_error *fatal_err)
{
    klease__manager_view view;
    klease__manager_view_get(e->m, &view);
    if (!view.has_lease || !klease__lease_held_by(&view.lease, e->claimant))
        return;
    publish_loss(e, true); /* before the vacate is sent, not after it lands */
    bool vacated = false;
    klease_error err;
    klease_status st =
        klease__vacate(e->m, e->claimant, NULL, e->opts.vacate_timeout_ms, &vacated, &err);
    if (st != KLEASE_OK) {
        *fatal = st;
        *fatal_err = err;
    }
}

/* Records how the thread ended and publishes the last word: not leading,
 * and why (`final`: the fatal error that stopped the loop, else
 * KLEASE_ECLOSED, even when the vacate after it failed). */
static void finish(klease_elector *e, klease_status final, klease_status fatal,
                   const klease_error *fatal_err)
{
    pthread_mutex_lock(&e->mu);
    e->final_status = fatal;
    e->final_error = *fatal_err;
    if (fatal != KLEASE_OK) {
        e->status = fatal;
        e->error = *fatal_err;
    }
    pthread_mutex_unlock(&e->mu);
    publish(e, NULL, final);
}

static void *elector_main(void *arg)
{
    klease_elector *e = arg;
    klease__backoff backoff;
    klease__backoff_init(&backoff, e->opts.min_backoff_ms, e->opts.max_backoff_ms, 2.0, 0.5, 0);
    klease_status fatal = KLEASE_OK;
    klease_error fatal_err;
    klease__error_clear(&fatal_err);

    while (!closing(e)) {
        klease_claim claim;
        klease_error err;
        klease__error_clear(&err);
        klease_status st = klease__ensure_claimed(e->m, e->claimant, &e->params, e->margin_ns,
                                                  &e->cancel, &claim, &err);
        if (closing(e))
            break;
        if (st == KLEASE_OK) {
            klease__backoff_reset(&backoff);
            record(e, KLEASE_OK, &err);
            bool has = claim.holder[0] != '\0';
            publish(e, has ? &claim : NULL, KLEASE_OK);
            if (klease__claim_names(&claim, e->claimant))
                sleep_until(e, claim.deadline_mono_ns - e->grace_ns); /* renew then */
            else
                follow(e, &claim);
            continue;
        }
        record(e, st, &err);
        klease__log(klease__manager_log(e->m), KLEASE_LOG_WARN, "lease %s/%s: %s: %s",
                    klease_manager_namespace(e->m), klease_manager_name(e->m), klease_strerror(st),
                    err.message);
        if (cannot_heal(st, &err)) {
            fatal = st;
            fatal_err = err;
            break;
        }
        back_off(e, &backoff, &err);
    }

    klease_status final = fatal != KLEASE_OK ? fatal : KLEASE_ECLOSED;
    if (fatal == KLEASE_OK && e->opts.vacate_timeout_ms > 0)
        give_up(e, &fatal, &fatal_err);
    finish(e, final, fatal, &fatal_err);
    return NULL;
}

/* ------------------------------------------------------------------- API */

/* The caller's options (NULL: the defaults) checked and completed into *o,
 * with the leadership margin resolved into *margin_ms. */
static klease_status resolve_options(const klease_elector_options *opts,
                                     const klease_claim_params *params, klease_elector_options *o,
                                     int64_t *margin_ms_out, klease_error *err)
{
    /* Fields a caller's older version does not have keep their defaults. */
    *o = (klease_elector_options)KLEASE_ELECTOR_OPTIONS_INIT;
    if (opts != NULL) {
        if (opts->version < 1 || opts->version > KLEASE_ELECTOR_OPTIONS_VERSION)
            return klease__fail(err, KLEASE_EINVAL,
                                "klease_elector_options: unknown version %d (this library "
                                "knows 1 to %d)",
                                opts->version, KLEASE_ELECTOR_OPTIONS_VERSION);
        memcpy(o, opts,
               opts->version == 1 ? offsetof(klease_elector_options, margin_ms) : sizeof *o);
        o->version = KLEASE_ELECTOR_OPTIONS_VERSION;
    }
    if (o->poll_interval_ms <= 0 || o->min_backoff_ms < 0 ||
        o->max_backoff_ms < o->min_backoff_ms || o->vacate_timeout_ms < 0)
        return klease__fail(err, KLEASE_EINVAL,
                            "klease_elector_options: poll interval must be positive, backoff "
                            "0 <= min <= max, vacate timeout >= 0");
    int64_t margin_ms =
        o->margin_ms == KLEASE_MARGIN_AUTO ? params->renew_grace_ms / 2 : o->margin_ms;
    if (margin_ms < 0)
        return klease__fail(err, KLEASE_EINVAL,
                            "klease_elector_options: margin %lld ms must be at least 0 (or "
                            "KLEASE_MARGIN_AUTO)",
                            (long long)o->margin_ms);
    if (margin_ms > 0 && margin_ms >= params->renew_grace_ms)
        return klease__fail(err, KLEASE_EINVAL,
                            "klease_elector_options: margin %lld ms must be less than the renew "
                            "grace (%lld ms): renewal starts at the grace and gives up at the "
                            "margin",
                            (long long)margin_ms, (long long)params->renew_grace_ms);
    *margin_ms_out = margin_ms;
    return KLEASE_OK;
}

klease_status klease_spawn(klease_elector **out, klease_manager *m, const char *claimant,
                           const klease_claim_params *params, const klease_elector_options *opts,
                           klease_error *err)
{
    int64_t duration_s, grace_ns;
    klease_status st;
    if (out == NULL || m == NULL)
        return klease__fail(err, KLEASE_EINVAL, "klease_spawn: NULL argument");
    *out = NULL;
    if ((st = klease__claimant_check(claimant, err)) != KLEASE_OK)
        return st;
    if ((st = klease__claim_params_check(params, &duration_s, &grace_ns, err)) != KLEASE_OK)
        return st;
    klease_elector_options o;
    int64_t margin_ms = 0;
    if ((st = resolve_options(opts, params, &o, &margin_ms, err)) != KLEASE_OK)
        return st;
    opts = &o;

    klease_elector *e = klease__calloc(1, sizeof *e);
    if (e == NULL)
        return klease__fail(err, KLEASE_ENOMEM, "out of memory");
    e->m = m;
    e->clock = klease__manager_clock(m);
    e->system_clock = klease__clock_mono_is_system(e->clock);
    klease__strlcpy(e->claimant, claimant, sizeof e->claimant);
    e->params = *params;
    e->grace_ns = grace_ns;
    e->margin_ns = margin_ms * KLEASE__NS_PER_MS; /* < grace < duration: no overflow */
    e->opts = *opts;
    int rc = klease__cancel_init(&e->cancel);
    if (rc == 0 && (rc = pthread_mutex_init(&e->mu, NULL)) != 0)
        klease__cancel_destroy(&e->cancel);
    if (rc != 0) {
        klease__free(e);
        return klease__fail(err, KLEASE_ENOMEM, "cannot create the elector's locks: %s",
                            strerror(rc));
    }
    atomic_init(&e->leader_deadline, 0);
    rc = klease__cond_init(&e->cond);
    if (rc == 0) {
        rc = pthread_create(&e->thread, NULL, elector_main, e);
        if (rc != 0)
            pthread_cond_destroy(&e->cond);
    }
    if (rc != 0) {
        pthread_mutex_destroy(&e->mu);
        klease__cancel_destroy(&e->cancel);
        klease__free(e);
        return klease__fail(err, rc == ENOMEM || rc == EAGAIN ? KLEASE_ENOMEM : KLEASE_EINVAL,
                            "cannot start the elector thread: %s", strerror(rc));
    }
    *out = e;
    return KLEASE_OK;
}

void klease_elector_current(klease_elector *e, klease_claim *out, bool *has_claim)
{
    pthread_mutex_lock(&e->mu);
    if (has_claim != NULL)
        *has_claim = e->has_claim;
    if (out != NULL && e->has_claim)
        *out = e->claim;
    pthread_mutex_unlock(&e->mu);
}

klease_status klease_elector_wait_change(klease_elector *e, uint64_t *seen, int64_t timeout_ms,
                                         klease_claim *out, bool *has_claim)
{
    /* Waits are on the elector's clock, so tests with a fake clock stay exact. */
    int64_t deadline =
        timeout_ms < 0 ? INT64_MAX
                       : klease__add_sat(klease__mono_ns(e->clock), klease__ms_to_ns(timeout_ms));
    klease_status st = KLEASE_OK;
    pthread_mutex_lock(&e->mu);
    e->waiters++;
    while (e->version == *seen && !e->stopped && !e->closing) {
        if (e->clock->timedwait(e->clock, &e->cond, &e->mu, deadline) == ETIMEDOUT &&
            e->version == *seen && !e->closing) {
            st = KLEASE_ETIMEDOUT;
            break;
        }
    }
    /* Once close has begun, the elector is going away under the caller. */
    if (e->closing || (st == KLEASE_OK && e->version == *seen))
        st = KLEASE_ECLOSED;
    if (st == KLEASE_OK) {
        *seen = e->version;
        if (has_claim != NULL)
            *has_claim = e->has_claim;
        if (out != NULL && e->has_claim)
            *out = e->claim;
    }
    if (--e->waiters == 0 && e->closing)
        pthread_cond_broadcast(&e->cond); /* close waits for the last one to leave */
    pthread_mutex_unlock(&e->mu);
    return st;
}

bool klease_elector_is_leader(const klease_elector *e)
{
    /* A pure time predicate: the deadline is published atomically and read
     * against a precise boot-time clock. A coarse clock would be cheaper but
     * stops during suspend, so it could say "leader" after a resume. */
    int64_t deadline = atomic_load_explicit(&e->leader_deadline, memory_order_acquire);
    if (deadline == 0)
        return false;
    int64_t now = e->system_clock ? klease__mono_ns_system() : klease__mono_ns(e->clock);
    return now < deadline;
}

klease_status klease_elector_status(klease_elector *e, klease_error *err)
{
    pthread_mutex_lock(&e->mu);
    klease_status st = e->status;
    if (err != NULL)
        *err = e->error;
    pthread_mutex_unlock(&e->mu);
    return st;
}

klease_status klease_elector_close(klease_elector *e, klease_error *err)
{
    if (e == NULL)
        return KLEASE_OK;
    /* From the callback, joining would deadlock and freeing would pull the
     * elector from under its own thread. */
    if (pthread_equal(pthread_self(), e->thread))
        return klease__fail(err, KLEASE_EINVAL,
                            "klease_elector_close: called from the elector's own callback; "
                            "close it from another thread");
    pthread_mutex_lock(&e->mu);
    e->closing = true;
    pthread_cond_broadcast(&e->cond); /* wakes the elector's sleep and every waiter */
    pthread_mutex_unlock(&e->mu);
    klease__cancel_fire(&e->cancel);
    pthread_join(e->thread, NULL);
    pthread_mutex_lock(&e->mu);
    while (e->waiters > 0)
        pthread_cond_wait(&e->cond, &e->mu);
    pthread_mutex_unlock(&e->mu);
    klease_status st = e->final_status;
    if (st != KLEASE_OK && err != NULL)
        *err = e->final_error;
    pthread_cond_destroy(&e->cond);
    pthread_mutex_destroy(&e->mu);
    klease__cancel_destroy(&e->cancel);
    klease__free(e);
    return st;
}
