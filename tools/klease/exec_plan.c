/* klease exec: the stop schedule, in one place.
 *
 * The promise: CMD's whole process group is dead before anyone else may
 * start. Our claim's deadline (deadline_mono_ns) is the send time of our
 * last successful write + the lease duration, which is never later than the
 * lease's server-side expiry (renewTime + leaseDurationSeconds) and earlier
 * still than the moment a follower acts on it (it adds its clock-skew
 * tolerance). So for a claim ending at D:
 *
 *   D - duration   the write that made the claim was sent
 *   D - grace      the elector starts renewing (and retries)
 *   D - margin     not renewed yet: SIGTERM to CMD's process group
 *   D - margin + kill_after
 *                  SIGKILL to the group; at the latest D - SAFETY_SLACK,
 *                  which leaves room for the kill to land and the kernel to
 *                  reap the group
 *   D              our claim ends; later, the server-side expiry; later
 *                  still, the earliest a follower starts its CMD
 *
 * Defaults scale with the duration (15 s by default, client-go's): grace
 * 2/3 of it (renewals begin after a third, client-go's 10 s renew deadline
 * is our 5 s margin), margin 1/3, kill-after 3 s or what fits in the margin.
 * The library will one day give up leadership at D - margin by itself
 * (klease_elector_options.margin_ms); the margin computed here is then the
 * one to pass it. */
#include "cli.h"

#include <stdio.h>

#define MS 1000000LL /* ns */

/* Exec's defaults; see the comment at the top and docs/klease.md. */
#define EXEC_DURATION_MS            15000
#define EXEC_KILL_AFTER_MAX_MS      3000
#define EXEC_REQUEST_TIMEOUT_MAX_MS 10000
#define EXEC_REQUEST_TIMEOUT_MIN_MS 1000

static void fmt_ms(char *buf, size_t size, int64_t ms)
{
    if (ms % 1000 == 0)
        snprintf(buf, size, "%llds", (long long)(ms / 1000));
    else
        snprintf(buf, size, "%lldms", (long long)ms);
}

int64_t cli_exec_slack_ms(const cli_opts *o)
{
    /* 1 s for the kill to land and the group to be reaped. A lease shorter
     * than 3 s has no room for that in its margin (a third): a tenth of it
     * then, so that `--duration 1s`, the minimum, still has a schedule. */
    int64_t whole_ms = o->duration_ms / 1000 * 1000;
    return whole_ms >= 3000 ? CLI_EXEC_SAFETY_SLACK_MS : whole_ms / 10;
}

/* The first default that applies: what was given (>= 0) wins. */
static void fill_defaults(cli_opts *o, int64_t whole_ms)
{
    if (o->grace_ms < 0)
        o->grace_ms = whole_ms * 2 / 3;
    if (o->margin_ms < 0)
        o->margin_ms = whole_ms / 3;
    if (o->kill_after_ms < 0) {
        int64_t room = o->margin_ms - cli_exec_slack_ms(o);
        if (o->margin_ms == 0)
            room = EXEC_KILL_AFTER_MAX_MS; /* no promise to keep: see cli_exec_plan */
        o->kill_after_ms = room < 0                        ? 0
                           : room > EXEC_KILL_AFTER_MAX_MS ? EXEC_KILL_AFTER_MAX_MS
                                                           : room;
    }
    if (o->request_timeout_ms < 0) {
        /* Short enough that a hung renewal is retried before the margin. */
        int64_t t = (o->grace_ms - o->margin_ms) / 2;
        if (t > EXEC_REQUEST_TIMEOUT_MAX_MS)
            t = EXEC_REQUEST_TIMEOUT_MAX_MS;
        if (t < EXEC_REQUEST_TIMEOUT_MIN_MS)
            t = EXEC_REQUEST_TIMEOUT_MIN_MS;
        o->request_timeout_ms = t;
    }
}

bool cli_exec_plan(cli_opts *o, char *why, size_t size)
{
    char a[32], b[32], c[32];
    if (o->duration_ms < 0)
        o->duration_ms = EXEC_DURATION_MS;
    if (o->duration_ms < 1000) {
        snprintf(why, size, "--duration must be at least 1s");
        return false;
    }
    /* The wire has whole seconds and the claim's deadline uses them. */
    int64_t whole_ms = o->duration_ms / 1000 * 1000;
    fill_defaults(o, whole_ms);
    fmt_ms(a, sizeof a, o->grace_ms);
    fmt_ms(b, sizeof b, whole_ms);
    fmt_ms(c, sizeof c, o->margin_ms);
    if (o->grace_ms >= whole_ms) {
        snprintf(why, size,
                 "--grace (%s) must be less than --duration (%s): renewals must begin before "
                 "the claim ends",
                 a, b);
        return false;
    }
    if (o->margin_ms > 0 && o->margin_ms >= o->grace_ms) {
        snprintf(why, size,
                 "--margin (%s) must be less than --grace (%s): CMD would be stopped before "
                 "the first renewal is even tried",
                 c, a);
        return false;
    }
    if (o->margin_ms > 0 && o->kill_after_ms + cli_exec_slack_ms(o) > o->margin_ms) {
        char d[32];
        fmt_ms(a, sizeof a, o->kill_after_ms);
        fmt_ms(d, sizeof d, cli_exec_slack_ms(o));
        snprintf(why, size,
                 "--kill-after (%s) plus the %s safety slack must fit in --margin (%s): "
                 "SIGKILL must land before our claim ends (lower --kill-after, or raise "
                 "--margin or --duration)",
                 a, d, c);
        return false;
    }
    return true;
}

int64_t cli_exec_term_at(const cli_opts *o, int64_t deadline_ns)
{
    return deadline_ns - o->margin_ms * MS;
}

int64_t cli_exec_kill_at(const cli_opts *o, int64_t term_ns, int64_t deadline_ns)
{
    int64_t kill_ns = term_ns + o->kill_after_ms * MS;
    /* A stop that began early (the lease was taken from us) keeps the same
     * bound. With --margin 0 there is no bound to keep. */
    int64_t latest = deadline_ns - cli_exec_slack_ms(o) * MS;
    if (o->margin_ms > 0 && deadline_ns > 0 && kill_ns > latest)
        kill_ns = latest;
    return kill_ns;
}
